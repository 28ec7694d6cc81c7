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
# (chapter-yourdata)=
# # Checking a loss on your own data
#
# The chapters before this one found that loss comparisons in four published works do not
# hold up once the protocol is leak-free, repeated and given intervals. The next question is
# a reader's own: *which loss is better on my data?* The book's parts answer it for any table
# of numeric features with a binary label:
#
# ```bash
# python -m lossbook study DATA.csv --label COLUMN [--group COLUMN] --profile quick
# ```
#
# writes an executed notebook, a standalone HTML report and a results file. This chapter runs
# the same study (`lossbook.studies.tabular`, the code behind the command) on data no one here
# prepared: scikit-learn's bundled breast-cancer table {cite}`street1993nuclear`, made
# imbalanced by keeping only as many malignant tumours as make up a tenth of the rows.
# Nothing in the protocol is tuned to it or to the DIA data.

# %% tags=["parameters"]
prevalence = 0.1  # share of malignant rows kept
n_splits = 5
n_repeats = 2  # the study's quick profile
max_epochs = 30
patience = 5
seed = 0
executor = "serial"  # serial | dask (results do not depend on it)

# %%
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import lossbook  # noqa: F401  (before TensorFlow: it sets TF_ENABLE_ONEDNN_OPTS, read at import)

# isort: split
import keras  # noqa: F401  (imported before seeding, so seed_everything seeds it)
import matplotlib.pyplot as plt
from IPython.display import Markdown
from myst_nb import glue
from tqdm.auto import tqdm

# %%
from lossbook.core import params as lbparams
from lossbook.core import plots
from lossbook.core.executor import make_executor
from lossbook.core.seeding import seed_everything
from lossbook.publish.glue import glue_numbers
from lossbook.publish.results import save_results
from lossbook.studies import chapters as chapter_params
from lossbook.studies import tabular

# %%
lbparams.validate(lbparams.collect(globals(), chapter_params.YOURDATA), chapter_params.YOURDATA)  # the cell above
parameters = tabular.check_parameters(n_splits=n_splits, n_repeats=n_repeats, max_epochs=max_epochs,
                                      patience=patience, seed=seed)
seed_everything(seed)
plots.set_style()

# %% [markdown]
# The example table reaches the study the way a reader's own would: as a CSV file
# outside the repository, read back by `tabular.load_table`, which checks the label
# column and the features before anything is trained.

# %%
workdir = Path(tempfile.mkdtemp(prefix="lossbook-yourdata-"))
example = tabular.breast_cancer_example(prevalence=prevalence, seed=seed)
example.to_csv(workdir / "breast_cancer_10pct.csv", index=False)
table = tabular.load_table(workdir / "breast_cancer_10pct.csv", label="malignant")

# %% [markdown]
# The study is a grid of independent jobs: every network with every loss, and every
# baseline, each over all repeats of the cross-validation. The `executor` parameter runs
# them one after another (`serial`) or on a Dask cluster, with the same numbers.

# %%
jobs = tabular.grid_jobs(parameters)
with make_executor(executor) as pool, tqdm(total=len(jobs), desc="jobs") as bar:
    frame = tabular.run_study(table, parameters, executor=pool, progress=bar.update)

# %% [markdown]
# From the fold-level scores, `study_results` writes everything the report says,
# its opening answer included, and `compare_to_reference` pairs every configuration
# with MLP + BCE over the same folds.

# %%
results = tabular.study_results(table, frame, parameters)
comparisons = tabular.compare_to_reference(frame, parameters)
summary = results["data"]

# %%
glue_numbers("yd", {"rows": summary["n_rows"], "pos": summary["n_positive"], "features": summary["n_features"],
                    "prevalence": summary["prevalence"], "jobs": len(jobs), "n_comparisons": len(comparisons)})
for verdict in ("better", "worse", "inconclusive"):
    glue(f"yd_n_{verdict}", int((comparisons.verdict == verdict).sum()), display=False)
glue("yd_answer", Markdown(results["answer"]), display=False)

