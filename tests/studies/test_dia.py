"""Guards for the DIA protocols: no leakage, external set used once, cache keys, resume."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.base import BaseEstimator, TransformerMixin

from lossbook.core.cache import DiskCache, cache_key
from lossbook.nets import keras_stack as training
from lossbook.studies import dia


def _toy(n=60, f=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f))
    X[:, 0] = np.arange(n)  # column 0 identifies the row
    y = (rng.random(n) < 0.3).astype(int)
    y[:6] = 1
    return X, y


class Spy(BaseEstimator, TransformerMixin):
    """Records the row ids (column 0) it is fitted on and passes data through unchanged."""

    fitted: list = []

    def fit(self, X, y=None):
        Spy.fitted.append(set(np.asarray(X)[:, 0].astype(int)))
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float)


def _spy_preprocessor(seed, smote=True):
    return Pipeline([("filter", Spy()), ("scale", Spy())])


def _fake_train(calls):
    def fake(config, folds, **kwargs):
        calls.append(folds)
        return [training.FoldResult(0, 1, 0.5, {"loss": np.zeros(1), "val_loss": np.zeros(1), "val_auc": np.zeros(1)},
                                    {k: np.full(len(v), 0.5) for k, v in f.evaluate.items()}) for f in folds]
    return fake


def test_check_parameters_names_the_problem():
    assert dia.check_parameters()["n_repeats"] == 5
    with pytest.raises(ValueError, match="unknown parameter"):
        dia.check_parameters(n_repeat=3)
    with pytest.raises(ValueError, match="n_splits"):
        dia.check_parameters(n_splits=1)
    with pytest.raises(ValueError, match="learning_rate"):
        dia.check_parameters(learning_rate=0)
    with pytest.raises(ValueError, match="models"):
        dia.check_parameters(models=["mlp", "transformer"])
    with pytest.raises(ValueError, match="label_smoothing"):
        dia.check_parameters(label_smoothing=1.5)
    with pytest.raises(ValueError, match="variant_models .* shares no network"):
        dia.check_parameters(models=["cnn"], variant_models=["mlp"])
    assert dia.check_parameters(models=["mlp"])["variant_models"] == ["mlp", "simplenn"]  # a partial overlap is fine


def test_column_filter_drops_constant_and_duplicate_columns_seen_in_training_rows():
    X = np.array([[1, 2, 2, 5, 0], [1, 3, 3, 6, 0], [1, 4, 4, 7, 1]], dtype=float)
    f = dia.ColumnFilter().fit(X[:2])  # column 4 is constant in these rows
    assert f.keep_.tolist() == [False, True, False, True, False]
    assert f.transform(X).shape == (3, 2)


def test_preprocessing_is_fitted_on_training_rows_only(monkeypatch):
    X, y = _toy()
    monkeypatch.setattr(dia, "preprocessor", _spy_preprocessor)
    spec = dia.cv_splits(y, 3, 1, 0)[0]
    for es in ("inner", "outer"):
        Spy.fitted = []
        data, y_test, rows = dia.make_fold_data("leak_free", X, y, spec, seed=0, val_fraction=0.25, early_stopping=es)
        assert Spy.fitted and all(s == set(rows["fit"]) for s in Spy.fitted)
        assert not set(rows["fit"]) & set(spec.test)
        assert set(data.X_train[:, 0].astype(int)) == set(rows["fit"])
        assert set(data.evaluate["test"][:, 0].astype(int)) == set(spec.test)
    # leak-free default: early stopping watches an inner split of the training fold, never the test fold
    data, _, rows = dia.make_fold_data("leak_free", X, y, spec, seed=0, val_fraction=0.25)
    assert set(rows["val"]) <= set(spec.train) and not set(rows["val"]) & set(spec.test)
    assert not set(rows["val"]) & set(rows["fit"])


def test_real_pipeline_never_sees_test_rows_through_smote():
    X, y = _toy()
    spec = dia.cv_splits(y, 3, 1, 0)[0]
    data, _, rows = dia.make_fold_data("leak_free", X, y, spec, seed=0, val_fraction=0.25)
    # SMOTE balances the inner-training rows only
    n_neg = int((y[rows["fit"]] == 0).sum())
    assert len(data.y_train) == 2 * n_neg and data.y_train.mean() == 0.5
    assert abs(np.mean(y[spec.test]) - np.mean(y)) < 0.1  # the test fold keeps the real ratio


def test_grid_trains_without_test_rows_and_scores_test_once(monkeypatch, tmp_path):
    X, y = _toy()
    calls = []
    monkeypatch.setattr(dia, "preprocessor", _spy_preprocessor)
    monkeypatch.setattr(dia, "train_folds", _fake_train(calls))
    p = dia.check_parameters(n_splits=3, n_repeats=1, models=["mlp"], losses=["bce"])
    frame = dia.run_grid(X, y, p, protocol="leak_free", data_sha256="x", cache=DiskCache("t", tmp_path))
    specs = dia.cv_splits(y, 3, 1, 0)
    assert len(calls) == 1 and len(calls[0]) == 3
    for fold, spec in zip(calls[0], specs):
        test_ids = set(spec.test)
        assert not set(fold.X_train[:, 0].astype(int)) & test_ids
        assert not set(fold.X_val[:, 0].astype(int)) & test_ids
        assert set(fold.evaluate) == {"test"}
    assert len(frame) == 3


def test_external_set_is_only_scored_never_fitted(monkeypatch, tmp_path):
    X, y = _toy()
    X_ext, _ = _toy(20, seed=5)
    X_ext[:, 0] = 1000 + np.arange(20)
    calls = []
    monkeypatch.setattr(dia, "preprocessor", _spy_preprocessor)
    monkeypatch.setattr(dia, "train_folds", _fake_train(calls))
    p = dia.check_parameters(n_splits=3, n_repeats=1)
    Spy.fitted = []
    out = dia.external_test(X, y, X_ext, p, [("mlp", "focal")], data_sha256="x", n_refits=2,
                            cache=DiskCache("t", tmp_path))
    assert all(max(s) < 1000 for s in Spy.fitted)  # preprocessing never fitted on external drugs
    inner, refits = calls  # epochs chosen on an inner split, then a refit on all training drugs
    for fold in inner + refits:
        assert set(fold.evaluate) == {"external"}
        assert fold.X_train[:, 0].max() < 1000 and (len(fold.X_val) == 0 or fold.X_val[:, 0].max() < 1000)
    for fold in inner:
        assert len(fold.X_train) < len(y) and fold.epochs is None
    for fold in refits:  # the refit fits every training drug, for the inner run's epoch count
        assert sorted(fold.X_train[:, 0].astype(int)) == list(range(len(y)))
        assert fold.epochs == 1 and len(fold.X_val) == 0
    assert out[("mlp", "focal")].shape == (20,)


def test_cache_key_changes_with_every_parameter():
    y = np.array([0, 1] * 10)
    spec = dia.cv_splits(y, 2, 1, 0)[0]
    p = dia.check_parameters()
    base = cache_key(dia.fold_key("leak_free", "inner", dia._config("mlp", "bce", p), p, spec, "sha"))
    variants = [
        dia.fold_key("leaky", "inner", dia._config("mlp", "bce", p), p, spec, "sha"),
        dia.fold_key("leak_free", "outer", dia._config("mlp", "bce", p), p, spec, "sha"),
        dia.fold_key("leak_free", "inner", dia._config("cnn", "bce", p), p, spec, "sha"),
        dia.fold_key("leak_free", "inner", dia._config("mlp", "bce", p), p, spec, "other"),
        dia.fold_key("leak_free", "inner", dia._config("mlp", "bce", p), p, dia.cv_splits(y, 2, 1, 0)[1], "sha"),
    ]
    for change in ({"learning_rate": 0.01}, {"patience": 5}, {"label_smoothing": 0.1}, {"pos_class_weight": 2.0},
                   {"max_epochs": 50}, {"batch_size": 16}, {"seed": 1}, {"val_fraction": 0.3},
                   {"loss_params": {"bce": {"from_logits": False}}}, {"network_options": {"mlp": {"x": 1}}},
                   {"init_replicate": 1}, {"init_replicate": 2}, {"smote": False}):
        q = {**p, **change}
        variants.append(dia.fold_key("leak_free", "inner", dia._config("mlp", "bce", q), q, spec, "sha"))
    keys = {cache_key(v) for v in variants}
    assert base not in keys and len(keys) == len(variants)


def test_variant_keys_change_only_what_they_name():
    p = dia.check_parameters()
    book = dia._config("cnn", "focal", p)
    assert book.loss_params == (("alpha", 0.25), ("gamma", 2.0)) and book.network_options == ()
    assert "network_options" not in book.as_dict()  # the book's networks keep their keys and initial weights
    q = {**p, "loss_params": {"focal": {"alpha": None}, "dice": {"eps": 1e-6}}, "network_options": {"cnn": {"pool_size": 4}}}
    varied = dia._config("cnn", "focal", q)
    assert varied.loss_params == (("alpha", None), ("gamma", 2.0)) and varied.network_options == (("pool_size", 4),)
    assert dia._config("mlp", "bce", q) == dia._config("mlp", "bce", p)  # options of other losses and networks
    spec = dia.cv_splits(np.array([0, 1] * 10), 2, 1, 0)[0]
    assert "init_replicate" not in dia.fold_key("leak_free", "inner", book, {**p, "init_replicate": 0}, spec, "sha")


def test_without_smote_the_fold_trains_at_its_own_prior():
    X, y = _toy(60, 8)
    y = (np.arange(60) % 4 == 0).astype(int)  # a quarter positive
    spec = dia.cv_splits(y, 3, 1, 0)[0]
    kw = {"seed": 0, "val_fraction": 0.2, "refit_epochs": 3}
    balanced, _, _ = dia.make_fold_data("leak_free", X, y, spec, **kw)
    plain, _, rows = dia.make_fold_data("leak_free", X, y, spec, smote=False, **kw)
    assert balanced.y_train.mean() == 0.5
    assert np.array_equal(plain.y_train, y[rows["fit"]]) and plain.X_train.shape[0] == len(spec.train)
    p = dia.check_parameters()
    assert dia.fold_key("leak_free", "inner", dia._config("mlp", "bce", p), {**p, "smote": True}, spec, "s") == \
        dia.fold_key("leak_free", "inner", dia._config("mlp", "bce", p), p, spec, "s")  # the book's keys unchanged
    with pytest.raises(ValueError, match="leak-free arms only"):
        dia.run_arms(X, y, {**p, "smote": False, "n_splits": 3}, ["leaky"], data_sha256="x")
    with pytest.raises(ValueError, match="smote must be True or False"):
        dia.run_arms(X, y, {**p, "smote": "no", "n_splits": 3}, ["leak_free"], data_sha256="x")


def test_resume_after_partial_cache_gives_identical_results(monkeypatch, tmp_path):
    X, y = _toy(48, 8)
    p = dia.check_parameters(n_splits=3, n_repeats=1, max_epochs=3, patience=2, models=["simplenn"], losses=["bce"])
    cache = DiskCache("t", tmp_path)
    first = dia.run_grid(X, y, p, protocol="leak_free", data_sha256="x", cache=cache)
    files = sorted(tmp_path.glob("*.pkl"))
    assert len(files) == 3
    files[1].unlink()  # an interrupted run: one fold missing
    kept = {f: f.stat().st_mtime_ns for f in (files[0], files[2])}
    trained = []
    real = dia.train_folds
    monkeypatch.setattr(dia, "train_folds", lambda config, folds, **kw: trained.append(len(folds)) or real(config, folds, **kw))
    second = dia.run_grid(X, y, p, protocol="leak_free", data_sha256="x", cache=cache)
    assert trained == [3]  # the batch retrains whole ...
    assert {f: f.stat().st_mtime_ns for f in kept} == kept  # ... and the entries it found are kept
    for a, b in zip(first["y_prob"], second["y_prob"]):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(first.drop(columns=["y_true", "y_prob", "history"]),
                                  second.drop(columns=["y_true", "y_prob", "history"]))


def _batches(calls) -> list[tuple[int, ...]]:
    """Each batched training call as the seeds of its fold models, in order."""
    return [tuple(int(fold.seed) for fold in call) for call in calls]


@pytest.mark.parametrize("drop", [0, 1, 5, 13])
def test_a_resumed_run_trains_the_batches_of_an_uninterrupted_one(drop, monkeypatch, tmp_path):
    # a fold model's float rounding depends on its batch: every batch a resumed run trains must be
    # one an uninterrupted run trains (CI once saw Brier scores differ in the 10th digit after a kill)
    X, y = _toy(90, 8)
    X_ext, _ = _toy(20, seed=5)
    arms = ["leak_free_no_refit", "leak_free", "leaky", "paper"]
    calls = []
    monkeypatch.setattr(dia, "train_folds", _fake_train(calls))
    p = dia.check_parameters(n_splits=3, n_repeats=2, models=["mlp"], losses=["bce", "focal"])
    cache = DiskCache("t", tmp_path)

    def run():
        calls.clear()
        dia.run_arms(X, y, p, arms, data_sha256="x", cache=cache)
        dia.external_test(X, y, X_ext, p, [("mlp", "focal")], data_sha256="x", n_refits=3, cache=cache)
        return _batches(calls)

    clean = run()
    entries = sorted(tmp_path.glob("*.pkl"))
    entries[drop % len(entries)].unlink()
    kept = {f: f.stat().st_mtime_ns for f in entries if f.exists()}
    resumed = run()
    assert resumed and set(resumed) <= set(clean)
    assert {f: f.stat().st_mtime_ns for f in kept} == kept
    assert run() == []  # and nothing is left to train


def test_table1_carries_the_paper_beside_ours():
    rows = []
    for r in range(2):
        rows.append({"model": "cnn", "loss": "dice", "repeat": r, "fold": 0, "accuracy": 0.5, "precision": 0.5,
                     "recall": 1.0, "f1": 2 / 3, "roc_auc": 0.5, "pr_auc": 0.5, "balanced_accuracy": 0.5, "mcc": 0.0,
                     "brier": 0.25, "single_class": True})
    t = dia.table1(pd.DataFrame(rows))
    row = t.loc[("cnn", "dice")]
    assert row["accuracy_paper"] == 0.50 and row["roc_auc_paper"] == 0.34
    assert np.isclose(row["f1_delta"], 2 / 3 - 0.67) and row["single_class"] == 1.0


@pytest.mark.parametrize(
    "n_pos, n_splits, val_fraction, match",
    [
        (3, 5, 0.2, r"minority class has 3 example\(s\), fewer than n_splits=5"),
        (8, 5, 0.2, r"keeps about 4 minority example\(s\).*SMOTE needs more than k_neighbors=5"),
    ],
)
def test_too_few_minority_examples_are_refused_before_training(n_pos, n_splits, val_fraction, match, monkeypatch):
    y = np.r_[np.zeros(40, dtype=int), np.ones(n_pos, dtype=int)]
    X = np.random.default_rng(0).normal(size=(len(y), 4))
    p = dia.check_parameters(n_splits=n_splits, n_repeats=1, val_fraction=val_fraction)
    monkeypatch.setattr(dia, "train_folds", lambda *a, **k: pytest.fail("trained despite too few examples"))
    with pytest.raises(ValueError, match=match):
        dia.run_grid(X, y, p, protocol="leak_free", data_sha256="sha")


def test_single_class_labels_are_refused():
    with pytest.raises(ValueError, match="minority class has 0 example"):
        dia.check_class_counts(np.zeros(30, dtype=int), 5)


def _arm_calls(monkeypatch, tmp_path, arms, X, y, **kw):
    calls = []
    monkeypatch.setattr(dia, "train_folds", _fake_train(calls))
    p = dia.check_parameters(n_splits=3, n_repeats=2, models=["mlp"], losses=["bce"])
    frames = dia.run_arms(X, y, p, arms, data_sha256="x", cache=DiskCache("t", tmp_path), **kw)
    return calls, frames, p


def test_paper_protocol_stops_early_on_the_scored_fold_and_leak_free_never_does(monkeypatch, tmp_path):
    X, y = _toy(90, 8)
    calls, frames, p = _arm_calls(monkeypatch, tmp_path, ["paper", "leak_free"], X, y)
    n = p["n_splits"] * p["n_repeats"]
    paper, inner, refits = calls  # one batched call per arm, then the leak-free refits
    assert len(paper) == len(inner) == len(refits) == n
    for fold in paper:  # the paper protocol: early stopping watches exactly the rows it is scored on
        np.testing.assert_array_equal(fold.X_val, fold.evaluate["test"])
        assert "test_real" in fold.evaluate and fold.epochs is None
    # with a pass-through preprocessor, column 0 names the drug: leak-free early stopping never sees a test drug
    monkeypatch.setattr(dia, "preprocessor", _spy_preprocessor)
    calls, _, _ = _arm_calls(monkeypatch, tmp_path / "spy", ["paper", "leak_free"], X, y)
    specs = dia.cv_splits(y, p["n_splits"], p["n_repeats"], p["seed"])
    for fold, spec in zip(calls[0], specs):
        assert set(fold.X_val[:, 0].astype(int)) == set(spec.test)
    for fold, spec in zip(calls[1], specs):
        assert not set(fold.X_val[:, 0].astype(int)) & set(spec.test)
        assert not set(fold.X_train[:, 0].astype(int)) & set(spec.test)
    with pytest.raises(ValueError, match="early_stopping must be 'outer'"):
        dia.Arm("paper", "inner")
    assert set(frames["paper"].columns) >= {"real_roc_auc", "y_prob_real"}


def test_leak_free_refit_fits_the_whole_training_fold_for_the_chosen_epochs(monkeypatch, tmp_path):
    X, y = _toy(90, 8)
    monkeypatch.setattr(dia, "preprocessor", _spy_preprocessor)
    calls, frames, p = _arm_calls(monkeypatch, tmp_path, ["leak_free"], X, y)
    inner, refits = calls
    specs = dia.cv_splits(y, p["n_splits"], p["n_repeats"], p["seed"])
    for fold, spec in zip(refits, specs):
        assert set(fold.X_train[:, 0].astype(int)) == set(spec.train)  # every training-fold drug, no test drug
        assert len(fold.X_val) == 0 and fold.epochs == 1  # the fake inner run chose best_epoch 0
        assert set(fold.evaluate["test"][:, 0].astype(int)) == set(spec.test)
    for fold, spec in zip(inner, specs):
        assert set(fold.X_train[:, 0].astype(int)) < set(spec.train) and fold.epochs is None
        assert not set(fold.X_val[:, 0].astype(int)) & set(spec.test)
    assert frames["leak_free"]["refit"].all() and len(frames["leak_free"]) == len(specs)


def test_arms_sharing_a_fold_model_train_it_once(monkeypatch, tmp_path):
    X, y = _toy(90, 8)
    calls, frames, _ = _arm_calls(monkeypatch, tmp_path, ["leak_free", "leak_free_no_refit"], X, y)
    assert [len(c) for c in calls] == [6, 6]  # 6 inner models shared by both arms, then 6 refits
    assert frames["leak_free_no_refit"]["refit"].eq(False).all()


def test_resampled_folds_hold_exactly_the_real_test_folds():
    X, y = _toy(90, 8)
    Xr, yr = dia.leaky_dataset(X, y, 0)
    real = dia.cv_splits(y, 3, 2, 0)
    specs = dia.resampled_splits(real, len(y), len(yr), 0)
    # the real drugs come first, in order (float32 after resampling)
    np.testing.assert_allclose(Xr[: len(y), 0], dia.preprocessor(0, smote=False).fit_transform(X, y)[:, 0], rtol=1e-6)
    for spec, r in zip(specs, real):
        np.testing.assert_array_equal(spec.test[spec.test < len(y)], r.test)
        assert not set(spec.train) & set(spec.test) and len(spec.train) + len(spec.test) == len(yr)
    for rep in (0, 1):  # each repeat partitions the resampled set
        tests = np.concatenate([s.test for s in specs if s.repeat == rep])
        assert sorted(tests) == list(range(len(yr)))


def test_grouped_cv_keeps_identical_descriptor_vectors_in_one_fold():
    X, y = _toy(90, 8)
    X[10:13] = X[3]  # a group of four identical vectors
    X[50] = X[40]
    groups = dia.descriptor_groups(X)
    assert groups[3] == groups[10] == groups[12] and groups[40] == groups[50] and groups[3] != groups[40]
    for spec in dia.grouped_cv_splits(y, groups, 3, 2, 0):
        for members in ([3, 10, 11, 12], [40, 50]):
            assert np.isin(members, spec.test).all() or not np.isin(members, spec.test).any()
    counts = dia.stereoisomers(X, y, X[[3, 7]], y[[3, 7]])
    assert counts["train_groups"] == 2 and counts["train_drugs_in_groups"] == 6
    assert counts["test_drugs_with_twin_in_train"] == 2


def test_implied_confusion_counts_and_the_impossible_zero_errors():
    # a matrix with known cells: TP 90, FP 10, TN 880, FN 20 -> accuracy .97, precision .90, recall .82
    row = {"accuracy": 0.97, "precision": 0.90, "recall": 0.82}
    got = dia.implied_confusion(10, 20, row)
    assert got["feasible"] and got["tp_range"][0] <= 90 <= got["tp_range"][1]
    assert got["rows_scored_range"][0] <= 1000 <= got["rows_scored_range"][1]
    assert not dia.implied_confusion(0, 0, dia.PAPER_TABLE1[("cnn", "dice")])["feasible"]
    # the paper's MLP + focal counts need a roughly balanced set of several hundred rows
    mf = dia.implied_confusion(35, 22, dia.PAPER_TABLE1[("mlp", "focal")])
    assert mf["feasible"] and 0.4 < mf["positive_share_range"][0] <= mf["positive_share_range"][1] < 0.6


def test_paper_claims_checked_on_its_own_table():
    got = dia.paper_claim_checks(dia.PAPER_TABLE1)
    # focal strictly best: MLP F1 and SimpleNN F1 only (every AUC ties at 0.97; CNN F1 ties)
    assert got["focal_best"]["n_true"] == 2 and got["focal_best"]["n"] == 6
    # MLP strictly above both: recall with BCE, recall and F1 with focal
    assert got["mlp_surpassed"]["n_true"] == 3 and got["mlp_surpassed"]["n"] == 15
    fig5 = dia.figure5_vs_table1()
    assert fig5["n_disagree"] == 3


def _fake_frames():
    rng = np.random.default_rng(0)
    rows = {name: [] for name in ("leak_free", "leak_free_outer", "paper")}
    for r in range(3):
        for f in range(5):
            base = 0.7 + rng.normal(0, 0.02)
            for name, shift in (("leak_free", 0.0), ("leak_free_outer", 0.05), ("paper", 0.2)):
                row = {"model": "mlp", "loss": "focal", "repeat": r, "fold": f, "n_train": 380, "n_test": 95,
                       "roc_auc": base + shift + rng.normal(0, 0.01), "single_class": f == 0 and name == "paper"}
                if name == "paper":
                    row["real_roc_auc"] = base + 0.1
                rows[name].append(row)
    return {k: pd.DataFrame(v) for k, v in rows.items()}


def test_decomposition_parts_add_up_to_the_distance_to_the_paper():
    frames = _fake_frames()
    d = dia.decomposition(frames, "mlp", "focal", "roc_auc")
    total = sum(part.estimate for part in d["parts"].values())
    assert np.isclose(total, d["total"]) and np.isclose(d["total"], 0.97 - frames["leak_free"]["roc_auc"].mean())
    step = d["parts"]["early_stopping_on_scored_fold"]
    assert step.method == "corrected_t" and step.ci_low < step.estimate < step.ci_high and step.n == 15
    assert np.isclose(d["parts"]["preprocessing_before_split"].estimate,
                      (frames["paper"]["real_roc_auc"] - frames["leak_free_outer"]["roc_auc"]).mean())
    freq = dia.collapse_frequency(frames["paper"], "mlp", "focal")
    assert freq.estimate == 3 / 15 and freq.method == "clopper_pearson"


def test_holm_adjusts_over_the_whole_family():
    paired = pd.DataFrame({"roc_auc_p": [0.01, 0.04], "f1_p": [0.03, 0.5]},
                          index=pd.MultiIndex.from_tuples([("mlp", "bce"), ("cnn", "bce")], names=["model", "loss"]))
    out = dia.holm_table(paired)
    assert np.isclose(out.loc[("mlp", "bce"), "roc_auc_p_holm"], 0.04)  # 4 tests: 4 x 0.01
    assert np.isclose(out.loc[("mlp", "bce"), "f1_p_holm"], 0.09)  # 3 x 0.03
    assert (out["roc_auc_p_holm"] >= out["roc_auc_p"]).all()


def test_network_seeds_do_not_depend_on_the_code_or_package_versions(monkeypatch, tmp_path):
    """Editing unrelated code changes every cache key but must not change a single number."""
    from lossbook.core import cache as cache_module

    X, y = _toy(90, 8)

    def seeds(folder):
        calls = []
        monkeypatch.setattr(dia, "train_folds", _fake_train(calls))
        p = dia.check_parameters(n_splits=3, n_repeats=1, models=["mlp"], losses=["bce"])
        dia.run_arms(X, y, p, ["leak_free", "paper"], data_sha256="x", cache=DiskCache("t", folder))
        return [fold.seed for call in calls for fold in call]

    before = seeds(tmp_path / "a")
    monkeypatch.setattr(cache_module, "source_fingerprint", lambda: "edited elsewhere")
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda module: "edited elsewhere")
    monkeypatch.setattr(cache_module, "package_versions", lambda: {"numpy": "0.0"})
    assert seeds(tmp_path / "b") == before


class _ReversingExecutor:
    """Runs each job on a pickled copy of its inputs, last job first: what a remote worker sees."""

    def map(self, function, jobs, *, shared=None, progress=None):
        import pickle

        out = [function(pickle.loads(pickle.dumps(job)), pickle.loads(pickle.dumps(shared))) for job in reversed(jobs)]
        return out[::-1]


def _frames_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name].drop(columns=["history"]), b[name].drop(columns=["history"]))


def test_arms_do_not_depend_on_the_executor(monkeypatch, tmp_path):
    X, y = _toy(90, 8)
    _, serial, p = _arm_calls(monkeypatch, tmp_path / "serial", ["leak_free", "leaky", "paper"], X, y)
    _, remote, _ = _arm_calls(monkeypatch, tmp_path / "remote", ["leak_free", "leaky", "paper"], X, y,
                              executor=_ReversingExecutor())
    _frames_equal(serial, remote)


@pytest.mark.slow
def test_real_training_is_identical_on_a_two_worker_dask_cluster(tmp_path):
    from lossbook.core.executor import make_executor

    X, y = _toy(120, 8)
    p = dia.check_parameters(n_splits=3, n_repeats=1, models=["mlp", "cnn"], losses=["bce", "focal"], max_epochs=3,
                             patience=1)
    arms = ["leak_free", "leak_free_no_refit", "paper"]
    serial = dia.run_arms(X, y, p, arms, data_sha256="x", cache=DiskCache("t", tmp_path / "serial"))
    with make_executor("dask", n_workers=2) as pool:
        distributed = dia.run_arms(X, y, p, arms, data_sha256="x", cache=DiskCache("t", tmp_path / "dask"),
                                   executor=pool)
    _frames_equal(serial, distributed)


def test_table1_record_and_fold_mean_estimates_name_each_configuration():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame([{"model": "mlp", "loss": "focal", "repeat": r, "fold": k, "n_train": 380, "n_test": 95,
                           "single_class": False, **{m: rng.uniform(0.6, 0.9) for m in dia.TABLE_METRICS}}
                          for r in range(2) for k in range(5)])
    record = dia.table1_record(dia.table1(frame))
    key = next(iter(record))
    model, loss = key.split("+")
    assert record[key]["paper"] == dia.PAPER_TABLE1[(model, loss)]
    assert set(record[key]) >= set(dia.TABLE_METRICS) and record[key]["n_folds"] == len(
        frame[(frame.model == model) & (frame.loss == loss)])
    estimates = dia.fold_mean_estimates(frame, columns=("roc_auc",))
    assert set(estimates) == set(record)
    assert estimates[key]["roc_auc"].estimate == pytest.approx(record[key]["roc_auc"]["mean"])


def test_describe_splits_counts_each_split():
    from types import SimpleNamespace

    X, y = _toy(20, 4)
    table = dia.describe_splits({"training": SimpleNamespace(X=X, y=y)})
    assert table.loc["training", "drugs"] == 20 and table.loc["training", "positive"] == int(y.sum())
    assert table.loc["training", "descriptors"] == 4 and table.index.name == "split"


def test_decomposition_table_lists_levels_and_steps_in_order():
    from lossbook.core.estimate import Estimate

    d = {"levels": {"leak_free": Estimate(0.7, 0.6, 0.8), "paper_table1": Estimate(0.95)},
         "parts": {"balanced_test_folds": Estimate(0.1, 0.0, 0.2)}, "p_values": {"balanced_test_folds": 0.04}}
    table = dia.decomposition_table({"roc_auc": d})
    assert list(table["step"]) == ["leak-free (refitted networks)", "+ balanced test folds", "paper's Table 1"]
    assert table["p"].iloc[1] == 0.04 and table["value"].iloc[2] == 0.95


def test_confusion_analysis_sets_the_papers_counts_beside_what_they_imply():
    y, y_ext = np.array([0, 0, 0, 1]), np.array([0, 1])
    candidates = dia.candidate_row_counts(y, y_ext)
    assert candidates == {"training drugs (leak-free CV)": 4, "training drugs resampled 1:1 (leaky, paper)": 6,
                          "all drugs, training and external": 6, "all drugs resampled 1:1": 8}
    empty = pd.DataFrame({"model": [], "loss": []})
    confusion = dia.confusion_analysis({"leak_free": empty, "leaky": empty, "paper": empty}, candidates)
    assert set(confusion["paper"]) == {f"{m}+{loss}" for m, loss in dia.PAPER_CONFUSION}
    assert all(ours == {} for ours in confusion["ours"].values())  # nothing of ours ran
    implied, ours = dia.confusion_tables(confusion)
    assert len(implied) == len(ours) == len(dia.PAPER_CONFUSION)
    cnn_dice = implied.set_index("configuration").loc["CNN + Dice"]
    assert cnn_dice["rows scored, implied"] == "no matrix fits"  # zero errors cannot give the paper's row


# -- the chapter's summaries (one call per cell of notebooks/dia.py) -------------------------

def _fake_grid(models=dia.MODELS, losses=dia.LOSSES, n_repeats=2, n_folds=3, seed=0):
    """Fold results of every main arm for a small grid, with the columns the chapter's summaries read."""
    rng = np.random.default_rng(seed)
    arms = ("leak_free", "leak_free_no_refit", "leak_free_outer", "leaky", "paper")
    frames = {}
    for a, arm in enumerate(arms):
        rows = []
        for model in models:
            for loss in losses:
                for r in range(n_repeats):
                    for k in range(n_folds):
                        y_true = np.array([0, 0, 0, 1, 1, 0, 1, 0])
                        y_prob = rng.uniform(size=len(y_true))
                        tp, fp, tn, fn = rng.integers(0, 20, 4)
                        rows.append({"model": model, "loss": loss, "repeat": r, "fold": k, "n_train": 380, "n_test": 95,
                                     **{m: rng.uniform(0.55, 0.9) + 0.02 * a for m in dia.TABLE_METRICS},
                                     **{f"real_{m}": rng.uniform(0.55, 0.9) for m in dia.PAPER_METRICS},
                                     "single_class": bool(loss == "dice" and k == 0), "tp": tp, "fp": fp, "tn": tn,
                                     "fn": fn, "real_tp": tp, "real_fp": fp, "real_tn": tn, "real_fn": fn,
                                     "test_prevalence": 0.5 if arm in ("leaky", "paper") else 0.25,
                                     "y_true": y_true, "y_prob": y_prob,
                                     "history": {"loss": list(rng.uniform(size=3 + k)), "val_loss": list(rng.uniform(size=3 + k)),
                                                 "val_auc": list(rng.uniform(size=3 + k))}})
        frames[arm] = pd.DataFrame(rows)
    return frames


