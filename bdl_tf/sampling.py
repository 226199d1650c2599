"""Monte-Carlo prediction: T stochastic forward passes, compiled and chunked.

For a model with always-on dropout (or any other source of randomness), pass t draws
theta_t ~ q(theta) and gives p(y|x, theta_t); the Monte-Carlo predictive is
p(y|x) ~ 1/T sum_t p(y|x, theta_t).  Instead of a Python loop of T ``model(x)`` calls, the
T passes run inside one ``tf.function``: each step feeds the batch tiled k times (k passes at
once, independent masks per row), and a compiled loop runs the ceil(T / k) steps.  k is chosen
so a step holds at most ``max_rows`` rows, which bounds the memory.
"""
from __future__ import annotations

import logging
import math
import weakref
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from bdl_tf._validation import check_positive_int, check_tf_keras_model
from bdl_tf.uncertainty import (
    ClassificationUncertainty,
    RegressionUncertainty,
    classification_uncertainty,
    regression_uncertainty,
)

tfd = tfp.distributions
tfpl = tfp.layers

# Layers that draw ONE weight sample per call, shared by the whole batch: tiling the batch would give
# every tiled copy the same network, so models holding them run one pass per compiled step.
_PER_CALL_SAMPLERS = (
    tfpl.DenseVariational,
    tfpl.DenseReparameterization,
    tfpl.Convolution1DReparameterization,
    tfpl.Convolution2DReparameterization,
    tfpl.Convolution3DReparameterization,
)


class _OwnRetracingFilter(logging.Filter):
    """Each model gets its own compiled function by design; TF's "excessive retracing" warning
    counts them together. Drop that warning for this module's function only."""

    def filter(self, record):
        return "_compiled_passes" not in record.getMessage()


tf.get_logger().addFilter(_OwnRetracingFilter())

__all__ = ["MCPrediction", "mc_predict", "samples_weights_per_call", "DEFAULT_MAX_ROWS"]

DEFAULT_MAX_ROWS = 4_096
"""Rows (tiled examples) fed to the model per compiled step; bounds activations' memory."""


@dataclass(frozen=True)
class MCPrediction:
    """T Monte-Carlo passes over N inputs.

    Attributes:
        mean_samples: (T, N, ...) the model's output per pass; for a distribution head its mean
            (for Categorical/OneHotCategorical heads the class probabilities).
        variance_samples: (T, N, ...) the distribution head's variance per pass (the aleatoric
            part), or None when the model outputs a plain tensor.
    """

    mean_samples: np.ndarray
    variance_samples: np.ndarray | None = None

    @property
    def num_samples(self) -> int:
        """T, the number of Monte-Carlo passes."""
        return self.mean_samples.shape[0]

    @property
    def mean(self) -> np.ndarray:
        """The Monte-Carlo predictive mean 1/T sum_t mean_t, shape (N, ...)."""
        return self.mean_samples.mean(axis=0)

    def regression(self, noise_variance=None) -> RegressionUncertainty:
        """Aleatoric/epistemic split; ``noise_variance`` (1/tau) for models without a variance head."""
        return regression_uncertainty(
            self.mean_samples,
            self.variance_samples if noise_variance is None else None,
            noise_variance,
        )

    def classification(self) -> ClassificationUncertainty:
        """Predictive probabilities, predictive entropy, expected entropy and mutual information."""
        return classification_uncertainty(self.mean_samples)


def _moments(output):
    """Per-pass (mean, variance-or-None) of a model output: a tensor or a TFP distribution."""
    if isinstance(output, tfd.Distribution):
        # DistributionLambda wraps its distribution in a tensor-coercible proxy: look inside.
        output = getattr(output, "tensor_distribution", output)
        if isinstance(output, tfd.Categorical):
            return output.probs_parameter(), None
        try:
            return output.mean(), output.variance()
        except NotImplementedError as error:
            raise TypeError(
                f"the model's output distribution {type(output).__name__} has no mean/variance; "
                "use a head whose distribution implements them"
            ) from error
    return tf.convert_to_tensor(output), None


