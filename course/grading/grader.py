"""Grade one submitted notebook or a folder of them into rows of (student, question, points, reason).

For every submission: recognise the exercise, read it against the released exercise (missing or
renamed cells, edited self-checks, redefined ``check``), run it top to bottom in a fresh kernel with
a per-cell timeout, then run every intact answer on the public and hidden cases in a separate
worker process. Whatever one submission does, the grader carries on with the next.

Folder layout: ``PATH/<student>/<anything>.ipynb`` (one folder per student, as nbgrader collects
them) or ``PATH/<student>.ipynb``.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

from course.exercises import exercise_names
from course.grading.answer_key import answers, hidden_expected
from course.grading.execute import execute as execute_notebook
from course.grading.scoring import Job, score
from course.grading.submission import identify, load_template, responses, setup_sources
from course.syllabus import REPO_ROOT


@dataclass(frozen=True)
class GradeRow:
    """One line of the grade table."""

    student: str
    notebook: str
    question: str
    points: int
    max_points: int
    reason: str


def find_submissions(path: Path) -> list[tuple[str, Path]]:
    """``[(student, notebook)]`` under ``path`` (a notebook or a folder), sorted."""
    path = Path(path)
    if path.is_file():
        return [(path.parent.name if identify(None, path, exercise_names()) else path.stem, path)]
    if not path.is_dir():
        raise FileNotFoundError(f"no notebook or folder at {path}")
    found = []
    for notebook in sorted(path.rglob("*.ipynb")):
        relative = notebook.relative_to(path)
        if ".ipynb_checkpoints" not in relative.parts:
            found.append((relative.parts[0] if len(relative.parts) > 1 else notebook.stem, notebook))
    return found


def _read(path: Path):
    try:
        return nbformat.read(path, as_version=4), None
    except Exception as error:  # noqa: BLE001 - not JSON, not a notebook, unreadable: all the same to the grade
        return None, f"{type(error).__name__}: {error}"


def grade(path, *, root: Path = REPO_ROOT, timeout: int = 120, case_timeout: float = 30, quick: bool = True,
          execute: bool = True, progress=None) -> list[GradeRow]:
    """Grade the notebook or folder at ``path``.

    Args:
        root: the instructors' repository (released exercises and the answer key).
        timeout: seconds per notebook cell in the kernel, and per answer cell in the worker.
        case_timeout: seconds per call of an answer on one case.
        quick: run the notebooks in quick mode (``BDL_TF_QUICK=1``).
        execute: run each notebook in a kernel first; without it only the answer cells are run
            (faster re-grading; a notebook that fails top to bottom is then not noticed).
        progress: called with a line of text per step (e.g. ``print``), or None.
    """
    say = progress or (lambda line: None)
    names = exercise_names()
    templates = {name: load_template(Path(root) / "exercises" / f"{name}.ipynb") for name in names}
    for name in names:  # fail before any work if the answer key is absent (a student release)
        answers(name), hidden_expected(name)
    base = Path(path)
    submissions = find_submissions(base)
    pending = []  # (key, student, notebook shown, slot or None, problem or None), in order
    jobs = []
    with tempfile.TemporaryDirectory(prefix="bdl-tf-grade-") as workdir:
        for number, (student, notebook_path) in enumerate(submissions, start=1):
            key = str(number)
            shown = str(notebook_path.relative_to(base)) if base.is_dir() else notebook_path.name
            notebook, read_error = _read(notebook_path)
            exercise = identify(notebook, notebook_path, names)
            say(f"[{number}/{len(submissions)}] {student}: {shown} ({exercise or 'not an exercise'})")
            if exercise is None:
                reason = "not an exercise of this course" + (f" ({read_error})" if read_error else "")
                pending.append((key, student, shown, None, reason))
                continue
            if notebook is None:
                problem = f"not a readable notebook ({read_error})"
                pending += [(key, student, shown, slot, problem) for slot in templates[exercise].slots]
                continue
            found = responses(notebook, templates[exercise])
            if execute:
                runs = execute_notebook(notebook, timeout=timeout, quick=quick, workdir=Path(workdir))
                found = [_after_run(response, runs) for response in found]
            pending += [(key, student, shown, r.slot, r.problem) for r in found]
            intact = [r for r in found if r.problem is None]
            cells = [(i, {"grade_id": None, "function": None, "source": s}) for i, s in setup_sources(notebook)]
            cells += [(r.cell_index, {"grade_id": r.slot.grade_id, "function": r.slot.function, "source": r.source})
                      for r in intact]
            jobs.append(Job(key, exercise, tuple(cell for _, cell in sorted(cells, key=lambda c: c[0])),
                            tuple(r.slot.grade_id for r in intact)))
        say(f"running the public and hidden cases on {sum(len(job.questions) for job in jobs)} answers")
        verdicts = score(jobs, case_timeout=case_timeout, load_timeout=timeout, workdir=Path(workdir)) if jobs else {}
    rows = []
    for key, student, shown, slot, problem in pending:
        if slot is None:
            rows.append(GradeRow(student, shown, "-", 0, 0, problem))
            continue
        reason = problem or verdicts.get((key, slot.grade_id))
        rows.append(GradeRow(student, shown, slot.grade_id, 0 if reason else slot.points, slot.points, reason or ""))
    return rows


def _after_run(response, runs):
    """Zero an answer whose own cell failed when the notebook ran."""
    if response.problem is not None:
        return response
    run = runs.get(response.cell_index)
    if run is not None and run.failed:
        return replace(response, problem=f"the answer cell {run.describe()}")
    return response