def _params(**kw):
    return {"models": list(dia.MODELS), "losses": list(dia.LOSSES), "variant_models": ["mlp"], "n_splits": 3,
            "n_repeats": 2, "seed": 0, "val_fraction": 0.2, "n_boot": 50, "n_refits": 1, "grouped_configs": [], **kw}


def test_table1_summaries_quote_mlp_focal_and_each_protocol():
    tables = {name: dia.table1(f) for name, f in _fake_grid().items()}
    numbers = dia.table1_numbers(tables)
    assert set(numbers) == {"lf", "lk", "pp"}
    assert numbers["lf"]["mlp_focal_roc_auc"] == tables["leak_free"].loc[("mlp", "focal"), "roc_auc_mean"]
    assert {"best_auc", "best_auc_config", "mean_f1"} <= set(numbers["lf"]) and "mean_f1" not in numbers["pp"]
    shown = dia.table1_by_metric(tables, "f1")
    assert list(shown.columns) == ["paper's Table 1", "leak-free", "leaky", "paper protocol"]
    assert len(shown) == 9 and shown.index[0] == "MLP + BCE" and " ± " in shown.iloc[0, 1]
    assert list(dia.extra_metrics_table(tables["leaky"], tables["leak_free"].index).columns) == list(dia.EXTRA_METRICS.values())


