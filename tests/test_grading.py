"""The grader, end to end through ``python -m course grade``: every solution scores full marks, every
blank exercise scores 0, and broken submissions (syntax error, endless loop, crash, deleted, renamed
or edited cells, not JSON at all) get zero for what they break while the grader carries on; a
redefined ``check`` only earns a note. Hostile submissions: ``test_grading_hostile.py``. Also: ``pytest --nbval-lax exercises/`` fails exactly on the self-checks.

The folder is graded once, notebooks run in sandboxes, while nbval runs the exercises in parallel.
"""
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import nbformat
import pytest

from course.checks import EXERCISES
from course.exercises import exercise_names
from course.grading.grader import grade
from course.grading.report import COLUMNS, read_csv
from course.syllabus import REPO_ROOT

TIMEOUT, CASE_TIMEOUT = 60, 5  # the slowest cells import TensorFlow and train a model question (about 10 s here)


def _solution(name):
    return nbformat.read(REPO_ROOT / "solutions" / f"{name}.ipynb", as_version=4)


def _cell(notebook, key, value):
    return next(c for c in notebook.cells if c.metadata.get("bdl_tf", {}).get(key) == value)


def _write(folder, student, name, notebook):
    (folder / student).mkdir(exist_ok=True)
    nbformat.write(notebook, folder / student / f"{name}.ipynb")


