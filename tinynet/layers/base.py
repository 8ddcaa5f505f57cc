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
The built-in layers also show them under Keras's names, read-only: layer.kernel is a view of
layer.params["kernel"] (a Variable sharing its memory, not the same object), BN's
layer.moving_mean a view of layer.state["moving_mean"] (weight_attribute).

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

import inspect
import numbers

import numpy as np

from tinynet import regularizers
from tinynet.config import standardize_dtype
from tinynet.layers.symbolic import SymbolicTensor, symbolic_call
from tinynet.tensors import as_tensor
from tinynet.validation import (
    check_bool,
    check_int,
    constructor_arguments,
    snake_case,
    to_float_array,
    unknown_argument_error,
)
from tinynet.variables import as_variable, same_variable


def keras_symbolic_attribute(name):
    """layer.output or layer.input: in Keras a symbolic tensor of its functional API, which
    tutorials use to look inside a model; here an AttributeError that says what to do
    instead. A layer of your own may still set and read an attribute of that name."""

    def read(layer):
        if name in layer.__dict__:
            return layer.__dict__[name]
        raise AttributeError(
            f"{type(layer).__name__} has no {name}: Keras's layer.{name} is a symbolic tensor "
            f"of its functional API, which tinynet does not have. To see what the first "
            f"i + 1 layers of a model compute (Keras's Model(model.input, layer.output)), run "
            f"a model made of them: Sequential(model.layers[:i + 1]).predict(x), which shares "
            f"their weights; layer.output_shape gives the shape")

    def write(layer, value):
        layer.__dict__[name] = value

    return property(read, write)


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

    Also, when the layer needs them:
        a weight penalty          self.regularizers[name] = tinynet.regularizers.L2(0.01) in
                                  build, and self.add_regularization_gradients() as the last
                                  step of backward (the loss already counts the penalty)
        a weight constraint       self.constraints[name] = tinynet.constraints.MaxNorm(3) in
                                  build: applied after each optimizer update, as in Keras
                                  (for arguments in Keras's style, self.kernel_regularizer
                                  and self.kernel_constraint set in __init__, call
                                  self.attach_rules('kernel') in build after making the
                                  weight: it fills both dicts)
        running statistics        update self.state[...] in forward only when
                                  `training and self.trainable` (a frozen layer keeps them)
        weights in attributes     read self.params[name] in forward: compile moves every
                                  weight into the model's vector (an attribute that held
                                  the array is pointed at the moved one)

    weight_order lists the weights in get_weights()'s order; without it they come in the
    order build created them (params first, then state). The check_* calls give clear errors
    for a wrong input (not a float array, an empty batch, samples of another shape, a
    training that is not a bool, a grad_output of another shape or batch size than the last
    output) or a backward called before forward.

    Check a layer of your own against finite differences, in float64, before training it:
    tinynet.gradcheck.check_layer(MyLayer(dtype='float64'), x) gives the relative error of
    dL/dx and of each weight's gradient (about 1e-8 or less when backward is right).

    Keras's way, call(inputs) with weights from self.add_weight(...), is refused with an error
    that says what to write instead: tinynet has no automatic differentiation, so backward is
    written by hand, next to forward.

    Never write into x in forward (x -= mean, x *= 2): x is the previous layer's output,
    which that layer's backward may still read (an activation keeps its output y); compute
    a new array instead (x = x - mean). Writing into grad_output in backward is as unsafe.

    Arguments common to every layer:
        name:        a string; a model names unnamed layers like Keras ('dense', 'dense_1').
        dtype:       'float32' (default) or 'float64'.
        trainable:   False freezes the layer's weights (default True).
        input_shape: the shape of one sample, e.g. (20,); only needed on a model's first layer.
        input_dim:   an int, the same as input_shape=(input_dim,) (Keras 2 spelling).
        activity_regularizer: a penalty on the layer's OUTPUT (a regularizer or its name,
                     e.g. L1(1e-4) for sparse activations), divided by the batch size and
                     added to the loss in fit and evaluate, as in Keras 3 (see activity_loss).
    Keras arguments tinynet lacks (autocast=..., Dropout's noise_shape=...) are
    accepted at Keras's default, which changes nothing, and otherwise refused with a
    TypeError that says so (KERAS_ONLY_ARGUMENTS).
    """

    # The order of get_weights(): Keras's order, so weights move between Keras and tinynet.
    # Weights not listed (a layer of your own may list none) follow in the order of creation.
    weight_order = ()

    # True for a layer whose build only checks its input shape and makes no weights (pooling):
    # count_params() is 0 before building, as in Keras, instead of an error.
    weightless = False

    # Arguments Keras's layer of the same name takes and tinynet's lacks (see
    # KERAS_ONLY_ARGUMENTS): every Keras layer takes this one.
    keras_only_arguments = ("autocast",)

    def __init_subclass__(cls, **kwargs):
        """Checks a layer of your own where its class is defined: one written the Keras way,
        with call instead of forward, stops right there (see call_instead_of_forward_error)."""
        super().__init_subclass__(**kwargs)
        # the forward that would run is tinynet's (Layer's, which raises, or a built-in
        # layer's), not one written next to call
        if "call" in cls.__dict__ and cls.forward.__module__.startswith("tinynet."):
            raise call_instead_of_forward_error(cls)
        forward = cls.__dict__.get("forward")
        if forward is not None and not takes_training(forward):
            raise TypeError(f"{cls.__name__}.forward must take training as well, "
                            f"forward(self, x, training=False): models pass it to every layer "
                            f"(True in fit, False in predict), even to one that ignores it")

    def __init__(self, name=None, dtype=None, trainable=True, input_shape=None, input_dim=None,
                 activity_regularizer=None, **unknown):
        if unknown:  # Dense(64, activaton='relu'), Dense(64, kernel_constraint=...)
            check_unknown_arguments(type(self), unknown)
        where = type(self).__name__
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError(f"{where}: name must be a non-empty string, got {name!r}")
        # Keras's default name ('dense' for Dense), until a model gives it one of its own,
        # unique in that model ('dense_1' for its second Dense); a name given here is kept
        self._name = name if name is not None else snake_case(type(self).__name__)
        self.name_given = name is not None
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
        self.constraints = {}  # weight name -> constraint (kernel_constraint=...): see there
        # a penalty on the layer's output, or None (see activity_loss); as in Keras a plain
        # attribute, which Keras code may set later to a regularizer object
        self.activity_regularizer = regularizers.get(
            activity_regularizer, f"{where}(activity_regularizer=...)")
        self.variable_views = {}  # weight name -> its Variable, as Keras reads it (variable())
        self.path_scope = None  # the name of the model that built the layer (variable())
        # False: backward may skip dL/dx and return None (a model's first layer in training)
        self.needs_input_grad = True
        self.last_batch_size = None  # of the last forward's x: backward checks grad_output

    def __repr__(self):
        """Keras 3's form, so that print(model.layers) reads as in Keras: <Dense name=dense,
        built=True>."""
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    @property
    def name(self):
        """The layer's name: the one given (Dense(4, name='hidden')), the one a model gave it
        (unique in the model: 'dense', 'dense_1', ...), or on its own Keras's default
        ('dense')."""
        return self._name

    @name.setter
    def name(self, value):
        self._name = value
        self.name_given = value is not None  # set by hand or by a model: kept from now on

    @property
    def where(self):
        """How errors name this layer: "Dense 'dense_1'" (just "Dense" for a layer on its own
        that was given no name: its default name would add nothing)."""
        return type(self).__name__ + (f" '{self.name}'" if self.name_given else "")

    # -- building -------------------------------------------------------------------------

    def build(self, input_shape):
        """Create the weights for inputs of `input_shape`, e.g. (None, 20). Called once.
        TypeError or ValueError for a shape that is not (batch, positive sizes...): see
        check_input_shape, which each built-in layer's build calls first."""
        self.input_shape = check_input_shape(self, input_shape)
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
        """Run forward on any array-like x (converted to the layer's float type first).
        On Input(shape=...), or on what a layer returned for one, only build the layer and
        return a SymbolicTensor with the output's shape, as Keras's docs use it (symbolic.py).
        """
        check_initialized(self, "called")
        try:
            x = to_float_array(x, f"{self.where}: x", dtype=self.dtype, min_ndim=2)
        except TypeError:
            # an Input is not an array, so converting it fails: telling one apart only then
            # costs layer(array) nothing (the import is here: input.py imports this module)
            from tinynet.layers.input import InputLayer

            if isinstance(x, (InputLayer, SymbolicTensor)):
                return symbolic_call(self, x)
            if isinstance(x, Layer):  # Dense(4)(Dense(3)): a layer where data should be
                raise TypeError(f"{self.where}: x is a layer, {x.where}, not data; call a "
                                f"layer on a NumPy array (or on Input(shape=...) for its "
                                f"output shape), and chain layers in Sequential([...])") from None
            raise
        if not self.built:  # a forward of your own may not start with check_input
            self.build_for(x.shape)
        # an array that also answers .numpy(), as Keras's tensors do (tinynet.tensors)
        return as_tensor(self.forward(x, training=training))

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
                             f"{channels_first_hint(shape, self.input_shape)}"
                             f"{own_layer_before_hint(self)}")
        build_checked(self, (None, *shape[1:]))

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

    # -- Keras's symbolic layer.input and layer.output, which tinynet does not have ----------
    # Properties (a __getattr__ would slow every attribute lookup of the training step) that
    # explain, unless a layer of your own keeps an attribute of that name, which they hold.

    input = keras_symbolic_attribute("input")
    output = keras_symbolic_attribute("output")

    # -- Keras's ways of making weights and losses, which tinynet does not have ---------------
    # Properties that raise (not a __getattr__, which would slow every attribute lookup of
    # the training step), so that Keras code stops with a message saying what to write.

    @property
    def add_weight(self):
        raise AttributeError(
            f"{self.where}: tinynet layers have no add_weight (Keras's way of making a "
            f"weight). Make weights in build(self, input_shape) as arrays in self.params "
            f"(self.state for ones training does not change), of dtype self.dtype, then call "
            f"super().build(input_shape); e.g. self.params['w'] = tinynet.initializers.get("
            f"'random_normal')((input_shape[-1], units), self.dtype). In forward read "
            f"self.params['w'] (not a copy kept in self.w: compile replaces the array with a "
            f"view of the memory the optimizer updates, and a new array put in self.params "
            f"later would not be trained; change values in place, self.params['w'][...] = "
            f"new); in backward set self.grads['w']")

    @property
    def add_loss(self):
        raise AttributeError(
            f"{self.where}: tinynet layers have no add_loss, Keras's way of adding a term to "
            f"the loss from inside a layer: tinynet's loss is the compiled loss plus the "
            f"penalties of weight regularizers (Dense(..., kernel_regularizer='l2'); in a "
            f"layer of your own, self.regularizers['w'] = tinynet.regularizers.L2(0.01) in "
            f"build and self.add_regularization_gradients() at the end of backward), and the "
            f"activity regularizers' penalties on layers' outputs (activity_regularizer=...)")

    @property
    def losses(self):
        """The penalties of this layer's weight regularizers, one float per regularized
        trainable weight in Keras's weight order (empty for a frozen layer), as Keras's
        layer.losses lists them: sum(layer.losses) is layer.regularization_loss(). (Keras's
        list also holds what add_loss adds, which tinynet lacks, and the activity
        regularizer's penalty from the layer's last call, which tinynet's model.losses
        holds.)"""
        if not self.trainable:
            return []
        return [float(self.regularizers[key](self.weight(key))) for key in self.weight_keys()
                if key in self.regularizers]

    # -- regularization ---------------------------------------------------------------------

    def regularization_loss(self):
        """The penalty this layer's regularizers add to the loss: 0.0 without any, and for a
        frozen layer (trainable=False), whose weights training leaves alone; Keras 3 also
        counts only the penalties of trainable weights."""
        if not self.trainable:
            return 0.0
        return sum((float(reg(self.weight(key))) for key, reg in self.regularizers.items()), 0.0)

    def activity_loss(self, output):
        """The activity regularizer's penalty on output (N, ...), this layer's output,
        divided by the batch size N, as Keras 3 adds it to the loss (0.0 for a batch of 0).
        Returns a float."""
        return float(self.activity_regularizer(output)) / len(output) if len(output) else 0.0

    def activity_gradient(self, output):
        """d(activity_loss)/d(output): the regularizer's gradient at output (N, ...), divided by
        N; what the model adds to dL/d(output) before this layer's backward. Same shape."""
        return checked_gradient(self, "its output", self.activity_regularizer,
                                output) / max(len(output), 1)

    def attach_rules(self, key):
        """What build calls after making weight `key` ('kernel'): the layer's regularizer and
        constraint for it (self.kernel_regularizer, self.kernel_constraint), if it has them
        and they are set, start to apply: the penalty joins the loss, and the constraint is
        applied after each update (tinynet.constraints)."""
        from tinynet import constraints, regularizers  # here: they need not load with layers

        for rules, suffix, get in ((self.regularizers, "_regularizer", regularizers.get),
                                   (self.constraints, "_constraint", constraints.get)):
            rule = getattr(self, key + suffix, None)
            if rule is not None:  # a name such as 'l2' or 'max_norm' becomes the object
                rules[key] = get(rule, f"{type(self).__name__}({key}{suffix}=...)")

    def constrained(self, key):
        """Trainable weight `key` after its constraint (self.constraints[key], e.g.
        MaxNorm(3)): a new array of the weight's shape, which the caller writes into the
        weight. A ValueError naming the constraint if it gives another shape (writing it into
        the weight would broadcast it silently)."""
        weight = self.params[key]
        new = np.asarray(self.constraints[key](weight))
        if new.shape != weight.shape:
            raise ValueError(f"{self.where}: the constraint {self.constraints[key]!r} of "
                             f"{key} returned shape {new.shape}; a constraint must return the "
                             f"weight's new value, of its shape {weight.shape}")
        return new

    def add_regularization_gradients(self):
        """grads[key] += d(penalty)/d(weight): called by backward, after the data's gradient."""
        for key, reg in self.regularizers.items() if self.trainable else ():  # frozen: no penalty
            self.grads[key] = self.grads[key] + penalty_gradient(self, key, reg)

    # -- weights --------------------------------------------------------------------------

    def new_weight(self, name, shape):
        """A new weight `name` ('kernel', 'gamma', ...) made by the layer's initializer for it,
        self.<name>_initializer(shape, self.dtype): what build calls for each weight.
        An initializer of your own must return an array of exactly that shape (a number or
        an array of another shape would broadcast silently at every step; Keras 3.15 takes
        it, and trains the broadcast weight); one of another real type is cast to the
        layer's dtype, as Keras casts it.
        Raises ValueError naming the argument (e.g. 'kernel_initializer') otherwise."""
        argument = f"{name}_initializer"
        value = getattr(self, argument)(shape, self.dtype)
        array = np.asarray(value)
        if array.shape != tuple(shape) or array.dtype.kind not in "fiu":
            got = (f"values of type {array.dtype}" if array.dtype.kind not in "fiu"
                   else f"shape {array.shape}")
            raise ValueError(f"{self.where}: {argument} returned {got}; expected an array of "
                             f"numbers of shape {tuple(shape)}, as it was asked for (it is "
                             f"called as initializer(shape, dtype))")
        return np.array(array, dtype=self.dtype)  # a copy: two layers never share one

    def weight(self, key):
        """The array stored under `key`, trainable or not. A 0-d state a forward assigned anew
        (self.state['count'] = self.state['count'] + 1 gives a NumPy scalar, not an array) is
        stored back as the 0-d array it was, which get_weights, summary() and files expect."""
        if key in self.params:
            return self.params[key]
        value = self.state[key]
        if isinstance(value, np.generic):
            value = self.state[key] = np.array(value)
        return value

    def weight_keys(self):
        """Names of the weights that exist: those in weight_order first (Keras's order),
        then any others in the order build created them (params, then state)."""
        listed = [key for key in self.weight_order if key in self.params or key in self.state]
        return listed + [key for key in (*self.params, *self.state) if key not in listed]

    def variable(self, key, scope=None):
        """The weight `key` as Keras code reads it: a tinynet.variables.Variable, a view of
        the weight's memory with Keras's assign, numpy, name and path. The same object at
        every call while the weight stays where it is (compile and freezing move it into the
        model's vector: a new Variable then, whose assign the old one also reaches). Its path
        is Keras's: 'sequential/dense/kernel' for a layer a model built, 'dense/kernel' for
        one built on its own (path_scope, set by the model that builds the layer); `scope`
        names another prefix."""
        array = self.weight(key)
        scope = scope or getattr(self, "path_scope", None)
        path = "/".join([*([scope] if scope else []),
                         self.name or snake_case(type(self).__name__), key])
        trainable = self.trainable and key in self.params
        cached = self.variable_views.get(key)
        if cached is None or not same_variable(cached, array, path, trainable):
            cached = self.variable_views[key] = as_variable(self, key, array, path, trainable)
        return cached

    @property
    def weights(self):
        """Every weight (views, not copies: see variable), in Keras's order."""
        return [self.variable(key) for key in self.weight_keys()]

    @property
    def trainable_weights(self):
        """The weights that training changes: params, unless the layer is frozen."""
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self):
        """The weights training leaves alone: the state, and every weight of a frozen layer."""
        return [w for w in self.weights if not w.trainable]

    # Keras 3's other names for the same lists (custom loops write
    # zip(grads, model.trainable_variables))
    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def get_weights(self):
        """Copies of the weights, plain NumPy arrays in Keras's order (e.g. Dense: kernel,
        bias)."""
        return [self.weight(key).copy() for key in self.weight_keys()]

    def set_weights(self, weights):
        """Overwrite the weights in place from a list in get_weights() order.

        Everything is checked before anything is written: either all weights change or none.
        """
        where = f"{self.where}.set_weights"
        if not self.built:
            raise ValueError(f"{where}: the layer is not built yet; give the model an "
                             f"input_shape or call it on data first")
        targets = [self.weight(key) for key in self.weight_keys()]
        arrays = check_weight_list(weights, self.weight_keys(), targets, where)
        for target, value in zip(targets, arrays, strict=True):
            target[...] = value  # in place: the model's flat vector keeps seeing the new values

    def count_params(self):
        """Number of scalars in all weights, trainable or not. ValueError for a layer that
        makes weights when it is built (its class has a build of its own) and is not built
        yet, as in Keras 3: its count is not known until it sees its input shape."""
        if not self.built and type(self).build is not Layer.build and not self.weightless:
            raise ValueError(f"{self.where}.count_params: the layer is not built yet, so its "
                             f"weights do not exist; build it first (layer.build((None, 20)) "
                             f"for inputs of 20 features) or put it in a model given an "
                             f"input_shape")
        return int(sum(self.weight(key).size for key in self.weight_keys()))

    def count_trainable_params(self):
        return int(sum(w.size for w in self.trainable_weights))

    def count_non_trainable_params(self):
        return int(sum(w.size for w in self.non_trainable_weights))

    # -- configuration (Keras's get_config / from_config) ---------------------------------

    def get_config(self):
        """The layer's constructor arguments as Keras writes them in a .keras file. A layer
        of your own whose __init__ takes arguments adds them, as in Keras:
            def get_config(self):
                return {**super().get_config(), "units": self.units}
        (super() gives name, trainable and dtype); model.save then writes the layer, and
        load_model(path, custom_objects={"MyLayer": MyLayer}) makes it again."""
        from tinynet import saving  # the Keras file format lives in one module

        return saving.layer_get_config(self)

    @classmethod
    def from_config(cls, config):
        """A new layer from get_config()'s dictionary (a layer of your own: cls(**config),
        with Keras's dtype entry read as its name, as Keras's Layer.from_config does)."""
        from tinynet import saving

        if saving.is_own_class(cls):
            config = dict(config)
            if isinstance(config.get("dtype"), dict):  # Keras's DTypePolicy entry
                config["dtype"] = (config["dtype"].get("config") or {}).get("name")
            return cls(**config)
        return saving.layer_from_config(cls.__name__, config)


