# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 05: initialization and learning rate, with and without BN
#
# **Question.** The article says batch normalization "reduces the sensitivity to the chosen
# weight initialization", and the paper says it "enables higher learning rates". Is that
# true, and how much?
#
# We train the same deep network many times: for every pair (initial weight scale, learning
# rate) of a grid, with and without BN, and from several seeds; then we draw the final loss
# and the test accuracy of each cell (the median over its seeds) as heatmaps. A run whose
# loss blew up (to NaN, or to a loss far above chance with its outputs stuck at 0 or 1)
# counts as *diverged*.
#
# The network: 6 hidden layers of 100 ReLU units, then one sigmoid output, trained with
# plain SGD on batches of 60 (like the learning-rate experiments of Bjorck et al. 2018,
# "Understanding Batch Normalization"). Weights start from N(0, (gain * s)^2), where
# s = sqrt(2 / fan_in) is He's scale for ReLU: gain 1 is the textbook choice, gain 0.1
# starts with weights ten times too small, gain 10 ten times too large.
#
# Every comparison is measured over several seeds and printed with its noise (a standard
# error, "±"); the words after it are chosen from those numbers.
#
# Run it:  `python lessons/05_init_and_learning_rate.py`  (options: `--quick`, `--seed N`,
# `--out DIR`)

# %% tags=["parameters"]
# The lesson's options. In a notebook, change them here, then run all cells. On the command
# line, --quick, --seed N and --out DIR override them.
QUICK = False  # True: a small version that runs in a few seconds
SEED = 0       # the random seed: same seed, same numbers, same figures
OUT = None     # folder for the figures; None: figures/05 beside the lesson

# %%
import os

# These networks are tiny: one BLAS thread is faster than several fighting over a busy CPU.
# (It must be set before NumPy is imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import warnings

import matplotlib.pyplot as plt
import numpy as np

import tinynet
from tinynet import plot
from tinynet.classroom import headline, lesson_options, save_figure, show_figures
from tinynet.datasets import batches, make_classification, standardize, train_test_split
from tinynet.initializers import RandomNormal
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import SGD
from tinynet.stats import compare

args = lesson_options(5, "Lesson 05: initialization and learning rate, with and without BN",
                      quick=QUICK, seed=SEED, out=OUT)
plot.use_style()
if args.quick:
    GAINS = [0.1, 1.0, 10.0]
    LEARNING_RATES = [0.01, 1.0]
    EPOCHS = 2
else:
    GAINS = [0.1, 0.3, 1.0, 3.0, 10.0]
    LEARNING_RATES = [0.01, 0.1, 0.3, 1.0, 3.0, 10.0]
    EPOCHS = 4
SEEDS = [args.seed + k for k in range(2 if args.quick else 3)]
DEPTH, WIDTH, BATCH = 6, 100, 60
CHANCE_LOSS = np.log(2.0)  # the loss of always predicting 0.5 on a balanced 0/1 task
SUCCESS_LOSS = CHANCE_LOSS / 2  # "it trained": the final loss is below half of chance

# %% [markdown]
# ## The data
#
# The 20-feature task of lesson 01, 4,000 samples: 3,000 to train on, 1,000 held out. Each
# seed draws its own data set. Features are standardized (mean 0, std 1, with the training
# set's statistics), which is the fair thing to do for the network *without* BN.

# %%
def make_data(seed):
    x, y = make_classification(n_samples=4000, n_features=20, seed=seed)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, seed=seed)
    x_train, x_test = standardize(x_train, x_test)
    return x_train, x_test, y_train, y_test


data = {seed: make_data(seed) for seed in SEEDS}
STEPS = EPOCHS * int(np.ceil(len(data[SEEDS[0]][0]) / BATCH))
print(f"{len(SEEDS)} seeds; each run: {STEPS} SGD steps of {BATCH} on 3,000 samples, "
      f"tested on 1,000")

# %% [markdown]
# ## One run
#
# With BN, each hidden block is Dense (without bias: lesson 02 showed that BN cancels it) ->
# BatchNormalization -> ReLU. Without BN it is Dense (with bias) -> ReLU. The "final loss" of
# a run is the mean of its last 50 training-batch losses.
#
# A run **diverged** when its loss became NaN, or when it ended far above chance (twice ln 2)
# without coming down from where it started: its outputs are stuck at 0 or 1, whether they
# blew up during training or were saturated from the first step. (tinynet's cross-entropy
# clips the probabilities to [1e-7, 1 - 1e-7] as Keras does, see `tinynet/losses.py`, so a
# blown-up network shows a large finite loss, about 8 when half its answers are confidently
# wrong, rather than infinity.) A run that starts far above chance and comes down slowly has
# not diverged: it is slow.


