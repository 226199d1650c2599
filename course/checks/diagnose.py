"""Run an answer on one case and say what is wrong with it, not only that something is.

The diagnosis goes from the specific to the generic: a known mistake of this question (its output
was computed from the instructors' list of plausible wrong answers), then a wrong shape, NaN/inf,
and finally the patterns any formula can show: the wrong sign, a factor of 2, a square root or a
square (standard deviation vs variance), a constant factor, a constant offset.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from course.checks.cases import Case, Question
from course.checks.expected import Expected

_GENERIC = (
    (lambda e: -e, "wrong sign: yours are the negatives of the expected values"),
    (lambda e: 2.0 * e, "off by a factor of 2: yours are twice the expected values (a missing 1/2?)"),
    (lambda e: 0.5 * e, "off by a factor of 2: yours are half the expected values (an extra 1/2?)"),
    (
        lambda e: np.sqrt(e) if np.all(e >= 0) else None,
        "yours are the square roots of the expected values: a standard deviation where a variance belongs?",
    ),
    (lambda e: e**2, "yours are the squares of the expected values: a variance where a standard deviation belongs?"),
)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one case: passed, or a one-line diagnosis (and the answer's own error, if any)."""

    passed: bool
    diagnosis: str = ""
    output: object = None
    error: BaseException | None = None


@dataclass(frozen=True)
class Outcome:
    """What one call of an answer gave: its output as a tuple of float64 arrays (``parts``), or a
    problem that makes it wrong whatever the expected value (an error, None, not numbers)."""

    parts: tuple | None
    problem: str = ""
    output: object = None
    error: BaseException | None = None


def call_answer(function, arity: int, parameters, arguments) -> tuple[object, Outcome | None]:
    """``(output, None)``, or ``(None, failed Outcome)`` when ``function`` has the wrong signature,
    is a stub or raises: the call of student code shared by formula and model questions."""
    name = getattr(function, "__name__", "your function")
    problem = signature_problem(arity, parameters, function, name)
    if problem:
        return None, Outcome(None, problem)
    try:
        return function(*arguments), None
    except NotImplementedError as error:
        return None, Outcome(None, f"{name} is not implemented yet" + (f" ({error})" if str(error) else ""), error=error)
    except Exception as error:  # noqa: BLE001 - the student's code may raise anything
        return None, Outcome(None, f"{name} raised {type(error).__name__}: {error}", error=error)


def run_answer(question: Question, function, arguments) -> Outcome:
    """Call the answer and turn its output into arrays. This is the half of :func:`evaluate` that
    runs student code (in the grading sandbox); :func:`compare` is the half that knows the answer."""
    output, failed = call_answer(function, question.arity, question.parameters, arguments)
    if failed:
        return failed
    parts, problem = _parts(question, output)
    return Outcome(None if problem else parts, problem or "", output)


def evaluate(question: Question, function, case: Case, expected: Expected) -> Verdict:
    """Run ``function`` on ``case`` and compare with ``expected`` (the student's self-check)."""
    outcome = run_answer(question, function, case.arguments())
    if outcome.parts is None:
        return Verdict(False, outcome.problem, outcome.output, outcome.error)
    diagnosis = compare(question, outcome.parts, expected)
    return Verdict(diagnosis is None, diagnosis or "", outcome.output)


def signature_problem(arity: int, parameters, function, name: str) -> str | None:
    """None when ``function`` can be called with ``arity`` positional arguments, else why not."""
    if not callable(function):
        return f"{name} is not a function (got {type(function).__name__})"
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # builtins, some wrappers: just call it
        return None
    try:
        signature.bind(*range(arity))
    except TypeError:
        return f"{name} must take {arity} arguments ({', '.join(parameters)}); yours is {name}{signature}"
    return None


def diagnose(question: Question, output, expected: Expected) -> str | None:
    """None when ``output`` matches the expected value, else what is wrong with it."""
    parts, problem = _parts(question, output)
    return problem if problem else compare(question, parts, expected)


def compare(question: Question, parts: tuple, expected: Expected) -> str | None:
    """None when the answer's arrays match the expected value, else what is wrong with them."""
    wanted = _as_parts(question, expected.value)
    if len(parts) != len(wanted):
        return f"expected {len(wanted)} output(s), got {len(parts)}"
    if all(_close(question, got, want) for got, want in zip(parts, wanted)):
        return None
    for message, wrong in expected.mistakes:
        if all(_close(question, got, bad) for got, bad in zip(parts, _as_parts(question, wrong))):
            return message
    names = question.outputs or ("",)
    index, got, want = next((i, g, w) for i, (g, w) in enumerate(zip(parts, wanted)) if not _close(question, g, w))
    prefix = f"the {names[index]} (item {index + 1} of the returned tuple): " if question.outputs else ""
    return prefix + _describe_difference(question, got, np.asarray(want))


