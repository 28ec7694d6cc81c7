"""How the DIA verdicts move with the choices its paper fixed, and where their variance comes from.

Every grid here trains *variants* of the DIA chapter's fold models with
:func:`lossbook.studies.dia.run_arms`: the batched trainer on the chapter's own folds, every
fold model cached in ``dia-folds`` under a key that holds the variant, so an interrupted run
resumes where it stopped. A variant is a mapping of *factors* (:data:`FACTORS`) over the DIA
chapter's training parameters; the empty variant *is* the chapter's fold model, read back bit
for bit. A grid may use fewer repeats than the chapter: its folds are then the chapter's first
repeats (``RepeatedStratifiedKFold`` draws repeats in order from one seed).

* **Learning rate per loss** (:func:`select_by_validation`): for every outer fold, the rate whose
  *inner-validation* ROC-AUC (the split that chose the epoch count, inside the training fold)
  is highest, so the test fold never takes part in the choice. :func:`tuned_comparison` and
  :func:`contrast_changes` set the tuned Table 1 and its loss contrasts beside the default.
* **Focal α × γ** (:func:`cell_summary` over :func:`factorial` cells): each cell against the
  chapter's BCE network on the same folds.
* **The CNN + Dice collapse** (:func:`collapse_summary`): the share of fold models predicting a
  single class, with its Clopper-Pearson interval, per cell of two small factorial blocks.
* **Where the variance comes from** (:func:`variance_components`, :func:`repeats_needed`):
  several initialisations per fold, a nested (split, initialisation) decomposition.
* **The external test's refits** (:func:`refit_spread`): each refit's own ROC-AUC beside the
  averaged one, so the external score compares with single-model CV scores.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from lossbook.core.estimate import Estimate
from lossbook.core.inference import clopper_pearson_interval
from lossbook.core.metrics import roc_auc
from lossbook.core.seeding import derive_seed
from lossbook.nets.models import CNN_CHOICES
from lossbook.studies import dia
from lossbook.studies.robustness import direction

__all__ = [
    "FACTORS", "chapter_value", "variant_parameters", "factorial", "variant_runs", "select_by_validation",
    "tuned_comparison", "contrast_changes", "chosen_shares", "cell_summary", "grid_finding", "collapse_summary",
    "collapse_finding", "collapse_by_smote", "variance_components", "repeats_needed", "refit_spread",
    "factor_label", "FACTOR_WORDS", "tuning_evidence", "level_contrast", "tuned_table", "contrast_table", "cells_table", "collapse_table",
    "collapse_matrices", "difference_matrices", "grid_matrix", "variance_table", "repeats_words",
    "records", "ledger_evidence", "level", "level_text", "cell_mask", "COLLAPSE_ARMS",
]

#: Where each factor lives in the DIA parameters: a top-level name, or (key, owner, option) of
#: :data:`lossbook.studies.dia.VARIANT_KEYS` (``owner`` is the loss or network it changes).
FACTORS = {
    "learning_rate": ("learning_rate",),
    "alpha": ("loss_params", "focal", "alpha"),
    "gamma": ("loss_params", "focal", "gamma"),
    "dice_eps": ("loss_params", "dice", "eps"),
    "pool_size": ("network_options", "cnn", "pool_size"),
    "dense_units": ("network_options", "cnn", "dense_units"),
    "init": ("init_replicate",),
    "smote": ("smote",),
}

#: The chapter's value of each factor that is a top-level variant key (absent from its parameters).
_VARIANT_DEFAULTS = {"init_replicate": 0, "smote": True}

#: How the page names each factor.
FACTOR_WORDS = {"learning_rate": "learning rate", "alpha": "α", "gamma": "γ", "dice_eps": "Dice ε",
                "pool_size": "pool size", "dense_units": "dense width", "init": "initialisation",
                "smote": "SMOTE"}

_KEYS = ["model", "loss", "repeat", "fold"]

#: The arms the collapse map trains, and how the page names them. Leak-free, the inner model
#: (fit on the training fold less its validation rows) is mapped: the refit would double the
#: cost of the dearest network and adds nothing to whether the network collapses.
COLLAPSE_ARMS = {"leak_free_no_refit": "leak-free", "leaky": "leaky"}


def chapter_value(name: str, p: Mapping):
    """The value the DIA chapter uses for factor ``name`` (its parameters ``p`` for the learning rate)."""
    where, *path = FACTORS[name]
    if where == "learning_rate":
        return p["learning_rate"]
    if where in _VARIANT_DEFAULTS:
        return _VARIANT_DEFAULTS[where]
    owner, option = path
    return dia.LOSS_PARAMS[owner][option] if where == "loss_params" else CNN_CHOICES[option]


def level(value):
    """A factor level as the grids compare it: ``None`` for "not set" however a frame stores it (None or NaN)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def level_text(value) -> str:
    """A level in words: ``"none"``, ``"0.25"``, ``"1e-06"``, ``"4"``."""
    value = level(value)
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def factor_label(name: str, value) -> str:
    """``"α = none"``, ``"pool size = 4"``: one factor level in words."""
    return f"{FACTOR_WORDS.get(name, name)} = {level_text(value)}"


