"""The book's figures: one look, one palette, one size for the page.

Call :func:`set_style` once per chapter. Every plotting function takes ``ax=None``
(a new figure is made, sized for the page) or the axes to draw into, and
returns ``(fig, ax)``. :func:`save_figure` is the one way a chapter puts a
figure on its page: it sets the figure to the text column's width, saves it
under ``<output>/figures/<chapter>/`` (SVG, or PNG at twice the screen's pixel
density for raster-heavy figures), glues it for a ``{glue:figure}`` block,
checks that its smallest text is at least :data:`MIN_FONT_PT` as displayed,
and closes it.

Sizes "as displayed": the book's text column is :data:`COLUMN_PX` CSS pixels
wide in a 1280-px window (measured in the built book); an image wider than the
column is shrunk to fit, and its text with it. A figure saved
:data:`PAGE_WIDTH_IN` inches wide is shown at its natural size, so a 9-pt font
is read at 9 pt.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lossbook.core import validate
from lossbook.core.metrics import expected_calibration_error
from lossbook.core.paths import figure_path

#: Width of the book's text column for figures, in CSS pixels (sphinx-book-theme at a 1280-px window).
COLUMN_PX = 672
#: CSS pixels per inch (the browser's fixed ratio; 1 pt = 96/72 px).
CSS_PX_PER_IN = 96
#: A figure this wide (inches) is shown at its natural size in the column.
PAGE_WIDTH_IN = COLUMN_PX / CSS_PX_PER_IN
#: The smallest font size a reader should meet in a figure, as displayed (points).
MIN_FONT_PT = 9.0
#: PNG figures are saved at twice the screen's density, so they stay sharp on high-DPI screens.
RASTER_DPI = 2 * CSS_PX_PER_IN

#: The book's one palette (Okabe and Ito's colour-blind-safe set), in the order plots cycle through it.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442")
#: Lines and markers that are references, not data (chance lines, the paper's values).
NEUTRAL = "#666666"
REFERENCE = "#222222"
#: Colour map of every heat map (confusion matrices).
SEQUENTIAL_CMAP = "Blues"

#: One colour per loss, the same on every page (entries of :data:`PALETTE`).
LOSS_COLORS = {
    "bce": PALETTE[0],
    "focal": PALETTE[1],
    "dice": PALETTE[2],
    "weighted_ce": PALETTE[3],
    "focal_ce": PALETTE[4],
    "paper": REFERENCE,
}
#: How code names read in figure labels (see :func:`label`).
DISPLAY_NAMES = {
    "bce": "BCE", "focal": "focal", "dice": "Dice", "weighted_ce": "weighted CE", "focal_ce": "focal CE",
    "mlp": "MLP", "cnn": "CNN", "lstm": "LSTM", "leak_free": "leak-free", "leaky": "leaky",
    "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "f1": "F1", "mcc": "MCC", "accuracy": "accuracy",
    "precision": "precision", "recall": "recall", "balanced_accuracy": "balanced accuracy",
}
#: Grid on which per-fold ROC and PR curves are averaged.
CURVE_GRID = np.linspace(0.0, 1.0, 201)


def set_style() -> None:
    """The book's matplotlib style: white grid, the palette, fonts of at least 9 pt, text kept as text in SVG."""
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper", palette=list(PALETTE))
    matplotlib.rcParams.update({
        "figure.figsize": (PAGE_WIDTH_IN, 3.2),
        "figure.dpi": CSS_PX_PER_IN,
        "savefig.dpi": RASTER_DPI,
        "font.size": 10,
        "axes.titlesize": 10.5,
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 9,
        "legend.title_fontsize": 9,
        "figure.titlesize": 11,
        "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE)),
        "image.cmap": SEQUENTIAL_CMAP,
        "figure.autolayout": False,
        "svg.fonttype": "none",  # text stays text: searchable, sharp, and measurable by tests
        "svg.hashsalt": "lossbook",  # deterministic SVG ids
    })


def label(value) -> str:
    """A code name or a tuple of them as words for a figure: ``("mlp", "bce")`` -> ``"MLP, BCE"``."""
    if isinstance(value, tuple):
        return ", ".join(label(v) for v in value)
    text = str(value)
    return DISPLAY_NAMES.get(text, text.replace("_", " "))


def config_label(model: str, loss: str = "") -> str:
    """A network configuration in words: ``("simplenn", "focal")`` or ``"simplenn+focal"`` ->
    ``"SimpleNN + focal"``; a name without a loss (a baseline, a network) alone."""
    if not loss and "+" in str(model):
        model, loss = str(model).split("+", 1)
    words = "SimpleNN" if model == "simplenn" else label(model)
    return f"{words} + {label(loss)}" if loss else words


def wrap(text: str, width: int = 28) -> str:
    """``text`` broken into lines of at most ``width`` characters, for long tick labels that must fit the page."""
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width=width)) or str(text)


def color_for(label: str, i: int = 0) -> str:
    """The loss's colour when ``label`` names a loss, else the i-th palette colour."""
    key = str(label).lower()
    for name, color in LOSS_COLORS.items():
        if key == name or key.startswith(name + " ") or key.endswith(" " + name):
            return color
    return PALETTE[i % len(PALETTE)]


def shades(color: str, n: int, *, lightest: float = 0.55) -> list[str]:
    """``n`` shades of one palette colour, light to dark (e.g. focal loss at increasing gamma).

    The lightest is ``color`` mixed with ``lightest`` parts white; the darkest
    is ``color`` itself, so the series still reads as that loss.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n!r}")
    base = np.array(matplotlib.colors.to_rgb(color))
    mix = np.linspace(lightest, 0.0, n) if n > 1 else np.array([0.0])
    return [matplotlib.colors.to_hex(base * (1 - m) + m) for m in mix]


def log_axis(ax, which: str = "x") -> None:
    """Put a log scale on ``ax``'s x (or y) axis with plain-number tick labels (0.001, 0.01, ...).

    matplotlib's default log labels are ``10^{-2}`` with exponents at 70 % of
    the tick size, below the book's 9-pt minimum; plain numbers read at full size.
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter

    if which not in ("x", "y"):
        raise ValueError(f"which must be 'x' or 'y', got {which!r}")
    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _new(ax, ncols=1, figsize=None):
    if ax is not None:
        axes = np.atleast_1d(ax)
        return axes.flat[0].figure, ax
    fig, ax = plt.subplots(1, ncols, figsize=figsize or (PAGE_WIDTH_IN, 3.2), squeeze=True)
    return fig, ax


