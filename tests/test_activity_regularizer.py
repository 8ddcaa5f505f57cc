"""Activity regularizers (activity_regularizer=L1(1e-4) on any layer): a penalty on the
layer's OUTPUT, divided by the batch size, added to the loss in fit, train_on_batch and
evaluate, as in Keras 3.15.1 (tests/data/keras_activity_regularizer_reference.npz, made by
tests/data/make_keras_activity_regularizer_reference.py); its gradient reaches every layer
before it, also through a frozen layer; gradients checked against finite differences."""

import json
import os

import numpy as np
import pytest

import tinynet
from tinynet import regularizers as R
from tinynet.layers import Activation, BatchNormalization, Conv2D, Dense, Flatten, Input
from tinynet.models import Sequential, load_model
from tinynet.optimizers import SGD

REF = np.load(os.path.join(os.path.dirname(__file__), "data",
                           "keras_activity_regularizer_reference.npz"))


def models():
    """The fixture's three models, built in tinynet as the script builds them in Keras."""
    dense = Sequential([
        Input(shape=(6,)),
        Dense(8, activation="relu", activity_regularizer=R.L1(0.01)),
        BatchNormalization(activity_regularizer=R.L2(0.02)),
        Dense(1, activation="sigmoid", activity_regularizer=R.L1L2(0.01, 0.03))])
    conv = Sequential([
        Input(shape=(5, 5, 2)),
        Conv2D(3, 3, activation="relu", activity_regularizer="l2"),
        Flatten(),
        Activation("tanh", activity_regularizer=R.L1(0.005)),
        Dense(2, activation="softmax")])
    frozen = Sequential([
        Input(shape=(6,)),
        Dense(4, activation="tanh"),
        Dense(5, activity_regularizer=R.L2(0.05), trainable=False),
        Dense(1, activation="sigmoid")])
    return {"dense": (dense, "binary_crossentropy", ("x", "y")),
            "conv": (conv, "sparse_categorical_crossentropy", ("images", "labels")),
            "frozen": (frozen, "binary_crossentropy", ("x", "y"))}


def stored(case, when):
    keys = sorted((k for k in REF.files if k.startswith(f"{case}_{when}_")),
                  key=lambda k: int(k.rsplit("_", 1)[1]))
    return [REF[key] for key in keys]


@pytest.mark.parametrize("case", ["dense", "conv", "frozen"])
def test_training_with_activity_regularizers_gives_keras_s_numbers(case):
    model, loss, (x, y) = models()[case]
    model.set_weights(stored(case, "start"))
    model.compile(optimizer=SGD(0.1, momentum=0.9), loss=loss)
    history = model.fit(REF[x], REF[y], batch_size=12, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], REF[f"{case}_loss"], rtol=1e-5)
    for got, expected in zip(model.get_weights(), stored(case, "end"), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    evaluated = model.evaluate(REF[x], REF[y], batch_size=12, verbose=0)
    np.testing.assert_allclose(evaluated, REF[f"{case}_evaluate"], rtol=1e-5)
    trained = model.train_on_batch(REF[x][:7], REF[y][:7])
    np.testing.assert_allclose(trained, REF[f"{case}_train_on_batch"], rtol=1e-5)


def test_the_penalty_is_the_regularizer_on_the_output_over_the_batch_size():
    tinynet.set_seed(0)
    model = Sequential([Dense(3, input_shape=(2,), activity_regularizer=R.L2(0.1))])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 3), np.float32)
    output = model.predict(x, verbose=0)
    plain = float(np.mean(output ** 2))  # the mse against zeros
    assert model.evaluate(x, y, verbose=0) == pytest.approx(
        plain + 0.1 * float(np.sum(output ** 2)) / 4, rel=1e-6)


def test_keras_s_configs_are_read_and_files_keep_the_regularizer(tmp_path):
    for case in ("dense", "conv", "frozen"):
        for config in json.loads(str(REF[f"{case}_configs"])):
            entry = config.get("activity_regularizer")
            if entry is not None:
                rule = R.get(entry)
                assert type(rule).__name__ == entry["class_name"]
                assert rule.get_config() == pytest.approx(entry["config"])
    model = models()["dense"][0]
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    config = model.layers[0].get_config()
    assert list(config)[:4] == ["name", "trainable", "dtype", "activity_regularizer"]
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert [repr(layer.activity_regularizer) for layer in loaded.layers] == \
        [repr(layer.activity_regularizer) for layer in model.layers]


def test_a_model_with_activity_regularizers_passes_the_gradient_check():
    tinynet.set_seed(0)
    model = Sequential([
        Dense(4, input_shape=(3,), activation="tanh", activity_regularizer=R.L2(0.3),
              dtype="float64"),
        Dense(3, activity_regularizer=R.L1L2(0.0, 0.2), trainable=False, dtype="float64"),
        Activation("tanh", activity_regularizer=R.L2(0.1), dtype="float64"),
        Dense(1, activation="sigmoid", dtype="float64")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x = np.random.default_rng(1).normal(size=(5, 3))
    y = (x[:, :1] > 0).astype(np.float64)
    errors = tinynet.gradcheck.check_model(model, x, y)
    assert max(errors.values()) < 1e-6, errors


def test_setting_the_regularizer_later_and_bad_ones():
    # a plain attribute, as in Keras 3: Keras code may set it to a regularizer later
    tinynet.set_seed(0)
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    plain = model.evaluate(x, y, verbose=0)
    model.layers[0].activity_regularizer = R.L2(1.0)
    output = model.predict(x, verbose=0)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(
        plain + float((output ** 2).sum()) / 4, rel=1e-6)
    with pytest.raises(ValueError, match=r"Dense\(activity_regularizer=...\)"):
        Dense(2, activity_regularizer="l3")
    with pytest.raises(TypeError, match=r"activity_regularizer"):
        Dense(2, activity_regularizer=3)


def test_model_losses_lists_the_activity_penalties_first_as_keras_does():
    tinynet.set_seed(0)
    model = Sequential([Dense(3, input_shape=(2,), kernel_regularizer=R.L2(0.5),
                              activity_regularizer=R.L1(0.1)),
                        Dense(1, activity_regularizer=R.L2(0.2))])
    model.compile(optimizer="sgd", loss="mse")
    assert len(model.losses) == 1  # before any forward pass: the weight penalty only
    x = np.ones((4, 2), np.float32)
    model.evaluate(x, np.zeros((4, 1)), verbose=0)
    hidden = x @ model.layers[0].kernel + model.layers[0].bias
    output = hidden @ model.layers[1].kernel + model.layers[1].bias
    np.testing.assert_allclose(model.losses, [0.1 * np.abs(hidden).sum() / 4,
                                              0.2 * (output ** 2).sum() / 4,
                                              0.5 * (model.layers[0].kernel ** 2).sum()],
                               rtol=1e-6)
    assert sum(model.losses) == pytest.approx(model.regularization_loss())
