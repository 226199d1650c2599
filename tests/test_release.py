"""``python -m course release OUT/``: exercises, notebooks, the library and the public checks; no
solutions, no answer key, and the self-check works from the release alone."""
import os
import subprocess
import sys
import textwrap

import nbformat
import pytest

from course.__main__ import main
from course.exercises import BEGIN, END, HINT, exercise_names
from course.release import ReleaseError, release
from course.syllabus import REPO_ROOT


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "student"
    assert main(["release", str(out)]) == 0
    return out


def _solution_regions():
    """The code of every solution region (lines stripped, hints left out: hints are for students)."""
    regions = []
    for name in exercise_names():
        for cell in nbformat.read(REPO_ROOT / "solutions" / f"{name}.ipynb", as_version=4).cells:
            region = None
            for line in cell.source.splitlines():
                marker = line.strip()
                if marker.startswith(BEGIN):
                    region = []
                elif marker.startswith(END):
                    regions.append("\n".join(region))
                    region = None
                elif region is not None and not marker.startswith(HINT):
                    region.append(marker)
    return regions


def _code_text(path):
    """A file's text with each line stripped; for a notebook, its cells' sources."""
    if path.suffix == ".ipynb":
        text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    else:
        text = path.read_text(encoding="utf-8")
    return "\n".join(line.strip() for line in text.splitlines())


def test_the_release_has_what_students_need(bundle):
    assert sorted(p.name for p in bundle.iterdir()) == sorted(
        ["README.md", "pyproject.toml", "constraints.txt", "bdl_tf", "course", "notebooks", "exercises"]
    )
    for name in exercise_names():
        assert (bundle / "exercises" / f"{name}.ipynb").read_bytes() == (REPO_ROOT / "exercises" / f"{name}.ipynb").read_bytes()
        assert (bundle / "course" / "checks" / "expected" / f"{name}.json").is_file()
    assert sorted(p.name for p in (bundle / "notebooks").glob("*.ipynb")) == sorted(
        p.name for p in (REPO_ROOT / "notebooks").glob("*.ipynb")
    )
    assert (bundle / "bdl_tf" / "__init__.py").is_file()


def test_no_solutions_and_no_answer_key(bundle):
    assert not (bundle / "solutions").exists()
    assert not (bundle / "course" / "grading" / "hidden").exists()
    assert not list(bundle.rglob("__pycache__"))
    secrets = _solution_regions()
    assert len(secrets) >= 29
    for path in bundle.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".ipynb", ".json", ".md", ".toml", ".txt"}:
            text = _code_text(path)
            assert BEGIN not in text or path.suffix == ".py", path  # the builder's own source names the marker
            assert "hidden=(" not in text, f"{path} holds hidden cases"
            leaked = [region for region in secrets if region in text]
            assert not leaked, f"{path} contains solution code: {leaked[:3]}"


def test_the_self_check_works_from_the_release_and_grading_needs_the_answer_key(bundle):
    script = textwrap.dedent("""
        import numpy as np
        import course
        assert course.__file__.startswith(%r), course.__file__
        from course.checks import check
        check("vae.kl", lambda mean, log_variance: 0.5 * np.sum(mean**2 + np.exp(log_variance) - 1 - log_variance, axis=-1))
        try:
            check("vae.kl", lambda mean, log_variance: -0.5 * np.sum(mean**2 + np.exp(log_variance) - 1 - log_variance, axis=-1))
        except AssertionError as error:
            print("diagnosed:", str(error).splitlines()[0])
        from course.grading.answer_key import AnswerKeyMissing
        from course.grading.grader import grade
        try:
            grade("exercises", execute=False)
        except AnswerKeyMissing as error:
            print("refused:", error)
    """ % str(bundle))
    env = {**os.environ, "PYTHONPATH": str(bundle)}
    result = subprocess.run([sys.executable, "-c", script], cwd=bundle, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "vae.kl: all 2 public cases pass" in result.stdout
    assert "diagnosed: vae.kl, public case 1 of 2: wrong sign" in result.stdout
    assert "refused: the answer key" in result.stdout and "not from a student release" in result.stdout


def test_release_refuses_a_non_empty_folder_and_stale_exercises(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "something.txt").write_text("x")
    with pytest.raises(ReleaseError, match="not empty"):
        release(tmp_path / "full")
    root = tmp_path / "repo"
    for folder in ("solutions", "exercises"):
        (root / folder).mkdir(parents=True)
        for name in exercise_names():
            (root / folder / f"{name}.ipynb").write_bytes((REPO_ROOT / folder / f"{name}.ipynb").read_bytes())
    stale = root / "exercises" / "02_why_uncertainty.ipynb"
    stale.write_text(stale.read_text(encoding="utf-8").replace("softmax", "soft-max"), encoding="utf-8")
    with pytest.raises(ReleaseError, match="out of date .*02_why_uncertainty"):
        release(tmp_path / "new", root=root)
