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
# (chapter-robustness)=
# # How robust are the verdicts? Hyperparameters, calibration, the collapse and the variance
#
# The book's findings rest on choices the sources made and we kept. The DIA networks
# ({ref}`chapter-dia`) all train at one learning rate, with the focal loss parameters of another
# field, on folds that SMOTE has balanced to one positive for every negative, and are scored on
# test folds at the data's real share of positives. The CNN the paper describes leaves several
# choices open. The synthetic tutorial ({ref}`chapter-synthetic`) trains each network for only 30
# full-batch steps. A sceptical reader may ask whether the verdicts hold only at those choices.
#
# This chapter varies them, with the DIA chapter's folds, protocol and intervals. Each loss gets
# its own learning rate, chosen on inner validation data; focal loss's α and γ range over a grid;
# the CNN + Dice collapse is mapped over the CNN's open choices, Dice's ε and the learning rate;
# the variance of a fold score is split into a part from the split and a part from the
# initialisation. It also scores the calibration of the very fold models of the DIA chapter,
# before and after the standard correction for a change of class prior and against the same
# networks trained without SMOTE (focal loss is known to change calibration
# {cite:p}`mukhoti2020calibrating`: here that is measured, not assumed), and
# re-trains the tutorial's two networks for several training lengths. The logic lives in
# `lossbook.studies.robustness` and `lossbook.studies.sensitivity`; every new fold model is
# cached beside the DIA chapter's, and the numbers are recorded in `book/results/robustness.json`.

# %% tags=["parameters"]
n_splits = 5  # DIA: the DIA chapter's training parameters, same defaults (its fold models are reused)
n_repeats = 5
max_epochs = 100
patience = 15
batch_size = 32
learning_rate = 0.001
val_fraction = 0.2
pos_class_weight = 1.0
label_smoothing = 0.0
seed = 0  # also seeds the bootstrap of the synthetic part
models = ["mlp", "cnn", "simplenn"]
losses = ["bce", "focal", "dice"]
variant_models = ["mlp", "simplenn"]
n_refits = 5  # DIA external test: refits averaged (the DIA chapter's)
learning_rates = [0.0003, 0.001, 0.003]  # each loss's Adam rate, chosen per outer fold on inner validation
tune_models = ["mlp", "cnn", "simplenn"]  # networks whose rates are tuned (each loss its own rate)
tune_repeats = None  # repeats of each grid (None: all; a grid's folds are the DIA chapter's first repeats)
focal_alphas = [None, 0.25, 0.5, 0.75]  # focal α, the weight of positives (None: no class weight)
focal_gammas = [0.0, 1.0, 2.0, 5.0]  # focal γ (0 with no α is BCE)
focal_repeats = None
collapse_pool_sizes = [2, 4, 8]  # CNN + Dice: the CNN's pooling and dense width ...
collapse_dense_units = [16, 32, 64]
collapse_dice_eps = [1e-06, 0.01, 1.0]  # ... and Dice's ε with the learning rate
collapse_learning_rates = [0.0003, 0.001, 0.003]
collapse_repeats = 2  # 10 folds per cell: 10 of 10 collapsed is a share above one half
n_inits = 3  # initialisations per fold for the variance decomposition (the chapter's and others)
variance_repeats = None
min_difference = 0.02  # ROC-AUC difference a future study should detect (80 % power, 5 % two-sided)
n_bins = 10  # equal-width bins of the expected calibration error and the reliability diagrams
train_steps = [30, 100, 300]  # synthetic: full-batch Adam steps (the tutorial's 30 first)
n_seeds = 6  # initialisation seeds 0..n_seeds-1 per dataset draw
n_draws = 5  # dataset draws: make_classification random_state 42 (the tutorial's), 43, ...
syn_val_fraction = 0.25  # share of the training rows held out to choose a threshold, for both losses
n_boot = 2000  # bootstrap resamples for the synthetic paired intervals
n_threads = 1  # torch intra-op threads (fixed, so sums are reproducible)

# %% [markdown]
# The frameworks are imported before anything is seeded, so that one call seeds them all; then the
# book's helpers and the two studies this chapter re-examines.

# %%
import lossbook  # noqa: F401  (first, before TensorFlow: it sets the environment TensorFlow reads at import)

# isort: split
import keras  # noqa: F401  (imported before seeding, so seed_everything seeds it and TensorFlow)
from tqdm.auto import tqdm

from lossbook.core import params as lbparams
from lossbook.core import plots, seeding
from lossbook.core.data import load_dia_pair
from lossbook.publish import glue, results, tables
from lossbook.studies import dia
from lossbook.studies import robustness as rob
from lossbook.studies import sensitivity as sens
from lossbook.studies import synthetic as syn

# %% [markdown]
# The parameters are checked before any training: the DIA ones by the DIA chapter's own rules.

# %%
parameters, dia_parameters = rob.check_parameters(**lbparams.collect(globals(), rob.CONSTRAINTS))
tune_repeats, focal_repeats, collapse_repeats, variance_repeats = (parameters[name] for name in rob.GRID_REPEATS)
seeding.seed_everything(seed)
syn.set_torch_threads(n_threads)
plots.set_style()
train, test = load_dia_pair(verify_checksum=True)
X, y = train.X.to_numpy(), train.y
checksums = {train.path.name: train.sha256}
CHAPTER = "robustness"

# %% [markdown]
# ## DIA: calibration under a shifted prior
#
# **The fold models.** The predictions are those of the DIA chapter's leak-free networks:
# column filter, scaling and SMOTE fitted on each training fold, the number of epochs
# chosen on an inner split, the network refitted on the whole training fold, the test
# fold scored once. They are read through `lossbook.studies.dia.main_grid` with the DIA
# chapter's parameters, which composes the training batches exactly as that chapter does,
# so these are its fold models bit for bit ({glue:text}`rob_n_fold_models` per
# configuration: {glue:text}`rob_n_splits` folds × {glue:text}`rob_n_repeats` repeat(s)).
#
# **Calibration.** The expected calibration error (ECE) cuts the probabilities into
# {glue:text}`rob_n_bins` equal-width bins and averages, weighted by the bins' sizes, the
# distance between each bin's mean predicted probability and its share of positives
# {cite:p}`guo2017calibration`; the Brier score is the mean squared distance between
# probability and label. Both are computed per test fold and averaged over folds, with the
# corrected resampled t-interval {cite:p}`nadeau2003inference` the book uses for repeated
# cross-validation.
#
# **The prior-shift correction.** A network fitted at a positive share $\pi_s$ and used
# where the share is $\pi$ has its probabilities moved by Bayes' rule
# {cite:p}`saerens2002adjusting`:
#
# $$p' = \frac{(\pi/\pi_s)\,p}{(\pi/\pi_s)\,p + \big((1-\pi)/(1-\pi_s)\big)(1-p)}.$$
#
# Here $\pi_s$ = {glue:text}`rob_smote_prior` (SMOTE balances every training fold) and
# $\pi$ is the positive share of the fold's *training* rows, before SMOTE (on average
# {glue:text}`rob_train_prior_mean:.3f`): the test fold's labels are never used to correct it.
#
# **Without SMOTE.** The other answer to a shifted prior is not to shift it. Every network is
# trained once more on the same folds, with the filter and the scaler fitted as before but no
# oversampling: it then learns at its fold's own share of positives, and there is nothing to
# correct. The inner split, the epoch choice and the refit are those of the chapter.

