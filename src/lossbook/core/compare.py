"""Judge two sets of out-of-sample predictions: which model (loss) is better?

The question "is run B better than run A?" has an answer only for
predictions on the *same* examples, scored by metrics that do not depend on
the loss each run was trained with, with an interval for the *paired*
difference. This module does that and nothing else.

Quick start
-----------
>>> from lossbook.core.compare import compare, read_predictions
>>> a = read_predictions("bce_predictions.csv")        # doctest: +SKIP
>>> b = read_predictions("focal_predictions.csv")      # doctest: +SKIP
>>> result = compare(a.y_true, a.prob, b.prob, names=("BCE", "focal"))  # doctest: +SKIP
>>> result.table                                       # doctest: +SKIP
>>> print(result.verdict)                              # doctest: +SKIP
>>> fig = result.figure()                              # doctest: +SKIP

What is computed
----------------
* **Threshold-free metrics**: ROC-AUC, PR-AUC (average precision) and the
  Brier score (calibration; lower is better).
* **Threshold-dependent metrics** at a threshold you state (default 0.5):
  balanced accuracy, F1, MCC, precision, recall, accuracy.
* **The paired difference** ``diff = value_b - value_a`` of every metric, with
  an interval and a p-value:

  - one test set (``folds=None``): a stratified paired bootstrap drawn by the
    package's one bootstrap engine (:func:`lossbook.core.metrics.stratified_counts`:
    each class resampled with replacement at its own count; the same resampled
    rows score both runs, so what the two runs share cancels; the same seed
    gives :func:`lossbook.core.metrics.paired_bootstrap` the same resamples),
    scored for all resamples of a chunk at once from multiplicities
    (:func:`bootstrap_differences`, memory linear in the number of rows); the
    percentile interval and the two-sided p-value
    ``min(1, 2 min(P(d <= 0), P(d >= 0)))`` (counts plus one) of
    :func:`lossbook.core.metrics.bootstrap_summary`;
  - repeated cross-validation (``folds=`` fold ids of every out-of-fold
    prediction, ``n_train=`` training rows per fold): the per-fold
    differences go through the corrected resampled t-test of
    :func:`lossbook.core.metrics.corrected_resampled_ttest` (Nadeau and Bengio,
    2003), because folds share training rows and a plain t-test over folds is
    far too confident.

* **Calibration**: the Brier score in the table and a reliability diagram in
  :meth:`Comparison.figure`.
* **A verdict** in plain words: a metric whose interval covers 0 shows
  "no detectable difference".

Inputs
------
``y_true``, ``prob_a`` and ``prob_b`` may be lists, NumPy arrays (shape
``(n,)`` or Keras's ``(n, 1)``), torch tensors (also ones that require grad) or
pandas Series; Series are paired by their index (reordered to ``y_true``'s, or
the first Series'), and Series whose indexes hold different labels are refused. Labels must be 0/1 (or
booleans); probabilities must be finite and in [0, 1]. Raw network outputs
(logits, e.g. a Keras ``Dense(1)`` head trained with ``from_logits=True``) need
``from_logits=True``. Every violation raises ``ValueError`` naming the
argument.

Files are read with :func:`read_predictions`, which accepts a CSV path or a
DataFrame holding one row per example; see :data:`LABEL_COLUMNS`,
:data:`PROB_COLUMNS`, :data:`LOGIT_COLUMNS` and :data:`FOLD_COLUMNS` for the
column names it recognises. A Keras ``CSVLogger`` file holds per-epoch
summaries, not per-example predictions, and is refused with an explanation:
two runs cannot be compared from their training logs.
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lossbook.core import validate

#: Column names :func:`read_predictions` accepts for the 0/1 label (case-insensitive).
LABEL_COLUMNS = ("y_true", "label", "labels", "target", "y", "true", "class")
#: Column names accepted for a predicted probability of the positive class.
PROB_COLUMNS = ("prob", "y_prob", "probability", "proba", "y_score", "score", "y_pred", "pred", "prediction")
#: Column names accepted for a raw network output (a logit); a sigmoid is applied.
LOGIT_COLUMNS = ("logit", "logits", "y_logit")
#: Column names accepted for a cross-validation fold id.
FOLD_COLUMNS = ("fold", "fold_id", "cv_fold")

#: Metrics that need no threshold; ``True`` where higher is better.
THRESHOLD_FREE = {"roc_auc": True, "pr_auc": True, "brier": False}
#: Metrics computed at the stated threshold (all: higher is better).
THRESHOLD_DEPENDENT = {
    "balanced_accuracy": True, "f1": True, "mcc": True,
    "precision": True, "recall": True, "accuracy": True,
}
#: Every metric in :attr:`Comparison.table`, in table order.
METRICS = {**THRESHOLD_FREE, **THRESHOLD_DEPENDENT}
#: Readable names for tables, figures and the verdict.
METRIC_LABELS = {
    "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "brier": "Brier score",
    "balanced_accuracy": "balanced accuracy", "f1": "F1", "mcc": "MCC",
    "precision": "precision", "recall": "recall", "accuracy": "accuracy",
}
#: Rows of the forest plot in :meth:`Comparison.figure` by default.
FOREST_METRICS = ("roc_auc", "pr_auc", "brier", "balanced_accuracy", "f1", "mcc", "recall")
#: Metrics the verdict speaks about by default.
VERDICT_METRICS = ("roc_auc", "pr_auc", "brier", "balanced_accuracy")

BOOTSTRAP = "paired bootstrap"
CORRECTED_T = "corrected resampled t-test"


# ----------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Predictions:
    """One run's out-of-sample predictions.

    Attributes
    ----------
    y_true : ndarray of int, shape (n,)
        0/1 labels.
    prob : ndarray of float, shape (n,)
        Predicted probability of class 1, in [0, 1].
    fold : ndarray or None, shape (n,)
        Fold id of each prediction (repeated cross-validation), or None.
    source : str
        Where the predictions came from (file name or ``"<DataFrame>"``).
    """

    y_true: np.ndarray
    prob: np.ndarray
    fold: np.ndarray | None = None
    source: str = "<arrays>"

    def __len__(self) -> int:
        return len(self.y_true)


def check_labels(y_true, name: str = "y_true", *, require_both: bool = True) -> np.ndarray:
    """Validate 0/1 labels; returns them as ``int64`` of shape (n,) (:func:`lossbook.core.validate.labels`).

    Raises ``ValueError`` naming ``name`` for NaN, values other than 0/1, an
    empty array, or (``require_both``) a single class, which leaves ROC-AUC and
    PR-AUC undefined.
    """
    return validate.labels(y_true, name, require_both=require_both)


def check_probabilities(prob, name: str, n_expected: int | None = None, *, from_logits: bool = False) -> np.ndarray:
    """Validate predicted probabilities; returns ``float64`` of shape (n,)
    (:func:`lossbook.core.validate.probabilities`)."""
    return validate.probabilities(prob, name, n_expected, from_logits=from_logits)


def check_folds(folds, n_expected: int, y_true: np.ndarray) -> np.ndarray:
    """Validate fold ids (any hashable values): same length, no missing ids, >= 2 folds,
    both classes in every fold. Returns the ids as an array."""
    array = validate.as_1d(folds, "folds", n_expected)
    if pd.isna(array).any():
        raise ValueError(f"folds holds {int(pd.isna(array).sum())} missing fold id(s); every prediction needs one")
    ids = pd.unique(array)
    if len(ids) < 2:
        raise ValueError(f"folds holds {len(ids)} distinct fold id(s); the t-test over folds needs at least 2")
    for fold_id in ids:
        members = y_true[array == fold_id]
        if members.min() == members.max():
            raise ValueError(
                f"folds: fold {_plain(fold_id)!r} holds only class {int(members[0])}; every fold needs both "
                "classes (use stratified folds)"
            )
    return array


def _find_column(columns: Sequence[str], candidates: Sequence[str], explicit: str | None, what: str, where: str):
    lower = {str(c).lower(): c for c in columns}
    if explicit is not None:
        if explicit not in columns:
            raise ValueError(f"{where}: no column {explicit!r} for the {what}; columns are {list(columns)}")
        return explicit
    found = [lower[c] for c in candidates if c in lower]
    if len(found) > 1:
        raise ValueError(
            f"{where}: several columns could be the {what}: {found}; say which one "
            f"with {what.split()[0]}_column="
        )
    return found[0] if found else None


def read_predictions(
    source,
    *,
    label_column: str | None = None,
    prob_column: str | None = None,
    fold_column: str | None = None,
    from_logits: bool | None = None,
) -> Predictions:
    """Read one run's per-example predictions from a CSV file or a DataFrame.

    Parameters
    ----------
    source : str, path or pandas.DataFrame
        A CSV with a header row, or a DataFrame; one row per example.
    label_column, prob_column, fold_column : str, optional
        Column names. When not given they are looked up, case-insensitively,
        among :data:`LABEL_COLUMNS` (``y_true``, ``label``, ``target``, ``y``,
        ...), :data:`PROB_COLUMNS` (``prob``, ``y_prob``, ``probability``,
        ``score``, ``y_pred``, ``prediction``, ...) then :data:`LOGIT_COLUMNS`
        (``logit``, ``logits``), and :data:`FOLD_COLUMNS` (``fold``,
        ``fold_id``; optional).
    from_logits : bool, optional
        Whether the score column holds logits. Default: True for a column
        found among :data:`LOGIT_COLUMNS`, else False.

    Returns
    -------
    Predictions
        Validated labels, probabilities and fold ids (or None).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        Missing or ambiguous columns, invalid labels or probabilities, or a
        Keras ``CSVLogger`` training log instead of predictions.
    """
    if isinstance(source, pd.DataFrame):
        frame, where = source, "<DataFrame>"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such predictions file")
        try:
            frame = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise ValueError(f"{path}: the predictions file is empty (no header row, no predictions)") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as error:
            raise ValueError(f"{path}: not a readable CSV file of predictions ({error})") from None
        where = str(path)
        if frame.empty:
            raise ValueError(f"{path}: the predictions file has a header {list(frame.columns)} but no rows")
    else:
        raise TypeError(f"source must be a CSV path or a pandas DataFrame, got {type(source).__name__}")
    columns = list(frame.columns)
    label = _find_column(columns, LABEL_COLUMNS, label_column, "label column", where)
    score = _find_column(columns, PROB_COLUMNS, prob_column, "prob column", where)
    logits_found = False
    if score is None:
        score = _find_column(columns, LOGIT_COLUMNS, None, "prob column", where)
        logits_found = score is not None
    lowered = {str(c).lower() for c in columns}
    if label is None or score is None:
        if "epoch" in lowered and lowered & {"loss", "val_loss", "accuracy", "auc"}:
            raise ValueError(
                f"{where} looks like a Keras CSVLogger training log (columns {columns}): one row per "
                "epoch, not per example. Two runs cannot be compared from their logs: their loss values "
                "are on different scales and their metrics carry no interval. Save the predictions "
                "instead, e.g. pd.DataFrame({'y_true': y_val, 'prob': model.predict(x_val).ravel()}).to_csv(...)"
            )
        missing = "a label column" if label is None else "a probability column"
        accepted = LABEL_COLUMNS if label is None else PROB_COLUMNS + LOGIT_COLUMNS
        raise ValueError(f"{where}: found no {missing} among {columns}; accepted names: {list(accepted)}")
    fold = _find_column(columns, FOLD_COLUMNS, fold_column, "fold column", where)
    y = check_labels(frame[label], f"{where}: column {label!r}", require_both=False)
    logits = logits_found if from_logits is None else bool(from_logits)
    p = check_probabilities(frame[score], f"{where}: column {score!r}", len(y), from_logits=logits)
    folds = None
    if fold is not None:
        folds = frame[fold].to_numpy()
        if pd.isna(folds).any():
            raise ValueError(f"{where}: column {fold!r} has missing fold ids")
    return Predictions(y_true=y, prob=p, fold=folds, source=where)


# ----------------------------------------------------------------------------- bootstrap
# The resamples come from lossbook.core.metrics.stratified_resamples, the package's one
# bootstrap engine (same seed, same resamples as metrics.paired_bootstrap). Each chunk of
# resamples is reduced to the weight of each class at each distinct score of a run;
# every metric follows from those weights, so memory stays linear in the number of rows.
def _scores_from_groups(run, counts, threshold: float) -> dict:
    """Every metric of one run (a :class:`lossbook.core.metrics.ResampledRanking` with
    ``threshold`` among its cuts) on a chunk of resamples given as multiplicities
    (:func:`lossbook.core.metrics.stratified_counts`)."""
    from lossbook.core.metrics import ap_from_groups, auc_from_groups

    neg, pos = run.class_groups(counts)
    flagged = (run.lowest >= threshold).astype(np.float64)
    tp, fp = pos @ flagged, neg @ flagged
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    out = _from_counts(tp, fp, n_pos - tp, n_neg - fp)
    out["brier"] = run.brier(counts)
    out["roc_auc"] = auc_from_groups(neg, pos)
    out["pr_auc"] = ap_from_groups(neg, pos)
    return out


def _from_counts(tp, fp, fn, tn) -> dict:
    """Threshold metrics from (weighted) confusion counts, scikit-learn's conventions
    (zero_division=0 for precision/recall/F1, MCC 0 when undefined)."""
    def ratio(num, den):
        num, den = np.asarray(num, float), np.asarray(den, float)
        return np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    recall = ratio(tp, tp + fn)
    specificity = ratio(tn, tn + fp)
    mcc_den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return {
        "accuracy": ratio(tp + tn, tp + tn + fp + fn),
        "precision": ratio(tp, tp + fp),
        "recall": recall,
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
        "balanced_accuracy": (recall + specificity) / 2,
        "mcc": ratio(tp * tn - fp * fn, mcc_den),
    }


def bootstrap_differences(y_true, prob_a, prob_b, *, threshold: float = 0.5, n_boot: int = 2000,
                          seed: int = 0) -> pd.DataFrame:
    """Stratified paired bootstrap replicates of every metric's difference ``b - a``.

    The resamples of :func:`lossbook.core.metrics.stratified_counts` (the same
    as :func:`lossbook.core.metrics.paired_bootstrap` draws with the same seed),
    both runs scored on each. Inputs must already be validated. Memory is
    linear in the number of rows.

    Returns a DataFrame of shape (n_boot, len(METRICS)).
    """
    from lossbook.core.metrics import ResampledRanking, stratified_counts

    runs = [ResampledRanking(y_true, p, cuts=(threshold,)) for p in (prob_a, prob_b)]
    parts = []
    for counts in stratified_counts(y_true, n_boot, seed):
        sa, sb = (_scores_from_groups(r, counts, threshold) for r in runs)
        parts.append(pd.DataFrame({m: sb[m] - sa[m] for m in METRICS}))
    return pd.concat(parts, ignore_index=True)


# ----------------------------------------------------------------------------- compare
def _check_settings(names, threshold, n_boot, level, seed):
    if (not isinstance(names, (tuple, list)) or len(names) != 2
            or not all(isinstance(n, str) and n for n in names) or names[0] == names[1]):
        raise ValueError(f"names must be two different non-empty strings, got {names!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)) or not 0 < threshold < 1:
        raise ValueError(f"threshold must be a number strictly between 0 and 1, got {threshold!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise ValueError(f"n_boot must be an integer >= 100, got {n_boot!r}")
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < level < 1:
        raise ValueError(f"level must be strictly between 0 and 1 (e.g. 0.95), got {level!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def compare(
    y_true,
    prob_a,
    prob_b,
    *,
    names: Sequence[str] = ("A", "B"),
    threshold: float = 0.5,
    folds=None,
    n_train: int | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
    from_logits: bool = False,
) -> Comparison:
    """Compare two runs' out-of-sample predictions on the same examples.

    Parameters
    ----------
    y_true : array-like (n,) or (n, 1)
        0/1 labels (both classes present).
    prob_a, prob_b : array-like (n,) or (n, 1)
        Each run's predicted probability of class 1 for the same examples in
        the same order (logits with ``from_logits=True``).
    names : (str, str)
        Names of run A and run B for the table, figure and verdict.
    threshold : float in (0, 1)
        Decision threshold of the threshold-dependent metrics (``prob >=
        threshold`` is positive). Choose it on validation data, not on the
        data you compare on.
    folds : array-like (n,), optional
        Fold id of every prediction when the predictions are the out-of-fold
        predictions of (repeated) cross-validation; ids must be unique across
        repeats (e.g. ``"r0f3"``). Then metrics are computed per fold and the
        differences tested with the corrected resampled t-test.
    n_train : int
        Training rows per fold; required with ``folds``.
    n_boot : int >= 100
        Bootstrap resamples (one test set only).
    level : float
        Interval level, default 0.95.
    seed : int
        Bootstrap seed: same inputs and seed, same table.
    from_logits : bool
        Apply a sigmoid to ``prob_a`` and ``prob_b`` first.

    Returns
    -------
    Comparison
        ``.table`` (one row per metric: ``metric, value_a, value_b, diff,
        ci_low, ci_high, p_value, method, threshold``; ``diff = value_b -
        value_a``), ``.verdict`` (text) and ``.figure()``.

    Raises
    ------
    ValueError
        Naming the argument: mismatched lengths, labels other than 0/1, a
        single class, NaN/inf, probabilities outside [0, 1], bad fold ids,
        a missing ``n_train``, or invalid settings.
    """
    names = tuple(names) if isinstance(names, list) else names
    _check_settings(names, threshold, n_boot, level, seed)
    y_true, prob_a, prob_b, folds = validate.align(y_true=y_true, prob_a=prob_a, prob_b=prob_b, folds=folds)
    y = check_labels(y_true, "y_true")
    a = check_probabilities(prob_a, "prob_a", len(y), from_logits=from_logits)
    b = check_probabilities(prob_b, "prob_b", len(y), from_logits=from_logits)
    fold_ids = None
    if folds is not None:
        fold_ids = check_folds(folds, len(y), y)
        if isinstance(n_train, bool) or not isinstance(n_train, (int, np.integer)) or n_train < 1:
            raise ValueError(
                f"n_train must be a positive integer (training rows per fold) when folds are given, got {n_train!r}"
            )
    elif n_train is not None:
        raise ValueError("n_train is only used with folds=; for one test set leave it out")
    threshold = float(threshold)
    if fold_ids is None:
        table = _table_bootstrap(y, a, b, threshold, n_boot, level, seed)
    else:
        table = _table_folds(y, a, b, fold_ids, int(n_train), threshold, level)
    return Comparison(names=tuple(names), threshold=threshold, level=level, table=table,
                      y_true=y, prob_a=a, prob_b=b, folds=fold_ids)


def compare_predictions(a: Predictions, b: Predictions, **kwargs) -> Comparison:
    """:func:`compare` for two :class:`Predictions` (e.g. from :func:`read_predictions`).

    The two must hold the same labels in the same order (and the same fold
    ids, which are then passed as ``folds``).
    """
    if len(a) != len(b):
        raise ValueError(f"the two runs hold {len(a)} ({a.source}) and {len(b)} ({b.source}) predictions; "
                         "they must be predictions for the same examples")
    if not np.array_equal(a.y_true, b.y_true):
        first = int(np.flatnonzero(a.y_true != b.y_true)[0])
        raise ValueError(f"labels differ between {a.source} and {b.source} (first at row {first}); "
                         "the rows must be the same examples in the same order")
    if (a.fold is None) != (b.fold is None) or (a.fold is not None and not np.array_equal(a.fold, b.fold)):
        raise ValueError(f"fold ids differ between {a.source} and {b.source}")
    if a.fold is not None:
        kwargs.setdefault("folds", a.fold)
    return compare(a.y_true, a.prob, b.prob, **kwargs)


def _point_values(y, p, threshold) -> dict:
    from lossbook.core.metrics import binary_report

    report = binary_report(y, p, threshold=threshold)
    return {m: report[m] for m in METRICS}


def _table_bootstrap(y, a, b, threshold, n_boot, level, seed) -> pd.DataFrame:
    from lossbook.core.metrics import bootstrap_summary

    va, vb = _point_values(y, a, threshold), _point_values(y, b, threshold)
    reps = bootstrap_differences(y, a, b, threshold=threshold, n_boot=n_boot, seed=seed)
    rows = []
    for m in METRICS:
        lo, hi, p = bootstrap_summary(reps[m].to_numpy(), level)
        rows.append(_row(m, va[m], vb[m], vb[m] - va[m], lo, hi, p, BOOTSTRAP, threshold))
    return pd.DataFrame(rows)


def _table_folds(y, a, b, fold_ids, n_train, threshold, level) -> pd.DataFrame:
    from lossbook.core.metrics import corrected_resampled_ttest

    ids = pd.unique(fold_ids)
    per_a, per_b, sizes = [], [], []
    for f in ids:
        member = fold_ids == f
        per_a.append(_point_values(y[member], a[member], threshold))
        per_b.append(_point_values(y[member], b[member], threshold))
        sizes.append(int(member.sum()))
    n_test = int(round(np.mean(sizes)))
    rows = []
    for m in METRICS:
        xa = np.array([r[m] for r in per_a])
        xb = np.array([r[m] for r in per_b])
        test = corrected_resampled_ttest(xb - xa, n_train=n_train, n_test=n_test, level=level)
        rows.append(_row(m, xa.mean(), xb.mean(), test["mean"], test["ci_low"], test["ci_high"],
                         test["p_value"], CORRECTED_T, threshold))
    return pd.DataFrame(rows)


def _row(metric, va, vb, diff, lo, hi, p, method, threshold) -> dict:
    return {
        "metric": metric, "value_a": float(va), "value_b": float(vb), "diff": float(diff),
        "ci_low": float(lo), "ci_high": float(hi), "p_value": float(p), "method": method,
        "threshold": threshold if metric in THRESHOLD_DEPENDENT else math.nan,
    }


# ----------------------------------------------------------------------------- result
@dataclass
class Comparison:
    """The outcome of :func:`compare`.

    Attributes
    ----------
    names : (str, str)
        Run A and run B.
    threshold, level : float
        Decision threshold of the threshold-dependent rows; interval level.
    table : pandas.DataFrame
        One row per metric of :data:`METRICS`: ``metric, value_a, value_b,
        diff (= value_b - value_a), ci_low, ci_high, p_value, method,
        threshold`` (NaN for threshold-free rows). With ``folds``, values are
        means over folds.
    y_true, prob_a, prob_b, folds : arrays
        The validated inputs (for the figure).
    """

    names: tuple
    threshold: float
    level: float
    table: pd.DataFrame
    y_true: np.ndarray = field(repr=False)
    prob_a: np.ndarray = field(repr=False)
    prob_b: np.ndarray = field(repr=False)
    folds: np.ndarray | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return int(len(self.y_true))

    @property
    def n_positive(self) -> int:
        return int(self.y_true.sum())

    @property
    def method(self) -> str:
        return str(self.table["method"].iloc[0])

    def row(self, metric: str) -> pd.Series:
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {list(METRICS)}, got {metric!r}")
        return self.table.set_index("metric").loc[metric]

    def page_frame(self, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """The comparison as a table for the page: one row per metric (in words, with the threshold of
        threshold-dependent ones), columns run A's value, run B's value, ``B − A`` as an
        :class:`~lossbook.core.estimate.Estimate` with its interval, and the p-value. ``metrics``: which rows
        (default all of :data:`METRICS`)."""
        from lossbook.core.estimate import Estimate

        table = self.table.set_index("metric")
        chosen = list(table.index) if metrics is None else list(metrics)
        unknown = [m for m in chosen if m not in table.index]
        if unknown:
            raise ValueError(f"metrics not in this comparison: {unknown}; it has {list(table.index)}")
        kind = "paired_bootstrap" if self.method == BOOTSTRAP else "corrected_t"
        rows = {}
        for metric in chosen:
            r = table.loc[metric]
            name = METRIC_LABELS[metric] + ("" if metric in THRESHOLD_FREE else f" at {self.threshold:g}")
            rows[name] = {self.names[0]: r["value_a"], self.names[1]: r["value_b"],
                          f"{self.names[1]} − {self.names[0]}": Estimate(r["diff"], r["ci_low"], r["ci_high"],
                                                                          n=self.n, method=kind),
                          "p": r["p_value"]}
        return pd.DataFrame.from_dict(rows, orient="index")

    def detectable(self, metric: str) -> bool:
        """True when the interval for the difference excludes 0."""
        r = self.row(metric)
        return bool(r["ci_low"] > 0 or r["ci_high"] < 0)

    def better(self, metric: str) -> str | None:
        """Name of the run that is better on ``metric`` (interval excluding 0), else None."""
        if not self.detectable(metric):
            return None
        b_higher = self.row(metric)["diff"] > 0
        return self.names[1] if b_higher == METRICS[metric] else self.names[0]

    def sentence(self, metric: str) -> str:
        """One sentence on one metric."""
        r = self.row(metric)
        label = METRIC_LABELS[metric]
        at = f" at threshold {self.threshold:g}" if metric in THRESHOLD_DEPENDENT else ""
        interval = f"{self.names[1]} − {self.names[0]} = {r['diff']:+.4f}, {self.level:.0%} CI [{r['ci_low']:+.4f}, {r['ci_high']:+.4f}]"
        winner = self.better(metric)
        if winner is None:
            return f"{label}{at}: no detectable difference ({interval})."
        how = "higher" if METRICS[metric] else "lower (better)"
        return f"{label}{at}: {winner} is {how} ({interval})."

    def verdict_for(self, metrics: Sequence[str] = VERDICT_METRICS) -> str:
        """The plain-language verdict over ``metrics``."""
        base = (f"{self.names[0]} (A) vs {self.names[1]} (B) on {self.n} examples with "
                f"{self.n_positive} positives; {self.method}")
        if self.folds is not None:
            base += f" over {len(pd.unique(self.folds))} folds"
        lines = [base + "."]
        lines += [self.sentence(m) for m in metrics]
        winners = {self.better(m) for m in metrics}
        if winners == {None}:
            lines.append("Overall: no detectable difference between the two runs on these data.")
        elif None not in winners and len(winners) == 1:
            lines.append(f"Overall: {winners.pop()} is better on every metric listed.")
        else:
            lines.append("Overall: mixed; the difference depends on the metric (see above), so "
                         "the choice should follow the metric that matters for the application.")
        return "\n".join(lines)

    @property
    def verdict(self) -> str:
        """Plain-language verdict over ROC-AUC, PR-AUC, Brier and balanced accuracy."""
        return self.verdict_for(VERDICT_METRICS)

    def to_dict(self) -> dict:
        """JSON-able summary for a results file: inputs' sizes, settings, and the table."""
        return {
            "names": list(self.names), "n": self.n, "n_positive": self.n_positive,
            "threshold": self.threshold, "level": self.level, "method": self.method,
            "metrics": {r["metric"]: {k: r[k] for k in ("value_a", "value_b", "diff", "ci_low", "ci_high", "p_value")}
                        for r in self.table.to_dict("records")},
        }

    def figure(self, *, n_bins: int = 10, metrics: Sequence[str] | None = None):
        """ROC and PR curves, a reliability diagram and a forest plot of the differences.

        Returns a matplotlib Figure with four panels. ``n_bins``: quantile bins
        of the reliability diagram (equal counts, so the rare high-probability
        region is not left with empty bins). ``metrics``: rows of the forest
        plot (default :data:`FOREST_METRICS`; precision, whose interval is
        usually huge when few examples are predicted positive, is left out so
        it does not squash the rest).
        """
        import matplotlib.pyplot as plt

        from lossbook.core import plots

        fig, axes = plt.subplots(2, 2, figsize=(10, 8))
        (ax_roc, ax_pr), (ax_rel, ax_forest) = axes
        if self.folds is None:
            per_fold = {name: [(self.y_true, p)] for name, p in zip(self.names, (self.prob_a, self.prob_b))}
        else:
            ids = pd.unique(self.folds)
            per_fold = {name: [(self.y_true[self.folds == f], p[self.folds == f]) for f in ids]
                        for name, p in zip(self.names, (self.prob_a, self.prob_b))}
        plots.roc_pr_curves(per_fold, ax=(ax_roc, ax_pr))
        plots.reliability_diagram({name: (self.y_true, p) for name, p in zip(self.names, (self.prob_a, self.prob_b))},
                                  n_bins=n_bins, strategy="quantile", ax=ax_rel)
        # Rare positives keep every bin near 0: zoom to where the points are.
        top = max(float(np.max(np.r_[mp, fr])) for mp, fr in
                  (_reliability(self.y_true, p, n_bins) for p in (self.prob_a, self.prob_b)))
        top = min(1.0, max(1.15 * top, 1e-3))
        ax_rel.set(xlim=(0, top), ylim=(0, top), title="Reliability (equal-count bins, zoomed)")
        metrics = FOREST_METRICS if metrics is None else metrics
        rows = self.table if metrics is None else self.table.set_index("metric").loc[list(metrics)].reset_index()
        ypos = np.arange(len(rows))[::-1]
        for yv, r in zip(ypos, rows.to_dict("records")):
            color = "black" if r["ci_low"] > 0 or r["ci_high"] < 0 else "grey"
            ax_forest.errorbar(r["diff"], yv, xerr=[[r["diff"] - r["ci_low"]], [r["ci_high"] - r["diff"]]],
                               fmt="o", color=color, capsize=3)
        ax_forest.axvline(0, color="grey", ls=":")
        ax_forest.set_yticks(ypos, [METRIC_LABELS[m] + ("" if m in THRESHOLD_FREE else f" @{self.threshold:g}")
                                    for m in rows["metric"]])
        ax_forest.set(xlabel=f"{self.names[1]} − {self.names[0]} ({self.level:.0%} CI, {self.method})",
                      title="Paired differences")
        fig.tight_layout()
        return fig


