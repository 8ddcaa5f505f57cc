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

Every function returns the matplotlib Figure and saves it (atomically) when given `path`.

The classroom style lives here, and only here: `STYLE` (fonts sized for a projector: titles
16 pt, labels 14, ticks and legends 13), `use_style()` to make it the default for a lesson's
own figures, `color_for(label)` for the kinds of network (with BN blue, without BN orange,
LayerNorm bluish green, GroupNorm reddish purple; Okabe-Ito colours, which colour-blind
readers tell apart) and `setting_color(setting, value)` for the values of a setting (e.g.
momentum 0.99 has the same colour in every lesson). `save(fig, path)` writes a figure
atomically and `show()` opens the windows when there is a screen.

This module imports matplotlib; `import tinynet` does not, so training needs no plotting library.
"""

import os
import zlib

import matplotlib
import matplotlib.axes
import matplotlib.colors
import matplotlib.ticker
import numpy as np
from matplotlib import pyplot as plt

from tinynet.files import write_atomically

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


def color_for(label):
    """A stable colour for a run's label, the same in every lesson:

        'without BN', 'no BN', 'plain', 'no normalization'  -> orange
        'LayerNorm', 'layer norm'                           -> bluish green
        'GroupNorm', 'group norm'                           -> reddish purple
        anything else mentioning BN / batch norm            -> blue
        any other label: a fixed colour computed from its text (never blue or orange)."""
    if not isinstance(label, str):
        raise TypeError(f"color_for(label=...) must be a string, got {label!r}")
    text = label.lower()
    if any(words in text for words in ("without bn", "no bn", "plain", "without batch",
                                       "no normalization", "without normalization")):
        return KIND_COLORS["without BN"]
    if any(words in text for words in ("layernorm", "layer norm", "layernormalization")):
        return KIND_COLORS["LayerNorm"]
    if any(words in text for words in ("groupnorm", "group norm", "groupnormalization")):
        return KIND_COLORS["GroupNorm"]
    if any(words in text for words in ("bn", "batchnorm", "batch norm")):
        return KIND_COLORS["with BN"]
    others = [SKY, VERMILLION, "#F0E442"]  # not the four kinds' colours, not black
    return others[zlib.crc32(label.encode()) % len(others)]


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
    momentum, batch_size, learning_rate, init_scale, depth."""
    if setting not in SETTING_SCALES:
        raise ValueError(f"setting_color(setting=...) must be one of "
                         f"{', '.join(SETTING_SCALES)}, got {setting!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"setting_color(value=...) must be a number, got {value!r}") from None
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
    return [plt.cm.viridis(value) for value in np.linspace(0.0, 0.85, max(count, 1))][:count]


# -- loss and other curves ------------------------------------------------------------------

def loss_curves(runs, metric="loss", xlabel="epoch", path=None, title=None, val=True, ax=None):
    """Training curves of several runs overlaid: solid = training, dashed = validation.

    runs: dict label -> History, history dict ({'loss': [...], 'val_loss': [...]}) or a 1-D
    array of values. metric: which logged value ('loss', 'accuracy', ...).
    """
    runs = check_runs(runs, "loss_curves")
    if not isinstance(metric, str):
        raise TypeError(f"loss_curves(metric=...) must be a name like 'loss', got {metric!r}")
    with matplotlib.rc_context(STYLE):
        fig, ax = new_axes(ax, figsize=(8, 5))
        for label, run in runs.items():
            train, validation = history_values(run, metric, label)
            epochs = np.arange(1, len(train) + 1)
            color = color_for(label)
            ax.plot(epochs, train, color=color, label=f"{label} (training)")
            if val and validation is not None:
                ax.plot(np.arange(1, len(validation) + 1), validation, "--", color=color,
                        label=f"{label} (validation)")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(metric)
        ax.set_title(title or f"{metric.capitalize()} during training")
        ax.legend()
        return finish(fig, path)


def step_curves(runs, ylabel, xlabel="training step", path=None, title=None, logy=False,
                ax=None):
    """One line per run of any quantity recorded over training steps.

    runs: dict label -> (steps, values), e.g. {'with BN': (rec.steps, rec.get(...))}.
    """
    runs = check_runs(runs, "step_curves")
    if not isinstance(ylabel, str):
        raise TypeError(f"step_curves(ylabel=...) must be a string, got {ylabel!r}")
    with matplotlib.rc_context(STYLE):
        fig, ax = new_axes(ax, figsize=(8, 5))
        for label, pair in runs.items():
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"step_curves(runs=...): runs[{label!r}] must be a pair "
                                f"(steps, values), got {type(pair).__name__}")
            steps, values = np.asarray(pair[0]), np.asarray(pair[1])
            if len(steps) != len(values):
                raise ValueError(f"step_curves(runs=...): runs[{label!r}] has {len(steps)} "
                                 f"steps but {len(values)} values")
            ax.plot(steps, values, color=color_for(label), label=label)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel + (" (log scale)" if logy else ""))
        ax.set_title(title or ylabel)
        ax.legend()
        return finish(fig, path)


