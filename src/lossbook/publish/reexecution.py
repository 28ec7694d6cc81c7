"""Which copy of each chapter the test command re-executes: the full book or its quick profile.

nbval re-executes a chapter and compares every output with the committed one. The
full profile of DIA and acne takes about half an hour from an empty cache on a
2-core machine, so on a fresh machine the test command re-executes, per chapter:

* the **full** profile (``book/<chapter>.ipynb``) when the committed outputs were
  made by other sources than the ones checked out (the package, the chapter's source,
  its parameters or the tracked package versions differ from those the runner
  recorded in ``results/<chapter>.timing.json``), or when a chapter whose results it
  reads is re-executed in full;
* otherwise the **quick** profile (``book/quick/<chapter>.ipynb``, written
  by ``python -m lossbook run --profile quick``), compared with its own committed
  outputs. The full outputs were then made by exactly this code: re-executing them
  would test determinism again, which the quick profile tests on the same code paths.

``LOSSBOOK_NBVAL=full`` re-executes every chapter in full (the book as published);
``LOSSBOOK_NBVAL=quick`` the quick profile wherever it is not stale. The default is
``auto`` (the rules above).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from lossbook.core.paths import repo_root
from lossbook.publish.needs import upstream_chapters
from lossbook.publish.results import load_timing
from lossbook.publish.runner import Chapter, default_output_dir, load_chapters, sources_digest

MODES = ("auto", "full", "quick")


def _stale(chapter: Chapter, profile: str, root: Path) -> str | None:
    """Why the committed ``profile`` outputs of ``chapter`` may not come from these sources, or None."""
    folder = default_output_dir(profile, root)
    notebook = folder / f"{chapter.name}.ipynb"
    if not notebook.is_file():
        return f"{notebook.relative_to(root)} is missing"
    recorded = load_timing(chapter.name, folder).get(profile, {}).get("sources")
    if recorded != sources_digest(chapter, chapter.parameters(profile)):
        return f"{notebook.relative_to(root)} was made by other sources or parameters than these"
    return None


def plan(chapters: Mapping[str, Chapter] | None = None, *, root: Path | None = None,
         mode: str | None = None) -> dict[str, tuple[str, str]]:
    """``{chapter: (profile, why)}``: the profile nbval re-executes, and the reason in one line."""
    root = root or repo_root()
    chapters = chapters if chapters is not None else load_chapters(root)
    mode = mode or os.environ.get("LOSSBOOK_NBVAL", "auto")
    if mode not in MODES:
        raise ValueError(f"LOSSBOOK_NBVAL must be one of {MODES}, got {mode!r}")
    out: dict[str, tuple[str, str]] = {}
    for name, upstream in upstream_chapters(chapters).items():
        chapter = chapters[name]
        if mode == "full":
            out[name] = ("full", "LOSSBOOK_NBVAL=full")
            continue
        quick_stale = _stale(chapter, "quick", root)
        if quick_stale:
            out[name] = ("full", f"{quick_stale}; run `python -m lossbook run --profile quick {name}`")
            continue
        if mode == "quick":
            out[name] = ("quick", "LOSSBOOK_NBVAL=quick")
            continue
        full_stale = _stale(chapter, "full", root)
        in_full = [u for u in upstream if out[u][0] == "full"]
        if full_stale:
            out[name] = ("full", full_stale)
        elif in_full:
            out[name] = ("full", f"reads the results of {', '.join(in_full)}, re-executed in full")
        else:
            out[name] = ("quick", f"book/{name}.ipynb was made by these sources; its quick profile is compared")
    return out
