"""The book's figures: one look for every chapter.

Call :func:`set_style` once per chapter. Every plotting function takes ``ax=None``
(a new figure is made) or the axes to draw into, and returns ``(fig, ax)``.
:func:`save` writes a figure under ``<output>/figures/<chapter>/`` and returns
the path, so any page can include it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lossbook.core import validate
from lossbook.core.paths import figure_path

#: One colour per loss, the same on every page.
LOSS_COLORS = {
    "bce": "#4c72b0",
    "focal": "#dd8452",
    "dice": "#55a868",
    "weighted_ce": "#8172b3",
    "focal_ce": "#c44e52",
    "paper": "#222222",
}
#: Grid on which per-fold ROC and PR curves are averaged.
CURVE_GRID = np.linspace(0.0, 1.0, 201)


def set_style() -> None:
    """The book's matplotlib/seaborn style (white grid, readable fonts, fixed DPI)."""
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", palette="deep")
    matplotlib.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 120,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "legend.fontsize": 9,
        "figure.autolayout": False,
        "svg.hashsalt": "lossbook",  # deterministic SVG ids
    })


def color_for(label: str, i: int = 0) -> str:
    """The loss's colour when ``label`` names a loss, else the i-th palette colour."""
    key = str(label).lower()
    for name, color in LOSS_COLORS.items():
        if key == name or key.startswith(name + " ") or key.endswith(" " + name):
            return color
    return plt.rcParams["axes.prop_cycle"].by_key()["color"][i % 10]


def _new(ax, ncols=1, figsize=None):
    if ax is not None:
        axes = np.atleast_1d(ax)
        return axes.flat[0].figure, ax
    fig, ax = plt.subplots(1, ncols, figsize=figsize or (4.2 * ncols, 3.4), squeeze=True)
    return fig, ax


def save(fig, chapter: str, name: str, *, dpi: int = 120) -> Path:
    """Write ``fig`` to ``figures/<chapter>/<name>`` (``.png`` added if no suffix) and return the path."""
    if not Path(name).suffix:
        name = f"{name}.png"
    path = figure_path(chapter, name)
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None} if path.suffix == ".png" else None)
    return path


# ------------------------------------------------------------ ROC and PR curves
def _check_fold(y_true, y_prob, where):
    y = validate.labels(np.ravel(y_true), f"{where}: y_true")
    p = validate.probabilities(np.ravel(y_prob), f"{where}: y_prob", len(y))
    if len(np.unique(y)) != 2:
        raise ValueError(f"{where}: y_true must contain both classes to draw ROC/PR curves")
    return y, p


def mean_curves(folds: Sequence[tuple], grid: np.ndarray = CURVE_GRID) -> dict:
    """Per-fold ROC and PR curves on a common grid.

    Returns ``dict(grid, tpr, precision, roc_auc, pr_auc, prevalence)``:
    ``tpr`` (n_folds, len(grid)) is each fold's TPR at the grid's FPR values;
    ``precision`` (n_folds, len(grid)) the interpolated precision (best precision
    at recall >= r) at the grid's recall values; the AUCs are per fold
    (:func:`lossbook.core.metrics.roc_auc` and :func:`~lossbook.core.metrics.average_precision`).
    """
    from sklearn.metrics import precision_recall_curve, roc_curve

    from lossbook.core.metrics import average_precision, roc_auc

    tprs, precs, rocs, aps, prev = [], [], [], [], []
    for k, (y_true, y_prob) in enumerate(folds):
        y, p = _check_fold(y_true, y_prob, f"fold {k}")
        fpr, tpr, _ = roc_curve(y, p)
        tprs.append(np.interp(grid, fpr, tpr))
        tprs[-1][0] = 0.0
        precision, recall, _ = precision_recall_curve(y, p)
        # recall is decreasing; interpolated precision = running max from high recall down
        order = np.argsort(recall)
        r, pr = recall[order], np.maximum.accumulate(precision[order][::-1])[::-1]
        precs.append(np.interp(grid, r, pr))
        rocs.append(roc_auc(y, p))
        aps.append(average_precision(y, p))
        prev.append(y.mean())
    if not tprs:
        raise ValueError("folds is empty: give at least one (y_true, y_prob) pair")
    return {"grid": grid, "tpr": np.array(tprs), "precision": np.array(precs),
            "roc_auc": np.array(rocs), "pr_auc": np.array(aps), "prevalence": float(np.mean(prev))}


