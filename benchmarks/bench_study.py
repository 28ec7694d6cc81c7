"""Benchmark: wall time of the `lossbook study` grid, serial against a Dask LocalCluster.

Runs the study (``lossbook.studies.tabular.run_study``, what ``notebooks/study.py`` calls)
on the imbalanced breast-cancer example for each executor, each from an empty cache,
and prints wall seconds, this process's CPU seconds (workers' CPU is not included for
Dask) and the load average before and after, then checks that the results are
byte-identical. Not a test: wall times depend on the machine and on what else runs on
it (the book's machine is shared), so compare runs made at the same time only.

    python benchmarks/bench_study.py --profile full --workers 2
    python benchmarks/bench_study.py --profile quick --executors serial
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def run_once(executor_kind: str, profile: str, workers: int, csv: Path, cache_root: Path) -> tuple[dict, str]:
    from lossbook.core.cache import DiskCache
    from lossbook.core.executor import make_executor
    from lossbook.core.io import to_jsonable
    from lossbook.studies import tabular

    p = tabular.check_parameters(**tabular.PROFILES[profile])
    load_before = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    table = tabular.load_table(csv, label="malignant")
    with make_executor(executor_kind, n_workers=workers) as executor:
        described = executor.describe()
        frame = tabular.run_study(table, p, executor=executor, cache=DiskCache("bench", root=cache_root / executor_kind))
    results = tabular.study_results(table, frame, p)
    timing = {"executor": described, "profile": profile, "jobs": len(tabular.grid_jobs(p)),
              "wall_s": round(time.perf_counter() - wall, 1), "cpu_s_this_process": round(time.process_time() - cpu, 1),
              "load_before": round(load_before, 1), "load_after": round(os.getloadavg()[0], 1)}
    return timing, json.dumps(to_jsonable(results), sort_keys=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("quick", "full"), default="full")
    parser.add_argument("--executors", default="serial,dask", help="comma-separated, in run order")
    parser.add_argument("--workers", type=int, default=2, help="workers of the Dask LocalCluster")
    parser.add_argument("--output", type=Path, default=None, help="also write the timings here as JSON")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras  # noqa: F401  (TensorFlow started before timing, as in the chapter)

    from lossbook.studies import tabular

    with tempfile.TemporaryDirectory(prefix="bench-study-") as folder:
        folder = Path(folder)
        csv = folder / "breast_cancer_10pct.csv"
        tabular.breast_cancer_example().to_csv(csv, index=False)
        timings, texts = [], []
        for kind in [k.strip() for k in args.executors.split(",") if k.strip()]:
            timing, text = run_once(kind, args.profile, args.workers, csv, folder / "cache")
            print(json.dumps(timing), flush=True)
            timings.append(timing)
            texts.append(text)
        same = len(set(texts)) == 1
        print(f"results identical across executors: {same}  (cpu_count={os.cpu_count()})")
        if args.output:
            args.output.write_text(json.dumps({"runs": timings, "identical": same, "cpu_count": os.cpu_count()},
                                              indent=2) + "\n")


if __name__ == "__main__":
    main()
