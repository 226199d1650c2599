"""Set the thresholds of the model questions from the seed table of the reference and its mistakes.

For every model question (``course.checks.models.ModelQuestion``) this runs the solution notebook's
answer cell (the reference) and each plausible mistake of the answer key (the same cell with a few
edits, ``course/grading/hidden/<topic>.py``) on the calibration seeds (the public seed and the
hidden one among them), in quick and in full mode. Each criterion's threshold is the midpoint between
the worst seed of the reference and the best seed of the mistakes that must fail it (the geometric
midpoint for ratios); the margins are
printed, and a question whose reference does not beat its mistakes on every seed stops the script.
It writes ``course/checks/thresholds.json`` (with the reference's slowest time per mode, from which
the grader's time limit follows), the threshold table in ``docs/exercises.md`` and the question table
in it and in the README (``--tables-only`` rewrites the tables from the stored file).

    python scripts/model_thresholds.py                 # everything: 240 trainings, 12 min on 2 cores
    python scripts/model_thresholds.py --only vae.train --modes quick --dry-run
"""
from __future__ import annotations

import argparse
import ast
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from course.checks import EXERCISES, SETUP_SOURCE, exercise_of  # noqa: E402
from course.checks.models import MODES, THRESHOLDS_PATH, ModelQuestion, mode_name  # noqa: E402

DOCS = REPO_ROOT / "docs" / "exercises.md"
README = REPO_ROOT / "README.md"
TABLE_BEGIN, TABLE_END = "<!-- model-thresholds:begin -->", "<!-- model-thresholds:end -->"
QUESTIONS_BEGIN, QUESTIONS_END = "<!-- questions:begin -->", "<!-- questions:end -->"


@dataclass(frozen=True)
class Variant:
    """The reference (``fails`` is None) or one mistake, as an answer cell's source."""

    grade_id: str
    label: str
    source: str
    function: str
    fails: tuple[str, ...] | None


def answer_cell(grade_id: str) -> tuple[str, str]:
    """``(source, function name)`` of the answer cell of ``grade_id`` in its solution notebook."""
    notebook = nbformat.read(REPO_ROOT / "solutions" / f"{exercise_of(grade_id)}.ipynb", as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.get("bdl_tf", {})
        if tags.get("grade_id") == grade_id:
            return cell.source, tags["function"]
    raise ValueError(f"solutions/{exercise_of(grade_id)}.ipynb has no answer cell for {grade_id}")


def variants(question: ModelQuestion, key) -> list[Variant]:
    source, function = answer_cell(question.grade_id)
    found = [Variant(question.grade_id, "reference", source, function, None)]
    for mistake in key.mistakes:
        found.append(Variant(question.grade_id, mistake.message, mistake.apply(source), function, mistake.fails))
    return found


def run_variant(variant: Variant, seed: int, quick: bool) -> dict:
    """Run one answer cell on one instance: ``{"values": {...}, "seconds": s}`` or ``{"problem": text}``."""
    import tf_keras as keras

    from course.checks import question
    from course.checks.models import run_model_answer

    keras.backend.clear_session()
    spec = question(variant.grade_id)
    namespace = {"__name__": "__main__"}
    exec(compile(SETUP_SOURCE, "<setup cell>", "exec"), namespace)  # noqa: S102 - our own cells
    exec(compile(variant.source, "<answer cell>", "exec"), namespace)  # noqa: S102
    case, expected = spec.case(seed, quick)
    outcome = run_model_answer(spec, namespace[variant.function], *case.arguments())
    if outcome.parts is None:
        return {"problem": outcome.problem}
    return {"values": spec.measure(outcome.parts, expected.targets), "seconds": outcome.output}


def _worker_init() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)


def _job(args):
    variant, seed, quick = args
    start = time.perf_counter()
    try:
        result = run_variant(variant, seed, quick)
    except Exception as error:  # noqa: BLE001 - a mistake may well crash; that is a result
        result = {"problem": f"{type(error).__name__}: {error}"}
    result["wall"] = time.perf_counter() - start
    return variant.grade_id, variant.label, seed, mode_name(quick), result


def _bad(higher: bool) -> float:
    return -math.inf if higher else math.inf