def _as_parts(question: Question, value) -> tuple:
    return tuple(value) if question.outputs else (value,)


def _parts(question: Question, output) -> tuple[tuple, str | None]:
    """The answer as a tuple of arrays, or a message saying why it cannot be one."""
    if output is None:
        return (), "returned None: did you forget to return the result?"
    if question.outputs:
        count = len(question.outputs)
        if not isinstance(output, (tuple, list)) or len(output) != count:
            got = f"a {type(output).__name__}" + (f" of length {len(output)}" if isinstance(output, (tuple, list)) else "")
            return (), f"return a tuple of {count} items ({', '.join(question.outputs)}); got {got}"
        items = output
    else:
        items = (output,)
    arrays = []
    for index, item in enumerate(items):
        label = f"item {index + 1} ({question.outputs[index]}) " if question.outputs else ""
        if item is None:
            return (), f"{label}is None: did you forget to compute it?"
        try:
            array = np.asarray(item, dtype=np.float64)
        except (TypeError, ValueError):
            return (), f"{label}is a {type(item).__name__}, not a number or an array of numbers"
        arrays.append(array)
    return tuple(arrays), None


def _close(question: Question, got: np.ndarray, want) -> bool:
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return False
    if question.exact:
        return bool(np.array_equal(got, want))
    return bool(np.allclose(got, want, rtol=question.rtol, atol=question.atol, equal_nan=True))


def _describe_difference(question: Question, got: np.ndarray, want: np.ndarray) -> str:
    if got.shape != want.shape:
        return _shape_message(got.shape, want.shape)
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(want)):
        hint = f" - {question.nan_hint}" if question.nan_hint else ""
        return f"NaN or inf in your output where the expected values are finite{hint}"
    for transform, message in _GENERIC:
        with np.errstate(all="ignore"):
            wrong = transform(want)
        if wrong is not None and _close(question, got, wrong):
            return message
    ratio_or_offset = _constant_factor_or_offset(question, got, want)
    if ratio_or_offset:
        return ratio_or_offset
    error = float(np.max(np.abs(got - want)))
    return f"wrong values (largest difference {error:.3g})"


def _constant_factor_or_offset(question: Question, got: np.ndarray, want: np.ndarray) -> str | None:
    """A factor or offset shared by all values; only meaningful with two or more distinct values."""
    if got.size < 2 or np.ptp(want) <= question.atol:
        return None
    nonzero = np.abs(want) > question.atol
    if nonzero.all():
        ratio = got / want
        if np.allclose(ratio, ratio.flat[0], rtol=question.rtol, atol=0.0):
            return f"off by a constant factor: yours are {ratio.flat[0]:.4g} times the expected values"
    offset = got - want
    if np.allclose(offset, offset.flat[0], rtol=question.rtol, atol=question.atol):
        return f"off by a constant: yours are the expected values {offset.flat[0]:+.4g} (a missing or extra constant term?)"
    return None


def _shape_message(got: tuple, want: tuple) -> str:
    message = f"wrong shape: expected {want}, got {got}"
    if len(got) == len(want) + 1 and got[:-1] == want:
        return message + " - reduce over the last axis (sum or mean, as the formula says)"
    if len(got) == len(want) + 1 and got[1:] == want:
        return message + " - reduce over the first axis (the samples)"
    if got == ():
        return message + " - you reduced everything to one number; keep one value per example"
    if len(got) + 1 == len(want) and got in (want[:-1], want[1:]):
        return message + " - you reduced over one axis too many"
    if int(np.prod(got)) == int(np.prod(want)):
        return message + " - the right number of values in the wrong layout (reshape, transpose or keepdims?)"
    return message


def describe(value) -> str:
    """A short one-line rendering of an input or output, for messages."""
    if isinstance(value, (tuple, list)) and not isinstance(value, np.ndarray):
        return "(" + ", ".join(describe(item) for item in value) + ")"
    if callable(value):
        return repr(value)
    array = np.asarray(value)
    if array.dtype == object:
        return repr(value)
    text = np.array2string(array, precision=4, threshold=12, edgeitems=2, separator=", ")
    return " ".join(text.split())
