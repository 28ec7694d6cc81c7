"""lossbook.studies.robustness: the prior-shift correction, leak-free calibration scores, training lengths."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
import pytest
import yaml

from lossbook.core import params as lbparams
from lossbook.core import plots
from lossbook.core.estimate import Estimate
from lossbook.core.metrics import expected_calibration_error
from lossbook.core.paths import repo_root
from lossbook.studies import chapters, dia
from lossbook.studies import robustness as rob
from lossbook.studies import synthetic as syn

# ------------------------------------------------------------------ parameters


def test_dia_training_parameters_are_the_dia_chapters_in_every_profile():
    """Same names, defaults and profile overrides as the DIA chapter: main_grid then reads its fold models."""
    ours, theirs = lbparams.cell_defaults("robustness"), lbparams.cell_defaults("dia")
    assert {name: ours[name] for name in rob.DIA_TRAINING} == {name: theirs[name] for name in rob.DIA_TRAINING}
    profiles = yaml.safe_load((repo_root() / "notebooks" / "profiles.yml").read_text(encoding="utf-8"))
    for profile in ("full", "quick"):
        mine = {k: v for k, v in profiles["robustness"][profile].items() if k in rob.DIA_TRAINING}
        dias = {k: v for k, v in profiles["dia"][profile].items() if k in rob.DIA_TRAINING}
        assert mine == dias, profile
    assert chapters.constraints("robustness") is rob.CONSTRAINTS
    names = list(profiles)
    assert names.index("acne") < names.index("robustness") < names.index("yourdata") < names.index("claims")


def test_check_parameters_fills_defaults_and_refuses_what_the_chapter_cannot_use():
    p, dia_p = rob.check_parameters(n_repeats=1, collapse_repeats=1, train_steps=[30, 100])
    assert p["n_repeats"] == dia_p["n_repeats"] == 1 and p["train_steps"] == [30, 100]
    assert dia_p["losses"] == list(dia.LOSSES)
    with pytest.raises(ValueError, match="every loss"):
        rob.check_parameters(losses=["bce", "focal"])
    with pytest.raises(ValueError, match="'mlp' and 'cnn'"):
        rob.check_parameters(models=["cnn"], variant_models=["cnn"])
    with pytest.raises(ValueError, match="'mlp' and 'cnn'"):
        rob.check_parameters(models=["mlp"], variant_models=["mlp"])
    with pytest.raises(ValueError, match="increasing"):
        rob.check_parameters(train_steps=[100, 30])
    with pytest.raises(ValueError, match="n_bins"):
        rob.check_parameters(n_bins=1)
    assert p["tune_repeats"] == p["focal_repeats"] == 1  # None: all of the chapter's repeats
    with pytest.raises(ValueError, match=r"collapse_repeats must be at most n_repeats \(1\)"):
        rob.check_parameters(n_repeats=1, collapse_repeats=2)
    with pytest.raises(ValueError, match=r"learning_rates \[0.003\] must include learning_rate \(0.001\)"):
        rob.check_parameters(learning_rates=[0.003])
    with pytest.raises(ValueError, match=r"focal_alphas\[1\]"):
        rob.check_parameters(focal_alphas=[None, 1.5])
    assert rob.check_parameters(tune_models=["cnn", "mlp"])[0]["tune_models"] == ["mlp", "cnn"]


# ------------------------------------------------------------------ prior shift


def test_prior_shift_hand_computed_and_identity():
    p = np.array([0.0, 0.2, 0.5, 0.9, 1.0])
    np.testing.assert_allclose(rob.prior_shift(p, target_prior=0.5), p)
    # from 0.5 to 0.25: odds multiplied by (0.25 / 0.75) / (0.5 / 0.5) = 1/3
    shifted = rob.prior_shift(p, target_prior=0.25)
    odds = p[1:4] / (1 - p[1:4]) / 3
    np.testing.assert_allclose(shifted[1:4], odds / (1 + odds))
    assert shifted[0] == 0.0 and shifted[-1] == 1.0
    assert np.all(np.diff(shifted) > 0)  # order kept: ranking metrics do not move
    with pytest.raises(ValueError, match="target_prior"):
        rob.prior_shift(p, target_prior=1.0)
    with pytest.raises(ValueError, match="y_prob"):
        rob.prior_shift([0.2, 1.5], target_prior=0.3)


def test_prior_shift_recalibrates_a_model_fitted_at_a_balanced_prior():
    """Exact posteriors at a 1:1 prior are miscalibrated at 1:3; the correction makes them exact again."""
    rng = np.random.default_rng(0)
    n = 40000
    y = (rng.random(n) < 0.25).astype(int)
    x = rng.normal(loc=np.where(y == 1, 1.0, -1.0))
    balanced = 1 / (1 + np.exp(-2 * x))  # P(y=1 | x) when both classes are equally likely
    before = expected_calibration_error(y, balanced, n_bins=10)
    after = expected_calibration_error(y, rob.prior_shift(balanced, target_prior=0.25), n_bins=10)
    assert before > 0.1 and after < 0.02


# ------------------------------------------------------------------ DIA calibration (fake fold models)


def _fake_grid(y, p, seed=0):
    """A leak_free frame shaped like dia.main_grid's, with random probabilities."""
    rng = np.random.default_rng(seed)
    rows = []
    for model in ("mlp", "cnn"):
        for loss in ("bce", "focal"):
            for s in dia.cv_splits(y, p["n_splits"], p["n_repeats"], p["seed"]):
                prob = np.clip(0.6 * y[s.test] + 0.3 * rng.random(len(s.test)) + (0.1 if loss == "focal" else 0), 0, 1)
                rows.append({"model": model, "loss": loss, "repeat": s.repeat, "fold": s.fold, "n_train": len(s.train),
                             "n_test": len(s.test), "y_true": y[s.test], "y_prob": prob,
                             "roc_auc": rng.random(), "f1": rng.random()})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def fake():
    rng = np.random.default_rng(1)
    y = (rng.random(120) < 0.3).astype(int)
    p = {"n_splits": 3, "n_repeats": 2, "seed": 0}
    return y, p, _fake_grid(y, p)


