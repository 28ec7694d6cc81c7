"""The forum question "focal loss or BCE?": a stand-in problem and its training runs.

The forum post (source document ``001``) trains a Keras 3-D CNN on CT patches
with a positive rate near 0.1 %, once with binary cross-entropy and once with
``BinaryFocalCrossentropy(apply_class_balancing=True, from_logits=True,
gamma=5)``, and asks which run is better from the two runs' training logs.
The chapter ``forum`` answers with a stand-in a reader can re-run in
seconds:

* :func:`make_problem` draws a synthetic tabular problem with a positive rate
  of a few per mille; :func:`split_problem` cuts it into training, validation
  (carved from the training data: it picks the threshold) and test rows
  (scored once).
* :func:`train_run` trains one small network (:func:`make_network`, the same
  architecture and the same initial weights for every run) with a loss from
  :func:`lossbook.core.losses.make` (torch backend) and returns its probabilities.
  :data:`RUNS` names the runs: BCE, focal with gamma 5 without class
  balancing, and focal with gamma 5 with Keras's class balancing at its
  default ``alpha=0.25`` (the forum's setting).
* :func:`posted_model` rebuilds the posted Keras architecture so the chapter
  can show what it can and cannot learn; :func:`keras_focal` builds the
  posted loss.

The numbers the forum reports are facts about the post; they live in
:data:`FORUM_REPORTED`, to be shown beside ours.
"""
from __future__ import annotations

import contextlib
import numbers
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lossbook.core import params as checks
from lossbook.core.estimate import Estimate
from lossbook.core.params import Interval

#: Metrics quoted in the forum post (GPT-4's summary of the two runs' CSV logs),
#: epoch 1 ("start") and epoch 15 ("end"), as fractions. Facts about the post.
FORUM_REPORTED = {
    "BCE": {
        "accuracy": (0.996, 0.9997), "auc": (0.515, 0.9517), "loss": (0.0239, 0.0011),
        "val_accuracy": (0.9979, 0.9991), "val_auc": (0.5096, 0.7115), "val_loss": (0.0107, 0.0091),
        "balanced_accuracy": (0.7481, 0.9997), "val_balanced_accuracy": (0.4990, 0.500),
    },
    "focal": {
        "accuracy": (0.995, 0.9988), "auc": (0.500, 0.830), "loss": (0.0021, 0.0002),
        "val_accuracy": (0.9979, 0.9996), "val_auc": (0.500, 0.7115), "val_loss": (0.0004, 0.0002),
        "balanced_accuracy": (0.7475, 0.9988), "val_balanced_accuracy": (0.500, 0.6506),
    },
}
#: The posted training setup (facts from the post's code).
FORUM_SETUP = {
    "patch_shape": (31, 31, 31), "batch_size": 128, "epochs": 15, "shuffle": False,
    "learning_rate": 1e-3, "focal_gamma": 5.0, "apply_class_balancing": True,
    "keras_default_alpha": 0.25, "approximate_positive_rate": 0.001,
}

#: The runs of the chapter: name -> (loss name for lossbook.core.losses.make, its parameters).
#: ``alpha=None`` is focal loss without class balancing; Keras's
#: ``apply_class_balancing=True`` with its default alpha is ``alpha=0.25``.
RUNS = {
    "BCE": ("bce", {}),
    "focal γ=5": ("focal", {"gamma": 5.0, "alpha": None}),
    "focal γ=5, α=0.25": ("focal", {"gamma": 5.0, "alpha": 0.25}),
}

#: The chapter's parameters as data (defaults: the notebook's parameters cell); checked by
#: :func:`check_parameters` through :func:`lossbook.core.params.validate`.
CONSTRAINTS = {
    "n_samples": Interval(int, 2_000, 5_000_000),
    "prevalence": Interval(float, 1e-4, 0.2),
    "n_features": Interval(int, 6, 256),  # the positives' two clusters use features 0-5
    "separation": Interval(float, 0.0, 10.0),
    "validation_fraction": Interval(float, 0.05, 0.5),
    "test_fraction": Interval(float, 0.05, 0.5),
    "epochs": Interval(int, 1, 500),
    "batch_size": Interval(int, 8, 65_536),
    "hidden": Interval(int, 1, 4096),
    "learning_rate": Interval(float, 1e-6, 1.0),
    "n_boot": Interval(int, 100, 100_000),
    "seed": Interval(int, 0, None),
}


