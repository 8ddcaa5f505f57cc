"""Make tests/data/torch_layernorm_reference.npz: PyTorch autograd's layer normalization.

tinynet writes LayerNormalization's backward by hand; torch.nn.functional.layer_norm derives
it by autograd. tests/test_layernorm.py replays the saved answers (torch is not installed
where the tests run). Each case `c0`, `c1`, ... holds random float64 inputs and torch's
results:

    x (N, D), gamma (D,), beta (D,), grad_output (N, D)      the inputs
    y, dx, dgamma, dbeta                                     torch's output and the gradients
                                                             of sum(y * grad_output)

    python -m venv /tmp/kvenv && /tmp/kvenv/bin/pip install torch
    /tmp/kvenv/bin/python tests/data/make_torch_layernorm_reference.py
"""

import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "torch_layernorm_reference.npz")
EPSILON = 1e-3   # Keras's (and tinynet's) default; torch's own default is 1e-5

# (N, D): a batch of one, a small batch, a wider one
SHAPES = [(1, 4), (6, 5), (32, 16)]


def make_case(shape, rng):
    n, d = shape
    case = {
        "x": rng.normal(1.5, 3.0, size=(n, d)),   # deliberately not centred or unit-scaled
        "gamma": rng.uniform(0.5, 2.0, size=d),
        "beta": rng.normal(0.0, 1.0, size=d),
        "grad_output": rng.normal(0.0, 1.0, size=(n, d)),
    }
    x = torch.tensor(case["x"], requires_grad=True)
    gamma = torch.tensor(case["gamma"], requires_grad=True)
    beta = torch.tensor(case["beta"], requires_grad=True)
    y = torch.nn.functional.layer_norm(x, (d,), gamma, beta, eps=EPSILON)
    (y * torch.tensor(case["grad_output"])).sum().backward()
    case.update(y=y.detach().numpy(), dx=x.grad.numpy(), dgamma=gamma.grad.numpy(),
                dbeta=beta.grad.numpy())
    return case


def main():
    rng = np.random.default_rng(2016)
    arrays = {"epsilon": np.array(EPSILON)}
    for i, shape in enumerate(SHAPES):
        for key, value in make_case(shape, rng).items():
            arrays[f"c{i}_{key}"] = value
    np.savez(OUT, **arrays)
    print(f"wrote {os.path.normpath(OUT)}: {len(SHAPES)} cases, torch {torch.__version__}")


if __name__ == "__main__":
    main()
