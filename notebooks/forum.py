# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (chapter-forum)=
# # Which loss is better? Judging a comparison fairly
#
# A forum post {cite}`tfforum2023focal` trains a Keras 3-D CNN on CT patches in
# which roughly one patch in a thousand is positive. It trains twice, once with
# binary cross-entropy (BCE) and once with
# `BinaryFocalCrossentropy(apply_class_balancing=True, from_logits=True, gamma=5)`,
# and asks which run is better from the two training logs. An answer quoted in
# the post compares the runs' loss values, accuracies and a balanced accuracy
# at the default threshold, and recommends focal loss.
#
# None of those numbers can settle the question. This chapter shows why, one
# claim at a time, on a stand-in problem that runs in seconds, and then
# answers the question the way it can be answered: paired differences of
# threshold-free metrics on the same held-out examples, with intervals. The
# tool that does this, `lossbook.core.compare`, is documented at the end; the other
# chapters use it too.

# %% tags=["parameters"]
n_samples = 300_000  # rows of the stand-in problem
prevalence = 0.003  # share of positives
n_features = 8
separation = 1.2  # shift of the positive clusters (larger: easier problem)
validation_fraction = 0.2  # carved from the training data; picks thresholds
test_fraction = 0.2  # scored once, at the end
epochs = 5
batch_size = 512
hidden = 32  # width of the two hidden layers
learning_rate = 3e-3
n_boot = 2000  # paired bootstrap resamples
seed = 0

# %%
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # before TensorFlow loads: its C++ logs would land in the outputs
import lossbook  # noqa: F401  (before TensorFlow: it sets TF_ENABLE_ONEDNN_OPTS, read at import)

# isort: split
import numpy as np
import pandas as pd

from lossbook.core import params as lbparams
from lossbook.core import plots
from lossbook.studies import forum

with forum.native_stderr_silenced():
    import keras  # noqa: F401  (loaded here, quietly; Keras checks the losses below)
    import tensorflow  # noqa: F401

# %%
from lossbook.core.compare import choose_threshold, compare
from lossbook.core.metrics import binary_report
from lossbook.core.seeding import seed_everything
from lossbook.publish import tables
from lossbook.publish.glue import glue_number, glue_numbers
from lossbook.publish.results import save_results

# %%
parameters = lbparams.collect(globals(), forum.CONSTRAINTS)  # the cell above, papermill's values included
forum.check_parameters(complete=True, **parameters)
seed_everything(seed)
plots.set_style()

# %% [markdown]
# ## The stand-in
#
# A synthetic problem replaces the CT patches: Gaussian negatives and two
# clusters of positives, at a positive rate of a few per mille, split into
# training rows, validation rows (part of the training data: they may be used
# for any choice, such as a threshold) and test rows (scored once, at the
# end). The same small network, from the same initial weights, is trained
# three times for the same number of epochs: with BCE, with focal loss
# ($\gamma = 5$) and with focal loss plus Keras's class balancing at its
# default $\alpha = 0.25$, the forum's setting. The losses come from
# `lossbook.core.losses` (torch backend); a section below checks them against
# Keras's own `BinaryFocalCrossentropy`.

# %%
problem = forum.make_problem(n_samples, prevalence=prevalence, n_features=n_features,
                             separation=separation, seed=seed)
splits = forum.split_problem(problem, validation_fraction=validation_fraction,
                             test_fraction=test_fraction, seed=seed)

# %% [markdown]
# The split is stratified, so each part keeps the positive rate; what matters
# for every interval below is how few positives each part holds.

# %%
sizes = forum.split_sizes(splits)

# %%
glue_number("forum_n_pos_total", int(problem.y.sum()))
glue_number("forum_n_val_pos", int(splits.validation.y.sum()))
glue_number("forum_n_test_pos", int(splits.test.y.sum()))
glue_number("forum_prevalence", problem.prevalence)
tables.glue_table("tbl_forum_sizes", sizes, index_header="split", decimals=4)

# %% [markdown]
# The three runs train on the training rows only, each under its own loss.

# %%
runs = forum.train_runs(splits.train, epochs=epochs, batch_size=batch_size, hidden=hidden,
                        learning_rate=learning_rate, seed=seed)
names = list(runs)
BCE, FOCAL, FOCAL_BAL = names

# %% [markdown]
# Every comparison below starts from the runs' outputs on the validation rows,
# kept both as probabilities and as the logits the network emits; the training
# log is each run's mean loss per epoch.

