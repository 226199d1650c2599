"""The exact posterior of a VAE with a 1- or 2-dimensional latent space, by quadrature on a grid.

p(x) = integral p(x|z) p(z) dz is intractable in general (lecture slides 41-42), but with one or two
latent dimensions a grid of z values covers the prior well enough to sum over: with cell volume dV,

    log p(x)  ~  log sum_g p(x|z_g) p(z_g) dV,        p(z_g|x) = p(x|z_g) p(z_g) / p(x).

That gives ground truth for the bounds of :mod:`bdl_tf.vae.bounds` (ELBO <= IWAE <= log p(x)), for
the last term of the ELBO derivation, KL(q(z|x) || p(z|x)) = log p(x) - ELBO, which no training
loss can compute, and the true posterior to set beside the encoder's q(z|x). It decodes
``points ** latent_dim`` codes and scores every example against each: meant for teaching and tests,
not for models with a larger latent space.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from scipy.special import logsumexp

from bdl_tf._validation import check_positive, check_positive_int
from bdl_tf.vae.vae import VAE

tfd = tfp.distributions

__all__ = ["GridPosterior", "posterior_grid"]

_CHUNK_ELEMENTS = 2**23  # grid points x examples x pixels per log-likelihood evaluation


@dataclass(frozen=True)
class GridPosterior:
    """The posterior p(z|x) on a regular grid, for N examples.

    Attributes:
        axis: (points,) the coordinates along each latent dimension.
        z: (G, latent_dim) the grid nodes, G = points ** latent_dim; for two dimensions node
            ``i * points + j`` is ``(axis[i], axis[j])``, so ``density.reshape(N, points, points)``
            has z[0] along the rows.
        log_joint: (N, G) log p(x|z_g) + log p(z_g).
        log_likelihood: (N,) log p(x) by the rectangle rule, log sum_g exp(log_joint) dV.
        cell_volume: dV, the grid spacing to the power latent_dim.
    """

    axis: np.ndarray
    z: np.ndarray
    log_joint: np.ndarray
    log_likelihood: np.ndarray
    cell_volume: float

    @property
    def log_density(self) -> np.ndarray:
        """(N, G) log p(z_g|x) = log_joint - log p(x); exp of it times dV sums to one per example."""
        return self.log_joint - self.log_likelihood[:, None]

    @property
    def density(self) -> np.ndarray:
        """(N, G) the posterior density p(z_g|x) at the grid nodes."""
        return np.exp(self.log_density)


def _bernoulli_pixels(distribution):
    """The Bernoulli inside ``Independent(Bernoulli)`` (the ``likelihood="bernoulli"`` decoder), else None."""
    inner = getattr(distribution, "distribution", None)
    return inner if isinstance(inner, tfd.Bernoulli) else None


def posterior_grid(model, x, limit=5.0, points=101):
    """log p(x) and p(z|x) of a trained VAE by brute force on a grid over [-limit, limit]^latent_dim.

    The rectangle rule is accurate when the grid spacing ``2 limit / (points - 1)`` is at most about
    twice the posterior's standard deviation, and the grid holds the posterior (``limit`` beyond the
    codes of the data, e.g. ``vae.embed(x)``); the prior N(0, 1) has mass 1 - 6e-7 inside +-5.

    Args:
        model: an unconditional :class:`bdl_tf.vae.VAE` with ``latent_dim`` 1 or 2.
        x: (N, *image_shape) inputs, e.g. binarised test digits.
        limit: the grid spans [-limit, limit] in every latent dimension.
        points: grid nodes per dimension (odd keeps z = 0 on the grid).

    Returns:
        :class:`GridPosterior`.
    """
    if not isinstance(model, VAE) or model.conditional:
        raise TypeError(f"model must be an unconditional bdl_tf.vae.VAE, got {type(model).__name__}")
    if model.latent_dim not in (1, 2):
        raise ValueError(
            f"posterior_grid needs a latent space of 1 or 2 dimensions (a grid in more grows as "
            f"points ** latent_dim); this model has {model.latent_dim}: use importance_weighted_bound"
        )
    limit = check_positive("limit", limit)
    points = check_positive_int("points", points)
    if points < 2:
        raise ValueError(f"points must be at least 2, got {points}")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2 or len(x) == 0 or x.shape[1:] != model.output_example_shape:
        raise ValueError(f"x must have shape (n, {', '.join(map(str, model.output_example_shape))}), got {x.shape}")

    axis = np.linspace(-limit, limit, points)
    mesh = np.meshgrid(*([axis] * model.latent_dim), indexing="ij")
    z = np.stack([m.ravel() for m in mesh], axis=-1)
    cell_volume = float((axis[1] - axis[0]) ** model.latent_dim)
    pixels = int(np.prod(x.shape[1:]))
    bernoulli = _bernoulli_pixels(model.decode(z[:1]))
    if bernoulli is not None:  # two matrix products instead of an (examples x grid x pixels) tensor
        batch, chunk = len(x), max(1, _CHUNK_ELEMENTS // (8 * pixels))
    else:
        batch = max(1, min(len(x), _CHUNK_ELEMENTS // (pixels * 64)))
        chunk = max(1, _CHUNK_ELEMENTS // (pixels * batch))

    @tf.function(reduce_retracing=True)
    def log_likelihood(z_chunk, x_batch):
        likelihood = model.decode(z_chunk)  # batch shape (chunk,)
        pixels_of = _bernoulli_pixels(likelihood)
        if pixels_of is None:  # x as (batch, 1, *image) broadcasts against the chunk: (batch, chunk)
            return likelihood.log_prob(tf.expand_dims(x_batch, 1))
        # log Bernoulli(x | logits l) = x log sigmoid(l) + (1 - x) log(1 - sigmoid(l)), summed over pixels
        logits = tf.reshape(pixels_of.logits_parameter(), [tf.shape(z_chunk)[0], -1])
        flat_x = tf.reshape(x_batch, [tf.shape(x_batch)[0], -1])
        return (tf.matmul(flat_x, -tf.math.softplus(-logits), transpose_b=True)
                + tf.matmul(1.0 - flat_x, -tf.math.softplus(logits), transpose_b=True))

    rows = []
    for start in range(0, len(x), batch):
        x_batch = tf.constant(x[start : start + batch])
        rows.append(np.concatenate([
            log_likelihood(tf.constant(z[g : g + chunk], tf.float32), x_batch).numpy().astype(np.float64)
            for g in range(0, len(z), chunk)
        ], axis=1))
    log_prior = np.asarray(model.prior().log_prob(z.astype(np.float32)), dtype=np.float64)
    log_joint = np.concatenate(rows) + log_prior[None, :]
    log_likelihood_x = logsumexp(log_joint, axis=1) + np.log(cell_volume)
    return GridPosterior(axis, z, log_joint, log_likelihood_x, cell_volume)
