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
# (chapter-losses)=
# # The losses
#
# Every study in this book trains the same kinds of networks under different
# losses and then judges them with the same metrics. This chapter shows what the
# losses do to a single prediction, why their values cannot be compared with
# each other, and what a classifier that calls everything positive scores. All
# of it is computed by `lossbook.core.losses` and `lossbook.core.metrics`, the code the
# other chapters train and score with; every number is recorded in
# `book/results/losses.json`.
#
# ## Definitions
#
# For a label $y \in \{0, 1\}$ and a predicted probability $p$ of the positive
# class, write $p_t = p$ when $y = 1$ and $p_t = 1 - p$ when $y = 0$.
#
# * **Binary cross-entropy (BCE)**: $-\log p_t$, optionally with the positive
#   term multiplied by a weight `pos_weight`.
# * **Focal loss** {cite}`lin2017focal`: $-\alpha_t (1 - p_t)^\gamma \log p_t$,
#   where $\alpha_t = \alpha$ for positives and $1 - \alpha$ for negatives. The
#   factor $(1 - p_t)^\gamma$ shrinks the loss of examples that are already
#   classified well; $\gamma = 0$ and no $\alpha$ give BCE back.
# * **Soft Dice loss**, equation 3 of the DIA paper {cite}`bits2025dia`:
#   $1 - \frac{2\sum_i p_i y_i + \epsilon}{\sum_i p_i + \sum_i y_i + \epsilon}$.
#   The sums run over a whole batch, so Dice is a property of the batch, not an
#   average over examples.
# * **Weighted cross-entropy** (several classes): $-w_{y} (1 - p_{y})^\gamma
#   \log p_{y}$ with one weight per class; $\gamma > 0$ makes it the multi-class
#   focal loss.
#
# The cross-entropy losses clip $p$ to $[10^{-7}, 1 - 10^{-7}]$, as Keras does,
# so a confidently wrong example costs at most $-\log 10^{-7} \approx 16.1$.
# The tests in `tests/test_losses.py` check the NumPy, Keras and torch versions
# against each other, against finite differences, and against the
# implementations in Keras and torch.

# %% tags=["parameters"]
data_dir = None  # folder holding dia/; None means $LOSSBOOK_DATA_DIR
seed = 0
gammas = [0.0, 0.5, 1.0, 2.0, 5.0]  # focal gamma values drawn in the curves
alphas = [None, 0.25, 0.75]  # focal alpha values compared at gamma = 2
focal_gamma = 2.0  # the focal setting of the DIA paper
focal_alpha = 0.25
dice_eps = 1.0  # the DIA paper gives no value for its epsilon
batch_size = 32  # batch size for the per-batch Dice in the comparability table
n_points = 199  # grid of predicted probabilities for the curves

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from myst_nb import glue

from lossbook.core import data as lbdata
from lossbook.core import losses, metrics, plots
from lossbook.core import params as lbparams

# %%
from lossbook.core.seeding import seed_everything
from lossbook.publish import tables
from lossbook.publish.results import save_results
from lossbook.studies import chapters as chapter_params
from lossbook.studies.dia import PAPER_TABLE1

# %%
lbparams.validate(lbparams.collect(globals(), chapter_params.LOSSES), chapter_params.LOSSES)  # the cell above
# the loss parameters are checked by losses.make itself
losses.make("focal", gamma=focal_gamma, alpha=focal_alpha)
losses.make("dice", eps=dice_eps)
seed_everything(seed)
plots.set_style()

# %% [markdown]
# The DIA training labels serve as the running example: their prevalence sets the
# balancing class weights and the scores of the all-positive classifier below.

# %%
root = Path(data_dir) / "dia" if data_dir else None
train = lbdata.load_dia("train", root, verify_checksum=True)
y_train = np.asarray(train.y, dtype=int)
n_train, n_pos = len(y_train), int(y_train.sum())
prevalence = n_pos / n_train

