"""lossbook.core.metrics against hand-computed cases."""
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from lossbook.core import metrics as M


def test_binary_report_hand_computed():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.6, 0.2, 0.7, 0.1, 0.3, 0.4, 0.05])
    r = M.binary_report(y, p)
    # predicted positive: 0.9, 0.6 (TP), 0.7 (FP); missed 0.2 (FN); TN = 4
    assert (r["tp"], r["fp"], r["fn"], r["tn"]) == (2, 1, 1, 4)
    assert r["accuracy"] == pytest.approx(6 / 8)
    assert r["precision"] == pytest.approx(2 / 3)
    assert r["recall"] == pytest.approx(2 / 3)
    assert r["f1"] == pytest.approx(2 / 3)
    assert r["balanced_accuracy"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    mcc = (2 * 4 - 1 * 1) / np.sqrt(3 * 3 * 5 * 5)
    assert r["mcc"] == pytest.approx(mcc)
    assert r["brier"] == pytest.approx(np.mean((p - y) ** 2))
    # ROC-AUC: share of (pos, neg) pairs ranked right: 0.9 beats 5, 0.6 beats 4, 0.2 beats 2 -> 11/15
    assert r["roc_auc"] == pytest.approx(11 / 15)
    # AP: ranks 0.9 (P), 0.7 (N), 0.6 (P), ..., 0.2 (P) at rank 6: (1 + 2/3 + 3/6) / 3
    assert r["pr_auc"] == pytest.approx((1 + 2 / 3 + 3 / 6) / 3)
    assert r["positive_rate_pred"] == pytest.approx(3 / 8)
    assert r["single_class"] is False
    assert set(r) == set(M.BINARY_KEYS)
    # threshold is inclusive
    assert M.binary_report(y, p, threshold=0.6)["tp"] == 2
    assert M.binary_report(y, p, threshold=0.61)["tp"] == 1


def test_binary_report_degenerate_cases_without_warnings():
    y = np.array([0, 0, 0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = M.binary_report(y, np.array([0.1, 0.2, 0.3, 0.4]))
        assert np.isnan(r["roc_auc"]) and np.isnan(r["pr_auc"])
        assert r["precision"] == 0 and r["recall"] == 0 and r["f1"] == 0
        assert r["single_class"] is True and r["accuracy"] == 1.0
        r = M.binary_report(np.array([1, 0, 1, 0]), np.full(4, 0.2))
        assert r["precision"] == 0 and r["positive_rate_pred"] == 0 and r["single_class"] is True


@pytest.mark.parametrize("pi_counts", [(118, 477), (1, 2), (3, 100)])
def test_all_positive_scores_match_binary_report(pi_counts):
    pos, n = pi_counts
    y = np.r_[np.ones(pos), np.zeros(n - pos)].astype(int)
    report = M.binary_report(y, np.ones(n))
    expected = M.all_positive_scores(pos / n)
    for key in ("accuracy", "precision", "recall", "f1"):
        assert report[key] == pytest.approx(expected[key], rel=1e-12)
    assert expected["f1"] == pytest.approx(2 * (pos / n) / (1 + pos / n))
    assert report["balanced_accuracy"] == 0.5 and report["mcc"] == 0


def test_binary_report_rejects_bad_input():
    with pytest.raises(ValueError, match="y_true must hold only labels 0 and 1"):
        M.binary_report([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"y_prob must hold probabilities in \[0, 1\]"):
        M.binary_report([0, 1], [0.1, 1.2])
    with pytest.raises(ValueError, match="y_prob has 3 values but y_true has 2"):
        M.binary_report([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="threshold"):
        M.binary_report([0, 1], [0.1, 0.2], threshold=2)
    with pytest.raises(ValueError, match="prevalence"):
        M.all_positive_scores(0)


def test_multiclass_report():
    y = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 0, 0])
    rep = M.multiclass_report(y, pred, ["a", "b", "c"])
    assert list(rep.index) == ["a", "b", "c", "macro avg", "weighted avg", "accuracy"]
    assert rep.loc["a", "precision"] == pytest.approx(1 / 3)
    assert rep.loc["b", "precision"] == pytest.approx(2 / 3)
    assert rep.loc["c", "precision"] == 0  # never predicted
    assert rep.loc["b", "recall"] == 1.0
    assert rep.loc["macro avg", "recall"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert rep.loc["accuracy", "f1"] == pytest.approx(3 / 6) == rep.attrs["accuracy"]
    assert rep.loc["a", "support"] == 2
    # probabilities and one-hot labels give the same report
    probs = np.eye(3)[pred] * 0.8 + 0.1
    pd.testing.assert_frame_equal(M.multiclass_report(np.eye(3)[y], probs, ["a", "b", "c"]), rep)
    with pytest.raises(ValueError, match="integer labels in 0..2"):
        M.multiclass_report(y, pred + 2, ["a", "b", "c"])


def test_summarize_is_a_t_interval():
    x = [0.8, 0.9, 0.7, 0.85, np.nan]
    s = M.summarize(x)
    v = np.array(x[:4])
    half = stats.t.ppf(0.975, 3) * v.std(ddof=1) / 2
    assert s["n"] == 4 and s["mean"] == pytest.approx(v.mean())
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((v.mean() - half, v.mean() + half))
    assert np.isnan(M.summarize([0.5])["ci_low"])
    with pytest.raises(ValueError, match="level"):
        M.summarize(x, level=95)


def test_aggregate_groups():
    frame = pd.DataFrame({"loss": ["bce"] * 3 + ["focal"] * 3, "fold": [0, 1, 2] * 2,
                          "f1": [0.5, 0.6, 0.7, 0.1, 0.2, 0.3]})
    out = M.aggregate(frame, "loss", ["f1"])
    assert out.loc["bce", ("f1", "mean")] == pytest.approx(0.6)
    assert out.loc["focal", ("f1", "std")] == pytest.approx(0.1)
    assert out.loc["focal", ("f1", "n")] == 3
    with pytest.raises(ValueError, match="columns \\['auc'\\] not in frame"):
        M.aggregate(frame, "loss", ["auc"])


def test_corrected_resampled_ttest_by_hand():
    d = np.array([0.02, 0.05, -0.01, 0.03, 0.04, 0.00, 0.01, 0.02, 0.03, 0.01])
    n_train, n_test = 90, 10
    out = M.corrected_resampled_ttest(d, n_train, n_test)
    mean = d.sum() / 10
    var = ((d - mean) ** 2).sum() / 9
    se = np.sqrt((1 / 10 + 10 / 90) * var)
    t = mean / se
    assert out["mean"] == pytest.approx(0.02)
    assert out["se"] == pytest.approx(se)
    assert out["t"] == pytest.approx(t)
    assert out["df"] == 9
    assert out["p_value"] == pytest.approx(2 * (1 - stats.t.cdf(abs(t), 9)))
    assert out["ci_low"] == pytest.approx(mean - stats.t.ppf(0.975, 9) * se)
    # the correction makes the test more conservative than the naive paired t-test
    assert out["p_value"] > stats.ttest_1samp(d, 0).pvalue
    with pytest.raises(ValueError, match="n_train"):
        M.corrected_resampled_ttest(d, 0, 10)


def test_bootstrap_is_deterministic_and_sensible():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(20), np.zeros(80)].astype(int)
    s = np.clip(y * 0.3 + rng.uniform(0, 0.7, 100), 0, 1)
    a = M.bootstrap_ci("roc_auc", y, s, n_boot=300, seed=3)
    b = M.bootstrap_ci("roc_auc", y, s, n_boot=300, seed=3)
    assert a == b
    assert a["ci_low"] < a["estimate"] < a["ci_high"]
    assert M.bootstrap_ci("roc_auc", y, s, n_boot=300, seed=4) != a
    # stratified: every resample keeps both classes, so a 1-positive set still has an AUC interval
    y1 = np.r_[1, np.zeros(30)].astype(int)
    out = M.bootstrap_ci("roc_auc", y1, rng.uniform(size=31), n_boot=50)
    assert np.isfinite(out["ci_low"])
    with pytest.raises(ValueError, match="metric must be"):
        M.bootstrap_ci("auc", y, s)
    # the rank-based fast path for "roc_auc" gives sklearn's numbers on the same resamples
    s_tied = np.round(s, 1)  # with ties
    fast = M.bootstrap_ci("roc_auc", y, s_tied, n_boot=200, seed=5)
    slow = M.bootstrap_ci(roc_auc_score, y, s_tied, n_boot=200, seed=5)
    assert fast == pytest.approx(slow, rel=1e-12)


def test_paired_bootstrap():
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(30), np.zeros(70)].astype(int)
    noise = rng.uniform(0, 1, 100)
    good = np.clip(0.5 * y + 0.5 * noise, 0, 1)
    bad = noise
    out = M.paired_bootstrap("roc_auc", y, bad, good, n_boot=400, seed=0)
    assert out["diff"] > 0 and out["ci_low"] > 0 and out["p_value"] < 0.01
    assert out == M.paired_bootstrap("roc_auc", y, bad, good, n_boot=400, seed=0)
    slow = M.paired_bootstrap(roc_auc_score, y, bad, good, n_boot=100, seed=2)
    assert slow == pytest.approx(M.paired_bootstrap("roc_auc", y, bad, good, n_boot=100, seed=2), rel=1e-12)
    f1 = M.paired_bootstrap("f1", y, bad, good, n_boot=50, seed=0)
    assert f1["diff"] > 0
    same = M.paired_bootstrap("roc_auc", y, good, good, n_boot=100)
    assert same["diff"] == 0 and same["p_value"] == 1.0


# --- the losses chapter's tables, computed in the package ---------------------------------------
def test_all_positive_table_matches_the_formula():
    table, checks = M.all_positive_table({"imbalanced": (118, 477), "balanced": (359, 718)})
    assert checks == {"imbalanced": True, "balanced": True}
    assert list(table.index) == ["imbalanced", "balanced"]
    assert table.loc["balanced", "f1"] == pytest.approx(2 / 3) and table.loc["balanced", "recall"] == 1.0
    assert table.loc["imbalanced", "F1 formula 2π/(1+π)"] == pytest.approx(2 * (118 / 477) / (1 + 118 / 477))
    assert table["positives"].dtype.kind == "i"
    with pytest.raises(ValueError, match="case 'bad'"):
        M.all_positive_table({"bad": (0, 10)})


def test_score_fixed_predictions_and_ranks():
    y = np.array([1, 0, 0, 1, 0, 0, 1, 0])
    preds = {"perfect": np.where(y == 1, 0.9, 0.1), "constant": np.full(8, 0.5)}
    mse = lambda t, p: float(np.mean((t - p) ** 2))  # noqa: E731
    batch_mse = lambda t, p: np.mean((t - p) ** 2, axis=-1)  # noqa: E731
    table = M.score_fixed_predictions(y, preds, {"MSE": mse}, batch_losses={"MSE per batch": batch_mse},
                                            batch_size=3, order=np.arange(8))
    assert list(table.columns) == ["MSE", "MSE per batch", "ROC-AUC", "F1 at 0.5"]
    assert table.loc["perfect", "MSE"] == pytest.approx(0.01)
    assert table.loc["perfect", "MSE per batch"] == pytest.approx(0.01)  # two full batches of 3 (rows 0-5)
    assert table.loc["constant", "ROC-AUC"] == 0.5
    ranks = M.rank_columns(table, higher_is_better=("ROC-AUC", "F1 at 0.5"))
    assert ranks.loc["perfect"].tolist() == [1, 1, 1, 1] and ranks.loc["constant", "MSE"] == 2
    with pytest.raises(ValueError, match="permutation"):
        M.score_fixed_predictions(y, preds, {"MSE": mse}, batch_losses={"b": batch_mse}, batch_size=3,
                                        order=np.zeros(8, dtype=int))
    with pytest.raises(ValueError, match="does not have"):
        M.rank_columns(table, higher_is_better=("AUC",))


# ------------------------------------------------------ the one ROC-AUC and AP
@pytest.mark.parametrize("ties", [False, True])
def test_roc_auc_and_average_precision_equal_sklearn_with_ties_weights_rows_and_mask(ties):
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(3, 80))
        y = rng.integers(0, 2, n)
        y[:2] = [0, 1]
        s = rng.integers(0, 4, n) / 3 if ties else rng.random(n)
        assert M.roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-14)
        assert M.average_precision(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-14)
        w = rng.integers(1, 4, (3, n)).astype(float)  # multiplicities, one row per resample
        np.testing.assert_allclose(M.roc_auc(y, s, sample_weight=w),
                                   [roc_auc_score(y, s, sample_weight=r) for r in w], atol=1e-14)
        np.testing.assert_allclose(M.average_precision(y, s, sample_weight=w),
                                   [average_precision_score(y, s, sample_weight=r) for r in w], atol=1e-14)
    # rows of scores (many models on the same examples), padded entries masked out
    S = np.round(rng.random((4, 30)), 1 if ties else 6)
    Y = rng.integers(0, 2, (4, 30))
    mask = np.ones((4, 30), dtype=bool)
    mask[1, 20:] = False
    Y[:, :2] = [0, 1]
    S_padded = np.where(mask, S, np.nan)
    got_auc, got_ap = M.roc_auc(Y, S_padded, mask=mask), M.average_precision(Y, S_padded, mask=mask)
    for i in range(4):
        m = mask[i]
        assert got_auc[i] == pytest.approx(roc_auc_score(Y[i, m], S[i, m]), abs=1e-14)
        assert got_ap[i] == pytest.approx(average_precision_score(Y[i, m], S[i, m]), abs=1e-14)
    assert np.isnan(M.roc_auc(np.zeros(5), np.arange(5.0))) and np.isnan(M.average_precision(np.zeros(5), np.arange(5.0)))