def test_training_priors_come_from_training_rows_only(fake):
    y, p, _ = fake
    priors = rob.training_priors(y, p)
    specs = dia.cv_splits(y, p["n_splits"], p["n_repeats"], p["seed"])
    assert len(priors) == len(specs)
    for s in specs:
        assert not np.intersect1d(s.train, s.test).size  # the fold's own test rows never enter its prior
        assert priors[(s.repeat, s.fold)] == pytest.approx(y[s.train].mean())


def test_calibration_frame_scores_each_fold_and_corrects_with_its_training_prior(fake):
    y, p, frame = fake
    out = rob.calibration_frame(frame, y, p, n_bins=5)
    assert len(out) == len(frame)
    row = out.iloc[0]
    assert row["ece"] == pytest.approx(expected_calibration_error(row["y_true"], row["y_prob"], n_bins=5))
    np.testing.assert_allclose(row["y_prob_corrected"], rob.prior_shift(row["y_prob"], target_prior=row["train_prior"]))
    assert row["brier_corrected"] == pytest.approx(np.mean((row["y_prob_corrected"] - row["y_true"]) ** 2))
    wrong = frame.copy()
    wrong.at[0, "y_true"] = 1 - wrong.at[0, "y_true"]
    with pytest.raises(ValueError, match="test labels"):
        rob.calibration_frame(wrong, y, p)


def test_summaries_are_corrected_t_estimates_paired_per_fold(fake):
    y, p, frame = fake
    out = rob.calibration_frame(frame, y, p)
    summary = rob.calibration_summary(out)
    assert list(summary) == ["mlp+bce", "mlp+focal", "cnn+bce", "cnn+focal"]
    entry = summary["mlp+focal"]
    assert all(isinstance(e, Estimate) and e.method == "corrected_t" for e in entry.values())
    g = out[(out.model == "mlp") & (out.loss == "focal")]
    assert entry["ece"].estimate == pytest.approx(g["ece"].mean())
    assert entry["ece_change"].estimate == pytest.approx((g["ece_corrected"] - g["ece"]).mean())
    diffs = rob.loss_differences(out)
    bce = out[(out.model == "cnn") & (out.loss == "bce")].set_index(["repeat", "fold"])["brier"]
    focal = out[(out.model == "cnn") & (out.loss == "focal")].set_index(["repeat", "fold"])["brier"]
    assert diffs["cnn"]["brier"].estimate == pytest.approx((focal - bce).mean())
    assert rob.loss_differences(out, "dice") == {}  # no network ran Dice here
    y_true, y_prob = rob.pooled(out, "mlp", "bce", corrected=True)
    assert len(y_true) == len(y_prob) == len(y) * p["n_repeats"]
    table = rob.summary_table(summary, "brier")
    assert list(table.columns) == ["brier", "brier_corrected", "brier_change"] and table.index[0] == "MLP + BCE"


def test_without_smote_nothing_is_corrected_and_the_pairs_are_per_fold(fake):
    y, p, frame = fake
    with_smote = rob.calibration_frame(frame, y, p)
    without = rob.calibration_frame(_fake_grid(y, p, seed=5), y, p, smote=False)
    assert (without["ece_corrected"] == without["ece"]).all() and (without["brier_corrected"] == without["brier"]).all()
    differences = rob.smote_differences(with_smote, without)
    assert list(differences) == ["mlp+bce", "mlp+focal", "cnn+bce", "cnn+focal"]
    assert set(differences["cnn+focal"]) == set(rob.SMOTE_COLUMNS)
    a = with_smote[(with_smote.model == "cnn") & (with_smote.loss == "focal")].set_index(["repeat", "fold"])
    b = without[(without.model == "cnn") & (without.loss == "focal")].set_index(["repeat", "fold"])
    assert differences["cnn+focal"]["ece_corrected"].estimate == pytest.approx((b["ece"] - a["ece_corrected"]).mean())
    assert differences["cnn+focal"]["roc_auc"].estimate == pytest.approx((b["roc_auc"] - a["roc_auc"]).mean())
    table = rob.summary_table(rob.calibration_summary(with_smote), without=rob.calibration_summary(without))
    assert table.loc["CNN + focal", "ece_no_smote"].estimate == pytest.approx(b["ece"].mean())
    assert list(rob.config_table(differences, {"f1": "F1"}).index) == list(table.index)


