# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 06: batch size, and training mode vs inference mode
#
# Batch normalization computes its mean and variance **over the batch**. So what one example's
# output is depends on which other examples share its batch, and on how many there are. This
# lesson measures four consequences:
#
# 1. the same network trained with batches of 2, 4, 8, 32 and 128 examples, with BN, with
#    LayerNorm (which normalizes each example over its own features) and with neither;
# 2. why BN fails with batches of 2, even when it is given exact statistics at test time;
# 3. training mode (batch statistics) and inference mode (moving statistics) give different
#    predictions for the same input, and moving averages need many steps to converge;
# 4. the bug every student meets once: predicting in training mode.
#
# Run it: `python lessons/06_batch_size_and_inference.py [--quick] [--seed N] [--out DIR]`.

# %%
import os
import sys

# Small matrices: one BLAS thread is faster than several that wait for each other.
# (It must be set before NumPy is imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
sys.path.insert(0, HERE)  # lessons/ is a folder of scripts, not a package
import matplotlib.pyplot as plt
from lesson_tools import parse_args, save_figure, show_figures

import tinynet
from tinynet.datasets import make_classification, standardize, train_test_split
from tinynet.layers import Activation, BatchNormalization, Dense, LayerNormalization
from tinynet.models import Sequential
from tinynet.optimizers import SGD

args = parse_args(6, "Lesson 06: batch size, and training mode vs inference mode")
QUICK = args.quick
SEED = args.seed

# Okabe-Ito colours (readable with every kind of colour blindness); one per normalization
COLORS = {"BN": "#0072B2", "LayerNorm": "#009E73", "no normalization": "#E69F00"}

N_SAMPLES = 800 if QUICK else 1600
EPOCHS = 2 if QUICK else 4
BATCH_SIZES = [2, 8, 32] if QUICK else [2, 4, 8, 32, 128]
SWEEP_SEEDS = [SEED] if QUICK else [SEED, SEED + 1]

# %% [markdown]
# ## The task and the model
#
# A binary task with 20 numeric features (tinynet's synthetic stand-in for tabular data),
# standardized. The model: 3 hidden layers of 100 ReLU units, He initialization, then one
# sigmoid unit. The normalization layer, when there is one, sits between each Dense and its
# ReLU (the Dense then has no bias: the normalization's beta replaces it).
#
# Plain SGD with a learning rate proportional to the batch size (0.1 at batch 32), for the same
# number of epochs: small batches take many more, smaller steps. This is the usual "linear
# scaling" rule; it keeps the comparison about the normalization, not the step size.


# %%
def make_data(seed, n_samples=N_SAMPLES):
    x, y = make_classification(n_samples=n_samples, n_features=20, seed=seed)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, seed=seed)
    return x_train, x_test, y_train, y_test


def build_model(norm, momentum=0.99):
    """norm: 'BN', 'LayerNorm' or 'no normalization'. momentum is BN's (Keras default 0.99)."""
    layers = []
    for i in range(3):
        shape = {"input_shape": (20,)} if i == 0 else {}
        layers.append(Dense(100, kernel_initializer="he_normal",
                            use_bias=norm == "no normalization", **shape))
        if norm == "BN":
            layers.append(BatchNormalization(momentum=momentum))
        elif norm == "LayerNorm":
            layers.append(LayerNormalization())
        layers.append(Activation("relu"))
    layers.append(Dense(1, activation="sigmoid"))
    return Sequential(layers)


def accuracy(p, y):
    """Fraction of examples whose predicted class (p > 0.5) is the label."""
    return float(np.mean((p.reshape(-1) > 0.5) == (y.reshape(-1) > 0.5)))


