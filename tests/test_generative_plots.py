"""Figures for autoencoders/VAEs: right layout, pixels drawn as given, clear errors, no plt.show()."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from bdl_tf.plots.generative import (
    plot_image_grid,
    plot_latent_manifold,
    plot_latent_scatter,
    plot_reconstructions,
    plot_samples,
    plot_traversal,
)

RNG = np.random.default_rng(0)
IMAGES = RNG.random((7, 6, 5, 1)).astype(np.float32)


@pytest.fixture(autouse=True)
def _close_figures(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("library code called plt.show()"))
    yield
    plt.close("all")


def _shown(ax):
    return ax.get_images()[0].get_array()


def test_image_grid_layout_and_pixels():
    fig = plot_image_grid(IMAGES, ncols=3, titles=list("abcdefg"))
    axes = fig.axes
    assert len(axes) == 9 and sum(ax.axison for ax in axes) == 7  # 3 x 3, two blank cells
    np.testing.assert_allclose(_shown(axes[4]), IMAGES[4, ..., 0])
    assert axes[6].get_title() == "g"
    assert plot_samples(IMAGES).axes[0].figure._suptitle.get_text() == "Samples from the prior"


def test_reconstructions_put_inputs_over_outputs():
    fig = plot_reconstructions(IMAGES, 1 - IMAGES, n=4)
    assert len(fig.axes) == 8
    np.testing.assert_allclose(_shown(fig.axes[2]), IMAGES[2, ..., 0])
    np.testing.assert_allclose(_shown(fig.axes[4 + 2]), 1 - IMAGES[2, ..., 0])
    with pytest.raises(ValueError, match="same shape"):
        plot_reconstructions(IMAGES, IMAGES[:3])


def test_latent_scatter_one_colour_per_label():
    codes = RNG.normal(size=(60, 3))
    labels = np.arange(60) % 3
    fig = plot_latent_scatter(codes, labels, dims=(0, 2), class_names=["zero", "one", "two"])
    ax = fig.axes[0]
    assert len(ax.collections) == 3 and ax.get_xlabel() == "z[0]" and ax.get_ylabel() == "z[2]"
    np.testing.assert_allclose(ax.collections[1].get_offsets(), codes[labels == 1][:, [0, 2]])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["zero", "one", "two"]
    fig.canvas.draw()
    assert ax.get_legend().get_window_extent().y1 <= ax.get_window_extent().y0  # below the axes: on no code
    assert len(plot_latent_scatter(codes).axes[0].collections) == 1
    with pytest.raises(ValueError, match="codes must have shape"):
        plot_latent_scatter(codes[:, 0])
    with pytest.raises(ValueError, match="labels must have shape"):
        plot_latent_scatter(codes, labels[:5])
    with pytest.raises(ValueError, match="dims"):
        plot_latent_scatter(codes, dims=(1, 1))


def test_traversal_and_manifold():
    grid = RNG.random((2, 4, 6, 5)).astype(np.float32)
    fig = plot_traversal(grid, dims=[0, 3], values=[-2, -1, 1, 2])
    assert len(fig.axes) == 8 and fig.axes[4].get_ylabel() == "z[3]"
    np.testing.assert_allclose(_shown(fig.axes[5]), grid[1, 1])
    square = RNG.random((3, 3, 6, 5, 1)).astype(np.float32)
    canvas = _shown(plot_latent_manifold(square).axes[0])
    assert canvas.shape == (18, 15)
    np.testing.assert_allclose(canvas[6:12, 10:15], square[1, 2, ..., 0])  # row 1, column 2
    with pytest.raises(ValueError, match="values must have 4 entries"):
        plot_traversal(grid, values=[0, 1])
    with pytest.raises(ValueError, match="2 leading dimension"):
        plot_latent_manifold(IMAGES[..., 0, 0])


def test_bad_images():
    with pytest.raises(ValueError, match="images must have 1 leading"):
        plot_image_grid(np.zeros((3, 4, 4, 2)))
    with pytest.raises(ValueError, match="ncols"):
        plot_image_grid(IMAGES, ncols=0)
    with pytest.raises(ValueError, match="titles"):
        plot_image_grid(IMAGES, titles=["a"])
