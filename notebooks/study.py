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
# # Which loss is better on this table?
#
# A report by `python -m lossbook study`: the book's leak-free protocol run on your data
# (`lossbook.studies.tabular`).
#
# It opens with its answer, then shows what it rests on: the data and what its checks
# found, the protocol and its parameters, the scores of every network, loss and baseline,
# two checks on the predictions (calibration and collapse), and every comparison with the
# reference, the first network trained with BCE. The last section says what the verdicts
# mean. Every number is also in `results/study.json`, with the parameters, the package
# versions and the data's checksum, so the report can be reproduced and compared.

# %% tags=["parameters"]
data_path = "data.csv"  # CSV, TSV or Parquet
label = "label"  # column with the two classes
group = None  # column of group ids kept on one side of every split, or None
positive = None  # label value of the positive class (default: 1/True, else the rarer value)
drop_non_numeric = False  # drop text columns instead of refusing them
losses = ["bce", "focal", "dice", "weighted_bce"]
models = ["mlp"]
baselines = ["lr", "rf", "hgb"]
smote = True  # SMOTE inside each training fold
n_splits = 5
n_repeats = 5
max_epochs = 100
patience = 15
batch_size = 32
learning_rate = 0.001
val_fraction = 0.2  # inner validation share of each training fold (early stopping, threshold)
threshold_metric = "balanced_accuracy"  # what the validation-chosen threshold maximises
alpha = 0.05  # family-wise error rate of the verdicts (Holm)
seed = 0
executor = "serial"  # serial | dask
scheduler = None  # Dask scheduler address; None starts a local cluster
n_workers = 2  # local Dask cluster size

# %% tags=["remove-cell"]
import html
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import lossbook  # noqa: F401  (before TensorFlow: it sets TF_ENABLE_ONEDNN_OPTS, read at import)

# isort: split
import keras  # noqa: F401  (imported before seeding, so seed_everything seeds it)
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, Markdown, display
from tqdm.auto import tqdm

# %% tags=["remove-cell"]
from lossbook.core import plots
from lossbook.core.executor import make_executor
from lossbook.core.seeding import seed_everything
from lossbook.publish.results import save_results
from lossbook.studies import tabular

# %% [markdown]
# Before anything is trained, the parameters and the table are checked: every column
# numeric, two classes in the label, enough positives for every fold of the protocol.
# Then every random generator is seeded from `seed`, so a re-run gives the same numbers.

# %% tags=["remove-cell"]
parameters = tabular.check_parameters(**{name: globals()[name] for name in tabular.DEFAULTS})  # the cell above
table = tabular.load_table(data_path, label=label, group=group, positive=positive, drop_non_numeric=drop_non_numeric)
tabular.check_protocol(table, parameters)
seed_everything(seed)
plots.set_style()

# %% [markdown]
# The study runs every network with every loss, and every baseline, over all repeats
# of the cross-validation, as independent jobs (one after another, or on a Dask cluster
# with the same numbers).

# %%
jobs = tabular.grid_jobs(parameters)
with make_executor(executor, scheduler=scheduler, n_workers=n_workers) as pool, tqdm(total=len(jobs), desc="jobs") as bar:
    frame = tabular.run_study(table, parameters, executor=pool, progress=bar.update)

# %% [markdown]
# From the fold-level scores come the summaries the report shows: the data checks, the
# scores, the comparisons with the reference, the collapse check and the answer.

# %%
summary = tabular.data_summary(table)
scores = tabular.score_table(frame)
comparisons = tabular.compare_to_reference(frame, parameters)
collapse = tabular.collapse_table(frame)
results = tabular.study_results(table, frame, parameters)
reference = results["reference"]

# %% [markdown]
# ## The answer
#
# The answer is written from the numbers below: which losses, if any, are detectably
# better or worse than the reference on this table, and how far the study could see.

# %%
display(HTML(f'<p class="answer">{html.escape(results["answer"])}</p>'))

# %% [markdown]
# ## The data
#
# Before any model, the table itself: its size, its label and groups, and what the checks
# found. Repeated rows and rows whose features occur with both labels limit what any model
# can reach, and repeated rows that belong together need a group column.

# %%
display(tabular.data_facts(table, summary))

# %% [markdown]
# Every score below has to be read against what a model that learns nothing earns on a
# table this imbalanced: at a low prevalence, accuracy and even F1 can look respectable
# for a classifier that calls every row positive, or every row negative.

# %%
display(Markdown(tabular.baseline_text(summary)))

# %% [markdown]
# ## The protocol
#
# * **Leak-free cross-validation.** Stratified k-fold (stratified *group* k-fold with a group
#   column, so no group is on both sides), repeated with different shuffles. Inside each
#   outer training fold an inner stratified (group) split keeps a validation part; the column
#   filter (constant and duplicated columns), the scaler and SMOTE are fitted on the rest
#   (the fit rows) only. The test fold is scored once.
# * **Networks and losses.** Each network is trained with each loss by the book's batched
#   trainer (Adam, early stopping on validation ROC-AUC, best weights restored). BCE is
#   the reference. Weighted BCE weights positives by the negative-to-positive ratio of the fit
#   rows (exactly 1 after SMOTE).
# * **Baselines** (logistic regression, random forest, gradient boosting) are fitted on the
#   same fit rows of the same folds.
# * **Thresholds.** Scores are reported at 0.5 and at a threshold chosen, for every model
#   alike, on its own validation rows.
# * **Comparisons.** Every configuration against the reference on the same folds, with the
#   corrected resampled t-test (Nadeau and Bengio), Holm's adjustment over all comparisons,
#   and three verdicts: better, worse, or inconclusive with the minimum detectable effect.

