"""The generic study (`lossbook study`): input checks, leak-free folds, verdicts, executor independence."""
import json
import os
from typing import ClassVar

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.base import BaseEstimator, TransformerMixin

from lossbook.core.cache import DiskCache
from lossbook.core.data import DataError
from lossbook.core.estimate import Estimate
from lossbook.core.executor import make_executor
from lossbook.core.io import to_jsonable
from lossbook.studies import tabular


def _toy(n=120, prevalence=0.25, seed=0, **extra):
    rng = np.random.default_rng(seed)
    y = (np.arange(n) < int(n * prevalence)).astype(int)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) + y * (i == 0) for i in range(4)})
    frame["y"] = y
    for name, values in extra.items():
        frame[name] = values
    return frame


def _write(frame, tmp_path, name="data.csv"):
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return path


# -- bad input: one clear error before any training ------------------------------------------


def test_label_with_three_values_is_refused_naming_file_and_column(tmp_path):
    frame = _toy()
    frame.loc[:2, "y"] = 2
    with pytest.raises(DataError, match=r"data.csv: column 'y' \(--label\) must hold exactly two classes.*3 distinct"):
        tabular.load_table(_write(frame, tmp_path), label="y")


def test_misspelled_label_gets_a_suggestion(tmp_path):
    with pytest.raises(DataError, match=r"--label 'Y_' is not a column; did you mean 'y'"):
        tabular.load_table(_write(_toy(), tmp_path), label="Y_")


def test_non_numeric_features_are_refused_with_an_offer_to_drop_them(tmp_path):
    path = _write(_toy(colour=["red", "blue"] * 60), tmp_path)
    with pytest.raises(DataError, match=r"non-numeric feature column\(s\): \['colour'\].*--drop-non-numeric"):
        tabular.load_table(path, label="y")
    table = tabular.load_table(path, label="y", drop_non_numeric=True)
    assert table.dropped == ["colour"] and list(table.X.columns) == ["x0", "x1", "x2", "x3"]


def test_nan_is_refused_with_a_count_per_column(tmp_path):
    frame = _toy()
    frame.loc[[1, 5, 7], "x1"] = np.nan
    frame.loc[[2], "x3"] = np.nan
    with pytest.raises(DataError, match=r"4 missing value\(s\) \(NaN\) in 2 feature column\(s\): 'x1': 3, 'x3': 1"):
        tabular.load_table(_write(frame, tmp_path), label="y")


def test_single_group_is_refused(tmp_path):
    with pytest.raises(DataError, match=r"column 'g' \(--group\) holds a single group"):
        tabular.load_table(_write(_toy(g=["a"] * 120), tmp_path), label="y", group="g")


def test_fewer_minority_rows_than_folds_is_refused_before_training(tmp_path):
    table = tabular.load_table(_write(_toy(n=100, prevalence=0.03), tmp_path), label="y")
    with pytest.raises(DataError, match=r"minority class \(positive\) has 3 row\(s\), fewer than the 5 folds"):
        tabular.check_protocol(table, tabular.check_parameters())
    with pytest.raises(DataError, match="minority class"):
        tabular.run_study(table, tabular.check_parameters())  # refuses before any job runs


def test_too_few_minority_rows_for_smote_suggest_no_smote(tmp_path):
    table = tabular.load_table(_write(_toy(n=100, prevalence=0.08), tmp_path), label="y")
    with pytest.raises(DataError, match="--no-smote"):
        tabular.check_protocol(table, tabular.check_parameters())
    tabular.check_protocol(table, tabular.check_parameters(smote=False))


def test_string_labels_take_the_rarer_value_as_positive_unless_told(tmp_path):
    frame = _toy()
    frame["y"] = np.where(frame["y"] == 1, "sick", "well")
    path = _write(frame, tmp_path, "data.parquet")  # Parquet too
    table = tabular.load_table(path, label="y")
    assert table.positive == "sick" and table.y.sum() == 30
    flipped = tabular.load_table(path, label="y", positive="well")
    assert flipped.y.sum() == 90
    with pytest.raises(DataError, match="--positive 'ill' is not a value"):
        tabular.load_table(path, label="y", positive="ill")


