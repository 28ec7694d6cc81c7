"""The synthetic 99:1 study: the tutorial's data, many small networks trained at once, the stress test.

The MarkTechPost tutorial "Focal Loss vs Binary Cross-Entropy" (2025) trains one 2-16-8-1 network with BCE and one
with focal loss on a ``make_classification`` dataset with a 99:1 class ratio
and reads the two confusion matrices. This module provides

* :func:`make_dataset` - the tutorial's data (any ``random_state``), its 70/30
  split, and which labels ``make_classification`` replaced at random
  (:func:`trace_label_noise`);
* :class:`BatchedMLP` and :func:`train_members` - many copies of the
  tutorial's network trained together as one model; member ``i`` starts
  exactly where ``torch.manual_seed(seed_i); tutorial_network()`` starts and
  follows the same Adam trajectory (the batched loss is a *sum* of per-member
  mean losses, and Adam updates every scalar on its own);
* :func:`score_members` - vectorised test metrics for many members at once;
* :class:`StressConfig` and :func:`run_stress` - the stress-test protocol
  (seeds x dataset draws x losses and controls) as a tidy table;
* :func:`summarize_arms` and :func:`paired_differences` - the summaries the
  chapter reports.

Facts quoted from the tutorial live in :data:`TUTORIAL_REPORTED` and the
``TUTORIAL_*`` dicts; everything else is computed.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lossbook.core import params as checks
from lossbook.core.estimate import Estimate
from lossbook.core.inference import minimum_detectable_effect
from lossbook.core.metrics import average_precision, roc_auc
from lossbook.core.params import Interval, ListOf
from lossbook.nets.torch_stack import StackedMLP

# ---------------------------------------------------------------------------
# Facts from the tutorial
# ---------------------------------------------------------------------------

#: ``make_classification`` arguments of the tutorial (its ``random_state`` is 42).
TUTORIAL_DATASET = {
    "n_samples": 6000,
    "n_features": 2,
    "n_redundant": 0,
    "n_clusters_per_class": 1,
    "weights": (0.99, 0.01),
    "class_sep": 1.5,
}
TUTORIAL_RANDOM_STATE = 42
#: ``train_test_split(X, y, test_size=0.3, random_state=42)``.
TUTORIAL_SPLIT = {"test_size": 0.3, "random_state": 42}
#: Network and optimiser: 2-16-8-1 ReLU MLP with a sigmoid output, Adam, full batch.
TUTORIAL_TRAINING = {"layers": (2, 16, 8, 1), "lr": 0.01, "epochs": 30, "threshold": 0.5}
#: The tutorial's focal loss: ``-alpha * (1 - p_t)**gamma * log(p_t)`` with ONE alpha
#: for every example (not the class-dependent alpha_t of Lin et al.), probabilities
#: clamped to [1e-7, 1 - 1e-7].
TUTORIAL_FOCAL = {"alpha": 0.25, "gamma": 2.0, "clamp": 1e-7}
#: What the tutorial reports on its test split (its confusion matrices and printed accuracies).
TUTORIAL_REPORTED = {
    "bce": {"minority_found": 1, "minority_missed": 27, "accuracy": 0.98},
    "focal": {"minority_found": 14, "minority_missed": 14, "accuracy": 0.99},
}

#: Metrics computed for every trained member.
MEMBER_METRICS = (
    "minority_found", "minority_missed", "false_positives", "accuracy",
    "balanced_accuracy", "roc_auc", "pr_auc", "recall", "precision", "brier",
)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SyntheticData:
    """One draw of the tutorial's dataset with its train/test split.

    Attributes
    ----------
    X : ndarray, shape (n_samples, 2), float64
    y : ndarray, shape (n_samples,), int (1 = minority)
    flip_assigned : ndarray, shape (n_samples,), bool
        The label was drawn at random by ``make_classification``'s ``flip_y``
        step (it may have landed on the original class).
    label_changed : ndarray, shape (n_samples,), bool
        The random label differs from the cluster the point was drawn from:
        these are the noisy labels.
    train_idx, test_idx : ndarray of int
        Row indices of the split (the same rows ``train_test_split(X, y, ...)`` gives).
    random_state, flip_y, split_state
        How it was generated.
    """

    X: np.ndarray
    y: np.ndarray
    flip_assigned: np.ndarray
    label_changed: np.ndarray
    train_idx: np.ndarray
    test_idx: np.ndarray
    random_state: int
    flip_y: float
    split_state: int

    @property
    def X_train(self) -> np.ndarray:
        return self.X[self.train_idx]

    @property
    def y_train(self) -> np.ndarray:
        return self.y[self.train_idx]

    @property
    def X_test(self) -> np.ndarray:
        return self.X[self.test_idx]

    @property
    def y_test(self) -> np.ndarray:
        return self.y[self.test_idx]

    def noise_counts(self) -> dict:
        """Minority counts, and how many minority labels are noise (0 -> 1 flips), overall and on test."""
        noisy_pos = self.label_changed & (self.y == 1)
        lost_pos = self.label_changed & (self.y == 0)
        test = np.zeros(len(self.y), bool)
        test[self.test_idx] = True
        return {
            "n_positive": int(self.y.sum()),
            "n_positive_test": int(self.y[test].sum()),
            "n_positive_train": int(self.y[~test].sum()),
            "n_flip_assigned": int(self.flip_assigned.sum()),
            "n_flipped_positive": int(noisy_pos.sum()),
            "n_flipped_positive_test": int(noisy_pos[test].sum()),
            "n_flipped_negative": int(lost_pos.sum()),
        }


class _TracingState(np.random.RandomState):
    """A RandomState that draws exactly what the plain one draws, but marks the
    labels assigned by ``make_classification``'s flip step (+2) and records
    the sample permutation of its final shuffle."""

    def __init__(self, seed: int):
        super().__init__(seed)
        self.randint_calls = 0
        self.permutations: list[np.ndarray] = []

    def randint(self, *args, **kwargs):  # the flip step is the only randint call
        self.randint_calls += 1
        return super().randint(*args, **kwargs) + 2

    def shuffle(self, x):
        super().shuffle(x)
        self.permutations.append(np.array(x, copy=True))


def _cluster_sizes(n_samples: int, weights: Sequence[float], n_clusters_per_class: int) -> list[int]:
    # make_classification's rule for distributing samples over clusters (a fact of the generator).
    n_classes = len(weights)
    n_clusters = n_classes * n_clusters_per_class
    sizes = [int(n_samples * weights[k % n_classes] / n_clusters_per_class) for k in range(n_clusters)]
    for i in range(n_samples - sum(sizes)):
        sizes[i % n_clusters] += 1
    return sizes


def trace_label_noise(random_state: int, *, flip_y: float = 0.01, **dataset) -> tuple:
    """Generate ``make_classification(**dataset, flip_y=flip_y, random_state=random_state)``
    and say which labels its flip step replaced.

    The data are generated with a RandomState that consumes exactly the same
    random numbers as the plain one, so ``X`` and ``y`` are identical to the
    tutorial's (checked here). The flip step draws a uniform per sample and
    gives those below ``flip_y`` a uniformly random class; we tag those, and
    recover each point's original class from the generator's cluster layout
    and its final sample shuffle.

    Returns
    -------
    X : ndarray (n, n_features); y : ndarray (n,) int;
    flip_assigned : ndarray (n,) bool; label_changed : ndarray (n,) bool
    """
    from sklearn.datasets import make_classification

    spec = {**TUTORIAL_DATASET, **dataset}
    if len(spec["weights"]) != 2:
        raise ValueError(f"weights: expected two class weights, got {spec['weights']!r}")
    spec["weights"] = list(spec["weights"])
    X, y = make_classification(**spec, flip_y=flip_y, random_state=random_state)
    state = _TracingState(random_state)
    X_t, y_marked = make_classification(**spec, flip_y=flip_y, random_state=state)
    n = spec["n_samples"]
    flip_assigned = y_marked >= 2
    y_t = np.where(flip_assigned, y_marked - 2, y_marked)
    perms = [p for p in state.permutations if len(p) == n]
    if state.randint_calls != 1 or not perms or not np.array_equal(X, X_t) or not np.array_equal(y, y_t):
        raise RuntimeError(
            "trace_label_noise: scikit-learn's make_classification no longer draws its "
            "random numbers as expected; the label-noise count cannot be traced"
        )
    sizes = _cluster_sizes(n, spec["weights"], spec["n_clusters_per_class"])
    pre_shuffle = np.concatenate([np.full(s, k % 2) for k, s in enumerate(sizes)])
    original = pre_shuffle[perms[0]]
    if not np.array_equal(original[~flip_assigned], y[~flip_assigned]):
        raise RuntimeError("trace_label_noise: recovered original classes disagree with unflipped labels")
    return X, y, flip_assigned, original != y


def make_dataset(
    random_state: int = TUTORIAL_RANDOM_STATE,
    *,
    flip_y: float = 0.01,
    split_state: int | None = None,
    test_size: float = TUTORIAL_SPLIT["test_size"],
) -> SyntheticData:
    """The tutorial's dataset for one ``random_state`` and its train/test split.

    ``split_state`` defaults to ``random_state`` (the tutorial uses 42 for both).
    """
    from sklearn.model_selection import train_test_split

    if not 0 <= flip_y <= 1:
        raise ValueError(f"flip_y must lie in [0, 1], got {flip_y!r}")
    split_state = random_state if split_state is None else split_state
    X, y, assigned, changed = trace_label_noise(random_state, flip_y=flip_y)
    # Splitting row indices gives the same rows as splitting (X, y): the shuffle ignores content.
    train_idx, test_idx = train_test_split(np.arange(len(y)), test_size=test_size, random_state=split_state)
    return SyntheticData(X, y, assigned, changed, train_idx, test_idx, int(random_state), float(flip_y),
                         int(split_state))


def carve_validation(y_train: np.ndarray, *, fraction: float = 0.25, random_state: int = 0):
    """Stratified split of TRAINING rows into (fit, validation) position arrays.

    Used to choose a decision threshold without touching the test split.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {fraction!r}")
    idx = np.arange(len(y_train))
    fit, val = train_test_split(idx, test_size=fraction, stratify=y_train, random_state=random_state)
    return np.sort(fit), np.sort(val)


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------

