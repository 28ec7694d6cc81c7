"""Which chapters can run here: datasets and upstream results read from the chapter sources."""
from __future__ import annotations

import os
import time

import pytest

from lossbook.core import data as lbdata
from lossbook.publish import needs
from lossbook.publish.runner import load_chapters


def test_datasets_are_read_from_the_chapter_sources():
    chapters = load_chapters()
    found = {name: needs.chapter_datasets(chapter) for name, chapter in chapters.items()}
    assert found["dia"] == {"dia"} and found["acne"] == {"acne"}
    assert found["data"] == {"dia", "acne"}
    assert found["synthetic"] == set() and found["forum"] == set()


def test_called_names_sees_plain_and_dotted_calls_but_not_mentions():
    names = needs.called_names("import x\nx.load_dia('train')\nacne_dir()\ntext = 'load_acne_index'\n")
    assert {"load_dia", "acne_dir"} <= names and "load_acne_index" not in names


def test_chapters_with_results_root_depend_on_every_earlier_chapter():
    upstream = needs.upstream_chapters()
    order = list(load_chapters())
    assert upstream["claims"] == order[: order.index("claims")]
    assert upstream["appendix"] == order[: order.index("appendix")]
    assert upstream["dia"] == []


def test_missing_acne_blocks_acne_data_and_the_reporting_chapters_only():
    reasons = {"dia": None, "acne": "acne data not available: get it"}
    blocked = needs.blocked_chapters(reason_for=reasons.get)
    assert set(blocked) == {"data", "acne", "claims", "appendix"}
    assert blocked["acne"] == "acne data not available: get it"
    assert "acne" in blocked["claims"] and "dia" not in blocked["claims"].split("without the")[1]


def test_nothing_is_blocked_when_the_data_are_present(data_root, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_DATA_DIR", str(data_root))
    assert needs.blocked_chapters() == {}


def test_an_empty_data_folder_makes_both_datasets_unavailable_with_readme_words(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_DATA_DIR", str(tmp_path))
    for dataset in ("dia", "acne"):
        reason = lbdata.unavailable_reason(dataset)
        assert reason == f"{dataset} data not available: {lbdata.HOW_TO_GET[dataset]}"
        assert f"$LOSSBOOK_DATA_DIR/{dataset}/" in reason  # where to put it


def test_readme_data_section_quotes_how_to_get_each_dataset():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Data", 1)[1].split("\n## ", 1)[0]
    flat = " ".join(section.split())
    for dataset, sentence in lbdata.HOW_TO_GET.items():
        assert sentence in flat, f"README's Data section does not quote HOW_TO_GET[{dataset!r}]"


def test_offline_without_a_data_folder_answers_quickly(tmp_path, monkeypatch):
    """No LOSSBOOK_DATA_DIR, an empty cache and an unreachable host: a reason within the probe time."""
    monkeypatch.delenv("LOSSBOOK_DATA_DIR", raising=False)
    monkeypatch.setenv("LOSSBOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(lbdata, "DIA_URL", "https://127.0.0.1:9/dia.zip")  # closed port: refused at once
    start = time.perf_counter()
    reason = lbdata.unavailable_reason("dia", probe_timeout=1.0)
    assert time.perf_counter() - start < 3.0
    assert reason.startswith("dia data not available:")
    assert not (tmp_path / "cache" / "data" / "dia").exists()


def test_a_cached_download_counts_as_available(tmp_path, monkeypatch, data_root):
    """The user cache is part of the lookup: CSVs there make DIA available with no data folder."""
    monkeypatch.delenv("LOSSBOOK_DATA_DIR", raising=False)
    monkeypatch.setenv("LOSSBOOK_CACHE_DIR", str(tmp_path))
    cached = tmp_path / "data" / "dia"
    cached.mkdir(parents=True)
    for name, _ in lbdata.DIA_FILES.values():
        os.symlink(data_root / "dia" / name, cached / name)
    monkeypatch.setattr(lbdata, "_reachable", lambda *a, **k: pytest.fail("no probe when the cache has the data"))
    assert lbdata.unavailable_reason("dia") is None


def test_require_raises_a_message_without_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_DATA_DIR", str(tmp_path))
    with pytest.raises(lbdata.DataUnavailable) as caught:
        lbdata.require("acne")
    assert caught.value._render_traceback_() == [str(caught.value)]
    assert lbdata.HOW_TO_GET["acne"] in str(caught.value)
