"""Answer key of exercise 01 (Bayes): references from bdl_tf.inference, mistakes, hidden cases."""
import numpy as np
from scipy.special import betaln, gammaln

from course.checks.cases import case, wave
from course.grading.answer_key import Answer


def posterior(prior_a, prior_b, successes, trials):
    from bdl_tf.inference import beta_binomial_posterior

    beta = beta_binomial_posterior(successes, trials, prior_a, prior_b)
    return float(beta.concentration1), float(beta.concentration0)


def map_estimate(prior_a, prior_b, successes, trials):
    from bdl_tf.inference import beta_binomial_map

    return beta_binomial_map(successes, trials, prior_a, prior_b)


def log_evidence(prior_a, prior_b, successes, trials):
    from bdl_tf.inference import beta_binomial_predictive

    prior_predictive = beta_binomial_predictive(0, 0, trials, prior_a, prior_b)
    return float(prior_predictive.log_prob(np.float64(successes)))


def linear_posterior(features, targets, prior_precision, noise_precision):
    from bdl_tf.inference import bayesian_linear_regression

    result = bayesian_linear_regression(features, targets, prior_precision, noise_precision)
    return result.mean, result.covariance


def _log_choose(n, k):
    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


def _design(rows, features, phase):
    return np.column_stack([np.ones(rows), wave(rows, features - 1, phase=phase, scale=1.5)])


def _linear_precision(phi, alpha, beta):
    return alpha * np.eye(phi.shape[1]) + beta * phi.T @ phi


ANSWERS = {
    "bayes.posterior": Answer(
        posterior,
        mistakes=(
            ("you swapped successes and failures: a counts the successes (a + k), b the failures (b + n - k)",
             lambda a, b, k, n: (a + n - k, b + k)),
            ("b must add the failures n - k, not all n trials", lambda a, b, k, n: (a + k, b + n)),
            ("you left out the prior: the posterior adds the counts to the prior's a and b",
             lambda a, b, k, n: (float(k), float(n - k))),
        ),
        hidden=(
            case(prior_a=3.0, prior_b=3.0, successes=5, trials=5),
            case(prior_a=10.0, prior_b=0.5, successes=2, trials=30),
            case(prior_a=1.5, prior_b=2.5, successes=17, trials=40),
        ),
    ),
    "bayes.map": Answer(
        map_estimate,
        mistakes=(
            ("that is the posterior mean A / (A + B); the MAP estimate is the mode (A - 1) / (A + B - 2)",
             lambda a, b, k, n: (a + k) / (a + b + n)),
            ("that is the maximum-likelihood estimate k / n, which ignores the prior", lambda a, b, k, n: k / n),
            ("that is the mode of the prior; use the posterior's A = a + k and B = b + n - k",
             lambda a, b, k, n: (a - 1.0) / (a + b - 2.0) if a + b > 2 else np.nan),
        ),
        hidden=(
            case(prior_a=5.0, prior_b=5.0, successes=1, trials=10),
            case(prior_a=1.5, prior_b=2.0, successes=9, trials=9),
            case(prior_a=4.0, prior_b=2.0, successes=30, trials=100),
        ),
    ),
    "bayes.evidence": Answer(
        log_evidence,
        mistakes=(
            ("the binomial coefficient C(n, k) is missing: that is the probability of one particular "
             "sequence of outcomes, the evidence of the count k sums over all C(n, k) of them",
             lambda a, b, k, n: log_evidence(a, b, k, n) - _log_choose(n, k)),
            ("that is p(k), not log p(k)", lambda a, b, k, n: np.exp(log_evidence(a, b, k, n))),
            ("the prior's normaliser is missing: divide by B(a, b), i.e. subtract log B(a, b)",
             lambda a, b, k, n: log_evidence(a, b, k, n) + betaln(a, b)),
        ),
        hidden=(
            case(prior_a=3.0, prior_b=3.0, successes=5, trials=5),
            case(prior_a=1.0, prior_b=1.0, successes=0, trials=20),
            case(prior_a=0.5, prior_b=2.0, successes=13, trials=27),
        ),
    ),
    "bayes.linear_posterior": Answer(
        linear_posterior,
        mistakes=(
            ("the mean needs the noise precision: m_N = beta S_N Phi^T y",
             lambda phi, y, alpha, beta: (np.linalg.inv(_linear_precision(phi, alpha, beta)) @ phi.T @ y,
                                          np.linalg.inv(_linear_precision(phi, alpha, beta)))),
            ("the covariance is the inverse of the precision alpha I + beta Phi^T Phi (you returned the precision)",
             lambda phi, y, alpha, beta: (linear_posterior(phi, y, alpha, beta)[0], _linear_precision(phi, alpha, beta))),
            ("alpha is the prior precision: it adds alpha I (not I / alpha) to the posterior precision",
             lambda phi, y, alpha, beta: linear_posterior(phi, y, 1.0 / alpha, beta)),
        ),
        hidden=(
            case(features=_design(8, 2, 0.3), targets=wave(8, phase=0.9, scale=2.0), prior_precision=2.0, noise_precision=1.0),
            case(features=_design(15, 4, 1.3), targets=wave(15, phase=2.9), prior_precision=0.1, noise_precision=10.0),
        ),
    ),
}
