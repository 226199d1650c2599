"""Argument checks that turn bad input into one clear sentence instead of a TensorFlow trace.

One validator per kind of argument; every public function and class of ``bdl_tf`` uses these, so
a bad value always gets a ``ValueError``/``TypeError`` naming the argument, what it got and what
was expected. Corrupted files get a :class:`CorruptFileError` naming the file and what to do.
"""
from __future__ import annotations

import contextlib
import numbers

import numpy as np

#: Seeds are int32-compatible: TensorFlow's stateless seeds and NumPy's generators take them.
SEED_LIMIT = 2**31


class CorruptFileError(ValueError):
    """A file on disk (saved model, cache entry, IDX, .npz) could not be read: it names the file
    and says what to do (delete the cache entry and download again, save the model again)."""


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{type(value).__name__} {text[:57]}..."


def check_int(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= ``minimum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {_describe(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_positive_int(name: str, value) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= 1."""
    return check_int(name, value, minimum=1)


def check_seed(name: str, value, allow_none: bool = False) -> int | None:
    """Return an integer seed in [0, 2**31) (or None when ``allow_none``), or raise."""
    if value is None and allow_none:
        return None
    expected = f"{'None or ' if allow_none else ''}an integer in [0, 2**31)"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {expected}, got {_describe(value)}")
    if not 0 <= value < SEED_LIMIT:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def check_real(name: str, value, low=None, high=None, low_open=False, high_open=False) -> float:
    """Return a finite real number as a float, or raise if it lies outside the stated interval."""
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    interval = f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in {interval}, got {_describe(value)}")
    value = float(value)
    inside = np.isfinite(value)
    if low is not None:
        inside = inside and (value > low if low_open else value >= low)
    if high is not None:
        inside = inside and (value < high if high_open else value <= high)
    if not inside:
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return value


def check_rate(name: str, value) -> float:
    """Return a dropout-style rate as a float, or raise if it is not in [0, 1)."""
    return check_real(name, value, 0.0, 1.0, high_open=True)


def check_probability(name: str, value, open_interval: bool = True) -> float:
    """Return a probability in (0, 1) (or [0, 1] with ``open_interval=False``), or raise."""
    return check_real(name, value, 0.0, 1.0, low_open=open_interval, high_open=open_interval)


def check_positive(name: str, value) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number > 0."""
    return check_real(name, value, 0.0, None, low_open=True)


def check_bool(name: str, value) -> bool:
    """Return a real bool (or NumPy bool); strings such as ``"False"`` are refused, not truthy."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {_describe(value)}")


def check_choice(name: str, value, choices) -> object:
    """Return ``value`` if it is one of ``choices`` (strings or None), or raise listing them."""
    if not (value is None or isinstance(value, str)) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {_describe(value)}")
    return value


def check_shape(name: str, value, min_rank: int = 1, max_rank: int | None = None) -> tuple:
    """Return a shape as a tuple of ints >= 1 (an int is a rank-1 shape); strings are refused."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise TypeError(f"{name} must be a tuple of positive integers, got {_describe(value)}")
    shape = tuple(check_positive_int(f"{name}[{i}]", d) for i, d in enumerate(value))
    if len(shape) < min_rank or (max_rank is not None and len(shape) > max_rank):
        rank = f"{min_rank}" if max_rank == min_rank else f"{min_rank} to {max_rank or 'any'}"
        raise ValueError(f"{name} must have {rank} dimension(s), got {shape}")
    return shape


def as_array(name: str, value, dtype=np.float64, min_ndim: int = 1, *, non_empty: bool = True,
             finite: bool = True, shape: tuple | None = None) -> np.ndarray:
    """Convert to an array of ``dtype`` and check it: at least ``min_ndim`` dimensions, at least
    one element (``non_empty``), only finite values (``finite``), and ``shape`` when given (None
    entries match any size). Strings, objects and ragged lists raise a TypeError."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of numbers, got a string")
    try:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError
        array = array.astype(dtype, copy=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}") from error
    if array.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {array.shape}")
    if non_empty and array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if shape is not None and (
        len(shape) != array.ndim or any(want is not None and want != got for want, got in zip(shape, array.shape))
    ):
        wanted = "(" + ", ".join("N" if d is None else str(d) for d in shape) + ")"
        raise ValueError(f"{name} must have shape {wanted}, got {array.shape}")
    if finite and np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def as_float_array(name: str, value, min_ndim: int = 1) -> np.ndarray:
    """A non-empty, finite float64 array with at least ``min_ndim`` dimensions (see :func:`as_array`)."""
    return as_array(name, value, np.float64, min_ndim)


def check_same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """Raise if two arrays differ in shape, naming both."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")


def check_path(name: str, value, allow_none: bool = False):
    """Return a ``pathlib.Path`` from a str or os.PathLike (or None when ``allow_none``), or raise."""
    import os
    from pathlib import Path

    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(value).__name__}")
    return Path(value)


def check_callable(name: str, value):
    """Return ``value`` if it is callable, or raise a TypeError."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


@contextlib.contextmanager
def reading_file(path, what: str, remedy: str):
    """Turn any error raised while reading ``path`` into a :class:`CorruptFileError` that names the
    file, says what it should hold (``what``) and what to do (``remedy``). A missing file stays a
    ``FileNotFoundError``."""
    try:
        yield
    except (FileNotFoundError, CorruptFileError):
        raise
    except Exception as error:  # any reader's error: JSON, zip, pickle refusal, checkpoint, struct
        raise CorruptFileError(
            f"{path} is not a readable {what} ({type(error).__name__}: {error}); {remedy}"
        ) from error


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


def check_tensor_condition(condition, message: str):
    """Check a boolean tensor: eagerly it raises ``ValueError(message)`` when false; inside a
    ``tf.function`` (Keras' fit) it returns an assertion op that fails at run time with the same
    message (add it as a control dependency, or let ``tf.function`` run it)."""
    import tensorflow as tf

    if tf.executing_eagerly():
        if not bool(tf.reduce_all(condition)):
            raise ValueError(message)
        return None
    return tf.debugging.Assert(tf.reduce_all(condition), [message])


def check_class_labels(name: str, labels, num_classes: int) -> np.ndarray:
    """Integer class labels in [0, num_classes) as an int64 array; floats that are not whole
    numbers (a label of 1.5) and out-of-range classes are refused."""
    array = as_array(name, labels, np.float64, min_ndim=0)
    if not np.all(array == np.round(array)):
        raise ValueError(f"{name} must be integer class indices, got non-integer values such as {array[array != np.round(array)].flat[0]!r}")
    if array.min() < 0 or array.max() >= num_classes:
        raise ValueError(f"{name} must be classes in [0, {num_classes}), got values {array.min():g}..{array.max():g}")
    return array.astype(np.int64)
