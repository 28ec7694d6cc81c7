"""The acne weighted-loss study: splits, a batched head trainer, scenarios, scores.

Sidik et al. (JAIEA 5(2), 2026) fine-tune an ImageNet EfficientNetB1 on five
acne classes and compare plain cross-entropy (scenario A) with cross-entropy
weighted by ``compute_class_weight("balanced")`` (scenario B). This module is
the protocol the chapter ``notebooks/acne.py`` runs:

* three kinds of split (:data:`SPLIT_KINDS`): the paper's stratified random
  70/20/10, a group-aware stratified 70/20/10 that keeps every near-duplicate
  group on one side, and the export's own train/valid/test;
* four ways to treat imbalance (:data:`SCENARIOS`), the losses coming from
  :func:`lossbook.core.losses.make`;
* a head (dense ReLU -> dropout -> softmax) trained on cached, frozen-backbone
  embeddings (:mod:`lossbook.nets.embeddings`); many heads (splits x repeats x
  scenarios) are trained at once as one batched torch model (with
  ``fine_tune=True`` the backbone is trained too, one job at a time, by
  :mod:`lossbook.studies.acne_finetune`);
* scores per (split kind, repeat, scenario) with intervals over repeats and
  paired B-minus-A differences.

The paper's reported numbers live in :data:`PAPER_TABLES`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lossbook.core import params as checks
from lossbook.core.data import ACNE_CLASSES
from lossbook.core.estimate import Estimate
from lossbook.core.params import Interval, OneOf, SubsetOf
from lossbook.core.seeding import derive_seed
from lossbook.nets.embeddings import BACKBONES, FINE_TUNABLE
from lossbook.nets.torch_stack import StackedMLP

__all__ = [
    "PAPER_TABLES",
    "PAPER_FACTS",
    "SPLIT_KINDS",
    "SCENARIOS",
    "CONSTRAINTS",
    "check_parameters",
    "Split",
    "random_stratified_split",
    "group_stratified_split",
    "export_split",
    "make_splits",
    "crossing_groups",
    "test_has_train_twin",
    "stratified_subset",
    "HeadConfig",
    "HeadJob",
    "loss_for_job",
    "epoch_rows",
    "train_heads",
    "score_jobs",
    "summarize_scores",
    "paired_differences",
    "single_run_spread",
    "objective_ratio",
    "implied_min_support",
]

# ----------------------------------------------------------------- the paper
_P = ("precision", "recall", "f1")
#: Tables 1-3 of Sidik et al. (2026), as printed (two decimals).
PAPER_TABLES = {
    "table1": {  # scenario A, plain categorical cross-entropy
        "per_class": {
            "Blackheads": dict(zip(_P, (0.95, 0.78, 0.86))),
            "Cyst": dict(zip(_P, (0.89, 0.74, 0.81))),
            "Papules": dict(zip(_P, (0.73, 0.70, 0.71))),
            "Pustules": dict(zip(_P, (0.66, 0.86, 0.75))),
            "Whiteheads": dict(zip(_P, (0.67, 0.97, 0.79))),
        },
        "accuracy": 0.80,
        "macro_f1": 0.78,  # stated in section 3.3.3 and the conclusion
    },
    "table2": {  # scenario B, class-weighted cross-entropy
        "per_class": {
            "Blackheads": dict(zip(_P, (0.92, 0.89, 0.91))),
            "Cyst": dict(zip(_P, (0.92, 0.82, 0.87))),
            "Papules": dict(zip(_P, (0.82, 0.80, 0.81))),
            "Pustules": dict(zip(_P, (0.77, 0.86, 0.81))),
            "Whiteheads": dict(zip(_P, (0.76, 0.97, 0.85))),
        },
        "accuracy": 0.86,
        "macro_f1": 0.85,
    },
    "table3": {  # F1 change B - A per class
        "Blackheads": 0.05, "Cyst": 0.06, "Papules": 0.10, "Pustules": 0.06, "Whiteheads": 0.06,
    },
}
#: The paper's change from scenario A to B per metric (Table 2 minus Table 1, per-class F1 from Table 3),
#: rounded to the two decimals it prints; keyed as the chapter's metrics (``"f1:Papules"``).
PAPER_B_MINUS_A = {
    "accuracy": round(PAPER_TABLES["table2"]["accuracy"] - PAPER_TABLES["table1"]["accuracy"], 2),
    "macro_f1": round(PAPER_TABLES["table2"]["macro_f1"] - PAPER_TABLES["table1"]["macro_f1"], 2),
    **{f"f1:{c}": v for c, v in PAPER_TABLES["table3"].items()},
}
#: Other facts the paper states (section numbers in the comments).
PAPER_FACTS = {
    "backbone": "EfficientNetB1, ImageNet weights",  # 2.3
    "input_size": 150,  # 2.2
    "split_fractions": (0.7, 0.2, 0.1),  # 2.1, stratified
    "imbalance_ratio": 5.6,  # 2.1, Blackheads : Whiteheads
    "augmentation": "rotation, zoom, flip on training images",  # 2.2
    "rescale": "1/255",  # 2.2
    # 3.2-3.3: off-diagonal confusion counts (true -> predicted) on the test set.
    "confusions": {
        "A": {("Papules", "Pustules"): 40, ("Blackheads", "Pustules"): 30},
        "B": {("Papules", "Pustules"): 32, ("Blackheads", "Pustules"): 17},
    },
    "final_val_loss": {"A": 1.75, "B": 1.58},  # 3.1
    "train_accuracy_A": 0.99,
    "val_accuracy_A": 0.90,
}

# ------------------------------------------------------------ the protocol
SPLIT_KINDS = {
    "random": "stratified random 70/20/10 (the paper's)",
    "group": "stratified 70/20/10 by near-duplicate group",
    "export": "the export's own train/valid/test",
}
SCENARIOS = {
    "A": "plain cross-entropy",
    "B": "cross-entropy weighted by compute_class_weight('balanced') on the training rows",
    "focal": "multi-class focal loss (gamma from focal_gamma), no class weights",
    "sampling": "plain cross-entropy, class-balanced sampling of training rows",
}
SELECT = ("last", "best_val_loss")

#: The chapter's parameters as data (defaults: the notebook's parameters cell).
CONSTRAINTS = {
    "data_dir": [None, str],
    "backbone": OneOf(sorted(BACKBONES)),
    "input_size": Interval(int, 32, 1024),
    "n_views": Interval(int, 0, 16),
    "split_kinds": SubsetOf(SPLIT_KINDS),
    "scenarios": SubsetOf(SCENARIOS),
    "n_repeats": Interval(int, 2, None),  # intervals need two repeats
    "subset_per_class": [None, Interval(int, 20, None)],
    "epochs": Interval(int, 1, 1000),
    "batch_size": Interval(int, 1, 4096),
    "hidden_units": Interval(int, 1, 8192),
    "dropout": Interval(float, 0.0, 1.0, closed="left"),
    "learning_rate": Interval(float, 0.0, 1.0, closed="right"),
    "focal_gamma": Interval(float, 0.0, 10.0),
    "select_epoch": OneOf(SELECT),
    "fine_tune": bool,  # True: train backbone and head together (lossbook.studies.acne_finetune; a GPU job)
    "backbone_learning_rate": Interval(float, 0.0, 1.0, closed="right"),  # used only when fine_tune is True
    "threads": Interval(int, 1, 256),
    "seed": Interval(int, 0, 2**31 - 1),
}


def check_parameters(**params) -> dict:
    """Validate the chapter's parameters before anything is trained.

    Values must satisfy :data:`CONSTRAINTS`; parameters not given take the
    defaults of the chapter's parameters cell. Raises ``ValueError`` naming
    the parameter and what is allowed. Returns the full parameter dict
    (sequences as tuples, numbers as int or float).
    """
    p = checks.with_defaults("acne", params, CONSTRAINTS)
    for name, constraint in CONSTRAINTS.items():
        if isinstance(constraint, SubsetOf):
            p[name] = checks.subset(name, p[name], constraint.values)
        elif isinstance(constraint, Interval) and p[name] is not None:
            p[name] = constraint.kind(p[name])
        elif name == "subset_per_class" and p[name] is not None:
            p[name] = int(p[name])
    if p["fine_tune"] and p["backbone"] not in FINE_TUNABLE:
        raise ValueError(
            f"fine_tune=True trains the backbone end to end, which lossbook.studies.acne_finetune implements for "
            f"backbone={' or '.join(map(repr, FINE_TUNABLE))} only, got backbone={p['backbone']!r}"
        )
    return p


# -------------------------------------------------------------------- splits
@dataclass(frozen=True)
class Split:
    """Row indices (into the image index) of one train/validation/test split."""

    kind: str
    repeat: int
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def __post_init__(self):
        parts = np.concatenate([self.train, self.val, self.test])
        if len(np.unique(parts)) != len(parts):
            raise ValueError(f"split {self.kind}/{self.repeat}: a row is in more than one part")


def _check_fractions(fractions) -> tuple[float, float, float]:
    f = tuple(float(x) for x in fractions)
    if len(f) != 3 or min(f) <= 0 or abs(sum(f) - 1) > 1e-9:
        raise ValueError(f"fractions must be three positive numbers (train, val, test) summing to 1, got {fractions!r}")
    return f


def random_stratified_split(y, *, fractions=(0.7, 0.2, 0.1), seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified random train/val/test row indices (the paper's split).

    ``y``: labels, shape (n,). Two stratified ``train_test_split`` calls: test
    first, then validation out of the rest. Indices are sorted.
    """
    from sklearn.model_selection import train_test_split

    f = _check_fractions(fractions)
    y = np.asarray(y)
    rows = np.arange(len(y))
    rest, test = train_test_split(rows, test_size=f[2], stratify=y, random_state=seed)
    train, val = train_test_split(rest, test_size=f[1] / (f[0] + f[1]), stratify=y[rest], random_state=seed + 1)
    return np.sort(train), np.sort(val), np.sort(test)


