r"""Open every page of the built book in headless Chromium and report what a reader would see broken.

Used by ``tests/publish/test_browser.py``; also runs on its own::

    python tests/publish/browser_check.py [_build/html] [--screenshots _build/screenshots]

Checks per page, each a failure when it finds something:

* **missing images**: an ``<img>`` that finished loading with ``naturalWidth == 0``
  (or never finished);
* **broken internal links**: an ``<a href>`` to the local server whose file does
  not exist, or whose ``#anchor`` is not an ``id``/``name`` on the target page;
* **console errors**: ``SEVERE`` entries of the browser log;
* **outside resources**: anything the page loads (script, style, font, image,
  frame) from outside the book's own server: the book must read offline;
* **raw TeX**: a formula MathJax did not typeset (a ``.math`` element without
  MathJax's output inside, or ``\(``, ``\[``, ``$$`` in the visible text);
* **sideways scroll**: the window, the article, or a table, output, code block,
  figure or formula in it is wider than the room it has at 1280 px;
* **visible bookkeeping code**: a code cell shown on the page whose code
  imports, glues or saves results (those cells are removed from the page);
* **caption contrast**: a figure or table caption below WCAG AA (4.5:1).

A full-page screenshot of each page is saved as ``<screenshots>/<page>.png``.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import shutil
import sys
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMEDRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")

#: Flags for a reproducible, offline, sandbox-free headless run (CI runs as root in a container).
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1600", "--hide-scrollbars",
)

#: Folders of a Sphinx build that hold assets, not pages.
ASSET_DIRS = ("_static", "_sources", "_images", "_downloads", "_panels_static")


def find_executable(candidates, env_var: str) -> str | None:
    """First existing executable among ``$env_var`` and ``candidates`` (None if none)."""
    for path in (os.environ.get(env_var), *candidates):
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    return None


def list_pages(html_dir: Path) -> list[Path]:
    """HTML pages of the build (relative paths, sorted), assets folders excluded."""
    html_dir = Path(html_dir)
    pages = []
    for path in sorted(html_dir.rglob("*.html")):
        rel = path.relative_to(html_dir)
        if rel.parts[0] in ASSET_DIRS:
            continue
        pages.append(rel)
    return pages


class _AnchorCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.anchors: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" or (name == "name" and tag == "a"):
                if value:
                    self.anchors.add(value)


@functools.cache
def page_anchors(path: Path) -> frozenset[str]:
    """Every ``id`` (and ``<a name>``) in an HTML file."""
    parser = _AnchorCollector()
    parser.feed(Path(path).read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.anchors)


def internal_link_problem(href: str, html_dir: Path, origin: str) -> str | None:
    """Why an absolute ``href`` on the local server is broken, or None if fine (or not internal).

    ``origin`` is the server's ``scheme://host:port``. A link is broken when its
    file does not exist under ``html_dir`` or its fragment names no element of
    the target page.
    """
    parts = urlsplit(href)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return None
    rel = unquote(parts.path).lstrip("/")
    target = Path(html_dir) / rel
    if rel == "" or rel.endswith("/"):
        target = target / "index.html"
    if not target.is_file():
        return f"missing file {rel or '/'}"
    fragment = unquote(parts.fragment)
    if fragment and target.suffix == ".html" and fragment not in page_anchors(target.resolve()):
        return f"no anchor #{fragment} in {target.relative_to(html_dir)}"
    return None


_URL_IN_MESSAGE = re.compile(r"(https?://[^\s\"']+)")


def classify_console_entry(message: str, origin: str) -> str:
    """``"external"`` if a log message is a failed load of a resource off the local server, else ``"local"``."""
    match = _URL_IN_MESSAGE.search(message)
    if match and not match.group(1).startswith(origin):
        return "external"
    return "local"


#: Code a reader should never see on the page: imports, glue calls, saving results, seeding.
BOOKKEEPING_CODE = re.compile(
    r"^\s*(import\s+\w|from\s+[\w.]+\s+import\s|glue\(|(\w+\s*=\s*)?save_results\(|seed_everything\()",
    re.MULTILINE)
#: TeX a reader should never see: MathJax's delimiters left in the text.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$")
#: WCAG 2.1 AA contrast for normal-size text.
MIN_CONTRAST = 4.5


def relative_luminance(rgb) -> float:
    """WCAG relative luminance of an sRGB colour given as 0-255 components."""
    def channel(c):
        c = c / 255.0
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(float(c)) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground, background) -> float:
    """WCAG contrast ratio (1 to 21) of two sRGB colours."""
    high, low = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def is_outside(url: str, origin: str) -> bool:
    """True when the page loaded ``url`` from anywhere but the book's own server (data: and blob: are inline)."""
    return not (url.startswith(origin) or url.startswith(("data:", "blob:", "about:")))


