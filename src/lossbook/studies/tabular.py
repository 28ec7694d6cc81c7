"""Which loss is better on *your* table? The book's leak-free protocol for any binary tabular data.

``python -m lossbook study DATA.csv --label COLUMN`` runs ``notebooks/study.py``,
which calls this module:

1. :func:`load_table` reads a CSV or Parquet file and refuses, before any training,
   what the protocol cannot use (a label with other than two values, non-numeric
   features, NaN, a single group ...), naming the file, column or option.
2. :func:`data_summary` describes it: prevalence, constant and duplicated columns,
   identical rows and rows whose labels conflict, the all-positive baseline.
3. :func:`run_study` runs repeated stratified (group) k-fold. In each outer fold an
   inner stratified (group) split of the training rows gives *fit* rows and
   *validation* rows; the column filter, scaler and SMOTE (the DIA chapter's
   :func:`lossbook.studies.dia.preprocessor`) are fitted on the fit rows only; each
   network stops early on the validation rows, and every model's decision threshold
   is chosen on them too; the test fold is scored once. The MLP (or other
   networks) is trained with every loss, and the baselines are fitted on the same
   fit rows of the same folds.
4. :func:`compare_to_reference` compares every configuration with the reference
   (first network + BCE) over the same folds (corrected resampled t-test), adjusts
   the family with Holm, and gives three-way verdicts: better, worse, or
   inconclusive with the minimum detectable effect. :func:`answer` puts it in words.

The grid's jobs (network x loss x repeat, and baseline x repeat) are independent:
each carries its own seed and cache key, and :mod:`lossbook.core.executor` runs them
serially or on Dask with the same results.
"""
from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lossbook.core import params as checks
from lossbook.core.cache import DiskCache, content_digest
from lossbook.core.data import DataError, sha256_file
from lossbook.core.estimate import Estimate
from lossbook.core.executor import Executor, SerialExecutor
from lossbook.core.inference import (
    clopper_pearson_interval,
    holm,
    minimum_detectable_effect,
)
from lossbook.core.metrics import (
    all_positive_scores,
    binary_report,
    corrected_resampled_ttest,
    summarize,
)
from lossbook.core.seeding import derive_seed
from lossbook.nets.keras_stack import (
    TRAINER_VERSION,
    FoldData,
    TrainConfig,
    train_folds,
)
from lossbook.studies.dia import LOSS_PARAMS as DIA_LOSS_PARAMS
from lossbook.studies.dia import (
    SMOTE_NEIGHBOURS,
    FoldSpec,
    baseline_estimators,
    cv_splits,
    grouped_cv_splits,
    preprocessor,
)

__all__ = [
    "baseline_text",
    "collapse_display",
    "comparison_display",
    "data_facts",
    "fold_predictions",
    "pooled_predictions",
    "score_display",
    "BASELINES",
    "DEFAULTS",
    "LOSSES",
    "MODELS",
    "PROFILES",
    "Job",
    "Table",
    "answer",
    "breast_cancer_example",
    "check_parameters",
    "check_protocol",
    "collapse_table",
    "compare_to_reference",
    "data_summary",
    "forest_plot",
    "grid_jobs",
    "inner_split",
    "load_table",
    "outer_splits",
    "run_job",
    "run_study",
    "score_table",
    "study_results",
]

#: Losses the networks can be trained with. ``weighted_bce`` is BCE with class weights
#: n_negative / n_positive of each fold's fit rows (1 when SMOTE has balanced them).
LOSSES = ("bce", "focal", "dice", "weighted_bce")
LOSS_PARAMS = {**DIA_LOSS_PARAMS, "weighted_bce": {}}
#: Networks (lossbook.nets.models architectures).
MODELS = ("mlp", "simplenn", "cnn")
#: Baselines: short name -> name in :func:`lossbook.studies.dia.baseline_estimators`.
BASELINES = {"lr": "logistic_regression", "rf": "random_forest", "hgb": "gradient_boosting"}
#: Threshold-free metrics and the direction that is better (True: higher).
THRESHOLD_FREE = {"roc_auc": True, "pr_auc": True, "brier": False}
#: Metrics scored at 0.5 and at the threshold chosen on validation rows.
AT_THRESHOLD = ("balanced_accuracy", "f1", "mcc", "precision", "recall")
#: The family of comparisons behind the verdicts (Holm-adjusted together).
VERDICT_METRICS = ("roc_auc", "pr_auc", "brier")
METRIC_LABELS = {"roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "brier": "Brier score",
                 "balanced_accuracy": "balanced accuracy", "f1": "F1", "mcc": "MCC",
                 "precision": "precision", "recall": "recall"}

#: Full-profile parameters (``notebooks/study.py`` repeats them in its parameters cell).
DEFAULTS = {
    "n_splits": 5, "n_repeats": 5, "max_epochs": 100, "patience": 15, "batch_size": 32,
    "learning_rate": 1e-3, "val_fraction": 0.2, "smote": True, "threshold_metric": "balanced_accuracy",
    "alpha": 0.05, "seed": 0, "losses": list(LOSSES), "models": ["mlp"], "baselines": list(BASELINES),
}
#: Profile overrides: ``quick`` for a first look (and the book's chapter).
PROFILES = {"full": {}, "quick": {"n_repeats": 2, "max_epochs": 30, "patience": 5}}
THRESHOLD_METRICS = ("balanced_accuracy", "f1", "mcc")


