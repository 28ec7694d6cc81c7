"""How robust are the verdicts? Calibration and prior shift (DIA), training length (synthetic).

Two re-examinations of what other chapters measured:

* **DIA calibration.** The leak-free DIA networks are trained on SMOTE-balanced
  folds (a positive share of :data:`SMOTE_PRIOR`) and scored on test folds at the
  real share. :func:`calibration_frame` scores every fold model's predictions, read
  from :func:`lossbook.studies.dia.main_grid` (so they are the DIA chapter's own fold
  models, bit for bit), for calibration: expected calibration error (ECE, equal-width
  bins) and Brier score, before and after the standard prior-shift correction
  (:func:`prior_shift`) from the training prior :data:`SMOTE_PRIOR` to the positive
  share of the fold's *training* rows (never its test rows). :func:`calibration_summary`
  and :func:`loss_differences` summarise them over folds with the corrected resampled
  t-interval the DIA chapter uses; :func:`smote_differences` pairs them with the same
  networks trained on the same folds without SMOTE.
* **Synthetic training length.** The tutorial trains for 30 full-batch steps.
  :func:`training_length_runs` re-trains its BCE and focal networks for several
  lengths over seeds and dataset draws (with the functions of
  :mod:`lossbook.studies.synthetic`), scoring minority examples found at threshold
  0.5 and at a threshold chosen on held-out training rows for each loss alike;
  :func:`length_differences` pairs focal against BCE and :func:`length_finding` says
  whether focal's advantage at 0.5 holds at every length.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from lossbook.core import params as checks
from lossbook.core import validate
from lossbook.core.estimate import Estimate
from lossbook.core.metrics import expected_calibration_error
from lossbook.core.params import Interval, ListOf, SubsetOf
from lossbook.studies import dia
from lossbook.studies import synthetic as syn

__all__ = [
    "DIA_TRAINING", "CONSTRAINTS", "SMOTE_PRIOR", "check_parameters", "prior_shift", "training_priors",
    "calibration_frame", "calibration_summary", "loss_differences", "SMOTE_COLUMNS", "smote_differences",
    "config_table", "pooled", "reliability_figure", "training_length_runs",
    "length_differences", "length_finding", "length_table", "difference_frame", "direction", "HOLDS", "DEPENDS",
    "RULES",
]

#: The DIA chapter's training parameters (same names, same defaults, same constraints): with them,
#: :func:`lossbook.studies.dia.main_grid` reads the DIA chapter's own fold models from the cache.
DIA_TRAINING = ("n_splits", "n_repeats", "max_epochs", "patience", "batch_size", "learning_rate", "val_fraction",
                "pos_class_weight", "label_smoothing", "seed", "models", "losses", "variant_models", "n_refits")

#: The grids of :mod:`lossbook.studies.sensitivity` whose repeats may be fewer than the chapter's
#: (``None``: all of them).
GRID_REPEATS = ("tune_repeats", "focal_repeats", "collapse_repeats", "variance_repeats")

#: The chapter's parameters as data (defaults: the notebook's parameters cell).
CONSTRAINTS = {
    **{name: dia.CONSTRAINTS[name] for name in DIA_TRAINING},
    "learning_rates": ListOf(Interval(float, 0, 1, closed="right")),
    "tune_models": SubsetOf(dia.MODELS),
    "focal_alphas": ListOf(Interval(float, 0, 1), allow_none_items=True),
    "focal_gammas": ListOf(Interval(float, 0, 10)),
    "collapse_pool_sizes": ListOf(Interval(int, 1, 16)),
    "collapse_dense_units": ListOf(Interval(int, 1, 1024)),
    "collapse_dice_eps": ListOf(Interval(float, 0, 10, closed="right")),
    "collapse_learning_rates": ListOf(Interval(float, 0, 1, closed="right")),
    "n_inits": Interval(int, 2, 20),
    "min_difference": Interval(float, 0, 1, closed="neither"),
    **{name: [None, Interval(int, 1, None)] for name in GRID_REPEATS},  # None: all of n_repeats
    "n_bins": Interval(int, 2, 50),
    "train_steps": ListOf(Interval(int, 1, 5000)),
    "n_seeds": Interval(int, 1, 1000),
    "n_draws": Interval(int, 1, 100),
    "syn_val_fraction": Interval(float, 0.05, 0.5),
    "n_boot": Interval(int, 100, 100_000),
    "n_threads": Interval(int, 1, 256),
}

#: The positive share SMOTE gives every leak-free DIA training fold (imblearn's default
#: ``sampling_strategy="auto"`` oversamples the minority to the majority's count).
SMOTE_PRIOR = 0.5

#: The two findings :func:`length_finding` can give.
HOLDS = "holds across training lengths"
DEPENDS = "depends on training length"
#: The threshold rules of :func:`training_length_runs`.
RULES = ("at_half", "validation")


def check_parameters(**params) -> tuple[dict, dict]:
    """Validate the chapter's parameters before any training.

    Returns ``(parameters, dia_parameters)``: the chapter's own, with defaults filled from
    its parameters cell, and the DIA training parameters checked by
    :func:`lossbook.studies.dia.check_parameters` (the rest of the DIA chapter's parameters,
    which do not change a fold model, take that chapter's defaults). Raises ``ValueError``
    naming the parameter.
    """
    p = checks.with_defaults("robustness", params, CONSTRAINTS)
    dia_p = dia.check_parameters(**{name: p[name] for name in DIA_TRAINING})
    if not {"mlp", "cnn"} <= set(dia_p["models"]) or set(dia_p["losses"]) != set(dia.LOSSES):
        raise ValueError(f"models {dia_p['models']} and losses {dia_p['losses']}: the chapter needs 'mlp' and 'cnn' "
                         f"in models and every loss {list(dia.LOSSES)} (its MLP reliability diagrams, the CNN + Dice "
                         "collapse with and without SMOTE, and its loss comparisons)")
    for name in GRID_REPEATS:
        p[name] = dia_p["n_repeats"] if p[name] is None else p[name]
        if p[name] > dia_p["n_repeats"]:
            raise ValueError(f"{name} must be at most n_repeats ({dia_p['n_repeats']}): a grid's folds are the "
                             f"DIA chapter's first repeats, got {p[name]}")
    if dia_p["learning_rate"] not in p["learning_rates"]:
        raise ValueError(f"learning_rates {p['learning_rates']} must include learning_rate ({dia_p['learning_rate']}), "
                         "the DIA chapter's rate that tuning is compared with")
    p["tune_models"] = [m for m in dia.MODELS if m in checks.subset("tune_models", p["tune_models"], dia.MODELS)]
    steps = list(p["train_steps"])
    if len(set(steps)) != len(steps) or steps != sorted(steps) or len(steps) < 2:
        raise ValueError(f"train_steps must hold at least two distinct lengths in increasing order, got {steps!r}")
    return p, dia_p


# --------------------------------------------------------------------------- DIA: calibration


def prior_shift(y_prob, *, target_prior: float, source_prior: float = SMOTE_PRIOR) -> np.ndarray:
    """Probabilities of a model trained at positive share ``source_prior``, moved to ``target_prior``.

    ``p' = a p / (a p + b (1 - p))`` with ``a = target / source`` and
    ``b = (1 - target) / (1 - source)`` (Bayes' rule with the class-conditional
    densities unchanged; Saerens et al., 2002). ``y_prob``: array (n,) in [0, 1];
    returns float64 (n,). Equal priors return the probabilities unchanged.
    """
    p = validate.probabilities(y_prob, "y_prob")
    for name, prior in (("target_prior", target_prior), ("source_prior", source_prior)):
        if not (isinstance(prior, (int, float)) and 0 < prior < 1):
            raise ValueError(f"{name} must lie strictly between 0 and 1, got {prior!r}")
    a = target_prior / source_prior
    b = (1 - target_prior) / (1 - source_prior)
    return a * p / (a * p + b * (1 - p))


def training_priors(y, p: Mapping) -> pd.Series:
    """Positive share of each leak-free fold's *training* rows, indexed by (repeat, fold).

    The folds are :func:`lossbook.studies.dia.cv_splits` with the DIA parameters ``p``
    (``n_splits``, ``n_repeats``, ``seed``): the folds of the leak-free arm.
    """
    y = np.asarray(y)
    specs = dia.cv_splits(y, p["n_splits"], p["n_repeats"], p["seed"])
    return pd.Series({(s.repeat, s.fold): float(y[s.train].mean()) for s in specs}, name="train_prior").rename_axis(
        ["repeat", "fold"])


def calibration_frame(leak_free: pd.DataFrame, y, p: Mapping, *, n_bins: int = 10, smote: bool = True) -> pd.DataFrame:
    """Calibration of every fold model of the leak-free arm, before and after the prior-shift correction.

    ``leak_free``: the ``"leak_free"`` frame of :func:`lossbook.studies.dia.main_grid`
    (columns model, loss, repeat, fold, n_train, n_test, y_true, y_prob); ``y``: the
    labels of the drugs it was cross-validated on; ``p``: its DIA parameters.
    Each fold's target prior is the positive share of its training rows
    (:func:`training_priors`); the test fold's labels are checked to be ``y`` of the
    fold's test rows and are used only for scoring.

    ``smote=False``: the fold models were trained without oversampling
    (:func:`lossbook.studies.sensitivity.variant_runs` with ``{"smote": False}``), at their
    training rows' own share, so there is no prior to correct: "corrected" equals "as predicted".

    Returns one row per fold model: model, loss, repeat, fold, n_train, n_test,
    train_prior, ``ece`` and ``brier`` (as predicted), ``ece_corrected`` and
    ``brier_corrected`` (after :func:`prior_shift`), ``roc_auc`` and ``f1`` (at 0.5, from
    ``leak_free``), and the objects ``y_true``, ``y_prob`` and ``y_prob_corrected``.
    """
    y = np.asarray(y)
    priors = training_priors(y, p)
    tests = {(s.repeat, s.fold): s.test for s in dia.cv_splits(y, p["n_splits"], p["n_repeats"], p["seed"])}
    rows = []
    for row in leak_free.itertuples(index=False):
        key = (row.repeat, row.fold)
        y_true = np.asarray(row.y_true)
        if key not in tests or not np.array_equal(y_true, y[tests[key]]):
            raise ValueError(f"fold {key} of {row.model}+{row.loss}: its test labels are not the leak-free fold's "
                             "(were the frame and the parameters made together?)")
        corrected = (prior_shift(row.y_prob, target_prior=priors[key]) if smote
                     else np.asarray(row.y_prob, dtype=float))
        rows.append({"model": row.model, "loss": row.loss, "repeat": row.repeat, "fold": row.fold,
                     "n_train": row.n_train, "n_test": row.n_test, "train_prior": priors[key],
                     "ece": expected_calibration_error(y_true, row.y_prob, n_bins=n_bins),
                     "ece_corrected": expected_calibration_error(y_true, corrected, n_bins=n_bins),
                     "brier": float(np.mean((np.asarray(row.y_prob, dtype=float) - y_true) ** 2)),
                     "brier_corrected": float(np.mean((corrected - y_true) ** 2)),
                     "roc_auc": row.roc_auc, "f1": row.f1,
                     "y_true": y_true, "y_prob": np.asarray(row.y_prob, dtype=float), "y_prob_corrected": corrected})
    return pd.DataFrame(rows)


def calibration_summary(frame: pd.DataFrame) -> dict:
    """Per ``"model+loss"``: ``ece``, ``ece_corrected``, ``brier``, ``brier_corrected`` (fold means) and
    ``ece_change``, ``brier_change`` (corrected minus as predicted, paired per fold), each an
    :class:`~lossbook.core.estimate.Estimate` with the corrected resampled t-interval."""
    n_train, n_test = dia._sizes(frame)
    out = {}
    for (model, loss), _ in frame.groupby(["model", "loss"], sort=False):
        scores = {c: dia._fold_scores(frame, model, loss, c) for c in ("ece", "ece_corrected", "brier", "brier_corrected")}
        entry = {c: dia.mean_estimate(v, n_train=n_train, n_test=n_test) for c, v in scores.items()}
        for metric in ("ece", "brier"):
            entry[f"{metric}_change"] = dia.paired_estimate(scores[metric], scores[f"{metric}_corrected"],
                                                            n_train=n_train, n_test=n_test)[0]
        out[f"{model}+{loss}"] = entry
    return out


def _paired(reference: tuple, other: tuple, columns: Sequence[str]) -> dict:
    """``{column: Estimate}``: ``other`` minus ``reference`` per fold, corrected resampled t-interval; each
    side is ``(frame, model, loss)`` (the fold sizes come from the reference frame)."""
    n_train, n_test = dia._sizes(reference[0])
    return {c: dia.paired_estimate(dia._fold_scores(*reference, c), dia._fold_scores(*other, c),
                                   n_train=n_train, n_test=n_test)[0] for c in columns}


def loss_differences(frame: pd.DataFrame, other: str = "focal", reference: str = "bce",
                     columns: Sequence[str] = ("ece", "ece_corrected", "brier", "brier_corrected")) -> dict:
    """Per network that ran both losses: ``other`` minus ``reference`` for each of ``columns``,
    paired per fold (corrected resampled t-interval), as ``{model: {column: Estimate}}``."""
    ran = set(zip(frame["model"], frame["loss"]))
    return {model: _paired((frame, model, reference), (frame, model, other), columns)
            for model in dict.fromkeys(frame["model"]) if {(model, other), (model, reference)} <= ran}


#: The columns :func:`smote_differences` pairs.
SMOTE_COLUMNS = ("ece", "ece_corrected", "roc_auc", "f1")


def smote_differences(with_smote: pd.DataFrame, without: pd.DataFrame, columns: Sequence[str] = SMOTE_COLUMNS) -> dict:
    """Per ``"model+loss"`` of ``with_smote``: ``without`` minus ``with_smote`` for each of ``columns``,
    paired per fold (corrected resampled t-interval), as ``{config: {column: Estimate}}``.

    Both are :func:`calibration_frame` outputs over the same folds (``without`` with
    ``smote=False``, whose corrected columns equal its predicted ones: so ``ece_corrected`` pairs
    the fold model trained without SMOTE with the SMOTE-trained one after its correction).
    """
    return {f"{model}+{loss}": _paired((with_smote, model, loss), (without, model, loss), columns)
            for (model, loss), _ in with_smote.groupby(["model", "loss"], sort=False)}


def pooled(frame: pd.DataFrame, model: str, loss: str, *, corrected: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true, y_prob)`` of one configuration pooled over its folds (for a reliability diagram)."""
    g = frame[(frame.model == model) & (frame.loss == loss)]
    column = "y_prob_corrected" if corrected else "y_prob"
    return np.concatenate(list(g["y_true"])), np.concatenate(list(g[column]))


def reliability_figure(panels: Mapping[str, tuple[pd.DataFrame, bool]], model: str, losses: Sequence[str], *,
                       n_bins: int = 10):
    """Reliability diagrams of ``model``, one panel per ``{title: (calibration frame, corrected)}``
    (:func:`calibration_frame` outputs), one curve per loss of ``losses`` with its folds pooled; the
    legend sits below the panels, where it hides no curve. Returns ``(fig, axes)``."""
    from lossbook.core.plots import reliability_panels

    fig, axes = reliability_panels({title: {loss: pooled(frame, model, loss, corrected=corrected) for loss in losses}
                                    for title, (frame, corrected) in panels.items()}, n_bins=n_bins)
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].get_legend().remove()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(labels), frameon=False)
    return fig, axes


