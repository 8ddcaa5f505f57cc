"""Calling a layer on Input(...): shapes only, as the Keras docs use it.

Keras's API docs show a layer's output shape by calling it on a symbolic input:

    keras.layers.Flatten()(keras.Input(shape=(10, 64))).shape      -> (None, 640)

tinynet does the same: the layer is built for that input's shape and returns a
SymbolicTensor, which holds a shape (batch axis first: None, or the Input's batch_size) and a
dtype, and can be given to the next layer:

    Dense(4)(Flatten()(Input(shape=(10, 64)))).shape                -> (None, 4)

That is all it can do. In Keras, such tensors also make models (the functional API,
keras.Model(inputs, outputs)); tinynet has Sequential models only, so anything else done with
a SymbolicTensor (arithmetic, NumPy, fit) raises a TypeError that says so.
"""


class SymbolicTensor:
    """The output of a layer called on Input(...): its shape, (batch, ...) with batch None
    (or the Input's batch_size), and its dtype ('float32' or 'float64'); no values."""

    def __init__(self, shape, dtype):
        self.shape = tuple(shape)
        self.dtype = dtype

    def __repr__(self):
        return f"<SymbolicTensor shape={self.shape}, dtype={self.dtype}>"

    @property
    def ndim(self):
        return len(self.shape)

    def refuse(self, *args, **kwargs):
        """Every way of computing with the tensor ends here: it has no values."""
        raise TypeError(f"{self!r} has a shape but no values: calling a layer on Input(...) "
                        f"only works out shapes, because tinynet has no functional API (no "
                        f"computing with symbolic tensors, no keras.Model(inputs, outputs), "
                        f"no fit on them). Build the model as Sequential([Input(shape=...), "
                        f"layer, ...]), or call layers on NumPy arrays to get numbers, e.g. "
                        f"np.ones((2, {', '.join(map(str, self.shape[1:]))})) in place of this "
                        f"tensor")

    # operators (x + 1 and 1 + x, x @ w, -x, x[0]) and NumPy: np.asarray(x) (and so fit's and
    # predict's conversion of x) calls __array__, np.exp(x) and array + x call
    # __array_ufunc__, np.concatenate([x, x]) calls __array_function__
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = refuse
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = refuse
    __pow__ = __rpow__ = __matmul__ = __rmatmul__ = __neg__ = __pos__ = __abs__ = refuse
    __getitem__ = __array__ = __array_ufunc__ = __array_function__ = refuse
    # and what would turn it into a Python number or truth value: if x:, float(x), len(x)
    __bool__ = __float__ = __int__ = __index__ = __len__ = __iter__ = refuse


def symbolic_call(layer, x):
    """layer(x) for x an Input(...) (an InputLayer) or a SymbolicTensor: build the layer for
    x's samples, as a layer called on data is, and return a SymbolicTensor of its output's
    shape (the batch axis kept from x) in the layer's dtype. Raises what building raises, e.g.
    a ValueError for a layer built for samples of another shape."""
    shape = tuple(x.shape)
    if not layer.built or shape[1:] != tuple(layer.input_shape[1:]):
        layer.build_for(shape)
    return SymbolicTensor((shape[0], *layer.output_shape[1:]), layer.dtype)
