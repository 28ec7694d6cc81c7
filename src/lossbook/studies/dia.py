"""The drug-induced autoimmunity (DIA) study: protocols, grid, baselines, external test.

Two protocols score the paper's nine model-loss pairs with repeated stratified
5-fold cross-validation on the 477 training drugs:

``leak_free``
    Column filter (constant and duplicated columns), StandardScaler and SMOTE are
    fitted on the training rows of each fold only (an ``imblearn`` Pipeline);
    early stopping watches an inner validation split of the training fold
    (``early_stopping="inner"``) or, as a variant, the outer test fold
    (``"outer"``, which leaks the test fold into model selection).
``leaky``
    Filter, scaling and SMOTE are applied to all 477 drugs before splitting, so
    test folds hold synthetic drugs and are balanced 1:1 (what the paper says it
    did not do). Early stopping is otherwise the same as in ``leak_free``.

Every fold result is cached on disk, keyed by everything that affects it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler

from lossbook.core import params as checks
from lossbook.core.params import Interval, SubsetOf
from lossbook.core.cache import DiskCache, cache_key
from lossbook.core.metrics import binary_report
from lossbook.core.seeding import derive_seed
from lossbook.nets.keras_stack import TRAINER_VERSION, FoldData, TrainConfig, train_folds

__all__ = [
    "PAPER_TABLE1", "PAPER_FIGURE5_AUC", "INTERDIA", "MODELS", "LOSSES", "PROTOCOLS", "CONSTRAINTS",
    "check_parameters", "ColumnFilter", "preprocessor", "cv_splits", "FoldSpec", "make_fold_data",
    "fold_key", "run_grid", "run_baselines", "external_test", "TABLE_METRICS",
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
#: Other facts the paper states: descriptor count and positive share it reports.
PAPER_FACTS = {"n_descriptors": 729, "positive_share": 0.27}
#: InterDIA (Huang et al. 2025), the dataset authors' ensemble: reference ROC-AUCs.
INTERDIA = {"cv_auc": 0.884, "external_auc": 0.893}

MODELS = ("mlp", "cnn", "simplenn")
LOSSES = ("bce", "focal", "dice")
PROTOCOLS = ("leak_free", "leaky")
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
    """The leaky protocol's data: filter, scale and SMOTE fitted on all rows before any split."""
    Xr, yr, _ = _fit_transform(preprocessor(seed), X, y)
    return Xr, yr


def make_fold_data(protocol: str, X, y, spec: FoldSpec, *, seed: int, val_fraction: float,
                   early_stopping: str = "inner", extra: dict | None = None) -> tuple[FoldData, np.ndarray, dict]:
    """Build one model's :class:`FoldData`, the test fold's labels and the row indices used.

    The third value maps "fit" (rows the preprocessing and the network are fitted
    on), "val" (rows early stopping watches) and "test" to index arrays.

    ``X``, ``y``: the 477 drugs (leak_free) or the leaky resampled set. Everything
    fitted (filter, scaler, SMOTE) sees only ``spec.train`` rows in leak_free, and
    in leak_free with ``early_stopping="inner"`` only the inner-training part of them.
    ``extra`` maps names to raw feature arrays scored after training (e.g. an external set).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    split_seed = derive_seed("inner-split", seed, spec.repeat, spec.fold)
    train = spec.train
    if early_stopping == "inner":
        fit_rows, val_rows = train_test_split(train, test_size=val_fraction, stratify=y[train],
                                              random_state=split_seed)
    else:
        fit_rows, val_rows = train, spec.test
    if protocol == "leak_free":
        Xtr, ytr, transform = _fit_transform(preprocessor(split_seed), X[fit_rows], y[fit_rows])
    else:  # leaky: X is already scaled and resampled as a whole
        Xtr, ytr, transform = X[fit_rows].astype(np.float32), y[fit_rows], (lambda A: A)
    evaluate = {"test": np.asarray(transform(X[spec.test]), dtype=np.float32)} if len(spec.test) else {}
    for name, A in (extra or {}).items():
        evaluate[name] = np.asarray(transform(np.asarray(A, dtype=float)), dtype=np.float32)
    data = FoldData(Xtr, ytr, np.asarray(transform(X[val_rows]), dtype=np.float32), y[val_rows],
                    seed=0, evaluate=evaluate)
    return data, y[spec.test], {"fit": np.asarray(fit_rows), "val": np.asarray(val_rows), "test": spec.test}


# -- the grid -----------------------------------------------------------------------


def _config(model, loss, p) -> TrainConfig:
    return TrainConfig(
        model=model, loss=loss, loss_params=tuple(sorted(LOSS_PARAMS[loss].items())),
        learning_rate=p["learning_rate"], batch_size=p["batch_size"], max_epochs=p["max_epochs"],
        patience=p["patience"], class_weight=(1.0, float(p["pos_class_weight"])),
        label_smoothing=float(p["label_smoothing"]),
    )


def fold_key(protocol: str, early_stopping: str, config: TrainConfig, p: dict, spec: FoldSpec,
             data_sha256: str) -> dict:
    """Everything that determines one fold model's result (package versions are added by the cache)."""
    return {
        "study": "dia", "trainer": TRAINER_VERSION, "protocol": protocol, "early_stopping": early_stopping,
        "config": config.as_dict(), "val_fraction": p["val_fraction"], "seed": p["seed"],
        "repeat": spec.repeat, "fold": spec.fold, "n_splits": p["n_splits"],
        "test_rows": cache_key({"rows": spec.test.tolist()}), "data_sha256": data_sha256,
    }


