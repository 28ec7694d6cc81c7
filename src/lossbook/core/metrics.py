"""Scores, fold aggregation, bootstrap intervals and paired tests.

Everything here is a thin, checked layer over scikit-learn and SciPy:

* :func:`binary_report` and :func:`multiclass_report` score one set of predictions;
* :func:`roc_auc` and :func:`average_precision` are the package's one rank-based
  ROC-AUC and one average precision (rows of models, padded rows, weights);
* :func:`stratified_resamples` / :func:`stratified_counts` are its one bootstrap
  engine (same seed, same resamples, for every caller);
* :func:`summarize` and :func:`aggregate` summarise scores over folds and repeats;
* :func:`bootstrap_ci` gives an interval for a metric on one test set and
  :func:`paired_bootstrap` compares two models on the same test set
  (:func:`bootstrap_summary` turns replicates of a difference into an interval and p-value);
* :func:`corrected_resampled_ttest` compares two models over repeated k-fold CV
  (Nadeau and Bengio, 2003);
* :func:`all_positive_scores` gives the scores of the classifier that calls
  every example positive, the baseline every imbalanced result must beat.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn import metrics as skm

from lossbook.core import validate

BINARY_KEYS = (
    "accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "balanced_accuracy", "mcc",
    "brier", "tn", "fp", "fn", "tp", "positive_rate_pred", "single_class",
)


# ------------------------------------------------------------------ validation
def _binary_labels(y_true, name: str = "y_true") -> np.ndarray:
    return validate.labels(y_true, name)


def _probabilities(y_prob, n: int, name: str = "y_prob") -> np.ndarray:
    return validate.probabilities(y_prob, name, n)


def _check_level(level: float) -> float:
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must be in (0, 1), e.g. 0.95; got {level!r}")
    return float(level)


# ---------------------------------------------------------------- one test set
def binary_report(y_true, y_prob, threshold: float = 0.5) -> dict:
    """Scores of binary predictions.

    Parameters
    ----------
    y_true : array of shape (n,) or (n, 1)
        0/1 labels.
    y_prob : array of shape (n,) or (n, 1)
        Predicted probability of the positive class.
    threshold : float in [0, 1]
        An example is predicted positive when ``y_prob >= threshold``.

    Returns
    -------
    dict
        ``accuracy, precision, recall, f1, roc_auc, pr_auc`` (average precision),
        ``balanced_accuracy, mcc, brier`` (Brier score of ``y_prob``), the
        confusion counts ``tn, fp, fn, tp``, ``positive_rate_pred`` (share
        predicted positive) and ``single_class`` (True when every prediction is
        the same class). Undefined values: precision, recall and F1 are 0 when
        their denominator is 0 (scikit-learn's ``zero_division=0``), MCC is 0
        when undefined (scikit-learn's convention), ROC-AUC and PR-AUC are NaN
        when ``y_true`` holds one class only. No warnings are emitted.
    """
    y = _binary_labels(y_true)
    p = _probabilities(y_prob, len(y))
    if not (isinstance(threshold, (int, float)) and 0 <= threshold <= 1):
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    pred = (p >= threshold).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    both = len(np.unique(y)) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one-class folds: sklearn warns, we return defined values
        report = {
            "accuracy": skm.accuracy_score(y, pred),
            "precision": skm.precision_score(y, pred, zero_division=0),
            "recall": skm.recall_score(y, pred, zero_division=0),
            "f1": skm.f1_score(y, pred, zero_division=0),
            "roc_auc": skm.roc_auc_score(y, p) if both else np.nan,
            "pr_auc": skm.average_precision_score(y, p) if both else np.nan,
            "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
            "mcc": skm.matthews_corrcoef(y, pred),
            "brier": skm.brier_score_loss(y, p, pos_label=1),
        }
    report = {k: float(v) for k, v in report.items()}
    report.update(tn=int(tn), fp=int(fp), fn=int(fn), tp=int(tp))
    report["positive_rate_pred"] = float(pred.mean())
    report["single_class"] = bool(pred.min() == pred.max())
    return report


def multiclass_report(y_true, y_pred, class_names: Sequence[str]) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support, with macro and weighted averages.

    Parameters
    ----------
    y_true : array (n,) of integer labels ``0..k-1``, or one-hot (n, k)
    y_pred : array (n,) of predicted labels, or (n, k) scores/probabilities
        (argmax taken)
    class_names : sequence of k names, in label order

    Returns
    -------
    DataFrame
        Index: the class names, then ``"macro avg"``, ``"weighted avg"`` and
        ``"accuracy"``; columns ``precision, recall, f1, support``. The accuracy
        row holds the accuracy in every score column (support = n). Also
        ``frame.attrs["accuracy"]``. Precision of a never-predicted class is 0.
    """
    names = [str(c) for c in class_names]
    k = len(names)
    if k < 2 or len(set(names)) != k:
        raise ValueError(f"class_names must hold at least 2 distinct names, got {names}")

    def labels(a, what):
        a = np.asarray(a)
        if a.ndim == 2:
            if a.shape[1] != k:
                raise ValueError(f"{what} has {a.shape[1]} columns but class_names has {k} names")
            a = a.argmax(axis=1)
        if a.ndim != 1:
            raise ValueError(f"{what} must be labels (n,) or one-hot/scores (n, {k}), got shape {a.shape}")
        if a.size and (not np.all(np.equal(np.mod(a, 1), 0)) or a.min() < 0 or a.max() >= k):
            raise ValueError(f"{what} must hold integer labels in 0..{k - 1}")
        return a.astype(int)

    yt, yp = labels(y_true, "y_true"), labels(y_pred, "y_pred")
    if yt.shape != yp.shape or yt.size == 0:
        raise ValueError(f"y_true and y_pred must hold the same non-zero number of examples, got {yt.size} and {yp.size}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = skm.classification_report(
            yt, yp, labels=list(range(k)), target_names=names, output_dict=True, zero_division=0
        )
    accuracy = float(skm.accuracy_score(yt, yp))
    rows = {name: rep[name] for name in names + ["macro avg", "weighted avg"]}
    frame = pd.DataFrame.from_dict(rows, orient="index").rename(columns={"f1-score": "f1"})
    frame = frame[["precision", "recall", "f1", "support"]]
    frame.loc["accuracy"] = [accuracy, accuracy, accuracy, float(len(yt))]
    frame["support"] = frame["support"].astype(int)
    frame.attrs["accuracy"] = accuracy
    return frame


def all_positive_scores(prevalence: float) -> dict:
    """Scores of the classifier that predicts every example positive.

    With prevalence ``pi`` (share of positives), every positive is found
    (recall 1) and every prediction is positive, so precision equals the share
    of positives, ``pi``, and so does accuracy; F1, the harmonic mean of ``pi``
    and 1, is ``2*pi / (1 + pi)``. Balanced accuracy is 0.5 and MCC 0.
    """
    if not (isinstance(prevalence, (int, float, np.floating)) and 0 < prevalence <= 1):
        raise ValueError(f"prevalence must be in (0, 1], got {prevalence!r}")
    pi = float(prevalence)
    return {"accuracy": pi, "precision": pi, "recall": 1.0, "f1": 2 * pi / (1 + pi)}


# ------------------------------------------------------- folds and repeats
def all_positive_table(cases: Mapping[str, tuple[int, int]]) -> tuple[pd.DataFrame, dict[str, bool]]:
    """The all-positive classifier scored by :func:`binary_report` on label vectors with given counts.

    ``cases``: ``{name: (positives, examples)}``. Returns ``(table, checks)``:
    one row per case with ``positives``, ``examples``, ``π``, accuracy,
    precision, recall, f1, balanced_accuracy, mcc, roc_auc and the formula's
    F1 (column ``"F1 formula 2π/(1+π)"``); ``checks[name]`` is True when every
    score equals :func:`all_positive_scores` to 1e-12.
    """
    rows, checks = {}, {}
    for case, (pos, n) in cases.items():
        if not (isinstance(pos, (int, np.integer)) and isinstance(n, (int, np.integer)) and 0 < pos <= n):
            raise ValueError(f"case {case!r}: need 0 < positives <= examples (integers), got {pos!r} of {n!r}")
        y = np.r_[np.ones(pos, dtype=int), np.zeros(n - pos, dtype=int)]
        report = binary_report(y, np.ones(n))
        formula = all_positive_scores(pos / n)
        checks[case] = all(abs(report[k] - formula[k]) < 1e-12 for k in formula)
        rows[case] = {"positives": pos, "examples": n, "π": pos / n, **{k: report[k] for k in
                      ("accuracy", "precision", "recall", "f1", "balanced_accuracy", "mcc", "roc_auc")},
                      "F1 formula 2π/(1+π)": formula["f1"]}
    table = pd.DataFrame(rows).T
    table[["positives", "examples"]] = table[["positives", "examples"]].astype(int)
    return table, checks


def score_fixed_predictions(y_true, predictions: Mapping[str, np.ndarray], losses: Mapping[str, Callable], *,
                            batch_losses: Mapping[str, Callable] | None = None, batch_size: int | None = None,
                            order: np.ndarray | None = None) -> pd.DataFrame:
    """Several losses and two metrics on the same fixed predictions: how the losses' scales compare.

    Parameters
    ----------
    y_true : (n,) labels 0/1
    predictions : ``{predictor name: (n,) probabilities}``
    losses : ``{column name: loss(y_true, y_prob) -> scalar}`` over the whole set
    batch_losses : ``{column name: loss with axis=-1}`` scored per batch and
        averaged: rows ``order[:k * batch_size]`` cut into ``k = n // batch_size``
        full batches (so every batch has the same size)

    Returns a DataFrame: rows = predictors (index name ``predictor``),
    columns = the losses, the batch losses, ``ROC-AUC`` and ``F1 at 0.5``.
    """
    y = _binary_labels(y_true)
    batch_losses = dict(batch_losses or {})
    if batch_losses:
        if not (isinstance(batch_size, int) and 2 <= batch_size <= len(y)):
            raise ValueError(f"batch_size must be an integer in [2, {len(y)}], got {batch_size!r}")
        if order is None or sorted(np.asarray(order).tolist()) != list(range(len(y))):
            raise ValueError("order must be a permutation of the rows (e.g. rng.permutation(n))")
        n_batches = len(y) // batch_size
        batches = np.asarray(order)[: n_batches * batch_size].reshape(n_batches, batch_size)
    rows = {}
    for name, p in predictions.items():
        p = _probabilities(p, len(y), f"predictions[{name!r}]")
        row = {column: float(fn(y, p)) for column, fn in losses.items()}
        for column, fn in batch_losses.items():
            row[column] = float(fn(y[batches], p[batches]).mean())
        report = binary_report(y, p)
        row["ROC-AUC"] = report["roc_auc"]
        row["F1 at 0.5"] = report["f1"]
        rows[name] = row
    table = pd.DataFrame(rows).T
    table.index.name = "predictor"
    return table


def rank_columns(table: pd.DataFrame, higher_is_better: Sequence[str] = ()) -> pd.DataFrame:
    """Rank the rows under each column, 1 = best: the lowest value, or the highest for ``higher_is_better``.

    Ties share the lowest rank (``method="min"``); columns keep their order.
    """
    unknown = sorted(set(higher_is_better) - set(table.columns))
    if unknown:
        raise ValueError(f"higher_is_better names columns the table does not have: {unknown}")
    lower = [c for c in table.columns if c not in higher_is_better]
    ranks = pd.concat([table[lower].rank(method="min"),
                       table[list(higher_is_better)].rank(ascending=False, method="min")], axis=1)
    return ranks[list(table.columns)].astype(int)


def summarize(values: Iterable[float], level: float = 0.95) -> dict:
    """Mean, sample standard deviation and a t-interval for the mean.

    ``values`` are scores, e.g. one per fold; NaNs are dropped (``n`` counts the
    rest). The interval is ``mean +/- t_{n-1, (1+level)/2} * std / sqrt(n)``.
    Caveat: CV folds share training data and are not independent, so this
    interval is too narrow for the question "how would this model do on new
    data"; use :func:`corrected_resampled_ttest` to compare two models. With
    ``n < 2`` the std and interval are NaN.
    """
    level = _check_level(level)
    x = np.asarray(list(values), dtype=float).ravel()
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return {"mean": np.nan, "std": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": 0}
    mean = float(x.mean())
    if n < 2:
        return {"mean": mean, "std": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": n}
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf((1 + level) / 2, n - 1) * std / np.sqrt(n))
    return {"mean": mean, "std": std, "ci_low": mean - half, "ci_high": mean + half, "n": n}


def aggregate(frame: pd.DataFrame, by, metrics: Sequence[str], level: float = 0.95) -> pd.DataFrame:
    """Summarise per-fold scores per group (:func:`summarize` for each metric).

    Parameters
    ----------
    frame : DataFrame
        One row per (group, repeat, fold), with the ``by`` columns and the metric columns.
    by : str or list of str
        Grouping columns, e.g. ``["model", "loss"]``.
    metrics : list of str
        Metric columns to summarise.

    Returns
    -------
    DataFrame
        Index: the groups; columns: a MultiIndex ``(metric, stat)`` with stat in
        ``mean, std, ci_low, ci_high, n``. The interval is the t-interval over
        all rows of the group (folds x repeats), which treats folds as
        independent although they share training data: read it as a
        description of the spread, not as a test.
    """
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in by + list(metrics) if c not in frame.columns]
    if missing:
        raise ValueError(f"aggregate: columns {missing} not in frame (columns: {list(frame.columns)})")
    _check_level(level)
    rows = {}
    for key, group in frame.groupby(by, sort=True):
        key = key[0] if len(by) == 1 else key
        rows[key] = {
            (m, stat): v for m in metrics for stat, v in summarize(group[m], level=level).items()
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.columns = pd.MultiIndex.from_tuples(out.columns, names=["metric", "stat"])
    if len(by) > 1:
        out.index = pd.MultiIndex.from_tuples(out.index, names=by)
    else:
        out.index.name = by[0]
    return out


def corrected_resampled_ttest(diff, n_train: int, n_test: int, level: float = 0.95) -> dict:
    """Nadeau and Bengio's (2003) corrected resampled t-test for repeated k-fold CV.

    ``diff`` holds the per-fold paired differences ``score_b - score_a`` (J =
    repeats x folds values). The ordinary t-test ignores that folds share
    training data; the correction inflates the variance of the mean from
    ``s^2 / J`` to ``(1/J + n_test/n_train) * s^2``. Then ``t = mean / se`` with
    ``J - 1`` degrees of freedom, a two-sided p-value, and the interval
    ``mean +/- t_{J-1, (1+level)/2} * se``.

    Returns ``dict(mean, se, t, df, p_value, ci_low, ci_high)``.
    """
    level = _check_level(level)
    d = np.asarray(diff, dtype=float).ravel()
    if d.size < 2 or not np.isfinite(d).all():
        raise ValueError(f"diff must hold at least 2 finite per-fold differences, got {d.size} values")
    for name, v in (("n_train", n_train), ("n_test", n_test)):
        if not (isinstance(v, (int, np.integer)) and v > 0):
            raise ValueError(f"{name} must be a positive integer (examples per fold), got {v!r}")
    j = d.size
    mean = float(d.mean())
    var = float(d.var(ddof=1))
    se = float(np.sqrt((1.0 / j + n_test / n_train) * var))
    df = j - 1
    if se == 0:
        t = 0.0 if mean == 0 else float(np.sign(mean) * np.inf)
        p = 1.0 if mean == 0 else 0.0
    else:
        t = mean / se
        p = float(2 * stats.t.sf(abs(t), df))
    half = float(stats.t.ppf((1 + level) / 2, df) * se)
    return {"mean": mean, "se": se, "t": float(t), "df": df, "p_value": p,
            "ci_low": mean - half, "ci_high": mean + half}


# ------------------------------------------------------------ ranking metrics
# The one rank-based ROC-AUC and the one average precision of the package. Both
# work on the weight of each class at each distinct score ("tie group"), so the
# same code scores one prediction vector, many models' rows at once, padded rows
# (mask) and bootstrap resamples given as multiplicities (sample_weight), in
# memory linear in the number of rows.
def _rows(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim == 1:
        return a[None, :]
    if a.ndim != 2:
        raise ValueError(f"{name} must be 1-D (n,) or 2-D (rows, n), got shape {a.shape}")
    return a


def _tie_groups(scores: np.ndarray) -> tuple[np.ndarray, int]:
    """Each entry's tie group: 0, 1, ... in ascending score order, per row of ``scores`` (r, n)."""
    if scores.shape[0] == 1:
        values, group = np.unique(scores[0], return_inverse=True)
        return group.reshape(1, -1), len(values)
    order = np.argsort(scores, axis=1, kind="stable")
    ordered = np.take_along_axis(scores, order, axis=1)
    starts = np.ones(ordered.shape, dtype=np.int64)
    starts[:, 0] = 0
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = np.empty_like(order)
    np.put_along_axis(group, order, np.cumsum(starts, axis=1), axis=1)
    return group, scores.shape[1]


def group_weights(group: np.ndarray, weights: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of ``weights`` (r, n) per tie group: ``group`` (r or 1, n) -> (r, n_groups)."""
    r = weights.shape[0]
    ids = group + (np.arange(r) * n_groups)[:, None]
    return np.bincount(ids.ravel(), weights=weights.ravel(), minlength=r * n_groups).reshape(r, n_groups)


def auc_from_groups(neg: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """ROC-AUC from the weight of negatives and positives per tie group, groups in ascending score order.

    ``neg``, ``pos``: (r, G). The chance that a positive outscores a negative,
    ties counting one half (the Mann-Whitney U over ``n_pos * n_neg``; with
    integer weights the numerator is exact). NaN for a row with one class only.
    """
    below = np.cumsum(neg, axis=1) - neg
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (pos * (below + 0.5 * neg)).sum(axis=1) / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def ap_from_groups(neg: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Average precision from per-tie-group class weights (ascending score order), (r, G) -> (r,).

    scikit-learn's definition: the precision at each distinct score (every
    example scored at or above it flagged), weighted by the positives at that
    score. NaN for a row without positives.
    """
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    tp = n_pos[:, None] - (np.cumsum(pos, axis=1) - pos)   # positives scored >= this group
    fp = n_neg[:, None] - (np.cumsum(neg, axis=1) - neg)
    flagged = tp + fp
    precision = np.divide(tp, flagged, out=np.zeros_like(tp), where=flagged > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ap = (pos * precision).sum(axis=1) / n_pos
    return np.where(n_pos > 0, ap, np.nan)


def _class_groups(y_true, y_score, sample_weight, mask):
    y = _rows(y_true, "y_true").astype(bool)
    s = _rows(np.asarray(y_score, dtype=float), "y_score")
    w = None if sample_weight is None else _rows(np.asarray(sample_weight, dtype=float), "sample_weight")
    m = None if mask is None else _rows(mask, "mask").astype(bool)
    r = max(a.shape[0] for a in (y, s, w, m) if a is not None)
    n = s.shape[1]
    for name, a in (("y_true", y), ("sample_weight", w), ("mask", m)):
        if a is not None and (a.shape[1] != n or a.shape[0] not in (1, r)):
            raise ValueError(f"{name} has shape {a.shape}; y_score has {s.shape} (rows must match or be one)")
    if s.shape[0] not in (1, r):
        raise ValueError(f"y_score has {s.shape[0]} rows; the other inputs have {r}")
    if m is not None:
        s = np.where(m, s, 0.0)  # padded entries: any finite score, zero weight
    if not np.isfinite(s).all():
        raise ValueError("y_score holds NaN or infinite values")
    weight = np.ones((1, n)) if w is None else w
    if m is not None:
        weight = weight * m
    weight = np.broadcast_to(weight, (r, n))
    yb = np.broadcast_to(y, (r, n))
    group, n_groups = _tie_groups(s)
    pos = group_weights(group, np.where(yb, weight, 0.0), n_groups)
    neg = group_weights(group, np.where(yb, 0.0, weight), n_groups)
    return neg, pos


def _one_or_rows(values: np.ndarray, *inputs) -> float | np.ndarray:
    return float(values[0]) if all(a is None or np.ndim(a) == 1 for a in inputs) else values


def roc_auc(y_true, y_score, *, sample_weight=None, mask=None) -> float | np.ndarray:
    """Rank-based ROC-AUC (ties count one half), equal to scikit-learn's ``roc_auc_score``.

    Parameters
    ----------
    y_true : array (n,) or (r, n) of 0/1 labels
    y_score : array (n,) or (r, n) of scores (any real numbers; only their order matters)
    sample_weight : array (n,) or (r, n), optional
        Non-negative weights, e.g. bootstrap multiplicities (one row per resample).
    mask : array (n,) or (r, n) of bool, optional
        Real entries; padded entries (False) are ignored.

    Rows broadcast: a single ``y_score`` row with ``r`` weight rows scores ``r``
    resamples of one prediction vector; ``r`` score rows score ``r`` models on
    the same examples. Returns a float when every input is 1-D, else an array
    (r,). NaN where a row holds one class only. Memory is linear in ``r * n``.
    """
    return _one_or_rows(auc_from_groups(*_class_groups(y_true, y_score, sample_weight, mask)),
                        y_true, y_score, sample_weight, mask)


def average_precision(y_true, y_score, *, sample_weight=None, mask=None) -> float | np.ndarray:
    """Average precision (area under the PR curve, step-wise), equal to scikit-learn's
    ``average_precision_score`` including its handling of tied scores.

    Same inputs, broadcasting and return as :func:`roc_auc`; NaN where a row has no positive.
    """
    return _one_or_rows(ap_from_groups(*_class_groups(y_true, y_score, sample_weight, mask)),
                        y_true, y_score, sample_weight, mask)


# ------------------------------------------------------------------ bootstrap
def _threshold(fn):
    return lambda y, s: fn(y, (np.asarray(s) >= 0.5).astype(int))


#: Metric names accepted by the bootstrap functions (scores are P(positive)).
METRICS: Mapping[str, Callable] = {
    "roc_auc": roc_auc,
    "pr_auc": average_precision,
    "brier": skm.brier_score_loss,
    "accuracy": _threshold(skm.accuracy_score),
    "balanced_accuracy": _threshold(skm.balanced_accuracy_score),
    "precision": _threshold(lambda y, p: skm.precision_score(y, p, zero_division=0)),
    "recall": _threshold(lambda y, p: skm.recall_score(y, p, zero_division=0)),
    "f1": _threshold(lambda y, p: skm.f1_score(y, p, zero_division=0)),
    "mcc": _threshold(skm.matthews_corrcoef),
}


def _metric_fn(metric) -> Callable:
    if callable(metric):
        return metric
    if metric in METRICS:
        return METRICS[metric]
    raise ValueError(f"metric must be a callable(y_true, y_score) or one of {sorted(METRICS)}, got {metric!r}")


#: Cells (resamples x rows) of one chunk of resample indices: bounds the engine's memory.
_MAX_CELLS = 2**22


def _class_draws(y: np.ndarray, n_boot: int, seed: int, max_cells: int, counts: bool):
    """The engine's one random stream. Per chunk of ``b`` resamples, yields the rows of each
    class (sorted labels) and, per class, either the positions drawn within the class
    (int (b, n_c)) or, with ``counts``, how often each position was drawn (float (b, n_c))."""
    rng = np.random.default_rng(seed)
    rows = [np.flatnonzero(y == c) for c in np.unique(y)]
    chunk = max(1, min(int(n_boot), max_cells // max(len(y), 1)))
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        out = [np.empty((b, r.size), dtype=np.float64 if counts else np.int64) for r in rows]
        for i in range(b):
            for r, o in zip(rows, out):
                drawn = rng.integers(0, r.size, size=r.size)
                o[i] = np.bincount(drawn, minlength=r.size) if counts else drawn
        yield rows, out
        done += b


def stratified_resamples(y_true, n_boot: int, seed: int, *, max_cells: int = _MAX_CELLS):
    """The one bootstrap engine: stratified resamples of a test set, as row indices, in chunks.

    Each resample draws, with replacement, as many examples of each class as
    the test set has (so every resample holds every class). One generator,
    ``numpy.random.default_rng(seed)``, draws resample after resample, and
    within a resample class after class (sorted labels), ``n_c`` uniform
    picks among that class's rows (what ``Generator.choice(rows_c, n_c)``
    draws). Chunking changes nothing in the stream, so the same seed gives the
    same resamples to every caller (:func:`stratified_counts` too).

    Yields int arrays (b, n) of row indices, ``b <= max(1, max_cells // n)``
    resamples at a time; columns are grouped by class in label order (for 0/1
    labels the first ``n_neg`` columns are negatives).
    """
    for rows, draws in _class_draws(np.asarray(y_true), n_boot, seed, max_cells, counts=False):
        yield np.concatenate([r[d] for r, d in zip(rows, draws)], axis=1)


def stratified_counts(y_true, n_boot: int, seed: int, *, max_cells: int = _MAX_CELLS):
    """The resamples of :func:`stratified_resamples` (same seed, same resamples) as multiplicities.

    Yields, per chunk of ``b`` resamples, a list with one float array (b, n_c)
    per class (sorted labels): how often each of the class's rows, in row
    order, is drawn. Scoring from multiplicities needs no gather of the
    drawn rows, which is what keeps the engine fast at millions of rows.
    """
    for _, counts in _class_draws(np.asarray(y_true), n_boot, seed, max_cells, counts=True):
        yield counts


class ResampledRanking:
    """One prediction vector of a binary test set, scored on chunks of :func:`stratified_counts`.

    ``y`` (n,) 0/1 labels, ``scores`` (n,), ``cuts``: thresholds at which
    confusion counts will be read. :meth:`class_groups` turns the multiplicities
    of a chunk of resamples (negatives (b, n_neg), positives (b, n_pos)) into
    the weight of negatives and positives per score group, ``(neg, pos)`` each
    (b, G) in ascending score order. A group is one distinct score, except
    that neighbouring scores held by negatives only are merged into one group
    (never across a cut): ROC-AUC and average precision only need the
    negatives' weight between consecutive positive scores, so G is at most
    about twice the number of distinct positive scores plus the cuts.
    :attr:`lowest` is each group's lowest score, so ``lowest >= t`` flags the
    groups predicted positive at a cut ``t``. Memory: O(b * n).
    """

    def __init__(self, y: np.ndarray, scores: np.ndarray, cuts: Sequence[float] = ()):
        from scipy import sparse

        y = np.asarray(y)
        s = np.asarray(scores, dtype=float)
        values, group = np.unique(s, return_inverse=True)
        has_pos = np.zeros(len(values), dtype=bool)
        has_pos[group[y == 1]] = True
        start = np.ones(len(values), dtype=bool)
        start[1:] = has_pos[1:] | has_pos[:-1]
        previous = np.r_[-np.inf, values[:-1]]
        for cut in cuts:
            start |= (values >= cut) & (previous < cut)
        merged = np.cumsum(start) - 1
        self.n_groups = int(merged[-1]) + 1
        self.lowest = values[start]
        self._indicator, self._squared_error = [], []
        for label in (0, 1):
            rows = np.flatnonzero(y == label)
            g = merged[group[rows]]
            self._indicator.append(sparse.csr_matrix((np.ones(rows.size), (np.arange(rows.size), g)),
                                                     shape=(rows.size, self.n_groups)))
            self._squared_error.append((s[rows] - label) ** 2)
        self.n = len(y)

    def class_groups(self, counts: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        neg, pos = (np.asarray(self._indicator[k].T @ counts[k].T).T for k in (0, 1))
        return neg, pos

    def brier(self, counts: Sequence[np.ndarray]) -> np.ndarray:
        """Brier score of each resample of the chunk, (b,)."""
        return (counts[0] @ self._squared_error[0] + counts[1] @ self._squared_error[1]) / self.n


#: Metrics the engine scores from tie-group weights (all resamples of a chunk at once).
_RANKING = {"roc_auc": auc_from_groups, "pr_auc": ap_from_groups}


def _replicates(metric, fn, y: np.ndarray, scores: Sequence[np.ndarray], n_boot: int, seed: int) -> list[np.ndarray]:
    """Per score vector, the metric on every stratified resample (same resamples for all vectors)."""
    fast = metric in _RANKING and np.isin(y, (0, 1)).all() and all(s.ndim == 1 for s in scores)
    out = [[] for _ in scores]
    if fast:
        ranked = [ResampledRanking(y, s) for s in scores]
        for counts in stratified_counts(y, n_boot, seed):
            for k, r in enumerate(ranked):
                out[k].append(_RANKING[metric](*r.class_groups(counts)))
        return [np.concatenate(parts) for parts in out]
    for idx in stratified_resamples(y, n_boot, seed):
        for k, s in enumerate(scores):
            out[k].append(np.array([fn(y[i], s[i]) for i in idx], dtype=float))
    return [np.concatenate(parts) for parts in out]


def _check_boot(y_true, n_boot, seed):
    y = np.asarray(y_true)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y_true must be a non-empty 1-D array of labels, got shape {y.shape}")
    if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 10):
        raise ValueError(f"n_boot must be an integer >= 10, got {n_boot!r}")
    if not (isinstance(seed, (int, np.integer)) and seed >= 0):
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return y


def bootstrap_ci(metric, y_true, y_score, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> dict:
    """Percentile bootstrap interval for a metric on one test set.

    The resamples come from :func:`stratified_resamples`, the package's one
    bootstrap engine: each class is resampled with replacement at its own
    count, so every resample holds every class (AUCs always defined), and the
    same seed gives the same resamples as :func:`paired_bootstrap` and
    :func:`lossbook.core.compare.compare`. ``"roc_auc"`` and ``"pr_auc"`` on
    binary labels are scored for a chunk of resamples at once from tie-group
    weights (:func:`roc_auc`, :func:`average_precision`). The interval is the
    ``(1-level)/2`` and ``(1+level)/2`` percentiles of the resampled metric; it
    reflects test-set sampling only, not training variability.

    Parameters
    ----------
    metric : callable ``(y_true, y_score) -> float`` or a name in :data:`METRICS`
    y_true : array (n,) of labels
    y_score : array (n,) or (n, k), passed to ``metric`` row-resampled
    n_boot, level, seed : resamples, interval level, NumPy seed (same seed, same interval)

    Returns ``dict(estimate, ci_low, ci_high)``; ``estimate`` is the metric on the full set.
    """
    level = _check_level(level)
    fn = _metric_fn(metric)
    y = _check_boot(y_true, n_boot, seed)
    s = np.asarray(y_score)
    if len(s) != len(y):
        raise ValueError(f"y_score has {len(s)} rows but y_true has {len(y)}")
    (boots,) = _replicates(metric, fn, y, [s], n_boot, seed)
    lo, hi = np.nanpercentile(boots, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return {"estimate": float(fn(y, s)), "ci_low": float(lo), "ci_high": float(hi)}


def paired_bootstrap(
    metric, y_true, score_a, score_b, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> dict:
    """Compare two models scored on the same test set by a paired, stratified bootstrap.

    Both models are scored on the *same* resamples (stratified as in
    :func:`bootstrap_ci`), so the interval for ``diff = metric(b) - metric(a)``
    accounts for their correlation. The two-sided p-value is
    ``min(1, 2 * min(P*(d <= 0), P*(d >= 0)))`` with ``P*`` the bootstrap share,
    counted as ``(count + 1) / (n_boot + 1)`` so it is never exactly 0.

    Returns ``dict(diff, ci_low, ci_high, p_value)``.
    """
    level = _check_level(level)
    fn = _metric_fn(metric)
    y = _check_boot(y_true, n_boot, seed)
    a, b = np.asarray(score_a), np.asarray(score_b)
    if len(a) != len(y) or len(b) != len(y):
        raise ValueError(f"score_a ({len(a)}) and score_b ({len(b)}) must have one row per y_true ({len(y)})")
    boot_a, boot_b = _replicates(metric, fn, y, [a, b], n_boot, seed)
    d = boot_b - boot_a
    lo, hi, p = bootstrap_summary(d, level)
    return {"diff": float(fn(y, b) - fn(y, a)), "ci_low": lo, "ci_high": hi, "p_value": p}


def bootstrap_summary(replicates, level: float = 0.95) -> tuple[float, float, float]:
    """Percentile interval and two-sided p-value of bootstrap replicates of a difference.

    Returns ``(ci_low, ci_high, p_value)`` with ``p = min(1, 2 * min(P*(d <= 0), P*(d >= 0)))``,
    each share counted as ``(count + 1) / (n + 1)`` so it is never exactly 0.
    """
    d = np.asarray(replicates, dtype=float)
    lo, hi = np.nanpercentile(d, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    below = (np.sum(d <= 0) + 1) / (len(d) + 1)
    above = (np.sum(d >= 0) + 1) / (len(d) + 1)
    return float(lo), float(hi), float(min(1.0, 2 * min(below, above)))


# ---------------------------------------------------------------- calibration
def _check_bins(n_bins) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    return int(n_bins)


def _bin_of(p: np.ndarray, n_bins: int) -> np.ndarray:
    # equal-width bins [0, 1/B), [1/B, 2/B), ..., [(B-1)/B, 1]: probability 1 falls in the last bin
    return np.minimum((p * n_bins).astype(np.int64), n_bins - 1)


def reliability_curve(y_true, y_prob, *, n_bins: int = 10) -> pd.DataFrame:
    """Observed positive rate per equal-width probability bin: the points of a reliability diagram.

    Parameters
    ----------
    y_true : array of shape (n,) or (n, 1)
        0/1 labels.
    y_prob : array of shape (n,) or (n, 1)
        Predicted probability of class 1, in [0, 1].
    n_bins : int
        Number of equal-width bins of [0, 1]; bin ``b`` holds ``b/B <= p < (b+1)/B``
        (the last bin also holds ``p = 1``).

    Returns
    -------
    DataFrame of ``n_bins`` rows (one per bin, empty bins included) with columns
    ``centre`` (the bin's midpoint), ``mean_prob`` (mean predicted probability in the
    bin), ``frequency`` (share of positives in the bin) and ``count`` (examples in the
    bin, int); ``mean_prob`` and ``frequency`` are NaN for an empty bin.
    """
    n_bins = _check_bins(n_bins)
    y = _binary_labels(y_true)
    p = _probabilities(y_prob, len(y))
    b = _bin_of(p, n_bins)
    count = np.bincount(b, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_prob = np.bincount(b, weights=p, minlength=n_bins) / count
        frequency = np.bincount(b, weights=y.astype(float), minlength=n_bins) / count
    return pd.DataFrame({"centre": (np.arange(n_bins) + 0.5) / n_bins, "mean_prob": mean_prob,
                         "frequency": frequency, "count": count.astype(int)})


def expected_calibration_error(y_true, y_prob, *, n_bins: int = 10) -> float:
    """Expected calibration error with ``n_bins`` equal-width bins.

    ``ECE = sum_b (n_b / n) * |mean predicted probability in b - share of positives in b|``
    over the non-empty bins of :func:`reliability_curve` (bin ``b`` holds
    ``b/B <= p < (b+1)/B``, the last one also ``p = 1``).

    Parameters
    ----------
    y_true : array of shape (n,) or (n, 1)
        0/1 labels.
    y_prob : array of shape (n,) or (n, 1)
        Predicted probability of class 1, in [0, 1].
    n_bins : int
        Number of equal-width bins (default 10).

    Returns
    -------
    float in [0, 1]; 0 for a perfectly calibrated set of predictions.
    """
    curve = reliability_curve(y_true, y_prob, n_bins=n_bins)
    seen = curve[curve["count"] > 0]
    weights = seen["count"].to_numpy() / seen["count"].sum()
    return float(np.sum(weights * np.abs(seen["mean_prob"].to_numpy() - seen["frequency"].to_numpy())))
