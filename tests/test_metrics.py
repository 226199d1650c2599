"""Metrics against hand-computed values and against scipy / scikit-learn."""
import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from bdl_tf import metrics


def test_gaussian_nll_hand_computed():
    # N(y=1; 0, 4): 0.5 log(2 pi 4) + 1 / 8
    expected = 0.5 * np.log(2 * np.pi * 4.0) + 1.0 / 8.0
    assert metrics.gaussian_nll([1.0], [0.0], [4.0]) == pytest.approx(expected, rel=1e-12)


def test_gaussian_nll_matches_scipy_on_random_data():
    rng = np.random.default_rng(0)
    y, mu, var = rng.normal(size=50), rng.normal(size=50), rng.uniform(0.1, 2.0, size=50)
    expected = -norm.logpdf(y, mu, np.sqrt(var)).mean()
    assert metrics.gaussian_nll(y, mu, var) == pytest.approx(expected, rel=1e-12)


def test_mc_gaussian_nll_of_identical_samples_is_the_gaussian_nll():
    y, mu = np.array([0.3, -1.0]), np.array([0.0, 0.5])
    samples = np.repeat(mu[None], 7, axis=0)
    assert metrics.mc_gaussian_nll(y, samples, noise_variance=0.5) == pytest.approx(
        metrics.gaussian_nll(y, mu, [0.5, 0.5]), rel=1e-12
    )


def test_mc_gaussian_nll_is_the_mixture_density():
    # Two equally weighted components at -1 and +1 with variance 1, evaluated at y = 0.
    samples = np.array([[-1.0], [1.0]])
    expected = -np.log(0.5 * norm.pdf(0, -1, 1) + 0.5 * norm.pdf(0, 1, 1))
    assert metrics.mc_gaussian_nll([0.0], samples, variance_samples=np.ones_like(samples)) == pytest.approx(expected)


def test_rmse_hand_computed():
    assert metrics.rmse([0.0, 0.0], [3.0, 4.0]) == pytest.approx(np.sqrt(12.5))


@pytest.fixture
def classification():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(200, 4)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 4, size=200)
    return labels, probs


def test_categorical_nll_matches_sklearn_log_loss(classification):
    labels, probs = classification
    assert metrics.categorical_nll(labels, probs) == pytest.approx(log_loss(labels, probs, labels=range(4)), rel=1e-9)


def test_accuracy_hand_computed():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert metrics.accuracy([0, 1, 1], probs) == pytest.approx(2 / 3)


def test_brier_binary_is_twice_sklearns_positive_class_score():
    rng = np.random.default_rng(2)
    p1 = rng.uniform(size=100)
    labels = rng.integers(0, 2, size=100)
    probs = np.stack([1 - p1, p1], axis=1)
    assert metrics.brier_score(labels, probs) == pytest.approx(2 * brier_score_loss(labels, p1), rel=1e-12)


def test_brier_multiclass_hand_computed():
    # (0.7-1)^2 + 0.2^2 + 0.1^2 = 0.14 ; (0.5)^2 + (0.5-1)^2 + 0 = 0.5
    probs = np.array([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]])
    assert metrics.brier_score([0, 1], probs) == pytest.approx((0.14 + 0.5) / 2)


def test_ece_hand_computed_two_bins():
    # Bin (0, .5]: conf .4 wrong -> gap .4 ; bin (.5, 1]: confs .9, .7 (mean .8), one right -> acc .5, gap .3
    probs = np.array([[0.4, 0.3, 0.3], [0.9, 0.1, 0.0], [0.7, 0.3, 0.0]])
    labels = np.array([1, 0, 1])
    bins = metrics.calibration_bins(labels, probs, n_bins=2)
    np.testing.assert_array_equal(bins.counts, [1, 2])
    np.testing.assert_allclose(bins.confidence, [0.4, 0.8])
    np.testing.assert_allclose(bins.accuracy, [0.0, 0.5])
    assert bins.ece == pytest.approx((1 * 0.4 + 2 * 0.3) / 3)
    assert metrics.expected_calibration_error(labels, probs, n_bins=2) == pytest.approx(bins.ece)


