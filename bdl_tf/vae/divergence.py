"""KL(q || p) between a VAE's posterior and its prior: exact where TFP registers it, else estimated."""
from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp

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
        estimate = q.log_prob(z) - p.log_prob(z)
        return tf.reduce_mean(estimate, axis=0) if estimate.shape.rank > 1 else estimate