# %% [markdown]
# The parameters of this run, as the results file records them (with the data's name and
# the columns dropped):

# %%
display(pd.DataFrame({"value": {k: str(v) for k, v in tabular.saved_parameters(parameters, table).items()}}))

# %% [markdown]
# ## Scores
#
# Mean over all test folds, with a t-interval over folds that describes the spread (folds
# share training rows, so it is not a test; the comparisons below are). Each row is one
# configuration: a network trained with one loss (`mlp+focal`: the MLP with focal loss),
# or a baseline fitted on the same rows (`lr`, `rf`, `hgb`).

# %% [markdown]
# **Threshold-free** scores judge the predicted probabilities themselves: ROC-AUC and
# PR-AUC how well they rank positives above negatives (PR-AUC weighs the rare positives
# more), the Brier score how close they are to the labels. They decide the verdicts.

# %%
display(tabular.score_display(scores, list(tabular.THRESHOLD_FREE)))

# %% [markdown]
# Scores **at a threshold** depend on where the cut falls as much as on the model. A loss
# that shifts every probability up or down moves them without ranking any better, so each
# is shown at 0.5 and at the threshold chosen on the model's own validation rows.

# %%
display(Markdown("**At threshold 0.5 and at the threshold chosen on validation rows** "
                 f"(maximising {threshold_metric.replace('_', ' ')})"))
at_thresholds = [f"{m}@{t}" for m in ("balanced_accuracy", "f1", "recall", "precision") for t in ("0.5", "tuned")]
display(tabular.score_display(scores, at_thresholds + ["threshold"]))

# %% [markdown]
# Mean ROC and precision-recall curves over the test folds (band: one standard deviation):

# %%
fig, _ = plots.roc_pr_curves(tabular.fold_predictions(frame))
plots.save(fig, "study", "roc_pr.png")
plt.show()

# %% [markdown]
# ## Checks
#
# **Calibration**: out-of-fold predictions of the first repeat (each row once), in ten
# equal-count bins. **Collapse**: the share of fold models that predict a single class on
# their test fold, with a Clopper-Pearson interval.

# %% [markdown]
# In the calibration plot, a curve on the diagonal means the predicted probabilities can
# be read as frequencies; a curve below it, probabilities that are too high. SMOTE trains
# on balanced rows, so networks trained with it usually sit below the diagonal.

# %%
fig, ax = plt.subplots(figsize=(5.5, 4.6))
plots.reliability_diagram(tabular.pooled_predictions(frame, repeat=0), n_bins=10, strategy="quantile", ax=ax)
plots.save(fig, "study", "calibration.png")
plt.show()

# %% [markdown]
# A configuration whose fold models often predict a single class has collapsed: its
# recall or F1 at that threshold then says "predicts everything positive" (or negative),
# not that it found the positives.

# %%
display(tabular.collapse_display(collapse))

# %% [markdown]
# ## Comparisons with the reference
#
# Difference = configuration minus reference, over the same test folds (for the Brier
# score, lower is better). ``p (Holm)`` is adjusted over every row of this table; a verdict is
# "better" or "worse" only when it is below alpha. ``MDE`` is the smallest true difference
# this study would detect with probability 0.8.
#
# Folds of one cross-validation share most of their training rows, so their scores are
# not independent and a plain paired t-test over folds would be far too confident. The
# corrected resampled t-test allows for that overlap: it scales the variance of the mean
# difference by 1/k plus the ratio of test to training rows, instead of by 1/k alone
# (k: the number of folds times repeats).

# %%
display(tabular.comparison_display(comparisons))

# %% [markdown]
# The same comparisons as a figure: each difference with its interval, one row per
# configuration and metric, the reference at zero. An interval that crosses zero is a
# difference the study could not tell from chance.

# %%
fig = tabular.forest_plot(comparisons, reference=reference)
plots.save(fig, "study", "comparisons.png")
plt.show()

# %% [markdown]
# ## What the verdicts mean, and what they do not
#
# * **better / worse**: over these folds, the difference is larger than chance variation of
#   cross-validation would give, after adjusting for the number of comparisons. It says how
#   large the difference was *on this table*, not that it will hold on other data.
# * **inconclusive**: the study could not tell. Differences smaller than the MDE were out of
#   reach; a larger table, more repeats or groups that are better balanced shrink it. It does
#   not mean the two are equal.
# * The threshold-free scores decide the verdicts: a loss that shifts predicted probabilities
#   changes scores at 0.5 without ranking the rows any better, which the scores at the
#   validation-chosen threshold show.

# %% tags=["remove-cell"]
written = save_results("study", results, parameters=tabular.saved_parameters(parameters, table),
                       data_checksums={table.source: table.sha256})
