"""The standard pictures of the lessons, each answering one question about training.

    loss_curves            does the loss fall, and does validation follow?
    step_curves            any quantity over training steps, one line per run
    gradient_flow          how large is each layer's gradient over training? (log scale)
    gradient_flow_bars     ... and layer by layer at chosen steps
    activation_histograms  how are each layer's activations distributed? (makemore style)
    histograms             how are raw values distributed, e.g. each layer's gradients?
    percentile_bands       how does one layer's input distribution drift? (Ioffe & Szegedy Fig. 1)
    update_ratios          how far does each step move the weights, relative to their size?
    heatmap, heatmaps      a sweep's results, e.g. learning rate x init scale
    decision_boundary      what a 2-D classifier has learned

Every function returns the matplotlib Figure and saves it (atomically) when given `path`
(a file name whose extension matplotlib writes: .png, .pdf, .svg, ...; none means PNG).
Arguments are checked before anything is drawn: a wrong one raises a TypeError or a
ValueError that names the function and the argument. A layer or statistic a recorder did not
record raises recorder.UnknownName, a ValueError (and, as it was before, a KeyError); an index
out of range raises OutOfRange, a ValueError (and, as before, an IndexError).

The classroom style lives here, and only here: `STYLE` (fonts sized for a projector: titles
16 pt, labels 14, ticks and legends 13), `use_style()` to make it the default for a lesson's
own figures, `color_for(label)` for the kinds of network (with BN blue, without BN orange,
LayerNorm bluish green, GroupNorm reddish purple; Okabe-Ito colours, which colour-blind
readers tell apart) and `setting_color(setting, value)` for the values of a setting (e.g.
momentum 0.99 has the same colour in every lesson). `save(fig, path)` writes a figure
atomically and `show()` opens the windows when there is a screen.

This module imports matplotlib; `import tinynet` does not, so training needs no plotting library.
"""

import inspect
import os
import re
import zlib

import matplotlib
import matplotlib.axes
import matplotlib.backend_bases
import matplotlib.colors
import matplotlib.figure
import matplotlib.ticker
import numpy as np
from matplotlib import pyplot as plt

from tinynet.files import check_path, write_atomically
from tinynet.recorder import MAX_BINS, UnknownName
from tinynet.stats import check_fmt
from tinynet.validation import check_bool, check_float, check_int, to_float_array

# Okabe & Ito (2008): eight colours that colour-blind readers can tell apart
COLORS = ["#0072B2",  # blue            - with BN
          "#E69F00",  # orange          - without BN
          "#009E73",  # bluish green    - LayerNorm
          "#CC79A7",  # reddish purple  - GroupNorm
          "#56B4E9",  # sky blue
          "#D55E00",  # vermillion
          "#F0E442",  # yellow
          "#000000"]  # black
BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION = COLORS[:6]

# One colour per kind of network, the same in every lesson and every figure.
KIND_COLORS = {
    "with BN": BLUE,
    "without BN": ORANGE,
    "LayerNorm": GREEN,
    "GroupNorm": PURPLE,
}

# Readable from the back of a classroom: titles 16 pt, labels 14, ticks and legends 13.
STYLE = {
    "font.size": 14,
    "axes.titlesize": 16,
    "axes.labelsize": 14,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 13,
    "legend.title_fontsize": 13,
    "figure.titlesize": 18,
    "lines.linewidth": 2.4,
    "lines.markersize": 7,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=COLORS),
    "figure.dpi": 100,
    "savefig.dpi": 110,
}
DPI = 110


def use_style():
    """Make the classroom style the default for every figure drawn from now on (a lesson
    calls it once at the top, so its own figures look like tinynet.plot's)."""
    plt.rcParams.update(STYLE)


# How labels name each kind of normalization, in lowercase words ('normalization' alone
# names none in particular: 'no normalization' is a run without any).
KIND_WORDS = {
    "LayerNorm": [("layernorm",), ("layer", "norm"), ("layernormalization",),
                  ("layer", "normalization")],
    "GroupNorm": [("groupnorm",), ("group", "norm"), ("groupnormalization",),
                  ("group", "normalization")],
    "with BN": [("bn",), ("batchnorm",), ("batch", "norm"), ("batchnormalization",),
                ("batch", "normalization")],
    "normalization": [("normalization",), ("norm",)],
}
NEGATIONS = ("no", "without", "non", "minus")  # right before a name: 'no BN', 'non-BN'


def color_for(label):
    """A stable colour for a run's label, the same in every lesson:

        'with BN', 'BN', 'batch norm', 'BatchNorm + dropout'      -> blue
        'LayerNorm', 'layer norm'                                 -> bluish green
        'GroupNorm', 'group norm'                                 -> reddish purple
        'without BN', 'no batch norm', 'w/o BN', 'BN off',
        'no LayerNorm', 'no normalization', 'plain'               -> orange
        any other label: a fixed colour computed from its text (never blue or orange).

    Names are whole words ('subnet' does not say BN), and a name is negated by 'no',
    'without', 'w/o', 'non' or 'minus' right before it, or 'off' right after it. A TypeError
    for a label that is not a string."""
    if not isinstance(label, str):
        raise TypeError(f"color_for(label=...) must be a string, got {label!r}")
    words = re.findall(r"[a-z0-9]+", label.lower().replace("w/o", "without"))
    named = kinds_named(words)
    for kind in ("LayerNorm", "GroupNorm", "with BN"):
        if (kind, False) in named:
            return KIND_COLORS[kind]
    if "plain" in words or any(negated for _, negated in named):
        return KIND_COLORS["without BN"]
    others = [SKY, VERMILLION, "#F0E442"]  # not the four kinds' colours, not black
    return others[zlib.crc32(label.encode()) % len(others)]


def kinds_named(words):
    """(kind, negated) for each normalization the words name, e.g. ['no', 'batch', 'norm'] ->
    [('with BN', True), ('normalization', False)] (the second from 'norm' alone)."""
    found = []
    for start in range(len(words)):
        for kind, phrases in KIND_WORDS.items():
            for phrase in phrases:
                end = start + len(phrase)
                if tuple(words[start:end]) == phrase:
                    before = words[start - 1] if start > 0 else None
                    after = words[end] if end < len(words) else None
                    found.append((kind, before in NEGATIONS or after == "off"))
    return found


# A setting's colour comes from where its value sits on a fixed scale, so momentum 0.99 has
# the same colour in lesson 02 as in lesson 06. Each entry: (how to place a value on the
# scale, the scale's two ends). Viridis from dark to light is ordered and colour-blind safe.
SETTING_SCALES = {
    # momentum m: by -log10(1 - m), so 0.9, 0.99 and 0.999 are evenly spaced
    "momentum": (lambda m: -np.log10(1.0 - m), (0.0, 3.0)),
    "batch_size": (np.log2, (1.0, 10.0)),          # 2 ... 1024
    "learning_rate": (np.log10, (-4.0, 1.0)),      # 1e-4 ... 10
    "init_scale": (np.log10, (-3.0, 1.0)),         # 1e-3 ... 10
    "depth": (lambda d: d, (1.0, 12.0)),           # number of layers
}


