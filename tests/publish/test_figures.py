"""Every figure the chapters saved for the book reads at page size: it fits the text column and its
smallest text is at least 9 pt as displayed (measured in the saved file, see plots.measure_saved_figure).

A PNG without the measurement inside was not written by ``lossbook.core.plots.save_figure``: re-run its
chapter after switching it to ``save_figure``, and delete figure files a chapter no longer writes.
The figures checked are the book's, under ``book/figures`` (the test command points
``$LOSSBOOK_OUTPUT_DIR`` at a scratch copy of the results only, so the book's folder is named here).
"""
from __future__ import annotations

import pytest

from lossbook.core import plots
from lossbook.core.paths import repo_root

BOOK_FIGURES = repo_root() / "book" / "figures"
FIGURES = sorted(p for p in BOOK_FIGURES.glob("*/*") if p.suffix in (".svg", ".png"))


def test_the_book_has_figures():
    assert FIGURES, f"no figures under {BOOK_FIGURES}; run the chapters"


@pytest.mark.parametrize("path", FIGURES, ids=[p.relative_to(BOOK_FIGURES).as_posix() for p in FIGURES])
def test_figure_is_drawn_for_the_page(path):
    measured = plots.measure_saved_figure(path)
    assert measured["display_width_px"] <= plots.COLUMN_PX + 0.5, (
        f"{path.name} is shown {measured['display_width_px']:.0f} px wide in a {plots.COLUMN_PX}-px column")
    assert measured["display_scale"] > 0.999 or measured["min_font_pt"] >= plots.MIN_FONT_PT
    assert measured["min_font_pt"] >= plots.MIN_FONT_PT - 1e-6, (
        f"{path.name}: smallest text {measured['min_font_pt']:.1f} pt as displayed (< {plots.MIN_FONT_PT:g})")
