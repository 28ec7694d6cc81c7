"""Standalone HTML reports in the book's look: one file, figures embedded, no code shown.

:func:`notebook_html` renders an executed notebook (markdown cells and the outputs of
code cells; code, stderr and cells tagged ``remove-cell`` or ``parameters`` are left
out); :func:`page` wraps any HTML body. Used by ``python -m lossbook study`` and
``python -m lossbook compare --html``.
"""
from __future__ import annotations

import base64
import html
import io

__all__ = ["figure_html", "markdown_html", "notebook_html", "page"]

#: The book's typography and tables (sphinx-book-theme's palette, simplified).
STYLE = """
body { font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #222832; background: #fff; line-height: 1.6; margin: 0; }
main { max-width: 56rem; margin: 0 auto; padding: 2rem 1.5rem 4rem; }
h1, h2, h3 { color: #0a0a0a; font-weight: 600; line-height: 1.25; margin: 1.6em 0 0.6em; }
h1 { font-size: 2rem; } h2 { font-size: 1.5rem; border-bottom: 1px solid #e5e7ea; padding-bottom: .2em; }
h3 { font-size: 1.2rem; }
a { color: #0a7d91; }
p.lead, .answer { background: #f3f7fb; border-left: 4px solid #0a7d91; padding: .8rem 1rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e5e7ea; padding: .3rem .6rem; text-align: right; vertical-align: top; }
th { background: #f7f7f8; font-weight: 600; } tbody tr:hover { background: #fafbfc; }
pre { background: #f7f7f8; padding: .7rem 1rem; overflow-x: auto; font-size: .85rem; border-radius: 4px; }
code { font-family: SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
img { max-width: 100%; height: auto; display: block; margin: 1rem auto; }
footer { color: #6b7280; font-size: .85rem; margin-top: 3rem; border-top: 1px solid #e5e7ea; padding-top: 1rem; }
"""


def page(title: str, body: str) -> str:
    """A complete standalone HTML document holding ``body``."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n")


def markdown_html(text: str) -> str:
    """CommonMark (with tables) to HTML."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


def figure_html(fig, *, alt: str = "figure", dpi: int = 110) -> str:
    """A matplotlib figure as an embedded PNG ``<img>``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return _png(base64.b64encode(buffer.getvalue()).decode(), alt)


def _png(data: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data.strip()}">'


def _output_html(output) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return "" if output.get("name") == "stderr" else f"<pre>{html.escape(''.join(output.get('text', '')))}</pre>"
    if kind == "error":
        return f"<pre>{html.escape(output.get('ename', ''))}: {html.escape(output.get('evalue', ''))}</pre>"
    data = output.get("data", {})
    joined = {k: "".join(v) if isinstance(v, list) else v for k, v in data.items()}
    if "text/html" in joined:
        return joined["text/html"]
    if "image/png" in joined:
        return _png(joined["image/png"], "figure")
    if "text/markdown" in joined:
        return markdown_html(joined["text/markdown"])
    if "text/plain" in joined:
        return f"<pre>{html.escape(joined['text/plain'])}</pre>"
    return ""


def notebook_html(notebook, *, title: str, footer: str = "") -> str:
    """An executed notebook (``nbformat`` node) as a standalone report page."""
    parts = []
    for cell in notebook.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"remove-cell", "parameters", "injected-parameters"}:
            continue
        if cell.cell_type == "markdown":
            parts.append(markdown_html(cell.source))
        elif cell.cell_type == "code" and "remove-output" not in tags:
            parts.extend(_output_html(o) for o in cell.get("outputs", []))
    if footer:
        parts.append(f"<footer>{footer}</footer>")
    return page(title, "\n".join(p for p in parts if p))
