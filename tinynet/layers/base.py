"""The Layer base class: what every layer has in common.

A layer is a function with a hand-written derivative:

    forward(x, training)     -> output           (keeps what backward will need)
    backward(grad_output)    -> grad_input       (and sets self.grads for each parameter)

`grad_output` is dL/d(output), `grad_input` is dL/d(x): the chain rule, one layer at a time.

Where the numbers live:
    self.params[name]   trainable arrays (Dense's kernel and bias, BN's gamma and beta)
    self.grads[name]    their gradients, set by backward: plain assignment
                        (self.grads["kernel"] = dkernel) is all a layer has to do
    self.state[name]    non-trainable arrays (BN's moving statistics)

A layer knows nothing of the model that holds it. When a model is compiled it gathers every
trainable array into ONE flat vector and gives each layer a view into it, so that the optimizer
updates all weights with one vectorized formula. A view shares memory with the vector: writing
into it (`layer.params["kernel"][...] = new`, as set_weights does) changes the model; putting a
NEW array in its place (`layer.params["kernel"] = new`) would detach it from the optimizer, so
the next training step stops with an error that says to write into the weight instead.

Freezing: `layer.trainable = False` (or `Dense(..., trainable=False)`) keeps the weights as they
are during training and counts them as non-trainable, as in Keras. A change takes effect
from the next training step, even without compiling again (what Keras 3 does, measured with
its torch backend: tests/data/make_keras_model_reference.py).
"""

import numpy as np

from tinynet.config import standardize_dtype
from tinynet.validation import (
    check_bool,
    check_int,
    constructor_arguments,
    to_float_array,
    unknown_argument_error,
)