# %%
glue("n_train", n_train, display=False)
glue("n_pos", n_pos, display=False)
glue("prevalence", prevalence, display=False)

# %% [markdown]
# ## One prediction at a time
#
# The curves below show the loss of a single example and its gradient with
# respect to the predicted probability, for a positive example (left) and a
# negative one (right). Gradients come from torch's autograd applied to
# `lossbook.core.losses`. Dice is drawn for a batch of one example, since it is only
# defined for a batch; a lone negative example then costs $p / (p + \epsilon)$,
# bounded however wrong the prediction is.

# %%
grid = np.linspace(0.005, 0.995, n_points)
focal_gammas = [g for g in gammas if g > 0]
focal_colors = plots.shades(plots.LOSS_COLORS["focal"], len(focal_gammas))
curves = [("BCE", "bce", {}, plots.LOSS_COLORS["bce"], "-"),
          *[(f"focal γ={g:g}", "focal", {"gamma": g, "alpha": None}, c, "-") for g, c in zip(focal_gammas, focal_colors)],
          (f"Dice (ε={dice_eps:g}, batch of 1)", "dice", {"eps": dice_eps}, plots.LOSS_COLORS["dice"], "--")]
fig = plots.loss_curves(grid, curves)
plots.save_figure(fig, "losses", "loss_curves", glue_key="fig_loss_curves")

# %% [markdown]
# To put a number on "discounts the easy examples", `focal_discount` scores one positive
# example predicted at $p_t = 0.9$ under focal loss for each $\gamma$ and divides by its BCE.

# %%
easy = losses.focal_discount(gammas, p_t=0.9)
glue("easy_ratio_g2", easy[f"{focal_gamma:g}"], display=False)
glue("focal_gamma", focal_gamma, display=False)

# %% [markdown]
# ```{glue:figure} fig_loss_curves
# :name: fig-loss-curves
#
# Loss (top) and its gradient with respect to $p$ (bottom) for one positive and
# one negative example, under BCE, focal loss without $\alpha$ for several
# $\gamma$, and Dice for a batch of one. Made by `notebooks/losses.py` with
# `gammas` and `dice_eps` as set in its parameters cell.
# ```
#
# Focal loss leaves the confident mistakes almost as costly as BCE does and
# discounts the easy examples: at $p_t = 0.9$ and $\gamma =$
# {glue:text}`focal_gamma:g`, an example's focal loss is
# {glue:text}`easy_ratio_g2:.3f` of its BCE. Its gradient also vanishes near
# $p_t = 1$, so a network trained with it stops pushing already-correct
# predictions towards certainty; that is one reason focal-trained models are
# often less over-confident {cite}`mukhoti2020calibrating`.
#
# ## What $\alpha = 0.25$ does to a minority positive class
#
# In Lin et al.'s formulation, $\alpha$ multiplies the loss of *positive*
# examples and $1 - \alpha$ that of negatives. The default $\alpha = 0.25$
# therefore gives each positive a third of the weight of a negative: it
# **down-weights the positive class**. When the positives are the minority, as
# in all three studies of this book, that is the opposite of class balancing.
# Lin et al. found it worked for object detection because the focusing term had
# already removed most of the easy negatives' loss; it is not a
# class-imbalance correction in itself.

# %%
fig, axes = plt.subplots(1, 2, figsize=(plots.PAGE_WIDTH_IN, 3.0), sharey=True)
for col, label in enumerate((1, 0)):
    for i, a in enumerate(alphas):
        value, _ = losses.loss_and_gradient("focal", label, grid, gamma=focal_gamma, alpha=a)
        axes[col].plot(grid, value, lw=1.6, color=plots.PALETTE[i],
                       label="no α" if a is None else f"α={a:g}")
    axes[col].set_title(f"focal γ={focal_gamma:g}, {'positive' if label else 'negative'} example")
    axes[col].set_xlabel("predicted probability p")
