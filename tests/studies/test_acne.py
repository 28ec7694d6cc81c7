"""Tests for lossbook.studies.acne: parameters, leak-free splits, the batched head trainer, scoring."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lossbook.core.losses import balanced_class_weights
from lossbook.studies import acne


def synthetic_index(n=600, seed=0):
    """An image index with imbalanced labels, near-duplicate groups of 1-4 rows, and an export split."""
    rng = np.random.default_rng(seed)
    labels, groups = [], []
    g = 0
    while len(labels) < n:
        size = int(rng.integers(1, 5))
        label = int(rng.choice(5, p=[0.3, 0.25, 0.2, 0.17, 0.08]))
        labels += [label] * size
        groups += [g] * size
        g += 1
    labels, groups = np.array(labels[:n]), np.array(groups[:n])
    split = rng.choice(["train", "valid", "test"], size=n, p=[0.6, 0.2, 0.2])
    return pd.DataFrame({"label": labels, "near_dup_group": groups, "roboflow_split": split})


def separable_features(y, *, views=2, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(5, dim))
    return (centres[y][:, None, :] + rng.normal(size=(len(y), views, dim))).astype(np.float32)


# ------------------------------------------------------------------ parameters
def test_check_parameters_fills_defaults():
    p = acne.check_parameters(n_repeats=3, split_kinds=["group"])
    assert p["n_repeats"] == 3 and p["split_kinds"] == ("group",)
    assert p["backbone"] == "efficientnet_lite1_torch" and p["input_size"] == 150


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_repeat": 3}, "unknown parameter"),
        ({"split_kinds": ["random", "leaky"]}, "split_kinds"),
        ({"scenarios": []}, "scenarios"),
        ({"n_repeats": 1}, "n_repeats"),
        ({"dropout": 1.0}, "dropout"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"backbone": "vgg16"}, "backbone"),
        ({"select_epoch": "best"}, "select_epoch"),
        ({"epochs": 2.5}, "epochs"),
        ({"subset_per_class": 5}, "subset_per_class"),
        ({"fine_tune": True, "backbone": "efficientnet_b1_keras"}, "for backbone='efficientnet_lite1_torch' only"),
        ({"backbone_learning_rate": 0}, "backbone_learning_rate"),
    ],
)
def test_check_parameters_rejects_bad_values(params, match):
    with pytest.raises(ValueError, match=match):
        acne.check_parameters(**params)


# ---------------------------------------------------------------------- splits
def test_group_split_keeps_every_group_on_one_side():
    index = synthetic_index()
    for split in acne.make_splits(index, "group", n_repeats=3, seed=4):
        assert len(acne.crossing_groups(split, index["near_dup_group"])) == 0
        assert not acne.test_has_train_twin(split, index["near_dup_group"]).any()
        n = len(index)
        assert abs(len(split.test) / n - 0.1) < 0.03 and abs(len(split.val) / n - 0.2) < 0.04
        assert len(split.train) + len(split.val) + len(split.test) == n


def test_random_split_is_stratified_and_leaks_groups():
    index = synthetic_index()
    y = index["label"].to_numpy()
    splits = acne.make_splits(index, "random", n_repeats=2, seed=0)
    for split in splits:
        assert len(split.test) == round(0.1 * len(y))
        share_all = np.bincount(y, minlength=5) / len(y)
        share_test = np.bincount(y[split.test], minlength=5) / len(split.test)
        assert np.abs(share_all - share_test).max() < 0.02
    # groups of up to 4 near-duplicates: a random split puts some on both sides
    assert len(acne.crossing_groups(splits[0], index["near_dup_group"])) > 0
    assert not np.array_equal(splits[0].test, splits[1].test)
    again = acne.make_splits(index, "random", n_repeats=2, seed=0)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(splits, again))


def test_export_split_follows_the_column():
    index = synthetic_index()
    split = acne.make_splits(index, "export", n_repeats=2)[1]
    assert set(index.loc[split.val, "roboflow_split"]) == {"valid"}
    assert set(index.loc[split.test, "roboflow_split"]) == {"test"}
    bad = index.assign(roboflow_split="holdout")
    with pytest.raises(ValueError, match="train/valid/test"):
        acne.make_splits(bad, "export", n_repeats=2)


def test_split_needs_its_column():
    index = synthetic_index().drop(columns="near_dup_group")
    with pytest.raises(ValueError, match="near_dup_group"):
        acne.make_splits(index, "group", n_repeats=2)


def test_stratified_subset_takes_per_class():
    index = synthetic_index()
    sub = acne.stratified_subset(index, 20, seed=1)
    counts = sub["label"].value_counts()
    assert (counts == 20).all() and len(counts) == 5


# ---------------------------------------------------------------- the trainer
def jobs_for(index, scenarios=("A", "B"), kind="random", n_repeats=2):
    return [
        acne.HeadJob(split, scenario, 100 + split.repeat)
        for split in acne.make_splits(index, kind, n_repeats=n_repeats, seed=0)
        for scenario in scenarios
    ]


def test_heads_learn_separable_classes():
    index = synthetic_index(400)
    y = index["label"].to_numpy()
    jobs = jobs_for(index, ("A", "B", "focal", "sampling"), n_repeats=1)
    res = acne.train_heads(separable_features(y), y, jobs, config=acne.HeadConfig(epochs=5, hidden_units=16, learning_rate=0.01), progress=False)
    scores = acne.score_jobs(res, y)
    assert (scores["accuracy"] > 0.9).all()
    assert set(res.history["epoch"]) == {1, 2, 3, 4, 5}
    assert np.isfinite(res.history[["train_loss", "val_loss"]].to_numpy()).all()


def test_augmented_views_only_for_training_rows():
    index = synthetic_index(300)
    y = index["label"].to_numpy()
    job = jobs_for(index, ("sampling",), n_repeats=1)[0]
    feats = separable_features(y, views=3)
    # Poison the augmented views of every validation and test row: if the trainer ever
    # used one (in training or evaluation), NaN would reach the weights and every output.
    feats[np.setdiff1d(np.arange(len(y)), job.split.train), 1:] = np.nan
    res = acne.train_heads(feats, y, [job], config=acne.HeadConfig(epochs=2, hidden_units=8), progress=False)
    assert np.isfinite(res.test_proba[0]).all()
    assert np.isfinite(res.history[["train_loss", "val_loss"]].to_numpy()).all()


def test_augmented_views_are_used_for_training_rows():
    index = synthetic_index(200)
    y = index["label"].to_numpy()
    job = jobs_for(index, ("A",), n_repeats=1)[0]
    feats = separable_features(y, views=2)
    feats[job.split.train, 1] = np.nan  # poison the training rows' augmented view: must be drawn
    res = acne.train_heads(feats, y, [job], config=acne.HeadConfig(epochs=1, hidden_units=8), progress=False)
    assert not np.isfinite(res.history["train_loss"]).all()
    clean = acne.train_heads(feats, y, [job], config=acne.HeadConfig(epochs=1, hidden_units=8, augment=False), progress=False)
    assert np.isfinite(clean.history["train_loss"]).all()


def test_class_weights_come_from_training_rows_only():
    index = synthetic_index(500)
    y = index["label"].to_numpy()
    jobs = jobs_for(index, ("A", "B"), n_repeats=2)
    res = acne.train_heads(separable_features(y), y, jobs, config=acne.HeadConfig(epochs=1, hidden_units=8), progress=False)
    for job, weights in zip(res.jobs, res.class_weights):
        if job.scenario == "A":
            assert weights is None
        else:
            assert weights == balanced_class_weights(y[job.split.train])
            assert weights != balanced_class_weights(y)


def test_a_job_does_not_depend_on_its_batch_mates():
    index = synthetic_index(300)
    y = index["label"].to_numpy()
    jobs = jobs_for(index, ("A", "B", "sampling"), n_repeats=2)
    config = acne.HeadConfig(epochs=2, hidden_units=8)
    together = acne.train_heads(separable_features(y), y, jobs, config=config, progress=False)
    alone = acne.train_heads(separable_features(y), y, jobs[4:5], config=config, progress=False)
    assert np.allclose(together.test_proba[4], alone.test_proba[0], atol=1e-5)


def test_best_val_loss_selection_runs():
    index = synthetic_index(200)
    y = index["label"].to_numpy()
    res = acne.train_heads(separable_features(y), y, jobs_for(index, ("A",), n_repeats=1),
                           config=acne.HeadConfig(epochs=3, hidden_units=8, select_epoch="best_val_loss"), progress=False)
    assert np.allclose(res.test_proba[0].sum(-1), 1, atol=1e-5)


def test_balanced_sampling_draws_classes_evenly_from_training_rows():
    index = synthetic_index(1000)
    y = index["label"].to_numpy()
    job = jobs_for(index, ("sampling",), n_repeats=1)[0]
    rows = acne.epoch_rows(job, y, 20000, np.random.default_rng(0))
    assert set(rows.tolist()) <= set(job.split.train.tolist())
    assert np.abs(np.bincount(y[rows], minlength=5) / len(rows) - 0.2).max() < 0.02


# -------------------------------------------------------------------- scoring
def test_paired_differences_match_by_repeat_with_the_corrected_interval():
    from scipy import stats

    scores = pd.DataFrame({
        "kind": ["random"] * 6, "repeat": [0, 1, 2] * 2, "scenario": ["A"] * 3 + ["B"] * 3,
        "n_train": [700] * 6, "n_test": [100] * 6,
        "accuracy": [0.5, 0.6, 0.7, 0.55, 0.66, 0.77],
    })
    out = acne.paired_differences(scores, ["accuracy"]).iloc[0]
    diff = np.array([0.05, 0.06, 0.07])
    assert out["mean"] == pytest.approx(diff.mean())
    # Nadeau-Bengio: variance (1/J + n_test/n_train) s^2, with n_test/n_train from the splits
    half = stats.t.ppf(0.975, 2) * diff.std(ddof=1) * np.sqrt(1 / 3 + 100 / 700)
    assert out["ci_high"] - out["mean"] == pytest.approx(half)
    assert half > stats.t.ppf(0.975, 2) * diff.std(ddof=1) / np.sqrt(3)  # wider than the naive interval
    assert out["share_positive"] == 1.0 and (out["n_train"], out["n_test"]) == (700, 100)
    with pytest.raises(ValueError, match="n_train and n_test"):
        acne.paired_differences(scores.drop(columns="n_train"), ["accuracy"])


def test_paired_differences_holm_adjust_the_whole_family():
    from lossbook.core.inference import holm

    rng = np.random.default_rng(0)
    rows = []
    for scenario, shift in (("A", 0.0), ("B", 0.05), ("focal", 0.0)):
        for r in range(5):
            rows.append({"kind": "random", "repeat": r, "scenario": scenario, "n_train": 700, "n_test": 100,
                         "accuracy": 0.7 + shift + rng.normal(0, 0.01), "macro_f1": 0.6 + rng.normal(0, 0.01)})
    out = acne.paired_differences(pd.DataFrame(rows), ["accuracy", "macro_f1"], others=("B", "focal"))
    assert len(out) == 4
    assert out["p_holm"].tolist() == pytest.approx(holm(out["p_value"].tolist()))
    assert (out["p_holm"] >= out["p_value"]).all()


def test_summarize_scores_uses_the_corrected_interval_and_single_run_spread():
    from scipy import stats

    scores = pd.DataFrame({"kind": ["random"] * 4, "scenario": ["B"] * 4, "n_train": [700] * 4,
                           "n_test": [100] * 4, "accuracy": [0.80, 0.82, 0.84, 0.86]})
    row = acne.summarize_scores(scores, ["accuracy"]).iloc[0]
    sd = np.std([0.80, 0.82, 0.84, 0.86], ddof=1)
    assert row["ci_high"] - row["mean"] == pytest.approx(stats.t.ppf(0.975, 3) * sd * np.sqrt(1 / 4 + 1 / 7))
    spread = acne.single_run_spread(scores["accuracy"])
    assert spread["sd"] == pytest.approx(sd)
    assert spread["range_high"] - 0.83 == pytest.approx(stats.t.ppf(0.975, 3) * sd * np.sqrt(1 + 1 / 4))
    assert np.isnan(acne.single_run_spread([0.8])["sd"])


def test_objective_ratio_is_one_without_weights_and_moves_with_them():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(5), size=200)
    y = rng.integers(0, 5, size=200)
    assert acne.objective_ratio(proba, y, [1.0] * 5) == pytest.approx(1.0)
    assert acne.objective_ratio(proba, y, [2.0] * 5) == pytest.approx(2.0)


def test_twin_accuracy_split_in_scores():
    index = synthetic_index(400)
    y = index["label"].to_numpy()
    res = acne.train_heads(separable_features(y), y, jobs_for(index, ("A",), n_repeats=1),
                           config=acne.HeadConfig(epochs=2, hidden_units=8), progress=False)
    s = acne.score_jobs(res, y, groups=index["near_dup_group"].to_numpy()).iloc[0]
    twin = acne.test_has_train_twin(res.jobs[0].split, index["near_dup_group"])
    assert s["twin_share"] == pytest.approx(twin.mean())
    assert 0 <= s["acc_twin"] <= 1 and 0 <= s["acc_clean"] <= 1


# ------------------------------------------------------------ the paper's data
def test_paper_tables_are_self_consistent():
    t1, t2, t3 = (acne.PAPER_TABLES[k] for k in ("table1", "table2", "table3"))
    for name in t3:
        assert t2["per_class"][name]["f1"] - t1["per_class"][name]["f1"] == pytest.approx(t3[name], abs=1e-9)
    for table in (t1, t2):
        macro = np.mean([row["f1"] for row in table["per_class"].values()])
        assert round(macro, 2) == pytest.approx(table["macro_f1"], abs=0.006)


def test_implied_min_support():
    # 40 Papules -> Pustules errors with a printed recall of 0.70: at least 132 Papules test images
    assert acne.implied_min_support(40, 0.70) == 132
    assert acne.implied_min_support(32, 0.80) == 157
    assert acne.implied_min_support(0, 0.5) == 0


# ------------------------------------------------------------ the chapter's steps
def fake_results(index, scenarios=("A", "B"), n_repeats=3, seed=0):
    """HeadResults without training: Dirichlet test probabilities, B's balanced weights from the training rows."""
    from lossbook.core.losses import balanced_class_weights

    rng = np.random.default_rng(seed)
    y = index["label"].to_numpy()
    jobs = jobs_for(index, scenarios, n_repeats=n_repeats)
    proba = [rng.dirichlet(np.ones(5), size=len(job.split.test)) for job in jobs]
    weights = [balanced_class_weights(y[job.split.train]) if job.scenario == "B" else None for job in jobs]
    return acne.HeadResults(jobs, proba, pd.DataFrame(), weights)


