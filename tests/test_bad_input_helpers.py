"""Bad input to the helper modules (stats, gradcheck, recorder, utils, datasets, plot,
classroom, mnist) gets a clear error where it enters, naming the argument, or the right
answer: never a NumPy error from deep inside, never a silently wrong result."""

import warnings

import numpy as np
import pytest

import tinynet
from tinynet import datasets, gradcheck, stats, utils
from tinynet import recorder as statistics
from tinynet.callbacks import Recorder
from tinynet.layers import BatchNormalization, Dense, LayerNormalization

# -- stats ------------------------------------------------------------------------------------


@pytest.mark.parametrize("options, error, words", [
    # 'False' is a true string: it would flip the verdict
    ({"lower_is_better": "False"}, TypeError, r"lower_is_better.*True or False.*'False'"),
    ({"paired": None}, TypeError, r"paired.*True or False.*None"),
    ({"bounds": "01"}, TypeError, r"bounds.*two numbers.*'01'"),
    ({"fmt": "abc"}, ValueError, r"fmt='abc'.*one replacement field"),
    ({"fmt": "{}{}"}, ValueError, r"fmt='\{\}\{\}'"),
    ({"fmt": "{:d}"}, ValueError, r"fmt='\{:d\}'.*cannot print a number"),
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
