"""The exercise commands of ``python -m course``: build, grade, release.

Each handler imports what it needs when it runs, so ``python -m course run`` stays light.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


def _build(args) -> int:
    from course import exercises
    from course.grading import answer_key

    if args.check:
        stale = exercises.stale() + answer_key.stale_expected()
        for path in stale:
            print(f"out of date: {path}")
        print("exercises and expected data are up to date" if not stale else "run 'python -m course build'")
        return 1 if stale else 0
    for path in exercises.build() + answer_key.write_expected():
        print(f"wrote {path}")
    return 0


def _grade(args) -> int:
    import sys

    from course.grading.grader import INTERNAL_ERROR, grade
    from course.grading.report import summary, write_csv, write_feedback
    from course.grading.sandbox import Limits, SandboxUnavailable

    if args.no_sandbox:
        print("WARNING: --no-sandbox: submissions run without isolation; grade only code you trust", flush=True)
    limits = Limits(memory_bytes=int(args.memory * 1024**3))
    try:
        rows = grade(args.path, timeout=args.timeout, case_timeout=args.case_timeout, quick=args.quick,
                     execute=not args.no_execute, jobs=args.jobs, sandbox=not args.no_sandbox, limits=limits,
                     submission_timeout=args.submission_timeout, progress=lambda line: print(line, flush=True))
    except SandboxUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_csv(rows, args.out)
    if args.feedback:
        print(f"{len(write_feedback(rows, args.feedback))} feedback files written to {args.feedback}")
    print(summary(rows))
    print(f"{len(rows)} rows written to {args.out}")
    failed = [row for row in rows if row.reason.startswith(INTERNAL_ERROR)]
    if failed:
        print(f"error: the grader itself failed on {len(failed)} submission(s) (their rows say so; the traceback "
              "is above): the table is complete, but those rows need an instructor", file=sys.stderr)
        return 3
    return 0


def _release(args) -> int:
    from course.release import ReleaseError, release

    try:
        written = release(args.out, url=args.url, branch=args.branch)
    except ReleaseError as error:
        print(f"release refused: {error}")
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


def add_commands(commands) -> None:
    """Register build, grade and release on the ``python -m course`` subparsers."""
    build = commands.add_parser("build", help="write exercises/ and the expected data from solutions/ and the answer key")
    build.add_argument("--check", action="store_true", help="only check that they are up to date; exit 1 if not")
    build.set_defaults(handler=_build)

    grade = commands.add_parser("grade", help="autograde a submitted notebook or a folder of them into a CSV table")
    grade.add_argument("path", type=Path, help="a notebook, or a folder: PATH/<student>/*.ipynb or PATH/<student>.ipynb")
    grade.add_argument("--out", type=Path, default=Path("grades.csv"), help="the CSV table to write (default grades.csv)")
    grade.add_argument("--timeout", type=_positive(int), default=120, help="seconds per notebook cell (default 120)")
    grade.add_argument("--case-timeout", type=_positive(float), default=30.0,
                       help="seconds per call of an answer on one test case (default 30)")
    grade.add_argument("--feedback", type=Path, default=None, metavar="DIR",
                       help="also write one Markdown file per student and notebook to DIR: points and reasons, "
                            "hidden cases named without their values")
    grade.add_argument("--quick", action="store_true", help="run the notebooks with BDL_TF_QUICK=1")
    grade.add_argument("--no-execute", action="store_true",
                       help="skip running each notebook top to bottom; only run the answer cells (fast re-grading)")
    grade.add_argument("--jobs", type=_positive(int), default=None,
                       help="submissions graded at once, each in its own sandboxes (default: the CPU count)")
    grade.add_argument("--memory", type=_positive(float), default=4.0,
                       help="memory of each sandbox in GiB: the whole sandbox where control groups are available, "
                            "each process's address space in any case (default 4)")
    grade.add_argument("--submission-timeout", type=_positive(float), default=None, metavar="SECONDS",
                       help="seconds one submission may take in all, its notebook run and every answer; what is "
                            "not done by then scores 0 (default: no total, only the per-cell and per-case limits)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run submissions WITHOUT the bubblewrap sandbox (trusted submissions only, e.g. on "
                            "macOS/Windows); without it the grader refuses to run where bwrap is missing")
    grade.set_defaults(handler=_grade)

    release = commands.add_parser("release", help="write the student release (no solutions, no hidden cases) to OUT")
    release.add_argument("out", type=Path, help="a new or empty folder")
    release.add_argument("--url", help="where the release will be published, https://github.com/ORG/REPO: "
                                       "stamped into every Colab badge and install cell (required while they carry the placeholder)")
    release.add_argument("--branch", default="main", help="the branch of URL the badges open (default main)")
    release.set_defaults(handler=_release)