# -- Keras's attributes for weights: Dense's layer.kernel, BatchNormalization's layer.gamma --

def weight_attribute(key, store="params", none_when_unbuilt=False):
    """A read-only property for a weight under its Keras name, e.g. in Dense
    `kernel = weight_attribute("kernel")`: layer.kernel is then a view of the array
    layer.params['kernel'] (layer.state[...] with store='state'), not a copy, with the
    methods of Keras's variable (a tinynet.variables.Variable: assign, numpy, name, path);
    writing into it (layer.kernel[...] = new, or layer.kernel.assign(new)) changes the layer.
    Read it again after compile, which moves the weights into the optimizer's memory. As
    in Keras 3.15: None when the
    layer was built without that weight (use_bias=False, center=False); an AttributeError
    before the layer is built, or None with none_when_unbuilt (BatchNormalization's).
    Assigning a new array raises an AttributeError that says to write into the array."""

    def read(layer):
        if not layer.built:
            if none_when_unbuilt:
                return None
            raise AttributeError(f"{layer.where} is not built yet, so it has no {key}: a "
                                 f"layer makes its weights when it first sees data (layer(x), "
                                 f"or a model given an input shape)")
        return layer.variable(key) if key in getattr(layer, store) else None

    def write(layer, value):
        raise AttributeError(f"{layer.where}: layer.{key} cannot be replaced: it is the "
                             f"layer's array layer.{store}['{key}'], which training updates "
                             f"in place, so a new array put there would not be the one "
                             f"trained. Write into it instead, layer.{key}[...] = new_values, "
                             f"or use layer.set_weights([...])")

    return property(read, write, doc=f"The layer's {key} array (read-only; write into it).")