def check_parameters(*, complete: bool = False, **parameters) -> dict:
    """Validate the chapter's parameters (or some of them) before any training.

    Each value must satisfy :data:`CONSTRAINTS`; two rules tie parameters
    together (the held-out fractions leave most rows for training; at least
    100 positives are expected). ``complete=True`` (the chapter) also refuses
    missing names. Returns the parameters unchanged. Raises ``ValueError``
    naming the parameter and its allowed values.
    """
    checks.validate(parameters, CONSTRAINTS, complete=complete)
    if "validation_fraction" in parameters and "test_fraction" in parameters:
        if parameters["validation_fraction"] + parameters["test_fraction"] >= 0.8:
            raise ValueError(
                "validation_fraction + test_fraction must be below 0.8 so that training keeps most rows, "
                f"got {parameters['validation_fraction']} + {parameters['test_fraction']}"
            )
    if {"n_samples", "prevalence"} <= set(parameters):
        expected = parameters["n_samples"] * parameters["prevalence"]
        if expected < 100:
            raise ValueError(
                f"n_samples * prevalence must be at least 100 expected positives, got {expected:.0f} "
                f"(n_samples={parameters['n_samples']}, prevalence={parameters['prevalence']})"
            )
    return parameters


@contextlib.contextmanager
def native_stderr_silenced():
    """Send file descriptor 2 to /dev/null inside the block.

    TensorFlow's C++ start-up lines ("All log messages before
    absl::InitializeLog() ...") bypass ``TF_CPP_MIN_LOG_LEVEL`` and reach the
    notebook only sometimes (the kernel forwards them asynchronously), which
    would make re-executed notebooks differ. Import TensorFlow/Keras inside
    this block. Python-level errors still propagate as exceptions.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# ----------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Problem:
    """A binary problem: ``X`` float32 of shape (n, d), ``y`` int64 0/1 of shape (n,)."""

    X: np.ndarray
    y: np.ndarray

    @property
    def prevalence(self) -> float:
        return float(self.y.mean())

    def take(self, index: np.ndarray) -> Problem:
        return Problem(self.X[index], self.y[index])


def make_problem(n_samples: int = 300_000, *, prevalence: float = 0.003, n_features: int = 8,
                 separation: float = 1.2, seed: int = 0) -> Problem:
    """Draw the stand-in problem.

    Negatives are standard normal in ``n_features`` dimensions. Positives
    are drawn from a two-component mixture: half shifted by ``separation`` in
    the first three features, half shifted by ``separation`` in features 3-5
    with the sign of feature 0 flipped; so no single linear direction
    separates them and the network has something to learn. The number of
    positives is exactly ``round(n_samples * prevalence)``; rows are shuffled.
    """
    check_parameters(n_samples=n_samples, prevalence=prevalence, n_features=n_features,
                     separation=separation, seed=seed)
    if n_features < 6:
        raise ValueError(f"n_features must be at least 6 for this problem, got {n_features}")
    rng = np.random.default_rng(seed)
    n_pos = int(round(n_samples * prevalence))
    X = rng.standard_normal((n_samples, n_features))
    y = np.zeros(n_samples, dtype=np.int64)
    y[:n_pos] = 1
    half = n_pos // 2
    X[:half, 0:3] += separation
    X[half:n_pos, 3:6] += separation
    X[half:n_pos, 0] = -np.abs(X[half:n_pos, 0]) - 0.5 * separation
    order = rng.permutation(n_samples)
    return Problem(X[order].astype(np.float32), y[order])


@dataclass(frozen=True)
class Splits:
    train: Problem
    validation: Problem
    test: Problem


def split_problem(problem: Problem, *, validation_fraction: float = 0.2, test_fraction: float = 0.2,
                  seed: int = 0) -> Splits:
    """Stratified split into training, validation and test rows.

    The validation rows are part of the training data in the sense that
    matters: they may be used for any choice (threshold, epochs); the test
    rows are scored once, at the end.
    """
    from sklearn.model_selection import train_test_split

    check_parameters(validation_fraction=validation_fraction, test_fraction=test_fraction, seed=seed)
    index = np.arange(len(problem.y))
    rest, test = train_test_split(index, test_size=test_fraction, stratify=problem.y, random_state=seed)
    train, val = train_test_split(
        rest, test_size=validation_fraction / (1 - test_fraction), stratify=problem.y[rest], random_state=seed + 1
    )
    return Splits(problem.take(np.sort(train)), problem.take(np.sort(val)), problem.take(np.sort(test)))


# ----------------------------------------------------------------------------- training
def make_network(n_features: int, hidden: int = 32, *, seed: int = 0, prior: float | None = None):
    """The network every run uses: ``n_features -> hidden -> hidden -> 1`` (ReLU), logit output.

    Initial weights depend on ``seed`` only, so runs that differ in their loss
    start from identical weights. With ``prior`` (the training positive rate)
    the output bias starts at ``log(prior / (1 - prior))``, so every run starts
    by predicting the base rate instead of spending its first epochs getting
    there (the initialisation Lin et al. use for focal loss).
    """
    import torch

    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(n_features, hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, 1),
    )
    if prior is not None:
        if not 0 < prior < 1:
            raise ValueError(f"prior must be strictly between 0 and 1, got {prior!r}")
        with torch.no_grad():
            net[-1].bias.fill_(float(np.log(prior / (1 - prior))))
    torch.random.set_rng_state(generator_state)
    return net


@dataclass
class Run:
    """One trained run: its name, loss spec, per-epoch mean training loss, and a predictor."""

    name: str
    loss: str
    loss_params: dict
    train_loss: list
    network: object

    def predict_logit(self, X: np.ndarray, batch_size: int = 65_536) -> np.ndarray:
        """Logits, float64 of shape (n,)."""
        import torch

        out = []
        self.network.eval()
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                out.append(self.network(torch.as_tensor(X[start:start + batch_size])).squeeze(1).double().numpy())
        return np.concatenate(out)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of class 1, float64 of shape (n,)."""
        z = self.predict_logit(X)
        return 1.0 / (1.0 + np.exp(-z))