def train(norm, batch_size, x, y, seed, epochs=EPOCHS):
    tinynet.set_seed(seed)
    model = build_model(norm)
    model.compile(optimizer=SGD(learning_rate=0.1 * batch_size / 32),
                  loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    return model


# %% [markdown]
# ## 1. Final accuracy vs batch size
#
# What to look for: the LayerNorm and no-normalization curves are flat; the BN curve drops at
# the smallest batches. LayerNorm never looks at the other examples of the batch, so the batch
# size does not change what it computes.

# %%
NORMS = ["BN", "LayerNorm", "no normalization"]
sweep = {norm: np.zeros((len(SWEEP_SEEDS), len(BATCH_SIZES))) for norm in NORMS}
kept = {}  # a few trained models reused below (first seed)
for s, seed in enumerate(SWEEP_SEEDS):
    x_train, x_test, y_train, y_test = make_data(seed)
    x_train, x_test = standardize(x_train, x_test)
    if s == 0:
        data = (x_train, x_test, y_train, y_test)
    for norm in NORMS:
        for b, batch_size in enumerate(BATCH_SIZES):
            model = train(norm, batch_size, x_train, y_train, seed)
            sweep[norm][s, b] = accuracy(model.predict(x_test), y_test)
            if s == 0 and norm == "BN" and batch_size in (2, 32):
                kept[batch_size] = model
x_train, x_test, y_train, y_test = data
mean_acc = {norm: sweep[norm].mean(axis=0) for norm in NORMS}

fig, ax = plt.subplots(figsize=(6.5, 4.2))
for norm in NORMS:
    ax.plot(BATCH_SIZES, mean_acc[norm], "o-", color=COLORS[norm], label=norm, lw=2)
    for row in sweep[norm]:
        ax.plot(BATCH_SIZES, row, ".", color=COLORS[norm], alpha=0.5)
ax.set_xscale("log", base=2)
ax.set_xticks(BATCH_SIZES, [str(b) for b in BATCH_SIZES])
ax.axhline(0.5, color="grey", ls=":", lw=1)
ax.text(BATCH_SIZES[-1], 0.51, "chance", color="grey", ha="right", va="bottom")
ax.set_xlabel("batch size (examples per step)")
ax.set_ylabel("test accuracy (inference mode)")
ax.set_title(f"Final accuracy vs batch size ({EPOCHS} epochs, "
             f"mean of {len(SWEEP_SEEDS)} seed(s); dots: each seed)", fontsize=10)
ax.set_ylim(0.4, 1.0)
ax.legend()
save_figure(fig, args.out, "accuracy_vs_batch_size")

small, large = BATCH_SIZES[0], BATCH_SIZES[-1]
print("\n== 1. Final test accuracy by batch size ==")
print("   batch size: " + "  ".join(f"{b:>5d}" for b in BATCH_SIZES))
for norm in NORMS:
    print(f"   {norm:>16s}: " + "  ".join(f"{a:5.3f}" for a in mean_acc[norm]))
bn_small = mean_acc["BN"][0]
ln_small = mean_acc["LayerNorm"][0]
bn_best = mean_acc["BN"].max()
print(f"   With BN, batches of {small} reach {bn_small:.3f}, "
      f"{'below' if bn_small < bn_best else 'not below'} BN's best {bn_best:.3f} "
      f"(at batch {BATCH_SIZES[int(mean_acc['BN'].argmax())]}); LayerNorm at batch {small} "
      f"reaches {ln_small:.3f}, {'above' if ln_small > bn_small else 'not above'} BN.")

# %% [markdown]
# ## 2. Why BN fails with batches of 2, even with exact statistics
#
# Take one feature and a batch of two values a1, a2. The batch mean is (a1 + a2) / 2 and the
# biased variance is d^2 with d = (a1 - a2) / 2. So
#
#     x_hat_1 = +d / sqrt(d^2 + eps),   x_hat_2 = -d / sqrt(d^2 + eps)
#
# which is +1 or -1 (up to eps), **whatever a1 and a2 are**. During training, every unit after
# BN only ever says "I am the larger of the two" or "the smaller". At test time, with moving
# statistics, the same unit outputs a continuous value the later layers never saw in training.
# Replacing the moving averages by the exact statistics of the whole training set cannot fix
# that: the problem is what the network learned from, not the estimate.
#
# What to look for in the figure: two spikes at -1 and +1 for batches of 2, a bell curve for
# batches of 32 and for inference mode.


# %%
def training_mode_outputs(model, x, batch_size):
    """The model's outputs with BATCH statistics (training=True), batch by batch.

    A forward pass in training mode also updates BN's moving averages (it is a training step
    without the gradient). We only want to look, so the weights are saved and put back."""
    saved = model.get_weights()
    out = np.concatenate([model(x[i:i + batch_size], training=True)
                          for i in range(0, len(x), batch_size)])
    model.set_weights(saved)
    return out


def first_bn_input(model, x):
    """What the first BN layer receives: the first Dense layer's output."""
    return model.layers[0](x)


def normalized_with_batches(a, batch_size, eps):
    """x_hat that BN computes in training mode, for consecutive batches of `a` (N, D)."""
    pieces = []
    for i in range(0, len(a) - batch_size + 1, batch_size):
        batch = a[i:i + batch_size]
        pieces.append((batch - batch.mean(0)) / np.sqrt(batch.var(0) + eps))
    return np.concatenate(pieces)


def set_population_statistics(model, x):
    """Replace every BN layer's moving mean and variance by the exact mean and variance of its
    input over `x` (the whole training set), layer after layer, in inference mode."""
    a = x
    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            gamma, beta, _, _ = layer.get_weights()
            layer.set_weights([gamma, beta, a.mean(axis=0), a.var(axis=0)])
        a = layer(a)


bn2 = kept[2]
eps = bn2.layers[1].epsilon
a = first_bn_input(bn2, x_train).astype(np.float64)
x_hat_2 = normalized_with_batches(a, 2, eps)
x_hat_32 = normalized_with_batches(a, 32, eps)
moving_mean, moving_var = bn2.layers[1].get_weights()[2:]
x_hat_inference = (first_bn_input(bn2, x_test) - moving_mean) / np.sqrt(moving_var + eps)

# the same thing from the layer itself (training mode, then weights restored)
saved = bn2.get_weights()
layer_out = bn2.layers[1](a[:2].astype(np.float32), training=True)
bn2.set_weights(saved)
gamma, beta = bn2.layers[1].get_weights()[:2]
from_layer = (layer_out - beta) / gamma
near_one = float(np.mean(np.abs(x_hat_2) > 0.99))

acc_moving = accuracy(bn2.predict(x_test), y_test)
acc_pairs = accuracy(training_mode_outputs(bn2, x_test, 2), y_test)
set_population_statistics(bn2, x_train)
acc_population = accuracy(bn2.predict(x_test), y_test)

fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
bins = np.linspace(-3.5, 3.5, 71)
for ax, values, title in zip(axes, [x_hat_2, x_hat_32, x_hat_inference],
                             ["training mode, batches of 2", "training mode, batches of 32",
                              "inference mode (moving statistics)"], strict=True):
    ax.hist(values.ravel(), bins=bins, color=COLORS["BN"], density=True)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("normalized value x_hat")
axes[0].set_ylabel("density (all 100 units)")
fig.suptitle(f"First BN layer of the net trained with batches of 2: {100 * near_one:.1f}% of "
             f"training-mode values have |x_hat| > 0.99")
save_figure(fig, args.out, "batch_of_two_normalized_values")

print("\n== 2. Why batches of 2 fail ==")
print(f"   First BN layer, training mode with batches of 2: {100 * near_one:.1f}% of the "
      f"normalized values have |x_hat| > 0.99 (median |x_hat| = "
      f"{np.median(np.abs(x_hat_2)):.4f}).")
print(f"   The layer itself, on one pair of training examples: x_hat = {from_layer[0, 0]:+.4f} "
      f"and {from_layer[1, 0]:+.4f} for unit 0; over all 100 units the two rows are mirror "
      f"images (max |x_hat_1 + x_hat_2| = {np.max(np.abs(from_layer.sum(axis=0))):.1g}) and "
      f"{100 * np.mean(np.abs(from_layer) > 0.99):.0f}% of the values are within 0.01 of +-1.")
print(f"   Test accuracy of the batch-2 BN net: {acc_moving:.3f} with its moving averages, "
      f"{acc_population:.3f} with the exact population statistics "
      f"({'a change of only' if abs(acc_population - acc_moving) < 0.05 else 'a change of'} "
      f"{acc_population - acc_moving:+.3f}).")
print(f"   Even in training mode on pairs of test examples, the very setting it was trained "
      f"in, it scores {acc_pairs:.3f} "
      f"({'no better than' if acc_pairs <= acc_moving + 0.01 else 'better than'} inference "
      f"mode): +-1 signals tell the later layers only which of the two examples is larger.")

# %% [markdown]
# ## 3. Training mode vs inference mode give different predictions
#
# Take the net trained with batches of 32 (which works well). Predict the test set twice: in
# inference mode (moving statistics, what `model.predict` does), and in training mode on
# batches of 32 (each batch's own statistics). Then put **one** test example (the one the
# model is least sure about) in 20 different random batches and look at how its prediction
# moves with its batch-mates.

# %%
bn32 = kept[32]
p_inference = bn32.predict(x_test).reshape(-1)
p_training = training_mode_outputs(bn32, x_test, 32).reshape(-1)
flipped = float(np.mean((p_inference > 0.5) != (p_training > 0.5)))
max_diff = float(np.max(np.abs(p_inference - p_training)))

rng = np.random.default_rng(SEED)
unsure = int(np.argmin(np.abs(p_inference - 0.5)))  # the least certain test example
probe = x_test[unsure:unsure + 1]
others = np.delete(x_test, unsure, axis=0)
p_probe = []
for _ in range(20):
    mates = others[rng.choice(len(others), size=31, replace=False)]
    p_probe.append(training_mode_outputs(bn32, np.vstack([probe, mates]), 32)[0, 0])
p_probe = np.array(p_probe)
p_probe_inference = float(bn32.predict(probe)[0, 0])

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
axes[0].scatter(p_inference, p_training, s=10, color=COLORS["BN"], alpha=0.6)
axes[0].plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="same prediction")
axes[0].set_xlabel("p(class 1), inference mode (moving statistics)")
axes[0].set_ylabel("p(class 1), training mode (batches of 32)")
axes[0].set_title(f"Same inputs, two modes: {100 * flipped:.1f}% of classes flip", fontsize=10)
axes[0].legend(loc="upper left")
axes[1].plot(np.arange(1, 21), p_probe, "o", color=COLORS["BN"], label="training mode")
axes[1].axhline(p_probe_inference, color="black", lw=1.5, label="inference mode")
axes[1].set_xlabel("random batch of 31 other test examples (trial)")
axes[1].set_ylabel(f"p(class 1) for test example {unsure}")
axes[1].set_title("One example, 20 different batch-mates", fontsize=10)
axes[1].legend()
save_figure(fig, args.out, "training_vs_inference_mode")

