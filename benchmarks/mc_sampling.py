"""Benchmark: T Monte-Carlo dropout passes with ``bdl_tf.mc_predict`` against the naive loop and the machine.

For two models it times
  * naive:  [model(x, training=True) for _ in range(T)]   (a Python loop of T eager calls),
  * tiled:  one compiled forward pass of the T*N tiled batch (a reference for what one big pass costs),
  * ours:   bdl_tf.sampling.mc_predict(model, x, T),
and compares the FLOP rate ours reaches with the peak matrix-multiply rate measured in the same run
(a compiled square float32 matmul).  FLOPs counted: 2 * in * out per dense layer per row.

    python benchmarks/mc_sampling.py            # both configurations
    python benchmarks/mc_sampling.py --repeats 5
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf
import tf_keras as keras

from bdl_tf import set_seed
from bdl_tf.layers import MCDropout
from bdl_tf.sampling import mc_predict

CONFIGS = {
    "course (2 x 64, N=500, T=200)": dict(hidden=(64, 64), n=500, t=200, inputs=1),
    "large (3 x 512, N=1000, T=100)": dict(hidden=(512, 512, 512), n=1000, t=100, inputs=512),
}


def build(hidden, inputs, rate=0.1):
    layers = [keras.Input((inputs,))]
    for units in hidden:
        layers += [keras.layers.Dense(units, activation="relu"), MCDropout(rate)]
    layers.append(keras.layers.Dense(1))
    return keras.Sequential(layers)


def flops_per_row(hidden, inputs):
    sizes = (inputs, *hidden, 1)
    return sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def best_time(fn, repeats):
    fn()  # warm-up: tracing and compilation are not what is measured
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_peak(repeats, sizes=(1024, 2048, 4096)):
    """The best float32 FLOP rate of a compiled square matmul over a few sizes: the machine's limit."""
    best = 0.0
    for size in sizes:
        a = tf.random.normal((size, size))
        b = tf.random.normal((size, size))
        matmul = tf.function(lambda a=a, b=b: tf.reduce_sum(tf.matmul(a, b)))
        best = max(best, 2 * size**3 / best_time(lambda: matmul().numpy(), repeats))
    return best


def run(name, hidden, n, t, inputs, repeats, peak):
    set_seed(0)
    model = build(hidden, inputs)
    x = tf.random.normal((n, inputs))
    tiled = tf.function(lambda: model(tf.tile(x, [t, 1]), training=False))

    naive = best_time(lambda: [model(x, training=True).numpy() for _ in range(t)], max(1, repeats // 2))
    tiled_time = best_time(lambda: tiled().numpy(), repeats)
    ours = best_time(lambda: mc_predict(model, x, t), repeats)
    rate = t * n * flops_per_row(hidden, inputs) / ours

    print(f"\n{name}")
    print(f"  naive loop of T calls : {naive * 1e3:9.1f} ms")
    print(f"  one tiled T*N pass    : {tiled_time * 1e3:9.1f} ms")
    print(f"  mc_predict            : {ours * 1e3:9.1f} ms")
    print(f"  speed-up vs naive     : {naive / ours:9.1f} x")
    print(f"  speed vs tiled pass   : {tiled_time / ours:9.2f} x  (>= 1 means not slower)")
    print(f"  FLOP rate             : {rate / 1e9:9.1f} GFLOP/s = {rate / peak:.0%} of the matmul peak")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per variant; the best is kept")
    args = parser.parse_args()
    peak = matmul_peak(args.repeats)
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores")
    print(f"peak matmul (float32, compiled, best of 1024^2..4096^2): {peak / 1e9:.1f} GFLOP/s")
    for name, config in CONFIGS.items():
        run(name, repeats=args.repeats, peak=peak, **config)


if __name__ == "__main__":
    main()
