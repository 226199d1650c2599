"""Run notebooks the way a student would: each in a fresh kernel, top to bottom, with a per-cell timeout.

Executed copies and their HTML go under a build folder (``build/notebooks/01_bayes.ipynb`` and
``.html``, with the kernel process's own output in ``.kernel.log``), also for notebooks that fail,
so the failing cell can be read in context.
"""
from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter

# bdl_tf._config.QUICK_ENV_VAR, spelled out so the runner starts without importing TensorFlow
QUICK_ENV_VAR = "BDL_TF_QUICK"
# bdl_tf.plots.interactive.HEADLESS_ENV_VAR: no widget front end runs these kernels, so sliders show their
# static figures only (a widget in a headless run can hang nbclient: jupyter/nbclient#312)
HEADLESS_ENV_VAR = "BDL_TF_HEADLESS"
PASSED, FAILED, MISSING = "passed", "failed", "missing"


# What a student must never see in an executed notebook: TensorFlow's native start-up lines (glog
# format "I0000 00:00:..." and the absl preamble), CUDA probing, network errors, machine paths.
_NOISE = re.compile(
    r"All log messages before absl|^[IWEF]\d{4} \d\d:\d\d:\d\d|cuInit|oneDNN custom operations"
    r"|cpu_feature_guard|urlopen error|Name or service not known",
    re.MULTILINE,
)


def _machine_paths() -> list[str]:
    """Folders whose names say where this machine keeps things (home, interpreter, temp, this repo)."""
    paths = {os.path.expanduser("~"), sys.prefix, sys.base_prefix, "/tmp/", str(Path(__file__).resolve().parents[1])}
    return sorted(path for path in paths if len(path) > 1)


def noise(nb) -> list[tuple[int, str]]:
    """Where an executed notebook shows start-up chatter, network errors or machine paths:
    ``(cell number, 1-based, the first offending line)`` for each cell that does."""
    paths = _machine_paths()
    found = []
    for index, cell in enumerate(nb.cells, start=1):
        outputs = cell.get("outputs", []) if cell.cell_type == "code" else []
        texts = (output.get("text", "") if output.get("output_type") == "stream"
                 else str(output.get("data", {}).get("text/plain", "")) for output in outputs)
        offending = next((line for text in texts for line in text.splitlines()
                          if _NOISE.search(line) or any(path in line for path in paths)), None)
        if offending is not None:
            found.append((index, _one_line(offending, 120)))
    return found


class ThisInterpreterKernelManager(AsyncKernelManager):
    """Starts ipykernel on ``sys.executable``, whatever other ``python3`` kernelspecs are installed,
    so notebooks see the same packages as the runner (e.g. the project's venv)."""

    @property
    def kernel_spec(self) -> KernelSpec:
        return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())


@dataclass(frozen=True)
class NotebookResult:
    """Outcome of one notebook: status (passed/failed/missing), wall time, and where it failed."""

    notebook: Path
    status: str
    seconds: float = 0.0
    failed_cell: int | None = None  # 1-based position among all the notebook's cells
    error: str | None = None  # the error's last line, e.g. "ValueError: boom"
    executed: Path | None = None
    html: Path | None = None

    @property
    def passed(self) -> bool:
        return self.status == PASSED


def output_paths(notebook: Path, build_dir: Path) -> tuple[Path, Path]:
    """Where the executed copy and the HTML of ``notebook`` go: ``build_dir/<folder>/<name>``."""
    target = Path(build_dir) / Path(notebook).resolve().parent.name / Path(notebook).name
    return target, target.with_suffix(".html")


def _one_line(text: str, limit: int = 200) -> str:
    line = re.sub(r"\s+", " ", text).strip()
    return line if len(line) <= limit else line[: limit - 3] + "..."


def run_notebook(notebook, build_dir="build", *, quick: bool = False, timeout: int = 600) -> NotebookResult:
    """Execute ``notebook`` in a fresh kernel (cwd = its folder) and write the executed copy and HTML.

    Args:
        notebook: path to an ``.ipynb`` file.
        build_dir: folder for the outputs.
        quick: set ``BDL_TF_QUICK=1`` in the kernel's environment (otherwise it inherits ours).
        timeout: seconds allowed per cell.
    """
    notebook = Path(notebook)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        raise ValueError(f"timeout must be an integer number of seconds >= 1, got {timeout!r}")
    if not notebook.is_file():
        return NotebookResult(notebook, MISSING, error="no such notebook")
    nb = nbformat.read(notebook, as_version=4)
    current = {"index": None}

    def remember_cell(cell, cell_index, **_):
        current["index"] = cell_index

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        kernel_manager_class=ThisInterpreterKernelManager,
        resources={"metadata": {"path": str(notebook.resolve().parent)}},
        on_cell_start=remember_cell,
    )
    env = dict(os.environ, **{HEADLESS_ENV_VAR: "1"})
    if quick:
        env[QUICK_ENV_VAR] = "1"
    executed, html = output_paths(notebook, build_dir)
    executed.parent.mkdir(parents=True, exist_ok=True)
    error = None
    start = time.perf_counter()
    # the kernel process's own output (start-up warnings, native logs) goes to a log, not our terminal
    with open(executed.with_suffix(".kernel.log"), "w", encoding="utf-8") as kernel_log:
        try:
            client.execute(env=env, stdout=kernel_log, stderr=kernel_log)
        except CellExecutionError as failure:
            error = _one_line(f"{failure.ename}: {failure.evalue}")
        except CellTimeoutError:
            error = f"CellTimeoutError: the cell did not finish within {timeout} s"
        except DeadKernelError as failure:
            error = _one_line(f"DeadKernelError: {failure}")
    seconds = time.perf_counter() - start
    if error is None:
        noisy = noise(nb)
        if noisy:
            current["index"] = noisy[0][0] - 1
            error = f"the output shows what a student must not see ({len(noisy)} cell(s)): {noisy[0][1]}"

    nbformat.write(nb, executed)
    body, _ = HTMLExporter().from_notebook_node(nb)
    html.write_text(body, encoding="utf-8")
    if error is None:
        return NotebookResult(notebook, PASSED, seconds, executed=executed, html=html)
    failed_cell = None if current["index"] is None else current["index"] + 1
    return NotebookResult(notebook, FAILED, seconds, failed_cell, error, executed, html)


def _display_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def format_table(results) -> str:
    """A plain-text table: notebook, status, seconds, and for failures the cell and the error."""
    names = [_display_name(result.notebook) for result in results]
    width = max([len("notebook")] + [len(name) for name in names])
    lines = [f"{'notebook':<{width}}  {'status':<7}  {'seconds':>7}  detail"]
    for name, result in zip(names, results):
        detail = ""
        if result.error:
            detail = (f"cell {result.failed_cell}: " if result.failed_cell else "") + result.error
        lines.append(f"{name:<{width}}  {result.status:<7}  {result.seconds:7.1f}  {detail}".rstrip())
    passed = sum(result.passed for result in results)
    lines.append(f"{len(results)} notebook(s): {passed} passed, {len(results) - passed} not passed")
    return "\n".join(lines)
