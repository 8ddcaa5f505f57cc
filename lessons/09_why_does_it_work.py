# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 09: Why does batch normalization work? (Santurkar et al. 2018)
#
# **The question.** The BN paper's explanation is that BN reduces *internal covariate
# shift* (ICS): the distribution of each layer's inputs changing during training. Santurkar,
# Tsipras, Ilyas and Madry ("How Does Batch Normalization Help Optimization?", NeurIPS
# 2018) tested that story with two experiments, which we repeat here at classroom scale:
#
# 1. **The loss landscape along the gradient.** Every few training steps, stop, take the
#    current batch and its gradient g, and look a little way down the slope: at the points
#    `w - eta * g` for 8 step sizes eta, how much does the loss vary, and how much does the
#    gradient change ("gradient predictiveness")? If a small range of step sizes all give
#    similar losses and gradients, the gradient is a reliable guide, and large steps are
#    safe. The paper finds BN makes the landscape smoother in exactly this sense.
# 2. **Noisy BN.** Add deliberate covariate shift *after* each BN layer: random noise whose
#    mean and variance change at every step. If BN worked by keeping the input distributions
#    stable, this should ruin it. Does it?
#
# Every comparison is measured over several seeds and printed with its noise (a standard
# error, "±"); the words after it are chosen from those numbers.
#
# Run it:  `python lessons/09_why_does_it_work.py`  (options: `--quick`, `--seed N`,
# `--out DIR`)

# %% tags=["parameters"]
# The lesson's options. In a notebook, change them here, then run all cells. On the command
# line, --quick, --seed N and --out DIR override them.
QUICK = False  # True: a small version that runs in a few seconds
SEED = 0       # the random seed: same seed, same numbers, same figures
OUT = None     # folder for the figures; None: figures/09 beside the lesson

# %%
import os

# Small matrices: one BLAS thread is faster than several that wait for each other.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

import tinynet
from tinynet import plot
from tinynet.classroom import headline, lesson_options, save_figure, show_figures
from tinynet.datasets import (
    batches,
    make_classification,
    make_spirals,
    standardize,
    train_test_split,
)
from tinynet.layers import Activation, BatchNormalization, Dense, Layer
from tinynet.models import Sequential
from tinynet.optimizers import SGD
from tinynet.stats import compare, mean_and_se, noise_multiple

args = lesson_options(9, "Lesson 09: why does batch normalization work? (Santurkar et al.)",
                      quick=QUICK, seed=SEED, out=OUT)
plot.use_style()

DEPTH = 6              # hidden layers of WIDTH ReLU units, as in the recipe
WIDTH = 100
BATCH = 60
LEARNING_RATE = 0.1    # plain SGD
STEP_SIZES = np.linspace(0.5, 4, 8) * LEARNING_RATE   # the paper's probe: 0.5 to 4 x lr
LANDSCAPE_STEPS = 120 if args.quick else 500           # the early window: both nets learn
PROBE_EVERY = 10
NOISE_STEPS = 150 if args.quick else 600
EVAL_EVERY = 25
SEEDS = [args.seed + k for k in range(2 if args.quick else 5)]

# One colour per network, as in every lesson: orange = without BN, blue = with BN; the two
# noisy variants take the next colour of each family (sky blue, vermillion).
COLORS = {"standard": plot.color_for("without BN"), "BN": plot.color_for("with BN"),
          "noisy BN": plot.SKY, "standard + noise": plot.VERMILLION}


def build(n_features, bn, noise=False, init="glorot_uniform", outputs=1, momentum=0.99):
    """DEPTH x [Dense(WIDTH) -> BN (if bn) -> noise (if noise) -> ReLU] -> output layer.

    outputs=1: a sigmoid unit with binary cross-entropy; more: softmax with integer labels."""
    layers = []
    for i in range(DEPTH):
        first = {"input_shape": (n_features,)} if i == 0 else {}
        layers.append(Dense(WIDTH, use_bias=not bn, kernel_initializer=init,
                            name=f"dense_{i + 1}", **first))
        if bn:
            layers.append(BatchNormalization(momentum=momentum, name=f"bn_{i + 1}"))
        if noise:
            layers.append(CovariateShiftNoise(name=f"noise_{i + 1}"))
        layers.append(Activation("relu", name=f"relu_{i + 1}"))
    if outputs == 1:
        layers.append(Dense(1, activation="sigmoid", name="output"))
        loss = "binary_crossentropy"
    else:
        layers.append(Dense(outputs, activation="softmax", name="output"))
        loss = "sparse_categorical_crossentropy"
    model = Sequential(layers)
    model.compile(optimizer=SGD(learning_rate=LEARNING_RATE), loss=loss, metrics=["accuracy"])
    return model


# %% [markdown]
# Every comparison is printed as "mean of one kind vs mean of the other; difference ± its
# standard error: verdict". The means get one digit more than the difference, and the
# difference printed is the printed means' difference, rounded: so the numbers add up as you
# read them. (The verdict is taken from the unrounded numbers.)


