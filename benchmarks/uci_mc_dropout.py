"""MC-dropout UCI regression benchmark (Gal & Ghahramani 2016, Table 1) with bdl_tf.

    python benchmarks/uci_mc_dropout.py --data ../shared/data/uci/yacht            # full protocol
    python benchmarks/uci_mc_dropout.py --data ../shared/data/uci/yacht --quick    # CI-sized run
    python benchmarks/uci_mc_dropout.py --data yacht                               # download + cache

``--data`` is a folder in the benchmark's layout, or the name of one of the benchmark
repository's data sets (downloaded once into the cache). The protocol is in
``benchmarks/uci_protocol.py``; this script runs it on the first ``--splits`` splits and prints one
row (test RMSE and test log-likelihood, mean +- standard error over the splits) beside the
published MC-dropout rows, and its own wall time.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from bdl_tf.datasets.uci import UCI_DATASET_NAMES, load_uci, load_uci_folder

from uci_protocol import BenchmarkResult, ProtocolSettings, run_benchmark

# Published MC-dropout rows: (RMSE mean, s.e., test LL mean, s.e.), keyed by the benchmark's folder name.
# Gal & Ghahramani (2016), Table 1.
PAPER = {
    "bostonHousing": (2.97, 0.19, -2.46, 0.06),
    "concrete": (5.23, 0.12, -3.04, 0.02),
    "energy": (1.66, 0.04, -1.99, 0.02),
    "kin8nm": (0.10, 0.00, 0.95, 0.01),
    "naval-propulsion-plant": (0.01, 0.00, 3.80, 0.01),
    "power-plant": (4.02, 0.04, -2.80, 0.01),
    "protein-tertiary-structure": (4.36, 0.01, -2.89, 0.00),
    "wine-quality-red": (0.62, 0.01, -0.93, 0.01),
    "yacht": (1.11, 0.09, -1.55, 0.03),
}
# The benchmark authors' later grid-search runs with 100 x n_epochs (their results files).
LATER = {
    "yacht": (0.67, 0.05, -1.25, 0.01),
}

QUICK = dict(splits=1, epochs_multiplier=10, num_samples=1_000)


def corners_of_grid(dataset):
    """The data set with its grids cut to their extremes: {min, max} dropout rate x {min, max} tau."""
    def extremes(values):
        return np.unique([values.min(), values.max()])

    return dataclasses.replace(
        dataset, dropout_rates=extremes(dataset.dropout_rates), tau_values=extremes(dataset.tau_values)
    )


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="data set folder, or a benchmark data set name to download")
    parser.add_argument("--splits", type=int, default=None, help="run the first K splits (default: all)")
    parser.add_argument("--epochs-multiplier", type=int, default=None, help="epochs = this x n_epochs (default 100)")
    parser.add_argument("--samples", type=int, default=None, help="Monte-Carlo passes T (default 10,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true",
        help=f"CI-sized run: {QUICK['splits']} split, {QUICK['epochs_multiplier']} x n_epochs, "
        f"T = {QUICK['num_samples']}, grid cut to its corners (explicit options win)",
    )
    return parser.parse_args(argv)


def load(data: str):
    """A folder path if it exists, else a benchmark data set name."""
    if Path(data).is_dir() or data not in UCI_DATASET_NAMES:
        return load_uci_folder(data)
    return load_uci(data)


def _cell(mean, se, digits=2) -> str:
    return f"{mean:.{digits}f} +- {se:.{digits}f}"


def format_rows(result: BenchmarkResult) -> list[str]:
    """The measured row and the published rows for the same data set, as aligned text."""
    rows = [("", "RMSE", "test log-likelihood")]
    rmse, ll = result.rmse, result.log_likelihood
    rows.append((f"bdl_tf ({len(result.splits)} splits)", _cell(*rmse), _cell(*ll)))
    for label, table in (("Gal & Ghahramani 2016", PAPER), ("authors' later runs", LATER)):
        if result.name in table:
            r, r_se, l, l_se = table[result.name]
            rows.append((label, _cell(r, r_se), _cell(l, l_se)))
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    return [f"{result.name:<12} " + "  ".join(cell.ljust(w) for cell, w in zip(row, width)) for row in rows]


def main(argv=None) -> BenchmarkResult:
    args = parse_args(argv)
    start = time.perf_counter()
    dataset = load(args.data)
    if args.quick:
        dataset = corners_of_grid(dataset)

    def pick(value, quick_value, default):
        return value if value is not None else (quick_value if args.quick else default)

    defaults = ProtocolSettings()
    settings = ProtocolSettings(
        epochs_multiplier=pick(args.epochs_multiplier, QUICK["epochs_multiplier"], defaults.epochs_multiplier),
        num_samples=pick(args.samples, QUICK["num_samples"], defaults.num_samples),
        seed=args.seed,
    )
    n_splits = pick(args.splits, QUICK["splits"], dataset.n_splits)
    if not 1 <= n_splits <= dataset.n_splits:
        raise SystemExit(f"--splits must be in [1, {dataset.n_splits}], got {n_splits}")
    grid = f"{dataset.dropout_rates.size} dropout rates x {dataset.tau_values.size} tau values"
    print(
        f"{dataset.name}: {len(dataset.y)} rows, {n_splits} of {dataset.n_splits} splits, {grid}, "
        f"{settings.epochs_multiplier} x {dataset.n_epochs} epochs, T = {settings.num_samples}",
        flush=True,
    )

    def progress(split):
        print(
            f"  split {split.index:2d}: RMSE {split.test.rmse:.3f}  LL {split.test.log_likelihood:.3f}  "
            f"(p = {split.grid.dropout_rate:g}, tau = {split.grid.tau:g})  {split.seconds:.0f} s",
            flush=True,
        )

    result = run_benchmark(dataset, range(n_splits), settings, on_split=progress)
    print("\n".join(format_rows(result)))
    print(f"wall time {time.perf_counter() - start:.0f} s ({os.cpu_count()} CPU cores seen)")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
