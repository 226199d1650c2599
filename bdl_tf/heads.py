"""Probabilistic output heads: the network's last layer returns a TFP distribution p(y|x).

Train them with :func:`negative_log_likelihood` as the Keras loss, so the model learns the noise
as well as the mean (regression trained with MSE alone has no meaningful uncertainty).  Each head
is a ``DistributionLambda`` subclass with its own ``get_config``, so models holding it can be
rebuilt from their config (``keras.models.clone_model``, ``bdl_tf.saving``).

Each head declares what :func:`bdl_tf.mc_predict` keeps of a pass (its ``kind`` and
``moments``): the mean and variance (``NormalHead``, kind ``"regression"``), the class
probabilities (``CategoricalHead``, ``"categorical"``) or the success probabilities
(``BernoulliHead``, ``"bernoulli"``). :func:`output_moments` does the same for the distributions
of other ``tfp.layers`` heads.
"""
from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf._validation import check_positive, check_positive_int, check_tensor_condition

tfd = tfp.distributions
tfpl = tfp.layers

__all__ = [
    "NormalHead",
    "CategoricalHead",
    "HeteroscedasticCategoricalHead",
    "BernoulliHead",
    "negative_log_likelihood",
    "output_moments",
    "positive_scale",
]


def _inner(distribution):
    """The distribution behind DistributionLambda's tensor-coercible proxy and ``Independent``."""
    distribution = getattr(distribution, "tensor_distribution", distribution)
    return distribution.distribution if isinstance(distribution, tfd.Independent) else distribution


def check_target_shape(y_true, distribution, expected=None):
    """y_true must have the distribution's shape batch + event exactly (or ``expected``): a (N,)
    target against a (N, 1) head would broadcast to (N, N) and sum a wrong loss."""
    if expected is None:
        expected = distribution.batch_shape.concatenate(distribution.event_shape)
    got = y_true.shape
    if got.rank is None or expected.rank is None:
        return
    if got.rank != expected.rank or not got.is_compatible_with(expected):
        hint = ""
        if isinstance(_inner(distribution), tfd.OneHotCategorical):
            hint = " (integer class labels? one-hot encode them: keras.utils.to_categorical(labels, num_classes))"
        elif got.rank == expected.rank - 1:
            hint = " (reshape the targets to (N, 1): y.reshape(-1, 1))"
        raise ValueError(
            f"y_true has shape {tuple(got)} but the head predicts {tuple(expected)} per batch; "
            f"targets must match the head's event shape {tuple(distribution.event_shape)}{hint}"
        )


def check_target_values(y_true, distribution):
    """Discrete heads: Bernoulli targets in {0, 1}; categorical targets one-hot rows."""
    inner = _inner(distribution)
    if isinstance(inner, tfd.Bernoulli):
        return check_tensor_condition(
            (y_true == 0) | (y_true == 1), "y_true for a Bernoulli head must hold 0s and 1s only"
        )
    if isinstance(inner, tfd.OneHotCategorical):
        binary = tf.reduce_all((y_true == 0) | (y_true == 1)) & tf.reduce_all(tf.reduce_sum(y_true, axis=-1) == 1)
        return check_tensor_condition(binary, "y_true for a CategoricalHead must be one-hot rows (keras.utils.to_categorical)")
    return None


@keras.saving.register_keras_serializable(package="bdl_tf")
def negative_log_likelihood(y_true, distribution):
    """Keras loss -log p(y|x) per example; ``distribution`` is the model's output head.

    ``y_true`` must have the head's shape exactly (batch + event shape: (N, 1) for
    ``NormalHead(1)``, one-hot (N, C) for ``CategoricalHead(C)``, 0/1 for ``BernoulliHead``):
    a mismatch raises instead of broadcasting.
    """
    if not isinstance(distribution, tfd.Distribution):
        raise TypeError(
            f"negative_log_likelihood needs the model's output distribution (a bdl_tf head), got {type(distribution).__name__}"
        )
    y_true = tf.cast(y_true, distribution.dtype)
    check_target_shape(y_true, distribution)
    check = check_target_values(y_true, distribution)
    with tf.control_dependencies([] if check is None else [check]):
        return -distribution.log_prob(tf.identity(y_true))


def positive_scale(raw, min_scale: float):
    """An unconstrained output as a scale: sigma = min_scale + softplus(raw) > min_scale."""
    return min_scale + tf.math.softplus(raw)


def output_moments(distribution):
    """(kind, mean, variance or None) of one pass of a distribution output, for ``mc_predict``:
    the declared moments of the head type the distribution belongs to."""
    inner = _inner(distribution)
    for head in (CategoricalHead, BernoulliHead):
        if isinstance(inner, head.distribution_types):
            return (head.kind, *head.moments(distribution))
    return (NormalHead.kind, *NormalHead.moments(distribution))


