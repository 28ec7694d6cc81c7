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
# (chapter-dia)=
# # Drug-induced autoimmunity: the paper's study, leak-free and leaky
#
# {cite:t}`bits2025dia`, a study of binary cross-entropy, focal and Dice loss for predicting drug-induced
# autoimmunity (DIA), trains three Keras networks (an MLP, a 1D-CNN and a
# two-layer "SimpleNN") with three losses (binary cross-entropy, focal, Dice) on RDKit
# descriptors of the UCI DIA data {cite}`uci_dia`, and reports in its Table 1 an MLP with focal loss at
# accuracy {glue:text}`dia_paper_mlp_focal_accuracy:.2f` and ROC-AUC {glue:text}`dia_paper_mlp_focal_roc_auc:.2f`,
# next to a CNN with Dice loss at accuracy {glue:text}`dia_paper_cnn_dice_accuracy:.2f`, precision
# {glue:text}`dia_paper_cnn_dice_precision:.2f`, recall {glue:text}`dia_paper_cnn_dice_recall:.2f`, F1
# {glue:text}`dia_paper_cnn_dice_f1:.2f` and AUC {glue:text}`dia_paper_cnn_dice_roc_auc:.2f`. This chapter re-runs
# the grid three ways: without leakage, with the leak the paper says it avoided, and with the protocol its
# text implies it ran (preprocessing before splitting, early stopping on the scored fold). It then splits
# the distance between the paper's table and the leak-free result into measured parts, and checks which
# of the paper's numbers and statements hold.
#
# Everything here is computed by `lossbook.studies.dia` (protocols), `lossbook.nets.keras_stack` (a trainer
# that fits all fold models of a configuration at once with `model.fit` semantics) and
# `lossbook.nets.models`; results are written to `book/results/dia.json`.

# %% tags=["parameters"]
n_splits = 5  # stratified folds
n_repeats = 5  # repeats of the stratified k-fold
max_epochs = 100  # the paper's maximum
patience = 15  # early stopping on validation ROC-AUC, best weights restored
batch_size = 32
learning_rate = 0.001  # Adam, Keras defaults otherwise
val_fraction = 0.2  # share of each training fold held out for early stopping
pos_class_weight = 1.0  # class weight of positives; SMOTE already balances 1:1, so balanced weights are 1
label_smoothing = 0.0
seed = 0
models = ["mlp", "cnn", "simplenn"]
losses = ["bce", "focal", "dice"]
n_boot = 2000  # bootstrap resamples for the external-test intervals
run_variants = True  # class weight and label smoothing variants
variant_models = ["mlp", "simplenn"]  # networks also run with early stopping on the outer fold (the decomposition; the CNN costs most)
n_refits = 5  # refits averaged for the external test
grouped_configs = ["mlp+focal"]  # configurations re-run with identical descriptor vectors kept in one fold
executor = "serial"  # serial | dask: who trains the grid's configurations (the numbers do not depend on it)
scheduler = None  # Dask scheduler address; None starts a local cluster of n_workers processes
n_workers = 2

# %%
import os
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: F401  (imported before seeding, so seed_everything seeds it)
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf  # noqa: F401
from myst_nb import glue
from tqdm.auto import tqdm

from lossbook.core import metrics, plots
from lossbook.core import params as lbparams
from lossbook.core.data import load_dia_pair
from lossbook.core.estimate import Estimate
from lossbook.core.executor import make_executor
from lossbook.core.seeding import seed_everything
from lossbook.nets import models as lbmodels
from lossbook.publish.glue import glue_estimate, glue_numbers
from lossbook.publish.results import save_results
from lossbook.publish.tables import glue_table
from lossbook.studies import dia

parameters = dia.check_parameters(**lbparams.collect(globals(), dia.CONSTRAINTS))  # the cell above
# the chapter is built around the paper's headline comparison: a subset of the grid must keep it
if "mlp" not in parameters["models"] or not {"bce", "focal"} <= set(parameters["losses"]):
    raise ValueError(f"models {parameters['models']} and losses {parameters['losses']}: the chapter needs 'mlp' in "
                     "models and 'bce' and 'focal' in losses (the paper's headline MLP + focal against BCE)")
# how the grid runs, not what it computes: kept out of the results file; closed at the end of the chapter
pool = make_executor(parameters.pop("executor"), scheduler=parameters.pop("scheduler"),
                     n_workers=parameters.pop("n_workers"))
seed_everything(seed)
plots.set_style()
# The pair loader also checks that the test file has the training file's columns, in order.
train, test = load_dia_pair(verify_checksum=True)
X, y = train.X.to_numpy(), train.y
checksums = {train.path.name: train.sha256, test.path.name: test.sha256}

# %%
glue_numbers("dia_paper", {f"{m}_{l}_{metric}": value for (m, l), row in dia.PAPER_TABLE1.items()
                           for metric, value in row.items()})
glue_numbers("dia", {"paper_n_desc": dia.PAPER_FACTS["n_descriptors"], "paper_pos_share": dia.PAPER_FACTS["positive_share"],
                     "interdia_cv_auc": dia.INTERDIA["cv_auc"], "interdia_ext_auc": dia.INTERDIA["external_auc"],
                     "n_ext": len(test.y), "max_epochs": max_epochs, "patience": patience, "batch_size": batch_size,
                     "learning_rate": learning_rate})
glue_numbers("dia_cnn", lbmodels.CNN_CHOICES)
glue_numbers("dia", {f"{loss}_{name}": value for loss, p in dia.LOSS_PARAMS.items() for name, value in p.items()})

# %% [markdown]
# ## The protocol
#
# We follow the paper where it is specific and state our choices where it is not.
#
# * **Data.** {glue:text}`dia_n_train` training drugs ({glue:text}`dia_n_pos` positive) with
#   {glue:text}`dia_n_desc` RDKit descriptors and a positive share of
#   {glue:text}`dia_prevalence:.3f`, where the paper says {glue:text}`dia_paper_n_desc` descriptors and about
#   {glue:text}`dia_paper_pos_share:.0%` positives. SMILES is dropped. A column filter drops
#   columns that are constant or duplicate another column *in the rows it is fitted on*.
# * **Networks** (Keras, Glorot-uniform kernels, zero biases): MLP {glue:text}`dia_arch_mlp`, SimpleNN
#   {glue:text}`dia_arch_simplenn`, CNN {glue:text}`dia_arch_cnn` (layer widths and dropout rates as
#   listed in `lossbook.nets.models`); sigmoid outputs. For the CNN the paper leaves out pool size,
#   dropout and the dense width; we use pool {glue:text}`dia_cnn_pool_size`, dropout
#   {glue:text}`dia_cnn_dropout_after_pool`, a {glue:text}`dia_cnn_dense_units`-unit ReLU layer and dropout
#   {glue:text}`dia_cnn_dropout_after_dense`.
# * **Training.** Adam (learning rate {glue:text}`dia_learning_rate`), batch {glue:text}`dia_batch_size`, at most
#   {glue:text}`dia_max_epochs` epochs, early stopping on validation ROC-AUC with patience
#   {glue:text}`dia_patience` and the best weights restored; threshold 0.5. Losses from
#   `lossbook.core.losses`: BCE, focal (α {glue:text}`dia_focal_alpha`, γ {glue:text}`dia_focal_gamma`) and Dice
#   (ε {glue:text}`dia_dice_eps`).
# * **Choices the paper leaves open.** Early stopping needs validation data: in the leak-free
#   protocol it watches an inner stratified split ({glue:text}`dia_val_fraction:.0%`) of each training
#   fold, which chooses the number of epochs; the network is then **refitted on the whole training
#   fold for that many epochs** (no early stopping), so it fits on as many drugs as the baselines
#   below. The earlier variant, which scores the inner model fitted on
#   {glue:text}`dia_inner_share:.0%` of the training fold, is kept as the ablation "no refit".
#   The paper names class weights and label smoothing without values; after SMOTE each
#   training fold is balanced 1:1, so "balanced" class weights are exactly 1 and that is our
#   default; label smoothing defaults to 0. Both are varied below.
# * **Cross-validation.** Stratified 5-fold, repeated {glue:text}`dia_n_repeats` times with
#   different shuffles: {glue:text}`dia_n_fold_models` fold models per configuration.
#
# Three protocols:
#
# * **leak-free**: filter, StandardScaler and SMOTE are an `imblearn` pipeline fitted on the
#   training rows of each fold; test folds keep the real class ratio
#   (prevalence {glue:text}`dia_prevalence:.2f`).
# * **leaky**: filter, scaling and SMOTE are applied to all {glue:text}`dia_n_train` drugs first, then the
#   resampled set of {glue:text}`dia_n_leaky` drugs is split: test folds are balanced 1:1 and
#   hold synthetic drugs interpolated between real ones, some of whose neighbours are in the
#   training folds. Early stopping as in leak-free (inner split), no refit.
# * **paper**: what the paper's text describes doing in practice: the leaky preprocessing, training on
#   the whole training fold, and early stopping (patience {glue:text}`dia_patience`, at most
#   {glue:text}`dia_max_epochs` epochs, val_AUC) on the validation fold that is then scored.
#
# The resampled set is not split afresh: each leaky or paper test fold is the leak-free test fold
# (the same real drugs) plus a random fifth of the synthetic drugs, drawn anew for each repeat. That
# is a stratified partition of the resampled set like any other, and it lets every protocol be
# compared fold by fold on the same real drugs.

# %%
# every arm of one configuration trains in one batched call; the outer-stopping arm (for the
# decomposition) only for variant_models
main_arms = ["leak_free", "leak_free_no_refit", "leaky", "paper"]
bar = tqdm(total=len(parameters["models"]) * len(parameters["losses"]), desc="grid")
parts = []
variant = [m for m in parameters["models"] if m in parameters["variant_models"]]
others = [m for m in parameters["models"] if m not in parameters["variant_models"]]
for chosen, arms in ((variant, main_arms + ["leak_free_outer"]), (others, main_arms)):
    if chosen:
        parts.append(dia.run_arms(X, y, parameters, arms, data_sha256=train.sha256, models=chosen, progress=bar.update,
                                  executor=pool))
bar.close()
frames = {name: pd.concat([part[name] for part in parts if name in part], ignore_index=True)
          for name in main_arms + ["leak_free_outer"] if any(name in part for part in parts)}
