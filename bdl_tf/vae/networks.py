"""Encoder and decoder networks for autoencoders and VAEs: dense or convolutional bodies with a head.

Encoders map an image x (and, for a conditional model, a condition vector c) to
- a deterministic code z = f(x) (``posterior=None``, the autoencoder), or
- a posterior q(z|x) = N(mu(x), Sigma(x)) as a TFP distribution: diagonal Sigma
  (``posterior="diagonal"``, ``tfpl.IndependentNormal``) or full Sigma = L L^T
  (``posterior="full"``, ``tfpl.MultivariateNormalTriL``). As a tensor it is a reparameterised
  sample z = mu + L eps, eps ~ N(0, I), so gradients flow through it.

Decoders map z (and c) to
- an image (``likelihood=None``, the autoencoder), or
- a likelihood p(x|z): ``"bernoulli"`` (binary pixels, ``tfpl.IndependentBernoulli`` on logits) or
  ``"normal"`` (continuous pixels, ``tfpl.IndependentNormal`` with one learned scale per pixel,
  shared by all inputs). As a tensor it is its mean, i.e. the expected image.

Convolutional encoders halve the resolution with each strided ``Conv2D``; convolutional decoders
mirror them with strided ``Conv2DTranspose`` layers (Kingma & Welling 2014; the lecture's AE/VAE).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf._validation import check_choice, check_positive, check_positive_int, check_shape
from bdl_tf.heads import positive_scale

tfd = tfp.distributions
tfpl = tfp.layers

__all__ = [
    "POSTERIORS",
    "LIKELIHOODS",
    "LearnedScale",
    "dense_encoder",
    "conv_encoder",
    "dense_decoder",
    "conv_decoder",
]

#: Encoder heads: ``None`` is a deterministic code (autoencoder).
POSTERIORS = (None, "diagonal", "full")
#: Decoder heads: ``None`` is a deterministic image (autoencoder).
LIKELIHOODS = (None, "bernoulli", "normal")


@keras.saving.register_keras_serializable(package="bdl_tf")
class LearnedScale(keras.layers.Layer):
    """Appends one learned scale per feature to its input, for ``tfpl.IndependentNormal``.

    Output [loc, s] where softplus(s) = min_scale + softplus(v) with a trainable v per feature:
    p(x|z) = N(loc(z), sigma^2) with sigma >= ``min_scale`` learned but the same for every input.
    The floor keeps the likelihood bounded on pixels that are constant in the data.
    """

    def __init__(self, min_scale=1e-2, initial_scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.min_scale = check_positive("min_scale", min_scale)
        self.initial_scale = check_positive("initial_scale", initial_scale)
        if self.initial_scale <= self.min_scale:
            raise ValueError(
                f"initial_scale must exceed min_scale={self.min_scale}, got {self.initial_scale}"
            )

    def build(self, input_shape):
        raw = float(tfp.math.softplus_inverse(self.initial_scale - self.min_scale))
        self.raw_scale = self.add_weight(
            name="raw_scale",
            shape=(int(input_shape[-1]),),
            initializer=keras.initializers.Constant(raw),
            trainable=True,
        )
        super().build(input_shape)

    def scale(self):
        """sigma = min_scale + softplus(v), one per feature."""
        return positive_scale(self.raw_scale, self.min_scale)

    def call(self, loc):
        # IndependentNormal applies softplus to its scale parameters: pass softplus^-1(sigma).
        param = tfp.math.softplus_inverse(self.scale())
        return tf.concat([loc, tf.broadcast_to(param, tf.shape(loc))], axis=-1)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape[:-1]).concatenate([2 * int(input_shape[-1])])

    def get_config(self):
        return {**super().get_config(), "min_scale": self.min_scale, "initial_scale": self.initial_scale}


def _inputs(shape, condition_dim, first_name):
    """The network's inputs: the main input and, for a conditional network, a condition vector c."""
    main = keras.Input(shape=shape, name=first_name)
    if condition_dim is None:
        return [main], None
    condition = keras.Input(shape=(check_positive_int("condition_dim", condition_dim),), name="condition")
    return [main, condition], condition


def _model(inputs, outputs, name):
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name=name)


def _posterior_head(features, latent_dim, posterior):
    """Flat features -> code z (posterior None), IndependentNormal or MultivariateNormalTriL q(z|x)."""
    if posterior is None:
        return keras.layers.Dense(latent_dim, name="code")(features)
    layer = tfpl.IndependentNormal if posterior == "diagonal" else tfpl.MultivariateNormalTriL
    params = keras.layers.Dense(layer.params_size(latent_dim), name="posterior_params")(features)
    return layer(latent_dim, name="posterior")(params)


def _likelihood_head(flat_params, output_shape, likelihood, output_activation):
    """One parameter per pixel -> image (likelihood None), Bernoulli(logits) or Normal(loc, learned sigma)."""
    if likelihood is None:
        image = keras.layers.Activation(output_activation, name="image_activation")(flat_params)
        return keras.layers.Reshape(output_shape, name="image")(image)
    if likelihood == "bernoulli":
        return tfpl.IndependentBernoulli(
            output_shape, convert_to_tensor_fn=tfd.Distribution.mean, name="likelihood"
        )(flat_params)
    params = LearnedScale(name="learned_scale")(flat_params)
    return tfpl.IndependentNormal(output_shape, convert_to_tensor_fn=tfd.Distribution.mean, name="likelihood")(params)


def _hidden(x, units, activation, prefix):
    for i, u in enumerate(units):
        x = keras.layers.Dense(u, activation=activation, name=f"{prefix}_dense_{i}")(x)
    return x


