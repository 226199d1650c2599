"""Seeded toy data sets and the uncertainty figures."""
import matplotlib
import matplotlib.collections
import matplotlib.pyplot as plt
import numpy as np
import pytest

from bdl_tf.datasets import digits, toy_noise_std, toy_regression, two_moons
from bdl_tf.metrics import calibration_bins
from bdl_tf.plots import plot_regression_uncertainty, plot_reliability_diagram
from bdl_tf.uncertainty import regression_uncertainty


def test_toy_regression_has_a_gap_and_is_seeded():
    data = toy_regression(n_train=300, seed=1)
    x = data.x_train.ravel()
    assert data.x_train.shape == data.y_train.shape == (300, 1)
    assert not np.any((x > data.gap[0]) & (x < data.gap[1]))
    assert x.min() >= data.x_range[0] and x.max() <= data.x_range[1]
    assert data.x_grid.min() < data.x_range[0] and data.x_grid.max() > data.x_range[1]
    np.testing.assert_array_equal(toy_regression(n_train=300, seed=1).y_train, data.y_train)
    assert not np.array_equal(toy_regression(n_train=300, seed=2).y_train, data.y_train)


def test_toy_noise_is_heteroscedastic_as_documented():
    data = toy_regression(n_train=20000, seed=0)
    from bdl_tf.datasets import toy_function

    residual = data.y_train.ravel() - toy_function(data.x_train.ravel())
    x = data.x_train.ravel()
    for lo, hi in [(-4, -3), (3, 4)]:
        band = (x >= lo) & (x < hi)
        # residual sd in a band = sqrt(mean sigma(x)^2); ~2500 points: standard error ~1.5%, 3.3 se allowed
        expected = np.sqrt(np.mean(toy_noise_std(x[band]) ** 2))
        assert residual[band].std() == pytest.approx(expected, rel=0.05)


def test_two_moons_and_digits():
    x, y = two_moons(n_samples=100, seed=0)
    assert x.shape == (100, 2) and set(y) == {0, 1}
    split = digits(test_fraction=0.25, seed=0)
    assert split.x_train.shape[1] == 64 and 0.0 <= split.x_train.min() and split.x_train.max() <= 1.0
    assert len(split.x_train) + len(split.x_test) == 1797
    assert set(split.y_test) == set(range(10))
    assert digits(images=True).x_train.shape[1:] == (8, 8, 1)
    with pytest.raises(ValueError, match="test_fraction"):
        digits(test_fraction=1.0)
    with pytest.raises(ValueError, match="n_train"):
        toy_regression(n_train=0)


def test_plots_return_figures_and_never_show(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("library code called plt.show()"))
    data = toy_regression(n_train=50)
    means = np.random.default_rng(0).normal(size=(5, len(data.x_grid), 1))
    split = regression_uncertainty(means, noise_variance=0.1)
    fig = plot_regression_uncertainty(data.x_grid, split, data.x_train, data.y_train, true_function=np.sin)
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 1
    probs = np.random.default_rng(1).dirichlet(np.ones(3), size=100)
    fig = plot_reliability_diagram(calibration_bins(np.zeros(100, int), probs, n_bins=5))
    assert "ECE" in fig.axes[0].get_title()
    plt.close("all")


def _uncertainty_on_a_grid():
    rng = np.random.default_rng(2)
    x = np.linspace(-3, 3, 60)[:, None]
    means = np.sin(x)[None] + rng.normal(size=(20, 60, 1)) * 0.2
    return x, regression_uncertainty(means, np.full((20, 60, 1), 0.05))


def test_regression_bands_match_their_swatches_and_the_legend_sits_outside():
    x, split = _uncertainty_on_a_grid()
    fig = plot_regression_uncertainty(x, split, x, np.sin(x))
    ax = fig.axes[0]
    fig.canvas.draw()
    legend = ax.get_legend()
    # the legend's box lies below the axes: it covers no data and no band
    assert legend.get_window_extent().y1 <= ax.get_window_extent().y0
    bands = [c for c in ax.collections if isinstance(c, matplotlib.collections.PolyCollection)]
    swatches = {text.get_text(): handle for text, handle in zip(legend.get_texts(), legend.legend_handles)}
    for band in bands:
        if band.get_label() in swatches:  # the colour drawn is the colour shown: opaque, never blended
            np.testing.assert_allclose(band.get_facecolor()[0], swatches[band.get_label()].get_facecolor())
            assert band.get_facecolor()[0][3] == 1.0
    # bands are disjoint: the aleatoric band, then the epistemic part of the total band outside it
    inner = [b for b in bands if b.get_label().startswith("aleatoric")][0].get_paths()[0].vertices
    assert np.all(np.abs(inner[:, 1] - np.interp(inner[:, 0], x.ravel(), split.mean.ravel()))
                  <= 2 * np.sqrt(split.aleatoric.max()) + 1e-9)
    plt.close("all")


def test_reliability_diagram_says_how_many_predictions_each_bin_holds():
    probs = np.random.default_rng(3).dirichlet(np.ones(3), size=200)
    labels = np.random.default_rng(4).integers(0, 3, 200)
    bins = calibration_bins(labels, probs, n_bins=8)
    fig = plot_reliability_diagram(bins)
    ax = fig.axes[0]
    texts = sorted(int(t.get_text()) for t in ax.texts if t.get_text().isdigit())
    assert texts == sorted(int(c) for c in bins.counts if c > 0)
    assert ax.get_xlabel().startswith("confidence") and ax.get_ylabel() == "accuracy"
    fig.canvas.draw()
    assert ax.get_legend().get_window_extent().y1 <= ax.get_window_extent().y0
    plt.close("all")
