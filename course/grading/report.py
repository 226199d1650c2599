"""The grade table: its rows, a CSV file for the records, a plain-text summary per submission for the terminal."""
from __future__ import annotations

import csv
from dataclasses import astuple, dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class GradeRow:
    """One line of the grade table."""

    student: str
    notebook: str
    question: str
    points: int
    max_points: int
    reason: str


COLUMNS = tuple(field.name for field in fields(GradeRow))


def write_csv(rows, path) -> Path:
    """Write ``rows`` with a header: student, notebook, question, points, max_points, reason."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(astuple(row) for row in rows)
    return path


def read_csv(path) -> list[GradeRow]:
    """Read a table written by :func:`write_csv`."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [
            GradeRow(r["student"], r["notebook"], r["question"], int(r["points"]), int(r["max_points"]), r["reason"])
            for r in csv.DictReader(handle)
        ]


def summary(rows) -> str:
    """One line per submission: student, notebook, points / max points, and how many questions scored 0."""
    totals: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        total = totals.setdefault((row.student, row.notebook), [0, 0, 0])
        total[0] += row.points
        total[1] += row.max_points
        total[2] += row.points == 0
    width = max([len("student")] + [len(student) for student, _ in totals])
    lines = [f"{'student':<{width}}  {'points':>9}  zero  notebook"]
    for (student, notebook), (points, maximum, zero) in totals.items():
        lines.append(f"{student:<{width}}  {points:>4}/{maximum:<4}  {zero:>4}  {notebook}")
    return "\n".join(lines)