# One compiled function per (model, training flag), kept while the model lives. The number of
# passes per step and of steps are tensors, so a new T or N does not retrace the function.
_COMPILED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _compiled_passes(model, training: bool, probe_input):
    cache = _COMPILED.setdefault(model, {})
    if training not in cache:
        # What the model returns (a tensor, or a distribution with a variance), from one eager
        # call on ``probe_input`` (one example): the loop below then holds the only forward pass, so every pass
        # comes from the same random ops advancing their state. (A separate first call traced
        # outside the loop can draw the same weights as the loop's first iteration.)
        dtypes = [t.dtype for t in _moments(model(probe_input, training=training)) if t is not None]

        @tf.function(reduce_retracing=True)
        def run(x, passes, steps):
            multiples = tf.concat([[passes], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0)
            tiled = tf.tile(x, multiples)
            arrays = [tf.TensorArray(dtype, size=steps, infer_shape=False) for dtype in dtypes]
            for step in tf.range(steps):
                out = [t for t in _moments(model(tiled, training=training)) if t is not None]
                arrays = [array.write(step, t) for array, t in zip(arrays, out)]
            stacked = [array.concat() for array in arrays]
            return stacked[0], (stacked[1] if len(stacked) > 1 else None)

        cache[training] = run
    return cache[training]


def samples_weights_per_call(model) -> bool:
    """True if ``model`` holds a layer that shares one weight sample across the batch in a call."""
    return any(isinstance(layer, _PER_CALL_SAMPLERS) for layer in model.submodules)


def _check_inputs(model, x) -> tf.Tensor:
    try:
        x = tf.convert_to_tensor(x, dtype_hint=tf.float32)
    except (TypeError, ValueError) as error:
        raise TypeError(f"x must be an array of numbers, got {type(x).__name__}") from error
    if not (x.dtype.is_floating or x.dtype.is_integer):
        raise TypeError(f"x must be an array of numbers, got dtype {x.dtype.name}")
    if x.shape.rank is None or x.shape.rank < 1 or x.shape[0] == 0:
        raise ValueError(f"x must have a leading batch dimension with at least one example, got shape {x.shape}")
    if x.dtype.is_floating and x.dtype != tf.float32 and model.dtype == "float32":
        x = tf.cast(x, tf.float32)
    expected = getattr(model, "input_shape", None) if model.built else None
    if isinstance(expected, tuple) and len(expected) == x.shape.rank:
        for want, got in zip(expected[1:], x.shape[1:]):
            if want is not None and want != got:
                raise ValueError(f"x has shape {tuple(x.shape)} but the model expects inputs of shape {expected}")
    elif isinstance(expected, tuple):
        raise ValueError(f"x has shape {tuple(x.shape)} but the model expects inputs of shape {expected}")
    return x


def mc_predict(
    model,
    x,
    num_samples: int = 100,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    training: bool = False,
) -> MCPrediction:
    """Run T = ``num_samples`` stochastic forward passes of ``model`` on ``x``.

    Args:
        model: a tf_keras model whose randomness is on at inference (``MCDropout`` layers,
            ``DenseVariational``/Flipout layers...); its output is a tensor or a TFP distribution
            (a ``DistributionLambda`` head).
        x: inputs, shape (N, ...).
        num_samples: T >= 1.
        max_rows: at most this many tiled rows per compiled step (memory bound); N larger than
            this is processed in batches of ``max_rows`` inputs. Models with layers that draw one
            weight sample per call (``DenseVariational``, the ``*Reparameterization`` layers) are
            not tiled: each compiled step is then one pass over the batch.
        training: passed to the model; keep False so BatchNorm uses its moving statistics.
            (Plain ``keras.layers.Dropout`` only samples with training=True; prefer ``MCDropout``.)

    Returns:
        An :class:`MCPrediction` with (T, N, ...) samples and the uncertainty summaries.
    """
    check_tf_keras_model(model)
    num_samples = check_positive_int("num_samples", num_samples)
    max_rows = check_positive_int("max_rows", max_rows)
    x = _check_inputs(model, x)
    n = int(x.shape[0])
    batch = min(n, max_rows)
    passes_cap = 1 if samples_weights_per_call(model) else max(1, min(num_samples, max_rows // batch))
    steps = math.ceil(num_samples / passes_cap)
    passes = math.ceil(num_samples / steps)  # balance the steps: at most steps - 1 extra passes
    run = _compiled_passes(model, bool(training), x[:1])

    means, variances = [], []
    for start in range(0, n, batch):
        chunk = x[start : start + batch]
        mean, variance = run(chunk, tf.constant(passes), tf.constant(steps))
        shape = (steps * passes, int(chunk.shape[0]))
        means.append(mean.numpy().reshape(shape + tuple(mean.shape[1:]))[:num_samples])
        if variance is not None:
            variances.append(variance.numpy().reshape(shape + tuple(variance.shape[1:]))[:num_samples])
    return MCPrediction(
        mean_samples=np.concatenate(means, axis=1),
        variance_samples=np.concatenate(variances, axis=1) if variances else None,
    )
