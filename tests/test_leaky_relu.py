"""LeakyReLU(negative_slope=0.3): Keras's layer, with its own default slope (0.3; the function
keras.activations.leaky_relu, behind Activation('leaky_relu'), defaults to 0.2)."""

import numpy as np
import pytest

import tinynet
from tinynet.gradcheck import check_layer
from tinynet.layers import Activation, Dense, LeakyReLU
from tinynet.models import Sequential, load_model


def test_forward_is_x_above_zero_and_the_slope_times_x_below():
    x = np.array([[-2.0, -0.5, 0.0, 1.5]], dtype=np.float32)
    y = LeakyReLU().forward(x)
    np.testing.assert_array_equal(y, np.float32([[-0.6, -0.15, 0.0, 1.5]]))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(LeakyReLU(negative_slope=0.1).forward(x),
                                  np.float32([[-0.2, -0.05, 0, 1.5]]))
    # the function's default is another one
    np.testing.assert_array_equal(Activation("leaky_relu").forward(x)[0, :2],
                                  np.float32([-0.4, -0.1]))


def test_backward_matches_finite_differences_in_float64():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 5))
    x[np.abs(x) < 1e-3] = 0.5  # away from the kink, where finite differences would straddle it
    errors = check_layer(LeakyReLU(negative_slope=0.25, dtype="float64"), x)
    assert errors["input"] < 1e-7


def test_keras_2s_alpha_is_taken_with_keras_3s_warning():
    with pytest.warns(UserWarning, match="`alpha` is deprecated. Use `negative_slope`"):
        layer = LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1
    with pytest.raises(TypeError, match=r"takes no activation argument.*Activation\('tanh'\)"):
        LeakyReLU(activation="tanh")


def test_the_slope_is_checked_where_it_is_given():
    with pytest.raises(ValueError, match=r"LeakyReLU\(negative_slope=...\)"):
        LeakyReLU(negative_slope=-0.1)
    with pytest.raises(TypeError, match=r"LeakyReLU\(negative_slope=...\)"):
        LeakyReLU(negative_slope="0.3")


def test_a_model_with_leaky_relu_trains_and_keeps_its_slope_in_a_keras_file(tmp_path):
    tinynet.set_seed(0)
    model = Sequential([Dense(4, input_shape=(3,)), LeakyReLU(negative_slope=0.1), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 3)), rng.normal(size=(32, 1))
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras")
    assert isinstance(again.layers[1], LeakyReLU) and again.layers[1].negative_slope == 0.1
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
