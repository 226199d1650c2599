"""State of one grading worker process: the submissions' answers, the cases, and the limits around them.

Answers run in fresh namespaces (setup cells, then each answer cell, as the notebook orders them),
never in the grader's own process: :mod:`course.grading.worker` is a separate process, so an answer
that crashes the interpreter costs only itself. Every answer cell and every call runs under a time
limit, and under a guard that notices (and undoes) changes to NumPy, SciPy, ``builtins`` and the
``course`` modules, so that an answer cannot make the comparison itself pass.

Expected values are read from the stored data (public and hidden) before any answer runs.
"""
from __future__ import annotations

import builtins
import json
import re
import signal
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

from course.checks import EXERCISES
from course.checks.diagnose import evaluate
from course.checks.expected import public
from course.grading.answer_key import answers, hidden_expected

SKIPPED = "skipped"
_WATCHED = ("builtins", "math", "numpy", "numpy.linalg", "numpy.testing", "scipy.special")
_WATCHED_PREFIX = "course."
_UNWATCHED = ("course.grading.session",)  # holds the current session, set after the snapshot


class CaseTimeout(BaseException):
    """An answer ran past its time limit (a BaseException, so ``except Exception`` cannot swallow it)."""


class Tampering(BaseException):
    """An answer changed the modules the comparison relies on."""


