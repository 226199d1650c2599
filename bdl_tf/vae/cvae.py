"""Conditional VAE (Sohn, Lee & Yan 2015): encoder q(z|x, c) and decoder p(x|z, c) both see the
label c, the prior stays p(z) = N(0, I), so z is free to encode what the label does not (style).

ELBO(x | c) = E_{q(z|x,c)}[log p(x|z, c)] - KL(q(z|x, c) || p(z)).
To draw a chosen digit: z ~ N(0, I), then p(x|z, c = digit).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras as keras

from bdl_tf._validation import as_array, check_class_labels
from bdl_tf.vae.vae import VAE

__all__ = ["CVAE"]


@keras.saving.register_keras_serializable(package="bdl_tf")
class CVAE(VAE):
    """VAE whose networks take a second input, the one-hot label (``condition_dim=num_classes``
    in :mod:`bdl_tf.vae.networks`). Train with ``fit(x, labels)``; labels are integer classes
    (or already one-hot rows). Every method takes ``labels``: one per example, or a single
    integer for all of them, e.g. ``cvae.sample(16, labels=3)``.
    """

    conditional = True

    @property
    def num_classes(self):
        return int(self.encoder.inputs[1].shape[-1])

    def _condition(self, labels, batch_size):
        if labels is None:
            raise ValueError("labels are required: a CVAE is conditioned on the class of each input")
        if tf.is_tensor(labels):  # inside Keras' training loop
            if labels.dtype.is_integer:
                return tf.one_hot(tf.reshape(labels, [-1]), self.num_classes)
            return tf.cast(labels, tf.float32)
        array = np.asarray(labels)
        if array.ndim == 2 and array.shape[-1] == self.num_classes and array.dtype.kind == "f":
            one_hot = as_array("labels", array, np.float32)
            if not np.all((one_hot == 0) | (one_hot == 1)) or not np.all(one_hot.sum(axis=1) == 1):
                raise ValueError(f"labels given as rows of width {self.num_classes} must be one-hot")
            return tf.constant(one_hot)
        classes = check_class_labels("labels", labels, self.num_classes)
        if classes.ndim == 0:  # one class for the whole batch
            classes = np.full(batch_size, classes)
        if classes.ndim != 1:
            raise ValueError(
                f"labels must be integer classes (one per example, or one for all) or one-hot rows of width "
                f"{self.num_classes}, got shape {classes.shape}"
            )
        return tf.one_hot(classes, self.num_classes)

    def _unpack(self, data):
        x, labels, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if sample_weight is not None:
            raise ValueError("CVAE does not take sample weights")
        if labels is None:
            raise ValueError("a CVAE learns from images and their labels: call fit(x, labels)")
        return x, labels

    def call(self, inputs):
        """``inputs = [x, labels]`` -> p(x|z, c) with z ~ q(z|x, c)."""
        x, labels = inputs
        return self.decode(self.encode(x, labels), labels)
