"""A small Sphinx extension that removes two console errors the book's theme stack produces.

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


def setup(app):
    # Late priority: run after the themes and extensions have added their scripts.
    app.connect("html-page-context", _on_page_context, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
