# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 08: Batch normalization as a regularizer, and how it gets along with dropout
#
# **The question.** The article says batch normalization "has a regularizing effect": in
# training, every sample is normalized with the mean and variance of *its batch*, and the
# batch is random, so each sample's activations get a little noise, a bit like dropout.
# Does that noise shrink the gap between training and validation performance? And what
# happens when we use dropout *and* BN together?
#
# We take a small data set that a 4-layer network can memorize (200 training samples,
# 10% of the labels flipped), and train the same network four ways:
#
# | name | hidden block, 4 times |
# | --- | --- |
# | no regularization | `Dense(128) -> ReLU` |
# | dropout | `Dense(128) -> ReLU -> Dropout(0.5)` |
# | BN | `Dense(128) -> BatchNormalization -> ReLU` |
# | BN + dropout | `Dense(128) -> BatchNormalization -> ReLU -> Dropout(0.5)` |
#
# Then we look at a known trap of the last combination (Li et al. 2019): dropout changes
# the variance that the *next* BN layer sees between training and inference.
#
# Every comparison is measured over several seeds and printed with its noise (a standard
# error, "±"); the words after it are chosen from those numbers.
#
# Run it:  `python lessons/08_regularization.py`  (options: `--quick`, `--seed N`, `--out DIR`)

# %% tags=["parameters"]
# The lesson's options. In a notebook, change them here, then run all cells. On the command
# line, --quick, --seed N and --out DIR override them.
QUICK = False  # True: a small version that runs in a few seconds
SEED = 0       # the random seed: same seed, same numbers, same figures
OUT = None     # folder for the figures; None: figures/08 beside the lesson

# %%
import os

# Small matrices: one BLAS thread is faster than several that wait for each other.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib.pyplot as plt
import numpy as np

import tinynet
from tinynet import plot
from tinynet.classroom import headline, lesson_options, save_figure, show_figures
from tinynet.datasets import make_classification, standardize, train_test_split
from tinynet.layers import Activation, BatchNormalization, Dense, Dropout
from tinynet.models import Sequential
from tinynet.optimizers import Adam
from tinynet.stats import compare, mean_and_se, noise_multiple

args = lesson_options(8, "Lesson 08: batch normalization as a regularizer, and dropout",
                      quick=QUICK, seed=SEED, out=OUT)
plot.use_style()

N_TRAIN = 200         # small on purpose: 4 x 128 units can memorize it
N_VAL = 2000          # a large validation set, so its accuracy is not itself noisy
DEPTH = 4
WIDTH = 128
DROPOUT = 0.5
BATCH = 32
EPOCHS = 9 if args.quick else 100
EVAL_EVERY = 3 if args.quick else 5  # epochs between two measurements of both sets
SEEDS = [args.seed + k for k in range(2 if args.quick else 5)]

# %% [markdown]
# Every comparison is printed as "mean of one kind vs mean of the other; difference ± its
# standard error: verdict". The means get one digit more than the difference, and the
# difference printed is the printed means' difference, rounded: so the numbers add up as you
# read them. (The verdict is taken from the unrounded numbers.)


# %% [markdown]
# ## The data and the four networks
#
# `make_classification` with 10% of the labels replaced by random ones (`flip_y=0.1`): no
# network can be right on those, so 100% training accuracy means the network has learned
# the noise by heart. With BN the Dense layers have no bias (BN's `beta` replaces it). Each
# seed draws its own data set and its own initial weights.

# %%
def make_data(seed):
    x, y = make_classification(n_samples=N_TRAIN + N_VAL, n_features=20, class_sep=0.8,
                               flip_y=0.1, seed=seed)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=N_VAL, seed=seed)
    x_train, x_val = standardize(x_train, x_val)
    return x_train, x_val, y_train, y_val


CONFIGS = {  # name -> (use BN, dropout rate)
    "no regularization": (False, 0.0),
    "dropout": (False, DROPOUT),
    "BN": (True, 0.0),
    "BN + dropout": (True, DROPOUT),
}
# orange family = without BN, blue family = with BN, as in every lesson; the dropout
# variants take the second colour of their family
COLORS = {"no regularization": plot.color_for("without BN"), "dropout": plot.VERMILLION,
          "BN": plot.color_for("with BN"), "BN + dropout": plot.SKY}