def train_run(name: str, train: Problem, *, loss: str, loss_params: Mapping | None = None,
              epochs: int = 8, batch_size: int = 512, hidden: int = 32, learning_rate: float = 1e-3,
              seed: int = 0, progress: bool = True) -> Run:
    """Train one network with Adam on ``train`` and the given loss; returns the :class:`Run`.

    Mini-batches are reshuffled every epoch (the forum used ``shuffle=False``)
    from a generator seeded by ``seed``; initial weights come from ``seed`` as
    well (output bias at the training base rate, see :func:`make_network`), so
    two runs with the same seed differ only in their loss. Runs on
    one CPU thread: faster for a network this small and bit-reproducible.
    """
    import torch
    from tqdm.auto import tqdm

    from lossbook.core.losses import make

    loss_params = dict(loss_params or {})
    loss_fn = make(loss, "torch", from_logits=True, **loss_params)
    check_parameters(epochs=epochs, batch_size=batch_size, hidden=hidden, learning_rate=learning_rate, seed=seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        net = make_network(train.X.shape[1], hidden, seed=seed, prior=train.prevalence)
        optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate)
        X = torch.as_tensor(train.X)
        y = torch.as_tensor(train.y, dtype=torch.float32)
        generator = torch.Generator().manual_seed(seed + 1)
        history = []
        net.train()
        for _ in tqdm(range(epochs), desc=name, disable=not progress, leave=False):
            order = torch.randperm(len(y), generator=generator)
            total = 0.0
            for start in range(0, len(y), batch_size):
                idx = order[start:start + batch_size]
                optimizer.zero_grad()
                value = loss_fn(y[idx], net(X[idx]).squeeze(1))
                value.backward()
                optimizer.step()
                total += float(value.detach()) * len(idx)
            history.append(total / len(y))
    finally:
        torch.set_num_threads(threads)
    return Run(name, loss, loss_params, history, net)


def train_runs(train: Problem, runs: Mapping = RUNS, **kwargs) -> dict:
    """Train every run of ``runs`` (name -> (loss, params)) with the same seed and settings."""
    return {name: train_run(name, train, loss=loss, loss_params=params, **kwargs)
            for name, (loss, params) in runs.items()}


# ----------------------------------------------------------------------------- the post
def batches_without_positive(prevalence: float, batch_size: int) -> float:
    """Chance that a batch of ``batch_size`` rows drawn at ``prevalence`` holds no positive."""
    return float((1.0 - prevalence) ** batch_size)


