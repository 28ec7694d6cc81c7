"""One shape for every reported number: :class:`Estimate`.

Results files, the claims ledger and the chapters all spell an estimate the
same way: ``{"estimate": ..., "ci_low": ..., "ci_high": ..., "n": ..., "method": ...}``.
``method`` says how the interval was made, so a reader can tell a bootstrap
percentile interval from a corrected resampled t-interval.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: How an interval can be made; ``method`` must be one of these.
METHODS = {
    "none": "a point value, no interval",
    "t": "Student-t interval over independent units",
    "corrected_t": "Nadeau-Bengio corrected resampled t-interval over repeated CV folds",
    "bootstrap": "percentile bootstrap interval",
    "paired_bootstrap": "percentile interval of a paired bootstrap difference",
    "wilson": "Wilson score interval of a proportion",
    "clopper_pearson": "exact (Clopper-Pearson) interval of a proportion",
}
FIELDS = ("estimate", "ci_low", "ci_high", "n", "method")


@dataclass(frozen=True)
class Estimate:
    """A number with its interval: what every results file reports.

    Parameters
    ----------
    estimate : float
        The point estimate (a mean, a difference, a proportion ...).
    ci_low, ci_high : float or None
        The interval's ends; both or neither. ``ci_low <= estimate <= ci_high``
        is not required (a percentile bootstrap interval need not contain the mean).
    n : int or None
        How many independent units the interval rests on (folds, seeds, test rows).
    method : str
        A key of :data:`METHODS`.
    """

    estimate: float
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    method: str = "none"

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"Estimate.method must be one of {sorted(METHODS)}, got {self.method!r}")
        if (self.ci_low is None) != (self.ci_high is None):
            raise ValueError("Estimate needs both ends of the interval or neither")
        if self.ci_low is not None and not self.ci_low <= self.ci_high:
            raise ValueError(f"Estimate interval [{self.ci_low}, {self.ci_high}] has ci_low > ci_high")

    @property
    def has_interval(self) -> bool:
        return self.ci_low is not None

    def excludes(self, value: float) -> bool:
        """True when the interval lies wholly above or below ``value``."""
        return self.has_interval and (self.ci_low > value or self.ci_high < value)

    def to_dict(self) -> dict[str, Any]:
        return {name: _plain(getattr(self, name)) for name in FIELDS}

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> Estimate:
        """Read back what :meth:`to_dict` wrote; other keys are refused by name."""
        unknown = sorted(set(mapping) - set(FIELDS))
        if unknown:
            raise ValueError(f"not an Estimate: unknown keys {unknown}; expected {list(FIELDS)}")
        return cls(**{name: mapping[name] for name in FIELDS if name in mapping})

    def format(self, decimals: int = 2) -> str:
        text = f"{self.estimate:.{decimals}f}"
        if self.has_interval:
            text += f" [{self.ci_low:.{decimals}f}, {self.ci_high:.{decimals}f}]"
        return text


def is_estimate(value: Any) -> bool:
    """True for a mapping written by :meth:`Estimate.to_dict`."""
    return isinstance(value, Mapping) and "estimate" in value and set(value) <= set(FIELDS)


def _plain(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None
