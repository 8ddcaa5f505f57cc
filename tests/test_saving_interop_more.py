"""Saving and loading as Keras 3.15.1 does it, for the findings of the serialization trial:
the Huber loss's name, when a weights file's optimizer state is loaded or skipped, which
weights file names are accepted, Keras's save/load arguments, load_weights of a .keras file,
model_from_json compiling, keras.saving's names, a loss of your own, the optimizer in
summary(), write errors that name the file, and frozen layers.

Every Keras fact used here was observed in Keras 3.15.1 on the torch backend (the venv at
/tmp/kvenv), by running the Keras code quoted next to it; the test named *_live run Keras
itself when the venv is there.
"""

import io
import json
import os
import tempfile
import warnings
import zipfile

import numpy as np
import pytest
from helpers import KERAS_VENV_PYTHON, raises, run_in_keras_venv

import tinynet
from tinynet import files, layers, losses, optimizers, saving
from tinynet.models import Sequential, load_model, model_from_json

h5py = pytest.importorskip("h5py")

X = np.random.default_rng(0).normal(size=(32, 8)).astype("float32")
Y = (X[:, :1] > 0).astype("float32")


def small_model(optimizer=None, compile=True, seed=0):
    """Input(8) -> Dense(4, relu) 'd1' -> Dense(1, sigmoid) 'd2', the model of the Keras
    runs quoted below (4 trainable arrays: Adam has 2 + 2 * 4 = 10 variables)."""
    tinynet.set_seed(seed)
    model = Sequential([layers.Input((8,)), layers.Dense(4, activation="relu", name="d1"),
                        layers.Dense(1, activation="sigmoid", name="d2")])
    if compile:
        model.compile(optimizer or optimizers.Adam(0.01), "binary_crossentropy")
    return model


def trained_model(optimizer=None):
    model = small_model(optimizer)
    model.fit(X, Y, batch_size=8, epochs=2, verbose=0)  # 8 steps
    return model


def caught(call):
    """(what call() returned, the messages of the UserWarnings it raised)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in seen if issubclass(w.category, UserWarning)]


def compile_config(path):
    return json.loads(zipfile.ZipFile(path).read("config.json"))["compile_config"]


# -- 1. the Huber loss is written by the name Keras reads ------------------------------------
#
# Keras 3.15.1 writes compile(loss="huber") as "huber" and compile(loss=Huber()) as the
# object; it cannot train with "huber_loss" (Huber's own name): fit raises "Could not
# interpret loss identifier: huber_loss".

@pytest.mark.parametrize("loss", ["huber", "Huber", losses.Huber()])
def test_a_huber_loss_is_saved_as_huber_and_comes_back_compiled(tmp_path, loss):
    model = small_model()
    model.compile("adam", loss)
    model.fit(X, Y, verbose=0)
    model.save(tmp_path / "h.keras")
    assert compile_config(tmp_path / "h.keras")["loss"] == "huber"
    loaded, messages = caught(lambda: load_model(tmp_path / "h.keras"))
    assert messages == []
    assert loaded.compiled and isinstance(loaded.loss, losses.Huber)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 1  # state kept


def test_a_file_that_says_huber_loss_loads_compiled(tmp_path):
    """Files written before this fix say "huber_loss"."""
    model = small_model()
    model.compile("adam", "huber")
    model.save(tmp_path / "h.keras")
    with zipfile.ZipFile(tmp_path / "h.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    config["compile_config"]["loss"] = "huber_loss"
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "old.keras", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert isinstance(load_model(tmp_path / "old.keras").loss, losses.Huber)


def test_every_default_loss_is_written_by_a_name_keras_knows():
    # the names keras.losses.get accepts (keras/src/losses/__init__.py, ALL_OBJECTS_DICT):
    # the classes' function names; "huber_loss" is not among them
    keras_names = {"binary_crossentropy", "categorical_crossentropy",
                   "sparse_categorical_crossentropy", "mean_squared_error",
                   "mean_absolute_error", "mean_absolute_percentage_error",
                   "mean_squared_logarithmic_error", "log_cosh", "huber", "poisson",
                   "kl_divergence", "hinge", "squared_hinge"}
    for cls in set(losses.FUNCTIONS.values()):
        assert saving.loss_to_keras(cls()) in keras_names, cls.__name__
    written = saving.loss_to_keras(losses.Huber(delta=2.0))  # not the default: the object
    assert written["class_name"] == "Huber" and written["config"]["delta"] == 2.0


KERAS_FITS = """
import sys, numpy as np, keras
for path in sys.argv[1:]:
    model = keras.models.load_model(path)
    model.fit(np.ones((4, 8)), np.ones((4, 1)), verbose=0)
    print(path, "fits")