def roc_pr_curves(groups, *, ax=None, band: str = "sd", title: str | None = None):
    """Mean ROC and PR curves with a band across folds, one line per group.

    Parameters
    ----------
    groups : mapping ``{label: [(y_true, y_prob), ...]}`` or a list of ``(y_true, y_prob)``
        One entry per fold (a plain list is one group labelled "model").
    ax : pair of axes ``(roc_ax, pr_ax)``, optional
    band : "sd" (mean +/- one standard deviation across folds) or "range" (min to max)

    Returns ``(fig, (roc_ax, pr_ax))``. Legends give the mean AUC +/- sd over
    folds; the PR panel's dotted line is the positive rate (a random ranker).
    """
    if band not in ("sd", "range"):
        raise ValueError(f"band must be 'sd' or 'range', got {band!r}")
    if not isinstance(groups, Mapping):
        groups = {"model": list(groups)}
    fig, axes = _new(ax, ncols=2, figsize=(9, 3.8))
    roc_ax, pr_ax = np.atleast_1d(axes)[:2]
    prevalence = []
    for i, (label, folds) in enumerate(groups.items()):
        c = mean_curves(folds)
        color = color_for(label, i)
        prevalence.append(c["prevalence"])
        for panel, values, aucs, name in ((roc_ax, c["tpr"], c["roc_auc"], "AUC"),
                                          (pr_ax, c["precision"], c["pr_auc"], "AP")):
            mean = values.mean(axis=0)
            if band == "sd":
                lo, hi = mean - values.std(axis=0), mean + values.std(axis=0)
            else:
                lo, hi = values.min(axis=0), values.max(axis=0)
            text = f"{label} ({name} {aucs.mean():.3f}" + (f" ± {aucs.std(ddof=1):.3f})" if len(aucs) > 1 else ")")
            panel.plot(c["grid"], mean, color=color, lw=1.8, label=text)
            if len(values) > 1:
                panel.fill_between(c["grid"], np.clip(lo, 0, 1), np.clip(hi, 0, 1), color=color, alpha=0.18, lw=0)
    roc_ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    pr_ax.axhline(float(np.mean(prevalence)), ls=":", color="grey", lw=1)
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01), title="ROC")
    pr_ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.01), title="precision-recall")
    for panel in (roc_ax, pr_ax):
        panel.legend(loc="lower right" if panel is roc_ax else "upper right", frameon=True)
    if title:
        fig.suptitle(title)
    return fig, (roc_ax, pr_ax)


# ---------------------------------------------------------- confusion matrices
def confusion_grid(matrices: Sequence, titles: Sequence[str], *, class_names=("negative", "positive"),
                   normalize: bool = False, ncols: int | None = None, ax=None, cmap: str = "Blues"):
    """Several confusion matrices side by side, counts (and row shares) annotated.

    ``matrices``: list of (k, k) arrays, rows = true class, columns = predicted.
    ``normalize=True`` colours by the share of each true class (row), so
    matrices from test sets of different sizes compare. Returns ``(fig, axes)``.
    """
    mats = [np.asarray(m) for m in matrices]
    if len(mats) != len(titles) or not mats:
        raise ValueError(f"give one title per matrix: {len(mats)} matrices, {len(titles)} titles")
    k = len(class_names)
    for t, m in zip(titles, mats):
        if m.shape != (k, k):
            raise ValueError(f"matrix {t!r} has shape {m.shape}, expected ({k}, {k}) for class_names {list(class_names)}")
    n = len(mats)
    ncols = ncols or min(n, 4)
    nrows = int(np.ceil(n / ncols))
    if ax is None:
        size = 1.0 + 0.55 * k
        fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 0.6, size * nrows + 0.5), squeeze=False)
    else:
        axes = np.atleast_2d(np.asarray(ax, dtype=object))
        fig = axes.flat[0].figure
    for i, panel in enumerate(axes.flat):
        if i >= n:
            panel.axis("off")
            continue
        m = mats[i].astype(float)
        rows = m.sum(axis=1, keepdims=True)
        share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
        shown = share if normalize else m
        panel.imshow(shown, cmap=cmap, vmin=0, vmax=1 if normalize else max(m.max(), 1))
        for r in range(k):
            for c in range(k):
                dark = shown[r, c] > (0.5 if normalize else 0.5 * max(m.max(), 1))
                panel.text(c, r, f"{int(mats[i][r, c])}\n({share[r, c]:.0%})", ha="center", va="center",
                           fontsize=8 if k > 3 else 9, color="white" if dark else "black")
        panel.set_xticks(range(k), class_names, rotation=45 if k > 2 else 0, ha="right" if k > 2 else "center")
        panel.set_yticks(range(k), class_names)
        panel.set_xlabel("predicted")
        panel.set_ylabel("true" if i % ncols == 0 else "")
        panel.set_title(titles[i])
        panel.grid(False)
    fig.tight_layout()
    return fig, axes


