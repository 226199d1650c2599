"""Measure every claim the lecture notebooks assert, on several seeds, in quick and full mode.

    .venv/bin/python scripts/notebook_claims.py --seeds 5 --modes quick full --out docs/notebook_claims.md
    # or one mode at a time, then the table from both:
    .venv/bin/python scripts/notebook_claims.py --modes quick --raw quick.json
    .venv/bin/python scripts/notebook_claims.py --from-raw quick.json full.json --out docs/notebook_claims.md
    # what CI runs: every notebook on one more seed (offset 1) in quick mode; exit 1 if a claim fails
    .venv/bin/python scripts/notebook_claims.py --first-seed 1 --seeds 1 --modes quick

Each notebook runs in a fresh kernel (as ``python -m course run`` does, and fails as it does on an
error or on output a student must never see: start-up chatter, network errors, machine paths) with
two changes made to a copy in memory, never to the file:

- every seed the notebook sets (``set_seed(k)``, ``seed=k``) is shifted by the run's seed offset
  (offset 0 is the notebook as shipped);
- every ``assert`` becomes a measurement: a comparison ``a > b`` records both sides and whether it
  held, and does not stop the notebook, so one failing claim does not hide the ones after it
  (``a and b`` and chains ``a > b > c`` are split into their parts; other asserts record a boolean).

The table gives, per claim, the worst *margin* over the seeds in each mode: for ``a > b`` it is
``(a - b) / |b|`` (the fraction by which the claim clears its threshold; for ``a > 3 * b`` a margin
of 0.5 means ``a`` was 4.5 times ``b``), for ``a < b`` it is ``(b - a) / |b|``. A negative margin is
a claim that failed on some seed. Asserts that are not comparisons show only how many runs held.
"""
from __future__ import annotations

import argparse
import ast
import json
import math
import os
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from course.runner import HEADLESS_ENV_VAR, QUICK_ENV_VAR, ThisInterpreterKernelManager, noise  # noqa: E402
from course.syllabus import notebook_paths  # noqa: E402

_OPS = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<="}

_RECORDER = '''
import json as _claims_json
import numpy as _claims_np


def _claim(cell, text, measure):
    """Record one claim: measure() gives (held, lhs, op, rhs), or (held,) for a plain assert."""
    try:
        parts = measure()
        held = bool(_claims_np.all(parts[0]))
        row = {"cell": cell, "claim": text, "held": held}
        if len(parts) == 4:
            lhs, rhs = _claims_np.asarray(parts[1], float), _claims_np.asarray(parts[3], float)
            slack = lhs - rhs if parts[2].startswith(">") else rhs - lhs
            scale = _claims_np.where(rhs != 0, _claims_np.abs(rhs), 1.0)
            row.update(op=parts[2], lhs=float(lhs.mean()), rhs=float(rhs.mean()),
                       margin=float(_claims_np.min(slack / scale)))
    except Exception as error:  # the claim could not even be evaluated on this seed: that is a result
        row = {"cell": cell, "claim": text, "held": False, "error": f"{type(error).__name__}: {error}"}
    with open(__CLAIMS_OUT__, "a", encoding="utf-8") as out:
        out.write(_claims_json.dumps(row) + "\\n")
'''


