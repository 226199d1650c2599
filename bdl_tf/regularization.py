"""Regularisation strengths derived from the data size: the most common bug in Bayesian deep learning.

Both follow from writing the training loss per example: the ELBO divided by N,
    loss = 1/N sum_i -log p(y_i|x_i, theta) + 1/N KL(q(theta) || p(theta)),
so every prior/KL term is divided by the number of training examples N.
"""
from __future__ import annotations

from bdl_tf._validation import check_positive, check_positive_int, check_rate

__all__ = ["dropout_weight_decay", "kl_weight", "model_precision"]


def dropout_weight_decay(length_scale, dropout_rate, n_train, tau) -> float:
    """L2 coefficient lambda = l^2 (1 - p) / (2 N tau) for a layer whose input is dropped with rate p.

    Gal & Ghahramani (2016): MC dropout with prior length-scale l and model precision tau matches
    a Gaussian prior on the weights when the training loss is half the mean squared error,
    (1 / 2N) sum_n ||y_n - f(x_n)||^2, plus lambda ||W||^2.  Use it as
    ``kernel_regularizer=keras.regularizers.l2(lambda)``; Keras' ``l2(lambda)`` adds lambda * sum(W^2)
    to the loss, exactly this term.  Other losses rescale it: Keras' ``"mse"`` has no 1/2, so it
    matches 2 lambda; the Gaussian NLL with precision tau is tau times half the squared error, so it
    matches tau lambda = l^2 (1 - p) / (2N).

    Which kernel: the formula is derived for W = M diag(z) with unscaled masks z, and it is the
    coefficient of Gal's UCI code.  ``MCDropout`` (like Keras' Dropout) scales kept units by
    1 / (1 - p), so its trained kernel is K = (1 - p) M, and the matching penalty on K is
    l^2 / (2 N tau (1 - p)): larger by 1 / (1 - p)^2 (1.23x at p = 0.1).  This function keeps
    the paper's coefficient, which on K is the matching penalty of a length-scale l (1 - p).

    Args:
        length_scale: prior length-scale l > 0 (prior W ~ N(0, 1/l^2)).
        dropout_rate: p in [0, 1), the probability of dropping the layer's inputs.
        n_train: N, the number of training examples.
        tau: model precision tau > 0 (1 / observation-noise variance, in standardised units).
    """
    l = check_positive("length_scale", length_scale)
    p = check_rate("dropout_rate", dropout_rate)
    n = check_positive_int("n_train", n_train)
    t = check_positive("tau", tau)
    return l**2 * (1.0 - p) / (2.0 * n * t)


def model_precision(length_scale, dropout_rate, n_train, weight_decay) -> float:
    """Inverse of :func:`dropout_weight_decay`: tau = l^2 (1 - p) / (2 N lambda)."""
    l = check_positive("length_scale", length_scale)
    p = check_rate("dropout_rate", dropout_rate)
    n = check_positive_int("n_train", n_train)
    lam = check_positive("weight_decay", weight_decay)
    return l**2 * (1.0 - p) / (2.0 * n * lam)


def kl_weight(n_train) -> float:
    """KL weight 1 / N for variational layers (``DenseVariational(kl_weight=...)``, Flipout divergence fns).

    With the NLL averaged over examples, the KL of the whole network is counted once per epoch,
    i.e. divided by N in every mini-batch loss; forgetting it makes the prior N times too strong.
    """
    return 1.0 / check_positive_int("n_train", n_train)
