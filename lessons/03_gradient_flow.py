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
# 1. at initialization (one batch, no training, repeated over several seeds): the spread
#    (std) of every hidden layer's output, and the norm of every hidden kernel's gradient;
# 2. during training (SGD), with the diagnostics of Karpathy's *makemore* (part 3): the
#    gradient norm of every layer over the steps; histograms of each layer's activations,
#    with the share of saturated sigmoids or dead ReLUs; histograms of the gradients each
#    layer receives; and the update-to-weight ratio of each layer against the 1e-3 rule of
#    thumb. Each figure comes after a paragraph that says what to look for first.
#
# Every comparison printed is a mean over seeds with its standard error (`tinynet.stats`).
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

import matplotlib.pyplot as plt
import numpy as np

import tinynet
from tinynet import plot, stats
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
STEPS = 100 if args.quick else 400   # training steps (rounded up to whole epochs)
EVERY = 20                # record every EVERY training steps
N_SAMPLES = 1500 if args.quick else 4000
N_SEEDS_INIT = 2 if args.quick else 10   # one training step each: cheap
N_SEEDS_TRAIN = 2 if args.quick else 5   # whole trainings
# the hidden layers drawn in the per-layer figures: the first, the last and two between
# (ten lines in one panel cannot be read from the back of a room)
SHOWN = [int(i) for i in np.linspace(1, DEPTH, 4).round()]

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


def short_label(activation, bn):
    """For panel titles: each activation is trained with one init only."""
    return f"{activation}, {'with BN' if bn else 'without BN'}"


# %% [markdown]
# ## 1. At initialization: one batch through six networks
#
# We ask the model to keep everything of one training step (`model.trace_next_step = True`:
# each layer's input and output, and the gradient dL/d(input) that reached it), measured
# before the weights move. A Dense layer's kernel gradient is its input times the gradient
# of its output, dL/dW = x^T @ dL/dz: we compute it from the trace, as the layer does.
# Each network is built and measured from several seeds.

# %%
def step_at_init(activation, init, bn, seed, depth=DEPTH):
    """One traced training step of a fresh network. Returns a dict of
    'std'       (depth,)  std of each hidden activation's output, layer 1 first
    'grad'      (depth,)  ||dL/dW|| of each hidden Dense kernel
    'gradients' list of (BATCH, WIDTH) arrays: dL/d(output) of each hidden activation."""
    tinynet.set_seed(seed)
    model = build(activation, init, bn, depth)
    rows = np.random.default_rng(seed).choice(len(x_train), size=BATCH, replace=False)
    model.trace_next_step = True
    model.train_on_batch(x_train[rows], y_train[rows])
    trace = model.trace
    names = [layer.name for layer in model.layers]
    hidden = [i for i, name in enumerate(names) if name.startswith(f"{activation}_")]
    dense = [i for i, name in enumerate(names) if name.startswith("dense_")]
    # grad_inputs[i + 1], the gradient of layer i + 1's input, is that of layer i's output
    grad = [np.linalg.norm(trace["inputs"][i].T @ trace["grad_inputs"][i + 1]) for i in dense]
    return {"std": np.array([trace["outputs"][i].std() for i in hidden]),
            "grad": np.array(grad),
            "gradients": [trace["grad_inputs"][i + 1] for i in hidden]}


CONFIGS = [(SQUASHING, "glorot"), ("relu", "small"), ("relu", "large")]
SEEDS_INIT = [args.seed + k for k in range(N_SEEDS_INIT)]
at_init = {(activation, init, bn): [step_at_init(activation, init, bn, seed)
                                    for seed in SEEDS_INIT]
           for activation, init in CONFIGS for bn in (False, True)}


def per_seed(key, what):
    """(seeds, depth) array of `what` ('std' or 'grad') for network `key`."""
    return np.array([measured[what] for measured in at_init[key]])


