"""Repository-wide pytest set-up for re-executing book/ with nbval.

* What nbval compares. The book never shows stderr (``nb_output_stderr: remove`` in
  _config.yml): it holds progress bars, framework start-up logs and warnings whose number
  and wording vary from run to run and from checkout to checkout. nbval therefore compares
  every output except stderr streams; results are never on stderr.
* Where the chapters write, in which order, and when they cannot run (see below).
* How long each phase took: a "time per phase" section at the end, also written as JSON to
  ``$LOSSBOOK_PHASE_TIMES`` (.ci/run prints it with its own set-up and build times).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pytest
from nbval.plugin import IPyNbCell

_compare_outputs = IPyNbCell.compare_outputs


def _without_stderr(outputs):
    return [o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]


def _compare_outputs_but_stderr(self, test, ref, skip_compare=None):
    return _compare_outputs(self, _without_stderr(test), _without_stderr(ref), skip_compare)


IPyNbCell.compare_outputs = _compare_outputs_but_stderr


# -- Re-executing the chapters: where they write, in which order, and when they cannot run --------
#
# nbval re-executes book/<chapter>.ipynb. The chapters write their results and figures
# into $LOSSBOOK_OUTPUT_DIR; during the tests that is a temporary copy of book/results,
# so the test command never writes into book/. The chapters run in book order
# (notebooks/profiles.yml), so claims and appendix read the results this run made.
# A chapter whose data cannot be had here (lossbook.core.data's own lookup), and every
# chapter reading its results, is skipped with the reason; CI sets LOSSBOOK_REQUIRE_DATA=1
# so that a skip there is an error instead.


REPO = Path(__file__).resolve().parent
BOOK = REPO / "book"
_phase_seconds: dict[str, float] = defaultdict(float)
_STARTED_AT = time.time()  # when pytest loaded this file: .ci/run's HTML build time ends here


def _chapter_of(item) -> str | None:
    """The chapter a collected item re-executes, or None for a unit test."""
    path = Path(str(getattr(item, "path", item.fspath)))
    return path.stem if path.suffix == ".ipynb" and path.parent == BOOK else None


def pytest_configure(config):
    folder = Path(tempfile.mkdtemp(prefix="lossbook-nbval-"))
    if (BOOK / "results").is_dir():
        shutil.copytree(BOOK / "results", folder / "results")
    os.environ["LOSSBOOK_OUTPUT_DIR"] = str(folder)
    config._lossbook_output_dir = folder


def pytest_unconfigure(config):
    folder = getattr(config, "_lossbook_output_dir", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_collection_modifyitems(session, config, items):
    chapter_items = [item for item in items if _chapter_of(item)]
    if not chapter_items:
        return
    from lossbook.publish.needs import blocked_chapters
    from lossbook.publish.runner import load_chapters

    order = {name: position for position, name in enumerate(load_chapters())}
    blocked = blocked_chapters()
    if blocked and os.environ.get("LOSSBOOK_REQUIRE_DATA") == "1":
        raise pytest.UsageError(
            "LOSSBOOK_REQUIRE_DATA=1 but these chapters cannot run: "
            + "; ".join(f"{name}: {reason}" for name, reason in blocked.items())
        )
    for item in chapter_items:
        reason = blocked.get(_chapter_of(item))
        if reason:
            item.add_marker(pytest.mark.skip(reason=f"chapter {_chapter_of(item)} not re-executed: {reason}"))
    # Unit tests first, then the chapters in book order (stable: cells keep their order).
    items.sort(key=lambda item: -1 if _chapter_of(item) is None else order.get(_chapter_of(item), len(order)))


#: Test modules timed as phases of their own (they build or run whole books and chapters).
_MODULE_PHASES = {
    "test_browser.py": "browser",
    "test_binder.py": "binder: chapters as Binder runs them",
    "test_newcomer.py": "newcomer (no data, offline)",
    "test_repository_links.py": "HTML builds with faked remotes",
    "test_pdf.py": "PDF checks",
}


def _phase_of(item) -> str:
    chapter = _chapter_of(item)
    if chapter:
        return f"nbval {chapter}"
    name = Path(str(getattr(item, "path", item.fspath))).name
    if name in _MODULE_PHASES:
        return _MODULE_PHASES[name]
    return "browser" if item.get_closest_marker("browser") else "unit tests"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.perf_counter()
    yield
    _phase_seconds[_phase_of(item)] += time.perf_counter() - start


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _phase_seconds:
        return
    terminalreporter.section("time per phase (s)")
    for phase, seconds in _phase_seconds.items():
        terminalreporter.write_line(f"{phase:<40} {seconds:8.1f}")
    target = os.environ.get("LOSSBOOK_PHASE_TIMES")
    if target:
        report = {"started_at": _STARTED_AT, "phases": dict(_phase_seconds)}
        Path(target).write_text(json.dumps(report, indent=1), encoding="utf-8")
