"""Results files and the on-disk cache: determinism, atomic writes, staleness, resume."""
from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from lossbook.core import cache as cache_module
from lossbook.core import io as io_module
from lossbook.core.cache import DiskCache, cache_key
from lossbook.core.io import write_json_atomic
from lossbook.publish.results import load_results, save_results


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
    with pytest.warns(cache_module.CacheWarning, match=cache.path({"k": 1}).name):
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


# -- one atomic-write helper --------------------------------------------------

@pytest.mark.parametrize("writer, payload, read", [
    (io_module.write_bytes_atomic, b"\x00\x01", lambda p: p.read_bytes()),
    (io_module.write_text_atomic, "h\u00e9", lambda p: p.read_text(encoding="utf-8")),
    (io_module.write_json_atomic, {"b": 1, "a": [1.5]}, lambda p: json.loads(p.read_text())),
    (io_module.write_pickle_atomic, {"x": np.arange(3)}, lambda p: pickle.loads(p.read_bytes())),
])
def test_atomic_writers_round_trip_and_leave_no_temporary_file(tmp_path, writer, payload, read):
    path = writer(tmp_path / "sub" / "f", payload)
    loaded = read(path)
    if isinstance(payload, dict) and "x" in payload:
        assert np.array_equal(loaded["x"], payload["x"])
    else:
        assert loaded == payload
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["f"]


def test_atomic_target_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = io_module.write_text_atomic(tmp_path / "f.txt", "old")
    with pytest.raises(RuntimeError), io_module.atomic_target(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_no_other_module_writes_files_by_hand():
    """Atomic writes live in core/io only: no module makes its own temporary file and rename."""
    import lossbook

    root = Path(lossbook.__file__).parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "io.py" and any(s in p.read_text() for s in ("mkstemp", "NamedTemporaryFile"))]
    assert offenders == []


# -- cache integrity ----------------------------------------------------------

def _flip_bit(path, position):
    blob = bytearray(path.read_bytes())
    blob[position % len(blob)] ^= 0x10
    path.write_bytes(bytes(blob))


def test_every_flipped_bit_is_detected_and_recomputed_with_a_warning(isolated_cache):
    cache = DiskCache("unit")
    value = {"y_prob": np.linspace(0, 1, 50), "history": [0.5, 0.4], "name": "focal"}
    cache.put({"k": 1}, value)
    path = cache.path({"k": 1})
    good = path.read_bytes()
    for position in range(0, len(good), 7):  # header, checksum and payload bytes alike
        path.write_bytes(good)
        _flip_bit(path, position)
        with pytest.warns(cache_module.CacheWarning, match=path.name):
            assert cache.get_or_compute({"k": 1}, lambda: "fresh") == "fresh"
        assert cache.get({"k": 1}) == "fresh"  # the recomputed value replaced the bad entry


@pytest.mark.parametrize("blob", [b"", b"\x80\x04truncated", cache_module.MAGIC, b"x" * 100])
def test_unsealed_or_truncated_entries_are_misses(isolated_cache, blob):
    cache = DiskCache("unit")
    cache.put({"k": 1}, 1)
    cache.path({"k": 1}).write_bytes(blob)
    with pytest.warns(cache_module.CacheWarning, match="could not be read"):
        assert cache.get({"k": 1}, "missing") == "missing"
    assert not cache.path({"k": 1}).exists()


def test_a_verified_payload_that_fails_to_unpickle_is_a_miss(isolated_cache):
    cache = DiskCache("unit")
    payload = pickle.dumps(1)[:-3] + b"\x93\x94."  # well sealed, but not a valid pickle
    cache.path({"k": 1}).parent.mkdir(parents=True, exist_ok=True)
    cache.path({"k": 1}).write_bytes(cache_module.seal(payload))
    with pytest.warns(cache_module.CacheWarning, match="unpickled"):
        assert cache.get({"k": 1}, "missing") == "missing"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_cache_warns_and_returns_the_result(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    cache = DiskCache("unit", root=folder)
    folder.chmod(0o500)
    try:
        with pytest.warns(cache_module.CacheWarning, match="could not be written"):
            assert cache.get_or_compute({"k": 1}, lambda: 42) == 42
        # and a read-only entry that is corrupt is still not trusted
    finally:
        folder.chmod(0o700)
    assert list(folder.iterdir()) == []


def test_unwritable_cache_warns_and_returns_the_result(isolated_cache, monkeypatch):
    """The same as a read-only folder, for runs as root (which ignores permissions)."""
    def refuse(path, data):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cache_module, "write_bytes_atomic", refuse)
    cache = DiskCache("unit")
    with pytest.warns(cache_module.CacheWarning, match=r"could not be written.*Permission denied"):
        assert cache.get_or_compute({"k": 1}, lambda: [1, 2]) == [1, 2]
    assert cache.misses == 1


