"""Public cases of exercise 02 (why uncertainty): softmax, entropy, expected calibration error."""
import numpy as np

from course.checks import probes, tasks
from course.checks.cases import Question, case, probabilities, wave
from course.checks.models import Criterion, ModelQuestion

EXERCISE = "02_why_uncertainty"


def _labels(probs: np.ndarray, every: int) -> np.ndarray:
    """Labels that agree with the most probable class except for every ``every``-th example."""
    predicted = probs.argmax(axis=-1)
    wrong = np.arange(len(predicted)) % every == 0
    return np.where(wrong, (predicted + 1) % probs.shape[-1], predicted)


_PROBS_A = probabilities(12, 3, phase=0.2, sharpness=3.0)
_PROBS_B = probabilities(40, 4, phase=1.1, sharpness=4.0)

CLASSIFIER = ModelQuestion(
    "why.classifier",
    ("x_train", "y_train", "steps"),
    tasks.seen_and_unseen_digits,
    probes.class_probabilities,
    probes.seen_class_measures,
    (
        Criterion("accuracy", "held-out accuracy", True,
                  "is it trained for the whole budget (steps counts optimiser steps, not epochs)?"),
    ),
    steps={"quick": 300, "full": 900},
    returns="a tf_keras model whose output is the class probabilities (N, 8)",
    reported=("nll", "unseen_confidence"),
)
"""A softmax classifier of the digits 0-7; its NLL and its confidence on 8s and 9s are shown, not graded."""

QUESTIONS = (
    Question(
        "why.softmax",
        (
            case(logits=wave(4, 3, scale=3.0)),
            case(logits=np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]])),
            case(logits=wave(5, phase=0.7)),
        ),
        nan_hint="exp overflows for large logits: subtract the largest logit first (softmax does not change)",
    ),
    Question(
        "why.entropy",
        (
            case(probs=probabilities(4, 3, phase=0.4)),
            case(probs=np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])),
            case(probs=np.full((1, 4), 0.25)),
        ),
        nan_hint="0 log 0 counts as 0: skip zero probabilities (np.where, or scipy.special.xlogy)",
    ),
    Question(
        "why.ece",
        (
            case(labels=_labels(_PROBS_A, 4), probs=_PROBS_A, n_bins=5),
            case(labels=_labels(_PROBS_B, 3), probs=_PROBS_B, n_bins=10),
            case(labels=_labels(_PROBS_B, 5), probs=_PROBS_B, n_bins=3),
        ),
        nan_hint="skip empty bins (0 / 0)",
    ),
    CLASSIFIER,
)
