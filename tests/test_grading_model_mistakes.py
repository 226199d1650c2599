"""The plausible mistakes of the model questions through the sandboxed grader, in quick mode: each
loses its question, with feedback naming the measurement it fails, and only that question.

Round r hands in every exercise with a model question, each model question carrying the r-th mistake
of the answer key (``course/grading/hidden/<topic>.py``) where it has one and everything else the
solution, graded without kernels (the answer cells only).
"""
import nbformat
import pytest

from course.checks import EXERCISES, exercise_of
from course.checks.models import ModelQuestion
from course.grading.answer_key import answers
from course.grading.grader import grade
from course.syllabus import REPO_ROOT

MODEL_QUESTIONS = [q for qs in EXERCISES.values() for q in qs if isinstance(q, ModelQuestion)]


def _answer_cell(notebook, grade_id):
    return next(c for c in notebook.cells if c.metadata.get("bdl_tf", {}).get("grade_id") == grade_id)


def _rounds():
    """Round r: every model question carries its r-th mistake (if it has one), all else is the solution."""
    keys = {q.grade_id: answers(exercise_of(q.grade_id))[q.grade_id] for q in MODEL_QUESTIONS}
    return [{grade_id: key.mistakes[r] for grade_id, key in keys.items() if r < len(key.mistakes)}
            for r in range(max(len(key.mistakes) for key in keys.values()))]


@pytest.fixture(scope="module")
def mistakes_graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model-mistakes")
    for number, mistakes in enumerate(_rounds()):
        for name in {exercise_of(grade_id) for grade_id in mistakes}:
            notebook = nbformat.read(REPO_ROOT / "solutions" / f"{name}.ipynb", as_version=4)
            for grade_id, mistake in mistakes.items():
                if exercise_of(grade_id) == name:
                    cell = _answer_cell(notebook, grade_id)
                    cell.source = mistake.apply(cell.source)
            (folder / f"round{number}").mkdir(exist_ok=True)
            nbformat.write(notebook, folder / f"round{number}" / f"{name}.ipynb")
    rows = grade(folder, execute=False, case_timeout=10)
    return {(row.student, row.question): row for row in rows}


@pytest.mark.parametrize("number", range(len(_rounds())))
def test_each_mistake_loses_its_question_and_only_that_one(mistakes_graded, number):
    mistakes = _rounds()[number]
    for name in {exercise_of(grade_id) for grade_id in mistakes}:
        for question in EXERCISES[name]:
            row = mistakes_graded[(f"round{number}", question.grade_id)]
            mistake = mistakes.get(question.grade_id)
            if mistake is None:
                assert row.points == row.max_points > 0 and row.reason == "", row
                continue
            labels = [c.label for c in question.criteria if c.key in mistake.fails]
            assert row.points == 0 and row.reason.startswith("hidden instance: "), (mistake.message, row)
            assert any(label in row.reason for label in labels), (mistake.message, row.reason)