def build(bn, rate, n_features=20):
    """DEPTH x [Dense(WIDTH) -> BN (if bn) -> ReLU -> Dropout(rate) (if rate)] -> sigmoid."""
    layers = []
    for i in range(DEPTH):
        first = {"input_shape": (n_features,)} if i == 0 else {}
        layers.append(Dense(WIDTH, use_bias=not bn, name=f"dense_{i + 1}", **first))
        if bn:
            layers.append(BatchNormalization(name=f"bn_{i + 1}"))
        layers.append(Activation("relu", name=f"relu_{i + 1}"))
        if rate > 0:
            layers.append(Dropout(rate, name=f"dropout_{i + 1}"))
    layers.append(Dense(1, activation="sigmoid", name="output"))
    model = Sequential(layers)
    model.compile(optimizer=Adam(learning_rate=1e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


# %% [markdown]
# ## Training, measured fairly
#
# `fit`'s own training loss is measured *in training mode*: with dropout switched on and BN
# using batch statistics, so it is not comparable with the validation loss (measured in
# inference mode). To compare like with like, every `EVAL_EVERY` epochs we evaluate **both**
# the training set and the validation set in inference mode.
#
# At the end we also measure what the loss gap hides: on the validation samples a network
# gets **wrong**, how confident is it? (Its confidence in a prediction p is max(p, 1 - p).)
# A network can lose much less on its mistakes simply by being less sure of them.

# %%
def train(bn, rate, seed, data):
    """Train one network; return it, its per-measurement train/val loss and accuracy, and
    its mean confidence on the validation samples it classifies wrongly."""
    x_train, x_val, y_train, y_val = data
    tinynet.set_seed(seed)
    model = build(bn, rate)
    curves = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
    for _ in range(EPOCHS // EVAL_EVERY):
        model.fit(x_train, y_train, batch_size=BATCH, epochs=EVAL_EVERY, verbose=0)
        for prefix, (xs, ys) in (("", (x_train, y_train)), ("val_", (x_val, y_val))):
            loss, accuracy = model.evaluate(xs, ys, batch_size=500, verbose=0)
            curves[prefix + "loss"].append(loss)
            curves[prefix + "accuracy"].append(accuracy)
    p = model.predict(x_val, batch_size=500, verbose=0).reshape(-1)
    wrong = (p > 0.5) != (y_val.reshape(-1) > 0.5)
    confidence = float(np.maximum(p, 1 - p)[wrong].mean()) if wrong.any() else float("nan")
    return model, {key: np.array(values) for key, values in curves.items()}, confidence


runs = []  # one {name: (model, curves, confidence)} per seed
for seed in SEEDS:
    data = make_data(seed)
    runs.append({name: train(bn, rate, seed, data) for name, (bn, rate) in CONFIGS.items()})
curves = {name: {key: np.array([run[name][1][key] for run in runs]) for key in runs[0][name][1]}
          for name in CONFIGS}  # name -> key -> (seeds, measurements)
confidence = {name: np.array([run[name][2] for run in runs]) for name in CONFIGS}

# %% [markdown]
# **What to look at.** One panel per network, the mean over seeds: training set solid,
# validation set dashed, both in inference mode; the space between them is the
# *generalization gap*. Top: the loss, on a log scale (the training loss falls by decades);
# the panels share their y axis, so the gaps can be compared across networks. Without
# regularization the training loss goes toward 0 while the validation loss climbs back up:
# the network becomes more and more confident about the labels it memorized, including the
# flipped ones. Bottom: the accuracy.

# %%
epochs = EVAL_EVERY * np.arange(1, EPOCHS // EVAL_EVERY + 1)
print(f"== 1. Train and validation curves: {len(CONFIGS)} networks, {len(SEEDS)} seeds, "
      f"{EPOCHS} epochs of {N_TRAIN} samples ==")
fig, axes = plt.subplots(2, len(CONFIGS), figsize=(18, 9), sharex=True, sharey="row",
                         layout="constrained")
for column, name in enumerate(CONFIGS):
    for row, key in enumerate(("loss", "accuracy")):
        ax = axes[row, column]
        ax.plot(epochs, curves[name][key].mean(axis=0), "-", color=COLORS[name], label="train")
        ax.plot(epochs, curves[name]["val_" + key].mean(axis=0), "--", color=COLORS[name],
                label="validation")
        if row == 1:
            ax.set_xlabel("epoch")
    axes[0, column].set_title(name)
axes[0, 0].set_yscale("log")
axes[0, 0].set_ylabel("loss (log scale)")
axes[1, 0].set_ylabel("accuracy")
axes[0, 0].legend()
fig.suptitle(f"{N_TRAIN} training samples, 10% flipped labels, {DEPTH} x {WIDTH} ReLU, "
             f"Adam 1e-3: mean of {len(SEEDS)} seeds, both sets in inference mode")
save_figure(fig, args.out, "1_train_vs_validation_curves")

# %% [markdown]
# ## The gaps, in numbers
#
# For each network, at the end of training: accuracy gap = train accuracy - validation
# accuracy, loss gap = validation loss - train loss. A regularizer should make these
# smaller, ideally by raising the validation numbers rather than by lowering the training
# ones. The BN networks' validation curves wobble from one measurement to the next (their
# moving statistics trail the weights), so each number is the mean over the measurements of
# the last 10% of the epochs, and then the mean over seeds, with its standard error.

# %%
LAST = max(1, len(epochs) // 10)
final = {}  # name -> key -> (seeds,)
for name in CONFIGS:
    final[name] = {("train_" + key if not key.startswith("val_") else key):
                   values[:, -LAST:].mean(axis=1) for key, values in curves[name].items()}
    final[name]["accuracy_gap"] = final[name]["train_accuracy"] - final[name]["val_accuracy"]
    final[name]["loss_gap"] = final[name]["val_loss"] - final[name]["train_loss"]
    final[name]["confidence_when_wrong"] = confidence[name]

def table_cell(f, key):
    """'0.9290 ± 0.015' for a train or validation column (one digit finer, as
    Comparison.shown prints means), '0.129 ± 0.012' for a gap: the gap is the difference of
    the two printed columns, rounded to 3 digits, so each row adds up as you read it."""
    se = mean_and_se(f[key])[1]
    if key.endswith("_gap"):
        a, b = ("train_accuracy", "val_accuracy") if key == "accuracy_gap" else \
            ("val_loss", "train_loss")
        gap = compare(f[a], f[b], key).shown()[2].lstrip("+")
        return f"{gap} ± {se:.3f}"
    digits = 3 if key == "confidence_when_wrong" else 4
    return f"{mean_and_se(f[key])[0]:.{digits}f} ± {se:.3f}"


TABLES = {  # two tables: {title: {column key: header}}
    "Accuracy (gap = train - validation)": {
        "train_accuracy": "train", "val_accuracy": "validation", "accuracy_gap": "gap",
        "confidence_when_wrong": "confidence when wrong"},
    "Loss (gap = validation - train)": {
        "train_loss": "train", "val_loss": "validation", "loss_gap": "gap"}}
print(f"\n== 2. The gaps: mean ± s.e. over {len(SEEDS)} seeds, epochs {epochs[-LAST]}-{EPOCHS}, "
      f"both sets in inference mode ==")
for title, columns in TABLES.items():
    widths = [max(17, len(header) + 3) for header in columns.values()]
    print(f"{title}:")
    print(f"  {'network':<19s}" + "".join(f"{header:>{width}s}" for header, width
                                         in zip(columns.values(), widths, strict=True)))
    for name, f in final.items():
        cells = [table_cell(f, key) for key in columns]
        print(f"  {name:<19s}" + "".join(f"{cell:>{width}s}"
                                         for cell, width in zip(cells, widths, strict=True)))
print("(confidence when wrong: mean of max(p, 1 - p) over the validation samples it gets wrong)")

fig, axes = plt.subplots(1, 3, figsize=(18, 6), layout="constrained")
names = list(final)
for ax, key, ylabel in ((axes[0], "accuracy_gap", "train acc - validation acc"),
                        (axes[1], "loss_gap", "validation loss - train loss"),
                        (axes[2], "confidence_when_wrong", "mean confidence when wrong")):
    means = [mean_and_se(final[name][key])[0] for name in names]
    errors = [mean_and_se(final[name][key])[1] for name in names]
    bars = ax.bar(range(len(names)), means, yerr=errors, capsize=6,
                  color=[COLORS[name] for name in names])
    ax.bar_label(bars, fmt="%.2f", padding=4)
    ax.set_xticks(range(len(names)), [name.replace(" + ", "\n+ ") for name in names])
    ax.set_ylabel(ylabel)
axes[0].set_title("Accuracy gap")
axes[1].set_title("Loss gap")
axes[2].set_title("Confidence on its mistakes")
axes[2].set_ylim(0.5, 1.05)  # a confidence is at least 0.5
fig.suptitle(f"Mean ± s.e. over {len(SEEDS)} seeds (last {LAST} measurements)")
save_figure(fig, args.out, "2_generalization_gaps")

# %% [markdown]
# ## Dropout before BN: a variance shift between training and inference
#
# In the `BN + dropout` network, the Dense layer of block 4 receives the output of
# `Dropout(0.5)` of block 3. In training, dropout zeroes half the units and doubles the
# others: the mean is unchanged, but the **variance** of what the next BN layer sees is
# larger than at inference, where dropout does nothing. BN's moving variance is averaged
# over training batches, so at inference it normalizes with a variance that is too large
# (Li et al. 2019, "Understanding the disharmony between dropout and batch normalization").
#
# We measure it on the trained networks. First a fair start: the moving averages lag behind
# weights that keep changing, so we let them catch up with the final weights by running
# `REFRESH_BATCHES` training batches forward in training mode, with no weight update (the
# usual "recompute the BN statistics" step). Then we run the training samples in inference
# mode up to each BN layer, take the actual variance of each of its 128 inputs, and divide
# the layer's `moving_variance` by it. A ratio of 1 means the moving statistics describe
# inference well.
#
# Without dropout, expect a little less than 1, from sampling alone: a batch of N = 32
# samples drawn (without replacement) from the M = 200 training samples has on average a
# *biased* variance (BN's) of (N - 1)/N x M/(M - 1) = 0.974 times the variance of the 200.
# The printout checks each layer against that number. Where a layer falls below it, a
# **control** tells why: the same refresh of the network without dropout, but with every
# layer before the BN layer in inference mode, so that its batches differ from what it sees
# at inference by sampling only. If the control sits at 0.974 where the network as trained
# does not, the difference comes from the layers before it normalizing with *batch*
# statistics in training.

# %%
REFRESH_BATCHES = 500  # momentum 0.99: 0.99^500 < 0.01 of the old estimate is left
EXPECTED = (BATCH - 1) / BATCH * N_TRAIN / (N_TRAIN - 1)  # sampling alone: 31/32 x 200/199


def refresh_moving_statistics(model, x, batches=REFRESH_BATCHES, before="training"):
    """Run `batches` random batches of x forward without updating any weight, so that every
    BN layer's moving averages settle for the current weights.

    before="training": the whole network in training mode (batch statistics, dropout on), as
    in training. before="inference" (the control): each BN layer updates its moving averages
    from its batch but passes the batch on in inference mode, so every layer after it sees
    what it would see at inference."""
    rng = np.random.default_rng(SEEDS[0])
    for _ in range(batches):
        x_batch = x[rng.choice(len(x), size=BATCH, replace=False)]
        if before == "training":
            model.forward(x_batch, training=True)
            continue
        for layer in model.layers:
            if isinstance(layer, BatchNormalization):
                layer.forward(x_batch, training=True)  # updates its moving averages
            x_batch = layer.forward(x_batch, training=False)


def variance_ratios(model, x):
    """{BN layer name: per-unit moving_variance / variance of its input on x at inference}.

    One inference-mode pass; each BN layer's input is read on the way through."""
    ratios = {}
    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            actual = x.var(axis=0)  # biased, as BN computes it
            ratios[layer.name] = layer.state["moving_variance"] / actual
        x = layer.forward(x, training=False)
    return ratios


BN_NAMES = [f"bn_{i + 1}" for i in range(DEPTH)]
LAST_BN = BN_NAMES[-1]
CONTROL = "control"
ROWS = {"BN": "dropout p = 0.0", "BN + dropout": f"dropout p = {DROPOUT}",
        CONTROL: "control: layers before at inference"}
ratios = {name: [] for name in ROWS}  # name -> per seed {BN layer name -> ratio per unit}
for seed, run in zip(SEEDS, runs, strict=True):
    x_train = make_data(seed)[0]
    for name in ("BN", "BN + dropout"):
        refresh_moving_statistics(run[name][0], x_train)
        ratios[name].append(variance_ratios(run[name][0], x_train))
    # the control, last (it changes the moving averages), from the refreshed ones
    refresh_moving_statistics(run["BN"][0], x_train, before="inference")
    ratios[CONTROL].append(variance_ratios(run["BN"][0], x_train))
# name -> (seeds, BN layers): the median over units of each layer's ratio
medians = {name: np.array([[np.median(r[bn]) for bn in BN_NAMES] for r in per_seed])
           for name, per_seed in ratios.items()}
print("\n== 3. Dropout before BN: moving variance / actual inference-time variance ==")
print(f"Median over the {WIDTH} units of each BN layer, mean ± s.e. over {len(SEEDS)} seeds "
      f"(1: the moving statistics fit inference):")
print(" " * 37 + "".join(f"{bn:>15s}" for bn in BN_NAMES))
for name, label in ROWS.items():
    cells = [f"{mean_and_se(column)[0]:.3f} ± {mean_and_se(column)[1]:.3f}"
             for column in medians[name].T]
    print(f"  {label:<35s}" + "".join(f"{cell:>15s}" for cell in cells))
print(f"Sampling alone, for batches of N = {BATCH} drawn from the M = {N_TRAIN} training "
      f"samples, without dropout:\n  (N - 1)/N x M/(M - 1) = {BATCH - 1}/{BATCH} x "
      f"{N_TRAIN}/{N_TRAIN - 1} = {EXPECTED:.4f}")


def against(values, reference, what):
    """A Comparison of per-seed values with a reference (per-seed values, or one number)."""
    reference = np.broadcast_to(reference, np.shape(values))
    return compare(values, reference, what, ("measured", "reference"), lower_is_better=None)


def short_verdict(comparison):
    """'no clear difference' / 'lower, beyond the noise' / 'higher, beyond the noise'."""
    if not np.isfinite(comparison.se):
        return "one seed: no verdict"
    if not comparison.clear:
        return "no clear difference"
    return f"{'lower' if comparison.difference < 0 else 'higher'}, beyond the noise"


def interval_reading(comparison):
    """What a borderline row's verdict rests on: its 95 % interval, difference ± t s.e., and
    whether that interval leaves out 0."""
    t = noise_multiple(comparison.n)
    return (f"The verdict reads the 95 % interval, difference ± {t:.2f} s.e. for "
            f"{comparison.n} seeds: {comparison.interval_words()}, which "
            f"{'leaves out' if comparison.clear else 'includes'} 0.")


# Without dropout: each layer as trained, and the control, against sampling alone; and the
# two paired, seed by seed
vs_expected = {bn: against(medians["BN"][:, k], EXPECTED, f"{bn} - sampling")
               for k, bn in enumerate(BN_NAMES)}
control_vs_expected = {bn: against(medians[CONTROL][:, k], EXPECTED, f"{bn} control - sampling")
                       for k, bn in enumerate(BN_NAMES)}
vs_control = {bn: against(medians["BN"][:, k], medians[CONTROL][:, k], f"{bn} - control")
              for k, bn in enumerate(BN_NAMES)}
print(f"Without dropout: each layer's ratio, and ratio - {EXPECTED:.4f} (sampling alone) ± s.e. "
      f"over {len(SEEDS)} seeds\n(control: the same refresh, with the layers before each BN "
      f"layer in inference mode)")
for arm, comparisons in (("as trained", vs_expected), ("control", control_vs_expected)):
    for k, (bn, c) in enumerate(comparisons.items()):
        print(f"  {arm if k == 0 else '':<12s}{bn:<6s}{c.shown()[0]}  "
              f"{c.noise(interval=False).split(' s.e.')[0]}  {short_verdict(c)}"
              f"{', near the edge of the noise (below)' if c.borderline else ''}")
for arm, comparisons in (("as trained", vs_expected), ("control", control_vs_expected)):
    for bn, c in comparisons.items():
        if c.borderline:  # the rounded numbers alone could seem to contradict the verdict
            print(f"  {arm} {bn}: near the edge of the noise. {interval_reading(c)}")


def listed(names):
    """['bn_1'] -> 'bn_1'; ['bn_1', 'bn_2', 'bn_3'] -> 'bn_1, bn_2 and bn_3'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def expectation_words(measured, control, paired, expected):
    """Without dropout: do the BN layers' ratios agree with sampling alone, and if not, does
    the control account for it? From three {BN layer: Comparison} dicts, paired over seeds:
    ratio as trained - expected, ratio in the control - expected, as trained - control."""
    if any(not np.isfinite(c.se) for c in measured.values()):
        return "one seed only: no noise estimate, so no verdict"
    same = [bn for bn, c in measured.items() if not c.clear]
    off = [bn for bn, c in measured.items() if c.clear]
    if not off:
        return (f"no BN layer's ratio differs clearly from the {expected:.4f} of sampling "
                f"alone")
    parts = []
    if same:
        parts.append(f"{listed(same)} {'does' if len(same) == 1 else 'do'} not differ clearly "
                     f"from the {expected:.4f} of sampling alone")
    for side, sign in (("below", -1), ("above", 1)):
        these = [bn for bn in off if np.sign(measured[bn].difference) == sign]
        if these:
            parts.append(f"{listed(these)} {'is' if len(these) == 1 else 'are'} {side} "
                         f"{'it' if same else f'the {expected:.4f} of sampling alone'}, "
                         f"beyond the noise")
    explained = [bn for bn in off if not control[bn].clear and paired[bn].clear
                 and np.sign(paired[bn].difference) == np.sign(measured[bn].difference)]
    worst = max(off, key=lambda bn: abs(paired[bn].difference))
    if explained == off:
        why = (f"In the control, with the layers before each BN layer at inference, "
               f"{listed(off)} {'shows' if len(off) == 1 else 'show'} no clear difference from "
               f"{expected:.4f}, and the network as trained differs from the control there "
               f"({worst}: as trained - control = {paired[worst].noise()}): the gap comes from "
               f"the layers before them normalizing with batch statistics in training")
    else:
        unexplained = [bn for bn in off if bn not in explained]
        why = (f"The control (layers before at inference) does not account for it at "
               f"{listed(unexplained)}, so these runs do not show where the gap comes from")
    return "; ".join(parts) + ". " + why


no_dropout_words = expectation_words(vs_expected, control_vs_expected, vs_control, EXPECTED)
print(f"So, without dropout, {no_dropout_words}.")

# %% [markdown]
# **What to look at.** Left: one count per unit of the last BN layer (first seed). Without
# dropout the ratios sit near 1; with dropout before it they are shifted to the right: at
# inference the layer divides by a standard deviation that is too large, so its outputs
# shrink. Middle: the median ratio of every BN layer, mean over seeds with its standard
# error. `bn_1` has no dropout before it. From `bn_2` on, each layer has a dropout layer just
# before it; and the shift can *compound*: a BN layer's too-small output at inference makes
# the next layer's inputs smaller still than what its moving statistics expect. Whether it
# does depends on how far training went (compare `--quick` with the full run). Right: the
# network without dropout, magnified, against the 0.974 of sampling alone, with the control.
# The accuracy cost is often small (the last layers partly adapt), so we show the variances,
# not an accuracy claim.

# %%
fig, (ax_hist, ax_depth, ax_zoom) = plt.subplots(1, 3, figsize=(18, 6), layout="constrained",
                                                 width_ratios=[1.2, 1, 1])
last = {name: ratios[name][0][LAST_BN] for name in ("BN", "BN + dropout")}
all_ratios = np.concatenate(list(last.values()))
bins = np.geomspace(min(all_ratios.min(), 0.5), max(all_ratios.max(), 2.0), 50)
for name, ratio in last.items():
    ax_hist.hist(ratio, bins=bins, alpha=0.6, color=COLORS[name], label=ROWS[name])
ax_hist.axvline(1.0, color="black", lw=1.5, ls=":")
ax_hist.set_xscale("log")
ax_hist.set_xlabel(f"moving / actual variance, {LAST_BN} (log)")
ax_hist.set_ylabel("number of units")
ax_hist.set_title(f"The last BN layer, per unit (seed {SEEDS[0]} only)")
depth = np.arange(1, DEPTH + 1)
for ax, names in ((ax_depth, ("BN", "BN + dropout")), (ax_zoom, ("BN", CONTROL))):
    for name in names:
        errors = [mean_and_se(column)[1] for column in medians[name].T]
        ax.errorbar(depth, medians[name].mean(axis=0), yerr=errors, capsize=5,
                    fmt="o--" if name == CONTROL else "o-",
                    color="grey" if name == CONTROL else COLORS[name], label=ROWS[name])
    ax.set_xticks(depth, BN_NAMES)
    ax.set_xlabel("BN layer (bn_1 = next to the input)")
ax_depth.axhline(1.0, color="black", lw=1.5, ls=":", label="1: moving = actual variance")
ax_zoom.axhline(EXPECTED, color="black", lw=1.5, ls="--",
                label=f"sampling alone, {EXPECTED:.4f}")
ax_depth.set_ylabel("median ratio over units")
ax_depth.set_title(f"Every BN layer: mean ± s.e. of {len(SEEDS)} seeds")
ax_zoom.set_title(f"Without dropout, magnified ({len(SEEDS)} seeds)")
ax_hist.legend()
legend = {}  # one legend under the panels: label -> handle, without repeats
for ax in (ax_depth, ax_zoom):
    legend.update(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
fig.legend(legend.values(), legend.keys(), loc="outside lower center", ncol=len(legend),
           frameon=False)
fig.suptitle("Dropout before BN: the moving variance against the variance inference sees")
save_figure(fig, args.out, "3_dropout_variance_shift")

# %% [markdown]
# ## What the measurements say
#
# Every sentence below is built from the numbers above.


# %%
def gap_words(comparison, smaller="narrows", larger="widens"):
    """'narrows the accuracy gap by 0.050 ± 0.010' / 'widens ...' / 'does not clearly change'
    from a Comparison of (regularized - plain) gaps."""
    if not np.isfinite(comparison.se):
        return f"cannot be judged from one seed ({comparison.what})"
    if not comparison.clear:
        return f"does not clearly change the {comparison.what} ({comparison.noise()})"
    verb = smaller if comparison.difference < 0 else larger
    return (f"{verb} the {comparison.what} by {comparison.shown()[2][1:]} "
            f"({comparison.noise()})")


def overconfidence_words(loss_gap, val_accuracy, confidence_when_wrong):
    """Why BN's loss gap is smaller (or not), from three Comparisons of BN - plain: loss gap,
    validation accuracy and mean confidence on wrongly classified validation samples. Each
    of the three is worded from its own verdict."""
    if not (loss_gap.clear and loss_gap.difference < 0):
        gap = ("its loss gap is larger, beyond the noise" if loss_gap.clear else
               "its loss gap is not clearly smaller")
        return f"{gap}: there is no smaller loss gap to explain"
    more_right = val_accuracy.clear and val_accuracy.difference > 0
    less_sure = confidence_when_wrong.clear and confidence_when_wrong.difference < 0
    accuracy = ("its validation accuracy is higher" if more_right else
                "its validation accuracy is lower" if val_accuracy.clear else
                "its validation accuracy is not clearly different")
    sure = ("less" if less_sure else "more" if confidence_when_wrong.clear else
            "not clearly more or less")
    confidence = (f"on the validation samples it gets wrong it is {sure} confident "
                  f"({' vs '.join(confidence_when_wrong.shown()[:2])}, "
                  f"{confidence_when_wrong.noise()})")
    if less_sure and not more_right:
        reading = "it is less over-confident about its mistakes, it does not make fewer of them"
    elif more_right:
        reading = "it gets more samples right"
    else:
        reading = "these runs do not show why its loss gap is smaller"
    return (f"its loss gap is smaller; {accuracy} ({val_accuracy.noise()}); {confidence}: "
            f"{reading}")


def direction_words(comparison, more="larger", less="smaller"):
    """'larger ..., beyond the noise' / 'smaller ...' / 'no clear difference at this scale'
    for a Comparison of a - b, where neither side is better."""
    if not comparison.clear:
        return "no clear difference at this scale"
    side = comparison.names[0]
    return f"{more if comparison.difference > 0 else less} with {side}, beyond the noise"


def compounding_words(growth):
    """Does the dropout variance shift compound with depth? From a Comparison of the median
    ratio at the last BN layer - at bn_2 (the first one after a dropout layer), whose names
    are the two layers."""
    deep, shallow = growth.names
    deep_mean, shallow_mean, _ = growth.shown()
    change = (f"from {shallow_mean} at {shallow} to {deep_mean} at {deep} "
              f"({deep} - {shallow} = {growth.noise()})")
    if growth.clear and growth.difference > 0:
        return f"grows with depth, {change}: the shift compounds from layer to layer"
    if growth.clear:
        return f"shrinks with depth, {change}: here it does not compound"
    return f"does not clearly change with depth, {change}: here it does not compound"


# Lower gaps are better, higher validation accuracy is; lower confidence on mistakes is not
# "better" in itself (it can come with more mistakes): its verdict says which side is lower.
LOWER_IS_BETTER = {"val_accuracy": False, "confidence_when_wrong": None}
plain = final["no regularization"]
print("\nSummary")
against_plain = {}
for name in ("dropout", "BN", "BN + dropout"):
    f = final[name]
    against_plain[name] = {
        key: compare(f[key], plain[key], key.replace("_", " "), (name, "no regularization"),
                     lower_is_better=LOWER_IS_BETTER.get(key, True))
        for key in ("accuracy_gap", "loss_gap", "val_accuracy", "confidence_when_wrong")}
    for key in ("accuracy_gap", "loss_gap", "val_accuracy"):
        print(f"- {against_plain[name][key].sentence()}")
bn = against_plain["BN"]
print(f"So, from these numbers, BN {gap_words(bn['accuracy_gap'])}; "
      f"{overconfidence_words(bn['loss_gap'], bn['val_accuracy'], bn['confidence_when_wrong'])}.")
confident = bn["confidence_when_wrong"]
print(f"- mean confidence on wrongly classified validation samples: {confident.shown()[0]} BN "
      f"vs {confident.shown()[1]} no regularization; difference {confident.noise()}: "
      f"{direction_words(confident, 'higher', 'lower')}")
dropout_shift = compare(medians["BN + dropout"][:, -1], medians["BN"][:, -1],
                        f"{LAST_BN}'s moving variance / inference variance",
                        ("dropout", "no dropout"), fmt="{:.2f}")
growth = compare(medians["BN + dropout"][:, -1], medians["BN + dropout"][:, 1],
                 "ratio with dropout", (LAST_BN, BN_NAMES[1]), fmt="{:.2f}")
print(f"- Dropout before BN, {dropout_shift.what}: {dropout_shift.shown()[0]} with p = "
      f"{DROPOUT} vs {dropout_shift.shown()[1]} with p = 0; difference {dropout_shift.noise()}: "
      f"{direction_words(dropout_shift)}.")
first_ratio, first_se = mean_and_se(medians["BN + dropout"][:, 0])
print(f"  With dropout the ratio {compounding_words(growth)}; {BN_NAMES[0]}, with no dropout "
      f"before it, has {first_ratio:.3f} ± {first_se:.3f}.")
print(f"- Without dropout, {no_dropout_words}.")
print("  Li et al.'s remedy: dropout only after the last BN layer (see 'Try this').")

layers_below = sum(c.clear and c.difference < 0 for c in vs_expected.values())  # no dropout
print("RESULT " + " ".join(
    [f"{key.replace(' + ', '_and_').replace(' ', '_')}_{stat}={final[key][stat].mean():.6g}"
     for key in final for stat in ("accuracy_gap", "loss_gap", "val_accuracy",
                                   "confidence_when_wrong")]
    + [f"seeds={len(SEEDS)}", f"variance_ratio_p0={medians['BN'][:, -1].mean():.6g}",
       f"variance_ratio_dropout={medians['BN + dropout'][:, -1].mean():.6g}",
       f"variance_ratio_dropout_bn_2={medians['BN + dropout'][:, 1].mean():.6g}",
       f"variance_ratio_expected={EXPECTED:.6g}",
       f"variance_ratio_p0_bn_1={medians['BN'][:, 0].mean():.6g}",
       f"variance_ratio_control={medians[CONTROL][:, -1].mean():.6g}",
       f"variance_ratio_p0_layers_below={layers_below}"]))
headline(f"loss gap {bn['loss_gap'].shown()[0]} with BN vs {bn['loss_gap'].shown()[1]} "
         f"without ({bn['loss_gap'].noise()}: {bn['loss_gap'].verdict}); confidence on "
         f"mistakes {confident.shown()[0]} vs {confident.shown()[1]} ({confident.noise()}: "
         f"{confident.verdict})")

# %% [markdown]
# ## Try this
# - Set `N_TRAIN = 2000`: with ten times more data, how big are the gaps, and does BN's
#   regularizing effect show more or less?
# - Change `BATCH` to 8 and to 128. BN's noise comes from the batch statistics: smaller
#   batches mean noisier statistics. Does the BN network's gap change?
# - Move the dropout of the `BN + dropout` network after the *last* BN layer only (drop the
#   first three `Dropout` layers): what happens to the variance ratio?
# - Try `DROPOUT = 0.2`: does the variance ratio shrink, as Li et al. predict?

# %%
show_figures()