# %%
val_prob = {name: run.predict_proba(splits.validation.X) for name, run in runs.items()}
val_logit = {name: run.predict_logit(splits.validation.X) for name, run in runs.items()}
tables.glue_table("tbl_forum_train_loss", forum.train_loss_frame(runs), decimals=4)

# %% [markdown]
# :::{table} Rows and positives of the stand-in's training, validation and test splits (`notebooks/forum.py`).
# :name: tbl-forum-sizes
#
# ```{glue:md} tbl_forum_sizes
# :format: myst
# ```
# :::
#
# :::{table} Mean training loss per epoch of each run, each under its own loss (`notebooks/forum.py`).
# :name: tbl-forum-train-loss
#
# ```{glue:md} tbl_forum_train_loss
# :format: myst
# ```
# :::
#
# {numref}`tbl-forum-sizes` gives the splits. {numref}`tbl-forum-train-loss` is
# what a training log shows: each run's mean training loss per
# epoch. The focal runs' losses are far smaller than BCE's. The next section
# shows that this says nothing about which run is better.
#
# ## Loss values of different losses cannot be compared
#
# A loss value is a number on the scale of its own loss function. Focal loss
# multiplies each example's cross-entropy by $(1 - p_t)^\gamma$, which is tiny
# for every well-classified example; at $\gamma = 5$ and a prevalence of a few
# per mille almost every example is a well-classified negative, so the mean is
# tiny whatever the model does. Class balancing at $\alpha = 0.25$ multiplies
# negatives by a further 0.75. To see it, score the **same** predictions under
# each loss.

# %%
y_val = splits.validation.y
loss_table = forum.loss_scale_table(y_val, val_logit)  # rows: each run's predictions; columns: the three losses
same_pred = loss_table.loc[f"predictions of {BCE}"]
glue_number("forum_same_bce", same_pred["BCE"])
glue_number("forum_same_focal_bal", same_pred["focal γ=5, α=0.25"])
glue_number("forum_same_ratio", same_pred["BCE"] / same_pred["focal γ=5, α=0.25"])
forum_loss = forum.FORUM_REPORTED
glue_number("forum_reported_val_loss_bce", forum_loss["BCE"]["val_loss"][1])
glue_number("forum_reported_val_loss_focal", forum_loss["focal"]["val_loss"][1])
glue_number("forum_reported_ratio", forum_loss["BCE"]["val_loss"][1] / forum_loss["focal"]["val_loss"][1])
tables.glue_table("tbl_forum_same_predictions", loss_table, decimals=5)

# %% [markdown]
# :::{table} Validation loss of each run's predictions (rows) under each loss (columns): within a column lower is better, across columns the numbers share no scale (`notebooks/forum.py`).
# :name: tbl-forum-same-predictions
#
# ```{glue:md} tbl_forum_same_predictions
# :format: myst
# ```
# :::
#
# The BCE run's own validation predictions ({numref}`tbl-forum-same-predictions`) score {glue:text}`forum_same_bce:.4f`
# under BCE and {glue:text}`forum_same_focal_bal:.6f` under the forum's focal
# loss: the same predictions, a factor of {glue:text}`forum_same_ratio:.0f`
# apart. The post's final validation losses, {glue:text}`forum_reported_val_loss_bce`
# (BCE) against {glue:text}`forum_reported_val_loss_focal` (focal), a factor of
# {glue:text}`forum_reported_ratio:.0f`, are the same kind of gap: "focal loss
# has a lower loss" is a statement about the loss functions, not about the
# models. Within one column,
# lower is better for that loss; across columns the numbers share no scale.
#
# ## Accuracy of 99.9 % means nothing here
#
# At this prevalence the classifier that calls every example negative is right
# on every negative.

# %%
val_prev = float(y_val.mean())
all_negative = binary_report(y_val, np.zeros(len(y_val)), threshold=0.5)
acc_table = pd.DataFrame(
    {name: binary_report(y_val, val_prob[name], threshold=0.5) for name in names}
    | {"all-negative": all_negative}
).T[["accuracy", "balanced_accuracy", "recall", "positive_rate_pred"]]

# %%
glue_number("forum_all_negative_acc", all_negative["accuracy"])
reported_start = forum_loss["BCE"]["val_accuracy"][0]
glue_number("forum_reported_val_acc_start", reported_start)
glue_number("forum_implied_prevalence", 1 - reported_start)
tables.glue_table("tbl_forum_accuracy", acc_table, index_header="classifier", decimals=4,
                  headers={"positive_rate_pred": "share predicted positive"})

