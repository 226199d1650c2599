"""Expected answers as data: for every case, the reference output and the outputs of known mistakes.

``python -m course build`` runs the instructors' references (``course/grading/hidden/``, never
released) on every case and writes one JSON file per exercise: ``course/checks/expected/NN_topic.json``
for the public cases (shipped to students, so ``check`` needs neither the references nor
TensorFlow) and ``course/grading/hidden/expected/NN_topic.json`` for the hidden ones.

File layout: ``{grade_id: [{"expected": VALUE, "mistakes": [[message, VALUE], ...]}, ...]}``, one
entry per case in order. A VALUE is a number, ``{"array": nested list, "dtype": ...}`` or
``{"tuple": [VALUE, ...]}``; non-finite floats are written as JSON's NaN/Infinity.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

PUBLIC_DIR = Path(__file__).resolve().parent / "expected"


@dataclass(frozen=True)
class Expected:
    """What one case should return, and what each known mistake returns instead."""

    value: object
    mistakes: tuple[tuple[str, object], ...] = ()


def encode(value):
    """A reference output as JSON-ready data (arrays keep their dtype; tuples stay tuples)."""
    if isinstance(value, (tuple, list)):
        return {"tuple": [encode(item) for item in value]}
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"cannot store an output of type {type(value).__name__}")
    if array.ndim == 0:
        return int(array) if np.issubdtype(array.dtype, np.integer) else float(array)
    kind = "int64" if np.issubdtype(array.dtype, np.integer) else "float64"
    return {"array": array.astype(kind).tolist(), "dtype": kind}


def decode(data):
    """Inverse of :func:`encode`: numbers, NumPy arrays and tuples."""
    if isinstance(data, dict) and "tuple" in data:
        return tuple(decode(item) for item in data["tuple"])
    if isinstance(data, dict):
        return np.asarray(data["array"], dtype=data["dtype"])
    return data


def encode_cases(entries) -> list:
    """A question's ``Expected`` entries as JSON-ready data."""
    return [
        {"expected": encode(entry.value), "mistakes": [[message, encode(value)] for message, value in entry.mistakes]}
        for entry in entries
    ]


def decode_cases(data) -> tuple[Expected, ...]:
    """Inverse of :func:`encode_cases`."""
    return tuple(
        Expected(decode(entry["expected"]), tuple((message, decode(value)) for message, value in entry["mistakes"]))
        for entry in data
    )


def write(path: Path, table: dict) -> None:
    """Write ``{grade_id: [Expected, ...]}`` as stable, diff-friendly JSON."""
    data = {grade_id: encode_cases(entries) for grade_id, entries in table.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def read(path: Path) -> dict[str, tuple[Expected, ...]]:
    """Read a file written by :func:`write`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {grade_id: decode_cases(entries) for grade_id, entries in data.items()}


@lru_cache(maxsize=None)
def public(exercise: str) -> dict[str, tuple[Expected, ...]]:
    """The expected answers of the public cases of ``exercise`` (e.g. ``"07_vae"``)."""
    path = PUBLIC_DIR / f"{exercise}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"the self-check data {path} is missing: instructors create it with 'python -m course build'; "
            "students reinstall the course package (it ships with it)"
        )
    return read(path)
