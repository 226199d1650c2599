"""Streamed summaries (mc_predict(keep_samples=False)) equal the summaries of the kept samples."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
from scipy.special import logsumexp
from scipy.stats import norm

import bdl_tf
from bdl_tf.metrics import mc_gaussian_nll

T, N = 37, 30  # T not a multiple of the passes per step: the last step's extra passes must not count


class CountingNoise(keras.layers.Layer):
    """Multiplicative noise that differs per row and per call but is a fixed function of a call
    counter: two copies of a network see the same "random" passes in either mode of mc_predict."""

    def build(self, input_shape):
        self.calls = self.add_weight(name="calls", shape=(), initializer="zeros", trainable=False)

    def call(self, x):
        rows = tf.cast(tf.range(tf.shape(x)[0]), x.dtype)[:, None]
        cols = tf.cast(tf.range(tf.shape(x)[1]), x.dtype)[None, :]
        noise = tf.sin(12.9898 * rows + 78.233 * cols + 4.1 * self.calls)
        with tf.control_dependencies([noise]):
            self.calls.assign_add(1.0)
        return x * (1.0 + 0.5 * noise)


def _model(head, outputs):
    """A fresh network with the same weights and the same noise sequence every time."""
    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [keras.layers.Dense(16, "relu", input_shape=(3,)), CountingNoise(), keras.layers.Dense(outputs)]
        + ([head()] if head is not None else [])
    )


def _both(head, outputs, x, **kwargs):
    """The streamed summary and the kept samples of the same passes (two copies of one network)."""
    streamed = bdl_tf.mc_predict(_model(head, outputs), x, T, max_rows=64, keep_samples=False, **kwargs)
    return streamed, bdl_tf.mc_predict(_model(head, outputs), x, T, max_rows=64)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, 3)).astype(np.float32), rng.normal(size=(N, 1)).astype(np.float32)


def test_regression_summaries_and_log_likelihood_match_the_samples(data):
    x, y = data
    streamed, kept = _both(lambda: bdl_tf.NormalHead(1), 2, x, y=y)
    assert streamed.num_samples == T and streamed.kind == kept.kind == "regression"
    a, b = streamed.regression(), kept.regression()
    for name in ("mean", "aleatoric", "epistemic"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-5, atol=1e-7)
    log_p = norm.logpdf(y[None, :, 0], kept.mean_samples[..., 0], np.sqrt(kept.variance_samples[..., 0]))
    np.testing.assert_allclose(streamed.log_likelihood, logsumexp(log_p, axis=0) - np.log(T), rtol=1e-5)


def test_classification_summaries_match_the_samples(data):
    x, _ = data
    for head, outputs in ((lambda: bdl_tf.CategoricalHead(4), 4), (lambda: bdl_tf.BernoulliHead(2), 2)):
        streamed, kept = _both(head, outputs, x)
        a, b = streamed.classification(), kept.classification()
        for name in ("probs", "predictive_entropy", "expected_entropy", "mutual_information"):
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-5, atol=1e-7)
        assert streamed.log_likelihood is None


def test_plain_tensor_output_with_a_noise_variance(data):
    x, y = data
    streamed, kept = _both(None, 1, x, y=y, noise_variance=0.5)
    expected = -mc_gaussian_nll(y[:, 0], kept.mean_samples[..., 0], noise_variance=0.5)
    np.testing.assert_allclose(streamed.log_likelihood.mean(), expected, rtol=1e-6)
    np.testing.assert_allclose(streamed.regression(noise_variance=0.5).epistemic,
                               kept.regression(noise_variance=0.5).epistemic, rtol=1e-5, atol=1e-8)


def test_streamed_mode_checks_its_arguments_and_warns_on_identical_passes(data):
    x, y = data
    normal, plain = _model(lambda: bdl_tf.NormalHead(1), 2), _model(None, 1)
    with pytest.raises(ValueError, match="keep_samples=False"):
        bdl_tf.mc_predict(normal, x, 3, y=y)
    with pytest.raises(ValueError, match="needs noise_variance"):
        bdl_tf.mc_predict(plain, x, 3, keep_samples=False, y=y)
    with pytest.raises(ValueError, match="noise_variance is for models with a plain tensor"):
        bdl_tf.mc_predict(normal, x, 3, keep_samples=False, y=y, noise_variance=1.0)
    with pytest.raises(ValueError, match=r"y must have shape \(30"):
        bdl_tf.mc_predict(normal, x, 3, keep_samples=False, y=y[:5])
    with pytest.raises(ValueError, match=r"y_true has shape \(1,\)"):
        bdl_tf.mc_predict(normal, x, 3, keep_samples=False, y=y[:, 0])
    fixed = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])
    with pytest.warns(bdl_tf.IdenticalPassesWarning):
        bdl_tf.mc_predict(fixed, x, 5, keep_samples=False)
