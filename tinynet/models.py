"""Sequential: a stack of layers, trained with Keras's compile / fit / evaluate / predict.

The whole of training is one step repeated for every batch (`train_step`):

    y_pred = model.forward(x, training=True)                  # forward: each layer in turn
    loss, grad = model.loss.loss_and_gradient(y, y_pred)       # loss: how wrong, and dL/dy_pred
    model.backward(grad)                                       # backward: the chain rule
    optimizer.apply(model.parameters, model.gather_gradients(),  # update: a step downhill
                    model.weight_slices)  # where each weight sits (clipnorm: per weight)

`model.parameters` is ONE flat vector holding every trainable weight; each layer's
`params[name]` is a view into it (see tinynet.layers.base), so the optimizer's formula runs
once per step over all weights. The gradients are gathered into a second flat vector at every
step, from each layer's `grads`, so a layer may simply assign its gradients.

Everything else here is bookkeeping: batching, averaging, callbacks, saving. The checks of
what a user passes (fit's arguments, x and y, callbacks, ...) are in model_checks.py.
"""

import math
import os
import sys
import warnings
import zipfile

import numpy as np

from tinynet import losses, optimizers
from tinynet import metrics as metric_functions
from tinynet.callbacks import CallbackList
from tinynet.files import check_path, write_atomically
from tinynet.layers.base import Layer, build_checked, check_initialized, check_weight_list
from tinynet.layers.input import InputLayer
from tinynet.layers.symbolic import SymbolicTensor
from tinynet.model_checks import (
    apply_class_weight,
    backward_error,
    check_batch_size,
    check_callbacks,
    check_fit_arguments,
    check_gradients,
    check_keras_only,
    check_metrics,
    check_sample_weight,
    check_verbose,
    check_weight_arrays,
    claim_optimizer,
    forward_argument_error,
    log_names,
    optimizer_continues,
    own_metrics,
    sample_shape_hint,
    shape_sample_weight,
    to_model_array,
    transposed_hint,
    warn_about_layers_inside_layers,
    warn_about_output_and_loss,
    warn_if_nothing_to_train,
    warn_one_sample_batch,
)
from tinynet.summary import summary_text
from tinynet.tensors import as_tensor
from tinynet.validation import (
    check_bool,
    check_int,
    missing_attribute,
    snake_case,
    to_float_array,
)

# True and False, and NumPy's bools (np.True_), which comparisons of arrays give
BOOLS = (bool, np.bool_)