class Layer:
    """Base class. A layer of your own implements:

        build(input_shape)        create self.params[...] (trainable) and self.state[...]
                                  (not trainable) with dtype=self.dtype, then call
                                  super().build(input_shape)
        forward(x, training)      start with self.check_input(x) (check_input(x, training)
                                  if training changes what it does); keep what backward
                                  needs
        backward(grad_output)     start with self.check_grad_output(grad_output, <what
                                  forward kept>); assign self.grads[name] for EVERY param,
                                  every call; return dL/dx, the shape of x
        compute_output_shape      only if the output's shape differs from the input's

    weight_order lists the weights in get_weights()'s order; without it they come in the
    order build created them (params first, then state). The check_* calls give clear errors
    for a wrong input (not a float array, an empty batch, samples of another shape, a
    training that is not a bool, a grad_output of another shape or batch size than the last
    output) or a backward called before forward.

    Never write into x in forward (x -= mean, x *= 2): x is the previous layer's output,
    which that layer's backward may still read (an activation keeps its output y); compute
    a new array instead (x = x - mean). Writing into grad_output in backward is as unsafe.

    Arguments common to every layer:
        name:        a string; a model names unnamed layers like Keras ('dense', 'dense_1').
        dtype:       'float32' (default) or 'float64'.
        trainable:   False freezes the layer's weights (default True).
        input_shape: the shape of one sample, e.g. (20,); only needed on a model's first layer.
        input_dim:   an int, the same as input_shape=(input_dim,) (Keras 2 spelling).
    """

    # The order of get_weights(): Keras's order, so weights move between Keras and tinynet.
    # Weights not listed (a layer of your own may list none) follow in the order of creation.
    weight_order = ()

    def __init__(self, name=None, dtype=None, trainable=True, input_shape=None, input_dim=None,
                 **unknown):
        if unknown:  # a typo such as Dense(64, activaton='relu') gets the closest real name
            raise unknown_argument_error(f"{type(self).__name__}()", unknown,
                                         constructor_arguments(type(self)))
        where = type(self).__name__
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError(f"{where}: name must be a non-empty string, got {name!r}")
        self.name = name
        self.dtype = standardize_dtype(dtype, f"{where}(dtype=...)")
        self.trainable = check_bool(trainable, f"{where}(trainable=...)")
        if input_dim is not None:
            if input_shape is not None:
                raise ValueError(f"{where}: give input_shape or input_dim, not both")
            input_shape = (check_int(input_dim, f"{where}(input_dim=...)", minimum=1),)
        self.input_shape = None
        if input_shape is not None:
            self.input_shape = (None, *check_sample_shape(input_shape, where))
        self.output_shape = None
        self.built = False
        self.params = {}
        self.grads = {}
        self.state = {}
        self.regularizers = {}  # weight name -> regularizer (kernel_regularizer=... and so on)
        # False: backward may skip dL/dx and return None (a model's first layer in training)
        self.needs_input_grad = True
        self.last_batch_size = None  # of the last forward's x: backward checks grad_output

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"

    @property
    def where(self):
        """How errors name this layer: "Dense 'dense_1'"."""
        return type(self).__name__ + (f" '{self.name}'" if self.name else "")

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
        """Inputs: x (N, ...), training (bool: batch statistics, dropout). Returns: the output
        (N, ...). Keeps what backward needs. Every layer writes its own."""
        raise NotImplementedError

    def backward(self, grad_output):
        """Inputs: grad_output = dL/d(output), the shape of the last output. Returns:
        grad_input = dL/dx, the shape of the last x; sets self.grads[name] for each weight."""
        raise NotImplementedError

    def __call__(self, x, training=False):
        """Run forward on any array-like x (converted to the layer's float type first)."""
        x = to_float_array(x, f"{self.where}: x", dtype=self.dtype, min_ndim=2)
        return self.forward(x, training=training)

    def check_input(self, x, training=False):
        """The first line of every forward: x must be a float array of samples of the shape
        this layer was built for. An unbuilt layer is built here, from x's shape, and so is a
        layer without weights (Dropout) given another shape, as Keras allows. A layer whose
        forward depends on `training` (BatchNormalization, Dropout) passes it, to be checked:
        True, False or None (Keras's default outside fit: inference).
        Keeps x's batch size, which backward's grad_output must have."""
        if training is not True and training is not False and training is not None \
                and type(training) is not np.bool_:
            raise training_error(self, training)
        # one cheap test at every step; what is unusual (a layer to build, an x to refuse)
        # is worked out by check_unusual_input
        if type(x) is not np.ndarray or x.dtype.kind != "f" or x.ndim < 2 or x.size == 0 \
                or not self.built or x.shape[1:] != self.input_shape[1:]:
            self.check_unusual_input(x)
        self.last_batch_size = len(x)

    def check_unusual_input(self, x):
        """check_input's slow path: refuse a bad x (input_error says what is wrong), or build
        the layer for x's samples if it is new or has no weights (build_for)."""
        error = input_error(self, x)
        if error is not None:
            raise error
        if not self.built or x.shape[1:] != self.input_shape[1:]:
            self.build_for(x.shape)

    def build_for(self, shape):
        """forward got samples of another shape than the layer has: build the layer for them
        if it is new or has no weights; refuse if it was declared (input_shape=...) or built
        (with weights) for another shape."""
        if self.input_shape is not None and shape[1:] != tuple(self.input_shape[1:]) and \
                (not self.built or self.weights):
            sample = tuple(self.input_shape[1:])
            how = "built for samples of shape " if self.built else "given input_shape="
            raise ValueError(f"{self.where} was {how}{sample}, got x of shape {shape}"
                             f"{channels_first_hint(shape, self.input_shape)}")
        self.build((None, *shape[1:]))

    def check_grad_output(self, grad_output, cache):
        """The first line of every backward: forward must have run (its `cache` is what
        backward differentiates), and grad_output must be a float array of the shape of
        forward's last output (its batch size too)."""
        # one cheap test at every step; grad_output_error works out the complaint on failure
        if (cache is None or type(grad_output) is not np.ndarray
                or grad_output.dtype.kind != "f" or grad_output.shape[1:] != self.output_shape[1:]
                or len(grad_output) != self.last_batch_size) \
                and (error := grad_output_error(self, grad_output, cache)) is not None:
            raise error

    # -- regularization ---------------------------------------------------------------------

    def regularization_loss(self):
        """The penalty this layer's regularizers add to the loss (0.0 without any)."""
        return sum(float(reg(self.weight(key))) for key, reg in self.regularizers.items())

    def add_regularization_gradients(self):
        """grads[key] += d(penalty)/d(weight): called by backward, after the data's gradient."""
        for key, reg in self.regularizers.items():
            self.grads[key] = self.grads[key] + reg.gradient(self.params[key])

    # -- weights --------------------------------------------------------------------------

    def weight(self, key):
        """The array stored under `key`, trainable or not."""
        return self.params[key] if key in self.params else self.state[key]

    def weight_keys(self):
        """Names of the weights that exist: those in weight_order first (Keras's order),
        then any others in the order build created them (params, then state)."""
        listed = [key for key in self.weight_order if key in self.params or key in self.state]
        return listed + [key for key in (*self.params, *self.state) if key not in listed]

    @property
    def weights(self):
        """Every weight array (not a copy), in Keras's order."""
        return [self.weight(key) for key in self.weight_keys()]

    @property
    def trainable_weights(self):
        """The arrays that training changes: params, unless the layer is frozen."""
        if not self.trainable:
            return []
        return [self.params[key] for key in self.weight_keys() if key in self.params]

    @property
    def non_trainable_weights(self):
        """The arrays training leaves alone: the state, and every weight of a frozen layer."""
        if not self.trainable:
            return self.weights
        return [self.state[key] for key in self.weight_keys() if key in self.state]

    def get_weights(self):
        """Copies of the weights, in Keras's order (e.g. Dense: kernel, bias)."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Overwrite the weights in place from a list in get_weights() order.

        Everything is checked before anything is written: either all weights change or none.
        """
        where = f"{self.where}.set_weights"
        if not self.built:
            raise ValueError(f"{where}: the layer is not built yet; give the model an "
                             f"input_shape or call it on data first")
        arrays = check_weight_list(weights, self.weight_keys(), self.weights, where)
        for target, value in zip(self.weights, arrays, strict=True):
            target[...] = value  # in place: the model's flat vector keeps seeing the new values

    def count_params(self):
        """Number of scalars in all weights, trainable or not."""
        return int(sum(w.size for w in self.weights))

    def count_trainable_params(self):
        return int(sum(w.size for w in self.trainable_weights))

    def count_non_trainable_params(self):
        return int(sum(w.size for w in self.non_trainable_weights))

    # -- configuration (Keras's get_config / from_config) ---------------------------------

    def get_config(self):
        """The layer's constructor arguments as Keras writes them in a .keras file."""
        from tinynet import saving  # the Keras file format lives in one module

        return saving.layer_get_config(self)

    @classmethod
    def from_config(cls, config):
        """A new layer from get_config()'s dictionary."""
        from tinynet import saving

        return saving.layer_from_config(cls.__name__, config)