def log_ratio(grads):
    """log10(||dL/dW|| of layer 1 / that of the last layer), one per seed: 0 means equal,
    -3 means the first layer gets a thousand times less gradient than the last. NaN for a
    seed where no gradient reached the layers at all (0 / 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(grads[:, 0] / grads[:, -1])


print(f"At initialization (one batch of {BATCH}, mean over {N_SEEDS_INIT} seeds; ± is the "
      f"s.e. over the seeds):")
print(f"  {'network':52s} {'std, layer 1':>13s} {'layer ' + str(DEPTH):>10s}   "
      f"log10(grad 1 / grad {DEPTH})")
for key in at_init:
    std = per_seed(key, "std").mean(axis=0)
    ratio = log_ratio(per_seed(key, "grad"))
    if np.isfinite(ratio).all():
        shown = "{:+.2f} ± {:.2f}".format(*stats.mean_and_se(ratio))
    else:  # the output sigmoid saturated: its clipped probabilities pass back nothing
        shown = f"no gradient at all in {np.sum(~np.isfinite(ratio))} of {len(ratio)} seeds"
    print(f"  {label(*key):52s} {std[0]:13.3g} {std[-1]:10.3g}   {shown}")

# %% [markdown]
# **What to look at.** One column per kind of network, blue with BN, orange without; the
# line is the mean over seeds (geometric, as the scale is logarithmic), the band one
# standard error. Top row: the spread of each layer's output. Without BN it drifts with
# depth: for ReLU with small weights it collapses toward 0, with large weights it explodes.
# With BN every layer has about the same spread, whatever the init (for ReLU, the theory
# for a standard normal input cut at 0 gives sqrt(1/2 - 1/(2 pi)) = 0.584, the grey line).
# Bottom row: the gradient norm of each kernel. Look at the slope: without BN the sigmoid
# network's first layer gets a tiny fraction of the last layer's gradient. With BN, is the
# line flat?

# %%
plot.use_style()
THEORY_RELU_BN = np.sqrt(0.5 - 1 / (2 * np.pi))
depth_axis = np.arange(1, DEPTH + 1)


def log_band(ax, values, color, name):
    """Geometric mean over seeds of (seeds, depth) values, with a band of one standard error
    of the log10 values. Values of 0 (no gradient at all) cannot go on a log scale: the
    panel then says so instead."""
    if not np.all(values > 0):
        ax.text(0.5, 0.5 if "without" in name else 0.35, f"{name}: no gradient at all\n"
                f"(the output sigmoid is saturated)", transform=ax.transAxes, ha="center",
                color=color)
        return
    logs = np.log10(values)
    mean, se = logs.mean(axis=0), logs.std(axis=0, ddof=1) / np.sqrt(len(logs))
    ax.plot(depth_axis, 10 ** mean, "o-", color=color, label=name)
    ax.fill_between(depth_axis, 10 ** (mean - se), 10 ** (mean + se), color=color, alpha=0.25,
                    linewidth=0)


fig, axes = plt.subplots(2, len(CONFIGS), figsize=(6 * len(CONFIGS), 9.5), sharey="row",
                         layout="constrained")
for column, (activation, init) in enumerate(CONFIGS):
    for bn in (False, True):
        color = plot.color_for("with BN" if bn else "without BN")
        kind = "with BN" if bn else "without BN"
        log_band(axes[0, column], per_seed((activation, init, bn), "std"), color, kind)
        log_band(axes[1, column], per_seed((activation, init, bn), "grad"), color, kind)
    axes[0, column].set_title(f"{activation}, {INITS[init][0]}")
    axes[1, column].set_xlabel("hidden layer (1 = next to the input)")
    if activation == "relu":
        axes[0, column].axhline(THEORY_RELU_BN, color="grey", lw=1.5, ls=":")
for ax in axes.ravel():
    ax.set_yscale("log")
    ax.set_xticks(depth_axis)
axes[0, 0].set_ylabel("std of the layer's output")
axes[1, 0].set_ylabel("||dL/d kernel||")
plot.shared_legend(fig, axes[0, 0])
fig.suptitle(f"{DEPTH} hidden layers of {WIDTH}, one batch of {BATCH}, before any training "
             f"(mean over {N_SEEDS_INIT} seeds)")
save_figure(fig, args.out, "1_init_activations_and_gradients")

# %% [markdown]
# Does the gradient profile with BN depend on depth? Yang et al. (2019, *A Mean Field
# Theory of Batch Normalization*, ICLR 2019, arXiv:1902.08129; its abstract on arXiv and on
# research.google) predict that in a batch-normalized network at initialization the
# gradient grows exponentially with depth on its way to the input. The
# same measurement on a ReLU + BN network twice as deep tells whether it shows here (the
# summary at the end prints it, item 3).

# %%
deeper = np.array([step_at_init("relu", "small", True, seed, depth=2 * DEPTH)["grad"]
                   for seed in SEEDS_INIT])
depth_effect = stats.compare(log_ratio(deeper), log_ratio(per_seed(("relu", "small", True),
                                                                     "grad")),
                             "ReLU + BN, N(0, 0.05^2): log10(grad of layer 1 / grad of the "
                             "last layer)", names=(f"{2 * DEPTH} layers", f"{DEPTH} layers"),
                             lower_is_better=None, fmt="{:+.2f}")
# printed once, in the summary (item 3), next to what it means

# %% [markdown]
# ## 2. Training: sigmoid and poorly initialized ReLU, with and without BN
#
# Four networks, the same data, SGD with learning rate 0.1, repeated from several seeds.
# For every seed a `Recorder` keeps, every few steps, each layer's gradient norm and the
# relative size of each update; for the first seed it also keeps histograms of every
# layer's output. The figures show four of the ten hidden layers (`SHOWN`), dark near the
# input, light near the output.

# %%
TRAINED = [(SQUASHING, "glorot"), ("relu", "small")]
SEEDS_TRAIN = [args.seed + k for k in range(N_SEEDS_TRAIN)]
steps_per_epoch = int(np.ceil(len(x_train) / BATCH))
epochs = int(np.ceil(STEPS / steps_per_epoch))


def train(activation, init, bn, seed):
    """Train one network from `seed`; return its validation accuracy and its Recorder."""
    tinynet.set_seed(seed)
    model = build(activation, init, bn)
    recorder = Recorder(every=EVERY, histograms=seed == args.seed)
    model.fit(x_train, y_train, batch_size=BATCH, epochs=epochs, verbose=0,
              callbacks=[recorder])
    return model.evaluate(x_val, y_val, verbose=0)[1], recorder


runs = {(activation, init, bn): [train(activation, init, bn, seed) for seed in SEEDS_TRAIN]
        for activation, init in TRAINED for bn in (False, True)}
first_seed = {short_label(activation, bn): results[0][1]  # the Recorders of seed args.seed
              for (activation, _, bn), results in runs.items()}
accuracy = {key: np.array([result[0] for result in results]) for key, results in runs.items()}

# %% [markdown]
# ### The gradient norm of each layer during training
#
# **What to look for first:** how far apart the lines of one panel are. Lines many orders of
# magnitude apart mean the first layers learn far slower than the last ones. Then: does a
# line sink toward zero as training goes on?

# %%
fig = plot.gradient_flow(first_seed, layers=[f"dense_{i}" for i in SHOWN],
                         title=f"Gradient norm of four kernels during training (seed {args.seed})")
save_figure(fig, args.out, "2_gradient_norms_over_training")

# %% [markdown]
# ### Activation histograms, with % saturated or % dead
#
# **What to look for first:** the percentage in each legend. A sigmoid is *saturated* when
# its output is near 0 or 1, where its slope, and so the gradient through it, is almost 0;
# a ReLU unit is *dead* when it outputs 0 for every sample of the batch, so it passes back
# no gradient at all. Then the shapes: a tall spike means the layer's outputs hardly vary.
# The y axis is a density on a log scale: a ReLU layer's spike at 0 can be 100,000 times
# higher than the rest of its curve.

# %%
# layers=4: four hidden activations evenly spaced, the same layers as SHOWN
fig = plot.activation_histograms(first_seed, layers=len(SHOWN), step_index=-1, logy=True,
                                 title=f"Hidden outputs at the end of training (seed "
                                       f"{args.seed})")
save_figure(fig, args.out, "3_activation_histograms")

# %% [markdown]
# ### Gradient histograms at initialization
#
# The gradient dL/d(output) each hidden layer receives on the first step. **What to look for
# first:** the std in each legend, from the first layer (dark) to the last (light). If it
# shrinks by orders of magnitude toward the first layer, those layers barely learn. With BN,
# are the layers' histograms as wide as each other, or does the width still change with
# depth? The figure shows one seed; the printout below it measures the ratio of the first
# layer's std to the last layer's over all the seeds.

# %%
gradients = {short_label(activation, bn): {
    f"layer {i}": at_init[(activation, init, bn)][0]["gradients"][i - 1] for i in SHOWN}
    for activation, init in TRAINED for bn in (False, True)}
fig = plot.histograms(gradients, xlabel="dL/d(layer output)",
                      title=f"Gradients reaching four hidden layers at step 0 (seed {args.seed})")
save_figure(fig, args.out, "4_gradient_histograms")


def width_ratio(key):
    """log10(std of dL/d(output) at hidden layer 1 / at the last hidden layer), one per seed
    at initialization: what the legends of 4_gradient_histograms.png compare, for every seed.
    NaN for a seed where no gradient reached the last layer."""
    stds = np.array([[np.std(g) for g in measured["gradients"]] for measured in at_init[key]])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(stds[:, 0] / stds[:, -1])


def width_words(vs_flat):
    """'3.7e+05x narrower than layer 10's', '6.0x wider than ...' or 'not clearly wider or
    narrower than ...', from a Comparison of log10(std at layer 1 / std at the last layer)
    against 0 (an unclear difference is not equality: 1.5x may hide in the noise)."""
    if not vs_flat.clear:
        return f"not clearly wider or narrower than layer {DEPTH}'s at this scale"
    times = 10 ** abs(vs_flat.difference)
    return f"{times:.3g}x {'wider' if vs_flat.difference > 0 else 'narrower'} than layer {DEPTH}'s"


print(f"The spread of the gradient reaching layer 1 against layer {DEPTH}, at initialization, over "
      f"{N_SEEDS_INIT} seeds (the legends above show seed {args.seed}):")
widths = {}
for activation, init in TRAINED:
    for bn in (False, True):
        ratio = width_ratio((activation, init, bn))
        if not np.isfinite(ratio).all():
            print(f"  {short_label(activation, bn):22s}: no gradient at all in "
                  f"{np.sum(~np.isfinite(ratio))} of {len(ratio)} seeds")
            continue
        widths[activation, bn] = stats.compare(ratio, np.zeros(len(ratio)), "log10 ratio",
                                               names=("measured", "flat"), lower_is_better=None,
                                               fmt="{:+.2f}")
        print(f"  {short_label(activation, bn):22s}: log10(std 1 / std {DEPTH}) = "
              f"{widths[activation, bn].noise()}: layer 1's histogram is "
              f"{width_words(widths[activation, bn])}")

# %% [markdown]
# ### The update-to-weight ratio
#
# For each kernel, ||update|| / ||W||: how much one SGD step changes the weights, relative
# to their size, on a log10 scale. Karpathy's rough rule of thumb is about 1e-3 (the dashed
# line; from his "Building makemore Part 3" notebook in the nn-zero-to-hero repository, where
# he calls it "a good rough heuristic"; his ratio uses standard deviations, ours norms: the
# same order of magnitude). **What to look for first:** where each layer sits against that line. Far
# below (1e-5 or less), a layer hardly learns; far above (1e-1), each step rewrites it.
# Then: are the layers of one network close to each other?

# %%
fig = plot.update_ratios(first_seed, layers=[f"dense_{i}" for i in SHOWN],
                         title=f"Update-to-weight ratio of four kernels (seed {args.seed})")
save_figure(fig, args.out, "5_update_ratios")

# %% [markdown]
# ## What the measurements say
#
# Every number and every word below comes from the runs above: a comparison is a mean over
# seeds with its standard error. A difference counts as real only when its 95 % interval,
# mean ± t·s.e., leaves out 0: t is 2.26 for the 10 seeds at initialization, 2.78 for the 5
# trainings, 12.7 for the 2 seeds of a quick run (few seeds need a wide margin). Otherwise it
# is called noise.


# %%
def factor(vs_flat, last):
    """How layer 1's gradient compares with the last layer's (`last`, e.g. "layer 10's"), from a
    Comparison of log10(layer 1 / last layer) against 0 (flat): 'a 4.7e+05x smaller gradient
    than layer 10's' when the ratio is clearly not 1, else 'a gradient not clearly larger or
    smaller than layer 10's (...)'."""
    if not vs_flat.clear:
        return (f"a gradient not clearly larger or smaller than {last} (log10 ratio "
                f"{vs_flat.noise()})")
    times = 10 ** abs(vs_flat.difference)
    direction = "larger" if vs_flat.difference > 0 else "smaller"
    return f"a {times:.3g}x {direction} gradient than {last}"


def profile_sentence(bn_ratios):
    """What BN does to the gradient profile across depth, from Comparison-like results of
    log10(grad 1 / grad last) against 0 (one per init)."""
    if all(r.clear and r.difference > 0 for r in bn_ratios):
        return "BN's gradients grow toward the input: BN does NOT make them equal across depth."
    if all(r.clear and r.difference < 0 for r in bn_ratios):
        return "BN's gradients shrink toward the input: BN does NOT make them equal across depth."
    if any(r.clear for r in bn_ratios):  # name each init and what its profile does
        def init(r):
            return r.what.split(":")[0]

        parts = [f"grows toward the input with {init(r)}" if r.clear and r.difference > 0
                 else f"shrinks toward the input with {init(r)}" if r.clear
                 else f"shows no clear slope with {init(r)}" for r in bn_ratios]
        return (f"BN's gradient profile {'; it '.join(parts)}: it depends on the init, "
                f"not equal across depth.")
    return ("With BN the first and last layers' gradients are not clearly different at this "
            "scale.")


def scale_sentence(std_min, std_max, profile_flat):
    """The lesson's one-line moral, said only when the numbers support it."""
    steady = 0.45 < std_min <= std_max < 0.75
    if steady and not profile_flat:
        return "What BN fixes here is the scale of the activations, not the gradient profile."
    if steady:  # an unclear profile is not a flat one
        return ("Here BN fixes the scale of the activations; the gradient profile shows no "
                "clear slope at this scale.")
    return (f"The spread of BN's ReLU outputs ranges from {std_min:.2f} to {std_max:.2f}: not "
            f"the steady 0.58 the theory gives.")


