# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 01: the article's model, with and without batch normalization
#
# **Question.** The article *"A Gentle Introduction to Batch Normalization"* builds a small
# network with two `BatchNormalization` layers. What do those two layers change when the
# network trains?
#
# We build the article's network with the article's own code (only the import lines
# differ), and the same network without the two BN layers. Both start from the same random
# seed and see the same data in the same order. We compare:
#
# * `summary()` of both: what BN adds in parameters;
# * the loss and accuracy curves, on the training data and on held-out validation data;
# * the same comparison repeated over several seeds: every difference this lesson prints
#   comes with its seed-to-seed noise (a standard error), and is called a difference only
#   when its 95 % interval, mean ± t·s.e., leaves out 0 (t = 2.36 for 8 seeds, 4.30 for 3:
#   few seeds need a wide margin);
# * why the BN network's first validation loss is high: we measure it, instead of
#   asserting it.
#
# Run it:  `python lessons/01_article_model.py`  (options: `--quick`, `--seed N`, `--out DIR`)

# %% tags=["parameters"]
# The lesson's options. In a notebook, change them here, then run all cells. On the command
# line, --quick, --seed N and --out DIR override them.
QUICK = False  # True: a small version that runs in a few seconds
SEED = 0       # the random seed: same seed, same numbers, same figures
OUT = None     # folder for the figures; None: figures/01 beside the lesson

# %%
import os

# These networks are tiny: one BLAS thread is faster than several fighting over a busy CPU.
# (It must be set before NumPy is imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import tinynet
from tinynet.callbacks import Callback
from tinynet.classroom import headline, lesson_options, save_figure, show_figures
from tinynet.datasets import make_classification
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import Adam

args = lesson_options(1, "Lesson 01: the article's model with and without batch normalization",
                      quick=QUICK, seed=SEED, out=OUT)
N_SAMPLES = 600 if args.quick else 2000
EPOCHS = 6 if args.quick else 30
N_SEEDS = 3 if args.quick else 8  # every comparison is over this many seeds
BATCH = 32

# %% [markdown]
# ## The data: 20 numeric features, a 0/1 label
#
# `make_classification` makes a task like the article's: 20 features, of which 10 carry the
# signal, 5 are mixtures of those, and 5 are noise; each class is two stretched Gaussian
# clusters, so the boundary is not a straight line. The last quarter of the samples is kept
# aside for validation (what the article's `validation_split=0.25` does): the network never
# trains on them.

# %%
x, y = make_classification(n_samples=N_SAMPLES, n_features=20, seed=args.seed)
split = int(N_SAMPLES * 0.75)
x_train, y_train, x_val, y_val = x[:split], y[:split], x[split:], y[split:]
print(f"data: {len(x_train)} training and {len(x_val)} validation samples, 20 features; "
      f"fraction of label 1: {y.mean():.2f}")

# %% [markdown]
# ## The article's code
#
# This is the article's listing. `BatchNormalization()` sits between each `Dense` layer and
# its ReLU, as in the original paper: it normalizes the 64 (then 32) pre-activations over the
# batch, then scales and shifts them with two learned vectors, gamma and beta.


