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
# (chapter-claims)=
# # The claims ledger
#
# This chapter lists the headline claims of the four source documents and, for
# each, what this book measured and a verdict. The verdicts are not typed: the
# claims are data in `lossbook.studies.claims` (each with the size the source
# claims, where the book measures it and the rule that judges it), the engine
# `lossbook.publish.ledger` applies the rules, and this notebook applies them to
# the chapters' results files. A chapter that has not been run leaves its claims
# marked *not yet run*. A verdict holds for what was tested, which each row states.
#
# The verdicts mean:
#
# reproduced
# : the 95 % interval holds the claimed value; for an effect, it also excludes
#   zero (allowing for the source's rounding).
#
# refuted
# : the interval excludes the claimed value or size. For an effect the direction
#   may still hold; the reasoning then says both.
#
# inconclusive
# : the interval holds both zero and the claimed size: the study could not have
#   told. The minimum detectable effect at 80 % power says how large an effect it
#   could have seen.
#
# atypical
# : the claimed outcome of a single run does occur, but in a minority of runs
#   (a frequency with its Wilson interval).
#
# explained by an artifact of the protocol
# : the number occurs under the source's protocol (leakage, a balanced test set,
#   values of two different objectives compared) and goes away under a sound one.
#
# cannot be tested here
# : the data or the setup the claim needs are not available; a stand-in
#   measurement, if any, is shown but not judged.

# %% tags=["parameters"]
results_root = None  # folder holding results/; None means the runner's output folder (book/ for full)
sources = ["dia", "acne", "synthetic", "forum"]  # which source documents' claims to assess

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from lossbook.core import params as lbparams
from lossbook.core import plots
from lossbook.core.seeding import seed_everything
from lossbook.publish import ledger, report
from lossbook.publish.ledger import glue_ledger
from lossbook.publish.results import save_results
from lossbook.studies import chapters as chapter_params

lbparams.validate(lbparams.collect(globals(), chapter_params.CLAIMS), chapter_params.CLAIMS)  # the cell above
seed_everything(0)  # nothing random here; kept for the book's convention
plots.set_style()

# %% [markdown]
# The ledger reads the results file of every chapter a claim or critique points at,
# and judges each claim by its rule.

# %% tags=["remove-cell"]
claims = ledger.source_claims(sources)
results = report.load_all(ledger.chapters_needed(claims, ledger.CRITIQUES), results_root)
assessments = ledger.ledger(claims, results)
labels = report.book_labels()  # a claim links to its section only if the book has that label
caption_tail = (f"(made by `notebooks/claims.py` from the results files in `book/results/`; "
                f"parameters: sources={list(sources)}).")


# %% [markdown]
# ## The ledger
#
# {numref}`tbl-ledger` is the ledger itself, and {numref}`tbl-ledger-why` gives
# what was tested and the rule's reasoning for each row. *Reported* is the
# source's own number (kept in each study module's dictionary of reported
# values); *measured* is ours, with its 95 % interval where the chapter gives
# one. The sources are {numref}`tbl-sources`.

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
display(Markdown(report.myst_table(report.sources_table(sources), "The source documents whose claims the ledger "
                                   f"examines {caption_tail}", "tbl-sources", index=False)))

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
ledger_rows, why_rows = report.ledger_tables(assessments, labels)
display(Markdown(report.myst_table(
    ledger_rows, "The claims ledger: each headline claim of the source documents, what this book measured and the "
    f"verdict of the rule in `lossbook.publish.ledger` {caption_tail}", "tbl-ledger", index=False)))

# %% [markdown]
# ### Why each verdict
#
# {numref}`tbl-ledger-why` gives, for each row of the ledger, the test behind its
# verdict: which protocol, data and comparison produced the measurement, and the
# rule's reasoning in words. Where an effect's interval holds zero, the minimum
# detectable effect (MDE) says how large a true effect the study would have found
# with 80 % power. A claimed effect smaller than its MDE could not have been
# confirmed here, which is why such a claim is inconclusive rather than refuted.

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
display(Markdown(report.myst_table(why_rows, "What was tested for each claim of {numref}`tbl-ledger`, and why its "
                                   "verdict was given (MDE: minimum detectable effect at 80 % power, given where the "
                                   f"interval holds zero) {caption_tail}", "tbl-ledger-why", index=False)))

# %% [markdown]
# ## Verdicts by source document
#
# The same verdicts, counted per source document: a source whose claims are mostly
# refuted or explained by an artifact is one whose protocol, not only its numbers, needs
# a second look. The chart and the table below show the counts; the critiques chapter
# says which protocol problems lie behind them.

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
effects = glue_ledger(assessments, results)  # every count, verdict and effect the other pages quote
per_source = report.verdicts_per_source(assessments)
plots.save_figure(report.verdict_chart(per_source), "claims", "verdicts", glue_key="fig_claims_verdicts")
occurring = per_source.loc[:, per_source.sum() > 0].T  # rows: the verdicts given; columns: the sources
occurring.index.name = "verdict"
display(Markdown(report.myst_table(occurring, f"Number of claims per verdict and source document {caption_tail}",
                                   "tbl-claims-per-source")))

# %% [markdown]
# ```{glue:figure} fig_claims_verdicts
# :name: fig-claims-verdicts
#
# Verdicts of {numref}`tbl-ledger` per source document (made by `notebooks/claims.py`
# from the results files in `book/results/`; default parameters).
# ```

# %% [markdown]
# {glue:text}`ledger_counts_sentence` ({numref}`tbl-claims-per-source`,
# {numref}`fig-claims-verdicts`). A claim counted as refuted may still hold in its
# direction (the reasoning in {numref}`tbl-ledger-why` says so where it does), and an
# inconclusive one was not refuted: the study could not have told at the size claimed.

# %% [markdown]
# ## What the critiques measured
#
# The critiques chapter ({ref}`critiques`) discusses the methodological problems the
# book found in the sources' protocols. Each is measured in the chapter that tests it;
# {numref}`tbl-critique-effects` collects those measurements, with their 95 % intervals
# where the chapter gives one.

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
display(Markdown(report.myst_table(report.critique_effects_table(effects), "Measured effect of each methodological "
                                   f"problem discussed in the critiques chapter {caption_tail}", "tbl-critique-effects")))

# %% [markdown]
# The chapter's record, `results/claims.json`, keeps the verdict counts, each claim's verdict with
# the rule's reasoning and its measurements, and the critiques' effects, for the front page and for
# anyone who wants to compare two versions of the ledger.

# %% tags=["remove-cell"]
results_file = save_results("claims", report.ledger_record(assessments, effects),
                            parameters={"results_root": results_root, "sources": list(sources)})
