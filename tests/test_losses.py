"""Losses: Keras 3's values and gradients (fixture), finite differences, weights, names."""

import os

import numpy as np
import pytest

import tinynet
from tinynet import losses
from tinynet.gradcheck import check_loss
from tinynet.layers.activation import sigmoid, softmax

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras_issue12_reference.npz"))
GRADIENT_TOLERANCE = 1e-6


def rng(seed):
    return np.random.default_rng(seed)


def binary_case(n=6, seed=0):
    """Targets (n, 1) of 0/1, probabilities in (0.05, 0.95), logits."""
    y = rng(seed).integers(0, 2, size=(n, 1)).astype(np.float64)
    z = rng(seed + 1).normal(0.0, 1.5, size=(n, 1))
    return y, sigmoid(z), z


def categorical_case(n=5, k=4, seed=0):
    """Integer labels (n,), one-hot targets (n, k), probabilities and logits."""
    labels = rng(seed).integers(0, k, size=n)
    z = rng(seed + 1).normal(0.0, 1.5, size=(n, k))
    return labels, np.eye(k)[labels], softmax(z), z


# -- Keras 3's numbers (float32) -------------------------------------------------------------

KERAS_CASES = {
    "bce": (losses.BinaryCrossentropy(), losses.binary_crossentropy, {}, "y_bin", "p_bin"),
    "bce_logits": (losses.BinaryCrossentropy(from_logits=True), losses.binary_crossentropy,
                   {"from_logits": True}, "y_bin", "z_bin"),
    "cce": (losses.CategoricalCrossentropy(), losses.categorical_crossentropy, {},
            "one_hot", "p_soft"),
    "cce_logits": (losses.CategoricalCrossentropy(from_logits=True),
                   losses.categorical_crossentropy, {"from_logits": True}, "one_hot", "z"),
    "scce": (losses.SparseCategoricalCrossentropy(), losses.sparse_categorical_crossentropy,
             {}, "labels", "p_soft"),
    "scce_logits": (losses.SparseCategoricalCrossentropy(from_logits=True),
                    losses.sparse_categorical_crossentropy, {"from_logits": True}, "labels",
                    "z"),
    "mse": (losses.MeanSquaredError(), losses.mean_squared_error, {}, "y_reg", "p_reg"),
    "mae": (losses.MeanAbsoluteError(), losses.mean_absolute_error, {}, "y_reg", "p_reg"),
    "huber": (losses.Huber(), losses.huber, {}, "y_reg", "p_reg"),
    "huber_delta": (losses.Huber(delta=0.5), None, {}, "y_reg", "p_reg"),
    "bce_smoothing": (losses.BinaryCrossentropy(label_smoothing=0.2), None, {}, "y_bin",
                      "p_bin"),
    "cce_logits_smoothing": (losses.CategoricalCrossentropy(from_logits=True,
                                                            label_smoothing=0.1), None, {},
                             "one_hot", "z"),
}


