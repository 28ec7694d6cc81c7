"""Kill a chapter part-way with a signal; the next run resumes from the fold cache.

Runs a deliberately small DIA grid through the real runner three times: one run
killed (SIGKILL to its whole process group, kernel included) after its first
fold models reached the cache, one resumed run on the same cache, and one
uninterrupted run on an empty cache.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from lossbook.core.cache import unseal

SMALL_GRID = [
    "models=[mlp]", "losses=[bce, focal]", "n_splits=3", "n_repeats=1", "max_epochs=4",
    "patience=2", "run_variants=false", "n_refits=1", "n_boot=100",
]


def _command(out: Path) -> list[str]:
    args = [sys.executable, "-m", "lossbook", "run", "dia", "--output-dir", str(out)]
    for item in SMALL_GRID:
        args += ["-p", item]
    return args


def _env(cache: Path) -> dict:
    return {**os.environ, "LOSSBOOK_CACHE_DIR": str(cache)}


def _entries(cache: Path) -> dict[str, int]:
    folder = cache / "dia-folds"
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.pkl")} if folder.is_dir() else {}


def test_killed_chapter_resumes_from_cache_and_matches_an_uninterrupted_run(data_root, tmp_path):
    cache = tmp_path / "cache"
    proc = subprocess.Popen(_command(tmp_path / "killed"), env=_env(cache), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while len(_entries(cache)) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _entries(cache)
    assert len(before) >= 3, "no fold reached the cache before the kill"
    assert not (tmp_path / "killed" / "dia.ipynb").exists()  # nothing half-written was published
    # Atomic writes: every entry under its final name is whole. A SIGKILL mid-write can leave the
    # writer's hidden temporary file (a killed process cannot remove it); it is never read as an entry.
    for entry in (cache / "dia-folds").glob("*.pkl"):
        unseal(entry.read_bytes())  # CorruptEntry for a partial entry
    assert all(p.name.startswith(".") for p in cache.rglob("*.tmp"))

    subprocess.run(_command(tmp_path / "resumed"), env=_env(cache), check=True, capture_output=True)
    after = _entries(cache)
    assert {name: after[name] for name in before} == before  # finished folds were not recomputed
    assert len(after) > len(before)

    subprocess.run(_command(tmp_path / "clean"), env=_env(tmp_path / "fresh"), check=True, capture_output=True)
    resumed = (tmp_path / "resumed" / "results" / "dia.json").read_bytes()
    assert resumed == (tmp_path / "clean" / "results" / "dia.json").read_bytes()
