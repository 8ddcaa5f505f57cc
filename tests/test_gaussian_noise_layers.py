"""GaussianNoise and GaussianDropout (Keras 3's regularization layers, which Machine Learning
Mastery's noise tutorials use): the noise's statistics, inference mode, gradients against
finite differences in float64, and the argument ranges Keras 3.15.1 accepts."""

import numpy as np
import pytest

import tinynet
from tinynet.gradcheck import check_layer
from tinynet.layers import Dense, GaussianDropout, GaussianNoise
from tinynet.models import Sequential

X = np.random.default_rng(0).normal(size=(400, 250))


@pytest.mark.parametrize("layer, mean, std", [
    # y - x ~ N(0, 0.3^2)
    (GaussianNoise(0.3, seed=1, dtype="float64"), 0.0, 0.3),
    # y / x ~ N(1, rate / (1 - rate)) = N(1, 0.25 / 0.75)
    (GaussianDropout(0.25, seed=1, dtype="float64"), 1.0, np.sqrt(0.25 / 0.75)),
])
def test_the_noise_has_the_documented_mean_and_spread(layer, mean, std):
    y = layer(X, training=True)
    noise = y - X if isinstance(layer, GaussianNoise) else y / X
    # 100,000 draws: the sample mean's standard error is std / 316
    assert abs(noise.mean() - mean) < 5 * std / np.sqrt(noise.size)
    assert abs(noise.std() - std) < 0.01 * std
    np.testing.assert_array_equal(layer(X, training=False), X)  # inference: nothing


@pytest.mark.parametrize("make", [lambda: GaussianNoise(0.5, seed=3, dtype="float64"),
                                  lambda: GaussianDropout(0.4, seed=3, dtype="float64")])
@pytest.mark.parametrize("training", [True, False])
def test_gradients_match_finite_differences(make, training):
    errors = check_layer(make(), X[:6, :5], training=training)
    assert set(errors) == {"input"} and errors["input"] < 1e-7


def test_a_model_with_noise_trains_and_repeats_with_a_seed():
    def run():
        tinynet.set_seed(4)
        model = Sequential([Dense(8, input_shape=(5,), activation="relu"), GaussianNoise(0.1),
                            GaussianDropout(0.2), Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        x = X[:64, :5].astype(np.float32)
        return model.fit(x, (x[:, :1] > 0).astype(np.float32), epochs=3, verbose=0)
    first, second = run(), run()
    assert first.history["loss"] == second.history["loss"]
    assert first.history["loss"][-1] < first.history["loss"][0]


@pytest.mark.parametrize("make, words", [
    # Keras 3.15.1 refuses stddev outside [0, 1] too
    (lambda: GaussianNoise(1.5), r"GaussianNoise\(stddev=...\)"),
    (lambda: GaussianNoise(-0.1), r"GaussianNoise\(stddev=...\)"),
    # rate 1 would give an infinite variance (Keras takes it)
    (lambda: GaussianDropout(1.0), r"GaussianDropout\(rate=...\)"),
    (lambda: GaussianDropout(0.5, seed=-1), r"GaussianDropout\(seed=...\)"),
])
def test_arguments_out_of_range_are_refused(make, words):
    with pytest.raises(ValueError, match=words):
        make()
