"""Find the submitted notebooks and read each against the exercise it answers: where each answer is,
and what is broken.

Folder layout: ``PATH/<student>/<anything>.ipynb`` (one folder per student, as nbgrader collects
them) or ``PATH/<student>.ipynb``.

The released exercise (``exercises/NN_topic.ipynb``) is the template: its answer cells name the
questions (``bdl_tf.grade_id``), their functions and points, and its self-check cells must come back
unchanged. Points always come from the template, never from the submission's metadata.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from course.grading.tampering import scan

_TRANSFORMER = TransformerManager()


@dataclass(frozen=True)
class Slot:
    """A graded question as the released exercise defines it."""

    grade_id: str
    function: str
    points: int
    check_source: str


@dataclass(frozen=True)
class Template:
    """The released exercise: its name and questions in notebook order."""

    name: str
    slots: tuple[Slot, ...]


@dataclass(frozen=True)
class Response:
    """A submission's answer to one question: its cell (if found), a problem that zeroes it, if any,
    and a note for the reason column that costs nothing (a redefined self-check)."""

    slot: Slot
    source: str | None = None
    cell_index: int | None = None
    problem: str | None = None
    note: str | None = None


def find_submissions(path: Path, names) -> list[tuple[str, Path]]:
    """``[(student, notebook)]`` under ``path`` (a notebook or a folder), sorted."""
    path = Path(path)
    if path.is_file():
        return [(path.parent.name if identify(None, path, names) else path.stem, path)]
    if not path.is_dir():
        raise FileNotFoundError(f"no notebook or folder at {path}")
    found = []
    for notebook in sorted(path.rglob("*.ipynb")):
        relative = notebook.relative_to(path)
        if ".ipynb_checkpoints" not in relative.parts:
            found.append((relative.parts[0] if len(relative.parts) > 1 else notebook.stem, notebook))
    return found


def read(path: Path):
    """``(notebook, None)``, or ``(None, what went wrong)`` for a file that is no readable notebook."""
    try:
        return nbformat.read(path, as_version=4), None
    except Exception as error:  # noqa: BLE001 - not JSON, not a notebook, unreadable: all the same to the grade
        return None, f"{type(error).__name__}: {error}"


def _tags(cell) -> dict:
    return cell.get("metadata", {}).get("bdl_tf", {})


@lru_cache(maxsize=None)
def load_template(path: Path) -> Template:
    """The template of the exercise notebook at ``path``."""
    notebook = nbformat.read(path, as_version=4)
    checks = {_tags(c)["check"]: c.source for c in notebook.cells if "check" in _tags(c)}
    slots = []
    for cell in notebook.cells:
        tags = _tags(cell)
        if "grade_id" in tags:
            if tags["grade_id"] not in checks:
                raise ValueError(f"{path}: question {tags['grade_id']} has no self-check cell")
            slots.append(Slot(tags["grade_id"], tags["function"], int(tags["points"]), checks[tags["grade_id"]]))
    return Template(Path(path).stem, tuple(slots))


def identify(notebook, path: Path, names) -> str | None:
    """Which exercise a submission answers: its ``bdl_tf.exercise`` metadata, else the exercise name
    its file name contains (``Copy of 05_aleatoric_epistemic.ipynb``)."""
    if notebook is not None:
        declared = notebook.get("metadata", {}).get("bdl_tf", {}).get("exercise")
        if declared in names:
            return declared
    matches = [name for name in names if name in Path(path).stem]
    return max(matches, key=len) if matches else None


def _defined_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _answer_problem(source: str, function: str) -> str | None:
    try:
        tree = ast.parse(_TRANSFORMER.transform_cell(source))
    except SyntaxError as error:
        return f"the answer cell has a syntax error (line {error.lineno}: {error.msg})"
    if function not in _defined_names(tree):
        return f"the answer cell does not define {function} (renamed?)"
    return None


def _defines(source: str, function: str) -> bool:
    return f"def {function}(" in source


def responses(notebook, template: Template) -> list[Response]:
    """Each question's answer in ``notebook``, or why it gets no points whatever its tests say."""
    cells = notebook.cells
    code = [i for i, cell in enumerate(cells) if cell.cell_type == "code"]
    tampering = {code[position]: findings for position, findings in scan([cells[i].source for i in code]).items()}
    out = []
    for slot in template.slots:
        answers = [i for i in code if _tags(cells[i]).get("grade_id") == slot.grade_id]
        if not answers:
            unmarked = [i + 1 for i in code if _defines(cells[i].source, slot.function)]
            hint = f"; cell {unmarked[0]} defines {slot.function} but is not marked as its answer cell" if unmarked else ""
            out.append(Response(slot, problem=f"answer cell missing (deleted, or its metadata was changed){hint}"))
            continue
        index = answers[-1]
        source = cells[index].source
        problem = _answer_problem(source, slot.function)
        checks = [
            i for i in code
            if _tags(cells[i]).get("check") == slot.grade_id and cells[i].source.strip() == slot.check_source.strip()
        ]
        if problem is None and not checks:
            problem = "the self-check cell was deleted or edited"
        note = None
        if problem is None:
            before = sorted(i for i in tampering if i <= checks[-1])
            if before:
                note = f"note: cell {before[0] + 1} redefines the self-check ({tampering[before[0]][0]})"
        out.append(Response(slot, source, index, problem, note))
    return out


def setup_sources(notebook) -> list[tuple[int, str]]:
    """The submission's setup cells (imports), by position: answers run after them."""
    return [(i, c.source) for i, c in enumerate(notebook.cells) if c.cell_type == "code" and _tags(c).get("setup")]
