"""Answer key of exercise 02 (why uncertainty): SciPy's softmax, bdl_tf's entropy and ECE, mistakes, hidden cases."""
import numpy as np
from scipy.special import softmax as scipy_softmax

from course.checks.cases import case, probabilities, wave
from course.grading.answer_key import Answer, Mistake, ModelAnswer


def softmax(logits):
    return scipy_softmax(logits, axis=-1)


def entropy(probs):
    from bdl_tf.uncertainty import entropy as library_entropy

    return library_entropy(probs)


def _margin_to_bin_edges(probs, n_bins):
    """How far the largest confidence is from a bin edge: answers may put a value on an edge in either bin."""
    scaled = probs.max(axis=-1) * n_bins
    return float(np.min(np.abs(scaled - np.round(scaled))))


def ece(labels, probs, n_bins):
    from bdl_tf.metrics import expected_calibration_error

    if _margin_to_bin_edges(probs, n_bins) < 1e-6:
        raise ValueError("a confidence lies on a bin edge; choose other case inputs")
    return expected_calibration_error(labels, probs, n_bins)


def _bins(labels, probs, n_bins):
    from bdl_tf.metrics import calibration_bins

    return calibration_bins(labels, probs, n_bins)


def _unweighted_ece(labels, probs, n_bins):
    bins = _bins(labels, probs, n_bins)
    filled = bins.counts > 0
    return float(np.mean(np.abs(bins.accuracy[filled] - bins.confidence[filled])))


def _signed_ece(labels, probs, n_bins):
    bins = _bins(labels, probs, n_bins)
    filled = bins.counts > 0
    return float(np.sum(bins.counts[filled] * (bins.accuracy[filled] - bins.confidence[filled])) / bins.counts.sum())


def _true_class_ece(labels, probs, n_bins):
    confidence = probs[np.arange(len(labels)), labels]
    correct = probs.argmax(axis=-1) == labels
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        members = index == b
        if members.any():
            total += members.sum() * abs(correct[members].mean() - confidence[members].mean())
    return total / len(labels)


def _labels(probs, every):
    predicted = probs.argmax(axis=-1)
    wrong = np.arange(len(predicted)) % every == 0
    return np.where(wrong, (predicted + 1) % probs.shape[-1], predicted)


_PROBS_C = probabilities(30, 5, phase=2.3, sharpness=5.0)
_PROBS_D = probabilities(25, 2, phase=0.35, sharpness=2.0)

ANSWERS = {
    "why.softmax": Answer(
        softmax,
        mistakes=(
            ("exp overflows for large logits (inf / inf = NaN): subtract each row's largest logit before exp",
             lambda logits: np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)),
            ("you normalised over the wrong axis: each example's probabilities (the last axis) must sum to 1",
             lambda logits: scipy_softmax(logits, axis=0)),
            ("you normalised over the whole array: sum over the last axis only (keepdims=True)",
             lambda logits: scipy_softmax(logits, axis=None)),
        ),
        hidden=(
            case(logits=wave(3, 5, phase=0.9, scale=5.0)),
            case(logits=np.array([[-1e4, 0.0], [700.0, 800.0]])),
            case(logits=wave(2, 2, 3, phase=2.1, scale=2.0)),
        ),
    ),
    "why.entropy": Answer(
        entropy,
        mistakes=(
            ("that is the entropy in bits (log base 2); use the natural log (nats)",
             lambda probs: entropy(probs) / np.log(2.0)),
            ("0 log 0 gives NaN: count 0 log 0 as 0", lambda probs: -np.sum(probs * np.log(probs), axis=-1)),
            ("sum over the classes (last axis), not over the examples", lambda probs: entropy(np.swapaxes(probs, 0, -1))),
        ),
        hidden=(
            case(probs=probabilities(6, 5, phase=1.6, sharpness=3.0)),
            case(probs=np.array([[0.0, 1.0], [0.25, 0.75], [1.0, 0.0]])),
            case(probs=probabilities(2, 3, 4, phase=0.8)),
        ),
    ),
    "why.ece": Answer(
        ece,
        mistakes=(
            ("you averaged the bins equally: weight each bin's gap by its share of the examples, n_b / N",
             _unweighted_ece),
            ("take the absolute gap |accuracy - confidence| in each bin", _signed_ece),
            ("the confidence is the probability of the predicted class (the largest one), not of the true label",
             _true_class_ece),
        ),
        hidden=(
            case(labels=_labels(_PROBS_C, 4), probs=_PROBS_C, n_bins=15),
            case(labels=_labels(_PROBS_D, 3), probs=_PROBS_D, n_bins=4),
        ),
    ),
    "why.classifier": ModelAnswer(hidden_seed=3, mistakes=(
        Mistake("trained for one epoch only: the budget counts optimiser steps (epochs x batches per epoch)",
                (("epochs=epochs", "epochs=1"),), ("accuracy",)),
    )),
}
