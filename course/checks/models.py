"""Model questions: the answer builds and trains a tf_keras/TFP model, and is graded on what the model does.

A model question calls the student's function once with a training set and a step budget (its
:class:`Task`), then hands the returned model to the question's *probe*, public code that runs it on
held-out inputs (in the grading sandbox, or in the student's notebook) and returns plain arrays:
predictive means and variances, class probabilities, reconstructions, samples. The *measurements*
(a test NLL, an epistemic ratio, an AUROC...) are computed from those arrays and from held-out
targets that never reach the answer, and each is compared with its threshold. The thresholds are set
by ``scripts/model_thresholds.py`` between the worst of five seeds of the reference solution and the
best seed of the plausible mistakes, in quick and in full mode, and stored in ``thresholds.json``
beside this module (the table is in ``docs/exercises.md``).

The budget is a number of optimiser steps, passed to the answer; a model whose optimiser took more
steps than that loses the question, and a call running past the question's time limit is stopped.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from course.checks.diagnose import Outcome, call_answer

THRESHOLDS_PATH = Path(__file__).resolve().parent / "thresholds.json"
MODES = ("quick", "full")
MIN_TIME_LIMIT = 120.0
TIME_LIMIT_FACTOR = 5.0
"""A call may take TIME_LIMIT_FACTOR times the reference's slowest seed here, and at least MIN_TIME_LIMIT s."""


def mode_name(quick: bool) -> str:
    return "quick" if quick else "full"


@dataclass(frozen=True)
class Criterion:
    """One measurement of a model question and what a passing model achieves.

    ``hint`` is the feedback when it fails: the usual cause, asked as a question. ``log_scale``: a
    ratio, whose threshold is set halfway between the reference and the mistakes on a log scale."""

    key: str
    label: str
    higher_is_better: bool
    hint: str
    unit: str = ""
    log_scale: bool = False

    def passes(self, value: float, threshold: float) -> bool:
        if not math.isfinite(value):
            return False
        return value >= threshold if self.higher_is_better else value <= threshold

    def feedback(self, value: float, threshold: float) -> str:
        relation = "<" if self.higher_is_better else ">"
        shown = f"{value:.3g}{self.unit}" if math.isfinite(value) else str(value)
        return f"{self.label} {shown} {relation} {threshold:.3g}{self.unit}: {self.hint}"


@dataclass(frozen=True)
class Task:
    """One instance of a model question.

    Attributes:
        arguments: the answer's arguments, in order (training data and the step budget ``steps``).
        probe_inputs: what the probe feeds the trained model (held-out inputs, no targets).
        targets: what the measurements compare with; never sent to where the answer runs.
    """

    arguments: dict
    probe_inputs: dict
    targets: dict


@dataclass(frozen=True)
class ModelCase:
    """A model question's case as the grader sends it to the sandbox: the answer's arguments, the
    probe's inputs and the seed (no targets)."""

    inputs: dict
    probe_inputs: dict
    seed: int

    def arguments(self) -> tuple:
        return (list(self.inputs.values()), self.probe_inputs, self.seed)


@dataclass(frozen=True)
class ModelExpected:
    """What a model case is judged against, in the grader's process: the targets and the mode."""

    targets: dict
    quick: bool