# --------------------------------------------------------------------------- synthetic: training length


def training_length_runs(steps: Sequence[int], seeds: Sequence[int], draws: Sequence[int], *,
                         val_fraction: float = 0.25, progress=None) -> pd.DataFrame:
    """The tutorial's BCE and focal networks trained for each of ``steps`` full-batch Adam steps.

    For every draw (``make_classification`` random state) and initialisation seed, per
    length: BCE and the tutorial's focal loss trained on the whole training split and
    scored at threshold 0.5 (rule ``"at_half"``), and trained on the training split minus a
    stratified ``val_fraction`` (:func:`lossbook.studies.synthetic.carve_validation`, as the
    synthetic chapter carves it) and scored at the threshold maximising F1 on the held-out
    training rows (rule ``"validation"``), for both losses alike. The test split is only scored.
    Every network of one (length, rule) trains in one :func:`lossbook.studies.synthetic.train_batch`
    call (a member's result does not depend on its batch mates). ``progress`` is called with 1
    per (length, rule).

    Returns one row per network: steps, rule, flip_y (0.01), draw, arm (``bce``/``focal``),
    seed, the :func:`lossbook.studies.synthetic.score_members` metrics and ``threshold``.
    """
    specs = [syn.LossSpec("bce", "bce"), syn.tutorial_focal_spec("focal")]
    sets = {}
    for draw in draws:
        data = syn.make_dataset(draw, flip_y=0.01)
        fit, val = syn.carve_validation(data.y_train, fraction=val_fraction, random_state=draw)
        sets[draw] = {"at_half": (data.X_train, data.y_train, None, None),
                      "validation": (data.X_train[fit], data.y_train[fit], data.X_train[val], data.y_train[val]),
                      "test": (data.X_test, data.y_test)}
    members = [(spec, draw, seed) for spec in specs for draw in draws for seed in seeds]  # equal specs adjacent
    frames = []
    for n_steps in steps:
        for rule in RULES:
            X = np.stack([sets[d][rule][0] for _, d, _ in members])
            y = np.stack([sets[d][rule][1] for _, d, _ in members])
            model = syn.train_batch(X, y, [s for s, _, _ in members], [seed for _, _, seed in members],
                                    epochs=int(n_steps))
            p_test = syn.predict(model, np.stack([sets[d]["test"][0] for _, d, _ in members]))
            thresholds = np.full(len(members), syn.TUTORIAL_TRAINING["threshold"])
            if rule == "validation":
                p_val = syn.predict(model, np.stack([sets[d][rule][2] for _, d, _ in members]))
            for draw in draws:
                rows = [i for i, (_, d, _) in enumerate(members) if d == draw]
                if rule == "validation":
                    thresholds[rows] = syn.f1_thresholds(sets[draw][rule][3], p_val[rows])
                scored = syn.score_members(sets[draw]["test"][1], p_test[rows], thresholds[rows])
                scored.insert(0, "seed", [members[i][2] for i in rows])
                scored.insert(0, "arm", [members[i][0].arm for i in rows])
                scored.insert(0, "draw", draw)
                scored.insert(0, "flip_y", 0.01)
                scored.insert(0, "rule", rule)
                scored.insert(0, "steps", int(n_steps))
                scored["threshold"] = thresholds[rows]
                frames.append(scored)
            if progress is not None:
                progress(1)
    return pd.concat(frames, ignore_index=True)


