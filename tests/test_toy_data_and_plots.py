"""Seeded toy data sets and the uncertainty figures."""
import matplotlib
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
    import matplotlib.pyplot as plt

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
