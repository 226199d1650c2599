"""Run the public and hidden cases against extracted answers in a worker process, and survive it.

One worker process (:mod:`course.grading.worker`) grades every (submission, question) pair it is
given. It writes its progress line by line; if it dies (an answer called ``os._exit`` or crashed the
interpreter) or stops making progress (an answer hangs where the worker's own time limit cannot
reach, in C code), the pair it was working on gets zero with the reason, the worker is restarted for
the rest, and an answer cell that crashed while loading is not run again.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from course.checks import EXERCISES
from course.grading.answer_key import answers
from course.grading.execute import child_environment

STARTUP_TIMEOUT = 600
"""Seconds a worker may take before its first line (imports and collection on a busy machine)."""
STALL_GRACE = 30
"""Seconds of silence beyond the worker's own time limits after which it is taken to hang, and killed."""


class GraderError(RuntimeError):
    """The grader itself failed (not a submission): the worker could not start or lost track."""


@dataclass(frozen=True)
class Job:
    """One submission as the worker sees it: its setup and answer cells in notebook order (``grade_id``
    and ``function`` are None for setup cells) and the questions to grade."""

    key: str
    exercise: str
    cells: tuple[dict, ...]
    questions: tuple[str, ...]


def case_count(exercise: str, grade_id: str) -> int:
    """How many cases (public + hidden) question ``grade_id`` has."""
    question = next(q for q in EXERCISES[exercise] if q.grade_id == grade_id)
    return len(question.cases) + len(answers(exercise)[grade_id].hidden)


def _read_records(path: Path) -> list[dict]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by a kill
            break
    return records


def _run_worker(manifest: dict, folder: Path, stall_timeout: float) -> tuple[list[dict], bool, str]:
    """Run one worker until it ends or stalls; returns (records, killed for stalling, its log's tail)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path, results = folder / "manifest.json", folder / "results.jsonl"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    results.write_text("", encoding="utf-8")
    killed = False
    with open(folder / "worker.log", "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "course.grading.worker", str(manifest_path), str(results)],
            cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=child_environment(quick=False),
        )
        size, last_progress = 0, time.monotonic()
        while process.poll() is None:
            time.sleep(0.1)
            if results.stat().st_size != size:
                size, last_progress = results.stat().st_size, time.monotonic()
            if time.monotonic() - last_progress > (stall_timeout if size else STARTUP_TIMEOUT):
                process.kill()
                process.wait()
                killed = True
    return _read_records(results), killed, (folder / "worker.log").read_text(encoding="utf-8")[-4000:]


def score(jobs, *, case_timeout: float, load_timeout: float, workdir: Path) -> dict[tuple[str, str], str | None]:
    """``{(key, grade_id): None if every case passes, else the reason}`` for every question of ``jobs``."""
    jobs = {job.key: job for job in jobs}
    totals = {(key, g): case_count(job.exercise, g) for key, job in jobs.items() for g in job.questions}
    todo = list(totals)
    verdicts: dict[tuple[str, str], str | None] = {}
    skip_cells: list[tuple[str, str]] = []
    attempt = 0
    while todo:
        attempt += 1
        keys = {key for key, _ in todo}
        manifest = {
            "case_timeout": case_timeout, "load_timeout": load_timeout, "skip_cells": skip_cells, "todo": todo,
            "jobs": [asdict(jobs[key]) for key in sorted(keys)],
        }
        stall = max(case_timeout, load_timeout) + STALL_GRACE
        records, killed, log = _run_worker(manifest, Path(workdir) / f"worker-{attempt}", stall)
        outcomes: dict[tuple[str, str], dict[int, dict]] = {}
        for record in records:
            if record["event"] == "result":
                outcomes.setdefault((record["key"], record["grade_id"]), {})[record["case"]] = record
        for pair in todo:
            results = outcomes.get(pair, {})
            failures = [results[case]["reason"] for case in sorted(results) if results[case]["outcome"] == "failed"]
            if failures:
                verdicts[pair] = failures[0]
            elif len(results) == totals[pair]:
                verdicts[pair] = None
        if not any(record["event"] == "ready" for record in records):
            raise GraderError(f"the grading worker did not start; its output ends with:\n{log}")
        if not any(record["event"] == "done" for record in records):
            last = next((r for r in reversed(records) if r["event"] in ("load", "start")), None)
            pair = None if last is None else (last["key"], last["grade_id"])
            if pair is None or pair in verdicts:
                raise GraderError(f"the grading worker stopped outside any answer; its output ends with:\n{log}")
            what = f"hung the grading process (killed after {stall:g} s)" if killed else "crashed the grading process"
            if last["event"] == "load":
                skip_cells.append(pair)
                verdicts[pair] = f"the answer cell {what}"
            else:
                verdicts[pair] = f"{last['label']}: the function {what}"
        remaining = [pair for pair in todo if pair not in verdicts]
        if len(remaining) == len(todo):
            raise GraderError(f"the grading worker made no progress; its output ends with:\n{log}")
        todo = remaining
    return verdicts