# --------------------------------------------------------------- bar charts
def _frame(x, index=None, columns=None):
    if x is None:
        return None
    if isinstance(x, pd.DataFrame):
        return x
    if isinstance(x, pd.Series):
        return x.to_frame()
    a = np.asarray(x, dtype=float)
    frame = pd.DataFrame(a.reshape(len(a), -1))
    if index is not None and len(index) == frame.shape[0]:
        frame.index = index
    if columns is not None and len(columns) == frame.shape[1]:
        frame.columns = columns
    return frame


def bar_with_errors(means, *, err=None, ci_low=None, ci_high=None, reference=None, reference_label: str = "paper",
                    ax=None, ylabel: str | None = None, title: str | None = None, ylim=None, labels=None):
    """Bars of means with error bars, optionally grouped, with reference values.

    Parameters
    ----------
    means : Series/1-D array (one bar per entry) or DataFrame (rows = groups on
        the x axis, columns = bars within a group, e.g. rows = models, columns = losses)
    err : same shape, optional
        Symmetric half-widths (e.g. a standard deviation).
    ci_low, ci_high : same shape, optional
        Interval bounds (e.g. a 95% interval); used instead of ``err``.
    reference : number, or same shape as ``means``, optional
        A number draws a horizontal line (e.g. the all-positive F1); an array
        draws a black marker on each bar (e.g. the paper's reported value).
        NaN entries are skipped.
    labels : names of the bars when ``means`` is a plain array

    Returns ``(fig, ax)``.
    """
    m = _frame(means, index=labels)
    idx, cols = m.index, m.columns
    e = _frame(err, idx, cols)
    lo, hi = _frame(ci_low, idx, cols), _frame(ci_high, idx, cols)
    if (lo is None) != (hi is None):
        raise ValueError("give both ci_low and ci_high, or neither")
    for name, f in (("err", e), ("ci_low", lo), ("ci_high", hi)):
        if f is not None and f.shape != m.shape:
            raise ValueError(f"{name} has shape {f.shape} but means has shape {m.shape}")
    fig, ax = _new(ax, figsize=(max(4.0, 0.9 * len(idx) * max(1, len(cols)) ** 0.6 + 1.5), 3.4))
    n_bars = len(cols)
    width = 0.8 / n_bars
    x = np.arange(len(idx))
    ref_frame = None
    if reference is not None and not np.isscalar(reference):
        ref_frame = _frame(reference, idx, cols)
        if ref_frame.shape != m.shape:
            raise ValueError(f"reference has shape {ref_frame.shape} but means has shape {m.shape}")
    marked = False
    for j, col in enumerate(cols):
        pos = x - 0.4 + width * (j + 0.5)
        vals = m[col].to_numpy(dtype=float)
        if lo is not None:
            yerr = np.vstack([vals - lo[col].to_numpy(float), hi[col].to_numpy(float) - vals])
        elif e is not None:
            yerr = e[col].to_numpy(float)
        else:
            yerr = None
        label = None if (n_bars == 1 and col == 0) else str(col)
        ax.bar(pos, vals, width * 0.92, yerr=yerr, capsize=3, color=color_for(str(col), j) if n_bars > 1 else "#4c72b0",
               label=label, error_kw={"elinewidth": 1, "ecolor": "#333333"})
        if ref_frame is not None:
            rv = ref_frame[col].to_numpy(float)
            ok = ~np.isnan(rv)
            ax.scatter(pos[ok], rv[ok], marker="D", s=22, color=LOSS_COLORS["paper"], zorder=3,
                       label=reference_label if not marked and ok.any() else None)
            marked = marked or ok.any()
    if reference is not None and np.isscalar(reference):
        ax.axhline(float(reference), ls="--", color="#444444", lw=1, label=reference_label)
    ax.set_xticks(x, [str(i) for i in idx], rotation=0 if len(idx) < 6 else 30, ha="center" if len(idx) < 6 else "right")
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if ylim is not None:
        ax.set_ylim(*ylim)
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(frameon=True, fontsize=8)
    return fig, ax


