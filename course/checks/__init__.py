"""Student self-check: ``check("vae.kl", kl_to_standard_normal)`` after each graded question.

It runs your function on the question's public cases and either prints that they all pass or
raises ``AssertionError`` saying what is wrong (wrong shape, wrong sign, off by a factor, NaN, a
known mistake such as averaging the logits instead of the probabilities). Grading runs the same
cases plus hidden ones, so passing here is necessary, not sufficient.
"""
from __future__ import annotations

from course.checks import (
    aleatoric_epistemic,
    approximate_inference,
    autoencoders,
    bayes,
    conditional_vae,
    mc_dropout,
    vae,
    why_uncertainty,
)
from course.checks.cases import Question
from course.checks.diagnose import describe, evaluate
from course.checks.expected import public
from course.checks.models import ModelQuestion

__all__ = ["EXERCISES", "QUESTIONS", "check", "exercise_of", "question"]

TOPICS = (bayes, why_uncertainty, approximate_inference, mc_dropout, aleatoric_epistemic, autoencoders, vae, conditional_vae)
"""The public case modules, one per exercise, in lecture order."""

EXERCISES: dict[str, tuple[Question | ModelQuestion, ...]] = {topic.EXERCISE: topic.QUESTIONS for topic in TOPICS}
"""Exercise name (``"07_vae"``) -> its questions, in notebook order."""

QUESTIONS: dict[str, Question | ModelQuestion] = {q.grade_id: q for questions in EXERCISES.values() for q in questions}
"""Every graded question by id."""

_EXERCISE_OF = {q.grade_id: name for name, questions in EXERCISES.items() for q in questions}


def question(grade_id: str) -> Question | ModelQuestion:
    """The question called ``grade_id``; a ValueError lists the known ids otherwise."""
    try:
        return QUESTIONS[grade_id]
    except KeyError:
        raise ValueError(f"unknown question {grade_id!r}; known questions: {', '.join(QUESTIONS)}") from None


def exercise_of(grade_id: str) -> str:
    """The exercise notebook (``"07_vae"``) that asks question ``grade_id``."""
    question(grade_id)  # a clear error for unknown ids
    return _EXERCISE_OF[grade_id]


def check(grade_id: str, function) -> None:
    """Run ``function`` on the public cases of question ``grade_id``.

    Prints a line when every case passes; raises AssertionError naming the first failing case,
    what looks wrong, the arguments, the expected values and yours. In a notebook it then runs the
    answer as the grader does (the setup cell and the answer's own cell alone, in a fresh namespace)
    and raises if it passes only because of something another cell defined.
    """
    spec = question(grade_id)
    if not callable(function):
        raise TypeError(f"check({grade_id!r}, ...) takes your function itself (no parentheses), got {type(function).__name__}")
    if isinstance(spec, ModelQuestion):
        _check_model(spec, function)
        return
    expected = public(exercise_of(grade_id))[grade_id]
    total = len(spec.cases)
    for number, (case, wanted) in enumerate(zip(spec.cases, expected), start=1):
        verdict = evaluate(spec, function, case, wanted)
        if verdict.passed:
            continue
        message = f"{grade_id}, public case {number} of {total}: {verdict.diagnosis}"
        if verdict.error is None:
            arguments = ", ".join(f"{name}={describe(value)}" for name, value in case.inputs.items())
            message += f"\n  arguments: {arguments}\n  expected:  {describe(wanted.value)}\n  yours:     {describe(verdict.output)}"
        raise AssertionError(message) from verdict.error
    alone = _run_alone(spec, function)
    if alone:
        raise AssertionError(
            f"{grade_id}: your function passes here only because of the notebook's state (a helper, import or "
            f"variable from another cell). The grader runs the setup cell and this answer cell alone, and there "
            f"{alone}. Define everything the answer needs inside its own cell."
        )
    print(f"{grade_id}: all {total} public cases pass. Grading also runs hidden cases.")


def _check_model(spec: ModelQuestion, function) -> None:
    """Train the answer's model on the public instance (this mode's budget) and judge it as the grader does."""
    from bdl_tf import quick_mode
    from course.checks.models import run_model_answer

    quick = quick_mode()
    case, expected = spec.case(spec.public_seed, quick)
    outcome = run_model_answer(spec, function, *case.arguments())
    where = f"{spec.grade_id} ({'quick' if quick else 'full'} mode, budget {spec.budget(quick)} steps)"
    if outcome.parts is None:
        raise AssertionError(f"{where}: {outcome.problem}") from outcome.error
    values, failures = spec.judge(outcome.parts, expected)
    if failures:
        measured = f"\n  measured: {spec.summary(values, quick)}" if values else ""
        raise AssertionError(f"{where}: " + "; ".join(failures) + measured)
    print(f"{where}: trained in {outcome.output:.1f} s; {spec.summary(values, quick)}. "
          "Grading trains it again on a hidden instance.")


SETUP_SOURCE = "import numpy as np\n\nfrom course.checks import check"
"""The setup cell of every exercise (a test keeps the solutions to it): what the grader runs before each answer."""

_alone_depth = 0


def _cell_source(function) -> str | None:
    """The source of the notebook cell that defined ``function``, or None outside IPython/Jupyter.

    IPython keeps each executed cell in ``linecache`` with no modification time; files have one."""
    import linecache

    code = getattr(function, "__code__", None)
    entry = linecache.cache.get(code.co_filename) if code is not None else None
    if not entry or len(entry) != 4 or entry[1] is not None:
        return None
    return "".join(entry[2])


def _run_alone(spec: Question, function) -> str | None:
    """Run the answer as the grader does (setup cell, then its own cell, in a fresh namespace) on the
    public cases; None when it passes there too (or when its cell cannot be found), else what fails."""
    global _alone_depth
    source = _cell_source(function)
    if source is None or _alone_depth:
        return None
    from IPython.core.inputtransformer2 import TransformerManager

    namespace = {"__name__": "__main__"}
    _alone_depth += 1
    try:
        try:
            exec(compile(SETUP_SOURCE, "<setup cell>", "exec"), namespace)  # noqa: S102 - the student's own cell
            exec(compile(TransformerManager().transform_cell(source), "<answer cell>", "exec"), namespace)  # noqa: S102
        except Exception as error:  # noqa: BLE001 - whatever the cell raises on its own
            return f"the cell raises {type(error).__name__}: {error}"
        rebuilt = namespace.get(getattr(function, "__name__", ""))
        if not callable(rebuilt):
            return f"the cell does not define {getattr(function, '__name__', 'the function')}"
        for number, (case, wanted) in enumerate(zip(spec.cases, public(exercise_of(spec.grade_id))[spec.grade_id]), 1):
            verdict = evaluate(spec, rebuilt, case, wanted)
            if not verdict.passed:
                return f"public case {number} of {len(spec.cases)} fails: {verdict.diagnosis}"
    finally:
        _alone_depth -= 1
    return None