axes[0].set_ylabel("loss")
axes[0].legend()
plots.save_figure(fig, "losses", "focal_alpha", glue_key="fig_focal_alpha")

# %% [markdown]
# The figure shows the weighting; a few numbers pin it down. `alpha_cost_ratio` compares
# the focal loss of a positive and of a negative example that make the same mistake,
# $p_t = 0.3$, so that only $\alpha$ tells them apart. Beside it, scikit-learn's
# "balanced" class weights for the DIA training labels, and the $\alpha$ that would
# weight the two classes in the same proportion.

# %%
alpha_ratio = losses.alpha_cost_ratio(focal_gamma, focal_alpha, p_t=0.3)
balanced = losses.balanced_class_weights(y_train)
alpha_balanced = balanced[1] / (balanced[0] + balanced[1])

# %%
glue("alpha_ratio", alpha_ratio, display=False)
glue("focal_alpha", focal_alpha, display=False)
glue("w_neg", balanced[0], display=False)
glue("w_pos", balanced[1], display=False)
glue("alpha_balanced", alpha_balanced, display=False)

# %% [markdown]
# ```{glue:figure} fig_focal_alpha
# :name: fig-focal-alpha
#
# Focal loss at $\gamma = 2$ with and without the class weight $\alpha$, for a
# positive and a negative example (`notebooks/losses.py`, parameters `alphas`
# and `focal_gamma`).
# ```
#
# The same mistake, $p_t = 0.3$, costs a positive example
# {glue:text}`alpha_ratio:.3f` times what it costs a negative one at
# $\alpha =$ {glue:text}`focal_alpha:g`. For comparison, scikit-learn's
# "balanced" class weights for the DIA training set ({glue:text}`n_pos` positives
# among {glue:text}`n_train` drugs) are {glue:text}`w_neg:.3f` for a negative and
# {glue:text}`w_pos:.3f` for a positive, which corresponds to
# $\alpha =$ {glue:text}`alpha_balanced:.3f`: a balancing $\alpha$ is
# $1 - \pi$, not 0.25.
#
# ## Loss values are not comparable across losses
#
# A training log that shows a lower loss under focal loss than under BCE says
# nothing about which model is better: the losses measure different things on
# different scales. {numref}`tbl-losses-scales` scores the same fixed predictions for the DIA
# training labels under each loss, next to two metrics. The predictors are a
# constant at the prevalence $\pi$ (the best a model that knows nothing can do
# under BCE), a constant 0.5, a near-certain "everything is positive"
# (0.99 for every drug), a soft but perfect separator (0.7 for positives, 0.3
# for negatives), and a noisy ranker whose scores are drawn from two Beta
# distributions with a fixed seed.

# %% [markdown]
# `fixed_predictions` builds the five predictors for the training labels. Each loss
# below is the book's own implementation, focal loss with the DIA paper's setting and
# Dice with `dice_eps`.

# %%
predictors = losses.fixed_predictions(y_train, seed=seed)
focal_col = f"focal γ={focal_gamma:g}, α={focal_alpha:g}"
dice_col = "Dice (whole set)"
batch_col = f"Dice (mean over batches of {batch_size})"
scorers = {
    "BCE": losses.make("bce"),
    focal_col: losses.make("focal", gamma=focal_gamma, alpha=focal_alpha),
    f"focal γ={focal_gamma:g}, no α": losses.make("focal", gamma=focal_gamma, alpha=None),
    dice_col: losses.make("dice", eps=dice_eps),
}

# %% [markdown]
# `metrics.score_fixed_predictions` scores every predictor under every loss on the whole
# set, and adds Dice as a mean over batches of `batch_size` drugs taken in a fixed
# shuffled order, plus ROC-AUC and F1 at 0.5. A second table ranks the predictors
# within each column.

