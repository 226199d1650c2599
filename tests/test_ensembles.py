"""Deep ensembles: M members in one vectorised model, trained as M independent fits, predicted as M passes."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from bdl_tf import set_seed
from bdl_tf.ensembles import EnsembleDense, ensemble_negative_log_likelihood, ensemble_predict
from bdl_tf.heads import CategoricalHead, NormalHead

M = 4


def ensemble_regressor(members=M, hidden=32):
    return keras.Sequential([
        keras.Input((1,)),
        EnsembleDense(hidden, members, activation="relu"),
        EnsembleDense(NormalHead.params_size(1), members),
        NormalHead(1),
    ])


def test_each_member_is_its_own_dense_layer():
    set_seed(0)
    first, second = EnsembleDense(5, M, activation="tanh"), EnsembleDense(2, M)
    x = np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)
    hidden = first(x).numpy()
    out = second(hidden).numpy()
    w1, b1, w2, b2 = (v.numpy() for v in (first.kernel, first.bias, second.kernel, second.bias))
    for m in range(M):  # member m alone: two dense layers on the shared input
        np.testing.assert_allclose(out[:, m], np.tanh(x @ w1[m] + b1[m]) @ w2[m] + b2[m], rtol=1e-5, atol=1e-6)
    assert not np.allclose(w1[0], w1[1])  # each member has its own initialisation


def test_members_are_initialised_with_a_single_layers_fans():
    """Glorot uniform on (d, u) has variance 2 / (d + u); one (M, d, u) draw would use other fans."""
    set_seed(1)
    layer = EnsembleDense(200, 8)
    layer.build((None, 300))
    variance = layer.kernel.numpy().var()
    assert variance == pytest.approx(2 / (300 + 200), rel=0.03)  # 480,000 draws: sd of the variance ~0.3%


def test_a_regulariser_is_the_sum_of_the_members_own_penalties_and_survives_the_config():
    set_seed(3)
    layer = EnsembleDense(4, M, kernel_regularizer=keras.regularizers.l2(0.1), bias_regularizer=keras.regularizers.l1(0.2),
                          bias_initializer="ones")
    layer.build((None, 3))
    own = [keras.regularizers.l2(0.1)(layer.kernel[m]) + keras.regularizers.l1(0.2)(layer.bias[m]) for m in range(M)]
    np.testing.assert_allclose(float(tf.add_n(layer.losses)), float(tf.add_n(own)), rtol=1e-6)
    assert float(tf.add_n(layer.losses)) > 0
    copy = EnsembleDense.from_config(layer.get_config())
    copy.build((None, 3))
    copy.set_weights(layer.get_weights())
    np.testing.assert_allclose(float(tf.add_n(copy.losses)), float(tf.add_n(layer.losses)), rtol=1e-6)


def test_summed_loss_gives_each_member_the_gradient_of_its_own_nll():
    set_seed(2)
    model = ensemble_regressor()
    x = np.linspace(-1, 1, 16, dtype=np.float32)[:, None]
    y = np.sin(3 * x)
    with tf.GradientTape() as tape:
        total = tf.reduce_mean(ensemble_negative_log_likelihood(y, model(x)))
    grads = tape.gradient(total, model.trainable_variables)
    last = model.layers[1]  # the output EnsembleDense: member m's gradient from its own NLL only
    with tf.GradientTape() as tape:
        params = model.layers[1](model.layers[0](x))
        own = -tf.reduce_mean(NormalHead(1)(params[:, 1]).log_prob(y))
    (own_grad,) = tape.gradient(own, [last.kernel])
    index = [v.ref() for v in model.trainable_variables].index(last.kernel.ref())
    np.testing.assert_allclose(grads[index].numpy()[1], own_grad.numpy()[1], rtol=1e-4, atol=1e-7)


def test_predictions_decompose_into_known_member_moments():
    """Members with zero kernels predict N(loc_m, scale_m^2) everywhere: the mean is the mean of the
    locs, aleatoric the mean of scale^2, epistemic the (population) variance of the locs."""
    model = ensemble_regressor(members=3, hidden=2)
    out = model.layers[1]
    locs, scales = np.array([-1.0, 0.5, 2.0]), np.array([0.5, 1.0, 2.0])
    raw = np.log(np.expm1(scales - 1e-3))  # NormalHead: scale = 1e-3 + softplus(raw)
    out.kernel.assign(np.zeros(out.kernel.shape, np.float32))
    out.bias.assign(np.stack([locs, raw], axis=1).astype(np.float32))
    prediction = ensemble_predict(model, np.zeros((5, 1)))
    assert prediction.num_samples == 3 and prediction.kind == "regression"
    split = prediction.regression()
    np.testing.assert_allclose(prediction.mean, locs.mean(), rtol=1e-5)
    np.testing.assert_allclose(split.aleatoric, (scales**2).mean(), rtol=1e-4)
    np.testing.assert_allclose(split.epistemic, locs.var(), rtol=1e-5)


def test_one_fit_trains_all_members_and_they_disagree_away_from_the_data():
    set_seed(3)
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, size=(256, 1)).astype(np.float32)
    y = (np.sin(2 * x) + 0.1 * rng.normal(size=x.shape)).astype(np.float32)
    model = ensemble_regressor(members=5, hidden=50)
    model.compile(keras.optimizers.Adam(0.01), loss=ensemble_negative_log_likelihood)
    model.fit(x, y, epochs=150, batch_size=64, verbose=0)
    grid = np.linspace(-1.5, 1.5, 50)[:, None]
    on = ensemble_predict(model, grid).regression()
    off = ensemble_predict(model, np.concatenate([np.linspace(-8, -6, 25), np.linspace(6, 8, 25)])[:, None]).regression()
    assert np.sqrt(np.mean((on.mean - np.sin(2 * grid)) ** 2)) < 0.2  # the ensemble fits (noise sd 0.1)
    # epistemic beyond the data on each side, not pooled: at least 10x its level on the data
    assert np.median(off.epistemic[:25]) > 10 * np.median(on.epistemic)
    assert np.median(off.epistemic[25:]) > 10 * np.median(on.epistemic)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: EnsembleDense(4, 0), ValueError, "members"),
        (lambda: EnsembleDense(0, 3), ValueError, "units"),
        (lambda: EnsembleDense(4, 3)(np.ones((2, 5, 1), np.float32)), ValueError, "5 members"),
        (lambda: EnsembleDense(4, 3)(np.ones((2, 2, 2, 1), np.float32)), ValueError, "(N, features)"),
        (lambda: ensemble_negative_log_likelihood(np.ones((8,)), ensemble_regressor()(np.ones((8, 1)))), ValueError, "(8, 1)"),
        (lambda: ensemble_negative_log_likelihood(np.ones((8, 1)), np.ones((8, 1))), TypeError, "distribution"),
        (lambda: ensemble_negative_log_likelihood(np.full((2, 3), 0.5), keras.Sequential(
            [keras.Input((1,)), EnsembleDense(3, 2), CategoricalHead(3)])(np.ones((2, 1)))), ValueError, "one-hot"),
        (lambda: ensemble_predict(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]), np.ones((3, 1))), ValueError,
         "no EnsembleDense"),
        (lambda: ensemble_predict(keras.Sequential([keras.Input((1,)), EnsembleDense(2, 3), keras.layers.Reshape((6,))]),
                                  np.ones((3, 1))), ValueError, "no member axis of size [3]"),
        (lambda: ensemble_predict(ensemble_regressor(), np.full((3, 1), np.nan)), ValueError, "x contains NaN"),
        (lambda: ensemble_predict(ensemble_regressor(), np.ones((0, 1))), ValueError, "x must not be empty"),
        (lambda: ensemble_predict(ensemble_regressor(), np.ones((3, 1)), batch_size=0), ValueError, "batch_size"),
    ],
)
def test_bad_input_gets_a_sentence(call, error, words):
    with pytest.raises(error) as caught:
        call()
    assert words in str(caught.value)
