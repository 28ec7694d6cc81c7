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
# (appendix)=
# # Appendix: reproducing this book
#
# Everything on this page is read from the files the chapters and the runner
# wrote into `book/results/`: the package versions each chapter ran with, the
# checksums of the data it read, and each chapter's wall time in both profiles.
# Nothing here is typed by hand; re-running a chapter updates its row.

# %% tags=["parameters"]
results_root = None  # folder holding results/; None means the runner's output folder (book/ for full)

# %%
from IPython.display import Markdown
from myst_nb import glue

from lossbook.core import data as lbdata
from lossbook.core import params as lbparams
from lossbook.core.seeding import seed_everything
from lossbook.publish import report, tables
from lossbook.publish.runner import load_chapters
from lossbook.studies import chapters as chapter_params

lbparams.validate(lbparams.collect(globals(), chapter_params.APPENDIX), chapter_params.APPENDIX)  # the cell above
_ = seed_everything(0)  # nothing random here; kept for the book's convention (its generator is not shown)

# %% [markdown]
# The appendix reads the results file of every other chapter, in book order; its own
# wall time is recorded only after it has run.

# %%
chapters = load_chapters()
names = [n for n in chapters if n != "appendix"]
results = report.load_all(names, results_root)
ran = [n for n in names if results[n] is not None]
missing = [n for n in names if results[n] is None]

# %% [markdown]
# ## Chapters and wall times
#
# The runner records each chapter's wall time per profile in
# `results/<chapter>.timing.json`. The **full** profile is what this book
# shows; the **quick** profile is what a reader runs on Binder or as a smoke
# test. Times were taken on the machine named by its CPU count, often shared
# with other jobs, so read them as an order of magnitude, not a benchmark.
# Chapters that cache their expensive steps (the DIA folds, the acne embeddings)
# run far faster when the cache is warm, and a recorded time does not say
# whether it was: a full-profile time below the quick one most likely means a warm cache.

# %%
timing = report.timing_table(names, results_root)
glue("appendix_n_chapters", len(names), display=False)
glue("appendix_n_ran", len(ran), display=False)
glue("appendix_total_full_min", float(timing["full wall time (s)"].sum()) / 60, display=False)
glue("appendix_total_quick_min", float(timing["quick wall time (s)"].sum()) / 60, display=False)
glue("appendix_missing", Markdown(", ".join(missing) if missing else "none"), display=False)
tables.glue_table("tbl_appendix_timing", timing, missing_means="the profile has not been recorded",
                  decimals={f"{profile} wall time (s)": 1 for profile in ("full", "quick")})

# %% [markdown]
# :::{table} Wall time of each chapter in the full and the quick profile, and the CPU count of the machine it ran on; a dash: that profile has not been recorded (`notebooks/appendix.py`, from `book/results/`).
# :name: tbl-appendix-timing
#
# ```{glue:md} tbl_appendix_timing
# :format: myst
# ```
# :::
#
# In {numref}`tbl-appendix-timing`, of the {glue:text}`appendix_n_chapters` chapters, {glue:text}`appendix_n_ran`
# have a results file. Their recorded full-profile wall times add up to
# {glue:text}`appendix_total_full_min:.1f` minutes, the quick-profile ones to
# {glue:text}`appendix_total_quick_min:.1f` minutes. Chapters without results:
# {glue:md}`appendix_missing`.

# %% [markdown]
# ## Package versions
#
# The versions each chapter recorded when it ran (`lossbook.core.io.TRACKED_PACKAGES`),
# in {numref}`tbl-appendix-versions`. A row with differing entries means two chapters
# ran in different environments.

# %%
versions = report.versions_table(results)
differing = [pkg for pkg, row in versions.iterrows() if row.dropna().nunique() > 1]
# one column: the version every chapter recorded, or each version with the chapters that recorded it
recorded = versions.apply(lambda row: "; ".join(
    version if row.dropna().nunique() == 1 else f"{version} ({', '.join(row.index[row == version])})"
    for version in row.dropna().unique()), axis=1).to_frame("version")
