"""Seeds for TensorFlow Probability's stateless sampling, shared by the samplers of the library."""
from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp

from bdl_tf._validation import check_seed


def stateless_seed(seed, name: str = "seed"):
    """An integer seed as TFP's stateless seed (a pair of int32), so the same seed gives the same
    samples every time; None stays None (TensorFlow's stateful sampling); a tensor is taken as
    already stateless."""
    if tf.is_tensor(seed):
        return seed
    seed = check_seed(name, seed, allow_none=True)
    return None if seed is None else tf.constant([seed, 0], dtype=tf.int32)


def seed_stream(seed, name: str = "seed"):
    """Endless stateless seeds derived from ``seed`` (or None for TensorFlow's stateful sampling)."""
    current = stateless_seed(seed, name)
    if current is None:
        while True:
            yield None
    while True:
        current, out = tfp.random.split_seed(current, n=2)
        yield out
