"""A fixed digit classifier that judges images made by generative models ("the judge").

Autoencoders, VAEs and conditional VAEs make images; whether an image *is* a digit, and *which*
digit, needs an opinion from outside the model. :func:`digit_judge` trains one small classifier on
real training digits, the same way every time, and its :class:`DigitJudge` then answers:

- ``predict_labels(images)``: which class it sees (does a reconstruction keep its class? does a
  CVAE draw the digit it was asked for?), with ``recognised`` / ``recognised_per_class`` /
  ``confusions`` for the share of images judged as their intended label and the typical misses;
- ``probs(images)``, ``confidence(images)``: its class probabilities and their maximum;
- ``features(images)``: its hidden layer, for the Fréchet distance between two sets of images
  (:func:`bdl_tf.metrics.frechet_distance`; with an ImageNet network's features it is the FID).

The judge is trained from its own ``seed`` with seeded initial weights and its own shuffling, so it
does not depend on (and does not change) the global random state: two notebooks that judge different
models with ``digit_judge(x_train, y_train)`` use the same judge, and it is never tuned on what it
judges. Its accuracy on real test digits (``test_accuracy``) is the ceiling for any share of
generated or reconstructed images it recognises: it also misreads some real digits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bdl_tf._validation import as_array, check_class_labels, check_int, check_positive_int, check_real, check_seed

__all__ = ["DigitJudge", "digit_judge"]

_BATCH = 1024  # images per forward pass when judging


def _grey_images(name: str, images, image_shape: tuple | None = None) -> np.ndarray:
    """A non-empty float32 batch (n, height, width[, channels]) of grey levels in [0, 1]."""
    images = as_array(name, images, np.float32, min_ndim=0)
    if images.ndim == 3:  # (n, height, width): add the channel axis
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"{name} must be a batch of images, shape (n, height, width) or (n, height, width, channels), "
                         f"got shape {images.shape}")
    if image_shape is not None and images.shape[1:] != tuple(image_shape):
        raise ValueError(f"{name} must be images of shape {tuple(image_shape)} (those the judge was trained on), "
                         f"got shape {images.shape[1:]}")
    low, high = float(images.min()), float(images.max())
    if low < 0.0 or high > 1.0:
        hint = " (divide 0..255 pixel values by 255)" if high > 1.0 else ""
        raise ValueError(f"{name} must hold grey levels in [0, 1], got values in [{low:g}, {high:g}]{hint}")
    return images


def _intended_labels(name: str, labels, n: int, num_classes: int) -> np.ndarray:
    """One class per image as an int64 array (n,); a single class stands for every image."""
    labels = check_class_labels(name, labels, num_classes)
    if labels.ndim == 0:
        labels = np.full(n, labels, dtype=np.int64)
    if labels.shape != (n,):
        raise ValueError(f"{name} must be one class per image, shape ({n},) or a single class, got shape {labels.shape}")
    return labels


@dataclass(frozen=True)
class DigitJudge:
    """A trained digit classifier used to judge images: see :mod:`bdl_tf.vae.judge`.

    Attributes:
        model: the tf_keras classifier, images -> class probabilities.
        feature_model: images -> its hidden features (what the Fréchet distance compares).
        image_shape: the shape of one image it judges, e.g. ``(28, 28, 1)``.
        num_classes: the number of classes.
        seed: the seed it was trained from.
        test_accuracy: its accuracy on the test digits handed to :func:`digit_judge` (None without them).
    """

    model: object
    feature_model: object
    image_shape: tuple
    num_classes: int
    seed: int
    test_accuracy: float | None = None

    def _images(self, name, images):
        return _grey_images(name, images, self.image_shape)

    def _labels(self, name, labels, n):
        return _intended_labels(name, labels, n, self.num_classes)

    def probs(self, images) -> np.ndarray:
        """Class probabilities, shape (n, num_classes)."""
        return self.model.predict(self._images("images", images), batch_size=_BATCH, verbose=0).astype(np.float64)

    def predict_labels(self, images) -> np.ndarray:
        """The class the judge sees in each image, shape (n,), int64."""
        return np.argmax(self.probs(images), axis=1).astype(np.int64)

    def confidence(self, images) -> np.ndarray:
        """The judge's confidence max_c p(c | x) per image, shape (n,)."""
        return self.probs(images).max(axis=1)

    def features(self, images) -> np.ndarray:
        """The hidden features per image, shape (n, hidden), for :func:`bdl_tf.metrics.frechet_distance`."""
        return self.feature_model.predict(self._images("images", images), batch_size=_BATCH, verbose=0).astype(np.float64)

    def frechet_distance(self, reference_images, images) -> float:
        """Fréchet distance between the judge's features of two sets of images (0: indistinguishable)."""
        from bdl_tf.metrics import frechet_distance

        reference = self.features(_grey_images("reference_images", reference_images, self.image_shape))
        return frechet_distance(reference, self.features(_grey_images("images", images, self.image_shape)))

    def recognised(self, images, labels) -> float:
        """The share of images the judge assigns to their intended class ``labels`` (one per image, or one for all)."""
        images = self._images("images", images)
        return float(np.mean(self.predict_labels(images) == self._labels("labels", labels, len(images))))

    def recognised_per_class(self, images, labels) -> np.ndarray:
        """Per class c, the share of the images meant as c that the judge sees as c; NaN for classes with no image."""
        images = self._images("images", images)
        labels = self._labels("labels", labels, len(images))
        hits = self.predict_labels(images) == labels
        counts = np.bincount(labels, minlength=self.num_classes)
        share = np.bincount(labels, weights=hits, minlength=self.num_classes) / np.maximum(counts, 1)
        return np.where(counts > 0, share, np.nan)

    def confusions(self, images, labels, top: int = 3) -> list[tuple[int, int, int]]:
        """The ``top`` most frequent misses as (intended class, judged class, count), most frequent first."""
        images = self._images("images", images)
        labels = self._labels("labels", labels, len(images))
        top = check_positive_int("top", top)
        judged = self.predict_labels(images)
        pairs = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)
        np.add.at(pairs, (labels, judged), 1)
        np.fill_diagonal(pairs, 0)
        order = np.argsort(-pairs, axis=None, kind="stable")[:top]
        return [(int(i), int(j), int(pairs[i, j])) for i, j in zip(*np.unravel_index(order, pairs.shape)) if pairs[i, j] > 0]


