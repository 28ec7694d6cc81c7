"""The book's Sphinx fix-ups: duplicate inline scripts dropped, a default colour mode set."""
from types import SimpleNamespace

from lossbook.publish.sphinx_ext import _on_page_context, dedupe_scripts


def _js(filename, **attributes):
    return SimpleNamespace(filename=filename, attributes=attributes)


def test_duplicate_inline_scripts_are_dropped_in_order():
    thebe = 'const THEBE_JS_URL = "x"'
    scripts = [_js("_static/a.js"), _js(None, body=thebe), _js("_static/b.js", **{"async": "async"}),
               _js("", body=thebe), _js("_static/a.js"), _js("", body="other")]
    kept = dedupe_scripts(scripts)
    assert [(s.filename, s.attributes) for s in kept] == [
        ("_static/a.js", {}), (None, {"body": thebe}), ("_static/b.js", {"async": "async"}), ("", {"body": "other"})]


def test_same_file_with_different_attributes_is_kept():
    assert len(dedupe_scripts([_js("a.js"), _js("a.js", defer="defer")])) == 2


def test_page_context_gets_a_default_mode_but_keeps_a_configured_one():
    context = {"script_files": [_js("a.js"), _js("a.js")]}
    _on_page_context(None, "intro", "page.html", context, None)
    assert context["default_mode"] == "auto" and len(context["script_files"]) == 1
    context = {"default_mode": "dark"}
    _on_page_context(None, "intro", "page.html", context, None)
    assert context["default_mode"] == "dark"


# --- author-year bibliography labels ------------------------------------------------------------
def _entries(bib: str):
    from pybtex.database import parse_string

    return list(parse_string(bib, "bibtex").entries.values())


BIB = r"""
@misc{lin, author = {Lin, Tsung-Yi and Goyal, Priya and Girshick, Ross}, title = {Focal}, year = {2017}}
@misc{kn, author = {Kapoor, Sayash and Narayanan, Arvind}, title = {Leakage}, year = {2023}}
@misc{bits, author = {{BITS 7(3) authors}}, title = {DIA}, year = {2025}}
@misc{data, author = {Huang, Lina and Liu, Peineng and Huang, Xiaojie}, title = {Drug data}, year = {2025}}
@misc{inter, author = {Huang, Lina and Liu, Peineng and Huang, Xiaojie}, title = {InterDIA}, year = {2025}}
@misc{dollar, author = {Doll{\'a}r, Piotr}, title = {X}, year = {2019}}
"""


def test_bibliography_labels_read_like_the_author_year_citations():
    from lossbook.publish.sphinx_ext import author_year_labels

    entries = _entries(BIB)
    labels = author_year_labels(entries)
    assert labels == ["Lin et al., 2017", "Kapoor and Narayanan, 2023", "BITS 7(3) authors, 2025",
                      "Huang et al., 2025a", "Huang et al., 2025b", "Dollár, 2019"]
    # the suffix goes into the entries' year, which the text's citations are formatted from
    assert [e.fields["year"] for e in entries[3:5]] == ["2025a", "2025b"]
    assert author_year_labels(entries)[3:5] == ["Huang et al., 2025a", "Huang et al., 2025b"]  # idempotent


def test_the_style_is_registered_for_sphinxcontrib_bibtex():
    from pybtex.plugin import find_plugin

    import lossbook.publish.sphinx_ext as ext

    ext._register_bibliography_style()
    style = find_plugin("pybtex.style.formatting", "lossbook_author_year")()
    formatted = list(style.format_entries(_entries(BIB)))
    assert [f.label for f in formatted] == [  # sorted by author, year, title
        "BITS 7(3) authors, 2025", "Dollár, 2019", "Huang et al., 2025a", "Huang et al., 2025b",
        "Kapoor and Narayanan, 2023", "Lin et al., 2017"]


# --- one search box, MathJax offline, the pinned toolchain -----------------------------------------
def test_header_search_field_is_switched_off_unless_configured():
    from lossbook.publish.sphinx_ext import _on_config_inited

    config = SimpleNamespace(html_theme_options={"launch_buttons": {}})
    _on_config_inited(None, config)
    assert config.html_theme_options == {"launch_buttons": {}, "navbar_persistent": []}
    config = SimpleNamespace(html_theme_options={"navbar_persistent": ["search-button-field"]})
    _on_config_inited(None, config)
    assert config.html_theme_options["navbar_persistent"] == ["search-button-field"]


def test_mathjax_is_copied_with_what_it_loads(tmp_path):
    from lossbook.publish import sphinx_ext

    source = sphinx_ext.mathjax_source()
    sphinx_ext.copy_mathjax(tmp_path / "mathjax", source)
    entry = tmp_path / "mathjax" / sphinx_ext.MATHJAX_ENTRY
    assert entry.stat().st_size > 500_000 and b"MathJax" in entry.read_bytes()
    assert (tmp_path / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff").is_file()
    assert (tmp_path / "mathjax" / "input" / "tex" / "extensions" / "ams.js").is_file()


def test_a_missing_mathjax_says_what_to_install(monkeypatch):
    import importlib.util

    import pytest

    from lossbook.publish import sphinx_ext

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match="pip install django-static-mathjax"):
        sphinx_ext.mathjax_source()


def test_installed_toolchain_is_the_pinned_one():
    """The book was checked with these versions together; pyproject.toml pins them."""
    import re
    from importlib.metadata import version
    from pathlib import Path

    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    pins = dict(re.match(r"([\w.-]+)==(\S+)", d).groups() for d in pyproject["project"]["dependencies"] if "==" in d)
    for name in ("jupyter-book", "sphinx", "sphinx-book-theme", "pydata-sphinx-theme", "myst-nb", "myst-parser",
                 "sphinxcontrib-bibtex", "django-static-mathjax"):
        assert name in pins, f"{name} is not pinned in pyproject.toml"
        assert version(name) == pins[name], f"{name}: installed {version(name)}, pinned {pins[name]}"


# --- no signed zero in the text -----------------------------------------------------------------
def test_a_number_that_rounds_to_zero_loses_its_sign():
    from lossbook.publish.sphinx_ext import unsigned_zeros

    assert unsigned_zeros("-0.000 [-0.113, 0.112]") == "0.000 [-0.113, 0.112]"
    assert unsigned_zeros("by −0.00 (−0.0 to +0.1); -0 of 3") == "by 0.00 (0.0 to +0.1); 0 of 3"
    for kept in ("-0.001", "−0.010", "1e-0", "3-0.5", "x-0.0", "-0.0005", "+0.000", "0.000", "-0.5"):
        assert unsigned_zeros(kept) == kept


def test_the_page_text_is_rewritten_but_not_its_code():
    from docutils import nodes

    from lossbook.publish.sphinx_ext import _drop_signed_zeros

    page = nodes.section("", nodes.paragraph("", "changes AUC by -0.000 (-0.113 to +0.112)"),
                         nodes.literal_block("", "x = -0.000"),
                         nodes.paragraph("", "", nodes.literal("", "-0.000"), nodes.Text(" and −0.00")))
    _drop_signed_zeros(page)
    assert [node.astext() for node in page.children] == [
        "changes AUC by 0.000 (-0.113 to +0.112)", "x = -0.000", "-0.000 and 0.00"]