print("\n== 3. Training mode vs inference mode (BN net trained with batches of 32) ==")
print(f"   Test accuracy: inference mode {accuracy(p_inference, y_test):.3f}, training mode "
      f"{accuracy(p_training, y_test):.3f}; the predicted class differs for "
      f"{100 * flipped:.1f}% of test examples, the probability by up to {max_diff:.3f}.")
crossings = int(np.sum((p_probe > 0.5) != (p_probe_inference > 0.5)))
print(f"   Test example {unsure} (the least certain) in 20 random batches: p(class 1) from "
      f"{p_probe.min():.3f} to {p_probe.max():.3f} in training mode, always "
      f"{p_probe_inference:.3f} in inference mode; its predicted class differs from inference "
      f"mode's in {crossings} of the 20 batches.")

# %% [markdown]
# ## 3b. Moving averages that have not converged
#
# Inference mode trusts the moving averages. They start at mean 0 and variance 1 and move a
# fraction (1 - momentum) toward each batch's statistics per step: after t steps the starting
# value still weighs momentum^t. With Keras's default momentum 0.99 that is 0.99^100 = 0.37
# after 100 steps; with 0.9 it is 0.9^100 = 3e-5.
#
# This matters when the true statistics are far from (0, 1). Here the inputs are **not**
# standardized: readings around 50 with spread 10 (think temperatures or ages). BN after the
# first Dense layer copes with that in training mode, but the moving averages must travel from
# (0, 1) to a mean of tens and a variance of thousands. What to look for: the 0.99 curves lag
# far behind, and so does the inference-mode accuracy, while the dashed line (the same weights
# with exact population statistics) shows the network itself was fine.

