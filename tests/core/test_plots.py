"""lossbook.core.plots: every figure draws, returns its axes, saves, and checks its input."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402

from lossbook.core import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    plots.set_style()
    yield
    plt.close("all")


def folds(seed=0, k=3, n=60):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(k):
        y = (rng.uniform(size=n) < 0.3).astype(int)
        y[:2] = [0, 1]
        out.append((y, np.clip(0.35 * y + rng.uniform(0, 0.65, n), 0, 1)))
    return out


def test_mean_curves_agree_with_sklearn():
    f = folds()
    c = plots.mean_curves(f)
    assert c["tpr"].shape == (3, len(plots.CURVE_GRID))
    np.testing.assert_allclose(c["roc_auc"], [roc_auc_score(y, p) for y, p in f])
    np.testing.assert_allclose(c["pr_auc"], [average_precision_score(y, p) for y, p in f])
    # area under the interpolated mean ROC is close to the mean AUC
    assert np.trapezoid(c["tpr"].mean(axis=0), c["grid"]) == pytest.approx(c["roc_auc"].mean(), abs=0.02)
    assert np.all(np.diff(c["tpr"], axis=1) >= -1e-12)  # ROC is monotone
    assert np.all(np.diff(c["precision"], axis=1) <= 1e-12)  # interpolated precision falls with recall


def test_roc_pr_curves(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_OUTPUT_DIR", str(tmp_path))
    fig, (roc_ax, pr_ax) = plots.roc_pr_curves({"bce": folds(0), "focal": folds(1)})
    labels = [t.get_text() for t in roc_ax.get_legend().get_texts()]
    assert labels[0].startswith("bce (AUC") and "±" in labels[0]
    assert len(roc_ax.collections) == 2  # one band per group
    path = plots.save(fig, "unit", "curves")
    assert path == tmp_path / "figures" / "unit" / "curves.png" and path.stat().st_size > 1000
    fig2, axes = plt.subplots(1, 2)
    out_fig, _ = plots.roc_pr_curves(folds(2), ax=axes, band="range")
    assert out_fig is fig2
    with pytest.raises(ValueError, match="both classes"):
        plots.roc_pr_curves({"x": [(np.zeros(5), np.ones(5))]})
    with pytest.raises(ValueError, match="band"):
        plots.roc_pr_curves(folds(), band="ci")


def test_confusion_grid():
    mats = [np.array([[50, 10], [5, 15]]), np.array([[0, 60], [0, 20]]), np.eye(2, dtype=int)]
    fig, axes = plots.confusion_grid(mats, ["bce", "dice", "x"], ncols=2, normalize=True)
    assert axes.shape == (2, 2)
    texts = [t.get_text() for t in axes[0, 0].texts]
    assert texts[0] == "50\n(83%)"
    assert not axes[1, 1].axison  # unused panel hidden
    with pytest.raises(ValueError, match="one title per matrix"):
        plots.confusion_grid(mats, ["a"])
    with pytest.raises(ValueError, match=r"expected \(3, 3\)"):
        plots.confusion_grid(mats[:1], ["a"], class_names=["a", "b", "c"])


def test_bar_with_errors_grouped_with_reference():
    means = pd.DataFrame({"bce": [0.8, 0.7], "focal": [0.75, 0.72]}, index=["MLP", "CNN"])
    low, high = means - 0.05, means + 0.04
    paper = pd.DataFrame({"bce": [0.9, np.nan], "focal": [0.94, 0.93]}, index=means.index)
    fig, ax = plots.bar_with_errors(means, ci_low=low, ci_high=high, reference=paper, ylabel="F1")
    assert len(ax.patches) == 4
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == sorted(means.to_numpy().ravel())
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"paper", "bce", "focal"}
    markers = [c for c in ax.collections if isinstance(c, matplotlib.collections.PathCollection)]
    assert [len(c.get_offsets()) for c in markers] == [1, 2]  # the NaN reference is skipped
    fig, ax = plots.bar_with_errors([0.3, 0.5], err=[0.1, 0.1], labels=["a", "b"], reference=0.4,
                                    reference_label="all-positive F1")
    assert any(line.get_linestyle() == "--" for line in ax.lines)
    with pytest.raises(ValueError, match="err has shape"):
        plots.bar_with_errors([0.3, 0.5], err=[0.1])
    with pytest.raises(ValueError, match="both ci_low and ci_high"):
        plots.bar_with_errors([0.3, 0.5], ci_low=[0.1, 0.2])


def test_training_curves_forms():
    h1 = {"loss": [1.0, 0.8, 0.6], "val_loss": [1.1, 0.9, 0.85], "auc": [0.6, 0.7, 0.8]}
    h2 = {"loss": [0.9, 0.7], "val_loss": [1.0, 0.95], "auc": [0.6, 0.75]}
    fig, ax = plots.training_curves(h1)
    assert len(ax.lines) == 2
    fig, axes = plots.training_curves({"bce": [h1, h2], "focal": h1}, metrics=("loss", "auc"))
    assert len(axes) == 2
    mean_line = [ln for ln in axes[0].lines if ln.get_label() == "bce (training)"][0]
    np.testing.assert_allclose(mean_line.get_ydata(), [0.95, 0.75])  # truncated to the shortest fold
    with pytest.raises(ValueError, match="no 'accuracy'"):
        plots.training_curves(h1, metrics=("accuracy",))


def test_reliability_diagram():
    y, p = folds(k=1, n=400)[0]
    fig, ax = plots.reliability_diagram({"bce": (y, p)}, n_bins=5)
    assert "ECE" in ax.get_legend().get_texts()[1].get_text()
    # a calibrated score has small ECE; a squashed one does not
    rng = np.random.default_rng(0)
    q = rng.uniform(size=20000)
    yy = (rng.uniform(size=20000) < q).astype(int)
    assert plots.expected_calibration_error(yy, q) < 0.02
    assert plots.expected_calibration_error(yy, 0.5 + 0.1 * (q - 0.5)) > 0.15
