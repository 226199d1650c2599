"""The student release: ``python -m course release OUT/`` writes what students get, and nothing else.

Included: the exercises (built from the solutions, checked up to date), the lecture notebooks, the
library ``bdl_tf``, the ``course`` package with the public self-check cases and their expected
data, and the packaging files, so ``pip install OUT/`` works. Left out: ``solutions/``, the answer
key ``course/grading/hidden/`` (references, known mistakes, hidden cases), tests, caches.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from course import exercises
from course.syllabus import REPO_ROOT

INCLUDED = ("README.md", "pyproject.toml", "constraints.txt", "bdl_tf", "course", "notebooks", "exercises")
ANSWER_KEY = Path("course") / "grading" / "hidden"
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info")


class ReleaseError(RuntimeError):
    """The release cannot be written (stale exercises, a non-empty target, a leak)."""


def _ignore(root: Path):
    def ignore(folder, names):
        skipped = set(_IGNORED(folder, names))
        relative = Path(folder).resolve().relative_to(root.resolve())
        return skipped | {name for name in names if relative / name == ANSWER_KEY}

    return ignore


def check_no_leaks(out: Path) -> None:
    """Raise if ``out`` holds solutions, the answer key, or a notebook with a solution region."""
    out = Path(out)
    if (out / "solutions").exists() or (out / ANSWER_KEY).exists():
        raise ReleaseError(f"{out} contains solutions/ or {ANSWER_KEY}/")
    for notebook in out.rglob("*.ipynb"):
        if exercises.BEGIN in notebook.read_text(encoding="utf-8"):
            raise ReleaseError(f"{notebook} contains a solution region")


def release(out, root: Path = REPO_ROOT) -> list[Path]:
    """Write the student release into the empty or new folder ``out``; returns its top-level entries."""
    root, out = Path(root), Path(out)
    stale = exercises.stale(root)
    if stale:
        raise ReleaseError(f"exercises/ is out of date ({', '.join(p.name for p in stale)}): run 'python -m course build'")
    if out.exists() and any(out.iterdir()):
        raise ReleaseError(f"{out} is not empty; give a new or empty folder")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in INCLUDED:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, out / name, ignore=_ignore(root))
        elif source.is_file():
            shutil.copy2(source, out / name)
        else:
            continue
        written.append(out / name)
    check_no_leaks(out)
    return written
