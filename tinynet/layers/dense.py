"""Dense: the fully connected layer.

Forward, for a batch x of shape (N, D_in):

    z = x @ kernel + bias          kernel: (D_in, D_out), bias: (D_out,), z: (N, D_out)
    y = activation(z)              (linear by default)

Backward, given g = dL/dy of shape (N, D_out):

    dz      = g * activation'(z)   (done by the activation)
    dkernel = x.T @ dz             (D_in, D_out): each sample's outer product x_n dz_n, summed
    dbias   = sum(dz, axis=0)      (D_out,): the bias is added to every sample, so sum over N
    dx      = dz @ kernel.T        (N, D_in)
"""

import numpy as np

from tinynet import initializers
from tinynet.layers.activation import Activation, check_activation_name
from tinynet.layers.base import Layer
from tinynet.validation import check_bool, check_int


class Dense(Layer):
    """Dense(units, activation=None, use_bias=True, kernel_initializer='glorot_uniform',
    bias_initializer='zeros', input_shape=None, name=None, dtype=None)."""

    weight_order = ("kernel", "bias")

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = check_int(units, "Dense(units=...)", minimum=1)
        self.use_bias = check_bool(use_bias, "Dense(use_bias=...)")
        name = check_activation_name(activation, "Dense")
        self.activation = Activation(name, dtype=self.dtype)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.x = None

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"Dense '{self.name}' expects inputs of shape (batch, features), "
                             f"got input shape {tuple(input_shape)}")
        fan_in = input_shape[-1]
        self.params["kernel"] = self.kernel_initializer((fan_in, self.units), self.dtype)
        if self.use_bias:
            self.params["bias"] = self.bias_initializer((self.units,), self.dtype)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def forward(self, x, training=False):
        self.x = x
        z = x @ self.params["kernel"]
        if self.use_bias:
            z += self.params["bias"]
        return self.activation.forward(z)

    def backward(self, grad_output, input_grad=True):
        grad_z = self.activation.backward(grad_output)
        return self.backward_from_logits(grad_z, input_grad)

    def backward_from_logits(self, grad_z, input_grad=True):
        """Backward from dL/dz, skipping the activation (the loss fused it, e.g. p - y).

        input_grad=False skips dx and returns None: a model's first layer does that in
        training, where dL/d(data) is never used and would cost as much as dkernel."""
        np.matmul(self.x.T, grad_z, out=self.grads["kernel"])
        if self.use_bias:
            grad_z.sum(axis=0, out=self.grads["bias"])
        if not input_grad:
            return None
        return grad_z @ self.params["kernel"].T
