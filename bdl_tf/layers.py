"""Dropout layers that stay on at inference, so every forward pass samples new weights.

Monte-Carlo dropout (Gal & Ghahramani 2016) reads dropout as variational inference with a
Bernoulli distribution over the weights: each forward pass with a fresh mask is one sample
theta_t ~ q(theta), and p(y|x) ~ 1/T sum_t p(y|x, theta_t).  The layers here are Keras' dropout
layers (same arguments, configs and noise shapes) that are on whatever ``training`` says, with
masks drawn from 16 random bits each (:func:`bernoulli_dropout`); concrete dropout learns the rate.
"""
from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf._validation import check_positive, check_positive_int, check_rate

tfd = tfp.distributions

__all__ = [
    "bernoulli_dropout",
    "keep_probability",
    "per_call_seed",
    "random_uint16",
    "MCDropout",
    "MCSpatialDropout1D",
    "MCSpatialDropout2D",
    "MCSpatialDropout3D",
    "ConcreteDropout",
]


#: Random bits per mask entry: the keep probability is a multiple of 2^-MASK_BITS.
MASK_BITS = 16
_MASK_LEVELS = 2**MASK_BITS


def keep_probability(rate: float) -> float:
    """The keep probability q the masks realise for a dropout ``rate`` p: round((1 - p) 2^16) / 2^16.

    |q - (1 - p)| <= 2^-17; a rate below 2^-17 rounds to q = 1 (no dropout) and a rate within 2^-17
    of 1 to q = 2^-16, the smallest positive level.
    """
    rate = check_rate("rate", rate)
    return max(1, min(_MASK_LEVELS, round((1.0 - rate) * _MASK_LEVELS))) / _MASK_LEVELS


def bernoulli_dropout(inputs, rate: float, noise_shape=None, seed: int | None = None):
    """Inverted dropout x * m / q with m ~ Bernoulli(q) i.i.d., q = :func:`keep_probability` (rate).

    Each mask entry is 16 random bits u (two per 32-bit Philox output) and m = [u < q 2^16]: exactly
    Bernoulli(q), independent across entries and calls; dividing by q keeps E[output] = x.  Half the
    random bits of a float32 uniform per entry, then a compare, a cast and a multiply: about half the
    overhead of float masks, still short of free (``benchmarks/mc_sampling.py`` measures it).  Every
    call draws a fresh stateless seed (:func:`per_call_seed`), so ``set_seed`` (or ``seed``)
    reproduces the masks.

    Args:
        inputs: a float tensor.
        rate: the dropout rate p in [0, 1).
        noise_shape: the mask's shape, broadcast against ``inputs`` (default: the inputs' shape).
        seed: an op-level seed for the per-call seeds, or None.
    """
    inputs = tf.convert_to_tensor(inputs)
    keep = keep_probability(rate)
    if keep == 1.0:
        return tf.identity(inputs)
    shape = tf.shape(inputs) if noise_shape is None else tf.cast(noise_shape, tf.int32)
    bits = random_uint16(shape, per_call_seed(seed))
    kept = bits < tf.constant(round(keep * _MASK_LEVELS), tf.uint16)
    return inputs * (tf.cast(kept, inputs.dtype) * (1.0 / keep))


def per_call_seed(seed: int | None = None):
    """A fresh stateless seed pair, int32 [2], drawn from TensorFlow's stateful generator (an op-level
    ``seed`` under the global one of ``set_seed``): every call, and every pass of a compiled loop, differs."""
    return tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32, seed=seed)