# %% [markdown]
# :::{table} Validation accuracy, balanced accuracy, recall and share predicted positive at threshold 0.5, for each run and for the classifier that calls every example negative (`notebooks/forum.py`).
# :name: tbl-forum-accuracy
#
# ```{glue:md} tbl_forum_accuracy
# :format: myst
# ```
# :::
#
# On our validation rows ({numref}`tbl-forum-accuracy`) the all-negative classifier reaches an accuracy of
# {glue:text}`forum_all_negative_acc:.4f` and a balanced accuracy of exactly
# 0.5; the trained runs, at the default threshold 0.5, sit beside it. In the
# post both runs start at a validation accuracy of
# {glue:text}`forum_reported_val_acc_start:.4f`, which is what the all-negative
# classifier scores when {glue:text}`forum_implied_prevalence:.2%` of the
# validation patches are positive; BCE's final validation balanced accuracy of
# 0.5 is that classifier's exact score. Accuracy and validation accuracy rank
# nothing here; at 0.5 even balanced accuracy mostly reports how many
# predictions cross an arbitrary threshold.
#
# ## What the validation data can say, with intervals
#
# The metrics that rank examples without a threshold, ROC-AUC and PR-AUC
# (average precision), do not depend on the loss's scale; the Brier score
# measures calibration. Compare the forum's pair of runs on the **same**
# validation rows with the paired bootstrap of `lossbook.core.compare`.

# %%
val_cmp = compare(y_val, val_prob[BCE], val_prob[FOCAL_BAL], names=(BCE, FOCAL_BAL),
                  threshold=0.5, n_boot=n_boot, seed=seed)
print(val_cmp.verdict)
tables.glue_table("tbl_forum_validation", val_cmp.page_frame(), index_header="validation rows")

# %%
for key in ("roc_auc", "pr_auc", "brier", "balanced_accuracy"):
    glue_numbers(f"forum_val_{key}", forum.row_numbers(val_cmp, key))

# %% [markdown]
# The comparison draws its own figure: both runs' curves, their calibration,
# and every paired difference with its interval.

# %%
plots.save_figure(val_cmp.figure(), "forum", "validation_comparison", glue_key="fig_forum_validation",
                  height_in=6.5)

# %% [markdown]
# :::{table} BCE against focal loss (γ = 5, α = 0.25 with class balancing) on the same validation rows: each run's score, the paired difference with its 95 % bootstrap interval, and the bootstrap p-value (`notebooks/forum.py`).
# :name: tbl-forum-validation
#
# ```{glue:md} tbl_forum_validation
# :format: myst
# ```
# :::
#
# ```{glue:figure} fig_forum_validation
# :name: fig-forum-validation
#
# BCE against focal loss ($\gamma=5$, $\alpha=0.25$ with class balancing) on
# the validation rows: ROC and precision-recall curves, reliability diagram and
# the paired differences with 95 % bootstrap intervals (black: the interval
# excludes 0). Made by `notebooks/forum.py` with its default parameters
# (`lossbook.core.compare.Comparison.figure`).
# ```
#
# ROC-AUC ({numref}`tbl-forum-validation`, {numref}`fig-forum-validation`) moves from {glue:text}`forum_val_roc_auc_a:.3f` to
# {glue:text}`forum_val_roc_auc_b:.3f` (difference
# {glue:text}`forum_val_roc_auc_diff:+.3f`, 95 % interval
# {glue:text}`forum_val_roc_auc_lo:+.3f` to {glue:text}`forum_val_roc_auc_hi:+.3f`);
# PR-AUC from {glue:text}`forum_val_pr_auc_a:.3f` to
# {glue:text}`forum_val_pr_auc_b:.3f` (interval {glue:text}`forum_val_pr_auc_lo:+.3f`
# to {glue:text}`forum_val_pr_auc_hi:+.3f`). The width of these intervals is
# set by the {glue:text}`forum_n_val_pos` positive validation rows, not by the
# total number of rows, and it covers only the chance of which rows landed in
# the split, not the chance in training.
#
# How much does the choice of validation rows matter on its own? Cut the
# validation rows into five disjoint parts, as if each were the only
# validation split, and score the same two trained runs on each.

# %%
spread = forum.split_spread(y_val, val_prob[BCE], val_prob[FOCAL_BAL], n_splits=5, seed=seed)

