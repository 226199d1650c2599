"""Progress bars: on in full mode, off in quick mode and CI; one bar per fit, over epochs or steps."""
import numpy as np
import pytest
import tf_keras as keras

import bdl_tf
from bdl_tf.progress import ProgressBar, fit_progress, progress_enabled


@pytest.mark.parametrize("quick, ci, progress, enabled", [
    ("0", "", "", True), ("1", "", "", False), ("0", "true", "", False), ("0", "", "0", False), ("0", "", "1", True),
])
def test_on_only_in_full_mode_outside_ci(monkeypatch, quick, ci, progress, enabled):
    monkeypatch.setenv("BDL_TF_QUICK", quick)
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("BDL_TF_PROGRESS", progress)
    assert progress_enabled() is enabled
    assert [type(c) for c in fit_progress()] == ([ProgressBar] if enabled else [])


@pytest.mark.parametrize("epochs, steps, unit, total", [(3, None, "epoch", 3), (1, 7, "step", 7)])
def test_the_bar_counts_epochs_or_the_steps_of_a_single_epoch(capsys, epochs, steps, unit, total):
    bdl_tf.set_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.zeros((28, 2), np.float32), np.zeros((28, 1), np.float32)
    model.fit(x, y, epochs=epochs, steps_per_epoch=steps, batch_size=4, verbose=0, callbacks=[ProgressBar("toy fit")])
    err = capsys.readouterr().err
    assert "toy fit: 100%" in err and f"{total}/{total}" in err and unit in err and "loss=" in err


def test_bad_description_is_refused():
    with pytest.raises(TypeError, match="description must be a string"):
        ProgressBar(3)


def test_mcmc_shows_one_bar_over_burn_in_and_draws_in_full_mode(monkeypatch, capsys):
    import tensorflow as tf
    import tensorflow_probability as tfp

    from bdl_tf.inference import run_mcmc

    monkeypatch.setenv("BDL_TF_QUICK", "0")
    monkeypatch.setenv("CI", "")
    target = tfp.distributions.MultivariateNormalDiag(tf.zeros(2, tf.float64)).log_prob
    result = run_mcmc(target, tf.zeros((2, 2), tf.float64), num_results=30, num_burnin_steps=20, seed=1)
    assert result.samples.shape == (30, 2, 2) and np.all(np.isfinite(result.samples))
    assert "MCMC" in capsys.readouterr().err  # and the draws are the same as without the bar:
    monkeypatch.setenv("BDL_TF_QUICK", "1")
    quiet = run_mcmc(target, tf.zeros((2, 2), tf.float64), num_results=30, num_burnin_steps=20, seed=1)
    np.testing.assert_array_equal(quiet.samples, result.samples)
    assert "MCMC" not in capsys.readouterr().err
