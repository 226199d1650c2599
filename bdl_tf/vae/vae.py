"""Variational autoencoder (Kingma & Welling 2014) trained on the negative ELBO.

log p(x) >= ELBO = E_{q(z|x)}[log p(x|z)] - KL(q(z|x) || p(z)),  p(z) = N(0, I).

The encoder outputs q(z|x) and the decoder p(x|z) as TFP distributions (DistributionLambda layers,
see :mod:`bdl_tf.vae.networks`). The training loss per example is the beta-weighted negative ELBO
-E_q[log p(x|z)] + beta * KL(q || p) (beta = 1: the ELBO; beta > 1: beta-VAE, Higgins et al. 2017),
with z drawn by the reparameterisation trick and the KL exact where TFP has it.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras as keras
from scipy.special import ndtri

from bdl_tf._random import stateless_seed
from bdl_tf._validation import check_positive_int, check_real, check_tensor_condition
from bdl_tf.vae.base import EncoderDecoder, as_inputs
from bdl_tf.vae.divergence import kl_divergence

tfd = tfp.distributions
tfpl = tfp.layers

__all__ = ["VAE"]


@keras.saving.register_keras_serializable(package="bdl_tf")
class VAE(EncoderDecoder):
    """VAE from an encoder x -> q(z|x) and a decoder z -> p(x|z).

    ``fit(x)`` minimises -E_q[log p(x|z)] + beta * KL(q || p) and reports, per example in nats:
    ``loss`` (that objective), ``reconstruction_loss`` (-E_q[log p(x|z)], one sample of z),
    ``kl`` (KL(q || p)) and ``elbo`` (-reconstruction_loss - kl, the bound itself for any beta).

    Example::

        vae = VAE(dense_encoder((28, 28, 1), 2), dense_decoder(2, (28, 28, 1)))
        vae.compile(keras.optimizers.Adam(1e-3))
        vae.fit(x_binary, epochs=10, batch_size=100)
        images = vae.sample(16)                    # mean of p(x|z), z ~ N(0, I)

    Args:
        encoder: tf_keras model x -> q(z|x) ending in a tfp.layers distribution layer.
        decoder: tf_keras model z -> p(x|z) ending in a tfp.layers distribution layer.
        beta: weight of the KL term (>= 0).
    """

    def __init__(self, encoder, decoder, beta=1.0, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        for name, network in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(network.layers[-1], tfpl.DistributionLambda):
                raise TypeError(
                    f"{name} must end in a tfp.layers distribution layer (q(z|x) or p(x|z)), got "
                    f"{type(network.layers[-1]).__name__}; build it with posterior=/likelihood= set, "
                    "or use bdl_tf.vae.Autoencoder for deterministic networks"
                )
        self.beta = check_real("beta", beta, 0.0)
        # The prior N(0, I) in the form for which TFP registers an exact KL with the posterior.
        self._full_covariance = isinstance(encoder.layers[-1], tfpl.MultivariateNormalTriL)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.elbo_tracker = keras.metrics.Mean(name="elbo")

    def prior(self):
        """p(z) = N(0, I) over the latent space."""
        zeros = tf.zeros(self.latent_dim)
        if self._full_covariance:
            return tfd.MultivariateNormalDiag(loc=zeros, scale_diag=tf.ones(self.latent_dim))
        return tfd.Independent(tfd.Normal(zeros, 1.0), reinterpreted_batch_ndims=1)

    # -- distributions ---------------------------------------------------------------------------
    def encode(self, x, labels=None):
        """q(z|x) as a TFP distribution with batch shape (n,) and event shape (latent_dim,)."""
        x = tf.convert_to_tensor(as_inputs("x", x, self.input_example_shape), tf.float32)
        return self.encoder(self._network_inputs(x, self._condition(labels, tf.shape(x)[0])))

    def decode(self, z, labels=None):
        """p(x|z) as a TFP distribution with batch shape (n,) and the image as event shape."""
        z = tf.convert_to_tensor(as_inputs("z", z, (self.latent_dim,)), tf.float32)
        return self.decoder(self._network_inputs(z, self._condition(labels, tf.shape(z)[0])))

    def _check_data(self, x):
        """x must be finite, and in [0, 1] for a Bernoulli decoder (its log-likelihood of other
        values is a finite, meaningless number). Returns the checks to run (graph mode)."""
        checks = [check_tensor_condition(tf.math.is_finite(x), "x contains NaN or infinite values")]
        if isinstance(self.decoder.layers[-1], tfpl.IndependentBernoulli):
            inside = (x >= 0.0) & (x <= 1.0)
            checks.append(check_tensor_condition(inside, "x must hold pixel values in [0, 1] for a Bernoulli decoder"))
        return [check for check in checks if check is not None]

    def _decode_log_prob(self, z, x, condition):
        """log p(x|z_s) for samples z of shape (S, n, latent) -> (S, n), decoding S*n codes at once."""
        with tf.control_dependencies(self._check_data(x)):
            x = tf.identity(x)
        num_samples = tf.shape(z)[0]
        flat_z = tf.reshape(z, [-1, self.latent_dim])
        tiled_x = tf.tile(x, tf.concat([[num_samples], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0))
        if condition is not None:
            condition = tf.tile(condition, [num_samples, 1])
        log_prob = self.decoder(self._network_inputs(flat_z, condition)).log_prob(tiled_x)
        return tf.reshape(log_prob, [num_samples, -1])

    def elbo_terms(self, x, labels=None, num_samples=1, seed=None):
        """Per-example (reconstruction loss, KL) in nats: -1/S sum_s log p(x|z_s) with z_s ~ q(z|x)
        reparameterised, and KL(q(z|x) || p(z)), exact where TFP has it, else estimated from the z_s."""
        num_samples = check_positive_int("num_samples", num_samples)
        x = tf.convert_to_tensor(as_inputs("x", x, self.input_example_shape), tf.float32)
        condition = self._condition(labels, tf.shape(x)[0])
        posterior = self.encoder(self._network_inputs(x, condition))
        z = posterior.sample(num_samples, seed=stateless_seed(seed))
        reconstruction = -tf.reduce_mean(self._decode_log_prob(z, x, condition), axis=0)
        return reconstruction, kl_divergence(posterior, self.prior(), z)

    def log_importance_weights(self, x, labels=None, num_samples=1, seed=None):
        """log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x), z_k ~ q(z|x): shape (num_samples, n)."""
        num_samples = check_positive_int("num_samples", num_samples)
        x = tf.convert_to_tensor(as_inputs("x", x, self.input_example_shape), tf.float32)
        condition = self._condition(labels, tf.shape(x)[0])
        posterior = self.encoder(self._network_inputs(x, condition))
        z = posterior.sample(num_samples, seed=stateless_seed(seed))
        return self._decode_log_prob(z, x, condition) + self.prior().log_prob(z) - posterior.log_prob(z)

    # -- Keras training ----------------------------------------------------------------------------
    def call(self, inputs):
        """The reconstruction distribution p(x|z), z ~ q(z|x) (a tensor: its mean image)."""
        return self.decode(self.encode(inputs))

    def _unpack(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if sample_weight is not None:
            raise ValueError(f"{type(self).__name__} does not take sample weights")
        if y is not None:
            raise ValueError("a VAE learns from x alone: call fit(x), not fit(x, y)")
        return x, None

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker, self.elbo_tracker]

    def _objective(self, data):
        x, labels = self._unpack(data)
        reconstruction, kl = self.elbo_terms(x, labels)
        loss = tf.reduce_mean(reconstruction + self.beta * kl)
        if self.losses:
            loss += tf.add_n(self.losses)
        return loss, reconstruction, kl

    def _report(self, loss, reconstruction, kl):
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.elbo_tracker.update_state(-(reconstruction + kl))
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss, reconstruction, kl = self._objective(data)
            # Each replica of a tf.distribute strategy sees its share of the batch and the optimizer
            # sums their gradients: divide so that the update is that of the whole-batch mean.
            replica_loss = loss / tf.distribute.get_strategy().num_replicas_in_sync
        self.optimizer.minimize(replica_loss, self.trainable_variables, tape=tape)
        return self._report(loss, reconstruction, kl)

    def test_step(self, data):
        return self._report(*self._objective(data))

    # -- generation ----------------------------------------------------------------------------
    def _embed_batch(self, x, condition):
        return self.encoder(self._network_inputs(x, condition)).mean()

    def _generate_batch(self, z, condition):
        return self.decoder(self._network_inputs(z, condition)).mean()

    def sample(self, num_samples, labels=None, seed=None, mean=True):
        """New images from the model: z ~ p(z) = N(0, I), then the mean of p(x|z) (``mean=True``,
        e.g. pixel probabilities) or a draw x ~ p(x|z). Returns (num_samples, *image_shape)."""
        num_samples = check_positive_int("num_samples", num_samples)
        seed = stateless_seed(seed)
        seed_z, seed_x = (None, None) if seed is None else tfp.random.split_seed(seed, n=2)
        z = self.prior().sample(num_samples, seed=seed_z)
        likelihood = self.decode(z, labels)
        return np.asarray(likelihood.mean() if mean else likelihood.sample(seed=seed_x))

    def latent_grid(self, grid_size=15, dims=(0, 1), labels=None, quantiles=(0.05, 0.95)):
        """The latent manifold picture of Kingma & Welling (2014, Fig. 4): a ``grid_size`` x
        ``grid_size`` grid of equally spaced probabilities in ``quantiles``, mapped through the
        inverse Normal CDF, so each cell covers equal prior mass; the two latent dimensions ``dims``
        vary and the others stay at 0. Returns (grid_size, grid_size, *image_shape); row i, column j
        has z[dims[0]] = c_j and z[dims[1]] = c_{grid_size - 1 - i} (the second coordinate grows upward).
        """
        grid_size = check_positive_int("grid_size", grid_size)
        dims = tuple(dims)
        if len(dims) != 2 or len(set(dims)) != 2 or not all(
            isinstance(d, (int, np.integer)) and 0 <= d < self.latent_dim for d in dims
        ):
            raise ValueError(f"dims must be two different integers in [0, {self.latent_dim}), got {dims!r}")
        low, high = quantiles
        if not 0.0 < low < high < 1.0:
            raise ValueError(f"quantiles must satisfy 0 < low < high < 1, got {quantiles!r}")
        coords = ndtri(np.linspace(low, high, grid_size)).astype(np.float32)
        z = np.zeros((grid_size, grid_size, self.latent_dim), dtype=np.float32)
        z[:, :, dims[0]] = coords[None, :]
        z[:, :, dims[1]] = coords[::-1, None]
        images = self.generate(z.reshape(-1, self.latent_dim), labels)
        return images.reshape(grid_size, grid_size, *images.shape[1:])

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}
