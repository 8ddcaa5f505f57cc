"""Patterns of the Keras guides that tinynet once got wrong, against Keras 3's numbers
(tests/data/make_keras_guides_reference.py): compiling again with the same optimizer, a model
frozen as a whole, and losses of your own whose call returns (N, 1) or one number."""

import pathlib
import warnings

import numpy as np
import pytest

import tinynet as keras

REFERENCE = np.load(pathlib.Path(__file__).parent / "data" / "keras_guides_reference.npz")
X, Y, LABELS, WEIGHTS = (REFERENCE[k] for k in ("x", "y", "labels", "weights"))
FIT = {"batch_size": 16, "shuffle": False, "verbose": 0}


def weights(prefix):
    return [REFERENCE[f"{prefix}_{i}"] for i in range(sum(k.startswith(f"{prefix}_")
                                                           for k in REFERENCE.files))]


def classifier():
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.BatchNormalization(),
                              keras.layers.Dense(3, activation="softmax")])
    model.set_weights(weights("start"))
    return model


def regression():
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1)])
    model.set_weights(weights("regression_start"))
    return model


def test_compiling_again_with_the_same_optimizer_keeps_its_state_as_keras_does():
    # the transfer-learning guide compiles again after changing trainable; Adam's moments and
    # step count go on (tinynet had restarted the moments but kept counting the steps)
    model = classifier()
    adam = keras.optimizers.Adam(0.01)
    model.compile(optimizer=adam, loss="sparse_categorical_crossentropy")
    losses = model.fit(X, LABELS, epochs=1, **FIT).history["loss"]
    model.compile(optimizer=adam, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    losses += model.fit(X, LABELS, epochs=1, **FIT).history["loss"]
    model.layers[0].trainable = False
    model.compile(optimizer=model.optimizer, loss="sparse_categorical_crossentropy")
    losses += model.fit(X, LABELS, epochs=1, **FIT).history["loss"]
    np.testing.assert_allclose(losses, REFERENCE["recompile_loss"], rtol=1e-5)
    assert model.optimizer.iterations == int(REFERENCE["recompile_iterations"])
    for mine, theirs in zip(model.get_weights(), weights("recompile_weights"), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)


def test_an_optimizer_whose_state_is_for_weights_that_are_gone_starts_afresh_and_says_so():
    model = classifier()
    first = keras.optimizers.Adam(0.01)
    model.compile(optimizer=first, loss="sparse_categorical_crossentropy")
    model.fit(X, LABELS, epochs=1, **FIT)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(X, LABELS, epochs=1, **FIT)
    with pytest.warns(UserWarning, match=r"starts it afresh, step count included"):
        model.compile(optimizer=first, loss="sparse_categorical_crossentropy")
    assert first.iterations == 0 and first.slots is None


def test_a_model_frozen_as_a_whole_trains_nothing_though_a_layer_is_unfrozen():
    # Keras 3: model.trainable is the model's own flag; while it is False nothing trains
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.trainable = False
    model.layers[-1].trainable = True
    assert model.trainable is False and model.trainable_weights == []
    assert len(model.non_trainable_weights) == 8 and len(model.layers[-1].trainable_weights) == 2
    before = model.get_weights()
    with pytest.warns(UserWarning, match=r"does not have any trainable weights"):
        model.fit(X, LABELS, epochs=1, **FIT)
    assert model.optimizer.iterations == 0  # no step counted, as in Keras
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    model.trainable = True  # every layer again, and the model
    assert [layer.trainable for layer in model.layers] == [True, True, True]
    assert len(model.trainable_weights) == 6


def test_freezing_every_layer_one_by_one_leaves_the_models_flag_true():
    model = classifier()
    for layer in model.layers:
        layer.trainable = False
    assert model.trainable is True and model.trainable_weights == []


class KeepdimsMSE(keras.losses.Loss):
    """mean_k (y - p)^2, returned as (N, 1) as a keepdims=True mean gives it."""

    def call(self, y_true, y_pred):
        return np.mean((y_true - y_pred) ** 2, axis=-1, keepdims=True)

    def sample_gradient(self, y_true, y_pred):
        return 2 * (y_pred - y_true) / y_pred.shape[-1]


class ScalarMSE(keras.losses.Loss):
    """One number for the whole batch (the older guide's CustomMSE), and its gradient."""

    def call(self, y_true, y_pred):
        return np.mean((y_true - y_pred) ** 2) + 0.1 * np.mean((0.5 - y_pred) ** 2)

    def sample_gradient(self, y_true, y_pred):
        return (2 * (y_pred - y_true) + 0.2 * (y_pred - 0.5)) / y_pred.size


def test_a_loss_whose_call_keeps_the_last_axis_trains_with_sample_weights_as_in_keras():
    model = regression()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=KeepdimsMSE())
    history = model.fit(X, Y, sample_weight=WEIGHTS, epochs=2, **FIT).history
    np.testing.assert_allclose(history["loss"], REFERENCE["keepdims_loss"], rtol=1e-5)
    for mine, theirs in zip(model.get_weights(), weights("keepdims_weights"), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_a_loss_that_returns_one_number_trains_as_in_keras_and_refuses_sample_weights():
    model = regression()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=ScalarMSE())
    history = model.fit(X, Y, epochs=2, **FIT).history
    np.testing.assert_allclose(history["loss"], REFERENCE["scalar_loss"], rtol=1e-5)
    for mine, theirs in zip(model.get_weights(), weights("scalar_weights"), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"ScalarMSE: call returned one number for the whole "
                                         r"batch, which sample weights .* cannot weigh"):
        model.fit(X, Y, sample_weight=WEIGHTS, epochs=1, **FIT)