def setting_color(setting, value):
    """The fixed colour of one value of a setting, e.g. setting_color('momentum', 0.99):
    dark for small values, light for large ones, the same in every lesson. Settings:
    momentum, batch_size, learning_rate, init_scale, depth. A ValueError for an unknown
    setting or a value off its scale (NaN, inf, a momentum outside [0, 1), a learning rate,
    batch size or init scale <= 0), a TypeError for a setting that is not a string or a
    value that is not a number."""
    if not isinstance(setting, str):  # a list cannot even be looked up in SETTING_SCALES
        raise TypeError(f"setting_color(setting=...) must be a setting's name, one of "
                        f"{', '.join(SETTING_SCALES)}, got {setting!r}")
    if setting not in SETTING_SCALES:
        raise ValueError(f"setting_color(setting=...) must be one of "
                         f"{', '.join(SETTING_SCALES)}, got {setting!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"setting_color(value=...) must be a number, got {value!r}") from None
    if not np.isfinite(value):
        raise ValueError(f"setting_color(value=...) must be a finite number, got {value}")
    place, (low, high) = SETTING_SCALES[setting]
    if setting == "momentum" and not 0.0 <= value < 1.0:
        raise ValueError(f"setting_color: a momentum must be in [0, 1), got {value}")
    if setting != "momentum" and setting != "depth" and value <= 0:
        raise ValueError(f"setting_color: a {setting} must be > 0, got {value}")
    position = (float(place(value)) - low) / (high - low)
    return matplotlib.colors.to_hex(plt.cm.viridis(0.85 * min(max(position, 0.0), 1.0)))


def depth_colors(count):
    """`count` colours from dark to light along viridis (ordered, colour-blind safe): for
    layers, where the order is the message."""
    count = check_int(count, "depth_colors(count=...)", minimum=0)
    return [plt.cm.viridis(value) for value in np.linspace(0.0, 0.85, max(count, 1))][:count]


# -- loss and other curves ------------------------------------------------------------------

def loss_curves(runs, metric="loss", xlabel="epoch", path=None, title=None, val=True, ax=None,
                validation_freq=None):
    """Training curves of several runs overlaid: solid = training, dashed = validation.

    runs: dict label -> History, history dict ({'loss': [...], 'val_loss': [...]}) or a 1-D
    array of values. metric: which logged value ('loss', 'accuracy', ...). The x axis counts
    epochs from 1: a History's own epochs (history.epoch, counted from 0 as in Keras, plus 1:
    after fit(initial_epoch=5, epochs=8) the points are at epochs 6, 7, 8), else 1, 2, 3, ...

    Validation points go at the epochs that were validated: fit(validation_freq=k) validates
    every k-th epoch (a list: those epochs, counted from 1), and fit skips the validation of
    an epoch whose loss became NaN or inf. A tinynet History records which epochs it
    validated (history.validation_epochs), and they are used; for a history dict (or a
    History from Keras) from a fit with a validation_freq other than 1, pass the same here
    (an int or a list, as fit takes it).

    Errors: a TypeError or ValueError naming the argument for runs that are not a non-empty
    dict of 1-D numbers, for a path matplotlib cannot write or a bad validation_freq; a
    ValueError (also a KeyError) for a metric a run did not log; a ValueError when a run's
    validation values do not match the epochs validation_freq validates.
    """
    runs = check_runs(runs, "loss_curves")
    if not isinstance(metric, str):
        raise TypeError(f"loss_curves(metric=...) must be a name like 'loss', got {metric!r}")
    validation_freq = check_validation_freq(validation_freq)
    path = check_figure_path(path, "loss_curves")
    curves = {label: history_values(run, metric, label, validation_freq)
              for label, run in runs.items()}
    with matplotlib.rc_context(STYLE):
        fig, ax = new_axes(ax, (8, 5), "loss_curves")
        for label, (epochs, train, val_epochs, validation) in curves.items():
            color = color_for(label)
            ax.plot(epochs, train, color=color, label=f"{label} (training)")
            if val and validation is not None:
                ax.plot(val_epochs, validation, "--", color=color, label=f"{label} (validation)")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(metric)
        ax.set_title(title or f"{metric.capitalize()} during training")
        ax.legend()
        return finish(fig, path, "loss_curves")


def step_curves(runs, ylabel, xlabel="training step", path=None, title=None, logy=False,
                ax=None):
    """One line per run of any quantity recorded over training steps.

    runs: dict label -> (steps, values), two 1-D arrays of numbers of the same length, e.g.
    {'with BN': (rec.steps, rec.get(...))}. A TypeError or ValueError naming the argument
    for anything else, or for a path matplotlib cannot write.
    """
    runs = check_runs(runs, "step_curves")
    if not isinstance(ylabel, str):
        raise TypeError(f"step_curves(ylabel=...) must be a string, got {ylabel!r}")
    path = check_figure_path(path, "step_curves")
    curves = {}
    for label, pair in runs.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"step_curves(runs=...): runs[{label!r}] must be a pair "
                            f"(steps, values), got {type(pair).__name__}")
        steps = as_curve(pair[0], f"step_curves(runs=...): the steps of runs[{label!r}]")
        values = as_curve(pair[1], f"step_curves(runs=...): the values of runs[{label!r}]")
        if len(steps) != len(values):
            raise ValueError(f"step_curves(runs=...): runs[{label!r}] has {len(steps)} "
                             f"steps but {len(values)} values")
        curves[label] = steps, values
    with matplotlib.rc_context(STYLE):
        fig, ax = new_axes(ax, (8, 5), "step_curves")
        for label, (steps, values) in curves.items():
            ax.plot(steps, values, color=color_for(label), label=label)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel + (" (log scale)" if logy else ""))
        ax.set_title(title or ylabel)
        ax.legend()
        return finish(fig, path, "step_curves")


# -- gradients ------------------------------------------------------------------------------