def keras_focal(*, gamma: float = 5.0, alpha: float = 0.25, apply_class_balancing: bool = True,
                from_logits: bool = True):
    """Keras's ``BinaryFocalCrossentropy`` as the forum configured it (defaults)."""
    import keras

    return keras.losses.BinaryFocalCrossentropy(
        apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma, from_logits=from_logits
    )


def posted_model(*, seed: int = 0, randomize_batchnorm: bool = True):
    """The posted Keras architecture, built for 31^3 single-channel patches.

    The layer stack is transcribed from the post (facts); with
    ``randomize_batchnorm`` every BatchNormalization layer gets random
    inference-time statistics and scale (some scales negative), standing in
    for a trained model, so the demonstrations do not rely on the identity
    initialisation. Returns the built ``keras.Sequential``.
    """
    import keras
    from keras import layers

    stack = (
        ["bn", "bn", "pool", "bn", "bn", "bn", "pool", "bn", "bn", "bn", "pool", "bn",
         "bn", "bn", "pool", "bn"]
    )
    made = []
    for kind in stack:
        made.append(layers.BatchNormalization() if kind == "bn" else layers.MaxPool3D(pool_size=2))
    made += [
        layers.GlobalAveragePooling3D(),
        layers.Dense(units=512, activation="relu"),
        layers.BatchNormalization(),
        layers.Dropout(0.4),
        layers.Dense(units=1),
    ]
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(*FORUM_SETUP["patch_shape"], 1))] + made)
    if randomize_batchnorm:
        rng = np.random.default_rng(seed)
        for layer in model.layers:
            if isinstance(layer, layers.BatchNormalization):
                width = layer.gamma.shape[0]
                gamma = rng.uniform(0.5, 1.5, width) * rng.choice([-1.0, 1.0], width)
                layer.set_weights([
                    gamma.astype("float32"), rng.normal(0, 0.5, width).astype("float32"),
                    rng.normal(0, 0.5, width).astype("float32"), rng.uniform(0.5, 2.0, width).astype("float32"),
                ])
    return model


def feature_width_before_head(model) -> int:
    """Number of features the posted model's dense head receives per patch."""
    for layer in model.layers:
        if layer.__class__.__name__ == "GlobalAveragePooling3D":
            return int(layer.output.shape[-1])
    raise ValueError("model has no GlobalAveragePooling3D layer")


def pooled_region(shape: int = 31, pools: int = 4, pool: int = 2) -> int:
    """Side of the corner cube whose voxels reach the output after ``pools`` unpadded
    poolings of size ``pool`` on a cube of side ``shape`` (the rest is dropped by flooring)."""
    side = shape
    for _ in range(pools):
        side = side // pool
    if side < 1:
        raise ValueError(f"{pools} poolings of size {pool} leave nothing of a cube of side {shape}")
    return side * pool ** pools


def split_spread(y_true: np.ndarray, prob_a: np.ndarray, prob_b: np.ndarray, *, n_splits: int = 5,
                 seed: int = 0):
    """What one small validation split would have said, ``n_splits`` times over.

    Cuts the rows into ``n_splits`` disjoint stratified parts (each as if it
    were the only validation split) and scores both runs on each: no
    retraining, so the spread is due to the choice of validation rows alone.

    Returns a DataFrame with one row per part: ``positives``, ``roc_auc_a``,
    ``roc_auc_b``, ``roc_auc_diff`` (b - a), ``pr_auc_a``, ``pr_auc_b``,
    ``pr_auc_diff``.
    """
    import pandas as pd
    from sklearn.model_selection import StratifiedKFold

    from lossbook.core.metrics import METRICS

    y = np.asarray(y_true)
    if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral) or not 2 <= n_splits <= int(y.sum()):
        raise ValueError(f"n_splits must be an integer from 2 to the number of positives ({int(y.sum())}), got {n_splits!r}")
    rows = []
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for _, part in folds.split(np.zeros(len(y)), y):
        row = {"positives": int(y[part].sum())}
        for metric in ("roc_auc", "pr_auc"):
            a = float(METRICS[metric](y[part], prob_a[part]))
            b = float(METRICS[metric](y[part], prob_b[part]))
            row.update({f"{metric}_a": a, f"{metric}_b": b, f"{metric}_diff": b - a})
        rows.append(row)
    return pd.DataFrame(rows, index=pd.RangeIndex(1, n_splits + 1, name="validation part"))


