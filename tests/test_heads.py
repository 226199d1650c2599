"""Distribution heads: the distribution they build, their NLL loss, config round trip, errors."""
import numpy as np
import pytest
import tf_keras as keras
from scipy.special import softmax
from scipy.stats import norm

from bdl_tf.heads import BernoulliHead, CategoricalHead, NormalHead, negative_log_likelihood


def test_normal_head_builds_softplus_scale_and_its_nll_is_gaussian():
    params = np.array([[0.5, 0.0], [-1.0, 2.0]], np.float32)
    distribution = NormalHead(1, min_scale=1e-3)(params)
    scale = 1e-3 + np.log1p(np.exp(params[:, 1]))
    np.testing.assert_allclose(distribution.stddev().numpy().ravel(), scale, rtol=1e-5)
    y = np.array([[0.0], [1.0]], np.float32)
    expected = -norm.logpdf(y.ravel(), params[:, 0], scale)
    np.testing.assert_allclose(negative_log_likelihood(y, distribution).numpy(), expected, rtol=1e-5)


def test_categorical_and_bernoulli_heads():
    logits = np.array([[1.0, 2.0, 0.5]], np.float32)
    categorical = CategoricalHead(3)(logits)
    np.testing.assert_allclose(categorical.mean().numpy(), softmax(logits, axis=1), rtol=1e-5)
    one_hot = np.array([[0.0, 1.0, 0.0]], np.float32)
    nll = negative_log_likelihood(one_hot, categorical).numpy()
    np.testing.assert_allclose(nll, -np.log(softmax(logits, axis=1)[0, 1]), rtol=1e-5)
    bernoulli = BernoulliHead(2)(np.array([[0.0, 3.0]], np.float32))
    np.testing.assert_allclose(bernoulli.mean().numpy(), [[0.5, 1 / (1 + np.exp(-3))]], rtol=1e-5)


def test_heads_survive_keras_save_and_load(tmp_path):
    model = keras.Sequential([keras.layers.Dense(NormalHead.params_size(2), input_shape=(3,)), NormalHead(2, min_scale=0.01)])
    model.compile("adam", negative_log_likelihood)
    model.fit(np.ones((8, 3)), np.zeros((8, 2)), epochs=1, verbose=0)
    model.save(tmp_path / "head.keras")
    loaded = keras.models.load_model(tmp_path / "head.keras")
    assert isinstance(loaded.layers[-1], NormalHead) and loaded.layers[-1].min_scale == 0.01
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded(x).stddev().numpy(), model(x).stddev().numpy(), rtol=1e-6)


def test_wrong_number_of_inputs_is_explained():
    with pytest.raises(ValueError, match=r"needs 2 inputs per example \(use Dense\(NormalHead.params_size\(1\)\)\), got 3"):
        NormalHead(1)(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="event_size must be an integer >= 1"):
        CategoricalHead(0)
    with pytest.raises(ValueError, match="min_scale"):
        NormalHead(1, min_scale=0)
