"""Dataset splits for uncertainty demos: hold whole classes out to play "a dog breed it never saw"."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class OODSplit(NamedTuple):
    """In-distribution and held-out parts of a labelled dataset (see :func:`ood_split`)."""

    x_in: np.ndarray
    y_in: np.ndarray  # re-indexed 0..K-1: the original label is in_classes[y_in]
    x_out: np.ndarray
    y_out: np.ndarray  # original labels of the held-out classes
    in_classes: np.ndarray


def ood_split(x, y, held_out_classes) -> OODSplit:
    """Split ``(x, y)`` into the classes a model may train on and classes it must never see.

    The kept classes are re-indexed to ``0..K-1`` (in increasing order of the original label) so a
    K-way softmax can be trained on them; ``in_classes[k]`` maps index ``k`` back to the label.
    The order of the examples is kept: split into train/test afterwards.

    Args:
        x: examples, first axis of length N.
        y: integer class labels, shape ``[N]``.
        held_out_classes: labels to remove from training (non-empty, each present in ``y``, and
            at least one class must remain).
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be a 1-D array of integer labels, got shape {y.shape} and dtype {y.dtype}")
    if x.ndim < 1 or x.shape[0] != y.shape[0]:
        raise ValueError(f"x must have {y.shape[0]} examples along its first axis to match y, got shape {x.shape}")
    held_out = np.unique(np.asarray(held_out_classes).ravel())
    if held_out.size == 0 or not np.issubdtype(held_out.dtype, np.integer):
        raise ValueError(f"held_out_classes must be a non-empty list of integer labels, got {held_out_classes!r}")
    labels = np.unique(y)
    missing = np.setdiff1d(held_out, labels)
    if missing.size:
        raise ValueError(f"held_out_classes contains labels not in y: {missing.tolist()}")
    in_classes = np.setdiff1d(labels, held_out)
    if in_classes.size == 0:
        raise ValueError("held_out_classes holds out every class: nothing is left to train on")
    is_out = np.isin(y, held_out)
    return OODSplit(
        x_in=x[~is_out],
        y_in=np.searchsorted(in_classes, y[~is_out]),
        x_out=x[is_out],
        y_out=y[is_out],
        in_classes=in_classes,
    )
