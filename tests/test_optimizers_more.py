"""AMSGrad, get_config/from_config, a learning rate of 0, and the Keras optimizers tinynet
lacks, against Keras 3 (tests/data/keras_small_fixes_reference.npz, made by
tests/data/make_keras_small_fixes_reference.py)."""

import copy
import json
import math
import os
import pickle

import numpy as np
import pytest
from helpers import fixture_steps

from tinynet import optimizers
from tinynet.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop, schedules

REF = np.load(os.path.join(os.path.dirname(__file__), "data",
                           "keras_small_fixes_reference.npz"))
KERAS_CONFIGS = json.loads(str(REF["optimizer_configs"]))

# -- AMSGrad ---------------------------------------------------------------------------------

AMSGRAD_CASES = {
    "adam_amsgrad": lambda: Adam(amsgrad=True),
    "adam_amsgrad_0.01": lambda: Adam(0.01, beta_2=0.9, amsgrad=True),
    "adam_0.01": lambda: Adam(0.01, beta_2=0.9),
    "adamw_amsgrad": lambda: AdamW(0.01, weight_decay=0.1, beta_2=0.9, amsgrad=True),
}


@pytest.mark.parametrize("flat", [False, True])
@pytest.mark.parametrize("case", AMSGRAD_CASES)
def test_amsgrad_steps_equal_keras_in_float32(case, flat):
    w, b = fixture_steps(AMSGRAD_CASES[case](), REF, 6, flat)
    assert w.dtype == np.float32
    np.testing.assert_allclose(w, REF[f"opt_{case}_w"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, REF[f"opt_{case}_b"], rtol=1e-5, atol=1e-6)


def test_the_fixture_tells_amsgrad_from_adam():
    """The shrinking gradients make v fall below its maximum: AMSGrad's weights end 1e-3
    away from Adam's, a thousand times the tolerance above."""
    difference = np.abs(REF["opt_adam_amsgrad_0.01_w"] - REF["opt_adam_0.01_w"]).max()
    assert difference > 1e-3


def test_amsgrad_divides_by_the_largest_v_by_hand():
    """beta_2 = 0.5, gradients 1 then 0: v = 0.5 then 0.25, but v_hat stays 0.5."""
    param = np.zeros(1)
    adam = Adam(learning_rate=0.1, beta_1=0.5, beta_2=0.5, epsilon=0.0, amsgrad=True)
    adam.apply(param, np.ones(1))
    after_first = param.copy()
    adam.apply(param, np.zeros(1))
    m, v_hat = 0.25, 0.5  # m = 0.5 * 0.5; v_hat = max(0.5, 0.25)
    alpha = 0.1 * math.sqrt(1 - 0.5 ** 2) / (1 - 0.5 ** 2)
    np.testing.assert_allclose(param, after_first - alpha * m / math.sqrt(v_hat), rtol=1e-12)
    np.testing.assert_allclose(adam.slots[0]["v"], [0.25])
    np.testing.assert_allclose(adam.slots[0]["v_hat"], [0.5])


def test_only_amsgrad_keeps_a_v_hat_slot():
    assert set(Adam().create_slots(np.zeros(2))) == {"m", "v"}
    assert set(Adam(amsgrad=True).create_slots(np.zeros(2))) == {"m", "v", "v_hat"}
    assert set(AdamW(amsgrad=True).create_slots(np.zeros(2))) == {"m", "v", "v_hat"}


def test_keras_stores_velocity_hat_after_every_momentum_and_velocity():
    """Keras's variable order for AMSGrad, which a .keras file of it follows: m and v per
    weight in turn, then v_hat of every weight (saving.py must write it so)."""
    assert list(REF["opt_amsgrad_variable_paths"]) == [
        "iteration", "learning_rate", "kernel_momentum", "kernel_velocity", "bias_momentum",
        "bias_velocity", "kernel_velocity_hat", "bias_velocity_hat"]


def test_amsgrad_must_be_a_bool():
    with pytest.raises(TypeError, match=r"AdamW\(amsgrad=...\)"):
        AdamW(amsgrad="yes")


# -- get_config and from_config --------------------------------------------------------------

TINYNET_CASES = {
    "Adam": lambda: Adam(),
    "SGD": lambda: SGD(),
    "RMSprop": lambda: RMSprop(),
    "AdamW": lambda: AdamW(),
    "Adagrad": lambda: Adagrad(),
    "Adam_settings": lambda: Adam(learning_rate=0.01, beta_1=0.8, amsgrad=True,
                                  name="my_adam"),
    "SGD_schedule": lambda: SGD(learning_rate=schedules.ExponentialDecay(
        0.1, decay_steps=100, decay_rate=0.5), momentum=0.9, nesterov=True,
        name="sgd_schedule"),
    "SGD_zero": lambda: SGD(learning_rate=0.0, name="frozen"),
}


@pytest.mark.parametrize("case", TINYNET_CASES)
def test_get_config_is_keras_get_config(case):
    """Every key, value and the order, Keras's default names ('rm_sprop', 'adam_w') and its
    float32 learning rate (0.0010000000474974513) included."""
    config = TINYNET_CASES[case]().get_config()
    assert list(config.items()) == list(KERAS_CONFIGS[case].items())


@pytest.mark.parametrize("case", TINYNET_CASES)
def test_from_config_of_keras_config_rebuilds_the_optimizer(case):
    config = KERAS_CONFIGS[case]
    optimizer = getattr(optimizers, case.split("_")[0]).from_config(config)
    assert optimizer.get_config() == config
    again = type(optimizer).from_config(optimizer.get_config())
    assert again.get_config() == config


def test_from_config_takes_the_schedule_back():
    optimizer = SGD.from_config(KERAS_CONFIGS["SGD_schedule"])
    assert isinstance(optimizer.schedule, schedules.ExponentialDecay)
    assert optimizer.learning_rate == pytest.approx(0.1, rel=1e-7)  # read in float32
    optimizer.iterations = 100
    assert optimizer.learning_rate == pytest.approx(0.05)


def test_from_config_refuses_a_keras_setting_tinynet_lacks_when_it_is_on():
    config = {**KERAS_CONFIGS["Adam"], "use_ema": True}
    with pytest.raises(TypeError, match="use_ema.*moving average"):
        Adam.from_config(config)
    # gradient clipping, which tinynet has (tests/test_gradient_clipping.py), is read
    assert Adam.from_config({**KERAS_CONFIGS["Adam"], "clipnorm": 1.0}).clipnorm == 1.0


def test_learning_rate_in_the_config_follows_floatx():
    import tinynet

    tinynet.set_floatx("float64")
    try:
        assert Adam().get_config()["learning_rate"] == 0.001
    finally:
        tinynet.set_floatx("float32")
    assert Adam().get_config()["learning_rate"] == float(np.float32(0.001))


# -- a learning rate of 0 --------------------------------------------------------------------

@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, RMSprop, Adagrad])
def test_a_learning_rate_of_zero_is_accepted_and_changes_nothing(cls):
    param = np.array([1.0, -2.0], dtype=np.float32)
    optimizer = cls(learning_rate=0.0)
    optimizer.apply(param, np.array([0.5, 0.5], dtype=np.float32))
    np.testing.assert_array_equal(param, [1.0, -2.0])
    optimizer.learning_rate = 0.0  # as a callback may set it
    assert optimizer.learning_rate == 0.0


