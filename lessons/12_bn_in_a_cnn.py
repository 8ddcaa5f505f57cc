# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 12: batch normalization in a convolutional network
#
# **Question.** Almost every network that uses batch normalization is convolutional. After a
# convolution, BN normalizes each *channel* over the batch **and** over every pixel. What
# does that change, and does BN help a small convolutional network (LeNet) the way it helped
# the Dense networks of lessons 01-09?
#
# We follow d2l's chapter on batch normalization: LeNet with and without BN, trained side by
# side. We measure
#
# 1. that "spatial" BN on images of shape (N, H, W, C) is the fully-connected BN of lesson 02
#    applied to the N*H*W pixels as if they were samples (CS231n's check);
# 2. the loss and accuracy curves of both networks, over several seeds;
# 3. the learning rates each network tolerates;
# 4. what a channel's statistics are during training: one channel's batch mean and variance
#    step by step, and the moving estimates that follow them (and what their lag costs).
#
# Every comparison is measured over seeds and printed with its noise (a standard error,
# "±"); the words after it are chosen from those numbers.
#
# Run it: `python lessons/12_bn_in_a_cnn.py [--quick] [--seed N] [--out DIR]`.

# %% tags=["parameters"]
# The lesson's options. In a notebook, change them here, then run all cells. On the command
# line, --quick, --seed N and --out DIR override them.
QUICK = False  # True: a small version that runs in a few seconds
SEED = 0       # the random seed: same seed, same numbers, same figures
OUT = None     # folder for the figures; None: figures/12 beside the lesson

# %%
import os

# Small matrices: one BLAS thread is faster than several that wait for each other.
# (It must be set before NumPy is imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib.pyplot as plt
import numpy as np

import tinynet
from tinynet import plot
from tinynet.callbacks import Callback
from tinynet.classroom import headline, lesson_options, save_figure, show_figures
from tinynet.datasets import load_fashion_mnist, make_strokes
from tinynet.layers import (
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
)
from tinynet.losses import SparseCategoricalCrossentropy
from tinynet.models import Sequential
from tinynet.optimizers import Adam
from tinynet.stats import compare, mean_and_se

args = lesson_options(12, "Lesson 12: batch normalization in a convolutional network",
                      quick=QUICK, seed=SEED, out=OUT)
plot.use_style()

SIDE = 16                                   # images are SIDE x SIDE pixels, one channel
N_TRAIN = 256 if args.quick else 1024
N_VAL = 256 if args.quick else 512
EPOCHS = 2 if args.quick else 4
BATCH = 32
LEARNING_RATE = 0.01                        # Adam; section 3 tries others
RATES = [0.01, 0.1] if args.quick else [0.001, 0.01, 0.1]
SEEDS = [args.seed + k for k in range(2 if args.quick else 5)]
RATE_SEEDS = SEEDS                          # the seeds of section 3's other rates
# momentum=0.9 in Keras's convention (new = 0.9 old + 0.1 batch) is PyTorch's default,
# which PyTorch writes momentum=0.1: checked in torch 2.13 (torch.nn.BatchNorm2d(3).momentum
# is 0.1) and in MindSpore's migration notes, www.mindspore.cn/docs/en/r1.10/_sources/note/
# api_mapping/pytorch_diff/BatchNorm2d.md.txt ("The default value of the momentum parameter
# ... is 0.1", "the momentum relationship with Pytorch is 1-momentum"). See "the networks".
BN_MOMENTUM = 0.9
CHANCE_LOSS = np.log(10)                    # the loss of a network that learned nothing

# %% [markdown]
# Every comparison is printed as "mean of one kind vs mean of the other; difference ± its
# standard error: verdict". The means get one digit more than the difference, and the
# difference printed is the printed means' difference, rounded: so the numbers add up as you
# read them. (The verdict is taken from the unrounded numbers.)


