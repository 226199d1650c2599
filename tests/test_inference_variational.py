"""Mean-field VI layers: the KL weight 1/N, the KL counted once, and VI against the exact posterior."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf import negative_log_likelihood
from bdl_tf.inference import (
    bayesian_linear_regression,
    dense_flipout,
    dense_variational,
    make_posterior_fn,
    make_prior_fn,
    weight_posterior,
)

tfd = tfp.distributions
NOISE_PRECISION = 25.0


def _regression_model(layer, num_features):
    """One variational unit, no hidden layer, Gaussian likelihood with the known noise."""
    model = keras.Sequential([
        keras.Input((num_features,)),
        layer,
        tfp.layers.DistributionLambda(lambda t: tfd.Normal(t[..., 0], NOISE_PRECISION**-0.5)),
    ])
    return model


@pytest.fixture
def correlated_regression():
    """Three strongly correlated features: the exact posterior has large off-diagonal covariance."""
    rng = np.random.default_rng(0)
    n = 40
    x = rng.uniform(-1, 1, n)
    phi = np.stack([x, x + 0.3 * rng.normal(size=n), x + 0.3 * rng.normal(size=n)], axis=1)
    y = phi @ np.array([0.5, -1.0, 0.8]) + rng.normal(scale=NOISE_PRECISION**-0.5, size=n)
    return phi.astype(np.float32), y.astype(np.float32)


def test_vi_finds_the_exact_mean_and_underestimates_the_variance(correlated_regression):
    """For a Gaussian posterior N(m, S) with precision L = S^-1, the best mean-field Normal has mean m
    and variances 1/L_ii <= S_ii (Bishop, PRML 10.1.2): VI gets the mean right and is over-confident."""
    phi, y = correlated_regression
    n, alpha = len(y), 1.0
    exact = bayesian_linear_regression(phi, y, alpha, NOISE_PRECISION)
    exact_sd = np.sqrt(np.diag(exact.covariance))
    mean_field_sd = 1.0 / np.sqrt(np.diag(np.linalg.inv(exact.covariance)))
    assert np.all(mean_field_sd < 0.6 * exact_sd)  # the set-up makes the underestimate large

    layer = dense_variational(1, n, prior_scale=alpha**-0.5, use_bias=False)
    model = _regression_model(layer, 3)
    steps = 1500
    learning_rate = keras.optimizers.schedules.CosineDecay(0.05, steps, alpha=0.01)  # decay: a still final iterate
    model.compile(keras.optimizers.Adam(learning_rate), loss=negative_log_likelihood, steps_per_execution=50)
    model.fit(tf.data.Dataset.from_tensors((phi, y)).repeat(steps), epochs=1, verbose=0)

    q = weight_posterior(layer)
    q_mean, q_sd = q.mean().numpy(), q.stddev().numpy()
    # stochastic-gradient noise, not bias, is what is left: a small fraction of a posterior sd
    np.testing.assert_array_less(np.abs(q_mean - exact.mean), 0.3 * exact_sd)
    np.testing.assert_allclose(q_sd, mean_field_sd, rtol=0.25)
    np.testing.assert_array_less(q_sd, exact_sd)


def test_kl_is_added_once_and_divided_by_n(correlated_regression):
    phi, y = correlated_regression
    n = len(y)
    # a near-deterministic posterior (sd 2e-5) makes the NLL term reproducible
    layer = dense_variational(1, n, prior_scale=2.0, posterior_initial_scale=2e-5, use_bias=True)
    model = _regression_model(layer, 3)
    model.compile(keras.optimizers.Adam(0.01), loss=negative_log_likelihood)
    model(phi)
    assert len(model.losses) == 1
    q = weight_posterior(layer)
    assert q.event_shape == (4,)  # 3 kernel weights + 1 bias
    kl = tfd.kl_divergence(q, tfd.Independent(tfd.Normal(tf.zeros(4), 2.0), 1)).numpy()
    assert model.losses[0].numpy() == pytest.approx(kl / n, rel=1e-5)

    # the Keras loss per example is mean NLL + KL / N: the negative ELBO divided by N
    w = q.mean().numpy()
    nll = -tfd.Normal(phi @ w[:3] + w[3], NOISE_PRECISION**-0.5).log_prob(y).numpy().mean()
    assert model.evaluate(phi, y, batch_size=n, verbose=0) == pytest.approx(nll + kl / n, rel=1e-3)


def test_flipout_kernel_kl_is_divided_by_n(correlated_regression):
    phi, _ = correlated_regression
    layer = dense_flipout(2, 40, prior_scale=0.5)
    layer(phi)
    assert len(layer.losses) == 1  # point-estimate bias: no bias KL
    prior = tfd.Independent(tfd.Normal(tf.zeros([3, 2]), 0.5), 2)
    kl = tfd.kl_divergence(weight_posterior(layer), prior).numpy()
    assert layer.losses[0].numpy() == pytest.approx(kl / 40, rel=1e-5)


def test_posterior_starts_at_the_initial_scale_and_priors_have_the_right_variables():
    layer = dense_variational(3, 100, posterior_initial_scale=0.05, prior_scale=1.5)
    layer(tf.zeros([2, 4]))
    q = weight_posterior(layer)
    assert q.event_shape == (4 * 3 + 3,)
    np.testing.assert_allclose(q.stddev(), 0.05, rtol=0.1)  # random init perturbs rho slightly
    assert len(layer.trainable_weights) == 1  # the posterior's (mu, rho); the fixed prior has none

    prior = make_prior_fn(1.5, trainable=True)(12, 3, tf.float32)(tf.zeros([2, 4]))
    np.testing.assert_allclose(prior.stddev(), 1.5, rtol=1e-5)
    learned = make_prior_fn(1.5, trainable=True)(12, 3, tf.float32)
    learned(tf.zeros([2, 4]))
    assert [v.shape for v in learned.trainable_weights] == [(1,)]  # one shared scale


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: dense_variational(1, 0), ValueError, "n_train"),
        (lambda: dense_flipout(1, 10, prior_scale=-1.0), ValueError, "prior_scale"),
        (lambda: make_posterior_fn(initial_scale=1e-6), ValueError, "initial_scale must be > min_scale"),
        (lambda: make_prior_fn(trainable="yes"), TypeError, "trainable"),
        (lambda: weight_posterior(keras.layers.Dense(1)), TypeError, "DenseVariational or DenseFlipout"),
        (lambda: weight_posterior(dense_variational(1, 10)), ValueError, "must be built"),
    ],
)
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
