"""tinynet.activations, Keras 3's keras.activations: values, arguments, dtypes, names, errors.

The values are checked against formulas written here independently, entry by entry in
float64 with Python's math module. They are Keras's: on these inputs Keras 3.15.1 (torch
backend) gave the same numbers to 2e-15 in float64 and to 6e-7 in float32 (one exception
noted at GELU), and test_every_case_equals_keras_live checks that again when the Keras venv
is at /tmp/kvenv.
"""

import inspect
import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from helpers import KERAS_VENV_PYTHON, raises, run_in_keras_venv

import tinynet
from tinynet import activations
from tinynet.layers import Activation
from tinynet.layers.activation import ACTIVATIONS

X = [-10.0, -5.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 5.0, 10.0]  # kinks at 0, +-1, +-3
M = np.random.default_rng(0).normal(0, 3, size=(2, 3, 4)).round(3)  # for softmax's axes


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def softplus(x):
    return math.log1p(math.exp(x))


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    # Keras 3.15.1's code tests x > threshold (keras.io's formula says threshold <= x): at x
    # equal to the threshold it gives 0, e.g. relu([5.0], threshold=5.0) -> [0.0]
    if x > threshold:
        return x if max_value is None else min(max(x, 0.0), max_value)
    return negative_slope * (x - threshold)


def gelu(x, approximate=False):
    if approximate:
        return 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + math.erf(x / math.sqrt(2)))


# SELU's constants as Klambauer et al. (2017) and torch.nn.SELU's documentation give them
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805

FORMULAS = {
    "relu": relu,
    "leaky_relu": lambda x, negative_slope=0.2: x if x >= 0 else negative_slope * x,
    "sigmoid": sigmoid,
    "tanh": math.tanh,
    "linear": lambda x: x,
    "selu": lambda x: SELU_SCALE * (x if x > 0 else SELU_ALPHA * math.expm1(x)),
    "softplus": softplus,
    "silu": lambda x: x * sigmoid(x),
    "swish": lambda x: x * sigmoid(x),
    "hard_sigmoid": lambda x: min(max(x / 6 + 0.5, 0.0), 1.0),
    "relu6": lambda x: min(max(x, 0.0), 6.0),
    "exponential": math.exp,
    "softsign": lambda x: x / (abs(x) + 1),
    "log_sigmoid": lambda x: -softplus(-x),
    "mish": lambda x: x * math.tanh(softplus(x)),
    "hard_silu": lambda x: 0.0 if x <= -3 else x if x >= 3 else x * (x + 3) / 6,
    "hard_swish": lambda x: 0.0 if x <= -3 else x if x >= 3 else x * (x + 3) / 6,
    "hard_tanh": lambda x: min(max(x, -1.0), 1.0),
    "elu": lambda x, alpha=1.0: x if x > 0 else alpha * math.expm1(x),
    "gelu": gelu,
}

CASES = [
    ("relu", {}), ("relu", {"negative_slope": 0.5}), ("relu", {"max_value": 5.0}),
    ("relu", {"threshold": 5.0}), ("relu", {"threshold": -1.0}),
    ("relu", {"threshold": 1.0, "negative_slope": 0.5}),
    ("relu", {"threshold": 1.0, "negative_slope": 0.5, "max_value": 4.0}),
    ("relu", {"max_value": 6}), ("relu", {"negative_slope": 0.1, "max_value": 3.0}),
    ("relu", {"threshold": -1.0, "max_value": 2.0}),
    ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.01}),
    ("elu", {}), ("elu", {"alpha": 2.0}), ("elu", {"alpha": 0.5}),
    ("gelu", {}), ("gelu", {"approximate": True}),
    *[(name, {}) for name in ["sigmoid", "tanh", "linear", "selu", "softplus", "silu", "swish",
                              "hard_sigmoid", "relu6", "exponential", "softsign",
                              "log_sigmoid", "mish", "hard_silu", "hard_swish", "hard_tanh"]],
]
SOFTMAX_CASES = [
    ("softmax", {}), ("softmax", {"axis": 0}), ("softmax", {"axis": 1}),
    ("softmax", {"axis": (1, 2)}), ("softmax", {"axis": None}),
    ("log_softmax", {}), ("log_softmax", {"axis": 0}), ("log_softmax", {"axis": (0, 2)}),
]


