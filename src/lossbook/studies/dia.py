"""The drug-induced autoimmunity (DIA) study: protocols, grid, baselines, external test.

Three protocols score the paper's nine model-loss pairs with repeated stratified
5-fold cross-validation on the 477 training drugs:

``leak_free``
    Column filter (constant and duplicated columns), StandardScaler and SMOTE are
    fitted on the training rows of each fold only (an ``imblearn`` Pipeline);
    early stopping watches an inner validation split of the training fold
    (``early_stopping="inner"``) or, as a variant, the outer test fold
    (``"outer"``, which leaks the test fold into model selection). With
    ``refit=True`` (the chapter's default networks) the epoch count chosen on the
    inner split is then used to refit on the whole training fold, so networks fit
    on as many rows as the baselines.
``leaky``
    Filter, scaling and SMOTE are applied to all 477 drugs before splitting, so
    test folds hold synthetic drugs and are balanced 1:1 (what the paper says it
    did not do). Early stopping is otherwise the same as in ``leak_free``.
``paper``
    The protocol as the paper's text describes it in practice: preprocessing and
    SMOTE on all drugs before splitting, training on the whole training fold, and
    early stopping on val_AUC of the very fold that is then scored.

``leaky`` and ``paper`` split the resampled set so that the real drugs of each
test fold are exactly the test fold of ``leak_free`` (:func:`resampled_splits`):
every protocol can then be compared fold by fold on the same real drugs.

Every fold result is cached on disk, keyed by everything that affects it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import KFold, RepeatedStratifiedKFold, StratifiedGroupKFold, train_test_split
from sklearn.preprocessing import StandardScaler

from lossbook.core import params as checks
from lossbook.core.cache import DiskCache, content_digest
from lossbook.core.estimate import Estimate
from lossbook.core.executor import EXECUTION_CONSTRAINTS, Executor, SerialExecutor
from lossbook.core.inference import clopper_pearson_interval, holm
from lossbook.core.metrics import binary_report, corrected_resampled_ttest
from lossbook.core.params import Interval, ListOf, SubsetOf
from lossbook.core.seeding import derive_seed
from lossbook.nets.keras_stack import TRAINER_VERSION, FoldData, TrainConfig, train_folds

__all__ = [
    "PAPER_TABLE1", "PAPER_FIGURE5_AUC", "INTERDIA", "MODELS", "LOSSES", "PROTOCOLS", "CONSTRAINTS",
    "check_parameters", "ColumnFilter", "preprocessor", "cv_splits", "FoldSpec", "make_fold_data", "VARIANT_KEYS",
    "fold_key", "run_grid", "run_arms", "main_grid", "MAIN_ARMS", "ARMS", "Arm", "run_baselines", "external_test", "TABLE_METRICS",
    "resampled_splits", "grouped_cv_splits", "table1_record", "fold_mean_estimates", "describe_splits", "decomposition_table", "candidate_row_counts", "confusion_analysis", "confusion_tables", "descriptor_groups", "paired_estimate", "decomposition",
    "confusion_counts", "implied_confusion", "stability_check", "paper_claim_checks", "figure5_vs_table1",
    "stereoisomers", "collapse_frequency", "holm_table",
]

#: Table 1 of the paper (means over folds and repeats; no standard deviations given).
PAPER_TABLE1 = {
    ("mlp", "bce"): {"accuracy": 0.92, "precision": 0.89, "recall": 0.96, "f1": 0.92, "roc_auc": 0.97},
    ("mlp", "focal"): {"accuracy": 0.94, "precision": 0.93, "recall": 0.95, "f1": 0.94, "roc_auc": 0.97},
    ("mlp", "dice"): {"accuracy": 0.88, "precision": 0.87, "recall": 0.90, "f1": 0.88, "roc_auc": 0.91},
    ("cnn", "bce"): {"accuracy": 0.93, "precision": 0.92, "recall": 0.95, "f1": 0.93, "roc_auc": 0.97},
    ("cnn", "focal"): {"accuracy": 0.93, "precision": 0.93, "recall": 0.94, "f1": 0.93, "roc_auc": 0.97},
    ("cnn", "dice"): {"accuracy": 0.50, "precision": 0.50, "recall": 1.00, "f1": 0.67, "roc_auc": 0.34},
    ("simplenn", "bce"): {"accuracy": 0.92, "precision": 0.90, "recall": 0.94, "f1": 0.92, "roc_auc": 0.97},
    ("simplenn", "focal"): {"accuracy": 0.94, "precision": 0.93, "recall": 0.94, "f1": 0.93, "roc_auc": 0.97},
    ("simplenn", "dice"): {"accuracy": 0.90, "precision": 0.88, "recall": 0.94, "f1": 0.91, "roc_auc": 0.95},
}
#: AUCs the paper's text quotes for its ROC figure (Figure 5); they differ from Table 1 in places.
PAPER_FIGURE5_AUC = {("simplenn", "focal"): 0.98, ("mlp", "focal"): 0.97, ("cnn", "focal"): 0.97,
                     ("mlp", "bce"): 0.97, ("cnn", "bce"): 0.96, ("cnn", "dice"): 0.36}
#: Confusion counts the paper's text (section 3.1.2) gives, aggregated over folds: (false positives, false negatives).
PAPER_CONFUSION = {("mlp", "focal"): (35, 22), ("cnn", "focal"): (34, 25), ("simplenn", "dice"): (57, 29),
                   ("cnn", "dice"): (0, 0)}
#: Other facts the paper states: descriptor count and positive share it reports.
PAPER_FACTS = {"n_descriptors": 729, "positive_share": 0.27}
#: InterDIA (Huang et al. 2025), the dataset authors' ensemble: reference ROC-AUCs.
INTERDIA = {"cv_auc": 0.884, "external_auc": 0.893}

MODELS = ("mlp", "cnn", "simplenn")
LOSSES = ("bce", "focal", "dice")
PROTOCOLS = ("leak_free", "leaky", "paper")
EARLY_STOPPING = ("inner", "outer")
TABLE_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc",
                 "balanced_accuracy", "mcc", "brier")
LOSS_PARAMS = {"bce": {}, "focal": {"gamma": 2.0, "alpha": 0.25}, "dice": {"eps": 1.0}}

#: The chapter's parameters as data (defaults: the notebook's parameters cell).
CONSTRAINTS = {
    "n_splits": Interval(int, 2, 20), "n_repeats": Interval(int, 1, None), "max_epochs": Interval(int, 1, 1000),
    "patience": Interval(int, 1, None), "batch_size": Interval(int, 1, None), "seed": Interval(int, 0, None),
    "n_boot": Interval(int, 100, None), "n_refits": Interval(int, 1, 50), "run_variants": bool,
    "learning_rate": Interval(float, 0, 1, closed="right"), "val_fraction": Interval(float, 0, 0.5, closed="neither"),
    "pos_class_weight": Interval(float, 0, 100, closed="right"), "label_smoothing": Interval(float, 0, 1, closed="left"),
    "models": SubsetOf(MODELS), "losses": SubsetOf(LOSSES), "variant_models": SubsetOf(MODELS),
    "grouped_configs": ListOf(str),
    **EXECUTION_CONSTRAINTS,  # who trains the grid; the notebook keeps these out of its results
}


def check_parameters(**params) -> dict:
    """Validate the chapter's parameters before any training; return them with defaults filled.

    Values must satisfy :data:`CONSTRAINTS`; parameters not given take the
    defaults of the chapter's parameters cell. Raises ``ValueError`` naming
    the parameter and what is allowed.
    """
    p = checks.with_defaults("dia", params, CONSTRAINTS)
    for name, allowed in (("models", MODELS), ("losses", LOSSES), ("variant_models", MODELS)):
        chosen = checks.subset(name, p[name], allowed)
        p[name] = [x for x in allowed if x in chosen]  # canonical order: the grid's order
    configs = [f"{m}+{l}" for m in MODELS for l in LOSSES]
    chosen = checks.subset("grouped_configs", p["grouped_configs"], configs)
    p["grouped_configs"] = [c for c in configs if c in chosen]
    if not set(p["variant_models"]) & set(p["models"]):
        raise ValueError(f"variant_models {p['variant_models']} shares no network with models {p['models']}: "
                         "the decomposition needs at least one (add one of models to variant_models)")
    return p


# -- preprocessing ----------------------------------------------------------------------


class ColumnFilter(BaseEstimator, TransformerMixin):
    """Drop columns that are constant, or exact copies of an earlier column, in the rows it is fitted on.

    ``keep_`` (bool, n_features) marks the kept columns.
    """

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        varying = np.ptp(X, axis=0) > 0
        keep = varying.copy()
        seen = {}
        for j in np.flatnonzero(varying):
            key = X[:, j].tobytes()
            if key in seen:
                keep[j] = False
            else:
                seen[key] = j
        self.keep_ = keep
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"ColumnFilter was fitted on {self.n_features_in_} columns, got {X.shape[1]}")
        return X[:, self.keep_]


def preprocessor(seed: int, *, smote: bool = True) -> Pipeline:
    """Column filter -> StandardScaler -> SMOTE (k=5), as an imblearn Pipeline.

    SMOTE only acts in ``fit_resample``; ``transform`` filters and scales.
    """
    steps = [("filter", ColumnFilter()), ("scale", StandardScaler())]
    if smote:
        steps.append(("smote", SMOTE(k_neighbors=SMOTE_NEIGHBOURS, random_state=seed)))
    return Pipeline(steps)


def _fit_transform(pipe: Pipeline, X, y):
    """Fit ``pipe`` on (X, y); return resampled training rows and a transform for other rows."""
    Xr, yr = pipe.fit_resample(X, y) if "smote" in pipe.named_steps else (pipe.fit_transform(X, y), np.asarray(y))
    steps = [step for name, step in pipe.steps if name != "smote"]  # SMOTE never touches other rows

    def transform(A):
        for step in steps:
            A = step.transform(A)
        return A

    return np.asarray(Xr, dtype=np.float32), np.asarray(yr), transform


# -- folds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FoldSpec:
    """One outer fold: ``train``/``test`` index arrays into the protocol's data set."""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


SMOTE_NEIGHBOURS = 5  # imblearn's default k_neighbors, used by preprocessor()