tables.glue_table("tbl_appendix_versions", recorded)
glue("appendix_differing", Markdown(", ".join(f"`{p}`" for p in differing) if differing else "none"),
     display=False)

# %% [markdown]
# :::{table} Package versions recorded by the chapters; where they differ, each version is followed by the chapters that ran with it (`notebooks/appendix.py`, from `book/results/`).
# :name: tbl-appendix-versions
#
# ```{glue:md} tbl_appendix_versions
# :format: myst
# ```
# :::
#
# Packages whose version differs between chapters: {glue:md}`appendix_differing`.

# %% [markdown]
# ## Data checksums
#
# {numref}`tbl-appendix-checksums` lists the sha256 of every data file a chapter
# read, compared with the checksum published in the data's provenance note where
# one exists.

# %%
published = {name: digest for name, digest in lbdata.DIA_FILES.values()}
checksums = report.checksums_table(results, published)
checksums["sha256"] = checksums["sha256"].str[:16] + "…"  # the full digests are in the results files
tables.glue_table("tbl_appendix_checksums", checksums, index=False, missing_means="no published checksum",
                  headers={"sha256": "sha256 (first 16 hex digits)"})

# %% [markdown]
# :::{table} The sha256 of every data file the chapters read (its first 16 hex digits; the full digest is in each chapter's results file), and whether it matches the checksum published in the data's provenance note; a dash: no checksum was published (`notebooks/appendix.py`).
# :name: tbl-appendix-checksums
#
# ```{glue:md} tbl_appendix_checksums
# :format: myst
# ```
# :::

# %% [markdown]
# ## Parameters of the quick profile
#
# The parameters cell of each `notebooks/<chapter>.py` holds the full profile;
# `notebooks/profiles.yml` lists what the quick profile overrides
# ({numref}`tbl-appendix-quick`):

# %%
tables.glue_table("tbl_appendix_quick", report.parameters_table({n: chapters[n] for n in names}))

# %% [markdown]
# :::{table} What the quick profile changes in each chapter's parameters (`notebooks/profiles.yml`).
# :name: tbl-appendix-quick
#
# ```{glue:md} tbl_appendix_quick
# :format: myst
# ```
# :::

# %% [markdown]
# ## How to re-run one chapter, or all of them
#
# Set up once (Python 3.11), pointing the book at the data:
#
# ```bash
# python3 -m venv .venv && .venv/bin/pip install -e .
# source .venv/bin/activate
# export LOSSBOOK_DATA_DIR=/path/to/data  # dia/ and acne/; DIA comes from UCI if absent
# ```
#
# Then:
#
# ```bash
# python -m lossbook run dia              # one chapter, full profile, into book/
# python -m lossbook run                  # every chapter in book order
# python -m lossbook run --profile quick  # every chapter, quick, into book/quick/
# python -m lossbook run dia -p seed=1    # one parameter changed (checked)
# python -m lossbook.publish.report collect-timings  # quick times into book/
# python -m lossbook run claims appendix  # the ledger and this page, last
# jupyter-book build book -W              # the HTML, into _build/html/
# ```
#
# Each chapter writes `book/results/<chapter>.json`; with the same parameters
# and package versions the file is byte-identical, which is the simplest check
# that a re-run reproduced the book. Slow steps are cached in
# `~/.cache/lossbook` (or `$LOSSBOOK_CACHE_DIR`); deleting the cache is safe.
#
# **On Binder** (the rocket button on a chapter page), the environment comes from
# `environment.yml`. Run chapters in the quick profile, which keeps them short
# and within a small Binder machine's memory: open a terminal and type
# `python -m lossbook run <chapter> --profile quick`, then open
# `book/quick/<chapter>.ipynb`; or, in the opened notebook, set the parameters
# cell to the quick values in the table above before running it. The DIA data
# are fetched from UCI on first use; the acne images are not redistributed with
# the book: put the Roboflow export under `$LOSSBOOK_DATA_DIR/acne/` (see the
# data chapter).