def test_parameters_are_checked_by_name():
    with pytest.raises(ValueError, match="losses must include 'bce'"):
        tabular.check_parameters(losses=["focal"])
    with pytest.raises(ValueError, match="baselines"):
        tabular.check_parameters(baselines=["svm"])
    with pytest.raises(ValueError, match="n_splits"):
        tabular.check_parameters(n_splits=1)
    assert tabular.check_parameters(baselines=[])["baselines"] == []


# -- the data summary --------------------------------------------------------------------------


def test_summary_finds_constant_and_copied_columns_identical_rows_and_conflicting_labels(tmp_path):
    frame = _toy(const=1.0)
    frame["copy"] = frame["x2"]
    frame.loc[10, [c for c in frame.columns if c != "y"]] = frame.loc[100, [c for c in frame.columns if c != "y"]]
    table = tabular.load_table(_write(frame, tmp_path), label="y")
    s = tabular.data_summary(table)
    assert s["constant_columns"] == ["const"]
    assert s["duplicated_columns"] == {"copy": "x2"}
    assert s["identical_rows"] == 1
    assert s["conflicting_rows"] == 2  # row 10 is positive, row 100 negative
    assert s["all_positive"]["precision"] == pytest.approx(0.25)


# -- leak-free folds ---------------------------------------------------------------------------


class Spy(BaseEstimator, TransformerMixin):
    fitted: ClassVar[list] = []

    def fit(self, X, y=None):
        Spy.fitted.append(set(np.asarray(X)[:, 0].astype(int)))
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float)


def test_preprocessing_sees_only_the_fit_rows_of_each_fold(monkeypatch):
    y = (np.arange(60) < 15).astype(int)
    X = np.c_[np.arange(60), np.random.default_rng(0).normal(size=(60, 3))]
    monkeypatch.setattr(tabular, "preprocessor", lambda seed, smote=True: Pipeline([("a", Spy()), ("b", Spy())]))
    p = tabular.check_parameters(n_splits=3, n_repeats=1, smote=False)
    for spec in tabular.outer_splits(y, None, 3, 1, 0):
        Spy.fitted = []
        d = tabular._prepare(X, y, None, spec, p)
        fit = set(d["rows"]["fit"])
        assert Spy.fitted and all(s == fit for s in Spy.fitted)
        assert not fit & set(spec.test) and not fit & set(d["rows"]["val"])
        assert set(d["rows"]["val"]) < set(spec.train)


def test_groups_never_cross_the_outer_or_the_inner_split():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(40), 3).astype(str)
    y = np.repeat((rng.random(40) < 0.3).astype(int), 3)
    for spec in tabular.outer_splits(y, groups, 4, 2, 0):
        assert not set(groups[spec.train]) & set(groups[spec.test])
        fit, val = tabular.inner_split(spec.train, y, groups, 0.25, 0)
        assert not set(groups[fit]) & set(groups[val])
        assert y[val].min() == 0 and y[val].max() == 1


# -- comparisons and verdicts ------------------------------------------------------------------


def _frame(effects, n_folds=10, seed=0):
    """A results frame: per-fold ROC-AUC/PR-AUC/Brier with a given mean shift per configuration."""
    rng = np.random.default_rng(seed)
    base = 0.8 + 0.02 * rng.normal(size=n_folds)
    rows = []
    for config, shift in effects.items():
        noise = 0.01 * rng.normal(size=n_folds)
        for k in range(n_folds):
            auc = base[k] + shift + noise[k]
            rows.append({"config": config, "kind": "baseline" if "+" not in config else "network",
                         "repeat": k // 5, "fold": k % 5, "roc_auc": auc, "pr_auc": auc - 0.2,
                         "brier": 0.2 - shift + noise[k], "n_train": 400, "n_test": 100})
    return pd.DataFrame(rows)