# ----------------------------------------------------------- training curves
def training_curves(histories, *, metrics: Sequence[str] = ("loss",), ax=None, title: str | None = None):
    """Training (solid) and validation (dashed, ``val_`` keys) curves per epoch.

    ``histories``: a history dict (``{"loss": [...], "val_loss": [...]}``, e.g.
    Keras's ``History.history``), a list of them (folds: thin lines plus their
    mean), or ``{label: dict or list of dicts}``. One panel per metric.
    Returns ``(fig, axes)``.
    """
    def is_history(h):
        return isinstance(h, Mapping) and all(
            np.ndim(v) == 1 and not isinstance(next(iter(v), None), Mapping) for v in h.values())

    if is_history(histories):
        histories = {"model": histories}
    elif not isinstance(histories, Mapping):
        histories = {"model": list(histories)}
    fig, axes = _new(ax, ncols=len(metrics), figsize=(4.2 * len(metrics), 3.2))
    axes_list = list(np.atleast_1d(axes))
    for i, (label, runs) in enumerate(histories.items()):
        runs = [runs] if isinstance(runs, Mapping) else list(runs)
        color = color_for(label, i)
        for panel, metric in zip(axes_list, metrics):
            for key, style in ((metric, "-"), (f"val_{metric}", "--")):
                curves = [np.asarray(r[key], dtype=float) for r in runs if key in r]
                if not curves:
                    if key == metric:
                        raise ValueError(f"history {label!r} has no {metric!r}; keys: {sorted(runs[0])}")
                    continue
                length = min(len(c) for c in curves)  # early stopping: folds may stop at different epochs
                stack = np.array([c[:length] for c in curves])
                epochs = np.arange(1, length + 1)
                if len(curves) > 1:
                    for c in curves:
                        panel.plot(np.arange(1, len(c) + 1), c, style, color=color, lw=0.6, alpha=0.35)
                panel.plot(epochs, stack.mean(axis=0), style, color=color, lw=1.8,
                           label=f"{label} ({'validation' if key.startswith('val_') else 'training'})")
            panel.set(xlabel="epoch", ylabel=metric)
    for panel in axes_list:
        panel.legend(fontsize=8, frameon=True)
    if title:
        fig.suptitle(title)
    return fig, axes


# ------------------------------------------------------ reliability diagram
def expected_calibration_error(y_true, y_prob, n_bins: int = 10) -> float:
    """ECE with equal-width bins: sum over bins of (bin share) * |mean prob - positive rate|."""
    y = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_prob, dtype=float).ravel()
    bins = np.clip((p * n_bins).astype(int), 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            ece += inside.mean() * abs(p[inside].mean() - y[inside].mean())
    return float(ece)


def reliability_diagram(groups, *, n_bins: int = 10, strategy: str = "uniform", ax=None, title: str | None = None):
    """Observed positive rate against mean predicted probability, per bin.

    ``groups``: ``(y_true, y_prob)`` or ``{label: (y_true, y_prob)}`` (pool folds
    first). Uses scikit-learn's ``calibration_curve``; the legend gives the Brier
    score and the expected calibration error (equal-width bins). A perfectly
    calibrated model lies on the diagonal. Returns ``(fig, ax)``.
    """
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    if strategy not in ("uniform", "quantile"):
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    if not isinstance(groups, Mapping):
        groups = {"model": groups}
    fig, ax = _new(ax, figsize=(4.0, 3.8))
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1, label="perfect calibration")
    for i, (label, (y_true, y_prob)) in enumerate(groups.items()):
        y, p = _check_fold(y_true, y_prob, f"group {label!r}")
        frac, mean_p = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
        text = f"{label} (Brier {brier_score_loss(y, p):.3f}, ECE {expected_calibration_error(y, p, n_bins):.3f})"
        ax.plot(mean_p, frac, "o-", color=color_for(label, i), ms=4, lw=1.5, label=text)
    ax.set(xlabel="mean predicted probability", ylabel="observed positive rate", xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize=8, frameon=True, loc="upper left")
    if title:
        ax.set_title(title)
    return fig, ax
