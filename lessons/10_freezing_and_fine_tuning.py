# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 10: freezing and fine-tuning a network with batch normalization
#
# **Question.** You trained a network on one task; now the inputs have shifted (a new
# sensor, a recalibrated instrument) and you have only a few hundred new samples. The usual
# recipe is to *freeze* the trained layers and train only the last one. But a
# BatchNormalization layer holds two kinds of numbers: gamma and beta, which gradients
# train, and the moving mean and variance, which are not trained but *updated* by every
# training step. What should "frozen" do to those?
#
# Keras 3's rule (and tinynet's): `layer.trainable = False` on a BatchNormalization layer
# puts it in **inference mode**, even inside `fit`: it normalizes with its moving statistics
# and updates nothing. Keras before TensorFlow 2.0 did otherwise: a frozen BN layer kept
# gamma and beta fixed but was not switched to inference mode, so inside `fit` it still
# normalized each batch with the batch's own statistics. (Sources: the `BatchNormalization`
# documentation of Keras 3 on keras.io and of TensorFlow 2 on tensorflow.org, "About setting
# `layer.trainable = False`", which says the rule came with TensorFlow 2.0; and
# keras-team/keras pull request #9965, 2018, which describes the old behaviour during
# fine-tuning.) This lesson fine-tunes the same trained network three ways, over several
# seeds, and measures what each does to the old task and the new:
#
# * **frozen, Keras 3**: `trainable = False`, inference mode, nothing in BN changes;
# * **BN trainable**: the Dense layers frozen, BN left trainable (training mode: batch
#   statistics, moving statistics updated, gamma and beta trained);
# * **frozen, old Keras**: gamma and beta frozen, but batch statistics in training and the
#   moving statistics updated: the old behaviour, emulated below by a small subclass. (Which
#   old versions also updated the moving statistics of a frozen layer varied; the emulation
#   does what any BN layer in training mode does, so read it as the old rule at its worst.)
#
# Then, briefly, a second way BN changes what a familiar tool does: **weight decay** (an L2
# penalty) on the weights just before a BN layer cannot make the network simpler, because BN
# undoes their scale. It changes the *effective learning rate* instead (van Laarhoven 2017).
#
# Run it:  `python lessons/10_freezing_and_fine_tuning.py`  (options: `--quick`, `--seed N`,
# `--out DIR`)

# %% tags=["parameters"]
# The lesson's options. In a notebook, change them here, then run all cells. On the command
# line, --quick, --seed N and --out DIR override them.
QUICK = False  # True: a small version that runs in a few seconds
SEED = 0       # the random seed: same seed, same numbers, same figures
OUT = None     # folder for the figures; None: figures/10 beside the lesson

# %%
import os

# These networks are tiny: one BLAS thread is faster than several fighting over a busy CPU.
# (It must be set before NumPy is imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import tinynet
from tinynet import regularizers
from tinynet.callbacks import Callback
from tinynet.classroom import headline, lesson_options, save_figure, show_figures
from tinynet.datasets import make_classification
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.layers.batchnorm import batchnorm_train
from tinynet.models import Sequential
from tinynet.optimizers import SGD, Adam
from tinynet.stats import compare, mean_and_se

args = lesson_options(10, "Lesson 10: freezing, fine-tuning, and weight decay before BN",
                      quick=QUICK, seed=SEED, out=OUT)
N_SEEDS = 2 if args.quick else 6      # every comparison is over this many seeds
N_OLD = 1000 if args.quick else 2000  # training samples of the old task
PRETRAIN_EPOCHS = 5 if args.quick else 10
N_NEW = 256                           # the new task's small training set
FINE_TUNE_EPOCHS = 6 if args.quick else 25
N_TEST = 500                          # test samples of each task
SHIFT = 2.0                           # each feature's mean moves by 2 standard deviations
BATCH = 32
DECAY_EPOCHS = 3 if args.quick else 10
L2 = 0.01                             # the weight decay of part 2 (Keras's default factor)
SGD_RATE = 0.1                        # part 2's learning rate
seeds = [args.seed + k for k in range(N_SEEDS)]

# %% [markdown]
# ## Two tasks: the same question, asked of shifted inputs
#
# `make_classification` gives 20 features and a 0/1 label. The features are standardized
# with the old training set's mean and standard deviation. The **new task** asks the same
# question about inputs measured differently: every feature's mean moves by `SHIFT` = 2
# standard deviations (up or down at random) and its spread is multiplied by a random factor
# between 1/2 and 2. The labels are unchanged. The old task has 2,000 training samples, the
# new one only 256: the usual reason to fine-tune rather than train from scratch.


