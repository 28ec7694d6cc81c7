"""The book as a reader sees it: every page opened in headless Chromium.

CI builds the book (``jupyter-book build book -W``) before pytest; this test
builds it only when ``_build/html`` is missing (``$LOSSBOOK_HTML_DIR`` points
elsewhere). Screenshots go to ``_build/screenshots/`` (a CI artifact). Without
Chromium the browser tests skip and say why; CI installs ``chromium`` and
``chromium-driver``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from browser_check import (
    BOOKKEEPING_CODE,
    CHROMEDRIVER_CANDIDATES,
    CHROMIUM_CANDIDATES,
    MIN_CONTRAST,
    check_book,
    classify_console_entry,
    contrast_ratio,
    find_executable,
    internal_link_problem,
    list_pages,
)

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "http://127.0.0.1:8000"


# --- the checker's rules, without a browser ---------------------------------------------------

@pytest.fixture
def tiny_site(tmp_path):
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "theme.html").write_text("<p>asset</p>")
    (tmp_path / "index.html").write_text('<h1 id="top">home</h1><a name="old">x</a>')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "index.html").write_text('<p id="here">sub</p>')
    (tmp_path / "img.png").write_bytes(b"")
    return tmp_path


def test_list_pages_skips_asset_folders(tiny_site):
    assert [p.as_posix() for p in list_pages(tiny_site)] == ["index.html", "sub/index.html"]


@pytest.mark.parametrize("href, problem", [
    (f"{ORIGIN}/index.html", None),
    (f"{ORIGIN}/index.html#top", None),
    (f"{ORIGIN}/index.html#old", None),
    (f"{ORIGIN}/sub/", None),
    (f"{ORIGIN}/sub/#here", None),
    (f"{ORIGIN}/img.png", None),
    (f"{ORIGIN}/missing.html", "missing file missing.html"),
    (f"{ORIGIN}/index.html#nowhere", "no anchor #nowhere in index.html"),
    (f"{ORIGIN}/sub/#top", "no anchor #top in sub/index.html"),
    ("https://doi.org/10.1613/jair.953", None),  # external: not checked offline
    ("http://127.0.0.1:9999/missing.html", None),  # another origin is external too
])
def test_internal_link_rules(tiny_site, href, problem):
    assert internal_link_problem(href, tiny_site, ORIGIN) == problem


def test_console_entries_from_other_origins_are_external():
    assert classify_console_entry(
        "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js - Failed to load resource", ORIGIN
    ) == "external"
    assert classify_console_entry(f"{ORIGIN}/_images/x.png - Failed to load resource: 404", ORIGIN) == "local"
    assert classify_console_entry("Uncaught TypeError: x is undefined", ORIGIN) == "local"


# --- the browser ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    chromium = find_executable(CHROMIUM_CANDIDATES, "LOSSBOOK_CHROMIUM")
    chromedriver = find_executable(CHROMEDRIVER_CANDIDATES, "LOSSBOOK_CHROMEDRIVER")
    if not (chromium and chromedriver):
        pytest.skip("headless Chromium not installed: apt-get install -y chromium chromium-driver "
                    "(CI installs them in .ci/run)")
    pytest.importorskip("selenium")
    return chromium, chromedriver


@pytest.fixture(scope="module")
def html_dir() -> Path:
    """The built book; built here (with -W) only if it is missing."""
    folder = Path(os.environ.get("LOSSBOOK_HTML_DIR", REPO / "_build" / "html"))
    if not (folder / "index.html").is_file():
        done = subprocess.run(
            [str(Path(sys.executable).with_name("jupyter-book")), "build", "book", "-W",
             "--path-output", str(folder.parent.parent)],
            cwd=REPO, capture_output=True, text=True)
        assert done.returncode == 0, f"jupyter-book build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return folder


def test_contrast_ratio_follows_wcag():
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio((118, 118, 118), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)  # #767676 passes AA
    assert contrast_ratio((153, 153, 153), (255, 255, 255)) < MIN_CONTRAST  # #999 does not


@pytest.mark.parametrize("code, bookkeeping", [
    ("import numpy as np", True), ("from myst_nb import glue", True), ('glue("x", 1, display=False)', True),
    ('results_file = save_results("x", {})', True), ("seed_everything(0)", True),
    ("table = compare(a, b)\ntable", False), ("# import nothing here\nx = 1", False),
])
def test_bookkeeping_code_pattern(code, bookkeeping):
    assert bool(BOOKKEEPING_CODE.search(code)) is bookkeeping


@pytest.mark.browser
def test_checker_catches_each_kind_of_problem(browser, tmp_path):
    """A deliberately broken page must fail every check (so the book test can fail)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "ok.html").write_text('<html><body><p id="a">fine</p></body></html>')
    (site / "bad.html").write_text(
        '<html><body><article class="bd-article" style="width:600px"><img src="_images/nothere.png">'
        '<a href="gone.html">gone</a><a href="ok.html#b">no anchor</a><a href="ok.html#a">fine</a>'
        '<img src="http://outside.invalid/logo.png">'
        '<p>A formula left as \\(p_t = p\\) and <span class="math">\\(x\\)</span>.</p>'
        '<div class="highlight" style="overflow-x:auto"><pre>' + "x" * 400 + '</pre></div>'
        '<div class="cell_input"><pre>import numpy as np\nglue("n", 3, display=False)</pre></div>'
        '<figure><img src="ok.png"><figcaption style="color:#aaaaaa">grey caption</figcaption></figure>'
        "<script>console.error('deliberate failure')</script></article></body></html>")
    (site / "ok.png").write_bytes(_PNG_1PX)
    reports = {r.page: r for r in check_book(site, tmp_path / "shots", *browser, tmp_path / "profile")}
    assert reports["ok.html"].ok, reports["ok.html"].describe()
    bad = reports["bad.html"]
    assert not bad.ok
    assert "_images/nothere.png" in bad.missing_images
    assert len(bad.broken_links) == 2 and "missing file gone.html" in bad.broken_links[0]
    assert "no anchor #b in ok.html" in bad.broken_links[1]
    assert any("deliberate failure" in e for e in bad.console_errors)
    assert bad.outside_resources == ["http://outside.invalid/logo.png"]
    assert any("not typeset" in t for t in bad.raw_tex) and any("p_t = p" in t for t in bad.raw_tex)
    assert bad.math_total == 1 and bad.math_typeset == 0
    assert any("div.highlight" in s for s in bad.sideways_scroll)
    assert bad.visible_bookkeeping and "import numpy" in bad.visible_bookkeeping[0]
    assert bad.low_contrast_captions and "grey caption" in bad.low_contrast_captions[0]
    assert (tmp_path / "shots" / "bad.png").stat().st_size > 0


