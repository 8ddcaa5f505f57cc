"""Sequential: a stack of layers, trained with Keras's compile / fit / evaluate / predict.

The whole of training is one step repeated for every batch (`train_step`):

    y_pred = model.forward(x, training=True)                  # forward: each layer in turn
    loss, grad = model.loss.loss_and_gradient(y, y_pred)       # loss: how wrong, and dL/dy_pred
    model.backward(grad)                                       # backward: the chain rule
    optimizer.apply(model.parameters, model.gather_gradients())  # update: a step downhill

`model.parameters` is ONE flat vector holding every trainable weight; each layer's
`params[name]` is a view into it (see tinynet.layers.base), so the optimizer's formula runs
once per step over all weights. The gradients are gathered into a second flat vector at every
step, from each layer's `grads`, so a layer may simply assign its gradients.

Everything else here is bookkeeping: batching, averaging, callbacks, checks, saving.
"""

import inspect
import math
import os
import sys
import warnings
import weakref
import zipfile

import numpy as np

from tinynet import losses, optimizers
from tinynet import metrics as metric_functions
from tinynet.callbacks import Callback, CallbackList
from tinynet.config import floatx, get_rng
from tinynet.files import check_path, write_atomically
from tinynet.layers.base import Layer
from tinynet.layers.batchnorm import BatchNormalization
from tinynet.layers.input import InputLayer
from tinynet.validation import (
    check_bool,
    check_float,
    check_int,
    snake_case,
    to_float_array,
    unknown_argument_error,
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

    def __init__(self, layers=None, name="sequential", trainable=True):
        if not isinstance(name, str) or not name:
            raise TypeError(f"Sequential(name=...) must be a non-empty string, got {name!r}")
        self.name = name
        self.layers = []
        self.input_layer = None  # an Input(shape=...) given as the first item, if any
        self.built = False
        self.compiled = False
        self.stop_training = False
        self.history = None
        self.trace_next_step = False  # True: keep every activation of the next step
        self.trace = None
        self.parameters = None        # the flat vector of trainable weights (after compile)
        self.layer_inputs, self.layer_grad_inputs = [], []
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise TypeError(f"Sequential(layers=...) must be a list of layers, "
                                f"got {type(layers).__name__}")
            for layer in layers:
                self.add(layer)
        if not check_bool(trainable, "Sequential(trainable=...)"):
            self.trainable = False

    def __repr__(self):
        return f"Sequential(name={self.name!r}, layers={len(self.layers)})"

    # -- building ---------------------------------------------------------------------------

    def add(self, layer):
        """Append a layer, give it a Keras-style name if it has none, and build it if the
        shape of its input is already known. An Input(shape=...) may come first."""
        if isinstance(layer, InputLayer):
            return self.add_input(layer)
        check_new_layer(self, layer)
        if layer.name is None:
            layer.name = self.unique_name(snake_case(type(layer).__name__))
        self.layers.append(layer)
        try:
            if len(self.layers) == 1 and self.declared_input_shape() is not None:
                self.build(self.declared_input_shape())
            elif self.built:
                self.build_layer(layer, self.layers[-2].output_shape)
        except (ValueError, TypeError):
            self.layers.pop()  # a layer that cannot be built does not stay in the model
            raise
        self.parameters_changed()

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
        self.built = self.built and bool(self.layers)
        self.parameters_changed()
        return layer

    def unique_name(self, base):
        """'dense', then 'dense_1', 'dense_2', ... within this model."""
        taken = {layer.name for layer in self.layers}
        name, count = base, 0
        while name in taken:
            count += 1
            name = f"{base}_{count}"
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

    def declared_input_shape(self):
        if self.input_layer is not None:
            return self.input_layer.input_shape
        return self.layers[0].input_shape if self.layers else None

    def build_layer(self, layer, input_shape):
        if layer.built:
            if tuple(layer.input_shape[1:]) != tuple(input_shape[1:]):
                raise ValueError(f"Layer '{layer.name}' was built for inputs {layer.input_shape}"
                                 f" but receives {tuple(input_shape)}")
        else:
            layer.build(tuple(input_shape))
        return layer.output_shape

    @property
    def input_shape(self):
        if self.input_layer is not None:
            return self.input_layer.input_shape
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
        raise ValueError(f"get_layer: no layer named {name!r}; the layers are "
                         f"{[layer.name for layer in self.layers]}")

    # -- freezing and the weight lists -------------------------------------------------------

    @property
    def trainable(self):
        """False when every layer is frozen. Setting it sets every layer's trainable."""
        return any(layer.trainable for layer in self.layers) if self.layers else True

    @trainable.setter
    def trainable(self, value):
        value = check_bool(value, "model.trainable")
        for layer in self.layers:
            layer.trainable = value

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_params(self):
        """The old name of trainable_weights, kept so that existing code still runs."""
        return self.trainable_weights

    @property
    def trainable_weights(self):
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    # -- the flat parameter vector -----------------------------------------------------------

    def parameters_changed(self):
        """After compile, a change of layers (add, pop, build) rebuilds the parameter vector."""
        if self.compiled and self.built:
            self.bind_parameters()

    def bind_parameters(self):
        """Copy every trainable weight into one flat vector and give each layer a view of its
        part, so that one vectorized optimizer step updates them all."""
        old_segments = getattr(self, "segments", {})
        self.trainable_slots = [(layer, key) for layer in self.layers if layer.trainable
                                for key in layer.weight_keys() if key in layer.params]
        self.bound_trainable = [layer.trainable for layer in self.layers]
        arrays = [layer.params[key] for layer, key in self.trainable_slots]
        dtypes = {layer.dtype for layer in self.layers}
        if len(dtypes) > 1:
            raise ValueError(f"compile: every layer must use the same dtype, got "
                             f"{sorted(dtypes)}; build all layers after one set_floatx(...)")
        dtype = self.layers[0].dtype
        check_weight_arrays(self.trainable_slots, arrays, dtype)
        flat = np.concatenate([a.reshape(-1) for a in arrays]) if arrays else np.zeros(0, dtype)
        self.parameters, self.gradients = flat, np.zeros_like(flat)
        self.views, self.segments, start = [], {}, 0
        for (layer, key), array in zip(self.trainable_slots, arrays, strict=True):
            layer.params[key] = flat[start:start + array.size].reshape(array.shape)
            self.views.append(layer.params[key])
            self.segments[(id(layer), key)] = slice(start, start + array.size)
            start += array.size
        self.carry_optimizer_state(old_segments)

    def carry_optimizer_state(self, old_segments):
        """When the set of trainable weights changes (a layer frozen or unfrozen, a layer
        added or popped), the weights that stay keep their optimizer state (Adam's m and v),
        as in Keras, where each weight has its own; new ones start from the optimizer's fresh
        state (zeros; Adagrad's initial accumulator)."""
        state = self.optimizer.slots
        if not state or len(state) != 1:
            self.optimizer.reset()
            return
        carried = {"shape": self.parameters.shape}
        fresh = self.optimizer.create_slots(self.parameters)
        for name, old in state[0].items():
            if name == "shape":
                continue
            new = fresh[name] if name in fresh else np.zeros_like(self.parameters)
            for slot, part in self.segments.items():
                if slot in old_segments:
                    new[part] = old[old_segments[slot]]
            carried[name] = new
        self.optimizer.slots = [carried]

    def sync_parameters(self):
        """Before every training step: a layer frozen or unfrozen since the last step changes
        what the optimizer updates (as in Keras 3, without compiling again)."""
        if [layer.trainable for layer in self.layers] != self.bound_trainable:
            self.bind_parameters()

    def gather_gradients(self):
        """Every trainable weight's gradient, copied into one flat vector (P,) in the order of
        `parameters` (P trainable numbers). Read fresh at every step, so a layer may assign
        new gradient arrays. The vector is reused at every step: copy it to keep it."""
        check_gradients(self.trainable_slots, self.views)
        grads = [layer.grads[key] for layer, key in self.trainable_slots]
        # axis=None: each gradient is flattened into its place in the vector
        return np.concatenate(grads, axis=None, out=self.gradients) if grads else self.gradients

    def optimizer_state(self):
        """The optimizer's state per trainable weight: {slot name: [one array per weight, in
        model order]} (Adam: 'm' and 'v'), the layout Keras saves."""
        self.sync_parameters()
        if not self.optimizer.slots:
            self.optimizer.slots = [{"shape": self.parameters.shape,
                                     **self.optimizer.create_slots(self.parameters)}]
        flat = self.optimizer.slots[0]
        return {name: [flat[name][self.segments[(id(layer), key)]].reshape(view.shape).copy()
                       for (layer, key), view in zip(self.trainable_slots, self.views,
                                                     strict=True)]
                for name in flat if name != "shape"}

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
        self.optimizer.slots = [{"shape": self.parameters.shape, **flat}]
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
        self.layer_inputs = []
        for layer in self.layers:
            self.layer_inputs.append(x)  # kept for model.trace (a reference, not a copy)
            x = layer.forward(x, training=training)
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
        if not self.layer_inputs:
            raise RuntimeError("Sequential.backward was called before forward: call "
                               "model.forward(x, training=True) first")
        first, was = self.layers[0], self.layers[0].needs_input_grad
        first.needs_input_grad = input_grad
        self.layer_grad_inputs = []  # dL/d(each layer's input), first layer first: for trace
        try:
            for layer in reversed(self.layers):
                layer.grads.clear()
                grad_output = layer.backward(grad_output)
                self.layer_grad_inputs.insert(0, grad_output)
        finally:  # a layer called by hand afterwards returns its dL/dx again
            first.needs_input_grad = was
        return grad_output

    def __call__(self, x, training=False):
        x = self.check_x(x, "model(x)")
        return self.forward(x, training=training)

    # -- compile and the training step -------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **keras_only):
        """Choose the optimizer, the loss and the metrics: compile(optimizer=Adam(),
        loss='binary_crossentropy', metrics=['accuracy']). Without an optimizer, RMSprop with
        its defaults, as in Keras 3."""
        check_keras_only(keras_only, "compile", self.compile)
        if not self.layers:
            raise ValueError("compile: this Sequential model has no layers; add some first")
        if loss is None:
            raise ValueError("compile: loss is required, e.g. loss='binary_crossentropy'")
        optimizer = optimizers.get(optimizer)
        claim_optimizer(optimizer, self)
        self.optimizer = optimizer
        self.loss = losses.get(loss)
        self.metrics = [metric_functions.get(m, self.loss.name) for m in check_metrics(metrics)]
        # the names in the logs: a name given twice gets _1, _2, ... as in Keras's logs
        self.log_names = unique_names([metric.name for metric in self.metrics])
        self.compiled = True
        self.segments = {}  # a new compile starts the optimizer's state afresh
        warn_about_output_and_loss(self)
        self.parameters_changed()

    @property
    def metrics_names(self):
        """['loss', 'accuracy', ...]: the names of what evaluate returns, in that order."""
        return ["loss", *getattr(self, "log_names", [])]

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
        # update
        self.optimizer.apply(self.parameters, self.gather_gradients())
        if self.trace_next_step:
            self.keep_trace(y_pred)
        return loss, y_pred

    def regularization_loss(self):
        return sum(layer.regularization_loss() for layer in self.layers if layer.regularizers)

    def keep_trace(self, y_pred):
        """What the Recorder reads: each layer's input, output and dL/d(input) of this step."""
        self.trace = {"inputs": self.layer_inputs,
                      "outputs": [*self.layer_inputs[1:], y_pred],
                      "grad_inputs": self.layer_grad_inputs}
        self.trace_next_step = False

    # -- running means of the loss and the metrics over an epoch ----------------------------

    def reset_metrics(self):
        self.loss_sum, self.loss_count = 0.0, 0
        for metric in self.metrics:
            metric.reset_state()

    def update_metrics(self, loss, y, y_pred):
        """Add one batch; return the logs so far: the loss averaged over the batches weighted
        by their size, and each metric accumulated over every sample seen (as Keras, whose
        `metrics` ignore sample weights; only its `weighted_metrics` use them)."""
        self.loss_sum += loss * len(y_pred)
        self.loss_count += len(y_pred)
        logs = {"loss": self.loss_sum / self.loss_count}
        for metric, name in zip(self.metrics, self.log_names, strict=True):
            metric.update_state(y, y_pred)
            result = metric.result()  # a number, or one per threshold (thresholds=[...])
            logs[name] = result.copy() if getattr(result, "ndim", 0) else float(result)
        return logs

    # -- checking what users pass in ---------------------------------------------------------

    def check_x(self, x, where):
        """Convert x to the model's float type and check its shape against the model."""
        if not self.layers:
            raise ValueError(f"{where}: this Sequential model has no layers; add some first")
        return self.check_x_shape(to_model_array(self, x, where), where)

    def check_x_shape(self, x, where):
        """x, already an array of the model's float type, checked against the model's input
        shape (an unbuilt model is built for it)."""
        if not self.built:
            self.build((None, *x.shape[1:]))
        expected = tuple(self.input_shape[1:])
        if tuple(x.shape[1:]) != expected:
            described, fix = sample_shape_hint(x.shape, expected)
            raise ValueError(f"{where}: the model expects samples of shape {expected}"
                             f"{described}, got x of shape {x.shape}{fix}")
        return x

    def check_xy(self, x, y, where, sample_weight=None):
        """x, y (and sample_weight) converted and checked, all before the model is built."""
        xa = to_model_array(self, x, where)
        ya = to_float_array(y, f"{where}: y", dtype=xa.dtype)
        if len(xa) != len(ya):
            raise ValueError(f"{where}: x and y must have the same number of samples, got "
                             f"{len(xa)} and {len(ya)}" + transposed_hint(xa, ya))
        weights = check_sample_weight(sample_weight, len(xa), where)
        xa = self.check_x_shape(xa, where)
        self.loss.check_targets(ya, self.output_shape, where)
        return xa, self.shape_targets(ya), weights

    def shape_targets(self, y):
        if isinstance(self.loss, losses.SparseCategoricalCrossentropy):
            return y.reshape(-1).astype(np.int64)
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
            sample_weight=None, initial_epoch=0, validation_freq=1, **keras_only):
        """Train for epochs `initial_epoch` .. `epochs - 1` over (x, y) in batches; return a
        History. Arguments, defaults and behaviour are Keras 3's:

        The epoch's loss is the mean over its batches weighted by batch size, each measured
        before that batch's update; metrics accumulate over the epoch. validation_split holds
        out the LAST fraction of the data (before shuffling); shuffle reorders the rest at
        every epoch. sample_weight (n,) weighs each sample's loss (its held-out part weighs
        val_loss); class_weight {class: weight} does the same by class, for the training data
        only. The validation pass calls the callbacks' on_test_* hooks, as evaluate does.
        batch_size=None means 32.
        """
        check_keras_only(keras_only, "fit", self.fit)
        plan = check_fit_arguments(self, x, y, batch_size, epochs, verbose, validation_split,
                                   validation_data, shuffle, class_weight, sample_weight,
                                   initial_epoch, validation_freq)
        callbacks = CallbackList(check_callbacks(callbacks, "fit"), add_history=True,
                                 add_progbar=plan.verbose > 0, model=self,
                                 verbose=plan.verbose, epochs=plan.epochs, steps=plan.steps)
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
            self.sync_parameters()
            loss, y_pred = self.train_step(x, y, weights)
            logs = self.update_metrics(loss, y, y_pred)
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
        x, y, weights = self.check_xy(x, y, "train_on_batch", sample_weight)
        weights = apply_class_weight(y, weights, class_weight, "train_on_batch")
        warn_one_sample_batch(self, len(x), "train_on_batch", stacklevel=3)
        self.reset_metrics()
        self.sync_parameters()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss, y_pred = self.train_step(x, y, weights)
        logs = self.update_metrics(loss, y, y_pred)
        if not math.isfinite(loss):
            warnings.warn(f"train_on_batch: the loss became {format_number(loss)}; the weights "
                          f"have blown up. Try a smaller learning rate (now "
                          f"{self.optimizer.current_learning_rate():g}) or check the inputs.",
                          RuntimeWarning, stacklevel=2)
        return format_results(logs, return_dict)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        """Loss and metrics of one batch in inference mode (nothing is updated)."""
        return self.evaluate(x, y, batch_size=len(np.asarray(x)) or 1, verbose=0,
                             sample_weight=sample_weight, return_dict=return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch in inference mode."""
        return self.forward(self.check_x(x, "predict_on_batch"), training=False)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 callbacks=None, return_dict=False, **keras_only):
        """Loss and metrics in inference mode: returns [loss, *metrics] (or just the loss), or
        a dict with return_dict=True. The loss is the mean over batches weighted by batch
        size, the metrics accumulate over all samples, as in Keras."""
        check_keras_only(keras_only, "evaluate", self.evaluate)
        self.check_compiled("evaluate")
        x, y, weights = self.check_xy(x, y, "evaluate", sample_weight)
        batch_size = check_batch_size(batch_size, "evaluate")
        verbose = check_verbose(verbose, "evaluate")
        steps = math.ceil(len(x) / batch_size)
        callbacks = CallbackList(check_callbacks(callbacks, "evaluate"), add_progbar=verbose > 0,
                                 model=self, verbose=verbose, epochs=1, steps=steps)
        return format_results(self.test_loop(x, y, weights, batch_size, callbacks),
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
            logs = self.update_metrics(loss, y[part], y_pred)
            callbacks.on_test_batch_end(step, logs)
        callbacks.on_test_end(logs)
        return logs

    def predict(self, x, batch_size=None, verbose="auto", callbacks=None, **keras_only):
        """Outputs for x in inference mode (moving statistics, no dropout), batch by batch,
        so a sample's prediction never depends on the other samples."""
        check_keras_only(keras_only, "predict", self.predict)
        x = self.check_x(x, "predict")
        batch_size = check_batch_size(batch_size, "predict")
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
        arrays = []
        for (layer, key), value in zip(expected, weights, strict=True):
            array = np.asarray(value)
            if array.shape != layer.weight(key).shape:
                raise ValueError(f"set_weights: weight '{key}' of layer '{layer.name}' must "
                                 f"have shape {layer.weight(key).shape}, got {array.shape}")
            if not np.issubdtype(array.dtype, np.number):
                raise TypeError(f"set_weights: weight '{key}' of layer '{layer.name}' must be "
                                f"numeric, got an array of dtype {array.dtype}")
            arrays.append(array)
        # every array has passed its checks: only now is anything written
        for (layer, key), array in zip(expected, arrays, strict=True):
            layer.weight(key)[...] = array

    def architecture(self):
        """A description of the layers and weight shapes, stored with saved weights so that
        load_weights can refuse a file from a different model."""
        return [f"{type(layer).__name__}:{key}:{layer.weight(key).shape}"
                for layer in self.layers for key in layer.weight_keys()]

    def save_weights(self, path):
        """Save every weight. A name ending in '.weights.h5' writes Keras's own layout (needs
        h5py: pip install "tinynet[keras]"), so Keras's model.load_weights reads it; any other
        name writes a .npz archive. Either way the file is written atomically: a temporary
        file next to `path`, flushed to disk, then renamed over it, so a save that fails
        half-way leaves the previous file intact."""
        if not self.built:
            raise ValueError("save_weights: the model is not built yet, it has no weights")
        path = check_path(path, "save_weights")
        if path.endswith(".weights.h5"):
            from tinynet import saving

            return saving.save_weights_h5(self, path)
        arrays = {f"weight_{i:04d}": w for i, w in enumerate(self.get_weights())}
        arrays["architecture"] = np.array(self.architecture())
        write_atomically(path, lambda file: np.savez(file, **arrays), "save_weights",
                         example_name="model.weights.npz")

    def load_weights(self, path):
        """Load weights saved by save_weights (.npz, or Keras's .weights.h5). Refuses a
        missing, corrupt or foreign file and a file saved from a different architecture;
        either loads everything or changes nothing."""
        if not self.built:
            raise ValueError("load_weights: build the model first (give the first layer an "
                             "input_shape), so there are weights to load into")
        path = check_path(path, "load_weights")
        if path.endswith(".h5"):
            from tinynet import saving

            return saving.load_weights_h5(self, path)
        stored = read_weights_file(path)
        saved = [str(s) for s in stored["architecture"]]
        if saved != self.architecture():
            raise ValueError(f"load_weights: {path} holds weights for a different model.\n"
                             f"  file : {saved}\n  model: {self.architecture()}")
        self.set_weights([stored[f"weight_{i:04d}"] for i in range(len(saved))])

    # -- the whole model as a Keras file: configuration and saving ---------------------------

    def save(self, path):
        """Save the whole model (architecture, weights, optimizer) in Keras 3's .keras format,
        which keras.models.load_model reads. Needs h5py (pip install "tinynet[keras]").
        Raises ValueError for a name that does not end in .keras (Keras 3 also writes the
        legacy .h5 format; tinynet does not)."""
        from tinynet import saving

        return saving.save_model(self, check_path(path, "save"))

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
    def from_config(cls, config):
        from tinynet import saving

        return saving.model_from_config(config)

    def to_json(self):
        from tinynet import saving

        return saving.model_to_json(self)

    # -- summary -------------------------------------------------------------------------

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn=print):
        """Print one row per layer (name, type, output shape, parameters) and the totals.
        Before the model is built, as in Keras 3, the shapes read '?' and the counts
        '0 (unbuilt)', with a line that says how to build it."""
        print_fn(summary_text(self))
        if not self.layers:
            print_fn("The model has no layers yet: add some with model.add(layer).")
        elif not self.built:
            print_fn("The model is not built yet: give the first layer an input_shape, e.g. "
                     "Dense(64, input_shape=(20,)), or call fit or build.")


