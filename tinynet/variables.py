"""What `layer.kernel`, `layer.weights` and `model.weights` give: a weight as Keras code reads
it.

In tinynet a weight is a NumPy array, layer.params['kernel'], that training updates in place
(after compile, a view into the model's one vector of trainable weights). Keras code treats a
weight as a Keras variable: `w.assign(new)`, `w.numpy()`, `w.name`, `w.path`. A `Variable` is
a view of the weight's own memory (no copy) with those methods: writing into it changes the
layer, and arithmetic on it gives plain NumPy arrays, as Keras's gives plain tensors.

    w = model.layers[0].kernel          # Variable: shape (20, 64), name 'kernel'
    w.assign(np.zeros(w.shape))         # writes into the layer's kernel (shape must match)
    w.numpy()                           # a copy, a plain array
    w * 2                               # a plain array

Keras 3.15's names, checked live: `name` is the weight's name ('kernel', 'moving_mean'),
`path` is 'sequential/dense/kernel' for model.weights (the model's name, the layer's, the
weight's); layer.kernel's path is 'dense/kernel' (a layer does not know its model's name).
"""

import numpy as np


class Variable(np.ndarray):
    """A layer's weight, seen as Keras's variable (see the module docstring). Make one with
    `as_variable(array, name, path, trainable)`."""

    def __array_finalize__(self, source):
        # views and copies of a Variable keep its names (NumPy calls this for each new one)
        self.name = getattr(source, "name", None)
        self.path = getattr(source, "path", None)
        self.trainable = getattr(source, "trainable", False)

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # the result of arithmetic (w * 2, w.sum()) is a plain array, or a number
        array = array.view(np.ndarray)
        return array[()] if return_scalar else array

    def __getitem__(self, index):
        return self.view(np.ndarray)[index]  # w[0]: a plain view, as Keras gives a tensor

    def assign(self, value):
        """Write `value` into the weight (Keras's variable.assign); its shape must be the
        weight's. Returns the Variable."""
        value = np.asarray(value, dtype=self.dtype)
        if value.shape != self.shape:
            raise ValueError(f"{self.path}.assign(value): the value must have the weight's "
                             f"shape {self.shape}, got {value.shape}")
        self.view(np.ndarray)[...] = value
        return self

    def assign_add(self, value):
        """w.assign(w + value)."""
        return self.assign(self.numpy() + np.asarray(value, dtype=self.dtype))

    def assign_sub(self, value):
        """w.assign(w - value)."""
        return self.assign(self.numpy() - np.asarray(value, dtype=self.dtype))

    def numpy(self):
        """A copy of the weight, a plain NumPy array (as Keras's variable.numpy())."""
        return np.array(self.view(np.ndarray))

    @property
    def value(self):
        """The weight itself as a plain array (a view: writing into it changes the layer)."""
        return self.view(np.ndarray)

    def __repr__(self):
        values = np.array2string(self.view(np.ndarray))
        return (f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
                f"value={values}>")

    __str__ = __repr__

    def __reduce__(self):
        # pickled (copy.deepcopy, multiprocessing) as the plain array it holds
        return self.view(np.ndarray).__reduce__()


def as_variable(array, name, path, trainable):
    """A Variable that is a view of `array` (the same memory), or None for None."""
    if array is None:
        return None
    variable = array.view(Variable)
    variable.name, variable.path, variable.trainable = name, path, trainable
    return variable
