"""Benchmark: T Monte-Carlo dropout passes with ``bdl_tf.mc_predict`` against the naive loop and the machine.

For two models (Dense + ReLU layers, ``MCDropout`` after each hidden layer) it times
  * naive:         [model(x, training=True) for _ in range(T)]   (a Python loop of T eager calls),
  * tiled:         one compiled forward pass of the T*N tiled batch,
  * ours:          bdl_tf.sampling.mc_predict(model, x, T),
  * float masks:   mc_predict of the same model with Keras' own Dropout forced on (a float32
                   uniform per mask entry, as ``MCDropout`` was built before its 16-bit masks),
  * deterministic: mc_predict of the same network WITHOUT dropout (same weights, same T*N rows,
                   same compiled loop): what the passes would cost if masks were free,
  * matmuls:       the same loop of bare matmuls at the model's own layer shapes (rows per step x
                   in x out, no bias, activation or dropout): the machine's limit for this model,
  * mask bits:     the same loop drawing only the masks' random bits (16 per entry, Philox): the
                   floor for exact masks at this resolution with TensorFlow's generators,
and prints MC-dropout / deterministic (the target is <= 1.25) and the FLOP rates against the matmul
rate at the model's shapes and against the square-matmul peak.  FLOPs: 2 * in * out per layer per row.

    python benchmarks/mc_sampling.py            # both configurations
    python benchmarks/mc_sampling.py --repeats 9
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf
import tf_keras as keras

from bdl_tf import set_seed
from bdl_tf.layers import MCDropout, per_call_seed, random_uint16
from bdl_tf.sampling import mc_predict, pass_schedule

CONFIGS = {
    "course (2 x 64, N=500, T=200)": dict(hidden=(64, 64), n=500, t=200, inputs=1),
    "large (3 x 512, N=1000, T=100)": dict(hidden=(512, 512, 512), n=1000, t=100, inputs=512),
}


class KerasDropoutOn(keras.layers.Dropout):
    """Keras' Dropout (float32 uniforms, tf.nn.dropout) forced on: the mask sampler MCDropout replaced."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)


def build(hidden, inputs, dropout=MCDropout, rate=0.1):
    layers = [keras.Input((inputs,))]
    for units in hidden:
        layers.append(keras.layers.Dense(units, activation="relu"))
        if dropout is not None:
            layers.append(dropout(rate))
    layers.append(keras.layers.Dense(1))
    return keras.Sequential(layers)


def layer_sizes(hidden, inputs):
    sizes = (inputs, *hidden, 1)
    return list(zip(sizes[:-1], sizes[1:]))


def flops_per_row(hidden, inputs):
    return sum(2 * a * b for a, b in layer_sizes(hidden, inputs))


def best_time(fn, repeats):
    fn()  # warm-up: tracing and compilation are not what is measured
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_peak(repeats, sizes=(1024, 2048, 4096)):
    """The best float32 FLOP rate of a compiled square matmul over a few sizes."""
    best = 0.0
    for size in sizes:
        a = tf.random.normal((size, size))
        b = tf.random.normal((size, size))
        matmul = tf.function(lambda a=a, b=b: tf.reduce_sum(tf.matmul(a, b)))
        best = max(best, 2 * size**3 / best_time(lambda: matmul().numpy(), repeats))
    return best


def matmul_chain(hidden, inputs, rows, steps):
    """A compiled loop of ``steps`` steps, each the model's matmuls on a (rows, inputs) batch and nothing else."""
    x = tf.random.normal((rows, inputs))
    kernels = [tf.random.normal((a, b)) / a**0.5 for a, b in layer_sizes(hidden, inputs)]

    @tf.function
    def run():
        total = tf.constant(0.0)
        for step in tf.range(steps):
            h = x + tf.cast(step, tf.float32)  # a different batch per step, so no step is folded away
            for kernel in kernels:
                h = tf.matmul(h, kernel)
            total += tf.reduce_sum(h)
        return total

    return lambda: run().numpy()


def mask_bits_loop(hidden, rows, steps):
    """A compiled loop of ``steps`` steps, each drawing the random bits of one mask per hidden layer."""

    @tf.function
    def run():
        total = tf.constant(0, tf.int32)
        for _ in tf.range(steps):
            for units in hidden:
                total += tf.cast(random_uint16(tf.constant([rows, units]), per_call_seed())[0, 0], tf.int32)
        return total

    return lambda: run().numpy()


def run(name, hidden, n, t, inputs, repeats, peak):
    set_seed(0)
    model = build(hidden, inputs)
    float_masks, deterministic = build(hidden, inputs, KerasDropoutOn), build(hidden, inputs, None)
    float_masks.set_weights(model.get_weights())
    deterministic.set_weights(model.get_weights())
    x = tf.random.normal((n, inputs))
    tiled = tf.function(lambda: model(tf.tile(x, [t, 1]), training=False))
    batch, passes, steps = pass_schedule(n, t)

    naive = best_time(lambda: [model(x, training=True).numpy() for _ in range(t)], max(1, repeats // 2))
    tiled_time = best_time(lambda: tiled().numpy(), repeats)
    ours = best_time(lambda: mc_predict(model, x, t), repeats)
    old = best_time(lambda: mc_predict(float_masks, x, t), repeats)
    det = best_time(lambda: mc_predict(deterministic, x, t, identical_passes="allow"), repeats)
    bare = best_time(matmul_chain(hidden, inputs, batch * passes, steps), repeats)
    bits = best_time(mask_bits_loop(hidden, batch * passes, steps), repeats)
    work = steps * passes * batch * flops_per_row(hidden, inputs)  # the rows mc_predict computes

    print(f"\n{name}: {steps} compiled steps of {passes} x {batch} rows")
    print(f"  naive loop of T calls     : {naive * 1e3:9.1f} ms")
    print(f"  one tiled T*N pass        : {tiled_time * 1e3:9.1f} ms")
    print(f"  mc_predict, float masks   : {old * 1e3:9.1f} ms")
    print(f"  mc_predict, MCDropout     : {ours * 1e3:9.1f} ms")
    print(f"  mc_predict, no dropout    : {det * 1e3:9.1f} ms")
    print(f"  bare matmuls, same shapes : {bare * 1e3:9.1f} ms")
    print(f"  mask bits alone           : {bits * 1e3:9.1f} ms")
    print(f"  speed-up vs naive         : {naive / ours:9.1f} x")
    print(f"  speed-up vs float masks   : {old / ours:9.2f} x")
    print(f"  MC dropout / no dropout   : {ours / det:9.2f} x  (target <= 1.25; the bits alone add {bits / det:.2f})")
    print(f"  FLOP rate                 : {work / ours / 1e9:9.1f} GFLOP/s = {bare / ours:.0%} of the matmul rate "
          f"at the model's shapes ({work / bare / 1e9:.1f} GFLOP/s), {work / ours / peak:.0%} of the square peak")


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