# %%
def article_model():
    """The article's network, word for word."""
    model = Sequential([
        Dense(64, input_shape=(20,)),
        BatchNormalization(),
        Activation("relu"),
        Dense(32),
        BatchNormalization(),
        Activation("relu"),
        Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=Adam(), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def article_model_without_bn():
    """The same network with the two BatchNormalization lines deleted."""
    model = Sequential([
        Dense(64, input_shape=(20,)),
        Activation("relu"),
        Dense(32),
        Activation("relu"),
        Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=Adam(), loss="binary_crossentropy", metrics=["accuracy"])
    return model


BUILDERS = {"with BN": article_model, "without BN": article_model_without_bn}

# %% [markdown]
# ## `summary()` of both
#
# Each BN layer holds 4 vectors of one value per feature: gamma and beta are trained by
# gradient descent; the moving mean and moving variance are *not* trained, they are running
# averages kept for inference (lesson 02). So BN adds 4 x (64 + 32) = 384 parameters, of which
# 192 are non-trainable.

# %%
models = {}
for label, build in BUILDERS.items():
    tinynet.set_seed(args.seed)  # the same initial weights draw for both networks
    models[label] = build()
    print(f"\n--- {label} ---")
    models[label].summary()


def count_trainable(model):
    return sum(layer.count_trainable_params() for layer in model.layers)


params = {label: (m.count_params(), count_trainable(m)) for label, m in models.items()}
for label, (total, trainable) in params.items():
    print(f"RESULT params_{label.replace(' ', '_')}={total} trainable={trainable}")

# %% [markdown]
# ## Train both, same seed, same data
#
# Adam with its defaults, batches of 32. `fit` returns a `History`: one value per epoch of the
# training loss and accuracy and of the validation loss and accuracy. Read them carefully:
#
# * `loss` is measured **in training mode** (BN normalizes with each batch's own statistics)
#   and averaged over the epoch's batches, each taken *before* that batch's update;
# * `val_loss` is measured at the end of the epoch **in inference mode** (BN uses its moving
#   averages, lesson 02).
#
# So `val_loss - loss` mixes two modes. To measure over-fitting honestly we also evaluate the
# finished network on its own training data in inference mode (`model.evaluate`), as lesson
# 08 does.
#
# One more measurement, made at the end of the first epoch: the BN network's validation loss
# when its moving averages are replaced by the *exact* mean and variance of each BN layer's
# input over the whole training set. If the moving averages are what hurts early validation,
# this loss is lower.


# %%
def exact_statistics_loss(model):
    """Validation loss in inference mode with every BN layer's moving mean and variance set to
    the exact mean and (biased) variance of its input over the training set; the model's own
    moving averages are put back afterwards."""
    saved, h = [], x_train
    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            saved.append((layer, layer.state["moving_mean"].copy(),
                          layer.state["moving_variance"].copy()))
            layer.state["moving_mean"][...] = h.mean(axis=0)
            layer.state["moving_variance"][...] = h.var(axis=0)
        h = layer.forward(h, training=False)  # (N, units): the next layer's input
    loss = model.evaluate(x_val, y_val, verbose=0)[0]
    for layer, mean, variance in saved:  # in place: the model holds these arrays
        layer.state["moving_mean"][...] = mean
        layer.state["moving_variance"][...] = variance
    return loss


class FirstEpochProbe(Callback):
    """At the end of epoch 1, measure the validation loss with exact BN statistics."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            self.exact_loss = exact_statistics_loss(self.model)


def train(label, seed):
    """Train a fresh network of kind `label` from `seed`; return its History.history dict
    plus 'train_loss_inference' (the final network on its training data, inference mode)
    and, with BN, 'val_loss_exact_epoch1'."""
    tinynet.set_seed(seed)  # same initial weights and same shuffling for both kinds
    model = BUILDERS[label]()
    probe = FirstEpochProbe()
    history = dict(model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH, verbose=0,
                             validation_data=(x_val, y_val), callbacks=[probe]).history)
    history["train_loss_inference"] = model.evaluate(x_train, y_train, verbose=0)[0]
    if label == "with BN":
        history["val_loss_exact_epoch1"] = probe.exact_loss
    return history


seeds = [args.seed + k for k in range(N_SEEDS)]
runs = {label: [train(label, seed) for seed in seeds] for label in BUILDERS}
histories = {label: runs[label][0] for label in BUILDERS}  # the first seed, args.seed
print(f"\nOne run of each, seed {args.seed} only: an illustration (the curves below), not a "
      f"comparison; the Summary compares the {N_SEEDS} seeds with their noise.")
for label, h in histories.items():
    print(f"  {label:<11} seed {args.seed} only: epoch 1 loss {h['loss'][0]:.3f};  epoch "
          f"{EPOCHS}: loss {h['loss'][-1]:.3f}, val_loss {h['val_loss'][-1]:.3f}, "
          f"val_accuracy {h['val_accuracy'][-1]:.3f}")

# %% [markdown]
# ## The curves of one seed
#
# **What to look at.** Solid lines are the training data, dashed lines the validation data;
# blue is with BN, orange without. Look at (1) the first few epochs: which network's loss
# falls faster? (2) the gap between solid and dashed of the same colour (remember: solid is
# training mode, dashed inference mode). (3) where the dashed lines end: that is the number
# that matters for new data. Then ask: would another seed draw the same picture?

# %%
import matplotlib.pyplot as plt

from tinynet import plot

plot.use_style()
fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), layout="constrained")
plot.loss_curves(histories, metric="loss", ax=axes[0],
                 title="binary cross-entropy (lower is better)")
plot.loss_curves(histories, metric="accuracy", ax=axes[1], title="accuracy (higher is better)")
for ax in axes:  # the two panels' legends are the same: one under the figure is enough
    ax.get_legend().remove()
plot.shared_legend(fig, axes[0])
fig.suptitle(f"The article's model on make_classification: one run of each, seed {args.seed} "
             f"only\n(an illustration: 01_seeds.png has the mean over {N_SEEDS} seeds)")
save_figure(fig, args.out, "01_curves")

# %% [markdown]
# ## Every seed: the mean and its noise
#
# One run is one draw of initial weights and batch order. Both kinds were trained from
# several seeds (8 in the full lesson, 3 with QUICK). The thick line is the mean over seeds;
# the band around it is one standard error, the amount by which that mean would move if we
# repeated the whole experiment. Bands that overlap are a warning that the gap may be noise;
# the comparison printed below decides, from the paired differences seed by seed.

# %%
def mean_and_band(curves):
    """curves: (seeds, epochs) -> mean, standard error, each (epochs,)."""
    curves = np.asarray(curves)
    return curves.mean(axis=0), curves.std(axis=0, ddof=1) / np.sqrt(len(curves))


epochs = np.arange(1, EPOCHS + 1)
fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), sharey=True, layout="constrained")
for ax, key, title in ((axes[0], "loss", "training loss (training mode, fit's)"),
                       (axes[1], "val_loss", "validation loss (inference mode)")):
    for label in BUILDERS:
        mean, se = mean_and_band([run[key] for run in runs[label]])
        ax.plot(epochs, mean, color=plot.color_for(label), label=f"{label}, mean")
        ax.fill_between(epochs, mean - se, mean + se, color=plot.color_for(label), alpha=0.25,
                        linewidth=0, label=f"{label}, ± 1 s.e.")
    ax.set_xlabel("epoch")
    ax.set_title(title)
axes[0].set_ylabel("binary cross-entropy")
plot.shared_legend(fig, axes[0])  # both panels show the same four things: one legend
fig.suptitle(f"Mean over {N_SEEDS} seeds (lower is better)")
save_figure(fig, args.out, "01_seeds")

# %% [markdown]
# ## What these runs measured
#
# Every number, every "better" and every "no clear difference" below is computed from the
# runs above: `compare` (from `tinynet.stats`) takes one value per seed for each network,
# and reports the mean difference with its standard error. A difference counts as real only
# when its 95 % interval, mean ± t·s.e., leaves out 0: with the 8 seeds of the full run t is
# 2.36, with the 3 of a quick run 4.30 (few seeds need a wide margin). Otherwise it is
# reported as noise: "no clear difference at this scale".

# %%
from tinynet.stats import compare, noise_multiple


def per_seed(label, key, epoch=None):
    """One number per seed: runs[label][i][key], at `epoch` (0-based) for per-epoch logs."""
    return np.array([run[key] if epoch is None else run[key][epoch] for run in runs[label]])


def gap(label):
    """Over-fitting, both sides in inference mode: validation minus training loss, per seed."""
    return per_seed(label, "val_loss", -1) - per_seed(label, "train_loss_inference")


def disagreement(loss, accuracy):
    """A sentence when the validation loss and accuracy favour different networks, else ''."""
    if loss.favours and accuracy.favours and loss.favours != accuracy.favours:
        return ("  Loss and accuracy favour different networks here: accuracy only counts on "
                "which side of 0.5 each prediction falls, while the loss also punishes "
                "confident mistakes.")
    return ""


def moving_average_sentence(moving, exact):
    """What the epoch-1 measurement says about the moving averages, chosen from the numbers.

    moving: the BN network with its moving averages vs with exact statistics (paired);
    exact: the BN network with exact statistics vs the network without BN."""
    gap = moving.mean_a - exact.mean_b  # BN (its moving averages) minus no BN, after epoch 1
    if moving.favours == moving.names[1]:
        cost = (f"  So the moving averages cost {moving.difference:.3f} ± {moving.se:.3f} of "
                f"validation loss after one epoch")
        if exact.favours == exact.names[0]:
            return cost + "; with exact statistics the BN network is already ahead."
        if exact.favours == exact.names[1]:
            return cost + (", but not all of the gap: even with exact statistics the network "
                           "without BN is ahead after one epoch.")
        return cost + ("; with exact statistics the two networks show no clear difference "
                       "after one epoch.")
    if moving.favours == moving.names[0]:
        return ("  The moving averages do not explain the first validation loss in these runs: "
                "with exact statistics it is higher, beyond the noise.")
    # No verdict: say what the point estimate suggests, and why the noise cannot confirm it.
    if np.isfinite(moving.se) and moving.se > 0:
        t = noise_multiple(moving.n)
        why = (f"to be beyond the noise it would have to exceed {t:.3f} x {moving.se:.4f} = "
               f"{t * moving.se:.3f}")
    else:
        why = moving.verdict
    if moving.difference > 0 and gap > 0:
        whole = moving.difference >= gap
        share = "as much as its whole" if whole else f"{moving.difference / gap:.0%} of its"
        explain = "the gap" if whole else "part of the gap"
        return (f"  Exact statistics lower the BN network's validation loss after epoch 1 by "
                f"{moving.difference:.3f}, {share} {gap:.3f} gap to the network without BN "
                f"as a point estimate; but {why}. So the moving averages may explain "
                f"{explain}, but not beyond the noise in these runs.")
    # moving.difference is moving - exact: the change exact statistics make is its negative
    return (f"  These runs cannot tell whether the moving averages explain any of the BN "
            f"network's validation loss after epoch 1: exact statistics change it by "
            f"{-moving.difference:+.3f} ± {moving.se:.3f} ({moving.verdict}).")


bn_params, plain_params = params["with BN"], params["without BN"]
print("\nSummary")
print(f"- BN adds {bn_params[0] - plain_params[0]} parameters ({bn_params[0]:,} in all "
      f"instead of {plain_params[0]:,}: counted, not measured, so no noise); "
      f"{bn_params[0] - bn_params[1]} of them are the non-trainable moving statistics.")
first = compare(per_seed("with BN", "loss", 0), per_seed("without BN", "loss", 0),
                "- First epoch, mean training loss")
print(first.sentence())
final_loss = compare(per_seed("with BN", "val_loss", -1), per_seed("without BN", "val_loss", -1),
                     f"- Validation loss after {EPOCHS} epochs")
print(final_loss.sentence())
final_accuracy = compare(per_seed("with BN", "val_accuracy", -1),
                         per_seed("without BN", "val_accuracy", -1),
                         f"- Validation accuracy after {EPOCHS} epochs", lower_is_better=False)
print(final_accuracy.sentence())
if disagreement(final_loss, final_accuracy):
    print(disagreement(final_loss, final_accuracy))
overfit = compare(gap("with BN"), gap("without BN"),
                  "- Over-fitting (validation minus training loss, both in inference mode)")
print(overfit.sentence())
fit_gap = per_seed("with BN", "val_loss", -1) - per_seed("with BN", "loss", -1)
mixed = compare(fit_gap, gap("with BN"), "BN's gap")
print(f"  With BN, the same gap computed from fit's training-mode loss would read "
      f"{mixed.mean_a:.3f} instead of {mixed.mean_b:.3f} (difference {mixed.noise()}).")
val_first = compare(per_seed("with BN", "val_loss", 0), per_seed("without BN", "val_loss", 0),
                    "- Validation loss after epoch 1")
print(val_first.sentence())
steps = int(np.ceil(len(x_train) / BATCH))
exact = per_seed("with BN", "val_loss_exact_epoch1")
moving = compare(per_seed("with BN", "val_loss", 0), exact, "  With BN after epoch 1, "
                 "validation loss", names=("with its moving averages", "with exact statistics"))
print(moving.sentence())
print(f"  After one epoch ({steps} steps at momentum 0.99) the moving averages still hold "
      f"0.99^{steps} = {0.99 ** steps:.0%} of their starting values (mean 0, variance 1): "
      f"lesson 02.")
exact_vs_plain = compare(exact, per_seed("without BN", "val_loss", 0), "  After epoch 1, "
                         "validation loss", names=("with BN (exact statistics)", "without BN"))
print(exact_vs_plain.sentence())
print(moving_average_sentence(moving, exact_vs_plain))

print(f"RESULT params_with_BN={bn_params[0]} params_without_BN={plain_params[0]} seeds={N_SEEDS}")
print(f"RESULT first_epoch_loss_bn={first.mean_a:.4f} first_epoch_loss_plain={first.mean_b:.4f}"
      f" first_epoch_se={first.se:.4f} "
      f"faster_start={(first.favours or 'neither').replace(' ', '_')}")
print(f"RESULT val_loss_bn={final_loss.mean_a:.4f} val_loss_plain={final_loss.mean_b:.4f} "
      f"val_accuracy_bn={final_accuracy.mean_a:.4f} "
      f"val_accuracy_plain={final_accuracy.mean_b:.4f}")
print(f"RESULT gap_bn={overfit.mean_a:.4f} gap_plain={overfit.mean_b:.4f} "
      f"gap_bn_from_fit={mixed.mean_a:.4f}")
print(f"RESULT val_loss_epoch1_moving={moving.mean_a:.4f} val_loss_epoch1_exact={moving.mean_b:.4f}"
      f" moving_cost_se={moving.se:.4f}")
headline(f"validation loss after {EPOCHS} epochs: {final_loss.shown()[0]} with BN vs "
         f"{final_loss.shown()[1]} without ({final_loss.noise()}): {final_loss.verdict}")

show_figures()

# %% [markdown]
# ## Try this
#
# * Change the optimizer to `SGD(learning_rate=0.5)` (import it from `tinynet.optimizers`):
#   which network still trains? (Lesson 05 explores learning rates.)
# * Make the network deeper (four `Dense(32)` blocks instead of one): is there a difference
#   in the first epoch's training loss now, beyond the noise, and which network does it
#   favour?
# * Use `make_classification(..., flip_y=0.2)` (more label noise): which network over-fits
#   more, and does BN's gap change?
# * Set `BatchNormalization(momentum=0.9)` and compare the *validation* loss after epoch 1
#   with the exact-statistics loss: how much of the cost is left?
