"""The driver inside a grading sandbox: ``python -m course.grading.inside IN``.

It runs student code, so it knows nothing worth stealing: ``IN/plan.json`` lists the steps (cells to
run, or one answer to load and its cases to call, each under a token the grader chose) and
``IN/cases.pkl`` holds the cases' arguments (inputs only, written by the grader). For every step it
sends ``start TOKEN`` on the result channel (:mod:`course.grading.channel`: the pipe the grader gave
it as standard output; the sandbox's own standard output goes to the grader's log instead), runs the
step, sends the returned values (for a case: float64 ``.npy`` data, no pickles) and ``end TOKEN``
with the step's record. The grader times the steps from outside and compares the values with the
expected ones in its own process, so whatever a submission sends here is at most a return value of
its own answers.

Phases: ``notebook`` runs the code cells in order in one IPython shell, as a kernel would; ``score``
loads one answer (the setup cells, then that answer cell alone) and calls it on its cases: the
grader starts a fresh sandbox for every answer, so no answer sees what another one left behind.
"""
from __future__ import annotations

import json
import os
import pickle
import re
import signal
import sys
from pathlib import Path

import numpy as np

from course.checks import QUESTIONS
from course.checks.diagnose import run_answer
from course.checks.models import ModelQuestion, run_model_answer
from course.grading.channel import message, npy_bytes, write_all


def _one_line(text, limit: int = 300) -> str:
    line = re.sub(r"\s+", " ", str(text)).strip()
    return line if len(line) <= limit else line[: limit - 3] + "..."


class Channel:
    """The result channel: the pipe that standard output was when the driver started. From then on
    file descriptor 1 is the log (standard error), so what student code prints never mixes with the
    results. Only the driver's own process sends: a forked copy of it (an answer that called
    ``os.fork``) leaves as soon as it reaches the channel."""

    def __init__(self):
        self.pid = os.getpid()
        self.fd = os.dup(1)
        os.set_inheritable(self.fd, False)
        sys.stdout.flush()
        os.dup2(2, 1)

    def _send(self, data: bytes) -> None:
        if os.getpid() != self.pid:
            os._exit(0)
        write_all(self.fd, data)

    def start(self, token: str) -> None:
        self._send(message("start", token))

    def end(self, token: str, record: dict, arrays=()) -> None:
        data = b"".join(message("array", token, npy_bytes(array)) for array in arrays)
        self._send(data + message("end", token, json.dumps(record).encode("utf-8")))


def _shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    return InteractiveShell.instance(config=config)


def _run_cell(shell, source: str) -> str | None:
    """None when the cell ran cleanly, else its error as ``Name: message``."""
    try:
        result = shell.run_cell(source, store_history=False)
        error = result.error_before_exec or result.error_in_exec
    except BaseException as caught:  # noqa: BLE001 - whatever a cell raises past IPython is the cell's
        error = caught
    return None if error is None else _one_line(f"{type(error).__name__}: {error}")


def run_notebook(plan: dict, channel: Channel) -> None:
    shell = _shell()
    for cell in plan["cells"]:
        channel.start(cell["token"])
        channel.end(cell["token"], {"error": _run_cell(shell, cell["source"])})


def _load(shell, plan: dict, answer: dict):
    """The answer's function, or a str saying why there is none."""
    for source in plan["setup"]:
        _run_cell(shell, source)
    error = _run_cell(shell, answer["source"])
    if error:
        return f"the answer cell raised {error}"
    function = shell.user_ns.get(answer["function"])
    if not callable(function):
        return f"{answer['function']} is not a function after running the answer cell"
    return function


def _call(question, function, arguments, max_values: int):
    """``(record, arrays)`` of one call; the answer's objects are turned into float64 arrays here."""
    try:
        if isinstance(question, ModelQuestion):
            outcome = run_model_answer(question, function, *arguments)
        else:
            outcome = run_answer(question, function, arguments)
    except BaseException as error:  # noqa: BLE001 - SystemExit, KeyboardInterrupt: the answer's doing
        return {"problem": _one_line(f"{getattr(function, '__name__', 'your function')} raised "
                                     f"{type(error).__name__}: {error}")}, ()
    if outcome.parts is None:
        return {"problem": _one_line(outcome.problem)}, ()
    arrays = [np.array(part, dtype=np.float64, order="C") for part in outcome.parts]
    size = sum(array.size for array in arrays)
    if size > max_values:
        return {"problem": f"returned {size} values; at most {max_values} are accepted"}, ()
    return {"items": len(arrays)}, arrays


def score(plan: dict, channel: Channel, cases: dict) -> None:
    """Load the plan's one answer and call it on each of its cases."""
    answer = plan["answer"]
    question = QUESTIONS[answer["grade_id"]]
    channel.start(answer["token"])
    function = _load(_shell(), plan, answer)
    channel.end(answer["token"], {"problem": function if isinstance(function, str) else None})
    if isinstance(function, str):
        return
    for token in answer["cases"]:
        channel.start(token)
        record, arrays = _call(question, function, cases[token], plan["max_values"])
        channel.end(token, record, arrays)


def main(argv=None) -> int:
    (inputs,) = (Path(arg) for arg in (argv if argv is not None else sys.argv[1:]))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a file past the size limit is an OSError, not a kill
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # the grader closed the channel: stop at once
    plan = json.loads((inputs / "plan.json").read_text(encoding="utf-8"))
    channel = Channel()
    if plan["phase"] == "notebook":
        run_notebook(plan, channel)
    else:
        with open(inputs / "cases.pkl", "rb") as handle:
            cases = pickle.load(handle)  # written by the grader: inputs only
        score(plan, channel, cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
