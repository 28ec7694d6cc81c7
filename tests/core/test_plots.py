"""lossbook.core.plots: every figure draws, returns its axes, saves, and checks its input."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402

from lossbook.core import metrics, plots  # noqa: E402


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
    assert labels[0].startswith("BCE (AUC") and "±" in labels[0]  # code names in words
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
    assert texts[0] == "50\n83%"
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
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"paper", "BCE", "focal"}
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
    mean_line = [ln for ln in axes[0].lines if ln.get_label() == "BCE (training)"][0]
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
    assert metrics.expected_calibration_error(yy, q) < 0.02
    assert metrics.expected_calibration_error(yy, 0.5 + 0.1 * (q - 0.5)) > 0.15


# ------------------------------------------------------------ figures drawn for the page
def test_label_turns_code_names_and_tuples_into_words():
    assert plots.label(("mlp", "bce")) == "MLP, BCE"
    assert plots.label("leak_free") == "leak-free"
    assert plots.label("score_spread") == "score spread"


def test_one_palette_for_every_plot():
    assert set(plots.LOSS_COLORS.values()) - {plots.REFERENCE} <= set(plots.PALETTE)
    assert plots.color_for("something else", 2) == plots.PALETTE[2]
    assert [c.lower() for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]] == \
        [c.lower() for c in plots.PALETTE]
    fig, ax = plots.bar_with_errors([0.3, 0.5], labels=["a", "b"])
    assert matplotlib.colors.to_hex(ax.patches[0].get_facecolor()).lower() == plots.PALETTE[0].lower()


def _every_plot():
    """Each plotting function of the module with small inputs, as a chapter would call it."""
    h = {"loss": [1.0, 0.8, 0.6], "val_loss": [1.1, 0.9, 0.85], "auc": [0.6, 0.7, 0.8], "val_auc": [0.6, 0.65, 0.7]}
    y, p = folds(k=1, n=400)[0]
    means = pd.DataFrame({"bce": [0.8, 0.7, 0.6], "focal": [0.75, 0.72, 0.5], "dice": [0.5, 0.4, 0.3]},
                         index=pd.MultiIndex.from_tuples([("mlp", "leaky"), ("cnn", "leaky"), ("lstm", "leaky")]))
    mats = {(model, loss): np.array([[50, 10], [5, 15]]) for model in ("mlp", "cnn", "lstm")
            for loss in ("bce", "focal", "dice")}
    five = [np.arange(25).reshape(5, 5)] * 3
    fold_rows = pd.DataFrame([{"model": m, "loss": loss, "y_true": t, "y_prob": q}
                              for m in ("mlp", "simplenn") for loss in ("bce", "focal") for t, q in folds(k=3)])
    from lossbook.core.estimate import Estimate

    rng = np.random.default_rng(0)
    points = rng.normal(size=(200, 2))
    labels = (points[:, 0] > 1).astype(int)
    return {
        "roc_pr": plots.roc_pr_curves({"bce": folds(0), "focal": folds(1)})[0],
        "bars": plots.bar_with_errors(means, err=means * 0.1, reference=means + 0.05, ylabel="F1")[0],
        "curves": plots.training_curves({"bce": [h, h], "focal": h}, metrics=("loss", "auc"))[0],
        "reliability": plots.reliability_diagram({"bce": (y, p), "focal": (y, p ** 2)})[0],
        "confusion_by_protocol": plots.confusion_panels(mats)[0],
        "confusion_five_classes": plots.confusion_grid(
            five, ["BCE", "weighted CE", "focal CE"],
            class_names=("Blackheads", "Cyst", "Papules", "Pustules", "Whiteheads"))[0],
        "mean_roc_grid": plots.mean_roc_grid({"leak-free": fold_rows, "paper protocol": fold_rows},
                                             ["mlp", "simplenn"], ["bce", "focal"]),
        "loss_curves": plots.loss_curves(np.linspace(0.01, 0.99, 50), [
            ("BCE", "bce", {}, plots.LOSS_COLORS["bce"], "-"),
            ("focal γ=2", "focal", {"gamma": 2.0, "alpha": None}, plots.LOSS_COLORS["focal"], "-")]),
        "decision_regions": plots.decision_regions(
            lambda grid: np.stack([1 / (1 + np.exp(-grid[:, 0])), 1 / (1 + np.exp(-grid[:, 1]))]),
            points, labels, ["first", "second"], marked=points[:, 1] > 1.5, resolution=40),
        "waterfalls": plots.waterfalls({"ROC-AUC": (0.75, {"step one": Estimate(0.1, 0.05, 0.15),
                                                           "step two": Estimate(-0.02, -0.05, 0.01)}, 0.9)},
                                       start_label="start", end_label="end"),
    }


def test_every_plot_is_drawn_for_the_page(tmp_path, monkeypatch):
    """Each saved figure fits the text column and its smallest text reads at >= 9 pt, measured in the file."""
    monkeypatch.setenv("LOSSBOOK_OUTPUT_DIR", str(tmp_path))
    for name, fig in _every_plot().items():
        saved = plots.save_figure(fig, "unit", name, glue_key="")
        measured = plots.measure_saved_figure(saved.path)
        assert saved.path.suffix == ".svg" and not plt.fignum_exists(fig.number), name
        assert measured["display_width_px"] <= plots.COLUMN_PX + 0.5, (name, measured)
        assert measured["width_in"] == pytest.approx(saved.width_in, rel=1e-3), name
        assert measured["min_font_pt"] >= plots.MIN_FONT_PT - 1e-6, (name, measured)
        assert measured["min_font_pt"] == pytest.approx(saved.min_font_pt, rel=1e-3), name


def test_axis_labels_are_words_never_tuples():
    figs = _every_plot()
    bars = figs["bars"].axes[0]
    ticks = [t.get_text() for t in bars.get_xticklabels()]
    assert ticks == ["MLP, leaky", "CNN, leaky", "LSTM, leaky"]
    for name, fig in figs.items():
        texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
        assert not any("('" in t or "_" in t for t in texts), (name, [t for t in texts if "('" in t or "_" in t])


def test_confusion_panels_one_grid_rows_and_columns_in_words():
    mats = {("mlp", "bce"): np.array([[50, 10], [5, 15]]), ("mlp", "dice"): np.array([[0, 60], [0, 20]]),
            ("cnn", "bce"): np.eye(2, dtype=int)}
    fig, axes = plots.confusion_panels(mats)
    assert axes.shape == (2, 2)
    assert [a.get_title() for a in axes[0]] == ["BCE", "Dice"] and axes[1, 0].get_title() == ""
    assert axes[0, 0].get_ylabel() == "MLP\ntrue" and axes[1, 0].get_ylabel() == "CNN\ntrue"
    assert not axes[1, 1].axison  # (cnn, dice) was not given
    # tick labels once per row/column, so neighbouring panels never run together
    assert [t.get_text() for t in axes[0, 1].get_yticklabels()] == ["", ""]
    assert [t.get_text() for t in axes[1, 0].get_xticklabels()] == ["negative", "positive"]
    with pytest.raises(ValueError, match=r"\(row, column\) pairs"):
        plots.confusion_panels({"mlp": np.eye(2)})


def test_save_figure_sizes_glues_and_refuses_small_text(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_OUTPUT_DIR", str(tmp_path))
    fig, ax = plt.subplots(figsize=(13, 4))  # drawn too wide, as the chapters used to
    ax.plot([0, 1], [0, 1], label="line")
    ax.legend()
    saved = plots.save_figure(fig, "unit", "wide.png", glue_key="")  # suffix replaced: SVG by default
    assert saved.path == tmp_path / "figures" / "unit" / "wide.svg"
    assert saved.width_in <= plots.PAGE_WIDTH_IN + 1e-3 and saved.display_scale == 1.0
    # a legend placed outside the axes widens the saved box: the figure is narrowed so the file still fits
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a legend entry long enough to stick out")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    saved = plots.save_figure(fig, "unit", "outside_legend", glue_key="")
    assert saved.width_in <= plots.PAGE_WIDTH_IN + 1e-3 and saved.display_scale == 1.0
    assert "<text" in saved.path.read_text()  # text kept as text
    # raster: a PNG at twice the density, carrying its measured font size
    fig, ax = plt.subplots()
    ax.imshow(np.random.default_rng(0).uniform(size=(50, 50)))
    saved = plots.save_figure(fig, "unit", "image", raster=True, glue_key="")
    measured = plots.measure_saved_figure(saved.path)
    assert saved.path.suffix == ".png" and measured["min_font_pt"] == pytest.approx(saved.min_font_pt, abs=0.01)
    from PIL import Image

    with Image.open(saved.path) as image:
        assert image.size[0] == pytest.approx(saved.width_in * plots.RASTER_DPI, abs=2)
    # too-small text is refused, naming the figure, and nothing is written
    fig, ax = plt.subplots()
    ax.set_xlabel("tiny", fontsize=6)
    with pytest.raises(ValueError, match=r"'tiny_text' of chapter 'unit'.*6.0 pt"):
        plots.save_figure(fig, "unit", "tiny_text")
    assert not (tmp_path / "figures" / "unit" / "tiny_text.svg").exists()
    assert not list((tmp_path / "figures" / "unit").glob(".*"))
    with pytest.raises(ValueError, match="width_in"):
        plots.save_figure(plt.figure(), "unit", "x", width_in=9)
    with pytest.raises(ValueError, match="not written by lossbook"):
        fig = plt.figure()
        fig.savefig(tmp_path / "plain.png")
        plots.measure_saved_figure(tmp_path / "plain.png")


def test_save_figure_glues_the_saved_svg(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_OUTPUT_DIR", str(tmp_path))
    glued = {}
    monkeypatch.setattr("myst_nb.glue", lambda key, value, display=True: glued.update({key: (value, display)}))
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    saved = plots.save_figure(fig, "unit", "line")
    value, display = glued["fig_unit_line"]
    assert saved.glue_key == "fig_unit_line" and display is False
    assert value._repr_svg_().strip().startswith("<svg")
    # a chapter cell ending with save_figure(...) shows nothing (no path on the page)
    from IPython.core.interactiveshell import InteractiveShell

    assert InteractiveShell.instance().display_formatter.format(saved) == ({}, {})


def test_shades_run_from_light_to_the_palette_colour():
    tones = plots.shades(plots.LOSS_COLORS["focal"], 4)
    assert len(tones) == 4 and tones[-1].lower() == plots.LOSS_COLORS["focal"].lower()
    lightness = [sum(matplotlib.colors.to_rgb(t)) for t in tones]
    assert lightness == sorted(lightness, reverse=True)
    with pytest.raises(ValueError, match="n must be"):
        plots.shades("#000000", 0)


def test_log_axis_labels_read_at_full_size(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_OUTPUT_DIR", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([1e-3, 1e-1, 1.0], [0.2, 0.5, 0.9])
    ax.set_xscale("log")
    with pytest.raises(ValueError, match="plots.log_axis"):  # 10^{-2}: exponents below 9 pt
        plots.save_figure(fig, "unit", "log_default", glue_key="")
    fig, ax = plt.subplots()
    ax.plot([1e-3, 1e-1, 1.0], [0.2, 0.5, 0.9])
    plots.log_axis(ax, "x")
    saved = plots.save_figure(fig, "unit", "log_plain", glue_key="")
    assert saved.min_font_pt >= plots.MIN_FONT_PT and ax.get_xscale() == "log"


def test_long_tick_labels_wrapped_fit_the_page(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_OUTPUT_DIR", str(tmp_path))
    labels = ["focal as in the tutorial (alpha 0.25 on every example, gamma 2)",
              "BCE, threshold chosen by F1 on a validation split", "BCE"]
    assert plots.wrap(labels[0]).count("\n") == 2 and plots.wrap("BCE") == "BCE"

    def draw(names):
        fig, axes = plt.subplots(1, 2, figsize=(13, 2.6), sharey=True)
        for ax in axes:
            ax.boxplot([np.linspace(0, 1, 5)] * 3, orientation="horizontal")
            ax.set_yticks(range(1, 4), names)
        return fig

    saved = plots.save_figure(draw([plots.wrap(n) for n in labels]), "unit", "wrapped_labels", glue_key="")
    assert saved.display_scale == 1.0 and saved.min_font_pt >= plots.MIN_FONT_PT


def test_config_label_takes_a_pair_or_a_joined_name():
    assert plots.config_label("simplenn", "focal") == plots.config_label("simplenn+focal") == "SimpleNN + focal"
    assert plots.config_label("mlp") == "MLP"


def test_waterfall_bars_end_where_the_steps_take_them():
    from lossbook.core.estimate import Estimate

    fig = plots.waterfalls({"F1": (0.5, {"up": Estimate(0.2, 0.1, 0.3), "down": Estimate(-0.1, -0.2, 0.0)}, 0.7)})
    bars = fig.axes[0].patches
    assert [round(b.get_y() + b.get_height(), 6) for b in bars] == [0.5, 0.7, 0.7, 0.7]
    assert round(bars[2].get_y(), 6) == 0.6  # the step down floats from 0.7 to 0.6
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["start", "up", "down", "end"]
    plt.close(fig)


def test_reliability_panels_draw_one_panel_each_and_fit_the_page(tmp_path, monkeypatch):
    from lossbook.core.metrics import reliability_curve

    monkeypatch.setenv("LOSSBOOK_OUTPUT_DIR", str(tmp_path))
    plots.set_style()
    rng = np.random.default_rng(0)
    p = rng.random(400)
    y = (rng.random(400) < p).astype(int)
    fig, axes = plots.reliability_panels({"before": {"bce": (y, p), "focal": (y, p ** 2)},
                                          "after": {"bce": (y, np.sqrt(p))}}, n_bins=5)
    assert len(axes) == 2 and [ax.get_title() for ax in axes] == ["before", "after"]
    curve = reliability_curve(y, p, n_bins=5)
    bce = axes[0].get_lines()[1]  # after the diagonal
    assert bce.get_label() == "BCE"
    np.testing.assert_allclose(bce.get_ydata(), curve.loc[curve["count"] > 0, "frequency"])
    saved = plots.save_figure(fig, "unit", "reliability_panels", glue_key="")
    assert saved.min_font_pt >= plots.MIN_FONT_PT and saved.display_scale == 1.0
    with pytest.raises(ValueError, match="panels"):
        plots.reliability_panels({})


def test_histogram_grid_shares_bins_within_a_panel_and_uses_unit_bins_for_counts():
    rng = np.random.default_rng(0)
    panels = {
        "found": {"a": (np.array([0, 1, 1, 3]), plots.PALETTE[0]), "b": (np.array([2, 2, 5]), plots.PALETTE[1])},
        "score": {"a": (rng.random(50), plots.PALETTE[0]), "b": (rng.random(50), plots.PALETTE[1])},
        "other": {"a": (rng.random(10), plots.PALETTE[0])},
    }
    fig, axes = plots.histogram_grid(panels, discrete=["found"], n_bins=11)
    assert axes.shape == (2, 2) and not axes[1, 1].get_visible()
    found_edges = {round(p.get_x(), 6) for p in axes[0, 0].patches}
    assert found_edges == {x - 0.5 for x in range(6)}  # unit bins 0..5, shared by both series
    assert len(axes[0, 1].patches) == 2 * 10  # 11 edges: 10 bins per series
    assert axes[0, 0].get_xlabel() == "found" and axes[1, 0].get_ylabel() == "count"
    assert [t.get_text() for t in axes[0, 0].get_legend().get_texts()] == ["a", "b"]
    plt.close(fig)
    with pytest.raises(ValueError, match="non-empty"):
        plots.histogram_grid({})


def test_bar_panels_stack_one_panel_per_entry_with_one_legend():
    means = pd.DataFrame({"bce": [0.5, 0.6], "focal": [0.55, 0.7]}, index=["MLP", "CNN"])
    panels = {name: {"means": means, "err": means * 0.1, "reference": means + 0.05, "line": 0.4}
              for name in ("leak-free", "leaky")}
    fig = plots.bar_panels(panels, ylabel="F1", ylim=(0, 1.05))
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["leak-free", "leaky"]
    assert axes[0].get_legend() is not None and axes[1].get_legend() is None
    assert any(tuple(line.get_ydata()) == (0.4, 0.4) for line in axes[1].get_lines())  # the dotted floor
    assert axes[0].get_ylim() == (0, 1.05) and axes[0].get_ylabel() == "F1"


def test_mean_history_grid_draws_the_mean_up_to_the_shortest_run():
    runs = [{"loss": [1.0, 0.5, 0.2], "val_loss": [1.2, 0.8, 0.6], "val_auc": [0.5, 0.6, 0.7]},
            {"loss": [0.8, 0.3], "val_loss": [1.0, 0.6], "val_auc": [0.6, 0.8]}]
    fig = plots.mean_history_grid({"MLP": {"bce": runs, "focal": runs}, "CNN": {"bce": runs}})
    axes = np.array(fig.axes).reshape(2, 2)
    solid, dashed = axes[0, 0].get_lines()[:2]
    assert list(solid.get_xdata()) == [1, 2] and np.allclose(solid.get_ydata(), [0.9, 0.4])
    assert dashed.get_linestyle() == "--" and np.allclose(dashed.get_ydata(), [1.1, 0.7])
    assert len(axes[0, 1].get_lines()) == 2 and axes[0, 1].get_ylabel() == "validation ROC-AUC"
    assert axes[0, 0].get_legend() is not None and axes[1, 0].get_xlabel() == "epoch" and axes[0, 0].get_xlabel() == ""
    assert axes[1, 1].get_title() == "CNN"
