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
# counts as *diverged*. A run **works** when the trained network is useful where it will be
# used, in inference mode: its test accuracy is at least 0.75, halfway from chance (0.5) to
# perfect. (A low *training* loss is not enough: with BN the training loss is measured in
# training mode, with each batch's own statistics, and inference mode uses the moving
# averages instead; the lesson counts both and shows where they disagree.)
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
LOW_LOSS = CHANCE_LOSS / 2  # a low training loss: the final loss is below half of chance
USEFUL_ACCURACY = 0.75  # "it works": test accuracy (inference mode) halfway from 0.5 to 1

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
# a run is the mean of its last 50 training-batch losses (in training mode). Its "test
# accuracy" is `model.evaluate` on the 1,000 held-out samples, in inference mode. For a BN
# network we also measure the test accuracy in *training* mode, the whole test set
# normalized with its own statistics, and how far the first BN layer's moving variance is
# from the variance of what it receives: when the two accuracies differ, the moving
# averages are the only difference.
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
    """Train one network; return (final loss, test accuracy, test accuracy with the test set's
    own statistics, moving variance / true variance of the first BN layer, per-step losses).
    A diverged run gives NaN for all four numbers; a network without BN, NaN for the last two
    (it has no statistics to choose)."""
    x_train, x_test, y_train, y_test = data[seed]
    tinynet.set_seed(seed)  # both networks of a cell start from the same random draws
    model = build(with_bn, gain, learning_rate)
    losses = train_steps(model, x_train, y_train)
    if diverged(losses):
        return np.nan, np.nan, np.nan, np.nan, losses
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    own_statistics = variance_ratio = np.nan
    if with_bn:
        first_dense, first_bn = model.layers[0], model.layers[1]
        moving_variance = first_bn.get_weights()[3]
        variance_ratio = float(np.mean(moving_variance / first_dense(x_train).var(axis=0)))
        # training mode: the test set normalized with its own statistics (this also moves the
        # moving averages, which nothing reads afterwards)
        p = model(x_test, training=True)
        own_statistics = float(np.mean((p.reshape(-1) > 0.5) == (y_test.reshape(-1) > 0.5)))
    return float(np.mean(losses[-50:])), float(accuracy), own_statistics, variance_ratio, losses


# %% [markdown]
# ## The grid
#
# len(GAINS) x len(LEARNING_RATES) cells, each trained with and without BN, from every seed.
# A cell's value is the **median** over its seeds, where a diverged run counts as the worst
# possible result (an infinite loss, the lowest accuracy): so a cell shows *diverged* when
# most of its seeds diverged. A cell works when its median test accuracy is at least 0.75
# (with 3 seeds: when at least 2 of them work).

# %%
KINDS = {"without BN": False, "with BN": True}
shape = (len(SEEDS), len(GAINS), len(LEARNING_RATES))
final_loss = {kind: np.full(shape, np.nan) for kind in KINDS}  # (seeds, gains, rates)
accuracy = {kind: np.full(shape, np.nan) for kind in KINDS}
own_statistics = np.full(shape, np.nan)  # with BN: test accuracy in training mode
variance_ratio = np.full(shape, np.nan)  # with BN: first layer's moving / true variance
curves = {}  # (kind, gain, lr) -> per-step losses of the first seed
for kind, with_bn in KINDS.items():
    for s, seed in enumerate(SEEDS):
        for i, gain in enumerate(GAINS):
            for j, lr in enumerate(LEARNING_RATES):
                loss, acc, own, ratio, losses = run(with_bn, gain, lr, seed)
                final_loss[kind][s, i, j], accuracy[kind][s, i, j] = loss, acc
                if with_bn:
                    own_statistics[s, i, j], variance_ratio[s, i, j] = own, ratio
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
# per run (seeds, gains, rates); a diverged run (NaN) neither works nor has a low loss
works = {kind: accuracy[kind] >= USEFUL_ACCURACY for kind in KINDS}
low_loss = {kind: final_loss[kind] < LOW_LOSS for kind in KINDS}
# per cell (gains, rates), from the medians the heatmaps show
cell_works = {kind: median_accuracy[kind] >= USEFUL_ACCURACY for kind in KINDS}

# %% [markdown]
# **What to look at.** Rows are initial weight scales, columns learning rates. Top: each
# cell's final training loss (darker is lower, better); bottom: its test accuracy (darker is
# higher, better). Grey cells marked *diverged* blew up to NaN in most seeds. A loss near 0.69
# and an accuracy near 0.5 mean the run did not diverge but learned nothing: that is always
# answering 0.5. The cells that work (median test accuracy at least 0.75) are outlined (a
# white line on a black one) in both rows; the count in each title is of those cells.
# Compare the area of outlined cells in the two columns, and look for a cell with a low
# training loss that is not outlined.

