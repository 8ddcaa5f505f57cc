# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 06: batch size, and training mode vs inference mode
#
# **The question.** How small can a batch be before batch normalization stops working, and
# why does the same trained network give different answers in training mode and in inference
# mode?
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
# Every comparison is measured over several seeds and printed with its noise (the standard
# error of the mean difference, "±"); the words after it are chosen from those numbers.
#
# Run it: `python lessons/06_batch_size_and_inference.py [--quick] [--seed N] [--out DIR]`.

# %% tags=["parameters"]
# The lesson's options. In a notebook, change them here, then run all cells. On the command
# line, --quick, --seed N and --out DIR override them.
QUICK = False  # True: a small version that runs in a few seconds
SEED = 0       # the random seed: same seed, same numbers, same figures
OUT = None     # folder for the figures; None: figures/06 beside the lesson

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
from tinynet.datasets import make_classification, standardize, train_test_split
from tinynet.layers import Activation, BatchNormalization, Dense, LayerNormalization
from tinynet.models import Sequential
from tinynet.optimizers import SGD
from tinynet.stats import compare, mean_and_se

args = lesson_options(6, "Lesson 06: batch size, and training mode vs inference mode",
                      quick=QUICK, seed=SEED, out=OUT)
plot.use_style()

N_TRAIN = 600 if args.quick else 1200
N_TEST = 1000 if args.quick else 2000  # a large test set: its own noise stays small
EPOCHS = 2 if args.quick else 4
BATCH_SIZES = [2, 8, 32] if args.quick else [2, 4, 8, 32, 128]
SEEDS = [args.seed + k for k in range(2 if args.quick else 5)]

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
def make_data(seed):
    """The seed's train and test sets, standardized with the training set's statistics."""
    x, y = make_classification(n_samples=N_TRAIN + N_TEST, n_features=20, seed=seed)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=N_TEST, seed=seed)
    x_train, x_test = standardize(x_train, x_test)
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
# What to look for: does the BN curve drop at the smallest batches? Are the LayerNorm and
# no-normalization curves flat? LayerNorm never looks at the other examples of the batch, so
# the batch size does not change what it computes; but the batch size still changes the
# training (how many steps, how noisy each one), so flatness is a question for the numbers:
# the printout compares each curve's two ends over the seeds. The error bars are one
# standard error over seeds.

# %%
print(f"\n== 1. Final test accuracy by batch size (mean over {len(SEEDS)} seeds, "
      f"{N_TEST} test examples each) ==")
NORMS = ["BN", "LayerNorm", "no normalization"]
data = {seed: make_data(seed) for seed in SEEDS}
sweep = {norm: np.zeros((len(SEEDS), len(BATCH_SIZES))) for norm in NORMS}
kept = {2: [], 32: []}  # the trained BN nets of batch 2 and 32, one per seed, reused below
for s, seed in enumerate(SEEDS):
    x_train, x_test, y_train, y_test = data[seed]
    for norm in NORMS:
        for b, batch_size in enumerate(BATCH_SIZES):
            model = train(norm, batch_size, x_train, y_train, seed)
            sweep[norm][s, b] = accuracy(model.predict(x_test, verbose=0), y_test)
            if norm == "BN" and batch_size in kept:
                kept[batch_size].append(model)
mean_acc = {norm: sweep[norm].mean(axis=0) for norm in NORMS}
se_acc = {norm: np.array([mean_and_se(column)[1] for column in sweep[norm].T])
          for norm in NORMS}

fig, ax = plt.subplots(figsize=(9, 6), layout="constrained")
for norm in NORMS:
    color = plot.color_for(norm)
    ax.errorbar(BATCH_SIZES, mean_acc[norm], yerr=se_acc[norm], fmt="o-", color=color,
                capsize=4, label=norm)
    for row in sweep[norm]:
        ax.plot(BATCH_SIZES, row, ".", color=color, alpha=0.4)
ax.set_xscale("log", base=2)
ax.set_xticks(BATCH_SIZES, [str(b) for b in BATCH_SIZES])
ax.set_xlabel("batch size (examples per step)")
ax.set_ylabel("test accuracy (inference mode)")
ax.set_title(f"Accuracy vs batch size: mean ± s.e. of {len(SEEDS)} seeds (dots: seeds)")
ax.legend(loc="lower right")
save_figure(fig, args.out, "accuracy_vs_batch_size")


