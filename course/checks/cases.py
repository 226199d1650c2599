"""What a graded question is, as data: its test cases (inputs) and the shape of its answer.

A question is identified by its ``grade_id`` (``"vae.kl"``), the id the graded notebook cell carries
in its metadata. Its cases hold only inputs; the expected outputs are computed from the instructors'
reference implementations by ``python -m course build`` and shipped as data (see
:mod:`course.checks.expected`), so the references themselves never reach students.

Inputs are built without a random generator (sines of integers), so they are the same on every
NumPy version and platform the course runs on.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Case:
    """One call of a graded function: its arguments, by name and in order (calls are positional)."""

    inputs: dict

    def arguments(self) -> list:
        """Fresh copies of the arguments, so an answer that edits its inputs cannot spoil the next call."""
        return [copy.deepcopy(value) for value in self.inputs.values()]


def case(**inputs) -> Case:
    """``case(mean=..., log_variance=...)``: a case whose arguments are passed in this order."""
    return Case(dict(inputs))


@dataclass(frozen=True)
class Question:
    """A graded question: its public cases and how its answer is compared.

    Attributes:
        grade_id: the question id, ``"<topic>.<name>"``, also in the graded cell's metadata.
        cases: the public cases (students see them; more, hidden ones are used at grading).
        outputs: names of the items when the function returns a tuple, e.g. ``("mean", "covariance")``;
            empty for a single output.
        exact: compare exactly (integer answers) instead of with a tolerance.
        rtol, atol: tolerances of the comparison (loose enough for float32 answers).
        nan_hint: what usually causes NaN/inf in this question's answers.
    """

    grade_id: str
    cases: tuple[Case, ...]
    outputs: tuple[str, ...] = ()
    exact: bool = False
    rtol: float = 1e-4
    atol: float = 1e-6
    nan_hint: str = ""
    arity: int = field(init=False)

    def __post_init__(self):
        if not self.cases:
            raise ValueError(f"question {self.grade_id} needs at least one public case")
        arities = {len(c.inputs) for c in self.cases}
        if len(arities) != 1:
            raise ValueError(f"the cases of {self.grade_id} disagree on the number of arguments: {sorted(arities)}")
        object.__setattr__(self, "arity", arities.pop())

    @property
    def parameters(self) -> tuple[str, ...]:
        """The argument names, from the first case."""
        return tuple(self.cases[0].inputs)


def wave(*shape, phase: float = 0.0, scale: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """Irregular but reproducible test values of the given shape: ``offset + scale * s_k`` with
    ``s_k = sin(1.9 k + phase) + 0.5 sin(0.37 k^2 + 2 phase)``, k = 0, 1, ... (in [-1.5, 1.5])."""
    k = np.arange(int(np.prod(shape)), dtype=np.float64)
    values = np.sin(1.9 * k + phase) + 0.5 * np.sin(0.37 * k * k + 2.0 * phase)
    return (offset + scale * values).reshape(shape)


def probabilities(*shape, phase: float = 0.0, sharpness: float = 1.0) -> np.ndarray:
    """Reproducible probability vectors over the last axis (positive, summing to 1)."""
    weights = np.abs(wave(*shape, phase=phase)) ** sharpness + 0.02
    return weights / weights.sum(axis=-1, keepdims=True)


def mask(*shape, phase: float = 0.0, keep: float = 0.5) -> np.ndarray:
    """A reproducible 0/1 float mask with roughly a fraction ``keep`` of ones."""
    values = wave(*shape, phase=phase)
    return (values >= np.quantile(values, 1.0 - keep)).astype(np.float64)


class GaussianScore:
    """grad log N(x; mean, diag(scale^2)) = -(x - mean) / scale^2: a target for leapfrog questions."""

    def __init__(self, mean, scale):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)

    def __call__(self, position):
        return -(np.asarray(position) - self.mean) / self.scale**2

    def __repr__(self):
        return f"grad log N(x; mean={self.mean.tolist()}, scale={self.scale.tolist()})"
