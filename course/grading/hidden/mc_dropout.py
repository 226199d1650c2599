"""Answer key of exercise 04 (MC dropout): inverted dropout forward pass, bdl_tf's predictive
probabilities and weight decay; mistakes and hidden cases."""
import numpy as np
from scipy.special import softmax

from course.checks.cases import case, mask, wave
from course.grading.answer_key import Answer, Mistake, ModelAnswer


def _forward(x, w1, b1, w2, b2, keep_masks, scale):
    hidden = np.maximum(x @ w1 + b1, 0.0)  # (N, H)
    return (hidden[None] * keep_masks * scale) @ w2 + b2  # (T, N, C)


def forward(x, w1, b1, w2, b2, keep_masks, rate):
    """Inverted dropout as Keras applies it: kept units are scaled by 1 / (1 - rate)."""
    return _forward(x, w1, b1, w2, b2, keep_masks, 1.0 / (1.0 - rate))


def predictive(logits):
    from bdl_tf.uncertainty import predictive_probs

    return predictive_probs(softmax(logits, axis=-1))


def weight_decay(length_scale, rate, n_train, tau):
    from bdl_tf import dropout_weight_decay

    return dropout_weight_decay(length_scale, rate, n_train, tau)


def _network(inputs, hidden, classes, phase):
    return {
        "w1": wave(inputs, hidden, phase=phase),
        "b1": wave(hidden, phase=phase + 1.0, scale=0.1),
        "w2": wave(hidden, classes, phase=phase + 2.0),
        "b2": wave(classes, phase=phase + 3.0, scale=0.1),
    }


ANSWERS = {
    "mcdropout.forward": Answer(
        forward,
        mistakes=(
            ("kept units must be scaled by 1 / (1 - rate) (inverted dropout, as Keras does), so the expected activation is unchanged",
             lambda x, w1, b1, w2, b2, m, p: _forward(x, w1, b1, w2, b2, m, 1.0)),
            ("scale the kept units by 1 / (1 - rate), not by (1 - rate)",
             lambda x, w1, b1, w2, b2, m, p: _forward(x, w1, b1, w2, b2, m, 1.0 - p)),
            ("scale by 1 / (1 - rate), the keep probability, not 1 / rate",
             lambda x, w1, b1, w2, b2, m, p: _forward(x, w1, b1, w2, b2, m, 1.0 / p)),
            ("keep_masks holds 1 for the units that are kept and 0 for the dropped ones",
             lambda x, w1, b1, w2, b2, m, p: _forward(x, w1, b1, w2, b2, 1.0 - m, 1.0 / (1.0 - p))),
        ),
        hidden=(
            case(x=wave(3, 5, phase=2.4), **_network(5, 8, 4, 0.5), keep_masks=mask(4, 3, 8, phase=1.3, keep=0.7), rate=0.3),
            case(x=wave(1, 1, phase=0.2), **_network(1, 3, 2, 2.0), keep_masks=mask(2, 1, 3, phase=2.2, keep=0.34), rate=0.75),
        ),
    ),
    "mcdropout.predictive": Answer(
        predictive,
        mistakes=(
            ("you averaged the logits and took one softmax; MC dropout averages the probabilities: 1/T sum_t softmax(f_t(x))",
             lambda logits: softmax(np.mean(logits, axis=0), axis=-1)),
            ("the 1/T is missing: average the T probability vectors (each row must sum to 1)",
             lambda logits: np.sum(softmax(logits, axis=-1), axis=0)),
            ("exp overflows for large logits (inf / inf = NaN): subtract the largest logit before exp",
             lambda logits: np.mean(np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True), axis=0)),
        ),
        hidden=(
            case(logits=wave(7, 3, 5, phase=0.3, scale=2.0)),
            case(logits=wave(1, 4, 2, phase=1.3)),
            case(logits=wave(3, 2, 3, phase=2.3, scale=500.0)),
        ),
    ),
    "mcdropout.weight_decay": Answer(
        weight_decay,
        mistakes=(
            ("use the keep probability 1 - p, not the dropout rate p", lambda l, p, n, tau: l**2 * p / (2.0 * n * tau)),
            ("divide by the number of training examples N", lambda l, p, n, tau: l**2 * (1.0 - p) / (2.0 * tau)),
            ("the length-scale enters squared: l^2 (1 - p) / (2 N tau)", lambda l, p, n, tau: l * (1.0 - p) / (2.0 * n * tau)),
        ),
        hidden=(
            case(length_scale=0.1, rate=0.25, n_train=60000, tau=100.0),
            case(length_scale=3.0, rate=0.9, n_train=7, tau=0.5),
        ),
    ),
    "mcdropout.regressor": ModelAnswer(hidden_seed=3, mistakes=(
        Mistake("keras.layers.Dropout (off at prediction time) instead of bdl_tf.MCDropout",
                (("bdl_tf.MCDropout(rate)", "keras.layers.Dropout(rate)"),), ("epistemic_ratio",)),
        Mistake("trained by the mean squared error instead of the Gaussian NLL",
                (("loss=bdl_tf.negative_log_likelihood", 'loss="mse"'),), ("nll",)),
    )),
}