#: The threshold-dependent and ranking metrics the post's model.compile asks Keras for (facts from its code).
POSTED_METRICS = ("accuracy", "AUC", "Precision", "Recall")


def keras_metric_values(y_true: np.ndarray, outputs: np.ndarray) -> dict:
    """The post's Keras metrics (:data:`POSTED_METRICS`) on one set of model outputs.

    ``outputs``: shape (n,), what the model emits. Keras's ``AUC`` (200
    thresholds in [0, 1]), ``Precision``, ``Recall`` and ``accuracy``
    (``BinaryAccuracy`` at 0.5) all read ``outputs`` as probabilities; the post's
    model ends in ``Dense(1)`` without an activation and trains with
    ``from_logits=True``, so they were fed logits. Scoring the same predictions
    once as logits and once as ``sigmoid(logits)`` shows what that does.
    Returns ``{metric name: value}``.
    """
    import keras

    y = np.asarray(y_true, dtype="float32").reshape(-1, 1)
    z = np.asarray(outputs, dtype="float32").reshape(-1, 1)
    if y.shape != z.shape:
        raise ValueError(f"y_true and outputs must have the same length, got {y.shape[0]} and {z.shape[0]}")
    values = {}
    for name, metric in (("accuracy", keras.metrics.BinaryAccuracy()), ("AUC", keras.metrics.AUC()),
                         ("Precision", keras.metrics.Precision()), ("Recall", keras.metrics.Recall())):
        metric.update_state(y, z)
        values[name] = float(metric.result())
    return values


def comparison_record(comparison: Mapping) -> dict:
    """A ``lossbook.core.compare`` result (``Comparison.to_dict()``) for a results file: every metric's
    paired difference (B - A) as an Estimate under ``"difference"``, beside ``value_a``, ``value_b``, ``p_value``."""
    out = {k: v for k, v in comparison.items() if k != "metrics"}
    out["metrics"] = {
        metric: {"difference": Estimate(row["diff"], row["ci_low"], row["ci_high"], n=comparison.get("n"),
                                        method="paired_bootstrap").to_dict(),
                 "value_a": row["value_a"], "value_b": row["value_b"], "p_value": row["p_value"]}
        for metric, row in comparison["metrics"].items()
    }
    return out


def tuned_page_frame(tuned: pd.DataFrame) -> pd.DataFrame:
    """The test comparisons at each run's own validation threshold, for the page.

    ``tuned``: one row per pair with ``A, B, threshold A, threshold B, balanced accuracy A,
    balanced accuracy B, diff, ci_low, ci_high`` (B minus A, paired bootstrap over the test rows).
    Returns the same rows with the difference as one :class:`~lossbook.core.estimate.Estimate` column.
    """
    missing = [c for c in ("A", "B", "threshold A", "threshold B", "balanced accuracy A", "balanced accuracy B",
                           "diff", "ci_low", "ci_high") if c not in tuned.columns]
    if missing:
        raise ValueError(f"tuned lacks the columns {missing}")
    out = pd.DataFrame({"A's threshold": tuned["threshold A"].to_numpy(), "B's threshold": tuned["threshold B"].to_numpy(),
                        "A": tuned["balanced accuracy A"].to_numpy(), "B": tuned["balanced accuracy B"].to_numpy()},
                       index=[f"A: {a}; B: {b}" for a, b in zip(tuned["A"], tuned["B"])])
    out["B − A"] = [Estimate(r["diff"], r["ci_low"], r["ci_high"], method="paired_bootstrap")
                    for r in tuned.to_dict("records")]
    return out


#: The metrics the results file records for each run.
RUN_METRICS = ("roc_auc", "pr_auc", "brier", "balanced_accuracy", "accuracy", "precision", "recall", "f1", "mcc",
               "positive_rate_pred")


def run_metrics(prob, y, threshold: float) -> dict:
    """:data:`RUN_METRICS` of predicted probabilities ``prob`` (n,) against labels ``y`` (n,) at ``threshold``."""
    from lossbook.core.metrics import binary_report

    report = binary_report(y, prob, threshold=threshold)
    return {k: report[k] for k in RUN_METRICS}


# ----------------------------------------------------------------------------- the chapter's steps
def split_sizes(splits: Splits) -> pd.DataFrame:
    """Rows, positives and positive rate of the training, validation and test rows (one row each)."""
    parts = (splits.train, splits.validation, splits.test)
    sizes = pd.DataFrame({"rows": [len(s.y) for s in parts], "positives": [int(s.y.sum()) for s in parts]},
                         index=["training", "validation", "test"])
    sizes["positive rate"] = sizes["positives"] / sizes["rows"]
    return sizes


