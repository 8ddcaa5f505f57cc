# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 02: inside a BatchNormalization layer
#
# **Question.** What exactly does a `BatchNormalization` layer compute, on the way forward
# and on the way back, and why does it behave differently when training and when predicting?
#
# 1. One small batch through the layer, step by step: mean, variance, normalized values,
#    scale and shift. We compute each step by hand with NumPy and check that the tinynet
#    layer gives the same numbers.
# 2. The backward pass: derived step by step, then checked against finite differences.
# 3. Training mode vs inference mode on the same input.
# 4. How the moving averages used at inference converge, with momentum 0.99 (Keras's
#    default) and 0.9.
# 5. Why the bias of a `Dense` layer placed right before BN does nothing: its gradient is 0.
#
# Everything runs in float64, so that round-off (about 1e-16) cannot hide a real difference.
#
# Run it:  `python lessons/02_inside_batchnorm.py`  (options: `--quick`, `--seed N`, `--out DIR`)

# %% tags=["parameters"]
# The lesson's options. In a notebook, change them here, then run all cells. On the command
# line, --quick, --seed N and --out DIR override them.
QUICK = False  # True: a small version that runs in a few seconds
SEED = 0       # the random seed: same seed, same numbers, same figures
OUT = None     # folder for the figures; None: figures/02 beside the lesson

# %%
import os

# These networks are tiny: one BLAS thread is faster than several fighting over a busy CPU.
# (It must be set before NumPy is imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib.pyplot as plt
import numpy as np

import tinynet
from tinynet import plot, stats
from tinynet.classroom import headline, lesson_options, save_figure, show_figures
from tinynet.datasets import make_classification
from tinynet.gradcheck import compare, numerical_gradient
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import SGD

args = lesson_options(2, "Lesson 02: inside a BatchNormalization layer",
                      quick=QUICK, seed=SEED, out=OUT)
tinynet.set_seed(args.seed)
rng = np.random.default_rng(args.seed)
STREAM_STEPS = 400 if args.quick else 800  # batches for the moving-average experiments
N_SEEDS = 5 if args.quick else 10  # repeats of the moving-average experiments
BIAS_STEPS = 10 if args.quick else 100  # training steps in the Dense-bias experiment
VARIANCE_FEATURES = 50 if args.quick else 200  # independent moving variances measured
VARIANCE_STEPS = 1000  # batches before they are read: 0.99^1000 = 4e-5 of the start
np.set_printoptions(precision=3, suppress=True, linewidth=100)
# Two formulas that are equal on paper round differently in float64: a relative error of
# 1e-15 between them is round-off. Against finite differences (whose own error is about
# 1e-9 here) the usual pass threshold is 1e-6.
ROUND_OFF, FINITE_DIFFERENCES = 1e-12, 1e-6
plot.use_style()  # the classroom style (large fonts) for every figure below
# one colour per feature; blue and orange stay reserved for "with BN" / "without BN"
FEATURE_COLORS = [plot.VERMILLION, plot.SKY, plot.PURPLE]

# %% [markdown]
# ## 1. One batch, step by step
#
# A batch of N = 6 samples with D = 3 features on very different scales (think: an age in
# years, a temperature in degrees below zero, a ratio between 0 and 1). In training mode, for each
# feature separately (statistics over the batch axis, axis 0):
#
#     mu    = mean(x, axis=0)                    (D,)   batch mean
#     var   = mean((x - mu)^2, axis=0)           (D,)   batch variance, dividing by N
#     x_hat = (x - mu) / sqrt(var + eps)         (N, D) mean 0, variance ~1 per feature
#     y     = gamma * x_hat + beta               (N, D) learned scale and shift
#
# eps = 1e-3 (Keras's default) keeps the division safe when a feature barely varies.
# gamma and beta start at 1 and 0; here we set them to other values so the last step shows.

