"""The names Keras 3 code reaches for in keras.initializers, keras.regularizers,
keras.optimizers.schedules and keras.utils: the ones tinynet has behave as Keras's (configs
observed in Keras 3.15.1, torch backend), and the ones it lacks give an error that says what
to use instead, not Python's bare "module has no attribute"."""

import numpy as np
import pytest

import tinynet
from tinynet import initializers, regularizers, utils
from tinynet.optimizers import schedules

# keras.initializers.X().get_config() in Keras 3.15.1
KERAS_INITIALIZER_CONFIGS = {
    "Zeros": {}, "Ones": {}, "Constant": {"value": 2.0},
    "RandomNormal": {"seed": None, "mean": 0.0, "stddev": 0.05},
    "RandomUniform": {"seed": None, "minval": -0.05, "maxval": 0.05},
    "TruncatedNormal": {"seed": None, "mean": 0.0, "stddev": 0.05},
    **{name: {"seed": None, "input_axes": None, "output_axes": None}
       for name in ("GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal",
                    "LecunUniform")},
    "VarianceScaling": {"seed": None, "scale": 1.0, "mode": "fan_in",
                        "distribution": "truncated_normal", "input_axes": None,
                        "output_axes": None},
    "Orthogonal": {"seed": None, "gain": 1.0},
}


@pytest.mark.parametrize("name, config", KERAS_INITIALIZER_CONFIGS.items())
def test_initializer_get_config_is_keras_and_from_config_rebuilds_it(name, config):
    cls = getattr(initializers, name)
    made = cls(2.0) if name == "Constant" else cls()
    assert made.get_config() == config
    assert list(made.get_config()) == list(config)  # Keras's order
    again = cls.from_config(made.get_config())
    assert type(again) is cls and again.get_config() == config


def test_a_seed_survives_the_config_and_serialize_round_trip():
    made = initializers.get(initializers.serialize(initializers.HeNormal(seed=2)))
    assert isinstance(made, initializers.HeNormal) and made.seed == 2
    np.testing.assert_array_equal(made((3, 2)), initializers.HeNormal(seed=2)((3, 2)))
    assert initializers.serialize(initializers.Zeros()) == {
        "module": "keras.initializers", "class_name": "Zeros", "config": {},
        "registered_name": None}
    with pytest.raises(TypeError, match="input_axes is a Keras setting"):
        initializers.GlorotUniform.from_config({"seed": None, "input_axes": [0]})


def test_keras_lower_case_initializer_names_are_the_classes():
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.truncated_normal is initializers.TruncatedNormal
    assert initializers.OrthogonalInitializer is initializers.Orthogonal
    assert initializers.truncated_normal(stddev=0.02)((100,)).std() < 0.03


def test_regularizer_serialize_is_keras_and_deserialize_reads_it_back():
    config = regularizers.serialize(regularizers.L2(0.02))
    # keras.regularizers.serialize(keras.regularizers.L2(0.02)) in Keras 3.15.1
    assert config == {"module": "keras.regularizers", "class_name": "L2",
                      "config": {"l2": 0.02}, "registered_name": None}
    again = regularizers.deserialize(config)
    assert isinstance(again, regularizers.L2) and again.l2 == 0.02


def test_normalize_divides_by_the_norm_along_the_axis():
    # keras.utils.normalize in Keras 3.15.1 gives these for axis=-1 (also for order=1)
    np.testing.assert_allclose(utils.normalize(np.array([[3, 4], [0, 0]])),
                               [[0.6, 0.8], [0.0, 0.0]])
    assert utils.normalize(np.ones((2, 3), np.float32)).dtype == np.float32
    np.testing.assert_allclose(utils.normalize(np.array([[3.0, 4.0], [1.0, 2.0]]), order=1),
                               [[3 / 7, 4 / 7], [1 / 3, 2 / 3]])
    # axis=0: each column (Keras 3.15.1 divides the rows by the column norms here)
    np.testing.assert_allclose(utils.normalize(np.array([[3.0, 4.0], [1.0, 2.0]]), axis=0,
                                               order=1), [[0.75, 4 / 6], [0.25, 2 / 6]])
    with pytest.raises(ValueError, match="only 2 axes"):
        utils.normalize(np.ones((2, 2)), axis=2)


@pytest.mark.parametrize("module, name, words", [
    (initializers, "Identity", "np.eye"),
    (regularizers, "OrthogonalRegularizer", "L1 and L2"),
    (schedules, "WarmupCosine", "subclass LearningRateSchedule"),
    (utils, "pad_sequences", "no text"),
    (utils, "register_keras_serializable", "custom_objects="),
    (utils, "plot_model", "summary"),
])
def test_a_keras_name_tinynet_lacks_says_what_to_use_instead(module, name, words):
    with pytest.raises(AttributeError, match=rf"has no {name}: .*{words}.*It has: "):
        getattr(module, name)