def test_implied_support_frame_counts_this_data_beside_the_paper():
    index = synthetic_index(500)
    index["class_name"] = np.array(acne.ACNE_CLASSES)[index["label"]]
    frame = acne.implied_support_frame(index)
    assert len(frame) == sum(len(c) for c in acne.PAPER_FACTS["confusions"].values())
    row = frame[(frame["scenario"] == "A") & (frame["true class"] == "Papules")].iloc[0]
    assert row["implied test images (at least)"] == acne.implied_min_support(40, 0.70) == 132
    n_papules = int((index["class_name"] == "Papules").sum())
    assert row["10 % of the class here"] == round(0.1 * n_papules)
    assert row["export's test split"] == int(((index["class_name"] == "Papules")
                                              & (index["roboflow_split"] == "test")).sum())


def test_split_leakage_table_one_row_per_kind():
    index = synthetic_index(400)
    groups = index["near_dup_group"].to_numpy()
    splits = {kind: acne.make_splits(index, kind, n_repeats=2, seed=0) for kind in ("random", "group")}
    table = acne.split_leakage_table(splits, groups)
    assert list(table.index) == ["random", "group"]
    assert list(table.columns) == ["train", "val", "test", "groups crossing", "test with a train twin",
                                   "test with a validation twin only"]
    assert table.loc["group", "groups crossing"] == 0 and table.loc["group", "test with a train twin"] == 0
    assert table.loc["random", "test with a train twin"] > 0
    assert table.loc["random", ["train", "val", "test"]].sum() == len(index)