def random_uint16(shape, seed):
    """Uniform 16-bit integers of the given shape, two per 32-bit word of the Philox generator."""
    size = tf.reduce_prod(shape)
    words = tf.random.stateless_uniform([(size + 1) // 2], seed, minval=None, maxval=None, dtype=tf.int32)
    bits = tf.reshape(tf.bitcast(words, tf.uint16), [-1])
    return tf.reshape(bits[:size], shape)


class _AlwaysOn:
    """Mixin: a Keras dropout layer that drops units whether or not Keras says it is training."""

    def __init__(self, rate, *args, **kwargs):
        check_rate("rate", rate)
        super().__init__(rate, *args, **kwargs)

    def call(self, inputs, training=None):  # `training` ignored on purpose: always on
        return bernoulli_dropout(inputs, self.rate, self._get_noise_shape(inputs), self.seed)


@keras.saving.register_keras_serializable(package="bdl_tf")
class MCDropout(_AlwaysOn, keras.layers.Dropout):
    """Bernoulli dropout that is on in training and at inference (Monte-Carlo dropout).

    Each unit is kept with probability q = 1 - rate (to 2^-16, :func:`keep_probability`) and scaled
    by 1 / q, independently for every example and every call, so T calls give T samples from the
    dropout posterior.  Arguments as ``keras.layers.Dropout`` (rate in [0, 1)).
    """


@keras.saving.register_keras_serializable(package="bdl_tf")
class MCSpatialDropout1D(_AlwaysOn, keras.layers.SpatialDropout1D):
    """Always-on dropout of whole 1-D feature maps (channels) of a (batch, steps, channels) input."""


@keras.saving.register_keras_serializable(package="bdl_tf")
class MCSpatialDropout2D(_AlwaysOn, keras.layers.SpatialDropout2D):
    """Always-on dropout of whole 2-D feature maps, for conv nets (Tompson et al. 2015)."""


@keras.saving.register_keras_serializable(package="bdl_tf")
class MCSpatialDropout3D(_AlwaysOn, keras.layers.SpatialDropout3D):
    """Always-on dropout of whole 3-D feature maps."""


@keras.saving.register_keras_serializable(package="bdl_tf")
class ConcreteDropout(keras.layers.Wrapper):
    """Wraps a layer with always-on dropout on its input whose rate p is learned (Gal, Hron & Kendall 2017).

    The Bernoulli mask is relaxed to a Concrete (RelaxedBernoulli) one so p gets gradients. The layer
    adds the regulariser of the paper, the KL of q(W) to the prior up to constants, divided by N:

        weight_regularizer * ||W||^2 / (1 - p)  -  dropout_regularizer * K * H(p),

    with K the input dimension and H(p) the Bernoulli entropy.  The weights are those of the paper's
    code, weight_regularizer = l^2 / N and dropout_regularizer = 2 / (tau N) with tau = 1: twice
    KL / N (the KL is l^2 ||W||^2 / (2 (1 - p)) - K H(p) for the inverted-dropout kernel W), so
    against a loss of the mean NLL (e.g. a heteroscedastic Normal head) the prior counts double,
    as if the length-scale were sqrt(2) l and the entropy bonus twice the ELBO's.

    Args:
        layer: the layer whose input is dropped (e.g. ``Dense`` or ``Conv2D``); it must have a
            ``kernel`` once built.
        n_train: N, the number of training examples.
        length_scale: prior length-scale l (prior W ~ N(0, 1/l^2)).
        init_rate: initial dropout rate, in (0, 1).
        temperature: Concrete relaxation temperature (0.1 in the paper).
        spatial: drop whole input channels (for conv layers) instead of single units.
    """

    def __init__(
        self,
        layer,
        n_train,
        length_scale=1e-2,
        init_rate=0.1,
        temperature=0.1,
        spatial=False,
        **kwargs,
    ):
        if not isinstance(layer, keras.layers.Layer):
            raise TypeError(f"layer must be a tf_keras layer, got {type(layer).__name__}")
        super().__init__(layer, **kwargs)
        self.n_train = check_positive_int("n_train", n_train)
        self.length_scale = check_positive("length_scale", length_scale)
        self.init_rate = check_rate("init_rate", init_rate)
        if self.init_rate == 0.0:
            raise ValueError("init_rate must be in (0, 1), got 0")
        self.temperature = check_positive("temperature", temperature)
        self.spatial = bool(spatial)
        self.weight_regularizer = self.length_scale**2 / self.n_train
        self.dropout_regularizer = 2.0 / self.n_train

    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        if not self.layer.built:
            self.layer.build(input_shape)
        if not hasattr(self.layer, "kernel"):
            raise TypeError(
                f"ConcreteDropout needs a layer with a kernel (Dense, Conv...), got {type(self.layer).__name__}"
            )
        init_logit = tf.math.log(self.init_rate) - tf.math.log1p(-self.init_rate)
        self.rate_logit = self.add_weight(
            name="rate_logit",
            shape=(),
            initializer=keras.initializers.Constant(float(init_logit)),
            trainable=True,
        )
        self.input_dim = int(input_shape[-1])
        super().build(input_shape)

    @property
    def rate(self):
        """The current dropout rate p = sigmoid(rate_logit)."""
        return tf.sigmoid(self.rate_logit)

    def _regularizer(self, p):
        kernel_term = self.weight_regularizer * tf.reduce_sum(tf.square(self.layer.kernel)) / (1.0 - p)
        entropy = tfd.Bernoulli(probs=p).entropy()
        return kernel_term - self.dropout_regularizer * self.input_dim * entropy

    def _dropped(self, inputs, p):
        shape = tf.shape(inputs)
        if self.spatial:
            rank = len(inputs.shape)
            shape = tf.concat([shape[:1], tf.ones([rank - 2], tf.int32), shape[-1:]], axis=0)
        # Concrete relaxation of a Bernoulli(p) drop mask, sigmoid((logit p + logit u) / t) with
        # u ~ U(0, 1): the Logistic reparameterisation of tfd.RelaxedBernoulli, written out with
        # an epsilon so that u or p at 0 or 1 cannot give infinite logits and NaN gradients.
        u = tf.random.uniform(shape, dtype=inputs.dtype)
        eps = 1e-7
        logit = tf.math.log(p + eps) - tf.math.log1p(eps - p) + tf.math.log(u + eps) - tf.math.log1p(eps - u)
        drop = tf.sigmoid(logit / self.temperature)
        return inputs * (1.0 - drop) / (1.0 - p)

    def call(self, inputs, training=None):  # `training` ignored: always on
        p = self.rate
        self.add_loss(self._regularizer(p))
        return self.layer(self._dropped(inputs, p))

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            n_train=self.n_train,
            length_scale=self.length_scale,
            init_rate=self.init_rate,
            temperature=self.temperature,
            spatial=self.spatial,
        )
        return config
