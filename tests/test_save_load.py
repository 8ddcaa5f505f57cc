"""Nothing is lost: save_weights writes atomically and load_weights loads all or nothing."""

import os

import numpy as np
import pytest

import tinynet
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential


def make_model(seed=0, dtype=None):
    tinynet.set_seed(seed)
    model = Sequential([Dense(6, input_shape=(4,), dtype=dtype),
                        BatchNormalization(dtype=dtype), Activation("relu", dtype=dtype),
                        Dense(2, activation="softmax", dtype=dtype)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def trained_model(seed=0):
    """A model whose moving statistics and weights have moved away from their start."""
    model = make_model(seed)
    x = np.random.default_rng(seed).normal(size=(40, 4))
    model.fit(x, (x[:, 0] > 0).astype(int), epochs=2, batch_size=8, verbose=0)
    return model, x


def same_weights(a, b):
    return all(np.array_equal(u, v)
               for u, v in zip(a.get_weights(), b.get_weights(), strict=True))


def files_in(folder):
    return sorted(os.listdir(folder))


def test_round_trip_restores_every_weight_and_every_prediction(tmp_path):
    model, x = trained_model()
    path = tmp_path / "model.weights.npz"
    model.save_weights(path)
    fresh = make_model(seed=1)
    assert not same_weights(model, fresh)
    fresh.load_weights(path)
    assert same_weights(model, fresh)
    np.testing.assert_array_equal(model.predict(x), fresh.predict(x))


def test_saving_leaves_only_the_file_asked_for(tmp_path):
    make_model().save_weights(tmp_path / "w.npz")
    make_model().save_weights(str(tmp_path / "w.npz"))  # overwrite, as a plain str this time
    assert files_in(tmp_path) == ["w.npz"]


def test_the_saved_file_gets_ordinary_permissions(tmp_path):
    path = tmp_path / "w.npz"
    make_model().save_weights(path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_float32_weights_load_into_a_float64_model(tmp_path):
    model, x = trained_model()
    model.save_weights(tmp_path / "w.npz")
    model64 = make_model(dtype="float64")
    model64.load_weights(tmp_path / "w.npz")
    assert model64.get_weights()[0].dtype == np.float64
    np.testing.assert_allclose(model64.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("failure", [Interrupted, KeyboardInterrupt])
def test_a_save_that_fails_half_way_keeps_the_old_file_and_leaves_no_temp_file(
        tmp_path, monkeypatch, failure):
    path = tmp_path / "w.npz"
    old_model, x = trained_model(seed=0)
    old_model.save_weights(path)
    old_bytes = path.read_bytes()

    def failing_savez(file, **arrays):  # like a disk that fills up half-way through
        file.write(b"PK\x03\x04 half of an archive")
        raise failure("stopped half-way")

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(failure):
        make_model(seed=5).save_weights(path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert files_in(tmp_path) == ["w.npz"]
    restored = make_model(seed=7)
    restored.load_weights(path)
    assert same_weights(restored, old_model)


def test_a_failed_rename_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    make_model(seed=0).save_weights(path)
    old_bytes = path.read_bytes()

    def failing_replace(source, target):
        raise OSError("rename refused")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename refused"):
        make_model(seed=3).save_weights(path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert files_in(tmp_path) == ["w.npz"]


def test_an_unwritable_folder_is_reported_and_the_old_file_kept(tmp_path, monkeypatch):
    # (chmod cannot make a folder unwritable for root, so the refusal is simulated)
    path = tmp_path / "w.npz"
    make_model().save_weights(path)
    old_bytes = path.read_bytes()

    def refuse(*args, **kwargs):
        raise PermissionError("permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    with pytest.raises(PermissionError, match="save_weights: cannot write in the folder"):
        make_model(seed=2).save_weights(path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes


def test_a_failed_load_changes_no_weight_not_even_the_first_layers(tmp_path):
    """The file matches the architecture but its last array has the wrong shape: every
    check runs before anything is written."""
    model = make_model(seed=0)
    arrays = {f"weight_{i:04d}": w + 1 for i, w in enumerate(model.get_weights())}
    last = f"weight_{len(arrays) - 1:04d}"
    arrays[last] = np.zeros(5, dtype=np.float32)
    path = tmp_path / "tampered.npz"
    np.savez(path, architecture=np.array(model.architecture()), **arrays)
    before = model.get_weights()
    with pytest.raises(ValueError, match="set_weights: layer 'dense_1': weight 'bias'"):
        model.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_optimizer_keeps_working_on_loaded_weights(tmp_path):
    """load_weights writes into the existing arrays, so an optimizer holding them still
    updates the loaded values (not stale copies)."""
    model, x = trained_model()
    model.save_weights(tmp_path / "w.npz")
    other = make_model(seed=9)
    other.fit(x, np.zeros(len(x), dtype=int), epochs=1, verbose=0)  # creates Adam's slots
    other.load_weights(tmp_path / "w.npz")
    assert same_weights(other, model)
    other.fit(x, (x[:, 0] > 0).astype(int), epochs=1, verbose=0)
    assert not same_weights(other, model)
    # the same memory as the layer's kernel (a view, with Keras's variable methods)
    assert np.shares_memory(other.trainable_params[0], other.layers[0].params["kernel"])
