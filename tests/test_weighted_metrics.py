"""compile(weighted_metrics=[...]): metrics that take the sample weights (sample_weight=, or
the weights class_weight gives), where `metrics` ignore them, named and computed as Keras 3
does. The numbers Keras 3.15 gave are in tests/data/keras_weighted_metrics_reference.npz, made
by tests/data/make_keras_weighted_metrics_reference.py; each case starts from the weights
Keras started from."""

import json
import os

import numpy as np
import pytest

from tinynet.layers import Dense
from tinynet.metrics import AUC
from tinynet.models import Sequential
from tinynet.optimizers import SGD

REF = np.load(os.path.join(os.path.dirname(__file__), "data",
                           "keras_weighted_metrics_reference.npz"))
LOGS = json.loads(str(REF["logs"]))
TOLERANCE = 1e-5  # float32 round-off over two epochs of training


def start_weights(case):
    return [REF[key] for key in sorted((k for k in REF.files
                                        if k.startswith(f"{case}_weights_")),
                                       key=lambda k: int(k.rsplit("_", 1)[1]))]


def assert_logs_match(ours, keras):
    assert list(ours) == sorted(keras)  # the same names, in Keras's (alphabetical) order
    for name, value in keras.items():
        assert np.asarray(ours[name], dtype=np.float64) == pytest.approx(
            np.asarray(value, dtype=np.float64), abs=TOLERANCE), name


def binary_model():
    model = Sequential([Dense(4, activation="relu", input_shape=(5,)),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer=SGD(0.1), loss="binary_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy", "mse", AUC(name="auc")])
    model.set_weights(start_weights("binary"))
    return model


def test_fit_evaluate_and_the_batch_methods_agree_with_keras():
    keras = LOGS["binary"]
    x, y, w = REF["binary_x"], REF["binary_y"], REF["binary_w"]
    model = binary_model()
    history = model.fit(x, y, sample_weight=w, batch_size=8, epochs=2, shuffle=False,
                        validation_data=(REF["binary_xv"], REF["binary_yv"], REF["binary_wv"]),
                        verbose=0)
    assert_logs_match(history.history, keras["history"])
    assert_logs_match(model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0,
                                     return_dict=True), keras["evaluate_weighted"])
    # without weights, a weighted metric is the plain one
    assert_logs_match(model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True),
                      keras["evaluate"])
    assert_logs_match(model.train_on_batch(x[:8], y[:8], sample_weight=w[:8], return_dict=True),
                      keras["train_on_batch"])
    assert_logs_match(model.test_on_batch(x[:8], y[:8], sample_weight=w[:8], return_dict=True),
                      keras["test_on_batch"])


def test_the_list_evaluate_returns_is_the_list_keras_returns():
    # Keras 3.15 builds it from each metric's own name: the weighted accuracy shares the
    # unweighted one's name, so the list repeats that value and ends with weighted_accuracy
    model = binary_model()
    x, y, w = REF["binary_x"], REF["binary_y"], REF["binary_w"]
    assert model.metrics_names == ["loss", "accuracy", "weighted_accuracy", "mse", "auc"]
    model.fit(x, y, sample_weight=w, batch_size=8, epochs=2, shuffle=False, verbose=0,
              validation_data=(REF["binary_xv"], REF["binary_yv"], REF["binary_wv"]))
    values = model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0)
    assert values == pytest.approx(LOGS["binary"]["evaluate_list"], abs=TOLERANCE)
    logs = model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0, return_dict=True)
    assert values == [logs[name] for name in
                      ("loss", "accuracy", "accuracy", "mse", "auc", "weighted_accuracy")]
    plain = Sequential([Dense(1, input_shape=(5,), activation="sigmoid")])
    plain.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["mse", "accuracy"])
    logs = plain.evaluate(x, y, verbose=0, return_dict=True)  # no repeated name: the order
    assert plain.evaluate(x, y, verbose=0) == [logs[n] for n in plain.metrics_names]


def test_class_weight_weighs_the_weighted_metrics_as_in_keras():
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer=SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    model.set_weights(start_weights("classes"))
    history = model.fit(REF["classes_x"], REF["classes_y"], class_weight={0: 1.0, 1: 3.0, 2: 0.5},
                        batch_size=10, epochs=2, shuffle=False, verbose=0)
    assert_logs_match(history.history, LOGS["classes"]["history"])


def test_repeated_names_are_numbered_and_prefixed_as_keras_names_them():
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["mse", "mse"],
                  weighted_metrics=["mse", "mse", "accuracy"])
    model.set_weights(start_weights("names"))
    logs = model.evaluate(REF["names_x"], REF["names_y"], sample_weight=REF["names_w"],
                          verbose=0, return_dict=True)
    assert_logs_match(logs, LOGS["names"]["evaluate"])


def test_weighted_metrics_must_be_a_list_and_survive_a_keras_file(tmp_path):
    with pytest.raises(TypeError, match=r"compile\(weighted_metrics=...\) must be a list"):
        Sequential([Dense(1, input_shape=(3,))]).compile(loss="mse", weighted_metrics="mae")
    model = binary_model()
    model.save(tmp_path / "m.keras")
    from tinynet.models import load_model

    again = load_model(tmp_path / "m.keras")
    assert again.metrics_names == model.metrics_names
    x, y, w = REF["binary_x"], REF["binary_y"], REF["binary_w"]
    assert again.evaluate(x, y, sample_weight=w, verbose=0) == pytest.approx(
        model.evaluate(x, y, sample_weight=w, verbose=0), rel=1e-6)