# %% [markdown]
# ## A layer of our own: deliberate covariate shift
#
# Writing a layer in tinynet takes two methods, `forward` and `backward`, each starting with
# the check that gives a clear error for a wrong input (`help(tinynet.layers.Layer)` lists
# the rest; this layer has no weights, so it needs no `build`). This one does what
# Santurkar et al. did after each BN layer. At every training step it draws a shift and a
# scale for the whole step,
#
#     mu_t ~ U(-0.5, 0.5),   sigma_t ~ U(1, 1.25)
#
# and then, for every element of the batch of activations a,
#
#     m ~ U(mu_t - 0.1, mu_t + 0.1),   s ~ N(sigma_t, 0.1^2),   y = s * a + m
#
# so the next layer sees a distribution whose mean and spread change from step to step:
# internal covariate shift, on purpose. The backward pass is the chain rule for an
# elementwise affine map: dL/da = s * dL/dy (m is a constant, it has no gradient to pass).
# At inference there is no noise: we apply the average transformation, y = E[s] * a + E[m]
# = 1.125 * a, as dropout rescales by its keep rate.

# %%
class CovariateShiftNoise(Layer):
    """Noise with a non-zero mean and non-unit variance that changes every training step.

    training:  y = s * a + m, s and m of shape (N, D) drawn as described above
    inference: y = MEAN_SCALE * a           (the expected transformation; E[m] = 0)
    backward:  dL/da = s * dL/dy            (inference: MEAN_SCALE * dL/dy)
    """

    MEAN_SCALE = 1.125  # E[s] = E[sigma_t] = (1 + 1.25) / 2

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.s = None  # the scales of the last forward pass, for backward

    def forward(self, a, training=False):
        self.check_input(a, training)  # a float batch of the right shape; training a bool
        if not training:
            self.s = a.dtype.type(self.MEAN_SCALE)  # one number for every element
            return a * self.s
        rng = tinynet.get_rng()  # tinynet's generator: set_seed makes the noise repeatable
        mu_t = rng.uniform(-0.5, 0.5)
        sigma_t = rng.uniform(1.0, 1.25)
        m = rng.uniform(mu_t - 0.1, mu_t + 0.1, size=a.shape).astype(a.dtype)
        self.s = rng.normal(sigma_t, 0.1, size=a.shape).astype(a.dtype)
        return self.s * a + m

    def backward(self, grad_output):
        self.check_grad_output(grad_output, self.s)  # forward ran; the shape of its output
        return grad_output * self.s


# %% [markdown]
# ## 1. The loss landscape along the gradient
#
# The data: the 20-feature binary task of the article (4,000 training samples), where
# networks with and without BN both learn from the first steps, so that we compare two
# networks doing the same thing. The networks: 6 hidden layers of 100 ReLU units, He
# init, SGD with learning rate 0.1, batches of 60.
#
# Every `PROBE_EVERY` steps, before the training step, on the current batch:
#
# 1. compute the loss L and the gradient g (training mode: BN uses this batch's statistics,
#    as in training, but the moving statistics are saved first and restored after, so the
#    probe does not change the network);
# 2. for each step size eta in 0.05 ... 0.4 (0.5 to 4 times the learning rate), move every
#    weight to `w - eta * g`, and record the loss L(eta) and the gradient g(eta) there;
# 3. put the weights back and take the normal training step.
#
# Three numbers per probe:
#
# - the **loss range**, max L(eta) - min L(eta);
# - the **gradient change**, max ||g(eta) - g|| over the step sizes (the paper's "gradient
#   predictiveness": a small change means the gradient here predicts the gradient a step away);
# - the **effective beta-smoothness**, max ||g(eta) - g|| / ||eta g||: how fast the gradient
#   changes per unit of distance moved, the paper's headline quantity. (The gradient change
#   alone can be small just because g is small and the steps are short.)
#
# Both networks see the same batches in the same order, so the probes come in pairs: at each
# probe we take the ratio (without BN) / (with BN). A mean of ratios can be driven by two or
# three spikes, so we report each seed's **median** ratio and the **share of probes** at which
# the network without BN has the larger value, then their mean over seeds with its standard
# error. A measure counts as larger without BN only when both are beyond the noise: the 95 %
# interval of the median ratio lies above 1 *and* that of the share above one half. The
# printout gives both intervals and says which one decides.

# %%
def parameters(model):
    """Every trainable array of the model, in a fixed order (read fresh: the model may hold
    them as views into one flat vector, so we write them in place, never replace them)."""
    return [value for layer in model.layers for value in layer.params.values()]


def loss_and_gradient(model, x, y):
    """L and a copy of dL/dw for every weight, on one batch in training mode."""
    y_pred = model.forward(x, training=True)
    loss = model.loss.loss(y, y_pred)
    model.backward(model.loss.gradient(y, y_pred))
    return loss, [layer.grads[key].copy() for layer in model.layers for key in layer.params]