"""


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_keras_trains_a_tinynet_file_compiled_with_huber_live(tmp_path):
    paths = []
    for i, loss in enumerate(["huber", losses.Huber(), losses.Huber(delta=2.0)]):
        model = small_model()
        model.compile("adam", loss)
        paths.append(tmp_path / f"h{i}.keras")
        model.save(paths[-1])
    done = run_in_keras_venv(KERAS_FITS, *paths)
    assert done.stdout.count("fits") == 3


# -- 2. and 11. when a file's optimizer state is loaded, and when it is skipped ---------------
#
# Keras 3.15.1 (BaseOptimizer.load_own_variables) loads the saved optimizer variables only
# when there are as many as its optimizer has; a freshly compiled optimizer is not built and
# has 2 (iterations, learning rate), so it skips a trained file's 10 with a warning:
#   "Skipping variable loading for optimizer 'adam', because it has 2 variables whereas the
#   saved optimizer has 10 variables."
# and model.optimizer.iterations stays 0 (observed: a = the small model trained 8 steps,
# a.save_weights(f); b = a fresh compiled copy; b.load_weights(f)).

SKIPPED = "Skipping variable loading for optimizer 'adam', because it has {} variables " \
          "whereas the saved optimizer has {} variables"


def test_load_weights_into_a_fresh_model_skips_the_optimizer_state_as_keras(tmp_path):
    trained_model().save_weights(tmp_path / "a.weights.h5")
    fresh = small_model()
    _, messages = caught(lambda: fresh.load_weights(tmp_path / "a.weights.h5"))
    assert len(messages) == 1 and SKIPPED.format(2, 10) in messages[0]
    assert "load_model" in messages[0]  # what to do to resume training
    assert fresh.optimizer.iterations == 0 and fresh.optimizer.slots is None


def test_the_skipped_state_changes_nothing_in_the_next_steps(tmp_path):
    """After the skip, training goes on exactly as from a fresh optimizer."""
    trained_model().save_weights(tmp_path / "a.weights.h5")
    skipped, fresh = small_model(), small_model()
    caught(lambda: skipped.load_weights(tmp_path / "a.weights.h5"))
    fresh.set_weights(skipped.get_weights())
    for model in (skipped, fresh):
        model.fit(X, Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(skipped.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_model_that_has_trained_takes_the_file_state(tmp_path):
    # Keras: d = small model compiled with Adam(0.5), fit one epoch, d.load_weights(f):
    # iterations 8 and learning rate 0.01 (the file's), no warning
    original = trained_model()
    original.save_weights(tmp_path / "a.weights.h5")
    other = small_model(optimizers.Adam(0.5), seed=1)
    other.fit(X, Y, epochs=1, verbose=0)
    _, messages = caught(lambda: other.load_weights(tmp_path / "a.weights.h5"))
    assert messages == []
    assert other.optimizer.iterations == 8
    assert other.optimizer.learning_rate == pytest.approx(0.01)
    for a, b in zip(other.optimizer_state()["m"], original.optimizer_state()["m"],
                    strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_schedule_has_one_variable_before_it_is_built(tmp_path):
    # Keras: Adam(ExponentialDecay(0.01, 3, 0.5)) freshly compiled: "it has 1 variables
    # whereas the saved optimizer has 10 variables"
    trained_model().save_weights(tmp_path / "a.weights.h5")
    model = small_model(optimizers.Adam(optimizers.schedules.ExponentialDecay(0.01, 3, 0.5)))
    _, messages = caught(lambda: model.load_weights(tmp_path / "a.weights.h5"))
    assert SKIPPED.format(1, 10) in messages[0]


def test_sgd_without_momentum_takes_the_step_count_and_learning_rate(tmp_path):
    # Keras: a freshly compiled SGD(0.3) loads the file of an SGD(0.1) trained 4 steps:
    # 2 variables each, so iterations 4 and learning rate 0.1, without a warning
    trained = small_model(optimizers.SGD(0.1))
    trained.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    trained.save_weights(tmp_path / "s.weights.h5")
    fresh = small_model(optimizers.SGD(0.3))
    _, messages = caught(lambda: fresh.load_weights(tmp_path / "s.weights.h5"))
    assert messages == []
    assert fresh.optimizer.iterations == 4
    assert fresh.optimizer.learning_rate == pytest.approx(0.1)


def test_a_file_without_optimizer_state_warns_in_a_compiled_model(tmp_path):
    # Keras: a file saved from an uncompiled model, loaded into a compiled one: "it has 2
    # variables whereas the saved optimizer has 0 variables"
    small_model(compile=False).save_weights(tmp_path / "u.weights.h5")
    with h5py.File(tmp_path / "u.weights.h5", "r") as h5:
        assert "optimizer" not in h5
    _, messages = caught(lambda: small_model().load_weights(tmp_path / "u.weights.h5"))
    assert SKIPPED.format(2, 0) in messages[0]
    _, messages = caught(lambda: small_model(compile=False).load_weights(
        tmp_path / "u.weights.h5"))
    assert messages == []  # an uncompiled model has no optimizer to load into


def test_a_frozen_layer_makes_the_state_not_fit_and_keras_warning_says_so(tmp_path):
    # Keras: the small model trained with d1 frozen (6 variables: iterations, learning rate,
    # m and v of d2's kernel and bias) loads the file of the model trained unfrozen (10):
    # "it has 6 variables whereas the saved optimizer has 10 variables"
    trained_model().save_weights(tmp_path / "a.weights.h5")
    frozen = small_model()
    frozen.get_layer("d1").trainable = False
    frozen.fit(X, Y, epochs=1, verbose=0)
    before = frozen.optimizer_state()
    _, messages = caught(lambda: frozen.load_weights(tmp_path / "a.weights.h5"))
    assert SKIPPED.format(6, 10) in messages[0] and "frozen or unfrozen" in messages[0]
    assert frozen.optimizer.iterations == 1
    np.testing.assert_array_equal(frozen.optimizer_state()["m"][0], before["m"][0])


def test_load_model_builds_the_optimizer_and_warns_when_the_file_holds_no_slots(tmp_path):
    """Keras's load_model builds the optimizer (compile_from_config); a file saved before the
    first step by Keras holds only iterations and the learning rate, and Keras warns 'it has
    10 variables whereas the saved optimizer has 2 variables'."""
    model = small_model()
    model.save(tmp_path / "m.keras")
    loaded, messages = caught(lambda: load_model(tmp_path / "m.keras"))
    assert messages == []  # tinynet writes a fresh optimizer's slots: they fit
    assert loaded.optimizer.slots is not None
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with h5py.File(tmp_path / "w.h5", "w") as h5, \
            h5py.File(io.BytesIO(members["model.weights.h5"]), "r") as old:
        for name in old:
            old.copy(name, h5)
        for i in range(2, 10):
            del h5[f"optimizer/vars/{i}"]
    members["model.weights.h5"] = (tmp_path / "w.h5").read_bytes()
    with zipfile.ZipFile(tmp_path / "head.keras", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _, messages = caught(lambda: load_model(tmp_path / "head.keras"))
    assert SKIPPED.format(10, 2) in messages[0]


def test_set_optimizer_variables_builds_the_optimizer_first_as_backup_and_restore():
    """Keras's BackupAndRestore builds the optimizer before it loads its backup
    (keras/src/callbacks/backup_and_restore.py, _load_model); tinynet's BackupAndRestore
    goes through model.set_optimizer_variables, which does the same: a fresh model takes a
    trained model's state, unlike load_weights."""
    trained = trained_model()
    fresh = small_model(seed=7)
    _, messages = caught(lambda: fresh.set_optimizer_variables(
        trained.get_optimizer_variables()))
    assert messages == [] and fresh.optimizer.iterations == 8
    np.testing.assert_array_equal(fresh.optimizer_state()["v"][0],
                                  trained.optimizer_state()["v"][0])


# -- 3. which file names save_weights and load_weights take -----------------------------------

@pytest.mark.parametrize("name", ["w.h5", "w.hdf5", "x.keras", "weights", "w.weights.json"])
def test_save_weights_refuses_a_name_keras_and_tinynet_cannot_read(tmp_path, name):
    # Keras: save_weights("w.h5") and ("x.keras") raise ValueError "The filename must end in
    # `.weights.h5`"
    raises(ValueError, lambda: small_model().save_weights(tmp_path / name), "save_weights",
           ".weights.h5")
    assert os.listdir(tmp_path) == []


def test_save_weights_writes_keras_format_or_tinynets_own_by_name(tmp_path):
    model = trained_model()
    model.save_weights(tmp_path / "m.weights.h5")
    model.save_weights(tmp_path / "m.npz")
    assert (tmp_path / "m.weights.h5").read_bytes()[:4] == b"\x89HDF"
    assert zipfile.is_zipfile(tmp_path / "m.npz")
    for name in ("m.weights.h5", "m.npz"):
        other = small_model(seed=3)
        caught(lambda: other.load_weights(tmp_path / name))  # noqa: B023
        np.testing.assert_array_equal(other.predict(X, verbose=0), model.predict(X, verbose=0))


def test_load_weights_names_what_it_reads(tmp_path):
    raises(ValueError, lambda: small_model().load_weights(tmp_path / "w.h5"), "legacy .h5",
           "model.weights.h5")
    raises(ValueError, lambda: small_model().load_weights(tmp_path / "w.txt"),
           "not a tinynet weights file", ".weights.h5", ".keras", ".npz")


# -- 4. Keras's arguments of save, save_weights and load_weights ------------------------------

def test_overwrite_false_refuses_an_existing_file_and_leaves_it(tmp_path):
    model = trained_model()
    for name, save in (("m.keras", model.save), ("m.weights.h5", model.save_weights),
                       ("m.npz", model.save_weights)):
        path = tmp_path / name
        path.write_bytes(b"old")
        raises(FileExistsError, lambda: save(path, overwrite=False),  # noqa: B023
               name, "overwrite=False", "overwrite=True")
        assert path.read_bytes() == b"old"
        save(path, overwrite=True)
        assert path.read_bytes() != b"old"
    model.save(tmp_path / "new.keras", overwrite=False)  # no file yet: saved
    assert (tmp_path / "new.keras").exists()


def test_zipped_true_is_the_keras_file_and_zipped_false_is_refused(tmp_path):
    model = trained_model()
    model.save(tmp_path / "z.keras", zipped=True)
    assert zipfile.is_zipfile(tmp_path / "z.keras")
    raises(ValueError, lambda: model.save(tmp_path / "u.keras", zipped=False), "zipped=False")
    raises(TypeError, lambda: model.save(tmp_path / "u.keras", include_optimizer=False),
           "include_optimizer", "legacy .h5")
    raises(ValueError, lambda: model.save_weights(tmp_path / "w.weights.h5",
                                                  max_shard_size=1), "max_shard_size")
    assert not (tmp_path / "u.keras").exists()


def test_skip_mismatch_loads_what_fits_and_warns_about_the_rest(tmp_path):
    # Keras: a Dense(5) where the file has a Dense(4): ValueError by default; with
    # skip_mismatch=True a warning "A total of 2 objects could not be loaded" and no error
    model = trained_model()
    model.save_weights(tmp_path / "a.weights.h5")
    tinynet.set_seed(4)
    other = Sequential([layers.Input((8,)), layers.Dense(5, activation="relu"),
                        layers.Dense(1)])
    raises(ValueError, lambda: other.load_weights(tmp_path / "a.weights.h5"), "(8, 5)",
           "(8, 4)")
    before = other.get_weights()
    _, messages = caught(lambda: other.load_weights(tmp_path / "a.weights.h5",
                                                    skip_mismatch=True))
    assert len(messages) == 1 and "a total of 2 layers" in messages[0]
    for a, b in zip(other.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)  # both layers mismatch: both keep theirs
    same = small_model(seed=5)
    caught(lambda: same.load_weights(tmp_path / "a.weights.h5", skip_mismatch=True))
    np.testing.assert_array_equal(same.predict(X, verbose=0), model.predict(X, verbose=0))
    model.save_weights(tmp_path / "a.npz")
    raises(ValueError, lambda: same.load_weights(tmp_path / "a.npz", skip_mismatch=True),
           "skip_mismatch=True", ".npz")


# -- 5. load_weights of a .keras file -----------------------------------------------------------

def test_load_weights_reads_the_weights_of_a_keras_file(tmp_path):
    # Keras: load_weights("a.keras") into a fresh compiled model loads the weights and skips
    # the optimizer state: "it has 2 variables whereas the saved optimizer has 10 variables"
    model = trained_model()
    model.save(tmp_path / "a.keras")
    fresh = small_model(seed=6)
    _, messages = caught(lambda: fresh.load_weights(tmp_path / "a.keras"))
    np.testing.assert_array_equal(fresh.predict(X, verbose=0), model.predict(X, verbose=0))
    assert SKIPPED.format(2, 10) in messages[0]
    uncompiled = small_model(compile=False, seed=6)
    uncompiled.load_weights(tmp_path / "a.keras")
    np.testing.assert_array_equal(uncompiled.predict(X, verbose=0),
                                  model.predict(X, verbose=0))
    raises(FileNotFoundError, lambda: fresh.load_weights(tmp_path / "none.keras"),
           "load_weights", "no such file")


# -- 6. model_from_json compiles, as in Keras ---------------------------------------------------

def test_model_from_json_of_a_compiled_model_is_compiled_with_a_built_optimizer():
    # Keras: m = Sequential([Input((4,)), Dense(1)]), compile(SGD(0.1), "mse",
    # metrics=["mae"]); j = model_from_json(m.to_json()): compiled, optimizer built with 2
    # variables, and j.summary() ends "Total params: 7 (28.00 B)" ... "Optimizer params:
    # 2 (8.00 B)"; Sequential.from_config(m.get_config()) is not compiled
    model = Sequential([layers.Input((4,)), layers.Dense(1)])
    model.compile(optimizers.SGD(0.1), "mse", metrics=["mae"])
    again = model_from_json(model.to_json())
    assert again.compiled and isinstance(again.optimizer, optimizers.SGD)
    assert again.optimizer.learning_rate == pytest.approx(0.1)
    assert again.optimizer is not model.optimizer and again.metrics_names == ["loss", "mae"]
    lines = []
    again.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 7 (28.00 B)" in text and "Optimizer params: 2 (8.00 B)" in text
    again.fit(np.ones((2, 4)), np.ones((2, 1)), verbose=0)
    assert not Sequential.from_config(model.get_config()).compiled
    raises(TypeError, lambda: model_from_json(model.to_json(), custom_objects={"A": 1}),
           "custom_objects")


# -- 7. keras.saving's names --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["register_keras_serializable", "serialize_keras_object",
                                  "deserialize_keras_object", "get_custom_objects",
                                  "custom_object_scope", "CustomObjectScope"])