def normalization_needed(none_vs_best, bn_small_vs_best):
    """Words for 'does any normalization beat none?', from one Comparison per batch size of
    (no normalization) - (the better normalization) in test accuracy (each Comparison's .what
    names its batch size), and what BN loses at the smallest batch size: a Comparison of
    BN's accuracy there - at its best batch size."""
    behind = [c for c in none_vs_best if c.clear and c.difference < 0]
    ahead = [c for c in none_vs_best if c.clear and c.difference > 0]
    if bn_small_vs_best.clear and bn_small_vs_best.difference < 0:
        cost = (f"what this part shows is what BN costs at small batches: at "
                f"{bn_small_vs_best.names[0]} it is {-bn_small_vs_best.difference:.3f} below "
                f"its best, beyond the noise")
    else:
        cost = "what BN costs at small batches is not clear at this scale either"
    if not behind:
        return (f"no normalization is not clearly behind the better normalization at any "
                f"batch size (ahead of it, beyond the noise, at {len(ahead)} of "
                f"{len(none_vs_best)}): these runs do not show that this small task needs "
                f"normalization; {cost}")
    where = ", ".join(f"{c.what} (by {-c.difference:.3f})" for c in behind)
    return (f"no normalization is behind the better normalization, beyond the noise, at "
            f"{len(behind)} of {len(none_vs_best)} batch sizes: {where}")


small = BATCH_SIZES[0]
best_b = int(mean_acc["BN"].argmax())
print(f"   test accuracy, mean ± s.e. over {len(SEEDS)} seeds:")
print("   batch size:        " + "  ".join(f"{b:>13d}" for b in BATCH_SIZES))
for norm in NORMS:
    print(f"   {norm:>16s}: " + "  ".join(f"{m:6.3f} ± {e:.3f}"
                                          for m, e in zip(mean_acc[norm], se_acc[norm],
                                                          strict=True)))
bn_small_vs_best = compare(sweep["BN"][:, 0], sweep["BN"][:, best_b],
                           f"BN's test accuracy (its best batch size is {BATCH_SIZES[best_b]})",
                           (f"batch {small}", f"batch {BATCH_SIZES[best_b]}"),
                           lower_is_better=False)
ln_vs_bn_small = compare(sweep["LayerNorm"][:, 0], sweep["BN"][:, 0],
                         f"test accuracy at batch {small}", ("LayerNorm", "BN"),
                         lower_is_better=False)
print("   " + bn_small_vs_best.sentence())
print("   " + ln_vs_bn_small.sentence())
none_vs_best = []
for b, batch_size in enumerate(BATCH_SIZES):
    better = max(("BN", "LayerNorm"), key=lambda norm: mean_acc[norm][b])
    none_vs_best.append(compare(sweep["no normalization"][:, b], sweep[better][:, b],
                                f"batch {batch_size}", ("no normalization", better),
                                lower_is_better=False))
    print(f"   {none_vs_best[-1].sentence()}")
print(f"   So: {normalization_needed(none_vs_best, bn_small_vs_best)}.")


def flat_words(norm, ends):
    """Is `norm`'s curve flat? From a Comparison of its test accuracy at the smallest batch
    size - at the largest, over the seeds (its names say which batch sizes)."""
    if not ends.measured:
        return f"{norm}: {ends.verdict}"
    if not ends.clear:
        return (f"{norm}, no clear change from {ends.names[0]} to {ends.names[1]} at this "
                f"scale")
    direction = "higher" if ends.difference > 0 else "lower"
    return (f"{norm}, {ends.shown()[2].lstrip('+-')} {direction} at {ends.names[0]} than at "
            f"{ends.names[1]}, beyond the noise: not flat")


flat = {}
for norm in ("LayerNorm", "no normalization"):
    flat[norm] = compare(sweep[norm][:, 0], sweep[norm][:, -1], f"{norm}, test accuracy",
                         (f"batch {small}", f"batch {BATCH_SIZES[-1]}"), lower_is_better=False)
    print("   " + flat[norm].sentence())
print("   So: " + "; ".join(flat_words(norm, ends) for norm, ends in flat.items()) + ".")

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
# If that is the cause, replacing the moving averages by the exact statistics of the whole
# training set should not fix it: the problem would be what the network learned from, not the
# estimate. We measure both.
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


