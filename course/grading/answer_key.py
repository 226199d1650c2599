"""The answer key: reference implementations, known mistakes and hidden cases, and the expected data made from them.

They live in ``course/grading/hidden/<topic>.py`` (one file per exercise, named like its public module
in ``course.checks``). That folder is not a Python package, so it is never installed with the course,
and ``python -m course release`` leaves it out: references and hidden cases never reach students.

The references call the library (``bdl_tf``), TensorFlow Probability, Keras, scikit-learn or SciPy
wherever these compute the quantity; expected values are never typed in by hand.
``python -m course build`` runs them on every case and stores the results (see
:mod:`course.checks.expected`), so neither the students' self-check nor the grader needs them or
TensorFlow at run time.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from course.checks import EXERCISES, TOPICS
from course.checks.cases import Case, Question
from course.checks.expected import PUBLIC_DIR, Expected, read, write
from course.checks.models import ModelQuestion

HIDDEN_DIR = Path(__file__).resolve().parent / "hidden"
HIDDEN_EXPECTED_DIR = HIDDEN_DIR / "expected"


class AnswerKeyMissing(FileNotFoundError):
    """The hidden folder is absent: this is a student release, not the instructors' repository."""


@dataclass(frozen=True)
class Answer:
    """How one question is graded: the reference, plausible wrong answers (message, function) and hidden cases."""

    reference: Callable
    mistakes: tuple[tuple[str, Callable], ...] = ()
    hidden: tuple[Case, ...] = ()


@dataclass(frozen=True)
class Mistake:
    """A plausible wrong answer to a model question: the solution cell with ``edits`` applied
    (``(old, new)`` text replacements), and the criteria it must fail."""

    message: str
    edits: tuple[tuple[str, str], ...]
    fails: tuple[str, ...]

    def apply(self, source: str) -> str:
        for old, new in self.edits:
            if old not in source:
                raise ValueError(f"mistake {self.message!r}: the solution cell no longer contains {old!r}")
            source = source.replace(old, new)
        return source


@dataclass(frozen=True)
class ModelAnswer:
    """How a model question is graded: the seed of its hidden instance and its plausible mistakes.

    The reference is the solution notebook's answer cell itself; ``scripts/model_thresholds.py``
    runs it and the mistakes on the public seed and on ``calibration`` seeds (the hidden one among them)."""

    hidden_seed: int
    mistakes: tuple[Mistake, ...]
    calibration: tuple[int, ...] = (0, 1, 2, 3, 4)


def _topic_file(exercise: str) -> Path:
    for topic in TOPICS:
        if topic.EXERCISE == exercise:
            return HIDDEN_DIR / f"{topic.__name__.rsplit('.', 1)[1]}.py"
    raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(EXERCISES)}")


@lru_cache(maxsize=None)
def answers(exercise: str) -> dict[str, Answer | ModelAnswer]:
    """The answer key of ``exercise``: ``{grade_id: Answer}`` (a ``ModelAnswer`` for model questions)."""
    path = _topic_file(exercise)
    if not path.is_file():
        raise AnswerKeyMissing(
            f"the answer key {path} is missing: grade from the instructors' repository, not from a student release"
        )
    spec = importlib.util.spec_from_file_location(f"course_answer_key_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    missing = {q.grade_id for q in EXERCISES[exercise]} - set(module.ANSWERS)
    if missing:
        raise ValueError(f"{path} has no answer for {', '.join(sorted(missing))}")
    return module.ANSWERS


# Stored expected data are "up to date" within this tolerance: the references' float32 TensorFlow and
# BLAS results differ in the last bits between TF versions and CPUs (seen: 1e-16 to 1e-7 relative),
# far below the 1e-4 at which answers are compared (course.checks.cases.Question.rtol).
STALE_RTOL, STALE_ATOL = 1e-6, 1e-9


def _same(a, b, rtol: float = 1e-9, atol: float = 1e-12) -> bool:
    a_parts = a if isinstance(a, tuple) else (a,)
    b_parts = b if isinstance(b, tuple) else (b,)
    if len(a_parts) != len(b_parts):
        return False
    for x, y in zip(a_parts, b_parts):
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if x.shape != y.shape or not np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True):
            return False
    return True


def _normalised(question: Question, value):
    """Reference outputs as plain floats/arrays (tensors converted), tuples for multi-output questions."""
    if question.outputs:
        return tuple(np.asarray(item) for item in value)
    return np.asarray(value)


def expected_for(question: Question, answer: Answer, cases) -> tuple[Expected, ...]:
    """Run the reference and every mistake on ``cases``; a mistake that happens to be right on a
    case is left out for that case (it cannot be told apart there)."""
    entries = []
    for case in cases:
        value = _normalised(question, answer.reference(*case.arguments()))
        mistakes = []
        for message, mistake in answer.mistakes:
            with np.errstate(all="ignore"):
                wrong = _normalised(question, mistake(*case.arguments()))
            if not _same(wrong, value):
                mistakes.append((message, wrong))
        entries.append(Expected(value, tuple(mistakes)))
    return tuple(entries)


def tables(exercise: str) -> tuple[dict, dict]:
    """``(public, hidden)`` expected tables of ``exercise``, freshly computed by the references."""
    key = answers(exercise)
    public_table, hidden_table = {}, {}
    for question in EXERCISES[exercise]:
        if isinstance(question, ModelQuestion):  # judged by thresholds (thresholds.json), not by expected values
            continue
        answer = key[question.grade_id]
        public_table[question.grade_id] = expected_for(question, answer, question.cases)
        hidden_table[question.grade_id] = expected_for(question, answer, answer.hidden)
    return public_table, hidden_table


def data_paths(exercise: str) -> tuple[Path, Path]:
    """Where the public and the hidden expected data of ``exercise`` are stored."""
    return PUBLIC_DIR / f"{exercise}.json", HIDDEN_EXPECTED_DIR / f"{exercise}.json"


def write_expected() -> list[Path]:
    """Recompute the expected data of every exercise and write the files that are stale (see
    :data:`STALE_RTOL`: last-bit differences are not rewritten); returns the files written."""
    written = []
    for exercise in EXERCISES:
        for table, path in zip(tables(exercise), data_paths(exercise)):
            if not path.is_file() or not _tables_equal(read(path), table):
                write(path, table)
                written.append(path)
    return written


def _tables_equal(stored: dict, fresh: dict) -> bool:
    if stored.keys() != fresh.keys():
        return False
    for grade_id, entries in fresh.items():
        old = stored[grade_id]
        if len(old) != len(entries):
            return False
        for a, b in zip(old, entries):
            if not _same(a.value, b.value, STALE_RTOL, STALE_ATOL) or [m for m, _ in a.mistakes] != [m for m, _ in b.mistakes]:
                return False
            if not all(_same(x, y, STALE_RTOL, STALE_ATOL) for (_, x), (_, y) in zip(a.mistakes, b.mistakes)):
                return False
    return True


def stale_expected() -> list[Path]:
    """The expected-data files that are missing or differ from what the references compute now."""
    stale = []
    for exercise in EXERCISES:
        for table, path in zip(tables(exercise), data_paths(exercise)):
            if not path.is_file() or not _tables_equal(read(path), table):
                stale.append(path)
    return stale


def hidden_expected(exercise: str) -> dict[str, tuple[Expected, ...]]:
    """The stored expected answers of the hidden cases of ``exercise``."""
    path = data_paths(exercise)[1]
    if not path.is_file():
        raise AnswerKeyMissing(f"{path} is missing: run 'python -m course build' in the instructors' repository")
    return read(path)