# -- arguments a layer does not take -----------------------------------------------------------

# Arguments of Keras 3.15's layers that tinynet's lack (keras/src/layers/, each class's
# __init__ and the base Layer's; the defaults also as the keras.io API pages list them, e.g.
# BatchNormalization's renorm_clipping=None, renorm_momentum=0.99, synchronized=False): what
# each does in Keras, what to do in tinynet, and the values that mean "off" (Keras's default
# first). At those values it changes nothing and is accepted, as Keras code often spells
# defaults out (Dense(4, kernel_constraint=None)); any other value is refused with a
# TypeError that says what the argument is for. Each layer class names the ones its Keras
# namesake takes in keras_only_arguments.
KERAS_ONLY_ARGUMENTS = {
    "autocast": ("mixed precision (casting the inputs to the layer's compute dtype)", "",
                 (True,)),
    "kernel_constraint": ("a constraint (such as MaxNorm) applied to the kernel after each "
                          "update", "", (None,)),
    "bias_constraint": ("a constraint applied to the bias after each update", "", (None,)),
    "gamma_constraint": ("a constraint applied to gamma after each update", "", (None,)),
    "beta_constraint": ("a constraint applied to beta after each update", "", (None,)),
    "lora_rank": ("LoRA fine-tuning (a low-rank update of the kernel)", "", (None,)),
    "lora_alpha": ("LoRA fine-tuning (a low-rank update of the kernel)", "", (None,)),
    "quantization_config": ("quantized weights", "", (None,)),
    "noise_shape": ("dropping the same units along some axes (e.g. whole channels)", "",
                    (None,)),
    "data_format": ("channels-first images, (batch, channels, height, width)",
                    "tinynet's images are channels last, (batch, height, width, channels): "
                    "transpose channels-first ones, x.transpose(0, 2, 3, 1)",
                    (None, "channels_last")),
    "dilation_rate": ("dilated (atrous) convolution, windows with gaps", "",
                      ((1, 1), 1, [1, 1])),
    "groups": ("grouped convolution (channels split into groups)", "", (1,)),
    "synchronized": ("statistics synchronized across devices", "", (False,)),
    "renorm_clipping": ("batch renormalization", "", (None,)),
    "renorm_momentum": ("batch renormalization", "", (0.99,)),
    "rms_scaling": ("RMS normalization (no mean subtracted, no beta)", "", (False,)),
}