tables = {name: dia.table1(frame) for name, frame in frames.items()}
GLUE_PREFIX = {"leak_free": "lf", "leaky": "lk", "paper": "pp"}
leaky_size = int(2 * (y == 0).sum())
glue("dia_inner_share", 1 - val_fraction, display=False)
for name in lbmodels.ARCHITECTURES:
    spec = lbmodels.architecture(name)
    widths = "-".join(str(layer.size) for layer in spec if layer.kind in ("dense", "conv1d"))
    drops = "/".join(f"{layer.size:g}" for layer in spec if layer.kind == "dropout")
    glue(f"dia_arch_{name}", f"{widths} (dropout {drops})", display=False)
glue("dia_n_train", len(y), display=False)
glue("dia_n_pos", int(y.sum()), display=False)
glue("dia_n_desc", X.shape[1], display=False)
glue("dia_prevalence", float(y.mean()), display=False)
glue("dia_val_fraction", val_fraction, display=False)
glue("dia_n_repeats", n_repeats, display=False)
glue("dia_n_splits", n_splits, display=False)
glue("dia_n_fold_models", n_splits * n_repeats, display=False)
glue("dia_n_leaky", leaky_size, display=False)

# %% [markdown]
# ## Table 1, re-run under three protocols
#
# {numref}`tbl-dia-table1-accuracy` to {numref}`tbl-dia-table1-roc-auc` set the paper's Table 1 beside our
# re-runs, one metric per table: the paper's value, then our mean ± standard deviation over folds and
# repeats under each protocol.

# %%
TABLE1_PROTOCOLS = {"leak_free": "leak-free", "leaky": "leaky", "paper": "paper protocol"}
for metric in dia.PAPER_METRICS:
    per_metric = pd.DataFrame(
        {"paper's Table 1": [f"{v:.2f}" for v in tables["leak_free"][f"{metric}_paper"]],
         **{words: [f"{a:.2f} ± {b:.2f}" for a, b in zip(tables[name].loc[tables["leak_free"].index, f"{metric}_mean"],
                                                   tables[name].loc[tables["leak_free"].index, f"{metric}_std"])]
            for name, words in TABLE1_PROTOCOLS.items()}},
        index=[plots.config_label(*key) for key in tables["leak_free"].index])
    glue_table(f"tbl_dia_table1_{metric}", per_metric, index_header="configuration")

# %% [markdown]
# :::{table} Accuracy at threshold 0.5, Table 1 of the paper re-run: for each network and loss: the paper's Table 1 value, and our mean ± standard deviation over {glue:text}`dia_n_splits` folds × {glue:text}`dia_n_repeats` repeat(s) under the leak-free, leaky and paper protocols.
# :name: tbl-dia-table1-accuracy
#
# ```{glue:md} tbl_dia_table1_accuracy
# :format: myst
# ```
# :::
#
# :::{table} Precision at threshold 0.5, Table 1 of the paper re-run: for each network and loss: the paper's Table 1 value, and our mean ± standard deviation over {glue:text}`dia_n_splits` folds × {glue:text}`dia_n_repeats` repeat(s) under the leak-free, leaky and paper protocols.
# :name: tbl-dia-table1-precision
#
# ```{glue:md} tbl_dia_table1_precision
# :format: myst
# ```
# :::
#
# :::{table} Recall at threshold 0.5, Table 1 of the paper re-run: for each network and loss: the paper's Table 1 value, and our mean ± standard deviation over {glue:text}`dia_n_splits` folds × {glue:text}`dia_n_repeats` repeat(s) under the leak-free, leaky and paper protocols.
# :name: tbl-dia-table1-recall
#
# ```{glue:md} tbl_dia_table1_recall
# :format: myst
# ```
# :::
#
# :::{table} F1 at threshold 0.5, Table 1 of the paper re-run: for each network and loss: the paper's Table 1 value, and our mean ± standard deviation over {glue:text}`dia_n_splits` folds × {glue:text}`dia_n_repeats` repeat(s) under the leak-free, leaky and paper protocols.
# :name: tbl-dia-table1-f1
#
# ```{glue:md} tbl_dia_table1_f1
# :format: myst
# ```
# :::
#
# :::{table} ROC-AUC, Table 1 of the paper re-run: for each network and loss: the paper's Table 1 value, and our mean ± standard deviation over {glue:text}`dia_n_splits` folds × {glue:text}`dia_n_repeats` repeat(s) under the leak-free, leaky and paper protocols.
# :name: tbl-dia-table1-roc-auc
#
# ```{glue:md} tbl_dia_table1_roc_auc
# :format: myst
# ```
# :::

# %%
lf, lk, pp = tables["leak_free"], tables["leaky"], tables["paper"]
for name, t in (("lf", lf), ("lk", lk), ("pp", pp)):
    for metric in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        glue(f"dia_{name}_mlp_focal_{metric}", float(t.loc[("mlp", "focal"), f"{metric}_mean"]), display=False)
    glue(f"dia_{name}_mean_abs_delta", float(np.mean(np.abs(t[[f"{m}_delta" for m in dia.PAPER_METRICS]].to_numpy()))),
         display=False)
glue("dia_lf_best_auc", float(lf["roc_auc_mean"].max()), display=False)
glue("dia_lf_best_auc_config", plots.config_label(*lf["roc_auc_mean"].idxmax()), display=False)
glue("dia_lf_mean_f1", float(lf["f1_mean"].mean()), display=False)
glue("dia_lk_mean_f1", float(lk["f1_mean"].mean()), display=False)

# %% [markdown]
# Without leakage, MLP + focal reaches accuracy {glue:text}`dia_lf_mlp_focal_accuracy:.3f`,
# precision {glue:text}`dia_lf_mlp_focal_precision:.3f`, recall
# {glue:text}`dia_lf_mlp_focal_recall:.3f`, F1 {glue:text}`dia_lf_mlp_focal_f1:.3f` and ROC-AUC
# {glue:text}`dia_lf_mlp_focal_roc_auc:.3f`, against the paper's {glue:text}`dia_paper_mlp_focal_accuracy:.2f`,
# {glue:text}`dia_paper_mlp_focal_precision:.2f`, {glue:text}`dia_paper_mlp_focal_recall:.2f`,
# {glue:text}`dia_paper_mlp_focal_f1:.2f` and {glue:text}`dia_paper_mlp_focal_roc_auc:.2f`. The mean absolute gap between our leak-free table and the paper's, over the nine rows
# and five metrics, is {glue:text}`dia_lf_mean_abs_delta:.3f`; for the leaky protocol it is
# {glue:text}`dia_lk_mean_abs_delta:.3f`. Under the leaky protocol the same configuration
# scores accuracy {glue:text}`dia_lk_mlp_focal_accuracy:.3f`, F1 {glue:text}`dia_lk_mlp_focal_f1:.3f`
# and ROC-AUC {glue:text}`dia_lk_mlp_focal_roc_auc:.3f`; under the paper's protocol accuracy
# {glue:text}`dia_pp_mlp_focal_accuracy:.3f`, F1 {glue:text}`dia_pp_mlp_focal_f1:.3f` and ROC-AUC
# {glue:text}`dia_pp_mlp_focal_roc_auc:.3f` (mean absolute gap to the paper's table
# {glue:text}`dia_pp_mean_abs_delta:.3f`). The average F1 over the nine rows is
# {glue:text}`dia_lf_mean_f1:.3f` leak-free and {glue:text}`dia_lk_mean_f1:.3f` leaky. The
# paper's precision and F1 are only reachable on balanced test folds: on a real 1:3 test fold
# the same ranking quality gives far more false positives per true positive. ROC-AUC does not
# depend on the test prevalence, so its rise from {glue:text}`dia_lf_mlp_focal_roc_auc:.3f` to
# {glue:text}`dia_lk_mlp_focal_roc_auc:.3f` is the leak itself: in the leaky folds many test drugs
# are SMOTE interpolations between drugs the model was trained on.
#
# The metrics the paper does not report suit a 1:3 imbalance better than accuracy
# ({numref}`tbl-dia-extra`, leak-free, and {numref}`tbl-dia-extra-leaky`, leaky).

# %%
EXTRA_METRICS = {"pr_auc": "PR-AUC", "balanced_accuracy": "balanced accuracy", "mcc": "MCC", "brier": "Brier score"}
for protocol, t in (("leak_free", lf), ("leaky", lk)):
    extra = pd.DataFrame({words: t.loc[lf.index, f"{m}_mean"].to_numpy() for m, words in EXTRA_METRICS.items()},
                         index=[plots.config_label(*key) for key in lf.index])
    glue_table(f"tbl_dia_extra_{protocol}", extra, index_header="configuration")

# %% [markdown]
# :::{table} Metrics the paper does not report, leak-free protocol, mean over folds and repeats: PR-AUC, balanced accuracy, Matthews correlation (MCC) and Brier score (lower is better).
# :name: tbl-dia-extra
#
# ```{glue:md} tbl_dia_extra_leak_free
# :format: myst
# ```
# :::
#
# :::{table} The same metrics under the leaky protocol.
# :name: tbl-dia-extra-leaky
#
# ```{glue:md} tbl_dia_extra_leaky
# :format: myst
# ```
# :::

# %% [markdown]
# ## From the paper's Table 1 to the leak-free result, in parts
#
# The paper's protocol differs from the leak-free one in three ways, and each is measured as a paired
# difference over the same folds and repeats: the same real test drugs in every fold, interval from the
# corrected resampled t-test {cite}`nadeau2003inference` with the training and test fold sizes of the
# actual splits. From the leak-free networks upwards:
#
# * **early stopping on the scored fold**: leak-free models trained on the whole training fold and
#   stopped on the test fold, minus the leak-free refits (whole training fold, epochs chosen on an
#   inner split). Both fit the same rows, so the difference is the optimism of letting the test fold
#   choose the epoch.
# * **preprocessing fitted before splitting**: the paper-protocol models scored on the *real* drugs of
#   their test folds (which are exactly the leak-free test folds, at the real prevalence), minus the
#   previous step. Filter, scaling and SMOTE saw every drug, so some synthetic training drugs are
#   interpolations from test drugs; early stopping also watched a balanced fold holding synthetic drugs.
# * **balanced test folds**: the same paper-protocol models scored on their whole test folds (1:1, with
#   synthetic drugs), minus the same models on the real drugs of those folds. For accuracy and F1 this is
#   mostly the prevalence; for ROC-AUC, which does not depend on prevalence, it is the synthetic test
#   drugs, which are easier to rank.
# * **remaining gap**: the paper's Table 1 value minus our paper-protocol mean (interval from our folds
#   only; the paper reports no spread).
#
# The parts add up to the paper's value minus our leak-free mean.

# %%
STEP_LABELS = {"early_stopping_on_scored_fold": "early stopping\non scored fold",
               "preprocessing_before_split": "preprocessing\nbefore split",
               "balanced_test_folds": "balanced\ntest folds", "remaining_gap_to_paper": "remaining gap\nto paper"}