# %%
bar = tqdm(total=len(dia_parameters["models"]) * len(dia_parameters["losses"]), desc="DIA grid (cached)")
frames = dia.main_grid(X, y, dia_parameters, data_sha256=train.sha256, progress=bar.update)
bar.close()
calibration = rob.calibration_frame(frames["leak_free"], y, dia_parameters, n_bins=n_bins)
summary = rob.calibration_summary(calibration)

# %% [markdown]
# The networks without SMOTE are new fold models, trained here (and cached) for every configuration.

# %%
bar = tqdm(total=len(dia_parameters["models"]) * len(dia_parameters["losses"]), desc="leak-free without SMOTE")
plain_runs = sens.variant_runs(X, y, dia_parameters, [{"smote": False}], models=dia_parameters["models"],
                               losses=dia_parameters["losses"], data_sha256=train.sha256, progress=bar.update)
bar.close()
plain = rob.calibration_frame(plain_runs, y, dia_parameters, n_bins=n_bins, smote=False)
plain_summary = rob.calibration_summary(plain)
without_smote = rob.smote_differences(calibration, plain)

# %% [markdown]
# Each loss is also compared with BCE on the same folds.

# %%
focal_minus_bce = rob.loss_differences(calibration, "focal", "bce")
dice_minus_bce = rob.loss_differences(calibration, "dice", "bce")
n_train_fold, n_test_fold = dia._sizes(calibration)

# %% [markdown]
# Each configuration's ECE and Brier score are averaged over its test folds; a change made by the
# correction is the per-fold difference, corrected minus as predicted, averaged the same way.

# %%
glue.glue_numbers("rob", {"n_fold_models": n_splits * n_repeats, "n_splits": n_splits, "n_repeats": n_repeats,
                          "n_bins": n_bins, "smote_prior": rob.SMOTE_PRIOR,
                          "train_prior_mean": calibration.drop_duplicates(["repeat", "fold"])["train_prior"].mean()})
for config, entry in summary.items():
    for name, estimate in entry.items():
        glue.glue_estimate(f"rob_{config.replace('+', '_')}_{name}", estimate)

# %% [markdown]
# Focal and Dice loss are compared with BCE on the same folds; the correction counts as a clear
# improvement for a configuration when the whole interval of its change lies below zero.

# %%
for name, differences in (("focal", focal_minus_bce), ("dice", dice_minus_bce)):
    for model, entry in differences.items():
        for column, estimate in entry.items():
            glue.glue_estimate(f"rob_{name}_minus_bce_{column}_{model}", estimate)
            glue.glue_number(f"rob_{name}_minus_bce_{column}_{model}_word",
                        rob.direction(estimate, above="higher than BCE's", below="lower than BCE's",
                                      neither="not clearly different from BCE's"))
for metric in ("ece", "brier"):
    lowered = sum(entry[f"{metric}_change"].ci_high < 0 for entry in summary.values())
    glue.glue_number(f"rob_n_{metric}_lowered", int(lowered))
glue.glue_number("rob_n_configs", len(summary))

# %% [markdown]
# {numref}`tbl-rob-ece` gives each configuration's ECE as predicted, after the correction and
# without SMOTE, {numref}`tbl-rob-change` the change the correction makes to the ECE and to the
# Brier score, paired per fold, and {numref}`tbl-rob-brier` further down the Brier scores themselves.

# %%
LEVELS = {"as predicted": "", "corrected": "_corrected", "without SMOTE": "_no_smote"}
for metric in ("ece", "brier"):
    levels = rob.summary_table(summary, metric, without=plain_summary)[[metric + v for v in LEVELS.values()]]
    tables.glue_table(f"tbl_rob_{metric}", levels, headers={metric + v: k for k, v in LEVELS.items()},
                      index_header="configuration", decimals=3)
changes = rob.summary_table(summary, "ece")[["ece_change"]].join(rob.summary_table(summary, "brier")[["brier_change"]])
tables.glue_table("tbl_rob_change", changes, headers={"ece_change": "ECE", "brier_change": "Brier score"},
                  index_header="configuration", decimals=3)

# %% [markdown]
# :::{table} Expected calibration error ({glue:text}`rob_n_bins` equal-width bins) of the leak-free DIA networks, mean over {glue:text}`rob_n_fold_models` test folds with its 95 % corrected resampled t-interval: trained with SMOTE, as predicted and after the prior-shift correction from the SMOTE prior to each training fold's prior ("corrected"), and the same networks trained on the same folds without SMOTE (`notebooks/robustness.py`).
# :name: tbl-rob-ece
#
# ```{glue:md} tbl_rob_ece
# :format: myst
# ```
# :::
#
# :::{table} The change the prior-shift correction makes to each configuration's expected calibration error and Brier score: corrected minus as predicted, paired per test fold, mean over {glue:text}`rob_n_fold_models` folds with its 95 % corrected resampled t-interval (`notebooks/robustness.py`).
# :name: tbl-rob-change
#
# ```{glue:md} tbl_rob_change
# :format: myst
# ```
# :::
#
# As predicted, the MLP's ECE is {glue:text}`rob_mlp_bce_ece:.3f` with BCE
# ({glue:text}`rob_mlp_bce_ece_lo:.3f` to {glue:text}`rob_mlp_bce_ece_hi:.3f`),
# {glue:text}`rob_mlp_focal_ece:.3f` with focal loss ({glue:text}`rob_mlp_focal_ece_lo:.3f` to
# {glue:text}`rob_mlp_focal_ece_hi:.3f`) and {glue:text}`rob_mlp_dice_ece:.3f` with Dice loss
# ({glue:text}`rob_mlp_dice_ece_lo:.3f` to {glue:text}`rob_mlp_dice_ece_hi:.3f`). The correction
# changes the MLP + BCE's ECE by {glue:text}`rob_mlp_bce_ece_change:+.3f`
# ({glue:text}`rob_mlp_bce_ece_change_lo:+.3f` to {glue:text}`rob_mlp_bce_ece_change_hi:+.3f`), and
# MLP + focal's by {glue:text}`rob_mlp_focal_ece_change:+.3f`
# ({glue:text}`rob_mlp_focal_ece_change_lo:+.3f` to {glue:text}`rob_mlp_focal_ece_change_hi:+.3f`).
# Over all {glue:text}`rob_n_configs` configurations, the interval of the change lies wholly below
# zero (a clear improvement) for {glue:text}`rob_n_ece_lowered` of them.
#
# The Brier score ({numref}`tbl-rob-brier`) mixes calibration with how well the
# probabilities separate the classes, so it answers a slightly different question: are the
# corrected probabilities better forecasts?
#
# :::{table} Brier score of the leak-free DIA networks, mean over {glue:text}`rob_n_fold_models` test folds with its 95 % corrected resampled t-interval: trained with SMOTE, as predicted and after the prior-shift correction ("corrected"), and trained without SMOTE (`notebooks/robustness.py`).
# :name: tbl-rob-brier
#
# ```{glue:md} tbl_rob_brier
# :format: myst
# ```
# :::
#
# The correction changes MLP + BCE's Brier score by {glue:text}`rob_mlp_bce_brier_change:+.3f`
# ({glue:text}`rob_mlp_bce_brier_change_lo:+.3f` to {glue:text}`rob_mlp_bce_brier_change_hi:+.3f`);
# over all configurations, it clearly lowers the Brier score for {glue:text}`rob_n_brier_lowered`
# of {glue:text}`rob_n_configs`.
#
# ### Does focal loss change calibration?
#
# {numref}`tbl-rob-focal` pairs focal loss against BCE on the same folds, per network, and
# {numref}`tbl-rob-dice` does the same for Dice loss.