# %%
def make_tasks(seed):
    """The old task and the shifted new one, from one draw of make_classification.

    Returns {'old_train', 'old_test', 'new_train', 'new_test'}: each a pair (x (N, 20), y (N,))."""
    sizes = [N_OLD, N_TEST, N_NEW, N_TEST]
    x, y = make_classification(n_samples=sum(sizes), n_features=20, seed=seed)
    x = (x - x[:N_OLD].mean(axis=0)) / x[:N_OLD].std(axis=0)  # the old training set's units
    rng = np.random.default_rng(seed)
    offset = SHIFT * rng.choice([-1.0, 1.0], size=20)
    scale = np.exp(rng.uniform(np.log(0.5), np.log(2.0), size=20))
    parts = np.split(np.arange(len(x)), np.cumsum(sizes)[:-1])
    tasks = {}
    for name, rows in zip(["old_train", "old_test", "new_train", "new_test"], parts,
                          strict=True):
        inputs = x[rows] * scale + offset if name.startswith("new") else x[rows]
        tasks[name] = (inputs.astype(np.float32), y[rows])
    return tasks


tasks = make_tasks(args.seed)
old_x, new_x = tasks["old_train"][0], tasks["new_train"][0]
print(f"old task: {len(old_x)} training samples, feature means {old_x.mean(axis=0).min():+.2f}"
      f" to {old_x.mean(axis=0).max():+.2f}, stds {old_x.std(axis=0).min():.2f} to "
      f"{old_x.std(axis=0).max():.2f}")
print(f"new task: {len(new_x)} training samples, feature means {new_x.mean(axis=0).min():+.2f}"
      f" to {new_x.mean(axis=0).max():+.2f}, stds {new_x.std(axis=0).min():.2f} to "
      f"{new_x.std(axis=0).max():.2f}")

# %% [markdown]
# ## The network, trained on the old task
#
# Two blocks of Dense(64), BatchNormalization, ReLU, then a sigmoid output: Adam with its
# defaults, batches of 32. This is the "pretrained" network of each seed.


# %%
def network(batch_norm=BatchNormalization):
    """Dense-BN-ReLU twice, then the head. batch_norm: the BN class to use (part 1 swaps in
    the old-Keras emulation)."""
    model = Sequential([
        Dense(64, input_shape=(20,)), batch_norm(), Activation("relu"),
        Dense(64), batch_norm(), Activation("relu"),
        Dense(1, activation="sigmoid"),
    ])
    model.build((None, 20))
    return model


