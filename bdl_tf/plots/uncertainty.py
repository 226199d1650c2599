"""Figures for predictive uncertainty: regression bands and reliability diagrams. They return the figure."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from bdl_tf._validation import as_array, check_positive
from bdl_tf.metrics import CalibrationBins
from bdl_tf.uncertainty import RegressionUncertainty

__all__ = ["plot_regression_uncertainty", "plot_reliability_diagram"]

#: Opaque light colours, so overlapping elements never blend into a colour the legend does not show.
ALEATORIC_COLOR = "#9ecae1"
EPISTEMIC_COLOR = "#fdd0a2"


def _figure(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def plot_regression_uncertainty(x, uncertainty, x_train=None, y_train=None, true_function=None, ax=None, n_std=2.0):
    """Predictive mean with +-``n_std`` standard-deviation bands: aleatoric (inner) and total
    = aleatoric + epistemic (outer), over 1-D inputs ``x``.

    ``uncertainty`` is a :class:`bdl_tf.uncertainty.RegressionUncertainty` (e.g. ``mc_predict(...).regression()``).
    """
    if not isinstance(uncertainty, RegressionUncertainty):
        raise TypeError(f"uncertainty must be a RegressionUncertainty (mc_predict(...).regression()), got {type(uncertainty).__name__}")
    x = as_array("x", x).ravel()
    if x.size != np.size(uncertainty.mean):
        raise ValueError(f"x must have one 1-D input per prediction ({np.size(uncertainty.mean)}), got {x.size}")
    n_std = check_positive("n_std", n_std)
    order = np.argsort(x)
    x = x[order]
    mean = np.asarray(uncertainty.mean).ravel()[order]
    aleatoric_std = np.sqrt(np.asarray(uncertainty.aleatoric).ravel()[order])
    total_std = np.sqrt(np.asarray(uncertainty.total).ravel()[order])
    fig, ax = _figure(ax, (8, 4))
    # Disjoint bands, so each region shows exactly its legend swatch (no blended overlap): the
    # aleatoric band around the mean, and the epistemic part of the total band outside it.
    total_lo, total_hi = mean - n_std * total_std, mean + n_std * total_std
    ale_lo, ale_hi = mean - n_std * aleatoric_std, mean + n_std * aleatoric_std
    ax.fill_between(x, ale_lo, ale_hi, color=ALEATORIC_COLOR, lw=0, label=f"aleatoric, ±{n_std:g} sd")
    ax.fill_between(x, total_lo, ale_lo, color=EPISTEMIC_COLOR, lw=0,
                    label=f"total = aleatoric + epistemic, ±{n_std:g} sd")
    ax.fill_between(x, ale_hi, total_hi, color=EPISTEMIC_COLOR, lw=0)
    if x_train is not None and y_train is not None:
        ax.scatter(np.ravel(x_train), np.ravel(y_train), s=6, color="k", alpha=0.5, label="training data")
    if true_function is not None:
        ax.plot(x, true_function(x), "k--", lw=1, label="true function")
    ax.plot(x, mean, color="tab:red", lw=2, label="predictive mean")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    _legend_below(ax)
    return fig


def _legend_below(ax):
    """The legend under the axes (below the x label), never on top of the data or the bands."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small", frameon=False)


def plot_reliability_diagram(bins: CalibrationBins, ax=None, title=None):
    """Accuracy per confidence bin (bars), each bin's mean confidence (ticks), the diagonal of perfect
    calibration, the number of predictions per bin (above the axes) and the ECE."""
    if not isinstance(bins, CalibrationBins):
        raise TypeError(f"bins must be a CalibrationBins (bdl_tf.metrics.calibration_bins), got {type(bins).__name__}")
    fig, ax = _figure(ax, (4.5, 4.5))
    centers = (bins.edges[:-1] + bins.edges[1:]) / 2
    width = np.diff(bins.edges)
    filled = bins.counts > 0
    ax.bar(centers[filled], bins.accuracy[filled], width=width[filled], edgecolor="k", color=ALEATORIC_COLOR,
           label="accuracy in the bin")
    # The bin's mean confidence as a tick across its bar: the gap to the bar's top is the calibration
    # error, drawn without overlapping fills (whose blend no legend swatch would show).
    ax.hlines(bins.confidence[filled], bins.edges[:-1][filled], bins.edges[1:][filled], colors="tab:red", lw=2,
              label="mean confidence in the bin")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    # How many predictions each bar rests on: a bin of 3 looks as sure as a bin of 3,000 otherwise.
    rotation = 90 if filled.sum() > 10 else 0
    for center, count in zip(centers[filled], bins.counts[filled]):
        ax.text(center, 1.02, f"{int(count)}", ha="center", va="bottom", fontsize=7, rotation=rotation)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (numbers on top: predictions per bin)")
    ax.set_ylabel("accuracy")
    ax.set_title(title or f"ECE = {bins.ece:.3f}", pad=22)
    _legend_below(ax)
    return fig
