"""The one validator for labels and predicted probabilities.

Every function that takes labels or probabilities from a user (the metrics,
:func:`lossbook.core.compare.compare`, the plots and the NumPy losses) checks
them here, so a bad input gets the same message everywhere: the argument's
name, what is wrong, how many values and the first offending index.

Accepted containers: lists, NumPy arrays of shape ``(n,)`` or Keras's ``(n, 1)``,
pandas Series (see :func:`align` for Series with different indexes), one-column
DataFrames, and torch tensors (also those that require grad: they are detached
and copied to the CPU; no gradient flows through a check).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["align", "as_1d", "class_labels", "labels", "probabilities", "sigmoid"]


def _to_numpy(values, name: str):
    if values is None:
        raise ValueError(f"{name} is None; pass an array of length n")
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy()
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise ValueError(
                f"{name} is a DataFrame with {values.shape[1]} columns; pass one column "
                f"(a Series) or use read_predictions() to pick the columns"
            )
        return values.iloc[:, 0].to_numpy()
    if hasattr(values, "detach") and hasattr(values, "cpu"):  # a torch tensor, grad or not
        return values.detach().cpu().numpy()
    if hasattr(values, "numpy") and not isinstance(values, np.ndarray):  # a TensorFlow eager tensor
        return values.numpy()
    return values


def as_1d(values, name: str, n_expected: int | None = None) -> np.ndarray:
    """``values`` as a 1-D NumPy array; ``(n, 1)`` (Keras ``predict``) is flattened.

    ``n_expected``: the length ``y_true`` has; a different length is refused.
    """
    array = np.asarray(_to_numpy(values, name))
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (or shape (n, 1)); got shape {array.shape}")
    if n_expected is not None and len(array) != n_expected:
        raise ValueError(f"{name} has {len(array)} values but y_true has {n_expected}; they must describe the same examples")
    return array


def class_labels(values, name: str = "y_true", *, n_classes: int = 2, require_all: bool = False,
                 ndim_any: bool = False) -> np.ndarray:
    """Integer class labels ``0 .. n_classes-1``; returns ``int64`` of the input's shape.

    Refuses an empty input, non-numeric values, NaN/inf, non-integers and
    values outside the class range, naming ``name``, the count of bad values,
    examples of them and the first index. ``require_all``: every class must
    occur (for two classes: ROC-AUC and PR-AUC need both). ``ndim_any``: keep
    any shape (for per-pixel or one-hot-free labels); otherwise 1-D as :func:`as_1d`.
    """
    array = np.asarray(_to_numpy(values, name)) if ndim_any else as_1d(values, name)
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if array.dtype == bool:
        array = array.astype(np.int64)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold numeric labels; got dtype {array.dtype}")
    flat = array.ravel()
    allowed = "0 and 1" if n_classes == 2 else f"0 .. {n_classes - 1}"
    if flat.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(flat))
        if len(bad):
            raise ValueError(f"{name} holds {len(bad)} NaN/inf value(s) (first at index {bad[0]}); labels must be {allowed}")
    wrong = np.flatnonzero((flat < 0) | (flat > n_classes - 1) | (flat != np.round(flat)))
    if len(wrong):
        found = np.unique(flat[wrong])[:5]
        raise ValueError(
            f"{name} must hold only labels {allowed}; found {len(wrong)} other value(s), "
            f"e.g. {found.tolist()} (first at index {wrong[0]})"
        )
    array = array.astype(np.int64)
    if require_all:
        present = np.unique(flat).astype(np.int64)
        if len(present) < n_classes:
            if n_classes == 2:
                raise ValueError(
                    f"{name} holds only class {int(present[0])} ({flat.size} examples); ROC-AUC and PR-AUC "
                    "need both classes, so there is nothing to compare on"
                )
            missing = sorted(set(range(n_classes)) - set(present.tolist()))
            raise ValueError(f"{name} holds no example of class(es) {missing}")
    return array


def labels(values, name: str = "y_true", *, require_both: bool = False) -> np.ndarray:
    """Binary 0/1 labels (booleans accepted) as ``int64`` of shape (n,); see :func:`class_labels`."""
    return class_labels(values, name, n_classes=2, require_all=require_both)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, stable for large ``|x|`` (never exponentiates a positive number)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def probabilities(values, name: str = "y_prob", n_expected: int | None = None, *,
                  from_logits: bool = False) -> np.ndarray:
    """Predicted probabilities of class 1 as ``float64`` of shape (n,).

    Refuses a wrong length, non-numbers, NaN/inf and (unless ``from_logits``)
    values outside [0, 1], naming ``name``. With ``from_logits=True`` the values
    are raw network outputs and a sigmoid is applied.
    """
    array = as_1d(values, name, n_expected)
    if array.dtype == bool or array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold numbers (probabilities); got dtype {array.dtype}")
    array = array.astype(np.float64)
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    bad = np.flatnonzero(~np.isfinite(array))
    if len(bad):
        raise ValueError(
            f"{name} holds {len(bad)} NaN/inf value(s) (first at index {bad[0]}); "
            "a diverged run or a failed prediction cannot be scored"
        )
    if from_logits:
        return sigmoid(array)
    outside = np.flatnonzero((array < 0) | (array > 1))
    if len(outside):
        raise ValueError(
            f"{name} must hold probabilities in [0, 1]; {len(outside)} value(s) are outside "
            f"(min {array.min():.4g}, max {array.max():.4g}, first at index {outside[0]}). "
            "If these are logits (a Dense(1) head without activation), pass from_logits=True"
        )
    return array


def align(**named):
    """Pair pandas Series by their index, not by position.

    Takes ``name=values`` pairs. When two or more values are pandas Series (or
    one-column DataFrames), their indexes must hold the same labels (each
    once); the Series are then reordered to the first one's index. Different
    label sets or duplicated labels are refused, naming the arguments. Values
    that are not pandas objects are returned unchanged (they pair by position).
    Returns the values in the order given.
    """
    frames = {k: v for k, v in named.items() if isinstance(v, (pd.Series, pd.DataFrame))}
    if len(frames) < 2:
        return tuple(named.values())
    first_name, first = next(iter(frames.items()))
    index = first.index
    for k, v in frames.items():
        if not v.index.is_unique:
            raise ValueError(f"{k} has a duplicated index label; cannot pair examples by index")
    out = dict(named)
    for k, v in frames.items():
        if v.index.equals(index):
            continue
        if len(v.index) != len(index) or not v.index.isin(index).all():
            extra = v.index.difference(index)[:3].tolist()
            missing = index.difference(v.index)[:3].tolist()
            raise ValueError(
                f"{k} and {first_name} are pandas objects with different indexes (in {k} only: {extra}; "
                f"in {first_name} only: {missing}); pass Series indexed by the same examples"
            )
        out[k] = v.loc[index]
    return tuple(out.values())
