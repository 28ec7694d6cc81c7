"""Execute chapter sources into the book: jupytext -> papermill -> ``book/<chapter>.ipynb``.

Chapters are the jupytext ``py:percent`` files in ``notebooks/``; their
profiles (parameter overrides per profile) are in ``notebooks/profiles.yml``.
``full`` renders the published book into ``book/``; ``quick`` is for Binder
readers and smoke tests and, by default, writes to ``book/quick/`` (the
outputs the test command compares when the full ones need no re-execution, see
:mod:`lossbook.publish.reexecution`), never over the published results.
"""
from __future__ import annotations

import ast
import functools
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from lossbook.core.cache import content_digest, fingerprint_modules, imported_modules
from lossbook.core.io import atomic_target, package_versions, to_jsonable, write_json_atomic
from lossbook.core.paths import repo_root
from lossbook.publish.presentation import tag_code_cells
from lossbook.publish.results import load_timing

PROFILES = ("full", "quick")


class ChapterFailed(RuntimeError):
    """A chapter raised while executing; the message holds the failing cell's error."""


@dataclass(frozen=True)
class Chapter:
    name: str
    source: Path
    profiles: dict

    def parameters(self, profile: str) -> dict:
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
        return dict(self.profiles.get(profile) or {})


def load_chapters(root: Path | None = None) -> dict[str, Chapter]:
    """Chapters in book order, as listed in ``notebooks/profiles.yml``."""
    root = root or repo_root()
    spec_path = root / "notebooks" / "profiles.yml"
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8")) or {}
    chapters = {}
    for name, profiles in spec.items():
        source = root / "notebooks" / f"{name}.py"
        if not source.is_file():
            raise FileNotFoundError(f"{spec_path}: chapter {name!r} has no source {source}")
        unknown = set(profiles or {}) - set(PROFILES)
        if unknown:
            raise ValueError(f"{spec_path}: chapter {name!r} has unknown profile(s) {sorted(unknown)}")
        chapters[name] = Chapter(name, source, profiles or {})
    return chapters


#: Where ``python -m lossbook run --profile quick`` writes, relative to the repository.
QUICK_OUTPUTS = Path("book") / "quick"


def default_output_dir(profile: str, root: Path | None = None) -> Path:
    root = root or repo_root()
    return root / "book" if profile == "full" else root / QUICK_OUTPUTS


@functools.cache
def _code_fingerprint(source: str) -> str:
    """The code a chapter runs (read once per process and chapter source): every ``lossbook``
    module the chapter imports, what those import in turn, and this runner."""
    roots = imported_modules(ast.parse(source), "", "lossbook") | {__name__}
    return fingerprint_modules(sorted(roots))


def sources_digest(chapter: Chapter, parameters: dict) -> str:
    """What a chapter's outputs are made from: the code it runs (:func:`_code_fingerprint`,
    comments aside; an edit to a module the chapter does not import leaves it), the
    chapter's source, its parameters and the tracked package versions (data files carry
    their own checksums into the results). Recorded with each run's wall time."""
    source = chapter.source.read_text(encoding="utf-8")
    return content_digest({"package": _code_fingerprint(source),
                           "chapter": source,
                           "parameters": to_jsonable(parameters), "versions": package_versions()})


def run_chapter(
    chapter: Chapter,
    profile: str = "full",
    output_dir: Path | None = None,
    *,
    extra_parameters: dict | None = None,
    progress: bool = True,
) -> float:
    """Execute one chapter and return its wall time in seconds.

    The executed notebook is written atomically to ``<output_dir>/<name>.ipynb``;
    the chapter itself writes ``results/<name>.json`` and ``figures/<name>/``
    under the same folder (it reads ``$LOSSBOOK_OUTPUT_DIR``). The wall time is
    recorded in ``results/<name>.timing.json`` under the profile's name.
    Raises :class:`ChapterFailed` with the failing cell's error.
    """
    import jupytext
    import nbformat
    import papermill

    parameters = {**chapter.parameters(profile), **(extra_parameters or {})}
    notebook = jupytext.read(chapter.source)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    _check_parameter_names(chapter, notebook, parameters)
    output_dir = Path(output_dir or default_output_dir(profile)).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)

    target = output_dir / f"{chapter.name}.ipynb"
    sources = sources_digest(chapter, parameters)  # before the run: what it starts from
    previous_env = os.environ.get("LOSSBOOK_OUTPUT_DIR")
    os.environ["LOSSBOOK_OUTPUT_DIR"] = str(output_dir)
    start = time.perf_counter()
    try:
        with atomic_target(target, suffix=".ipynb") as tmp:
            nbformat.write(notebook, tmp)
            executed = papermill.execute_notebook(
                str(tmp), str(tmp), parameters=parameters, kernel_name="python3",
                cwd=str(output_dir), progress_bar=progress, log_output=False,
            )
            wall = time.perf_counter() - start
            slowest = _slowest_cells(executed)
            _strip_volatile_metadata(executed)
            tag_code_cells(executed)  # what the page shows; the notebook keeps all its code
            nbformat.write(executed, tmp)
    except papermill.PapermillExecutionError as error:
        raise ChapterFailed(
            f"chapter {chapter.name!r} ({profile}) failed in cell {error.exec_count}: "
            f"{error.ename}: {error.evalue}\n{''.join(_plain(line) for line in error.traceback[-6:])}"
        ) from None
    finally:
        if previous_env is None:
            os.environ.pop("LOSSBOOK_OUTPUT_DIR", None)
        else:
            os.environ["LOSSBOOK_OUTPUT_DIR"] = previous_env
    _record_wall_time(chapter.name, profile, wall, parameters, output_dir, slowest, sources)
    return wall


