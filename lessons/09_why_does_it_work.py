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
# Run it:  `python lessons/09_why_does_it_work.py`  (options: `--quick`, `--seed N`,
# `--out DIR`)

# %%
import os
import sys

# Small matrices: one BLAS thread is faster than several that wait for each other.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib.pyplot as plt
import numpy as np

import tinynet
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

HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
sys.path.insert(0, HERE)  # lessons/ is a folder of scripts, not a package
from lesson_tools import parse_args, save_figure, show_figures

args = parse_args(9, "Lesson 09: why does batch normalization work? (Santurkar et al.)")

DEPTH = 6              # hidden layers of WIDTH ReLU units, as in the recipe
WIDTH = 100
BATCH = 60
LEARNING_RATE = 0.1    # plain SGD
STEP_SIZES = np.linspace(0.5, 4, 8) * LEARNING_RATE   # the paper's probe: 0.5 to 4 x lr
LANDSCAPE_STEPS = 120 if args.quick else 500           # the early window: both nets learn
PROBE_EVERY = 10
NOISE_STEPS = 200 if args.quick else 1000
EVAL_EVERY = 20 if args.quick else 25
COMPARE_AT = 200 if args.quick else 250  # the step at which part 2 compares accuracies

# Okabe-Ito colours (colour-blind safe): orange = without BN, blue = with BN, as in every
# lesson; green and vermillion for the two noisy variants.
COLORS = {"standard": "#E69F00", "BN": "#0072B2", "noisy BN": "#009E73",
          "standard + noise": "#D55E00"}


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
# ## A layer of our own: deliberate covariate shift
#
# Writing a layer in tinynet takes two methods, `forward` and `backward`. This one does what
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
        self.s = None  # the scales of the last training step, for backward

    def forward(self, a, training=False):
        if not training:
            self.s = None
            return a * a.dtype.type(self.MEAN_SCALE)
        rng = tinynet.get_rng()  # tinynet's generator: set_seed makes the noise repeatable
        mu_t = rng.uniform(-0.5, 0.5)
        sigma_t = rng.uniform(1.0, 1.25)
        m = rng.uniform(mu_t - 0.1, mu_t + 0.1, size=a.shape).astype(a.dtype)
        self.s = rng.normal(sigma_t, 0.1, size=a.shape).astype(a.dtype)
        return self.s * a + m

    def backward(self, grad_output):
        if self.s is None:
            return grad_output * grad_output.dtype.type(self.MEAN_SCALE)
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
# The **loss range** is max L(eta) - min L(eta); the **gradient change** is
# max ||g(eta) - g|| over the step sizes (the paper's "gradient predictiveness": a small
# change means the gradient here predicts the gradient a step away).

# %%
x, y = make_classification(n_samples=5000, n_features=20, seed=args.seed)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=1000, seed=args.seed)
x_train, x_val = standardize(x_train, x_val)
y_train, y_val = y_train.reshape(-1, 1), y_val.reshape(-1, 1)


def parameters(model):
    """Every trainable array of the model, in a fixed order."""
    return [value for layer in model.layers for value in layer.params.values()]


def loss_and_gradient(model, x, y):
    """L and a copy of dL/dw for every weight, on one batch in training mode."""
    y_pred = model.forward(x, training=True)
    loss = model.loss.loss(y, y_pred)
    model.backward(model.loss.gradient(y, y_pred))
    return loss, [layer.grads[key].copy() for layer in model.layers for key in layer.params]


