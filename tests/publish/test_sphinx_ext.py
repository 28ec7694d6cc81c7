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
