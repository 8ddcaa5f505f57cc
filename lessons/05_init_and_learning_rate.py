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
# We train the same deep network many times: once for every pair (initial weight scale,
# learning rate) of a grid, with and without BN, and draw the final loss of each run as a
# heatmap. A run whose loss blew up to NaN or infinity is shown as *diverged*.
#
# The network: 6 hidden layers of 100 ReLU units, then one sigmoid output, trained with
# plain SGD on batches of 60 (like the learning-rate experiments of Bjorck et al. 2018,
# "Understanding Batch Normalization"). Weights start from N(0, (gain * s)^2), where
# s = sqrt(2 / fan_in) is He's scale for ReLU: gain 1 is the textbook choice, gain 0.1
# starts with weights ten times too small, gain 10 ten times too large.
#
# Run it:  `python lessons/05_init_and_learning_rate.py`  (options: `--quick`, `--seed N`,
# `--out DIR`)

# %%
import os
import sys

# These networks are tiny: one BLAS thread is faster than several fighting over a busy CPU.
# (It must be set before NumPy is imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import warnings

import matplotlib.pyplot as plt
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
sys.path.insert(0, HERE)  # lessons/ is a folder of scripts, not a package
from lesson_tools import parse_args, save_figure, show_figures

import tinynet
from tinynet import plot
from tinynet.callbacks import Callback
from tinynet.datasets import make_classification, standardize, train_test_split
from tinynet.initializers import RandomNormal
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import SGD

args = parse_args(5, "Lesson 05: initialization and learning rate, with and without BN")
if args.quick:
    GAINS = [0.1, 1.0, 10.0]
    LEARNING_RATES = [0.03, 1.0]
    EPOCHS = 3
else:
    GAINS = [0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
    LEARNING_RATES = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
    EPOCHS = 8
DEPTH, WIDTH, BATCH = 6, 100, 60
CHANCE_LOSS = np.log(2.0)  # the loss of always predicting 0.5 on a balanced 0/1 task
SUCCESS_LOSS = CHANCE_LOSS / 2  # "it trained": the final loss is below half of chance

# %% [markdown]
# ## The data
#
# The 20-feature task of lesson 01, 4,000 samples: 3,000 to train on, 1,000 held out.
# Features are standardized (mean 0, std 1, with the training set's statistics), which is the
# fair thing to do for the network *without* BN.

# %%
x, y = make_classification(n_samples=4000, n_features=20, seed=args.seed)
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, seed=args.seed)
x_train, x_test = standardize(x_train, x_test)
STEPS = EPOCHS * int(np.ceil(len(x_train) / BATCH))
print(f"train {x_train.shape}, test {x_test.shape}; each run: {STEPS} SGD steps of {BATCH}")

# %% [markdown]
# ## One run
#
# With BN, each hidden block is Dense (without bias: lesson 02 showed that BN cancels it) ->
# BatchNormalization -> ReLU. Without BN it is Dense (with bias) -> ReLU. The "final loss" of
# a run is the mean training loss over its last 50 steps, as `fit` measures it batch by batch.


