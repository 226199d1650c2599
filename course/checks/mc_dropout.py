"""Public cases of exercise 04 (MC dropout): the forward pass with masks, the predictive, the weight decay."""
from course.checks import tasks
from course.checks.cases import Question, case, mask, wave

EXERCISE = "04_mc_dropout"


def _network(inputs: int, hidden: int, classes: int, phase: float) -> dict:
    return {
        "w1": wave(inputs, hidden, phase=phase),
        "b1": wave(hidden, phase=phase + 1.0, scale=0.1),
        "w2": wave(hidden, classes, phase=phase + 2.0),
        "b2": wave(classes, phase=phase + 3.0, scale=0.1),
    }


REGRESSOR = tasks.regression_question(
    "mcdropout.regressor",
    nll_hint="is it trained by the Gaussian NLL (not the mean squared error)?",
    ratio_hint="is dropout on at prediction time (bdl_tf.MCDropout, not keras.layers.Dropout)?",
    returns="a tf_keras model with MCDropout layers ending in bdl_tf.NormalHead(1)",
)
"""A heteroscedastic MC-dropout regressor on the toy problem."""

QUESTIONS = (
    Question(
        "mcdropout.forward",
        (
            case(x=wave(2, 3, phase=0.4), **_network(3, 4, 2, 0.0), keep_masks=mask(3, 2, 4, phase=0.2), rate=0.5),
            case(x=wave(4, 2, phase=1.4), **_network(2, 6, 3, 1.0), keep_masks=mask(5, 4, 6, phase=0.9, keep=0.8),
                 rate=0.2),
        ),
    ),
    Question(
        "mcdropout.predictive",
        (
            case(logits=wave(4, 3, 2, scale=2.0)),
            case(logits=wave(10, 5, 4, phase=0.8, scale=3.0)),
            case(logits=wave(2, 1, 3, phase=1.9, scale=600.0)),
        ),
        nan_hint="exp overflows for large logits: subtract the largest logit first",
    ),
    Question(
        "mcdropout.weight_decay",
        (
            case(length_scale=0.5, rate=0.1, n_train=1000, tau=10.0),
            case(length_scale=1.0, rate=0.5, n_train=20, tau=0.25),
            case(length_scale=2.0, rate=0.05, n_train=500, tau=1.0),
        ),
    ),
    REGRESSOR,
)
