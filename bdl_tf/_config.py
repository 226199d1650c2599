"""Run-mode switches shared by the library, the notebooks and the tests.

Quick mode (environment variable ``BDL_TF_QUICK=1``) makes every notebook and test run on a
2-core CPU in well under a minute: fewer epochs, smaller data, fewer Monte-Carlo samples.
It is read here and nowhere else.
"""
from __future__ import annotations

import os

QUICK_ENV_VAR = "BDL_TF_QUICK"
_TRUE_VALUES = {"1", "true", "yes", "on"}


def quick_mode() -> bool:
    """True when ``BDL_TF_QUICK`` is set to 1/true/yes/on (case-insensitive)."""
    return os.environ.get(QUICK_ENV_VAR, "").strip().lower() in _TRUE_VALUES


def by_mode(quick, full):
    """Return ``quick`` in quick mode and ``full`` otherwise, e.g. ``epochs = by_mode(20, 500)``."""
    return quick if quick_mode() else full


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow at once (``tf_keras.utils.set_random_seed``)."""
    import tf_keras as keras

    from bdl_tf._validation import check_seed

    keras.utils.set_random_seed(check_seed("seed", seed))


def runtime_summary() -> str:
    """One line saying the mode and the device, e.g. ``quick mode on CPU``, for notebooks."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    device = f"{len(gpus)} GPU(s)" if gpus else "CPU"
    mode = "quick mode" if quick_mode() else "full mode"
    return f"{mode} on {device} (TensorFlow {tf.__version__})"