def cell_mask(frame: pd.DataFrame, cell: Mapping) -> np.ndarray:
    """Rows of ``frame`` whose factor columns hold the levels of ``cell`` (``{factor: level}``)."""
    # compared value by value: pandas would turn a None that a mapping returns back into NaN
    return np.logical_and.reduce([np.array([level(v) == level(want) for v in frame[name]], dtype=bool)
                                  for name, want in cell.items()] + [np.ones(len(frame), dtype=bool)])


def variant_parameters(p: Mapping, factors: Mapping, *, n_repeats: int | None = None) -> dict:
    """The DIA parameters ``p`` with the variant ``factors`` set (:data:`FACTORS`) and, when given,
    the grid's ``n_repeats`` (at most the chapter's). Raises ``ValueError`` naming an unknown factor."""
    unknown = sorted(set(factors) - set(FACTORS))
    if unknown:
        raise ValueError(f"unknown factor(s) {unknown}; the factors are {sorted(FACTORS)}")
    q = {**p, "loss_params": {}, "network_options": {}}
    for name, value in factors.items():
        where, *path = FACTORS[name]
        if path:
            owner, option = path
            q[where].setdefault(owner, {})[option] = value
        else:
            q[where] = value
    if n_repeats is not None:
        if not 1 <= n_repeats <= p["n_repeats"]:
            raise ValueError(f"n_repeats must lie in [1, {p['n_repeats']}] (the DIA chapter's repeats), got {n_repeats}")
        q["n_repeats"] = n_repeats
    return q


def factorial(**levels: Sequence) -> list[dict]:
    """Every combination of the factor levels, first factor slowest: ``factorial(alpha=[.25, .5], gamma=[0, 2])``."""
    names = list(levels)
    return [dict(zip(names, values)) for values in itertools.product(*levels.values())]


def variant_runs(X, y, p: Mapping, variants: Sequence[Mapping], *, models, losses, data_sha256: str,
                 arms: Sequence[str] = ("leak_free",), n_repeats: int | None = None, progress=None) -> pd.DataFrame:
    """Train (or read back) every fold model of every variant; one row per fold model.

    ``variants``: factor mappings (:data:`FACTORS`); ``arms``: names of
    :data:`lossbook.studies.dia.ARMS`. Columns: those of :func:`lossbook.studies.dia.run_arms`,
    ``arm``, and one column per factor any variant sets, holding the chapter's value
    (:func:`chapter_value`) where a variant leaves it. ``progress`` is called with 1 per variant
    and (model, loss): ``len(variants) * len(models) * len(losses)`` calls in all.
    """
    names = list(dict.fromkeys(name for factors in variants for name in factors))
    frames = []
    for factors in variants:
        q = variant_parameters(p, factors, n_repeats=n_repeats)
        levels = {name: factors.get(name, chapter_value(name, p)) for name in names}
        for arm, frame in dia.run_arms(X, y, q, list(arms), data_sha256=data_sha256, models=models,
                                       losses=losses, progress=progress).items():
            frames.append(frame.assign(arm=arm, **{name: [value] * len(frame) for name, value in levels.items()}))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- learning rate per loss


