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
# | no regularization | `Dense(256) -> ReLU` |
# | dropout | `Dense(256) -> ReLU -> Dropout(0.5)` |
# | BN | `Dense(256) -> BatchNormalization -> ReLU` |
# | BN + dropout | `Dense(256) -> BatchNormalization -> ReLU -> Dropout(0.5)` |
#
# Then we look at a known trap of the last combination (Li et al. 2019): dropout changes
# the variance that the *next* BN layer sees between training and inference.
#
# Run it:  `python lessons/08_regularization.py`  (options: `--quick`, `--seed N`, `--out DIR`)

# %%
import os
import sys

# Small matrices: one BLAS thread is faster than several that wait for each other.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib.pyplot as plt
import numpy as np

import tinynet
from tinynet.datasets import make_classification, standardize, train_test_split
from tinynet.layers import Activation, BatchNormalization, Dense, Dropout
from tinynet.models import Sequential
from tinynet.optimizers import Adam

HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
sys.path.insert(0, HERE)  # lessons/ is a folder of scripts, not a package
from lesson_tools import parse_args, save_figure, show_figures

args = parse_args(8, "Lesson 08: batch normalization as a regularizer, and dropout")

N_TRAIN = 200         # small on purpose: 4 x 256 units can memorize it
N_VAL = 2000          # a large validation set, so its accuracy is not itself noisy
DEPTH = 4
WIDTH = 256
DROPOUT = 0.5
BATCH = 32
EPOCHS = 12 if args.quick else 100

# %% [markdown]
# ## The data and the four networks
#
# `make_classification` with 10% of the labels replaced by random ones (`flip_y=0.1`): no
# network can be right on those, so 100% training accuracy means the network has learned
# the noise by heart. With BN the Dense layers have no bias (BN's `beta` replaces it).

# %%
x, y = make_classification(n_samples=N_TRAIN + N_VAL, n_features=20, class_sep=0.8,
                           flip_y=0.1, seed=args.seed)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=N_VAL, seed=args.seed)
x_train, x_val = standardize(x_train, x_val)

CONFIGS = {  # name -> (use BN, dropout rate)
    "no regularization": (False, 0.0),
    "dropout": (False, DROPOUT),
    "BN": (True, 0.0),
    "BN + dropout": (True, DROPOUT),
}
# Okabe-Ito colours (colour-blind safe): orange = without BN, blue = with BN, as in every
# lesson; the dropout variants are the darker shade of the same family.
COLORS = {"no regularization": "#E69F00", "dropout": "#D55E00", "BN": "#56B4E9",
          "BN + dropout": "#0072B2"}


def build(bn, rate):
    """DEPTH x [Dense(WIDTH) -> BN (if bn) -> ReLU -> Dropout(rate) (if rate)] -> sigmoid."""
    layers = []
    for i in range(DEPTH):
        first = {"input_shape": (x_train.shape[1],)} if i == 0 else {}
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
# inference mode). To compare like with like, after every epoch we evaluate **both** the
# training set and the validation set in inference mode.

# %%
def train(bn, rate):
    """Train one network; return it and its per-epoch train/val loss and accuracy."""
    tinynet.set_seed(args.seed)
    model = build(bn, rate)
    curves = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
    for _ in range(EPOCHS):
        model.fit(x_train, y_train, batch_size=BATCH, epochs=1, verbose=0)
        for prefix, (xs, ys) in (("", (x_train, y_train)), ("val_", (x_val, y_val))):
            loss, accuracy = model.evaluate(xs, ys, batch_size=500, verbose=0)
            curves[prefix + "loss"].append(loss)
            curves[prefix + "accuracy"].append(accuracy)
    return model, {key: np.array(values) for key, values in curves.items()}


models, curves = {}, {}
for name, (bn, rate) in CONFIGS.items():
    models[name], curves[name] = train(bn, rate)

# %% [markdown]
# **What to look at.** Solid lines are the training set, dashed lines the validation set,
# both in inference mode; the space between a solid line and the dashed line of the same
# colour is the *generalization gap*. Left: the loss. Without regularization the training
# loss goes to 0 while the validation loss climbs back up: the network becomes more and
# more confident about the labels it memorized, including the flipped ones. Right: the
# accuracy. Compare how far apart the lines of each colour end up, and where the dashed
# lines end.

