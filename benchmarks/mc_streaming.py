"""Benchmark: streamed Monte-Carlo summaries (``mc_predict(keep_samples=False)``) against kept samples.

A 10-class MC-dropout classifier (20 -> 64 -> 64 -> 10) on N inputs. Each measurement runs in its own
Python process, so its peak resident memory (``VmHWM``, reset after the model is built and the
function compiled) is its own:

  * streamed, T = 10,000 over N = 10,000: memory and time (the samples would be T x N x 10 floats = 4 GB);
  * streamed and kept at T = --compare-t (default 500, 200 MB of samples): seconds per pass, the ratio.

    PYTHONPATH=. python benchmarks/mc_streaming.py            # the issue's T = N = 10,000
    PYTHONPATH=. python benchmarks/mc_streaming.py --quick    # T = N = 1,000, a minute
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CLASSES = 10


def _resident_mb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure(n, t, keep_samples):
    """One measurement in this process: seconds and the peak memory added by mc_predict."""
    import numpy as np
    import tf_keras as keras

    import bdl_tf

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((20,)), keras.layers.Dense(64, "relu"), bdl_tf.MCDropout(0.1), keras.layers.Dense(64, "relu"),
        bdl_tf.MCDropout(0.1), keras.layers.Dense(CLASSES), bdl_tf.CategoricalHead(CLASSES),
    ])
    x = np.random.default_rng(0).normal(size=(n, 20)).astype(np.float32)
    bdl_tf.mc_predict(model, x, 2, keep_samples=keep_samples)  # trace for these shapes outside the measurement
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset the peak resident set size to the current one
    before = _resident_mb("VmRSS")
    start = time.perf_counter()
    result = bdl_tf.mc_predict(model, x, t, keep_samples=keep_samples).classification()
    seconds = time.perf_counter() - start
    assert result.probs.shape == (n, CLASSES)
    return {"seconds": seconds, "peak_mb": _resident_mb("VmHWM"), "added_mb": _resident_mb("VmHWM") - before}


def _in_subprocess(n, t, keep_samples):
    command = [sys.executable, __file__, "--worker", json.dumps([n, t, keep_samples])]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="T = N = 1,000 instead of 10,000")
    parser.add_argument("--compare-t", type=int, default=500, help="T for the streamed-vs-kept timing")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(*json.loads(args.worker))))
        return None
    size = 1_000 if args.quick else 10_000
    big = _in_subprocess(size, size, False)
    streamed = _in_subprocess(size, args.compare_t, False)
    kept = _in_subprocess(size, args.compare_t, True)
    samples_mb = size * size * CLASSES * 4 / 2**20
    print(f"10-class MC-dropout classifier, N = {size:,} inputs, {os.cpu_count()} CPU cores")
    print(f"streamed, T = {size:,}: {big['seconds']:.1f} s, peak resident {big['peak_mb']:.0f} MB "
          f"(+{big['added_mb']:.0f} MB during mc_predict; the samples alone would be {samples_mb:,.0f} MB)")
    per_pass = {name: r["seconds"] / args.compare_t for name, r in (("streamed", streamed), ("kept", kept))}
    print(f"T = {args.compare_t}: streamed {per_pass['streamed'] * 1e3:.2f} ms/pass (+{streamed['added_mb']:.0f} MB), "
          f"kept samples {per_pass['kept'] * 1e3:.2f} ms/pass (+{kept['added_mb']:.0f} MB)")
    print(f"time ratio streamed / kept: {per_pass['streamed'] / per_pass['kept']:.2f} (<= 1 means not slower); "
          f"streamed at T = {size:,}: {big['seconds'] / size / per_pass['kept']:.2f} x the kept ms/pass")
    return {"big": big, "streamed": streamed, "kept": kept}


if __name__ == "__main__":
    main()