def is_off(name, value):
    """True for a Keras-only argument at a value that changes nothing (kernel_constraint=None)."""
    return any(same_value(value, off) for off in KERAS_ONLY_ARGUMENTS[name][2])


def same_value(value, default):
    """value == default, where a number may be an int or a float (0 and 0.0) but not a bool
    (True == 1), and anything else must be of default's type (so an array, whose == gives an
    array, is never compared)."""
    if isinstance(default, numbers.Real) and not isinstance(default, bool):
        return isinstance(value, numbers.Real) and not isinstance(value, bool) and \
            value == default
    return type(value) is type(default) and value == default


def check_unknown_arguments(cls, unknown):
    """Refuse the arguments a layer's constructor did not take: a Keras argument tinynet
    lacks gets what it does in Keras (and is accepted when it is off, see
    KERAS_ONLY_ARGUMENTS); any other, a TypeError with the closest valid name (a typo)."""
    refused = {name: value for name, value in unknown.items()
               if not (name in cls.keras_only_arguments and is_off(name, value))}
    if not refused:
        return
    name = sorted(refused)[0]
    if name not in cls.keras_only_arguments:
        raise unknown_argument_error(f"{cls.__name__}()", refused, constructor_arguments(cls))
    what, advice, off = KERAS_ONLY_ARGUMENTS[name]
    raise TypeError(f"{cls.__name__}({name}=...) is a Keras argument for {what}, which tinynet "
                    f"does not have: leave it out (it is accepted at Keras's default, "
                    f"{name}={off[0]!r}, which changes nothing){'. ' + advice if advice else ''}")


