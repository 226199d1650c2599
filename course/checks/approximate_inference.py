"""Public cases of exercise 03 (approximate inference): HMC acceptance, leapfrog, the VI KL term and loss."""
import numpy as np

from course.checks import probes, tasks
from course.checks.cases import GaussianScore, Question, case, wave
from course.checks.models import Criterion, ModelQuestion

EXERCISE = "03_approximate_inference"

POSTERIOR = ModelQuestion(
    "inference.posterior",
    ("features", "targets", "prior_precision", "noise_precision", "steps"),
    tasks.linear_posterior,
    probes.posterior_moments,
    probes.posterior_measures,
    (
        Criterion("mean_error", "largest error of the posterior mean", False,
                  "is the prior in the target (the KL term), and the noise precision a precision?", " exact stds"),
        Criterion("std_error", "largest |log(std / exact std)|", False,
                  "is a variance used as a standard deviation (scale)?"),
    ),
    steps={"quick": 1000, "full": 2000},
    returns="a pair (mean, std) of arrays of shape (D,)",
)
"""Mean-field VI (or NUTS) on Bayesian linear regression, against the exact posterior."""

BNN = tasks.regression_question(
    "inference.bnn",
    nll_hint="is the KL of the weights divided by the number of training points N?",
    ratio_hint="are the weights random at prediction time (Flipout/DenseVariational layers)?",
    returns="a tf_keras model with variational layers ending in bdl_tf.NormalHead(1)",
)
"""A Flipout Bayesian network on the toy regression, the KL weighted 1/N."""

QUESTIONS = (
    Question(
        "inference.acceptance",
        (
            case(
                log_prob_current=wave(4, phase=0.1, scale=2.0, offset=-3.0),
                log_prob_proposed=wave(4, phase=1.3, scale=2.0, offset=-3.0),
                momentum_current=wave(4, 2, phase=0.5),
                momentum_proposed=wave(4, 2, phase=2.5),
            ),
            case(
                log_prob_current=np.array([-5.0, -1.0, -2.0]),
                log_prob_proposed=np.array([-1.0, -5.0, -2.0]),
                momentum_current=np.array([[0.5], [0.5], [1.0]]),
                momentum_proposed=np.array([[0.5], [0.5], [0.2]]),
            ),
        ),
        nan_hint="work with log-probabilities and exponentiate only the capped difference",
    ),
    Question(
        "inference.leapfrog",
        (
            case(position=np.array([1.0, -0.5]), momentum=np.array([0.3, 0.8]),
                 grad_log_prob=GaussianScore([0.0, 0.0], [1.0, 1.0]), step_size=0.1, num_steps=1),
            case(position=wave(3, phase=0.3), momentum=wave(3, phase=1.7),
                 grad_log_prob=GaussianScore([0.5, -1.0, 2.0], [1.0, 0.5, 2.0]), step_size=0.1, num_steps=5),
            case(position=np.array([2.0]), momentum=np.array([-1.0]),
                 grad_log_prob=GaussianScore([1.0], [0.7]), step_size=0.3, num_steps=10),
        ),
        outputs=("position", "momentum"),
    ),
    Question(
        "inference.vi_loss",
        (
            case(log_likelihoods=wave(8, offset=-2.0), kl=12.5, n_train=1000),
            case(log_likelihoods=wave(4, phase=1.0, offset=-1.0), kl=3.0, n_train=50),
            case(log_likelihoods=wave(16, phase=2.0, scale=0.5, offset=-0.5), kl=250.0, n_train=60000),
        ),
    ),
    POSTERIOR,
    BNN,
)