# %%
def draw_grid(ax, values, vmin, vmax, cmap, fmt, outlined):
    """One heatmap panel: values (gains, rates) with each cell's number written in it
    (large enough to read on a projector); NaN cells grey, marked 'diverged'; the cells where
    `outlined` (gains, rates) is True framed in black."""
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
        if outlined[r, c]:  # a white line on a black one: visible on light and dark cells
            for color, width in (("black", 6), ("white", 2.5)):
                ax.add_patch(plt.Rectangle((c - 0.44, r - 0.44), 0.88, 0.88, fill=False,
                                           edgecolor=color, lw=width))
    ax.set_xticks(range(len(LEARNING_RATES)), [f"{lr:g}" for lr in LEARNING_RATES])
    ax.set_yticks(range(len(GAINS)), [f"{g:g}" for g in GAINS])
    ax.grid(False)
    return image


fig, axes = plt.subplots(2, 2, figsize=(16, 12), layout="constrained")
rows = [(median_loss, 0.0, 1.0, "viridis", "{:.2f}",
         f"final training loss, training mode (chance {CHANCE_LOSS:.2f})"),
        (median_accuracy, 0.5, 1.0, "viridis_r", "{:.2f}", "test accuracy, inference mode")]
for row, (grids, vmin, vmax, cmap, fmt, label) in enumerate(rows):
    for column, kind in enumerate(KINDS):
        ax = axes[row, column]
        image = draw_grid(ax, grids[kind], vmin, vmax, cmap, fmt, cell_works[kind])
        if row == 0:
            ax.set_title(f"{kind}: {int(cell_works[kind].sum())} of {cell_works[kind].size} "
                         f"cells work", color=plot.color_for(kind))
        ax.set_xlabel("learning rate (SGD)")
        ax.set_ylabel("initial scale (x He)")
    fig.colorbar(image, ax=axes[row, :], label=label)
fig.suptitle(f"ReLU {DEPTH}x{WIDTH}, SGD, {STEPS} steps: median of {len(SEEDS)} seeds per cell; "
             f"outlined: the cell works (median test accuracy at least {USEFUL_ACCURACY:g})")
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
        ax.plot(grid, np.minimum(median, VMAX), "o-", color=color,
                label=f"{kind}: median of {len(SEEDS)} seeds")
        for seed_values in pick(final_loss[kind]):
            ax.plot(grid, np.minimum(seed_values, VMAX), ".", color=color, alpha=0.4)
        blew_up = np.isnan(median)
        ax.plot(np.array(grid)[blew_up], np.full(blew_up.sum(), 1.1 * VMAX), "x", ms=14,
                mew=3, color=color)
    ax.axhline(CHANCE_LOSS, color="grey", ls="--",
               label=f"chance: loss {CHANCE_LOSS:.2f} (always answering 0.5)")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.15 * VMAX)
    ax.set_xlabel(xlabel)
axes[0].set_ylabel(f"final training loss (clipped at {VMAX:g}; x: diverged)")
axes[0].set_title("How large a learning rate?")
axes[1].set_title("How wrong an initial scale?")
# what the small dots and the crosses are, in the legend too (grey: they come in both colours)
axes[0].plot([], [], ".", color="grey", label="small dots: one seed each")
axes[0].plot([], [], "x", ms=10, mew=3, color="grey", label="x: most seeds diverged")
# under the panels: inside, the legend would cover the chance line or some seed's dot
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3,
           frameon=False)
save_figure(fig, args.out, "05_slices")

# %% [markdown]
# ## What one diverging run looks like
#
# The loss, step by step (first seed), at He's initialization for the largest learning rate
# at which the network *without* BN fails while the one *with* BN works (if the grid has
# one).

# %%
plain_he = cell_works["without BN"][he_row, :]
bn_he = cell_works["with BN"][he_row, :]
contrast = [j for j in range(len(LEARNING_RATES)) if bn_he[j] and not plain_he[j]]
show_col = contrast[-1] if contrast else mid_col
show_lr = LEARNING_RATES[show_col]
fig, ax = plt.subplots(figsize=(10, 6), layout="constrained")
for kind in KINDS:
    losses = curves[kind, 1.0, show_lr]
    ended = ("diverged" if np.isnan(final_loss[kind][0, he_row, show_col])
             else f"final loss {final_loss[kind][0, he_row, show_col]:.2f}")
    ax.plot(np.arange(1, len(losses) + 1), np.minimum(losses, 5.0), color=plot.color_for(kind),
            lw=1.5, label=f"{kind} ({ended})")
ax.axhline(CHANCE_LOSS, color="grey", ls="--",
           label=f"chance: loss {CHANCE_LOSS:.2f} (always answering 0.5)")