def _reliability(y: np.ndarray, p: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean prediction and observed positive rate in ``n_bins`` equal-count bins of ``p``."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise ValueError(f"n_bins must be an integer >= 2, got {n_bins!r}")
    order = np.argsort(p, kind="mergesort")
    bins = np.array_split(order, n_bins)
    mean_p = np.array([p[b].mean() for b in bins if len(b)])
    frac = np.array([y[b].mean() for b in bins if len(b)])
    return mean_p, frac


def choose_threshold(y_true, prob, *, metric: str = "balanced_accuracy", grid=None) -> dict:
    """The threshold that maximises a threshold-dependent metric on *validation* data.

    Parameters
    ----------
    y_true, prob : array-like (n,)
        Validation labels and probabilities, never the test set's.
    metric : str
        One of :data:`THRESHOLD_DEPENDENT`.
    grid : array-like, optional
        Candidate thresholds in (0, 1); default: the distinct predicted
        probabilities (every distinct decision), thinned to at most 2000 quantiles.

    Returns
    -------
    dict
        ``threshold`` (the best; the smallest among ties), ``value`` (the
        metric there), ``grid`` and ``values`` (the curve).
    """
    if metric not in THRESHOLD_DEPENDENT:
        raise ValueError(f"metric must be one of {list(THRESHOLD_DEPENDENT)}, got {metric!r}")
    y = check_labels(y_true, "y_true")
    p = check_probabilities(prob, "prob", len(y))
    if grid is None:
        grid = np.unique(p)
        if len(grid) > 2000:
            grid = np.unique(np.quantile(p, np.linspace(0, 1, 2000)))
        grid = grid[(grid > 0) & (grid < 1)]
    grid = np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or len(grid) == 0 or np.any((grid <= 0) | (grid >= 1)):
        raise ValueError("grid must be a non-empty 1-D array of thresholds strictly between 0 and 1")
    preds = (p[None, :] >= grid[:, None]).astype(np.float64) if len(grid) * len(p) <= 2e7 else None
    if preds is None:
        values = np.array([_from_counts(*_counts(y, p >= t))[metric] for t in grid], dtype=float).ravel()
    else:
        yf = y.astype(np.float64)
        tp = preds @ yf
        fp = preds.sum(axis=1) - tp
        fn = yf.sum() - tp
        tn = (len(y) - yf.sum()) - fp
        values = _from_counts(tp, fp, fn, tn)[metric]
    best = int(np.argmax(values))
    return {"threshold": float(grid[best]), "value": float(values[best]), "grid": grid, "values": values}


def _counts(y: np.ndarray, pred: np.ndarray):
    tp = float(np.sum((y == 1) & pred))
    fp = float(np.sum((y == 0) & pred))
    fn = float(np.sum((y == 1) & ~pred))
    tn = float(np.sum((y == 0) & ~pred))
    return tp, fp, fn, tn


def _plain(value):
    """NumPy scalars as Python scalars, so messages read ``1`` not ``np.int64(1)``."""
    return value.item() if isinstance(value, np.generic) else value