# ------------------------------------------------------------ figures on the page
@dataclass(frozen=True)
class SavedFigure:
    """Where :func:`save_figure` wrote a figure, and how it reads on the page.

    ``width_in``: the saved width; ``display_scale``: the factor the browser
    shrinks it by to fit the column (1 when it fits); ``min_font_pt``: the
    smallest text as displayed, in points.
    """

    path: Path
    glue_key: str | None
    width_in: float
    height_in: float
    display_scale: float
    min_font_pt: float

    def _ipython_display_(self) -> None:
        """Nothing on the page when a chapter cell ends with ``save_figure(...)``: the figure is glued."""


def display_scale(width_in: float) -> float:
    """The factor by which the page shrinks an image ``width_in`` inches wide (natural size) into the column."""
    return min(1.0, COLUMN_PX / (width_in * CSS_PX_PER_IN))


def _svg_font_sizes(svg_text: str) -> list[float]:
    """Every font size in an SVG written by matplotlib with ``svg.fonttype = "none"``, in its user units."""
    return ([float(v) for v in re.findall(r"font-size:\s*([0-9.]+)px", svg_text)]
            + [float(v) for v in re.findall(r'font-size="([0-9.]+)"', svg_text)])


def _render_svg(fig, bbox) -> str:
    import io

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "lossbook"}):
        fig.savefig(buffer, format="svg", bbox_inches=bbox, metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def smallest_font_pt(fig) -> float:
    """The smallest font size (points, as drawn, before any shrinking by the page) of the text the figure draws.

    Measured on what matplotlib actually renders (an SVG of the figure with
    text kept as text), so hidden panels and ticks outside the view do not
    count. ``inf`` for a figure without text.
    """
    sizes = _svg_font_sizes(_render_svg(fig, "tight"))  # SVG user units are points
    return float(min(sizes)) if sizes else float("inf")


def save_figure(fig, chapter: str, name: str, *, glue_key: str | None = None, width_in: float = PAGE_WIDTH_IN,
                height_in: float | None = None, raster: bool = False, close: bool = True) -> SavedFigure:
    """Put ``fig`` on the page: size it for the column, save, glue, check its fonts, close.

    Parameters
    ----------
    fig : matplotlib Figure
    chapter, name : the file is ``figures/<chapter>/<name>.svg`` (``.png`` when ``raster``);
        a suffix in ``name`` is replaced.
    glue_key : the myst-nb glue name for the chapter's ``{glue:figure}`` block;
        default ``fig_<chapter>_<name>``; ``""`` saves without gluing.
    width_in : the figure's width in inches, at most :data:`PAGE_WIDTH_IN` (the column).
    height_in : the height; default: the height it was drawn at.
    raster : PNG at :data:`RASTER_DPI` for raster-heavy figures (images, dense
        scatter plots), shown at the column's width; otherwise SVG with text kept as text.

    The figure is re-laid-out at the new size (``tight_layout`` unless it has a
    layout engine) and saved with a tight bounding box; the saved size is what
    is measured. Raises ``ValueError`` naming the figure, and writes nothing,
    when its smallest text would be displayed below :data:`MIN_FONT_PT` (draw
    it with fewer panels, or drop the explicit ``fontsize``). Returns a
    :class:`SavedFigure`.
    """
    import os

    if not 0 < width_in <= PAGE_WIDTH_IN + 1e-9:
        raise ValueError(f"width_in must be in (0, {PAGE_WIDTH_IN:g}] (the text column), got {width_in!r}")
    if height_in is not None and not height_in > 0:
        raise ValueError(f"height_in must be positive, got {height_in!r}")
    stem = Path(name).stem
    if not re.fullmatch(r"[A-Za-z0-9_-]+", stem):
        raise ValueError(f"figure name must be a plain file name (letters, digits, _ and -), got {name!r}")
    height = height_in if height_in is not None else fig.get_size_inches()[1]
    figure_width = width_in
    for _ in range(8):  # text sticking out (legends, suptitles) widens the tight box: narrow the figure to match
        fig.set_size_inches(figure_width, height)
        if fig.get_layout_engine() is None:
            fig.tight_layout()
        bbox = fig.get_tightbbox(fig.canvas.get_renderer()).padded(0.04)
        if bbox.width <= width_in + 1e-3:
            break
        figure_width = max(0.5 * width_in, figure_width - 1.5 * (bbox.width - width_in) - 0.01)
    svg_text = _render_svg(fig, bbox)
    saved_w, saved_h = float(bbox.width), float(bbox.height)
    scale = display_scale(saved_w)
    sizes = _svg_font_sizes(svg_text)
    min_font = (min(sizes) if sizes else float("inf")) * scale
    if min_font < MIN_FONT_PT - 1e-6:
        if close:
            plt.close(fig)
        raise ValueError(
            f"figure {stem!r} of chapter {chapter!r}: its smallest text would be displayed at {min_font:.1f} pt "
            f"(< {MIN_FONT_PT:g} pt); saved {saved_w:.2f} in wide, shrunk by {scale:.2f} to fit the column. "
            f"Use fewer or larger panels, drop explicit font sizes below {MIN_FONT_PT:g}, "
            f"and label log axes with plots.log_axis (exponents are drawn small)")
    path = figure_path(chapter, f"{stem}.{'png' if raster else 'svg'}")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if raster:
            fig.savefig(tmp, format="png", dpi=RASTER_DPI, bbox_inches=bbox,
                        metadata={"Software": None, "lossbook:min_font_pt": f"{min_font:.2f}",
                                  "lossbook:display_width_px": f"{saved_w * CSS_PX_PER_IN * scale:.1f}"})
        else:
            tmp.write_text(svg_text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    key = f"fig_{chapter}_{stem}" if glue_key is None else glue_key
    if key:
        from IPython.display import SVG, Image
        from myst_nb import glue

        shown = (Image(filename=str(path), width=round(saved_w * CSS_PX_PER_IN * scale)) if raster
                 else SVG(data=svg_text))
        glue(key, shown, display=False)
    if close:
        plt.close(fig)
    return SavedFigure(path, key or None, saved_w, saved_h, scale, min_font)


def save(fig, chapter: str, name: str, *, dpi: int = 120) -> Path:
    """Write ``fig`` to ``figures/<chapter>/<name>`` (``.png`` added if no suffix) and return the path.

    Kept for chapters not yet moved to :func:`save_figure`, which sizes the
    figure for the page and glues it; new code uses that.
    """
    if not Path(name).suffix:
        name = f"{name}.png"
    path = figure_path(chapter, name)
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None} if path.suffix == ".png" else None)
    return path