# %%
for loss, differences in (("focal", focal_minus_bce), ("dice", dice_minus_bce)):
    columns = {(loss, "ece"): "as predicted", (loss, "ece_corrected"): "corrected"}
    tables.glue_table(f"tbl_rob_{loss}", rob.loss_table({loss: differences}, columns), index_header="network",
                      decimals=3)

# %% [markdown]
# :::{table} Expected calibration error of focal loss minus that of BCE, per network, paired over the same {glue:text}`rob_n_fold_models` test folds, with its 95 % corrected resampled t-interval; as predicted and after the prior-shift correction (`notebooks/robustness.py`).
# :name: tbl-rob-focal
#
# ```{glue:md} tbl_rob_focal
# :format: myst
# ```
# :::
#
# :::{table} Expected calibration error of Dice loss minus that of BCE, per network, paired over the same {glue:text}`rob_n_fold_models` test folds, with its 95 % corrected resampled t-interval; as predicted and after the prior-shift correction (`notebooks/robustness.py`).
# :name: tbl-rob-dice
#
# ```{glue:md} tbl_rob_dice
# :format: myst
# ```
# :::
#
# For the MLP, focal loss's ECE minus BCE's is {glue:text}`rob_focal_minus_bce_ece_mlp:+.3f`
# ({glue:text}`rob_focal_minus_bce_ece_mlp_lo:+.3f` to {glue:text}`rob_focal_minus_bce_ece_mlp_hi:+.3f`):
# as predicted, focal loss's calibration error is {glue:text}`rob_focal_minus_bce_ece_mlp_word`.
# After the correction the difference is {glue:text}`rob_focal_minus_bce_ece_corrected_mlp:+.3f`
# ({glue:text}`rob_focal_minus_bce_ece_corrected_mlp_lo:+.3f` to
# {glue:text}`rob_focal_minus_bce_ece_corrected_mlp_hi:+.3f`, {glue:text}`rob_focal_minus_bce_ece_corrected_mlp_word`).
# Dice loss, which scores overlap rather than probabilities, differs from BCE by
# {glue:text}`rob_dice_minus_bce_ece_mlp:+.3f` ({glue:text}`rob_dice_minus_bce_ece_mlp_lo:+.3f` to
# {glue:text}`rob_dice_minus_bce_ece_mlp_hi:+.3f`) for the MLP.
#
# {numref}`fig-rob-reliability` shows where these errors come from, with the MLP's test folds pooled.

# %%
panels = {"SMOTE, as predicted": (calibration, False), "SMOTE, corrected": (calibration, True),
          "without SMOTE": (plain, False)}
fig, _ = rob.reliability_figure(panels, "mlp", dia_parameters["losses"], n_bins=n_bins)
plots.save_figure(fig, CHAPTER, "reliability", glue_key="fig_rob_reliability")

# %% [markdown]
# ```{glue:figure} fig_rob_reliability
# :name: fig-rob-reliability
#
# Reliability diagrams of the leak-free DIA MLP with BCE, focal and Dice loss, test folds pooled
# over all folds and repeats: share of positives against mean predicted probability in each of
# {glue:text}`rob_n_bins` equal-width bins: trained with SMOTE, as predicted (left) and after the
# prior-shift correction (middle), and trained without SMOTE (right); the dotted diagonal is
# perfect calibration (`notebooks/robustness.py`, default parameters).
# ```
#
# A curve below the diagonal predicts positives more often than they occur, which is what one
# would expect of a model trained at a balanced prior and used at the real one. The correction is
# monotone: it moves the probabilities without changing their order, so ranking metrics such as
# ROC-AUC are the same before and after it.
#
# ### With or without SMOTE?
#
# Leaving SMOTE out changes the fold models themselves, not just their probabilities, so it can
# move ranking metrics as well as calibration. {numref}`tbl-rob-smote` pairs every configuration
# trained without SMOTE with the same configuration trained with it, fold by fold, for calibration,
# and {numref}`tbl-rob-smote-scores` for ROC-AUC and F1.

# %%
for config, entry in without_smote.items():
    for column, estimate in entry.items():
        glue.glue_estimate(f"rob_nosmote_{config.replace('+', '_')}_{column}", estimate)
        glue.glue_number(f"rob_nosmote_{config.replace('+', '_')}_{column}_word",
                         rob.direction(estimate, above="higher without SMOTE", below="lower without SMOTE",
                                       neither="not clearly different"))
for column in rob.SMOTE_COLUMNS:
    glue.glue_number(f"rob_nosmote_n_lower_{column}", sum(e[column].ci_high < 0 for e in without_smote.values()))
    glue.glue_number(f"rob_nosmote_n_higher_{column}", sum(e[column].ci_low > 0 for e in without_smote.values()))
for config, entry in plain_summary.items():
    glue.glue_estimate(f"rob_{config.replace('+', '_')}_ece_no_smote", entry["ece"])

# %%
SMOTE_HEADERS = {"tbl_rob_smote": {"ece": "vs as predicted", "ece_corrected": "vs corrected"},
                 "tbl_rob_smote_scores": {"roc_auc": "ROC-AUC", "f1": "F1 at 0.5"}}
for key, headers in SMOTE_HEADERS.items():
    tables.glue_table(key, rob.config_table(without_smote, headers), index_header="configuration", decimals=3)
smote_record = {"configurations": plain_summary, "minus_with_smote": without_smote,
                "compared": "without SMOTE minus with SMOTE, paired per fold"}