def load_model(path, custom_objects=None, compile=True, safe_mode=True):
    """A Sequential model from a .keras file written by tinynet's or Keras 3's model.save.
    compile=False loads the architecture and weights only. custom_objects and safe_mode are
    Keras's: tinynet's .keras files hold only its built-in layers, so custom_objects must be
    empty (a model with a layer of your own is saved with save_weights)."""
    from tinynet import saving

    return saving.load_model(check_path(path, "load_model"), custom_objects, compile,
                             safe_mode)


def save_model(model, filepath, overwrite=True):
    """Keras's keras.models.save_model(model, 'model.keras'): tinynet.saving.save_model, as
    keras.models.save_model is keras.saving.save_model."""
    from tinynet import saving

    return saving.save_model(model, check_path(filepath, "save_model"), overwrite)


def model_from_json(text):
    """A Sequential model (new weights) from the JSON text of model.to_json()."""
    from tinynet import saving

    return saving.model_from_json(text)


def clone_model(model, **keras_only):
    """A new Sequential with the same layers, built anew from their configuration: the same
    names, settings and trainable flags, but NEW weights, freshly initialized (as Keras's
    clone_model; to copy the weights too: clone.set_weights(model.get_weights())). A compiled
    model's clone is compiled the same way, with an optimizer of its own.

    Raises TypeError for a model that is not a Sequential or for Keras's other arguments
    (input_tensors, clone_function, ...), ValueError for a layer of your own, which has no
    configuration to be built from."""
    from tinynet import saving

    if keras_only:
        raise TypeError(f"clone_model({sorted(keras_only)[0]}=...) is a Keras argument that "
                        f"tinynet does not have; call clone_model(model)")
    if not isinstance(model, Sequential):
        raise TypeError(f"clone_model: expected a Sequential model, got "
                        f"{type(model).__name__}")
    for layer in model.layers:
        try:
            saving.keras_class_name(layer)  # refuses a class that has no Keras config
        except ValueError:
            raise ValueError(f"clone_model: layer '{layer.name}' ({type(layer).__name__}) is "
                             f"a layer of your own, and clone_model builds each layer anew "
                             f"from its configuration, which tinynet has for its built-in "
                             f"layers only; build the new model in code instead") from None
    clone = saving.model_from_config(model.get_config())
    if not model.compiled:
        return clone
    compile_config = saving.get_compile_config(model)
    if compile_config is None:
        warnings.warn("clone_model: the clone is returned uncompiled, because tinynet cannot "
                      "name this model's optimizer, loss or metrics; call clone.compile(...) "
                      "yourself", UserWarning, stacklevel=2)
    else:
        saving.compile_from_config(clone, compile_config, "clone_model")  # warns if it fails
    return clone