def length_differences(runs: pd.DataFrame, *, metrics: Sequence[str] = ("minority_found", "roc_auc"),
                       n_boot: int = 2000, seed: int = 0) -> dict:
    """Focal minus BCE per (length, rule), paired by (draw, seed), with the synthetic chapter's
    two-level bootstrap interval (:func:`lossbook.studies.synthetic.paired_differences`: draws,
    then seeds within draws). Returns ``{steps: {rule: {metric: Estimate}}}`` (steps as int)."""
    out = {}
    for (n_steps, rule), sub in runs.groupby(["steps", "rule"], sort=False):
        paired = syn.paired_differences(sub, "focal", "bce", metrics=list(metrics), n_boot=n_boot, seed=seed)
        out.setdefault(int(n_steps), {})[rule] = {
            m: Estimate(row["mean"], row["ci_low"], row["ci_high"], n=int(row["n_pairs"]), method="bootstrap")
            for m, row in paired.iterrows()}
    return out


def length_finding(differences: Mapping, *, rule: str = "at_half", metric: str = "minority_found") -> str:
    """:data:`HOLDS` when focal finds more minority examples than BCE at every training length (each
    interval of :func:`length_differences` lies above zero), else :data:`DEPENDS`."""
    if not differences:
        raise ValueError("no training lengths to judge")
    holds = all(d[rule][metric].has_interval and d[rule][metric].ci_low > 0 for d in differences.values())
    return HOLDS if holds else DEPENDS


