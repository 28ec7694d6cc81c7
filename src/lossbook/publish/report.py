"""Read every chapter's results and timing files into tables, for the appendix and the ledger.

The chapters write ``results/<chapter>.json`` (numbers, parameters, versions,
data checksums) and the runner writes ``results/<chapter>.timing.json`` (wall
time per profile). This module only *reads* them, so the pages built from it
(``notebooks/appendix.py``, ``notebooks/claims.py``) contain no typed numbers.

One writer is here too: :func:`collect_timings` copies the wall times of a
quick-profile run (``book/quick/results``) into the published timing files
(``book/results``), so the appendix can show both profiles. It is an explicit
publishing step (``python -m lossbook.publish.report collect-timings``); the runner
itself never lets a quick run touch ``book/``.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from lossbook.core.io import write_json_atomic
from lossbook.core.paths import output_dir, repo_root
from lossbook.publish.results import load_timing
from lossbook.publish.runner import default_output_dir

PROFILES = ("full", "quick")


def results_dir(root: str | Path | None = None) -> Path:
    """``<root>/results``; ``root`` defaults to the output folder (``book/``)."""
    return (Path(root) if root is not None else output_dir()) / "results"


def chapter_order(root: Path | None = None) -> list[str]:
    """Chapter names in book order (``notebooks/profiles.yml``)."""
    from lossbook.publish.runner import load_chapters

    return list(load_chapters(root))


def load_all(chapters: Iterable[str], root: str | Path | None = None) -> dict[str, dict | None]:
    """``{chapter: results payload or None}``; None when the chapter has not been run.

    A file that exists but is not valid JSON raises ``ValueError`` naming it.
    """
    folder = results_dir(root)
    loaded = {}
    for name in chapters:
        path = folder / f"{name}.json"
        if not path.is_file():
            loaded[name] = None
            continue
        try:
            loaded[name] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from None
    return loaded


def versions_table(results: Mapping[str, dict | None]) -> pd.DataFrame:
    """Package versions (rows) recorded by each chapter that has run (columns)."""
    columns = {name: payload.get("versions", {}) for name, payload in results.items() if payload}
    frame = pd.DataFrame(columns)
    frame.index.name = "package"
    return frame.sort_index()


def checksums_table(results: Mapping[str, dict | None],
                    published: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per data file read: its sha256, the chapters that read it, and whether it matches.

    ``published`` maps file names to the checksums recorded in the data's
    provenance notes; ``matches`` is True/False for those files, None otherwise.
    A file read with two different checksums by two chapters gets one row per checksum.
    """
    rows: dict[tuple[str, str], list[str]] = {}
    for name, payload in results.items():
        for file, digest in ((payload or {}).get("data_sha256") or {}).items():
            rows.setdefault((file, digest), []).append(name)
    published = dict(published or {})
    records = [
        {"file": file, "sha256": digest, "chapters": ", ".join(chapters),
         "matches published": (published[file] == digest) if file in published else None}
        for (file, digest), chapters in sorted(rows.items())
    ]
    return pd.DataFrame(records, columns=["file", "sha256", "chapters", "matches published"])


def timing_table(chapters: Iterable[str], root: str | Path | None = None) -> pd.DataFrame:
    """Wall time (s) and CPU count per chapter and profile; NaN where a profile was not run."""
    records = []
    for name in chapters:
        timing = load_timing(name, root if root is not None else output_dir())
        record = {"chapter": name}
        for profile in PROFILES:
            entry = timing.get(profile) or {}
            record[f"{profile} wall time (s)"] = entry.get("wall_time_s")
            record[f"{profile} CPUs"] = entry.get("cpu_count")
        records.append(record)
    frame = pd.DataFrame(records).set_index("chapter")
    for column in frame.columns:
        frame[column] = frame[column].astype("Int64" if column.endswith("CPUs") else "Float64")
    return frame


def parameters_table(chapters: Mapping) -> pd.DataFrame:
    """The parameter overrides of each chapter's quick profile (``notebooks/profiles.yml``)."""
    records = []
    for name, chapter in chapters.items():
        quick = chapter.parameters("quick")
        records.append({
            "chapter": name,
            "quick-profile overrides": ", ".join(f"{k}={v!r}" for k, v in sorted(quick.items())) or "(none)",
        })
    return pd.DataFrame(records).set_index("chapter")


