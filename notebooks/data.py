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
from IPython.display import Markdown
from myst_nb import glue

from lossbook.core import data as lbdata
from lossbook.core import near_duplicates as nd
from lossbook.core import params as lbparams
from lossbook.core import plots
from lossbook.core.seeding import seed_everything

# %%
from lossbook.publish import tables
from lossbook.publish.glue import glue_numbers
from lossbook.publish.results import save_results
from lossbook.studies import chapters as chapter_params
from lossbook.studies import dia

# %%
lbparams.validate(lbparams.collect(globals(), chapter_params.DATA), chapter_params.DATA)  # the cell above
seed_everything(seed)
plots.set_style()
root = Path(data_dir) if data_dir else None

# %% [markdown]
# The DIA data come as a pair of files, and `load_dia_pair` loads them together so that it
# can check what a model trained on one and tested on the other takes for granted: both
# checksums against the published ones, and the test file's columns against the training
# file's, in the same order.

# %%
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
#
# The first table counts drugs, positives and descriptors in each file: the counts from
# which every prevalence and every fold size in the DIA chapter follows.

# %%
dia_table = dia.describe_splits({"training": train, "external test": test})
tables.glue_table("tbl_data_dia", dia_table)

# %% [markdown]
# Descriptor tables often carry columns that say nothing: a descriptor that takes one
# value for every drug, or one that copies another column exactly. `describe_dia_pair`
# looks for both over the two files stacked together and collects the counts the book
# records about the pair.

# %%
dia_facts = lbdata.describe_dia_pair(train, test)
constant, duplicated_columns = dia_facts["constant_columns"], dia_facts["duplicated_columns"]

# %% [markdown]
# The counts and the column names go into the text below; the names are set as code.

# %%
glue_numbers("dia", {k: v for k, v in dia_facts.items() if k.startswith("n_")})
glue("dia_n_constant", len(constant), display=False)
glue("dia_n_duplicated", len(duplicated_columns), display=False)
glue("dia_prevalence", float(train.y.mean()), display=False)
glue("dia_constant_names", Markdown(", ".join(f"`{c}`" for c in constant)), display=False)
glue("dia_duplicated_names", Markdown(", ".join(f"`{c}`" for c in duplicated_columns)), display=False)

# %% [markdown]
# The training set holds {glue:text}`dia_n_train` drugs, {glue:text}`dia_n_train_positive`
# of them positive (prevalence {glue:text}`dia_prevalence:.3f`); the external test
# set {glue:text}`dia_n_test` drugs with {glue:text}`dia_n_test_positive` positives.
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
#
# Without the images the chapter stops here with a message that says how to get them.
# The index is read without decoding every image: each one is decoded in full once,
# below, when its thumbnail is made, and a broken file stops the chapter with a
# `DataError` that names it.

# %%
lbdata.require("acne", root / "acne" if root else None)
acne = lbdata.load_acne_index(root / "acne" if root else None, classes=lbdata.ACNE_CLASSES, check_images=False)

# %% [markdown]
# The export comes with its own training, validation and test split. Counting images
# per class and per split shows both the imbalance between classes and how the export
# divided each class.

# %%
counts = lbdata.acne_split_counts(acne)
tables.glue_table("tbl_data_acne", counts, headers={"train": "training", "valid": "validation"})

# %% [markdown]
# The images come in near-duplicate groups (the `near_dup_group` column of the shared
# `splits.csv`): copies of one photo, re-encoded or slightly altered. A group with members
# on both sides of a split leaks test images into training, so for the validation and test
# splits we measure the share of images whose group also has members in another split.

# %%
leaky = {split: nd.crossing_share(acne["near_dup_group"], acne["roboflow_split"], split)
         for split in ("valid", "test")}
glue("acne_n_images", len(acne), display=False)
glue("acne_minority", int(counts.loc["Whiteheads", "total"]), display=False)
glue("acne_majority", int(counts["total"].max()), display=False)
glue("acne_test_in_crossing_group", leaky["test"], display=False)
glue("acne_n_groups", int(acne["near_dup_group"].nunique()), display=False)