@pytest.mark.parametrize("rate, words", [
    (-0.1, r"must be in \[0, inf\], got -0.1"),
    (float("nan"), "must be a finite number, got nan"),
    (float("inf"), "must be a finite number, got inf"),
])
def test_negative_nan_and_infinite_learning_rates_are_refused(rate, words):
    with pytest.raises(ValueError, match=r"SGD\(learning_rate=...\) " + words):
        SGD(learning_rate=rate)


# -- Keras's other optimizers ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["nadam", "adamax", "adadelta", "ftrl", "lion", "Nadam",
                                  "adafactor", "muon", "schedulefreeadamw"])
def test_a_keras_optimizer_tinynet_lacks_is_named_and_tinynet_lists_its_own(name):
    with pytest.raises(ValueError, match=f"'{name}' is a Keras optimizer that tinynet does "
                                         f"not have; tinynet has Adam, SGD, AdamW, RMSprop, "
                                         f"Adagrad"):
        optimizers.get(name)


def test_a_keras_optimizer_class_tinynet_lacks_gets_an_attribute_error_that_says_so():
    with pytest.raises(AttributeError, match="no Nadam: a Keras optimizer tinynet does not "
                                             "have. It has: .*Adam"):
        optimizers.Nadam  # noqa: B018


def test_a_typo_still_gets_the_closest_name():
    with pytest.raises(ValueError, match="Did you mean 'rmsprop'"):
        optimizers.get("rmsprp")


# -- Keras itself, where it is installed -----------------------------------------------------

def test_live_keras_gives_the_fixture_numbers():
    """Where Keras and torch are installed: the fixture script's AMSGrad steps, loss numbers
    and Constant values, run again, equal the fixture."""
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras", minversion="3.0")
    import importlib.util

    path = os.path.join(os.path.dirname(__file__), "data",
                        "make_keras_small_fixes_reference.py")
    spec = importlib.util.spec_from_file_location("make_keras_small_fixes_reference", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    live = {**tool.amsgrad_cases(), **tool.loss_cases(tool.inputs()), **tool.constant_cases()}
    for key, value in live.items():
        if value.dtype.kind in "fi":
            np.testing.assert_allclose(value, REF[key], rtol=1e-6, atol=1e-7, err_msg=key)
        else:
            assert str(value) == str(REF[key]), key


def test_apply_gradients_takes_keras_pairs_and_updates_the_weights_in_place():
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(3, 2)), rng.normal(size=2)]
    grads = [rng.normal(size=(3, 2)), rng.normal(size=2)]
    expected = [w.copy() for w in weights]
    Adam(0.1).apply(expected, grads)
    optimizer = Adam(0.1)
    assert optimizer.apply_gradients(zip(grads, weights, strict=True)) is None
    for got, want in zip(weights, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    assert optimizer.iterations == 1


def test_apply_gradients_trains_a_model_through_its_trainable_weights():
    from tinynet.layers import Dense
    from tinynet.models import Sequential

    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.trainable_weights]
    grads = [np.ones_like(w) for w in model.trainable_weights]
    SGD(0.5).apply_gradients(zip(grads, model.trainable_weights, strict=True))
    for got, was in zip(model.get_weights(), before, strict=True):
        np.testing.assert_allclose(got, was - 0.5)


