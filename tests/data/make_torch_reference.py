"""Make tests/data/torch_batchnorm_reference.npz: PyTorch autograd's batch normalization.

tinynet writes BN's backward by hand; an autograd framework derives it from the forward. If the
two agree to 1e-9 in float64, the hand-written closed form is right. PyTorch is not installed
where the tests run, so this script saves torch's answers once (tests/test_torch_parity.py
replays them, and re-runs this script's `make_case` live when torch is importable).

Each case `c0`, `c1`, ... holds random float64 inputs and torch's results:

    x (N, D), gamma (D,), beta (D,), grad_output (N, D)          the inputs
    moving_mean (D,), moving_variance (D,)                      running statistics before
    train_y, train_dx, train_dgamma, train_dbeta                 training mode
    infer_y, infer_dx, infer_dgamma, infer_dbeta                 inference mode
    torch_running_mean, torch_running_var                        after the training pass
    kernel (D_in, D), chain_x (N, D_in), chain_dx, chain_dkernel Dense -> BN (see below)

Only the normalization itself is compared: PyTorch's running variance uses the UNBIASED batch
variance and its momentum means the opposite (running = 0.9 running + 0.1 batch), so those are
saved only to show the difference. The Dense -> BN chain catches a wrong BN grad_input that a
check of BN alone can miss (the Dense gradients depend on it).

    python -m venv /tmp/kvenv && /tmp/kvenv/bin/pip install torch
    /tmp/kvenv/bin/python tests/data/make_torch_reference.py
"""

import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "torch_batchnorm_reference.npz")
EPSILON = 1e-3   # Keras's (and tinynet's) default; torch's own default is 1e-5
MOMENTUM = 0.1   # torch's convention: running = (1 - 0.1) * running + 0.1 * batch

# (N, D_in, D): batch size, features into the Dense of the chain, features of BN
SHAPES = [(2, 3, 4), (16, 6, 5), (64, 10, 8)]


def make_inputs(shape, rng):
    """Random float64 inputs for one case; x is deliberately not centred or unit-scaled."""
    n, d_in, d = shape
    return {
        "x": rng.normal(1.5, 3.0, size=(n, d)),
        "gamma": rng.uniform(0.5, 2.0, size=d),
        "beta": rng.normal(0.0, 1.0, size=d),
        "grad_output": rng.normal(0.0, 1.0, size=(n, d)),
        "moving_mean": rng.normal(0.0, 1.0, size=d),
        "moving_variance": rng.uniform(0.5, 3.0, size=d),
        "chain_x": rng.normal(0.0, 1.0, size=(n, d_in)),
        "kernel": rng.normal(0.0, 0.5, size=(d_in, d)),
    }


def torch_batchnorm(inputs, training):
    """y = BN(x) and the gradients of sum(y * grad_output), by torch autograd."""
    x = torch.tensor(inputs["x"], requires_grad=True)
    gamma = torch.tensor(inputs["gamma"], requires_grad=True)
    beta = torch.tensor(inputs["beta"], requires_grad=True)
    running_mean = torch.tensor(inputs["moving_mean"])
    running_var = torch.tensor(inputs["moving_variance"])
    y = torch.nn.functional.batch_norm(x, running_mean, running_var, gamma, beta,
                                       training=training, momentum=MOMENTUM, eps=EPSILON)
    y.backward(torch.tensor(inputs["grad_output"]))
    return {"y": y, "dx": x.grad, "dgamma": gamma.grad, "dbeta": beta.grad,
            "running_mean": running_mean, "running_var": running_var}


def torch_dense_then_batchnorm(inputs):
    """Gradients of sum(BN(chain_x @ kernel) * grad_output), training mode, by autograd."""
    x = torch.tensor(inputs["chain_x"], requires_grad=True)
    kernel = torch.tensor(inputs["kernel"], requires_grad=True)
    y = torch.nn.functional.batch_norm(x @ kernel, None, None, torch.tensor(inputs["gamma"]),
                                       torch.tensor(inputs["beta"]), training=True,
                                       eps=EPSILON)
    y.backward(torch.tensor(inputs["grad_output"]))
    return {"chain_dx": x.grad, "chain_dkernel": kernel.grad}


def make_case(shape, rng):
    """Inputs and torch's answers for one shape, as a dict of float64 NumPy arrays."""
    case = make_inputs(shape, rng)
    train = torch_batchnorm(case, training=True)
    infer = torch_batchnorm(case, training=False)
    for key in ("y", "dx", "dgamma", "dbeta"):
        case["train_" + key] = train[key]
        case["infer_" + key] = infer[key]
    case["torch_running_mean"] = train["running_mean"]
    case["torch_running_var"] = train["running_var"]
    case.update(torch_dense_then_batchnorm(case))
    return {key: np.asarray(value.detach().numpy() if torch.is_tensor(value) else value,
                            dtype=np.float64) for key, value in case.items()}


def main():
    rng = np.random.default_rng(12345)
    arrays = {"epsilon": np.float64(EPSILON), "momentum": np.float64(MOMENTUM),
              "torch_version": np.array(torch.__version__)}
    for i, shape in enumerate(SHAPES):
        for key, value in make_case(shape, rng).items():
            arrays[f"c{i}_{key}"] = value
    np.savez_compressed(OUT, **arrays)
    print(f"torch {torch.__version__} -> {os.path.normpath(OUT)} "
          f"({os.path.getsize(OUT) / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