def length_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per training length (rows, ``steps``): mean minority examples found at 0.5 by BCE and by focal
    loss, the share of BCE and focal networks finding none at 0.5, and the median threshold chosen on
    the held-out training rows for each loss (columns ``found_<arm>``, ``none_<arm>``, ``threshold_<arm>``)."""
    half = runs[runs["rule"] == "at_half"]
    chosen = runs[runs["rule"] == "validation"]
    out = {}
    for arm in ("bce", "focal"):
        a, c = half[half["arm"] == arm].groupby("steps"), chosen[chosen["arm"] == arm].groupby("steps")
        out[f"found_{arm}"] = a["minority_found"].mean()
        out[f"none_{arm}"] = a["minority_found"].apply(lambda v: float((v == 0).mean()))
        out[f"threshold_{arm}"] = c["threshold"].median()
    return pd.DataFrame(out)[[f"{k}_{arm}" for k in ("found", "none", "threshold") for arm in ("bce", "focal")]]


def difference_frame(differences: Mapping, metric: str = "minority_found") -> dict[str, pd.DataFrame]:
    """``{"estimate", "ci_low", "ci_high"}``: frames of :func:`length_differences` for ``metric``,
    rows = training lengths, columns = :data:`RULES` (for :func:`lossbook.core.plots.bar_with_errors`)."""
    return {field: pd.DataFrame({rule: {steps: getattr(d[rule][metric], field) for steps, d in differences.items()}
                                 for rule in RULES})
            for field in ("estimate", "ci_low", "ci_high")}


def direction(estimate: Estimate, *, above: str = "higher", below: str = "lower",
              neither: str = "not clearly different") -> str:
    """Words for the sign of an estimate judged by its interval: ``above`` when it lies wholly above
    zero, ``below`` when wholly below, ``neither`` otherwise (for the prose, so no direction is typed)."""
    if estimate.has_interval and estimate.ci_low > 0:
        return above
    if estimate.has_interval and estimate.ci_high < 0:
        return below
    return neither


# --------------------------------------------------------------------------- tables for the page


def summary_table(summary: Mapping, metric: str = "ece", *, without: Mapping | None = None) -> pd.DataFrame:
    """Rows: the configurations of :func:`calibration_summary` in words; columns ``metric``,
    ``<metric>_corrected`` and ``<metric>_change`` (Estimates), and ``<metric>_no_smote`` from
    ``without`` (the summary of the fold models trained without SMOTE) when given."""
    from lossbook.core.plots import config_label

    columns = [metric, f"{metric}_corrected", f"{metric}_change"]
    table = pd.DataFrame({config_label(c): {k: entry[k] for k in columns} for c, entry in summary.items()}).T[columns]
    if without is not None:
        table[f"{metric}_no_smote"] = [without[c][metric] for c in summary]
    return table


def config_table(entries: Mapping[str, Mapping], columns: Mapping[str, str]) -> pd.DataFrame:
    """Rows: configurations (``"model+loss"``) in words; one column per ``column -> header`` of
    ``columns``, read from ``entries`` (e.g. :func:`smote_differences`)."""
    from lossbook.core.plots import config_label

    return pd.DataFrame({words: {config_label(c): entry[column] for c, entry in entries.items()}
                         for column, words in columns.items()})


def loss_table(versus: Mapping[str, Mapping], columns: Mapping[tuple, str]) -> pd.DataFrame:
    """Rows: networks in words; one column per ``(loss, column) -> header`` of ``columns``, read from
    ``versus`` (``{loss: loss_differences(...)}``); networks missing a loss are left out."""
    from lossbook.core.plots import config_label

    models = [m for m in next(iter(versus.values())) if all(m in v for v in versus.values())]
    return pd.DataFrame({words: {config_label(m): versus[loss][m][column] for m in models}
                         for (loss, column), words in columns.items()})


#: How the page names the threshold rules and metrics of :func:`length_differences`.
RULE_WORDS = {"at_half": "at 0.5", "validation": "chosen threshold"}
METRIC_WORDS = {"minority_found": "found", "roc_auc": "ROC-AUC"}


def length_difference_table(differences: Mapping) -> pd.DataFrame:
    """Rows: (rule, metric) in words; columns: ``"<steps> steps"``; cells: the Estimates of
    :func:`length_differences` (focal minus BCE)."""
    return pd.DataFrame({f"{steps} steps": {f"{RULE_WORDS[rule]}, {METRIC_WORDS[metric]}": d[rule][metric]
                                            for rule in RULES for metric in METRIC_WORDS}
                         for steps, d in differences.items()})