# %% [markdown]
# :::{table} Expected calibration error without SMOTE minus with SMOTE, per configuration, paired over the same {glue:text}`rob_n_fold_models` leak-free test folds, mean with its 95 % corrected resampled t-interval: against the SMOTE-trained network as predicted and after its prior-shift correction (`notebooks/robustness.py`).
# :name: tbl-rob-smote
#
# ```{glue:md} tbl_rob_smote
# :format: myst
# ```
# :::
#
# :::{table} ROC-AUC and F1 at threshold 0.5 without SMOTE minus with SMOTE, paired as in {numref}`tbl-rob-smote` (`notebooks/robustness.py`).
# :name: tbl-rob-smote-scores
#
# ```{glue:md} tbl_rob_smote_scores
# :format: myst
# ```
# :::
#
# Trained without SMOTE, the MLP's ECE is {glue:text}`rob_mlp_bce_ece_no_smote:.3f` with BCE
# ({glue:text}`rob_mlp_bce_ece_no_smote_lo:.3f` to {glue:text}`rob_mlp_bce_ece_no_smote_hi:.3f`) and
# {glue:text}`rob_mlp_focal_ece_no_smote:.3f` with focal loss
# ({glue:text}`rob_mlp_focal_ece_no_smote_lo:.3f` to {glue:text}`rob_mlp_focal_ece_no_smote_hi:.3f`).
# Against the SMOTE-trained MLP + focal as predicted, that is a change of
# {glue:text}`rob_nosmote_mlp_focal_ece:+.3f` ({glue:text}`rob_nosmote_mlp_focal_ece_lo:+.3f` to
# {glue:text}`rob_nosmote_mlp_focal_ece_hi:+.3f`, {glue:text}`rob_nosmote_mlp_focal_ece_word`); against
# it after the correction, {glue:text}`rob_nosmote_mlp_focal_ece_corrected:+.3f`
# ({glue:text}`rob_nosmote_mlp_focal_ece_corrected_lo:+.3f` to
# {glue:text}`rob_nosmote_mlp_focal_ece_corrected_hi:+.3f`,
# {glue:text}`rob_nosmote_mlp_focal_ece_corrected_word`). Over all {glue:text}`rob_n_configs`
# configurations, leaving SMOTE out clearly lowers the ECE against the uncorrected networks for
# {glue:text}`rob_nosmote_n_lower_ece` and clearly raises it for {glue:text}`rob_nosmote_n_higher_ece`;
# against the corrected ones it clearly lowers it for {glue:text}`rob_nosmote_n_lower_ece_corrected`
# and clearly raises it for {glue:text}`rob_nosmote_n_higher_ece_corrected`.
#
# The ranking is another matter. MLP + focal's ROC-AUC changes by
# {glue:text}`rob_nosmote_mlp_focal_roc_auc:+.3f` ({glue:text}`rob_nosmote_mlp_focal_roc_auc_lo:+.3f`
# to {glue:text}`rob_nosmote_mlp_focal_roc_auc_hi:+.3f`, {glue:text}`rob_nosmote_mlp_focal_roc_auc_word`);
# over all configurations, ROC-AUC is clearly higher without SMOTE for
# {glue:text}`rob_nosmote_n_higher_roc_auc` and clearly lower for {glue:text}`rob_nosmote_n_lower_roc_auc`.
# F1 at 0.5, which depends on where the probabilities sit, is clearly higher without SMOTE for
# {glue:text}`rob_nosmote_n_higher_f1` and clearly lower for {glue:text}`rob_nosmote_n_lower_f1`.
#
# One configuration stands apart: CNN + Dice, whose collapse the DIA chapter reproduces. The same
# share of single-class fold models (at 0.5, with its Clopper–Pearson interval) is counted for it
# with and without SMOTE.

# %%
smote_collapse = sens.collapse_by_smote(frames["leak_free"], plain_runs)
for name in ("with_smote", "without_smote"):
    glue.glue_estimate(f"rob_cnn_dice_collapse_{name}", smote_collapse[name])
glue.glue_number("rob_cnn_dice_collapse_smote_finding", smote_collapse["finding"])

# %% [markdown]
# Trained with SMOTE, CNN + Dice predicts a single class in a share
# {glue:text}`rob_cnn_dice_collapse_with_smote:.2f` of the leak-free folds
# ({glue:text}`rob_cnn_dice_collapse_with_smote_lo:.2f` to {glue:text}`rob_cnn_dice_collapse_with_smote_hi:.2f`);
# trained without it, in {glue:text}`rob_cnn_dice_collapse_without_smote:.2f`
# ({glue:text}`rob_cnn_dice_collapse_without_smote_lo:.2f` to
# {glue:text}`rob_cnn_dice_collapse_without_smote_hi:.2f`), and its ROC-AUC changes by
# {glue:text}`rob_nosmote_cnn_dice_roc_auc:+.3f` ({glue:text}`rob_nosmote_cnn_dice_roc_auc_lo:+.3f` to
# {glue:text}`rob_nosmote_cnn_dice_roc_auc_hi:+.3f`). The collapse
# **{glue:text}`rob_cnn_dice_collapse_smote_finding`**. One reason to expect a part for SMOTE
# lies in the loss: on a training set that is half positive, calling every example positive
# already earns a Dice score of 2/3, a deep optimum for a network to fall into; at the real share
# of positives the same constant answer earns much less. The DIA paper puts the collapse down to
# how Dice loss converges with the CNN, without separating it from the oversampling it trains with.
#
# ## DIA: one learning rate for every loss?
#
# The DIA chapter trains every loss at Adam's default learning rate,
# {glue:text}`rob_lr_default`. A rate that suits one loss may not suit another (focal loss, for
# one, shrinks the gradients of the many easy examples), so a comparison at one shared rate can
# favour whichever loss that rate happens to suit. Here each loss gets its own rate: for every outer
# fold, the rate among {glue:text}`rob_lr_grid` whose ROC-AUC on the *inner* validation rows is
# highest (the rows that choose the number of epochs, inside the training fold; ties go to the
# default rate). The test fold takes no part in the choice. The networks are
# {glue:text}`rob_tune_models`, leak-free, on {glue:text}`rob_tune_folds` outer folds.

# %%
bar = tqdm(total=len(learning_rates) * len(tune_models) * len(dia_parameters["losses"]), desc="learning rates")
rate_runs = sens.variant_runs(X, y, dia_parameters, [{"learning_rate": r} for r in learning_rates],
                              models=tune_models, losses=dia_parameters["losses"], data_sha256=train.sha256,
                              n_repeats=tune_repeats, progress=bar.update)
bar.close()
default_runs = rate_runs[rate_runs["learning_rate"] == learning_rate]
tuned_runs = sens.select_by_validation(rate_runs, prefer=learning_rate)
tuned = sens.tuned_comparison(default_runs, tuned_runs, metrics=dia.PAPER_METRICS)
changes = sens.contrast_changes(default_runs, tuned_runs)

# %% [markdown]
# {numref}`tbl-rob-tuned-roc_auc` and {numref}`tbl-rob-tuned-f1` set the tuned scores beside the
# default ones, and {numref}`tbl-rob-rates` shows which rates the folds chose.

# %%
glue.glue_numbers("rob", {"lr_default": learning_rate, "lr_grid": ", ".join(f"{r:g}" for r in learning_rates),
                          "tune_models": ", ".join(map(plots.config_label, tune_models)),
                          "tune_folds": n_splits * tune_repeats, "n_contrasts": changes["n"],
                          "n_changed": changes["n_changed"]})
glue.glue_estimate("rob_tuned_mlp_focal_auc", tuned["mlp+focal"]["roc_auc"]["tuned_minus_default"])
glue.glue_estimate("rob_tuned_f1_contrast", changes["contrasts"]["mlp|bce|f1"]["tuned"])

# %% [markdown]
# The tables are built from the same frames.

