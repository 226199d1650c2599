"""posterior_grid against closed forms: a VAE with a linear Gaussian decoder is probabilistic PCA,
p(x|z) = N(W^T z + b, sigma^2 I) with p(z) = N(0, I), so p(x) = N(b, W^T W + sigma^2 I) and
p(z|x) = N(P^-1 W (x - b) / sigma^2, P^-1) with P = I + W W^T / sigma^2 (Tipping & Bishop 1999)."""
import numpy as np
import pytest
import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf import set_seed
from bdl_tf.vae import CVAE, VAE, dense_decoder, dense_encoder, posterior_grid

tfd = tfp.distributions
DIM = 5


def _linear_gaussian_vae(latent_dim, seed=0):
    """Linear encoder (an arbitrary Gaussian q) and linear-Gaussian decoder with known W, b, sigma."""
    set_seed(seed)
    rng = np.random.default_rng(seed)
    decoder = dense_decoder(latent_dim, (DIM,), hidden_units=(), likelihood="normal")
    kernel = 0.8 * rng.normal(size=(latent_dim, DIM))
    bias = rng.normal(size=DIM)
    decoder.get_layer("pixel_params").set_weights([kernel, bias])
    sigma = decoder.get_layer("learned_scale").scale().numpy()
    encoder = dense_encoder((DIM,), latent_dim, hidden_units=())
    encoder.set_weights([0.2 * w for w in encoder.get_weights()])  # q(z|x) well inside the grid
    vae = VAE(encoder, decoder)
    x = (bias + rng.normal(size=(6, latent_dim)) @ kernel + rng.normal(size=(6, DIM))).astype(np.float32)
    return vae, x, kernel, bias, sigma


def _exact(kernel, bias, sigma, x):
    marginal = tfd.MultivariateNormalFullCovariance(bias, kernel.T @ kernel + np.diag(sigma**2))
    noise_precision = np.diag(1.0 / sigma**2)
    precision = np.eye(len(kernel)) + kernel @ noise_precision @ kernel.T
    covariance = np.linalg.inv(precision)
    means = (x - bias) @ noise_precision @ kernel.T @ covariance
    posterior = tfd.MultivariateNormalFullCovariance(means.astype(np.float32), covariance.astype(np.float32))
    return marginal.log_prob(x.astype(np.float64)).numpy(), posterior


@pytest.mark.parametrize("latent_dim, points", [(1, 801), (2, 151)])
def test_log_likelihood_posterior_and_kl_match_probabilistic_pca(latent_dim, points):
    vae, x, kernel, bias, sigma = _linear_gaussian_vae(latent_dim)
    grid = posterior_grid(vae, x, limit=6.0, points=points)
    log_px, posterior = _exact(kernel, bias, sigma, x)
    assert grid.z.shape == (points**latent_dim, latent_dim) and grid.log_joint.shape == (len(x), points**latent_dim)
    np.testing.assert_allclose(grid.log_likelihood, log_px, atol=1e-3)
    # the grid posterior is a normalised density and equals the exact Gaussian posterior
    np.testing.assert_allclose(grid.density.sum(axis=1) * grid.cell_volume, 1.0, atol=1e-6)
    exact_density = np.exp(posterior.log_prob(grid.z[:, None, :].astype(np.float32)).numpy().T)
    np.testing.assert_allclose(grid.density, exact_density, atol=2e-3 * exact_density.max())
    # the ELBO derivation's last term, KL(q || p(z|x)), by quadrature against the grid posterior,
    # matches TFP's closed form between the encoder's q and the exact posterior
    q = vae.encode(x)
    log_q = q.log_prob(grid.z[:, None, :].astype(np.float32)).numpy().T.astype(np.float64)
    kl_by_quadrature = np.sum(np.exp(log_q) * grid.cell_volume * (log_q - grid.log_density), axis=1)
    exact_kl = tfd.kl_divergence(tfd.MultivariateNormalDiag(q.mean(), q.stddev()), posterior).numpy()
    np.testing.assert_allclose(kl_by_quadrature, exact_kl, rtol=1e-3, atol=1e-4)


def test_bernoulli_decoder_takes_the_matrix_product_path_with_the_same_values():
    set_seed(3)
    vae = VAE(dense_encoder((6,), 2, (8,)), dense_decoder(2, (6,), (8,)))  # Bernoulli pixels
    x = (np.random.default_rng(0).random((7, 6)) < 0.5).astype(np.float32)
    grid = posterior_grid(vae, x, limit=3.0, points=9)
    nodes = grid.z[[0, 40, 80]].astype(np.float32)  # a corner, the centre, the other corner
    direct = vae.decode(nodes).log_prob(x[:, None, :]).numpy() + vae.prior().log_prob(nodes).numpy()
    np.testing.assert_allclose(grid.log_joint[:, [0, 40, 80]], direct, rtol=1e-5, atol=1e-4)
    assert grid.log_likelihood.shape == (7,) and np.all(grid.log_likelihood < 0)


def test_2d_grid_layout_is_row_major_in_z0():
    vae, x, *_ = _linear_gaussian_vae(2)
    grid = posterior_grid(vae, x[:2], limit=3.0, points=7)
    np.testing.assert_allclose(grid.axis, np.linspace(-3, 3, 7))
    np.testing.assert_allclose(grid.z.reshape(7, 7, 2)[:, 0, 0], grid.axis)  # z[0] along the rows
    np.testing.assert_allclose(grid.z.reshape(7, 7, 2)[0, :, 1], grid.axis)
    assert grid.cell_volume == pytest.approx(1.0)


def test_arguments_are_checked():
    vae, x, *_ = _linear_gaussian_vae(2)
    with pytest.raises(ValueError, match="points"):
        posterior_grid(vae, x, points=1)
    with pytest.raises(ValueError, match="limit"):
        posterior_grid(vae, x, limit=-1.0)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 5\)"):
        posterior_grid(vae, x[:, :3])
    with pytest.raises(TypeError, match="unconditional"):
        posterior_grid(keras.Sequential(), x)
    cvae = CVAE(dense_encoder((DIM,), 2, (), condition_dim=3), dense_decoder(2, (DIM,), (), condition_dim=3))
    with pytest.raises(TypeError, match="unconditional"):
        posterior_grid(cvae, x)
    three = VAE(dense_encoder((DIM,), 3, ()), dense_decoder(3, (DIM,), ()))
    with pytest.raises(ValueError, match="1 or 2 dimensions"):
        posterior_grid(three, x)