# %%
glue_number("forum_spread_pos", int(spread["positives"].min()))
glue_number("forum_spread_min", float(spread["roc_auc_diff"].min()))
glue_number("forum_spread_max", float(spread["roc_auc_diff"].max()))
glue_number("forum_spread_a_min", float(spread["roc_auc_a"].min()))
glue_number("forum_spread_a_max", float(spread["roc_auc_a"].max()))
tables.glue_table("tbl_forum_spread", spread, index_header="validation part",
                  headers={"roc_auc_a": "ROC-AUC, BCE", "roc_auc_b": "ROC-AUC, focal", "roc_auc_diff": "ROC-AUC, difference",
                           "pr_auc_a": "PR-AUC, BCE", "pr_auc_b": "PR-AUC, focal", "pr_auc_diff": "PR-AUC, difference"})

# %% [markdown]
# :::{table} The same two trained runs (BCE and the forum's focal loss) scored on five disjoint parts of the validation rows; difference: focal minus BCE (`notebooks/forum.py`).
# :name: tbl-forum-spread
#
# ```{glue:md} tbl_forum_spread
# :format: myst
# ```
# :::
#
# With about {glue:text}`forum_spread_pos` positives per part ({numref}`tbl-forum-spread`), the BCE run's
# ROC-AUC ranges from {glue:text}`forum_spread_a_min:.3f` to
# {glue:text}`forum_spread_a_max:.3f`, and the difference between the runs from
# {glue:text}`forum_spread_min:+.3f` to {glue:text}`forum_spread_max:+.3f`, for
# the *same* two trained models. The Brier scores,
# {glue:text}`forum_val_brier_a:.4f` (BCE) against {glue:text}`forum_val_brier_b:.4f`
# (focal), measure calibration: focal loss at $\gamma = 5$ barely rewards
# pushing an example's probability towards 0 or 1 once it is on the right side,
# so its outputs need not match observed rates (see the reliability diagram)
# and should not be read as probabilities without recalibration.
#
# ## The threshold moves balanced accuracy
#
# A balanced accuracy at 0.5 mixes two things: how well a run ranks the
# examples, and where 0.5 falls on its probability scale. The losses put
# that scale in very different places, so each run needs its own threshold.
# Choosing it on the test rows would leak; choose it on the validation rows
# (carved out of the training data) and score the test rows once.

# %%
chosen = {name: choose_threshold(y_val, val_prob[name], metric="balanced_accuracy") for name in names}
plots.save_figure(forum.threshold_figure(chosen), "forum", "threshold", glue_key="fig_forum_threshold")

# %% [markdown]
# Each run's best threshold, and what it gains over 0.5 on the validation rows:

# %%
thresholds = forum.threshold_frame(y_val, val_prob, chosen)
glue_number("forum_thr_bce", chosen[BCE]["threshold"])
glue_number("forum_thr_focal_bal", chosen[FOCAL_BAL]["threshold"])
tables.glue_table("tbl_forum_thresholds", thresholds, index_header="run", decimals=4)

# %% [markdown]
# ```{glue:figure} fig_forum_threshold
# :name: fig-forum-threshold
#
# Validation balanced accuracy of each run as a function of the decision
# threshold (log scale); dotted lines mark each run's best threshold, the
# dashed line the default 0.5. Made by `notebooks/forum.py` with its default
# parameters.
# ```
#
# :::{table} Each run's best validation threshold for balanced accuracy, and its validation balanced accuracy there and at 0.5 (`notebooks/forum.py`).
# :name: tbl-forum-thresholds
#
# ```{glue:md} tbl_forum_thresholds
# :format: myst
# ```
# :::
#
# The best validation threshold ({numref}`tbl-forum-thresholds`) is {glue:text}`forum_thr_bce:.3g` for BCE and
# {glue:text}`forum_thr_focal_bal:.3g` for the forum's focal loss: a
# balanced accuracy quoted at 0.5 compares two arbitrary points on two
# different curves.
#
# ## The answer, on the test rows
#
# Each run is scored once on the test rows, at the threshold it chose on the
# validation rows. The comparison is paired (same rows), and the two runs being
# compared are the forum's (BCE against focal with class balancing); a second
# comparison asks whether the class balancing itself changes anything.

# %%
test_prob = {name: run.predict_proba(splits.test.X) for name, run in runs.items()}
y_test = splits.test.y
test_cmp = compare(y_test, test_prob[BCE], test_prob[FOCAL_BAL], names=(BCE, FOCAL_BAL),
                   threshold=0.5, n_boot=n_boot, seed=seed)

# %% [markdown]
# Balanced accuracy needs a threshold: each run is cut at the one it chose on
# the validation rows, and the two runs' 0/1 decisions are compared with the
# same paired bootstrap, for the forum's pair and for focal loss with and
# without class balancing.

