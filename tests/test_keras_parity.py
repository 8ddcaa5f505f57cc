"""The article's model in tinynet gives Keras 3's numbers.

tests/data/keras_article_reference.npz was made by tests/data/make_keras_reference.py: Keras 3
trained the article's model for two epochs (batch 32, shuffle=False) from fixed starting weights on
fixed data, and saved its history, final weights, predictions and summary totals. Here tinynet
starts from the same weights (via set_weights, in Keras's order) and must land on the same
numbers, up to float32 round-off. When Keras is importable, one more test runs it live.
"""

import importlib.util
import os
import pathlib

import numpy as np
import pytest

from tinynet import losses
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import SGD, Adam

HERE = pathlib.Path(__file__).parent
FIXTURE = HERE / "data" / "keras_article_reference.npz"
TOOL = HERE / "data" / "make_keras_reference.py"

with np.load(FIXTURE) as _data:
    REF = {key: _data[key] for key in _data.files}
N_WEIGHTS = len(REF["weight_names"])
INITIAL = [REF[f"initial_{i:02d}"] for i in range(N_WEIGHTS)]

# The bar for the epoch losses (measured: 8e-7 apart with Adam, 1e-8 with SGD).
LOSS_TOLERANCE = 1e-4
# "float32 noise" for a weight: where two float32 implementations that sum in different
# orders end after 16 updates (measured: at most 4e-6 apart, the moving means included).
WEIGHT_RTOL, WEIGHT_ATOL = 1e-4, 1e-5
# A Dense bias right before BN has a gradient that is exactly 0 in exact arithmetic, so each
# framework moves it by its own round-off, which Adam scales to steps of ~lr * noise / eps
# (Keras moved them by at most 3e-5 here, tinynet lands within 4e-5 of Keras). They must
# stay within a fifth of ONE full Adam step (lr = 1e-3), while every other weight moved ~1e-2.
PRE_BN_BIAS_ATOL = 2e-4