def test_keras_saving_names_tinynet_lacks_say_what_to_do(name):
    message = raises(AttributeError, lambda: getattr(saving, name), "tinynet.saving has no",
                     name)
    assert "get_config" in message or "save_weights" in message


def test_saving_save_weights_and_load_weights_are_kerass_functions(tmp_path):
    model = trained_model()
    saving.save_weights(model, tmp_path / "w.weights.h5")
    other = small_model(compile=False, seed=2)
    saving.load_weights(other, tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(other.predict(X, verbose=0), model.predict(X, verbose=0))
    raises(TypeError, lambda: saving.save_weights(tmp_path / "w.weights.h5", model),
           "first argument is the model")


# -- 8. a loss of your own warns when the model is saved ---------------------------------------

class SquaredError(losses.Loss):
    def call(self, y_true, y_pred):
        return np.mean((y_pred - y_true) ** 2, axis=-1)

    def sample_gradient(self, y_true, y_pred):
        return 2 * (y_pred - y_true) / y_pred.shape[-1]


def test_a_loss_of_your_own_warns_at_save_that_the_file_loads_uncompiled(tmp_path):
    model = small_model()
    model.compile("sgd", SquaredError())
    _, messages = caught(lambda: model.save(tmp_path / "own.keras"))
    assert len(messages) == 1
    assert "load uncompiled" in messages[0] and "SquaredError" in messages[0]
    _, messages = caught(model.to_json)
    assert "model_from_json will return the model uncompiled" in messages[0]
    assert "weights" not in messages[0]  # JSON holds no weights
    loaded, _ = caught(lambda: load_model(tmp_path / "own.keras"))
    assert not loaded.compiled
    _, messages = caught(lambda: trained_model().save(tmp_path / "fine.keras"))
    assert messages == []


# -- 9. summary() counts the optimizer once it is built ------------------------------------------
#
# Keras 3.15.1, Input(8) -> Dense(4) -> BatchNormalization -> Dense(1, sigmoid), compiled with
# each optimizer, summary() after fit (one epoch): "Optimizer params" counts iterations (an
# int32), the learning rate (a float32, none with a schedule) and every slot; before fit there
# is no such line.

KERAS_SUMMARY_AFTER_FIT = [
    (optimizers.Adam(0.01), "Total params: 157 (628.00 B)", "Optimizer params: 100 (400.00 B)"),
    (optimizers.SGD(0.1), "Total params: 59 (236.00 B)", "Optimizer params: 2 (8.00 B)"),
    (optimizers.SGD(0.1, momentum=0.9), "Total params: 108 (432.00 B)",
     "Optimizer params: 51 (204.00 B)"),
    (optimizers.Adam(optimizers.schedules.ExponentialDecay(0.01, 3, 0.5)),
     "Total params: 156 (624.00 B)", "Optimizer params: 99 (396.00 B)"),
    (optimizers.RMSprop(momentum=0.9, centered=True), "Total params: 206 (824.00 B)",
     "Optimizer params: 149 (596.00 B)"),
    (optimizers.Adagrad(), "Total params: 108 (432.00 B)", "Optimizer params: 51 (204.00 B)"),
    (optimizers.AdamW(amsgrad=True), "Total params: 206 (824.00 B)",
     "Optimizer params: 149 (596.00 B)"),
]


@pytest.mark.parametrize("optimizer, total, optimizer_line", KERAS_SUMMARY_AFTER_FIT)
def test_summary_counts_the_optimizer_after_training_as_keras(optimizer, total,
                                                               optimizer_line):
    model = Sequential([layers.Input((8,)), layers.Dense(4), layers.BatchNormalization(),
                        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer, "binary_crossentropy")
    lines = []
    model.summary(print_fn=lines.append)
    before = "\n".join(lines)
    assert "Total params: 57 (228.00 B)" in before and "Optimizer params" not in before
    model.fit(X, Y, epochs=1, verbose=0)
    lines = []
    model.summary(print_fn=lines.append)
    after = "\n".join(lines).splitlines()
    # Keras 3 indents the totals by one space
    assert " " + total in after and " " + optimizer_line in after
    assert after.index(" " + optimizer_line) == \
        after.index(" Non-trainable params: 8 (32.00 B)") + 1


ARTICLE_SUMMARY = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 64)             │         1,344 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ batch_normalization             │ (None, 64)             │           256 │
│ (BatchNormalization)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ activation (Activation)         │ (None, 64)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 32)             │         2,080 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ batch_normalization_1           │ (None, 32)             │           128 │
│ (BatchNormalization)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ activation_1 (Activation)       │ (None, 32)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_2 (Dense)                 │ (None, 1)              │            33 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 3,841 (15.00 KB)
 Trainable params: 3,649 (14.25 KB)
 Non-trainable params: 192 (768.00 B)