# -- gradients ------------------------------------------------------------------------------

def gradient_flow(recorders, key="grad_norm/kernel", path=None, title=None, layers=None):
    """Per-layer gradient norm over training, one panel per recorder, one line per layer.

    recorders: a Recorder or dict label -> Recorder. key: a statistic every plotted layer has,
    e.g. 'grad_norm/kernel' (the default) or 'grad_input_norm'. layers: None for every layer
    with `key`, a number n for n of them evenly spaced from the first to the last (a panel
    stays readable with about 4 lines), or a list of names.
    """
    recorders = check_recorders(recorders, "gradient_flow")
    with matplotlib.rc_context(STYLE):
        found = layers_per_panel(recorders, key, "gradient_flow", layers)
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
        return finish(fig, path)


def gradient_flow_bars(recorders, key="grad_norm/kernel", step_index=-1, path=None,
                       title=None):
    """Bars of the gradient norm of each layer (x: depth), at the chosen record(s), grouped
    by recorder. step_index: an index into recorder.steps, or a list of them."""
    recorders = check_recorders(recorders, "gradient_flow_bars")
    indices = step_index if isinstance(step_index, (list, tuple)) else [step_index]
    for index in indices:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"gradient_flow_bars(step_index=...) must be an int or a list of "
                            f"ints, got {step_index!r}")
    groups = [(label, recorder, index) for label, recorder in recorders.items()
              for index in indices]
    hatches = ["", "//", "..", "xx", "\\\\"]
    with matplotlib.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(groups) + 4), 5), layout="constrained")
        width = 0.8 / len(groups)
        depth = 0
        for g, (label, recorder, index) in enumerate(groups):
            names = layers_with(recorder, key, label, "gradient_flow_bars")
            check_index(index, len(recorder.steps), "gradient_flow_bars(step_index=...)")
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
        return finish(fig, path)


def update_ratios(recorder_or_dict, param="kernel", path=None, title=None, layers=None):
    """log10 of ||update|| / ||weight|| per layer over training, with the rule-of-thumb
    reference at -3 (updates about a thousandth of the weights; Karpathy, makemore).
    layers: as in gradient_flow."""
    recorders = check_recorders(recorder_or_dict, "update_ratios")
    if not isinstance(param, str):
        raise TypeError(f"update_ratios(param=...) must be a name like 'kernel', got {param!r}")
    key = f"update_ratio/{param}"
    with matplotlib.rc_context(STYLE):
        found = layers_per_panel(recorders, key, "update_ratios", layers)
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
        return finish(fig, path)


# -- activations ----------------------------------------------------------------------------

