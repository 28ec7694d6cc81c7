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


# ----------------------------------------------------------- constraints as data
def test_interval_oneof_subsetof_listof_and_alternatives():
    from lossbook.core.params import Interval, ListOf, OneOf, SubsetOf, validate

    constraints = {
        "n_seeds": Interval(int, 1, 100), "control": Interval(int, 1, "n_seeds"),
        "show": Interval(int, 0, "n_seeds", closed="left"), "rate": Interval(float, 0, 1, closed="right"),
        "loss": OneOf(["bce", "focal"]), "models": SubsetOf(["mlp", "cnn"]),
        "gammas": ListOf(Interval(float, 0, 10)), "data_dir": [None, str], "flag": bool,
    }
    good = {"n_seeds": 5, "control": 5, "show": 4, "rate": 1, "loss": "bce", "models": ["cnn"],
            "gammas": [0.5, 2], "data_dir": None, "flag": True}
    assert validate(good, constraints) == good
    for name, bad, match in [
        ("control", 6, r"control must be an integer in \[1, 5\], got 6"),
        ("show", 5, r"show must be an integer in \[0, 4\], got 5"),
        ("rate", 0, r"rate must be a number in \(0, 1\], got 0"),
        ("n_seeds", True, "n_seeds must be an integer"),
        ("loss", "dice", "loss must be one of"),
        ("models", ["rnn"], "models must be a non-empty list of distinct values"),
        ("gammas", [1.0, 11.0], r"gammas\[1\] must be a number in \[0, 10\]"),
        ("gammas", [], "gammas must be a non-empty list"),
        ("data_dir", 3, "data_dir: none of the allowed forms fits 3"),
        ("flag", "yes", "flag must be True or False"),
    ]:
        with pytest.raises(ValueError, match=match):
            validate({**good, name: bad}, constraints)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['nseeds'\]"):
        validate({**good, "nseeds": 3}, constraints)
    with pytest.raises(ValueError, match=r"missing parameter\(s\) \['flag'\]"):
        validate({k: v for k, v in good.items() if k != "flag"}, constraints)
    assert validate({"rate": 0.5}, constraints, complete=False) == {"rate": 0.5}


def test_collect_reads_the_parameters_by_name():
    from lossbook.core.params import Interval, collect

    constraints = {"a": Interval(int, 0, None), "b": Interval(int, 0, None)}
    assert collect({"a": 1, "b": 2, "other": 3}, constraints) == {"a": 1, "b": 2}
    with pytest.raises(ValueError, match=r"sets no \['b'\]"):
        collect({"a": 1}, constraints)


def _chapters():
    import yaml

    from lossbook.core.paths import repo_root

    return yaml.safe_load((repo_root() / "notebooks" / "profiles.yml").read_text())


@pytest.mark.parametrize("chapter", list(_chapters()))
def test_every_chapter_cell_and_profile_satisfy_the_constraints(chapter):
    """The parameters cell (read with jupytext) is the only place defaults live; every
    profile's overrides, applied to it, must pass the chapter's constraints, and every
    constrained name must be set by the cell (and nothing else)."""
    from lossbook.core.params import cell_defaults, validate
    from lossbook.studies.chapters import constraints

    cell = cell_defaults(chapter)
    rules = constraints(chapter)
    assert set(cell) == set(rules), f"{chapter}: cell sets {sorted(cell)}, constraints name {sorted(rules)}"
    for _profile, overrides in _chapters()[chapter].items():
        validate({**cell, **(overrides or {})}, rules)


def test_study_check_parameters_take_the_cell_defaults():
    from lossbook.studies import acne, dia, synthetic

    assert dia.check_parameters()["variant_models"] == ["mlp", "simplenn"]  # the cell's, not a drifted copy
    assert acne.check_parameters()["split_kinds"] == ("random", "group", "export")
    assert len(synthetic.check_parameters().seeds) == 50