# %% [markdown]
# ## The data: Fashion-MNIST if it is on this machine, else synthetic strokes
#
# `load_fashion_mnist(download=False)` reads Fashion-MNIST (28 x 28 pictures of clothes, 10
# classes) from disk and never downloads (run `tinynet.datasets.load_fashion_mnist()` once to
# fetch it). To stay within a minute, each picture is shrunk to 14 x 14 (every pixel the mean
# of a 2 x 2 block) and framed with one black pixel to 16 x 16.
#
# Without the files the lesson draws **synthetic strokes** (`tinynet.datasets.make_strokes`):
# 16 x 16 images of 10 classes, each class two connected pen strokes at a fixed angle, shifted
# by up to 2 pixels, dimmed and noisy. A class is a *shape* that may sit anywhere: what
# convolutions, which slide the same small filter over every position, are made for. Either
# way, the pixels are standardized with the training set's mean and standard deviation (one
# number each: lesson 07).


# %%
def shrink(images):
    """(n, 28, 28, 1) -> (n, 16, 16, 1): 2 x 2 block means (14 x 14), then a 1-pixel black
    frame (Fashion-MNIST's background is black, 0)."""
    n = len(images)
    small = images.reshape(n, 14, 2, 14, 2, 1).mean(axis=(2, 4))
    return np.pad(small, ((0, 0), (1, 1), (1, 1), (0, 0)))


def load_images(n_train, n_val, seed):
    """(x_train, y_train, x_val, y_val, name of the data), pixels standardized."""
    try:
        (x_train, y_train), (x_val, y_val) = load_fashion_mnist(
            flatten=False, download=False, verbose=False, n_train=n_train, n_test=n_val)
        x_train, x_val, name = shrink(x_train), shrink(x_val), "Fashion-MNIST (16 x 16)"
    except OSError:  # the files are not on this machine (FileNotFoundError)
        x, y = make_strokes(n_train + n_val, seed=seed)
        x_train, y_train, x_val, y_val = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
        name = "synthetic strokes (offline stand-in for Fashion-MNIST)"
    mean, std = x_train.mean(), x_train.std()
    return (x_train - mean) / std, y_train, (x_val - mean) / std, y_val, name


x_train, y_train, x_val, y_val, DATA = load_images(N_TRAIN, N_VAL, args.seed)
print(f"data: {DATA}: {len(x_train)} training and {len(x_val)} validation images of "
      f"{x_train.shape[1]} x {x_train.shape[2]} pixels, {len(np.unique(y_train))} classes")

# %% [markdown]
# ## The networks: d2l's LeNet, with and without BN
#
#     Conv2D(6, 5, padding='same') - [BN] - sigmoid - AveragePooling2D(2)   16x16x6 -> 8x8x6
#     Conv2D(16, 5)                - [BN] - sigmoid - AveragePooling2D(2)   4x4x16 -> 2x2x16
#     Flatten - Dense(120) - [BN] - sigmoid - Dense(84) - [BN] - sigmoid - Dense(10)
#
# The last layer gives 10 logits; the loss is cross-entropy on them
# (`SparseCategoricalCrossentropy(from_logits=True)`), the optimizer Adam.
#
# Look at `summary()`: the BN after the first convolution has **24** parameters, 4 per
# channel (gamma, beta, moving mean, moving variance), not 4 per pixel (that would be
# 16 x 16 x 6 x 4 = 6,144). A convolution applies the same filter at every position, so
# every pixel of a channel means the same thing; BN keeps that: one mean, one variance, one
# gamma and one beta per channel, computed over the batch *and* the pixels.
#
# The BN layers use `momentum=0.9` (PyTorch's default, which PyTorch writes `momentum=0.1`:
# lesson 02), not Keras's 0.99: these runs are about a hundred steps long, and with 0.99 the
# moving averages would still hold 0.99^128 = 28% of their starting values at the end.
# Section 4 shows what the moving averages do with 0.9.