def probe_along_gradient(model, x, y):
    """Losses and gradient changes at w - eta * g for each eta in STEP_SIZES.

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
    return loss, np.array(losses), np.array(changes)


def train_with_probes(bn):
    """Train LANDSCAPE_STEPS steps, probing every PROBE_EVERY steps; return the records."""
    tinynet.set_seed(args.seed)
    model = build(x_train.shape[1], bn, init="he_normal")
    record = {"step": [], "loss": [], "losses": [], "changes": []}
    step = 0
    while step < LANDSCAPE_STEPS:
        for x_batch, y_batch in batches(x_train, y_train, BATCH):
            if step % PROBE_EVERY == 0 and step > 0 and len(x_batch) == BATCH:
                loss, losses, changes = probe_along_gradient(model, x_batch, y_batch)
                for key, value in (("step", step), ("loss", loss), ("losses", losses),
                                   ("changes", changes)):
                    record[key].append(value)
            model.train_on_batch(x_batch, y_batch)
            step += 1
            if step == LANDSCAPE_STEPS:
                break
    record = {key: np.array(value) for key, value in record.items()}
    record["val_accuracy"] = model.evaluate(x_val, y_val, batch_size=1000, verbose=0)[1]
    return record


landscape = {name: train_with_probes(bn) for name, bn in (("standard", False), ("BN", True))}

# %% [markdown]
# **What to look at.** Left: at each probe, the band covers every loss found along the
# gradient direction, from 0.5 to 4 times the learning rate. A wide band means the loss
# changes a lot depending on how far we step: the landscape is rough, and a large learning
# rate is risky. Right: the same for the change of the gradient. Compare the width of the
# orange bands (without BN) with the blue ones (with BN), over the whole window.

# %%
fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(12, 4.5))
for name, record in landscape.items():
    steps = record["step"]
    ax_loss.fill_between(steps, record["losses"].min(axis=1), record["losses"].max(axis=1),
                         color=COLORS[name], alpha=0.4, label=name)
    ax_loss.plot(steps, record["loss"], color=COLORS[name], lw=1)
    ax_grad.fill_between(steps, record["changes"].min(axis=1), record["changes"].max(axis=1),
                         color=COLORS[name], alpha=0.4, label=name)
ax_loss.set_ylabel("loss at w - eta g (band), at w (line)")
ax_loss.set_title("Loss landscape along the gradient")
ax_grad.set_ylabel("||g(w - eta g) - g(w)||")
ax_grad.set_title("Gradient predictiveness (lower = more predictive)")
for ax in (ax_loss, ax_grad):
    ax.set_xlabel("training step")
    ax.grid(alpha=0.3)
    ax.legend()
fig.suptitle(f"{DEPTH} x {WIDTH} ReLU, He init, SGD lr {LEARNING_RATE}: step sizes "
             f"{STEP_SIZES[0]:.2g} to {STEP_SIZES[-1]:.2g} along -g, on the current batch")
fig.tight_layout()
save_figure(fig, args.out, "1_loss_landscape_and_gradient_predictiveness")

loss_range = {name: r["losses"].max(axis=1) - r["losses"].min(axis=1)
              for name, r in landscape.items()}
grad_change = {name: r["changes"].max(axis=1) for name, r in landscape.items()}
print(f"Landscape along the gradient, {len(landscape['BN']['step'])} probes in steps "
      f"{PROBE_EVERY}-{landscape['BN']['step'][-1]}:")
for name, record in landscape.items():
    print(f"  {name:9s} mean loss range {loss_range[name].mean():.4f}, mean max gradient "
          f"change {grad_change[name].mean():.4f}; batch loss {record['loss'][0]:.3f} -> "
          f"{record['loss'][-1]:.3f}, validation accuracy {record['val_accuracy']:.3f}")

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
# To see the covariate shift, at every step we keep what the last hidden ReLU received
# (`model.trace_next_step = True` makes the model keep every layer's input for one step).
# For each of its 100 units we take the batch mean and std, and measure how far the mean
# moves from one step to the next, in units of the spread:
# **shift = mean over units of |mean_t - mean_(t-1)| / std_(t-1)**.

# %%
x, y = make_spirals(n_samples=6000, n_classes=5, noise=0.2, turns=1.5, seed=args.seed)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=1000, seed=args.seed)
x_train, x_val = standardize(x_train, x_val)
N_CLASSES = 5
LAST_RELU = f"relu_{DEPTH}"
UNIT = 0  # the unit whose input distribution we draw

NOISE_CONFIGS = {"standard": (False, False), "BN": (True, False), "noisy BN": (True, True),
                 "standard + noise": (False, True)}


def train_with_trace(bn, noise):
    """Train NOISE_STEPS steps; keep validation accuracy and the last ReLU's input stats."""
    tinynet.set_seed(args.seed)
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
    return run


