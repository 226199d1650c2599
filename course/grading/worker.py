"""The grading worker process: ``python -m course.grading.worker MANIFEST RESULTS``.

Runs the pytest suite :mod:`course.grading.suite` over the manifest's (submission, question) pairs
and appends JSON lines to RESULTS: ``ready`` once the cases are collected, ``load`` before an answer cell runs,
``start`` before each case, ``result`` after it, ``done`` at the end. The parent (:mod:`course.grading.scoring`) reads
them as they come, so it knows what a crash or a hang interrupted.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from course.grading import session

SUITE = Path(__file__).resolve().parent / "suite.py"
_PYTEST_EXIT_OK = (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED)


class Reporter:
    """pytest plugin writing each case's start and outcome to the results log."""

    def __init__(self, log: session.Log):
        self.log = log

    @staticmethod
    def _task(item) -> session.Task:
        return item.callspec.params["task"]

    def pytest_collection_finish(self, session):
        self.log.write({"event": "ready"})  # from here on, the parent's stall watchdog applies

    def pytest_runtest_setup(self, item):
        task = self._task(item)
        self.log.write({"event": "start", "key": task.key, "grade_id": task.grade_id, "case": task.case, "label": task.label})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = (yield).get_result()
        if report.when == "call" or (report.when == "setup" and not report.passed):
            task = self._task(item)
            outcome = "failed" if report.failed else report.outcome
            reason = report.longreprtext if report.failed else None
            self.log.write({"event": "result", "key": task.key, "grade_id": task.grade_id, "case": task.case,
                            "outcome": outcome, "reason": reason})


def main(argv=None) -> int:
    manifest_path, results_path = argv if argv is not None else sys.argv[1:]
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    workdir = Path(results_path).resolve().parent
    ini = workdir / "pytest.ini"
    ini.write_text("[pytest]\n", encoding="utf-8")
    log = session.Log(results_path)
    try:
        session.start(session.Session(manifest, log))
        code = pytest.main(
            [str(SUITE), "-q", "-p", "no:cacheprovider", "-c", str(ini), "--rootdir", str(workdir), "-W", "ignore"],
            plugins=[Reporter(log)],
        )
        if code in _PYTEST_EXIT_OK:
            log.write({"event": "done"})
    finally:
        log.close()
    return 0 if code in _PYTEST_EXIT_OK else int(code)


if __name__ == "__main__":
    sys.exit(main())
