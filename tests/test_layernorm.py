"""LayerNormalization: per-sample statistics, hand-written backward, weights and summary.

The fixture tests/data/torch_layernorm_reference.npz was made by
tests/data/make_torch_layernorm_reference.py (torch.nn.functional.layer_norm and autograd).
"""

import pathlib

import numpy as np
import pytest

import tinynet
from tinynet.gradcheck import check_layer, check_model
from tinynet.layers import Dense, LayerNorm, LayerNormalization
from tinynet.models import Sequential

FIXTURE = pathlib.Path(__file__).parent / "data" / "torch_layernorm_reference.npz"
GRADIENT_TOLERANCE = 1e-6  # the bar, float64


def random_x(shape=(6, 5), seed=7, loc=1.5, scale=3.0):
    return np.random.default_rng(seed).normal(loc, scale, size=shape)


def layernorm(features=5, seed=3, **kwargs):
    """A built float64 layer whose gamma and beta are away from 1 and 0, so that a formula
    that forgets one of them gives a wrong answer."""
    layer = LayerNormalization(dtype="float64", **kwargs)
    layer.build((None, features))
    rng = np.random.default_rng(seed)
    if "gamma" in layer.params:
        layer.params["gamma"][...] = rng.uniform(0.5, 2.0, size=features)
    if "beta" in layer.params:
        layer.params["beta"][...] = rng.normal(size=features)
    return layer


# -- backward: finite differences -----------------------------------------------------------

def test_layernorm_gradients_match_finite_differences():
    errors = check_layer(layernorm(), random_x())
    assert set(errors) == {"input", "gamma", "beta"}
    for key, error in errors.items():
        assert error < GRADIENT_TOLERANCE, f"{key}: relative error {error:.2e}"


@pytest.mark.parametrize("center, scale, keys", [
    (False, True, {"input", "gamma"}),
    (True, False, {"input", "beta"}),
    (False, False, {"input"}),
])
def test_layernorm_without_center_or_scale_gradients_match(center, scale, keys):
    errors = check_layer(layernorm(center=center, scale=scale), random_x())
    assert set(errors) == keys
    assert max(errors.values()) < GRADIENT_TOLERANCE


def test_layernorm_gradients_are_the_same_in_inference_mode():
    errors = check_layer(layernorm(), random_x(), training=False)
    assert max(errors.values()) < GRADIENT_TOLERANCE


def test_layernorm_grad_input_is_right_when_it_feeds_a_dense_layer():
    # the Dense kernel's gradient is only right if LayerNorm's grad_input is
    tinynet.set_seed(5)
    model = Sequential([Dense(6, input_shape=(4,), dtype="float64"),
                        LayerNormalization(dtype="float64"),
                        Dense(1, activation="sigmoid", dtype="float64")])
    model.layers[1].params["gamma"][...] = np.linspace(0.5, 2.0, 6)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = random_x((8, 4), seed=11, loc=0.0, scale=1.0)
    y = (x[:, 0] > 0).astype(float)
    errors = check_model(model, x, y)
    assert "dense/kernel" in errors
    assert max(errors.values()) < GRADIENT_TOLERANCE


# -- forward: values worked out by hand -------------------------------------------------------

def test_layernorm_forward_normalizes_each_sample_over_its_features():
    layer = LayerNormalization(epsilon=0.5, dtype="float64")
    layer.build((None, 3))
    layer.set_weights([np.array([1.0, 2.0, 3.0]), np.array([0.0, 10.0, 0.0])])
    x = np.array([[1.0, 2.0, 3.0],      # mu 2, var (1 + 0 + 1) / 3 = 2/3
                  [0.0, 4.0, 8.0]])     # mu 4, var (16 + 0 + 16) / 3 = 32/3
    s0, s1 = np.sqrt(2 / 3 + 0.5), np.sqrt(32 / 3 + 0.5)
    expected = np.array([[1.0 * -1 / s0, 10.0, 3.0 * 1 / s0],
                         [1.0 * -4 / s1, 10.0, 3.0 * 4 / s1]])
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12)