def set_torch_threads(n_threads: int | None = 1) -> int:
    """Fix torch's intra-op threads; a fixed count keeps floating-point sums reproducible.

    One thread is the default: the networks are tiny, and on a shared,
    oversubscribed machine a second OpenMP thread mostly waits at barriers
    (measured: about 3x more CPU per network with 2 threads there).
    """
    import torch

    n = n_threads or min(2, os.cpu_count() or 1)
    torch.set_num_threads(int(n))
    return int(n)


def tutorial_network(layers: Sequence[int] = TUTORIAL_TRAINING["layers"]):
    """The tutorial's network as a plain ``nn.Sequential``: Linear/ReLU stack with a sigmoid output."""
    from torch import nn

    modules = []
    for i, (fan_in, fan_out) in enumerate(zip(layers[:-1], layers[1:])):
        if i:
            modules.append(nn.ReLU())
        modules.append(nn.Linear(fan_in, fan_out))
    modules.append(nn.Sigmoid())
    return nn.Sequential(*modules)


def initial_weights(seed: int, layers: Sequence[int] = TUTORIAL_TRAINING["layers"]):
    """Weights of ``tutorial_network`` built right after ``torch.manual_seed(seed)``.

    Returns a list of ``(W, b)`` per layer with ``W`` of shape (in, out) and
    ``b`` of shape (out,). The global torch RNG is left untouched.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        net = tutorial_network(layers)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    return [(m.weight.detach().T.clone(), m.bias.detach().clone()) for m in linears]


class BatchedMLP(StackedMLP):
    """``n_members`` independent copies of the tutorial's network, evaluated as one
    (:class:`lossbook.nets.torch_stack.StackedMLP` with a sigmoid output).

    Layer ``l`` holds ``W[l]`` of shape (n_members, in, out) and ``b[l]`` of
    shape (n_members, 1, out); member ``i`` starts from the weights
    ``torch.manual_seed(seeds[i]); tutorial_network()`` gives and computes exactly
    what that ``nn.Sequential`` computes. Calling it returns probabilities of
    shape (n_members, n) for ``X`` of shape (n, in) (shared) or (n_members, n, in).
    """

    def __init__(self, seeds: Sequence[int], layers: Sequence[int] = TUTORIAL_TRAINING["layers"]):
        import torch

        if len(seeds) == 0:
            raise ValueError("seeds: need at least one member")
        self.layers = tuple(int(v) for v in layers)
        self.seeds = [int(s) for s in seeds]
        inits = [initial_weights(s, self.layers) for s in self.seeds]
        super().__init__([torch.stack([m[l][0] for m in inits]) for l in range(len(self.layers) - 1)],
                         [torch.stack([m[l][1] for m in inits]).unsqueeze(1) for l in range(len(self.layers) - 1)],
                         output="sigmoid")

    def member(self, i: int):
        """Member ``i`` as a plain ``nn.Sequential`` (a copy of its current weights)."""
        import torch

        net = tutorial_network(self.layers)
        linears = [m for m in net if isinstance(m, torch.nn.Linear)]
        with torch.no_grad():
            for lin, W, b in zip(linears, self.weights, self.biases):
                lin.weight.copy_(W[i].T)
                lin.bias.copy_(b[i, 0])
        return net


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LossSpec:
    """A named loss configuration: ``lossbook.core.losses.make(loss, "torch", **params)`` times ``scale``.

    ``scale`` expresses the tutorial's focal loss, whose single alpha multiplies
    every example's loss alike.
    """

    arm: str
    loss: str
    params: tuple = ()
    scale: float = 1.0

    def build(self) -> Callable:
        """Loss ``f(y_true (m, n), y_prob (m, n)) -> (m,)``: each member's mean loss."""
        from lossbook.core import losses

        fn = losses.make(self.loss, "torch", axis=-1, **dict(self.params))
        scale = float(self.scale)
        if scale == 1.0:
            return fn
        return lambda y_true, y_prob: scale * fn(y_true, y_prob)


