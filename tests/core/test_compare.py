"""lossbook.core.compare: input checks, the vectorised bootstrap, fold tests, reading files."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from lossbook.core import metrics as lbm
from lossbook.core.compare import (
    METRICS,
    Comparison,
    _scores_from_groups,
    bootstrap_differences,
    choose_threshold,
    compare,
    compare_predictions,
    read_predictions,
)


def problem(n=3000, prevalence=0.03, shift_a=1.0, shift_b=1.0, seed=0, round_to=None):
    """Labels and two score vectors: higher shift, better separation."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    y[:2] = [0, 1]
    za = rng.normal(size=n) + shift_a * y
    zb = rng.normal(size=n) + shift_b * y
    a, b = 1 / (1 + np.exp(-(za - 3))), 1 / (1 + np.exp(-(zb - 3)))
    if round_to is not None:  # create ties
        a, b = np.round(a, round_to), np.round(b, round_to)
    return y, a, b


# ----------------------------------------------------------------- the engine
def _weights(idx, n):
    return np.stack([np.bincount(row, minlength=n) for row in idx]).astype(float)


@pytest.mark.parametrize("round_to", [None, 2])
def test_weighted_scores_equal_sklearn_with_sample_weight(round_to):
    y, _, p = problem(n=1500, round_to=round_to)
    (idx,) = list(lbm.stratified_resamples(y, 4, seed=1))
    (counts,) = list(lbm.stratified_counts(y, 4, seed=1))
    run = lbm.ResampledRanking(y, p, cuts=(0.3,))
    out = _scores_from_groups(run, counts, threshold=0.3)
    for k, w in enumerate(_weights(idx, len(y))):
        pred = p >= 0.3
        expected = {
            "roc_auc": skm.roc_auc_score(y, p, sample_weight=w),
            "pr_auc": skm.average_precision_score(y, p, sample_weight=w),
            "brier": skm.brier_score_loss(y, p, sample_weight=w),
            "accuracy": skm.accuracy_score(y, pred, sample_weight=w),
            "balanced_accuracy": skm.balanced_accuracy_score(y, pred, sample_weight=w),
            "precision": skm.precision_score(y, pred, sample_weight=w, zero_division=0),
            "recall": skm.recall_score(y, pred, sample_weight=w),
            "f1": skm.f1_score(y, pred, sample_weight=w),
            "mcc": skm.matthews_corrcoef(y, pred, sample_weight=w),
        }
        for name, value in expected.items():
            assert out[name][k] == pytest.approx(value, abs=1e-10), name


def test_unit_weights_equal_binary_report():
    y, a, _ = problem(round_to=3)
    run = lbm.ResampledRanking(y, a, cuts=(0.5,))
    counts = [np.ones((1, int((y == 0).sum()))), np.ones((1, int(y.sum())))]  # every row once
    out = _scores_from_groups(run, counts, threshold=0.5)
    report = lbm.binary_report(y, a, threshold=0.5)
    for name in METRICS:
        assert out[name][0] == pytest.approx(report[name], abs=1e-12), name


def test_bootstrap_is_seeded_and_is_the_engine_of_metrics_paired_bootstrap():
    y, a, b = problem(shift_b=1.6)
    one = bootstrap_differences(y, a, b, n_boot=400, seed=3)
    two = bootstrap_differences(y, a, b, n_boot=400, seed=3)
    pd.testing.assert_frame_equal(one, two)
    assert not one.equals(bootstrap_differences(y, a, b, n_boot=400, seed=4))
    # One engine: the same seed gives metrics.paired_bootstrap exactly the same interval.
    for metric in ("roc_auc", "pr_auc", "brier", "f1"):
        reference = lbm.paired_bootstrap(metric, y, a, b, n_boot=400, seed=3)
        lo, hi, p = lbm.bootstrap_summary(one[metric].to_numpy())
        assert (lo, hi) == pytest.approx((reference["ci_low"], reference["ci_high"]), abs=1e-12), metric
        assert p == reference["p_value"]


def test_bootstrap_memory_is_linear_in_rows():
    import tracemalloc

    rng = np.random.default_rng(0)
    peaks = []
    for n in (20_000, 80_000):
        y = (rng.random(n) < 0.05).astype(int)  # 4x the rows: 4x the positives
        a, b = rng.random(n), rng.random(n)
        tracemalloc.start()
        bootstrap_differences(y, a, b, n_boot=20, seed=0)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 6 * peaks[0]  # quadratic in the positives would be 16x