# -- summary ---------------------------------------------------------------------------------

def summary_text(model):
    rows = [(f"{layer.name} ({type(layer).__name__})", str(layer.output_shape),
             f"{layer.count_params():,}") if layer.built else
            (f"{layer.name} ({type(layer).__name__})", "?", "0 (unbuilt)")
            for layer in model.layers]
    header = ("Layer (type)", "Output Shape", "Param #")
    width = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    width = [max(width[0], 30), max(width[1], 20), max(width[2], 10)]

    def line(cells):
        return f"{cells[0]:<{width[0]}}  {cells[1]:<{width[1]}}  {cells[2]:>{width[2]}}"

    rule = "-" * len(line(("", "", "")))
    trainable = sum(layer.count_trainable_params() for layer in model.layers)
    total = model.count_params()
    itemsize = np.dtype(model.layers[0].dtype if model.layers else floatx()).itemsize
    lines = [f'Model: "{model.name}"', rule, line(header), rule, *[line(r) for r in rows], rule,
             f"Total params: {total:,} ({format_bytes(total * itemsize)})",
             f"Trainable params: {trainable:,} ({format_bytes(trainable * itemsize)})",
             f"Non-trainable params: {total - trainable:,} "
             f"({format_bytes((total - trainable) * itemsize)})", rule]
    return "\n".join(lines)