def case_id(case):
    name, kwargs = case
    return name + "".join(f"-{key}={value}" for key, value in kwargs.items())


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_values_equal_the_formula(case):
    name, kwargs = case
    expected = [FORMULAS[name](x, **kwargs) for x in X]
    y64 = getattr(activations, name)(np.array(X), **kwargs)
    y32 = getattr(activations, name)(np.array(X, np.float32), **kwargs)
    assert y64.dtype == np.float64 and y32.dtype == np.float32
    np.testing.assert_allclose(y64, expected, rtol=1e-12, atol=1e-15)
    # Keras's float32 GELU (torch's erf) is off by up to 5e-7 here (-0.0040502 at x = -3,
    # against -0.0040497 exactly); tinynet's is within float32's rounding of the exact value
    np.testing.assert_allclose(y32, expected, rtol=1e-6, atol=1e-7)


def softmax_over(x, axis):
    axes = tuple(range(x.ndim)) if axis is None else axis
    e = np.exp(x)  # the inputs are small: no shift needed
    return e / e.sum(axis=axes, keepdims=True)


@pytest.mark.parametrize("case", SOFTMAX_CASES, ids=case_id)
def test_softmax_and_log_softmax_along_each_axis(case):
    name, kwargs = case
    expected = softmax_over(M, kwargs.get("axis", -1))
    if name == "log_softmax":
        expected = np.log(expected)
    for dtype, tolerance in [(np.float64, 1e-12), (np.float32, 1e-6)]:
        y = getattr(activations, name)(M.astype(dtype), **kwargs)
        assert y.dtype == dtype and y.shape == M.shape
        np.testing.assert_allclose(y, expected, rtol=tolerance, atol=tolerance)


def test_keras_docstring_examples():
    # keras.activations.relu's examples in Keras 3.15.1's source, the same numbers in Keras
    x = [-10, -5, 0.0, 5, 10]
    assert activations.relu(x).tolist() == [0, 0, 0, 5, 10]
    assert activations.relu(x, negative_slope=0.5).tolist() == [-5, -2.5, 0, 5, 10]
    assert activations.relu(x, max_value=5.0).tolist() == [0, 0, 0, 5, 5]
    assert activations.relu(x, threshold=5.0).tolist() == [0, 0, 0, 0, 10]
    # keras.ops.softmax's example
    np.testing.assert_allclose(activations.softmax(np.array([-1.0, 0.0, 1.0])),
                               [0.09003057, 0.24472847, 0.66524096], rtol=1e-7)


def test_signatures_and_defaults_are_keras_3s():
    # Keras 3.15.1's source (keras/src/activations/activations.py), and R's keras3 reference
    # pages (activation_relu, activation_leaky_relu, activation_elu, activation_gelu)
    expected = {
        "relu": "(x, negative_slope=0.0, max_value=None, threshold=0.0)",
        "leaky_relu": "(x, negative_slope=0.2)", "elu": "(x, alpha=1.0)",
        "gelu": "(x, approximate=False)", "softmax": "(x, axis=-1)",
        "log_softmax": "(x, axis=-1)",
    }
    for name in activations.FUNCTIONS:
        signature = str(inspect.signature(getattr(activations, name)))
        assert signature == expected.get(name, "(x)"), name


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_each_layer_activation_gives_the_same_numbers(name):
    """One formula in one place: the function at Keras's defaults is the layers' own."""
    x = np.linspace(-4, 4, 24).reshape(2, 3, 4)
    np.testing.assert_array_equal(getattr(activations, name)(x),
                                  Activation(name, dtype="float64").forward(x))


def test_inputs_become_float_arrays_of_the_same_shape():
    assert activations.relu([-1, 2]).dtype == np.float32  # Keras: int32 here, float32 below
    assert activations.sigmoid([-1, 2]).dtype == np.float32
    assert activations.tanh(np.array([1, 2], np.int64)).dtype == np.float32
    np.testing.assert_allclose(activations.sigmoid(np.array([True, False])), [sigmoid(1), 0.5])
    assert activations.relu(np.float64(-2.0)).dtype == np.float64
    for name in activations.FUNCTIONS:
        y = getattr(activations, name)(0.5)
        # an array that answers .numpy() too (tinynet.tensors), as Keras's tensors do
        assert isinstance(y, np.ndarray) and type(y.numpy()) is np.ndarray, name
        assert y.shape == () and y.dtype == np.float32, name
        images = np.full((2, 3, 3, 4), 0.5, np.float16)
        assert getattr(activations, name)(images).dtype == np.float16, name
    np.testing.assert_allclose(activations.gelu(1.0), gelu(1.0), rtol=1e-7)  # 0-d: fine
    assert activations.softmax(3.0) == 1.0  # as Keras: a single value's softmax is 1
    assert activations.relu(np.zeros((0, 3))).shape == (0, 3)
    assert activations.softmax(np.zeros((0, 3))).shape == (0, 3)


def test_lists_follow_floatx():
    tinynet.set_floatx("float64")
    try:
        assert activations.relu([1.0, -1.0]).dtype == np.float64
    finally:
        tinynet.set_floatx("float32")