class _Head(tfpl.DistributionLambda):
    """A DistributionLambda whose distribution comes from ``make(params)`` and whose tensor value is its mean.

    ``kind`` and ``moments(distribution)`` declare what one Monte-Carlo pass contributes; the
    discrete heads also name the TFP distributions they build (``distribution_types``).
    """

    kind: str

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
        scale = positive_scale(raw_scale, self.min_scale)
        return tfd.Independent(tfd.Normal(loc=loc, scale=scale), reinterpreted_batch_ndims=1)

    kind = "regression"

    @staticmethod
    def moments(distribution):
        """Predictive mean mu(x) and variance sigma(x)^2 of one pass."""
        try:
            return distribution.mean(), distribution.variance()
        except NotImplementedError as error:
            raise TypeError(
                f"the model's output distribution {type(_inner(distribution)).__name__} has no mean/variance; "
                "use a head whose distribution implements them"
            ) from error

    def get_config(self):
        return {**super().get_config(), "min_scale": self.min_scale}


@keras.saving.register_keras_serializable(package="bdl_tf")
class CategoricalHead(_Head):
    """Categorical over ``event_size`` classes from as many logits; its mean is the one-hot
    probability vector, so ``mc_predict`` returns class probabilities.

    Labels for :func:`negative_log_likelihood` are one-hot vectors (``keras.utils.to_categorical``).
    """

    kind = "categorical"
    distribution_types = (tfd.OneHotCategorical, tfd.Categorical)

    @staticmethod
    def params_size(event_size):
        """Number of logits: one per class."""
        return event_size

    @staticmethod
    def moments(distribution):
        """Class probabilities p(y = c | x, theta_t) of one pass (no variance)."""
        return _inner(distribution).probs_parameter(), None

    def make(self, params):
        self._check_params(params, self.event_size)
        return tfd.OneHotCategorical(logits=params, dtype=params.dtype)


@keras.saving.register_keras_serializable(package="bdl_tf")
class BernoulliHead(_Head):
    """Independent Bernoulli outputs (binary labels or binary pixels) from ``event_size`` logits.

    ``mc_predict(...).classification()`` treats each output as a two-class problem {0, 1}.
    """

    kind = "bernoulli"
    distribution_types = (tfd.Bernoulli,)

    @staticmethod
    def params_size(event_size=1):
        """Number of logits: one per output."""
        return event_size

    @staticmethod
    def moments(distribution):
        """Success probabilities p(y = 1 | x, theta_t) of one pass (the variance p(1 - p) follows)."""
        return _inner(distribution).probs_parameter(), None

    def make(self, params):
        self._check_params(params, self.event_size)
        return tfd.Independent(tfd.Bernoulli(logits=params, dtype=params.dtype), reinterpreted_batch_ndims=1)


@keras.saving.register_keras_serializable(package="bdl_tf")
class HeteroscedasticCategoricalHead(CategoricalHead):
    """Kendall & Gal (2017)'s classification aleatoric uncertainty: Gaussian noise on the logits.

    From 2C inputs per example, logits f and scales sigma = min_scale + softplus(raw) (one per
    class), the head's distribution is the Monte-Carlo integrated predictive

        p(y = c | x) = E_eps[softmax(f + sigma * eps)_c] ~ 1/T sum_t softmax(f + sigma * eps_t)_c,

    eps_t ~ N(0, I), T = ``num_samples`` fresh draws per call, so its negative log-likelihood is their
    loss -log 1/T sum_t exp(log softmax(x_t)_c) (computed with a log-sum-exp).  sigma -> 0 gives
    the plain softmax cross-entropy; a large sigma spreads p towards 1/C ("loss attenuation": a
    misclassified example costs less with a larger sigma).  A ``OneHotCategorical`` on the averaged
    probabilities: ``mc_predict`` and the losses treat it as a ``CategoricalHead``.
    """

    def __init__(self, event_size, num_samples=100, min_scale=1e-3, **kwargs):
        self.num_samples = check_positive_int("num_samples", num_samples)
        self.min_scale = check_positive("min_scale", min_scale)
        super().__init__(event_size, **kwargs)

    @staticmethod
    def params_size(event_size):
        """Number of inputs: a logit and a raw logit scale per class."""
        return 2 * event_size

    def logit_scales(self, params):
        """The noise scales sigma = min_scale + softplus(raw) of the logits, (..., 2C) inputs -> (..., C):
        the per-class aleatoric scale the head learned (read off the layer before it)."""
        params = tf.convert_to_tensor(params)
        self._check_params(params, self.params_size(self.event_size))
        return positive_scale(tf.split(params, 2, axis=-1)[1], self.min_scale)

    def make(self, params):
        scale = self.logit_scales(params)  # checks the number of inputs
        logits = tf.split(params, 2, axis=-1)[0]
        noise = tf.random.normal(tf.concat([[self.num_samples], tf.shape(logits)], axis=0), dtype=logits.dtype)
        log_probs = tf.nn.log_softmax(logits + scale * noise, axis=-1)
        mean_log_probs = tf.reduce_logsumexp(log_probs, axis=0) - tf.math.log(tf.cast(self.num_samples, logits.dtype))
        return tfd.OneHotCategorical(logits=mean_log_probs, dtype=params.dtype)

    def get_config(self):
        return {**super().get_config(), "num_samples": self.num_samples, "min_scale": self.min_scale}
