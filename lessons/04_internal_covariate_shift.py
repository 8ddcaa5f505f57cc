# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 04: Internal covariate shift (Ioffe & Szegedy 2015, Figure 1)
#
# **The question.** The batch normalization paper opens with one experiment (its Figure 1):
# a network of 3 hidden layers of 100 sigmoid units trained on MNIST with batches of 60,
# with and without BN. Panel (a) shows test accuracy against the training step; panels
# (b) and (c) show how the input of one sigmoid of the last hidden layer is distributed
# (its 15th, 50th and 85th percentiles) as training goes on. The paper's claim: without BN
# that distribution keeps moving (*internal covariate shift*), with BN it stays put and the
# network learns faster. We rerun the experiment and check each part of the claim.
#
# We also ask what BN really buys: does the plain network get there too, only later?
#
# Run it:  `python lessons/04_internal_covariate_shift.py`  (options: `--quick`, `--seed N`,
# `--out DIR`)

# %% tags=["parameters"]
# The lesson's options. In a notebook, change them here, then run all cells. On the command
# line, --quick, --seed N and --out DIR override them.
QUICK = False  # True: a small version that runs in a few seconds
SEED = 0       # the random seed: same seed, same numbers, same figures
OUT = None     # folder for the figures; None: figures/04 beside the lesson

# %%
import os

# Our matrices are small (batch 60 x 100 units): one BLAS thread is faster than several
# threads that wait for each other, above all on a shared machine. Set before NumPy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

import tinynet
from tinynet import datasets, stats
from tinynet.callbacks import Callback, Recorder
from tinynet.classroom import headline, lesson_options, save_figure, show_figures
from tinynet.initializers import RandomNormal
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import SGD

args = lesson_options(4, "Lesson 04: internal covariate shift (Ioffe & Szegedy 2015, Figure 1)",
                      quick=QUICK, seed=SEED, out=OUT)

BATCH = 60                                # the paper's batch size
STEPS = 400 if args.quick else 2000       # training steps per network
EVERY = 50 if args.quick else 100         # measure every EVERY steps
N_TRAIN = 1500 if args.quick else 10000
N_TEST = 500 if args.quick else 1000
N_PROBE = 500                             # fixed test images for the percentile panels
TARGET = 0.75 if args.quick else 0.9    # "high accuracy" (quick runs are too short for 0.9)
UNIT = 0                                  # the sigmoid whose input we follow
BN_MOMENTUM = 0.9                         # see "a trap" below
N_SEEDS_1 = 2 if args.quick else 5        # seeds of experiment 1
N_SEEDS_2 = 2                             # seeds of experiment 2 (all or nothing: see there)

# %% [markdown]
# ## The data: MNIST if it is on this machine, otherwise a synthetic stand-in
#
# `tinynet.datasets.load_mnist(download=False)` reads MNIST from disk and never downloads
# (run `load_mnist()` once to fetch it). Without the files, the lesson makes **synthetic
# digits**: 10 classes of 28 x 28 images with pixels in [0, 1] like MNIST. Each class is a
# fixed random pattern of pen strokes; each image shifts it by up to 3 pixels each way, dims
# it, overlays a faint copy of another class's strokes, and adds pixel noise. The printout
# and every figure title say which data was used.


