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
import math
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from lossbook.paths import output_dir

#: Packages whose versions can change a number in the book.
TRACKED_PACKAGES = (
    "lossbook", "numpy", "scipy", "pandas", "scikit-learn", "imbalanced-learn",
    "tensorflow-cpu", "keras", "torch", "matplotlib", "efficientnet-lite-pytorch",
)


def package_versions(packages=TRACKED_PACKAGES) -> dict[str, str]:
    """Installed version of each package (``"absent"`` when not installed)."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def to_jsonable(value: Any) -> Any:
    """Convert NumPy scalars/arrays, tuples, paths and NaN into plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


def write_json_atomic(path: str | os.PathLike, payload: Any) -> Path:
    """Write ``payload`` as sorted, indented JSON via a temporary file and rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(to_jsonable(payload), indent=2, sort_keys=True, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
