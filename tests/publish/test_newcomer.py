"""A newcomer's clone: README's test command without our data folder and without a network.

The pytest part of README's test command runs in a subprocess with
``LOSSBOOK_DATA_DIR`` pointing at an empty folder, an empty user cache and no
network (a new network namespace where ``unshare`` allows it, else proxies that
refuse every connection). It must pass, report the chapters that need data as
skipped with README's words, and write nothing into ``book/``.

To stay cheap, the subprocess collects the chapters only (``book/``, which holds both
the book and its quick-profile copies) and deselects
those that need neither data nor another chapter's results (synthetic, forum,
whatever :mod:`lossbook.publish.needs` says): they run the same with or without
a data folder, and the main nbval run re-executes them. The unit tests do not
run again either; those needing data skip through the ``data_root`` fixture.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lossbook.core import data as lbdata
from lossbook.publish import needs

REPO = Path(__file__).resolve().parents[2]
BOOK = REPO / "book"


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _offline_prefix() -> list[str]:
    """``unshare --net`` (no interface but a downed loopback) when this process may use it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "--net", "true"], capture_output=True, check=False).returncode == 0:
        return [unshare, "--net"]
    return []


@pytest.mark.slow
def test_readme_test_command_passes_for_a_newcomer_without_data(tmp_path, monkeypatch):
    empty_data, empty_cache = tmp_path / "data", tmp_path / "cache"
    empty_data.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in {"LOSSBOOK_OUTPUT_DIR", "LOSSBOOK_REQUIRE_DATA", "LOSSBOOK_PHASE_TIMES"}}
    env.update(LOSSBOOK_DATA_DIR=str(empty_data), LOSSBOOK_CACHE_DIR=str(empty_cache))
    prefix = _offline_prefix()
    if not prefix:  # no namespace: every HTTP(S) connection goes to a port nobody listens on
        env.update({name: "http://127.0.0.1:9" for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")})

    for key in ("LOSSBOOK_DATA_DIR", "LOSSBOOK_CACHE_DIR"):
        monkeypatch.setenv(key, env[key])
    blocked = needs.blocked_chapters()
    runnable = [name for name in needs.load_chapters() if name not in blocked]
    assert {"dia", "acne", "claims", "appendix"} <= set(blocked)

    before = _snapshot(BOOK)
    command = [*prefix, sys.executable, "-m", "pytest", "book", "-p", "no:cacheprovider"]
    command += [f"--deselect={copy}/{name}.ipynb" for name in runnable for copy in ("book", "book/quick")]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]

    skipped = dict(re.findall(r"SKIPPED \[\d+\] book/(?:quick/)?(\w+)\.ipynb: (.+)", output))
    assert set(skipped) == set(blocked), output[-4000:]
    for dataset in ("dia", "acne"):
        assert skipped[dataset] == (
            f"chapter {dataset} not re-executed: {dataset} data not available: {lbdata.HOW_TO_GET[dataset]}"
        )
    assert "reads the results of" in skipped["claims"] and "reads the results of" in skipped["appendix"]
    assert _snapshot(BOOK) == before, "the test command wrote into book/"
    assert not any(empty_data.iterdir()), "nothing may be downloaded into the data folder"
