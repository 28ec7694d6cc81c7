"""A small on-disk cache for expensive, deterministic computations.

Each entry is keyed by a hash of *everything* that affects it: the caller
passes a mapping (parameters, data checksums, fold indices, seed...) and the
package versions are added automatically. A changed input therefore never
reuses a stale entry. Entries are written to a temporary file and renamed,
so an interrupted run never leaves a half-written entry that a later run
would trust; a corrupt entry (e.g. from a full disk) is discarded and
recomputed.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

from lossbook.core.paths import cache_dir
from lossbook.core.io import package_versions, to_jsonable


def cache_key(spec: Mapping[str, Any]) -> str:
    """Stable hex key for a JSON-able mapping plus the tracked package versions."""
    blob = json.dumps(
        {"spec": to_jsonable(spec), "versions": package_versions()},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class DiskCache:
    """Pickle-backed cache in ``<cache_dir>/<namespace>/``.

    Examples
    --------
    >>> cache = DiskCache("dia-folds")                       # doctest: +SKIP
    >>> scores = cache.get_or_compute({"fold": 3, "seed": 0}, lambda: fit_fold(3))  # doctest: +SKIP
    """

    def __init__(self, namespace: str, root: str | os.PathLike | None = None):
        self.folder = Path(root) if root is not None else cache_dir() / namespace
        self.hits = 0
        self.misses = 0

    def path(self, spec: Mapping[str, Any]) -> Path:
        return self.folder / f"{cache_key(spec)}.pkl"

    def get(self, spec: Mapping[str, Any], default: Any = None) -> Any:
        path = self.path(spec)
        try:
            with open(path, "rb") as handle:
                return pickle.load(handle)
        except FileNotFoundError:
            return default
        except (pickle.UnpicklingError, EOFError, AttributeError, ValueError):
            path.unlink(missing_ok=True)  # corrupt: drop it and recompute
            return default

    def put(self, spec: Mapping[str, Any], value: Any) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path(spec))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get_or_compute(self, spec: Mapping[str, Any], compute: Callable[[], Any]) -> Any:
        missing = object()
        value = self.get(spec, missing)
        if value is not missing:
            self.hits += 1
            return value
        self.misses += 1
        value = compute()
        self.put(spec, value)
        return value