def test_three_way_verdicts_with_holm_and_minimum_detectable_effect():
    p = tabular.check_parameters(losses=["bce", "focal", "dice"], n_repeats=2)
    frame = _frame({"mlp+bce": 0.0, "mlp+focal": 0.08, "mlp+dice": -0.08, "lr": 0.001})
    out = tabular.compare_to_reference(frame, p)
    verdicts = out.set_index(["config", "metric"])["verdict"]
    assert verdicts[("mlp+focal", "roc_auc")] == "better"
    assert verdicts[("mlp+focal", "brier")] == "better"  # lower Brier is better
    assert verdicts[("mlp+dice", "roc_auc")] == "worse"
    assert verdicts[("lr", "roc_auc")] == "inconclusive"
    assert (out["p_holm"] >= out["p_value"] - 1e-12).all()
    assert isinstance(out["difference"].iloc[0], Estimate) and out["difference"].iloc[0].method == "corrected_t"
    assert (out["mde"] > 0).all()


def test_answer_names_the_better_loss_and_says_inconclusive_honestly():
    p = tabular.check_parameters(losses=["bce", "focal"], n_repeats=2, baselines=["lr"])
    summary = {"n_rows": 500, "n_positive": 50, "prevalence": 0.1, "group": None, "identical_rows": 3,
               "conflicting_rows": 0}
    for effects, expected in (({"mlp+bce": 0.0, "mlp+focal": 0.08, "lr": 0.0}, "mlp+focal is detectably better"),
                              ({"mlp+bce": 0.0, "mlp+focal": 0.001, "lr": 0.0}, "No loss was detectably better")):
        frame = _frame(effects)
        comparisons = tabular.compare_to_reference(frame, p)
        scores = tabular.score_table(frame, metrics=["roc_auc"])
        collapse = {c: {"at_0.5": Estimate(0.0, 0.0, 0.3, 10, "clopper_pearson")} for c in effects}
        text = tabular.answer(summary, scores, comparisons, collapse, p)
        assert expected in text
        assert "without a --group column" in text  # identical rows flagged
    assert "inconclusive does not mean the losses are equal" in text


# -- the executor does not change the results ---------------------------------------------------


def _tiny_study(tmp_path, executor_kind):
    frame = tabular.breast_cancer_example()
    path = tmp_path / "bc.csv"
    if not path.exists():
        frame.to_csv(path, index=False)
    table = tabular.load_table(path, label="malignant")
    p = tabular.check_parameters(losses=["bce", "focal"], baselines=["lr"], n_splits=3, n_repeats=1, max_epochs=2,
                                 patience=1)
    with make_executor(executor_kind, n_workers=2) as executor:
        frame = tabular.run_study(table, p, executor=executor,
                                  cache=DiskCache("t", root=tmp_path / f"cache-{executor_kind}"))
    return json.dumps(to_jsonable(tabular.study_results(table, frame, p)), sort_keys=True, indent=1)


@pytest.mark.slow
def test_results_are_byte_identical_on_a_two_worker_dask_cluster(tmp_path):
    serial = _tiny_study(tmp_path, "serial")
    distributed = _tiny_study(tmp_path, "dask")  # its own empty cache: every job runs on the workers
    assert serial == distributed
    assert '"mlp+focal"' in serial


def test_breast_cancer_example_is_imbalanced_at_ten_percent():
    frame = tabular.breast_cancer_example()
    assert frame["malignant"].mean() == pytest.approx(0.1, abs=0.002)
    assert frame.shape[1] == 31