class Sequential:
    """Sequential(layers=None, name='sequential', trainable=True): layers applied in order.

    Looking inside one training step: set `model.trace_next_step = True` (in a callback's
    on_train_batch_begin, or before train_on_batch) and after the next step `model.trace`
    holds three lists aligned with `model.layers`: 'inputs' (what each layer saw), 'outputs'
    (what it gave) and 'grad_inputs' (dL/d input of each layer). The Recorder callback is
    built on this; lessons use it directly for measurements of their own. Without asking,
    `model.layer_inputs` always holds what each layer saw in the last forward pass (references,
    not copies), e.g. for a callback's on_train_batch_end.
    """

    # parameter vectors made so far by every model together: a model sharing layers with
    # another (a model inside a model) checks its weights only when this count moves
    vectors_made = 0

    def __init__(self, layers=None, trainable=True, name="sequential"):
        # Keras 3's order: Sequential(layers, trainable, name)
        if not isinstance(name, str) or not name:
            raise TypeError(f"Sequential(name=...) must be a non-empty string, got {name!r}")
        self.name = name
        self.trainable_flag = True  # model.trainable, the model's own flag (see there)
        self.layers = []
        self.input_layer = None  # an Input(shape=...) given as the first item, if any
        self.names_given = set()  # every name unique_name gave (see there)
        self.built = False
        self.compiled = False
        self.stop_training = False
        self.history = None
        self.trace_next_step = False  # True: keep every activation of the next step
        self.trace = None
        self.parameters = None        # the flat vector of trainable weights (after compile)
        self.bound_trainable = None   # the layers' trainable flags it was made for
        self.trainable_keys = self.views = None  # (layer, key) and view of each weight in it
        self.constrained_keys = []  # those of them with a constraint (apply_constraints)
        self.weight_slices = []  # where each of them sits in the vector (clipnorm: per weight)
        self.parked_slots = {}  # (id(layer), key) -> (layer, a frozen weight's optimizer state)
        self.vectors_seen = 0  # Sequential.vectors_made when this model last looked
        self.taken_apart = {}  # name of a model added inside this one -> its layers' names
        self.inner_models = []  # those models themselves: model.trainable = ... sets theirs
        self.forget_passes()  # each layer's input, output and dL/d(input): see forward
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise TypeError(f"Sequential(layers=...) must be a list of layers, "
                                f"got {type(layers).__name__}")
            for layer in layers:
                self.add(layer)
        if isinstance(trainable, str):  # Keras 2's order was Sequential(layers, name)
            raise TypeError(f"Sequential(trainable=...) must be True or False, got "
                            f"{trainable!r}; Keras 3's order is Sequential(layers, trainable, "
                            f"name): give the model's name as name={trainable!r}")
        if not check_bool(trainable, "Sequential(trainable=...)"):
            self.trainable = False

    def __repr__(self):  # Keras 3's form
        return f"<Sequential name={self.name}, built={self.built}>"

    # -- building ---------------------------------------------------------------------------

    def add(self, layer):
        """Append a layer, give it a Keras-style name if it has none, and build it if the
        shape of its input is already known. An Input(shape=...) may come first."""
        if isinstance(layer, InputLayer):
            return self.add_input(layer)
        if isinstance(layer, Sequential):
            return self.add_model(layer)
        check_new_layer(self, layer)
        if not layer.name_given:  # a name of its own in this model, kept from now on
            layer.name = self.unique_name(snake_case(type(layer).__name__))
        self.layers.append(layer)
        self.forget_passes()
        compiled = self.compiled
        try:
            if len(self.layers) == 1 and self.declared_input_shape() is not None:
                self.build(self.declared_input_shape())
            elif self.built:
                self.build_layer(layer, self.layers[-2].output_shape)
            self.parameters_changed()
        except (ValueError, TypeError):
            # a layer that cannot be built, or trained with the others, does not stay; the
            # model is as it was (a refused parameter vector changed nothing)
            self.layers.pop()
            self.compiled = compiled
            raise
        # every name that joined, given here or not (a model loaded from a file), so that a
        # layer popped and added back never finds its name given to another (see unique_name)
        self.names_given.add(layer.name)

    def add_model(self, model):
        """A model inside a model (Sequential([model, Softmax()])): its layers join this one,
        the same layer objects, so the two models share them and their weights (training
        either trains both; freezing model freezes them here too). Keras keeps the inner
        model as one layer; here model.layers and summary() list its layers one by one. All
        or nothing: if one of its layers cannot join, none stays."""
        if not model.layers:
            raise ValueError(f"Sequential.add: model '{model.name}' has no layers to add")
        if any(layer is other for layer in model.layers for other in self.layers):
            raise ValueError(f"Sequential.add: the layers of model '{model.name}' are already "
                             f"in this model")
        clash = sorted({layer.name for layer in model.layers} &
                       {layer.name for layer in self.layers})
        if clash:
            raise ValueError(f"Sequential.add: model '{model.name}' and this model both have a "
                             f"layer named '{clash[0]}' (tinynet names layers within each "
                             f"model, Keras across the session); name one of them when you "
                             f"make it, e.g. Dense(4, name='{clash[0]}_b')")
        count, input_layer, built = len(self.layers), self.input_layer, self.built
        try:
            if not self.layers and self.input_layer is None and model.built:
                self.add_input(InputLayer(shape=model.input_shape[1:]))  # its input, declared
            for layer in model.layers:
                self.add(layer)
        except (ValueError, TypeError):
            del self.layers[count:]
            self.input_layer, self.built = input_layer, built
            self.parameters_changed()
            raise
        # the models it took apart itself (two levels), then itself; two inner models of one
        # name (both 'sequential' by default) each keep a record: 'sequential', 'sequential#2'
        for name, members in [*model.taken_apart.items(),
                              (model.name, [layer.name for layer in model.layers])]:
            key, n = name, 1
            while key in self.taken_apart:
                n += 1
                key = f"{name}#{n}"
            self.taken_apart[key] = members
        self.inner_models += [*model.inner_models, model]
        self.inner_models_built()

    def add_input(self, input_layer):
        if self.layers or self.input_layer is not None:
            raise ValueError("Sequential.add: an Input/InputLayer can only be the first item "
                             "of a model")
        self.input_layer = input_layer

    def pop(self):
        """Remove the last layer (Keras's model.pop()) and return it."""
        if not self.layers:
            raise ValueError("Sequential.pop: the model has no layers to remove")
        layer = self.layers.pop()
        self.forget_passes()
        self.built = self.built and bool(self.layers)
        self.parameters_changed()
        return layer

    def forget_passes(self):
        """After a layer is added or removed, what the last passes recorded (each layer's
        input, output and dL/d(input)) no longer lines up with the layers: forget it."""
        self.layer_inputs, self.layer_outputs, self.layer_grad_inputs = [], [], []

    def unique_name(self, base):
        """'dense', then 'dense_1', 'dense_2', ... within this model. A name the model gave
        once is not given again, even after pop() took its layer out (Keras counts names
        over the whole session): the layer popped may come back (greedy layer-wise
        pretraining pops the output layer, adds a hidden one, then adds the output again)."""
        taken = {layer.name for layer in self.layers} | {getattr(self.input_layer, "name", None)}
        name, count = base, 0
        while name in taken or name in self.names_given:
            count += 1
            name = f"{base}_{count}"
        self.names_given.add(name)
        return name

    def build(self, input_shape=None):
        """Build every layer for inputs of `input_shape`, e.g. (None, 20)."""
        if not self.layers:
            raise ValueError("This Sequential model has no layers; add some with "
                             "Sequential([...]) or model.add(layer) first")
        input_shape = input_shape or self.declared_input_shape()
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 2:
            raise TypeError(f"build(input_shape=...) must be a tuple with the batch axis first, "
                            f"like (None, 20), got {input_shape!r}")
        shape = tuple(input_shape)
        # all or nothing: if a later layer refuses the shape, the earlier ones are unbuilt
        # again, so that the next attempt (with the mistake fixed) starts from a clean model
        unbuilt = [(layer, layer.input_shape) for layer in self.layers if not layer.built]
        try:
            for layer in self.layers:
                shape = self.build_layer(layer, shape)
        except (ValueError, TypeError):
            for layer, declared_shape in unbuilt:
                layer.unbuild(declared_shape)
            raise
        self.built = True
        self.parameters_changed()
        self.inner_models_built()

    def inner_models_built(self):
        """A model inside this one is built once all its layers are (by this model's build, as
        Keras builds the inner model with the outer one): summary() and input_shape then
        answer for it too."""
        for inner in self.inner_models:
            if not inner.built and all(layer.built for layer in inner.layers):
                inner.built = True
                inner.parameters_changed()

    def declared_input_shape(self):
        """The input shape the model was given: an Input's (with its fixed batch size, if it
        has one, as Keras builds with it: summary() then shows (16, 4)), or the first
        layer's input_shape=."""
        if self.input_layer is not None:
            return self.input_layer.shape
        return self.layers[0].input_shape if self.layers else None

    def build_layer(self, layer, input_shape):
        if layer.built:
            if tuple(layer.input_shape[1:]) != tuple(input_shape[1:]):
                raise ValueError(f"Layer '{layer.name}' was built for inputs {layer.input_shape}"
                                 f" but receives {tuple(input_shape)}")
        else:
            layer.path_scope = self.name  # its weights' paths: 'sequential/dense/kernel'
            build_checked(layer, tuple(input_shape))
        return layer.output_shape

    @property
    def input_shape(self):
        """(batch, *sample shape): None for the batch unless an Input fixed it, as in Keras."""
        if self.input_layer is not None:
            return self.input_layer.shape
        return self.layers[0].input_shape if self.layers else None

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.built else None

    def get_layer(self, name=None, index=None):
        """A layer by its name or by its position in model.layers (Keras's get_layer)."""
        if (name is None) == (index is None):
            raise ValueError("get_layer: give either name=... or index=..., not both or neither")
        if index is not None:
            index = check_int(index, "get_layer(index=...)")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer(index={index}): the model has {len(self.layers)} "
                                 f"layers")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        if name in self.taken_apart:
            raise ValueError(f"get_layer: model {name!r} was added inside this one and taken "
                             f"apart into its layers {self.taken_apart[name]} (Keras keeps it "
                             f"as one layer); get_layer one of those, or use the model itself")
        raise ValueError(f"get_layer: no layer named {name!r}; the layers are "
                         f"{[layer.name for layer in self.layers]}")

    # -- freezing and the weight lists -------------------------------------------------------

    @property
    def trainable(self):
        """The model's own flag, as in Keras 3. Setting it sets every layer's trainable too;
        while it is False nothing in the model trains, even a layer unfrozen afterwards
        (model.trainable = False; model.layers[-1].trainable = True trains nothing, and
        Keras's fit warns that there is nothing to train). Freezing every layer one by one
        leaves it True."""
        return self.trainable_flag

    @trainable.setter
    def trainable(self, value):
        self.trainable_flag = check_bool(value, "model.trainable")
        for layer in self.layers:
            layer.trainable = self.trainable_flag
        for inner in self.inner_models:  # as Keras sets every model inside this one
            if any(layer in self.layers for layer in inner.layers):  # (not popped since)
                inner.trainable_flag = self.trainable_flag
        self.parameters_changed()  # even if no layer's flag changed

    def trains(self, layer):
        """Whether fit updates this layer's weights: the layer and the model are trainable."""
        return self.trainable_flag and layer.trainable

    @property
    def weights(self):
        """Every weight, layer by layer in Keras's order: Variables (views with Keras's
        assign, numpy, name and path, 'sequential/dense/kernel'; see tinynet.variables)."""
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_params(self):
        """The old name of trainable_weights, kept so that existing code still runs."""
        return self.trainable_weights

    @property
    def trainable_weights(self):
        """The weights fit updates (none while model.trainable is False)."""
        return [w for w in self.weights if w.trainable] if self.trainable_flag else []

    @property
    def non_trainable_weights(self):
        """The other weights: frozen layers', moving statistics, all of them while
        model.trainable is False."""
        return [w for w in self.weights if not (w.trainable and self.trainable_flag)]

    # Keras 3's other names for the same lists (custom loops write
    # zip(grads, model.trainable_variables))
    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def losses(self):
        """The regularizers' penalties in Keras's order of model.losses: the activity
        regularizers' on the last forward pass (see activity_losses), then the weight
        regularizers', one float per regularized trainable weight, layer by layer.
        sum(model.losses) is what training adds to the loss (model.regularization_loss())."""
        return self.activity_losses() + [loss for layer in self.layers for loss in layer.losses]

    # -- the flat parameter vector -----------------------------------------------------------

    def parameters_changed(self):
        """After compile, a change of layers (add, pop, build) rebuilds the parameter vector.
        If the layers cannot share one (two float types), the model is not compiled any more:
        the error says why, and compile works again once the layers are fixed."""
        if self.compiled and self.built:
            try:
                self.bind_parameters()
            except (TypeError, ValueError):
                self.compiled = False
                raise

    def bind_parameters(self):
        """Copy every trainable weight into one flat vector and give each layer a view of its
        part, so that one vectorized optimizer step updates them all. Checked first, so that
        a refusal changes nothing."""
        keys = [(layer, key) for layer in self.layers if self.trains(layer)
                for key in layer.weight_keys() if key in layer.params]
        arrays = [layer.params[key] for layer, key in keys]
        dtypes = {layer.dtype for layer in self.layers}
        if len(dtypes) > 1:
            raise ValueError(f"Sequential '{self.name}': every layer must use the same dtype "
                             f"to be trained together, got {sorted(dtypes)}; build all layers "
                             f"after one set_floatx(...), or give each the same dtype=")
        dtype = self.layers[0].dtype
        check_weight_arrays(keys, arrays, dtype)
        old_segments, old_keys = getattr(self, "segments", {}), self.trainable_keys or []
        self.trainable_keys = keys
        # the weights with a constraint, fixed here as Keras fixes a variable's constraint
        # when the weight is made (setting layer.kernel_constraint later changes nothing)
        self.constrained_keys = [(layer, key) for layer, key in keys if key in layer.constraints]
        self.bound_trainable = [layer.trainable for layer in self.layers]
        Sequential.vectors_made += 1  # by any model: see sync_parameters
        self.vectors_seen = Sequential.vectors_made
        flat = np.concatenate([a.reshape(-1) for a in arrays]) if arrays else np.zeros(0, dtype)
        self.parameters, self.gradients = flat, np.zeros_like(flat)
        self.views, self.segments, start = [], {}, 0
        for (layer, key), array in zip(self.trainable_keys, arrays, strict=True):
            layer.params[key] = flat[start:start + array.size].reshape(array.shape)
            follow_moved_weight(layer, array, layer.params[key])
            self.views.append(layer.params[key])
            self.segments[(id(layer), key)] = slice(start, start + array.size)
            start += array.size
        self.weight_slices = list(self.segments.values())
        self.carry_optimizer_state(old_segments, old_keys)

    def carry_optimizer_state(self, old_segments, old_keys):
        """When the set of trainable weights changes (a layer frozen or unfrozen, a layer
        added or popped), each weight keeps its optimizer state (Adam's m and v), as in Keras,
        where each weight has its own: the weights that stay keep theirs, a frozen weight's
        state waits unchanged in `parked_slots` until it is unfrozen, and weights new to the
        optimizer start from its fresh state (zeros; Adagrad's initial accumulator). The state
        of a layer that leaves the model (pop) waits in the same way, for the same layer
        object to come back (greedy layer-wise pretraining pops the output layer and adds it
        back: in Keras it keeps its momentum). Parked state is kept with its layer object and
        given back only to that object (ids of freed layers are reused)."""
        state = self.optimizer.slots
        if not state or len(state) != 1:
            self.optimizer.reset()
            self.parked_slots = {}
            return
        parked = dict(self.parked_slots)
        for layer, key in old_keys:  # leaving the vector: frozen, or out of the model
            slot = (id(layer), key)
            if slot not in self.segments:
                parked[slot] = (layer, {name: old[old_segments[slot]].copy()
                                        for name, old in state[0].items()})
        carried = {}
        fresh = self.optimizer.create_slots(self.parameters)
        for name, old in state[0].items():
            new = fresh[name] if name in fresh else np.zeros_like(self.parameters)
            for (layer, _), (slot, part) in zip(self.trainable_keys, self.segments.items(),
                                                strict=True):
                if slot in old_segments:
                    new[part] = old[old_segments[slot]]
                elif slot in parked and parked[slot][0] is layer:  # unfrozen: its old state
                    new[part] = parked[slot][1][name]
            carried[name] = new
        self.parked_slots = {slot: held for slot, held in parked.items()
                             if slot not in self.segments}
        self.optimizer.slots, self.optimizer.slot_params = [carried], [self.parameters]

    def sync_parameters(self):
        """Before every forward pass (forward calls it): a layer frozen or unfrozen since the
        last step changes what the optimizer updates (as in Keras 3, without compiling
        again), and so does another model that shares layers with this one (a model inside
        a model) and has taken their weights into its own vector since. Nothing to do for a
        model that is not compiled and built yet."""
        # bound_trainable: each layer's trainable when the vector was made (None before that)
        if self.bound_trainable is not None and (
                self.bound_trainable != [layer.trainable for layer in self.layers]
                or (self.vectors_seen != Sequential.vectors_made and self.weights_moved())):
            self.bind_parameters()

    def weights_moved(self):
        """Has a weight of this model's vector been replaced (by another model that made a
        vector of its own from a shared layer)? Asked once after each new vector, by any
        model: the answer holds until the next one."""
        self.vectors_seen = Sequential.vectors_made
        return any(layer.params[key] is not view
                   for (layer, key), view in zip(self.trainable_keys, self.views, strict=True))

    def gather_gradients(self):
        """Every trainable weight's gradient, copied into one flat vector (P,) in the order of
        `parameters` (P trainable numbers). Read fresh at every step, so a layer may assign
        new gradient arrays. The vector is reused at every step: copy it to keep it."""
        check_gradients(self.trainable_keys, self.views)
        grads = [layer.grads[key] for layer, key in self.trainable_keys]
        # axis=None: each gradient is flattened into its place in the vector
        return np.concatenate(grads, axis=None, out=self.gradients) if grads else self.gradients

    def optimizer_state(self):
        """The optimizer's state per trainable weight: {slot name: [one array per weight, in
        model order]} (Adam: 'm' and 'v'), the layout Keras saves."""
        self.sync_parameters()
        if not self.optimizer.slots:
            self.optimizer.start_slots([self.parameters])
        flat = self.optimizer.slots[0]
        return {name: [flat[name][self.segments[(id(layer), key)]].reshape(view.shape).copy()
                       for (layer, key), view in zip(self.trainable_keys, self.views,
                                                     strict=True)]
                for name in flat}

    def set_optimizer_state(self, iterations, state):
        """Load what optimizer_state() gives (from a saved file): the step count and, per slot
        name, one array per trainable weight."""
        self.sync_parameters()
        dtype = self.parameters.dtype
        # one empty array joined too: with every layer frozen there is no weight to join
        flat = {name: np.concatenate([np.asarray(a, dtype=dtype).reshape(-1) for a in arrays]
                                     + [np.zeros(0, dtype)]) for name, arrays in state.items()}
        if any(value.shape != self.parameters.shape for value in flat.values()):
            raise ValueError(f"set_optimizer_state: the arrays hold "
                             f"{[v.size for v in flat.values()]} values, the model has "
                             f"{self.parameters.size} trainable ones")
        self.optimizer.slots, self.optimizer.slot_params = [flat], [self.parameters]
        self.optimizer.iterations = int(iterations)

    def get_optimizer_variables(self):
        """[iterations, learning_rate, slots...] in Keras 3's order (what a .keras file
        stores under optimizer/vars)."""
        from tinynet import saving

        return saving.optimizer_variables(self)

    def set_optimizer_variables(self, variables):
        from tinynet import saving

        saving.restore_optimizer(self, list(variables))

    # -- the two passes over the whole stack ------------------------------------------------

    def forward(self, x, training=False):
        """Run every layer in order. training=True uses batch statistics and dropout; False or
        None (Keras's default outside fit) is inference mode.
        Inputs: x, a NumPy array (N, ...) of the model's float type (model(x) converts lists
        first). Returns: the last layer's output.
        Raises TypeError for x that is not an array or training that is not a bool, and
        ValueError for a model without layers."""
        # one cheap test per step; the exact complaint is worked out only when it fails
        if not (isinstance(x, np.ndarray) and self.layers
                and (training is None or isinstance(training, BOOLS))):
            raise forward_argument_error(self, x, training)
        self.sync_parameters()  # a layer frozen or unfrozen since the last step: see there
        # what each layer saw and gave (references, not copies): for model.trace, and for
        # the activity regularizers, which penalize a layer's output
        self.layer_inputs, self.layer_outputs = [], []
        for layer in self.layers:
            self.layer_inputs.append(x)
            x = layer.forward(x, training=training)
            self.layer_outputs.append(x)
        return x

    def backward(self, grad_output, input_grad=True):
        """Chain rule over the stack, last layer first: from dL/d(output) to dL/d(input).
        Inputs: dL/dy_pred, the shape of the model's output (N, ...). Returns: dL/dx, the
        shape of x. Each layer sets its grads; the old ones are cleared first, so a layer that
        forgets to set one is caught at the next update instead of training on a stale
        gradient.

        input_grad=False lets a first Dense or Conv2D layer skip dL/dx (then it returns None):
        training never uses the gradient with respect to the data, and for a first Dense layer
        on 784 pixels it costs as much as the kernel's gradient. The first layer's
        needs_input_grad is set for this pass only and put back after it.
        Raises TypeError for an input_grad that is not a bool (a string such as 'no' would
        count as True)."""
        if not isinstance(input_grad, BOOLS):
            raise TypeError(f"Sequential.backward(input_grad=...) must be True or False, got "
                            f"{input_grad!r}")
        if len(self.layer_inputs) != len(self.layers):
            raise RuntimeError("Sequential.backward was called before forward (or after layers "
                               "were added or removed): call model.forward(x, training=True) "
                               "first")
        first, was = self.layers[0], self.layers[0].needs_input_grad
        first.needs_input_grad = input_grad
        self.layer_grad_inputs = []  # dL/d(each layer's input), first layer first: for trace
        try:
            for layer, output in zip(reversed(self.layers), reversed(self.layer_outputs),
                                     strict=True):
                layer.grads.clear()
                if layer.activity_regularizer is not None:  # a penalty on its output: its
                    grad_output = grad_output + layer.activity_gradient(output)  # share of dL
                grad_output = layer.backward(grad_output)
                self.layer_grad_inputs.insert(0, grad_output)
        except (KeyError, TypeError, ValueError) as error:  # a layer of one's own, often
            clearer = backward_error(self, layer, error)
            if clearer is None:
                raise
            raise clearer from error
        finally:  # a layer called by hand afterwards returns its dL/dx again
            first.needs_input_grad = was
        return grad_output

    def __call__(self, x, training=False):
        if isinstance(x, (InputLayer, SymbolicTensor)):  # model(keras.Input(shape=...))
            return self.symbolic_call(x)
        x = self.check_x(x, "model(x)", batch_size=math.inf)
        # an array that also answers .numpy(), as Keras's tensors do (tinynet.tensors)
        return as_tensor(self.forward(x, training=training))

    def symbolic_call(self, x):
        """model(Input(shape=...)): the output's shape only, as for a layer (see
        tinynet.layers.symbolic): the model is built for x's samples; returns a
        SymbolicTensor (batch axis kept from x)."""
        if not self.layers:
            raise ValueError("model(x): this Sequential model has no layers; add some first")
        if not self.built:
            self.build((None, *x.shape[1:]))
        if tuple(x.shape[1:]) != tuple(self.input_shape[1:]):
            raise ValueError(f"model(x): the model takes samples of shape "
                             f"{tuple(self.input_shape[1:])}, got an Input of shape "
                             f"{tuple(x.shape[1:])}")
        return SymbolicTensor((x.shape[0], *self.output_shape[1:]), self.layers[-1].dtype)

    # -- compile and the training step -------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, **keras_only):
        """Choose the optimizer, the loss and the metrics: compile(optimizer=Adam(),
        loss='binary_crossentropy', metrics=['accuracy']). Without an optimizer, RMSprop with
        its defaults, as in Keras 3. As in Keras, `metrics` ignore sample weights (and
        class_weight); `weighted_metrics` use them. A weighted metric whose name an unweighted
        one already has is logged as 'weighted_' + its name ('weighted_accuracy')."""
        # loss_weights (for models with several outputs) sits third, as in Keras's signature
        check_keras_only({"loss_weights": loss_weights, **keras_only}, "compile", self.compile)
        if not self.layers:
            raise ValueError("compile: this Sequential model has no layers; add some first")
        if loss is None:
            raise ValueError("compile: loss is required, e.g. loss='binary_crossentropy'")
        optimizer = optimizers.get(optimizer)
        claim_optimizer(optimizer, self)
        continuing = optimizer_continues(optimizer, self)
        self.optimizer = optimizer
        self.loss = losses.get(loss)
        if self.loss.reduction == "none":  # Keras's fit fails on it too, at its first step
            raise ValueError(f"compile: the loss {type(self.loss).__name__} has "
                             f"reduction='none', which gives one loss per sample, not the one "
                             f"number that training minimizes and evaluate reports; use the "
                             f"default reduction='sum_over_batch_size' (reduction='none' is "
                             f"for calling the loss by hand)")
        self.metrics, self.weighted_metrics = own_metrics(
            [metric_functions.get(m) for m in check_metrics(metrics, "metrics")],
            [metric_functions.get(m) for m in check_metrics(weighted_metrics,
                                                             "weighted_metrics")])
        # every metric, and whether it takes the sample weights, in the order of the logs
        self.metric_weighting = [(metric, False) for metric in self.metrics] + \
            [(metric, True) for metric in self.weighted_metrics]
        self.log_names = log_names(self.metrics, self.weighted_metrics)  # as Keras names them
        self.compiled = True
        if not continuing:  # another optimizer: its state starts afresh
            self.segments, self.parked_slots = {}, {}
        warn_about_output_and_loss(self)
        warn_about_layers_inside_layers(self)
        self.parameters_changed()  # not compiled after all if the layers cannot train together

    @property
    def metrics_names(self):
        """['loss', 'accuracy', ...]: the name of each value in the logs, in the order
        evaluate returns them (unless two metrics share a name: see format_results); [] before
        compile, as in Keras."""
        return ["loss", *self.log_names] if self.compiled else []

    def train_step(self, x, y, sample_weight=None):
        """One gradient step on one batch. Returns the batch's loss (measured on the forward
        pass before the update, as Keras reports it) and the predictions y_pred."""
        # forward
        y_pred = self.forward(x, training=True)
        # loss and dL/dy_pred (the loss reported includes the regularizers' penalties, as in
        # Keras; each layer adds their gradients in its backward)
        loss, grad_output = self.loss.loss_and_gradient(y, y_pred, sample_weight)
        loss += self.regularization_loss()
        # backward (the first layer skips dL/d(data), which training never uses, unless
        # model.trace asked for it)
        self.backward(grad_output, input_grad=self.trace_next_step)
        # update (none if every weight is frozen: Keras's optimizer then counts no step),
        # then the weights' constraints, if any (kernel_constraint=MaxNorm(3))
        if self.trainable_keys:
            self.optimizer.apply(self.parameters, self.gather_gradients(), self.weight_slices)
            self.apply_constraints()
        if self.trace_next_step:
            self.keep_trace(y_pred)
        return loss, y_pred

    def apply_constraints(self):
        """Project each trainable weight that has a constraint back into the set it allows,
        in place, right after the optimizer's update, as Keras's optimizer does (see
        tinynet.constraints). A frozen weight is not updated, so it is left alone too."""
        for layer, key in self.constrained_keys:
            layer.params[key][...] = layer.constrained(key)

    def regularization_loss(self):
        """The penalties Keras adds to the loss: the weight regularizers' (kernel_regularizer=
        ...) and the activity regularizers' on each layer's output in the last forward pass
        (activity_regularizer=..., divided by the batch size). A float."""
        weights = sum(layer.regularization_loss() for layer in self.layers if layer.regularizers)
        return weights + sum(self.activity_losses())

    def activity_losses(self):
        """Each activity regularizer's penalty on its layer's output in the last forward pass
        (activity_regularizer=...), divided by the batch size: a list of floats, in model
        order; empty before the first forward pass."""
        # no strict zip: both lists are emptied when layers are added or removed (forget_passes)
        return [layer.activity_loss(output) for layer, output in
                zip(self.layers, self.layer_outputs, strict=False)
                if layer.activity_regularizer is not None]

    def keep_trace(self, y_pred):
        """What the Recorder reads: each layer's input, output and dL/d(input) of this step."""
        self.trace = {"inputs": self.layer_inputs,
                      "outputs": self.layer_outputs,
                      "grad_inputs": self.layer_grad_inputs}
        self.trace_next_step = False

    # -- running means of the loss and the metrics over an epoch ----------------------------

    def reset_metrics(self):
        self.loss_sum, self.loss_count = 0.0, 0
        for metric, _ in getattr(self, "metric_weighting", []):  # none before compile
            metric.reset_state()

    def update_metrics(self, loss, y, y_pred, sample_weight=None):
        """Add one batch; return the logs so far: the loss averaged over the batches weighted
        by their size, and each metric accumulated over every sample seen (as Keras, whose
        `metrics` ignore sample weights; only its `weighted_metrics` use them)."""
        self.loss_sum += loss * len(y_pred)
        self.loss_count += len(y_pred)
        # each number as a float32 reads, as in Keras's logs (its metrics are float32): History
        # then holds 0.5199999809265137 for 0.52, and the progress bar rounds as Keras's does
        logs = {"loss": float(np.float32(self.loss_sum / self.loss_count))}
        for (metric, weighted), name in zip(self.metric_weighting, self.log_names, strict=True):
            weights = (sample_weight,) if weighted else ()  # as Keras calls each kind
            metric.update_state(y, y_pred, *weights)
            result = metric.result()  # a number, or one per threshold (thresholds=[...])
            logs[name] = result.copy() if getattr(result, "ndim", 0) else float(np.float32(result))
        return logs

    # -- checking what users pass in ---------------------------------------------------------

    def check_x(self, x, where, batch_size=None):
        """Convert x to the model's float type and check its shape against the model."""
        if not self.layers:
            raise ValueError(f"{where}: this Sequential model has no layers; add some first")
        return self.check_x_shape(to_model_array(self, x, where), where, batch_size)

    def check_x_shape(self, x, where, batch_size=None):
        """x, already an array of the model's float type, checked against the model's input
        shape. An unbuilt model is built for it, as Keras 3 builds it, for the first batch
        x is cut into: (min(batch_size, N), *sample shape), so that summary() shows that
        batch size as Keras's does (math.inf: x is one batch; None: the batch size stays
        None). As Keras 3 does, samples that lack only a last axis of length 1 get it
        (images (N, 28, 28) for Input(shape=(28, 28, 1))), and samples with one more such
        axis lose it."""
        if not self.built:
            first = None if batch_size is None else min(batch_size, len(x))
            self.build((first, *x.shape[1:]))
        expected = tuple(self.input_shape[1:])
        if x.shape[1:] + (1,) == expected or x.shape[1:] == expected + (1,):
            x = x.reshape(len(x), *expected)
        if tuple(x.shape[1:]) != expected:
            described, fix = sample_shape_hint(x.shape, expected)
            raise ValueError(f"{where}: the model expects samples of shape {expected}"
                             f"{described}, got x of shape {x.shape}{fix}")
        return x

    def check_xy(self, x, y, where, sample_weight=None, batch_size=None):
        """x, y (and sample_weight) converted and checked, all before the model is built
        (batch_size: see check_x_shape)."""
        xa = to_model_array(self, x, where)
        ya = to_float_array(y, f"{where}: y", dtype=xa.dtype)
        if len(xa) != len(ya):
            raise ValueError(f"{where}: x and y must have the same number of samples, got "
                             f"{len(xa)} and {len(ya)}" + transposed_hint(xa, ya))
        weights = check_sample_weight(sample_weight, len(xa), where)
        xa = self.check_x_shape(xa, where, batch_size)
        self.loss.check_targets(ya, self.output_shape, where)
        weights = shape_sample_weight(weights, self.output_shape, where)
        self.decide_accuracy(ya.shape)
        return xa, self.shape_targets(ya), weights

    def decide_accuracy(self, y_shape):
        """metrics=['accuracy'] means the accuracy Keras 3 picks for targets of y_shape and
        this model's outputs (metrics.AccuracyByShape): decided once, with the first data."""
        for metric, _ in self.metric_weighting:
            if isinstance(metric, metric_functions.AccuracyByShape):
                metric.settle(y_shape, self.output_shape)

    def shape_targets(self, y):
        if isinstance(self.loss, losses.SparseCategoricalCrossentropy):  # a label per row
            return y.reshape(len(y), *self.output_shape[1:-1]).astype(np.int64)
        expected = self.output_shape[1:]
        if y.shape[1:] != expected and y.size == len(y) * math.prod(expected):
            return y.reshape(len(y), *expected)  # (n,) -> (n, 1): the same for BCE
        return y

    def check_compiled(self, where):
        if not self.layers:
            raise ValueError(f"{where}: this Sequential model has no layers; add some with "
                             f"Sequential([...]) or model.add(layer), then compile")
        if not self.compiled:
            raise RuntimeError(f"{where}: compile the model first, e.g. model.compile("
                               f"optimizer='adam', loss='binary_crossentropy', "
                               f"metrics=['accuracy'])")

    # -- fit / evaluate / predict ------------------------------------------------------------

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, **keras_only):
        """Train for epochs `initial_epoch` .. `epochs - 1` over (x, y) in batches; return a
        History. Arguments, defaults and behaviour are Keras 3's:

        The epoch's loss is the mean over its batches weighted by batch size, each measured
        before that batch's update; metrics accumulate over the epoch. validation_split
        holds out the LAST fraction of the data (before shuffling); shuffle reorders the
        rest at every epoch. sample_weight (n,) weighs each sample's loss (its held-out part
        weighs val_loss), and for outputs per pixel (n, H, W, K) sample_weight (n, H, W)
        weighs each pixel's (see model_checks.shape_sample_weight); class_weight {class:
        weight} does the same by class, for the training data only. The validation pass
        calls the callbacks' on_test_* hooks, as evaluate does. batch_size=None means 32.
        steps_per_epoch (a fixed number of batches per epoch), validation_steps and
        validation_batch_size are Keras's: accepted at None (their default), refused
        otherwise (tinynet goes through every sample in each epoch); they
        sit where Keras's signature has them, so a positional argument means what it means
        in Keras.
        """
        check_keras_only({"steps_per_epoch": steps_per_epoch, "validation_steps":
                          validation_steps, "validation_batch_size": validation_batch_size,
                          **keras_only}, "fit", self.fit)
        plan = check_fit_arguments(self, x, y, batch_size, epochs, verbose, validation_split,
                                   validation_data, shuffle, class_weight, sample_weight,
                                   initial_epoch, validation_freq)
        warn_if_nothing_to_train(self, "fit")
        callbacks = CallbackList(check_callbacks(callbacks, "fit"), add_history=True,
                                 add_progbar=plan.verbose > 0, model=self,
                                 # history.params keeps verbose as given ('auto', False)
                                 # as Keras's does
                                 verbose=verbose,
                                 epochs=plan.epochs, steps=plan.steps)
        self.stop_training = False
        logs = {}
        callbacks.on_train_begin()
        if getattr(self, "_initial_epoch", None) is not None:  # BackupAndRestore resumed
            plan.initial_epoch = self._initial_epoch
        for epoch in range(plan.initial_epoch, plan.epochs):
            callbacks.on_epoch_begin(epoch)
            # weights that blow up overflow inside NumPy; the non-finite loss that follows is
            # reported with a hint (stop_diverged), so NumPy's warnings would only be noise
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                logs = self.train_epoch(plan, epoch, callbacks)
            if plan.validation is not None and plan.validates_after(epoch) \
                    and not self.history.diverged:
                logs.update(self.validate(plan, callbacks))
            callbacks.on_epoch_end(epoch, logs)
            if self.history.diverged:  # after the progress line, so the two do not mix
                announce(self.history.stop_message, plan.verbose)
            if self.stop_training:
                break
        callbacks.on_train_end(logs)
        return self.history

    def train_epoch(self, plan, epoch, callbacks):
        """One pass over the training data in batches; returns the epoch's logs."""
        self.reset_metrics()
        for step, (x, y, weights) in enumerate(plan.batches()):
            callbacks.on_train_batch_begin(step)
            loss, y_pred = self.train_step(x, y, weights)
            logs = self.update_metrics(loss, y, y_pred, weights)
            callbacks.on_train_batch_end(step, logs)
            if not math.isfinite(loss):  # the weights blew up: stop, and say what to try
                self.stop_diverged(loss, epoch, step, plan.steps)
            if self.stop_training:
                break
        return logs

    def validate(self, plan, callbacks):
        """The validation pass at the end of an epoch: evaluate's loop on the data checked
        once before training, with fit's callbacks (so their on_test_* hooks run, as in
        Keras). Returns the logs with 'val_' before each name."""
        x_val, y_val, w_val = plan.validation
        logs = self.test_loop(x_val, y_val, w_val, plan.batch_size, callbacks)
        return {"val_" + key: value for key, value in logs.items()}

    def stop_diverged(self, loss, epoch, step, steps):
        """Called by train_epoch after a NaN or infinite batch loss: stop fit and say where
        and what to try. The history so far stays in the History that fit returns
        (history.diverged is True)."""
        self.history.diverged = True
        self.history.stop_message = (
            f"Training stopped at epoch {epoch + 1}, step {step + 1}/{steps}: the loss became "
            f"{format_number(loss)}. The weights have blown up. Try a smaller learning rate "
            f"(now {self.optimizer.current_learning_rate():g}), check that the inputs are "
            f"standardized (mean 0, std 1) and free of extreme values, or add "
            f"BatchNormalization. The history up to this epoch is kept in the History that fit "
            f"returns."
        )
        self.stop_training = True

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on (x, y); returns [loss, *metrics] (or just the loss) of this
        batch, measured before the update."""
        self.check_compiled("train_on_batch")
        x, y, weights = self.check_xy(x, y, "train_on_batch", sample_weight, math.inf)
        weights = apply_class_weight(y, weights, class_weight, "train_on_batch")
        warn_one_sample_batch(self, len(x), "train_on_batch", stacklevel=3)
        warn_if_nothing_to_train(self, "train_on_batch")
        self.reset_metrics()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss, y_pred = self.train_step(x, y, weights)
        logs = self.update_metrics(loss, y, y_pred, weights)
        if not math.isfinite(loss):
            warnings.warn(f"train_on_batch: the loss became {format_number(loss)}; the weights "
                          f"have blown up. Try a smaller learning rate (now "
                          f"{self.optimizer.current_learning_rate():g}) or check the inputs.",
                          RuntimeWarning, stacklevel=2)
        return format_results(self, logs, return_dict)

    def build_optimizer(self):
        """Give the optimizer its state (zeros: Adam's m and v) before the first step, as
        Keras builds its optimizer in fit, evaluate, train_on_batch and test_on_batch (not in
        predict): summary() then counts it, and load_weights restores a saved optimizer state
        into it."""
        from tinynet import saving  # saving imports this module

        saving.build_optimizer(self)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        """Loss and metrics of one batch in inference mode (nothing is updated)."""
        return self.evaluate(x, y, batch_size=len(np.asarray(x)) or 1, verbose=0,
                             sample_weight=sample_weight, return_dict=return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch in inference mode."""
        return self.forward(self.check_x(x, "predict_on_batch", math.inf), training=False)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **keras_only):
        """Loss and metrics in inference mode: returns [loss, *metrics] (or just the loss), or
        a dict with return_dict=True. The loss is the mean over batches weighted by batch
        size, the metrics accumulate over all samples, as in Keras. steps (Keras's, for
        datasets) is accepted at None only."""
        check_keras_only({"steps": steps, **keras_only}, "evaluate", self.evaluate)
        self.check_compiled("evaluate")
        batch_size = check_batch_size(batch_size, "evaluate")
        x, y, weights = self.check_xy(x, y, "evaluate", sample_weight, batch_size)
        self.build_optimizer()
        verbose = check_verbose(verbose, "evaluate")
        steps = math.ceil(len(x) / batch_size)
        callbacks = CallbackList(check_callbacks(callbacks, "evaluate"), add_progbar=verbose > 0,
                                 model=self, verbose=verbose, epochs=1, steps=steps)
        return format_results(self, self.test_loop(x, y, weights, batch_size, callbacks),
                              return_dict)

    def test_loop(self, x, y, weights, batch_size, callbacks):
        """evaluate's loop over checked arrays x (N, ...), y and weights (N,) or None, in
        batches, calling the callbacks' on_test_* hooks; fit's validation runs it too. Returns
        the logs: the loss and each metric over all N samples."""
        callbacks.on_test_begin()
        self.reset_metrics()
        logs = {}
        for step, start in enumerate(range(0, len(x), batch_size)):
            callbacks.on_test_batch_begin(step)
            part = slice(start, start + batch_size)
            wb = None if weights is None else weights[part]
            y_pred = self.forward(x[part], training=False)
            loss = self.loss.loss(y[part], y_pred, wb) + self.regularization_loss()
            logs = self.update_metrics(loss, y[part], y_pred, wb)
            callbacks.on_test_batch_end(step, logs)
        callbacks.on_test_end(logs)
        return logs

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None,
                **keras_only):
        """Outputs for x in inference mode (BN's moving statistics, no dropout), so a
        sample's prediction never depends on the other samples; the batches only bound the
        memory used. steps (Keras's, for datasets) is accepted at None only."""
        check_keras_only({"steps": steps, **keras_only}, "predict", self.predict)
        batch_size = check_batch_size(batch_size, "predict")
        x = self.check_x(x, "predict", batch_size)
        verbose = check_verbose(verbose, "predict")
        steps = math.ceil(len(x) / batch_size)
        callbacks = CallbackList(check_callbacks(callbacks, "predict"), add_progbar=verbose > 0,
                                 model=self, verbose=verbose, epochs=1, steps=steps)
        callbacks.on_predict_begin()
        outputs = []
        for step, start in enumerate(range(0, len(x), batch_size)):
            callbacks.on_predict_batch_begin(step)
            outputs.append(self.forward(x[start:start + batch_size], training=False))
            callbacks.on_predict_batch_end(step, {"outputs": outputs[-1]})
        callbacks.on_predict_end()
        return np.concatenate(outputs, axis=0)

    # -- weights -------------------------------------------------------------------------

    def get_weights(self):
        """Every layer's weights in order (Dense: kernel, bias; BN: gamma, beta, moving_mean,
        moving_variance): the same list as Keras's model.get_weights()."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights):
        """Load a list like get_weights() returns (from tinynet or Keras). Checks every shape
        first, so either every weight changes or none does."""
        if not self.built:
            raise ValueError("set_weights: the model is not built yet; give the first layer "
                             "an input_shape or call the model on data first")
        if not isinstance(weights, (list, tuple)):
            raise TypeError(f"set_weights: expected a list of arrays, got "
                            f"{type(weights).__name__}")
        expected = [(layer, key) for layer in self.layers for key in layer.weight_keys()]
        if len(weights) != len(expected):
            raise ValueError(f"set_weights: this model has {len(expected)} weight arrays, got "
                             f"{len(weights)}")
        arrays = []  # each layer's part of the list, checked as layer.set_weights checks it
        for layer in self.layers:
            keys = layer.weight_keys()
            part, weights = weights[:len(keys)], weights[len(keys):]
            arrays += check_weight_list(part, keys, [layer.weight(key) for key in keys],
                                        f"set_weights: layer '{layer.name}'")
        # every array has passed its checks: only now is anything written
        for (layer, key), array in zip(expected, arrays, strict=True):
            layer.weight(key)[...] = array

    def architecture(self):
        """A description of the layers and weight shapes, stored with saved weights so that
        load_weights can refuse a file from a different model."""
        return [f"{type(layer).__name__}:{key}:{layer.weight(key).shape}"
                for layer in self.layers for key in layer.weight_keys()]

    def save_weights(self, filepath=None, overwrite=True, max_shard_size=None, *, path=None):
        """Save every weight. A name ending in '.weights.h5' writes Keras's own layout (needs
        h5py: pip install "tinynet[keras]"), so Keras's model.load_weights reads it; a name
        ending in '.npz' writes tinynet's own archive, which also holds the weights of layers
        of your own; any other name is refused, as Keras refuses it. Either way the file is
        written atomically: a temporary file next to `filepath`, flushed to disk, then renamed
        over it, so a save that fails half-way leaves the previous file intact.

        overwrite=False refuses to replace an existing file (FileExistsError; Keras would
        ask); max_shard_size is Keras's (it splits big models), and must stay None."""
        from tinynet import saving

        if not self.built:
            raise ValueError("save_weights: the model is not built yet, it has no weights")
        path = check_path(file_argument(filepath, path, "save_weights"), "save_weights")
        if saving.check_save_weights(path, overwrite, max_shard_size) == ".weights.h5":
            return saving.save_weights_h5(self, path)
        arrays = {f"weight_{i:04d}": w for i, w in enumerate(self.get_weights())}
        arrays["architecture"] = np.array(self.architecture())
        write_atomically(path, lambda file: np.savez(file, **arrays), "save_weights",
                         example_name="model.weights.npz")

    def load_weights(self, filepath=None, skip_mismatch=False, *, path=None):
        """Load weights saved by save_weights (.npz, or Keras's .weights.h5), or the weights
        of a whole model's .keras file (as Keras 3 does). Refuses a missing, corrupt or
        foreign file and a file saved from a different architecture; either loads
        everything or changes nothing. A Keras file's optimizer state is loaded as Keras
        loads it: only into an optimizer that is built, that is, has taken a step (else
        Keras's warning 'Skipping variable loading for optimizer ...').

        skip_mismatch=True (Keras's, for .weights.h5 and .keras files): layers whose weights
        do not fit keep their own, with a warning; the others are loaded."""
        from tinynet import saving

        if not self.built:
            raise ValueError("load_weights: build the model first (give the first layer an "
                             "input_shape), so there are weights to load into")
        path = check_path(file_argument(filepath, path, "load_weights"), "load_weights")
        kind = saving.check_load_weights(path, skip_mismatch)
        if kind == ".weights.h5":
            return saving.load_weights_h5(self, path, skip_mismatch)
        if kind == ".keras":
            return saving.load_weights_keras(self, path, skip_mismatch)
        stored = read_weights_file(path)
        saved = [str(s) for s in stored["architecture"]]
        if saved != self.architecture():
            raise ValueError(f"load_weights: {path} holds weights for a different model.\n"
                             f"  file : {saved}\n  model: {self.architecture()}")
        self.set_weights([stored[f"weight_{i:04d}"] for i in range(len(saved))])

    # -- the whole model as a Keras file: configuration and saving ---------------------------

    def save(self, filepath=None, overwrite=True, zipped=None, *, path=None, **keras_only):
        """Save the whole model (architecture, weights, optimizer) in Keras 3's .keras format,
        which keras.models.load_model reads, or, for a name ending in .h5, in Keras's legacy
        HDF5 format (tinynet.legacy_h5, with a warning, as Keras warns). Needs h5py (pip
        install "tinynet[keras]"). Raises ValueError for a name that ends in neither.
        overwrite=False refuses to replace an existing
        file (FileExistsError; Keras would ask); zipped=False (Keras's unzipped folder) is
        refused."""
        from tinynet import saving

        filepath = file_argument(filepath, path, "save")
        return saving.save_model(self, check_path(filepath, "save"), overwrite, zipped,
                                 **keras_only)

    # Keras names for things of its functional API and serving that tinynet does not have.
    # They are properties that raise (not a __getattr__, which would slow down every
    # attribute lookup of the training step), so Keras code stops with a clear message.
    @property
    def inputs(self):
        raise AttributeError("Sequential has no inputs: Keras's model.inputs are symbolic "
                             "tensors of its functional API, which tinynet does not have. The "
                             "shape of the input is model.input_shape, e.g. (None, 20); the "
                             "data each layer saw last is in model.layer_inputs")

    @property
    def outputs(self):
        raise AttributeError("Sequential has no outputs: Keras's model.outputs are symbolic "
                             "tensors of its functional API, which tinynet does not have. The "
                             "shape of the output is model.output_shape; the values come from "
                             "model.predict(x) or model(x)")

    @property
    def input(self):
        raise AttributeError("Sequential has no input: Keras's model.input is a symbolic "
                             "tensor of its functional API, which tinynet does not have. The "
                             "shape of the input is model.input_shape, e.g. (None, 20). To see "
                             "what the first i + 1 layers compute (Keras's "
                             "Model(model.input, layer.output)), run a model made of them: "
                             "Sequential(model.layers[:i + 1]).predict(x), which shares their "
                             "weights")

    @property
    def output(self):
        raise AttributeError("Sequential has no output: Keras's model.output is a symbolic "
                             "tensor of its functional API, which tinynet does not have. The "
                             "shape of the output is model.output_shape; the values come from "
                             "model.predict(x) or model(x)")

    @property
    def predict_classes(self):
        raise AttributeError("Sequential has no predict_classes (old Keras had it; Keras 3 "
                             "does not): for one sigmoid output use "
                             "(model.predict(x) > 0.5).astype('int32'), for softmax outputs "
                             "np.argmax(model.predict(x), axis=-1)")

    @property
    def predict_proba(self):
        raise AttributeError("Sequential has no predict_proba (old Keras had it; Keras 3 "
                             "does not): model.predict(x) gives the probabilities of a "
                             "sigmoid or softmax output")

    @property
    def export(self):
        raise AttributeError("Sequential has no export: tinynet cannot export a model for "
                             "serving (TF SavedModel, ONNX). Save it with "
                             "model.save('model.keras'), which Keras 3 loads "
                             "(keras.models.load_model) and can export, or save the weights "
                             "alone with model.save_weights('model.weights.h5')")

    def get_config(self):
        """The model's configuration, as Keras writes it in a .keras file."""
        from tinynet import saving

        return saving.model_get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new model (new weights, uncompiled) from get_config()'s dict. custom_objects:
        {name: class} of the regularizers, initializers and constraints of your own that its
        layers use, as Keras's from_config takes them."""
        from tinynet import saving

        custom_objects = saving.check_custom_objects(custom_objects, "from_config")
        return saving.model_from_config(config, custom_objects=custom_objects)

    def to_json(self):
        from tinynet import saving

        return saving.model_to_json(self)

    # -- summary -------------------------------------------------------------------------

    def count_params(self):
        """Number of scalars in all weights, trainable or not. ValueError before the model is
        built (no input_shape, Input or build yet), as in Keras 3."""
        if not self.built:
            raise ValueError(f"{type(self).__name__} '{self.name}'.count_params: the model is "
                             f"not built yet, so its weights do not exist; give its first "
                             f"layer an input_shape (or start with Input(shape=...)), or call "
                             f"model.build((None, 20)) for inputs of 20 features")
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print one row per layer (name, type, output shape, parameters) and the totals.
        Before the model is built, as in Keras 3, the shapes read '?' and the counts
        '0 (unbuilt)', with a line that says how to build it. print_fn (default print) gets
        the text at once, ending in a newline, as Keras gives it; show_trainable=True adds
        Keras's 'Trainable' column (Y, N, or - for a layer without weights); line_length
        sets the table's width, as in Keras (by default from the terminal). expand_nested is
        accepted either way: a model inside this one was taken apart, so its layers are
        listed one by one already. positions and layer_range are Keras's too, accepted at
        their default None; other values raise a TypeError."""
        for name, value in (("positions", positions), ("layer_range", layer_range)):
            if value is not None:
                raise TypeError(f"summary({name}={value!r}): Keras's layout option {name} is "
                                f"not in tinynet; leave it out")
        if line_length is not None:
            line_length = check_int(line_length, "summary(line_length=...)", minimum=20)
        check_bool(expand_nested, "summary(expand_nested=...)")
        text = summary_text(self, check_bool(show_trainable, "summary(show_trainable=...)"),
                            line_length)
        if print_fn is None:  # Keras prints the text, which ends in a newline, as it is
            print(text, end="")
            print_fn = print
        else:  # Keras hands print_fn the whole text at once, its last newline included
            print_fn(text)
        if not self.layers:
            print_fn("The model has no layers yet: add some with model.add(layer).")
        elif not self.built:
            print_fn("The model is not built yet: give the first layer an input_shape, e.g. "
                     "Dense(64, input_shape=(20,)), or call fit or build.")


def load_model(filepath=None, custom_objects=None, compile=True, safe_mode=True, *, path=None):
    """A Sequential model from a .keras file written by tinynet's or Keras 3's model.save.
    compile=False loads the architecture and weights only. custom_objects={name: class}
    gives the layers, losses, metrics, regularizers, initializers, constraints and schedules
    of your own that the file names, as in Keras; safe_mode is Keras's and changes nothing."""
    from tinynet import saving

    filepath = file_argument(filepath, path, "load_model")
    return saving.load_model(check_path(filepath, "load_model"), custom_objects, compile,
                             safe_mode)