# ------------------------------------------------------------------ synthetic training length


def test_training_length_runs_match_separately_trained_networks():
    runs = rob.training_length_runs([2, 5], [0, 1], [42], val_fraction=0.25)
    assert len(runs) == 2 * 2 * 2 * 2  # lengths x rules x losses x seeds
    assert set(runs["rule"]) == set(rob.RULES) and (runs.loc[runs.rule == "at_half", "threshold"] == 0.5).all()
    data = syn.make_dataset(42)
    specs = [syn.LossSpec("bce", "bce"), syn.tutorial_focal_spec("focal")]
    alone = syn.train_members(data.X_train, data.y_train, specs, [1], epochs=5)
    expected = syn.score_members(data.y_test, syn.predict(alone, data.X_test), 0.5)
    got = runs[(runs.steps == 5) & (runs.rule == "at_half") & (runs.seed == 1)].set_index("arm")
    for i, arm in enumerate(("bce", "focal")):
        assert got.loc[arm, "minority_found"] == expected.loc[i, "minority_found"]
        assert got.loc[arm, "roc_auc"] == pytest.approx(expected.loc[i, "roc_auc"])
    fit, val = syn.carve_validation(data.y_train, fraction=0.25, random_state=42)
    held = syn.train_members(data.X_train[fit], data.y_train[fit], specs, [0], epochs=2)
    thresholds = syn.f1_thresholds(data.y_train[val], syn.predict(held, data.X_train[val]))
    chosen = runs[(runs.steps == 2) & (runs.rule == "validation") & (runs.seed == 0)].set_index("arm")["threshold"]
    np.testing.assert_allclose(chosen[["bce", "focal"]].to_numpy(), thresholds)
    table = rob.length_table(runs)
    assert list(table.index) == [2, 5] and table.loc[5, "found_bce"] == runs[
        (runs.steps == 5) & (runs.rule == "at_half") & (runs.arm == "bce")]["minority_found"].mean()


def test_length_differences_and_finding():
    rows = []
    for steps, gain in ((30, 3), (300, 0)):
        for rule in rob.RULES:
            for draw in (42, 43):
                for seed in range(4):
                    for arm in ("bce", "focal"):
                        extra = gain + seed % 2 if gain else 2 * (seed % 2) - 1  # 300 steps: -1 or +1, mean 0
                        found = 5 + seed + (extra if arm == "focal" else 0)
                        rows.append({"steps": steps, "rule": rule, "flip_y": 0.01, "draw": draw, "seed": seed,
                                     "arm": arm, "minority_found": found, "roc_auc": 0.9})
    diffs = rob.length_differences(pd.DataFrame(rows), n_boot=200)
    assert diffs[30]["at_half"]["minority_found"].estimate == pytest.approx(3.5)
    assert diffs[30]["at_half"]["minority_found"].method == "bootstrap"
    assert rob.length_finding(diffs) == rob.DEPENDS  # at 300 steps the interval holds zero
    assert rob.length_finding({30: diffs[30]}) == rob.HOLDS
    frames = rob.difference_frame(diffs)
    assert frames["estimate"].loc[30, "at_half"] == pytest.approx(3.5) and list(frames["estimate"].columns) == list(rob.RULES)
    assert rob.length_difference_table(diffs).shape == (4, 2)


def test_direction_words_follow_the_interval():
    assert rob.direction(Estimate(0.1, 0.05, 0.2, method="t")) == "higher"
    assert rob.direction(Estimate(-0.1, -0.2, -0.05, method="t")) == "lower"
    assert rob.direction(Estimate(0.1, -0.05, 0.2, method="t")) == "not clearly different"
    assert rob.direction(Estimate(0.1)) == "not clearly different"


def test_reliability_figure_keeps_its_legend_off_the_curves(fake):
    y, p, frame = fake
    calibration = rob.calibration_frame(frame, y, p)
    fig, axes = rob.reliability_figure({"as predicted": (calibration, False), "corrected": (calibration, True)}, "mlp",
                                       ["bce", "focal"], n_bins=5)
    assert len(axes) == 2 and all(ax.get_legend() is None for ax in axes)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["perfect calibration", "BCE", "focal"]
    assert plots.smallest_font_pt(fig) >= plots.MIN_FONT_PT