decomp_metrics = ("accuracy", "f1", "roc_auc")
decomposition = {f"{m}+{l}": {metric: dia.decomposition(frames, m, l, metric) for metric in decomp_metrics}
                 for m in parameters["variant_models"] if m in parameters["models"] for l in parameters["losses"]}
HEADLINE = "mlp+focal" if "mlp+focal" in decomposition else next(iter(decomposition))  # the paper's headline row
headline = decomposition[HEADLINE]
glue("dia_headline", plots.config_label(HEADLINE), display=False)
glue_table("tbl_dia_decomposition", dia.decomposition_table(headline), index=False, missing_means="no test (a level, not a step)",
           headers={"value": "level or step [95 % interval]", "p": "p-value"})
for metric, d in headline.items():
    glue_estimate(f"dia_dec_{metric}_lf", d["levels"]["leak_free"])
    glue_estimate(f"dia_dec_{metric}_paper_ours", d["levels"]["paper"])
    for name, part in d["parts"].items():
        glue_estimate(f"dia_dec_{metric}_{name}", part)
    glue(f"dia_dec_{metric}_total", d["total"], display=False)
    glue(f"dia_dec_{metric}_paper_value", d["levels"]["paper_table1"].estimate, display=False)

fig = plots.waterfalls({plots.label(metric): (d["levels"]["leak_free"].estimate,
                                              {STEP_LABELS[name]: part for name, part in d["parts"].items()},
                                              d["levels"]["paper_table1"].estimate)
                        for metric, d in headline.items()}, start_label="leak-free", end_label="paper's\nTable 1")
plots.save_figure(fig, "dia", "decomposition", glue_key="fig_dia_decomposition")

# %% [markdown]
# ```{glue:figure} fig_dia_decomposition
# :name: fig-dia-decomposition
#
# From our leak-free {glue:text}`dia_headline` (grey, refitted networks, mean over folds and repeats) to the paper's
# Table 1 value (black): each coloured step is the mean paired per-fold difference that one change of
# protocol makes, with its 95 % corrected resampled t-interval (error bar at the step's end). Stratified
# {glue:text}`dia_n_splits`-fold CV, {glue:text}`dia_n_repeats` repeats, the parameters at the top of this
# page. Made by `notebooks/dia.py`.
# ```
#
# :::{table} From our leak-free {glue:text}`dia_headline` to the paper's Table 1, step by step (the numbers behind {numref}`fig-dia-decomposition`): levels are means over folds and repeats; each step is a mean paired per-fold difference with its 95 % corrected resampled t-interval and p-value; a dash marks a level, which has no test.
# :name: tbl-dia-decomposition
#
# ```{glue:md} tbl_dia_decomposition
# :format: myst
# ```
# :::
#
# {numref}`tbl-dia-decomposition` gives the numbers behind {numref}`fig-dia-decomposition`.
# For {glue:text}`dia_headline` ROC-AUC the leak-free refits score {glue:text}`dia_dec_roc_auc_lf:.3f`; early stopping
# on the scored fold adds {glue:text}`dia_dec_roc_auc_early_stopping_on_scored_fold:+.3f`
# ({glue:text}`dia_dec_roc_auc_early_stopping_on_scored_fold_lo:+.3f` to
# {glue:text}`dia_dec_roc_auc_early_stopping_on_scored_fold_hi:+.3f`), preprocessing before the split
# {glue:text}`dia_dec_roc_auc_preprocessing_before_split:+.3f`
# ({glue:text}`dia_dec_roc_auc_preprocessing_before_split_lo:+.3f` to
# {glue:text}`dia_dec_roc_auc_preprocessing_before_split_hi:+.3f`) and the balanced, partly synthetic test
# folds {glue:text}`dia_dec_roc_auc_balanced_test_folds:+.3f`
# ({glue:text}`dia_dec_roc_auc_balanced_test_folds_lo:+.3f` to
# {glue:text}`dia_dec_roc_auc_balanced_test_folds_hi:+.3f`). Our paper-protocol mean,
# {glue:text}`dia_dec_roc_auc_paper_ours:.3f`, leaves {glue:text}`dia_dec_roc_auc_remaining_gap_to_paper:+.3f`
# to the paper's {glue:text}`dia_dec_roc_auc_paper_value:.2f`. For F1 the steps are
# {glue:text}`dia_dec_f1_early_stopping_on_scored_fold:+.3f`, {glue:text}`dia_dec_f1_preprocessing_before_split:+.3f`
# and {glue:text}`dia_dec_f1_balanced_test_folds:+.3f`, leaving {glue:text}`dia_dec_f1_remaining_gap_to_paper:+.3f`
# (paper-protocol F1 {glue:text}`dia_dec_f1_paper_ours:.3f`, interval
# {glue:text}`dia_dec_f1_paper_ours_lo:.3f` to {glue:text}`dia_dec_f1_paper_ours_hi:.3f`); for accuracy
# {glue:text}`dia_dec_accuracy_early_stopping_on_scored_fold:+.3f`,
# {glue:text}`dia_dec_accuracy_preprocessing_before_split:+.3f` and
# {glue:text}`dia_dec_accuracy_balanced_test_folds:+.3f`, leaving
# {glue:text}`dia_dec_accuracy_remaining_gap_to_paper:+.3f` (paper-protocol accuracy
# {glue:text}`dia_dec_accuracy_paper_ours:.3f`, interval {glue:text}`dia_dec_accuracy_paper_ours_lo:.3f` to
# {glue:text}`dia_dec_accuracy_paper_ours_hi:.3f`).

# %% [markdown]
# ## Networks on equal terms: the refit
#
# Early stopping needs validation rows. Scoring the model that early stopping kept means a network
# fits on {glue:text}`dia_inner_share:.0%` of each training fold while the baselines fit on all of it.
# So by default every leak-free network is refitted on the whole training fold for the number of
# epochs the inner split chose (and, for the external test, on all {glue:text}`dia_n_train` drugs). The
# handicap of not refitting (refit minus no refit, paired over the same folds, corrected t-intervals):

# %%
n_tr, n_te = dia._sizes(frames["leak_free"])
handicap = {}
for (model, loss) in lf.index:
    handicap[f"{model}+{loss}"] = {
        metric: dia.paired_estimate(dia._fold_scores(frames["leak_free_no_refit"], model, loss, metric),
                                    dia._fold_scores(frames["leak_free"], model, loss, metric),
                                    n_train=n_tr, n_test=n_te)[0]
        for metric in ("roc_auc", "f1", "accuracy")}
handicap_table = pd.DataFrame({plots.config_label(c): v for c, v in handicap.items()}).T[["roc_auc", "f1"]]
glue_table("tbl_dia_refit", handicap_table, index_header="configuration", decimals=3)
glue_estimate("dia_refit_gain_auc", handicap[HEADLINE]["roc_auc"])
glue_estimate("dia_refit_gain_f1", handicap[HEADLINE]["f1"])
glue("dia_refit_mean_gain_auc", float(np.mean([v["roc_auc"].estimate for v in handicap.values()])), display=False)
glue("dia_n_train_fold", n_tr, display=False)
glue("dia_n_test_fold", n_te, display=False)

# %% [markdown]
# :::{table} The refit's effect on each leak-free network: refitted on the whole training fold minus scored as fitted on the inner split, mean paired difference in ROC-AUC and F1 over folds and repeats with its 95 % corrected resampled t-interval (accuracy is in the results file).
# :name: tbl-dia-refit
#
# ```{glue:md} tbl_dia_refit
# :format: myst
# ```
# :::

# %% [markdown]
# Refitting {glue:text}`dia_headline` on the whole training fold ({numref}`tbl-dia-refit`) changes its ROC-AUC by
# {glue:text}`dia_refit_gain_auc:+.3f` ({glue:text}`dia_refit_gain_auc_lo:+.3f` to
# {glue:text}`dia_refit_gain_auc_hi:+.3f`) and its F1 by {glue:text}`dia_refit_gain_f1:+.3f`
# ({glue:text}`dia_refit_gain_f1_lo:+.3f` to {glue:text}`dia_refit_gain_f1_hi:+.3f`); averaged over the nine
# configurations the ROC-AUC change is {glue:text}`dia_refit_mean_gain_auc:+.3f`. Training folds hold
# {glue:text}`dia_n_train_fold` drugs and test folds {glue:text}`dia_n_test_fold`; these sizes enter every
# corrected interval in this chapter.

# %% [markdown]
# ## The paper's confusion counts: which data set was cross-validated?
#
# The paper gives false positives and false negatives "aggregated across all folds and repetitions"
# for four configurations. With its Table 1 row (rounded to two decimals), they pin down how many rows
# were scored: we search every integer confusion matrix with those FP and FN whose accuracy, precision
# and recall round to the table's values ({numref}`tbl-dia-confusion-implied`). Beside them, the rows each
# candidate data set holds, which one repeat of 5-fold CV scores once ({numref}`tbl-dia-candidates`), and our
# own counts ({numref}`tbl-dia-confusion-ours`).

# %%
candidates = dia.candidate_row_counts(y, test.y)
confusion = dia.confusion_analysis(frames, candidates)
fits = confusion["candidates_consistent"]
implied_rows, ours_rows = dia.confusion_tables(confusion)
glue_table("tbl_dia_confusion_implied", implied_rows, index=False)
glue_table("tbl_dia_confusion_ours", ours_rows, index=False, missing_means="configuration not run")
glue_table("tbl_dia_candidates", pd.DataFrame({"data set": list(candidates), "rows": list(candidates.values())}),
           index=False)
mf = confusion["implied"]["mlp+focal"]
glue("dia_cm_mlp_rows_lo", mf["rows_scored_range"][0], display=False)
glue("dia_cm_mlp_rows_hi", mf["rows_scored_range"][1], display=False)
glue("dia_cm_mlp_share_lo", mf["positive_share_range"][0], display=False)
glue("dia_cm_mlp_share_hi", mf["positive_share_range"][1], display=False)
glue("dia_cm_mlp_fp", confusion["paper"]["mlp+focal"]["fp"], display=False)
glue("dia_cm_mlp_fn", confusion["paper"]["mlp+focal"]["fn"], display=False)
glue("dia_cm_consistent", "; ".join(sorted(set(fits["mlp+focal"]) & set(fits["cnn+focal"]))) or "none of them", display=False)
glue("dia_n_all_drugs", len(y) + len(test.y), display=False)
glue("dia_n_all_resampled", candidates["all drugs resampled 1:1"], display=False)
glue("dia_n_repeats_total_lf", len(y) * n_repeats, display=False)