def probe_along_gradient(model, x, y):
    """At w - eta * g for each eta in STEP_SIZES: the loss, and the change of the gradient.
    Returns (L(w), losses (8,), changes (8,), ||g||).

    Nothing about the model changes: the weights and the moving statistics (layer.state)
    are saved first and put back at the end."""
    saved_state = [{key: value.copy() for key, value in layer.state.items()}
                   for layer in model.layers]
    weights = parameters(model)
    saved_weights = [w.copy() for w in weights]
    loss, gradient = loss_and_gradient(model, x, y)
    losses, changes = [], []
    for eta in STEP_SIZES:
        for w, w0, g in zip(weights, saved_weights, gradient, strict=True):
            w[...] = w0 - eta * g
        loss_eta, gradient_eta = loss_and_gradient(model, x, y)
        losses.append(loss_eta)
        changes.append(np.sqrt(sum(np.sum((a - b) ** 2)
                                   for a, b in zip(gradient_eta, gradient, strict=True))))
    for w, w0 in zip(weights, saved_weights, strict=True):
        w[...] = w0
    for layer, state in zip(model.layers, saved_state, strict=True):
        for key, value in state.items():
            layer.state[key][...] = value
    gradient_norm = np.sqrt(sum(np.sum(g ** 2) for g in gradient))
    return loss, np.array(losses), np.array(changes), gradient_norm


def train_with_probes(bn, seed, data):
    """Train LANDSCAPE_STEPS steps, probing every PROBE_EVERY steps; return the records:
    step, loss, losses (probes, 8), loss_range, grad_change and beta (probes,)."""
    x_train, x_val, y_train, y_val = data
    tinynet.set_seed(seed)
    model = build(x_train.shape[1], bn, init="he_normal")
    record = {"step": [], "loss": [], "losses": [], "changes": [], "gradient_norm": []}
    step = 0
    while step < LANDSCAPE_STEPS:
        for x_batch, y_batch in batches(x_train, y_train, BATCH):
            if step % PROBE_EVERY == 0 and step > 0 and len(x_batch) == BATCH:
                probe = probe_along_gradient(model, x_batch, y_batch)
                for key, value in zip(("loss", "losses", "changes", "gradient_norm"), probe,
                                      strict=True):
                    record[key].append(value)
                record["step"].append(step)
            model.train_on_batch(x_batch, y_batch)
            step += 1
            if step == LANDSCAPE_STEPS:
                break
    record = {key: np.array(value) for key, value in record.items()}
    record["loss_range"] = record["losses"].max(axis=1) - record["losses"].min(axis=1)
    record["grad_change"] = record["changes"].max(axis=1)
    distance = STEP_SIZES[None, :] * record["gradient_norm"][:, None]  # ||eta g||
    record["beta"] = (record["changes"] / distance).max(axis=1)
    record["val_accuracy"] = model.evaluate(x_val, y_val, batch_size=1000, verbose=0)[1]
    return record


def landscape_data(seed):
    x, y = make_classification(n_samples=5000, n_features=20, seed=seed)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=1000, seed=seed)
    x_train, x_val = standardize(x_train, x_val)
    return x_train, x_val, y_train.reshape(-1, 1), y_val.reshape(-1, 1)


landscape = []  # one {name: record} per seed
for seed in SEEDS:
    data = landscape_data(seed)
    landscape.append({name: train_with_probes(bn, seed, data)
                      for name, bn in (("standard", False), ("BN", True))})

# %% [markdown]
# **What to look at.** Left: at each probe, the band covers every loss found along the
# gradient direction, from 0.5 to 4 times the learning rate (line: the loss at the current
# weights). A wide band means the loss changes a lot depending on how far we step. Middle: the
# gradient change; right: the effective beta-smoothness, both on a log scale. Compare the
# orange (without BN) with the blue (with BN) over the whole window, not at one spike. The
# figure shows the first seed; the printout measures all of them.

# %%
QUANTITIES = {"loss_range": "loss range", "grad_change": "gradient change",
              "beta": "effective beta-smoothness"}
print(f"== 1. The loss landscape along the gradient: {len(landscape[0]['BN']['step'])} probes in "
      f"steps {PROBE_EVERY}-{landscape[0]['BN']['step'][-1]}, {len(SEEDS)} seeds ==")
fig, axes = plt.subplots(1, 3, figsize=(18, 6), layout="constrained")
for name, record in landscape[0].items():
    steps, color = record["step"], COLORS[name]
    label = "without BN" if name == "standard" else "with BN"
    axes[0].fill_between(steps, record["losses"].min(axis=1), record["losses"].max(axis=1),
                         color=color, alpha=0.4, label=label)
    axes[0].plot(steps, record["loss"], color=color, lw=1.5)
    axes[1].plot(steps, record["grad_change"], color=color, label=label)
    axes[2].plot(steps, record["beta"], color=color, label=label)
axes[0].set_ylabel("loss at w - eta g (band), at w (line)")
axes[0].set_title("Loss along the gradient")
axes[1].set_ylabel("max ||g(w - eta g) - g(w)||")
axes[1].set_title("Gradient change")
axes[2].set_ylabel("max ||g(w - eta g) - g(w)|| / ||eta g||")
axes[2].set_title("Effective beta-smoothness")
for ax in axes:
    ax.set_xlabel("training step")
    ax.legend()
