"""LeNet with batch normalization (d2l's) in tinynet gives Keras 3's numbers.

tests/data/keras_lenet_reference.npz was made by tests/data/make_keras_lenet_reference.py:
Keras 3 trained the network for two epochs (batch 32, shuffle=False, Adam, sparse categorical
cross-entropy from logits) from fixed starting weights on a small synthetic image set, and
saved its history, final weights, predictions and summary. tinynet starts from the same
weights and must land on the same numbers up to float32 round-off. This exercises per-channel
BN on (N, H, W, C) inside a model, and every convolutional layer's backward in training.
"""

import importlib.util
import os
import pathlib

import numpy as np
import pytest

from tinynet.layers import (
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
)
from tinynet.losses import SparseCategoricalCrossentropy
from tinynet.models import Sequential
from tinynet.optimizers import Adam

HERE = pathlib.Path(__file__).parent
FIXTURE = HERE / "data" / "keras_lenet_reference.npz"
TOOL = HERE / "data" / "make_keras_lenet_reference.py"

with np.load(FIXTURE) as _data:
    REF = {key: _data[key] for key in _data.files}
N_WEIGHTS = len(REF["weight_names"])
INITIAL = [REF[f"initial_{i:02d}"] for i in range(N_WEIGHTS)]
X = REF["pixels"].astype(np.float32) / np.float32(255)        # as the script's to_float
X_VAL = REF["pixels_val"].astype(np.float32) / np.float32(255)

# The bar for the epoch losses.
LOSS_TOLERANCE = 1e-4
# "float32 noise" for a weight after 10 Adam steps (two frameworks summing in different orders)
WEIGHT_RTOL, WEIGHT_ATOL = 1e-4, 1e-5
# A bias right before BN has an exactly-zero gradient in exact arithmetic (BN subtracts the
# batch mean), so each framework moves it by its own round-off, which Adam scales up to steps
# of up to ~lr each, in a direction set by each framework's rounding (a conv bias sums
# N*H*W = 36,864 such round-offs per batch: here tinynet moved one by 2.6e-3 in 10 steps,
# Keras by 4.5e-4). Nothing downstream sees it (BN removes it; the losses agree to 1e-5), so
# the only claim is that it stayed within what noise can do: STEPS Adam steps of size lr. The
# moving mean of the BN after it tracks the batch mean, bias included, so it inherits the
# fraction 1 - momentum^STEPS of that.
STEPS = 2 * int(np.ceil(len(X) / 32))
PRE_BN_BIAS_ATOL = STEPS * 1e-3
AFTER_NOISY_BIAS_MOVING_MEAN_ATOL = (1 - 0.99 ** STEPS) * PRE_BN_BIAS_ATOL