def test_chapter_facts_describe_data_and_networks():
    X, y = _toy(40, 6)
    facts = dia.chapter_facts(X, y, _params())
    assert facts["n_train"] == 40 and facts["n_pos"] == int(y.sum()) and facts["n_desc"] == 6
    assert facts["n_leaky"] == 2 * int((y == 0).sum()) and facts["n_fold_models"] == 6
    assert facts["inner_share"] == pytest.approx(0.8) and "dropout" in facts["arch_mlp"]


def test_decomposition_refit_and_optimism_summaries():
    frames = _fake_grid()
    decomps = dia.decompositions(frames, _params())
    assert list(decomps) == ["mlp+bce", "mlp+focal", "mlp+dice"] and dia.headline_config(decomps) == "mlp+focal"
    numbers = dia.decomposition_numbers(decomps["mlp+focal"])
    assert set(numbers) == {"accuracy", "f1", "roc_auc"}
    assert {"lf", "paper_ours", "total", "paper_value", "remaining_gap_to_paper"} <= set(numbers["f1"])
    panels = dia.waterfall_panels(decomps["mlp+focal"])
    assert set(panels) == {"accuracy", "F1", "ROC-AUC"} and len(panels["F1"][1]) == len(dia.DECOMPOSITION_STEPS)
    handicap = dia.refit_handicap(frames, dia.table1(frames["leak_free"]).index)
    expected = (frames["leak_free"]["roc_auc"] - frames["leak_free_no_refit"]["roc_auc"])[:6].mean()
    assert handicap["mlp+bce"]["roc_auc"].estimate == pytest.approx(expected)
    refit = dia.refit_numbers(handicap, "mlp+focal", frames["leak_free"])
    assert refit["n_train_fold"] == 380 and refit["refit_gain_auc"] is handicap["mlp+focal"]["roc_auc"]
    assert list(dia.config_estimates_table(handicap).columns) == ["roc_auc", "f1"]
    optimism = dia.early_stopping_optimism(decomps)
    assert optimism["mlp+focal"]["f1"] is decomps["mlp+focal"]["f1"]["parts"]["early_stopping_on_scored_fold"]
    on = dia.optimism_numbers(optimism, ["mlp", "simplenn"])
    assert on["variant_models"] == "MLP and SimpleNN" and on["es_optimism_auc_max"] >= on["es_optimism_auc"]


