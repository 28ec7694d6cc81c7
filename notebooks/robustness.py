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
# # How robust are the verdicts? Calibration, prior shift and training length
#
# Two of the book's findings rest on choices the sources made and we kept. The DIA
# networks ({ref}`chapter-dia`) are trained on folds that SMOTE has balanced to one positive for
# every negative, and scored on test folds at the data's real share of positives; a
# network that has learnt the balanced share predicts probabilities that are too high
# for the real one. The synthetic tutorial ({ref}`chapter-synthetic`) trains each network for
# only 30 full-batch steps, and its focal network's advantage at threshold 0.5 could be a
# matter of how far each loss gets in so few steps rather than of the loss itself.
#
# This chapter measures both. For DIA it scores the calibration of the very fold models
# of the DIA chapter, before and after the standard correction for a change of class
# prior; for the synthetic data it re-trains the tutorial's two networks for several
# training lengths. Focal loss is known to change calibration
# {cite:p}`mukhoti2020calibrating`: here that is measured, not assumed. All logic lives
# in `lossbook.studies.robustness`; the numbers are recorded in `book/results/robustness.json`.

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
from lossbook.studies import synthetic as syn

# %% [markdown]
# The parameters are checked before any training: the DIA ones by the DIA chapter's own rules.

# %%
parameters, dia_parameters = rob.check_parameters(**lbparams.collect(globals(), rob.CONSTRAINTS))
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

# %%
bar = tqdm(total=len(dia_parameters["models"]) * len(dia_parameters["losses"]), desc="DIA grid (cached)")
frames = dia.main_grid(X, y, dia_parameters, data_sha256=train.sha256, progress=bar.update)
bar.close()
calibration = rob.calibration_frame(frames["leak_free"], y, dia_parameters, n_bins=n_bins)
summary = rob.calibration_summary(calibration)
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
# {numref}`tbl-rob-ece` gives each configuration's ECE as predicted and after the correction,
# {numref}`tbl-rob-change` the change the correction makes to the ECE and to the Brier score,
# paired per fold, and {numref}`tbl-rob-brier` further down the Brier scores themselves.

# %%
LEVELS = {"as predicted": "", "corrected": "_corrected"}
for metric in ("ece", "brier"):
    levels = rob.summary_table(summary, metric)[[metric + suffix for suffix in LEVELS.values()]]
    tables.glue_table(f"tbl_rob_{metric}", levels, headers={metric + v: k for k, v in LEVELS.items()},
                      index_header="configuration", decimals=3)
changes = rob.summary_table(summary, "ece")[["ece_change"]].join(rob.summary_table(summary, "brier")[["brier_change"]])
tables.glue_table("tbl_rob_change", changes, headers={"ece_change": "ECE", "brier_change": "Brier score"},
                  index_header="configuration", decimals=3)

# %% [markdown]
# :::{table} Expected calibration error ({glue:text}`rob_n_bins` equal-width bins) of the leak-free DIA networks, mean over {glue:text}`rob_n_fold_models` test folds with its 95 % corrected resampled t-interval: as predicted, and after the prior-shift correction from the SMOTE prior to each training fold's prior ("corrected") (`notebooks/robustness.py`).
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
# :::{table} Brier score of the leak-free DIA networks, mean over {glue:text}`rob_n_fold_models` test folds with its 95 % corrected resampled t-interval: as predicted, and after the prior-shift correction ("corrected") (`notebooks/robustness.py`).
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
panels = {title: {loss: rob.pooled(calibration, "mlp", loss, corrected=corrected) for loss in dia_parameters["losses"]}
          for title, corrected in (("as predicted", False), ("prior-shift corrected", True))}
fig, _ = plots.reliability_panels(panels, n_bins=n_bins)
plots.save_figure(fig, CHAPTER, "reliability", glue_key="fig_rob_reliability")

# %% [markdown]
# ```{glue:figure} fig_rob_reliability
# :name: fig-rob-reliability
#
# Reliability diagrams of the leak-free DIA MLP with BCE, focal and Dice loss, test folds pooled
# over all folds and repeats: share of positives against mean predicted probability in each of
# {glue:text}`rob_n_bins` equal-width bins, as predicted (left) and after the prior-shift
# correction (right); the dotted diagonal is perfect calibration (`notebooks/robustness.py`,
# default parameters).
# ```
#
# A curve below the diagonal predicts positives more often than they occur, which is what one
# would expect of a model trained at a balanced prior and used at the real one. The correction is
# monotone: it moves the probabilities without changing their order, so ranking metrics such as
# ROC-AUC are the same before and after it.
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
book_results = {
    "dia_calibration": {"configurations": summary, "focal_minus_bce": focal_minus_bce, "dice_minus_bce": dice_minus_bce,
                        "n_bins": n_bins, "source_prior": rob.SMOTE_PRIOR,
                        "target_prior": "positive share of each fold's training rows (before SMOTE)",
                        "fold_sizes": {"n_train": n_train_fold, "n_test": n_test_fold},
                        "method": "fold means and per-fold paired differences, corrected resampled t (Nadeau-Bengio)"},
    "training_length": {"steps": list(train_steps), "focal_minus_bce": {str(k): v for k, v in length_diffs.items()},
                        "per_length": {str(k): row for k, row in counts.to_dict(orient="index").items()},
                        "finding": finding, "method": "paired by (draw, seed); two-level bootstrap, draws then seeds"},
}
results_file = results.save_results(CHAPTER, book_results, parameters=parameters, data_checksums=checksums)
