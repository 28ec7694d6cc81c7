"""A small Sphinx extension for the book: console-error fixes, repository links, Binder, PDF.

Loaded through ``sphinx.extra_extensions`` in ``_config.yml``; the browser
check (``tests/test_browser.py``) fails without it.

1. With Sphinx 7.4, inline scripts added after the builder starts (sphinx-thebe's
   ``const THEBE_JS_URL = ...``, sphinx-togglebutton's selector) are emitted
   twice per page, and the second ``const`` declaration is a JavaScript
   ``SyntaxError``. We drop exact duplicate script entries from each page.
2. pydata-sphinx-theme logs "Got invalid theme mode" on a reader's first
   visit when no default colour mode is set; we set ``default_mode`` to
   ``"auto"`` (follow the reader's system) unless the config sets one.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path


def _script_key(script) -> tuple:
    """Identity of a script entry: its file name and its attributes (including an inline body)."""
    filename = getattr(script, "filename", script) or ""  # inline scripts carry None or ""
    attributes = getattr(script, "attributes", {}) or {}
    return (str(filename), tuple(sorted((str(k), str(v)) for k, v in attributes.items())))


def dedupe_scripts(scripts: list) -> list:
    """``scripts`` without exact repeats, first occurrence kept, order preserved."""
    seen, kept = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    return kept


def _on_page_context(app, pagename, templatename, context, doctree) -> None:
    if "script_files" in context:
        context["script_files"] = dedupe_scripts(list(context["script_files"]))
    if not context.get("default_mode"):
        context["default_mode"] = "auto"


# -- Repository, issue, edit and launch buttons from the checkout's git remote -------------
#
# The repository URL is not typed into _config.yml: at build time it is read from the
# checkout's ``origin`` remote. A GitHub remote (https or ssh) turns on the repository,
# issue and edit buttons and the Binder launch buttons. Without one (a fresh copy, a fork
# on another host) the buttons are left out and the build says why in an info message:
# the book builds with -W, and a newcomer's clone without a GitHub remote must still
# build. Set LOSSBOOK_REQUIRE_REPOSITORY=1 (the publishing build does) to make it a warning.

_GITHUB_REMOTE = re.compile(
    r"^(?:https://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com/)"
    r"(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]+?)(?:\.git)?/?$"
)
#: Folder of the quick-profile notebooks Binder's postBuild generates; launch buttons open these.
BINDER_QUICK_DIR = "binder/quick"
#: Name of the book's PDF inside the HTML output (copied there when it has been built).
PDF_NAME = "lossbook.pdf"
REPOSITORY_BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button")


def github_url(remote: str | None) -> str | None:
    """``https://github.com/OWNER/REPO`` for a GitHub remote URL (https or ssh), else None."""
    match = _GITHUB_REMOTE.match((remote or "").strip())
    return f"https://github.com/{match['owner']}/{match['repo']}" if match else None


def git_remote(folder: str | os.PathLike, name: str = "origin") -> str | None:
    """The URL of remote ``name`` of the git checkout holding ``folder``, or None."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "config", "--get", f"remote.{name}.url"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _on_config_inited(app, config) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    options = config.html_theme_options
    remote = git_remote(app.srcdir)
    url = github_url(remote)
    if url:
        options["repository_url"] = url
        for button in REPOSITORY_BUTTONS:
            options[button] = True
        logger.info(f"lossbook: repository, issue, edit and Binder buttons point at {url} (git remote origin)")
        return
    why = (
        f"the git remote 'origin' is {remote!r}, not a GitHub URL" if remote
        else "this checkout has no git remote 'origin'"
    )
    for key in ("repository_url", "launch_buttons"):
        options.pop(key, None)
    for button in REPOSITORY_BUTTONS:
        options[button] = False
    message = f"lossbook: no launch, repository, issue or edit buttons: {why} (see README, Binder)"
    if os.environ.get("LOSSBOOK_REQUIRE_REPOSITORY") == "1":
        logger.warning(message)
    else:
        logger.info(message)


def _walk_buttons(buttons):
    for button in buttons:
        yield button
        yield from _walk_buttons(button.get("buttons", []))


def _chapter_of_page(app, pagename: str) -> str | None:
    """The chapter name when ``pagename`` is rendered from notebooks/<pagename>.py."""
    source = Path(app.srcdir).parent / "notebooks" / f"{pagename}.py"
    return pagename if source.is_file() else None


def _on_page_buttons(app, pagename, templatename, context, doctree) -> None:
    """Point launch buttons at the quick-profile copy, edit buttons at the chapter source; offer the PDF."""
    buttons = list(_walk_buttons(context.get("header_buttons", [])))
    chapter = _chapter_of_page(app, pagename)
    path_to_docs = app.config.html_theme_options.get("path_to_docs", "book").strip("/")
    for button in buttons:
        url = button.get("url", "")
        if chapter and "urlpath=" in url:
            button["url"] = re.sub(
                r"urlpath=(lab/tree|tree)/.*$", rf"urlpath=\1/{BINDER_QUICK_DIR}/{chapter}.ipynb", url
            )
            button["tooltip"] = f"{button.get('tooltip', '')} (quick profile)".strip()
        if chapter and button.get("label") in ("source-edit-button", "source-file-button"):
            button["url"] = url.replace(f"/{path_to_docs}/{pagename}.ipynb", f"/notebooks/{chapter}.py")
    if _built_pdf(app) is not None:
        for button in buttons:
            if button.get("label") == "download-buttons":
                button["buttons"].append({
                    "type": "link", "url": context["pathto"](PDF_NAME, 1), "text": "book (PDF)",
                    "tooltip": "Download the whole book as a PDF", "icon": "fas fa-book",
                    "label": "download-book-pdf-button",
                })


def _built_pdf(app) -> Path | None:
    """The PDF made by ``jupyter-book build book --builder pdflatex``, if it exists."""
    latex = Path(app.outdir).parent / "latex"
    found = sorted(latex.glob("*.pdf")) if latex.is_dir() else []
    return found[0] if len(found) == 1 else None


def _on_build_finished(app, exception) -> None:
    if exception is None and app.builder.format == "html" and (pdf := _built_pdf(app)) is not None:
        shutil.copyfile(pdf, Path(app.outdir) / PDF_NAME)


def setup(app):
    app.connect("config-inited", _on_config_inited)
    # Late priority: run after the themes and extensions have added their scripts and buttons.
    app.connect("html-page-context", _on_page_context, priority=900)
    app.connect("html-page-context", _on_page_buttons, priority=900)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
