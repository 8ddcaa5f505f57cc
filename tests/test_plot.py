"""Every plot renders to a PNG headless, draws what it promises, and refuses bad input."""

import os
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import tinynet  # noqa: E402
from tinynet import plot  # noqa: E402
from tinynet.callbacks import History, Recorder  # noqa: E402
from tinynet.layers import Activation, BatchNormalization, Dense  # noqa: E402
from tinynet.models import Sequential  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def build(with_bn):
    layers = [Dense(8, input_shape=(4,))]
    if with_bn:
        layers.append(BatchNormalization())
    layers += [Activation("tanh"), Dense(6, activation="relu"), Dense(1, activation="sigmoid")]
    model = Sequential(layers)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def runs():
    """Histories and recorders of a small model trained with and without BN."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float32)
    histories, recorders = {}, {}
    for with_bn, label in ((True, "with BN"), (False, "without BN")):
        tinynet.set_seed(0)
        recorder = Recorder(every=2, histograms=True, per_unit=True)
        histories[label] = build(with_bn).fit(x, y, batch_size=16, epochs=3, verbose=0,
                                              validation_split=0.25, callbacks=[recorder])
        recorders[label] = recorder
    return histories, recorders


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def assert_png(path):
    with open(path, "rb") as file:
        assert file.read(8) == PNG_MAGIC
    assert [name for name in os.listdir(os.path.dirname(path)) if name.startswith(".")] == []


def test_importing_tinynet_does_not_import_matplotlib():
    code = "import sys, tinynet, tinynet.callbacks; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_with_and_without_bn_get_their_fixed_colours():
    assert plot.color_for("with BN") == plot.COLORS[0]
    assert plot.color_for("BN, lr 0.1") == plot.COLORS[0]
    assert plot.color_for("without BN") == plot.COLORS[1]
    assert plot.color_for("no BN") == plot.COLORS[1]
    assert plot.color_for("plain") == plot.COLORS[1]
    assert plot.color_for("no normalization") == plot.COLORS[1]


def test_each_kind_of_normalization_has_its_own_colour_in_every_lesson():
    kinds = ["with BN", "without BN", "LayerNorm", "GroupNorm"]
    colors = [plot.color_for(kind) for kind in kinds]
    assert colors == [plot.KIND_COLORS[kind] for kind in kinds]
    assert len(set(colors)) == 4
    assert plot.color_for("BN + dropout") == plot.KIND_COLORS["with BN"]
    other = plot.color_for("dropout")
    assert other not in colors and other == plot.color_for("dropout")


def test_the_classroom_style_is_readable_from_the_back_of_a_room():
    style = plot.STYLE
    assert style["axes.titlesize"] >= 14 and style["figure.titlesize"] >= 14
    for key in ("axes.labelsize", "xtick.labelsize", "ytick.labelsize", "legend.fontsize",
                "font.size"):
        assert style[key] >= 12, key


def test_use_style_makes_the_classroom_style_the_default():
    with matplotlib.rc_context():
        plot.use_style()
        assert plt.rcParams["legend.fontsize"] == plot.STYLE["legend.fontsize"]
        assert plt.rcParams["axes.titlesize"] == plot.STYLE["axes.titlesize"]


def test_a_setting_value_has_one_colour_and_neighbours_differ():
    colors = [plot.setting_color("momentum", m) for m in (0.5, 0.9, 0.99, 0.999)]
    assert len(set(colors)) == 4
    assert plot.setting_color("momentum", 0.99) == plot.setting_color("momentum", "0.99")
    batch = [plot.setting_color("batch_size", b) for b in (2, 4, 8, 16, 32, 64, 128)]
    assert len(set(batch)) == len(batch)
    assert all(c not in (plot.BLUE, plot.ORANGE) for c in colors + batch)


@pytest.mark.parametrize("setting, value, error, name", [
    ("speed", 1, ValueError, "momentum"),
    ("momentum", 1.0, ValueError, "momentum"),
    ("batch_size", 0, ValueError, "batch_size"),
    ("learning_rate", "fast", TypeError, "value"),
])
def test_setting_color_refuses_what_it_cannot_place(setting, value, error, name):
    with pytest.raises(error, match=name):
        plot.setting_color(setting, value)


def test_loss_curves_draw_a_solid_and_a_dashed_line_per_run(runs, tmp_path):
    histories, _ = runs
    path = tmp_path / "loss.png"
    fig = plot.loss_curves(histories, path=path)
    ax = fig.axes[0]
    assert len(ax.lines) == 4
    assert [line.get_linestyle() for line in ax.lines] == ["-", "--", "-", "--"]
    assert ax.lines[0].get_color() == ax.lines[1].get_color() == plot.COLORS[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), histories["with BN"].history["loss"])
    assert ax.get_xlabel() == "epoch" and ax.get_title()
    assert len(ax.get_legend().get_texts()) == 4
    assert_png(str(path))


def test_loss_curves_accept_dicts_and_arrays_and_can_hide_validation():
    fig = plot.loss_curves({"a": {"loss": [3, 2, 1]}, "b": np.array([2.0, 1.5])}, val=False)
    assert len(fig.axes[0].lines) == 2


def test_step_curves_draw_one_line_per_run_with_a_log_axis(runs):
    _, recorders = runs
    curves = {label: (r.steps, r.get("dense", "grad_norm/kernel"))
              for label, r in recorders.items()}
    fig = plot.step_curves(curves, ylabel="gradient norm", logy=True)
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "training step"


def test_gradient_flow_has_a_panel_per_recorder_and_a_line_per_dense_layer(runs, tmp_path):
    _, recorders = runs
    fig = plot.gradient_flow(recorders, path=tmp_path / "flow.png")
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert len(ax.lines) == 3  # dense, dense_1, dense_2
        assert ax.get_yscale() == "log"
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(),
                               recorders["with BN"].get("dense", "grad_norm/kernel"))
    assert_png(str(tmp_path / "flow.png"))


def test_gradient_flow_takes_a_single_recorder_and_any_key(runs):
    _, recorders = runs
    fig = plot.gradient_flow(recorders["with BN"], key="grad_input_norm")
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 5  # every layer has dL/dx


def test_gradient_flow_bars_draw_a_bar_per_layer_and_chosen_step(runs):
    _, recorders = runs
    fig = plot.gradient_flow_bars(recorders, step_index=[0, -1])
    ax = fig.axes[0]
    assert len(ax.containers) == 4  # 2 recorders x 2 steps
    assert all(len(bars) == 3 for bars in ax.containers)
    heights = [bar.get_height() for bar in ax.containers[0]]
    want = [recorders["with BN"].get(name, "grad_norm/kernel")[0]
            for name in ("dense", "dense_1", "dense_2")]
    np.testing.assert_allclose(heights, want)


def test_update_ratios_draw_a_line_per_layer_and_the_reference(runs):
    _, recorders = runs
    fig = plot.update_ratios(recorders)
    assert [len(ax.lines) for ax in fig.axes] == [3 + 1, 3 + 1]  # Dense layers + reference
    assert fig.axes[0].lines[-1].get_ydata()[0] == -3
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata()[1:], np.log10(
        recorders["without BN"].get("dense", "update_ratio/kernel")[1:]))


def test_a_panel_without_the_parameter_says_so(runs):
    _, recorders = runs
    fig = plot.update_ratios(recorders, param="gamma")
    assert len(fig.axes[0].lines) == 1 + 1  # batch_normalization + the reference
    assert len(fig.axes[1].lines) == 1  # without BN there is no gamma: only the reference
    assert "no layer has" in fig.axes[1].texts[0].get_text()


def test_update_ratios_without_the_parameter_anywhere_is_a_clear_error(runs):
    _, recorders = runs
    with pytest.raises(KeyError, match="update_ratio/gamma"):
        plot.update_ratios(recorders["without BN"], param="gamma")


def test_activation_histograms_draw_one_curve_per_hidden_nonlinear_layer(runs, tmp_path):
    _, recorders = runs
    fig = plot.activation_histograms(recorders, path=tmp_path / "hist.png")
    assert len(fig.axes) == 2
    ax = fig.axes[0]
    assert len(ax.lines) == 2  # tanh and relu; the sigmoid output is left out
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "saturated" in legend[0] and "dead" in legend[1]
    assert_png(str(tmp_path / "hist.png"))


def test_activation_histograms_need_recorded_histograms():
    tinynet.set_seed(0)
    recorder = Recorder(every=1)
    build(False).fit(np.zeros((8, 4)), np.zeros(8), verbose=0, callbacks=[recorder])
    with pytest.raises(KeyError, match="histograms=True"):
        plot.activation_histograms(recorder)


def test_percentile_bands_draw_three_curves_per_panel(runs, tmp_path):
    _, recorders = runs
    fig = plot.percentile_bands(recorders, "activation", path=tmp_path / "bands.png")
    assert len(fig.axes) == 2
    for ax, recorder in zip(fig.axes, recorders.values(), strict=True):
        assert len(ax.lines) == 3
        np.testing.assert_allclose(ax.lines[1].get_ydata(),
                                   recorder.get("activation", "input_p50"))
    assert fig.axes[0].lines[0].get_color() == plot.COLORS[0]
    assert fig.axes[1].lines[0].get_color() == plot.COLORS[1]
    assert_png(str(tmp_path / "bands.png"))


def test_percentile_bands_of_one_unit_use_the_per_unit_percentiles(runs):
    _, recorders = runs
    fig = plot.percentile_bands(recorders, "dense_2", unit=4)
    values = recorders["with BN"].get("dense_2", "input_unit_percentiles")
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), values[:, 2, 4])  # p85
    with pytest.raises(IndexError, match="unit"):
        plot.percentile_bands(recorders, "dense_2", unit=6)


def test_heatmap_writes_every_cell_and_labels_nan_cells(tmp_path):
    values = np.array([[0.9, np.nan, 0.5], [0.1, 0.2, 0.3]])
    fig = plot.heatmap(values, ["a", "b"], [1, 2, 3], "init scale", "learning rate",
                       path=tmp_path / "heat.png", colorbar_label="accuracy")
    ax = fig.axes[0]
    texts = [text.get_text() for text in ax.texts]
    assert len(texts) == 6 and "diverged" in texts and "0.90" in texts
    assert len(fig.axes) == 2  # the heatmap and its colour bar
    assert_png(str(tmp_path / "heat.png"))


def test_heatmaps_share_one_colour_scale():
    grids = {"with BN": np.array([[0.2, 0.4]]), "without BN": np.array([[0.6, 1.0]])}
    fig = plot.heatmaps(grids, ["lr 0.1"], ["x1", "x2"], "init", "lr")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2
    assert all(image.get_clim() == (0.2, 1.0) for image in images)


def test_decision_boundary_draws_regions_and_points(tmp_path):
    tinynet.set_seed(0)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 2))
    y = (x[:, 0] > 0).astype(np.float32)
    model = Sequential([Dense(4, activation="relu", input_shape=(2,)),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    fig = plot.decision_boundary(model, x, y, resolution=30, path=tmp_path / "db.png")
    ax = fig.axes[0]
    assert len(ax.collections) >= 2  # the filled regions and the points of each class
    assert ax.get_xlabel() == "feature 1"
    assert_png(str(tmp_path / "db.png"))


def test_an_axes_can_be_passed_in():
    fig, ax = plt.subplots()
    returned = plot.loss_curves({"run": [1.0, 0.5]}, ax=ax)
    assert returned is fig and len(ax.lines) == 1


@pytest.mark.parametrize("call, error, name", [
    (lambda: plot.loss_curves([1, 2]), TypeError, "runs"),
    (lambda: plot.loss_curves({}), ValueError, "runs"),
    (lambda: plot.loss_curves({"a": {"loss": [1]}}, metric="accuracy"), KeyError, "accuracy"),
    (lambda: plot.loss_curves({"a": "loss"}), TypeError, "History"),
    (lambda: plot.loss_curves({"a": [1]}, ax="left"), TypeError, "Axes"),
    (lambda: plot.step_curves({"a": [1, 2, 3]}, ylabel="x"), TypeError, "steps"),
    (lambda: plot.step_curves({"a": ([1, 2], [1])}, ylabel="x"), ValueError, "values"),
    (lambda: plot.gradient_flow(History()), TypeError, "recorders"),
    (lambda: plot.gradient_flow({"a": Recorder()}), ValueError, "recorded nothing yet"),
    (lambda: plot.heatmap([[1, 2]], ["a", "b"], ["x", "y"], "x", "y"), ValueError, "shape"),
    (lambda: plot.heatmap([[1, 2]], "a", ["x", "y"], "x", "y"), TypeError, "row_labels"),
    (lambda: plot.decision_boundary("model", np.zeros((3, 2)), [0, 1, 0]), TypeError,
     "predict"),
    (lambda: plot.color_for(3), TypeError, "label"),
])
def test_bad_arguments_raise_errors_that_name_them(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_recorder_arguments_are_checked_by_name(runs):
    _, recorders = runs
    with pytest.raises(KeyError, match="dense_9"):
        plot.percentile_bands(recorders, "dense_9")
    with pytest.raises(TypeError, match="step_index"):
        plot.gradient_flow_bars(recorders, step_index="last")
    with pytest.raises(IndexError, match="step_index"):
        plot.gradient_flow_bars(recorders, step_index=99)
    with pytest.raises(ValueError, match="which"):
        plot.activation_histograms(recorders, which="both")


def test_saving_into_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot.loss_curves({"a": [1.0, 0.5]}, path=tmp_path / "missing" / "loss.png")


def test_a_loaded_recorder_plots_like_the_original(runs, tmp_path):
    _, recorders = runs
    recorders["with BN"].save(tmp_path / "run.npz")
    loaded = Recorder.load(tmp_path / "run.npz")
    fig = plot.gradient_flow({"loaded": loaded})
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(),
                               recorders["with BN"].get("dense", "grad_norm/kernel"))


def test_the_example_script_saves_its_three_figures(tmp_path):
    script = os.path.join(os.path.dirname(__file__), "..", "examples", "record_and_plot.py")
    subprocess.run([sys.executable, script, "--out", str(tmp_path), "--epochs", "1"],
                   check=True, capture_output=True, env={**os.environ, "MPLBACKEND": "Agg"})
    assert sorted(os.listdir(tmp_path)) == ["gradient_flow.png", "loss_curves.png",
                                            "percentile_bands.png"]


def test_four_panels_make_a_two_by_two_grid_not_a_strip(runs):
    _, recorders = runs
    four = {f"{label} {k}": r for label, r in recorders.items() for k in (1, 2)}
    fig = plot.gradient_flow(four)
    rows = {round(ax.get_position().y0, 2) for ax in fig.axes}
    assert len(fig.axes) == 4 and len(rows) == 2


def test_layers_option_picks_evenly_spaced_layers(runs):
    _, recorders = runs
    fig = plot.gradient_flow(recorders["with BN"], layers=2)
    assert [line.get_label() for line in fig.axes[0].lines] == ["dense", "dense_2"]
    fig = plot.update_ratios(recorders["with BN"], layers=["dense_1"])
    assert [line.get_label() for line in fig.axes[0].lines][0] == "dense_1"
    assert plot.evenly_spaced(list("abcdefghij"), 4) == ["a", "d", "g", "j"]
    with pytest.raises(TypeError, match="layers"):
        plot.gradient_flow(recorders, layers="all")


def test_activation_histograms_can_use_a_log_density_axis(runs):
    _, recorders = runs
    fig = plot.activation_histograms(recorders, layers=1, logy=True)
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    assert all(len(ax.lines) == 1 for ax in fig.axes)


def test_histograms_draw_one_density_per_entry_on_shared_bins():
    rng = np.random.default_rng(0)
    groups = {"with BN": {"layer 1": rng.normal(0, 1, 500), "layer 2": rng.normal(0, 2, 500)},
              "without BN": {"layer 1": rng.normal(0, 1e-3, 500)}}
    fig = plot.histograms(groups, xlabel="gradient")
    first = fig.axes[0].lines
    assert len(first) == 2
    np.testing.assert_allclose(first[0].get_xdata(), first[1].get_xdata())
    assert "std" in first[0].get_label()
    with pytest.raises(TypeError, match="groups"):
        plot.histograms({"a": [1, 2, 3]}, xlabel="x")


def test_panels_showing_the_same_layers_share_one_legend(runs):
    _, recorders = runs
    fig = plot.gradient_flow(recorders, layers=["dense", "dense_1"])
    assert all(ax.get_legend() is None for ax in fig.axes)
    assert len(fig.legends) == 1


def test_plots_of_nothing_recorded_yet_say_so():
    with pytest.raises(ValueError, match="nothing recorded yet.*no epoch"):
        plot.loss_curves({"run": History()})
    with pytest.raises(ValueError, match="recorded nothing yet.*callbacks=\\[recorder\\]"):
        plot.gradient_flow(Recorder())


def test_decision_boundary_of_a_model_with_20_inputs_says_it_needs_2():
    model = Sequential([Dense(1, input_shape=(20,), activation="sigmoid")])
    with pytest.raises(ValueError, match="needs a model with 2 inputs.*takes 20"):
        plot.decision_boundary(model, np.zeros((10, 20)), np.zeros(10))


# -- from a user trial: epochs, layer choices, colours and bad input ------------------------

def fit_history(**fit_args):
    tinynet.set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    model = Sequential([Dense(1, input_shape=(4,), activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    return model, model.fit(x, (x[:, :1] > 0).astype(np.float32), verbose=0,
                            validation_split=0.25, **fit_args)


def line_x(fig):
    return {line.get_label(): list(line.get_xdata()) for line in fig.axes[0].lines}


def test_loss_curves_put_validation_at_the_epochs_that_validated():
    _, history = fit_history(epochs=6, validation_freq=3)
    assert len(history.history["val_loss"]) == 2
    fig = plot.loss_curves({"run": history}, validation_freq=3)
    assert line_x(fig) == {"run (training)": [1, 2, 3, 4, 5, 6],
                           "run (validation)": [3, 6]}
    fig = plot.loss_curves({"run": history.history}, validation_freq=[3, 6])
    assert line_x(fig)["run (validation)"] == [3, 6]
    # a tinynet History knows which epochs it validated; a history dict does not, and without
    # validation_freq its two validation values cannot be placed: said, not guessed
    assert history.validation_epochs == [2, 5]
    assert line_x(plot.loss_curves({"run": history}))["run (validation)"] == [3, 6]
    with pytest.raises(ValueError, match=r"2 validation value.*6 epochs.*validation_freq="):
        plot.loss_curves({"run": history.history})
    with pytest.raises(ValueError, match="validation_freq"):
        plot.loss_curves({"run": history}, validation_freq=2)
    with pytest.raises(ValueError, match=r"loss_curves\(validation_freq=...\)"):
        plot.loss_curves({"run": history}, validation_freq=0)


def test_loss_curves_number_epochs_as_the_history_does():
    model, _ = fit_history(epochs=2)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    history = model.fit(x, (x[:, :1] > 0).astype(np.float32), epochs=8, initial_epoch=5,
                        validation_split=0.25, verbose=0)
    assert history.epoch == [5, 6, 7]
    assert line_x(plot.loss_curves({"run": history})) == {
        "run (training)": [6, 7, 8], "run (validation)": [6, 7, 8]}


def test_loss_curves_leave_out_the_validation_fit_skipped_when_the_loss_blew_up():
    run = {"loss": [0.7, 0.5, float("nan")], "val_loss": [0.8, 0.6]}
    assert line_x(plot.loss_curves({"run": run})) == {"run (training)": [1, 2, 3],
                                                      "run (validation)": [1, 2]}


def test_layer_lists_with_unknown_names_are_refused(runs):
    _, recorders = runs
    for draw in (plot.gradient_flow, plot.update_ratios):
        with pytest.raises(ValueError, match=r"'dense_1 ', 'Dense'.*recorded layers: dense, "
                                             r"batch_normalization") as error:
            draw(recorders, layers=["dense", "dense_1 ", "Dense"])
        assert isinstance(error.value, KeyError)
        with pytest.raises(ValueError, match=r"'batch_normalization' has no .*kernel.*dense"):
            draw(recorders, layers=["batch_normalization"])
    for draw in (plot.gradient_flow, plot.update_ratios, plot.activation_histograms):
        with pytest.raises(ValueError, match=r"layers=...\) is an empty list"):
            draw(recorders, layers=[])
    with pytest.raises(ValueError, match=r"activation_histograms\(layers=...\).*'dense_9'"):
        plot.activation_histograms(recorders, layers=["dense_9"])
    with pytest.raises(TypeError, match=r"activation_histograms\(layers=...\).*got 0"):
        plot.activation_histograms(recorders, layers=[0])


def test_activation_histograms_leave_out_only_the_model_output_layer():
    tinynet.set_seed(0)
    model = Sequential([Dense(8, input_shape=(4,)), Activation("tanh"), Dense(6),
                        Activation("relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    two = Recorder(every=1, histograms=True, layers=["activation", "activation_1"])
    every = Recorder(every=1, histograms=True)
    for recorder in (two, every):
        model.fit(x, np.zeros((32, 1)), verbose=0, callbacks=[recorder])
    labels = [line.get_label().split(":")[0]
              for line in plot.activation_histograms(two).axes[0].lines]
    assert labels == ["activation", "activation_1"]  # both hidden: the relu stays
    labels = [line.get_label().split(":")[0]
              for line in plot.activation_histograms(every).axes[0].lines]
    assert labels == ["activation", "activation_1"]  # the sigmoid output is left out


def test_labels_that_say_no_normalization_get_the_without_bn_colour():
    without = plot.KIND_COLORS["without BN"]
    for label in ("no batch norm", "no BatchNorm", "w/o BN", "BN off", "non-BN",
                  "without batch normalization", "no LayerNorm", "without GroupNorm"):
        assert plot.color_for(label) == without, label
    assert plot.color_for("subnet") not in plot.KIND_COLORS.values()
    assert plot.color_for("with BN, no dropout") == plot.KIND_COLORS["with BN"]
    assert plot.color_for("batch normalization") == plot.KIND_COLORS["with BN"]
    assert plot.color_for("layer norm") == plot.KIND_COLORS["LayerNorm"]


def test_the_lessons_labels_keep_their_colours():
    # every label the lessons pass to color_for (or to plots that colour by label), with the
    # colour it had before names were matched as whole words
    before = {"with BN": plot.BLUE, "without BN": plot.ORANGE, "BN": plot.BLUE,
              "LayerNorm": plot.GREEN, "GroupNorm": plot.PURPLE,
              "no normalization": plot.ORANGE, "BN + dropout": plot.BLUE,
              "BN, lr 0.1": plot.BLUE, "no BN": plot.ORANGE, "plain": plot.ORANGE,
              "dropout": "#56B4E9"}
    assert {label: plot.color_for(label) for label in before} == before


@pytest.mark.parametrize("call, error, words", [
    (lambda r: plot.gradient_flow_bars(r, step_index=[]), ValueError,
     r"step_index=...\) is an empty list"),
    (lambda r: plot.gradient_flow(r, key=None), TypeError, r"gradient_flow\(key=...\)"),
    (lambda r: plot.histograms({"a": {"b": []}}, "x"), ValueError, r"\['b'\] is empty"),
    (lambda r: plot.histograms({"a": {"b": [np.nan, 1.0]}}, "x"), ValueError,
     r"\['b'\] holds 1 NaN"),
    (lambda r: plot.histograms({"a": {"b": [1.0, 2.0]}}, "x", bins=1.5), TypeError,
     r"histograms\(bins=...\)"),
    (lambda r: plot.histograms({"a": {"b": [1.0, 2.0]}}, "x", bins=0), ValueError,
     r"histograms\(bins=...\)"),
    (lambda r: plot.loss_curves({"a": [1.0]}, path=3), TypeError, r"loss_curves\(path=...\)"),
    (lambda r: plot.loss_curves({"a": {"loss": ["x"]}}), TypeError,
     r"run 'a' \(loss\) must be numbers"),
    (lambda r: plot.loss_curves({"a": []}), ValueError, "run 'a' holds no values"),
    (lambda r: plot.loss_curves({"a": {"loss": ["x"], "accuracy": [1.0], "val_accuracy": [1.0]}},
                                metric="accuracy"), TypeError, r"run 'a' \(loss\) must be numbers"),
    (lambda r: plot.loss_curves({"a": [1.0]}, ax="left"), TypeError, r"loss_curves\(ax="),
    (lambda r: plot.save(None, "f.png"), TypeError, r"save\(fig=...\)"),
    (lambda r: plot.step_curves({"a": ([1, 2], np.ones((2, 3)))}, "y"), ValueError, "1-D"),
    (lambda r: plot.step_curves({"a": ([1, 2], ["a", "b"])}, "y"), TypeError,
     "values of runs"),
    (lambda r: plot.setting_color("learning_rate", float("inf")), ValueError, "finite"),
    (lambda r: plot.setting_color("depth", float("nan")), ValueError, "finite"),
    (lambda r: plot.heatmap([[1.0]], ["a"], ["b"], "x", "y", fmt="{:d}"), ValueError,
     r"heatmap\(fmt=...\)"),
    (lambda r: plot.heatmap([[1.0]], ["a"], ["b"], "x", "y", cmap="nocmap"), ValueError,
     r"heatmap\(cmap=...\)"),
    (lambda r: plot.update_ratios(None), TypeError, r"update_ratios\(recorder_or_dict=...\)"),
    (lambda r: plot.activation_histograms([r]), TypeError,
     r"activation_histograms\(recorder_or_dict=...\)"),
])
def test_bad_input_is_refused_where_it_enters(runs, call, error, words):
    _, recorders = runs
    with pytest.raises(error, match=words):
        call(recorders["with BN"])


def test_a_path_matplotlib_cannot_write_is_refused_before_drawing(tmp_path):
    with pytest.raises(ValueError, match=r"loss_curves\(path=...\).*\.xyz"):
        plot.loss_curves({"a": [1.0, 0.5]}, path=tmp_path / "f.xyz")
    assert plt.get_fignums() == [] and list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="loss_curves: cannot save"):
        plot.loss_curves({"a": [1.0, 0.5]}, path=tmp_path / "missing" / "f.png")


def test_recorder_errors_raised_through_a_plot_name_the_plot(runs):
    histories, recorders = runs
    with pytest.raises(ValueError, match=r"^percentile_bands\(layer=...\).*'dense_9'"):
        plot.percentile_bands(recorders, "dense_9")
    tinynet.set_seed(0)
    plain = Recorder(every=1)
    build(False).fit(np.zeros((8, 4)), np.zeros(8), verbose=0, callbacks=[plain])
    with pytest.raises(ValueError, match=r"^percentile_bands\(unit=...\).*per_unit=True"):
        plot.percentile_bands(plain, "dense", unit=0)
    with pytest.raises(ValueError, match=r"^activation_histograms: .*histograms=True"):
        plot.activation_histograms(plain)
    with pytest.raises(ValueError, match=r"out of range for 6 units of 'dense_2'") as error:
        plot.percentile_bands(recorders, "dense_2", unit=99)
    assert isinstance(error.value, IndexError)
    with pytest.raises(ValueError, match=r"^loss_curves\(metric=...\).*'acc'.*accuracy"):
        plot.loss_curves(histories, metric="acc")
