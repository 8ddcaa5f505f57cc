# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 03: Gradient flow in a deep network, with and without batch normalization
#
# **The question.** Stack ten hidden layers. Does the signal still reach the last layer on
# the way forward, and does the gradient still reach the first layer on the way back? What
# does batch normalization change, and what does it *not* change?
#
# We build networks of 10 hidden layers of 100 units, `Dense -> [BatchNormalization] ->
# activation`, on the article's 20-feature task, and we measure instead of guessing:
#
# 1. at initialization (one batch, no training): the spread (std) of every hidden layer's
#    output, and the norm of every hidden kernel's gradient;
# 2. during training (SGD): the gradient norm of every layer over the steps, and histograms
#    of every layer's activations at the start and at the end.
#
# The activations and inits compared:
# - **sigmoid** with Keras's default Glorot init: the derivative of a sigmoid is at most 1/4,
#   so every layer can shrink the gradient on its way back (*vanishing gradients*);
# - **ReLU with a poor init**: weights N(0, 0.05^2) are too small for ReLU (each layer
#   multiplies the spread by about 0.35, so ten layers leave almost nothing), and N(0, 1) is
#   far too large (each layer multiplies it by about 7: *exploding activations*).
#
# Run it:  `python lessons/03_gradient_flow.py`  (options: `--quick`, `--seed N`, `--out DIR`)

# %% tags=["parameters"]
# The lesson's options. In a notebook, change them here, then run all cells. On the command
# line, --quick, --seed N and --out DIR override them.
QUICK = False  # True: a small version that runs in a few seconds
SEED = 0       # the random seed: same seed, same numbers, same figures
OUT = None     # folder for the figures; None: figures/03 beside the lesson

# %%
import os

# Our matrices are small (batch 64 x 100 units): one BLAS thread is faster than several
# threads that wait for each other, above all on a shared machine. Set before NumPy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

import tinynet
from tinynet.callbacks import Recorder
from tinynet.classroom import headline, lesson_options, save_figure, show_figures
from tinynet.datasets import make_classification, standardize, train_test_split
from tinynet.initializers import RandomNormal
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import SGD

args = lesson_options(3, "Lesson 03: gradient flow with and without batch normalization",
                      quick=QUICK, seed=SEED, out=OUT)

DEPTH = 10           # hidden layers
SQUASHING = "sigmoid"  # the saturating activation compared with ReLU (try "tanh")
WIDTH = 100          # units per hidden layer
BATCH = 64
LEARNING_RATE = 0.1  # plain SGD
STEPS = 200 if args.quick else 600
EVERY = 10 if args.quick else 20   # record every EVERY training steps
N_SAMPLES = 1500 if args.quick else 4000

# %% [markdown]
# ## The data and the networks
#
# `build(activation, init, bn)` returns 10 hidden blocks and a sigmoid output unit. With BN
# the Dense layer has no bias: BN subtracts the batch mean, which would cancel any bias
# (lesson 02), and BN's own `beta` plays its part.

# %%
x, y = make_classification(n_samples=N_SAMPLES, n_features=20, seed=args.seed)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, seed=args.seed)
x_train, x_val = standardize(x_train, x_val)

INITS = {
    "glorot": ("Glorot uniform (Keras default)", "glorot_uniform"),
    "small": ("N(0, 0.05^2)", RandomNormal(stddev=0.05)),
    "large": ("N(0, 1)", RandomNormal(stddev=1.0)),
}