def depth_sentence(depth_effect):
    """Yang et al.'s prediction, checked against this run."""
    if depth_effect.clear and depth_effect.difference > 0:
        return ("The gradient grows more across the deeper network, as Yang et al. 2019 "
                "predict for BN at initialization.")
    if depth_effect.clear:
        return ("The deeper network's ratio is smaller: the growth with depth that Yang et al."
                " 2019 predict does not show here.")
    return ("No clear change with depth: the effect Yang et al. 2019 predict does not show "
            "at this scale.")


zeros = np.zeros(N_SEEDS_INIT)
ratios = {key: log_ratio(per_seed(key, "grad")) for key in at_init}
squash = stats.compare(ratios[(SQUASHING, "glorot", True)], ratios[(SQUASHING, "glorot", False)],
                       f"{SQUASHING}: log10(grad of layer 1 / grad of layer {DEPTH})",
                       lower_is_better=None, fmt="{:+.2f}")
squash_flat = {bn: stats.compare(ratios[(SQUASHING, "glorot", bn)], zeros, "log10 ratio",
                                 names=("measured", "flat"), lower_is_better=None, fmt="{:+.2f}")
               for bn in (False, True)}
last_layer = f"layer {DEPTH}'s"
bn_profile = [stats.compare(ratios[("relu", init, True)], zeros, f"ReLU + BN, {INITS[init][0]}:"
                            f" log10(grad 1 / grad {DEPTH})", names=("measured", "flat"),
                            lower_is_better=None, fmt="{:+.2f}") for init in ("small", "large")]