def test_ece_is_small_for_calibrated_predictions():
    rng = np.random.default_rng(3)
    p1 = rng.uniform(0.5, 1.0, size=20000)
    labels = (rng.uniform(size=p1.size) > p1).astype(int)  # class 0 is right with probability p1
    ece = metrics.expected_calibration_error(labels, np.stack([p1, 1 - p1], axis=1), n_bins=10)
    # Each of 10 bins holds ~2000 draws: sampling noise on a bin's accuracy ~ sqrt(.25/2000) = .011.
    assert ece < 0.02


def test_ood_auroc_matches_sklearn():
    rng = np.random.default_rng(4)
    s_in, s_out = rng.normal(0, 1, 300), rng.normal(1, 1, 200)
    labels = np.r_[np.zeros(300), np.ones(200)]
    assert metrics.ood_auroc(s_in, s_out) == pytest.approx(roc_auc_score(labels, np.r_[s_in, s_out]))
    assert metrics.ood_auroc([0, 1], [2, 3]) == 1.0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: metrics.gaussian_nll([1.0], [0.0], [-1.0]), "variance must be > 0"),
        (lambda: metrics.gaussian_nll([1.0, 2.0], [0.0], [1.0]), "same shape"),
        (lambda: metrics.rmse([1.0], [np.nan]), "NaN"),
        (lambda: metrics.accuracy([0, 1], [[0.5, 0.6], [0.5, 0.5]]), "probabilities"),
        (lambda: metrics.accuracy([0, 2], [[0.5, 0.5], [0.5, 0.5]]), r"labels must be classes in \[0, 2\)"),
        (lambda: metrics.accuracy([0], [[0.5, 0.5], [0.5, 0.5]]), "labels must have shape"),
        (lambda: metrics.calibration_bins([0], [[1.0, 0.0]], n_bins=0), "n_bins"),
        (lambda: metrics.ood_auroc([], [1.0]), "scores_in must not be empty"),
        (lambda: metrics.mc_gaussian_nll([0.0], [[0.0]]), "exactly one"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_frechet_distance_hand_computed_and_against_scipy_sqrtm():
    from scipy.linalg import sqrtm

    # 1-D: (m_a - m_b)^2 + (s_a - s_b)^2 for the fitted means and standard deviations
    a, b = np.array([0.0, 2.0, 4.0]), np.array([1.0, 2.0])
    expected = (2.0 - 1.5) ** 2 + (np.std(a, ddof=1) - np.std(b, ddof=1)) ** 2
    assert metrics.frechet_distance(a[:, None], b[:, None]) == pytest.approx(expected, rel=1e-12)
    # d-D with correlated features: the textbook formula with scipy's matrix square root
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5))
    y = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)) + 0.5
    ca, cb = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    textbook = np.sum((x.mean(0) - y.mean(0)) ** 2) + np.trace(ca + cb - 2 * sqrtm(ca @ cb).real)
    assert metrics.frechet_distance(x, y) == pytest.approx(textbook, rel=1e-8)
    # a metric: zero on itself, symmetric, and it sees a shift of the mean and a change of spread
    assert metrics.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    assert metrics.frechet_distance(x, y) == pytest.approx(metrics.frechet_distance(y, x), rel=1e-8)
    assert metrics.frechet_distance(x, x + 1.0) == pytest.approx(5.0, rel=1e-8)
    assert metrics.frechet_distance(x, 2.0 * (x - x.mean(0)) + x.mean(0)) == pytest.approx(np.trace(ca), rel=1e-8)


def test_frechet_distance_with_rank_deficient_covariances():
    """Fewer samples than features (a singular covariance) must still give a finite, real number."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(4, 10)), rng.normal(size=(6, 10))
    value = metrics.frechet_distance(x, y)
    assert np.isfinite(value) and value > 0


@pytest.mark.parametrize(
    "a, b, message",
    [
        (np.zeros((1, 3)), np.zeros((5, 3)), r"features_a must have shape \(n >= 2, dim\)"),
        (np.zeros((5, 3)), np.zeros((5, 4)), "same feature dimension"),
        (np.zeros(5), np.zeros((5, 1)), "at least 2 dimension"),
        (np.full((3, 2), np.nan), np.zeros((3, 2)), "NaN"),
    ],
)
def test_frechet_distance_bad_input(a, b, message):
    with pytest.raises(ValueError, match=message):
        metrics.frechet_distance(a, b)
