"""Public cases of exercise 01 (Bayes' theorem): conjugate update, MAP, evidence, Bayesian linear regression."""
import numpy as np

from course.checks.cases import Question, case, wave

EXERCISE = "01_bayes"


def _design(rows: int, features: int, phase: float) -> np.ndarray:
    """A design matrix with a bias column of ones."""
    return np.column_stack([np.ones(rows), wave(rows, features - 1, phase=phase, scale=2.0)])


QUESTIONS = (
    Question(
        "bayes.posterior",
        (
            case(prior_a=1.0, prior_b=1.0, successes=7, trials=10),
            case(prior_a=2.0, prior_b=5.0, successes=0, trials=4),
            case(prior_a=0.5, prior_b=3.0, successes=12, trials=12),
        ),
        outputs=("posterior_a", "posterior_b"),
    ),
    Question(
        "bayes.map",
        (
            case(prior_a=2.0, prior_b=2.0, successes=7, trials=10),
            case(prior_a=1.0, prior_b=1.0, successes=3, trials=4),
            case(prior_a=3.0, prior_b=8.0, successes=20, trials=50),
        ),
    ),
    Question(
        "bayes.evidence",
        (
            case(prior_a=1.0, prior_b=1.0, successes=7, trials=10),
            case(prior_a=2.0, prior_b=5.0, successes=0, trials=4),
            case(prior_a=0.5, prior_b=0.5, successes=30, trials=40),
        ),
        nan_hint="use log-Gamma functions (scipy.special.gammaln / betaln) instead of factorials",
    ),
    Question(
        "bayes.linear_posterior",
        (
            case(features=_design(6, 2, 0.0), targets=wave(6, phase=1.0), prior_precision=1.0, noise_precision=4.0),
            case(features=_design(10, 3, 0.5), targets=wave(10, phase=2.0, scale=3.0), prior_precision=0.5, noise_precision=25.0),
        ),
        outputs=("mean", "covariance"),
    ),
)
