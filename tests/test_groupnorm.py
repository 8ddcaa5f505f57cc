"""GroupNormalization (and instance normalization, groups=-1): finite differences, PyTorch
autograd (tests/data/torch_conv_reference.npz), and the statistics computed by hand."""

import numpy as np
import pytest
from test_conv import (
    GRADIENT_TOLERANCE,
    assert_gradients_ok,
    compare_with_torch,
    fixture_cases,
    random_x,
)

from tinynet.gradcheck import check_layer
from tinynet.layers import GroupNormalization


def group_norm(groups, input_shape, seed=3, **kwargs):
    """A float64 layer with gamma and beta away from 1 and 0."""
    layer = GroupNormalization(groups=groups, dtype="float64", **kwargs)
    layer.build(input_shape)
    rng = np.random.default_rng(seed)
    channels = input_shape[-1]
    values = {"gamma": rng.uniform(0.5, 2.0, channels), "beta": rng.normal(size=channels)}
    layer.set_weights([values[key] for key in layer.weight_keys()])
    return layer


@fixture_cases("GroupNormalization")
def test_group_normalization_equals_torch_group_norm(case):
    compare_with_torch(case)


@pytest.mark.parametrize("groups, input_shape", [
    (3, (None, 4, 3, 6)), (1, (None, 3, 3, 4)), (-1, (None, 4, 3, 6)), (2, (None, 8)),
], ids=["groups-3", "groups-1", "instance", "dense-input"])
def test_group_normalization_gradients_match_finite_differences(groups, input_shape):
    x = random_x((3, *input_shape[1:]), loc=1.0, scale=2.0)
    assert_gradients_ok(check_layer(group_norm(groups, input_shape), x))


@pytest.mark.parametrize("center, scale", [(False, True), (True, False), (False, False)])
def test_group_normalization_without_gamma_or_beta_gradients_match(center, scale):
    layer = GroupNormalization(groups=2, center=center, scale=scale, dtype="float64")
    errors = check_layer(layer, random_x((2, 3, 3, 4), loc=1.0, scale=2.0))
    assert set(errors) == {"input"} | ({"beta"} if center else set()) | (
        {"gamma"} if scale else set())
    assert max(errors.values()) < GRADIENT_TOLERANCE


def test_each_sample_and_group_is_normalized_over_pixels_and_its_channels():
    # computed by hand: group g of sample n holds channels [g*C/G, (g+1)*C/G) at every pixel
    x = random_x((2, 4, 3, 6), loc=3.0, scale=2.0)
    y = GroupNormalization(groups=3, dtype="float64")(x)
    for n in range(2):
        for g in range(3):
            values = x[n, :, :, 2 * g:2 * g + 2]
            expected = (values - values.mean()) / np.sqrt(values.var() + 1e-3)
            np.testing.assert_allclose(y[n, :, :, 2 * g:2 * g + 2], expected, rtol=1e-12)


def test_groups_minus_one_is_instance_normalization():
    x = random_x((2, 4, 3, 5), loc=-1.0, scale=3.0)
    layer = GroupNormalization(groups=-1, dtype="float64")
    assert layer.num_groups is None
    y = layer(x)
    # as Keras 3.15 does (checked live), build writes the number of channels into groups
    assert layer.num_groups == 5 and layer.groups == 5 and layer.get_config()["groups"] == 5
    # a build that a model undid (another layer refused the shape) starts again from -1
    from tinynet.layers import Conv2D, Dense, Flatten
    from tinynet.models import Sequential
    model = Sequential([GroupNormalization(groups=-1), Conv2D(2, 3), Flatten(), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError):
        model.fit(np.ones((4, 5), "float32"), np.ones((4, 1)), verbose=0)  # Conv2D refuses
    model.fit(np.ones((4, 8, 8, 3), "float32"), np.ones((4, 1)), verbose=0)
    assert model.layers[0].groups == 3
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-12, atol=1e-12)


def test_one_group_normalizes_each_sample_over_all_its_values():
    x = random_x((3, 2, 2, 4), loc=2.0)
    y = GroupNormalization(groups=1, dtype="float64")(x)
    flat = x.reshape(3, -1)
    expected = (flat - flat.mean(axis=1, keepdims=True)) / np.sqrt(
        flat.var(axis=1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(y.reshape(3, -1), expected, rtol=1e-12, atol=1e-12)


def test_a_sample_does_not_depend_on_its_batch_and_training_changes_nothing():
    x = random_x((4, 3, 3, 8))
    layer = GroupNormalization(groups=4, dtype="float64")
    y_train = layer.forward(x, training=True)
    np.testing.assert_array_equal(layer.forward(x, training=False), y_train)
    np.testing.assert_allclose(layer(x[1:2]), y_train[1:2], rtol=1e-13)


def test_keras_defaults_and_weights():
    layer = GroupNormalization()
    assert (layer.groups, layer.axis, layer.epsilon, layer.center, layer.scale) == (
        32, -1, 1e-3, True, True)
    layer.build((None, 8, 8, 64))
    assert layer.weight_keys() == ["gamma", "beta"]
    assert [w.shape for w in layer.get_weights()] == [(64,), (64,)]
    assert layer.count_params() == 128 and layer.count_non_trainable_params() == 0


def test_groups_that_do_not_divide_the_channels_are_refused_with_the_numbers():
    with pytest.raises(ValueError, match=r"groups=32 must divide the number of channels, 6"):
        GroupNormalization().build((None, 24, 24, 6))
    with pytest.raises(ValueError, match="groups=4 must divide"):
        GroupNormalization(groups=4).build((None, 6))


@pytest.mark.parametrize("kwargs, error", [
    ({"groups": 0}, ValueError), ({"groups": -2}, ValueError), ({"groups": 2.0}, TypeError),
    ({"epsilon": 0.0}, ValueError), ({"axis": 1, "groups": 2}, ValueError),
])
def test_bad_arguments_are_refused(kwargs, error):
    with pytest.raises(error, match="GroupNormalization|groups|axis"):
        layer = GroupNormalization(**kwargs)
        layer.build((None, 4, 4, 4))   # axis=1 is only known to be wrong once built