def format_bytes(size):
    """15360 -> '15.00 KB', as Keras's summary shows memory."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024


def format_results(logs, return_dict):
    """Keras's return value: a dict, or [loss, *metrics], or the loss alone."""
    if return_dict:
        return dict(logs)
    values = list(logs.values())
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


# -- checks of fit's arguments (all run before anything is built or trained) -----------------

def check_weight_arrays(slots, arrays, dtype):
    """Every trainable weight must be a NumPy array of the model's float type: one float64
    array would silently turn the whole parameter vector (every layer's weights) float64."""
    for (layer, key), array in zip(slots, arrays, strict=True):
        if not isinstance(array, np.ndarray) or array.dtype != dtype:
            got = array.dtype if isinstance(array, np.ndarray) else type(array).__name__
            raise TypeError(f"{layer.where}: params[{key!r}] must be a NumPy array of the "
                            f"layer's dtype {dtype}, got {got}; create it in build with "
                            f"dtype=self.dtype, e.g. np.ones(n, dtype=self.dtype)")


def check_gradients(slots, views):
    """Each trainable weight needs a gradient of its own shape from its layer's backward, and
    must still be the model's view (a new array put in its place would never be trained)."""
    for (layer, key), view in zip(slots, views, strict=True):
        if layer.params[key] is not view:
            raise RuntimeError(f"{layer.where}: params[{key!r}] was replaced by a new array, "
                               f"which the optimizer cannot see; write into the weight "
                               f"instead: layer.params[{key!r}][...] = new_values")
        grad = layer.grads.get(key)
        if not isinstance(grad, np.ndarray) or grad.shape != view.shape:
            got = (f"{grad.shape}" if isinstance(grad, np.ndarray) else "nothing" if grad is
                   None else f"a {type(grad).__name__}")
            others = sorted(set(layer.grads) - set(layer.params))
            hint = f" (it set grads {others}: a misspelt name?)" if others else ""
            raise RuntimeError(f"{layer.where}.backward must set grads[{key!r}] to an array of "
                               f"shape {view.shape} at every call, got {got}{hint}")