def test_collapse_summaries_count_cnn_dice_and_say_na_without_it():
    frames = _fake_grid()
    tables = {name: dia.table1(f) for name, f in frames.items()}
    prevalence = dia.test_prevalences(frames)
    assert prevalence == {"leak_free": 0.25, "leaky": 0.5, "paper": 0.5}
    reference = dia.all_positive_table(prevalence)
    assert len(reference) == 4 and reference.iloc[-1]["f1"] == dia.PAPER_TABLE1[("cnn", "dice")]["f1"]
    assert reference.iloc[1]["recall"] == 1 and reference.iloc[1]["precision"] == pytest.approx(0.5)
    collapse = dia.collapse_table(frames)
    assert collapse.loc["CNN + Dice", "one class, leak-free"] == pytest.approx(1 / 3)
    record = dia.cnn_dice_record(frames)
    numbers = dia.cnn_dice_numbers(frames, tables, prevalence, dia.LOSSES, record)
    assert numbers["lf_collapse_k"] == 2 and numbers["n_cnn_dice_folds"] == 6
    assert numbers["lf_collapse_dice"] == pytest.approx(1 / 3) and numbers["lf_collapse_bce"] == 0
    assert numbers["zero_errors_feasible"] == "does not"
    assert numbers["pp_cnn_dice_neg"] == record["counts"]["paper"]["tn"] + record["counts"]["paper"]["fp"]
    small = _fake_grid(models=("mlp",), losses=("bce", "focal"))
    small_tables = {name: dia.table1(f) for name, f in small.items()}
    small_record = dia.cnn_dice_record(small)
    assert small_record["collapse_frequency"] == {} and small_record["counts"] == {}
    na = dia.cnn_dice_numbers(small, small_tables, dia.test_prevalences(small), ("bce", "focal"), small_record)
    assert na["lf_collapse_k"] == na["n_cnn_dice_folds"] == "n/a" and np.isnan(na["lf_collapse_cp"].estimate)
    assert "lf_cnn_dice_auc" not in na
    assert dia.collapse_diagnostics_by_protocol(small, small_tables, None, None, _params()) == {}
    diag = {"leaky": {"score_spread_median": 2e-6, "spearman_score_length_mean": 0.5, "length_auc_mean": 0.4,
                      "auc_mean": 0.45, "auc_below_half_fraction": 0.6, "n_folds": 5.0}}
    assert dia.diagnostics_table(diag).loc["leaky", "score_spread_median"] == pytest.approx(2.0)
    assert dia.diagnostics_numbers(diag) == {"lk_spread": 2e-6, "lk_rho": 0.5, "lk_length_auc": 0.4, "lk_below_half": 0.6}