def save_model(model, filepath, overwrite=True, zipped=None, **keras_only):
    """Keras's keras.models.save_model(model, 'model.keras'): tinynet.saving.save_model, as
    keras.models.save_model is keras.saving.save_model."""
    from tinynet import saving

    return saving.save_model(model, check_path(filepath, "save_model"), overwrite, zipped,
                             **keras_only)


def model_from_json(text, custom_objects=None):
    """A Sequential model (new weights) from the JSON text of model.to_json(), compiled as
    the model was (its optimizer starts afresh), as in Keras 3."""
    from tinynet import saving

    return saving.model_from_json(text, custom_objects)


def clone_model(model, **keras_only):
    """A new Sequential with the same layers, built anew from their configuration: the same
    names, settings and trainable flags, but NEW weights, freshly initialized (as Keras's
    clone_model; to copy the weights too: clone.set_weights(model.get_weights())). A compiled
    model's clone is compiled the same way, with an optimizer of its own.

    Raises TypeError for a model that is not a Sequential or for Keras's other arguments
    (input_tensors, clone_function, ...), ValueError for a layer of your own whose
    get_config() does not give the arguments of its __init__ (see Layer.get_config)."""
    from tinynet import saving

    if keras_only:
        raise TypeError(f"clone_model({sorted(keras_only)[0]}=...) is a Keras argument that "
                        f"tinynet does not have; call clone_model(model)")
    if not isinstance(model, Sequential):
        raise TypeError(f"clone_model: expected a Sequential model, got "
                        f"{type(model).__name__}")
    clone = saving.model_from_config(model.get_config(), custom_objects=own_objects_of(model))
    # the model's own flag, as Keras's clone keeps it (a config holds only the layers')
    clone.trainable_flag = model.trainable_flag
    if not model.compiled:
        return clone
    compile_config = saving.get_compile_config(model)
    if compile_config is None:
        warnings.warn("clone_model: the clone is returned uncompiled, because tinynet cannot "
                      "name this model's optimizer, loss or metrics; call clone.compile(...) "
                      "yourself", UserWarning, stacklevel=2)
    else:  # a loss or metric of your own comes back from the model's own classes
        saving.compile_from_config(clone, compile_config, "clone_model",
                                   own_objects_of(model))  # warns if it fails
    return clone


