"""Plain JSON I/O shared by every layer: atomic writes and package versions.

``write_json_atomic`` writes sorted, deterministic JSON through a temporary
file and a rename, so a reader never sees a half-written file;
``package_versions`` names the installed versions that can change a number.
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

from lossbook.core.estimate import Estimate

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
    """Convert NumPy scalars/arrays, tuples, paths, NaN and :class:`Estimate` into plain JSON values."""
    if isinstance(value, Estimate):
        return value.to_dict()
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
