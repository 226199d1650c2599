"""solutions/ -> exercises/: the stubs, the staleness check, and the shape of every exercise notebook."""
import ast

import nbformat
import pytest

from course import exercises
from course.checks import EXERCISES, QUESTIONS
from course.exercises import SolutionMarkupError, build_exercise, strip_solutions
from course.release import PLACEHOLDER
from course.syllabus import NOTEBOOKS, REPO_ROOT

NAMES = exercises.exercise_names()


def _notebook(folder, name):
    return nbformat.read(REPO_ROOT / folder / f"{name}.ipynb", as_version=4)


def _tags(cell):
    return cell.metadata.get("bdl_tf", {})


def _regions(source):
    """The code lines inside solution regions (markers and hints excluded)."""
    inside, lines = False, []
    for line in source.splitlines():
        marker = line.strip()
        if marker.startswith(exercises.BEGIN):
            inside = True
        elif marker.startswith(exercises.END):
            inside = False
        elif inside and not marker.startswith(exercises.HINT):
            lines.append(line)
    return lines


def test_a_region_becomes_an_indented_stub_with_its_hint():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    ### HINT: add one\n    return x + y\n    ### END SOLUTION\n"
    assert strip_solutions(source) == (
        "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError(\"Hint: add one\")"
    )
    plain = strip_solutions("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
    assert plain == "# YOUR CODE HERE\nraise NotImplementedError(\"replace this line with your answer\")"


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
        ("x = 1\n### END SOLUTION", "without"),
        ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ],
)
def test_unbalanced_markers_are_errors(source, message):
    with pytest.raises(SolutionMarkupError, match=message):
        strip_solutions(source, "nb, cell 3")


def test_a_graded_cell_without_a_region_and_a_markdown_region_are_refused():
    graded = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def f():\n    return 1", metadata={"bdl_tf": {"grade_id": "x.y"}})
    ])
    with pytest.raises(SolutionMarkupError, match="students get the answer"):
        build_exercise(graded)
    markdown = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\nanswer\n### END SOLUTION")])
    with pytest.raises(SolutionMarkupError, match="code cells only"):
        build_exercise(markdown)


def test_exercises_are_up_to_date_with_the_solutions():
    stale = exercises.stale()
    assert stale == [], f"run 'python -m course build': {[p.name for p in stale]} differ from solutions/"


def test_a_changed_solution_makes_its_exercise_stale(tmp_path):
    for folder in ("solutions", "exercises"):
        (tmp_path / folder).mkdir()
        for name in NAMES:
            (tmp_path / folder / f"{name}.ipynb").write_bytes((REPO_ROOT / folder / f"{name}.ipynb").read_bytes())
    assert exercises.stale(tmp_path) == []
    solution = tmp_path / "solutions" / f"{NAMES[0]}.ipynb"
    solution.write_text(solution.read_text(encoding="utf-8").replace("posterior", "Posterior", 1), encoding="utf-8")
    assert exercises.stale(tmp_path) == [tmp_path / "exercises" / f"{NAMES[0]}.ipynb"]
    exercises.build(tmp_path)
    assert exercises.stale(tmp_path) == []


def test_every_syllabus_notebook_has_an_exercise_and_every_solution_is_in_the_syllabus():
    assert len(NAMES) == len(NOTEBOOKS) == 8
    on_disk = sorted(path.stem for path in (REPO_ROOT / "solutions").glob("*.ipynb"))
    assert on_disk == sorted(NAMES) == sorted(EXERCISES)


@pytest.mark.parametrize("name", NAMES)
def test_exercise_notebook_layout(name):
    solution, exercise = _notebook("solutions", name), _notebook("exercises", name)
    assert [c.get("id") for c in solution.cells] == [c.get("id") for c in exercise.cells]
    assert exercise.metadata["bdl_tf"]["exercise"] == name
    assert f"colab.research.google.com/github/{PLACEHOLDER}/blob/main/exercises/{name}.ipynb" in exercise.cells[0].source
    code = [c for c in exercise.cells if c.cell_type == "code"]
    assert 'if "google.colab" in sys.modules' in code[0].source
    assert f"bdl-tf @ git+https://github.com/{PLACEHOLDER}" in code[0].source  # stamped at release
    assert _tags(code[1]).get("setup") and "from course.checks import check" in code[1].source
    assert all(not c.outputs and c.execution_count is None for c in code)

    graded = [(i, c) for i, c in enumerate(exercise.cells) if "grade_id" in _tags(c)]
    assert [_tags(c)["grade_id"] for _, c in graded] == [q.grade_id for q in EXERCISES[name]]
    assert len(graded) >= 3
    for index, cell in graded:
        tags = _tags(cell)
        assert isinstance(tags["points"], int) and tags["points"] > 0
        defined = [node.name for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
        assert tags["function"] in defined
        check_cell = exercise.cells[index + 1]
        assert _tags(check_cell) == {"check": tags["grade_id"]}
        assert f'check("{tags["grade_id"]}", {tags["function"]})' in check_cell.source
        assert check_cell.metadata.get("editable") is False and cell.metadata.get("deletable") is False


@pytest.mark.parametrize("name", NAMES)
def test_no_solution_code_reaches_the_exercise(name):
    solution, exercise = _notebook("solutions", name), _notebook("exercises", name)
    text = nbformat.writes(exercise)
    assert exercises.BEGIN not in text and exercises.END not in text
    for before, after in zip(solution.cells, exercise.cells):
        if "grade_id" in _tags(before):
            assert "raise NotImplementedError(" in after.source
            leaked = [line for line in _regions(before.source) if len(line.strip()) > 12 and line in after.source]
            assert leaked == [], f"{name}: solution lines in the exercise: {leaked}"


def test_at_least_24_graded_questions_with_unique_ids():
    ids = [q.grade_id for questions in EXERCISES.values() for q in questions]
    assert len(ids) == len(set(ids)) == len(QUESTIONS) >= 24
