"""Every bad input a student is likely to type meets an error that teaches.

Each test asserts the exception's type and the key words of its message: the argument (or
layer) it names, what was expected and what came. None relies on a NumPy error text.
"""

import warnings

import numpy as np
import pytest
from helpers import raises

import tinynet
from tinynet import initializers, losses, optimizers, validation
from tinynet.layers import Activation, BatchNormalization, Dense, Dropout, ReLU
from tinynet.models import Sequential
from tinynet.optimizers import SGD, Adam


def binary_model():
    """3 features -> 1 sigmoid output, compiled with binary cross-entropy."""
    tinynet.set_seed(0)
    model = Sequential([Dense(4, input_shape=(3,)), BatchNormalization(),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def softmax_model(loss, classes=3):
    tinynet.set_seed(0)
    model = Sequential([Dense(4, input_shape=(3,)), Dense(classes, activation="softmax")])
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def data(n=10):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)), (np.arange(n) % 2).astype(float)


X, Y = data()


# -- x and y ------------------------------------------------------------------------------

def with_nan(array):
    array = array.copy()
    array.flat[1] = np.nan
    return array


BAD_DATA = [
    # (case, x, y, exception, words in the message)
    ("wrong feature count", np.zeros((10, 4)), Y, ValueError, ["x", "(3,)", "3 features",
                                                               "(10, 4)"]),
    ("x and y of different lengths", X, Y[:9], ValueError, ["same number of samples", "10",
                                                             "9"]),
    ("1-D x", X[:, 0], Y, ValueError, ["x", "2 dimension", "(10,)", "each of 3 features"]),
    ("empty x", np.zeros((0, 3)), np.zeros(0), ValueError, ["x", "empty", "(0, 3)"]),
    ("empty list x", [], [], ValueError, ["x", "empty"]),
    ("empty y", X, [], ValueError, ["y", "empty"]),
    ("non-numeric x", [["a", "b", "c"]] * 10, Y, TypeError, ["x", "numeric", "<U1"]),
    ("ragged x", [[1, 2, 3], [1, 2]], [0, 1], TypeError, ["x", "rectangular",
                                                           "same length"]),
    ("non-numeric y", X, ["cat", "dog"] * 5, TypeError, ["y", "numeric"]),
    ("NaN in x", with_nan(X), Y, ValueError, ["x", "1 NaN or infinite"]),
    ("inf in y", X, np.where(Y > 0, np.inf, 0.0), ValueError, ["y", "5 NaN or infinite"]),
    ("x too large for float32", X * 1e300, Y, ValueError, ["x", "too large for float32"]),
    ("y missing", X, None, TypeError, ["y", "required", "None"]),
]


@pytest.mark.parametrize("case, x, y, exception, words", BAD_DATA,
                         ids=[case[0] for case in BAD_DATA])
def test_fit_refuses_bad_data_naming_x_or_y(case, x, y, exception, words):
    raises(exception, lambda: binary_model().fit(x, y, verbose=0), "fit:", *words)


@pytest.mark.parametrize("method", ["evaluate", "train_on_batch"])
def test_evaluate_and_train_on_batch_check_data_like_fit(method):
    model = binary_model()
    call = getattr(model, method)
    kwargs = {"verbose": 0} if method == "evaluate" else {}
    raises(ValueError, lambda: call(np.zeros((10, 4)), Y, **kwargs), method, "3 features")
    raises(ValueError, lambda: call(X, Y[:7], **kwargs), method, "same number of samples")
    raises(ValueError, lambda: call(with_nan(X), Y, **kwargs), method, "NaN")


@pytest.mark.parametrize("where, call", [
    ("predict", lambda model: model.predict(np.zeros((5, 4)))),
    ("model(x)", lambda model: model(np.zeros((5, 4)))),
])
def test_predict_and_call_check_the_feature_count(where, call):
    raises(ValueError, lambda: call(binary_model()), where, "(3,)", "(5, 4)")


def test_predict_refuses_1d_and_nan_inputs():
    model = binary_model()
    raises(ValueError, lambda: model.predict(X[:, 0]), "predict", "2 dimension")
    raises(ValueError, lambda: model.predict(with_nan(X)), "predict", "NaN")


def test_a_built_layer_called_on_the_wrong_shape_names_the_layer():
    layer = Dense(2, name="hidden")
    layer(np.zeros((4, 3)))
    raises(ValueError, lambda: layer(np.zeros((4, 5))), "Dense 'hidden'", "(3,)", "(4, 5)")
    raises(TypeError, lambda: layer([["a", "b", "c"]]), "Dense 'hidden'", "numeric")


def test_validation_data_is_checked_like_the_training_data():
    model = binary_model()
    raises(TypeError, lambda: model.fit(X, Y, validation_data=X, verbose=0),
           "validation_data", "(x_val, y_val)")
    raises(ValueError, lambda: model.fit(X, Y, validation_data=(np.zeros((4, 5)), Y[:4]),
                                         verbose=0), "validation_data", "3 features")


# -- targets that do not fit the loss -------------------------------------------------------

@pytest.mark.parametrize("bad", [2.0, -0.5])
def test_binary_crossentropy_refuses_targets_outside_0_1(bad):
    y = Y.copy()
    y[3] = bad
    raises(ValueError, lambda: binary_model().fit(X, y, verbose=0),
           "binary_crossentropy", "[0, 1]", f"{bad:g}")


@pytest.mark.parametrize("bad", [3, 7, -1])
def test_sparse_labels_outside_the_classes_are_refused(bad):
    labels = np.arange(10) % 3
    labels[4] = bad
    raises(ValueError, lambda: softmax_model("sparse_categorical_crossentropy").fit(
        X, labels, verbose=0), "sparse labels", "[0, 3)", "3 outputs", str(bad))


