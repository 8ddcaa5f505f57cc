"""What Sequential checks and prepares before it trains, evaluates or predicts.

Every argument a user gives `compile`, `fit`, `evaluate`, `predict` or `train_on_batch` is
checked here, where it enters, so that a mistake gets an error that names the argument, what
was expected and what came, instead of a NumPy error from deep inside a training step. `fit`'s
arguments become a FitPlan: the data (split for validation, weighted), the batches, the epochs.

Nothing here is needed to understand a training step: models.py holds the model, and calls
these before it starts.
"""

import copy
import inspect
import math
import numbers
import warnings
import weakref

import numpy as np

from tinynet.callbacks import Callback
from tinynet.config import get_rng
from tinynet.layers.activation import Activation
from tinynet.layers.base import Layer
from tinynet.layers.batchnorm import BatchNormalization
from tinynet.layers.dropout import Dropout
from tinynet.layers.reshape import Flatten, Reshape
from tinynet.validation import (
    check_bool,
    check_float,
    check_int,
    to_float_array,
    unknown_argument_error,
)

# -- the weights and their gradients (checked at compile and at every step) -------------------

def check_weight_arrays(slots, arrays, dtype):
    """Every trainable weight must be a NumPy array of the model's float type: one float64
    array would silently turn the whole parameter vector (every layer's weights) float64."""
    for (layer, key), array in zip(slots, arrays, strict=True):
        if not isinstance(array, np.ndarray) or array.dtype != dtype:
            got = array.dtype if isinstance(array, np.ndarray) else type(array).__name__
            raise TypeError(f"{layer.where}: params[{key!r}] must be a NumPy array of the "
                            f"layer's dtype {dtype}, got {got}; create it in build with "
                            f"dtype=self.dtype, e.g. np.ones(n, dtype=self.dtype)")


def check_gradients(keys, views):
    """Each trainable weight needs a gradient of its own shape from its layer's backward, and
    must still be the model's view (a new array put in its place would never be trained).
    keys: (layer, weight name) of each trainable weight, in the vector's order; None when the
    model has no parameter vector yet (compiled before it was built)."""
    if keys is None:
        raise RuntimeError("gather_gradients: the model has no parameter vector yet: it was "
                           "compiled before it was built, and a forward pass builds its layers "
                           "but not the vector. Give the first layer an input_shape, or call "
                           "model.build((None, *sample_shape)) (fit does it) before a loop of "
                           "your own")
    for (layer, key), view in zip(keys, views, strict=True):
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


def backward_error(model, layer, error):
    """A clearer error for what went wrong in layer.backward during model.backward, when the
    cause is one of two mistakes of a layer of one's own (None otherwise: the error stands):
    writing into self.grads[key] in place, which finds no array because the model clears
    the gradients before each backward (a KeyError); or a backward that returned something
    other than dL/dx, which the layer before it then refuses, naming itself rather than the
    layer at fault."""
    key = error.args[0] if isinstance(error, KeyError) and error.args else None
    if isinstance(key, str) and key in layer.params and key not in layer.grads:
        return TypeError(f"{layer.where}.backward read self.grads[{key!r}] before setting it: "
                         f"a model clears every layer's gradients before its backward pass "
                         f"(so that a forgotten one is caught, not reused), so write "
                         f"self.grads[{key!r}] = d{key} (a new array) rather than into the old "
                         f"one (self.grads[{key!r}][...] = or +=)")
    index = model.layers.index(layer)
    if index + 1 == len(model.layers) or not model.layer_grad_inputs:
        return None  # its grad_output came from the loss
    after, grad = model.layers[index + 1], model.layer_grad_inputs[0]
    expected = model.layer_inputs[index + 1].shape
    if isinstance(grad, np.ndarray) and grad.shape == expected and grad.dtype.kind == "f":
        return None
    got = (f"an array of shape {grad.shape} and type {grad.dtype}"
           if isinstance(grad, np.ndarray) else type(grad).__name__)
    return type(error)(f"{after.where}.backward returned {got}; it must return dL/dx, a float "
                       f"array of the shape of its input x, {expected} (the layer before it, "
                       f"{layer.where}, takes it as its grad_output)")


