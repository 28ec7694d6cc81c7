"""The book's Sphinx extension: fixes to the theme stack, offline formulas, author-year bibliography labels.

Loaded through ``sphinx.extra_extensions`` in ``_config.yml``; the browser
check (``tests/publish/test_browser.py``) fails without it.

1. With Sphinx 7.4, inline scripts added after the builder starts (sphinx-thebe's
   ``const THEBE_JS_URL = ...``, sphinx-togglebutton's selector) are emitted
   twice per page, and the second ``const`` declaration is a JavaScript
   ``SyntaxError``. We drop exact duplicate script entries from each page.
2. pydata-sphinx-theme logs "Got invalid theme mode" on a reader's first
   visit when no default colour mode is set; we set ``default_mode`` to
   ``"auto"`` (follow the reader's system) unless the config sets one.
3. **Formulas offline.** MathJax 3 ships with the book: the extension copies
   the parts of the MathJax 3 distribution that typeset TeX as HTML (from the
   ``django-static-mathjax`` package, a pip-installable copy of MathJax's
   official build) into ``_static/mathjax/`` and points ``mathjax_path`` at
   it, so no page loads anything from outside the book.
4. **One search box.** pydata-sphinx-theme 0.17 adds a search field to the
   page header as well as the one sphinx-book-theme puts in the sidebar; we set
   ``navbar_persistent`` to empty unless the config sets it.
5. **Author-year bibliography.** The text cites author-year
   (``bibtex_reference_style = author_year``); the bibliography's labels are
   made the same way (``[Lin et al., 2017]``, not ``[LGG+17]``), and entries
   are sorted by author, year and title (pybtex style ``lossbook_author_year``,
   which ``_config.yml`` sets as ``bibtex_default_style``).
"""
from __future__ import annotations

import shutil
from pathlib import Path

#: Where the bundled MathJax lives in the built HTML, relative to ``_static``.
MATHJAX_DIR = "mathjax"
#: The MathJax component the pages load (TeX and MathML input, HTML output: Sphinx's default).
MATHJAX_ENTRY = "tex-mml-chtml.js"
#: What the entry point loads on demand: TeX extensions, fonts, the menu and accessibility tools.
MATHJAX_PARTS = ("input", "output/chtml.js", "output/chtml", "ui", "a11y", "adaptors", "sre")


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


def _on_config_inited(app, config) -> None:
    # pydata-sphinx-theme 0.17 puts a search field in the page header unless navbar_persistent is set;
    # sphinx-book-theme already has one in the sidebar, so a reader saw two.
    options = config.html_theme_options if isinstance(config.html_theme_options, dict) else {}
    options.setdefault("navbar_persistent", [])
    config.html_theme_options = options


# ------------------------------------------------------------------ MathJax, offline
def mathjax_source() -> Path:
    """The MathJax 3 ``es5`` folder installed by the ``django-static-mathjax`` package.

    Raises ``RuntimeError`` saying what to install when it is missing.
    """
    import importlib.util

    spec = importlib.util.find_spec("mathjax")
    folder = None
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    if folder is None or not (folder / MATHJAX_ENTRY).is_file():
        raise RuntimeError(
            "MathJax 3 is not installed, so the book's formulas cannot be typeset offline: "
            "pip install django-static-mathjax (pinned in pyproject.toml; it provides "
            f"mathjax/static/mathjax/es5/{MATHJAX_ENTRY})")
    return folder


def copy_mathjax(target: Path, source: Path | None = None) -> list[Path]:
    """Copy the MathJax entry point and the parts it loads into ``target``; returns the copied top-level paths."""
    source = source or mathjax_source()
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for part in (MATHJAX_ENTRY, *MATHJAX_PARTS):
        origin = source / part
        destination = target / part
        if origin.is_dir():
            shutil.copytree(origin, destination, dirs_exist_ok=True)
        elif origin.is_file():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, destination)
        else:
            raise RuntimeError(f"{origin}: missing from the installed MathJax copy")
        copied.append(destination)
    return copied


def _on_builder_inited(app) -> None:
    if app.builder.format != "html":
        return
    mathjax_source()  # fail early, with the install hint, rather than after writing every page
    app.config.mathjax_path = f"{MATHJAX_DIR}/{MATHJAX_ENTRY}"


def _on_build_finished(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        copy_mathjax(Path(app.outdir) / "_static" / MATHJAX_DIR)


# ------------------------------------------------------- author-year bibliography
def _plain(latex: str) -> str:
    from pybtex.richtext import Text

    return Text.from_latex(latex).render_as("text").strip()


def author_year_label(entry) -> str:
    """``"Lin et al., 2017"``, ``"Kapoor and Narayanan, 2023"``: the label the text's citations show."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_plain(" ".join(p.prelast_names + p.last_names)) for p in persons]
    if not names:
        who = _plain(entry.fields.get("title", entry.key))
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    year = entry.fields.get("year", "n.d.")
    return f"{who}, {year}"


def author_year_labels(sorted_entries: list) -> list[str]:
    """Labels for a sorted bibliography; same author-year pairs get 2025a, 2025b in list order.

    The suffix is written into each such entry's ``year`` field as well, so
    the text's author-year citations (which sphinxcontrib-bibtex formats from
    the same entries, after the bibliography) carry it too and match.
    """
    from collections import Counter

    base = [author_year_label(entry) for entry in sorted_entries]
    repeated = {label for label, count in Counter(base).items() if count > 1}
    seen: Counter = Counter()
    labels = []
    for entry, label in zip(sorted_entries, base):
        if label in repeated:
            suffix = "abcdefghijklmnopqrstuvwxyz"[seen[label]]
            seen[label] += 1
            year = entry.fields.get("year", "n.d.")
            if not year.endswith(suffix):
                entry.fields["year"] = f"{year}{suffix}"
            label = author_year_label(entry)
        labels.append(label)
    return labels


def _register_bibliography_style() -> None:
    from pybtex.plugin import register_plugin
    from pybtex.style.formatting.unsrt import Style as UnsrtStyle
    from pybtex.style.labels import BaseLabelStyle
    from pybtex.style.sorting import BaseSortingStyle

    class AuthorYearLabels(BaseLabelStyle):
        def format_labels(self, sorted_entries):
            return iter(author_year_labels(list(sorted_entries)))

    class AuthorYearSorting(BaseSortingStyle):
        def sorting_key(self, entry):
            # plain text, so a braced corporate author ({BITS 7(3) authors}) sorts by its letters
            return (author_year_label(entry).lower(), _plain(entry.fields.get("title", "")).lower())

    class AuthorYearStyle(UnsrtStyle):
        default_label_style = "lossbook_author_year"
        default_sorting_style = "lossbook_author_year"

    register_plugin("pybtex.style.labels", "lossbook_author_year", AuthorYearLabels, force=True)
    register_plugin("pybtex.style.sorting", "lossbook_author_year", AuthorYearSorting, force=True)
    register_plugin("pybtex.style.formatting", "lossbook_author_year", AuthorYearStyle, force=True)


def setup(app):
    # Late priority: run after the themes and extensions have added their scripts.
    app.connect("html-page-context", _on_page_context, priority=900)
    app.connect("config-inited", _on_config_inited, priority=900)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("build-finished", _on_build_finished)
    _register_bibliography_style()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
