"""Grade one submitted notebook or a folder of them into rows of (student, question, points, reason).

One module per stage: find and read the submissions (:mod:`course.grading.submission`), run each
notebook in a sandbox (:mod:`course.grading.notebook_run`), score its answers in a fresh sandbox
and compare them here (:mod:`course.grading.scoring`), write the table (:mod:`course.grading.report`).
This module only puts them together, ``jobs`` submissions at a time; each submission gets sandboxes
of its own, so whatever one does changes nothing but its own marks, and the table is the same
whatever ``jobs`` is.
"""
from __future__ import annotations

import os
import queue
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from course.exercises import exercise_names
from course.grading.answer_key import answers, hidden_expected
from course.grading.cleanup import remove_tree
from course.grading.notebook_run import run_notebook
from course.grading.report import GradeRow
from course.grading.sandbox import GraderError, Limits, Sandbox, SandboxUnavailable
from course.grading.scoring import Answer, Job, score
from course.grading.submission import find_submissions, identify, load_template, read, responses, setup_sources
from course.syllabus import REPO_ROOT


def grade(path, *, root: Path = REPO_ROOT, timeout: float = 120, case_timeout: float = 30, quick: bool = True,
          execute: bool = True, jobs: int | None = None, sandbox: bool = True, limits: Limits | None = None,
          submission_timeout: float | None = None, progress=None) -> list[GradeRow]:
    """Grade the notebook or folder at ``path``.

    Args:
        root: the instructors' repository (released exercises and the answer key).
        timeout: seconds per notebook cell, and per answer-cell load.
        case_timeout: seconds per call of an answer on one case.
        quick: run the notebooks in quick mode (``BDL_TF_QUICK=1``).
        execute: run each notebook top to bottom first; without it only the answer cells are run
            (faster re-grading; a notebook that fails top to bottom is then not noticed).
        jobs: how many submissions are graded at once (default: the number of CPUs).
        sandbox: False only for trusted submissions (``--no-sandbox``): no isolation at all.
        limits: memory, processes, file sizes of each sandbox (default: ``Limits()``).
        submission_timeout: seconds one submission may take in all (its notebook run and every
            answer); what is not done by then scores 0 with that reason. None: only the per-step limits.
        progress: called with a line of text per step (e.g. ``print``), or None.

    A submission the grader cannot handle (an error of the grader's own while grading it) gets a zero
    row saying so, and the other submissions are graded: one file cannot stop the table.

    Raises:
        SandboxUnavailable: bubblewrap is missing or does not work, and ``sandbox`` is True.
        GraderError: a sandbox could not even start its driver (the machine, not a submission).
    """
    say = progress or (lambda line: None)
    names = exercise_names()
    templates = {name: load_template(Path(root) / "exercises" / f"{name}.ipynb") for name in names}
    for name in names:  # fail before any work if the answer key is absent (a student release)
        answers(name), hidden_expected(name)
    base = Path(path)
    submissions = find_submissions(base, names)
    jobs = max(1, jobs or os.cpu_count() or 1)
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(jobs):
        slots.put(slot)
    workdir = Path(tempfile.mkdtemp(prefix="bdl-tf-grade-"))
    try:
        with _private_config(workdir / "config"), Sandbox(workdir, limits=limits, quick=quick, isolated=sandbox,
                                                           root=root, slots=jobs) as box:
            if sandbox and box.cgroups is None:
                say(f"note: no control groups ({box.cgroup_note}): memory and processes are limited per process "
                    "and per uid only (docs/grading.md)")

            def one(item):
                number, (student, notebook_path) = item
                shown = _shown(notebook_path, base)
                slot = slots.get()
                try:
                    deadline = None if submission_timeout is None else time.monotonic() + submission_timeout
                    rows = _grade_one(student, notebook_path, shown, templates, names, box, slot, timeout=timeout,
                                      case_timeout=case_timeout, execute=execute, deadline=deadline)
                except (GraderError, SandboxUnavailable):
                    raise
                except Exception as error:  # noqa: BLE001 - the grader's own failure on this file: its row says so
                    say(f"internal error while grading {student}: {shown}:\n{traceback.format_exc()}")
                    rows = [GradeRow(student, shown, "-", 0, 0, f"{INTERNAL_ERROR} ({type(error).__name__}: {error})")]
                finally:
                    slots.put(slot)
                say(f"[{number}/{len(submissions)}] {rows[0].student}: {rows[0].notebook}: "
                    f"{sum(r.points for r in rows)}/{sum(r.max_points for r in rows)}")
                return rows

            with ThreadPoolExecutor(max_workers=jobs) as pool:
                tables = list(pool.map(one, enumerate(submissions, start=1)))
    finally:
        remove_tree(workdir)
    return [row for rows in tables for row in rows]


_CONFIG_VARIABLES = ("KERAS_HOME", "MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")


@contextmanager
def _private_config(folder: Path):
    """Point the libraries the grader imports while it grades (TensorFlow, tf_keras and matplotlib,
    for the model questions' data) at ``folder`` instead of the instructor's home, where they would
    create ``~/.keras``, ``~/.cache/matplotlib`` and ``~/.config/matplotlib``. Variables the
    instructor set are kept; the others are restored afterwards."""
    saved = {name: os.environ.get(name) for name in _CONFIG_VARIABLES}
    for name in _CONFIG_VARIABLES:
        if saved[name] is None:
            (folder / name.lower()).mkdir(parents=True, exist_ok=True)
            os.environ[name] = str(folder / name.lower())
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)


INTERNAL_ERROR = "the grader failed on this submission: an instructor must look at it"


def _shown(notebook_path: Path, base: Path) -> str:
    return str(notebook_path.relative_to(base)) if base.is_dir() else notebook_path.name


def _grade_one(student, notebook_path, shown, templates, names, box, slot, *, timeout, case_timeout, execute,
               deadline=None):
    notebook, read_error = read(notebook_path)
    exercise = identify(notebook, notebook_path, names)
    if exercise is None:
        reason = "not an exercise of this course" + (f" ({read_error})" if read_error else "")
        return [GradeRow(student, shown, "-", 0, 0, reason)]
    template = templates[exercise]
    if notebook is None:
        problem = f"not a readable notebook ({read_error})"
        return [GradeRow(student, shown, s.grade_id, 0, s.points, problem) for s in template.slots]
    found = responses(notebook, template)
    if execute:
        runs = run_notebook(notebook, box, timeout=timeout, slot=slot, deadline=deadline)
        found = [_after_run(response, runs) for response in found]
    intact = tuple(Answer(r.slot.grade_id, r.slot.function, r.source) for r in found if r.problem is None)
    job = Job(exercise, tuple(source for _, source in setup_sources(notebook)), intact)
    verdicts = score(job, box, case_timeout=case_timeout, load_timeout=timeout, slot=slot, deadline=deadline)
    rows = []
    for response in found:
        slot_ = response.slot
        reason = response.problem or verdicts.get(slot_.grade_id)
        points = 0 if reason else slot_.points
        reason = "; ".join(filter(None, [reason, response.note]))
        rows.append(GradeRow(student, shown, slot_.grade_id, points, slot_.points, reason))
    return rows


def _after_run(response, runs):
    """Zero an answer whose own cell failed when the notebook ran."""
    if response.problem is not None:
        return response
    run = runs.get(response.cell_index)
    if run is not None and run.failed:
        return replace(response, problem=f"the answer cell {run.describe()}")
    return response
