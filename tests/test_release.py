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
from course.release import PLACEHOLDER, ReleaseError, release, stamp
from course.syllabus import REPO_ROOT

URL = "https://github.com/example-org/bdl-course"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "student"
    assert main(["release", str(out), "--url", URL]) == 0
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
        source = (REPO_ROOT / "exercises" / f"{name}.ipynb").read_text(encoding="utf-8")
        assert (bundle / "exercises" / f"{name}.ipynb").read_text(encoding="utf-8") == stamp(source, "example-org", "bdl-course")
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


def _badges_and_installs(path):
    text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    import re

    return (re.findall(r"https://colab\.research\.google\.com/github/[^)\s]+", text),
            re.findall(r"bdl-tf @ git\+[^\"\s]+", text))


def test_every_badge_opens_its_own_notebook_and_every_install_cell_the_release(bundle):
    notebooks = sorted(bundle.glob("notebooks/*.ipynb")) + sorted(bundle.glob("exercises/*.ipynb"))
    assert len(notebooks) == 16
    for path in notebooks:
        badges, installs = _badges_and_installs(path)
        relative = path.relative_to(bundle).as_posix()
        assert badges == [f"https://colab.research.google.com/github/example-org/bdl-course/blob/main/{relative}"], path
        assert installs == [f"bdl-tf @ git+{URL}"], path
    for path in bundle.rglob("*"):
        if path.suffix in {".ipynb", ".md"}:
            assert PLACEHOLDER not in path.read_text(encoding="utf-8"), path


def test_the_instructors_notebooks_never_install_from_an_address_that_holds_solutions():
    for path in sorted(REPO_ROOT.glob("notebooks/*.ipynb")) + sorted(REPO_ROOT.glob("solutions/*.ipynb")):
        badges, installs = _badges_and_installs(path)
        assert installs == [f"bdl-tf @ git+https://github.com/{PLACEHOLDER}"], path
        assert all(f"/github/{PLACEHOLDER}/blob/main/" in badge for badge in badges) and badges, path


def test_without_url_the_release_is_refused_and_nothing_is_written(tmp_path, capsys):
    assert main(["release", str(tmp_path / "out")]) == 2
    assert "release refused" in capsys.readouterr().out
    with pytest.raises(ReleaseError, match="placeholder address .* give --url"):
        release(tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("url, words", [
    ("https://gitlab.com/org/repo", "must look like https://github.com/ORG/REPO"),
    ("github.com/org/repo", "must look like"),
    ("https://github.com/org", "must look like"),
    (f"https://github.com/{PLACEHOLDER}", "placeholder itself"),
])
def test_bad_urls_are_refused(tmp_path, url, words):
    with pytest.raises(ReleaseError, match=words):
        release(tmp_path / "out", url=url)
    assert not (tmp_path / "out").exists()


def test_a_branch_and_a_dot_git_address_are_stamped(tmp_path):
    release(tmp_path / "out", url="https://github.com/Org-2/Course.Release.git/", branch="fall-2026")
    badges, installs = _badges_and_installs(tmp_path / "out" / "notebooks" / "05_aleatoric_epistemic.ipynb")
    assert badges == ["https://colab.research.google.com/github/Org-2/Course.Release/blob/fall-2026/notebooks/05_aleatoric_epistemic.ipynb"]
    assert installs == ["bdl-tf @ git+https://github.com/Org-2/Course.Release@fall-2026"]


def test_the_instructors_own_origin_is_refused(tmp_path):
    root = tmp_path / "instructors"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "remote", "add", "origin", "git@github.com:Prof/bdl-private.git"], check=True)
    with pytest.raises(ReleaseError, match="own origin, which holds solutions"):
        release(tmp_path / "out", root=root, url="https://github.com/prof/BDL-private")
