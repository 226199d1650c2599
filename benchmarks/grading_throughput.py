"""Benchmark: submissions graded per minute in bubblewrap sandboxes, with --jobs 1 and --jobs 2, and
the cost of the sandbox per submission.

The folder holds 100 mixed submissions over the eight exercises: 40 solutions, 24 blank exercises,
24 with one wrong answer, and 12 hostile ones (an endless loop that ignores SIGALRM, a fork bomb,
``os._exit``, reading the answer key by path, opening a network connection, a 16 GiB allocation).
Every notebook is run top to bottom and its answers scored (two sandboxes per submission, plus a
fresh one after each hang or crash), with ``--timeout 10 --case-timeout 3``. The sandbox's own cost
is the time to grade the 40 solutions with the sandbox minus without it (``--no-sandbox``), per
submission. It prints the rates and the ratio of the two job counts, measured in this one run.

    python benchmarks/grading_throughput.py
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import nbformat

from course.exercises import exercise_names
from course.grading.grader import grade
from course.syllabus import REPO_ROOT

TIMEOUT, CASE_TIMEOUT = 10, 3
HOSTILE = (
    "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass",
    "import os\nfor _ in range(400):\n    if os.fork() == 0:\n        import time; time.sleep(30); os._exit(0)",
    "import os\nos._exit(3)",
    f"open({str(REPO_ROOT / 'course' / 'grading' / 'hidden' / 'expected' / '01_bayes.json')!r}).read()",
    "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=1)",
    "import numpy as np\nnp.ones(2**31)",
)


def _answers(notebook):
    return [c for c in notebook.cells if "grade_id" in c.metadata.get("bdl_tf", {})]


def _function_with(cell, body: str) -> str:
    name = cell.metadata["bdl_tf"]["function"]
    lines = "\n".join("    " + line for line in body.splitlines())
    return f"def {name}(*args):\n{lines}\n    return 0.0\n"


def build(folder: Path) -> dict[str, int]:
    names = exercise_names()
    counts = {"solution": 0, "blank": 0, "wrong": 0, "hostile": 0}

    def write(kind, name, notebook):
        counts[kind] += 1
        student = folder / f"{kind}{counts[kind]:03d}"
        student.mkdir(parents=True)
        nbformat.write(notebook, student / f"{name}.ipynb")

    for number in range(40):
        name = names[number % len(names)]
        write("solution", name, nbformat.read(REPO_ROOT / "solutions" / f"{name}.ipynb", as_version=4))
    for number in range(24):
        name = names[number % len(names)]
        write("blank", name, nbformat.read(REPO_ROOT / "exercises" / f"{name}.ipynb", as_version=4))
    for number in range(24):
        name = names[number % len(names)]
        notebook = nbformat.read(REPO_ROOT / "solutions" / f"{name}.ipynb", as_version=4)
        cell = _answers(notebook)[number % len(_answers(notebook))]
        cell.source = _function_with(cell, "pass")
        write("wrong", name, notebook)
    for number in range(12):
        name = names[number % len(names)]
        notebook = nbformat.read(REPO_ROOT / "solutions" / f"{name}.ipynb", as_version=4)
        cell = _answers(notebook)[0]
        cell.source = _function_with(cell, HOSTILE[number % len(HOSTILE)])
        write("hostile", name, notebook)
    return counts


def _timed(path, **options) -> tuple[float, list]:
    started = time.monotonic()
    rows = grade(path, timeout=TIMEOUT, case_timeout=CASE_TIMEOUT, **options)
    return time.monotonic() - started, rows


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir) / "submissions"
        counts = build(folder)
        total = sum(counts.values())
        print(f"{total} submissions: {counts}; --timeout {TIMEOUT} --case-timeout {CASE_TIMEOUT}")
        rates, tables = {}, {}
        for jobs in (1, 2):
            seconds, rows = _timed(folder, jobs=jobs)
            rates[jobs], tables[jobs] = 60.0 * total / seconds, rows
            print(f"--jobs {jobs}: {seconds:6.1f} s, {rates[jobs]:5.1f} submissions per minute")
        print(f"same table with --jobs 1 and --jobs 2: {tables[1] == tables[2]}; speed-up {rates[2] / rates[1]:.2f}x")
        solutions = Path(workdir) / "solutions"
        solutions.mkdir()
        for student in sorted(folder.glob("solution*")):
            student.rename(solutions / student.name)
        with_box, _ = _timed(solutions, jobs=1)
        without, _ = _timed(solutions, jobs=1, sandbox=False)
        print(f"{counts['solution']} solutions, --jobs 1: {with_box:.1f} s sandboxed, {without:.1f} s with --no-sandbox: "
              f"the sandbox costs {(with_box - without) / counts['solution']:.2f} s per submission "
              f"({with_box / without:.2f}x)")


if __name__ == "__main__":
    main()