def train_loss_frame(runs: Mapping[str, Run]) -> pd.DataFrame:
    """Each run's mean training loss per epoch (under its own loss): rows epochs 1..n, one column per run."""
    epochs = len(next(iter(runs.values())).train_loss)
    return pd.DataFrame({name: run.train_loss for name, run in runs.items()},
                        index=pd.RangeIndex(1, epochs + 1, name="epoch"))


def loss_scale_table(y_true: np.ndarray, logits: Mapping[str, np.ndarray], losses: Mapping = RUNS) -> pd.DataFrame:
    """Every run's predictions scored under every loss: what a loss value says, and what it does not.

    ``y_true``: labels (n,); ``logits``: ``{run name: logits (n,)}``; ``losses``:
    ``{loss label: (loss name, parameters)}`` for :func:`lossbook.core.losses.make`
    (numpy backend, from logits), by default the runs' own losses (:data:`RUNS`).
    Rows: ``"predictions of <run>"``; columns: the losses' labels. Within a
    column lower is better; across columns the numbers share no scale.
    """
    from lossbook.core.losses import make

    fns = {label: make(loss, "numpy", from_logits=True, **params) for label, (loss, params) in losses.items()}
    return pd.DataFrame(
        {label: [float(fn(y_true, logits[run])) for run in logits] for label, fn in fns.items()},
        index=pd.Index([f"predictions of {run}" for run in logits], name="validation loss of"),
    )


#: Short names of a comparison row's fields, as the chapter glues them (``forum_val_roc_auc_lo``).
ROW_FIELDS = {"a": "value_a", "b": "value_b", "diff": "diff", "lo": "ci_low", "hi": "ci_high"}


def row_numbers(comparison, metric: str, fields: tuple[str, ...] = tuple(ROW_FIELDS)) -> dict:
    """One metric's row of a ``lossbook.core.compare`` comparison as ``{short name: value}`` (:data:`ROW_FIELDS`),
    for :func:`lossbook.publish.glue.glue_numbers`."""
    row = comparison.row(metric)
    return {short: row[ROW_FIELDS[short]] for short in fields}


def threshold_figure(chosen: Mapping[str, Mapping]):
    """Validation balanced accuracy of each run against the threshold (log scale), each run's best threshold
    dotted and 0.5 dashed. ``chosen``: ``{run: lossbook.core.compare.choose_threshold(...)}`` (its ``grid``,
    ``values`` and ``threshold``). Returns the figure."""
    import matplotlib.pyplot as plt

    from lossbook.core import plots

    fig, ax = plt.subplots(figsize=(plots.PAGE_WIDTH_IN, 3.8))
    for i, (name, curve) in enumerate(chosen.items()):
        color = plots.PALETTE[i]  # two focal runs: one colour each
        ax.plot(curve["grid"], curve["values"], color=color, label=f"{name} (best at {curve['threshold']:.3g})")
        ax.axvline(curve["threshold"], color=color, ls=":", lw=1)
    ax.axvline(0.5, color=plots.NEUTRAL, ls="--", lw=1)
    plots.log_axis(ax, "x")
    ax.set(xlabel="threshold (log scale)", ylabel="validation balanced accuracy", ylim=(0.45, 1.0))
    ax.legend()
    return fig


def threshold_frame(y_true: np.ndarray, prob: Mapping[str, np.ndarray], chosen: Mapping[str, Mapping]) -> pd.DataFrame:
    """Per run (rows, in ``chosen`` order): its best validation threshold, the balanced accuracy there, and at 0.5.
    ``prob``: ``{run: validation probabilities (n,)}``; ``chosen``: as for :func:`threshold_figure`."""
    from lossbook.core.metrics import binary_report

    names = list(chosen)
    return pd.DataFrame({
        "threshold": {n: chosen[n]["threshold"] for n in names},
        "validation balanced accuracy at it": {n: chosen[n]["value"] for n in names},
        "validation balanced accuracy at 0.5": {n: binary_report(y_true, prob[n], 0.5)["balanced_accuracy"]
                                                for n in names},
    })