def own_objects_of(model):
    """{class or function name: class or function} of the model's loss and metrics, and of
    its layers' regularizers, initializers and constraints, which clone_model gives
    model_from_config and compile_from_config as custom_objects: the clone's own are new
    objects of the same classes, with the same settings (get_config)."""
    objects = {type(rule).__name__: type(rule) for layer in model.layers
               for name, rule in vars(layer).items()
               if name.endswith(("_regularizer", "_initializer", "_constraint"))
               and rule is not None and not type(rule).__module__.startswith("tinynet.")}
    # and its layers of your own (made again from their get_config())
    objects.update({type(layer).__name__: type(layer) for layer in model.layers
                    if not type(layer).__module__.startswith("tinynet.")})
    if not model.compiled:
        return objects
    objects[type(model.loss).__name__] = type(model.loss)
    schedule = model.optimizer.schedule  # a learning-rate schedule of your own, if any
    if schedule is not None and not type(schedule).__module__.startswith("tinynet."):
        objects[type(schedule).__name__] = type(schedule)
    for metric, _ in model.metric_weighting:
        objects[type(metric).__name__] = type(metric)
        function = getattr(metric, "fn", None)
        if callable(function):
            objects[getattr(function, "__name__", "")] = function
    return objects


def follow_moved_weight(layer, old, new):
    """A layer of your own may keep a weight in an attribute too (self.w = self.params['w'],
    Keras's habit). bind_parameters moves the weight into the model's vector, so such an
    attribute would hold the old array, which training never changes: point it at the new
    one. Only an attribute of the layer itself that IS the array is followed (not one inside
    a list or dict, nor one held by another layer): reading self.params['w'] in forward is
    the plain way, and always right."""
    for name, value in vars(layer).items():
        if value is old:
            setattr(layer, name, new)


