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
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown
from myst_nb import glue

from lossbook.core import data as lbdata
from lossbook.core import near_duplicates as nd
from lossbook.core import params as lbparams
from lossbook.core import plots
from lossbook.core.seeding import seed_everything
from lossbook.publish import tables
from lossbook.publish.results import save_results
from lossbook.studies import chapters as chapter_params
from lossbook.studies import dia

lbparams.validate(lbparams.collect(globals(), chapter_params.DATA), chapter_params.DATA)  # the cell above
seed_everything(seed)
plots.set_style()
root = Path(data_dir) if data_dir else None
# The pair loader also checks that the test file has the training file's columns, in order.
train, test = lbdata.load_dia_pair(root / "dia" if root else None, verify_checksum=True)

# %% [markdown]
# ## Drug-induced autoimmunity (UCI 1104)
#
# The training set and the external test set come as two CSV files of RDKit
# descriptors ({numref}`tbl-data-dia`). Both checksums match the ones published with the data.
#
# **Source and licence.** Dataset 1104 of the UCI Machine Learning Repository
# {cite:p}`uci_dia`, made by Huang, Liu and Huang {cite:p}`huang2025interdia`, licensed
# [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/): reuse it with that attribution.

# %%
dia_table = dia.describe_splits({"training": train, "external test": test})
tables.glue_table("tbl_data_dia", dia_table)

# %%
both = pd.concat([train.X, test.X])
constant = sorted(both.columns[both.nunique() == 1])
transposed = both.drop(columns=constant).T
duplicated_columns = sorted(transposed.index[transposed.duplicated()])
glue("dia_constant_names", Markdown(", ".join(f"`{c}`" for c in constant)), display=False)
glue("dia_duplicated_names", Markdown(", ".join(f"`{c}`" for c in duplicated_columns)), display=False)

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
# folds only. The constant columns are {glue:md}`dia_constant_names`; the
# duplicates are {glue:md}`dia_duplicated_names`.
#
# :::{table} The two DIA files: drugs, positives and descriptors (`notebooks/data.py`).
# :name: tbl-data-dia
#
# ```{glue:md} tbl_data_dia
# :format: myst
# ```
# :::

# %% [markdown]
# ## Acne types (Roboflow "Acne Scanner" v2)
#
# **Source and licence.** The *Acne Scanner* project, version 2, by the AcneScan team on
# Roboflow Universe {cite:p}`acnescan2024roboflow`, licensed
# [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/): reuse it with that attribution.
# It cannot be downloaded automatically; README's Data section says how to get it.

# %%
lbdata.require("acne", root / "acne" if root else None)  # without the images: how to get them, then stop
# check_images=False: every image is decoded in full once, below, when its thumbnail is made
# (a broken file stops the chapter with a DataError naming it).
acne = lbdata.load_acne_index(root / "acne" if root else None, classes=lbdata.ACNE_CLASSES, check_images=False)
counts = acne.groupby(["class_name", "roboflow_split"]).size().unstack(fill_value=0)
counts["total"] = counts.sum(axis=1)
counts.index.name = "class"
in_split_order = [c for c in ("train", "valid", "test") if c in counts] + ["total"]
tables.glue_table("tbl_data_acne", counts[in_split_order], headers={"train": "training", "valid": "validation"})

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

fig, axes = plt.subplots(1, 2, figsize=(plots.PAGE_WIDTH_IN, 3.0), width_ratios=(2, 5))
axes[0].bar(["negative", "positive"], [dia_table.loc["training", "negative"], dia_table.loc["training", "positive"]],
            color=[plots.PALETTE[0], plots.PALETTE[1]])
axes[0].set_title("DIA training set")
axes[0].set_ylabel("drugs")
counts["total"].plot.bar(ax=axes[1], color=plots.PALETTE[2], rot=0)
axes[1].set_title("Acne images per class")
axes[1].set_xlabel("")
axes[1].set_ylabel("images")
plots.save_figure(fig, "data", "class_balance", glue_key="fig_class_balance")

# %% [markdown]
# :::{table} Acne images per class and per split of the Roboflow export (`notebooks/data.py`).
# :name: tbl-data-acne
#
# ```{glue:md} tbl_data_acne
# :format: myst
# ```
# :::
#
# ```{glue:figure} fig_class_balance
# :name: fig-class-balance
#
# Class balance of the two datasets (made by `notebooks/data.py` with its
# default parameters).
# ```
#
# The {glue:text}`acne_n_images` images ({numref}`tbl-data-acne`) fall into {glue:text}`acne_n_groups`
# near-duplicate groups; in the export's own split, a share of
# {glue:text}`acne_test_in_crossing_group:.2f` of the test images belong to a group
# that also has members in another split. The minority class, Whiteheads, has
# {glue:text}`acne_minority` images against {glue:text}`acne_majority` in the largest class.

