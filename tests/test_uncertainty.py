"""Entropy decomposition and variance decomposition on cases with known answers."""
import numpy as np
import pytest
from scipy.stats import entropy as scipy_entropy

from bdl_tf import uncertainty


def test_entropy_matches_scipy():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(5), size=20)
    np.testing.assert_allclose(uncertainty.entropy(probs), scipy_entropy(probs, axis=1), rtol=1e-12)
    assert uncertainty.entropy([1.0, 0.0]) == 0.0


def test_mutual_information_is_ln2_when_samples_split_between_two_classes():
    # Half the passes say class 0 with certainty, half say class 1: each pass has zero entropy,
    # the mean prediction is (1/2, 1/2) with entropy ln 2 -> all of it is epistemic.
    samples = np.array([[[1.0, 0.0]]] * 5 + [[[0.0, 1.0]]] * 5)
    summary = uncertainty.classification_uncertainty(samples)
    assert summary.mutual_information[0] == pytest.approx(np.log(2))
    assert summary.expected_entropy[0] == pytest.approx(0.0)
    assert summary.predictive_entropy[0] == pytest.approx(np.log(2))


def test_mutual_information_is_zero_when_samples_agree():
    # All passes say (1/2, 1/2): the uncertainty is all aleatoric.
    samples = np.full((8, 3, 2), 0.5)
    summary = uncertainty.classification_uncertainty(samples)
    np.testing.assert_allclose(summary.mutual_information, 0.0, atol=1e-12)
    np.testing.assert_allclose(summary.expected_entropy, np.log(2))


def test_classification_summaries_agree_with_single_functions_and_sum_up():
    rng = np.random.default_rng(1)
    samples = rng.dirichlet(np.ones(4), size=(30, 6))
    summary = uncertainty.classification_uncertainty(samples)
    np.testing.assert_allclose(summary.probs, uncertainty.predictive_probs(samples))
    np.testing.assert_allclose(summary.predictive_entropy, uncertainty.predictive_entropy(samples))
    np.testing.assert_allclose(summary.expected_entropy, uncertainty.expected_entropy(samples))
    np.testing.assert_allclose(summary.mutual_information, uncertainty.mutual_information(samples))
    np.testing.assert_allclose(
        summary.predictive_entropy, summary.expected_entropy + summary.mutual_information, rtol=1e-12
    )
    assert np.all(summary.mutual_information > 0)


def test_regression_total_is_the_variance_of_the_predictive_mixture():
    rng = np.random.default_rng(2)
    means, variances = rng.normal(size=(50, 10, 1)), rng.uniform(0.1, 1.0, size=(50, 10, 1))
    split = uncertainty.regression_uncertainty(means, variances)
    np.testing.assert_allclose(split.aleatoric, variances.mean(axis=0))
    np.testing.assert_allclose(split.epistemic, means.var(axis=0))
    # Law of total variance: the total is the variance of the Gaussian mixture 1/T sum_t N(mu_t, s_t^2).
    mixture_variance = (variances + means**2).mean(axis=0) - means.mean(axis=0) ** 2
    np.testing.assert_allclose(split.total, mixture_variance, rtol=1e-10)


def test_regression_with_constant_noise_variance():
    means = np.array([[1.0], [3.0]])
    split = uncertainty.regression_uncertainty(means, noise_variance=0.25)
    assert split.epistemic[0] == pytest.approx(1.0)
    assert split.aleatoric[0] == pytest.approx(0.25)
    assert split.std[0] == pytest.approx(np.sqrt(1.25))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: uncertainty.mutual_information(np.full((2, 3, 2), 0.7)), "summing to 1"),
        (lambda: uncertainty.predictive_entropy(np.array([0.5, 0.5])), "at least 2 dimension"),
        (lambda: uncertainty.regression_uncertainty(np.zeros((2, 3)), np.zeros((2, 4))), "same shape"),
        (lambda: uncertainty.regression_uncertainty(np.zeros((2, 3)), -np.ones((2, 3))), "variance_samples must be >= 0"),
        (lambda: uncertainty.regression_uncertainty(np.zeros((2, 3))), "exactly one"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