def file_argument(filepath, path, where):
    """The file a save or load names: filepath, Keras's name for the argument, or path, the
    name tinynet used before (still accepted); exactly one of the two."""
    if (filepath is None) == (path is None):
        example = "model.weights.h5" if "weights" in where else "model.keras"
        raise TypeError(f"{where}() needs the file as filepath (Keras's name), e.g. "
                        f"{where}('{example}')" + (", not both filepath and path"
                                                   if path is not None else ""))
    return path if filepath is None else filepath


def format_results(model, logs, return_dict):
    """Keras's return value: a dict (its names in alphabetical order, as Keras 3 gives them
    and as fit's history and progress bar list them), or a list, or the loss alone.

    The list is built as Keras 3.15 builds it (Trainer._flatten_metrics_in_order): the value
    logged under each metric's own name, loss first, then metrics and weighted_metrics in
    compile's order, then the logged names not met that way, alphabetically. Without two
    metrics of the same name, that is [loss, *metrics] in metrics_names' order; with them it
    follows Keras's quirk (metrics=['accuracy'], weighted_metrics=['accuracy'] give
    [loss, accuracy, accuracy, weighted_accuracy])."""
    if return_dict:
        return dict(sorted(logs.items()))
    names = ["loss", *(metric.name for metric, _ in model.metric_weighting)]
    values = [logs[name] for name in names if name in logs]
    values += [logs[name] for name in sorted(logs) if name not in names]
    return values if len(values) > 1 else values[0]