ax.set_xscale("log")
ax.set_xlabel("training step (log scale)")
ax.set_ylabel("training batch loss (clipped at 5)")
ax.set_title(f"He init, learning rate {show_lr:g} (one run each: seed {SEEDS[0]})")
ax.legend()
save_figure(fig, args.out, "05_curves")

# %% [markdown]
# ## What this run measured
#
# A run **works** when its test accuracy (inference mode) is at least 0.75; a cell works when
# its median over seeds does (the outlined cells of the heatmaps). Counts "per seed" count the
# runs of one seed and average over seeds, with their noise; counts "per cell" are those of
# the figure. A low training loss (below half of chance, ln 2 / 2 = 0.35) is counted
# separately. All counts and ranges below are computed from the grid above.


# %%
def working_range(works_here, grid):
    """The grid values whose cell works: 'none', '0.3', '0.01 to 0.3' (when they are
    neighbours in the grid) or '0.01, 0.1'. works_here: booleans, one per grid value."""
    ok = [k for k, works_k in enumerate(works_here) if works_k]
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
        return (f"at learning rate {small_lr:g}, with BN a {big_gain:g} x He start even ends "
                f"lower than He's start ({comparison.noise()})")
    return (f"a caveat with BN: at learning rate {small_lr:g} a {big_gain:g} x He start ends "
            f"higher than He's ({comparison.noise()}). BN removes the effect of the weights' "
            f"scale on the output, but a gradient step of the same size changes large weights "
            f"relatively less (the effective step is about lr / scale^2), so they learn slower")


def inference_only_failure(own, inference, ratio):
    """Why a BN run with a low training loss fails in inference mode, from its test accuracy
    with the test set's own statistics (own), in inference mode, and the first BN layer's
    moving variance / true variance (ratio)."""
    if not own >= USEFUL_ACCURACY:
        return (f"test accuracy {inference:.2f} in inference mode and {own:.2f} with the test "
                f"set's own statistics: it fails in both modes")
    lag = (f"; its first BN layer's moving variance is {ratio:.1f}x the variance of what it "
           f"receives" if ratio > 1.5 or ratio < 1 / 1.5 else "")
    return (f"test accuracy {inference:.2f} in inference mode but {own:.2f} with the test set's "
            f"own statistics: it learned, and only the moving averages fail it{lag}")


def best_cell(kind):
    """(i, j) of the cell with the highest mean test accuracy over seeds, among the cells
    where no seed diverged; None if there is none."""
    mean = accuracy[kind].mean(axis=0)  # NaN where a seed diverged
    if np.all(np.isnan(mean)):
        return None
    return np.unravel_index(np.nanargmax(mean), mean.shape)


def scales(works_here):
    """working_range of initial scales, with its unit: 'none', '1 x He', '0.1 to 3 x He'."""
    found = working_range(works_here, GAINS)
    return found if found == "none" else f"{found} x He"


n_cells = len(GAINS) * len(LEARNING_RATES)
per_seed = {kind: works[kind].reshape(len(SEEDS), -1).sum(axis=1) for kind in KINDS}
low_loss_per_seed = {kind: low_loss[kind].reshape(len(SEEDS), -1).sum(axis=1) for kind in KINDS}
cells_diverged = {kind: np.isnan(final_loss[kind]).reshape(len(SEEDS), -1).sum(axis=1)
                  for kind in KINDS}
print("\nSummary")
more_cells = compare(per_seed["with BN"], per_seed["without BN"],
                     f"cells (of {n_cells}) that work, test accuracy >= {USEFUL_ACCURACY:g} in "
                     f"inference mode, per seed", ("with BN", "without BN"),
                     lower_is_better=False, fmt="{:.1f}")
print(f"- {more_cells.sentence()}")
print(f"  Per cell, by the median of its {len(SEEDS)} seeds (the outlined cells of "
      f"05_heatmaps.png): {int(cell_works['with BN'].sum())} of {n_cells} with BN, "
      f"{int(cell_works['without BN'].sum())} without.")
more_low_loss = compare(low_loss_per_seed["with BN"], low_loss_per_seed["without BN"],
                        f"cells (of {n_cells}) whose training loss ends below half of chance "
                        f"({LOW_LOSS:.2f}, training mode), per seed", ("with BN", "without BN"),
                        lower_is_better=False, fmt="{:.1f}")
print(f"- {more_low_loss.sentence()}")
more_diverged = compare(cells_diverged["with BN"], cells_diverged["without BN"],
                        f"cells (of {n_cells}) that diverge, per seed", ("with BN", "without BN"),
                        fmt="{:.1f}")