_SVG_LENGTH = re.compile(r"^\s*([0-9.]+)\s*(pt|px|in)?\s*$")
_SVG_UNITS_PER_IN = {"pt": 72.0, "px": 96.0, "in": 1.0, None: 96.0}


def measure_saved_figure(path: str | Path) -> dict:
    """Width and smallest font of a figure file as the page displays it.

    ``{"width_in", "display_scale", "display_width_px", "min_font_pt"}``. For an
    SVG, read from the file (its width, and every ``font-size`` in user units,
    which matplotlib writes in points). For a PNG written by
    :func:`save_figure`, the width is pixels / :data:`RASTER_DPI` and the
    smallest font is the value it measured on the figure and stored in the
    file; a PNG without it raises ``ValueError`` (not made by ``save_figure``).
    """
    path = Path(path)
    if path.suffix == ".svg":
        import xml.etree.ElementTree as ET

        root = ET.parse(path).getroot()
        match = _SVG_LENGTH.match(root.get("width", ""))
        if not match:
            raise ValueError(f"{path}: the <svg> element has no width in pt, px or in: {root.get('width')!r}")
        width_in = float(match.group(1)) / _SVG_UNITS_PER_IN[match.group(2)]
        view_box = [float(v) for v in (root.get("viewBox") or "").replace(",", " ").split()]
        units_per_pt = (view_box[2] / (width_in * 72.0)) if len(view_box) == 4 else 1.0
        text = path.read_text(encoding="utf-8")
        sizes = [size / units_per_pt for size in _svg_font_sizes(text)]
        scale = display_scale(width_in)
        return {"width_in": width_in, "display_scale": scale, "display_width_px": width_in * CSS_PX_PER_IN * scale,
                "min_font_pt": (min(sizes) * scale) if sizes else float("inf")}
    if path.suffix == ".png":
        from PIL import Image as PILImage

        with PILImage.open(path) as image:
            width_px = image.size[0]
            info = dict(image.info)
        if "lossbook:min_font_pt" not in info:
            raise ValueError(f"{path}: a PNG not written by lossbook.core.plots.save_figure "
                             "(no measured font size in it); re-run its chapter")
        width_in = width_px / RASTER_DPI
        return {"width_in": width_in, "display_scale": display_scale(width_in),
                "display_width_px": float(info["lossbook:display_width_px"]),
                "min_font_pt": float(info["lossbook:min_font_pt"])}
    raise ValueError(f"{path}: figures are .svg or .png, got {path.suffix!r}")


# ------------------------------------------------------------ ROC and PR curves
def _check_fold(y_true, y_prob, where):
    y = validate.labels(np.ravel(y_true), f"{where}: y_true")
    p = validate.probabilities(np.ravel(y_prob), f"{where}: y_prob", len(y))
    if len(np.unique(y)) != 2:
        raise ValueError(f"{where}: y_true must contain both classes to draw ROC/PR curves")
    return y, p


def mean_curves(folds: Sequence[tuple], grid: np.ndarray = CURVE_GRID) -> dict:
    """Per-fold ROC and PR curves on a common grid.

    Returns ``dict(grid, tpr, precision, roc_auc, pr_auc, prevalence)``:
    ``tpr`` (n_folds, len(grid)) is each fold's TPR at the grid's FPR values;
    ``precision`` (n_folds, len(grid)) the interpolated precision (best precision
    at recall >= r) at the grid's recall values; the AUCs are per fold
    (:func:`lossbook.core.metrics.roc_auc` and :func:`~lossbook.core.metrics.average_precision`).
    """
    from sklearn.metrics import precision_recall_curve, roc_curve

    from lossbook.core.metrics import average_precision, roc_auc

    tprs, precs, rocs, aps, prev = [], [], [], [], []
    for k, (y_true, y_prob) in enumerate(folds):
        y, p = _check_fold(y_true, y_prob, f"fold {k}")
        fpr, tpr, _ = roc_curve(y, p)
        tprs.append(np.interp(grid, fpr, tpr))
        tprs[-1][0] = 0.0
        precision, recall, _ = precision_recall_curve(y, p)
        # recall is decreasing; interpolated precision = running max from high recall down
        order = np.argsort(recall)
        r, pr = recall[order], np.maximum.accumulate(precision[order][::-1])[::-1]
        precs.append(np.interp(grid, r, pr))
        rocs.append(roc_auc(y, p))
        aps.append(average_precision(y, p))
        prev.append(y.mean())
    if not tprs:
        raise ValueError("folds is empty: give at least one (y_true, y_prob) pair")
    return {"grid": grid, "tpr": np.array(tprs), "precision": np.array(precs),
            "roc_auc": np.array(rocs), "pr_auc": np.array(aps), "prevalence": float(np.mean(prev))}