def test_head_jobs_pair_scenarios_on_one_seed():
    index = synthetic_index(300)
    splits = {kind: acne.make_splits(index, kind, n_repeats=2, seed=0) for kind in ("random", "export")}
    jobs = acne.head_jobs(splits, ["A", "B"], seed=0)
    assert [j.key for j in jobs][:3] == [("random", 0, "A"), ("random", 0, "B"), ("random", 1, "A")]
    assert len(jobs) == 8 and jobs[0].seed == jobs[1].seed != jobs[2].seed
    assert len({j.seed for j in jobs}) == 4  # one seed per split, shared by its scenarios


def test_features_description():
    assert acne.features_description((10, 2, 1280), 1) == "10 images × 2 views (plain + 1 augmented) × 1280 features"


def test_difference_figure_has_one_panel_per_kind():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [{"kind": kind, "repeat": r, "scenario": s, "n_train": 700, "n_test": 100,
             "accuracy": 0.7 + 0.01 * r + (0.02 if s == "B" else 0), "f1:Papules": 0.6 + 0.02 * r}
            for kind in ("random", "group") for r in range(3) for s in ("A", "B")]
    diffs = acne.paired_differences(pd.DataFrame(rows), ["accuracy", "f1:Papules"])
    fig = acne.difference_figure(diffs, ["random", "group"], ["accuracy", "f1:Papules"])
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["random split", "group split"]
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["accuracy", "Papules"]
    assert axes[0].get_ylabel() == "B minus A"
    plt.close(fig)