# %%
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.6))
epochs = np.arange(1, EPOCHS + 1)
for name, curve in curves.items():
    for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        ax.plot(epochs, curve[key], "-", color=COLORS[name], lw=1.8, label=f"{name}, train")
        ax.plot(epochs, curve["val_" + key], "--", color=COLORS[name], lw=1.8,
                label=f"{name}, validation")
ax_loss.set_ylabel("binary cross-entropy")
ax_acc.set_ylabel("accuracy")
for ax, title in ((ax_loss, "Loss"), (ax_acc, "Accuracy")):
    ax.set_xlabel("epoch")
    ax.set_title(f"{title}: train (solid) vs validation (dashed)")
    ax.grid(alpha=0.3)
ax_acc.legend(fontsize=7.5, ncol=2, loc="lower right")
fig.suptitle(f"{N_TRAIN} training samples, {DEPTH} x {WIDTH} ReLU, Adam 1e-3, "
             f"10% flipped labels: both sets measured in inference mode")
fig.tight_layout()
save_figure(fig, args.out, "1_train_vs_validation_curves")

# %% [markdown]
# ## The gaps, in numbers
#
# For each network, at the end of training: accuracy gap = train accuracy - validation
# accuracy, loss gap = validation loss - train loss. A regularizer should make these
# smaller, ideally by raising the validation numbers rather than by lowering the training
# ones. The BN networks' validation curves wobble from epoch to epoch (their moving
# statistics trail the weights), so every number is the mean over the last `LAST` epochs.