class FitPlan:
    """Everything fit needs, checked by check_fit_arguments: x, y, sample_weight (None or
    (n,)), batch_size, steps (batches per epoch), epochs, initial_epoch, verbose, shuffle,
    validation (None or (x_val, y_val, weights_val)) and validation_freq."""

    def validates_after(self, epoch):
        """Whether the validation pass runs after `epoch` (0-based): every validation_freq-th
        epoch, or the epochs (1-based) of a list, as Keras 3 does."""
        if isinstance(self.validation_freq, list):
            return epoch + 1 in self.validation_freq
        return (epoch + 1) % self.validation_freq == 0

    def batches(self):
        """(x, y, sample_weight) batch after batch: one epoch, shuffled if asked (a new order
        every epoch, from tinynet's seeded generator)."""
        order = get_rng().permutation(len(self.x)) if self.shuffle else np.arange(len(self.x))
        for start in range(0, len(self.x), self.batch_size):
            index = order[start:start + self.batch_size]
            weights = None if self.sample_weight is None else self.sample_weight[index]
            yield self.x[index], self.y[index], weights


def check_fit_arguments(model, x, y, batch_size, epochs, verbose, validation_split,
                        validation_data, shuffle, class_weight, sample_weight, initial_epoch,
                        validation_freq):
    model.check_compiled("fit")
    check_not_a_generator(x, y)
    plan = FitPlan()
    plan.batch_size = check_batch_size(batch_size, "fit")
    plan.epochs = check_int(epochs, "fit(epochs=...)", minimum=0)
    plan.initial_epoch = check_int(initial_epoch, "fit(initial_epoch=...)", minimum=0)
    plan.verbose = check_verbose(verbose, "fit")
    plan.shuffle = check_bool(shuffle, "fit(shuffle=...)")
    plan.validation_freq = check_validation_freq(validation_freq)
    split = check_float(validation_split, "fit(validation_split=...)", 0.0, 1.0, high_open=True)
    x, y, weights = model.check_xy(x, y, "fit", sample_weight)
    plan.validation = None
    if validation_data is not None:
        plan.validation = check_validation_data(model, validation_data)
    elif split > 0:
        # the held-out part keeps its sample weights: Keras's val_loss uses them
        x, y, weights, plan.validation = split_off_validation(x, y, weights, split)
    # after the split: class_weight weighs the training samples only (in Keras too; the
    # validation loss stays unweighted)
    weights = apply_class_weight(y, weights, class_weight, "fit")
    plan.x, plan.y, plan.sample_weight = x, y, weights
    plan.steps = math.ceil(len(x) / plan.batch_size)
    warn_one_sample_batch(model, len(x), "fit", plan.batch_size, stacklevel=4)
    return plan


