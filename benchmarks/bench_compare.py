"""Benchmark: time and memory of lossbook.core.compare.compare on one large test set.

``compare`` draws stratified paired resamples from the package's one bootstrap
engine (:func:`lossbook.core.metrics.stratified_resamples`) and scores both runs
on every resample from the weight of each class at each distinct score, so its
memory grows linearly with the number of rows (the earlier engine held an
``n_pos x n_pos`` matrix). The script reports wall and CPU seconds, the peak of
memory allocated by Python and NumPy during the call (``tracemalloc``) and the
process's peak resident memory, and checks the ROC-AUC interval against
scikit-learn's per-resample ``roc_auc_score`` on the first resamples. Not a
test: timings depend on the machine and its load.

    python benchmarks/bench_compare.py --n 1000000 --prevalence 0.003 --n-boot 2000
"""
from __future__ import annotations

import argparse
import resource
import time
import tracemalloc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="test rows")
    parser.add_argument("--prevalence", type=float, default=0.003)
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--check-boot", type=int, default=5, help="resamples re-scored with scikit-learn")
    args = parser.parse_args()

    import numpy as np
    from sklearn.metrics import roc_auc_score

    from lossbook.core import metrics
    from lossbook.core.compare import bootstrap_differences, compare

    rng = np.random.default_rng(0)
    y = (rng.random(args.n) < args.prevalence).astype(int)
    a = 1 / (1 + np.exp(-(rng.normal(size=args.n) + 1.5 * y - 5)))
    b = 1 / (1 + np.exp(-(rng.normal(size=args.n) + 1.7 * y - 5)))
    print(f"{args.n} rows, {int(y.sum())} positives, {args.n_boot} resamples")

    tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    result = compare(y, a, b, names=("A", "B"), threshold=0.05, n_boot=args.n_boot, seed=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    inputs = (y.nbytes + a.nbytes + b.nbytes) / 2**20
    print(f"compare(): {wall:.1f} s wall, {cpu:.1f} s CPU; peak allocated during the call "
          f"{peak / 2**20:.0f} MiB (inputs {inputs:.0f} MiB); process peak resident {rss:.0f} MiB")
    print(result.table[["metric", "diff", "ci_low", "ci_high"]].round(4).to_string(index=False))

    # The engine's ROC-AUC on the first resamples equals scikit-learn's on the same rows.
    reps = bootstrap_differences(y, a, b, threshold=0.05, n_boot=args.check_boot, seed=0)
    idx = np.concatenate(list(metrics.stratified_resamples(y, args.check_boot, seed=0)))
    expected = [roc_auc_score(y[i], b[i]) - roc_auc_score(y[i], a[i]) for i in idx]
    print(f"largest |engine - scikit-learn| over {args.check_boot} resamples: "
          f"{np.max(np.abs(reps['roc_auc'].to_numpy() - expected)):.2e}")


if __name__ == "__main__":
    main()