def select_by_validation(frame: pd.DataFrame, factor: str = "learning_rate", *, prefer=None) -> pd.DataFrame:
    """Per (model, loss, repeat, fold): the row whose inner-validation ROC-AUC (``best_val_auc``) is highest.

    ``frame``: :func:`variant_runs` over levels of ``factor``, leak-free arm. The inner split lies
    inside the training fold, so the choice never sees the test fold. Ties (a network whose
    validation AUC does not move, e.g. one that predicts a constant) go to ``prefer`` (the
    chapter's level), then to the level listed first. Returns the chosen rows, same columns.
    """
    levels = list(dict.fromkeys(frame[factor]))
    ranked = frame.assign(_val=frame["best_val_auc"].astype(float).fillna(-np.inf),
                          _rank=[(level != prefer, levels.index(level)) for level in frame[factor]])
    ranked = ranked.sort_values("_rank", kind="mergesort").sort_values("_val", ascending=False, kind="mergesort")
    chosen = ranked.groupby(_KEYS, sort=False).head(1).drop(columns=["_val", "_rank"])
    return chosen.sort_values(_KEYS, kind="mergesort").reset_index(drop=True)


def tuned_comparison(default: pd.DataFrame, tuned: pd.DataFrame, metrics: Sequence[str] = ("roc_auc", "f1")) -> dict:
    """Per ``"model+loss"`` and metric: ``default`` and ``tuned`` fold means and ``tuned_minus_default``
    (paired per fold), each an :class:`~lossbook.core.estimate.Estimate` with the corrected resampled t-interval."""
    n_train, n_test = dia._sizes(default)
    out = {}
    for (model, loss), _ in default.groupby(["model", "loss"], sort=False):
        entry = {}
        for metric in metrics:
            a, b = dia._fold_scores(default, model, loss, metric), dia._fold_scores(tuned, model, loss, metric)
            entry[metric] = {"default": dia.mean_estimate(a, n_train=n_train, n_test=n_test),
                             "tuned": dia.mean_estimate(b, n_train=n_train, n_test=n_test),
                             "tuned_minus_default": dia.paired_estimate(a, b, n_train=n_train, n_test=n_test)[0]}
        out[f"{model}+{loss}"] = entry
    return out


def chosen_shares(tuned: pd.DataFrame, factor: str = "learning_rate") -> pd.DataFrame:
    """Rows ``"model+loss"``, columns the levels of ``factor``: the share of outer folds that chose each."""
    counts = tuned.assign(config=tuned["model"] + "+" + tuned["loss"]).groupby(["config", factor], sort=False).size()
    shares = counts.unstack(factor, fill_value=0)
    shares = shares.div(shares.sum(axis=1), axis=0)
    return shares[sorted(shares.columns)]


def _direction(estimate: Estimate) -> str:
    """"above", "below" or "not clearly different": where the interval lies (:func:`robustness.direction`)."""
    return direction(estimate, above="above", below="below", neither="not clearly different")


def contrast_changes(default: pd.DataFrame, tuned: pd.DataFrame, *, reference: str = "focal",
                     metrics: Sequence[str] = ("roc_auc", "f1")) -> dict:
    """Does tuning change a verdict? ``reference`` loss minus each other loss, per network and metric,
    paired per fold (corrected t), at the chapter's learning rate and tuned.

    Returns ``{"contrasts": {"model|other|metric": {"default", "tuned" (Estimates), "default_word",
    "tuned_word"}}, "n": ..., "n_changed": ..., "changed": [keys whose direction word differs]}``;
    a direction is "above" or "below" when the whole interval lies on one side of zero.
    """
    n_train, n_test = dia._sizes(default)
    contrasts = {}
    for model in dict.fromkeys(default["model"]):
        ran = set(default.loc[default.model == model, "loss"])
        if reference not in ran:
            continue
        for other in [loss for loss in dia.LOSSES if loss in ran and loss != reference]:
            for metric in metrics:
                entry = {}
                for name, frame in (("default", default), ("tuned", tuned)):
                    entry[name] = dia.paired_estimate(dia._fold_scores(frame, model, other, metric),
                                                      dia._fold_scores(frame, model, reference, metric),
                                                      n_train=n_train, n_test=n_test)[0]
                    entry[f"{name}_word"] = _direction(entry[name])
                contrasts[f"{model}|{other}|{metric}"] = entry
    changed = [key for key, entry in contrasts.items() if entry["default_word"] != entry["tuned_word"]]
    return {"contrasts": contrasts, "n": len(contrasts), "n_changed": len(changed), "changed": changed}


