# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 13: how small can a batch be?
#
# **Question.** Batch normalization estimates each channel's mean and variance from the images
# of the batch. With 2 images, how good is that estimate, and what does a worse estimate
# cost? Group normalization (Wu & He, 2018) never looks at the other images: does it keep
# its accuracy where BN loses it?
#
# Wu & He's Figure 1 trains ResNet-50 on ImageNet on several GPUs with 32, 16, 8, 4 and 2
# images per GPU; each GPU's BN normalizes with the statistics of its own images. BN's error
# rises as that number shrinks, GroupNorm's stays flat, and at 2 images per GPU BN's error is
# 34.7% and GN's 24.1%, a gap of 10.6 points; at typical batch sizes, in the paper's words, "GN
# is comparably good with BN". We rerun that experiment in miniature: a small
# convolutional network on 16 x 16 images with BN whose statistics come from 2, 4, 8, 16 or
# 32 images, against GroupNorm, LayerNorm and no normalization, from several seeds. The
# conclusions are printed from the numbers, including where the miniature does *not*
# reproduce the paper.
#
# Run it: `python lessons/13_how_small_a_batch.py [--quick] [--seed N] [--out DIR]`.

# %% tags=["parameters"]
# The lesson's options. In a notebook, change them here, then run all cells. On the command
# line, --quick, --seed N and --out DIR override them.
QUICK = False  # True: a small version that runs in a few seconds
SEED = 0       # the random seed: same seed, same numbers, same figures
OUT = None     # folder for the figures; None: figures/13 beside the lesson

# %%
import os

# Small matrices: one BLAS thread is faster than several that wait for each other.
# (It must be set before NumPy is imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib.pyplot as plt
import numpy as np

import tinynet
from tinynet import plot
from tinynet.classroom import headline, lesson_options, save_figure, show_figures
from tinynet.datasets import load_fashion_mnist, make_strokes
from tinynet.layers import (
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    GlobalAveragePooling2D,
    GroupNormalization,
    MaxPooling2D,
)
from tinynet.losses import SparseCategoricalCrossentropy
from tinynet.models import Sequential
from tinynet.optimizers import Adam
from tinynet.stats import compare, mean_and_se, noise_multiple

args = lesson_options(13, "Lesson 13: how small can a batch be?", quick=QUICK, seed=SEED,
                      out=OUT)
plot.use_style()

SIDE = 16                                    # images are SIDE x SIDE pixels, one channel
N_TRAIN = 256 if args.quick else 512
N_VAL = 256 if args.quick else 512
EPOCHS = 3 if args.quick else 6
BATCH = 32                                   # images per training step, for every network
GROUP_SIZES = [2, 8, 32] if args.quick else [2, 4, 8, 16, 32]   # BN's images per "GPU"
SEEDS = [args.seed + k for k in range(2 if args.quick else 6)]
LEARNING_RATE = 0.003                        # Adam
BN_MOMENTUM = 0.9                            # as in lesson 12

# Wu & He (2018), "Group Normalization", ECCV: ResNet-50 on ImageNet, top-1 validation error
# with 2 images per GPU. Checked against two public sources: the paper's abstract (arXiv
# 1803.08494, as shown by ar5iv.labs.arxiv.org and arxiv-vanity.com: "GN has 10.6% lower error
# than its BN counterpart when using a batch size of 2") and the paper summary at
# royalroad.pages.dev/papers/wuGroupNormalization2018 ("24.1% even at batch size 2, where BN
# rises to 34.7%"; batch sizes "32, 16, 8, 4, 2 images/GPU"); 34.7 - 24.1 = 10.6 agrees with
# the abstract. Batch sizes per GPU also in the README of ImageNet-ResNet-TensorFlow in
# github.com/hajungong007/GroupNorm-reproduce ("8 GPUs with a total batch size of 256").
PAPER_ERROR_AT_2 = {"BN": 34.7, "GroupNorm": 24.1}
# The same abstract: "when using typical batch sizes, GN is comparably good with BN". To check
# "close" we need a margin: GroupNorm counts as close to BN when the whole 95 % interval of
# their difference lies within CLOSE_TO_BN (1 point of error; our choice, change it). No clear
# difference is not enough: a wide interval could hide a large gap.
CLOSE_TO_BN = 0.01