def roc_pr_curves(groups, *, ax=None, band: str = "sd", title: str | None = None):
    """Mean ROC and PR curves with a band across folds, one line per group.

    Parameters
    ----------
    groups : mapping ``{label: [(y_true, y_prob), ...]}`` or a list of ``(y_true, y_prob)``
        One entry per fold (a plain list is one group labelled "model").
    ax : pair of axes ``(roc_ax, pr_ax)``, optional
    band : "sd" (mean +/- one standard deviation across folds) or "range" (min to max)

    Returns ``(fig, (roc_ax, pr_ax))``. Legends give the mean AUC +/- sd over
    folds; the PR panel's dotted line is the positive rate (a random ranker).
    """
    if band not in ("sd", "range"):
        raise ValueError(f"band must be 'sd' or 'range', got {band!r}")
    if not isinstance(groups, Mapping):
        groups = {"model": list(groups)}
    fig, axes = _new(ax, ncols=2, figsize=(PAGE_WIDTH_IN, 3.4))
    roc_ax, pr_ax = np.atleast_1d(axes)[:2]
    prevalence = []
    for i, (name, folds) in enumerate(groups.items()):
        c = mean_curves(folds)
        color = color_for(name, i)
        label_text = label(name)
        prevalence.append(c["prevalence"])
        for panel, values, aucs, name in ((roc_ax, c["tpr"], c["roc_auc"], "AUC"),
                                          (pr_ax, c["precision"], c["pr_auc"], "AP")):
            mean = values.mean(axis=0)
            if band == "sd":
                lo, hi = mean - values.std(axis=0), mean + values.std(axis=0)
            else:
                lo, hi = values.min(axis=0), values.max(axis=0)
            text = f"{label_text} ({name} {aucs.mean():.3f}" + (f" ± {aucs.std(ddof=1):.3f})" if len(aucs) > 1 else ")")
            panel.plot(c["grid"], mean, color=color, lw=1.8, label=text)
            if len(values) > 1:
                panel.fill_between(c["grid"], np.clip(lo, 0, 1), np.clip(hi, 0, 1), color=color, alpha=0.18, lw=0)
    roc_ax.plot([0, 1], [0, 1], ls=":", color=NEUTRAL, lw=1)
    pr_ax.axhline(float(np.mean(prevalence)), ls=":", color=NEUTRAL, lw=1)
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01), title="ROC")
    pr_ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.01), title="precision-recall")
    for panel in (roc_ax, pr_ax):
        panel.legend(loc="lower right" if panel is roc_ax else "upper right", frameon=True)
    if title:
        fig.suptitle(title)
    return fig, (roc_ax, pr_ax)


# ---------------------------------------------------------- confusion matrices
def confusion_grid(matrices: Sequence, titles: Sequence[str], *, class_names=("negative", "positive"),
                   normalize: bool = False, ncols: int | None = None, ax=None, cmap: str = SEQUENTIAL_CMAP,
                   row_titles: Sequence[str] | None = None):
    """Confusion matrices on a grid, counts and row shares written in each cell.

    ``matrices``: list of (k, k) arrays, rows = true class, columns = predicted,
    filled into the grid row by row (``ncols`` per row). ``titles``: one per
    matrix, shown above it; ``row_titles``: one per grid row, shown at its left
    (use these for a grid of, say, models by losses). ``normalize=True`` colours
    by the share of each true class (row), so matrices from test sets of
    different sizes compare. The figure is sized for the page: at most four
    panels per row for two classes, three for three, two for more. Returns ``(fig, axes)``.
    """
    mats = [np.asarray(m) for m in matrices]
    if len(mats) != len(titles) or not mats:
        raise ValueError(f"give one title per matrix: {len(mats)} matrices, {len(titles)} titles")
    k = len(class_names)
    for t, m in zip(titles, mats):
        if m.shape != (k, k):
            raise ValueError(f"matrix {t!r} has shape {m.shape}, expected ({k}, {k}) for class_names {list(class_names)}")
    n = len(mats)
    ncols = ncols or min(n, 4 if k <= 2 else 3 if k == 3 else 2)
    nrows = int(np.ceil(n / ncols))
    if row_titles is not None and len(row_titles) != nrows:
        raise ValueError(f"give one row title per grid row: {nrows} rows, {len(row_titles)} row titles")
    if ax is None:
        panel = min((PAGE_WIDTH_IN - 0.9) / ncols, 0.5 * k + 1.0)  # inches per matrix, labels aside
        label_room = 0.6 if k <= 2 else 1.0  # rotated class names under the last row
        fig, axes = plt.subplots(nrows, ncols, figsize=(min(PAGE_WIDTH_IN, panel * ncols + 0.9),
                                                       panel * nrows + label_room), squeeze=False)
    else:
        axes = np.atleast_2d(np.asarray(ax, dtype=object))
        fig = axes.flat[0].figure
    # short tick labels keep neighbouring panels apart ("negative" "positive" must not run together)
    ticks = [str(c) for c in class_names]
    for i, panel_ax in enumerate(axes.flat):
        if i >= n:
            panel_ax.axis("off")
            continue
        m = mats[i].astype(float)
        rows = m.sum(axis=1, keepdims=True)
        share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
        shown = share if normalize else m
        top = 1.0 if normalize else max(m.max(), 1.0)
        panel_ax.imshow(shown, cmap=cmap, vmin=0, vmax=top)
        for r in range(k):
            for c in range(k):
                dark = shown[r, c] > 0.55 * top
                panel_ax.text(c, r, f"{int(mats[i][r, c])}\n{share[r, c]:.0%}", ha="center", va="center",
                              fontsize=MIN_FONT_PT, color="white" if dark else "black", linespacing=1.1)
        first_col, last_row = i % ncols == 0, i // ncols == nrows - 1 or i + ncols >= n
        panel_ax.set_xticks(range(k), ticks if last_row else [""] * k,
                            rotation=40 if k > 2 else 0, ha="right" if k > 2 else "center",
                            rotation_mode="anchor")
        panel_ax.set_yticks(range(k), ticks if first_col else [""] * k)
        panel_ax.set_xlabel("predicted" if last_row else "")
        ylabel = "true" if first_col else ""
        if first_col and row_titles is not None:
            ylabel = f"{row_titles[i // ncols]}\n{ylabel}"
        panel_ax.set_ylabel(ylabel)
        panel_ax.set_title(titles[i])
        panel_ax.grid(False)
    fig.tight_layout()
    return fig, axes


