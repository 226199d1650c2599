"""The student release: ``python -m course release OUT/ --url URL`` writes what students get, and nothing else.

Included: the exercises (built from the solutions, checked up to date), the lecture notebooks, the
library ``bdl_tf``, the ``course`` package with the public self-check cases and their expected
data, and the packaging files, so ``pip install OUT/`` works. Left out: ``solutions/``, the answer
key ``course/grading/hidden/`` (references, known mistakes, hidden cases), tests, caches.

The instructors' notebooks carry a placeholder address (:data:`PLACEHOLDER`) in their Colab badges
and install cells, never the instructors' own repository, which holds the solutions. ``--url`` is
where the release will be published (``https://github.com/ORG/REPO``): badges become
``colab.research.google.com/github/ORG/REPO/blob/BRANCH/<path>`` and install cells
``pip install "bdl-tf @ git+https://github.com/ORG/REPO"``. Without ``--url`` a release that would
still carry the placeholder is refused.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from course import exercises
from course.syllabus import REPO_ROOT

INCLUDED = ("README.md", "pyproject.toml", "constraints.txt", "bdl_tf", "course", "notebooks", "exercises")
ANSWER_KEY = Path("course") / "grading" / "hidden"
PLACEHOLDER = "YOUR-ORG/YOUR-COURSE"  # owner/repository in the instructors' badges and install cells
STAMPED_SUFFIXES = (".ipynb", ".md")  # what students click and read
_GITHUB_URL = re.compile(r"https://github\.com/(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)/"
                         r"(?P<repo>[A-Za-z0-9._-]+?)(?:\.git)?/?")
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


def parse_github_url(url: str) -> tuple[str, str]:
    """``(owner, repo)`` of ``https://github.com/OWNER/REPO`` (``.git`` or a trailing slash allowed)."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a string like https://github.com/ORG/REPO, got {type(url).__name__}")
    match = _GITHUB_URL.fullmatch(url.strip())
    if match is None:
        raise ReleaseError(f"url must look like https://github.com/ORG/REPO (Colab opens notebooks from GitHub), got {url!r}")
    if f"{match['owner']}/{match['repo']}" == PLACEHOLDER:
        raise ReleaseError(f"url {url!r} is the placeholder itself: give the address the release will be published at")
    return match["owner"], match["repo"]


def _origin(root: Path) -> tuple[str, str] | None:
    """``(owner, repo)`` of the instructors' repository's ``origin`` on GitHub, if it has one."""
    try:
        url = subprocess.run(["git", "-C", str(root), "remote", "get-url", "origin"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    url = re.sub(r"^git@github\.com:", "https://github.com/", url)
    match = _GITHUB_URL.fullmatch(url)
    return (match["owner"].lower(), match["repo"].lower()) if match else None


def stamp(text: str, owner: str, repo: str, branch: str = "main") -> str:
    """``text`` with the placeholder's Colab badges and install addresses pointing at ``owner/repo``."""
    text = text.replace(f"colab.research.google.com/github/{PLACEHOLDER}/blob/main/",
                        f"colab.research.google.com/github/{owner}/{repo}/blob/{branch}/")
    install = f"https://github.com/{owner}/{repo}" + ("" if branch == "main" else f"@{branch}")
    text = text.replace(f"git+https://github.com/{PLACEHOLDER}", f"git+{install}")
    return text.replace(f"https://github.com/{PLACEHOLDER}", f"https://github.com/{owner}/{repo}")


def placeholders(path: Path) -> list[Path]:
    """The notebooks and markdown files at or under ``path`` that still name :data:`PLACEHOLDER`."""
    path = Path(path)
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    return [file for file in files if file.suffix in STAMPED_SUFFIXES and file.is_file()
            and PLACEHOLDER in file.read_text(encoding="utf-8")]


def release(out, root: Path = REPO_ROOT, url: str | None = None, branch: str = "main") -> list[Path]:
    """Write the student release into the empty or new folder ``out``; returns its top-level entries.

    ``url``: where the release will be published (``https://github.com/ORG/REPO``), stamped into every
    badge and install cell; ``branch``: the branch the badges open (default ``main``).
    """
    root, out = Path(root), Path(out)
    if not isinstance(branch, str) or not re.fullmatch(r"[A-Za-z0-9._/-]+", branch):
        raise ReleaseError(f"branch must be a git branch name, got {branch!r}")
    owner_repo = parse_github_url(url) if url is not None else None
    if owner_repo is not None and _origin(root) == tuple(part.lower() for part in owner_repo):
        raise ReleaseError(f"url {url!r} is this repository's own origin, which holds solutions/: publish "
                           "the release to a separate repository")
    stale = exercises.stale(root)
    if stale:
        raise ReleaseError(f"exercises/ is out of date ({', '.join(p.name for p in stale)}): run 'python -m course build'")
    if out.exists() and any(out.iterdir()):
        raise ReleaseError(f"{out} is not empty; give a new or empty folder")
    if owner_repo is None:
        unstamped = [path for name in INCLUDED for path in placeholders(root / name)]
        if unstamped:
            raise ReleaseError(f"{len(unstamped)} notebook(s) carry the placeholder address {PLACEHOLDER} "
                               f"(e.g. {unstamped[0].relative_to(root)}): give --url https://github.com/ORG/REPO, "
                               "where the release will be published, so that badges and installs work")
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
    if owner_repo is not None:
        for path in placeholders(out):
            path.write_text(stamp(path.read_text(encoding="utf-8"), *owner_repo, branch), encoding="utf-8")
    check_no_leaks(out)
    left = placeholders(out)
    if left:
        raise ReleaseError(f"{left[0]} still carries the placeholder address {PLACEHOLDER}")
    return written