# %% [markdown]
# :::{table} The paper's false positives and false negatives (aggregated over its folds and repetitions) for four configurations, and the number of rows scored and positive share that any confusion matrix with those counts needs to reproduce the paper's Table 1 accuracy, precision and recall to two decimals.
# :name: tbl-dia-confusion-implied
#
# ```{glue:md} tbl_dia_confusion_implied
# :format: myst
# ```
# :::
#
# :::{table} Our false positives / false negatives per repeat of 5-fold cross-validation for the same four configurations, with the rows scored per repeat in brackets, under each protocol.
# :name: tbl-dia-confusion-ours
#
# ```{glue:md} tbl_dia_confusion_ours
# :format: myst
# ```
# :::
#
# :::{table} Candidate data sets the paper could have cross-validated, and their number of rows.
# :name: tbl-dia-candidates
#
# ```{glue:md} tbl_dia_candidates
# :format: myst
# ```
# :::

# %% [markdown]
# MLP + focal's {glue:text}`dia_cm_mlp_fp` false positives and {glue:text}`dia_cm_mlp_fn` false negatives fit
# the paper's own accuracy, precision and recall only if {glue:text}`dia_cm_mlp_rows_lo` to
# {glue:text}`dia_cm_mlp_rows_hi` rows were scored, with a positive share of
# {glue:text}`dia_cm_mlp_share_lo:.2f` to {glue:text}`dia_cm_mlp_share_hi:.2f`: a balanced set, not the
# {glue:text}`dia_n_train` training drugs at prevalence {glue:text}`dia_prevalence:.2f` (nor
# {glue:text}`dia_n_repeats_total_lf` rows over all our repeats). Of the candidate data sets above, the one(s)
# consistent with both MLP + focal's and CNN + focal's counts: {glue:text}`dia_cm_consistent`. A positive
# share near one half is what a set resampled 1:1 before splitting has.

# %% [markdown]
# ## The CNN + Dice row, and models that predict one class
#
# The paper's CNN + Dice row (accuracy {glue:text}`dia_paper_cnn_dice_accuracy:.2f`, precision
# {glue:text}`dia_paper_cnn_dice_precision:.2f`, recall {glue:text}`dia_paper_cnn_dice_recall:.2f`, F1
# {glue:text}`dia_paper_cnn_dice_f1:.2f`) is exactly what a model scores that calls
# every drug positive on a test set that is half positive: accuracy and precision equal the
# prevalence, recall is 1 and F1 is 2π/(1+π). Half-positive test folds are what the leaky
# protocol produces; on the real folds (prevalence {glue:text}`dia_prevalence:.2f`) the
# all-positive classifier scores lower.

# %%
prevalence = {name: float(frames[name]["test_prevalence"].mean()) for name in dia.PROTOCOLS}
reference = pd.DataFrame({f"all positive at π={prevalence[name]:.3f} ({name})": metrics.all_positive_scores(prevalence[name])
                          for name in dia.PROTOCOLS}).T
reference.loc["paper CNN + Dice"] = [dia.PAPER_TABLE1[("cnn", "dice")][m] for m in ("accuracy", "precision", "recall", "f1")]
collapse = pd.concat({name: frames[name].groupby(["model", "loss"], sort=False)["single_class"].mean()
                      for name in dia.PROTOCOLS}, axis=1)
collapse_by_loss = pd.concat({name: frames[name].groupby("loss", sort=False)["single_class"].mean()
                              for name in dia.PROTOCOLS}, axis=1)
below_half = pd.concat({name: frames[name].groupby(["model", "loss"], sort=False)["roc_auc"].apply(lambda s: float((s < 0.5).mean()))
                        for name in dia.PROTOCOLS}, axis=1)
all_pos = metrics.all_positive_scores(0.5)
glue("dia_allpos_half_f1", all_pos["f1"], display=False)
glue("dia_allpos_lf_f1", metrics.all_positive_scores(prevalence["leak_free"])["f1"], display=False)
glue("dia_prev_lf", prevalence["leak_free"], display=False)
glue("dia_prev_lk", prevalence["leaky"], display=False)
for name in dia.PROTOCOLS:
    short = GLUE_PREFIX[name]
    for loss in parameters["losses"]:
        glue(f"dia_{short}_collapse_{loss}", float(collapse_by_loss.loc[loss, name]), display=False)
    if ("cnn", "dice") in tables[name].index:
        glue(f"dia_{short}_cnn_dice_auc", float(tables[name].loc[("cnn", "dice"), "roc_auc_mean"]), display=False)
        glue(f"dia_{short}_cnn_dice_f1", float(tables[name].loc[("cnn", "dice"), "f1_mean"]), display=False)
        glue(f"dia_{short}_cnn_dice_collapse", float(tables[name].loc[("cnn", "dice"), "single_class"]), display=False)
collapse_freq, cnn_dice_counts = {}, {}
if ("cnn", "dice") in lf.index:
    for name in dia.PROTOCOLS:
        collapse_freq[name] = dia.collapse_frequency(frames[name], "cnn", "dice")
        glue_estimate(f"dia_{GLUE_PREFIX[name]}_collapse_cp", collapse_freq[name])
        glue(f"dia_{GLUE_PREFIX[name]}_collapse_k", int(round(collapse_freq[name].estimate * collapse_freq[name].n)), display=False)
        c = dia.confusion_counts(frames[name], "cnn", "dice")
        cnn_dice_counts[name] = {**c, "negatives_scored": c["tn"] + c["fp"]}
        glue(f"dia_{GLUE_PREFIX[name]}_cnn_dice_fp", cnn_dice_counts[name]["fp"], display=False)
        glue(f"dia_{GLUE_PREFIX[name]}_cnn_dice_neg", cnn_dice_counts[name]["negatives_scored"], display=False)
    glue("dia_n_cnn_dice_folds", collapse_freq["leak_free"].n, display=False)
else:
    for name in dia.PROTOCOLS:
        glue_estimate(f"dia_{GLUE_PREFIX[name]}_collapse_cp", Estimate(float("nan")))
        for what in ("collapse_k", "cnn_dice_fp", "cnn_dice_neg"):
            glue(f"dia_{GLUE_PREFIX[name]}_{what}", "n/a", display=False)
    glue("dia_n_cnn_dice_folds", "n/a", display=False)
zero_errors_feasible = dia.implied_confusion(0, 0, dia.PAPER_TABLE1[("cnn", "dice")])["feasible"]
glue("dia_zero_errors_feasible", "does" if zero_errors_feasible else "does not", display=False)
reference_shown = reference.copy()
reference_shown.index = [f"all positive, {TABLE1_PROTOCOLS[name]} test folds (prevalence {prevalence[name]:.3f})"
                         for name in dia.PROTOCOLS] + ["the paper's CNN + Dice"]
glue_table("tbl_dia_all_positive", reference_shown, index_header="classifier")
collapse_shown = pd.DataFrame(
    {**{f"one class, {TABLE1_PROTOCOLS[name]}": collapse[name] for name in dia.PROTOCOLS},
     **{f"ROC-AUC < 0.5, {TABLE1_PROTOCOLS[name]}": below_half[name] for name in dia.PROTOCOLS}})
collapse_shown.index = [plots.config_label(*key) for key in collapse_shown.index]
glue_table("tbl_dia_collapse", collapse_shown, index_header="configuration")

# %% [markdown]
# :::{table} What a classifier that calls every drug positive scores at each protocol's test-fold prevalence, beside the paper's CNN + Dice row.
# :name: tbl-dia-all-positive
#
# ```{glue:md} tbl_dia_all_positive
# :format: myst
# ```
# :::
#
# :::{table} Share of fold models that predict a single class ("one class"), and share of folds with a ROC-AUC below 0.5, per configuration and protocol.
# :name: tbl-dia-collapse
#
# ```{glue:md} tbl_dia_collapse
# :format: myst
# ```
# :::

# %% [markdown]
# An all-positive classifier ({numref}`tbl-dia-all-positive`) at prevalence 0.5 has F1 {glue:text}`dia_allpos_half_f1:.3f`; at the
# leak-free folds' prevalence ({glue:text}`dia_prev_lf:.3f`) its F1 is only
# {glue:text}`dia_allpos_lf_f1:.3f`. So the paper's CNN + Dice row is what a collapsed model
# scores on balanced test folds, which a leak-free protocol cannot produce: it points to test
# folds that were resampled (prevalence {glue:text}`dia_prev_lk:.3f` in our leaky protocol).
#
# How often does each loss make a fold model predict a single class ({numref}`tbl-dia-collapse`)? Leak-free: BCE
# {glue:text}`dia_lf_collapse_bce:.3f`, focal {glue:text}`dia_lf_collapse_focal:.3f`, Dice
# {glue:text}`dia_lf_collapse_dice:.3f` of the fold models; leaky: BCE
# {glue:text}`dia_lk_collapse_bce:.3f`, focal {glue:text}`dia_lk_collapse_focal:.3f`, Dice
# {glue:text}`dia_lk_collapse_dice:.3f`; paper protocol: BCE {glue:text}`dia_pp_collapse_bce:.3f`, focal
# {glue:text}`dia_pp_collapse_focal:.3f`, Dice {glue:text}`dia_pp_collapse_dice:.3f`.
#
# The collapse itself reproduces: {glue:text}`dia_lf_collapse_k` of the {glue:text}`dia_n_cnn_dice_folds`
# leak-free CNN + Dice fold models predict a single class (share {glue:text}`dia_lf_collapse_cp:.2f`, exact
# Clopper-Pearson 95 % interval {glue:text}`dia_lf_collapse_cp_lo:.2f` to {glue:text}`dia_lf_collapse_cp_hi:.2f`),
# and {glue:text}`dia_pp_collapse_k` under the paper's protocol ({glue:text}`dia_pp_collapse_cp_lo:.2f` to
# {glue:text}`dia_pp_collapse_cp_hi:.2f`). The paper also says this model has "zero false positives and zero
# false negatives". A model that calls every drug positive has as many false positives as there are
# negatives scored: our leak-free CNN + Dice has {glue:text}`dia_lf_cnn_dice_fp` false positives among
# {glue:text}`dia_lf_cnn_dice_neg` negatives scored, and {glue:text}`dia_pp_cnn_dice_fp` among
# {glue:text}`dia_pp_cnn_dice_neg` under the paper's protocol. The paper's own row contradicts it too: a
# confusion matrix with no false positives and no false negatives {glue:text}`dia_zero_errors_feasible` fit a
# precision of {glue:text}`dia_paper_cnn_dice_precision:.2f`.
#
# Our CNN + Dice averages ROC-AUC
# {glue:text}`dia_lf_cnn_dice_auc:.3f` leak-free and {glue:text}`dia_lk_cnn_dice_auc:.3f` leaky.
#
# Why can an AUC fall below 0.5? A model that gives every drug the *same* score has an AUC of
# exactly 0.5: every positive-negative pair is a tie, counted half. Below 0.5 needs scores that
# vary and put negatives above positives more often than not. A collapsed CNN + Dice model is
# saturated (its sigmoid outputs sit next to 1, where the gradient vanishes), but its scores
# are not exactly equal, and we measured what orders them:

# %%
diagnostics = {}
for protocol in ("leak_free", "leaky"):
    if ("cnn", "dice") in tables[protocol].index:
        diagnostics[protocol] = dia.collapse_diagnostics(frames[protocol], X, y, parameters, protocol=protocol)
if diagnostics:
    diag_shown = pd.DataFrame(diagnostics).T.rename(index=TABLE1_PROTOCOLS)
    diag_shown["score_spread_median"] = diag_shown["score_spread_median"] * 1e6  # a spread of millionths, shown as such
    glue_table("tbl_dia_collapse_diagnostics", diag_shown.astype({"n_folds": int}), index_header="protocol",
               headers={"score_spread_median": "median score spread in a fold (× 10⁻⁶)",
                        "spearman_score_length_mean": "rank correlation of score and descriptor length",
                        "length_auc_mean": "ROC-AUC of descriptor length as a score", "auc_mean": "mean ROC-AUC",
                        "auc_below_half_fraction": "share of folds with ROC-AUC < 0.5", "n_folds": "folds"})
else:
    glue_table("tbl_dia_collapse_diagnostics", pd.DataFrame({"CNN + Dice": ["not in this run's models and losses"]}),
               index=False)
for protocol, d in diagnostics.items():
    short = GLUE_PREFIX[protocol]
    glue(f"dia_{short}_spread", d["score_spread_median"], display=False)
    glue(f"dia_{short}_rho", d["spearman_score_length_mean"], display=False)
    glue(f"dia_{short}_length_auc", d["length_auc_mean"], display=False)
    glue(f"dia_{short}_below_half", d["auc_below_half_fraction"], display=False)

# %% [markdown]
# :::{table} What orders the scores of the collapsed CNN + Dice models, per protocol: the spread of the scores within a test fold, their Spearman correlation with the length of each drug's standardised descriptor vector, and the ROC-AUC that this length alone scores (fold means; the spread is a median).
# :name: tbl-dia-collapse-diagnostics
#
# ```{glue:md} tbl_dia_collapse_diagnostics
# :format: myst
# ```
# :::

# %% [markdown]
# Within a test fold ({numref}`tbl-dia-collapse-diagnostics`) the CNN + Dice scores span a median range of only
# {glue:text}`dia_lk_spread:.1e` (leaky) and {glue:text}`dia_lf_spread:.1e` (leak-free). Their rank
# correlation with the length of the drug's standardised descriptor vector is
# {glue:text}`dia_lk_rho:.2f` (leaky) and {glue:text}`dia_lf_rho:.2f` (leak-free): the leftover
# variation follows the size of the input, not anything learned about the label. Used as a score
# by itself, that length has an ROC-AUC of {glue:text}`dia_lk_length_auc:.2f` on the leaky folds and
# {glue:text}`dia_lf_length_auc:.2f` on the leak-free ones, because positives (and, in the leaky
# folds, SMOTE's synthetic positives, which are interpolations between two real positives and so
# sit closer to the centre) have shorter standardised vectors. A collapsed model therefore scores
# an AUC below 0.5 in {glue:text}`dia_lk_below_half:.0%` of the leaky folds and
# {glue:text}`dia_lf_below_half:.0%` of the leak-free ones: an AUC like the paper's {glue:text}`dia_paper_cnn_dice_roc_auc:.2f` is a
# symptom of collapse plus this size effect, not of a model that learned the classes backwards.

# %% [markdown]
# ## Figures like the paper's 5 to 8

# %%
fig = plots.mean_roc_grid({TABLE1_PROTOCOLS[p]: frames[p] for p in dia.PROTOCOLS},
                          parameters["models"], parameters["losses"])
plots.save_figure(fig, "dia", "roc_curves", glue_key="fig_dia_roc")

# %% [markdown]
# ```{glue:figure} fig_dia_roc
# :name: fig-dia-roc
#
# ROC curves per model (columns) and loss (colours; mean ROC-AUC in the legend), mean over folds and repeats,
# band ± one standard deviation across folds; rows: leak-free (refitted networks), leaky, paper protocol (whole,
# balanced test folds). Made by `notebooks/dia.py` with the
# parameters at the top of this page.
# ```

# %%
for protocol in dia.PROTOCOLS:
    matrices = {}
    for model in parameters["models"]:
        for loss in parameters["losses"]:
            g = frames[protocol][(frames[protocol].model == model) & (frames[protocol].loss == loss)]
            matrices[(plots.config_label(model), loss)] = np.array([[g.tn.sum(), g.fp.sum()], [g.fn.sum(), g.tp.sum()]])
    fig, _ = plots.confusion_panels(matrices)
    plots.save_figure(fig, "dia", f"confusion_{protocol}", glue_key=f"fig_dia_confusion_{protocol}")

# %% [markdown]
# ```{glue:figure} fig_dia_confusion_leak_free
# :name: fig-dia-confusion-leak-free
#
# Confusion matrices of the leak-free protocol, summed over all folds and repeats: rows of each matrix are the
# true class, columns the predicted class (threshold 0.5); one matrix per network (rows) and loss (columns).
# ```
#
# ```{glue:figure} fig_dia_confusion_leaky
# :name: fig-dia-confusion-leaky
#
# Confusion matrices of the leaky protocol, laid out as {numref}`fig-dia-confusion-leak-free`.
# ```
#
# ```{glue:figure} fig_dia_confusion_paper
# :name: fig-dia-confusion-paper
#
# Confusion matrices of the paper protocol on its whole (balanced, partly synthetic) test folds, laid out as
# {numref}`fig-dia-confusion-leak-free`.
# ```

# %%
fig, axes = plt.subplots(len(dia.PROTOCOLS), 1, figsize=(7, 2.6 * len(dia.PROTOCOLS)), sharex=True)
for ax, protocol in zip(axes, dia.PROTOCOLS):
    t = tables[protocol]
    means = t["f1_mean"].unstack("loss").loc[parameters["models"], parameters["losses"]]
    err = t["f1_std"].unstack("loss").loc[parameters["models"], parameters["losses"]]
    ref = pd.DataFrame({loss: [dia.PAPER_TABLE1[(m, loss)]["f1"] for m in parameters["models"]]
                        for loss in parameters["losses"]}, index=parameters["models"])
    names = [plots.config_label(m) for m in parameters["models"]]
    plots.bar_with_errors(means.set_axis(names), err=err.set_axis(names), reference=ref.set_axis(names), ax=ax,
                          ylabel="F1", title=TABLE1_PROTOCOLS[protocol], ylim=(0, 1.05))
    ax.axhline(metrics.all_positive_scores(prevalence[protocol])["f1"], ls=":", color="grey", lw=1)
    if protocol != dia.PROTOCOLS[0]:
        ax.get_legend().remove()  # one legend, on the top panel
    else:
        ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.12), frameon=False)
plots.save_figure(fig, "dia", "f1_bars", glue_key="fig_dia_f1")

# %% [markdown]
# ```{glue:figure} fig_dia_f1
# :name: fig-dia-f1
#
# F1 per model and loss, mean ± one standard deviation over folds and repeats; diamonds are the
# paper's Table 1 values, the dotted line the F1 of an all-positive classifier at the test
# folds' prevalence. Made by `notebooks/dia.py` with the parameters at the top of this page.
# ```

# %%
fig, axes = plt.subplots(len(parameters["models"]), 2, figsize=(7, 2.6 * len(parameters["models"])), squeeze=False)
f = frames["leak_free"]
for row, model in enumerate(parameters["models"]):
    hist = {loss: list(f[(f.model == model) & (f.loss == loss)]["history"]) for loss in parameters["losses"]}
    for col, metric in enumerate(("loss", "auc")):
        ax = axes[row, col]
        for i, (loss, runs) in enumerate(hist.items()):
            key = "loss" if metric == "loss" else "val_auc"
            length = min(len(r[key]) for r in runs)
            stack = np.array([r[key][:length] for r in runs])
            ax.plot(np.arange(1, length + 1), stack.mean(0), color=plots.color_for(loss, i), label=plots.label(loss))
            if metric == "loss":
                vstack = np.array([r["val_loss"][:length] for r in runs])
                ax.plot(np.arange(1, length + 1), vstack.mean(0), "--", color=plots.color_for(loss, i))
        ax.set(xlabel="epoch" if row == len(parameters["models"]) - 1 else "",
               ylabel="loss" if metric == "loss" else "validation ROC-AUC", title=plots.config_label(model))
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        if row == 0 and col == 0:
            ax.legend(title="loss")
plots.save_figure(fig, "dia", "training_curves", glue_key="fig_dia_curves")

# %% [markdown]
# ```{glue:figure} fig_dia_curves
# :name: fig-dia-curves
#
# Leak-free training (solid) and inner-validation (dashed) loss, and validation ROC-AUC, per
# epoch, of the inner runs that choose the epoch count, averaged over fold models up to the epoch
# where the first of them stopped. Losses of
# different kinds are on different scales. Made by `notebooks/dia.py` with the parameters at the top of this page.
# ```

# %% [markdown]
# ## Is MLP + focal better than the others?
#
# Means alone do not say so: the fold models share training data, so their scores are
# correlated. We compare each configuration with MLP + focal over the same folds and repeats
# with the corrected resampled t-test {cite}`nadeau2003inference`, on the leak-free ROC-AUC and F1.
# The comparisons form one family (every configuration, both metrics); Holm's adjustment controls its
# family-wise error rate, and the table shows raw and adjusted p-values side by side.

