"""What each chapter needs before it can run: datasets, and other chapters' results.

Both are read from the chapter sources, never listed by hand a second time:

* a chapter needs a dataset when its source calls one of that dataset's loaders
  (:data:`lossbook.core.data.DATASETS`);
* a chapter that declares a ``results_root`` parameter reports on the results files
  of the chapters before it in ``notebooks/profiles.yml`` (claims, appendix), so it
  needs every one of them.

Whether a dataset can be had is decided by :func:`lossbook.core.data.unavailable_reason`,
the loaders' own lookup. The test suite uses :func:`blocked_chapters` to skip, with a
reason, the re-execution of chapters that cannot run on this machine.
"""
from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

from lossbook.core import data as lbdata
from lossbook.publish.runner import Chapter, declared_parameters, load_chapters

RESULTS_PARAMETER = "results_root"


def called_names(source: str) -> set[str]:
    """Names of every function called in a Python source (``f(...)`` and ``module.f(...)``)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name):
                names.add(function.id)
            elif isinstance(function, ast.Attribute):
                names.add(function.attr)
    return names


def chapter_datasets(chapter: Chapter) -> set[str]:
    """Datasets whose loaders the chapter's source calls."""
    called = called_names(chapter.source.read_text(encoding="utf-8"))
    return {name for name, loaders in lbdata.DATASETS.items() if called & set(loaders)}


def reads_results(chapter: Chapter) -> bool:
    """Whether the chapter reports on other chapters' results files (has ``results_root``)."""
    import jupytext

    return RESULTS_PARAMETER in declared_parameters(jupytext.read(chapter.source))


def upstream_chapters(chapters: Mapping[str, Chapter] | None = None) -> dict[str, list[str]]:
    """``{chapter: chapters whose results it reads}``, in book order."""
    chapters = chapters if chapters is not None else load_chapters()
    names = list(chapters)
    return {
        name: names[:position] if reads_results(chapters[name]) else []
        for position, name in enumerate(names)
    }


def blocked_chapters(
    chapters: Mapping[str, Chapter] | None = None,
    *,
    reason_for: Callable[[str], str | None] = lbdata.unavailable_reason,
) -> dict[str, str]:
    """``{chapter: why it cannot run here}`` for chapters lacking data or an upstream chapter.

    ``reason_for(dataset)`` is asked once per dataset some chapter needs; None means
    the dataset is available.
    """
    chapters = chapters if chapters is not None else load_chapters()
    needed = {name: chapter_datasets(chapter) for name, chapter in chapters.items()}
    reasons = {dataset: reason_for(dataset) for dataset in sorted(set().union(*needed.values()))}
    blocked: dict[str, str] = {}
    lacking: dict[str, set[str]] = {}  # datasets, direct or upstream, that keep a chapter from running
    for name, upstream in upstream_chapters(chapters).items():
        lacking[name] = {d for d in needed[name] if reasons[d]}
        if lacking[name]:
            blocked[name] = " ".join(reasons[d] for d in sorted(lacking[name]))
            continue
        waiting = [u for u in upstream if u in blocked]
        if waiting:
            lacking[name] = set().union(*(lacking[u] for u in waiting))
            blocked[name] = (
                f"reads the results of {', '.join(waiting)}, which cannot run without the "
                f"{' and '.join(sorted(lacking[name]))} data (see README, Data)"
            )
    return blocked