@pytest.mark.parametrize("case", KERAS_CASES)
def test_weighted_loss_and_its_gradient_equal_keras(case):
    loss, _, _, y_key, p_key = KERAS_CASES[case]
    y, p, w = REF["input_" + y_key], REF["input_" + p_key], REF["input_sample_weight"]
    assert loss(y, p, sample_weight=w) == pytest.approx(float(REF[f"loss_{case}_value"]),
                                                        rel=1e-5, abs=1e-6)
    gradient = loss.gradient(y, p, sample_weight=w)
    assert gradient.dtype == np.float32
    np.testing.assert_allclose(gradient, REF[f"loss_{case}_grad"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", [c for c in KERAS_CASES if KERAS_CASES[c][1] is not None])
def test_loss_functions_return_keras_per_sample_values(case):
    _, function, kwargs, y_key, p_key = KERAS_CASES[case]
    values = function(REF["input_" + y_key], REF["input_" + p_key], **kwargs)
    assert values.shape == (len(REF["input_" + p_key]),)
    np.testing.assert_allclose(values, REF[f"loss_{case}_per_sample"], rtol=1e-5, atol=1e-6)


def test_label_smoothing_pulls_targets_towards_the_uniform_guess():
    _, one_hot, p, _ = categorical_case(k=4, seed=23)
    smoothed = losses.CategoricalCrossentropy(label_smoothing=0.2)
    by_hand = losses.CategoricalCrossentropy()(one_hot * 0.8 + 0.2 / 4, p)
    assert smoothed(one_hot, p) == pytest.approx(by_hand, rel=1e-12)
    assert check_loss(smoothed, one_hot, p) < GRADIENT_TOLERANCE


def test_the_reduction_divides_by_the_batch_size_not_by_the_sum_of_weights():
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    p = np.array([[2.0], [1.0], [0.0], [0.5]])
    per_sample = losses.mean_squared_error(y, p)
    w = np.array([2.0, 0.0, 1.0, 1.0])
    assert losses.MeanSquaredError()(y, p, sample_weight=w) == pytest.approx(
        np.sum(w * per_sample) / 4)
    assert losses.MeanSquaredError(reduction="sum")(y, p) == pytest.approx(np.sum(per_sample))
    np.testing.assert_allclose(losses.MeanSquaredError(reduction="none")(y, p), per_sample)


def test_a_weight_of_zero_removes_a_sample_from_the_gradient():
    y, p, _ = binary_case(n=4, seed=20)
    gradient = losses.BinaryCrossentropy().gradient(y, p, sample_weight=[1.0, 0.0, 1.0, 1.0])
    assert np.all(gradient[1] == 0) and np.all(gradient[[0, 2, 3]] != 0)


# -- gradient checks, float64 ----------------------------------------------------------------

@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_crossentropy_gradient_matches_finite_differences(from_logits):
    y, p, z = binary_case()
    loss = losses.BinaryCrossentropy(from_logits=from_logits)
    assert check_loss(loss, y, z if from_logits else p) < GRADIENT_TOLERANCE


@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_crossentropy_gradient_matches_finite_differences(from_logits):
    _, one_hot, p, z = categorical_case()
    loss = losses.CategoricalCrossentropy(from_logits=from_logits)
    assert check_loss(loss, one_hot, z if from_logits else p) < GRADIENT_TOLERANCE


def test_categorical_crossentropy_gradient_includes_keras_rescaling_of_rows():
    """Rows that do not sum to 1 are rescaled by Keras first; the gradient follows."""
    _, one_hot, _, _ = categorical_case(seed=21)
    p = rng(22).uniform(0.1, 1.0, size=one_hot.shape)  # rows sum to about 2.5
    assert check_loss(losses.CategoricalCrossentropy(), one_hot, p) < GRADIENT_TOLERANCE


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy_gradient_matches_finite_differences(from_logits):
    labels, _, p, z = categorical_case(seed=3)
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    assert check_loss(loss, labels, z if from_logits else p) < GRADIENT_TOLERANCE


@pytest.mark.parametrize("loss", [losses.MeanSquaredError(), losses.MeanAbsoluteError(),
                                  losses.Huber(), losses.Huber(delta=0.3)])
def test_regression_gradients_match_finite_differences(loss):
    y = rng(4).normal(size=(6, 3))
    p = y + rng(5).normal(0.0, 1.0, size=(6, 3))  # errors both inside and outside delta
    assert check_loss(loss, y, p) < GRADIENT_TOLERANCE


def test_binary_crossentropy_gradient_with_soft_targets_matches_finite_differences():
    y = rng(6).uniform(size=(7, 2))
    _, p, _ = binary_case(n=14, seed=7)
    assert check_loss(losses.BinaryCrossentropy(), y, p.reshape(7, 2)) < GRADIENT_TOLERANCE


def test_sigmoid_backward_of_the_plain_gradient_is_p_minus_y_over_n():
    """The textbook fact the old fused gradient used: through the sigmoid, dL/dz = (p - y)/N."""
    y, p, _ = binary_case(n=8, seed=8)
    through_sigmoid = losses.BinaryCrossentropy().gradient(y, p) * p * (1 - p)
    np.testing.assert_allclose(through_sigmoid, (p - y) / len(y), rtol=1e-10)


# -- values ----------------------------------------------------------------------------------

def test_binary_crossentropy_value_by_hand():
    y = np.array([[1.0], [0.0]])
    p = np.array([[0.8], [0.4]])
    expected = -(np.log(0.8) + np.log(0.6)) / 2
    assert losses.BinaryCrossentropy()(y, p) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(losses.binary_crossentropy(y, p), [-np.log(0.8), -np.log(0.6)])


def test_binary_crossentropy_targets_n_and_n_by_1_mean_the_same():
    y, p, _ = binary_case(seed=12)
    loss = losses.BinaryCrossentropy()
    assert loss.loss(y.ravel(), p) == loss.loss(y, p)
    np.testing.assert_array_equal(loss.gradient(y.ravel(), p), loss.gradient(y, p))


def test_categorical_crossentropy_value_by_hand():
    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    p = np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])
    expected = -(np.log(0.7) + np.log(0.5)) / 2
    assert losses.CategoricalCrossentropy()(y, p) == pytest.approx(expected, rel=1e-12)
    assert losses.SparseCategoricalCrossentropy()(np.array([1, 0]), p) == pytest.approx(
        expected, rel=1e-12)


