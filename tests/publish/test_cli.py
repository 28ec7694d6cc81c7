"""`python -m lossbook study` and `python -m lossbook compare` from the command line."""
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
import pytest

from lossbook.__main__ import main
from lossbook.publish.cli import COMPARE_EXIT_CODES
from lossbook.studies import tabular


@pytest.fixture
def breast_cancer_csv(tmp_path):
    path = tmp_path / "bc.csv"
    tabular.breast_cancer_example().to_csv(path, index=False)
    return path


# -- study ---------------------------------------------------------------------------------


def test_study_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["study", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for option in ("--label", "--group", "--positive", "--drop-non-numeric", "--losses", "--models", "--baselines",
                   "--smote", "--no-smote", "--profile", "--folds", "--repeats", "--threshold-metric", "--seed",
                   "--output-dir", "--executor", "--scheduler", "--workers"):
        assert option in text


@pytest.mark.parametrize("argv, message", [
    (["--label", "diagnosis"], "--label 'diagnosis' is not a column"),
    (["--label", "malignant", "--group", "site"], "column 'site' (--group) holds a single group"),
    (["--label", "malignant", "--losses", "focal"], "--losses must include 'bce'"),
    (["--label", "malignant", "--folds", "1"], "--folds must be an integer"),
    (["--label", "malignant", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --executor dask"),
    (["--label", "malignant", "--folds", "12", "--no-smote"], "fewer than the 12 folds"),
])
def test_study_refuses_bad_input_before_training(breast_cancer_csv, tmp_path, capsys, argv, message):
    frame = pd.read_csv(breast_cancer_csv)
    frame["site"] = 1  # a group column with a single group (numeric, so it is no text feature)
    frame = frame.drop(index=frame.index[frame.malignant == 1][10:])  # 10 malignant rows: fewer than 12 folds
    frame.to_csv(breast_cancer_csv, index=False)
    out = tmp_path / "out"
    assert main(["study", str(breast_cancer_csv), *argv, "--output-dir", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()  # nothing half-written


@pytest.mark.slow
def test_study_writes_notebook_report_and_results(breast_cancer_csv, tmp_path, capsys, isolated_cache):
    out = tmp_path / "out"
    code = main(["study", str(breast_cancer_csv), "--label", "malignant", "--profile", "quick", "--losses", "bce,focal",
                 "--baselines", "lr", "--repeats", "1", "--folds", "3", "--output-dir", str(out)])
    assert code == 0, capsys.readouterr().err
    results = json.loads((out / "results" / "study.json").read_text())
    assert results["parameters"]["data"] == "bc.csv" and results["parameters"]["max_epochs"] == 30
    assert set(results["results"]["comparisons"]) == {"mlp+focal", "lr"}
    answer = results["results"]["answer"]
    assert answer.startswith("On these 397 rows (40 positive")
    report = (out / "study.html").read_text()
    assert answer.split(" (")[0] in report and report.count("data:image/png;base64") >= 3
    assert "import " not in report  # code is not shown
    assert (out / "study.ipynb").is_file()


# -- compare -------------------------------------------------------------------------------


def _predictions(tmp_path, name, y, prob, fold=None):
    frame = pd.DataFrame({"y_true": y, "prob": prob})
    if fold is not None:
        frame["fold"] = fold
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def runs(tmp_path):
    rng = np.random.default_rng(0)
    y = (rng.random(600) < 0.2).astype(int)
    weak = np.clip(0.2 + 0.15 * y + 0.25 * rng.random(600), 0, 1)
    strong = np.clip(0.1 + 0.6 * y + 0.2 * rng.random(600), 0, 1)
    noisy = np.clip(weak + 0.001 * rng.normal(size=600), 0, 1)
    return {name: _predictions(tmp_path, name, y, p) for name, p in
            (("weak", weak), ("strong", strong), ("noisy", noisy))}


def test_compare_exit_code_gates_on_whether_b_is_detectably_better(runs, capsys):
    assert main(["compare", str(runs["weak"]), str(runs["strong"]), "--n-boot", "200"]) == COMPARE_EXIT_CODES["better"] == 0
    assert "gate on ROC-AUC: B (strong) is detectably better than A (weak); exit code 0" in capsys.readouterr().out
    assert main(["compare", str(runs["strong"]), str(runs["weak"]), "--n-boot", "200"]) == 3
    assert main(["compare", str(runs["weak"]), str(runs["noisy"]), "--n-boot", "200"]) == 1


def test_compare_writes_json_and_html(runs, tmp_path):
    target_json, target_html = tmp_path / "v.json", tmp_path / "v.html"
    code = main(["compare", str(runs["weak"]), str(runs["strong"]), "--n-boot", "200", "--metric", "pr_auc",
                 "--json", str(target_json), "--html", str(target_html), "--names", "old,new"])
    data = json.loads(target_json.read_text())
    assert data["gate"] == {"metric": "pr_auc", "decision": "better", "exit_code": code}
    assert data["names"] == ["old", "new"] and data["metrics"]["pr_auc"]["diff"] > 0
    html = target_html.read_text()
    assert "new (B) vs old (A)" in html and "data:image/png;base64" in html


def test_compare_with_folds_uses_the_corrected_t_test(tmp_path, capsys):
    rng = np.random.default_rng(1)
    y = np.tile([0, 0, 0, 1], 100)
    fold = np.repeat(np.arange(5), 80)
    a = _predictions(tmp_path, "a", y, np.clip(0.3 + 0.2 * y + 0.3 * rng.random(400), 0, 1), fold)
    b = _predictions(tmp_path, "b", y, np.clip(0.2 + 0.5 * y + 0.3 * rng.random(400), 0, 1), fold)
    assert main(["compare", str(a), str(b)]) == 0
    assert "corrected resampled t-test over 5 folds" in capsys.readouterr().out


def test_compare_bad_input_exits_2_naming_the_problem(runs, tmp_path, capsys):
    short = _predictions(tmp_path, "short", [0, 1, 0], [0.1, 0.9, 0.2])
    assert main(["compare", str(runs["weak"]), str(short)]) == 2
    assert "must be predictions for the same examples" in capsys.readouterr().err
    assert main(["compare", str(runs["weak"]), str(tmp_path / "missing.csv")]) == 2
    assert "no such predictions file" in capsys.readouterr().err
