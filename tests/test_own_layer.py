"""A layer of your own, and the mistakes a student makes writing one: each is either handled
(the layer trains) or stopped with an error that says what to change, never a silent wrong
training. Also the hand-called pieces of a step (loss_and_gradient) and the Keras spellings
that point to what tinynet lacks."""

import warnings

import numpy as np
import pytest

import tinynet
from tinynet import losses, metrics
from tinynet.layers import Dense, Layer
from tinynet.models import Sequential
from tinynet.optimizers import SGD, Adam

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 4)).astype(np.float32)
Y = (X[:, :1] > 0).astype(np.float32)


class Scale(Layer):
    """y = x * gamma, a learnable scale per feature; no weight_order (it is optional)."""

    def __init__(self, mistake=None, **kwargs):
        if mistake != "no super().__init__":
            super().__init__(**kwargs)
        self.mistake = mistake
        self.calls = 0

    def build(self, input_shape):
        dtype = np.float64 if self.mistake == "float64 weight" else self.dtype
        self.params["gamma"] = np.ones(input_shape[-1], dtype=dtype)
        if self.mistake != "no super().build":
            super().build(input_shape)

    def forward(self, x, training=False):
        self.check_input(x)
        self.x = x
        if self.mistake == "new weight array":  # instead of writing into it
            self.params["gamma"] = np.clip(self.params["gamma"], -10, 10)
        return x * self.params["gamma"]

    def backward(self, grad_output):
        self.check_grad_output(grad_output, self.x)
        self.calls += 1
        dgamma = (grad_output * self.x).sum(axis=0)
        if self.mistake == "first call only" and self.calls > 1:
            pass
        elif self.mistake == "python float":
            self.grads["gamma"] = float(dgamma.sum())
        elif self.mistake == "misspelt":
            self.grads["gama"] = dgamma
        elif self.mistake == "in place":
            self.grads["gamma"][...] = dgamma
        else:
            self.grads["gamma"] = dgamma
        dx = grad_output * self.params["gamma"]
        return {"wrong dx": dx[:, :2], "no dx": None}.get(self.mistake, dx)


