"""Where the book's files live: repository root, book output, user cache."""
from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The repository root (the folder holding ``_config.yml``).

    Found from this file for an editable install, else from the working
    directory upwards; ``$LOSSBOOK_ROOT`` overrides both.
    """
    if "LOSSBOOK_ROOT" in os.environ:
        return Path(os.environ["LOSSBOOK_ROOT"]).resolve()
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for folder in (start, *start.parents):
            if (folder / "_config.yml").is_file() and (folder / "notebooks").is_dir():
                return folder
    raise FileNotFoundError(
        "Cannot find the lossbook repository (a folder with _config.yml and notebooks/); "
        "run from inside it or set LOSSBOOK_ROOT."
    )


def output_dir() -> Path:
    """Where chapters write results and figures: ``$LOSSBOOK_OUTPUT_DIR`` or ``<repo>/book``.

    The runner sets the variable, so a quick-profile run never overwrites the
    published (full-profile) results in ``book/``.
    """
    if "LOSSBOOK_OUTPUT_DIR" in os.environ:
        return Path(os.environ["LOSSBOOK_OUTPUT_DIR"]).resolve()
    return repo_root() / "book"


def cache_dir() -> Path:
    """User cache for downloads, fold results and embeddings.

    ``$LOSSBOOK_CACHE_DIR`` or ``$XDG_CACHE_HOME/lossbook`` (``~/.cache/lossbook``).
    Deleting it is always safe: everything in it is recomputed on demand.
    """
    if "LOSSBOOK_CACHE_DIR" in os.environ:
        return Path(os.environ["LOSSBOOK_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lossbook"


def figure_path(chapter: str, name: str) -> Path:
    """Path for a chapter's figure file, ``<output>/figures/<chapter>/<name>``; folder created."""
    folder = output_dir() / "figures" / chapter
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
