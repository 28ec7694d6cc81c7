"""Binder: the quick-profile copies the launch buttons open, and each chapter run as Binder would.

Each chapter's copy runs in a fresh kernel, in a subprocess, with binder/start's
environment and an empty cache (a Binder session starts cold); the kernel's peak
resident memory must stay under Binder's 2 GB.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from lossbook.core import data as lbdata
from lossbook.publish import binder, needs
from lossbook.publish.runner import load_chapters

REPO = Path(__file__).resolve().parents[2]
BINDER_MEMORY_BYTES = 2 * 1000**3
CHAPTERS = list(load_chapters(REPO))


def test_quick_copies_carry_the_quick_profile_parameters(tmp_path):
    written = binder.write_quick_notebooks(tmp_path, REPO)
    assert [p.stem for p in written] == CHAPTERS
    for name, chapter in load_chapters(REPO).items():
        notebook = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
        injected = [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
        quick = chapter.parameters("quick")
        if not quick:
            assert not injected
            continue
        assert len(injected) == 1
        assigned = {node.targets[0].id: ast.literal_eval(node.value)
                    for node in ast.parse(injected[0].source).body if isinstance(node, ast.Assign)}
        assert {k: assigned[k] for k in quick} == quick
        tags = [c.metadata.get("tags", []) for c in notebook.cells]
        assert tags.index(["injected-parameters"]) == tags.index(["parameters"]) + 1


def test_binder_start_exports_an_output_folder_outside_book():
    exported = binder.binder_environment(REPO)
    assert Path(exported["LOSSBOOK_OUTPUT_DIR"]) == REPO / "_build" / "binder"


def _run_as_binder(name: str, env: dict) -> dict:
    done = subprocess.run([sys.executable, "-m", "lossbook.publish.binder", "run", name], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=1500, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


ACNE_CHAPTERS = [name for name, chapter in load_chapters(REPO).items() if "acne" in needs.chapter_datasets(chapter)]


@pytest.mark.parametrize("name", ACNE_CHAPTERS)
def test_without_acne_images_a_chapter_stops_with_how_to_get_them_not_a_traceback(name, data_root, tmp_path):
    """As on Binder: DIA is there (downloaded), the acne images are not."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "dia").symlink_to(data_root / "dia")
    env = {**os.environ, "LOSSBOOK_DATA_DIR": str(tmp_path / "data"), "LOSSBOOK_CACHE_DIR": str(tmp_path / "cache")}
    report = _run_as_binder(name, env)
    assert report["stopped_for_data"] == f"This chapter stops here. acne data not available: {lbdata.HOW_TO_GET['acne']}"


@pytest.mark.slow
@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_runs_as_on_binder_within_two_gigabytes(name, data_root, tmp_path_factory):
    cache = tmp_path_factory.getbasetemp() / "binder-cache"  # one cold cache for the whole session, as on Binder
    env = {**os.environ, "LOSSBOOK_DATA_DIR": str(data_root), "LOSSBOOK_CACHE_DIR": str(cache)}
    report = _run_as_binder(name, env)
    print(f"binder {name}: {report['seconds']} s, peak {report['peak_rss_bytes'] / 1e9:.2f} GB")
    assert report["stopped_for_data"] is None
    assert report["peak_rss_bytes"] < BINDER_MEMORY_BYTES