def describe_splits(splits: dict) -> pd.DataFrame:
    """One row per named split (``{name: split}``, splits with ``X`` and ``y``): drugs, positives,
    negatives, prevalence and descriptors."""
    rows = {name: {"drugs": len(s.y), "positive": int(s.y.sum()), "negative": int((1 - s.y).sum()),
                   "prevalence": float(s.y.mean()), "descriptors": s.X.shape[1]} for name, s in splits.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("split")


def check_class_counts(y, n_splits: int, val_fraction: float = 0.0) -> None:
    """Refuse, before any training, data too small for the protocol.

    Stratified k-fold needs at least ``n_splits`` examples of each class, and
    SMOTE needs more minority examples in each fitted training fold (after the
    early-stopping split takes ``val_fraction`` of it) than its neighbours.
    """
    counts = np.bincount(np.asarray(y, dtype=int), minlength=2)
    minority = int(counts.min())
    if minority < n_splits:
        raise ValueError(
            f"the minority class has {minority} example(s), fewer than n_splits={n_splits}; "
            "use fewer folds or more data"
        )
    in_fold = minority * (n_splits - 1) // n_splits
    fitted = in_fold - int(np.ceil(val_fraction * in_fold))
    if fitted <= SMOTE_NEIGHBOURS:
        raise ValueError(
            f"each training fold keeps about {fitted} minority example(s) after the early-stopping split "
            f"(val_fraction={val_fraction}), but SMOTE needs more than k_neighbors={SMOTE_NEIGHBOURS}; "
            "use fewer folds, a smaller val_fraction or more data"
        )


def cv_splits(y, n_splits: int, n_repeats: int, seed: int) -> list[FoldSpec]:
    """Repeated stratified k-fold; repeat ``r`` shuffles with a seed derived from ``seed``."""
    rskf = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    return [FoldSpec(i // n_splits, i % n_splits, tr, te) for i, (tr, te) in enumerate(rskf.split(np.zeros(len(y)), y))]


def leaky_dataset(X, y, seed: int):
    """The leaky protocol's data: filter, scale and SMOTE fitted on all rows before any split.

    Rows ``0 .. len(y)-1`` of the result are the real drugs in their original order
    (imblearn appends SMOTE's synthetic rows after them); the rest are synthetic positives.
    """
    Xr, yr, _ = _fit_transform(preprocessor(seed), X, y)
    return Xr, yr


def resampled_splits(real_specs: list[FoldSpec], n_real: int, n_total: int, seed: int) -> list[FoldSpec]:
    """Folds of a resampled set whose real rows are exactly the folds ``real_specs`` of the real set.

    Rows ``n_real .. n_total-1`` (SMOTE's synthetic drugs, all positive) are cut at random
    into as many folds as the real set has per repeat, with a new shuffle per repeat, and
    added to the matching real fold. The result is a random stratified partition of the
    resampled set, as splitting it directly would be, but each test fold's real drugs are
    the real protocol's test fold, so protocols can be compared fold by fold.
    """
    synthetic = np.arange(n_real, n_total)
    n_splits = 1 + max(s.fold for s in real_specs)
    out = []
    parts = {}
    for spec in real_specs:
        if spec.repeat not in parts and len(synthetic) < n_splits:  # (almost) nothing to resample
            parts[spec.repeat] = np.array_split(synthetic, n_splits)
        elif spec.repeat not in parts:
            kf = KFold(n_splits=n_splits, shuffle=True, random_state=derive_seed("synthetic-folds", seed, spec.repeat))
            parts[spec.repeat] = [synthetic[te] for _, te in kf.split(synthetic)]
        test = np.concatenate([spec.test, parts[spec.repeat][spec.fold]])
        train = np.setdiff1d(np.arange(n_total), test)
        out.append(FoldSpec(spec.repeat, spec.fold, train, test))
    return out


def descriptor_groups(X) -> np.ndarray:
    """Group ids (n_rows,): rows with identical descriptor vectors (e.g. stereoisomers) share one id."""
    _, inverse = np.unique(np.asarray(X, dtype=float), axis=0, return_inverse=True)
    return np.asarray(inverse).ravel()


def grouped_cv_splits(y, groups, n_splits: int, n_repeats: int, seed: int, *,
                      stream: str = "grouped-cv") -> list[FoldSpec]:
    """Repeated ``StratifiedGroupKFold``: rows of one group always fall in the same fold.

    Repeat ``r`` shuffles with a seed derived from ``stream``, ``seed`` and ``r``
    (a study names its own stream, so its folds do not change with another's).
    """
    y = np.asarray(y)
    out = []
    for r in range(n_repeats):
        sgkf = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=derive_seed(stream, seed, r))
        for f, (tr, te) in enumerate(sgkf.split(np.zeros(len(y)), y, groups)):
            out.append(FoldSpec(r, f, tr, te))
    return out


def split_sizes(specs: list[FoldSpec]) -> tuple[int, int]:
    """(n_train, n_test): mean training- and test-fold sizes of ``specs`` (for the corrected t-test)."""
    return (int(round(np.mean([len(s.train) for s in specs]))), int(round(np.mean([len(s.test) for s in specs]))))


def make_fold_data(protocol: str, X, y, spec: FoldSpec, *, seed: int, val_fraction: float,
                   early_stopping: str = "inner", extra: dict | None = None,
                   refit_epochs: int | None = None, smote: bool = True) -> tuple[FoldData, np.ndarray, dict]:
    """Build one model's :class:`FoldData`, the test fold's labels and the row indices used.

    The third value maps "fit" (rows the preprocessing and the network are fitted
    on), "val" (rows early stopping watches) and "test" to index arrays.

    ``X``, ``y``: the 477 drugs (leak_free) or the resampled set (leaky, paper). Everything
    fitted (filter, scaler, SMOTE) sees only ``spec.train`` rows in leak_free, and
    in leak_free with ``early_stopping="inner"`` only the inner-training part of them.
    ``refit_epochs``: train on the whole training fold for exactly this many epochs,
    with no early stopping and no validation rows (the refit after an inner split chose
    the epoch count). ``extra`` maps names to raw feature arrays scored after training.
    ``smote=False`` (leak_free only): filter and scale, no oversampling; the network
    trains at the training rows' own positive share.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    split_seed = derive_seed("inner-split", seed, spec.repeat, spec.fold)
    train = spec.train
    if refit_epochs is not None:
        fit_rows, val_rows = train, np.array([], dtype=int)
    elif early_stopping == "inner":
        fit_rows, val_rows = train_test_split(train, test_size=val_fraction, stratify=y[train],
                                              random_state=split_seed)
    else:
        fit_rows, val_rows = train, spec.test
    if protocol == "leak_free":
        Xtr, ytr, transform = _fit_transform(preprocessor(split_seed, smote=smote), X[fit_rows], y[fit_rows])
    elif not smote:
        raise ValueError(f"smote=False is defined for the leak_free protocol only, got protocol {protocol!r} "
                         "(its data set is resampled before any split)")
    else:  # leaky, paper: X is already scaled and resampled as a whole
        Xtr, ytr, transform = X[fit_rows].astype(np.float32), y[fit_rows], (lambda A: A)
    evaluate = {"test": np.asarray(transform(X[spec.test]), dtype=np.float32)} if len(spec.test) else {}
    for name, A in (extra or {}).items():
        evaluate[name] = np.asarray(transform(np.asarray(A, dtype=float)), dtype=np.float32)
    X_val = np.asarray(transform(X[val_rows]), dtype=np.float32) if len(val_rows) else np.zeros((0, Xtr.shape[1]), np.float32)
    data = FoldData(Xtr, ytr, X_val, y[val_rows], seed=0, evaluate=evaluate, epochs=refit_epochs)
    return data, y[spec.test], {"fit": np.asarray(fit_rows), "val": np.asarray(val_rows), "test": spec.test}


# -- the grid -----------------------------------------------------------------------


#: Keys another study may add to the DIA parameters to train variants of a configuration
#: (:mod:`lossbook.studies.robustness`); absent, the chapter's own models: ``loss_params``
#: (loss -> parameters over :data:`LOSS_PARAMS`), ``network_options`` (model -> options of
#: :func:`lossbook.nets.models.network`), ``init_replicate`` (n > 0: the n-th other
#: initialisation of every fold model; its seed comes from a key holding n), ``smote``
#: (False: leak-free folds filtered and scaled but not oversampled).
VARIANT_KEYS = ("loss_params", "network_options", "init_replicate", "smote")


def _config(model, loss, p) -> TrainConfig:
    loss_params = {**LOSS_PARAMS[loss], **(p.get("loss_params") or {}).get(loss, {})}
    return TrainConfig(
        model=model, network_options=tuple(sorted((p.get("network_options") or {}).get(model, {}).items())),
        loss=loss, loss_params=tuple(sorted(loss_params.items())),
        learning_rate=p["learning_rate"], batch_size=p["batch_size"], max_epochs=p["max_epochs"],
        patience=p["patience"], class_weight=(1.0, float(p["pos_class_weight"])),
        label_smoothing=float(p["label_smoothing"]),
    )


def fold_key(protocol: str, early_stopping: str, config: TrainConfig, p: dict, spec: FoldSpec,
             data_sha256: str, *, refit_epochs: int | None = None, grouped: bool = False) -> dict:
    """Everything that determines one fold model's result (package versions are added by the cache)."""
    key = {
        "study": "dia", "trainer": TRAINER_VERSION, "protocol": protocol, "early_stopping": early_stopping,
        "config": config.as_dict(), "val_fraction": p["val_fraction"], "seed": p["seed"],
        "repeat": spec.repeat, "fold": spec.fold, "n_splits": p["n_splits"],
        "test_rows": content_digest({"rows": spec.test.tolist()}), "data_sha256": data_sha256,
    }
    if refit_epochs is not None:  # only new keys get new fields: existing cached folds keep their keys
        key["refit_epochs"] = int(refit_epochs)
    if p.get("init_replicate"):
        key["init_replicate"] = int(p["init_replicate"])
    if not _smote(p):
        key["smote"] = False
    if grouped:
        key["grouped"] = True
    return key


def _smote(p: dict) -> bool:
    """Whether the leak-free folds are oversampled: the ``smote`` variant key, True when absent."""
    smote = p.get("smote", True)
    if not isinstance(smote, bool):
        raise ValueError(f"smote must be True or False, got {smote!r}")
    return smote


@dataclass(frozen=True)
class Arm:
    """One way of training and scoring the grid: a protocol, where early stopping looks,
    whether the chosen epoch count is refitted on the whole training fold, and whether
    the folds keep identical descriptor vectors together."""

    protocol: str
    early_stopping: str = "inner"
    refit: bool = False
    grouped: bool = False

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {self.protocol!r}")
        if self.early_stopping not in EARLY_STOPPING:
            raise ValueError(f"early_stopping must be one of {EARLY_STOPPING}, got {self.early_stopping!r}")
        if self.protocol == "paper" and self.early_stopping != "outer":
            raise ValueError("the paper protocol stops early on the scored fold: early_stopping must be 'outer'")
        if self.refit and self.early_stopping != "inner":
            raise ValueError("refit needs an epoch count chosen on an inner split (early_stopping='inner')")


#: The chapter's arms. ``leak_free`` is the default for networks (inner split chooses the epochs,
#: then a refit on the whole training fold); ``leak_free_no_refit`` the ablation that keeps the
#: inner model (fit on 80 % of the training fold).
ARMS = {
    "leak_free": Arm("leak_free", "inner", refit=True),
    "leak_free_no_refit": Arm("leak_free", "inner"),
    "leak_free_outer": Arm("leak_free", "outer"),
    "leaky": Arm("leaky", "inner"),
    "paper": Arm("paper", "outer"),
    "leak_free_grouped": Arm("leak_free", "inner", refit=True, grouped=True),
}


def _arm_data(arm: Arm, X, y, p: dict, groups=None):
    """The arm's data set and folds: (X, y, specs, n_real)."""
    if arm.protocol == "leak_free":
        if arm.grouped:
            if groups is None:
                raise ValueError("a grouped arm needs groups (descriptor_groups(X))")
            return X, y, grouped_cv_splits(y, groups, p["n_splits"], p["n_repeats"], p["seed"]), len(y)
        return X, y, cv_splits(y, p["n_splits"], p["n_repeats"], p["seed"]), len(y)
    Xr, yr = leaky_dataset(X, y, derive_seed("leaky-smote", p["seed"]))
    real = cv_splits(y, p["n_splits"], p["n_repeats"], p["seed"])
    return Xr, yr, resampled_splits(real, len(y), len(yr), p["seed"]), len(y)


def _train_fold_models(todo, arms: dict, data: dict, p: dict, config: TrainConfig) -> list[dict]:
    """Train the fold models ``todo`` (``(arm name, spec, key)``) of one configuration; their cache entries.

    One batched call per arm: arms differ in training-set size, and padding every model to
    the largest costs more than the calls it saves (benchmarks/bench_dia_trainer.py --arms).
    """
    folds, truths = [], []
    for name, spec, key in todo:
        arm = arms[name]
        Xa, ya, _, n_real = data[name]
        fd, y_test, _ = make_fold_data(arm.protocol, Xa, ya, spec, seed=p["seed"], val_fraction=p["val_fraction"],
                                       early_stopping=arm.early_stopping, refit_epochs=key.get("refit_epochs"),
                                       smote=_smote(p))
        real = spec.test < n_real
        if arm.protocol != "leak_free":
            fd.evaluate["test_real"] = fd.evaluate["test"][real]
        fd.seed = derive_seed("init", key)
        folds.append(fd)
        truths.append((y_test, ya[spec.test][real]))
    results = [None] * len(todo)
    for arm_name in dict.fromkeys(name for name, _, _ in todo):
        members = [i for i, (name, _, _) in enumerate(todo) if name == arm_name]
        for i, result in zip(members, train_folds(config, [folds[i] for i in members])):
            results[i] = result
    entries = []
    for result, (y_test, y_real) in zip(results, truths):
        entry = {"y_true": y_test, "y_prob": result.predictions["test"], "best_epoch": result.best_epoch,
                 "epochs_run": result.epochs_run, "best_val_auc": result.best_val_auc, "history": result.history}
        if "test_real" in result.predictions:
            entry.update(y_true_real=y_real, y_prob_real=result.predictions["test_real"])
        entries.append(entry)
    return entries


def _refit_key(arm: Arm, config: TrainConfig, p: dict, spec: FoldSpec, data_sha256: str, best_epoch: int) -> dict:
    return fold_key(arm.protocol, "inner", config, p, spec, data_sha256, refit_epochs=best_epoch + 1,
                    grouped=arm.grouped)


def _configuration_job(job: dict, shared: dict) -> list[tuple[dict, dict]]:
    """One (model, loss) of :func:`run_arms`: its first-stage batches to train, then the refits
    that need their epoch counts. Runs in any process (an executor's worker): reads no cache.
    Returns ``[(key, entry)]`` for every fold model it trained, in training order."""
    arms, data, p = shared["arms"], shared["data"], shared["p"]
    config = _config(job["model"], job["loss"], p)
    trained = list(zip([key for _, _, key in job["first"]],
                       _train_fold_models(job["first"], arms, data, p, config) if job["first"] else []))
    best_epoch = dict(job["best_epochs"])  # content_digest(first-stage key) -> epoch chosen, for cached ones
    best_epoch.update({content_digest(key): entry["best_epoch"] for key, entry in trained})
    refits, seen = [], set()
    for name, spec, first_key in job["refits"]:
        key = _refit_key(arms[name], config, p, spec, shared["data_sha256"], best_epoch[content_digest(first_key)])
        if content_digest(key) not in seen:  # arms sharing a fold model train it once
            seen.add(content_digest(key))
            refits.append((name, spec, key))
    if refits:
        trained += list(zip([key for _, _, key in refits], _train_fold_models(refits, arms, data, p, config)))
    return trained


def run_arms(X, y, p: dict, arms, *, data_sha256: str, models=None, losses=None,
             cache: DiskCache | None = None, progress=None, groups=None, executor: Executor | None = None) -> dict:
    """Train and score every (model, loss, repeat, fold) of each arm; one frame per arm.

    ``arms``: names of :data:`ARMS` (or a dict name -> :class:`Arm`). For each
    (model, loss), the fold models of each arm train together in one batched call (a
    fold model two arms share trains once), and refits (which need the inner run's
    epoch count) after them. A batch is trained whole or not at all: a fold model's
    float rounding depends on which models share its batched matrix products, so a
    run resumed after an interruption retrains a partly cached batch whole (keeping
    the entries it finds) and its numbers match an uninterrupted run bit for bit. Each (model, loss) with something to train is one
    job of ``executor`` (:mod:`lossbook.core.executor`; default serial): the results do
    not depend on which executor runs them. ``progress`` is called with 1 per (model, loss).

    Frame columns: protocol, early_stopping, refit, model, loss, repeat, fold, the
    :func:`lossbook.core.metrics.binary_report` scores, ``test_prevalence``, ``n_train``
    and ``n_test`` (fold sizes in the arm's data set), ``best_epoch``, ``epochs_run``,
    ``best_val_auc``, the objects ``y_true``, ``y_prob`` (test fold) and ``history``,
    and for resampled protocols ``y_true_real``/``y_prob_real`` (the real drugs of
    the test fold) with ``real_<metric>`` scores on them.
    """
    arms = {name: ARMS[name] for name in arms} if not isinstance(arms, dict) else dict(arms)
    check_class_counts(y, p["n_splits"], p["val_fraction"])
    resampled = sorted(name for name, arm in arms.items() if arm.protocol != "leak_free")
    if not _smote(p) and resampled:
        raise ValueError(f"smote=False is defined for leak-free arms only, got {resampled} (their data set is "
                         "resampled before any split)")
    cache = cache or DiskCache("dia-folds", code=__name__)
    executor = executor or SerialExecutor()
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    data = {name: _arm_data(arm, X, y, p, groups) for name, arm in arms.items()}
    configurations = [(model, loss) for model in models or p["models"] for loss in losses or p["losses"]]
    entries = {}  # content_digest(key) -> entry, read from the disk at most once or trained in this call

    def lookup(key):
        """``key``'s entry, or None where neither the cache nor this call has it."""
        digest = content_digest(key)
        if digest not in entries:
            entry = cache.get(key)
            if entry is None:
                return None
            entries[digest] = entry
        return entries[digest]

    def first_key(arm, spec, config):
        return fold_key(arm.protocol, arm.early_stopping, config, p, spec, data_sha256, grouped=arm.grouped)

    jobs = []
    for model, loss in configurations:
        config = _config(model, loss, p)
        first, refits, best_epochs, claimed = [], [], {}, set()
        for name, arm in arms.items():
            batch = [(name, spec, key) for spec in data[name][2]
                     if content_digest(key := first_key(arm, spec, config)) not in claimed]
            claimed.update(content_digest(key) for _, _, key in batch)  # arms sharing a fold model train it once
            if any(lookup(key) is None for _, _, key in batch):
                first += batch  # whole batches only (see the docstring)
        training = {content_digest(key) for _, _, key in first}
        for name, arm in arms.items():
            if not arm.refit:
                continue
            batch = [(name, spec, first_key(arm, spec, config)) for spec in data[name][2]]
            known = {content_digest(key): lookup(key)["best_epoch"] for _, _, key in batch
                     if content_digest(key) not in training}  # the others' epoch counts come from the job
            if len(known) < len(batch) or any(
                    lookup(_refit_key(arm, config, p, spec, data_sha256, known[content_digest(key)])) is None
                    for _, spec, key in batch):
                best_epochs.update(known)
                refits += batch
        if first or refits:
            jobs.append({"model": model, "loss": loss, "first": first, "refits": refits, "best_epochs": best_epochs})
        elif progress is not None:
            progress(1)
    shared = {"arms": arms, "data": data, "p": p, "data_sha256": data_sha256}
    for trained in executor.map(_configuration_job, jobs, shared=shared, progress=progress):
        for key, entry in trained:
            if lookup(key) is None:  # a finished fold model retrained with its batch keeps its entry
                cache.put(key, entry)
            entries[content_digest(key)] = entry

    rows = {name: [] for name in arms}
    for model, loss in configurations:
        config = _config(model, loss, p)
        for name, arm in arms.items():
            for spec in data[name][2]:
                chosen = lookup(first_key(arm, spec, config))
                entry = (lookup(_refit_key(arm, config, p, spec, data_sha256, chosen["best_epoch"]))
                         if arm.refit else chosen)
                row = {"protocol": arm.protocol, "early_stopping": arm.early_stopping, "refit": arm.refit,
                       "model": model, "loss": loss, "repeat": spec.repeat, "fold": spec.fold,
                       **binary_report(entry["y_true"], entry["y_prob"]),
                       "test_prevalence": float(np.mean(entry["y_true"])),
                       "n_train": len(spec.train), "n_test": len(spec.test),
                       # the epoch count early stopping chose (a refit trains exactly this many)
                       "best_epoch": chosen["best_epoch"], "epochs_run": chosen["epochs_run"],
                       "best_val_auc": chosen["best_val_auc"], "y_true": entry["y_true"],
                       "y_prob": entry["y_prob"], "history": chosen["history"]}
                if "y_prob_real" in entry:
                    real = binary_report(entry["y_true_real"], entry["y_prob_real"])
                    row.update({f"real_{m}": real[m] for m in TABLE_METRICS + ("tp", "fp", "tn", "fn")},
                               y_true_real=entry["y_true_real"], y_prob_real=entry["y_prob_real"])
                rows[name].append(row)
    return {name: pd.DataFrame(r) for name, r in rows.items()}


def run_grid(X, y, p: dict, *, protocol: str, data_sha256: str, early_stopping: str = "inner",
             refit: bool = False, models=None, losses=None, cache: DiskCache | None = None,
             progress=None) -> pd.DataFrame:
    """One arm of :func:`run_arms` (see there for the columns and how the cache is used)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if early_stopping not in EARLY_STOPPING:
        raise ValueError(f"early_stopping must be one of {EARLY_STOPPING}, got {early_stopping!r}")
    arm = Arm(protocol, early_stopping, refit=refit)
    return run_arms(X, y, p, {"arm": arm}, data_sha256=data_sha256, models=models, losses=losses,
                    cache=cache, progress=progress)["arm"]


#: The chapter's main arms: every configuration runs them; ``leak_free_outer`` (early stopping
#: on the scored fold, for the decomposition) only for ``variant_models``.
MAIN_ARMS = ("leak_free", "leak_free_no_refit", "leaky", "paper")


def main_grid(X, y, p: dict, *, data_sha256: str, cache: DiskCache | None = None, progress=None,
              executor: Executor | None = None) -> dict:
    """The chapter's grid: :data:`MAIN_ARMS` for every configuration of ``p``, plus
    ``leak_free_outer`` for ``p["variant_models"]``; one frame per arm (see :func:`run_arms`).

    The batches are always composed the same way (a configuration's arms train
    together), so any analysis that calls this with the chapter's parameters reads the
    chapter's fold models from the cache and gets the same numbers bit for bit.
    ``progress`` is called with 1 per (model, loss).
    """
    variant = [m for m in p["models"] if m in p["variant_models"]]
    others = [m for m in p["models"] if m not in p["variant_models"]]
    parts = [run_arms(X, y, p, arms, data_sha256=data_sha256, models=chosen, cache=cache, progress=progress,
                      executor=executor)
             for chosen, arms in ((variant, MAIN_ARMS + ("leak_free_outer",)), (others, MAIN_ARMS)) if chosen]
    names = [name for name in MAIN_ARMS + ("leak_free_outer",) if any(name in part for part in parts)]
    return {name: pd.concat([part[name] for part in parts if name in part], ignore_index=True) for name in names}


# -- baselines ------------------------------------------------------------------------


def baseline_estimators(seed: int) -> dict:
    """Logistic regression, random forest, gradient boosting: what a chemist tries first."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    return {
        "logistic_regression": LogisticRegression(C=0.1, max_iter=2000),
        "random_forest": RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1),
        "gradient_boosting": HistGradientBoostingClassifier(random_state=seed),
    }


