"""Run a submitted notebook top to bottom in a fresh kernel, cell by cell, with a per-cell timeout.

Errors do not stop the run (the next cell runs, as with nbval's lax mode). A cell that times out or
kills the kernel is recorded, the kernel is replaced by a fresh one, the notebook's setup cells run
again, and execution continues with the next cell, so one crash or endless loop costs only the
questions it breaks. After three such restarts the remaining cells are not run.
"""
from __future__ import annotations

import copy
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from course.runner import QUICK_ENV_VAR, ThisInterpreterKernelManager
from course.syllabus import REPO_ROOT

MAX_RESTARTS = 3
OK, ERROR, TIMEOUT, DIED, NOT_RUN = "ok", "error", "timeout", "died", "not run"


@dataclass(frozen=True)
class CellRun:
    """How one code cell ran: ok, error (with the exception), timeout, died (the kernel), not run."""

    status: str
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.status != OK

    def describe(self) -> str:
        """A short phrase for grade reasons."""
        return {
            ERROR: f"raised {self.message}",
            TIMEOUT: f"did not finish ({self.message})",
            DIED: "crashed the kernel",
            NOT_RUN: "was not run (the kernel crashed or hung too often before it)",
        }.get(self.status, "ran")


def child_environment(quick: bool) -> dict:
    """The environment of kernels and workers: ours, with the repository importable, quick mode if asked."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if quick:
        env[QUICK_ENV_VAR] = "1"
    return env


def _run(client: NotebookClient, cell, index: int, timeout: int) -> CellRun:
    try:
        client.execute_cell(cell, index)
    except CellTimeoutError:
        return CellRun(TIMEOUT, f"timed out after {timeout} s")
    except DeadKernelError:
        return CellRun(DIED, "the kernel died")
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return CellRun(ERROR, f"{output.get('ename')}: {output.get('evalue')}")
    return CellRun(OK)


def execute(notebook, *, timeout: int, quick: bool, workdir: Path) -> dict[int, CellRun]:
    """Run the code cells of ``notebook`` (not modified) in fresh kernels started in ``workdir``;
    returns ``{cell index: CellRun}`` for every code cell."""
    notebook = copy.deepcopy(notebook)
    cells = notebook.cells
    code = [i for i, cell in enumerate(cells) if cell.cell_type == "code"]
    setup = [i for i in code if cells[i].get("metadata", {}).get("bdl_tf", {}).get("setup")]
    client = NotebookClient(
        notebook,
        timeout=timeout,
        allow_errors=True,
        kernel_name="python3",
        kernel_manager_class=ThisInterpreterKernelManager,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(workdir)}},
    )
    runs: dict[int, CellRun] = {}
    position, restarts = 0, 0
    while position < len(code) and restarts <= MAX_RESTARTS:
        with client.setup_kernel(env=child_environment(quick), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            # after a restart, the imports again; a replay that hangs or crashes counts as a restart
            lost = restarts > 0 and any(
                _run(client, copy.deepcopy(cells[index]), index, timeout).status in (TIMEOUT, DIED) for index in setup
            )
            while not lost and position < len(code):
                index = code[position]
                position += 1
                runs[index] = _run(client, cells[index], index, timeout)
                lost = runs[index].status in (TIMEOUT, DIED)
        restarts += lost
    runs.update({index: CellRun(NOT_RUN) for index in code[position:]})
    return runs
