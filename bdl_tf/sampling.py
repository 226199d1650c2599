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
import warnings
import weakref
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from bdl_tf._validation import (
    as_array,
    check_bool,
    check_choice,
    check_positive,
    check_positive_int,
    check_tensor_condition,
    check_tf_keras_model,
)
from bdl_tf.heads import negative_log_likelihood, output_moments
from bdl_tf.streaming import MCSummary, pass_statistics
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

__all__ = ["MCPrediction", "IdenticalPassesWarning", "mc_predict", "output_tensors", "samples_weights_per_call", "pass_schedule", "DEFAULT_MAX_ROWS"]

DEFAULT_MAX_ROWS = 4_096
"""Rows (tiled examples) fed to the model per compiled step; bounds activations' memory."""


class IdenticalPassesWarning(UserWarning):
    """Two Monte-Carlo passes came out identical: the model has no randomness at inference."""


_IDENTICAL_PASSES = ("warn", "raise", "allow")


@dataclass(frozen=True)
class MCPrediction:
    """T Monte-Carlo passes over N inputs.

    Attributes:
        mean_samples: (T, N, ...) the model's output per pass; for a distribution head what the
            head declares (:mod:`bdl_tf.heads`): its mean, or its class / success probabilities.
        variance_samples: (T, N, ...) the distribution head's variance per pass (the aleatoric
            part), or None when the model outputs a plain tensor or probabilities.
        kind: ``"regression"`` (mean and variance), ``"categorical"`` (class probabilities),
            ``"bernoulli"`` (success probabilities of independent binary outputs) or ``"tensor"``
            (a plain output).
    """

    mean_samples: np.ndarray
    variance_samples: np.ndarray | None = None
    kind: str = "tensor"

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
        if self.kind in ("categorical", "bernoulli"):
            raise TypeError(f"regression() needs a regression model; this one predicts {self.kind} probabilities: use classification()")
        return regression_uncertainty(
            self.mean_samples,
            self.variance_samples if noise_variance is None else None,
            noise_variance,
        )

    def classification(self) -> ClassificationUncertainty:
        """Predictive probabilities, predictive entropy, expected entropy and mutual information.

        A Bernoulli head's outputs are each a two-class problem: probabilities (..., 2) = [1 - p, p].
        """
        if self.kind == "regression":
            raise TypeError("classification() needs class probabilities; this model is a regression head: use regression()")
        if self.kind == "bernoulli":
            return classification_uncertainty(np.stack([1.0 - self.mean_samples, self.mean_samples], axis=-1))
        return classification_uncertainty(self.mean_samples)