# %%
for metric in ("roc_auc", "f1"):
    tables.glue_table(f"tbl_rob_tuned_{metric}", sens.tuned_table(tuned, metric), index_header="configuration",
                      headers={"default": "default rate", "tuned": "tuned rate", "tuned_minus_default": "tuned − default"},
                      decimals=3)
tables.glue_table("tbl_rob_rates", sens.chosen_shares(tuned_runs).rename(index=plots.config_label,
                                                                         columns="{:g}".format),
                  index_header="configuration", decimals=2)
tables.glue_table("tbl_rob_contrasts", sens.contrast_table(changes), index_header="contrast",
                  headers={"default": "default rate", "tuned": "tuned rates"}, decimals=3)

# %% [markdown]
# :::{table} Leak-free ROC-AUC of each configuration at the DIA chapter's learning rate and with each loss's rate chosen per outer fold on inner validation rows, mean over {glue:text}`rob_tune_folds` test folds, and the paired difference, with 95 % corrected resampled t-intervals (`notebooks/robustness.py`).
# :name: tbl-rob-tuned-roc_auc
#
# ```{glue:md} tbl_rob_tuned_roc_auc
# :format: myst
# ```
# :::
#
# :::{table} The same for F1 at threshold 0.5 (`notebooks/robustness.py`).
# :name: tbl-rob-tuned-f1
#
# ```{glue:md} tbl_rob_tuned_f1
# :format: myst
# ```
# :::
#
# :::{table} Share of the outer folds in which inner validation chose each learning rate (`notebooks/robustness.py`).
# :name: tbl-rob-rates
#
# ```{glue:md} tbl_rob_rates
# :format: myst
# ```
# :::
#
# Tuning moves MLP + focal's ROC-AUC by {glue:text}`rob_tuned_mlp_focal_auc:+.3f`
# ({glue:text}`rob_tuned_mlp_focal_auc_lo:+.3f` to {glue:text}`rob_tuned_mlp_focal_auc_hi:+.3f`).
# Does it change a verdict? {numref}`tbl-rob-contrasts` pairs focal loss against each other loss,
# per network, at the default rate and with the tuned rates: of its {glue:text}`rob_n_contrasts`
# contrasts, {glue:text}`rob_n_changed` move from one side of zero (or from neither) to another.
# The contrast the DIA paper's F1 claim rests on, MLP focal − BCE, is
# {glue:text}`rob_tuned_f1_contrast:+.3f` ({glue:text}`rob_tuned_f1_contrast_lo:+.3f` to
# {glue:text}`rob_tuned_f1_contrast_hi:+.3f`) with tuned rates.
#
# :::{table} Focal loss minus each other loss, per network, ROC-AUC and F1 at 0.5, paired over the same test folds, at the default learning rate and with each loss's tuned rate (95 % corrected resampled t-intervals) (`notebooks/robustness.py`).
# :name: tbl-rob-contrasts
#
# ```{glue:md} tbl_rob_contrasts
# :format: myst
# ```
# :::
#
# ## DIA: focal loss's α and γ
#
# The DIA paper uses focal loss with α = 0.25 and γ = 2, the values of the detection paper that
# introduced it. α weights each positive example by α and each negative by 1 − α, so α = 0.25
# gives a positive a third of a negative's weight: on data where the positives are the minority,
# it *down-weights* the class one wants to find. Here the MLP is trained, leak-free, with every α in
# {glue:text}`rob_alphas` (none: no class weight) and every γ in {glue:text}`rob_gammas`
# (γ = 0 with no α is BCE), on {glue:text}`rob_focal_folds` outer folds, each cell against the
# chapter's MLP + BCE on the same folds.

# %%
cells = sens.factorial(alpha=focal_alphas, gamma=focal_gammas)
bar = tqdm(total=len(cells) + 1, desc="focal α × γ")
focal_runs = sens.variant_runs(X, y, dia_parameters, cells, models=["mlp"], losses=["focal"],
                               data_sha256=train.sha256, n_repeats=focal_repeats, progress=bar.update)
bce_runs = sens.variant_runs(X, y, dia_parameters, [{}], models=["mlp"], losses=["bce"], data_sha256=train.sha256,
                             n_repeats=focal_repeats, progress=bar.update)
bar.close()
focal_cells = sens.cell_summary(focal_runs, ["alpha", "gamma"], bce_runs)
focal_finding = sens.grid_finding(list(focal_cells["f1_vs_ref"]), over="α and γ")
auc_finding = sens.grid_finding(list(focal_cells["roc_auc_vs_ref"]), over="α and γ")

# %% [markdown]
# {numref}`fig-rob-focal` maps each cell's difference from BCE, and {numref}`tbl-rob-focal-cells`
# gives the numbers with their intervals.

# %%
panels = {f"{words} − BCE": sens.difference_matrices(focal_cells, "alpha", "gamma", f"{metric}_vs_ref")
          for metric, words in (("roc_auc", "ROC-AUC"), ("f1", "F1"), ("recall", "recall"))}
fig, _ = plots.heat_panels(panels, vmin=-0.3, vmax=0.3, cmap="RdBu", colorbar_label="focal − BCE (MLP, leak-free)")
plots.save_figure(fig, CHAPTER, "focal_grid", glue_key="fig_rob_focal")
focal_columns = {"roc_auc_vs_ref": "ROC-AUC − BCE", "f1_vs_ref": "F1 − BCE", "recall_vs_ref": "recall − BCE"}
tables.glue_table("tbl_rob_focal_cells", sens.cells_table(focal_cells, ["alpha", "gamma"], list(focal_columns)),
                  headers=focal_columns, index_header="focal α, γ", decimals=3)

# %% [markdown]
# ```{glue:figure} fig_rob_focal
# :name: fig-rob-focal
#
# MLP with focal loss minus MLP with BCE, leak-free, for each α (rows) and γ (columns): mean over
# {glue:text}`rob_focal_folds` test folds of the paired difference in ROC-AUC, F1 and recall at
# threshold 0.5; a star marks a difference whose 95 % corrected resampled t-interval excludes zero
# (`notebooks/robustness.py`, default parameters).
# ```
#
# :::{table} Focal loss minus BCE for every (α, γ), MLP, leak-free, paired over the same {glue:text}`rob_focal_folds` test folds, with 95 % corrected resampled t-intervals (`notebooks/robustness.py`).
# :name: tbl-rob-focal-cells
#
# ```{glue:md} tbl_rob_focal_cells
# :format: myst
# ```
# :::

# %%
paper_cell, unweighted = {"alpha": 0.25, "gamma": 2.0}, {"alpha": None, "gamma": 2.0}
alpha_effect = {metric: sens.level_contrast(focal_runs, unweighted, paper_cell, metric)
                for metric in ("recall", "f1", "roc_auc")}
for metric, estimate in alpha_effect.items():
    glue.glue_estimate(f"rob_alpha_{metric}", estimate)
glue.glue_numbers("rob", {"alphas": ", ".join(sens.factor_label("alpha", a).split(" = ")[1] for a in focal_alphas),
                          "gammas": ", ".join(f"{g:g}" for g in focal_gammas), "focal_folds": n_splits * focal_repeats,
                          "focal_n_cells": focal_finding["n"], "focal_f1_above": focal_finding["n_above"],
                          "focal_f1_below": focal_finding["n_below"], "focal_auc_above": auc_finding["n_above"],
                          "focal_auc_below": auc_finding["n_below"], "focal_finding": focal_finding["finding"]})

