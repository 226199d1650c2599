"""Small seeded data sets made in code: 1-D heteroscedastic regression with a gap, two moons, 8x8 digits."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_digits, make_moons
from sklearn.model_selection import train_test_split

from bdl_tf._validation import (
    as_float_array,
    check_bool,
    check_positive,
    check_positive_int,
    check_probability,
    check_seed,
)

__all__ = ["ToyRegression", "toy_regression", "toy_function", "toy_noise_std", "two_moons", "digits", "Split"]

X_RANGE = (-4.0, 4.0)
GAP = (-2.0, 2.0)


def toy_function(x):
    """The noise-free target f(x) = sin(1.5 x) + 0.2 x."""
    x = as_float_array("x", x, min_ndim=0)
    return np.sin(1.5 * x) + 0.2 * x


def toy_noise_std(x):
    """The true aleatoric noise level sigma(x) = 0.05 + 0.1 (x + 4): grows from left to right."""
    x = as_float_array("x", x, min_ndim=0)
    return 0.05 + 0.1 * (x - X_RANGE[0])


@dataclass(frozen=True)
class ToyRegression:
    """Training pairs (N, 1) with no inputs in ``gap``, and a test grid reaching past ``x_range``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_grid: np.ndarray
    x_range: tuple
    gap: tuple

    def in_data(self, x) -> np.ndarray:
        """Boolean mask: x inside the training range and outside the gap."""
        x = np.asarray(x).ravel()
        inside = (x >= self.x_range[0]) & (x <= self.x_range[1])
        return inside & ~((x > self.gap[0]) & (x < self.gap[1]))


def toy_regression(n_train: int = 400, seed: int = 0, grid_size: int = 400, margin: float = 2.0) -> ToyRegression:
    """1-D heteroscedastic regression y = f(x) + sigma(x) eps, eps ~ N(0, 1), x uniform on
    [-4, 4] minus the gap (-2, 2); the grid spans [-4 - margin, 4 + margin]."""
    n_train = check_positive_int("n_train", n_train)
    grid_size = check_positive_int("grid_size", grid_size)
    margin = check_positive("margin", margin)
    rng = np.random.default_rng(check_seed("seed", seed))
    width_left, width_right = GAP[0] - X_RANGE[0], X_RANGE[1] - GAP[1]
    u = rng.uniform(0.0, width_left + width_right, size=n_train)
    x = np.where(u < width_left, X_RANGE[0] + u, GAP[1] + (u - width_left))
    y = toy_function(x) + toy_noise_std(x) * rng.standard_normal(n_train)
    grid = np.linspace(X_RANGE[0] - margin, X_RANGE[1] + margin, grid_size)
    return ToyRegression(
        x_train=x[:, None].astype(np.float32),
        y_train=y[:, None].astype(np.float32),
        x_grid=grid[:, None].astype(np.float32),
        x_range=X_RANGE,
        gap=GAP,
    )


def two_moons(n_samples: int = 500, noise: float = 0.1, seed: int = 0):
    """Two interleaving half-circles (scikit-learn's ``make_moons``): x (N, 2) float32, y (N,) int."""
    n_samples = check_positive_int("n_samples", n_samples)
    x, y = make_moons(n_samples=n_samples, noise=check_positive("noise", noise), random_state=check_seed("seed", seed))
    return x.astype(np.float32), y.astype(np.int64)


@dataclass(frozen=True)
class Split:
    """A train/test split of inputs and integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def digits(test_fraction: float = 0.25, seed: int = 0, images: bool = False) -> Split:
    """scikit-learn's 1,797 8x8 handwritten digits (ships with the package: no network), pixels
    scaled to [0, 1]; stratified split. ``images=True`` gives (N, 8, 8, 1) instead of (N, 64)."""
    test_fraction = check_probability("test_fraction", test_fraction)
    seed = check_seed("seed", seed)
    images = check_bool("images", images)
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    if images:
        x = x.reshape(-1, 8, 8, 1)
    x_train, x_test, y_train, y_test = train_test_split(
        x, data.target.astype(np.int64), test_size=test_fraction, random_state=seed, stratify=data.target
    )
    return Split(x_train, y_train, x_test, y_test)