def test_figure_inputs_have_one_entry_per_network_and_protocol():
    frames = _fake_grid()
    tables = {name: dia.table1(f) for name, f in frames.items()}
    panels = dia.f1_bar_panels(tables, ["mlp", "cnn"], ["bce", "dice"], dia.test_prevalences(frames))
    assert list(panels) == ["leak-free", "leaky", "paper protocol"]
    assert list(panels["leaky"]["means"].index) == ["MLP", "CNN"] and panels["leaky"]["line"] == pytest.approx(2 / 3)
    assert panels["leaky"]["reference"].loc["CNN", "dice"] == dia.PAPER_TABLE1[("cnn", "dice")]["f1"]
    histories = dia.training_histories(frames["leak_free"], ["simplenn"], ["focal"])
    assert list(histories) == ["SimpleNN"] and len(histories["SimpleNN"]["focal"]) == 6
    matrices = dia.confusion_matrices(frames["leak_free"], ["mlp"], ["bce"])
    g = frames["leak_free"].query("model == 'mlp' and loss == 'bce'")
    assert matrices[("MLP", "bce")].tolist() == [[g.tn.sum(), g.fp.sum()], [g.fn.sum(), g.tp.sum()]]


def test_paired_and_claim_summaries():
    frames = _fake_grid()
    tables = {name: dia.table1(f) for name, f in frames.items()}
    paired = dia.holm_table(dia.paired_tests(frames["leak_free"]))
    numbers = dia.paired_numbers(paired)
    assert numbers["n_compared"] == 8 and numbers["n_family"] == 16
    assert numbers["focal_vs_bce_auc_diff"] == pytest.approx(-paired.loc[("mlp", "bce"), "roc_auc_diff"])
    shown = dia.paired_table(paired)
    assert list(shown.columns) == ["ROC-AUC [95 % CI]", "ROC-AUC p (Holm)", "F1 [95 % CI]", "F1 p (Holm)"]
    claims = dia.paper_claims(tables, frames, n_boot=20, seed=0)
    assert set(claims["claim_checks"]) == {"paper_table1", "leak_free", "paper"}
    assert set(claims["stability"]) == {"leak_free", "paper"}
    cn = dia.claims_numbers(claims, 9)
    assert cn["focal_best_n"] == 6 and isinstance(cn["sd_rank_lf_f1"], int) and cn["n_configs"] == 9
    assert cn["fig5_n"] == claims["figure5"]["n_compared"]
    table = dia.claims_table(claims)
    assert list(table.columns) == ["claim", "checked on", "comparisons that hold"]
    assert "the paper's Table 1" in set(table["checked on"]) and len(table) == 3 * 2 + 2 * 2
    assert len(dia.figure5_table(claims["figure5"])) == claims["figure5"]["n_compared"]


