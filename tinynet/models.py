"""Sequential: a stack of layers, trained with Keras's compile / fit / evaluate / predict.

The whole of training is four lines, repeated for every batch (see `train_step`):

    y_pred = model.forward(x, training=True)        # each layer in turn
    loss   = loss_fn(y, y_pred)
    model.backward(dL/dy_pred)                       # each layer in reverse: the chain rule
    optimizer.apply(params, grads)                   # move every weight a little downhill

Everything else here is bookkeeping: batching, averaging, callbacks, checks, saving.
"""

import math
import os
import sys
import tempfile
import warnings
import zipfile

import numpy as np

from tinynet import losses, optimizers
from tinynet import metrics as metric_functions
from tinynet.callbacks import Callback, History
from tinynet.config import get_rng
from tinynet.layers.activation import Activation
from tinynet.layers.base import Layer
from tinynet.layers.batchnorm import BatchNormalization
from tinynet.layers.dense import Dense
from tinynet.progress import ProgressBar, format_logs
from tinynet.validation import check_bool, check_float, check_int, to_float_array


def snake_case(class_name):
    """'BatchNormalization' -> 'batch_normalization', as Keras names its layers."""
    out = ""
    for i, char in enumerate(class_name):
        if char.isupper() and i > 0 and not class_name[i - 1].isupper():
            out += "_"
        out += char.lower()
    return out


def output_activation(layer):
    """The name of the nonlinearity a layer ends with ('sigmoid', ...) or None."""
    if isinstance(layer, Dense):
        return layer.activation.activation
    if isinstance(layer, Activation):
        return layer.activation
    return None