# %%
def lenet(with_bn, learning_rate=LEARNING_RATE):
    """d2l's LeNet (the first convolution padded to keep the image size), compiled."""
    def block(layer):  # layer - [BN] - sigmoid
        middle = [BatchNormalization(momentum=BN_MOMENTUM)] if with_bn else []
        return [layer, *middle, Activation("sigmoid")]

    model = Sequential([
        *block(Conv2D(6, 5, padding="same", input_shape=(SIDE, SIDE, 1))),
        AveragePooling2D(2),
        *block(Conv2D(16, 5)),
        AveragePooling2D(2),
        Flatten(),
        *block(Dense(120)),
        *block(Dense(84)),
        Dense(10),
    ])
    model.compile(optimizer=Adam(learning_rate),
                  loss=SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


KINDS = {"with BN": True, "without BN": False}
for label, with_bn in KINDS.items():
    print(f"\n--- LeNet {label} ---")
    lenet(with_bn).summary()

# %% [markdown]
# ## 1. Spatial BN is fully-connected BN on N*H*W "samples" (CS231n's check)
#
# For images x of shape (N, H, W, C), BN computes for each channel c
#
#     mu_c  = mean of x[n, h, w, c] over all n, h, w         (N*H*W values)
#     var_c = mean of (x[n, h, w, c] - mu_c)^2, the same values
#     y[n, h, w, c] = gamma_c * (x[n, h, w, c] - mu_c) / sqrt(var_c + eps) + beta_c
#
# which is exactly lesson 02's BN on a matrix of N*H*W rows and C columns. So reshaping
# (N, H, W, C) -> (N*H*W, C), applying the fully-connected BN, and reshaping back must give
# the same output, the same gradients and the same moving averages. We check it in float64
# on the first convolution's output for one batch, and also compute y by hand from the
# formula above, with NumPy's means over the axes (0, 1, 2).

# %%
ROUND_OFF = 1e-12  # float64 differences below this are round-off: "equal"


def spatial_words(largest_difference, by_hand):
    """Section 1's conclusion, from the largest difference between spatial BN and BN on the
    reshaped rows (outputs, gradients, moving averages) and between the layer's y and the
    formula by hand."""
    rows = (f"spatial BN equals fully-connected BN on (N*H*W, C) (largest difference "
            f"{largest_difference:.1e}, float64)" if largest_difference < ROUND_OFF else
            f"spatial BN does NOT equal fully-connected BN on (N*H*W, C): largest difference "
            f"{largest_difference:.1e}, more than float64 round-off")
    formula = (f"and the layer's y matches the formula by hand to round-off ({by_hand:.1e})"
               if by_hand < ROUND_OFF else
               f"but the layer's y differs from the formula by hand by {by_hand:.1e}")
    return f"{rows}, {formula}"


tinynet.set_seed(args.seed)                                      # the conv's weights
rng = np.random.default_rng(args.seed)
conv = Conv2D(6, 5, padding="same", dtype="float64")
images = conv.forward(x_train[:BATCH].astype(np.float64))       # (32, 16, 16, 6)
grad_y = rng.normal(size=images.shape)                           # any dL/dy will do
flat_shape = (-1, images.shape[-1])                              # (32 * 16 * 16, 6)
spatial = BatchNormalization(momentum=BN_MOMENTUM, dtype="float64")
rows = BatchNormalization(momentum=BN_MOMENTUM, dtype="float64")
y_spatial = spatial.forward(images, training=True)
y_rows = rows.forward(images.reshape(flat_shape), training=True).reshape(images.shape)
dx_spatial = spatial.backward(grad_y)
dx_rows = rows.backward(grad_y.reshape(flat_shape)).reshape(images.shape)
mu = images.mean(axis=(0, 1, 2))                                 # (6,) one per channel
var = images.var(axis=(0, 1, 2))
y_by_hand = (images - mu) / np.sqrt(var + spatial.epsilon)       # gamma = 1, beta = 0 here
differences = {
    "output y": np.abs(y_spatial - y_rows).max(),
    "dL/dx": np.abs(dx_spatial - dx_rows).max(),
    "dL/dgamma": np.abs(spatial.grads["gamma"] - rows.grads["gamma"]).max(),
    "dL/dbeta": np.abs(spatial.grads["beta"] - rows.grads["beta"]).max(),
    "moving mean": np.abs(spatial.state["moving_mean"] - rows.state["moving_mean"]).max(),
    "moving variance": np.abs(spatial.state["moving_variance"]
                              - rows.state["moving_variance"]).max(),
}
print(f"\n== 1. BN on {images.shape} and BN on the reshaped "
      f"{images.reshape(flat_shape).shape} (float64) ==")
for what, difference in differences.items():
    print(f"   largest difference in {what:<16s} {difference:.1e}")
largest_difference = max(differences.values())  # spatial BN against BN on the rows
by_hand = np.abs(y_spatial - y_by_hand).max()       # the layer against the formula
print(f"   the layer's y against the formula by hand (means over axes 0, 1, 2): largest "
      f"difference {by_hand:.1e}")
print(f"   So {spatial_words(largest_difference, by_hand)}.")
print(f"   each channel's mean and variance are taken over {images.shape[0]} x "
      f"{images.shape[1]} x {images.shape[2]} = "
      f"{images.shape[0] * images.shape[1] * images.shape[2]:,} values, not {BATCH}.")

# %% [markdown]
# ## 2. Training curves with and without BN
#
# Both networks start from the same seed and see the same batches, for each of several
# seeds. Solid lines: the training data, as `fit` reports it (training mode, averaged over
# the epoch); dashed: the validation images in inference mode, at the end of each epoch. The
# thick line is the mean over seeds, the band one standard error.
#
# **What to look for.** The network without BN sits on a plateau at loss ln 10 = 2.30 (it
# answers "1 in 10" for every image) before it starts learning: sigmoids and no normalization
# make LeNet slow to start, which is why d2l trains it for many epochs. With BN the loss falls
# from the first epoch. Then look at BN's dashed accuracy line: is it as smooth as its solid
# one? Section 4 explains what you see.


# %%
class ChannelWatcher(Callback):
    """After each training step, record what one BN layer saw for one of its channels: the
    batch mean and variance of that channel (over the batch and every pixel) and the layer's
    moving mean and moving variance after the step's update."""

    def __init__(self, bn_index, channel):
        super().__init__()
        self.bn_index, self.channel = bn_index, channel
        self.batch_mean, self.batch_var, self.moving_mean, self.moving_var = [], [], [], []

    def on_train_batch_end(self, batch, logs=None):
        x = self.model.layer_inputs[self.bn_index][..., self.channel]  # this step's BN input
        layer = self.model.layers[self.bn_index]
        self.batch_mean.append(x.mean())
        self.batch_var.append(x.var())
        self.moving_mean.append(layer.state["moving_mean"][self.channel])
        self.moving_var.append(layer.state["moving_variance"][self.channel])


def bn_positions(model):
    """Indices in model.layers of the BN layers: [after conv 1, conv 2, dense 120, dense 84]."""
    return [i for i, layer in enumerate(model.layers) if isinstance(layer, BatchNormalization)]


def train(with_bn, seed, learning_rate=LEARNING_RATE, callbacks=()):
    """A fresh LeNet trained from `seed`; returns (model, history dict)."""
    tinynet.set_seed(seed)  # same initial draws and same batch order for both networks
    model = lenet(with_bn, learning_rate)
    history = model.fit(x_train, y_train, batch_size=BATCH, epochs=EPOCHS, verbose=0,
                        validation_data=(x_val, y_val), callbacks=list(callbacks))
    return model, dict(history.history)


# channel 0 of the BN after the first convolution, and unit 0 of the BN after Dense(120)
BN_AT = bn_positions(lenet(True))
watchers = [ChannelWatcher(BN_AT[0], 0), ChannelWatcher(BN_AT[2], 0)]
models, runs = {}, {}
for label, with_bn in KINDS.items():
    runs[label], models[label] = [], []
    for seed in SEEDS:
        watching = watchers if with_bn and seed == SEEDS[0] else ()
        model, history = train(with_bn, seed, callbacks=watching)
        models[label].append(model)
        runs[label].append(history)


def per_seed(label, key, epoch=-1):
    """One number per seed: runs[label][i][key][epoch]."""
    return np.array([run[key][epoch] for run in runs[label]])


first_loss = compare(per_seed("with BN", "loss", 0), per_seed("without BN", "loss", 0),
                     "   Epoch 1, training loss")
final_accuracy = compare(per_seed("with BN", "val_accuracy"),
                         per_seed("without BN", "val_accuracy"),
                         f"   Epoch {EPOCHS}, validation accuracy", lower_is_better=False)
final_train_accuracy = compare(per_seed("with BN", "accuracy"),
                               per_seed("without BN", "accuracy"),
                               f"   Epoch {EPOCHS}, training accuracy (fit's)",
                               lower_is_better=False)
print(f"\n== 2. With and without BN, {len(SEEDS)} seeds, {EPOCHS} epochs of {N_TRAIN} images, "
      f"Adam {LEARNING_RATE} ==")
for comparison in (first_loss, final_train_accuracy, final_accuracy):
    print(comparison.sentence())


def mean_band(ax, epochs, curves, color, style, label):
    """Mean over seeds of `curves` (seeds, epochs) as a line, with a band of +- 1 s.e."""
    curves = np.asarray(curves)
    mean = curves.mean(axis=0)
    se = curves.std(axis=0, ddof=1) / np.sqrt(len(curves))
    ax.plot(epochs, mean, style, color=color, label=label)
    ax.fill_between(epochs, mean - se, mean + se, color=color, alpha=0.2, linewidth=0)


epochs = np.arange(1, EPOCHS + 1)
fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), layout="constrained")
for ax, metric, title in ((axes[0], "loss", "cross-entropy (lower is better)"),
                          (axes[1], "accuracy", "accuracy (higher is better)")):
    for label in KINDS:
        color = plot.color_for(label)
        mean_band(ax, epochs, [run[metric] for run in runs[label]], color, "-",
                  f"{label}, training (fit)")
        mean_band(ax, epochs, [run["val_" + metric] for run in runs[label]], color, "--",
                  f"{label}, validation (inference)")
    ax.set_xlabel("epoch")
    ax.set_xticks(epochs)
    ax.set_title(title)
