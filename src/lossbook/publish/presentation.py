"""Which code a reader sees: the tags the runner gives each code cell of an executed chapter.

A chapter source (``notebooks/<chapter>.py``) keeps all its code, and so do the
executed notebook a reader downloads and the one Binder opens: the rule below
only adds cell *tags*, which Jupyter Book reads when it renders the page.

The rule, applied by :func:`tag_code_cells` to every code cell:

* a cell that already carries a presentation tag (:data:`PRESENTATION_TAGS`,
  e.g. ``hide-input``, ``remove-cell``, or ``show-input`` to show the code
  in full) is left as its author tagged it: explicit tags win;
* a **bookkeeping** cell gets ``remove-cell``: every statement in it is an
  import, a call of a bookkeeping function (:data:`BOOKKEEPING_CALLS`:
  ``glue``, ``seed_everything``, ``set_style``, ``save_results``, ...), an
  assignment of such a call's value (``results_file = save_results(...)``),
  ``pass``/``del``, or a ``for``/``if``/``with`` block made only of these;
* every other code cell (the study's code, including the parameters cell)
  gets ``hide-input``: its outputs show, its code sits behind a toggle.

A bookkeeping cell's outputs disappear with it; that is safe because such a
cell's only outputs are glued values stored with ``display=False``, which
myst-nb still finds (it reads glue data from every cell, shown or not).
"""
from __future__ import annotations

import ast

#: Tags that decide how a cell is shown; a cell with any of them keeps its author's choice.
PRESENTATION_TAGS = frozenset({
    "hide-input", "hide-output", "hide-cell", "remove-input", "remove-output", "remove-cell",
    "show-input",  # our own: "show this code on the page", e.g. a short call the text explains
})

#: Functions whose calls are bookkeeping: they store, seed, style or save, and show nothing.
BOOKKEEPING_CALLS = frozenset({
    "glue", "glue_number", "glue_numbers", "glue_table", "glue_estimate", "glue_ledger",
    "seed_everything", "set_style", "save_results", "check_parameters",
    "set_option",  # pd.set_option(...)
    "filterwarnings", "simplefilter",  # warnings.filterwarnings(...)
})


def _called_name(node: ast.AST) -> str | None:
    """``f`` for ``f(...)`` and ``module.f(...)``; None for anything else."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_bookkeeping_statement(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass, ast.Delete)):
        return True
    if isinstance(node, ast.Expr):
        return _called_name(node.value) in BOOKKEEPING_CALLS
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        return _called_name(node.value) in BOOKKEEPING_CALLS
    if isinstance(node, (ast.For, ast.If, ast.With)):
        body = list(node.body) + list(getattr(node, "orelse", []))
        return bool(body) and all(_is_bookkeeping_statement(child) for child in body)
    return False


def is_bookkeeping(source: str) -> bool:
    """True when every statement of the code cell ``source`` is bookkeeping (see the module's rule).

    An empty cell, a cell of comments only, and code that does not parse
    (IPython magics) are not bookkeeping: they are left visible-behind-a-toggle.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return bool(tree.body) and all(_is_bookkeeping_statement(node) for node in tree.body)


def presentation_tag(cell) -> str | None:
    """The tag the rule adds to one notebook cell, or None (a markdown cell, or explicitly tagged)."""
    if cell.get("cell_type") != "code":
        return None
    tags = set(cell.get("metadata", {}).get("tags", []))
    if tags & PRESENTATION_TAGS:
        return None
    return "remove-cell" if is_bookkeeping(cell.get("source", "")) else "hide-input"


def tag_code_cells(notebook) -> dict[str, int]:
    """Add the presentation tag to every code cell of ``notebook`` in place.

    Returns how many cells got each tag (``{"hide-input": n, "remove-cell": m}``),
    for the runner's log and for tests.
    """
    added: dict[str, int] = {}
    for cell in notebook.cells:
        tag = presentation_tag(cell)
        if tag is None:
            continue
        cell.setdefault("metadata", {}).setdefault("tags", []).append(tag)
        added[tag] = added.get(tag, 0) + 1
    return added