def activation_histograms(recorder_or_dict, layers=None, which="output", step_index=-1,
                          path=None, title=None, logy=False):
    """One density curve per layer of its activations at one record (needs a Recorder made
    with histograms=True). The legend gives each layer's mean, std, and % saturated (sigmoid,
    tanh) or % dead units (ReLU). layers: None for the layers with a nonlinearity, a number n
    for n of those evenly spaced from the first to the last, or a list of names. The y axis
    is a density (share per unit of x), so layers binned over different ranges compare;
    logy=True puts it on a log scale (a ReLU's spike at 0 can be 10^5 times the rest)."""
    recorders = check_recorders(recorder_or_dict, "activation_histograms")
    if which not in ("input", "output"):
        raise ValueError(f"activation_histograms(which=...) must be 'input' or 'output', "
                         f"got {which!r}")
    if isinstance(step_index, bool) or not isinstance(step_index, (int, np.integer)):
        raise TypeError(f"activation_histograms(step_index=...) must be an int, "
                        f"got {step_index!r}")
    check_layers_option(layers, "activation_histograms")
    with matplotlib.rc_context(STYLE):
        fig, axes = panels(len(recorders), sharey=False)
        for ax, (label, recorder) in zip(axes, recorders.items(), strict=True):
            check_index(step_index, len(recorder.steps), "activation_histograms(step_index=...)")
            names = (list(layers) if isinstance(layers, (list, tuple))
                     else evenly_spaced(nonlinear_layers(recorder), layers))
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
        return finish(fig, path)


def histograms(groups, xlabel, path=None, title=None, bins=60):
    """Density curves of raw values, one panel per group and one curve per entry, e.g. the
    gradients each layer received at one step. groups: dict panel label -> dict line label
    -> array of values. Within a panel every curve uses the same bins (over the panel's
    range, from the 0.5th to the 99.5th percentile of all its values), so the curves compare;
    the legend gives each entry's mean and std."""
    groups = check_runs(groups, "histograms", what="groups")
    if not isinstance(xlabel, str):
        raise TypeError(f"histograms(xlabel=...) must be a string, got {xlabel!r}")
    with matplotlib.rc_context(STYLE):
        fig, axes = panels(len(groups), sharey=False)
        for ax, (label, lines) in zip(axes, groups.items(), strict=True):
            if not isinstance(lines, dict) or not lines:
                raise TypeError(f"histograms(groups=...): groups[{label!r}] must be a non-empty "
                                f"dict line label -> values")
            values = {name: np.asarray(v, dtype=float).ravel() for name, v in lines.items()}
            pooled = np.concatenate(list(values.values()))
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
        return finish(fig, path)


def percentile_bands(recorders, layer, unit=None, path=None, title=None, sharey=False):
    """The 15th, 50th and 85th percentiles of one layer's INPUT over training, one panel per
    recorder (Ioffe & Szegedy 2015, Fig. 1b,c). unit=None: over all values of the input;
    unit=k: over the batch for unit k (needs Recorder(per_unit=True))."""
    recorders = check_recorders(recorders, "percentile_bands")
    if not isinstance(layer, str):
        raise TypeError(f"percentile_bands(layer=...) must be a layer name, got {layer!r}")
    if unit is not None and (isinstance(unit, bool) or not isinstance(unit, (int, np.integer))):
        raise TypeError(f"percentile_bands(unit=...) must be None or an int, got {unit!r}")
    with matplotlib.rc_context(STYLE):
        fig, axes = panels(len(recorders), sharey=sharey)
        for ax, (label, recorder) in zip(axes, recorders.items(), strict=True):
            steps = recorder.steps
            if unit is None:
                p15, p50, p85 = (recorder.get(layer, f"input_p{q}") for q in (15, 50, 85))
            else:
                values = recorder.get(layer, "input_unit_percentiles")
                check_index(unit, values.shape[2], "percentile_bands(unit=...)")
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
        return finish(fig, path)


# -- sweeps ---------------------------------------------------------------------------------

def heatmap(values, row_labels, col_labels, xlabel, ylabel, path=None, title=None,
            fmt="{:.2f}", cmap="viridis", ax=None, vmin=None, vmax=None, colorbar_label=None,
            nan_label="diverged"):
    """A grid of results with each cell's value written in it; NaN cells (runs that
    diverged) are grey and labelled `nan_label`. values: (rows, cols)."""
    values = check_grid(values, row_labels, col_labels, "heatmap")
    with matplotlib.rc_context(STYLE):
        fig, ax = new_axes(ax, figsize=(1.3 * len(col_labels) + 3, 0.8 * len(row_labels) + 2))
        image = draw_cells(ax, values, row_labels, col_labels, fmt, cmap, vmin, vmax,
                           nan_label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title or "")
        colorbar = fig.colorbar(image, ax=ax)
        if colorbar_label:
            colorbar.set_label(colorbar_label)
        return finish(fig, path)


