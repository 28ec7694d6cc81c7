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

# TensorFlow reads this once, at import, and turns oneDNN on by itself only on CPUs with
# AVX-512-class features; without oneDNN its CPU kernels cannot differentiate the grouped
# convolution that trains the DIA chapter's CNNs many at once. Set here, before any test or
# nbval kernel imports TensorFlow (kernels inherit the environment).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

_compare_outputs = IPyNbCell.compare_outputs


def _without_stderr(outputs):
    return [o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]


def _compare_outputs_but_stderr(self, test, ref, skip_compare=None):
    return _compare_outputs(self, _without_stderr(test), _without_stderr(ref), skip_compare)


IPyNbCell.compare_outputs = _compare_outputs_but_stderr


# -- Re-executing the chapters: which copy, where they write, in which order, when they cannot run --
#
# nbval re-executes, per chapter, either the full book (book/<chapter>.ipynb) or its quick
# profile (book/quick/<chapter>.ipynb): lossbook.publish.reexecution decides which
# (the full one whenever the committed full outputs may not come from the sources checked
# out) and the other copy is deselected; the summary says which ran and why. The chapters
# write their results and figures into $LOSSBOOK_OUTPUT_DIR; during the tests that is a
# temporary copy of the profile's results, so the test command never writes into the
# repository. The chapters run in book order (notebooks/profiles.yml), so claims and
# appendix read the results this run made. A chapter whose data cannot be had here
# (lossbook.core.data's own lookup), and every chapter reading its results, is skipped with
# the reason; CI sets LOSSBOOK_REQUIRE_DATA=1 so that a skip there is an error instead.


REPO = Path(__file__).resolve().parent
BOOK = REPO / "book"
QUICK = BOOK / "quick"
_FOLDERS = {BOOK: "full", QUICK: "quick"}
_phase_seconds: dict[str, float] = defaultdict(float)
_STARTED_AT = time.time()  # when pytest loaded this file: .ci/run's HTML build time ends here
_plan: dict[str, tuple[str, str]] = {}


def _location(item) -> tuple[str, str] | None:
    """(chapter, profile) a collected item re-executes, or None for a unit test."""
    path = Path(str(getattr(item, "path", item.fspath)))
    profile = _FOLDERS.get(path.parent)
    return (path.stem, profile) if path.suffix == ".ipynb" and profile else None


def _chapter_of(item) -> str | None:
    location = _location(item)
    return location[0] if location else None


def pytest_configure(config):
    folder = Path(tempfile.mkdtemp(prefix="lossbook-nbval-"))
    for source, profile in _FOLDERS.items():
        (folder / profile).mkdir()
        if (source / "results").is_dir():
            shutil.copytree(source / "results", folder / profile / "results")
    os.environ["LOSSBOOK_OUTPUT_DIR"] = str(folder / "full")  # unit tests never write into book/ either
    config._lossbook_output_dir = folder


def pytest_unconfigure(config):
    folder = getattr(config, "_lossbook_output_dir", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_setup(item):
    location = _location(item)
    if location:  # before nbval starts the notebook's kernel, which inherits the environment
        os.environ["LOSSBOOK_OUTPUT_DIR"] = str(item.config._lossbook_output_dir / location[1])
    yield


def pytest_collection_modifyitems(session, config, items):
    chapter_items = [item for item in items if _chapter_of(item)]
    if not chapter_items:
        return
    from lossbook.publish.needs import blocked_chapters
    from lossbook.publish.reexecution import plan
    from lossbook.publish.runner import load_chapters

    order = {name: position for position, name in enumerate(load_chapters())}
    planned = plan()
    collected = {_location(item) for item in chapter_items}
    # the copy the plan does not pick, where it picks one that was collected (`pytest book/dia.ipynb` runs it)
    other = [item for item in chapter_items
             if (name := _chapter_of(item)) in planned and _location(item)[1] != planned[name][0]
             and (name, planned[name][0]) in collected]
    if other:
        config.hook.pytest_deselected(items=other)
        dropped = set(other)
        items[:] = [item for item in items if item not in dropped]
    for name, profile in sorted({_location(item) for item in items if _chapter_of(item) in planned},
                                key=lambda location: order[location[0]]):
        _plan[name] = (profile, planned[name][1] if planned[name][0] == profile else "the only copy collected")
    blocked = blocked_chapters()
    if blocked and os.environ.get("LOSSBOOK_REQUIRE_DATA") == "1":
        raise pytest.UsageError(
            "LOSSBOOK_REQUIRE_DATA=1 but these chapters cannot run: "
            + "; ".join(f"{name}: {reason}" for name, reason in blocked.items())
        )
    for item in items:
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
    location = _location(item)
    if location:
        return f"nbval {location[0]}" + (" (quick)" if location[1] == "quick" else "")
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
    if _plan:
        terminalreporter.section("chapters re-executed by nbval (lossbook.publish.reexecution)")
        for name, (profile, why) in _plan.items():
            terminalreporter.write_line(f"{name:<10} {profile:<6} {why}")
    if not _phase_seconds:
        return
    terminalreporter.section("time per phase (s)")
    for phase, seconds in _phase_seconds.items():
        terminalreporter.write_line(f"{phase:<40} {seconds:8.1f}")
    target = os.environ.get("LOSSBOOK_PHASE_TIMES")
    if target:
        report = {"started_at": _STARTED_AT, "phases": dict(_phase_seconds)}
        Path(target).write_text(json.dumps(report, indent=1), encoding="utf-8")
