"""The benchmark script's quick mode on Yacht: a short run, judged only on what it can show."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from bdl_tf.datasets.uci import load_uci_folder

from shared_data import YACHT, requires_yacht
from uci_protocol import run_benchmark

ROOT = Path(__file__).resolve().parents[1]

pytestmark = requires_yacht


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("uci_mc_dropout", ROOT / "benchmarks/uci_mc_dropout.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_beats_the_training_mean(script, capsys):
    result = script.main(["--data", str(YACHT), "--quick"])
    printed = capsys.readouterr().out

    assert len(result.splits) == 1
    split = result.splits[0]
    grid = split.grid
    # --quick cuts the grid to its corners: {0.005, 0.1} x {0.25, 0.75}, every cell scored.
    np.testing.assert_array_equal(grid.dropout_rates, [0.005, 0.1])
    np.testing.assert_array_equal(grid.tau_values, [0.25, 0.75])
    assert grid.validation_log_likelihood.shape == (2, 2)
    assert np.all(np.isfinite(grid.validation_log_likelihood))
    best = np.unravel_index(np.argmax(grid.validation_log_likelihood), (2, 2))
    assert (grid.dropout_rate, grid.tau) == (grid.dropout_rates[best[0]], grid.tau_values[best[1]])

    # Baseline: the training mean, and N(training mean, training variance) for the likelihood.
    data = load_uci_folder(YACHT).split(0)
    baseline_rmse = np.sqrt(np.mean((data.y_test - data.y_train.mean()) ** 2))
    baseline_ll = norm.logpdf(data.y_test, data.y_train.mean(), data.y_train.std()).mean()
    # 400 epochs get the test RMSE to 1.7-3.3 (measured) against 15.4 for the mean; a third of the
    # baseline (5.1) leaves room for seeds and grid choices and still fails an untrained network.
    assert split.test.rmse < baseline_rmse / 3
    # The MC predictive must be a better density than the marginal fit (about -4.1 here).
    assert np.isfinite(split.test.log_likelihood) and split.test.log_likelihood > baseline_ll

    assert "yacht" in printed and "bdl_tf (1 splits)" in printed
    assert "Gal & Ghahramani 2016  1.11 +- 0.09  -1.55 +- 0.03" in printed
    assert "wall time" in printed


def test_split_count_is_checked(script):
    with pytest.raises(SystemExit, match="--splits must be in"):
        script.main(["--data", str(YACHT), "--splits", "21", "--quick"])


def test_unknown_data_is_a_missing_folder(script, tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        script.main(["--data", str(tmp_path / "nothing-here")])


def test_run_benchmark_needs_a_split():
    with pytest.raises(ValueError, match="splits"):
        run_benchmark(load_uci_folder(YACHT), splits=[])