def test_baseline_summaries_pick_the_best_by_cv_auc():
    baselines = pd.DataFrame({"model": ["logistic_regression"] * 2 + ["random_forest"] * 2,
                              "roc_auc": [0.7, 0.8, 0.85, 0.95], "pr_auc": 0.5, "f1": 0.4,
                              "balanced_accuracy": 0.6, "mcc": 0.2})
    assert dia.baseline_numbers(baselines) == {"best_baseline": "random forest", "best_baseline_auc": pytest.approx(0.9)}
    assert dia.baselines_record(baselines)["logistic_regression"]["roc_auc_mean"] == pytest.approx(0.75)
    assert dia.baselines_table(baselines).iloc[1, 0] == "0.900 ± 0.071"
    tables = dia.table1(_fake_grid()["leak_free"])
    means, sds = dia.cv_auc_bars(tables, baselines)
    assert len(means) == len(sds) == 11 and means["random_forest"] == pytest.approx(0.9)


def test_twins_counts_test_fold_drugs_whose_twin_is_in_training():
    X, y = _toy(30, 4)
    X[1] = X[0]  # one pair of identical vectors
    groups = dia.descriptor_groups(X)
    twins = dia.twins_with_cv(X, y, X[:3], y[:3], groups, _params(n_splits=3, n_repeats=1))
    assert twins["train_groups"] == 1 and twins["test_drugs_with_twin_in_train"] == 3
    # each of the pair sits in a test fold once; its twin is in training unless the fold holds both
    assert twins["test_fold_drugs_with_twin_in_training_per_fold"] in (0.0, pytest.approx(2 / 3))
    assert dia.twins_table(twins).loc["train groups", "count"] == 1
    assert dia.grouped_cv_effects(X, y, _params(grouped_configs=["cnn+dice"], models=["mlp"]), groups, None,
                                  data_sha256="x") == {}
    numbers = dia.twins_numbers(twins, {}, [])
    assert numbers["grouped_config"] == "n/a" and np.isnan(numbers["grouped_auc"].estimate)