# %%
STEPS = 60 if QUICK else 300
CHECK_EVERY = 10
x_raw_train, x_raw_test = 50 + 10 * x_train, 50 + 10 * x_test
momentum_runs = {}
for momentum in (0.99, 0.9):
    tinynet.set_seed(SEED)
    model = build_model("BN", momentum=momentum)
    model.compile(optimizer=SGD(learning_rate=0.1), loss="binary_crossentropy")
    order = np.random.default_rng(SEED)
    record = {"step": [], "moving_mean": [], "true_mean": [], "acc_moving": [],
              "acc_population": []}
    for step in range(1, STEPS + 1):
        rows = order.choice(len(x_raw_train), size=32, replace=False)
        model.train_on_batch(x_raw_train[rows], y_train[rows])
        if step % CHECK_EVERY == 0:
            record["step"].append(step)
            record["moving_mean"].append(model.layers[1].get_weights()[2][0])
            record["true_mean"].append(float(first_bn_input(model, x_raw_train)[:, 0].mean()))
            record["acc_moving"].append(accuracy(model.predict(x_raw_test), y_test))
            saved = model.get_weights()
            set_population_statistics(model, x_raw_train)
            record["acc_population"].append(accuracy(model.predict(x_raw_test), y_test))
            model.set_weights(saved)
    momentum_runs[momentum] = {key: np.array(value) for key, value in record.items()}
    # the Dense weights, to check below that momentum did not change them
    momentum_runs[momentum]["dense"] = [w for layer in model.layers
                                        if isinstance(layer, Dense) for w in layer.get_weights()]

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
styles = {0.99: "#D55E00", 0.9: "#0072B2"}
for momentum, record in momentum_runs.items():
    color = styles[momentum]
    axes[0].plot(record["step"], record["moving_mean"], color=color,
                 label=f"moving mean, momentum {momentum}")
    axes[1].plot(record["step"], record["acc_moving"], color=color,
                 label=f"moving statistics, momentum {momentum}")
