"""Grader parts: the tampering scan (a hint), reading a submission against its template, finding students."""
import nbformat
import pytest

from course.grading.submission import find_submissions, identify, load_template, responses
from course.grading.tampering import scan
from course.syllabus import REPO_ROOT

TEMPLATE = load_template(REPO_ROOT / "exercises" / "05_aleatoric_epistemic.ipynb")


@pytest.mark.parametrize(
    "source, finding",
    [
        ("check = lambda *args: None", "rebinds check (assignment)"),
        ("def check(grade_id, function):\n    pass", "rebinds check (def)"),
        ("from course.checks import check as _c\ncheck = _c", "rebinds check (assignment)"),
        ("import course.checks as cc\ncc.check = print", "changes cc.check"),
        ("from course import checks\nsetattr(checks, 'check', print)", "setattr() on checks"),
        ("import sys\nsys.modules['course.checks'] = None", "writes into sys.modules"),
        ("globals()['check'] = print", "rebinds check through globals()"),
        ("check.__code__ = (lambda g, f: None).__code__", "changes check.__code__"),
        ("def g():\n    global check\n    check = print", "rebinds check (assignment)"),
        ("for check in range(3):\n    pass", "rebinds check (loop variable)"),
        ("from os import path as check", "rebinds check (from os import path)"),
    ],
)
def test_the_scan_finds_redefinitions_of_check(source, finding):
    findings = scan(["import numpy as np\nfrom course.checks import check", source])
    assert list(findings) == [1] and finding in findings[1][0], findings


def test_the_scan_leaves_ordinary_code_alone():
    harmless = [
        "import numpy as np\nfrom course.checks import check",
        "def f(x):\n    check = x > 0  # a local variable\n    return check",
        "%matplotlib inline\nresult = [check for check in range(3)]",
        "np.random.seed(0)\nclass A:\n    check = 1",
        "def broken(:\n",  # not Python: cannot run, so cannot redefine anything
        'check("vae.kl", f)',
    ]
    assert scan(harmless) == {}


def _exercise():
    return nbformat.read(REPO_ROOT / "solutions" / "05_aleatoric_epistemic.ipynb", as_version=4)


def _by(notebook, key, value):
    return next(c for c in notebook.cells if c.metadata.get("bdl_tf", {}).get(key) == value)


def test_points_come_from_the_template_and_a_solution_has_no_problems():
    notebook = _exercise()
    _by(notebook, "grade_id", "uncertainty.gaussian_nll").metadata["bdl_tf"]["points"] = 100
    found = responses(notebook, TEMPLATE)
    assert [r.problem for r in found] == [None] * 6
    assert [r.slot.points for r in found] == [2, 3, 2, 2, 3, 5]  # the last: the model question


def test_structural_problems_are_named():
    notebook = _exercise()
    notebook.cells.remove(_by(notebook, "check", "uncertainty.gaussian_nll"))
    _by(notebook, "check", "uncertainty.heteroscedastic_loss").source += "\nprint('extra')"
    _by(notebook, "grade_id", "uncertainty.expected_entropy").source = "%time x = 1\ndef expected_entropy(p):\n    return p"
    _by(notebook, "grade_id", "uncertainty.mutual_information").source = "def mutual_information(p:\n    return p"
    problems = {r.slot.grade_id: r.problem for r in responses(notebook, TEMPLATE)}
    assert problems["uncertainty.gaussian_nll"] == "the self-check cell was deleted or edited"
    assert problems["uncertainty.heteroscedastic_loss"] == "the self-check cell was deleted or edited"
    assert problems["uncertainty.expected_entropy"] is None  # magics are understood
    assert problems["uncertainty.mutual_information"].startswith("the answer cell has a syntax error (line 1")
    assert problems["uncertainty.regression_split"] is None


def test_a_redefinition_notes_the_questions_whose_self_check_comes_after_it_and_costs_nothing():
    notebook = _exercise()
    _by(notebook, "grade_id", "uncertainty.expected_entropy").source += "\ncheck = lambda *args: None"
    found = responses(notebook, TEMPLATE)
    assert [r.problem for r in found] == [None] * 6
    assert [r.note for r in found][:2] == [None, None]
    assert all(r.note and "redefines the self-check" in r.note for r in found[2:])