def compiled(model, optimizer=None):
    model.compile(optimizer=optimizer or Adam(), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def pretrain(tasks, seed):
    """The network trained on the old task (the same seed gives the same network)."""
    tinynet.set_seed(seed)
    model = compiled(network())
    model.fit(*tasks["old_train"], epochs=PRETRAIN_EPOCHS, batch_size=BATCH, verbose=0)
    return model


# %% [markdown]
# ## Three ways to freeze, and the old one written as a layer
#
# Keras 3's rule needs no code: `layer.trainable = False`. For the old behaviour we write a
# small subclass of `BatchNormalization`. When it is frozen and training, it does what every
# BN layer does in training (normalize with the batch's mean and variance, and move the
# moving statistics toward them); `fit` still leaves gamma and beta alone, because the layer
# is frozen. In every other case it is the ordinary layer.


# %%
class OldFrozenBatchNormalization(BatchNormalization):
    """BatchNormalization whose trainable=False freezes only gamma and beta, as in Keras
    before TensorFlow 2.0: inside fit it still normalizes with the batch's statistics and
    updates its moving mean and variance."""

    def forward(self, x, training=False):
        """Inputs: x (N, D). Returns: y (N, D)."""
        if self.trainable or not training:
            return super().forward(x, training=training)  # the ordinary layer
        self.check_input(x)
        y, self.cache = batchnorm_train(x, self.params["gamma"], self.params["beta"],
                                        self.epsilon)  # backward differentiates this cache
        # the moving statistics follow the batch (x.var is the biased variance, as in Keras)
        self.update_moving_statistics(mean=x.mean(axis=0), variance=x.var(axis=0))
        return y


KERAS_3, TRAINABLE_BN, OLD_KERAS = "frozen, Keras 3", "BN trainable", "frozen, old Keras"
MODES = {KERAS_3: BatchNormalization, TRAINABLE_BN: BatchNormalization,
         OLD_KERAS: OldFrozenBatchNormalization}

# %% [markdown]
# ## Fine-tuning, measured after every epoch
#
# Each way starts from a copy of the pretrained weights. Everything but the head is frozen
# (in the "BN trainable" way, the BN layers are left trainable); the head keeps training
# with a fresh Adam, on the 256 new samples, for 25 epochs of 8 steps (6 epochs with
# QUICK). After every epoch a callback measures:
#
# * **new task**: accuracy on the new test set, in inference mode (what `predict` gives);
# * **fit's accuracy**: the training accuracy `fit` reports, measured in training mode;
# * **old task**: the frozen part *with its original head*, on the old test set. Only the
#   head trained, so any change here comes from what happened inside the "frozen" part;
# * **drift**: how far each BN layer's moving mean has moved from its pretrained value, in
#   units of the pretrained moving standard deviation, averaged over units and layers.


# %%
def moving_mean_drift(model, pretrained):
    """|moving_mean - pretrained moving_mean| / pretrained moving std, averaged over every
    unit of every BN layer: 0 means the statistics did not move."""
    drifts = []
    for layer, before in zip(model.layers, pretrained.layers, strict=True):
        if isinstance(layer, BatchNormalization):
            old_std = np.sqrt(before.state["moving_variance"] + before.epsilon)
            drifts.append(np.abs(layer.state["moving_mean"] - before.state["moving_mean"])
                          / old_std)
    return float(np.mean(drifts))


def largest_change(model, pretrained, kind):
    """The largest |change| of any weight in the frozen part (all layers but the head) since
    pretraining; kind: 'params' (kernels, biases, gamma, beta) or 'state' (moving stats)."""
    changes = [np.max(np.abs(getattr(layer, kind)[key] - getattr(before, kind)[key]))
               for layer, before in zip(model.layers[:-1], pretrained.layers[:-1], strict=True)
               for key in getattr(layer, kind)]
    return float(max(changes))


def change_words(change):
    """'unchanged (largest change 0)' when nothing moved, else 'changed by up to <change>'."""
    return "unchanged (largest change 0)" if change == 0 else f"changed by up to {change:.3g}"


class FineTuneProbe(Callback):
    """After every epoch: new-task accuracy (inference), fit's accuracy (training mode), the
    old task's accuracy with the original head, and the drift of the moving means."""

    def __init__(self, pretrained, tasks):
        super().__init__()
        self.pretrained, self.tasks = pretrained, tasks
        self.original = compiled(network())  # the frozen part goes under the ORIGINAL head
        self.original.set_weights(pretrained.get_weights())
        self.record = {"new": [], "fit": [], "old": [], "drift": []}

    def on_epoch_end(self, epoch, logs=None):
        self.measure(self.model, logs["accuracy"])

    def measure(self, model, fit_accuracy):
        for source, target in zip(model.layers[:-1], self.original.layers[:-1], strict=True):
            target.set_weights(source.get_weights())
        self.record["old"].append(self.original.evaluate(*self.tasks["old_test"], verbose=0)[1])
        self.record["new"].append(model.evaluate(*self.tasks["new_test"], verbose=0)[1])
        self.record["fit"].append(fit_accuracy)
        self.record["drift"].append(moving_mean_drift(model, self.pretrained))


def fine_tune(mode, pretrained, tasks, seed):
    """Fine-tune a copy of `pretrained` on the new task the way `mode` says. Returns the
    probe's record (one value per epoch, epoch 0 = before fine-tuning) and the largest
    changes of the frozen part's params and state."""
    tinynet.set_seed(seed)
    model = network(MODES[mode])
    model.set_weights(pretrained.get_weights())
    for layer in model.layers[:-1]:  # everything but the head
        layer.trainable = mode == TRAINABLE_BN and isinstance(layer, BatchNormalization)
    compiled(model)
    probe = FineTuneProbe(pretrained, tasks)
    probe.measure(model, fit_accuracy=np.nan)  # before the first step: fit has no accuracy
    model.fit(*tasks["new_train"], epochs=FINE_TUNE_EPOCHS, batch_size=BATCH, verbose=0,
              callbacks=[probe])
    return {**probe.record, "params_change": largest_change(model, pretrained, "params"),
            "state_change": largest_change(model, pretrained, "state")}


def run_seed(seed):
    """Pretrain on the old task, then fine-tune the three ways: {mode: record}."""
    tasks = make_tasks(seed)
    pretrained = pretrain(tasks, seed)
    return {mode: fine_tune(mode, pretrained, tasks, seed) for mode in MODES}


runs = [run_seed(seed) for seed in seeds]
first = runs[0]
print(f"\nSeed {args.seed}: accuracy before fine-tuning: old task "
      f"{first[KERAS_3]['old'][0]:.3f}, new task {first[KERAS_3]['new'][0]:.3f}")
for mode in MODES:
    record = first[mode]
    print(f"  {mode:<18} after {FINE_TUNE_EPOCHS} epochs: old task {record['old'][-1]:.3f}, "
          f"new task {record['new'][-1]:.3f} (fit's {record['fit'][-1]:.3f}), drift "
          f"{record['drift'][-1]:.2f} std; below the head, the weights (kernel, bias, gamma, "
          f"beta) {change_words(record['params_change'])}, the moving statistics "
          f"{change_words(record['state_change'])}")

# %% [markdown]
# ## The picture, over every seed
#
# **What to look at.** Left: the old task. The blue line (Keras 3) must be flat: nothing in
# the frozen part can move. Do the other two fall, and how fast? Middle: the new task.
# Solid lines are inference mode (what users get), dashed lines what `fit` reports. Where a
# dashed line sits far above its solid line, `fit` is promising an accuracy that `predict`
# does not deliver. Right: the drift of the moving means, the cause of both.

# %%
import matplotlib.pyplot as plt

from tinynet import plot

plot.use_style()
MODE_COLORS = {KERAS_3: plot.BLUE, TRAINABLE_BN: plot.COLORS[7], OLD_KERAS: plot.VERMILLION}
steps = np.arange(FINE_TUNE_EPOCHS + 1) * int(np.ceil(N_NEW / BATCH))


def band(ax, key, mode, style="-", label=None):
    """The mean over seeds of runs[i][mode][key] per epoch, with a band of 1 s.e."""
    curves = np.array([run[mode][key] for run in runs])
    mean = curves.mean(axis=0)
    se = curves.std(axis=0, ddof=1) / np.sqrt(len(curves))
    ax.plot(steps, mean, style, color=MODE_COLORS[mode], label=label)
    ax.fill_between(steps, mean - se, mean + se, color=MODE_COLORS[mode], alpha=0.2,
                    linewidth=0)


fig, axes = plt.subplots(1, 3, figsize=(18, 6), layout="constrained")
for mode in MODES:
    band(axes[0], "old", mode, label=mode)
    band(axes[1], "new", mode)
    band(axes[1], "fit", mode, style="--")
    band(axes[2], "drift", mode)
titles = ["old task, original head (inference)", "new task: inference (solid), fit's (dashed)",
          "drift of the moving means"]
for ax, title, ylabel in zip(axes, titles, ["accuracy", "accuracy", "|change| / old std"],
                             strict=True):
    ax.set_title(title)
    ax.set_xlabel("fine-tuning step")
    ax.set_ylabel(ylabel)
plot.shared_legend(fig, axes[0], columns=3)
fig.suptitle(f"Fine-tuning on shifted inputs: mean over {N_SEEDS} seeds, band = 1 s.e.")
save_figure(fig, args.out, "10_fine_tuning")

# %% [markdown]
# ## What the fine-tuning runs measured
#
# Each sentence below is chosen by the numbers: `compare` reports a difference with its
# standard error over seeds, and counts it as real only when its 95 % interval,
# mean ± t·s.e., leaves out 0 (t = 2.57 for the 6 seeds of the full run, 12.7 for the 2 of a
# quick one: few seeds need a wide margin); otherwise it calls it noise. One
# sentence may mention AdaBN (Li, Wang, Shi, Liu and Hou, "Revisiting Batch Normalization
# For Practical Domain Adaptation", 2016, arXiv:1603.04779): recomputing BN's statistics on
# the new domain's data *on purpose*, as a way to adapt a network to it.


# %%
def per_seed(mode, key, epoch=-1):
    """One number per seed: the record `key` of `mode` after `epoch` (-1: the last)."""
    return np.array([run[mode][key][epoch] for run in runs])


def old_task_words(keras3_vs_old, frozen_change=0.0, old_drift=None):
    """What the old task says, from a Comparison of old-task accuracy (Keras 3 - old Keras),
    the largest change of any frozen weight (frozen_change) and the old way's drift of the
    moving means in old stds (a Comparison against 0, or None when not measured)."""
    if not np.isfinite(keras3_vs_old.se):
        return "one seed only: no verdict on the old task"
    if not keras3_vs_old.clear:
        return ("the old way of freezing did not clearly hurt the old task in these runs "
                "(no clear difference at this scale)")
    if keras3_vs_old.difference > 0:
        # each clause from what was measured: the frozen weights' change, the statistics' drift
        weights = ("although not one frozen weight changed" if frozen_change == 0 else
                   f"while the frozen weights changed by at most {frozen_change:.1e}")
        moved = (old_drift is not None and old_drift.clear and old_drift.difference > 0)
        why = (f"the moving statistics moved to the new inputs ({old_drift.shown()[0]} old "
               f"stds, beyond the noise), so the layers after them receive differently "
               f"normalized values than the ones they learned from" if moved else
               "these runs do not show the moving statistics clearly moving, so they do not "
               "say why")
        return (f"the old way of freezing cost the old task {keras3_vs_old.difference:.3f} of "
                f"accuracy, beyond the noise, {weights}: {why}")
    return ("the old way of freezing kept the old task better than Keras 3's rule, beyond the "
            "noise: a surprise worth investigating")


def fit_words(fit_vs_inference):
    """Whether fit's training-mode accuracy differs from inference, from a Comparison of
    fit's accuracy - inference accuracy on the new task."""
    if not np.isfinite(fit_vs_inference.se):
        return "one seed only: no verdict"
    if not fit_vs_inference.clear:
        return (f"fit's accuracy is not clearly different from inference at this scale (95 % "
                f"interval {fit_vs_inference.interval_words()}: it could be either side of "
                f"zero)")
    if fit_vs_inference.difference > 0:
        return (f"fit's accuracy promises {fit_vs_inference.difference:.3f} more than "
                f"inference delivers, beyond the noise")
    return (f"fit's accuracy is {-fit_vs_inference.difference:.3f} below inference, beyond "
            f"the noise")


def new_task_words(new, old):
    """What the new task says, from Comparisons of new-task and old-task accuracy (Keras 3 -
    old Keras, each)."""
    if not new.measured:
        return f"on the new task: {new.verdict}"
    if not new.clear:
        return "on the new task the two ways are not clearly different at this scale"
    if new.difference > 0:  # "too" only when it is ahead on the old task as well
        too = " too" if old.clear and old.difference > 0 else ""
        return f"on the new task{too}, Keras 3's rule is ahead, beyond the noise"
    ahead = ("on the new task the old way is ahead, beyond the noise: normalizing with the new "
             "inputs' statistics undoes part of the shift (the idea behind AdaBN, Li et al. "
             "2016)")
    if old.clear and old.difference > 0:
        return (ahead + ", but it changed the \"frozen\" network: it no longer does what it "
                "did on the old inputs. Adapting the statistics is a choice to make on "
                "purpose, not a side effect of freezing")
    return ahead + ", and here without a clear cost to the old task"


def headline_text(keras3_vs_old, before):
    """The lesson's headline, from the old-task Comparison and the accuracy before
    fine-tuning (mean over seeds)."""
    verdict = ("; the old way costs the old task accuracy, beyond the noise"
               if keras3_vs_old.clear and keras3_vs_old.difference > 0 else
               "; the old way keeps the old task better, beyond the noise"
               if keras3_vs_old.clear else
               f"; {keras3_vs_old.verdict}" if not keras3_vs_old.measured else
               "; no clear cost at this scale")
    return (f"old-task accuracy after fine-tuning: {keras3_vs_old.mean_a:.3f} with BN frozen "
            f"the Keras 3 way (before: {before:.3f}) vs {keras3_vs_old.mean_b:.3f} frozen the "
            f"old way; difference {keras3_vs_old.noise()}{verdict}")


n_first = int(np.ceil(N_NEW / BATCH))
old_cmp = compare(per_seed(KERAS_3, "old"), per_seed(OLD_KERAS, "old"),
                  f"- Old task after {FINE_TUNE_EPOCHS} epochs, accuracy", (KERAS_3, OLD_KERAS),
                  lower_is_better=False, bounds=(0, 1))
trainable_cmp = compare(per_seed(KERAS_3, "old"), per_seed(TRAINABLE_BN, "old"),
                        f"- Old task after {FINE_TUNE_EPOCHS} epochs, accuracy",
                        (KERAS_3, TRAINABLE_BN), lower_is_better=False, bounds=(0, 1))
new_cmp = compare(per_seed(KERAS_3, "new"), per_seed(OLD_KERAS, "new"),
                  f"- New task after {FINE_TUNE_EPOCHS} epochs, accuracy (inference)",
                  (KERAS_3, OLD_KERAS), lower_is_better=False, bounds=(0, 1))
fit_early = compare(per_seed(OLD_KERAS, "fit", 1), per_seed(OLD_KERAS, "new", 1),
                    f"- Old Keras, new task after 1 epoch ({n_first} steps)",
                    ("fit's", "inference"), lower_is_better=None, bounds=(0, 1))
fit_late = compare(per_seed(OLD_KERAS, "fit"), per_seed(OLD_KERAS, "new"),
                   f"- Old Keras, new task after {FINE_TUNE_EPOCHS} epochs",
                   ("fit's", "inference"), lower_is_better=None, bounds=(0, 1))
before = per_seed(KERAS_3, "old", 0).mean()
keras3_change = max(max(run[KERAS_3]["params_change"], run[KERAS_3]["state_change"])
                    for run in runs)
frozen_change = max(run[mode]["params_change"] for run in runs
                    for mode in (KERAS_3, OLD_KERAS))

print("\nSummary (part 1)")
print(f"- Frozen the Keras 3 way, the weights and moving statistics of the frozen part are "
      f"{change_words(keras3_change)} over the {N_SEEDS} seeds, and the old task's accuracy "
      f"(mean over seeds) is {per_seed(KERAS_3, 'old').mean():.3f} after fine-tuning, "
      f"{before:.3f} before.")
print(f"- In both frozen ways the frozen weights (kernels, biases, gamma, beta) are "
      f"{change_words(frozen_change)} over the {N_SEEDS} seeds.")
for mode in MODES:
    drift, drift_se = mean_and_se(per_seed(mode, "drift"))
    print(f"- Drift of the moving means, {mode}: {drift:.2f} ± {drift_se:.2f} old stds "
          f"(mean ± s.e. over {N_SEEDS} seeds)")
for comparison in (old_cmp, trainable_cmp):
    print(comparison.sentence())
old_drift_cmp = compare(per_seed(OLD_KERAS, "drift"), np.zeros(N_SEEDS),
                        "drift of the moving means", ("old Keras", "none"),
                        lower_is_better=None)
print(f"  So: {old_task_words(old_cmp, frozen_change, old_drift_cmp)}.")
print(new_cmp.sentence())
print(f"  So: {new_task_words(new_cmp, old_cmp)}.")
for comparison in (fit_early, fit_late):
    print(comparison.sentence())
    print(f"  So: {fit_words(comparison)}.")

# %% [markdown]
# ## Part 2: weight decay just before BN changes the step size, not the function
#
# Take a Dense layer with kernel W followed by BN. Multiply W by any c > 0: every
# pre-activation is multiplied by c, so is the batch mean, and the batch standard deviation
# too (up to epsilon), so BN's output does not change:
#
#     BN(x (c W)) = BN(x W)         =>    L(c W) = L(W)    for every c > 0
#
# Two facts follow, both measured below:
#
# * **the gradient scales as 1/c**: dL/dW at c W is (dL/dW at W) / c. A step of plain SGD,
#   relative to the weight it moves, is then `lr * |g| / |W|`, which scales as 1/c^2: the
#   smaller the weights, the bigger each step. Their *effective learning rate* is about
#   lr / |W|^2.
# * **the gradient is perpendicular to W** (moving along W changes nothing), so each SGD
#   step makes |W| grow: |W_new|^2 = |W|^2 + lr^2 |g|^2. Without decay, the effective
#   learning rate shrinks by itself as training goes on.
#
# An L2 penalty `l2 * sum(W^2)` (`kernel_regularizer=regularizers.l2(0.01)`) cannot prefer a
# "smaller" function here, since every scale of W gives the same function. What it does is
# pull |W| down, which keeps the effective learning rate high. This is van Laarhoven's point
# ("L2 Regularization versus Batch and Weight Normalization", 2017, arXiv:1706.05350): with
# normalization, L2 has no regularizing effect; it acts on the scale of the weights and so
# on the effective learning rate. The paper also notes that without regularization the
# weights' norm tends to grow, so the effective learning rate falls.
#
# The experiment: the same network, trained on the old task with SGD(0.1), with and without
# `l2(0.01)` on both kernels that feed a BN layer (the head has none). A callback records,
# at every step, the first kernel's norm |W| and its relative step |dW| / |W|.


# %%
def decay_network(l2, first_epsilon=1e-3):
    """Part 1's network; l2 > 0 puts an L2 penalty on the two kernels that feed BN.
    first_epsilon: the first BN layer's epsilon (Keras's default 1e-3)."""
    penalty = regularizers.l2(l2) if l2 > 0 else None
    return Sequential([
        Dense(64, input_shape=(20,), kernel_regularizer=penalty),
        BatchNormalization(epsilon=first_epsilon),
        Activation("relu"),
        Dense(64, kernel_regularizer=penalty), BatchNormalization(), Activation("relu"),
        Dense(1, activation="sigmoid"),
    ])


class StepSizes(Callback):
    """Records, at every step, the first kernel's norm |W| and relative step |dW| / |W|."""

    def on_train_begin(self, logs=None):
        self.norms, self.steps = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.before = self.model.layers[0].params["kernel"].copy()

    def on_train_batch_end(self, batch, logs=None):
        kernel = self.model.layers[0].params["kernel"]
        self.norms.append(np.linalg.norm(kernel))
        self.steps.append(np.linalg.norm(kernel - self.before) / np.linalg.norm(self.before))


def train_with_decay(l2, seed):
    """Train decay_network(l2) on the old task; returns the model and its StepSizes."""
    data = make_tasks(seed)
    tinynet.set_seed(seed)  # the same initial weights with and without decay
    model = compiled(decay_network(l2), SGD(SGD_RATE))
    sizes = StepSizes()
    model.fit(*data["old_train"], epochs=DECAY_EPOCHS, batch_size=BATCH, verbose=0,
              callbacks=[sizes])
    sizes.accuracy = model.evaluate(*data["old_test"], verbose=0)[1]
    return model, sizes


DECAYS = {"no decay": 0.0, f"l2({L2})": L2}
decay_runs = {name: [train_with_decay(l2, seed) for seed in seeds] for name, l2 in
              DECAYS.items()}

# %% [markdown]
# First, the invariance itself, on the trained network without decay: scale its first
# kernel by c, and compare the training-mode output and the kernel's gradient on one batch.
# They are not exactly equal: BN divides by sqrt(variance + epsilon), with epsilon = 0.001,
# and scaling the kernel by c multiplies the variance by c^2 but leaves epsilon alone, so
# epsilon's share of that sum changes with c. We measure that share, and repeat the test on
# the same weights with a negligible epsilon (1e-9) in the first BN layer.


# %%
def output_and_gradient(model, x, y):
    """Training-mode output (N, 1) and the first kernel's gradient (20, 64) on one batch."""
    y_pred = model.forward(x, training=True)
    model.backward(model.loss.gradient(y.reshape(-1, 1), y_pred))
    return y_pred, model.layers[0].grads["kernel"].copy()


def scale_invariance(model, x, y, c):
    """max |output(c W) - output(W)| and |gradient at c W| / |gradient at W|."""
    kernel = model.layers[0].params["kernel"]
    y_pred, grad = output_and_gradient(model, x, y)
    kernel *= c  # in place: the model's flat parameter vector sees it
    y_scaled, grad_scaled = output_and_gradient(model, x, y)
    kernel /= c
    return float(np.max(np.abs(y_scaled - y_pred))), float(np.linalg.norm(grad_scaled)
                                                            / np.linalg.norm(grad))


model, _ = decay_runs["no decay"][0]
x_batch, y_batch = (array[:BATCH] for array in tasks["old_train"])
_, grad = output_and_gradient(model, x_batch, y_batch)
kernel = model.layers[0].params["kernel"]
cosine = float(np.sum(grad * kernel) / (np.linalg.norm(grad) * np.linalg.norm(kernel)))
def epsilon_share(model, x, c):
    """epsilon / (variance + epsilon) for each unit of the first BN layer when the first
    kernel is scaled by c: (64,), on the batch x. The bias drops out (BN subtracts the
    batch mean), so the variance is that of x @ (c W)."""
    epsilon = model.layers[1].epsilon
    variance = (x @ (c * model.layers[0].params["kernel"])).var(axis=0)
    return epsilon / (variance + epsilon)


SCALES = (0.1, 10.0)
print(f"Seed {args.seed}'s network without decay, one batch of {BATCH}, training mode:")
print(f"  cosine between W and dL/dW: {cosine:+.4f} (0 = perpendicular)")
invariance = {c: scale_invariance(model, x_batch, y_batch, c) for c in SCALES}
for c in SCALES:
    print(f"  W scaled by c = {c:>4}: largest output change {invariance[c][0]:.2g} (the output "
          f"is a probability); gradient norm ratio {invariance[c][1]:.4f} (1/c = {1 / c:g})")
share = {c: epsilon_share(model, x_batch, c) for c in (1.0, *SCALES)}


def percent(share):
    return f"{100 * share:.2g}%"


print(f"  Why the output moves at all, and the ratio is not exactly 1/c: BN divides by "
      f"sqrt(variance + epsilon), epsilon = {model.layers[1].epsilon:g}, and scaling W by c "
      f"multiplies the variance by c^2 but leaves epsilon alone. Epsilon's share of that sum "
      f"in the first BN layer (median over its 64 units, the largest in parentheses): "
      + ", ".join(f"{percent(np.median(share[c]))} ({percent(share[c].max())}) at c = {c:g}"
                  for c in share) + ".")
negligible = compiled(decay_network(0.0, first_epsilon=1e-9))  # the same weights, epsilon 1e-9
negligible.build((None, 20))
negligible.set_weights(model.get_weights())
control = {c: scale_invariance(negligible, x_batch, y_batch, c) for c in SCALES}
rounding = max(change for change, _ in control.values()) < 1e-5
print("  The same weights with epsilon = 1e-9 in the first BN layer: "
      + "; ".join(f"c = {c:g}: largest output change {control[c][0]:.2g}, gradient norm ratio "
                  f"{control[c][1]:.4f}" for c in SCALES)
      + (" (what is left is float32 rounding, about 7 digits)." if rounding else "."))

# %% [markdown]
# **What to look at.** Left: the first kernel's norm over training. Without decay it grows
# (each step is perpendicular to W); with decay it shrinks, toward the size at which the
# growth and the decay balance.
# Right: each step's size relative to the kernel (a moving average over 20 steps). The same
# learning rate gives larger relative steps to the smaller kernel.

# %%
DECAY_COLORS = {"no decay": plot.SKY, f"l2({L2})": plot.VERMILLION}
fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), layout="constrained")
for name in DECAYS:
    for ax, key in zip(axes, ["norms", "steps"], strict=True):
        curves = np.array([getattr(sizes, key) for _, sizes in decay_runs[name]])
        if key == "steps":  # one step is noisy: a moving average over 20 steps
            curves = np.array([np.convolve(c, np.ones(20) / 20, mode="valid") for c in curves])
        mean = curves.mean(axis=0)
        se = curves.std(axis=0, ddof=1) / np.sqrt(len(curves))
        x_steps = np.arange(len(mean)) + (20 if key == "steps" else 1)
        ax.plot(x_steps, mean, color=DECAY_COLORS[name], label=name)
        ax.fill_between(x_steps, mean - se, mean + se, color=DECAY_COLORS[name], alpha=0.25,
                        linewidth=0)
