"""Conditional VAE (Sohn, Lee & Yan 2015): encoder q(z|x, c) and decoder p(x|z, c) both see the
label c, the prior stays p(z) = N(0, I), so z is free to encode what the label does not (style).

ELBO(x | c) = E_{q(z|x,c)}[log p(x|z, c)] - KL(q(z|x, c) || p(z)).
To draw a chosen digit: z ~ N(0, I), then p(x|z, c = digit).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras as keras

from bdl_tf._validation import as_array, as_real_tensor, check_class_labels, check_tensor_condition
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
        if tf.is_tensor(labels):  # inside Keras' training loop (or a tf.function)
            return self._tensor_condition(labels, batch_size)
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

    def _tensor_condition(self, labels, batch_size):
        """Tensor labels as one-hot rows, checked as the NumPy path checks them: one-hot rows of width
        C, or classes in [0, C) ((N,) or (N, 1)), one per example. What the trace does not know (a
        retrace of fit can leave the labels' rank unknown) is decided and checked at run time, with
        assertions carrying the same sentences (``tf.one_hot`` would turn a class >= C into a zero row)."""
        width = self.num_classes
        labels = as_real_tensor("labels", labels, tf.float32, allow_bool=True)
        shape = labels.shape
        one_hot = shape.rank == 2 and shape[-1] == width and width != 1
        classes = shape.rank == 1 or (shape.rank == 2 and shape[-1] == 1)
        if not (one_hot or classes) and shape.rank is not None and (shape.rank != 2 or shape[-1] is not None):
            raise ValueError(
                f"labels must be integer classes (one per example) or one-hot rows of width {width}, got shape {tuple(shape)}"
            )
        if one_hot:
            rows = self._one_hot_rows(labels)
        elif classes:
            rows = self._class_rows(labels)
        else:
            last = tf.concat([[0], tf.shape(labels)], axis=0)[-1]
            rows = tf.cond(tf.logical_and(tf.equal(tf.rank(labels), 2), tf.equal(last, width)),
                           lambda: self._one_hot_rows(tf.reshape(labels, [-1, width])),
                           lambda: self._class_rows(labels))
        # The count comes from the data, not from tf.shape: grappler would take the encoder's concat of
        # x and the rows as a promise that their first dimensions agree and fold a shape check to true.
        count = tf.reduce_sum(tf.ones_like(rows[:, 0], dtype=tf.int32))
        check = check_tensor_condition(tf.equal(count, tf.cast(batch_size, tf.int32)),
                                       "labels must hold one class (or one-hot row) per example of x")
        with tf.control_dependencies([] if check is None else [check]):
            return tf.identity(rows)

    def _one_hot_rows(self, labels):
        check = check_tensor_condition(
            tf.reduce_all((labels == 0) | (labels == 1)) & tf.reduce_all(tf.reduce_sum(labels, axis=-1) == 1),
            f"labels given as rows of width {self.num_classes} must be one-hot",
        )
        with tf.control_dependencies([] if check is None else [check]):
            return tf.identity(labels)

    def _class_rows(self, labels):
        classes = tf.reshape(labels, [-1])
        checks = [
            check_tensor_condition(tf.equal(classes, tf.round(classes)), "labels must be integer class indices"),
            check_tensor_condition((classes >= 0) & (classes < self.num_classes),
                                   f"labels must be classes in [0, {self.num_classes})"),
        ]
        with tf.control_dependencies([check for check in checks if check is not None]):
            return tf.one_hot(tf.cast(classes, tf.int32), self.num_classes)

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
