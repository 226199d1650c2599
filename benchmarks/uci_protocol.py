"""The MC-dropout UCI regression protocol of Gal & Ghahramani (2016), as reusable pieces.

For every fixed train/test split of a data set (see :mod:`bdl_tf.datasets.uci`):

1. cut the training split into its first 80% (fit) and last 20% (validation) - the splits are
   already random permutations, so no further shuffling;
2. for every (dropout rate p, model precision tau) of the data set's grids: standardise inputs
   and targets with the fit part's statistics, train the network below, and score the validation
   part by its Monte-Carlo test log-likelihood; keep the best (p, tau);
3. retrain with that (p, tau) on the whole training split (standardised with its statistics)
   and report test RMSE and test log-likelihood in the target's original units.

The network: inputs -> MCDropout(p) -> Dense(n_hidden, ReLU) -> MCDropout(p) -> Dense(1), every
kernel with the weight decay lambda = l^2 (1 - p) / (2 N tau_std), trained with Adam on the mean
squared error for ``epochs_multiplier`` x ``n_epochs`` epochs (100 x by default) in batches of 128. Predictions
average T = 10,000 stochastic passes:

    RMSE = sqrt(mean_i (y_i - 1/T sum_t y_hat_ti)^2)
    LL   = mean_i [logsumexp_t(-tau/2 (y_i - y_hat_ti)^2) - log T - 1/2 log 2 pi + 1/2 log tau]

Units of tau: the benchmark's ``tau_values.txt`` give the precision of the observation noise in
the target's original units (the test log-likelihood uses it there, as the benchmark's code
does). The network is fitted to standardised targets y / sigma_y, whose noise precision is
tau_std = tau * sigma_y^2, and that is what the weight decay gets (the benchmark's code passes
the unconverted tau; on Yacht, with l = 1e-2, both lambdas are below 1e-6, negligible next to the
squared error).
"""
from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf
import tf_keras as keras

from bdl_tf._config import set_seed
from bdl_tf._validation import (
    as_float_array,
    check_positive,
    check_positive_int,
    check_rate,
    check_tf_keras_model,
)
from bdl_tf.datasets.uci import UCIDataset
from bdl_tf.layers import MCDropout
from bdl_tf.metrics import mc_gaussian_nll, rmse
from bdl_tf.regularization import dropout_weight_decay
from bdl_tf.sampling import mc_predict

__all__ = [
    "ProtocolSettings",
    "Standardizer",
    "Evaluation",
    "GridSearchResult",
    "SplitResult",
    "BenchmarkResult",
    "build_mc_dropout_regressor",
    "fit_regressor",
    "evaluate_samples",
    "MCDropoutRegressor",
    "fit_mc_dropout_regressor",
    "grid_search",
    "run_split",
    "run_benchmark",
    "mean_and_standard_error",
]


@dataclass(frozen=True)
class ProtocolSettings:
    """Knobs of the protocol; the defaults are those of the benchmark's code (net/net.py).

    Attributes:
        epochs_multiplier: train for ``epochs_multiplier * dataset.n_epochs`` epochs. 100 is the
            benchmark authors' grid-search runs (``experiment.py --epochx 100``, the source of
            the 0.67 / -1.25 Yacht row); with batches of 128, 10 leaves Yacht under-trained.
        num_samples: T, Monte-Carlo passes per prediction.
        batch_size: mini-batch size.
        length_scale: prior length-scale l of the weight decay.
        validation_fraction: share of each training split held out for the grid search.
        learning_rate: Adam's step size (Keras' default).
        seed: split i is run from seed ``seed + i``.
    """

    epochs_multiplier: int = 100
    num_samples: int = 10_000
    batch_size: int = 128
    length_scale: float = 1e-2
    validation_fraction: float = 0.2
    learning_rate: float = 1e-3
    seed: int = 0

    def __post_init__(self):
        check_positive_int("epochs_multiplier", self.epochs_multiplier)
        check_positive_int("num_samples", self.num_samples)
        check_positive_int("batch_size", self.batch_size)
        check_positive("length_scale", self.length_scale)
        check_positive("learning_rate", self.learning_rate)
        if check_rate("validation_fraction", self.validation_fraction) == 0.0:
            raise ValueError("validation_fraction must be in (0, 1), got 0")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")


