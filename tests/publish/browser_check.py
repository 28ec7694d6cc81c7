"""Open every page of the built book in headless Chromium and report what a reader would see broken.

Used by ``tests/publish/test_browser.py``; also runs on its own::

    python tests/publish/browser_check.py [_build/html] [--screenshots _build/screenshots]

Three checks per page:

* **missing images**: an ``<img>`` that finished loading with ``naturalWidth == 0``
  (or never finished);
* **broken internal links**: an ``<a href>`` to the local server whose file does
  not exist, or whose ``#anchor`` is not an ``id``/``name`` on the target page;
* **console errors**: ``SEVERE`` entries of the browser log. Failed loads of
  *external* resources (CDNs, badges; the CI machine has no internet) are
  reported separately as notes, not failures: they do not depend on this book.

A screenshot of each page is saved as ``<screenshots>/<page>.png``.
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


@functools.lru_cache(maxsize=None)
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


@dataclass
class PageReport:
    page: str
    missing_images: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    external_notes: list[str] = field(default_factory=list)
    screenshot: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.missing_images or self.broken_links or self.console_errors)

    def describe(self) -> str:
        lines = [f"{self.page}:"]
        lines += [f"  missing image: {s}" for s in self.missing_images]
        lines += [f"  broken link: {s}" for s in self.broken_links]
        lines += [f"  console error: {s}" for s in self.console_errors]
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


def check_page(driver, origin: str, html_dir: Path, page: Path, screenshots: Path | None) -> PageReport:
    """Load one page and collect its problems; save its screenshot."""
    report = PageReport(page=page.as_posix())
    driver.get_log("browser")  # drop entries left from the previous page
    driver.get(f"{origin}/{page.as_posix()}")
    driver.set_script_timeout(20)
    report.missing_images = list(driver.execute_async_script(_WAIT_FOR_IMAGES))
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
        else:
            report.console_errors.append(message)
    if screenshots is not None:
        shot = screenshots / (page.as_posix().replace("/", "__").removesuffix(".html") + ".png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(shot))
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