axes[0].axhline(CHANCE_LOSS, color="black", linestyle=":", linewidth=1.5,
                label="ln 10: learned nothing")
plot.shared_legend(fig, axes[0], columns=3)
fig.suptitle(f"LeNet on {DATA.split(' (')[0]}: mean ± s.e. of {len(SEEDS)} seeds")
save_figure(fig, args.out, "1_curves_with_and_without_bn")

# %% [markdown]
# ## 3. Which learning rates does each network tolerate?
#
# The same training, with Adam's learning rate 10 times smaller and 10 times larger, from the
# same seeds. We call a run **trained** when its last epoch's training loss is below 80% of
# ln 10 (it has clearly left the plateau of a network that learned nothing), and **diverged**
# when its loss became NaN. Within this budget, "not trained" can also mean "too slow": look
# at the losses, not only the verdicts.


# %%
def rate_runs(with_bn, rate):
    """Final training losses and validation accuracies, one per seed of RATE_SEEDS (the runs
    of section 2 are reused for the default rate)."""
    if rate == LEARNING_RATE:
        histories = runs["with BN" if with_bn else "without BN"][:len(RATE_SEEDS)]
    else:
        histories = [train(with_bn, seed, rate)[1] for seed in RATE_SEEDS]
    loss = np.array([h["loss"][-1] if len(h["loss"]) == EPOCHS else np.nan for h in histories])
    accuracy = np.array([h["val_accuracy"][-1] if len(h["val_accuracy"]) == EPOCHS else np.nan
                         for h in histories])
    return loss, accuracy


