"""Checking a chapter's parameters before anything is trained.

Every study module's ``check_parameters`` is built from these few checks, so
a reader who passes a bad value gets the same kind of message everywhere:
the parameter's name, what is allowed, and what was given.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Mapping


def merge_known(params: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict:
    """``defaults`` updated with ``params``; unknown names are refused, listing the allowed ones."""
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; allowed: {sorted(defaults)}")
    return {**defaults, **params}


def integer(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (no upper bound when ``high`` is None)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low or (
        high is not None and value > high
    ):
        allowed = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r}")
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
