"""Matplotlib figures for the course; every function returns the figure and never calls ``plt.show()``."""
from bdl_tf.plots.generative import (
    plot_image_grid,
    plot_latent_manifold,
    plot_latent_scatter,
    plot_reconstructions,
    plot_samples,
    plot_traversal,
)
from bdl_tf.plots.uncertainty import plot_regression_uncertainty, plot_reliability_diagram

__all__ = [
    "plot_image_grid",
    "plot_latent_manifold",
    "plot_latent_scatter",
    "plot_reconstructions",
    "plot_regression_uncertainty",
    "plot_reliability_diagram",
    "plot_samples",
    "plot_traversal",
]