def thresholds_of(question: ModelQuestion, table: dict, mode: str) -> tuple[dict, list[str], list[str]]:
    """``(entry, report lines, problems)`` for one question and mode from ``table[(label, seed)]``."""
    lines, problems, entry = [], [], {}
    reference = [r for (label, _), r in table.items() if label == "reference"]
    failed = [r["problem"] for r in reference if "problem" in r]
    if failed:
        return {}, lines, [f"{question.grade_id} ({mode}): the reference fails: {failed[0]}"]
    for criterion in question.criteria:
        higher = criterion.higher_is_better
        values = [r["values"][criterion.key] for r in reference]
        worst = min(values) if higher else max(values)
        mistakes = [(label, r) for (label, _), r in table.items() if criterion.key in (r.get("fails") or ())]
        scored = [r["values"][criterion.key] if "values" in r else _bad(higher) for _, r in mistakes]
        finite = [v for v in scored if math.isfinite(v)]
        if not mistakes:
            problems.append(f"{question.grade_id} ({mode}): no mistake fails {criterion.key}")
            continue
        best = (max(finite) if higher else min(finite)) if finite else None
        if best is None:  # every mistake crashes or is infinite: put the threshold near the reference
            threshold = worst * (0.5 if higher == (worst > 0) else 2.0) if worst != 0 else 0.0
        elif criterion.log_scale and worst > 0 and best > 0:
            threshold = math.sqrt(worst * best)
        else:
            threshold = 0.5 * (worst + best)
        margin = (worst - best) if best is not None else math.inf
        if not higher:
            margin = -margin if best is not None else math.inf
        entry[criterion.key] = {"threshold": threshold, "reference_worst": worst, "mistake_best": best,
                                "reference": values, "margin": margin}
        shown_best = "crash/inf" if best is None else f"{best:.4g}"
        lines.append(f"  {question.grade_id:22s} {mode:5s} {criterion.key:15s} reference worst {worst:.4g}  "
                     f"mistakes best {shown_best}  threshold {threshold:.4g}  margin {margin:.3g}")
        if not margin > 0:
            problems.append(f"{question.grade_id} ({mode}): the reference's worst {criterion.key} {worst:.4g} "
                            f"does not beat the mistakes' best {shown_best}")
    return entry, lines, problems


def markdown_table(stored: dict) -> str:
    rows = ["| question | points | budget (steps) quick / full | reference time here (s) quick / full | criterion | "
            "threshold quick / full | reference worst / mistakes best (quick) | mistakes |",
            "|---|---|---|---|---|---|---|---|"]
    from course.checks import QUESTIONS

    for grade_id, entry in stored.items():
        spec = QUESTIONS[grade_id]
        for index, criterion in enumerate(spec.criteria):
            relation = ">=" if criterion.higher_is_better else "<="
            quick, full = (entry["criteria"][m][criterion.key] for m in MODES)
            best = quick["mistake_best"]
            head = (f"`{grade_id}` | {entry['points']} | {spec.steps['quick']} / {spec.steps['full']} | "
                    f"{entry['seconds']['quick']:.0f} / {entry['seconds']['full']:.0f}") if index == 0 else " | | |"
            mistakes = _cell("; ".join(entry["mistakes"].get(criterion.key, [])) or "-")
            rows.append(f"| {head} | {_cell(criterion.label)} {relation} | {quick['threshold']:.3g} / {full['threshold']:.3g} | "
                        f"{quick['reference_worst']:.3g} / {'crash' if best is None else f'{best:.3g}'} | {mistakes} |")
    return "\n".join(rows)


def question_table(stored: dict) -> str:
    """Every graded question: its kind, function (the first line of its docstring in the solution),
    points, and for model questions the budget and the thresholds (quick / full)."""
    rows = ["| exercise | question | kind | function | points | budget (steps) quick / full | graded on (quick / full) |",
            "|---|---|---|---|---|---|---|"]
    for exercise, questions in EXERCISES.items():
        notebook = nbformat.read(REPO_ROOT / "solutions" / f"{exercise}.ipynb", as_version=4)
        cells = {c.metadata["bdl_tf"]["grade_id"]: c for c in notebook.cells if "grade_id" in c.metadata.get("bdl_tf", {})}
        for index, spec in enumerate(questions):
            cell = cells[spec.grade_id]
            function = cell.metadata["bdl_tf"]["function"]
            doc = _cell(_docstring(cell.source, function))
            if isinstance(spec, ModelQuestion):
                thresholds = {mode: stored[spec.grade_id]["thresholds"][mode] for mode in MODES}
                graded = "; ".join(f"{c.key} {'>=' if c.higher_is_better else '<='} {thresholds['quick'][c.key]:.3g} / "
                                   f"{thresholds['full'][c.key]:.3g}" for c in spec.criteria)
                kind, budget = "model", f"{spec.steps['quick']} / {spec.steps['full']}"
            else:
                kind, budget, graded = "formula", "-", f"{len(spec.cases)} public + hidden cases"
            shown = f"`{exercise}`" if index == 0 else ""
            rows.append(f"| {shown} | `{spec.grade_id}` | {kind} | `{function}`: {doc} | {cell.metadata['bdl_tf']['points']} | "
                        f"{budget} | {graded} |")
    return "\n".join(rows)