# %%
tuned = forum.tuned_comparisons(y_test, test_prob, {n: chosen[n]["threshold"] for n in names},
                                ((BCE, FOCAL_BAL), (FOCAL, FOCAL_BAL)), n_boot=n_boot, seed=seed)

# %%
print(test_cmp.verdict_for(("roc_auc", "pr_auc", "brier")))
tables.glue_table("tbl_forum_test", test_cmp.page_frame(["roc_auc", "pr_auc", "brier"]), index_header="test rows")
tables.glue_table("tbl_forum_tuned", forum.tuned_page_frame(tuned), index_header="runs compared")

# %%
balance_cmp = compare(y_test, test_prob[FOCAL], test_prob[FOCAL_BAL], names=(FOCAL, FOCAL_BAL),
                      n_boot=n_boot, seed=seed)
print(balance_cmp.verdict_for(("roc_auc", "pr_auc", "brier")))

# %% [markdown]
# Each verdict the text quotes comes with what the test rows could have seen:
# "no detectable difference" says nothing about effects smaller than the minimum
# detectable effect at 80 % power.

# %%
for key in ("roc_auc", "pr_auc", "brier"):
    glue_numbers(f"forum_test_{key}", forum.row_numbers(test_cmp, key, ("a", "b", "lo", "hi")))
    for label, cmp in (("test", test_cmp), ("balance", balance_cmp)):
        glue_number(f"forum_{label}_{key}_verdict", forum.verdict_text(cmp, key))

# %%
glue_number("forum_tuned_bal_a", tuned.loc[0, "balanced accuracy A"])
glue_number("forum_tuned_bal_b", tuned.loc[0, "balanced accuracy B"])
glue_number("forum_tuned_bal_lo", tuned.loc[0, "ci_low"])
glue_number("forum_tuned_bal_hi", tuned.loc[0, "ci_high"])

# %% [markdown]
# :::{table} BCE against the forum's focal loss on the test rows, scored once: each run's threshold-free scores, the paired difference with its 95 % bootstrap interval, and the p-value (`notebooks/forum.py`).
# :name: tbl-forum-test
#
# ```{glue:md} tbl_forum_test
# :format: myst
# ```
# :::
#
# :::{table} Test balanced accuracy of two pairs of runs A and B, each run at the threshold it chose on the validation rows (its threshold, its balanced accuracy), and the difference B − A with its 95 % paired bootstrap interval (`notebooks/forum.py`).
# :name: tbl-forum-tuned
#
# ```{glue:md} tbl_forum_tuned
# :format: myst
# ```
# :::
#
# On the test rows ({numref}`tbl-forum-test`, {numref}`tbl-forum-tuned`), BCE against the forum's focal loss: ROC-AUC
# {glue:text}`forum_test_roc_auc_a:.3f` against {glue:text}`forum_test_roc_auc_b:.3f`
# (difference interval {glue:text}`forum_test_roc_auc_lo:+.3f` to
# {glue:text}`forum_test_roc_auc_hi:+.3f`: {glue:text}`forum_test_roc_auc_verdict`),
# PR-AUC {glue:text}`forum_test_pr_auc_a:.3f` against
# {glue:text}`forum_test_pr_auc_b:.3f` (interval {glue:text}`forum_test_pr_auc_lo:+.3f`
# to {glue:text}`forum_test_pr_auc_hi:+.3f`: {glue:text}`forum_test_pr_auc_verdict`),
# Brier score: {glue:text}`forum_test_brier_verdict`. With each run at its own
# validation threshold, test balanced accuracy is
# {glue:text}`forum_tuned_bal_a:.3f` against {glue:text}`forum_tuned_bal_b:.3f`
# (difference interval {glue:text}`forum_tuned_bal_lo:+.3f` to
# {glue:text}`forum_tuned_bal_hi:+.3f`). Class balancing at $\alpha = 0.25$
# against none, both with $\gamma = 5$: ROC-AUC {glue:text}`forum_balance_roc_auc_verdict`,
# PR-AUC {glue:text}`forum_balance_pr_auc_verdict`.
#
# Whatever the sign, this is an answer about *this* stand-in, at *this*
# training budget, for *one* training run per loss: a second seed, more epochs
# or another learning rate can move the ranking, and the interval above covers
# only the sampling of test rows. A claim that one loss is better in general
# needs repeated runs (repeated cross-validation, which `compare(..., folds=...)`
# tests with the corrected resampled t-test).
#
# ## Keras's `alpha` does nothing without class balancing
#
# In Keras 3, `BinaryFocalCrossentropy` has `alpha=0.25` and
# `apply_class_balancing=False` by default, and the weight `alpha` (positives)
# / `1 - alpha` (negatives) is applied only when `apply_class_balancing=True`.
# {numref}`tbl-forum-alpha` scores the BCE run's validation logits with Keras's loss for
# several `alpha`.