def group_stratified_split(y, groups, *, fractions=(0.7, 0.2, 0.1), seed: int = 0, n_folds: int = 10):
    """Stratified train/val/test row indices that never split a group.

    ``StratifiedGroupKFold(n_folds)`` deals whole groups into folds while
    keeping class proportions close; the first ``test * n_folds`` folds become
    the test set, the next ``val * n_folds`` the validation set, the rest the
    training set. The fractions must therefore be multiples of ``1/n_folds``.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    f = _check_fractions(fractions)
    n_test, n_val = round(f[2] * n_folds), round(f[1] * n_folds)
    if abs(n_test - f[2] * n_folds) > 1e-9 or abs(n_val - f[1] * n_folds) > 1e-9:
        raise ValueError(f"fractions {fractions!r} must be multiples of 1/{n_folds} for the group-aware split")
    y, groups = np.asarray(y), np.asarray(groups)
    if len(groups) != len(y):
        raise ValueError(f"groups has {len(groups)} entries for {len(y)} labels")
    fold = np.empty(len(y), dtype=int)
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (_, held) in enumerate(splitter.split(np.zeros(len(y)), y, groups)):
        fold[held] = k
    test = np.flatnonzero(fold < n_test)
    val = np.flatnonzero((fold >= n_test) & (fold < n_test + n_val))
    train = np.flatnonzero(fold >= n_test + n_val)
    return train, val, test


def export_split(roboflow_split) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of the export's own ``train`` / ``valid`` / ``test`` split."""
    s = np.asarray(roboflow_split).astype(str)
    bad = sorted(set(s) - {"train", "valid", "test"})
    if bad:
        raise ValueError(f"roboflow_split must hold train/valid/test, found {bad}")
    return np.flatnonzero(s == "train"), np.flatnonzero(s == "valid"), np.flatnonzero(s == "test")


def make_splits(index: pd.DataFrame, kind: str, *, n_repeats: int, seed: int = 0, fractions=(0.7, 0.2, 0.1)) -> list[Split]:
    """``n_repeats`` splits of one kind of the image index.

    ``index`` needs ``label`` and, for ``"group"`` / ``"export"``, the
    ``near_dup_group`` / ``roboflow_split`` columns. Split seeds are derived from
    (``seed``, kind, repeat). The export split is the same in every repeat; its
    repeats differ only in the head's seed.
    """
    if kind not in SPLIT_KINDS:
        raise ValueError(f"split kind must be one of {list(SPLIT_KINDS)}, got {kind!r}")
    needed = {"random": ["label"], "group": ["label", "near_dup_group"], "export": ["roboflow_split"]}[kind]
    missing = [c for c in needed if c not in index.columns or index[c].isna().any()]
    if missing:
        raise ValueError(f"the {kind!r} split needs a complete column {missing[0]!r} in the image index (splits.csv)")
    kind_id = list(SPLIT_KINDS).index(kind)
    out = []
    for r in range(n_repeats):
        s = derive_seed(seed, kind_id, r)
        if kind == "random":
            parts = random_stratified_split(index["label"].to_numpy(), fractions=fractions, seed=s)
        elif kind == "group":
            parts = group_stratified_split(index["label"].to_numpy(), index["near_dup_group"].to_numpy(), fractions=fractions, seed=s)
        else:
            parts = export_split(index["roboflow_split"].to_numpy())
        out.append(Split(kind, r, *parts))
    return out


def crossing_groups(split: Split, groups) -> np.ndarray:
    """Groups with members in more than one part of ``split`` (empty for a leak-free split)."""
    groups = np.asarray(groups)
    side = {}
    for part, rows in (("train", split.train), ("val", split.val), ("test", split.test)):
        for g in np.unique(groups[rows]):
            side.setdefault(g, set()).add(part)
    return np.array(sorted(g for g, parts in side.items() if len(parts) > 1))


