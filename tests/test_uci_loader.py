"""The UCI loader on the shared Yacht folder, on broken copies of it, and through the cache."""
import shutil

import numpy as np
import pytest

from bdl_tf.datasets.uci import UCI_BASE_URL, load_uci, load_uci_folder

from shared_data import YACHT, requires_yacht

pytestmark = requires_yacht


@pytest.fixture
def yacht_copy(tmp_path):
    """A writable copy of the Yacht folder, to break one file at a time."""
    folder = tmp_path / "yacht"
    shutil.copytree(YACHT, folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    folder.chmod(0o755)
    return folder


def test_yacht_matches_the_raw_files():
    data = load_uci_folder(YACHT)
    raw = np.loadtxt(YACHT / "data.txt")
    assert data.name == "yacht"
    assert data.x.shape == (308, 6) and data.y.shape == (308,)
    np.testing.assert_array_equal(data.x, raw[:, :6])
    np.testing.assert_array_equal(data.y, raw[:, 6])
    assert (data.n_splits, data.n_hidden, data.n_epochs) == (20, 50, 40)
    np.testing.assert_array_equal(data.tau_values, [0.25, 0.5, 0.75])
    np.testing.assert_array_equal(data.dropout_rates, [0.005, 0.01, 0.05, 0.1])


def test_yacht_splits_are_the_shipped_disjoint_partitions():
    data = load_uci_folder(YACHT)
    for i in range(data.n_splits):
        train, test = data.train_indices[i], data.test_indices[i]
        np.testing.assert_array_equal(train, np.loadtxt(YACHT / f"index_train_{i}.txt").astype(int))
        assert np.intersect1d(train, test).size == 0
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(308))
    split = data.split(3)
    np.testing.assert_array_equal(split.x_test, data.x[data.test_indices[3]])
    np.testing.assert_array_equal(split.y_train, data.y[data.train_indices[3]])
    assert len(split.y_train) == 277 and len(split.y_test) == 31


@pytest.mark.parametrize("bad", [-1, 20, 1.0, True])
def test_split_index_is_checked(bad):
    with pytest.raises(ValueError, match="index"):
        load_uci_folder(YACHT).split(bad)


def test_missing_folder_and_bad_path_type(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_uci_folder(tmp_path / "nowhere")
    with pytest.raises(TypeError, match="path"):
        load_uci_folder(3)


@pytest.mark.parametrize("filename", ["data.txt", "tau_values.txt", "index_test_7.txt", "n_hidden.txt"])
def test_missing_file_is_named(yacht_copy, filename):
    (yacht_copy / filename).unlink()
    with pytest.raises(FileNotFoundError, match=filename):
        load_uci_folder(yacht_copy)


def _replace(folder, filename, old, new):
    path = folder / filename
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    "filename, old, new, message",
    [
        ("data.txt", "4.78", "abc", "data.txt is malformed"),
        ("data.txt", "4.78", "nan", "NaN"),
        ("data.txt", "0.568 4.78", "0.568", "data.txt is malformed"),  # ragged row
        ("index_train_2.txt", "\n", "\n308\n", "out of range"),
        ("index_test_0.txt", "121", "1.5", "integers"),
        ("index_target.txt", "6", "7", "out of range"),
        ("index_target.txt", "6", "5", "both a feature and the target"),
        ("index_features.txt", "1\n", "0\n", "more than once"),
        ("n_splits.txt", "20", "0", r"n_splits.txt must hold one integer >= 1, got \[0\]"),
        ("n_hidden.txt", "50", "50 50", r"n_hidden.txt must hold one integer >= 1"),
        ("n_splits.txt", "20", "21", "index_train_20.txt"),
        ("tau_values.txt", "0.25", "-0.25", "precisions > 0"),
        ("dropout_rates.txt", "0.1", "1.5", r"rates in \[0, 1\)"),
        ("n_epochs.txt", "40", "", "n_epochs.txt is empty"),
    ],
)
def test_malformed_files_are_named(yacht_copy, filename, old, new, message):
    _replace(yacht_copy, filename, old, new)
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        load_uci_folder(yacht_copy)


