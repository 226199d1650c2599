"""The library's losses and checks inside compiled code: ``model.fit``, ``model.evaluate`` and a custom
``tf.function`` training step with an unknown batch size (or rank).

A shape the trace knows is refused at trace time with a ValueError; a shape only the run knows (the
batch size, or a rank Keras left unknown when ``reduce_retracing`` generalised two calls' targets)
is refused at run time with an ``InvalidArgumentError`` carrying the same sentence as the direct call.
Never a silent broadcast: issue 23, where ``evaluate(x, y.ravel())`` after ``evaluate(x, y)`` summed
a (N, N) loss.
"""
import re

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

import bdl_tf
from bdl_tf import metrics, vae

N = 64
RUN_TIME_ERROR = tf.errors.InvalidArgumentError


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, 3)).astype(np.float32), rng.normal(size=(N, 1)).astype(np.float32)


def _regression(loss=bdl_tf.negative_log_likelihood, **compile_kwargs):
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,)), bdl_tf.NormalHead(1)])
    model.compile(keras.optimizers.Adam(1e-2), loss, **compile_kwargs)
    return model


def _direct_message(y_shape, head_shape=(4, 2)):
    """The sentence a direct (eager) call gives for these shapes."""
    with pytest.raises(ValueError) as error:
        bdl_tf.negative_log_likelihood(np.zeros(y_shape, np.float32), bdl_tf.NormalHead(1)(np.zeros(head_shape, np.float32)))
    return str(error.value)


def _nll(model, x, y):
    """The mean NLL computed outside Keras, eagerly: what evaluate must report."""
    return float(np.mean(bdl_tf.negative_log_likelihood(y, model(x)).numpy()))


# -- issue 23: the loss inside evaluate and fit --------------------------------------------------
def test_evaluate_with_flat_targets_after_column_targets_is_the_same_loss(data):
    x, y = data
    model = _regression()
    expected = _nll(model, x, y)
    first = model.evaluate(x, y, verbose=0)
    flat = model.evaluate(x, y.ravel(), verbose=0)  # this retrace left y_true of unknown rank: it broadcast to (N, N)
    again = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose([first, flat, again], expected, rtol=1e-5)
    fresh = _regression()
    np.testing.assert_allclose(fresh.evaluate(x, y.ravel(), verbose=0), _nll(fresh, x, y), rtol=1e-5)


def test_fit_with_flat_targets_after_column_targets_trains_on_the_same_loss(data):
    x, y = data
    model, twin = _regression(), _regression()
    twin.set_weights(model.get_weights())
    model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    twin.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    flat = model.fit(x, y.ravel(), batch_size=32, epochs=1, shuffle=False, verbose=0).history["loss"]
    column = twin.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(flat, column, rtol=1e-5)


def test_a_wrong_event_size_known_at_trace_time_is_a_value_error_in_fit_and_evaluate(data):
    x, _ = data
    words = r"y_true has shape \((None|32), 2\) but the head predicts \((None|32), 1\) per batch"
    with pytest.raises(ValueError, match=words):
        _regression().fit(x, np.ones((N, 2)), verbose=0)
    with pytest.raises(ValueError, match=words):
        _regression().evaluate(x, np.ones((N, 2)), verbose=0)


def test_a_wrong_shape_known_only_at_run_time_fails_with_the_direct_calls_sentence(data):
    x, y = data
    model = _regression()
    model.evaluate(x, y, batch_size=32, verbose=0)
    # (32, 1) then (32, 2): the retrace sees y_true as (32, None); the event size is only known at run time
    with pytest.raises(RUN_TIME_ERROR) as error:
        model.evaluate(x, np.ones((N, 2)), batch_size=32, verbose=0)
    assert _direct_message((32, 2), (32, 2)) in str(error.value)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    with pytest.raises((RUN_TIME_ERROR, ValueError)) as error:  # fit may trace the new shape exactly: then at trace time
        model.fit(x, np.ones((N, 2)), batch_size=32, epochs=1, verbose=0)
    assert _direct_message((32, 2), (32, 2)) in str(error.value)