def test_has_train_twin(split: Split, groups) -> np.ndarray:
    """Bool per test row (in ``split.test`` order): does a near-duplicate sit in the training rows?"""
    groups = np.asarray(groups)
    return np.isin(groups[split.test], groups[split.train])


test_has_train_twin.__test__ = False  # a helper, not a pytest test


def stratified_subset(index: pd.DataFrame, per_class: int, *, seed: int = 0) -> pd.DataFrame:
    """``per_class`` rows drawn at random from each class (all rows of a smaller class)."""
    rng = np.random.default_rng(derive_seed(seed, 99))
    keep = []
    for _, rows in index.groupby("label", sort=True):
        idx = rows.index.to_numpy()
        keep.extend(sorted(rng.choice(idx, size=min(per_class, len(idx)), replace=False)))
    return index.loc[sorted(keep)].reset_index(drop=True)


# --------------------------------------------------------------- the heads
@dataclass(frozen=True)
class HeadConfig:
    """The head and its optimiser (the paper names the layers, not their sizes).

    dense(``hidden_units``, ReLU) -> dropout(``dropout``) -> dense(k) -> softmax,
    Adam(``learning_rate``), ``epochs`` passes of ``batch_size``; weights
    Glorot-uniform and biases zero, as Keras initialises them.
    """

    hidden_units: int = 64
    dropout: float = 0.3
    learning_rate: float = 2e-3
    epochs: int = 25
    batch_size: int = 32
    focal_gamma: float = 2.0
    select_epoch: str = "last"
    augment: bool = True


@dataclass(frozen=True)
class HeadJob:
    """One head to train: a split, a scenario and a seed (init, batch order, dropout, views)."""

    split: Split
    scenario: str
    seed: int

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.split.kind, self.split.repeat, self.scenario)


@dataclass
class HeadResults:
    """What :func:`train_heads` returns, one entry per job in job order.

    ``test_proba[j]``: (len(job.split.test), k) softmax outputs on the test rows.
    ``history``: DataFrame with kind, repeat, scenario, epoch, train_loss
    (the scenario's objective), train_accuracy (on the dropout-noisy batches, as
    Keras reports it), val_loss (plain cross-entropy, comparable across
    scenarios) and val_accuracy. ``class_weights[j]``: the weights used (None
    when unweighted), computed from that job's training labels only.
    """

    jobs: list[HeadJob]
    test_proba: list[np.ndarray]
    history: pd.DataFrame
    class_weights: list[tuple[float, ...] | None] = field(default_factory=list)


def loss_for_job(job: HeadJob, y: np.ndarray, config: HeadConfig):
    """(loss name, params) for a job; B's weights come from its training labels only."""
    if job.scenario in ("A", "sampling"):
        return ("weighted_ce", (("gamma", 0.0),))
    if job.scenario == "focal":
        return ("focal_ce", (("gamma", float(config.focal_gamma)),))
    if job.scenario == "B":
        from lossbook.core.losses import balanced_class_weights

        weights = balanced_class_weights(y[job.split.train])
        return ("weighted_ce", (("class_weights", weights), ("gamma", 0.0)))
    raise ValueError(f"scenario must be one of {list(SCENARIOS)}, got {job.scenario!r}")


