"""Page tables: words for headers, even decimals per column, no -0.000, no scientific notation, dashes explained."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lossbook.publish import tables


@pytest.mark.parametrize("value, decimals, text", [
    (0.247379, 3, "0.247"),
    (-0.0001, 3, "> −0.001"),  # not "-0.000"
    (0.0004, 3, "< 0.001"),
    (-0.0, 3, "0.000"),
    (0.0, 2, "0.00"),
    (-0.14, 2, "−0.14"),
    (12345678.9, 0, "12345679"),  # never 1.2e+07
    (1e-12, 2, "< 0.01"),
    (float("nan"), 3, "—"),
    (None, 3, "—"),
    (True, 3, "yes"),
    (np.int64(-7), 3, "−7"),
])
def test_format_number(value, decimals, text):
    assert tables.format_number(value, decimals) == text


def test_page_table_words_decimals_and_missing_rows():
    frame = pd.DataFrame({
        "leak_free": [0.247379, 0.5, np.nan, -0.00001],
        "score_spread_median": [16.118, 2.0, np.nan, 3.25],
        "n_folds": pd.array([5, 5, pd.NA, 10], dtype="Int64"),
        "roc_auc": [np.nan, np.nan, np.nan, np.nan],  # empty everywhere: dropped
    }, index=pd.Index(["a", "b", "c", "d"], name="predictor"))
    table = tables.page_table(frame, headers={"n_folds": "folds"})
    assert list(table.columns) == ["predictor", "leak-free", "score spread median", "folds"]
    assert list(table["predictor"]) == ["a", "b", "d"]  # the all-missing row c is dropped
    assert list(table["leak-free"]) == ["0.247", "0.500", "> −0.001"]  # three decimals throughout
    assert list(table["score spread median"]) == ["16.1", "2.0", "3.2"]  # one decimal: the column reaches 10
    assert list(table["folds"]) == ["5", "5", "10"]
    assert not table.apply(lambda c: c.str.contains("e[+-]|nan|-0\\.0", regex=True)).to_numpy().any()
    assert list(tables.page_table(frame, decimals={"leak_free": 1}, index=False)["leak-free"]) == ["0.2", "0.5", "> −0.1"]
    with pytest.raises(ValueError, match="decimals names columns.*'nope'"):
        tables.page_table(frame, decimals={"nope": 1})


def test_tuples_in_columns_and_index_become_words():
    frame = pd.DataFrame([[0.9, 0.8]], columns=pd.MultiIndex.from_tuples([("leaky", "f1"), ("leak_free", "f1")]),
                         index=pd.MultiIndex.from_tuples([("mlp", "bce")]))
    table = tables.page_table(frame, index_header="network and loss")
    assert list(table.columns) == ["network and loss", "leaky, F1", "leak-free, F1"]
    assert table.iloc[0, 0] == "MLP, BCE"


def test_markdown_right_aligns_numbers():
    table = tables.page_table(pd.DataFrame({"name": ["x", "y"], "value": [1.5, -2.25]}), index=False)
    text = tables.to_markdown(table)
    assert text.splitlines()[:2] == ["| name | value |", "| --- | ---: |"]
    assert "| y | −2.25 |" in text


def test_glue_table_refuses_unexplained_dashes_and_glues_markdown(monkeypatch):
    glued = {}
    monkeypatch.setattr("myst_nb.glue", lambda key, value, display=True: glued.update({key: (value, display)}))
    frame = pd.DataFrame({"paper": [0.97, np.nan], "ours": [0.71, 0.66]}, index=["MLP", "CNN"])
    with pytest.raises(ValueError, match="'tbl_x' has 1 missing value"):
        tables.glue_table("tbl_x", frame)
    assert not glued
    tables.glue_table("tbl_x", frame, missing_means="the paper reports no value")
    value, display = glued["tbl_x"]
    assert display is False
    assert value._repr_markdown_().splitlines()[1] == "| --- | ---: | ---: |"
    assert "| CNN | — | 0.660 |" in value._repr_markdown_()
    with pytest.raises(ValueError, match="glue key"):
        tables.glue_table("bad key", frame.dropna())


def test_a_cell_ending_with_glue_table_shows_nothing(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setattr("myst_nb.glue", lambda key, value, display=True: None)
    returned = tables.glue_table("tbl_y", pd.DataFrame({"a": [0.5]}))
    assert list(returned["a"]) == ["0.500"]
    assert InteractiveShell.instance().display_formatter.format(returned) == ({}, {})
    # while the glued value itself carries Markdown and plain text
    page = tables.PageTable("| a |", "a")
    data, _ = InteractiveShell.instance().display_formatter.format(page)
    assert data["text/markdown"] == "| a |" and data["text/plain"] == "a"


@pytest.mark.parametrize("values, decimals", [([0.25, 1.0], 3), ([0.5, 4.2], 2), ([12.0, 3.0], 1), ([150.0], 0),
                                               ([np.nan, None], 3)])
def test_auto_decimals_by_the_largest_magnitude(values, decimals):
    assert tables.auto_decimals(values) == decimals


def test_estimates_print_with_their_interval_in_the_column_decimals():
    from lossbook.core.estimate import Estimate

    frame = pd.DataFrame({"leak-free ROC-AUC": [Estimate(0.75012, 0.68, 0.8213, n=50, method="bootstrap"),
                                                Estimate(0.9, None, None)]}, index=["MLP", "CNN"])
    table = tables.page_table(frame)
    assert list(table["leak-free ROC-AUC"]) == ["0.750 [0.680, 0.821]", "0.900"]
    # a numeric column of estimates is right-aligned on the page
    assert tables.to_markdown(table).splitlines()[1] == "| --- | ---: |"