def test_the_input_is_not_changed():
    x = np.array(X)
    for name in activations.FUNCTIONS:
        getattr(activations, name)(x)
    assert x.tolist() == X


def test_large_inputs_neither_overflow_nor_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = np.array([-1000.0, 1000.0])
        assert activations.sigmoid(x).tolist() == [0.0, 1.0]
        assert activations.softplus(x).tolist() == [0.0, 1000.0]
        assert activations.log_sigmoid(x).tolist() == [-1000.0, 0.0]
        assert activations.softmax(x).tolist() == [0.0, 1.0]
        assert activations.log_softmax(x).tolist() == [-2000.0, 0.0]
        assert activations.mish(x).tolist() == [0.0, 1000.0]


def test_nan_passes_through_as_in_keras():
    assert np.isnan(activations.relu([np.nan, 1.0])[0])


def test_softmax_warns_about_rows_of_one_value_as_keras_does():
    with pytest.warns(UserWarning, match="has size 1"):
        assert activations.softmax([[1.0], [2.0]]).tolist() == [[1.0], [1.0]]


# -- names: get, serialize, deserialize ------------------------------------------------------

@pytest.mark.parametrize("name", sorted(activations.FUNCTIONS))
def test_get_serialize_and_deserialize_round_trip(name):
    function = activations.get(name)
    assert function is getattr(activations, name)
    saved = activations.serialize(function)
    assert activations.deserialize(saved) is function
    assert activations.get(saved) is function
    keras_form = {"module": "keras.activations", "class_name": "function", "config": saved,
                  "registered_name": saved}
    assert activations.deserialize(keras_form) is function
    assert activations.get(keras_form) is function


def test_names_as_keras_gives_them():
    # Keras 3.15.1: serialize(swish) is 'silu', get(None) is linear, get(f) is f
    assert activations.swish is activations.silu
    assert activations.serialize(activations.swish) == "silu"
    assert activations.serialize(activations.hard_swish) == "hard_silu"
    assert activations.get(None) is activations.linear
    assert activations.get(np.tanh) is np.tanh
    assert activations.get("ReLU") is activations.relu  # as Activation('ReLU') takes it
    assert activations.deserialize(None) is None

    def mine(x):
        return x

    assert activations.deserialize("mine", custom_objects={"mine": mine}) is mine


def test_tinynet_activations_is_a_keras_like_attribute():
    assert "activations" in tinynet.__all__
    assert tinynet.activations is activations
    assert set(activations.__all__) == {*activations.FUNCTIONS, "get", "serialize",
                                        "deserialize"}
    code = "import sys, tinynet; tinynet.activations.relu(1.0); print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


# -- errors ----------------------------------------------------------------------------------

def test_unknown_and_keras_only_names():
    raises(ValueError, lambda: activations.get("rleu"), "'rleu'", "Did you mean 'relu'",
           "softmax")
    raises(ValueError, lambda: activations.deserialize("sigmod"), "Did you mean 'sigmoid'")
    raises(ValueError, lambda: activations.get("celu"), "tinynet has no activation 'celu'",
           "alpha * (exp(x / alpha) - 1)", "NumPy")
    raises(ValueError, lambda: activations.deserialize("tanh_shrink"), "x - tanh(x)")
    raises(AttributeError, lambda: activations.squareplus, "tinynet.activations has no "
           "squareplus", "(x + sqrt(x^2 + b)) / 2", "It has:", "relu")
    raises(AttributeError, lambda: activations.nonsense, "has no nonsense", "It has:")
    for name in activations.KERAS_ONLY:
        assert not hasattr(activations, name)


def test_wrong_kinds_of_identifiers():
    raises(TypeError, lambda: activations.get(3), "activations.get()", "a name like 'relu'",
           "got 3 (int)")
    raises(ValueError, lambda: activations.get({"class_name": "ReLU"}), "as Keras saves it")
    raises(TypeError, lambda: activations.deserialize(3), "a name like 'relu'")
    raises(TypeError, lambda: activations.deserialize("relu", custom_objects=[]), "dict")
    raises(TypeError, lambda: activations.serialize("relu"), "a name already",
           "activations.get('relu')")
    raises(ValueError, lambda: activations.serialize(np.tanh), "tanh is not one of",
           "tinynet can save")
    raises(ValueError, lambda: activations.serialize(lambda x: x), "<lambda> is not one of")


