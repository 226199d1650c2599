"""Autoencoders, variational autoencoders and conditional VAEs on tf_keras + TFP (lecture slides 32-65).

- :mod:`~bdl_tf.vae.networks`: dense and convolutional encoders/decoders with distribution heads.
- :class:`Autoencoder`, :class:`VAE`, :class:`CVAE`: the models (``fit``, ``embed``, ``generate``,
  ``reconstruct``, ``interpolate``, ``traverse``; VAEs also ``sample`` and ``latent_grid``).
- :mod:`~bdl_tf.vae.bounds`: per-example ELBO and importance-weighted log-likelihood estimates.
- :mod:`~bdl_tf.vae.divergence`: KL(q || p), exact where TFP has it.
- :mod:`~bdl_tf.vae.quadrature`: log p(x) and the exact posterior p(z|x) on a grid, for 1-2 latent dimensions.
- :func:`digit_judge`: a fixed digit classifier that judges generated and reconstructed digits
  (their class, and its features for the Fréchet distance).
"""
from bdl_tf.vae.autoencoder import Autoencoder
from bdl_tf.vae.bounds import elbo, importance_weighted_bound
from bdl_tf.vae.cvae import CVAE
from bdl_tf.vae.divergence import kl_divergence
from bdl_tf.vae.judge import DigitJudge, digit_judge
from bdl_tf.vae.networks import (
    LIKELIHOODS,
    POSTERIORS,
    LearnedScale,
    conv_decoder,
    conv_encoder,
    dense_decoder,
    dense_encoder,
)
from bdl_tf.vae.quadrature import GridPosterior, posterior_grid
from bdl_tf.vae.vae import VAE

__all__ = [
    "Autoencoder",
    "VAE",
    "CVAE",
    "dense_encoder",
    "dense_decoder",
    "conv_encoder",
    "conv_decoder",
    "LearnedScale",
    "POSTERIORS",
    "LIKELIHOODS",
    "elbo",
    "importance_weighted_bound",
    "kl_divergence",
    "posterior_grid",
    "GridPosterior",
    "digit_judge",
    "DigitJudge",
]