class _Measure(ast.NodeTransformer):
    """Turns asserts into ``_claim`` calls and shifts the seeds by ``offset``."""

    def __init__(self, cell: int, source: str, offset: int):
        self.cell, self.source, self.offset = cell, source, offset

    def _shift(self, node: ast.expr) -> ast.expr:
        if not self.offset:
            return node
        if isinstance(node, (ast.List, ast.Tuple)) and node.elts:  # a stateless seed pair: shift its first part
            node.elts[0] = self._shift(node.elts[0])
            return node
        return ast.BinOp(node, ast.Add(), ast.Constant(self.offset))

    def visit_Call(self, node: ast.Call):
        self.generic_visit(node)
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name == "set_seed" and node.args:
            node.args[0] = self._shift(node.args[0])
        for keyword in node.keywords:
            if keyword.arg == "seed":
                keyword.value = self._shift(keyword.value)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef):
        self.generic_visit(node)
        arguments = node.args.args[len(node.args.args) - len(node.args.defaults):]
        node.args.defaults = [self._shift(default) if argument.arg == "seed" else default
                              for argument, default in zip(arguments, node.args.defaults)]
        return node

    def _claims(self, test: ast.expr) -> list[ast.expr]:
        """The measured parts of one assert's test: one ``lambda`` per comparison."""
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            return [part for value in test.values for part in self._claims(value)]
        if isinstance(test, ast.Compare) and all(type(op) in _OPS for op in test.ops):
            operands = [test.left, *test.comparators]
            parts = []
            for left, op, right in zip(operands, test.ops, operands[1:]):
                text = f"{ast.get_source_segment(self.source, left) or ast.unparse(left)} {_OPS[type(op)]} " \
                       f"{ast.get_source_segment(self.source, right) or ast.unparse(right)}"
                values = ast.Tuple([ast.Compare(ast.Name("_l", ast.Load()), [op], [ast.Name("_r", ast.Load())]),
                                    ast.Name("_l", ast.Load()), ast.Constant(_OPS[type(op)]),
                                    ast.Name("_r", ast.Load())], ast.Load())
                # (lambda _l, _r: (_l OP _r, _l, "OP", _r))(left, right), wrapped so it is evaluated late
                inner = ast.Lambda(_lambda_args("_l", "_r"), values)
                parts.append((text, ast.Lambda(_lambda_args(), ast.Call(inner, [left, right], []))))
            return parts
        text = ast.get_source_segment(self.source, test) or ast.unparse(test)
        return [(text, ast.Lambda(_lambda_args(), ast.Tuple([test], ast.Load())))]

    def visit_Assert(self, node: ast.Assert):
        calls = [ast.Expr(ast.Call(ast.Name("_claim", ast.Load()),
                                   [ast.Constant(self.cell), ast.Constant(" ".join(text.split())), measure], []))
                 for text, measure in self._claims(node.test)]
        return calls


def _lambda_args(*names: str) -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=[ast.arg(name) for name in names], kwonlyargs=[],
                         kw_defaults=[], defaults=[])


def instrument(source: str, cell: int, offset: int) -> str:
    """The code of one cell with its asserts measured and its seeds shifted by ``offset``."""
    python = TransformerManager().transform_cell(source)  # IPython magics -> plain Python
    tree = _Measure(cell, python, offset).visit(ast.parse(python))
    return ast.unparse(ast.fix_missing_locations(tree))


def run(notebook: Path, offset: int, quick: bool, timeout: int = 1800):
    """Run one instrumented copy of ``notebook``: its claim rows, seconds, first error, slow cells."""
    nb = nbformat.read(notebook, as_version=4)
    with tempfile.NamedTemporaryFile("w+", suffix=".jsonl", delete=False) as out:
        claims_file = out.name
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.source = instrument(cell.source, index + 1, offset)  # 1-based, as the runner counts
    recorder = _RECORDER.replace("__CLAIMS_OUT__", repr(claims_file))
    nb.cells.insert(0, nbformat.v4.new_code_cell(recorder))
    env = dict(os.environ, **{HEADLESS_ENV_VAR: "1"})
    env.pop(QUICK_ENV_VAR, None)
    if quick:
        env[QUICK_ENV_VAR] = "1"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            kernel_manager_class=ThisInterpreterKernelManager,
                            resources={"metadata": {"path": str(notebook.parent)}})
    start = time.perf_counter()
    died = None
    with open(os.devnull, "w") as quiet:
        try:
            client.execute(env=env, stdout=quiet, stderr=quiet)
        except (CellTimeoutError, DeadKernelError) as failure:  # the claims after it are missing: say why
            died = f"{type(failure).__name__}: {failure}"[:200]
    seconds = time.perf_counter() - start
    errors = [output for cell in nb.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    error = f"{errors[0]['ename']}: {errors[0]['evalue']}"[:200] if errors else died
    chatter = noise(nb)  # what `course run` also fails a notebook for; cell numbers without the recorder
    if error is None and chatter:
        cell, line = chatter[0]
        error = f"cell {cell - 1} shows what a student must never see: {line}"
    rows = [json.loads(line) for line in Path(claims_file).read_text().splitlines()]
    os.unlink(claims_file)
    return rows, seconds, error, _slow_cells(nb)


def _slow_cells(nb, at_least: float = 3.0) -> dict[int, float]:
    """Seconds per code cell (1-based, as in the file) for the cells that took ``at_least`` or more."""
    slow = {}
    for index, cell in enumerate(nb.cells[1:], start=1):  # cells[0] is the recorder
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            took = (datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
                    - datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))).total_seconds()
            if took >= at_least:
                slow[index] = round(took, 1)
    return slow