def tuned_comparisons(y_true: np.ndarray, prob: Mapping[str, np.ndarray], thresholds: Mapping[str, float],
                      pairs, *, n_boot: int, seed: int) -> pd.DataFrame:
    """Balanced accuracy of pairs of runs, each run at its own threshold, compared by the paired bootstrap.

    ``prob``: ``{run: test probabilities (n,)}``; ``thresholds``: ``{run: threshold
    chosen on the validation rows}``; ``pairs``: ``[(run A, run B), ...]``. Each run's
    probabilities are cut at its own threshold and the 0/1 decisions of A and B are
    compared with :func:`lossbook.core.compare.compare`. One row per pair: ``A, B,
    threshold A, threshold B, balanced accuracy A, balanced accuracy B, diff,
    ci_low, ci_high`` (B minus A) (:func:`tuned_page_frame` shows it).
    """
    from lossbook.core.compare import compare

    rows = []
    for a_name, b_name in pairs:
        thr_a, thr_b = thresholds[a_name], thresholds[b_name]
        dec_a = (prob[a_name] >= thr_a).astype(float)
        dec_b = (prob[b_name] >= thr_b).astype(float)
        row = compare(y_true, dec_a, dec_b, names=(a_name, b_name), threshold=0.5, n_boot=n_boot,
                      seed=seed).row("balanced_accuracy")
        rows.append({"A": a_name, "B": b_name, "threshold A": thr_a, "threshold B": thr_b,
                     "balanced accuracy A": row["value_a"], "balanced accuracy B": row["value_b"],
                     "diff": row["diff"], "ci_low": row["ci_low"], "ci_high": row["ci_high"]})
    return pd.DataFrame(rows)


def verdict_text(comparison, metric: str) -> str:
    """A comparison's verdict on one metric, in words: "<run> is better", or "no detectable difference" with the
    minimum detectable effect at 80 % power (what the interval could have seen; its half-width over 1.96 is the
    standard error)."""
    from lossbook.core.inference import minimum_detectable_effect

    row = comparison.row(metric)
    mde = minimum_detectable_effect((row["ci_high"] - row["ci_low"]) / (2 * 1.959964))
    better = comparison.better(metric)
    return (f"no detectable difference (minimum detectable effect at 80 % power {mde:.3f})"
            if better is None else f"{better} is better")


def tuned_record(tuned: pd.DataFrame, n: int) -> list[dict]:
    """:func:`tuned_comparisons` for the results file: each row with its difference as an Estimate dict
    (paired bootstrap over ``n`` test rows) in place of ``diff``, ``ci_low``, ``ci_high``."""
    return [{**{k: v for k, v in r.items() if k not in ("diff", "ci_low", "ci_high")},
             "difference": Estimate(r["diff"], r["ci_low"], r["ci_high"], n=n, method="paired_bootstrap").to_dict()}
            for r in tuned.to_dict("records")]


def _as_column(values) -> np.ndarray:
    """float32 column, shape (n, 1), as Keras losses take labels and outputs."""
    return np.asarray(values).astype("float32")[:, None]


def keras_alpha_table(y_true: np.ndarray, logits: np.ndarray, alphas=(0.1, 0.25, 0.5, 0.9)) -> pd.DataFrame:
    """Keras's ``BinaryFocalCrossentropy`` (gamma 5, from logits) of one set of logits (n,) at each ``alpha``,
    without and with ``apply_class_balancing``. Rows: alphas; columns: ``apply_class_balancing=False/True``."""
    y_col, z_col = _as_column(y_true), _as_column(logits)
    return pd.DataFrame(
        {f"apply_class_balancing={flag}": [
            float(keras_focal(gamma=5.0, alpha=a, apply_class_balancing=flag)(y_col, z_col)) for a in alphas]
         for flag in (False, True)},
        index=pd.Index(alphas, name="alpha"),
    )


#: The losses checked against Keras: label -> (lossbook loss, its parameters, keras_focal arguments or None for BCE).
KERAS_CHECKS = {
    "BCE": ("bce", {}, None),
    "focal γ=5": ("focal", {"gamma": 5.0, "alpha": None}, dict(apply_class_balancing=False)),
    "focal γ=5, α=0.25": ("focal", {"gamma": 5.0, "alpha": 0.25}, dict(apply_class_balancing=True, alpha=0.25)),
}