# -- fit's data, batches and epochs -----------------------------------------------------------

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
    # an unbuilt model is built for the first training batch, as in Keras: of the part that
    # validation_split leaves for training
    training = training_count(len(x), split) if split and hasattr(x, "__len__") else None
    first = plan.batch_size if not training else min(plan.batch_size, training)
    x, y, weights = model.check_xy(x, y, "fit", sample_weight, first)
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


def training_count(n, split):
    """How many of n samples validation_split leaves for training: the first
    floor(n * (1 - split)), as Keras cuts them."""
    return int(np.floor(n * (1 - split)))


def split_off_validation(x, y, weights, split):
    """The LAST fraction of the data becomes the validation set (Keras: before shuffling)."""
    cut = training_count(len(x), split)
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
    """sample_weight as float64, checked to hold finite weights >= 0 for n samples (None
    stays None). Its shape is checked against the model's outputs by shape_sample_weight,
    once the model is built."""
    if sample_weight is None:
        return None
    weights = to_float_array(sample_weight, f"{where}: sample_weight", dtype="float64")
    if weights.ndim < 1 or len(weights) != n:
        raise ValueError(f"{where}: sample_weight must hold one weight per sample, shape "
                         f"({n},), got {weights.shape}")
    if np.any(weights < 0):
        raise ValueError(f"{where}: sample_weight must be >= 0, got {weights.min():g}")
    return weights


def shape_sample_weight(weights, output_shape, where):
    """The sample weights of a model whose outputs are `output_shape` (None, ..., K), in one
    of two shapes:
      (n,)       one weight per sample: given as (n,), or (n, 1) or (n, 1, 1) as Keras's
                 torch backend wants them for losses per pixel;
      (n, H, W)  one weight per value of the loss, for outputs (n, H, W, K) (a class per
                 pixel): every loss averages over the last axis K, so its values are
                 (n, H, W), and each pixel's loss gets its own weight, as in Keras (given as
                 (n, H, W) or (n, H, W, 1)).
    Raises ValueError for any other shape (Keras fails inside on those)."""
    if weights is None:
        return None
    n, per_value = len(weights), tuple(output_shape[1:-1])
    if weights.size == n:
        return weights.reshape(n)
    if per_value and weights.shape[1:] in (per_value, (*per_value, 1)):
        return weights.reshape(n, *per_value)
    per_pixel = f", or one per value of the loss, shape {(n, *per_value)}" if per_value else ""
    raise ValueError(f"{where}: sample_weight must hold one weight per sample, shape ({n},)"
                     f"{per_pixel}; got {weights.shape} for outputs of shape "
                     f"{tuple(output_shape)}")


def apply_class_weight(y, weights, class_weight, where):
    """class_weight {class: weight} -> one weight per sample (n,), by each sample's class
    (the integer label, the rounded binary target, or the one-hot argmax), as Keras does.
    A class without a weight weighs 1.0, as in Keras 3 ({1: 10.0} weighs class 1 ten times
    class 0). Raises TypeError for a class_weight that is not a dict or a weight that is
    not a number, ValueError for a weight that is negative, NaN or infinite, and when
    sample_weight is given too."""
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
    # a key such as '1' (a string) never matches a class; Keras ignores it without a word
    strangers = [label for label in class_weight if not isinstance(label, numbers.Integral)]
    if strangers:
        warnings.warn(f"{where}(class_weight=...): the keys {strangers} are not class numbers "
                      f"(0, 1, 2, ...), so no sample gets their weights (as in Keras); use "
                      f"integer keys, e.g. {{0: 1.0, 1: 5.0}}", UserWarning, stacklevel=3)
    labels = y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else np.round(y).reshape(-1)
    if len(labels) != len(y):  # targets per pixel (N, H, W): one class per sample is needed
        raise ValueError(f"{where}(class_weight=...) weighs each sample by its class, so it "
                         f"needs one class per sample; targets of shape {y.shape} have one "
                         f"per pixel (Keras refuses class_weight for targets of 3 or more "
                         f"axes too). Weigh whole samples with sample_weight instead")
    return np.array([class_weight.get(int(label), 1.0) for label in labels], dtype=np.float64)


# -- Keras's arguments that tinynet does not have ---------------------------------------------

