"""Monte-Carlo prediction: statistics against the analytic Bernoulli answer, shapes, seeds, bad input."""
import numpy as np
import pytest
import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf import set_seed
from bdl_tf.heads import BernoulliHead, CategoricalHead, NormalHead
from bdl_tf.layers import MCDropout
from bdl_tf.sampling import mc_predict

RATE = 0.3


@pytest.fixture
def linear_model():
    """y = w . (m * x) / (1 - p) + b with Bernoulli(1 - p) masks m on the inputs."""
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(5, 1)).astype(np.float32), np.float32(0.5)
    model = keras.Sequential([MCDropout(RATE, input_shape=(5,)), keras.layers.Dense(1)])
    model.layers[1].set_weights([w, np.array([b])])
    return model, w.ravel(), b


def test_mc_mean_and_variance_converge_to_the_analytic_bernoulli_moments(linear_model):
    model, w, b = linear_model
    x = np.random.default_rng(1).normal(size=(12, 5)).astype(np.float32)
    T = 20_000
    samples = mc_predict(model, x, T).mean_samples[..., 0].astype(np.float64)  # (T, N)

    deterministic = x @ w + b  # E[y] = w . x + b since E[m / (1 - p)] = 1
    analytic_var = (w**2 * x**2).sum(axis=1) * RATE / (1 - RATE)  # Var[m/(1-p)] = p / (1 - p)

    # Mean: the MC mean has standard error sqrt(var / T); 12 independent z-scores all below 5
    # fail by chance with probability < 12 * 6e-7.
    z_mean = (samples.mean(axis=0) - deterministic) / np.sqrt(analytic_var / T)
    assert np.all(np.abs(z_mean) < 5), z_mean
    # Variance: the sample variance has standard error sqrt((mu4 - var^2) / T), mu4 estimated
    # from the same samples; same 5-sigma bound.
    centred = samples - samples.mean(axis=0)
    se_var = np.sqrt(((centred**4).mean(axis=0) - samples.var(axis=0) ** 2) / T)
    z_var = (samples.var(axis=0) - analytic_var) / se_var
    assert np.all(np.abs(z_var) < 5), z_var


def test_samples_differ_between_passes_and_chunking_does_not_change_the_statistics(linear_model):
    model, w, b = linear_model
    x = np.ones((4, 5), np.float32)
    one_step = mc_predict(model, x, 50).mean_samples
    chunked = mc_predict(model, x, 50, max_rows=4).mean_samples  # one pass per compiled step
    assert one_step.shape == chunked.shape == (50, 4, 1)
    for samples in (one_step, chunked):
        assert len(np.unique(samples[:, 0, 0])) > 5  # passes differ
        assert len(np.unique(samples[0, :, 0])) > 1  # so do the inputs within one pass


def test_large_n_is_processed_in_batches_with_the_same_result_shape(linear_model):
    model, _, _ = linear_model
    x = np.random.default_rng(2).normal(size=(10, 5)).astype(np.float32)
    prediction = mc_predict(model, x, 7, max_rows=3)
    assert prediction.mean_samples.shape == (7, 10, 1)
    assert prediction.num_samples == 7


def test_seed_reproduces_the_samples(linear_model):
    model, _, _ = linear_model
    x = np.ones((3, 5), np.float32)
    set_seed(11)
    a = mc_predict(model, x, 20).mean_samples
    set_seed(11)
    b = mc_predict(model, x, 20).mean_samples
    np.testing.assert_array_equal(a, b)


def test_normal_head_variances_match_a_model_whose_variances_are_known():
    """Inputs x -> MCDropout(p) -> Dense(2) -> NormalHead(1) with the scale row fixed: every pass
    has sigma = min_scale + softplus(r) (aleatoric = sigma^2 exactly) and a mean w . (m x) / (1 - p)
    + b whose variance over the masks is sum_i w_i^2 x_i^2 p / (1 - p) (the epistemic part)."""
    rng = np.random.default_rng(5)
    w, b, r = rng.normal(size=5).astype(np.float32), 0.3, -0.7
    model = keras.Sequential([MCDropout(RATE, input_shape=(5,)), keras.layers.Dense(2), NormalHead(1, min_scale=1e-3)])
    model.layers[1].set_weights([np.stack([w, np.zeros(5, np.float32)], axis=1), np.array([b, r], np.float32)])
    x = rng.normal(size=(6, 5)).astype(np.float32)
    T = 8_000
    prediction = mc_predict(model, x, T)
    assert prediction.kind == "regression"
    assert prediction.mean_samples.shape == prediction.variance_samples.shape == (T, 6, 1)
    split = prediction.regression()

    sigma2 = (1e-3 + np.log1p(np.exp(r))) ** 2
    np.testing.assert_allclose(split.aleatoric[:, 0], sigma2, rtol=1e-5)
    analytic_epistemic = (w**2 * x**2).sum(axis=1) * RATE / (1 - RATE)
    # The sample variance of T draws has relative standard error <= sqrt((kurtosis - 1) / T); the
    # kurtosis of a sum of 5 scaled Bernoullis is below 10 here, so 15% is more than 5 sigma.
    np.testing.assert_allclose(split.epistemic[:, 0], analytic_epistemic, rtol=0.15)
    np.testing.assert_allclose(split.mean[:, 0], x @ w + b, atol=5 * np.sqrt(analytic_epistemic.max() / T))