# %%
def build(with_bn, gain, learning_rate):
    """6 x 100 ReLU MLP, weights N(0, (gain * sqrt(2 / fan_in))^2), SGD(learning_rate)."""
    layers = []
    fan_in = 20
    for _ in range(DEPTH):
        init = RandomNormal(stddev=gain * np.sqrt(2.0 / fan_in))
        layers.append(Dense(WIDTH, kernel_initializer=init, use_bias=not with_bn))
        if with_bn:
            layers.append(BatchNormalization())
        layers.append(Activation("relu"))
        fan_in = WIDTH
    layers.append(Dense(1, activation="sigmoid",
                        kernel_initializer=RandomNormal(stddev=gain * np.sqrt(2.0 / fan_in))))
    model = Sequential(layers)
    model.build((None, 20))
    model.compile(optimizer=SGD(learning_rate=learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def train_steps(model, x, y):
    """EPOCHS epochs of SGD on shuffled batches of BATCH (tinynet's generator, so set_seed
    fixes the order); returns the loss of every step, (steps,), and stops at a NaN.

    A loop of train_on_batch rather than fit: fit logs the running mean of the epoch so far,
    and we want each step's own loss."""
    losses = []
    with warnings.catch_warnings():
        # a NaN loss warns; here diverging is one of the outcomes we study
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(EPOCHS):
            for x_batch, y_batch in batches(x, y, BATCH):
                loss = model.train_on_batch(x_batch, y_batch)[0]  # [loss, accuracy]
                losses.append(float(loss))
                if not np.isfinite(loss):
                    return np.array(losses)
    return np.array(losses)


def diverged(losses):
    """NaN, or an end far above chance (2 ln 2) that is not clearly below the start (within
    10% of it, or above): the outputs are stuck at 0 or 1, whether they blew up during
    training or were saturated from the first step."""
    if not np.all(np.isfinite(losses)):
        return True
    final, start = np.mean(losses[-50:]), np.mean(losses[:10])
    return bool(final > 2 * CHANCE_LOSS and final > 0.9 * start)


def run(with_bn, gain, learning_rate, seed):
    """Train one network; return (final loss, test accuracy, per-step losses).
    A diverged run gives NaN for both numbers."""
    x_train, x_test, y_train, y_test = data[seed]
    tinynet.set_seed(seed)  # both networks of a cell start from the same random draws
    model = build(with_bn, gain, learning_rate)
    losses = train_steps(model, x_train, y_train)
    if diverged(losses):
        return np.nan, np.nan, losses
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    return float(np.mean(losses[-50:])), float(accuracy), losses


# %% [markdown]
# ## The grid
#
# len(GAINS) x len(LEARNING_RATES) cells, each trained with and without BN, from every seed.
# A cell's value is the **median** over its seeds, where a diverged run counts as the worst
# possible result (an infinite loss, the lowest accuracy): so a cell shows *diverged* when
# most of its seeds diverged.

# %%
KINDS = {"without BN": False, "with BN": True}
shape = (len(SEEDS), len(GAINS), len(LEARNING_RATES))
final_loss = {kind: np.full(shape, np.nan) for kind in KINDS}  # (seeds, gains, rates)
accuracy = {kind: np.full(shape, np.nan) for kind in KINDS}
curves = {}  # (kind, gain, lr) -> per-step losses of the first seed
for kind, with_bn in KINDS.items():
    for s, seed in enumerate(SEEDS):
        for i, gain in enumerate(GAINS):
            for j, lr in enumerate(LEARNING_RATES):
                final_loss[kind][s, i, j], accuracy[kind][s, i, j], losses = run(
                    with_bn, gain, lr, seed)
                if s == 0:
                    curves[kind, gain, lr] = losses
    print(f"{kind:<11} done: {np.sum(np.isnan(final_loss[kind]))} of {final_loss[kind].size} "
          f"runs diverged")


def cell_median(values, worst):
    """Median over seeds (axis 0), a diverged run (NaN) counting as `worst` (+inf or -inf);
    a median that is not finite (most seeds diverged) comes out as NaN."""
    median = np.median(np.where(np.isnan(values), worst, values), axis=0)
    return np.where(np.isfinite(median), median, np.nan)


median_loss = {kind: cell_median(final_loss[kind], np.inf) for kind in KINDS}
median_accuracy = {kind: cell_median(accuracy[kind], -np.inf) for kind in KINDS}
trained = {kind: final_loss[kind] < SUCCESS_LOSS for kind in KINDS}  # (seeds, gains, rates)

# %% [markdown]
# **What to look at.** Rows are initial weight scales, columns learning rates. Top: each
# cell's final training loss (darker is lower, better); bottom: its test accuracy (lighter is
# higher, better). Grey cells marked *diverged* blew up to NaN in most seeds. A loss near 0.69
# and an accuracy near 0.5 mean the run did not diverge but learned nothing: that is always
# answering 0.5. Compare the area of good cells in the two columns.

# %%
def draw_grid(ax, values, vmin, vmax, cmap, fmt):
    """One heatmap panel: values (gains, rates) with each cell's number written in it
    (large enough to read on a projector); NaN cells grey, marked 'diverged'."""
    colormap = plt.get_cmap(cmap).with_extremes(bad="#BBBBBB")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=colormap, vmin=vmin, vmax=vmax,
                      aspect="auto")
    for (r, c), value in np.ndenumerate(values):
        if np.isfinite(value):
            shade = image.cmap(image.norm(value))
            light = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] > 0.5
            ax.text(c, r, fmt.format(value), ha="center", va="center", fontsize=15,
                    color="black" if light else "white")
        else:
            ax.text(c, r, "diverged", ha="center", va="center", fontsize=11)
    ax.set_xticks(range(len(LEARNING_RATES)), [f"{lr:g}" for lr in LEARNING_RATES])
    ax.set_yticks(range(len(GAINS)), [f"{g:g}" for g in GAINS])
    ax.grid(False)
    return image