def trained_rates(losses, rates, threshold):
    """The rates at which every seed's final loss is finite and below `threshold`.
    losses: {rate: (seeds,) array}."""
    return [rate for rate in rates
            if np.all(np.isfinite(losses[rate])) and np.all(losses[rate] < threshold)]


def trained_count(losses, threshold):
    """How many of the seeds' final losses are finite and below `threshold`."""
    return int(np.sum(np.isfinite(losses) & (losses < threshold)))


def rate_range_words(label, good, rates):
    """Words for the rates a network tolerates, from the list `good` (a subset of `rates`)."""
    if not good:
        return f"{label} trained at none of the rates {rates} within {EPOCHS} epochs"
    if len(good) == len(rates):
        return f"{label} trained at every rate tried, {good[0]:g} to {good[-1]:g}"
    listed = ", ".join(f"{rate:g}" for rate in good)
    return f"{label} trained at {len(good)} of {len(rates)} rates: {listed}"


THRESHOLD = 0.8 * CHANCE_LOSS
sweep = {label: {rate: rate_runs(with_bn, rate) for rate in RATES}
         for label, with_bn in KINDS.items()}
good = {label: trained_rates({rate: sweep[label][rate][0] for rate in RATES}, RATES, THRESHOLD)
        for label in KINDS}
print(f"\n== 3. Learning rates (Adam), {len(RATE_SEEDS)} seeds each, {EPOCHS} epochs ==")
print(f"   A run counts as trained when its last-epoch training loss is below 0.8 x ln 10 = "
      f"{THRESHOLD:.2f} (a network that learned nothing sits at ln 10 = {CHANCE_LOSS:.2f}); a "
      f"rate, when every seed trained and none diverged (NaN loss).")
