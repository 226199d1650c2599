"""Benchmark: ways of drawing MC-dropout masks with TensorFlow's own ops, against the passes without dropout.

The floor that ``benchmarks/mc_sampling.py`` reports (the masks' random bits alone cost about a quarter
of the passes without dropout) says no mask sampler built from TensorFlow ops can bring MC dropout within
1.25x of those passes.  This script times the candidates that remain, each swapped in for
``bdl_tf.layers.bernoulli_dropout`` inside the same ``mc_predict`` run of the large configuration
(3 x 512 hidden, N = 1000, T = 100), against the same network without dropout:

  * shipped:      16 random bits per entry, compare, cast, multiply (``bernoulli_dropout``);
  * select:       the same bits, ``tf.where`` instead of cast-and-multiply;
  * whole words:  the bits drawn as whole 32-bit words of the mask's shape (no slice of a last half word);
  * XLA apply:    the same bits, compare-and-select compiled by XLA into one pass;
  * 8-bit masks:  8 random bits per entry (half the bits), q rounded to a multiple of 1/256: NOT exact to
                  2^-16 (a rate of 0.01 becomes 3/256), timed only to show that halving the bits is not enough.

    python benchmarks/mask_samplers.py              # two rounds, best of 5 runs each
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf
from mc_sampling import CONFIGS, build

import bdl_tf.layers as layers
from bdl_tf import set_seed
from bdl_tf.sampling import mc_predict

LARGE = CONFIGS["large (3 x 512, N=1000, T=100)"]


def _whole_words(inputs, seed, bits_per_entry):
    """Random integers of ``inputs``' shape, bits_per_entry wide, drawn as 32-bit words of shape (..., d * bits / 32)."""
    per_word = 32 // bits_per_entry
    shape = tf.shape(inputs)
    words = tf.random.stateless_uniform(tf.concat([shape[:-1], [inputs.shape[-1] // per_word]], 0), seed,
                                        minval=None, maxval=None, dtype=tf.int32)
    return tf.reshape(tf.bitcast(words, tf.uint16 if bits_per_entry == 16 else tf.uint8), shape)


def _threshold(rate, bits_per_entry):
    """(integer threshold, keep probability q) of masks of ``bits_per_entry`` random bits: 16 bits are the
    shipped ``keep_probability``; 8 bits round 1 - p to a multiple of 1/256 the same way."""
    levels = 2**bits_per_entry
    q = layers.keep_probability(rate) if bits_per_entry == layers.MASK_BITS else \
        max(1, min(levels, round((1.0 - rate) * levels))) / levels
    return round(q * levels), q


def select(inputs, rate, noise_shape=None, seed=None):
    keep, q = _threshold(rate, 16)
    bits = layers.random_uint16(tf.shape(inputs), layers.per_call_seed(seed))
    return tf.where(bits < tf.constant(keep, tf.uint16), inputs * (1.0 / q), 0.0)


def whole_words(inputs, rate, noise_shape=None, seed=None):
    keep, q = _threshold(rate, 16)
    bits = _whole_words(inputs, layers.per_call_seed(seed), 16)
    return inputs * (tf.cast(bits < tf.constant(keep, tf.uint16), inputs.dtype) * (1.0 / q))


@tf.function(jit_compile=True)
def _fused_apply(inputs, bits, keep, scale):
    return tf.where(bits < keep, inputs * scale, 0.0)


def xla_apply(inputs, rate, noise_shape=None, seed=None):
    keep, q = _threshold(rate, 16)
    bits = _whole_words(inputs, layers.per_call_seed(seed), 16)
    return _fused_apply(inputs, bits, tf.constant(keep, tf.uint16), tf.constant(1.0 / q))


def eight_bit(inputs, rate, noise_shape=None, seed=None):
    keep, q = _threshold(rate, 8)
    bits = _whole_words(inputs, layers.per_call_seed(seed), 8)
    return tf.where(bits < tf.constant(keep, tf.uint8), inputs * (1.0 / q), 0.0)


SAMPLERS = {
    "shipped (16-bit, cast x multiply)": layers.bernoulli_dropout,
    "select (16-bit, tf.where)": select,
    "whole words (16-bit, no slice)": whole_words,
    "XLA apply (16-bit, one pass)": xla_apply,
    "8-bit masks (inexact: 1/256)": eight_bit,
}


def interleaved_best_times(first, second, repeats):
    """The best times of two functions run alternately, so a drift of the machine's speed hits both alike."""
    first(), second()  # warm-up: tracing and compilation are not what is measured
    times = ([], [])
    for _ in range(repeats):
        for fn, store in zip((first, second), times):
            start = time.perf_counter()
            fn()
            store.append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2, help="rounds over all samplers (timings drift)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per sampler and round; the best is kept")
    args = parser.parse_args()
    hidden, inputs, n, t = LARGE["hidden"], LARGE["inputs"], LARGE["n"], LARGE["t"]
    set_seed(0)
    deterministic = build(hidden, inputs, None)
    x = tf.random.normal((n, inputs))
    shipped = layers.bernoulli_dropout
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores; large configuration {hidden}, N={n}, T={t}")
    try:
        for round_ in range(1, args.rounds + 1):
            print(f"\nround {round_} (each sampler timed alternately with the passes without dropout, best of {args.repeats})")
            for name, sampler in SAMPLERS.items():
                layers.bernoulli_dropout = sampler  # MCDropout.call looks the function up at call time
                set_seed(0)
                model = build(hidden, inputs)
                model.set_weights(deterministic.get_weights())
                base, seconds = interleaved_best_times(
                    lambda: mc_predict(deterministic, x, t, identical_passes="allow"),
                    lambda model=model: mc_predict(model, x, t), args.repeats)
                print(f"  {name:<34}: {seconds * 1e3:7.1f} ms against {base * 1e3:6.1f} ms without dropout: "
                      f"{seconds / base:.2f}x  (target <= 1.25)")
    finally:
        layers.bernoulli_dropout = shipped


if __name__ == "__main__":
    main()