last_std = {init: stats.mean_and_se(per_seed(("relu", init, False), "std")[:, -1])
            for init in ("small", "large")}
bn_stds = np.concatenate([per_seed(("relu", init, True), "std").ravel()
                          for init in ("small", "large")])

print("\nSummary")
heading = "Vanishing gradients" if squash.mean_b < -2 else "Gradients across depth"
print(f"1. {heading}. " + squash.sentence())
print(f"   Without BN layer 1 gets {factor(squash_flat[False], last_layer)}; with BN, "
      f"{factor(squash_flat[True], last_layer)}.")
print(f"2. ReLU without BN: the std of layer {DEPTH}'s output is {last_std['small'][0]:.2g} ± "
      f"{last_std['small'][1]:.1g} s.e. with N(0, 0.05^2) weights and "
      f"{last_std['large'][0]:.3g} ± {last_std['large'][1]:.2g} s.e. with N(0, 1) weights, "
      f"over {N_SEEDS_INIT} seeds.")
print(f"   With BN every hidden ReLU output has std between {bn_stds.min():.3f} and "
      f"{bn_stds.max():.3f}, at every depth, for both inits and every seed (theory 0.584).")
for number, result in zip(("3.", "  "), bn_profile, strict=True):
    print(f"{number} " + result.sentence())
