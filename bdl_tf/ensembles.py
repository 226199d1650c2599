"""Deep ensembles (Lakshminarayanan, Pritzel & Blundell 2017), vectorised: M networks in one model.

An ensemble of M networks with their own random initialisation, each trained on its own negative
log-likelihood, predicts the mixture p(y|x) = 1/M sum_m p(y|x, theta_m).  Here the M members live in
one Keras model: :class:`EnsembleDense` holds M kernels and computes all members with one einsum,
so one ``fit`` trains the M members (their parameters are disjoint and the loss is the sum of their
NLLs, so each member gets exactly the gradient of its own loss; they share the minibatch order) and
one forward pass predicts with all of them.  :func:`ensemble_predict` returns the members as the
"passes" of an :class:`~bdl_tf.sampling.MCPrediction`, so the uncertainty summaries are the same as
for MC dropout: epistemic = the variance of the members' means.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf._validation import as_array, check_positive_int, check_tf_keras_model
from bdl_tf.heads import check_target_shape, check_target_values
from bdl_tf.sampling import MCPrediction, output_tensors

tfd = tfp.distributions

__all__ = ["EnsembleDense", "ensemble_negative_log_likelihood", "ensemble_predict"]


def _member_initializers(initializer, members):
    """One initializer per member.  tf_keras' unseeded initializers return the same values at every
    call, so a seeded copy per member: seed + m, from a seed drawn under ``set_seed`` when unseeded."""
    config = initializer.get_config()
    if "seed" not in config:  # constants, zeros: the same for every member, as asked
        return [initializer] * members
    base = config["seed"]
    if base is None:
        base = int(tf.random.uniform([], maxval=2**30, dtype=tf.int32))
    return [type(initializer).from_config({**config, "seed": base + m}) for m in range(members)]


@keras.saving.register_keras_serializable(package="bdl_tf")
class EnsembleDense(keras.layers.Layer):
    """M independent dense layers at once: y[n, m] = activation(x[n, m] W_m + b_m).

    Inputs (N, d) are fed to every member (the first ensemble layer); inputs (N, M, d) give each
    member its own row (the layers after it).  Output (N, M, units).  Each member's kernel is drawn
    from ``kernel_initializer`` with its own (d, units) fans, as M separate ``Dense`` layers would be.

    Args:
        units: output size per member.
        members: M, the ensemble size.
        activation, kernel_initializer, bias_initializer: as for ``keras.layers.Dense``.
        kernel_regularizer, bias_regularizer: as for ``keras.layers.Dense``, on the stacked (M, d, units)
            kernel and (M, units) biases: an L2 penalty is then the sum of the M members' own penalties,
            so with ``ensemble_negative_log_likelihood`` (the sum of the members' NLLs) each member is
            trained on its NLL plus its own penalty, as if it were alone.
    """

    def __init__(self, units, members, activation=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.members = check_positive_int("members", members)
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)

    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank not in (2, 3) or input_shape[-1] is None:
            raise ValueError(
                f"EnsembleDense expects inputs (N, features) or (N, members, features) with known features, got {input_shape}"
            )
        if input_shape.rank == 3 and input_shape[1] != self.members:
            raise ValueError(
                f"EnsembleDense(members={self.members}) got inputs with {input_shape[1]} members on axis 1: {input_shape}"
            )
        features = int(input_shape[-1])

        def per_member(shape, dtype=None):  # M draws with a single layer's fans, not one (M, d, units) draw
            return tf.stack([init(shape[1:], dtype=dtype) for init in _member_initializers(self.kernel_initializer, shape[0])])

        self.kernel = self.add_weight("kernel", shape=(self.members, features, self.units), initializer=per_member,
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight("bias", shape=(self.members, self.units), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer)
        super().build(input_shape)

    def call(self, inputs):
        equation = "nd,mdu->nmu" if inputs.shape.rank == 2 else "nmd,mdu->nmu"
        return self.activation(tf.einsum(equation, inputs, self.kernel) + self.bias)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape([input_shape[0], self.members, self.units])

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "members": self.members,
            "activation": keras.activations.serialize(self.activation),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
        }


@keras.saving.register_keras_serializable(package="bdl_tf")
def ensemble_negative_log_likelihood(y_true, distribution):
    """Keras loss: sum over the M members of -log p_m(y|x), per example.

    ``distribution`` is a head on (N, M, params) (batch shape (N, M)); ``y_true`` is shaped as one
    member's target (N, ...event), e.g. (N, 1) for ``NormalHead(1)``.  The sum (not the mean) gives
    every member the gradient of its own NLL, as if it were trained alone.
    """
    if not isinstance(distribution, tfd.Distribution):
        raise TypeError(f"ensemble_negative_log_likelihood needs the model's output distribution, got {type(distribution).__name__}")
    batch = distribution.batch_shape
    if batch.rank is not None and batch.rank < 2:
        raise ValueError(f"the head's batch shape {tuple(batch)} has no member axis: put EnsembleDense layers before it")
    y_true = tf.cast(y_true, distribution.dtype)
    check_target_shape(y_true, distribution, expected=batch[:1].concatenate(distribution.event_shape))
    check = check_target_values(y_true, distribution)
    with tf.control_dependencies([] if check is None else [check]):
        return -tf.reduce_sum(distribution.log_prob(tf.expand_dims(y_true, 1)), axis=1)


def ensemble_predict(model, x, batch_size: int = 4096) -> MCPrediction:
    """The M members' predictions on ``x`` as an :class:`MCPrediction` with M "passes".

    ``model`` outputs (N, M, ...) (a head after :class:`EnsembleDense` layers, or a tensor); the
    returned samples are (M, N, ...), so ``.regression()`` / ``.classification()`` split the
    predictive uncertainty as for MC dropout (epistemic: the spread of the members).
    """
    check_tf_keras_model(model)
    batch_size = check_positive_int("batch_size", batch_size)
    x = as_array("x", x, dtype=np.float32)
    members = {layer.members for layer in model.submodules if isinstance(layer, EnsembleDense)}
    if not members:
        raise ValueError("the model has no EnsembleDense layers, so its output has no member axis: is it an ensemble?")
    parts = []
    for start in range(0, x.shape[0], batch_size):
        kind, outputs = output_tensors(model(x[start : start + batch_size], training=False))
        if outputs[0].shape.rank < 2 or outputs[0].shape[1] not in members:
            raise ValueError(
                f"the model's output {tuple(outputs[0].shape)} has no member axis of size {sorted(members)} "
                "on axis 1: end the model with EnsembleDense layers (and a head)"
            )
        parts.append([np.moveaxis(t.numpy(), 1, 0) for t in outputs])
    samples = [np.concatenate(arrays, axis=1) for arrays in zip(*parts)]
    return MCPrediction(samples[0], samples[1] if len(samples) > 1 else None, kind)
