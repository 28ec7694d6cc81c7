"""Tests for lossbook.studies.synthetic: data and label-noise tracing, the batched trainer, scores, protocol."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import metrics as skm
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from lossbook.core.estimate import Estimate
from lossbook.studies import synthetic as syn


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """The chapter trains with one thread (tiny networks); so do the tests, then restore."""
    before = torch.get_num_threads()
    syn.set_torch_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data():
    return syn.make_dataset(42)


# ---------------------------------------------------------------- data
def test_dataset_is_the_tutorials(data):
    X, y = make_classification(n_samples=6000, n_features=2, n_redundant=0, n_clusters_per_class=1,
                               weights=[0.99, 0.01], class_sep=1.5, random_state=42)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=42)
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.X_train, X_tr)
    np.testing.assert_array_equal(data.y_test, y_te)
    # The tutorial's confusion matrices hold 28 test minority examples (1 + 27, 14 + 14).
    assert data.noise_counts()["n_positive_test"] == 28


def test_label_noise_trace_is_consistent(data):
    c = data.noise_counts()
    # Minority examples = the minority cluster (60 = 1% of 6000) + noise 0->1 - noise 1->0.
    assert c["n_positive"] == 60 + c["n_flipped_positive"] - c["n_flipped_negative"]
    assert np.all(data.flip_assigned[data.label_changed])  # a changed label was assigned by the flip step
    assert 0 < c["n_flipped_positive"] < c["n_flip_assigned"]
    # Among flip-assigned majority-cluster points, about half get label 1 (a fair coin).
    assert abs(c["n_flipped_positive"] / c["n_flip_assigned"] - 0.5) < 0.2
    clean = syn.make_dataset(42, flip_y=0.0)
    assert clean.noise_counts()["n_flip_assigned"] == 0 and clean.y.sum() == 60


def test_label_noise_matches_a_direct_count_on_another_draw():
    # Independent check: with flip_y=1 every label is random, so about half change.
    X, y, assigned, changed = syn.trace_label_noise(7, flip_y=1.0)
    assert assigned.all()
    assert 0.4 < changed.mean() < 0.6


def test_carve_validation_is_stratified_and_disjoint(data):
    fit, val = syn.carve_validation(data.y_train, fraction=0.25, random_state=3)
    assert len(np.intersect1d(fit, val)) == 0 and len(fit) + len(val) == len(data.y_train)
    assert abs(data.y_train[val].sum() - 0.25 * data.y_train.sum()) <= 1
    with pytest.raises(ValueError, match="val_fraction"):
        syn.carve_validation(data.y_train, fraction=1.5)


# ---------------------------------------------------------------- networks
def test_initial_weights_equal_nn_linear_init():
    torch.manual_seed(11)
    net = syn.tutorial_network()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    state = torch.random.get_rng_state()
    weights = syn.initial_weights(11)
    assert torch.equal(state, torch.random.get_rng_state())  # global RNG untouched
    for lin, (W, b) in zip(linears, weights):
        assert torch.equal(lin.weight.T, W) and torch.equal(lin.bias, b)


def _train_plain(seed, spec, X, y, epochs=30):
    torch.manual_seed(seed)
    net = syn.tutorial_network()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    fn = spec.build()
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    for _ in range(epochs):
        loss = fn(y[None], net(X).squeeze(-1)[None]).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


def test_batched_member_equals_plain_network(data):
    specs = [syn.LossSpec("bce", "bce"), syn.tutorial_focal_spec()]
    seeds = [0, 5]
    batched = syn.train_members(data.X_train, data.y_train, specs, seeds)
    p_batched = syn.predict(batched, data.X_test)
    for k, spec in enumerate(specs):
        for j, seed in enumerate(seeds):
            plain = _train_plain(seed, spec, data.X_train, data.y_train)
            member = batched.member(k * len(seeds) + j)
            for a, b in zip(plain.parameters(), member.parameters()):
                np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=2e-5, rtol=0)
            with torch.no_grad():
                p_plain = plain(torch.tensor(data.X_test, dtype=torch.float32)).squeeze(-1).numpy()
            np.testing.assert_allclose(p_batched[k * len(seeds) + j], p_plain, atol=1e-5, rtol=0)


def test_member_result_does_not_depend_on_batch_mates(data):
    spec = syn.LossSpec("bce", "bce")
    alone = syn.predict(syn.train_members(data.X_train, data.y_train, [spec], [3], epochs=10), data.X_test)
    crowd = syn.train_batch(data.X_train, data.y_train, [spec, syn.tutorial_focal_spec(), spec], [1, 3, 3],
                            epochs=10)
    np.testing.assert_allclose(syn.predict(crowd, data.X_test)[2], alone[0], atol=1e-6, rtol=0)


def test_train_batch_accepts_per_member_data(data):
    spec = syn.LossSpec("bce", "bce")
    shared = syn.train_members(data.X_train, data.y_train, [spec], [0, 1], epochs=5)
    X = np.stack([data.X_train] * 2)
    y = np.stack([data.y_train] * 2)
    stacked = syn.train_batch(X, y, [spec, spec], [0, 1], epochs=5)
    np.testing.assert_allclose(syn.predict(shared, data.X_test), syn.predict(stacked, data.X_test), atol=1e-6)
    with pytest.raises(ValueError, match="member_specs"):
        syn.train_batch(data.X_train, data.y_train, [spec], [0, 1])


# ---------------------------------------------------------------- scores
def test_score_members_matches_sklearn():
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.1).astype(int)
    probs = np.round(rng.random((5, 400)) * 0.5 + 0.4 * y, 2)  # rounded: many ties
    probs[4] = 0.0  # a network that scores everything alike
    thresholds = np.array([0.5, 0.3, 0.45, 0.6, 0.5])
    got = syn.score_members(y, probs, thresholds)
    for i in range(5):
        pred = probs[i] > thresholds[i]
        tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
        assert (got.loc[i, "minority_found"], got.loc[i, "minority_missed"], got.loc[i, "false_positives"]) == (tp, fn, fp)
        assert got.loc[i, "roc_auc"] == pytest.approx(skm.roc_auc_score(y, probs[i]), abs=1e-12)
        assert got.loc[i, "pr_auc"] == pytest.approx(skm.average_precision_score(y, probs[i]), abs=1e-12)
        assert got.loc[i, "balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=1e-12)
        assert got.loc[i, "accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    with pytest.raises(ValueError, match="probs must have shape"):
        syn.score_members(y, probs[:, :10])


def test_f1_thresholds_pick_the_best_cut():
    rng = np.random.default_rng(1)
    y = (rng.random(300) < 0.08).astype(int)
    probs = np.round(rng.random((4, 300)) * 0.6 + 0.3 * y, 2)
    thresholds = syn.f1_thresholds(y, probs)
    for i in range(4):
        cuts = np.unique(probs[i])
        best = max(skm.f1_score(y, probs[i] >= c, zero_division=0) for c in cuts)
        assert skm.f1_score(y, probs[i] > thresholds[i]) == pytest.approx(best, abs=1e-12)
    with pytest.raises(ValueError, match="no minority"):
        syn.f1_thresholds(np.zeros(10), np.random.default_rng(0).random((2, 10)))


# ---------------------------------------------------------------- summaries
def _fake_frame(diff):
    rows = []
    for draw in (1, 2, 3):
        for seed in range(4):
            base = 0.1 * draw + 0.01 * seed
            rows.append({"draw": draw, "flip_y": 0.01, "seed": seed, "arm": "b", "roc_auc": base, "minority_found": 0})
            rows.append({"draw": draw, "flip_y": 0.01, "seed": seed, "arm": "a", "roc_auc": base + diff,
                         "minority_found": 2})
    return pd.DataFrame(rows)


def test_paired_differences():
    out = syn.paired_differences(_fake_frame(0.05), "a", "b", metrics=["roc_auc", "minority_found"], n_boot=200)
    assert out.loc["roc_auc", "mean"] == pytest.approx(0.05)
    assert out.loc["roc_auc", "ci_low"] == pytest.approx(0.05) and out.loc["roc_auc", "ci_high"] == pytest.approx(0.05)
    assert out.loc["minority_found", "share_a_better"] == 1.0 and out.loc["roc_auc", "n_pairs"] == 12
    with pytest.raises(ValueError, match="no \\(draw, seed\\) pairs"):
        syn.paired_differences(_fake_frame(0.0), "a", "missing")


def test_paired_differences_p_values_and_estimate_records():
    shifted = syn.paired_differences(_fake_frame(0.05), "a", "b", metrics=["roc_auc"], n_boot=200)
    assert shifted.loc["roc_auc", "p_value"] == pytest.approx(1 / 200)  # every resample above zero
    frame = _fake_frame(0.0)
    frame.loc[frame["arm"] == "a", "roc_auc"] += np.random.default_rng(0).normal(0, 0.01, 12)
    noisy = syn.paired_differences(frame, "a", "b", metrics=["roc_auc"], n_boot=500)
    assert 0.05 < noisy.loc["roc_auc", "p_value"] <= 1
    record = syn.difference_records(shifted, {"roc_auc": 0.02})["roc_auc"]
    assert record["difference"] == Estimate(shifted.loc["roc_auc", "mean"], shifted.loc["roc_auc", "ci_low"],
                                            shifted.loc["roc_auc", "ci_high"], n=12, method="bootstrap").to_dict()
    assert record["p_holm"] == 0.02 and "p_holm" not in syn.difference_records(shifted)["roc_auc"]


def test_arm_summary_counts_zero_found():
    s = syn.arm_summary(_fake_frame(0.0), "b", metrics=["roc_auc"])
    assert s["zero_found_fraction"] == 1.0 and s["runs"] == 12


# ---------------------------------------------------------------- parameters and protocol
@pytest.mark.parametrize("bad, name", [
    ({"n_seed": 3}, "unknown parameter"), ({"n_seeds": 0}, "n_seeds"), ({"control_seeds": 99}, "control_seeds"),
    ({"gammas": [0.0]}, "gammas"), ({"val_fraction": 0.9}, "val_fraction"), ({"showcase_seed": 50}, "showcase_seed"),
    ({"noise_free": "yes"}, "noise_free"), ({"n_boot": 5}, "n_boot"), ({"n_draws": 2.5}, "n_draws"),
])
def test_check_parameters_rejects(bad, name):
    with pytest.raises(ValueError, match=name):
        syn.check_parameters(**bad)


def test_check_parameters_defaults():
    cfg = syn.check_parameters()
    assert len(cfg.seeds) >= 50 and len(cfg.dataset_states) >= 10 and cfg.dataset_states[0] == 42


def test_run_stress_small_is_deterministic_and_complete():
    cfg = syn.StressConfig(seeds=(0, 1), dataset_states=(42, 43), control_seeds=1, gammas=(1.0,), epochs=3)
    first = syn.run_stress(cfg, max_members=7, progress=False)
    second = syn.run_stress(cfg, max_members=50, progress=False)
    pd.testing.assert_frame_equal(first, second, atol=1e-6)
    arms = set(first.loc[first["flip_y"] == 0.01, "arm"])
    assert arms == {"bce", "focal", "bce_weighted", "bce_val_threshold", "focal_val_threshold", "focal_a0.25",
                    "focal_a0.75", "focal_g1", "focal_g2"}
    assert set(first.loc[first["flip_y"] == 0.0, "arm"]) == {"bce", "focal"}
    # main arms: 2 seeds x 2 draws each; controls: 1 seed x 2 draws each
    counts = first[first["flip_y"] == 0.01].groupby("arm").size()
    assert counts["bce"] == 4 and counts["focal_a0.75"] == 2
    for arm in ("bce_val_threshold", "focal_val_threshold"):  # a tuned threshold for every loss alike
        tuned = first[first["arm"] == arm]["threshold"]
        assert len(tuned) == 2 and ((tuned > 0) & (tuned < 1)).all()
    assert first["brier"].between(0, 1).all()


def test_tutorial_reported_is_the_papers():
    assert syn.TUTORIAL_REPORTED["bce"]["minority_found"] + syn.TUTORIAL_REPORTED["bce"]["minority_missed"] == 28
    assert syn.TUTORIAL_REPORTED["focal"] == {"minority_found": 14, "minority_missed": 14, "accuracy": 0.99}


# ---------------------------------------------------------------- the chapter's tables
def _shown():
    return pd.DataFrame({"minority_found": [1, 14], "minority_missed": [27, 14], "false_positives": [2, 9],
                         "accuracy": [0.98, 0.99]}, index=["bce", "focal"])


def test_noise_table_has_no_noise_without_the_flip():
    counts = {"n_positive": 80, "n_positive_test": 28, "n_flipped_positive": 30, "n_flipped_positive_test": 9}
    clean = {"n_positive": 60, "n_positive_test": 20, "n_flipped_positive": 0, "n_flipped_positive_test": 0}
    table = syn.noise_table(counts, clean)
    assert table["flip_y=0.01 (tutorial)"].tolist() == [80, 28, 30, 9]
    assert table["flip_y=0"].tolist() == [60, 20, 0, 0] and table.index[2] == "noisy minority labels"


def test_reproduction_table_puts_the_tutorial_beside_ours():
    table = syn.reproduction_table(_shown())
    assert list(table.columns) == ["tutorial: found", "ours: found", "tutorial: missed", "ours: missed",
                                   "tutorial: accuracy", "ours: accuracy"]
    assert table.loc["focal", "tutorial: found"] == syn.TUTORIAL_REPORTED["focal"]["minority_found"]
    assert table.loc["bce", "ours: missed"] == 27


def test_confusion_matrices_rows_are_true_classes():
    bce, focal = syn.confusion_matrices(_shown(), n_negative=1772)
    assert bce.tolist() == [[1770, 2], [27, 1]] and focal.sum() == 1772 + 28


def test_seed_rank_tutorial_like_and_spread():
    found = pd.DataFrame({"bce": [0, 1, 3, 5], "focal": [14, 10, 15, 2]}, index=[0, 1, 2, 3])
    assert syn.showcase_rank(found, 2) == {"bce": 0.5, "focal": 0.75}
    assert syn.count_tutorial_like(found) == 1  # seed 0 only: BCE at most 1 and focal at least 14
    spread = syn.seed_spread(found)
    assert list(spread.index) == ["bce", "focal"] and spread.loc["bce", "max"] == 5
    assert list(spread.columns) == ["mean", "std", "min", "25%", "50%", "75%", "max"]


def test_control_arms_summaries_and_versus_reference():
    frame = _fake_frame(0.05)
    frame["arm"] = frame["arm"].map({"a": "focal_g2", "b": "bce"})
    frame = pd.concat([frame, frame[frame["arm"] == "focal_g2"].assign(arm="focal_g0.5")])
    assert syn.control_arms(frame) == [*syn.CONTROL_ARMS, "focal_g0.5", "focal_g2"]
    versus = syn.versus_reference(frame, ["bce", "focal_g0.5", "focal_g2"], ["roc_auc"], n_boot=200)
    assert list(versus) == ["focal_g0.5", "focal_g2"]
    p = [versus[a].loc["roc_auc", "p_value"] for a in versus]
    assert [versus[a].loc["roc_auc", "p_holm"] for a in versus] == pytest.approx([min(1, 2 * v) for v in p])
    metrics = ["roc_auc", "pr_auc", "balanced_accuracy", "recall", "minority_found", "accuracy"]
    frame = frame.assign(**{m: frame["roc_auc"] for m in metrics if m not in frame})
    controls = {arm: syn.arm_summary(frame, arm, metrics=metrics) for arm in ("bce", "focal_g2")}
    table = syn.control_table(controls)
    assert list(table.index) == [syn.arm_label("bce"), syn.arm_label("focal_g2")]
    assert table.loc["BCE", "share finding none"] == 1.0
    curve = syn.gamma_curve(controls, ["bce", "focal_g2"])
    assert list(curve.index) == [0.0, 2.0] and list(curve.columns) == ["recall", "balanced accuracy", "PR-AUC",
                                                                        "ROC-AUC"]
    assert curve.loc[2.0, "ROC-AUC"] == pytest.approx(controls["focal_g2"]["roc_auc"]["mean"])


def test_main_and_noise_comparison_tables():
    summary = {arm: {m: {"mean": i + 0.5, "std": 0.1} for m in syn.HEADLINE_METRICS} | {"zero_found_fraction": 0.2}
               for i, arm in enumerate(("bce", "focal"))}
    main = syn.main_table(summary)
    assert list(main.columns) == ["bce", "focal"] and main.loc["ROC-AUC, mean", "focal"] == 1.5
    assert main.index[-1] == "share finding none" and "ROC-AUC, standard deviation" in main.index
    both = syn.noise_comparison_table(summary, summary)
    assert list(both.index) == ["BCE, flip_y=0.01", f"{syn.arm_label('focal')}, flip_y=0.01", "BCE, flip_y=0",
                                f"{syn.arm_label('focal')}, flip_y=0"]
    assert list(both.columns) == [*syn.HEADLINE_METRICS.values(), "share finding none"]
