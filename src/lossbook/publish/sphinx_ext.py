"""The book's Sphinx extension: theme fixes, repository links and Binder, the PDF download, offline formulas, author-year bibliography labels.

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
6. **Repository, issue, edit and Binder buttons** point at the checkout's git
   remote ``origin`` when it is a public GitHub URL; without one the buttons
   are hidden and an info message says why (a warning with
   ``LOSSBOOK_REQUIRE_REPOSITORY=1``).
7. **The PDF download.** When ``jupyter-book build book --builder pdflatex``
   has made the PDF, the HTML build copies it beside the pages.
8. **Long tables that fit the PDF's page.** Sphinx typesets a table of more
   than 30 rows as a ``longtable`` whose columns never wrap, so a wide one ran
   off the page, caption and all. For the LaTeX builder each such table without
   given widths gets widths from its content (:func:`column_widths`), which
   makes wrapping columns; shorter tables already wrap (``tabulary``). In the
   PDF every chapter is a chapter (not a section of the front page's last
   section), and code hidden behind the HTML's "Show code" toggle is left out.
9. **No signed zero in the text.** A number that rounds to zero at the
   precision shown reads "0.000", not "-0.000", wherever it was formatted (a
   glued value with a format such as ``:+.3f``, a claim's detail in the ledger):
   :func:`unsigned_zeros` rewrites the page's text, never its code.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
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


def _on_config_repository(app, config) -> None:
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
    # by name: the SVG-to-PDF converter leaves each figure's PDF in the same folder
    pdf = Path(app.outdir).parent / "latex" / PDF_NAME
    return pdf if pdf.is_file() else None


def _offer_pdf(app, exception) -> None:
    if exception is None and app.builder.format == "html" and (pdf := _built_pdf(app)) is not None:
        shutil.copyfile(pdf, Path(app.outdir) / PDF_NAME)

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


#: About how many characters of a table's text fit across the PDF's text column.
LINE_CHARS = 90
#: A column whose longest cell is at most this many characters is kept on one line.
SHORT_COLUMN_CHARS = 12
#: Sphinx's LaTeX writer makes a ``longtable`` of a table with more body rows than this.
LONGTABLE_ROWS = 30


def column_widths(rows: list[list[str]]) -> list[int]:
    """Widths of a table's columns, in characters of a :data:`LINE_CHARS`-wide line.

    ``rows``: the cells' text, header row included. A short column (longest cell
    at most :data:`SHORT_COLUMN_CHARS`) gets its longest cell plus a margin, so
    it stays on one line; the long columns share what is left of the line in
    proportion to their longest cells, and wrap, none narrower than its longest word.
    """
    n_cols = max((len(r) for r in rows), default=0)
    longest = [max((len(r[j]) for r in rows if j < len(r)), default=0) for j in range(n_cols)]
    # no column narrower than its longest word: words are not hyphenated into fragments
    word = [max((len(w) for r in rows if j < len(r) for w in r[j].split()), default=0) + 2 for j in range(n_cols)]
    widths = [n + 2 if n <= SHORT_COLUMN_CHARS else 0 for n in longest]
    long = [j for j, w in enumerate(widths) if w == 0]
    left = max(LINE_CHARS - sum(widths), sum(word[j] for j in long))
    for j in long:
        widths[j] = max(word[j], round(left * longest[j] / sum(longest[k] for k in long)))
    return widths


def _chapters_beside_the_front_matter(doctree) -> None:
    """Lift the chapters the root page's table of contents inlines next to the root page's sections.

    The toctree sits in the front page's last section, so LaTeX made every chapter a section
    of that one ("3.6 Drug-induced autoimmunity"); beside it, each chapter is a chapter.
    """
    from docutils import nodes
    from sphinx import addnodes

    for chapter in list(doctree.findall(addnodes.start_of_file)):
        holder = chapter.parent
        while holder is not None and not isinstance(holder, nodes.section):
            holder = holder.parent
        if holder is None or not isinstance(holder.parent, nodes.section):
            continue  # already a chapter (or a chapter's own toctree)
        if any(isinstance(a, addnodes.start_of_file) for a in _ancestors(chapter)):
            continue  # a page inlined by a chapter stays inside it
        chapter.parent.remove(chapter)
        top = holder.parent
        position = top.index(holder) + 1
        while position < len(top) and isinstance(top[position], addnodes.start_of_file):
            position += 1  # keep the chapters in order
        top.insert(position, chapter)


def _ancestors(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


#: A signed number that rounds to zero at the precision shown ("-0.000", "−0.0", "-0"), on its own
#: (not the tail of "1e-0" or "3-0.5").
_SIGNED_ZERO = re.compile(r"(?<![\w.])[-−](0(?:\.0+)?)(?![\d.])")


def unsigned_zeros(text: str) -> str:
    """``text`` with every signed zero written without its sign: ``"-0.000 [-0.113, 0.112]"`` -> ``"0.000 [-0.113, 0.112]"``."""
    return _SIGNED_ZERO.sub(r"\1", text)


def _drop_signed_zeros(doctree) -> None:
    """Apply :func:`unsigned_zeros` to the page's text, leaving code, literals and math alone."""
    from docutils import nodes

    verbatim = (nodes.FixedTextElement, nodes.literal, nodes.raw, nodes.math)
    for text in list(doctree.findall(nodes.Text)):
        if text.parent is None or any(isinstance(node, verbatim) for node in (text.parent, *_ancestors(text.parent))):
            continue
        shown = unsigned_zeros(str(text))
        if shown != str(text):
            text.parent.replace(text, nodes.Text(shown))


def _on_doctree_resolved(app, doctree, docname) -> None:
    _drop_signed_zeros(doctree)
    if app.builder.format != "latex":
        return
    from docutils import nodes

    if docname == app.config.root_doc:
        _chapters_beside_the_front_matter(doctree)
    # code behind the HTML's "Show code" toggle has no toggle on paper: the PDF leaves it out
    for cell in list(doctree.findall(nodes.container)):
        if "tag_hide-input" in cell.get("classes", []):
            for part in [c for c in cell.children if "cell_input" in c.get("classes", [])]:
                cell.remove(part)
    for table in doctree.findall(nodes.table):
        if "colwidths-given" in table["classes"]:
            continue
        for group in table.findall(nodes.tgroup):
            specs = [c for c in group.children if isinstance(c, nodes.colspec)]
            rows = [[entry.astext() for entry in row.findall(nodes.entry)] for row in group.findall(nodes.row)]
            if len(rows) <= LONGTABLE_ROWS:
                continue
            widths = column_widths(rows)
            if specs and len(widths) == len(specs):
                for spec, width in zip(specs, widths):
                    spec["colwidth"] = width
                table["classes"].append("colwidths-given")


def setup(app):
    # Late priority: run after the themes and extensions have added their scripts and buttons.
    app.connect("html-page-context", _on_page_context, priority=900)
    app.connect("config-inited", _on_config_inited, priority=900)
    app.connect("config-inited", _on_config_repository)
    app.connect("html-page-context", _on_page_buttons, priority=900)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("build-finished", _offer_pdf)
    app.connect("doctree-resolved", _on_doctree_resolved)
    app.connect("build-finished", _on_build_finished)
    _register_bibliography_style()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