axes[1].plot(momentum_runs[0.9]["step"], momentum_runs[0.9]["acc_population"], color="black",
             ls="--", label="exact population statistics (the same for both)")
axes[0].plot(momentum_runs[0.9]["step"], momentum_runs[0.9]["true_mean"], color="black",
             ls=":", label="true mean over the training set")
axes[0].set_xlabel("training step (batch 32)")
axes[0].set_ylabel("first BN layer, unit 0: mean")
axes[0].set_title("The moving mean chases the true mean", fontsize=10)
axes[0].legend(fontsize=8)
axes[1].set_xlabel("training step (batch 32)")
axes[1].set_ylabel("test accuracy (inference mode)")
axes[1].set_title("Inference mode is only as good as the moving statistics", fontsize=10)
axes[1].axhline(0.5, color="grey", ls=":", lw=1)
axes[1].legend(fontsize=8)
save_figure(fig, args.out, "moving_average_convergence")

slow, fast = momentum_runs[0.99], momentum_runs[0.9]
same_weights = all(np.array_equal(a, b) for a, b in zip(slow["dense"], fast["dense"],
                                                          strict=True))
few = min(10, len(slow["step"])) - 1  # the check after 100 steps (or the last one)
checks = sorted({few, len(slow["step"]) - 1})
print("\n== 3b. Moving averages (raw inputs around 50), after "
      + " and ".join(str(slow["step"][k]) for k in checks) + " steps ==")
for name, record in (("0.99", slow), ("0.9", fast)):
    for k in checks:
        print(f"   momentum {name:>4s}, step {record['step'][k]:3d}: moving mean of unit 0 = "
              f"{record['moving_mean'][k]:6.2f} (true {record['true_mean'][k]:6.2f}); test "
              f"accuracy {record['acc_moving'][k]:.3f} with moving statistics, "
              f"{record['acc_population'][k]:.3f} with exact ones")
gap_slow = slow["acc_population"][few] - slow["acc_moving"][few]
gap_fast = fast["acc_population"][few] - fast["acc_moving"][few]
print(f"   After {slow['step'][few]} steps the accuracy lost to the moving statistics is "
      f"{gap_slow:+.3f} with momentum 0.99 and {gap_fast:+.3f} with 0.9: "
      f"{'the slower average costs more' if gap_slow > gap_fast else 'no larger cost for 0.99'}."
      f"\n   The two runs' Dense weights are "
      f"{'identical' if same_weights else 'NOT identical'}: momentum changes only what "
      f"inference mode uses, never training itself.")

