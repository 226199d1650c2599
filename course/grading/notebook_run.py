"""Run a submitted notebook top to bottom in a sandbox, cell by cell, each cell timed from outside.

The code cells run in order in one IPython shell inside a fresh sandbox (see
:mod:`course.grading.inside`); errors do not stop the run (as with nbval's lax mode). A cell that
runs past the timeout or ends the sandbox is recorded, the sandbox is replaced by a fresh one, the
notebook's setup cells run again, and execution goes on with the next cell, so one crash or endless
loop costs only the questions it breaks. After three such restarts the remaining cells are not run.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

from course.grading.sandbox import OUT_OF_TIME, GraderError, Sandbox
from course.grading.submission import tags

MAX_RESTARTS = 3
OK, ERROR, TIMEOUT, DIED, NOT_RUN = "ok", "error", "timeout", "died", "not run"


@dataclass(frozen=True)
class CellRun:
    """How one code cell ran: ok, error (with the exception), timeout, died (its sandbox), not run."""

    status: str
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.status != OK

    def describe(self) -> str:
        """A short phrase for grade reasons."""
        return {
            ERROR: f"raised {self.message}",
            TIMEOUT: self.message,
            DIED: self.message,
            NOT_RUN: f"was not run ({self.message or 'the notebook crashed or hung too often before it'})",
        }.get(self.status, "ran")


def _record_run(run, token: str) -> CellRun:
    """The cell's outcome from its record; a record that is missing or not what the driver sends
    counts as a failure (fail closed)."""
    record = run.record(token)
    if record is None or "error" not in record:
        return CellRun(ERROR, "its result record is missing or unreadable")
    error = record["error"]
    if error is None:
        return CellRun(OK)
    return CellRun(ERROR, error[:300] if isinstance(error, str) else "an unreadable result")


def run_notebook(notebook, sandbox: Sandbox, *, timeout: float, slot: int = 0,
                 deadline: float | None = None) -> dict[int, CellRun]:
    """``{cell index: CellRun}`` for every code cell of ``notebook`` (which is not modified).
    Cells not run by ``deadline`` (a ``time.monotonic()`` value) are recorded as not run."""
    cells = notebook.cells
    code = [i for i, cell in enumerate(cells) if cell.cell_type == "code"]
    setup = [i for i in code if tags(cells[i]).get("setup")]
    runs: dict[int, CellRun] = {}
    position, restarts = 0, 0
    while position < len(code) and restarts <= MAX_RESTARTS:
        if deadline is not None and time.monotonic() >= deadline:
            break
        replay = [(secrets.token_hex(8), i) for i in (setup if restarts else [])]
        rest = [(secrets.token_hex(8), i) for i in code[position:]]
        plan = {"phase": "notebook", "cells": [{"token": t, "source": cells[i].source} for t, i in replay + rest]}
        run = sandbox.run({"plan.json": json.dumps(plan).encode()}, {t: timeout for t, _ in replay + rest}, slot=slot,
                          deadline=deadline)
        if not run.started:
            if run.killed and OUT_OF_TIME in run.why:
                break
            raise GraderError(f"the sandbox did not start the notebook driver; its output ends with:\n{run.log}")
        if any(token == run.culprit for token, _ in replay):
            restarts += 1  # the setup cells hung or crashed on the replay: the next cell has not run yet
            continue
        for token, index in rest:
            if token in run.ended and token != run.culprit:
                runs[index] = _record_run(run, token)
                position += 1
                continue
            if token == run.culprit:
                runs[index] = CellRun(TIMEOUT, run.why) if run.killed else CellRun(DIED, run.ended_by())
            else:  # the sandbox ended between cells: blame the next one, so that the run moves on
                runs[index] = CellRun(DIED, run.ended_by())
            position += 1
            restarts += 1
            break
    late = deadline is not None and time.monotonic() >= deadline
    runs.update({index: CellRun(NOT_RUN, OUT_OF_TIME if late else "") for index in code[position:]})
    return runs
