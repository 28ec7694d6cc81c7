"""Reading results and timing files into the appendix's tables; copying quick wall times."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from lossbook.core.io import write_json_atomic
from lossbook.publish import report


def _results(root, chapter, *, versions=None, data=None):
    write_json_atomic(root / "results" / f"{chapter}.json", {
        "chapter": chapter, "results": {}, "parameters": {},
        "data_sha256": data or {}, "versions": versions or {"numpy": "2.4.0"},
    })


def _timing(root, chapter, **profiles):
    write_json_atomic(root / "results" / f"{chapter}.timing.json",
                      {p: {"wall_time_s": t, "cpu_count": 2, "parameters": {}} for p, t in profiles.items()})


def test_load_all_marks_chapters_without_results(tmp_path):
    _results(tmp_path, "dia")
    loaded = report.load_all(["dia", "acne"], tmp_path)
    assert loaded["acne"] is None and loaded["dia"]["chapter"] == "dia"


def test_load_all_names_a_corrupt_file(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "dia.json").write_text("{not json")
    with pytest.raises(ValueError, match="dia.json"):
        report.load_all(["dia"], tmp_path)


def test_versions_table_has_one_column_per_chapter_that_ran(tmp_path):
    _results(tmp_path, "a", versions={"numpy": "2.4.0", "torch": "2.13.0"})
    _results(tmp_path, "b", versions={"numpy": "2.3.0"})
    table = report.versions_table(report.load_all(["a", "b", "c"], tmp_path))
    assert list(table.columns) == ["a", "b"]
    assert table.loc["numpy"].tolist() == ["2.4.0", "2.3.0"]
    assert pd.isna(table.loc["torch", "b"])


def test_checksums_table_groups_chapters_and_checks_published(tmp_path):
    _results(tmp_path, "data", data={"train.csv": "aa", "other.csv": "cc"})
    _results(tmp_path, "dia", data={"train.csv": "aa"})
    _results(tmp_path, "bad", data={"train.csv": "bb"})
    table = report.checksums_table(report.load_all(["data", "dia", "bad"], tmp_path), {"train.csv": "aa"})
    rows = {(r.file, r.sha256): r for r in table.itertuples()}
    assert rows[("train.csv", "aa")].chapters == "data, dia"
    assert table.loc[table.sha256 == "aa", "matches published"].item() is True
    assert table.loc[table.sha256 == "bb", "matches published"].item() is False
    assert table.loc[table.sha256 == "cc", "matches published"].item() is None


def test_timing_table_leaves_unrecorded_profiles_empty(tmp_path):
    _timing(tmp_path, "dia", full=120.5, quick=20.0)
    _timing(tmp_path, "acne", full=300.0)
    table = report.timing_table(["dia", "acne", "never"], tmp_path)
    assert table.loc["dia", "full wall time (s)"] == 120.5
    assert table.loc["dia", "quick CPUs"] == 2
    assert pd.isna(table.loc["acne", "quick wall time (s)"])
    assert table.loc[["never"]].isna().all(axis=None)


def test_collect_timings_copies_only_the_profile(tmp_path):
    book, quick = tmp_path / "book", tmp_path / "quick"
    _timing(book, "dia", full=100.0)
    _timing(quick, "dia", quick=9.5)
    _timing(quick, "acne", quick=30.0)
    assert report.collect_timings(quick, book) == ["acne", "dia"]
    dia = json.loads((book / "results" / "dia.timing.json").read_text())
    assert dia["full"]["wall_time_s"] == 100.0 and dia["quick"]["wall_time_s"] == 9.5
    assert set(json.loads((book / "results" / "acne.timing.json").read_text())) == {"quick"}


def test_collect_timings_refuses_empty_source_and_bad_profile(tmp_path):
    with pytest.raises(FileNotFoundError, match="no \\*.timing.json"):
        report.collect_timings(tmp_path / "nothing", tmp_path / "book")
    with pytest.raises(ValueError, match="profile must be one of"):
        report.collect_timings(tmp_path, tmp_path, profile="slow")


def test_myst_table_numbers_a_frame_and_marks_missing_values():
    frame = pd.DataFrame({"wall time (s)": [1.5, None], "note": ["a|b", "c"]}, index=pd.Index(["dia", "acne"], name="chapter"))
    text = report.myst_table(frame, "Wall times.", "tbl-times")
    lines = text.splitlines()
    assert lines[0] == ":::{table} Wall times." and lines[1] == ":name: tbl-times" and lines[-1] == ":::"
    assert lines[3] == "| chapter | wall time (s) | note |"
    assert "| dia | 1.5 | a\\|b |" in lines and "| acne | — | c |" in lines
    with pytest.raises(ValueError, match="label without spaces"):
        report.myst_table(frame, "x", "bad name")


def test_book_labels_reads_md_pages_and_executed_notebooks(tmp_path):
    import json

    from lossbook.publish import report as rep

    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text("root: intro\nparts:\n  - chapters:\n    - file: ch\n    - file: missing\n")
    (tmp_path / "book" / "intro.md").write_text("(front)=\n# Front\n")
    (tmp_path / "book" / "ch.ipynb").write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": ["(chapter-ch)=\n", "# Ch\n"]},
        {"cell_type": "code", "source": ["(not-a-label)=\n"]}]}))
    labels = rep.book_labels(tmp_path)
    assert labels == {"front", "chapter-ch"}
    assert rep.section_link("chapter-ch", "ch", labels) == "{ref}`ch <chapter-ch>`"
    assert rep.section_link("chapter-gone", "gone", labels) == "gone"


def _assessments():
    from lossbook.publish import ledger

    claims = ledger.source_claims()
    return ledger, ledger.ledger(claims, {chapter: None for chapter in ledger.chapters_needed(claims)})


def test_sources_table_keeps_the_ledger_order_and_cites():
    table = report.sources_table(["forum", "dia"])
    assert list(table.columns) == ["source", "title", "citation"] and len(table) == 2
    assert table["citation"].str.startswith("{cite:p}`").all()


def test_ledger_tables_number_every_claim_alike_and_link_only_known_sections():
    ledger, assessments = _assessments()
    rows, why = report.ledger_tables(assessments, labels={"chapter-dia"})
    assert list(rows["#"]) == list(why["#"]) == list(range(1, len(assessments) + 1))
    # no results: every claim waits for its chapter, but those that cannot be tested here
    assert set(rows["verdict"]) == {f"**{ledger.NOT_RUN}**", f"**{ledger.UNTESTABLE}**"}
    linked = rows["evidence"].str.startswith("{ref}")
    assert linked.any() and all(a.claim.section == "chapter-dia" for a, hit in zip(assessments, linked) if hit)


def test_verdicts_per_source_counts_every_claim_once_in_the_ledger_order_of_verdicts():
    import matplotlib.pyplot as plt

    ledger, assessments = _assessments()
    per_source = report.verdicts_per_source(assessments)
    assert list(per_source.columns) == list(ledger.VERDICTS) and per_source.to_numpy().sum() == len(assessments)
    fig = report.verdict_chart(per_source)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == [ledger.UNTESTABLE, ledger.NOT_RUN]  # only the verdicts given, in the ledger's order
    plt.close(fig)


def test_glue_ledger_glues_every_claim_and_critique(monkeypatch):
    from lossbook.publish import glue

    ledger, assessments = _assessments()
    glued = {}
    monkeypatch.setattr(glue, "glue_number", lambda name, value: glued.__setitem__(name, value))
    effects = ledger.glue_ledger(assessments, {})
    assert set(effects) == {c.id for c in ledger.CRITIQUES}
    assert glued["ledger_n_claims"] == len(assessments)
    assert glued["ledger_n_not_yet_run"] == sum(a.verdict == ledger.NOT_RUN for a in assessments) > 0
    for a in assessments:
        assert glued[f"claim_{a.claim.id.replace('-', '_')}_verdict"] == a.verdict


def test_ledger_record_and_critique_table_cover_every_claim_and_critique():
    import json

    ledger, assessments = _assessments()
    effects = {c.id: {"status": "not yet run", "text": "not yet run"} for c in ledger.CRITIQUES}
    record = report.ledger_record(assessments, effects)
    assert set(record["verdicts"]) == {a.claim.id for a in assessments}
    assert sum(record["counts"].values()) == len(assessments) and record["critiques"] == effects
    json.dumps(record)  # what save_results writes must be JSON
    table = report.critique_effects_table(effects)
    assert list(table.index) == [c.title for c in ledger.CRITIQUES]
    assert list(table.columns) == ["measured effect", "what it is"]