@contextmanager
def time_limit(seconds: float):
    """Raise CaseTimeout after ``seconds``, and every second after that (in case one is caught)."""

    def expire(signum, frame):
        raise CaseTimeout(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Guard:
    """Snapshot of watched modules' attributes; :meth:`restore` undoes changes and names them.

    Newly imported submodules (``numpy.testing`` appearing on ``numpy``) are not changes."""

    def __init__(self):
        names = [n for n in sys.modules if (n in _WATCHED or n.startswith(_WATCHED_PREFIX)) and n not in _UNWATCHED]
        self._modules = {n: sys.modules[n] for n in names if isinstance(sys.modules[n], ModuleType)}
        self._saved = {n: dict(vars(m)) for n, m in self._modules.items()}

    def restore(self) -> list[str]:
        changed = []
        for name, module in self._modules.items():
            if sys.modules.get(name) is not module:
                changed.append(f"sys.modules[{name!r}]")
                sys.modules[name] = module
            current, saved = vars(module), self._saved[name]
            for key in set(current) | set(saved):
                if key not in saved:
                    value = current[key]
                    if isinstance(value, ModuleType) and value.__name__ == f"{name}.{key}":
                        continue
                    del current[key]
                elif current.get(key, _MISSING) is not saved[key]:
                    current[key] = saved[key]
                else:
                    continue
                changed.append(f"{name}.{key}")
        return sorted(changed)


_MISSING = object()


def _one_line(text: str, limit: int = 300) -> str:
    line = re.sub(r"\s+", " ", str(text)).strip()
    return line if len(line) <= limit else line[: limit - 3] + "..."


@dataclass(frozen=True)
class Task:
    """One case of one question of one submission."""

    key: str
    grade_id: str
    case: int
    label: str

    @property
    def id(self) -> str:
        return f"{self.key}::{self.grade_id}::{self.case}"


class Log:
    """Append-only JSON-lines progress and results, flushed line by line (the parent watches it)."""

    def __init__(self, path):
        self._file = open(path, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def cases_of(exercise: str, grade_id: str) -> list:
    """``[(case, expected, label)]``: the public cases, then the hidden ones."""
    question = next(q for q in EXERCISES[exercise] if q.grade_id == grade_id)
    public_cases = list(zip(question.cases, public(exercise)[grade_id]))
    hidden_cases = list(zip(answers(exercise)[grade_id].hidden, hidden_expected(exercise)[grade_id]))
    return [(c, e, f"public case {i} of {len(public_cases)}") for i, (c, e) in enumerate(public_cases, 1)] + [
        (c, e, f"hidden case {i} of {len(hidden_cases)}") for i, (c, e) in enumerate(hidden_cases, 1)
    ]


class Session:
    """Grades the (submission, question) pairs of a manifest written by :mod:`course.grading.scoring`."""

    def __init__(self, manifest: dict, log: Log):
        self.log = log
        self.case_timeout = manifest["case_timeout"]
        self.load_timeout = manifest["load_timeout"]
        self.submissions = {job["key"]: job for job in manifest["jobs"]}
        self.skip_cells = {tuple(pair) for pair in manifest["skip_cells"]}
        self.questions = {q.grade_id: q for questions in EXERCISES.values() for q in questions}
        self.cases = {}
        self.tasks = []
        for key, grade_id in manifest["todo"]:
            exercise = self.submissions[key]["exercise"]
            self.cases.setdefault(grade_id, cases_of(exercise, grade_id))
            self.tasks += [Task(key, grade_id, i, label) for i, (_, _, label) in enumerate(self.cases[grade_id])]
        self.guard: Guard | None = None  # taken when the first answer runs, after every import
        self._functions: dict[str, dict] = {}
        self._failed: set[tuple[str, str]] = set()

    def _exec(self, source: str, name: str, namespace: dict) -> str | None:
        """Run one cell's source; None when it ran cleanly, else what went wrong."""
        try:
            with time_limit(self.load_timeout):
                exec(compile(source, name, "exec"), namespace)  # noqa: S102 - running submissions is the job
        except CaseTimeout:
            return f"did not finish within {self.load_timeout:g} s"
        except BaseException as error:  # noqa: BLE001 - SystemExit, KeyboardInterrupt: all the answer's fault
            return f"raised {type(error).__name__}: {error}"
        finally:
            changed = self.guard.restore()
        return f"changed {', '.join(changed)}" if changed else None

    def _load(self, key: str) -> dict:
        """Run a submission's setup and answer cells in a fresh namespace; ``{grade_id: function or problem}``."""
        job = self.submissions[key]
        namespace = {"__name__": "__main__", "__builtins__": builtins}
        functions, setup_problem = {}, None
        for cell in job["cells"]:
            if cell["grade_id"] is None:
                problem = self._exec(cell["source"], "<setup cell>", namespace)
                if problem and problem.startswith("changed"):
                    setup_problem = f"the setup cell {problem}"
                continue
            grade_id, function = cell["grade_id"], cell["function"]
            if (key, grade_id) in self.skip_cells:
                functions[grade_id] = "its answer cell crashed the grading process"
                continue
            self.log.write({"event": "load", "key": key, "grade_id": grade_id})
            problem = self._exec(cell["source"], f"<answer {grade_id}>", namespace)
            if problem:
                functions[grade_id] = f"the answer cell {problem}"
            elif not callable(namespace.get(function)):
                functions[grade_id] = f"{function} is not a function after running the answer cell"
            else:
                functions[grade_id] = namespace[function]
        if setup_problem:
            functions = {grade_id: setup_problem for grade_id in functions}
        return functions

    def _call(self, function, arguments):
        try:
            with time_limit(self.case_timeout):
                return function(*arguments)
        finally:  # also when the answer raised or timed out: its changes are undone and its own
            changed = self.guard.restore()
            if changed:
                raise Tampering(changed)  # noqa: B012 - tampering outranks the answer's own error

    def run(self, task: Task) -> str | None:
        """None when ``task`` passes, SKIPPED after an earlier failure of its question, else the reason."""
        pair = (task.key, task.grade_id)
        if pair in self._failed:
            return SKIPPED
        if self.guard is None:
            self.guard = Guard()
        if task.key not in self._functions:
            self._functions[task.key] = self._load(task.key)
        function = self._functions[task.key].get(task.grade_id)
        if isinstance(function, str) or function is None:
            reason = function or "the answer cell was not found"
        else:
            case, expected, label = self.cases[task.grade_id][task.case]
            try:
                verdict = evaluate(self.questions[task.grade_id], function, case, expected, call=self._call)
                reason = None if verdict.passed else f"{label}: {verdict.diagnosis}"
            except CaseTimeout:
                reason = f"{label}: did not finish within {self.case_timeout:g} s (an endless loop?)"
            except Tampering as changed:
                reason = f"{label}: the function changed {', '.join(changed.args[0])}"
        if reason is not None:
            self._failed.add(pair)
            reason = _one_line(reason)
        return reason


_current: Session | None = None


def start(session: Session) -> None:
    """Make ``session`` the one the pytest suite grades."""
    global _current
    _current = session


def current() -> Session:
    """The session started by the worker."""
    if _current is None:
        raise RuntimeError("no grading session: the suite runs inside 'python -m course.grading.worker'")
    return _current