def check_parameters(**params) -> dict:
    """Validate the study's parameters before any training; return them with defaults filled.

    Raises ``ValueError`` naming the parameter and what is allowed.
    """
    p = checks.merge_known(params, DEFAULTS)
    for name, low, high in (("n_splits", 2, 20), ("n_repeats", 1, 100), ("max_epochs", 1, 1000),
                            ("patience", 1, None), ("batch_size", 1, 4095), ("seed", 0, None)):
        checks.integer(name, p[name], low, high)
    checks.flag("smote", p["smote"])
    checks.number("learning_rate", p["learning_rate"], 0, 1, low_open=True)
    checks.number("val_fraction", p["val_fraction"], 0, 0.5, low_open=True, high_open=True)
    checks.number("alpha", p["alpha"], 0, 0.5, low_open=True)
    checks.one_of("threshold_metric", p["threshold_metric"], THRESHOLD_METRICS)
    for name, allowed in (("losses", LOSSES), ("models", MODELS)):
        chosen = checks.subset(name, p[name], allowed)
        p[name] = [x for x in allowed if x in chosen]
    if "bce" not in p["losses"]:
        raise ValueError(f"losses must include 'bce', the reference every other loss is compared with; got {p['losses']}")
    baselines = p["baselines"] or []
    p["baselines"] = [] if not baselines else list(checks.subset("baselines", baselines, list(BASELINES)))
    p["baselines"] = [b for b in BASELINES if b in p["baselines"]]
    return p


# -- the table ------------------------------------------------------------------------


@dataclass
class Table:
    """A user's table, checked: numeric features, 0/1 labels, optional groups.

    ``X`` (n_rows, n_features) float; ``y`` (n_rows,) 0/1 with 1 = ``positive``;
    ``groups`` (n_rows,) group ids or None.
    """

    X: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray | None
    source: str
    sha256: str
    label: str
    positive: object
    group: str | None = None
    dropped: list = field(default_factory=list)


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() in (".gz", ".bz2", ".zip", ".xz") else path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        elif suffix.startswith((".csv", ".tsv", ".txt")):
            frame = pd.read_csv(path, sep="\t" if ".tsv" in suffix else ",")
        else:
            raise DataError(f"{path}: unknown file type {path.suffix!r}; give a .csv, .tsv or .parquet file")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"{path}: cannot read it as a table: {error}") from None
    if frame.empty:
        raise DataError(f"{path}: the table has no rows")
    return frame


def _column(frame: pd.DataFrame, name: str, option: str, path: Path) -> str:
    if name in frame.columns:
        return name
    lower = {str(c).lower(): str(c) for c in frame.columns}
    close = difflib.get_close_matches(str(name).lower(), list(lower), n=1, cutoff=0.5)
    hint = f"; did you mean {lower[close[0]]!r}?" if close else f"; columns are {[str(c) for c in frame.columns][:20]}"
    raise DataError(f"{path}: {option} {name!r} is not a column{hint}")


def load_table(path, *, label: str, group: str | None = None, positive=None,
               drop_non_numeric: bool = False) -> Table:
    """Read and check a CSV (``.csv``, ``.tsv``, compressed too) or Parquet file.

    ``label``: the column holding the two classes; ``positive``: which of its values is
    class 1 (default: 1 or True when the labels are 0/1 or booleans, else the rarer
    value). ``group``: a column of group ids (patients, scaffolds, near-duplicate
    groups) that must never be split between training and test rows.
    ``drop_non_numeric``: drop text columns instead of refusing them.

    Raises :class:`~lossbook.core.data.DataError` naming the file and column.
    """
    path = Path(path)
    frame = _read(path)
    label = _column(frame, label, "--label", path)
    if group is not None:
        group = _column(frame, group, "--group", path)
        if group == label:
            raise DataError(f"{path}: --group and --label name the same column {label!r}")
    y_raw = frame[label]
    if y_raw.isna().any():
        raise DataError(f"{path}: column {label!r} (--label) has {int(y_raw.isna().sum())} missing label(s)")
    values = pd.unique(y_raw)
    if len(values) != 2:
        shown = [_plain(v) for v in values[:6]]
        raise DataError(f"{path}: column {label!r} (--label) must hold exactly two classes; "
                        f"it holds {len(values)} distinct value(s): {shown}{' ...' if len(values) > 6 else ''}")
    positive = _positive_value(y_raw, values, positive, path, label)
    y = (y_raw == positive).to_numpy().astype(np.int64)
    groups = None
    if group is not None:
        g = frame[group]
        if g.isna().any():
            raise DataError(f"{path}: column {group!r} (--group) has {int(g.isna().sum())} missing group id(s)")
        groups = g.astype(str).to_numpy()
        if len(np.unique(groups)) < 2:
            raise DataError(f"{path}: column {group!r} (--group) holds a single group ({groups[0]!r}); "
                            "grouped cross-validation needs at least as many groups as folds")
    features = frame.drop(columns=[c for c in (label, group) if c is not None])
    if features.shape[1] == 0:
        raise DataError(f"{path}: no feature columns besides {label!r}")
    text = [str(c) for c in features.columns if not (pd.api.types.is_numeric_dtype(features[c])
                                                     or pd.api.types.is_bool_dtype(features[c]))]
    dropped = []
    if text:
        if not drop_non_numeric:
            raise DataError(f"{path}: {len(text)} non-numeric feature column(s): {text[:10]}"
                            f"{' ...' if len(text) > 10 else ''}. Encode them as numbers, or pass "
                            "--drop-non-numeric to drop them")
        features = features.drop(columns=text)
        dropped = text
        if features.shape[1] == 0:
            raise DataError(f"{path}: every feature column is non-numeric; nothing left to train on")
    X = features.astype(float)
    missing = X.isna().sum()
    missing = missing[missing > 0]
    if len(missing):
        counts = ", ".join(f"{c!r}: {int(n)}" for c, n in missing.items())
        raise DataError(f"{path}: {int(missing.sum())} missing value(s) (NaN) in {len(missing)} feature column(s): "
                        f"{counts}. Impute them inside your own pipeline or drop those rows or columns first")
    infinite = np.isinf(X.to_numpy()).sum(axis=0)
    if infinite.any():
        counts = ", ".join(f"{c!r}: {int(n)}" for c, n in zip(X.columns, infinite) if n)
        raise DataError(f"{path}: infinite value(s) in feature column(s): {counts}")
    X.columns = [str(c) for c in X.columns]
    return Table(X=X, y=y, groups=groups, source=path.name, sha256=sha256_file(path), label=str(label),
                 positive=_plain(positive), group=None if group is None else str(group), dropped=dropped)