def test_job_keys_and_seeds_do_not_depend_on_the_code(tmp_path, monkeypatch):
    """The network seed is derived from the job key: an edit to unrelated code must not change it."""
    from lossbook.core import cache as cache_module

    table = tabular.load_table(_write(_toy(), tmp_path), label="y")
    p = tabular.check_parameters(**tabular.PROFILES["quick"])
    specs = tabular.outer_splits(table.y, table.groups, p["n_splits"], p["n_repeats"], p["seed"])

    def keys():
        return [tabular.job_key(job, p, tabular.data_identity(table), specs) for job in tabular.grid_jobs(p)]

    before = keys()
    monkeypatch.setattr(cache_module, "source_fingerprint", lambda: "edited elsewhere")
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda module: "edited elsewhere")
    monkeypatch.setattr(cache_module, "package_versions", lambda: {"numpy": "0.0"})
    assert keys() == before


# -- what the report pages draw and show ----------------------------------------------------------


def _prediction_frame():
    rows = []
    for config in ("mlp+bce", "lr"):
        for repeat in (0, 1):
            for fold in (0, 1):
                idx = np.arange(fold * 3, fold * 3 + 3)
                rows.append({"config": config, "repeat": repeat, "fold": fold, "y_true": idx % 2,
                             "y_prob": idx / 10 + repeat})
    return pd.DataFrame(rows)


def test_fold_and_pooled_predictions_keep_config_order_and_each_row_once():
    frame = _prediction_frame()
    folds = tabular.fold_predictions(frame)
    assert list(folds) == ["mlp+bce", "lr"] and len(folds["lr"]) == 4
    np.testing.assert_array_equal(folds["lr"][1][1], np.arange(3, 6) / 10)
    pooled = tabular.pooled_predictions(frame, repeat=1)
    assert list(pooled) == ["mlp+bce", "lr"]
    y, p = pooled["mlp+bce"]
    np.testing.assert_array_equal(y, np.arange(6) % 2)
    np.testing.assert_allclose(p, np.arange(6) / 10 + 1)


def test_report_displays_are_text_in_words():
    p = tabular.check_parameters(losses=["bce", "focal"], n_repeats=2)
    frame = _frame({"mlp+bce": 0.0, "mlp+focal": 0.08})
    frame["f1@0.5"] = 0.5
    scores = tabular.score_table(frame, metrics=["roc_auc", "f1@0.5"])
    shown = tabular.score_display(scores, ["roc_auc", "f1@0.5"])
    assert list(shown.columns) == ["ROC-AUC", "F1 @0.5"] and list(shown.index) == ["mlp+bce", "mlp+focal"]
    assert shown.loc["mlp+focal", "ROC-AUC"] == scores["mlp+focal"]["roc_auc"].format(3)
    comparisons = tabular.compare_to_reference(frame, p)
    table = tabular.comparison_display(comparisons)
    assert table.index.names == ["configuration", "metric"] and ("mlp+focal", "ROC-AUC") in table.index
    assert list(table.columns) == ["difference [CI]", "p", "p (Holm)", "verdict", "MDE"]
    collapse = {"mlp+bce": {"at_0.5": Estimate(0.0, 0.0, 0.3, 10, "clopper_pearson"),
                            "at_tuned": Estimate(0.1, 0.0, 0.4, 10, "clopper_pearson")}}
    assert tabular.collapse_display(collapse).loc["mlp+bce", "single class at 0.5"] == collapse["mlp+bce"][
        "at_0.5"].format(2)


def test_data_facts_and_baseline_text(tmp_path):
    table = tabular.load_table(_write(_toy(), tmp_path), label="y")
    summary = tabular.data_summary(table)
    facts = tabular.data_facts(table, summary)
    assert facts.loc["rows", ""] == 120 and facts.loc["group column (groups)", ""] == "none"
    assert facts.loc["prevalence", ""] == f"{summary['prevalence']:.3f}"
    text = tabular.baseline_text(summary)
    assert f"F1 {summary['all_positive']['f1']:.3f}" in text and "must beat these" in text
