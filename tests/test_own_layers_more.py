"""What a student writing layers, loops and optimizers of their own ran into (a trial of the
Keras guides on subclassing and training loops, done the tinynet way), now fixed: each test
is one of those silent failures or misleading errors."""

import numpy as np
import pytest
from helpers import linear_layer_class

import tinynet
from tinynet.gradcheck import check_layer
from tinynet.layers import Dense, Input, Layer
from tinynet.models import Sequential
from tinynet.optimizers import SGD

Linear = linear_layer_class()  # y = x @ w + b, written the tinynet way


def data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(32, 4)), rng.normal(size=(32, 1))


def test_a_weight_kept_in_an_attribute_follows_the_weight_when_compile_moves_it():
    x, y = data()
    losses = []
    for keep in (False, True):
        tinynet.set_seed(0)
        model = Sequential([Input(shape=(4,)), Linear(3, keep_attribute=keep), Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        losses.append(model.fit(x, y, epochs=3, shuffle=False, verbose=0).history["loss"])
        if keep:
            assert model.layers[0].w is model.layers[0].params["w"]
    assert losses[0] == losses[1]  # it was flat (the old array was never trained)
    assert losses[1][-1] < losses[1][0]


def test_a_layer_holding_layers_of_its_own_is_warned_about_at_compile():
    class Block(Layer):
        def __init__(self):
            super().__init__()
            self.inner = Linear(4)

        def forward(self, x, training=False):
            return self.inner.forward(x, training)

    model = Sequential([Input(shape=(4,)), Block(), Dense(1)])
    with pytest.warns(UserWarning, match=r"holds layers of its own \(inner\), whose weights, "
                                         r"if they have any, the model will not train"):
        model.compile(optimizer="sgd", loss="mse")


def test_freezing_in_a_hand_written_loop_takes_effect_at_the_next_forward():
    x, y = data()
    model = Sequential([Input(shape=(4,)), Dense(3), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.layers[0].trainable = False  # no sync_parameters() call: forward makes it
    before = model.layers[0].get_weights()[0].copy()
    for _ in range(3):
        y_pred = model.forward(x, training=True)
        _, grad = model.loss.loss_and_gradient(y, y_pred)
        model.backward(grad)
        model.optimizer.apply(model.parameters, model.gather_gradients())
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], before)


def test_a_frozen_layers_penalty_is_not_in_the_loss_as_in_keras():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4)).astype(np.float32)
    y = np.zeros((8, 1), np.float32)
    model = Sequential([Input(shape=(4,)), Dense(3),
                        Dense(1, kernel_regularizer=tinynet.regularizers.l2(0.1))])
    model.compile(optimizer="sgd", loss="mse")
    penalty = model.regularization_loss()
    assert penalty > 0
    model.layers[1].trainable = False
    mse = float(np.mean(model.predict(x, verbose=0) ** 2))
    # Keras 3.15.1 gives evaluate == mse here: it counts trainable weights' penalties only
    assert model.evaluate(x, y, verbose=0) == pytest.approx(mse, rel=1e-6)
    assert model.regularization_loss() == 0.0 and model.layers[1].regularization_loss() == 0.0


