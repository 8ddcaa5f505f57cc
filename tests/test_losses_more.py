"""The elementwise losses Keras 3 has beyond the cross-entropies, MSE, MAE and Huber: their
values and gradients against Keras (tests/data/keras_small_fixes_reference.npz, made by
tests/data/make_keras_small_fixes_reference.py), their gradients against finite differences,
and every loss string Keras accepts."""

import math
import os

import numpy as np
import pytest

import tinynet
from tinynet import losses
from tinynet.gradcheck import check_loss
from tinynet.layers import Dense
from tinynet.models import Sequential

REF = np.load(os.path.join(os.path.dirname(__file__), "data",
                           "keras_small_fixes_reference.npz"))
GRADIENT_TOLERANCE = 1e-6

KERAS_CASES = {
    # case: (loss, its per-sample function, y key, prediction key)
    "msle": (losses.MeanSquaredLogarithmicError(), losses.mean_squared_logarithmic_error,
             "y_pos", "p_pos"),
    "mape": (losses.MeanAbsolutePercentageError(), losses.mean_absolute_percentage_error,
             "y_reg", "p_reg"),
    "log_cosh": (losses.LogCosh(), losses.log_cosh, "y_reg", "p_reg"),
    "poisson": (losses.Poisson(), losses.poisson, "counts", "rates"),
    "kl_divergence": (losses.KLDivergence(), losses.kl_divergence, "y_dist", "p_dist"),
    "hinge_01": (losses.Hinge(), losses.hinge, "y_01", "z"),
    "hinge_pm": (losses.Hinge(), losses.hinge, "y_pm", "z"),
    "hinge_soft": (losses.Hinge(), losses.hinge, "y_soft", "z"),
    "squared_hinge_01": (losses.SquaredHinge(), losses.squared_hinge, "y_01", "z"),
    "squared_hinge_soft": (losses.SquaredHinge(), losses.squared_hinge, "y_soft", "z"),
}


def case_inputs(case):
    _, _, y_key, p_key = KERAS_CASES[case]
    return REF["input_" + y_key], REF["input_" + p_key]


