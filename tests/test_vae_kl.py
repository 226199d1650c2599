"""KL(q || p) for the VAE posterior: the exact value agrees with a Monte-Carlo estimate.

Tolerance: the MC mean of S draws of log q(z) - log p(z) has standard error sd / sqrt(S); each
of the B examples is checked at 4.5 standard errors, so a correct KL fails with probability
< B * 7e-6 (two-sided Normal tail), while a wrong sign or a missing term is off by many errors.
"""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from bdl_tf.vae import kl_divergence

tfd, tfpl = tfp.distributions, tfp.layers
LATENT, BATCH, DRAWS = 5, 4, 20000


def _posteriors():
    params = tf.random.stateless_normal([BATCH, 2 * LATENT], seed=[1, 2])
    diagonal = tfpl.IndependentNormal.new(params, LATENT)
    tril_params = tf.random.stateless_normal([BATCH, tfpl.MultivariateNormalTriL.params_size(LATENT)], seed=[3, 4])
    full = tfpl.MultivariateNormalTriL.new(tril_params, LATENT)
    return diagonal, full


def _standard_normal(full):
    zeros = tf.zeros(LATENT)
    if full:
        return tfd.MultivariateNormalDiag(zeros, tf.ones(LATENT))
    return tfd.Independent(tfd.Normal(zeros, 1.0), 1)


def _mc(q, p):
    z = q.sample(DRAWS, seed=[5, 6])
    log_ratio = (q.log_prob(z) - p.log_prob(z)).numpy()
    return log_ratio.mean(axis=0), log_ratio.std(axis=0, ddof=1) / np.sqrt(DRAWS)


@pytest.mark.parametrize("full", [False, True], ids=["diagonal", "full_covariance"])
def test_exact_kl_matches_monte_carlo(full):
    q = _posteriors()[int(full)]
    p = _standard_normal(full)
    exact = kl_divergence(q, p).numpy()
    estimate, standard_error = _mc(q, p)
    assert exact.shape == (BATCH,) and np.all(exact > 0)
    np.testing.assert_array_less(np.abs(exact - estimate), 4.5 * standard_error)


def test_diagonal_kl_has_the_closed_form():
    """KL(N(mu, s^2) || N(0, 1)) = 1/2 sum(mu^2 + s^2 - 1 - log s^2), the formula on the VAE slides."""
    q = _posteriors()[0]
    mu, s = q.mean().numpy(), q.stddev().numpy()
    closed_form = 0.5 * np.sum(mu**2 + s**2 - 1.0 - np.log(s**2), axis=-1)
    np.testing.assert_allclose(kl_divergence(q, _standard_normal(False)).numpy(), closed_form, rtol=1e-5)


def test_unregistered_pair_falls_back_to_the_sample_estimate():
    q = _posteriors()[1]  # MultivariateNormalTriL || Independent(Normal): TFP has no exact KL
    p = _standard_normal(False)
    z = q.sample(DRAWS, seed=[5, 6])
    fallback = kl_divergence(q, p, z).numpy()
    np.testing.assert_allclose(fallback, tf.reduce_mean(q.log_prob(z) - p.log_prob(z), 0).numpy(), rtol=1e-6)
    exact = kl_divergence(q, _standard_normal(True)).numpy()
    _, standard_error = _mc(q, p)
    np.testing.assert_array_less(np.abs(exact - fallback), 4.5 * standard_error)
    one_draw = kl_divergence(q, p, z[0]).numpy()
    assert one_draw.shape == (BATCH,)
    with pytest.raises(ValueError, match="pass samples z"):
        kl_divergence(q, p)
