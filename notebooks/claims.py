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

# %% tags=["hide-input"]
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from lossbook.publish import ledger, report
from lossbook.core.paths import figure_path, repo_root
from lossbook.publish.results import save_results
from lossbook.core.seeding import seed_everything

if results_root is not None and not isinstance(results_root, str):
    raise ValueError(f"results_root must be a folder path or None, got {results_root!r}")
if not isinstance(sources, (list, tuple)) or not sources or set(sources) - set(ledger.CLAIM_BUILDERS):
    raise ValueError(f"sources must be a non-empty list drawn from {sorted(ledger.CLAIM_BUILDERS)}, got {sources!r}")
seed_everything(0)  # nothing random here; kept for the book's convention

claims = ledger.source_claims(sources)
chapters = ledger.chapters_needed(claims, ledger.CRITIQUES)
results = report.load_all(chapters, results_root)
assessments = ledger.ledger(claims, results)

# MyST labels of the pages the book builds (in _toc.yml and present in book/): a claim links
# to its section only if the label will exist, so the book builds whatever has been run.
import json

import yaml

toc = yaml.safe_load((repo_root() / "_toc.yml").read_text(encoding="utf-8"))
pages = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
label_pattern = re.compile(r"^\(([A-Za-z0-9_-]+)\)=\s*$", re.M)
labels = set()
for page in pages:
    md, nb = repo_root() / "book" / f"{page}.md", repo_root() / "book" / f"{page}.ipynb"
    if md.is_file():
        labels |= set(label_pattern.findall(md.read_text(encoding="utf-8")))
    elif nb.is_file():
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        for c in cells:
            if c["cell_type"] == "markdown":
                labels |= set(label_pattern.findall("".join(c["source"])))


def evidence(claim):
    chapter = ", ".join(claim.chapters) or "—"
    if claim.section and claim.section in labels:
        short = claim.section.removeprefix("chapter-")
        return f"{{ref}}`{short} <{claim.section}>`"
    return chapter


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


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


def myst_table(caption, name, header, rows):
    return "\n".join([
        f":::{{table}} {caption} {caption_tail}", f":name: {name}", "",
        "| " + " | ".join(header) + " |", "|" + " --- |" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows), ":::",
    ])


source_rows = [[s.short, cell(s.title), f"{{cite:p}}`{s.citation}`"]
               for key, s in ledger.SOURCES.items() if key in sources]
display(Markdown(myst_table("The source documents whose claims the ledger examines", "tbl-sources",
                            ["source", "title", "citation"], source_rows)))


def mde_text(a):
    return f"{a.extras['mde']:.3f}" if "mde" in a.extras else "—"


ledger_rows = [
    [str(i), ledger.SOURCES[a.claim.source].short, cell(a.claim.statement), cell(a.claim.reported),
     cell(a.measured_text()), f"**{a.verdict}**", mde_text(a), evidence(a.claim)]
    for i, a in enumerate(assessments, 1)
]
display(Markdown(myst_table(
    "The claims ledger: each headline claim of the source documents, what this book measured and the "
    "verdict of the rule in `lossbook.publish.ledger` (MDE: minimum detectable effect at 80 % power, "
    "given where the interval holds zero)", "tbl-ledger",
    ["#", "source", "claim", "reported", "measured", "verdict", "MDE", "evidence"], ledger_rows)))

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
why_rows = [[str(i), f"`{a.claim.id}`", cell(a.claim.tested or "—"), f"{a.verdict}: {cell(a.detail)}"]
            for i, a in enumerate(assessments, 1)]
display(Markdown(myst_table("What was tested for each claim of {numref}`tbl-ledger`, and why its verdict was given",
                            "tbl-ledger-why", ["#", "claim", "what was tested", "the rule's reasoning"], why_rows)))

# %% [markdown]
# ## Verdicts by source document

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
counts = ledger.verdict_counts(assessments)
per_source = pd.DataFrame(
    [{"source": ledger.SOURCES[a.claim.source].short, "verdict": a.verdict} for a in assessments]
).value_counts().unstack(fill_value=0).reindex(columns=list(ledger.VERDICTS), fill_value=0)

colors = {ledger.REPRODUCED: "#1b9e77", ledger.REFUTED: "#d95f02", ledger.INCONCLUSIVE: "#e6ab02",
          ledger.ATYPICAL: "#e7298a", ledger.ARTIFACT: "#7570b3", ledger.UNTESTABLE: "#a6a6a6",
          ledger.NOT_RUN: "#e6e6e6", ledger.NOT_MEASURED: "#f0c987"}
fig, ax = plt.subplots(figsize=(8, 2.8))
left = pd.Series(0, index=per_source.index)
for verdict in ledger.VERDICTS:
    ax.barh(per_source.index, per_source[verdict], left=left, color=colors[verdict], label=verdict,
            edgecolor="white")
    left += per_source[verdict]
ax.set_xlabel("claims")
ax.invert_yaxis()
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3, frameon=False, fontsize=8)
fig.tight_layout()
fig.savefig(figure_path("claims", "verdicts.png"), dpi=120)
glue("fig_claims_verdicts", fig, display=False)
plt.close(fig)
display(Markdown(report.myst_table(per_source, f"Number of claims per source document and verdict {caption_tail}",
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
glue("ledger_n_claims", len(assessments), display=False)
for verdict, n in counts.items():
    glue(f"ledger_n_{slug[verdict]}", n, display=False)
for a in assessments:
    key = a.claim.id.replace("-", "_")
    glue(f"claim_{key}_verdict", a.verdict, display=False)
    glue(f"claim_{key}_measured", a.value_text(), display=False)

effects = {}
for critique in ledger.CRITIQUES:
    effects[critique.id] = ledger.critique_texts(critique, results)
    glue(f"crit_{critique.id.replace('-', '_')}_effect", effects[critique.id]["text"], display=False)
effect_table = pd.DataFrame([{"problem": c.title, "measured effect": effects[c.id]["text"], "what it is": c.effect}
                             for c in ledger.CRITIQUES]).set_index("problem")
display(Markdown(report.myst_table(effect_table, "Measured effect of each methodological problem discussed in "
                                   f"the critiques chapter {caption_tail}", "tbl-critique-effects")))

# %% [markdown]
# Of {glue:text}`ledger_n_claims` claims, {glue:text}`ledger_n_reproduced` are
# reproduced, {glue:text}`ledger_n_refuted` are refuted,
# {glue:text}`ledger_n_inconclusive` are inconclusive, {glue:text}`ledger_n_atypical`
# atypical, {glue:text}`ledger_n_explained_by_an_artifact_of_the_protocol` are explained by an
# artifact of the protocol, {glue:text}`ledger_n_cannot_be_tested_here` cannot be
# tested here and {glue:text}`ledger_n_not_yet_run` wait for a chapter that has not
# been run ({numref}`tbl-claims-per-source`, {numref}`fig-claims-verdicts`).
# {numref}`tbl-critique-effects` lists the measured effect of each
# methodological problem gathered in {ref}`critiques`.

# %% tags=["hide-input"]
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