def _docstring(source: str, function: str) -> str:
    """The first line of the docstring of ``function`` in an answer cell."""
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    return (ast.get_docstring(node) or "").splitlines()[0]


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("|", "&#124;")


def _write_between(path: Path, begin: str, end: str, table: str) -> None:
    text = path.read_text(encoding="utf-8")
    start, stop = text.index(begin) + len(begin), text.index(end)
    path.write_text(text[:start] + "\n" + table + "\n" + text[stop:], encoding="utf-8")


def write_docs(stored: dict) -> None:
    _write_between(DOCS, TABLE_BEGIN, TABLE_END, markdown_table(stored))
    for path in (DOCS, README):
        _write_between(path, QUESTIONS_BEGIN, QUESTIONS_END, question_table(stored))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="question ids (default: every model question)")
    parser.add_argument("--modes", nargs="*", default=list(MODES), choices=MODES)
    parser.add_argument("--seeds", nargs="*", type=int, help="override the calibration seeds (a trial run)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--dry-run", action="store_true", help="print the table, write nothing")
    parser.add_argument("--tables-only", action="store_true", help="rewrite the docs tables from thresholds.json")
    args = parser.parse_args(argv)
    if args.tables_only:
        write_docs(json.loads(THRESHOLDS_PATH.read_text(encoding="utf-8")))
        return 0

    from course.grading.answer_key import answers

    questions = [q for qs in EXERCISES.values() for q in qs if isinstance(q, ModelQuestion)]
    if args.only:
        questions = [q for q in questions if q.grade_id in args.only]
    keys = {q.grade_id: answers(exercise_of(q.grade_id))[q.grade_id] for q in questions}
    jobs = []
    for q in questions:
        seeds = args.seeds or keys[q.grade_id].calibration
        if q.public_seed not in seeds or keys[q.grade_id].hidden_seed not in seeds:
            print(f"note: {q.grade_id}: the public and hidden seeds are not all among {seeds}")
        for variant in variants(q, keys[q.grade_id]):
            jobs += [(variant, seed, mode == "quick") for mode in args.modes for seed in seeds]
    print(f"{len(jobs)} runs on {args.jobs} processes")
    results: dict = {}
    with ProcessPoolExecutor(args.jobs, initializer=_worker_init) as pool:
        for grade_id, label, seed, mode, result in pool.map(_job, jobs):
            fails = next(v.fails for v, _, _ in jobs if v.grade_id == grade_id and v.label == label)
            result["fails"] = fails
            results.setdefault((grade_id, mode), {})[(label, seed)] = result
            shown = result.get("values") or result.get("problem")
            print(f"{grade_id} {mode} seed {seed} {label[:40]!r}: {shown} ({result['wall']:.1f} s)", flush=True)

    stored = json.loads(THRESHOLDS_PATH.read_text(encoding="utf-8")) if THRESHOLDS_PATH.is_file() else {}
    all_problems, report = [], []
    for q in questions:
        key = keys[q.grade_id]
        entry = stored.setdefault(q.grade_id, {})
        for mode in args.modes:
            table = results[(q.grade_id, mode)]
            criteria, lines, problems = thresholds_of(q, table, mode)
            report += lines
            all_problems += problems
            entry.setdefault("criteria", {})[mode] = criteria
            entry.setdefault("thresholds", {})[mode] = {k: v["threshold"] for k, v in criteria.items()}
            seconds = [r["seconds"] for (label, _), r in table.items() if label == "reference" and "seconds" in r]
            entry.setdefault("seconds", {})[mode] = max(seconds) if seconds else None
        entry["mistakes"] = {c.key: [m.message for m in key.mistakes if c.key in m.fails] for c in q.criteria}
        entry["points"] = _points(q.grade_id)
    print("\n".join(report))
    if all_problems:
        print("\n".join(["", "PROBLEMS:"] + all_problems))
    if args.dry_run:
        return 1 if all_problems else 0
    if all_problems:
        print("nothing written")
        return 1
    THRESHOLDS_PATH.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {THRESHOLDS_PATH.relative_to(REPO_ROOT)}")
    if all(set(entry.get("criteria", {})) == set(MODES) for entry in stored.values()):
        write_docs(stored)
        print(f"wrote the tables in {DOCS.relative_to(REPO_ROOT)} and {README.relative_to(REPO_ROOT)}")
    return 0


def _points(grade_id: str) -> int:
    source_notebook = nbformat.read(REPO_ROOT / "solutions" / f"{exercise_of(grade_id)}.ipynb", as_version=4)
    for cell in source_notebook.cells:
        tags = cell.metadata.get("bdl_tf", {})
        if tags.get("grade_id") == grade_id:
            return int(tags["points"])
    raise ValueError(grade_id)


if __name__ == "__main__":
    sys.exit(main())