def waterfalls(panels: Mapping[str, tuple], *, start_label: str = "start", end_label: str = "end"):
    """One waterfall per panel (stacked vertically, sharing the x-axis): a grey start bar, one
    floating bar per step with its 95 % interval, and a black end bar.

    ``panels``: y-axis label -> ``(start value, {step label: Estimate}, end value)``.
    """
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.4 * len(panels)), squeeze=False, sharex=True)
    for ax, (ylabel, (start, steps, end)) in zip(axes[:, 0], panels.items()):
        level, labels, x = start, [start_label], 0
        ax.bar(x, level, color="grey", width=0.6)
        for step, part in steps.items():
            x += 1
            bottom = level if part.estimate >= 0 else level + part.estimate
            ax.bar(x, abs(part.estimate), bottom=bottom, width=0.6, color=color_for(step, x))
            top = level + part.estimate
            ax.errorbar(x, top, yerr=[[part.estimate - part.ci_low], [part.ci_high - part.estimate]],
                        color="black", capsize=3, lw=1)
            ax.plot([x - 1.3, x + 0.3], [level, level], ":", color="grey", lw=0.8)
            level = top
            labels.append(step)
        ax.bar(x + 1, end, color="black", width=0.6)
        labels.append(end_label)
        ax.set_xticks(range(len(labels)), labels)
        ax.set(ylabel=ylabel, ylim=(min(0.4, start - 0.1), 1.02))
    return fig


def loss_curves(grid: np.ndarray, curves: Sequence[tuple]):
    """Loss (top) and its derivative with respect to the predicted probability (bottom) of one
    positive example (left) and one negative (right), over the probabilities ``grid``.

    ``curves``: ``(legend text, loss name, loss parameters, colour, line style)`` per line, the
    losses of :mod:`lossbook.core.losses` (:func:`~lossbook.core.losses.loss_and_gradient`).
    """
    from lossbook.core import losses

    fig, axes = plt.subplots(2, 2, figsize=(PAGE_WIDTH_IN, 5.6), sharex=True)
    for col, y in enumerate((1, 0)):
        for text, name, params, color, style in curves:
            value, grad = losses.loss_and_gradient(name, y, grid, **params)
            axes[0, col].plot(grid, value, style, color=color, lw=1.6, label=text)
            axes[1, col].plot(grid, grad, style, color=color, lw=1.6)
        axes[0, col].set_title(f"{'positive' if y else 'negative'} example (y = {y})")
        axes[0, col].set_ylim(0, 5)
        axes[1, col].set_ylim(-10, 10)
        axes[1, col].set_xlabel("predicted probability p")
    axes[0, 0].set_ylabel("loss")
    axes[1, 0].set_ylabel("d loss / d p")
    axes[0, 0].legend()
    return fig


