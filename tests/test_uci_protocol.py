"""Pieces of the MC-dropout UCI protocol: standardisation, scores, network, training loop, grid search."""
import numpy as np
import pytest
import tf_keras as keras
from scipy.special import logsumexp

from bdl_tf.layers import MCDropout
from bdl_tf.regularization import dropout_weight_decay

import uci_protocol
from uci_protocol import (
    Evaluation,
    ProtocolSettings,
    Standardizer,
    build_mc_dropout_regressor,
    evaluate_samples,
    fit_mc_dropout_regressor,
    fit_regressor,
    grid_search,
    mean_and_standard_error,
    run_benchmark,
)


def test_standardizer_uses_the_training_statistics():
    rng = np.random.default_rng(0)
    train = rng.normal([3.0, -2.0, 5.0], [2.0, 0.5, 1.0], size=(50, 3))
    train[:, 2] = 5.0  # a constant column must not divide by zero
    test = rng.normal(size=(7, 3))
    scaler = Standardizer.fit(train)
    z = scaler.transform(train)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z[:, :2].std(axis=0), 1.0)
    np.testing.assert_array_equal(z[:, 2], 0.0)
    np.testing.assert_allclose(scaler.transform(test)[:, :2], (test[:, :2] - train[:, :2].mean(0)) / train[:, :2].std(0))
    np.testing.assert_allclose(scaler.inverse(scaler.transform(test)), test)


def test_standardizer_of_targets_rescales_samples():
    y = np.array([10.0, 20.0, 30.0, 40.0])
    scaler = Standardizer.fit(y)
    samples = np.array([[-1.0, 0.0, 1.0], [0.5, 0.5, 0.5]])  # (T, N) in standard units
    np.testing.assert_allclose(scaler.inverse(samples), samples * y.std() + 25.0)
    with pytest.raises(ValueError, match="at least 2 rows"):
        Standardizer.fit([1.0])


def test_evaluate_samples_matches_gals_formula():
    rng = np.random.default_rng(1)
    y = rng.normal(50.0, 10.0, size=20)
    samples = y + rng.normal(0.0, 2.0, size=(300, 20)) + 1.5
    tau = 0.3
    # net.py: logsumexp(-0.5 tau (y - y_t)^2) - log T - 0.5 log 2 pi + 0.5 log tau, averaged
    per_example = logsumexp(-0.5 * tau * (y[None] - samples) ** 2, axis=0) - np.log(300) - 0.5 * np.log(2 * np.pi) + 0.5 * np.log(tau)
    result = evaluate_samples(y, samples, tau)
    np.testing.assert_allclose(result.log_likelihood, per_example.mean(), rtol=1e-12)
    np.testing.assert_allclose(result.rmse, np.sqrt(np.mean((y - samples.mean(0)) ** 2)), rtol=1e-12)


def test_streamed_evaluation_agrees_with_the_formula_on_kept_samples():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 3))
    y = 40.0 + 5.0 * (x @ np.array([1.0, -0.5, 0.2])) + rng.normal(size=60)
    regressor = fit_mc_dropout_regressor(x, y, n_hidden=8, dropout_rate=0.1, tau=0.1, epochs=3)
    streamed = regressor.evaluate(x, y, 4000)
    kept = evaluate_samples(y, regressor.predict_samples(x, 4000), regressor.tau)
    # Different passes of the same network: the two MC estimates agree to their Monte-Carlo error.
    np.testing.assert_allclose(streamed.log_likelihood, kept.log_likelihood, rtol=0.02)
    np.testing.assert_allclose(streamed.rmse, kept.rmse, rtol=0.02)


def test_evaluate_samples_hand_values():
    exact = evaluate_samples([2.0, -1.0], [[2.0, -1.0]], tau=4.0)
    assert exact.rmse == 0.0
    np.testing.assert_allclose(exact.log_likelihood, 0.5 * np.log(4.0 / (2 * np.pi)))
    # y = 0 between samples +-1, tau = 1: both mixture components give N(0; 1, 1)
    mixture = evaluate_samples([0.0], [[1.0], [-1.0]], tau=1.0)
    assert mixture.rmse == 0.0
    np.testing.assert_allclose(mixture.log_likelihood, -0.5 * np.log(2 * np.pi) - 0.5)
    with pytest.raises(ValueError, match="tau"):
        evaluate_samples([0.0], [[1.0]], tau=0.0)