axes[0].set_title("|W| of the first kernel")
axes[1].set_title("relative step |dW| / |W|")
for ax in axes:
    ax.set_xlabel("training step")
plot.shared_legend(fig, axes[0], columns=2)
fig.suptitle(f"SGD({SGD_RATE}) with and without L2 on the kernels before BN: mean over "
             f"{N_SEEDS} seeds, band = 1 s.e.")
save_figure(fig, args.out, "10_weight_decay")


# %%
def decay_words(norm, step, accuracy):
    """What weight decay did, from three Comparisons (decay - no decay): the final kernel
    norm, the mean relative step over the last epoch, and the test accuracy."""
    if not np.isfinite(step.se):
        return "one seed only: no verdict on weight decay"
    shrank = norm.clear and norm.difference < 0
    faster = step.clear and step.difference > 0
    if not (shrank and faster):
        # each half said as its own numbers say it
        kernel = ("the decay shrank the kernel, beyond the noise" if shrank else
                  "the kernel grew with the decay, beyond the noise" if norm.clear else
                  "the decay did not clearly shrink the kernel")
        steps = ("its relative steps grew, beyond the noise" if faster else
                 "its relative steps shrank, beyond the noise" if step.clear else
                 "its relative steps did not clearly grow")
        return (f"in these runs {kernel}, and {steps}; the mechanism needs both at once, so "
                f"this run does not show it")
    ratio = step.mean_a / step.mean_b
    mechanism = (f"the decay shrank the kernel and made its relative steps {ratio:.1f}x "
                 f"larger: a higher effective learning rate")
    if not accuracy.clear:
        return (f"{mechanism}, with no clear change in test accuracy: nothing here looks like "
                f"regularization")
    better = "better" if accuracy.difference > 0 else "worse"
    return (f"{mechanism}; test accuracy is {better}, beyond the noise. The function cannot "
            f"depend on the kernel's scale, so that change comes through the step size, not "
            f"through a simpler function")