def test_layernorm_output_rows_have_zero_mean_and_unit_variance():
    layer = LayerNormalization(epsilon=1e-9, dtype="float64")
    y = layer(random_x((4, 50)))
    np.testing.assert_allclose(y.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=1), 1.0, rtol=1e-6)
    # ... while the columns (features) are not normalized at all
    assert np.max(np.abs(y.mean(axis=0))) > 0.1


def test_layernorm_default_epsilon_is_keras_1e_3():
    assert LayerNormalization().epsilon == 1e-3


def test_layernorm_training_and_inference_give_the_same_output():
    layer = layernorm()
    x = random_x()
    np.testing.assert_array_equal(layer.forward(x, training=True),
                                  layer.forward(x, training=False))


def test_layernorm_sample_output_does_not_depend_on_the_rest_of_the_batch():
    layer = layernorm()
    x = random_x((6, 5))
    other = x.copy()
    other[1:] = random_x((5, 5), seed=99, loc=-20.0, scale=50.0)  # wildly different batchmates
    alone = layer(x[:1])
    np.testing.assert_allclose(layer(x)[:1], alone, rtol=1e-13)
    np.testing.assert_allclose(layer(other)[:1], alone, rtol=1e-13)


def test_layernorm_works_on_a_batch_of_one_sample():
    layer = layernorm()
    x = random_x((1, 5))
    y = layer(x)
    assert y.shape == (1, 5)
    assert np.std(y) > 0.5  # not collapsed to beta, unlike BatchNormalization on one sample
    errors = check_layer(layer, x)
    assert max(errors.values()) < GRADIENT_TOLERANCE
    grad_input = layer.backward(np.ones((1, 5)) + np.arange(5))
    assert np.all(np.isfinite(grad_input)) and np.max(np.abs(grad_input)) > 1e-3