def plus_minus_one_story(share_near_one, pairs_vs_inference):
    """The '+-1 signals' explanation, told only when the numbers support it: most training-mode
    values at +-1, and training mode on pairs no better than inference mode (a Comparison of
    pairs - inference)."""
    if share_near_one < 0.5:
        return (f"only {100 * share_near_one:.0f}% of the training-mode values sit at +-1, so "
                f"the +-1 story does not explain this run")
    if pairs_vs_inference.clear and pairs_vs_inference.difference > 0:
        return ("training mode on pairs beats inference mode here, so the continuous values at "
                "test time cost something beyond what the +-1 signals already lose")
    return ("even the setting it was trained in does no better: +-1 signals tell the later "
            "layers only which of the two examples is larger, and that is all it learned from")


print("\n== 2. What BN computes with batches of 2 ==")
bn2 = kept[2][0]  # the first seed's batch-2 net, taken apart
x_train, x_test, y_train, y_test = data[SEEDS[0]]
eps = bn2.layers[1].epsilon
a = first_bn_input(bn2, x_train).astype(np.float64)
x_hat_2 = normalized_with_batches(a, 2, eps)
x_hat_32 = normalized_with_batches(a, 32, eps)
moving_mean, moving_var = bn2.layers[1].get_weights()[2:]
x_hat_inference = (first_bn_input(bn2, x_test) - moving_mean) / np.sqrt(moving_var + eps)
near_one = float(np.mean(np.abs(x_hat_2) > 0.99))

# the same thing from the layer itself (training mode, then weights restored)
saved = bn2.get_weights()
layer_out = bn2.layers[1](a[:2].astype(np.float32), training=True)
bn2.set_weights(saved)
gamma, beta = bn2.layers[1].get_weights()[:2]
from_layer = (layer_out - beta) / gamma

# every seed's batch-2 net: moving statistics, pairs in training mode, exact statistics
acc_moving, acc_pairs, acc_population = [], [], []
for seed, model in zip(SEEDS, kept[2], strict=True):
    x_tr, x_te, _, y_te = data[seed]
    acc_moving.append(accuracy(model.predict(x_te, verbose=0), y_te))
    acc_pairs.append(accuracy(training_mode_outputs(model, x_te, 2), y_te))
    set_population_statistics(model, x_tr)
    acc_population.append(accuracy(model.predict(x_te, verbose=0), y_te))

fig, axes = plt.subplots(1, 3, figsize=(15, 5), sharey=True, layout="constrained")
bins = np.linspace(-3.5, 3.5, 71)
for ax, values, title in zip(axes, [x_hat_2, x_hat_32, x_hat_inference],
                             ["training, batches of 2", "training, batches of 32",
                              "inference (moving statistics)"], strict=True):
    ax.hist(values.ravel(), bins=bins, color=plot.color_for("with BN"), density=True)
    ax.set_title(title)
    ax.set_xlabel("normalized value x_hat")
axes[0].set_ylabel("density (all 100 units)")
fig.suptitle(f"First BN layer of the batch-2 net, seed {SEEDS[0]}: {100 * near_one:.0f}% of "
             f"training-mode values have |x_hat| > 0.99")
save_figure(fig, args.out, "batch_of_two_normalized_values")

population_vs_moving = compare(acc_population, acc_moving, "batch-2 BN net, test accuracy",
                               ("with exact statistics", "with moving averages"),
                               lower_is_better=False)
pairs_vs_inference = compare(acc_pairs, acc_moving, "batch-2 BN net, test accuracy",
                             ("training mode on pairs", "inference mode"),
                             lower_is_better=False)
print(f"   First BN layer, training mode with batches of 2 (first seed): {100 * near_one:.1f}% "
      f"of the normalized values have |x_hat| > 0.99 (median |x_hat| = "
      f"{np.median(np.abs(x_hat_2)):.4f}).")
print(f"   The layer itself, on one pair of training examples: x_hat = {from_layer[0, 0]:+.4f} "
      f"and {from_layer[1, 0]:+.4f} for unit 0; over all 100 units the two rows are mirror "
      f"images (max |x_hat_1 + x_hat_2| = {np.max(np.abs(from_layer.sum(axis=0))):.1g}) and "
      f"{100 * np.mean(np.abs(from_layer) > 0.99):.0f}% of the values are within 0.01 of +-1.")
print("   " + population_vs_moving.sentence())
print("   " + pairs_vs_inference.sentence())
print(f"   {plus_minus_one_story(near_one, pairs_vs_inference)}.")

# %% [markdown]
# ## 3. Training mode vs inference mode give different predictions
#
# Take the net trained with batches of 32 (which works well). Predict the test set twice: in
# inference mode (moving statistics, what `model.predict` does), and in training mode on
# batches of 32 (each batch's own statistics). Then put **one** test example (the one the
# model is least sure about) in 20 different random batches and look at how its prediction
# moves with its batch-mates.

