"""lossbook.studies.forum: parameter checks, the stand-in problem, training runs, the posted model."""
import numpy as np
import pytest

from lossbook.studies import forum


# ----------------------------------------------------------------- parameters
@pytest.mark.parametrize("kwargs, match", [
    ({"n_sample": 1000}, r"unknown parameter\(s\) \['n_sample'\]"),
    ({"prevalence": 0.5}, r"prevalence must be a number in \[0.0001, 0.2\]"),
    ({"epochs": 0}, r"epochs must be an integer in \[1, 500\]"),
    ({"epochs": 2.5}, "epochs must be an integer"),
    ({"batch_size": True}, "batch_size must be an integer"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"n_boot": 50}, "n_boot must be an integer"),
    ({"validation_fraction": 0.45, "test_fraction": 0.45}, "validation_fraction \\+ test_fraction must be below 0.8"),
    ({"n_samples": 10_000, "prevalence": 0.001}, "at least 100 expected positives"),
])
def test_check_parameters_names_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        forum.check_parameters(**kwargs)


def test_check_parameters_accepts_the_chapter_defaults():
    forum.check_parameters(n_samples=300_000, prevalence=0.003, n_features=8, separation=1.2,
                           validation_fraction=0.2, test_fraction=0.2, epochs=5, batch_size=512,
                           hidden=32, learning_rate=3e-3, n_boot=2000, seed=0)


# ----------------------------------------------------------------- data
def test_problem_has_exact_positives_and_is_seeded():
    one = forum.make_problem(20_000, prevalence=0.01, seed=3)
    two = forum.make_problem(20_000, prevalence=0.01, seed=3)
    other = forum.make_problem(20_000, prevalence=0.01, seed=4)
    assert one.X.shape == (20_000, 8) and one.X.dtype == np.float32
    assert int(one.y.sum()) == 200
    np.testing.assert_array_equal(one.X, two.X)
    assert not np.array_equal(one.X, other.X)
    # The positives really differ from the negatives (else nothing can be learned).
    # Feature 0 is shifted up in one cluster and down in the other, so test 1-5.
    gap = one.X[one.y == 1, 1:6].mean(axis=0) - one.X[one.y == 0, 1:6].mean(axis=0)
    assert np.all(gap > 0.3)


def test_split_is_stratified_and_disjoint():
    problem = forum.make_problem(20_000, prevalence=0.01, seed=0)
    splits = forum.split_problem(problem, validation_fraction=0.2, test_fraction=0.2, seed=0)
    sizes = [len(s.y) for s in (splits.train, splits.validation, splits.test)]
    assert sizes == [12_000, 4_000, 4_000]
    assert [int(s.y.sum()) for s in (splits.train, splits.validation, splits.test)] == [120, 40, 40]
    rows = {tuple(r) for s in (splits.train, splits.validation, splits.test) for r in s.X[:, :3].tolist()}
    assert len(rows) == 20_000  # no row in two splits


# ----------------------------------------------------------------- training
@pytest.fixture(scope="module")
def small():
    problem = forum.make_problem(6_000, prevalence=0.02, seed=1)
    return forum.split_problem(problem, seed=1)


def test_network_init_depends_on_seed_only_and_sets_base_rate():
    import torch

    a = forum.make_network(8, 16, seed=5, prior=0.01)
    b = forum.make_network(8, 16, seed=5, prior=0.01)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert float(a[-1].bias.detach()) == pytest.approx(np.log(0.01 / 0.99), rel=1e-6)
    with pytest.raises(ValueError, match="prior must be strictly between 0 and 1"):
        forum.make_network(8, prior=1.0)


def test_training_is_deterministic_and_the_loss_matters(small):
    kwargs = dict(epochs=2, batch_size=256, hidden=8, learning_rate=3e-3, seed=0, progress=False)
    bce = forum.train_run("BCE", small.train, loss="bce", **kwargs)
    again = forum.train_run("BCE", small.train, loss="bce", **kwargs)
    focal = forum.train_run("focal", small.train, loss="focal", loss_params={"gamma": 5.0, "alpha": None}, **kwargs)
    p1, p2, p3 = (r.predict_proba(small.validation.X) for r in (bce, again, focal))
    np.testing.assert_array_equal(p1, p2)
    assert not np.allclose(p1, p3)
    assert p1.shape == (len(small.validation.y),) and np.all((p1 > 0) & (p1 < 1))
    assert len(bce.train_loss) == 2 and np.all(np.isfinite(bce.train_loss))
    # Focal losses at gamma 5 are smaller than BCE on the same data.
    assert focal.train_loss[-1] < bce.train_loss[-1]