for rate in RATES:
    loss_bn, loss_plain = sweep["with BN"][rate][0], sweep["without BN"][rate][0]
    if np.all(np.isfinite(loss_bn)) and np.all(np.isfinite(loss_plain)):
        what = f"   rate {rate:g}, last-epoch training loss"
        print(compare(loss_bn, loss_plain, what).sentence())
    else:
        print(f"   rate {rate:g}: a run diverged (NaN loss): with BN {loss_bn}, without "
              f"{loss_plain}")
    counts = [f"{label} {trained_count(sweep[label][rate][0], THRESHOLD)} of {len(RATE_SEEDS)}"
              for label in KINDS]
    print(f"      seeds trained (loss below {THRESHOLD:.2f}): {', '.join(counts)}")
for label in KINDS:
    print(f"   {rate_range_words(label, good[label], RATES)}.")

fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), layout="constrained")
for label in KINDS:
    color = plot.color_for(label)
    for ax, column in ((axes[0], 0), (axes[1], 1)):
        values = np.array([sweep[label][rate][column] for rate in RATES])  # (rates, seeds)
        means = np.array([np.nanmean(row) for row in values])
        ses = np.array([mean_and_se(row[np.isfinite(row)])[1] if np.isfinite(row).sum() > 1
                        else np.nan for row in values])
        ax.errorbar(RATES, means, yerr=ses, fmt="o-", color=color, capsize=4, label=label)
        for k in range(values.shape[1]):
            ax.plot(RATES, values[:, k], ".", color=color, alpha=0.5)
for ax in axes:
    ax.set_xscale("log")
    ax.set_xlabel("Adam learning rate (log scale)")
axes[0].axhline(THRESHOLD, color="black", linestyle=":", linewidth=1.5,
                label=f"'trained': below 0.8 x ln 10 = {THRESHOLD:.2f}")
axes[0].set_ylabel("training loss, last epoch")
axes[0].set_title("Does it train?")
axes[1].set_ylabel("validation accuracy (inference)")
axes[1].set_title("How well?")
plot.shared_legend(fig, axes[0], columns=3)
fig.suptitle(f"Learning-rate range after {EPOCHS} epochs: mean ± s.e. of {len(RATE_SEEDS)} "
             f"seeds (dots: seeds)")
save_figure(fig, args.out, "2_learning_rate_range")


# %% [markdown]
# ## 4. What a channel's statistics are, and the moving estimates that follow them
#
# During the first seed's training with BN we recorded, after every step, the batch mean and
# variance that BN computed for **channel 0 of the first convolution** (over 32 images x
# 16 x 16 pixels = 8,192 values), and the moving mean and moving variance after the step's
# update. For contrast, the same for **one unit of the BN after Dense(120)**, whose
# statistics come from only the 32 values of the batch.
#
# **What to look for.** The thin line (one batch) moves as the weights before BN change:
# the statistics of a channel are a moving target. The thick line (the moving estimate,
# momentum 0.9) averages about the last 10 steps, so it follows late. Compare how much the
# thin line jumps from one step to the next in the two columns: the channel's statistics
# come from 8,192 values per estimate, the Dense unit's from 32. The figure draws the means
# in units of the values' own standard deviation and the variances on a log scale, each row
# with the same span in both columns, the scales on which the printout measures the jumps.
# At inference BN uses the thick line: when the target moves fast the network is evaluated
# with statistics from a few steps ago, one reason a validation curve in section 2 can be
# less smooth than its training curve; the printout measures what the lag costs at the end.

# %%
def mean_jump(means, variances):
    """How far the batch mean moves from one step to the next, in units of the values' own
    standard deviation: median |m_t - m_(t-1)| / median sqrt(v_t)."""
    return float(np.median(np.abs(np.diff(means))) / np.median(np.sqrt(variances)))


def variance_jump(variances):
    """How far the batch variance moves from one step to the next, relative to its size:
    median |v_t - v_(t-1)| / median v_t."""
    return float(np.median(np.abs(np.diff(variances))) / np.median(variances))