def test_class_weights_frame_and_reading():
    index = synthetic_index(400)
    res = fake_results(index)
    rows = acne.class_weight_rows(res, "B", "random")
    assert len(rows) == 3 and all(len(w) == 5 for w in rows)
    assert acne.class_weight_rows(res, "A", "random") == []
    diffs = pd.DataFrame([{"kind": "random", "scenario": "B", "metric": f"f1:{c}", "mean": 0.01 * i}
                          for i, c in enumerate(acne.ACNE_CLASSES)])
    frame = acne.weights_frame(rows, diffs, "random")
    assert list(frame.index) == list(acne.ACNE_CLASSES)
    assert frame["balanced weight (B)"].tolist() == pytest.approx(np.mean(rows, axis=0))
    assert frame.loc["Papules", "paper's F1 gain"] == acne.PAPER_TABLES["table3"]["Papules"]
    assert frame["our F1 gain (B − A)"].tolist() == pytest.approx([0.0, 0.01, 0.02, 0.03, 0.04])
    means = acne.mean_class_weights(rows)
    assert list(means) == list(acne.ACNE_CLASSES) and acne.mean_class_weights([]) is None
    # the paper's largest gain is Papules; make Papules the third largest weight, then the largest
    frame["balanced weight (B)"] = [1.0, 2.0, 1.5, 0.5, 3.0]
    assert "third largest of the five weights (1.50, against 3.00 for Whiteheads): if" in acne.weight_reading(frame)
    frame["balanced weight (B)"] = [1.0, 2.0, 4.0, 0.5, 3.0]
    reading = acne.weight_reading(frame)
    assert "the largest of the five weights" in reading and "hardly explain" not in reading