def build(activation, init, bn, depth=DEPTH):
    """depth x [Dense(WIDTH) -> BatchNormalization (if bn) -> activation] -> Dense(1, sigmoid)."""
    layers = []
    for i in range(depth):
        first = {"input_shape": (x_train.shape[1],)} if i == 0 else {}
        layers.append(Dense(WIDTH, use_bias=not bn, kernel_initializer=INITS[init][1],
                            name=f"dense_{i + 1}", **first))
        if bn:
            layers.append(BatchNormalization(name=f"bn_{i + 1}"))
        layers.append(Activation(activation, name=f"{activation}_{i + 1}"))
    layers.append(Dense(1, activation="sigmoid", name="output"))
    model = Sequential(layers)
    model.compile(optimizer=SGD(learning_rate=LEARNING_RATE), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def label(activation, init, bn):
    return f"{activation}, {INITS[init][0]}, {'with BN' if bn else 'without BN'}"


def hidden_outputs(recorder, activation, key, record=0):
    """`key` ('output_std', ...) of the hidden activation layers at one record, layer 1 first."""
    names = [name for name in recorder.layer_names if name.startswith(f"{activation}_")]
    return np.array([recorder.get(name, key)[record] for name in names])


def hidden_grad_norms(recorder, record=0):
    """||dL/dkernel|| of the hidden Dense layers at one record, first layer first."""
    names = [name for name in recorder.layer_names if name.startswith("dense_")]
    return np.array([recorder.get(name, "grad_norm/kernel")[record] for name in names])


# %% [markdown]
# ## 1. At initialization: one batch through six networks
#
# A `Recorder(every=1)` over a single training step keeps every layer's output and every
# gradient of that step, measured before the weights move.

# %%
def record_at_init(activation, init, bn, depth=DEPTH):
    """A Recorder holding one training step of a freshly built network."""
    tinynet.set_seed(args.seed)
    model = build(activation, init, bn, depth)
    recorder = Recorder(every=1)
    model.fit(x_train[:BATCH], y_train[:BATCH], batch_size=BATCH, epochs=1, verbose=0,
              callbacks=[recorder])
    return recorder


CONFIGS = [(SQUASHING, "glorot"), ("relu", "small"), ("relu", "large")]
at_init = {(activation, init, bn): record_at_init(activation, init, bn)
           for activation, init in CONFIGS for bn in (False, True)}

print("At initialization (one batch of", BATCH, "samples):")
print("  std of the hidden layers' outputs, layer 1 -> layer 10, and the gradient norm")
print("  of layer 1's kernel divided by layer 10's:")
for key, recorder in at_init.items():
    std = hidden_outputs(recorder, key[0], "output_std")
    grads = hidden_grad_norms(recorder)
    print(f"    {label(*key):52s} std {std[0]:9.3g} -> {std[-1]:9.3g}   "
          f"grad ratio {grads[0] / grads[-1]:9.3g}")

# %% [markdown]
# **What to look at.** Left: without BN (orange) the spread of the activations drifts with
# depth: for ReLU with small weights it collapses toward 0, with large weights it explodes.
# With BN (blue) every layer's output has about the same spread, whatever the init:
# for ReLU, the theory for a standard normal input cut at 0 gives
# sqrt(1/2 - 1/(2 pi)) = 0.584. Right: the gradient norm of each kernel. Without BN the
# sigmoid network's first layer gets a tiny fraction of the last layer's gradient. With BN
# the gradients are not equal across depth either: look at which end is larger.

# %%
import matplotlib.pyplot as plt

from tinynet import plot

plt.rcParams.update(plot.STYLE)  # tinynet.plot's classroom style for our own figures too

STYLES = {(SQUASHING, "glorot"): "o-", ("relu", "small"): "s--", ("relu", "large"): "^:"}
fig, (ax_std, ax_grad) = plt.subplots(1, 2, figsize=(12, 4.8))
depth = np.arange(1, DEPTH + 1)
for (activation, init, bn), recorder in at_init.items():
    style = STYLES.get((activation, init), "d-.")
    color = plot.color_for("with BN" if bn else "without BN")
    name = label(activation, init, bn)
    ax_std.plot(depth, hidden_outputs(recorder, activation, "output_std"), style, color=color,
                label=name)
    ax_grad.plot(depth, hidden_grad_norms(recorder), style, color=color, label=name)
ax_std.axhline(np.sqrt(0.5 - 1 / (2 * np.pi)), color="grey", lw=0.8)
ax_std.text(DEPTH, np.sqrt(0.5 - 1 / (2 * np.pi)) * 2.5, "theory for ReLU + BN: 0.584",
            ha="right", color="grey")
for ax, ylabel, title in [(ax_std, "std of the layer's output",
                           "Activations at initialization"),
                          (ax_grad, "||dL/d kernel||", "Kernel gradients at initialization")]:
    ax.set_yscale("log")
    ax.set_xlabel("hidden layer (1 = next to the input)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_xticks(depth)
handles, labels = ax_grad.get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=10)
fig.suptitle(f"{DEPTH} hidden layers of {WIDTH}, one batch of {BATCH}, before any training")
fig.tight_layout(rect=(0, 0.12, 1, 1))
save_figure(fig, args.out, "1_init_activations_and_gradients")

# %% [markdown]
# Does the gradient profile with BN depend on depth? The same measurement on a ReLU + BN
# network twice as deep.

# %%
deeper = record_at_init("relu", "small", True, depth=2 * DEPTH)
deeper_grads = hidden_grad_norms(deeper)
print(f"ReLU, N(0, 0.05^2), with BN, {2 * DEPTH} hidden layers: layer 1's kernel gradient / "
      f"layer {2 * DEPTH}'s = {deeper_grads[0] / deeper_grads[-1]:.3g}")

# %% [markdown]
# ## 2. Training: sigmoid and poorly initialized ReLU, with and without BN
#
# Four networks, the same data, the same seed, SGD with learning rate 0.1. A `Recorder`
# keeps, every few steps, each layer's gradient norm and histograms of its output.

# %%
TRAINED = [(SQUASHING, "glorot"), ("relu", "small")]
runs = {}
for activation, init in TRAINED:
    for bn in (False, True):
        tinynet.set_seed(args.seed)
        model = build(activation, init, bn)
        recorder = Recorder(every=EVERY, histograms=True)
        steps_per_epoch = int(np.ceil(len(x_train) / BATCH))
        epochs = int(np.ceil(STEPS / steps_per_epoch))
        model.fit(x_train, y_train, batch_size=BATCH, epochs=epochs, verbose=0,
                  callbacks=[recorder])
        loss, accuracy = model.evaluate(x_val, y_val, verbose=0)
        runs[(activation, init, bn)] = {"recorder": recorder, "loss": loss,
                                        "accuracy": accuracy, "steps": epochs * steps_per_epoch}

# %% [markdown]
# **What to look at.** One panel per network, one line per layer (dark = near the input,
# light = near the output), log scale. Without BN the sigmoid network's lines are spread over
# many orders of magnitude (the first layers hardly learn) and the small-init ReLU network's
# gradients sink toward zero. With BN every layer gets a usable gradient throughout training.

# %%
fig = plot.gradient_flow({label(*key): run["recorder"] for key, run in runs.items()},
                         title="Gradient norm of every kernel during training")
save_figure(fig, args.out, "2_gradient_norms_over_training")

# %% [markdown]
# **What to look at.** Histograms of each hidden layer's output, at the first step (top) and
# at the last (bottom). Without BN the deep layers of the small-init ReLU network are a spike
# at 0 and the sigmoids crowd into a narrow band around 0.5; with BN every layer keeps a
# broad, similar distribution, at the start and after training.

# %%
fig, axes = plt.subplots(2, len(runs), figsize=(4.2 * len(runs), 7.5))
colors = plot.depth_colors(DEPTH)  # dark = near the input, light = deep
for column, (key, run) in enumerate(runs.items()):
    recorder = run["recorder"]
    for row, (record, when) in enumerate([(0, "step 0"), (-1, f"step {recorder.steps[-1]}")]):
        ax = axes[row, column]
        for i in range(DEPTH):
            name = f"{key[0]}_{i + 1}"
            edges = recorder.hist_edges(name, "output")
            share = recorder.get(name, "output_hist")[record]
            centers = (edges[:-1] + edges[1:]) / 2
            ax.plot(centers, share, color=colors[i],
                    label=f"layer {i + 1}" if i in (0, DEPTH - 1) else None)
        ax.set_title(f"{label(*key)}\n{when}".replace(", w", ",\nw"), fontsize=10)
        ax.set_xlabel("activation value")
        axes[0, column].legend(fontsize=8)
for row in range(2):
    axes[row, 0].set_ylabel("share of values per bin")
fig.suptitle("Output histograms of the 10 hidden layers (dark = near the input, light = deep)")
fig.tight_layout()
save_figure(fig, args.out, "3_activation_histograms")

# %% [markdown]
# ## What the measurements say
#
# Every number below comes from the runs above.

# %%
def describe_ratio(ratio):
    """'15x larger' / '4.7e+05x smaller': layer 1's gradient norm compared with layer 10's."""
    if ratio >= 1:
        return f"{ratio:.3g}x larger"
    return f"{1 / ratio:.3g}x smaller"


relu_plain = at_init[("relu", "small", False)]
relu_bn = at_init[("relu", "small", True)]
big_plain = at_init[("relu", "large", False)]
big_bn = at_init[("relu", "large", True)]
ratio = {key: hidden_grad_norms(rec)[0] / hidden_grad_norms(rec)[-1]
         for key, rec in at_init.items()}
last_std = {key: hidden_outputs(rec, key[0], "output_std")[-1] for key, rec in at_init.items()}
bn_stds = np.concatenate([hidden_outputs(rec, key[0], "output_std")
                          for key, rec in at_init.items() if key[0] == "relu" and key[2]])

print()
print("Summary")
squash_ratio = ratio[(SQUASHING, "glorot", False)]
heading = "Vanishing gradients" if squash_ratio < 0.01 else "Gradients across depth"
print(f"1. {heading} ({SQUASHING}, no BN): at initialization layer 1's kernel "
      f"gradient is {describe_ratio(squash_ratio)} than layer {DEPTH}'s.")
print(f"   With BN it is {describe_ratio(ratio[(SQUASHING, 'glorot', True)])} than layer "
      f"{DEPTH}'s.")
print(f"2. Collapsing / exploding activations (ReLU, no BN): the std of layer {DEPTH}'s output "
      f"is {last_std[('relu', 'small', False)]:.2g} with N(0, 0.05^2) weights and "
      f"{last_std[('relu', 'large', False)]:.2g} with N(0, 1) weights.")
print(f"   The gradients follow: with N(0, 1) weights layer 1's kernel gradient has norm "
      f"{hidden_grad_norms(big_plain)[0]:.2g}, against {hidden_grad_norms(big_bn)[0]:.2g} with "
      f"BN; with N(0, 0.05^2) weights {hidden_grad_norms(relu_plain)[0]:.2g} against "
      f"{hidden_grad_norms(relu_bn)[0]:.2g}.")
print(f"   With BN every hidden ReLU output has std between {bn_stds.min():.3f} and "
      f"{bn_stds.max():.3f}, at every depth and for both inits (theory 0.584).")
print(f"3. BN does NOT make gradients equal across depth. In the ReLU networks with BN, layer "
      f"1's kernel gradient is {describe_ratio(ratio[('relu', 'small', True)])} than layer "
      f"{DEPTH}'s with N(0, 0.05^2) weights, and {describe_ratio(ratio[('relu', 'large', True)])}"
      f" with N(0, 1) weights.")
bn_ratios = [ratio[("relu", "small", True)], ratio[("relu", "large", True)]]
if min(bn_ratios) > 1:
    direction = "grow toward the input"
elif max(bn_ratios) < 1:
    direction = "shrink toward the input"
else:
    direction = "change with depth in no common direction"
deeper_ratio = deeper_grads[0] / deeper_grads[-1]
grows = "larger" if deeper_ratio > ratio[("relu", "small", True)] else "not larger"
print(f"   At initialization BN's gradients {direction}. With {2 * DEPTH} hidden layers the "
      f"ratio is {grows}: {deeper_ratio:.3g} against {ratio[('relu', 'small', True)]:.3g} "
      f"with {DEPTH} (Yang et al. 2019 explain why it grows with depth).")
print("   What BN fixes is the scale of the activations, not the gradient profile.")
print(f"4. Training ({runs[(SQUASHING, 'glorot', False)]['steps']} steps of SGD, learning rate "
      f"{LEARNING_RATE}), validation accuracy:")
for key, run in runs.items():
    print(f"     {label(*key):50s} {run['accuracy']:.3f}  (loss {run['loss']:.3f})")
for activation, init in TRAINED:
    plain, bn = runs[(activation, init, False)], runs[(activation, init, True)]
    better = "higher" if bn["accuracy"] > plain["accuracy"] else "not higher"
    print(f"   {activation} ({INITS[init][0]}): with BN the accuracy is {better}: "
          f"{bn['accuracy']:.3f} vs {plain['accuracy']:.3f} without.")

print("RESULT " + " ".join([
    f"sigmoid_plain_grad_ratio={ratio[(SQUASHING, 'glorot', False)]:.6g}",
    f"sigmoid_bn_grad_ratio={ratio[(SQUASHING, 'glorot', True)]:.6g}",
    f"relu_small_bn_grad_ratio={ratio[('relu', 'small', True)]:.6g}",
    f"relu_large_bn_grad_ratio={ratio[('relu', 'large', True)]:.6g}",
    f"relu_small_bn_grad_ratio_deeper={deeper_ratio:.6g}",
    f"relu_small_plain_last_std={last_std[('relu', 'small', False)]:.6g}",
    f"relu_large_plain_last_std={last_std[('relu', 'large', False)]:.6g}",
    f"relu_bn_std_min={bn_stds.min():.6g}",
    f"relu_bn_std_max={bn_stds.max():.6g}",
    f"sigmoid_plain_accuracy={runs[(SQUASHING, 'glorot', False)]['accuracy']:.6g}",
    f"sigmoid_bn_accuracy={runs[(SQUASHING, 'glorot', True)]['accuracy']:.6g}",
    f"relu_plain_accuracy={runs[('relu', 'small', False)]['accuracy']:.6g}",
    f"relu_bn_accuracy={runs[('relu', 'small', True)]['accuracy']:.6g}",
]))

headline(f"{SQUASHING}, {DEPTH} layers, no BN: layer 1's gradient is "
         f"{describe_ratio(squash_ratio)} than layer {DEPTH}'s")

# %% [markdown]
# ## Try this
# - Set `DEPTH = 20`: how do the sigmoid network's ratio and BN's ratio change?
# - Add He init, `"he": ("He normal", "he_normal")`, to `INITS` and put `("relu", "he")` in
#   `CONFIGS`: does the spread still collapse without BN?
# - Set `SQUASHING = "tanh"`: tanh is centred at 0 and its derivative reaches 1. Does the
#   gradient still vanish?
# - Raise the learning rate to 1.0: which networks still train?

# %%
show_figures()