def lenet():
    """d2l's LeNet with BN, with the Keras script's layers and arguments."""
    model = Sequential([
        Conv2D(6, 5, input_shape=(28, 28, 1)), BatchNormalization(), Activation("sigmoid"),
        AveragePooling2D(pool_size=2, strides=2),
        Conv2D(16, 5), BatchNormalization(), Activation("sigmoid"),
        AveragePooling2D(pool_size=2, strides=2),
        Flatten(),
        Dense(120), BatchNormalization(), Activation("sigmoid"),
        Dense(84), BatchNormalization(), Activation("sigmoid"),
        Dense(10),
    ])
    model.compile(optimizer=Adam(), loss=SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def trained():
    model = lenet()
    model.set_weights(INITIAL)
    history = model.fit(X, REF["y"], batch_size=32, epochs=2, shuffle=False, verbose=0,
                        validation_data=(X_VAL, REF["y_val"]))
    return model, history.history


def is_bias_before_batchnorm(index):
    names = [str(name) for name in REF["weight_names"]]
    return (names[index].endswith("/bias") and index + 1 < len(names)
            and "batch_normalization" in names[index + 1])


def weight_tolerance(index):
    """Absolute tolerance for weight number `index` (see the constants above)."""
    name = str(REF["weight_names"][index])
    if is_bias_before_batchnorm(index):
        return PRE_BN_BIAS_ATOL
    if name.endswith("/moving_mean") and is_bias_before_batchnorm(index - 3):
        return AFTER_NOISY_BIAS_MOVING_MEAN_ATOL
    return WEIGHT_ATOL


def test_weight_names_shapes_and_order_equal_keras():
    model = lenet()
    assert [str(w.shape) for w in model.get_weights()] == list(REF["weight_shapes"])
    keras_keys = [str(name).split("/")[-1] for name in REF["weight_names"]]
    assert [key for layer in model.layers for key in layer.weight_keys()] == keras_keys


def test_layer_output_shapes_equal_keras():
    model = lenet()
    assert [str(layer.output_shape) for layer in model.layers] == list(REF["output_shapes"])


def test_default_layer_names_equal_keras_up_to_the_counters():
    # Keras numbers its names across the whole session (conv2d_2 for the script's second
    # model); the part before the counter must match
    def base(name):
        head, _, tail = name.rpartition("_")
        return head if tail.isdigit() and head else name

    assert [base(layer.name) for layer in lenet().layers] == [
        base(str(name)) for name in REF["layer_names"]]


def test_parameter_counts_equal_keras():
    model = lenet()
    trainable = sum(layer.count_trainable_params() for layer in model.layers)
    assert model.count_params() == int(REF["total_params"])
    assert trainable == int(REF["trainable_params"])
    assert model.count_params() - trainable == int(REF["non_trainable_params"])


def test_epoch_losses_and_accuracies_equal_keras(trained):
    _, history = trained
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(history[key], REF[key], rtol=0, atol=LOSS_TOLERANCE)
    for key in ("accuracy", "val_accuracy"):
        np.testing.assert_allclose(history[key], REF[key], rtol=0, atol=1e-6)


def test_trained_weights_equal_keras_to_float32_noise(trained):
    model, _ = trained
    for i, mine in enumerate(model.get_weights()):
        np.testing.assert_allclose(mine, REF[f"final_{i:02d}"], rtol=WEIGHT_RTOL,
                                   atol=weight_tolerance(i), err_msg=str(REF["weight_names"][i]))


def test_a_conv_bias_right_before_batchnorm_gets_a_zero_gradient_up_to_round_off():
    # why the tolerance above is loose for those biases, checked in float64 where round-off
    # is small: Conv2D -> BN, with a random projection loss
    conv = Conv2D(6, 5, dtype="float64", bias_initializer="random_normal")
    bn = BatchNormalization(dtype="float64")
    x = X[:8].astype(np.float64)
    out = bn.forward(conv.forward(x, training=True), training=True)
    conv.backward(bn.backward(np.random.default_rng(0).normal(size=out.shape)))
    assert np.max(np.abs(conv.grads["bias"])) < 1e-9 * np.max(np.abs(conv.grads["kernel"]))


def test_every_weight_moved_except_the_biases_before_batchnorm():
    # so that "the final weights equal Keras's" above says something about each of them
    for i in range(N_WEIGHTS):
        moved = np.max(np.abs(REF[f"final_{i:02d}"] - INITIAL[i]))
        assert (moved < 1e-3) if is_bias_before_batchnorm(i) else (moved > 1e-3), \
            str(REF["weight_names"][i])


def test_evaluate_and_predict_after_training_equal_keras(trained):
    model, _ = trained
    loss, accuracy = model.evaluate(X, REF["y"], verbose=0)
    assert abs(loss - REF["evaluate"][0]) < LOSS_TOLERANCE
    assert abs(accuracy - REF["evaluate"][1]) < 1e-6
    np.testing.assert_allclose(model.predict(X_VAL), REF["predict"], rtol=0, atol=1e-4)


def test_live_keras_run_matches_the_fixture():
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras", minversion="3.0")
    spec = importlib.util.spec_from_file_location("make_keras_lenet_reference", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    _, history = tool.train(INITIAL, X, REF["y"], X_VAL, REF["y_val"])
    np.testing.assert_allclose(history["loss"], REF["loss"], rtol=0, atol=LOSS_TOLERANCE)