@dataclass(frozen=True)
class ModelQuestion:
    """A graded question whose answer returns a trained model.

    Attributes:
        grade_id: the question id, as in the answer cell's metadata.
        parameters: the answer's argument names (the last is ``steps``, the budget).
        make_task: ``(seed, quick, steps) -> Task``.
        probe: ``(returned model, probe_inputs) -> tuple of arrays``; raises ``ValueError`` with a
            sentence for the student when the returned object is not what the question asks for.
        measure: ``(probe arrays, targets) -> {criterion key: float}``.
        criteria: what is graded, each with its threshold in ``thresholds.json``.
        steps: the budget of optimiser steps, per mode.
        returns: what the answer must return, for messages.
        public_seed: the seed of the self-check's instance (the grader uses hidden ones).
    """

    grade_id: str
    parameters: tuple[str, ...]
    make_task: Callable[[int, bool, int], Task]
    probe: Callable[[object, dict], tuple]
    measure: Callable[[tuple, dict], dict]
    criteria: tuple[Criterion, ...]
    steps: dict
    returns: str
    public_seed: int = 0
    reported: tuple[str, ...] = field(default=())
    """Measurement keys shown in the feedback but not graded (e.g. the confidence on unseen classes)."""

    @property
    def arity(self) -> int:
        return len(self.parameters)

    def budget(self, quick: bool) -> int:
        return int(self.steps[mode_name(quick)])

    def thresholds(self, quick: bool) -> dict[str, float]:
        entry = stored_thresholds().get(self.grade_id)
        if entry is None:
            raise FileNotFoundError(
                f"no thresholds for {self.grade_id} in {THRESHOLDS_PATH}: run scripts/model_thresholds.py"
            )
        return {key: float(value) for key, value in entry["thresholds"][mode_name(quick)].items()}

    def time_limit(self, quick: bool) -> float:
        """Seconds one call may take: TIME_LIMIT_FACTOR x the reference's slowest seed, at least MIN_TIME_LIMIT."""
        entry = stored_thresholds().get(self.grade_id, {})
        seconds = float(entry.get("seconds", {}).get(mode_name(quick), 0.0))
        return max(MIN_TIME_LIMIT, TIME_LIMIT_FACTOR * seconds)

    def budget_text(self) -> str:
        """The budget and thresholds paragraph of the question's task cell (a test keeps it true)."""
        seconds = stored_thresholds()[self.grade_id]["seconds"]
        thresholds = {mode: self.thresholds(mode == "quick") for mode in MODES}
        graded = "; ".join(
            f"{c.label} {'>=' if c.higher_is_better else '<='} {thresholds['quick'][c.key]:.3g}{c.unit} "
            f"(full mode: {thresholds['full'][c.key]:.3g}{c.unit})" for c in self.criteria)
        quick, full = self.time_limit(True), self.time_limit(False)
        limits = f"{quick:.0f} s" if round(quick) == round(full) else f"{quick:.0f} s (quick) or {full:.0f} s (full)"
        return (f"**Budget and thresholds.** `steps` is {self.steps['quick']} in quick mode and {self.steps['full']} in "
                f"full mode; the reference trains in about {seconds['quick']:.0f} s and {seconds['full']:.0f} s on a "
                f"2-core CPU, and a call is stopped after {limits}. Passing needs: {graded}.")

    def case(self, seed: int, quick: bool) -> tuple[ModelCase, ModelExpected]:
        task = self.make_task(seed, quick, self.budget(quick))
        return ModelCase(task.arguments, task.probe_inputs, seed), ModelExpected(task.targets, quick)

    def judge(self, parts: tuple, expected: ModelExpected) -> tuple[dict, list[str]]:
        """``(measurements, failures)``: every criterion that misses its threshold, as feedback."""
        try:
            values = self.measure(tuple(parts), expected.targets)
        except ValueError as error:
            return {}, [str(error)]
        thresholds = self.thresholds(expected.quick)
        failures = [c.feedback(values[c.key], thresholds[c.key]) for c in self.criteria
                    if not c.passes(float(values[c.key]), thresholds[c.key])]
        return values, failures

    def summary(self, values: dict, quick: bool) -> str:
        """One line of measurements with their thresholds, for the self-check."""
        thresholds = self.thresholds(quick)
        shown = []
        for c in self.criteria:
            relation = ">=" if c.higher_is_better else "<="
            shown.append(f"{c.label} {values[c.key]:.3g}{c.unit} (needs {relation} {thresholds[c.key]:.3g}{c.unit})")
        shown += [f"{key.replace('_', ' ')} {values[key]:.3g}" for key in self.reported if key in values]
        return "; ".join(shown)


@lru_cache(maxsize=None)
def stored_thresholds() -> dict:
    """``{grade_id: {"thresholds": {mode: {key: value}}, "seconds": {mode: s}, ...}}`` (thresholds.json)."""
    if not THRESHOLDS_PATH.is_file():
        return {}
    return json.loads(THRESHOLDS_PATH.read_text(encoding="utf-8"))


def optimizer_steps(returned) -> int | None:
    """The largest optimiser step count among the tf_keras models in ``returned`` (a model or a
    tuple of models), or None when none of them was compiled."""
    models = returned if isinstance(returned, (tuple, list)) else (returned,)
    counts = []
    for model in models:
        optimizer = getattr(model, "optimizer", None)
        iterations = getattr(optimizer, "iterations", None)
        if iterations is not None:
            counts.append(int(np.asarray(iterations)))
    return max(counts) if counts else None


def run_model_answer(question: ModelQuestion, function, arguments, probe_inputs, seed) -> Outcome:
    """Seed, call the answer with its training set and budget, check the budget, run the probe."""
    from bdl_tf import set_seed

    name = getattr(function, "__name__", "your function")
    set_seed(seed)
    budget = int(arguments[-1])
    start = time.perf_counter()
    returned, failed = call_answer(function, question.arity, question.parameters, arguments)
    if failed:
        return failed
    seconds = time.perf_counter() - start
    if returned is None:
        return Outcome(None, f"{name} returned None: return {question.returns}")
    taken = optimizer_steps(returned)
    if taken is not None and taken > budget:
        return Outcome(None, f"{name} trained for {taken} optimiser steps; the budget is steps={budget}")
    try:
        parts = tuple(np.asarray(part, dtype=np.float64) for part in question.probe(returned, probe_inputs))
    except ValueError as error:
        return Outcome(None, f"{name} must return {question.returns}: {error}", output=returned, error=error)
    except Exception as error:  # noqa: BLE001 - a model that fails when used is the answer's doing
        return Outcome(None, f"using the model {name} returned raised {type(error).__name__}: {error}",
                       output=returned, error=error)
    return Outcome(parts, "", output=seconds)
