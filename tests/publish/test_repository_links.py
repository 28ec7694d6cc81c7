"""Repository, issue, edit and Binder links come from the checkout's git remote, at build time.

The book is built twice with ``-W`` into temporary folders, side by side: once with a
faked GitHub ``origin`` (git reads ``GIT_CONFIG_*`` from the environment, so the
checkout is not touched) and once with a remote that is not GitHub.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from lossbook.publish.sphinx_ext import BINDER_QUICK_DIR, git_remote, github_url

REPO = Path(__file__).resolve().parents[2]


def _build(tmp_path: Path, remote: str) -> tuple[str, Path]:
    env = {**os.environ, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "remote.origin.url",
           "GIT_CONFIG_VALUE_0": remote}
    env.pop("LOSSBOOK_REQUIRE_REPOSITORY", None)
    done = subprocess.run(["jupyter-book", "build", "book", "-W", "--path-output", str(tmp_path)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done.stdout + done.stderr, tmp_path / "_build" / "html"


def _links(page: Path) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8")))


@pytest.mark.parametrize("remote, expected", [
    ("https://github.com/someone/lossbook.git", "https://github.com/someone/lossbook"),
    ("git@github.com:someone/lossbook.git", "https://github.com/someone/lossbook"),
    ("ssh://git@github.com/someone/lossbook", "https://github.com/someone/lossbook"),
    ("https://gitlab.com/someone/lossbook.git", None),
    ("/srv/git/lossbook.git", None),
    ("https://github.com/someone", None),
])
def test_github_url_accepts_github_remotes_only(remote, expected):
    assert github_url(remote) == expected


def test_git_remote_reads_the_faked_origin(monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "remote.origin.url")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "git@github.com:someone/lossbook.git")
    assert git_remote(REPO) == "git@github.com:someone/lossbook.git"


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, tuple[str, Path]]:
    """Both builds at once (each is one single-threaded Sphinx process): ``{"github"|"other": (log, html)}``."""
    from concurrent.futures import ThreadPoolExecutor

    remotes = {"github": "git@github.com:someone/lossbook.git", "other": "/srv/git/lossbook.git"}
    with ThreadPoolExecutor(max_workers=len(remotes)) as pool:
        futures = {kind: pool.submit(_build, tmp_path_factory.mktemp(kind), remote) for kind, remote in remotes.items()}
        return {kind: future.result() for kind, future in futures.items()}


@pytest.mark.slow
def test_built_html_links_follow_a_github_remote(builds):
    log, html = builds["github"]
    assert "buttons point at https://github.com/someone/lossbook" in log
    links = _links(html / "dia.html")
    repo = "https://github.com/someone/lossbook"
    assert repo in links
    assert any(link.startswith(f"{repo}/issues/new") for link in links)
    assert f"{repo}/edit/main/notebooks/dia.py" in links  # the chapter's source, not the generated notebook
    assert f"https://mybinder.org/v2/gh/someone/lossbook/main?urlpath=lab/tree/{BINDER_QUICK_DIR}/dia.ipynb" in links
    # A page that is not a chapter notebook has repository links but no launch button.
    assert not any("mybinder.org" in link for link in _links(html / "intro.html"))


@pytest.mark.slow
def test_without_a_github_remote_there_are_no_buttons_and_the_build_says_why(builds):
    log, html = builds["other"]
    assert "no launch, repository, issue or edit buttons" in log and "not a GitHub URL" in log
    links = _links(html / "dia.html")
    assert not any("mybinder.org" in link or "github.com" in link for link in links)
    assert "CC BY 4.0" in (html / "dia.html").read_text(encoding="utf-8")  # the licence footer
