"""The Layer base class: what every layer has in common.

A layer is a function with a hand-written derivative:

    forward(x, training)     -> output           (keeps what backward will need)
    backward(grad_output)    -> grad_input       (fills self.grads for each parameter)

`grad_output` is dL/d(output), `grad_input` is dL/d(x): the chain rule, one layer at a time.
Trainable arrays live in `self.params`, their gradients under the same keys in `self.grads`.
Non-trainable weights (BatchNorm's moving statistics) live in `self.state`.
A layer knows nothing of the model that holds it.
"""

import numpy as np

from tinynet.config import standardize_dtype
from tinynet.validation import (
    check_int,
    constructor_arguments,
    to_float_array,
    unknown_argument_error,
)


class Layer:
    """Base class. Subclasses implement `build`, `forward`, `backward`, `compute_output_shape`.

    Arguments common to every layer:
        name:        a string; a model names unnamed layers like Keras ('dense', 'dense_1').
        dtype:       'float32' (default) or 'float64'.
        input_shape: the shape of one sample, e.g. (20,); only needed on a model's first layer.
    """

    # The order of get_weights(): Keras's order, so weights move between Keras and tinynet.
    weight_order = ()

    def __init__(self, name=None, dtype=None, input_shape=None, **unknown):
        if unknown:  # a typo such as Dense(64, activaton='relu') gets the closest real name
            raise unknown_argument_error(f"{type(self).__name__}()", unknown,
                                         constructor_arguments(type(self)))
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError(f"{type(self).__name__}: name must be a non-empty string, "
                            f"got {name!r}")
        self.name = name
        self.dtype = standardize_dtype(dtype, f"{type(self).__name__}(dtype=...)")
        self.input_shape = None
        if input_shape is not None:
            self.input_shape = (None, *_check_sample_shape(input_shape, type(self).__name__))
        self.output_shape = None
        self.built = False
        self.params = {}
        self.grads = {}
        self.state = {}

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"

    # -- building -------------------------------------------------------------------------

    def build(self, input_shape):
        """Create the weights for inputs of `input_shape`, e.g. (None, 20). Called once."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True

    def unbuild(self, input_shape=None):
        """Forget the weights made by build (used when building a model fails half-way)."""
        self.input_shape = input_shape
        self.output_shape = None
        self.built = False
        self.params, self.grads, self.state = {}, {}, {}

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    # -- the two passes -------------------------------------------------------------------

    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    def __call__(self, x, training=False):
        """Run forward, building the layer first from x's shape if needed."""
        where = type(self).__name__ + (f" '{self.name}'" if self.name else "")
        x = to_float_array(x, f"{where}: x", dtype=self.dtype, min_ndim=2)
        if not self.built:
            self.build((None, *x.shape[1:]))
        elif x.shape[1:] != tuple(self.input_shape[1:]):
            raise ValueError(f"{where} was built for samples of shape "
                             f"{tuple(self.input_shape[1:])}, got x of shape {x.shape}")
        return self.forward(x, training=training)

    # -- weights --------------------------------------------------------------------------

    def weight(self, key):
        """The array stored under `key`, trainable or not."""
        return self.params[key] if key in self.params else self.state[key]

    def get_weights(self):
        """Copies of the weights, in Keras's order (e.g. Dense: kernel, bias)."""
        return [self.weight(key).copy() for key in self.weight_keys()]

    def weight_keys(self):
        """Names of the weights that exist, in Keras's order."""
        return [key for key in self.weight_order if key in self.params or key in self.state]

    def set_weights(self, weights):
        """Overwrite the weights in place from a list in get_weights() order.

        Everything is checked before anything is written: either all weights change or none.
        """
        keys = self.weight_keys()
        where = f"{type(self).__name__} '{self.name}'.set_weights"
        if not self.built:
            raise ValueError(f"{where}: the layer is not built yet; give the model an "
                             f"input_shape or call it on data first")
        if not isinstance(weights, (list, tuple)):
            raise TypeError(f"{where}: expected a list of {len(keys)} arrays, "
                            f"got {type(weights).__name__}")
        if len(weights) != len(keys):
            raise ValueError(f"{where}: expected {len(keys)} arrays ({', '.join(keys)}), "
                             f"got {len(weights)}")
        arrays = []
        for key, value in zip(keys, weights, strict=True):
            value = np.asarray(value)
            target = self.weight(key)
            if value.shape != target.shape:
                raise ValueError(f"{where}: weight '{key}' must have shape {target.shape}, "
                                 f"got {value.shape}")
            if not np.issubdtype(value.dtype, np.number):
                raise TypeError(f"{where}: weight '{key}' must be numeric, got {value.dtype}")
            arrays.append(value)
        for key, value in zip(keys, arrays, strict=True):
            # in place, so that an optimizer holding this array keeps seeing the new values
            self.weight(key)[...] = value

    def count_params(self):
        """Number of scalars in all weights, trainable or not."""
        return self.count_trainable_params() + self.count_non_trainable_params()

    def count_trainable_params(self):
        return int(sum(value.size for value in self.params.values()))

    def count_non_trainable_params(self):
        return int(sum(value.size for value in self.state.values()))


def _check_sample_shape(shape, where):
    """input_shape=(20,) or 20 -> (20,); refuses anything that is not positive ints."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or len(shape) == 0:
        raise TypeError(f"{where}: input_shape must be a tuple of positive ints like (20,), "
                        f"got {shape!r}")
    return tuple(check_int(size, f"{where}: input_shape entries", minimum=1) for size in shape)