def test_nan_targets_are_refused_inside_fit(data):
    x, y = data
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(RUN_TIME_ERROR, match="y_true contains NaN or infinite values"):
        _regression().fit(x, bad, verbose=0)


def test_xla_compiled_evaluate_is_right_or_refused(data):
    x, y = data
    model = _regression(jit_compile=True)
    np.testing.assert_allclose([model.evaluate(x, y, verbose=0), model.evaluate(x, y.ravel(), verbose=0)],
                               _nll(model, x, y), rtol=1e-5)
    with pytest.raises(RUN_TIME_ERROR):  # XLA drops assertions: its own error on the reshape, not a broadcast
        model.evaluate(x, np.ones((N, 2)), verbose=0)


def test_integer_labels_for_a_categorical_head_are_refused_in_fit():
    model = keras.Sequential([keras.layers.Dense(3, input_shape=(3,)), bdl_tf.CategoricalHead(3)])
    model.compile("adam", bdl_tf.negative_log_likelihood)
    with pytest.raises(ValueError, match="one-hot encode them"):
        model.fit(np.ones((8, 3)), np.arange(8) % 3, verbose=0)


def test_ensemble_loss_in_fit_and_after_a_retrace(data):
    x, y = data
    model = keras.Sequential([keras.Input((3,)), bdl_tf.EnsembleDense(2, 3), bdl_tf.NormalHead(1)])
    model.compile("adam", bdl_tf.ensemble_negative_log_likelihood)
    with pytest.raises(ValueError, match=r"y_true has shape \((None|32),\) but the head predicts \((None|32), 1\)"):
        model.evaluate(x, y.ravel(), verbose=0)  # Keras adds no axis here: the prediction (N, M, 1) has rank 3
    expected = float(np.mean(bdl_tf.ensemble_negative_log_likelihood(y, model(x)).numpy()))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected, rtol=1e-5)
    with pytest.raises(RUN_TIME_ERROR, match=re.escape("y_true has shape (64, 2) but the head predicts (64, 1)")):
        model.evaluate(x, np.ones((N, 2)), batch_size=N, verbose=0)


# -- a custom training step, compiled with an unknown batch size -----------------------------------
def _custom_step(model, target_spec):
    optimizer = keras.optimizers.Adam(1e-2)

    @tf.function(input_signature=[tf.TensorSpec([None, 3]), target_spec])
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(bdl_tf.negative_log_likelihood(y, model(x)))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    return step


@pytest.mark.parametrize("spec", [tf.TensorSpec([None, 1]), tf.TensorSpec([None, None]), tf.TensorSpec(None)],
                         ids=["batch-unknown", "event-unknown", "rank-unknown"])
def test_custom_tf_function_step_trains_and_refuses_wrong_targets_with_the_same_sentence(data, spec):
    x, y = data
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,)), bdl_tf.NormalHead(1)])
    step = _custom_step(model, spec)
    losses = [float(step(x, y)) for _ in range(20)]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    if spec.shape.rank is None:  # what Keras does to (N,) targets of a rank-2 prediction, whatever it traced
        expected = _nll(model, x, y)  # before the step updates the weights
        np.testing.assert_allclose(float(step(x, y.ravel())), expected, rtol=1e-5)
    wrong = [(N, 2), (1, 1)] if spec.shape.rank is None or spec.shape[1] is None else [(1, 1)]
    for shape in wrong:  # (1, 1) would broadcast against every row
        with pytest.raises(RUN_TIME_ERROR) as error:
            step(x, np.zeros(shape, np.float32))
        assert _direct_message(shape, (N, 2)) in str(error.value)


def test_custom_step_with_a_flat_target_signature_is_refused_at_trace_time(data):
    x, y = data
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,)), bdl_tf.NormalHead(1)])
    with pytest.raises(ValueError, match=re.escape("y_true has shape (None,) but the head predicts (None, 1)")):
        _custom_step(model, tf.TensorSpec([None]))(x, y.ravel())


