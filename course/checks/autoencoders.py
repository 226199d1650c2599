"""Public cases of exercise 06 (autoencoders): the Bernoulli reconstruction loss, the optimal linear
autoencoder (PCA) and the size of a transpose convolution's output."""
from functools import partial

import numpy as np

from course.checks import probes, tasks
from course.checks.cases import Question, case, mask, wave
from course.checks.models import Criterion, ModelQuestion

EXERCISE = "06_autoencoders"


def _data(rows: int, columns: int, phase: float) -> np.ndarray:
    """Correlated columns with different means and spreads, so that centring matters."""
    base = wave(rows, columns, phase=phase)
    mixed = base @ np.triu(np.ones((columns, columns))) * np.linspace(1.0, 0.3, columns)
    return mixed + np.arange(1.0, columns + 1.0)


CONV = ModelQuestion(
    "ae.conv",
    ("images", "code_size", "steps"),
    partial(tasks.digit_images, code_size=8),
    probes.reconstructions,
    probes.reconstruction_measures,
    (
        Criterion("mse", "held-out reconstruction MSE per pixel", False,
                  "is a sigmoid applied twice, or the decoder's output not in [0, 1]?"),
    ),
    steps={"quick": 600, "full": 2000},
    returns="a pair (encoder, decoder) of tf_keras models",
    reported=("pca_mse",),
)
"""A convolutional autoencoder of 8x8 digits with an 8-number code; PCA's error is shown beside it."""

QUESTIONS = (
    Question(
        "ae.bernoulli_loss",
        (
            case(x=mask(3, 4, 4, phase=0.3), logits=wave(3, 4, 4, phase=1.1, scale=3.0)),
            case(x=mask(2, 6, phase=2.0), logits=wave(2, 6, phase=0.4, scale=200.0)),
        ),
        nan_hint="compute it from the logits without exp overflow: max(l, 0) - l x + log(1 + exp(-|l|))",
    ),
    Question(
        "ae.linear_autoencoder",
        (
            case(x=_data(20, 5, 0.0), k=2),
            case(x=_data(30, 4, 1.0), k=1),
        ),
    ),
    Question(
        "ae.conv_transpose_size",
        (
            case(size=7, kernel_size=3, stride=2, padding="same"),
            case(size=7, kernel_size=3, stride=2, padding="valid"),
            case(size=4, kernel_size=5, stride=1, padding="valid"),
            case(size=3, kernel_size=2, stride=3, padding="valid"),
        ),
        exact=True,
    ),
    CONV,
)