def check_validation_freq(validation_freq):
    """An int >= 1 (validate every that many epochs) or a list of epochs, counted from 1."""
    where = "fit(validation_freq=...)"
    if isinstance(validation_freq, list):
        return [check_int(epoch, f"{where}: each epoch of the list", minimum=1)
                for epoch in validation_freq]
    return check_int(validation_freq, where, minimum=1)


def split_off_validation(x, y, weights, split):
    """The LAST fraction of the data becomes the validation set (Keras: before shuffling)."""
    cut = int(np.floor(len(x) * (1 - split)))
    if cut == 0 or cut == len(x):
        raise ValueError(f"fit(validation_split={split}) leaves no samples for training or "
                         f"validation with {len(x)} samples")
    val_weights = None if weights is None else weights[cut:]
    train_weights = None if weights is None else weights[:cut]
    return x[:cut], y[:cut], train_weights, (x[cut:], y[cut:], val_weights)


def check_not_a_generator(x, y):
    if y is None and x is not None and not hasattr(x, "__len__"):
        raise TypeError(f"fit takes arrays: fit(x, y, batch_size=32), and batches them itself; "
                        f"got a {type(x).__name__} of batches and no y. Pass the whole arrays "
                        f"x and y instead")
    if y is None:
        raise TypeError("fit: y is required (got None): fit(x, y), with one target per sample")


def check_validation_data(model, validation_data):
    where = "fit(validation_data=...)"
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        count = len(validation_data) if isinstance(validation_data, (tuple, list)) else None
        raise TypeError(f"{where} must be a tuple (x_val, y_val) or (x_val, y_val, "
                        f"sample_weight_val), got "
                        f"{f'{count} items' if count is not None else type(validation_data)}")
    x_val, y_val, *rest = validation_data
    return model.check_xy(x_val, y_val, where, rest[0] if rest else None)


def check_sample_weight(sample_weight, n, where):
    if sample_weight is None:
        return None
    weights = to_float_array(sample_weight, f"{where}: sample_weight", dtype="float64")
    if weights.shape not in ((n,), (n, 1)):
        raise ValueError(f"{where}: sample_weight must hold one weight per sample, shape "
                         f"({n},), got {weights.shape}")
    if np.any(weights < 0):
        raise ValueError(f"{where}: sample_weight must be >= 0, got {weights.min():g}")
    return weights.reshape(-1)