def test_mse_mae_and_huber_values_by_hand():
    y, p = np.array([[1.0, 2.0]]), np.array([[2.0, 0.0]])  # errors 1 and -2
    assert losses.MeanSquaredError()(y, p) == pytest.approx(2.5)
    assert losses.MeanAbsoluteError()(y, p) == pytest.approx(1.5)
    assert losses.Huber()(y, p) == pytest.approx((0.5 + (2 - 0.5)) / 2)


def test_from_logits_values_equal_the_loss_of_the_activated_outputs():
    y, p, z = binary_case(seed=13)
    assert losses.BinaryCrossentropy(from_logits=True)(y, z) == pytest.approx(
        losses.BinaryCrossentropy()(y, p), rel=1e-12)
    labels, one_hot, p, z = categorical_case(seed=14)
    assert losses.CategoricalCrossentropy(from_logits=True)(one_hot, z) == pytest.approx(
        losses.CategoricalCrossentropy()(one_hot, p), rel=1e-12)


def test_probabilities_of_exactly_0_and_1_are_clipped_like_keras():
    y = np.array([[1.0], [0.0]])
    p = np.array([[0.0], [1.0]])  # both completely wrong
    assert losses.BinaryCrossentropy()(y, p) == pytest.approx(-np.log(1e-7), rel=1e-9)
    gradient = losses.BinaryCrossentropy().gradient(y, p)
    np.testing.assert_array_equal(gradient, 0.0)  # a clipped p is a constant


