"""Tables as in a paper: headers in words, even decimals, no ``-0.000``, numbered and captioned.

A chapter turns a DataFrame into a page table with :func:`glue_table`; the
page gives it a number, a caption and a label in Markdown:

.. code-block:: python

    tables.glue_table("tbl_losses_scales", comparison, headers={"roc_auc": "ROC-AUC"})

.. code-block:: markdown

    ````{table} What each loss charges the same predictions.
    :name: tbl-losses-scales

    ```{glue:md} tbl_losses_scales
    :format: myst
    ```
    ````

The glued value is a Markdown pipe table, so the ``{table}`` directive around
it makes a real table: numbered "Table N" (``numfig``), captioned, and
cross-referenced with ``{numref}`tbl-losses-scales```. The notebook keeps the
DataFrame's plain-text form too, for readers of the ``.ipynb``.

The formatting rules (:func:`page_table`):

* headers in words: the ``headers`` mapping, else the column's code name in
  words (:func:`lossbook.core.plots.label`: ``leak_free`` -> ``leak-free``,
  tuples -> ``"MLP, BCE"``);
* numbers with the same decimals down a column: 3 when the column's largest
  magnitude is at most 1 (scores, shares), 2 below 10, 1 below 100, else 0
  (or ``decimals``);
  integers as integers; never scientific notation; a value that rounds to
  zero is ``0`` without a sign, a non-zero one that would print as zero is
  ``< 0.001``; a minus sign, not a hyphen;
* booleans as "yes"/"no"; an :class:`~lossbook.core.estimate.Estimate` as
  ``0.750 [0.680, 0.821]`` (estimate and interval, the column's decimals);
* missing values: rows and columns with nothing in them are dropped; any that
  remain print as an em dash, and :func:`glue_table` refuses them unless
  ``missing_means`` says what a dash means (write that in the caption).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import pandas as pd

from lossbook.core.plots import label

#: What a missing value prints as.
DASH = "—"
MINUS = "−"


def auto_decimals(values) -> int:
    """Decimals for a column of numbers: 3 up to 1 in magnitude (scores, shares), 2 below 10, 1 below 100, else 0."""
    finite = [abs(float(v)) for v in values if _is_number(v) and math.isfinite(float(v))]
    if not finite:
        return 3
    top = max(finite)
    return 3 if top <= 1 else 2 if top < 10 else 1 if top < 100 else 0


def _is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value)) or bool(pd.isna(value) is True)
    except (TypeError, ValueError):
        return False


def _is_number(value) -> bool:
    return isinstance(value, (Real, np.number)) and not isinstance(value, (bool, np.bool_)) and not _is_missing(value)


def format_number(value, decimals: int) -> str:
    """``value`` with ``decimals`` decimals, as a page shows it (see the module's rules)."""
    if _is_missing(value):
        return DASH
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (Integral, np.integer)):
        return f"{int(value)}".replace("-", MINUS)
    x = float(value)
    if math.isinf(x):
        return "∞" if x > 0 else f"{MINUS}∞"
    text = f"{x:.{decimals}f}"
    if float(text) == 0.0:
        if x == 0.0:
            return f"{0:.{decimals}f}"
        smallest = f"{10.0 ** -decimals:.{decimals}f}"
        return f"< {smallest}" if x > 0 else f"> {MINUS}{smallest}"
    return text.replace("-", MINUS)


def _is_estimate(value) -> bool:
    return all(hasattr(value, name) for name in ("estimate", "ci_low", "ci_high"))


def format_estimate(value, decimals: int) -> str:
    """An :class:`~lossbook.core.estimate.Estimate` as ``0.750 [0.680, 0.821]`` (its interval when it has one)."""
    text = format_number(value.estimate, decimals)
    if value.ci_low is None or value.ci_high is None:
        return text
    return f"{text} [{format_number(value.ci_low, decimals)}, {format_number(value.ci_high, decimals)}]"


def _integral_column(values) -> bool:
    numbers = [v for v in values if _is_number(v)]
    return bool(numbers) and all(isinstance(v, (Integral, np.integer)) for v in numbers)