fig, axes = plt.subplots(2, 2, figsize=(16, 12), layout="constrained")
rows = [(median_loss, 0.0, 1.0, "viridis", "{:.2f}",
         f"final training loss (chance {CHANCE_LOSS:.2f})"),
        (median_accuracy, 0.5, 1.0, "viridis_r", "{:.2f}", "test accuracy")]
for row, (grids, vmin, vmax, cmap, fmt, label) in enumerate(rows):
    for column, kind in enumerate(KINDS):
        ax = axes[row, column]
        image = draw_grid(ax, grids[kind], vmin, vmax, cmap, fmt)
        n_trained = int(np.sum(median_loss[kind] < SUCCESS_LOSS))
        if row == 0:
            ax.set_title(f"{kind}: {n_trained} of {median_loss[kind].size} cells train",
                         color=plot.color_for(kind))
        ax.set_xlabel("learning rate (SGD)")
        ax.set_ylabel("initial scale (x He)")
    fig.colorbar(image, ax=axes[row, :], label=label)
fig.suptitle(f"ReLU {DEPTH}x{WIDTH}, SGD, {STEPS} steps: median of {len(SEEDS)} seeds per cell")
save_figure(fig, args.out, "05_heatmaps")

# %% [markdown]
# ## Two slices of the grid
#
# Left: the row of He's initialization (gain 1), final loss against the learning rate.
# Right: the column of a moderate learning rate, final loss against the initial scale.
# The line is the median over seeds, the small dots the seeds; a cross at the top edge marks
# a cell where most seeds diverged.

# %%
he_row = GAINS.index(1.0)
mid_col = int(np.argmin(np.abs(np.log(LEARNING_RATES) - np.log(0.1))))
slices = [(LEARNING_RATES, lambda grid: grid[..., he_row, :], "learning rate (He init)"),
          (GAINS, lambda grid: grid[..., :, mid_col],
           f"initial scale, x He (learning rate {LEARNING_RATES[mid_col]:g})")]
VMAX = 1.0  # losses above this are drawn at the top edge
fig, axes = plt.subplots(1, 2, figsize=(15, 6), sharey=True, layout="constrained")
for ax, (grid, pick, xlabel) in zip(axes, slices, strict=True):
    for kind in KINDS:
        color, median = plot.color_for(kind), pick(median_loss[kind])
        ax.plot(grid, np.minimum(median, VMAX), "o-", color=color, label=kind)
        for seed_values in pick(final_loss[kind]):
            ax.plot(grid, np.minimum(seed_values, VMAX), ".", color=color, alpha=0.4)
        blew_up = np.isnan(median)
        ax.plot(np.array(grid)[blew_up], np.full(blew_up.sum(), 1.1 * VMAX), "x", ms=14,
                mew=3, color=color)
    ax.axhline(CHANCE_LOSS, color="grey", ls="--", label="chance (always 0.5)")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.15 * VMAX)
    ax.set_xlabel(xlabel)