def output_tensors(output):
    """(kind, [per-pass tensors]) of a model output: a tensor, or a TFP distribution whose head
    declares its moments (:func:`bdl_tf.heads.output_moments`)."""
    if isinstance(output, tfd.Distribution):
        kind, mean, variance = output_moments(output)
        return kind, [t for t in (mean, variance) if t is not None]
    return "tensor", [tf.convert_to_tensor(output)]


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
        kind, probe = output_tensors(model(probe_input, training=training))
        dtypes = [t.dtype for t in probe]

        @tf.function(reduce_retracing=True)
        def run(x, passes, steps):
            multiples = tf.concat([[passes], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0)
            tiled = tf.tile(x, multiples)
            arrays = [tf.TensorArray(dtype, size=steps, infer_shape=False) for dtype in dtypes]
            for step in tf.range(steps):
                out = output_tensors(model(tiled, training=training))[1]
                arrays = [array.write(step, t) for array, t in zip(arrays, out)]
            return [array.concat() for array in arrays]

        cache[training] = kind, run
    return cache[training]


def _pass_log_prob(output, y, noise_scale):
    """log p(y | x, theta_t) per row: the head's log_prob, or N(y; output, noise_scale^2) summed
    over the output's axes for a plain tensor."""
    if isinstance(output, tfd.Distribution):
        return output.log_prob(tf.cast(y, output.dtype))
    output = tf.convert_to_tensor(output)
    log_prob = tfd.Normal(output, tf.cast(noise_scale, output.dtype)).log_prob(tf.cast(y, output.dtype))
    return tf.reduce_sum(tf.reshape(log_prob, [tf.shape(log_prob)[0], -1]), axis=1)


def _compiled_summaries(model, training: bool, probe_input, with_targets: bool):
    """Like :func:`_compiled_passes`, but each step's passes are added into running float64 sums
    (and a running logsumexp of log p(y | x, theta_t) when targets are given) inside the loop."""
    cache = _COMPILED.setdefault(model, {})
    key = ("summaries", training, with_targets)
    if key not in cache:
        probe_output = model(probe_input, training=training)
        kind, probe = output_tensors(probe_output)
        example_shapes = [t.shape[1:] for t in pass_statistics(kind, probe)]

        @tf.function(reduce_retracing=True)
        def run(x, y, passes, steps, total, noise_scale):
            rows = tf.shape(x)[0]
            tiled = tf.tile(x, tf.concat([[passes], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0))
            tiled_y = tf.tile(y, tf.concat([[passes], tf.ones([tf.rank(y) - 1], tf.int32)], axis=0))
            sums = tuple(tf.zeros(tf.concat([[rows], shape], axis=0), tf.float64) for shape in example_shapes)
            reference = tf.zeros(tf.concat([[rows], example_shapes[0]], axis=0), tf.float64)
            spread = tf.constant(0.0, tf.float64)  # max |pass - first pass|: 0 when all passes are identical
            running = tf.fill([rows], tf.constant(-np.inf, tf.float64))
            for step in tf.range(steps):
                output = model(tiled, training=training)
                valid = tf.range(passes) + step * passes < total  # the last step may hold extra passes
                weights = tf.cast(valid, tf.float64)
                stats = [
                    tf.reshape(tf.cast(t, tf.float64), tf.concat([[passes, rows], tf.shape(t)[1:]], axis=0))
                    for t in pass_statistics(*output_tensors(output))
                ]
                sums = tuple(total_ + tf.tensordot(weights, t, axes=1) for total_, t in zip(sums, stats))
                reference = tf.where(step == 0, stats[0][0], reference)
                gap = tf.reduce_max(tf.reshape(tf.abs(stats[0] - reference), [passes, -1]), axis=1)
                spread = tf.maximum(spread, tf.reduce_max(tf.where(valid, gap, tf.zeros_like(gap))))
                if with_targets:
                    log_prob = tf.reshape(tf.cast(_pass_log_prob(output, tiled_y, noise_scale), tf.float64), [passes, rows])
                    log_prob = tf.where(valid[:, None], log_prob, tf.constant(-np.inf, tf.float64))
                    running = tf.reduce_logsumexp(tf.stack([running, tf.reduce_logsumexp(log_prob, axis=0)]), axis=0)
            return sums, spread, running

        cache[key] = kind, run, probe_output
    return cache[key]


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
    if x.dtype.is_floating:
        check_tensor_condition(tf.math.is_finite(x), "x contains NaN or infinite values")
        if x.dtype != tf.float32 and model.dtype == "float32":
            x = tf.cast(x, tf.float32)
    expected = getattr(model, "input_shape", None) if model.built else None
    if isinstance(expected, tuple) and len(expected) == x.shape.rank:
        for want, got in zip(expected[1:], x.shape[1:]):
            if want is not None and want != got:
                raise ValueError(f"x has shape {tuple(x.shape)} but the model expects inputs of shape {expected}")
    elif isinstance(expected, tuple):
        raise ValueError(f"x has shape {tuple(x.shape)} but the model expects inputs of shape {expected}")
    return x


def pass_schedule(n: int, num_samples: int, max_rows: int = DEFAULT_MAX_ROWS, tiled: bool = True):
    """How ``mc_predict`` splits T passes over N inputs: (batch, passes per step, steps).

    A step feeds ``batch`` = min(N, max_rows) inputs tiled ``passes`` times (once when not
    ``tiled``), at most ``max_rows`` rows; ceil(T / steps) passes per step balance the steps.
    """
    batch = min(n, max_rows)
    passes_cap = max(1, min(num_samples, max_rows // batch)) if tiled else 1
    steps = math.ceil(num_samples / passes_cap)
    return batch, math.ceil(num_samples / steps), steps


def mc_predict(
    model,
    x,
    num_samples: int = 100,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    training: bool = False,
    identical_passes: str = "warn",
    keep_samples: bool = True,
    y=None,
    noise_variance=None,
) -> MCPrediction | MCSummary:
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
        identical_passes: what to do when the first two passes come out identical (a model with
            no randomness at inference gives T copies and an epistemic part of 0): ``"warn"`` (an
            :class:`IdenticalPassesWarning`), ``"raise"`` (ValueError) or ``"allow"``. Without
            samples (``keep_samples=False``) the check is that ALL passes are identical.
        keep_samples: False streams the summaries instead: running sums over the passes inside
            the compiled loop, O(N) memory at any T (:class:`bdl_tf.streaming.MCSummary`).
        y: targets (N, ...) for the MC predictive log-likelihood log 1/T sum_t p(y | x, theta_t)
            per example (``keep_samples=False`` only); shaped like the head's event, as for the loss.
        noise_variance: 1/tau, the observation noise of a model whose output is a plain tensor
            (needed with ``y``: p(y | x, theta_t) = N(y; output_t, 1/tau)).

    Returns:
        An :class:`MCPrediction` with (T, N, ...) samples and the uncertainty summaries, or with
        ``keep_samples=False`` an :class:`~bdl_tf.streaming.MCSummary`.
    """
    check_tf_keras_model(model)
    num_samples = check_positive_int("num_samples", num_samples)
    max_rows = check_positive_int("max_rows", max_rows)
    training = check_bool("training", training)
    identical_passes = check_choice("identical_passes", identical_passes, _IDENTICAL_PASSES)
    keep_samples = check_bool("keep_samples", keep_samples)
    x = _check_inputs(model, x)
    n = int(x.shape[0])
    batch, passes, steps = pass_schedule(n, num_samples, max_rows, tiled=not samples_weights_per_call(model))
    if not keep_samples:
        return _streamed(model, x, y, noise_variance, training, identical_passes, num_samples, batch, passes, steps)
    if y is not None or noise_variance is not None:
        raise ValueError("y and noise_variance are for streamed summaries: pass keep_samples=False")
    kind, run = _compiled_passes(model, training, x[:1])

    parts = []
    for start in range(0, n, batch):
        chunk = x[start : start + batch]
        shape = (steps * passes, int(chunk.shape[0]))
        out = run(chunk, tf.constant(passes), tf.constant(steps))
        parts.append([t.numpy().reshape(shape + tuple(t.shape[1:]))[:num_samples] for t in out])
    samples = [np.concatenate(arrays, axis=1) for arrays in zip(*parts)]
    _check_passes_differ(samples[0], identical_passes)
    return MCPrediction(samples[0], samples[1] if len(samples) > 1 else None, kind)


def _check_targets(output, x, y, noise_variance):
    """y as a tensor shaped (N, ...) like one output per example (checked against the model's
    ``output`` on one example, as the loss checks it), and the noise scale for plain-tensor outputs.
    Without y: an empty (N, 0) placeholder for the compiled function."""
    if y is None:
        if noise_variance is not None:
            raise ValueError("noise_variance is only used with targets y")
        return tf.zeros([int(x.shape[0]), 0]), 1.0
    y = tf.constant(as_array("y", y, np.float32, shape=(int(x.shape[0]), *[None] * (np.ndim(y) - 1))))
    if isinstance(output, tfd.Distribution):
        if noise_variance is not None:
            raise ValueError("noise_variance is for models with a plain tensor output; this model has a distribution head")
        negative_log_likelihood(y[:1], output)  # raises on a shape or support mismatch
        return y, 1.0
    if tuple(y.shape[1:]) != tuple(output.shape[1:]):
        raise ValueError(f"y must have shape (N, {', '.join(map(str, output.shape[1:]))}) like the model output, got {tuple(y.shape)}")
    if noise_variance is None:
        raise ValueError("a model with a plain tensor output needs noise_variance (1/tau) for the log-likelihood of y")
    return y, math.sqrt(check_positive("noise_variance", noise_variance))


def _streamed(model, x, y, noise_variance, training, identical_passes, num_samples, batch, passes, steps):
    """mc_predict's keep_samples=False path: summaries summed inside the compiled loop, per batch."""
    has_targets = y is not None
    kind, run, probe_output = _compiled_summaries(model, training, x[:1], has_targets)
    y, noise_scale = _check_targets(probe_output, x, y, noise_variance)
    parts, spread, running = [], 0.0, []
    for start in range(0, int(x.shape[0]), batch):
        sums, chunk_spread, chunk_running = run(
            x[start : start + batch], y[start : start + batch], tf.constant(passes), tf.constant(steps),
            tf.constant(num_samples), tf.constant(noise_scale, tf.float64),
        )
        parts.append([t.numpy() for t in sums])
        spread = max(spread, float(chunk_spread))
        running.append(chunk_running.numpy())
    if num_samples > 1 and spread == 0.0:
        _check_passes_differ(np.zeros((2, 1)), identical_passes)
    log_likelihood = np.concatenate(running) - math.log(num_samples) if has_targets else None
    return MCSummary(kind, num_samples, tuple(np.concatenate(p, axis=0) for p in zip(*parts)), log_likelihood)


def _check_passes_differ(mean_samples, policy):
    if policy == "allow" or len(mean_samples) < 2 or not np.array_equal(mean_samples[0], mean_samples[1]):
        return
    message = (
        "the first two Monte-Carlo passes are identical: the model has no randomness at inference "
        "(keras.layers.Dropout is off unless training=True; use bdl_tf.MCDropout), so the epistemic "
        "uncertainty is 0. Pass identical_passes='allow' if that is intended."
    )
    if policy == "raise":
        raise ValueError(message)
    warnings.warn(message, IdenticalPassesWarning, stacklevel=3)
