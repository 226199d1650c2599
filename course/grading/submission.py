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
import os
import stat
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from course.grading.tampering import scan

_TRANSFORMER = TransformerManager()
MAX_NOTEBOOK_BYTES = 32 * 1024**2
"""A larger file is not read (an exercise with its outputs is well under 1 MiB)."""


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
    """``(notebook, None)``, or ``(None, what went wrong)`` for a file that is no valid notebook: not
    a regular file, larger than :data:`MAX_NOTEBOOK_BYTES`, not JSON, or not valid against
    nbformat's schema (cells whose source is not text, and the like)."""
    try:
        size = os.lstat(path)
        if not stat.S_ISREG(size.st_mode):
            return None, "not a regular file"
        if size.st_size > MAX_NOTEBOOK_BYTES:
            return None, f"{size.st_size} bytes; at most {MAX_NOTEBOOK_BYTES // 1024**2} MiB are read"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat's warnings about the file are validated below
            notebook = nbformat.read(path, as_version=4)
            nbformat.validate(notebook)
    except nbformat.ValidationError as error:
        return None, f"not a valid notebook: {str(error.message)[:200]}"
    except Exception as error:  # noqa: BLE001 - not JSON, not a notebook, too deep, unreadable: all the same to the grade
        return None, f"{type(error).__name__}: {str(error)[:200]}"
    return notebook, None


def tags(node) -> dict:
    """The ``bdl_tf`` metadata of a cell or notebook, or {} when it is absent or not a dict (a
    submission's metadata may hold anything)."""
    metadata = node.get("metadata") if isinstance(node, dict) else None
    found = metadata.get("bdl_tf") if isinstance(metadata, dict) else None
    return found if isinstance(found, dict) else {}



@lru_cache(maxsize=None)
def load_template(path: Path) -> Template:
    """The template of the exercise notebook at ``path``."""
    notebook = nbformat.read(path, as_version=4)
    checks = {tags(c)["check"]: c.source for c in notebook.cells if "check" in tags(c)}
    slots = []
    for cell in notebook.cells:
        marks = tags(cell)
        if "grade_id" in marks:
            if marks["grade_id"] not in checks:
                raise ValueError(f"{path}: question {marks['grade_id']} has no self-check cell")
            slots.append(Slot(marks["grade_id"], marks["function"], int(marks["points"]), checks[marks["grade_id"]]))
    return Template(Path(path).stem, tuple(slots))


def identify(notebook, path: Path, names) -> str | None:
    """Which exercise a submission answers: its ``bdl_tf.exercise`` metadata, else the exercise name
    its file name contains (``Copy of 05_aleatoric_epistemic.ipynb``)."""
    if notebook is not None:
        declared = tags(notebook).get("exercise")
        if isinstance(declared, str) and declared in names:
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
    except (ValueError, RecursionError, MemoryError) as error:  # null bytes, nesting thousands deep
        return f"the answer cell cannot be parsed ({type(error).__name__})"
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
        answers = [i for i in code if tags(cells[i]).get("grade_id") == slot.grade_id]
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
            if tags(cells[i]).get("check") == slot.grade_id and cells[i].source.strip() == slot.check_source.strip()
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
    return [(i, c.source) for i, c in enumerate(notebook.cells) if c.cell_type == "code" and tags(c).get("setup")]
