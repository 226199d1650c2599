"""The data of the model questions: one instance per (seed, mode), made from code or shipped data.

Every instance is drawn with ``numpy.random.default_rng(seed)`` (PCG64: the same numbers on every
NumPy version) from ``bdl_tf.datasets``; the self-check uses a public seed, the grader hidden ones.
Full mode gets more data and a larger step budget than quick mode.
"""
from __future__ import annotations

import numpy as np

from course.checks import probes
from course.checks.models import Criterion, ModelQuestion, Task

DIGIT_SEEN = tuple(range(8))
"""The classification questions train on digits 0-7; 8 and 9 are the classes the model never saw."""


def _by_mode(quick: bool, quick_value, full_value):
    return quick_value if quick else full_value


def regression(seed: int, quick: bool, steps: int) -> Task:
    """The course's 1-D heteroscedastic toy problem (x in [-4, 4] with a gap in (-2, 2)): training
    pairs, held-out pairs from the same distribution, and 50 inputs beyond the data on each side."""
    from bdl_tf.datasets import toy_regression

    train = toy_regression(n_train=_by_mode(quick, 300, 600), seed=seed)
    test = toy_regression(n_train=300, seed=seed + 7919)
    rng = np.random.default_rng(seed)
    side = 50
    left = rng.uniform(-7.0, -5.0, size=(side, 1))
    right = rng.uniform(5.0, 7.0, size=(side, 1))
    x_probe = np.concatenate([test.x_train, left, right]).astype(np.float32)
    return Task(
        arguments={"x_train": train.x_train, "y_train": train.y_train, "steps": steps},
        probe_inputs={"x": x_probe, "num_samples": _by_mode(quick, 100, 200)},
        targets={"y": test.y_train.ravel().astype(np.float64), "n_test": len(test.x_train), "n_side": side},
    )


def regression_question(grade_id: str, *, nll_hint: str, ratio_hint: str, returns: str) -> ModelQuestion:
    """A model question on :func:`regression`: held-out NLL and the epistemic ratio beyond the data
    (each side's ratio and the RMSE reported), with this question's hints for its likely mistakes."""
    return ModelQuestion(
        grade_id,
        ("x_train", "y_train", "steps"),
        regression,
        probes.regression_split,
        probes.regression_measures,
        (
            Criterion("nll", "held-out NLL", False, nll_hint),
            Criterion("epistemic_ratio", "mean epistemic variance at |x| in [5, 7] over that on the data", True,
                      ratio_hint, "x", log_scale=True),
        ),
        steps={"quick": 1500, "full": 4000},
        returns=returns,
        reported=("rmse", "left_ratio", "right_ratio"),
    )


def _digits(seed: int, images: bool):
    from bdl_tf.datasets import digits

    return digits(test_fraction=0.3, seed=seed, images=images)


def seen_and_unseen_digits(seed: int, quick: bool, steps: int, num_samples: int | None = None) -> Task:
    """8x8 digits as 64 features: train on classes 0-7; the probe gets held-out digits of 0-7
    first, then held-out 8s and 9s. ``num_samples`` (MC passes) for the MC-dropout question."""
    split = _digits(seed, images=False)
    seen_train = np.isin(split.y_train, DIGIT_SEEN)
    seen_test = np.isin(split.y_test, DIGIT_SEEN)
    x_probe = np.concatenate([split.x_test[seen_test], split.x_test[~seen_test]])
    probe_inputs = {"x": x_probe, "classes": len(DIGIT_SEEN)}
    if num_samples is not None:
        probe_inputs["num_samples"] = num_samples
    return Task(
        arguments={"x_train": split.x_train[seen_train], "y_train": split.y_train[seen_train], "steps": steps},
        probe_inputs=probe_inputs,
        targets={"labels": split.y_test[seen_test], "n_in": int(seen_test.sum())},
    )


def _pca_mse(x_train: np.ndarray, x_test: np.ndarray, k: int) -> float:
    """Per-pixel MSE of the best linear autoencoder with k components (PCA of the training images)."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=k).fit(x_train.reshape(len(x_train), -1))
    flat = x_test.reshape(len(x_test), -1)
    return float(np.mean((pca.inverse_transform(pca.transform(flat)) - flat) ** 2))


def digit_images(seed: int, quick: bool, steps: int, code_size: int) -> Task:
    """8x8 digit images (N, 8, 8, 1) in [0, 1] to encode into ``code_size`` numbers and reconstruct."""
    split = _digits(seed, images=True)
    return Task(
        arguments={"images": split.x_train, "code_size": code_size, "steps": steps},
        probe_inputs={"x": split.x_test, "code_size": code_size, "seed": seed},
        targets={"x": split.x_test.reshape(len(split.x_test), -1).astype(np.float64),
                 "pca_mse": _pca_mse(split.x_train, split.x_test, code_size)},
    )


def vae_images(seed: int, quick: bool, steps: int, latent_dim: int) -> Task:
    """The images binarised (pixel > 1/2), as a Bernoulli decoder models them; the probe draws
    ``num_samples`` z per held-out image."""
    from bdl_tf.datasets import binarize_static

    split = _digits(seed, images=True)
    x_train, x_test = (binarize_static(x, threshold=0.5) for x in (split.x_train, split.x_test))
    return Task(
        arguments={"images": x_train, "latent_dim": latent_dim, "steps": steps},
        probe_inputs={"x": x_test, "latent_dim": latent_dim, "num_samples": _by_mode(quick, 8, 16), "seed": seed},
        targets={"x": x_test.reshape(len(x_test), -1).astype(np.float64)},
    )


def labelled_images(seed: int, quick: bool, steps: int, latent_dim: int, per_class: int = 30) -> Task:
    """Images and their labels for a conditional VAE; the probe decodes prior draws for each class."""
    split = _digits(seed, images=True)
    classes = 10
    return Task(
        arguments={"images": split.x_train, "labels": split.y_train, "latent_dim": latent_dim, "steps": steps},
        probe_inputs={"latent_dim": latent_dim, "per_class": per_class, "classes": classes, "pixels": 64, "seed": seed},
        targets={"classes": classes, "per_class": per_class},
    )


def linear_posterior(seed: int, quick: bool, steps: int) -> Task:
    """Bayesian linear regression with an orthogonal design (Phi^T Phi diagonal, so the exact posterior
    factorises and mean-field VI can be exact too) and few data, so the prior matters."""
    from bdl_tf.inference import bayesian_linear_regression

    rng = np.random.default_rng(seed)
    n, d = 12, 3
    q, _ = np.linalg.qr(rng.standard_normal((n, d)))
    features = q * np.sqrt([3.0, 1.0, 0.3])  # Phi^T Phi = diag(3, 1, 0.3)
    prior_precision, noise_precision = 1.0, 2.0
    weights = rng.standard_normal(d) / np.sqrt(prior_precision)
    targets = features @ weights + rng.standard_normal(n) / np.sqrt(noise_precision)
    exact = bayesian_linear_regression(features, targets, prior_precision, noise_precision)
    return Task(
        arguments={"features": features, "targets": targets, "prior_precision": prior_precision,
                   "noise_precision": noise_precision, "steps": steps},
        probe_inputs={"dim": d},
        targets={"mean": exact.mean, "std": np.sqrt(np.diag(exact.covariance))},
    )
