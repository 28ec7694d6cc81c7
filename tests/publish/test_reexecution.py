"""Which copy of each chapter nbval re-executes: full when the committed outputs may be stale."""
from __future__ import annotations

import json

import pytest
from test_runner import _project

from lossbook.publish import reexecution, runner

FIRST = """
# %% tags=["parameters"]
n = 3

# %%
print(n)
"""

REPORT = """
# %% tags=["parameters"]
results_root = "."

# %%
print(results_root)
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = _project(tmp_path / "repo", {"first": FIRST, "report": REPORT},
                    "first:\n  full: {}\n  quick: {n: 1}\nreport:\n  full: {}\n  quick: {}\n")
    monkeypatch.setenv("LOSSBOOK_ROOT", str(root))
    chapters = runner.load_chapters(root)
    for profile in runner.PROFILES:  # committed outputs, each recorded as made by these sources
        folder = runner.default_output_dir(profile, root)
        (folder / "results").mkdir(parents=True)
        for name, chapter in chapters.items():
            (folder / f"{name}.ipynb").write_text("{}")
            sources = runner.sources_digest(chapter, chapter.parameters(profile))
            (folder / "results" / f"{name}.timing.json").write_text(json.dumps({profile: {"sources": sources}}))
    return root


def _profiles(root, **kw) -> dict[str, str]:
    return {name: profile for name, (profile, _) in reexecution.plan(root=root, **kw).items()}


def test_outputs_made_by_these_sources_are_checked_in_the_quick_profile(project):
    assert _profiles(project) == {"first": "quick", "report": "quick"}
    assert _profiles(project, mode="full") == {"first": "full", "report": "full"}


def test_a_changed_chapter_is_re_executed_in_full_and_so_is_every_chapter_reading_its_results(project):
    source = project / "notebooks" / "first.py"
    source.write_text(source.read_text() + "\nprint('changed')\n")
    plan = reexecution.plan(root=project)
    assert plan["first"][0] == "full" and "quick/first.ipynb was made by other sources" in plan["first"][1]
    assert plan["report"] == ("full", "reads the results of first, re-executed in full")


def test_full_outputs_of_other_parameters_or_missing_quick_outputs_mean_full(project):
    (project / "notebooks" / "profiles.yml").write_text(
        "first:\n  full: {n: 2}\n  quick: {n: 1}\nreport:\n  full: {}\n  quick: {}\n")
    plan = reexecution.plan(root=project)
    assert plan["first"] == ("full", "book/first.ipynb was made by other sources or parameters than these")
    (project / runner.QUICK_OUTPUTS / "report.ipynb").unlink()
    assert "report.ipynb is missing" in reexecution.plan(root=project, mode="quick")["report"][1]


def test_an_unknown_mode_is_refused_with_its_name(project):
    with pytest.raises(ValueError, match="LOSSBOOK_NBVAL must be one of"):
        reexecution.plan(root=project, mode="fast")


def test_the_runner_records_the_sources_it_ran_from(project, monkeypatch):
    monkeypatch.delenv("LOSSBOOK_OUTPUT_DIR", raising=False)
    assert runner.run(["first"], "quick") == 0
    timing = json.loads((project / runner.QUICK_OUTPUTS / "results" / "first.timing.json").read_text())
    chapter = runner.load_chapters(project)["first"]
    assert timing["quick"]["sources"] == runner.sources_digest(chapter, {"n": 1})