noisy = {name: train_with_trace(*config) for name, config in NOISE_CONFIGS.items()}

# %% [markdown]
# **What to look at.** Left: validation accuracy against training step (chance is 0.2).
# Which curves leave chance first? Where does the noisy-BN network sit: with BN, or with
# the standard network? Right: one unit's input to the last ReLU, step by step: the band
# from its 15th to its 85th percentile over the batch, and its batch mean (line). With BN
# (in training mode) the mean line is flat: BN pins every unit's batch mean to beta and its
# spread to gamma. With the noise the mean jumps at every step: that is the covariate shift
# we added. The panel titles give the measured shift per step.

# %%
fig = plt.figure(figsize=(13, 6.5))
grid = fig.add_gridspec(2, 3, width_ratios=[1.5, 1, 1])
ax_acc = fig.add_subplot(grid[:, 0])
for name, run in noisy.items():
    ax_acc.plot(run["eval_step"], run["val_accuracy"], "o-", ms=3, color=COLORS[name],
                label=name)
ax_acc.axhline(1 / N_CLASSES, color="grey", lw=0.8, ls=":")
ax_acc.set_xlabel("training step")
ax_acc.set_ylabel("validation accuracy (inference mode)")
ax_acc.set_title("Accuracy: 5 spirals, 6 x 100 ReLU, SGD lr 0.1")
ax_acc.legend()
ax_acc.grid(alpha=0.3)
for k, (name, run) in enumerate(noisy.items()):
    ax = fig.add_subplot(grid[k // 2, 1 + k % 2])
    p15, p50, p85 = run["percentiles"].T
    ax.fill_between(run["step"], p15, p85, color=COLORS[name], alpha=0.3, lw=0)
    ax.plot(run["step"], run["mean"][:, UNIT], color=COLORS[name], lw=0.8)
    ax.set_title(f"{name}: shift {run['shift']:.3f} std/step", fontsize=10)
    ax.set_xlabel("training step")
    ax.set_ylabel(f"input of {LAST_RELU}, unit {UNIT}")
    ax.grid(alpha=0.3)
fig.suptitle("Noisy BN: deliberate covariate shift after every BN layer "
             "(right: one unit's input over the batch, 15th-85th percentiles and mean)")
fig.tight_layout()
save_figure(fig, args.out, "2_noisy_bn_accuracy_and_distributions")

# %% [markdown]
# ## What the measurements say
#
# Every sentence below is built from the numbers measured above.

# %%
def times(a, b, more="larger", less="smaller"):
    """'3.2x larger than' / '1.5x smaller than': a compared with b."""
    return f"{a / b:.3g}x {more} than" if a >= b else f"{b / a:.3g}x {less} than"


def accuracy_at(run, step):
    """Validation accuracy at the last evaluation at or before `step`."""
    return run["val_accuracy"][run["eval_step"] <= step][-1]


def first_step_reaching(run, level):
    """The first evaluated step with validation accuracy >= level, or None."""
    reached = run["eval_step"][run["val_accuracy"] >= level]
    return int(reached[0]) if len(reached) else None


std_range, bn_range = loss_range["standard"].mean(), loss_range["BN"].mean()
std_change, bn_change = grad_change["standard"].mean(), grad_change["BN"].mean()
wider = np.mean(loss_range["standard"] > loss_range["BN"])
print()
print("Summary")
print(f"1. Loss landscape (steps {PROBE_EVERY}-{landscape['BN']['step'][-1]}, both networks "
      f"learning: validation accuracy {landscape['standard']['val_accuracy']:.3f} without BN, "
      f"{landscape['BN']['val_accuracy']:.3f} with BN at the end):")
print(f"   without BN the loss along the gradient varies by {std_range:.4f} on average, "
      f"{times(std_range, bn_range)} with BN ({bn_range:.4f}); the range is wider without "
      f"BN at {wider:.0%} of the probes.")
print(f"   The gradient changes by up to {std_change:.3f} without BN, "
      f"{times(std_change, bn_change)} with BN ({bn_change:.3f}).")
smoother = std_range > bn_range and std_change > bn_change
print("   " + ("So along the gradient, the BN network's loss and gradient change less: the "
             "smoother landscape Santurkar et al. describe." if smoother else
             "At this scale and seed the landscape is NOT measurably smoother with BN."))

window = COMPARE_AT
acc = {name: accuracy_at(run, window) for name, run in noisy.items()}
level = 0.5
reach = {name: first_step_reaching(run, level) for name, run in noisy.items()}
print(f"2. Noisy BN. Input of {LAST_RELU} shifts per step (in stds): "
      + ", ".join(f"{name} {run['shift']:.3f}" for name, run in noisy.items()) + ".")
more_shift = noisy["noisy BN"]["shift"] > noisy["BN"]["shift"]
print(f"   The noise {'does' if more_shift else 'does NOT'} add covariate shift: noisy BN's "
      f"inputs move {times(noisy['noisy BN']['shift'], noisy['BN']['shift'], 'more', 'less')} "
      f"BN's, and "
      f"{times(noisy['noisy BN']['shift'], noisy['standard']['shift'], 'more', 'less')} the "
      f"standard "
      f"network's.")
print(f"   Validation accuracy at step {window}: "
      + ", ".join(f"{name} {value:.3f}" for name, value in acc.items()) + ".")
print(f"   First step with validation accuracy >= {level:.1f}: "
      + ", ".join(f"{name} {'never' if s is None else s}" for name, s in reach.items())
      + f" (within {NOISE_STEPS} steps).")
fast = acc["noisy BN"] > acc["standard"] and acc["noisy BN"] > acc["standard + noise"]
more_than = ("more covariate shift than either network without noise"
             if noisy["noisy BN"]["shift"] > noisy["standard"]["shift"] else
             "far more covariate shift than BN")
print("   " + (f"Despite {more_than}, noisy BN "
             f"trains faster than the standard network ({acc['noisy BN']:.3f} vs "
             f"{acc['standard']:.3f} at step {window}), and the same noise without BN "
             f"({acc['standard + noise']:.3f}) is far worse. Keeping distributions stable is "
             f"not what makes BN work." if fast else
             f"Here noisy BN does NOT train faster than the standard network at step {window} "
             f"({acc['noisy BN']:.3f} vs {acc['standard']:.3f})."))

print("RESULT " + " ".join([
    f"loss_range_standard={std_range:.6g}", f"loss_range_bn={bn_range:.6g}",
    f"grad_change_standard={std_change:.6g}", f"grad_change_bn={bn_change:.6g}",
    *[f"shift_{name.replace(' + ', '_').replace(' ', '_')}={run['shift']:.6g}"
      for name, run in noisy.items()],
    *[f"accuracy_{name.replace(' + ', '_').replace(' ', '_')}={value:.6g}"
      for name, value in acc.items()],
]))

# %% [markdown]
# ## Try this
# - The paper also measures the "effective beta-smoothness": the largest
#   ||g(w - eta g) - g(w)|| / ||eta g|| over the step sizes. Compute it from
#   `probe_along_gradient` (the changes divided by eta times the gradient norm): does it
#   differ between the two networks at this scale?
# - Raise `LEARNING_RATE` to 0.5 in part 1: which network's bands widen more, and which
#   network still trains?
# - Make the noise stronger: mu_t ~ U(-2, 2). Does noisy BN still train?
# - Put the noise *before* each BN layer instead of after it. What does BN do to it?

# %%
show_figures()
