"""Build the student exercises from the solutions: ``solutions/NN_topic.ipynb`` -> ``exercises/NN_topic.ipynb``.

In code cells, every region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's
markers) becomes, at the same indentation::

    # YOUR CODE HERE
    raise NotImplementedError("Hint: ...")

where the hint is the text of a ``### HINT: ...`` line inside the region (if any). Outputs and
execution counts are cleared, the Colab badge points at the exercise, and everything else (cell ids,
the ``bdl_tf`` metadata naming each question and its points) is kept. ``exercises/`` is committed
and must equal what this module builds: :func:`stale` lists the files that do not.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

from course.syllabus import NOTEBOOKS, REPO_ROOT

BEGIN, END, HINT = "### BEGIN SOLUTION", "### END SOLUTION", "### HINT:"
STUB_COMMENT = "# YOUR CODE HERE"


class SolutionMarkupError(ValueError):
    """Unbalanced solution markers, or a graded cell without a solution region."""


def exercise_names() -> list[str]:
    """The exercises of the syllabus, in lecture order (``01_bayes``, ...)."""
    return [Path(notebook.exercise).stem for notebook in NOTEBOOKS if notebook.exercise]


def strip_solutions(source: str, where: str = "cell") -> str:
    """``source`` with each solution region replaced by a NotImplementedError stub."""
    lines, inside, hint, indent = [], False, None, ""
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker.startswith(BEGIN):
            if inside:
                raise SolutionMarkupError(f"{where}, line {number}: {BEGIN} inside another solution region")
            inside, hint, indent = True, None, line[: len(line) - len(line.lstrip())]
        elif marker.startswith(END):
            if not inside:
                raise SolutionMarkupError(f"{where}, line {number}: {END} without {BEGIN}")
            message = f"Hint: {hint}" if hint else "replace this line with your answer"
            lines += [indent + STUB_COMMENT, f"{indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})"]
            inside = False
        elif inside:
            if marker.startswith(HINT):
                hint = marker[len(HINT):].strip()
        else:
            lines.append(line)
    if inside:
        raise SolutionMarkupError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(lines)


def build_exercise(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The student version of a solution notebook (the input is not modified)."""
    exercise = copy.deepcopy(solution)
    for index, cell in enumerate(exercise.cells):
        where = f"{name}, cell {index + 1} ({cell.get('id', '?')})"
        if cell.cell_type == "markdown":
            if BEGIN in cell.source:
                raise SolutionMarkupError(f"{where}: solution regions are supported in code cells only")
            cell.source = cell.source.replace("/blob/main/solutions/", "/blob/main/exercises/")
            continue
        if cell.cell_type != "code":
            continue
        stripped = strip_solutions(cell.source, where)
        if "grade_id" in cell.metadata.get("bdl_tf", {}) and stripped == cell.source:
            raise SolutionMarkupError(f"{where}: a graded cell needs a {BEGIN} region, or students get the answer")
        cell.source = stripped
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
    return exercise


def _text(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def built_text(name: str, root: Path = REPO_ROOT) -> str:
    """What ``exercises/<name>.ipynb`` must contain, built from ``solutions/<name>.ipynb``."""
    solution = nbformat.read(Path(root) / "solutions" / f"{name}.ipynb", as_version=4)
    return _text(build_exercise(solution, f"solutions/{name}.ipynb"))


def build(root: Path = REPO_ROOT) -> list[Path]:
    """Write every exercise from its solution; returns the paths written."""
    written = []
    for name in exercise_names():
        target = Path(root) / "exercises" / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(built_text(name, root), encoding="utf-8")
        written.append(target)
    return written


def stale(root: Path = REPO_ROOT) -> list[Path]:
    """Exercise files that are missing or differ from what their solutions build."""
    out = []
    for name in exercise_names():
        target = Path(root) / "exercises" / f"{name}.ipynb"
        if not target.is_file() or target.read_text(encoding="utf-8") != built_text(name, root):
            out.append(target)
    return out
