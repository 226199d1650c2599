"""Public cases of exercise 05 (aleatoric and epistemic uncertainty): likelihood losses and uncertainty splits."""
from course.checks import probes, tasks
from course.checks.cases import Question, case, probabilities, wave
from course.checks.models import Criterion, ModelQuestion

EXERCISE = "05_aleatoric_epistemic"

_ZERO_LOG_HINT = "0 log 0 counts as 0: skip zero probabilities (np.where, or scipy.special.xlogy)"

OOD = ModelQuestion(
    "uncertainty.ood",
    ("x_train", "y_train", "steps"),
    lambda seed, quick, steps: tasks.seen_and_unseen_digits(seed, quick, steps, num_samples=50 if quick else 100),
    probes.mc_classification,
    probes.ood_measures,
    (
        Criterion("accuracy", "held-out accuracy", True,
                  "is it trained for the whole budget (steps counts optimiser steps, not epochs)?"),
        Criterion("ece", "expected calibration error", False,
                  "is it trained for the whole budget, by the cross-entropy of the labels?"),
        Criterion("auroc", "AUROC of the mutual information, unseen vs seen digits", True,
                  "is dropout on at prediction time (bdl_tf.MCDropout, not keras.layers.Dropout)?"),
    ),
    steps={"quick": 400, "full": 1200},
    returns="a tf_keras model with MCDropout layers whose output is the class probabilities (N, 8)",
)
"""An MC-dropout classifier of the digits 0-7 whose mutual information flags 8s and 9s."""

QUESTIONS = (
    Question(
        "uncertainty.gaussian_nll",
        (
            case(y=wave(6), mean=wave(6, phase=0.5), variance=wave(6, phase=1.0, scale=0.2, offset=0.5)),
            case(y=wave(10, phase=2.0, scale=3.0), mean=wave(10, phase=2.2, scale=3.0),
                 variance=wave(10, phase=0.3, scale=0.5, offset=2.0)),
        ),
    ),
    Question(
        "uncertainty.heteroscedastic_loss",
        (
            case(y=wave(6), mean=wave(6, phase=0.5), log_variance=wave(6, phase=1.0)),
            case(y=wave(10, phase=2.0, scale=3.0), mean=wave(10, phase=2.2, scale=3.0),
                 log_variance=wave(10, phase=0.3, scale=2.0)),
        ),
    ),
    Question(
        "uncertainty.expected_entropy",
        (
            case(prob_samples=probabilities(5, 4, 3, phase=0.2, sharpness=2.0)),
            case(prob_samples=probabilities(20, 2, 10, phase=1.2, sharpness=4.0)),
        ),
        nan_hint=_ZERO_LOG_HINT,
    ),
    Question(
        "uncertainty.mutual_information",
        (
            case(prob_samples=probabilities(5, 4, 3, phase=0.7, sharpness=2.0)),
            case(prob_samples=probabilities(20, 2, 10, phase=1.7, sharpness=4.0)),
        ),
        nan_hint=_ZERO_LOG_HINT,
    ),
    Question(
        "uncertainty.regression_split",
        (
            case(mean_samples=wave(5, 4), variance_samples=wave(5, 4, phase=1.0, scale=0.1, offset=0.3)),
            case(mean_samples=wave(30, 6, phase=2.0, scale=2.0), variance_samples=wave(30, 6, phase=0.4, scale=0.5, offset=1.0)),
        ),
        outputs=("aleatoric", "epistemic"),
    ),
    OOD,
)
