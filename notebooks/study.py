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

import keras  # noqa: F401  (imported before seeding, so seed_everything seeds it)
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display
from tqdm.auto import tqdm

from lossbook.core import plots
from lossbook.core.executor import make_executor
from lossbook.core.seeding import seed_everything
from lossbook.publish.results import save_results
from lossbook.studies import tabular

parameters = tabular.check_parameters(
    losses=losses, models=models, baselines=baselines, smote=smote, n_splits=n_splits, n_repeats=n_repeats,
    max_epochs=max_epochs, patience=patience, batch_size=batch_size, learning_rate=learning_rate,
    val_fraction=val_fraction, threshold_metric=threshold_metric, alpha=alpha, seed=seed,
)
table = tabular.load_table(data_path, label=label, group=group, positive=positive, drop_non_numeric=drop_non_numeric)
tabular.check_protocol(table, parameters)
seed_everything(seed)
plots.set_style()
jobs = tabular.grid_jobs(parameters)
with make_executor(executor, scheduler=scheduler, n_workers=n_workers) as pool, tqdm(total=len(jobs), desc="jobs") as bar:
    frame = tabular.run_study(table, parameters, executor=pool, progress=bar.update)
summary = tabular.data_summary(table)
scores = tabular.score_table(frame)
comparisons = tabular.compare_to_reference(frame, parameters)
collapse = tabular.collapse_table(frame)
results = tabular.study_results(table, frame, parameters)
reference = results["reference"]

# %% [markdown]
# ## The answer

# %%
display(HTML(f'<p class="answer">{html.escape(results["answer"])}</p>'))

# %% [markdown]
# ## The data

# %%
facts = {
    "file": table.source, "rows": summary["n_rows"], "feature columns": summary["n_features"],
    "label column (positive value)": f"{summary['label']} ({summary['positive_label']})",
    "positive rows": summary["n_positive"], "prevalence": f"{summary['prevalence']:.3f}",
    "group column (groups)": f"{summary['group']} ({summary['n_groups']})" if summary["group"] else "none",
    "constant columns": len(summary["constant_columns"]),
    "columns copying an earlier column": len(summary["duplicated_columns"]),
    "rows repeating an earlier row's features": summary["identical_rows"],
    "rows whose features also occur with the other label": summary["conflicting_rows"],
    "non-numeric columns dropped": ", ".join(summary["dropped_columns"]) or "none",
}
display(pd.DataFrame({"": facts}))
base = summary["all_positive"]
display(Markdown(
    f"Calling every row positive scores accuracy {base['accuracy']:.3f}, precision {base['precision']:.3f}, "
    f"recall 1 and F1 {base['f1']:.3f} at this prevalence; a random ranking has PR-AUC {base['pr_auc_random']:.3f} "
    f"(the prevalence), and always predicting the prevalence has Brier score {base['brier_at_prevalence']:.3f}. "
    "Every model below must beat these. Constant and copied columns are dropped inside each training fold "
    "(by what the fit rows show), not here."
))

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

# %%
display(pd.DataFrame({"value": {k: str(v) for k, v in tabular.saved_parameters(parameters, table).items()}}))

# %% [markdown]
# ## Scores
#
# Mean over all test folds, with a t-interval over folds that describes the spread (folds
# share training rows, so it is not a test; the comparisons below are).

# %%
def score_frame(metrics):
    return pd.DataFrame({config: {tabular.METRIC_LABELS.get(m.split("@")[0], m) + ("" if "@" not in m else f" @{m.split('@')[1]}"):
                                  s[m].format(3) for m in metrics} for config, s in scores.items()}).T


display(Markdown("**Threshold-free**"))
display(score_frame(list(tabular.THRESHOLD_FREE)))
display(Markdown("**At threshold 0.5 and at the threshold chosen on validation rows** "
                 f"(maximising {threshold_metric.replace('_', ' ')})"))
display(score_frame([f"{m}@{t}" for m in ("balanced_accuracy", "f1", "recall", "precision") for t in ("0.5", "tuned")]
                    + ["threshold"]))

# %%
curves = {config: [(t, p) for t, p in zip(g["y_true"], g["y_prob"])] for config, g in frame.groupby("config", sort=False)}
fig, _ = plots.roc_pr_curves(curves)
plots.save(fig, "study", "roc_pr.png")
plt.show()

# %% [markdown]
# ## Checks
#
# **Calibration**: out-of-fold predictions of the first repeat (each row once), in ten
# equal-count bins. **Collapse**: the share of fold models that predict a single class on
# their test fold, with a Clopper-Pearson interval.

# %%
first = frame[frame.repeat == 0]
pooled = {config: (np.concatenate(list(g["y_true"])), np.concatenate(list(g["y_prob"])))
          for config, g in first.groupby("config", sort=False)}
fig, ax = plt.subplots(figsize=(5.5, 4.6))
plots.reliability_diagram(pooled, n_bins=10, strategy="quantile", ax=ax)
plots.save(fig, "study", "calibration.png")
plt.show()
display(pd.DataFrame({config: {"single class at 0.5": v["at_0.5"].format(2), "single class at tuned threshold":
                               v["at_tuned"].format(2)} for config, v in collapse.items()}).T)

# %% [markdown]
# ## Comparisons with the reference
#
# Difference = configuration minus reference, over the same test folds (for the Brier
# score, lower is better). ``p (Holm)`` is adjusted over every row of this table; a verdict is
# "better" or "worse" only when it is below alpha. ``MDE`` is the smallest true difference
# this study would detect with probability 0.8.

# %%
shown = pd.DataFrame({
    "configuration": comparisons["config"], "metric": comparisons["metric"].map(tabular.METRIC_LABELS),
    "difference [CI]": [d.format(3) for d in comparisons["difference"]],
    "p": comparisons["p_value"].map(lambda v: f"{v:.3g}"), "p (Holm)": comparisons["p_holm"].map(lambda v: f"{v:.3g}"),
    "verdict": comparisons["verdict"], "MDE": comparisons["mde"].map(lambda v: f"{v:.3f}"),
})
display(shown.set_index(["configuration", "metric"]))
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