def model_with(layer, optimizer=None):
    model = Sequential([Dense(4, input_shape=(4,)), layer, Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizer or SGD(learning_rate=0.5), loss="binary_crossentropy")
    return model


def test_a_layer_without_weight_order_trains_and_shows_its_weights():
    tinynet.set_seed(0)
    layer = Scale()
    model = model_with(layer)
    history = model.fit(X, Y, epochs=5, batch_size=8, verbose=0)
    assert not np.allclose(layer.params["gamma"], 1.0)  # trained
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(layer.get_weights()) == 1 and layer.count_params() == 4
    assert model.count_params() == 4 * 4 + 4 + 4 + 4 + 1


def test_a_gradient_set_only_once_is_caught_at_the_next_step():
    model = model_with(Scale(mistake="first call only"))
    model.train_on_batch(X, Y)
    with pytest.raises(RuntimeError, match=r"grads\['gamma'\].*at every call, got nothing"):
        model.train_on_batch(X, Y)


def test_a_gradient_given_as_a_number_says_so():
    model = model_with(Scale(mistake="python float"))
    with pytest.raises(RuntimeError, match="got a float"):
        model.train_on_batch(X, Y)


def test_a_misspelt_gradient_name_is_pointed_out():
    model = model_with(Scale(mistake="misspelt"))
    with pytest.raises(RuntimeError, match=r"it set grads \['gama'\]: a misspelt name"):
        model.train_on_batch(X, Y)


def test_a_float64_weight_in_a_float32_model_is_refused_at_compile():
    with pytest.raises(TypeError, match=r"params\['gamma'\].*dtype float32, got float64"):
        model_with(Scale(mistake="float64 weight"))


@pytest.mark.parametrize("mistake, error, words", [
    ("wrong dx", ValueError, r"Scale 'scale'.backward returned an array of shape \(32, 2\) "
                             r"and type float32; it must return dL/dx.*\(32, 4\).*Dense 'dense'"),
    ("no dx", TypeError, r"Scale 'scale'.backward returned NoneType; it must return dL/dx"),
])
def test_a_wrong_dx_is_blamed_on_the_layer_that_returned_it(mistake, error, words):
    # the layer before refuses it as its grad_output; the error names the layer at fault
    model = model_with(Scale(mistake=mistake))
    with pytest.raises(error, match=words):
        model.train_on_batch(X, Y)


def test_writing_into_a_cleared_gradient_says_to_assign_it():
    model = model_with(Scale(mistake="in place"))
    words = r"read self.grads\['gamma'\] before setting it.*self.grads\['gamma'\] = dgamma"
    with pytest.raises(TypeError, match=words):
        model.train_on_batch(X, Y)
    with pytest.raises(TypeError, match="check_layer: .*" + words):
        tinynet.gradcheck.check_layer(Scale(mistake="in place", dtype="float64"), X)


@pytest.mark.parametrize("use", [
    lambda layer: model_with(layer),
    lambda layer: layer(X),
    lambda layer: tinynet.gradcheck.check_layer(layer, X),
])
def test_a_layer_without_super_init_says_so_where_it_is_first_used(use):
    with pytest.raises(TypeError, match=r"Scale was .*its __init__ did not call "
                                        r"super\(\).__init__\(\*\*kwargs\)"):
        use(Scale(mistake="no super().__init__"))


@pytest.mark.parametrize("use", [
    lambda layer: model_with(layer),
    lambda layer: layer(X),
    lambda layer: tinynet.gradcheck.check_layer(layer, X),
])
def test_a_build_without_super_build_says_so(use):
    # otherwise every layer(x) rebuilt the layer, its weights made anew each time
    with pytest.raises(TypeError, match=r"build\(input_shape\) must end with "
                                        r"super\(\).build\(input_shape\)"):
        use(Scale(mistake="no super().build"))


class Halve(Scale):
    """A layer whose compute_output_shape forgets its return (a common slip)."""

    def compute_output_shape(self, input_shape):
        (*input_shape[:-1], input_shape[-1] // 2)


@pytest.mark.parametrize("use", [
    lambda layer: model_with(layer),
    lambda layer: layer(X),
])
def test_a_compute_output_shape_that_returns_nothing_is_named(use):
    # it used to be blamed on a missing super().build(), which the layer does call
    with pytest.raises(TypeError, match=r"compute_output_shape\(\(None, 4\)\) must return "
                                        r"the output's shape as a tuple.*got None"):
        use(Halve())


def test_the_gradient_checker_names_what_fit_names():
    check = tinynet.gradcheck.check_layer
    with pytest.raises(RuntimeError, match=r"grads\['gamma'\] at every call to an array.*it "
                                           r"set it to a float"):
        check(Scale(mistake="python float", dtype="float64"), X)
    with pytest.raises(RuntimeError, match=r"it did not set it \(it set grads \['gama'\]: a "
                                           r"misspelt name\?\)"):
        check(Scale(mistake="misspelt", dtype="float64"), X)
    with pytest.raises(RuntimeError, match=r"forward replaced params\['gamma'\] with a new "
                                           r"array"):
        check(Scale(mistake="new weight array", dtype="float64"), X)
    with pytest.raises(ValueError, match=r"backward returned shape \(32, 2\); it must return "
                                         r"dL/dx, an array of the shape of x, \(32, 4\)"):
        check(Scale(mistake="wrong dx", dtype="float64"), X)


class Twice(Layer):
    """[x, x] side by side, (N, 2D), without the compute_output_shape that says so."""

    def forward(self, x, training=False):
        self.check_input(x)
        return np.concatenate([x, x], axis=1)

    def backward(self, grad_output):
        half = grad_output.shape[1] // 2
        return grad_output[:, :half] + grad_output[:, half:]


def test_the_gradient_checker_points_to_compute_output_shape():
    with pytest.raises(ValueError, match=r"forward returned shape \(32, 8\), but the layer "
                                         r"says its output has samples of shape \(4,\).*"
                                         r"compute_output_shape"):
        tinynet.gradcheck.check_layer(Twice(dtype="float64"), X)


def test_loss_and_gradient_by_hand_refuses_targets_that_do_not_match():
    p = np.full((8, 1), 0.5, dtype=np.float32)
    with pytest.raises(ValueError, match=r"same number of samples, got 10 and 8"):
        losses.BinaryCrossentropy().loss_and_gradient(np.ones(10), p)
    # the same number of values in another shape is not reshaped silently
    with pytest.raises(ValueError, match=r"y_true of shape \(2, 3, 2\) does not match"):
        losses.BinaryCrossentropy().loss_and_gradient(np.ones((2, 3, 2)), np.full((2, 2, 3), 0.5))
    with pytest.raises(ValueError, match=r"y has shape \(2, 3, 2, 1\) but"):
        losses.BinaryCrossentropy()(np.zeros((2, 3, 2, 1)), np.full((2, 2, 3, 1), 0.5))
    probabilities = np.full((4, 3), 1 / 3, dtype=np.float32)
    loss = losses.SparseCategoricalCrossentropy()
    with pytest.raises(ValueError, match="same number of samples, got 2 and 4"):
        loss.loss_and_gradient(np.array([0, 1]), probabilities)
    with pytest.raises(ValueError, match="labels must be whole numbers"):
        loss.gradient(np.array([0.5, 1.7, 1, 2]), probabilities)  # not truncated to 0 and 1
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        loss.loss_and_gradient(np.array([0, 1, 2, -1]), probabilities)


def test_the_by_hand_loss_methods_refuse_what_they_would_get_wrong():
    # loss, gradient and loss_and_gradient take (N, K) arrays; the loss object converts
    y, p = np.array([0.0, 1, 1, 0]), np.array([0.2, 0.7, 0.4, 0.1])
    mse = losses.MeanSquaredError(reduction="sum")
    for method in (mse.loss, mse.gradient, mse.loss_and_gradient):
        with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):
            method(y, p)  # (N,) had been read as one sample of N outputs
        with pytest.raises(TypeError, match="must be a NumPy array, got a list"):
            method(list(y), p.reshape(-1, 1))
        with pytest.raises(ValueError, match=r"one weight per sample \(4\)"):
            method(y, p.reshape(-1, 1), np.ones(2))
    assert mse(y, p) == pytest.approx(mse.loss(y, p.reshape(-1, 1))) == pytest.approx(0.5)
    with pytest.raises(TypeError, match="complex128"):
        mse.gradient(y, p.reshape(-1, 1) + 0j)
    with pytest.raises(ValueError, match="the batch is empty"):
        losses.SparseCategoricalCrossentropy().gradient(np.zeros(0), np.zeros((0, 3)))


def test_loss_and_gradient_is_loss_and_gradient():
    p = RNG.uniform(0.05, 0.95, size=(8, 2)).astype(np.float32)
    y = (RNG.uniform(size=(8, 2)) > 0.5).astype(np.float32)
    weights = RNG.uniform(size=8)
    loss = losses.BinaryCrossentropy()
    value, grad = loss.loss_and_gradient(y, p, weights)
    assert value == loss.loss(y, p, weights)
    np.testing.assert_array_equal(grad, loss.gradient(y, p, weights))


def test_a_loss_of_your_own_without_a_gradient_says_what_to_write():
    class OnlyCall(losses.Loss):
        def call(self, y_true, y_pred):
            return ((y_pred - y_true) ** 2).mean(axis=-1)

    model = Sequential([Dense(1, input_shape=(4,))])
    with pytest.raises(TypeError, match="defines the loss but not its gradient.*sample_gradient"):
        model.compile(optimizer="sgd", loss=OnlyCall())  # where it is given, not at fit
    with pytest.raises(NotImplementedError, match="must define sample_gradient"):
        OnlyCall().gradient(Y, Y)  # called by hand: the same explanation


def test_a_metric_of_your_own_without_reset_state_says_what_to_write():
    class NoReset(metrics.Metric):
        pass

    with pytest.raises(NotImplementedError, match="must define reset_state"):
        NoReset()


def test_keras_optimizer_arguments_tinynet_lacks_are_named():
    with pytest.raises(TypeError, match="use_ema=.*Keras argument for an exponential moving"):
        Adam(learning_rate=1e-3, use_ema=True)
    assert Adam(name="my_adam").name == "my_adam"


def test_keras_saving_is_reachable_from_the_package():
    assert tinynet.saving.load_model is not None


@pytest.mark.parametrize("module, name, words", [
    ("tinynet", "ops", "write NumPy"),
    ("tinynet", "Model", "Sequential models only"),
    ("tinynet.layers", "ELU", "Activation('elu')"),
    ("tinynet.layers", "RandomFlip", "augment the training arrays"),
    ("tinynet.callbacks", "TensorBoard", "CSVLogger"),
    ("tinynet.datasets", "cifar10", "MNIST and Fashion-MNIST"),
    ("tinynet.metrics", "F1Score", "It has: AUC"),
])
def test_a_keras_name_tinynet_lacks_says_what_to_use(module, name, words):
    import importlib

    with pytest.raises(AttributeError, match=f"{module} has no {name}") as error:
        getattr(importlib.import_module(module), name)
    assert words in str(error.value)


def test_tinynet_modules_load_when_first_used_without_matplotlib():
    import subprocess
    import sys

    code = ("import sys, tinynet; tinynet.gradcheck.check_layer; tinynet.stats.compare; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_a_layer_of_your_own_is_saved_and_loaded_with_custom_objects(tmp_path):
    pytest.importorskip("h5py")
    model = model_with(Scale())
    model.fit(X, Y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")  # its class name and get_config(), as Keras writes it
    with pytest.raises(ValueError, match=r"tinynet has no Scale layer \(if it is a layer of "
                                         r"your own, written for tinynet, give custom_objects="
                                         r"\{'Scale': Scale\}\)"):
        tinynet.models.load_model(tmp_path / "m.keras")
    again = tinynet.models.load_model(tmp_path / "m.keras", custom_objects={"Scale": Scale})
    assert type(again.layers[1]) is Scale and again.compiled
    np.testing.assert_array_equal(again.predict(X, verbose=0), model.predict(X, verbose=0))
    model.save_weights(tmp_path / "m.weights.npz")  # the weights alone work too
    copy = model_with(Scale())
    copy.load_weights(tmp_path / "m.weights.npz")
    for a, b in zip(model.get_weights(), copy.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_load_model_takes_keras_arguments(tmp_path):
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.keras")
    loaded = tinynet.saving.load_model(tmp_path / "m.keras", compile=False, safe_mode=True)
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])
    assert not loaded.compiled


class Counter(Layer):
    """Counts its training calls in a 0-d state, assigned anew (count + 1 is a NumPy scalar)."""

    def build(self, input_shape):
        self.state["count"] = np.zeros((), self.dtype)
        super().build(input_shape)

    def forward(self, x, training=False):
        self.check_input(x, training)
        if training:
            self.state["count"] = self.state["count"] + 1
        self.x = x
        return x

    def backward(self, grad_output):
        self.check_grad_output(grad_output, self.x)
        return grad_output


def test_a_0_d_state_assigned_anew_is_still_a_weight(capsys):
    model = model_with(Counter())
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
    model.summary()  # it failed inside on the NumPy scalar
    assert "Non-trainable params: 1" in capsys.readouterr().out
    count = model.layers[1].weights[0]
    assert count.shape == () and float(count) == 4.0


class PenalizedScale(Scale):
    """Scale with an L2 penalty on gamma; `forget` leaves add_regularization_gradients out."""

    def __init__(self, forget, **kwargs):
        super().__init__(**kwargs)
        self.forget = forget

    def build(self, input_shape):
        super().build(input_shape)
        self.regularizers["gamma"] = tinynet.regularizers.L2(0.5)

    def backward(self, grad_output):
        dx = super().backward(grad_output)
        if not self.forget:
            self.add_regularization_gradients()
        return dx


@pytest.mark.parametrize("forget", [True, False])
def test_the_gradient_checker_names_a_forgotten_penalty_gradient(forget):
    layer = PenalizedScale(forget, dtype="float64")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        errors = tinynet.gradcheck.check_layer(layer, X[:6])
    said = [str(w.message) for w in caught if "add_regularization_gradients" in str(w.message)]
    if forget:
        assert said and "left out the gradient of the regularization penalty of 'gamma'" in said[0]
        assert errors["gamma"] > 1e-4
    else:
        assert said == [] and errors["gamma"] < 1e-6