def run_baselines(X, y, p: dict, *, data_sha256: str, cache: DiskCache | None = None) -> pd.DataFrame:
    """The baselines under the leak-free CV (filter, scaler, SMOTE fitted per training fold)."""
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    check_class_counts(y, p["n_splits"])
    cache = cache or DiskCache("dia-folds", code=__name__)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    rows = []
    for name, estimator in baseline_estimators(p["seed"]).items():
        for spec in cv_splits(y, p["n_splits"], p["n_repeats"], p["seed"]):
            key = {"study": "dia-baseline", "model": name, "params": repr(estimator.get_params()),
                   "seed": p["seed"], "repeat": spec.repeat, "fold": spec.fold, "n_splits": p["n_splits"],
                   "test_rows": content_digest({"rows": spec.test.tolist()}), "data_sha256": data_sha256}

            def fit(spec=spec, estimator=estimator):
                pipe = Pipeline(preprocessor(derive_seed("baseline-smote", p["seed"], spec.repeat, spec.fold)).steps
                                + [("model", clone(estimator))])
                # one thread: gradient boosting's OpenMP threads spin-wait on a busy machine
                with threadpool_limits(limits=1):
                    pipe.fit(X[spec.train], y[spec.train])
                    return {"y_true": y[spec.test], "y_prob": pipe.predict_proba(X[spec.test])[:, 1]}

            entry = cache.get_or_compute(key, fit)
            rows.append({"model": name, "repeat": spec.repeat, "fold": spec.fold,
                         **binary_report(entry["y_true"], entry["y_prob"]),
                         "y_true": entry["y_true"], "y_prob": entry["y_prob"]})
    return pd.DataFrame(rows)


# -- external test --------------------------------------------------------------------


def external_test(X, y, X_ext, p: dict, configs, *, data_sha256: str, n_refits: int = 5,
                  refit: bool = True, average: bool = True, cache: DiskCache | None = None) -> dict:
    """Fit chosen configurations on the training drugs and score the external set once.

    ``configs``: (model, loss) pairs chosen by CV only. Early stopping chooses the
    epoch count on an inner split of the training drugs; with ``refit`` (default) the
    network is then refitted on all training drugs for that many epochs (as the
    baselines are), otherwise the inner model (fit on ``1 - val_fraction`` of them) is
    scored. The external probabilities of ``n_refits`` fits (different seeds and inner
    splits) are averaged, so a lucky seed does not decide the score.
    Returns ``{(model, loss): probabilities (n_ext,)}``; with ``average=False`` each fit's
    own, ``(n_refits, n_ext)`` (the same cached fits).
    """
    cache = cache or DiskCache("dia-folds", code=__name__)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    out = {}
    all_rows = np.arange(len(y))
    for model, loss in configs:
        config = _config(model, loss, p)
        keys = {}
        for stage in ("inner", "refit") if refit else ("inner",):
            batch = []
            for r in range(n_refits):
                key = {"study": "dia-external", "trainer": TRAINER_VERSION, "config": config.as_dict(), "refit": r,
                       "seed": p["seed"], "val_fraction": p["val_fraction"], "data_sha256": data_sha256}
                if stage == "refit":
                    key["refit_epochs"] = int(cache.get(keys[("inner", r)])["best_epoch"]) + 1
                keys[(stage, r)] = key
                batch.append((r, key))
            missing = [cache.get(key) is None for _, key in batch]
            if not any(missing):
                continue
            folds = []  # the whole batch, as in run_arms: the numbers do not depend on what was cached
            for r, key in batch:
                spec = FoldSpec(-1 - r, -1, all_rows, np.array([], dtype=int))
                data, _, _ = make_fold_data("leak_free", X, y, spec, seed=p["seed"], val_fraction=p["val_fraction"],
                                            extra={"external": X_ext}, refit_epochs=key.get("refit_epochs"))
                data.seed = derive_seed("init", key)
                folds.append(data)
            for (_, key), result, absent in zip(batch, train_folds(config, folds), missing):
                if absent:
                    cache.put(key, {"y_prob": result.predictions["external"], "best_epoch": result.best_epoch})
        stage = "refit" if refit else "inner"
        fits = np.array([cache.get(keys[(stage, r)])["y_prob"] for r in range(n_refits)])
        out[(model, loss)] = fits.mean(axis=0) if average else fits
    return out


def refit_baseline(name: str, X, y, X_ext, seed: int) -> np.ndarray:
    """Fit a baseline (with its preprocessing) on all training drugs; external probabilities."""
    from sklearn.base import clone

    pipe = Pipeline(preprocessor(derive_seed("baseline-smote", seed, "external")).steps
                    + [("model", clone(baseline_estimators(seed)[name]))])
    pipe.fit(np.asarray(X, dtype=float), np.asarray(y))
    return pipe.predict_proba(np.asarray(X_ext, dtype=float))[:, 1]


# -- summaries for the chapter ----------------------------------------------------------

PAPER_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