@pytest.mark.parametrize("case", KERAS_CASES)
def test_weighted_loss_and_its_gradient_equal_keras(case):
    loss = KERAS_CASES[case][0]
    y, p = case_inputs(case)
    weights = REF["input_sample_weight"]
    value, gradient = loss.loss_and_gradient(y, p, weights)
    assert value == pytest.approx(float(REF[f"loss_{case}_value"]), rel=1e-5)
    assert loss(y, p, sample_weight=weights) == value
    assert gradient.dtype == np.float32
    np.testing.assert_allclose(gradient, REF[f"loss_{case}_grad"], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("case", KERAS_CASES)
def test_loss_functions_return_keras_per_sample_values(case):
    function = KERAS_CASES[case][1]
    y, p = case_inputs(case)
    values = function(y, p)
    assert values.shape == (len(p),)
    np.testing.assert_allclose(values, REF[f"loss_{case}_per_sample"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", KERAS_CASES)
def test_keras_default_names(case):
    assert KERAS_CASES[case][0].name == str(REF[f"loss_{case}_name"])


def rng(seed):
    return np.random.default_rng(seed)


# float64 inputs away from every kink (max(p, eps), the hinge's corner, p = y for MAPE)
GRADIENT_CASES = {
    "msle": (losses.MeanSquaredLogarithmicError(), rng(1).uniform(0, 3, (6, 3)),
             rng(2).uniform(0.1, 3, (6, 3))),
    "mape": (losses.MeanAbsolutePercentageError(), rng(3).normal(0, 2, (6, 3)),
             rng(4).normal(0, 2, (6, 3))),
    "log_cosh": (losses.LogCosh(), rng(5).normal(0, 2, (6, 3)), rng(6).normal(0, 2, (6, 3))),
    "poisson": (losses.Poisson(), rng(7).poisson(2.0, (6, 3)), rng(8).uniform(0.2, 4, (6, 3))),
    "kl_divergence": (losses.KLDivergence(), rng(9).dirichlet(np.ones(3), 6),
                      rng(10).dirichlet(np.ones(3), 6)),
    "hinge": (losses.Hinge(), rng(11).integers(0, 2, (6, 3)), rng(12).normal(0, 1.5, (6, 3))),
    "squared_hinge": (losses.SquaredHinge(), rng(13).uniform(-1, 1, (6, 3)),
                      rng(14).normal(0, 1.5, (6, 3))),
}


@pytest.mark.parametrize("case", GRADIENT_CASES)
def test_gradients_match_finite_differences_in_float64(case):
    loss, y, p = GRADIENT_CASES[case]
    assert check_loss(loss, y, p) < GRADIENT_TOLERANCE


def test_log_cosh_is_finite_for_huge_errors_and_close_to_abs_minus_log_2():
    y, p = np.zeros((1, 2)), np.array([[1e4, -1e4]])
    values = losses.LogCosh().call(y, p)
    np.testing.assert_allclose(values, [1e4 - math.log(2)])
    np.testing.assert_allclose(losses.LogCosh().sample_gradient(y, p), [[0.5, -0.5]])


def test_log_cosh_is_about_half_the_squared_error_for_small_errors():
    y, p = np.zeros((1, 1)), np.array([[1e-3]])
    assert losses.LogCosh().call(y, p)[0] == pytest.approx(0.5e-6, rel=1e-6)


def test_hinge_reads_targets_of_0_and_1_as_minus_1_and_plus_1():
    z = rng(15).normal(size=(5, 2))
    y01 = rng(16).integers(0, 2, size=(5, 2)).astype(float)
    assert losses.Hinge()(y01, z) == losses.Hinge()(2 * y01 - 1, z)


def test_mape_and_msle_by_hand():
    assert losses.mean_absolute_percentage_error([[2.0, 4.0]], [[3.0, 3.0]])[0] == \
        pytest.approx(100 * (0.5 + 0.25) / 2)
    assert losses.mean_squared_logarithmic_error([[math.e - 1]], [[0.0]])[0] == \
        pytest.approx(1.0, rel=1e-6)


def test_a_model_trains_with_msle_from_its_keras_string():
    tinynet.set_seed(0)
    x = rng(17).normal(size=(64, 3)).astype(np.float32)
    y = np.exp(x @ np.array([[0.3], [0.2], [-0.1]], dtype=np.float32))
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer="adam", loss="msle")
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    losses_seen = history.history["loss"]
    assert np.all(np.isfinite(losses_seen)) and losses_seen[-1] < losses_seen[0]


# -- every string Keras 3.15's losses.get accepts --------------------------------------------

# keras.losses.get(name) works for each of these in Keras 3.15.1 (its ALL_OBJECTS_DICT)
KERAS_STRINGS_TINYNET_HAS = {
    "BCE": losses.BinaryCrossentropy, "bce": losses.BinaryCrossentropy,
    "binary_crossentropy": losses.BinaryCrossentropy,
    "BinaryCrossentropy": losses.BinaryCrossentropy,
    "categorical_crossentropy": losses.CategoricalCrossentropy,
    "CategoricalCrossentropy": losses.CategoricalCrossentropy,
    "sparse_categorical_crossentropy": losses.SparseCategoricalCrossentropy,
    "SparseCategoricalCrossentropy": losses.SparseCategoricalCrossentropy,
    "MSE": losses.MeanSquaredError, "mse": losses.MeanSquaredError,
    "mean_squared_error": losses.MeanSquaredError, "MeanSquaredError": losses.MeanSquaredError,
    "MAE": losses.MeanAbsoluteError, "mae": losses.MeanAbsoluteError,
    "mean_absolute_error": losses.MeanAbsoluteError,
    "MeanAbsoluteError": losses.MeanAbsoluteError,
    "huber": losses.Huber, "Huber": losses.Huber,
    "MSLE": losses.MeanSquaredLogarithmicError, "msle": losses.MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error": losses.MeanSquaredLogarithmicError,
    "MeanSquaredLogarithmicError": losses.MeanSquaredLogarithmicError,
    "MAPE": losses.MeanAbsolutePercentageError, "mape": losses.MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": losses.MeanAbsolutePercentageError,
    "MeanAbsolutePercentageError": losses.MeanAbsolutePercentageError,
    "log_cosh": losses.LogCosh, "LogCosh": losses.LogCosh,
    "poisson": losses.Poisson, "Poisson": losses.Poisson,
    "KLD": losses.KLDivergence, "kld": losses.KLDivergence,
    "kl_divergence": losses.KLDivergence, "KLDivergence": losses.KLDivergence,
    "hinge": losses.Hinge, "Hinge": losses.Hinge,
    "squared_hinge": losses.SquaredHinge, "SquaredHinge": losses.SquaredHinge,
}
KERAS_STRINGS_TINYNET_LACKS = [
    "binary_focal_crossentropy", "BinaryFocalCrossentropy", "categorical_focal_crossentropy",
    "CategoricalFocalCrossentropy", "categorical_hinge", "CategoricalHinge",
    "cosine_similarity", "CosineSimilarity", "dice", "Dice", "tversky", "Tversky", "circle",
    "Circle", "ctc", "CTC",
]


@pytest.mark.parametrize("name", KERAS_STRINGS_TINYNET_HAS)
def test_every_keras_string_of_a_loss_tinynet_has_gives_it(name):
    loss = losses.get(name)
    assert type(loss) is KERAS_STRINGS_TINYNET_HAS[name]


@pytest.mark.parametrize("function, cls", [
    (losses.log_cosh, losses.LogCosh), (losses.kl_divergence, losses.KLDivergence),
    (losses.mean_absolute_percentage_error, losses.MeanAbsolutePercentageError),
])
def test_a_new_loss_function_given_as_the_loss_means_its_class(function, cls):
    assert isinstance(losses.get(function), cls)


@pytest.mark.parametrize("name", KERAS_STRINGS_TINYNET_LACKS)
def test_a_keras_loss_tinynet_lacks_is_named_and_tinynet_lists_its_own(name):
    with pytest.raises(ValueError, match=f"'{name}' is a Keras loss that tinynet does not "
                                         f"have; tinynet has BinaryCrossentropy, .*LogCosh"):
        losses.get(name)


def test_keras_2s_logcosh_gets_keras_3s_name():
    with pytest.raises(ValueError, match="Did you mean 'log_cosh'"):
        losses.get("logcosh")


def test_a_keras_loss_class_tinynet_lacks_gets_an_attribute_error_that_says_so():
    with pytest.raises(AttributeError, match="no CosineSimilarity: a Keras loss tinynet does "
                                             "not have. It has: .*LogCosh"):
        losses.CosineSimilarity  # noqa: B018


# -- from_config: what a .keras file's compile_config holds ----------------------------------

# keras.losses.<Class>().get_config() in Keras 3.15.1, with one setting changed in each
KERAS_LOSS_CONFIGS = {
    "Huber": {"name": "huber_loss", "reduction": "sum_over_batch_size"},
    "LogCosh": {"name": "log_cosh", "reduction": "sum_over_batch_size"},
    "BinaryCrossentropy": {"name": "binary_crossentropy", "reduction": "sum_over_batch_size",
                           "from_logits": True, "label_smoothing": 0.1, "axis": -1},
    "SparseCategoricalCrossentropy": {"name": "scce", "reduction": "sum",
                                      "from_logits": False, "ignore_class": None},
}


@pytest.mark.parametrize("class_name", KERAS_LOSS_CONFIGS)
def test_from_config_takes_keras_config(class_name):
    config = KERAS_LOSS_CONFIGS[class_name]
    loss = getattr(losses, class_name).from_config(config)
    assert type(loss).__name__ == class_name
    for key, value in loss.get_config().items():
        assert config.get(key, value) == value  # every setting Keras wrote is kept
    assert type(loss).from_config(loss.get_config()).get_config() == loss.get_config()


def test_from_config_refuses_a_keras_setting_tinynet_lacks_when_it_is_not_the_default():
    config = {"name": "scce", "reduction": "sum_over_batch_size", "from_logits": False,
              "ignore_class": 0}
    with pytest.raises(TypeError, match="ignore_class"):
        losses.SparseCategoricalCrossentropy.from_config(config)


def test_one_target_per_sample_for_several_outputs_is_refused_with_what_keras_does():
    # Keras's EarlyStopping docstring fits Dense(10) on np.zeros(5): Keras compares the one
    # target with each of the 10 outputs; tinynet refuses, and says how to do either
    from tinynet.layers import Dense
    from tinynet.models import Sequential

    model = Sequential([Dense(10, input_shape=(20,))])
    model.compile(optimizer="sgd", loss="mse")
    x = np.arange(100, dtype=np.float32).reshape(5, 20)
    with pytest.raises(ValueError, match=r"Keras would compare it with every output.*"
                                         r"np.repeat\(y.reshape\(-1, 1\), 10, axis=1\)"):
        model.fit(x, np.zeros(5), verbose=0)
    history = model.fit(x, np.repeat(np.zeros((5, 1)), 10, axis=1), verbose=0)
    assert np.isfinite(history.history["loss"][0])


# Keras 3.15.1's signatures (inspect.signature in Keras's venv): arguments given by position
# must land where Keras puts them
@pytest.mark.parametrize("make, reduction, name", [
    # SparseCategoricalCrossentropy(from_logits, ignore_class, reduction, axis, name, dtype):
    # a second argument None is ignore_class, not reduction=None (which means 'none')
    (lambda: losses.SparseCategoricalCrossentropy(False, None), "sum_over_batch_size",
     "sparse_categorical_crossentropy"),
    (lambda: losses.SparseCategoricalCrossentropy(False, None, "sum", -1, "s"), "sum", "s"),
    # (from_logits, label_smoothing, axis, reduction, name, dtype)
    (lambda: losses.BinaryCrossentropy(False, 0.0, -1, "sum", "b"), "sum", "b"),
    (lambda: losses.CategoricalCrossentropy(True, 0.1, -1, "sum", "c", None), "sum", "c"),
    # (reduction, name, dtype)
    (lambda: losses.MeanSquaredError("sum", "m", "float32"), "sum", "m"),
    (lambda: losses.Huber(2.0, "sum", "h", None), "sum", "h"),
    (lambda: losses.MeanAbsoluteError("sum", "a", None), "sum", "a"),
])
def test_arguments_by_position_land_where_keras_puts_them(make, reduction, name):
    loss = make()
    assert (loss.reduction, loss.name) == (reduction, name)


def test_keras_only_positions_are_refused_at_other_values():
    with pytest.raises(TypeError, match="BinaryCrossentropy has no axis=1"):
        losses.BinaryCrossentropy(False, 0.0, 1)
    with pytest.raises(TypeError, match="SparseCategoricalCrossentropy has no ignore_class=0"):
        losses.SparseCategoricalCrossentropy(False, 0)
    # Keras's base class takes name first: a subclass passing it by position is told so
    with pytest.raises(ValueError, match="takes name first"):
        losses.Loss("my_loss")


def test_the_cross_entropies_write_keras_s_config_keys():
    assert losses.BinaryCrossentropy().get_config()["axis"] == -1
    assert losses.CategoricalCrossentropy().get_config()["axis"] == -1
    assert losses.SparseCategoricalCrossentropy().get_config()["ignore_class"] is None
