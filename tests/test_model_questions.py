"""Model questions: the answer builds and trains a tf_keras/TFP model and is graded on what it does.

Static checks of the seed table (thresholds between the reference and its mistakes, in both modes,
the docs tables in sync), the measurements against known answers, the feedback and the budget.
The mistakes through the sandboxed grader: tests/test_grading_model_mistakes.py; the solutions'
full marks and the blanks' zero: tests/test_grading.py.
"""
import math
import sys

import nbformat
import numpy as np
import pytest
from scipy import stats

from course.checks import EXERCISES, QUESTIONS, check, exercise_of
from course.checks.judge import judge_predict, judge_weights
from course.checks.models import MODES, ModelQuestion, run_model_answer, stored_thresholds
from course.checks.probes import elbo_measures, posterior_measures, regression_measures
from course.exercises import exercise_names
from course.grading.answer_key import answers
from course.syllabus import REPO_ROOT

MODEL_QUESTIONS = [q for qs in EXERCISES.values() for q in qs if isinstance(q, ModelQuestion)]


def _points(name):
    notebook = nbformat.read(REPO_ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    return {c.metadata["bdl_tf"]["grade_id"]: c.metadata["bdl_tf"]["points"] for c in notebook.cells
            if "grade_id" in c.metadata.get("bdl_tf", {})}


def _answer_cell(notebook, grade_id):
    return next(c for c in notebook.cells if c.metadata.get("bdl_tf", {}).get("grade_id") == grade_id)


def test_every_exercise_from_02_has_a_model_question_and_they_hold_a_third_of_the_points():
    points = {grade_id: p for name in exercise_names() for grade_id, p in _points(name).items()}
    model = {q.grade_id for q in MODEL_QUESTIONS}
    assert len(model) >= 8
    for name in exercise_names()[1:]:
        assert any(isinstance(q, ModelQuestion) for q in EXERCISES[name]), name
    assert sum(points[g] for g in model) >= sum(points.values()) / 3


def test_thresholds_lie_between_the_reference_and_its_mistakes_in_both_modes():
    stored = stored_thresholds()
    for question in MODEL_QUESTIONS:
        entry = stored[question.grade_id]
        for mode in MODES:
            for criterion in question.criteria:
                row = entry["criteria"][mode][criterion.key]
                worst, best, threshold = row["reference_worst"], row["mistake_best"], row["threshold"]
                assert len(row["reference"]) >= 5 and row["margin"] > 0, (question.grade_id, mode, row)
                assert criterion.passes(worst, threshold), (question.grade_id, mode, row)
                if best is not None:
                    assert not criterion.passes(best, threshold), (question.grade_id, mode, row)
            assert entry["seconds"][mode] > 0


def _script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("model_thresholds", REPO_ROOT / "scripts" / "model_thresholds.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script  # its dataclasses look their module up
    spec.loader.exec_module(script)
    return script


def test_the_docs_and_readme_tables_are_the_stored_ones():
    script, stored = _script(), stored_thresholds()
    docs = (REPO_ROOT / "docs" / "exercises.md").read_text(encoding="utf-8")
    assert script.markdown_table(stored) in docs
    questions = script.question_table(stored)
    assert questions in docs and questions in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert questions.count("| model |") == len(MODEL_QUESTIONS)


def test_each_task_states_its_budget_and_thresholds():
    for question in MODEL_QUESTIONS:
        notebook = nbformat.read(REPO_ROOT / "solutions" / f"{exercise_of(question.grade_id)}.ipynb", as_version=4)
        task = next(c for c in notebook.cells if c.get("id") == question.grade_id.replace(".", "-") + "-task")
        assert question.budget_text() in task.source, question.grade_id


def test_the_key_names_real_criteria_calibrated_seeds_and_edits_that_apply():
    for question in MODEL_QUESTIONS:
        key = answers(exercise_of(question.grade_id))[question.grade_id]
        assert question.public_seed in key.calibration and key.hidden_seed in key.calibration
        assert key.hidden_seed != question.public_seed
        notebook = nbformat.read(REPO_ROOT / "solutions" / f"{exercise_of(question.grade_id)}.ipynb", as_version=4)
        source = _answer_cell(notebook, question.grade_id).source
        keys = {c.key for c in question.criteria}
        for mistake in key.mistakes:
            assert mistake.apply(source) != source and set(mistake.fails) <= keys, mistake
        assert keys <= {k for m in key.mistakes for k in m.fails}, question.grade_id  # every criterion is tested


# --- the measurements, against known answers ----------------------------------------------------

def test_regression_measures_are_the_gaussian_nll_and_the_epistemic_ratios():
    rng = np.random.default_rng(0)
    n, side = 40, 5
    y = rng.standard_normal(n)
    mean = np.concatenate([y + 0.1, np.zeros(2 * side)])
    total = np.concatenate([np.full(n, 0.5), np.ones(2 * side)])
    epistemic = np.concatenate([np.full(n, 0.01), np.full(side, 0.2), np.full(side, 0.04)])
    values = regression_measures((mean, total, epistemic), {"y": y, "n_test": n, "n_side": side})
    assert values["nll"] == pytest.approx(-np.mean(stats.norm.logpdf(y, y + 0.1, np.sqrt(0.5))), rel=1e-9)
    assert values["epistemic_ratio"] == pytest.approx(12.0) and values["left_ratio"] == pytest.approx(20.0)
    assert values["right_ratio"] == pytest.approx(4.0) and values["rmse"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="one per input"):
        regression_measures((mean[:-1], total[:-1], epistemic[:-1]), {"y": y, "n_test": n, "n_side": side})


def test_elbo_measures_match_tfp_kl_and_bernoulli_log_likelihood():
    import tensorflow_probability as tfp

    tfd = tfp.distributions
    rng = np.random.default_rng(1)
    mean, std = rng.standard_normal((6, 3)), np.exp(0.3 * rng.standard_normal((6, 3)))
    x = (rng.uniform(size=(6, 10)) > 0.5).astype(float)
    probs = rng.uniform(0.05, 0.95, size=(4, 6, 10))
    values = elbo_measures((mean, std, probs), {"x": x})
    kl = tfd.kl_divergence(tfd.MultivariateNormalDiag(mean, std), tfd.MultivariateNormalDiag(np.zeros(3), np.ones(3)))
    log_likelihood = tfd.Independent(tfd.Bernoulli(probs=probs), 1).log_prob(x).numpy().mean(axis=0)
    assert values["kl"] == pytest.approx(float(np.mean(kl)), rel=1e-6)
    assert values["elbo"] == pytest.approx(float(np.mean(log_likelihood - kl.numpy())), rel=1e-6)


def test_posterior_measures_count_errors_in_exact_standard_deviations():
    values = posterior_measures((np.array([1.0, 2.5]), np.array([0.5, 2.0])),
                                {"mean": np.array([1.0, 2.0]), "std": np.array([1.0, 1.0])})
    assert values["mean_error"] == pytest.approx(0.5) and values["std_error"] == pytest.approx(math.log(2.0))
    assert posterior_measures((np.zeros(2), np.array([0.0, 1.0])), {"mean": np.zeros(2), "std": np.ones(2)})["std_error"] == math.inf


def test_the_judge_is_as_accurate_as_it_says_on_the_digits_it_did_not_see():
    from bdl_tf.datasets import digits

    split = digits(test_fraction=0.3, seed=0)  # scripts/train_judge.py trained on the other 70%
    accuracy = float(np.mean(judge_predict(split.x_test) == split.y_test))
    assert accuracy == pytest.approx(judge_weights()[2], abs=5e-5) and accuracy > 0.95  # stored to 4 decimals


# --- budget and feedback ---------------------------------------------------------------------

def _tiny_classifier(extra_steps: int):
    def train_digit_classifier(x_train, y_train, steps):
        import tf_keras as keras

        model = keras.Sequential([keras.layers.Dense(8, activation="softmax", input_shape=x_train.shape[1:])])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x_train[: 10 * (steps + extra_steps)], y_train[: 10 * (steps + extra_steps)], batch_size=10,
                  epochs=1, verbose=0)
        return model
    return train_digit_classifier


def test_a_model_trained_past_its_budget_loses_the_question_and_is_told_so():
    question = QUESTIONS["why.classifier"]
    case, _ = question.case(question.public_seed, True)
    args, probe_inputs, seed = case.arguments()
    args[-1] = 20  # a small budget, so that the test trains little
    outcome = run_model_answer(question, _tiny_classifier(5), args, probe_inputs, seed)
    assert outcome.parts is None and "trained for 25 optimiser steps; the budget is steps=20" in outcome.problem
    assert run_model_answer(question, _tiny_classifier(0), args, probe_inputs, seed).parts is not None


@pytest.mark.parametrize(("answer", "words"), [
    ("def train_digit_classifier(x_train, y_train, steps):\n    return None", "returned None: return a tf_keras model"),
    ("def train_digit_classifier(x_train, y_train, steps):\n    return np.zeros(3)", "is a ndarray, not a tf_keras model"),
    ("def train_digit_classifier(x_train, y_train):\n    pass", "must take 3 arguments (x_train, y_train, steps)"),
    ("import tf_keras as keras\ndef train_digit_classifier(x_train, y_train, steps):\n"
     "    return keras.Sequential([keras.layers.Dense(8, input_shape=(64,))])", "are not probabilities"),
])
def test_a_wrong_kind_of_answer_gets_a_sentence(answer, words):
    namespace = {"np": np}
    exec(answer, namespace)  # noqa: S102 - the test's own answers
    with pytest.raises(AssertionError, match="why.classifier") as failure:
        check("why.classifier", namespace["train_digit_classifier"])
    assert words in str(failure.value)


def test_the_self_check_says_what_the_measurement_suggests():
    """The Keras-Dropout mistake: passes identical, epistemic ratio 1, and the hint names MCDropout."""
    notebook = nbformat.read(REPO_ROOT / "solutions" / "04_mc_dropout.ipynb", as_version=4)
    key = answers("04_mc_dropout")["mcdropout.regressor"]
    source = next(m for m in key.mistakes if "epistemic_ratio" in m.fails).apply(_answer_cell(notebook, "mcdropout.regressor").source)
    namespace = {}
    exec(source, namespace)  # noqa: S102 - the answer key's mistake
    with pytest.raises(AssertionError) as failure:
        check("mcdropout.regressor", namespace["train_mc_dropout_regressor"])
    text = str(failure.value)
    assert "mean epistemic variance at |x| in [5, 7] over that on the data 1x <" in text
    assert "is dropout on at prediction time (bdl_tf.MCDropout, not keras.layers.Dropout)?" in text


def test_the_sandbox_lets_in_the_gpu_devices_and_nothing_else_of_dev(tmp_path, monkeypatch):
    from course.grading import sandbox

    for name in ("nvidia0", "nvidiactl", "nvidia-uvm", "sda", "null"):
        (tmp_path / name).write_text("")
    (tmp_path / "nvidia-caps").mkdir()
    devices = sandbox.gpu_devices(tmp_path)
    assert devices == [str(tmp_path / n) for n in ("nvidia-uvm", "nvidia0", "nvidiactl")]
    monkeypatch.setattr(sandbox, "gpu_devices", lambda: devices)
    (tmp_path / "work").mkdir()
    (tmp_path / "run").mkdir()
    with sandbox.Sandbox(tmp_path / "work", isolated=True) as box:
        command, _ = box._command(tmp_path / "run", 0)
    binds = [command[i + 1] for i, arg in enumerate(command) if arg == "--dev-bind"]
    assert binds == devices
