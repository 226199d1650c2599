"""Bayes' theorem by brute force: normalise prior x likelihood on a 1-D grid of parameter values.

Useful as a check of exact or approximate posteriors in one dimension, and as the picture of why
the evidence is intractable in many: a grid of G points per parameter needs ``G^D`` evaluations.
"""
from __future__ import annotations

import numpy as np
from scipy.special import logsumexp


def grid_posterior(grid, log_joint) -> tuple[np.ndarray, float]:
    """Posterior density on a grid and the log evidence, by the trapezoid rule.

    ``p(theta | x) = p(x | theta) p(theta) / p(x)`` with ``p(x) = int p(x | theta) p(theta) dtheta``
    approximated as ``sum_i w_i exp(log_joint_i)`` (trapezoid weights ``w_i``).

    Args:
        grid: strictly increasing 1-D array of parameter values ``theta_i``.
        log_joint: ``log p(x | theta_i) + log p(theta_i)`` at each grid point (``-inf`` allowed
            where the density is zero).

    Returns:
        ``(density, log_evidence)``: the posterior density at each grid point, which integrates to
        one over the grid, and ``log p(x)``.
    """
    theta = np.asarray(grid, dtype=np.float64)
    values = np.asarray(log_joint, dtype=np.float64)
    if theta.ndim != 1 or theta.size < 2 or not np.all(np.isfinite(theta)):
        raise ValueError(f"grid must be a 1-D array of at least 2 finite values, got shape {theta.shape}")
    if np.any(np.diff(theta) <= 0):
        raise ValueError("grid must be strictly increasing")
    if values.shape != theta.shape:
        raise ValueError(f"log_joint must have the grid's shape {theta.shape}, got {values.shape}")
    if np.any(np.isnan(values)) or np.any(values == np.inf):
        raise ValueError("log_joint contains NaN or +inf")
    if np.all(values == -np.inf):
        raise ValueError("log_joint is -inf everywhere on the grid: the evidence would be zero")
    spacing = np.diff(theta)
    weights = np.concatenate([[spacing[0] / 2], (spacing[:-1] + spacing[1:]) / 2, [spacing[-1] / 2]])
    log_evidence = float(logsumexp(values + np.log(weights)))
    return np.exp(values - log_evidence), log_evidence