def _positive_value(y_raw: pd.Series, values, positive, path: Path, label: str):
    if positive is not None:
        # a --positive given on the command line arrives as text; match it to the column's values
        for v in values:
            if v == positive or str(_plain(v)) == str(positive):
                return v
        raise DataError(f"{path}: --positive {positive!r} is not a value of column {label!r}; "
                        f"its values are {[_plain(v) for v in values]}")
    as_set = {_plain(v) for v in values}
    if as_set <= {0, 1}:  # also True/False, which equal 1/0
        return next(v for v in values if _plain(v) in (1, True))
    counts = y_raw.value_counts()
    if counts.iloc[0] == counts.iloc[1]:
        raise DataError(f"{path}: column {label!r} holds {counts.index[0]!r} and {counts.index[1]!r} equally often; "
                        "say which is the positive class with --positive")
    return counts.index[-1]  # the rarer value


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def check_protocol(table: Table, p: dict) -> None:
    """Refuse, before any training, a table too small for the protocol ``p`` asks for.

    Every outer fold needs minority rows (groups) in its test part, every inner
    validation split needs both classes (for early stopping and the threshold), and
    SMOTE needs more minority rows in each fit part than its neighbours.
    """
    y, k = table.y, p["n_splits"]
    counts = np.bincount(y, minlength=2)
    minority = int(counts.min())
    which = "positive" if counts[1] <= counts[0] else "negative"
    if minority < k:
        raise DataError(f"{table.source}: the minority class ({which}) has {minority} row(s), fewer than the "
                        f"{k} folds (--folds); use fewer folds or more data")
    if table.groups is not None:
        n_groups = len(np.unique(table.groups))
        if n_groups < k:
            raise DataError(f"{table.source}: column {table.group!r} (--group) holds {n_groups} groups, fewer than "
                            f"the {k} folds (--folds)")
        minority_groups = len(np.unique(table.groups[y == (1 if which == "positive" else 0)]))
        if minority_groups < k:
            raise DataError(f"{table.source}: only {minority_groups} group(s) of column {table.group!r} hold "
                            f"{which} rows, fewer than the {k} folds (--folds); use fewer folds")
    in_fold = minority * (k - 1) // k
    in_val = int(np.floor(p["val_fraction"] * in_fold))
    if in_val < 1:
        raise DataError(f"{table.source}: each training fold keeps about {in_fold} {which} row(s), so the inner "
                        f"validation split (val_fraction={p['val_fraction']}) would hold none; early stopping and "
                        "the threshold need both classes there. Use fewer folds or more data")
    if p["smote"] and in_fold - int(np.ceil(p["val_fraction"] * in_fold)) <= SMOTE_NEIGHBOURS:
        raise DataError(f"{table.source}: each fit part keeps about {in_fold - in_val} {which} row(s), but SMOTE "
                        f"needs more than its k_neighbors={SMOTE_NEIGHBOURS}; pass --no-smote, use fewer folds or more data")


def data_summary(table: Table) -> dict:
    """What the table holds, and its traps (computed on all rows: a description, nothing fitted).

    Keys: ``n_rows, n_features, n_positive, prevalence, positive_label, label, group,
    n_groups, dropped_columns, constant_columns, duplicated_columns`` (column -> the
    earlier column it copies), ``identical_rows`` (rows whose features equal an
    earlier row's), ``conflicting_rows`` (rows in such sets that hold both labels),
    ``all_positive`` (scores of calling every row positive, plus the PR-AUC of a
    random ranking and the Brier score of always predicting the prevalence).
    """
    X = table.X.to_numpy()
    n, f = X.shape
    prevalence = float(table.y.mean())
    constant = [c for c, v in zip(table.X.columns, np.ptp(X, axis=0)) if v == 0]
    seen, copies = {}, {}
    for j, c in enumerate(table.X.columns):
        key = X[:, j].tobytes()
        if key in seen and c not in constant:
            copies[c] = seen[key]
        seen.setdefault(key, c)
    rows = pd.DataFrame(X).round(12)
    duplicated = rows.duplicated(keep="first").to_numpy()
    keyed = rows.assign(_y=table.y)
    label_sets = keyed.groupby(list(range(f)), sort=False)["_y"].transform("nunique").to_numpy()
    baseline = all_positive_scores(prevalence)
    return {
        "n_rows": int(n), "n_features": int(f), "n_positive": int(table.y.sum()), "prevalence": prevalence,
        "label": table.label, "positive_label": table.positive, "group": table.group,
        "n_groups": None if table.groups is None else len(np.unique(table.groups)),
        "dropped_columns": list(table.dropped), "constant_columns": constant, "duplicated_columns": copies,
        "identical_rows": int(duplicated.sum()), "conflicting_rows": int((label_sets > 1).sum()),
        "all_positive": {**baseline, "pr_auc_random": prevalence, "brier_at_prevalence": prevalence * (1 - prevalence)},
    }