# %% [markdown]
# Every comparison is printed as "mean of one kind vs mean of the other; difference ± its
# standard error: verdict". The means get one digit more than the difference, and the
# difference printed is the printed means' difference, rounded: so the numbers add up as you
# read them. (The verdict is taken from the unrounded numbers.)


# %% [markdown]
# ## The data
#
# The same images as lesson 12: Fashion-MNIST shrunk to 16 x 16 when its files are on this
# machine (`load_fashion_mnist(download=False)` never downloads), else 16 x 16 synthetic
# strokes (10 classes of two pen strokes, shifted, dimmed and noisy). Pixels standardized.


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
print(f"data: {DATA}: {len(x_train)} training and {len(x_val)} validation images")
print(f"BN here normalizes each group of n images of a {BATCH}-image step with the group's own "
      f"mean and variance,\nas each GPU does with its own images in Wu & He's runs (their "
      f"'images per GPU'); no GPU is involved here.")

# %% [markdown]
# ## BN as on several GPUs: statistics from a few images of the batch
#
# In Wu & He's experiment the gradient step averages over all 8 GPUs, but each GPU's BN only
# sees its own images. We do the same on one machine: every training step takes 32 images,
# and BN splits them into groups of n images ("GPUs") and normalizes each group with its own
# mean and variance. Everything else is identical for every n: the same images, the same
# steps, the same learning rate. Only the number of images behind BN's estimate changes.
# (Changing the batch of the step itself would also change how many steps every network
# takes, and how noisy they are, for GroupNorm as much as for BN: two effects mixed into one
# number. "Try this" at the end does it.)
#
# For x of shape (N, H, W, C) viewed as (N/n groups, n*H*W values, C), per group and channel:
#
#     mu    = mean over the group's n*H*W values          (N/n, 1, C)
#     var   = mean of (x - mu)^2 over the same values
#     x_hat = (x - mu) / sqrt(var + eps),   y = gamma * x_hat + beta
#
# and the backward pass is lesson 02's formula applied to each group (m = n*H*W values):
#
#     dx = gamma / (m * s) * (m * g - sum(g) - x_hat * sum(g * x_hat)),   s = sqrt(var + eps)
#
# with the sums over each group's values; dgamma and dbeta sum over every group. The moving
# averages follow the mean over groups of the groups' statistics. (This is often called
# "ghost batch normalization".) At inference nothing changes: the moving averages are used.