# %%
order = np.random.default_rng(seed + 1).permutation(n_train)
comparison = metrics.score_fixed_predictions(y_train, predictors, scorers, batch_size=batch_size, order=order,
                                             batch_losses={batch_col: losses.make("dice", eps=dice_eps, axis=-1)})
ranking = metrics.rank_columns(comparison, higher_is_better=("ROC-AUC", "F1 at 0.5"))  # 1 = best
tables.glue_table("tbl_losses_scales", comparison)
tables.glue_table("tbl_losses_ranking", ranking)

# %% [markdown]
# The text below quotes single cells of the comparison table; each is glued under a
# name that says which predictor and which column it comes from.

# %%
quoted = {
    "bce_const_pi": ("constant π", "BCE"), "bce_all_pos": ("all positive (0.99)", "BCE"),
    "bce_ranker": ("noisy ranker", "BCE"), "dice_const_pi": ("constant π", dice_col),
    "dice_all_pos": ("all positive (0.99)", dice_col), "dice_batch_all_pos": ("all positive (0.99)", batch_col),
    "focal_ranker": ("noisy ranker", focal_col), "focal_const_pi": ("constant π", focal_col),
    "ranker_auc": ("noisy ranker", "ROC-AUC"),
}

# %%
for name, (row, column) in quoted.items():
    glue(name, float(comparison.loc[row, column]), display=False)
glue("focal_over_bce_ranker",
     float(comparison.loc["noisy ranker", focal_col] / comparison.loc["noisy ranker", "BCE"]), display=False)
glue("batch_size", batch_size, display=False)
glue("dice_eps", dice_eps, display=False)

# %% [markdown]
# :::{table} The same fixed predictions for the DIA training labels, scored by each loss (lower is better) and by two metrics (higher is better). Made by `notebooks/losses.py` with `focal_gamma`, `focal_alpha`, `dice_eps`, `batch_size` and `seed` as set in its parameters.
# :name: tbl-losses-scales
#
# ```{glue:md} tbl_losses_scales
# :format: myst
# ```
# :::
#
# :::{table} Rank of each predictor under each column of {numref}`tbl-losses-scales`: 1 is the lowest loss, or the highest metric.
# :name: tbl-losses-ranking
#
# ```{glue:md} tbl_losses_ranking
# :format: myst
# ```
# :::
#
# {numref}`tbl-losses-ranking` ranks the predictors under each column of
# {numref}`tbl-losses-scales`. Three things stand out. First, the scales differ: the noisy
# ranker's BCE is {glue:text}`bce_ranker:.3f` and its focal loss
# {glue:text}`focal_ranker:.3f`, a share of {glue:text}`focal_over_bce_ranker:.2f`,
# for the very same predictions, so a smaller focal training loss is not a
# better fit. Second, the losses disagree about which predictors are good.
# Focal loss with $\alpha = 0.25$ scores the know-nothing constant $\pi$
# ({glue:text}`focal_const_pi:.3f`) *better* than the noisy ranker
# ({glue:text}`focal_ranker:.3f`), whose ROC-AUC is {glue:text}`ranker_auc:.3f`:
# it charges little for missing positives. BCE rates the constant $\pi$
# ({glue:text}`bce_const_pi:.3f`) far above the "everything positive"
# predictor ({glue:text}`bce_all_pos:.3f`); whole-set Dice rates them the other
# way round ({glue:text}`dice_const_pi:.3f` against
# {glue:text}`dice_all_pos:.3f`), because Dice rewards overlap with the
# positives and charges false positives only through the denominator. Under
# Dice, collapsing to "everything positive" is a cheap way down from a
# know-nothing start, which is one way to read the DIA paper's CNN-with-Dice
# result below. Third,
# Dice depends on how the data are cut into batches: the same predictions score
# {glue:text}`dice_batch_all_pos:.3f` as a mean over batches of
# {glue:text}`batch_size` and {glue:text}`dice_all_pos:.3f` over the whole set
# (with $\epsilon =$ {glue:text}`dice_eps:g`).
#
# Comparisons between models trained with different losses therefore have to be
# made with a common metric on held-out data, never with the training losses.
#
# ## The classifier that calls everything positive
#
# Let a test set have $n$ examples of which a share $\pi$ is positive, and let
# the classifier predict every example positive. Then $TP = \pi n$,
# $FP = (1 - \pi) n$ and $TN = FN = 0$, so
#
# $$
# \begin{aligned}
# \text{recall} &= \frac{TP}{TP + FN} = 1, &
# \text{precision} &= \frac{TP}{TP + FP} = \pi, \\
# \text{accuracy} &= \frac{TP + TN}{n} = \pi, &
# F_1 &= \frac{2 \cdot \pi \cdot 1}{\pi + 1} = \frac{2\pi}{1 + \pi}.
# \end{aligned}
# $$
#
# Its balanced accuracy is 0.5, its MCC 0, and since a constant score cannot
# rank, its ROC-AUC is 0.5. {numref}`tbl-losses-all-positive` checks the formula against
# `metrics.binary_report` on label vectors with exactly these counts: the DIA
# training set, and the same set after SMOTE has balanced it (every negative
# kept, as many positives as negatives).

