"""Argument checks that turn bad input into one clear sentence instead of a TensorFlow trace."""
from __future__ import annotations

import numbers

import numpy as np


def check_positive_int(name: str, value) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_rate(name: str, value) -> float:
    """Return a dropout-style rate as a float, or raise if it is not in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def check_positive(name: str, value) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number > 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def as_float_array(name: str, value, min_ndim: int = 1) -> np.ndarray:
    """Convert to a float64 array with at least ``min_ndim`` dimensions and only finite values."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be array-like of numbers, got {type(value).__name__}") from error
    if array.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def check_same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """Raise if two arrays differ in shape, naming both."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")


def check_tf_keras_model(model, name: str = "model") -> None:
    """Raise a TypeError that says what to do when ``model`` is not a tf_keras (Keras 2) model.

    TensorFlow Probability's layers only work with Keras 2 (the ``tf_keras`` package); a Keras 3
    model (``keras.Model`` or ``tf.keras.Model`` under TF >= 2.16) is refused with that advice.
    """
    import tf_keras as keras

    if isinstance(model, keras.Model):
        return
    module = type(model).__module__ or ""
    if module.split(".")[0] == "keras":
        raise TypeError(
            f"{name} is a Keras 3 model ({type(model).__module__}.{type(model).__name__}); bdl_tf "
            "needs a Keras 2 model because TensorFlow Probability's layers only work there. "
            "Build it with `import tf_keras as keras` instead of `import keras` or `tf.keras`."
        )
    raise TypeError(f"{name} must be a tf_keras.Model, got {type(model).__name__}")