# %%
if ("mlp", "focal") in lf.index:
    paired = dia.holm_table(dia.paired_tests(frames["leak_free"]))
    glue("dia_n_sig_auc", int((paired["roc_auc_p"] < 0.05).sum()), display=False)
    glue("dia_n_sig_auc_holm", int((paired["roc_auc_p_holm"] < 0.05).sum()), display=False)
    glue("dia_n_compared", len(paired), display=False)
    glue("dia_n_family", 2 * len(paired), display=False)
    if ("mlp", "bce") in paired.index:
        glue("dia_focal_vs_bce_auc_diff", float(-paired.loc[("mlp", "bce"), "roc_auc_diff"]), display=False)
        glue("dia_focal_vs_bce_auc_p", float(paired.loc[("mlp", "bce"), "roc_auc_p"]), display=False)
        glue("dia_focal_vs_bce_auc_p_holm", float(paired.loc[("mlp", "bce"), "roc_auc_p_holm"]), display=False)
        glue("dia_focal_vs_bce_f1_diff", float(-paired.loc[("mlp", "bce"), "f1_diff"]), display=False)
        glue("dia_focal_vs_bce_f1_p", float(paired.loc[("mlp", "bce"), "f1_p"]), display=False)
        glue("dia_focal_vs_bce_f1_p_holm", float(paired.loc[("mlp", "bce"), "f1_p_holm"]), display=False)
    paired_shown = pd.DataFrame(
        {**{f"{plots.label(m)} [95 % CI]": [SimpleNamespace(estimate=r[f"{m}_diff"], ci_low=r[f"{m}_ci_low"], ci_high=r[f"{m}_ci_high"])
                                                               for _, r in paired.iterrows()] for m in ("roc_auc", "f1")},
         **{f"{plots.label(m)} p (Holm)": [f"{r[f'{m}_p']:.3f} ({r[f'{m}_p_holm']:.3f})" for _, r in paired.iterrows()]
            for m in ("roc_auc", "f1")}},
        index=[plots.config_label(*key) for key in paired.index])
    paired_shown = paired_shown[[c for m in ("roc_auc", "f1") for c in paired_shown.columns if c.startswith(plots.label(m) + " ")]]
    glue_table("tbl_dia_paired", paired_shown, index_header="configuration", decimals=2)
else:
    glue_table("tbl_dia_paired", pd.DataFrame({"comparison": ["not run: MLP + focal is not in this grid"]}), index=False)

# %% [markdown]
# :::{table} Each configuration minus MLP + focal over the same leak-free folds and repeats: mean paired difference in ROC-AUC and F1 with its 95 % corrected resampled t-interval, and the p-value, raw and (in brackets) Holm-adjusted over the family of all these tests.
# :name: tbl-dia-paired
#
# ```{glue:md} tbl_dia_paired
# :format: myst
# ```
# :::

# %% [markdown]
# {numref}`tbl-dia-paired` gives every comparison. MLP + focal minus MLP + BCE: ROC-AUC {glue:text}`dia_focal_vs_bce_auc_diff:+.3f`
# (p = {glue:text}`dia_focal_vs_bce_auc_p:.2f`, Holm {glue:text}`dia_focal_vs_bce_auc_p_holm:.2f`), F1
# {glue:text}`dia_focal_vs_bce_f1_diff:+.3f` (p = {glue:text}`dia_focal_vs_bce_f1_p:.2f`, Holm
# {glue:text}`dia_focal_vs_bce_f1_p_holm:.2f`). Of the {glue:text}`dia_n_compared` other configurations,
# {glue:text}`dia_n_sig_auc` differ from MLP + focal in ROC-AUC at the 5 % level before adjustment and
# {glue:text}`dia_n_sig_auc_holm` after Holm's adjustment over the family of {glue:text}`dia_n_family` tests
# (a negative difference means MLP + focal is better).
#
# ### The paper's other statements about its table
#
# Section 3.1 says focal loss "outperformed others in F1-score and AUC across all models" and that the
# MLP "consistently surpassed" the other two networks "across all loss functions"; section 3.1.4 that
# MLP + focal "consistently recorded the smallest standard deviation"; and its text quotes AUCs for
# Figure 5. We check each on the paper's *own* Table 1 (strictly greater; a tie does not outperform) and
# on ours.

# %%
our_means = {name: {idx: {m: float(tables[name].loc[idx, f"{m}_mean"]) for m in dia.PAPER_METRICS}
                    for idx in tables[name].index} for name in ("leak_free", "paper")}
full_grid = len(lf) == len(dia.MODELS) * len(dia.LOSSES)
claim_checks = {"paper_table1": dia.paper_claim_checks(dia.PAPER_TABLE1)}
if full_grid:
    for name in ("leak_free", "paper"):
        claim_checks[name] = dia.paper_claim_checks(our_means[name])
    claim_differences = {name: dia.claim_differences(frames[name]) for name in ("leak_free", "paper")}
else:
    claim_differences = {}
stability = {name: dia.stability_check(frames[name], n_boot=n_boot, seed=seed)
             for name in ("leak_free", "paper") if ("mlp", "focal") in tables[name].index and len(tables[name]) > 1}
fig5 = dia.figure5_vs_table1()
check_rows = []
for source, checks in claim_checks.items():
    for claim, c in checks.items():
        check_rows.append({"claim": claim.replace("_", " "), "table": source.replace("_", " "),
                           "comparisons that hold": f"{c['n_true']} of {c['n']}"})
for name, st in stability.items():
    for metric in ("roc_auc", "f1"):
        check_rows.append({"claim": f"smallest sd ({metric})", "table": name.replace("_", " "),
                           "comparisons that hold": f"rank {st[metric]['reference_rank']} of {len(st[metric]['sd'])}"})
pt = claim_checks["paper_table1"]
glue("dia_focal_best_paper_n", pt["focal_best"]["n_true"], display=False)
glue("dia_focal_best_n", pt["focal_best"]["n"], display=False)
glue("dia_mlp_surpassed_paper_n", pt["mlp_surpassed"]["n_true"], display=False)
glue("dia_mlp_surpassed_n", pt["mlp_surpassed"]["n"], display=False)
for name in ("leak_free", "paper"):
    short = GLUE_PREFIX[name]
    got = claim_checks.get(name)
    glue(f"dia_focal_best_{short}_n", got["focal_best"]["n_true"] if got else "n/a", display=False)
    glue(f"dia_mlp_surpassed_{short}_n", got["mlp_surpassed"]["n_true"] if got else "n/a", display=False)
    st = stability.get(name)
    for metric in ("roc_auc", "f1"):
        glue(f"dia_sd_rank_{short}_{metric}", st[metric]["reference_rank"] if st else "n/a", display=False)
        glue(f"dia_sd_smallest_{short}_{metric}", plots.config_label(str(st[metric]["smallest"])) if st else "n/a",
             display=False)
        glue_estimate(f"dia_sd_diff_{short}_{metric}",
                      st[metric]["reference_minus_smallest_other"] if st else Estimate(float("nan")))
glue("dia_n_configs", len(lf), display=False)
glue("dia_fig5_n_disagree", fig5["n_disagree"], display=False)
glue("dia_fig5_n", fig5["n_compared"], display=False)
glue("dia_fig5_disagree", "; ".join(f"{plots.config_label(k)}: {v['figure5']:.2f} vs {v['table1']:.2f}" for k, v in fig5["rows"].items()
                                     if v["difference"] != 0), display=False)
CLAIM_WORDS = {"focal best": "focal loss best (§3.1)", "mlp surpassed": "MLP above the other networks (§3.1)",
               "smallest sd (roc_auc)": "MLP + focal has the smallest sd, ROC-AUC (§3.1.4)",
               "smallest sd (f1)": "MLP + focal has the smallest sd, F1 (§3.1.4)"}
TABLE_WORDS = {"paper table1": "the paper's Table 1", "leak free": "ours, leak-free", "paper": "ours, paper protocol"}
claims_shown = pd.DataFrame(check_rows)
claims_shown["claim"] = claims_shown["claim"].map(lambda c: CLAIM_WORDS.get(c, c))
claims_shown["table"] = claims_shown["table"].map(lambda t: TABLE_WORDS.get(t, t))
glue_table("tbl_dia_claims", claims_shown.rename(columns={"table": "checked on"}), index=False)
fig5_shown = pd.DataFrame(fig5["rows"]).T
fig5_shown.index = [plots.config_label(k) if "+" in str(k) else str(k) for k in fig5_shown.index]
glue_table("tbl_dia_fig5", fig5_shown, index_header="configuration",
           headers={"figure5": "AUC quoted for Figure 5", "table1": "AUC in Table 1", "difference": "difference"})

# %% [markdown]
# :::{table} The paper's statements about its Table 1, checked on its own table, our leak-free means and our paper-protocol means: how many of the pairwise comparisons each statement implies hold (strictly), and the rank of MLP + focal's standard deviation among all configurations (1 = smallest).
# :name: tbl-dia-claims
#
# ```{glue:md} tbl_dia_claims
# :format: myst
# ```
# :::
#
# :::{table} ROC-AUCs the paper's text quotes for its Figure 5 beside the ROC-AUCs of its Table 1.
# :name: tbl-dia-fig5
#
# ```{glue:md} tbl_dia_fig5
# :format: myst
# ```
# :::

# %% [markdown]
# On the paper's own Table 1 ({numref}`tbl-dia-claims`), focal loss is strictly best in {glue:text}`dia_focal_best_paper_n` of the
# {glue:text}`dia_focal_best_n` (model, metric) pairs it names (ties in AUC count against "outperformed"),
# and the MLP is strictly above both other networks in {glue:text}`dia_mlp_surpassed_paper_n` of
# {glue:text}`dia_mlp_surpassed_n` (loss, metric) pairs: its own table does not support "consistently
# surpassed". On our leak-free means the counts are {glue:text}`dia_focal_best_lf_n` and
# {glue:text}`dia_mlp_surpassed_lf_n`, under the paper's protocol {glue:text}`dia_focal_best_pp_n` and
# {glue:text}`dia_mlp_surpassed_pp_n` (the paired differences with intervals are in the results file).
#
# MLP + focal's fold-to-fold standard deviation ranks {glue:text}`dia_sd_rank_lf_roc_auc` of
# {glue:text}`dia_n_configs` for ROC-AUC and {glue:text}`dia_sd_rank_lf_f1` for F1 leak-free (1 = smallest;
# smallest: {glue:text}`dia_sd_smallest_lf_roc_auc` and {glue:text}`dia_sd_smallest_lf_f1`), and
# {glue:text}`dia_sd_rank_pp_roc_auc` and {glue:text}`dia_sd_rank_pp_f1` under the paper's protocol. Its sd
# minus the smallest other sd is {glue:text}`dia_sd_diff_lf_roc_auc:+.3f` for leak-free ROC-AUC (95 % interval
# from resampling whole repeats {glue:text}`dia_sd_diff_lf_roc_auc_lo:+.3f` to
# {glue:text}`dia_sd_diff_lf_roc_auc_hi:+.3f`) and {glue:text}`dia_sd_diff_pp_roc_auc:+.3f`
# ({glue:text}`dia_sd_diff_pp_roc_auc_lo:+.3f` to {glue:text}`dia_sd_diff_pp_roc_auc_hi:+.3f`) under the
# paper's protocol.
#
# The AUCs the paper's text gives for Figure 5 ({numref}`tbl-dia-fig5`) disagree with its Table 1 in
# {glue:text}`dia_fig5_n_disagree` of {glue:text}`dia_fig5_n` configurations ({glue:text}`dia_fig5_disagree`):
# the figure and the table cannot both come from the same runs as reported.

