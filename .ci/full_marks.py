"""CI: exit 1 unless every row of a grade table (``python -m course grade --out``) has full marks.

    python .ci/full_marks.py build/full-grades.csv
"""
import sys

from course.grading.report import read_csv

rows = read_csv(sys.argv[1])
short = [row for row in rows if row.points != row.max_points or row.max_points == 0]
for row in short:
    print(f"NOT FULL MARKS: {row.student} {row.question}: {row.points}/{row.max_points}: {row.reason}")
print(f"{len(rows) - len(short)} of {len(rows)} questions with full marks, {sum(r.points for r in rows)} points")
sys.exit(1 if short or not rows else 0)