def gradient_flow(recorders, key="grad_norm/kernel", path=None, title=None, layers=None):
    """Per-layer gradient norm over training, one panel per recorder, one line per layer.

    recorders: a Recorder or dict label -> Recorder. key: a statistic every plotted layer has,
    e.g. 'grad_norm/kernel' (the default) or 'grad_input_norm'. layers: None for every layer
    with `key`, a number n for n of them evenly spaced from the first to the last (a panel
    stays readable with about 4 lines), or a list of names (a panel whose recorder lacks one
    shows the others). A ValueError (also a KeyError) for a key no recorded layer has, or a
    listed layer no recorder recorded or that has no `key`; TypeError / ValueError for the
    other arguments.
    """
    recorders = check_recorders(recorders, "gradient_flow")
    check_key(key, "gradient_flow")
    path = check_figure_path(path, "gradient_flow")
    found = layers_per_panel(recorders, key, "gradient_flow", layers)
    with matplotlib.rc_context(STYLE):
        fig, axes = panels(len(recorders), sharey=True)
        for ax, (label, recorder) in zip(axes, recorders.items(), strict=True):
            names = found[label]
            for name, color in zip(names, depth_colors(len(names)), strict=True):
                ax.plot(recorder.steps, recorder.get(name, key), color=color, label=name)
            ax.set_xlabel("training step")
            ax.set_title(label)
            if names:
                ax.set_yscale("log")
            else:
                note_missing(ax, key)
        layer_legends(fig, axes, found, title="layer (dark: input side)")
        for ax in axes[::columns_of(len(axes))]:
            ax.set_ylabel(f"{gradient_label(key)} (log scale)")
        suptitle(fig, axes, title or "Gradient norm per layer during training")
        return finish(fig, path, "gradient_flow")


def gradient_flow_bars(recorders, key="grad_norm/kernel", step_index=-1, path=None,
                       title=None):
    """Bars of the gradient norm of each layer (x: depth), at the chosen record(s), grouped
    by recorder. step_index: an index into recorder.steps, or a non-empty list of them. A
    ValueError (also a KeyError) when a recorder has no layer with `key`, OutOfRange (a
    ValueError, also an IndexError) for an index past the records; TypeError / ValueError for
    the other arguments."""
    recorders = check_recorders(recorders, "gradient_flow_bars")
    check_key(key, "gradient_flow_bars")
    indices = step_index if isinstance(step_index, (list, tuple)) else [step_index]
    if not indices:
        raise ValueError("gradient_flow_bars(step_index=...) is an empty list; give at least "
                         "one index into recorder.steps, e.g. -1 for the last record")
    for index in indices:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"gradient_flow_bars(step_index=...) must be an int or a list of "
                            f"ints, got {step_index!r}")
    path = check_figure_path(path, "gradient_flow_bars")
    found = {}
    for label, recorder in recorders.items():
        found[label] = layers_with(recorder, key, label, "gradient_flow_bars")
        for index in indices:
            check_index(index, len(recorder.steps), "gradient_flow_bars(step_index=...)")
    groups = [(label, recorder, index) for label, recorder in recorders.items()
              for index in indices]
    hatches = ["", "//", "..", "xx", "\\\\"]
    with matplotlib.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(groups) + 4), 5), layout="constrained")
        width = 0.8 / len(groups)
        depth = 0
        for g, (label, recorder, index) in enumerate(groups):
            names = found[label]
            values = [recorder.get(name, key)[index] for name in names]
            depth = max(depth, len(names))
            positions = np.arange(len(names)) + (g - (len(groups) - 1) / 2) * width
            step = int(recorder.steps[index])
            ax.bar(positions, values, width=width, color=color_for(label),
                   hatch=hatches[indices.index(index) % len(hatches)], edgecolor="white",
                   label=f"{label}, step {step}" if len(indices) > 1 or len(groups) > 1
                   else f"step {step}")
        ax.set_xticks(np.arange(depth))
        ax.set_xticklabels([str(i + 1) for i in range(depth)])
        ax.set_yscale("log")
        ax.set_xlabel("layer (1 = nearest the input)")
        ax.set_ylabel(f"{gradient_label(key)} (log scale)")
        ax.set_title(title or "Gradient norm layer by layer")
        ax.legend()
        return finish(fig, path, "gradient_flow_bars")


def update_ratios(recorder_or_dict, param="kernel", path=None, title=None, layers=None):
    """log10 of ||update|| / ||weight|| per layer over training, with the rule-of-thumb
    reference at -3 (updates about a thousandth of the weights; Karpathy, makemore).
    layers: as in gradient_flow. Errors: as gradient_flow's, for the key
    'update_ratio/<param>'."""
    recorders = check_recorders(recorder_or_dict, "update_ratios", "recorder_or_dict")
    if not isinstance(param, str):
        raise TypeError(f"update_ratios(param=...) must be a name like 'kernel', got {param!r}")
    path = check_figure_path(path, "update_ratios")
    key = f"update_ratio/{param}"
    found = layers_per_panel(recorders, key, "update_ratios", layers)
    with matplotlib.rc_context(STYLE):
        fig, axes = panels(len(recorders), sharey=True)
        for ax, (label, recorder) in zip(axes, recorders.items(), strict=True):
            names = found[label]
            if not names:
                note_missing(ax, key)
            for name, color in zip(names, depth_colors(len(names)), strict=True):
                with np.errstate(divide="ignore", invalid="ignore"):
                    ax.plot(recorder.steps, np.log10(recorder.get(name, key)), color=color,
                            label=name)
            ax.axhline(-3, color="black", linestyle="--", linewidth=1.5, label="1e-3 reference")
            ax.set_xlabel("training step")
            ax.set_title(label)
        layer_legends(fig, axes, found, extra=1)
        for ax in axes[::columns_of(len(axes))]:
            ax.set_ylabel(f"log10(||update|| / ||{param}||)")
        suptitle(fig, axes, title or "Update-to-weight ratio per layer")
        return finish(fig, path, "update_ratios")


# -- activations ----------------------------------------------------------------------------

def activation_histograms(recorder_or_dict, layers=None, which="output", step_index=-1,
                          path=None, title=None, logy=False):
    """One density curve per layer of its activations at one record (needs a Recorder made
    with histograms=True). The legend gives each layer's mean, std, and % saturated (sigmoid,
    tanh) or % dead units (ReLU).

    layers: None for the recorded layers with a nonlinearity, except the model's output layer
    (its probabilities are not a hidden activation; it stays when it is the only one), a
    number n for n of those evenly spaced from the first to the last, or a list of names.
    The y axis is a density (share per unit of x), so layers binned over different ranges
    compare; logy=True puts it on a log scale (a ReLU's spike at 0 can be 10^5 times the
    rest).

    Errors: a ValueError (also a KeyError) for a listed layer a recorder did not record or
    histograms it did not keep; OutOfRange (a ValueError, also an IndexError) for a
    step_index past the records; TypeError / ValueError for the other arguments."""
    recorders = check_recorders(recorder_or_dict, "activation_histograms", "recorder_or_dict")
    if which not in ("input", "output"):
        raise ValueError(f"activation_histograms(which=...) must be 'input' or 'output', "
                         f"got {which!r}")
    if isinstance(step_index, bool) or not isinstance(step_index, (int, np.integer)):
        raise TypeError(f"activation_histograms(step_index=...) must be an int, "
                        f"got {step_index!r}")
    check_layers_option(layers, "activation_histograms")
    path = check_figure_path(path, "activation_histograms")
    found = {}
    for label, recorder in recorders.items():
        check_index(step_index, len(recorder.steps), "activation_histograms(step_index=...)")
        names = (list(layers) if isinstance(layers, (list, tuple))
                 else evenly_spaced(nonlinear_layers(recorder), layers))
        check_recorded(recorder, names, label, "activation_histograms(layers=...)")
        for name in names:
            if f"{which}_hist" not in recorder.keys(name):
                raise UnknownName(f"activation_histograms: {recorder_name(label)} has no "
                                  f"{which} histograms of layer {name!r}; record with "
                                  f"Recorder(histograms=True)")
        found[label] = names
    with matplotlib.rc_context(STYLE):
        fig, axes = panels(len(recorders), sharey=False)
        for ax, (label, recorder) in zip(axes, recorders.items(), strict=True):
            names = found[label]
            for name, color in zip(names, depth_colors(len(names)), strict=True):
                edges = recorder.hist_edges(name, which)
                share = recorder.get(name, f"{which}_hist")[step_index]
                centers = (edges[:-1] + edges[1:]) / 2
                ax.plot(centers, share / np.diff(edges), color=color,
                        label=histogram_legend(recorder, name, which, step_index))
            ax.set_xlabel(f"{which} value")
            ax.set_ylabel("density (log scale)" if logy else "density")
            if logy:
                ax.set_yscale("log")
            ax.set_title(f"{label + ': ' if label else ''}step {int(recorder.steps[step_index])}")
            legend_below(ax, len(names), columns=1)
        suptitle(fig, axes, title or f"Distribution of each layer's {which}")
        return finish(fig, path, "activation_histograms")