# %%
def cleaned(values, below=1e-12):
    """values with round-off (|v| < below) shown as a plain 0, not as -0. or 1e-17."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.abs(values) < below, 0.0, values)


def power_of_ten(value):
    """1e-06 -> '1e-6': how a tolerance is written in the printout."""
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def agreement(check, tolerance):
    """What a tinynet.gradcheck.compare result says, in words: bit-identical, or within the
    tolerance (and how close), or not."""
    closest = (f"relative error {check.rel_error:.1e}, largest difference {check.max_diff:.1e} "
               f"at index {check.where}")
    if check.exact:
        return "bit-identical (every entry equal to the last bit)"
    if check.rel_error < tolerance:
        return f"agree within {power_of_ten(tolerance)} ({closest}); not bit-identical"
    return f"DISAGREE: {closest}, above the tolerance {power_of_ten(tolerance)}"


x = rng.normal(loc=[50.0, -3.0, 0.5], scale=[10.0, 1.0, 0.2], size=(6, 3))
gamma = np.array([2.0, 0.5, 1.0])
beta = np.array([1.0, 0.0, -1.0])

bn = BatchNormalization(dtype="float64")
bn.build((None, 3))
bn.set_weights([gamma, beta, np.zeros(3), np.ones(3)])  # gamma, beta, moving mean, moving var
eps = bn.epsilon

mu = x.mean(axis=0)
var = ((x - mu) ** 2).mean(axis=0)
x_hat = (x - mu) / np.sqrt(var + eps)
y_by_hand = gamma * x_hat + beta
y_layer = bn(x, training=True)

print("x (6 samples x 3 features):\n", x)
print("mu    =", mu)
print("var   =", var)
print("x_hat (each column now has mean 0 and std ~1):\n", x_hat)
print("x_hat column means:", cleaned(x_hat.mean(axis=0)), "  stds:", x_hat.std(axis=0),
      f"  (the largest |mean| is {np.abs(x_hat.mean(axis=0)).max():.0e}: round-off, shown as 0)")
print("  (the stds are sqrt(var / (var + eps)) =", np.sqrt(var / (var + eps)),
      ": eps pulls them below 1, most for the feature with the smallest variance)")
print("y = gamma * x_hat + beta (column means = beta, stds ~ gamma):\n", y_by_hand)
forward_check = compare("y", y_by_hand, y_layer, tol=ROUND_OFF)
print(f"y by hand, checked against the layer: {agreement(forward_check, ROUND_OFF)}")
forward_diff = float(np.max(np.abs(y_by_hand - y_layer)))

# %% [markdown]
# **What to look at.** Each panel shows the 6 values of each feature as dots, with the
# feature's mean and standard deviation written under it. In panel 1 the three features live
# on very different scales; after step 3 they all sit in the same range around 0; in
# step 4 each feature gets its own learned scale (gamma) and centre (beta).

# %%
def short(value):
    """2 significant digits; round-off below 1e-9 shown as 0."""
    return "0" if abs(value) < 1e-9 else f"{value:.2g}"


stages = [("1. input x", x), ("2. centred: x - mu", x - mu),
          ("3. normalized: x_hat", x_hat), ("4. output: gamma * x_hat + beta", y_by_hand)]
fig, axes = plt.subplots(1, 4, figsize=(18, 5.5), layout="constrained")
for ax, (title, values) in zip(axes, stages, strict=True):
    for j in range(3):
        ax.scatter(np.full(len(values), j), values[:, j], s=45, color=FEATURE_COLORS[j],
                   zorder=3)
        ax.hlines(values[:, j].mean(), j - 0.25, j + 0.25, color="k", lw=1.5)
    ax.set_xticks(range(3))
    ax.set_xticklabels([f"feature {j}\nmean {short(values[:, j].mean())}\nstd "
                        f"{short(values[:, j].std())}" for j in range(3)])
    ax.set_title(title)
axes[0].set_ylabel("value (black bar: the feature's mean)")
fig.suptitle("One batch of 6 samples through BatchNormalization, training mode")
save_figure(fig, args.out, "02_forward_steps")

# %% [markdown]
# ## 2. The backward pass
#
# The layer receives g = dL/dy (N, D) and must return dL/dx, dL/dgamma, dL/dbeta. Walk the
# forward computation backwards, one line at a time (the chain rule), writing
# `s = sqrt(var + eps)` and `xc = x - mu`:
#
#     forward                      backward (reverse order)
#     y     = gamma * x_hat + beta   dbeta  = sum_n g          dgamma = sum_n g * x_hat
#                                    dx_hat = g * gamma
#     x_hat = xc / s                 ds     = -sum_n dx_hat * xc / s^2
#                                    dxc    = dx_hat / s                 (first path)
#     s     = sqrt(var + eps)        dvar   = ds / (2 s)
#     var   = mean_n xc^2            dxc   += dvar * 2 xc / N            (second path)
#     xc    = x - mu                 dmu    = -sum_n dxc
#                                    dx     = dxc
#     mu    = mean_n x               dx    += dmu / N                    (third path)
#
# Every sample x_n reaches the loss along three paths: directly, through mu, and through
# var (mu and var are made of every sample in the batch). Substituting and simplifying
# (use xc = s * x_hat and sum_n x_hat = 0) gives the compact form that tinynet's layer uses:
#
#     dx = 1 / (N s) * (N * dx_hat - sum_n dx_hat - x_hat * sum_n (dx_hat * x_hat))
#
# Two consequences to remember: sum_n dx = 0 for every feature (shifting all inputs by the
# same amount changes nothing), and sum_n dx * x_hat is almost 0 (scaling them changes almost
# nothing). Not exactly: with sum_n x_hat^2 = N var / (var + eps), it is
# eps / (var + eps) * sum_n (dx_hat * x_hat) / s, which is 0 only for eps = 0 and is large
# for a feature whose variance is near eps (the eps keeps a nearly constant feature from
# being blown up to unit variance, so scaling such a feature does change the output).
#
# We check three versions against each other: the step-by-step version above (written out in
# NumPy), the layer's compact `backward`, and finite differences
# (`tinynet.gradcheck.numerical_gradient`: nudge each input by +-h, watch the loss).
#
# The loss is L = sum(y * R) for a fixed random R, so dL/dy = R. Do **not** use L = sum(y):
# the sum of a normalized output is the same whatever x is, so its gradient is 0 and even a
# wrong backward would "pass".


# %%
def batchnorm_backward_step_by_step(g, x, gamma, eps):
    """dL/dx, dL/dgamma, dL/dbeta by walking the forward graph backwards (table above)."""
    n = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc ** 2).mean(axis=0)
    s = np.sqrt(var + eps)
    x_hat = xc / s
    dbeta = g.sum(axis=0)
    dgamma = (g * x_hat).sum(axis=0)
    dx_hat = g * gamma
    ds = -(dx_hat * xc).sum(axis=0) / s ** 2
    dxc = dx_hat / s
    dvar = ds / (2 * s)
    dxc = dxc + dvar * 2 * xc / n
    dmu = -dxc.sum(axis=0)
    dx = dxc + dmu / n
    return dx, dgamma, dbeta


R = rng.normal(size=x.shape)


def loss():
    return float(np.sum(bn.forward(x, training=True) * R))


loss()
dx_layer = bn.backward(R)  # the layer's compact formula
analytic = {"x": dx_layer, "gamma": bn.grads["gamma"].copy(), "beta": bn.grads["beta"].copy()}
staged = dict(zip(["x", "gamma", "beta"],
                  batchnorm_backward_step_by_step(R, x, bn.params["gamma"], eps), strict=True))
numeric = {"x": numerical_gradient(loss, x), "gamma": numerical_gradient(loss, bn.params["gamma"]),
           "beta": numerical_gradient(loss, bn.params["beta"])}

print(f"step by step, checked against the layer's compact formula (two exact formulas: they "
      f"should agree to round-off, {power_of_ten(ROUND_OFF)}):")
for name in analytic:
    print(f"  d{name:<6}: "
          f"{agreement(compare(name, staged[name], analytic[name], tol=ROUND_OFF), ROUND_OFF)}")
print(f"the layer, checked against finite differences (which carry an error of their own: "
      f"pass below {power_of_ten(FINITE_DIFFERENCES)}):")
checks = {name: compare(f"d{name}", analytic[name], numeric[name], tol=FINITE_DIFFERENCES)
          for name in analytic}
for name, check in checks.items():
    print(f"  d{name:<6}: {agreement(check, FINITE_DIFFERENCES)}")
worst_rel_error = max(c.rel_error for c in checks.values())
print(f"column sums of dx (shifting every input of a feature changes nothing): "
      f"{cleaned(dx_layer.sum(axis=0))} (largest |sum| "
      f"{np.abs(dx_layer.sum(axis=0)).max():.0e}: round-off, shown as 0)")

bn.forward(x, training=True)
dx_sum_loss = bn.backward(np.ones_like(x))
print(f"the trap: with L = sum(y), max |dL/dx| = {np.max(np.abs(dx_sum_loss)):.1e}, a check that "
      f"could not fail")

# %% [markdown]
# **What to look at.** Left: each dot is one entry of a gradient, the hand-written value
# against the finite-difference value: on the diagonal means they agree. Right: the relative
# error of each gradient on a log scale, against the dashed pass threshold. Finite
# differences carry an error of their own, so even a correct backward does not reach 0: it
# passes when its bar stays below the line (the printout above gives each value). A wrong
# backward typically lands near 1e-2 or above.

# %%
fig, (ax_scatter, ax_bars) = plt.subplots(1, 2, figsize=(14, 5.5), layout="constrained")
for (name, a), color in zip(analytic.items(), FEATURE_COLORS, strict=True):
    ax_scatter.scatter(numeric[name].ravel(), a.ravel(), color=color, s=40, label=f"d{name}")
everything = np.concatenate([v.ravel() for v in numeric.values()])
ax_scatter.plot([everything.min(), everything.max()], [everything.min(), everything.max()],
                color="grey", lw=1, ls="--", label="y = x")
ax_scatter.set_xlabel("finite differences")
ax_scatter.set_ylabel("hand-written backward")
ax_scatter.set_title("Each gradient entry: analytic vs numeric")
ax_scatter.legend()
errors = [max(checks[name].rel_error, 1e-17) for name in analytic]  # log scale needs > 0
ax_bars.bar([f"d{name}" for name in analytic], errors, color=FEATURE_COLORS)
ax_bars.axhline(FINITE_DIFFERENCES, color="k", ls="--", lw=1,
                label=f"{power_of_ten(FINITE_DIFFERENCES)}: a usual pass threshold")
ax_bars.set_yscale("log")
ax_bars.set_ylabel("relative error (log scale)")
ax_bars.set_title("Relative error vs finite differences")
ax_bars.legend()
save_figure(fig, args.out, "02_gradcheck")

# %% [markdown]
# ## 3. Training mode vs inference mode
#
# In **training** mode the layer normalizes with the statistics of the current batch, so a
# sample's output depends on the other samples in its batch. At **inference** (`predict`,
# `evaluate`, validation) there may be a single sample, and its prediction must not depend on
# its neighbours: the layer uses instead the *moving averages* of the batch statistics it saw
# during training:
#
#     moving_mean     = momentum * moving_mean     + (1 - momentum) * mu
#     moving_variance = momentum * moving_variance + (1 - momentum) * var
#     inference:  y = gamma * (x - moving_mean) / sqrt(moving_variance + eps) + beta
#
# **Momentum, in Keras and in PyTorch.** In Keras (and tinynet) `momentum` is the weight of
# the *old* average; the default is 0.99. PyTorch's `BatchNorm1d` writes the same rule the
# other way round: its `momentum` is the weight of the *new* batch,
# `running = (1 - momentum) * running + momentum * batch`, with default 0.1. So
# Keras `momentum` = 1 - PyTorch `momentum`: PyTorch's default 0.1 is Keras's 0.9, and
# Keras's default 0.99 is PyTorch's 0.01. Every lesson here uses Keras's convention.
# (Checked in the documentation of both: `tf.keras.layers.BatchNormalization` on
# tensorflow.org and the docstring of keras-team/keras's BatchNormalization for Keras's rule
# and default; `torch.nn.BatchNorm1d` on docs.pytorch.org for PyTorch's, confirmed by
# MindSpore's PyTorch migration notes, which state the same 1 - momentum relation.)
#
# A fresh layer holds moving_mean = 0 and moving_variance = 1, so at first its inference
# output is just the input, not normalized at all.
#
# We feed batches of 32 from one fixed distribution (feature means [50, -3, 0.5], stds
# [10, 1, 0.2], as in section 1) and compare, on the same test batch, the output in
# training mode with the output in inference mode, before and after that stream of batches.
# We repeat it for several seeds (other batches, another test batch) to see how much the
# numbers move.

# %%
LOC, SCALE = np.array([50.0, -3.0, 0.5]), np.array([10.0, 1.0, 0.2])


def draw_batch(generator, size=32):
    """(size, 3) samples of the fixed distribution above."""
    return generator.normal(loc=LOC, scale=SCALE, size=(size, 3))


def train_vs_inference(seed):
    """Stream STREAM_STEPS batches through a fresh layer; return the layer, its test batch,
    the training-mode output and the inference-mode outputs before and after the stream."""
    generator = np.random.default_rng(seed)
    layer = BatchNormalization(dtype="float64")  # momentum 0.99, gamma 1, beta 0
    layer.build((None, 3))
    test_batch = draw_batch(generator, 64)
    before = layer(test_batch, training=False)
    for _ in range(STREAM_STEPS):
        layer(draw_batch(generator), training=True)
    after = layer(test_batch, training=False)
    # training mode uses only the batch's own statistics: the moving averages play no part
    return layer, test_batch, layer(test_batch, training=True), before, after


SEEDS = [args.seed + k for k in range(N_SEEDS)]
gaps = []  # per seed: (gap before the stream, gap after it)
for seed in SEEDS:
    _, _, train_out, before, after = train_vs_inference(seed)
    gaps.append((np.mean(np.abs(train_out - before)), np.mean(np.abs(train_out - after))))
gaps_before, gaps_after = np.array(gaps).T
layer, test_batch, train_out, infer_out_before, infer_out_after = train_vs_inference(args.seed)
gap_result = stats.compare(gaps_after, gaps_before, "mean |training-mode output - "
                           "inference-mode output|", lower_is_better=None,
                           names=(f"after {STREAM_STEPS} batches", "on a fresh layer"))
print(gap_result.sentence())

# One sample, two different batch companions: its training-mode output changes.
sample = test_batch[:1]
mates = draw_batch(rng, 7)
out_a = layer(np.vstack([sample, mates]), training=True)[0]
out_b = layer(np.vstack([sample, mates + SCALE]), training=True)[0]  # mates shifted by 1 std
in_a = layer(np.vstack([sample, mates]), training=False)[0]
in_b = layer(np.vstack([sample, mates + SCALE]), training=False)[0]
print(f"one sample in two batches of 8 (its 7 mates shifted by one std): in training mode "
      f"its output moves by up to {np.max(np.abs(out_a - out_b)):.2f}; in inference mode by "
      f"{np.max(np.abs(in_a - in_b)):.1e}")

# %% [markdown]
# **What to look at.** Each dot is one output value (64 samples x 3 features): its
# training-mode value across, its inference-mode value up; on the dashed diagonal the two
# modes agree. Left, the fresh layer: its inference output is the raw input, so each
# feature's dots sit at the height of its own raw values, while training mode has already
# normalized them to around 0 along the bottom axis. A feature whose raw values happen to lie
# near that range crosses the diagonal by chance, not because the two modes agree: look at
# the slope, the feature's raw standard deviation in this batch, not 1. Right, after the stream
# of batches: do the dots now follow the diagonal? The printout above measures how far they
# are from it on average, before and after.

# %%
plot.use_style()
fig, axes = plt.subplots(1, 2, figsize=(14, 6), layout="constrained")
panels = [("fresh layer: inference output = raw input", infer_out_before),
          (f"after {STREAM_STEPS} training batches", infer_out_after)]
for ax, (title, infer_out) in zip(axes, panels, strict=True):
    for j in range(3):
        ax.scatter(train_out[:, j], infer_out[:, j], s=30, color=FEATURE_COLORS[j],
                   alpha=0.8, label=f"feature {j}")
    ax.axline((0, 0), slope=1, color="black", lw=1.5, ls="--", label="same output")
    ax.set_xlabel("training-mode output (batch statistics)")
    ax.set_title(title)
axes[0].set_ylabel("inference-mode output (moving statistics)")
fig.suptitle(f"One test batch of 64, the first of the {len(SEEDS)} seeds")
plot.shared_legend(fig, axes[0])
save_figure(fig, args.out, "02_train_vs_inference")

# %% [markdown]
# ## 4. How fast the moving averages converge, and which variance they reach
#
# After t updates the starting value still has weight momentum^t in the average. With the
# default momentum 0.99 that is 0.99^100 = 37% after 100 steps; with 0.9 it is 0.003%. But a
# smaller momentum averages over fewer batches (about 1 / (1 - momentum)), so it is noisier.
#
# **Which variance?** The batch variance divides by the batch size m (the *biased*
# estimate), so on average it is (m - 1)/m times the true variance, and so is Keras's moving
# variance. The paper's inference step (Ioffe & Szegedy 2015, Algorithm 2) uses instead the
# *unbiased* estimate, m/(m - 1) times the average batch variance, and so does PyTorch's
# running variance. With batches of 32 the two differ by 3%; with batches of 4, by 33%
# (lesson 06 has small batches).
#
# One stream of batches of 32 from N(5, 2^2), fed to two layers with momentum 0.99 and 0.9,
# repeated for several seeds. Then, to see where Keras's moving variance settles, we read
# the `moving_variance` of a layer with many features, each an independent copy of that
# stream, after 1000 batches: a 95 % interval for its settling point, and whether (m - 1)/m
# of the true variance and the true variance itself lie inside it.

# %%
TRUE_MEAN, TRUE_STD, BATCH = 5.0, 2.0, 32
momenta = [0.99, 0.9]
# m/(m - 1): the paper's inference variance, Ioffe & Szegedy 2015 (arXiv:1502.03167),
# Algorithm 2, line 10 (quoted the same in independent course notes of the paper), and
# PyTorch's running variance (docs.pytorch.org, torch.nn.BatchNorm1d: "calculated via the
# unbiased estimator").
UNBIASED = BATCH / (BATCH - 1)


def moving_average_tracks(seed):
    """{momentum: (moving means, moving variances)}, each (STREAM_STEPS,), from one stream of
    batches that both layers see."""
    tracks = {}
    for momentum in momenta:
        stream = np.random.default_rng(seed)  # the same batches for both momenta
        layer = BatchNormalization(momentum=momentum, dtype="float64")
        layer.build((None, 1))
        means, variances = [], []
        for _ in range(STREAM_STEPS):
            layer(stream.normal(TRUE_MEAN, TRUE_STD, size=(BATCH, 1)), training=True)
            means.append(layer.state["moving_mean"][0])
            variances.append(layer.state["moving_variance"][0])
        tracks[momentum] = (np.array(means), np.array(variances))
    return tracks


def steps_to_reach(values, target, tolerance=0.05):
    """The first step at which |value - target| <= tolerance * |target|: how long the
    average takes to forget its start. len(values) if it never gets there. (Not "stays
    there for good": a noisy average can wander out again, and the longer the stream the
    likelier that is.)"""
    inside = np.nonzero(np.abs(values - target) <= tolerance * abs(target))[0]
    return len(values) if len(inside) == 0 else int(inside[0]) + 1


tail = max(STREAM_STEPS // 4, 10)  # the last quarter of the stream: settled, we hope
settle = {m: [] for m in momenta}
noise = {m: [] for m in momenta}
for seed in SEEDS:
    tracks = moving_average_tracks(seed + 1000)
    for momentum, (means, _) in tracks.items():
        settle[momentum].append(steps_to_reach(means, TRUE_MEAN))
        noise[momentum].append(np.std(means[-tail:]))
tracks = moving_average_tracks(args.seed + 1000)  # the seed the figure shows
settle = {m: np.array(v, dtype=float) for m, v in settle.items()}
noise = {m: np.array(v) for m, v in noise.items()}
for momentum in momenta:
    theory = int(np.ceil(np.log(0.05) / np.log(momentum)))
    print(f"momentum {momentum}: the moving mean first comes within 5% of {TRUE_MEAN} after "
          f"{settle[momentum].mean():.0f} steps on average over {len(SEEDS)} seeds (theory "
          f"for the start's weight momentum^t < 5%: t = {theory})")
settling = stats.compare(settle[0.9], settle[0.99], "steps until the moving mean first comes "
                         "within 5% of the true mean",
                         names=("momentum 0.9", "momentum 0.99"), fmt="{:.0f}",
                         lower_is_better=None)
wobble = stats.compare(noise[0.9], noise[0.99], f"wobble of the moving mean over the last "
                       f"{tail} steps (std)", names=("momentum 0.9", "momentum 0.99"),
                       fmt="{:.4f}", lower_is_better=None)
print(settling.sentence())
print(wobble.sentence())
unsettled = int(np.sum(settle[0.99] >= STREAM_STEPS))
if unsettled:
    print(f"  ({unsettled} of {len(SEEDS)} seeds never came within 5% with momentum 0.99; they "
          f"count as {STREAM_STEPS} steps.)")

# Where does Keras's moving variance settle? We measure the layer's own moving_variance: one
# layer with VARIANCE_FEATURES features, each an independent copy of the stream (each feature
# keeps its own moving average), fed VARIANCE_STEPS batches with momentum 0.99. By then the
# start has weight 0.99^VARIANCE_STEPS (4e-5 for 1000 steps): each feature's final moving
# variance is one independent draw of where it settles.
variance_layer = BatchNormalization(momentum=0.99, dtype="float64")
variance_layer.build((None, VARIANCE_FEATURES))
variance_stream = np.random.default_rng(args.seed + 2000)
for _ in range(VARIANCE_STEPS):
    variance_layer(variance_stream.normal(TRUE_MEAN, TRUE_STD, (BATCH, VARIANCE_FEATURES)),
                   training=True)
settled = variance_layer.state["moving_variance"].copy()  # (VARIANCE_FEATURES,)
biased_target = TRUE_STD ** 2 / UNBIASED  # (m - 1)/m x the true variance


def against(mean, se, n, target, name):
    """Where `target` lies against the 95 % interval mean ± t se of n values, in words."""
    away, t = abs(mean - target) / se, stats.noise_multiple(n)
    where = "inside" if away <= t else "outside"
    return f"{name} = {target:.3f} is {away:.1f} s.e. away: {where} the interval"


def settles_at(mean, se, n, biased, true):
    """Which of the two candidate values the measured moving variance supports."""
    t = stats.noise_multiple(n)
    near_biased, near_true = abs(mean - biased) <= t * se, abs(mean - true) <= t * se
    if near_biased and not near_true:
        return f"(m - 1)/m of the true {true:g}, not {true:g} itself"
    if near_true and not near_biased:
        return f"the true {true:g}, not (m - 1)/m of it"
    if near_biased:
        return f"this run cannot tell (m - 1)/m of {true:g} from {true:g}"
    return (f"neither (m - 1)/m of {true:g} ({biased:.3f}) nor {true:g} is inside its 95 % "
            f"interval")


mean_biased, se_biased = stats.mean_and_se(settled)
mean_unbiased, se_unbiased = stats.mean_and_se(settled * UNBIASED)
t_settled = stats.noise_multiple(VARIANCE_FEATURES)
print(f"Keras's moving variance (momentum 0.99) after {VARIANCE_STEPS} batches of {BATCH}, over "
      f"{VARIANCE_FEATURES} features: {mean_biased:.3f} ± {se_biased:.3f} s.e., 95% interval "
      f"{mean_biased - t_settled * se_biased:.3f} to {mean_biased + t_settled * se_biased:.3f} "
      f"(± {t_settled:.2f} s.e.)")
measured = (mean_biased, se_biased, VARIANCE_FEATURES)
settles = settles_at(*measured, biased_target, TRUE_STD ** 2)
print(f"  {against(*measured, biased_target, '(m - 1)/m x the true variance')}")
print(f"  {against(*measured, TRUE_STD ** 2, 'the true variance')}")
print(f"  so it settles at {settles}")
unbiased_check = against(mean_unbiased, se_unbiased, VARIANCE_FEATURES, TRUE_STD ** 2,
                         "the true variance")
print(f"the same times m/(m - 1) (the paper's and PyTorch's estimate): {mean_unbiased:.3f} ± "
      f"{se_unbiased:.3f} s.e.; {unbiased_check}")

# %% [markdown]
# **What to look at.** The dashed lines are the values the averages should reach. The 0.9
# curve gets there within a few dozen steps but keeps wobbling; the 0.99 curve is smooth
# but needs hundreds of steps. Until it arrives, anything evaluated in inference mode uses
# stale statistics: this is why a BN network's *validation* loss can look bad in the first
# epoch (lesson 01 measures it). On the right, the two horizontal lines are the true
# variance and (m - 1)/m of it: which one does the moving variance wobble around? (The
# printout above measured it over many features; the figure shows one stream.)

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), layout="constrained")
steps = np.arange(1, STREAM_STEPS + 1)
for momentum, (means, variances) in tracks.items():
    color = plot.setting_color("momentum", momentum)
    axes[0].plot(steps, means, color=color, label=f"momentum {momentum}")
    axes[1].plot(steps, variances, color=color, label=f"momentum {momentum}")
axes[0].axhline(TRUE_MEAN, color="black", ls="--", lw=1.5, label=f"true mean {TRUE_MEAN}")
axes[1].axhline(TRUE_STD ** 2, color="black", ls="--", lw=1.5,
                label=f"true variance {TRUE_STD ** 2:g}")
axes[1].axhline(TRUE_STD ** 2 / UNBIASED, color="grey", ls=":", lw=2,
                label=f"(m-1)/m x true = {TRUE_STD ** 2 / UNBIASED:.3f}")
axes[0].set_ylabel("moving_mean")
axes[1].set_ylabel("moving_variance")
for ax in axes:
    ax.set_xlabel("training step (one batch of 32 each)")
    plot.legend_below(ax, 4, columns=2)
axes[0].set_title("moving mean: starts at 0")
axes[1].set_title("moving variance: starts at 1")
fig.suptitle(f"One stream of batches of {BATCH} from N({TRUE_MEAN:g}, {TRUE_STD:g}^2): the "
             f"first of the {len(SEEDS)} seeds")
save_figure(fig, args.out, "02_moving_averages")

# %% [markdown]
# ## 5. The bias of a Dense layer right before BN does nothing
#
# `Dense` computes z = x @ W + b, then BN subtracts the batch mean of z. The batch mean of
# z contains b, so b is subtracted right back out:
#
#     z - mean(z) = (x @ W + b) - (mean(x) @ W + b) = (x - mean(x)) @ W
#
# The output (in training mode) does not depend on b at all, so dL/db = 0. In formulas:
# dL/db = sum_n dL/dz_n, and we saw in section 2 that the columns of BN's dx sum to 0.
#
# We measure it on a small network, Dense(16) -> BN -> ReLU -> Dense(1, sigmoid), trained
# with SGD: the gradient norms of the first Dense's kernel and bias, and, for comparison, of
# the last Dense's bias (which is *not* followed by BN). The first bias starts at random
# non-zero values so that "it stayed at 0" cannot be the explanation.

# %%
tinynet.set_seed(args.seed)
x_small, y_small = make_classification(n_samples=256, n_features=10, n_informative=5,
                                       n_redundant=2, seed=args.seed)
model = Sequential([
    Dense(16, input_shape=(10,), dtype="float64"),
    BatchNormalization(dtype="float64"),
    Activation("relu", dtype="float64"),
    Dense(1, activation="sigmoid", dtype="float64"),
])
model.compile(optimizer=SGD(learning_rate=0.1), loss="binary_crossentropy")
first_dense, last_dense = model.layers[0], model.layers[-1]
first_dense.set_weights([first_dense.params["kernel"], rng.normal(size=16)])
bias_at_start = first_dense.params["bias"].copy()

# Adding any vector to that bias leaves the training-mode output unchanged:
out_1 = model(x_small[:64], training=True)
first_dense.params["bias"] += 100.0
out_2 = model(x_small[:64], training=True)
first_dense.params["bias"] -= 100.0
print(f"adding 100 to every entry of the bias changes the output by at most "
      f"{np.max(np.abs(out_1 - out_2)):.1e}")

norms = {"first Dense kernel": [], "first Dense bias (before BN)": [],
         "last Dense bias (no BN after it)": []}
for _ in range(BIAS_STEPS):
    rows = rng.choice(len(x_small), size=32, replace=False)
    model.train_on_batch(x_small[rows], y_small[rows])
    norms["first Dense kernel"].append(np.linalg.norm(first_dense.grads["kernel"]))
    norms["first Dense bias (before BN)"].append(np.linalg.norm(first_dense.grads["bias"]))
    norms["last Dense bias (no BN after it)"].append(np.linalg.norm(last_dense.grads["bias"]))
norms = {name: np.array(values) for name, values in norms.items()}
bias_moved = float(np.max(np.abs(first_dense.params["bias"] - bias_at_start)))
for name, values in norms.items():
    print(f"  |gradient| of the {name:<33}: median {np.median(values):.1e}, "
          f"largest {values.max():.1e}")
print(f"after {BIAS_STEPS} SGD steps the pre-BN bias moved by at most {bias_moved:.1e}")

# %% [markdown]
# **What to look at.** Gradient norms over training on a log scale. How far does the pre-BN
# bias (orange-red) lie below the others? The printout above gives each one's median: count
# the orders of magnitude between the bias's and the kernel's. A gradient at float64's
# round-off, some 1e-16 times the size of the numbers it is computed from, is the numerical
# face of an exact zero. This is why the paper drops that bias, and why Keras examples write
# `Dense(64, use_bias=False)` before `BatchNormalization()`; BN's beta does the bias's job.

# %%
fig, ax = plt.subplots(figsize=(10, 6), layout="constrained")
norm_colors = [plot.SKY, plot.VERMILLION, "black"]
for (name, values), color in zip(norms.items(), norm_colors, strict=True):
    ax.plot(np.arange(1, BIAS_STEPS + 1), np.maximum(values, 1e-20), color=color, lw=2,
            label=name)
ax.set_yscale("log")
ax.set_xlabel("training step")
ax.set_ylabel("gradient norm (log scale; exact 0 drawn at 1e-20)")
ax.set_title(f"Dense(16) -> BN -> ReLU -> Dense(1): gradient norms (one run, seed {args.seed})")
plot.legend_below(ax, 2)
save_figure(fig, args.out, "02_bias_before_bn")

# %% [markdown]
# ## What this run measured

# %%
article = Sequential([Dense(64, input_shape=(20,)), BatchNormalization(), Activation("relu"),
                      Dense(32), BatchNormalization(), Activation("relu"),
                      Dense(1, activation="sigmoid")])
wasted = sum(layer.params["bias"].size for layer, following in
             zip(article.layers[:-1], article.layers[1:], strict=True)
             if isinstance(layer, Dense) and layer.use_bias
             and isinstance(following, BatchNormalization))
bias_ratio = np.median(norms["first Dense bias (before BN)"]) / np.median(
    norms["first Dense kernel"])

def momentum_trade_off(settling, wobble):
    """The momentum trade-off in one sentence, only as far as the numbers show it."""
    faster = settling.clear and settling.difference < 0
    noisier = wobble.clear and wobble.difference > 0
    if faster and noisier:
        return ("  The trade-off shows: momentum 0.9 forgets its start sooner but wobbles more; "
                "0.99 is steady but slow to forget its start.")
    # each half in three ways: as the trade-off says, the opposite (beyond the noise), unclear
    forget = ("forgets its start sooner than 0.99" if faster else
              "forgets its start more slowly than 0.99 (beyond the noise)" if settling.clear
              else "does not clearly forget its start sooner than 0.99")
    wobble_words = ("wobbles more" if noisier else
                    "wobbles less (beyond the noise)" if wobble.clear else
                    "does not clearly wobble more")
    if not (faster or noisier or settling.clear or wobble.clear):
        return "  Neither side of the momentum trade-off is clear in these runs."
    return (f"  Momentum 0.9 {forget}, and {wobble_words}: "
            f"{'one half' if faster or noisier else 'neither half'} of the trade-off shows "
            f"here.")


print("\nSummary")
smallest = int(np.argmin(var))
print(f"- Forward: the layer matches the four NumPy lines to {forward_diff:.1e}; every "
      f"normalized column has mean within {np.abs(x_hat.mean(axis=0)).max():.0e} of 0 and "
      f"std between {x_hat.std(axis=0).min():.4f} and {x_hat.std(axis=0).max():.4f}; the "
      f"lowest is feature {smallest}, whose variance {var[smallest]:.3g} is the closest to "
      f"eps = {eps:g}.")
verdict = "passes" if worst_rel_error < FINITE_DIFFERENCES else "FAILS"
print(f"- Backward: the largest relative error against finite differences is "
      f"{worst_rel_error:.1e}: the check {verdict} (threshold {power_of_ten(FINITE_DIFFERENCES)}).")
print(f"- Training vs inference, over {len(SEEDS)} seeds: " + gap_result.sentence())
print("- " + settling.sentence())
print("- " + wobble.sentence())
print(momentum_trade_off(settling, wobble))
print(f"- Keras's moving variance, read on the layer ({VARIANCE_FEATURES} features after "
      f"{VARIANCE_STEPS} batches of {BATCH}), settles at {mean_biased:.3f} ± {se_biased:.3f} "
      f"s.e.: {settles}. Times m/(m - 1), as the paper and PyTorch do: {mean_unbiased:.3f} ± "
      f"{se_unbiased:.3f}.")
print(f"- Dense bias before BN: its gradient is {bias_ratio:.0e} times the kernel's (median "
      f"over {BIAS_STEPS} steps); it moved {bias_moved:.0e} in training. In the article's "
      f"model {wasted} such bias parameters do nothing.")

print(f"RESULT forward_max_diff={forward_diff:.3e} gradcheck_rel_error={worst_rel_error:.3e}")
print(f"RESULT gap_before={gap_result.mean_b:.4f} gap_after={gap_result.mean_a:.4f} "
      f"seeds={len(SEEDS)}")
print(f"RESULT settle_0.99={settling.mean_b:.1f} settle_0.9={settling.mean_a:.1f} "
      f"settle_se={settling.se:.2f} noise_0.99={wobble.mean_b:.5f} noise_0.9={wobble.mean_a:.5f} "
      f"noise_se={wobble.se:.5f}")
print(f"RESULT variance_keras={mean_biased:.4f} variance_keras_se={se_biased:.4f} "
      f"variance_unbiased={mean_unbiased:.4f} variance_true={TRUE_STD ** 2:.4f} "
      f"variance_biased_target={biased_target:.4f} variance_features={VARIANCE_FEATURES} "
      f"variance_steps={VARIANCE_STEPS}")
print(f"RESULT bias_grad_ratio={bias_ratio:.3e} bias_moved={bias_moved:.3e} wasted={wasted}")
shown_09, shown_099, _ = settling.shown()  # printed means: their difference is the one shown
headline(f"the moving mean first comes within 5% of the true mean after {shown_09} steps with "
         f"momentum 0.9, {shown_099} with 0.99 ({settling.noise()}); Keras's moving variance, "
         f"read on the layer, settles at {mean_biased:.3f} ± {se_biased:.3f} s.e. for a true "
         f"variance of {TRUE_STD ** 2:g}: {settles}")

show_figures()

# %% [markdown]
# ## Try this
#
# * In section 1 give feature 2 a scale of 0.005 instead of 0.2 (its variance is then
#   below eps = 1e-3): what is its std after normalization? Then try
#   `BatchNormalization(epsilon=1e-8)`.
# * Break the backward on purpose: drop the `dmu` line of `batchnorm_backward_step_by_step`
#   and see which comparison fails and by how much.
# * Replace R by `np.ones_like(x)` in the gradient check and watch every dx become ~0.
# * In section 4 try momentum 0.999, or batches of 4 instead of 32: how far is the moving
#   variance from the true variance then?
# * In section 5 put the ReLU *before* the BN layer: does the bias gradient stay at 0?
#   (Then implement your own BN in `lessons/exercises/batchnorm_forward.py`.)
