"""Answer key of exercise 06 (autoencoders): TFP's Bernoulli, scikit-learn's PCA and Keras'
Conv2DTranspose as references; mistakes and hidden cases."""
import numpy as np

from course.checks.cases import case, mask, wave
from course.grading.answer_key import Answer, Mistake, ModelAnswer


def bernoulli_loss(x, logits):
    import tensorflow_probability as tfp

    tfd = tfp.distributions
    images = tfd.Independent(tfd.Bernoulli(logits=logits, dtype=np.float64), reinterpreted_batch_ndims=np.ndim(x) - 1)
    return -images.log_prob(x).numpy()


def _pixel_sum(values):
    return values.reshape(len(values), -1).sum(axis=1)


def linear_autoencoder(x, k):
    from sklearn.decomposition import PCA

    pca = PCA(n_components=k, svd_solver="full").fit(x)
    return pca.inverse_transform(pca.transform(x))


def _projection(x, k, centre, add_back, largest=True):
    mean = x.mean(axis=0) if centre else np.zeros(x.shape[1])
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    directions = vt[:k] if largest else vt[-k:]
    reconstruction = (x - mean) @ directions.T @ directions
    return reconstruction + mean if add_back else reconstruction


def conv_transpose_size(size, kernel_size, stride, padding):
    import tf_keras as keras

    layer = keras.layers.Conv2DTranspose(1, kernel_size, strides=stride, padding=padding)
    return int(layer.compute_output_shape((None, size, size, 1))[1])


def _conv_size(size, kernel_size, stride, padding):
    return -(-size // stride) if padding == "same" else (size - kernel_size) // stride + 1


ANSWERS = {
    "ae.bernoulli_loss": Answer(
        bernoulli_loss,
        mistakes=(
            ("sum over the pixels (the negative log-likelihood of the whole image); don't average",
             lambda x, logits: bernoulli_loss(x, logits) / np.prod(np.shape(x)[1:])),
            ("the decoder outputs logits, not probabilities: p = sigmoid(logits)",
             lambda x, logits: _pixel_sum(-(x * np.log(logits) + (1 - x) * np.log(1 - logits)))),
            ("log(sigmoid(l)) overflows for large |l|: use max(l, 0) - l x + log(1 + exp(-|l|))",
             lambda x, logits: _pixel_sum(-(x * np.log(1 / (1 + np.exp(-logits))) + (1 - x) * np.log(1 - 1 / (1 + np.exp(-logits)))))),
        ),
        hidden=(
            case(x=mask(4, 3, 3, phase=1.3), logits=wave(4, 3, 3, phase=0.2, scale=5.0)),
            case(x=mask(1, 8, phase=0.7, keep=0.25), logits=wave(1, 8, phase=2.9, scale=60.0)),
        ),
    ),
    "ae.linear_autoencoder": Answer(
        linear_autoencoder,
        mistakes=(
            ("centre the data (subtract the column means) before finding the directions, and add the mean back",
             lambda x, k: _projection(x, k, centre=False, add_back=False)),
            ("add the mean back after projecting the centred data", lambda x, k: _projection(x, k, centre=True, add_back=False)),
            ("keep the k directions of largest variance (the first right-singular vectors)",
             lambda x, k: _projection(x, k, centre=True, add_back=True, largest=False)),
        ),
        hidden=(
            case(x=wave(25, 6, phase=2.0) @ np.triu(np.ones((6, 6))) + np.arange(6.0), k=3),
            case(x=wave(15, 3, phase=0.5) * [3.0, 1.0, 0.2] - 5.0, k=2),
        ),
    ),
    "ae.conv_transpose_size": Answer(
        conv_transpose_size,
        mistakes=(
            ("that is the output size of an ordinary convolution; a transpose convolution goes the other way: "
             "size * stride + max(kernel_size - stride, 0) with 'valid' padding, size * stride with 'same'",
             _conv_size),
            ("the paddings are swapped: 'same' gives size * stride, 'valid' gives size * stride + max(kernel_size - stride, 0)",
             lambda n, k, s, p: conv_transpose_size(n, k, s, "valid" if p == "same" else "same")),
            ("(size - 1) * stride + kernel_size holds only when kernel_size >= stride; with a smaller kernel Keras still "
             "spaces the blocks a stride apart: size * stride + max(kernel_size - stride, 0)",
             lambda n, k, s, p: n * s if p == "same" else (n - 1) * s + k),
        ),
        hidden=(
            case(size=4, kernel_size=1, stride=3, padding="valid"),
            case(size=5, kernel_size=4, stride=3, padding="valid"),
            case(size=10, kernel_size=3, stride=1, padding="same"),
            case(size=3, kernel_size=2, stride=2, padding="valid"),
        ),
    ),
    "ae.conv": ModelAnswer(hidden_seed=3, mistakes=(
        Mistake("a sigmoid applied to the decoder's probabilities again",
                (('activation="sigmoid"),\n    ])', 'activation="sigmoid"),\n        keras.layers.Activation("sigmoid"),\n    ])'),), ("mse",)),
        Mistake("trained for one epoch only: the budget counts optimiser steps (epochs x batches per epoch)",
                (("epochs=epochs", "epochs=1"),), ("mse",)),
    )),
}