for ax in axes[1:]:
    ax.set_yscale("log")
fig.suptitle(f"{DEPTH} x {WIDTH} ReLU, He init, SGD lr {LEARNING_RATE}: steps of "
             f"{STEP_SIZES[0]:.2g} to {STEP_SIZES[-1]:.2g} along -g (first seed)")
save_figure(fig, args.out, "1_loss_landscape_and_gradient_predictiveness")


def paired_probe_summary(per_seed_standard, per_seed_bn):
    """For each seed, the median over probes of standard / BN and the share of probes where
    standard > BN; returns (median ratios (seeds,), shares (seeds,))."""
    medians, shares = [], []
    for standard, bn in zip(per_seed_standard, per_seed_bn, strict=True):
        medians.append(float(np.median(standard / bn)))
        shares.append(float(np.mean(standard > bn)))
    return np.array(medians), np.array(shares)


def smoothness_words(median_ratios, shares):
    """Words for one landscape quantity from its per-seed median ratios (without BN / with BN)
    and shares of probes where the network without BN is larger: 'larger without BN' only
    when the median ratio is above 1 AND the share above one half, each beyond the noise
    (its 95 % interval, mean ± t * s.e. with t = noise_multiple(seeds), leaves out 1 or one
    half); 'smaller without BN' for the mirror case; else no difference."""
    ratio, ratio_se = mean_and_se(median_ratios)
    share, share_se = mean_and_se(shares)
    if not (np.isfinite(ratio_se) and np.isfinite(share_se)):
        return "one seed only: no noise estimate, so no verdict"
    t = noise_multiple(len(shares))  # 2.78 for 5 seeds, 4.30 for 3: few seeds, wide margin
    above = ratio - 1 > t * ratio_se and share - 0.5 > t * share_se
    below = 1 - ratio > t * ratio_se and 0.5 - share > t * share_se
    if (above or below) and len(shares) < 3 and 0 in (ratio_se, share_se):
        # two seeds that agree exactly measure no noise (as in tinynet.stats.compare)
        return "two seeds that agree exactly measure no noise, so no verdict"
    if above:
        return "larger without BN, beyond the noise"
    if below:
        return "smaller without BN, beyond the noise"
    return "no clear difference at this scale"


def smoothness_reasons(median_ratios, shares):
    """What smoothness_words's verdict rests on, as printed: the 95 % interval (mean ± t s.e.)
    of the median ratio, against 1, and of the share of probes, against one half, and which
    of them decides. An interval is cut where the quantity cannot go (a ratio below 0, a share
    outside 0% to 100%) and says so. '' with one seed (no intervals)."""
    ratio, ratio_se = mean_and_se(median_ratios)
    share, share_se = mean_and_se(shares)
    if not (np.isfinite(ratio_se) and np.isfinite(share_se)):
        return ""
    t = noise_multiple(len(shares))
    ends = {"ratio": (ratio - t * ratio_se, ratio + t * ratio_se),
            "share": (share - t * share_se, share + t * share_se)}
    middle = {"ratio": 1.0, "share": 0.5}
    side = {name: "above" if low > middle[name] else "below" if high < middle[name]
            else "includes" for name, (low, high) in ends.items()}
    # two seeds that agree exactly measure no noise: no interval to print (tinynet.stats)
    unmeasured = {name for name, se in (("ratio", ratio_se), ("share", share_se))
                  if se == 0 and len(shares) < 3}
    texts = {}
    for name, (low, high) in ends.items():
        if name in unmeasured:
            value = f"{ratio:.2f}" if name == "ratio" else f"{share:.0%}"
            texts[name] = f"{name} {value} in both seeds, which measure no noise"
            continue
        floor, ceiling = (0.0, np.inf) if name == "ratio" else (0.0, 1.0)
        cut = low < floor or high > ceiling
        low, high = max(low, floor), min(high, ceiling)
        shown = (f"{low:.2f} to {high:.2f}" if name == "ratio"
                 else f"{low:.0%} to {high:.0%}")
        if cut:
            shown += " (cut at 0)" if name == "ratio" else " (cut to 0%-100%)"
        where = "1" if name == "ratio" else "50%"
        texts[name] = (f"{name} {shown}, "
                       + (f"includes {where}" if side[name] == "includes"
                          else f"{side[name]} {where}"))
    head = (f"95 % intervals, mean ± {t:.2f} s.e. for {len(shares)} seeds: {texts['ratio']}; "
            f"{texts['share']}.")
    if unmeasured:
        return f"{head} No verdict can rest on a quantity without a noise estimate"
    if side["ratio"] == side["share"] != "includes":
        return f"{head} Both lie {side['ratio']}, as a verdict needs"
    if side["ratio"] == side["share"] == "includes":
        return f"{head} Neither leaves out its no-difference value"
    if "includes" in side.values():
        deciding = "ratio" if side["ratio"] == "includes" else "share"
        where = "1" if deciding == "ratio" else "50%"
        return (f"{head} The {deciding}'s interval decides: it includes {where}, and a verdict "
                f"needs both")
    return f"{head} They point opposite ways, so no clear difference"