def histograms(groups, xlabel, path=None, title=None, bins=60):
    """Density curves of raw values, one panel per group and one curve per entry, e.g. the
    gradients each layer received at one step. groups: dict panel label -> dict line label
    -> array of finite numbers. Within a panel every curve uses the same `bins` bins (an int
    from 1 to 10,000; over the panel's range, from the 0.5th to the 99.5th percentile of all
    its values), so the curves compare; the legend gives each entry's mean and std. A
    TypeError or ValueError naming the argument for anything else (text, an empty array, a
    NaN or inf value)."""
    groups = check_runs(groups, "histograms", what="groups")
    if not isinstance(xlabel, str):
        raise TypeError(f"histograms(xlabel=...) must be a string, got {xlabel!r}")
    bins = check_int(bins, "histograms(bins=...)", minimum=1)
    if bins > MAX_BINS:
        raise ValueError(f"histograms(bins=...) must be at most {MAX_BINS:,}, got {bins:,}")
    path = check_figure_path(path, "histograms")
    panels_values = {}
    for label, lines in groups.items():
        if not isinstance(lines, dict) or not lines:
            raise TypeError(f"histograms(groups=...): groups[{label!r}] must be a non-empty "
                            f"dict line label -> values")
        panels_values[label] = {name: histogram_values(v, f"groups[{label!r}][{name!r}]")
                                for name, v in lines.items()}
    with matplotlib.rc_context(STYLE):
        fig, axes = panels(len(groups), sharey=False)
        for ax, (label, values) in zip(axes, panels_values.items(), strict=True):
            pooled = np.concatenate(list(values.values()))
            check_span(pooled, label)
            low, high = np.percentile(pooled, [0.5, 99.5])
            edges = np.linspace(low, high, bins + 1) if high > low else bins
            for (name, v), color in zip(values.items(), depth_colors(len(values)), strict=True):
                density, edges_used = np.histogram(v, bins=edges, density=True)
                centers = (edges_used[:-1] + edges_used[1:]) / 2
                ax.plot(centers, density, color=color,
                        label=f"{name}: mean {v.mean():+.1e}, std {v.std():.1e}")
            ax.set_xlabel(xlabel)
            ax.set_ylabel("density")
            ax.set_title(label)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
            legend_below(ax, len(values), columns=1)
        suptitle(fig, axes, title or "Histograms")
        return finish(fig, path, "histograms")


def percentile_bands(recorders, layer, unit=None, path=None, title=None, sharey=False):
    """The 15th, 50th and 85th percentiles of one layer's INPUT over training, one panel per
    recorder (Ioffe & Szegedy 2015, Fig. 1b,c). unit=None: over all values of the input;
    unit=k: over the batch for unit k (needs Recorder(per_unit=True)). A ValueError (also a
    KeyError) for a layer a recorder did not record, or unit=k without per-unit
    percentiles; OutOfRange (a ValueError, also an IndexError) for a unit the layer does not
    have; TypeError for the other arguments."""
    sharey = check_bool(sharey, "percentile_bands(sharey=...)")
    recorders = check_recorders(recorders, "percentile_bands")
    if not isinstance(layer, str):
        raise TypeError(f"percentile_bands(layer=...) must be a layer name, got {layer!r}")
    if unit is not None and (isinstance(unit, bool) or not isinstance(unit, (int, np.integer))):
        raise TypeError(f"percentile_bands(unit=...) must be None or an int, got {unit!r}")
    path = check_figure_path(path, "percentile_bands")
    for label, recorder in recorders.items():
        check_recorded(recorder, [layer], label, "percentile_bands(layer=...)")
        if unit is not None:
            if "input_unit_percentiles" not in recorder.keys(layer):
                raise UnknownName(f"percentile_bands(unit=...): {recorder_name(label)} has no "
                                  f"per-unit percentiles of {layer!r}; record with "
                                  f"Recorder(per_unit=True)")
            units = recorder.get(layer, "input_unit_percentiles").shape[2]
            check_index(unit, units, "percentile_bands(unit=...)", what=f"units of {layer!r}")
    with matplotlib.rc_context(STYLE):
        fig, axes = panels(len(recorders), sharey=sharey)
        for ax, (label, recorder) in zip(axes, recorders.items(), strict=True):
            steps = recorder.steps
            if unit is None:
                p15, p50, p85 = (recorder.get(layer, f"input_p{q}") for q in (15, 50, 85))
            else:
                values = recorder.get(layer, "input_unit_percentiles")
                p15, p50, p85 = values[:, 0, unit], values[:, 1, unit], values[:, 2, unit]
            color = color_for(label) if label else BLUE
            ax.fill_between(steps, p15, p85, color=color, alpha=0.15, linewidth=0)
            ax.plot(steps, p85, "--", color=color, linewidth=1.6, label="85th percentile")
            ax.plot(steps, p50, color=color, label="median")
            ax.plot(steps, p15, ":", color=color, linewidth=1.8, label="15th percentile")
            ax.set_xlabel("training step")
            ax.set_title(label)
            ax.legend()
        what = f"unit {unit} of the input" if unit is not None else "input value"
        axes[0].set_ylabel(f"{what} of {layer}")
        suptitle(fig, axes, title or f"Distribution of the input of {layer} during training")
        return finish(fig, path, "percentile_bands")


# -- sweeps ---------------------------------------------------------------------------------