def heatmaps(grids, row_labels, col_labels, xlabel, ylabel, path=None, title=None,
             fmt="{:.2f}", cmap="viridis", vmin=None, vmax=None, colorbar_label=None,
             nan_label="diverged"):
    """Several heatmaps side by side (dict label -> values) on ONE colour scale, so that the
    same colour means the same number in every panel."""
    grids = check_runs(grids, "heatmaps", what="grids")
    checked = {label: check_grid(values, row_labels, col_labels, "heatmaps")
               for label, values in grids.items()}
    finite = np.concatenate([v[np.isfinite(v)] for v in checked.values()] + [np.zeros(0)])
    if vmin is None:
        vmin = float(finite.min()) if finite.size else 0.0
    if vmax is None:
        vmax = float(finite.max()) if finite.size else 1.0
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
        return finish(fig, path)


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

def decision_boundary(model, x, y, path=None, title=None, ax=None, resolution=200):
    """The regions a 2-D classifier assigns to each class, with the data on top.

    model: anything with predict(x) giving (n, 1) probabilities (binary) or (n, classes)
    (softmax). x: (n, 2). y: (n,) class labels (or (n, 1) / one-hot).
    """
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"decision_boundary(model=...) must have a predict method, got "
                        f"{type(model).__name__}")
    width = (getattr(model, "input_shape", None) or (None, 2))[-1]
    if width != 2:
        raise ValueError(f"decision_boundary needs a model with 2 inputs (it colours the plane "
                         f"of the two features), but this model takes {width}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"decision_boundary(x=...) must have shape (n, 2), got {x.shape}")
    y = np.asarray(y)
    labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    if len(labels) != len(x):
        raise ValueError(f"decision_boundary: x has {len(x)} samples but y has {len(labels)}")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
            or resolution < 2:
        raise ValueError(f"decision_boundary(resolution=...) must be an int >= 2, "
                         f"got {resolution!r}")
    low, high = x.min(axis=0), x.max(axis=0)
    pad = 0.1 * (high - low) + 1e-9
    grid_x, grid_y = np.meshgrid(np.linspace(low[0] - pad[0], high[0] + pad[0], resolution),
                                 np.linspace(low[1] - pad[1], high[1] + pad[1], resolution))
    probabilities = np.asarray(model.predict(np.column_stack([grid_x.ravel(),
                                                               grid_y.ravel()])))
    classes = np.unique(labels).astype(int)
    with matplotlib.rc_context(STYLE):
        fig, ax = new_axes(ax, figsize=(7, 6))
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
        return finish(fig, path)


# -- shared helpers -------------------------------------------------------------------------

def new_axes(ax, figsize):
    """(figure, axes): a new figure, or the figure of the axes the caller passed in."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    if not isinstance(ax, matplotlib.axes.Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
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
    """Write `fig` to `path` atomically (see finish) and return the path."""
    finish(fig, path)
    return path


def finish(fig, path):
    """Save the figure when a path is given, atomically: written to a temporary file in the
    same folder, then renamed, so a half-written image never replaces a good one."""
    if path is not None:
        path = os.fspath(path)
        extension = os.path.splitext(path)[1].lower().lstrip(".") or "png"
        # a figure without a layout engine may spill over its edges: trim it to what was
        # drawn (this draws it twice, so laid-out figures skip it)
        tight = None if fig.get_layout_engine() is not None else "tight"
        write_atomically(path, lambda file: fig.savefig(file, format=extension, dpi=DPI,
                                                        bbox_inches=tight),
                         "cannot save the figure", example_name="figure.png")
    return fig


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


def history_values(run, metric, label):
    """(training values, validation values or None) of a History, dict or array."""
    history = getattr(run, "history", run)
    if isinstance(history, dict):
        if not history:
            raise ValueError(f"loss_curves: run {label!r} has nothing recorded yet: its "
                             f"History holds no epoch (fit has not run, or ran 0 epochs)")
        if metric not in history:
            raise KeyError(f"loss_curves: run {label!r} has no {metric!r}; it has: "
                           f"{', '.join(map(str, history))}")
        validation = history.get("val_" + metric)
        return (np.asarray(history[metric], dtype=float),
                None if validation is None else np.asarray(validation, dtype=float))
    if isinstance(history, (list, tuple, np.ndarray)):
        values = np.asarray(history, dtype=float)
        if values.ndim != 1:
            raise ValueError(f"loss_curves: run {label!r} must be 1-D, got shape {values.shape}")
        return values, None
    raise TypeError(f"loss_curves(runs=...): run {label!r} must be a History, a dict of "
                    f"lists or a 1-D array, got {type(run).__name__}")


def is_recorder(value):
    return all(hasattr(value, name) for name in ("get", "steps", "layer_names", "keys"))


def check_recorders(recorders, where):
    """dict label -> Recorder; a single Recorder becomes {'': recorder}."""
    if is_recorder(recorders):
        recorders = {"": recorders}
    if not isinstance(recorders, dict) or not recorders:
        raise TypeError(f"{where}(recorders=...) must be a Recorder or a non-empty dict "
                        f"label -> Recorder, got {type(recorders).__name__}")
    for label, recorder in recorders.items():
        if not isinstance(label, str):
            raise TypeError(f"{where}(recorders=...): labels must be strings, got {label!r}")
        if not is_recorder(recorder):
            raise TypeError(f"{where}(recorders=...): {label!r} is a "
                            f"{type(recorder).__name__}, not a Recorder")
        if len(recorder.steps) == 0:
            raise ValueError(f"{where}: the recorder{f' {label!r}' if label else ''} has "
                             f"recorded nothing yet; train with it first: "
                             f"model.fit(..., callbacks=[recorder])")
    return recorders


def layers_with(recorder, key, label, where):
    """The recorded layers (in model order) that have statistic `key`."""
    names = [name for name in recorder.layer_names if key in recorder.keys(name)]
    if not names:
        available = sorted({k for name in recorder.layer_names for k in recorder.keys(name)})
        raise KeyError(f"{where}: no layer of recorder {label!r} has {key!r}; available: "
                       f"{', '.join(available)}")
    return names


def check_layers_option(layers, where):
    if layers is None or isinstance(layers, (list, tuple)):
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
    none (e.g. 'gamma' without BN), but at least one must have some."""
    check_layers_option(layers, where)
    found = {label: [name for name in recorder.layer_names if key in recorder.keys(name)]
             for label, recorder in recorders.items()}
    if isinstance(layers, (list, tuple)):
        found = {label: [name for name in names if name in layers]
                 for label, names in found.items()}
    else:
        found = {label: evenly_spaced(names, layers) for label, names in found.items()}
    if not any(found.values()):
        label, recorder = next(iter(recorders.items()))
        layers_with(recorder, key, label, where)  # raises, listing what there is
    return found


def note_missing(ax, key):
    ax.text(0.5, 0.5, f"no layer has\n{key}", transform=ax.transAxes, ha="center",
            va="center", fontsize=13, color="#555555")


def nonlinear_layers(recorder):
    """The hidden layers ending in a nonlinearity (relu, tanh, ...): the last recorded layer
    is left out when there are others (it is usually the model's output, whose probabilities
    are not a hidden activation); every layer if none has a nonlinearity."""
    names = [name for name in recorder.layer_names
             if recorder.activations.get(name, "linear") != "linear"]
    if len(names) > 1 and names[-1] == recorder.layer_names[-1]:
        names = names[:-1]
    return names or list(recorder.layer_names)


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


def check_index(index, length, where):
    if not -length <= index < length:
        raise IndexError(f"{where}: index {index} is out of range for {length} records")


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
