"""Matplotlib figures for the course; every function returns the figure and never calls ``plt.show()``,
except :func:`parameter_slider`, which displays a static row of panels and a slider (notebooks only)."""
from bdl_tf.plots.generative import (
    plot_image_grid,
    plot_latent_manifold,
    plot_latent_scatter,
    plot_reconstructions,
    plot_samples,
    plot_traversal,
)
from bdl_tf.plots.interactive import parameter_panels, parameter_slider
from bdl_tf.plots.uncertainty import plot_regression_uncertainty, plot_reliability_diagram

__all__ = [
    "parameter_panels",
    "parameter_slider",
    "plot_image_grid",
    "plot_latent_manifold",
    "plot_latent_scatter",
    "plot_reconstructions",
    "plot_regression_uncertainty",
    "plot_reliability_diagram",
    "plot_samples",
    "plot_traversal",
]