def decision_regions(predict, X: np.ndarray, y: np.ndarray, titles: Sequence[str], *, marked=None,
                     marked_label: str = "marked minority example", resolution: int = 300):
    """Where each of several 2-feature classifiers predicts the minority (probability above 0.5),
    one panel each, over the data: majority points small, minority points larger, ``marked``
    minority points (a boolean mask, e.g. noisy labels) as crosses.

    ``predict``: maps grid points (n, 2) to probabilities (n_classifiers, n), one row per title.
    """
    xs = np.linspace(X[:, 0].min() - 1, X[:, 0].max() + 1, resolution)
    ys = np.linspace(X[:, 1].min() - 1, X[:, 1].max() + 1, resolution)
    xx, yy = np.meshgrid(xs, ys)
    grid = predict(np.c_[xx.ravel(), yy.ravel()])
    marked = np.zeros(len(y), dtype=bool) if marked is None else np.asarray(marked, dtype=bool)
    majority, minority = PALETTE[0], PALETTE[4]
    background = [shades(majority, 2, lightest=0.85)[0], shades(minority, 2, lightest=0.75)[0]]
    fig, axes = plt.subplots(1, len(titles), figsize=(PAGE_WIDTH_IN, 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, z, title in zip(axes, grid, titles):
        ax.contourf(xx, yy, z.reshape(xx.shape), levels=[0, 0.5, 1], colors=background, alpha=0.9)
        ax.scatter(*X[y == 0].T, s=3, c=majority, alpha=0.4, label="majority")
        ax.scatter(*X[(y == 1) & ~marked].T, s=12, c=minority, label="minority")
        ax.scatter(*X[(y == 1) & marked].T, s=20, c=minority, marker="x", label=marked_label)
        ax.set_title(title)
        ax.set_xlabel("feature 1")
    axes[0].set_ylabel("feature 2")
    axes[0].legend(loc="lower left")
    return fig


def mean_roc_grid(frames: Mapping[str, pd.DataFrame], models: Sequence[str], losses: Sequence[str]):
    """ROC curves, one panel per (row of ``frames``, model): per loss, the mean true-positive rate over
    the frame's folds with a band of one standard deviation, and the mean ROC-AUC in the legend.

    ``frames``: row label -> frame with columns ``model``, ``loss``, ``y_true``, ``y_prob`` (one row per
    fold). Returns the figure (page width, 2.6 in per row).
    """
    fig, axes = plt.subplots(len(frames), len(models), figsize=(7, 2.6 * len(frames)),
                             squeeze=False, sharex=True, sharey=True)
    for row, (row_label, frame) in enumerate(frames.items()):
        for col, model in enumerate(models):
            ax = axes[row, col]
            for i, loss in enumerate(losses):
                g = frame[(frame.model == model) & (frame.loss == loss)]
                c = mean_curves(list(zip(g["y_true"], g["y_prob"])))
                mean, sd = c["tpr"].mean(axis=0), c["tpr"].std(axis=0)
                color = color_for(loss, i)
                ax.plot(c["grid"], mean, color=color, label=f"{label(loss)} {c['roc_auc'].mean():.2f}")
                ax.fill_between(c["grid"], np.clip(mean - sd, 0, 1), np.clip(mean + sd, 0, 1), color=color,
                                alpha=0.15, lw=0)
            ax.plot([0, 1], [0, 1], ":", color="grey", lw=1)
            ax.set(xlabel="false positive rate" if row == len(frames) - 1 else "",
                   ylabel=f"{row_label}\ntrue positive rate" if col == 0 else "",
                   title=config_label(model) if row == 0 else "")
            ax.legend(loc="lower right", title="loss, AUC", handlelength=1, borderpad=0.3, labelspacing=0.2)
    return fig


def confusion_panels(matrices: Mapping, *, class_names=("negative", "positive"), normalize: bool = False,
                     cmap: str = SEQUENTIAL_CMAP):
    """One grid of confusion matrices keyed by ``(row, column)``, e.g. ``{(model, loss): matrix}``.

    Rows and columns are labelled in words (:func:`label`): ``("mlp", "bce")``
    puts the matrix in the MLP row under the BCE column. Draw one grid per
    protocol (one figure each) rather than mixing protocols in a grid. Missing
    (row, column) pairs leave an empty panel. Returns ``(fig, axes)``.
    """
    if not matrices:
        raise ValueError("matrices is empty: give {(row, column): (k, k) matrix}")
    bad = [key for key in matrices if not (isinstance(key, tuple) and len(key) == 2)]
    if bad:
        raise ValueError(f"matrices must be keyed by (row, column) pairs, got keys {bad[:3]}")
    rows = list(dict.fromkeys(r for r, _ in matrices))
    cols = list(dict.fromkeys(c for _, c in matrices))
    k = len(class_names)
    empty = np.zeros((k, k), dtype=int)
    order = [(r, c) for r in rows for c in cols]
    fig, axes = confusion_grid([matrices.get(key, empty) for key in order], [label(c) for _, c in order],
                               class_names=class_names, normalize=normalize, ncols=len(cols), cmap=cmap,
                               row_titles=[label(r) for r in rows])
    for panel_ax, key in zip(axes.flat, order):
        if key not in matrices:
            panel_ax.axis("off")
        elif key[0] != rows[0]:
            panel_ax.set_title("")  # the column heading is written once, on the top row
    return fig, axes


# --------------------------------------------------------------- bar charts
def _frame(x, index=None, columns=None):
    if x is None:
        return None
    if isinstance(x, pd.DataFrame):
        return x
    if isinstance(x, pd.Series):
        return x.to_frame()
    a = np.asarray(x, dtype=float)
    frame = pd.DataFrame(a.reshape(len(a), -1))
    if index is not None and len(index) == frame.shape[0]:
        frame.index = index
    if columns is not None and len(columns) == frame.shape[1]:
        frame.columns = columns
    return frame


def bar_with_errors(means, *, err=None, ci_low=None, ci_high=None, reference=None, reference_label: str = "paper",
                    ax=None, ylabel: str | None = None, title: str | None = None, ylim=None, labels=None):
    """Bars of means with error bars, optionally grouped, with reference values.

    Parameters
    ----------
    means : Series/1-D array (one bar per entry) or DataFrame (rows = groups on
        the x axis, columns = bars within a group, e.g. rows = models, columns = losses)
    err : same shape, optional
        Symmetric half-widths (e.g. a standard deviation).
    ci_low, ci_high : same shape, optional
        Interval bounds (e.g. a 95% interval); used instead of ``err``.
    reference : number, or same shape as ``means``, optional
        A number draws a horizontal line (e.g. the all-positive F1); an array
        draws a black marker on each bar (e.g. the paper's reported value).
        NaN entries are skipped.
    labels : names of the bars when ``means`` is a plain array

    Returns ``(fig, ax)``.
    """
    m = _frame(means, index=labels)
    idx, cols = m.index, m.columns
    e = _frame(err, idx, cols)
    lo, hi = _frame(ci_low, idx, cols), _frame(ci_high, idx, cols)
    if (lo is None) != (hi is None):
        raise ValueError("give both ci_low and ci_high, or neither")
    for name, f in (("err", e), ("ci_low", lo), ("ci_high", hi)):
        if f is not None and f.shape != m.shape:
            raise ValueError(f"{name} has shape {f.shape} but means has shape {m.shape}")
    fig, ax = _new(ax, figsize=(min(PAGE_WIDTH_IN, max(4.0, 0.9 * len(idx) * max(1, len(cols)) ** 0.6 + 1.5)), 3.4))
    n_bars = len(cols)
    width = 0.8 / n_bars
    x = np.arange(len(idx))
    ref_frame = None
    if reference is not None and not np.isscalar(reference):
        ref_frame = _frame(reference, idx, cols)
        if ref_frame.shape != m.shape:
            raise ValueError(f"reference has shape {ref_frame.shape} but means has shape {m.shape}")
    marked = False
    for j, col in enumerate(cols):
        pos = x - 0.4 + width * (j + 0.5)
        vals = m[col].to_numpy(dtype=float)
        if lo is not None:
            yerr = np.vstack([vals - lo[col].to_numpy(float), hi[col].to_numpy(float) - vals])
        elif e is not None:
            yerr = e[col].to_numpy(float)
        else:
            yerr = None
        bar_label = None if (n_bars == 1 and col == 0) else label(col)
        ax.bar(pos, vals, width * 0.92, yerr=yerr, capsize=3, color=color_for(str(col), j) if n_bars > 1 else PALETTE[0],
               label=bar_label, error_kw={"elinewidth": 1, "ecolor": REFERENCE})
        if ref_frame is not None:
            rv = ref_frame[col].to_numpy(float)
            ok = ~np.isnan(rv)
            ax.scatter(pos[ok], rv[ok], marker="D", s=22, color=REFERENCE, zorder=3,
                       label=reference_label if not marked and ok.any() else None)
            marked = marked or ok.any()
    if reference is not None and np.isscalar(reference):
        ax.axhline(float(reference), ls="--", color=NEUTRAL, lw=1, label=reference_label)
    ax.set_xticks(x, [label(i) for i in idx], rotation=0 if len(idx) < 6 else 30, ha="center" if len(idx) < 6 else "right")
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if ylim is not None:
        ax.set_ylim(*ylim)
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(frameon=True)
    return fig, ax


# ----------------------------------------------------------- training curves
def training_curves(histories, *, metrics: Sequence[str] = ("loss",), ax=None, title: str | None = None):
    """Training (solid) and validation (dashed, ``val_`` keys) curves per epoch.

    ``histories``: a history dict (``{"loss": [...], "val_loss": [...]}``, e.g.
    Keras's ``History.history``), a list of them (folds: thin lines plus their
    mean), or ``{label: dict or list of dicts}``. One panel per metric.
    Returns ``(fig, axes)``.
    """
    def is_history(h):
        return isinstance(h, Mapping) and all(
            np.ndim(v) == 1 and not isinstance(next(iter(v), None), Mapping) for v in h.values())

    if is_history(histories):
        histories = {"model": histories}
    elif not isinstance(histories, Mapping):
        histories = {"model": list(histories)}
    fig, axes = _new(ax, ncols=len(metrics), figsize=(PAGE_WIDTH_IN if len(metrics) > 1 else 0.6 * PAGE_WIDTH_IN, 3.2))
    axes_list = list(np.atleast_1d(axes))
    for i, (name, runs) in enumerate(histories.items()):
        runs = [runs] if isinstance(runs, Mapping) else list(runs)
        color = color_for(name, i)
        for panel, metric in zip(axes_list, metrics):
            for key, style in ((metric, "-"), (f"val_{metric}", "--")):
                curves = [np.asarray(r[key], dtype=float) for r in runs if key in r]
                if not curves:
                    if key == metric:
                        raise ValueError(f"history {name!r} has no {metric!r}; keys: {sorted(runs[0])}")
                    continue
                length = min(len(c) for c in curves)  # early stopping: folds may stop at different epochs
                stack = np.array([c[:length] for c in curves])
                epochs = np.arange(1, length + 1)
                if len(curves) > 1:
                    for c in curves:
                        panel.plot(np.arange(1, len(c) + 1), c, style, color=color, lw=0.6, alpha=0.35)
                panel.plot(epochs, stack.mean(axis=0), style, color=color, lw=1.8,
                           label=f"{label(name)} ({'validation' if key.startswith('val_') else 'training'})")
            panel.set(xlabel="epoch", ylabel=label(metric))
    for panel in axes_list:
        panel.legend(frameon=True)
    if title:
        fig.suptitle(title)
    return fig, axes


# ------------------------------------------------------ reliability diagram
def reliability_diagram(groups, *, n_bins: int = 10, strategy: str = "uniform", ax=None, title: str | None = None):
    """Observed positive rate against mean predicted probability, per bin.

    ``groups``: ``(y_true, y_prob)`` or ``{label: (y_true, y_prob)}`` (pool folds
    first). Uses scikit-learn's ``calibration_curve``; the legend gives the Brier
    score and the expected calibration error (equal-width bins). A perfectly
    calibrated model lies on the diagonal. Returns ``(fig, ax)``.
    """
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    if strategy not in ("uniform", "quantile"):
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    if not isinstance(groups, Mapping):
        groups = {"model": groups}
    fig, ax = _new(ax, figsize=(0.7 * PAGE_WIDTH_IN, 4.0))
    ax.plot([0, 1], [0, 1], ls=":", color=NEUTRAL, lw=1, label="perfect calibration")
    for i, (name, (y_true, y_prob)) in enumerate(groups.items()):
        y, p = _check_fold(y_true, y_prob, f"group {name!r}")
        frac, mean_p = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
        text = f"{label(name)} (Brier {brier_score_loss(y, p):.3f}, ECE {expected_calibration_error(y, p, n_bins=n_bins):.3f})"
        ax.plot(mean_p, frac, "o-", color=color_for(name, i), ms=4, lw=1.5, label=text)
    ax.set(xlabel="mean predicted probability", ylabel="observed positive rate", xlim=(0, 1), ylim=(0, 1))
    ax.legend(frameon=True, loc="upper left")
    if title:
        ax.set_title(title)
    return fig, ax


# ------------------------------------------------- reliability diagrams, side by side
def reliability_panels(panels: Mapping[str, Mapping[str, tuple]], *, n_bins: int = 10, height_in: float = 3.4):
    """Reliability diagrams side by side, one panel per entry of ``panels``, sized for the page.

    ``panels``: ``{panel title: {curve label: (y_true, y_prob)}}`` (pool folds first);
    labels name losses or configurations (coloured by :func:`color_for`, named by :func:`label`).
    Each curve plots the share of positives against the mean predicted probability in
    each non-empty equal-width bin (:func:`lossbook.core.metrics.reliability_curve`); the
    dotted diagonal is perfect calibration. The panels share both axes, [0, 1]. Returns ``(fig, axes)``.
    """
    from lossbook.core.metrics import reliability_curve

    if not isinstance(panels, Mapping) or not panels:
        raise ValueError("panels must be a non-empty mapping {panel title: {label: (y_true, y_prob)}}")
    fig, axes = plt.subplots(1, len(panels), figsize=(PAGE_WIDTH_IN, height_in), sharex=True, sharey=True,
                             squeeze=False)
    axes = axes[0]
    for ax, (title, groups) in zip(axes, panels.items()):
        ax.plot([0, 1], [0, 1], ls=":", color=NEUTRAL, lw=1, label="perfect calibration")
        for i, (name, (y_true, y_prob)) in enumerate(groups.items()):
            curve = reliability_curve(y_true, y_prob, n_bins=n_bins)
            seen = curve[curve["count"] > 0]
            ax.plot(seen["mean_prob"], seen["frequency"], "o-", color=color_for(name, i), ms=4, lw=1.5,
                    label=label(name))
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="mean predicted probability", title=title)
    axes[0].set_ylabel("observed share of positives")
    axes[0].legend(frameon=True, loc="upper left")
    return fig, axes


# ------------------------------------------------- annotated heat maps with one colour scale
def heat_panels(panels: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]], *, vmin: float, vmax: float,
                colorbar_label: str, cmap: str = "Blues", ncols: int = 2, height_in: float = 2.6):
    """Annotated heat maps side by side: ``{title: (values, annotations)}``, two frames of one shape
    (rows down, columns across; annotations are the cell texts). One colour scale for all panels.
    Returns ``(fig, axes)``.
    """
    nrows = -(-len(panels) // ncols)
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, height_in * nrows))
    grid = fig.add_gridspec(nrows, ncols + 1, width_ratios=[1] * ncols + [0.05])  # the last column: the scale
    axes = np.array([[fig.add_subplot(grid[r, c]) for c in range(ncols)] for r in range(nrows)])
    image = None
    for ax, (title, (values, notes)) in zip(axes.flat, panels.items()):
        image = ax.imshow(values.to_numpy(dtype=float), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
        ax.set_xticks(range(values.shape[1]), values.columns)
        ax.set_yticks(range(values.shape[0]), values.index)
        ax.set(title=title, xlabel=values.columns.name, ylabel=values.index.name)
        ax.grid(False)
        for (i, j), text in np.ndenumerate(notes.to_numpy()):
            red, green, blue, _ = image.cmap(image.norm(values.iat[i, j]))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5  # white text on a dark cell
            ax.text(j, i, text, ha="center", va="center", color="white" if dark else "black")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.colorbar(image, cax=fig.add_subplot(grid[:, -1]), label=colorbar_label)
    return fig, axes


# ------------------------------------------------- overlaid histograms, one panel per quantity
def histogram_grid(panels: Mapping[str, Mapping[str, tuple]], *, discrete: Sequence[str] = (), n_bins: int = 30,
                   ncols: int = 2, height_in: float = 5.0, ylabel: str = "count"):
    """Overlaid histograms, one panel per quantity, on a grid sized for the page.

    ``panels``: ``{x-axis label: {legend text: (values, colour)}}``, ``values`` 1-D.
    Within a panel every series shares one set of bins: unit-wide bins centred on the
    integers ``0 .. max`` for the panels named in ``discrete`` (counts), else ``n_bins``
    equal bins from the smallest to the largest value. Bars are half transparent so
    that overlaps show. The first column's panels carry ``ylabel`` and the first panel
    the legend. Returns ``(fig, axes)`` (axes a 2-D array).
    """
    if not isinstance(panels, Mapping) or not panels:
        raise ValueError("panels must be a non-empty mapping {x label: {legend: (values, colour)}}")
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH_IN, height_in), squeeze=False)
    for ax, (xlabel, series) in zip(axes.flat, panels.items()):
        values = [np.asarray(v, dtype=float) for v, _ in series.values()]
        if xlabel in discrete:
            bins = np.arange(0, max(v.max() for v in values) + 2) - 0.5
        else:
            bins = np.linspace(min(v.min() for v in values), max(v.max() for v in values), n_bins)
        for v, (text, (_, color)) in zip(values, series.items()):
            ax.hist(v, bins=bins, alpha=0.6, color=color, label=text)
        ax.set_xlabel(xlabel)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    axes[0, 0].legend()
    return fig, axes