def landscape_conclusion(words):
    """The part-1 conclusion from the verdict of each quantity (dict name -> words)."""
    smoother = [name for name, verdict in words.items() if verdict.startswith("larger")]
    rougher = [name for name, verdict in words.items() if verdict.startswith("smaller")]
    unclear = [name for name in words if name not in smoother + rougher]
    # the opposite of the paper, beyond the noise, is said as such, not as "not clearly"
    opposite = (f"; rougher with BN in {' and '.join(rougher)}, beyond the noise"
                if rougher else "")
    if not smoother:
        return (f"the paper's effect does not show here: on none of the three measures is the "
                f"landscape clearly smoother with BN{opposite}")
    if not unclear and not rougher:
        return ("on all three measures the landscape along the gradient is smoother with BN, "
                "as Santurkar et al. describe")
    rest = f", but not clearly in {' or '.join(unclear)}" if unclear else ""
    return (f"smoother with BN in {' and '.join(smoother)}{rest}{opposite}: the paper's effect "
            f"shows only in part at this scale")


def landscape_headline(numbers, words):
    """The landscape part of the headline: each measure's median ratio without/with BN with
    its noise and its verdict, the measures beyond the noise first. numbers: key -> (ratio,
    ratio_se, share, share_se); words: label -> verdict (smoothness_words)."""
    parts = [(label, numbers[key], words[label]) for key, label in QUANTITIES.items()]
    parts.sort(key=lambda part: "beyond the noise" not in part[2])  # stable: clear ones first
    return "median per-probe ratio without/with BN: " + ", ".join(
        f"{label} {ratio:.2f} ± {ratio_se:.2f} ({verdict})"
        for label, (ratio, ratio_se, _, _), verdict in parts)


final_accuracy = {name: [run[name]["val_accuracy"] for run in landscape]
                  for name in ("standard", "BN")}
print("   " + compare(final_accuracy["standard"], final_accuracy["BN"],
                          "validation accuracy at the end of the window",
                          ("without BN", "with BN"), lower_is_better=False).sentence())
landscape_words, landscape_numbers = {}, {}
for key, label in QUANTITIES.items():
    medians, shares = paired_probe_summary([run["standard"][key] for run in landscape],
                                           [run["BN"][key] for run in landscape])
    ratio, ratio_se = mean_and_se(medians)
    share, share_se = mean_and_se(shares)
    landscape_words[label] = smoothness_words(medians, shares)
    landscape_numbers[key] = (ratio, ratio_se, share, share_se)
    reasons = smoothness_reasons(medians, shares)
    print(f"   {label}: median per-probe ratio without BN / with BN {ratio:.2f} ± "
          f"{ratio_se:.2f} s.e.; larger without BN at {share:.0%} ± {share_se:.0%} s.e. of the "
          f"probes: {landscape_words[label]}." + (f"\n      {reasons}." if reasons else ""))
print(f"   So: {landscape_conclusion(landscape_words)}.")

# %% [markdown]
# ## 2. Noisy BN: more covariate shift, same speed?
#
# For this experiment we need a task where BN makes a visible difference to the speed of
# training: five interleaved spirals in 2-D (`make_spirals`), 5,000 training samples. Four
# networks, 6 x 100 ReLU, Keras's default (Glorot) init, SGD with learning rate 0.1:
#
# - **standard**: no normalization;
# - **BN**: BN before every ReLU;
# - **noisy BN**: BN, then `CovariateShiftNoise`, before every ReLU;
# - **standard + noise**: the same noise, without BN.
#
# The BN layers use `momentum=0.9`: with Keras's 0.99 the moving averages take a couple of
# hundred steps to catch up with weights that change this fast, and the validation accuracy
# (measured in inference mode) would mostly show that lag (lesson 06), not the training.
#
# "How fast" is measured as the **mean validation accuracy over every evaluation** of the run
# (every 25 steps): the area under the accuracy curve. One evaluation of a noisy curve can be
# far from its neighbours; the mean over all of them, and then over seeds, is not.
#
# To see the covariate shift, at every step we keep what the last hidden ReLU received
# (`model.trace_next_step = True` makes the model keep every layer's input for one step).
# For each of its 100 units we take the batch mean and std, and measure how far the mean
# moves from one step to the next, in units of the spread:
# **shift = mean over units of |mean_t - mean_(t-1)| / std_(t-1)**.

# %%
N_CLASSES = 5
LAST_RELU = f"relu_{DEPTH}"
UNIT = 0  # the unit whose input distribution we draw
NOISE_CONFIGS = {"standard": (False, False), "BN": (True, False), "noisy BN": (True, True),
                 "standard + noise": (False, True)}


