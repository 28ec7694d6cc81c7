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
import re

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from lossbook.core import params as lbparams
from lossbook.core import plots
from lossbook.core.seeding import seed_everything
from lossbook.publish import ledger, report
from lossbook.publish.glue import glue_number
from lossbook.publish.results import save_results
from lossbook.studies import chapters as chapter_params

lbparams.validate(lbparams.collect(globals(), chapter_params.CLAIMS), chapter_params.CLAIMS)  # the cell above
seed_everything(0)  # nothing random here; kept for the book's convention
plots.set_style()

claims = ledger.source_claims(sources)
chapters = ledger.chapters_needed(claims, ledger.CRITIQUES)
results = report.load_all(chapters, results_root)
assessments = ledger.ledger(claims, results)
labels = report.book_labels()  # a claim links to its section only if the book has that label


# %% [markdown]
# ## The ledger
#
# {numref}`tbl-ledger` is the ledger itself, and {numref}`tbl-ledger-why` gives
# what was tested and the rule's reasoning for each row. *Reported* is the
# source's own number (kept in each study module's dictionary of reported
# values); *measured* is ours, with its 95 % interval where the chapter gives
# one. The sources are {numref}`tbl-sources`.

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
caption_tail = (f"(made by `notebooks/claims.py` from the results files in `book/results/`; "
                f"parameters: sources={list(sources)}).")
source_rows = pd.DataFrame([{"source": s.short, "title": s.title, "citation": f"{{cite:p}}`{s.citation}`"}
                            for key, s in ledger.SOURCES.items() if key in sources])
display(Markdown(report.myst_table(source_rows, f"The source documents whose claims the ledger examines "
                                   f"{caption_tail}", "tbl-sources", index=False)))
ledger_rows = pd.DataFrame([{
    "#": i, "source": ledger.SOURCES[a.claim.source].short, "claim": a.claim.statement, "reported": a.claim.reported,
    "measured": a.measured_text(), "verdict": f"**{a.verdict}**",
    "evidence": report.section_link(a.claim.section, ", ".join(a.claim.chapters) or "—", labels),
} for i, a in enumerate(assessments, 1)])
display(Markdown(report.myst_table(
    ledger_rows, "The claims ledger: each headline claim of the source documents, what this book measured and the "
    f"verdict of the rule in `lossbook.publish.ledger` {caption_tail}", "tbl-ledger", index=False)))

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
why_rows = pd.DataFrame([{"#": i, "claim": f"`{a.claim.id}`", "what was tested": a.claim.tested or "—",
                          "the rule's reasoning": f"{a.verdict}: {a.detail}",
                          "MDE": f"{a.extras['mde']:.3f}" if "mde" in a.extras else "—"}
                         for i, a in enumerate(assessments, 1)])
display(Markdown(report.myst_table(why_rows, "What was tested for each claim of {numref}`tbl-ledger`, and why its "
                                   "verdict was given (MDE: minimum detectable effect at 80 % power, given where the "
                                   f"interval holds zero) {caption_tail}", "tbl-ledger-why", index=False)))

# %% [markdown]
# ## Verdicts by source document

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
counts = ledger.verdict_counts(assessments)
per_source = pd.DataFrame(
    [{"source": ledger.SOURCES[a.claim.source].short, "verdict": a.verdict} for a in assessments]
).value_counts().unstack(fill_value=0).reindex(columns=list(ledger.VERDICTS), fill_value=0)

colors = ledger.verdict_colors()
fig, ax = plt.subplots(figsize=(plots.PAGE_WIDTH_IN, 3.0))
left = pd.Series(0, index=per_source.index)
for verdict in [v for v in ledger.VERDICTS if per_source[v].sum()]:  # only verdicts that occur, in the legend too
    ax.barh(per_source.index, per_source[verdict], left=left, color=colors[verdict], label=verdict,
            edgecolor="white")
    left += per_source[verdict]
ax.set_xlabel("claims")
ax.invert_yaxis()
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3, frameon=False)
plots.save_figure(fig, "claims", "verdicts", glue_key="fig_claims_verdicts")
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

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
slug = {v: re.sub(r"[^a-z]+", "_", v).strip("_") for v in ledger.VERDICTS}
glue_number("ledger_n_claims", len(assessments))
glue_number("ledger_counts_sentence", ledger.counts_sentence(counts))
for verdict, n in counts.items():
    glue_number(f"ledger_n_{slug[verdict]}", n)
for a in assessments:
    key = a.claim.id.replace("-", "_")
    glue_number(f"claim_{key}_verdict", a.verdict)
    glue_number(f"claim_{key}_measured", a.value_text())
    glue_number(f"claim_{key}_statement", a.claim.statement)  # the front page's summary table

effects = {}
for critique in ledger.CRITIQUES:
    effects[critique.id] = ledger.critique_texts(critique, results)
    glue_number(f"crit_{critique.id.replace('-', '_')}_effect", effects[critique.id]["text"])
effect_table = pd.DataFrame([{"problem": c.title, "measured effect": effects[c.id]["text"], "what it is": c.effect}
                             for c in ledger.CRITIQUES]).set_index("problem")
display(Markdown(report.myst_table(effect_table, "Measured effect of each methodological problem discussed in "
                                   f"the critiques chapter {caption_tail}", "tbl-critique-effects")))

# %% [markdown]
# {glue:text}`ledger_counts_sentence` ({numref}`tbl-claims-per-source`,
# {numref}`fig-claims-verdicts`).
# {numref}`tbl-critique-effects` lists the measured effect of each
# methodological problem gathered in {ref}`critiques`.

# %% tags=["remove-cell"]
results_file = save_results(
    "claims",
    {
        "counts": counts,
        "verdicts": {a.claim.id: {"verdict": a.verdict, "detail": a.detail, "tested": a.claim.tested,
                                  "measured": {k: m.to_dict() for k, m in a.measures.items()},
                                  "minimum_detectable_effect": a.extras.get("mde")}
                     for a in assessments},
        "critiques": effects,
    },
    parameters={"results_root": results_root, "sources": list(sources)},
)