# %%
alpha_table = forum.keras_alpha_table(y_val, val_logit[BCE], alphas=(0.1, 0.25, 0.5, 0.9))
glue_number("forum_alpha_spread_off", float(np.ptp(alpha_table.iloc[:, 0])))
glue_number("forum_alpha_spread_on", float(np.ptp(alpha_table.iloc[:, 1])))
tables.glue_table("tbl_forum_alpha", alpha_table, decimals=5)

# %% [markdown]
# :::{table} Keras's `BinaryFocalCrossentropy` (γ = 5) of the BCE run's validation logits at four values of alpha, without and with `apply_class_balancing` (`notebooks/forum.py`).
# :name: tbl-forum-alpha
#
# ```{glue:md} tbl_forum_alpha
# :format: myst
# ```
# :::
#
# Without class balancing the four values in {numref}`tbl-forum-alpha` are identical (spread
# {glue:text}`forum_alpha_spread_off:.1e`); with it they spread by
# {glue:text}`forum_alpha_spread_on:.1e`. With the default `alpha=0.25` that
# the post's configuration uses, class balancing weights each positive 0.25 and
# each negative 0.75: it *down-weights* the rare class three-fold, the
# opposite of what "class balancing" suggests for a 0.1 % minority. The
# weighting in Lin et al.'s focal loss {cite}`lin2017focal` was tuned together
# with $\gamma$ for dense object detection, not set from the class ratio.
#
# The runs above use `lossbook.core.losses`; they compute the same quantity as
# Keras's loss:

# %%
keras_check = forum.keras_agreement(y_val, val_logit[BCE])  # BCE, focal, and focal with class balancing

# %% [markdown]
# The two differ only by float32 rounding, which varies from run to run with
# the order of summation; the page therefore states a bound, not the noise.

# %%
FLOAT32_BOUND = 1e-6
max_rel = float(keras_check["relative difference"].max())
rel_bound = max(FLOAT32_BOUND, float(10.0 ** np.ceil(np.log10(max_rel)))) if max_rel > 0 else FLOAT32_BOUND
glue_number("forum_keras_rel_bound", rel_bound)
shown = keras_check.assign(**{"relative difference": [f"below {FLOAT32_BOUND:.0e}" if r < FLOAT32_BOUND else f"{r:.1e}"
                                                      for r in keras_check["relative difference"]]})
tables.glue_table("tbl_forum_keras", shown, decimals={"lossbook (torch)": 5, "Keras": 5})

# %% [markdown]
# :::{table} The same validation logits scored by the `lossbook.core.losses` torch losses and by Keras's losses, and their relative difference (`notebooks/forum.py`).
# :name: tbl-forum-keras
#
# ```{glue:md} tbl_forum_keras
# :format: myst
# ```
# :::
#
# On the BCE run's validation logits ({numref}`tbl-forum-keras`), the `lossbook.core.losses` torch losses and
# Keras's losses agree to a relative difference below {glue:text}`forum_keras_rel_bound:.0e`, the
# resolution of float32 arithmetic, in which Keras computes.

# %% [markdown]
# (forum-logits-metrics)=
# ## The logged metrics read logits as probabilities
#
# The posted model ends in `Dense(1)` with no activation and trains with
# `from_logits=True`, so its output is a logit, any real number. Its
# `model.compile` asks Keras for `accuracy`, `AUC`, `Precision` and `Recall`,
# and all four read the output as a probability: `AUC` places its 200
# thresholds in [0, 1], so every negative logit falls below all of them;
# precision, recall and accuracy cut at 0.5, which for a logit is a probability
# of 0.62. {numref}`tbl-forum-logits` scores the stand-in runs' validation outputs both ways:
# as logits (what the post's metrics saw) and as probabilities.

# %%
logit_table = forum.logit_metric_table(y_val, val_logit, val_prob)  # rows: (run, metric)