class WrongGradient(KeepdimsMSE):
    def sample_gradient(self, y_true, y_pred):
        return (y_pred - y_true).ravel()


class WrongValues(KeepdimsMSE):
    def call(self, y_true, y_pred):
        return (y_true - y_pred)[:4, 0]


def test_a_loss_of_your_own_that_returns_wrong_shapes_is_named():
    model = regression()
    model.compile(optimizer="sgd", loss=WrongGradient())
    with pytest.raises(ValueError, match=r"WrongGradient.sample_gradient returned shape "
                                         r"\(16,\); .* \(16, 1\)"):
        model.fit(X, Y, epochs=1, **FIT)
    model.compile(optimizer="sgd", loss=WrongValues())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"WrongValues.call returned shape \(4,\); it must "
                                             r"return one loss per sample, shape \(16,\)"):
            model.fit(X, Y, epochs=1, **FIT)


@pytest.mark.parametrize("how", ["evaluate", "predict"])
def test_evaluate_builds_the_optimizer_so_load_weights_restores_its_state(tmp_path, how):
    # TensorFlow's "Save and load models": evaluate a new model, then load a trained one's
    # weights file; Keras's evaluate builds the optimizer (predict does not)
    model = classifier()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(X, LABELS, epochs=2, **FIT)
    model.save_weights(tmp_path / "trained.weights.h5")
    again = classifier()
    again.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    if how == "evaluate":
        again.evaluate(X, LABELS, verbose=0)
        lines = []
        again.summary(print_fn=lines.append)
        assert "Optimizer params" in "\n".join(lines)  # counted, as Keras counts it
        again.load_weights(tmp_path / "trained.weights.h5")
    else:
        again.predict(X, verbose=0)
        with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):
            again.load_weights(tmp_path / "trained.weights.h5")
    assert again.optimizer.iterations == int(REFERENCE[f"after_{how}_iterations"])
    loss = again.fit(X, LABELS, epochs=1, **FIT).history["loss"]
    np.testing.assert_allclose(loss, REFERENCE[f"after_{how}_loss"], rtol=1e-5)


