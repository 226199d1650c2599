"""Score a submission's answers: call them on the public and hidden cases in a sandbox, compare here.

The grader sends the sandbox only the cases' inputs; the expected values (public and hidden) stay in
this process, which reads back each call's output as float64 ``.npy`` data (no pickles) and
compares it with :func:`course.checks.diagnose.compare`. Each answer is scored in a sandbox of its
own (the setup cells, then its own cell, in a fresh process with a fresh ``/tmp``): builtins,
module globals or files another answer changed are not there. A call that runs past
``case_timeout`` or ends the sandbox (``os._exit``, a segfault, killing the driver, the sandbox's
memory) costs its question, with that case named.
"""
from __future__ import annotations

import json
import pickle
import secrets
import time
from dataclasses import dataclass

from course.checks import EXERCISES, QUESTIONS
from course.checks.diagnose import compare
from course.checks.expected import public
from course.checks.models import ModelQuestion
from course.grading.answer_key import answers, hidden_expected
from course.grading.sandbox import MAX_PARTS, OUT_OF_TIME, GraderError, Run, Sandbox


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


def _case_reason(run: Run, token: str, question, expected, label: str) -> str | None:
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
    parts = run.arrays(token, count)
    if parts is None:
        return f"{label}: the answer's result is malformed"
    try:
        if model:
            _, failures = question.judge(tuple(parts), expected)
            return f"{label}: " + "; ".join(failures) if failures else None
        diagnosis = compare(question, tuple(parts), expected)
    except (ValueError, TypeError, IndexError, ArithmeticError) as error:  # shapes the judge did not expect
        return f"{label}: the answer's result is malformed ({type(error).__name__}: {error})"
    return None if diagnosis is None else f"{label}: {diagnosis}"


def _time_limit(question, case_timeout: float, quick: bool) -> float:
    """Seconds one call may take: ``case_timeout``, or a model question's own limit (it trains)."""
    return question.time_limit(quick) if isinstance(question, ModelQuestion) else case_timeout


def score_answer(job: Job, answer: Answer, sandbox: Sandbox, *, case_timeout: float, load_timeout: float,
                 slot: int = 0, deadline: float | None = None) -> str | None:
    """None if ``answer`` passes every case, else the reason. It runs in a sandbox of its own: loaded
    after the setup cells in a fresh process, so nothing another answer did can help or harm it."""
    if deadline is not None and time.monotonic() >= deadline:
        return f"not scored: {OUT_OF_TIME}"
    question = QUESTIONS[answer.grade_id]
    cases = cases_of(job.exercise, answer.grade_id, sandbox.quick)
    load, case_tokens = secrets.token_hex(8), [secrets.token_hex(8) for _ in cases]
    plan = {"phase": "score", "setup": list(job.setup), "max_values": sandbox.limits.max_values, "answer": {
        "grade_id": answer.grade_id, "function": answer.function, "source": answer.source,
        "token": load, "cases": case_tokens}}
    arguments = {token: case.arguments() for token, (case, _, _) in zip(case_tokens, cases)}
    limit = _time_limit(question, case_timeout, sandbox.quick)
    steps = {load: load_timeout, **{token: limit for token in case_tokens}}
    run = sandbox.run({"plan.json": json.dumps(plan).encode(), "cases.pkl": pickle.dumps(arguments)}, steps,
                      slot=slot, deadline=deadline)
    if not run.started:
        if run.killed and OUT_OF_TIME in run.why:
            return f"not scored: {OUT_OF_TIME}"
        raise GraderError(f"the sandbox did not start the grading driver; its output ends with:\n{run.log}")
    if load == run.culprit:
        return f"the answer cell {run.ended_by()}"
    record = run.record(load)
    problem = None if record is None else record.get("problem")
    if record is None or (problem is not None and not isinstance(problem, str)):
        return "the answer cell's result is missing or unreadable"
    if problem:
        return problem
    for token, (_, expected, label) in zip(case_tokens, cases):
        if token == run.culprit:
            if not run.killed:
                return f"{label}: the function {run.ended_by()}"
            loop = " (an endless loop?)" if "within" in run.why and not isinstance(question, ModelQuestion) else ""
            return f"{label}: {run.why}{loop}"
        if token not in run.ended:
            return f"{label}: the function was not run to the end (its sandbox ended)"
        reason = _case_reason(run, token, question, expected, label)
        if reason:
            return reason
    return None


def score(job: Job, sandbox: Sandbox, *, case_timeout: float, load_timeout: float, slot: int = 0,
          deadline: float | None = None) -> dict:
    """``{grade_id: None if every case passes, else the reason}`` for every answer of ``job``, each
    answer in a sandbox of its own."""
    return {answer.grade_id: score_answer(job, answer, sandbox, case_timeout=case_timeout,
                                          load_timeout=load_timeout, slot=slot, deadline=deadline)
            for answer in job.answers}