# %%
for name, key in ((BCE, "bce"), (FOCAL_BAL, "focal_bal")):
    glue_number(f"forum_logit_auc_{key}", logit_table.loc[(name, "AUC"), "on logits (as posted)"])
    glue_number(f"forum_prob_auc_{key}", logit_table.loc[(name, "AUC"), "on probabilities"])
tables.glue_table("tbl_forum_logits", logit_table, index_header="run, metric", decimals=4)

# %% [markdown]
# :::{table} The metrics the forum post logged, computed by Keras on each run's validation outputs read as logits (as posted) and as probabilities (`notebooks/forum.py`).
# :name: tbl-forum-logits
#
# ```{glue:md} tbl_forum_logits
# :format: myst
# ```
# :::
#
# Scored as logits ({numref}`tbl-forum-logits`), the validation AUC of the BCE run is
# {glue:text}`forum_logit_auc_bce:.3f` and of the focal run
# {glue:text}`forum_logit_auc_focal_bal:.3f`; scored as probabilities, the same
# predictions give {glue:text}`forum_prob_auc_bce:.3f` and
# {glue:text}`forum_prob_auc_focal_bal:.3f`. A run whose logits are all negative
# (the usual state at 0.1 % positives) gets an AUC of exactly 0.5 and a recall of
# 0 from Keras whatever it ranks. So the logged AUC, precision, recall and
# accuracy values in the post describe where its logits fall relative to 0 and
# 1, not how well the model separates the classes: they cannot support the
# post's comparison. The fix is `keras.metrics.AUC(from_logits=True)` (and
# thresholds on `sigmoid(logit)` for the others), or a sigmoid output with
# `from_logits=False`.
#
# ## What the posted model lacks
#
# The posted network is a stack of `BatchNormalization` and `MaxPool3D`
# layers, then `GlobalAveragePooling3D`, a dense layer of 512 units, and the
# output. There is no convolution. Three consequences follow from the layer
# types alone; the cell rebuilds the architecture for 31³ single-channel
# patches (with random batch-normalisation statistics and scales, standing in
# for a trained model) and checks them.
#
# 1. **One number per patch reaches the head.** Batch normalisation and max
#    pooling act on each channel separately and never mix channels; the input
#    has one channel, so after global pooling the dense head receives a single
#    feature per patch. Everything the model can learn is a function of one
#    scalar.
# 2. **That scalar is a max/min over a corner.** At inference, batch
#    normalisation is a per-channel affine map (a negative scale turns a max
#    into a min); four unpadded 2×2×2 poolings reduce 31 → 15 → 7 → 3 → 1 and
#    drop the last row of every odd-sized axis, so only a 16³ corner of the
#    patch reaches the output. The shape and texture of a nodule are
#    invisible, and so is everything outside the corner; only extreme
#    intensities inside it count.
# 3. **Batch statistics during training.** In training mode each batch is
#    normalised by its own mean and variance. With `shuffle=False` the batches
#    are the same every epoch, and at a positive rate near 0.1 % most batches
#    of 128 hold no positive at all.

# %%
posted = forum.posted_model(seed=seed)
patches = np.random.default_rng(seed).normal(size=(16, 31, 31, 31, 1)).astype("float32")

# %% [markdown]
# The model's output on these patches is the reference; the measurement then
# changes every voxel outside the surviving corner, and separately shifts the
# voxels inside it, and records the largest change of the output each time.

# %%
posted_facts = forum.posted_model_facts(posted, patches)
glue_numbers("forum_posted", posted_facts)
tables.glue_table("tbl_forum_posted", pd.Series(posted_facts, name="value", dtype=object).to_frame(),
                  index_header="the posted model", decimals=3)

