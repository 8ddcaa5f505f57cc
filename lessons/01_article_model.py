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
# * the same comparison repeated over a few seeds, so that we do not read a story into
#   the noise of one run.
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
from tinynet.classroom import headline, lesson_options, save_figure, show_figures
from tinynet.datasets import make_classification
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import Adam

args = lesson_options(1, "Lesson 01: the article's model with and without batch normalization",
                      quick=QUICK, seed=SEED, out=OUT)
N_SAMPLES = 600 if args.quick else 2000
EPOCHS = 6 if args.quick else 30
N_SEEDS = 2 if args.quick else 5  # repeats for the robustness check at the end

# %% [markdown]
# ## The data: 20 numeric features, a 0/1 label
#
# `make_classification` makes a task like the article's: 20 features, of which 10 carry the
# signal, 5 are mixtures of those, and 5 are noise; each class is two stretched Gaussian
# clusters, so the boundary is not a straight line. `validation_split=0.25` keeps the last
# quarter of the samples aside: the network never trains on them.

# %%
x, y = make_classification(n_samples=N_SAMPLES, n_features=20, seed=args.seed)
print(f"data: x {x.shape}, y {y.shape}, fraction of label 1: {y.mean():.2f}")

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
    return sum(p.size for p in model.trainable_params)


params = {label: (m.count_params(), count_trainable(m)) for label, m in models.items()}
for label, (total, trainable) in params.items():
    print(f"RESULT params_{label.replace(' ', '_')}={total} trainable={trainable}")

# %% [markdown]
# ## Train both, same seed, same data
#
# Adam with its defaults, batches of 32. `fit` returns a `History`: one value per epoch of the
# training loss and accuracy (the mean over the epoch's batches, each measured before that
# batch's update, in training mode) and of the validation loss and accuracy (measured at the
# end of the epoch, in inference mode).


# %%
def train(label, seed):
    """Train a fresh network of kind `label` from `seed`; return its History.history dict."""
    tinynet.set_seed(seed)  # same initial weights and same shuffling for both kinds
    model = BUILDERS[label]()
    history = model.fit(x, y, epochs=EPOCHS, batch_size=32, validation_split=0.25, verbose=0)
    return history.history


histories = {label: train(label, args.seed) for label in BUILDERS}
for label, h in histories.items():
    print(f"{label:<11} epoch 1: loss {h['loss'][0]:.3f}   epoch {EPOCHS}: loss "
          f"{h['loss'][-1]:.3f}, val_loss {h['val_loss'][-1]:.3f}, "
          f"val_accuracy {h['val_accuracy'][-1]:.3f}")

# %% [markdown]
# ## The curves
#
# **What to look at.** Solid lines are the training data, dashed lines the validation data;
# blue is with BN, orange without. Look at (1) the first few epochs: which network's loss
# falls faster? (2) the gap between solid and dashed of the same colour: a growing gap means
# the network fits the training set better than new data (over-fitting). (3) where the
# dashed lines end: that is the number that matters for new data.

# %%
import matplotlib.pyplot as plt

from tinynet import plot

fig, axes = plt.subplots(1, 2, figsize=(14, 5), layout="constrained")
plot.loss_curves(histories, metric="loss", ax=axes[0],
                 title="binary cross-entropy (lower is better)")
plot.loss_curves(histories, metric="accuracy", ax=axes[1], title="accuracy (higher is better)")
fig.suptitle(f"The article's model on make_classification, seed {args.seed}")
save_figure(fig, args.out, "01_curves")

# %% [markdown]
# ## Is it the same with other seeds?
#
# One run is one draw of initial weights and batch order. We repeat both trainings for a few
# seeds and compare the validation loss curves: if the two colours overlap, the difference we
# saw above was noise.

# %%
seeds = [args.seed + k for k in range(N_SEEDS)]
val_loss = {label: [] for label in BUILDERS}  # label -> list of per-epoch curves
for seed in seeds:
    for label in BUILDERS:
        val_loss[label].append(histories[label]["val_loss"] if seed == args.seed
                               else train(label, seed)["val_loss"])
val_loss = {label: np.array(curves) for label, curves in val_loss.items()}

fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
epochs = np.arange(1, EPOCHS + 1)
for label, curves in val_loss.items():
    for i, curve in enumerate(curves):
        ax.plot(epochs, curve, color=plot.color_for(label), lw=1, alpha=0.6,
                label=f"{label} ({len(curves)} seeds)" if i == 0 else None)
    ax.plot(epochs, curves.mean(axis=0), color=plot.color_for(label), lw=3,
            label=f"{label}, mean")
ax.set_xlabel("epoch")
ax.set_ylabel("validation loss")
ax.set_title(f"Validation loss over {N_SEEDS} seeds (lower is better)")
ax.grid(alpha=0.3)
ax.legend()
save_figure(fig, args.out, "01_seeds")

# %% [markdown]
# ## What this run measured
#
# Every number and every "lower"/"higher" below is computed from the runs above.

# %%