def test_sparse_labels_must_be_whole_numbers():
    labels = (np.arange(10) % 3).astype(float)
    labels[2] = 1.5
    raises(ValueError, lambda: softmax_model("sparse_categorical_crossentropy").fit(
        X, labels, verbose=0), "sparse labels", "whole numbers", "1.5")


def test_sparse_labels_given_one_hot_point_to_categorical_crossentropy():
    one_hot = np.eye(3)[np.arange(10) % 3]
    raises(ValueError, lambda: softmax_model("sparse_categorical_crossentropy").fit(
        X, one_hot, verbose=0), "(10,)", "(10, 3)", "'categorical_crossentropy'")


@pytest.mark.parametrize("y, got", [
    (np.eye(4)[np.arange(10) % 4], "(10, 4)"),
    (np.arange(10) % 3, "(10,)"),
])
def test_categorical_targets_must_be_one_hot_of_the_output_width(y, got):
    raises(ValueError, lambda: softmax_model("categorical_crossentropy").fit(X, y, verbose=0),
           "one-hot", "(10, 3)", got, "sparse_categorical_crossentropy")


def test_mse_targets_must_match_the_output_shape():
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(loss="mse")
    raises(ValueError, lambda: model.fit(X, np.zeros((10, 2)), verbose=0),
           "y has shape (10, 2)", "(None, 1)", "(10, 1)")


def test_a_loss_called_by_hand_refuses_shapes_that_would_broadcast_silently():
    raises(ValueError, lambda: losses.mse(np.zeros(3), np.zeros((3, 3))),
           "MeanSquaredError()", "(3,)", "(3, 3)")
    raises(ValueError, lambda: losses.mse([1.0, 2.0], [1.0, 2.0, 3.0]),
           "same number of samples", "2 and 3")
    raises(ValueError, lambda: losses.binary_crossentropy([1.0, 0.0, 2.0], [0.5, 0.5, 0.5]),
           "BinaryCrossentropy()", "[0, 1]")
    halves = np.full((2, 2), 0.5)
    raises(ValueError, lambda: losses.sparse_categorical_crossentropy([0, 3], halves),
           "sparse labels", "[0, 2)")


# -- numbers out of range or of the wrong type ---------------------------------------------

BAD_ARGUMENTS = [
    # (call, exception, words)
    (lambda: Dense(0), ValueError, ["Dense(units=...)", ">= 1", "got 0"]),
    (lambda: Dense(-3), ValueError, ["Dense(units=...)", ">= 1", "got -3"]),
    (lambda: Dense(3.5), TypeError, ["Dense(units=...)", "integer", "3.5", "float"]),
    (lambda: Dense("64"), TypeError, ["Dense(units=...)", "integer", "'64'", "str"]),
    (lambda: Dense(True), TypeError, ["Dense(units=...)", "integer", "True"]),
    (lambda: Dense(3, use_bias="yes"), TypeError, ["use_bias", "True or False"]),
    (lambda: Dense(3, input_shape=(0,)), ValueError, ["input_shape", ">= 1", "got 0"]),
    (lambda: Dense(3, input_shape="20"), TypeError, ["input_shape", "(20,)", "'20'"]),
    (lambda: Dense(3, name=""), TypeError, ["name", "non-empty string"]),
    (lambda: Dense(3, dtype="int32"), ValueError, ["dtype", "'float32' or 'float64'",
                                                   "'int32'"]),
    (lambda: Dropout(1.0), ValueError, ["Dropout(rate=...)", "[0, 1)", "got 1"]),
    (lambda: Dropout(-0.1), ValueError, ["Dropout(rate=...)", "[0, 1)", "got -0.1"]),
    (lambda: Dropout("0.5"), TypeError, ["Dropout(rate=...)", "number", "'0.5'"]),
    (lambda: BatchNormalization(momentum=1.5), ValueError,
     ["BatchNormalization(momentum=...)", "[0, 1]", "1.5"]),
    (lambda: BatchNormalization(momentum=-0.1), ValueError, ["momentum", "[0, 1]", "-0.1"]),
    (lambda: BatchNormalization(momentum="high"), TypeError, ["momentum", "number"]),
    (lambda: BatchNormalization(epsilon=0), ValueError,
     ["BatchNormalization(epsilon=...)", "(0, inf]", "got 0"]),
    (lambda: BatchNormalization(epsilon=float("nan")), ValueError, ["epsilon", "finite"]),
    (lambda: BatchNormalization(center=1), TypeError, ["center", "True or False"]),
    (lambda: Adam(learning_rate=-1), ValueError, ["Adam(learning_rate=...)", "[0, inf]",
                                                  "got -1"]),
    (lambda: Adam(learning_rate=-0.01), ValueError, ["learning_rate", "-0.01"]),
    (lambda: Adam(learning_rate="0.001"), TypeError, ["learning_rate", "number", "'0.001'"]),
    (lambda: Adam(learning_rate=float("inf")), ValueError, ["learning_rate", "finite"]),
    (lambda: Adam(epsilon=-1e-7), ValueError, ["Adam(epsilon=...)", "[0, inf]"]),
    (lambda: Adam(beta_1=1.0), ValueError, ["Adam(beta_1=...)", "[0, 1)"]),
    (lambda: SGD(learning_rate=-1), ValueError, ["SGD(learning_rate=...)", "[0, inf]"]),
    (lambda: SGD(momentum=1.5), ValueError, ["SGD(momentum=...)", "[0, 1]", "1.5"]),
    (lambda: SGD(nesterov="yes"), TypeError, ["nesterov", "True or False"]),
    (lambda: initializers.RandomNormal(stddev=-1), ValueError, ["stddev", "-1"]),
    (lambda: initializers.RandomUniform(0.5, -0.5), ValueError, ["maxval", "minval"]),
    (lambda: losses.BinaryCrossentropy(from_logits="no"), TypeError,
     ["from_logits", "True or False"]),
]