def test_train_test_overlap_is_refused(yacht_copy):
    first_train_row = (yacht_copy / "index_train_5.txt").read_text().split()[0]
    with open(yacht_copy / "index_test_5.txt", "a") as handle:
        handle.write(f"\n{first_train_row}\n")
    with pytest.raises(ValueError, match=f"split 5 .* both train and test, e.g. row {first_train_row}"):
        load_uci_folder(yacht_copy)


def test_repeated_row_in_a_split_is_refused(yacht_copy):
    first = (yacht_copy / "index_train_0.txt").read_text().split()[0]
    with open(yacht_copy / "index_train_0.txt", "a") as handle:
        handle.write(f"\n{first}\n")
    with pytest.raises(ValueError, match="index_train_0.txt lists a row more than once"):
        load_uci_folder(yacht_copy)


class LocalFetch:
    """Serves the benchmark's URLs from the local Yacht folder and records what was asked."""

    def __init__(self, folder=YACHT):
        self.folder = folder
        self.urls = []

    def __call__(self, url):
        self.urls.append(url)
        prefix = f"{UCI_BASE_URL}/yacht/data/"
        assert url.startswith(prefix), url
        return (self.folder / url[len(prefix):]).read_bytes()


def test_download_fills_the_cache_once(tmp_path):
    fetch = LocalFetch()
    data = load_uci("yacht", cache_dir=tmp_path, fetch=fetch)
    assert len(fetch.urls) == 8 + 2 * 20  # the fixed files, then one train and one test file per split
    assert sorted(p.name for p in (tmp_path / "yacht").iterdir()) == sorted(p.name for p in YACHT.iterdir() if p.suffix == ".txt")
    reference = load_uci_folder(YACHT)
    np.testing.assert_array_equal(data.x, reference.x)
    np.testing.assert_array_equal(data.test_indices[19], reference.test_indices[19])

    def no_network(url):
        raise AssertionError(f"cache miss: {url}")

    again = load_uci("yacht", cache_dir=tmp_path, fetch=no_network)
    np.testing.assert_array_equal(again.y, reference.y)


def test_concurrent_download_of_the_same_data_set(tmp_path):
    fetch = LocalFetch()

    def racing_fetch(url):
        if url.endswith("index_test_19.txt"):  # another process finishes first
            shutil.copytree(YACHT, tmp_path / "yacht")
        return fetch(url)

    data = load_uci("yacht", cache_dir=tmp_path, fetch=racing_fetch)
    assert data.n_splits == 20
    assert [p.name for p in tmp_path.iterdir()] == ["yacht"]  # no staging folder left behind


def test_default_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BDL_TF_CACHE", str(tmp_path))
    data = load_uci("yacht", fetch=LocalFetch())
    assert (tmp_path / "uci" / "yacht" / "data.txt").is_file()
    assert data.n_splits == 20


def test_broken_download_leaves_no_cache_entry(tmp_path, yacht_copy):
    _replace(yacht_copy, "index_test_3.txt", "\n", "\n9999\n")
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="out of range"):
        load_uci("yacht", cache_dir=cache, fetch=LocalFetch(yacht_copy))
    assert list(cache.iterdir()) == []


def test_failed_request_names_the_url(tmp_path):
    def offline(url):
        raise OSError("network is unreachable")

    with pytest.raises(OSError, match=r"could not download .*/yacht/data/data.txt"):
        load_uci("yacht", cache_dir=tmp_path, fetch=offline)
    assert list(tmp_path.iterdir()) == []


def test_load_uci_argument_checks(tmp_path):
    with pytest.raises(ValueError, match="name must be one of"):
        load_uci("../yacht", cache_dir=tmp_path, fetch=LocalFetch())
    with pytest.raises(TypeError, match="fetch"):
        load_uci("yacht", cache_dir=tmp_path, fetch="http://example.org")
    with pytest.raises(TypeError, match="cache_dir"):
        load_uci("yacht", cache_dir=1, fetch=LocalFetch())
