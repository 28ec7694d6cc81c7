"""Numbers for the text: the one way a chapter glues a scalar for ``{glue:text}``.

``glue_number("syn_n_seeds", n_seeds)`` stores the value as a plain Python
scalar (``numpy.float64(0.5)`` becomes ``0.5``), so the page shows ``0.5`` and a
format such as ``{glue:text}`syn_auc:.3f``` applies; NumPy's repr never leaks
into the prose. Nothing is displayed where the call is made.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

__all__ = ["plain", "glue_number", "glue_numbers", "glue_estimate"]


def plain(value):
    """``value`` as a plain Python scalar when it is a NumPy scalar or 0-d array; anything else unchanged."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def glue_number(name: str, value) -> None:
    """Glue ``value`` (a number, or a short text) under ``name`` for the text, without displaying it.

    Raises ``ValueError`` for an empty name or one with spaces, and
    ``TypeError`` for a value that is neither a number nor a string (a
    table or an array does not belong in a sentence: see ``publish.tables``).
    """
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise ValueError(f"glue name must be a non-empty string without spaces, got {name!r}")
    value = plain(value)
    if not isinstance(value, (numbers.Number, str)):
        raise TypeError(f"glue_number({name!r}, ...) takes a number or a string, got {type(value).__name__}")
    from myst_nb import glue

    glue(name, value, display=False)


def glue_numbers(prefix: str, values) -> None:
    """Glue each item of the mapping ``values`` as ``<prefix>_<key>``: a number or text with
    :func:`glue_number`, an :class:`~lossbook.core.estimate.Estimate` with :func:`glue_estimate`,
    and a nested mapping item by item (``<prefix>_<key>_<inner key>``)."""
    from lossbook.core.estimate import Estimate

    for key, value in values.items():
        name = f"{prefix}_{key}"
        if isinstance(value, Estimate):
            glue_estimate(name, value)
        elif isinstance(value, Mapping):
            glue_numbers(name, value)
        else:
            glue_number(name, value)


def glue_estimate(name: str, estimate) -> None:
    """Glue an :class:`lossbook.core.estimate.Estimate` as ``name`` (its value), ``name_lo`` and
    ``name_hi`` (its interval's ends; NaN when it has none), for
    ``{glue:text}`name:.3f` [{glue:text}`name_lo:.3f`, {glue:text}`name_hi:.3f`]``."""
    glue_number(name, float(estimate.estimate))
    glue_number(f"{name}_lo", float(estimate.ci_low) if estimate.has_interval else float("nan"))
    glue_number(f"{name}_hi", float(estimate.ci_high) if estimate.has_interval else float("nan"))