# %% [markdown]
# ## The report's first paragraph
#
# The table has {glue:text}`yd_rows` rows, {glue:text}`yd_pos` of them malignant (prevalence
# {glue:text}`yd_prevalence:.3f`), and {glue:text}`yd_features` numeric features. The study ran
# {glue:text}`yd_jobs` independent jobs (network x loss x repeat, and baseline x repeat). The
# report opens with its answer, written from the numbers:
#
# > {glue:md}`yd_answer`
#
# Of the {glue:text}`yd_n_comparisons` comparisons with MLP + BCE, {glue:text}`yd_n_better` came
# out better, {glue:text}`yd_n_worse` worse and {glue:text}`yd_n_inconclusive` inconclusive.

# %% [markdown]
# Three figures follow. The first averages the ROC and precision-recall curves of the
# test folds for each configuration.

# %%
fig, _ = plots.roc_pr_curves(tabular.fold_predictions(frame))
plots.save_figure(fig, "yourdata", "roc_pr", glue_key="fig_yd_roc_pr")

# %% [markdown]
# The second checks calibration on the first repeat, whose test folds together cover
# every row once.

# %%
fig, ax = plt.subplots()
plots.reliability_diagram(tabular.pooled_predictions(frame, repeat=0), n_bins=10, strategy="quantile", ax=ax)
plots.save_figure(fig, "yourdata", "calibration", glue_key="fig_yd_calibration")

# %% [markdown]
# The third draws every comparison with the reference as a difference with its interval.

# %%
fig = tabular.forest_plot(comparisons, reference=results["reference"])
plots.save_figure(fig, "yourdata", "comparisons", glue_key="fig_yd_comparisons")

# %% [markdown]
# ```{glue:figure} fig_yd_roc_pr
# :name: fig-yd-roc-pr
#
# Mean ROC and precision-recall curves over the test folds (band: one standard deviation),
# for the MLP trained with each loss and the three baselines, on the imbalanced breast-cancer
# table (`notebooks/yourdata.py`, quick profile: 5 folds x 2 repeats, at most 30 epochs).
# ```
#
# ```{glue:figure} fig_yd_calibration
# :name: fig-yd-calibration
#
# Calibration of the out-of-fold predictions of the first repeat (ten equal-count bins). SMOTE
# trains on balanced rows, so the networks' probabilities sit above the real positive rate.
# ```
#
# ```{glue:figure} fig_yd_comparisons
# :name: fig-yd-comparisons
#
# Each configuration minus MLP + BCE over the same folds, with corrected resampled
# t-intervals; black marks a verdict that survives Holm's adjustment, grey an inconclusive one.
# ```
#
# ## What the verdicts mean, and what they do not
#
# * **Better** or **worse** means that, over these folds, the paired difference is larger than
#   the variation cross-validation produces by chance, after Holm's adjustment over every
#   comparison in the report. The interval says how large the difference was *on this table*.
# * **Inconclusive** means the study could not tell. The report gives the minimum detectable
#   effect: differences smaller than it were out of reach. It does not say the two losses are
#   equal, and a larger table or more repeats may separate them.
# * The verdicts rest on threshold-free scores (ROC-AUC, PR-AUC, Brier score). Scores at 0.5
#   move whenever a loss shifts the predicted probabilities, so the report also scores every
#   model at a threshold chosen on its own validation rows.
# * None of it transfers to other data, and none of it checks whether the table itself is
#   sound. The report counts identical rows and conflicting labels; if rows belong together
#   (patients, molecules with one scaffold, near-duplicate images), pass them as `--group`,
#   or every score will be too high.
#
# ## Running it
#
# ```bash
# python -m lossbook study mydata.csv --label outcome --profile quick      # a first look
# python -m lossbook study mydata.parquet --label outcome --group patient  # full profile
# python -m lossbook compare bce_predictions.csv focal_predictions.csv     # two finished runs
# ```
#
# `python -m lossbook study --help` lists every option. A grid of many losses, networks and
# repeats can run on a Dask cluster with `--executor dask --scheduler ADDRESS`, with the same
# numbers as a serial run (see the README).

# %%
written = save_results("yourdata", results, parameters={**tabular.saved_parameters(parameters, table),
                                                      "prevalence": prevalence},
                       data_checksums={table.source: table.sha256})
print("results written")