def digit_judge(x_train, y_train, x_test=None, y_test=None, *, num_classes: int = 10, hidden: int = 128,
                epochs: int = 10, batch_size: int = 100, learning_rate: float = 3e-3, seed: int = 0) -> DigitJudge:
    """Train the fixed digit classifier that judges generated and reconstructed images.

    A multilayer perceptron, flatten -> ``hidden`` ReLU units (the features) -> softmax over the
    classes, trained with Adam on the cross-entropy of the real training images. Everything random
    comes from ``seed`` (initial weights, the order of the mini-batches): the same data and seed
    give the same judge whatever the global random state, which it leaves untouched.

    Args:
        x_train: real training images, (n, height, width[, 1]) grey levels in [0, 1].
        y_train: their integer class labels in [0, num_classes), (n,); at least two classes.
        x_test, y_test: real test images and labels (both or neither) for ``test_accuracy``.
        num_classes: the number of classes (10 digits).
        hidden: the number of hidden features.
        epochs, batch_size, learning_rate: the training budget (fixed: never tune it on the model judged).
        seed: the judge's own seed.

    Returns:
        A :class:`DigitJudge` (``predict_labels``, ``probs``, ``features``, ``recognised``, ``test_accuracy``).
    """
    import tensorflow as tf
    import tf_keras as keras

    from bdl_tf.progress import fit_progress

    x_train = _grey_images("x_train", x_train)
    y_train = as_array("y_train", y_train, np.float64, min_ndim=0)
    if y_train.shape != (len(x_train),):
        raise ValueError(f"y_train must hold one label per training image, shape ({len(x_train)},), got shape {y_train.shape}")
    num_classes = check_int("num_classes", num_classes, minimum=2)
    labels = check_class_labels("y_train", y_train, num_classes)
    if len(np.unique(labels)) < 2:
        raise ValueError(f"y_train must contain at least two classes, got only class {labels[0]}")
    if (x_test is None) != (y_test is None):
        raise ValueError("x_test and y_test must be given together (both or neither), got only "
                         + ("x_test" if y_test is None else "y_test"))
    image_shape = tuple(x_train.shape[1:])
    if x_test is not None:  # checked before training, against the training images' shape
        x_test = _grey_images("x_test", x_test, image_shape)
        y_test = _intended_labels("y_test", y_test, len(x_test), num_classes)
    hidden = check_positive_int("hidden", hidden)
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    learning_rate = check_real("learning_rate", learning_rate, 0.0, low_open=True)
    seed = check_seed("seed", seed)

    inputs = keras.Input(image_shape)
    flat = keras.layers.Flatten()(inputs)
    features = keras.layers.Dense(hidden, activation="relu", name="features",
                                  kernel_initializer=keras.initializers.GlorotUniform(seed=seed))(flat)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="class_probabilities",
                                 kernel_initializer=keras.initializers.GlorotUniform(seed=(seed + 1) % 2**31))(features)
    model = keras.Model(inputs, outputs, name="digit_judge")
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy")

    # The judge's own mini-batch order: a permutation per epoch from its seed, fed in that order.
    order = np.concatenate([np.random.default_rng([seed, epoch]).permutation(len(x_train)) for epoch in range(epochs)])
    images, targets = tf.constant(x_train), tf.constant(labels)
    batches = tf.data.Dataset.from_tensor_slices(order).batch(batch_size).map(
        lambda index: (tf.gather(images, index), tf.gather(targets, index)))
    model.fit(batches, epochs=1, verbose=0, shuffle=False, callbacks=fit_progress("judge"))

    feature_model = keras.Model(inputs, features, name="digit_judge_features")
    judge = DigitJudge(model, feature_model, image_shape, num_classes, seed)
    if x_test is None:
        return judge
    return DigitJudge(model, feature_model, image_shape, num_classes, seed,
                      test_accuracy=float(np.mean(judge.predict_labels(x_test) == y_test)))