# -- folds ---------------------------------------------------------------------------


def outer_splits(y, groups, n_splits: int, n_repeats: int, seed: int) -> list[FoldSpec]:
    """Repeated stratified k-fold; with ``groups``, repeated stratified *group* k-fold
    (no group on both sides), each repeat shuffled with a seed derived from ``seed``."""
    if groups is None:
        return cv_splits(y, n_splits, n_repeats, seed)
    return grouped_cv_splits(y, groups, n_splits, n_repeats, seed, stream="outer")


def inner_split(train: np.ndarray, y, groups, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split training rows into fit rows and validation rows (stratified; group-aware with groups)."""
    from sklearn.model_selection import StratifiedGroupKFold, train_test_split

    y = np.asarray(y)
    if groups is None:
        fit, val = train_test_split(train, test_size=val_fraction, stratify=y[train], random_state=seed)
        return np.sort(fit), np.sort(val)
    k = max(2, int(round(1 / val_fraction)))
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    fit, val = next(splitter.split(np.zeros(len(train)), y[train], np.asarray(groups)[train]))
    return train[fit], train[val]


def _prepare(X, y, groups, spec: FoldSpec, p: dict) -> dict:
    """One outer fold's arrays: preprocessing (and SMOTE) fitted on its fit rows only."""
    split_seed = derive_seed("inner-split", p["seed"], spec.repeat, spec.fold)
    fit, val = inner_split(spec.train, y, groups, p["val_fraction"], split_seed)
    pipe = preprocessor(split_seed, smote=p["smote"])
    if p["smote"]:
        Xf, yf = pipe.fit_resample(X[fit], y[fit])
    else:
        Xf, yf = pipe.fit_transform(X[fit], y[fit]), y[fit]
    steps = [step for name, step in pipe.steps if name != "smote"]  # SMOTE never touches other rows

    def transform(A):
        for step in steps:
            A = step.transform(A)
        return np.asarray(A, dtype=np.float32)

    return {"X_fit": np.asarray(Xf, dtype=np.float32), "y_fit": np.asarray(yf), "X_val": transform(X[val]),
            "y_val": y[val], "X_test": transform(X[spec.test]), "y_test": y[spec.test],
            "rows": {"fit": fit, "val": val, "test": spec.test}}


# -- jobs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One unit of the grid: a network with a loss, or a baseline, on every fold of one repeat."""

    model: str
    loss: str | None
    repeat: int

    @property
    def name(self) -> str:
        return config_name(self.model, self.loss)


def config_name(model: str, loss: str | None) -> str:
    return model if loss is None else f"{model}+{loss}"


def grid_jobs(p: dict) -> list[Job]:
    """Every job of the study, in a fixed order (networks x losses, then baselines; by repeat)."""
    jobs = [Job(m, loss, r) for m in p["models"] for loss in p["losses"] for r in range(p["n_repeats"])]
    jobs += [Job(b, None, r) for b in p["baselines"] for r in range(p["n_repeats"])]
    return jobs


def train_config(model: str, loss: str, p: dict, class_weight: float = 1.0) -> TrainConfig:
    base = "bce" if loss == "weighted_bce" else loss
    return TrainConfig(model=model, loss=base, loss_params=tuple(sorted(LOSS_PARAMS[loss].items())),
                       learning_rate=p["learning_rate"], batch_size=p["batch_size"], max_epochs=p["max_epochs"],
                       patience=p["patience"], class_weight=(1.0, float(class_weight)))


#: Parameters that change what a job computes (the executor and paths do not).
_KEY_PARAMS = ("n_splits", "n_repeats", "max_epochs", "patience", "batch_size", "learning_rate", "val_fraction",
               "smote", "seed")


def data_identity(table: Table) -> dict:
    """What identifies the data a job sees: the file's checksum and how it was read."""
    return {"sha256": table.sha256, "label": table.label, "positive": str(table.positive), "group": table.group,
            "dropped": list(table.dropped)}


def job_key(job: Job, p: dict, data: dict, specs: Sequence[FoldSpec]) -> dict:
    """Everything that determines a job's result (package versions are added by the cache).

    ``data``: :func:`data_identity` of the table.
    """
    folds = [s for s in specs if s.repeat == job.repeat]
    return {"study": "tabular", "trainer": TRAINER_VERSION, "model": job.model, "loss": job.loss,
            "loss_params": LOSS_PARAMS.get(job.loss, {}), "repeat": job.repeat,
            "params": {k: p[k] for k in _KEY_PARAMS}, "data": data,
            "baseline": repr(baseline_estimators(p["seed"])[BASELINES[job.model]].get_params())
            if job.loss is None else None,
            "test_rows": content_digest({"rows": [s.test.tolist() for s in folds]})}


def run_job(job: Job, shared: dict) -> list[dict]:
    """Train and score one job's folds; one dict per fold (``fold``, ``val``/``test`` probabilities, labels).

    ``shared``: ``X`` (n, f) float, ``y`` (n,), ``groups`` or None, ``p`` (parameters),
    ``specs`` (outer folds) and ``key`` (this job's cache key, per job in ``keys``).
    A pure function of its arguments: it can run in any process.
    """
    X, y, groups, p = shared["X"], shared["y"], shared["groups"], shared["p"]
    specs = [s for s in shared["specs"] if s.repeat == job.repeat]
    key = shared["keys"][job]
    prepared = [_prepare(X, y, groups, spec, p) for spec in specs]
    out = []
    if job.loss is None:
        from sklearn.base import clone
        from threadpoolctl import threadpool_limits

        estimator = baseline_estimators(p["seed"])[BASELINES[job.model]]
        # one thread: gradient boosting's OpenMP threads spin-wait on a busy machine and cost
        # many times the work; a job owns one core, as on a single-threaded Dask worker
        with threadpool_limits(limits=1):
            for spec, d in zip(specs, prepared):
                model = clone(estimator).fit(d["X_fit"], d["y_fit"])
                out.append({"fold": spec.fold, "val": model.predict_proba(d["X_val"])[:, 1],
                            "test": model.predict_proba(d["X_test"])[:, 1], "best_epoch": None})
    else:
        # weighted_bce: each fold's weight from its own fit rows; folds with equal weights train together
        weights = [(float((d["y_fit"] == 0).sum()) / max(1.0, float((d["y_fit"] == 1).sum()))
                    if job.loss == "weighted_bce" else 1.0) for d in prepared]
        results = [None] * len(specs)
        for w in sorted(set(weights)):
            members = [i for i, wi in enumerate(weights) if wi == w]
            folds = [FoldData(prepared[i]["X_fit"], prepared[i]["y_fit"], prepared[i]["X_val"], prepared[i]["y_val"],
                              seed=derive_seed("init", content_digest(key), specs[i].fold),
                              evaluate={"val": prepared[i]["X_val"], "test": prepared[i]["X_test"]})
                     for i in members]
            for i, result in zip(members, train_folds(train_config(job.model, job.loss, p, w), folds)):
                results[i] = result
        for spec, result in zip(specs, results):
            out.append({"fold": spec.fold, "val": result.predictions["val"], "test": result.predictions["test"],
                        "best_epoch": result.best_epoch})
    for entry, d in zip(out, prepared):
        entry.update(y_val=d["y_val"], y_test=d["y_test"], n_fit=len(d["rows"]["fit"]),
                     n_train=int(len(d["rows"]["fit"]) + len(d["rows"]["val"])))
    return out


def _score(entry: dict, threshold_metric: str) -> dict:
    """Scores of one fold model on its test fold: threshold-free, at 0.5, at the validation-chosen threshold."""
    from lossbook.core.compare import choose_threshold

    chosen = choose_threshold(entry["y_val"], np.clip(entry["val"], 0, 1), metric=threshold_metric)["threshold"]
    at_half = binary_report(entry["y_test"], entry["test"], threshold=0.5)
    tuned = binary_report(entry["y_test"], entry["test"], threshold=chosen)
    row = {m: at_half[m] for m in THRESHOLD_FREE}
    row.update({f"{m}@0.5": at_half[m] for m in AT_THRESHOLD})
    row.update({f"{m}@tuned": tuned[m] for m in AT_THRESHOLD})
    row.update({"single_class@0.5": at_half["single_class"], "single_class@tuned": tuned["single_class"],
                "threshold": chosen})
    return row


def run_study(table: Table, p: dict, *, executor: Executor | None = None, cache: DiskCache | None = None,
              progress=None) -> pd.DataFrame:
    """Run every job of the study (cached ones are read back); one row per (configuration, repeat, fold).

    Columns: ``config, model, loss`` (None for baselines), ``kind`` ("network" or
    "baseline"), ``repeat, fold``, the threshold-free scores, ``<metric>@0.5`` and
    ``<metric>@tuned`` for :data:`AT_THRESHOLD`, ``single_class@0.5``,
    ``single_class@tuned``, ``threshold``, ``n_train``, ``n_test``, ``best_epoch``,
    and the objects ``y_true`` and ``y_prob`` (the test fold).
    """
    check_protocol(table, p)
    executor = executor or SerialExecutor()
    cache = cache or DiskCache("tabular-jobs", code=__name__)
    X = table.X.to_numpy(dtype=float)
    specs = outer_splits(table.y, table.groups, p["n_splits"], p["n_repeats"], p["seed"])
    jobs = grid_jobs(p)
    keys = {job: job_key(job, p, data_identity(table), specs) for job in jobs}
    found = {job: cache.get(keys[job]) for job in jobs}
    todo = [job for job in jobs if found[job] is None]
    if progress is not None and len(todo) < len(jobs):
        progress(len(jobs) - len(todo))
    shared = {"X": X, "y": table.y, "groups": table.groups, "p": {k: p[k] for k in DEFAULTS},
              "specs": specs, "keys": {job: keys[job] for job in todo}}
    for job, result in zip(todo, executor.map(run_job, todo, shared=shared, progress=progress)):
        cache.put(keys[job], result)
        found[job] = result
    rows = []
    for job in jobs:
        for entry in found[job]:
            rows.append({"config": job.name, "model": job.model, "loss": job.loss,
                         "kind": "baseline" if job.loss is None else "network", "repeat": job.repeat,
                         "fold": entry["fold"], **_score(entry, p["threshold_metric"]),
                         "n_train": entry["n_train"], "n_test": len(entry["y_test"]),
                         "best_epoch": entry["best_epoch"], "y_true": entry["y_test"], "y_prob": entry["test"]})
    return pd.DataFrame(rows)


# -- summaries -----------------------------------------------------------------------


def _direction(metric: str) -> bool:
    base = metric.split("@")[0]
    return THRESHOLD_FREE.get(base, True)


def score_table(frame: pd.DataFrame, metrics: Sequence[str] | None = None) -> dict:
    """``{config: {metric: Estimate}}``: mean over folds x repeats with a t-interval.

    The t-interval treats folds as independent (they share training rows), so it
    describes the spread; the paired comparisons use the corrected test.
    """
    metrics = list(metrics or (list(THRESHOLD_FREE) + [f"{m}@0.5" for m in AT_THRESHOLD]
                               + [f"{m}@tuned" for m in AT_THRESHOLD] + ["threshold"]))
    out = {}
    for config, g in frame.groupby("config", sort=False):
        out[config] = {}
        for m in metrics:
            s = summarize(g[m].astype(float))
            lo, hi = (s["ci_low"], s["ci_high"]) if s["n"] > 1 else (None, None)
            out[config][m] = Estimate(s["mean"], lo, hi, n=s["n"], method="t" if lo is not None else "none")
    return out


def reference_config(p: dict) -> str:
    """The configuration every other is compared with: the first network trained with BCE."""
    return config_name(p["models"][0], "bce")


def compare_to_reference(frame: pd.DataFrame, p: dict, metrics: Sequence[str] = VERDICT_METRICS) -> pd.DataFrame:
    """Paired comparisons of every configuration with the reference over the same folds.

    One row per (config, metric): ``difference`` (an :class:`Estimate`, config minus
    reference, corrected resampled t-interval at level 1 - alpha), ``p_value``,
    ``p_holm`` (Holm over the whole table), ``verdict`` ("better", "worse" or
    "inconclusive", from ``p_holm < alpha`` and the metric's direction: for the
    Brier score lower is better) and ``mde`` (the smallest difference the test
    detects with power 0.8 at ``alpha``: an inconclusive verdict says nothing about
    differences smaller than that).
    """
    reference = reference_config(p)
    key = ["repeat", "fold"]
    ref = frame[frame.config == reference].set_index(key).sort_index()
    n_test = int(round(ref["n_test"].mean()))
    n_train = int(round(ref["n_train"].mean()))
    rows = []
    for config, g in frame.groupby("config", sort=False):
        if config == reference:
            continue
        g = g.set_index(key).loc[ref.index]
        for m in metrics:
            diff = (g[m].astype(float) - ref[m].astype(float)).to_numpy()
            t = corrected_resampled_ttest(diff, n_train=n_train, n_test=n_test, level=1 - p["alpha"])
            rows.append({"config": config, "kind": g["kind"].iloc[0], "metric": m,
                         "difference": Estimate(t["mean"], t["ci_low"], t["ci_high"], n=len(diff), method="corrected_t"),
                         "p_value": t["p_value"], "mde": minimum_detectable_effect(t["se"], t["df"], alpha=p["alpha"])})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["p_holm"] = holm(out["p_value"].tolist())

    def verdict(r):
        if r["p_holm"] >= p["alpha"] or r["difference"].estimate == 0:
            return "inconclusive"
        return "better" if (r["difference"].estimate > 0) == _direction(r["metric"]) else "worse"

    out["verdict"] = out.apply(verdict, axis=1)
    return out


def collapse_table(frame: pd.DataFrame) -> dict:
    """``{config: {"at_0.5": Estimate, "at_tuned": Estimate}}``: share of fold models
    predicting one class only on their test fold, with a Clopper-Pearson interval."""
    out = {}
    for config, g in frame.groupby("config", sort=False):
        out[config] = {f"at_{t}": clopper_pearson_interval(int(g[f"single_class@{t}"].sum()), len(g))
                       for t in ("0.5", "tuned")}
    return out


def _fmt_diff(e: Estimate, decimals: int = 3) -> str:
    return f"{e.estimate:+.{decimals}f} (95% CI {e.ci_low:+.{decimals}f} to {e.ci_high:+.{decimals}f})"


def answer(summary: dict, scores: dict, comparisons: pd.DataFrame, collapse: dict, p: dict) -> str:
    """The report's first paragraph: which loss, if any, is detectably better here, and by how much.

    Built from the numbers only; it names the protocol, says "inconclusive" with the
    smallest difference that could have been seen, and flags what could mislead
    (collapsed models, identical rows without a group column, conflicting labels).
    """
    reference = reference_config(p)
    level = f"{1 - p['alpha']:.0%}"
    j = p["n_splits"] * p["n_repeats"]
    networks = " and ".join(m.upper() for m in p["models"])
    repeated = "run once" if p["n_repeats"] == 1 else f"repeated {p['n_repeats']} times"
    grouped = f", keeping the groups of column '{summary['group']}' apart" if summary["group"] else ""
    parts = [
        f"On these {summary['n_rows']} rows ({summary['n_positive']} positive, prevalence "
        f"{summary['prevalence']:.1%}), {p['n_splits']}-fold cross-validation {repeated}"
        f"{grouped} ({j} test folds per configuration, scaling{' and SMOTE' if p['smote'] else ''} fitted inside "
        f"each training fold) compared each loss and network ({networks}) with {reference} on "
        + ", ".join(METRIC_LABELS[m] for m in VERDICT_METRICS)
        + f" (paired, corrected resampled t-test, Holm-adjusted over {len(comparisons)} comparisons)."
    ]
    losses = comparisons[(comparisons.kind == "network")] if len(comparisons) else comparisons
    better = losses[losses.verdict == "better"] if len(losses) else losses
    worse = losses[losses.verdict == "worse"] if len(losses) else losses
    if len(better):
        for config, g in better.groupby("config", sort=False):
            items = "; ".join(f"{METRIC_LABELS[r.metric]} {_fmt_diff(r.difference)}" for r in g.itertuples())
            parts.append(f"{config} is detectably better than {reference}: {items}.")
    else:
        parts.append(f"No loss was detectably better than BCE ({reference}) on any of these metrics.")
    if len(worse):
        for config, g in worse.groupby("config", sort=False):
            items = "; ".join(f"{METRIC_LABELS[r.metric]} {_fmt_diff(r.difference)}" for r in g.itertuples())
            parts.append(f"{config} is detectably worse than {reference}: {items}.")
    inconclusive = losses[(losses.verdict == "inconclusive") & (losses.metric == "roc_auc")] if len(losses) else losses
    if len(inconclusive):
        lo, hi = float(inconclusive["mde"].min()), float(inconclusive["mde"].max())
        span = f"{lo:.3f}" if abs(hi - lo) < 5e-4 else f"{lo:.3f} to {hi:.3f}"
        parts.append(f"Where a verdict is inconclusive, the study could not have detected ROC-AUC differences smaller "
                     f"than about {span} (power 0.8): inconclusive does not mean the losses are equal.")
    base = comparisons[(comparisons.kind == "baseline") & (comparisons.metric == "roc_auc")] if len(comparisons) else comparisons
    if len(base):
        best = max(base["config"], key=lambda c: scores[c]["roc_auc"].estimate)
        row = base[base.config == best].iloc[0]
        relation = {"better": "detectably better than", "worse": "detectably worse than",
                    "inconclusive": "not detectably different from"}[row.verdict]
        parts.append(f"The best baseline, {best} (ROC-AUC {scores[best]['roc_auc'].estimate:.3f}), was {relation} "
                     f"{reference} ({scores[reference]['roc_auc'].estimate:.3f}).")
    collapsed = [c for c, v in collapse.items() if v["at_0.5"].estimate > 0]
    if collapsed:
        parts.append("Some fold models predicted a single class at threshold 0.5 ("
                     + ", ".join(f"{c}: {collapse[c]['at_0.5'].estimate:.0%} of folds" for c in collapsed)
                     + "): their threshold scores at 0.5 describe a collapsed model.")
    if summary["identical_rows"] and not summary["group"]:
        parts.append(f"Caution: {summary['identical_rows']} row(s) repeat an earlier row's features; without a "
                     "--group column such copies can sit on both sides of a split and raise every score.")
    if summary["conflicting_rows"]:
        parts.append(f"{summary['conflicting_rows']} row(s) share their features with a row of the other class; "
                     "no model can separate them.")
    parts.append(f"Intervals are {level}; all of this holds for this table and this protocol only.")
    return " ".join(parts)


def forest_plot(comparisons: pd.DataFrame, *, reference: str):
    """Differences to the reference with their intervals, one panel per metric; black = a verdict.

    Returns a matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    metrics = list(dict.fromkeys(comparisons["metric"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 0.45 * comparisons["config"].nunique() + 1.6),
                             sharey=True, squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        g = comparisons[comparisons.metric == metric].reset_index(drop=True)
        ypos = np.arange(len(g))[::-1]
        for yv, r in zip(ypos, g.itertuples()):
            d = r.difference
            ax.errorbar(d.estimate, yv, xerr=[[d.estimate - d.ci_low], [d.ci_high - d.estimate]], fmt="o", capsize=3,
                        color="black" if r.verdict != "inconclusive" else "grey")
        ax.axvline(0, color="grey", ls=":")
        ax.set_yticks(ypos, list(g["config"]))
        better = "higher" if THRESHOLD_FREE.get(metric, True) else "lower"
        ax.set(title=f"{METRIC_LABELS[metric]} ({better} is better)", xlabel=f"minus {reference}")
    fig.tight_layout()
    return fig


def comparison_records(comparisons: pd.DataFrame) -> dict:
    """``{config: {metric: {difference, p_value, p_holm, verdict, minimum_detectable_effect}}}`` for JSON."""
    out = {}
    for r in comparisons.itertuples():
        out.setdefault(r.config, {})[r.metric] = {
            "difference": r.difference, "p_value": float(r.p_value), "p_holm": float(r.p_holm),
            "verdict": r.verdict, "minimum_detectable_effect": float(r.mde)}
    return out


def study_results(table: Table, frame: pd.DataFrame, p: dict) -> dict:
    """Everything the results JSON holds (no paths, no executor: it depends on the data and parameters only)."""
    summary = data_summary(table)
    scores = score_table(frame)
    comparisons = compare_to_reference(frame, p)
    collapse = collapse_table(frame)
    return {
        "data": summary, "reference": reference_config(p), "scores": scores,
        "comparisons": comparison_records(comparisons), "collapse": collapse,
        "answer": answer(summary, scores, comparisons, collapse, p),
    }


def saved_parameters(p: dict, table: Table) -> dict:
    """The parameters a results file records: what changes the numbers, and the data's name."""
    return {**{k: p[k] for k in DEFAULTS}, "data": table.source, "label": table.label, "group": table.group,
            "positive": table.positive, "dropped_columns": list(table.dropped)}


def breast_cancer_example(prevalence: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """scikit-learn's bundled breast-cancer data made imbalanced: malignant rows subsampled so
    that they are ``prevalence`` of the table. Columns: the 30 features and ``malignant`` (0/1)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns={"target": "benign"})
    frame["malignant"] = (frame.pop("benign") == 0).astype(int)
    benign = frame[frame.malignant == 0]
    n_malignant = int(round(len(benign) * prevalence / (1 - prevalence)))
    malignant = frame[frame.malignant == 1].sample(n=n_malignant, random_state=seed)
    return pd.concat([benign, malignant]).sort_index().reset_index(drop=True)



# -- what the report pages draw and show ------------------------------------------------


def fold_predictions(frame: pd.DataFrame) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """The test predictions of every fold, per configuration, for mean ROC and PR curves.

    ``frame``: :func:`run_study` output (one row per configuration, repeat and fold, with
    arrays ``y_true`` and ``y_prob``). Returns ``{config: [(y_true, y_prob), ...]}``, one
    pair per fold in the frame's order, configurations in order of first appearance
    (the input of :func:`lossbook.core.plots.roc_pr_curves`).
    """
    return {config: [(t, p) for t, p in zip(g["y_true"], g["y_prob"])]
            for config, g in frame.groupby("config", sort=False)}


def pooled_predictions(frame: pd.DataFrame, repeat: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The out-of-fold predictions of one repeat, pooled per configuration, for calibration plots.

    Within a repeat the test folds partition the table, so each row appears once.
    Returns ``{config: (y_true, y_prob)}``, two 1-D arrays of the table's length,
    configurations in order of first appearance.
    """
    chosen = frame[frame.repeat == repeat]
    return {config: (np.concatenate(list(g["y_true"])), np.concatenate(list(g["y_prob"])))
            for config, g in chosen.groupby("config", sort=False)}


def _metric_words(metric: str) -> str:
    """``"f1@0.5"`` -> ``"F1 @0.5"``: a score column's name in words, threshold kept."""
    base, _, at = metric.partition("@")
    return METRIC_LABELS.get(base, base) + (f" @{at}" if at else "")


def score_display(scores: dict, metrics: Sequence[str]) -> pd.DataFrame:
    """``scores`` (:func:`score_table`) as text for the report: one row per configuration, one column
    per metric in ``metrics`` (named in words, thresholds kept), each cell ``mean [low, high]`` to 3 decimals."""
    return pd.DataFrame({config: {_metric_words(m): s[m].format(3) for m in metrics}
                         for config, s in scores.items()}).T


def data_facts(table: Table, summary: dict) -> pd.DataFrame:
    """The report's description of the data, one fact per row (column ``""``), from
    :func:`data_summary`: file, sizes, label, groups and what the checks found."""
    facts = {
        "file": table.source, "rows": summary["n_rows"], "feature columns": summary["n_features"],
        "label column (positive value)": f"{summary['label']} ({summary['positive_label']})",
        "positive rows": summary["n_positive"], "prevalence": f"{summary['prevalence']:.3f}",
        "group column (groups)": f"{summary['group']} ({summary['n_groups']})" if summary["group"] else "none",
        "constant columns": len(summary["constant_columns"]),
        "columns copying an earlier column": len(summary["duplicated_columns"]),
        "rows repeating an earlier row's features": summary["identical_rows"],
        "rows whose features also occur with the other label": summary["conflicting_rows"],
        "non-numeric columns dropped": ", ".join(summary["dropped_columns"]) or "none",
    }
    return pd.DataFrame({"": facts})


def baseline_text(summary: dict) -> str:
    """One paragraph: what calling every row positive, a random ranking and the constant prevalence
    score on this table (``summary["all_positive"]`` of :func:`data_summary`), the bar every model must clear."""
    base = summary["all_positive"]
    return (
        f"Calling every row positive scores accuracy {base['accuracy']:.3f}, precision {base['precision']:.3f}, "
        f"recall 1 and F1 {base['f1']:.3f} at this prevalence; a random ranking has PR-AUC {base['pr_auc_random']:.3f} "
        f"(the prevalence), and always predicting the prevalence has Brier score {base['brier_at_prevalence']:.3f}. "
        "Every model below must beat these. Constant and copied columns are dropped inside each training fold "
        "(by what the fit rows show), not here."
    )


def collapse_display(collapse: dict) -> pd.DataFrame:
    """:func:`collapse_table` as text: one row per configuration, the share of fold models predicting a
    single class at 0.5 and at the tuned threshold, each with its interval to 2 decimals."""
    return pd.DataFrame({config: {"single class at 0.5": v["at_0.5"].format(2),
                                  "single class at tuned threshold": v["at_tuned"].format(2)}
                         for config, v in collapse.items()}).T


def comparison_display(comparisons: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare_to_reference` as text, indexed by (configuration, metric in words): the difference
    with its interval (3 decimals), p and Holm-adjusted p (3 significant digits), verdict and MDE."""
    shown = pd.DataFrame({
        "configuration": comparisons["config"], "metric": comparisons["metric"].map(METRIC_LABELS),
        "difference [CI]": [d.format(3) for d in comparisons["difference"]],
        "p": comparisons["p_value"].map(lambda v: f"{v:.3g}"), "p (Holm)": comparisons["p_holm"].map(lambda v: f"{v:.3g}"),
        "verdict": comparisons["verdict"], "MDE": comparisons["mde"].map(lambda v: f"{v:.3f}"),
    })
    return shown.set_index(["configuration", "metric"])
