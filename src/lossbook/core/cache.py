"""A small on-disk cache for expensive, deterministic computations.

Each entry is keyed by a hash of *everything* that affects it: the caller
passes a mapping (parameters, data checksums, fold indices, seed...), and
:func:`cache_key` adds the tracked package versions and a fingerprint of the
``lossbook`` package's own source files, so editing a loss or the trainer never
reuses a stale entry: with ``code=`` (the module that computes the entries) only
that module and what it imports (:func:`code_fingerprint`), so a new analysis in
another module keeps every entry; without it, every computing module
(:func:`source_fingerprint`).

Integrity: every entry is written atomically (:func:`lossbook.core.io.atomic_target`)
and sealed with a sha256 of its payload (:func:`seal`). A read that fails for
any reason (missing header, checksum mismatch, a payload that will not
unpickle) is a miss: the entry is dropped with a :class:`CacheWarning` naming
it, and the value is recomputed. A cache folder that cannot be written (read
only, full disk) costs the reuse, never the freshly computed value: ``put``
warns and returns.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import pickle
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lossbook.core.io import package_versions, to_jsonable, write_bytes_atomic
from lossbook.core.paths import cache_dir

__all__ = [
    "CacheWarning",
    "CorruptEntry",
    "DiskCache",
    "cache_key",
    "seal",
    "unseal",
    "source_fingerprint",
    "fingerprint_sources",
    "fingerprint_modules",
    "module_closure",
    "imported_modules",
    "code_fingerprint",
]

#: First bytes of every sealed entry: format name and version.
MAGIC = b"lossbook-cache-v1\n"
_DIGEST_BYTES = 32


class CacheWarning(UserWarning):
    """A cache entry could not be read, verified or written; the value was (re)computed."""


class CorruptEntry(ValueError):
    """A cache entry failed its integrity check; the message says how."""


def seal(payload: bytes) -> bytes:
    """``MAGIC + sha256(payload) + payload``: an entry that :func:`unseal` can verify."""
    return MAGIC + hashlib.sha256(payload).digest() + payload


def unseal(blob: bytes) -> bytes:
    """The payload of a sealed entry; :class:`CorruptEntry` if the header or checksum is wrong."""
    head = len(MAGIC) + _DIGEST_BYTES
    if len(blob) < head or not blob.startswith(MAGIC):
        raise CorruptEntry("no lossbook cache header (truncated, or written by another version)")
    digest, payload = blob[len(MAGIC):head], blob[head:]
    if hashlib.sha256(payload).digest() != digest:
        raise CorruptEntry("checksum mismatch (the file changed after it was written)")
    return payload


def _code_of(source: bytes, name: str) -> bytes:
    """What a module computes, without its comments, docstrings and layout (``ast.dump``).

    Re-formatting a file or editing its documentation then leaves every cache key
    as it was; any change to the code itself changes it. A file that does not
    parse is hashed byte for byte.
    """
    try:
        tree = ast.parse(source, filename=name)
    except SyntaxError:
        return source
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=False).encode()


#: The package's layers whose code can change a cached result. ``publish`` (the book's
#: machinery) cannot: no lower layer imports it (tests/test_layers.py), so editing it
#: keeps the cache.
COMPUTING_LAYERS = ("core", "nets", "studies")


def fingerprint_sources(root: str | os.PathLike, folders: tuple[str, ...] | None = None) -> str:
    """sha256 over the code of every ``*.py`` file under ``root`` (relative path and code, sorted).

    ``folders``: only files in these subfolders of ``root`` (default: all files).
    """
    root = Path(root)
    paths = [path for path in sorted(root.rglob("*.py")) if "__pycache__" not in path.parts
             and (folders is None or path.relative_to(root).parts[0] in folders)]
    return _fingerprint_files(root, paths)


def _fingerprint_files(root: Path, paths) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        name = path.relative_to(root).as_posix()
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(_code_of(path.read_bytes(), name)).digest())
    return digest.hexdigest()


def imported_modules(tree: ast.AST, name: str, package: str) -> set[str]:
    """Dotted names of the ``package`` modules ``tree`` imports anywhere (also inside functions).

    ``from a.b import c`` counts ``a.b`` and ``a.b.c`` (which may be a module, or a name in
    ``a.b``: the caller keeps the names that are modules). ``name`` is the module's own
    dotted name, for relative imports.
    """
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = name.rsplit(".", node.level)[0]
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module == package or module.startswith(package + ".")}


def module_closure(roots, root: str | os.PathLike | None = None) -> list[Path]:
    """The files of the ``lossbook`` modules ``roots`` (dotted names) import, directly or through
    each other, with ``roots`` themselves and every package ``__init__`` on the way; sorted.

    Imports are read from the code (:mod:`ast`), inside functions too. A module that imports
    by name at run time (``import_module``) is taken to import every module of its own
    package: the closure may hold too much, never too little.
    """
    root = Path(root) if root is not None else Path(__file__).resolve().parents[1]
    package = root.name

    def file_of(module: str) -> Path | None:
        parts = module.split(".")[1:]  # the package itself has only its __init__
        candidates = [root.joinpath(*parts, "__init__.py")] + ([root.joinpath(*parts).with_suffix(".py")] if parts else [])
        return next((candidate for candidate in candidates if candidate.is_file()), None)

    seen: dict[str, Path] = {}
    todo = [package, *roots]
    while todo:
        module = todo.pop()
        path = file_of(module)
        if module in seen or path is None:
            continue
        seen[module] = path
        parents = [".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)]
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
        todo += parents + sorted(imported_modules(tree, module, package))
        if "import_module" in source:
            folder = path.parent
            prefix = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
            todo += [f"{prefix}.{p.stem}" for p in sorted(folder.glob("*.py")) if p.stem != "__init__"]
    return sorted(set(seen.values()))


def fingerprint_modules(roots, root: str | os.PathLike | None = None) -> str:
    """sha256 over the code of :func:`module_closure` of ``roots``: what those modules compute
    with. An edit to a module none of them imports leaves it unchanged."""
    root = Path(root) if root is not None else Path(__file__).resolve().parents[1]
    return _fingerprint_files(root, module_closure(roots, root))


@functools.cache
def code_fingerprint(module: str) -> str:
    """:func:`fingerprint_modules` of one module (a dotted name), computed once per process."""
    return fingerprint_modules([module])


@functools.cache
def source_fingerprint() -> str:
    """Fingerprint of the imported ``lossbook`` package's computing code (computed once per process).

    Any edit to the code of any module of :data:`COMPUTING_LAYERS` changes it,
    and with it every cache key: coarse (an edit anywhere there recomputes
    everything) but never stale. Comments, docstrings and formatting do not
    count (see :func:`_code_of`).
    """
    import lossbook

    return fingerprint_sources(Path(lossbook.__file__).parent, COMPUTING_LAYERS)


def content_digest(value: Any) -> str:
    """sha256 hex digest of a JSON-able value's canonical JSON: its identity, and nothing else.

    Unlike :func:`cache_key` it holds no package versions and no source
    fingerprint, so it may feed a seed (:func:`lossbook.core.seeding.derive_seed`):
    a result must not change because unrelated code was edited.
    """
    blob = json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def cache_key(spec: Mapping[str, Any], *, code: str | None = None) -> str:
    """Stable hex key for a JSON-able mapping, the tracked package versions and the package source.

    ``code``: the dotted name of the module that computes the entries; the key then holds
    :func:`code_fingerprint` of it (the code of that module and of every ``lossbook`` module
    it imports), so an edit elsewhere keeps the entries. ``None``: every module of
    :data:`COMPUTING_LAYERS` (:func:`source_fingerprint`).

    For looking up stored results only: never derive a seed from it (see :func:`content_digest`).
    """
    source = source_fingerprint() if code is None else code_fingerprint(code)
    blob = json.dumps(
        {"spec": to_jsonable(spec), "versions": package_versions(), "source": source},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def read_sealed(path: Path, *, what: str = "cache entry") -> bytes | None:
    """Payload of the sealed file at ``path``; ``None`` when absent or unreadable (warned, dropped)."""
    try:
        return unseal(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, CorruptEntry) as error:
        discard(path, f"{what} {path} could not be read ({error}); recomputing it")
        return None


def write_sealed(path: Path, payload: bytes, *, what: str = "cache entry") -> bool:
    """Seal and write ``payload`` atomically; on an unwritable folder warn and return ``False``."""
    try:
        write_bytes_atomic(path, seal(payload))
        return True
    except OSError as error:
        warnings.warn(
            f"{what} {path} could not be written ({error}); the result is returned but not cached",
            CacheWarning, stacklevel=3,
        )
        return False


def discard(path: Path, message: str) -> None:
    """Warn with ``message`` and remove a bad entry (if the folder allows it)."""
    warnings.warn(message, CacheWarning, stacklevel=3)
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only cache keeps the bad file; it is never trusted anyway


class DiskCache:
    """Pickle-backed cache in ``<cache_dir>/<namespace>/``, one sealed file per entry.

    Examples
    --------
    >>> cache = DiskCache("dia-folds")                       # doctest: +SKIP
    >>> scores = cache.get_or_compute({"fold": 3, "seed": 0}, lambda: fit_fold(3))  # doctest: +SKIP
    """

    def __init__(self, namespace: str, root: str | os.PathLike | None = None, *, code: str | None = None):
        self.folder = Path(root) if root is not None else cache_dir() / namespace
        self.code = code  # the module computing the entries (see cache_key)
        self.hits = 0
        self.misses = 0

    def path(self, spec: Mapping[str, Any]) -> Path:
        return self.folder / f"{cache_key(spec, code=self.code)}.pkl"

    def get(self, spec: Mapping[str, Any], default: Any = None) -> Any:
        """The cached value, or ``default`` when absent or corrupt (a corrupt entry is warned about and dropped)."""
        path = self.path(spec)
        payload = read_sealed(path)
        if payload is None:
            return default
        try:
            return pickle.loads(payload)
        except Exception as error:  # noqa: BLE001 - a verified payload that still fails: written by other code
            discard(path, f"cache entry {path} could not be unpickled ({type(error).__name__}: {error}); recomputing it")
            return default

    def put(self, spec: Mapping[str, Any], value: Any) -> bool:
        """Store ``value``; returns ``False`` (with a :class:`CacheWarning`) when the folder is not writable."""
        return write_sealed(self.path(spec), pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

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