def test_network_is_gals_architecture_with_the_weight_decay():
    model = build_mc_dropout_regressor(input_dim=4, n_hidden=7, dropout_rate=0.05, weight_decay=1e-3)
    dropouts = [layer for layer in model.layers if isinstance(layer, MCDropout)]
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.rate for d in dropouts] == [0.05, 0.05]
    assert [d.units for d in dense] == [7, 1]
    assert dense[0].activation is keras.activations.relu
    assert model.layers.index(dropouts[0]) < model.layers.index(dense[0]) < model.layers.index(dropouts[1])
    expected = 1e-3 * sum(float(np.sum(d.kernel.numpy() ** 2)) for d in dense)  # biases are not decayed
    np.testing.assert_allclose(float(sum(model.losses)), expected, rtol=1e-5)
    x = np.ones((5, 4), np.float32)
    assert model(x).shape == (5, 1)
    assert not np.allclose(model(x), model(x)), "dropout must stay on at prediction time"


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(dropout_rate=1.0), "dropout_rate"),
        (dict(weight_decay=-1e-3), "weight_decay"),
        (dict(n_hidden=0), "n_hidden"),
        (dict(learning_rate=0.0), "learning_rate"),
    ],
)
def test_network_arguments_are_checked(kwargs, name):
    args = dict(input_dim=3, n_hidden=5, dropout_rate=0.1, weight_decay=1e-4) | kwargs
    with pytest.raises(ValueError, match=name):
        build_mc_dropout_regressor(**args)


def test_fit_runs_the_epochs_with_a_partial_last_batch():
    model = build_mc_dropout_regressor(input_dim=2, n_hidden=4, dropout_rate=0.1, weight_decay=1e-4)
    x = np.random.default_rng(2).normal(size=(300, 2))
    fit_regressor(model, x, x.sum(axis=1), epochs=5, batch_size=128)
    assert int(model.optimizer.iterations.numpy()) == 5 * 3  # ceil(300 / 128) = 3 steps per epoch
    with pytest.raises(ValueError, match="same number of rows"):
        fit_regressor(model, x, x[:10, 0], epochs=1)
    with pytest.raises(TypeError, match="model"):
        fit_regressor("not a model", x, x[:, 0], epochs=1)


def test_regressor_learns_and_answers_in_original_units():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(256, 2))
    y = 1000.0 + 50.0 * x[:, 0] - 20.0 * x[:, 1]  # far from 0 and from unit scale
    settings = ProtocolSettings(num_samples=50)
    regressor = fit_mc_dropout_regressor(x, y, n_hidden=32, dropout_rate=0.0, tau=1.0, epochs=300, settings=settings)
    samples = regressor.predict_samples(x[:40], 50)
    assert samples.shape == (50, 40)
    np.testing.assert_array_equal(np.ptp(samples, axis=0), 0.0)  # p = 0: every pass is the same network
    # A linear target is easy for 32 ReLUs: within 10% of the target's spread (~54), in its own units.
    assert regressor.evaluate(x[:40], y[:40], 50).rmse < 0.1 * y.std()
    # The weight decay gets the precision of the standardised targets, tau * sigma_y^2.
    lam = dropout_weight_decay(1e-2, 0.0, 256, 1.0 * y.std() ** 2)
    kernels = [layer.kernel_regularizer.l2 for layer in regressor.model.layers if isinstance(layer, keras.layers.Dense)]
    np.testing.assert_allclose(kernels, [lam, lam], rtol=1e-6)


class _Recorded:
    """Stands in for a trained network whose validation LL depends only on (p, tau)."""

    def __init__(self, score, log):
        self.score, self.log = score, log

    def evaluate(self, x, y, num_samples):
        self.log.append(("evaluate", x.copy(), num_samples))
        return Evaluation(rmse=1.0, log_likelihood=self.score)