def test_a_mean_metric_is_called_with_the_values_as_in_the_advanced_quickstart():
    train_loss = keras.metrics.Mean(name="train_loss")
    assert float(train_loss(0.5)) == 0.5
    assert float(train_loss(1.5)) == 1.0
    assert float(train_loss(np.array([4.0]), sample_weight=[2.0])) == pytest.approx(2.5)


@pytest.mark.parametrize("name, words", [
    ("GradientTape", r"no automatic differentiation.*loss_and_gradient.*model.backward"),
    ("Model", r"no subclassed models.*Sequential\(\[Conv2D"),
    ("newaxis", r"np.newaxis"),
])
def test_tensorflow_names_of_the_quickstarts_say_what_to_write(name, words):
    with pytest.raises(AttributeError, match=words):
        getattr(keras, name)


def test_a_missing_legacy_h5_model_file_is_named():
    # .h5 files are read now (tests/test_legacy_h5.py); a missing one says so
    with pytest.raises(FileNotFoundError, match=r"load_model: no such file: my_model.h5"):
        keras.models.load_model("my_model.h5")


class PerImageMSE(keras.losses.Loss):
    """One value per image, for outputs (N, H, W, K), and its gradient."""

    def call(self, y_true, y_pred):
        return np.mean((y_true - y_pred) ** 2, axis=(1, 2, 3))

    def sample_gradient(self, y_true, y_pred):
        return 2 * (y_pred - y_true) / np.prod(y_pred.shape[1:])


@pytest.mark.parametrize("weighted", [False, True])
def test_a_loss_of_your_own_may_give_one_value_per_image_as_in_keras(weighted):
    model = keras.Sequential([keras.Input(shape=(4, 4, 2)),
                              keras.layers.Conv2D(3, 1, kernel_initializer="ones")])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=PerImageMSE())
    history = model.fit(REFERENCE["images"], REFERENCE["image_targets"], epochs=2, verbose=0,
                        shuffle=False, batch_size=4,
                        sample_weight=REFERENCE["image_weights"] if weighted else None)
    key = "per_image_weighted" if weighted else "per_image"
    np.testing.assert_allclose(history.history["loss"], REFERENCE[f"{key}_loss"], rtol=1e-5)
    np.testing.assert_allclose(model.get_weights()[0], REFERENCE[f"{key}_kernel"], rtol=1e-5)
    with pytest.raises(ValueError, match=r"one weight per pixel, but call returned one loss "
                                         r"per sample"):
        model.fit(REFERENCE["images"], REFERENCE["image_targets"], verbose=0,
                  sample_weight=np.ones((8, 4, 4)))


def test_a_model_with_nothing_to_train_takes_no_step_and_says_so():
    # as in Keras: the optimizer counts no step, so Adam's later steps are the same as if
    # the frozen fit had not happened
    model, twin = classifier(), classifier()
    for m in (model, twin):
        m.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        m.fit(X, LABELS, epochs=1, **FIT)
    model.trainable = False
    before = model.get_weights()[0].copy()
    with pytest.warns(UserWarning, match=r"does not have any trainable weights"):
        model.fit(X, LABELS, epochs=1, **FIT)
    assert model.optimizer.iterations == 4
    np.testing.assert_array_equal(model.get_weights()[0], before)
    model.trainable = True
    model.compile(optimizer=model.optimizer, loss="sparse_categorical_crossentropy")
    twin.compile(optimizer=twin.optimizer, loss="sparse_categorical_crossentropy")
    np.testing.assert_array_equal(model.fit(X, LABELS, epochs=1, **FIT).history["loss"],
                                  twin.fit(X, LABELS, epochs=1, **FIT).history["loss"])


