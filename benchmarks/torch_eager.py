"""The same network in PyTorch eager mode, for comparison (optional: only if torch imports).

Built from a tinynet model's weights (a Dense kernel (D_in, D_out) is a Linear weight
(D_out, D_in) transposed), with Keras's settings spelled out: BatchNorm1d(momentum=0.01,
eps=1e-3) because PyTorch's momentum is Keras's 1 - momentum, Adam(eps=1e-7). The loss takes
logits (BCEWithLogitsLoss / CrossEntropyLoss), PyTorch's own fused form.

Two differences from tinynet remain and are left on purpose, as a user would write it:
PyTorch's BN updates the moving variance with the UNBIASED batch variance (Keras and tinynet
use the biased one), and PyTorch's Adam adds epsilon after the bias correction. Neither changes
the cost of a step, and the first step's loss (before any update) is the same.
"""

import numpy as np
import torch
from torch import nn

from tinynet.layers import BatchNormalization, Dense


def from_model(model):
    """An nn.Sequential with the same layers and weights as a tinynet Sequential."""
    modules = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            kernel = layer.params["kernel"]
            linear = nn.Linear(kernel.shape[0], kernel.shape[1], bias=layer.use_bias)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(kernel.T.copy()))
                if layer.use_bias:
                    linear.bias.copy_(torch.from_numpy(layer.params["bias"]))
            modules.append(linear)
            if layer is not model.layers[-1]:  # the last activation lives in the loss
                modules += activation_module(layer.activation.__name__)
        elif isinstance(layer, BatchNormalization):
            bn = nn.BatchNorm1d(layer.params["gamma"].shape[0], eps=layer.epsilon,
                                momentum=1 - layer.momentum)
            with torch.no_grad():
                bn.weight.copy_(torch.from_numpy(layer.params["gamma"]))
                bn.bias.copy_(torch.from_numpy(layer.params["beta"]))
                bn.running_mean.copy_(torch.from_numpy(layer.state["moving_mean"]))
                bn.running_var.copy_(torch.from_numpy(layer.state["moving_variance"]))
            modules.append(bn)
        else:
            modules += activation_module(layer.activation.__name__)
    return nn.Sequential(*modules)


def activation_module(name):
    return {"relu": [nn.ReLU()], "sigmoid": [nn.Sigmoid()], "linear": []}[name]


class TorchTrainer:
    """fit-like training of an nn.Sequential that ends in logits."""

    def __init__(self, model, out_act):
        self.net = from_model(model)
        self.binary = out_act == "sigmoid"
        self.loss_fn = nn.BCEWithLogitsLoss() if self.binary else nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=1e-3, eps=1e-7)
        self.net.train()

    def train_step(self, x, y):
        """One step; returns (loss, accuracy) before the update, as Python floats."""
        self.optimizer.zero_grad(set_to_none=True)
        logits = self.net(x)
        loss = self.loss_fn(logits, y)
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():
            if self.binary:
                accuracy = ((logits > 0) == (y > 0.5)).float().mean()
            else:
                accuracy = (logits.argmax(dim=1) == y).float().mean()
        return loss.item(), accuracy.item()

    def fit(self, x, y, batch_size, generator):
        n = len(x)
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            loss, _ = self.train_step(x[index], y[index])
            total += loss * len(index)
        return total / n


def to_tensors(x, y, binary):
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if binary:
        y = torch.from_numpy(np.asarray(y, dtype=np.float32).reshape(-1, 1))
    else:
        y = torch.from_numpy(np.asarray(y, dtype=np.int64).reshape(-1))
    return x, y