def check_initialized(layer, what):
    """A layer of one's own whose __init__ forgot super().__init__(...) has no name, dtype,
    params or grads: say so where it is first used (added to a model, called, checked),
    instead of an AttributeError about one of them."""
    if "grads" not in vars(layer):
        raise TypeError(f"{type(layer).__name__} was {what}, but its __init__ did not call "
                        f"super().__init__(**kwargs) (Layer.__init__ sets up the name, dtype, "
                        f"trainable and the params, grads and state every layer needs): make "
                        f"it the first line of __init__")


def build_checked(layer, input_shape):
    """layer.build(input_shape), and a clear error if a build of one's own forgot to end with
    super().build(input_shape): without it the layer has no output_shape for the next one,
    and stays unbuilt, so that every call would build it again, making its weights anew."""
    layer.build(input_shape)
    if layer.built and not isinstance(layer.output_shape, (tuple, list)):
        raise TypeError(f"{layer.where}.compute_output_shape({tuple(input_shape)}) must return "
                        f"the output's shape as a tuple, like (None, 8), got "
                        f"{layer.output_shape!r}")
    if not layer.built or layer.output_shape is None:
        raise TypeError(f"{layer.where}.build(input_shape) must end with "
                        f"super().build(input_shape), which records the input and output "
                        f"shapes and marks the layer built (otherwise every call would build "
                        f"it again, making its weights anew)")