# %%
LAST = max(1, EPOCHS // 10)
final = {}
for name, curve in curves.items():
    final[name] = {("train_" + key if not key.startswith("val_") else key):
                   float(values[-LAST:].mean()) for key, values in curve.items()}
    final[name]["accuracy_gap"] = final[name]["train_accuracy"] - final[name]["val_accuracy"]
    final[name]["loss_gap"] = final[name]["val_loss"] - final[name]["train_loss"]

print(f"Mean over epochs {EPOCHS - LAST + 1}-{EPOCHS} ({N_TRAIN} training samples), "
      f"measured in inference mode:")
print(f"  {'network':18s} {'train acc':>9s} {'val acc':>8s} {'acc gap':>8s} "
      f"{'train loss':>10s} {'val loss':>9s} {'loss gap':>9s}")
for name, f in final.items():
    print(f"  {name:18s} {f['train_accuracy']:9.3f} {f['val_accuracy']:8.3f} "
          f"{f['accuracy_gap']:8.3f} {f['train_loss']:10.3f} {f['val_loss']:9.3f} "
          f"{f['loss_gap']:9.3f}")

fig, (ax_gap, ax_loss_gap) = plt.subplots(1, 2, figsize=(11, 4))
names = list(final)
positions = np.arange(len(names))
for ax, key, ylabel in ((ax_gap, "accuracy_gap", "train acc - validation acc"),
                        (ax_loss_gap, "loss_gap", "validation loss - train loss")):
    values = [final[name][key] for name in names]
    bars = ax.bar(positions, values, color=[COLORS[name] for name in names])
    ax.bar_label(bars, fmt="%.3f")
    ax.set_xticks(positions, names, rotation=15)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
ax_gap.set_title(f"Accuracy gap (mean of the last {LAST} epochs)")
ax_loss_gap.set_title(f"Loss gap (mean of the last {LAST} epochs)")
fig.tight_layout()
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
# mode up to each BN layer, take the actual variance of each of its 256 inputs, and divide
# the layer's `moving_variance` by it. A ratio of 1 means the moving statistics describe
# inference well. (Expect slightly less than 1 even without dropout: the moving variance
# averages *biased* batch variances, which are (N - 1) / N of the true one, N = batch size.)

# %%
REFRESH_BATCHES = 500  # momentum 0.99: 0.99^500 < 0.01 of the old estimate is left


def refresh_moving_statistics(model, x, batches=REFRESH_BATCHES):
    """Run training-mode forward passes (batch statistics, dropout on) without updating any
    weight, so that every BN layer's moving averages settle for the current weights."""
    rng = np.random.default_rng(args.seed)
    for _ in range(batches):
        model.forward(x[rng.choice(len(x), size=BATCH, replace=False)], training=True)


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
ratios = {}  # network name -> {BN layer name -> ratio per unit}
for name in ("BN", "BN + dropout"):
    refresh_moving_statistics(models[name], x_train)
    ratios[name] = variance_ratios(models[name], x_train)
p_of = {name: CONFIGS[name][1] for name in ratios}
medians = {name: np.array([np.median(r[bn]) for bn in BN_NAMES]) for name, r in ratios.items()}
print(f"Median over units of moving variance / actual inference-time variance "
      f"(expected without dropout: (N-1)/N = {(BATCH - 1) / BATCH:.3f}):")
print("  " + " " * 16 + "".join(f"{bn:>8s}" for bn in BN_NAMES))
for name in ratios:
    print(f"  dropout p = {p_of[name]:.1f}  " + "".join(f"{m:8.3f}" for m in medians[name]))

# %% [markdown]
# **What to look at.** Left: one count per unit of the last BN layer. Without dropout the
# ratios sit near 1; with dropout before it they are shifted far to the right: at inference
# the layer divides by a standard deviation that is too large, so its outputs shrink.
# Right: the median ratio of every BN layer. `bn_1` has no dropout before it. From `bn_2`
# on, each layer has a dropout layer just before it; and the shift can *compound*: a BN
# layer's too-small output at inference makes the next layer's inputs smaller still than
# what its moving statistics expect. Whether it does depends on how far training went
# (compare `--quick` with the full run).
# The accuracy cost is often small (the last layers partly adapt), so we show the
# variances, not an accuracy claim.

# %%
fig, (ax_hist, ax_depth) = plt.subplots(1, 2, figsize=(12, 4.4))
last = {name: r[LAST_BN] for name, r in ratios.items()}
all_ratios = np.concatenate(list(last.values()))
bins = np.geomspace(min(all_ratios.min(), 0.5), max(all_ratios.max(), 2.0), 50)
for name, ratio in last.items():
    ax_hist.hist(ratio, bins=bins, alpha=0.6, color=COLORS[name],
                 label=f"dropout p = {p_of[name]:.1f} (median {np.median(ratio):.2f})")
ax_hist.set_xscale("log")
ax_hist.set_xlabel(f"moving variance / actual inference variance ({LAST_BN}, per unit)")
ax_hist.set_ylabel("number of units")
ax_hist.set_title(f"The last BN layer ({LAST_BN})")
depth = np.arange(1, DEPTH + 1)
for name, values in medians.items():
    ax_depth.plot(depth, values, "o-", color=COLORS[name], label=f"dropout p = {p_of[name]:.1f}")
ax_depth.set_xticks(depth, BN_NAMES)
ax_depth.set_xlabel("BN layer (bn_1 = next to the input)")
ax_depth.set_ylabel("median ratio over units")
ax_depth.set_title("Every BN layer")
for ax in (ax_hist, ax_depth):
    ax.axvline(1.0, color="black", lw=1, ls=":") if ax is ax_hist else ax.axhline(
        1.0, color="black", lw=1, ls=":")
    ax.legend()
    ax.grid(alpha=0.3)
fig.suptitle("Dropout before BN: the moving variance is too large for inference")
fig.tight_layout()
save_figure(fig, args.out, "3_dropout_variance_shift")

# %% [markdown]
# ## What the measurements say
#
# Every sentence below is built from the numbers above.

# %%
def compare(value, reference, smaller="smaller", larger="larger", tolerance=0.005):
    """'smaller' / 'larger' / 'about the same' for value vs reference."""
    if abs(value - reference) <= tolerance:
        return "about the same as"
    return f"{smaller} than" if value < reference else f"{larger} than"


plain = final["no regularization"]
print()
print("Summary")
print(f"1. Without regularization the network reaches {plain['train_accuracy']:.3f} training "
      f"accuracy but {plain['val_accuracy']:.3f} on validation (gap "
      f"{plain['accuracy_gap']:.3f}); its validation loss is {plain['val_loss']:.3f}, "
      f"against {plain['train_loss']:.3f} on the training set.")
for name in ("dropout", "BN", "BN + dropout"):
    f = final[name]
    print(f"2. {name}: accuracy gap {f['accuracy_gap']:.3f}, "
          f"{compare(f['accuracy_gap'], plain['accuracy_gap'], tolerance=0.01)} without "
          f"regularization; validation accuracy {f['val_accuracy']:.3f} "
          f"({compare(f['val_accuracy'], plain['val_accuracy'], 'lower', 'higher', 0.01)} "
          f"{plain['val_accuracy']:.3f}); loss gap {f['loss_gap']:.3f} "
          f"({compare(f['loss_gap'], plain['loss_gap'], tolerance=0.02)} "
          f"{plain['loss_gap']:.3f}).")
bn = final["BN"]
bn_gain = plain["accuracy_gap"] - bn["accuracy_gap"]
bn_loss_gain = plain["loss_gap"] - bn["loss_gap"]
if bn_gain > 0.02:
    verdict = f"BN narrows the accuracy gap, by {bn_gain:.3f}"
else:
    verdict = (f"at this scale BN does NOT narrow the accuracy gap ({bn['accuracy_gap']:.3f} "
               f"vs {plain['accuracy_gap']:.3f} without)")
if bn_loss_gain > 0.02:
    loss_verdict = f"it does shrink the loss gap, by {bn_loss_gain:.3f}"
    if bn["val_accuracy"] <= plain["val_accuracy"] + 0.01:
        loss_verdict += (" at no better validation accuracy: the BN network is less "
                         "over-confident on the validation samples it gets wrong, it does "
                         "not get more of them right")
else:
    loss_verdict = (f"nor does it shrink the loss gap ({bn['loss_gap']:.3f} vs "
                    f"{plain['loss_gap']:.3f})")
print(f"3. So, from these numbers: {verdict}; {loss_verdict}.")
best = min(final, key=lambda name: final[name]["loss_gap"])
print(f"   The smallest loss gap is {best}'s ({final[best]['loss_gap']:.3f}).")
plain_bn, dropout_bn = medians["BN"], medians["BN + dropout"]
direction = "larger" if dropout_bn[-1] > plain_bn[-1] else "not larger"
print(f"4. Dropout before BN: the last BN layer's moving variance is {dropout_bn[-1]:.2f}x "
      f"the variance it actually sees at inference with p = {DROPOUT}, vs "
      f"{plain_bn[-1]:.2f}x with p = 0: {direction} with dropout.")
if np.all(np.diff(dropout_bn[1:]) > 0):
    depth_story = (f"grows with depth, from {BN_NAMES[1]} ({dropout_bn[1]:.2f}x) to {LAST_BN} "
                   f"({dropout_bn[-1]:.2f}x): the shift compounds from layer to layer")
else:
    depth_story = (f"stays between {dropout_bn[1:].min():.2f}x and {dropout_bn[1:].max():.2f}x "
                   f"from {BN_NAMES[1]} to {LAST_BN}: here it does not compound")
print(f"   With dropout, the ratio {depth_story}; {BN_NAMES[0]}, with no dropout before it, "
      f"has {dropout_bn[0]:.2f}x.")
print("   Li et al.'s remedy: dropout only after the last BN layer (see 'Try this').")

print("RESULT " + " ".join(
    [f"{key.replace(' + ', '_and_').replace(' ', '_')}_{stat}={final[key][stat]:.6g}"
     for key in final for stat in ("accuracy_gap", "loss_gap", "val_accuracy")]
    + [f"variance_ratio_p0={plain_bn[-1]:.6g}", f"variance_ratio_dropout={dropout_bn[-1]:.6g}",
       f"variance_ratio_dropout_bn_2={dropout_bn[1]:.6g}"]))

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
