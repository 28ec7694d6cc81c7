"""Benchmark the acne chapter's two costs: backbone forward passes and the batched head trainer.

Reports wall time and process CPU time: on the oversubscribed shared machine
``cpu_s / threads`` approximates what the same work takes on an idle machine.
Nothing is cached: the backbone runs on random pixels, the heads on random
features of the real split sizes.

    python benchmarks/bench_acne.py                       # 256 images, 120 heads x 1 epoch
    python benchmarks/bench_acne.py --images 0 --epochs 8 # the full profile's head training
"""
from __future__ import annotations

import argparse
import os
import time


def clock():
    return time.perf_counter(), time.process_time()


def report(what, start, threads, per=None, unit=""):
    wall, cpu = time.perf_counter() - start[0], time.process_time() - start[1]
    line = f"{what}: wall_s={wall:.1f} cpu_s={cpu:.1f} cpu_s/threads={cpu / threads:.1f}"
    if per:
        line += f" -> {per / wall:.1f} {unit}/s wall, {per / (cpu / threads):.1f} {unit}/s cpu/threads"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=256, help="forward passes to time (0: skip)")
    parser.add_argument("--input-size", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=1, help="head-training epochs to time (0: skip)")
    parser.add_argument("--hidden-units", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    import torch

    from lossbook.nets.embeddings import load_backbone
    from lossbook.studies import acne

    torch.set_num_threads(args.threads)
    print(f"threads={args.threads} load1={os.getloadavg()[0]:.1f} cpus={os.cpu_count()}")
    rng = np.random.default_rng(0)
    if args.images:
        model = load_backbone("efficientnet_lite1_torch", input_size=args.input_size, threads=args.threads)
        model.embed(rng.integers(0, 256, (4, args.input_size, args.input_size, 3), dtype=np.uint8))  # warm-up
        start = clock()
        done = 0
        while done < args.images:
            n = min(args.batch_size, args.images - done)
            model.embed(rng.integers(0, 256, (n, args.input_size, args.input_size, 3), dtype=np.uint8))
            done += n
        report(f"Lite1 forward, {args.images} images at {args.input_size}px", start, args.threads, args.images, "img")
        print("  the full profile needs 4448 distinct images x 4 views = 17792 passes")
    if args.epochs:
        # The real data's split sizes, without reading any image.
        n, k = 4607, 5
        y = np.repeat(np.arange(k), [1240, 1030, 1032, 1006, 299])
        index = pd.DataFrame({
            "label": y, "near_dup_group": np.arange(n) // 2,
            "roboflow_split": rng.choice(["train", "valid", "test"], size=n, p=[0.6, 0.2, 0.2]),
        })
        jobs = [acne.HeadJob(s, scenario, 1) for kind in acne.SPLIT_KINDS
                for s in acne.make_splits(index, kind, n_repeats=args.repeats) for scenario in acne.SCENARIOS]
        features = rng.normal(size=(n, 4, 1280)).astype(np.float32)
        config = acne.HeadConfig(epochs=args.epochs, hidden_units=args.hidden_units)
        start = clock()
        acne.train_heads(features, y, jobs, config=config, progress=False, threads=args.threads)
        report(f"{len(jobs)} heads x {args.epochs} epoch(s), {args.hidden_units} hidden units", start, args.threads,
               len(jobs) * args.epochs, "head-epochs")


if __name__ == "__main__":
    main()
