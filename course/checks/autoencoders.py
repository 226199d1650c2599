"""Public cases of exercise 06 (autoencoders): the Bernoulli reconstruction loss, the optimal linear
autoencoder (PCA) and the size of a transpose convolution's output."""
import numpy as np

from course.checks.cases import Question, case, mask, wave

EXERCISE = "06_autoencoders"


def _data(rows: int, columns: int, phase: float) -> np.ndarray:
    """Correlated columns with different means and spreads, so that centring matters."""
    base = wave(rows, columns, phase=phase)
    mixed = base @ np.triu(np.ones((columns, columns))) * np.linspace(1.0, 0.3, columns)
    return mixed + np.arange(1.0, columns + 1.0)


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
        ),
        exact=True,
    ),
)
