"""Split predictive uncertainty into its aleatoric and epistemic parts (Kendall & Gal 2017).

All functions take Monte-Carlo samples with the sample axis first, shape (T, N, ...), as
returned by :func:`bdl_tf.sampling.mc_predict`, and return NumPy arrays in nats.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import entr

from bdl_tf._validation import as_float_array, check_positive, check_same_shape

__all__ = [
    "ClassificationUncertainty",
    "RegressionUncertainty",
    "entropy",
    "predictive_probs",
    "predictive_entropy",
    "expected_entropy",
    "mutual_information",
    "classification_uncertainty",
    "regression_uncertainty",
]

_PROB_TOLERANCE = 1e-3


def _prob_samples(prob_samples) -> np.ndarray:
    probs = as_float_array("prob_samples", prob_samples, min_ndim=2)
    if np.any(probs < -_PROB_TOLERANCE) or np.any(np.abs(probs.sum(axis=-1) - 1.0) > _PROB_TOLERANCE):
        raise ValueError(
            "prob_samples must hold class probabilities summing to 1 over the last axis "
            "(apply a softmax, or use a Categorical output head)"
        )
    return np.clip(probs, 0.0, 1.0)


def entropy(probs, axis: int = -1) -> np.ndarray:
    """Shannon entropy H[p] = -sum_c p_c log p_c in nats (0 log 0 = 0)."""
    return entr(as_float_array("probs", probs)).sum(axis=axis)


def predictive_probs(prob_samples) -> np.ndarray:
    """MC predictive distribution p(y=c|x) ~ 1/T sum_t p(y=c|x, theta_t); shape (N, C)."""
    return _prob_samples(prob_samples).mean(axis=0)


def predictive_entropy(prob_samples) -> np.ndarray:
    """Total uncertainty H[1/T sum_t p_t]: the entropy of the mean prediction; shape (N,)."""
    return entropy(predictive_probs(prob_samples))


def expected_entropy(prob_samples) -> np.ndarray:
    """Aleatoric part 1/T sum_t H[p_t]: the mean of the per-sample entropies; shape (N,)."""
    return entropy(_prob_samples(prob_samples)).mean(axis=0)


def mutual_information(prob_samples) -> np.ndarray:
    """Epistemic part (BALD): I[y; theta | x] = H[mean_t p_t] - mean_t H[p_t] >= 0; shape (N,)."""
    probs = _prob_samples(prob_samples)
    information = entropy(probs.mean(axis=0)) - entropy(probs).mean(axis=0)
    return np.maximum(information, 0.0)  # Jensen: >= 0; clip round-off only


@dataclass(frozen=True)
class ClassificationUncertainty:
    """Predictive probabilities and the entropy decomposition total = aleatoric + epistemic."""

    probs: np.ndarray
    predictive_entropy: np.ndarray
    expected_entropy: np.ndarray
    mutual_information: np.ndarray


def classification_uncertainty(prob_samples) -> ClassificationUncertainty:
    """All classification summaries of (T, N, C) probability samples in one pass."""
    probs = _prob_samples(prob_samples)
    mean_probs = probs.mean(axis=0)
    total = entropy(mean_probs)
    aleatoric = entropy(probs).mean(axis=0)
    return ClassificationUncertainty(
        probs=mean_probs,
        predictive_entropy=total,
        expected_entropy=aleatoric,
        mutual_information=np.maximum(total - aleatoric, 0.0),
    )


@dataclass(frozen=True)
class RegressionUncertainty:
    """Predictive mean and variance split as total = aleatoric + epistemic (law of total variance)."""

    mean: np.ndarray
    aleatoric: np.ndarray
    epistemic: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """Total predictive variance = aleatoric + epistemic."""
        return self.aleatoric + self.epistemic

    @property
    def std(self) -> np.ndarray:
        """Total predictive standard deviation."""
        return np.sqrt(self.total)


def regression_uncertainty(mean_samples, variance_samples=None, noise_variance=None) -> RegressionUncertainty:
    """Decompose the variance of a MC regression prediction (Kendall & Gal 2017, eq. 9).

    aleatoric = 1/T sum_t sigma_t^2(x)   (from ``variance_samples``, a heteroscedastic head),
                or the constant ``noise_variance`` 1/tau of a homoscedastic model;
    epistemic = 1/T sum_t mu_t(x)^2 - (1/T sum_t mu_t(x))^2   (variance of the predicted means).
    """
    means = as_float_array("mean_samples", mean_samples, min_ndim=2)
    if (variance_samples is None) == (noise_variance is None):
        raise ValueError("give exactly one of variance_samples (heteroscedastic head) or noise_variance (1/tau)")
    if variance_samples is not None:
        variances = as_float_array("variance_samples", variance_samples, min_ndim=2)
        check_same_shape("mean_samples", means, "variance_samples", variances)
        if np.any(variances < 0):
            raise ValueError("variance_samples must be >= 0 (variances, not log-variances)")
        aleatoric = variances.mean(axis=0)
    else:
        aleatoric = np.full(means.shape[1:], check_positive("noise_variance", noise_variance))
    return RegressionUncertainty(mean=means.mean(axis=0), aleatoric=aleatoric, epistemic=means.var(axis=0))