# %% [markdown]
# At the paper's γ = 2, the paper's α = 0.25 instead of no class weight changes the MLP's recall at
# 0.5 by {glue:text}`rob_alpha_recall:+.3f` ({glue:text}`rob_alpha_recall_lo:+.3f` to
# {glue:text}`rob_alpha_recall_hi:+.3f`), its F1 by {glue:text}`rob_alpha_f1:+.3f`
# ({glue:text}`rob_alpha_f1_lo:+.3f` to {glue:text}`rob_alpha_f1_hi:+.3f`) and its ROC-AUC by
# {glue:text}`rob_alpha_roc_auc:+.3f` ({glue:text}`rob_alpha_roc_auc_lo:+.3f` to
# {glue:text}`rob_alpha_roc_auc_hi:+.3f`): a class weight moves the scores relative to the
# threshold, and ranking metrics barely notice it. Over the {glue:text}`rob_focal_n_cells` cells,
# focal loss's F1 lies clearly above BCE's in {glue:text}`rob_focal_f1_above` and clearly below it in
# {glue:text}`rob_focal_f1_below`; its ROC-AUC clearly above in {glue:text}`rob_focal_auc_above` and
# clearly below in {glue:text}`rob_focal_auc_below`. For the paper's claim that focal loss beats BCE
# in F1, the finding is: **{glue:text}`rob_focal_finding`**.
#
# ## DIA: the boundaries of the CNN + Dice collapse
#
# The DIA chapter finds the CNN with Dice loss predicting a single class in almost every fold.
# The paper leaves several of the CNN's choices open, and Dice's smoothing term ε and the
# learning rate shape how it trains, so the collapse could belong to one configuration rather than
# to Dice on this data. Two small factorial blocks map it: pool size × dense width (with the
# chapter's ε and rate), and Dice ε × learning rate (with the chapter's pool size and width), each
# cell on {glue:text}`rob_collapse_folds` outer folds, leak-free and leaky. Leak-free, the map
# scores the inner model (trained on the training fold less its validation rows, which chose the
# epochs): the refit would double the cost of the dearest network and adds nothing to the question
# whether it collapses. A fold model has collapsed when every test prediction falls on the same side
# of 0.5.

# %%
blocks = {"network": sens.factorial(pool_size=collapse_pool_sizes, dense_units=collapse_dense_units),
          "training": sens.factorial(dice_eps=collapse_dice_eps, learning_rate=collapse_learning_rates)}
bar = tqdm(total=sum(map(len, blocks.values())), desc="CNN + Dice cells")
collapse = {name: sens.collapse_summary(sens.variant_runs(
    X, y, dia_parameters, cells, models=["cnn"], losses=["dice"], arms=sens.COLLAPSE_ARMS,
    data_sha256=train.sha256, n_repeats=collapse_repeats, progress=bar.update), list(cells[0]))
    for name, cells in blocks.items()}
bar.close()
over = "pool size, dense width, Dice ε and learning rate"
collapse_found = sens.collapse_finding(*collapse.values(), over=over)

# %% [markdown]
# {numref}`fig-rob-collapse` maps the share of collapsed fold models in each cell;
# {numref}`tbl-rob-collapse-network` and {numref}`tbl-rob-collapse-training` give each share
# with its Clopper-Pearson interval.

# %%
FACTOR_PAIRS = {"network": ("pool_size", "dense_units"), "training": ("dice_eps", "learning_rate")}
panels = {f"{words}, {name}":
          sens.collapse_matrices(collapse[name], r, c, arm)
          for arm, words in sens.COLLAPSE_ARMS.items() for name, (r, c) in FACTOR_PAIRS.items()}
fig, _ = plots.heat_panels(panels, vmin=0, vmax=1, colorbar_label="share of folds predicting one class")
plots.save_figure(fig, CHAPTER, "collapse_map", glue_key="fig_rob_collapse")
for name, factors in FACTOR_PAIRS.items():
    tables.glue_table(f"tbl_rob_collapse_{name}", sens.collapse_table(collapse[name], factors), index_header="cell")

# %% [markdown]
# ```{glue:figure} fig_rob_collapse
# :name: fig-rob-collapse
#
# CNN with Dice loss: the share of fold models that predict a single class, per cell (the text is
# collapsed folds / folds), leak-free (top) and leaky (bottom); left, pool size × dense width,
# right, Dice ε × learning rate (`notebooks/robustness.py`, default parameters).
# ```
#
# :::{table} CNN + Dice, pool size × dense width: folds predicting a single class, of {glue:text}`rob_collapse_folds`, with the 95 % Clopper-Pearson interval of the share (`notebooks/robustness.py`).
# :name: tbl-rob-collapse-network
#
# ```{glue:md} tbl_rob_collapse_network
# :format: myst
# ```
# :::
#
# :::{table} CNN + Dice, Dice ε × learning rate: folds predicting a single class, of {glue:text}`rob_collapse_folds`, with the 95 % Clopper-Pearson interval of the share (`notebooks/robustness.py`).
# :name: tbl-rob-collapse-training
#
# ```{glue:md} tbl_rob_collapse_training
# :format: myst
# ```
# :::

# %%
glue.glue_numbers("rob", {"collapse_folds": n_splits * collapse_repeats,
                          **{f"collapse_{arm}_{k}": v for arm, entry in collapse_found.items()
                             for k, v in entry.items()}})

# %% [markdown]
# Leak-free, most folds collapse (the interval of the share lies above one half) in
# {glue:text}`rob_collapse_leak_free_no_refit_n_most` of {glue:text}`rob_collapse_leak_free_no_refit_n_cells` cells
# and few do (below one half) in {glue:text}`rob_collapse_leak_free_no_refit_n_few`; leaky, in
# {glue:text}`rob_collapse_leaky_n_most` and {glue:text}`rob_collapse_leaky_n_few` of
# {glue:text}`rob_collapse_leaky_n_cells`. The collapse, leak-free,
# **{glue:text}`rob_collapse_leak_free_no_refit_finding`**.
#
# ## DIA: where the variance comes from
#
# A fold score varies because the split changes which drugs are trained and tested on, and
# because the network starts from different random weights. Here every fold model of MLP + BCE and
# MLP + focal is trained {glue:text}`rob_n_inits` times (the chapter's initialisation and
# {glue:text}`rob_n_other_inits` others), on {glue:text}`rob_variance_folds` outer folds, and the
# variance of the ROC-AUC is split into a part between splits and a part between initialisations
# of one split (the nested estimator: the mean within-split variance, and the variance of the split
# means less what the initialisations leave in them).

# %%
bar = tqdm(total=n_inits * 2, desc="initialisations")
init_runs = sens.variant_runs(X, y, dia_parameters, [{"init": r} for r in range(n_inits)], models=["mlp"],
                              losses=["bce", "focal"], data_sha256=train.sha256, n_repeats=variance_repeats,
                              progress=bar.update)