@dataclass(frozen=True)
class Standardizer:
    """Per-column affine map z = (v - mean) / std, fitted on training data only."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, values) -> "Standardizer":
        """Column means and standard deviations of ``values`` (constant columns get std 1)."""
        values = as_float_array("values", values)
        if values.shape[0] < 2:
            raise ValueError(f"values must have at least 2 rows to standardise, got {values.shape[0]}")
        std = values.std(axis=0)
        return cls(mean=values.mean(axis=0), std=np.where(std > 0, std, 1.0))

    def transform(self, values) -> np.ndarray:
        """(values - mean) / std."""
        return (as_float_array("values", values) - self.mean) / self.std

    def inverse(self, values) -> np.ndarray:
        """values * std + mean: back to the original units."""
        return as_float_array("values", values) * self.std + self.mean


def build_mc_dropout_regressor(input_dim, n_hidden, dropout_rate, weight_decay, learning_rate=1e-3) -> keras.Model:
    """Gal's UCI network: MCDropout(p) -> Dense(n_hidden, relu) -> MCDropout(p) -> Dense(1).

    Both kernels carry ``keras.regularizers.l2(weight_decay)``; compiled with Adam on the mean
    squared error, running all steps of a ``fit`` call in one compiled loop.
    """
    input_dim = check_positive_int("input_dim", input_dim)
    n_hidden = check_positive_int("n_hidden", n_hidden)
    dropout_rate = check_rate("dropout_rate", dropout_rate)
    weight_decay = float(weight_decay)
    if not math.isfinite(weight_decay) or weight_decay < 0:
        raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}")
    learning_rate = check_positive("learning_rate", learning_rate)

    inputs = keras.Input(shape=(input_dim,))
    hidden = MCDropout(dropout_rate)(inputs)
    hidden = keras.layers.Dense(n_hidden, activation="relu", kernel_regularizer=keras.regularizers.l2(weight_decay))(hidden)
    hidden = MCDropout(dropout_rate)(hidden)
    outputs = keras.layers.Dense(1, kernel_regularizer=keras.regularizers.l2(weight_decay))(hidden)
    model = keras.Model(inputs, outputs)
    # steps_per_execution: fit_regressor feeds all epochs as one Keras epoch, so the whole
    # training loop runs inside one tf.function call instead of one Python round trip per step.
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse", steps_per_execution=1_000_000)
    return model


def fit_regressor(model, x, y, epochs, batch_size=128) -> keras.Model:
    """Train ``model`` on (x, y) for ``epochs`` epochs of reshuffled mini-batches; returns it.

    Each epoch is one pass over a fresh permutation with a partial last batch, as ``fit(x, y,
    epochs=...)`` would do; the epochs are chained in one ``tf.data`` pipeline and run as a
    single Keras epoch, which removes Keras' per-epoch overhead.
    """
    check_tf_keras_model(model)
    x = as_float_array("x", x, min_ndim=2).astype(np.float32)
    y = as_float_array("y", y).reshape(-1, 1).astype(np.float32)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same number of rows, got {x.shape[0]} and {y.shape[0]}")
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    batches = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(x.shape[0], reshuffle_each_iteration=True)
        .batch(batch_size)
        .repeat(epochs)
        .prefetch(tf.data.AUTOTUNE)
    )
    model.fit(batches, epochs=1, verbose=0)
    return model


@dataclass(frozen=True)
class Evaluation:
    """Test RMSE of the MC mean and mean test log-likelihood, both in the target's original units."""

    rmse: float
    log_likelihood: float


def evaluate_samples(y_true, y_samples, tau) -> Evaluation:
    """Score T Monte-Carlo predictions ``y_samples`` (T, N) of targets ``y_true`` (N,).

    RMSE of the MC mean 1/T sum_t y_hat_t; log-likelihood of the mixture 1/T sum_t N(y; y_hat_t, 1/tau)
    per example, averaged: mean_i logsumexp_t(log N(y_i; y_hat_ti, 1/tau)) - log T.
    """
    samples = as_float_array("y_samples", y_samples, min_ndim=2)
    tau = check_positive("tau", tau)
    return Evaluation(
        rmse=rmse(y_true, samples.mean(axis=0)),
        log_likelihood=-mc_gaussian_nll(y_true, samples, noise_variance=1.0 / tau),
    )