@pytest.mark.parametrize("call, exception, words", BAD_ARGUMENTS)
def test_constructors_refuse_out_of_range_or_mistyped_arguments(call, exception, words):
    raises(exception, call, *words)


BAD_FIT_ARGUMENTS = [
    ({"batch_size": 0}, ValueError, ["fit(batch_size=...)", ">= 1", "got 0"]),
    ({"batch_size": 2.5}, TypeError, ["fit(batch_size=...)", "integer", "2.5"]),
    ({"batch_size": "32"}, TypeError, ["fit(batch_size=...)", "integer", "'32'"]),
    ({"epochs": -1}, ValueError, ["fit(epochs=...)", ">= 0", "-1"]),
    ({"epochs": 1.5}, TypeError, ["fit(epochs=...)", "integer", "1.5"]),
    ({"validation_split": 1.0}, ValueError, ["fit(validation_split=...)", "[0, 1)", "got 1"]),
    ({"validation_split": -0.2}, ValueError, ["validation_split", "-0.2"]),
    ({"validation_split": "0.2"}, TypeError, ["validation_split", "number", "'0.2'"]),
    ({"validation_split": 0.95}, ValueError, ["validation_split=0.95", "leaves no samples",
                                              "10 samples"]),
    ({"verbose": 3}, ValueError, ["fit(verbose=...)", "0 (silent)", "got 3"]),
    ({"shuffle": "yes"}, TypeError, ["fit(shuffle=...)", "True or False"]),
    ({"callbacks": "history"}, TypeError, ["fit(callbacks=...)", "list"]),
    ({"callbacks": [print]}, TypeError, ["fit(callbacks=...)", "not a tinynet Callback"]),
]


@pytest.mark.parametrize("kwargs, exception, words", BAD_FIT_ARGUMENTS,
                         ids=[str(case[0]) for case in BAD_FIT_ARGUMENTS])
def test_fit_refuses_out_of_range_or_mistyped_arguments(kwargs, exception, words):
    kwargs.setdefault("verbose", 0)
    raises(exception, lambda: binary_model().fit(X, Y, **kwargs), *words)


def test_evaluate_and_predict_check_batch_size_and_verbose():
    model = binary_model()
    raises(ValueError, lambda: model.evaluate(X, Y, batch_size=0), "evaluate(batch_size=...)",
           ">= 1")
    raises(ValueError, lambda: model.predict(X, batch_size=-1), "predict(batch_size=...)",
           "got -1")
    raises(ValueError, lambda: model.evaluate(X, Y, verbose=3), "evaluate(verbose=...)",
           "got 3")
    raises(ValueError, lambda: model.predict(X, verbose=1.0), "predict(verbose=...)", "1.0")


def test_verbose_may_be_false_or_true_as_in_keras():
    model = binary_model()
    assert model.evaluate(X, Y, verbose=False) == model.evaluate(X, Y, verbose=0)
    assert model.fit(X, Y, verbose=False).params["verbose"] is False  # as given, as Keras keeps


# -- order of calls, empty models ---------------------------------------------------------

@pytest.mark.parametrize("method, args", [
    ("fit", (X, Y)), ("evaluate", (X, Y)), ("train_on_batch", (X, Y)),
])
def test_training_or_evaluating_before_compile_says_to_compile(method, args):
    model = Sequential([Dense(1, input_shape=(3,))])
    raises(RuntimeError, lambda: getattr(model, method)(*args), method, "compile the model "
           "first", "model.compile(")


@pytest.mark.parametrize("call", [
    lambda model: model.fit(X, Y),
    lambda model: model.compile(loss="mse"),
    lambda model: model.predict(X),
    lambda model: model(X),
    lambda model: model.build((None, 3)),
])
def test_a_model_with_no_layers_says_so(call):
    raises(ValueError, lambda: call(Sequential()), "no layers", "add")


def test_compile_needs_a_loss_and_a_list_of_metrics():
    model = Sequential([Dense(1, input_shape=(3,))])
    raises(ValueError, lambda: model.compile(), "loss is required", "binary_crossentropy")
    raises(TypeError, lambda: model.compile(loss="mse", metrics="mae"), "metrics", "list",
           "'mae'")
    # Keras 3 accepts 'accuracy' with any loss (see test_metrics.py); tinynet warns
    with pytest.warns(UserWarning, match="'mae' or 'mse' say how far off"):
        model.compile(loss="mse", metrics=["accuracy"])


def test_sequential_add_refuses_what_is_not_a_layer_or_is_misplaced():
    raises(TypeError, lambda: Sequential().add("dense"), "Sequential.add", "tinynet layer",
           "'dense'")
    raises(TypeError, lambda: Sequential(Dense(3)), "list of layers", "Dense")
    raises(TypeError, lambda: Sequential(name=5), "Sequential(name=...)", "string", "5")
    raises(TypeError, lambda: Sequential([Dense(3)]).build(20), "build(input_shape=...)",
           "(None, 20)", "got 20")
    layer = Dense(3, input_shape=(2,))
    model = Sequential([layer])
    raises(ValueError, lambda: model.add(layer), "already in this model")
    raises(ValueError, lambda: model.add(Dense(2, input_shape=(3,))), "only the first layer",
           "input_shape")