def tutorial_focal_spec(arm: str = "focal") -> LossSpec:
    """The tutorial's focal loss: ``alpha * FL_gamma`` with alpha applied to every example."""
    return LossSpec(arm, "focal", (("alpha", None), ("gamma", TUTORIAL_FOCAL["gamma"])), TUTORIAL_FOCAL["alpha"])


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------

def train_batch(
    X,
    y,
    member_specs: Sequence[LossSpec],
    member_seeds: Sequence[int],
    *,
    lr: float = TUTORIAL_TRAINING["lr"],
    epochs: int = TUTORIAL_TRAINING["epochs"],
    layers: Sequence[int] = TUTORIAL_TRAINING["layers"],
) -> BatchedMLP:
    """Train one network per entry of ``member_specs``/``member_seeds``, all at once, full batch.

    Member ``i`` starts from ``initial_weights(member_seeds[i])`` and minimises
    its own mean loss ``member_specs[i]``. The optimised objective is the SUM
    of the members' losses, so each member's gradient is its own; one Adam
    over the stacked parameters then updates each member exactly as a separate
    Adam would (Adam's update is elementwise).

    Parameters
    ----------
    X : array (n, in) shared by all members, or (n_members, n, in)
    y : array (n,) of 0/1 shared, or (n_members, n)
    member_specs : one :class:`LossSpec` per member; members with the same
        spec should be adjacent (each run of equal specs is one loss call).
    """
    import itertools

    import torch

    if len(member_specs) != len(member_seeds):
        raise ValueError(f"member_specs ({len(member_specs)}) and member_seeds ({len(member_seeds)}) differ in length")
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y), dtype=torch.float32)
    M = len(member_seeds)
    target = y.unsqueeze(0).expand(M, -1) if y.dim() == 1 else y
    if target.shape[0] != M or target.shape[1] != X.shape[-2]:
        raise ValueError(f"y has shape {tuple(y.shape)}; expected ({X.shape[-2]},) or ({M}, {X.shape[-2]})")
    runs, start = [], 0
    for spec, group in itertools.groupby(member_specs):
        size = len(list(group))
        runs.append((spec.build(), start, start + size))
        start += size
    model = BatchedMLP(member_seeds, layers)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(int(epochs)):
        probs = model(X)
        loss = sum(fn(target[a:b], probs[a:b]).sum() for fn, a, b in runs)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def train_members(X, y, specs: Sequence[LossSpec], seeds: Sequence[int], **training) -> BatchedMLP:
    """Train ``len(specs) * len(seeds)`` networks on one training set at once.

    Member ``k * len(seeds) + j`` uses loss ``specs[k]`` and the initial
    weights of seed ``seeds[j]``. ``training``: lr, epochs, layers (see :func:`train_batch`).
    """
    return train_batch(X, y, [s for s in specs for _ in seeds], [s for _ in specs for s in seeds], **training)


def predict(model: BatchedMLP, X) -> np.ndarray:
    """Member probabilities for ``X`` (n, in) or (n_members, n, in) as float64 array (n_members, n)."""
    import torch

    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(X), dtype=torch.float32)).double().numpy()


# ---------------------------------------------------------------------------
# Vectorised scores
# ---------------------------------------------------------------------------

def _tie_groups(sorted_scores: np.ndarray) -> np.ndarray:
    """For rows sorted descending, the index of the last element of each element's tie group."""
    n = sorted_scores.shape[1]
    is_end = np.ones_like(sorted_scores, dtype=bool)
    is_end[:, :-1] = sorted_scores[:, :-1] != sorted_scores[:, 1:]
    end_idx = np.where(is_end, np.arange(n), n)
    return np.minimum.accumulate(end_idx[:, ::-1], axis=1)[:, ::-1]


