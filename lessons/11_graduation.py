# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Lesson 11: graduation, from tinynet to Keras and PyTorch
#
# **Question.** You have trained a network with batch normalization in tinynet. Can you take
# it to a real framework and get the same predictions? And what does a BN layer turn into
# once training is over?
#
# tinynet saves a model in Keras 3's own `.keras` format: the file Keras writes when you call
# `model.save('m.keras')`. This lesson
#
# 1. trains the article's model in tinynet and saves it;
# 2. opens the file again in tinynet, then in Keras (if installed), and compares predictions;
# 3. builds the same network in PyTorch (if installed) and copies the weights by hand, where
#    two of BN's conventions differ between the frameworks;
# 4. folds each BatchNormalization into the Dense layer before it: at inference BN is an
#    affine map, so it can disappear into the weights, and the network gets shorter.
#
# Without h5py (`pip install "tinynet[keras]"`), Keras or PyTorch the lesson still runs: it
# says what it skipped, and lists it in its summary.
#
# Run it: `python lessons/11_graduation.py [--quick] [--seed N] [--out DIR]`.

# %% tags=["parameters"]
# The lesson's options. In a notebook, change them here, then run all cells. On the command
# line, --quick, --seed N and --out DIR override them.
QUICK = False  # True: a small version that runs in a few seconds
SEED = 0       # the random seed: same seed, same numbers, same figures
OUT = None     # folder for the figures and the saved model; None: figures/11 beside the lesson

# %%
import os

# Small matrices: one BLAS thread is faster than several that wait for each other.
# (It must be set before NumPy is imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import copy
import importlib.util
import json
import zipfile

import numpy as np

import tinynet
from tinynet.classroom import headline, lesson_options, save_figure, show_figures
from tinynet.datasets import make_classification, train_test_split
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential, load_model
from tinynet.optimizers import Adam

args = lesson_options(11, "Lesson 11: from tinynet to Keras and PyTorch, and BN folding",
                      quick=QUICK, seed=SEED, out=OUT)
N_SAMPLES = 800 if args.quick else 3000
EPOCHS = 3 if args.quick else 12

# %% [markdown]
# ## Train the article's model in tinynet
#
# The same network as lesson 01, trained with Adam on 20-feature data. The numbers in this
# lesson are about *agreement* between frameworks, so the accuracy only needs to be decent.

# %%
x, y = make_classification(n_samples=N_SAMPLES, n_features=20, seed=args.seed)
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, seed=args.seed)