def test_bad_arguments():
    x = [1.0, -1.0]
    raises(TypeError, lambda: activations.relu(x, alpha=0.1), "relu() has no argument "
           "'alpha'", "renamed", "negative_slope=0.1")
    raises(TypeError, lambda: activations.leaky_relu(x, alpha=0.1), "negative_slope")
    raises(TypeError, lambda: activations.relu(x, negtive_slope=0.1), "relu()",
           "Did you mean 'negative_slope'")
    raises(TypeError, lambda: activations.softmax(x, dim=0), "softmax()", "'dim'")
    raises(TypeError, lambda: activations.relu(), "relu(x, negative_slope=0.0",
           "missing a required argument: 'x'")
    raises(TypeError, lambda: activations.relu(x, negative_slope="0.1"),
           "relu(negative_slope=...) must be a number")
    raises(ValueError, lambda: activations.relu(x, max_value=-1), "relu(max_value=...)",
           "[0, inf]")
    raises(TypeError, lambda: activations.elu(x, alpha=None), "elu(alpha=...)")
    raises(TypeError, lambda: activations.gelu(x, approximate="yes"),
           "gelu(approximate=...) must be True or False")
    raises(TypeError, lambda: activations.softmax([[1.0, 2.0]], axis=1.0), "softmax()",
           "axis must be an integer")
    raises(ValueError, lambda: activations.softmax([[1.0, 2.0]], axis=2), "axis 2 does not "
           "exist for x of shape (1, 2)", "numbered 0 to 1")
    raises(ValueError, lambda: activations.log_softmax([[1.0, 2.0]], axis=(1, -1)), "twice")


def test_bad_inputs():
    raises(TypeError, lambda: activations.relu("abc"), "relu()", "real numbers", "str")
    raises(TypeError, lambda: activations.sigmoid(None), "sigmoid()", "real numbers")
    raises(TypeError, lambda: activations.tanh([[1.0], [2.0, 3.0]]), "tanh()", "rectangular")
    raises(TypeError, lambda: activations.elu(np.array([1j])), "elu()", "complex")


# -- Keras itself ----------------------------------------------------------------------------

KERAS_CHECK = """
import inspect, json, sys
import numpy as np
import keras
from keras import activations
spec = json.load(open(sys.argv[1]))
out = {}
for dtype in ("float32", "float64"):
    for i, (name, kwargs, x) in enumerate(spec["cases"]):
        if isinstance(kwargs.get("axis"), list):
            kwargs["axis"] = tuple(kwargs["axis"])
        y = getattr(activations, name)(np.array(x, dtype), **kwargs)
        out[f"{dtype}_{i}"] = keras.ops.convert_to_numpy(y)
np.savez(sys.argv[2], **out)
signatures = {name: str(inspect.signature(getattr(activations, name)))
              for name in spec["names"]}
serialized = {name: activations.serialize(activations.get(name)) for name in spec["names"]}
json.dump({"signatures": signatures, "serialized": serialized}, open(sys.argv[3], "w"))
"""


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_every_case_equals_keras_live(tmp_path):
    cases = [(name, kwargs, X) for name, kwargs in CASES] + \
        [(name, kwargs, M.tolist()) for name, kwargs in SOFTMAX_CASES]
    spec, arrays, names = tmp_path / "spec.json", tmp_path / "keras.npz", tmp_path / "n.json"
    spec.write_text(json.dumps({"cases": cases, "names": sorted(activations.FUNCTIONS)}))
    run_in_keras_venv(KERAS_CHECK, spec, arrays, names)
    keras = np.load(arrays)
    for dtype, tolerance in [("float64", 1e-13), ("float32", 1e-6)]:
        for i, (name, kwargs, x) in enumerate(cases):
            y = getattr(activations, name)(np.array(x, dtype), **kwargs)
            assert y.dtype == keras[f"{dtype}_{i}"].dtype, (name, kwargs)
            np.testing.assert_allclose(y, keras[f"{dtype}_{i}"], rtol=tolerance,
                                       atol=tolerance, err_msg=f"{name} {kwargs} {dtype}")
    found = json.loads(names.read_text())
    for name in activations.FUNCTIONS:
        assert str(inspect.signature(getattr(activations, name))) == \
            found["signatures"][name], name
        assert activations.serialize(activations.get(name)) == found["serialized"][name]


def test_a_layer_takes_a_function_of_tinynet_activations_as_its_activation():
    # Keras code passes the function: Dense(64, activation=keras.activations.relu)
    from tinynet import activations
    from tinynet.layers import Activation, Dense

    assert Dense(4, activation=activations.relu).activation.__name__ == "relu"
    assert Activation(activations.swish).activation.__name__ == "silu"
    with pytest.raises(TypeError, match="function of your own cannot be used.*derivative"):
        Dense(4, activation=lambda x: x)
    with pytest.raises(ValueError, match="relu6 works on arrays only.*no derivative"):
        Dense(4, activation=activations.relu6)  # a function only: the layers lack its slope
