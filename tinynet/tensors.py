"""What a model, a layer or a loss called directly returns, and a metric's result(): NumPy
values that also answer `.numpy()`, as Keras's tensors do.

Keras returns tensors of its backend (TensorFlow's, PyTorch's...), and tutorials turn them
into NumPy with `.numpy()`; TensorFlow's first quickstart does it on its second line of
Keras:

    predictions = model(x_train[:1]).numpy()
    loss_fn(y_train[:1], predictions).numpy()

tinynet computes with NumPy throughout, so its results are NumPy values already. These two
types only add the method, so that such code runs unchanged:

    Tensor   an array (np.ndarray subclass): t.numpy() is the same numbers as a plain
             np.ndarray (a view, no copy); everything else is NumPy's. It prints as an array.
    Scalar   a float (a loss's value, a metric's result()): s.numpy() is the number as a
             NumPy scalar of its float type (np.float32 for a float32 model and for every
             metric, as Keras gives).

Arithmetic on a Tensor gives a Tensor (NumPy keeps the subclass), so t.argmax(axis=1) and
np.exp(t) answer .numpy() too; np.asarray(t) gives a plain array.
"""

import numpy as np


class Tensor(np.ndarray):
    """An array returned by model(x) or layer(x); see the module docstring."""

    def numpy(self):
        """The same numbers as a plain np.ndarray (a view: no copy)."""
        return self.view(np.ndarray)

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # a reduction to one number (t.sum(), (t.argmax(1) == y).mean()) gives a NumPy
        # scalar, as it does for a plain array, not a 0-d Tensor
        if return_scalar:
            return array[()]
        return super().__array_wrap__(array, context, return_scalar)

    def __repr__(self):
        return repr(self.view(np.ndarray))

    def __str__(self):
        return str(self.view(np.ndarray))

    def __reduce__(self):
        # pickled (multiprocessing, pickle.dumps) as the plain array it holds
        return self.view(np.ndarray).__reduce__()


class Scalar(float):
    """A float returned by a loss called directly, or by a metric's result(); see the module
    docstring. Scalar(value) is float's own constructor (no Python code runs: a metric's
    result() is read at every training step); its dtype is float32, Keras's for metrics
    and for float32 models, unless as_tensor sets another."""

    dtype = np.dtype(np.float32)

    def numpy(self):
        """The number as a NumPy scalar of its float type (np.float32 by default)."""
        return self.dtype.type(self)


def as_tensor(values, dtype=None):
    """An ndarray as a Tensor (a view), a number as a Scalar of `dtype` (default float32);
    anything else (a SymbolicTensor, None) as it is."""
    if isinstance(values, np.ndarray):
        return values.view(Tensor)
    if isinstance(values, float):
        scalar = Scalar(values)
        if dtype is not None:
            scalar.dtype = np.dtype(dtype)
        return scalar
    return values
