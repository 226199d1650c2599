"""The students' self-check: the solutions pass it, its messages say what is wrong, and its data is
what the references (bdl_tf, TFP, Keras, scikit-learn, SciPy) compute."""
import nbformat
import numpy as np
import pytest

from course.checks import EXERCISES, QUESTIONS, check, exercise_of
from course.checks.cases import Question, case
from course.checks.diagnose import diagnose, evaluate
from course.checks.expected import Expected, decode, encode, public
from course.checks.models import ModelQuestion
from course.grading.answer_key import answers, stale_expected
from course.syllabus import REPO_ROOT


def solution_functions(name):
    """The graded functions of ``solutions/<name>.ipynb``, by grade id (setup + answer cells run in order)."""
    notebook = nbformat.read(REPO_ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    namespace, functions = {}, {}
    for cell in notebook.cells:
        tags = cell.metadata.get("bdl_tf", {})
        if tags.get("setup") or "grade_id" in tags:
            exec(cell.source, namespace)  # noqa: S102 - our own notebooks
        if "grade_id" in tags:
            functions[tags["grade_id"]] = namespace[tags["function"]]
    return functions


SOLUTIONS = {grade_id: function for name in EXERCISES for grade_id, function in solution_functions(name).items()}
FORMULA_QUESTIONS = sorted(g for g, q in QUESTIONS.items() if not isinstance(q, ModelQuestion))
"""The model questions' self-checks train models: the solutions' run under nbval, and their own tests
are tests/test_model_questions.py."""


def _inputs_key(c):
    """A comparable rendering of a case's inputs (arrays by their bytes, anything else by its repr)."""
    return tuple(v.tobytes() if isinstance(v, np.ndarray) else repr(v) for v in c.inputs.values())


def _parts(value):
    return value if isinstance(value, tuple) else (value,)


def test_expected_data_is_what_the_references_compute_now():
    stale = stale_expected()
    assert stale == [], f"run 'python -m course build': {[p.name for p in stale]} are out of date"


@pytest.mark.parametrize("grade_id", FORMULA_QUESTIONS)
def test_the_solution_passes_its_self_check(grade_id, capsys):
    check(grade_id, SOLUTIONS[grade_id])
    assert f"{grade_id}: all {len(QUESTIONS[grade_id].cases)} public cases pass" in capsys.readouterr().out


@pytest.mark.parametrize("grade_id", FORMULA_QUESTIONS)
def test_cases_and_mistakes_are_usable(grade_id):
    exercise = exercise_of(grade_id)
    answer = answers(exercise)[grade_id]
    question = QUESTIONS[grade_id]
    assert len(question.cases) >= 2 and len(answer.hidden) >= 2
    public_inputs = {_inputs_key(c) for c in question.cases}
    assert not any(_inputs_key(hidden) in public_inputs for hidden in answer.hidden), "a hidden case repeats a public one"
    # every known mistake shows on some public case, so the self-check can name it
    named = {message for entry in public(exercise)[grade_id] for message, _ in entry.mistakes}
    assert named == {message for message, _ in answer.mistakes}
    for entry in public(exercise)[grade_id]:
        assert all(np.all(np.isfinite(part)) for part in _parts(entry.value)), "a reference gave NaN/inf"


def test_encode_decode_round_trip_keeps_types_and_nan():
    value = (np.array([[1.5, np.nan]]), 3, np.array([1, 2]), 0.25)
    back = decode(encode(value))
    assert isinstance(back, tuple) and back[1] == 3 and back[2].dtype == np.int64
    np.testing.assert_array_equal(back[0], value[0])


# ---- what the messages say -------------------------------------------------------------------

_Q = Question("demo.values", (case(x=np.array([1.0, 4.0, 9.0])),))
_EXPECTED = Expected(np.array([1.0, 4.0, 9.0]), (("you forgot the thing", np.array([1.0, 4.0, 10.0])),))


@pytest.mark.parametrize(
    "output, message",
    [
        (np.array([1.0, 4.0, 9.0]), None),
        (np.array([1.0, 4.0, 10.0]), "you forgot the thing"),
        (np.array([-1.0, -4.0, -9.0]), "wrong sign"),
        (np.array([2.0, 8.0, 18.0]), "twice the expected"),
        (np.array([0.5, 2.0, 4.5]), "half the expected"),
        (np.array([1.0, 2.0, 3.0]), "square roots of the expected values: a standard deviation where a variance"),
        (np.array([1.0, 16.0, 81.0]), "squares of the expected values: a variance where a standard deviation"),
        (np.array([3.0, 12.0, 27.0]), "constant factor: yours are 3 times"),
        (np.array([1.5, 4.5, 9.5]), "off by a constant: yours are the expected values +0.5"),
        (np.array([1.0, 4.0, 9.5]), "wrong values (largest difference 0.5)"),
        (np.array([1.0, np.nan, 9.0]), "NaN or inf"),
        (np.array([[1.0, 4.0, 9.0]] * 2), "wrong shape: expected (3,), got (2, 3) - reduce over the first axis"),
        (np.array([[1.0], [4.0], [9.0]]), "reduce over the last axis"),
        (np.float64(14.0), "you reduced everything to one number"),
        (None, "returned None"),
        ("many", "is a str, not a number"),
    ],
)
def test_diagnosis_names_the_mistake(output, message):
    result = diagnose(_Q, output, _EXPECTED)
    if message is None:
        assert result is None
    else:
        assert result is not None and message in result, result


def test_tuple_answers_are_checked_item_by_item():
    question = Question("demo.pair", (case(x=1.0),), outputs=("mean", "variance"))
    expected = Expected((np.array(1.0), np.array(9.0)))
    assert diagnose(question, (1.0, 9.0), expected) is None
    assert "return a tuple of 2 items (mean, variance); got a float" in diagnose(question, 1.0, expected)
    assert diagnose(question, (1.0, 3.0), expected).startswith("the variance (item 2 of the returned tuple): yours are the square roots")


def test_evaluate_reports_signature_stub_and_errors():
    def stub(x):
        raise NotImplementedError("Hint: square it")

    def two(x, y):
        return x

    def broken(x):
        return x["key"]

    assert evaluate(_Q, stub, _Q.cases[0], _EXPECTED).diagnosis == "stub is not implemented yet (Hint: square it)"
    assert "two must take 1 arguments (x); yours is two(x, y)" in evaluate(_Q, two, _Q.cases[0], _EXPECTED).diagnosis
    verdict = evaluate(_Q, broken, _Q.cases[0], _EXPECTED)
    assert verdict.diagnosis.startswith("broken raised IndexError") and isinstance(verdict.error, IndexError)


def test_an_answer_that_edits_its_inputs_does_not_change_the_case():
    def in_place(x):
        x *= 0
        return x

    evaluate(_Q, in_place, _Q.cases[0], _EXPECTED)
    np.testing.assert_array_equal(_Q.cases[0].inputs["x"], [1.0, 4.0, 9.0])


def test_check_raises_with_case_arguments_expected_and_yours():
    def wrong_sign(mean, log_variance):
        return -0.5 * np.sum(mean**2 + np.exp(log_variance) - 1.0 - log_variance, axis=-1)

    with pytest.raises(AssertionError) as failure:
        check("vae.kl", wrong_sign)
    text = str(failure.value)
    assert text.startswith("vae.kl, public case 1 of 2: wrong sign: KL(q || p) >= 0")
    assert "arguments: mean=[[" in text and "expected:  [" in text and "yours:     [" in text


def test_check_chains_the_answers_own_exception_and_rejects_bad_calls():
    def crashes(mean, log_variance):
        return mean.nonexistent

    with pytest.raises(AssertionError, match="crashes raised AttributeError") as failure:
        check("vae.kl", crashes)
    assert isinstance(failure.value.__cause__, AttributeError)
    with pytest.raises(ValueError, match="unknown question 'vae.nope'"):
        check("vae.nope", crashes)
    with pytest.raises(TypeError, match="takes your function itself"):
        check("vae.kl", 3)


# ---- the references that are formulas, not library calls, checked against the library ------------


def test_leapfrog_reference_matches_tfp_integrator():
    import tensorflow as tf
    import tensorflow_probability as tfp
    from tensorflow_probability.python.mcmc.internal import leapfrog_integrator

    question = QUESTIONS["inference.leapfrog"]
    reference = answers("03_approximate_inference")["inference.leapfrog"].reference
    for c in question.cases:
        x, m, score, eps, steps = c.arguments()
        target = tfp.distributions.MultivariateNormalDiag(score.mean, score.scale)
        integrator = leapfrog_integrator.SimpleLeapfrogIntegrator(target.log_prob, [tf.constant(eps, tf.float64)], steps)
        momentum, state, _, _ = integrator([tf.constant(m)], [tf.constant(x)])
        position, momentum_ref = reference(x, m, score, eps, steps)
        np.testing.assert_allclose(position, state[0].numpy(), rtol=1e-10)
        np.testing.assert_allclose(momentum_ref, momentum[0].numpy(), rtol=1e-10)


def test_acceptance_and_dropout_references_follow_their_definitions():
    import tf_keras as keras

    key = answers("03_approximate_inference")["inference.acceptance"].reference
    # energy going down is always accepted; going up by d is accepted with exp(-d)
    np.testing.assert_allclose(key(np.array([-1.0, -2.0]), np.array([0.0, -3.0]), np.zeros((2, 1)), np.zeros((2, 1))),
                               [1.0, np.exp(-1.0)])
    forward = answers("04_mc_dropout")["mcdropout.forward"].reference
    layer = keras.layers.Dropout(0.25)
    ones = np.ones((1, 4000), dtype=np.float32)
    kept = layer(ones, training=True).numpy()
    scale = kept[kept > 0][0]  # Keras' inverted dropout scale
    identity = np.eye(2)
    logits = forward(np.array([[1.0, 2.0]]), identity, np.zeros(2), identity, np.zeros(2), np.ones((1, 1, 2)), 0.25)
    np.testing.assert_allclose(logits[0, 0], np.array([1.0, 2.0]) * scale, rtol=1e-6)


def test_every_exercise_has_the_setup_cell_the_self_check_assumes():
    from course.checks import SETUP_SOURCE

    for name in EXERCISES:
        notebook = nbformat.read(REPO_ROOT / "solutions" / f"{name}.ipynb", as_version=4)
        setup = [c.source for c in notebook.cells if c.metadata.get("bdl_tf", {}).get("setup")]
        assert setup == [SETUP_SOURCE], (name, setup)


def test_the_self_check_fails_an_answer_that_passes_only_because_of_another_cell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from course.checks import SETUP_SOURCE

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    shell.run_cell(SETUP_SOURCE)
    shell.run_cell("def _half(x):\n    return x / 2")
    shell.run_cell("def reparameterize(mean, log_variance, eps):\n    return mean + np.exp(_half(log_variance)) * eps")
    failure = shell.run_cell('check("vae.reparameterize", reparameterize)').error_in_exec
    assert isinstance(failure, AssertionError), failure
    assert "only because of the notebook's state" in str(failure) and "NameError: name '_half'" in str(failure)
    shell.run_cell("def reparameterize(mean, log_variance, eps):\n    return mean + np.exp(log_variance / 2) * eps")
    assert shell.run_cell('check("vae.reparameterize", reparameterize)').error_in_exec is None