axes[0].set_ylabel(f"final training loss (clipped at {VMAX:g}; x: diverged)")
axes[0].set_title("How large a learning rate?")
axes[1].set_title("How wrong an initial scale?")
axes[0].legend(loc="center left")
save_figure(fig, args.out, "05_slices")

# %% [markdown]
# ## What one diverging run looks like
#
# The loss, step by step (first seed), at He's initialization for the largest learning rate
# at which the network *without* BN fails while the one *with* BN trains (if the grid has
# one).

# %%
plain_he = median_loss["without BN"][he_row, :]
bn_he = median_loss["with BN"][he_row, :]
contrast = [j for j in range(len(LEARNING_RATES))
            if not plain_he[j] < SUCCESS_LOSS and bn_he[j] < SUCCESS_LOSS]
show_col = contrast[-1] if contrast else mid_col
show_lr = LEARNING_RATES[show_col]
fig, ax = plt.subplots(figsize=(10, 6), layout="constrained")
for kind in KINDS:
    losses = curves[kind, 1.0, show_lr]
    ended = ("diverged" if np.isnan(final_loss[kind][0, he_row, show_col])
             else f"final loss {final_loss[kind][0, he_row, show_col]:.2f}")
    ax.plot(np.arange(1, len(losses) + 1), np.minimum(losses, 5.0), color=plot.color_for(kind),
            lw=1.5, label=f"{kind} ({ended})")
ax.axhline(CHANCE_LOSS, color="grey", ls="--", label="chance")
ax.set_xscale("log")
ax.set_xlabel("training step (log scale)")
ax.set_ylabel("training batch loss (clipped at 5)")
ax.set_title(f"He init, learning rate {show_lr:g} (first seed)")
ax.legend()
save_figure(fig, args.out, "05_curves")

# %% [markdown]
# ## What this run measured
#
# A run "trains" when its final loss is below half of chance (ln 2 / 2 = 0.35); a cell trains
# when most of its seeds do. All counts and ranges below are computed from the grid above.


# %%
def working_range(values, grid):
    """The grid values whose cell trained: 'none', '0.3', '0.01 to 0.3' (when they are
    neighbours in the grid) or '0.01, 0.1'."""
    ok = [k for k, v in enumerate(values) if v < SUCCESS_LOSS]
    if not ok:
        return "none"
    if len(ok) == 1:
        return f"{grid[ok[0]]:g}"
    if ok[-1] - ok[0] == len(ok) - 1:
        return f"{grid[ok[0]]:g} to {grid[ok[-1]]:g}"
    return ", ".join(f"{grid[k]:g}" for k in ok)


def large_weights_caveat(comparison, small_lr, big_gain):
    """The caveat about BN and large weights, said only when the numbers show it: a
    Comparison of final loss at (big_gain x He) - (1 x He), both at learning rate small_lr."""
    if not comparison.clear:
        if comparison.difference > 0:
            result = (f"a higher final loss than He's start ({comparison.noise()}), but it is "
                      f"not clearly worse: the difference is not beyond the noise")
        else:
            result = (f"a final loss no higher than He's start on average "
                      f"({comparison.noise()}), and the difference is not beyond the noise")
        return (f"at learning rate {small_lr:g} a {big_gain:g} x He start with BN ends with "
                f"{result}, so the caveat that large weights learn slower with BN does not "
                f"show at this scale")
    if comparison.difference < 0:
        return (f"at learning rate {small_lr:g}, a {big_gain:g} x He start even ends lower "
                f"with BN ({comparison.noise()})")
    return (f"a caveat with BN: at learning rate {small_lr:g} a {big_gain:g} x He start ends "
            f"higher than He's ({comparison.noise()}). BN removes the effect of the weights' "
            f"scale on the output, but a gradient step of the same size changes large weights "
            f"relatively less (the effective step is about lr / scale^2), so they learn slower")


n_cells = len(GAINS) * len(LEARNING_RATES)
cells_trained = {kind: trained[kind].reshape(len(SEEDS), -1).sum(axis=1) for kind in KINDS}
cells_diverged = {kind: np.isnan(final_loss[kind]).reshape(len(SEEDS), -1).sum(axis=1)
                  for kind in KINDS}