def announce(message, verbose):
    """A training failure is never silent: printed to stderr when fit prints, else a warning
    (which points at the user's call to fit)."""
    if verbose:
        print(message, file=sys.stderr)
    else:
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def format_number(value):
    """nan -> 'NaN', inf -> 'inf', -inf -> '-inf', as a student would write them."""
    return "NaN" if np.isnan(value) else f"{value:g}"


# -- a layer added to a model ------------------------------------------------------------


def check_new_layer(model, layer):
    if not isinstance(layer, Layer):
        raise TypeError(f"Sequential.add: expected a tinynet layer such as Dense(64), "
                        f"got {layer!r}")
    check_initialized(layer, "added to a model")
    if any(layer is other for other in model.layers):
        raise ValueError(f"Sequential.add: layer '{layer.name}' is already in this model")
    input_name = getattr(model.input_layer, "name", None)
    if layer.name_given and input_name == layer.name:
        raise ValueError(f"Sequential.add: the Input and a layer are both named "
                         f"'{layer.name}'; names must be unique in a model (Keras refuses a "
                         f"file with the two)")
    if layer.name_given and any(other.name == layer.name for other in model.layers):
        raise ValueError(f"Sequential.add: two layers named '{layer.name}'; names must be "
                         f"unique in a model")
    if (model.layers or model.input_layer) and layer.input_shape is not None \
            and not layer.built:
        raise ValueError(f"Sequential.add: only the first layer takes input_shape, but "
                         f"layer '{layer.name}' (number {len(model.layers) + 1}) has one")