def test_keras_names_resolve_through_the_top_level_module():
    assert tinynet.initializers.he_normal is initializers.HeNormal
    assert tinynet.utils.normalize is utils.normalize


def test_optimizers_take_keras_settings_spelled_out_at_their_off_values():
    from tinynet.optimizers import SGD, Adam

    adam = Adam(clipnorm=None, clipvalue=None, use_ema=False, ema_momentum=0.99,
                weight_decay=None)
    assert adam.get_config()["clipnorm"] is None
    with pytest.raises(TypeError, match=r"Adam\(use_ema=\.\.\.\) is a Keras argument"):
        Adam(use_ema=True)
    with pytest.raises(TypeError, match="use AdamW"):
        SGD(weight_decay=0.1)


def test_regularizer_classes_rebuild_from_their_config():
    for made in (regularizers.L1(0.2), regularizers.L2(0.3), regularizers.L1L2(0.1, 0.2)):
        again = type(made).from_config(made.get_config())
        assert type(again) is type(made) and again.get_config() == made.get_config()


def test_an_activation_that_works_on_arrays_only_is_explained_in_a_layer():
    from tinynet.layers import Activation, Dense

    for make in (lambda: Dense(3, activation="relu6"), lambda: Activation("mish")):
        with pytest.raises(ValueError, match="works on arrays only.*no derivative"):
            make()


def test_summary_takes_keras_layout_arguments_at_their_defaults():
    from tinynet.layers import Dense
    from tinynet.models import Sequential

    model = Sequential([Dense(2, input_shape=(3,))])
    lines = []
    model.summary(line_length=None, show_trainable=False, expand_nested=False,
                  print_fn=lines.append)
    assert "Total params: 8" in lines[0]
    with pytest.raises(TypeError, match=r"summary\(layer_range="):
        model.summary(layer_range=["dense", "dense"])


def test_summary_shows_the_trainable_column_as_keras_does(monkeypatch):
    # Keras 3.15.1: "Trainable" with N for a frozen layer, - for one without weights, Y; its
    # column is 5 characters wide in a 76-character table, so the header reads "Trai…"
    monkeypatch.setenv("COLUMNS", "80")
    from tinynet.layers import Dense, Dropout, Input
    from tinynet.models import Sequential

    model = Sequential([Input(shape=(4,)), Dense(3), Dropout(0.1), Dense(1)])
    model.layers[0].trainable = False
    lines = []
    model.summary(show_trainable=True, print_fn=lines.append)
    rows = lines[0].splitlines()
    assert rows[2].split()[-2:] == ["Trai…", "┃"]
    assert [row.split()[-2] for row in rows[4:9:2]] == ["N", "-", "Y"]


def test_keras_backend_and_config_queries_tutorials_call():
    # keras.backend.clear_session() opens many tutorials; keras.config.* answers, for tinynet
    tinynet.backend.clear_session()
    tinynet.utils.clear_session()
    assert tinynet.backend.floatx() == tinynet.config.floatx() == "float32"
    assert tinynet.config.epsilon() == 1e-7 == tinynet.backend.epsilon()
    assert tinynet.config.image_data_format() == "channels_last"
    assert tinynet.backend.backend() == "numpy"


@pytest.mark.parametrize("statement, words", [
    # the Keras guides start with `from keras import ops`; Python would turn the advice of
    # the module's __getattr__ into a bare "cannot import name"
    ("from tinynet import ops", "write NumPy"),
    ("from tinynet import Model", "Sequential models only"),
    ("from tinynet.models import Model", "Sequential models only"),
    ("from tinynet.layers import ELU", "use Activation.'elu'."),
    ("from tinynet.losses import CosineSimilarity", "does not have"),
    ("from tinynet.optimizers import Nadam", "tinynet.optimizers has no Nadam"),
])
def test_from_import_of_a_missing_keras_name_keeps_the_advice(statement, words):
    with pytest.raises(ImportError, match=words):
        exec(statement, {})


def test_a_missing_name_is_still_an_attribute_error_for_hasattr_and_getattr():
    import tinynet.models

    assert not hasattr(tinynet, "ops") and not hasattr(tinynet.models, "Model")
    assert getattr(tinynet.layers, "ELU", None) is None
    with pytest.raises(AttributeError, match="write NumPy"):
        tinynet.ops  # noqa: B018
    from tinynet.models import Sequential  # what tinynet.models has still imports

    assert Sequential is tinynet.Sequential


def test_from_import_keeps_the_advice_in_a_module_with_many_names():
    # past 255 names the import's argument needs two bytes: Python 3.10 then reports the
    # EXTENDED_ARG prefix as the instruction being run (a notebook exported to one script)
    source = "".join(f"v{i} = {i}\n" for i in range(300)) + "from tinynet import ops\n"
    with pytest.raises(ImportError, match="write NumPy"):
        exec(compile(source, "long_module.py", "exec"), {})