def lower(a, b, name_a="with BN", name_b="without BN"):
    """Which of two labelled numbers is lower (a tie is reported as such)."""
    if np.isclose(a, b, rtol=0, atol=5e-4):
        return "neither (a tie)"
    return name_a if a < b else name_b


bn, plain = histories["with BN"], histories["without BN"]
(total_bn, trainable_bn), (total_plain, _) = params["with BN"], params["without BN"]
print("\nSummary")
print(f"- BN adds {total_bn - total_plain} parameters ({total_bn:,} vs {total_plain:,}); "
      f"{total_bn - trainable_bn} of them are the non-trainable moving statistics.")
first = lower(bn["loss"][0], plain["loss"][0])
print(f"- First epoch: mean training loss {bn['loss'][0]:.3f} with BN vs "
      f"{plain['loss'][0]:.3f} without; the faster start: {first}.")
print(f"- After {EPOCHS} epochs: training loss {bn['loss'][-1]:.3f} with BN vs "
      f"{plain['loss'][-1]:.3f} without (lower: {lower(bn['loss'][-1], plain['loss'][-1])}); "
      f"validation loss {bn['val_loss'][-1]:.3f} vs {plain['val_loss'][-1]:.3f} "
      f"(lower: {lower(bn['val_loss'][-1], plain['val_loss'][-1])}).")
gap_bn = bn["val_loss"][-1] - bn["loss"][-1]
gap_plain = plain["val_loss"][-1] - plain["loss"][-1]
print(f"- Gap validation minus training loss (over-fitting): {gap_bn:.3f} with BN vs "
      f"{gap_plain:.3f} without; smaller gap: {lower(gap_bn, gap_plain)}.")
higher_acc = lower(-bn["val_accuracy"][-1], -plain["val_accuracy"][-1])
print(f"- Validation accuracy at the end: {bn['val_accuracy'][-1]:.3f} with BN vs "
      f"{plain['val_accuracy'][-1]:.3f} without (higher: {higher_acc}).")
lower_loss = lower(bn["val_loss"][-1], plain["val_loss"][-1])
if "tie" not in higher_acc and "tie" not in lower_loss and higher_acc != lower_loss:
    print("  Loss and accuracy disagree here: accuracy only counts on which side of 0.5 each "
          "prediction falls, while the loss also punishes confident mistakes.")
first_val = lower(bn["val_loss"][0], plain["val_loss"][0])
print(f"- Validation loss after epoch 1: {bn['val_loss'][0]:.3f} with BN vs "
      f"{plain['val_loss'][0]:.3f} without (lower: {first_val}).")
if bn["val_loss"][0] > plain["val_loss"][0]:
    steps = int(np.ceil(int(N_SAMPLES * 0.75) / 32))
    print(f"  With BN, validation runs in inference mode on the moving averages. After one "
          f"epoch ({steps} steps at momentum 0.99) they still hold 0.99^{steps} = "
          f"{0.99 ** steps:.0%} of their starting values (mean 0, variance 1): lesson 02.")
final_bn, final_plain = val_loss["with BN"][:, -1], val_loss["without BN"][:, -1]
wins = int(np.sum(final_bn < final_plain))
print(f"- Over {N_SEEDS} seeds the final validation loss was lower with BN in {wins} of "
      f"{N_SEEDS} (mean {final_bn.mean():.3f} with BN vs {final_plain.mean():.3f} without).")
if wins in (0, N_SEEDS):
    print(f"  It was lower {'with' if wins else 'without'} BN in every seed.")
else:
    print("  The direction changed from seed to seed: on this small task the two networks "
          "are close, and one run alone would not tell them apart.")

print(f"RESULT first_epoch_loss_bn={bn['loss'][0]:.4f} first_epoch_loss_plain="
      f"{plain['loss'][0]:.4f} faster_start={first.replace(' ', '_')}")
print(f"RESULT val_loss_bn={bn['val_loss'][-1]:.4f} val_loss_plain={plain['val_loss'][-1]:.4f}"
      f" val_accuracy_bn={bn['val_accuracy'][-1]:.4f} "
      f"val_accuracy_plain={plain['val_accuracy'][-1]:.4f}")
print(f"RESULT seeds={N_SEEDS} bn_wins={wins}")
headline(f"final validation loss over {N_SEEDS} seeds: {final_bn.mean():.3f} with BN vs "
         f"{final_plain.mean():.3f} without")

show_figures()

# %% [markdown]
# ## Try this
#
# * Change the optimizer to `SGD(learning_rate=0.5)` (import it from `tinynet.optimizers`):
#   which network still trains? (Lesson 05 explores learning rates.)
# * Make the network deeper (four `Dense(32)` blocks): does BN's head start grow?
# * Use `make_classification(..., flip_y=0.2)` (more label noise): which network over-fits
#   more, and does BN's gap change?
# * Set `BatchNormalization(momentum=0.9)` and compare the *validation* curves in the first
#   epochs: lesson 02 explains why the moving averages matter for validation.
