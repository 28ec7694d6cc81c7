"""Benchmark: the batched fold trainer against one Keras ``model.fit`` per fold.

Both train the same slice of the DIA grid (leak-free folds of one repeat, one model
and loss, the same preprocessed data, batch 32, Adam, a fixed number of epochs with
validation AUC computed every epoch) and the script prints both wall times and their
ratio. Not a test: timings depend on the machine and on what else runs on it.

    python benchmarks/bench_dia_trainer.py --model mlp --loss focal --folds 5 --epochs 20

``--arms`` instead times the first-stage arms of one configuration (leak-free inner
split, leaky, paper protocol) trained in one batched call against one call per arm (what
:func:`lossbook.studies.dia.run_arms` does), and prints wall and CPU time of each (CPU time
is less sensitive than wall time to a shared machine):

    python benchmarks/bench_dia_trainer.py --arms --model mlp --loss focal --folds 5 --epochs 20
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # before keras: see README, "On a CPU without AVX-512"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="mlp", choices=["mlp", "cnn", "simplenn"])
    parser.add_argument("--loss", default="focal", choices=["bce", "focal", "dice"])
    parser.add_argument("--folds", type=int, default=5, help="fold models (5 per repeat)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--arms", action="store_true", help="time the chapter's arms batched vs one call per arm")
    args = parser.parse_args()
    if args.arms:
        return bench_arms(args)

    import keras
    import numpy as np

    from lossbook.core import losses
    from lossbook.core.data import load_dia
    from lossbook.core.seeding import seed_everything
    from lossbook.nets import keras_stack as training
    from lossbook.nets import models
    from lossbook.studies import dia

    seed_everything(0)
    train = load_dia("train", verify_checksum=True)
    p = dia.check_parameters(max_epochs=args.epochs, patience=args.epochs + 1,
                             n_repeats=max(1, int(np.ceil(args.folds / 5))))
    specs = dia.cv_splits(train.y, 5, p["n_repeats"], 0)[: args.folds]
    folds = []
    for i, spec in enumerate(specs):
        data, _, _ = dia.make_fold_data("leak_free", train.X.to_numpy(), train.y, spec, seed=0, val_fraction=0.2)
        data.seed = 1000 + i
        folds.append(data)
    config = dia._config(args.model, args.loss, p)

    start = time.perf_counter()
    training.train_folds(config, folds)
    batched = time.perf_counter() - start

    start = time.perf_counter()
    for data in folds:
        net = models.build_keras(args.model, data.X_train.shape[1], seed=data.seed)
        net.compile(optimizer=keras.optimizers.Adam(1e-3),
                    loss=losses.make(args.loss, "keras", **dict(config.loss_params)),
                    metrics=[keras.metrics.AUC(name="auc")])
        stop = keras.callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=p["patience"],
                                             restore_best_weights=True)
        net.fit(data.X_train, data.y_train, batch_size=32, epochs=args.epochs, shuffle=True, verbose=0,
                validation_data=(data.X_val, data.y_val), callbacks=[stop])
        net.predict(data.evaluate["test"], verbose=0)
    naive = time.perf_counter() - start

    steps = sum(int(np.ceil(len(d.y_train) / 32)) for d in folds) * args.epochs
    print(f"slice: {args.model}+{args.loss}, {len(folds)} fold models x {args.epochs} epochs ({steps} model-steps)")
    print(f"model.fit per fold: {naive:8.1f} s  ({steps / naive:7.0f} model-steps/s)")
    print(f"batched trainer:    {batched:8.1f} s  ({steps / batched:7.0f} model-steps/s)")
    print(f"speed-up: {naive / batched:.1f}x   (CPU cores: {os.cpu_count()}; shared machines inflate both)")


def bench_arms(args) -> None:
    import numpy as np

    from lossbook.core.data import load_dia
    from lossbook.core.seeding import seed_everything
    from lossbook.nets import keras_stack as training
    from lossbook.studies import dia

    seed_everything(0)
    train = load_dia("train", verify_checksum=True)
    X, y = train.X.to_numpy(), np.asarray(train.y)
    p = dia.check_parameters(max_epochs=args.epochs, patience=min(15, args.epochs),
                             n_repeats=max(1, int(np.ceil(args.folds / 5))))
    config = dia._config(args.model, args.loss, p)
    per_arm = {}
    for name in ("leak_free_no_refit", "leaky", "paper"):  # the first-stage arms of one configuration
        arm = dia.ARMS[name]
        Xa, ya, specs, _ = dia._arm_data(arm, X, y, p)
        per_arm[name] = []
        for i, spec in enumerate(specs[: args.folds]):
            data, _, _ = dia.make_fold_data(arm.protocol, Xa, ya, spec, seed=0, val_fraction=p["val_fraction"],
                                            early_stopping=arm.early_stopping)
            data.seed = 1000 + i
            per_arm[name].append(data)
    timings = {}
    for mode in ("one call, all arms", "one call per arm"):
        wall, cpu = time.perf_counter(), time.process_time()
        if mode == "one call, all arms":
            training.train_folds(config, [f for folds in per_arm.values() for f in folds])
        else:
            for folds in per_arm.values():
                training.train_folds(config, folds)
        timings[mode] = (time.perf_counter() - wall, time.process_time() - cpu)
    print(f"arms {list(per_arm)} of {args.model}+{args.loss}, {args.folds} folds each, at most {args.epochs} epochs")
    for mode, (wall, cpu) in timings.items():
        print(f"{mode:>18}: wall {wall:7.1f} s   CPU {cpu:7.1f} s")


if __name__ == "__main__":
    main()