def table1(frame: pd.DataFrame, metrics=TABLE_METRICS) -> pd.DataFrame:
    """Mean and standard deviation over folds x repeats per (model, loss), with the paper's
    Table 1 value and our mean minus the paper's (``delta``) for the five metrics it reports.

    Columns: ``<metric>_mean``, ``<metric>_std``, ``<metric>_paper``, ``<metric>_delta``,
    ``single_class`` (share of fold models predicting one class only).
    """
    rows = {}
    for (model, loss), g in frame.groupby(["model", "loss"], sort=False):
        row = {}
        for m in metrics:
            row[f"{m}_mean"] = float(g[m].mean())
            row[f"{m}_std"] = float(g[m].std(ddof=1)) if len(g) > 1 else float("nan")
            if m in PAPER_METRICS:
                paper = PAPER_TABLE1[(model, loss)][m]
                row[f"{m}_paper"] = paper
                row[f"{m}_delta"] = row[f"{m}_mean"] - paper
        row["single_class"] = float(g["single_class"].mean())
        row["auc_below_half"] = float((g["roc_auc"] < 0.5).mean())
        row["n_folds"] = int(len(g))
        rows[(model, loss)] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.names = ["model", "loss"]
    return out


def table1_record(table: pd.DataFrame) -> dict:
    """A :func:`table1` frame as the results file holds it: per ``"model+loss"``, each metric's
    ``{"mean", "std"}`` over folds, the share of single-class and below-chance folds, the
    paper's row and the number of folds."""
    return {f"{model}+{loss}": {
        **{m: {"mean": row[f"{m}_mean"], "std": row[f"{m}_std"]} for m in TABLE_METRICS},
        "single_class_fraction": row["single_class"], "auc_below_half_fraction": row["auc_below_half"],
        "paper": PAPER_TABLE1[(model, loss)], "n_folds": row["n_folds"],
    } for (model, loss), row in table.iterrows()}


def side_by_side(tables: dict, metrics=PAPER_METRICS) -> pd.DataFrame:
    """One display table: for each metric the paper's value and each protocol's mean ± sd."""
    cols = {}
    first = next(iter(tables.values()))
    for m in metrics:
        cols[(m, "paper")] = first[f"{m}_paper"].map(lambda v: f"{v:.2f}")
        for name, t in tables.items():
            cols[(m, name)] = [f"{a:.2f} ± {b:.2f} ({d:+.2f})" for a, b, d in
                               zip(t[f"{m}_mean"], t[f"{m}_std"], t[f"{m}_delta"])]
    out = pd.DataFrame(cols, index=first.index)
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out


def paired_tests(frame: pd.DataFrame, reference=("mlp", "focal"), metrics=("roc_auc", "f1"),
                 n_train: int | None = None, n_test: int | None = None) -> pd.DataFrame:
    """Corrected resampled t-test (Nadeau-Bengio) of every configuration against ``reference``,
    over the same folds and repeats. ``diff`` = other minus reference; ``n_train``/``n_test``
    default to the frame's actual fold sizes."""
    from lossbook.core.metrics import corrected_resampled_ttest

    key = ["repeat", "fold"]
    ref = frame[(frame.model == reference[0]) & (frame.loss == reference[1])].set_index(key)
    sizes = _sizes(frame) if "n_train" in frame else (int(round(np.mean([len(v) for v in ref["y_true"]])) * frame["fold"].max()),
                                                      int(round(np.mean([len(v) for v in ref["y_true"]]))))
    n_train, n_test = n_train or sizes[0], n_test or sizes[1]
    rows = []
    for (model, loss), g in frame.groupby(["model", "loss"], sort=False):
        if (model, loss) == tuple(reference):
            continue
        g = g.set_index(key).loc[ref.index]
        row = {"model": model, "loss": loss}
        for m in metrics:
            t = corrected_resampled_ttest((g[m] - ref[m]).to_numpy(), n_train=n_train, n_test=n_test)
            row.update({f"{m}_diff": t["mean"], f"{m}_ci_low": t["ci_low"], f"{m}_ci_high": t["ci_high"],
                        f"{m}_p": t["p_value"]})
        rows.append(row)
    return pd.DataFrame(rows).set_index(["model", "loss"])


def collapse_diagnostics(frame: pd.DataFrame, X, y, p: dict, *, protocol: str, model: str = "cnn",
                         loss: str = "dice") -> dict:
    """What orders the scores of a (nearly) collapsed configuration?

    For each test fold of ``(model, loss)``: the spread of its scores (max - min), the
    Spearman correlation between its scores and the Euclidean length of each test drug's
    standardised descriptor vector, and the ROC-AUC that this length alone would get as a
    score. Standardisation here is only a yardstick for "input size" (fitted on all rows of
    the protocol's data set; no model uses it). Returns fold means and medians.
    """
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if protocol in ("leaky", "paper"):
        Xp, yp = leaky_dataset(X, y, derive_seed("leaky-smote", p["seed"]))
    else:
        Xp, yp = preprocessor(0, smote=False).fit_transform(X, y), y
    length = np.linalg.norm(Xp, axis=1)
    real = cv_splits(y, p["n_splits"], p["n_repeats"], p["seed"])
    folds = real if protocol == "leak_free" else resampled_splits(real, len(y), len(yp), p["seed"])
    specs = {(s.repeat, s.fold): s for s in folds}
    g = frame[(frame.model == model) & (frame.loss == loss)]
    spread, rho, len_auc = [], [], []
    for _, row in g.iterrows():
        spec = specs[(row["repeat"], row["fold"])]
        scores = np.asarray(row["y_prob"])
        spread.append(float(scores.max() - scores.min()))
        rho.append(float(spearmanr(scores, length[spec.test]).statistic) if np.ptp(scores) > 0 else float("nan"))
        len_auc.append(float(roc_auc_score(yp[spec.test], length[spec.test])))
    return {"score_spread_median": float(np.median(spread)), "spearman_score_length_mean": float(np.nanmean(rho)),
            "length_auc_mean": float(np.mean(len_auc)), "auc_mean": float(g["roc_auc"].mean()),
            "auc_below_half_fraction": float((g["roc_auc"] < 0.5).mean()), "n_folds": int(len(g))}


# -- the paper's own protocol, decomposed; the paper's other claims ------------------------


def _fold_scores(frame: pd.DataFrame, model: str, loss: str, column: str) -> pd.Series:
    g = frame[(frame.model == model) & (frame.loss == loss)]
    return g.set_index(["repeat", "fold"])[column].astype(float).sort_index()


def _sizes(frame: pd.DataFrame) -> tuple[int, int]:
    """(n_train, n_test) of the folds a frame was scored on, from its ``n_train``/``n_test`` columns."""
    return int(round(frame["n_train"].mean())), int(round(frame["n_test"].mean()))


def paired_estimate(a: pd.Series, b: pd.Series, *, n_train: int, n_test: int) -> tuple[Estimate, float]:
    """``b - a`` over the same (repeat, fold) index: corrected resampled t-interval and p-value."""
    if not a.index.equals(b.index):
        b = b.loc[a.index]
    t = corrected_resampled_ttest((b - a).to_numpy(), n_train=n_train, n_test=n_test)
    return Estimate(t["mean"], t["ci_low"], t["ci_high"], n=len(a), method="corrected_t"), t["p_value"]


def mean_estimate(values: pd.Series, *, n_train: int, n_test: int, minus: float = 0.0) -> Estimate:
    """Mean of per-fold scores (minus a constant) with the corrected resampled t-interval."""
    t = corrected_resampled_ttest(values.to_numpy(dtype=float) - minus, n_train=n_train, n_test=n_test)
    return Estimate(t["mean"], t["ci_low"], t["ci_high"], n=len(values), method="corrected_t")


def fold_mean_estimates(frame: pd.DataFrame, columns=("accuracy", "f1", "roc_auc", "precision", "recall"),
                        prefix: str = "") -> dict:
    """Per ``"model+loss"`` of ``frame``: each metric's fold mean (column ``prefix + metric``) as an
    :class:`Estimate` with its corrected resampled t-interval."""
    n_train, n_test = _sizes(frame)
    return {f"{m}+{loss}": {c: mean_estimate(_fold_scores(frame, m, loss, prefix + c), n_train=n_train, n_test=n_test)
                            for c in columns}
            for (m, loss), _ in frame.groupby(["model", "loss"], sort=False)}


#: The decomposition's steps, from the leak-free networks up to the paper's Table 1.
DECOMPOSITION_STEPS = (
    ("early_stopping_on_scored_fold", "leak_free", "leak_free_outer"),
    ("preprocessing_before_split", "leak_free_outer", "paper_real"),
    ("balanced_test_folds", "paper_real", "paper"),
    ("remaining_gap_to_paper", "paper", "paper_table1"),
)


def decomposition(frames: dict, model: str, loss: str, metric: str) -> dict:
    """The distance from our leak-free result to the paper's Table 1, in measured parts.

    ``frames`` needs the arms ``leak_free`` (inner split, refit), ``leak_free_outer``
    and ``paper``. Levels (fold means, corrected t-intervals): ``leak_free``;
    ``leak_free_outer`` (the same folds, whole training fold, early stopping on the
    scored fold); ``paper_real`` (the paper-protocol models scored on the real drugs
    of their test folds, which are the leak-free test folds); ``paper`` (the same
    models on their whole, balanced test folds); ``paper_table1`` (the paper's value).
    Parts: each step's paired per-fold difference (later minus earlier level); the
    last step is our paper-protocol mean's distance to the paper's value. The parts
    add up to the paper's value minus our leak-free mean.
    """
    lf, outer, paper = frames["leak_free"], frames["leak_free_outer"], frames["paper"]
    series = {"leak_free": _fold_scores(lf, model, loss, metric),
              "leak_free_outer": _fold_scores(outer, model, loss, metric),
              "paper_real": _fold_scores(paper, model, loss, f"real_{metric}"),
              "paper": _fold_scores(paper, model, loss, metric)}
    sizes = {"leak_free": _sizes(lf), "leak_free_outer": _sizes(outer), "paper_real": _sizes(lf),
             "paper": _sizes(paper)}
    paper_value = PAPER_TABLE1[(model, loss)][metric]
    levels = {name: mean_estimate(v, n_train=sizes[name][0], n_test=sizes[name][1]) for name, v in series.items()}
    levels["paper_table1"] = Estimate(paper_value)
    parts, p_values = {}, {}
    for name, before, after in DECOMPOSITION_STEPS:
        if after == "paper_table1":
            n_train, n_test = sizes["paper"]
            parts[name] = mean_estimate(-series["paper"], n_train=n_train, n_test=n_test, minus=-paper_value)
            p_values[name] = float("nan")
            continue
        # (balanced test folds) pairs the same models on two test subsets of the paper's folds
        n_train, n_test = sizes[after] if after == "paper" else sizes[before]
        parts[name], p_values[name] = paired_estimate(series[before], series[after], n_train=n_train, n_test=n_test)
    return {"metric": metric, "model": model, "loss": loss, "levels": levels, "parts": parts, "p_values": p_values,
            "total": paper_value - levels["leak_free"].estimate}


def decomposition_table(decompositions: dict) -> pd.DataFrame:
    """One row per level and step of :func:`decomposition` results (``{metric: decomposition}``):
    ``metric`` and ``step`` in words, ``value`` (an :class:`Estimate` for the leak-free level and
    each step, the paper's number at the end) and the step's ``p``."""
    from lossbook.core.plots import label

    rows = []
    for metric, d in decompositions.items():
        rows.append({"metric": label(metric), "step": "leak-free (refitted networks)", "value": d["levels"]["leak_free"]})
        rows += [{"metric": label(metric), "step": f"+ {name.replace('_', ' ')}", "value": part, "p": d["p_values"][name]}
                 for name, part in d["parts"].items()]
        rows.append({"metric": label(metric), "step": "paper's Table 1", "value": d["levels"]["paper_table1"].estimate})
    return pd.DataFrame(rows)


def confusion_counts(frame: pd.DataFrame, model: str, loss: str, *, real_only: bool = False) -> dict:
    """False positives and negatives of one configuration summed over all its fold models.

    ``rows_scored`` counts test rows summed over folds; ``per_repeat`` divides the sums
    by the number of repeats (one pass over the data set, as one 5-fold CV would give).
    ``real_only``: count only the real drugs of resampled test folds.
    """
    g = frame[(frame.model == model) & (frame.loss == loss)]
    prefix = "real_" if real_only else ""
    sums = {k: int(g[f"{prefix}{k}"].sum()) for k in ("tp", "fp", "tn", "fn")}
    n_rep = int(g["repeat"].nunique())
    rows = sum(sums.values())
    return {**sums, "rows_scored": rows, "n_repeats": n_rep,
            "per_repeat": {k: v / n_rep for k, v in {**sums, "rows_scored": rows}.items()}}