def heatmap(values, row_labels, col_labels, xlabel, ylabel, path=None, title=None,
            fmt="{:.2f}", cmap="viridis", ax=None, vmin=None, vmax=None, colorbar_label=None,
            nan_label="diverged"):
    """A grid of results with each cell's value written in it; NaN cells (runs that
    diverged) are grey and labelled `nan_label`. values: (rows, cols). A TypeError or
    ValueError naming the argument for values of the wrong shape, labels that are not lists,
    a fmt that cannot format a number, an unknown cmap or a path matplotlib cannot write."""
    values = check_grid(values, row_labels, col_labels, "heatmap")
    check_cells_style(fmt, cmap, "heatmap")
    vmin, vmax = check_color_range(vmin, vmax, "heatmap")
    if (vmin is None) != (vmax is None):  # one end given: the other comes from the data
        vmin, vmax = color_range_of([values], vmin, vmax, "heatmap")
    path = check_figure_path(path, "heatmap")
    with matplotlib.rc_context(STYLE):
        fig, ax = new_axes(ax, (1.3 * len(col_labels) + 3, 0.8 * len(row_labels) + 2),
                           "heatmap")
        image = draw_cells(ax, values, row_labels, col_labels, fmt, cmap, vmin, vmax,
                           nan_label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title or "")
        colorbar = fig.colorbar(image, ax=ax)
        if colorbar_label:
            colorbar.set_label(colorbar_label)
        return finish(fig, path, "heatmap")


def heatmaps(grids, row_labels, col_labels, xlabel, ylabel, path=None, title=None,
             fmt="{:.2f}", cmap="viridis", vmin=None, vmax=None, colorbar_label=None,
             nan_label="diverged"):
    """Several heatmaps side by side (dict label -> values) on ONE colour scale, so that the
    same colour means the same number in every panel. Errors: as heatmap's."""
    grids = check_runs(grids, "heatmaps", what="grids")
    checked = {label: check_grid(values, row_labels, col_labels, "heatmaps")
               for label, values in grids.items()}
    check_cells_style(fmt, cmap, "heatmaps")
    vmin, vmax = check_color_range(vmin, vmax, "heatmaps")
    path = check_figure_path(path, "heatmaps")
    vmin, vmax = color_range_of(list(checked.values()), vmin, vmax, "heatmaps")
    with matplotlib.rc_context(STYLE):
        width = (1.3 * len(col_labels) + 1.5) * len(checked) + 1.5
        fig, axes = plt.subplots(1, len(checked), figsize=(width, 0.8 * len(row_labels) + 2.2),
                                 squeeze=False, layout="constrained")
        axes = list(axes[0])
        for ax, (label, values) in zip(axes, checked.items(), strict=True):
            image = draw_cells(ax, values, row_labels, col_labels, fmt, cmap, vmin, vmax,
                               nan_label)
            ax.set_xlabel(xlabel)
            ax.set_title(label)
        axes[0].set_ylabel(ylabel)
        colorbar = fig.colorbar(image, ax=axes)
        if colorbar_label:
            colorbar.set_label(colorbar_label)
        if title:
            fig.suptitle(title)
        return finish(fig, path, "heatmaps")


def draw_cells(ax, values, row_labels, col_labels, fmt, cmap, vmin, vmax, nan_label):
    colormap = plt.get_cmap(cmap).with_extremes(bad="#BBBBBB")  # NaN cells: grey
    image = ax.imshow(np.ma.masked_invalid(values), cmap=colormap, vmin=vmin, vmax=vmax,
                      aspect="auto")
    ax.set_xticks(np.arange(len(col_labels)))
    ax.set_xticklabels([str(c) for c in col_labels])
    ax.set_yticks(np.arange(len(row_labels)))
    ax.set_yticklabels([str(r) for r in row_labels])
    ax.grid(False)
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            value = values[r, c]
            if np.isfinite(value):
                # dark text on light cells, white text on dark ones
                red, green, blue, _ = image.cmap(image.norm(value))
                light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
                ax.text(c, r, fmt.format(value), ha="center", va="center",
                        color="black" if light else "white", fontsize=13)
            else:
                ax.text(c, r, nan_label, ha="center", va="center", color="black", fontsize=12)
    return image


# -- decision boundary ----------------------------------------------------------------------

def accepts_keyword(function, name):
    """Whether function(..., name=...) is allowed (a named parameter, or **kwargs)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # some built-ins have no signature
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in parameters)


def decision_boundary(model, x, y, path=None, title=None, ax=None, resolution=200):
    """The regions a 2-D classifier assigns to each class, with the data on top.

    model: anything with predict(x) giving (n, 1) probabilities (binary) or (n, classes)
    (softmax). x: (n, 2). y: (n,) class labels (or (n, 1) / one-hot). A TypeError or
    ValueError naming the argument for anything else, or for a path matplotlib cannot write."""
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"decision_boundary(model=...) must have a predict method, got "
                        f"{type(model).__name__}")
    width = (getattr(model, "input_shape", None) or (None, 2))[-1]
    if width != 2:
        raise ValueError(f"decision_boundary needs a model with 2 inputs (it colours the plane "
                         f"of the two features), but this model takes {width}")
    x, labels = check_boundary_data(x, y)
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
            or resolution < 2:
        raise ValueError(f"decision_boundary(resolution=...) must be an int >= 2, "
                         f"got {resolution!r}")
    path = check_figure_path(path, "decision_boundary")
    low, high = x.min(axis=0), x.max(axis=0)
    pad = 0.1 * (high - low) + 1e-9
    grid_x, grid_y = np.meshgrid(np.linspace(low[0] - pad[0], high[0] + pad[0], resolution),
                                 np.linspace(low[1] - pad[1], high[1] + pad[1], resolution))
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    # quietly: a tinynet or Keras model's predict would print a progress bar over the grid
    quiet = {"verbose": 0} if accepts_keyword(model.predict, "verbose") else {}
    probabilities = np.asarray(model.predict(grid, **quiet))
    check_predictions(probabilities, labels, grid_x.size)
    classes = np.unique(labels).astype(int)
    with matplotlib.rc_context(STYLE):
        fig, ax = new_axes(ax, (7, 6), "decision_boundary")
        if probabilities.ndim == 1 or probabilities.shape[1] == 1:
            p = probabilities.reshape(grid_x.shape)
            blue_orange = matplotlib.colors.LinearSegmentedColormap.from_list(
                "blue_orange", [BLUE, "#FFFFFF", ORANGE])
            filled = ax.contourf(grid_x, grid_y, p, levels=np.linspace(0, 1, 11),
                                 cmap=blue_orange, alpha=0.6)
            ax.contour(grid_x, grid_y, p, levels=[0.5], colors="black", linewidths=2)
            fig.colorbar(filled, ax=ax, label="predicted probability of class 1")
            point_colors = [BLUE, ORANGE]
        else:
            predicted = probabilities.argmax(axis=1).reshape(grid_x.shape)
            n_classes = probabilities.shape[1]
            palette = [COLORS[i % len(COLORS)] for i in range(n_classes)]
            ax.contourf(grid_x, grid_y, predicted, levels=np.arange(n_classes + 1) - 0.5,
                        colors=palette, alpha=0.3)
            point_colors = palette
        for k in classes:
            chosen = labels.astype(int) == k
            ax.scatter(x[chosen, 0], x[chosen, 1], s=22, color=point_colors[k % len(
                point_colors)], edgecolor="white", linewidth=0.6, label=f"class {k}")
        ax.set_xlabel("feature 1")
        ax.set_ylabel("feature 2")
        ax.set_title(title or "Decision boundary")
        ax.legend(loc="best")
        ax.grid(False)
        return finish(fig, path, "decision_boundary")


def check_boundary_data(x, y):
    """x as (n, 2) finite floats and y's class labels as (n,): whole numbers >= 0 (a -1 or
    0.5 would be cast to a class of its own, or to another's)."""
    x = to_float_array(x, "decision_boundary(x=...)", dtype="float64", min_ndim=2)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"decision_boundary(x=...) must have shape (n, 2), got {x.shape}")
    y = to_float_array(y, "decision_boundary(y=...)", dtype="float64")
    labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    if len(labels) != len(x):
        raise ValueError(f"decision_boundary: x has {len(x)} samples but y has {len(labels)}")
    bad = labels[(labels < 0) | (labels != np.round(labels))]
    if bad.size:
        raise ValueError(f"decision_boundary(y=...) must hold class labels 0, 1, 2, ..., got "
                         f"{bad.size} other value(s) such as {bad[0]:g}")
    return x, labels


