"""Bounds on log p(x) for a VAE: the ELBO and the importance-weighted bound (Burda et al. 2016).

With importance weights w_k = p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x):

- ELBO:  L_1 = E_q[log p(x|z)] - KL(q(z|x) || p(z))  = E[log w]
- IWAE:  L_K = E[log (1/K) sum_k w_k]  with  L_1 <= L_K <= L_{K+1} <= log p(x),  L_K -> log p(x).

Everything is per example and in nats. The estimators here evaluate a trained
:class:`bdl_tf.vae.VAE` (or CVAE) on a data set in batches and, for L_K, in chunks of samples,
combining the chunks with a running logsumexp so that memory stays bounded for K = 5000.
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from bdl_tf._random import seed_stream
from bdl_tf._validation import check_positive_int
from bdl_tf.progress import progress_iter
from bdl_tf.vae.vae import VAE

__all__ = ["elbo", "importance_weighted_bound"]

#: Default budget for one chunk of the importance-weighted bound: samples x batch x pixels floats.
_CHUNK_ELEMENTS = 2**23


def _batches(x, labels, batch_size):
    for start in range(0, len(x), batch_size):
        stop = start + batch_size
        yield x[start:stop], None if labels is None else labels[start:stop]


def _check_data(model, x, labels, batch_size):
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a bdl_tf.vae.VAE or CVAE, got {type(model).__name__}")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch of inputs (first axis = examples), got shape {x.shape}")
    if labels is not None:
        labels = np.asarray(labels)
        if len(labels) != len(x):
            raise ValueError(f"labels must have one entry per row of x ({len(x)}), got {len(labels)}")
    return x, labels, check_positive_int("batch_size", batch_size)


def elbo(model, x, labels=None, num_samples=1, batch_size=256, seed=None):
    """Per-example ELBO E_q[log p(x|z)] - KL(q || p) in nats, the expectation estimated with
    ``num_samples`` draws of z and the KL exact where TFP has it. Returns a NumPy array (N,)."""
    x, labels, batch_size = _check_data(model, x, labels, batch_size)
    num_samples = check_positive_int("num_samples", num_samples)
    seeds = seed_stream(seed)
    out = []
    for xb, cb in _batches(x, labels, batch_size):
        reconstruction, kl = model.elbo_terms(xb, cb, num_samples=num_samples, seed=next(seeds))
        out.append((-reconstruction - kl).numpy())
    return np.concatenate(out)


def importance_weighted_bound(model, x, labels=None, num_samples=5000, batch_size=100, chunk_size=None, seed=None):
    """Per-example importance-weighted estimate of log p(x) in nats with K = ``num_samples``:
    log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x). Returns a NumPy array (N,).

    The K samples are drawn in chunks of ``chunk_size`` (default: as many as fit in about 2^23
    decoded pixels per chunk) and combined with a running logsumexp, so memory does not grow
    with K. K = 1 is the single-sample ELBO; the estimate does not decrease with K in expectation.
    """
    x, labels, batch_size = _check_data(model, x, labels, batch_size)
    num_samples = check_positive_int("num_samples", num_samples)
    if chunk_size is None:
        pixels = int(np.prod(x.shape[1:]))
        chunk_size = max(1, _CHUNK_ELEMENTS // (batch_size * pixels))
    chunk_size = min(check_positive_int("chunk_size", chunk_size), num_samples)
    seeds = seed_stream(seed)
    out = []
    batches = progress_iter(_batches(x, labels, batch_size), total=-(-len(x) // batch_size),
                            description=f"importance-weighted bound, K = {num_samples}")
    for xb, cb in batches:
        running = None  # logsumexp of the log weights seen so far, per example
        for start in range(0, num_samples, chunk_size):
            k = min(chunk_size, num_samples - start)
            chunk = tf.reduce_logsumexp(model.log_importance_weights(xb, cb, num_samples=k, seed=next(seeds)), axis=0)
            running = chunk if running is None else tf.reduce_logsumexp(tf.stack([running, chunk]), axis=0)
        out.append((running - math.log(num_samples)).numpy())
    return np.concatenate(out)