# --------------------------------------------------------------------------- grids of cells


def cell_summary(frame: pd.DataFrame, factors: Sequence[str], reference: pd.DataFrame,
                 metrics: Sequence[str] = ("roc_auc", "f1", "recall")) -> pd.DataFrame:
    """One row per cell (combination of ``factors`` levels, in the frame's order): per metric, the
    fold mean (``<metric>``) and the cell minus ``reference`` paired per fold (``<metric>_vs_ref``),
    Estimates with the corrected resampled t-interval.

    ``frame``: :func:`variant_runs` of one (model, loss) over the cells; ``reference``: one
    (model, loss) on the same folds (e.g. the chapter's BCE network).
    """
    n_train, n_test = dia._sizes(reference)
    ref = {m: reference.set_index(["repeat", "fold"])[m].astype(float).sort_index() for m in metrics}
    rows = []
    cells = list(dict.fromkeys(tuple(map(level, row)) for row in frame[list(factors)].itertuples(index=False)))
    for cell in cells:
        scores = frame[cell_mask(frame, dict(zip(factors, cell)))].set_index(["repeat", "fold"]).sort_index()
        row = dict(zip(factors, cell))
        for m in metrics:
            row[m] = dia.mean_estimate(scores[m].astype(float), n_train=n_train, n_test=n_test)
            row[f"{m}_vs_ref"] = dia.paired_estimate(ref[m], scores[m].astype(float), n_train=n_train,
                                                     n_test=n_test)[0]
        rows.append(row)
    return pd.DataFrame(rows)


def grid_finding(estimates: Sequence[Estimate], *, over: str) -> dict:
    """How many of a grid's paired estimates lie wholly above zero, wholly below, or neither, and the
    words for the ledger: ``"holds across <over>"`` when every one lies above zero, ``"depends on
    <over>"`` when some do, ``"not clearly above zero at any <over>"`` when none does."""
    words = [_direction(e) for e in estimates]
    n_above, n_below = words.count("above"), words.count("below")
    if not words:
        raise ValueError("no estimates to judge")
    finding = (f"holds across {over}" if n_above == len(words) else
               f"depends on {over}" if n_above else f"not clearly above zero at any {over}")
    return {"n": len(words), "n_above": n_above, "n_below": n_below, "finding": finding}


