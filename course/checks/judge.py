"""The fixed judge of the conditional-VAE question: a classifier of 8x8 digits, trained once.

It is multinomial logistic regression (scikit-learn) on the 64 pixels in [0, 1] of scikit-learn's
digits, trained by ``scripts/train_judge.py`` on a stratified 70% (seed 0) and stored as weights in
``judge.json`` beside this module, with its accuracy on the other 30%. Prediction needs only NumPy:
class = argmax_c (x W + b)_c.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

JUDGE_PATH = Path(__file__).resolve().parent / "judge.json"


@lru_cache(maxsize=None)
def judge_weights() -> tuple[np.ndarray, np.ndarray, float]:
    """``(W (64, 10), b (10,), held-out accuracy)`` of the stored judge."""
    data = json.loads(JUDGE_PATH.read_text(encoding="utf-8"))
    return np.asarray(data["weights"]), np.asarray(data["bias"]), float(data["test_accuracy"])


def judge_predict(images) -> np.ndarray:
    """The judge's class for each image: ``images`` of shape (N, 64) or (N, 8, 8[, 1]), pixels in [0, 1]."""
    weights, bias, _ = judge_weights()
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    if flat.shape[1] != weights.shape[0]:
        raise ValueError(f"images must have {weights.shape[0]} pixels each, got {flat.shape[1]}")
    return np.argmax(flat @ weights + bias, axis=1)