def test_apply_gradients_refuses_a_gradient_paired_with_another_weight():
    model = Sequential([Input(shape=(4,)), Dense(3), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    grads = [np.ones_like(w) for w in model.trainable_weights]
    with pytest.raises(ValueError, match="paired with another weight"):
        model.optimizer.apply_gradients(zip(grads[::-1], model.trainable_weights, strict=True))


def test_the_gradient_checker_holds_a_layers_running_state_still_between_evaluations():
    class RunningCenter(Layer):
        """y = x - m with m, a running mean of the batches, updated in training AFTER use:
        dy/dx is the identity, but every forward moves m."""

        def build(self, input_shape):
            self.state["m"] = np.zeros(input_shape[-1], self.dtype)
            super().build(input_shape)

        def forward(self, x, training=False):
            self.check_input(x, training)
            y = x - self.state["m"]
            if training and self.trainable:
                self.state["m"][...] = 0.9 * self.state["m"] + 0.1 * x.mean(axis=0)
            self.x = x
            return y

        def backward(self, grad_output):
            self.check_grad_output(grad_output, self.x)
            return grad_output

    tinynet.set_floatx("float64")
    try:
        layer = RunningCenter()
        errors = check_layer(layer, np.random.default_rng(0).normal(size=(5, 3)))
    finally:
        tinynet.set_floatx("float32")
    assert errors["input"] < 1e-7  # it was 1.0: the state drifted between evaluations
    np.testing.assert_array_equal(layer.state["m"], 0.0)  # and is put back


def test_a_forward_without_training_is_refused_where_the_class_is_defined():
    with pytest.raises(TypeError, match=r"forward must take training as well, "
                                        r"forward\(self, x, training=False\)"):
        class NoTraining(Layer):
            def forward(self, x):
                return x


def test_an_optimizer_of_your_own_sees_apply_gradients_pairs():
    class HalfStep(SGD):
        pass

    weights = [np.ones(3)]
    HalfStep(0.5).apply_gradients([(np.ones(3), weights[0])])
    np.testing.assert_allclose(weights[0], 0.5)


def test_a_metric_written_the_keras_way_is_told_where_its_state_goes():
    from tinynet.metrics import Metric

    class KerasWay(Metric):
        def __init__(self, name="tp"):
            super().__init__(name=name)

        def reset_state(self):
            self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    with pytest.raises(AttributeError, match=r"no add_variable.*plain attributes set in "
                                             r"reset_state"):
        KerasWay()

    class CategoricalTruePositives(Metric):  # as the Keras training guide writes it
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

        def reset_state(self):
            self.true_positives.assign(0.0)

    # reset_state runs inside Metric.__init__, before add_variable's line: the error says so
    # instead of a bare "no attribute 'true_positives'" from the student's own line
    with pytest.raises(AttributeError, match=r"reset_state\(\) failed .*true_positives.*"
                                             r"before the rest of your __init__"):
        CategoricalTruePositives()

    class Typo(Metric):  # an error of another kind is left as it is
        def reset_state(self):
            self.total = np.zeroes(3)

    with pytest.raises(AttributeError, match="zeroes") as info:
        Typo()
    assert "before the rest of your __init__" not in str(info.value)

    class TruePositiveCount(Metric):  # the docstring's example
        def reset_state(self):
            self.count = 0.0

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.count += float(np.sum((np.asarray(y_pred) > 0.5) & (np.asarray(y_true) == 1)))

        def result(self):
            return self.count

    model = Sequential([Input(shape=(4,)), Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[TruePositiveCount()])
    x, _ = data()
    logs = model.evaluate(x, np.ones((32, 1)), verbose=0, return_dict=True)
    assert logs["true_positive_count"] == float(np.sum(model.predict(x, verbose=0) > 0.5))


def test_check_model_after_a_freeze_leaves_the_next_fit_as_it_would_be():
    from tinynet.gradcheck import check_model

    x, y = data()
    weights = []
    for check in (False, True):
        tinynet.set_floatx("float64")
        try:
            tinynet.set_seed(0)
            model = Sequential([Input(shape=(4,)), Dense(3), Dense(1)])
            model.compile(optimizer="adam", loss="mse")
            model.fit(x, y, epochs=1, shuffle=False, verbose=0)
            model.layers[0].trainable = False
            if check:
                check_model(model, x[:4], y[:4])
            model.fit(x, y, epochs=1, shuffle=False, verbose=0)
            weights.append(model.get_weights())
        finally:
            tinynet.set_floatx("float32")
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_frozen_layer_with_a_regularizer_passes_the_gradient_check():
    layer = Dense(3, kernel_regularizer=tinynet.regularizers.L2(0.5), dtype="float64",
                  trainable=False)
    errors = check_layer(layer, np.random.default_rng(0).normal(size=(5, 4)))
    assert max(errors.values()) < 1e-7


def test_a_reference_to_the_accuracy_metric_taken_after_compile_is_the_one_fit_updates():
    x, _ = data()
    y = (x[:, :1] > 0).astype(np.float32)
    model = Sequential([Input(shape=(4,)), Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    held = model.metrics[0]
    logs = model.fit(x, y, epochs=1, verbose=0).history
    assert held is model.metrics[0] and type(held).__name__ == "BinaryAccuracy"
    assert held.result() == logs["accuracy"][-1] > 0


def test_a_forward_that_passes_training_on_through_kwargs_is_accepted():
    class Logged(Dense):
        def forward(self, *args, **kwargs):
            return super().forward(*args, **kwargs)

    assert Logged(2)(np.ones((3, 4))).shape == (3, 2)


def test_a_layer_that_refers_to_another_layer_of_the_model_is_not_warned_about(recwarn):
    encoder = Linear(3)

    class Decoder(Layer):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder  # tied weights: the encoder is in the model's list

        def forward(self, x, training=False):
            self.check_input(x)
            return x @ self.encoder.params["w"].T

    model = Sequential([Input(shape=(4,)), encoder, Decoder(encoder)])
    model.compile(optimizer="sgd", loss="mse")
    assert not [w for w in recwarn if "holds layers" in str(w.message)]


def test_a_loop_of_your_own_on_a_model_compiled_before_it_was_built_says_what_to_do():
    model = Sequential([Dense(3), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), np.float32), np.ones((4, 1), np.float32)
    _, grad = model.loss.loss_and_gradient(y, model.forward(x, training=True))
    model.backward(grad)
    with pytest.raises(RuntimeError, match=r"compiled before it was built.*model.build"):
        model.gather_gradients()


def test_a_loss_of_your_own_without_its_gradient_is_refused_at_compile():
    # the Keras guide's CustomMSE: only call(); it used to fail at fit's first step
    class CustomMSE(tinynet.losses.Loss):
        def call(self, y_true, y_pred):
            return np.mean(np.square(y_true - y_pred), axis=-1)

    model = Sequential([Dense(1, input_shape=(3,))])
    with pytest.raises(TypeError, match=r"CustomMSE defines the loss but not its gradient"):
        model.compile(optimizer="adam", loss=CustomMSE())

    class WithGradient(CustomMSE):
        def sample_gradient(self, y_true, y_pred):
            return 2 * (y_pred - y_true) / y_pred.shape[-1]

    model.compile(optimizer="adam", loss=WithGradient())
    assert np.isfinite(model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0).history["loss"][0])