def exact_statistics(model, x):
    """Set each BN layer's moving mean and variance to the exact mean and (biased) variance of
    its input over `x`, layer after layer in inference mode (what the moving averages
    estimate). Returns the old values, to put back with restore_statistics."""
    saved, h = [], x
    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            axes = tuple(range(h.ndim - 1))  # every axis but the channels
            saved.append((layer, layer.state["moving_mean"].copy(),
                          layer.state["moving_variance"].copy()))
            layer.state["moving_mean"][...] = h.mean(axis=axes)
            layer.state["moving_variance"][...] = h.var(axis=axes)
        h = layer.forward(h, training=False)
    return saved


def restore_statistics(saved):
    for layer, mean, variance in saved:  # in place: the model holds these arrays
        layer.state["moving_mean"][...] = mean
        layer.state["moving_variance"][...] = variance


def points(comparison):
    """The size of a difference of accuracies in percentage points, as .shown() prints it:
    '+0.273' -> '27.3'."""
    return f"{100 * abs(float(comparison.shown()[2])):.1f}"


def lag_words(moving_vs_exact):
    """What the moving estimates cost at inference, from a Comparison of validation accuracy
    (with the moving estimates) - (with exact statistics), paired over seeds."""
    if moving_vs_exact.clear and moving_vs_exact.difference < 0:
        return (f"the moving estimates cost {points(moving_vs_exact)} points of "
                f"validation accuracy at the end of training: they lag behind statistics that "
                f"are still moving")
    if moving_vs_exact.clear:
        return ("the moving estimates did better than the exact statistics of the final "
                "weights: their lag did not hurt here")
    return "the moving estimates cost no clear accuracy at the end of training"


exact_accuracy = []
for model in models["with BN"]:
    saved = exact_statistics(model, x_train)
    exact_accuracy.append(model.evaluate(x_val, y_val, batch_size=256, verbose=0)[1])
    restore_statistics(saved)
moving_vs_exact = compare(per_seed("with BN", "val_accuracy"), exact_accuracy,
                          "   LeNet with BN, final validation accuracy",
                          names=("with its moving estimates", "with exact statistics"),
                          lower_is_better=False)
jumps = {name: (mean_jump(w.batch_mean, w.batch_var), variance_jump(w.batch_var))
         for name, w in zip(("conv channel", "Dense unit"), watchers, strict=True)}
print("\n== 4. Per-channel statistics ==")
for name, (moved, var_moved) in jumps.items():  # watched in the first seed's run only
    print(f"   {name} (seed {SEEDS[0]}'s run, one seed): from one step to the next the batch "
          f"mean moves by {moved:.3f} standard deviations, the batch variance by "
          f"{var_moved:.1%} (medians)")
print(moving_vs_exact.sentence())
print(f"   So {lag_words(moving_vs_exact)}.")

fig, axes = plt.subplots(2, 2, figsize=(14, 9), sharex=True, layout="constrained")
names = ["conv 1, channel 0 (N x H x W values)", "Dense(120) BN, unit 0 (N values)"]
# Drawn on the scales the printout measures the jumps with, the same span in both columns:
# the means in standard deviations of the values (median sqrt of the batch variance), the
# variances on a log scale (a relative change is the same height everywhere).
spans = {"mean": [], "variance": []}
for column, (watcher, name) in enumerate(zip(watchers, names, strict=True)):
    steps = np.arange(1, len(watcher.batch_mean) + 1)
    unit = float(np.median(np.sqrt(watcher.batch_var)))  # the values' typical std
    for row, (batch_values, moving, what) in enumerate((
            (np.asarray(watcher.batch_mean) / unit, np.asarray(watcher.moving_mean) / unit,
             "mean"),
            (np.asarray(watcher.batch_var), np.asarray(watcher.moving_var), "variance"))):
        ax = axes[row, column]
        ax.plot(steps, batch_values, color=plot.SKY, linewidth=1.2,
                label="this step's batch (what BN normalizes with in training)")
        ax.plot(steps, moving, color=plot.BLUE,
                label=f"moving estimate, momentum {BN_MOMENTUM} (what inference uses)")
        ax.set_title(f"{name}: {what}")
        values = np.concatenate([batch_values, moving])
        if what == "variance":
            ax.set_yscale("log")
            values = np.log10(values[values > 0])
        spans[what].append((ax, values.min(), values.max()))
        if row == 1:
            ax.set_xlabel("training step")
    axes[0, column].set_ylabel(f"mean / {unit:.3g} (the values' std)")
    axes[1, column].set_ylabel("variance (log scale)")