bar.close()
variance = sens.variance_components(init_runs, "roc_auc", contrast=("bce", "focal"), n_boot=n_boot,
                                    seed=seeding.derive_seed("robustness-variance", seed))
contrast = variance["components"]["mlp+focal−bce"]
n_train_var, n_test_var = dia._sizes(init_runs)
needed = {m: sens.repeats_needed(contrast["variance_split"], contrast["variance_init"], difference=min_difference,
                                 n_splits=n_splits, n_train=n_train_var, n_test=n_test_var, n_inits=m)
          for m in (1, n_inits)}

# %% [markdown]
# {numref}`tbl-rob-variance` gives the two standard deviations, for each loss and for the
# difference between them.

# %%
tables.glue_table("tbl_rob_variance", sens.variance_table(variance), index_header="ROC-AUC of",
                  headers={"sd_split": "SD between splits", "sd_init": "SD between initialisations",
                           "share_init": "share of variance from initialisation"}, decimals=3)
glue.glue_numbers("rob", {"n_inits": n_inits, "n_other_inits": n_inits - 1, "variance_folds": n_splits * variance_repeats,
                          "min_difference": min_difference,
                          "repeats_one": sens.repeats_words(needed[1]), "repeats_all": sens.repeats_words(needed[n_inits])})
for name in ("sd_split", "sd_init", "share_init"):
    glue.glue_estimate(f"rob_contrast_{name}", contrast[name])

# %% [markdown]
# :::{table} Standard deviation of the fold ROC-AUC between splits and between initialisations of one split (nested estimator), and the share of the variance that initialisation accounts for, MLP, leak-free, {glue:text}`rob_variance_folds` splits × {glue:text}`rob_n_inits` initialisations; intervals resample the splits (percentile bootstrap; splits of one repeat share drugs, so they are rough) (`notebooks/robustness.py`).
# :name: tbl-rob-variance
#
# ```{glue:md} tbl_rob_variance
# :format: myst
# ```
# :::
#
# For the difference that matters when comparing losses, focal − BCE, initialisation accounts for
# a share {glue:text}`rob_contrast_share_init:.2f` ({glue:text}`rob_contrast_share_init_lo:.2f` to
# {glue:text}`rob_contrast_share_init_hi:.2f`) of the variance. With the corrected resampled
# t-test at the 5 % level and 80 % power (normal approximation), the repeats of
# {glue:text}`rob_n_splits`-fold CV a future study needs to detect a ROC-AUC difference of
# {glue:text}`rob_min_difference` between these two losses are: {glue:text}`rob_repeats_one` with
# one initialisation per fold, and {glue:text}`rob_repeats_all` with {glue:text}`rob_n_inits`
# initialisations averaged. The correction's
# $n_\mathrm{test}/n_\mathrm{train}$ term does not shrink with more repeats, so below some
# difference no number of repeats is enough.
#
# The external test of the DIA chapter scores the average of {glue:text}`rob_n_refits` refits,
# which is steadier than one network; the CV scores come from one network per fold.

# %%
spread = sens.refit_spread(X, y, test.X.to_numpy(), test.y, dia_parameters, [("mlp", "focal")],
                           data_sha256=train.sha256)["mlp+focal"]
glue.glue_numbers("rob", {"n_refits": n_refits, **{f"refit_{k}": v for k, v in spread.items() if k != "single"}})

# %% [markdown]
# For MLP + focal, the averaged refits score an external ROC-AUC of {glue:text}`rob_refit_averaged:.3f`;
# one refit alone scores between {glue:text}`rob_refit_single_min:.3f` and
# {glue:text}`rob_refit_single_max:.3f` (mean {glue:text}`rob_refit_single_mean:.3f`, SD
# {glue:text}`rob_refit_single_sd:.3f`), the spread to set beside a single fold model's CV score.
#
# ## Synthetic: is focal's advantage a matter of training length?
#
# The tutorial's networks see {glue:text}`rob_first_steps` full-batch steps. An under-trained
# BCE network may not yet have moved its scores for the rare class above 0.5, while focal
# loss, which down-weights the many easy majority examples, moves differently. Here the tutorial's
# BCE and focal networks are re-trained for {glue:text}`rob_steps_text` steps, with
# {glue:text}`rob_n_seeds` initialisation seeds on each of {glue:text}`rob_n_draws` dataset draws
# (both losses start from the same weights), with the functions of `lossbook.studies.synthetic`.
# Each network is scored twice: trained on the whole training split and thresholded at 0.5,
# and trained without a held-out {glue:text}`rob_syn_val_fraction:.0%` of the training rows,
# thresholded where F1 is highest on those held-out rows, for each loss alike. The test split is
# only scored.

# %%
bar = tqdm(total=2 * len(train_steps), desc="training lengths")
draws = list(range(syn.TUTORIAL_RANDOM_STATE, syn.TUTORIAL_RANDOM_STATE + n_draws))
runs = rob.training_length_runs(train_steps, list(range(n_seeds)), draws, val_fraction=syn_val_fraction,
                                progress=bar.update)
bar.close()
length_diffs = rob.length_differences(runs, n_boot=n_boot, seed=seeding.derive_seed("robustness-bootstrap", seed))
counts = rob.length_table(runs)
finding = rob.length_finding(length_diffs)

# %% [markdown]
# Each difference pairs a focal and a BCE network that share a dataset draw and an initialisation
# seed; its interval resamples draws, then seeds within draws, as in the synthetic chapter.

# %%
first, last = train_steps[0], train_steps[-1]
glue.glue_numbers("rob", {"first_steps": first, "last_steps": last, "n_seeds": n_seeds, "n_draws": n_draws,
                          "steps_text": ", ".join(map(str, train_steps[:-1])) + f" and {last}",
                          "syn_val_fraction": syn_val_fraction, "finding": finding})
for steps, label in ((first, "first"), (last, "last")):
    for rule in rob.RULES:
        glue.glue_estimate(f"rob_len_{label}_{rule}", length_diffs[steps][rule]["minority_found"])
    glue.glue_number(f"rob_bce_found_{label}", float(counts.loc[steps, "found_bce"]))
    glue.glue_number(f"rob_bce_threshold_{label}", float(counts.loc[steps, "threshold_bce"]))

# %% [markdown]
# {numref}`tbl-rob-lengths` shows what each loss does at each training length.

# %%
COUNT_HEADERS = {"found_bce": "BCE: found at 0.5", "found_focal": "focal: found at 0.5",
                 "none_bce": "BCE: share finding none", "none_focal": "focal: share finding none",
                 "threshold_bce": "BCE: chosen threshold", "threshold_focal": "focal: chosen threshold"}
tables.glue_table("tbl_rob_lengths", counts, headers=COUNT_HEADERS, index_header="training steps",
           decimals={"found_bce": 2, "found_focal": 2, "none_bce": 2, "none_focal": 2, "threshold_bce": 3,
                     "threshold_focal": 3})

