"""GaussianNoise and GaussianDropout (Keras 3's regularization layers, which Machine Learning
Mastery's noise tutorials use): the noise's statistics, inference mode, gradients against
finite differences in float64, and the argument ranges Keras 3.15.1 accepts."""

import numpy as np
import pytest
from helpers import KERAS_VENV_PYTHON, run_in_keras_venv

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


def noise_model():
    return Sequential([tinynet.layers.Input(shape=(3,)), GaussianNoise(0.1),
                       GaussianDropout(0.2, seed=3), Dense(1)])


def test_the_configs_are_keras_s():
    # Keras 3.15.1 writes {'name', 'trainable', 'dtype', 'stddev': 0.1, 'seed': None} and
    # {..., 'rate': 0.2, 'seed': 3}, with no build_config (read from its config.json)
    model = noise_model()
    noise, dropout = (layer.get_config() for layer in model.layers[:2])
    assert {k: noise[k] for k in ("stddev", "seed")} == {"stddev": 0.1, "seed": None}
    assert {k: dropout[k] for k in ("rate", "seed")} == {"rate": 0.2, "seed": 3}
    assert set(noise) == {"name", "trainable", "dtype", "stddev", "seed"}


def test_a_keras_file_round_trips(tmp_path):
    pytest.importorskip("h5py")
    model = noise_model()
    model.save(str(tmp_path / "noise.keras"))
    loaded = tinynet.models.load_model(str(tmp_path / "noise.keras"))
    assert [type(layer).__name__ for layer in loaded.layers] == [
        "GaussianNoise", "GaussianDropout", "Dense"]
    assert (loaded.layers[0].stddev, loaded.layers[1].rate, loaded.layers[1].seed) == \
        (0.1, 0.2, 3)
    x = X[:4, :3].astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


KERAS_LOADS = """
import sys, numpy as np, keras
model = keras.models.load_model(sys.argv[1])
assert [type(l).__name__ for l in model.layers] == ["GaussianNoise", "GaussianDropout", "Dense"]
np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))
"""


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_keras_loads_a_tinynet_file_with_noise_layers(tmp_path):
    pytest.importorskip("h5py")
    model, x = noise_model(), X[:4, :3].astype(np.float32)
    model.save(str(tmp_path / "noise.keras"))
    np.save(tmp_path / "x.npy", x)
    run_in_keras_venv(KERAS_LOADS, tmp_path / "noise.keras", tmp_path / "x.npy",
                      tmp_path / "p.npy")
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), model.predict(x, verbose=0),
                               rtol=1e-6)
