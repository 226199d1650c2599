"""Score a submission's answers: call them on the public and hidden cases in a sandbox, compare here.

The grader sends the sandbox only the cases' inputs; the expected values (public and hidden) stay in
this process, which reads back each call's output as float64 ``.npy`` files (no pickles) and
compares it with :func:`course.checks.diagnose.compare`. Each answer is loaded in a fresh namespace
(the setup cells, then its own cell). A call that runs past ``case_timeout`` or ends the sandbox
(``os._exit``, a segfault, killing the driver) costs its question, with that case named; the
questions after it are scored in a fresh sandbox.
"""
from __future__ import annotations

import json
import pickle
import secrets
from dataclasses import dataclass

from course.checks import EXERCISES, QUESTIONS
from course.checks.diagnose import compare
from course.checks.expected import public
from course.checks.models import ModelQuestion
from course.grading.answer_key import answers, hidden_expected
from course.grading.sandbox import GraderError, Run, Sandbox

MAX_PARTS = 16
"""A call returns at most this many arrays (a model question's probe returns a few)."""


@dataclass(frozen=True)
class Answer:
    """One answer cell of a submission: its question, the function it must define and its source."""

    grade_id: str
    function: str
    source: str


@dataclass(frozen=True)
class Job:
    """What a submission's scoring needs: its exercise, setup cells (notebook order) and answers."""

    exercise: str
    setup: tuple[str, ...]
    answers: tuple[Answer, ...]


def cases_of(exercise: str, grade_id: str, quick: bool = True) -> list:
    """``[(case, expected, label)]``: the public cases, then the hidden ones; for a model question
    its hidden instance in this mode (a fresh data set, trained on once)."""
    question = next(q for q in EXERCISES[exercise] if q.grade_id == grade_id)
    if isinstance(question, ModelQuestion):
        case, expected = question.case(answers(exercise)[grade_id].hidden_seed, quick)
        return [(case, expected, "hidden instance")]
    public_cases = list(zip(question.cases, public(exercise)[grade_id]))
    hidden_cases = list(zip(answers(exercise)[grade_id].hidden, hidden_expected(exercise)[grade_id]))
    return [(c, e, f"public case {i} of {len(public_cases)}") for i, (c, e) in enumerate(public_cases, 1)] + [
        (c, e, f"hidden case {i} of {len(hidden_cases)}") for i, (c, e) in enumerate(hidden_cases, 1)
    ]


def _case_reason(run: Run, token: str, question, expected, label: str, max_values: int) -> str | None:
    record = run.record(token)
    if record is None:
        return f"{label}: the answer's result is missing or unreadable"
    problem = record.get("problem")
    if isinstance(problem, str) and problem:
        return f"{label}: {problem}"
    model = isinstance(question, ModelQuestion)
    count = record.get("items") if model else len(question.outputs) or 1
    if problem is not None or record.get("items") != count or not isinstance(count, int) or not 0 < count <= MAX_PARTS:
        return f"{label}: the answer's result is malformed"
    parts = run.arrays(token, count, max_values)
    if parts is None:
        return f"{label}: the answer's result is malformed"
    if model:
        _, failures = question.judge(tuple(parts), expected)
        return f"{label}: " + "; ".join(failures) if failures else None
    diagnosis = compare(question, tuple(parts), expected)
    return None if diagnosis is None else f"{label}: {diagnosis}"


def _time_limit(question, case_timeout: float, quick: bool) -> float:
    """Seconds one call may take: ``case_timeout``, or a model question's own limit (it trains)."""
    return question.time_limit(quick) if isinstance(question, ModelQuestion) else case_timeout


def _failure(run: Run, what: str, limit: float) -> str:
    if run.killed:
        return f"did not finish within {limit:g} s" + (" (an endless loop?)" if what == "case" else "")
    return f"crashed its sandbox (exit code {run.returncode})"


def score(job: Job, sandbox: Sandbox, *, case_timeout: float, load_timeout: float, slot: int = 0) -> dict:
    """``{grade_id: None if every case passes, else the reason}`` for every answer of ``job``."""
    todo = list(job.answers)
    cases = {a.grade_id: cases_of(job.exercise, a.grade_id, sandbox.quick) for a in todo}
    max_values = sandbox.limits.max_values
    verdicts: dict[str, str | None] = {}
    first = True
    while todo:
        tokens = {a.grade_id: (secrets.token_hex(8), [secrets.token_hex(8) for _ in cases[a.grade_id]]) for a in todo}
        plan = {"phase": "score", "setup": list(job.setup), "max_values": max_values, "answers": [
            {"grade_id": a.grade_id, "function": a.function, "source": a.source,
             "token": tokens[a.grade_id][0], "cases": tokens[a.grade_id][1]} for a in todo]}
        arguments = {token: case.arguments() for a in todo
                     for token, (case, _, _) in zip(tokens[a.grade_id][1], cases[a.grade_id])}
        limits = {load: load_timeout for load, _ in tokens.values()}
        limits.update({token: _time_limit(QUESTIONS[grade_id], case_timeout, sandbox.quick)
                       for grade_id, (_, case_tokens) in tokens.items() for token in case_tokens})
        run = sandbox.run({"plan.json": json.dumps(plan).encode(), "cases.pkl": pickle.dumps(arguments)}, limits, slot=slot)
        if first and not run.started:
            raise GraderError(f"the sandbox did not start the grading driver; its output ends with:\n{run.log}")
        first = False
        remaining = []
        for answer in todo:
            load, case_tokens = tokens[answer.grade_id]
            question = QUESTIONS[answer.grade_id]
            if load == run.culprit:
                verdicts[answer.grade_id] = f"the answer cell {_failure(run, 'load', load_timeout)}"
                continue
            if load not in run.ended:
                remaining.append(answer)
                continue
            record = run.record(load)
            problem = None if record is None else record.get("problem")
            if record is None or (problem is not None and not isinstance(problem, str)):
                verdicts[answer.grade_id] = "the answer cell's result is missing or unreadable"
                continue
            if problem:
                verdicts[answer.grade_id] = problem
                continue
            verdicts[answer.grade_id] = None
            for token, (_, expected, label) in zip(case_tokens, cases[answer.grade_id]):
                if token == run.culprit:
                    limit = _time_limit(question, case_timeout, sandbox.quick)
                    reason = f"{label}: {'' if run.killed else 'the function '}{_failure(run, 'case', limit)}"
                elif token in run.ended:
                    reason = _case_reason(run, token, question, expected, label, max_values)
                else:
                    reason = f"{label}: the function was not run to the end (its sandbox ended)"
                if reason:
                    verdicts[answer.grade_id] = reason[:300]
                    break
        if len(remaining) == len(todo):  # the sandbox ended between answers without running one
            verdicts.update({a.grade_id: f"not scored: its sandbox ended first (exit code {run.returncode})"
                             for a in remaining})
            remaining = []
        todo = remaining
    return verdicts
