"""Chapter results files: ``<output>/results/<chapter>.json``.

A results file holds a chapter's headline numbers together with everything
needed to trace them: the parameters, package versions and data checksums.
It is written atomically and deterministically (sorted keys, no timestamps),
so re-running a chapter with the same parameters leaves it byte-identical.
Wall times vary from run to run, so the runner keeps them apart, in
``<chapter>.timing.json`` beside it.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lossbook.core.io import package_versions, write_json_atomic
from lossbook.core.paths import output_dir


def results_path(chapter: str) -> Path:
    return output_dir() / "results" / f"{chapter}.json"


def save_results(
    chapter: str,
    results: Mapping[str, Any],
    *,
    parameters: Mapping[str, Any],
    data_checksums: Mapping[str, str] | None = None,
) -> Path:
    """Write a chapter's results file and return its path.

    Parameters
    ----------
    chapter : str
        Chapter name, e.g. ``"synthetic"``.
    results : mapping
        The headline numbers (nested dicts of numbers and strings).
    parameters : mapping
        The chapter's papermill parameters as used.
    data_checksums : mapping, optional
        ``{file name: sha256}`` of every data file read.
    """
    payload = {
        "chapter": chapter,
        "results": results,
        "parameters": dict(parameters),
        "data_sha256": dict(data_checksums or {}),
        "versions": package_versions(),
    }
    return write_json_atomic(results_path(chapter), payload)


def load_results(chapter: str, root: str | os.PathLike | None = None) -> dict:
    """Read a chapter's results file (from ``root``/results or the output dir)."""
    folder = Path(root) / "results" if root is not None else output_dir() / "results"
    path = folder / f"{chapter}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no results for chapter {chapter!r}; run `python -m lossbook run {chapter}`"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def load_timing(chapter: str, root: str | os.PathLike | None = None) -> dict:
    """Wall times recorded by the runner for a chapter, per profile (may be empty)."""
    folder = Path(root) / "results" if root is not None else output_dir() / "results"
    path = folder / f"{chapter}.timing.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
