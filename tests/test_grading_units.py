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


def test_the_grader_reads_forged_channel_data_as_nothing():
    import io

    import numpy as np
    import pytest

    from course.grading.channel import MAX_RECORD_BYTES, Flood, Reader, message, npy_bytes, parse_array, parse_record

    assert [parse_record(payload) for payload in (b"[" * 60000 + b"]" * 60000, b"[1, 2]", b"\xff\xfe", b"{")] == [None] * 4
    assert parse_record(b'{"error": null}') == {"error": None}
    assert parse_array(npy_bytes(np.arange(6.0).reshape(2, 3)), 100).tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert parse_array(npy_bytes(np.float64(2.5)), 1).shape == ()  # a scalar stays a scalar
    assert parse_array(npy_bytes(np.arange(6.0)), 5) is None
    ints, objects = io.BytesIO(), io.BytesIO()
    np.save(ints, np.arange(6))
    np.save(objects, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    text = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }".ljust(117) + b"\n"
    header = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text  # a valid header, a forged shape
    forged = [ints.getvalue(), objects.getvalue(), header + b"\0" * 64, header[:20], b"not an array"]
    assert [parse_array(payload, 10**6) for payload in forged] == [None] * 5

    reader = Reader(max_array_bytes=1000)
    stream = (b"garbage without a newline " * 20 + b"\nstart 00ff 0\n" + b"end nothex 2\n{}" + b"start 01 5\n"
              + message("end", "ab", b'{"error": null}') + message("array", "ab", b"xyz"))
    received = [m for i in range(0, len(stream), 7) for m in reader.feed(stream[i:i + 7])]  # split anywhere
    assert received == [("start", "00ff", b""), ("end", "ab", b'{"error": null}'), ("array", "ab", b"xyz")]
    with pytest.raises(Flood):
        Reader(1000).feed(f"end ab {MAX_RECORD_BYTES + 1}\n".encode())
    with pytest.raises(Flood):
        Reader(1000).feed(b"array ab 1001\n")


def test_removal_neither_recurses_nor_follows_links(tmp_path):
    import os

    from course.grading.cleanup import remove_tree

    outside = tmp_path / "instructor.txt"
    outside.write_text("keep")
    top = tmp_path / "left-behind"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    for _ in range(3000):  # 6000 characters of path: past PATH_MAX and Python's recursion limit
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.symlink(outside, "link", dir_fd=fd)
    os.symlink(tmp_path, "folder-link", dir_fd=fd)
    os.mkfifo("fifo", dir_fd=fd)
    os.close(fd)
    (top / "locked").mkdir()
    (top / "locked" / "file").write_text("x")
    (top / "locked").chmod(0)
    remove_tree(top)
    assert not top.exists() and outside.read_text() == "keep"


def test_two_graders_never_share_a_sandbox_uid(tmp_path):
    from course.grading.uids import UID_BASE, UidLease

    first, second = UidLease(2, tmp_path), UidLease(3, tmp_path)
    try:
        assert first.uids == [UID_BASE, UID_BASE + 1] and not set(first.uids) & set(second.uids)
        first.release()
        assert UidLease(1, tmp_path).uids == [UID_BASE]  # given back: free again
    finally:
        first.release()
        second.release()


def test_the_table_takes_any_text_a_submission_controls(tmp_path):
    from course.grading.report import MAX_REASON, GradeRow, read_csv, summary, write_csv, write_feedback

    rows = [GradeRow("st\udcffudent\x00", "=HYPERLINK(\"http://evil\")", "q", 0, 2, "ValueError: \ud800 \x1b[31m" + "x" * 20000),
            GradeRow("-2+3", "@SUM(A1)", "q", 1, 2, "'quoted\r\n\tline")]
    assert len(rows[0].reason) == MAX_REASON and "\\ud800" in rows[0].reason and "\x1b" not in rows[0].reason
    path = write_csv(rows, tmp_path / "grades.csv")
    text = path.read_text(encoding="utf-8")
    assert "\n=" not in text and ",=" not in text and ",@" not in text and "\n-" not in text
    assert read_csv(path) == rows
    print(summary(rows))
    assert len(write_feedback(rows, tmp_path / "feedback")) == 2