def last_epoch_mean(sizes):
    steps_per_epoch = int(np.ceil(N_OLD / BATCH))
    return float(np.mean(sizes.steps[-steps_per_epoch:]))


names = tuple(DECAYS)
decay_value = {
    "norm": [[sizes.norms[-1] for _, sizes in decay_runs[n]] for n in names],
    "step": [[last_epoch_mean(sizes) for _, sizes in decay_runs[n]] for n in names],
    "accuracy": [[sizes.accuracy for _, sizes in decay_runs[n]] for n in names],
}
norm_cmp = compare(decay_value["norm"][1], decay_value["norm"][0],
                   "- Final |W| of the first kernel", names[::-1], lower_is_better=None)
step_cmp = compare(decay_value["step"][1], decay_value["step"][0],
                   "- Relative step |dW|/|W|, last epoch", names[::-1], lower_is_better=None,
                   fmt="{:.4f}")
accuracy_cmp = compare(decay_value["accuracy"][1], decay_value["accuracy"][0],
                       "- Test accuracy", names[::-1], lower_is_better=False,
                       bounds=(0, 1))
print("\nSummary (part 2)")
for comparison in (norm_cmp, step_cmp, accuracy_cmp):
    print(comparison.sentence())
print(f"  So: {decay_words(norm_cmp, step_cmp, accuracy_cmp)}.")

