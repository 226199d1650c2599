"""Encoder/decoder builders, the autoencoder, and argument checking of the VAE models (tiny, fast)."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf import set_seed
from bdl_tf.datasets.mnist import load_offline_digits
from bdl_tf.vae import CVAE, VAE, Autoencoder, conv_decoder, conv_encoder, dense_decoder, dense_encoder

tfd = tfp.distributions
SHAPE = (8, 8, 1)


@pytest.mark.parametrize("build", [dense_encoder, conv_encoder])
@pytest.mark.parametrize("posterior, distribution", [("diagonal", tfd.Independent), ("full", tfd.MultivariateNormalTriL)])
def test_encoders_output_the_posterior(build, posterior, distribution):
    encoder = build(SHAPE, 3, posterior=posterior)
    q = encoder(np.zeros((5, *SHAPE), np.float32))
    assert isinstance(q.tensor_distribution, distribution)
    assert q.batch_shape == (5,) and q.event_shape == (3,)
    assert tf.convert_to_tensor(q).shape == (5, 3)  # as a tensor: a reparameterised sample


@pytest.mark.parametrize("build", [dense_decoder, conv_decoder])
@pytest.mark.parametrize("likelihood", ["bernoulli", "normal"])
def test_decoders_output_the_likelihood(build, likelihood):
    decoder = build(3, SHAPE, likelihood=likelihood)
    p = decoder(np.zeros((5, 3), np.float32))
    assert p.batch_shape == (5,) and p.event_shape == SHAPE
    assert p.log_prob(np.zeros((5, *SHAPE), np.float32)).shape == (5,)
    assert tf.convert_to_tensor(p).shape == (5, *SHAPE)  # as a tensor: the mean image


def test_conditional_and_deterministic_networks():
    encoder = conv_encoder(SHAPE, 2, filters=(4, 4), posterior=None, condition_dim=10)
    assert encoder([np.zeros((2, *SHAPE)), np.zeros((2, 10))]).shape == (2, 2)
    decoder = dense_decoder(2, SHAPE, hidden_units=(), likelihood=None, condition_dim=10)
    image = decoder([np.zeros((2, 2)), np.zeros((2, 10))]).numpy()
    assert image.shape == (2, *SHAPE) and np.all((image > 0) & (image < 1))  # sigmoid output


def test_normal_likelihood_learns_its_scale():
    set_seed(0)
    x = np.random.default_rng(0).normal(0.5, 0.05, size=(256, *SHAPE)).astype(np.float32)
    vae = VAE(dense_encoder(SHAPE, 2, (16,)), dense_decoder(2, SHAPE, (16,), likelihood="normal"))
    scale = vae.decoder.get_layer("learned_scale")
    np.testing.assert_allclose(scale.scale().numpy(), 1.0, rtol=1e-5)  # initial_scale
    vae.compile(keras.optimizers.Adam(0.05))
    vae.fit(x, epochs=10, batch_size=64, verbose=0)
    # The data's standard deviation is 0.05: the learned scale must have left 1.0 far behind.
    assert np.all(scale.scale().numpy() < 0.5) and np.all(scale.scale().numpy() >= scale.min_scale)


def test_full_covariance_vae_trains():
    set_seed(0)
    x = (np.random.default_rng(0).random((256, *SHAPE)) < 0.3).astype(np.float32)
    vae = VAE(dense_encoder(SHAPE, 3, (16,), posterior="full"), dense_decoder(3, SHAPE, (16,)))
    vae.compile(keras.optimizers.Adam(1e-2))
    history = vae.fit(x, epochs=4, batch_size=64, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    assert isinstance(vae.prior(), tfd.MultivariateNormalDiag)  # the form with an exact KL to MVNTriL


def test_conv_autoencoder_learns_to_reconstruct():
    set_seed(0)
    data = load_offline_digits("sklearn")
    ae = Autoencoder(conv_encoder(SHAPE, 8, (8, 16), posterior=None), conv_decoder(8, SHAPE, (16, 8), likelihood=None))
    ae.compile(keras.optimizers.Adam(5e-3), loss="binary_crossentropy")
    before = np.mean((ae.reconstruct(data.x_test) - data.x_test) ** 2)
    ae.fit(data.x_train, data.x_train, epochs=8, batch_size=64, verbose=0)
    after = np.mean((ae.reconstruct(data.x_test) - data.x_test) ** 2)
    assert after < 0.5 * before
    assert ae.embed(data.x_test[:3]).shape == (3, 8)
    assert ae.interpolate(data.x_test[0], data.x_test[1], steps=4).shape == (4, *SHAPE)


def test_builder_argument_errors():
    with pytest.raises(ValueError, match="latent_dim"):
        dense_encoder(SHAPE, 0)
    with pytest.raises(ValueError, match="posterior"):
        dense_encoder(SHAPE, 2, posterior="diag")
    with pytest.raises(ValueError, match="likelihood"):
        dense_decoder(2, SHAPE, likelihood="gaussian")
    with pytest.raises(ValueError, match="input_shape"):
        conv_encoder((64,), 2)
    with pytest.raises(TypeError, match="input_shape"):
        dense_encoder(None, 2)
    with pytest.raises(ValueError, match="hidden_units"):
        dense_decoder(2, SHAPE, hidden_units=(16, 0))
    with pytest.raises(ValueError, match="divisible by 2\\*\\*len\\(filters\\) = 8"):
        conv_decoder(2, (28, 28, 1), filters=(8, 8, 8))
    with pytest.raises(ValueError, match="condition_dim"):
        dense_encoder(SHAPE, 2, condition_dim=0)
    with pytest.raises(ValueError, match="min_scale"):
        from bdl_tf.vae import LearnedScale

        LearnedScale(min_scale=-1.0)


def test_model_argument_errors():
    vae_parts = (dense_encoder(SHAPE, 2), dense_decoder(2, SHAPE))
    with pytest.raises(TypeError, match="encoder must end in a tfp.layers distribution layer"):
        VAE(dense_encoder(SHAPE, 2, posterior=None), vae_parts[1])
    with pytest.raises(TypeError, match="Autoencoder needs deterministic networks"):
        Autoencoder(*vae_parts)
    with pytest.raises(ValueError, match="encoder output size \\(3\\) must equal .* \\(2\\)"):
        VAE(dense_encoder(SHAPE, 3), vae_parts[1])
    with pytest.raises(ValueError, match="beta"):
        VAE(*vae_parts, beta=-1.0)
    with pytest.raises(ValueError, match="needs a conditional"):
        CVAE(*vae_parts)
    with pytest.raises(ValueError, match="needs an unconditional"):
        VAE(dense_encoder(SHAPE, 2, condition_dim=3), dense_decoder(2, SHAPE, condition_dim=3))
    with pytest.raises(TypeError, match="decoder must be a tf_keras.Model"):
        VAE(vae_parts[0], "decoder")
    with pytest.raises(TypeError, match="Keras 3 model"):
        import keras as keras3

        VAE(vae_parts[0], keras3.Sequential([keras3.Input((2,)), keras3.layers.Dense(3)]))
    vae = VAE(*vae_parts)
    vae.compile("adam")
    with pytest.raises(ValueError, match="call fit\\(x\\), not fit\\(x, y\\)"):
        vae.fit(np.zeros((4, *SHAPE)), np.zeros(4), verbose=0)
    with pytest.raises(ValueError, match="num_samples"):
        vae.sample(0)
    with pytest.raises(TypeError, match="x must be an array of numbers"):
        vae.embed("images")
    with pytest.raises(ValueError, match="NaN"):
        vae.embed(np.full((1, *SHAPE), np.nan))