# Arguments of Keras's compile/fit/evaluate/predict that tinynet does not have: each gets an
# error that says so, instead of Python's "unexpected keyword argument".
KERAS_ONLY = {
    "loss_weights": "models with several outputs",
    "run_eagerly": "graph compilation", "steps_per_execution": "graph compilation",
    "jit_compile": "graph compilation", "auto_scale_loss": "mixed precision",
    # (Keras 3 takes steps_per_epoch with arrays too, checked on Keras 3.15: each epoch then
    # runs that many batches and the next goes on where it stopped)
    "steps_per_epoch": "a fixed number of batches per epoch (with arrays, Keras 3 then goes "
                       "on through the data from one epoch to the next)",
    "validation_steps": "datasets and generators",
    "validation_batch_size": "a separate validation batch size",
    "steps": "a fixed number of batches (tinynet always goes through every sample)",
    "max_queue_size": "generators", "workers": "generators",
    "use_multiprocessing": "generators", "return_state": "recurrent layers",
}


# Their defaults: passed at that value, such an argument changes nothing, so it is accepted
# (Keras code often spells out steps_per_epoch=None). The first nine are the defaults of Keras
# 3.15's compile, fit, evaluate and predict (inspect.signature in Keras 3.15.1); the last three
# were Keras 2's fit arguments for generators and are now keras.utils.PyDataset's (its
# signature in Keras 3.15.1, and the tf.keras SequenceEnqueuer API pages: workers=1,
# max_queue_size=10, use_multiprocessing=False).
KERAS_DEFAULTS = {
    "loss_weights": None, "run_eagerly": False,
    "steps_per_execution": 1, "jit_compile": "auto", "auto_scale_loss": True,
    "steps_per_epoch": None, "validation_steps": None, "validation_batch_size": None,
    "steps": None, "max_queue_size": 10, "workers": 1, "use_multiprocessing": False,
}


# Settings that only choose how Keras runs, never what it computes: tinynet always runs
# eagerly, with no compiler, so any of these values gives the same numbers and is accepted
HOW_KERAS_RUNS = {"run_eagerly": (True, False), "jit_compile": ("auto", True, False)}


def is_keras_default(name, value):
    """True for a Keras-only argument given at its Keras default (steps_per_epoch=None), or at
    any value of a setting that changes nothing tinynet computes (run_eagerly, jit_compile)."""
    allowed = HOW_KERAS_RUNS.get(name, (KERAS_DEFAULTS.get(name, ...),))
    return any(type(value) is type(default) and value == default for default in allowed)


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


# -- the other arguments of compile, fit, evaluate and predict --------------------------------

def check_batch_size(batch_size, where):
    """None means 32, Keras's default."""
    return 32 if batch_size is None else check_int(batch_size, f"{where}(batch_size=...)",
                                                   minimum=1)


def check_verbose(verbose, where):
    """0, 1 or 2; Keras's 'auto' means 1, and False and True mean 0 and 1, as in Keras."""
    if verbose == "auto":
        return 1
    if not isinstance(verbose, (int, np.integer)) or verbose not in (0, 1, 2):
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


def log_names(metrics, weighted_metrics):
    """The names of compile's metrics in the logs, as Keras 3 gives them (CompileMetrics.
    result in Keras 3.15): metrics first, a repeated name numbered ('mse', 'mse_1'); then the
    weighted metrics under their own name if it is free, else 'weighted_' + name (numbered
    too when repeated: 'weighted_mse_1')."""
    counts, names = {}, []
    for metric in metrics:
        name = metric.name
        if name in counts:
            counts[name] += 1
            name = f"{name}_{counts[name] - 1}"
        else:
            counts[name] = 1
        names.append(name)
    for metric in weighted_metrics:
        name = metric.name
        if name in counts:
            name = f"weighted_{name}"
            if name in counts:
                counts[name] += 1
                name = f"{name}_{counts[name] - 1}"
            else:
                counts[name] = 1
        else:
            counts[name] = 1
        names.append(name)
    return names


def check_metrics(metrics, argument):
    if metrics is None:
        return []
    if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)):
        raise TypeError(f"compile({argument}=...) must be a list such as ['accuracy'], "
                        f"got {metrics!r}")
    return metrics


def own_metrics(metrics, weighted_metrics):
    """The metric objects of one compile, each in one place only: an object given twice (in
    metrics and in weighted_metrics, say) is copied for its second place, so that each log
    keeps a state of its own. (Keras updates the one object twice a batch and logs the same
    number under both names.) Returns the two lists."""
    seen = set()

    def once(metric):
        if id(metric) in seen:
            metric = copy.deepcopy(metric)
        seen.add(id(metric))
        return metric

    return [once(metric) for metric in metrics], [once(metric) for metric in weighted_metrics]