print("RESULT " + " ".join([
    f"seeds={N_SEEDS} old_before={before:.6g}",
    *[f"old_{key}={per_seed(mode, 'old').mean():.6g} new_{key}={per_seed(mode, 'new').mean():.6g}"
      f" fit_{key}={per_seed(mode, 'fit').mean():.6g} drift_{key}="
      f"{per_seed(mode, 'drift').mean():.6g}"
      for key, mode in (("keras3", KERAS_3), ("trainable", TRAINABLE_BN),
                        ("old", OLD_KERAS))],
    f"keras3_change={keras3_change:.6g} frozen_change={frozen_change:.6g}",
    f"invariance_output={max(v[0] for v in invariance.values()):.6g}",
    f"gradient_ratio_small={invariance[0.1][1]:.6g} gradient_ratio_large={invariance[10.0][1]:.6g}",
    f"epsilon_share_1={np.median(share[1.0]):.6g} epsilon_share_small={np.median(share[0.1]):.6g}"
    f" epsilon_share_large={np.median(share[10.0]):.6g}",
    f"invariance_output_tiny_epsilon={max(v[0] for v in control.values()):.6g}",
    f"gradient_ratio_small_tiny_epsilon={control[0.1][1]:.6g} "
    f"gradient_ratio_large_tiny_epsilon={control[10.0][1]:.6g}",
    f"norm_decay={norm_cmp.mean_a:.6g} norm_none={norm_cmp.mean_b:.6g}",
    f"step_decay={step_cmp.mean_a:.6g} step_none={step_cmp.mean_b:.6g}",
    f"accuracy_decay={accuracy_cmp.mean_a:.6g} accuracy_none={accuracy_cmp.mean_b:.6g}",
]))
headline(headline_text(old_cmp, before))

# %% [markdown]
# ## Try this
# - Set `SHIFT = 0`: the new inputs look like the old ones. Do the three ways still differ?
# - Raise `FINE_TUNE_EPOCHS` to 100: does the old way's new-task accuracy in inference
#   mode catch up with fit's? Why does the gap close (think of momentum 0.99)?
# - The Keras guide's second step: after training the head, unfreeze the Dense layers
#   (`layer.trainable = True` on them only) with `Adam(1e-5)`, keeping BN frozen. What
#   happens to both tasks?
# - Part 2 with `AdamW(weight_decay=...)` instead of L2 (decoupled decay; it decays every
#   weight, gamma, beta and the head too): does the first kernel's norm still settle, and
#   do its relative steps still grow?

# %%
show_figures()