def apply_class_weight(y, weights, class_weight, where):
    """class_weight {class: weight} -> one weight per sample (n,), by each sample's class
    (the integer label, the rounded binary target, or the one-hot argmax), as Keras does.
    Raises TypeError for a class_weight that is not a dict or a weight that is not a number,
    ValueError for a weight that is negative, NaN or infinite, for a class of y without a
    weight, and when sample_weight is given too."""
    if class_weight is None:
        return weights
    if weights is not None:
        raise ValueError(f"{where}: give sample_weight or class_weight, not both (Keras refuses "
                         f"the pair too); multiply them into one sample_weight")
    if not isinstance(class_weight, dict):
        raise TypeError(f"{where}(class_weight=...) must be a dict {{class: weight}}, got "
                        f"{type(class_weight).__name__}")
    # each weight a finite number >= 0, as sample_weight must be (Keras trains on a negative
    # weight without a word, and gradient descent then pushes that class's loss UP)
    for label, weight in class_weight.items():
        name = f"{where}(class_weight=...): the weight of class {label!r}"
        if check_float(weight, name) < 0:
            raise ValueError(f"{name} must be >= 0, got {weight:g}")
    labels = y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else np.round(y).reshape(-1)
    missing = sorted(set(labels.astype(int).tolist()) - set(class_weight))
    if missing:
        raise ValueError(f"{where}(class_weight=...): no weight for class(es) {missing}; "
                         f"give one for every class in y")
    return np.array([class_weight[int(label)] for label in labels], dtype=np.float64)


# Arguments of Keras's compile/fit/evaluate/predict that tinynet does not have: each gets an
# error that says so, instead of Python's "unexpected keyword argument".
KERAS_ONLY = {
    "loss_weights": "models with several outputs", "weighted_metrics": "weighted metrics",
    "run_eagerly": "graph compilation", "steps_per_execution": "graph compilation",
    "jit_compile": "graph compilation", "auto_scale_loss": "mixed precision",
    "steps_per_epoch": "datasets and generators", "validation_steps": "datasets and generators",
    "validation_batch_size": "a separate validation batch size",
    "steps": "a fixed number of batches (tinynet always goes through every sample)",
    "max_queue_size": "generators", "workers": "generators",
    "use_multiprocessing": "generators", "return_state": "recurrent layers",
}
# Their defaults: passed at that value, such an argument changes nothing, so it is accepted
# (Keras code often spells out steps_per_epoch=None). The first ten are the defaults of Keras
# 3.15's compile, fit, evaluate and predict (inspect.signature in Keras 3.15.1); the last three
# were Keras 2's fit arguments for generators and are now keras.utils.PyDataset's (its
# signature in Keras 3.15.1, and the tf.keras SequenceEnqueuer API pages: workers=1,
# max_queue_size=10, use_multiprocessing=False).
KERAS_DEFAULTS = {
    "loss_weights": None, "weighted_metrics": None, "run_eagerly": False,
    "steps_per_execution": 1, "jit_compile": "auto", "auto_scale_loss": True,
    "steps_per_epoch": None, "validation_steps": None, "validation_batch_size": None,
    "steps": None, "max_queue_size": 10, "workers": 1, "use_multiprocessing": False,
}


def is_keras_default(name, value):
    """True for a Keras-only argument given at its Keras default (steps_per_epoch=None)."""
    default = KERAS_DEFAULTS.get(name, ...)
    return type(value) is type(default) and value == default


def check_keras_only(arguments, where, method):
    """Refuse an argument Keras has and tinynet lacks (saying so), or a misspelled one."""
    arguments = {name: value for name, value in arguments.items()
                 if not is_keras_default(name, value)}
    if not arguments:
        return
    name = sorted(arguments)[0]
    if name in KERAS_ONLY:
        raise TypeError(f"{where}({name}=...) is a Keras argument for {KERAS_ONLY[name]}, "
                        f"which tinynet does not have; leave it out")
    valid = [name for name, parameter in inspect.signature(method).parameters.items()
             if parameter.kind != parameter.VAR_KEYWORD]
    raise unknown_argument_error(f"{where}()", arguments, valid)


def check_batch_size(batch_size, where):
    """None means 32, Keras's default."""
    return 32 if batch_size is None else check_int(batch_size, f"{where}(batch_size=...)",
                                                   minimum=1)


def check_verbose(verbose, where):
    """0, 1 or 2; Keras's 'auto' means 1."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"{where}(verbose=...) must be 0 (silent), 1 (progress bar), 2 "
                         f"(one line per epoch) or 'auto', got {verbose!r}")
    return int(verbose)


def check_callbacks(callbacks, where):
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"{where}(callbacks=...) must be a list of Callback objects, "
                        f"got {type(callbacks).__name__}")
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise TypeError(f"{where}(callbacks=...): {callback!r} is not a tinynet Callback")
    return list(callbacks)


def unique_names(names):
    """['mae', 'mae', 'auc'] -> ['mae', 'mae_1', 'auc']: Keras's logs number a repeated name."""
    unique = []
    for name in names:
        count = sum(earlier == name for earlier in names[:len(unique)])
        unique.append(f"{name}_{count}" if count else name)
    return unique


def check_metrics(metrics):
    if metrics is None:
        return []
    if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)):
        raise TypeError(f"compile(metrics=...) must be a list such as ['accuracy'], "
                        f"got {metrics!r}")
    return metrics


def check_new_layer(model, layer):
    if isinstance(layer, Sequential):
        raise TypeError(f"Sequential.add: a model inside a model is not supported in tinynet; "
                        f"add its layers instead, e.g. Sequential([*base.layers, Dense(3)]) "
                        f"(freeze them with layer.trainable = False), got model "
                        f"'{layer.name}'")
    if not isinstance(layer, Layer):
        raise TypeError(f"Sequential.add: expected a tinynet layer such as Dense(64), "
                        f"got {layer!r}")
    if any(layer is other for other in model.layers):
        raise ValueError(f"Sequential.add: layer '{layer.name}' is already in this model")
    if layer.name is not None and any(other.name == layer.name for other in model.layers):
        raise ValueError(f"Sequential.add: two layers named '{layer.name}'; names must be "
                         f"unique in a model")
    if (model.layers or model.input_layer) and layer.input_shape is not None \
            and not layer.built:
        raise ValueError(f"Sequential.add: only the first layer takes input_shape, but "
                         f"layer '{layer.name}' (number {len(model.layers) + 1}) has one")


