"""Model-level options Keras users write give Keras 3's numbers: freezing (a frozen
BatchNormalization runs in inference mode), sample and class weights, regularizers,
initial_epoch and validation_freq, and metrics that accumulate over an epoch.

The reference values come from tests/data/make_keras_model_reference.py (Keras 3.15, torch
backend), run on the same data, from the same starting weights, with shuffle=False."""

import os

import numpy as np
import pytest

import tinynet
from tinynet import regularizers
from tinynet.layers import Activation, BatchNormalization, Dense, Input
from tinynet.models import Sequential
from tinynet.optimizers import SGD, Adam

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras_model_reference.npz"))


def data(n, features, seed):
    """The script's data, drawn the same way."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] - 0.3 * x[:, 2] + rng.normal(0, 0.5, n) > 0)
    return x, y.astype(np.float32).reshape(-1, 1)


def weights_of(case, kind):
    keys = sorted(k for k in REF.files if k.startswith(f"{case}_{kind}_"))
    return [REF[k] for k in keys]


def small_model(features, case, use_bias=True, **bn_args):
    model = Sequential([Input(shape=(features,)), Dense(4, use_bias=use_bias),
                        BatchNormalization(**bn_args),
                        Activation("relu"), Dense(1, activation="sigmoid")])
    model.set_weights(weights_of(case, "initial"))
    return model


def assert_weights_equal_keras(model, case, atol=1e-5):
    for i, (ours, theirs) in enumerate(zip(model.get_weights(), weights_of(case, "final"),
                                           strict=True)):
        np.testing.assert_allclose(ours, theirs, atol=atol, rtol=1e-4, err_msg=str(i))


def assert_history_equal_keras(history, case, atol=1e-5):
    for key in [k[len(case) + 9:] for k in REF.files if k.startswith(f"{case}_history_")]:
        np.testing.assert_allclose(history.history[key], REF[f"{case}_history_{key}"],
                                   atol=atol, err_msg=key)


def test_frozen_dense_and_batchnorm_change_by_exactly_zero_as_in_keras():
    x, y = data(64, 5, seed=1)
    model = small_model(5, "frozen")
    model.layers[0].trainable = False
    model.layers[1].trainable = False
    model.compile(optimizer=SGD(0.1), loss="binary_crossentropy")
    before = model.get_weights()
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for ours, start in zip(model.get_weights()[:6], before[:6], strict=True):
        np.testing.assert_array_equal(ours, start)  # bit-exact: frozen means frozen
    assert_weights_equal_keras(model, "frozen")
    assert_history_equal_keras(history, "frozen")


def test_a_frozen_model_counts_its_weights_as_non_trainable_in_summary(capsys):
    model = small_model(5, "frozen")
    model.layers[0].trainable = False
    model.layers[1].trainable = False
    trainable = sum(w.size for w in model.trainable_weights)
    assert trainable == int(REF["frozen_trainable_params"])
    assert model.count_params() == int(REF["frozen_total_params"])
    model.summary()
    printed = capsys.readouterr().out
    assert f"Trainable params: {trainable:,}" in printed
    assert f"Non-trainable params: {model.count_params() - trainable:,}" in printed


def test_freezing_after_compile_takes_effect_at_once_as_in_keras_3():
    x, y = data(64, 5, seed=3)
    model = small_model(5, "late_freeze")
    model.compile(optimizer=SGD(0.1), loss="binary_crossentropy")
    model.layers[0].trainable = False
    model.layers[1].trainable = False
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert_weights_equal_keras(model, "late_freeze")
    assert_history_equal_keras(history, "late_freeze")


def test_a_frozen_batchnorm_uses_its_moving_statistics_inside_fit():
    layer = BatchNormalization(trainable=False)
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(16, 4)).astype(np.float32)
    y = layer(x, training=True)
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-6)  # moving stats (0, 1)
    np.testing.assert_array_equal(layer.state["moving_mean"], 0.0)


def test_freezing_a_layer_keeps_the_adam_state_of_the_weights_still_trainable():
    x, y = data(64, 5, seed=1)
    model = small_model(5, "frozen")
    model.compile(optimizer=Adam(0.01), loss="binary_crossentropy")
    model.train_on_batch(x[:16], y[:16])
    last_kernel = (id(model.layers[3]), "kernel")
    m_before = model.optimizer.slots[0]["m"][model.segments[last_kernel]].copy()
    model.layers[0].trainable = False
    model.sync_parameters()  # what the next training step does first
    assert model.parameters.size == sum(w.size for w in model.trainable_weights)
    np.testing.assert_array_equal(model.optimizer.slots[0]["m"][model.segments[last_kernel]],
                                  m_before)
    assert np.any(m_before != 0)


@pytest.mark.parametrize("case", ["sample_weight", "class_weight"])
def test_sample_and_class_weights_give_keras_losses_and_weights(case):
    x, y = data(80, 6, seed=5)
    model = small_model(6, case, use_bias=False)  # see the fixture script: no bias before BN
    model.compile(optimizer=Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    fit_args = ({"sample_weight": REF["sample_weight_sample_weight"]} if case == "sample_weight"
                else {"class_weight": {0: 1.0, 1: 3.0}})
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, **fit_args)
    assert_history_equal_keras(history, case)
    assert_weights_equal_keras(model, case)
    w = np.linspace(0.5, 1.5, 80).astype(np.float32)
    result = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    np.testing.assert_allclose([result["loss"], result["accuracy"]],
                               REF[f"{case}_evaluate_weighted"], atol=1e-5)


def test_regularizers_add_their_penalty_to_the_loss_and_their_gradient_as_keras():
    x, y = data(64, 5, seed=8)
    model = Sequential([
        Input(shape=(5,)),
        Dense(4, kernel_regularizer=regularizers.l2(0.01), bias_regularizer=regularizers.l1(0.02)),
        BatchNormalization(gamma_regularizer=regularizers.l2(0.005),
                           beta_regularizer=regularizers.l1_l2(0.01, 0.01)),
        Activation("relu"),
        Dense(1, activation="sigmoid", kernel_regularizer=regularizers.l1(0.01)),
    ])
    model.set_weights(weights_of("regularized", "initial"))
    model.compile(optimizer=SGD(0.1), loss="binary_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    assert_history_equal_keras(history, "regularized")
    assert_weights_equal_keras(model, "regularized")
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), REF["regularized_evaluate"],
                               atol=1e-5)


def test_initial_epoch_and_validation_freq_as_keras():
    x, y = data(64, 5, seed=10)
    model = small_model(5, "epochs")
    model.compile(optimizer=SGD(0.05), loss="binary_crossentropy")
    history = model.fit(x[:48], y[:48], batch_size=16, epochs=4, initial_epoch=1,
                        validation_data=(x[48:], y[48:]), validation_freq=2, shuffle=False,
                        verbose=0)
    assert history.epoch == list(REF["epochs_epochs"])
    assert len(history.history["val_loss"]) == int(REF["epochs_val_loss_count"])
    assert_history_equal_keras(history, "epochs")
    assert_weights_equal_keras(model, "epochs")


def test_precision_recall_and_auc_accumulate_over_the_epoch_as_keras():
    x, y = data(96, 5, seed=12)
    model = small_model(5, "metrics")
    model.compile(optimizer=SGD(0.05), loss="binary_crossentropy",
                  metrics=["accuracy", "precision", "recall", "auc", "mae"])
    history = model.fit(x, y, batch_size=20, epochs=2, shuffle=False, verbose=0)
    assert_history_equal_keras(history, "metrics")
    result = model.evaluate(x, y, batch_size=20, verbose=0, return_dict=True)
    names = [str(n) for n in REF["metrics_evaluate_names"]]
    np.testing.assert_allclose([result[n] for n in names], REF["metrics_evaluate_values"],
                               atol=1e-5)
    assert model.metrics_names == ["loss", "accuracy", "precision", "recall", "auc", "mae"]


def test_a_model_from_input_has_no_input_row_and_builds_at_once():
    model = Sequential([Input(shape=(20,)), Dense(64), Dense(1)])
    assert model.built and [layer.name for layer in model.layers] == ["dense", "dense_1"]
    also = Sequential([Dense(64, input_dim=20), Dense(1)])
    assert also.count_params() == model.count_params() == 20 * 64 + 64 + 65
    late = Sequential([Dense(64), Dense(1)])
    late.build((None, 20))
    assert late.count_params() == model.count_params()


def test_weight_lists_follow_keras_order_and_trainability():
    tinynet.set_seed(0)
    model = Sequential([Dense(3, input_shape=(2,)), BatchNormalization(), Dense(1)])
    assert [w.shape for w in model.weights] == [(2, 3), (3,), (3,), (3,), (3,), (3,), (3, 1),
                                               (1,)]
    assert len(model.trainable_weights) == 6 and len(model.non_trainable_weights) == 2
    model.layers[1].trainable = False
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 4
    model.trainable = False
    assert model.trainable_weights == [] and not model.layers[0].trainable
    assert model.get_layer("dense_1") is model.layers[2]
    assert model.get_layer(index=1) is model.layers[1]
    last = model.layers[-1]
    assert model.pop() is last and len(model.layers) == 2


def test_return_dict_lists_names_alphabetically_as_keras_3_does():
    # Keras 3.15: evaluate/train_on_batch/test_on_batch(return_dict=True) give
    # {'accuracy', 'loss', 'mse'} in that order, as fit's history lists them; the list form
    # keeps metrics_names' order, loss first
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 4)), (rng.random((16, 1)) > 0.5).astype(float)
    model = Sequential([Dense(1, input_shape=(4,), activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy", "mse"])
    history = model.fit(x, y, verbose=0)
    assert list(history.history) == ["accuracy", "loss", "mse"]
    for result in (model.evaluate(x, y, verbose=0, return_dict=True),
                   model.train_on_batch(x, y, return_dict=True),
                   model.test_on_batch(x, y, return_dict=True)):
        assert list(result) == ["accuracy", "loss", "mse"]
    values = model.evaluate(x, y, verbose=0)
    assert values[0] == pytest.approx(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])


UNFREEZE = np.load(os.path.join(os.path.dirname(__file__), "data",
                                "keras_unfreeze_reference.npz"))


@pytest.mark.parametrize("name, optimizer", [
    ("sgd_momentum", lambda: SGD(0.1, momentum=0.9)), ("adam", lambda: Adam(0.01)),
    ("rmsprop", lambda: tinynet.optimizers.RMSprop(0.01, momentum=0.5))])
def test_a_weight_frozen_for_a_while_keeps_its_optimizer_state_as_in_keras(name, optimizer):
    # tests/data/make_keras_unfreeze_reference.py: 2 steps, 2 with the first two layers
    # frozen, 2 unfrozen again, without compiling again. Keras keeps a frozen weight's
    # momentum (Adam's m and v) and uses it once the weight trains again; starting it afresh
    # instead moved the weights by about 1e-2 here
    model = Sequential([Input(shape=(3,)), Dense(4, use_bias=False), BatchNormalization(),
                        Activation("relu"), Dense(1)])
    model.set_weights([UNFREEZE[f"w0_{i}"] for i in range(7)])
    model.compile(optimizer=optimizer(), loss="mse")
    losses = []
    for trainable in (True, True, False, False, True, True):
        model.layers[0].trainable = model.layers[1].trainable = trainable
        losses.append(model.train_on_batch(UNFREEZE["x"], UNFREEZE["y"]))
    np.testing.assert_allclose(losses, UNFREEZE[f"{name}_losses"], rtol=1e-5)
    for i, weight in enumerate(model.get_weights()):
        np.testing.assert_allclose(weight, UNFREEZE[f"{name}_w_{i}"], rtol=1e-5, atol=1e-6)


def test_a_popped_layers_parked_state_is_never_given_to_a_new_layer():
    # parked state is kept with its layer object: Python reuses the id of a freed layer,
    # and a new head added after popping a frozen one had started with the old head's m, v
    x = np.random.default_rng(3).normal(size=(64, 3)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    for trial in range(30):
        model = Sequential([Dense(4, input_shape=(3,)), Dense(1)])
        model.compile(optimizer=Adam(), loss="mse")
        model.fit(x, y, batch_size=32, verbose=0)
        model.layers[-1].trainable = False
        model.fit(x, y, batch_size=32, verbose=0)
        assert len(model.parked_slots) == 2  # the frozen head's kernel and bias
        popped = model.pop()
        new = Dense(1 + trial % 2)
        model.add(new)
        # the popped head's state waits with it, in case it comes back (as in Keras)
        assert [held[0] for held in model.parked_slots.values()] == [popped, popped]
        part = model.segments[(id(new), "kernel")]
        assert not model.optimizer.slots[0]["m"][part].any()
