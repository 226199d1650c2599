"""Exact posteriors against scipy.stats and against independent closed forms (Gaussian conditioning)."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from bdl_tf.inference import (
    bayesian_linear_regression,
    beta_binomial_map,
    beta_binomial_posterior,
    beta_binomial_predictive,
    binomial_mle,
    grid_posterior,
    linear_regression_log_joint,
)

# ---- Beta-Binomial -------------------------------------------------------------------------

@pytest.mark.parametrize("k, n, a, b", [(7, 10, 1.0, 1.0), (0, 5, 2.0, 3.0), (30, 40, 0.5, 0.5)])
def test_beta_posterior_matches_scipy_beta(k, n, a, b):
    theta = np.linspace(0.01, 0.99, 99)
    posterior = beta_binomial_posterior(k, n, a, b)
    np.testing.assert_allclose(posterior.prob(theta), stats.beta(a + k, b + n - k).pdf(theta), rtol=1e-10)


def test_beta_posterior_is_prior_times_likelihood_normalised_on_a_grid():
    k, n, a, b = 7, 10, 2.0, 2.0
    theta = np.linspace(1e-6, 1 - 1e-6, 20001)
    log_joint = stats.beta(a, b).logpdf(theta) + stats.binom(n, theta).logpmf(k)
    density, log_evidence = grid_posterior(theta, log_joint)
    np.testing.assert_allclose(density, beta_binomial_posterior(k, n, a, b).prob(theta), atol=1e-6)
    # evidence p(k) = BetaBinomial(n, a, b) pmf at k = prior predictive
    prior_predictive = beta_binomial_predictive(0, 0, n, a, b)
    np.testing.assert_allclose(log_evidence, prior_predictive.log_prob(float(k)), rtol=1e-8)
    np.testing.assert_allclose(log_evidence, stats.betabinom(n, a, b).logpmf(k), rtol=1e-8)


def test_grid_posterior_on_a_non_uniform_grid():
    theta = np.geomspace(1e-4, 1.0, 4001) - 1e-4 + 1e-9
    log_joint = stats.beta(3.0, 5.0).logpdf(theta)  # a normalised density: evidence 1
    density, log_evidence = grid_posterior(theta, log_joint)
    assert abs(log_evidence) < 1e-5
    np.testing.assert_allclose(density, stats.beta(3.0, 5.0).pdf(theta), rtol=1e-4)


def test_predictive_matches_scipy_betabinom():
    k, n, m, a, b = 3, 12, 8, 1.5, 2.5
    predictive = beta_binomial_predictive(k, n, m, a, b)
    counts = np.arange(m + 1, dtype=float)
    np.testing.assert_allclose(predictive.prob(counts), stats.betabinom(m, a + k, b + n - k).pmf(counts), rtol=1e-8)
    # integrating over theta widens the predictive compared with plugging in the posterior mean
    plug_in = stats.binom(m, (a + k) / (a + b + n))
    assert float(predictive.variance()) > plug_in.var()


def test_map_is_the_posterior_mode_and_mle_is_k_over_n():
    k, n, a, b = 7, 10, 3.0, 2.0
    theta = np.linspace(0, 1, 100001)
    grid_mode = theta[np.argmax(stats.beta(a + k, b + n - k).pdf(theta))]
    assert beta_binomial_map(k, n, a, b) == pytest.approx(grid_mode, abs=1e-4)
    assert beta_binomial_map(k, n, a, b) == pytest.approx((a + k - 1) / (a + b + n - 2))
    assert binomial_mle(k, n) == pytest.approx(0.7)
    # with a flat prior Beta(1, 1) the MAP is the MLE
    assert beta_binomial_map(k, n) == pytest.approx(binomial_mle(k, n))


def test_map_on_the_boundary_and_when_not_unique():
    assert beta_binomial_map(0, 5) == 0.0  # Beta(1, 6): largest at 0
    assert beta_binomial_map(5, 5) == 1.0
    with pytest.raises(ValueError, match="no unique mode"):
        beta_binomial_map(0, 0)  # flat Beta(1, 1)
    with pytest.raises(ValueError, match="no unique mode"):
        beta_binomial_map(0, 0, 0.5, 0.5)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: beta_binomial_posterior(11, 10), "successes must be <= trials"),
        (lambda: beta_binomial_posterior(-1, 10), "successes"),
        (lambda: beta_binomial_posterior(2.5, 10), "successes"),
        (lambda: beta_binomial_posterior(2, 10, prior_a=0.0), "prior_a"),
        (lambda: beta_binomial_predictive(2, 10, 0), "new_trials"),
        (lambda: binomial_mle(0, 0), "trials"),
    ],
)
def test_bad_counts_and_priors_are_refused(call, match):
    with pytest.raises((ValueError, TypeError), match=match):  # TypeError: a count that is no integer
        call()


def test_grid_posterior_refuses_bad_grids():
    with pytest.raises(ValueError, match="strictly increasing"):
        grid_posterior([0.0, 0.2, 0.1], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="log_joint must have"):
        grid_posterior([0.0, 0.5, 1.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="NaN"):
        grid_posterior([0.0, 1.0], [0.0, np.nan])


# ---- Bayesian linear regression --------------------------------------------------------------

@pytest.fixture
def regression():
    rng = np.random.default_rng(1)
    n = 25
    x = rng.uniform(-1, 1, n)
    phi = np.stack([np.ones(n), x, x**2], axis=1)
    alpha, beta = 2.0, 16.0
    y = phi @ np.array([0.3, -1.0, 0.7]) + rng.normal(scale=beta**-0.5, size=n)
    return phi, y, alpha, beta


def _gaussian_conditioning(phi, y, alpha, beta):
    """w and y are jointly Gaussian: condition w on y without forming the posterior precision."""
    cov_yy = phi @ phi.T / alpha + np.eye(len(y)) / beta
    cov_wy = phi.T / alpha
    gain = np.linalg.solve(cov_yy, cov_wy.T).T
    return gain @ y, np.eye(phi.shape[1]) / alpha - gain @ cov_wy.T, cov_yy


def test_posterior_mean_covariance_and_evidence_match_gaussian_conditioning(regression):
    phi, y, alpha, beta = regression
    posterior = bayesian_linear_regression(phi, y, alpha, beta)
    mean, cov, cov_yy = _gaussian_conditioning(phi, y, alpha, beta)
    np.testing.assert_allclose(posterior.mean, mean, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(posterior.covariance, cov, rtol=1e-8, atol=1e-12)
    marginal = stats.multivariate_normal(np.zeros(len(y)), cov_yy)
    assert posterior.log_evidence == pytest.approx(marginal.logpdf(y), rel=1e-9)
    w = np.array([[0.0, 0.0, 0.0], [0.3, -1.0, 0.7]])
    np.testing.assert_allclose(
        posterior.distribution.log_prob(w), stats.multivariate_normal(mean, cov).logpdf(w), rtol=1e-8
    )


def test_predictive_matches_conditioning_of_a_new_target(regression):
    phi, y, alpha, beta = regression
    posterior = bayesian_linear_regression(phi, y, alpha, beta)
    phi_new = np.array([[1.0, 0.0, 0.0], [1.0, 3.0, 9.0]])
    mean_w, cov_w, _ = _gaussian_conditioning(phi, y, alpha, beta)
    predictive = posterior.predictive(phi_new)
    np.testing.assert_allclose(predictive.mean(), phi_new @ mean_w, rtol=1e-8)
    np.testing.assert_allclose(predictive.variance(), 1 / beta + np.diag(phi_new @ cov_w @ phi_new.T), rtol=1e-8)
    # far from the data (x = 3) the epistemic part dominates; near it only the noise is left
    assert predictive.variance()[1] > 10 * predictive.variance()[0] > 1 / beta


def test_log_joint_minus_log_posterior_is_the_log_evidence(regression):
    """log p(y, w) - log p(w | y) = log p(y) for every w: checks the log joint against the posterior."""
    phi, y, alpha, beta = regression
    posterior = bayesian_linear_regression(phi, y, alpha, beta)
    log_joint = linear_regression_log_joint(phi, y, alpha, beta)
    w = np.random.default_rng(2).normal(size=(2, 4, 3))
    gap = log_joint(tf.constant(w)).numpy() - posterior.distribution.log_prob(w).numpy()
    assert gap.shape == (2, 4)
    np.testing.assert_allclose(gap, posterior.log_evidence, rtol=1e-9)
    # the dtype follows the weights
    assert log_joint(tf.constant(w, tf.float32)).dtype == tf.float32


def test_regression_shapes_are_checked(regression):
    phi, y, alpha, beta = regression
    with pytest.raises(ValueError, match="targets must have shape"):
        bayesian_linear_regression(phi, y[:-1], alpha, beta)
    with pytest.raises(ValueError, match="features must be a 2-D"):
        bayesian_linear_regression(phi[None], y, alpha, beta)
    with pytest.raises(ValueError, match="noise_precision"):
        bayesian_linear_regression(phi, y, alpha, -1.0)
    with pytest.raises(ValueError, match=r"features must have shape \[M, 3\]"):
        bayesian_linear_regression(phi, y, alpha, beta).predictive(np.ones((2, 2)))