# %% [markdown]
# :::{table} What the posted 3D network's architecture lets reach its output, measured on the Keras model built from the post (`notebooks/forum.py`); a change is the largest change of the output over 16 random patches.
# :name: tbl-forum-posted
#
# ```{glue:md} tbl_forum_posted
# :format: myst
# ```
# :::
#
# The dense head ({numref}`tbl-forum-posted`) receives {glue:text}`forum_posted_features_reaching_dense_head`
# feature per patch. Changing every voxel outside the
# {glue:text}`forum_posted_corner_side_reaching_output`³ corner
# ({glue:text}`forum_posted_share_of_voxels_reaching_output:.1%` of the patch)
# changes the output by at most {glue:text}`forum_posted_max_output_change_outside_corner`,
# while shifting the corner's voxels changes it by
# {glue:text}`forum_posted_max_output_change_inside_corner:.2g`. At a positive
# rate of 0.1 %, a share of {glue:text}`forum_posted_share_of_batches_without_positive:.2f`
# of batches of 128 hold no positive.
#
# So before any question of loss, the posted model needs convolutions (e.g.
# `Conv3D` blocks before each pooling) to see structure, and its training needs
# `shuffle=True` (or a sampler that spreads the positives over the batches).
# Its curves watch a single validation split at a positive rate near 0.2 %, so
# epoch-to-epoch wiggles in validation AUC are mostly noise (see the spread
# over five validation parts above); repeated cross-validation, or at least a
# bootstrap interval on the validation metrics, tells signal from noise.
#
# ## The tool: `lossbook.core.compare`
#
# ```python
# from lossbook.core.compare import compare, read_predictions, compare_predictions, choose_threshold
#
# # two runs, same validation rows; Keras Dense(1) heads give logits
# result = compare(y_val, model_a.predict(x_val), model_b.predict(x_val),
#                  names=("BCE", "focal"), from_logits=True, threshold=0.5)
# result.table      # metric, value_a, value_b, diff (b - a), ci_low, ci_high, p_value, method, threshold
# result.verdict    # plain language; "no detectable difference" when the interval covers 0
# result.figure()   # ROC, PR, reliability diagram, forest plot of the differences
#
# # from files: one row per example, columns y_true/label/target and prob/score/y_pred (or logit)
# a, b = read_predictions("bce.csv"), read_predictions("focal.csv")
# result = compare_predictions(a, b, names=("BCE", "focal"))
#
# # repeated CV: out-of-fold predictions with fold ids unique across repeats
# result = compare(y, p_a, p_b, folds=fold_ids, n_train=rows_per_training_fold)
#
# # a threshold chosen on validation rows, applied to test rows
# t = choose_threshold(y_val, p_val, metric="balanced_accuracy")["threshold"]
# ```
#
# On one test set the intervals come from a stratified paired bootstrap (each
# class resampled at its own count; both runs scored on the same resample); over
# repeated cross-validation, from the corrected resampled t-test of Nadeau and
# Bengio {cite}`nadeau2003inference` over the per-fold differences. A Keras `CSVLogger` file is refused
# with an explanation: it holds per-epoch summaries, and two runs cannot be
# compared from those.

# %% [markdown]
# The results file records, per run, its loss, its training log and its scores
# on the validation and test rows, at 0.5 and at its own validation threshold.

# %%
run_records = {name: {
    "loss": runs[name].loss, "loss_params": runs[name].loss_params, "train_loss_per_epoch": runs[name].train_loss,
    "validation_at_0.5": forum.run_metrics(val_prob[name], y_val, 0.5),
    "validation_threshold": chosen[name]["threshold"],
    "test_at_validation_threshold": forum.run_metrics(test_prob[name], y_test, chosen[name]["threshold"]),
    "test_at_0.5": forum.run_metrics(test_prob[name], y_test, 0.5),
} for name in names}

# %% [markdown]
# Beside them go every paired comparison, with its differences as estimates,
# and the measurements of the sections above (the ledger reads the Keras AUC
# of the BCE run's outputs read as logits minus read as probabilities).

# %%
results = {
    "n_positive": {"total": int(problem.y.sum()), "validation": int(y_val.sum()), "test": int(y_test.sum())},
    "runs": run_records,
    "comparisons": {
        "validation_bce_vs_focal_balanced": forum.comparison_record(val_cmp.to_dict()),
        "test_bce_vs_focal_balanced": forum.comparison_record(test_cmp.to_dict()),
        "test_focal_vs_focal_balanced": forum.comparison_record(balance_cmp.to_dict()),
        "test_balanced_accuracy_at_validation_thresholds": forum.tuned_record(tuned, len(y_test)),
    },
    "logits_as_probabilities": forum.logits_record(logit_table, BCE),
}

# %%
results |= {
    "same_predictions_under_each_loss": loss_table.to_dict(),
    "validation_parts_roc_auc_diff": spread["roc_auc_diff"].tolist(),
    "all_negative_validation": {k: all_negative[k] for k in ("accuracy", "balanced_accuracy")},
    "keras_alpha_without_balancing": alpha_table.to_dict(),
    # float32 noise is not a result: the values to 6 decimals and the bound their difference is below
    "keras_agreement": {"values": keras_check[["lossbook (torch)", "Keras"]].round(6).to_dict(),
                        "relative_difference_below": rel_bound},
    "posted_model": posted_facts,
    "forum_reported": forum.FORUM_REPORTED,
}

# %%
results_file = save_results("forum", results, parameters=parameters)