def article_model(optimizer):
    """The article's listing with only the imports changed."""
    model = Sequential([
        Dense(64, input_shape=(20,)), BatchNormalization(), Activation("relu"),
        Dense(32), BatchNormalization(), Activation("relu"),
        Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return model


def train_like_keras(optimizer):
    model = article_model(optimizer)
    model.set_weights(INITIAL)
    history = model.fit(REF["x"], REF["y"], batch_size=32, epochs=2, shuffle=False, verbose=0,
                        validation_data=(REF["x_val"], REF["y_val"]))
    return model, history.history


@pytest.fixture(scope="module")
def adam_run():
    return train_like_keras(Adam())


@pytest.fixture(scope="module")
def sgd_run():
    return train_like_keras(SGD(learning_rate=0.05, momentum=0.9, nesterov=True))


def is_bias_before_batchnorm(index):
    names = [str(name) for name in REF["weight_names"]]
    return (names[index].endswith("/bias") and index + 1 < len(names)
            and "batch_normalization" in names[index + 1])


def assert_weights_match(weights, prefix):
    for i, mine in enumerate(weights):
        keras_value = REF[f"{prefix}final_{i:02d}"]
        atol = PRE_BN_BIAS_ATOL if is_bias_before_batchnorm(i) else WEIGHT_ATOL
        np.testing.assert_allclose(mine, keras_value, rtol=WEIGHT_RTOL, atol=atol,
                                   err_msg=str(REF["weight_names"][i]))


def test_summary_totals_equal_keras():
    model = article_model(Adam())
    trainable = sum(layer.count_trainable_params() for layer in model.layers)
    assert model.count_params() == int(REF["total_params"]) == 3841
    assert trainable == int(REF["trainable_params"])
    assert model.count_params() - trainable == int(REF["non_trainable_params"])


def test_layer_output_shapes_equal_keras():
    model = article_model(Adam())
    assert [str(layer.output_shape) for layer in model.layers] == list(REF["output_shapes"])


def test_get_weights_order_and_shapes_equal_keras():
    model = article_model(Adam())
    weights = model.get_weights()
    assert [str(w.shape) for w in weights] == list(REF["weight_shapes"])
    # Keras names each weight 'model/layer/weight'; tinynet's per-layer keys follow that order
    keras_keys = [str(name).split("/")[-1] for name in REF["weight_names"]]
    tinynet_keys = [key for layer in model.layers for key in layer.weight_keys()]
    assert tinynet_keys == keras_keys


def test_epoch_losses_and_accuracies_equal_keras(adam_run):
    _, history = adam_run
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(history[key], REF[key], rtol=0, atol=LOSS_TOLERANCE)
    for key in ("accuracy", "val_accuracy"):
        np.testing.assert_allclose(history[key], REF[key], rtol=0, atol=1e-6)


def test_trained_weights_equal_keras_to_float32_noise(adam_run):
    model, _ = adam_run
    assert_weights_match(model.get_weights(), "")


def test_keras_too_barely_moves_a_dense_bias_right_before_batchnorm():
    # BN subtracts the batch mean, so such a bias gets a zero gradient in both frameworks.
    # Every other weight did move: so "final weights equal Keras's" above says something.
    for i in range(N_WEIGHTS):
        moved = np.max(np.abs(REF[f"final_{i:02d}"] - INITIAL[i]))
        if is_bias_before_batchnorm(i):
            assert moved < 1e-4
        else:
            assert moved > 1e-3


def test_evaluate_and_predict_after_training_equal_keras(adam_run):
    model, _ = adam_run
    loss, accuracy = model.evaluate(REF["x"], REF["y"], verbose=0)
    assert abs(loss - REF["evaluate"][0]) < LOSS_TOLERANCE
    assert abs(accuracy - REF["evaluate"][1]) < 1e-6
    np.testing.assert_allclose(model.predict(REF["x_val"]), REF["predict"], rtol=0, atol=1e-5)


def test_sgd_nesterov_training_equals_keras(sgd_run):
    model, history = sgd_run
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(history[key], REF["sgd_" + key], rtol=0, atol=LOSS_TOLERANCE)
    assert_weights_match(model.get_weights(), "sgd_")


@pytest.mark.parametrize("index, loss_name, from_logits, y_key, p_key", [
    (0, "binary_crossentropy", False, "y_bin", "p_bin"),
    (1, "binary_crossentropy", True, "y_bin", "z_bin"),
    (2, "categorical_crossentropy", False, "y_cat", "p_cat"),
    (3, "categorical_crossentropy", True, "y_cat", "z_cat"),
    (4, "sparse_categorical_crossentropy", False, "labels", "p_cat"),
    (5, "sparse_categorical_crossentropy", True, "labels", "z_cat"),
    (6, "mse", False, "y_cat", "p_cat"),
])
def test_loss_values_equal_keras_including_clipped_probabilities(index, loss_name,
                                                                  from_logits, y_key, p_key):
    loss = losses.LOSSES[loss_name](from_logits=from_logits)
    y_true = REF["loss_cases_" + y_key]
    # float32, as Keras computed them: there 1 - 1e-7 rounds to 1 - 1.19e-7, which changes
    # the loss of a clipped p = 1 by 1%; tinynet's float32 clip rounds the same way
    y_pred = REF["loss_cases_" + p_key]
    value = loss.loss(y_true, y_pred)
    assert np.isfinite(value)
    assert value == pytest.approx(float(REF["loss_cases_values"][index]), rel=1e-5, abs=1e-6)


def test_live_keras_run_matches_the_fixture():
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras", minversion="3.0")
    spec = importlib.util.spec_from_file_location("make_keras_reference", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    import keras

    _, history = tool.train(keras.optimizers.Adam(), INITIAL, REF["x"], REF["y"],
                            REF["x_val"], REF["y_val"])
    _, mine = train_like_keras(Adam())
    np.testing.assert_allclose(mine["loss"], history["loss"], rtol=0, atol=LOSS_TOLERANCE)