def test_objective_scale_over_scenario_a_heads():
    index = synthetic_index(400)
    y = index["label"].to_numpy()
    res = fake_results(index)
    scale = acne.objective_scale(res, y, "random")
    assert scale.n == 3 and scale.has_interval and scale.method == "t"
    from lossbook.core.estimate import Estimate
    from lossbook.core.losses import balanced_class_weights

    ratios = [acne.objective_ratio(p, y[j.split.test], balanced_class_weights(y[j.split.train]))
              for j, p in zip(res.jobs, res.test_proba) if j.scenario == "A"]
    assert scale.estimate == pytest.approx(np.mean(ratios))
    single = acne.objective_scale(fake_results(index, n_repeats=1), y, "random")
    assert single.n == 1 and not single.has_interval
    assert acne.objective_reading(Estimate(1.5, 1.4, 1.6, n=3, method="t")).startswith("the same predictions")
    assert acne.objective_reading(Estimate(1.0, 0.9, 1.1, n=3, method="t")).startswith("on this export")


def test_records_for_the_results_file(tmp_path):
    import hashlib

    implied = pd.DataFrame([{"scenario": "A", "errors": 40}])
    record = acne.paper_record(implied)
    assert record["confusions"]["A"]["Papules->Pustules"] == 40 and "confusions" not in record["facts"]
    assert record["implied_min_test_support"] == [{"scenario": "A", "errors": 40}]
    leak = pd.DataFrame([{"scenario": "A", "metric": "accuracy", "random minus group": 0.05,
                          "ci_low": 0.01, "ci_high": 0.09}])
    out = acne.random_minus_group_record(leak, 10)
    assert out["A_accuracy"]["estimate"] == 0.05 and out["A_accuracy"]["n"] == 10
    (tmp_path / "acne").mkdir()
    (tmp_path / "acne" / "splits.csv").write_text("class_name\n")
    sums = acne.data_checksums(str(tmp_path), ["b", "a"])
    assert sums["images (sha256 of the sorted per-image sha256 list)"] == hashlib.sha256(b"ab").hexdigest()
    assert sums["splits.csv"] == hashlib.sha256(b"class_name\n").hexdigest()