def spirals_data(seed):
    x, y = make_spirals(n_samples=6000, n_classes=N_CLASSES, noise=0.2, turns=1.5, seed=seed)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=1000, seed=seed)
    x_train, x_val = standardize(x_train, x_val)
    return x_train, x_val, y_train, y_val


def train_with_trace(bn, noise, seed, data):
    """Train NOISE_STEPS steps; keep validation accuracy and the last ReLU's input stats."""
    x_train, x_val, y_train, y_val = data
    tinynet.set_seed(seed)
    model = build(x_train.shape[1], bn, noise, outputs=N_CLASSES, momentum=0.9)
    index = [layer.name for layer in model.layers].index(LAST_RELU)
    run = {"eval_step": [], "val_accuracy": [], "step": [], "mean": [], "std": [],
           "percentiles": []}
    step = 0
    while step < NOISE_STEPS:
        for x_batch, y_batch in batches(x_train, y_train, BATCH):
            if step % EVAL_EVERY == 0:
                run["eval_step"].append(step)
                run["val_accuracy"].append(
                    model.evaluate(x_val, y_val, batch_size=1000, verbose=0)[1])
            model.trace_next_step = True
            model.train_on_batch(x_batch, y_batch)
            inputs = model.trace["inputs"][index]  # what the last ReLU saw in this step
            if len(inputs) == BATCH:  # skip the short last batch of an epoch
                run["step"].append(step)
                run["mean"].append(inputs.mean(axis=0))
                run["std"].append(inputs.std(axis=0))
                run["percentiles"].append(np.percentile(inputs[:, UNIT], [15, 50, 85]))
            step += 1
            if step == NOISE_STEPS:
                break
    run["eval_step"].append(step)
    run["val_accuracy"].append(model.evaluate(x_val, y_val, batch_size=1000, verbose=0)[1])
    run = {key: np.array(value) for key, value in run.items()}
    consecutive = np.diff(run["step"]) == 1
    shift = np.abs(np.diff(run["mean"], axis=0)) / (run["std"][:-1] + 1e-8)
    run["shift"] = shift[consecutive].mean()
    run["speed"] = run["val_accuracy"].mean()  # the area under the accuracy curve
    return run


noisy = []  # one {name: run} per seed
for seed in SEEDS:
    data = spirals_data(seed)
    noisy.append({name: train_with_trace(*config, seed, data)
                  for name, config in NOISE_CONFIGS.items()})

# %% [markdown]
# **What to look at.** Left: validation accuracy against training step, the mean over seeds
# with a band of one standard error (chance is 0.2). Which curves leave chance first? Where
# does the noisy-BN network sit: with BN, or with the standard network? Right: one unit's
# input to the last ReLU in the last 100 training steps, for the first seed only: at each
# step a bar from its 15th to its 85th percentile over the batch (the spread within the
# step) and a dot at its batch mean. With BN (in training mode) the dots stay level: BN pins
# every unit's batch mean to beta and its spread to gamma. With the noise the dot jumps from
# step to step by more than the bars are long: that is the covariate shift we added. Each
# panel has its own y scale. The panel titles give the shift per step measured over every
# unit and every seed (mean ± s.e. over seeds), not the drawn unit's.

# %%
DRAWN_STEPS = 100  # the last steps of the first seed's run, drawn on the right
shifts = {name: np.array([run[name]["shift"] for run in noisy]) for name in NOISE_CONFIGS}
speed = {name: np.array([run[name]["speed"] for run in noisy]) for name in NOISE_CONFIGS}
print(f"\n== 2. Noisy BN: {len(NOISE_CONFIGS)} networks, {NOISE_STEPS} steps, {len(SEEDS)} "
      f"seeds ==")
fig = plt.figure(figsize=(18, 8.5), layout="constrained")
grid = fig.add_gridspec(2, 3, width_ratios=[1.5, 1, 1])
ax_acc = fig.add_subplot(grid[:, 0])
for name in NOISE_CONFIGS:
    curves = np.array([run[name]["val_accuracy"] for run in noisy])  # (seeds, evaluations)
    mean = curves.mean(axis=0)
    se = curves.std(axis=0, ddof=1) / np.sqrt(len(curves)) if len(curves) > 1 else 0 * mean
    steps = noisy[0][name]["eval_step"]
    ax_acc.plot(steps, mean, "o-", ms=4, color=COLORS[name], label=name)
    ax_acc.fill_between(steps, mean - se, mean + se, color=COLORS[name], alpha=0.2, lw=0)
