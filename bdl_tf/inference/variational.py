"""Mean-field variational inference for Keras layers: posterior/prior factories and KL-weighted builders.

Variational inference picks ``q(w)`` from a family by ``argmin KL(q(w) || p(w | data))``, i.e. by
maximising the ELBO ``sum_n E_q[log p(y_n | x_n, w)] - KL(q(w) || p(w))``. Keras minimises a loss
averaged over the examples of a batch, so the per-example objective is

    loss = mean_n(-log p(y_n | x_n, w)) + KL(q || p) / N,      N = number of training examples,

i.e. ``kl_weight = 1 / n_train``. Forgetting the ``1/N`` (or adding the KL twice) is the most common
bug: the prior then swamps the data and the posterior collapses to it. :func:`dense_variational`
and :func:`dense_flipout` take ``n_train`` and apply the weight for you.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf._validation import check_positive, check_positive_int
from bdl_tf.regularization import kl_weight

tfd = tfp.distributions


def _softplus_inverse(value: float) -> float:
    return float(np.log(np.expm1(value)))


def make_posterior_fn(initial_scale: float = 0.01, min_scale: float = 1e-5):
    """Mean-field Normal posterior for ``tfp.layers.DenseVariational``'s ``make_posterior_fn``.

    ``q(w) = prod_i N(w_i | mu_i, sigma_i^2)`` with ``sigma_i = min_scale + softplus(rho_i)``, one
    trainable ``(mu_i, rho_i)`` per weight; ``sigma_i`` starts near ``initial_scale`` so that early
    training is close to a deterministic net.
    """
    initial_scale = check_positive("initial_scale", initial_scale)
    min_scale = check_positive("min_scale", min_scale)
    if initial_scale <= min_scale:
        raise ValueError(f"initial_scale must be > min_scale={min_scale:g}, got {initial_scale:g}")
    offset = _softplus_inverse(initial_scale - min_scale)

    def posterior_fn(kernel_size, bias_size=0, dtype=None):
        size = kernel_size + bias_size
        return keras.Sequential([
            tfp.layers.VariableLayer(2 * size, dtype=dtype, initializer="random_normal"),
            tfp.layers.DistributionLambda(lambda t: tfd.Independent(
                tfd.Normal(loc=t[..., :size], scale=min_scale + tf.nn.softplus(offset + t[..., size:])),
                reinterpreted_batch_ndims=1,
            )),
        ])

    return posterior_fn


def make_prior_fn(scale: float = 1.0, trainable: bool = False):
    """Prior ``p(w) = prod_i N(w_i | 0, s^2)`` for ``tfp.layers.DenseVariational``'s ``make_prior_fn``.

    With ``trainable=True`` one standard deviation ``s`` shared by all the layer's weights is learned
    with the posterior (empirical Bayes), starting at ``scale``. The mean stays at zero: a per-weight
    trainable prior could copy the posterior and make the KL vanish.
    """
    scale = check_positive("scale", scale)
    if not isinstance(trainable, bool):
        raise TypeError(f"trainable must be a bool, got {type(trainable).__name__}")

    def prior_fn(kernel_size, bias_size=0, dtype=None):
        size = kernel_size + bias_size
        if trainable:
            return keras.Sequential([
                tfp.layers.VariableLayer(
                    1, dtype=dtype, initializer=keras.initializers.Constant(_softplus_inverse(scale))
                ),
                tfp.layers.DistributionLambda(lambda t: tfd.Independent(
                    tfd.Normal(loc=tf.zeros(size, dtype=t.dtype), scale=tf.nn.softplus(t)),
                    reinterpreted_batch_ndims=1,
                )),
            ])
        return keras.Sequential([
            tfp.layers.DistributionLambda(lambda t: tfd.Independent(
                tfd.Normal(loc=tf.zeros(size, dtype=t.dtype), scale=tf.constant(scale, dtype=t.dtype)),
                reinterpreted_batch_ndims=1,
            )),
        ])

    return prior_fn


def dense_variational(
    units: int,
    n_train: int,
    *,
    prior_scale: float = 1.0,
    trainable_prior: bool = False,
    posterior_initial_scale: float = 0.01,
    kl_use_exact: bool = True,
    **kwargs,
) -> tfp.layers.DenseVariational:
    """A ``tfp.layers.DenseVariational`` with mean-field posterior, Normal prior and ``kl_weight = 1/n_train``.

    Each forward pass draws one weight sample ``w ~ q`` and adds ``KL(q || p) / n_train`` to the
    model's losses once; pair it with a per-example negative log-likelihood loss. The sample is
    shared by the whole batch, so for Monte-Carlo prediction call the model T times (tiling the
    batch T times within one call gives every copy the same weights). ``kl_use_exact``
    uses the closed-form Normal-Normal KL instead of a one-sample estimate. Other keyword arguments
    (``activation``, ``use_bias``, ``name``...) go to the layer.
    """
    units = check_positive_int("units", units)
    weight = kl_weight(n_train)
    return tfp.layers.DenseVariational(
        units,
        make_posterior_fn=make_posterior_fn(posterior_initial_scale),
        make_prior_fn=make_prior_fn(prior_scale, trainable=trainable_prior),
        kl_weight=weight,
        kl_use_exact=kl_use_exact,
        **kwargs,
    )


def dense_flipout(units: int, n_train: int, *, prior_scale: float = 1.0, **kwargs) -> tfp.layers.DenseFlipout:
    """A ``tfp.layers.DenseFlipout`` (Wen et al. 2018) whose kernel and bias KLs are divided by ``n_train``.

    Flipout decorrelates the weight noise across the examples of a batch, which lowers the gradient
    variance compared with one shared sample. Prior ``N(0, prior_scale^2)`` on the kernel; the
    posterior is TFP's default mean-field Normal (the bias stays a point estimate unless
    ``bias_posterior_fn``/``bias_prior_fn`` are given). Other keyword arguments go to the layer.
    """
    units = check_positive_int("units", units)
    weight = kl_weight(n_train)
    prior_scale = check_positive("prior_scale", prior_scale)

    def kernel_prior_fn(dtype, shape, name, trainable, add_variable_fn):
        return tfd.Independent(
            tfd.Normal(loc=tf.zeros(shape, dtype), scale=tf.constant(prior_scale, dtype)),
            reinterpreted_batch_ndims=len(shape),
        )

    def divergence_fn(posterior, prior, _):
        return tfd.kl_divergence(posterior, prior) * tf.cast(weight, posterior.dtype)

    return tfp.layers.DenseFlipout(
        units,
        kernel_prior_fn=kernel_prior_fn,
        kernel_divergence_fn=divergence_fn,
        bias_divergence_fn=divergence_fn,
        **kwargs,
    )


def weight_posterior(layer) -> tfd.Distribution:
    """The variational posterior ``q(w)`` of a built ``DenseVariational`` or ``DenseFlipout`` layer.

    For ``DenseVariational`` it is over the flat vector ``[vec(kernel), bias]`` (kernel row-major,
    shape ``[inputs, units]``); for ``DenseFlipout`` over the kernel ``[inputs, units]``.
    """
    if isinstance(layer, tfp.layers.DenseFlipout):
        if not layer.built:
            raise ValueError("layer must be built (call it on data once) before reading its posterior")
        return layer.kernel_posterior
    if isinstance(layer, tfp.layers.DenseVariational):
        if not layer.built:
            raise ValueError("layer must be built (call it on data once) before reading its posterior")
        inputs = tf.zeros([1, layer.input_spec.axes[-1]], dtype=layer.dtype)
        return layer._posterior(inputs)  # DenseVariational keeps q as a private sub-model
    raise TypeError(
        f"layer must be a tfp.layers.DenseVariational or DenseFlipout, got {type(layer).__name__}"
    )