def test_layernorm_keeps_no_moving_statistics():
    layer = layernorm()
    before = [w.copy() for w in layer.get_weights()]
    layer.forward(random_x(), training=True)
    assert layer.state == {}
    assert layer.count_non_trainable_params() == 0
    for old, new in zip(before, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


# -- against PyTorch --------------------------------------------------------------------------

def load_torch_cases():
    with np.load(FIXTURE) as data:
        arrays = {key: data[key] for key in data.files}
    count = len({key.split("_")[0] for key in arrays if key.startswith("c")})
    cases = [{key[len(f"c{i}_"):]: value for key, value in arrays.items()
              if key.startswith(f"c{i}_")} for i in range(count)]
    return cases, float(arrays["epsilon"])


TORCH_CASES, TORCH_EPSILON = load_torch_cases()


@pytest.mark.parametrize("case", TORCH_CASES, ids=[str(c["x"].shape) for c in TORCH_CASES])
def test_layernorm_matches_torch_layer_norm_and_autograd(case):
    layer = LayerNormalization(epsilon=TORCH_EPSILON, dtype="float64")
    layer.build((None, case["x"].shape[1]))
    layer.set_weights([case["gamma"], case["beta"]])
    y = layer.forward(case["x"], training=True)
    dx = layer.backward(case["grad_output"])
    for name, mine in (("y", y), ("dx", dx), ("dgamma", layer.grads["gamma"]),
                       ("dbeta", layer.grads["beta"])):
        scale = max(np.max(np.abs(case[name])), 1.0)
        diff = np.max(np.abs(mine - case[name]))
        assert diff <= 1e-9 * scale, f"{name}: max abs diff {diff:.2e} vs torch"


# -- weights, summary, names, errors -----------------------------------------------------------

def test_layernorm_weights_are_gamma_then_beta_of_shape_features():
    layer = LayerNormalization()
    layer.build((None, 7))
    gamma, beta = layer.get_weights()
    np.testing.assert_array_equal(gamma, np.ones(7))
    np.testing.assert_array_equal(beta, np.zeros(7))
    layer.set_weights([np.full(7, 2.0), np.full(7, -1.0)])
    assert layer.params["gamma"][0] == 2.0 and layer.params["beta"][0] == -1.0
    assert layer.params["gamma"].dtype == np.float32


def test_layernorm_without_center_has_only_gamma():
    layer = LayerNormalization(center=False)
    layer.build((None, 4))
    assert layer.weight_keys() == ["gamma"]
    assert layer.count_params() == 4


def test_layernorm_in_a_model_is_named_like_keras_and_counted_in_the_summary():
    model = Sequential([Dense(8, input_shape=(3,)), LayerNormalization(), Dense(2),
                        LayerNorm()])
    names = [layer.name for layer in model.layers]
    assert names[1] == "layer_normalization" and names[3] == "layer_normalization_1"
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    # Keras 3 wraps the row's text inside its column: "layer_normalization_1" on one line,
    # "(LayerNormalization)" on the next
    assert "│ layer_normalization_1 " in text and "│ (LayerNormalization) " in text
    # Dense 3*8+8 = 32, LN 2*8 = 16, Dense 8*2+2 = 18, LN 2*2 = 4: all trainable
    assert "Total params: 70" in text
    assert "Trainable params: 70" in text
    assert "Non-trainable params: 0" in text


def test_layernorm_model_trains_and_weights_round_trip(tmp_path):
    tinynet.set_seed(0)
    model = Sequential([Dense(8, input_shape=(4,)), LayerNormalization(),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = random_x((64, 4), seed=1, loc=0.0, scale=1.0)
    y = (x[:, 0] + x[:, 1] > 0).astype(float)
    gamma_before = model.layers[1].params["gamma"].copy()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert not np.array_equal(gamma_before, model.layers[1].params["gamma"])
    clone = Sequential([Dense(8, input_shape=(4,)), LayerNormalization(),
                        Dense(1, activation="sigmoid")])
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(x), model.predict(x))
    model.save_weights(str(tmp_path / "ln.weights.npz"))
    loaded = Sequential([Dense(8, input_shape=(4,)), LayerNormalization(),
                         Dense(1, activation="sigmoid")])
    loaded.load_weights(str(tmp_path / "ln.weights.npz"))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_layernorm_rejects_bad_arguments():
    with pytest.raises(ValueError, match="epsilon"):
        LayerNormalization(epsilon=0.0)
    with pytest.raises(TypeError, match="center"):
        LayerNormalization(center="yes")


def test_keras_argument_order_axis_first():
    # Keras 3: LayerNormalization(axis=-1, epsilon=1e-3, center, scale, ...); a positional 1
    # is axis=1, not epsilon=1 (which gave other numbers without a word)
    x = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 0.0, -1.0, 5.0]], dtype=np.float32)
    layer = LayerNormalization(1)
    assert layer.axis == [1] and layer.epsilon == 1e-3
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    np.testing.assert_allclose(layer(x), (x - mu) / np.sqrt(var + 1e-3), rtol=1e-5)
    np.testing.assert_allclose(LayerNormalization(-1, 0.5)(x), (x - mu) / np.sqrt(var + 0.5),
                               rtol=1e-5)
    with pytest.raises(TypeError, match=r"axis is the first argument.*epsilon=1e-05"):
        LayerNormalization(1e-5)  # epsilon first, in tinynet's order before Keras's


def test_initializers_and_regularizers_as_in_keras(tmp_path):
    from tinynet import regularizers
    from tinynet.models import load_model

    layer = LayerNormalization(gamma_initializer="zeros", beta_initializer="ones",
                               gamma_regularizer=regularizers.L2(0.1),
                               beta_regularizer="l1", dtype="float64")
    layer.build((None, 5))
    np.testing.assert_array_equal(layer.gamma, np.zeros(5))
    np.testing.assert_array_equal(layer.beta, np.ones(5))
    assert layer.regularization_loss() == pytest.approx(0.01 * 5)  # L1 default 0.01, beta = 1
    layer.params["gamma"][:] = np.linspace(-1, 1, 5)  # a penalty on gamma too
    errors = check_layer(layer, np.random.default_rng(0).normal(size=(4, 5)))
    assert max(errors.values()) < 1e-7  # the penalties' gradients included

    model = Sequential([LayerNormalization(beta_initializer="ones",
                                           gamma_regularizer=regularizers.L2(0.1),
                                           input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras").layers[0]
    assert again.gamma_regularizer.l2 == pytest.approx(0.1)
    np.testing.assert_array_equal(again.beta, np.ones(3))
