"""Command line of the course: ``python -m course run [--quick] [NOTEBOOK ...]``.

Each command is a subparser; add new ones (build, grade, release...) next to ``run``.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from course.commands import add_commands
from course.runner import QUICK_ENV_VAR, format_table, run_notebook
from course.syllabus import REPO_ROOT, find_notebook, notebook_paths


def _resolve(name: str) -> Path:
    """A path as given if it exists, else a syllabus notebook by name or number (``01_bayes``, ``1``)."""
    path = Path(name)
    if path.exists():
        return path
    try:
        return REPO_ROOT / find_notebook(name).path
    except KeyError:
        return path  # reported as missing


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def _run(args) -> int:
    notebooks = [_resolve(name) for name in args.notebooks] if args.notebooks else notebook_paths()
    inherited = os.environ.get(QUICK_ENV_VAR)
    if args.quick:
        mode = f"{QUICK_ENV_VAR}=1 (--quick)"
    elif inherited:
        mode = f"{QUICK_ENV_VAR}={inherited} (inherited)"
    else:
        mode = "full"
    print(f"running {len(notebooks)} notebook(s) in fresh kernels on {sys.executable}; mode: {mode}", flush=True)
    results = []
    for number, notebook in enumerate(notebooks, start=1):
        print(f"[{number}/{len(notebooks)}] {notebook}", flush=True)
        results.append(run_notebook(notebook, args.build_dir, quick=args.quick, timeout=args.timeout))
    print(format_table(results))
    print(f"executed copies and HTML in {args.build_dir}/")
    return 0 if all(result.passed for result in results) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course", description="Run and build the bdl-tf course.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute notebooks in fresh kernels; exit 1 if any fails")
    run.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                     help="paths, or syllabus names/numbers (01_bayes, 1); default: all lecture notebooks")
    run.add_argument("--quick", action="store_true", help="set BDL_TF_QUICK=1 in the kernels (small, fast runs)")
    run.add_argument("--timeout", type=_positive_int, default=600, help="seconds allowed per cell (default 600)")
    run.add_argument("--build-dir", default="build", help="where executed copies and HTML go (default build/)")
    run.set_defaults(handler=_run)
    add_commands(commands)  # build, grade, release
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