def implied_confusion(fp: int, fn: int, row: dict, *, max_count: int = 20000) -> dict:
    """Which confusion matrices agree with stated FP, FN and a Table 1 row rounded to 2 decimals?

    Searches integer true positives and true negatives such that accuracy, precision and
    recall computed from (TP, FP, TN, FN) round to the row's values. Returns the ranges of
    TP, of the positives (TP + FN), of the rows scored (N) and of the positive share, and
    ``feasible`` (False when no matrix fits, e.g. zero FP and FN with precision 0.50).
    """
    def within(value, stated):
        return abs(value - stated) <= 0.005 + 1e-12

    tps = [tp for tp in range(max_count) if tp + fp > 0 and tp + fn > 0
           and within(tp / (tp + fp), row["precision"]) and within(tp / (tp + fn), row["recall"])]
    cells = []
    for tp in tps:
        # accuracy = (tp + tn) / (tp + tn + fp + fn): the TN range whose accuracy rounds right
        errors = fp + fn
        for tn in range(max_count):
            acc = (tp + tn) / (tp + tn + errors) if tp + tn + errors else 0.0
            if within(acc, row["accuracy"]):
                cells.append((tp, tn))
            elif acc > row["accuracy"] + 0.005:
                break
    if not cells:
        return {"feasible": False, "fp": fp, "fn": fn}
    tp = np.array([c[0] for c in cells])
    tn = np.array([c[1] for c in cells])
    n = tp + tn + fp + fn
    prev = (tp + fn) / n
    return {"feasible": True, "fp": fp, "fn": fn, "tp_range": [int(tp.min()), int(tp.max())],
            "positives_range": [int((tp + fn).min()), int((tp + fn).max())],
            "rows_scored_range": [int(n.min()), int(n.max())],
            "positive_share_range": [float(prev.min()), float(prev.max())]}


def candidate_row_counts(y, y_external) -> dict[str, int]:
    """The data sets the paper's confusion counts could have been computed on, with their sizes:
    the training drugs, the training drugs resampled 1:1 (as the leaky and paper protocols
    score them), all drugs, and all drugs resampled 1:1."""
    y, y_external = np.asarray(y), np.asarray(y_external)
    negatives = int((y == 0).sum() + (y_external == 0).sum())
    return {"training drugs (leak-free CV)": len(y), "training drugs resampled 1:1 (leaky, paper)": int(2 * (y == 0).sum()),
            "all drugs, training and external": len(y) + len(y_external), "all drugs resampled 1:1": 2 * negatives}


#: The arms whose confusion counts are set beside the paper's, with their names in the tables.
CONFUSION_ARMS = {"leak_free": "leak-free", "leaky": "leaky", "paper": "paper protocol",
                  "paper_real_drugs": "paper protocol, real drugs only"}


def confusion_analysis(frames: dict, candidates: dict[str, int]) -> dict:
    """The paper's confusion counts against Table 1 and against ours.

    For each configuration of :data:`PAPER_CONFUSION`: the paper's counts (``paper``), the
    matrices consistent with its Table 1 row (``implied``, :func:`implied_confusion`), our counts
    per arm of ``frames`` that ran it (``ours``; the paper protocol also on its real drugs only),
    and which ``candidates`` (name -> rows) the focal networks' implied sizes allow
    (``candidates_consistent``).
    """
    ran = {arm: set(zip(frame["model"], frame["loss"])) for arm, frame in frames.items()}
    out = {"paper": {}, "implied": {}, "ours": {}, "candidate_rows": candidates}
    for (m, loss), (fp, fn) in PAPER_CONFUSION.items():
        key = f"{m}+{loss}"
        out["paper"][key] = {"fp": fp, "fn": fn}
        out["implied"][key] = implied_confusion(fp, fn, PAPER_TABLE1[(m, loss)])
        out["ours"][key] = {arm: confusion_counts(frames[arm], m, loss) for arm in ("leak_free", "leaky", "paper")
                            if (m, loss) in ran.get(arm, ())}
        if (m, loss) in ran.get("paper", ()):
            out["ours"][key]["paper_real_drugs"] = confusion_counts(frames["paper"], m, loss, real_only=True)
    out["candidates_consistent"] = {}
    for key in ("mlp+focal", "cnn+focal"):
        sizes = out["implied"][key].get("rows_scored_range")
        out["candidates_consistent"][key] = [name for name, n in candidates.items() if sizes and sizes[0] <= n <= sizes[1]]
    return out


