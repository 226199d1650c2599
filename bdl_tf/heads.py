"""Probabilistic output heads: the network's last layer returns a TFP distribution p(y|x).

Train them with :func:`negative_log_likelihood` as the Keras loss, so the model learns the noise
as well as the mean (regression trained with MSE alone has no meaningful uncertainty).  Each head
is a ``DistributionLambda`` subclass with its own ``get_config``, so models holding it can be
rebuilt from their config (``keras.models.clone_model``, ``bdl_tf.saving``).
"""
from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf._validation import check_positive, check_positive_int

tfd = tfp.distributions
tfpl = tfp.layers

__all__ = ["NormalHead", "CategoricalHead", "BernoulliHead", "negative_log_likelihood"]


@keras.saving.register_keras_serializable(package="bdl_tf")
def negative_log_likelihood(y_true, distribution):
    """Keras loss -log p(y|x) per example; ``distribution`` is the model's output head."""
    return -distribution.log_prob(tf.cast(y_true, distribution.dtype))


class _Head(tfpl.DistributionLambda):
    """A DistributionLambda whose distribution comes from ``make(params)`` and whose tensor value is its mean."""

    def __init__(self, event_size=1, **kwargs):
        self.event_size = check_positive_int("event_size", event_size)
        kwargs.pop("make_distribution_fn", None)
        kwargs.pop("convert_to_tensor_fn", None)
        super().__init__(self.make, convert_to_tensor_fn=self._tensor_value, **kwargs)

    @staticmethod
    def _tensor_value(distribution):
        return distribution.mean()

    def make(self, params):
        raise NotImplementedError

    def _check_params(self, params, size):
        if params.shape[-1] is not None and params.shape[-1] != size:
            raise ValueError(
                f"{type(self).__name__}(event_size={self.event_size}) needs {size} inputs per example "
                f"(use Dense({type(self).__name__}.params_size({self.event_size}))), got {params.shape[-1]}"
            )

    def get_config(self):
        config = keras.layers.Layer.get_config(self)
        config["event_size"] = self.event_size
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="bdl_tf")
class NormalHead(_Head):
    """Heteroscedastic Normal N(mu(x), sigma(x)^2): the first ``event_size`` inputs are mu,
    the next ``event_size`` give sigma = min_scale + softplus(raw) > 0.

    Use after ``Dense(NormalHead.params_size(event_size))``; the Kendall & Gal (2017) loss
    1/2 log sigma^2 + (y - mu)^2 / (2 sigma^2) is its negative log-likelihood up to a constant.
    """

    def __init__(self, event_size=1, min_scale=1e-3, **kwargs):
        self.min_scale = check_positive("min_scale", min_scale)
        super().__init__(event_size, **kwargs)

    @staticmethod
    def params_size(event_size=1):
        """Number of inputs the head needs: a mean and a raw scale per output."""
        return 2 * event_size

    def make(self, params):
        self._check_params(params, self.params_size(self.event_size))
        loc, raw_scale = tf.split(params, 2, axis=-1)
        scale = self.min_scale + tf.math.softplus(raw_scale)
        return tfd.Independent(tfd.Normal(loc=loc, scale=scale), reinterpreted_batch_ndims=1)

    def get_config(self):
        return {**super().get_config(), "min_scale": self.min_scale}


@keras.saving.register_keras_serializable(package="bdl_tf")
class CategoricalHead(_Head):
    """Categorical over ``event_size`` classes from as many logits; its mean is the one-hot
    probability vector, so ``mc_predict`` returns class probabilities.

    Labels for :func:`negative_log_likelihood` are one-hot vectors (``keras.utils.to_categorical``).
    """

    @staticmethod
    def params_size(event_size):
        """Number of logits: one per class."""
        return event_size

    def make(self, params):
        self._check_params(params, self.event_size)
        return tfd.OneHotCategorical(logits=params, dtype=params.dtype)


@keras.saving.register_keras_serializable(package="bdl_tf")
class BernoulliHead(_Head):
    """Independent Bernoulli outputs (binary labels or binary pixels) from ``event_size`` logits."""

    @staticmethod
    def params_size(event_size=1):
        """Number of logits: one per output."""
        return event_size

    def make(self, params):
        self._check_params(params, self.event_size)
        return tfd.Independent(tfd.Bernoulli(logits=params, dtype=params.dtype), reinterpreted_batch_ndims=1)
