"""The grading tests, one per (submission, question, case), run by pytest inside the grading worker.

Not collected by the project's own test run: the worker passes this file to pytest explicitly and
provides the cases through :mod:`course.grading.session`.
"""
import pytest

from course.grading import session


def pytest_generate_tests(metafunc):
    if "task" in metafunc.fixturenames:
        tasks = session.current().tasks
        metafunc.parametrize("task", tasks, ids=[task.id for task in tasks])


def test_case(task):
    reason = session.current().run(task)
    if reason == session.SKIPPED:
        pytest.skip("an earlier case of this question failed")
    if reason is not None:
        pytest.fail(reason, pytrace=False)