@dataclass
class PageReport:
    page: str
    missing_images: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    outside_resources: list[str] = field(default_factory=list)
    raw_tex: list[str] = field(default_factory=list)
    sideways_scroll: list[str] = field(default_factory=list)
    visible_bookkeeping: list[str] = field(default_factory=list)
    low_contrast_captions: list[str] = field(default_factory=list)
    external_notes: list[str] = field(default_factory=list)
    math_total: int = 0
    math_typeset: int = 0
    screenshot: str | None = None

    PROBLEMS = ("missing_images", "broken_links", "console_errors", "outside_resources", "raw_tex",
                "sideways_scroll", "visible_bookkeeping", "low_contrast_captions")

    @property
    def ok(self) -> bool:
        return not any(getattr(self, name) for name in self.PROBLEMS)

    def describe(self) -> str:
        lines = [f"{self.page}:"]
        for name in self.PROBLEMS:
            lines += [f"  {name.replace('_', ' ')}: {s}" for s in getattr(self, name)]
        return "\n".join(lines)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


class LocalServer:
    """Serve a folder on 127.0.0.1 (a free port) in a daemon thread; use as a context manager."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def make_driver(chromium: str, chromedriver: str, profile_dir: Path):
    """A headless Chromium WebDriver with browser console logging on and a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(60)
    return driver


_WAIT_FOR_IMAGES = """
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.images);
imgs.forEach(i => { i.loading = 'eager'; });
const pending = imgs.filter(i => !i.complete).map(i => new Promise(r => { i.onload = r; i.onerror = r; }));
Promise.race([Promise.all(pending), new Promise(r => setTimeout(r, 10000))]).then(() => done(
  imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src') || '(no src)')));
"""


_WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const mj = window.MathJax;
const ready = mj && mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve();
Promise.race([ready, new Promise(r => setTimeout(r, 15000))]).then(() => done(!!(mj && mj.startup)));
"""

_INSPECT = """
const origin = arguments[0];
// checkVisibility also sees through closed <details> (the "show code" toggles) and content-visibility
const visible = e => !!e && (e.checkVisibility ? e.checkVisibility({checkVisibilityCSS: true})
    : e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden');
const describe = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).slice(0, 2).join('.') : '') +
    ' "' + (e.innerText || '').trim().slice(0, 60).replace(/\\s+/g, ' ') + '"';
const out = {resources: [], math_total: 0, math_typeset: 0, untypeset: [], text: '', scroll: [], code: [], captions: []};
performance.getEntriesByType('resource').forEach(r => out.resources.push(r.name));
document.querySelectorAll('script[src], link[href][rel~="stylesheet"], img[src], iframe[src]').forEach(e =>
    out.resources.push(e.src || e.href));
const article = document.querySelector('article.bd-article') || document.body;
article.querySelectorAll('.math').forEach(m => {
    out.math_total += 1;
    if (m.querySelector('mjx-container') || m.tagName.toLowerCase() === 'mjx-container') out.math_typeset += 1;
    else out.untypeset.push((m.textContent || '').trim().slice(0, 80));
});
const clone = article.cloneNode(true);
clone.querySelectorAll('pre, code, script, style, mjx-assistive-mml').forEach(e => e.remove());
out.text = clone.textContent || '';
const root = document.scrollingElement;
if (root.scrollWidth > window.innerWidth + 1) out.scroll.push('the window: ' + root.scrollWidth + ' px wide');
const candidates = [article, ...article.querySelectorAll(
    '.pst-scrollable-table-container, table, .cell_output, .output, div.highlight, pre, figure, img, mjx-container')];