# %% [markdown]
# :::{table} The tutorial's BCE and focal networks trained for each number of full-batch steps, over {glue:text}`rob_n_seeds` seeds × {glue:text}`rob_n_draws` dataset draws: mean test minority examples found at threshold 0.5, share of networks finding none, and the median threshold chosen by F1 on held-out training rows (`notebooks/robustness.py`).
# :name: tbl-rob-lengths
#
# ```{glue:md} tbl_rob_lengths
# :format: myst
# ```
# :::
#
# After {glue:text}`rob_first_steps` steps BCE's networks find on average
# {glue:text}`rob_bce_found_first:.2f` minority examples at 0.5, after {glue:text}`rob_last_steps`
# steps {glue:text}`rob_bce_found_last:.2f`; the threshold that F1 chooses for BCE on held-out
# training rows moves from {glue:text}`rob_bce_threshold_first:.3f` to
# {glue:text}`rob_bce_threshold_last:.3f`. {numref}`tbl-rob-diffs-at-half`,
# {numref}`tbl-rob-diffs-validation` and {numref}`fig-rob-lengths` pair the two losses.

# %%
by_length = rob.length_difference_table(length_diffs).T
for rule, words in rob.RULE_WORDS.items():
    part = by_length[[f"{words}, {m}" for m in rob.METRIC_WORDS.values()]]
    tables.glue_table(f"tbl_rob_diffs_{rule}", part.rename(columns=lambda c: c.split(", ")[1]), decimals=3,
                      index_header="training steps", headers={"found": "minority examples found"})

# %% [markdown]
# The figure draws the minority-example columns of those tables against the training length.

# %%
RULE_LEGEND = {"at_half": "threshold 0.5", "validation": "threshold chosen on held-out training rows"}
frames_fig = {k: v.rename(columns=RULE_LEGEND) for k, v in rob.difference_frame(length_diffs).items()}
fig, ax = plots.bar_with_errors(frames_fig["estimate"], ci_low=frames_fig["ci_low"], ci_high=frames_fig["ci_high"],
                                reference=0.0,
                                reference_label="no difference", ylabel="extra minority examples found, focal − BCE")
ax.set_xlabel("full-batch training steps")
plots.save_figure(fig, CHAPTER, "lengths", glue_key="fig_rob_lengths")

# %% [markdown]
# :::{table} Focal minus BCE at threshold 0.5, per training length, paired by seed and dataset draw, with the synthetic chapter's 95 % two-level bootstrap interval (draws, then seeds within draws): test minority examples found and ROC-AUC (`notebooks/robustness.py`).
# :name: tbl-rob-diffs-at-half
#
# ```{glue:md} tbl_rob_diffs_at_half
# :format: myst
# ```
# :::
#
# :::{table} Focal minus BCE at the threshold chosen by F1 on held-out training rows, per training length, paired by seed and dataset draw, with the 95 % two-level bootstrap interval: test minority examples found and ROC-AUC (`notebooks/robustness.py`).
# :name: tbl-rob-diffs-validation
#
# ```{glue:md} tbl_rob_diffs_validation
# :format: myst
# ```
# :::
#
# ```{glue:figure} fig_rob_lengths
# :name: fig-rob-lengths
#
# Extra test minority examples found by focal loss over BCE (mean over seed × draw pairs, 95 %
# two-level bootstrap interval), per training length, at threshold 0.5 and at the threshold chosen
# on held-out training rows (`notebooks/robustness.py`, default parameters).
# ```
#
# At {glue:text}`rob_first_steps` steps, the tutorial's setting, focal loss finds
# {glue:text}`rob_len_first_at_half:+.2f` more minority examples at 0.5
# ({glue:text}`rob_len_first_at_half_lo:+.2f` to {glue:text}`rob_len_first_at_half_hi:+.2f`); at
# {glue:text}`rob_last_steps` steps the difference is {glue:text}`rob_len_last_at_half:+.2f`
# ({glue:text}`rob_len_last_at_half_lo:+.2f` to {glue:text}`rob_len_last_at_half_hi:+.2f`). With the
# threshold chosen on held-out training rows the differences are
# {glue:text}`rob_len_first_validation:+.2f` ({glue:text}`rob_len_first_validation_lo:+.2f` to
# {glue:text}`rob_len_first_validation_hi:+.2f`) and {glue:text}`rob_len_last_validation:+.2f`
# ({glue:text}`rob_len_last_validation_lo:+.2f` to {glue:text}`rob_len_last_validation_hi:+.2f`).
# Judged by whether every length's interval at 0.5 lies above zero, focal loss's advantage
# **{glue:text}`rob_finding`**; this is the line the claims ledger ({ref}`chapter-claims`) adds to
# the tutorial's claim that focal loss finds the minority examples BCE misses.

# %% [markdown]
# The chapter's numbers are recorded in its results file, which the claims ledger reads.

# %%
grids = {
    "learning_rate": {"grid": learning_rates, "models": tune_models, "n_folds": n_splits * tune_repeats,
                      "tuned": tuned, "contrasts": changes,
                      "chosen_shares": sens.chosen_shares(tuned_runs).rename(columns="{:g}".format).to_dict("index"),
                      "method": "rate chosen per outer fold by inner-validation ROC-AUC; corrected resampled t"},
    "focal_grid": {"cells": sens.records(focal_cells), "finding_f1": focal_finding, "finding_roc_auc": auc_finding,
                   "alpha_effect": {"compared": "alpha 0.25 minus no alpha, gamma 2", **alpha_effect},
                   "n_folds": n_splits * focal_repeats, "reference": "mlp+bce, the DIA chapter's, same folds"},
    "collapse_map": {"blocks": {name: sens.records(cells) for name, cells in collapse.items()},
                     "finding": collapse_found, "n_folds": n_splits * collapse_repeats, "by_smote": smote_collapse,
                     "method": "share of fold models predicting one class at 0.5; Clopper-Pearson"},
}

# %% [markdown]
# The variance decomposition, the external refits and the ledger's lines join them.

# %%
grids["variance"] = {**variance, "external_refits": spread,
                     "repeats_needed": {"one_initialisation": needed[1], "initialisations_averaged": needed[n_inits],
                                        "difference": min_difference, "power": 0.8, "level": 0.05}}
grids["evidence"] = sens.ledger_evidence(changes, focal_finding, collapse_found, spread, smote_collapse)

# %% [markdown]
# With the calibration and training-length results, they make the chapter's results file.

# %%
book_results = {
    "dia_calibration": {"configurations": summary, "focal_minus_bce": focal_minus_bce, "dice_minus_bce": dice_minus_bce,
                        "without_smote": smote_record, "n_bins": n_bins, "source_prior": rob.SMOTE_PRIOR,
                        "target_prior": "positive share of each fold's training rows (before SMOTE)",
                        "fold_sizes": {"n_train": n_train_fold, "n_test": n_test_fold},
                        "method": "fold means and per-fold paired differences, corrected resampled t (Nadeau-Bengio)"},
    "training_length": {"steps": list(train_steps), "focal_minus_bce": {str(k): v for k, v in length_diffs.items()},
                        "per_length": {str(k): row for k, row in counts.to_dict(orient="index").items()},
                        "finding": finding, "method": "paired by (draw, seed); two-level bootstrap, draws then seeds"},
    **grids,
}
results_file = results.save_results(CHAPTER, book_results, parameters=parameters, data_checksums=checksums)