def test_rank_auc_is_exact_mann_whitney():
    # integer numerator: bit-identical to the mid-rank formula, whatever the ties
    from scipy.stats import rankdata

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    s = rng.integers(0, 20, 500).astype(float)
    n_pos, n_neg = y.sum(), (1 - y).sum()
    assert M.roc_auc(y, s) == (rankdata(s)[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def test_one_engine_same_seed_same_resamples_whatever_the_chunk():
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.2).astype(int)
    whole = np.concatenate(list(M.stratified_resamples(y, 30, seed=5)))
    chunked = np.concatenate(list(M.stratified_resamples(y, 30, seed=5, max_cells=450)))
    np.testing.assert_array_equal(whole, chunked)
    assert whole.shape == (30, 200)
    # stratified: each resample keeps the class counts
    assert (y[whole].sum(axis=1) == y.sum()).all()
    # the stream is numpy's Generator.choice within each class, class after class
    gen = np.random.default_rng(5)
    groups = [np.flatnonzero(y == c) for c in (0, 1)]
    first = np.concatenate([gen.choice(g, size=g.size, replace=True) for g in groups])
    np.testing.assert_array_equal(whole[0], first)


# ---------------------------------------------------------------- calibration
def test_reliability_curve_hand_computed():
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.05, 0.15, 0.55, 0.6, 1.0])
    curve = M.reliability_curve(y, p, n_bins=2)
    assert list(curve.columns) == ["centre", "mean_prob", "frequency", "count"]
    np.testing.assert_allclose(curve["centre"], [0.25, 0.75])
    assert curve["count"].tolist() == [2, 3]  # p = 1 falls in the last bin
    np.testing.assert_allclose(curve["mean_prob"], [0.1, (0.55 + 0.6 + 1.0) / 3])
    np.testing.assert_allclose(curve["frequency"], [0.5, 2 / 3])
    empty = M.reliability_curve(y, p, n_bins=10)
    assert len(empty) == 10 and empty["count"].sum() == 5 and empty["frequency"].isna().sum() == 10 - 5