def collapse_summary(frame: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """Per arm and cell: the share of fold models predicting a single class (``collapse``, an Estimate
    with its Clopper-Pearson interval), the number of folds, and the cell's mean ROC-AUC."""
    rows = []
    for keys, g in frame.groupby(["arm", *factors], sort=False, dropna=False):
        rows.append({"arm": keys[0], **dict(zip(factors, keys[1:])), "n_folds": len(g),
                     "collapse": clopper_pearson_interval(int(g["single_class"].sum()), len(g)),
                     "roc_auc": float(g["roc_auc"].mean())})
    return pd.DataFrame(rows)


def collapse_finding(*summaries: pd.DataFrame, over: str) -> dict:
    """Per arm, over the cells of every :func:`collapse_summary` given: the cells where most folds
    collapse (the interval lies above one half), where few do (below one half), and words:
    ``"holds across <over>"`` when most folds collapse in every cell, ``"depends on <over>"`` when
    some cells collapse and others do not, ``"absent across <over>"`` when none does, and
    ``"inconclusive over <over>"`` otherwise (cells whose interval straddles one half: too few folds)."""
    summary = pd.concat(summaries, ignore_index=True)
    out = {}
    for arm, g in summary.groupby("arm", sort=False):
        most = int(sum(e.ci_low > 0.5 for e in g["collapse"]))
        few = int(sum(e.ci_high < 0.5 for e in g["collapse"]))
        finding = (f"holds across {over}" if most == len(g) else f"absent across {over}" if few == len(g) else
                   f"depends on {over}" if most and few else f"inconclusive over {over}")
        out[arm] = {"n_cells": len(g), "n_most": most, "n_few": few, "finding": finding}
    return out


def collapse_by_smote(leak_free: pd.DataFrame, without: pd.DataFrame, *, model: str = "cnn",
                      loss: str = "dice") -> dict:
    """Whether ``model`` + ``loss`` collapses with and without SMOTE, on the same leak-free folds.

    ``leak_free``: the DIA chapter's leak-free frame (trained with SMOTE); ``without``:
    :func:`variant_runs` with ``{"smote": False}``, leak-free arm. Returns ``with_smote`` and
    ``without_smote`` (share of single-class fold models, Clopper-Pearson Estimates) and the
    :func:`collapse_finding` over the two (``"depends on SMOTE"`` when one collapses and the other
    clearly does not). Raises ``ValueError`` when a frame holds no fold model of the configuration.
    """
    both = pd.concat([leak_free.assign(arm="leak_free", smote=True), without.assign(arm="leak_free", smote=False)])
    both = both[(both["model"] == model) & (both["loss"] == loss)]
    summary = collapse_summary(both, ["smote"])
    if len(summary) != 2:
        raise ValueError(f"both frames need fold models of {model}+{loss}, found them with smote in "
                         f"{sorted(summary['smote'].tolist())}")
    shares = dict(zip(summary["smote"], summary["collapse"]))
    return {"with_smote": shares[True], "without_smote": shares[False],
            "finding": collapse_finding(summary, over="SMOTE")["leak_free"]["finding"]}


# --------------------------------------------------------------------------- variance


def _nested(values: np.ndarray) -> tuple[float, float]:
    """(between-split, within-split) variance of a (splits, initialisations) array: the within part
    is the mean of each split's variance over initialisations, the between part the variance of the
    split means minus what the initialisations leave in them (at least zero)."""
    within = float(np.mean(np.var(values, axis=1, ddof=1)))
    between = float(np.var(values.mean(axis=1), ddof=1)) - within / values.shape[1]
    return max(between, 0.0), within


def _percentile_estimate(point: float, sample: np.ndarray, n: int) -> Estimate:
    """``point`` with the 95 % percentile interval of its bootstrap ``sample`` (widened to hold the point)."""
    lo, hi = np.nanpercentile(sample, [2.5, 97.5])
    return Estimate(point, float(min(lo, point)), float(max(hi, point)), n=n, method="bootstrap")


def variance_components(frame: pd.DataFrame, metric: str = "roc_auc", *, contrast: tuple[str, str] | None = None,
                        n_boot: int = 2000, seed: int = 0) -> dict:
    """Split and initialisation variance of ``metric``, per (model, loss) of ``frame`` and, with
    ``contrast=(a, b)``, of the per-fold difference ``b - a`` (same network, same initialisation
    index; named ``"<model>+<b>−<a>"``).

    ``frame``: :func:`variant_runs` over ``init`` levels (every split trained with each
    initialisation). Returns ``{name: {"sd_split", "sd_init", "share_init"}}``, Estimates whose
    interval resamples the splits (percentile bootstrap, ``n_boot``); splits of one repeat share
    rows, so the interval is rough. Also ``"n_splits"`` and ``"n_inits"``.
    """
    tables = {}
    for (model, loss), g in frame.groupby(["model", "loss"], sort=False):
        tables[f"{model}+{loss}"] = g.pivot_table(index=["repeat", "fold"], columns="init", values=metric)
    if contrast is not None:
        a, b = contrast
        for model in dict.fromkeys(frame["model"]):
            if f"{model}+{a}" in tables and f"{model}+{b}" in tables:
                tables[f"{model}+{b}−{a}"] = tables[f"{model}+{b}"] - tables[f"{model}+{a}"]
    rng = np.random.default_rng(derive_seed("variance-components", seed))
    out = {}
    for name, table in tables.items():
        values = table.to_numpy(dtype=float)
        if values.shape[1] < 2 or values.shape[0] < 2:
            raise ValueError(f"{name}: the decomposition needs at least two splits and two initialisations per "
                             f"split, got {values.shape[0]} x {values.shape[1]}")
        between, within = _nested(values)
        draws = np.array([_nested(values[rng.integers(0, len(values), len(values))]) for _ in range(n_boot)])
        share = within / (within + between) if within + between > 0 else float("nan")
        shares = draws[:, 1] / np.where(draws.sum(axis=1) > 0, draws.sum(axis=1), np.nan)
        out[name] = {"sd_split": _percentile_estimate(math.sqrt(between), np.sqrt(draws[:, 0]), len(values)),
                     "sd_init": _percentile_estimate(math.sqrt(within), np.sqrt(draws[:, 1]), len(values)),
                     "share_init": _percentile_estimate(share, shares, len(values)),
                     "variance_split": between, "variance_init": within}
    return {"components": out, "n_splits": int(values.shape[0]), "n_inits": int(values.shape[1])}


def repeats_needed(variance_split: float, variance_init: float, *, difference: float, n_splits: int,
                   n_train: int, n_test: int, n_inits: int = 1, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Repeats of ``n_splits``-fold CV for the corrected resampled t-test to detect a paired ``difference``.

    The per-fold difference has variance ``variance_split + variance_init / n_inits`` (each fold
    model's initialisations averaged); the corrected test's variance of the mean over ``J`` folds
    is that times ``1/J + n_test/n_train`` (Nadeau and Bengio). With the normal approximation, the
    test has ``power`` at level ``alpha`` (two-sided) when ``difference / sd`` reaches
    ``z(1 - alpha/2) + z(power)``. Returns the fewest repeats, or ``None`` when no number of repeats
    is enough: the ``n_test/n_train`` term does not shrink with more repeats.
    """
    from scipy.stats import norm

    variance = variance_split + variance_init / n_inits
    if variance <= 0:
        return 1
    room = (difference / (norm.ppf(1 - alpha / 2) + norm.ppf(power))) ** 2 / variance - n_test / n_train
    if room <= 0:
        return None
    return max(1, math.ceil(math.ceil(1 / room) / n_splits))


# --------------------------------------------------------------------------- external test


def refit_spread(X, y, X_ext, y_ext, p: Mapping, configs, *, data_sha256: str) -> dict:
    """Per ``"model+loss"`` of ``configs``: the external ROC-AUC of the DIA chapter's averaged refits
    (``averaged``) and of each refit alone (``single``: list; ``single_mean``, ``single_sd``,
    ``single_min``, ``single_max``), from the same cached fits (:func:`lossbook.studies.dia.external_test`)."""
    fits = dia.external_test(X, y, X_ext, p, configs, data_sha256=data_sha256, n_refits=p["n_refits"], average=False)
    y_ext = np.asarray(y_ext)
    out = {}
    for (model, loss), probabilities in fits.items():
        single = [float(roc_auc(y_ext, prob)) for prob in probabilities]
        out[f"{model}+{loss}"] = {"averaged": float(roc_auc(y_ext, probabilities.mean(axis=0))), "single": single,
                                  "single_mean": float(np.mean(single)),
                                  "single_sd": float(np.std(single, ddof=1)) if len(single) > 1 else float("nan"),
                                  "single_min": float(min(single)), "single_max": float(max(single))}
    return out


# --------------------------------------------------------------------------- for the page


def grid_matrix(summary: pd.DataFrame, rows: str, columns: str, value) -> pd.DataFrame:
    """A heat map's matrix: levels of ``rows`` down, of ``columns`` across, cells ``value(row)`` of
    ``summary`` (one row per cell); level order as in ``summary``; the axes named in words."""
    out = {}
    for _, row in summary.iterrows():
        out.setdefault(level_text(row[columns]), {})[level_text(row[rows])] = value(row)
    matrix = pd.DataFrame(out)
    matrix.index.name, matrix.columns.name = FACTOR_WORDS.get(rows, rows), FACTOR_WORDS.get(columns, columns)
    return matrix


#: How the page and the ledger say where an interval lies.
DIRECTION_WORDS = {"above": "above zero", "below": "below zero", "not clearly different": "not clearly different from zero"}


def _signed(estimate: Estimate, decimals: int = 3) -> str:
    return (f"{estimate.estimate:+.{decimals}f} [{estimate.ci_low:+.{decimals}f}, {estimate.ci_high:+.{decimals}f}]"
            .replace("-", "−"))


def tuning_evidence(entry: Mapping) -> str:
    """The ledger's words for one contrast of :func:`contrast_changes`: whether tuning each loss's
    learning rate changes where its interval lies, and the tuned difference."""
    same = entry["default_word"] == entry["tuned_word"]
    return (f"{'unchanged' if same else 'changed'} with each loss's learning rate tuned: "
            f"{_signed(entry['tuned'])}, {DIRECTION_WORDS[entry['tuned_word']]}")


def level_contrast(frame: pd.DataFrame, factors: Mapping, other: Mapping, metric: str) -> Estimate:
    """``metric`` of the cell ``other`` minus that of the cell ``factors`` of one :func:`variant_runs`
    frame (one model and loss), paired per fold (corrected t)."""
    def scores(cell):
        return frame[cell_mask(frame, cell)].set_index(["repeat", "fold"])[metric].astype(float).sort_index()

    n_train, n_test = dia._sizes(frame)
    return dia.paired_estimate(scores(factors), scores(other), n_train=n_train, n_test=n_test)[0]


def tuned_table(tuned: Mapping, metric: str) -> pd.DataFrame:
    """Rows: configurations in words; columns ``default``, ``tuned``, ``tuned_minus_default`` (Estimates)
    of :func:`tuned_comparison` for ``metric``."""
    from lossbook.core.plots import config_label

    return pd.DataFrame({config_label(config): entry[metric] for config, entry in tuned.items()}).T


def contrast_table(changes: Mapping) -> pd.DataFrame:
    """Rows: one contrast of :func:`contrast_changes` in words (``"MLP: focal − BCE, ROC-AUC"``);
    columns ``default`` and ``tuned`` (Estimates)."""
    from lossbook.core.plots import config_label

    metric_words = {"roc_auc": "ROC-AUC", "f1": "F1"}
    rows = {}
    for key, entry in changes["contrasts"].items():
        model, other, metric = key.split("|")
        rows[f"{config_label(model)}: focal − {config_label(other)}, {metric_words.get(metric, metric)}"] = {
            "default": entry["default"], "tuned": entry["tuned"]}
    return pd.DataFrame(rows).T


def cells_table(cells: pd.DataFrame, factors: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """Rows: the cells of :func:`cell_summary`, their levels in ``factors`` order (``"none, 2"``); the
    given columns. The index is named by the factors (``"α, γ"``)."""
    index = pd.Index([", ".join(level_text(row[name]) for name in factors) for _, row in cells.iterrows()],
                     name=", ".join(FACTOR_WORDS.get(name, name) for name in factors))
    return pd.DataFrame(cells[list(columns)].to_numpy(), index=index, columns=list(columns))


def collapse_table(summary: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """Rows: cells in words; one column per arm: ``"k of n"`` folds single-class and the Clopper-Pearson interval."""
    out = {}
    for _, row in summary.iterrows():
        cell = ", ".join(factor_label(name, row[name]) for name in factors)
        e = row["collapse"]
        out.setdefault(COLLAPSE_ARMS.get(row["arm"], row["arm"]), {})[cell] = (
            f"{round(e.estimate * row['n_folds'])} of {row['n_folds']} ({e.ci_low:.2f}–{e.ci_high:.2f})")
    return pd.DataFrame(out)


def collapse_matrices(summary: pd.DataFrame, rows: str, columns: str, arm: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(shares, notes)`` of one arm of :func:`collapse_summary` for :func:`lossbook.core.plots.heat_panels`: the
    single-class share per cell and its ``"k/n"`` text."""
    part = summary[summary["arm"] == arm]
    shares = grid_matrix(part, rows, columns, lambda row: row["collapse"].estimate)
    notes = grid_matrix(part, rows, columns, lambda row: f"{round(row['collapse'].estimate * row['n_folds'])}/{row['n_folds']}")
    return shares, notes


def difference_matrices(cells: pd.DataFrame, rows: str, columns: str, column: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(estimates, notes)`` of one ``<metric>_vs_ref`` column of :func:`cell_summary` for
    :func:`lossbook.core.plots.heat_panels`; a note is the estimate, starred when its interval excludes zero."""
    values = grid_matrix(cells, rows, columns, lambda row: row[column].estimate)
    def note(row):
        text = f"{row[column].estimate:+.2f}"
        text = "0.00" if float(text) == 0 else text.replace("-", "−")  # no signed zero on the page
        return text + ("*" if _direction(row[column]) != "not clearly different" else "")

    notes = grid_matrix(cells, rows, columns, note)
    return values, notes


def variance_table(variance: Mapping) -> pd.DataFrame:
    """Rows: what was decomposed, in words; columns: SD between splits, SD between initialisations,
    share of the variance from initialisation (Estimates)."""
    from lossbook.core.plots import config_label, label

    def words(name):
        model, losses = name.split("+")
        return config_label(name) if "−" not in losses else f"{config_label(model)}: " + " − ".join(
            label(loss) for loss in losses.split("−"))

    return pd.DataFrame({words(name): {k: parts[k] for k in ("sd_split", "sd_init", "share_init")}
                         for name, parts in variance["components"].items()}).T


def repeats_words(repeats: int | None) -> str:
    """:func:`repeats_needed` in words: the number, or that none suffices."""
    return "none: no number of repeats suffices" if repeats is None else str(repeats)


def records(frame: pd.DataFrame) -> list[dict]:
    """A summary frame as the results file holds it: one mapping per row."""
    return frame.to_dict(orient="records")


def _share(estimate: Estimate) -> str:
    return f"{estimate.estimate:.2f} [{estimate.ci_low:.2f}, {estimate.ci_high:.2f}]"


def ledger_evidence(changes: Mapping, focal_finding: Mapping, collapse_found: Mapping, spread: Mapping,
                    smote_collapse: Mapping) -> dict:
    """The lines this analysis adds to the claims ledger, in words decided from the intervals:
    ``tuning_f1`` (MLP focal − BCE F1 with tuned rates), ``focal_grid`` (focal − BCE F1 over α and
    γ), ``collapse`` (CNN + Dice, leak-free, over its cells), ``collapse_smote`` (the same with and
    without SMOTE, :func:`collapse_by_smote`) and ``external_refits``."""
    focal = focal_finding
    leak_free = collapse_found["leak_free_no_refit"]
    n_refits = len(spread["single"])
    return {
        "tuning_f1": tuning_evidence(changes["contrasts"]["mlp|bce|f1"]),
        "focal_grid": (f"{focal['finding']}: F1 clearly above BCE's in {focal['n_above']} of {focal['n']} (α, γ) "
                       f"cells, clearly below in {focal['n_below']}"),
        "collapse": (f"{leak_free['finding']}: most folds single-class in {leak_free['n_most']} of "
                     f"{leak_free['n_cells']} cells, few in {leak_free['n_few']} (leak-free)"),
        "collapse_smote": (f"{smote_collapse['finding']}: share of single-class folds "
                           f"{_share(smote_collapse['with_smote'])} with SMOTE, "
                           f"{_share(smote_collapse['without_smote'])} without (leak-free)"),
        "external_refits": (f"one refit alone scores {spread['single_min']:.3f} to {spread['single_max']:.3f} "
                            f"(averaged over {n_refits} refit{'s' * (n_refits != 1)}: {spread['averaged']:.3f})"),
    }