def test_target_dtypes_are_checked_at_trace_time():
    head = bdl_tf.NormalHead(1)

    @tf.function(input_signature=[tf.TensorSpec([None, 2]), tf.TensorSpec([None, 1], tf.complex64)])
    def complex_loss(params, y):
        return bdl_tf.negative_log_likelihood(y, head(params))

    with pytest.raises(TypeError, match="y_true must hold real numbers, got complex"):
        complex_loss(tf.zeros((2, 2)), tf.zeros((2, 1), tf.complex64))


# -- other compiled paths ------------------------------------------------------------------------
def test_numpy_metrics_in_compile_say_what_to_do(data):
    x, y = data
    model = _regression(metrics=[metrics.rmse])
    with pytest.raises(TypeError, match="y_true is a symbolic tensor.*model.predict"):
        model.evaluate(x, y, verbose=0)
    model = _regression(metrics=[bdl_tf.negative_log_likelihood])
    with pytest.raises(TypeError, match=r"compile\(metrics=...\) entry Keras hands it the head's mean"):
        model.evaluate(x, y, verbose=0)


@pytest.fixture(scope="module")
def cvae():
    shape = (4, 4, 1)
    model = vae.CVAE(vae.dense_encoder(shape, 2, hidden_units=(8,), condition_dim=3),
                     vae.dense_decoder(2, shape, hidden_units=(8,), condition_dim=3))
    model.compile(keras.optimizers.Adam(1e-3))
    images = np.random.default_rng(1).uniform(size=(16, *shape)).round().astype(np.float32)
    return model, images


def test_cvae_fit_checks_its_labels_inside_the_training_loop(cvae):
    model, images = cvae
    labels = np.arange(16) % 3
    model.fit(images, labels, batch_size=8, epochs=1, verbose=0)  # integer classes
    model.fit(images, labels.astype(np.float32), batch_size=8, epochs=1, verbose=0)  # whole-number floats
    model.fit(images, np.eye(3, dtype=np.float32)[labels], batch_size=8, epochs=1, verbose=0)  # one-hot rows
    with pytest.raises(RUN_TIME_ERROR, match=re.escape("labels must be classes in [0, 3)")):
        model.fit(images, labels + 1, batch_size=8, epochs=1, verbose=0)  # tf.one_hot made a class of 3 a zero row
    with pytest.raises(RUN_TIME_ERROR, match="labels must be integer class indices"):
        model.fit(images, labels + 0.5, batch_size=8, epochs=1, verbose=0)
    with pytest.raises(RUN_TIME_ERROR, match="must be one-hot"):
        model.fit(images, np.full((16, 3), 1 / 3, np.float32), batch_size=8, epochs=1, verbose=0)


def test_kl_divergence_estimate_in_a_tf_function_of_unknown_rank():
    q = vae.VAE(vae.dense_encoder((4,), 2, hidden_units=(4,), posterior="full"),
                vae.dense_decoder(2, (4,), hidden_units=(4,)))
    posterior = q.encode(np.full((3, 4), 0.5, np.float32))
    z = posterior.sample(5, seed=(1, 2))
    from tensorflow_probability import distributions as tfd

    other = tfd.MultivariateNormalDiag(tf.ones(2), tf.ones(2) * 2)  # no exact KL for this pair: estimated
    eager = vae.kl_divergence(posterior, other, z)

    @tf.function(input_signature=[tf.TensorSpec(None)])
    def estimate(samples):
        return vae.kl_divergence(posterior, other, samples)

    assert eager.shape == (3,)
    np.testing.assert_allclose(estimate(z).numpy(), eager.numpy(), rtol=1e-5)
    np.testing.assert_allclose(estimate(z[0]).numpy(), vae.kl_divergence(posterior, other, z[0]).numpy(), rtol=1e-5)
