"""The shared parameter checks every chapter uses."""
from __future__ import annotations

import numpy as np
import pytest

from lossbook.core import params as checks


def test_merge_known_fills_defaults_and_names_unknown_parameters():
    assert checks.merge_known({"a": 2}, {"a": 1, "b": 3}) == {"a": 2, "b": 3}
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['c'\]; allowed: \['a', 'b'\]"):
        checks.merge_known({"c": 1}, {"a": 1, "b": 3})


@pytest.mark.parametrize("value", [0, -1, 11, 2.5, True, "3", None])
def test_integer_rejects_out_of_range_and_non_integers(value):
    with pytest.raises(ValueError, match=r"folds must be an integer in \[1, 10\], got"):
        checks.integer("folds", value, 1, 10)


def test_integer_accepts_numpy_integers_and_open_upper_bound():
    assert checks.integer("n", np.int64(5), 1) == 5 and type(checks.integer("n", np.int64(5), 1)) is int
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        checks.integer("n", 0, 1)


@pytest.mark.parametrize("value", [-0.1, 1.0, float("nan"), float("inf"), "0.5", False])
def test_number_respects_open_and_closed_ends(value):
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\), got"):
        checks.number("alpha", value, 0, 1, high_open=True)


def test_number_accepts_closed_end_and_returns_float():
    assert checks.number("alpha", 0, 0, 1) == 0.0
    assert checks.number("alpha", 1, 0, 1) == 1.0


def test_flag_one_of_and_subset():
    assert checks.flag("run", False) is False
    with pytest.raises(ValueError, match="run must be True or False, got 1"):
        checks.flag("run", 1)
    assert checks.one_of("loss", "bce", ["bce", "focal"]) == "bce"
    with pytest.raises(ValueError, match=r"loss must be one of \['bce', 'focal'\], got 'dice'"):
        checks.one_of("loss", "dice", ["bce", "focal"])
    assert checks.subset("models", ["cnn", "mlp"], ["mlp", "cnn"]) == ("cnn", "mlp")
    assert checks.subset("models", "mlp", ["mlp", "cnn"]) == ("mlp",)
    for bad in ([], ["mlp", "mlp"], ["rnn"]):
        with pytest.raises(ValueError, match="models must be a non-empty list of distinct values"):
            checks.subset("models", bad, ["mlp", "cnn"])
