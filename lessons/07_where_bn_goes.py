# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 07: where does BatchNormalization go?
#
# **The question.** Where in a network should the BatchNormalization layer go: before or after
# the activation, on the inputs, on the output? Three placement questions, each answered by a
# measurement:
#
# 1. **Before or after the activation?** The paper (Ioffe & Szegedy 2015) and the article put
#    BN between the Dense layer and its activation. Others put it after. We train both on
#    several seeds and ask whether the difference is larger than the seed-to-seed noise.
# 2. **BN on the input layer, or standardized inputs?** Both make every input feature mean 0,
#    std 1. Are they the same?
# 3. **BN on the output layer of a regression network?** The article calls it
#    counterproductive. We measure why, on targets with a real scale (mean about 47, std
#    about 57).
#
# And one practical trick: for inference, a BN layer can be folded into the Dense layer before
# it, leaving a network with no BN at all that computes exactly the same function.
#
# Every comparison is measured over several seeds and printed with its noise (a standard
# error, "±"); the words after it are chosen from those numbers.
#
# Run it: `python lessons/07_where_bn_goes.py [--quick] [--seed N] [--out DIR]`.

# %% tags=["parameters"]
# The lesson's options. In a notebook, change them here, then run all cells. On the command
# line, --quick, --seed N and --out DIR override them.
QUICK = False  # True: a small version that runs in a few seconds
SEED = 0       # the random seed: same seed, same numbers, same figures
OUT = None     # folder for the figures; None: figures/07 beside the lesson

# %%
import dataclasses
import os

# Small matrices: one BLAS thread is faster than several that wait for each other.
# (It must be set before NumPy is imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib.pyplot as plt
import numpy as np

import tinynet
from tinynet import plot
from tinynet.classroom import headline, lesson_options, save_figure, show_figures
from tinynet.datasets import make_classification, make_regression, standardize, train_test_split
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import Adam
from tinynet.stats import compare, noise_multiple

args = lesson_options(7, "Lesson 07: where does BatchNormalization go?",
                      quick=QUICK, seed=SEED, out=OUT)
plot.use_style()

N_SEEDS = 2 if args.quick else 8
REG_SEEDS = 2 if args.quick else 5  # the regression part costs more per seed
EPOCHS = 3 if args.quick else 10
N_SAMPLES = 1000 if args.quick else 2000


def binary_accuracy(model, x, y):
    return float(np.mean((model.predict(x, verbose=0).reshape(-1) > 0.5) == (y > 0.5)))


def jitter_plot(ax, groups, colors, labels):
    """One dot per seed for each group (dict name -> values), a black bar at each mean."""
    for k, (name, values) in enumerate(groups.items()):
        offsets = np.linspace(-0.12, 0.12, len(values))
        ax.plot(k + offsets, values, "o", color=colors[name], alpha=0.8)
        ax.plot([k - 0.25, k + 0.25], [np.mean(values)] * 2, color="black", lw=3)
    ax.set_xticks(range(len(groups)), labels)


# %% [markdown]
# ## 1. BN before or after the activation
#
#     before (paper, article):  Dense(no bias) -> BN -> ReLU
#     after:                    Dense          -> ReLU -> BN
#
# Arguments for **before**: the paper normalizes `Wu`, whose distribution is "more symmetric,
# non-sparse" than a ReLU's output, so the nonlinearity always sees well-scaled inputs (for a
# sigmoid this keeps it out of saturation); the Dense bias becomes useless (BN's beta replaces
# it). Arguments for **after**: the next Dense layer then receives standardized inputs (mean
# 0, std 1 per unit) instead of non-negative, skewed ReLU outputs.
#
# The published evidence points both ways. One ImageNet benchmark (caffenet-benchmark on GitHub,
# images resized to 128 px) measured accuracy: for CaffeNet, BN **after** ReLU 0.499 vs
# **before** 0.474, but that 0.474 run had no scale-and-bias layer (no gamma and beta); with
# it, before reaches 0.478 and after 0.493. For GoogLeNet, the same benchmark favours
# **before**: 0.603 vs 0.596 after (LSUV init), 0.607 vs 0.584 (orthogonal init). Single runs,
# no error bars: read them as "it depends on the network", not as a rule.
#
# Same task as the article (20 features, binary), 3 hidden layers of 64 ReLU units, Adam,
# batch 32. What to look for: do the two clouds of seeds separate, or overlap?