def _submissions(folder):
    for name in exercise_names():
        _write(folder, "solution", name, _solution(name))
    # bad_a: a syntax error, an endless loop, a crash, an edited self-check; the last answer intact
    nb = _solution("05_aleatoric_epistemic")
    _cell(nb, "grade_id", "uncertainty.gaussian_nll").source = "def gaussian_nll(y, mean, variance):\n    return np.mean((y - mean) ** 2 /\n"
    _cell(nb, "grade_id", "uncertainty.heteroscedastic_loss").source = (
        "def heteroscedastic_loss(y, mean, log_variance):\n    while True:\n        pass"
    )
    _cell(nb, "grade_id", "uncertainty.expected_entropy").source = "import os\n\ndef expected_entropy(prob_samples):\n    os._exit(3)"
    _cell(nb, "check", "uncertainty.mutual_information").source = "# checked it myself"
    _write(folder, "bad_a", "05_aleatoric_epistemic", nb)
    # bad_b: a deleted answer cell, a renamed function, a renamed cell, a redefined check
    nb = _solution("01_bayes")
    nb.cells.remove(_cell(nb, "grade_id", "bayes.posterior"))
    answer = _cell(nb, "grade_id", "bayes.map")
    answer.source = answer.source.replace("def map_estimate(", "def map_estimate_v2(")
    _cell(nb, "grade_id", "bayes.evidence").metadata["bdl_tf"]["grade_id"] = "bayes.my_evidence"
    _cell(nb, "grade_id", "bayes.linear_posterior").source += "\n\ncheck = lambda *args: print('all good')"
    _write(folder, "bad_b", "01_bayes", nb)
    # not JSON; and a notebook that is no exercise
    (folder / "garbage").mkdir()
    (folder / "garbage" / "05_aleatoric_epistemic.ipynb").write_text("{not json", encoding="utf-8")
    _write(folder, "notes", "scratch", nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Grade the folder through the CLI, and run nbval on exercises/, at the same time."""
    base = tmp_path_factory.mktemp("grading")
    folder = base / "submissions"
    folder.mkdir()
    _submissions(folder)
    table, junit = base / "grades.csv", base / "nbval.xml"
    grading = subprocess.Popen(
        [sys.executable, "-m", "course", "grade", str(folder), "--out", str(table), "--quick", "--feedback", str(base / "feedback"),
         "--timeout", str(TIMEOUT), "--case-timeout", str(CASE_TIMEOUT)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=base,
    )
    nbval = subprocess.Popen(
        [sys.executable, "-m", "pytest", "exercises", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
         "-q", f"--junitxml={junit}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO_ROOT,
    )
    grading_output, _ = grading.communicate(timeout=900)
    nbval_output, _ = nbval.communicate(timeout=900)
    assert grading.returncode == 0, grading_output
    return {
        "rows": {(r.student, r.notebook, r.question): r for r in read_csv(table)},
        "header": table.read_text(encoding="utf-8").splitlines()[0],
        "output": grading_output,
        "feedback": base / "feedback",
        "nbval": (nbval.returncode, nbval_output, junit),
    }


def _row(runs, student, notebook, question):
    return runs["rows"][(student, notebook, question)]


def test_the_table_has_the_promised_columns_and_every_submission(runs):
    assert runs["header"] == ",".join(COLUMNS) == "student,notebook,question,points,max_points,reason"
    students = {student for student, _, _ in runs["rows"]}
    assert students == {"solution", "bad_a", "bad_b", "garbage", "notes"}
    assert "points" in runs["output"] and "rows written to" in runs["output"]


@pytest.mark.parametrize("name", exercise_names())
def test_every_solution_scores_full_marks(runs, name):
    for question in EXERCISES[name]:
        row = _row(runs, "solution", f"solution/{name}.ipynb", question.grade_id)
        assert row.points == row.max_points > 0 and row.reason == "", row


def test_broken_answers_get_zero_for_what_they_break_only(runs):
    notebook = "bad_a/05_aleatoric_epistemic.ipynb"
    expected = {
        "uncertainty.gaussian_nll": "the answer cell has a syntax error (line 2",
        "uncertainty.heteroscedastic_loss": f"public case 1 of 2: did not finish within {CASE_TIMEOUT} s (an endless loop?)",
        "uncertainty.expected_entropy": "public case 1 of 2: the function crashed its sandbox (exit code 3)",
        "uncertainty.mutual_information": "the self-check cell was deleted or edited",
    }
    for question, reason in expected.items():
        row = _row(runs, "bad_a", notebook, question)
        assert row.points == 0 and row.reason.startswith(reason), row
    intact = _row(runs, "bad_a", notebook, "uncertainty.regression_split")
    assert intact.points == intact.max_points == 3


def test_deleted_and_renamed_cells_get_zero_and_a_redefined_check_only_a_note(runs):
    notebook = "bad_b/01_bayes.ipynb"
    expected = {
        "bayes.posterior": "answer cell missing (deleted, or its metadata was changed)",
        "bayes.map": "the answer cell does not define map_estimate (renamed?)",
        "bayes.evidence": "answer cell missing (deleted, or its metadata was changed); cell ",
    }
    for question, reason in expected.items():
        row = _row(runs, "bad_b", notebook, question)
        assert row.points == 0 and reason in row.reason, row
    assert "defines log_evidence but is not marked as its answer cell" in _row(runs, "bad_b", notebook, "bayes.evidence").reason
    # the answer is scored in the sandbox whatever the notebook's check does: the scan is only a hint
    tampered = _row(runs, "bad_b", notebook, "bayes.linear_posterior")
    assert tampered.points == tampered.max_points and tampered.reason.startswith("note: cell "), tampered
    assert "redefines the self-check (line " in tampered.reason


def test_unreadable_and_foreign_notebooks_are_rows_with_zero(runs):
    for question in EXERCISES["05_aleatoric_epistemic"]:
        row = _row(runs, "garbage", "garbage/05_aleatoric_epistemic.ipynb", question.grade_id)
        assert row.points == 0 and row.reason.startswith("not a readable notebook (NotJSONError"), row
    foreign = _row(runs, "notes", "notes/scratch.ipynb", "-")
    assert (foreign.points, foreign.max_points, foreign.reason) == (0, 0, "not an exercise of this course")


def _code_cell_positions(name, predicate):
    notebook = nbformat.read(REPO_ROOT / "exercises" / f"{name}.ipynb", as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    return {position for position, cell in enumerate(code) if predicate(cell)}


def test_nbval_lax_fails_on_the_exercises_self_checks(runs):
    code, output, junit = runs["nbval"]
    assert code == 1, output
    failed: dict[str, set[int]] = {name: set() for name in exercise_names()}
    passed = 0
    for case in ElementTree.parse(junit).iter("testcase"):
        name = case.get("classname").split(".")[1]
        position = int(case.get("name").split()[-1])
        if case.find("failure") is not None or case.find("error") is not None:
            failed[name].add(position)
        else:
            passed += 1
    for name in exercise_names():
        checks = _code_cell_positions(name, lambda cell: "check" in cell.metadata.get("bdl_tf", {}))
        uses_answers = _code_cell_positions(name, lambda cell: cell.get("id") == "together-code")
        assert checks <= failed[name] <= checks | uses_answers, (name, failed[name], checks)
    assert passed >= 3 * len(exercise_names())  # install, setup and answer cells run fine


def test_blank_exercises_score_zero():
    rows = grade(REPO_ROOT / "exercises", execute=False, case_timeout=CASE_TIMEOUT)
    assert len(rows) == sum(len(questions) for questions in EXERCISES.values())
    for row in rows:
        assert row.points == 0 < row.max_points and "is not implemented yet (Hint: " in row.reason, row


def test_feedback_has_one_file_per_submission_with_points_and_reasons(runs):
    files = {path.name: path.read_text(encoding="utf-8") for path in runs["feedback"].glob("*.md")}
    assert len(files) == len(exercise_names()) + 4  # the solutions, bad_a, bad_b, garbage, notes
    assert "Points: 10 / 10" in files["solution__01_bayes.md"]
    bad = files["bad_a__05_aleatoric_epistemic.md"]
    assert "did not finish within" in bad and "the self-check cell was deleted or edited" in bad