def test_variant_effects_pair_each_variant_with_the_default(monkeypatch):
    no_refit = _fake_grid(models=("mlp",))["leak_free_no_refit"]
    seen = []

    def fake_run_grid(X, y, p, **kw):
        seen.append((p["pos_class_weight"], p["label_smoothing"], kw["models"]))
        return no_refit.assign(roc_auc=no_refit["roc_auc"] + 0.01)

    monkeypatch.setattr(dia, "run_grid", fake_run_grid)
    out = dia.variant_effects(None, None, _params(pos_class_weight=1.0, label_smoothing=0.0), no_refit, data_sha256="x")
    assert seen == [(3.0, 0.0, ["mlp"]), (1.0, 0.1, ["mlp"])]
    assert len(out["estimates"]) == 6 and out["estimates"]["label smoothing 0.1|mlp+dice"]["roc_auc"].estimate == pytest.approx(0.01)
    assert out["table"].index[0] == "class weight 3 for positives, MLP + BCE" and "brier" in out["table"]
    assert dia.variant_numbers() == {"class_weight": 3.0, "label_smoothing": 0.1}


def test_external_summary_scores_networks_and_the_baseline_once(monkeypatch):
    rng = np.random.default_rng(0)
    y_ext = np.array([0, 1] * 20)
    calls = []

    def fake_external_test(X, y, X_ext, p, configs, *, refit=True, **kw):
        calls.append(refit)
        return {c: np.clip(y_ext * (0.6 if refit else 0.3) + rng.uniform(0, 0.5, len(y_ext)), 0, 1) for c in configs}

    monkeypatch.setattr(dia, "external_test", fake_external_test)
    monkeypatch.setattr(dia, "refit_baseline", lambda name, X, y, X_ext, seed: rng.uniform(size=len(y_ext)))
    table = dia.table1(_fake_grid()["leak_free"])
    chosen = dia.chosen_configs(table)
    assert chosen[0] == tuple(table["roc_auc_mean"].idxmax()) and ("mlp", "focal") in chosen
    out = dia.external_summary(None, None, None, y_ext, _params(), chosen, "random_forest", data_sha256="x")
    assert calls == [True, False] and list(out["external"])[-1] == "random_forest"
    assert set(out["refit_gain"]) == {f"{m}+{l}" for m, l in chosen}
    numbers = dia.external_numbers(out, _params())
    assert numbers["ext_best_name"] == dia._labels([chosen[0]])[0] and numbers["ext_refit_gain_auc"].estimate > 0
    assert list(dia.external_table(out["external"]).columns) == ["ROC-AUC", "PR-AUC", "F1"]


def test_results_record_holds_every_section():
    frames = _fake_grid()
    tables = {name: dia.table1(f) for name, f in frames.items()}
    decomps = dia.decompositions(frames, _params())
    paired = dia.holm_table(dia.paired_tests(frames["leak_free"]))
    claims = dia.paper_claims(tables, frames, n_boot=10, seed=0)
    record = dia.results_record(tables=tables, frames=frames, decomps=decomps, handicap={}, external={"external": {},
                                "refit_gain": {}}, confusion={}, cnn_dice={}, claims=claims, twins={}, grouped={},
                                optimism={}, variants={}, prevalence={}, baselines=pd.DataFrame({"model": []}),
                                diagnostics={}, paired=paired)
    assert record["fair_refit"]["fold_sizes"] == {"n_train": 380, "n_test": 95}
    assert record["holm"]["n_tests"] == 16 and "mlp+bce" in record["paired_vs_mlp_focal"]
    assert set(record["decomposition"]) == set(decomps) and record["paper_claim_checks"] is claims["claim_checks"]