# %% [markdown]
# ## 4. The bug: predicting in training mode
#
# A student writes their own evaluation loop and calls `model(x, training=True)`, or forgets
# which mode a hand-written layer is in, and predicts **one example at a time**. In training
# mode a batch of one has variance 0, so x_hat = 0 and every BN layer outputs exactly beta,
# whatever the input. Symptom: every prediction is the same number, and the accuracy is the
# share of whichever class that number picks. (Training with batches of one is as bad: the
# output is always beta, so every gradient through BN is 0 and the layers before it never
# learn; tinynet's `fit` warns about it.)
#
# A subtler variant: predicting in training mode on batches that are sorted by class (a test
# file written class by class). Each batch is normalized against itself, which removes exactly
# what the classes have in common.
#
# The fix: `model.predict(x)` or `model(x)` (training=False is the default), and call
# `model(x, training=True)` only inside a training step.

# %%
one_at_a_time = training_mode_outputs(bn32, x_test, batch_size=1).reshape(-1)
distinct = np.unique(one_at_a_time)
constant_class = int(distinct[0] > 0.5)  # the class every example gets
constant_share = float(np.mean(y_test == constant_class))
by_class = np.argsort(y_test, kind="stable")
p_sorted = training_mode_outputs(bn32, x_test[by_class], 32).reshape(-1)
acc_sorted = accuracy(p_sorted, y_test[by_class])
acc_right = accuracy(bn32.predict(x_test), y_test)

fig, ax = plt.subplots(figsize=(8, 4.2))
bars = {"model.predict(x)\n(inference mode)": acc_right,
        "training mode,\nclass-sorted batches of 32": acc_sorted,
        "training mode,\none example at a time": accuracy(one_at_a_time, y_test)}
colors = [COLORS["BN"], "#CC79A7", "#D55E00"]
ax.bar(list(bars), list(bars.values()), color=colors)
for i, value in enumerate(bars.values()):
    ax.text(i, value + 0.01, f"{value:.3f}", ha="center")
ax.axhline(constant_share, color="black", ls=":", lw=1.5,
           label=f"always predicting class {constant_class}")
ax.legend(loc="upper right")
ax.set_ylim(0, 1.05)
ax.set_ylabel("test accuracy")
ax.set_title("The same trained BN net, evaluated three ways", fontsize=10)
save_figure(fig, args.out, "forgot_inference_mode")

print("\n== 4. The 'forgot to switch to inference mode' bug ==")
print(f"   One example at a time with training=True: {len(distinct)} distinct output value(s) "
      f"over {len(x_test)} test examples (p = {distinct[0]:.4f}); accuracy "
      f"{accuracy(one_at_a_time, y_test):.3f}, which is the share of class {constant_class} in "
      f"the test set ({constant_share:.3f}): the network says the same thing for everyone.")
print(f"   Training mode on class-sorted batches of 32: accuracy {acc_sorted:.3f}, "
      f"vs {acc_right:.3f} with model.predict.")

# %% [markdown]
# ## Summary, and try this
#
# - Change `BATCH_SIZES` to include 1: what does `fit` say, and what accuracy do you get?
# - In part 3b, set the inputs back to standardized values (drop `50 + 10 *`): does momentum
#   still matter? Why not?
# - Train the batch-2 BN net for more epochs: does the gap close?
# - Replace BN by LayerNorm in part 4: is the bug still there?

# %%
print("\n== Summary ==")
print(f"   BN's accuracy at batch {small}: {bn_small:.3f} vs {mean_acc['BN'][-1]:.3f} at batch "
      f"{large}; LayerNorm {ln_small:.3f} vs {mean_acc['LayerNorm'][-1]:.3f}; no normalization "
      f"{mean_acc['no normalization'][0]:.3f} vs {mean_acc['no normalization'][-1]:.3f}.")
print(f"RESULT bn_small={bn_small:.4f} ln_small={ln_small:.4f} bn_best={bn_best:.4f} "
      f"none_small={mean_acc['no normalization'][0]:.4f} "
      f"acc_moving_b2={acc_moving:.4f} acc_population_b2={acc_population:.4f} "
      f"flipped={flipped:.4f} gap_momentum_099={gap_slow:.4f} gap_momentum_09={gap_fast:.4f} "
      f"distinct_one_at_a_time={len(distinct)} acc_sorted={acc_sorted:.4f} "
      f"acc_predict={acc_right:.4f}")
show_figures()