# %% [markdown]
# ### Rebuilding the near-duplicate groups from the images
#
# The groups in `splits.csv` were computed outside this project. The package
# rebuilds them from any image folder (`lossbook.core.near_duplicates`, or
# `python -m lossbook.core.near_duplicates FOLDER` to write a `splits.csv`):
# each image becomes a {glue:text}`nd_thumb`×{glue:text}`nd_thumb` grey thumbnail
# (decoded in full, whatever its size, so the 640-px export works as well as this
# shrunk copy), two images are linked when their thumbnails' Pearson correlation
# is at least {glue:text}`nd_threshold`, and the groups are the connected
# components of that graph. A second variant also compares each image with the
# mirror images of the others, because a flipped copy of a photo is as much a
# leak as a re-encoded one.

# %%
thumbs, _ = nd.thumbnails(acne["path"])
shared_groups = acne["near_dup_group"].to_numpy()
rebuilt = {
    "correlation": nd.near_duplicate_groups(thumbs, threshold=nd.THRESHOLD),
    "with_flips": nd.near_duplicate_groups(thumbs, threshold=nd.THRESHOLD, flips=True),
}
agreement = {rule: nd.group_agreement(groups, shared_groups) for rule, groups in rebuilt.items()}

for rule in rebuilt:
    agreement[rule]["share_test_in_crossing_group"] = nd.crossing_share(rebuilt[rule], acne["roboflow_split"], "test")
agreement_table = pd.DataFrame(agreement).rename_axis("measure")
tables.glue_table("tbl_data_agreement", agreement_table,
                  headers={"correlation": "rule as stated", "with_flips": "with mirror images"})

# %% [markdown]
# :::{table} Agreement of the near-duplicate groups rebuilt from the images with the shared `splits.csv`, for the stated rule and with mirror images joined (notebook `data.py`).
# :name: tbl-data-agreement
#
# ```{glue:md} tbl_data_agreement
# :format: myst
# ```
# :::

# %%
flip_joined = pd.Series(rebuilt["with_flips"]).groupby(rebuilt["correlation"]).nunique()
glue("nd_thumb", nd.THUMBNAIL_SIZE, display=False)
glue("nd_threshold", nd.THRESHOLD, display=False)
for rule, numbers in agreement.items():
    for key in ("adjusted_rand_index", "share_differing", "n_differing", "n_groups", "share_test_in_crossing_group"):
        glue(f"nd_{rule}_{key}", numbers[key], display=False)
glue("nd_n_reference_groups", agreement["correlation"]["n_reference_groups"], display=False)
glue("nd_correlation_verdict",
     "the same partition as" if agreement["correlation"]["n_differing"] == 0 else "a different partition from",
     display=False)

# %% [markdown]
# With the rule as stated, the rebuilt grouping is {glue:text}`nd_correlation_verdict`
# the shared one: an adjusted Rand index of {glue:text}`nd_correlation_adjusted_rand_index:.4f`;
# {glue:text}`nd_correlation_n_differing` images (a share of
# {glue:text}`nd_correlation_share_differing:.4f`) are in a group that is not the
# same set of images in both ({glue:text}`nd_correlation_n_groups` groups here,
# {glue:text}`nd_n_reference_groups` in `splits.csv`). Where the two differ, the
# cause is the thumbnail: the threshold sits on a continuous correlation, and
# pairs close to it flip with small changes in how the thumbnail is made (the
# resampling filter, JPEG decoding at reduced size, or a shrunk copy instead of
# the 640-px original). The rule is fixed in the package (full decode, Pillow's
# bilinear resize) so that it is at least the same everywhere.
#
# Adding mirror images changes more: {glue:text}`nd_with_flips_n_groups` groups
# instead of {glue:text}`nd_correlation_n_groups`, an adjusted Rand index of
# {glue:text}`nd_with_flips_adjusted_rand_index:.4f` against `splits.csv`, and
# {glue:text}`nd_with_flips_n_differing` images in a different group. The export
# holds flipped copies that the shared grouping keeps apart. With them joined, a
# share of {glue:text}`nd_with_flips_share_test_in_crossing_group:.2f` of the
# export's test images belong to a group that crosses into another split, against
# {glue:text}`nd_correlation_share_test_in_crossing_group:.2f` without. The book's
# group-aware acne split uses the shared `splits.csv`; these mirrored copies are a
# leak that split does not close.

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
            "rebuilt_groups": {
                "thumbnail_size": nd.THUMBNAIL_SIZE, "threshold": nd.THRESHOLD,
                "agreement_with_splits_csv": agreement,
            },
        },
    },
    parameters={"data_dir": data_dir, "seed": seed},
    data_checksums={train.path.name: train.sha256, test.path.name: test.sha256},
)