# ----------------------------------------------------------------- compare
def test_table_layout_and_point_values():
    y, a, b = problem(shift_b=1.5)
    result = compare(y, a, b, names=("BCE", "focal"), threshold=0.2, n_boot=200)
    assert isinstance(result, Comparison)
    assert list(result.table.columns) == [
        "metric", "value_a", "value_b", "diff", "ci_low", "ci_high", "p_value", "method", "threshold"]
    assert list(result.table["metric"]) == list(METRICS)
    ra, rb = lbm.binary_report(y, a, 0.2), lbm.binary_report(y, b, 0.2)
    for row in result.table.itertuples():
        assert row.value_a == pytest.approx(ra[row.metric])
        assert row.value_b == pytest.approx(rb[row.metric])
        assert row.diff == pytest.approx(rb[row.metric] - ra[row.metric])
        assert row.ci_low <= row.ci_high
        assert 0 < row.p_value <= 1
    assert np.isnan(result.row("roc_auc")["threshold"]) and result.row("f1")["threshold"] == 0.2


def test_clear_winner_is_detected_and_named():
    y, a, b = problem(n=4000, shift_a=0.3, shift_b=2.5)
    result = compare(y, a, b, names=("BCE", "focal"), n_boot=300)
    assert result.detectable("roc_auc") and result.better("roc_auc") == "focal"
    assert "ROC-AUC: focal is higher" in result.verdict


def test_same_model_twice_gives_no_detectable_difference():
    y, a, _ = problem()
    rng = np.random.default_rng(5)
    jitter = np.clip(a + rng.normal(0, 1e-4, len(a)), 0, 1)  # same ranking quality, not identical
    result = compare(y, a, jitter, names=("run 1", "run 2"), n_boot=300)
    assert not result.detectable("roc_auc")
    assert "ROC-AUC: no detectable difference" in result.verdict
    assert "Overall: no detectable difference" in result.verdict


def test_brier_lower_is_better():
    y, a, _ = problem()
    worse = np.clip(a * 0.2 + 0.4, 0, 1)  # squashed towards 0.5: badly calibrated
    result = compare(y, worse, a, names=("squashed", "original"), n_boot=200)
    assert result.better("brier") == "original"
    assert "Brier score: original is lower (better)" in result.verdict


def test_folds_use_corrected_resampled_ttest():
    y, a, b = problem(n=3000, shift_b=1.5)
    folds = np.repeat([f"r{r}f{k}" for r in range(2) for k in range(3)], 500)
    result = compare(y, a, b, folds=folds, n_train=2000)
    assert set(result.table["method"]) == {"corrected resampled t-test"}
    diffs = []
    for f in pd.unique(folds):
        m = folds == f
        diffs.append(skm.roc_auc_score(y[m], b[m]) - skm.roc_auc_score(y[m], a[m]))
    expected = lbm.corrected_resampled_ttest(np.array(diffs), n_train=2000, n_test=500)
    row = result.row("roc_auc")
    assert row["diff"] == pytest.approx(expected["mean"])
    assert row["ci_low"] == pytest.approx(expected["ci_low"])
    assert row["p_value"] == pytest.approx(expected["p_value"])
    assert "over 6 folds" in result.verdict


def test_accepts_series_keras_shape_bools_and_logits():
    y, a, b = problem()
    plain = compare(y, a, b, n_boot=100)
    keras_like = compare(pd.Series(y.astype(bool)), a[:, None], pd.Series(b), n_boot=100)
    pd.testing.assert_frame_equal(plain.table, keras_like.table)
    logits = compare(y, np.log(a / (1 - a)), np.log(b / (1 - b)), from_logits=True, n_boot=100)
    np.testing.assert_allclose(logits.table["value_a"], plain.table["value_a"], atol=1e-9)


