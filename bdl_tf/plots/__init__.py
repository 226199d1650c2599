"""Matplotlib figures for the course; every function returns the figure and never calls ``plt.show()``."""
from bdl_tf.plots.uncertainty import plot_regression_uncertainty, plot_reliability_diagram

__all__ = ["plot_regression_uncertainty", "plot_reliability_diagram"]
