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
# (chapter-data)=
# # The data
#
# Two real datasets carry the book's studies. This chapter loads both through
# `lossbook.core.data`, checks them, and records what a reader should know before
# trusting any score computed on them. Every number on this page is computed
# below and recorded in `book/results/data.json`.

# %% tags=["parameters"]
data_dir = None  # folder holding dia/ and acne/; None means $LOSSBOOK_DATA_DIR
seed = 0

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from myst_nb import glue

from lossbook.core import data as lbdata
from lossbook.core import params as lbparams
from lossbook.core.paths import figure_path
from lossbook.publish.results import save_results
from lossbook.core.seeding import seed_everything
from lossbook.studies import chapters

lbparams.validate(lbparams.collect(globals(), chapters.DATA), chapters.DATA)  # the cell above
seed_everything(seed)
root = Path(data_dir) if data_dir else None
train = lbdata.load_dia("train", root / "dia" if root else None, verify_checksum=True)
test = lbdata.load_dia("test", root / "dia" if root else None, verify_checksum=True)

# %% [markdown]
# ## Drug-induced autoimmunity (UCI 1104)
#
# The training set and the external test set come as two CSV files of RDKit
# descriptors. Both checksums match the ones published with the data.

# %%
def describe(split, name):
    return {
        "split": name,
        "drugs": len(split.y),
        "positive": int(split.y.sum()),
        "negative": int((1 - split.y).sum()),
        "prevalence": float(split.y.mean()),
        "descriptors": split.X.shape[1],
    }


dia_table = pd.DataFrame([describe(train, "training"), describe(test, "external test")]).set_index("split")
dia_table

# %%
both = pd.concat([train.X, test.X])
constant = sorted(both.columns[both.nunique() == 1])
transposed = both.drop(columns=constant).T
duplicated_columns = sorted(transposed.index[transposed.duplicated()])
print(f"{len(constant)} constant columns:", ", ".join(constant))
print(f"{len(duplicated_columns)} non-constant columns duplicate an earlier one:", ", ".join(duplicated_columns))

glue("dia_n_train", len(train.y), display=False)
glue("dia_n_train_pos", int(train.y.sum()), display=False)
glue("dia_n_test", len(test.y), display=False)
glue("dia_n_test_pos", int(test.y.sum()), display=False)
glue("dia_n_descriptors", train.X.shape[1], display=False)
glue("dia_n_constant", len(constant), display=False)
glue("dia_n_duplicated", len(duplicated_columns), display=False)
glue("dia_prevalence", float(train.y.mean()), display=False)

# %% [markdown]
# The training set holds {glue:text}`dia_n_train` drugs, {glue:text}`dia_n_train_pos`
# of them positive (prevalence {glue:text}`dia_prevalence:.3f`); the external test
# set {glue:text}`dia_n_test` drugs with {glue:text}`dia_n_test_pos` positives.
# There are {glue:text}`dia_n_descriptors` descriptors, not the 729 the DIA paper
# states; {glue:text}`dia_n_constant` of them are constant and
# {glue:text}`dia_n_duplicated` of the others repeat another column exactly. Column filters
# that drop them are part of each model's pipeline and are fitted on training
# folds only.

# %% [markdown]
# ## Acne types (Roboflow "Acne Scanner" v2)

# %%
acne = lbdata.load_acne_index(root / "acne" if root else None, classes=lbdata.ACNE_CLASSES)
counts = acne.groupby(["class_name", "roboflow_split"]).size().unstack(fill_value=0)
counts["total"] = counts.sum(axis=1)
counts

# %%
groups = acne.groupby("near_dup_group")["roboflow_split"].nunique()
shared_group = acne["near_dup_group"].map(groups) > 1
leaky = {
    split: float(shared_group[acne["roboflow_split"] == split].mean())
    for split in ("valid", "test")
}
glue("acne_n_images", len(acne), display=False)
glue("acne_minority", int(counts.loc["Whiteheads", "total"]), display=False)
glue("acne_majority", int(counts["total"].max()), display=False)
glue("acne_test_in_crossing_group", leaky["test"], display=False)
glue("acne_n_groups", int(acne["near_dup_group"].nunique()), display=False)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
axes[0].bar(["negative", "positive"], [dia_table.loc["training", "negative"], dia_table.loc["training", "positive"]],
            color=["#8da0cb", "#fc8d62"])
axes[0].set_title("DIA training set")
axes[0].set_ylabel("drugs")
counts["total"].plot.bar(ax=axes[1], color="#66c2a5")
axes[1].set_title("Acne images per class")
axes[1].set_xlabel("")
axes[1].set_ylabel("images")
fig.tight_layout()
fig.savefig(figure_path("data", "class_balance.png"), dpi=120)
glue("fig_class_balance", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_class_balance
# :name: fig-class-balance
#
# Class balance of the two datasets (made by `notebooks/data.py` with its
# default parameters).
# ```
#
# The {glue:text}`acne_n_images` images fall into {glue:text}`acne_n_groups`
# near-duplicate groups; in the export's own split, a share of
# {glue:text}`acne_test_in_crossing_group:.2f` of the test images belong to a group
# that also has members in another split. The minority class, Whiteheads, has
# {glue:text}`acne_minority` images against {glue:text}`acne_majority` in the largest class.

# %%
results_file = save_results(
    "data",
    {
        "dia": {
            "n_train": len(train.y), "n_train_positive": int(train.y.sum()),
            "n_test": len(test.y), "n_test_positive": int(test.y.sum()),
            "n_descriptors": train.X.shape[1], "constant_columns": constant,
            "duplicated_columns": duplicated_columns,
        },
        "acne": {
            "n_images": len(acne), "per_class": counts["total"].to_dict(),
            "n_near_dup_groups": int(acne["near_dup_group"].nunique()),
            "share_in_crossing_group": leaky,
        },
    },
    parameters={"data_dir": data_dir, "seed": seed},
    data_checksums={train.path.name: train.sha256, test.path.name: test.sha256},
)