def check_predictions(probabilities, labels, points):
    """model.predict's answer for the grid's points: (points,) or (points, 1) probabilities
    of class 1, or (points, classes); and every label one of those classes."""
    if probabilities.ndim not in (1, 2) or len(probabilities) != points:
        raise ValueError(f"decision_boundary: model.predict must give ({points}, 1) "
                         f"probabilities or ({points}, classes) for the {points} points of "
                         f"the grid, got shape {probabilities.shape}")
    classes = 2 if probabilities.ndim == 1 or probabilities.shape[1] == 1 else \
        probabilities.shape[1]
    if labels.max() >= classes:
        raise ValueError(f"decision_boundary(y=...): the model predicts {classes} classes (0 "
                         f"to {classes - 1}), but y holds the label {labels.max():g}")


# -- shared helpers -------------------------------------------------------------------------

def new_axes(ax, figsize, where):
    """(figure, axes): a new figure, or the figure of the axes the caller passed in."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    if not isinstance(ax, matplotlib.axes.Axes):
        raise TypeError(f"{where}(ax=...) must be a matplotlib Axes, got {type(ax).__name__}")
    return ax.figure, ax


def columns_of(count):
    """Panels per row: up to 3 in one row, then rows of 2 (so four panels make a 2 x 2
    grid, not a strip too wide for a projector)."""
    return count if count <= 3 else 2


def panels(count, sharey):
    """`count` panels of about 6.5 x 5 inches, in rows of columns_of(count); returns the
    figure and the list of used axes (a spare one in a last, half-empty row is removed)."""
    columns = columns_of(count)
    rows = -(-count // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(6.5 * columns + 0.5, 5.2 * rows),
                             sharey=sharey, squeeze=False, layout="constrained")
    axes = list(axes.ravel())
    for spare in axes[count:]:
        spare.remove()
    return fig, axes[:count]


def legend_below(ax, entries, title=None, columns=4):
    """A legend under the panel, so that it never hides a curve."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(entries, columns),
              title=title, frameon=False)


def layer_legends(fig, axes, found, title=None, extra=0):
    """One legend under the whole figure when every panel shows the same layers (four
    identical legends say nothing more than one), else one legend under each panel.
    found: {panel label: layer names}; extra: lines beyond the layers (e.g. a reference)."""
    lists = [tuple(names) for names in found.values() if names]
    if len(axes) > 1 and len(set(lists)) == 1:
        panel = axes[[tuple(names) for names in found.values()].index(lists[0])]
        shared_legend(fig, panel, columns=min(len(lists[0]) + extra, 5), title=title)
        return
    for ax, names in zip(axes, found.values(), strict=True):
        if names:
            legend_below(ax, len(names) + extra, title=title, columns=2 if len(axes) > 1 else 4)