def keras_agreement(y_true: np.ndarray, logits: np.ndarray) -> pd.DataFrame:
    """The same logits (n,) scored by the ``lossbook.core.losses`` torch losses and by Keras's (:data:`KERAS_CHECKS`).

    Rows: losses; columns ``lossbook (torch)``, ``Keras`` and ``relative difference``
    (absolute difference over Keras's value). Keras computes in float32, so both
    get float32 inputs.
    """
    import keras
    import torch

    from lossbook.core.losses import make

    y_col, z_col = _as_column(y_true), _as_column(logits)
    rows = []
    for label, (loss, params, keras_args) in KERAS_CHECKS.items():
        ours = make(loss, "torch", from_logits=True, **params)
        ours_value = float(ours(torch.as_tensor(y_col[:, 0]), torch.as_tensor(z_col[:, 0])))
        if keras_args is None:
            theirs = keras.losses.BinaryCrossentropy(from_logits=True)
        else:
            theirs = keras_focal(gamma=5.0, **keras_args)
        keras_value = float(theirs(y_col, z_col))
        rows.append({"loss": label, "lossbook (torch)": ours_value, "Keras": keras_value,
                     "relative difference": abs(ours_value - keras_value) / keras_value})
    return pd.DataFrame(rows).set_index("loss")


def logit_metric_table(y_true: np.ndarray, logits: Mapping[str, np.ndarray],
                       prob: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """The post's Keras metrics (:data:`POSTED_METRICS`) of each run, on its outputs read as logits and as probabilities.

    ``logits`` and ``prob``: ``{run: (n,) outputs}``, same runs. Rows: (run, metric);
    columns ``on logits (as posted)``, ``on probabilities`` and ``logits minus probabilities``.
    """
    rows = {}
    for name in logits:
        as_logits = keras_metric_values(y_true, logits[name])
        as_probabilities = keras_metric_values(y_true, prob[name])
        for metric in POSTED_METRICS:
            rows[(name, metric)] = {"on logits (as posted)": as_logits[metric],
                                    "on probabilities": as_probabilities[metric]}
    table = pd.DataFrame(rows).T
    table["logits minus probabilities"] = table["on logits (as posted)"] - table["on probabilities"]
    return table


def logits_record(logit_table: pd.DataFrame, reference: str) -> dict:
    """:func:`logit_metric_table` for the results file: every run's metrics both ways, and the ledger's
    measurement, the Keras AUC of run ``reference`` read as logits minus read as probabilities."""
    names = list(dict.fromkeys(logit_table.index.get_level_values(0)))
    return {
        "by_run": {name: {metric: logit_table.loc[(name, metric)].to_dict() for metric in POSTED_METRICS}
                   for name in names},
        "auc_logits_minus_probabilities": float(logit_table.loc[(reference, "AUC"), "logits minus probabilities"]),
    }


def posted_model_facts(model, patches: np.ndarray) -> dict:
    """What the posted architecture lets reach its output, measured on ``model`` (:func:`posted_model`).

    ``patches``: float32 array (n, s, s, s, 1) of cubic patches. Changing every
    voxel outside the corner cube that survives the poolings (:func:`pooled_region`)
    and, separately, shifting the voxels inside it gives the largest change of the
    output over the patches. Returns the features reaching the dense head, the
    corner's side and share of the voxels, both changes, and the share of batches
    of the post's size without a positive at the post's positive rate.
    """
    shape = patches.shape[1]
    reference = model.predict(patches, verbose=0)
    side = pooled_region(shape)
    changed = patches.copy()
    changed[:, side:, :, :, :] += 5.0  # every voxel outside the corner cube
    changed[:, :, side:, :, :] -= 3.0
    changed[:, :, :, side:, :] *= -2.0
    outside_change = float(np.abs(model.predict(changed, verbose=0) - reference).max())
    inside = patches.copy()
    inside[:, :side, :side, :side, :] += 1.0
    inside_change = float(np.abs(model.predict(inside, verbose=0) - reference).max())
    return {
        "features_reaching_dense_head": feature_width_before_head(model),
        "corner_side_reaching_output": side,
        "share_of_voxels_reaching_output": side ** 3 / shape ** 3,
        "max_output_change_outside_corner": outside_change,
        "max_output_change_inside_corner": inside_change,
        "share_of_batches_without_positive": batches_without_positive(
            FORUM_SETUP["approximate_positive_rate"], FORUM_SETUP["batch_size"]),
    }