def test_train_run_rejects_bad_loss_and_settings(small):
    with pytest.raises(ValueError, match="gamma"):
        forum.train_run("x", small.train, loss="focal", loss_params={"gamma": -1.0}, epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be an integer"):
        forum.train_run("x", small.train, loss="bce", epochs=0, progress=False)


# ----------------------------------------------------------------- the post
def test_batches_without_positive_and_pooled_region():
    assert forum.batches_without_positive(0.001, 128) == pytest.approx(0.999 ** 128)
    assert forum.pooled_region(31) == 16  # 31 -> 15 -> 7 -> 3 -> 1 covers 16 voxels
    assert forum.pooled_region(32) == 32
    with pytest.raises(ValueError, match="leave nothing"):
        forum.pooled_region(15)


def test_posted_model_sees_one_number_from_a_corner_and_alpha_needs_balancing():
    model = forum.posted_model(seed=0)
    assert forum.feature_width_before_head(model) == 1
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 31, 31, 31, 1)).astype("float32")
    out = model.predict(x, verbose=0)
    far = x.copy()
    far[:, 16:, 16:, 16:, :] += 10.0  # a bright blob outside the 16^3 corner
    np.testing.assert_array_equal(model.predict(far, verbose=0), out)
    near = x.copy()
    near[:, :16, :16, :16, :] += 1.0
    assert np.abs(model.predict(near, verbose=0) - out).max() > 0
    y = np.array([[0.0], [1.0], [0.0], [1.0]], dtype="float32")
    z = np.array([[-2.0], [0.5], [1.0], [-1.0]], dtype="float32")
    off = {a: float(forum.keras_focal(alpha=a, apply_class_balancing=False)(y, z)) for a in (0.1, 0.9)}
    on = {a: float(forum.keras_focal(alpha=a, apply_class_balancing=True)(y, z)) for a in (0.1, 0.9)}
    assert off[0.1] == off[0.9] and on[0.1] != on[0.9]


def test_keras_metrics_read_logits_as_probabilities():
    """The posted metrics on logits differ from the same metrics on sigmoid(logits): AUC collapses to 0.5
    when every logit is negative, whatever the ranking."""
    y = np.array([0, 0, 0, 1, 1, 0, 1, 0])
    logits = np.array([-6.0, -5.0, -4.5, -1.0, -0.5, -3.0, -0.8, -2.0])  # a perfect ranking, all negative
    on_logits = forum.keras_metric_values(y, logits)
    on_probabilities = forum.keras_metric_values(y, 1 / (1 + np.exp(-logits)))
    assert set(on_logits) == set(forum.POSTED_METRICS)
    assert on_logits["AUC"] == pytest.approx(0.5) and on_probabilities["AUC"] > 0.95
    assert on_logits["Recall"] == 0.0
    with pytest.raises(ValueError, match="same length"):
        forum.keras_metric_values(y, logits[:3])


def test_comparison_record_writes_estimates():
    record = forum.comparison_record({"names": ["a", "b"], "n": 100, "metrics": {
        "roc_auc": {"value_a": 0.8, "value_b": 0.82, "diff": 0.02, "ci_low": -0.01, "ci_high": 0.05, "p_value": 0.2}}})
    assert record["names"] == ["a", "b"]
    assert record["metrics"]["roc_auc"]["difference"] == {"estimate": 0.02, "ci_low": -0.01, "ci_high": 0.05,
                                                          "n": 100, "method": "paired_bootstrap"}
    assert record["metrics"]["roc_auc"]["p_value"] == 0.2


# ----------------------------------------------------------------- the chapter's steps
@pytest.fixture(scope="module")
def trained(small):
    runs = forum.train_runs(small.train, epochs=1, batch_size=256, hidden=8, learning_rate=3e-3, seed=0,
                            progress=False)
    prob = {name: run.predict_proba(small.validation.X) for name, run in runs.items()}
    logit = {name: run.predict_logit(small.validation.X) for name, run in runs.items()}
    return runs, prob, logit


def test_split_sizes_and_train_loss_frame(small, trained):
    sizes = forum.split_sizes(small)
    assert list(sizes.index) == ["training", "validation", "test"]
    assert sizes["rows"].sum() == 6_000 and sizes.loc["test", "positives"] == int(small.test.y.sum())
    assert sizes["positive rate"].tolist() == pytest.approx((sizes["positives"] / sizes["rows"]).tolist())
    loss = forum.train_loss_frame(trained[0])
    assert list(loss.columns) == list(forum.RUNS) and list(loss.index) == [1] and loss.index.name == "epoch"


def test_loss_scale_table_scores_every_run_under_every_loss(small, trained):
    from lossbook.core.losses import make

    _, _, logit = trained
    table = forum.loss_scale_table(small.validation.y, logit)
    assert list(table.columns) == list(forum.RUNS)
    assert list(table.index) == [f"predictions of {n}" for n in forum.RUNS]
    bce = make("bce", "numpy", from_logits=True)
    assert table.loc["predictions of BCE", "BCE"] == pytest.approx(float(bce(small.validation.y, logit["BCE"])))
    # focal losses put the same predictions on a much smaller scale
    assert (table["focal γ=5, α=0.25"] < table["BCE"]).all()