def test_exercise_and_student_are_found_from_metadata_file_and_folder(tmp_path):
    names = ["01_bayes", "05_aleatoric_epistemic"]
    assert identify(_exercise(), tmp_path / "whatever.ipynb", names) == "05_aleatoric_epistemic"
    assert identify(None, tmp_path / "Copy of 01_bayes.ipynb", names) == "01_bayes"
    assert identify(None, tmp_path / "homework.ipynb", names) is None
    for relative in ("alice/01_bayes.ipynb", "bob.ipynb", "carol/sub/x.ipynb", "dave/.ipynb_checkpoints/01_bayes.ipynb"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("{}")
    assert [(s, p.relative_to(tmp_path).as_posix()) for s, p in find_submissions(tmp_path, names)] == [
        ("alice", "alice/01_bayes.ipynb"), ("bob", "bob.ipynb"), ("carol", "carol/sub/x.ipynb")]
    assert find_submissions(tmp_path / "alice" / "01_bayes.ipynb", names)[0][0] == "alice"
    with pytest.raises(FileNotFoundError):
        find_submissions(tmp_path / "missing", names)


def test_feedback_files_name_hidden_cases_without_their_values(tmp_path):
    from course.grading.report import GradeRow, write_feedback

    rows = [
        GradeRow("alice", "alice/05_aleatoric_epistemic.ipynb", "uncertainty.gaussian_nll", 0, 2,
                 "hidden case 2 of 3: off by a constant: yours are the expected values +0.7311 (a missing constant?)"),
        GradeRow("alice", "alice/05_aleatoric_epistemic.ipynb", "uncertainty.heteroscedastic_loss", 0, 3,
                 "public case 1 of 2: wrong values (largest difference 0.25)"),
        GradeRow("alice", "alice/05_aleatoric_epistemic.ipynb", "uncertainty.expected_entropy", 2, 2, ""),
        GradeRow("bob", "bob.ipynb", "-", 0, 0, "not an exercise of this course"),
    ]
    files = write_feedback(rows, tmp_path / "feedback")
    assert sorted(path.name for path in files) == ["alice__05_aleatoric_epistemic.md", "bob__bob.md"]
    text = (tmp_path / "feedback" / "alice__05_aleatoric_epistemic.md").read_text()
    assert "Points: 2 / 7" in text and "hidden case 2 of 3: off by a constant" in text
    assert "0.7311" not in text and "largest difference 0.25" in text and "all cases pass" in text


def test_the_grader_reads_forged_result_files_as_nothing(tmp_path):
    import io

    import numpy as np

    from course.grading.sandbox import Run

    run = Run(tmp_path)
    (tmp_path / "deep.json").write_text("[" * 60000 + "]" * 60000)
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "big.json").write_text('{"items": 1, "x": "' + "y" * 100_000 + '"}')
    (tmp_path / "link.json").symlink_to(tmp_path / "list.json")
    assert [run.record(name) for name in ("deep", "list", "big", "link", "missing")] == [None] * 5
    np.save(tmp_path / "ok.0.npy", np.arange(6.0).reshape(2, 3))
    assert run.arrays("ok", 1, 100)[0].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert run.arrays("ok", 2, 100) is None and run.arrays("ok", 1, 5) is None
    np.save(tmp_path / "ints.0.npy", np.arange(6))
    np.save(tmp_path / "objects.0.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    text = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }".ljust(117) + b"\n"
    header = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text  # a valid header, a forged shape
    assert np.lib.format.read_array_header_1_0(io.BytesIO(header[8:]))[0] == (10**12,)
    (tmp_path / "forged.0.npy").write_bytes(header + b"\0" * 64)
    (tmp_path / "short.0.npy").write_bytes(header[:20])
    assert [run.arrays(token, 1, 10**6) for token in ("ints", "objects", "forged", "short")] == [None] * 4