def test_a_clone_keeps_the_models_own_trainable_flag():
    model = classifier()
    model.trainable = False
    model.layers[-1].trainable = True
    clone = keras.models.clone_model(model)
    assert clone.trainable is False and clone.trainable_weights == []
    assert [layer.trainable for layer in clone.layers] == [False, False, True]


def test_metrics_called_by_hand_take_the_weight_shapes_fit_takes():
    rng = np.random.default_rng(0)
    y, p, w = rng.random((2, 3, 3, 2)), rng.random((2, 3, 3, 2)), rng.random((2, 3, 3))
    results = []
    for weights in (w, w[..., None]):
        metric = keras.metrics.MeanSquaredError()
        metric.update_state(y, p, sample_weight=weights)
        results.append(float(metric.result()))
    squared = ((y - p) ** 2).mean(axis=-1)
    assert results[0] == results[1] == pytest.approx((w * squared).sum() / w.sum(), rel=1e-6)
    metric = keras.metrics.MeanSquaredError()
    metric.update_state(y, p, sample_weight=np.array([0.3, 2.0])[:, None, None])
    assert float(metric.result()) == pytest.approx(
        (0.3 * squared[0].mean() + 2.0 * squared[1].mean()) / 2.3, rel=1e-6)
    with pytest.raises(ValueError, match=r"one weight per sample \(2\)"):
        keras.metrics.MeanSquaredError().update_state(y, p, sample_weight=np.ones((3, 2)))


def test_keras_ways_of_making_a_metrics_state_say_what_to_write():
    class Counter(keras.metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def reset_state(self):
            self.count = self.add_weight(name="count", initializer="zeros")

    with pytest.raises(AttributeError, match=r"no add_variable or add_weight.*"
                                             r"self.total = 0.0"):
        Counter()
    with pytest.raises(AttributeError, match=r"no Resizing: resize the images before fit"):
        keras.layers.Resizing(8, 8)


def test_metrics_names_is_empty_before_compile_as_in_keras():
    model = classifier()
    assert model.metrics_names == []
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model.metrics_names == ["loss", "accuracy"]


@pytest.mark.parametrize("compiled", [False, True])
def test_a_loop_of_your_own_may_freeze_layers_with_an_optimizer_of_its_own(compiled):
    # "Writing a training loop from scratch": the optimizer keeps its state per weight, so a
    # layer frozen at step 2 and unfrozen at step 4 goes on from its own Adam state, as in
    # Keras (the README's loop; the model compiled or not)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(1)])
    model.set_weights(weights("loop_start"))
    if compiled:
        model.compile(optimizer="sgd", loss="mse")
    optimizer, loss_fn = keras.optimizers.Adam(0.05), keras.losses.MeanSquaredError()
    for step in range(6):
        model.layers[0].trainable = not 2 <= step < 4
        y_pred = model(REFERENCE["loop_x"], training=True)
        _, grad = loss_fn.loss_and_gradient(REFERENCE["loop_y"], y_pred)
        model.backward(grad)
        grads = [w.layer.grads[w.key] for w in model.trainable_weights]
        optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))
    assert optimizer.iterations == int(REFERENCE["loop_iterations"])
    for mine, theirs in zip(model.get_weights(), weights("loop_final"), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_an_update_with_nothing_to_train_is_no_step_as_in_keras():
    # a warm-up step with the whole model frozen, then training: Keras's optimizer.apply of
    # no variables does nothing (checked live), and the next real update is its first
    model = classifier()
    optimizer = keras.optimizers.Adam(0.01)
    model.trainable = False
    optimizer.apply_gradients(zip([], model.trainable_weights, strict=True))
    assert optimizer.iterations == 0 and optimizer.slots is None
    model.trainable = True
    _, grad = keras.losses.SparseCategoricalCrossentropy().loss_and_gradient(
        LABELS[:16], model(X[:16], training=True))
    model.backward(grad)
    grads = [w.layer.grads[w.key] for w in model.trainable_weights]
    optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))
    assert optimizer.iterations == 1
