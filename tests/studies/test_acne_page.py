"""The acne chapter's page tables and results block, built from small hand-made score frames."""
import numpy as np
import pandas as pd
import pytest

from lossbook.core.estimate import Estimate
from lossbook.studies import acne


def test_paper_b_minus_a_is_table2_minus_table1_and_table3():
    assert acne.PAPER_B_MINUS_A["accuracy"] == 0.06
    assert acne.PAPER_B_MINUS_A["macro_f1"] == 0.07
    assert acne.PAPER_B_MINUS_A["f1:Papules"] == acne.PAPER_TABLES["table3"]["Papules"]
    assert set(acne.PAPER_B_MINUS_A) == {"accuracy", "macro_f1"} | {f"f1:{c}" for c in acne.PAPER_TABLES["table3"]}


def _summary():
    rows = []
    for kind in ("random", "group"):
        for scenario, base in (("A", 0.7), ("B", 0.75), ("focal", 0.72)):
            for metric in ["accuracy", "macro_f1", "brier"] + [f"{m}:{c}" for m in ("precision", "recall", "f1")
                                                               for c in acne.ACNE_CLASSES]:
                rows.append({"kind": kind, "scenario": scenario, "metric": metric, "mean": base,
                             "ci_low": base - 0.05, "ci_high": base + 0.05, "n": 4})
    return pd.DataFrame(rows)


def test_stat_names_the_missing_row():
    assert acne.stat(_summary(), "random", "B", "accuracy") == 0.75
    with pytest.raises(KeyError, match="kind='export'"):
        acne.stat(_summary(), "export", "B", "accuracy")


def test_headline_frame_has_estimates_and_the_papers_values_only_for_a_and_b():
    frame = acne.headline_frame(_summary(), ["random"], ["A", "B", "focal"])
    assert "paper: accuracy" not in acne.headline_frame(_summary(), ["random"], ["A"], paper=False)
    assert isinstance(frame.loc[("random", "B"), "accuracy"], Estimate)
    assert frame.loc[("random", "B"), "accuracy"].ci_low == pytest.approx(0.70)
    assert frame.loc[("random", "A"), "paper: accuracy"] == acne.PAPER_TABLES["table1"]["accuracy"]
    assert np.isnan(frame.loc[("random", "focal"), "paper: accuracy"])


def test_per_class_table_sets_ours_beside_the_papers():
    table = acne.per_class_table(_summary(), "random", "B", "table2")
    assert list(table.index) == list(acne.ACNE_CLASSES)
    assert table.loc["Papules", "f1, paper"] == acne.PAPER_TABLES["table2"]["per_class"]["Papules"]["f1"]
    assert table.loc["Papules", "f1, ours"] == 0.75


def test_difference_frames_give_mde_only_where_the_interval_holds_zero():
    diffs = pd.DataFrame([
        {"kind": "random", "scenario": "B", "metric": "accuracy", "mean": 0.02, "ci_low": -0.01, "ci_high": 0.05,
         "n": 4, "p_holm": 0.4, "mde": 0.03},
        {"kind": "random", "scenario": "B", "metric": "macro_f1", "mean": 0.05, "ci_low": 0.01, "ci_high": 0.09,
         "n": 4, "p_holm": 0.01, "mde": 0.04},
    ])
    estimates, tests = acne.difference_frames(diffs, "B", ["random"], ["accuracy", "macro_f1"],
                                              paper=acne.PAPER_B_MINUS_A)
    assert estimates.loc["macro-F1 (paper: +0.07)", "random"].estimate == 0.05
    assert list(estimates.index) == ["accuracy (paper: +0.06)", "macro-F1 (paper: +0.07)"]
    assert tests.loc["accuracy (paper: +0.06)", "random: MDE"] == 0.03
    assert np.isnan(tests.loc["macro-F1 (paper: +0.07)", "random: MDE"])


def test_history_dicts_one_history_per_repeat_in_epoch_order():
    history = pd.DataFrame([{"kind": "random", "repeat": r, "scenario": "A", "epoch": e, "train_loss": 10 * r + e,
                             "val_loss": 0.0, "train_accuracy": 0.5, "val_accuracy": 0.5}
                            for r in (0, 1) for e in (2, 1)])
    runs = acne.history_dicts(history, "random", ["A", "B"])
    assert list(runs) == ["A"] and len(runs["A"]) == 2
    assert runs["A"][1]["loss"] == [11, 12]