# %%
def stroke_templates(n_classes=10, side=28, seed=12345):
    """One image per class: 3 connected straight strokes, drawn with a soft (Gaussian) pen.

    Returns (n_classes, side, side) in [0, 1]. The seed is fixed: the classes are the same
    in every run; only the samples drawn from them change with the lesson's seed."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:side, 0:side]
    templates = np.zeros((n_classes, side, side))
    for c in range(n_classes):
        corners = rng.uniform(6, side - 6, size=(4, 2))
        for start, end in zip(corners[:-1], corners[1:], strict=True):
            for t in np.linspace(0, 1, 12):
                row, col = start + t * (end - start)
                ink = np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / (2 * 1.3 ** 2))
                templates[c] = np.maximum(templates[c], ink)
    return templates


def make_synthetic_digits(n_samples, seed, max_shift=3, noise=0.2):
    """x: float32 (n_samples, 784) in [0, 1]; y: int64 (n_samples,) class indices 0-9."""
    rng = np.random.default_rng(seed)
    templates = stroke_templates()
    y = rng.integers(0, 10, n_samples)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(n_samples, 2))
    images = np.empty((n_samples, 28, 28))
    for d_row in range(-max_shift, max_shift + 1):   # one np.roll per shift, not per image
        for d_col in range(-max_shift, max_shift + 1):
            chosen = (shifts[:, 0] == d_row) & (shifts[:, 1] == d_col)
            images[chosen] = np.roll(templates[y[chosen]], (d_row, d_col), axis=(1, 2))
    other = np.roll(templates[rng.integers(0, 10, n_samples)], 1, axis=2)
    images = (images * rng.uniform(0.6, 1.0, (n_samples, 1, 1))
              + 0.35 * other * rng.uniform(0.0, 1.0, (n_samples, 1, 1))
              + noise * rng.normal(size=images.shape))
    return np.clip(images, 0, 1).reshape(n_samples, -1).astype(np.float32), y


def load_data():
    """((x_train, y_train), (x_test, y_test)) and the name of the data set used."""
    if hasattr(datasets, "load_mnist"):
        try:
            (x_tr, y_tr), (x_te, y_te) = datasets.load_mnist(download=False, verbose=False)
            # the first N images of each set (a smaller copy of MNIST may hold fewer)
            train, test = (x_tr[:N_TRAIN], y_tr[:N_TRAIN]), (x_te[:N_TEST], y_te[:N_TEST])
            return train, test, "MNIST"
        except OSError:  # the files are not on this machine (FileNotFoundError)
            pass
    train = make_synthetic_digits(N_TRAIN, seed=args.seed)
    test = make_synthetic_digits(N_TEST, seed=args.seed + 1000)
    return train, test, "synthetic digits (offline stand-in for MNIST)"


(x_train, y_train), (x_test, y_test), DATA = load_data()
print(f"data: {DATA}: {len(x_train)} training and {len(x_test)} test images of "
      f"{x_train.shape[1]} pixels")

# %% [markdown]
# ## The networks
#
# Three hidden layers of 100 sigmoids and a 10-way softmax, trained with plain SGD on the
# cross-entropy, batches of 60. With BN, each Dense layer loses its bias and a
# `BatchNormalization` sits between it and the sigmoid, as in the paper. Both networks are
# built the same way, `Dense -> [BN] -> Activation('sigmoid')`, so the input of the third
# `Activation` layer is exactly "the input of a sigmoid of the last hidden layer".
#
# **A trap: moving averages.** The percentile panels look at the network in inference mode
# on fixed test images, so BN uses its moving averages. Keras's default momentum 0.99
# averages over about 100 steps: at step 100 the moving variance still holds 0.99^100 = 37%
# of its starting value 1, and at step 0 the averages are exactly (0, 1), whatever the data.
# The panels would show that lag, not the network. We use momentum 0.9: the averages follow
# the batches within about 10 steps. (That is PyTorch's default setting, which PyTorch
# writes `momentum=0.1`: lesson 02 explains the two conventions.) And we skip step 0.
#
# Two small callbacks do the bookkeeping: `TestAccuracy` measures test accuracy every
# `EVERY` steps, and `StopAfter` ends training after exactly `STEPS` steps.

# %%
def build(bn, init):
    layers = []
    for i in range(3):
        first = {"input_shape": (x_train.shape[1],)} if i == 0 else {}
        layers.append(Dense(100, use_bias=not bn, kernel_initializer=init, **first))
        if bn:
            layers.append(BatchNormalization(momentum=BN_MOMENTUM))
        layers.append(Activation("sigmoid"))
    layers.append(Dense(10, activation="softmax", kernel_initializer=init))
    return Sequential(layers)


class TestAccuracy(Callback):
    """The accuracy on (x, y) in inference mode every `every` training steps (from step 0,
    before that step's update) and after the last step. Results in .steps and .accuracy."""

    def __init__(self, x, y, every):
        super().__init__()
        self.x, self.y, self.every = x, y, every
        self.step = 0
        self.steps, self.accuracy = [], []

    def measure(self):
        predicted = self.model.predict(self.x, batch_size=len(self.x), verbose=0).argmax(axis=1)
        self.steps.append(self.step)
        self.accuracy.append(float(np.mean(predicted == self.y)))

    def on_train_batch_begin(self, step, logs=None):
        if self.step % self.every == 0:
            self.measure()
        self.step += 1

    def on_train_end(self, logs=None):
        if self.steps[-1] != self.step:  # and once more after the last update
            self.measure()


class StopAfter(Callback):
    """Stop fit after exactly `steps` training steps (fit itself counts epochs)."""

    def __init__(self, steps):
        super().__init__()
        self.steps, self.done = steps, 0

    def on_train_batch_end(self, step, logs=None):
        self.done += 1
        if self.done >= self.steps:
            self.model.stop_training = True


def train(bn, init, learning_rate, probe=False, seed=args.seed):
    """Train one network for STEPS steps; return its accuracy record (and recorder)."""
    tinynet.set_seed(seed)  # same initial weights (where shapes match), same batches
    model = build(bn, init)
    model.compile(optimizer=SGD(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    accuracy = TestAccuracy(x_test, y_test, EVERY)
    callbacks = [accuracy]
    recorder = None
    last_sigmoid = [layer.name for layer in model.layers if isinstance(layer, Activation)][2]
    if probe:
        recorder = Recorder(every=EVERY, layers=[last_sigmoid], per_unit=True,
                            x_probe=x_test[:N_PROBE])
        callbacks.append(recorder)
    epochs = int(np.ceil(STEPS * BATCH / len(x_train)))
    model.fit(x_train, y_train, batch_size=BATCH, epochs=epochs, verbose=0,
              callbacks=[*callbacks, StopAfter(STEPS)])
    return {"accuracy": accuracy, "recorder": recorder, "layer": last_sigmoid}


# %% [markdown]
# ## Experiment 1: default-like init N(0, 0.1^2), learning rate 0.5
#
# The paper's Figure 1, with weights N(0, 0.1^2) (the std of Keras's Glorot default for a
# 100 x 100 layer) and SGD at learning rate 0.5 (the paper gives no learning rate). The paper
# trained for 50,000 steps; 2,000 show the effect here. A `Recorder` with `x_probe` follows
# the input of the last hidden layer's sigmoids on 500 fixed test images; `per_unit=True`
# keeps the percentiles of each unit separately. Both networks are trained from several
# seeds (other initial weights, another batch order, the same data), so that every
# comparison comes with its noise.

# %%
SETTING_1 = "init N(0, 0.1^2), SGD lr 0.5"
SEEDS_1 = [args.seed + k for k in range(N_SEEDS_1)]
run_1 = {seed: {bn: train(bn, RandomNormal(stddev=0.1), 0.5, probe=True, seed=seed)
                for bn in (False, True)} for seed in SEEDS_1}

# %% [markdown]
# ## Experiment 2: the paper's "small random Gaussian" init, N(0, 0.01^2), learning rate 0.1
#
# The result here is all or nothing (see below), so fewer seeds tell it.

# %%
SETTING_2 = "init N(0, 0.01^2), SGD lr 0.1"
SEEDS_2 = [args.seed + k for k in range(N_SEEDS_2)]
run_2 = {seed: {bn: train(bn, RandomNormal(stddev=0.01), 0.1, seed=seed)
                for bn in (False, True)} for seed in SEEDS_2}

# %% [markdown]
# ## Figure 1, reproduced
#
# **What to look at.** (a) Test accuracy, the mean over seeds with a band of one standard
# error: with BN (blue) it climbs within the first few hundred steps; without BN (orange)
# it starts later. (b) Without BN the input of the sigmoid starts as a very narrow
# distribution (all three percentile lines together) and then spreads out and drifts: the
# layer above sees a moving target. (c) With BN the three lines stay about the same distance
# apart from the first measurement on. Panels (b) and (c) share their y axis and show the
# first seed, as the paper shows one run.

# %%
import matplotlib.pyplot as plt

from tinynet import plot

plot.use_style()
NAMES = {False: "without BN", True: "with BN"}


def percentile_record(run):
    """steps (skipping step 0) and the (records, 3, units) percentiles 15/50/85 per unit."""
    recorder = run["recorder"]
    keep = recorder.steps > 0  # at step 0 BN's moving averages are still (0, 1)
    values = recorder.get(run["layer"], "input_unit_percentiles")[keep]
    return recorder.steps[keep], values


def accuracy_table(runs, bn):
    """steps (records,) and test accuracy (seeds, records) of one kind over the seeds."""
    records = [runs[seed][bn]["accuracy"] for seed in runs]
    return np.array(records[0].steps), np.array([record.accuracy for record in records])


def mean_band(ax, runs, title, legend_at="lower right"):
    """Mean test accuracy over seeds, with a band of one standard error, per kind; the legend
    goes where no line runs (legend_at: a matplotlib legend location)."""
    for bn in (False, True):
        steps, table = accuracy_table(runs, bn)
        mean = table.mean(axis=0)
        se = table.std(axis=0, ddof=1) / np.sqrt(len(table)) if len(table) > 1 else 0 * mean
        color = plot.color_for(NAMES[bn])
        ax.plot(steps, mean, color=color, label=f"{NAMES[bn]}, mean of {len(table)} seeds")
        ax.fill_between(steps, mean - se, mean + se, color=color, alpha=0.25, linewidth=0)
    ax.set_ylim(0, 1)
    ax.set_xlabel("training step")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.legend(loc=legend_at)


fig = plt.figure(figsize=(18, 5.5), layout="constrained")
ax_a = fig.add_subplot(1, 3, 1)
ax_b = fig.add_subplot(1, 3, 2)
ax_c = fig.add_subplot(1, 3, 3, sharey=ax_b)
mean_band(ax_a, run_1, "(a) test accuracy")
first = run_1[SEEDS_1[0]]
PERCENTILE_STYLES = [(15, ":"), (50, "-"), (85, "--")]
for ax, bn, letter in [(ax_b, False, "b"), (ax_c, True, "c")]:
    steps, values = percentile_record(first[bn])
    for column, (_, style) in enumerate(PERCENTILE_STYLES):
        ax.plot(steps, values[:, column, UNIT], style, color=plot.color_for(NAMES[bn]))
    ax.set_xlabel("training step")
    ax.set_title(f"({letter}) a last-layer sigmoid's input,\n{NAMES[bn]} "
                 f"(seed {SEEDS_1[0]} only)")
ax_b.set_ylabel("input of the sigmoid")
# (b) and (c) draw the same three percentiles, told apart by line style: one legend, in grey,
# under the figure (a legend under each panel is wider than the panel and pushes them apart)
styles = [plt.Line2D([], [], ls=style, color="grey") for _, style in PERCENTILE_STYLES]
fig.legend(styles, [f"{q}th percentile" for q, _ in PERCENTILE_STYLES], ncol=3, frameon=False,
           loc="outside lower center", title=f"(b) and (c): over {N_PROBE} fixed test images")
fig.suptitle(f"Ioffe & Szegedy 2015, Figure 1, on {DATA}: {SETTING_1}")
save_figure(fig, args.out, "1_figure1_reproduction")

# %% [markdown]
# **What to look at.** With the paper's tiny initial weights: does the network without BN
# learn at all in this budget? Each sigmoid layer passes on an almost constant 0.5 and
# multiplies the gradient by at most 1/4 times tiny weights. BN rescales each layer's input,
# so the same tiny weights can work.

# %%
fig, ax = plt.subplots(figsize=(10, 6), layout="constrained")
# the legend sits in the empty middle: with BN runs near the top, without BN along chance
mean_band(ax, run_2, f"{SETTING_2}, on {DATA}", legend_at="center right")
ax.axhline(0.1, color="grey", lw=1.5, ls=":")
ax.text(STEPS, 0.13, "chance (10 classes)", color="grey", ha="right", va="bottom")
save_figure(fig, args.out, "2_small_init_accuracy")

# %% [markdown]
# ## What the measurements say
#
# Every comparison below is over the seeds, with its standard error. A difference counts as
# real only when its 95 % interval, mean ± t·s.e., leaves out 0: t is 2.78 for the 5 seeds of
# experiment 1 and 12.7 for the 2 of experiment 2 (few seeds need a wide margin). Otherwise
# it is called noise.


# %%
def first_step_reaching(record, target):
    """The first measured step with test accuracy >= target; STEPS if it never got there
    (a lower bound: the printout says how many runs that was)."""
    for step, value in zip(record.steps, record.accuracy, strict=True):
        if value >= target:
            return step
    return STEPS


def spread_change(run):
    """Median over the 100 units of (largest spread / smallest spread) of a unit's input over
    training, the spread being its 85th minus its 15th percentile; and the median over the
    units of how far the unit's median moved."""
    _, values = percentile_record(run)
    spread = values[:, 2, :] - values[:, 0, :]          # (records, units)
    ratio = spread.max(axis=0) / spread.min(axis=0)
    drift = values[:, 1, :].max(axis=0) - values[:, 1, :].min(axis=0)
    return float(np.median(ratio)), float(np.median(drift))


def over_seeds(runs, value):
    """{bn: array over seeds of value(run)}."""
    return {bn: np.array([value(runs[seed][bn]) for seed in runs]) for bn in (False, True)}


def catch_up_sentence(final):
    """Does the plain network catch up by the end? From the final-accuracy comparison."""
    if not final.measured:
        return f"By the end: {final.verdict}."
    if not final.clear:  # not "caught up": that would assume it was behind, and equal now
        return "By the end there is no clear difference in final accuracy at this scale."
    points = f"{100 * abs(final.difference):.1f} points"
    if final.favours == "with BN":
        return f"The plain network has not caught up by the end: BN is still {points} ahead."
    return f"By the end the plain network is {points} ahead of BN."


def conclusion(speed, shift, final, small_init):
    """What BN bought in this run, in one sentence built from the four comparisons."""
    bought = []
    if speed.favours == "with BN":
        bought.append("speed")
    if small_init.favours == "with BN":
        bought.append("robustness to a tiny init")
    if not bought:
        return "In these runs BN bought neither speed nor robustness to the init."
    steadier = ("kept the sigmoid's input steadier" if shift.clear and shift.difference < 0
                else "let the sigmoid's input change more, beyond the noise" if shift.clear
                else "did not clearly keep the sigmoid's input steadier")
    if not final.measured:
        end = f"the final accuracies cannot be compared ({final.verdict})"
    elif not final.clear:  # "only later" only when BN was measured faster
        later = (": the plain network gets as far, only later" if speed.favours == "with BN"
                 else "")
        end = f"the final accuracies are not clearly different{later}"
    else:
        behind = "behind" if final.difference > 0 else "ahead"
        end = f"the plain network ends {100 * abs(final.difference):.1f} points {behind}"
    return f"Here BN bought {' and '.join(bought)}, and {steadier}; with a good init {end}."


reach = over_seeds(run_1, lambda run: first_step_reaching(run["accuracy"], TARGET))
early = over_seeds(run_1, lambda run: run["accuracy"].accuracy[1])
final = over_seeds(run_1, lambda run: run["accuracy"].accuracy[-1])
shift_ratio = over_seeds(run_1, lambda run: spread_change(run)[0])
drift = over_seeds(run_1, lambda run: spread_change(run)[1])
final_2 = over_seeds(run_2, lambda run: run["accuracy"].accuracy[-1])
first_step = run_1[SEEDS_1[0]][False]["accuracy"].steps[1]

# Steps are counted every EVERY steps, so the means over seeds are usually whole numbers: then
# they print as integers ('{:,.0f}' prints each number as it is: 400 vs 1,520; -1,120), else
# with one decimal ('{:.0f}' gives the means one digit more, so that they add up).
whole = all(float(np.mean(reach[bn])).is_integer() for bn in (False, True))
speed = stats.compare(reach[True], reach[False], f"1. Steps to reach test accuracy "
                      f"{TARGET:.2f}", fmt="{:,.0f}" if whole else "{:.0f}")
start = stats.compare(early[True], early[False], f"   Test accuracy at step {first_step}",
                      lower_is_better=False)
shift = stats.compare(shift_ratio[True], shift_ratio[False], "2. How much the spread of a "
                      "last-layer sigmoid's input changes (largest / smallest, median over "
                      "units)", fmt="{:.1f}", lower_is_better=None)
moved = stats.compare(drift[True], drift[False], "   How far its median moves, highest minus "
                      "lowest over training (in units of the sigmoid's input, the y axis of "
                      "(b) and (c); median over units)", fmt="{:.2f}", lower_is_better=None)
ended = stats.compare(final[True], final[False], f"3. Test accuracy after {STEPS} steps",
                      lower_is_better=False)
small = stats.compare(final_2[True], final_2[False], f"4. {SETTING_2}: test accuracy after "
                      f"{STEPS} steps", lower_is_better=False)

print()
print(f"Summary (data: {DATA}; {STEPS} steps, batches of {BATCH}; experiment 1, {SETTING_1} "
      f"(lines 1-3): {len(SEEDS_1)} seeds; experiment 2, {SETTING_2} (line 4): "
      f"{len(SEEDS_2)} seeds)")
print(speed.sentence())
never = {bn: int(np.sum(reach[bn] >= STEPS)) for bn in (False, True)}
for bn in (False, True):
    if never[bn]:
        print(f"   ({never[bn]} run(s) {NAMES[bn]} never reached {TARGET:.2f}: counted as "
              f"{STEPS} steps, so that mean is a lower bound.)")
print(start.sentence())
print(shift.sentence())
print(moved.sentence())
# the verdict says what each measure shows: the spread (line 2) and the median (the line
# under it) are two measures of the input distribution, and they need not agree
median_words = ("its median moves more without BN, beyond the noise"
                if moved.clear and moved.difference < 0 else
                "its median moves more with BN, beyond the noise" if moved.clear else
                "how far its median moves is not clearly different")
if shift.clear and shift.difference < 0:
    print(f"   The paper's internal covariate shift shows in the spread: the spread of the "
          f"input changes more without BN, beyond the noise; {median_words}.")
else:
    print(f"   The paper's effect does not show here: the spread of the input does not "
          f"clearly change more without BN; {median_words}.")
print(ended.sentence())
print("   " + catch_up_sentence(ended))
print(small.sentence())
# against chance (one class in ten), with the noise of the seeds, not a fixed threshold
above_chance = stats.compare(final_2[False], np.full(len(final_2[False]), 0.1),
                             "test accuracy without BN", ("without BN", "chance"),
                             lower_is_better=False)
state = ("learning: above chance, beyond the noise" if above_chance.favours == "without BN"
         else f"not clearly above chance ({above_chance.verdict})")
print(f"   Without BN the network is {state} ({final_2[False].mean():.3f}; chance is 0.100).")
print(conclusion(speed, shift, ended, small))

print("RESULT " + " ".join([
    f"data={'mnist' if DATA == 'MNIST' else 'synthetic'}",
    f"seeds={len(SEEDS_1)}",
    f"seeds_small_init={len(SEEDS_2)}",
    f"final_accuracy_bn={ended.mean_a:.6g}",
    f"final_accuracy_plain={ended.mean_b:.6g}",
    f"early_accuracy_bn={start.mean_a:.6g}",
    f"early_accuracy_plain={start.mean_b:.6g}",
    f"steps_to_target_bn={speed.mean_a:.6g}",
    f"steps_to_target_plain={speed.mean_b:.6g}",
    f"spread_ratio_bn={shift.mean_a:.6g}",
    f"spread_ratio_plain={shift.mean_b:.6g}",
    f"small_init_accuracy_bn={small.mean_a:.6g}",
    f"small_init_accuracy_plain={small.mean_b:.6g}",
]))
headline(f"test accuracy {TARGET:.2f} after {speed.shown()[0]} steps with BN, "
         f"{speed.shown()[1]} without ({speed.noise()}; {DATA}): {speed.verdict}")


# %% [markdown]
# ## Try this
# - Set `BN_MOMENTUM = 0.99` (Keras's default) and look at panel (c) again: what happens in
#   the first few hundred steps, and why?
# - Follow another unit: `UNIT = 7`. Is unit 0 typical?
# - Experiment 1 with learning rate 0.1 instead of 0.5: does the plain network still catch up
#   within the budget?
# - Replace the sigmoids by ReLU: is the covariate shift still visible? Does BN still help?

# %%
show_figures()