for what, panels in spans.items():  # the same span in both columns, each around its own data
    half = 0.55 * max(high - low for _, low, high in panels)
    for ax, low, high in panels:
        middle = (low + high) / 2
        ax.set_ylim(*((middle - half, middle + half) if what == "mean"
                      else (10 ** (middle - half), 10 ** (middle + half))))
plot.shared_legend(fig, axes[1, 1], columns=2)
fig.suptitle(f"What BN measured during training (LeNet with BN, seed {SEEDS[0]}): each row "
             f"has the same y-span in both columns")
save_figure(fig, args.out, "3_channel_statistics")

# %% [markdown]
# ## Summary

# %%
def curve_words(first, final):
    """The curves in one sentence, from the Comparisons of the first-epoch training loss and
    the final validation accuracy (with BN vs without)."""
    start = ("BN starts faster (lower first-epoch loss)" if first.favours == first.names[0]
             else "BN does not start clearly faster" if first.favours is None
             else "the network without BN starts faster")
    # each half names its subject: "..., and ends ahead" after "the network without BN
    # starts faster" would have said the wrong network ended ahead
    if final.favours == final.names[0]:
        end = f"BN ends ahead on validation accuracy by {points(final)} points"
    elif final.favours is None:
        end = "the final validation accuracies are not clearly different"
    else:
        end = f"BN ends behind on validation accuracy by {points(final)} points"
    return f"{start}; {end}"


print(f"\nSummary (data: {DATA}; {len(SEEDS)} seeds)")
spatial = spatial_words(largest_difference, by_hand)
print(f"- {spatial[0].upper()}{spatial[1:]}.")
print(f"- Curves: {curve_words(first_loss, final_accuracy)} ({final_accuracy.noise()}).")
for label in KINDS:
    words = rate_range_words(label, good[label], RATES)
    print(f"- {words[0].upper()}{words[1:]} (a rate counts when every seed's last-epoch loss is "
          f"below {THRESHOLD:.2f}).")
lag = lag_words(moving_vs_exact)
print(f"- {lag[0].upper()}{lag[1:]} ({moving_vs_exact.noise()}).")

print(f"RESULT data={'fashion_mnist' if DATA.startswith('Fashion') else 'synthetic'} "
      f"seeds={len(SEEDS)} spatial_vs_rows={largest_difference:.3e} by_hand={by_hand:.3e}")
print(f"RESULT first_loss_bn={first_loss.mean_a:.4f} first_loss_plain={first_loss.mean_b:.4f} "
      f"val_accuracy_bn={final_accuracy.mean_a:.4f} "
      f"val_accuracy_plain={final_accuracy.mean_b:.4f} val_accuracy_se={final_accuracy.se:.4f}")
print(f"RESULT rates_trained_bn={len(good['with BN'])} "
      f"rates_trained_plain={len(good['without BN'])} rates={len(RATES)}")
print(f"RESULT exact_accuracy_bn={moving_vs_exact.mean_b:.4f} "
      f"conv_mean_jump={jumps['conv channel'][0]:.4f} "
      f"dense_mean_jump={jumps['Dense unit'][0]:.4f}")
in_percent = compare(per_seed("with BN", "val_accuracy"), per_seed("without BN", "val_accuracy"),
                     "validation accuracy", lower_is_better=False, fmt="{:.1%}")
headline(f"LeNet on {DATA.split(' (')[0]}, validation accuracy after {EPOCHS} epochs: "
         f"{in_percent.shown()[0]}% with BN vs {in_percent.shown()[1]}% without "
         f"({in_percent.noise()}): {in_percent.verdict}")

show_figures()

# %% [markdown]
# ## Try this
#
# * Set `BN_MOMENTUM = 0.99` (Keras's default). What happens to BN's validation curve, and to
#   the gap between the moving estimates and the exact statistics in section 4?
# * Move each BN *after* its sigmoid (lesson 07). Does the network without BN's plateau
#   matter less or more?
# * Replace the sigmoids by ReLU in both networks. Does the network without BN still sit on a
#   plateau?
# * Give the Dense layers' BN a batch of 8 (`BATCH = 8`): how much more does the Dense unit's
#   batch mean jump from step to step than the channel's? (Lesson 13 goes further.)
