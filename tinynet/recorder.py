"""The Recorder: what happens inside every layer while a network trains.

    recorder = Recorder(every=10)
    model.fit(x, y, callbacks=[recorder])
    recorder.get("dense_1", "grad_norm/kernel")      # one number per recorded step

It is a callback (see tinynet.callbacks), with a file of its own because it is an idea of its
own: the diagnostics of Karpathy's makemore (part 3) - activation statistics, % saturated and %
dead units, gradient norms, update-to-weight ratios, histograms - recorded every `every` steps.
Each statistic is first written below as a plain one-line function of one record; the
Recorder computes the same numbers for many records at once, and tests/test_recorder.py checks
that the two agree.
"""

import functools
import os

import numpy as np

from tinynet.callbacks import Callback
from tinynet.config import get_rng
from tinynet.files import write_atomically
from tinynet.validation import (
    check_bool,
    check_float,
    check_int,
    to_float_array,
    unknown_name_error,
)

PERCENTILES = (15, 50, 85)  # the three curves of Ioffe & Szegedy (2015), Fig. 1(b, c)
# raw records are kept until there are this many (or they take this much memory); then their
# statistics are computed together
FLUSH_RECORDS = 32
FLUSH_BYTES = 16 * 2**20
MAX_BINS = 10_000  # more bins than a figure has pixels across would only cost memory


# The statistics, one record at a time: what each number the Recorder reports means. The
# Recorder computes the same numbers for many records at once (see "How it stays cheap" in its
# docstring); tests/test_recorder.py checks that it gives what these functions give, NaN and
# inf included. Each takes NumPy arrays or lists of numbers, and raises a TypeError for
# anything else (text, None) and a ValueError for an empty array.

SATURATING = ("sigmoid", "tanh")  # the activations saturated_fraction knows


def activation_summary(values):
    """mean, std (biased, as np.std) and the 15/50/85th percentiles of all the values, as
    np.mean, np.std and np.percentile give them: all five are NaN when a value is NaN, and an
    inf makes the mean inf (or NaN, with both signs). TypeError for anything but numbers,
    ValueError when there are none."""
    values = numbers(values, "activation_summary(values=...)")
    p15, p50, p85 = np.percentile(values, PERCENTILES)
    return {"mean": np.mean(values), "std": np.std(values), "p15": p15, "p50": p50, "p85": p85}


def grad_norm(grad):
    """||dL/dW||: the Frobenius norm sqrt(sum(g^2)) of a gradient (or of dL/dx). TypeError
    for anything but numbers, ValueError when there are none."""
    return np.linalg.norm(numbers(grad, "grad_norm(grad=...)").ravel())


def update_ratio(before, after):
    """||W_after - W_before|| / ||W_before||: how far one step moved a weight, relative to its
    size (makemore's rule of thumb: about 1e-3). NaN while the weight is all zeros.
    TypeError for anything but numbers, ValueError when there are none or the two shapes
    differ."""
    before = numbers(before, "update_ratio(before=...)")
    after = numbers(after, "update_ratio(after=...)")
    if before.shape != after.shape:
        raise ValueError(f"update_ratio: before and after must be the same weight, of one "
                         f"shape; got shapes {before.shape} and {after.shape}")
    size = np.linalg.norm(before.ravel())
    return np.linalg.norm((after - before).ravel()) / size if size > 0 else np.nan


def dead_fraction(y):
    """Share of ReLU units that output 0 for every sample of the batch: they pass back no
    gradient. y: (batch, units...). A unit with a NaN output is not counted as dead.
    TypeError for anything but numbers, ValueError when empty or without a batch axis."""
    y = numbers(y, "dead_fraction(y=...)", min_ndim=1)
    return np.mean(np.all(y.reshape(len(y), -1) <= 0, axis=0))


def saturated_fraction(y, activation):
    """Share of outputs in the flat tails, where the derivative is almost 0: sigmoid below
    0.01 or above 0.99; tanh beyond +-0.99 (NaN outputs are not counted as saturated).
    activation: 'sigmoid' or 'tanh' (ValueError for any other). TypeError for a y of
    anything but numbers, ValueError when it is empty."""
    if activation not in SATURATING:
        raise ValueError(f"saturated_fraction(activation=...) must be one of "
                         f"{', '.join(map(repr, SATURATING))}, got {activation!r}")
    y = numbers(y, "saturated_fraction(y=...)")
    if activation == "sigmoid":
        return np.mean((y < 0.01) | (y > 0.99))
    return np.mean(np.abs(y) > 0.99)


def unit_percentiles(x):
    """(3, units): the 15/50/85th percentiles over the batch of each unit (NaN for a unit
    with a NaN value). x: (batch, ...). TypeError for anything but numbers, ValueError when
    empty or without a batch axis."""
    x = numbers(x, "unit_percentiles(x=...)", min_ndim=1)
    return np.percentile(x.reshape(len(x), -1), PERCENTILES, axis=0)