# %% [markdown]
# ## Baselines a chemist would try first
#
# Logistic regression, a random forest and gradient boosting, under the same leak-free folds
# (the same filter, scaler and SMOTE fitted on each training fold). InterDIA
# {cite}`huang2025interdia`, the dataset authors' ensemble, reports CV ROC-AUC {glue:text}`dia_interdia_cv_auc:.3f` and
# external-test ROC-AUC {glue:text}`dia_interdia_ext_auc:.3f`.

# %%
baselines = dia.run_baselines(X, y, parameters, data_sha256=train.sha256)
base_table = baselines.groupby("model", sort=False)[["roc_auc", "pr_auc", "f1", "balanced_accuracy", "mcc"]].agg(["mean", "std"])
network_names = [plots.config_label(*key) for key in lf.index]
cv_auc = pd.concat([pd.Series(lf["roc_auc_mean"].to_numpy(), index=network_names),
                    baselines.groupby("model", sort=False)["roc_auc"].mean()])
cv_auc_std = pd.concat([pd.Series(lf["roc_auc_std"].to_numpy(), index=network_names),
                        baselines.groupby("model", sort=False)["roc_auc"].std()])
fig, ax = plots.bar_with_errors(cv_auc, err=cv_auc_std, reference=dia.INTERDIA["cv_auc"],
                                reference_label="InterDIA CV AUC", ylabel="leak-free CV ROC-AUC", ylim=(0.4, 1.0))
plots.save_figure(fig, "dia", "baselines", glue_key="fig_dia_baselines", height_in=3.8)
best_baseline = str(baselines.groupby("model")["roc_auc"].mean().idxmax())
glue("dia_best_baseline", best_baseline.replace("_", " "), display=False)
glue("dia_best_baseline_auc", float(baselines.groupby("model")["roc_auc"].mean().max()), display=False)
glue_table("tbl_dia_baselines",
           pd.DataFrame({plots.label(m): [f"{a:.3f} ± {b:.3f}" for a, b in zip(base_table[(m, "mean")], base_table[(m, "std")])]
                         for m in ("roc_auc", "pr_auc", "f1", "balanced_accuracy", "mcc")},
                        index=[plots.label(i) for i in base_table.index]),
           index_header="baseline")

# %% [markdown]
# ```{glue:figure} fig_dia_baselines
# :name: fig-dia-baselines
#
# Leak-free cross-validated ROC-AUC (mean ± sd over folds and repeats) of the nine networks
# (refitted on the whole training fold) and three classical baselines; the dashed line is InterDIA's reported CV AUC. Made by
# `notebooks/dia.py` with the parameters at the top of this page.
# ```
#
# :::{table} Classical baselines under the leak-free folds: mean ± standard deviation over folds and repeats.
# :name: tbl-dia-baselines
#
# ```{glue:md} tbl_dia_baselines
# :format: myst
# ```
# :::
#
# The best baseline ({numref}`tbl-dia-baselines`), {glue:text}`dia_best_baseline`, reaches a CV ROC-AUC of
# {glue:text}`dia_best_baseline_auc:.3f`; the best network configuration
# ({glue:text}`dia_lf_best_auc_config`) {glue:text}`dia_lf_best_auc:.3f`.

# %% [markdown]
# ## Identical descriptor vectors
#
# Some drugs share an identical descriptor vector (stereoisomers, for example, whose 2-D descriptors
# cannot differ). In a random split one of a pair can sit in training and its twin in the test fold.
# We count them, then re-run the leak-free CV with `StratifiedGroupKFold`, which keeps every group of
# identical vectors in one fold (the inner early-stopping split is not grouped), for
# {glue:text}`dia_grouped_configs`.

# %%
groups = dia.descriptor_groups(X)
twins = dia.stereoisomers(X, y, test.X.to_numpy(), test.y)
random_specs = dia.cv_splits(y, n_splits, n_repeats, seed)
group_sizes = np.bincount(groups)
twins["test_fold_drugs_with_twin_in_training_per_fold"] = float(np.mean(
    [sum(bool(set(np.flatnonzero(groups == groups[i])) & set(s.train)) for i in s.test if group_sizes[groups[i]] > 1)
     for s in random_specs]))
grouped_frames = []
for config in parameters["grouped_configs"]:
    model, loss = config.split("+")
    if model in parameters["models"] and loss in parameters["losses"]:
        grouped_frames.append(dia.run_arms(X, y, parameters, ["leak_free_grouped"], data_sha256=train.sha256,
                                           models=[model], losses=[loss], groups=groups,
                                           executor=pool)["leak_free_grouped"])
grouped_effect = {}
if grouped_frames:
    grouped = pd.concat(grouped_frames, ignore_index=True)
    for (model, loss), _ in grouped.groupby(["model", "loss"], sort=False):
        grouped_effect[f"{model}+{loss}"] = {m: dia.grouped_effect(frames["leak_free"], grouped, model, loss, m)
                                            for m in ("roc_auc", "f1")}
for key, value in twins.items():
    glue(f"dia_twins_{key}", value, display=False)
glue("dia_grouped_configs", ", ".join(plots.config_label(c) for c in parameters["grouped_configs"]), display=False)
head_group = grouped_effect.get("mlp+focal") or next(iter(grouped_effect.values()), None)
glue("dia_grouped_config", next((plots.config_label(k) for k in grouped_effect if grouped_effect[k] is head_group), "n/a"),
     display=False)
glue_estimate("dia_grouped_auc", head_group["roc_auc"] if head_group else Estimate(float("nan")))
glue_estimate("dia_grouped_f1", head_group["f1"] if head_group else Estimate(float("nan")))
glue_table("tbl_dia_twins", pd.DataFrame({"count": pd.Series([int(v) if float(v).is_integer() else v for v in twins.values()],
                                                              index=[plots.label(k) for k in twins], dtype=object)}),
           index_header="drugs with an identical descriptor vector")

# %% [markdown]
# :::{table} Drugs that share their whole descriptor vector with another drug ("twins"), in the training and external test sets, and in the folds of the random cross-validation (mean per fold).
# :name: tbl-dia-twins
#
# ```{glue:md} tbl_dia_twins
# :format: myst
# ```
# :::
#
# The {glue:text}`dia_n_train` training drugs ({numref}`tbl-dia-twins`) hold {glue:text}`dia_twins_train_groups` groups of identical vectors
# ({glue:text}`dia_twins_train_drugs_in_groups` drugs), {glue:text}`dia_twins_train_groups_conflicting_labels`
# of them with conflicting labels; {glue:text}`dia_twins_test_drugs_with_twin_in_train` external test drugs have
# a twin among the training drugs ({glue:text}`dia_twins_test_twins_conflicting_labels` with a different
# label). In the random CV, a test fold holds on average
# {glue:text}`dia_twins_test_fold_drugs_with_twin_in_training_per_fold:.1f` drugs whose twin is in training.
# Grouping them changes {glue:text}`dia_grouped_config`'s CV ROC-AUC by {glue:text}`dia_grouped_auc:+.3f`
# ({glue:text}`dia_grouped_auc_lo:+.3f` to {glue:text}`dia_grouped_auc_hi:+.3f`) and its F1 by
# {glue:text}`dia_grouped_f1:+.3f` ({glue:text}`dia_grouped_f1_lo:+.3f` to {glue:text}`dia_grouped_f1_hi:+.3f`);
# grouped and random CV cut different folds, so the interval combines the two means' corrected standard
# errors (unpaired).

# %% [markdown]
# ## Variants: class weights, label smoothing
#
# For the MLP: positives get class weight {glue:text}`dia_variant_class_weight` on top of SMOTE, or labels are
# smoothed by {glue:text}`dia_variant_label_smoothing`. Each is
# compared with the default over the same folds, both without the refit (the inner-split model is
# scored), so the refit's cost is not paid twice; intervals are corrected resampled t-intervals.
# Dice has no per-example term and ignores class weights.

# %%
VARIANT_CHANGES = {"class weight 3 for positives": {"pos_class_weight": 3.0},
                   "label smoothing 0.1": {"label_smoothing": 0.1}}
glue("dia_variant_class_weight", VARIANT_CHANGES["class weight 3 for positives"]["pos_class_weight"], display=False)
glue("dia_variant_label_smoothing", VARIANT_CHANGES["label smoothing 0.1"]["label_smoothing"], display=False)
variant_rows, variant_estimates = [], {}
if run_variants:
    no_refit = frames["leak_free_no_refit"]
    n_tr, n_te = dia._sizes(no_refit)
    for name, change in VARIANT_CHANGES.items():
        p2 = {**parameters, **change}
        g = dia.run_grid(X, y, p2, protocol="leak_free", data_sha256=train.sha256, models=["mlp"])
        for (model, loss), _ in g.groupby(["model", "loss"], sort=False):
            est = {m: dia.paired_estimate(dia._fold_scores(no_refit, model, loss, m), dia._fold_scores(g, model, loss, m),
                                          n_train=n_tr, n_test=n_te)[0]
                   for m in ("roc_auc", "f1", "recall", "precision", "brier")}
            variant_estimates[f"{name}|{model}+{loss}"] = est
            variant_rows.append({"variant": f"{name}, {plots.config_label(model, loss)}", **est})
if variant_rows:
    variant_frame = pd.DataFrame(variant_rows).set_index("variant")
    glue_table("tbl_dia_variants_ranking", variant_frame[["roc_auc", "f1"]], decimals=3)
    glue_table("tbl_dia_variants_threshold", variant_frame[["precision", "recall", "brier"]], decimals=3,
               headers={"brier": "Brier score"})
else:
    for key in ("tbl_dia_variants_ranking", "tbl_dia_variants_threshold"):
        glue_table(key, pd.DataFrame({"variant": ["not run in this profile (run_variants is off)"]}), index=False)

# %% [markdown]
# :::{table} Class weight and label smoothing variants of the MLP minus the default, ROC-AUC and F1: mean paired difference over the same folds with its 95 % corrected resampled t-interval (both without the refit).
# :name: tbl-dia-variants-ranking
#
# ```{glue:md} tbl_dia_variants_ranking
# :format: myst
# ```
# :::
#
# :::{table} The same variants minus the default: precision, recall (threshold 0.5) and Brier score.
# :name: tbl-dia-variants-threshold
#
# ```{glue:md} tbl_dia_variants_threshold
# :format: myst
# ```
# :::