_PNG_1PX = bytes.fromhex(  # a valid 1x1 white PNG
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c63f80f040009fb03fdfb5e6b2b0000000049454e44ae426082")


@pytest.mark.browser
def test_every_page_of_the_book(browser, html_dir, tmp_path):
    """Every page reads as a paper offline: nothing missing or broken, nothing loaded from outside the book,
    no raw TeX, nothing wider than the text column at 1280 px, no bookkeeping code in sight, readable
    captions. A full-page screenshot of each page goes to _build/screenshots (a CI artifact)."""
    shots = html_dir.parent / "screenshots"
    reports = check_book(html_dir, shots, *browser, tmp_path / "profile")
    pages = {r.page for r in reports}
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    missing = [f for f in files if f"{f}.html" not in pages]
    assert not missing, f"pages in _toc.yml but not in {html_dir}: {missing} (stale build?)"
    for r in reports:
        assert r.screenshot and Path(r.screenshot).stat().st_size > 0, r.page
    # the formulas are typeset by the MathJax shipped with the book (the losses page has dozens)
    losses = next(r for r in reports if r.page == "losses.html")
    assert losses.math_total >= 20 and losses.math_typeset == losses.math_total, (losses.math_typeset,
                                                                                   losses.math_total)
    bad = [r.describe() for r in reports if not r.ok]
    assert not bad, "problems a reader would see:\n" + "\n".join(bad)