# %%
# Accuracy on ImageNet-2012, from github.com/ducha-aiki/caffenet-benchmark: the tables
# "BN -- before or after ReLU?" and "BN-arch-init" in batchnorm.md, the same tables in the
# repository's README.md, and the CaffeNet rows as its author posted them in
# github.com/gcr/torch-residual-networks/issues/5.
PUBLISHED = {
    "CaffeNet128, no scale&bias": {"before": 0.474, "after": 0.499},
    "CaffeNet128, with scale&bias": {"before": 0.478, "after": 0.493},
    "GoogLeNet128, LSUV init": {"before": 0.603, "after": 0.596},
    "GoogLeNet128, orthogonal init": {"before": 0.607, "after": 0.584},
}


def build_placement(where):
    """where: 'before', 'after' or 'no BN'."""
    layers = []
    for i in range(3):
        shape = {"input_shape": (20,)} if i == 0 else {}
        if where == "before":
            layers += [Dense(64, use_bias=False, **shape), BatchNormalization(),
                       Activation("relu")]
        elif where == "after":
            layers += [Dense(64, **shape), Activation("relu"), BatchNormalization()]
        else:
            layers += [Dense(64, **shape), Activation("relu")]
    layers.append(Dense(1, activation="sigmoid"))
    return Sequential(layers)


PLACEMENTS = ["before", "after", "no BN"]
COLOR_OF = {"before": plot.color_for("with BN"), "after": plot.SKY,
            "no BN": plot.color_for("without BN")}
