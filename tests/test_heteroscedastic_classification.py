"""Kendall & Gal's classification aleatoric loss (Gaussian noise on the logits, MC-integrated): its analytic limits."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
from scipy.special import expit, log_softmax

from bdl_tf import mc_predict, set_seed
from bdl_tf.heads import HeteroscedasticCategoricalHead, negative_log_likelihood
from bdl_tf.layers import MCDropout


def head_params(logits, scales, min_scale=1e-3):
    """The raw inputs that give these logits and (> min_scale) scales: scale = min_scale + softplus(raw)."""
    shifted = np.asarray(scales, np.float64) - min_scale
    raw = shifted + np.log(-np.expm1(-shifted))  # softplus^-1, stable for large scales
    return np.concatenate([logits, raw], axis=-1).astype(np.float32)


def test_without_noise_the_loss_is_the_softmax_cross_entropy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 4)) * 3
    labels = np.eye(4)[rng.integers(0, 4, 6)]
    head = HeteroscedasticCategoricalHead(4, num_samples=10, min_scale=1e-6)
    params = np.concatenate([logits, np.full_like(logits, -40.0)], axis=-1).astype(np.float32)  # scale 1e-6
    loss = negative_log_likelihood(labels, head(params)).numpy()
    np.testing.assert_allclose(loss, -(log_softmax(logits, axis=-1) * labels).sum(-1), rtol=1e-4, atol=1e-5)


def test_two_classes_match_gauss_hermite_quadrature():
    """C = 2: p(y = 1) = E[sigmoid(f1 - f0 + sqrt(s0^2 + s1^2) z)], z ~ N(0, 1), by 80-point quadrature;
    the MC estimate with T = 200,000 has sd <= 0.5 / sqrt(T) = 0.0011: 5 sd."""
    set_seed(1)
    logits = np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
    scales = np.array([[0.5, 1.0], [2.0, 0.3], [3.0, 3.0]])
    probs = HeteroscedasticCategoricalHead(2, num_samples=200_000)(head_params(logits, scales)).probs_parameter().numpy()
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    spread = np.sqrt((scales**2).sum(-1, keepdims=True))
    exact = (weights * expit(logits[:, 1:] - logits[:, :1] + spread * nodes)).sum(-1) / weights.sum()
    np.testing.assert_allclose(probs[:, 1], exact, atol=5 * 0.5 / np.sqrt(200_000))


def test_huge_noise_spreads_the_prediction_to_uniform():
    set_seed(2)
    logits = np.array([[3.0, 0.0, -2.0]])
    probs = HeteroscedasticCategoricalHead(3, num_samples=50_000)(head_params(logits, [[1e4] * 3])).probs_parameter().numpy()
    # each class is the noise's argmax with probability 1/3: 5 sd of the MC fraction
    np.testing.assert_allclose(probs[0], 1 / 3, atol=5 * np.sqrt(2 / 9 / 50_000))


def test_loss_attenuation_noise_helps_a_wrong_prediction_and_hurts_a_right_one():
    set_seed(3)
    head = HeteroscedasticCategoricalHead(3, num_samples=20_000)
    logits = np.array([[4.0, 0.0, 0.0], [4.0, 0.0, 0.0]])
    labels = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # first example misclassified, second right
    params = tf.Variable(head_params(logits, np.ones((2, 3))))
    with tf.GradientTape() as tape:
        loss = negative_log_likelihood(labels, head(params))
    grad_raw_scale = tape.jacobian(loss, params).numpy()[[0, 1], [0, 1], 3:].sum(-1)  # d loss_i / d scales_i
    assert grad_raw_scale[0] < 0 < grad_raw_scale[1]


def test_it_is_a_categorical_head_for_mc_predict_and_round_trips_its_config():
    set_seed(4)
    model = keras.Sequential([
        keras.Input((2,)), keras.layers.Dense(8, activation="relu"), MCDropout(0.3),
        keras.layers.Dense(HeteroscedasticCategoricalHead.params_size(3)), HeteroscedasticCategoricalHead(3, num_samples=16),
    ])
    prediction = mc_predict(model, np.zeros((5, 2)), 20)
    assert prediction.kind == "categorical"
    split = prediction.classification()
    np.testing.assert_allclose(split.probs.sum(-1), 1.0, rtol=1e-5)
    clone = keras.Sequential.from_config(model.get_config())
    assert clone.layers[-1].get_config()["num_samples"] == 16


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: HeteroscedasticCategoricalHead(3)(np.zeros((2, 3), np.float32)), ValueError, "needs 6 inputs"),
        (lambda: HeteroscedasticCategoricalHead(3, num_samples=0), ValueError, "num_samples"),
        (lambda: HeteroscedasticCategoricalHead(3, min_scale=-1.0), ValueError, "min_scale"),
    ],
)
def test_bad_arguments_get_a_sentence(call, error, words):
    with pytest.raises(error) as caught:
        call()
    assert words in str(caught.value)
