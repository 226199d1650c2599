"""Predictive-quality metrics: likelihoods, errors, calibration, and a sample-quality distance.
NumPy in, floats out.

Conventions: ``probs`` is (N, C) predictive class probabilities (rows sum to 1), ``labels`` is
(N,) integer classes; regression arrays are (N,) or (N, D).  Lower is better for NLL, RMSE,
Brier and ECE.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from bdl_tf._validation import (
    as_array,
    as_float_array,
    check_class_labels,
    check_positive,
    check_positive_int,
    check_same_shape,
)

__all__ = [
    "gaussian_nll",
    "mc_gaussian_nll",
    "rmse",
    "categorical_nll",
    "accuracy",
    "brier_score",
    "CalibrationBins",
    "calibration_bins",
    "expected_calibration_error",
    "ood_auroc",
    "frechet_distance",
]


def _regression_pair(y_true, y_pred, pred_name="y_pred"):
    y = as_float_array("y_true", y_true)
    pred = as_float_array(pred_name, y_pred)
    check_same_shape("y_true", y, pred_name, pred)
    return y, pred


def gaussian_nll(y_true, mean, variance) -> float:
    """Mean negative log-likelihood of N(y; mean, variance): 1/2 log(2 pi var) + (y - mean)^2 / (2 var)."""
    y, mu = _regression_pair(y_true, mean, "mean")
    var = as_float_array("variance", variance)
    check_same_shape("mean", mu, "variance", var)
    if np.any(var <= 0):
        raise ValueError("variance must be > 0 everywhere (a variance, not a log-variance)")
    return float(-norm.logpdf(y, loc=mu, scale=np.sqrt(var)).mean())


def mc_gaussian_nll(y_true, mean_samples, variance_samples=None, noise_variance=None) -> float:
    """NLL of the MC mixture 1/T sum_t N(y; mu_t, sigma_t^2), averaged over examples (log-sum-exp).

    -log p(y|x) ~ -logsumexp_t log N(y; mu_t, sigma_t^2) + log T.  Give the per-pass variances of
    a heteroscedastic head, or the constant ``noise_variance`` 1/tau (Gal & Ghahramani 2016).
    """
    means = as_float_array("mean_samples", mean_samples, min_ndim=2)
    y = as_float_array("y_true", y_true)
    if means.shape[1:] != y.shape:
        raise ValueError(f"mean_samples must have shape (T, {', '.join(map(str, y.shape))}), got {means.shape}")
    if (variance_samples is None) == (noise_variance is None):
        raise ValueError("give exactly one of variance_samples or noise_variance")
    if variance_samples is None:
        var = np.full_like(means, check_positive("noise_variance", noise_variance))
    else:
        var = as_float_array("variance_samples", variance_samples, min_ndim=2)
        check_same_shape("mean_samples", means, "variance_samples", var)
        if np.any(var <= 0):
            raise ValueError("variance_samples must be > 0 everywhere")
    log_probs = norm.logpdf(y[None], loc=means, scale=np.sqrt(var))
    return float(-(logsumexp(log_probs, axis=0) - np.log(means.shape[0])).mean())


def rmse(y_true, y_pred) -> float:
    """Root mean squared error sqrt(1/N sum (y - y_hat)^2)."""
    y, pred = _regression_pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y - pred) ** 2)))


def _classification_pair(labels, probs):
    p = as_float_array("probs", probs, min_ndim=2)
    if p.ndim != 2:
        raise ValueError(f"probs must have shape (N, C), got {p.shape}")
    if np.any(p < 0) or np.any(np.abs(p.sum(axis=1) - 1.0) > 1e-3):
        raise ValueError("probs must be probabilities: rows >= 0 summing to 1 (apply a softmax first)")
    y = as_array("labels", labels, min_ndim=0, shape=(p.shape[0],))
    return check_class_labels("labels", y, p.shape[1]), p


def categorical_nll(labels, probs, eps: float = 1e-12) -> float:
    """Mean -log p(y_i = label_i), probabilities clipped at ``eps`` (as sklearn's log_loss)."""
    y, p = _classification_pair(labels, probs)
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], eps, 1.0))))


def accuracy(labels, probs) -> float:
    """Fraction of examples whose most probable class is the label."""
    y, p = _classification_pair(labels, probs)
    return float(np.mean(p.argmax(axis=1) == y))