def score_members(y_true, probs, threshold=0.5) -> pd.DataFrame:
    """Test metrics for many members at once.

    Parameters
    ----------
    y_true : array (n,) of 0/1
    probs : array (n_members, n) of probabilities
    threshold : float or array (n_members,)
        A member predicts the minority where ``prob > threshold`` (the tutorial's rule).

    Returns
    -------
    DataFrame with one row per member and columns :data:`MEMBER_METRICS`.
    """
    y = np.asarray(y_true).astype(int)
    p = np.asarray(probs, dtype=float)
    if p.ndim != 2 or p.shape[1] != len(y):
        raise ValueError(f"probs must have shape (n_members, {len(y)}), got {p.shape}")
    thr = np.broadcast_to(np.asarray(threshold, dtype=float), (p.shape[0],))[:, None]
    pred = p > thr
    pos = y == 1
    tp = (pred & pos).sum(axis=1)
    fp = (pred & ~pos).sum(axis=1)
    fn = pos.sum() - tp
    tn = (~pos).sum() - fp
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(pos.sum() > 0, tp / max(pos.sum(), 1), np.nan)
        specificity = tn / max((~pos).sum(), 1)
        precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0)
    return pd.DataFrame({
        "minority_found": tp, "minority_missed": fn, "false_positives": fp,
        "accuracy": (tp + tn) / len(y),
        "balanced_accuracy": (recall + specificity) / 2,
        "roc_auc": roc_auc(y, p), "pr_auc": average_precision(y, p),
        "recall": recall, "precision": precision,
        "brier": ((p - y[None, :]) ** 2).mean(axis=1),
    })


def f1_thresholds(y_true, probs) -> np.ndarray:
    """Per member, the threshold that maximises F1 on (validation) data.

    Candidates cut between consecutive distinct scores (midpoints), so that
    ``prob > threshold`` selects exactly a top group; ties in F1 go to the
    higher threshold. Returns an array (n_members,).
    """
    y = np.asarray(y_true).astype(int)
    p = np.asarray(probs, dtype=float)
    n_pos = int(y.sum())
    if n_pos == 0:
        raise ValueError("f1_thresholds: the validation rows contain no minority example")
    order = np.argsort(-p, axis=1, kind="stable")
    s = np.take_along_axis(p, order, axis=1)
    t = (y[order] == 1).astype(float)
    end = _tie_groups(s)
    tp = np.take_along_axis(np.cumsum(t, axis=1), end, axis=1)
    predicted = end + 1
    f1 = 2 * tp / (predicted + n_pos)
    f1 = np.where(end == np.arange(p.shape[1]), f1, -1.0)  # score only at group ends
    best = np.argmax(f1, axis=1)  # first maximum = highest threshold
    rows = np.arange(p.shape[0])
    upper = s[rows, best]
    nxt = np.where(best + 1 < p.shape[1], s[rows, np.minimum(best + 1, p.shape[1] - 1)], upper - 1.0)
    return (upper + nxt) / 2


# ---------------------------------------------------------------------------
# The stress test
# ---------------------------------------------------------------------------

def _fmt(v: float) -> str:
    return f"{v:g}"


def arm_label(arm: str) -> str:
    """Readable name of a stress-test arm."""
    fixed = {
        "bce": "BCE",
        "focal": "focal as in the tutorial (alpha 0.25 on every example, gamma 2)",
        "bce_weighted": "BCE, pos_weight = negatives/positives",
        "bce_val_threshold": "BCE, threshold chosen by F1 on a validation split",
        "focal_val_threshold": "focal as in the tutorial, threshold chosen by F1 on a validation split",
        "focal_a0.25": "focal, alpha_t = 0.25 (Lin et al.), gamma 2",
        "focal_a0.75": "focal, alpha_t = 0.75, gamma 2",
    }
    if arm in fixed:
        return fixed[arm]
    if arm.startswith("focal_g"):
        return f"focal, no alpha, gamma {arm[len('focal_g'):]}"
    return arm


#: Headers in words for the columns of :func:`difference_table`.
DIFFERENCE_HEADERS = {"difference": "difference [95 % interval]", "p_value": "p", "share_a_better": "share higher",
                      "share_tied": "share tied", "mde": "MDE"}