class Sequential:
    """Sequential(layers=None, name='sequential'): layers applied one after the other.

    Looking inside one training step: set `model.trace_next_step = True` (in a callback's
    on_train_batch_begin, or before train_on_batch) and the next step also keeps, in
    `model.trace`, three lists aligned with `model.layers`: 'inputs' (what each layer saw),
    'outputs' (what it gave) and 'grad_inputs' (dL/d input of each layer). The Recorder
    callback is built on this; lessons use it directly for measurements of their own.
    """

    def __init__(self, layers=None, name="sequential"):
        if not isinstance(name, str) or not name:
            raise TypeError(f"Sequential(name=...) must be a non-empty string, got {name!r}")
        self.name = name
        self.layers = []
        self.built = False
        self.compiled = False
        self.stop_training = False
        self.history = None
        self.trace_next_step = False  # True: keep every activation of the next step
        self.trace = None
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise TypeError(f"Sequential(layers=...) must be a list of layers, "
                                f"got {type(layers).__name__}")
            for layer in layers:
                self.add(layer)

    def __repr__(self):
        return f"Sequential(name={self.name!r}, layers={len(self.layers)})"

    # -- building ---------------------------------------------------------------------------

    def add(self, layer):
        """Append a layer, give it a Keras-style name if it has none, and build it if the
        shape of its input is already known."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a tinynet layer such as Dense(64), "
                            f"got {layer!r}")
        if any(layer is other for other in self.layers):
            raise ValueError(f"Sequential.add: layer '{layer.name}' is already in this model")
        if layer.name is None:
            layer.name = self.unique_name(snake_case(type(layer).__name__))
        elif any(other.name == layer.name for other in self.layers):
            raise ValueError(f"Sequential.add: two layers named '{layer.name}'; names must be "
                             f"unique in a model")
        if self.layers and layer.input_shape is not None and not layer.built:
            raise ValueError(f"Sequential.add: only the first layer takes input_shape, but "
                             f"layer '{layer.name}' (number {len(self.layers) + 1}) has one")
        self.layers.append(layer)
        try:
            if len(self.layers) == 1 and layer.input_shape is not None:
                self.build(layer.input_shape)
            elif self.built:
                self.build_layer(layer, self.layers[-2].output_shape)
        except (ValueError, TypeError):
            self.layers.pop()  # a layer that cannot be built does not stay in the model
            self.collect_parameters()
            raise

    def unique_name(self, base):
        """'dense', then 'dense_1', 'dense_2', ... within this model."""
        taken = {layer.name for layer in self.layers}
        name, count = base, 0
        while name in taken:
            count += 1
            name = f"{base}_{count}"
        return name

    def build(self, input_shape):
        """Build every layer for inputs of `input_shape`, e.g. (None, 20)."""
        if not self.layers:
            raise ValueError("This Sequential model has no layers; add some with "
                             "Sequential([...]) or model.add(layer) first")
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
            self.collect_parameters()
            raise
        self.built = True

    def build_layer(self, layer, input_shape):
        if layer.built:
            if tuple(layer.input_shape[1:]) != tuple(input_shape[1:]):
                raise ValueError(f"Layer '{layer.name}' was built for inputs {layer.input_shape}"
                                 f" but receives {tuple(input_shape)}")
        else:
            layer.build(tuple(input_shape))
        self.collect_parameters()
        return layer.output_shape

    def collect_parameters(self):
        """The flat lists the optimizer updates: every trainable array and its gradient."""
        self.trainable_params = []
        self.trainable_grads = []
        for layer in self.layers:
            for key in layer.params:
                self.trainable_params.append(layer.params[key])
                self.trainable_grads.append(layer.grads[key])

    @property
    def input_shape(self):
        return self.layers[0].input_shape if self.layers else None

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.built else None

    # -- the two passes over the whole stack ------------------------------------------------

    def forward(self, x, training=False):
        """Run every layer in order. training=True uses batch statistics and dropout."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_output):
        """Chain rule over the stack: from dL/d(output) to dL/d(input). Fills each layer's
        grads."""
        for layer in reversed(self.layers):
            grad_output = layer.backward(grad_output)
        return grad_output

    def __call__(self, x, training=False):
        x = self.check_x(x, "model(x)")
        return self.forward(x, training=training)

    # -- compile and the training step -------------------------------------------------------

    def compile(self, optimizer="adam", loss=None, metrics=None):
        """Choose the optimizer, the loss and the metrics: compile(optimizer=Adam(),
        loss='binary_crossentropy', metrics=['accuracy'])."""
        if not self.layers:
            raise ValueError("compile: this Sequential model has no layers; add some first")
        if loss is None:
            raise ValueError("compile: loss is required, e.g. loss='binary_crossentropy'")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)):
            raise TypeError(f"compile(metrics=...) must be a list such as ['accuracy'], "
                            f"got {metrics!r}")
        # a list of (name shown in the logs, function)
        self.metrics = [metric_functions.get(m, self.loss.name) for m in metrics]
        self.compiled = True

    def uses_fused_gradient(self):
        """True when the last activation and the loss combine into dL/dz = (p - y) / N."""
        fused = self.loss.fused_activation
        return (fused is not None and not self.loss.from_logits
                and output_activation(self.layers[-1]) == fused)

    def train_step(self, x, y):
        """One gradient step on one batch; returns this batch's loss and metrics, measured
        on the forward pass before the update (as Keras reports them)."""
        if self.trace_next_step:
            return self.traced_train_step(x, y)
        y_pred = self.forward(x, training=True)
        logs = self.compute_logs(y, y_pred)
        self.backward_from_loss(y, y_pred, input_grad=False)
        self.optimizer.apply(self.trainable_params, self.trainable_grads)
        return logs

    def compute_logs(self, y, y_pred):
        logs = {"loss": self.loss.loss(y, y_pred)}
        for name, function in self.metrics:
            logs[name] = function(y, y_pred)
        return logs

    def backward_from_loss(self, y, y_pred, input_grad=True):
        """Fill every layer's grads from the loss; return dL/d(model input), or None when
        input_grad=False (training: the gradient with respect to the data is never used)."""
        if self.uses_fused_gradient():
            grad = self.loss.gradient_from_logits(y, y_pred)
            grad = self.layers[-1].backward_from_logits(grad)
            layers = self.layers[:-1]
        else:
            grad = self.loss.gradient(y, y_pred)
            layers = self.layers
        for layer in reversed(layers[1:]):
            grad = layer.backward(grad)
        if layers:
            if not input_grad and isinstance(layers[0], Dense):
                # a first Dense layer's dx would cost a matrix product as large as dkernel
                return layers[0].backward(grad, input_grad=False)
            grad = layers[0].backward(grad)
        return grad

    def traced_train_step(self, x, y):
        """train_step that also keeps, for a recorder, each layer's input and output and the
        gradient with respect to each layer's input (in self.trace)."""
        inputs, outputs = [], []
        for layer in self.layers:
            inputs.append(x)
            x = layer.forward(x, training=True)
            outputs.append(x)
        y_pred = x
        logs = self.compute_logs(y, y_pred)
        grad_inputs = [None] * len(self.layers)
        if self.uses_fused_gradient():
            grad = self.layers[-1].backward_from_logits(self.loss.gradient_from_logits(y, y_pred))
        else:
            grad = self.layers[-1].backward(self.loss.gradient(y, y_pred))
        grad_inputs[-1] = grad
        for i in range(len(self.layers) - 2, -1, -1):
            grad = self.layers[i].backward(grad)
            grad_inputs[i] = grad
        self.trace = {"inputs": inputs, "outputs": outputs, "grad_inputs": grad_inputs}
        self.trace_next_step = False
        self.optimizer.apply(self.trainable_params, self.trainable_grads)
        return logs

    # -- checking what users pass in ---------------------------------------------------------

    def check_x(self, x, where):
        """Convert x to the model's float type and check its shape against the model."""
        if not self.layers:
            raise ValueError(f"{where}: this Sequential model has no layers; add some first")
        dtype = self.layers[0].dtype
        x = to_float_array(x, f"{where}: x", dtype=dtype, min_ndim=2)
        if not self.built:
            self.build((None, *x.shape[1:]))
        expected = self.input_shape[1:]
        if tuple(x.shape[1:]) != tuple(expected):
            raise ValueError(f"{where}: the model expects samples of shape {tuple(expected)} "
                             f"({expected[-1]} features), got x of shape {x.shape}")
        return x

    def check_xy(self, x, y, where):
        x = self.check_x(x, where)
        y = to_float_array(y, f"{where}: y", dtype=x.dtype)
        if len(x) != len(y):
            raise ValueError(f"{where}: x and y must have the same number of samples, got "
                             f"{len(x)} and {len(y)}")
        self.loss.check_targets(y, self.output_shape, where)
        if isinstance(self.loss, losses.SparseCategoricalCrossentropy):
            y = y.reshape(-1).astype(np.int64)
        elif y.shape != self.output_shape[1:] and y.size == len(y) * np.prod(
                self.output_shape[1:]):
            y = y.reshape(len(y), *self.output_shape[1:])  # (n,) -> (n, 1): the same for BCE
        return x, y

    def check_compiled(self, where):
        if not self.layers:
            raise ValueError(f"{where}: this Sequential model has no layers; add some with "
                             f"Sequential([...]) or model.add(layer), then compile")
        if not getattr(self, "compiled", False):
            raise RuntimeError(f"{where}: compile the model first, e.g. model.compile("
                               f"optimizer='adam', loss='binary_crossentropy', "
                               f"metrics=['accuracy'])")

    # -- fit / evaluate / predict ------------------------------------------------------------

    def fit(self, x, y, batch_size=32, epochs=1, verbose=1, validation_split=0.0,
            validation_data=None, shuffle=True, callbacks=None):
        """Train for `epochs` passes over (x, y) in batches; return a History.

        The epoch's loss and metrics are means over its batches weighted by batch size, each
        measured before that batch's update. validation_split holds out the LAST fraction of
        the data (before shuffling); shuffle reorders the rest at every epoch.
        """
        self.check_compiled("fit")
        x, y = self.check_xy(x, y, "fit")
        batch_size = check_int(batch_size, "fit(batch_size=...)", minimum=1)
        epochs = check_int(epochs, "fit(epochs=...)", minimum=0)
        verbose = check_verbose(verbose, "fit")
        validation_split = check_float(validation_split, "fit(validation_split=...)", 0.0, 1.0,
                                       high_open=True)
        shuffle = check_bool(shuffle, "fit(shuffle=...)")
        callbacks = check_callbacks(callbacks)

        val = None
        if validation_data is not None:
            val = self.check_validation_data(validation_data)
        elif validation_split > 0:
            split = int(np.floor(len(x) * (1 - validation_split)))
            if split == 0 or split == len(x):
                raise ValueError(f"fit(validation_split={validation_split}) leaves no samples "
                                 f"for training or validation with {len(x)} samples")
            x, val = x[:split], (x[split:], y[split:])
            y = y[:split]

        has_bn = any(isinstance(layer, BatchNormalization) for layer in self.layers)
        if has_bn and min(batch_size, len(x)) == 1:
            warnings.warn("fit: batches of one sample with BatchNormalization. A batch of one "
                          "has variance 0, so BatchNormalization outputs beta and passes back "
                          "zero gradients: the layers before it will not learn. Use "
                          "batch_size >= 2 (16 or more works best).", RuntimeWarning,
                          stacklevel=2)
        elif has_bn and len(x) % batch_size == 1:
            warnings.warn(f"fit: {len(x)} training samples in batches of {batch_size} leave "
                          f"one sample alone in the last batch of every epoch. On that batch "
                          f"BatchNormalization sees variance 0 and pulls its moving variance "
                          f"toward 0. Choose a batch_size that does not leave 1 sample over.",
                          RuntimeWarning, stacklevel=2)
        history = History()
        self.history = history
        callbacks = [history, *callbacks]
        for callback in callbacks:
            callback.set_model(self)
        self.stop_training = False
        n = len(x)
        steps = int(np.ceil(n / batch_size))
        for callback in callbacks:
            callback.on_train_begin()

        for epoch in range(epochs):
            for callback in callbacks:
                callback.on_epoch_begin(epoch)
            if verbose == 1:
                print(f"Epoch {epoch + 1}/{epochs}")
            bar = ProgressBar(steps) if verbose == 1 else None
            order = get_rng().permutation(n) if shuffle else None
            sums = {}
            seen = 0
            for step in range(steps):
                for callback in callbacks:
                    callback.on_train_batch_begin(step)
                batch = slice(step * batch_size, (step + 1) * batch_size)
                index = order[batch] if shuffle else batch
                # weights that blow up overflow inside NumPy; the non-finite loss that follows
                # is reported below with a hint, so NumPy's own warnings would only add noise
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    logs = self.train_step(x[index], y[index])
                size = min(batch_size, n - step * batch_size)
                seen += size
                for key, value in logs.items():
                    sums[key] = sums.get(key, 0.0) + value * size
                if bar is not None:
                    bar.update(step + 1, {key: total / seen for key, total in sums.items()})
                for callback in callbacks:
                    callback.on_train_batch_end(step, logs)
                if not math.isfinite(logs["loss"]):
                    self.report_divergence(history, epoch, step, steps, logs["loss"])
                    break
                if self.stop_training:
                    break
            epoch_logs = {key: total / seen for key, total in sums.items()}
            if val is not None and not history.diverged:
                val_values = self.evaluate(*val, batch_size=batch_size, verbose=0)
                val_values = val_values if isinstance(val_values, list) else [val_values]
                for key, value in zip(["loss", *[m[0] for m in self.metrics]], val_values,
                                      strict=True):
                    epoch_logs["val_" + key] = value
            if bar is not None:
                bar.finish(epoch_logs)
            elif verbose == 2:
                print(f"Epoch {epoch + 1}/{epochs} - {format_logs(epoch_logs)}")
            if history.diverged:  # after the progress line, so the two do not mix
                announce(history.stop_message, verbose)
            for callback in callbacks:
                callback.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        for callback in callbacks:
            callback.on_train_end()
        return history

    def report_divergence(self, history, epoch, step, steps, loss):
        """Stop fit after a NaN or infinite batch loss and say where and what to try. The
        history so far stays in the History that fit returns (history.diverged is True)."""
        history.diverged = True
        history.stop_message = (
            f"Training stopped at epoch {epoch + 1}, step {step + 1}/{steps}: the loss became "
            f"{format_number(loss)}. The weights have blown up. Try a smaller learning rate "
            f"(now {self.optimizer.learning_rate:g}), check that the inputs are standardized "
            f"(mean 0, std 1) and free of extreme values, or add BatchNormalization. "
            f"The history up to this epoch is kept in the History that fit returns."
        )
        self.stop_training = True

    def check_validation_data(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("fit(validation_data=...) must be a tuple (x_val, y_val)")
        return self.check_xy(*validation_data, "fit(validation_data=...)")

    def train_on_batch(self, x, y):
        """One gradient step on (x, y); returns [loss, *metrics] (or just the loss)."""
        self.check_compiled("train_on_batch")
        x, y = self.check_xy(x, y, "train_on_batch")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            logs = self.train_step(x, y)
        if not np.isfinite(logs["loss"]):
            warnings.warn(f"train_on_batch: the loss became {format_number(logs['loss'])}; "
                          f"the weights have blown up. Try a smaller learning rate (now "
                          f"{self.optimizer.learning_rate:g}) or check the inputs.",
                          RuntimeWarning, stacklevel=2)
        values = list(logs.values())
        return values if len(values) > 1 else values[0]

    def evaluate(self, x, y, batch_size=32, verbose=1):
        """Loss and metrics in inference mode: returns [loss, *metrics] (or just the loss).
        Each is the mean over batches weighted by batch size, as in Keras."""
        self.check_compiled("evaluate")
        x, y = self.check_xy(x, y, "evaluate")
        batch_size = check_int(batch_size, "evaluate(batch_size=...)", minimum=1)
        verbose = check_verbose(verbose, "evaluate")
        sums = {}
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            logs = self.compute_logs(yb, self.forward(xb, training=False))
            for key, value in logs.items():
                sums[key] = sums.get(key, 0.0) + value * len(xb)
        values = [total / len(x) for total in sums.values()]
        if verbose:
            print(format_logs(dict(zip(sums, values, strict=True))))
        return values if len(values) > 1 else values[0]

    def predict(self, x, batch_size=32, verbose=0):
        """Outputs for x in inference mode (moving statistics, no dropout), batch by batch,
        so a sample's prediction never depends on the other samples."""
        x = self.check_x(x, "predict")
        batch_size = check_int(batch_size, "predict(batch_size=...)", minimum=1)
        verbose = check_verbose(verbose, "predict")
        outputs = [self.forward(x[start:start + batch_size], training=False)
                   for start in range(0, len(x), batch_size)]
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
        start = 0
        for layer in self.layers:
            count = len(layer.weight_keys())
            layer.set_weights(arrays[start:start + count])
            start += count

    def architecture(self):
        """A description of the layers and weight shapes, stored with saved weights so that
        load_weights can refuse a file from a different model."""
        return [f"{type(layer).__name__}:{key}:{layer.weight(key).shape}"
                for layer in self.layers for key in layer.weight_keys()]

    def save_weights(self, path):
        """Save every weight to a .npz file, atomically: a temporary file is written next to
        `path`, flushed to disk, then renamed over `path` (os.replace is one step on every
        operating system). A save that fails half-way leaves the previous file intact."""
        if not self.built:
            raise ValueError("save_weights: the model is not built yet, it has no weights")
        path = check_path(path, "save_weights")
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            raise IsADirectoryError(f"save_weights: {path} is a folder; give a file name such "
                                    f"as {os.path.join(path, 'model.weights.npz')}")
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"save_weights: the folder {folder} does not exist; "
                                    f"create it first, e.g. os.makedirs(folder)")
        arrays = {f"weight_{i:04d}": w for i, w in enumerate(self.get_weights())}
        arrays["architecture"] = np.array(self.architecture())
        try:
            handle, temp_path = tempfile.mkstemp(dir=folder, prefix=".tinynet-", suffix=".tmp")
        except PermissionError:
            raise PermissionError(f"save_weights: cannot write in the folder {folder} "
                                  f"(permission denied)") from None
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez(file, **arrays)
                file.flush()
                os.fsync(file.fileno())  # on disk before the rename, or a crash could lose both
            os.chmod(temp_path, default_file_mode())  # mkstemp makes files only we can read
            os.replace(temp_path, path)
        except BaseException:
            if os.path.exists(temp_path):
                os.remove(temp_path)
            raise

    def load_weights(self, path):
        """Load weights saved by save_weights. Refuses a missing, corrupt or foreign file and a
        file saved from a different architecture; either loads everything or changes nothing."""
        if not self.built:
            raise ValueError("load_weights: build the model first (give the first layer an "
                             "input_shape), so there are weights to load into")
        path = check_path(path, "load_weights")
        stored = read_weights_file(path)
        saved = [str(s) for s in stored["architecture"]]
        if saved != self.architecture():
            raise ValueError(f"load_weights: {path} holds weights for a different model.\n"
                             f"  file : {saved}\n  model: {self.architecture()}")
        self.set_weights([stored[f"weight_{i:04d}"] for i in range(len(saved))])

    # -- summary -------------------------------------------------------------------------

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn=print):
        """Print one row per layer (name, type, output shape, parameters) and the totals."""
        if not self.built:
            raise ValueError("summary: the model is not built yet; give the first layer an "
                             "input_shape, e.g. Dense(64, input_shape=(20,)), or call fit")
        rows = [(f"{layer.name} ({type(layer).__name__})", str(layer.output_shape),
                 f"{layer.count_params():,}") for layer in self.layers]
        width = [max(len(r[i]) for r in [("Layer (type)", "Output Shape", "Param #"), *rows])
                 for i in range(3)]
        width = [max(width[0], 30), max(width[1], 20), max(width[2], 10)]

        def line(cells):
            return (f"{cells[0]:<{width[0]}}  {cells[1]:<{width[1]}}  "
                    f"{cells[2]:>{width[2]}}")

        rule = "-" * len(line(("", "", "")))
        trainable = sum(layer.count_trainable_params() for layer in self.layers)
        total = self.count_params()
        itemsize = np.dtype(self.layers[0].dtype).itemsize
        lines = [f'Model: "{self.name}"', rule, line(("Layer (type)", "Output Shape",
                                                       "Param #")), rule]
        lines += [line(row) for row in rows]
        lines += [rule,
                  f"Total params: {total:,} ({format_bytes(total * itemsize)})",
                  f"Trainable params: {trainable:,} ({format_bytes(trainable * itemsize)})",
                  f"Non-trainable params: {total - trainable:,} "
                  f"({format_bytes((total - trainable) * itemsize)})",
                  rule]
        print_fn("\n".join(lines))


def format_bytes(size):
    """15360 -> '15.00 KB', as Keras's summary shows memory."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024


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


def check_path(path, where):
    """A file name as str (or bytes); pathlib.Path is accepted."""
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(f"{where}: path must be a file name (a str or pathlib.Path), "
                        f"got {path!r}") from None


def default_file_mode():
    """The permissions open() gives a new file: 0o666 minus the user's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


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


def check_verbose(verbose, where):
    """0, 1 or 2; Keras's 'auto' means 1."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"{where}(verbose=...) must be 0 (silent), 1 (progress bar), 2 "
                         f"(one line per epoch) or 'auto', got {verbose!r}")
    return int(verbose)


def check_callbacks(callbacks):
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"fit(callbacks=...) must be a list of Callback objects, "
                        f"got {type(callbacks).__name__}")
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise TypeError(f"fit(callbacks=...): {callback!r} is not a tinynet Callback")
    return list(callbacks)