@pytest.mark.parametrize("pairs, words", [
    ([np.ones(2)], "pairs"),
    ([(np.ones(2), [1.0, 2.0])], r"\(ndarray, list\)"),
])
def test_apply_gradients_refuses_what_is_not_gradient_weight_pairs(pairs, words):
    with pytest.raises(TypeError, match=words):
        SGD().apply_gradients(pairs)


def test_the_models_own_optimizer_takes_apply_gradients_between_fits():
    # Keras's custom-loop idiom with the compiled optimizer: the weights are views of one
    # vector, so the optimizer updates that vector and keeps the state fit uses
    from tinynet.layers import Dense
    from tinynet.models import Sequential

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 4)), rng.normal(size=(20, 1))
    models = []
    for _ in range(2):
        tinynet_seed(0)
        model = Sequential([Dense(3, input_shape=(4,)), Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, verbose=0, shuffle=False)
        models.append(model)
    grads = [np.full_like(w, 0.5) for w in models[0].trainable_weights]
    models[0].optimizer.apply_gradients(zip(grads, models[0].trainable_weights, strict=True))
    models[1].optimizer.apply(models[1].parameters, np.full_like(models[1].parameters, 0.5))
    for model in models:
        assert model.optimizer.iterations == 2
        model.fit(x, y, verbose=0, shuffle=False)
    for a, b in zip(models[0].get_weights(), models[1].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def tinynet_seed(seed):
    import tinynet

    tinynet.set_seed(seed)


def test_apply_with_keras_argument_order_is_refused_not_applied_to_the_gradients():
    # Keras 3's optimizer.apply(grads, trainable_variables): in tinynet's apply(params, grads)
    # the gradients would be updated, silently, and the weights left alone
    from tinynet.layers import Dense
    from tinynet.models import Sequential

    model = Sequential([Dense(3, input_shape=(4,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    grads = [np.ones_like(w) for w in model.trainable_weights]
    with pytest.raises(TypeError, match="takes the weights first.*apply_gradients"):
        SGD().apply(grads, model.trainable_weights)
    assert all((g == 1).all() for g in grads)
    SGD(0.5).apply(model.trainable_weights, grads)  # tinynet's order works


def test_learning_rate_answers_the_keras_variable_methods_tutorials_call():
    # model.optimizer.learning_rate.assign(1e-5) (fine-tuning guides) and .numpy() are Keras
    # variable methods; tinynet's rate is a float that has them too
    optimizer = Adam(learning_rate=0.001)
    rate = optimizer.learning_rate
    # the rate as Keras's float32 variable holds it: float(keras_adam.learning_rate) is
    # 0.0010000000474974513 in Keras 3.15
    assert rate == 0.0010000000474974513 and isinstance(rate, float)
    # compared in float32, as Keras compares its variable (True, False in Keras 3.15)
    assert rate == 0.001 and not rate > 0.001 and rate >= 0.001 and rate < 0.002
    assert SGD(learning_rate=0.1).learning_rate == 0.1
    assert rate < 1e300  # beyond float32's range: compared as inf, without a warning
    with pytest.raises(TypeError, match="unhashable"):
        hash(rate)
    assert rate * 2 == pytest.approx(0.002)
    assert rate.numpy().dtype == np.float32 and rate.numpy() == np.float32(0.001)
    assert rate.value == rate and type(rate.value) is float
    assert rate.assign(1e-5) == float(np.float32(1e-5))  # the new rate, as Keras's assign
    assert optimizer.current_learning_rate() == 1e-5  # the update uses the rate as given
    assert type(optimizer._learning_rate) is float  # the optimizer keeps a plain float
    with pytest.raises(ValueError, match="learning_rate"):
        optimizer.learning_rate.assign(-1.0)
    scheduled = Adam(schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5))
    assert scheduled.learning_rate == pytest.approx(0.1)
    with pytest.raises(TypeError, match="schedule"):
        scheduled.learning_rate.assign(0.01)
    # a rate read from one optimizer may start another
    assert Adam(learning_rate=optimizer.learning_rate).get_config()["learning_rate"] == \
        pytest.approx(1e-5)
    assert json.loads(json.dumps({"lr": rate})) == {"lr": rate}
    assert copy.deepcopy(rate) == rate and pickle.loads(pickle.dumps(rate)) == rate
    assert len(pickle.dumps(rate)) < 100  # the number, without its optimizer's state