"""


def test_the_article_summary_before_training_is_printed_as_before(capsys, monkeypatch):
    """The anchor article prints summary() after compile, before fit: no optimizer line. The
    text is Keras 3.15.1's for the same model, in 80 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    model = Sequential([layers.Dense(64, input_shape=(20,)), layers.BatchNormalization(),
                        layers.Activation("relu"), layers.Dense(32),
                        layers.BatchNormalization(), layers.Activation("relu"),
                        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.Adam(), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.summary()
    assert capsys.readouterr().out == ARTICLE_SUMMARY


# -- 10. a failed write names the file asked for, not the temporary file ------------------------

def test_a_folder_that_takes_no_files_is_named_with_the_file_asked_for(tmp_path, monkeypatch):
    def no_files(**kwargs):
        raise FileNotFoundError(2, "No such file or directory",
                                os.path.join(kwargs["dir"], ".tinynet-abc.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", no_files)
    message = raises(FileNotFoundError, lambda: trained_model().save(tmp_path / "m.keras"),
                     "save", str(tmp_path / "m.keras"), "No such file or directory")
    assert ".tmp" not in message and ".tinynet-" not in message


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="no /proc (not Linux)")
def test_saving_into_proc_names_the_file_asked_for():
    message = raises(OSError, lambda: trained_model().save("/proc/m.keras"), "/proc/m.keras")
    assert ".tinynet-" not in message


def test_a_full_disk_keeps_the_errno_and_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    path.write_bytes(b"old")

    def full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as info:
        files.write_atomically(path, b"new", "save_weights")
    assert info.value.errno == 28 and str(path) in str(info.value)
    assert "No space left on device" in str(info.value)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["w.npz"]


def test_a_subclass_of_a_built_in_loss_is_not_saved_as_that_loss(tmp_path):
    # class MyMSE(MeanSquaredError) inherits the name 'mean_squared_error': written by that
    # name, it loaded compiled as a plain MeanSquaredError, its own call silently dropped
    from tinynet.losses import MeanSquaredError

    class DoubleSquaredError(MeanSquaredError):
        def call(self, y_true, y_pred):
            return 2 * super().call(y_true, y_pred)

    model = small_model()
    model.compile("sgd", DoubleSquaredError())
    _, messages = caught(lambda: model.save(tmp_path / "own.keras"))
    assert "DoubleSquaredError is a loss of your own" in messages[0]
    loaded, _ = caught(lambda: load_model(tmp_path / "own.keras"))
    assert not loaded.compiled