def shared_legend(fig, ax, columns=4, title=None):
    """One legend for the whole figure, under its panels, made from the lines and points of
    `ax`: for figures whose panels all show the same things."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), columns),
               frameon=False, title=title)


def suptitle(fig, axes, text):
    if len(axes) == 1 and not axes[0].get_title():
        axes[0].set_title(text)
    else:
        fig.suptitle(text)


def show():
    """Show the open figures when there is a display (not under Agg, e.g. in tests or CI).
    In a notebook the inline backend has already drawn them, so nothing more is needed."""
    backend = matplotlib.get_backend().lower()
    if backend in ("agg", "pdf", "svg", "ps", "cairo", "template") or "inline" in backend:
        return
    plt.show()


def save(fig, path):
    """Write `fig` to `path` atomically (see finish) and return the path. A TypeError when
    fig is not a matplotlib Figure or path not a file name, a ValueError for an extension
    matplotlib cannot write."""
    if not isinstance(fig, matplotlib.figure.Figure):
        raise TypeError(f"save(fig=...) must be a matplotlib Figure, such as a plot function "
                        f"returns, got {type(fig).__name__}")
    if path is None:
        raise TypeError("save(path=...) must be a file name such as 'figure.png', got None")
    finish(fig, check_figure_path(path, "save"), "save")
    return path


def finish(fig, path, where):
    """Save the figure when a path is given (checked by check_figure_path), atomically:
    written to a temporary file in the same folder, then renamed, so a half-written image
    never replaces a good one. `where` names the caller in the errors."""
    if path is not None:
        extension = os.path.splitext(path)[1].lower().lstrip(".") or "png"
        # a figure without a layout engine may spill over its edges: trim it to what was
        # drawn (this draws it twice, so laid-out figures skip it)
        tight = None if fig.get_layout_engine() is not None else "tight"
        write_atomically(path, lambda file: fig.savefig(file, format=extension, dpi=DPI,
                                                        bbox_inches=tight),
                         f"{where}: cannot save the figure", example_name="figure.png")
    return fig


def check_figure_path(path, where):
    """None, or `path` as a str whose extension matplotlib writes (none: PNG). Checked
    before anything is drawn, so that a wrong name fails at once."""
    if path is None:
        return None
    path = check_path(path, f"{where}(path=...)")
    if not path:
        raise ValueError(f"{where}(path=...) is empty; give a file name such as 'figure.png'")
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    formats = matplotlib.backend_bases.FigureCanvasBase.get_supported_filetypes()
    if extension and extension not in formats:
        raise ValueError(f"{where}(path=...): matplotlib cannot write .{extension} files "
                         f"({path}); use .png, .pdf or .svg (all it writes: "
                         f"{', '.join(sorted(formats))})")
    return path


def check_runs(runs, where, what="runs"):
    if not isinstance(runs, dict):
        raise TypeError(f"{where}({what}=...) must be a dict label -> values, e.g. "
                        f"{{'with BN': ..., 'without BN': ...}}, got {type(runs).__name__}")
    if not runs:
        raise ValueError(f"{where}({what}=...) is empty; give at least one")
    for label in runs:
        if not isinstance(label, str):
            raise TypeError(f"{where}({what}=...): labels must be strings, got {label!r}")
    return runs


def history_values(run, metric, label, validation_freq=None):
    """(epochs, training values, validation epochs, validation values) of one run of
    loss_curves: a History, a dict of lists or a 1-D array (see loss_curves for the epochs).
    The validation pair is (None, None) when the run has no validation values."""
    history = getattr(run, "history", run)
    what = f"loss_curves(runs=...): run {label!r}"
    empty = "(fit has not run, or ran 0 epochs)"
    if isinstance(history, dict):
        if not history:
            raise ValueError(f"loss_curves: run {label!r} has nothing recorded yet: its "
                             f"History holds no epoch {empty}")
        if metric not in history:
            raise UnknownName(f"loss_curves(metric=...): run {label!r} has no {metric!r}; it "
                              f"has: {', '.join(map(str, history))}")
        train = as_curve(history[metric], f"{what} ({metric})", empty)
        validation = history.get("val_" + metric)
        loss = history.get("loss")
    elif isinstance(history, (list, tuple, np.ndarray)):
        train, validation, loss = as_curve(history, what, empty), None, None
    else:
        raise TypeError(f"{what} must be a History, a dict of lists or a 1-D array, got "
                        f"{type(run).__name__}")
    epochs = np.arange(1, len(train) + 1)
    numbers = getattr(run, "epoch", None)  # a History's epochs, counted from 0
    if isinstance(numbers, list) and len(numbers) == len(train):
        epochs = np.asarray(numbers) + 1
    if validation is None:
        return epochs, train, None, None
    validation = as_curve(validation, f"{what} (val_{metric})")
    recorded = getattr(run, "validation_epochs", None)  # a History's, counted from 0
    if validation_freq is None and isinstance(recorded, list) and \
            len(recorded) == len(validation):
        return epochs, train, np.asarray(recorded) + 1, validation
    # the epochs fit validated: as FitPlan.validates_after decides (tinynet/model_checks.py)
    freq = 1 if validation_freq is None else validation_freq
    validated = [e for e in epochs if (e in freq if isinstance(freq, list) else e % freq == 0)]
    if loss is not None and not np.isfinite(as_curve(loss, f"{what} (loss)")[-1]) \
            and validated and validated[-1] == epochs[-1]:
        validated.pop()  # fit stops without validating the epoch whose loss blew up
    if len(validated) != len(validation):
        hint = ("; fit validates every validation_freq-th epoch: pass loss_curves(..., "
                "validation_freq=...) as given to fit" if validation_freq is None else "")
        raise ValueError(f"{what} has {len(validation)} validation value(s) for its "
                         f"{len(train)} epochs, but validation_freq={freq!r} validates "
                         f"{len(validated)} of them{hint}")
    return epochs, train, np.asarray(validated), validation


def as_curve(values, what, empty_hint=""):
    """`values` as a 1-D float array, or a TypeError / ValueError that starts with `what`."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be numbers, got {values!r:.80}") from None
    if array.ndim != 1:
        raise ValueError(f"{what} must be 1-D (one number per point), got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{what} holds no values {empty_hint}".rstrip())
    return array


def check_validation_freq(validation_freq):
    """None, an int >= 1 or a list of ints >= 1, as fit takes it."""
    where = "loss_curves(validation_freq=...)"
    if validation_freq is None:
        return None
    if isinstance(validation_freq, (list, tuple)):
        return [check_int(epoch, f"{where}: each epoch of the list", minimum=1)
                for epoch in validation_freq]
    return check_int(validation_freq, where, minimum=1)


def histogram_values(values, what):
    """The values of one curve of histograms(): a flat array of finite numbers."""
    try:
        array = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"histograms(groups=...): {what} must be numbers, got "
                        f"{values!r:.80}") from None
    if array.size == 0:
        raise ValueError(f"histograms(groups=...): {what} is empty; it needs values")
    bad = array.size - np.count_nonzero(np.isfinite(array))
    if bad:
        raise ValueError(f"histograms(groups=...): {what} holds {bad} NaN or infinite "
                         f"value(s); a histogram needs finite values (keep those: "
                         f"values[np.isfinite(values)])")
    return array


def check_span(values, label):
    """A clear error for a panel whose values lie further apart than a float can count (from
    -1e308 to 1e308): its bins would be infinitely wide."""
    low, high = float(values.min()), float(values.max())
    if not np.isfinite(high - low):  # Python floats: inf, without NumPy's overflow warning
        raise ValueError(f"histograms(groups=...): the values of panel {label!r} go from "
                         f"{low:g} to {high:g}, further apart than a float can hold; scale "
                         f"them down first")


def is_recorder(value):
    return all(hasattr(value, name) for name in ("get", "steps", "layer_names", "keys"))


def check_recorders(recorders, where, name="recorders"):
    """dict label -> Recorder; a single Recorder becomes {'': recorder}. `name` is the
    argument's name in the caller's signature."""
    if is_recorder(recorders):
        recorders = {"": recorders}
    if not isinstance(recorders, dict) or not recorders:
        raise TypeError(f"{where}({name}=...) must be a Recorder or a non-empty dict "
                        f"label -> Recorder, got {type(recorders).__name__}")
    for label, recorder in recorders.items():
        if not isinstance(label, str):
            raise TypeError(f"{where}({name}=...): labels must be strings, got {label!r}")
        if not is_recorder(recorder):
            raise TypeError(f"{where}({name}=...): {label!r} is a "
                            f"{type(recorder).__name__}, not a Recorder")
        if len(recorder.steps) == 0:
            raise ValueError(f"{where}: {recorder_name(label)} has recorded nothing yet; "
                             f"train with it first: model.fit(..., callbacks=[recorder])")
    return recorders


def recorder_name(label):
    """How an error names a recorder: 'the recorder' when it came alone, else by label."""
    return f"recorder {label!r}" if label else "the recorder"


def check_key(key, where):
    if not isinstance(key, str):
        raise TypeError(f"{where}(key=...) must be the name of a statistic such as "
                        f"'grad_norm/kernel', got {key!r}")


def layers_with(recorder, key, label, where):
    """The recorded layers (in model order) that have statistic `key`."""
    names = [name for name in recorder.layer_names if key in recorder.keys(name)]
    if not names:
        available = sorted({k for name in recorder.layer_names for k in recorder.keys(name)})
        raise UnknownName(f"{where}: no layer of {recorder_name(label)} has {key!r}; "
                          f"available: {', '.join(available)}")
    return names


