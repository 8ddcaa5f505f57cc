"""Callbacks: code that `fit` calls at fixed moments of training, with Keras's hooks.

    on_train_begin(logs)            on_train_end(logs)
    on_epoch_begin(epoch, logs)     on_epoch_end(epoch, logs)      logs: the epoch's means
    on_train_batch_begin(step, logs) on_train_batch_end(step, logs) logs: this batch's values

A callback sees the model as `self.model` (set by fit) and may stop training by setting
`self.model.stop_training = True`.
"""

import numpy as np


class Callback:
    """Base class: override the hooks you need; the others do nothing."""

    def __init__(self):
        self.model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, step, logs=None):
        pass

    def on_train_batch_end(self, step, logs=None):
        pass


class History(Callback):
    """What `fit` returns: `history.history['loss']` is the list of epoch losses, and so on
    for every metric and its 'val_' twin. `history.epoch` lists the epoch numbers.

    If training stopped because the loss became NaN or infinite, `diverged` is True and
    `stop_message` says where it happened.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []
        self.diverged = False
        self.stop_message = None

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch loss is NaN or infinite.

    (fit already does this on its own and says why; the callback exists for Keras code.)
    """

    def on_train_batch_end(self, step, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {step}: invalid loss {loss}, terminating training")
            self.model.stop_training = True


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved for `patience` epochs.

    EarlyStopping(monitor='val_loss', patience=0, min_delta=0.0, mode='auto',
                  restore_best_weights=False)

    mode 'auto' minimizes losses and maximizes anything with 'acc' in its name.
    With restore_best_weights=True the model ends with the weights of its best epoch.
    """

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto",
                 restore_best_weights=False, verbose=0):
        super().__init__()
        from tinynet.validation import check_float, check_int

        if not isinstance(monitor, str):
            raise TypeError(f"EarlyStopping(monitor=...) must be a name like 'val_loss', "
                            f"got {monitor!r}")
        self.monitor = monitor
        self.patience = check_int(patience, "EarlyStopping(patience=...)", minimum=0)
        self.min_delta = abs(check_float(min_delta, "EarlyStopping(min_delta=...)"))
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping(mode=...) must be 'auto', 'min' or 'max', "
                             f"got {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.mode = mode
        self.restore_best_weights = bool(restore_best_weights)
        self.verbose = verbose
        self.best = None
        self.best_weights = None
        self.best_epoch = None
        self.wait = 0
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        self.best, self.best_weights, self.best_epoch = None, None, None
        self.wait = 0
        self.stopped_epoch = None

    def improved(self, value):
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping: monitor '{self.monitor}' is not among the logged "
                             f"values {sorted(logs)}; pass validation data for 'val_' names")
        value = logs[self.monitor]
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:  # Keras's rule: patience 0 and 1 both stop at once
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
        if self.verbose and self.stopped_epoch is not None:
            print(f"Early stopping at epoch {self.stopped_epoch + 1}; best {self.monitor} "
                  f"{self.best:.4f} at epoch {self.best_epoch + 1}")


# -- Recorder: what happens inside the network while it trains -------------------------------

PERCENTILES = (15, 50, 85)  # the three curves of Ioffe & Szegedy (2015), Fig. 1(b, c)


class Recorder(Callback):
    """Every `every` training steps, record what each layer sees, outputs and passes back.

    Recorder(every=10, layers=None, histograms=False, bins=40, hist_range=None,
             x_probe=None, probe_training=False, per_unit=False)

    On a recorded step the model keeps every layer's input x, output y and dL/dx (see
    Sequential.traced_train_step), and the recorder stores, per layer:

        input_mean, input_std, input_p15, input_p50, input_p85     over all values of x
        output_mean, ..., output_p85                               the same for y
        grad_input_norm       ||dL/dx||                            (whole batch, Frobenius)
        grad_norm/<param>     ||dL/dparam||                        e.g. grad_norm/kernel
        update_ratio/<param>  ||param_after - param_before|| / ||param_before||
                              (the lr-scaled update over the weight, as in makemore;
                              NaN while the weight is all zeros, e.g. a bias at step 0)
        saturated_fraction    sigmoid: share of outputs < 0.01 or > 0.99; tanh: |y| > 0.99
        dead_fraction         relu: share of UNITS that are 0 for every sample of the batch
        input_hist, output_hist          if histograms=True: share of values per bin
        input_unit_percentiles           if per_unit=True: (3, units) per record, the
                                         15/50/85th percentiles over the batch of each unit

    Arguments:
        every:       record global steps 0, every, 2*every, ... (counted across epochs and
                     across calls to fit, as long as the model is the same).
        layers:      None for all layers, or a list of layer names / indices.
        histograms:  also store histograms, with `bins` bins over `hist_range` (lo, hi). Without
                     a range, each layer's range is fixed at the first record (from the
                     activation's bounds, or the first batch's spread, widened); values outside
                     fall into the end bins.
        x_probe:     a fixed batch (N, features). When given, activation statistics come from a
                     forward pass on it (inference mode, or training mode if probe_training)
                     made with the same weights as the recorded step, so every record looks at
                     the same samples. Gradients always come from the training step.

    Read the results with .steps (the recorded global steps), .layer_names, .get(layer, key)
    (an array indexed by record) and .keys(layer); keep them with .save(path) and
    Recorder.load(path). Recording never changes the training itself: the same seed gives the
    same weights with or without a recorder.
    """

    def __init__(self, every=10, layers=None, histograms=False, bins=40, hist_range=None,
                 x_probe=None, probe_training=False, per_unit=False):
        super().__init__()
        from tinynet.validation import check_int, to_float_array

        self.every = check_int(every, "Recorder(every=...)", minimum=1)
        self.layers = check_layer_choice(layers)
        for flag, value in (("histograms", histograms), ("probe_training", probe_training),
                            ("per_unit", per_unit)):
            if not isinstance(value, bool):
                raise TypeError(f"Recorder({flag}=...) must be True or False, got {value!r}")
        self.histograms = histograms
        self.bins = check_int(bins, "Recorder(bins=...)", minimum=1)
        self.hist_range = check_hist_range(hist_range)
        self.x_probe = None
        if x_probe is not None:
            self.x_probe = to_float_array(x_probe, "Recorder(x_probe=...)", dtype="float64",
                                          min_ndim=2)
        self.probe_training = probe_training
        self.per_unit = per_unit

        self.global_step = 0       # training steps seen so far (the next step's number)
        self.step_list = []        # the global steps recorded
        self.layer_names = []      # recorded layers, in model order
        self.layer_types = {}      # name -> 'Dense', 'Activation', ...
        self.activations = {}      # name -> 'relu', 'sigmoid', ... (layers that have one)
        self.data = {}             # name -> {key -> list with one value per record}
        self.edges = {}            # (name, 'input' | 'output') -> histogram bin edges
        self.indices = []          # positions of the recorded layers in model.layers
        self.recorded_model = None
        self.recording = False
        self.params_before = None
        self.probe = None

    def __repr__(self):
        return (f"Recorder(every={self.every}, {len(self.step_list)} records of "
                f"{len(self.layer_names)} layers)")

    @property
    def steps(self):
        """The global training steps recorded, as an int array (one entry per record)."""
        return np.array(self.step_list, dtype=np.int64)

    # -- the hooks ------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        model = self.model
        if self.recorded_model is not None and self.recorded_model is not model:
            raise ValueError("Recorder: this recorder already holds records of another model; "
                             "use a new Recorder() for each model")
        if self.recorded_model is None:
            self.choose_layers(model)
            self.recorded_model = model
        if self.x_probe is not None:
            expected = tuple(model.layers[0].input_shape[1:])
            if self.x_probe.shape[1:] != expected:
                raise ValueError(f"Recorder(x_probe=...) must hold samples of shape {expected} "
                                 f"like the model's input, got shape {self.x_probe.shape}")
            self.x_probe = self.x_probe.astype(model.layers[0].dtype)

    def choose_layers(self, model):
        """Turn the `layers` argument into positions in model.layers and fill the names."""
        from tinynet.validation import unknown_name_error

        names = [layer.name for layer in model.layers]
        if self.layers is None:
            indices = list(range(len(names)))
        else:
            indices = []
            for choice in self.layers:
                if isinstance(choice, str):
                    if choice not in names:
                        raise unknown_name_error("layer in Recorder(layers=...)", choice, names)
                    indices.append(names.index(choice))
                else:
                    if not -len(names) <= choice < len(names):
                        raise ValueError(f"Recorder(layers=...): index {choice} is out of range "
                                         f"for a model of {len(names)} layers")
                    indices.append(choice % len(names))
            indices = sorted(set(indices))  # model order, each layer once
        self.indices = indices
        self.layer_names = [names[i] for i in indices]
        for i in indices:
            layer = model.layers[i]
            self.layer_types[layer.name] = type(layer).__name__
            activation = activation_name(layer)
            if activation is not None:
                self.activations[layer.name] = activation
            self.data[layer.name] = {}

    def on_train_batch_begin(self, step, logs=None):
        self.recording = self.global_step % self.every == 0
        if not self.recording:
            return
        self.model.trace_next_step = True
        # copies of the weights before the step, to measure how much the step moves them
        self.params_before = {(i, key): value.copy() for i in self.indices
                              for key, value in self.model.layers[i].params.items()}
        if self.x_probe is not None:
            self.probe = self.run_probe()

    def on_train_batch_end(self, step, logs=None):
        if self.recording and self.model.trace is not None:
            self.record(self.model.trace)
            self.model.trace = None  # the arrays of a whole step: free them now
        self.recording = False
        self.global_step += 1

    # -- measuring ------------------------------------------------------------------------

    def run_probe(self):
        """Forward x_probe through the model; return its inputs and outputs per layer.

        In training mode BatchNormalization would update its moving statistics and Dropout
        would draw from tinynet's generator: both are put back afterwards, so probing never
        changes the training run."""
        from tinynet.config import get_rng

        model = self.model
        if self.probe_training:
            saved_state = [{key: value.copy() for key, value in layer.state.items()}
                           for layer in model.layers]
            saved_rng = get_rng().bit_generator.state
        inputs, outputs = [], []
        x = self.x_probe
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for layer in model.layers:
                inputs.append(x)
                x = layer.forward(x, training=self.probe_training)
                outputs.append(x)
        if self.probe_training:
            for layer, state in zip(model.layers, saved_state, strict=True):
                for key, value in state.items():
                    layer.state[key][...] = value
            get_rng().bit_generator.state = saved_rng
        return {"inputs": inputs, "outputs": outputs}

    def record(self, trace):
        """Compute and store every statistic of one recorded step."""
        activations = self.probe if self.x_probe is not None else trace
        cache = {}  # layer i's output is layer i+1's input: summarize each array once
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for i in self.indices:
                layer = self.model.layers[i]
                store = self.data[layer.name]
                x, y = activations["inputs"][i], activations["outputs"][i]
                for which, values in (("input", x), ("output", y)):
                    if id(values) not in cache:
                        cache[id(values)] = summary_statistics(values)
                    for key, value in cache[id(values)].items():
                        append(store, f"{which}_{key}", value)
                    if self.histograms:
                        append(store, f"{which}_hist", self.histogram(layer, which, values))
                if self.per_unit:
                    unit_values = x.reshape(len(x), -1)
                    append(store, "input_unit_percentiles", percentiles(unit_values))
                grad_input = trace["grad_inputs"][i]
                if grad_input is not None:
                    append(store, "grad_input_norm", norm(grad_input))
                for key, param in layer.params.items():
                    before = self.params_before[(i, key)]
                    append(store, f"grad_norm/{key}", norm(layer.grads[key]))
                    append(store, f"update_ratio/{key}", update_ratio(before, param))
                activation = self.activations.get(layer.name)
                if activation in ("sigmoid", "tanh"):
                    append(store, "saturated_fraction", saturated_fraction(y, activation))
                elif activation == "relu":
                    append(store, "dead_fraction", dead_fraction(y))
        self.step_list.append(self.global_step)
        self.params_before = None
        self.probe = None

    def histogram(self, layer, which, values):
        """Share of `values` in each bin; the bins of a layer are fixed at its first record."""
        edges = self.edges.get((layer.name, which))
        if edges is None:
            edges = self.choose_edges(layer, which, values)
            self.edges[(layer.name, which)] = edges
        # values outside the range go to the end bins, so every histogram sums to 1
        counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
        return counts / values.size

    def choose_edges(self, layer, which, values):
        if self.hist_range is not None:
            low, high = self.hist_range
        elif which == "output" and activation_name(layer) in ("sigmoid", "softmax"):
            low, high = 0.0, 1.0
        elif which == "output" and activation_name(layer) == "tanh":
            low, high = -1.0, 1.0
        else:
            # the first record's spread, widened by half of it on each side: room for drift
            low, high = float(np.min(values)), float(np.max(values))
            pad = 0.5 * (high - low) if high > low else 1.0
            low, high = low - pad, high + pad
        return np.linspace(low, high, self.bins + 1)

    # -- reading the records --------------------------------------------------------------

    def check_layer(self, layer_name):
        if layer_name not in self.data:
            raise KeyError(f"Recorder: no layer named {layer_name!r} was recorded; recorded "
                           f"layers: {', '.join(self.layer_names) or '(none yet)'}")
        return self.data[layer_name]

    def keys(self, layer_name):
        """The names of the statistics recorded for one layer."""
        return list(self.check_layer(layer_name))

    def get(self, layer_name, key):
        """One statistic of one layer as an array whose first axis is the record
        (aligned with .steps), e.g. get('dense', 'grad_norm/kernel')."""
        store = self.check_layer(layer_name)
        if key not in store:
            raise KeyError(f"Recorder: layer {layer_name!r} has no statistic {key!r}; it has: "
                           f"{', '.join(store)}")
        return np.asarray(store[key], dtype=np.float64)

    def hist_edges(self, layer_name, which="output"):
        """The bin edges (bins + 1,) of the 'input' or 'output' histograms of a layer."""
        self.check_layer(layer_name)
        if which not in ("input", "output"):
            raise ValueError(f"Recorder.hist_edges: which must be 'input' or 'output', "
                             f"got {which!r}")
        if (layer_name, which) not in self.edges:
            raise KeyError(f"Recorder: no {which} histograms for layer {layer_name!r}; "
                           f"record with Recorder(histograms=True)")
        return self.edges[(layer_name, which)]

    def as_dict(self):
        """Everything as one flat dict of arrays: {'steps': ..., '<layer>/<key>': ...,
        '<layer>/<which>_hist_edges': ...}."""
        out = {"steps": self.steps}
        for name in self.layer_names:
            for key in self.data[name]:
                out[f"{name}/{key}"] = self.get(name, key)
        for (name, which), edges in self.edges.items():
            out[f"{name}/{which}_hist_edges"] = edges
        return out

    def save(self, path):
        """Write the records to a .npz file, atomically (a temporary file renamed over
        `path`), so an interrupted save never leaves half a file behind."""
        import os
        import tempfile

        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"Recorder.save: the folder {folder} does not exist")
        arrays = self.as_dict()
        arrays["__meta__/layer_names"] = np.array(self.layer_names, dtype=str)
        arrays["__meta__/layer_types"] = np.array(
            [self.layer_types[name] for name in self.layer_names], dtype=str)
        arrays["__meta__/activations"] = np.array(
            [self.activations.get(name, "") for name in self.layer_names], dtype=str)
        arrays["__meta__/every"] = np.array(self.every)
        handle, temp_path = tempfile.mkstemp(dir=folder, prefix=".recorder-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez(file, **arrays)
            os.replace(temp_path, path)
        except BaseException:
            if os.path.exists(temp_path):
                os.remove(temp_path)
            raise

    @classmethod
    def load(cls, path):
        """A Recorder holding the records of a file written by Recorder.save (it can be read
        and plotted, but not attached to a model)."""
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
        if "__meta__/layer_names" not in arrays:
            raise ValueError(f"Recorder.load: {path} was not written by Recorder.save")
        recorder = cls(every=int(arrays.pop("__meta__/every")))
        names = [str(name) for name in arrays.pop("__meta__/layer_names")]
        types = arrays.pop("__meta__/layer_types")
        activations = arrays.pop("__meta__/activations")
        recorder.layer_names = names
        recorder.layer_types = {name: str(t) for name, t in zip(names, types, strict=True)}
        recorder.activations = {name: str(a) for name, a in zip(names, activations,
                                                                strict=True) if str(a)}
        recorder.step_list = [int(step) for step in arrays.pop("steps")]
        recorder.data = {name: {} for name in names}
        # the longest matching name first, in case one layer's name starts another's
        by_length = sorted(names, key=len, reverse=True)
        for full_key, value in arrays.items():
            name = next(n for n in by_length if full_key.startswith(n + "/"))
            key = full_key[len(name) + 1:]
            if key.endswith("_hist_edges"):
                recorder.edges[(name, key[:-len("_hist_edges")])] = value
            else:
                recorder.data[name][key] = list(value)
        return recorder


# -- the statistics, one small function each -------------------------------------------------

def summary_statistics(values):
    """mean, std and the 15/50/85th percentiles over ALL the values of one array.

    Written with sum and dot rather than np.mean / np.std / np.percentile: same numbers, but
    on the small arrays of one training step those functions spend most of their time in
    Python overhead, and the recorder must stay cheap (at most 10% of training time).

        mean = sum(x) / n        std = sqrt(sum((x - mean)^2) / n)    (biased, like np.std)
    """
    flat = values.reshape(-1)
    n = flat.size
    mean = float(flat.sum(dtype=np.float64)) / n
    centered = flat - flat.dtype.type(mean)
    std = float(np.sqrt(np.dot(centered, centered) / n))
    p15, p50, p85 = percentiles(flat)
    return {"mean": mean, "std": std, "p15": float(p15), "p50": float(p50),
            "p85": float(p85)}


def percentiles(values, q=PERCENTILES):
    """np.percentile(values, q, axis=0) (linear interpolation), from one np.partition.

    The q-th percentile of n sorted values v sits at position t = q/100 * (n - 1), between
    v[floor(t)] and v[floor(t) + 1]:

        p = v[floor(t)] + (t - floor(t)) * (v[floor(t) + 1] - v[floor(t)])

    np.partition puts just those order statistics in their sorted places, without sorting
    the rest. values: (n,) -> (len(q),), or (n, units) -> (len(q), units).
    """
    n = values.shape[0]
    position = [percent / 100 * (n - 1) for percent in q]
    low = [int(t) for t in position]  # floor, since t >= 0
    high = [min(i + 1, n - 1) for i in low]
    ordered = np.partition(values, sorted(set(low + high)), axis=0)
    v_low = ordered[low].astype(np.float64)
    v_high = ordered[high].astype(np.float64)
    fraction = np.array([t - i for t, i in zip(position, low, strict=True)])
    fraction = fraction.reshape((-1,) + (1,) * (values.ndim - 1))  # one per row of v_low
    return v_low + fraction * (v_high - v_low)


def norm(values):
    """The Euclidean (Frobenius) norm over all entries: sqrt(sum(values^2))."""
    flat = values.reshape(-1)
    return float(np.sqrt(np.dot(flat, flat)))


def update_ratio(before, after):
    """||after - before|| / ||before||: how far one step moved a weight, relative to its size
    (makemore's rule of thumb: around 1e-3). NaN while the weight is all zeros."""
    size = norm(before)
    return norm(after - before) / size if size > 0 else float("nan")


def saturated_fraction(y, activation):
    """Share of outputs in the flat tails, where the derivative is almost 0."""
    if activation == "sigmoid":
        return float(np.mean((y < 0.01) | (y > 0.99)))
    return float(np.mean(np.abs(y) > 0.99))


def dead_fraction(y):
    """Share of ReLU units that output 0 for every sample: they pass back no gradient."""
    flat = y.reshape(len(y), -1)
    return float(np.mean(np.all(flat <= 0, axis=0)))


def append(store, key, value):
    store.setdefault(key, []).append(value)


def activation_name(layer):
    """'relu', 'sigmoid', ... for an Activation layer or a Dense layer's activation; else None."""
    activation = getattr(layer, "activation", None)
    if isinstance(activation, str):
        return activation
    return getattr(activation, "activation", None)


def check_layer_choice(layers):
    """None, or a list of layer names (str) / indices (int)."""
    if layers is None:
        return None
    if isinstance(layers, (str, int)) or not isinstance(layers, (list, tuple)):
        raise TypeError(f"Recorder(layers=...) must be None or a list of layer names or indices "
                        f"such as ['dense', 'batch_normalization'], got {layers!r}")
    for choice in layers:
        if isinstance(choice, bool) or not isinstance(choice, (str, int, np.integer)):
            raise TypeError(f"Recorder(layers=...): each entry must be a layer name or an index, "
                            f"got {choice!r}")
    if not layers:
        raise ValueError("Recorder(layers=...) is an empty list; pass None to record all layers")
    return [c if isinstance(c, str) else int(c) for c in layers]


def check_hist_range(hist_range):
    if hist_range is None:
        return None
    try:
        low, high = (float(v) for v in hist_range)
    except (TypeError, ValueError):
        raise TypeError(f"Recorder(hist_range=...) must be a pair (low, high) of numbers, "
                        f"got {hist_range!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"Recorder(hist_range=...) must have finite low < high, "
                         f"got {hist_range!r}")
    return low, high