def test_huge_logits_give_finite_losses_and_gradients():
    y = np.array([[1.0], [0.0], [1.0]])
    z = np.array([[-1000.0], [1000.0], [1000.0]])
    loss = losses.BinaryCrossentropy(from_logits=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value = loss.loss(y, z)
        gradient = loss.gradient(y, z)
    assert value == pytest.approx(2000.0 / 3, rel=1e-9)  # |z| for the two wrong ones
    np.testing.assert_allclose(gradient, [[-1 / 3], [1 / 3], [0.0]], atol=1e-12)


def test_huge_softmax_logits_give_finite_losses():
    loss = losses.CategoricalCrossentropy(from_logits=True)
    assert loss(np.array([[1.0, 0.0]]), np.array([[0.0, 800.0]])) == pytest.approx(800.0)


# -- names and errors ------------------------------------------------------------------------

@pytest.mark.parametrize("name, cls", [
    ("binary_crossentropy", losses.BinaryCrossentropy),
    ("BinaryCrossentropy", losses.BinaryCrossentropy),
    ("bce", losses.BinaryCrossentropy),
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("CategoricalCrossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    ("SparseCategoricalCrossentropy", losses.SparseCategoricalCrossentropy),
    ("mse", losses.MeanSquaredError), ("MSE", losses.MeanSquaredError),
    ("mean_squared_error", losses.MeanSquaredError),
    ("MeanSquaredError", losses.MeanSquaredError),
    ("mae", losses.MeanAbsoluteError), ("mean_absolute_error", losses.MeanAbsoluteError),
    ("MeanAbsoluteError", losses.MeanAbsoluteError),
    ("huber", losses.Huber), ("Huber", losses.Huber),
])
def test_losses_by_every_keras_spelling_and_by_class(name, cls):
    assert isinstance(losses.get(name), cls)
    assert isinstance(losses.get(cls), cls)
    instance = cls()
    assert losses.get(instance) is instance


@pytest.mark.parametrize("function, cls", [
    (losses.binary_crossentropy, losses.BinaryCrossentropy),
    (losses.mean_absolute_error, losses.MeanAbsoluteError),
    (losses.mse, losses.MeanSquaredError),
    (losses.huber, losses.Huber),
])
def test_a_loss_function_given_as_the_loss_means_its_class(function, cls):
    assert isinstance(losses.get(function), cls)


def test_keras_default_names_of_loss_objects():
    assert losses.BinaryCrossentropy().name == "binary_crossentropy"
    assert losses.MeanSquaredError().name == "mean_squared_error"
    assert losses.Huber().name == "huber_loss"
    assert losses.Huber(name="h").name == "h"


def test_unknown_loss_name_suggests_the_closest():
    with pytest.raises(ValueError, match="binary_crossentropy"):
        losses.get("binary_crossentropyy")


def test_a_plain_function_cannot_be_a_loss_and_the_error_says_why():
    with pytest.raises(TypeError, match="gradient"):
        losses.get(lambda y_true, y_pred: (y_true - y_pred) ** 2)


@pytest.mark.parametrize("make, words", [
    (lambda: losses.Huber(delta=0), "delta"),
    (lambda: losses.MeanSquaredError(reduction="mean_of_everything"), "reduction"),
    (lambda: losses.BinaryCrossentropy(from_logits="yes"), "from_logits"),
    (lambda: losses.MeanSquaredError(from_logits=True), "cross-entropies"),
])
def test_bad_loss_arguments_are_refused_by_name(make, words):
    with pytest.raises((TypeError, ValueError), match=words):
        make()


def test_a_wrong_number_of_sample_weights_is_refused():
    with pytest.raises(ValueError, match="one weight per sample"):
        losses.MeanSquaredError()(np.zeros((3, 1)), np.ones((3, 1)), sample_weight=[1.0, 2.0])


def test_reduction_none_cannot_be_trained_on():
    with pytest.raises(ValueError, match="sum_over_batch_size"):
        losses.MeanSquaredError(reduction="none").gradient(np.zeros((2, 1)), np.ones((2, 1)))


def test_live_keras_gives_the_fixture_numbers():
    """Where Keras and torch are installed: the fixture script's loss cases, run again, equal
    the fixture (so the fixture is what this Keras computes)."""
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras", minversion="3.0")
    import importlib.util

    path = os.path.join(os.path.dirname(__file__), "data", "make_keras_issue12_reference.py")
    spec = importlib.util.spec_from_file_location("make_keras_issue12_reference", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    live = tool.loss_cases(tool.inputs())
    for key, value in live.items():
        np.testing.assert_allclose(value, REF[key], rtol=1e-6, atol=1e-7, err_msg=key)


@pytest.mark.parametrize("name", ["crossentropy", "ce", "CE"])
def test_crossentropy_by_name_becomes_the_one_the_shapes_call_for_as_in_keras(name):
    # Keras 3.15's compile_utils.get_loss: binary for one output, sparse for labels with
    # fewer axes (or (N, 1) against K > 1 outputs), categorical otherwise (checked live)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 3)).astype(np.float32)
    labels = rng.integers(0, 3, 30)
    cases = [(1, "sigmoid", (x[:, :1] > 0).astype(np.float32), "binary_crossentropy"),
             (3, "softmax", labels, "sparse_categorical_crossentropy"),
             (3, "softmax", labels[:, None], "sparse_categorical_crossentropy"),
             (3, "softmax", np.eye(3, dtype=np.float32)[labels], "categorical_crossentropy")]
    for units, activation, y, expected in cases:
        histories = []
        for loss in (name, expected):
            tinynet.set_seed(0)
            model = tinynet.Sequential([tinynet.layers.Dense(units, input_shape=(3,),
                                                             activation=activation)])
            model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
            histories.append(model.fit(x, y, epochs=2, verbose=0, shuffle=False).history)
            assert model.loss.name == expected
        assert histories[0] == histories[1]


def test_a_model_saved_before_crossentropy_was_decided_keeps_keras_string(tmp_path):
    pytest.importorskip("h5py")
    model = tinynet.Sequential([tinynet.layers.Dense(1, input_shape=(3,), activation="sigmoid")])
    model.compile(optimizer="sgd", loss="crossentropy")
    model.save(tmp_path / "m.keras")  # as Keras writes it: compile_config["loss"] is the string
    loaded = tinynet.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.loss, losses.CrossentropyByShape)
    loaded.fit(np.ones((4, 3), dtype=np.float32), np.ones(4, dtype=np.float32), verbose=0)
    assert loaded.loss.name == "binary_crossentropy"
    loaded.save(tmp_path / "after.keras")  # decided, it still saves as given, as Keras does
    assert isinstance(tinynet.models.load_model(tmp_path / "after.keras").loss,
                      losses.CrossentropyByShape)
