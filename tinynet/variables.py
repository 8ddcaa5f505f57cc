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

compile (and freezing or unfreezing a layer) moves the weights into new memory, the model's
vector. A Variable read before that still is the weight, as a Keras variable would be: its
methods, NumPy's functions and operators on it (np.mean(w), w * 2, w += 1), indexing
(w[0], w[...] = 0) and optimizers all go to the layer's weight as it is now. What NumPy
reads as plain memory without asking, np.asarray(w) and views such as w.T, w.ravel() or
w.reshape(...), is the memory it was made on: after compile, read the weight again for those.

Two attributes are tinynet's own: `w.layer` and `w.key`, the layer and the weight's name in
it, so that a custom loop finds each weight's gradient: w.layer.grads[w.key].

Keras 3.15's names, checked live: `name` is the weight's name ('kernel', 'moving_mean'),
`path` is 'sequential/dense/kernel' for a layer that a model built, 'dense/kernel' for a layer
built on its own.
"""

import numpy as np


class Variable(np.ndarray):
    """A layer's weight, seen as Keras's variable (see the module docstring). The layer makes
    one with as_variable; arrays derived from it (w.T, w.reshape(...), copies) are not the
    weight and print as plain arrays."""

    def __array_finalize__(self, source):
        # called by NumPy for every array derived from a Variable: none of them is the weight
        self.layer = self.key = self.name = self.path = None
        self.trainable = False

    def __getitem__(self, index):
        return self.weight()[index]  # w[0]: a plain view of the weight, as Keras gives a tensor

    def __setitem__(self, index, value):
        self.weight()[index] = value

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # w * 2, w += 1, w.sum(): computed on the weight as the layer holds it now, and a
        # plain array (or number) as the result. (np.asarray(w) does not come here: NumPy
        # reads an ndarray subclass's memory directly; see the module docstring.)
        inputs = [current(value) for value in inputs]
        out = kwargs.get("out")
        if out:
            kwargs["out"] = tuple(current(value) for value in out)
        result = getattr(ufunc, method)(*inputs, **kwargs)
        if out:  # NumPy gives `out` back: the Variable itself, so that after w += 1, w is w
            return out[0] if len(out) == 1 else out
        return result

    def __array_function__(self, function, types, args, kwargs):
        # np.mean(w), np.concatenate([w, ...]): the same, for NumPy's other functions
        return function(*[current_all(arg) for arg in args],
                        **{key: current_all(value) for key, value in kwargs.items()})

    def weight(self):
        """The weight as the layer holds it now (a plain array), or this array itself when it
        is not a layer's weight."""
        return self.view(np.ndarray) if self.layer is None else self.layer.weight(self.key)

    def assign(self, value):
        """Write `value` into the weight (Keras's variable.assign); its shape must be the
        weight's. Returns the Variable."""
        weight = self.weight()
        try:
            value = np.asarray(value)
        except ValueError:  # NumPy's complaint about rows of different lengths
            raise ValueError(f"{self.path}.assign(value): the value must be an array of the "
                             f"weight's shape {weight.shape}, got a ragged "
                             f"{type(value).__name__}") from None
        if value.dtype.kind not in "iuf":  # complex would lose its imaginary part silently
            raise TypeError(f"{self.path}.assign(value): the value must hold real numbers "
                            f"(integers or floats), got an array of {value.dtype}")
        if value.shape != weight.shape:
            raise ValueError(f"{self.path}.assign(value): the value must have the weight's "
                             f"shape {weight.shape}, got {value.shape}")
        weight[...] = value
        return self

    def assign_add(self, value):
        """w.assign(w + value)."""
        return self.assign(self.numpy() + np.asarray(value, dtype=self.dtype))

    def assign_sub(self, value):
        """w.assign(w - value)."""
        return self.assign(self.numpy() - np.asarray(value, dtype=self.dtype))

    def numpy(self):
        """A copy of the weight, a plain NumPy array (as Keras's variable.numpy())."""
        return np.array(self.weight())

    copy = numpy  # w.copy(): a plain array too, not a second Variable

    @property
    def value(self):
        """The weight itself as a plain array (a view: writing into it changes the layer)."""
        return self.weight()

    def __repr__(self):
        if self.layer is None:
            return repr(self.view(np.ndarray))
        values = np.array2string(self.weight())
        return (f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
                f"value={values}>")

    __str__ = __repr__

    def __reduce__(self):
        # pickled (multiprocessing, pickle.dumps) as the plain array it holds
        return np.array(self.weight()).__reduce__()


def current(value):
    """A Variable of a layer: the layer's weight as it is now (a plain array); else value."""
    return value.weight() if isinstance(value, Variable) else value


def current_all(value):
    """current() also inside the lists and tuples NumPy's functions take."""
    if isinstance(value, (list, tuple)):
        return type(value)(current_all(item) for item in value)
    return current(value)


def as_variable(layer, key, array, path, trainable):
    """The Variable of layer's weight `key`: a view of `array`, the layer's array for it."""
    variable = array.view(Variable)
    variable.layer, variable.key, variable.name = layer, key, key
    variable.path, variable.trainable = path, trainable
    return variable


def same_variable(variable, array, path, trainable):
    """Whether a Variable made earlier still describes the weight: the same array (not moved
    by compile or freezing), path and trainable flag."""
    return (variable.base is array and variable.path == path
            and variable.trainable == trainable)
