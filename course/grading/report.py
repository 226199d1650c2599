"""The grade table: its rows, a CSV file for the records, a plain-text summary per submission for the
terminal, and one feedback file per student and notebook."""
from __future__ import annotations

import csv
import re
from dataclasses import astuple, dataclass, fields
from pathlib import Path

MAX_REASON = 500
"""Characters of a reason kept in the table (a submission controls much of what a reason says)."""
MAX_NAME = 200
"""Characters of a student, notebook or question name kept."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def clean_text(text, limit: int) -> str:
    """``text`` as safe, printable table text: lone surrogates (undecodable file names, a forged
    exception message) and control characters written as escapes, whitespace runs as one space, at
    most ``limit`` characters."""
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    text = _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class GradeRow:
    """One line of the grade table. Its text is cleaned on the way in (:func:`clean_text`), so that
    whatever a submission put into a name or a reason can be written, printed and read back."""

    student: str
    notebook: str
    question: str
    points: int
    max_points: int
    reason: str

    def __post_init__(self):
        for name in ("student", "notebook", "question"):
            object.__setattr__(self, name, clean_text(getattr(self, name), MAX_NAME))
        object.__setattr__(self, "reason", clean_text(self.reason, MAX_REASON))


COLUMNS = tuple(field.name for field in fields(GradeRow))


def _cell(value):
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading quote
    (OWASP's CSV-injection advice); so does one starting with a quote, so that reading undoes it."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _uncell(value: str) -> str:
    return value[1:] if value.startswith("'") else value


def write_csv(rows, path) -> Path:
    """Write ``rows`` with a header: student, notebook, question, points, max_points, reason."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows([_cell(value) for value in astuple(row)] for row in rows)
    return path


def read_csv(path) -> list[GradeRow]:
    """Read a table written by :func:`write_csv`."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [
            GradeRow(_uncell(r["student"]), _uncell(r["notebook"]), _uncell(r["question"]), int(r["points"]),
                     int(r["max_points"]), _uncell(r["reason"]))
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


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?", re.IGNORECASE)


def _student_reason(reason: str) -> str:
    """The reason as a student may read it: for a hidden case, the diagnosis without its numbers (a
    factor, an offset or a difference would give away the expected value), the case still named."""
    match = re.match(r"(hidden case \d+ of \d+): (.*)", reason, re.DOTALL)
    if not match:
        return reason
    return f"{match.group(1)}: {_NUMBER.sub('...', match.group(2))}"


def _file_name(student: str, notebook: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{student}__{Path(notebook).stem}") + ".md"


def write_feedback(rows, folder) -> list[Path]:
    """One Markdown file per student and notebook in ``folder``: each question's points and reason
    (hidden cases named, never their expected values). Returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    groups: dict[tuple[str, str], list[GradeRow]] = {}
    for row in rows:
        groups.setdefault((row.student, row.notebook), []).append(row)
    written = []
    for (student, notebook), group in groups.items():
        total, maximum = sum(r.points for r in group), sum(r.max_points for r in group)
        lines = [f"# Feedback: {notebook}", "", f"Student: {student}. Points: {total} / {maximum}.", "",
                 "| question | points | what the grader found |", "|---|---|---|"]
        for row in group:
            reason = _student_reason(row.reason).replace("|", "\\|").replace("\n", " ") or "all cases pass"
            lines.append(f"| `{row.question}` | {row.points} / {row.max_points} | {reason} |")
        path = folder / _file_name(student, notebook)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written