def epoch_rows(job: HeadJob, y: np.ndarray, n_rows: int, rng: np.random.Generator) -> np.ndarray:
    """``n_rows`` training-row indices for one epoch: shuffled passes, or class-balanced draws."""
    train = job.split.train
    if job.scenario == "sampling":
        counts = np.bincount(y[train], minlength=int(y.max()) + 1)
        p = 1.0 / counts[y[train]]
        return rng.choice(train, size=n_rows, replace=True, p=p / p.sum())
    passes = -(-n_rows // len(train))
    return np.concatenate([rng.permutation(train) for _ in range(passes)])[:n_rows]


def _padded(rows: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack ragged index arrays into (R, max_len) with a validity mask."""
    width = max(len(r) for r in rows)
    out = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=bool)
    for j, r in enumerate(rows):
        out[j, : len(r)] = r
        mask[j, : len(r)] = True
    return out, mask


def train_heads(
    features: np.ndarray,
    y: np.ndarray,
    jobs: Sequence[HeadJob],
    *,
    config: HeadConfig = HeadConfig(),
    progress: bool = True,
    threads: int | None = 1,
) -> HeadResults:
    """Train one head per job, all at once as a batched torch model.

    Parameters
    ----------
    features : array (n_images, 1 + n_views, d), float32
        Cached embeddings; ``[:, 0]`` plain images, ``[:, 1:]`` augmented views.
        Augmented views are drawn (uniformly with the plain one) for training
        rows only; validation and test rows always use ``[:, 0]``.
    y : array (n_images,) of int labels 0..k-1
    jobs : the heads to train

    Every job has its own generators (seeded by ``job.seed``) for the initial
    weights, batch order, augmented views and dropout masks, so a job's result
    does not depend on which other jobs share the batch. Adam is elementwise,
    so one optimiser over the stacked parameters is R independent optimisers.

    ``threads``: torch intra-op threads. One by default: on a shared 2-core
    machine, two threads made a step about 8x slower than one (each thread
    waits for the other to be scheduled).
    """
    import torch
    from tqdm.auto import tqdm

    from lossbook.core.losses import make

    if threads:
        torch.set_num_threads(threads)
    features = np.ascontiguousarray(features, dtype=np.float32)
    y = np.array(y, dtype=np.int64)  # a writable copy for torch.from_numpy
    if features.ndim != 3 or features.shape[0] != len(y):
        raise ValueError(f"features must have shape (n_images, views, dim) with n_images = len(y) = {len(y)}, got {features.shape}")
    if not jobs:
        raise ValueError("no jobs to train")
    k = int(y.max()) + 1
    n_jobs, (_, n_views_all, dim), h = len(jobs), features.shape, config.hidden_units
    X = torch.from_numpy(features)
    Y = torch.from_numpy(y)

    # Per-job generators and Glorot-uniform initial weights.
    np_rngs = [np.random.default_rng(derive_seed(job.seed, 1)) for job in jobs]
    torch_gens = [torch.Generator().manual_seed(derive_seed(job.seed, 2)) for job in jobs]

    def glorot(fan_in, fan_out, gen):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return (torch.rand((fan_in, fan_out), generator=gen) * 2 - 1) * limit

    heads = StackedMLP([torch.stack([glorot(dim, h, g) for g in torch_gens]),
                        torch.stack([glorot(h, k, g) for g in torch_gens])],
                       [torch.zeros((n_jobs, 1, h)), torch.zeros((n_jobs, 1, k))])
    params = heads.parameters()
    optimiser = torch.optim.Adam(params, lr=config.learning_rate)

    # Group jobs that share a loss (same name and parameters) into one call with a per-job axis.
    keys = [loss_for_job(job, y, config) for job in jobs]
    groups: dict = {}
    for j, key in enumerate(keys):
        groups.setdefault(key, []).append(j)
    losses = [
        (torch.tensor(members), make(name, "torch", axis=-1, from_logits=True, **dict(kw)))
        for (name, kw), members in groups.items()
    ]
    class_weights = [dict(key[1]).get("class_weights") for key in keys]

    def forward(xb, train: bool, masks=None):
        return heads(xb, dropout=config.dropout, keep=masks if train and config.dropout > 0 else None)

    val_rows, val_mask = _padded([job.split.val for job in jobs])
    val_rows_t, val_mask_t = torch.from_numpy(val_rows), torch.from_numpy(val_mask)
    n_train_max = max(len(job.split.train) for job in jobs)
    steps = -(-n_train_max // config.batch_size)
    B = config.batch_size

    best = [p.detach().clone() for p in params]
    best_loss = torch.full((n_jobs,), float("inf"))
    history = []
    bar = tqdm(total=config.epochs * steps, desc=f"training {n_jobs} heads", unit="step", mininterval=5.0, disable=not progress)
    for epoch in range(1, config.epochs + 1):
        rows = np.stack([epoch_rows(job, y, steps * B, rng) for job, rng in zip(jobs, np_rngs)])
        if config.augment and n_views_all > 1:
            views = np.stack([rng.integers(0, n_views_all, size=steps * B) for rng in np_rngs])
        else:
            views = np.zeros_like(rows)
        if config.dropout > 0:
            keep = torch.stack([torch.rand((steps, B, h), generator=g) >= config.dropout for g in torch_gens], dim=1)
        rows_t, views_t = torch.from_numpy(rows), torch.from_numpy(views)
        loss_sum = torch.zeros(n_jobs)
        correct = torch.zeros(n_jobs)
        for s in range(steps):
            idx = rows_t[:, s * B : (s + 1) * B]
            xb = X[idx, views_t[:, s * B : (s + 1) * B]]  # (R, B, d)
            yb = Y[idx]
            logits = forward(xb, True, keep[s] if config.dropout > 0 else None)
            per_job = torch.zeros(n_jobs)
            for members, fn in losses:
                per_job = per_job.index_put((members,), fn(yb[members], logits[members]))
            optimiser.zero_grad(set_to_none=True)
            per_job.sum().backward()
            optimiser.step()
            loss_sum += per_job.detach()
            correct += (logits.detach().argmax(-1) == yb).float().mean(-1)
            bar.update(1)
        with torch.no_grad():
            val_loss, val_acc = _evaluate(forward, X, Y, val_rows_t, val_mask_t)
        for j, job in enumerate(jobs):
            history.append({
                "kind": job.split.kind, "repeat": job.split.repeat, "scenario": job.scenario, "epoch": epoch,
                "train_loss": float(loss_sum[j] / steps), "train_accuracy": float(correct[j] / steps),
                "val_loss": float(val_loss[j]), "val_accuracy": float(val_acc[j]),
            })
        if config.select_epoch == "best_val_loss":
            with torch.no_grad():
                better = val_loss < best_loss
                best_loss = torch.where(better, val_loss, best_loss)
                for stored, p in zip(best, params):
                    stored[better] = p.detach()[better]
    bar.close()
    if config.select_epoch == "best_val_loss":
        with torch.no_grad():
            for stored, p in zip(best, params):
                p.copy_(stored)

    # The test rows are scored once, after training.
    test_rows, test_mask = _padded([job.split.test for job in jobs])
    with torch.no_grad():
        proba = torch.softmax(forward(X[torch.from_numpy(test_rows), 0], False), dim=-1).numpy()
    test_proba = [proba[j, test_mask[j]] for j in range(n_jobs)]
    return HeadResults(list(jobs), test_proba, pd.DataFrame(history), class_weights)


def _evaluate(forward, X, Y, rows, mask):
    """Plain cross-entropy and accuracy per job on padded rows (view 0 only)."""
    logits = forward(X[rows, 0], False)
    yb = Y[rows]
    per_row = _row_ce(logits, yb)  # masked mean below, so per row
    m = mask.float()
    n = m.sum(-1)
    loss = (per_row * m).sum(-1) / n
    acc = ((logits.argmax(-1) == yb).float() * m).sum(-1) / n
    return loss, acc


def _row_ce(logits, y):
    """Per-row plain cross-entropy from logits, shape (R, n)."""
    import torch

    return -torch.log_softmax(logits, dim=-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)


# ------------------------------------------------------------------ scoring
def score_jobs(results: HeadResults, y: np.ndarray, class_names: Sequence[str] = ACNE_CLASSES, groups=None) -> pd.DataFrame:
    """One row per job: split sizes, accuracy, macro-F1, Brier score, per-class precision/recall/F1.

    With ``groups`` (near-duplicate group per row), also the accuracy on test
    rows that have a near-duplicate among the training rows (``acc_twin``) and
    on those that do not (``acc_clean``), and the share of twins.
    """
    from lossbook.core.metrics import multiclass_report

    y = np.asarray(y)
    rows = []
    for job, proba in zip(results.jobs, results.test_proba):
        truth = y[job.split.test]
        pred = proba.argmax(-1)
        report = multiclass_report(truth, pred, class_names)
        row = {"kind": job.split.kind, "repeat": job.split.repeat, "scenario": job.scenario,
               "n_train": len(job.split.train), "n_test": len(job.split.test),
               "accuracy": report.attrs["accuracy"], "macro_f1": float(report.loc["macro avg", "f1"]),
               # multi-class Brier score: mean squared distance of the probabilities from the one-hot truth
               "brier": float(np.mean(np.sum((proba - np.eye(proba.shape[1])[truth]) ** 2, axis=1)))}
        for name in class_names:
            for metric in ("precision", "recall", "f1"):
                row[f"{metric}:{name}"] = float(report.loc[name, metric])
        if groups is not None:
            twin = test_has_train_twin(job.split, groups)
            hit = pred == truth
            row["twin_share"] = float(twin.mean())
            row["acc_twin"] = float(hit[twin].mean()) if twin.any() else np.nan
            row["acc_clean"] = float(hit[~twin].mean()) if (~twin).any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def confusion_matrices(results: HeadResults, y: np.ndarray, k: int = len(ACNE_CLASSES)) -> dict:
    """Summed test confusion matrices per (kind, scenario), (k, k) counts, rows = truth."""
    from sklearn.metrics import confusion_matrix

    out: dict = {}
    for job, proba in zip(results.jobs, results.test_proba):
        cm = confusion_matrix(np.asarray(y)[job.split.test], proba.argmax(-1), labels=list(range(k)))
        key = (job.split.kind, job.scenario)
        out[key] = out.get(key, 0) + cm
    return out


def _mean_size_ratio(group: pd.DataFrame) -> tuple[int, int]:
    """(n_train, n_test) of a set of matched splits: the mean sizes, rounded (group splits vary a little)."""
    if not {"n_train", "n_test"} <= set(group.columns):
        raise ValueError("scores need n_train and n_test columns (from score_jobs) for the corrected interval")
    return int(round(group["n_train"].mean())), int(round(group["n_test"].mean()))


def single_run_spread(values, level: float = 0.95) -> dict:
    """The spread one run faces: the standard deviation of single runs' scores and the range that holds
    ``level`` of them (a t prediction interval, ``mean +/- t * sd * sqrt(1 + 1/n)``).

    Returns ``{"sd", "range_low", "range_high", "n"}`` (NaN for fewer than 2 values).
    """
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        return {"sd": np.nan, "range_low": np.nan, "range_high": np.nan, "n": int(x.size)}
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf((1 + level) / 2, x.size - 1) * sd * np.sqrt(1 + 1 / x.size))
    return {"sd": sd, "range_low": float(x.mean() - half), "range_high": float(x.mean() + half), "n": int(x.size)}


def summarize_scores(scores: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Mean per (kind, scenario) for each metric with the corrected resampled t-interval (long format).

    Repeated random splits share training images, so the naive t-interval is too
    narrow; the Nadeau-Bengio correction inflates the variance of the mean from
    ``s^2 / J`` to ``(1/J + n_test/n_train) s^2``, with ``n_test/n_train`` from the
    actual splits (columns of :func:`score_jobs`). For the export split (one fixed
    split, repeats differ only in the head's seed) the interval covers the seed's
    variation, widened by the same factor; it says nothing about other test sets.
    Columns: kind, scenario, metric, mean, std, ci_low, ci_high, n, n_train, n_test.
    """
    from lossbook.core.metrics import corrected_resampled_ttest

    rows = []
    for (kind, scenario), group in scores.groupby(["kind", "scenario"], sort=False):
        n_train, n_test = _mean_size_ratio(group)
        for metric in metrics:
            x = group[metric].to_numpy(float)
            x = x[~np.isnan(x)]
            row = {"kind": kind, "scenario": scenario, "metric": metric, "mean": float(x.mean()) if x.size else np.nan,
                   "std": float(x.std(ddof=1)) if x.size > 1 else np.nan, "ci_low": np.nan, "ci_high": np.nan,
                   "n": int(x.size), "n_train": n_train, "n_test": n_test}
            if x.size > 1:
                t = corrected_resampled_ttest(x, n_train, n_test)
                row.update(ci_low=t["ci_low"], ci_high=t["ci_high"])
            rows.append(row)
    return pd.DataFrame(rows)


def paired_differences(scores: pd.DataFrame, metrics: Sequence[str], *, baseline: str = "A", others: Sequence[str] = ("B",)) -> pd.DataFrame:
    """Per (kind, other scenario, metric): ``other - baseline`` over matched repeats, corrected resampled t-test.

    Repeats are matched on (kind, repeat): the same split and the same head seed.
    The interval and p-value are Nadeau and Bengio's (2003), with
    ``n_test/n_train`` from the actual splits. The returned rows are one family
    of paired tests: ``p_holm`` is the Holm-adjusted p-value over all of them,
    beside the raw ``p_value``; ``mde`` is the minimum detectable effect at 80 %
    power, what an interval holding zero could have seen. Columns: kind,
    scenario, baseline, metric, mean, std, ci_low, ci_high, n, p_value, p_holm,
    mde, share_positive, n_train, n_test.
    """
    from lossbook.core.inference import holm, minimum_detectable_effect
    from lossbook.core.metrics import corrected_resampled_ttest

    rows = []
    base = scores[scores["scenario"] == baseline].set_index(["kind", "repeat"])
    for other in others:
        alt = scores[scores["scenario"] == other].set_index(["kind", "repeat"])
        common = base.index.intersection(alt.index)
        for kind in common.get_level_values(0).unique():
            idx = [i for i in common if i[0] == kind]
            n_train, n_test = _mean_size_ratio(base.loc[idx])
            for metric in metrics:
                diff = alt.loc[idx, metric].to_numpy(float) - base.loc[idx, metric].to_numpy(float)
                t = corrected_resampled_ttest(diff, n_train, n_test)
                rows.append({"kind": kind, "scenario": other, "baseline": baseline, "metric": metric,
                             "mean": t["mean"], "std": float(diff.std(ddof=1)), "ci_low": t["ci_low"],
                             "ci_high": t["ci_high"], "n": int(diff.size), "p_value": t["p_value"],
                             "mde": minimum_detectable_effect(t["se"], df=t["df"]),
                             "share_positive": float(np.mean(diff > 0)), "n_train": n_train, "n_test": n_test})
    out = pd.DataFrame(rows)
    if len(out):
        out.insert(out.columns.get_loc("p_value") + 1, "p_holm", holm(out["p_value"].to_numpy()))
    return out


def objective_ratio(proba: np.ndarray, y_true: np.ndarray, class_weights: Sequence[float]) -> float:
    """Weighted over plain cross-entropy of the *same* predictions (``proba``: (n, k) softmax outputs).

    Both are means over the rows (``normalize="batch"``, as the heads train); a
    ratio away from 1 means the two objectives put the same model on different scales.
    """
    from lossbook.core.losses import make

    y_true = np.asarray(y_true)
    plain = make("weighted_ce", backend="numpy", gamma=0.0)
    weighted = make("weighted_ce", backend="numpy", class_weights=list(class_weights), gamma=0.0)
    return float(np.mean(weighted(y_true, proba)) / np.mean(plain(y_true, proba)))


def implied_min_support(errors: int, recall: float, decimals: int = 2) -> int:
    """Smallest class size consistent with ``errors`` examples of a class misclassified and its printed recall.

    A class of n test examples with recall r has ``(1 - r) * n`` misclassified,
    so ``n >= errors / (1 - r)``. The printed recall is rounded, so the true
    one is at least ``recall - 0.5 * 10**-decimals``; that gives the smallest n.
    """
    lower = recall - 0.5 * 10.0 ** (-decimals)
    if not 0 <= lower < 1 or errors < 0:
        raise ValueError(f"need errors >= 0 and a recall in [0, 1), got errors={errors!r}, recall={recall!r}")
    return int(np.ceil(errors / (1.0 - lower) - 1e-9))


# ------------------------------------------------------------ the chapter's tables and results
#: How the chapter's metric keys read on the page.
METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1", "brier": "Brier (lower is better)"}


def metric_label(metric: str) -> str:
    """``"f1:Papules"`` -> ``"F1, Papules"``; ``"macro_f1"`` -> ``"macro-F1"``."""
    if ":" in metric:
        name, cls = metric.split(":", 1)
        return f"{'F1' if name == 'f1' else name}, {cls}"
    return METRIC_NAMES.get(metric, metric.replace("_", " "))


def stat(summary: pd.DataFrame, kind: str, scenario: str, metric: str, key: str = "mean") -> float:
    """One number of :func:`summarize_scores` (or :func:`paired_differences`): ``key`` of (kind, scenario, metric)."""
    rows = summary[(summary["kind"] == kind) & (summary["scenario"] == scenario) & (summary["metric"] == metric)]
    if rows.empty:
        raise KeyError(f"no row for kind={kind!r}, scenario={scenario!r}, metric={metric!r}")
    return float(rows[key].iloc[0])


def _estimate(row, method: str = "corrected_t") -> Estimate:
    return Estimate(row["mean"], row["ci_low"], row["ci_high"], n=int(row["n"]), method=method)


def headline_frame(summary: pd.DataFrame, kinds: Sequence[str], scenarios: Sequence[str],
                   metrics: Sequence[str] = ("accuracy", "macro_f1"), paper: bool = True) -> pd.DataFrame:
    """Rows (kind, scenario); one :class:`Estimate` column per metric (mean, corrected interval), then (with
    ``paper``) the paper's accuracy and macro-F1 for scenarios A (Table 1) and B (Table 2), NaN for the others."""
    papers, with_paper = {"A": PAPER_TABLES["table1"], "B": PAPER_TABLES["table2"]}, paper
    rows = {}
    for kind in kinds:
        for scenario in scenarios:
            row = {}
            for metric in metrics:
                match = summary[(summary["kind"] == kind) & (summary["scenario"] == scenario)
                                & (summary["metric"] == metric)]
                row[metric_label(metric)] = _estimate(match.iloc[0])
            if with_paper:
                row["paper: accuracy"] = papers[scenario]["accuracy"] if scenario in papers else np.nan
                row["paper: macro-F1"] = papers[scenario]["macro_f1"] if scenario in papers else np.nan
            rows[(kind, scenario)] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def per_class_table(summary: pd.DataFrame, kind: str, scenario: str, paper_table: str,
                    classes: Sequence[str] = ACNE_CLASSES) -> pd.DataFrame:
    """Per-class precision, recall and F1: ours (mean over repeats of ``kind``, ``scenario``) beside the paper's
    ``paper_table`` ("table1" for A, "table2" for B). Rows: classes."""
    rows = {}
    for c in classes:
        row = {}
        for m in _P:
            row[f"{m}, ours"] = stat(summary, kind, scenario, f"{m}:{c}")
            row[f"{m}, paper"] = PAPER_TABLES[paper_table]["per_class"][c][m]
        rows[c] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def difference_frames(diffs: pd.DataFrame, scenario: str, kinds: Sequence[str], metrics: Sequence[str],
                      *, paper: Mapping[str, float] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``scenario`` minus A for the page, from :func:`paired_differences`.

    Returns ``(estimates, tests)``: ``estimates`` has rows = metrics (in words), one
    :class:`Estimate` column per split kind, and a ``paper`` column when ``paper``
    (``{metric: the paper's change}``) is given, the paper's change is written in the row's name
    ("accuracy (paper: +0.06)");
    ``tests`` has, per kind, the Holm-adjusted p-value and the minimum detectable
    effect at 80 % power (NaN where the interval excludes zero, so no MDE is needed).
    """
    estimates, tests = {}, {}
    for metric in metrics:
        name = metric_label(metric)
        if paper is not None and metric in paper:
            name = f"{name} (paper: {paper[metric]:+.2f})"
        estimates[name], tests[name] = {}, {}
        for kind in kinds:
            row = diffs[(diffs["kind"] == kind) & (diffs["scenario"] == scenario) & (diffs["metric"] == metric)]
            row = row.iloc[0]
            estimates[name][kind] = _estimate(row)
            tests[name][f"{kind}: Holm p"] = row["p_holm"]
            tests[name][f"{kind}: MDE"] = row["mde"] if row["ci_low"] <= 0 <= row["ci_high"] else np.nan
    return pd.DataFrame.from_dict(estimates, orient="index"), pd.DataFrame.from_dict(tests, orient="index")


def history_dicts(history: pd.DataFrame, kind: str, scenarios: Sequence[str]) -> dict:
    """``{scenario: [one Keras-style history dict per repeat]}`` of the ``kind`` split, for
    :func:`lossbook.core.plots.training_curves` (keys ``loss``, ``val_loss``, ``accuracy``, ``val_accuracy``)."""
    out = {}
    sub = history[history["kind"] == kind]
    for scenario in scenarios:
        runs = []
        for _, h in sub[sub["scenario"] == scenario].sort_values("epoch").groupby("repeat", sort=True):
            runs.append({"loss": h["train_loss"].to_list(), "val_loss": h["val_loss"].to_list(),
                         "accuracy": h["train_accuracy"].to_list(), "val_accuracy": h["val_accuracy"].to_list()})
        if runs:
            out[scenario] = runs
    return out


def results_block(kind: str, *, summary: pd.DataFrame, scores: pd.DataFrame, diffs: pd.DataFrame,
                  twin: pd.DataFrame, split_table: pd.DataFrame, scenarios: Sequence[str],
                  metrics: Sequence[str], diff_metrics: Sequence[str]) -> dict:
    """What the results file records for one split ``kind``.

    Per scenario: every metric of ``metrics`` as an :class:`Estimate` (corrected
    interval), the single-run accuracy spread and the near-duplicate accuracies
    (from ``twin``, indexed by (kind, scenario)); per scenario other than A,
    ``<scenario>_minus_A`` with every metric of ``diff_metrics`` (difference,
    width, std, p-values, MDE, share positive, sizes); and ``split``, the row
    of ``split_table`` for ``kind``.
    """
    out = {}
    for scenario in scenarios:
        block = {}
        for metric in metrics:
            row = summary.query("kind == @kind and scenario == @scenario and metric == @metric").iloc[0]
            block[metric.replace(":", "_")] = Estimate(row["mean"], row["ci_low"], row["ci_high"], n=int(row["n"]),
                                                       method="corrected_t").to_dict()
        values = scores.query("kind == @kind and scenario == @scenario")["accuracy"]
        block["accuracy_single_run"] = single_run_spread(values)
        t = twin.loc[(kind, scenario)]
        block["test_twin_share"] = float(t["twin_share"])
        block["accuracy_on_test_with_train_twin"] = float(t["acc_twin"])
        block["accuracy_on_test_without_train_twin"] = float(t["acc_clean"])
        out[scenario] = block
    for other in [s for s in scenarios if s != "A"]:
        block = {}
        for metric in diff_metrics:
            row = diffs.query("kind == @kind and scenario == @other and metric == @metric").iloc[0]
            block[metric.replace(":", "_")] = {
                "difference": Estimate(row["mean"], row["ci_low"], row["ci_high"], n=int(row["n"]),
                                       method="corrected_t").to_dict(),
                "width": float(row["ci_high"] - row["ci_low"]), "std": float(row["std"]),
                "p_value": float(row["p_value"]), "p_holm": float(row["p_holm"]), "mde": float(row["mde"]),
                "share_positive": float(row["share_positive"]),
                "n_train": int(row["n_train"]), "n_test": int(row["n_test"]),
            }
        out[f"{other}_minus_A"] = block
    out["split"] = {k: float(v) for k, v in split_table.loc[kind].items()}
    return out


def twin_accuracy(scores: pd.DataFrame, kinds: Sequence[str], scenarios: Sequence[str]) -> pd.DataFrame:
    """Mean over repeats, per (kind, scenario): the share of test images with a near-duplicate in the training
    rows (``twin_share``), the accuracy on those (``acc_twin``) and on the others (``acc_clean``), and
    ``twin minus clean``."""
    twin = scores.groupby(["kind", "scenario"], sort=False)[["twin_share", "acc_twin", "acc_clean"]].mean()
    twin["twin minus clean"] = twin["acc_twin"] - twin["acc_clean"]
    return twin.reindex(pd.MultiIndex.from_product([list(kinds), list(scenarios)], names=["kind", "scenario"]))


def random_minus_group(summary: pd.DataFrame, scenarios: Sequence[str], n_repeats: int,
                       metrics: Sequence[str] = ("accuracy", "macro_f1")) -> pd.DataFrame:
    """Mean score under the random split minus under the group split, per scenario and metric.

    The two splits have different test images, so the difference is not paired:
    its 95 % interval combines the two corrected standard errors (each recovered
    from its interval's half-width and the t quantile with ``n_repeats - 1``
    degrees of freedom) with the normal quantile, Welch-style. Columns:
    scenario, metric, random, group, random minus group, half-width, ci_low, ci_high.
    """
    from scipy import stats as _stats

    t975 = float(_stats.t.ppf(0.975, n_repeats - 1)) if n_repeats > 1 else np.nan
    rows = [{"scenario": scenario, "metric": metric, "random": stat(summary, "random", scenario, metric),
             "group": stat(summary, "group", scenario, metric)} for scenario in scenarios for metric in metrics]
    leak = pd.DataFrame(rows)
    leak["random minus group"] = leak["random"] - leak["group"]
    leak["half-width"] = [1.96 * np.hypot(*(stat(summary, k, r["scenario"], r["metric"], "ci_high")
                                            - stat(summary, k, r["scenario"], r["metric"], "mean")
                                            for k in ("random", "group")))
                          / t975 for _, r in leak.iterrows()]
    leak["ci_low"] = leak["random minus group"] - leak["half-width"]
    leak["ci_high"] = leak["random minus group"] + leak["half-width"]
    return leak


# ------------------------------------------------------------ the chapter's steps, one function each
def implied_support_frame(index: pd.DataFrame) -> pd.DataFrame:
    """The smallest test class each of the paper's off-diagonal confusion counts implies, beside this data.

    ``index``: the image index (columns ``class_name`` and ``roboflow_split``).
    One row per (scenario, true class, predicted class) of ``PAPER_FACTS["confusions"]``:
    the paper's error count and printed recall, :func:`implied_min_support`, a
    stratified 10 % of the class in ``index`` and the class's size in the export's
    test split. Columns as the chapter's table shows them.
    """
    counts = index["class_name"].value_counts()
    rows = []
    for scenario, table in (("A", "table1"), ("B", "table2")):
        for (true, predicted), errors in PAPER_FACTS["confusions"][scenario].items():
            recall = PAPER_TABLES[table]["per_class"][true]["recall"]
            rows.append({
                "scenario": scenario, "true class": true, "predicted as": predicted, "errors": errors,
                "printed recall": recall, "implied test images (at least)": implied_min_support(errors, recall),
                "10 % of the class here": int(round(0.1 * counts[true])),
                "export's test split": int(((index["class_name"] == true) & (index["roboflow_split"] == "test")).sum()),
            })
    return pd.DataFrame(rows)


def split_leakage_table(splits: Mapping[str, Sequence[Split]], groups) -> pd.DataFrame:
    """Mean over repeats, per split kind: part sizes and how much near-duplicate leakage each kind leaves.

    ``splits``: ``{kind: [Split, ...]}`` (:func:`make_splits`); ``groups``: the
    near-duplicate group of every image row, shape (n_images,). Rows: kinds in
    ``splits`` order. Columns: ``train``, ``val``, ``test`` (images), ``groups
    crossing`` (groups on more than one side), ``test with a train twin`` (share
    of test images with a near-duplicate among the training images) and ``test
    with a validation twin only``.
    """
    groups = np.asarray(groups)
    rows = []
    for kind, items in splits.items():
        for s in items:
            twin = test_has_train_twin(s, groups)
            rows.append({
                "kind": kind, "repeat": s.repeat, "train": len(s.train), "val": len(s.val), "test": len(s.test),
                "groups crossing": len(crossing_groups(s, groups)),
                "test with a train twin": float(twin.mean()),
                "test with a validation twin only": float((np.isin(groups[s.test], groups[s.val]) & ~twin).mean()),
            })
    return pd.DataFrame(rows).groupby("kind", sort=False).mean(numeric_only=True).drop(columns="repeat")


def head_jobs(splits: Mapping[str, Sequence[Split]], scenarios: Sequence[str], *, seed: int) -> list[HeadJob]:
    """One :class:`HeadJob` per (split, scenario), in the order kind, repeat, scenario.

    All scenarios of one split share its head seed (derived from ``seed``, the
    kind's position in :data:`SPLIT_KINDS` and the repeat), so a paired
    difference between scenarios isolates the loss.
    """
    return [HeadJob(s, scenario, derive_seed(seed, list(SPLIT_KINDS).index(kind), s.repeat, 7))
            for kind, items in splits.items() for s in items for scenario in scenarios]


def features_description(shape: Sequence[int], n_views: int) -> str:
    """The embeddings' shape (images, views, features) in words, for the text."""
    return f"{shape[0]} images × {shape[1]} views (plain + {n_views} augmented) × {shape[2]} features"


#: Short metric names for a figure's axis (per-class F1 reads as the class's name).
_AXIS_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1", "brier": "Brier"}


def difference_figure(diffs: pd.DataFrame, kinds: Sequence[str], metrics: Sequence[str], *, scenario: str = "B",
                      paper: Mapping[str, float] = PAPER_B_MINUS_A):
    """One panel per split kind: ``scenario`` minus A per metric (mean, corrected 95 % interval) and the paper's change.

    ``diffs``: :func:`paired_differences`; ``metrics``: its metric keys, in axis
    order (``"f1:<class>"`` is labelled with the class). Returns the figure, for
    :func:`lossbook.core.plots.save_figure`.
    """
    import matplotlib.pyplot as plt

    from lossbook.core import plots

    fig, axes = plt.subplots(1, len(kinds), figsize=(plots.PAGE_WIDTH_IN, 3.4), sharey=True, squeeze=False)
    labels = [_AXIS_NAMES.get(m, m.split(":", 1)[-1]) for m in metrics]
    x = np.arange(len(metrics))
    for ax, kind in zip(axes[0], kinds):
        d = diffs[(diffs["kind"] == kind) & (diffs["scenario"] == scenario)].set_index("metric").reindex(metrics)
        ax.errorbar(x, d["mean"], yerr=[d["mean"] - d["ci_low"], d["ci_high"] - d["mean"]], fmt="o", capsize=3,
                    color=plots.PALETTE[0], label=f"ours ({scenario} − A)")
        ax.scatter(x, [paper.get(m, np.nan) for m in metrics], marker="D",
                   color=plots.LOSS_COLORS["paper"], s=18, label="paper", zorder=3)
        ax.axhline(0, color=plots.NEUTRAL, lw=0.8)
        ax.set_xticks(x, labels, rotation=60, ha="right", rotation_mode="anchor")
        ax.set_title(f"{kind} split")
    axes[0][0].set_ylabel(f"{scenario} minus A")
    axes[0][-1].legend()
    return fig


def class_weight_rows(results: HeadResults, scenario: str, kind: str) -> list[tuple[float, ...]]:
    """The class weights (one tuple of k per job) that ``scenario``'s heads on ``kind`` splits trained with;
    empty when that scenario uses none."""
    return [w for job, w in zip(results.jobs, results.class_weights)
            if job.scenario == scenario and job.split.kind == kind and w]


def weights_frame(weight_rows: Sequence[Sequence[float]], diffs: pd.DataFrame, kind: str,
                  classes: Sequence[str] = ACNE_CLASSES) -> pd.DataFrame:
    """Scenario B's mean balanced weight per class beside the paper's per-class F1 gain (Table 3) and ours.

    ``weight_rows``: :func:`class_weight_rows` of B, each of length ``len(classes)``;
    ``diffs``: :func:`paired_differences` with B's ``f1:<class>`` rows for ``kind``.
    Rows: classes. Columns: ``balanced weight (B)``, ``paper's F1 gain``, ``our F1 gain (B − A)``.
    """
    return pd.DataFrame({
        "balanced weight (B)": np.mean(weight_rows, axis=0),
        "paper's F1 gain": [PAPER_TABLES["table3"][c] for c in classes],
        "our F1 gain (B − A)": [stat(diffs, kind, "B", f"f1:{c}") for c in classes],
    }, index=list(classes))


_RANKS = ["largest", "second largest", "third largest", "fourth largest", "smallest"]


def weight_reading(weights: pd.DataFrame) -> str:
    """What :func:`weights_frame` shows, in a clause: where the paper's largest F1 gain falls among the weights
    (five classes), with the verdict that the weighting can hardly explain it unless it has the largest weight."""
    column = weights["balanced weight (B)"]
    top_gain = weights["paper's F1 gain"].idxmax()
    rank = int(column.rank(ascending=False)[top_gain])
    return (f"the paper's largest gain ({top_gain}) falls on the class with the "
            f"{_RANKS[rank - 1]} of the five weights "
            f"({column[top_gain]:.2f}, against {column.max():.2f} for {column.idxmax()})"
            + (": if the paper's data resemble this export, the weighting can hardly explain that gain" if rank > 1 else ""))


def objective_scale(results: HeadResults, y: np.ndarray, kind: str) -> Estimate:
    """Weighted over plain cross-entropy of scenario A's own test predictions, over the ``kind`` splits.

    Each of A's heads on a ``kind`` split gives one :func:`objective_ratio`, with
    B's balanced weights from that split's training rows. Returns their mean with
    a 95 % *t*-interval (no interval from a single head).
    """
    from lossbook.core.losses import balanced_class_weights
    from lossbook.core.metrics import summarize

    y = np.asarray(y)
    ratios = [objective_ratio(proba, y[job.split.test], balanced_class_weights(y[job.split.train]))
              for job, proba in zip(results.jobs, results.test_proba)
              if job.scenario == "A" and job.split.kind == kind]
    r = summarize(ratios)
    if r["n"] > 1:
        return Estimate(r["mean"], r["ci_low"], r["ci_high"], n=r["n"], method="t")
    return Estimate(r["mean"], n=r["n"])


def objective_reading(scale: Estimate) -> str:
    """What :func:`objective_scale` means for the paper's comparison of validation losses, in a clause."""
    if scale.excludes(1.0):
        return ("the same predictions get a different loss value under each objective, so a lower weighted loss is "
                "no sign of a better model")
    return ("on this export the two objectives put the same predictions on nearly the same scale, so the scale alone "
            "does not explain a gap like the paper's; its comparison is still one of two different functions")


def paper_record(implied: pd.DataFrame) -> dict:
    """The paper's numbers for the results file: its tables, facts, confusion counts (keyed ``"true->predicted"``)
    and ``implied``, the rows of :func:`implied_support_frame`."""
    return {"tables": PAPER_TABLES, "facts": {k: v for k, v in PAPER_FACTS.items() if k != "confusions"},
            "confusions": {s: {f"{a}->{b}": n for (a, b), n in d.items()} for s, d in PAPER_FACTS["confusions"].items()},
            "implied_min_test_support": implied.to_dict(orient="records")}


def mean_class_weights(weight_rows: Sequence[Sequence[float]], classes: Sequence[str] = ACNE_CLASSES) -> dict | None:
    """``{class: mean weight}`` over ``weight_rows`` (:func:`class_weight_rows`); None when there are none."""
    if not weight_rows:
        return None
    return dict(zip(classes, map(float, np.mean(weight_rows, axis=0))))


def random_minus_group_record(leak: pd.DataFrame, n_repeats: int) -> dict:
    """:func:`random_minus_group` for the results file: ``{"<scenario>_<metric>": Estimate dict}``."""
    return {f"{r['scenario']}_{r['metric']}": Estimate(r["random minus group"], r["ci_low"], r["ci_high"],
                                                      n=n_repeats, method="t").to_dict()
            for _, r in leak.iterrows()}


def data_checksums(data_dir: str | None, image_checksums: Sequence[str]) -> dict:
    """The data's checksums for the results file: ``splits.csv``'s sha256, and one sha256 over the sorted
    per-image sha256 list (``image_checksums``, one per image). ``data_dir``: the folder holding ``acne/``,
    or None for ``$LOSSBOOK_DATA_DIR``."""
    import hashlib

    from lossbook.core import data as lbdata

    folder = lbdata.acne_dir(f"{data_dir}/acne" if data_dir else None)
    return {"splits.csv": lbdata.sha256_file(folder / "splits.csv"),
            "images (sha256 of the sorted per-image sha256 list)":
                hashlib.sha256("".join(sorted(image_checksums)).encode()).hexdigest()}
