"""Checking a chapter's parameters before anything is trained.

Every study module's ``check_parameters`` is built from these few checks, so
a reader who passes a bad value gets the same kind of message everywhere:
the parameter's name, what is allowed, and what was given.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any


def merge_known(params: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict:
    """``defaults`` updated with ``params``; unknown names are refused, listing the allowed ones."""
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; allowed: {sorted(defaults)}")
    return {**defaults, **params}


def integer(name: str, value: Any, low: int | None, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (no bound where ``low``/``high`` is None)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (low is not None and value < low) or (
        high is not None and value > high
    ):
        allowed = (f"in [{low}, {high}]" if low is not None and high is not None else
                   f">= {low}" if low is not None else f"<= {high}" if high is not None else "")
        raise ValueError(f"{name} must be an integer{' ' + allowed if allowed else ''}, got {value!r}")
    return int(value)


def number(
    name: str, value: Any, low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high`` (ends closed unless ``*_open``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be a number in {left}{low}, {high}{right}, got {value!r}")
    return float(value)


def flag(name: str, value: Any) -> bool:
    """``value`` if it is exactly True or False."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def one_of(name: str, value: Any, allowed: Iterable) -> Any:
    """``value`` if it is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def subset(name: str, values: Any, allowed: Iterable) -> tuple:
    """``values`` as a tuple, if it is a non-empty selection of distinct ``allowed`` values.

    A single string counts as a one-element selection. The order given is kept.
    """
    allowed = list(allowed)
    chosen = (values,) if isinstance(values, str) else tuple(values)
    if not chosen or any(v not in allowed for v in chosen) or len(set(chosen)) != len(chosen):
        raise ValueError(f"{name} must be a non-empty list of distinct values from {allowed}, got {values!r}")
    return chosen


# ----------------------------------------------------------- constraints as data
# A study module declares its chapter's parameters once, as data, e.g.
#     CONSTRAINTS = {"n_repeats": Interval(int, 1, None), "losses": SubsetOf(LOSSES),
#                    "control_seeds": Interval(int, 1, "n_seeds"), "data_dir": [None, str]}
# (the imbalanced-learn / scikit-learn ``_parameter_constraints`` style). The defaults
# live only in the chapter's papermill parameters cell; :func:`validate` checks a
# chapter's parameters against the constraints, and a test checks every chapter's
# cell and every profile in notebooks/profiles.yml.
class Interval:
    """A number of ``kind`` (``int`` or ``float``) between ``low`` and ``high``.

    ``None`` leaves an end open-ended; a string names another parameter whose
    value is the bound (e.g. ``Interval(int, 1, "n_seeds")``). ``closed`` is
    ``"both"`` (default), ``"left"``, ``"right"`` or ``"neither"``. An ``int``
    interval refuses booleans and non-integers; a ``float`` interval accepts
    any finite real number (ints included).
    """

    def __init__(self, kind: type, low, high, *, closed: str = "both"):
        if kind not in (int, float):
            raise ValueError(f"Interval kind must be int or float, got {kind!r}")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be 'both', 'left', 'right' or 'neither', got {closed!r}")
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def check(self, name: str, value: Any, params: Mapping[str, Any]) -> Any:
        low = params[self.low] if isinstance(self.low, str) else self.low
        high = params[self.high] if isinstance(self.high, str) else self.high
        low_open = self.closed in ("right", "neither")
        high_open = self.closed in ("left", "neither")
        if self.kind is int:
            lo = None if low is None else low + 1 if low_open else low
            hi = None if high is None else high - 1 if high_open else high
            return integer(name, value, lo, hi)
        return number(name, value, -math.inf if low is None else low, math.inf if high is None else high,
                      low_open=low_open, high_open=high_open)

    def __repr__(self) -> str:
        return f"Interval({self.kind.__name__}, {self.low!r}, {self.high!r}, closed={self.closed!r})"


class OneOf:
    """One of the listed values."""

    def __init__(self, values: Iterable):
        self.values = list(values)

    def check(self, name: str, value: Any, params: Mapping[str, Any]) -> Any:
        return one_of(name, value, self.values)

    def __repr__(self) -> str:
        return f"OneOf({self.values!r})"


class SubsetOf:
    """A non-empty list of distinct listed values (a single string counts as one); order kept."""

    def __init__(self, values: Iterable):
        self.values = list(values)

    def check(self, name: str, value: Any, params: Mapping[str, Any]) -> Any:
        subset(name, value, self.values)
        return value

    def __repr__(self) -> str:
        return f"SubsetOf({self.values!r})"


class ListOf:
    """A non-empty list whose every item satisfies ``item`` (e.g. ``ListOf(Interval(float, 0, 10))``)."""

    def __init__(self, item, *, allow_none_items: bool = False):
        self.item, self.allow_none_items = item, allow_none_items

    def check(self, name: str, value: Any, params: Mapping[str, Any]) -> Any:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or len(value) == 0:
            raise ValueError(f"{name} must be a non-empty list, got {value!r}")
        for i, item in enumerate(value):
            if item is None and self.allow_none_items:
                continue
            _check_one(f"{name}[{i}]", item, self.item, params)
        return value

    def __repr__(self) -> str:
        return f"ListOf({self.item!r})"


def _check_one(name: str, value: Any, constraint, params: Mapping[str, Any]) -> Any:
    if constraint is None:
        if value is not None:
            raise ValueError(f"{name} must be None, got {value!r}")
        return value
    if constraint is bool:
        return flag(name, value)
    if constraint is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {value!r}")
        return value
    if isinstance(constraint, list):  # alternatives: any one may hold
        errors = []
        for option in constraint:
            try:
                return _check_one(name, value, option, params)
            except ValueError as error:
                errors.append(str(error))
        raise ValueError(f"{name}: none of the allowed forms fits {value!r} ({'; or '.join(errors)})")
    return constraint.check(name, value, params)


def validate(params: Mapping[str, Any], constraints: Mapping[str, Any], *, complete: bool = True) -> dict:
    """Check ``params`` against ``constraints``; return them (unchanged) as a dict.

    Unknown names are refused, listing the allowed ones. ``complete=True``
    (a chapter's whole parameter set) also refuses missing names; a function
    that checks a few of its own arguments passes ``complete=False``. A bound
    that names another parameter is checked only when that parameter is given.
    Raises ``ValueError`` naming the parameter, what is allowed and what was given.
    """
    unknown = sorted(set(params) - set(constraints))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; allowed: {sorted(constraints)}")
    missing = sorted(set(constraints) - set(params))
    if complete and missing:
        raise ValueError(f"missing parameter(s) {missing}; a chapter passes every parameter of its parameters cell")
    for name, value in params.items():
        constraint = constraints[name]
        refs = [b for b in (getattr(constraint, "low", None), getattr(constraint, "high", None)) if isinstance(b, str)]
        if any(r not in params for r in refs):
            continue
        _check_one(name, value, constraint, params)
    return dict(params)


def collect(namespace: Mapping[str, Any], constraints: Mapping[str, Any]) -> dict:
    """The chapter's parameters, read by name from ``namespace`` (a notebook's ``globals()``).

    A chapter writes ``parameters = params.collect(globals(), study.CONSTRAINTS)`` after its
    parameters cell, so a new parameter needs only the cell and the constraints.
    A name in the constraints but not set in the notebook is refused.
    """
    missing = [name for name in constraints if name not in namespace]
    if missing:
        raise ValueError(f"the parameters cell sets no {missing}; every constrained parameter needs a default there")
    return {name: namespace[name] for name in constraints}


def cell_defaults(chapter: str, root=None) -> dict:
    """The values a chapter's papermill parameters cell assigns (``notebooks/<chapter>.py``).

    The cell is the one place where a chapter's defaults live. It is read with
    jupytext and each ``name = literal`` is evaluated with ``ast.literal_eval``
    (nothing is executed). ``root``: the repository root (default: found by
    :func:`lossbook.core.paths.repo_root`).
    """
    import ast
    from pathlib import Path

    import jupytext

    from lossbook.core.paths import repo_root

    path = Path(root or repo_root()) / "notebooks" / f"{chapter}.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such chapter notebook")
    cells = [c for c in jupytext.read(path).cells
             if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{path}: expected one cell tagged 'parameters', found {len(cells)}")
    values = {}
    for node in ast.parse(cells[0].source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ValueError(f"{path}: the parameters cell may hold only 'name = literal' lines, found "
                             f"{ast.unparse(node)!r}")
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def with_defaults(chapter: str, params: Mapping[str, Any], constraints: Mapping[str, Any]) -> dict:
    """``params`` over the chapter's cell defaults (:func:`cell_defaults`), validated (:func:`validate`).

    For code and tests that set a few parameters and take the published
    defaults for the rest; a chapter itself passes every parameter.
    """
    unknown = sorted(set(params) - set(constraints))
    if unknown:  # before reading the notebook: the message names the allowed parameters
        raise ValueError(f"unknown parameter(s) {unknown}; allowed: {sorted(constraints)}")
    return validate({**cell_defaults(chapter), **params}, constraints)