# -- mistyped names: the valid choices and the closest match ------------------------------

MISTYPED_NAMES = [
    (lambda: Dense(3, activation="rleu"), ["activation", "'rleu'", "Did you mean 'relu'?",
                                           "sigmoid, silu, softmax"]),
    (lambda: Activation("sigmod"), ["activation", "Did you mean 'sigmoid'?"]),
    (lambda: Sequential([Dense(1, input_shape=(3,))]).compile(loss="binary_crossentropi"),
     ["loss", "Did you mean 'binary_crossentropy'?", "mse"]),
    (lambda: Sequential([Dense(1, input_shape=(3,))]).compile(optimizer="adamm", loss="mse"),
     ["optimizer", "Did you mean 'adam'?", "rmsprop, sgd"]),
    (lambda: Sequential([Dense(1, input_shape=(3,))]).compile(loss="mse", metrics=["maee"]),
     ["metric", "Did you mean 'mae'?", "accuracy"]),
    (lambda: Dense(3, kernel_initializer="glorot_unifrom"),
     ["kernel_initializer", "Did you mean 'glorot_uniform'?", "he_normal"]),
    (lambda: Dense(3, bias_initializer="zero"), ["bias_initializer", "Did you mean 'zeros'?"]),
]


@pytest.mark.parametrize("call, words", MISTYPED_NAMES)
def test_a_mistyped_name_lists_the_choices_and_the_closest_one(call, words):
    raises(ValueError, call, "Unknown", "Valid choices", *words)


def test_a_name_of_the_wrong_type_is_a_type_error():
    raises(TypeError, lambda: Dense(3, activation=3), "activation", "'relu'")
    raises(TypeError, lambda: losses.get(3), "loss", "'binary_crossentropy'")
    raises(TypeError, lambda: optimizers.get(None), "optimizer", "'adam'")
    raises(TypeError, lambda: initializers.get(0.5), "initializer", "'glorot_uniform'")


@pytest.mark.parametrize("call, unknown, close", [
    (lambda: Dense(3, activaton="relu"), "activaton", "activation"),
    (lambda: Dense(3, input_shap=(20,)), "input_shap", "input_shape"),
    (lambda: BatchNormalization(epsilom=1e-3), "epsilom", "epsilon"),
    (lambda: Dropout(0.5, nmae="drop"), "nmae", "name"),
    (lambda: ReLU(dtpye="float64"), "dtpye", "dtype"),
])
def test_a_mistyped_constructor_argument_names_the_closest_one(call, unknown, close):
    raises(TypeError, call, f"unknown argument '{unknown}'", f"Did you mean '{close}'?",
           "Valid arguments")


# -- set_weights: the wrong count or shapes change nothing ---------------------------------

def weights_unchanged(model, before):
    return all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_set_weights_with_the_wrong_count_says_how_many():
    model = binary_model()
    before = model.get_weights()
    raises(ValueError, lambda: model.set_weights(before[:-1]), "set_weights", "8 weight arrays",
           "got 7")
    assert weights_unchanged(model, before)


def test_set_weights_with_a_wrong_shape_names_the_layer_and_both_shapes():
    model = binary_model()
    before = model.get_weights()
    bad = [w + 1 for w in before]
    bad[-2] = np.zeros((1, 4))  # the last kernel, transposed
    raises(ValueError, lambda: model.set_weights(bad), "set_weights", "'kernel'",
           "'dense_1'", "(4, 1)", "(1, 4)")
    assert weights_unchanged(model, before)


def test_set_weights_changes_nothing_when_the_last_array_is_not_numeric():
    model = binary_model()
    before = model.get_weights()
    bad = [w + 1 for w in before]
    bad[-1] = np.array(["a"])
    raises(TypeError, lambda: model.set_weights(bad), "set_weights", "'bias'", "numeric")
    assert weights_unchanged(model, before)


def test_set_weights_needs_a_list_and_a_built_model():
    raises(TypeError, lambda: binary_model().set_weights(np.zeros(3)), "set_weights", "list")
    raises(ValueError, lambda: Sequential([Dense(2)]).set_weights([]), "set_weights",
           "not built")


# -- load_weights / save_weights: bad files change nothing ---------------------------------

def test_load_weights_from_a_missing_file(tmp_path):
    model = binary_model()
    missing = tmp_path / "nothing.npz"
    raises(FileNotFoundError, lambda: model.load_weights(missing), "load_weights",
           "no such file", str(missing))


def test_load_weights_from_a_folder(tmp_path):
    raises(IsADirectoryError, lambda: binary_model().load_weights(tmp_path), "load_weights",
           "is a folder")


