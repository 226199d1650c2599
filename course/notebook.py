"""The first lines of every lecture notebook and exercise: a quiet TensorFlow, and where it runs.

    from course.notebook import start

    start()  # before anything imports TensorFlow

TensorFlow's native start-up lines (the absl preamble, oneDNN, CUDA probing such as ``failed call
to cuInit``) are written straight to the process's file descriptor 2, past Python's ``sys.stderr``
and past ``TF_CPP_MIN_LOG_LEVEL`` (they come before absl reads it), so a notebook shows them as red
output. :func:`start` imports TensorFlow and probes the GPU with descriptor 2 pointed at
``/dev/null``, then restores it: errors raised later, and Python's own warnings, still show.
"""
from __future__ import annotations

import contextlib
import os
import sys
import warnings

QUICK_ENV_VAR = "BDL_TF_QUICK"  # bdl_tf._config.QUICK_ENV_VAR, spelled out: importing bdl_tf imports TensorFlow


@contextlib.contextmanager
def native_stderr_silenced():
    """Send what native code writes to file descriptor 2 to ``/dev/null`` while the block runs."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_tensorflow() -> list:
    """Import TensorFlow, TFP and tf_keras without their start-up chatter; returns the GPUs found."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # later native INFO/WARNING lines too
    with native_stderr_silenced(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # import-time deprecation notices of TF/TFP, not the student's business
        import tensorflow as tf
        import tensorflow_probability  # noqa: F401  (its import registers kernels and may log)
        import tf_keras  # noqa: F401

        gpus = tf.config.list_physical_devices("GPU")  # the CUDA probe logs here
    tf.get_logger().setLevel("ERROR")
    return gpus


def how_to_run(gpus: list, quick: bool) -> str:
    """Two lines for students: the device and the mode, and how to change either."""
    import tensorflow as tf

    device = (f"{len(gpus)} GPU(s)" if gpus else
              "CPU only (on Colab: Runtime > Change runtime type > a GPU, then run all again)")
    if quick:
        mode = (f"quick mode ({QUICK_ENV_VAR}=1): small models, few epochs, the same story in minutes on a CPU; "
                f"for full mode put %env {QUICK_ENV_VAR}=0 in a first cell and run all")
    else:
        mode = (f"full mode: the real models (minutes on a GPU, longer on a CPU); for quick mode put "
                f"%env {QUICK_ENV_VAR}=1 in a first cell and run all")
    return f"TensorFlow {tf.__version__} on {device}\n{mode}"


def start() -> None:
    """Quiet TensorFlow's start-up, then print the device and the mode (and how to switch them)."""
    gpus = quiet_tensorflow()
    from bdl_tf import quick_mode

    print(how_to_run(gpus, quick_mode()))
