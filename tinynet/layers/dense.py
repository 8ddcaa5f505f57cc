"""Dense: the fully connected layer.

Forward, for a batch x of shape (N, D_in):

    z = x @ kernel + bias          kernel: (D_in, D_out), bias: (D_out,), z: (N, D_out)
    y = activation(z)              (linear by default)

Backward, given g = dL/dy of shape (N, D_out):

    dz      = dL/dz, from g, z and y by the activation's backward: g * activation'(z) for an
              activation applied to each entry alone (ReLU, sigmoid, tanh, ...); for softmax,
              whose every output depends on the whole row, y * (g - sum(g * y, axis=-1))
    dkernel = x.T @ dz             (D_in, D_out): each sample's outer product x_n dz_n, summed
    dbias   = sum(dz, axis=0)      (D_out,): the bias is added to every sample, so sum over N
    dx      = dz @ kernel.T        (N, D_in)
"""

from tinynet import constraints, initializers, regularizers
from tinynet.layers.activation import activation_attribute, check_activation_name
from tinynet.layers.base import Layer, check_input_shape, weight_attribute
from tinynet.validation import check_bool, check_int


class Dense(Layer):
    """Dense(units, activation=None, use_bias=True, kernel_initializer='glorot_uniform',
    bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None), plus name,
    dtype, trainable, input_shape / input_dim (see Layer).

    Shapes: x (N, D_in) -> y (N, units). Weights, in get_weights() order: kernel (D_in, units),
    bias (units,), also readable as layer.kernel and layer.bias (as in Keras; bias is None with
    use_bias=False). A regularizer adds its penalty to the loss and its gradient to grads.
    """

    weight_order = ("kernel", "bias")
    keras_only_arguments = (*Layer.keras_only_arguments, "lora_rank", "lora_alpha",
                            "quantization_config")
    kernel = weight_attribute("kernel")
    bias = weight_attribute("bias")
    activation = activation_attribute()  # the function; may be set to None or 'relu'

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        # Keras 3's order; the activity regularizer is every layer's (see Layer)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = check_int(units, "Dense(units=...)", minimum=1)
        self.use_bias = check_bool(use_bias, "Dense(use_bias=...)")
        self.activation = check_activation_name(activation, "Dense")  # see activation_attribute
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")
        self.kernel_constraint = constraints.get(kernel_constraint, "kernel_constraint")
        self.bias_constraint = constraints.get(bias_constraint, "bias_constraint")
        self.x = self.z = self.y = None

    def build(self, input_shape):
        input_shape = check_input_shape(self, input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"{self.where} expects inputs of shape (batch, features), got "
                             f"input shape {tuple(input_shape)}. Keras's Dense would apply "
                             f"the same weights to the last axis of each position; tinynet's "
                             f"takes one vector per sample: put a Flatten() layer before it "
                             f"(one vector of all the values, as for images), or reshape "
                             f"(N, T, F) data to (N * T, F) rows yourself")
        fan_in = input_shape[-1]
        self.params["kernel"] = self.new_weight("kernel", (fan_in, self.units))
        self.attach_rules("kernel")
        if self.use_bias:
            self.params["bias"] = self.new_weight("bias", (self.units,))
            self.attach_rules("bias")
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def forward(self, x, training=False):
        """Inputs: x (N, D_in). Returns: y = activation(x @ kernel + bias), (N, units)."""
        self.check_input(x)
        self.x = x
        z = x @ self.params["kernel"]
        if self.use_bias:
            z += self.params["bias"]
        # the activation's function itself, not its layer's forward: x was checked above
        self.z, self.y = z, self.activation_layer.function(z)
        return self.y

    def forget_forward(self):
        """Drop what backward differentiates (a new activation was set since forward)."""
        self.x = self.z = self.y = None

    def backward(self, grad_output):
        """Inputs: grad_output = dL/dy (N, units). Returns: dL/dx (N, D_in), or None when
        needs_input_grad is False (a model's first layer during training); sets
        grads['kernel'] (D_in, units) and grads['bias'] (units,)."""
        self.check_grad_output(grad_output, self.x)
        grad_z = self.activation_layer.derivative(grad_output, self.z, self.y)
        self.grads["kernel"] = self.x.T @ grad_z
        if self.use_bias:
            self.grads["bias"] = grad_z.sum(axis=0)
        self.add_regularization_gradients()
        # a model's first layer skips dx in training: it costs as much as dkernel, unused
        return grad_z @ self.params["kernel"].T if self.needs_input_grad else None