# %%
print("\n== 3. Training mode and inference mode (BN net trained with batches of 32) ==")
flipped = []
for seed, model in zip(SEEDS, kept[32], strict=True):
    x_te = data[seed][1]
    inference = model.predict(x_te, verbose=0).reshape(-1)
    training = training_mode_outputs(model, x_te, 32).reshape(-1)
    flipped.append(float(np.mean((inference > 0.5) != (training > 0.5))))
bn32 = kept[32][0]
p_inference = bn32.predict(x_test, verbose=0).reshape(-1)
p_training = training_mode_outputs(bn32, x_test, 32).reshape(-1)
max_diff = float(np.max(np.abs(p_inference - p_training)))
flip_mean, flip_se = mean_and_se(flipped)

rng = np.random.default_rng(args.seed)
unsure = int(np.argmin(np.abs(p_inference - 0.5)))  # the least certain test example
probe = x_test[unsure:unsure + 1]
others = np.delete(x_test, unsure, axis=0)
p_probe = []
for _ in range(20):
    mates = others[rng.choice(len(others), size=31, replace=False)]
    p_probe.append(training_mode_outputs(bn32, np.vstack([probe, mates]), 32)[0, 0])
p_probe = np.array(p_probe)
p_probe_inference = float(bn32.predict(probe, verbose=0)[0, 0])

fig, axes = plt.subplots(1, 2, figsize=(14, 6), layout="constrained")
axes[0].scatter(p_inference, p_training, s=8, color=plot.color_for("with BN"), alpha=0.4)
axes[0].plot([0, 1], [0, 1], color="grey", lw=1.5, ls="--", label="same prediction")
axes[0].set_xlabel("p(class 1), inference mode")
axes[0].set_ylabel("p(class 1), training mode (batches of 32)")
axes[0].set_title(f"Same inputs, two modes: {100 * flipped[0]:.1f}% flip\n(all {len(SEEDS)} "
                  f"seeds: {100 * flip_mean:.1f}% ± {100 * flip_se:.1f}% s.e.)")
axes[0].legend(loc="upper left")
axes[1].plot(np.arange(1, 21), p_probe, "o", color=plot.color_for("with BN"),
             label="training mode")
axes[1].axhline(p_probe_inference, color="black", label="inference mode")
axes[1].set_xlabel("random batch of 31 other test examples")
axes[1].set_ylabel(f"p(class 1), test example {unsure}")
axes[1].set_title("One example, 20 sets of batch-mates")
# the dots can fall anywhere between 0 and 1: the legend goes under the panel, not on them
axes[1].legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
fig.suptitle(f"The BN net trained with batches of 32, seed {SEEDS[0]}")
save_figure(fig, args.out, "training_vs_inference_mode")

print(f"   The predicted class differs between the two modes for {100 * flip_mean:.1f}% "
      f"± {100 * flip_se:.1f}% of test examples (mean ± s.e., {len(SEEDS)} seeds); first seed: "
      f"the probability differs by up to {max_diff:.3f}.")
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
# after 100 steps; with 0.9 it is 0.9^100 = 3e-5. (PyTorch writes the same setting the other
# way round: its `momentum=0.1` is Keras's `momentum=0.9`.)
#
# This matters when the true statistics are far from (0, 1). Here the inputs are **not**
# standardized: readings around 50 with spread 10 (think temperatures or ages). BN after the
# first Dense layer copes with that in training mode, but the moving averages must travel from
# (0, 1) to a mean of tens and a variance of thousands. What to look for: the 0.99 curves lag
# far behind, and so does the inference-mode accuracy, while the dashed line (the same weights
# with exact population statistics) shows the network itself was fine.

# %%
STEPS = 100 if args.quick else 300
CHECK_EVERY = 10
CHECK_AT = 100  # the step at which the two momenta are compared