def declared_parameters(notebook) -> list[str]:
    """Names assigned in the notebook's cell tagged ``parameters``."""
    import ast

    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            tree = ast.parse(cell.source)
            return [t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                    if isinstance(t, ast.Name)]
    return []


def _check_parameter_names(chapter: Chapter, notebook, parameters: dict) -> None:
    """Refuse a misspelled parameter before anything runs (papermill would ignore it)."""
    declared = declared_parameters(notebook)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ValueError(
            f"chapter {chapter.name!r} has no parameter(s) {unknown}; "
            f"its parameters are {declared}"
        )


def _slowest_cells(notebook, top: int = 5) -> list[dict]:
    """The ``top`` slowest code cells by papermill's durations: where a chapter's time goes."""
    cells = []
    for position, cell in enumerate(notebook.cells):
        duration = cell.metadata.get("papermill", {}).get("duration")
        if cell.cell_type == "code" and duration is not None:
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            cells.append({"cell": f"cell-{position}", "seconds": round(float(duration), 1), "first_line": first[:80]})
    return sorted(cells, key=lambda c: -c["seconds"])[:top]


def _strip_volatile_metadata(notebook) -> None:
    """Drop timestamps and durations papermill writes, and number the cells, so re-runs give clean diffs.

    jupytext and papermill give cells random ids; ids by position are just as unique.
    """
    notebook.metadata.get("papermill", {}).pop("start_time", None)
    notebook.metadata.get("papermill", {}).pop("end_time", None)
    notebook.metadata.get("papermill", {}).pop("duration", None)
    notebook.metadata.get("papermill", {}).pop("input_path", None)
    notebook.metadata.get("papermill", {}).pop("output_path", None)
    for position, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{position}"
        cell.metadata.pop("execution", None)
        cell.metadata.get("papermill", {}).clear()


def _plain(text: str) -> str:
    """Remove ANSI colour codes from a traceback line."""
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text) + "\n"


def _record_wall_time(name: str, profile: str, wall: float, parameters: dict, output_dir: Path,
                      slowest: list[dict] = (), sources: str | None = None) -> None:
    timing = load_timing(name, output_dir)
    timing[profile] = {
        "wall_time_s": round(wall, 1),
        "cpu_count": os.cpu_count(),
        "parameters": parameters,
        "slowest_cells": list(slowest),
        "sources": sources,
    }
    write_json_atomic(output_dir / "results" / f"{name}.timing.json", timing)


def _output_dir_problem(output_dir: Path | None) -> str | None:
    """Why ``output_dir`` cannot hold a chapter's outputs (one line), or ``None``."""
    if output_dir is None:
        return None
    path = Path(output_dir)
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                where = "is" if folder == path else f"is inside {folder}, which is"
                return f"--output-dir {path} {where} an existing file, not a folder"
            if not os.access(folder, os.W_OK | os.X_OK):
                return f"--output-dir {path}: cannot write in {folder}"
            return None
    return None


#: The chapter that reads every chapter's timing file; it runs after any other chapter run.
TIMING_TABLE_CHAPTER = "appendix"


def run(
    names: list[str] | None = None,
    profile: str = "full",
    output_dir: Path | None = None,
    parameters: dict | None = None,
) -> int:
    """Run chapters in book order, then :data:`TIMING_TABLE_CHAPTER` (it tables their wall
    times); print each wall time. Returns a process exit code.

    ``parameters`` override the profile's values in every chapter run (each must
    be a parameter of each chapter).
    """
    chapters = load_chapters()
    names = names or list(chapters)
    unknown = [n for n in names if n not in chapters]
    if unknown:
        print(f"unknown chapter(s) {unknown}; choose from {list(chapters)}", file=sys.stderr)
        return 2
    if profile not in PROFILES:
        print(f"unknown profile {profile!r}; choose from {list(PROFILES)}", file=sys.stderr)
        return 2
    problem = _output_dir_problem(output_dir)
    if problem:
        print(f"refused: {problem}", file=sys.stderr)
        return 2
    # The appendix tabulates every chapter's recorded wall time: a chapter re-run leaves it stale
    # (and nbval, which compares it with the committed timing files, failing) unless it runs after.
    refresh = TIMING_TABLE_CHAPTER in chapters and TIMING_TABLE_CHAPTER not in names
    names = names + [TIMING_TABLE_CHAPTER] if refresh else names
    total = 0.0
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] {name} ({profile}) ...", flush=True)
        try:
            # parameters given for the named chapters are not the appendix's
            extra = None if refresh and name == TIMING_TABLE_CHAPTER else parameters
            wall = run_chapter(chapters[name], profile, output_dir, extra_parameters=extra)
        except ValueError as error:
            print(f"refused: {error}", file=sys.stderr)
            return 2
        except ChapterFailed as error:
            print(f"FAILED: {error}", file=sys.stderr)
            return 1
        total += wall
        print(f"[{i}/{len(names)}] {name} ({profile}) done in {wall:.1f} s", flush=True)
    print(f"{len(names)} chapter(s) in {total:.1f} s")
    return 0
