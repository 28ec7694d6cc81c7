"""Benchmark: lossbook.core.compare's vectorised paired bootstrap against lossbook.core.metrics.paired_bootstrap.

Both draw stratified paired resamples of one test set (each class resampled with
replacement at its own count) and score two runs on each. ``metrics.paired_bootstrap``
calls scikit-learn once per resample and metric; ``compare.bootstrap_differences``
scores all nine metrics of a chunk of resamples at once. The script times a few
resamples of the reference per metric, extrapolates to ``--n-boot``, times the
engine for all metrics at ``--n-boot``, and checks that the two intervals agree up to
Monte Carlo error. Not a test: timings depend on the machine and its load (CPU
seconds are printed beside wall seconds for that reason).

    python benchmarks/bench_compare.py --n 60000 --prevalence 0.003 --n-boot 2000
"""
from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=60_000, help="test rows")
    parser.add_argument("--prevalence", type=float, default=0.003)
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--reference-boot", type=int, default=40, help="resamples timed for the reference")
    args = parser.parse_args()

    import numpy as np

    from lossbook.core import metrics
    from lossbook.core.compare import METRICS, bootstrap_differences

    rng = np.random.default_rng(0)
    y = (rng.random(args.n) < args.prevalence).astype(int)
    a = 1 / (1 + np.exp(-(rng.normal(size=args.n) + 1.5 * y - 5)))
    b = 1 / (1 + np.exp(-(rng.normal(size=args.n) + 1.7 * y - 5)))
    print(f"{args.n} rows, {int(y.sum())} positives, {args.n_boot} resamples")

    wall, cpu = time.perf_counter(), time.process_time()
    reps = bootstrap_differences(y, a, b, threshold=0.05, n_boot=args.n_boot, seed=0)
    engine_wall, engine_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"compare.bootstrap_differences, all {len(METRICS)} metrics: {engine_wall:.1f} s wall, {engine_cpu:.1f} s CPU")

    total_wall = total_cpu = 0.0
    for name in ("roc_auc", "pr_auc", "brier"):  # the other six cost about as much again
        wall, cpu = time.perf_counter(), time.process_time()
        metrics.paired_bootstrap(name, y, a, b, n_boot=args.reference_boot, seed=0)
        total_wall += time.perf_counter() - wall
        total_cpu += time.process_time() - cpu
    scale = args.n_boot / args.reference_boot
    print(f"metrics.paired_bootstrap, 3 threshold-free metrics, extrapolated to {args.n_boot}: "
          f"{total_wall * scale:.0f} s wall, {total_cpu * scale:.0f} s CPU")

    reference = metrics.paired_bootstrap("roc_auc", y, a, b, n_boot=400, seed=0)
    lo, hi = np.percentile(reps["roc_auc"], [2.5, 97.5])
    print(f"ROC-AUC difference interval: engine [{lo:+.4f}, {hi:+.4f}], "
          f"metrics.paired_bootstrap (400 resamples) [{reference['ci_low']:+.4f}, {reference['ci_high']:+.4f}]")


if __name__ == "__main__":
    main()
