"""Figures for autoencoders and VAEs: image grids, reconstructions, samples, latent scatter,
traversals and the latent manifold. They take arrays (e.g. from ``vae.sample``, ``vae.traverse``)
and return the figure; they never call ``plt.show()``."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from bdl_tf._validation import as_array

__all__ = [
    "plot_image_grid",
    "plot_reconstructions",
    "plot_samples",
    "plot_latent_scatter",
    "plot_traversal",
    "plot_latent_manifold",
]


def _images(name, images, leading_dims):
    """Images as (..., height, width) greyscale or (..., height, width, 3) colour, checked."""
    images = as_array(name, images, np.float32, min_ndim=0)
    if images.ndim == leading_dims + 3 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (leading_dims + 2, leading_dims + 3) or (images.ndim == leading_dims + 3 and images.shape[-1] != 3):
        raise ValueError(
            f"{name} must have {leading_dims} leading dimension(s) then (height, width[, 1 or 3]), got shape {images.shape}"
        )
    if images.size == 0:
        raise ValueError(f"{name} is empty")
    return images


def _show(ax, image):
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0.0, vmax=1.0)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_image_grid(images, ncols=None, titles=None, suptitle=None, cell_size=1.2):
    """A grid of images (n, height, width[, channels]) with pixel values in [0, 1]."""
    images = _images("images", images, 1)
    n = len(images)
    ncols = int(np.ceil(np.sqrt(n))) if ncols is None else ncols
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles must have one entry per image ({n}), got {len(titles)}")
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell_size * ncols, cell_size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < n:
            _show(ax, images[i])
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
        else:
            ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_samples(images, ncols=None, title="Samples from the prior"):
    """Images generated from the model, e.g. ``vae.sample(16)``."""
    return plot_image_grid(images, ncols=ncols, suptitle=title)


def plot_reconstructions(originals, reconstructions, n=10, cell_size=1.2):
    """Inputs (top row) above their reconstructions (bottom row), the first ``n`` of each."""
    originals = _images("originals", originals, 1)
    reconstructions = _images("reconstructions", reconstructions, 1)
    if originals.shape != reconstructions.shape:
        raise ValueError(
            f"originals and reconstructions must have the same shape, got {originals.shape} and {reconstructions.shape}"
        )
    n = min(int(n), len(originals))
    if n < 1:
        raise ValueError("n must be at least 1")
    fig, axes = plt.subplots(2, n, figsize=(cell_size * n, cell_size * 2.2), squeeze=False)
    for j in range(n):
        _show(axes[0, j], originals[j])
        _show(axes[1, j], reconstructions[j])
    axes[0, 0].set_ylabel("input")
    axes[1, 0].set_ylabel("reconstruction")
    return fig


def plot_latent_scatter(codes, labels=None, dims=(0, 1), ax=None, class_names=None):
    """Latent codes (n, latent_dim), e.g. ``vae.embed(x_test)``, as a 2-D scatter of dimensions
    ``dims``, coloured by label: clusters show what the latent space has learned."""
    codes = as_array("codes", codes, min_ndim=0)
    if codes.ndim != 2 or codes.shape[1] < 2:
        raise ValueError(f"codes must have shape (n, latent_dim >= 2), got {codes.shape}")
    d0, d1 = dims
    if not (0 <= d0 < codes.shape[1] and 0 <= d1 < codes.shape[1]) or d0 == d1:
        raise ValueError(f"dims must be two different latent dimensions below {codes.shape[1]}, got {dims!r}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 5))
    else:
        fig = ax.figure
    if labels is None:
        ax.scatter(codes[:, d0], codes[:, d1], s=4, alpha=0.6)
    else:
        labels = as_array("labels", labels, np.asarray(labels).dtype, min_ndim=0, shape=(len(codes),))
        classes = np.unique(labels)
        colours = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
        for k, c in enumerate(classes):
            chosen = labels == c
            name = class_names[int(c)] if class_names is not None else str(c)
            ax.scatter(codes[chosen, d0], codes[chosen, d1], s=4, alpha=0.6, color=colours(k % colours.N), label=name)
        # below the axes, so it covers no codes (a legend inside sits on some cluster wherever it goes)
        ax.legend(markerscale=3, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13),
                  ncol=min(5, len(classes)), frameon=False, handletextpad=0.1, columnspacing=0.8)
    ax.set_xlabel(f"z[{d0}]")
    ax.set_ylabel(f"z[{d1}]")
    return fig


def _grid_figure(images, row_labels, column_labels, cell_size, title):
    rows, cols = images.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(cell_size * cols, cell_size * rows), squeeze=False)
    for i in range(rows):
        for j in range(cols):
            _show(axes[i, j], images[i, j])
    if row_labels is not None:
        for i, label in enumerate(row_labels):
            axes[i, 0].set_ylabel(str(label), fontsize=8)
    if column_labels is not None:
        for j, label in enumerate(column_labels):
            axes[-1, j].set_xlabel(str(label), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_traversal(images, dims=None, values=None, cell_size=1.0):
    """A latent traversal (len(dims), len(values), height, width[, c]) from ``model.traverse``:
    one row per latent dimension, one column per value it is set to."""
    images = _images("images", images, 2)
    rows, cols = images.shape[:2]
    for name, labels, size in (("dims", dims, rows), ("values", values, cols)):
        if labels is not None and len(labels) != size:
            raise ValueError(f"{name} must have {size} entries to match images, got {len(labels)}")
    row_labels = None if dims is None else [f"z[{d}]" for d in dims]
    column_labels = None if values is None else [f"{v:.2g}" for v in values]
    return _grid_figure(images, row_labels, column_labels, cell_size, "Latent traversal")


def plot_latent_manifold(images, cell_size=0.6):
    """The latent manifold grid (grid, grid, height, width[, c]) from ``vae.latent_grid``, drawn as
    one picture (Kingma & Welling 2014, Fig. 4): neighbouring cells are neighbouring codes."""
    images = _images("images", images, 2)
    rows, cols = images.shape[:2]
    height, width = images.shape[2:4]
    canvas = images.transpose(0, 2, 1, 3, *range(4, images.ndim)).reshape(rows * height, cols * width, *images.shape[4:])
    fig, ax = plt.subplots(figsize=(cell_size * cols, cell_size * rows))
    _show(ax, canvas)
    ax.set_title("Latent manifold: decoded grid of inverse-CDF coordinates")
    return fig