def test_bernoulli_head_predicts_probabilities_and_classifies():
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(2,)), MCDropout(0.5), keras.layers.Dense(3), BernoulliHead(3)])
    x = np.random.default_rng(4).normal(size=(5, 2)).astype(np.float32)
    prediction = mc_predict(model, x, 10)
    assert prediction.kind == "bernoulli" and prediction.variance_samples is None
    assert np.all((prediction.mean_samples > 0) & (prediction.mean_samples < 1))
    summary = prediction.classification()
    assert summary.probs.shape == (5, 3, 2)
    np.testing.assert_allclose(summary.probs[..., 1], prediction.mean, rtol=1e-6)
    with pytest.raises(TypeError, match="use classification"):
        prediction.regression()


def test_categorical_head_and_softmax_output_give_probabilities():
    head = keras.Sequential([keras.layers.Dense(3, input_shape=(2,)), MCDropout(0.5), keras.layers.Dense(4), CategoricalHead(4)])
    softmax = keras.Sequential([keras.layers.Dense(3, input_shape=(2,)), MCDropout(0.5), keras.layers.Dense(4, activation="softmax")])
    lambda_head = keras.Sequential(
        [keras.layers.Dense(4, input_shape=(2,)), MCDropout(0.5),
         tfp.layers.DistributionLambda(lambda t: tfp.distributions.Categorical(logits=t))]
    )
    x = np.random.default_rng(3).normal(size=(5, 2)).astype(np.float32)
    for model in (head, softmax, lambda_head):
        prediction = mc_predict(model, x, 10)
        assert prediction.variance_samples is None  # a OneHotCategorical head declares probabilities only
        assert prediction.mean_samples.shape == (10, 5, 4)
        np.testing.assert_allclose(prediction.mean_samples.sum(axis=-1), 1.0, rtol=1e-5)
        summary = prediction.classification()
        assert summary.probs.shape == (5, 4) and summary.mutual_information.shape == (5,)


def test_bad_input_gives_clear_errors(linear_model):
    model, _, _ = linear_model
    x = np.ones((2, 5), np.float32)
    with pytest.raises(ValueError, match="num_samples must be an integer >= 1"):
        mc_predict(model, x, 0)
    with pytest.raises(TypeError, match="num_samples"):
        mc_predict(model, x, 2.5)
    with pytest.raises(ValueError, match="model expects inputs of shape"):
        mc_predict(model, np.ones((2, 4), np.float32), 3)
    with pytest.raises(ValueError, match="model expects inputs of shape"):
        mc_predict(model, np.ones((5,), np.float32), 3)
    with pytest.raises(ValueError, match="at least one example"):
        mc_predict(model, np.ones((0, 5), np.float32), 3)
    with pytest.raises(TypeError, match="x must be an array of numbers"):
        mc_predict(model, [["a"] * 5], 3)
    with pytest.raises(TypeError, match="tf_keras.Model"):
        mc_predict(lambda x: x, x, 3)


def test_a_keras_3_model_is_refused_with_advice():
    import keras as keras3  # Keras 3 is installed next to tf_keras by TensorFlow itself

    model = keras3.Sequential([keras3.Input((5,)), keras3.layers.Dense(1)])
    with pytest.raises(TypeError, match="Keras 3 model.*import tf_keras as keras"):
        mc_predict(model, np.ones((2, 5), np.float32), 3)


def test_layers_that_sample_weights_once_per_call_still_give_independent_passes():
    """DenseVariational shares one weight draw across a call: tiling would make all T passes equal."""
    from bdl_tf.inference import dense_variational
    from bdl_tf.sampling import samples_weights_per_call

    model = keras.Sequential([keras.Input((2,)), dense_variational(1, n_train=10, posterior_initial_scale=0.5)])
    assert samples_weights_per_call(model)
    assert not samples_weights_per_call(keras.Sequential([keras.Input((2,)), MCDropout(0.1)]))
    x = np.ones((3, 2), np.float32)
    samples = mc_predict(model, x, 40).mean_samples[..., 0]
    assert len(np.unique(samples[:, 0])) == 40  # every pass has its own weights
    np.testing.assert_allclose(samples[:, 0], samples[:, 1])  # ...shared by the batch within a pass


def test_retracing_for_each_new_model_stays_quiet(caplog):
    import logging

    x = np.ones((2, 5), np.float32)
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for _ in range(7):
            mc_predict(keras.Sequential([MCDropout(0.1, input_shape=(5,)), keras.layers.Dense(1)]), x, 3)
    assert "retracing" not in caplog.text