const right = article.getBoundingClientRect().right;
candidates.forEach(e => {
    if (!visible(e)) return;
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
        out.scroll.push(describe(e) + ': content ' + e.scrollWidth + ' px in ' + e.clientWidth + ' px');
    else if (e.getBoundingClientRect().right > right + 1)
        out.scroll.push(describe(e) + ': sticks out of the text column');
});
document.querySelectorAll('.cell_input, div.cell > .highlight').forEach(e => {
    if (visible(e)) out.code.push(e.innerText || '');
});
const background = e => {
    for (let n = e; n; n = n.parentElement) {
        const c = getComputedStyle(n).backgroundColor;
        const m = c.match(/[0-9.]+/g);
        if (m && (m.length < 4 || parseFloat(m[3]) > 0)) return m.slice(0, 3).map(Number);
    }
    return [255, 255, 255];
};
document.querySelectorAll('figcaption, table > caption').forEach(e => {
    if (!visible(e)) return;
    const target = e.querySelector('.caption-text') || e;
    const fg = (getComputedStyle(target).color.match(/[0-9.]+/g) || [0, 0, 0]).slice(0, 3).map(Number);
    out.captions.push({text: (target.innerText || '').trim().slice(0, 60), fg: fg, bg: background(target)});
});
return out;
"""


def _full_page_screenshot(driver, path: Path, max_height: int = 16000) -> None:
    """The whole page at the window's width: the window is made as tall as the page, then restored.

    (Chromium's capture-beyond-viewport re-lays the page out without its sidebar; a tall window does not.)
    """
    size = driver.get_window_size()
    height = int(driver.execute_script(
        "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);"))
    try:
        driver.set_window_size(size["width"], min(max(height, size["height"]), max_height))
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(size["width"], size["height"])


def inspect_page(driver, origin: str, report: PageReport) -> None:
    """The reader-facing checks (outside resources, raw TeX, sideways scroll, code, captions) into ``report``."""
    driver.execute_async_script(_WAIT_FOR_MATHJAX)
    found = driver.execute_script(_INSPECT, origin)
    report.outside_resources = sorted({url for url in found["resources"] if url and is_outside(url, origin)})
    report.math_total, report.math_typeset = int(found["math_total"]), int(found["math_typeset"])
    report.raw_tex = [f"not typeset: {t}" for t in found["untypeset"]]
    for match in RAW_TEX.finditer(found["text"]):
        start = max(0, match.start() - 30)
        report.raw_tex.append("in the text: ..." + found["text"][start:match.end() + 30].replace("\n", " ") + "...")
    report.sideways_scroll = list(found["scroll"])
    for code in found["code"]:
        lines = [line.strip() for line in code.splitlines() if BOOKKEEPING_CODE.match(line)]
        if lines:
            report.visible_bookkeeping.append("; ".join(lines[:3]))
    for caption in found["captions"]:
        ratio = contrast_ratio(caption["fg"], caption["bg"])
        if ratio < MIN_CONTRAST:
            report.low_contrast_captions.append(f"{caption['text']!r}: contrast {ratio:.2f} < {MIN_CONTRAST}")


def check_page(driver, origin: str, html_dir: Path, page: Path, screenshots: Path | None) -> PageReport:
    """Load one page and collect its problems; save its full-page screenshot."""
    report = PageReport(page=page.as_posix())
    driver.get_log("browser")  # drop entries left from the previous page
    driver.get(f"{origin}/{page.as_posix()}")
    driver.set_script_timeout(30)
    report.missing_images = list(driver.execute_async_script(_WAIT_FOR_IMAGES))
    inspect_page(driver, origin, report)
    hrefs = driver.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);")
    seen = set()
    for href in hrefs:
        if href in seen:
            continue
        seen.add(href)
        problem = internal_link_problem(href, html_dir, origin)
        if problem:
            report.broken_links.append(f"{href} ({problem})")
    for entry in driver.get_log("browser"):
        if entry.get("level") != "SEVERE":
            continue
        message = entry.get("message", "")
        if f"{origin}/favicon.ico" in message:
            continue  # Chromium asks for it on its own; no page of the book links to it
        if classify_console_entry(message, origin) == "external":
            report.external_notes.append(message)
            url = _URL_IN_MESSAGE.search(message).group(1)
            if url not in report.outside_resources:
                report.outside_resources.append(url)  # a failed load from outside the book is a failure too
        else:
            report.console_errors.append(message)
    if screenshots is not None:
        shot = screenshots / (page.as_posix().replace("/", "__").removesuffix(".html") + ".png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        _full_page_screenshot(driver, shot)
        report.screenshot = str(shot)
    return report


def check_book(html_dir: Path, screenshots: Path | None, chromium: str, chromedriver: str,
               profile_dir: Path) -> list[PageReport]:
    """Check every page of ``html_dir``; returns one report per page."""
    html_dir = Path(html_dir).resolve()
    pages = list_pages(html_dir)
    if not pages:
        raise FileNotFoundError(f"{html_dir}: no HTML pages; build the book first")
    reports = []
    with LocalServer(html_dir) as server:
        driver = make_driver(chromium, chromedriver, profile_dir)
        try:
            for page in pages:
                reports.append(check_page(driver, server.origin, html_dir, page, screenshots))
        finally:
            driver.quit()
    return reports


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", nargs="?", default="_build/html")
    parser.add_argument("--screenshots", default="_build/screenshots")
    args = parser.parse_args(argv)
    chromium = find_executable(CHROMIUM_CANDIDATES, "LOSSBOOK_CHROMIUM")
    chromedriver = find_executable(CHROMEDRIVER_CANDIDATES, "LOSSBOOK_CHROMEDRIVER")
    if not (chromium and chromedriver):
        print("chromium/chromedriver not found (apt-get install chromium chromium-driver)", file=sys.stderr)
        return 2
    import tempfile

    profile = Path(tempfile.mkdtemp(prefix="lossbook-chromium-"))
    try:
        reports = check_book(Path(args.html_dir), Path(args.screenshots), chromium, chromedriver, profile)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    bad = [r for r in reports if not r.ok]
    for r in reports:
        print(("FAIL " if not r.ok else "ok   ") + r.page)
        for note in r.external_notes:
            print(f"     note (external): {note}")
    for r in bad:
        print(r.describe())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