@dataclass(frozen=True)
class MCDropoutRegressor:
    """A trained network with the standardisation it was trained under and its precision tau."""

    model: keras.Model
    x_scaler: Standardizer
    y_scaler: Standardizer
    tau: float

    def predict_samples(self, x, num_samples) -> np.ndarray:
        """T = ``num_samples`` stochastic predictions for ``x`` (N, d), shape (T, N), original units."""
        x = self.x_scaler.transform(x).astype(np.float32)
        samples = mc_predict(self.model, x, num_samples).mean_samples[..., 0]
        return self.y_scaler.inverse(samples)

    def evaluate(self, x, y, num_samples) -> Evaluation:
        """Test RMSE and log-likelihood of (x, y) from ``num_samples`` passes, the formulas of
        :func:`evaluate_samples` streamed: ``mc_predict(keep_samples=False)`` sums the passes inside
        its compiled loop, so T = 10,000 needs O(N) memory. In standardised units y_s = (y - m) / s
        the noise variance is 1 / (tau s^2), and the density of y is that of y_s divided by s."""
        y = as_float_array("y", y)
        scale = float(self.y_scaler.std)
        summary = mc_predict(
            self.model,
            self.x_scaler.transform(x).astype(np.float32),
            num_samples,
            keep_samples=False,
            y=self.y_scaler.transform(y)[:, None],
            noise_variance=1.0 / (self.tau * scale**2),
        )
        return Evaluation(
            rmse=rmse(y, self.y_scaler.inverse(summary.mean[:, 0])),
            log_likelihood=float(np.mean(summary.log_likelihood)) - math.log(scale),
        )


def fit_mc_dropout_regressor(x_train, y_train, *, n_hidden, dropout_rate, tau, epochs, settings=None) -> MCDropoutRegressor:
    """Standardise with (x_train, y_train)'s statistics and train Gal's network on them.

    ``tau`` is the model precision in the target's original units; the weight decay uses the
    standardised targets' precision tau * sigma_y^2 (see the module docstring).
    """
    settings = settings or ProtocolSettings()
    x_train = as_float_array("x_train", x_train, min_ndim=2)
    y_train = as_float_array("y_train", y_train)
    tau = check_positive("tau", tau)
    x_scaler, y_scaler = Standardizer.fit(x_train), Standardizer.fit(y_train)
    weight_decay = dropout_weight_decay(
        settings.length_scale, dropout_rate, len(y_train), tau * float(y_scaler.std) ** 2
    )
    model = build_mc_dropout_regressor(x_train.shape[1], n_hidden, dropout_rate, weight_decay, settings.learning_rate)
    fit_regressor(model, x_scaler.transform(x_train), y_scaler.transform(y_train), epochs, settings.batch_size)
    return MCDropoutRegressor(model=model, x_scaler=x_scaler, y_scaler=y_scaler, tau=tau)


@dataclass(frozen=True)
class GridSearchResult:
    """Best (dropout rate, tau) by validation log-likelihood, and the whole grid of scores.

    ``validation_log_likelihood[i, j]`` is the score of ``dropout_rates[i]`` with ``tau_values[j]``.
    """

    dropout_rate: float
    tau: float
    dropout_rates: np.ndarray
    tau_values: np.ndarray
    validation_log_likelihood: np.ndarray