def test_comparison_helpers(small, trained):
    from lossbook.core.compare import choose_threshold, compare

    _, prob, _ = trained
    y = small.validation.y
    cmp = compare(y, prob["BCE"], prob["focal γ=5"], names=("BCE", "focal γ=5"), n_boot=100, seed=0)
    row = cmp.row("roc_auc")
    numbers = forum.row_numbers(cmp, "roc_auc")
    assert numbers == {"a": row["value_a"], "b": row["value_b"], "diff": row["diff"], "lo": row["ci_low"],
                       "hi": row["ci_high"]}
    assert list(forum.row_numbers(cmp, "roc_auc", ("a", "hi"))) == ["a", "hi"]
    text = forum.verdict_text(cmp, "roc_auc")
    assert text.endswith("is better") or text.startswith("no detectable difference (minimum detectable effect")
    chosen = {n: choose_threshold(y, prob[n], metric="balanced_accuracy") for n in prob}
    frame = forum.threshold_frame(y, prob, chosen)
    assert list(frame.index) == list(prob) and frame["threshold"]["BCE"] == chosen["BCE"]["threshold"]
    assert (frame["validation balanced accuracy at it"] >= frame["validation balanced accuracy at 0.5"] - 1e-12).all()
    fig = forum.threshold_figure(chosen)
    assert len(fig.get_axes()[0].get_lines()) == 2 * len(chosen) + 1
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_tuned_comparisons_cut_each_run_at_its_own_threshold(small, trained):
    from lossbook.core.metrics import binary_report

    _, prob, _ = trained
    y = small.validation.y
    thresholds = {"BCE": 0.02, "focal γ=5": 0.3}
    tuned = forum.tuned_comparisons(y, prob, thresholds, [("BCE", "focal γ=5")], n_boot=100, seed=0)
    assert list(tuned.columns) == ["A", "B", "threshold A", "threshold B", "balanced accuracy A",
                                   "balanced accuracy B", "diff", "ci_low", "ci_high"]
    r = tuned.iloc[0]
    expected = binary_report(y, (prob["BCE"] >= 0.02).astype(float), 0.5)["balanced_accuracy"]
    assert r["balanced accuracy A"] == pytest.approx(expected)
    assert r["ci_low"] <= r["diff"] <= r["ci_high"]
    record = forum.tuned_record(tuned, len(y))
    assert set(record[0]) == {"A", "B", "threshold A", "threshold B", "balanced accuracy A", "balanced accuracy B",
                              "difference"}
    assert record[0]["difference"]["n"] == len(y) and record[0]["difference"]["method"] == "paired_bootstrap"
    assert len(forum.tuned_page_frame(tuned)) == 1


def test_keras_tables_agree_with_lossbook_and_alpha_needs_balancing(small, trained):
    _, prob, logit = trained
    y = small.validation.y
    alphas = forum.keras_alpha_table(y, logit["BCE"], alphas=(0.1, 0.9))
    assert list(alphas.index) == [0.1, 0.9] and alphas.index.name == "alpha"
    off, on = alphas["apply_class_balancing=False"], alphas["apply_class_balancing=True"]
    assert off[0.1] == off[0.9] and on[0.1] != on[0.9]
    check = forum.keras_agreement(y, logit["BCE"])
    assert list(check.index) == list(forum.KERAS_CHECKS)
    assert (check["relative difference"] < 1e-5).all()
    table = forum.logit_metric_table(y, logit, prob)
    assert list(table.index) == [(n, m) for n in forum.RUNS for m in forum.POSTED_METRICS]
    record = forum.logits_record(table, "BCE")
    assert list(record["by_run"]) == list(forum.RUNS)
    assert record["auc_logits_minus_probabilities"] == pytest.approx(
        table.loc[("BCE", "AUC"), "on logits (as posted)"] - table.loc[("BCE", "AUC"), "on probabilities"])


def test_posted_model_facts():
    model = forum.posted_model(seed=0)
    patches = np.random.default_rng(0).normal(size=(2, 31, 31, 31, 1)).astype("float32")
    facts = forum.posted_model_facts(model, patches)
    assert facts["features_reaching_dense_head"] == 1 and facts["corner_side_reaching_output"] == 16
    assert facts["share_of_voxels_reaching_output"] == pytest.approx(16 ** 3 / 31 ** 3)
    assert facts["max_output_change_outside_corner"] == 0.0 < facts["max_output_change_inside_corner"]
    assert facts["share_of_batches_without_positive"] == pytest.approx(0.999 ** 128)