# -- files -----------------------------------------------------------------------------------

def read_weights_file(path):
    """The arrays of a file written by save_weights, or an error that says why it is not one."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"load_weights: {path} is a folder, not a weights file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_weights: no such file: {path}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"load_weights: {path} is not a tinynet weights file: save_weights "
                         f"writes a .npz archive, and this file is not one (it is corrupt, "
                         f"truncated or of another format)")
    try:
        with np.load(path, allow_pickle=False) as data:
            stored = {key: data[key] for key in data.files}
    except Exception as err:  # a damaged archive, or one holding pickled Python objects
        raise ValueError(f"load_weights: {path} is damaged or holds something other than "
                         f"plain arrays ({type(err).__name__}), so save_weights did not "
                         f"write it") from None
    architecture = stored.get("architecture")
    if architecture is None or architecture.ndim != 1:
        raise ValueError(f"load_weights: {path} was not saved by tinynet's save_weights (it "
                         f"has no architecture record); its arrays: {sorted(stored)}")
    missing = [f"weight_{i:04d}" for i in range(len(architecture))
               if f"weight_{i:04d}" not in stored]
    if missing:
        raise ValueError(f"load_weights: {path} is incomplete: it describes "
                         f"{len(architecture)} weights but lacks {', '.join(missing)}")
    return stored


def __getattr__(name):
    """A keras.models name tinynet lacks (Model: the functional API) gets an error that says
    what to use instead, also in `from tinynet.models import Model`."""
    raise missing_attribute(
        "tinynet.models", name,
        ["Sequential", "load_model", "save_model", "model_from_json", "clone_model"],
        {"Model": "tinynet has Sequential models only (no functional API): "
                  "tinynet.models.Sequential"})