def test_figure_has_four_panels():
    y, a, b = problem()
    fig = compare(y, a, b, names=("BCE", "focal"), n_boot=100).figure()
    assert len(fig.axes) == 4
    assert fig.axes[3].get_title() == "Paired differences"
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_to_dict_is_plain():
    y, a, b = problem()
    d = compare(y, a, b, names=("BCE", "focal"), n_boot=100).to_dict()
    assert d["names"] == ["BCE", "focal"] and d["n_positive"] == int(y.sum())
    assert set(d["metrics"]) == set(METRICS)


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("mutate, match", [
    (lambda y, a, b: (y[:-1], a, b), "prob_a has 3000 values but y_true has 2999"),
    (lambda y, a, b: (y, a, b[:-1]), "prob_b has 2999 values but y_true has 3000"),
    (lambda y, a, b: (np.where(np.arange(len(y)) == 7, 2, y), a, b), r"y_true must hold only labels 0 and 1.*\[2\].*index 7"),
    (lambda y, a, b: (np.where(np.arange(len(y)) == 4, np.nan, y.astype(float)), a, b), "y_true holds 1 NaN"),
    (lambda y, a, b: (np.zeros_like(y), a, b), "y_true holds only class 0"),
    (lambda y, a, b: (y, np.where(np.arange(len(a)) == 3, np.nan, a), b), r"prob_a holds 1 NaN/inf value\(s\) \(first at index 3\)"),
    (lambda y, a, b: (y, a, b * 3 - 1), r"prob_b must hold probabilities in \[0, 1\].*from_logits=True"),
    (lambda y, a, b: (y, np.stack([1 - a, a], axis=1), b), r"prob_a must be 1-D \(or shape \(n, 1\)\)"),
    (lambda y, a, b: (y.astype(str), a, b), "y_true must hold numeric labels"),
    (lambda y, a, b: (y, None, b), "prob_a is None"),
])
def test_bad_inputs_name_the_argument(mutate, match):
    y, a, b = problem()
    y, a, b = mutate(y, a, b)
    with pytest.raises(ValueError, match=match):
        compare(y, a, b, n_boot=100)


@pytest.mark.parametrize("kwargs, match", [
    ({"threshold": 0.0}, "threshold must be a number strictly between 0 and 1"),
    ({"threshold": 1.5}, "threshold"),
    ({"names": ("same", "same")}, "names must be two different"),
    ({"names": ("only",)}, "names"),
    ({"n_boot": 10}, "n_boot must be an integer >= 100"),
    ({"level": 95}, "level must be strictly between 0 and 1"),
    ({"seed": -1}, "seed must be a non-negative integer"),
    ({"n_train": 100}, "n_train is only used with folds="),
    ({"folds": np.zeros(3000)}, "folds holds 1 distinct fold id"),
    ({"folds": np.arange(10)}, "folds has 10 values but y_true has 3000"),
    ({"folds": np.repeat([0, 1], 1500)}, "n_train must be a positive integer"),
])
def test_bad_settings_name_the_parameter(kwargs, match):
    y, a, b = problem()
    with pytest.raises(ValueError, match=match):
        compare(y, a, b, **{"n_boot": 100, **kwargs})


def test_fold_with_one_class_is_refused():
    y, a, b = problem()
    folds = np.where(y == 1, 0, np.arange(len(y)) % 2)  # fold 1 has no positive
    with pytest.raises(ValueError, match="fold 1 holds only class 0"):
        compare(y, a, b, folds=folds, n_train=100)


# ----------------------------------------------------------------- files
def test_read_predictions_csv_and_compare_predictions(tmp_path):
    y, a, b = problem()
    pd.DataFrame({"y_true": y, "prob": a}).to_csv(tmp_path / "bce.csv", index=False)
    pd.DataFrame({"Label": y, "logits": np.log(b / (1 - b))}).to_csv(tmp_path / "focal.csv", index=False)
    run_a = read_predictions(tmp_path / "bce.csv")
    run_b = read_predictions(tmp_path / "focal.csv")
    np.testing.assert_allclose(run_b.prob, b, atol=1e-12)  # logit column: sigmoid applied
    result = compare_predictions(run_a, run_b, names=("BCE", "focal"), n_boot=100)
    assert result.row("roc_auc")["value_b"] == pytest.approx(skm.roc_auc_score(y, b))


def test_read_predictions_fold_column_and_explicit_names():
    y, a, _ = problem()
    frame = pd.DataFrame({"truth": y, "p_focal": a, "fold": np.arange(len(y)) % 3})
    run = read_predictions(frame, label_column="truth", prob_column="p_focal")
    assert run.fold is not None and len(run) == len(y)


