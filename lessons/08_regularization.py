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
# For each network, at the last epoch: accuracy gap = train accuracy - validation accuracy,
# loss gap = validation loss - train loss. A regularizer should make these smaller, ideally
# by raising the validation numbers rather than by lowering the training ones.

# %%
final = {}
for name, curve in curves.items():
    final[name] = {
        "train_accuracy": curve["accuracy"][-1], "val_accuracy": curve["val_accuracy"][-1],
        "train_loss": curve["loss"][-1], "val_loss": curve["val_loss"][-1],
        "best_val_accuracy": curve["val_accuracy"].max(),
    }
    final[name]["accuracy_gap"] = final[name]["train_accuracy"] - final[name]["val_accuracy"]
    final[name]["loss_gap"] = final[name]["val_loss"] - final[name]["train_loss"]

print(f"After {EPOCHS} epochs ({N_TRAIN} training samples), measured in inference mode:")
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
ax_gap.set_title("Accuracy gap at the last epoch")
ax_loss_gap.set_title("Loss gap at the last epoch")
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
# usual "recompute the BN statistics" step). At p = 0 that leaves nothing to disagree
# about. Then we run the training samples in inference mode up to the last BN layer, take
# the actual variance of each of its 256 inputs, and divide the layer's `moving_variance`
# by it. A ratio of 1 means the moving statistics describe inference well; any difference
# left is dropout's doing (on while the statistics were collected, off now).

# %%
REFRESH_BATCHES = 500  # momentum 0.99: 0.99^500 < 0.01 of the old estimate is left


def refresh_moving_statistics(model, x, batches=REFRESH_BATCHES):
    """Run training-mode forward passes (batch statistics, dropout on) without updating any
    weight, so that every BN layer's moving averages settle for the current weights."""
    rng = np.random.default_rng(args.seed)
    for _ in range(batches):
        model.forward(x[rng.choice(len(x), size=BATCH, replace=False)], training=True)


def input_of_layer(model, name, x):
    """Run x through the model in inference mode and return the input of layer `name`."""
    for layer in model.layers:
        if layer.name == name:
            return x
        x = layer.forward(x, training=False)
    raise KeyError(f"no layer named {name!r}")


def variance_ratio(model, name, x):
    """Per unit: moving_variance of BN layer `name` / the variance of its input on x."""
    bn_layer = next(layer for layer in model.layers if layer.name == name)
    actual = input_of_layer(model, name, x).var(axis=0)  # biased, as BN computes it
    return bn_layer.state["moving_variance"] / actual


LAST_BN = f"bn_{DEPTH}"
ratios = {}
for name in ("BN", "BN + dropout"):
    refresh_moving_statistics(models[name], x_train)
    ratios[name] = variance_ratio(models[name], LAST_BN, x_train)
p_of = {name: CONFIGS[name][1] for name in ratios}
print(f"Moving variance / actual inference-time variance at {LAST_BN}, per unit:")
for name, ratio in ratios.items():
    print(f"  dropout p = {p_of[name]:.1f}: median {np.median(ratio):.3f} (middle half of "
          f"the units {np.percentile(ratio, 25):.3f} to {np.percentile(ratio, 75):.3f})")

# %% [markdown]
# **What to look at.** One histogram per network, one count per unit of the last BN layer.
# At p = 0 the ratios sit around 1. At p = 0.5 they are shifted to the right: at inference
# the layer divides by a standard deviation that is too large, so its outputs are shrunk.
# The accuracy cost of this shift is usually small (under a point in the measurements behind
# this lesson), so we show the variance, not an accuracy claim.

# %%
fig, ax = plt.subplots(figsize=(7, 4.2))
all_ratios = np.concatenate(list(ratios.values()))
bins = np.linspace(min(all_ratios.min(), 0.8), max(all_ratios.max(), 1.2), 40)
for name, ratio in ratios.items():
    ax.hist(ratio, bins=bins, alpha=0.6, color=COLORS[name],
            label=f"dropout p = {p_of[name]:.1f} before BN (median {np.median(ratio):.2f})")
ax.axvline(1.0, color="black", lw=1, ls=":")
ax.set_xlabel(f"moving variance / actual test-time variance ({LAST_BN}, per unit)")
ax.set_ylabel("number of units")
ax.set_title("Dropout before BN makes the moving variance too large for test time")
ax.legend()
ax.grid(alpha=0.3)
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
      f"{plain['accuracy_gap']:.3f}); its validation loss ends at {plain['val_loss']:.3f}, "
      f"against {plain['train_loss']:.3f} on the training set.")
for name in ("dropout", "BN", "BN + dropout"):
    f = final[name]
    print(f"2. {name}: accuracy gap {f['accuracy_gap']:.3f}, "
          f"{compare(f['accuracy_gap'], plain['accuracy_gap'])} without regularization; "
          f"validation accuracy {f['val_accuracy']:.3f} "
          f"({compare(f['val_accuracy'], plain['val_accuracy'], 'lower', 'higher')} "
          f"{plain['val_accuracy']:.3f}); loss gap {f['loss_gap']:.3f} "
          f"({compare(f['loss_gap'], plain['loss_gap'], tolerance=0.02)} "
          f"{plain['loss_gap']:.3f}).")
bn = final["BN"]
bn_gain = plain["accuracy_gap"] - bn["accuracy_gap"]
bn_loss_gain = plain["loss_gap"] - bn["loss_gap"]
if bn_gain > 0.02:
    verdict = f"BN narrows the accuracy gap, by {bn_gain:.3f}"
else:
    verdict = f"at this scale BN does NOT narrow the accuracy gap (change {-bn_gain:+.3f})"
if bn_loss_gain > 0.02:
    loss_verdict = f"it does shrink the loss gap, by {bn_loss_gain:.3f}"
    if bn["val_accuracy"] <= plain["val_accuracy"] + 0.005:
        loss_verdict += (" at no better validation accuracy: the BN network is less "
                         "over-confident on the validation samples it gets wrong, it does "
                         "not get more of them right")
else:
    loss_verdict = f"nor does it shrink the loss gap (change {-bn_loss_gain:+.3f})"
print(f"3. So, from these numbers: {verdict}; {loss_verdict}.")
best = min(final, key=lambda name: final[name]["loss_gap"])
print(f"   The smallest loss gap is {best}'s ({final[best]['loss_gap']:.3f}).")
median = {name: float(np.median(ratio)) for name, ratio in ratios.items()}
direction = "larger" if median["BN + dropout"] > median["BN"] else "not larger"
print(f"4. Dropout before BN: the last BN layer's moving variance is "
      f"{median['BN + dropout']:.2f}x the variance it actually sees at inference with "
      f"p = {DROPOUT}, vs {median['BN']:.2f}x with p = 0: {direction} with dropout.")
print("   Putting dropout only after the last BN layer avoids the shift.")

print("RESULT " + " ".join(
    [f"{key.replace(' + ', '_and_').replace(' ', '_')}_{stat}={final[key][stat]:.6g}"
     for key in final for stat in ("accuracy_gap", "loss_gap", "val_accuracy")]
    + [f"variance_ratio_p0={median['BN']:.6g}",
       f"variance_ratio_p{int(DROPOUT * 10)}={median['BN + dropout']:.6g}"]))

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