tinynet.set_seed(args.seed)
model = Sequential([
    Dense(64, input_shape=(20,)), BatchNormalization(), Activation("relu"),
    Dense(32), BatchNormalization(), Activation("relu"),
    Dense(1, activation="sigmoid"),
])
model.compile(optimizer=Adam(), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
p_tinynet = model.predict(x_test, verbose=0)
print(f"trained {EPOCHS} epochs on {len(x_train)} samples: test loss {test_loss:.3f}, "
      f"test accuracy {test_accuracy:.3f}")

# %% [markdown]
# ## Save it as a `.keras` file, and look inside
#
# A `.keras` file is a zip archive: `config.json` says which layers, with which arguments;
# `model.weights.h5` holds the arrays (the weights, and the optimizer's state);
# `metadata.json` says which format version. Saving needs h5py
# (`pip install "tinynet[keras]"`).

# %%
path = os.path.join(args.out, "article_model.keras")
saved = importlib.util.find_spec("h5py") is not None
skipped = {}  # part of the lesson -> why it did not run here (the summary lists them all)
if saved:
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        print(f"{os.path.basename(path)} holds: {', '.join(archive.namelist())}")
        config = json.loads(archive.read("config.json"))
    for entry in config["config"]["layers"]:
        arguments = {key: entry["config"][key] for key in ("units", "momentum", "epsilon",
                                                           "activation", "batch_shape")
                     if key in entry["config"]}
        print(f"  {entry['class_name']:<19} {entry['config']['name']:<21} {arguments}")
else:
    skipped["saving"] = "h5py is not installed: pip install \"tinynet[keras]\""
    print(f"SKIPPED saving: {skipped['saving']}")

# %% [markdown]
# Inside `model.weights.h5`, each layer's arrays sit under a group named after its **class**
# and its rank among layers of that class (`dense`, `dense_1`, ...), numbered in Keras's order:
# a Dense layer's `0` is the kernel and `1` the bias; a BN layer's `0..3` are gamma, beta,
# moving mean, moving variance.

# %%
if saved:
    import h5py

    with zipfile.ZipFile(path) as archive, archive.open("model.weights.h5") as raw:
        with h5py.File(raw, "r") as h5:
            h5.visititems(lambda name, item: print(f"  {name:<36} {item.shape}")
                          if isinstance(item, h5py.Dataset) and name.startswith("layers")
                          else None)

# %% [markdown]
# ## Back into tinynet
#
# Loading builds a new model from the config and fills in the weights. `predict` runs in
# inference mode, so BN uses the saved moving statistics: the predictions must be the same
# numbers, bit for bit.

# %%
differences = {}  # comparison -> largest |difference| of predicted probabilities
if saved:
    reloaded = load_model(path)
    p_reloaded = reloaded.predict(x_test, verbose=0)
    differences["tinynet, reloaded"] = float(np.abs(p_reloaded - p_tinynet).max())
    print(f"tinynet -> file -> tinynet: largest difference "
          f"{differences['tinynet, reloaded']:.1e}")

# %% [markdown]
# ## Into Keras
#
# The same file opens in Keras 3 with `keras.models.load_model`. Keras needs a backend; if
# none is chosen and PyTorch is installed, we use PyTorch's (`KERAS_BACKEND=torch`).


# %%
# PyTorch's CPU-only build, much smaller than the default one with CUDA, installs from its own
# package index (`pip install torch --index-url https://download.pytorch.org/whl/cpu`); Keras
# comes from PyPI as usual.
TORCH_CPU = "pip install torch --index-url https://download.pytorch.org/whl/cpu"


def import_keras():
    """keras, or None with the reason printed (not installed, or no backend)."""
    if not saved:
        skipped["Keras"] = "it opens the saved file, which needs h5py"
        print(f"SKIPPED Keras: {skipped['Keras']}")
        return None
    if importlib.util.find_spec("keras") is None:
        skipped["Keras"] = "not installed"
        print(f"SKIPPED Keras: not installed ({TORCH_CPU}, then pip install keras, then run "
              f"again)")
        return None
    if "KERAS_BACKEND" not in os.environ and importlib.util.find_spec("torch") is not None:
        os.environ["KERAS_BACKEND"] = "torch"
    try:
        import keras
    except ImportError as err:
        skipped["Keras"] = "installed but cannot start"
        print(f"SKIPPED Keras: it is installed but cannot start ({err})")
        return None
    return keras


keras = import_keras()
if keras is not None:
    keras_model = keras.models.load_model(path)
    p_keras = keras_model.predict(x_test, verbose=0)
    differences["Keras 3"] = float(np.abs(p_keras - p_tinynet).max())
    print(f"tinynet -> file -> Keras {keras.__version__}: largest difference "
          f"{differences['Keras 3']:.1e}")

# %% [markdown]
# The file also holds the optimizer's state, as Keras saves it: Adam's step count, learning
# rate, and its two running averages m and v for every weight. So `fit` can go on in Keras
# (or in tinynet, after `load_model`) exactly where tinynet stopped. Predictions do not need
# it.
#
# ## Into PyTorch, by hand
#
# PyTorch cannot read a `.keras` file, so we build the network with `torch.nn` and copy the
# weights ourselves. Three things differ:
#
# * `nn.Linear` stores its weight as (out, in), the transpose of a Dense kernel (in, out);
# * `BatchNorm1d(momentum=m)` means `running = (1 - m) * running + m * batch`: the opposite
#   of Keras's `moving = momentum * moving + (1 - momentum) * batch`, so
#   torch's momentum = 1 - Keras's (0.01 for Keras's 0.99); its default `eps` is 1e-5, Keras's
#   1e-3;
# * during training PyTorch updates `running_var` with the **unbiased** batch variance
#   (divide by N - 1), Keras and tinynet with the biased one (divide by N). For predictions
#   this does not matter (we copy the stored values), for further training it does.


# %%
def torch_network(model):
    """The tinynet model's architecture in torch.nn, with BN's settings translated."""
    import torch

    modules = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            fan_in = layer.input_shape[-1]
            modules.append(torch.nn.Linear(fan_in, layer.units))
            if layer.activation.__name__ == "sigmoid":
                modules.append(torch.nn.Sigmoid())
        elif isinstance(layer, BatchNormalization):
            modules.append(torch.nn.BatchNorm1d(layer.input_shape[-1], eps=layer.epsilon,
                                                momentum=1 - layer.momentum))
        elif isinstance(layer, Activation) and layer.activation.__name__ == "relu":
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def copy_weights_to_torch(model, network):
    """Copy every Dense and BN weight of the tinynet model into the torch network."""
    import torch

    with_weights = [layer for layer in model.layers if layer.get_weights()]
    targets = [m for m in network if isinstance(m, (torch.nn.Linear, torch.nn.BatchNorm1d))]
    with torch.no_grad():
        for layer, module in zip(with_weights, targets, strict=True):
            arrays = [torch.from_numpy(w.astype(np.float32)) for w in layer.get_weights()]
            if isinstance(module, torch.nn.Linear):
                module.weight.copy_(arrays[0].T)  # torch: (out, in); Keras/tinynet: (in, out)
                module.bias.copy_(arrays[1])
            else:
                gamma, beta, moving_mean, moving_variance = arrays
                module.weight.copy_(gamma)
                module.bias.copy_(beta)
                module.running_mean.copy_(moving_mean)
                module.running_var.copy_(moving_variance)


has_torch = importlib.util.find_spec("torch") is not None
if has_torch:
    import torch

    network = torch_network(model)
    copy_weights_to_torch(model, network)
    network.eval()  # inference mode: BN uses running_mean and running_var
    with torch.no_grad():
        p_torch = network(torch.from_numpy(x_test.astype(np.float32))).numpy()
    differences["PyTorch"] = float(np.abs(p_torch - p_tinynet).max())
    with torch.no_grad():  # the same torch network in float64, for the rounding yardstick
        p_torch_float64 = copy.deepcopy(network).double()(
            torch.from_numpy(x_test.astype(np.float64))).numpy()
    print(network)
    print(f"tinynet -> PyTorch {torch.__version__}: largest difference "
          f"{differences['PyTorch']:.1e}")
else:
    skipped["PyTorch"] = "not installed"
    print(f"SKIPPED PyTorch: not installed ({TORCH_CPU}, then run again)")

# %% [markdown]
# The unbiased variance, measured: one training-mode step of the first BN layer on a batch
# of 32, in tinynet (on a copy of the layer) and in PyTorch, from the same moving statistics.

# %%
if has_torch:
    bn_layer = model.layers[1]
    batch = model.layers[0].forward(x_train[:32].astype(np.float32))  # BN's input (32, 64)
    bn_copy = BatchNormalization(momentum=bn_layer.momentum, epsilon=bn_layer.epsilon)
    bn_copy.build(bn_layer.input_shape)
    bn_copy.set_weights(bn_layer.get_weights())
    bn_copy.forward(batch, training=True)
    torch_bn = network[1]
    network.train()
    with torch.no_grad():
        torch_bn(torch.from_numpy(batch))
    network.eval()
    tinynet_var = bn_copy.get_weights()[3]
    torch_var = torch_bn.running_var.numpy()
    ratio = (torch_var - bn_layer.momentum * bn_layer.get_weights()[3]) / (
        tinynet_var - bn_layer.momentum * bn_layer.get_weights()[3])
    print(f"after one step, batch term of torch's running_var / tinynet's moving_variance: "
          f"{np.median(ratio):.4f} (N/(N-1) = 32/31 = {32 / 31:.4f})")

# %% [markdown]
# ## Folding BN into the Dense layer before it
#
# At inference, BN is a fixed affine map of each feature: with
# `s = gamma / sqrt(moving_variance + epsilon)`,
#
#     BN(z) = s * (z - moving_mean) + beta,     and z = x @ W + b, so
#     BN(z) = x @ (W * s) + ((b - moving_mean) * s + beta)
#
# which is one Dense layer with kernel `W * s` (each column scaled) and bias
# `(b - moving_mean) * s + beta`. Deployed networks do this: one layer fewer per BN, no
# division at run time. (It works only at inference: in training, BN's statistics change
# with every batch.)


# %%
def fold(dense, bn):
    """Kernel and bias of one Dense layer that computes bn(dense(x)) in inference mode.
    Computed in float64, then stored in the model's float32."""
    kernel, bias = (w.astype(np.float64) for w in dense.get_weights())
    gamma, beta, moving_mean, moving_variance = (w.astype(np.float64) for w in bn.get_weights())
    s = gamma / np.sqrt(moving_variance + bn.epsilon)   # (units,)
    return [kernel * s, (bias - moving_mean) * s + beta]


folded = Sequential([
    Dense(64, input_shape=(20,)), Activation("relu"),
    Dense(32), Activation("relu"),
    Dense(1, activation="sigmoid"),
])
layers = model.layers
folded.set_weights(fold(layers[0], layers[1]) + fold(layers[3], layers[4])
                   + layers[6].get_weights())
p_folded = folded.predict(x_test, verbose=0)
differences["BN folded"] = float(np.abs(p_folded - p_tinynet).max())
print(f"layers: {len(model.layers)} -> {len(folded.layers)}; parameters: "
      f"{model.count_params():,} -> {folded.count_params():,}")

# %% [markdown]
# ## How large is float32 rounding here?
#
# A float32 number carries about 7 significant digits, and every multiply-add of every layer
# rounds. How far that moves *these* predictions we measure: compute the same networks again
# by hand in float64 (about 16 digits, as good as exact here) and take the largest
# difference. Two float32 routes to the same predictions, each off the exact values by at
# most that much, can differ from each other by up to twice it: that is the yardstick for
# every comparison below. And in float64 the folded network must give the original's
# predictions to float64's own rounding, if the fold is exact algebra.


# %%
def predict_float64(model, x, weights=None):
    """The model's predictions computed by hand in float64, with the model's own weights or
    with `weights` (the arrays in set_weights's order). Dense, BatchNormalization (inference
    mode) and ReLU layers, and a sigmoid output: the layers of this lesson's networks."""
    arrays = iter(weights if weights is not None else model.get_weights())
    h = np.asarray(x, dtype=np.float64)
    for layer in model.layers:
        w = [np.asarray(next(arrays), dtype=np.float64) for _ in layer.get_weights()]
        if isinstance(layer, Dense):
            h = h @ w[0] + w[1]
        elif isinstance(layer, BatchNormalization):
            gamma, beta, moving_mean, moving_variance = w
            h = gamma * (h - moving_mean) / np.sqrt(moving_variance + layer.epsilon) + beta
        activation = layer.activation.__name__ if hasattr(layer, "activation") else "linear"
        if activation == "relu":
            h = np.maximum(h, 0.0)
        elif activation == "sigmoid":
            h = 1.0 / (1.0 + np.exp(-h))
        elif activation != "linear":
            raise ValueError(f"predict_float64: no float64 version of {activation!r}")
    return h


def agreement(value, rounding):
    """How a largest difference compares with the measured float32 rounding."""
    if value == 0:
        return "exactly equal"
    if value <= rounding:
        return f"within float32 rounding, {rounding:.1e} here"
    return f"MORE than float32 rounding, {rounding:.1e} here"


p_float64 = predict_float64(model, x_test)
folded_float64 = (fold(layers[0], layers[1]) + fold(layers[3], layers[4])
                  + layers[6].get_weights())  # the folded weights before float32 storage
p_folded_float64 = predict_float64(folded, x_test, folded_float64)
float32_error = {"original": float(np.abs(p_tinynet - p_float64).max()),
                 "folded": float(np.abs(p_folded - p_folded_float64).max())}
if has_torch:
    float32_error["PyTorch"] = float(np.abs(p_torch - p_torch_float64).max())
fold_in_float64 = float(np.abs(p_folded_float64 - p_float64).max())
worst_error = max(float32_error.values())
ROUNDING = 2 * worst_error  # two routes, each off by up to worst_error
print("float32 vs the same network in float64, largest difference: "
      + ", ".join(f"{name} {value:.1e}" for name, value in float32_error.items()))
print(f"so two float32 routes can differ by rounding alone up to 2 x {worst_error:.1e} = "
      f"{ROUNDING:.1e}")
print(f"in float64, folded vs original: largest difference {fold_in_float64:.0e} "
      f"({'the fold is exact algebra' if fold_in_float64 < 1e-12 else 'NOT the same function'})")
print(f"in float32, folded vs original: largest difference {differences['BN folded']:.1e} "
      f"({agreement(differences['BN folded'], ROUNDING)})")

# %% [markdown]
# ## All the comparisons in one picture
#
# **What to look at.** Each bar is the largest difference between the original tinynet
# predictions and one other route to them, on a log scale; the dashed line is the float32
# rounding measured above (twice the largest float32-vs-float64 difference): a bar at or
# below it is rounding, a bar above it is not. A bar at the bottom marked "0" is an exact
# match. (Keras's own float32 error is not measured; its bar is held to the same line.)

# %%
import matplotlib.pyplot as plt

from tinynet import plot

plot.use_style()  # the classroom style (large fonts), as in every lesson
floor = 1e-12
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
names = list(differences)
heights = [max(value, floor) for value in differences.values()]
ax.bar(names, heights, color=plot.color_for("with BN"))
for i, value in enumerate(differences.values()):
    if value == 0:  # above the stub at the floor
        ax.annotate("0", (i, floor), ha="center", va="bottom")
    else:  # inside the bar's top, clear of the dashed line
        ax.annotate(f"{value:.1e}", (i, value), xytext=(0, -6), textcoords="offset points",
                    ha="center", va="top", color="white")
ax.axhline(ROUNDING, color="black", ls="--", lw=1,
           label=f"float32 rounding, measured: {ROUNDING:.1e}")
ax.set_yscale("log")
ax.set_ylim(floor / 2, 1e-3)
ax.set_ylabel("largest |difference| of predicted probability")
ax.set_title(f"The same network by {len(differences)} routes ({len(x_test)} test samples)")
ax.legend()
save_figure(fig, args.out, "11_agreement")

# %% [markdown]
# ## What this run measured

# %%
print("\nSummary")
for name, value in differences.items():
    print(f"- {name}: largest difference {value:.1e} ({agreement(value, ROUNDING)})")
if skipped:
    parts = {"saving": "saving and reloading in tinynet"}  # the others are named as printed
    print(f"- Skipped here: "
          f"{'; '.join(f'{parts.get(part, part)} ({why})' for part, why in skipped.items())}. "
          f"Install what is missing and run again to see every route.")
print(f"- Folding both BN layers removes {len(model.layers) - len(folded.layers)} layers and "
      f"{model.count_params() - folded.count_params()} parameters (the moving statistics and "
      f"gamma/beta are absorbed into the kernels and biases).")

KEYS = {"tinynet, reloaded": "reload", "Keras 3": "keras", "PyTorch": "torch",
        "BN folded": "folded"}
result = " ".join(f"{KEYS[name]}={value:.3g}" for name, value in differences.items())
print(f"RESULT {result} rounding={ROUNDING:.3g} skipped={','.join(skipped) or 'none'} "
      f"layers_before={len(model.layers)} layers_after={len(folded.layers)} "
      f"test_accuracy={test_accuracy:.4f}")


def shown(value):
    return "0" if value == 0 else f"{value:.0e}"


routes = [name for name in ("tinynet, reloaded", "Keras 3", "PyTorch") if name in differences]
same = ", ".join(f"{name.split(',')[0]} {shown(differences[name])}" for name in routes)
headline((f"largest prediction difference after the round trip: {same}; " if same else "")
         + f"BN folded into Dense: {len(model.layers)} -> {len(folded.layers)} layers, "
         f"max diff {shown(differences['BN folded'])}")

show_figures()

# %% [markdown]
# ## Try this
#
# * Open `article_model.keras` with any zip tool and read `config.json`: find the two BN
#   layers' `momentum` and `epsilon`.
# * Save with `BatchNormalization(momentum=0.9, epsilon=1e-5)` and check what the PyTorch
#   copy needs then (`momentum=0.1`, `eps=1e-5`: PyTorch's defaults).
# * Train the PyTorch copy for one step in `network.train()` mode, and the tinynet model for
#   one step: whose `moving_variance` is larger, and by which factor?
# * Fold the BN layers *before* training ends and keep training the folded model: why does it
#   no longer behave like a BN network?