# %% [markdown]
# In {numref}`tbl-dia-variants-ranking` and {numref}`tbl-dia-variants-threshold` each cell is the variant minus
# the default, with its 95 % corrected resampled t-interval.
#
# ## Early-stopping optimism
#
# Letting the scored fold choose the epoch (outer minus the refitted leak-free networks, which fit
# the same rows; the first step of the decomposition above) for each configuration of
# {glue:text}`dia_variant_models`:

# %%
optimism = {key: {metric: d[metric]["parts"]["early_stopping_on_scored_fold"] for metric in d}
            for key, d in decomposition.items()}
glue("dia_variant_models", " and ".join(m.upper() if m != "simplenn" else "SimpleNN" for m in parameters["variant_models"]),
     display=False)
glue("dia_es_optimism_auc", float(np.mean([v["roc_auc"].estimate for v in optimism.values()])), display=False)
glue("dia_es_optimism_auc_max", float(np.max([v["roc_auc"].estimate for v in optimism.values()])), display=False)
glue_table("tbl_dia_optimism", pd.DataFrame({plots.config_label(k): v for k, v in optimism.items()}).T[["roc_auc", "f1"]],
           index_header="configuration", decimals=3)

# %% [markdown]
# :::{table} Early-stopping optimism: networks stopped on the scored fold minus the refitted leak-free networks, mean paired difference in ROC-AUC and F1 over folds and repeats with its 95 % corrected resampled t-interval (accuracy is in the results file).
# :name: tbl-dia-optimism
#
# ```{glue:md} tbl_dia_optimism
# :format: myst
# ```
# :::

# %% [markdown]
# Averaged over these configurations, stopping on the test fold raises ROC-AUC by
# {glue:text}`dia_es_optimism_auc:+.3f` (at most {glue:text}`dia_es_optimism_auc_max:+.3f`); each row's
# interval is in {numref}`tbl-dia-optimism`.

# %% [markdown]
# ## External test: chosen by cross-validation, scored once
#
# We choose by leak-free CV ROC-AUC only: the best network configuration, the paper's headline
# MLP + focal, and the best baseline. Each network's epoch count is chosen on an inner split of the
# {glue:text}`dia_n_train` training drugs and it is then refitted on all of them for that many epochs
# ({glue:text}`dia_n_refits` fits with different seeds and inner splits, their probabilities averaged); the
# baseline is fitted once; then the {glue:text}`dia_n_ext` external drugs are scored once. Intervals:
# stratified bootstrap of the external set ({glue:text}`dia_n_boot` resamples). The ablation without the
# refit (the inner models, fitted on {glue:text}`dia_inner_share:.0%` of the drugs) is scored beside it, with
# a paired bootstrap interval for the difference.

# %%
best_net = tuple(lf["roc_auc_mean"].idxmax())
chosen = [best_net] + ([("mlp", "focal")] if ("mlp", "focal") in lf.index and best_net != ("mlp", "focal") else [])
X_ext = test.X.to_numpy()
external_probs = dia.external_test(X, y, X_ext, parameters, chosen, data_sha256=train.sha256, n_refits=n_refits)
no_refit_probs = dia.external_test(X, y, X_ext, parameters, chosen, data_sha256=train.sha256, n_refits=n_refits,
                                   refit=False)
external_probs[(best_baseline, "")] = dia.refit_baseline(best_baseline, X, y, X_ext, seed)
external, external_refit_gain = {}, {}
for (model, loss), prob in external_probs.items():
    name = f"{model}+{loss}" if loss else model
    report = metrics.binary_report(test.y, prob)
    external[name] = {
        **{m: metrics.bootstrap_ci(m, test.y, prob, n_boot=n_boot, seed=seed) for m in ("roc_auc", "pr_auc", "f1")},
        "accuracy": report["accuracy"], "precision": report["precision"], "recall": report["recall"],
    }
    if loss:
        external_refit_gain[name] = {}
        for m in ("roc_auc", "f1"):
            d = metrics.paired_bootstrap(m, test.y, no_refit_probs[(model, loss)], prob, n_boot=n_boot, seed=seed)
            external_refit_gain[name][m] = Estimate(d["diff"], min(d["ci_low"], d["diff"]), max(d["ci_high"], d["diff"]),
                                                    n=len(test.y), method="paired_bootstrap")
ext_table = pd.DataFrame({name: {f"{m} [{lo}]": v for m in ("roc_auc", "pr_auc", "f1")
                                 for lo, v in (("estimate", r[m]["estimate"]), ("2.5%", r[m]["ci_low"]), ("97.5%", r[m]["ci_high"]))}
                          for name, r in external.items()}).T
glue("dia_n_refits", n_refits, display=False)
glue("dia_n_boot", n_boot, display=False)
first = next(iter(external))
glue("dia_ext_best_name", plots.config_label(first), display=False)
glue("dia_ext_best_auc", external[first]["roc_auc"]["estimate"], display=False)
glue("dia_ext_best_lo", external[first]["roc_auc"]["ci_low"], display=False)
glue("dia_ext_best_hi", external[first]["roc_auc"]["ci_high"], display=False)
glue_estimate("dia_ext_refit_gain_auc", external_refit_gain[first]["roc_auc"])
glue_table("tbl_dia_external",
           pd.DataFrame({plots.label(m): [SimpleNamespace(estimate=r[m]["estimate"], ci_low=r[m]["ci_low"], ci_high=r[m]["ci_high"])
                                          for r in external.values()] for m in ("roc_auc", "pr_auc", "f1")},
                        index=[plots.config_label(n) for n in external]),
           index_header="chosen by CV", decimals=3)

# %% [markdown]
# :::{table} External test ({glue:text}`dia_n_ext` drugs, scored once) of the configurations chosen by leak-free cross-validation: estimate and 95 % stratified bootstrap interval ({glue:text}`dia_n_boot` resamples).
# :name: tbl-dia-external
#
# ```{glue:md} tbl_dia_external
# :format: myst
# ```
# :::

# %% [markdown]
# The configuration with the best CV ROC-AUC ({numref}`tbl-dia-external`), {glue:text}`dia_ext_best_name`, scores an external
# ROC-AUC of {glue:text}`dia_ext_best_auc:.3f` (95 % bootstrap interval
# {glue:text}`dia_ext_best_lo:.3f` to {glue:text}`dia_ext_best_hi:.3f`), against InterDIA's
# reported {glue:text}`dia_interdia_ext_auc:.3f`. The interval reflects the {glue:text}`dia_n_ext` test drugs
# only, not training variability. Refitting on all training drugs changed its external ROC-AUC by
# {glue:text}`dia_ext_refit_gain_auc:+.3f` ({glue:text}`dia_ext_refit_gain_auc_lo:+.3f` to
# {glue:text}`dia_ext_refit_gain_auc_hi:+.3f`, paired bootstrap).
#
# ## What holds
#
# * The paper's Table 1 needs its own protocol: preprocessing and SMOTE before the split, early stopping
#   on the scored fold and balanced test folds. Each adds a measured part (decomposition above); the
#   leak-free protocol the paper describes does not reproduce it.
# * The paper's confusion counts fit a balanced data set, not the training drugs at their real prevalence,
#   and "zero false positives" cannot describe a model that calls every drug positive.
# * Whether focal loss beats BCE is a question for paired tests over the same folds, with Holm's
#   adjustment, above.

# %%
results = {
    "leak_free": dia.table1_record(lf),
    "leak_free_no_refit": dia.table1_record(tables["leak_free_no_refit"]),
    "leaky": dia.table1_record(lk),
    "paper_protocol": {"table": dia.table1_record(pp), "estimates": dia.fold_mean_estimates(frames["paper"]),
                       "real_drugs_estimates": dia.fold_mean_estimates(frames["paper"], prefix="real_"),
                       "fold_sizes": dict(zip(("n_train", "n_test"), dia._sizes(frames["paper"])))},
    "leak_free_estimates": dia.fold_mean_estimates(frames["leak_free"]),
    "decomposition": {key: {metric: {"levels": d["levels"], "parts": d["parts"], "p_values": d["p_values"],
                                     "paper_minus_leak_free": d["total"]} for metric, d in v.items()}
                      for key, v in decomposition.items()},
    "fair_refit": {"refit_minus_no_refit_cv": handicap, "external_refit_minus_no_refit": external_refit_gain,
                   "fold_sizes": {"n_train": n_tr, "n_test": n_te},
                   "method": "epochs chosen on an inner split, then refit on the whole training fold / all training drugs"},
    "confusion_counts": confusion,
    "cnn_dice": {"collapse_frequency": collapse_freq, "counts": cnn_dice_counts,
                 "paper_zero_fp_fn_feasible_with_its_table1_row": zero_errors_feasible,
                 "paper_claim_fp_fn": dia.PAPER_CONFUSION[("cnn", "dice")]},
    "stability": stability,
    "paper_claim_checks": claim_checks,
    "paper_claim_differences": claim_differences,
    "figure5_vs_table1": fig5,
    "stereoisomers": twins,
    "grouped_cv": {"grouped_minus_random": grouped_effect,
                   "method": "StratifiedGroupKFold on identical descriptor vectors; unpaired corrected t"},
    "early_stopping_optimism": optimism,
    "variants_minus_default": variant_estimates,
    "paper_table1": {f"{m}+{l}": v for (m, l), v in dia.PAPER_TABLE1.items()},
    "test_fold_prevalence": prevalence,
    "all_positive_at_half": all_pos,
    "cnn_choices": lbmodels.CNN_CHOICES,
    "baselines_cv": {name: {"roc_auc_mean": float(g["roc_auc"].mean()), "roc_auc_std": float(g["roc_auc"].std()),
                            "pr_auc_mean": float(g["pr_auc"].mean())} for name, g in baselines.groupby("model")},
    "interdia": dia.INTERDIA,
    "external_test": external,
    "collapse_diagnostics_cnn_dice": diagnostics,
}
if ("mlp", "focal") in lf.index:
    results["paired_vs_mlp_focal"] = {f"{m}+{l}": row.to_dict() for (m, l), row in paired.iterrows()}
    results["holm"] = {"family": "every configuration against MLP+focal, ROC-AUC and F1, leak-free CV",
                       "n_tests": 2 * len(paired),
                       "p_raw_and_adjusted": {f"{m}+{l}": {k: row[k] for k in ("roc_auc_p", "roc_auc_p_holm", "f1_p", "f1_p_holm")}
                                              for (m, l), row in paired.iterrows()}}
results_file = save_results("dia", results, parameters=parameters, data_checksums=checksums)
pool.close()