@pytest.mark.parametrize("frame, match", [
    (pd.DataFrame({"epoch": [0, 1], "loss": [0.1, 0.05], "val_auc": [0.5, 0.7]}), "Keras CSVLogger training log"),
    (pd.DataFrame({"y_true": [0, 1], "prob": [0.1, 0.2], "score": [0.3, 0.4]}), "several columns could be the prob"),
    (pd.DataFrame({"y_true": [0, 1], "something": [0.1, 0.2]}), "found no a probability column"),
    (pd.DataFrame({"y_true": [0, 3], "prob": [0.1, 0.2]}), "column 'y_true'.*only labels 0 and 1"),
    (pd.DataFrame({"y_true": [0, 1], "prob": [0.1, 1.2]}), r"column 'prob' must hold probabilities in \[0, 1\]"),
])
def test_read_predictions_refuses_bad_frames(frame, match):
    with pytest.raises(ValueError, match=match):
        read_predictions(frame)


def test_read_predictions_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such predictions file"):
        read_predictions(tmp_path / "nope.csv")


def test_compare_predictions_refuses_different_examples():
    y, a, b = problem()
    one = read_predictions(pd.DataFrame({"y_true": y, "prob": a}))
    other = read_predictions(pd.DataFrame({"y_true": y[::-1], "prob": b}))
    with pytest.raises(ValueError, match="labels differ"):
        compare_predictions(one, other)


# ----------------------------------------------------------------- threshold
def test_choose_threshold_matches_brute_force():
    y, a, _ = problem(round_to=2)
    chosen = choose_threshold(y, a, metric="balanced_accuracy")
    grid = chosen["grid"]
    brute = [lbm.binary_report(y, a, threshold=t)["balanced_accuracy"] for t in grid]
    np.testing.assert_allclose(chosen["values"], brute, atol=1e-12)
    assert chosen["threshold"] == grid[int(np.argmax(brute))]
    with pytest.raises(ValueError, match="metric must be one of"):
        choose_threshold(y, a, metric="roc_auc")


def test_page_frame_has_both_values_and_the_difference_with_its_interval():
    import numpy as np

    from lossbook.core.compare import compare
    from lossbook.core.estimate import Estimate

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    a, b = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1), rng.random(400)
    cmp = compare(y, a, b, names=("good", "noise"), n_boot=200, seed=0)
    frame = cmp.page_frame(["roc_auc", "recall"])
    assert list(frame.index) == ["ROC-AUC", "recall at 0.5"]
    cell = frame.loc["ROC-AUC", "noise − good"]
    assert isinstance(cell, Estimate) and cell.ci_low <= cell.estimate <= cell.ci_high
    assert frame.loc["ROC-AUC", "good"] == cmp.row("roc_auc")["value_a"]
    with pytest.raises(ValueError, match="not in this comparison"):
        cmp.page_frame(["auc"])


# ----------------------------------------------------------- inputs from the wild
def test_series_are_paired_by_index_or_refused():
    y, a, b = problem(n=800, shift_b=1.5)
    ys = pd.Series(y, index=np.arange(800))
    sa = pd.Series(a, index=np.arange(800))
    sb = pd.Series(b, index=np.arange(800))
    shuffled = sb.sample(frac=1.0, random_state=0)  # same examples, other order
    straight = compare(ys, sa, sb, n_boot=200)
    aligned = compare(ys, sa, shuffled, n_boot=200)
    pd.testing.assert_frame_equal(straight.table, aligned.table)
    with pytest.raises(ValueError, match="prob_b and y_true are pandas objects with different indexes"):
        compare(ys, sa, pd.Series(b, index=np.arange(1, 801)), n_boot=200)
    with pytest.raises(ValueError, match="duplicated index"):
        compare(ys, sa, pd.Series(b, index=np.r_[0, np.arange(799)]), n_boot=200)


def test_torch_tensor_that_requires_grad_is_accepted():
    torch = pytest.importorskip("torch")
    y, a, b = problem(n=600, shift_b=1.5)
    logits = torch.tensor(np.log(b / (1 - b)), requires_grad=True)
    from_tensor = compare(torch.tensor(y), torch.tensor(a), torch.sigmoid(logits), n_boot=200)
    from_logits = compare(y, np.log(a / (1 - a)), logits, n_boot=200, from_logits=True)
    plain = compare(y, a, b, n_boot=200)
    pd.testing.assert_frame_equal(from_tensor.table, plain.table, atol=1e-12)
    pd.testing.assert_frame_equal(from_logits.table, plain.table, atol=1e-9)


def test_read_predictions_names_an_empty_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"empty\.csv: the predictions file is empty"):
        read_predictions(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("y_true,prob\n")
    with pytest.raises(ValueError, match=r"header\.csv: the predictions file has a header .* but no rows"):
        read_predictions(header_only)
