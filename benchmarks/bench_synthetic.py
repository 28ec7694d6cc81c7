"""Benchmark the synthetic chapter's batched trainer.

Reports wall time AND process CPU time, because the shared build machine is
usually oversubscribed: ``cpu_s / threads`` approximates the wall time the
same work would take on an idle machine with that many cores.

    python benchmarks/bench_synthetic.py                  # one draw, 50 seeds, 10 control seeds
    python benchmarks/bench_synthetic.py --draws 10       # the full profile's stress test
"""
from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--draws", type=int, default=1)
    parser.add_argument("--control-seeds", type=int, default=10)
    parser.add_argument("--noise-free", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-members", type=int, default=100)
    args = parser.parse_args()

    from lossbook.studies import synthetic as S

    threads = S.set_torch_threads(args.threads)
    cfg = S.StressConfig(seeds=tuple(range(args.seeds)), dataset_states=tuple(range(42, 42 + args.draws)),
                         control_seeds=args.control_seeds, noise_free=bool(args.noise_free)).check()
    _, jobs = S.plan_stress(cfg)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    frame = S.run_stress(cfg, max_members=args.max_members, progress=False)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    load = os.getloadavg()[0]
    n = len(frame)
    print(f"networks={n} (planned {len(jobs)}) epochs={cfg.epochs} threads={threads} load1={load:.1f}")
    print(f"wall_s={wall:.1f} cpu_s={cpu:.1f} cpu_s/threads={cpu / threads:.1f}")
    print(f"per network-epoch: wall {1000 * wall / n / cfg.epochs:.2f} ms, cpu/threads "
          f"{1000 * cpu / threads / n / cfg.epochs:.2f} ms")


if __name__ == "__main__":
    main()
