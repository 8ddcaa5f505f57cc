"""Lines from Keras guides and classroom tutorials that run in tinynet as Keras 3.15 runs them
(each behaviour checked live against Keras 3.15 on its PyTorch backend), or that stop with
advice where tinynet lacks what they use."""

import inspect
import warnings

import numpy as np
import pytest

import tinynet
from tinynet.layers import Conv2D, Dense, Flatten, Input
from tinynet.models import Sequential, load_model

RNG = np.random.default_rng(0)


def small_model():
    tinynet.set_seed(0)
    model = Sequential([Input(shape=(4,)), Dense(3, activation="relu"),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def test_a_class_without_a_weight_weighs_one_as_in_keras():
    # the fraud-detection tutorial's {0: w0, 1: w1} and the shorter {1: 10.0}: Keras 3 gives
    # every class missing from the dict the weight 1.0
    x = RNG.normal(size=(32, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    weighted, by_hand = small_model(), small_model()
    history = weighted.fit(x, y, batch_size=8, class_weight={1: 3.0}, shuffle=False, verbose=0)
    expected = by_hand.fit(x, y, batch_size=8, sample_weight=np.where(y[:, 0] > 0, 3.0, 1.0),
                           shuffle=False, verbose=0)
    assert history.history["loss"] == expected.history["loss"]


def test_positional_arguments_mean_what_they_mean_in_keras():
    # Keras 3.15's signatures: compile(optimizer, loss, loss_weights, metrics, ...),
    # fit(..., initial_epoch, steps_per_epoch, validation_steps, validation_batch_size,
    # validation_freq), evaluate(x, y, batch_size, verbose, sample_weight, steps, callbacks,
    # return_dict), predict(x, batch_size, verbose, steps, callbacks)
    model = small_model()
    names = {method: list(inspect.signature(getattr(model, method)).parameters)
             for method in ("compile", "fit", "evaluate", "predict")}
    assert names["compile"][:5] == ["optimizer", "loss", "loss_weights", "metrics",
                                    "weighted_metrics"]
    assert names["fit"][11:16] == ["initial_epoch", "steps_per_epoch", "validation_steps",
                                   "validation_batch_size", "validation_freq"]
    assert names["evaluate"][:8] == ["x", "y", "batch_size", "verbose", "sample_weight",
                                     "steps", "callbacks", "return_dict"]
    assert names["predict"][:5] == ["x", "batch_size", "verbose", "steps", "callbacks"]
    # a list in loss_weights' place is refused (Keras fails too), not taken as the metrics
    with pytest.raises(TypeError, match="loss_weights"):
        model.compile("rmsprop", "mse", ["mae"])
    with pytest.raises(TypeError, match="steps"):
        model.predict(np.zeros((2, 4), np.float32), 32, 0, 10)


def test_files_are_named_by_filepath_as_in_keras(tmp_path):
    model = small_model()
    model.save(filepath=tmp_path / "m.keras")
    model.save_weights(filepath=tmp_path / "m.weights.npz")
    model.load_weights(filepath=tmp_path / "m.weights.npz")
    loaded = load_model(filepath=tmp_path / "m.keras")
    x = RNG.normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # path=, tinynet's earlier name, still works
    model.save(path=tmp_path / "p.keras")
    model.load_weights(path=tmp_path / "m.weights.npz")
    assert load_model(path=tmp_path / "p.keras").count_params() == model.count_params()
    with pytest.raises(TypeError, match="needs the file as filepath"):
        model.save()


def test_symbolic_inputs_and_outputs_and_old_methods_get_advice():
    model = small_model()
    for where, name in ((model, "input"), (model, "output"), (model.layers[0], "output"),
                        (model.layers[0], "input")):
        with pytest.raises(AttributeError, match="functional API"):
            getattr(where, name)
    with pytest.raises(AttributeError, match=r"\(model.predict\(x\) > 0.5\)"):
        model.predict_classes(np.zeros((2, 4)))
    with pytest.raises(AttributeError, match="gives the probabilities"):
        model.predict_proba(np.zeros((2, 4)))
    # the advice works: a model of the first layers shares their weights
    x = RNG.normal(size=(5, 4)).astype(np.float32)
    hidden = Sequential(model.layers[:1]).predict(x, verbose=0)
    np.testing.assert_allclose(model.layers[1](hidden), model.predict(x, verbose=0),
                               rtol=1e-6)
    # a property's own error stays its own, and other misses keep Python's suggestion
    with pytest.raises(AttributeError, match="not built yet, so it has no kernel"):
        Dense(2).kernel  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'kernl'"):
        Dense(2).kernl  # noqa: B018
    assert not hasattr(Dense(2), "output")


def test_images_without_their_channel_axis_train_as_in_keras():
    x = RNG.uniform(size=(6, 5, 5)).astype(np.float32)  # MNIST-like (N, 28, 28)
    y = np.arange(6) % 2
    results = []
    for images in (x, x[..., None]):
        tinynet.set_seed(1)
        model = Sequential([Input(shape=(5, 5, 1)), Conv2D(2, 3), Flatten(),
                            Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        results.append(model.fit(images, y, epochs=2, verbose=0).history["loss"])
    assert results[0] == results[1]


@pytest.mark.parametrize("name, advice", [
    ("RandomFlip", r"x\[:, :, ::-1\]"), ("RandomRotation", "augment the training arrays"),
    ("SeparableConv2D", "use Conv2D"), ("ZeroPadding2D", "padding='same'"),
    ("SpatialDropout2D", "use Dropout"), ("Lambda", "forward and backward")])
def test_keras_layers_tinynet_lacks_say_what_to_do_instead(name, advice):
    with pytest.raises(AttributeError, match=advice):
        getattr(tinynet.layers, name)


def test_keras_other_names_and_modules():
    assert tinynet.layers.Convolution2D is Conv2D  # Keras's alias
    # the weight-constraints tutorial's import line (tests/test_constraints.py: the numbers)
    from tinynet.constraints import max_norm
    assert max_norm(3).get_config() == {"max_value": 3.0, "axis": 0}
    with pytest.raises(AttributeError, match="tinynet.constraints has no Orthogonal"):
        tinynet.constraints.Orthogonal  # noqa: B018


def test_history_params_keep_verbose_as_given_as_in_keras():
    model = small_model()
    x, y = RNG.normal(size=(8, 4)).astype(np.float32), np.zeros((8, 1), np.float32)
    assert model.fit(x, y, verbose=0).params == {"verbose": 0, "epochs": 1, "steps": 1}
    assert model.fit(x, y, verbose="auto", epochs=1).params["verbose"] == "auto"


def test_the_readmes_custom_training_loop_trains_as_fit_does():
    # README, "By hand": forward, loss_and_gradient, backward, grads found through each
    # weight's layer and key, apply_gradients; the same weights as train_on_batch
    x = RNG.normal(size=(16, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    by_fit, by_hand = small_model(), small_model()
    optimizer, loss_fn = tinynet.optimizers.SGD(), tinynet.losses.BinaryCrossentropy()
    for _ in range(3):
        by_fit.train_on_batch(x, y)
        loss, grad = loss_fn.loss_and_gradient(y, by_hand(x, training=True))
        by_hand.backward(grad)
        grads = [w.layer.grads[w.key] for w in by_hand.trainable_weights]
        optimizer.apply_gradients(zip(grads, by_hand.trainable_weights, strict=True))
    for a, b in zip(by_fit.get_weights(), by_hand.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # Keras 3's optimizer.apply(grads, weights) order is refused, not applied to the grads
    with pytest.raises(TypeError, match="takes the weights first"):
        tinynet.optimizers.SGD().apply([g.copy() for g in grads], by_hand.trainable_weights)


def test_tensorflows_first_example_fits_a_vector_of_single_features():
    # TensorFlow's "Hello world" of machine learning: Dense(units=1, input_shape=[1]) fit on
    # xs of shape (6,); Keras 3.15 reads a vector as N samples of the one feature (checked
    # live), and predict([10.0]) as one sample
    tinynet.set_seed(0)
    model = Sequential([Dense(units=1, input_shape=[1])])
    model.compile(optimizer="sgd", loss="mean_squared_error")
    xs = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0])
    ys = np.array([-3.0, -1.0, 1.0, 3.0, 5.0, 7.0])
    model.fit(xs, ys, epochs=500, verbose=0)
    assert model.predict([10.0], verbose=0) == pytest.approx(19.0, abs=0.2)  # y = 2x - 1
    np.testing.assert_array_equal(model.predict(xs, verbose=0),
                                  model.predict(xs.reshape(-1, 1), verbose=0))
    # a vector for a model of 4 features is still one sample without its batch axis
    with pytest.raises(ValueError, match=r"x.reshape\(1, -1\)"):
        small_model().predict(np.zeros(4))


def test_activation_layers_given_as_an_activation_and_flatten_s_positional_data_format():
    from tinynet import activations

    assert Dense(2, activation=tinynet.layers.ReLU()).activation is activations.relu
    # LeakyReLU keeps a slope a name cannot hold: the advice is to add it as a layer
    with pytest.raises(TypeError, match=r"LeakyReLU\(negative_slope=0.1\)"):
        Dense(2, activation=tinynet.layers.LeakyReLU(0.1))
    with pytest.raises(ValueError, match="not tinynet.activations.leaky_relu but a layer's"):
        activations.serialize(tinynet.layers.LeakyReLU(0.1).activation)
    assert Flatten("channels_last")(np.ones((2, 3, 3, 1), np.float32)).shape == (2, 9)
    with pytest.raises(TypeError, match="data_format"):
        Flatten("channels_first")


def test_an_input_keeps_its_name_in_the_config_and_in_files(tmp_path):
    # Keras 3.15 (checked live): Input((8,), name='features') is 'features' in get_config and
    # in the .keras file, and loads back with that name
    pytest.importorskip("h5py")
    model = tinynet.Sequential([tinynet.Input((8,), name="features"),
                                tinynet.layers.Dense(1)])
    assert model.get_config()["layers"][0]["config"]["name"] == "features"
    model.save(tmp_path / "m.keras")
    loaded = tinynet.models.load_model(tmp_path / "m.keras")
    assert loaded.get_config()["layers"][0]["config"]["name"] == "features"
    x = np.ones((2, 8), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_quickstart_numpy_calls_run_on_models_layers_and_losses():
    # TensorFlow's quickstart: predictions = model(x[:1]).numpy(); loss_fn(y, p).numpy()
    tinynet.set_seed(0)
    model = tinynet.Sequential([tinynet.layers.Flatten(input_shape=(4, 4)),
                                tinynet.layers.Dense(3)])
    x = np.random.default_rng(0).random((2, 4, 4)).astype(np.float32)
    predictions = model(x[:1]).numpy()
    assert type(predictions) is np.ndarray and predictions.shape == (1, 3)
    np.testing.assert_array_equal(predictions, model.predict(x[:1], verbose=0))
    loss_fn = tinynet.losses.SparseCategoricalCrossentropy(from_logits=True)
    value = loss_fn(np.array([2]), predictions)
    assert isinstance(value.numpy(), np.float32) and value.numpy() == np.float32(value)
    assert type(model.layers[1](predictions[:, :1].repeat(16, 1)).numpy()) is np.ndarray
    assert repr(model(x[:1])).startswith("array(")


def test_metric_results_answer_numpy_as_on_the_keras_api_pages():
    # keras.io's metric examples end in m.result().numpy(); Keras gives float32 numbers
    auc = tinynet.metrics.AUC()
    auc.update_state([0, 1, 1, 0], [0.2, 0.8, 0.4, 0.6])
    assert isinstance(auc.result().numpy(), np.float32) and auc.result() == 0.75
    precision = tinynet.metrics.Precision(thresholds=[0.3, 0.6])
    precision.update_state([0, 1, 1, 0], [0.2, 0.8, 0.4, 0.6])
    np.testing.assert_allclose(precision.result().numpy(), [2 / 3, 1.0])
    accuracy = tinynet.metrics.Accuracy()
    assert accuracy([[1], [2], [3], [4]], [[0], [2], [3], [4]]).numpy() == np.float32(0.75)
    assert tinynet.metrics.RootMeanSquaredError()([1.0, 2.0], [1.0, 3.0]).numpy() == \
        np.float32(np.sqrt(0.5))


def test_reductions_of_a_models_output_are_numpy_scalars_as_for_plain_arrays():
    model = Sequential([Dense(3, input_shape=(2,))])
    outputs = model(np.ones((4, 2), dtype=np.float32))
    for value in (outputs.sum(), outputs.max(), (outputs.argmax(1) == 0).mean()):
        assert isinstance(value, np.generic)  # json, dict keys, float() as before
    assert outputs.sum(axis=0).numpy().shape == (3,)


def test_an_input_and_a_layer_cannot_share_a_name():
    with pytest.raises(ValueError, match="Input and a layer are both named 'x'"):
        Sequential([Input((4,), name="x"), Dense(2, name="x")])
    model = Sequential([Input((4,), name="dense"), Dense(2)])  # the layer's own name moves on
    assert model.layers[0].name == "dense_1"


def test_a_crossentropy_by_name_called_by_hand_before_any_data_settles_first():
    # a loop of your own: model.loss.loss(...) or loss_and_gradient(...) before fit
    rng = np.random.default_rng(0)
    probabilities = tinynet.activations.softmax(rng.normal(size=(5, 3))).numpy()
    labels = np.array([0, 2, 1, 1, 0])
    for method in ("loss", "loss_and_gradient", "gradient"):
        by_name = tinynet.losses.get("crossentropy")
        ours = getattr(by_name, method)(labels, probabilities)
        theirs = getattr(tinynet.losses.SparseCategoricalCrossentropy(), method)(
            labels, probabilities)
        np.testing.assert_equal(ours, theirs)
        assert by_name.name == "sparse_categorical_crossentropy"


def test_class_weight_with_targets_per_pixel_is_refused():
    # it weighed sample i by the class of pixel i of sample 0; Keras refuses it too
    model = Sequential([Input((4, 4, 2)), Conv2D(3, 1, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.ones((6, 4, 4, 2), dtype=np.float32)
    labels = np.random.default_rng(0).integers(0, 3, (6, 4, 4))
    with pytest.raises(ValueError, match="one class per sample.*sample_weight"):
        model.fit(x, labels, class_weight={0: 1.0, 1: 2.0, 2: 3.0}, verbose=0)


def test_an_inputs_fixed_batch_size_is_kept_in_config_and_files(tmp_path):
    # Keras 3.15 (checked live): Input(batch_shape=(8, 4)) writes batch_shape and
    # build_input_shape (8, 4), and loads back so
    pytest.importorskip("h5py")
    model = Sequential([Input(batch_shape=(8, 4)), Dense(2)])
    config = model.get_config()
    assert config["layers"][0]["config"]["batch_shape"] == [8, 4]
    assert config["build_input_shape"] == [8, 4]
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.get_config()["layers"][0]["config"]["batch_shape"] == [8, 4]
    x = np.ones((3, 4), dtype=np.float32)  # tinynet keeps the size; any batch still runs
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_layer_on_its_own_has_keras_default_name_until_a_model_names_it():
    layer = Dense(3)
    assert layer.name == "dense" and layer.get_config()["name"] == "dense"  # as in Keras
    model = Sequential([Dense(2, input_shape=(4,)), layer])
    assert [each.name for each in model.layers] == ["dense", "dense_1"]  # unique in the model
    assert Dense(3, name="hidden").name == "hidden"
    renamed = Dense(3)
    renamed.name = "mine"  # set by hand: kept by the model
    assert Sequential([renamed]).layers[0].name == "mine"


def test_greedy_layer_wise_pretraining_pops_the_output_and_adds_it_back():
    # Machine Learning Mastery's greedy layer-wise pretraining: pop the output layer, freeze
    # the rest, add a hidden layer, add the output layer again. Keras 3.15.1 names the new
    # layer 'dense_2' (its names are counted over the session), so the output layer keeps
    # 'dense_1' without a clash: ['dense', 'dense_2', 'dense_1'], measured live.
    tinynet.set_seed(0)
    model = Sequential([Dense(10, input_dim=2, activation="relu"),
                        Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(30, 2)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[np.arange(30) % 3]
    model.fit(x, y, epochs=1, verbose=0)
    for _ in range(2):
        output_layer = model.layers[-1]
        model.pop()
        for layer in model.layers:
            layer.trainable = False
        model.add(Dense(10, activation="relu", kernel_initializer="he_uniform"))
        model.add(output_layer)
        model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, epochs=1, verbose=0)
    assert [layer.name for layer in model.layers] == ["dense", "dense_2", "dense_3", "dense_1"]
    assert [layer.trainable for layer in model.layers] == [False, False, True, True]


@pytest.mark.parametrize("rebuild", ["load_model", "clone_model", "from_config"])
def test_a_model_from_a_file_or_a_config_pops_and_adds_back_without_a_name_clash(
        rebuild, tmp_path):
    # the layers of a model made from a file or a config had names the model never gave, so
    # a new Dense after pop() was named like the popped layer, which then could not come back
    tinynet.set_seed(0)
    model = Sequential([Dense(4, input_shape=(2,), activation="relu"), Dense(3),
                        Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    if rebuild == "load_model":
        model.save(tmp_path / "m.keras")
        copy = tinynet.models.load_model(tmp_path / "m.keras")
    elif rebuild == "clone_model":
        copy = tinynet.models.clone_model(model)
    else:
        copy = Sequential.from_config(model.get_config())
    output_layer = copy.layers[-1]
    copy.pop()
    copy.add(Dense(3, activation="relu"))
    copy.add(output_layer)
    assert [layer.name for layer in copy.layers] == ["dense", "dense_1", "dense_3", "dense_2"]


@pytest.mark.parametrize("make", [
    lambda: tinynet.optimizers.SGD(learning_rate=0.01, momentum=0.9, decay=0.01 / 200),
    lambda: tinynet.optimizers.Adam(decay=1e-6),
])
def test_keras_2_s_decay_is_ignored_with_a_warning_as_keras_3_ignores_it(make):
    # Keras 3.15's base optimizer: "Argument `decay` is no longer supported and will be
    # ignored." The same steps follow as without it.
    with pytest.warns(UserWarning, match=r"decay=...\): Keras 2's learning-rate decay is "
                                         r"ignored.*InverseTimeDecay"):
        optimizer = make()
    plain = type(optimizer)(**{k: v for k, v in optimizer.get_config().items()
                               if k != "name"})
    weights = [np.ones(3, np.float32), np.ones(3, np.float32)]
    for _ in range(3):
        optimizer.apply(weights[0], np.full(3, 0.5, np.float32))
        plain.apply(weights[1], np.full(3, 0.5, np.float32))
    np.testing.assert_array_equal(weights[0], weights[1])


@pytest.mark.parametrize("recompile", [False, True])
def test_a_layer_popped_and_added_back_keeps_its_optimizer_state(recompile):
    # Keras 3.15.1 (measured live): pop the output layer and add it back, with or without
    # compiling again with the same optimizer, and training goes on exactly as without the
    # pop: the layer's momentum is kept (tinynet dropped it, as for a new layer)
    def run(pop_and_add):
        tinynet.set_seed(0)
        model = Sequential([Dense(10, input_dim=2, activation="relu"),
                            Dense(3, activation="softmax")])
        optimizer = tinynet.optimizers.SGD(0.01, momentum=0.9)
        model.compile(loss="categorical_crossentropy", optimizer=optimizer)
        x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
        y = np.eye(3, dtype=np.float32)[np.arange(64) % 3]
        model.fit(x, y, epochs=1, shuffle=False, verbose=0)
        if pop_and_add:
            output = model.layers[-1]
            model.pop()
            model.add(output)
            if recompile:
                model.compile(loss="categorical_crossentropy", optimizer=optimizer)
        model.fit(x[:32], y[:32], batch_size=32, shuffle=False, verbose=0)
        return model.get_weights()
    for a, b in zip(run(False), run(True), strict=True):
        np.testing.assert_array_equal(a, b)


class OwnBinaryLoss(tinynet.losses.Loss):
    """A binary cross-entropy of one's own, for 0/1 targets (a classification loss)."""

    def call(self, y_true, y_pred):
        p = np.clip(y_pred, 1e-7, 1 - 1e-7)
        return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p), axis=-1)

    def sample_gradient(self, y_true, y_pred):
        p = np.clip(y_pred, 1e-7, 1 - 1e-7)
        return (p - y_true) / (p * (1 - p)) / y_pred.shape[-1]


@pytest.mark.parametrize("loss, warns", [("mse", True), ("huber", True),
                                         (OwnBinaryLoss(), False), ("hinge", False)])
def test_accuracy_with_a_regression_loss_is_pointed_out_once(loss, warns, tmp_path):
    pytest.importorskip("h5py")
    model = Sequential([Dense(1, input_shape=(2,), activation="sigmoid")])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    said = [w for w in caught if "measures little for regression" in str(w.message)]
    assert bool(said) is warns
    if warns:  # at compile, not again when the saved model is loaded
        model.save(tmp_path / "m.keras")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tinynet.models.load_model(tmp_path / "m.keras")
        assert not [w for w in caught if "measures little" in str(w.message)]