def brier_score(labels, probs) -> float:
    """Multi-class Brier score 1/N sum_i sum_c (p_ic - [y_i = c])^2, in [0, 2].

    For two classes this is twice sklearn's ``brier_score_loss`` on the positive class.
    """
    y, p = _classification_pair(labels, probs)
    one_hot = np.eye(p.shape[1])[y]
    return float(np.mean(np.sum((p - one_hot) ** 2, axis=1)))


@dataclass(frozen=True)
class CalibrationBins:
    """Reliability-diagram data: per confidence bin, the mean confidence, accuracy and count."""

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    counts: np.ndarray

    @property
    def ece(self) -> float:
        """Expected calibration error sum_b n_b / N |acc_b - conf_b| (empty bins weigh 0)."""
        filled = self.counts > 0
        gaps = np.abs(self.accuracy[filled] - self.confidence[filled])
        return float(np.sum(self.counts[filled] * gaps) / self.counts.sum())


def calibration_bins(labels, probs, n_bins: int = 15) -> CalibrationBins:
    """Bin predictions by confidence max_c p_c into ``n_bins`` equal-width bins of (0, 1].

    Empty bins have count 0 and NaN confidence/accuracy (nothing to plot there).
    """
    y, p = _classification_pair(labels, probs)
    n_bins = check_positive_int("n_bins", n_bins)
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(index, weights=confidence, minlength=n_bins) / counts
        mean_acc = np.bincount(index, weights=correct, minlength=n_bins) / counts
    return CalibrationBins(edges=edges, confidence=mean_conf, accuracy=mean_acc, counts=counts)


def expected_calibration_error(labels, probs, n_bins: int = 15) -> float:
    """ECE (Naeini et al. 2015; Guo et al. 2017) with ``n_bins`` equal-width confidence bins."""
    return calibration_bins(labels, probs, n_bins).ece


def ood_auroc(scores_in, scores_out) -> float:
    """AUROC of telling out-of-distribution inputs from in-distribution ones by an uncertainty score.

    Higher scores should mean "more likely OOD" (entropy, mutual information, variance): 1.0 is a
    perfect separation, 0.5 chance.
    """
    s_in = as_float_array("scores_in", scores_in).ravel()
    s_out = as_float_array("scores_out", scores_out).ravel()
    if s_in.size == 0 or s_out.size == 0:
        raise ValueError("scores_in and scores_out must both be non-empty")
    labels = np.concatenate([np.zeros(s_in.size), np.ones(s_out.size)])
    return float(roc_auc_score(labels, np.concatenate([s_in, s_out])))


def _gaussian_fit(name, features):
    x = as_float_array(name, features, min_ndim=2)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"{name} must have shape (n >= 2, dim), got {x.shape}")
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def _psd_sqrt(matrix):
    """Symmetric square root of a symmetric positive semi-definite matrix (eigenvalues clipped at 0)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(features_a, features_b) -> float:
    """Frechet distance between Gaussians fitted to two sets of feature vectors, (n, d) and (m, d):

    ||m_a - m_b||^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2)),

    the squared 2-Wasserstein distance between N(m_a, C_a) and N(m_b, C_b); 0 for identical sets.
    With the features of an image classifier's hidden layer it is the FID of Heusel et al. (2017)
    (there: Inception-v3 features), the usual score of generated images against real ones: it grows
    when the samples look unlike the data (the means move) and when they lack its variety (the
    covariances differ). Only differences measured with the same feature extractor are comparable.
    ``tr (C_a C_b)^(1/2)`` is computed as ``tr (S C_b S)^(1/2)`` with ``S = C_a^(1/2)``, whose
    symmetric form keeps rounding errors from producing complex numbers.
    """
    mean_a, cov_a = _gaussian_fit("features_a", features_a)
    mean_b, cov_b = _gaussian_fit("features_b", features_b)
    if mean_a.shape != mean_b.shape:
        raise ValueError(
            f"features_a and features_b must have the same feature dimension, got {mean_a.size} and {mean_b.size}"
        )
    root_a = _psd_sqrt(cov_a)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0.0, None)).sum()
    return float(max(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * cross, 0.0))