def takes_training(forward):
    """Whether forward accepts training=...: by name, or through **kwargs."""
    parameters = inspect.signature(forward).parameters.values()
    return any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in parameters)


def own_layer_before_hint(layer):
    """When a built layer gets samples of another shape inside a model, the usual cause is
    a layer of one's own before it that changes the shape without saying so."""
    if not layer.built:
        return ""
    return ("; if the layer before it is one of your own that changes the shape, its "
            "compute_output_shape(input_shape) must return the new shape (the model builds "
            "each layer for the shape the one before says it gives)")


def call_instead_of_forward_error(cls):
    """The TypeError for a layer of one's own that defines Keras's call, but no forward of
    its own (the forward that would run is Layer's or a built-in layer's)."""
    return TypeError(
        f"{cls.__name__} defines call(), Keras's way of writing a layer, which tinynet never "
        f"calls. Keras works out the backward pass from call by automatic differentiation; "
        f"tinynet has none, so a layer of your own writes both passes by hand: "
        f"forward(self, x, training=False) returns the output and keeps what backward needs "
        f"(self.x = x), and backward(self, grad_output) sets self.grads[name] for each weight "
        f"and returns dL/dx. Rename call to forward (its first line: self.check_input(x)) "
        f"and write backward (its first line: self.check_grad_output(grad_output, self.x)); "
        f"weights go in self.params in build(self, input_shape), which ends with "
        f"super().build(input_shape); a layer that changes the shape also defines "
        f"compute_output_shape(self, input_shape), e.g. return (*input_shape[:-1], "
        f"self.units). help(tinynet.layers.Layer) lists it all")


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