# %%
n_neg = n_train - n_pos
all_positive, checks = metrics.all_positive_table({
    "DIA training set": (n_pos, n_train),
    "SMOTE-balanced DIA training set": (n_neg, 2 * n_neg),
})
if not all(checks.values()):
    raise AssertionError(f"metrics.binary_report disagrees with the all-positive formulas: {checks}")

# %% [markdown]
# The table shows one column per case and one row per score, so that it fits the page.

# %%
shown = all_positive.drop(columns=["positives", "examples"]).T.astype(float)
shown.index = [plots.label(k) for k in shown.index]
shown.index.name = "score"
tables.glue_table("tbl_losses_all_positive", shown)

# %% [markdown]
# The DIA paper reports a CNN trained with Dice loss whose scores look familiar. Its
# Table 1 row goes beside the balanced all-positive case, on the four scores both have.

# %%
paper_cnn_dice = PAPER_TABLE1[("cnn", "dice")]
balanced_case = all_positive.loc["SMOTE-balanced DIA training set"]
paper_vs = pd.DataFrame({
    "DIA paper, CNN with Dice (Table 1)": {k: paper_cnn_dice[k] for k in ("accuracy", "precision", "recall", "f1")},
    "all-positive classifier at π = 0.5": {k: balanced_case[k] for k in ("accuracy", "precision", "recall", "f1")},
}).T.astype(float)
tables.glue_table("tbl_losses_paper_cnn_dice", paper_vs, decimals=2)

# %%
glue("f1_dia", float(all_positive.loc["DIA training set", "f1"]), display=False)
glue("acc_dia", float(all_positive.loc["DIA training set", "accuracy"]), display=False)
glue("f1_half", float(balanced_case["f1"]), display=False)
glue("paper_cnn_dice_auc", paper_cnn_dice["roc_auc"], display=False)

# %% [markdown]
# :::{table} Scores of the classifier that calls every example positive, from `metrics.binary_report` on label vectors with the DIA training set's counts and with a SMOTE-balanced set's; the last row is the formula $2\pi/(1+\pi)$ (`notebooks/losses.py`).
# :name: tbl-losses-all-positive
#
# ```{glue:md} tbl_losses_all_positive
# :format: myst
# ```
# :::
#
# :::{table} The DIA paper's Table 1 row for the CNN trained with Dice loss, beside the all-positive classifier on a balanced set, to the two decimals the paper prints.
# :name: tbl-losses-paper-cnn-dice
#
# ```{glue:md} tbl_losses_paper_cnn_dice
# :format: myst
# ```
# :::

