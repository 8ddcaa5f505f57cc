"""tinynet's hand-written BatchNormalization against PyTorch autograd, in float64.

The fixture tests/data/torch_batchnorm_reference.npz was made by tests/data/make_torch_reference.py
(random inputs and upstream gradients, torch's outputs and autograd gradients). When torch is
importable, one more test makes fresh cases live.
"""

import importlib.util
import pathlib
import re

import numpy as np
import pytest

from tinynet.layers import BatchNormalization, Dense

HERE = pathlib.Path(__file__).parent
FIXTURE = HERE / "data" / "torch_batchnorm_reference.npz"
TOOL = HERE / "data" / "make_torch_reference.py"
TOLERANCE = 1e-9  # the bar: equal to autograd to 1e-9 in float64


def load_cases():
    with np.load(FIXTURE) as data:
        arrays = {key: data[key] for key in data.files}
    count = len({key.split("_")[0] for key in arrays if re.match(r"c\d+_", key)})
    cases = [{key[len(f"c{i}_"):]: value for key, value in arrays.items()
              if key.startswith(f"c{i}_")} for i in range(count)]
    return cases, float(arrays["epsilon"])


CASES, EPSILON = load_cases()
CASE_IDS = [f"N={case['x'].shape[0]},D={case['x'].shape[1]}" for case in CASES]


def batchnorm_for(case, momentum=0.99):
    """A float64 tinynet BN layer holding the case's gamma, beta and moving statistics."""
    layer = BatchNormalization(epsilon=EPSILON, momentum=momentum, dtype="float64")
    layer.build((None, case["x"].shape[1]))
    layer.set_weights([case["gamma"], case["beta"], case["moving_mean"],
                       case["moving_variance"]])
    return layer


def assert_close(name, mine, torch_value):
    """Absolute AND relative difference below 1e-9 (relative to the largest torch entry)."""
    diff = np.max(np.abs(mine - torch_value))
    scale = max(np.max(np.abs(torch_value)), 1.0)
    assert diff <= TOLERANCE * scale, f"{name}: max abs diff {diff:.2e} vs torch"


def compare_with_torch(case):
    """Run tinynet on a case in both modes and compare every output with torch's."""
    for mode, training in (("train", True), ("infer", False)):
        layer = batchnorm_for(case)
        y = layer.forward(case["x"].copy(), training=training)
        dx = layer.backward(case["grad_output"].copy())
        assert_close(f"{mode} y", y, case[f"{mode}_y"])
        assert_close(f"{mode} dx", dx, case[f"{mode}_dx"])
        assert_close(f"{mode} dgamma", layer.grads["gamma"], case[f"{mode}_dgamma"])
        assert_close(f"{mode} dbeta", layer.grads["beta"], case[f"{mode}_dbeta"])


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_batchnorm_forward_and_backward_equal_torch_autograd(case):
    compare_with_torch(case)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_dense_then_batchnorm_gradients_equal_torch_autograd(case):
    # Dense's gradients depend on BN's grad_input: this catches a wrong dx that BN alone hides
    dense = Dense(case["kernel"].shape[1], use_bias=False, dtype="float64")
    dense.build((None, case["kernel"].shape[0]))
    dense.set_weights([case["kernel"]])
    bn = batchnorm_for(case)
    bn.forward(dense.forward(case["chain_x"].copy(), training=True), training=True)
    dx = dense.backward(bn.backward(case["grad_output"].copy()))
    assert_close("chain dx", dx, case["chain_dx"])
    assert_close("chain dkernel", dense.grads["kernel"], case["chain_dkernel"])


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_moving_variance_differs_from_torch_only_by_the_unbiased_factor(case):
    # With torch's momentum 0.1 written the Keras way (momentum=0.9), the moving mean is the
    # same; the moving variance differs because torch uses the unbiased variance (x N/(N-1)).
    n = case["x"].shape[0]
    layer = batchnorm_for(case, momentum=0.9)
    layer.forward(case["x"].copy(), training=True)
    np.testing.assert_allclose(layer.state["moving_mean"], case["torch_running_mean"],
                               rtol=1e-12, atol=1e-12)
    tinynet_batch_var = (layer.state["moving_variance"] - 0.9 * case["moving_variance"]) / 0.1
    torch_batch_var = (case["torch_running_var"] - 0.9 * case["moving_variance"]) / 0.1
    np.testing.assert_allclose(tinynet_batch_var * n / (n - 1), torch_batch_var, rtol=1e-9)
    assert np.all(tinynet_batch_var < torch_batch_var)


def test_live_torch_agrees_on_fresh_random_cases():
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("make_torch_reference", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    rng = np.random.default_rng(2026)
    for shape in [(3, 4, 7), (32, 8, 16)]:
        compare_with_torch(tool.make_case(shape, rng))