def dense_encoder(
    input_shape,
    latent_dim,
    hidden_units=(200, 200),
    activation="relu",
    posterior="diagonal",
    condition_dim=None,
    name="encoder",
):
    """Multilayer-perceptron encoder x (, c) -> q(z|x) or code, e.g. 784-200-200-latent (Burda et al. 2016).

    Args:
        input_shape: shape of one input, e.g. (28, 28, 1); flattened first.
        latent_dim: size of z.
        hidden_units: sizes of the hidden Dense layers.
        activation: their activation.
        posterior: ``"diagonal"``, ``"full"`` or ``None`` (deterministic code), see ``POSTERIORS``.
        condition_dim: size of the condition vector c for a conditional VAE (concatenated to x).
    """
    input_shape = check_shape("input_shape", input_shape)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    hidden_units = check_shape("hidden_units", hidden_units, min_rank=0)
    check_choice("posterior", posterior, POSTERIORS)
    inputs, condition = _inputs(input_shape, condition_dim, "x")
    h = keras.layers.Flatten(name="flatten")(inputs[0])
    if condition is not None:
        h = keras.layers.Concatenate(name="concat_condition")([h, condition])
    h = _hidden(h, hidden_units, activation, "encoder")
    return _model(inputs, _posterior_head(h, latent_dim, posterior), name)


def conv_encoder(
    input_shape,
    latent_dim,
    filters=(32, 64),
    kernel_size=3,
    activation="relu",
    posterior="diagonal",
    condition_dim=None,
    name="encoder",
):
    """Convolutional encoder: one strided Conv2D per entry of ``filters`` (each halves height and
    width), then a Dense head to q(z|x) or the code. The condition c joins the flattened features."""
    input_shape = check_shape("input_shape", input_shape, min_rank=3, max_rank=3)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    filters = check_shape("filters", filters)
    kernel_size = check_positive_int("kernel_size", kernel_size)
    check_choice("posterior", posterior, POSTERIORS)
    inputs, condition = _inputs(input_shape, condition_dim, "x")
    h = inputs[0]
    for i, f in enumerate(filters):
        h = keras.layers.Conv2D(f, kernel_size, strides=2, padding="same", activation=activation, name=f"conv_{i}")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    if condition is not None:
        h = keras.layers.Concatenate(name="concat_condition")([h, condition])
    return _model(inputs, _posterior_head(h, latent_dim, posterior), name)


def _decoder_inputs(latent_dim, condition_dim):
    inputs, condition = _inputs((check_positive_int("latent_dim", latent_dim),), condition_dim, "z")
    h = inputs[0] if condition is None else keras.layers.Concatenate(name="concat_condition")(inputs)
    return inputs, h


def dense_decoder(
    latent_dim,
    output_shape,
    hidden_units=(200, 200),
    activation="relu",
    likelihood="bernoulli",
    condition_dim=None,
    output_activation="sigmoid",
    name="decoder",
):
    """Multilayer-perceptron decoder z (, c) -> p(x|z) or image.

    Args:
        latent_dim: size of z.
        output_shape: shape of one image, e.g. (28, 28, 1).
        likelihood: ``"bernoulli"``, ``"normal"`` or ``None`` (deterministic image), see ``LIKELIHOODS``.
        output_activation: activation of the deterministic image (``likelihood=None`` only).
    """
    output_shape = check_shape("output_shape", output_shape)
    hidden_units = check_shape("hidden_units", hidden_units, min_rank=0)
    check_choice("likelihood", likelihood, LIKELIHOODS)
    inputs, h = _decoder_inputs(latent_dim, condition_dim)
    h = _hidden(h, hidden_units, activation, "decoder")
    params = keras.layers.Dense(int(np.prod(output_shape)), name="pixel_params")(h)
    return _model(inputs, _likelihood_head(params, output_shape, likelihood, output_activation), name)


def conv_decoder(
    latent_dim,
    output_shape,
    filters=(64, 32),
    kernel_size=3,
    activation="relu",
    likelihood="bernoulli",
    condition_dim=None,
    output_activation="sigmoid",
    name="decoder",
):
    """Transpose-convolutional decoder, the mirror of :func:`conv_encoder`: Dense to a
    (H / 2^k, W / 2^k, filters[0]) map, one strided Conv2DTranspose per entry of ``filters``
    (each doubles height and width), then a Conv2DTranspose to one parameter per pixel."""
    output_shape = check_shape("output_shape", output_shape, min_rank=3, max_rank=3)
    filters = check_shape("filters", filters)
    kernel_size = check_positive_int("kernel_size", kernel_size)
    check_choice("likelihood", likelihood, LIKELIHOODS)
    height, width, channels = output_shape
    factor = 2 ** len(filters)
    if height % factor or width % factor:
        raise ValueError(
            f"output_shape height and width must be divisible by 2**len(filters) = {factor}, got {output_shape}"
        )
    inputs, h = _decoder_inputs(latent_dim, condition_dim)
    h = keras.layers.Dense(height // factor * width // factor * filters[0], activation=activation, name="project")(h)
    h = keras.layers.Reshape((height // factor, width // factor, filters[0]), name="unflatten")(h)
    for i, f in enumerate(filters):
        h = keras.layers.Conv2DTranspose(
            f, kernel_size, strides=2, padding="same", activation=activation, name=f"deconv_{i}"
        )(h)
    h = keras.layers.Conv2DTranspose(channels, kernel_size, padding="same", name="pixel_params_map")(h)
    params = keras.layers.Flatten(name="pixel_params")(h)
    return _model(inputs, _likelihood_head(params, output_shape, likelihood, output_activation), name)
