"""Exact posteriors of conjugate models, as TFP distributions: the ground truth for MCMC and VI.

Two models whose posterior is known in closed form:

- Beta-Binomial: prior ``theta ~ Beta(a, b)``, ``k`` successes in ``n`` trials
  ``k ~ Binomial(n, theta)``, posterior ``Beta(a + k, b + n - k)``.
- Bayesian linear regression (Bishop, PRML 3.3): ``y = Phi w + eps`` with
  ``w ~ N(0, alpha^-1 I)`` and known noise precision ``beta``, ``eps ~ N(0, beta^-1)``;
  posterior ``N(m_N, S_N)`` with ``S_N^-1 = alpha I + beta Phi^T Phi``, ``m_N = beta S_N Phi^T y``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from bdl_tf._validation import as_float_array, check_int, check_positive, check_positive_int

tfd = tfp.distributions


def _check_counts(successes, trials, *, min_trials: int = 0) -> tuple[int, int]:
    for name, value in (("successes", successes), ("trials", trials)):
        check_int(name, value, minimum=0)
    if trials < min_trials:
        raise ValueError(f"trials must be an integer >= {min_trials}, got {trials!r}")
    if successes > trials:
        raise ValueError(f"successes must be <= trials, got successes={successes}, trials={trials}")
    return int(successes), int(trials)


def _posterior_concentrations(successes, trials, prior_a, prior_b) -> tuple[float, float]:
    successes, trials = _check_counts(successes, trials)
    a = check_positive("prior_a", prior_a)
    b = check_positive("prior_b", prior_b)
    return a + successes, b + trials - successes


def beta_binomial_posterior(successes, trials, prior_a=1.0, prior_b=1.0) -> tfd.Beta:
    """Posterior of the success probability: ``p(theta | k of n) = Beta(a + k, b + n - k)``."""
    a_post, b_post = _posterior_concentrations(successes, trials, prior_a, prior_b)
    return tfd.Beta(np.float64(a_post), np.float64(b_post))


def beta_binomial_predictive(successes, trials, new_trials, prior_a=1.0, prior_b=1.0) -> tfd.BetaBinomial:
    """Posterior predictive of the successes in ``m`` new trials: ``BetaBinomial(m, a + k, b + n - k)``.

    It integrates over theta instead of plugging in one estimate:
    ``p(k' | k) = int Binomial(k' | m, theta) Beta(theta | a + k, b + n - k) dtheta``.
    With ``successes = trials = 0`` it is the prior predictive, and its ``prob(k)`` at the observed
    count is the evidence ``p(k) = int p(k | theta) p(theta) dtheta`` of Bayes' theorem.
    """
    check_positive_int("new_trials", new_trials)
    a_post, b_post = _posterior_concentrations(successes, trials, prior_a, prior_b)
    return tfd.BetaBinomial(np.float64(new_trials), np.float64(a_post), np.float64(b_post))


def beta_binomial_map(successes, trials, prior_a=1.0, prior_b=1.0) -> float:
    """MAP estimate, the mode of ``Beta(A, B)`` with ``A = a + k``, ``B = b + n - k``: ``(A - 1) / (A + B - 2)``.

    On the boundary (``A <= 1`` or ``B <= 1``) the density is largest at 0 or 1; when both are
    ``<= 1`` the mode is not unique (flat or U-shaped posterior) and a ``ValueError`` is raised.
    """
    a_post, b_post = _posterior_concentrations(successes, trials, prior_a, prior_b)
    if a_post > 1 and b_post > 1:
        return (a_post - 1.0) / (a_post + b_post - 2.0)
    if a_post <= 1 < b_post:
        return 0.0
    if b_post <= 1 < a_post:
        return 1.0
    raise ValueError(
        f"the posterior Beta({a_post:g}, {b_post:g}) has no unique mode (both concentrations <= 1); "
        "use more data or a prior with prior_a + successes > 1 or prior_b + failures > 1"
    )


def binomial_mle(successes, trials) -> float:
    """Maximum-likelihood estimate of the success probability, ``k / n`` (needs ``n >= 1``)."""
    successes, trials = _check_counts(successes, trials, min_trials=1)
    return successes / trials


@dataclass(frozen=True)
class LinearRegressionPosterior:
    """Exact posterior ``N(m_N, S_N)`` of the weights of a Bayesian linear regression.

    Built by :func:`bayesian_linear_regression`; ``mean`` is ``m_N`` (shape ``[D]``),
    ``covariance`` is ``S_N`` (``[D, D]``), ``log_evidence`` is ``log p(y | Phi, alpha, beta)``.
    """

    mean: np.ndarray
    covariance: np.ndarray
    prior_precision: float
    noise_precision: float
    log_evidence: float

    @property
    def distribution(self) -> tfd.MultivariateNormalTriL:
        """The posterior ``p(w | y) = N(m_N, S_N)`` as a TFP distribution (float64)."""
        return tfd.MultivariateNormalTriL(loc=self.mean, scale_tril=np.linalg.cholesky(self.covariance))

    def predictive(self, features) -> tfd.Normal:
        """Posterior predictive at new rows ``phi``: ``N(phi^T m_N, 1/beta + phi^T S_N phi)``.

        The variance is the noise ``1/beta`` (aleatoric) plus ``phi^T S_N phi`` (epistemic, from
        not knowing ``w``), which shrinks with data and grows away from it.
        """
        phi = as_float_array("features", features, min_ndim=2)
        if phi.ndim != 2 or phi.shape[1] != self.mean.shape[0]:
            raise ValueError(f"features must have shape [M, {self.mean.shape[0]}], got {phi.shape}")
        mean = phi @ self.mean
        variance = 1.0 / self.noise_precision + np.einsum("md,de,me->m", phi, self.covariance, phi)
        return tfd.Normal(loc=mean, scale=np.sqrt(variance))


def _check_regression_data(features, targets) -> tuple[np.ndarray, np.ndarray]:
    phi = as_float_array("features", features, min_ndim=2)
    y = as_float_array("targets", targets)
    if phi.ndim != 2:
        raise ValueError(f"features must be a 2-D array [N, D], got shape {phi.shape}")
    if y.ndim != 1 or y.shape[0] != phi.shape[0]:
        raise ValueError(f"targets must have shape [{phi.shape[0]}] to match features, got {y.shape}")
    return phi, y


def bayesian_linear_regression(features, targets, prior_precision, noise_precision) -> LinearRegressionPosterior:
    """Exact posterior of ``w`` in ``y = Phi w + eps``, ``w ~ N(0, alpha^-1 I)``, ``eps ~ N(0, beta^-1)``.

    ``S_N^-1 = alpha I + beta Phi^T Phi`` and ``m_N = beta S_N Phi^T y``; the log evidence is
    Bishop's (3.86): ``D/2 ln alpha + N/2 ln beta - E(m_N) - 1/2 ln|S_N^-1| - N/2 ln 2 pi`` with
    ``E(m_N) = beta/2 ||y - Phi m_N||^2 + alpha/2 m_N^T m_N``.

    Args:
        features: design matrix ``Phi``, shape ``[N, D]`` (add a column of ones for a bias).
        targets: ``y``, shape ``[N]``.
        prior_precision: ``alpha > 0``, the prior ``N(0, alpha^-1 I)`` on the weights.
        noise_precision: ``beta > 0``, the known inverse noise variance.
    """
    phi, y = _check_regression_data(features, targets)
    alpha = check_positive("prior_precision", prior_precision)
    beta = check_positive("noise_precision", noise_precision)
    n, d = phi.shape
    precision = alpha * np.eye(d) + beta * phi.T @ phi
    chol = np.linalg.cholesky(precision)
    covariance = np.linalg.inv(chol).T @ np.linalg.inv(chol)
    covariance = 0.5 * (covariance + covariance.T)
    mean = beta * covariance @ phi.T @ y
    energy = 0.5 * beta * np.sum((y - phi @ mean) ** 2) + 0.5 * alpha * mean @ mean
    log_det_precision = 2.0 * np.sum(np.log(np.diag(chol)))
    log_evidence = (
        0.5 * d * np.log(alpha) + 0.5 * n * np.log(beta) - energy
        - 0.5 * log_det_precision - 0.5 * n * np.log(2.0 * np.pi)
    )
    return LinearRegressionPosterior(mean, covariance, alpha, beta, float(log_evidence))


def linear_regression_log_joint(features, targets, prior_precision, noise_precision):
    """The unnormalised log posterior ``w -> log p(y | Phi, w) + log p(w)`` of the model above.

    Returns a function of a batch of weight vectors ``[..., D]`` giving ``[...]`` (in the dtype of
    the weights), ready to be a ``target_log_prob_fn`` for :func:`bdl_tf.inference.run_mcmc`.
    """
    phi, y = _check_regression_data(features, targets)
    alpha = check_positive("prior_precision", prior_precision)
    beta = check_positive("noise_precision", noise_precision)
    dim = phi.shape[1]

    def log_joint(weights):
        weights = tf.convert_to_tensor(weights)
        dtype = weights.dtype
        prior = tfd.MultivariateNormalDiag(
            loc=tf.zeros(dim, dtype), scale_diag=tf.fill([dim], tf.constant(alpha**-0.5, dtype))
        )
        means = tf.einsum("nd,...d->...n", tf.constant(phi, dtype), weights)
        likelihood = tfd.Independent(tfd.Normal(means, tf.constant(beta**-0.5, dtype)), 1)
        return likelihood.log_prob(tf.constant(y, dtype)) + prior.log_prob(weights)

    return log_joint