def table(results: dict, modes: list[str], seeds: int) -> str:
    """Markdown: one row per claim, worst margin and runs held per mode."""
    claims = {}
    for (notebook, mode, offset), rows in results.items():
        for row in rows:
            key = (notebook, row["cell"], row["claim"])
            entry = claims.setdefault(key, {m: {"margins": [], "held": defaultdict(lambda: True)} for m in modes})
            held = entry[mode]["held"]
            held[offset] = held[offset] and row["held"]  # a claim inside a loop holds only if every pass does
            if "margin" in row:
                entry[mode]["margins"].append(row["margin"])
    header = "| notebook | cell | claim | " + " | ".join(f"{m}: held | {m}: worst margin" for m in modes) + " |"
    lines = [header, "|" + "---|" * (3 + 2 * len(modes))]
    for (notebook, cell, claim), entry in sorted(claims.items()):
        cells = []
        for mode in modes:
            held, margins = entry[mode]["held"], entry[mode]["margins"]
            cells.append(f"{sum(held.values())}/{len(held)}" if held else "not run")
            cells.append(f"{min(margins):+.3g}" if margins and all(math.isfinite(m) for m in margins) else "")
        lines.append(f"| {notebook} | {cell} | `{claim.replace('|', '¦')}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all lecture notebooks")
    parser.add_argument("--seeds", type=int, default=5, help="how many seed offsets (default 5)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="the first offset (default 0: the notebooks as shipped); CI checks offset 1 in quick mode")
    parser.add_argument("--modes", nargs="+", choices=["quick", "full"], default=["quick", "full"])
    parser.add_argument("--out", type=Path, help="also write the table (markdown) here")
    parser.add_argument("--raw", type=Path, help="also write every measured row (JSON) here")
    parser.add_argument("--from-raw", type=Path, nargs="+", metavar="RAW",
                        help="run nothing: make the table from --raw files of earlier runs (e.g. one per mode)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or notebook_paths()
    results, timings = {}, []
    if args.from_raw:
        for raw in args.from_raw:
            saved = json.loads(raw.read_text())
            replaced = {tuple(run[:3]) for run in saved["runs"]}  # a later file's runs replace earlier ones
            timings = [run for run in timings if tuple(run[:3]) not in replaced] + [tuple(run) for run in saved["runs"]]
            results.update({(notebook, mode, offset): rows for notebook, mode, offset, rows in saved["rows"]})
        args.modes = [mode for mode in ("quick", "full") if any(key[1] == mode for key in results)]
        args.seeds = 1 + max(key[2] for key in results)
    for mode in [] if args.from_raw else args.modes:
        for notebook in notebooks:
            for offset in range(args.first_seed, args.first_seed + args.seeds):
                rows, seconds, error, slow = run(Path(notebook).resolve(), offset, quick=mode == "quick")
                results[(Path(notebook).name, mode, offset)] = rows
                failed = sum(not row["held"] for row in rows)
                timings.append((Path(notebook).name, mode, offset, seconds, failed, error, slow))
                print(f"{Path(notebook).name} {mode} seed+{offset}: {len(rows)} claims, {failed} failed, "
                      f"{seconds:.0f} s" + (f", error: {error}" if error else ""), flush=True)
    text = table(results, args.modes, args.seeds)
    print(text)
    if args.out:
        seconds = defaultdict(list)
        for notebook, mode, _, took, *_ in timings:
            seconds[(notebook, mode)].append(took)
        runs = "\n".join(f"| {notebook} | {mode} | {min(times):.0f} | {max(times):.0f} |"
                         for (notebook, mode), times in sorted(seconds.items()))
        args.out.write_text(
            f"# What the lecture notebooks assert, measured on {args.seeds} seeds in each mode\n\n"
            f"Made by `.venv/bin/python scripts/notebook_claims.py --seeds {args.seeds} --modes {' '.join(args.modes)}"
            f" --out {args.out}` (or one run per mode, then `--from-raw`; see its docstring: seeds shifted by 0..{args.seeds - 1}, every assert measured"
            " instead of raised). *held*: runs in which the claim held; *worst margin*: the smallest"
            " (a - b)/|b| over the runs for a claim a > b (or (b - a)/|b| for a < b); negative means it failed.\n\n"
            f"{text}\n\nSeconds per run (min, max over the seeds; 2-core CPU, shared with other jobs):\n\n"
            f"| notebook | mode | min s | max s |\n|---|---|---|---|\n{runs}\n", encoding="utf-8")
    if args.raw:
        args.raw.write_text(json.dumps({"runs": timings, "rows": [[*key, rows] for key, rows in results.items()]}))
    errors = [run for run in timings if run[5]]
    for notebook, mode, offset, *_, error, _slow in errors:
        print(f"{notebook} {mode} seed+{offset} did not run to the end: {error}")
    return 0 if not errors and all(row["held"] for rows in results.values() for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