def momentum_run(momentum, seed):
    """STEPS SGD steps on raw inputs (about 50 +- 10); every CHECK_EVERY steps, the moving
    mean of unit 0 and the test accuracy with moving and with exact statistics."""
    x_tr, x_te, y_tr, y_te = data[seed]
    x_raw_train, x_raw_test = 50 + 10 * x_tr, 50 + 10 * x_te
    tinynet.set_seed(seed)
    model = build_model("BN", momentum=momentum)
    model.compile(optimizer=SGD(learning_rate=0.1), loss="binary_crossentropy")
    order = np.random.default_rng(seed)
    record = {"step": [], "moving_mean": [], "true_mean": [], "acc_moving": [],
              "acc_population": []}
    for step in range(1, STEPS + 1):
        rows = order.choice(len(x_raw_train), size=32, replace=False)
        model.train_on_batch(x_raw_train[rows], y_tr[rows])
        if step % CHECK_EVERY == 0:
            record["step"].append(step)
            record["moving_mean"].append(model.layers[1].get_weights()[2][0])
            record["true_mean"].append(float(first_bn_input(model, x_raw_train)[:, 0].mean()))
            record["acc_moving"].append(accuracy(model.predict(x_raw_test, verbose=0), y_te))
            saved = model.get_weights()
            set_population_statistics(model, x_raw_train)
            record["acc_population"].append(accuracy(model.predict(x_raw_test, verbose=0), y_te))
            model.set_weights(saved)
    record = {key: np.array(value) for key, value in record.items()}
    # the Dense weights, to check below that momentum did not change them
    record["dense"] = [w for layer in model.layers if isinstance(layer, Dense)
                       for w in layer.get_weights()]
    return record


def momentum_conclusion(identical_seeds, n_seeds):
    """What the weights say about momentum, from the number of seeds in which the two runs'
    Dense weights came out identical."""
    if identical_seeds == n_seeds:
        return (f"identical in all {n_seeds} seeds: momentum changes only what inference mode "
                f"uses, never training itself")
    return (f"NOT identical in {n_seeds - identical_seeds} of {n_seeds} seeds: something in "
            f"training depended on the momentum here, so this run cannot separate the two")


print("\n== 3b. Moving averages that have not converged (raw inputs around 50) ==")
momentum_runs = {0.99: [], 0.9: []}
for seed in SEEDS:
    for momentum in momentum_runs:
        momentum_runs[momentum].append(momentum_run(momentum, seed))
at = list(momentum_runs[0.9][0]["step"]).index(CHECK_AT)
lost = {momentum: np.array([run["acc_population"][at] - run["acc_moving"][at]
                            for run in runs]) for momentum, runs in momentum_runs.items()}
identical = sum(all(np.array_equal(a, b) for a, b in zip(slow["dense"], fast["dense"],
                                                          strict=True))
                for slow, fast in zip(momentum_runs[0.99], momentum_runs[0.9], strict=True))

fig, axes = plt.subplots(1, 2, figsize=(14, 6), layout="constrained")
first = {momentum: runs[0] for momentum, runs in momentum_runs.items()}
for momentum, record in first.items():
    color = plot.setting_color("momentum", momentum)
    axes[0].plot(record["step"], record["moving_mean"], color=color,
                 label=f"moving mean, momentum {momentum}")
    axes[1].plot(record["step"], record["acc_moving"], color=color,
                 label=f"moving statistics, momentum {momentum}")
axes[0].plot(first[0.9]["step"], first[0.9]["true_mean"], color="black", ls=":",
             label="true mean (training set)")
axes[1].plot(first[0.9]["step"], first[0.9]["acc_population"], color="black", ls="--",
             label="exact statistics (both)")
axes[0].set_ylabel("first BN layer, unit 0: mean")
axes[0].set_title("The moving mean chases the true mean")
axes[1].set_ylabel("test accuracy (inference mode)")
axes[1].set_title("Inference is only as good as its statistics")
for ax in axes:
    ax.set_xlabel("training step (batch 32)")
    ax.legend(fontsize=12)
fig.suptitle(f"Raw inputs around 50, one run per momentum, seed {SEEDS[0]}")
save_figure(fig, args.out, "moving_average_convergence")

momentum_cost = compare(lost[0.99], lost[0.9],
                        f"accuracy lost to the moving averages after {CHECK_AT} steps",
                        ("momentum 0.99", "momentum 0.9"))
for momentum, record in first.items():
    for k in sorted({at, len(record["step"]) - 1}):
        print(f"   seed {SEEDS[0]}, momentum {momentum:<4}, step {record['step'][k]:3d}: moving "
              f"mean of unit 0 = "
              f"{record['moving_mean'][k]:6.2f} (true {record['true_mean'][k]:6.2f}); test "
              f"accuracy {record['acc_moving'][k]:.3f} with moving statistics, "
              f"{record['acc_population'][k]:.3f} with exact ones")