def run_grid(X, y, p: dict, *, protocol: str, data_sha256: str, early_stopping: str = "inner",
             models=None, losses=None, cache: DiskCache | None = None, progress=None) -> pd.DataFrame:
    """Train and score every (model, loss, repeat, fold); one row per fold model.

    Columns: protocol, early_stopping, model, loss, repeat, fold, the
    :func:`lossbook.core.metrics.binary_report` scores, ``test_prevalence``,
    ``best_epoch``, ``epochs_run``, ``best_val_auc``, and the objects ``y_true``,
    ``y_prob`` (test fold) and ``history`` (per-epoch curves). Folds found in the
    cache are not retrained; all missing folds of one model architecture train
    together in one batched call per loss.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if early_stopping not in EARLY_STOPPING:
        raise ValueError(f"early_stopping must be one of {EARLY_STOPPING}, got {early_stopping!r}")
    check_class_counts(y, p["n_splits"], p["val_fraction"])
    cache = cache or DiskCache("dia-folds")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if protocol == "leaky":
        X, y = leaky_dataset(X, y, derive_seed("leaky-smote", p["seed"]))
    specs = cv_splits(y, p["n_splits"], p["n_repeats"], p["seed"])
    rows = []
    for model in models or p["models"]:
        for loss in losses or p["losses"]:
            config = _config(model, loss, p)
            keys, todo = [], []
            for spec in specs:
                key = fold_key(protocol, early_stopping, config, p, spec, data_sha256)
                keys.append(key)
                if cache.get(key) is None:
                    todo.append((spec, key))
            if todo:
                folds, truths = [], []
                for spec, key in todo:
                    data, y_test, _ = make_fold_data(protocol, X, y, spec, seed=p["seed"],
                                                  val_fraction=p["val_fraction"], early_stopping=early_stopping)
                    data.seed = derive_seed("init", key)
                    folds.append(data)
                    truths.append(y_test)
                trained = train_folds(config, folds)
                for (spec, key), result, y_test in zip(todo, trained, truths):
                    cache.put(key, {
                        "y_true": y_test, "y_prob": result.predictions["test"],
                        "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
                        "best_val_auc": result.best_val_auc, "history": result.history,
                    })
            for spec, key in zip(specs, keys):
                entry = cache.get(key)
                report = binary_report(entry["y_true"], entry["y_prob"])
                rows.append({
                    "protocol": protocol, "early_stopping": early_stopping, "model": model, "loss": loss,
                    "repeat": spec.repeat, "fold": spec.fold, **report,
                    "test_prevalence": float(np.mean(entry["y_true"])),
                    "best_epoch": entry["best_epoch"], "epochs_run": entry["epochs_run"],
                    "best_val_auc": entry["best_val_auc"], "y_true": entry["y_true"],
                    "y_prob": entry["y_prob"], "history": entry["history"],
                })
            if progress is not None:
                progress(1)
    return pd.DataFrame(rows)


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

    check_class_counts(y, p["n_splits"])
    cache = cache or DiskCache("dia-folds")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    rows = []
    for name, estimator in baseline_estimators(p["seed"]).items():
        for spec in cv_splits(y, p["n_splits"], p["n_repeats"], p["seed"]):
            key = {"study": "dia-baseline", "model": name, "params": repr(estimator.get_params()),
                   "seed": p["seed"], "repeat": spec.repeat, "fold": spec.fold, "n_splits": p["n_splits"],
                   "test_rows": cache_key({"rows": spec.test.tolist()}), "data_sha256": data_sha256}

            def fit(spec=spec, estimator=estimator):
                pipe = Pipeline(preprocessor(derive_seed("baseline-smote", p["seed"], spec.repeat, spec.fold)).steps
                                + [("model", clone(estimator))])
                pipe.fit(X[spec.train], y[spec.train])
                return {"y_true": y[spec.test], "y_prob": pipe.predict_proba(X[spec.test])[:, 1]}

            entry = cache.get_or_compute(key, fit)
            rows.append({"model": name, "repeat": spec.repeat, "fold": spec.fold,
                         **binary_report(entry["y_true"], entry["y_prob"]),
                         "y_true": entry["y_true"], "y_prob": entry["y_prob"]})
    return pd.DataFrame(rows)


# -- external test --------------------------------------------------------------------


def external_test(X, y, X_ext, p: dict, configs, *, data_sha256: str, n_refits: int = 5,
                  cache: DiskCache | None = None) -> dict:
    """Refit chosen configurations on all training drugs and score the external set once.

    ``configs``: (model, loss) pairs chosen by CV only. Early stopping uses an
    inner split of the training drugs. The external probabilities of ``n_refits``
    refits (different seeds and inner splits) are averaged, so a lucky seed does
    not decide the score. Returns ``{(model, loss): probabilities (n_ext,)}``.
    """
    cache = cache or DiskCache("dia-folds")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    out = {}
    all_rows = np.arange(len(y))
    for model, loss in configs:
        config = _config(model, loss, p)
        probs = []
        todo = []
        keys = []
        for r in range(n_refits):
            key = {"study": "dia-external", "trainer": TRAINER_VERSION, "config": config.as_dict(), "refit": r, "seed": p["seed"],
                   "val_fraction": p["val_fraction"], "data_sha256": data_sha256}
            keys.append(key)
            if cache.get(key) is None:
                todo.append((r, key))
        if todo:
            folds = []
            for r, key in todo:
                spec = FoldSpec(-1 - r, -1, all_rows, np.array([], dtype=int))
                data, _, _ = make_fold_data("leak_free", X, y, spec, seed=p["seed"], val_fraction=p["val_fraction"],
                                         extra={"external": X_ext})
                data.seed = derive_seed("init", key)
                folds.append(data)
            for (r, key), result in zip(todo, train_folds(config, folds)):
                cache.put(key, {"y_prob": result.predictions["external"], "best_epoch": result.best_epoch})
        for key in keys:
            probs.append(cache.get(key)["y_prob"])
        out[(model, loss)] = np.mean(probs, axis=0)
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
    over the same folds and repeats. ``diff`` = other minus reference."""
    from lossbook.core.metrics import corrected_resampled_ttest

    key = ["repeat", "fold"]
    ref = frame[(frame.model == reference[0]) & (frame.loss == reference[1])].set_index(key)
    n_test = n_test or int(round(np.mean([len(v) for v in ref["y_true"]])))
    n_train = n_train or int(round(n_test * (frame["fold"].max())))
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
    if protocol == "leaky":
        Xp, yp = leaky_dataset(X, y, derive_seed("leaky-smote", p["seed"]))
    else:
        Xp, yp = preprocessor(0, smote=False).fit_transform(X, y), y
    length = np.linalg.norm(Xp, axis=1)
    specs = {(s.repeat, s.fold): s for s in cv_splits(yp, p["n_splits"], p["n_repeats"], p["seed"])}
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