print("   " + profile_sentence(bn_profile))
if all((activation, True) in widths for activation, _ in TRAINED):
    print("   In 4_gradient_histograms.png (the gradient reaching each layer's output), layer "
          "1's histogram with BN is: " + "; ".join(
              f"{activation}, {width_words(widths[activation, True])}"
              for activation, _ in TRAINED) + f" ({N_SEEDS_INIT} seeds).")
print("   " + depth_effect.sentence())
print("   " + depth_sentence(depth_effect))
print("   " + scale_sentence(bn_stds.min(), bn_stds.max(),
                             profile_flat=not any(r.clear for r in bn_profile)))
print(f"4. Training ({epochs * steps_per_epoch} steps of SGD, learning rate {LEARNING_RATE}, "
      f"{N_SEEDS_TRAIN} seeds), validation accuracy:")
trained = {}
for activation, init in TRAINED:
    trained[activation] = stats.compare(
        accuracy[(activation, init, True)], accuracy[(activation, init, False)],
        f"   {activation}, {INITS[init][0]}", lower_is_better=False)
    print(trained[activation].sentence())


def end_of_training(key, what):
    """Per training seed: `what` of the recorded layers, averaged over the layers and the last
    quarter of the records. what: 'saturated_fraction', 'dead_fraction' or
    'update_ratio/kernel' (the last as log10; a step that changed nothing, ratio 0, counts
    as 1e-12, far below anything that learns)."""
    prefix = "dense_" if what.startswith("update") else f"{key[0]}_"  # hidden layers only
    values = []
    for _, recorder in runs[key]:
        layers = [name for name in recorder.layer_names
                  if name.startswith(prefix) and what in recorder.keys(name)]
        table = np.array([recorder.get(name, what) for name in layers])  # (layers, records)
        tail = table[:, -max(len(recorder.steps) // 4, 1):]
        if what.startswith("update"):
            values.append(np.nanmean(np.log10(np.maximum(tail, 1e-12))))
        else:
            values.append(tail.mean())
    return np.array(values)


saturated = stats.compare(end_of_training((SQUASHING, "glorot", True), "saturated_fraction"),
                          end_of_training((SQUASHING, "glorot", False), "saturated_fraction"),
                          f"5. Saturated {SQUASHING} outputs at the end (mean over layers)",
                          fmt="{:.1%}", lower_is_better=None)
dead = stats.compare(end_of_training(("relu", "small", True), "dead_fraction"),
                     end_of_training(("relu", "small", False), "dead_fraction"),
                     "   Dead ReLU units at the end (mean over layers)", fmt="{:.1%}",
                     lower_is_better=None)
if saturated.shown()[:2] == ("0.00", "0.00"):  # (almost) nothing saturated: no contrast to test
    none = "none" if saturated.mean_a == saturated.mean_b == 0 else "under 0.005%"
    print(f"5. Saturated {SQUASHING} outputs at the end (mean over layers): {none}, both with BN "
          f"and without BN ({saturated.n} seeds).")
else:
    print(saturated.sentence())
print(dead.sentence())
for activation, init in TRAINED:
    update = stats.compare(end_of_training((activation, init, True), "update_ratio/kernel"),
                           end_of_training((activation, init, False), "update_ratio/kernel"),
                           f"{'6.' if activation == SQUASHING else '  '} {activation}: log10 "
                           f"update-to-weight ratio at the end (-3 is the 1e-3 rule of thumb)",
                           lower_is_better=None, fmt="{:+.2f}")
    print(update.sentence())

print("RESULT " + " ".join([
    f"sigmoid_plain_log_ratio={squash.mean_b:.4f}",
    f"sigmoid_bn_log_ratio={squash.mean_a:.4f}",
    f"sigmoid_log_ratio_se={squash.se:.4f}",
    f"sigmoid_bn_log_ratio_se={squash_flat[True].se:.4f}",
    f"sigmoid_bn_flat={int(not squash_flat[True].clear)}",
    f"relu_small_bn_log_ratio={bn_profile[0].mean_a:.4f}",
    f"relu_large_bn_log_ratio={bn_profile[1].mean_a:.4f}",
    f"relu_small_bn_log_ratio_deeper={depth_effect.mean_a:.4f}",
    f"relu_small_plain_last_std={last_std['small'][0]:.6g}",
    f"relu_large_plain_last_std={last_std['large'][0]:.6g}",
    f"relu_bn_std_min={bn_stds.min():.6g}",
    f"relu_bn_std_max={bn_stds.max():.6g}",
    f"sigmoid_plain_accuracy={trained[SQUASHING].mean_b:.6g}",
    f"sigmoid_bn_accuracy={trained[SQUASHING].mean_a:.6g}",
    f"relu_plain_accuracy={trained['relu'].mean_b:.6g}",
    f"relu_bn_accuracy={trained['relu'].mean_a:.6g}",
    f"relu_accuracy_se={trained['relu'].se:.6g}",
    f"seeds_init={N_SEEDS_INIT} seeds_train={N_SEEDS_TRAIN}",
    *[f"{activation}_{'bn' if bn else 'plain'}_width_log_ratio={result.mean_a:.4f}"
      for (activation, bn), result in widths.items()],
]))
headline(f"{SQUASHING}, {DEPTH} layers, at initialization: layer 1 gets "
         f"{factor(squash_flat[False], last_layer)} without BN; with BN, "
         f"{factor(squash_flat[True], last_layer)}; BN - no BN in log10: "
         f"{squash.noise()}: {squash.verdict}")

# %% [markdown]
# ## Try this
# - Set `DEPTH = 20`: how do the sigmoid network's ratio and BN's ratio change?
# - Add He init, `"he": ("He normal", "he_normal")`, to `INITS` and put `("relu", "he")` in
#   `CONFIGS`: does the spread still collapse without BN?
# - Set `SQUASHING = "tanh"`: tanh is centred at 0 and its derivative reaches 1. Does the
#   gradient still vanish? Which layers saturate?
# - Raise the learning rate to 1.0: which networks still train, and where do their update
#   ratios sit against the 1e-3 line?

# %%
show_figures()