def test_cache_key_holds_the_package_source_fingerprint(monkeypatch):
    before = cache_key({"fold": 0})
    monkeypatch.setattr(cache_module, "source_fingerprint", lambda: "edited")
    assert cache_key({"fold": 0}) != before


def test_fingerprint_is_computed_once_per_process():
    cache_module.source_fingerprint.cache_clear()
    cache_key({"a": 1})
    cache_key({"a": 2})
    assert cache_module.source_fingerprint.cache_info().misses == 1


KEY_OF = "from lossbook.core.cache import cache_key; print(cache_key({'fold': 0}))"


def test_editing_computing_code_changes_every_cache_key(tmp_path):
    """End to end: a copy of the package, one byte of one loss edited, a fresh process: a new key;
    an edit to ``publish`` keeps the key."""
    import lossbook

    copy = tmp_path / "src" / "lossbook"
    shutil.copytree(Path(lossbook.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(copy.parent)}

    def key():
        return subprocess.run([sys.executable, "-c", KEY_OF], env=env, capture_output=True, text=True, check=True).stdout

    first, again = key(), key()
    assert first == again  # deterministic across processes
    losses = copy / "core" / "losses.py"
    original = losses.read_text()
    losses.write_text(original + "\n# a comment\n")
    assert key() == first  # comments, docstrings and layout are not code
    losses.write_text(original + "\nEDITED = 1\n")
    assert key() != first
    losses.write_text(original)
    runner = copy / "publish" / "runner.py"
    runner.write_text(runner.read_text() + "\nEDITED = 1\n")
    assert key() == first  # the book's machinery computes no cached result
    assert cache_module.fingerprint_sources(copy) != cache_module.fingerprint_sources(Path(lossbook.__file__).parent)


def test_fingerprint_ignores_docstrings_comments_and_layout_but_not_code(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""Doc."""\ndef f(x):\n    """Doc."""\n    return x + 1\n')
    before = cache_module.fingerprint_sources(tmp_path)
    module.write_text('"""Other doc."""\n\n\ndef f(x):  # a comment\n    """Changed."""\n    return (x + 1)\n')
    assert cache_module.fingerprint_sources(tmp_path) == before
    module.write_text('def f(x):\n    return x + 2\n')
    assert cache_module.fingerprint_sources(tmp_path) != before


def test_content_digest_holds_neither_code_nor_versions(monkeypatch):
    value = {"rows": [3, 1, 2], "seed": 0}
    digest, key = cache_module.content_digest(value), cache_key(value)
    monkeypatch.setattr(cache_module, "source_fingerprint", lambda: "edited")
    monkeypatch.setattr(cache_module, "package_versions", lambda: {"numpy": "0.0"})
    assert cache_module.content_digest(value) == digest  # may feed a seed
    assert cache_key(value) != key  # looks up stored results of this code only
    assert cache_module.content_digest({"seed": 0, "rows": [3, 1, 2]}) == digest  # key order does not matter


def _package_copy(tmp_path) -> Path:
    import lossbook

    copy = tmp_path / "lossbook"
    shutil.copytree(Path(lossbook.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_module_fingerprint_covers_what_it_imports_and_nothing_else(tmp_path):
    copy = _package_copy(tmp_path)
    names = {p.relative_to(copy).as_posix() for p in cache_module.module_closure(["lossbook.studies.dia"], copy)}
    assert {"studies/dia.py", "nets/keras_stack.py", "core/losses.py", "__init__.py", "studies/__init__.py"} <= names
    assert "studies/robustness.py" not in names and not any(name.startswith("publish/") for name in names)
    assert "studies/dia.py" in {p.relative_to(copy).as_posix()
                                for p in cache_module.module_closure(["lossbook.studies.robustness"], copy)}

    def dia_code():
        return cache_module.fingerprint_modules(["lossbook.studies.dia"], copy)

    first = dia_code()
    robustness = copy / "studies" / "robustness.py"
    robustness.write_text(robustness.read_text() + "\nEDITED = 1\n")
    assert dia_code() == first  # a study that reads the DIA cache may change without recomputing it
    trainer = copy / "nets" / "keras_stack.py"
    trainer.write_text(trainer.read_text() + "\nEDITED = 1\n")
    assert dia_code() != first


def test_a_module_that_imports_by_name_is_taken_to_import_its_whole_package(tmp_path):
    copy = _package_copy(tmp_path)
    names = {p.relative_to(copy).as_posix() for p in cache_module.module_closure(["lossbook.studies.chapters"], copy)}
    assert {"studies/robustness.py", "studies/acne.py", "studies/dia.py"} <= names


def test_a_cache_with_code_keys_its_entries_by_that_module(monkeypatch, tmp_path):
    cache = DiskCache("t", tmp_path, code="lossbook.studies.dia")
    before = cache.path({"a": 1})
    monkeypatch.setattr(cache_module, "source_fingerprint", lambda: "another package")
    assert cache.path({"a": 1}) == before
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda module: f"edited {module}")
    assert cache.path({"a": 1}) != before