def test_grid_search_scores_every_cell_on_the_last_fifth_and_keeps_the_best(monkeypatch):
    table = {(0.1, 0.5): -3.0, (0.1, 2.0): -1.0, (0.3, 0.5): -2.0, (0.3, 2.0): -4.0}
    log = []

    def fake_fit(x_train, y_train, *, n_hidden, dropout_rate, tau, epochs, settings):
        log.append(("fit", x_train.copy(), dropout_rate, tau, epochs))
        return _Recorded(table[(dropout_rate, tau)], log)

    monkeypatch.setattr(uci_protocol, "fit_mc_dropout_regressor", fake_fit)
    x = np.arange(20.0).reshape(10, 2)
    result = grid_search(x, x[:, 0], dropout_rates=[0.1, 0.3], tau_values=[0.5, 2.0], n_hidden=3, epochs=7,
                         settings=ProtocolSettings(num_samples=11))
    assert (result.dropout_rate, result.tau) == (0.1, 2.0)
    np.testing.assert_array_equal(result.validation_log_likelihood, [[-3.0, -1.0], [-2.0, -4.0]])
    fits = [entry for entry in log if entry[0] == "fit"]
    evaluations = [entry for entry in log if entry[0] == "evaluate"]
    assert [(f[2], f[3], f[4]) for f in fits] == [(0.1, 0.5, 7), (0.1, 2.0, 7), (0.3, 0.5, 7), (0.3, 2.0, 7)]
    for fit, evaluation in zip(fits, evaluations):
        np.testing.assert_array_equal(fit[1], x[:8])  # first 80% of the training split: fit
        np.testing.assert_array_equal(evaluation[1], x[8:])  # last 20%: validation
        assert evaluation[2] == 11


def test_grid_search_prefers_the_true_noise_precision():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 3))
    y = x.sum(axis=1) + rng.normal(size=200)  # noise precision 1
    settings = ProtocolSettings(num_samples=100)
    result = grid_search(x, y, dropout_rates=[0.05], tau_values=[1e-6, 1.0], n_hidden=16, epochs=50, settings=settings)
    # tau = 1e-6 scores -0.92 + 0.5 log 1e-6 - 5e-7 RMSE^2 ~ -7.8 whatever the fit; tau = 1 scores
    # about -0.92 - RMSE^2 / 2, above -5 unless RMSE > 2.9, worse than predicting the mean (~2).
    assert result.tau == 1.0
    assert result.validation_log_likelihood.shape == (1, 2)
    assert result.validation_log_likelihood[0, 0] < -7.0 and result.validation_log_likelihood[0, 1] > -5.0


def test_grid_search_arguments_are_checked():
    x = np.zeros((2, 2))
    with pytest.raises(ValueError, match="too few"):
        grid_search(x, x[:, 0], dropout_rates=[0.1], tau_values=[1.0], n_hidden=2, epochs=1)
    with pytest.raises(ValueError, match="dropout_rates must not be empty"):
        grid_search(np.zeros((40, 2)), np.zeros(40), dropout_rates=[], tau_values=[1.0], n_hidden=2, epochs=1)


def test_mean_and_standard_error():
    mean, se = mean_and_standard_error([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5
    np.testing.assert_allclose(se, np.std([1, 2, 3, 4], ddof=1) / 2.0)
    mean, se = mean_and_standard_error([0.7])
    assert mean == 0.7 and np.isnan(se)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(epochs_multiplier=0), "epochs_multiplier"),
        (dict(num_samples=0), "num_samples"),
        (dict(validation_fraction=0.0), "validation_fraction"),
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(length_scale=-1.0), "length_scale"),
        (dict(seed=-1), "seed"),
    ],
)
def test_settings_are_checked(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ProtocolSettings(**kwargs)


def test_run_benchmark_arguments_are_checked():
    with pytest.raises(TypeError, match="UCIDataset"):
        run_benchmark({"x": [1.0]})