def confusion_tables(confusion: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two display tables of :func:`confusion_analysis`: what the paper's counts imply (rows
    scored, positive share) and our false positives / false negatives (rows scored) per arm,
    both per repeat."""
    from lossbook.core.plots import config_label

    def span(imp, key, fmt):
        return f"{imp[key][0]:{fmt}}–{imp[key][1]:{fmt}}" if imp["feasible"] else "no matrix fits"

    implied = pd.DataFrame([{
        "configuration": config_label(key), "paper's false positives": confusion["paper"][key]["fp"],
        "paper's false negatives": confusion["paper"][key]["fn"],
        "rows scored, implied": span(imp, "rows_scored_range", ""),
        "positive share, implied": span(imp, "positive_share_range", ".2f"),
    } for key, imp in confusion["implied"].items()])
    ours = pd.DataFrame([{"configuration": config_label(key), **{
        CONFUSION_ARMS[arm]: f"{c['per_repeat']['fp']:.1f} / {c['per_repeat']['fn']:.1f} ({c['per_repeat']['rows_scored']:.0f})"
        for arm, c in confusion["ours"][key].items()}} for key in confusion["implied"]])
    return implied, ours


def collapse_frequency(frame: pd.DataFrame, model: str = "cnn", loss: str = "dice") -> Estimate:
    """Share of fold models that predict one class only, with its Clopper-Pearson interval."""
    g = frame[(frame.model == model) & (frame.loss == loss)]
    return clopper_pearson_interval(int(g["single_class"].sum()), int(len(g)))


def holm_table(paired: pd.DataFrame, metrics=("roc_auc", "f1")) -> pd.DataFrame:
    """Add Holm-adjusted p-values (``<metric>_p_holm``) beside the raw ones; one family over
    every configuration and metric of ``paired`` (the output of :func:`paired_tests`)."""
    out = paired.copy()
    columns = [f"{m}_p" for m in metrics]
    flat = out[columns].to_numpy().ravel()
    adjusted = np.asarray(holm(flat)).reshape(len(out), len(columns))
    for j, c in enumerate(columns):
        out[c + "_holm"] = adjusted[:, j]
    return out


def stability_check(frame: pd.DataFrame, reference=("mlp", "focal"), metrics=PAPER_METRICS, *,
                    n_boot: int = 2000, seed: int = 0) -> dict:
    """Does ``reference`` have the smallest standard deviation over folds and repeats?

    Per metric: each configuration's sd, the reference's rank (1 = smallest), and the
    reference's sd minus the smallest other sd, with a percentile interval from
    resampling whole repeats (the folds of one repeat share data, so repeats are the
    units); ``share_smallest`` is how often the reference is smallest in those resamples.
    """
    rng = np.random.default_rng(seed)
    out = {}
    configs = [c for c, _ in frame.groupby(["model", "loss"], sort=False)]
    repeats = np.sort(frame["repeat"].unique())
    for m in metrics:
        wide = frame.pivot_table(index=["repeat", "fold"], columns=["model", "loss"], values=m)[configs]
        sd = wide.std(ddof=1)
        others = [c for c in configs if c != tuple(reference)]
        diffs, smallest = [], []
        by_repeat = [wide.xs(r, level="repeat").to_numpy() for r in repeats]
        ref_j = configs.index(tuple(reference))
        for _ in range(n_boot):
            pick = rng.integers(0, len(repeats), len(repeats))
            sample = np.vstack([by_repeat[i] for i in pick])
            s = np.nanstd(sample, axis=0, ddof=1)
            rest = np.delete(s, ref_j)
            diffs.append(s[ref_j] - rest.min())
            smallest.append(s[ref_j] < rest.min())
        lo, hi = np.nanpercentile(diffs, [2.5, 97.5]) if len(repeats) > 1 else (None, None)
        estimate = float(sd[tuple(reference)] - sd[others].min())
        out[m] = {"sd": {f"{a}+{b}": float(v) for (a, b), v in sd.items()},
                  "reference_rank": int(sd.rank(method="min")[tuple(reference)]),
                  "smallest": "+".join(sd.idxmin()),
                  "reference_minus_smallest_other": Estimate(
                      estimate, None if lo is None else float(min(lo, estimate)),
                      None if hi is None else float(max(hi, estimate)), n=len(repeats),
                      method="bootstrap" if lo is not None else "none"),
                  "share_smallest": float(np.mean(smallest))}
    return out


def paper_claim_checks(table: dict) -> dict:
    """The paper's section 3.1 claims, checked on a table ``{(model, loss): {metric: value}}``.

    ``focal_best``: for each model and for F1 and AUC, is focal strictly above both other
    losses ("outperformed others in F1-score and AUC across all models")?
    ``mlp_surpassed``: for each loss and each Table 1 metric, is the MLP strictly above both
    other networks ("consistently surpassed both CNN and 2-Layer Neural Network across all
    loss functions")? Ties count as not surpassing.
    """
    focal = {}
    for model in MODELS:
        for m in ("f1", "roc_auc"):
            others = [table[(model, loss)][m] for loss in LOSSES if loss != "focal"]
            focal[f"{model}|{m}"] = bool(table[(model, "focal")][m] > max(others))
    mlp = {}
    for loss in LOSSES:
        for m in PAPER_METRICS:
            others = [table[(model, loss)][m] for model in MODELS if model != "mlp"]
            mlp[f"{loss}|{m}"] = bool(table[("mlp", loss)][m] > max(others))
    return {"focal_best": {"holds": focal, "n_true": sum(focal.values()), "n": len(focal)},
            "mlp_surpassed": {"holds": mlp, "n_true": sum(mlp.values()), "n": len(mlp)}}


def claim_differences(frame: pd.DataFrame) -> dict:
    """Our fold-paired differences behind :func:`paper_claim_checks` (corrected t-intervals).

    ``focal_minus``: focal minus each other loss, per model, for F1 and AUC;
    ``mlp_minus``: MLP minus each other network, per loss, for F1 and AUC.
    """
    n_train, n_test = _sizes(frame)
    out = {"focal_minus": {}, "mlp_minus": {}}
    for m in ("f1", "roc_auc"):
        for model in MODELS:
            for loss in LOSSES:
                if loss != "focal":
                    est, _ = paired_estimate(_fold_scores(frame, model, loss, m), _fold_scores(frame, model, "focal", m),
                                             n_train=n_train, n_test=n_test)
                    out["focal_minus"][f"{model}|{loss}|{m}"] = est
        for loss in LOSSES:
            for model in MODELS:
                if model != "mlp":
                    est, _ = paired_estimate(_fold_scores(frame, model, loss, m), _fold_scores(frame, "mlp", loss, m),
                                             n_train=n_train, n_test=n_test)
                    out["mlp_minus"][f"{loss}|{model}|{m}"] = est
    return out


def figure5_vs_table1() -> dict:
    """The paper's Figure 5 AUCs (quoted in its text) beside its Table 1 AUCs."""
    rows = {f"{m}+{l}": {"figure5": v, "table1": PAPER_TABLE1[(m, l)]["roc_auc"],
                         "difference": round(v - PAPER_TABLE1[(m, l)]["roc_auc"], 4)}
            for (m, l), v in PAPER_FIGURE5_AUC.items()}
    return {"rows": rows, "n_compared": len(rows), "n_disagree": sum(r["difference"] != 0 for r in rows.values())}


def stereoisomers(X_train, y_train, X_test, y_test) -> dict:
    """Drugs that share an identical descriptor vector (e.g. stereoisomers).

    Within the training set: groups of two or more drugs, drugs in them, groups whose
    labels conflict. Across sets: external test drugs whose vector also occurs among
    the training drugs, and how many of those have a different label there.
    """
    X_train = np.asarray(X_train, dtype=float)
    X_test = np.asarray(X_test, dtype=float)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    groups = descriptor_groups(X_train)
    ids, counts = np.unique(groups, return_counts=True)
    dup = ids[counts > 1]
    conflicting = [g for g in dup if len(np.unique(y_train[groups == g])) > 1]
    train_index = {}
    for row, label in zip(X_train, y_train):
        train_index.setdefault(row.tobytes(), set()).add(int(label))
    shared = [i for i, row in enumerate(X_test) if row.tobytes() in train_index]
    conflict_across = [i for i in shared if train_index[X_test[i].tobytes()] != {int(y_test[i])}]
    test_groups = descriptor_groups(X_test)
    _, test_counts = np.unique(test_groups, return_counts=True)
    return {"train_groups": int(len(dup)), "train_drugs_in_groups": int(counts[counts > 1].sum()),
            "train_groups_conflicting_labels": int(len(conflicting)),
            "test_drugs_with_twin_in_train": int(len(shared)),
            "test_twins_conflicting_labels": int(len(conflict_across)),
            "test_groups_within_test": int((test_counts > 1).sum())}


def grouped_effect(random: pd.DataFrame, grouped: pd.DataFrame, model: str, loss: str, metric: str) -> Estimate:
    """Grouped-CV mean minus random-CV mean of one configuration.

    The two CVs cut different folds, so the difference is unpaired: its standard error
    combines each mean's corrected (Nadeau-Bengio) standard error, with the smaller
    number of folds minus one as degrees of freedom.
    """
    from scipy import stats

    a = _fold_scores(random, model, loss, metric)
    b = _fold_scores(grouped, model, loss, metric)
    ses = []
    for values, frame in ((a, random), (b, grouped)):
        n_train, n_test = _sizes(frame)
        ses.append(corrected_resampled_ttest(values.to_numpy(), n_train=n_train, n_test=n_test)["se"])
    diff = float(b.mean() - a.mean())
    se = float(np.hypot(*ses))
    half = float(stats.t.ppf(0.975, min(len(a), len(b)) - 1) * se)
    return Estimate(diff, diff - half, diff + half, n=min(len(a), len(b)), method="corrected_t")


# -- the chapter's summaries: one call per cell of notebooks/dia.py ------------------------

#: Each protocol in the chapter's words (table columns, figure rows).
PROTOCOL_WORDS = {"leak_free": "leak-free", "leaky": "leaky", "paper": "paper protocol"}
#: The short names the chapter's glue keys use for the protocols (``dia_lf_...``).
GLUE_PREFIX = {"leak_free": "lf", "leaky": "lk", "paper": "pp"}
#: Metrics the paper does not report, with their names in the tables.
EXTRA_METRICS = {"pr_auc": "PR-AUC", "balanced_accuracy": "balanced accuracy", "mcc": "MCC", "brier": "Brier score"}
#: The decomposition's steps as the waterfall figure labels them.
DECOMPOSITION_STEP_LABELS = {"early_stopping_on_scored_fold": "early stopping\non scored fold",
                             "preprocessing_before_split": "preprocessing\nbefore split",
                             "balanced_test_folds": "balanced\ntest folds",
                             "remaining_gap_to_paper": "remaining gap\nto paper"}
#: The MLP variants the chapter runs against the default (name -> changed parameters).
VARIANT_CHANGES = {"class weight 3 for positives": {"pos_class_weight": 3.0},
                   "label smoothing 0.1": {"label_smoothing": 0.1}}
#: Column headers of the collapse-diagnostics table.
DIAGNOSTIC_HEADERS = {"score_spread_median": "median score spread in a fold (× 10⁻⁶)",
                      "spearman_score_length_mean": "rank correlation of score and descriptor length",
                      "length_auc_mean": "ROC-AUC of descriptor length as a score", "auc_mean": "mean ROC-AUC",
                      "auc_below_half_fraction": "share of folds with ROC-AUC < 0.5", "n_folds": "folds"}
_CLAIM_WORDS = {"focal best": "focal loss best (§3.1)", "mlp surpassed": "MLP above the other networks (§3.1)",
                "smallest sd (roc_auc)": "MLP + focal has the smallest sd, ROC-AUC (§3.1.4)",
                "smallest sd (f1)": "MLP + focal has the smallest sd, F1 (§3.1.4)"}
_TABLE_WORDS = {"paper table1": "the paper's Table 1", "leak free": "ours, leak-free", "paper": "ours, paper protocol"}


def _labels(keys) -> list[str]:
    from lossbook.core.plots import config_label

    return [config_label(*key) if isinstance(key, tuple) else config_label(key) for key in keys]


def chapter_facts(X, y, p: dict) -> dict:
    """The data and protocol facts the protocol section quotes (glued as ``dia_<key>``): the
    networks' layer widths and dropout rates, data sizes, prevalence and CV sizes."""
    from lossbook.nets import models as lbmodels

    y = np.asarray(y)
    facts = {"inner_share": 1 - p["val_fraction"]}
    for name in lbmodels.ARCHITECTURES:
        spec = lbmodels.architecture(name)
        widths = "-".join(str(layer.size) for layer in spec if layer.kind in ("dense", "conv1d"))
        drops = "/".join(f"{layer.size:g}" for layer in spec if layer.kind == "dropout")
        facts[f"arch_{name}"] = f"{widths} (dropout {drops})"
    return {**facts, "n_train": len(y), "n_pos": int(y.sum()), "n_desc": np.shape(X)[1], "prevalence": float(y.mean()),
            "val_fraction": p["val_fraction"], "n_repeats": p["n_repeats"], "n_splits": p["n_splits"],
            "n_fold_models": p["n_splits"] * p["n_repeats"], "n_leaky": int(2 * (y == 0).sum())}


def table1_by_metric(tables: dict, metric: str) -> pd.DataFrame:
    """One metric of Table 1 for the page: the paper's value, then each protocol's mean ± sd
    (rows: the leak-free table's configurations, in words)."""
    index = tables["leak_free"].index
    cols = {"paper's Table 1": [f"{v:.2f}" for v in tables["leak_free"][f"{metric}_paper"]]}
    for name, words in PROTOCOL_WORDS.items():
        t = tables[name]
        cols[words] = [f"{a:.2f} ± {b:.2f}" for a, b in zip(t.loc[index, f"{metric}_mean"], t.loc[index, f"{metric}_std"])]
    return pd.DataFrame(cols, index=_labels(index))


def table1_numbers(tables: dict) -> dict:
    """What the text quotes of the three Table 1 re-runs, keyed by protocol prefix (``lf``, ``lk``,
    ``pp``): MLP + focal's five metrics, the mean absolute gap to the paper's table, the best
    leak-free ROC-AUC and its configuration, and the average F1 (leak-free and leaky)."""
    from lossbook.core.plots import config_label

    out = {}
    for name, short in GLUE_PREFIX.items():
        t = tables[name]
        out[short] = {f"mlp_focal_{m}": float(t.loc[("mlp", "focal"), f"{m}_mean"]) for m in PAPER_METRICS}
        out[short]["mean_abs_delta"] = float(np.mean(np.abs(t[[f"{m}_delta" for m in PAPER_METRICS]].to_numpy())))
    lf = tables["leak_free"]
    out["lf"].update(best_auc=float(lf["roc_auc_mean"].max()),
                     best_auc_config=config_label(*lf["roc_auc_mean"].idxmax()), mean_f1=float(lf["f1_mean"].mean()))
    out["lk"]["mean_f1"] = float(tables["leaky"]["f1_mean"].mean())
    return out


def extra_metrics_table(table: pd.DataFrame, index) -> pd.DataFrame:
    """The metrics the paper does not report (:data:`EXTRA_METRICS`), means per configuration of ``index``."""
    return pd.DataFrame({words: table.loc[index, f"{m}_mean"].to_numpy() for m, words in EXTRA_METRICS.items()},
                        index=_labels(index))


def decompositions(frames: dict, p: dict, metrics=("accuracy", "f1", "roc_auc")) -> dict:
    """:func:`decomposition` for every configuration of ``variant_models`` (those that ran) x
    ``losses`` and each metric: ``{"model+loss": {metric: decomposition}}``."""
    return {f"{m}+{loss}": {metric: decomposition(frames, m, loss, metric) for metric in metrics}
            for m in p["variant_models"] if m in p["models"] for loss in p["losses"]}


def headline_config(configs) -> str:
    """The paper's headline ``"mlp+focal"`` when ``configs`` holds it, else the first one."""
    return "mlp+focal" if "mlp+focal" in configs else next(iter(configs))


def decomposition_numbers(headline: dict) -> dict:
    """What the text quotes of one configuration's decompositions ``{metric: decomposition}``, per
    metric: the leak-free and our paper-protocol levels, each part, the total and the paper's value."""
    return {metric: {"lf": d["levels"]["leak_free"], "paper_ours": d["levels"]["paper"], **d["parts"],
                     "total": d["total"], "paper_value": d["levels"]["paper_table1"].estimate}
            for metric, d in headline.items()}


def waterfall_panels(headline: dict) -> dict:
    """:func:`lossbook.core.plots.waterfalls` panels of one configuration's decompositions: per metric
    (in words) the leak-free level, the labelled parts and the paper's value."""
    from lossbook.core.plots import label

    return {label(metric): (d["levels"]["leak_free"].estimate,
                            {DECOMPOSITION_STEP_LABELS[name]: part for name, part in d["parts"].items()},
                            d["levels"]["paper_table1"].estimate)
            for metric, d in headline.items()}


def refit_handicap(frames: dict, configs, metrics=("roc_auc", "f1", "accuracy")) -> dict:
    """Refitted minus not refitted leak-free networks, per ``"model+loss"`` of ``configs`` and metric:
    paired over the same folds, corrected resampled t-intervals (:class:`Estimate`)."""
    n_tr, n_te = _sizes(frames["leak_free"])
    return {f"{model}+{loss}": {
        metric: paired_estimate(_fold_scores(frames["leak_free_no_refit"], model, loss, metric),
                                _fold_scores(frames["leak_free"], model, loss, metric), n_train=n_tr, n_test=n_te)[0]
        for metric in metrics} for model, loss in configs}


def config_estimates_table(estimates: dict, metrics=("roc_auc", "f1")) -> pd.DataFrame:
    """``{"model+loss": {metric: Estimate}}`` as a page table: one row per configuration (in words)."""
    return pd.DataFrame(dict(zip(_labels(estimates), estimates.values()))).T[list(metrics)]


def refit_numbers(handicap: dict, headline: str, frame: pd.DataFrame) -> dict:
    """What the text quotes of :func:`refit_handicap`: the headline's ROC-AUC and F1 changes, the
    mean ROC-AUC change, and the fold sizes of ``frame`` (the leak-free arm)."""
    n_tr, n_te = _sizes(frame)
    return {"refit_gain_auc": handicap[headline]["roc_auc"], "refit_gain_f1": handicap[headline]["f1"],
            "refit_mean_gain_auc": float(np.mean([v["roc_auc"].estimate for v in handicap.values()])),
            "n_train_fold": n_tr, "n_test_fold": n_te}


def confusion_numbers(confusion: dict, candidates: dict, y, y_external, n_repeats: int) -> dict:
    """What the text quotes of :func:`confusion_analysis`: MLP + focal's counts and the rows and
    positive share they imply, the candidate data sets that fit both focal networks, and sizes."""
    mf = confusion["implied"]["mlp+focal"]
    fits = confusion["candidates_consistent"]
    return {"cm_mlp_rows_lo": mf["rows_scored_range"][0], "cm_mlp_rows_hi": mf["rows_scored_range"][1],
            "cm_mlp_share_lo": mf["positive_share_range"][0], "cm_mlp_share_hi": mf["positive_share_range"][1],
            "cm_mlp_fp": confusion["paper"]["mlp+focal"]["fp"], "cm_mlp_fn": confusion["paper"]["mlp+focal"]["fn"],
            "cm_consistent": "; ".join(sorted(set(fits["mlp+focal"]) & set(fits["cnn+focal"]))) or "none of them",
            "n_all_drugs": len(y) + len(y_external), "n_all_resampled": candidates["all drugs resampled 1:1"],
            "n_repeats_total_lf": len(y) * n_repeats}


def candidates_table(candidates: dict) -> pd.DataFrame:
    """The candidate data sets of :func:`candidate_row_counts` and their rows, as a page table."""
    return pd.DataFrame({"data set": list(candidates), "rows": list(candidates.values())})


def test_prevalences(frames: dict) -> dict:
    """Mean test-fold prevalence of each protocol in :data:`PROTOCOLS`."""
    return {name: float(frames[name]["test_prevalence"].mean()) for name in PROTOCOLS}


def all_positive_table(prevalence: dict) -> pd.DataFrame:
    """What an all-positive classifier scores at each protocol's test-fold prevalence, beside the
    paper's CNN + Dice row (accuracy, precision, recall, F1)."""
    from lossbook.core.metrics import all_positive_scores

    out = pd.DataFrame({name: all_positive_scores(prevalence[name]) for name in PROTOCOLS}).T
    out.loc["paper CNN + Dice"] = [PAPER_TABLE1[("cnn", "dice")][m] for m in ("accuracy", "precision", "recall", "f1")]
    out.index = [f"all positive, {PROTOCOL_WORDS[name]} test folds (prevalence {prevalence[name]:.3f})"
                 for name in PROTOCOLS] + ["the paper's CNN + Dice"]
    return out


def collapse_table(frames: dict) -> pd.DataFrame:
    """Per configuration and protocol: the share of fold models predicting one class, and the share
    of folds with a ROC-AUC below 0.5 (rows in words)."""
    def by_config(name):
        return frames[name].groupby(["model", "loss"], sort=False)

    one = {f"one class, {PROTOCOL_WORDS[name]}": by_config(name)["single_class"].mean() for name in PROTOCOLS}
    below = {f"ROC-AUC < 0.5, {PROTOCOL_WORDS[name]}": by_config(name)["roc_auc"].apply(lambda s: float((s < 0.5).mean()))
             for name in PROTOCOLS}
    out = pd.DataFrame({**one, **below})
    out.index = _labels(out.index)
    return out


def cnn_dice_record(frames: dict) -> dict:
    """The CNN + Dice collapse as the results file holds it: per protocol the Clopper-Pearson share of
    single-class fold models and the summed confusion counts (empty when CNN + Dice did not run),
    and whether the paper's "zero false positives and negatives" fits its own Table 1 row."""
    collapse_freq, counts = {}, {}
    if ("cnn", "dice") in set(zip(frames["leak_free"]["model"], frames["leak_free"]["loss"])):
        for name in PROTOCOLS:
            collapse_freq[name] = collapse_frequency(frames[name], "cnn", "dice")
            c = confusion_counts(frames[name], "cnn", "dice")
            counts[name] = {**c, "negatives_scored": c["tn"] + c["fp"]}
    return {"collapse_frequency": collapse_freq, "counts": counts,
            "paper_zero_fp_fn_feasible_with_its_table1_row": implied_confusion(
                0, 0, PAPER_TABLE1[("cnn", "dice")])["feasible"],
            "paper_claim_fp_fn": PAPER_CONFUSION[("cnn", "dice")]}


def cnn_dice_numbers(frames: dict, tables: dict, prevalence: dict, losses, record: dict) -> dict:
    """What the text quotes about all-positive classifiers and collapse: all-positive F1 at
    prevalence 0.5 and at the leak-free one, each protocol's single-class share per loss, and
    CNN + Dice's ROC-AUC, F1, collapse counts and false positives (``"n/a"`` when it did not run)."""
    from lossbook.core.metrics import all_positive_scores

    out = {"allpos_half_f1": all_positive_scores(0.5)["f1"],
           "allpos_lf_f1": all_positive_scores(prevalence["leak_free"])["f1"],
           "prev_lf": prevalence["leak_free"], "prev_lk": prevalence["leaky"]}
    for name, short in GLUE_PREFIX.items():
        by_loss = frames[name].groupby("loss", sort=False)["single_class"].mean()
        out.update({f"{short}_collapse_{loss}": float(by_loss.loc[loss]) for loss in losses})
        if ("cnn", "dice") in tables[name].index:
            row = tables[name].loc[("cnn", "dice")]
            out.update({f"{short}_cnn_dice_auc": float(row["roc_auc_mean"]), f"{short}_cnn_dice_f1": float(row["f1_mean"]),
                        f"{short}_cnn_dice_collapse": float(row["single_class"])})
        freq, counts = record["collapse_frequency"].get(name), record["counts"].get(name)
        out[f"{short}_collapse_cp"] = freq if freq is not None else Estimate(float("nan"))
        out[f"{short}_collapse_k"] = int(round(freq.estimate * freq.n)) if freq is not None else "n/a"
        out[f"{short}_cnn_dice_fp"] = counts["fp"] if counts else "n/a"
        out[f"{short}_cnn_dice_neg"] = counts["negatives_scored"] if counts else "n/a"
    out["n_cnn_dice_folds"] = record["collapse_frequency"]["leak_free"].n if record["collapse_frequency"] else "n/a"
    feasible = record["paper_zero_fp_fn_feasible_with_its_table1_row"]
    out["zero_errors_feasible"] = "does" if feasible else "does not"
    return out


def collapse_diagnostics_by_protocol(frames: dict, tables: dict, X, y, p: dict) -> dict:
    """:func:`collapse_diagnostics` of CNN + Dice for the leak-free and leaky protocols that ran it."""
    return {protocol: collapse_diagnostics(frames[protocol], X, y, p, protocol=protocol)
            for protocol in ("leak_free", "leaky") if ("cnn", "dice") in tables[protocol].index}


def diagnostics_table(diagnostics: dict) -> pd.DataFrame:
    """:func:`collapse_diagnostics_by_protocol` as a page table (one row per protocol, in words; the
    score spread in millionths, headers: :data:`DIAGNOSTIC_HEADERS`)."""
    out = pd.DataFrame(diagnostics).T.rename(index=PROTOCOL_WORDS)
    out["score_spread_median"] = out["score_spread_median"] * 1e6  # a spread of millionths, shown as such
    return out.astype({"n_folds": int})


def diagnostics_numbers(diagnostics: dict) -> dict:
    """What the text quotes of the collapse diagnostics, per protocol prefix: spread, rank
    correlation, the length's ROC-AUC and the share of folds below 0.5."""
    names = {"spread": "score_spread_median", "rho": "spearman_score_length_mean", "length_auc": "length_auc_mean",
             "below_half": "auc_below_half_fraction"}
    return {f"{GLUE_PREFIX[protocol]}_{short}": d[long] for protocol, d in diagnostics.items()
            for short, long in names.items()}


def f1_bar_panels(tables: dict, models, losses, prevalence: dict) -> dict:
    """Panels for :func:`lossbook.core.plots.bar_panels`: per protocol (in words) the F1 means and
    sds (networks x losses), the paper's values, and the all-positive F1 at its test prevalence."""
    from lossbook.core.metrics import all_positive_scores

    names = _labels(models)
    ref = pd.DataFrame({loss: [PAPER_TABLE1[(m, loss)]["f1"] for m in models] for loss in losses}, index=list(models))
    panels = {}
    for protocol in PROTOCOLS:
        t = tables[protocol]
        panels[PROTOCOL_WORDS[protocol]] = {
            "means": t["f1_mean"].unstack("loss").loc[list(models), list(losses)].set_axis(names),
            "err": t["f1_std"].unstack("loss").loc[list(models), list(losses)].set_axis(names),
            "reference": ref.set_axis(names), "line": all_positive_scores(prevalence[protocol])["f1"]}
    return panels


def training_histories(frame: pd.DataFrame, models, losses) -> dict:
    """The Keras histories of ``frame``'s fold models as ``{network in words: {loss: [history, ...]}}``."""
    return {label: {loss: list(frame[(frame.model == model) & (frame.loss == loss)]["history"]) for loss in losses}
            for label, model in zip(_labels(models), models)}


def confusion_matrices(frame: pd.DataFrame, models, losses) -> dict:
    """Summed 2 x 2 confusion matrices ``[[tn, fp], [fn, tp]]`` keyed ``(network in words, loss)``."""
    out = {}
    for label, model in zip(_labels(models), models):
        for loss in losses:
            g = frame[(frame.model == model) & (frame.loss == loss)]
            out[(label, loss)] = np.array([[g.tn.sum(), g.fp.sum()], [g.fn.sum(), g.tp.sum()]])
    return out


def paired_numbers(paired: pd.DataFrame) -> dict:
    """What the text quotes of :func:`holm_table` output: how many comparisons are significant in
    ROC-AUC (raw and Holm), the family's size and, when MLP + BCE ran, focal minus BCE."""
    out = {"n_sig_auc": int((paired["roc_auc_p"] < 0.05).sum()), "n_sig_auc_holm": int((paired["roc_auc_p_holm"] < 0.05).sum()),
           "n_compared": len(paired), "n_family": 2 * len(paired)}
    if ("mlp", "bce") in paired.index:
        row = paired.loc[("mlp", "bce")]
        for m, short in (("roc_auc", "auc"), ("f1", "f1")):
            out.update({f"focal_vs_bce_{short}_diff": float(-row[f"{m}_diff"]), f"focal_vs_bce_{short}_p": float(row[f"{m}_p"]),
                        f"focal_vs_bce_{short}_p_holm": float(row[f"{m}_p_holm"])})
    return out


def paired_table(paired: pd.DataFrame, metrics=("roc_auc", "f1")) -> pd.DataFrame:
    """:func:`holm_table` output as a page table: per metric the difference with its interval, then
    the raw p-value with the Holm-adjusted one in brackets (rows: configurations in words)."""
    from types import SimpleNamespace

    from lossbook.core.plots import label

    cols = {}
    for m in metrics:
        cols[f"{label(m)} [95 % CI]"] = [SimpleNamespace(estimate=r[f"{m}_diff"], ci_low=r[f"{m}_ci_low"],
                                                         ci_high=r[f"{m}_ci_high"]) for _, r in paired.iterrows()]
        cols[f"{label(m)} p (Holm)"] = [f"{r[f'{m}_p']:.3f} ({r[f'{m}_p_holm']:.3f})" for _, r in paired.iterrows()]
    return pd.DataFrame(cols, index=_labels(paired.index))


def paper_claims(tables: dict, frames: dict, *, n_boot: int, seed: int) -> dict:
    """The paper's statements about its table, checked: ``claim_checks`` on its Table 1 and (full grid
    only) on our leak-free and paper-protocol means, our paired ``claim_differences``, MLP + focal's
    ``stability`` and ``figure5`` against Table 1."""
    checks_ = {"paper_table1": paper_claim_checks(PAPER_TABLE1)}
    differences = {}
    if len(tables["leak_free"]) == len(MODELS) * len(LOSSES):
        for name in ("leak_free", "paper"):
            means = {idx: {m: float(tables[name].loc[idx, f"{m}_mean"]) for m in PAPER_METRICS}
                     for idx in tables[name].index}
            checks_[name] = paper_claim_checks(means)
        differences = {name: claim_differences(frames[name]) for name in ("leak_free", "paper")}
    stability = {name: stability_check(frames[name], n_boot=n_boot, seed=seed) for name in ("leak_free", "paper")
                 if ("mlp", "focal") in tables[name].index and len(tables[name]) > 1}
    return {"claim_checks": checks_, "claim_differences": differences, "stability": stability,
            "figure5": figure5_vs_table1()}


def claims_numbers(claims: dict, n_configs: int) -> dict:
    """What the text quotes of :func:`paper_claims`: the counts of comparisons that hold, MLP + focal's
    sd ranks and sd differences per protocol prefix (``"n/a"`` where not checked), Figure 5's
    disagreements with Table 1."""
    from lossbook.core.plots import config_label

    pt = claims["claim_checks"]["paper_table1"]
    out = {"focal_best_paper_n": pt["focal_best"]["n_true"], "focal_best_n": pt["focal_best"]["n"],
           "mlp_surpassed_paper_n": pt["mlp_surpassed"]["n_true"], "mlp_surpassed_n": pt["mlp_surpassed"]["n"]}
    for name in ("leak_free", "paper"):
        short = GLUE_PREFIX[name]
        got, st = claims["claim_checks"].get(name), claims["stability"].get(name)
        out[f"focal_best_{short}_n"] = got["focal_best"]["n_true"] if got else "n/a"
        out[f"mlp_surpassed_{short}_n"] = got["mlp_surpassed"]["n_true"] if got else "n/a"
        for metric in ("roc_auc", "f1"):
            out[f"sd_rank_{short}_{metric}"] = st[metric]["reference_rank"] if st else "n/a"
            out[f"sd_smallest_{short}_{metric}"] = config_label(str(st[metric]["smallest"])) if st else "n/a"
            out[f"sd_diff_{short}_{metric}"] = st[metric]["reference_minus_smallest_other"] if st else Estimate(float("nan"))
    fig5 = claims["figure5"]
    out.update(n_configs=n_configs, fig5_n_disagree=fig5["n_disagree"], fig5_n=fig5["n_compared"],
               fig5_disagree="; ".join(f"{config_label(k)}: {v['figure5']:.2f} vs {v['table1']:.2f}"
                                       for k, v in fig5["rows"].items() if v["difference"] != 0))
    return out


def claims_table(claims: dict) -> pd.DataFrame:
    """:func:`paper_claims` as a page table: per statement and table checked, how many comparisons
    hold, or MLP + focal's sd rank."""
    rows = [{"claim": claim.replace("_", " "), "table": source.replace("_", " "),
             "comparisons that hold": f"{c['n_true']} of {c['n']}"}
            for source, checks_ in claims["claim_checks"].items() for claim, c in checks_.items()]
    rows += [{"claim": f"smallest sd ({metric})", "table": name.replace("_", " "),
              "comparisons that hold": f"rank {st[metric]['reference_rank']} of {len(st[metric]['sd'])}"}
             for name, st in claims["stability"].items() for metric in ("roc_auc", "f1")]
    out = pd.DataFrame(rows)
    out["claim"] = out["claim"].map(lambda c: _CLAIM_WORDS.get(c, c))
    out["table"] = out["table"].map(lambda t: _TABLE_WORDS.get(t, t))
    return out.rename(columns={"table": "checked on"})


def figure5_table(fig5: dict) -> pd.DataFrame:
    """:func:`figure5_vs_table1` as a page table (rows: configurations in words)."""
    out = pd.DataFrame(fig5["rows"]).T
    out.index = [_labels([k])[0] if "+" in str(k) else str(k) for k in out.index]
    return out


def cv_auc_bars(table: pd.DataFrame, baselines: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Leak-free CV ROC-AUC mean and sd of the networks (``table``, a :func:`table1` frame) and the
    baselines (:func:`run_baselines`), one entry per bar."""
    names = _labels(table.index)
    by_model = baselines.groupby("model", sort=False)["roc_auc"]
    return (pd.concat([pd.Series(table["roc_auc_mean"].to_numpy(), index=names), by_model.mean()]),
            pd.concat([pd.Series(table["roc_auc_std"].to_numpy(), index=names), by_model.std()]))


def best_baseline(baselines: pd.DataFrame) -> str:
    """The baseline with the highest mean CV ROC-AUC."""
    return str(baselines.groupby("model")["roc_auc"].mean().idxmax())


def baselines_table(baselines: pd.DataFrame, metrics=("roc_auc", "pr_auc", "f1", "balanced_accuracy", "mcc")) -> pd.DataFrame:
    """The baselines' CV metrics as mean ± sd strings (rows and columns in words)."""
    from lossbook.core.plots import label

    agg = baselines.groupby("model", sort=False)[list(metrics)].agg(["mean", "std"])
    return pd.DataFrame({label(m): [f"{a:.3f} ± {b:.3f}" for a, b in zip(agg[(m, "mean")], agg[(m, "std")])]
                         for m in metrics}, index=[label(i) for i in agg.index])


def baselines_record(baselines: pd.DataFrame) -> dict:
    """The baselines' CV ROC-AUC (mean, sd) and PR-AUC (mean) as the results file holds them."""
    return {name: {"roc_auc_mean": float(g["roc_auc"].mean()), "roc_auc_std": float(g["roc_auc"].std()),
                   "pr_auc_mean": float(g["pr_auc"].mean())} for name, g in baselines.groupby("model")}


def twins_with_cv(X, y, X_ext, y_ext, groups, p: dict) -> dict:
    """:func:`stereoisomers`, plus the mean number of test-fold drugs per fold of the random CV whose
    twin (identical descriptor vector, ``groups`` from :func:`descriptor_groups`) is in training."""
    twins = stereoisomers(X, y, X_ext, y_ext)
    sizes = np.bincount(groups)
    twins["test_fold_drugs_with_twin_in_training_per_fold"] = float(np.mean(
        [sum(bool(set(np.flatnonzero(groups == groups[i])) & set(s.train)) for i in s.test if sizes[groups[i]] > 1)
         for s in cv_splits(y, p["n_splits"], p["n_repeats"], p["seed"])]))
    return twins


def grouped_cv_effects(X, y, p: dict, groups, random: pd.DataFrame, *, data_sha256: str, executor=None) -> dict:
    """Re-run each of ``grouped_configs`` (that the grid ran) with identical descriptor vectors kept in
    one fold and return ``{"model+loss": {metric: grouped minus random}}`` (:func:`grouped_effect`)."""
    frames_ = []
    for config in p["grouped_configs"]:
        model, loss = config.split("+")
        if model in p["models"] and loss in p["losses"]:
            frames_.append(run_arms(X, y, p, ["leak_free_grouped"], data_sha256=data_sha256, models=[model],
                                    losses=[loss], groups=groups, executor=executor)["leak_free_grouped"])
    if not frames_:
        return {}
    grouped = pd.concat(frames_, ignore_index=True)
    return {f"{model}+{loss}": {m: grouped_effect(random, grouped, model, loss, m) for m in ("roc_auc", "f1")}
            for (model, loss), _ in grouped.groupby(["model", "loss"], sort=False)}


def twins_numbers(twins: dict, effects: dict, grouped_configs) -> dict:
    """What the text quotes of the twins and the grouped CV: each twin count, the configurations
    grouped, and the headline's (MLP + focal, else the first) grouped-minus-random ROC-AUC and F1."""
    from lossbook.core.plots import config_label

    head = effects.get("mlp+focal") or next(iter(effects.values()), None)
    nan = Estimate(float("nan"))
    return {"twins": twins, "grouped_configs": ", ".join(config_label(c) for c in grouped_configs),
            "grouped_config": next((config_label(k) for k in effects if effects[k] is head), "n/a"),
            "grouped_auc": head["roc_auc"] if head else nan, "grouped_f1": head["f1"] if head else nan}


def twins_table(twins: dict) -> pd.DataFrame:
    """The twin counts as a page table (counts as integers where whole)."""
    from lossbook.core.plots import label

    return pd.DataFrame({"count": pd.Series([int(v) if float(v).is_integer() else v for v in twins.values()],
                                            index=[label(k) for k in twins], dtype=object)})


def variant_effects(X, y, p: dict, no_refit: pd.DataFrame, *, data_sha256: str, changes=None,
                    metrics=("roc_auc", "f1", "recall", "precision", "brier")) -> dict:
    """Each MLP variant of ``changes`` (default :data:`VARIANT_CHANGES`) minus the default, both not
    refitted (``no_refit``: the leak-free no-refit arm), paired over the same folds.

    Returns ``estimates`` (``{"<variant>|model+loss": {metric: Estimate}}``, as the results file holds
    them) and ``table`` (one row per variant and configuration, in words; None when nothing ran).
    """
    from lossbook.core.plots import config_label

    n_tr, n_te = _sizes(no_refit)
    estimates, rows = {}, []
    for name, change in (VARIANT_CHANGES if changes is None else changes).items():
        g = run_grid(X, y, {**p, **change}, protocol="leak_free", data_sha256=data_sha256, models=["mlp"])
        for (model, loss), _ in g.groupby(["model", "loss"], sort=False):
            est = {m: paired_estimate(_fold_scores(no_refit, model, loss, m), _fold_scores(g, model, loss, m),
                                      n_train=n_tr, n_test=n_te)[0] for m in metrics}
            estimates[f"{name}|{model}+{loss}"] = est
            rows.append({"variant": f"{name}, {config_label(model, loss)}", **est})
    return {"estimates": estimates, "table": pd.DataFrame(rows).set_index("variant") if rows else None}


def early_stopping_optimism(decomps: dict) -> dict:
    """The first step of each :func:`decompositions` entry: stopping on the scored fold minus the
    refitted leak-free networks, ``{"model+loss": {metric: Estimate}}``."""
    return {key: {metric: d[metric]["parts"]["early_stopping_on_scored_fold"] for metric in d}
            for key, d in decomps.items()}


def optimism_numbers(optimism: dict, variant_models) -> dict:
    """What the text quotes of :func:`early_stopping_optimism`: the networks, mean and largest ROC-AUC gain."""
    aucs = [v["roc_auc"].estimate for v in optimism.values()]
    return {"variant_models": " and ".join(m.upper() if m != "simplenn" else "SimpleNN" for m in variant_models),
            "es_optimism_auc": float(np.mean(aucs)), "es_optimism_auc_max": float(np.max(aucs))}


def chosen_configs(table: pd.DataFrame) -> list[tuple[str, str]]:
    """Configurations for the external test: the best leak-free CV ROC-AUC, and MLP + focal if another."""
    best = tuple(table["roc_auc_mean"].idxmax())
    return [best] + ([("mlp", "focal")] if ("mlp", "focal") in table.index and best != ("mlp", "focal") else [])


def external_summary(X, y, X_ext, y_ext, p: dict, chosen, baseline: str, *, data_sha256: str) -> dict:
    """Score the ``chosen`` networks (refitted on all training drugs, ``n_refits`` fits averaged) and
    the ``baseline`` once on the external drugs.

    Returns ``external`` (per configuration: bootstrap intervals of ROC-AUC, PR-AUC and F1, accuracy,
    precision and recall) and ``refit_gain`` (per network: refit minus no refit, paired bootstrap).
    """
    from lossbook.core.metrics import binary_report, bootstrap_ci, paired_bootstrap

    n_boot, seed = p["n_boot"], p["seed"]
    probs = external_test(X, y, X_ext, p, chosen, data_sha256=data_sha256, n_refits=p["n_refits"])
    no_refit = external_test(X, y, X_ext, p, chosen, data_sha256=data_sha256, n_refits=p["n_refits"], refit=False)
    probs[(baseline, "")] = refit_baseline(baseline, X, y, X_ext, seed)
    external, gain = {}, {}
    for (model, loss), prob in probs.items():
        name = f"{model}+{loss}" if loss else model
        report = binary_report(y_ext, prob)
        external[name] = {**{m: bootstrap_ci(m, y_ext, prob, n_boot=n_boot, seed=seed) for m in ("roc_auc", "pr_auc", "f1")},
                          "accuracy": report["accuracy"], "precision": report["precision"], "recall": report["recall"]}
        if loss:
            gain[name] = {}
            for m in ("roc_auc", "f1"):
                d = paired_bootstrap(m, y_ext, no_refit[(model, loss)], prob, n_boot=n_boot, seed=seed)
                gain[name][m] = Estimate(d["diff"], min(d["ci_low"], d["diff"]), max(d["ci_high"], d["diff"]),
                                         n=len(y_ext), method="paired_bootstrap")
    return {"external": external, "refit_gain": gain}


def external_numbers(summary: dict, p: dict) -> dict:
    """What the text quotes of :func:`external_summary`: the first (best-by-CV) configuration's name,
    external ROC-AUC with its interval and refit gain, and the refit and bootstrap counts."""
    from lossbook.core.plots import config_label

    first = next(iter(summary["external"]))
    auc = summary["external"][first]["roc_auc"]
    return {"n_refits": p["n_refits"], "n_boot": p["n_boot"], "ext_best_name": config_label(first),
            "ext_best_auc": auc["estimate"], "ext_best_lo": auc["ci_low"], "ext_best_hi": auc["ci_high"],
            "ext_refit_gain_auc": summary["refit_gain"][first]["roc_auc"]}


def external_table(external: dict, metrics=("roc_auc", "pr_auc", "f1")) -> pd.DataFrame:
    """:func:`external_summary`'s ``external`` as a page table: estimate and interval per metric."""
    from types import SimpleNamespace

    from lossbook.core.plots import label

    return pd.DataFrame({label(m): [SimpleNamespace(estimate=r[m]["estimate"], ci_low=r[m]["ci_low"],
                                                    ci_high=r[m]["ci_high"]) for r in external.values()]
                         for m in metrics}, index=_labels(external))


def results_record(*, tables: dict, frames: dict, decomps: dict, handicap: dict, external: dict, confusion: dict,
                   cnn_dice: dict, claims: dict, twins: dict, grouped: dict, optimism: dict, variants: dict,
                   prevalence: dict, baselines: pd.DataFrame, diagnostics: dict, paired: pd.DataFrame | None) -> dict:
    """Everything the chapter computed, as ``book/results/dia.json`` holds it (see :func:`save_results`);
    each argument is the output of the function of this module that the chapter called for it."""
    from lossbook.core.metrics import all_positive_scores
    from lossbook.nets.models import CNN_CHOICES

    n_tr, n_te = _sizes(frames["leak_free"])
    results = {
        "leak_free": table1_record(tables["leak_free"]),
        "leak_free_no_refit": table1_record(tables["leak_free_no_refit"]),
        "leaky": table1_record(tables["leaky"]),
        "paper_protocol": {"table": table1_record(tables["paper"]), "estimates": fold_mean_estimates(frames["paper"]),
                           "real_drugs_estimates": fold_mean_estimates(frames["paper"], prefix="real_"),
                           "fold_sizes": dict(zip(("n_train", "n_test"), _sizes(frames["paper"])))},
        "leak_free_estimates": fold_mean_estimates(frames["leak_free"]),
        "decomposition": {key: {metric: {"levels": d["levels"], "parts": d["parts"], "p_values": d["p_values"],
                                         "paper_minus_leak_free": d["total"]} for metric, d in v.items()}
                          for key, v in decomps.items()},
        "fair_refit": {"refit_minus_no_refit_cv": handicap, "external_refit_minus_no_refit": external["refit_gain"],
                       "fold_sizes": {"n_train": n_tr, "n_test": n_te},
                       "method": "epochs chosen on an inner split, then refit on the whole training fold / all training drugs"},
        "confusion_counts": confusion,
        "cnn_dice": cnn_dice,
        "stability": claims["stability"],
        "paper_claim_checks": claims["claim_checks"],
        "paper_claim_differences": claims["claim_differences"],
        "figure5_vs_table1": claims["figure5"],
        "stereoisomers": twins,
        "grouped_cv": {"grouped_minus_random": grouped,
                       "method": "StratifiedGroupKFold on identical descriptor vectors; unpaired corrected t"},
        "early_stopping_optimism": optimism,
        "variants_minus_default": variants,
        "paper_table1": {f"{m}+{l}": v for (m, l), v in PAPER_TABLE1.items()},
        "test_fold_prevalence": prevalence,
        "all_positive_at_half": all_positive_scores(0.5),
        "cnn_choices": CNN_CHOICES,
        "baselines_cv": baselines_record(baselines),
        "interdia": INTERDIA,
        "external_test": external["external"],
        "collapse_diagnostics_cnn_dice": diagnostics,
    }
    if paired is not None:
        results["paired_vs_mlp_focal"] = {f"{m}+{l}": row.to_dict() for (m, l), row in paired.iterrows()}
        results["holm"] = {"family": "every configuration against MLP+focal, ROC-AUC and F1, leak-free CV",
                           "n_tests": 2 * len(paired),
                           "p_raw_and_adjusted": {f"{m}+{l}": {k: row[k] for k in ("roc_auc_p", "roc_auc_p_holm", "f1_p", "f1_p_holm")}
                                                  for (m, l), row in paired.iterrows()}}
    return results


def baseline_numbers(baselines: pd.DataFrame) -> dict:
    """What the text quotes of the baselines: the best one (in words) and its mean CV ROC-AUC."""
    return {"best_baseline": best_baseline(baselines).replace("_", " "),
            "best_baseline_auc": float(baselines.groupby("model")["roc_auc"].mean().max())}


def variant_numbers(changes=None) -> dict:
    """The class weight and label smoothing of the variants (:data:`VARIANT_CHANGES`), for the text."""
    changes = VARIANT_CHANGES if changes is None else changes
    return {"class_weight": changes["class weight 3 for positives"]["pos_class_weight"],
            "label_smoothing": changes["label smoothing 0.1"]["label_smoothing"]}