print(f"- {more_diverged.sentence()}")
SHOWN_RUNS = 6  # at most this many such runs are listed one by one
for kind in KINDS:
    # low training loss, yet not useful in inference mode
    misled = low_loss[kind] & ~works[kind]
    if not misled.any():
        print(f"- {kind}: every run with a low training loss also works in inference mode.")
        continue
    print(f"- {kind}: {int(misled.sum())} of {misled.size} runs end with a low training loss "
          f"but do not work (test accuracy below {USEFUL_ACCURACY:g}):")
    runs_listed = list(zip(*np.nonzero(misled), strict=True))
    for s, i, j in runs_listed[:SHOWN_RUNS]:
        where = f"  seed {SEEDS[s]}, scale {GAINS[i]:g} x He, learning rate {LEARNING_RATES[j]:g}"
        if KINDS[kind]:
            reason = inference_only_failure(own_statistics[s, i, j], accuracy[kind][s, i, j],
                                            variance_ratio[s, i, j])
        else:
            reason = f"test accuracy {accuracy[kind][s, i, j]:.2f}"
        print(f"{where}: training loss {final_loss[kind][s, i, j]:.2f}, {reason}")
    if len(runs_listed) > SHOWN_RUNS:
        print(f"  and {len(runs_listed) - SHOWN_RUNS} more.")
    if KINDS[kind]:
        print(f"  (After {STEPS} steps a moving average with momentum 0.99 still holds "
              f"0.99^{STEPS} = {100 * 0.99 ** STEPS:.0f}% of its starting value, variance 1; "
              f"lesson 02 measures how slowly it forgets.)")
print(f"- Learning rates that work at He's init (per cell): "
      f"{working_range(plain_he, LEARNING_RATES)} without BN, "
      f"{working_range(bn_he, LEARNING_RATES)} with BN.")
print(f"- Initial scales that work at learning rate {LEARNING_RATES[mid_col]:g} (per cell): "
      f"{scales(cell_works['without BN'][:, mid_col])} without BN, "
      f"{scales(cell_works['with BN'][:, mid_col])} with BN.")
best = {kind: best_cell(kind) for kind in KINDS}
if all(cell is not None for cell in best.values()):
    where = {kind: f"{GAINS[i]:g} x He, learning rate {LEARNING_RATES[j]:g}"
             for kind, (i, j) in best.items()}
    best_accuracy = compare(accuracy["with BN"][(slice(None), *best["with BN"])],
                            accuracy["without BN"][(slice(None), *best["without BN"])],
                            "test accuracy of each network's best cell",
                            (f"with BN ({where['with BN']})",
                             f"without BN ({where['without BN']})"), lower_is_better=False)
    print(f"- {best_accuracy.sentence()}")
    print("  (Each best cell is the one with the highest mean test accuracy among the cells "
          "where no seed diverged, picked from these same runs: that flatters both a little.)")
small_lr, big_gain = LEARNING_RATES[0], GAINS[-1]
slow, base = final_loss["with BN"][:, -1, 0], final_loss["with BN"][:, he_row, 0]
if np.all(np.isfinite(slow)) and np.all(np.isfinite(base)):
    large_weights = compare(slow, base, f"final loss with BN at learning rate {small_lr:g}",
                            (f"{big_gain:g} x He", "1 x He"))
    print(f"- {large_weights.sentence()}")
    print(f"  So {large_weights_caveat(large_weights, small_lr, big_gain)}.")
bn_failed = [(GAINS[i], LEARNING_RATES[j]) for i in range(len(GAINS))
             for j in range(len(LEARNING_RATES)) if not cell_works["with BN"][i, j]]
if bn_failed:
    listed = ", ".join(f"({g:g}, {lr:g})" for g, lr in bn_failed)
    print(f"- BN is not a cure-all: with BN these (scale, learning rate) cells do not work "
          f"(median test accuracy below {USEFUL_ACCURACY:g}): {listed}.")

print(f"RESULT cells={n_cells} seeds={len(SEEDS)} useful_accuracy={USEFUL_ACCURACY:g} "
      f"works_bn={per_seed['with BN'].mean():.4g} "
      f"works_plain={per_seed['without BN'].mean():.4g} "
      f"works_difference_se={more_cells.se:.4g} "
      f"works_cells_bn={int(cell_works['with BN'].sum())} "
      f"works_cells_plain={int(cell_works['without BN'].sum())} "
      f"low_loss_bn={low_loss_per_seed['with BN'].mean():.4g} "
      f"low_loss_plain={low_loss_per_seed['without BN'].mean():.4g} "
      f"low_loss_not_working_bn={int((low_loss['with BN'] & ~works['with BN']).sum())} "
      f"diverged_bn={cells_diverged['with BN'].mean():.4g} "
      f"diverged_plain={cells_diverged['without BN'].mean():.4g}")
headline(f"cells of the {len(GAINS)} x {len(LEARNING_RATES)} (init scale, learning rate) grid "
         f"that work (test accuracy >= {USEFUL_ACCURACY:g}), per seed: {more_cells.shown()[0]} "
         f"with BN vs {more_cells.shown()[1]} without ({more_cells.noise()}): "
         f"{more_cells.verdict}")

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
