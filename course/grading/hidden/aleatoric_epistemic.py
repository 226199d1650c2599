"""Answer key of exercise 05 (aleatoric and epistemic): bdl_tf.metrics and bdl_tf.uncertainty as
references; mistakes and hidden cases."""
import numpy as np

from course.checks.cases import case, probabilities, wave
from course.grading.answer_key import Answer, Mistake, ModelAnswer

_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


def gaussian_nll(y, mean, variance):
    from bdl_tf.metrics import gaussian_nll as library_nll

    return library_nll(y, mean, variance)


def heteroscedastic_loss(y, mean, log_variance):
    """Kendall & Gal (2017): the Gaussian NLL with s = log sigma^2, without the constant 1/2 log 2 pi."""
    return gaussian_nll(y, mean, np.exp(log_variance)) - _HALF_LOG_2PI


def _entropy(probs):
    from bdl_tf.uncertainty import entropy

    return entropy(probs)


def expected_entropy(prob_samples):
    from bdl_tf.uncertainty import expected_entropy as library_expected_entropy

    return library_expected_entropy(prob_samples)


def mutual_information(prob_samples):
    from bdl_tf.uncertainty import mutual_information as library_mutual_information

    return library_mutual_information(prob_samples)


def regression_split(mean_samples, variance_samples):
    from bdl_tf.uncertainty import regression_uncertainty

    split = regression_uncertainty(mean_samples, variance_samples)
    return split.aleatoric, split.epistemic


ANSWERS = {
    "uncertainty.gaussian_nll": Answer(
        gaussian_nll,
        mistakes=(
            ("you used the variance as a standard deviation: the variance is sigma^2, the density's scale is sqrt(variance)",
             lambda y, m, v: gaussian_nll(y, m, v**2)),
            ("the constant 1/2 log(2 pi) = 0.919 per example is missing",
             lambda y, m, v: gaussian_nll(y, m, v) - _HALF_LOG_2PI),
            ("average over the examples; don't sum", lambda y, m, v: gaussian_nll(y, m, v) * len(y)),
            ("the squared error is divided by 2 sigma^2, not sigma^2",
             lambda y, m, v: np.mean(0.5 * np.log(2 * np.pi * v) + (y - m) ** 2 / v)),
        ),
        hidden=(
            case(y=wave(8, phase=1.5), mean=wave(8, phase=1.9), variance=wave(8, phase=0.8, scale=0.3, offset=0.4)),
            case(y=wave(3, phase=0.1, scale=10.0), mean=np.zeros(3), variance=np.array([100.0, 0.01, 4.0])),
        ),
    ),
    "uncertainty.heteroscedastic_loss": Answer(
        heteroscedastic_loss,
        mistakes=(
            ("the squared residual is divided by the variance: multiply it by exp(-s), not exp(s)",
             lambda y, m, s: np.mean(0.5 * np.exp(s) * (y - m) ** 2 + 0.5 * s)),
            ("the + s / 2 term is missing: without it the loss is minimised by an infinite variance",
             lambda y, m, s: np.mean(0.5 * np.exp(-s) * (y - m) ** 2)),
            ("s is the log variance: the variance is exp(s), not s",
             lambda y, m, s: np.mean(0.5 * (y - m) ** 2 / s + 0.5 * s)),
            ("Kendall & Gal's loss leaves out the constant 1/2 log(2 pi)",
             lambda y, m, s: heteroscedastic_loss(y, m, s) + _HALF_LOG_2PI),
        ),
        hidden=(
            case(y=wave(8, phase=1.5), mean=wave(8, phase=1.9), log_variance=wave(8, phase=0.8, scale=3.0)),
            case(y=wave(4, phase=0.1, scale=10.0), mean=np.zeros(4), log_variance=np.array([4.0, -4.0, 0.0, 1.0])),
        ),
    ),
    "uncertainty.expected_entropy": Answer(
        expected_entropy,
        mistakes=(
            ("that is the entropy of the mean prediction (the total uncertainty); the expected entropy is the "
             "mean of the per-sample entropies, 1/T sum_t H[p_t]",
             lambda p: _entropy(p.mean(axis=0))),
            ("the 1/T is missing: average the T entropies, don't sum them", lambda p: _entropy(p).sum(axis=0)),
        ),
        hidden=(
            case(prob_samples=probabilities(8, 3, 4, phase=2.2, sharpness=3.0)),
            case(prob_samples=np.stack([np.eye(3), np.full((3, 3), 1.0 / 3.0)])),
        ),
    ),
    "uncertainty.mutual_information": Answer(
        mutual_information,
        mistakes=(
            ("that is the predictive entropy (the total); subtract the expected entropy: "
             "MI = H[1/T sum_t p_t] - 1/T sum_t H[p_t]",
             lambda p: _entropy(p.mean(axis=0))),
            ("that is the expected entropy (the aleatoric part); MI = H[1/T sum_t p_t] - 1/T sum_t H[p_t]",
             lambda p: _entropy(p).mean(axis=0)),
            ("wrong sign: MI = H[mean of p] - mean of H[p] >= 0 (entropy of the mean minus the mean of the entropies)",
             lambda p: _entropy(p).mean(axis=0) - _entropy(p.mean(axis=0))),
        ),
        hidden=(
            case(prob_samples=probabilities(8, 3, 4, phase=0.9, sharpness=3.0)),
            case(prob_samples=np.stack([np.eye(3), np.eye(3)[::-1]])),
        ),
    ),
    "uncertainty.regression_split": Answer(
        regression_split,
        mistakes=(
            ("the epistemic part is the variance of the predicted means, not their standard deviation",
             lambda mu, var: (var.mean(axis=0), mu.std(axis=0))),
            ("you swapped the two: aleatoric = mean of the predicted variances, epistemic = variance of the predicted means",
             lambda mu, var: (mu.var(axis=0), var.mean(axis=0))),
            ("use the variance over the T samples with 1/T (ddof=0), as the law of total variance says",
             lambda mu, var: (var.mean(axis=0), mu.var(axis=0, ddof=1))),
        ),
        hidden=(
            case(mean_samples=wave(10, 3, phase=1.7, scale=0.5), variance_samples=wave(10, 3, phase=2.7, scale=0.05, offset=0.1)),
            case(mean_samples=wave(2, 5, phase=0.2, scale=4.0), variance_samples=wave(2, 5, phase=0.6, scale=1.0, offset=3.0)),
        ),
    ),
    "uncertainty.ood": ModelAnswer(hidden_seed=3, mistakes=(
        Mistake("keras.layers.Dropout (off at prediction time) instead of bdl_tf.MCDropout",
                (("bdl_tf.MCDropout(0.5)", "keras.layers.Dropout(0.5)"),), ("auroc",)),
        Mistake("trained for one epoch only: the budget counts optimiser steps (epochs x batches per epoch)",
                (("epochs=epochs", "epochs=1"),), ("accuracy", "ece")),
    )),
}