def penalty_gradient(layer, key, regularizer):
    """regularizer.gradient(weight) of the layer's weight `key`, checked (checked_gradient)."""
    return checked_gradient(layer, repr(key), regularizer, layer.params[key])


def checked_gradient(layer, what, regularizer, value):
    """regularizer.gradient(value), checked to hold one number per number of value (a weight,
    or the layer's output): a regularizer of your own that returned a number, or one row,
    would otherwise be broadcast silently into the gradient."""
    gradient = regularizer.gradient(value)
    if np.shape(gradient) != value.shape:
        raise ValueError(f"{layer.where}: the regularizer {type(regularizer).__name__} of "
                         f"{what} returned a gradient of shape {np.shape(gradient)}; "
                         f"gradient(w) must return one value per number, shape {value.shape}")
    return gradient


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
    """Check a list of arrays against the weights it will replace; return them as arrays.
    Each must have its weight's shape and hold real numbers (integers or floats): complex
    values would lose their imaginary part in silence, and text, booleans or objects are
    not weights. TypeError or ValueError naming the weight otherwise."""
    if not isinstance(weights, (list, tuple)):
        raise TypeError(f"{where}: expected a list of {len(keys)} arrays, "
                        f"got {type(weights).__name__}")
    if len(weights) != len(keys):
        raise ValueError(f"{where}: expected {len(keys)} arrays ({', '.join(keys)}), "
                         f"got {len(weights)}")
    arrays = []
    for key, value, target in zip(keys, weights, targets, strict=True):
        try:
            value = np.asarray(value)
        except ValueError:  # NumPy's complaint about a list of rows of different lengths
            raise ValueError(f"{where}: weight '{key}' must be an array of shape "
                             f"{target.shape}, got a ragged {type(value).__name__} (rows of "
                             f"different lengths)") from None
        if value.shape != target.shape:
            raise ValueError(f"{where}: weight '{key}' must have shape {target.shape}, "
                             f"got {value.shape}")
        if value.dtype.kind not in "iuf":  # c: complex, b: bool, U: text, O: objects, ...
            what = "complex numbers" if value.dtype.kind == "c" else value.dtype
            raise TypeError(f"{where}: weight '{key}' must be numeric, real numbers "
                            f"(integers or floats), got an array of {what}")
        arrays.append(value)
    return arrays