@pytest.mark.parametrize("content", [b"", b"not a weights file at all", b"PK\x03\x04broken"])
def test_load_weights_from_a_corrupt_file_changes_nothing(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    model = binary_model()
    before = model.get_weights()
    raises(ValueError, lambda: model.load_weights(path), "load_weights",
           "not a tinynet weights file", ".npz")
    assert weights_unchanged(model, before)


def test_load_weights_from_a_truncated_file_changes_nothing(tmp_path):
    path = tmp_path / "weights.npz"
    model = binary_model()
    model.save_weights(path)
    path.write_bytes(path.read_bytes()[:200])
    before = model.get_weights()
    raises(ValueError, lambda: model.load_weights(path), "not a tinynet weights file")
    assert weights_unchanged(model, before)


def test_load_weights_from_a_npy_file(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.zeros(3))
    raises(ValueError, lambda: binary_model().load_weights(path), "not a tinynet weights file")


def test_load_weights_from_a_foreign_npz_names_what_is_missing(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, kernel=np.zeros((3, 4)))
    model = binary_model()
    before = model.get_weights()
    raises(ValueError, lambda: model.load_weights(path), "not saved by tinynet",
           "architecture", "'kernel'")
    assert weights_unchanged(model, before)


def test_load_weights_refuses_an_npz_holding_pickled_objects(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, architecture=np.array([{"a": 1}], dtype=object))
    raises(ValueError, lambda: binary_model().load_weights(path), "damaged or holds",
           "plain arrays")


def test_load_weights_refuses_an_incomplete_file(tmp_path):
    model = binary_model()
    path = tmp_path / "incomplete.npz"
    weights = {f"weight_{i:04d}": w for i, w in enumerate(model.get_weights()[:-1])}
    np.savez(path, architecture=np.array(model.architecture()), **weights)
    before = model.get_weights()
    raises(ValueError, lambda: model.load_weights(path), "incomplete", "weight_0007")
    assert weights_unchanged(model, before)


def test_load_weights_into_a_different_architecture_changes_nothing(tmp_path):
    path = tmp_path / "other.npz"
    tinynet.set_seed(1)
    Sequential([Dense(5, input_shape=(3,)), Dense(1)]).save_weights(path)
    model = binary_model()
    before = model.get_weights()
    raises(ValueError, lambda: model.load_weights(path), "different model",
           "Dense:kernel:(3, 5)", "Dense:kernel:(3, 4)")
    assert weights_unchanged(model, before)


def test_load_and_save_need_a_built_model_and_a_path(tmp_path):
    unbuilt = Sequential([Dense(2)])
    raises(ValueError, lambda: unbuilt.save_weights(tmp_path / "w.npz"), "save_weights",
           "not built")
    raises(ValueError, lambda: unbuilt.load_weights(tmp_path / "w.npz"), "load_weights",
           "build the model first")
    raises(TypeError, lambda: binary_model().save_weights(42), "save_weights", "file name",
           "42")


def test_save_weights_into_a_missing_folder_says_to_create_it(tmp_path):
    missing = tmp_path / "no" / "such" / "folder"
    raises(FileNotFoundError, lambda: binary_model().save_weights(missing / "w.npz"),
           "save_weights", str(missing), "does not exist", "os.makedirs")


def test_save_weights_onto_a_folder_suggests_a_file_name(tmp_path):
    raises(IsADirectoryError, lambda: binary_model().save_weights(tmp_path), "save_weights",
           "is a folder", "model.weights.npz")


# -- what is converted, not refused ---------------------------------------------------------

def test_lists_ints_and_float64_are_converted_not_refused():
    model = binary_model()
    x_list = X.tolist()
    y_ints = [int(v) for v in Y]
    history = model.fit(x_list, y_ints, batch_size=np.int64(5), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    x_ints = np.arange(30).reshape(10, 3)
    assert model.predict(x_ints).dtype == np.float32
    assert model.predict(X.astype(np.float64)).shape == (10, 1)
    assert np.isfinite(model.evaluate(X, Y.reshape(-1, 1).astype(bool), verbose=0)[0])


def test_numpy_scalars_and_ints_are_accepted_as_hyperparameters():
    assert Dense(np.int64(3)).units == 3
    assert Adam(learning_rate=1).learning_rate == 1.0
    assert BatchNormalization(momentum=np.float32(0.9)).momentum == pytest.approx(0.9)


def test_verbose_auto_means_1(capsys):
    binary_model().fit(X, Y, verbose="auto")
    assert "1/1 \u2501" in capsys.readouterr().out  # Keras 3 omits 'Epoch 1/1' for one epoch


def test_a_failed_build_leaves_no_half_built_layers():
    reused = Dense(2)
    Sequential([Dense(3, input_shape=(5,)), reused])  # reused is now built for 3 inputs
    model = Sequential([Dense(4), reused])
    with pytest.raises(ValueError, match="built for inputs"):
        model.build((None, 7))
    first = model.layers[0]
    assert not first.built and first.params == {} and not model.built


def test_a_layer_that_cannot_be_added_does_not_stay_in_the_model():
    reused = Dense(2)
    Sequential([Dense(3, input_shape=(5,)), reused])
    model = Sequential([Dense(4, input_shape=(5,))])
    with pytest.raises(ValueError, match="built for inputs"):
        model.add(reused)
    assert len(model.layers) == 1
    assert model.count_params() == 5 * 4 + 4


def test_fit_warns_when_the_last_batch_holds_one_sample_and_bn_is_there():
    tinynet.set_seed(0)
    model = Sequential([Dense(4, input_shape=(3,)), BatchNormalization(),
                        Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy")
    x = np.random.default_rng(0).normal(size=(33, 3))
    y = (x[:, 0] > 0).astype(float)
    with pytest.warns(RuntimeWarning, match="one sample alone in the last batch"):
        model.fit(x, y, batch_size=32, verbose=0)


def test_huge_but_finite_float64_data_is_accepted_and_nan_among_it_is_not():
    from tinynet.validation import to_float_array

    huge = np.full((4, 2), 1e308)  # its sum overflows, its values are fine
    assert to_float_array(huge, "x", dtype="float64").shape == (4, 2)
    huge[2, 1] = np.nan
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        to_float_array(huge, "x", dtype="float64")


# -- round 2 (the core): each kind of mistake meets one check where it enters --------------

def test_x_with_samples_but_no_features_says_0_features_not_empty():
    message = raises(ValueError, lambda: binary_model().fit(np.zeros((64, 0)), np.zeros(64),
                                                            verbose=0), "64 samples", "0 values")
    assert "empty" not in message


def test_a_failed_fit_with_transposed_x_leaves_the_model_unbuilt():
    model = Sequential([Dense(4), Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy")
    x = np.random.default_rng(0).normal(size=(64, 20))
    raises(ValueError, lambda: model.fit(x.T, np.zeros(64), verbose=0), "same number of samples",
           "transposed")
    assert not model.built
    model.fit(x, np.zeros(64), verbose=0)  # the corrected call works
    assert model.input_shape == (32, 20)  # built for the first batch, as Keras 3 builds it


@pytest.mark.parametrize("n, batch", [(128, 128), (100, 100), (100, 32), (7, 7)])
@pytest.mark.parametrize("value", [12345.678, -3.0e6, 0.1, 7.0e-4])
def test_a_constant_feature_normalizes_to_exactly_beta(value, n, batch):
    layer = BatchNormalization()
    x = np.random.default_rng(0).normal(size=(n, 3)).astype(np.float32)
    x[:, 1] = value
    layer.build((None, 3))
    layer.params["beta"][...] = 0.25
    y = layer.forward(x[:batch], training=True)
    np.testing.assert_array_equal(y[:, 1], np.float32(0.25))


def test_inputs_too_large_for_float32_warn_about_the_variance():
    layer = BatchNormalization()
    x = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32) * np.float32(1e30)
    with pytest.warns(RuntimeWarning, match="overflowed.*Standardize"):
        layer.forward(x, training=True)


def test_fit_given_a_generator_of_batches_says_fit_takes_arrays():
    model = binary_model()
    batches = tinynet.datasets.batches(X, Y, batch_size=4)
    raises(TypeError, lambda: model.fit(batches, verbose=0), "fit takes arrays",
           "Pass the whole arrays")


def test_predict_of_one_sample_as_a_vector_suggests_reshape_1_minus_1():
    raises(ValueError, lambda: binary_model().predict(X[0]), "reshape(1, -1)", "3 features")


def test_train_on_batch_of_one_sample_with_bn_warns():
    with pytest.warns(RuntimeWarning, match="batches of one sample"):
        binary_model().train_on_batch(X[:1], Y[:1])


def test_batch_size_none_means_32():
    model = binary_model()
    x = np.random.default_rng(0).normal(size=(70, 3))
    history = model.fit(x, np.zeros(70), batch_size=None, verbose=0)
    assert history.params["steps"] == 3  # ceil(70 / 32)


def test_validation_data_with_sample_weights_is_taken_and_four_items_are_not():
    model = binary_model()
    history = model.fit(X, Y, validation_data=(X, Y, np.ones(len(X))), verbose=0)
    assert "val_loss" in history.history
    raises(TypeError, lambda: model.fit(X, Y, validation_data=(X, Y, Y, Y), verbose=0),
           "validation_data", "4 items", "sample_weight_val")


def test_one_optimizer_shared_by_two_models_is_refused_naming_it():
    adam = Adam()
    first = binary_model()
    first.compile(optimizer=adam, loss="binary_crossentropy")
    second = Sequential([Dense(2, input_shape=(3,)), Dense(1, activation="sigmoid")])
    raises(ValueError, lambda: second.compile(optimizer=adam, loss="binary_crossentropy"),
           "Adam", "already used", first.name)


@pytest.mark.parametrize("last, words", [
    (Dense(1, activation="softmax"), ["softmax over 1 unit", "sigmoid"]),
    (Dense(1), ["not probabilities", "from_logits=True"]),
])
def test_an_output_that_cannot_work_with_binary_crossentropy_warns_at_compile(last, words):
    model = Sequential([Dense(4, input_shape=(3,)), last])
    with pytest.warns(UserWarning) as record:
        model.compile(loss="binary_crossentropy")
    for word in words:
        assert word in str(record[0].message)


def test_a_sigmoid_followed_by_layers_that_pass_it_on_does_not_warn_at_compile():
    # Dense(1, 'sigmoid') then Activation('linear') or Dropout still outputs probabilities
    for tail in ([Activation("linear")], [Dropout(0.5)],
                 [Dropout(0.5), Activation("linear")]):
        model = Sequential([Dense(4, input_shape=(3,)), Dense(1, activation="sigmoid"), *tail])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model.compile(loss="binary_crossentropy")
    model = Sequential([Dense(4, input_shape=(3,)), Dense(1, activation="sigmoid"), Dense(1)])
    with pytest.warns(UserWarning, match="'linear' values"):  # a Dense after it: linear again
        model.compile(loss="binary_crossentropy")


@pytest.mark.parametrize("layer", [Dense(3), BatchNormalization(), Dropout(0.5), ReLU(),
                                   tinynet.layers.LayerNormalization()])
def test_backward_before_forward_says_to_call_forward_first(layer):
    if not isinstance(layer, ReLU):
        layer.build((None, 3))
    raises(RuntimeError, lambda: layer.backward(np.ones((2, 3))), "before forward",
           "forward(x, training=True)")


def test_model_backward_before_forward_says_to_call_forward_first():
    raises(RuntimeError, lambda: binary_model().backward(np.ones((2, 1))), "before forward")


def test_forward_on_a_layer_never_built_builds_it():
    layer = Dense(8)
    y = layer.forward(np.ones((2, 5), dtype=np.float32))
    assert y.shape == (2, 8) and layer.params["kernel"].shape == (5, 8)


@pytest.mark.parametrize("layer", [Dense(3), BatchNormalization(),
                                   tinynet.layers.LayerNormalization()])
def test_forward_on_the_wrong_width_names_the_layer_and_both_widths(layer):
    layer.name = "mine"
    layer.build((None, 8))
    raises(ValueError, lambda: layer.forward(np.ones((2, 5), dtype=np.float32)), "'mine'",
           "(8,)", "(2, 5)")


def test_backward_given_the_wrong_shape_names_the_layer():
    layer = Dense(3, name="mine")
    layer.forward(np.ones((2, 4), dtype=np.float32), training=True)
    raises(ValueError, lambda: layer.backward(np.ones((2, 4))), "'mine'", "grad_output",
           "(batch, 3)")


def test_a_layer_whose_backward_sets_no_gradient_is_named_at_the_step():
    class Forgetful(Dense):
        def backward(self, grad_output):
            return grad_output @ self.params["kernel"].T  # forgot self.grads

    model = Sequential([Dense(2, input_shape=(3,)), Forgetful(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy")
    raises(RuntimeError, lambda: model.train_on_batch(X, Y), "Forgetful", "grads['kernel']")


@pytest.mark.parametrize("method, kwargs, words", [
    ("compile", {"loss": "mse", "loss_weights": [1.0, 2.0]}, ["loss_weights",
                                                              "does not have"]),
    ("compile", {"loss": "mse", "lose": "mse"}, ["'lose'", "Did you mean 'loss'?"]),
    ("fit", {"x": X, "y": Y, "steps_per_epoch": 3}, ["steps_per_epoch", "does not have"]),
    ("fit", {"x": X, "y": Y, "epoch": 3}, ["'epoch'", "Did you mean 'epochs'?"]),
    ("predict", {"x": X, "workers": 2}, ["workers", "does not have"]),
])
def test_keras_arguments_tinynet_lacks_get_an_error_that_says_so(method, kwargs, words):
    message = raises(TypeError, lambda: getattr(binary_model(), method)(**kwargs), *words)
    assert "keras_only" not in message


def test_images_without_a_channels_axis_get_one_as_in_keras():
    # Keras 3 adds (or drops) a last axis of length 1 that is all the samples lack (or have
    # too many); any other mismatch is an error, and one sample without its batch axis is
    # told to add it
    from tinynet.layers import Conv2D, Flatten

    model = Sequential([Conv2D(2, 3, input_shape=(8, 8, 1)), Flatten(), Dense(1)])
    x = np.random.default_rng(0).normal(size=(4, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0),
                                  model.predict(x[..., None], verbose=0))
    raises(ValueError, lambda: model.predict(np.zeros((4, 8, 8, 2))), "(8, 8, 1)",
           "(height, width, channels)")
    raises(ValueError, lambda: model.predict(np.zeros((8, 8, 1))), "without the batch axis",
           "x[None]")
    dense = binary_model()
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_array_equal(dense.predict(x[..., None], verbose=0),
                                  dense.predict(x, verbose=0))


def test_a_metric_function_with_one_value_per_sample_is_averaged_like_keras(capsys):
    def squared_error(y_true, y_pred):  # one value per sample, as Keras's metric functions
        return ((y_pred - y_true) ** 2).reshape(len(y_pred), -1).mean(axis=1)

    model = binary_model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=[squared_error])
    history = model.fit(X, Y, epochs=2, verbose=1)
    assert all(isinstance(v, float) for v in history.history["squared_error"])
    assert "squared_error: " in capsys.readouterr().out
    p = model.predict(X, verbose=0).reshape(-1)
    result = model.evaluate(X, Y, verbose=0, return_dict=True)["squared_error"]
    assert result == pytest.approx(np.mean((p - Y.reshape(-1)) ** 2), rel=1e-5)


def test_a_keras_layer_tinynet_lacks_says_so_and_lists_what_it_has():
    import tinynet.layers

    raises(AttributeError, lambda: tinynet.layers.Embedding, "has no Embedding", "Dense",
           "embeddings")


def test_a_dense_model_given_images_is_told_to_flatten_them():
    raises(ValueError, lambda: binary_model().predict(np.zeros((8, 3, 1, 1))), "(3,)",
           "x.reshape(len(x), -1)")


def test_the_batch_of_one_warning_points_at_the_users_call():
    import warnings

    model = binary_model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X[:5], Y[:5], batch_size=1, verbose=0)
        model.train_on_batch(X[:1], Y[:1])
    assert [w.filename for w in caught] == [__file__, __file__]


def test_keras_schedules_are_reachable_from_the_optimizers_module():
    import tinynet as keras

    assert keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)(10) == pytest.approx(0.05)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_bad_value_in_a_large_array_is_found_by_the_quick_row_sums(dtype, bad):
    """Large arrays are checked by BLAS row sums (validation.sums_are_finite): a NaN or inf in
    the very last place, or an inf and a -inf in one row, must still be refused."""
    x = np.random.default_rng(0).random((600, 784)).astype(dtype)
    x[-1, -1] = bad
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        validation.to_float_array(x, "x")
    x[-1, -1], x[3, 3], x[3, 4] = 0.0, np.inf, -np.inf
    with pytest.raises(ValueError, match="2 NaN or infinite"):
        validation.to_float_array(x, "x")


def test_a_large_array_whose_row_sums_overflow_but_values_are_finite_is_accepted():
    x = np.full((600, 784), 3e35, dtype=np.float32)  # each row sums past float32's 3.4e38
    assert validation.to_float_array(x, "x").shape == (600, 784)


def test_a_large_array_that_is_not_c_ordered_is_checked_without_a_copy():
    """An NHWC view of NCHW images: checked exactly all the same (whole-array float64 sum)."""
    x = np.random.default_rng(1).random((40, 3, 16, 16)).astype(np.float32)
    view = x.transpose(0, 2, 3, 1)
    assert not view.flags.c_contiguous
    assert validation.sums_are_finite(view)
    x[-1, -1, -1, -1] = np.nan
    assert not validation.sums_are_finite(view)


def test_a_compile_that_fails_leaves_the_model_uncompiled():
    # layers of two float types cannot share one parameter vector: compile says so, and the
    # model stays uncompiled, so train_on_batch says "compile first", not a TypeError
    model = Sequential([Dense(2, input_shape=(3,)), BatchNormalization(dtype="float64")])
    with pytest.raises(ValueError, match="same dtype"):
        model.compile(optimizer="sgd", loss="mse")
    assert not model.compiled
    raises(RuntimeError, lambda: model.train_on_batch(np.ones((4, 3)), np.ones((4, 2))),
           "compile")


def test_layers_that_cannot_train_together_are_refused_the_same_way_from_fit_and_add():
    from tinynet.optimizers import SGD

    x, y = np.ones((4, 3)), np.ones((4, 2))
    # built in fit (no input shape): fit says why, and the model is not compiled any more, so
    # the next fit asks for compile (it was a TypeError from inside the step)
    model = Sequential([Dense(2), BatchNormalization(dtype="float64")])
    optimizer = SGD(0.1)
    model.compile(optimizer=optimizer, loss="mse")
    raises(ValueError, lambda: model.fit(x, y, verbose=0), "same dtype", "set_floatx")
    raises(RuntimeError, lambda: model.fit(x, y, verbose=0), "compile the model first")
    # the optimizer of a compile that failed is free for another model
    failed = Sequential([Dense(2, input_shape=(3,)), BatchNormalization(dtype="float64")])
    raises(ValueError, lambda: failed.compile(optimizer=optimizer, loss="mse"), "same dtype")
    Sequential([Dense(2, input_shape=(3,))]).compile(optimizer=optimizer, loss="mse")
    # added to a compiled model: refused, and the model trains on as it was
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    raises(ValueError, lambda: model.add(BatchNormalization(dtype="float64")), "same dtype")
    assert len(model.layers) == 1 and model.compiled
    model.train_on_batch(x, y)


def test_compile_refuses_a_loss_that_gives_one_value_per_sample():
    # Keras 3.15: evaluate reports the mean, fit fails at its first step (checked live)
    raises(ValueError, lambda: binary_model().compile(
        loss=losses.BinaryCrossentropy(reduction="none")), "compile", "reduction='none'",
        "sum_over_batch_size")


def test_a_schedule_that_gives_a_negative_or_non_number_rate_is_refused_at_that_step():
    x, y = np.ones((4, 3), dtype=np.float32), np.ones((4, 1), dtype=np.float32)
    model = binary_model()
    model.compile(optimizer=optimizers.SGD(lambda step: 0.1 - 0.1 * step),
                  loss="binary_crossentropy")
    model.train_on_batch(x, y)  # step 0: rate 0.1
    model.train_on_batch(x, y)  # step 1: rate 0, allowed (it trains nothing)
    raises(ValueError, lambda: model.train_on_batch(x, y),
           "SGD: the learning-rate schedule <lambda> at step 2", "got -0.1")
    model.compile(optimizer=optimizers.SGD(lambda step: "fast"), loss="binary_crossentropy")
    raises(TypeError, lambda: model.train_on_batch(x, y), "schedule <lambda> at step 0",
           "must be a number", "'fast'")


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_a_linear_output_with_a_categorical_crossentropy_warns_at_compile(loss):
    model = Sequential([Dense(4, input_shape=(3,)), Dense(3)])
    with pytest.warns(UserWarning, match="'linear' values.*softmax.*from_logits=True"):
        model.compile(loss=loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.compile(loss=losses.get(loss).__class__(from_logits=True))
        Sequential([Dense(3, input_shape=(3,), activation="softmax")]).compile(loss=loss)


def test_class_weight_keys_that_are_not_class_numbers_warn():
    # Keras 3.15 ignores {'0': 1, '1': 5} without a word (checked by a trial): no sample is
    # weighted; tinynet does the same and says so
    x = np.ones((4, 3), dtype=np.float32)
    y = np.array([0, 1, 1, 0], dtype=np.float32)
    model = binary_model()
    with pytest.warns(UserWarning, match=r"keys \['0', '1'\] are not class numbers"):
        model.fit(x, y, class_weight={"0": 1.0, "1": 5.0}, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, class_weight={0: 1.0, np.int64(1): 5.0}, verbose=0)


def test_model_set_weights_refuses_complex_boolean_and_ragged_weights_naming_them():
    model = binary_model()
    weights = model.get_weights()
    for bad, error, words in (([weights[0] * (1 + 1j), *weights[1:]], TypeError, "complex"),
                              ([weights[0].astype(bool), *weights[1:]], TypeError, "bool"),
                              ([weights[0], [[1.0, 2.0], [3.0]], *weights[2:]], ValueError,
                               "ragged")):
        raises(error, lambda bad=bad: model.set_weights(bad), "set_weights: layer 'dense'",
               words)
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))


def test_variable_assign_refuses_complex_text_and_ragged_values():
    kernel = binary_model().layers[0].kernel
    before = kernel.numpy()
    raises(TypeError, lambda: kernel.assign(before * (1 + 1j)), "assign", "complex")
    raises(TypeError, lambda: kernel.assign(before.astype(str)), "assign", "real numbers")
    raises(ValueError, lambda: kernel.assign([[1.0] * 4, [1.0] * 3, [1.0] * 4]), "ragged")
    np.testing.assert_array_equal(kernel.numpy(), before)
    kernel.assign(before.tolist())  # a list of rows is fine
