"""Progress bars for long fits: one updating tqdm line per ``model.fit``, off where nobody watches.

    model.fit(x, y, epochs=200, verbose=0, callbacks=bdl_tf.fit_progress())

``fit_progress()`` gives ``[ProgressBar()]`` in full mode and ``[]`` in quick mode, under CI (the
``CI`` environment variable) or with ``BDL_TF_PROGRESS=0``, so executed notebooks and test logs stay
clean while a student on Colab sees how far a several-minute fit has come.
"""
from __future__ import annotations

import os

import tf_keras as keras
from tqdm import tqdm

from bdl_tf._config import quick_mode

PROGRESS_ENV_VAR = "BDL_TF_PROGRESS"


def progress_enabled() -> bool:
    """True in full mode, unless ``CI`` is set or ``BDL_TF_PROGRESS`` is 0/false/no/off."""
    if quick_mode() or os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        return False
    return os.environ.get(PROGRESS_ENV_VAR, "1").strip().lower() not in {"0", "false", "no", "off"}


class ProgressBar(keras.callbacks.Callback):
    """A tqdm bar over the epochs of a fit (over the steps when it has one epoch), with the loss.

    Batch hooks never read the logs (``_supports_tf_logs``), so the bar adds no device sync per step.
    """

    def __init__(self, description: str = "fit"):
        super().__init__()
        if not isinstance(description, str):
            raise TypeError(f"description must be a string, got {type(description).__name__}")
        self.description = description
        self._supports_tf_logs = True
        self._bar = None
        self._epoch = 0

    def _per_step(self) -> bool:
        return self.params.get("epochs") == 1 and bool(self.params.get("steps"))

    def on_train_begin(self, logs=None):
        total = self.params["steps"] if self._per_step() else self.params.get("epochs")
        unit = "step" if self._per_step() else "epoch"
        self._bar = tqdm(total=total, desc=self.description, unit=unit, mininterval=1.0, dynamic_ncols=True)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._per_step():
            self._bar.update(batch + 1 - self._bar.n)

    def on_epoch_end(self, epoch, logs=None):
        if "loss" in (logs or {}):
            self._bar.set_postfix(loss=f"{float(logs['loss']):.4g}", refresh=False)
        if not self._per_step():
            self._bar.update(1)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def fit_progress(description: str = "fit") -> list[keras.callbacks.Callback]:
    """Callbacks for ``model.fit``: a :class:`ProgressBar` where :func:`progress_enabled`, else none."""
    bar = ProgressBar(description)  # checks the description in every mode
    return [bar] if progress_enabled() else []



def progress_iter(iterable, total: int | None = None, description: str = "progress"):
    """``iterable`` wrapped in a tqdm bar where :func:`progress_enabled`, else ``iterable`` itself."""
    if not progress_enabled():
        return iterable
    return tqdm(iterable, total=total, desc=description, mininterval=1.0, dynamic_ncols=True)


def mcmc_progress_bar(total: int):
    """A ``progress_bar_fn`` for ``tfp.experimental.mcmc.ProgressBarReducer``: a tqdm bar over the
    ``total`` MCMC steps (burn-in included), advanced once per step from inside the compiled chain."""
    bar = tqdm(total=total, desc="MCMC", unit="step", mininterval=1.0, dynamic_ncols=True)
    for _ in range(total):
        yield bar.update(1)
    bar.close()
