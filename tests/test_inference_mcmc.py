"""HMC/NUTS against exact posteriors, with tolerances from the chains' own effective sample size.

A Monte-Carlo average of correlated draws has standard error ``sd / sqrt(ESS)``; each check allows
4 standard errors (a false alarm has probability ~6e-5 per quantity).
"""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from bdl_tf.inference import bayesian_linear_regression, linear_regression_log_joint, run_mcmc

Z = 4.0


def _assert_average_within_mc_error(draws, expected, what):
    """``draws``: [results, chains, ...]; the chain average of each component vs its expected value."""
    ess = tfp.mcmc.effective_sample_size(draws, filter_beyond_positive_pairs=True, cross_chain_dims=1).numpy()
    flat = draws.reshape((-1,) + draws.shape[2:])
    error = np.abs(flat.mean(axis=0) - expected)
    tolerance = Z * flat.std(axis=0) / np.sqrt(ess)
    assert np.all(error < tolerance), f"{what}: error {error} exceeds {Z} MC standard errors {tolerance}"


def test_nuts_recovers_the_exact_bayesian_linear_regression_posterior():
    rng = np.random.default_rng(3)
    n = 30
    phi = rng.normal(size=(n, 3))  # well-conditioned posterior: short NUTS trajectories, a fast test
    alpha, beta = 1.0, 25.0
    y = phi @ np.array([0.5, -1.0, 0.4]) + rng.normal(scale=beta**-0.5, size=n)
    exact = bayesian_linear_regression(phi, y, alpha, beta)

    result = run_mcmc(
        linear_regression_log_joint(phi, y, alpha, beta),
        tf.constant(rng.normal(size=(4, 3))),
        num_results=400,
        num_burnin_steps=300,
        seed=1,
    )
    assert result.samples.shape == (400, 4, 3)
    assert result.flat_samples.shape == (1600, 3)
    assert np.all(result.r_hat < 1.1), result.r_hat  # Gelman et al.'s threshold for mixed chains
    assert np.all(result.ess > 200), result.ess
    assert abs(result.acceptance_rate - 0.75) < 0.15  # dual averaging hits its target roughly
    assert result.step_size > 0 and result.seconds > 0

    _assert_average_within_mc_error(result.samples, exact.mean, "posterior mean")
    centred = result.samples - exact.mean
    products = centred[..., :, None] * centred[..., None, :]  # E[(w - m)(w - m)^T] = S_N
    rows, cols = np.triu_indices(3)
    _assert_average_within_mc_error(products[..., rows, cols], exact.covariance[rows, cols], "posterior covariance")


def test_hmc_samples_a_standard_normal():
    target = tfp.distributions.MultivariateNormalDiag(loc=tf.zeros(2), scale_diag=tf.ones(2))
    result = run_mcmc(
        target.log_prob, tf.fill([4, 2], 2.0), kernel="hmc", num_leapfrog_steps=5,
        num_results=500, num_burnin_steps=300, seed=2,
    )
    assert result.samples.dtype == np.float32
    _assert_average_within_mc_error(result.samples, np.zeros(2), "mean")
    _assert_average_within_mc_error(result.samples**2, np.ones(2), "second moment")


def test_same_seed_same_draws_and_other_seed_other_draws():
    target = tfp.distributions.Normal(0.0, 1.0)
    runs = [
        run_mcmc(target.log_prob, tf.zeros([2]), kernel="hmc", num_results=20, num_burnin_steps=20, seed=s)
        for s in (5, 5, 6)
    ]
    np.testing.assert_array_equal(runs[0].samples, runs[1].samples)
    assert not np.array_equal(runs[0].samples, runs[2].samples)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"kernel": "gibbs"}, ValueError, "kernel must be one of"),
        ({"initial_state": np.zeros([1, 3])}, ValueError, "chain dimension of size >= 2"),
        ({"initial_state": np.zeros([4, 3], dtype=np.int32)}, TypeError, "float tensor"),
        ({"num_results": 0}, ValueError, "num_results"),
        ({"target_accept_prob": 1.5}, ValueError, "target_accept_prob"),
        ({"target_log_prob_fn": "log_prob"}, TypeError, "callable"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    arguments = {"target_log_prob_fn": lambda w: -tf.reduce_sum(w**2, -1), "initial_state": np.zeros([4, 3])}
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        run_mcmc(arguments.pop("target_log_prob_fn"), arguments.pop("initial_state"), **arguments)