# %% [markdown]
# A figure puts the class balance of the two datasets side by side: the DIA training
# set's two classes, and the images per class of the acne export over all its splits.

# %%
fig, axes = plt.subplots(1, 2, figsize=(plots.PAGE_WIDTH_IN, 3.0), width_ratios=(2, 5))
axes[0].bar(["negative", "positive"], [dia_table.loc["training", "negative"], dia_table.loc["training", "positive"]],
            color=[plots.PALETTE[0], plots.PALETTE[1]])
axes[0].set(title="DIA training set", ylabel="drugs")
counts["total"].plot.bar(ax=axes[1], color=plots.PALETTE[2], rot=0)
axes[1].set(title="Acne images per class", xlabel="", ylabel="images")
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
#
# The next cell makes the thumbnails once and groups them under both rules.

# %%
thumbs, _ = nd.thumbnails(acne["path"])
rebuilt = {
    "correlation": nd.near_duplicate_groups(thumbs, threshold=nd.THRESHOLD),
    "with_flips": nd.near_duplicate_groups(thumbs, threshold=nd.THRESHOLD, flips=True),
}

# %% [markdown]
# Each rebuilt grouping is then held against the shared one: how alike the two
# partitions are, how many images sit in a group that is not the same set of images in
# both, and what share of the export's test images the rebuilt groups would call leaked.

# %%
shared_groups = acne["near_dup_group"].to_numpy()
agreement = {rule: nd.group_agreement(groups, shared_groups) for rule, groups in rebuilt.items()}
for rule in rebuilt:
    agreement[rule]["share_test_in_crossing_group"] = nd.crossing_share(rebuilt[rule], acne["roboflow_split"], "test")
rules = {"correlation": "rule as stated", "with_flips": "with mirror images"}
tables.glue_table("tbl_data_agreement", lbdata.agreement_table(agreement, rules))

# %% [markdown]
# :::{table} Agreement of the near-duplicate groups rebuilt from the images with the shared `splits.csv`, for the stated rule and with mirror images joined; a crossing group has members in more than one split of the export (notebook `data.py`).
# :name: tbl-data-agreement
#
# ```{glue:md} tbl_data_agreement
# :format: myst
# ```
# :::

# %%
glue("nd_thumb", nd.THUMBNAIL_SIZE, display=False)
glue("nd_threshold", nd.THRESHOLD, display=False)
for rule, numbers in agreement.items():
    glue_numbers(f"nd_{rule}", numbers)
glue("nd_correlation_verdict",
     "the same partition as" if agreement["correlation"]["n_differing"] == 0 else "a different partition from",
     display=False)

# %% [markdown]
# With the rule as stated, the rebuilt grouping is {glue:text}`nd_correlation_verdict`
# the shared one: an adjusted Rand index of {glue:text}`nd_correlation_adjusted_rand_index:.4f`;
# {glue:text}`nd_correlation_n_differing` images (a share of
# {glue:text}`nd_correlation_share_differing:.4f`) are in a group that is not the
# same set of images in both ({glue:text}`nd_correlation_n_groups` groups here,
# {glue:text}`nd_correlation_n_reference_groups` in `splits.csv`). Where the two differ, the
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

# %% [markdown]
# The results file records the DIA facts collected above and, for the acne export, the
# class counts, the crossing shares of the shared groups and the agreement of both
# rebuilt groupings with them.

# %%
acne_facts = {
    "n_images": len(acne), "per_class": counts["total"].to_dict(),
    "n_near_dup_groups": int(acne["near_dup_group"].nunique()), "share_in_crossing_group": leaky,
    "rebuilt_groups": {"thumbnail_size": nd.THUMBNAIL_SIZE, "threshold": nd.THRESHOLD,
                       "agreement_with_splits_csv": agreement},
}

# %%
results_file = save_results("data", {"dia": dia_facts, "acne": acne_facts}, parameters={"data_dir": data_dir, "seed": seed},
                            data_checksums={train.path.name: train.sha256, test.path.name: test.sha256})
