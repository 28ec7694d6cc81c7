"""File I/O shared by every layer: the one atomic-write helper, JSON, package versions.

Every file the package writes goes through :func:`atomic_target`: the content
is written to a hidden temporary file in the target's folder and renamed over
the target only once complete, so a reader (or a later run) never sees a
half-written file, and a failure leaves nothing behind. The wrappers
:func:`write_bytes_atomic`, :func:`write_text_atomic`, :func:`write_json_atomic`
and :func:`write_pickle_atomic` cover the usual payloads; a writer that needs a
file name (nbformat, papermill) uses :func:`atomic_target` directly.
``package_versions`` names the installed versions that can change a number.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import pickle
import platform
import tempfile
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

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


@contextlib.contextmanager
def atomic_target(path: str | os.PathLike, *, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    ``suffix`` ends the temporary name (a writer that checks extensions, such
    as papermill, gets the one it wants).

    The temporary file is created (empty) in the target's folder, so the final
    ``os.replace`` is atomic on the same file system. If the body raises, the
    temporary file is removed and ``path`` is left as it was. Parent folders are
    created. Raises :class:`OSError` (e.g. ``PermissionError``) when the folder
    cannot be written; callers that can live without the file catch it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_target`)."""
    path = Path(path)
    with atomic_target(path) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, payload: Any) -> Path:
    """Write ``payload`` as sorted, indented JSON (see :func:`to_jsonable`) atomically."""
    text = json.dumps(to_jsonable(payload), indent=2, sort_keys=True, allow_nan=False) + "\n"
    return write_text_atomic(path, text)


def write_pickle_atomic(path: str | os.PathLike, value: Any) -> Path:
    """Pickle ``value`` (highest protocol) to ``path`` atomically."""
    return write_bytes_atomic(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