def check_recorded(recorder, names, label, where):
    """Refuse layer names the recorder did not record (a typo would drop a curve unseen)."""
    unknown = [name for name in names if name not in recorder.layer_names]
    if unknown:
        raise UnknownName(f"{where}: {recorder_name(label)} recorded no layer named "
                          f"{', '.join(map(repr, unknown))}; it recorded: "
                          f"{', '.join(recorder.layer_names)}")


def check_layers_option(layers, where):
    if layers is None:
        return
    if isinstance(layers, (list, tuple)):
        if not layers:
            raise ValueError(f"{where}(layers=...) is an empty list; give layer names, a "
                             f"number of layers, or None for all")
        for name in layers:
            if not isinstance(name, str):
                raise TypeError(f"{where}(layers=...): each entry must be a layer name (a "
                                f"str), got {name!r}")
        return
    if isinstance(layers, bool) or not isinstance(layers, (int, np.integer)) or layers < 1:
        raise TypeError(f"{where}(layers=...) must be None, a number of layers >= 1 or a list "
                        f"of layer names, got {layers!r}")


def evenly_spaced(names, count):
    """`count` of `names` evenly spaced from the first to the last (all when count is None
    or not smaller)."""
    if count is None or count >= len(names):
        return list(names)
    if count == 1:
        return [names[-1]]
    picks = np.linspace(0, len(names) - 1, count).round().astype(int)
    return [names[i] for i in picks]


def layers_per_panel(recorders, key, where, layers=None):
    """{label: layers with `key`} (chosen by `layers`, see gradient_flow); a panel may have
    none (e.g. 'gamma' without BN), but at least one must have some. A listed layer must
    have `key` in at least one recorder."""
    check_layers_option(layers, where)
    found = {label: [name for name in recorder.layer_names if key in recorder.keys(name)]
             for label, recorder in recorders.items()}
    if not any(found.values()):
        label, recorder = next(iter(recorders.items()))
        layers_with(recorder, key, label, where)  # raises, listing what there is
    if isinstance(layers, (list, tuple)):
        recorded = list(dict.fromkeys(name for recorder in recorders.values()
                                      for name in recorder.layer_names))
        with_key = list(dict.fromkeys(name for names in found.values() for name in names))
        unknown = [name for name in layers if name not in recorded]
        if unknown:
            raise UnknownName(f"{where}(layers=...): no layer named "
                              f"{', '.join(map(repr, unknown))} was recorded; recorded "
                              f"layers: {', '.join(recorded)}")
        lacking = [name for name in layers if name not in with_key]
        if lacking:
            raise UnknownName(f"{where}(layers=...): {', '.join(map(repr, lacking))} "
                              f"{'has' if len(lacking) == 1 else 'have'} no {key!r}; the "
                              f"layers that have it: {', '.join(with_key)}")
        return {label: [name for name in names if name in layers]
                for label, names in found.items()}
    return {label: evenly_spaced(names, layers) for label, names in found.items()}


def note_missing(ax, key):
    ax.text(0.5, 0.5, f"no layer has\n{key}", transform=ax.transAxes, ha="center",
            va="center", fontsize=13, color="#555555")


def nonlinear_layers(recorder):
    """The recorded layers ending in a nonlinearity (relu, tanh, ...) other than the model's
    output layer, whose probabilities are not a hidden activation (it stays when it is the
    only one); every recorded layer if none has a nonlinearity."""
    names = [name for name in recorder.layer_names
             if recorder.activations.get(name, "linear") != "linear"]
    hidden = [name for name in names if name != getattr(recorder, "output_layer", None)]
    return hidden or names or list(recorder.layer_names)


def histogram_legend(recorder, name, which, index):
    mean = recorder.get(name, f"{which}_mean")[index]
    std = recorder.get(name, f"{which}_std")[index]
    text = f"{name}: mean {mean:+.2f}, std {std:.2f}"
    keys = recorder.keys(name)
    if which == "output" and "saturated_fraction" in keys:
        text += f", saturated {recorder.get(name, 'saturated_fraction')[index]:.0%}"
    if which == "output" and "dead_fraction" in keys:
        text += f", dead {recorder.get(name, 'dead_fraction')[index]:.0%}"
    return text


def gradient_label(key):
    if key == "grad_input_norm":
        return "||dL/d(layer input)||"
    if key.startswith("grad_norm/"):
        return f"||dL/d{key.split('/', 1)[1]}||"
    return key


class OutOfRange(ValueError, IndexError):
    """An index past the end: a ValueError, as every bad argument in tinynet; also an
    IndexError, which these errors were before."""


def check_index(index, length, where, what="records"):
    if not -length <= index < length:
        raise OutOfRange(f"{where}: index {index} is out of range for {length} {what}")


def check_cells_style(fmt, cmap, where):
    """heatmap's fmt must format a number ('{:.2f}') and cmap be a colormap or its name."""
    check_fmt(fmt, where)
    if not isinstance(cmap, matplotlib.colors.Colormap) and not (
            isinstance(cmap, str) and cmap in matplotlib.colormaps):
        raise ValueError(f"{where}(cmap=...) must be a matplotlib colormap or its name, like "
                         f"'viridis', got {cmap!r}")


def color_range_of(grids, vmin, vmax, where):
    """(vmin, vmax) for a colour scale over `grids`: an end not given is the smallest (largest)
    finite value of the data (0 and 1 without any), and the two ends are checked again, so
    that a vmin given above the data's largest value is a clear error here rather than
    matplotlib's inside the drawing."""
    finite = np.concatenate([grid[np.isfinite(grid)] for grid in grids] + [np.zeros(0)])
    if vmin is None:
        vmin = float(finite.min()) if finite.size else 0.0
    if vmax is None:
        vmax = float(finite.max()) if finite.size else 1.0
    return check_color_range(vmin, vmax, where)


def check_color_range(vmin, vmax, where):
    """vmin and vmax, the ends of the colour scale: each None or a number, vmin <= vmax."""
    vmin = None if vmin is None else check_float(vmin, f"{where}(vmin=...)")
    vmax = None if vmax is None else check_float(vmax, f"{where}(vmax=...)")
    if vmin is not None and vmax is not None and vmin > vmax:
        raise ValueError(f"{where}: vmin must be <= vmax (the ends of the colour scale; a "
                         f"missing one comes from the data), got vmin={vmin:g}, vmax={vmax:g}")
    return vmin, vmax


def check_grid(values, row_labels, col_labels, where):
    for name, labels in (("row_labels", row_labels), ("col_labels", col_labels)):
        if isinstance(labels, str) or not isinstance(labels, (list, tuple, np.ndarray)):
            raise TypeError(f"{where}({name}=...) must be a list of labels, got {labels!r}")
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{where}(values=...) must be a 2-D array of numbers") from None
    if array.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"{where}(values=...) must have shape (len(row_labels), "
                         f"len(col_labels)) = ({len(row_labels)}, {len(col_labels)}), "
                         f"got {array.shape}")
    return array