# %%
class GhostBatchNormalization(BatchNormalization):
    """BatchNormalization whose training statistics come from groups of `images` images of
    the batch, as on machines where each GPU normalizes only its own images. Inference mode
    is BatchNormalization's. Shapes: x (N, ..., C) -> y, the same; N a multiple of images."""

    def __init__(self, images, **kwargs):
        super().__init__(**kwargs)
        if isinstance(images, bool) or not isinstance(images, int) or images < 1:
            raise ValueError(f"GhostBatchNormalization(images=...) must be an int >= 1, got "
                             f"{images!r}")
        self.images = images
        self.ghost_cache = None

    def forward(self, x, training=False):
        """Inputs: x (N, H, W, C) or (N, C). Returns: y, the same shape."""
        self.ghost_cache = None
        if not (training and self.trainable):
            return super().forward(x, training)
        self.check_input(x)
        if len(x) % self.images:
            raise ValueError(f"{self.where}: a batch of {len(x)} images cannot be split into "
                             f"groups of {self.images}; use a batch size that is a multiple")
        groups = x.reshape(len(x) // self.images, -1, x.shape[-1])   # (N/n, n*H*W, C)
        mu = groups.mean(axis=1, keepdims=True)
        var = groups.var(axis=1, keepdims=True)                      # biased, as BN
        inv_std = 1.0 / np.sqrt(var + x.dtype.type(self.epsilon))
        x_hat = (groups - mu) * inv_std
        self.update_moving_statistics(mean=mu.mean(axis=(0, 1)), variance=var.mean(axis=(0, 1)))
        self.ghost_cache = (x_hat, inv_std)
        return (self.params["gamma"] * x_hat + self.params["beta"]).reshape(x.shape)

    def backward(self, grad_output):
        """Inputs: grad_output, the shape of y. Returns: dL/dx; sets grads['gamma'], ['beta']."""
        if self.ghost_cache is None:  # inference mode: BatchNormalization's own backward
            return super().backward(grad_output)
        x_hat, inv_std = self.ghost_cache
        g = grad_output.reshape(x_hat.shape)                          # (N/n, m, C)
        m = x_hat.shape[1]
        self.grads["beta"] = g.sum(axis=(0, 1))
        self.grads["gamma"] = (g * x_hat).sum(axis=(0, 1))
        gh = g * self.params["gamma"]                                 # dL/dx_hat
        dx = (inv_std / m) * (m * gh - gh.sum(axis=1, keepdims=True)
                              - x_hat * (gh * x_hat).sum(axis=1, keepdims=True))
        return dx.reshape(grad_output.shape)


# %% [markdown]
# Before trusting it, two checks in float64 on one batch of feature maps: with groups of 32
# (the whole batch) it must equal `BatchNormalization`, and with groups of 2 it must equal
# `BatchNormalization` applied to each pair of images on its own (outputs and dL/dx).

# %%
def ghost_check(images, x, grad_y):
    """Largest difference between GhostBatchNormalization(images) and BatchNormalization run
    on each group of `images` images separately, in y and dL/dx. x, grad_y: (N, H, W, C)."""
    ghost = GhostBatchNormalization(images, dtype="float64")
    y, dx = ghost.forward(x, training=True), ghost.backward(grad_y)
    difference = 0.0
    for start in range(0, len(x), images):
        one = BatchNormalization(dtype="float64")
        part = slice(start, start + images)
        difference = max(difference, np.abs(one.forward(x[part], training=True) - y[part]).max(),
                         np.abs(one.backward(grad_y[part]) - dx[part]).max())
    return difference


def ghost_words(differences):
    """The check's conclusion, from {n: largest difference} (float64)."""
    if max(differences.values()) < 1e-12:
        return ("GhostBatchNormalization equals BatchNormalization on each group, to float64 "
                "round-off")
    wrong = ", ".join(f"n = {n}" for n, d in differences.items() if d >= 1e-12)
    return (f"GhostBatchNormalization does NOT equal BatchNormalization on each group ({wrong}): "
            f"do not trust the BN results below")


rng = np.random.default_rng(args.seed)
feature_maps = rng.normal(2.0, 3.0, size=(BATCH, 4, 4, 8))
upstream = rng.normal(size=feature_maps.shape)
checks_float64 = {n: ghost_check(n, feature_maps, upstream) for n in (BATCH, 2)}
print("\n== Check: GhostBatchNormalization(n) against BatchNormalization on each group ==")
print(f"   float64, one batch of {BATCH} random feature maps of "
      f"{' x '.join(map(str, feature_maps.shape[1:]))}; largest difference in y and dL/dx:")
for n, difference in checks_float64.items():
    groups = "the whole batch" if n == BATCH else f"{BATCH // n} groups of {n} images"
    print(f"   n = {n:>2d} ({groups + '):':<24s} {difference:.1e}")
print(f"   So {ghost_words(checks_float64)}.")

# %% [markdown]
# ## Four networks that differ only in their normalization
#
#     Conv2D(8, 3, padding='same')  - norm - ReLU - MaxPooling2D(2)   16x16x8 -> 8x8x8
#     Conv2D(16, 3, padding='same') - norm - ReLU - MaxPooling2D(2)   8x8x16 -> 4x4x16
#     Conv2D(32, 3, padding='same') - norm - ReLU                     4x4x32
#     GlobalAveragePooling2D - Dense(10)                              32 -> 10 logits
#
# As in the last stage of a ResNet, the last feature maps are small (4 x 4): with
# groups of 2 images BN estimates each of the last layer's channels from 2 x 4 x 4 = 32
# values (lesson 12: a channel's statistics come from n x H x W values). "norm" is:
#
# * **BN**: `GhostBatchNormalization(n, momentum=0.9)`, statistics over (n, H, W);
# * **GroupNorm** `GroupNormalization(groups=4)`: per image, over (H, W) and a group of C/4
#   neighbouring channels (the layer's default, 32 groups, is for wider layers than ours);
# * **LayerNorm**, as Wu & He define it: per image, over (H, W, C), which is
#   `GroupNormalization(groups=1)` (Keras's `LayerNormalization()` on an image normalizes
#   each pixel over its channels only: a different thing);
# * **no normalization**.
#
# GroupNorm, LayerNorm and no normalization never look at another image, so n does not
# exist for them: each is trained once per seed, and drawn as a flat line at every n.
# Training: Adam (learning rate 0.003), batches of 32, the same epochs for every run. The
# error is 1 - accuracy on the validation images, in inference mode.

# %%
NORMS = ["BN", "GroupNorm", "LayerNorm", "no normalization"]


def normalization(norm, images):
    """A fresh normalization layer of kind `norm` (BN with groups of `images`), or None."""
    if norm == "BN":
        return GhostBatchNormalization(images, momentum=BN_MOMENTUM)
    if norm == "GroupNorm":
        return GroupNormalization(groups=4)
    if norm == "LayerNorm":
        return GroupNormalization(groups=1)
    return None


def small_cnn(norm, images=BATCH):
    """The network above with normalization `norm`, compiled."""
    layers = []
    for filters in (8, 16, 32):
        shape = {"input_shape": (SIDE, SIDE, 1)} if filters == 8 else {}
        layers.append(Conv2D(filters, 3, padding="same", **shape))
        if norm != "no normalization":
            layers.append(normalization(norm, images))
        layers.append(Activation("relu"))
        if filters < 32:
            layers.append(MaxPooling2D(2))
    model = Sequential([*layers, GlobalAveragePooling2D(), Dense(10)])
    model.compile(optimizer=Adam(LEARNING_RATE),
                  loss=SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def validation_error(norm, seed, images=BATCH):
    """Train from `seed`; return the validation error (1 - accuracy, inference mode)."""
    tinynet.set_seed(seed)  # the same initial draws and batches for every network
    model = small_cnn(norm, images)
    model.fit(x_train, y_train, batch_size=BATCH, epochs=EPOCHS, verbose=0)
    return 1.0 - model.evaluate(x_val, y_val, batch_size=256, verbose=0)[1]


# errors[norm]: (seeds, group sizes); only BN's columns differ
errors = {"BN": np.array([[validation_error("BN", seed, n) for n in GROUP_SIZES]
                          for seed in SEEDS])}
for norm in NORMS[1:]:
    once = np.array([validation_error(norm, seed) for seed in SEEDS])
    errors[norm] = np.repeat(once[:, None], len(GROUP_SIZES), axis=1)

# %% [markdown]
# ## Error against the number of images behind BN's statistics
#
# **What to look for.** Wu & He's picture: the BN line climbs as n shrinks (to the left)
# while GroupNorm's stays flat. Does BN's line climb here, and does it cross GroupNorm's?
# The error bars are one standard error over seeds; the dots are the seeds. The right panel
# shows the difference that matters, BN's error minus GroupNorm's, seed by seed (paired:
# same seed, same batches), with its 95 % interval, mean ± t·s.e. (t = 2.57 for the 6 seeds
# of the full run, 12.7 for the 2 of a quick one): where that bar crosses 0, the seeds cannot
# tell the two apart, and the printout says "no clear difference". The star is the paper's
# gap at 2 images per GPU.

# %%
def mean_and_se_columns(values):
    """Per column of (seeds, sizes): the mean and its standard error, two (sizes,) arrays."""
    pairs = [mean_and_se(column) for column in values.T]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


print(f"\n== Validation error (%), mean ± s.e. over {len(SEEDS)} seeds, {EPOCHS} epochs of "
      f"{N_TRAIN} images in steps of {BATCH} ==")
print("   n, images per BN group: " + "  ".join(f"{n:>10d}" for n in GROUP_SIZES))
for norm in NORMS:
    means, ses = mean_and_se_columns(errors[norm])
    print(f"   {norm:>21s}: " + "  ".join(f"{100 * m:5.1f} ± {100 * e:3.1f}"
                                          for m, e in zip(means, ses, strict=True)))
print("   (only BN uses n; the other three are trained once per seed, so their rows repeat)")

fig, axes = plt.subplots(1, 2, figsize=(15, 6), layout="constrained")
for norm in NORMS:
    color = plot.color_for(norm)
    means, ses = mean_and_se_columns(errors[norm])
    if norm == "BN":
        axes[0].errorbar(GROUP_SIZES, 100 * means, yerr=100 * ses, fmt="o-", color=color,
                         capsize=4, label="BN (mean ± s.e.; dots: seeds)")
        for row in errors[norm]:
            axes[0].plot(GROUP_SIZES, 100 * row, ".", color=color, alpha=0.4)
    else:  # one run per seed, the same at every n: a line and a band of ± 1 s.e.
        axes[0].plot(GROUP_SIZES, 100 * means, "--", color=color,
                     label=f"{norm} (the same at every n)")
        axes[0].fill_between(GROUP_SIZES, 100 * (means - ses), 100 * (means + ses),
                             color=color, alpha=0.15, linewidth=0)
gap_means, gap_ses = mean_and_se_columns(errors["BN"] - errors["GroupNorm"])
t = noise_multiple(len(SEEDS))  # the verdicts' rule: the 95 % interval is mean ± t * s.e.
axes[1].errorbar(GROUP_SIZES, 100 * gap_means, yerr=100 * t * gap_ses, fmt="o-", capsize=4,
                 color=plot.color_for("BN"),
                 label=f"ours: mean ± {t:.2f} s.e. (95 % interval, {len(SEEDS)} seeds)")
axes[1].axhline(0, color="black", linewidth=1)
axes[1].plot([2], [PAPER_ERROR_AT_2["BN"] - PAPER_ERROR_AT_2["GroupNorm"]], "*",
             color="black", markersize=14, label="Wu & He, ResNet-50 on ImageNet")
for ax in axes:
    ax.set_xscale("log", base=2)
    ax.set_xticks(GROUP_SIZES, [str(n) for n in GROUP_SIZES])
    ax.set_xlabel("n, images behind each BN estimate (Wu & He: images per GPU)")
axes[1].legend()
plot.shared_legend(fig, axes[0], columns=2)
axes[0].set_ylabel("validation error (%)")
axes[0].set_title(f"Error: mean ± s.e. of {len(SEEDS)} seeds")
axes[1].set_ylabel("BN's error - GroupNorm's (points)")
axes[1].set_title("Where does BN fall behind GroupNorm?")
fig.suptitle(f"Wu & He's Figure 1 in miniature, on {DATA.split(' (')[0]}")
save_figure(fig, args.out, "1_error_vs_batch_size")

# %% [markdown]
# ## What the runs measured
#
# Every verdict below comes from `compare` (tinynet.stats): the mean over seeds of a paired
# difference and its standard error. A difference counts as real only when its 95 %
# interval, mean ± t·s.e., leaves out 0; t is 2.57 with 6 seeds, 4.30 with 3 and 12.7 with 2
# (few seeds need a wide margin). Otherwise it is called noise: "no clear difference at
# this scale". Then each of the paper's claims is checked against our numbers, and the
# printout says whether the miniature reproduces it.


# %%
def change_words(name, small_vs_large):
    """How a network's error changes from the largest n to the smallest, from a Comparison of
    (error at the smallest n) - (error at the largest), paired over seeds."""
    if not small_vs_large.clear:
        return f"{name}'s error does not change clearly between the two"
    direction = "rises" if small_vs_large.difference > 0 else "falls"
    return (f"{name}'s error {direction} by {small_vs_large.shown()[2][1:]} points with fewer "
            f"images per group")


def paper_check(bn_change, gap_small, gap_large, close):
    """[(claim, reproduced?, why)] for Wu & He's claims, from Comparisons of error differences
    paired over seeds: bn_change is BN's (smallest n) - (largest n); gap_small and gap_large
    are (BN) - (GroupNorm) at the smallest and the largest n; close is the margin (a fraction
    of error) within which GroupNorm counts as close to BN."""
    def measured(comparison):
        return f"{comparison.noise()}: {comparison.verdict}"

    margin = f"{100 * close:g} point" + ("" if round(100 * close, 9) == 1 else "s")
    rises = bn_change.clear and bn_change.difference > 0
    beats = gap_small.clear and gap_small.difference > 0
    measurable = np.isfinite(gap_large.se) and (gap_large.se > 0 or gap_large.n >= 3)
    reach = noise_multiple(gap_large.n) * gap_large.se if measurable else np.inf
    low, high = gap_large.difference - reach, gap_large.difference + reach
    near = measurable and -close <= low and high <= close
    if near:
        why = (f"BN - GroupNorm = {gap_large.noise()}; its 95 % interval, "
               f"{gap_large.interval_words()}, lies within ± {margin}")
    elif gap_large.clear:
        side = "worse" if gap_large.difference < 0 else "better"
        why = f"GroupNorm is clearly {side}: BN - GroupNorm = {measured(gap_large)}"
    elif measurable:
        why = (f"BN - GroupNorm = {measured(gap_large)}, but its 95 % interval, "
               f"{gap_large.interval_words()}, is too wide to show that they are within "
               f"± {margin}")
    else:
        why = f"BN - GroupNorm = {measured(gap_large)}"
    return [
        ("BN's error rises as n shrinks", rises,
         f"smallest n - largest n = {measured(bn_change)}"),
        ("GroupNorm beats BN at the smallest n", beats,
         f"BN - GroupNorm = {measured(gap_small)}"),
        (f"GroupNorm is within {margin} of BN at the largest n", near, why),
    ]


def conclusion(checks):
    """One sentence from paper_check's list."""
    held = [claim for claim, ok, _ in checks if ok]
    failed = [claim for claim, ok, _ in checks if not ok]
    if not failed:
        return f"the miniature reproduces all {len(checks)} of the paper's claims checked here"
    if not held:
        return (f"the miniature reproduces none of the paper's {len(checks)} claims checked "
                f"here: do not read the paper's result into these numbers")
    other = ("the other claim does not show" if len(failed) == 1 else
             f"the other {len(failed)} do not show")
    return (f"of the paper's {len(checks)} claims checked here, the miniature reproduces "
            f"{len(held)} ({'; '.join(held)}); {other} at this scale ({'; '.join(failed)})")


small, large = GROUP_SIZES[0], GROUP_SIZES[-1]
bn_change = compare(errors["BN"][:, 0], errors["BN"][:, -1], "   BN, validation error",
                    (f"n = {small}", f"n = {large}"), fmt="{:.1%}", bounds=(0, 1))
gaps = {n: compare(errors["BN"][:, k], errors["GroupNorm"][:, k],
                   f"   n = {n}, validation error", ("BN", "GroupNorm"), fmt="{:.1%}",
                   bounds=(0, 1))
        for k, n in enumerate(GROUP_SIZES)}
print(f"\n== BN from n = {large} to n = {small} ==")
print(bn_change.sentence())
print(f"      so {change_words('BN', bn_change)}.")
print("\n== BN and GroupNorm at each n ==")
for n in GROUP_SIZES:
    print(gaps[n].sentence())
others = [compare(errors[norm][:, 0], errors["GroupNorm"][:, 0], "   validation error",
                  (norm, "GroupNorm"), fmt="{:.1%}", bounds=(0, 1))
          for norm in ("LayerNorm", "no normalization")]
print("\n== The other two, against GroupNorm ==")
for comparison in others:
    print(comparison.sentence())

checks = paper_check(bn_change, gaps[small], gaps[large], CLOSE_TO_BN)
print(f"\n== Against Wu & He (ResNet-50 on ImageNet; at 2 images per GPU, BN "
      f"{PAPER_ERROR_AT_2['BN']}%, GroupNorm {PAPER_ERROR_AT_2['GroupNorm']}%) ==")
for claim, ok, why in checks:
    print(f"   {claim}: {'reproduced' if ok else 'NOT reproduced at this scale'} ({why})")
print(f"   So, {conclusion(checks)}.")
print("   A miniature differs from the paper in ways that can matter: 3 convolutions instead of "
      "50 layers, a few hundred images for a few epochs instead of ImageNet for 100, and 8 to "
      "32 channels per layer, so GroupNorm's groups hold 2 to 8 channels.")

bn_gap = gaps[small]
print(f"RESULT data={'fashion_mnist' if DATA.startswith('Fashion') else 'synthetic'} "
      f"seeds={len(SEEDS)} smallest_n={small} largest_n={large} "
      f"ghost_check={max(checks_float64.values()):.3e}")
print("RESULT " + " ".join(f"{norm.replace(' ', '_')}_error={np.mean(errors[norm][:, 0]):.4f}"
                           for norm in NORMS[1:])
      + f" BN_error_small={np.mean(errors['BN'][:, 0]):.4f}"
      f" BN_error_large={np.mean(errors['BN'][:, -1]):.4f}")
print(f"RESULT bn_minus_gn_small={bn_gap.difference:.4f} bn_minus_gn_small_se={bn_gap.se:.4f} "
      f"claims_reproduced={sum(ok for _, ok, _ in checks)} claims={len(checks)}")
headline(f"BN's error with groups of {small} vs {large} images: {bn_change.shown()[0]}% vs "
         f"{bn_change.shown()[1]}% ({bn_change.noise()}); at n = {small}, BN - GroupNorm = "
         f"{bn_gap.noise()}, {bn_gap.verdict} (Wu & He, at 2 images per GPU: "
         f"+{PAPER_ERROR_AT_2['BN'] - PAPER_ERROR_AT_2['GroupNorm']:.1f} points)")

show_figures()

# %% [markdown]
# ## Try this
#
# * Use `momentum=0.99` in the BN layers: with the same number of steps for every n, which
#   n does the slower moving average hurt most?
# * Replace the moving averages by the exact statistics of the training set before evaluating
#   (lesson 12, section 4): is BN's error at n = 2 the estimate at inference, or what the
#   network learned from its noisy groups (lesson 06)?
# * GroupNorm with `groups=-1` (one channel per group: instance normalization). Better or
#   worse than 4 groups?
# * Remove the third convolution, so that the last maps are 8 x 8: does BN at n = 2 suffer
#   less? (How many values is each channel's estimate made from now?)
# * Vary the step's batch itself, as on one GPU: `fit(..., batch_size=n)` with plain
#   `BatchNormalization`, and the learning rate scaled with n. Now every network's training
#   changes with n, not only BN's: is GroupNorm's line still flat?
