"""The DIA sensitivity grids: variants reach the trainer, selection never sees the test fold, the
variance decomposition and the repeats a future study needs."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lossbook.core import plots
from lossbook.core.estimate import Estimate
from lossbook.nets import keras_stack as training
from lossbook.studies import dia
from lossbook.studies import sensitivity as sens


def _toy(n=60, f=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f))
    y = (rng.random(n) < 0.3).astype(int)
    y[:6] = 1
    return X, y


def _recording_train(calls):
    def fake(config, folds, **kwargs):
        calls.append((config, [f.seed for f in folds]))
        return [training.FoldResult(0, 1, 0.5 + config.learning_rate, {"loss": np.zeros(1)},
                                    {k: np.linspace(0.1, 0.9, len(v)) for k, v in f.evaluate.items()}) for f in folds]
    return fake


@pytest.fixture
def p():
    return dia.check_parameters(n_splits=3, n_repeats=2, max_epochs=2, patience=1, models=["mlp"], losses=["bce"])


def test_variant_parameters_put_each_factor_where_the_trainer_reads_it(p):
    q = sens.variant_parameters(p, {"alpha": None, "gamma": 0.0, "pool_size": 4, "learning_rate": 3e-3, "init": 2,
                                    "smote": False}, n_repeats=1)
    assert q["smote"] is False and sens.chapter_value("smote", p) is True
    assert q["loss_params"] == {"focal": {"alpha": None, "gamma": 0.0}}
    assert q["network_options"] == {"cnn": {"pool_size": 4}}
    assert (q["learning_rate"], q["init_replicate"], q["n_repeats"]) == (3e-3, 2, 1)
    assert dia._config("cnn", "focal", q).loss_params == (("alpha", None), ("gamma", 0.0))
    assert p.get("loss_params") is None  # the chapter's parameters are left as they were
    with pytest.raises(ValueError, match=r"unknown factor\(s\) \['beta'\]"):
        sens.variant_parameters(p, {"beta": 1})
    with pytest.raises(ValueError, match=r"n_repeats must lie in \[1, 2\]"):
        sens.variant_parameters(p, {}, n_repeats=3)
    assert sens.chapter_value("alpha", p) == 0.25 and sens.chapter_value("pool_size", p) == 2
    assert sens.factorial(a=[1, 2], b=["x"]) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]


def test_the_empty_variant_is_the_chapters_fold_model_and_variants_train_their_own(monkeypatch, isolated_cache, p):
    X, y = _toy()
    calls = []
    monkeypatch.setattr(dia, "train_folds", _recording_train(calls))
    chapter = dia.run_arms(X, y, p, ["leak_free"], data_sha256="x")["leak_free"]
    n_chapter = len(calls)
    again = sens.variant_runs(X, y, p, [{}], models=["mlp"], losses=["bce"], data_sha256="x")
    assert len(calls) == n_chapter  # read back from the cache: the chapter's own models
    pd.testing.assert_series_equal(again["roc_auc"], chapter["roc_auc"])
    frame = sens.variant_runs(X, y, p, [{"init": 0}, {"init": 1}, {"learning_rate": 3e-3}], models=["mlp"],
                              losses=["bce"], data_sha256="x", n_repeats=1)
    assert len(frame) == 3 * 3 and set(frame["arm"]) == {"leak_free"}
    assert list(frame["init"]) == [0] * 3 + [1] * 3 + [0] * 3  # the chapter's level where a variant leaves it
    first_stage = {tuple(seeds) for config, seeds in calls[n_chapter:] if config.learning_rate == p["learning_rate"]}
    assert len(first_stage) == 2  # init 1 trains with other seeds (init 0 is read back)
    assert any(config.learning_rate == 3e-3 for config, _ in calls[n_chapter:])


def _fold_frame(values, **columns):
    rows = [{"model": "mlp", "loss": "bce", "repeat": r, "fold": f, **columns, **v}
            for (r, f), v in values.items()]
    return pd.DataFrame(rows)


def test_selection_takes_the_best_inner_validation_score_and_breaks_ties_towards_the_default():
    frames = []
    for rate, val in ((1e-3, [0.7, 0.5, 0.6]), (3e-3, [0.8, 0.5, 0.6]), (3e-4, [0.6, 0.5, 0.9])):
        frames.append(_fold_frame({(0, i): {"best_val_auc": v, "roc_auc": 10 * rate} for i, v in enumerate(val)},
                                  learning_rate=rate))
    chosen = sens.select_by_validation(pd.concat(frames, ignore_index=True), prefer=1e-3)
    assert list(chosen["learning_rate"]) == [3e-3, 1e-3, 3e-4]
    shares = sens.chosen_shares(chosen)
    assert shares.loc["mlp+bce"].to_dict() == {3e-4: 1 / 3, 1e-3: 1 / 3, 3e-3: 1 / 3}


def test_variance_components_separate_splits_from_initialisations():
    split = np.array([0.70, 0.80, 0.75, 0.85, 0.65])
    flat = pd.concat([_fold_frame({(0, s): {"roc_auc": split[s]} for s in range(5)}, init=r) for r in range(3)])
    parts = sens.variance_components(flat, n_boot=50)["components"]["mlp+bce"]
    assert parts["sd_init"].estimate == pytest.approx(0, abs=1e-12)
    assert parts["share_init"].estimate == pytest.approx(0, abs=1e-12)
    assert parts["sd_split"].estimate == pytest.approx(np.std(split, ddof=1))
    noise = np.array([[0.01, -0.01], [0.02, -0.02], [0.0, 0.0]])
    same = pd.concat([_fold_frame({(0, s): {"roc_auc": 0.8 + noise[s, r]} for s in range(3)}, init=r)
                      for r in range(2)])
    parts = sens.variance_components(same, n_boot=50)["components"]["mlp+bce"]
    assert parts["variance_init"] == pytest.approx(np.mean(np.var(noise, axis=1, ddof=1)))
    assert parts["sd_split"].estimate == pytest.approx(0, abs=1e-12)  # the split means agree: all variance is initialisation
    with pytest.raises(ValueError, match="at least two splits and two initialisations"):
        sens.variance_components(flat[flat["init"] == 0], n_boot=10)


def test_repeats_needed_follows_the_corrected_variance_and_says_when_no_number_is_enough():
    z = 1.959963984540054 + 0.8416212335729143
    kw = {"difference": 0.02, "n_splits": 5, "n_train": 400, "n_test": 100}
    variance = (0.02 / z) ** 2 / (0.25 + 1 / 12)  # exactly enough at J = 12 folds
    assert sens.repeats_needed(variance * 0.999, 0.0, **kw) == math.ceil(12 / 5)
    assert sens.repeats_needed(0.001, 0.0, **kw) is None  # n_test/n_train alone is too much
    assert sens.repeats_needed(0.0, 0.002, n_inits=1, **kw) is None
    assert sens.repeats_needed(variance * 0.5, variance * 0.5 * 0.999 * 4, n_inits=4, **kw) == math.ceil(12 / 5)


def test_collapse_summary_and_the_words_of_a_grid():
    rows = []
    for pool, collapsed in ((2, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), (4, [0] * 10)):
        rows += [{"arm": "leak_free", "pool_size": pool, "single_class": bool(c), "roc_auc": 0.5} for c in collapsed]
    summary = sens.collapse_summary(pd.DataFrame(rows), ["pool_size"])
    assert [e.estimate for e in summary["collapse"]] == [1.0, 0.0] and list(summary["n_folds"]) == [10, 10]
    finding = sens.collapse_finding(summary.iloc[:1], summary.iloc[1:], over="pool size")["leak_free"]
    assert (finding["n_most"], finding["n_few"], finding["finding"]) == (1, 1, "depends on pool size")
    above, zero = Estimate(0.1, 0.05, 0.15, n=5), Estimate(0.0, -0.1, 0.1, n=5)
    assert sens.grid_finding([above, above], over="α and γ")["finding"] == "holds across α and γ"
    assert sens.grid_finding([above, zero], over="α and γ")["finding"] == "depends on α and γ"
    assert sens.grid_finding([zero], over="α and γ") == {"n": 1, "n_above": 0, "n_below": 0,
                                                        "finding": "not clearly above zero at any α and γ"}
    five = sens.collapse_summary(pd.DataFrame([{"arm": "leaky", "pool_size": 2, "single_class": True,
                                                "roc_auc": 0.5}] * 5), ["pool_size"])
    assert sens.collapse_finding(five, over="pool size")["leaky"]["finding"] == "inconclusive over pool size"
    assert sens.collapse_finding(summary.iloc[:1], over="p")["leak_free"]["finding"] == "holds across p"
    assert sens.collapse_finding(summary.iloc[1:], over="p")["leak_free"]["finding"] == "absent across p"


def test_collapse_with_and_without_smote_pairs_the_same_configuration():
    def folds(single):
        return pd.DataFrame([{"model": m, "loss": "dice", "single_class": single if m == "cnn" else not single,
                              "roc_auc": 0.5} for m in ("cnn", "mlp") for _ in range(12)])

    found = sens.collapse_by_smote(folds(True), folds(False).assign(arm="leak_free", smote=False))
    assert (found["with_smote"].estimate, found["without_smote"].estimate) == (1.0, 0.0)
    assert found["finding"] == "depends on SMOTE" and found["with_smote"].n == 12
    assert sens.collapse_by_smote(folds(True), folds(True))["finding"] == "holds across SMOTE"
    with pytest.raises(ValueError, match="cnn\\+dice"):
        sens.collapse_by_smote(folds(True), folds(True)[lambda f: f.model == "mlp"])


def test_heat_panels_are_legible_on_the_page(tmp_path):
    cells = pd.DataFrame([{"alpha": a, "gamma": g, "f1_vs_ref": Estimate(0.1 * g - 0.2, 0.1 * g - 0.3, 0.1 * g - 0.1, n=5)}
                          for a in (np.nan, 0.25) for g in (0.0, 2.0, 5.0)])
    values, notes = sens.difference_matrices(cells, "alpha", "gamma", "f1_vs_ref")
    assert list(values.index) == ["none", "0.25"] and (values.index.name, values.columns.name) == ("α", "γ")
    assert notes.loc["none", "5"] == "+0.30*" and notes.loc["none", "2"] == "0.00"
    fig, axes = plots.heat_panels({"one": (values, notes), "two": (values, notes), "three": (values, notes)},
                                  vmin=-0.3, vmax=0.3, colorbar_label="share")
    assert plots.smallest_font_pt(fig) >= plots.MIN_FONT_PT and not axes[1, 1].axison
    fig.savefig(tmp_path / "heat.png")
    assert sens.factor_label("alpha", None) == "α = none" and sens.factor_label("dice_eps", 1e-6) == "Dice ε = 1e-06"


def test_cells_match_a_missing_alpha_however_the_frame_stores_it():
    frame = pd.DataFrame({"alpha": [np.nan, 0.25, np.nan], "gamma": [2.0, 2.0, 0.0]})
    assert list(sens.cell_mask(frame, {"alpha": None, "gamma": 2.0})) == [True, False, False]
    assert list(sens.cell_mask(frame.astype(object).where(frame.notna(), None), {"alpha": None})) == [True, False, True]
    assert list(sens.cell_mask(frame, {})) == [True, True, True]