def difference_table(paired: pd.DataFrame, *, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The rows of :func:`paired_differences` for the page: one row per metric (named by ``labels``), columns
    ``difference`` (an :class:`Estimate` with its bootstrap interval), ``p_value``, ``share_a_better``,
    ``share_tied`` and ``mde``."""
    labels = dict(labels or {})
    rows = {
        labels.get(metric, metric): {
            "difference": Estimate(row["mean"], row["ci_low"], row["ci_high"], n=int(row["n_pairs"]),
                                   method="bootstrap"),
            "p_value": row["p_value"], "share_a_better": row["share_a_better"], "share_tied": row["share_tied"],
            "mde": row["mde"],
        }
        for metric, row in paired.iterrows()
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def versus_table(versus: Mapping[str, pd.DataFrame], metrics: Sequence[str], *, column: str = "difference",
                 labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Paired differences of several arms against one reference: rows = arms (:func:`arm_label`), columns =
    ``metrics`` (named by ``labels``). ``column="difference"`` gives each cell as an :class:`Estimate` with its
    bootstrap interval; any other column of :func:`paired_differences` (e.g. ``"p_holm"``) gives that number."""
    labels = dict(labels or {})
    out = {}
    for arm, d in versus.items():
        if column == "difference":
            out[arm_label(arm)] = {labels.get(m, m): Estimate(d.loc[m, "mean"], d.loc[m, "ci_low"], d.loc[m, "ci_high"],
                                                               n=int(d.loc[m, "n_pairs"]), method="bootstrap")
                                   for m in metrics}
        else:
            out[arm_label(arm)] = {labels.get(m, m): d.loc[m, column] for m in metrics}
    return pd.DataFrame.from_dict(out, orient="index")


@dataclass(frozen=True)
class StressConfig:
    """Parameters of the stress test (validated by :meth:`check`).

    seeds : initialisation seeds of the two main arms and of the controls.
    dataset_states : ``make_classification`` random states (the first one
        should be the tutorial's 42); the split uses the same state.
    control_seeds : how many of ``seeds`` (the first ones) the control arms and
        the ``flip_y=0`` rerun use (None: all). Keeps the full profile fast.
    gammas : focal gammas of the sweep (alpha disabled).
    val_fraction : share of the training rows carved off to choose BCE's threshold.
    noise_free : also train BCE and the tutorial's focal loss on ``flip_y=0`` data.
    """

    seeds: tuple = tuple(range(50))
    dataset_states: tuple = tuple(range(42, 52))
    control_seeds: int | None = None
    gammas: tuple = (0.5, 1.0, 2.0, 3.0, 5.0)
    val_fraction: float = 0.25
    noise_free: bool = True
    lr: float = TUTORIAL_TRAINING["lr"]
    epochs: int = TUTORIAL_TRAINING["epochs"]
    threshold: float = TUTORIAL_TRAINING["threshold"]

    def main_specs(self) -> list[LossSpec]:
        return [LossSpec("bce", "bce"), tutorial_focal_spec("focal")]

    def control_specs(self, pos_weight: float) -> list[LossSpec]:
        specs = [
            LossSpec("bce_weighted", "bce", (("pos_weight", float(pos_weight)),)),
            LossSpec("focal_a0.25", "focal", (("alpha", 0.25), ("gamma", 2.0))),
            LossSpec("focal_a0.75", "focal", (("alpha", 0.75), ("gamma", 2.0))),
        ]
        # The sweep always holds gamma 2: it is also the "alpha disabled" control.
        gammas = sorted(set(float(g) for g in self.gammas) | {2.0})
        specs += [LossSpec(f"focal_g{_fmt(g)}", "focal", (("alpha", None), ("gamma", g))) for g in gammas]
        return specs

    def check(self) -> StressConfig:
        _check_stress(self)
        return self


def _check_stress(cfg: StressConfig) -> None:
    def ints(name, values, low):
        if not isinstance(values, (list, tuple)) or len(values) == 0:
            raise ValueError(f"{name}: expected a non-empty list of integers, got {values!r}")
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ValueError(f"{name}: every entry must be an integer >= {low}, got {v!r}")
        if len(set(values)) != len(values):
            raise ValueError(f"{name}: entries must be distinct, got {list(values)!r}")

    ints("seeds", cfg.seeds, 0)
    ints("dataset_states", cfg.dataset_states, 0)
    if cfg.control_seeds is not None and (
        isinstance(cfg.control_seeds, bool) or not isinstance(cfg.control_seeds, int)
        or not 1 <= cfg.control_seeds <= len(cfg.seeds)
    ):
        raise ValueError(f"control_seeds: expected None or an integer in [1, {len(cfg.seeds)}], "
                         f"got {cfg.control_seeds!r}")
    if not isinstance(cfg.gammas, (list, tuple)) or any(
        isinstance(g, bool) or not isinstance(g, (int, float)) or not 0 < g <= 10 for g in cfg.gammas
    ):
        raise ValueError(f"gammas: expected a list of numbers in (0, 10], got {cfg.gammas!r}")
    if not isinstance(cfg.val_fraction, (int, float)) or not 0.05 <= cfg.val_fraction <= 0.5:
        raise ValueError(f"val_fraction: expected a number in [0.05, 0.5], got {cfg.val_fraction!r}")
    if not isinstance(cfg.lr, (int, float)) or not 0 < cfg.lr <= 1:
        raise ValueError(f"lr: expected a number in (0, 1], got {cfg.lr!r}")
    if isinstance(cfg.epochs, bool) or not isinstance(cfg.epochs, int) or not 1 <= cfg.epochs <= 10_000:
        raise ValueError(f"epochs: expected an integer in [1, 10000], got {cfg.epochs!r}")
    if not isinstance(cfg.threshold, (int, float)) or not 0 < cfg.threshold < 1:
        raise ValueError(f"threshold: expected a number in (0, 1), got {cfg.threshold!r}")


@dataclass(frozen=True)
class TrainingSet:
    """The rows one group of stress-test networks trains on, and where they are scored.

    ``kind`` is ``"train"`` (the whole training split) or ``"fit"`` (the
    training split minus a stratified validation part, which is kept in
    ``X_val``/``y_val`` for choosing a threshold). Test rows are never used
    for anything but the final scores.
    """

    draw: int
    flip_y: float
    kind: str
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None


def plan_stress(cfg: StressConfig) -> tuple[dict, list]:
    """Every network the stress test trains, as ``(training-set key, LossSpec, seed)`` jobs.

    Returns ``(sets, jobs)`` where ``sets`` maps ``(draw, flip_y, kind)`` to a
    :class:`TrainingSet`. Per draw: BCE and the tutorial's focal loss with all
    seeds; the controls (class-weighted BCE with ``pos_weight`` = negatives /
    positives of the training rows, focal alpha 0.25 / 0.75 / None, the gamma
    sweep) and BCE and the tutorial's focal loss with a validation-chosen threshold with the first
    ``control_seeds`` seeds; and, if ``noise_free``, BCE and focal again on
    ``flip_y=0`` data, also with the control seeds.
    """
    cfg.check()
    seeds = list(cfg.seeds)
    control = seeds[: cfg.control_seeds] if cfg.control_seeds else seeds
    sets, jobs = {}, []
    for draw in cfg.dataset_states:
        data = make_dataset(draw, flip_y=0.01)
        Xtr, ytr = data.X_train, data.y_train
        key = (draw, 0.01, "train")
        sets[key] = TrainingSet(draw, 0.01, "train", Xtr, ytr, data.X_test, data.y_test)
        pos_weight = float((ytr == 0).sum() / max((ytr == 1).sum(), 1))
        jobs += [(key, spec, s) for spec in cfg.main_specs() for s in seeds]
        jobs += [(key, spec, s) for spec in cfg.control_specs(pos_weight) for s in control]
        fit, val = carve_validation(ytr, fraction=cfg.val_fraction, random_state=draw)
        key = (draw, 0.01, "fit")
        sets[key] = TrainingSet(draw, 0.01, "fit", Xtr[fit], ytr[fit], data.X_test, data.y_test, Xtr[val], ytr[val])
        # every loss alike: BCE and the tutorial's focal loss both get a threshold chosen on held-out training rows
        jobs += [(key, LossSpec("bce_val_threshold", "bce"), s) for s in control]
        jobs += [(key, tutorial_focal_spec("focal_val_threshold"), s) for s in control]
        if cfg.noise_free:
            clean = make_dataset(draw, flip_y=0.0)
            key = (draw, 0.0, "train")
            sets[key] = TrainingSet(draw, 0.0, "train", clean.X_train, clean.y_train, clean.X_test, clean.y_test)
            jobs += [(key, spec, s) for spec in cfg.main_specs() for s in control]
    return sets, jobs


def _chunks(jobs: list, sets: dict, max_members: int) -> list[list]:
    """Jobs grouped by training-set size (members of one batch share n), in slices of ``max_members``."""
    by_n: dict[int, list] = {}
    for job in jobs:
        by_n.setdefault(len(sets[job[0]].y), []).append(job)
    return [group[i:i + max_members] for group in by_n.values() for i in range(0, len(group), max_members)]


def run_stress(cfg: StressConfig, *, max_members: int = 100, progress: bool = True) -> pd.DataFrame:
    """Train and score every network of the stress test (see :func:`plan_stress`).

    Networks from all draws are trained together in batches of up to
    ``max_members`` (a member's result does not depend on its batch mates).
    Returns one row per network: draw, flip_y, arm, seed, the metrics of
    :func:`score_members` at ``cfg.threshold`` (at the validation-chosen
    threshold for ``bce_val_threshold``), and ``threshold``.
    """
    from tqdm import tqdm  # plain text bar on stderr (no widget warning in notebooks)

    if isinstance(max_members, bool) or not isinstance(max_members, int) or max_members < 1:
        raise ValueError(f"max_members: expected a positive integer, got {max_members!r}")
    sets, jobs = plan_stress(cfg)
    frames = []
    for chunk in tqdm(_chunks(jobs, sets, max_members), desc="network batches", disable=not progress):
        members = [sets[key] for key, _, _ in chunk]
        model = train_batch(
            np.stack([m.X for m in members]), np.stack([m.y for m in members]),
            [spec for _, spec, _ in chunk], [seed for _, _, seed in chunk], lr=cfg.lr, epochs=cfg.epochs,
        )
        p_test = predict(model, np.stack([m.X_test for m in members]))
        thresholds = np.full(len(chunk), float(cfg.threshold))
        if all(m.X_val is not None for m in members):
            p_val = predict(model, np.stack([m.X_val for m in members]))
            for key in dict.fromkeys(k for k, _, _ in chunk):
                rows = [i for i, job in enumerate(chunk) if job[0] == key]
                thresholds[rows] = f1_thresholds(sets[key].y_val, p_val[rows])
        for key in dict.fromkeys(k for k, _, _ in chunk):
            rows = [i for i, job in enumerate(chunk) if job[0] == key]
            scored = score_members(sets[key].y_test, p_test[rows], thresholds[rows])
            scored.insert(0, "seed", [chunk[i][2] for i in rows])
            scored.insert(0, "arm", [chunk[i][1].arm for i in rows])
            scored.insert(0, "flip_y", key[1])
            scored.insert(0, "draw", key[0])
            scored["threshold"] = thresholds[rows]
            frames.append(scored)
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(["flip_y", "draw", "arm", "seed"], ascending=[False, True, True, True],
                             kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------

SUMMARY_METRICS = ("minority_found", "recall", "roc_auc", "pr_auc", "balanced_accuracy", "accuracy", "brier")


def summarize_arms(frame: pd.DataFrame, metrics: Sequence[str] = SUMMARY_METRICS) -> pd.DataFrame:
    """Mean and standard deviation over (seed, draw) runs per (flip_y, arm), with the
    share of runs whose network finds no minority example at the threshold."""
    grouped = frame.groupby(["flip_y", "arm"], sort=False)
    out = grouped[list(metrics)].agg(["mean", "std"])
    out.columns = [f"{m}_{stat}" for m, stat in out.columns]
    out["zero_found_fraction"] = grouped["minority_found"].apply(lambda v: float((v == 0).mean()))
    out["runs"] = grouped.size()
    return out


def paired_differences(
    frame: pd.DataFrame,
    a: str,
    b: str,
    *,
    metrics: Sequence[str] = ("minority_found", "roc_auc", "pr_auc", "balanced_accuracy"),
    flip_y: float = 0.01,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Differences ``a - b`` paired by (draw, seed), with a two-level bootstrap interval.

    The interval resamples dataset draws, then seeds within each drawn draw,
    so it reflects both sources of variation (the draws are the scarcer one).
    Returns one row per metric: mean, std, ci_low, ci_high, p_value, mde, share_a_better, share_tied,
    n_pairs (``mde``: the minimum detectable effect at 80 % power, from the bootstrap standard error). ``p_value`` is the two-sided bootstrap p-value of "no difference"
    (twice the smaller share of bootstrap means on either side of zero, at
    least ``1 / n_boot``); :func:`difference_records` writes the rows as Estimates.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    sub = frame[frame["flip_y"] == flip_y]
    left = sub[sub["arm"] == a].set_index(["draw", "seed"])
    right = sub[sub["arm"] == b].set_index(["draw", "seed"])
    common = left.index.intersection(right.index)
    if len(common) == 0:
        raise ValueError(f"no (draw, seed) pairs shared by arms {a!r} and {b!r} at flip_y={flip_y}")
    draws = np.array(sorted(set(common.get_level_values("draw"))))
    rng = np.random.default_rng(seed)
    rows = {}
    for metric in metrics:
        diff = (left.loc[common, metric] - right.loc[common, metric]).sort_index()
        table = diff.unstack("seed").loc[draws].to_numpy(float)  # (n_draws, n_seeds)
        n_d, n_s = table.shape
        pick_d = rng.integers(0, n_d, size=(n_boot, n_d))
        pick_s = rng.integers(0, n_s, size=(n_boot, n_d, n_s))
        boot = np.nanmean(table[pick_d[:, :, None], pick_s], axis=(1, 2))
        tail = (1 - level) / 2
        rows[metric] = {
            "mean": float(np.nanmean(table)), "std": float(np.nanstd(table, ddof=1)),
            "ci_low": float(np.quantile(boot, tail)), "ci_high": float(np.quantile(boot, 1 - tail)),
            "p_value": float(min(1.0, max(2 * min(np.mean(boot <= 0), np.mean(boot >= 0)), 1 / n_boot))),
            # smallest effect the study detects with 80 % power, reading the bootstrap spread as a standard error
            "mde": minimum_detectable_effect(float(np.std(boot, ddof=1)), alpha=1 - level),
            "share_a_better": float(np.mean(table > 0)), "share_tied": float(np.mean(table == 0)),
            "n_pairs": int(table.size),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def difference_records(paired: pd.DataFrame, p_holm: Mapping[str, float] | None = None) -> dict:
    """The rows of :func:`paired_differences` for a results file, one per metric:
    ``{"difference": Estimate (bootstrap), "p_value", "p_holm" (if given), "std", "share_a_better", "share_tied"}``."""
    out = {}
    for metric, row in paired.iterrows():
        record = {"difference": Estimate(row["mean"], row["ci_low"], row["ci_high"], n=int(row["n_pairs"]),
                                         method="bootstrap").to_dict(),
                  "p_value": float(row["p_value"]), "mde": float(row["mde"]), "std": float(row["std"]),
                  "share_a_better": float(row["share_a_better"]), "share_tied": float(row["share_tied"])}
        if p_holm is not None:
            record["p_holm"] = float(p_holm[metric])
        out[metric] = record
    return out


def arm_summary(frame: pd.DataFrame, arm: str, *, flip_y: float = 0.01, draws: Iterable[int] | None = None,
                metrics: Sequence[str] = ("roc_auc", "pr_auc", "balanced_accuracy", "minority_found", "recall",
                                          "accuracy", "brier")) -> dict:
    """``{metric: {"mean", "std"}}`` over the runs of one arm, plus ``zero_found_fraction`` and ``runs``."""
    sub = frame[(frame["arm"] == arm) & (frame["flip_y"] == flip_y)]
    if draws is not None:
        sub = sub[sub["draw"].isin(list(draws))]
    if sub.empty:
        raise ValueError(f"no runs of arm {arm!r} at flip_y={flip_y}")
    out = {m: {"mean": float(sub[m].mean()), "std": float(sub[m].std(ddof=1)) if len(sub) > 1 else float("nan")}
           for m in metrics}
    out["zero_found_fraction"] = float((sub["minority_found"] == 0).mean())
    out["runs"] = int(len(sub))
    return out


# ---------------------------------------------------------------------------
# Chapter parameters
# ---------------------------------------------------------------------------

#: The chapter's parameters as data (defaults: the notebook's parameters cell).
CONSTRAINTS = {
    "n_seeds": Interval(int, 1, 10_000),
    "n_draws": Interval(int, 1, 1_000),
    "control_seeds": Interval(int, 1, "n_seeds"),
    "gammas": ListOf(Interval(float, 0.0, 10.0, closed="right")),
    "val_fraction": Interval(float, 0.05, 0.5),
    "noise_free": bool,
    "showcase_seed": Interval(int, 0, "n_seeds", closed="left"),
    "n_boot": Interval(int, 100, 100_000),
    "n_threads": Interval(int, 1, 256),
    "seed": Interval(int, 0, 2**32 - 1),
}


def check_parameters(**params) -> StressConfig:
    """Validate the chapter's parameters (before any training) and return the stress-test config.

    Values must satisfy :data:`CONSTRAINTS`; parameters not given take the
    defaults of the chapter's parameters cell. Raises ``ValueError`` naming
    the parameter and its allowed values. Seeds are ``0 .. n_seeds-1``;
    dataset draws use ``random_state`` 42 (the tutorial's), 43, ...
    ``42 + n_draws - 1``.
    """
    p = checks.with_defaults("synthetic", params, CONSTRAINTS)
    n_seeds, n_draws, control = p["n_seeds"], p["n_draws"], p["control_seeds"]
    gammas = p["gammas"]
    cfg = StressConfig(
        seeds=tuple(range(n_seeds)),
        dataset_states=tuple(range(TUTORIAL_RANDOM_STATE, TUTORIAL_RANDOM_STATE + n_draws)),
        control_seeds=control, gammas=tuple(gammas), val_fraction=p["val_fraction"], noise_free=p["noise_free"],
    )
    return cfg.check()


# ---------------------------------------------------------------------------
# The chapter's tables (one function per table, so the notebook only calls them)
# ---------------------------------------------------------------------------

#: The four headline metrics of the chapter, in words (also the order of its figures and tables).
HEADLINE_METRICS = {"minority_found": "minority found at 0.5", "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC",
                    "balanced_accuracy": "balanced accuracy"}

#: The arms every control comparison uses, before the gamma sweep (see :func:`control_arms`).
CONTROL_ARMS = ("bce", "focal", "bce_weighted", "bce_val_threshold", "focal_val_threshold", "focal_a0.25",
                "focal_a0.75")


def noise_table(counts: Mapping[str, int], clean_counts: Mapping[str, int]) -> pd.DataFrame:
    """Minority examples and how many of their labels are ``flip_y`` noise, with and without the flip.

    ``counts`` and ``clean_counts``: :meth:`SyntheticData.noise_counts` of the same draw made
    with ``flip_y=0.01`` and with ``flip_y=0``. Returns four rows (minority examples, of them in
    the test split, noisy minority labels, noisy in the test split) and one column per setting;
    without the flip there is no noise, so its noise rows are 0.
    """
    return pd.DataFrame(
        {
            "flip_y=0.01 (tutorial)": [counts["n_positive"], counts["n_positive_test"], counts["n_flipped_positive"],
                                       counts["n_flipped_positive_test"]],
            "flip_y=0": [clean_counts["n_positive"], clean_counts["n_positive_test"], 0, 0],
        },
        index=["minority examples", "of them in the test split", "noisy minority labels", "noisy, in the test split"],
    )


def reproduction_table(shown: pd.DataFrame) -> pd.DataFrame:
    """The tutorial's reported counts (:data:`TUTORIAL_REPORTED`) beside ours, one row per arm.

    ``shown``: :func:`score_members` of the showcase networks, indexed by arm (``bce``,
    ``focal``). Columns alternate tutorial and ours for minority examples found, missed,
    and accuracy.
    """
    reported = {column: [TUTORIAL_REPORTED[a][column] for a in shown.index]
                for column in ("minority_found", "minority_missed", "accuracy")}
    return pd.DataFrame({
        "tutorial: found": reported["minority_found"], "ours: found": shown["minority_found"],
        "tutorial: missed": reported["minority_missed"], "ours: missed": shown["minority_missed"],
        "tutorial: accuracy": reported["accuracy"], "ours: accuracy": shown["accuracy"],
    })


def confusion_matrices(shown: pd.DataFrame, n_negative: int) -> list[np.ndarray]:
    """One 2x2 test confusion matrix per row of ``shown`` (:func:`score_members` output).

    Rows of each matrix are the true class (majority, minority), columns the predicted one;
    ``n_negative`` is the number of majority examples in the test split.
    """
    return [
        np.array([[n_negative - shown.loc[arm, "false_positives"], shown.loc[arm, "false_positives"]],
                  [shown.loc[arm, "minority_missed"], shown.loc[arm, "minority_found"]]])
        for arm in shown.index
    ]


def showcase_rank(found: pd.DataFrame, seed: int, arms: Sequence[str] = ("bce", "focal")) -> dict[str, float]:
    """Where one seed stands among all seeds: ``{arm: share of seeds that find fewer minority examples}``.

    ``found``: minority examples found, one row per seed, one column per arm.
    """
    return {arm: float((found[arm] < found.loc[seed, arm]).mean()) for arm in arms}


def count_tutorial_like(found: pd.DataFrame) -> int:
    """How many seeds (rows of ``found``) show the tutorial's contrast or a larger one: BCE finds at
    most what the tutorial's BCE found and focal at least what its focal network found."""
    return int(((found["bce"] <= TUTORIAL_REPORTED["bce"]["minority_found"])
                & (found["focal"] >= TUTORIAL_REPORTED["focal"]["minority_found"])).sum())


def seed_spread(found: pd.DataFrame, arms: Sequence[str] = ("bce", "focal")) -> pd.DataFrame:
    """Mean, standard deviation and quartiles over seeds of the minority examples found: one row per arm,
    columns ``mean``, ``std``, ``min``, ``25%``, ``50%``, ``75%``, ``max``."""
    return found[list(arms)].describe().T[["mean", "std", "min", "25%", "50%", "75%", "max"]]


def main_table(summary: Mapping[str, dict], metrics: Mapping[str, str] = HEADLINE_METRICS) -> pd.DataFrame:
    """Mean and standard deviation of each metric per arm, and the share of networks finding none.

    ``summary``: ``{arm: arm_summary(...)}``; ``metrics``: ``{metric: words}``. Returns one
    column per arm and one row per metric and statistic (``"<words>, mean"``, then
    ``"<words>, standard deviation"``, then ``share finding none``).
    """
    return pd.DataFrame({
        arm: {**{f"{name}, mean": s[m]["mean"] for m, name in metrics.items()},
              **{f"{name}, standard deviation": s[m]["std"] for m, name in metrics.items()},
              "share finding none": s["zero_found_fraction"]}
        for arm, s in summary.items()
    })


def control_arms(frame: pd.DataFrame) -> list[str]:
    """The arms of the controls section in display order: :data:`CONTROL_ARMS`, then the gamma
    sweep's ``focal_g<gamma>`` arms present in ``frame``, by increasing gamma."""
    sweep = sorted([a for a in frame["arm"].unique() if a.startswith("focal_g")], key=lambda a: float(a[7:]))
    return list(CONTROL_ARMS) + sweep


def control_table(controls: Mapping[str, dict]) -> pd.DataFrame:
    """Mean test metrics per arm (rows, named by :func:`arm_label`) from ``{arm: arm_summary(...)}``:
    found, recall, share finding none, balanced accuracy, ROC-AUC, PR-AUC and accuracy."""
    return pd.DataFrame({
        arm_label(arm): {
            "found": s["minority_found"]["mean"], "recall": s["recall"]["mean"], "share finding none":
            s["zero_found_fraction"], "balanced acc.": s["balanced_accuracy"]["mean"],
            "ROC-AUC": s["roc_auc"]["mean"], "PR-AUC": s["pr_auc"]["mean"], "accuracy": s["accuracy"]["mean"],
        } for arm, s in controls.items()
    }).T


def versus_reference(frame: pd.DataFrame, arms: Sequence[str], metrics: Sequence[str], *, reference: str = "bce",
                     n_boot: int = 2000, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Every arm but ``reference`` minus ``reference``, paired by seed and draw, Holm-adjusted as one family.

    Returns ``{arm: paired_differences(frame, arm, reference, ...)}`` (one row per metric),
    each with an added column ``p_holm``: the bootstrap p-values of all arms and metrics
    adjusted together (Holm), so a verdict controls the family-wise error over the whole table.
    """
    from lossbook.core.inference import holm

    versus = {arm: paired_differences(frame, arm, reference, metrics=list(metrics), n_boot=n_boot, seed=seed)
              for arm in arms if arm != reference}
    family = [(arm, m) for arm in versus for m in metrics]
    adjusted = dict(zip(family, holm([versus[arm].loc[m, "p_value"] for arm, m in family])))
    for arm, d in versus.items():
        d["p_holm"] = [adjusted[(arm, m)] for m in d.index]
    return versus


def gamma_curve(controls: Mapping[str, dict], arms: Sequence[str]) -> pd.DataFrame:
    """Mean recall, balanced accuracy, PR-AUC and ROC-AUC against focal gamma, BCE as gamma 0.

    ``controls``: ``{arm: arm_summary(...)}`` including ``bce``; the sweep's arms are the
    ``focal_g<gamma>`` names among ``arms``, in their order. Indexed by ``gamma``.
    """
    sweep = [a for a in arms if a.startswith("focal_g")]
    columns = {"recall": "recall", "balanced accuracy": "balanced_accuracy", "PR-AUC": "pr_auc", "ROC-AUC": "roc_auc"}
    return pd.DataFrame({
        "gamma": [0.0] + [float(a[7:]) for a in sweep],
        **{name: [controls[a][m]["mean"] for a in ["bce", *sweep]] for name, m in columns.items()},
    }).set_index("gamma")


def noise_comparison_table(noisy: Mapping[str, dict], clean: Mapping[str, dict],
                           metrics: Mapping[str, str] = HEADLINE_METRICS) -> pd.DataFrame:
    """Mean test metrics (``metrics``: ``{metric: words}``) and the share finding none, per arm, with the
    tutorial's label noise and without it. ``noisy``, ``clean``: ``{arm: arm_summary(...)}``. One row per
    arm and setting (``"<arm words>, flip_y=0.01"`` rows first), one column per metric."""
    return pd.DataFrame({
        f"{arm_label(arm)}, flip_y={flip}": {metrics[m]: s[m]["mean"] for m in metrics}
        | {"share finding none": s["zero_found_fraction"]}
        for flip, group in (("0.01", noisy), ("0", clean)) for arm, s in group.items()
    }).T
