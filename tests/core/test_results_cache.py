"""Results files and the on-disk cache: determinism, atomic writes, staleness, resume."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from lossbook.core import cache as cache_module
from lossbook.core.cache import DiskCache, cache_key
from lossbook.publish.results import load_results, save_results
from lossbook.core.io import write_json_atomic


def test_results_file_is_deterministic_and_plain_json(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_OUTPUT_DIR", str(tmp_path))
    payload = {"auc": np.float64(0.75), "n": np.int64(3), "bad": float("nan"), "arr": np.arange(2)}
    first = save_results("demo", payload, parameters={"seed": 1}, data_checksums={"f.csv": "abc"})
    text = first.read_bytes()
    save_results("demo", payload, parameters={"seed": 1}, data_checksums={"f.csv": "abc"})
    assert first.read_bytes() == text
    loaded = load_results("demo")
    assert loaded["results"] == {"auc": 0.75, "n": 3, "bad": None, "arr": [0, 1]}
    assert loaded["versions"]["numpy"] == np.__version__


def test_failed_write_leaves_previous_file_intact(tmp_path):
    path = write_json_atomic(tmp_path / "r.json", {"a": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_missing_results_file_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m lossbook run nothing"):
        load_results("nothing", tmp_path)


def test_cache_computes_once_and_recomputes_when_any_input_changes(isolated_cache):
    calls = []
    cache = DiskCache("unit")

    def compute():
        calls.append(1)
        return {"value": len(calls)}

    spec = {"model": "mlp", "loss": "focal", "gamma": 2.0, "fold": 3, "data": "sha"}
    assert cache.get_or_compute(spec, compute) == {"value": 1}
    assert cache.get_or_compute(dict(spec), compute) == {"value": 1}
    assert cache.get_or_compute({**spec, "gamma": 2.5}, compute) == {"value": 2}
    assert cache.get_or_compute({**spec, "data": "other"}, compute) == {"value": 3}
    assert (cache.hits, cache.misses) == (1, 3)


def test_cache_key_changes_with_package_versions(monkeypatch):
    spec = {"fold": 0}
    before = cache_key(spec)
    monkeypatch.setattr(cache_module, "package_versions", lambda: {"keras": "99.0"})
    assert cache_key(spec) != before


def test_corrupt_entry_is_discarded_and_recomputed(isolated_cache):
    cache = DiskCache("unit")
    cache.put({"k": 1}, [1, 2, 3])
    cache.path({"k": 1}).write_bytes(b"\x80\x04truncated")
    assert cache.get_or_compute({"k": 1}, lambda: "fresh") == "fresh"


WORKER = textwrap.dedent(
    """
    import json, sys, time
    from lossbook.core.cache import DiskCache
    cache = DiskCache("resume")
    out = []
    for i in range(6):
        def compute(i=i):
            time.sleep(0.4)
            return i * i
        out.append(cache.get_or_compute({"item": i}, compute))
    print(json.dumps({"values": out, "misses": cache.misses}))
    """
)


def _cache_entries(folder):
    return [p for p in folder.glob("*.pkl")] if folder.is_dir() else []


def test_killed_run_resumes_without_recomputing_and_matches_uninterrupted(tmp_path):
    env = {**os.environ, "LOSSBOOK_CACHE_DIR": str(tmp_path / "interrupted")}
    proc = subprocess.Popen([sys.executable, "-c", WORKER], env=env, stdout=subprocess.PIPE)
    folder = tmp_path / "interrupted" / "resume"
    deadline = time.time() + 60
    while len(_cache_entries(folder)) < 3 and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(_cache_entries(folder))
    assert 3 <= finished < 6
    resumed = json.loads(subprocess.run([sys.executable, "-c", WORKER], env=env, capture_output=True,
                                        check=True, text=True).stdout)
    assert resumed["misses"] == 6 - finished
    clean_env = {**os.environ, "LOSSBOOK_CACHE_DIR": str(tmp_path / "clean")}
    clean = json.loads(subprocess.run([sys.executable, "-c", WORKER], env=clean_env, capture_output=True,
                                      check=True, text=True).stdout)
    assert resumed["values"] == clean["values"] and clean["misses"] == 6