# -- the messages of check_input and check_grad_output, worked out only when a check fails --

KIND_NAMES = {"b": "booleans", "i": "integers", "u": "unsigned integers",
              "c": "complex numbers", "O": "Python objects", "U": "text", "S": "bytes"}


def array_problem(array, name, fix):
    """What is wrong with `array` (forward's x or backward's grad_output) as a layer's
    input, a TypeError; None when it is a float array of at least 2 dimensions (samples)."""
    var = name.split()[-1]  # x or grad_output
    if isinstance(array, np.matrix):
        return TypeError(f"{name} is a numpy.matrix, whose * multiplies matrices (the layers "
                         f"multiply elementwise): pass np.asarray({var})")
    if isinstance(array, np.ma.MaskedArray):
        return TypeError(f"{name} is a masked array, and the layers ignore masks (masked "
                         f"entries would count with whatever values they hold): fill them "
                         f"first, e.g. {var}.filled(0.0)")
    if not isinstance(array, np.ndarray):
        return TypeError(f"{name} must be a NumPy array of shape (batch, ...), got "
                         f"{type(array).__name__}; np.asarray({var}, dtype='float32') makes "
                         f"one" + (", and calling the layer, layer(x), converts for you"
                                   if var == "x" else ""))
    if array.ndim < 2:
        return TypeError(f"{name} must be a NumPy array of shape (batch, ...), got shape "
                         f"{array.shape}; one row per sample: {var}.reshape(1, -1) if it "
                         f"is one sample")
    if array.dtype.kind != "f":
        what = KIND_NAMES.get(array.dtype.kind, "values")
        return TypeError(f"{name} must hold floating-point numbers, got an array of "
                         f"{array.dtype} ({what}); {fix}")
    return None