placement_acc = {where: [] for where in PLACEMENTS}
placement_loss = {where: [] for where in PLACEMENTS}
PAIRS = [("after", "before"), ("no BN", "before"), ("no BN", "after")]
# per pair, per seed: the share of test examples that exactly one of the two models gets right
only_one_right = {pair: [] for pair in PAIRS}
next_layer_input = {}
for s in range(N_SEEDS):
    seed = args.seed + s
    x, y = make_classification(n_samples=N_SAMPLES, n_features=20, seed=seed)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, seed=seed)
    x_train, x_test = standardize(x_train, x_test)
    right = {}
    for where in PLACEMENTS:
        tinynet.set_seed(seed)
        model = build_placement(where)
        model.compile(optimizer=Adam(), loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(x_train, y_train, batch_size=32, epochs=EPOCHS, verbose=0,
                            validation_data=(x_test, y_test))
        right[where] = (model.predict(x_test, verbose=0).reshape(-1) > 0.5) == (y_test > 0.5)
        placement_acc[where].append(float(right[where].mean()))
        placement_loss[where].append(history.history["val_loss"])
        if s == 0 and where != "no BN":
            # what the second Dense layer receives (layers 0-2 are the first block)
            h = x_test
            for layer in model.layers[:3]:
                h = layer(h)
            next_layer_input[where] = h
    for a, b in PAIRS:
        only_one_right[a, b].append(float(np.mean(right[a] != right[b])))
placement_acc = {where: np.array(values) for where, values in placement_acc.items()}


def noise_of_difference(diff, only_one_right, n_test):
    """Standard error of the mean accuracy difference over seeds, from two sources; the larger
    one is kept (a cautious choice):
      - seed to seed: std(diff) / sqrt(n_seeds);
      - the finite test set: on one test set of n_test examples, the difference of two
        accuracies has variance about q / n_test, where q is the share of examples that
        exactly one of the two models gets right; the mean over seeds divides by n_seeds^2.
    """
    n = len(diff)
    from_seeds = float(np.std(diff, ddof=1) / np.sqrt(n))
    from_test_set = float(np.sqrt(np.sum(np.array(only_one_right) / n_test)) / n)
    return max(from_seeds, from_test_set)


def placement_verdict(mean_diff, std_error, n_seeds):
    """Words for after - before (test accuracy), its standard error and the number of paired
    seeds: beyond the noise only when the 95 % interval, mean ± t * s.e. with
    t = noise_multiple(n_seeds), leaves out 0 (the rule of tinynet.stats.compare)."""
    if abs(mean_diff) <= noise_multiple(n_seeds) * std_error:
        return "within noise: this experiment does not separate the two placements"
    winner = "after" if mean_diff > 0 else "before"
    return (f"beyond the noise: '{winner}' is ahead by {100 * abs(mean_diff):.1f} points on "
            f"this task; the published benchmarks disagree between networks, so do not "
            f"generalize")


def versus_no_bn(where):
    """The Comparison of no BN with BN placed `where` (test accuracy, paired by seed), its
    standard error the larger of the seed-to-seed and the finite-test-set ones, as for
    after - before."""
    result = compare(placement_acc["no BN"], placement_acc[where], "test accuracy",
                     ("no BN", f"BN {where}"), lower_is_better=False)
    noise = noise_of_difference(placement_acc["no BN"] - placement_acc[where],
                                only_one_right["no BN", where], len(y_test))
    return dataclasses.replace(result, se=noise)


# paired by seed: the same data for both placements
diff = placement_acc["after"] - placement_acc["before"]
mean_diff = float(diff.mean())
std_error = noise_of_difference(diff, only_one_right["after", "before"], len(y_test))
within_noise = abs(mean_diff) <= noise_multiple(N_SEEDS) * std_error
no_bn = {where: versus_no_bn(where) for where in ("before", "after")}


def describe_inputs(h):
    """The mean over units of each unit's mean and std over the test examples."""
    return float(h.mean(axis=0).mean()), float(h.std(axis=0).mean())


print("\n== 1. BN before or after the activation ==")
for where in PLACEMENTS:
    values = placement_acc[where]
    print(f"   {where:>6s}: test accuracy {values.mean():.3f} (seeds: "
          + ", ".join(f"{v:.3f}" for v in values) + ")")
print(f"   after - before = {mean_diff:+.3f} ± {std_error:.3f} (standard error over {N_SEEDS} "
      f"paired seeds and the finite test set): "
      f"{placement_verdict(mean_diff, std_error, N_SEEDS)}.")
for where in ("before", "after"):
    print(f"   {no_bn[where].sentence()} (± as above: seeds and the finite test set)")
print("   Published (ImageNet accuracy, one run each, no noise estimate): "
      + "; ".join(f"{net}: before {acc['before']:.3f}, after {acc['after']:.3f}"
                  for net, acc in PUBLISHED.items()) + ".")
for where in ("before", "after"):
    mean, std = describe_inputs(next_layer_input[where])
    print(f"   {where:>6s}: the second Dense layer's inputs have per-unit mean {mean:.2f} and "
          f"std {std:.2f} on average (first seed, test set)")

fig, axes = plt.subplots(1, 2, figsize=(15, 6), layout="constrained")
jitter_plot(axes[0], placement_acc, COLOR_OF,
            ["BN before ReLU\n(paper, article)", "BN after\nReLU", "no BN"])
axes[0].set_ylabel("test accuracy")
axes[0].set_title(f"after - before = {mean_diff:+.3f} ± {std_error:.3f} "
                  f"({'within' if within_noise else 'beyond'} noise)\n"
                  + "\n".join(f"no BN - {where} = {no_bn[where].difference:+.3f} ± "
                              f"{no_bn[where].se:.3f} "
                              f"({'beyond' if no_bn[where].clear else 'within'} noise)"
                              for where in ("before", "after")), fontsize=13)
for where in PLACEMENTS:
    curves = np.array(placement_loss[where])
    epochs = np.arange(1, curves.shape[1] + 1)
    axes[1].plot(epochs, curves.mean(axis=0), color=COLOR_OF[where], label=where)
    axes[1].fill_between(epochs, curves.min(axis=0), curves.max(axis=0),
                         color=COLOR_OF[where], alpha=0.15)
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("validation loss")
axes[1].set_title(f"Mean and range over {N_SEEDS} seeds")
axes[1].legend()
save_figure(fig, args.out, "bn_before_or_after_activation")

# %% [markdown]
# ## 2. BN on the input layer vs standardized inputs
#
# Real tabular data comes in units: one feature in thousands, another in hundredths. Here the
# same 20 features are rescaled by factors from 0.01 to 1,000 and shifted. Three ways to feed
# them to a small network (Dense 64 ReLU, Dense 32 ReLU, sigmoid; no BN inside):
#
# - raw values;
# - standardized with the training set's mean and std (`tinynet.datasets.standardize`);
# - raw values into a `BatchNormalization` as the first layer.
#
# In training mode the input BN standardizes each batch with that batch's statistics, and its
# moving averages estimate the training set's mean and variance: a learned, noisy version of
# `standardize`. What to look for: does the raw network lag? Are the other two close?

# %%
INPUT_WAYS = ["raw", "standardized", "raw + input BN"]
INPUT_COLORS = {"raw": "black", "standardized": plot.color_for("without BN"),
                "raw + input BN": plot.color_for("with BN")}
input_acc = {way: [] for way in INPUT_WAYS}
for s in range(N_SEEDS):
    seed = args.seed + s
    x, y = make_classification(n_samples=N_SAMPLES, n_features=20, seed=seed)
    rng = np.random.default_rng(seed)
    scales = 10 ** rng.uniform(-2, 3, size=20)  # from 0.01 to 1000
    offsets = 3 * scales * rng.uniform(-1, 1, size=20)
    x_raw = (x * scales + offsets).astype(np.float32)
    raw_train, raw_test, y_train, y_test = train_test_split(x_raw, y, test_size=0.25, seed=seed)
    std_train, std_test = standardize(raw_train, raw_test)
    for way in INPUT_WAYS:
        tinynet.set_seed(seed)
        layers = [Dense(64, activation="relu"), Dense(32, activation="relu"),
                  Dense(1, activation="sigmoid")]
        if way == "raw + input BN":
            layers.insert(0, BatchNormalization())
        model = Sequential(layers)
        model.compile(optimizer=Adam(), loss="binary_crossentropy", metrics=["accuracy"])
        x_fit, x_eval = (std_train, std_test) if way == "standardized" else (raw_train, raw_test)
        model.fit(x_fit, y_train, batch_size=32, epochs=EPOCHS, verbose=0)
        input_acc[way].append(binary_accuracy(model, x_eval, y_test))
        if s == 0 and way == "raw + input BN":
            _, _, moving_mean, moving_var = model.layers[0].get_weights()
            true_var = raw_train.astype(np.float64).var(axis=0)
            mean_error = np.abs(moving_mean - raw_train.mean(axis=0)) / np.sqrt(true_var)
            var_ratio = moving_var / true_var
            input_steps = EPOCHS * int(np.ceil(len(raw_train) / 32))
input_acc = {way: np.array(values) for way, values in input_acc.items()}


def input_bn_conclusion(bn_vs_standardized):
    """The conclusion of part 2, from the Comparison of input BN - standardized accuracy."""
    if not bn_vs_standardized.measured:  # one seed, or two with the same difference
        return f"these runs cannot tell the input BN layer from standardizing " \
               f"({bn_vs_standardized.verdict})"
    if not bn_vs_standardized.clear:
        return ("the input BN layer shows no clear difference from standardizing at this "
                "scale: it learns a noisy standardization, with extra parameters and a "
                "dependence on the batch, that `standardize` does exactly, once, for free")
    if bn_vs_standardized.difference < 0:
        return ("the input BN layer does worse than standardizing, beyond the noise: "
                "`standardize` does its job exactly, once, for free")
    return ("the input BN layer does better than standardizing, beyond the noise: its learned "
            "gamma and beta (or its batch noise) help here; standardizing is still the "
            "simpler first step")


standardized_vs_raw = compare(input_acc["standardized"], input_acc["raw"], "test accuracy",
                              ("standardized", "raw"), lower_is_better=False)
bn_vs_standardized = compare(input_acc["raw + input BN"], input_acc["standardized"],
                             "test accuracy", ("raw + input BN", "standardized"),
                             lower_is_better=False)
print("\n== 2. BN on the input layer, or standardized inputs? ==")
print("   " + standardized_vs_raw.sentence())
print("   " + bn_vs_standardized.sentence())
worst = int(np.argmax(np.abs(np.log(var_ratio))))
residue = 0.99 ** input_steps  # the weight the starting value 1 still has
# moving variance ~ residue * 1 + (1 - residue) * (biased batch variance, (31/32) * true_var)
predicted = residue / true_var[worst] + (1 - residue) * 31 / 32
print(f"   Seed {args.seed}: its moving mean is within {mean_error.max():.3f} std of the true mean "
      f"for every feature; moving variance / true variance has median "
      f"{np.median(var_ratio):.2f}, worst {var_ratio[worst]:.1f}, for a feature of variance "
      f"{true_var[worst]:.2g}.")
print(f"   Why: the moving variance starts at 1, and after {input_steps} steps that start still "
      f"weighs 0.99^{input_steps} = {residue:.4f}; for a variance of {true_var[worst]:.2g} this "
      f"predicts a ratio of {predicted:.1f} (measured {var_ratio[worst]:.1f}).")
print(f"   So {input_bn_conclusion(bn_vs_standardized)}.")

fig, axes = plt.subplots(1, 2, figsize=(15, 6), layout="constrained")
jitter_plot(axes[0], input_acc, INPUT_COLORS, INPUT_WAYS)
axes[0].set_ylabel("test accuracy")
axes[0].set_title(f"Inputs scaled 0.01 to 1000 ({N_SEEDS} seeds)")
axes[1].loglog(true_var, var_ratio, "o", color=INPUT_COLORS["raw + input BN"])
axes[1].axhline(1.0, color="grey", ls="--", lw=1.5)
axes[1].set_xlabel("true variance of the input feature")
axes[1].set_ylabel("moving variance / true variance")
axes[1].set_title(f"What the input BN layer estimated (seed {args.seed})")
save_figure(fig, args.out, "input_bn_vs_standardized")

# %% [markdown]
# ## 3. BN on the output layer of a regression network
#
# The targets of `make_regression` have mean about 47 and std about 57. A final BN layer after
# the last Dense(1) outputs `gamma * x_hat + beta`. In training mode x_hat has mean 0 and
# std 1 over the batch, so **every batch of predictions has mean exactly beta and std exactly
# |gamma|**, whatever the inputs are. Three consequences to measure:
#
# - gamma and beta start at 1 and 0 and must be learned up to the targets' std and mean, one
#   small optimizer step at a time;
# - even then, a batch whose targets happen to average 55 instead of 47 cannot be predicted:
#   the batch's mean prediction is pinned to beta;
# - each prediction depends on the other examples in the batch.
#
# The right way to handle targets with a scale is to standardize the **targets** (and undo it
# on the predictions), shown as the fourth network. What to look for: the BN-output network's
# loss stays far above the others, and its predictions are squeezed into a narrow band.

# %%
REG_EPOCHS = 10 if args.quick else 60
REGRESSION_RUNS = ["linear output", "BN on the output", "BN on the output, head start",
                   "linear output, scaled targets"]
# blue family = a BN layer on the output, orange family = none
REG_COLORS = dict(zip(REGRESSION_RUNS, [plot.color_for("without BN"), plot.color_for("with BN"),
                                        plot.SKY, plot.VERMILLION], strict=True))


def build_regression(bn_output):
    layers = [Dense(64, activation="relu", input_shape=(10,)), Dense(64, activation="relu"),
              Dense(1)]
    if bn_output:
        layers.append(BatchNormalization())
    return Sequential(layers)


def regression_run(name, seed, x_train, y_train, x_test, y_test):
    """Train one of REGRESSION_RUNS; return its model, training loss per epoch (in target
    units squared), test predictions and test MSE."""
    y_mean, y_std = float(y_train.mean()), float(y_train.std())
    tinynet.set_seed(seed)
    model = build_regression(name.startswith("BN"))
    model.compile(optimizer=Adam(), loss="mse")
    if name.endswith("head start"):
        # give BN the answer to its first problem: gamma, beta = the targets' std and mean
        model.build((None, 10))
        _, _, moving_mean, moving_var = model.layers[-1].get_weights()
        model.layers[-1].set_weights([np.full(1, y_std, np.float32),
                                      np.full(1, y_mean, np.float32), moving_mean, moving_var])
    scaled = name.endswith("scaled targets")
    targets = (y_train - y_mean) / y_std if scaled else y_train
    history = model.fit(x_train, targets, batch_size=32, epochs=REG_EPOCHS, verbose=0)
    train_loss = np.array(history.history["loss"]) * (y_std ** 2 if scaled else 1.0)
    prediction = model.predict(x_test, verbose=0)
    if scaled:
        prediction = prediction * y_std + y_mean
    return {"model": model, "loss": train_loss, "prediction": prediction,
            "mse": float(np.mean((prediction - y_test) ** 2))}


regression = {name: [] for name in REGRESSION_RUNS}  # name -> one run per seed
for s in range(REG_SEEDS):
    seed = args.seed + s
    x, y = make_regression(n_samples=1000, n_features=10, seed=seed)
    split = train_test_split(x, y, test_size=0.25, seed=seed)
    if s == 0:
        x_train, x_test, y_train, y_test = split
    for name in REGRESSION_RUNS:
        regression[name].append(regression_run(name, seed, split[0], split[2], split[1],
                                               split[3]))
mse = {name: np.array([run["mse"] for run in runs]) for name, runs in regression.items()}
first = {name: runs[0] for name, runs in regression.items()}  # the first seed, drawn below
y_mean, y_std = float(y_train.mean()), float(y_train.std())

bn_model = first["BN on the output"]["model"]
gamma, beta = bn_model.layers[-1].get_weights()[:2]
# in training mode, a batch's predictions have mean beta and std |gamma|: check on one batch
saved = bn_model.get_weights()
batch_prediction = bn_model(x_train[:32], training=True)
bn_model.set_weights(saved)  # that forward pass also moved the moving averages: undo it
# the part of the loss no beta can remove: how far each batch's target mean is from the
# overall mean (random batches of 32, as fit draws them)
rng = np.random.default_rng(args.seed)
batch_means = np.array([y_train[rng.choice(len(y_train), 32, replace=False)].mean()
                        for _ in range(2000)])
pinned_mean_loss = float(np.mean((batch_means - y_train.mean()) ** 2))


def floor_conclusion(train_mse, test_mse):
    """Does the floor explain the head-start net's higher test MSE? The answer, in short
    sentences, from two Comparisons (head start - linear output): the last epoch's training
    MSE, and the test MSE."""
    def both(result):
        return (f"{result.mean_a:.0f} vs {result.mean_b:.0f}, {result.difference:+.0f} ± "
                f"{result.se:.0f} s.e.")

    if train_mse.favours == train_mse.names[1]:
        return (f"Maybe: the head-start net's training MSE stays above the linear output's "
                f"({both(train_mse)}), beyond the noise, as a floor would make it.")
    if train_mse.favours != train_mse.names[0]:
        return ("These runs cannot tell: the two training MSEs show no clear difference at "
                "this scale.")
    answer = (f"No: in training the head-start net does better than the linear output "
              f"({both(train_mse)}), beyond the noise, so the floor does not hold it back")
    if test_mse.favours != test_mse.names[1]:
        return answer + " at this length."
    return (answer + f". Yet on the test set it does worse ({both(test_mse)}), beyond the "
            f"noise: the floor is not what makes its test MSE higher. One thing differs "
            f"between the two numbers: the training MSE is measured in training mode (each "
            f"batch's own statistics), the test MSE in inference mode (the moving averages, "
            f"lesson 06).")


reg_steps = REG_EPOCHS * int(np.ceil(len(x_train) / 32))
vs_linear = {name: compare(mse[name], mse["linear output"], "test MSE",
                           (name, "linear output"), fmt="{:.1f}")
             for name in REGRESSION_RUNS[1:]}
print("\n== 3. BN on the output layer of a regression network ==")
print(f"   Targets: mean {y_mean:.1f}, std {y_std:.1f} (training set, first seed).")
for name in REGRESSION_RUNS[1:]:
    ratio = mse[name].mean() / mse["linear output"].mean()
    print(f"   {vs_linear[name].sentence()} (ratio of the means {ratio:.2f})")
budget = 0.001 * reg_steps  # Adam's usual pace: about one learning rate per step
print(f"   First seed, after training: gamma = {gamma[0]:.2f} and beta = {beta[0]:.2f}; the "
      f"targets' std is {y_std:.1f} and their mean {y_mean:.1f}. Adam moves each weight by "
      f"about its learning rate 0.001 per step when the weight's gradient keeps its sign (a "
      f"little more while the gradient grows), so {reg_steps} steps move a weight by about "
      f"{budget:.2f}: gamma moved by {gamma[0] - 1:+.2f} from its start 1 "
      f"({abs(gamma[0] - 1) / budget:.0%} of that) and beta by {beta[0]:+.2f} from 0 "
      f"({abs(beta[0]) / budget:.0%}): |gamma| is {abs(gamma[0]) / y_std:.1%} of the "
      f"targets' std and |beta| {abs(beta[0]) / max(abs(y_mean), 1e-12):.1%} of their mean.")
print(f"   In training mode one batch of its predictions has mean {batch_prediction.mean():.3f} "
      f"(beta = {beta[0]:.3f}) and std {batch_prediction.std():.3f} (|gamma| = "
      f"{abs(gamma[0]):.3f}), whatever the batch.")
final_train_mse = {name: np.array([run["loss"][-1] for run in runs])
                   for name, runs in regression.items()}
head_start_train = compare(final_train_mse["BN on the output, head start"],
                           final_train_mse["linear output"], "last epoch's training MSE",
                           ("BN on the output, head start", "linear output"), fmt="{:.1f}")
print(f"   A floor: in training mode every batch's mean prediction is beta, but the mean "
      f"target of a random batch of 32 changes from batch to batch (its variance is "
      f"{pinned_mean_loss:.0f}, first seed). So even with the best gamma and beta, the training "
      f"MSE of a BN output cannot go below about {pinned_mean_loss:.0f} (the dotted line in the "
      f"figure's left panel). First seed, last epoch's training MSE: "
      f"{first['BN on the output, head start']['loss'][-1]:.0f} with the head start, "
      f"{first['linear output']['loss'][-1]:.0f} with a linear output (which has no floor).")
head_start_test = vs_linear["BN on the output, head start"]
if head_start_test.favours == "linear output":
    print("   Does the floor explain why the head-start net has the higher test MSE? Then it "
          "would also keep its training MSE above the linear output's:")
    print(f"   {head_start_train.sentence()}")
    print(f"   {floor_conclusion(head_start_train, head_start_test)}")
else:  # the question would assume a gap these runs do not show: no answer to it either
    lower = "clearly lower" if head_start_test.clear else "not clearly higher"
    print(f"   The head-start net's test MSE is {lower} than the linear output's here, so "
          f"there is no gap for the floor to explain; for the record, the training MSEs:")
    print(f"   {head_start_train.sentence()}")

fig, axes = plt.subplots(1, 2, figsize=(15, 6.5), layout="constrained")
for name, run in first.items():
    axes[0].semilogy(np.arange(1, REG_EPOCHS + 1), run["loss"], color=REG_COLORS[name],
                     label=name)
    if not name.endswith("scaled targets"):  # three clouds are enough to read
        axes[1].plot(y_test, run["prediction"], ".", color=REG_COLORS[name], alpha=0.5,
                     label=name)
axes[0].axhline(float(y_train.var()), color="grey", ls=":")
axes[0].text(REG_EPOCHS, float(y_train.var()) * 1.15, "predicting the mean", color="grey",
             ha="right")
axes[0].axhline(pinned_mean_loss, color=REG_COLORS["BN on the output, head start"], ls=":")
axes[0].text(1, pinned_mean_loss * 0.6, "floor for a BN output", ha="left", va="top",
             color=REG_COLORS["BN on the output, head start"])
lowest = min(pinned_mean_loss, *(run["loss"].min() for run in first.values()))
axes[0].set_ylim(lowest * 0.3, float(y_train.var()) * 3)
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("training MSE (log scale)")
axes[0].set_title("Training loss (first seed)")
axes[0].legend(fontsize=12, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
low, high = float(y_test.min()), float(y_test.max())
axes[1].plot([low, high], [low, high], color="grey", ls="--", lw=1.5)
axes[1].set_xlabel("true target (test set)")
axes[1].set_ylabel("prediction (inference mode)")
axes[1].set_title("Predictions vs truth (first seed)")
axes[1].legend(fontsize=12, loc="upper left", markerscale=3)
save_figure(fig, args.out, "bn_on_regression_output")

# %% [markdown]
# ## 4. Folding BN into the Dense layer for inference
#
# In inference mode BN is an affine map per unit with constants: with
# `s = gamma / sqrt(moving_variance + eps)`,
#
#     BN(x @ W + b) = (x @ W + b - moving_mean) * s + beta
#                   = x @ (W * s) + ((b - moving_mean) * s + beta)
#
# So `W' = W * s` (each output column scaled) and `b' = (b - moving_mean) * s + beta` give one
# Dense layer that does both. Deployed networks do this to save time. We check it in float64
# on a trained network (the article's model).

# %%
tinynet.set_floatx("float64")
tinynet.set_seed(args.seed)
x, y = make_classification(n_samples=1000, n_features=20, seed=args.seed)
article = Sequential([Dense(64, input_shape=(20,)), BatchNormalization(), Activation("relu"),
                      Dense(32), BatchNormalization(), Activation("relu"),
                      Dense(1, activation="sigmoid")])
article.compile(optimizer=Adam(), loss="binary_crossentropy")
article.fit(x, y, batch_size=32, epochs=2 if args.quick else 5, verbose=0)

folded_layers, folded_weights = [], []
layers = article.layers
i = 0
while i < len(layers):
    layer = layers[i]
    if isinstance(layer, Dense) and i + 1 < len(layers) and isinstance(layers[i + 1],
                                                                        BatchNormalization):
        kernel, bias = layer.get_weights()
        bn = layers[i + 1]
        gamma, beta, moving_mean, moving_var = bn.get_weights()
        s = gamma / np.sqrt(moving_var + bn.epsilon)
        folded_layers.append(Dense(layer.units))
        folded_weights += [kernel * s, (bias - moving_mean) * s + beta]
        i += 2
    else:
        copy = (Dense(layer.units, activation=layer.activation)
                if isinstance(layer, Dense) else Activation(layer.activation))
        folded_layers.append(copy)
        folded_weights += layer.get_weights()
        i += 1
folded = Sequential(folded_layers)
folded.build((None, 20))
folded.set_weights(folded_weights)
fold_error = float(np.max(np.abs(folded.predict(x, verbose=0) - article.predict(x, verbose=0))))
tinynet.set_floatx("float32")

print("\n== 4. Folding BN into the Dense layer ==")
print(f"   {len(article.layers)} layers -> {len(folded.layers)} layers, "
      f"{article.count_params():,} -> {folded.count_params():,} parameters; largest difference "
      f"between the two networks' outputs on 1,000 examples: {fold_error:.1e} (float64).")

# %% [markdown]
# ## Try this
#
# - Part 1 with sigmoid instead of ReLU: does "before" vs "after" matter more when the
#   activation saturates?
# - Part 2 with `momentum=0.9` on the input BN: does the worst variance ratio improve?
# - Part 3 with `Adam(learning_rate=0.1)`: gamma and beta can now grow fast enough. Is the
#   BN-output network as good as the linear one? (Look at the batch-mean cost.)
# - Part 4: fold a BN that comes *after* the activation. Into which layer can it go?

# %%
print("\n== Summary ==")
print(f"   Before vs after the activation: after - before = {mean_diff:+.3f} ± {std_error:.3f} "
      f"({'within noise' if within_noise else 'beyond noise'}).")
for where in ("before", "after"):
    print(f"   No BN vs BN {where} the activation: {no_bn[where].noise()} in test accuracy, "
          f"{no_bn[where].verdict}.")
print(f"   Input BN vs standardized inputs: {bn_vs_standardized.noise()}, "
      f"{bn_vs_standardized.verdict}.")
print(f"   Regression, BN on the output vs a linear output: "
      f"{vs_linear['BN on the output'].noise()} in test MSE, "
      f"{vs_linear['BN on the output'].verdict}.")
print(f"RESULT seeds={N_SEEDS} mean_diff={mean_diff:.4f} std_error={std_error:.4f} "
      f"within_noise={int(within_noise)} no_bn={placement_acc['no BN'].mean():.4f} "
      f"no_bn_minus_before={no_bn['before'].difference:.4f} "
      f"no_bn_minus_before_se={no_bn['before'].se:.4f} "
      f"no_bn_minus_after={no_bn['after'].difference:.4f} "
      f"no_bn_minus_after_se={no_bn['after'].se:.4f} "
      f"raw={input_acc['raw'].mean():.4f} "
      f"standardized={input_acc['standardized'].mean():.4f} "
      f"input_bn={input_acc['raw + input BN'].mean():.4f} "
      f"input_bn_clear={int(bn_vs_standardized.clear)} "
      f"mse_linear={mse['linear output'].mean():.4f} "
      f"mse_bn_output={mse['BN on the output'].mean():.4f} "
      f"mse_head_start={mse['BN on the output, head start'].mean():.4f} "
      f"mse_scaled={mse['linear output, scaled targets'].mean():.4f} "
      f"fold_error={fold_error:.3e}")
bn_output = vs_linear["BN on the output"]
headline(f"BN on a regression output: test MSE {bn_output.shown()[0]} vs "
         f"{bn_output.shown()[1]} for a linear output ({bn_output.mean_a / bn_output.mean_b:.1f}x; "
         f"{bn_output.noise()}: {bn_output.verdict}); BN after - before ReLU: "
         f"{mean_diff:+.3f} ± {std_error:.3f} ({'within' if within_noise else 'beyond'} the noise)")
show_figures()