ax_acc.axhline(1 / N_CLASSES, color="grey", lw=1, ls=":")
ax_acc.set_xlabel("training step")
ax_acc.set_ylabel("validation accuracy (inference mode)")
ax_acc.set_title(f"5 spirals: mean ± s.e. of {len(SEEDS)} seeds (band)")
ax_acc.legend()
for k, (name, run) in enumerate(noisy[0].items()):
    ax = fig.add_subplot(grid[k // 2, 1 + k % 2])
    drawn = run["step"] >= NOISE_STEPS - DRAWN_STEPS
    steps, (p15, _, p85) = run["step"][drawn], run["percentiles"][drawn].T
    ax.vlines(steps, p15, p85, color=COLORS[name], alpha=0.45, lw=2.5)
    ax.plot(steps, run["mean"][drawn, UNIT], "-o", color=COLORS[name], lw=0.8, ms=3)
    shift, shift_se = mean_and_se(shifts[name])
    ax.set_title(f"{name}: shift {shift:.3f} ± {shift_se:.3f}")
    ax.set_xlabel(f"training step (seed {SEEDS[0]})")
    if k % 2 == 0:
        ax.set_ylabel(f"{LAST_RELU} input, unit {UNIT}")
fig.legend([Line2D([], [], color="grey", alpha=0.45, lw=2.5),
            Line2D([], [], color="grey", marker="o", lw=0.8, ms=3)],
           ["15th to 85th percentile over the batch (one step)", "batch mean"],
           loc="outside lower right", ncol=2, frameon=False)
fig.suptitle("Noisy BN: deliberate covariate shift after every BN layer\nRight: one unit of the "
             f"first seed, last {DRAWN_STEPS} steps; in the titles, the shift per step over all "
             f"units, mean ± s.e. of {len(SEEDS)} seeds")
save_figure(fig, args.out, "2_noisy_bn_accuracy_and_distributions")


# %% [markdown]
# ## What the measurements say
#
# Every sentence below is built from the numbers measured above.

# %%
def noisy_bn_speed_words(noisy_vs_bn, noisy_vs_standard):
    """How fast noisy BN trains, from two Comparisons of the mean validation accuracy
    (noisy BN - BN, noisy BN - standard). No clear difference from BN is said as such, never
    as 'as fast as BN'."""
    if not np.isfinite(noisy_vs_bn.se):
        return "one seed only: no noise estimate, so no verdict"
    if not noisy_vs_bn.clear:
        as_bn = (f"neither clearly slower nor clearly faster than BN (difference "
                 f"{noisy_vs_bn.shown()[2]}: {noisy_vs_bn.verdict})")
    elif noisy_vs_bn.difference < 0:
        as_bn = f"slower than BN, beyond the noise (by {noisy_vs_bn.shown()[2][1:]})"
    else:
        as_bn = f"faster than BN, beyond the noise (by {noisy_vs_bn.shown()[2][1:]})"
    if noisy_vs_standard.clear and noisy_vs_standard.difference > 0:
        return f"{as_bn}, and faster than the standard network, beyond the noise"
    if noisy_vs_standard.clear:
        return f"{as_bn}, and slower than the standard network, beyond the noise"
    return f"{as_bn}, and NOT clearly faster than the standard network"


def covariate_shift_conclusion(more_shift, bn_vs_standard, noisy_vs_bn, noisy_vs_standard,
                               kept, half):
    """The lesson's last sentence, from whether noisy BN's inputs shifted more than the
    standard network's (bool), the Comparisons of mean validation accuracy BN - standard
    (the advantage the story is about), noisy BN - BN and noisy BN - standard, `kept`, the
    share of BN's lead over the standard network that noisy BN keeps, (noisy BN - standard) /
    (BN - standard), a point estimate, and `half`, the
    paired Comparison of noisy BN's gain over the standard network with half of BN's gain
    (beyond the noise when more, or less, than half of the lead survives)."""
    if not more_shift:
        return ("noisy BN's inputs did not shift clearly more than the standard network's, so "
                "this run does not test the covariate-shift story")
    if not (bn_vs_standard.clear and bn_vs_standard.difference > 0):
        return (f"BN itself is not clearly faster than the standard network here "
                f"({bn_vs_standard.noise()}), so there is no advantage for the added shift to "
                f"undo: this run cannot test the covariate-shift story")
    if noisy_vs_bn.clear and noisy_vs_bn.difference > 0:  # faster than BN: nothing undone
        return ("with more covariate shift than the network without BN, noisy BN trains even "
                "faster than BN, beyond the noise: stable input distributions are not what "
                "makes BN work here")
    if noisy_vs_standard.clear and noisy_vs_standard.difference < 0:
        return ("noisy BN is slower than the standard network, beyond the noise: here the "
                "added covariate shift undoes BN's advantage, as the covariate-shift story "
                "predicts")
    if not noisy_vs_standard.clear:
        return ("noisy BN is not clearly faster than the standard network: once the shift is "
                "added, BN's advantage no longer shows beyond the noise, as the "
                "covariate-shift story would predict (these runs cannot tell whether any of "
                "it is left)")
    start = "with more covariate shift than the network without BN, noisy BN"
    if noisy_vs_bn.clear and noisy_vs_bn.difference > 0:
        return (f"{start} trains even faster than BN, beyond the noise: stable input "
                f"distributions are not what makes BN work here")
    if not noisy_vs_bn.clear:
        return (f"{start} shows no clear difference from BN in how fast it trains "
                f"({noisy_vs_bn.noise()}): these runs cannot tell whether the added shift "
                f"costs BN anything, so they neither support nor rule out the story that BN "
                f"works by keeping input distributions stable")
    lead = (f"{start} is slower than BN and keeps {kept:.0%} of BN's lead over the standard "
            f"network (a point estimate)")
    if half.clear and half.difference > 0:
        return (f"{lead}; more than half of the lead survives the added shift, beyond the "
                f"noise, so stable input distributions are not where most of BN's gain comes "
                f"from")
    if half.clear:
        return (f"{lead}; less than half of the lead survives, beyond the noise: most of BN's "
                f"gain is lost to the added shift")
    return (f"{lead}; whether that is more or less than half is not beyond the noise, so "
            f"these runs cannot tell whether most of BN's gain survives the added shift")


def shift_words(comparison):
    """Words for a Comparison of shift per step (noisy BN - other): more, less, or no
    clear difference."""
    if not comparison.clear:
        return "no clear difference at this scale"
    more = comparison.difference > 0
    return (f"noisy BN's inputs shift {'more' if more else 'less'} than the "
            f"{comparison.names[1]} network's, beyond the noise")


print(f"Input of {LAST_RELU}: shift per step in stds (all units), mean ± s.e. over {len(SEEDS)} "
      f"seeds: " + ", ".join(f"{name} {mean_and_se(values)[0]:.3f} ± "
                                          f"{mean_and_se(values)[1]:.3f}"
                                          for name, values in shifts.items()) + ".")
shift_vs_standard = compare(shifts["noisy BN"], shifts["standard"], "shift per step",
                            ("noisy BN", "standard"))
print(f"   shift per step: {shift_vs_standard.shown()[0]} noisy BN vs "
      f"{shift_vs_standard.shown()[1]} standard; difference {shift_vs_standard.noise()}: "
      f"{shift_words(shift_vs_standard)}")
more_shift = shift_vs_standard.clear and shift_vs_standard.difference > 0
what = f"mean validation accuracy over steps 0-{NOISE_STEPS}"
noisy_vs_bn = compare(speed["noisy BN"], speed["BN"], what, ("noisy BN", "BN"),
                      lower_is_better=False)
noisy_vs_standard = compare(speed["noisy BN"], speed["standard"], what,
                            ("noisy BN", "standard"), lower_is_better=False)
noise_alone = compare(speed["standard + noise"], speed["standard"], what,
                      ("standard + noise", "standard"), lower_is_better=False)
bn_vs_standard = compare(speed["BN"], speed["standard"], what, ("BN", "standard"),
                         lower_is_better=False)  # the advantage the story explains
for comparison in (bn_vs_standard, noisy_vs_bn, noisy_vs_standard, noise_alone):
    print("   " + comparison.sentence())
kept = noisy_vs_standard.difference / (speed["BN"].mean() - speed["standard"].mean())
# Does noisy BN keep more than half of BN's lead? Paired over seeds: noisy BN's gain over the
# standard network against half of BN's gain, (noisy - standard) - (BN - standard) / 2.
half = compare(speed["noisy BN"] - speed["standard"], (speed["BN"] - speed["standard"]) / 2,
               "gain in mean validation accuracy over the standard network",
               ("noisy BN", "half of BN's"), lower_is_better=None)
print(f"   Noisy BN trains {noisy_bn_speed_words(noisy_vs_bn, noisy_vs_standard)}.")
print("   " + half.sentence())
conclusion = covariate_shift_conclusion(more_shift, bn_vs_standard, noisy_vs_bn,
                                        noisy_vs_standard, kept, half)
print(f"   So: {conclusion}.")

print("RESULT " + " ".join([
    f"seeds={len(SEEDS)}",
    *[f"{key}_median_ratio={value[0]:.6g} {key}_median_ratio_se={value[1]:.6g} "
      f"{key}_share={value[2]:.6g} {key}_share_se={value[3]:.6g}"
      for key, value in landscape_numbers.items()],
    *[f"shift_{name.replace(' + ', '_').replace(' ', '_')}={values.mean():.6g}"
      for name, values in shifts.items()],
    *[f"speed_{name.replace(' + ', '_').replace(' ', '_')}={values.mean():.6g}"
      for name, values in speed.items()],
    f"noisy_minus_bn={noisy_vs_bn.difference:.6g} noisy_minus_bn_se={noisy_vs_bn.se:.6g}",
]))
headline(landscape_headline(landscape_numbers, landscape_words)
         + f"; noisy BN - BN mean accuracy {noisy_vs_bn.noise()} ({noisy_vs_bn.verdict})")

# %% [markdown]
# ## Try this
# - Raise `LEARNING_RATE` to 0.5 in part 1: which network's measures grow more, and which
#   network still trains?
# - Probe later in training (`LANDSCAPE_STEPS = 2000`): what happens to the three measures
#   once the networks approach zero training loss?
# - Make the noise stronger: mu_t ~ U(-2, 2). Does noisy BN still train?
# - Put the noise *before* each BN layer instead of after it. What does BN do to it?

# %%
show_figures()