# %% [markdown]
# The same formulas, drawn against the prevalence of the evaluated set, show how far an
# F1 score can climb without the classifier telling any two examples apart.
# `metrics.all_positive_scores` gives the scores at each prevalence on a grid; the
# markers are the two cases of the table.

# %%
pis = np.linspace(0.01, 1.0, 100)
curve_scores = pd.DataFrame([metrics.all_positive_scores(float(pi)) for pi in pis], index=pis)

# %%
fig, ax = plt.subplots(figsize=(0.75 * plots.PAGE_WIDTH_IN, 3.4))
ax.plot(pis, curve_scores["f1"], color=plots.PALETTE[0], lw=1.8, label="F1 = 2π/(1+π)")
ax.plot(pis, curve_scores["accuracy"], color=plots.PALETTE[1], lw=1.8, label="accuracy = precision = π")
for case, marker in zip(all_positive.index, ("o", "s")):
    pi = all_positive.loc[case, "π"]
    ax.plot([pi], [all_positive.loc[case, "f1"]], marker, color=plots.REFERENCE, label=f"{case} (π = {pi:.3f})")
ax.set(xlabel="prevalence π of the evaluated set", ylabel="score", xlim=(0, 1), ylim=(0, 1.02),
       title="the all-positive classifier")
ax.legend(loc="lower right")
plots.save_figure(fig, "losses", "all_positive", glue_key="fig_all_positive", width_in=0.75 * plots.PAGE_WIDTH_IN)

# %% [markdown]
# ```{glue:figure} fig_all_positive
# :name: fig-all-positive
#
# Scores of the classifier that predicts every example positive, as a function
# of the prevalence of the set it is evaluated on; markers at the DIA training
# prevalence and at a balanced set (`notebooks/losses.py`, with the parameters
# at the top of its page).
# ```
#
# On the DIA training prevalence the all-positive classifier reaches an F1 of
# {glue:text}`f1_dia:.3f` with an accuracy of {glue:text}`acc_dia:.3f`; on a
# balanced set its F1 is {glue:text}`f1_half:.3f`. The DIA paper's CNN trained
# with Dice reports accuracy, precision, recall and F1 that coincide with the
# balanced all-positive row to the two decimals the paper prints
# ({numref}`tbl-losses-paper-cnn-dice`): that row is
# what a network reports when it has collapsed to calling everything positive
# and is scored on a set with as many positives as negatives. Its reported
# ROC-AUC of {glue:text}`paper_cnn_dice_auc:.2f` is below chance, which exactly
# constant scores cannot give (their AUC is 0.5), so the collapse was not
# complete in the scores even if it was at the 0.5 threshold; the DIA chapter
# runs the protocol to see what happens. Any F1 near
# $2\pi/(1+\pi)$ with recall near 1 should be read as "predicts positive", not
# as a working classifier.

# %% [markdown]
# The results file records every number above, with the parameters that produced them.

# %%
results = {
    "prevalence_dia_train": prevalence, "n_train": n_train, "n_train_positive": n_pos,
    "focal_over_bce_at_pt_0.9": easy, "alpha_positive_over_negative_cost": alpha_ratio,
    "balanced_class_weights_dia": {"negative": balanced[0], "positive": balanced[1]},
    "alpha_equivalent_to_balanced": alpha_balanced,
    "comparability_table": comparison.to_dict(orient="index"), "ranking": ranking.to_dict(orient="index"),
    "all_positive": all_positive.to_dict(orient="index"), "all_positive_formula_matches_report": checks,
}
parameters = {"data_dir": data_dir, "seed": seed, "gammas": gammas, "alphas": alphas, "focal_gamma": focal_gamma,
              "focal_alpha": focal_alpha, "dice_eps": dice_eps, "batch_size": batch_size, "n_points": n_points}

# %%
results_file = save_results("losses", results, parameters=parameters, data_checksums={train.path.name: train.sha256})