# -- x: what a layer or a model is given ------------------------------------------------------

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
    A vector is N samples of one feature for a model that takes one, (None, 1), as Keras 3
    reads it (TensorFlow's first example: Dense(1, input_shape=[1]) fit on xs of shape (6,)).
    Raises ValueError for a single number or another vector (one sample without its samples
    axis), saying the shape the model needs."""
    array = to_float_array(x, f"{where}: x", dtype=model.layers[0].dtype, min_ndim=0)
    if array.ndim == 1 and model.input_shape is not None and \
            tuple(model.input_shape[1:]) == (1,):
        return array.reshape(-1, 1)
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
    if tuple(got) == tuple(expected):
        return described, ("; that is one sample without the batch axis: give a batch of "
                           "one, x[None] (or np.expand_dims(x, 0))")
    return described, ""


def transposed_hint(x, y):
    return (f"; is x transposed? x.T has {x.shape[-1]} samples" if x.ndim == 2
            and x.shape[1] == len(y) else "")


# -- compile: an optimizer per model, a loss that suits the output ----------------------------

def claim_optimizer(optimizer, model):
    """One optimizer object serves one model (Keras refuses to share one too): its Adam
    moments belong to that model's weights."""
    owner = getattr(optimizer, "owner", None)
    owner = owner() if owner is not None else None
    # a model whose compile failed (or was undone) holds no claim
    if owner is not None and owner is not model and owner.compiled:
        raise ValueError(f"compile: this {type(optimizer).__name__} optimizer is already used "
                         f"by the model '{owner.name}'; give each model its own, e.g. "
                         f"optimizer={type(optimizer).__name__}()")
    optimizer.owner = weakref.ref(model)


def optimizer_continues(optimizer, model):
    """Whether compile keeps the optimizer's state: compile(optimizer=model.optimizer) (the
    same object again, to change the loss or the metrics, or after freezing layers) goes on
    with Adam's moments and the step count, as in Keras, where the state belongs to the
    optimizer object. An optimizer object that holds state for weights that are gone (used by
    this model before another optimizer, or by a model whose compile was undone) starts
    afresh, its step count too, with a warning: Keras would go on from that old state, whose
    layout tinynet no longer knows. (Going on with zero moments and the old step count, as
    tinynet did, matched neither.) Layers added or popped since do not count as weights that
    are gone: the weights that stay keep their state and new ones start from zeros, as when
    layers are frozen and unfrozen (Keras refuses the new weights: its optimizer works only
    on the weights it was built with)."""
    if optimizer.slots is None:
        return False
    if model.parameters is not None and optimizer.slot_params[0] is model.parameters:
        return True
    warnings.warn(f"compile: this {type(optimizer).__name__} optimizer has state (after "
                  f"{optimizer.iterations} steps) for weights this model no longer lays out "
                  f"that way; tinynet starts it afresh, step count included (Keras would go on "
                  f"from that state). Compile with the optimizer the model has now "
                  f"(optimizer=model.optimizer) to go on", UserWarning, stacklevel=3)
    optimizer.reset()
    optimizer.iterations = 0
    return False


def warn_if_nothing_to_train(model, where):
    """fit or train_on_batch on a model whose weights are all frozen (every layer, or the
    model itself: model.trainable = False) runs, changes nothing, and counts no optimizer
    step; Keras warns too ('The model does not have any trainable weights')."""
    model.sync_parameters()  # a layer frozen since the last step counts
    if not model.trainable_keys:
        warnings.warn(f"{where}: the model does not have any trainable weights (every layer, "
                      f"or the model itself, is frozen): nothing will change, and the "
                      f"optimizer counts no step, as in Keras", UserWarning, stacklevel=3)


def warn_about_output_and_loss(model):
    """A last activation that cannot work with the loss trains silently to nonsense."""
    last = model.layers[-1]
    activation = output_activation_name(model.layers)
    units = last.output_shape[-1] if last.built else None
    name, logits = model.loss.name, getattr(model.loss, "from_logits", False)
    message = None
    if name == "binary_crossentropy" and activation == "softmax" and units == 1:
        message = ("softmax over 1 unit always outputs 1.0, so the loss cannot go down; use "
                   "activation='sigmoid' for binary classification")
    elif name == "binary_crossentropy" and not logits and activation in ("linear", "relu"):
        message = (f"the last layer outputs '{activation}' values, not probabilities; use "
                   f"activation='sigmoid', or loss=BinaryCrossentropy(from_logits=True)")
    elif name in ("categorical_crossentropy", "sparse_categorical_crossentropy") and \
            not logits and activation in ("linear", "relu"):
        loss_class = type(model.loss).__name__
        message = (f"the last layer outputs '{activation}' values, not probabilities that add "
                   f"up to 1; use activation='softmax', or loss={loss_class}(from_logits=True)")
    # tinynet's regression losses (a loss of your own may well be a classification one)
    regression = ("mean_squared_error", "mean_absolute_error", "mean_squared_logarithmic_error",
                  "mean_absolute_percentage_error", "huber_loss", "log_cosh", "poisson")
    if not message and name in regression and any(
            type(metric).__name__ == "AccuracyByShape" for metric, _ in model.metric_weighting):
        message = (f"metrics=['accuracy'] with loss '{name}': Keras 3 (and tinynet) then count "
                   f"a prediction right when it rounds to the target (binary accuracy, for one "
                   f"output) or has the largest output at the target's class, which measures "
                   f"little for regression; 'mae' or 'mse' say how far off the predictions are")
    if message:
        warnings.warn(f"compile: {message}", UserWarning, stacklevel=3)


def output_activation_name(layers):
    """The name of the activation that shapes the model's outputs: the last layer's, or,
    when the last layers pass their values on unchanged (Activation('linear'), Dropout,
    Flatten, Reshape), that of the layer before them."""
    for layer in reversed(layers):
        activation = getattr(layer, "activation", None)  # the function, or a layer's name
        activation = getattr(activation, "__name__", activation)
        passes_on = isinstance(layer, (Dropout, Flatten, Reshape)) or (
            type(layer) is Activation and activation == "linear")
        if not passes_on:
            return activation
    return None


# -- warnings about the batches ---------------------------------------------------------------

def warn_about_layers_inside_layers(model):
    """A layer of your own that holds layers of its own (Keras's MLPBlock with self.l1 =
    Linear(32)) trains silently without them: the model trains the weights of the layers in
    its list, and tinynet has no nested layers, so the inner layers' weights never move."""
    for layer in model.layers:
        if type(layer).__module__.startswith("tinynet."):
            continue  # the built-in layers' inner Activation has no weights, by design
        inner = [name for name, value in vars(layer).items()
                 if any(may_have_weights(v) and not any(v is m for m in model.layers)
                        for v in (value if isinstance(value, (list, tuple)) else [value]))]
        if inner:
            warnings.warn(f"compile: {layer.where} holds layers of its own ({', '.join(inner)}), "
                          f"whose weights, if they have any, the model will not train: tinynet "
                          f"has no nested layers; a model trains the weights of the layers in "
                          f"its list. "
                          f"Put them in the model's list instead (Sequential([..., "
                          f"Linear(32), ...])), or keep their weights in {layer.where}'s own "
                          f"params", UserWarning, stacklevel=3)


def may_have_weights(value):
    """True for a layer that has weights or will make some: a built-in layer that lists
    weights (weight_order: Dense, BatchNormalization, ...; not Activation or pooling), or a
    layer of your own that is built with params, or not built yet and writes a build of its
    own. False for anything else."""
    if not isinstance(value, Layer):
        return False
    if type(value).__module__.startswith("tinynet."):
        return bool(value.weight_order)
    return bool(value.params) or (not value.built and type(value).build is not Layer.build)


def warn_one_sample_batch(model, n, where, batch_size=None, stacklevel=3):
    """A warning that points at the user's call (stacklevel: how far up it is)."""
    every_batch = min(batch_size or n, n) == 1  # each batch is one sample
    last_batch = bool(batch_size) and n % batch_size == 1  # the epoch's last batch is
    # the layers are scanned only when a sample is alone: train_on_batch calls this each step
    # only a BN layer with one value per feature in a sample (vectors (N, D), or 1 x 1 maps)
    # then sees variance 0; on images it takes each channel's statistics over the pixels
    if not (every_batch or last_batch) or not any(
            isinstance(layer, BatchNormalization) and layer.trainable
            and (not layer.built or math.prod(layer.input_shape[1:-1]) == 1)
            for layer in model.layers):
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