# ------------------------------------------------ stacked bar panels, history grids
def bar_panels(panels: Mapping[str, Mapping], *, ylabel: str | None = None, ylim=None, height_in: float = 2.6):
    """Grouped bars (:func:`bar_with_errors`), one panel per entry of ``panels``, stacked in a column
    with a shared x axis and one legend, above the top panel.

    ``panels``: title -> ``{"means", "err", "reference"}`` (as :func:`bar_with_errors` takes them)
    and optionally ``"line"``, a number drawn as a dotted grey line (e.g. an all-positive F1).
    Returns the figure (page width, ``height_in`` per panel).
    """
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, height_in * len(panels)), sharex=True, squeeze=False)
    for i, (ax, (title, panel)) in enumerate(zip(axes[:, 0], panels.items())):
        bar_with_errors(panel["means"], err=panel.get("err"), reference=panel.get("reference"), ax=ax,
                        ylabel=ylabel, title=title, ylim=ylim)
        if panel.get("line") is not None:
            ax.axhline(panel["line"], ls=":", color="grey", lw=1)
        if i:
            ax.get_legend().remove()  # one legend, on the top panel
        else:
            ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.12), frameon=False)
    return fig


def mean_history_grid(histories: Mapping[str, Mapping[str, Sequence[Mapping]]], *,
                      panels=(("loss", "val_loss", "loss"), ("val_auc", None, "validation ROC-AUC")),
                      legend_title: str = "loss"):
    """Mean training histories on a grid: one row per entry of ``histories`` (title -> ``{series:
    [history dict, ...]}``, e.g. network -> loss -> fold histories), one column per panel.

    ``panels``: ``(key, dashed key or None, y label)``; each series is the mean over its histories
    up to the shortest one (early stopping ends them at different epochs), the dashed key drawn
    dashed in the same colour. Returns the figure (page width, 2.6 in per row).
    """
    fig, axes = plt.subplots(len(histories), len(panels), figsize=(7, 2.6 * len(histories)), squeeze=False)
    for row, (title, series) in enumerate(histories.items()):
        for col, (key, dashed, ylabel) in enumerate(panels):
            ax = axes[row, col]
            for i, (name, runs) in enumerate(series.items()):
                length = min(len(r[key]) for r in runs)
                epochs = np.arange(1, length + 1)
                ax.plot(epochs, np.array([r[key][:length] for r in runs]).mean(0), color=color_for(name, i),
                        label=label(name))
                if dashed:
                    ax.plot(epochs, np.array([r[dashed][:length] for r in runs]).mean(0), "--", color=color_for(name, i))
            ax.set(xlabel="epoch" if row == len(histories) - 1 else "", ylabel=ylabel, title=title)
            ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
            if row == 0 and col == 0:
                ax.legend(title=legend_title)
    return fig