def test_expected_calibration_error_hand_computed_and_limits():
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.05, 0.15, 0.55, 0.6, 1.0])
    expected = 2 / 5 * abs(0.1 - 0.5) + 3 / 5 * abs((0.55 + 0.6 + 1.0) / 3 - 2 / 3)
    assert M.expected_calibration_error(y, p, n_bins=2) == pytest.approx(expected)
    # an always-right, fully confident model is perfectly calibrated; the same predictions flipped are not
    assert M.expected_calibration_error([0, 1, 1], [0.0, 1.0, 1.0]) == 0.0
    assert M.expected_calibration_error([0, 1, 1], [1.0, 0.0, 0.0]) == 1.0
    rng = np.random.default_rng(0)
    q = rng.random(20000)
    yy = (rng.random(20000) < q).astype(int)
    assert M.expected_calibration_error(yy, q, n_bins=15) < 0.02
    assert M.expected_calibration_error(yy, 0.5 + 0.1 * (q - 0.5), n_bins=15) > 0.1  # shrunk towards 0.5


def test_calibration_helpers_refuse_bad_input():
    with pytest.raises(ValueError, match="n_bins"):
        M.expected_calibration_error([0, 1], [0.2, 0.8], n_bins=0)
    with pytest.raises(ValueError, match="y_prob"):
        M.reliability_curve([0, 1], [0.2, 1.3])
    with pytest.raises(ValueError):
        M.expected_calibration_error([0, 1, 1], [0.2, 0.8])