def grid_search(x_train, y_train, *, dropout_rates, tau_values, n_hidden, epochs, settings=None) -> GridSearchResult:
    """Pick (p, tau) by the validation log-likelihood on the last ``validation_fraction`` of the rows."""
    settings = settings or ProtocolSettings()
    x_train = as_float_array("x_train", x_train, min_ndim=2)
    y_train = as_float_array("y_train", y_train)
    dropout_rates = as_float_array("dropout_rates", dropout_rates).ravel()
    tau_values = as_float_array("tau_values", tau_values).ravel()
    n_fit = int((1.0 - settings.validation_fraction) * len(y_train))
    if n_fit < 2 or len(y_train) - n_fit < 1:
        raise ValueError(f"y_train has {len(y_train)} rows: too few to hold out a validation part")
    scores = np.empty((dropout_rates.size, tau_values.size))
    for i, rate in enumerate(dropout_rates):
        for j, tau in enumerate(tau_values):
            regressor = fit_mc_dropout_regressor(
                x_train[:n_fit], y_train[:n_fit],
                n_hidden=n_hidden, dropout_rate=float(rate), tau=float(tau), epochs=epochs, settings=settings,
            )
            scores[i, j] = regressor.evaluate(x_train[n_fit:], y_train[n_fit:], settings.num_samples).log_likelihood
    best_i, best_j = np.unravel_index(np.argmax(scores), scores.shape)
    return GridSearchResult(
        dropout_rate=float(dropout_rates[best_i]),
        tau=float(tau_values[best_j]),
        dropout_rates=dropout_rates,
        tau_values=tau_values,
        validation_log_likelihood=scores,
    )


@dataclass(frozen=True)
class SplitResult:
    """The outcome on one split: test scores, the chosen hyper-parameters and the time it took."""

    index: int
    test: Evaluation
    grid: GridSearchResult
    seconds: float


def run_split(dataset: UCIDataset, index: int, settings=None) -> SplitResult:
    """Grid-search on split ``index``'s training part, retrain on all of it, score its test part.

    Seeds Python, NumPy and TensorFlow with ``settings.seed + index`` first, so a split reproduces.
    """
    settings = settings or ProtocolSettings()
    if not isinstance(dataset, UCIDataset):
        raise TypeError(f"dataset must be a UCIDataset (see load_uci_folder), got {type(dataset).__name__}")
    split = dataset.split(index)
    set_seed(settings.seed + int(index))
    start = time.perf_counter()
    epochs = settings.epochs_multiplier * dataset.n_epochs
    common = dict(n_hidden=dataset.n_hidden, epochs=epochs, settings=settings)
    grid = grid_search(
        split.x_train, split.y_train, dropout_rates=dataset.dropout_rates, tau_values=dataset.tau_values, **common
    )
    regressor = fit_mc_dropout_regressor(
        split.x_train, split.y_train, dropout_rate=grid.dropout_rate, tau=grid.tau, **common
    )
    test = regressor.evaluate(split.x_test, split.y_test, settings.num_samples)
    return SplitResult(index=int(index), test=test, grid=grid, seconds=time.perf_counter() - start)


def mean_and_standard_error(values) -> tuple[float, float]:
    """(mean, s / sqrt(n)) with s the sample standard deviation (ddof=1); the error is NaN for n = 1."""
    values = as_float_array("values", values).ravel()
    if values.size == 1:
        return float(values[0]), float("nan")
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


@dataclass(frozen=True)
class BenchmarkResult:
    """Per-split results of one data set and their summaries (mean, standard error)."""

    name: str
    splits: tuple
    seconds: float
    settings: ProtocolSettings = field(default_factory=ProtocolSettings)

    @property
    def rmse(self) -> tuple[float, float]:
        """Test RMSE over the splits: (mean, standard error)."""
        return mean_and_standard_error([s.test.rmse for s in self.splits])

    @property
    def log_likelihood(self) -> tuple[float, float]:
        """Test log-likelihood over the splits: (mean, standard error)."""
        return mean_and_standard_error([s.test.log_likelihood for s in self.splits])


def run_benchmark(dataset: UCIDataset, splits=None, settings=None, on_split=None) -> BenchmarkResult:
    """Run the protocol on ``splits`` (indices; default all of the data set's) and summarise.

    ``on_split(result)`` is called after each split (e.g. to print progress).
    """
    settings = settings or ProtocolSettings()
    if not isinstance(dataset, UCIDataset):
        raise TypeError(f"dataset must be a UCIDataset (see load_uci_folder), got {type(dataset).__name__}")
    indices = range(dataset.n_splits) if splits is None else list(splits)
    if len(indices) == 0:
        raise ValueError("splits must name at least one split")
    start = time.perf_counter()
    results = []
    for index in indices:
        results.append(run_split(dataset, index, settings))
        if on_split is not None:
            on_split(results[-1])
    return BenchmarkResult(
        name=dataset.name, splits=tuple(results), seconds=time.perf_counter() - start, settings=settings
    )