def forward_argument_error(model, x, training):
    """The error for a bad call of Sequential.forward (which checks its arguments in one
    test, so that the training step stays fast)."""
    if not model.layers:
        return ValueError("Sequential.forward: this Sequential model has no layers; add some "
                          "first")
    if not isinstance(x, np.ndarray):
        return TypeError(f"Sequential.forward: x must be a NumPy array, got "
                         f"{type(x).__name__}; call model(x) instead, which converts lists "
                         f"and checks x against the model's input shape")
    return TypeError(f"Sequential.forward(training=...) must be True, False or None "
                     f"(inference), got {training!r}")


def to_model_array(model, x, where):
    """x as an array of the model's float type, with the samples axis first: (N, ...).
    Raises ValueError for a single number or a vector (one sample without its samples
    axis), saying the shape the model needs."""
    array = to_float_array(x, f"{where}: x", dtype=model.layers[0].dtype, min_ndim=0)
    if array.ndim < 2:
        raise no_samples_axis_error(model, array, where)
    return array


def no_samples_axis_error(model, array, where):
    """The ValueError for x of 0 or 1 dimensions: the shape this model needs (when it is
    known) and, for a vector that holds one sample, the reshape that fixes it."""
    shape = model.input_shape  # (None, 20) or (None, 28, 28, 1); None before it is known
    if shape is None:
        needed = "x needs at least 2 dimensions, (samples, features)"
    else:
        needed = (f"this model needs x of shape (samples, {', '.join(map(str, shape[1:]))}), "
                  f"{len(shape)} dimensions")
    if array.ndim == 0:
        return ValueError(f"{where}: {needed}; got the single number {array.item()!r}")
    if shape is None:
        hint = "; use one row per sample"
    elif len(array) != math.prod(shape[1:]):
        hint = f"; use one row per sample, each of {shape[1]} features" if len(shape) == 2 \
            else ""
    elif len(shape) == 2:
        hint = f"; use x.reshape(1, -1) for one sample of {shape[1]} features"
    else:
        hint = f"; use x.reshape(1, {', '.join(map(str, shape[1:]))}) for one sample"
    return ValueError(f"{where}: {needed}; got a vector of shape {array.shape}{hint}")


def sample_shape_hint(got, expected):
    """What the expected sample shape means, and the fix when it is known."""
    if len(expected) == 1:
        if len(got) > 2 and math.prod(got[1:]) == expected[0]:
            return f" ({expected[0]} features)", "; flatten each sample: x.reshape(len(x), -1)"
        return f" ({expected[0]} features)", ""
    described = " (height, width, channels)" if len(expected) == 3 else ""
    if got[1:] == expected[:-1] and expected[-1] == 1:
        return described, "; add the channels axis: x[..., None]"
    return described, ""


def transposed_hint(x, y):
    return (f"; is x transposed? x.T has {x.shape[-1]} samples" if x.ndim == 2
            and x.shape[1] == len(y) else "")


def claim_optimizer(optimizer, model):
    """One optimizer object serves one model (Keras refuses to share one too): its Adam
    moments belong to that model's weights."""
    owner = getattr(optimizer, "owner", None)
    if owner is not None and owner() is not None and owner() is not model:
        raise ValueError(f"compile: this {type(optimizer).__name__} optimizer is already used "
                         f"by the model '{owner().name}'; give each model its own, e.g. "
                         f"optimizer={type(optimizer).__name__}()")
    optimizer.owner = weakref.ref(model)


def warn_about_output_and_loss(model):
    """A last activation that cannot work with the loss trains silently to nonsense."""
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    activation = getattr(activation, "activation", activation)
    units = last.output_shape[-1] if last.built else None
    name, logits = model.loss.name, getattr(model.loss, "from_logits", False)
    message = None
    if name == "binary_crossentropy" and activation == "softmax" and units == 1:
        message = ("softmax over 1 unit always outputs 1.0, so the loss cannot go down; use "
                   "activation='sigmoid' for binary classification")
    elif name == "binary_crossentropy" and not logits and activation in ("linear", "relu"):
        message = (f"the last layer outputs '{activation}' values, not probabilities; use "
                   f"activation='sigmoid', or loss=BinaryCrossentropy(from_logits=True)")
    if message:
        warnings.warn(f"compile: {message}", UserWarning, stacklevel=3)


def warn_one_sample_batch(model, n, where, batch_size=None, stacklevel=3):
    """A warning that points at the user's call (stacklevel: how far up it is)."""
    every_batch = min(batch_size or n, n) == 1  # each batch is one sample
    last_batch = bool(batch_size) and n % batch_size == 1  # the epoch's last batch is
    # the layers are scanned only when a sample is alone: train_on_batch calls this each step
    if not (every_batch or last_batch) or not any(
            isinstance(layer, BatchNormalization) and layer.trainable for layer in model.layers):
        return
    if every_batch:
        warnings.warn(f"{where}: batches of one sample with BatchNormalization. A batch of one "
                      f"has variance 0, so BatchNormalization outputs beta and passes back "
                      f"zero gradients: the layers before it will not learn. Use batches of "
                      f">= 2 samples (16 or more works best).", RuntimeWarning,
                      stacklevel=stacklevel)
    else:
        warnings.warn(f"{where}: {n} training samples in batches of {batch_size} leave "
                      f"one sample alone in the last batch of every epoch. On that batch "
                      f"BatchNormalization sees variance 0 and pulls its moving variance "
                      f"toward 0. Choose a batch_size that does not leave 1 sample over.",
                      RuntimeWarning, stacklevel=stacklevel)


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
