"""Monte-Carlo summaries accumulated pass by pass, so memory is O(N) whatever the number of passes T.

:func:`bdl_tf.mc_predict` with ``keep_samples=False`` adds each compiled step's passes into running
sums (float64) instead of keeping the (T, N, ...) samples:

- regression: sum_t mu_t, sum_t mu_t^2, sum_t sigma_t^2  ->  mean, epistemic, aleatoric;
- class probabilities: sum_t p_t and sum_t H[p_t]  ->  predictive probabilities, expected entropy;
- with targets ``y``: a running logsumexp_t log p(y | x, theta_t), the MC predictive log-likelihood
  log (1/T) sum_t p(y | x, theta_t).

The per-pass statistics here are the terms of those sums; :class:`MCSummary` turns the sums into
the same :class:`~bdl_tf.uncertainty.RegressionUncertainty` / ``ClassificationUncertainty`` as the
samples would give.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from bdl_tf._validation import check_positive
from bdl_tf.uncertainty import ClassificationUncertainty, RegressionUncertainty, entropy

__all__ = ["MCSummary", "pass_statistics"]


def _entropy_terms(probs):
    """-p log p elementwise (0 log 0 = 0)."""
    return -tf.math.xlogy(probs, probs)


def pass_statistics(kind: str, moments: list) -> list:
    """The per-pass terms whose sums over passes give the summaries of ``kind`` (see module doc)."""
    first = moments[0]
    if kind == "categorical":
        return [first, tf.reduce_sum(_entropy_terms(first), axis=-1)]
    if kind == "bernoulli":
        return [first, _entropy_terms(first) + _entropy_terms(1.0 - first)]
    return [first, tf.square(first), *moments[1:]]  # regression: + the head's variance


@dataclass(frozen=True)
class MCSummary:
    """Summaries of T Monte-Carlo passes over N inputs, without the samples.

    Attributes:
        kind: as :attr:`bdl_tf.MCPrediction.kind`.
        num_samples: T.
        sums: the per-example sums over passes of :func:`pass_statistics`, float64.
        log_likelihood: per example log (1/T) sum_t p(y | x, theta_t) when ``y`` was given, else None.
    """

    kind: str
    num_samples: int
    sums: tuple
    log_likelihood: np.ndarray | None = None

    @property
    def mean(self) -> np.ndarray:
        """1/T sum_t of the per-pass mean (or probabilities), shape (N, ...)."""
        return self.sums[0] / self.num_samples

    def regression(self, noise_variance=None) -> RegressionUncertainty:
        """Aleatoric/epistemic split; ``noise_variance`` (1/tau) for models without a variance head."""
        if self.kind in ("categorical", "bernoulli"):
            raise TypeError(f"regression() needs a regression model; this one predicts {self.kind} probabilities")
        if (self.kind == "regression") == (noise_variance is not None):
            raise ValueError("give noise_variance (1/tau) exactly when the model has no variance head")
        mean = self.mean
        epistemic = np.maximum(self.sums[1] / self.num_samples - mean**2, 0.0)  # round-off only
        if noise_variance is None:
            aleatoric = self.sums[2] / self.num_samples
        else:
            aleatoric = np.full(mean.shape, check_positive("noise_variance", noise_variance))
        return RegressionUncertainty(mean=mean, aleatoric=aleatoric, epistemic=epistemic)

    def classification(self) -> ClassificationUncertainty:
        """Predictive probabilities and the entropy split; Bernoulli outputs as two classes [1 - p, p]."""
        if self.kind not in ("categorical", "bernoulli"):
            raise TypeError("classification() needs class probabilities (a CategoricalHead or BernoulliHead model)")
        probs = self.mean
        if self.kind == "bernoulli":
            probs = np.stack([1.0 - probs, probs], axis=-1)
        total = entropy(probs)
        aleatoric = self.sums[1] / self.num_samples
        return ClassificationUncertainty(
            probs=probs,
            predictive_entropy=total,
            expected_entropy=aleatoric,
            mutual_information=np.maximum(total - aleatoric, 0.0),
        )