def histogram_shares(values, edges):
    """Share of the values in each bin [edge_k, edge_k+1) (the last bin closed); values
    outside the edges (inf included) count in the end bins. A NaN falls in no bin: the shares
    sum to 1 minus the share of NaNs. edges: at least 2 finite, increasing numbers (a
    ValueError otherwise). TypeError for anything but numbers, ValueError for no values."""
    values = numbers(values, "histogram_shares(values=...)")
    edges = numbers(edges, "histogram_shares(edges=...)")
    if edges.ndim != 1 or len(edges) < 2 or not np.all(np.isfinite(edges)) \
            or not np.all(np.diff(edges) > 0):
        raise ValueError(f"histogram_shares(edges=...) must be at least 2 finite numbers in "
                         f"increasing order, got {np.array2string(edges, threshold=8)}")
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    return counts / values.size


def numbers(values, where, min_ndim=0):
    """`values` (an array or a list) as a NumPy array of floats: float32 and float64 (what a
    model computes in) stay as they are, so the numbers are the Recorder's; anything else
    (integers, bools, float16) becomes float64, where uint8 1 - 2 does not wrap round to 255
    and 300 ** 2 does not overflow as in float16. A TypeError for text, None or ragged lists,
    a ValueError for an empty array or one with fewer than `min_ndim` axes."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):  # e.g. a ragged list
        array = None
    if array is None or array.dtype.kind not in "biuf":  # bool, int, unsigned, float
        raise TypeError(f"{where} must be an array of numbers, got {type(values).__name__}"
                        + ("" if array is None else f" of dtype {array.dtype}"))
    if array.size == 0:
        raise ValueError(f"{where} is empty (shape {array.shape}); it needs at least one value")
    if array.ndim < min_ndim:
        raise ValueError(f"{where} must have a batch axis first, (batch, ...), got a "
                         f"{array.ndim}-D array")
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    return array


class UnknownName(ValueError, KeyError):
    """A layer or statistic that was not recorded. A ValueError, as every bad argument in
    tinynet; also a KeyError, which these errors were before (`except KeyError` still works)."""

    __str__ = ValueError.__str__  # KeyError's own would print the message in quotes


class Recorder(Callback):
    """Every `every` training steps, record what each layer sees, outputs and passes back.

    Recorder(every=10, layers=None, histograms=False, bins=40, hist_range=None,
             x_probe=None, probe_training=False, per_unit=False)

    On a recorded step the model keeps every layer's input x, output y and dL/dx (see
    Sequential.trace), and the recorder stores, per layer (each number is what the function
    named on the right, defined above, gives for that step's arrays):

        input_mean, input_std, input_p15, input_p50, input_p85     activation_summary(x)
        output_mean, ..., output_p85                               activation_summary(y)
        grad_input_norm       ||dL/dx|| over the whole batch       grad_norm(dL/dx)
        grad_norm/<param>     ||dL/dparam||, e.g. grad_norm/kernel grad_norm(grads[param])
        update_ratio/<param>  ||W_after - W_before|| / ||W_before||  update_ratio(...)
                              (NaN while the weight is all zeros, e.g. a bias at step 0)
        saturated_fraction    sigmoid and tanh outputs             saturated_fraction(y, ...)
        dead_fraction         relu: share of UNITS dead on the batch   dead_fraction(y)
        input_hist, output_hist    if histograms=True              histogram_shares(x, edges)
        input_unit_percentiles     if per_unit=True: (3, units)    unit_percentiles(x)

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
    Recorder.load(path). .output_layer names the model's last layer (recorded or not).
    Recording never changes the training itself: the same seed gives the same weights with or
    without a recorder. A NaN or inf in an array gives the statistics the functions above give
    for it (NaN percentiles for a NaN, for instance).

    One recorder records one model, as it was at its first fit: fit raises a ValueError when
    it is given a recorder of another model, one whose model's layers have changed since
    (model.pop(), model.add(...)), or one made by Recorder.load.

    How it stays cheap (and why it is not simply a loop over those functions): on the
    article's small model a training step takes about a quarter of a millisecond, and calling
    the functions above for every layer of a recorded step makes about a hundred NumPy calls,
    each with microseconds of overhead whatever the size of its arrays: recording every 10
    steps would cost a large part of the training time. So a recorded step only copies its raw
    numbers into a row of a table allocated once (see RecordTable); the statistics are
    computed later for many records at once (every 32 records, at the end of training, or when
    read), where one NumPy call serves every record. Sorting, for the percentiles, is the
    largest cost; a ReLU layer's output is not sorted again (see sort_activations). Recording
    every 10 steps costs about 8-9% of the training time on that model; on bigger ones, less.
    """

    def __init__(self, every=10, layers=None, histograms=False, bins=40, hist_range=None,
                 x_probe=None, probe_training=False, per_unit=False):
        super().__init__()
        self.every = check_int(every, "Recorder(every=...)", minimum=1)
        self.layers = check_layer_choice(layers)
        for flag, value in (("histograms", histograms), ("probe_training", probe_training),
                            ("per_unit", per_unit)):
            check_bool(value, f"Recorder({flag}=...)")
        self.histograms = histograms
        self.bins = check_int(bins, "Recorder(bins=...)", minimum=1)
        if self.bins > MAX_BINS:
            raise ValueError(f"Recorder(bins=...) must be at most {MAX_BINS:,}, got {bins:,}")
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
        self.columns = {}          # name -> {statistic: list of arrays, one per flush}
        self.edges = {}            # (name, 'input' | 'output') -> histogram bin edges
        self.indices = []          # positions of the recorded layers in model.layers
        self.output_layer = None   # the name of the model's last layer (recorded or not)
        self.recorded_model = None
        self.model_layers = []     # the model's layers when the recorder first saw it
        self.loaded_from = None    # the file, for a recorder made by Recorder.load
        self.recording = False
        self.params_before = None
        self.probe = None
        self.tables = {}           # layout -> RecordTable: raw records not summarized yet

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
        if self.loaded_from is not None:
            raise ValueError(f"Recorder: this recorder was loaded from {self.loaded_from} "
                             f"(Recorder.load): its records can be read and plotted, but it "
                             f"cannot record more; pass a new Recorder() to fit")
        if self.recorded_model is not None and self.recorded_model is not model:
            raise ValueError("Recorder: this recorder already holds records of another model; "
                             "use a new Recorder() for each model")
        if self.recorded_model is None:
            self.choose_layers(model)
            self.recorded_model = model
            self.model_layers = list(model.layers)
        elif not same_layers(model.layers, self.model_layers):
            # the positions, names and weights of the records would no longer match the model
            raise ValueError(f"Recorder: the model's layers have changed since this recorder "
                             f"first recorded it (then: {layer_list(self.model_layers)}; now: "
                             f"{layer_list(model.layers)}); its records cannot go on across "
                             f"the change: use a new Recorder()")
        if self.x_probe is not None:
            expected = tuple(model.layers[0].input_shape[1:])
            if self.x_probe.shape[1:] != expected:
                raise ValueError(f"Recorder(x_probe=...) must hold samples of shape {expected} "
                                 f"like the model's input, got shape {self.x_probe.shape}")
            self.x_probe = self.x_probe.astype(model.layers[0].dtype)

    def choose_layers(self, model):
        """Turn the `layers` argument into positions in model.layers and fill the names."""
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
        self.output_layer = names[-1]
        for i in indices:
            layer = model.layers[i]
            self.layer_types[layer.name] = type(layer).__name__
            activation = activation_name(layer)
            if activation is not None:
                self.activations[layer.name] = activation
            self.columns[layer.name] = {}

    def on_train_batch_begin(self, step, logs=None):
        self.recording = self.global_step % self.every == 0
        if not self.recording:
            return
        self.model.trace_next_step = True
        # a copy of the weights before the step, to measure how far the step moves them
        self.params_before = flatten_all(self.recorded_arrays("params"))
        if self.x_probe is not None:
            self.probe = self.run_probe()

    def on_train_batch_end(self, step, logs=None):
        if self.recording and self.model.trace is not None:
            self.keep(self.model.trace)
            self.model.trace = None  # the arrays of a whole step: free them now
        self.recording = False
        self.global_step += 1

    def on_train_end(self, logs=None):
        self.flush()
        self.tables = {}  # let the raw numbers' memory go: only the statistics are kept

    def recorded_arrays(self, kind):
        """The 'params' or 'grads' arrays of the recorded layers, in order, read afresh from
        each layer (a step may put new gradient arrays in layer.grads; layer.params are views
        into the model's parameter vector, whose values change in place)."""
        layers = [self.model.layers[i] for i in self.indices]
        return [getattr(layer, kind)[key] for layer in layers for key in layer.params]

    def run_probe(self):
        """Forward x_probe through the model; return its inputs and outputs per layer.

        In training mode BatchNormalization would update its moving statistics and Dropout
        would draw from tinynet's generator: both are put back afterwards, so probing never
        changes the training run."""
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

    # -- recording: keep the raw numbers of one step --------------------------------------

    def keep(self, trace):
        """Keep the raw numbers of this step: one row of the table of its layout.

        Nothing is computed here, not even a norm: on a small model a NumPy call costs more
        in overhead than in arithmetic, so all the work waits for the flush, where one call
        serves every record of a table."""
        activations = self.probe if self.x_probe is not None else trace
        inputs, outputs = activations["inputs"], activations["outputs"]
        # layer i's output is layer i+1's input (the same array): keep each array once
        arrays, slots, slot_of = [], [], {}  # slot_of: id(array) -> its position in arrays
        for i in self.indices:
            pair = []
            for values in (inputs[i], outputs[i]):
                if id(values) not in slot_of:
                    slot_of[id(values)] = len(arrays)
                    arrays.append(values)
                pair.append(slot_of[id(values)])
            slots.append(tuple(pair))
        # dL/dx of each recorded layer, then dL/dparam of each of their parameters
        gradients = [trace["grad_inputs"][i] for i in self.indices]
        gradients += self.recorded_arrays("grads")
        parts = {"activations": arrays, "gradients": gradients,
                 "weights_before": [self.params_before],
                 "weights_after": self.recorded_arrays("params")}
        # what the table's rows hold (the smaller last batch of an epoch has a layout, and
        # so a table, of its own): the activations' shapes and the training batch's size (it
        # sets the gradients' shapes; with x_probe, the activations do not show it)
        layout = (tuple([a.shape for a in arrays]), tuple(slots), len(trace["inputs"][0]))
        if layout not in self.tables:
            self.tables[layout] = RecordTable(parts)
        table = self.tables[layout]
        table.add(len(self.step_list), parts)
        self.step_list.append(self.global_step)
        self.params_before = None
        self.probe = None
        if table.full:
            self.flush()

    # -- the statistics, computed for many records at once --------------------------------

    def flush(self):
        """Compute the statistics of the records in the tables and add them to the columns.

        Each table (layout) is summarized on its own; the results are put back in the order
        the records were taken. The tables are emptied, but their memory is kept for the
        next records (a table that got no record since the last flush is let go)."""
        tables = [(layout, table) for layout, table in self.tables.items() if table.positions]
        if not tables:
            return
        results = [self.statistics(layout, table) for layout, table in tables]
        positions = np.concatenate([table.positions for _, table in tables])
        order = np.argsort(positions)  # back to record order
        for name in self.layer_names:
            for key in results[0][name]:
                values = np.concatenate([result[name][key] for result in results])
                self.columns[name].setdefault(key, []).append(values[order])
        self.tables = {layout: table for layout, table in tables}
        for table in self.tables.values():
            table.positions = []

    def statistics(self, layout, table):
        """The statistics of the records of one table: {layer name: {key: array (records,
        ...)}}."""
        shapes, slots, _ = layout
        sizes = table.sizes["gradients"]
        n_layers = len(self.indices)
        rows = table.filled  # (records, values) for each kind

        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            gradient_norms = segment_norms(rows("gradients"), sizes)  # (records, segments)
            grad_input_norms = gradient_norms[:, :n_layers]            # (records, layers)
            grad_norms = gradient_norms[:, n_layers:]                  # (records, params)
            ratios = update_ratios(rows("weights_before"), rows("weights_after"),
                                   sizes[n_layers:])                   # (records, params)
            blocks = split(rows("activations"), shapes)  # each (records, *array shape)
            out, param_column = {}, 0
            for j, i in enumerate(self.indices):
                layer = self.model.layers[i]
                new = out[layer.name] = {}
                if self.histograms:
                    for which, slot in zip(("input", "output"), slots[j], strict=True):
                        new[f"{which}_hist"] = self.histogram(layer, which, blocks[slot])
                if self.per_unit:
                    x = blocks[slots[j][0]]
                    unit_values = x.reshape(len(x), x.shape[1], -1)  # (records, batch, units)
                    new["input_unit_percentiles"] = np.moveaxis(
                        percentiles(unit_values, axis=1), 0, 1)      # (records, 3, units)
                new["grad_input_norm"] = grad_input_norms[:, j]
                for key in layer.params:
                    new[f"grad_norm/{key}"] = grad_norms[:, param_column]
                    new[f"update_ratio/{key}"] = ratios[:, param_column]
                    param_column += 1
                activation = self.activations.get(layer.name)
                y = blocks[slots[j][1]]
                if activation in ("sigmoid", "tanh"):
                    new["saturated_fraction"] = saturated_fractions(y, activation)
                elif activation == "relu":
                    new["dead_fraction"] = dead_fractions(y)
            # last, as the table's activations are sorted in place: the statistics of the
            # values themselves
            activations, activation_sizes = rows("activations"), table.sizes["activations"]
            unsorted_sums = segment_sums(activations, activation_sizes)  # see sorted_summaries
            self.sort_activations(activations, activation_sizes, slots)
            summaries = sorted_summaries(activations, activation_sizes, unsorted_sums)
            for j, name in enumerate(self.layer_names):
                values = {f"{which}_{key}": column[:, slot]
                          for which, slot in zip(("input", "output"), slots[j], strict=True)
                          for key, column in summaries.items()}
                out[name] = {**values, **out[name]}  # these first in .keys()
        return out

    def sort_activations(self, rows, sizes, slots):
        """Sort the values of each activation array of each record, in place in `rows`
        (records, total), where the arrays lie end to end with these sizes. (The table is
        the recorder's own copy, refilled after the flush anyway, so the flush uses it as
        scratch space: working where the numbers lie needs no new memory.)

        Sorting is the costly part of the statistics, and a ReLU layer's output needs none of
        its own: max(., 0) keeps the order (a <= b gives max(a, 0) <= max(b, 0)), so

            sorted(relu(x)) = relu(sorted(x))      value for value, exactly

        and an Activation('relu') layer's sorted output is its sorted input, clipped at 0.
        """
        relu_input = {}  # output slot -> input slot, for the Activation('relu') layers
        for name, (x_slot, y_slot) in zip(self.layer_names, slots, strict=True):
            if (self.layer_types[name] == "Activation" and self.activations.get(name) == "relu"
                    and x_slot < y_slot):  # the input is sorted first
                relu_input[y_slot] = x_slot
        starts = np.cumsum((0, *sizes))
        arrays = [rows[:, start:stop] for start, stop in zip(starts[:-1], starts[1:], strict=True)]
        for slot, values in enumerate(arrays):
            if slot in relu_input:
                np.maximum(arrays[relu_input[slot]], 0, out=values)
            else:
                values.sort(axis=1)

    def histogram(self, layer, which, block):
        """Share of the values of each record in each bin: (records, bins). A layer's bins
        are fixed at its first record, so that histograms of different steps compare."""
        edges = self.edges.get((layer.name, which))
        if edges is None:
            edges = self.choose_edges(layer, which, block[0])
            self.edges[(layer.name, which)] = edges
        # values outside the range go to the end bins, so every histogram sums to 1
        values = np.clip(block.reshape(len(block), -1), edges[0], edges[-1])
        # the bin of each value, as np.histogram counts: [edge_k, edge_k+1), the last closed
        bins = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, self.bins - 1)
        # a NaN belongs to no bin (np.histogram leaves it out): it goes to an extra bin,
        # number self.bins, which is dropped below
        bins[np.isnan(values)] = self.bins
        # one count for all records at once: record r's bins are numbered from
        # r * (self.bins + 1)
        bins += np.arange(len(block))[:, None] * (self.bins + 1)
        counts = np.bincount(bins.ravel(), minlength=len(block) * (self.bins + 1))
        return counts.reshape(len(block), self.bins + 1)[:, :-1] / values.shape[1]

    def choose_edges(self, layer, which, values):
        # from the finite values only: a NaN or inf would make every bin NaN or infinitely wide
        values = values[np.isfinite(values)]
        if self.hist_range is not None:
            low, high = self.hist_range
        elif which == "output" and activation_name(layer) in ("sigmoid", "softmax"):
            low, high = 0.0, 1.0
        elif which == "output" and activation_name(layer) == "tanh":
            low, high = -1.0, 1.0
        elif which == "output" and activation_name(layer) == "relu":
            # room to grow; never < 0
            low, high = 0.0, 1.5 * float(np.max(values, initial=0.0)) or 1.0
        else:
            # the first record's spread, widened by half of it on each side: room for drift
            low, high = (float(np.min(values)), float(np.max(values))) if values.size else (0, 0)
            pad = 0.5 * (high - low) if high > low else 1.0
            low, high = low - pad, high + pad
        return np.linspace(low, high, self.bins + 1)

    # -- reading the records --------------------------------------------------------------

    def check_layer(self, layer_name, where):
        """The columns of a recorded layer, after computing what is left to compute; `where`
        (e.g. 'Recorder.get') names the caller in the errors."""
        self.check_not_empty(where)
        if not isinstance(layer_name, str):
            # Recorder(layers=[0]) takes positions in the model; here a name is needed, as
            # the records do not keep the model's positions
            raise TypeError(f"{where}(layer_name=...) must be a layer's name (a str), got "
                            f"{layer_name!r}; recorded layers: {', '.join(self.layer_names)}")
        if layer_name not in self.columns:
            raise UnknownName(f"{where}: no layer named {layer_name!r} was recorded; recorded "
                              f"layers: {', '.join(self.layer_names)}")
        return self.columns[layer_name]

    def check_not_empty(self, where):
        self.flush()
        if not self.step_list:
            raise ValueError(f"{where}: nothing recorded yet. A recorder records during "
                             "training: pass it to fit (model.fit(x, y, callbacks=[recorder])) "
                             f"for at least one step (it records steps 0, {self.every}, "
                             f"{2 * self.every}, ...)")

    def keys(self, layer_name):
        """The names of the statistics recorded for one layer. A ValueError (also a
        KeyError, see UnknownName) for a layer that was not recorded, a TypeError for a
        name that is not a str, a ValueError before anything was recorded."""
        return list(self.check_layer(layer_name, "Recorder.keys"))

    def get(self, layer_name, key):
        """One statistic of one layer as an array whose first axis is the record
        (aligned with .steps), e.g. get('dense', 'grad_norm/kernel'). Layers are named, not
        numbered. Errors: as keys, and the same for a statistic the layer does not have."""
        columns = self.check_layer(layer_name, "Recorder.get")
        if not isinstance(key, str):
            raise TypeError(f"Recorder.get(key=...) must be a statistic's name (a str) such "
                            f"as 'grad_norm/kernel', got {key!r}")
        if key not in columns:
            raise UnknownName(f"Recorder.get: layer {layer_name!r} has no statistic {key!r}; "
                              f"it has: {', '.join(columns)}")
        return np.concatenate(columns[key])

    def hist_edges(self, layer_name, which="output"):
        """The bin edges (bins + 1,) of the 'input' or 'output' histograms of a layer (a
        copy: changing it changes nothing here). Errors: as keys, and a ValueError (also a
        KeyError) when the recorder kept no histograms."""
        self.check_layer(layer_name, "Recorder.hist_edges")
        if which not in ("input", "output"):
            raise ValueError(f"Recorder.hist_edges: which must be 'input' or 'output', "
                             f"got {which!r}")
        if (layer_name, which) not in self.edges:
            raise UnknownName(f"Recorder.hist_edges: no {which} histograms for layer "
                              f"{layer_name!r}; record with Recorder(histograms=True)")
        return self.edges[(layer_name, which)].copy()

    def as_dict(self):
        """Everything as one flat dict of arrays: {'steps': ..., '<layer>/<key>': ...,
        '<layer>/<which>_hist_edges': ...}. A ValueError before anything was recorded."""
        self.check_not_empty("Recorder.as_dict")
        out = {"steps": self.steps}
        for name in self.layer_names:
            for key in self.keys(name):
                out[f"{name}/{key}"] = self.get(name, key)
        for (name, which), edges in self.edges.items():
            out[f"{name}/{which}_hist_edges"] = edges
        return out

    def save(self, path):
        """Write the records to a .npz file, atomically (a temporary file renamed over
        `path`), so an interrupted save never leaves half a file behind. A ValueError before
        anything was recorded (an empty file would only fail later, when read)."""
        self.check_not_empty("Recorder.save")
        arrays = self.as_dict()
        arrays["__meta__/layer_names"] = np.array(self.layer_names, dtype=str)
        arrays["__meta__/layer_types"] = np.array(
            [self.layer_types[name] for name in self.layer_names], dtype=str)
        arrays["__meta__/activations"] = np.array(
            [self.activations.get(name, "") for name in self.layer_names], dtype=str)
        arrays["__meta__/output_layer"] = np.array(self.output_layer, dtype=str)
        arrays["__meta__/every"] = np.array(self.every)
        write_atomically(path, lambda file: np.savez(file, **arrays), "Recorder.save",
                         example_name="recording.npz")

    @classmethod
    def load(cls, path):
        """A Recorder holding the records of a file written by Recorder.save. It can be read
        and plotted, but not passed to fit again (it refuses to record more). Errors: a
        TypeError when `path` is not a path, FileNotFoundError when there is no such file, a
        ValueError for a file Recorder.save did not write (or a damaged one)."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"Recorder.load(path=...) must be a file path (a str or a "
                            f"pathlib.Path), got {path!r}")
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Recorder.load: no such file: {path}")
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {key: stored[key] for key in stored.files}
        except Exception as err:  # a truncated or damaged archive, or not an archive at all
            raise ValueError(f"Recorder.load: {path} is corrupt or not a file written by "
                             f"Recorder.save (it cannot be read as a .npz archive: "
                             f"{type(err).__name__}); save the records again") from None
        if "__meta__/layer_names" not in arrays:
            raise ValueError(f"Recorder.load: {path} was not written by Recorder.save")
        recorder = cls(every=int(arrays.pop("__meta__/every")))
        recorder.loaded_from = path
        names = [str(name) for name in arrays.pop("__meta__/layer_names")]
        types = arrays.pop("__meta__/layer_types")
        activations = arrays.pop("__meta__/activations")
        recorder.layer_names = names
        # files saved before the output layer was stored: their last recorded layer, as was
        # assumed then
        recorder.output_layer = str(arrays.pop("__meta__/output_layer", names[-1]))
        recorder.layer_types = {name: str(t) for name, t in zip(names, types, strict=True)}
        recorder.activations = {name: str(a) for name, a in zip(names, activations,
                                                                strict=True) if str(a)}
        recorder.step_list = [int(step) for step in arrays.pop("steps")]
        recorder.columns = {name: {} for name in names}
        # the longest matching name first, in case one layer's name starts another's
        by_length = sorted(names, key=len, reverse=True)
        for full_key, value in arrays.items():
            name = next((n for n in by_length if full_key.startswith(n + "/")), None)
            if name is None:
                raise ValueError(f"Recorder.load: {path} holds {full_key!r}, which is no "
                                 f"recorded layer's: it was not written by Recorder.save")
            key = full_key[len(name) + 1:]
            if key.endswith("_hist_edges"):
                recorder.edges[(name, key[:-len("_hist_edges")])] = value
            else:
                recorder.columns[name][key] = [value]
        return recorder


class RecordTable:
    """The raw numbers of up to `capacity` records of one layout, one row per record: its
    activations, gradients, weights before and weights after the step, each kind's arrays
    laid end to end, and the kinds one after the other.

    The table is allocated once and reused after each flush. Memory the program has not
    used yet is slow to write the first time (the system maps it in, 4 KB page by 4 KB page):
    a new array for each record would pay that again and again, and on a small model it
    would cost more than the copy itself.
    """

    def __init__(self, parts):
        """parts: {kind: list of arrays} of a first record, for the sizes and the dtype."""
        self.columns, start = {}, 0  # kind -> its slice of a row
        self.sizes = {}              # kind -> the sizes of its arrays
        for kind, arrays in parts.items():
            self.sizes[kind] = tuple(array.size for array in arrays)
            self.columns[kind] = slice(start, start + sum(self.sizes[kind]))
            start = self.columns[kind].stop
        sized = [array for arrays in parts.values() for array in arrays if array.size]
        dtype = np.result_type(*sized) if sized else np.dtype(np.float64)
        self.capacity = max(1, min(FLUSH_RECORDS, FLUSH_BYTES // max(start * dtype.itemsize, 1)))
        self.rows = np.empty((self.capacity, start), dtype=dtype)
        self.positions = []  # the record number of each filled row

    @property
    def full(self):
        return len(self.positions) == self.capacity

    def add(self, position, parts):
        """Copy the arrays of one record into the next free row (a single NumPy call:
        with axis=None, concatenate flattens the arrays itself)."""
        arrays = [array for kind_arrays in parts.values() for array in kind_arrays]
        np.concatenate(arrays, axis=None, out=self.rows[len(self.positions)])
        self.positions.append(position)

    def filled(self, kind):
        """One kind of numbers of the filled rows: (records, values)."""
        return self.rows[:len(self.positions), self.columns[kind]]


# -- the statistics: each takes a block of records, (records, ...) -> one value per record ----

def sorted_summaries(rows, sizes, unsorted_sums):
    """mean, std and the 15/50/85th percentiles of every array of every record, as
    activation_summary gives them.

    rows: (records, total), each row a record's arrays laid end to end (`sizes` values each),
    every array's values SORTED; unsorted_sums: (records, len(sizes)), the sum of each array
    taken BEFORE sorting. For the n values x of one array:

        mean = sum(x) / n        std = sqrt(sum((x - mean)^2) / n)    (biased, like np.std)

    Returns {'mean', 'std', 'p15', 'p50', 'p85'}, each (records, len(sizes)). The
    percentiles of all the arrays are picked from their columns in one go (see
    sorted_percentiles for the formula); NaN sorts last, so an array whose last sorted value
    is NaN holds one, and its percentiles are NaN, as np.percentile gives. `rows` is used as
    scratch space: it holds the squares (x - mean)^2 afterwards.
    """
    starts = np.cumsum((0, *sizes[:-1]))
    n = np.asarray(sizes)
    low, high, fraction = sorted_positions(tuple(sizes))  # (arrays * 3,) each
    v_low, v_high = rows[:, low], rows[:, high]
    percentile = (v_low + fraction * (v_high - v_low)).reshape(len(rows), len(sizes), 3)
    percentile[np.isnan(rows[:, starts + n - 1])] = np.nan
    # The sorted values add up to the same sum, up to rounding, as the values in their own
    # order (which np.mean adds). Not when the sum overflows (a network blowing up): then the
    # order decides between inf, -inf and NaN, and the sum in np.mean's order is the one used.
    sums = segment_sums(rows, sizes)
    sums = np.where(np.isfinite(sums) & np.isfinite(unsorted_sums), sums, unsorted_sums)
    mean = sums / n  # (records, arrays), in float64
    for k, (start, size) in enumerate(zip(starts, sizes, strict=True)):
        rows[:, start:start + size] -= mean[:, k:k + 1].astype(rows.dtype)
    np.square(rows, out=rows)
    std = np.sqrt(segment_sums(rows, sizes) / n)
    return {"mean": mean, "std": std, "p15": percentile[..., 0].astype(np.float64),
            "p50": percentile[..., 1].astype(np.float64),
            "p85": percentile[..., 2].astype(np.float64)}


@functools.lru_cache(maxsize=64)
def sorted_positions(sizes, q=PERCENTILES):
    """For arrays of these sizes laid end to end, each sorted: the columns floor(t) and
    floor(t) + 1 of each array's q-th percentiles, and t - floor(t) (see sorted_percentiles),
    array after array. (Cached: a recorder asks for the same few layouts again and again.)"""
    low, high, fraction, start = [], [], [], 0
    for size in sizes:
        lows, highs, fractions = percentile_positions(size, tuple(q))
        low += [start + i for i in lows]
        high += [start + i for i in highs]
        fraction += list(fractions)
        start += size
    return np.array(low, dtype=np.intp), np.array(high, dtype=np.intp), np.array(fraction)


def segment_sums(rows, sizes):
    """(records, len(sizes)): the sum of each array of each row (the arrays laid end to end,
    with these sizes), with NumPy's pairwise summation in the rows' precision, as np.mean and
    np.std do."""
    sums = np.empty((len(rows), len(sizes)))
    start = 0
    for k, size in enumerate(sizes):
        sums[:, k] = rows[:, start:start + size].sum(axis=1)
        start += size
    return sums


def percentiles(values, axis=0, q=PERCENTILES):
    """np.percentile(values, q, axis) with its default linear interpolation.

    The result has the q's on its first axis: (len(q), rest of the shape).
    (np.sort is used rather than np.partition: on these small rows NumPy's vectorized sort is
    the faster of the two, and it is the obvious algorithm.)
    """
    values = np.moveaxis(values, axis, -1)  # sort along the last, contiguous axis
    return sorted_percentiles(np.sort(values, axis=-1), q)


def sorted_percentiles(ordered, q=PERCENTILES):
    """The q-th percentiles of values already sorted along the last axis: (len(q), ...).

    With the n values sorted into v, the q-th percentile sits at position t = q/100 * (n - 1),
    between v[floor(t)] and v[floor(t) + 1] (np.percentile's default, linear interpolation):

        p = v[floor(t)] + (t - floor(t)) * (v[floor(t) + 1] - v[floor(t)])

    NaN sorts last: values holding one get NaN percentiles, as np.percentile gives. (Where
    two neighbours are further apart than the dtype's largest number, v[floor(t) + 1] -
    v[floor(t)] overflows to inf, and so does p; np.percentile then gives inf or -inf too,
    its sign depending on t.)
    """
    low, high, fraction = percentile_positions(ordered.shape[-1], tuple(q))
    v_low, v_high = ordered[..., low], ordered[..., high]  # (..., len(q))
    result = np.where(np.isnan(ordered[..., -1:]), np.nan, v_low + fraction * (v_high - v_low))
    return np.moveaxis(result, -1, 0)


@functools.lru_cache(maxsize=64)
def percentile_positions(n, q):
    """floor(t), floor(t) + 1 and t - floor(t) for t = q/100 * (n - 1); cached, since a
    recorder asks for the same few n again and again."""
    position = [percent / 100 * (n - 1) for percent in q]
    low = [int(t) for t in position]  # floor, as t >= 0
    high = [min(i + 1, n - 1) for i in low]
    fraction = np.array([t - i for t, i in zip(position, low, strict=True)])
    return low, high, fraction


def segment_norms(rows, sizes):
    """The Euclidean (Frobenius) norm sqrt(sum(a^2)) of every array a of every record.

    rows: (records, total), each row the arrays of one record laid end to end, `sizes` their
    sizes. Returns (records, len(sizes)). Each sum of squares is the dot product of a row's
    segment with itself, np.einsum('ij,ij->i', a, a), in the arrays' own precision (as
    np.linalg.norm does) and with no temporary array of squares.
    """
    squares = np.empty((len(rows), len(sizes)))
    start = 0
    for k, size in enumerate(sizes):
        segment = rows[:, start:start + size]
        squares[:, k] = np.einsum("ij,ij->i", segment, segment)
        start += size
    return np.sqrt(squares)


def update_ratios(before, after, sizes):
    """||w_after - w_before|| / ||w_before|| for each weight w of each record, from the rows
    (records, total) of all weights laid end to end before and after the step: how far one
    step moved each weight, relative to its size (makemore's rule of thumb: around 1e-3).
    Returns (records, len(sizes)); NaN for a weight that is all zeros (a bias at step 0).
    `after` is used as scratch space: it holds the change afterwards."""
    change = after
    change -= before  # in place; a small step is exact in w's own precision (Sterbenz)
    step, weight = segment_norms(change, sizes), segment_norms(before, sizes)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(weight > 0, step / weight, np.nan)


def saturated_fractions(y, activation):
    """saturated_fraction of each record: y (records, ...) -> (records,)."""
    flat = y.reshape(len(y), -1)
    if activation == "sigmoid":
        saturated = (flat < 0.01) | (flat > 0.99)
    else:
        saturated = np.abs(flat) > 0.99
    return saturated.mean(axis=1)


def dead_fractions(y):
    """dead_fraction of each record: y (records, batch, ...) -> (records,). A unit is dead on
    a batch when its largest output over the batch is 0."""
    largest = y.reshape(y.shape[0], y.shape[1], -1).max(axis=1)  # (records, units)
    return (largest <= 0).mean(axis=1)


def flatten_all(arrays):
    """The arrays flattened and laid end to end in one new vector (a copy)."""
    if not arrays:
        return np.zeros(0)
    return np.concatenate([array.reshape(-1) for array in arrays])


def split(rows, shapes):
    """Undo flatten_all for a stack of records: rows (records, total) -> one block
    (records, *shape) per shape."""
    blocks, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        blocks.append(rows[:, start:start + size].reshape(len(rows), *shape))
        start += size
    return blocks


def same_layers(layers, before):
    """Are these the very layer objects the recorder saw first, in the same order?"""
    return len(layers) == len(before) and all(a is b for a, b in zip(layers, before, strict=True))


def layer_list(layers):
    return ", ".join(layer.name for layer in layers) or "(no layers)"


def activation_name(layer):
    """'relu', 'sigmoid', ... for an Activation layer or the activation of a Dense or Conv2D
    layer (the function's name; a layer of your own may also keep a name there); else None."""
    activation = getattr(layer, "activation", None)
    if isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", None) if callable(activation) else None


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
    # a string such as '01' is two items long too: only a pair of numbers will do
    if not isinstance(hist_range, (tuple, list, np.ndarray)) or len(hist_range) != 2:
        raise TypeError(f"Recorder(hist_range=...) must be a pair (low, high) of numbers, "
                        f"got {hist_range!r}")
    low, high = (check_float(v, "Recorder(hist_range=...): each end") for v in hist_range)
    if not low < high:
        raise ValueError(f"Recorder(hist_range=...) must have finite low < high, "
                         f"got {hist_range!r}")
    return low, high
