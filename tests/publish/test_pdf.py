"""The book as one PDF: ``jupyter-book build book --builder pdflatex`` -> ``_build/latex/lossbook.pdf``.

.ci/run installs TeX and builds the PDF before README's test command (the HTML build
then offers it for download). Read with poppler's pdfinfo, pdftotext and pdfimages:
every named figure and table of the book is in it with its number, the front page's
glued numbers appear, no reference is left unresolved ("??"), the bibliography is there.
Without a built PDF this skips and says how to build it; CI sets LOSSBOOK_REQUIRE_TOOLS=1,
which turns that skip into a failure.
"""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BOOK = REPO / "book"
PDF = REPO / "_build" / "latex" / "lossbook.pdf"
HTML = REPO / "_build" / "html"


@pytest.fixture(scope="module")
def pdf_text() -> str:
    missing = [tool for tool in ("pdfinfo", "pdftotext", "pdfimages") if shutil.which(tool) is None]
    why = None
    if missing:
        why = f"{', '.join(missing)} not installed (apt-get install poppler-utils)"
    elif not PDF.is_file():
        why = f"{PDF} not built: run `jupyter-book build book --builder pdflatex` (needs TeX, see README, PDF)"
    if why:
        if os.environ.get("LOSSBOOK_REQUIRE_TOOLS") == "1":
            pytest.fail(why)
        pytest.skip(why)
    text = subprocess.run(["pdftotext", "-layout", str(PDF), "-"], capture_output=True, text=True, check=True).stdout
    return text


def _book_sources() -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(BOOK.glob("*.ipynb")) + sorted(BOOK.glob("*.md")))


def _glued(notebook: Path) -> dict[str, str]:
    """``{name: text/plain}`` of the values a notebook glued (myst-nb keeps them as outputs)."""
    values = {}
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook", {})
            key = record.get("mime_prefix", "") + "text/plain"
            if record.get("name") and key in output.get("data", {}):
                values[record["name"]] = "".join(output["data"][key])
    return values


def test_pdf_has_pages_and_every_named_figure_and_table(pdf_text):
    info = subprocess.run(["pdfinfo", str(PDF)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
    sources = _book_sources()
    # Sphinx lower-cases labels: {numref}`tbl-x-a` and :name: tbl-x-A are one table
    figures = {name.lower() for name in re.findall(r"\bfig-[\w-]+", sources)}
    tables = {name.lower() for name in re.findall(r"\btbl-[\w-]+", sources)}
    assert len(set(re.findall(r"Fig\. \d+\.\d+:", pdf_text))) == len(figures)
    assert len(set(re.findall(r"Table \d+\.\d+:", pdf_text))) == len(tables)
    images = subprocess.run(["pdfimages", "-list", str(PDF)], capture_output=True, text=True, check=True).stdout
    assert sum(1 for line in images.splitlines()[2:] if " image " in line) >= len(figures)
    assert pages >= 2 * len(figures)  # a chapter's prose, figures and tables: far more than one page each


def test_no_unresolved_reference(pdf_text):
    assert "??" not in pdf_text
    assert "Bibliography" in pdf_text


def test_bibliography_lists_every_cited_work(pdf_text):
    bib = (BOOK / "references.bib").read_text(encoding="utf-8")
    cited = set(re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", _book_sources()))
    keys = {key.strip() for group in cited for key in group.split(",")}
    first_page = re.search(r"^Bibliography\s+(\d+)\s*$", pdf_text, re.MULTILINE).group(1)  # from the contents
    bibliography = subprocess.run(["pdftotext", "-layout", "-f", first_page, str(PDF), "-"],
                                  capture_output=True, text=True, check=True).stdout
    bibliography = " ".join(bibliography.split())
    for key in keys:
        entry = re.search(r"@\w+\{" + re.escape(key) + r",(.*?)\n\}", bib, re.DOTALL)
        assert entry, f"{key} cited but not in references.bib"
        year = re.search(r"year\s*=\s*[{\"]?(\d{4})", entry.group(1)).group(1)
        assert year in bibliography, f"{key} ({year}) missing from the PDF's bibliography"


def test_front_page_glued_numbers_appear(pdf_text):
    flat = " ".join(pdf_text.split())
    roles = re.findall(r"\{glue:text\}`(\w+)\.ipynb::(\w+):([^`]*)`", (BOOK / "intro.md").read_text(encoding="utf-8"))
    numeric = [(nb, name, spec) for nb, name, spec in roles if re.fullmatch(r"\.?\d*[dfg%]", spec)]
    assert numeric, "intro.md glues no numbers"
    for notebook, name, spec in numeric:
        value = ast.literal_eval(_glued(BOOK / f"{notebook}.ipynb")[name])
        assert format(value, spec) in flat, f"{notebook}::{name} = {format(value, spec)} not in the PDF"


def test_html_offers_the_pdf_for_download(pdf_text):
    """Built after the PDF (as .ci/run does), every page's download menu links the book's PDF."""
    if not (HTML / "index.html").is_file():
        why = f"{HTML} not built: run `jupyter-book build book` after the PDF"
        if os.environ.get("LOSSBOOK_REQUIRE_TOOLS") == "1":
            pytest.fail(why)
        pytest.skip(why)
    copied = HTML / "lossbook.pdf"
    assert copied.is_file(), f"{copied} missing: build the HTML (jupyter-book build book) after the PDF"
    assert copied.read_bytes() == PDF.read_bytes(), f"{copied} is older than {PDF}: rebuild the HTML"
    for page in ("intro.html", "dia.html"):
        assert 'href="lossbook.pdf"' in (HTML / page).read_text(encoding="utf-8"), page


def test_every_page_of_the_table_of_contents_is_a_chapter_and_hidden_code_stays_out(pdf_text):
    """Each page of _toc.yml is a numbered chapter of the PDF (not a section of the front page's
    last section), and the study code that the HTML keeps behind "Show code" is not printed."""
    import yaml

    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    pages = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    contents = pdf_text.split("Bibliography", 1)[0]
    chapter_numbers = {int(n) for n in re.findall(r"^\s*(\d+) \S", contents, re.MULTILINE)}
    assert len(chapter_numbers) >= len(pages), f"{len(chapter_numbers)} chapters for {len(pages)} pages"
    assert "glue(" not in pdf_text and "save_results(" not in pdf_text
