"""KL(q || p) between a VAE's posterior and its prior: exact where TFP registers it, else estimated."""
from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp

from bdl_tf._validation import as_real_tensor

tfd = tfp.distributions

__all__ = ["kl_divergence"]


def kl_divergence(q, p, z=None):
    """KL(q || p) per example: exact when TFP registers the pair (``tfd.kl_divergence``),
    else the Monte-Carlo estimate mean_s [log q(z_s) - log p(z_s)] over the samples ``z``
    (shape (S, batch, latent) or (batch, latent)) drawn from q."""
    for name, value in (("q", q), ("p", p)):
        if not isinstance(value, tfd.Distribution):
            raise TypeError(f"{name} must be a TFP distribution, got {type(value).__name__}")
    try:
        return tfd.kl_divergence(q, p)
    except NotImplementedError:
        if z is None:
            raise ValueError(
                f"TFP has no exact KL for {type(q).__name__} || {type(p).__name__}: pass samples z ~ q"
            ) from None
        z = as_real_tensor("z", z, q.dtype)
        estimate = q.log_prob(z) - p.log_prob(z)
        # Average over the sample axes: those in front of q's batch axes (none for z of shape (batch, latent)).
        if estimate.shape.rank is not None and q.batch_shape.rank is not None:
            sample_axes = list(range(estimate.shape.rank - q.batch_shape.rank))
        else:  # a rank known only at run time (a tf.function traced with an unknown shape)
            sample_axes = tf.range(tf.rank(estimate) - tf.size(q.batch_shape_tensor()))
        return tf.reduce_mean(estimate, axis=sample_axes)
