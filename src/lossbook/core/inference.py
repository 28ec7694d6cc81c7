"""Inference helpers for verdicts: multiplicity, proportions, power.

* :func:`holm` adjusts a family of p-values (Holm, 1979), keeping their order;
* :func:`wilson_interval` and :func:`clopper_pearson_interval` give intervals for a
  proportion ``k / n`` (how often an outcome occurs across seeds or folds);
* :func:`minimum_detectable_effect` is the smallest true effect a two-sided test with
  standard error ``se`` detects with the given power.

All return plain floats or :class:`~lossbook.core.estimate.Estimate` values.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from lossbook.core.estimate import Estimate


def _check_alpha(alpha: float, name: str = "alpha") -> float:
    if not 0 < alpha < 1:
        raise ValueError(f"{name} must lie in (0, 1), got {alpha!r}")
    return float(alpha)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the order given.

    ``p_adj[i] = max_{j <= rank(i)} min(1, (m - j) * p_(j))`` over the sorted p-values,
    so rejecting ``p_adj < alpha`` controls the family-wise error rate at ``alpha``.
    """
    p = np.asarray(p_values, dtype=float).ravel()
    if p.size == 0:
        return []
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError(f"p_values must be finite numbers in [0, 1], got {p.tolist()}")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted.tolist()


def _check_counts(k: int, n: int) -> None:
    if not (isinstance(n, (int, np.integer)) and n > 0):
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not (isinstance(k, (int, np.integer)) and 0 <= k <= n):
        raise ValueError(f"k must be an integer in [0, n={n}], got {k!r}")


def wilson_interval(k: int, n: int, level: float = 0.95) -> Estimate:
    """Wilson score interval for the proportion ``k / n``."""
    _check_counts(k, n)
    z = stats.norm.ppf(0.5 + _check_alpha(level, "level") / 2)
    phat = k / n
    centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n))
    return Estimate(phat, max(0.0, centre - half), min(1.0, centre + half), n=int(n), method="wilson")


def clopper_pearson_interval(k: int, n: int, level: float = 0.95) -> Estimate:
    """Exact (Clopper-Pearson) interval for the proportion ``k / n``."""
    _check_counts(k, n)
    alpha = 1 - _check_alpha(level, "level")
    low = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return Estimate(k / n, low, high, n=int(n), method="clopper_pearson")


def minimum_detectable_effect(se: float, df: int | None = None, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest true effect a two-sided level-``alpha`` test detects with probability ``power``.

    ``(t_{1-alpha/2} + t_{power}) * se`` with ``df`` degrees of freedom (normal when ``df`` is None):
    an interval that holds zero says nothing about effects smaller than this.
    """
    if not (np.isfinite(se) and se >= 0):
        raise ValueError(f"se must be a finite non-negative number, got {se!r}")
    _check_alpha(alpha)
    _check_alpha(power, "power")
    dist = stats.norm if df is None else stats.t(df)
    return float((dist.ppf(1 - alpha / 2) + dist.ppf(power)) * se)