# %%
def build(with_bn, gain, learning_rate):
    """6 x 100 ReLU MLP, weights N(0, (gain * sqrt(2 / fan_in))^2), SGD(learning_rate)."""
    layers = []
    fan_in = x_train.shape[1]
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
    model.build((None, x_train.shape[1]))
    model.compile(optimizer=SGD(learning_rate=learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


class BatchLosses(Callback):
    """Keeps the loss of every training step (fit's History keeps one value per epoch)."""

    def on_train_begin(self, logs=None):
        self.losses = []

    def on_train_batch_end(self, step, logs=None):
        self.losses.append(logs["loss"])


def run(with_bn, gain, learning_rate):
    """Train one network; return (final loss, test accuracy, per-step losses).
    A diverged run gives NaN for both numbers."""
    tinynet.set_seed(args.seed)  # every cell starts from the same random draws
    model = build(with_bn, gain, learning_rate)
    recorder = BatchLosses()
    with warnings.catch_warnings():
        # fit warns when the loss becomes NaN; here diverging is one of the outcomes we study
        warnings.simplefilter("ignore", RuntimeWarning)
        history = model.fit(x_train, y_train, batch_size=BATCH, epochs=EPOCHS, verbose=0,
                            callbacks=[recorder])
    losses = np.array(recorder.losses)
    if history.diverged or not np.all(np.isfinite(losses)):
        return np.nan, np.nan, losses
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    return float(np.mean(losses[-50:])), float(accuracy), losses


# %% [markdown]
# ## The grid
#
# len(GAINS) x len(LEARNING_RATES) cells, each trained twice (with and without BN), from the
# same seed.

# %%
KINDS = {"without BN": False, "with BN": True}
final_loss = {kind: np.full((len(GAINS), len(LEARNING_RATES)), np.nan) for kind in KINDS}
accuracy = {kind: np.full((len(GAINS), len(LEARNING_RATES)), np.nan) for kind in KINDS}
curves = {}  # (kind, gain, lr) -> per-step losses
for kind, with_bn in KINDS.items():
    for i, gain in enumerate(GAINS):
        for j, lr in enumerate(LEARNING_RATES):
            final_loss[kind][i, j], accuracy[kind][i, j], curves[kind, gain, lr] = run(
                with_bn, gain, lr)
    print(f"{kind:<11} done: {np.sum(np.isnan(final_loss[kind]))} of {final_loss[kind].size} "
          f"runs diverged")

# %% [markdown]
# **What to look at.** Rows are initial weight scales, columns learning rates; each cell is
# the final training loss (darker is lower, better). Grey cells marked *diverged* blew up to
# NaN. A cell near 0.69 did not diverge but learned nothing: that is the loss of always
# answering 0.5. Compare the area of good (dark) cells in the two panels.

# %%
row_labels = [f"{g:g} x He" for g in GAINS]
col_labels = [f"{lr:g}" for lr in LEARNING_RATES]
VMAX = 1.0  # losses above this share the top colour

panel_titles = {f"{kind}: {int(np.sum(final_loss[kind] < SUCCESS_LOSS))} of "
                f"{final_loss[kind].size} runs reach loss < {SUCCESS_LOSS:.2f}": final_loss[kind]
                for kind in KINDS}
fig = plot.heatmaps(panel_titles, row_labels, col_labels, xlabel="learning rate (SGD)",
                    ylabel="initial weight scale", vmin=0.0, vmax=VMAX,
                    colorbar_label=f"final training loss (chance = {CHANCE_LOSS:.2f})",
                    title=f"ReLU {DEPTH}x{WIDTH}, SGD, {STEPS} steps: final loss for every "
                          f"init scale and learning rate")
save_figure(fig, args.out, "05_heatmaps")

# %% [markdown]
# ## Two slices of the grid
#
# Left: the row of He's initialization (gain 1), final loss against the learning rate.
# Right: the column of a moderate learning rate, final loss against the initial scale.
# A cross at the top edge marks a run that diverged.

# %%
he_row = GAINS.index(1.0)
mid_col = int(np.argmin(np.abs(np.log(LEARNING_RATES) - np.log(0.1))))
slices = [(LEARNING_RATES, lambda kind: final_loss[kind][he_row, :],
           "learning rate (He init, gain 1)"),
          (GAINS, lambda kind: final_loss[kind][:, mid_col],
           f"initial weight scale, x He (learning rate {LEARNING_RATES[mid_col]:g})")]
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
for ax, (grid, pick, xlabel) in zip(axes, slices, strict=True):
    top = 1.1 * VMAX
    for kind in KINDS:
        values = pick(kind)
        ax.plot(grid, np.minimum(values, VMAX), "o-", color=plot.color_for(kind), lw=2, label=kind)
        diverged = np.isnan(values)
        ax.plot(np.array(grid)[diverged], np.full(diverged.sum(), top), "x", ms=12, mew=3,
                color=plot.color_for(kind), label=f"{kind}: diverged" if diverged.any() else None)
    ax.axhline(CHANCE_LOSS, color="grey", ls="--", lw=1, label="chance (always 0.5)")
    ax.set_xscale("log")
    ax.set_ylim(0, top * 1.05)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"final training loss (clipped at {VMAX:g})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
axes[0].set_title("How large a learning rate can each network take?")
axes[1].set_title("How wrong can the initial scale be?")
save_figure(fig, args.out, "05_slices")

# %% [markdown]
# ## What one diverging run looks like
#
# The loss, step by step, at He's initialization for the largest learning rate at which the
# network *without* BN still fails while the one *with* BN trains (if the grid has one).

# %%
plain_he = final_loss["without BN"][he_row, :]
bn_he = final_loss["with BN"][he_row, :]
contrast = [j for j in range(len(LEARNING_RATES))
            if not plain_he[j] < SUCCESS_LOSS and bn_he[j] < SUCCESS_LOSS]
show_col = contrast[-1] if contrast else mid_col
show_lr = LEARNING_RATES[show_col]
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
for kind in KINDS:
    losses = curves[kind, 1.0, show_lr]
    ended = (f"NaN at step {len(losses)}" if np.isnan(final_loss[kind][he_row, show_col])
             else f"{len(losses)} steps")
    ax.plot(np.arange(1, len(losses) + 1), np.minimum(losses, 5.0), color=plot.color_for(kind),
            lw=1.5, label=f"{kind} ({ended})")
ax.axhline(CHANCE_LOSS, color="grey", ls="--", lw=1, label="chance")
ax.set_xscale("log")
ax.set_xlabel("training step (log scale)")
ax.set_ylabel("training batch loss (clipped at 5)")
ax.set_title(f"He init, learning rate {show_lr:g}")
ax.grid(alpha=0.3)
ax.legend()
save_figure(fig, args.out, "05_curves")

# %% [markdown]
# ## What this run measured
#
# A run "trains" when its final loss is below half of chance (ln 2 / 2 = 0.35). All counts
# and ranges below are computed from the grid above.

# %%


def working_range(values, grid):
    """The grid values whose run trained: 'none', '0.3', '0.01 to 0.3' (when they are
    neighbours in the grid) or '0.01, 0.1'."""
    ok = [k for k, v in enumerate(values) if v < SUCCESS_LOSS]
    if not ok:
        return "none"
    if len(ok) == 1:
        return f"{grid[ok[0]]:g}"
    if ok[-1] - ok[0] == len(ok) - 1:
        return f"{grid[ok[0]]:g} to {grid[ok[-1]]:g}"
    return ", ".join(f"{grid[k]:g}" for k in ok)


n_cells = len(GAINS) * len(LEARNING_RATES)
trained = {kind: int(np.sum(final_loss[kind] < SUCCESS_LOSS)) for kind in KINDS}
diverged = {kind: int(np.sum(np.isnan(final_loss[kind]))) for kind in KINDS}
stuck = {kind: n_cells - trained[kind] - diverged[kind] for kind in KINDS}
print("\nSummary")
for kind in KINDS:
    print(f"- {kind:<11}: {trained[kind]} of {n_cells} runs trained, {diverged[kind]} diverged "
          f"(NaN), {stuck[kind]} finished without diverging but above loss "
          f"{SUCCESS_LOSS:.2f}.")
more = ("with BN" if trained["with BN"] > trained["without BN"] else "without BN"
        if trained["with BN"] < trained["without BN"] else "neither")
print(f"  More of the grid trains {more}"
      + (f" ({trained['with BN']} vs {trained['without BN']})." if more != "neither" else "."))
print(f"- Learning rates that train at He's init: {working_range(plain_he, LEARNING_RATES)} "
      f"without BN, {working_range(bn_he, LEARNING_RATES)} with BN.")
plain_col = final_loss["without BN"][:, mid_col]
bn_col = final_loss["with BN"][:, mid_col]
print(f"- Initial scales that train at learning rate {LEARNING_RATES[mid_col]:g}: "
      f"{working_range(plain_col, GAINS)} x He without BN, {working_range(bn_col, GAINS)} x He "
      f"with BN.")
for kind in KINDS:
    best = np.unravel_index(np.nanargmin(final_loss[kind]), final_loss[kind].shape) if not (
        np.all(np.isnan(final_loss[kind]))) else None
    if best is not None:
        i, j = best
        print(f"- Best {kind} run: loss {final_loss[kind][i, j]:.3f}, test accuracy "
              f"{accuracy[kind][i, j]:.3f} (scale {GAINS[i]:g} x He, learning rate "
              f"{LEARNING_RATES[j]:g}).")

# BN makes the loss blind to the weights' scale, but not the step size: the same learning
# rate moves large weights relatively less (the effective step is about lr / scale^2).
small_lr, big_gain = 0, len(GAINS) - 1
slow, base = final_loss["with BN"][big_gain, small_lr], final_loss["with BN"][he_row, small_lr]
if np.isfinite(slow) and np.isfinite(base):
    print(f"- A caveat with BN: at learning rate {LEARNING_RATES[small_lr]:g} the loss is "
          f"{slow:.3f} at scale {GAINS[big_gain]:g} x He vs {base:.3f} at He's scale "
          f"({'slower' if slow > base else 'not slower'} with the larger weights). BN removes "
          f"the effect of the weights' scale on the output, but a gradient step of the same "
          f"size changes large weights relatively less.")
bn_failed = [(GAINS[i], LEARNING_RATES[j]) for i in range(len(GAINS))
             for j in range(len(LEARNING_RATES)) if not final_loss["with BN"][i, j] < SUCCESS_LOSS]
if bn_failed:
    listed = ", ".join(f"({g:g}, {lr:g})" for g, lr in bn_failed)
    print(f"- BN is not a cure-all: with BN these (scale, learning rate) cells did not train: "
          f"{listed}.")

print(f"RESULT cells={n_cells} trained_bn={trained['with BN']} "
      f"trained_plain={trained['without BN']} diverged_bn={diverged['with BN']} "
      f"diverged_plain={diverged['without BN']}")

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