print("\nSummary")
more_cells = compare(cells_trained["with BN"], cells_trained["without BN"],
                     f"cells (of {n_cells}) that train, per seed", ("with BN", "without BN"),
                     lower_is_better=False, fmt="{:.1f}")
print(f"- {more_cells.sentence()}")
more_diverged = compare(cells_diverged["with BN"], cells_diverged["without BN"],
                        f"cells (of {n_cells}) that diverge, per seed", ("with BN", "without BN"),
                        fmt="{:.1f}")
print(f"- {more_diverged.sentence()}")
print(f"- Learning rates that train at He's init (median over seeds): "
      f"{working_range(plain_he, LEARNING_RATES)} without BN, "
      f"{working_range(bn_he, LEARNING_RATES)} with BN.")


def scales(values):
    """working_range of initial scales, with its unit: 'none', '1 x He', '0.1 to 3 x He'."""
    found = working_range(values, GAINS)
    return found if found == "none" else f"{found} x He"


print(f"- Initial scales that train at learning rate {LEARNING_RATES[mid_col]:g}: "
      f"{scales(median_loss['without BN'][:, mid_col])} without BN, "
      f"{scales(median_loss['with BN'][:, mid_col])} with BN.")
for kind in KINDS:
    if np.all(np.isnan(median_loss[kind])):
        continue
    i, j = np.unravel_index(np.nanargmin(median_loss[kind]), median_loss[kind].shape)
    best = median_loss[kind][i, j]
    why = ("" if best < SUCCESS_LOSS else
           f"; not counted as trained: a cell must end below {SUCCESS_LOSS:.3f} (half of "
           f"chance), which is why no cell trains {kind}")
    print(f"- Best cell {kind}: median loss {best:.3f}, test accuracy "
          f"{median_accuracy[kind][i, j]:.3f} (scale {GAINS[i]:g} x He, learning rate "
          f"{LEARNING_RATES[j]:g}){why}.")
small_lr, big_gain = LEARNING_RATES[0], GAINS[-1]
slow, base = final_loss["with BN"][:, -1, 0], final_loss["with BN"][:, he_row, 0]
if np.all(np.isfinite(slow)) and np.all(np.isfinite(base)):
    large_weights = compare(slow, base, f"final loss with BN at learning rate {small_lr:g}",
                            (f"{big_gain:g} x He", "1 x He"))
    print(f"- {large_weights.sentence()}")
    print(f"  So {large_weights_caveat(large_weights, small_lr, big_gain)}.")
bn_failed = [(GAINS[i], LEARNING_RATES[j]) for i in range(len(GAINS))
             for j in range(len(LEARNING_RATES))
             if not median_loss["with BN"][i, j] < SUCCESS_LOSS]
if bn_failed:
    listed = ", ".join(f"({g:g}, {lr:g})" for g, lr in bn_failed)
    print(f"- BN is not a cure-all: with BN these (scale, learning rate) cells did not train "
          f"in most seeds: {listed}.")

print(f"RESULT cells={n_cells} seeds={len(SEEDS)} "
      f"trained_bn={cells_trained['with BN'].mean():.4g} "
      f"trained_plain={cells_trained['without BN'].mean():.4g} "
      f"trained_difference_se={more_cells.se:.4g} "
      f"diverged_bn={cells_diverged['with BN'].mean():.4g} "
      f"diverged_plain={cells_diverged['without BN'].mean():.4g}")
headline(f"cells of the {len(GAINS)} x {len(LEARNING_RATES)} (init scale, learning rate) grid "
         f"that train: {more_cells.mean_a:.1f} with BN vs {more_cells.mean_b:.1f} without "
         f"({more_cells.noise()}): {more_cells.verdict}")

show_figures()

# %% [markdown]
# ## Try this
#
# * Replace `SGD` by `Adam` (learning rates 1e-4 to 1e-1): is the network without BN still
#   so fragile? Adam rescales every step, which hides part of what BN does.
# * Use `Activation("sigmoid")` instead of ReLU, and gains around 1: which panel changes
#   more? Does the "without BN" panel now fail at small learning rates instead of large ones?
# * Make the network deeper (`DEPTH = 12`): how does the good area of the "without BN"
#   panel change?
# * Put the bias back (`use_bias=True`) in the BN network: does any number change? (Lesson 02.)
# * Train for more epochs: do the slow cells with BN (large scale, small learning rate)
#   catch up?