def page_table(frame: pd.DataFrame, *, headers: Mapping | None = None, decimals: int | Mapping | None = None,
               index: bool = True, index_header: str | None = None, drop_empty: bool = True) -> pd.DataFrame:
    """``frame`` as a table of strings ready for the page (headers in words, numbers formatted).

    Parameters
    ----------
    frame : the numbers; rows = table rows. A MultiIndex on the columns is
        flattened to words (``("leaky", "f1")`` -> ``"leaky, F1"``).
    headers : ``{column: header in words}``; columns not in it are named by
        :func:`lossbook.core.plots.label`. The index's header comes from
        ``index_header``, else from ``headers`` by the index's name.
    decimals : one number for every float column, or ``{column: decimals}``;
        default :func:`auto_decimals` per column.
    index : keep the index as the first column.
    drop_empty : drop rows and columns that are missing everywhere.

    Returns a DataFrame of strings with a plain RangeIndex; the first column
    holds the index when ``index`` is true.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"page_table needs a pandas DataFrame, got {type(frame).__name__}")
    headers = dict(headers or {})
    data = frame.copy()
    if drop_empty:
        data = data.dropna(axis=0, how="all").dropna(axis=1, how="all")
    if isinstance(decimals, Mapping):
        unknown = sorted(map(str, set(decimals) - set(frame.columns)))
        if unknown:
            raise ValueError(f"decimals names columns the table does not have: {unknown}; "
                             f"columns are {[str(c) for c in frame.columns]}")
    out = {}
    for column in data.columns:
        values = list(data[column].astype(object))
        if isinstance(decimals, Mapping):
            places = decimals.get(column)
        else:
            places = decimals
        if places is None:
            places = auto_decimals([v.estimate if _is_estimate(v) else v for v in values])
        if any(_is_estimate(v) for v in values):
            formatted = [format_estimate(v, places) if _is_estimate(v) else format_number(v, places)
                         if (_is_number(v) or _is_missing(v)) else str(v) for v in values]
        elif data[column].dtype.kind in "iu" or _integral_column(values):
            formatted = [format_number(int(v), 0) if _is_number(v) else format_number(v, 0) for v in values]
        else:
            formatted = [format_number(v, places) if (_is_number(v) or _is_missing(v) or isinstance(v, bool))
                         else str(v) for v in values]
        out[headers.get(column, label(column))] = formatted
    table = pd.DataFrame(out)
    if index:
        name = index_header if index_header is not None else headers.get(data.index.name, label(data.index.name or ""))
        keys = [label(k) if isinstance(k, tuple) else str(k) for k in data.index]
        table.insert(0, name, keys)
    return table


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _numeric_column(values) -> bool:
    """True when every non-dash entry of a formatted column reads as a number (right-align it)."""
    def numeric(text):
        t = text.split(" [", 1)[0]  # an estimate with its interval reads as its estimate
        t = t.replace(MINUS, "-").replace("< ", "").replace("> ", "").replace("∞", "inf")
        try:
            float(t)
            return True
        except ValueError:
            return False
    shown = [v for v in values if v != DASH]
    return bool(shown) and all(numeric(v) for v in shown)


def to_markdown(table: pd.DataFrame) -> str:
    """A page table (from :func:`page_table`) as a Markdown pipe table, numbers right-aligned."""
    header = [_cell(c) for c in table.columns]
    align = ["---:" if _numeric_column(list(table[c])) else "---" for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


class PageTable:
    """A glued table: Markdown for the page, plain text for the notebook."""

    def __init__(self, markdown: str, plain: str):
        self.markdown, self.plain = markdown, plain

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __repr__(self) -> str:
        return self.plain


class GluedTable(pd.DataFrame):
    """The formatted table :func:`glue_table` returns; shows nothing when a cell ends with the call."""

    def _ipython_display_(self) -> None:
        return None


def glue_table(key: str, frame: pd.DataFrame, *, missing_means: str | None = None, **options) -> pd.DataFrame:
    """Format ``frame`` with :func:`page_table` (``options``) and glue it as ``key`` for ``{glue:md}``.

    Raises ``ValueError`` naming ``key`` when missing values remain and
    ``missing_means`` does not say what a dash means. Returns the formatted
    table (strings), which shows nothing on the page: the ``{glue:md}`` block shows it.
    """
    if not key or any(c.isspace() for c in key):
        raise ValueError(f"glue key must be a non-empty name without spaces, got {key!r}")
    table = page_table(frame, **options)
    n_missing = int((table == DASH).to_numpy().sum())
    if n_missing and not missing_means:
        raise ValueError(f"table {key!r} has {n_missing} missing value(s) shown as {DASH!r}: drop them, or pass "
                         f"missing_means='...' and say in the caption what a dash means")
    from myst_nb import glue

    glue(key, PageTable(to_markdown(table), table.to_string(index=False)), display=False)
    return GluedTable(table)