def input_error(layer, x):
    """The exception for a bad forward's x, or None when x is fine (an ndarray subclass
    such as np.memmap computes like an ndarray, and is fine)."""
    name = f"{layer.where}.forward: x"
    if getattr(getattr(x, "dtype", None), "kind", None) == "c":
        fix = "tinynet computes with real numbers (keep x.real or np.abs(x), whichever you mean)"
    else:
        fix = (f"convert it first, x.astype('{layer.dtype}') (model(x), predict and fit "
               f"convert for you, and so does calling the layer, layer(x))")
    error = array_problem(x, name, fix)
    if error is None and x.size == 0:
        what = "no samples" if len(x) == 0 else "samples of 0 values"
        error = ValueError(f"{name} is empty (shape {x.shape}, {what}); a forward pass needs "
                           f"at least one sample with at least one value")
    return error


def training_error(layer, training):
    """The TypeError for forward's training that is not a bool."""
    hint = (" (a non-empty string counts as True in Python, so 'False' would train)"
            if isinstance(training, str) else "")
    return TypeError(f"{layer.where}.forward: training must be True, False or None "
                     f"(inference), got "
                     f"{training!r} ({type(training).__name__}){hint}")


def grad_output_error(layer, grad_output, cache):
    """The exception for a backward called before forward (`cache` is None) or given a bad
    grad_output; None when it is fine after all (an ndarray subclass such as np.memmap)."""
    if cache is None:
        return RuntimeError(f"{layer.where}.backward was called before forward: call "
                            f"forward(x, training=True) first; backward differentiates what "
                            f"forward last computed")
    name = f"{layer.where}.backward: grad_output"
    sample, n = tuple(layer.output_shape[1:]), layer.last_batch_size
    error = array_problem(grad_output, name, "it is dL/d(output), a float array like the "
                                             "layer's output")
    if error is None and grad_output.shape[1:] != sample:
        last = f" (the last forward's output had shape {(n, *sample)})" if n else ""
        error = ValueError(f"{name} must have the shape of the layer's output, (batch, "
                           f"{', '.join(map(str, sample))}){last}, got {grad_output.shape}; "
                           f"in a model, grad_output is what the next layer's backward "
                           f"returned (the loss's gradient for the last layer)")
    if error is None and n is not None and len(grad_output) != n:
        error = ValueError(f"{name} has shape {grad_output.shape}, a batch of "
                           f"{len(grad_output)}, but the layer's last forward ran on a batch "
                           f"of {n}, and backward differentiates that forward: grad_output "
                           f"must have the shape of its output, {(n, *sample)}. predict, "
                           f"evaluate and model(x) run forward too, and replace what backward "
                           f"differentiates: run forward(x, training=True) again just before "
                           f"backward")
    return error


def channels_first_hint(shape, built_shape):
    """For a 4-D x refused by a layer built for other images: if x is those images with the
    channels first, say so (tinynet, like Keras, puts them last)."""
    if len(shape) == 4 and len(built_shape) == 4 and \
            (shape[2], shape[3], shape[1]) == tuple(built_shape[1:]):
        return CHANNELS_LAST_HINT
    return ""


CHANNELS_LAST_HINT = ("; the images look channels-first, (batch, channels, height, width): "
                      "tinynet, like Keras, puts the channels last, (batch, height, width, "
                      "channels), so transpose them: x.transpose(0, 2, 3, 1)")


def check_weight_list(weights, keys, targets, where):
    """Check a list of arrays against the weights it will replace; return them as arrays."""
    if not isinstance(weights, (list, tuple)):
        raise TypeError(f"{where}: expected a list of {len(keys)} arrays, "
                        f"got {type(weights).__name__}")
    if len(weights) != len(keys):
        raise ValueError(f"{where}: expected {len(keys)} arrays ({', '.join(keys)}), "
                         f"got {len(weights)}")
    arrays = []
    for key, value, target in zip(keys, weights, targets, strict=True):
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(f"{where}: weight '{key}' must have shape {target.shape}, "
                             f"got {value.shape}")
        if not np.issubdtype(value.dtype, np.number):
            raise TypeError(f"{where}: weight '{key}' must be numeric, got {value.dtype}")
        arrays.append(value)
    return arrays


def check_sample_shape(shape, where):
    """input_shape=(20,) or 20 -> (20,); refuses anything that is not positive ints."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or len(shape) == 0:
        raise TypeError(f"{where}: input_shape must be a tuple of positive ints like (20,), "
                        f"got {shape!r}")
    return tuple(check_int(size, f"{where}: input_shape entries", minimum=1) for size in shape)


_check_sample_shape = check_sample_shape  # the old private name, kept for existing imports