print("   " + momentum_cost.sentence())
print(f"   The two runs' Dense weights are {momentum_conclusion(identical, len(SEEDS))}.")

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
print("\n== 4. The 'forgot to switch to inference mode' bug ==")
acc_right, acc_sorted, acc_single, distinct = [], [], [], []
for seed, model in zip(SEEDS, kept[32], strict=True):
    x_te, y_te = data[seed][1], data[seed][3]
    one_at_a_time = training_mode_outputs(model, x_te, batch_size=1).reshape(-1)
    distinct.append(len(np.unique(one_at_a_time)))
    by_class = np.argsort(y_te, kind="stable")
    acc_sorted.append(accuracy(training_mode_outputs(model, x_te[by_class], 32), y_te[by_class]))
    acc_single.append(accuracy(one_at_a_time, y_te))
    acc_right.append(accuracy(model.predict(x_te, verbose=0), y_te))
single_value = float(training_mode_outputs(bn32, x_test[:1], 1)[0, 0])
constant_class = int(single_value > 0.5)  # the class every example gets (first seed)
constant_share = float(np.mean(y_test == constant_class))

fig, ax = plt.subplots(figsize=(10, 6), layout="constrained")
bars = {"model.predict(x)\n(inference mode)": acc_right,
        "training mode,\nclass-sorted\nbatches of 32": acc_sorted,
        "training mode,\none example\nat a time": acc_single}
means = [mean_and_se(values)[0] for values in bars.values()]
errors = [mean_and_se(values)[1] for values in bars.values()]
ax.bar(list(bars), means, yerr=errors, capsize=6,
       color=[plot.color_for("with BN"), "#999999", plot.VERMILLION])
for i, value in enumerate(means):
    ax.text(i, value + 0.02, f"{value:.3f}", ha="center")
ax.axhline(0.5, color="black", ls=":", label="chance (balanced classes)")
ax.legend(loc="upper right")
ax.set_ylim(0, 1.1)
ax.set_ylabel("test accuracy")
ax.set_title(f"One trained BN net, evaluated three ways ({len(SEEDS)} seeds)")
save_figure(fig, args.out, "forgot_inference_mode")

sorted_vs_right = compare(acc_sorted, acc_right, "test accuracy",
                          ("training mode, class-sorted batches", "model.predict"),
                          lower_is_better=False)
print(f"   One example at a time with training=True: {max(distinct)} distinct output value(s) "
      f"over {N_TEST} test examples in every one of {len(SEEDS)} seeds (first seed: p = "
      f"{single_value:.4f}, accuracy {acc_single[0]:.3f}, which is the share of class "
      f"{constant_class} in its test set, {constant_share:.3f}): the network says the same "
      f"thing for everyone." if max(distinct) == 1 else
      f"   One example at a time with training=True: up to {max(distinct)} distinct output "
      f"values over {N_TEST} test examples.")
print("   " + sorted_vs_right.sentence())

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
print(f"   {ln_vs_bn_small.sentence()}.")
needed = normalization_needed(none_vs_best, bn_small_vs_best)
print(f"   {needed[0].upper()}{needed[1:]}.")
print(f"RESULT bn_small={mean_acc['BN'][0]:.4f} ln_small={mean_acc['LayerNorm'][0]:.4f} "
      f"bn_best={mean_acc['BN'].max():.4f} none_small={mean_acc['no normalization'][0]:.4f} "
      f"ln_minus_bn_small={ln_vs_bn_small.difference:.4f} "
      f"ln_minus_bn_small_se={ln_vs_bn_small.se:.4f} "
      f"acc_moving_b2={np.mean(acc_moving):.4f} acc_population_b2={np.mean(acc_population):.4f} "
      f"flipped={flip_mean:.4f} gap_momentum_099={lost[0.99].mean():.4f} "
      f"gap_momentum_09={lost[0.9].mean():.4f} identical_weights={identical} "
      f"seeds={len(SEEDS)} distinct_one_at_a_time={max(distinct)} "
      f"acc_sorted={np.mean(acc_sorted):.4f} acc_predict={np.mean(acc_right):.4f} "
      f"ln_flat={int(not flat['LayerNorm'].clear)} "
      f"none_flat={int(not flat['no normalization'].clear)}")
headline(f"test accuracy at batch {small}: LayerNorm {ln_vs_bn_small.shown()[0]} vs BN "
         f"{ln_vs_bn_small.shown()[1]}, difference {ln_vs_bn_small.noise()}: "
         f"{ln_vs_bn_small.verdict}; no normalization {mean_acc['no normalization'][0]:.4f}")
show_figures()