def collect_timings(source: str | Path, target: str | Path, profile: str = "quick") -> list[str]:
    """Copy ``profile`` wall times from ``<source>/results`` into ``<target>/results`` timing files.

    Only the ``profile`` entry of each target file changes; other profiles are kept.
    Returns the chapters updated. Raises ``FileNotFoundError`` when ``source`` has
    no timing files.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    source_files = sorted(results_dir(source).glob("*.timing.json"))
    if not source_files:
        raise FileNotFoundError(f"{results_dir(source)}: no *.timing.json files; run the {profile} profile first")
    updated = []
    for path in source_files:
        name = path.name.removesuffix(".timing.json")
        entry = load_timing(name, source).get(profile)
        if not entry:
            continue
        timing = load_timing(name, target)
        timing[profile] = entry
        write_json_atomic(results_dir(target) / f"{name}.timing.json", timing)
        updated.append(name)
    return updated


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lossbook.publish.report")
    sub = parser.add_subparsers(dest="command", required=True)
    collect = sub.add_parser("collect-timings", help="copy quick-profile wall times into book/results")
    collect.add_argument("--source", default=None, help="default: where the profile writes (book/quick for quick)")
    collect.add_argument("--target", default=None, help="default: <repo>/book")
    collect.add_argument("--profile", default="quick", choices=PROFILES)
    args = parser.parse_args(argv)
    root = repo_root()
    source = Path(args.source) if args.source else default_output_dir(args.profile, root)
    target = Path(args.target) if args.target else root / "book"
    try:
        updated = collect_timings(source, target, args.profile)
    except (FileNotFoundError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    print(f"{args.profile} wall times copied for: {', '.join(updated) or '(none)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return "—"
    try:
        if pd.isna(value):
            return "—"
    except (TypeError, ValueError):
        pass
    return str(value).replace("|", "\\|").replace("\n", " ")


def myst_table(frame: pd.DataFrame, caption: str, name: str, *, index: bool = True) -> str:
    """A MyST ``{table}`` directive (numbered, with ``caption`` and label ``name``) holding ``frame``.

    Display it with ``IPython.display.Markdown`` in a cell whose metadata has
    ``mystnb: {markdown_format: myst}``, so that the book numbers the table and
    ``{numref}`` can point at it. Missing values print as an em dash.
    """
    if not name or any(c.isspace() for c in name):
        raise ValueError(f"table name must be a non-empty label without spaces, got {name!r}")
    frame = frame.reset_index() if index else frame
    header = [_cell_text(c) for c in frame.columns]
    rows = [[_cell_text(v) for v in row] for row in frame.itertuples(index=False)]
    lines = [f":::{{table}} {caption}", f":name: {name}", "",
             "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append(":::")
    return "\n".join(lines)


def book_labels(root: str | Path | None = None) -> set[str]:
    """The MyST labels (``(name)=``) of the pages the book builds: the pages in ``_toc.yml`` found in ``book/``
    as ``.md``, or else as an executed ``.ipynb`` (its Markdown cells). ``root``: the repository (default
    :func:`lossbook.core.paths.repo_root`). A page may link to a label only if it is in this set, so the
    book builds whatever has been run."""
    import re

    import yaml

    root = Path(root) if root is not None else repo_root()
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    pattern = re.compile(r"^\(([A-Za-z0-9_-]+)\)=\s*$", re.M)
    labels: set[str] = set()
    for page in pages:
        md, nb = root / "book" / f"{page}.md", root / "book" / f"{page}.ipynb"
        if md.is_file():
            labels |= set(pattern.findall(md.read_text(encoding="utf-8")))
        elif nb.is_file():
            for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
                if cell["cell_type"] == "markdown":
                    labels |= set(pattern.findall("".join(cell["source"])))
    return labels


def section_link(section: str | None, fallback: str, labels: set[str]) -> str:
    """A MyST ``{ref}`` to ``section`` (its text without the ``chapter-`` prefix) when the book has that label,
    else ``fallback`` as plain text."""
    if section and section in labels:
        return f"{{ref}}`{section.removeprefix('chapter-')} <{section}>`"
    return fallback


# --------------------------------------------------------------------------- the ledger's page

def sources_table(sources: Iterable[str]) -> pd.DataFrame:
    """The source documents ``sources`` (keys of the ledger's ``SOURCES``), in the ledger's order:
    short name, title and a MyST citation."""
    from lossbook.publish.ledger import SOURCES

    return pd.DataFrame([{"source": s.short, "title": s.title, "citation": f"{{cite:p}}`{s.citation}`"}
                         for key, s in SOURCES.items() if key in set(sources)])


def ledger_tables(assessments, labels: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The claims ledger (one row per claim: source, claim, reported, measured, verdict and a link to
    the evidence) and, numbered alike, what was tested and the rule's reasoning for each verdict
    (with the minimum detectable effect where the interval holds zero)."""
    from lossbook.publish.ledger import SOURCES

    numbered = list(enumerate(assessments, 1))
    ledger = pd.DataFrame([{
        "#": i, "source": SOURCES[a.claim.source].short, "claim": a.claim.statement, "reported": a.claim.reported,
        "measured": a.measured_text(), "verdict": f"**{a.verdict}**",
        "evidence": section_link(a.claim.section, ", ".join(a.claim.chapters) or "—", labels),
    } for i, a in numbered])
    reasoning = pd.DataFrame([{
        "#": i, "claim": f"`{a.claim.id}`", "what was tested": a.claim.tested or "—",
        "the rule's reasoning": f"{a.verdict}: {a.detail}",
        "MDE": f"{a.extras['mde']:.3f}" if "mde" in a.extras else "—",
    } for i, a in numbered])
    return ledger, reasoning


def verdicts_per_source(assessments) -> pd.DataFrame:
    """Claims per (source document, verdict): one row per source, one column per verdict (in the
    ledger's order, zeros included)."""
    from lossbook.publish.ledger import SOURCES, VERDICTS

    pairs = pd.DataFrame([{"source": SOURCES[a.claim.source].short, "verdict": a.verdict} for a in assessments])
    return pairs.value_counts().unstack(fill_value=0).reindex(columns=list(VERDICTS), fill_value=0)


def verdict_chart(per_source: pd.DataFrame):
    """Stacked horizontal bars of :func:`verdicts_per_source`, one colour per verdict (only the verdicts
    given appear, in the legend too); the page-width figure."""
    import matplotlib.pyplot as plt

    from lossbook.core import plots
    from lossbook.publish.ledger import verdict_colors

    colors = verdict_colors()
    fig, ax = plt.subplots(figsize=(plots.PAGE_WIDTH_IN, 3.0))
    left = pd.Series(0, index=per_source.index)
    for verdict in [v for v in per_source.columns if per_source[v].sum()]:
        ax.barh(per_source.index, per_source[verdict], left=left, color=colors[verdict], label=verdict,
                edgecolor="white")
        left += per_source[verdict]
    ax.set_xlabel("claims")
    ax.invert_yaxis()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3, frameon=False)
    return fig


def critique_effects_table(effects: Mapping[str, dict]) -> pd.DataFrame:
    """One row per critique of the ledger (indexed by its title): the measured effect's text
    (``effects[critique id]["text"]``, from :func:`lossbook.publish.ledger.glue_ledger`) and what it is."""
    from lossbook.publish.ledger import CRITIQUES

    return pd.DataFrame([{"problem": c.title, "measured effect": effects[c.id]["text"], "what it is": c.effect}
                         for c in CRITIQUES]).set_index("problem")


def ledger_record(assessments, effects: Mapping[str, dict]) -> dict:
    """What the claims chapter saves: verdict counts, per claim its verdict, reasoning, what was
    tested, the measurements and the minimum detectable effect (None where not computed), and
    the critiques' measured effects."""
    from lossbook.publish.ledger import verdict_counts

    return {
        "counts": verdict_counts(assessments),
        "verdicts": {a.claim.id: {"verdict": a.verdict, "detail": a.detail, "tested": a.claim.tested,
                                  "measured": {k: m.to_dict() for k, m in a.measures.items()},
                                  "minimum_detectable_effect": a.extras.get("mde")}
                     for a in assessments},
        "critiques": dict(effects),
    }