CHANNELS_LAST = ("tinynet normalizes the last axis (channels last): use axis=-1, and for "
                 "channels-first images transpose them, x.transpose(0, 2, 3, 1)")


def check_last_axis_at_build(layer, axis, input_shape, advice=CHANNELS_LAST):
    """A layer that works along one axis takes only the last: axis -1, or its index, which
    only build can check (1 for inputs (N, D), 3 for images (N, H, W, C)). ValueError with
    `advice` otherwise."""
    if axis not in (-1, len(input_shape) - 1):
        raise ValueError(f"{layer.where}: axis={axis} is not the last axis of inputs of "
                         f"shape {tuple(input_shape)}; {advice}")


def check_input_shape(layer, input_shape):
    """A build's input_shape, (batch, *sample shape), checked where build starts: a tuple or
    list of at least two entries, the batch size None or an int >= 0, every other size an int
    >= 1. Returns it as a tuple. Without this check a 0 would build a layer of no weights in
    silence, and a None, a 2.5, a -2 or a missing axis would stop deep inside NumPy or an
    initializer, in words that do not name the layer."""
    where = f"{layer.where}.build: input_shape"
    example = "like (None, 20) for samples of 20 features or (None, 28, 28, 1) for images"
    if not isinstance(input_shape, (tuple, list)):
        raise TypeError(f"{where} must be a tuple (batch, *sample shape), {example}; got "
                        f"{input_shape!r} ({type(input_shape).__name__})")
    shape = tuple(input_shape)
    if len(shape) < 2:
        raise ValueError(f"{where} must have the batch axis first and at least one axis "
                         f"after it, {example}; got {shape}")
    if shape[0] is not None:
        check_int(shape[0], f"{where}[0], the batch size (None: any),", minimum=0)
    for size in shape[1:]:
        if size is None:
            raise TypeError(f"{where} = {shape} has a size None (Keras's variable size): "
                            f"tinynet builds layers for fixed sizes; give every size after "
                            f"the batch axis, e.g. (None, 32, 32, 3)")
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise TypeError(f"{where} must hold integer sizes after the batch axis, got "
                            f"{shape} ({size!r} is a {type(size).__name__})")
        if size < 1:
            raise ValueError(f"{where} must hold sizes >= 1 after the batch axis, got "
                             f"{shape}: every axis of a sample needs at least one value")
    return (shape[0] if shape[0] is None else int(shape[0]), *map(int, shape[1:]))


def check_sample_shape(shape, where):
    """input_shape=(20,) or 20 -> (20,); refuses anything that is not positive ints."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or len(shape) == 0:
        raise TypeError(f"{where}: input_shape must be a tuple of positive ints like (20,), "
                        f"got {shape!r}")
    return tuple(check_int(size, f"{where}: input_shape entries", minimum=1) for size in shape)


_check_sample_shape = check_sample_shape  # the old private name, kept for existing imports
