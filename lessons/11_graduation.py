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
# Without Keras or PyTorch the lesson still runs: it says what it skipped.
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
    print("SKIPPED saving: h5py is not installed (pip install \"tinynet[keras]\")")

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
    if importlib.util.find_spec("keras") is None:
        print(f"SKIPPED Keras: not installed ({TORCH_CPU}, then pip install keras, then run "
              f"again)")
        return None
    if "KERAS_BACKEND" not in os.environ and importlib.util.find_spec("torch") is not None:
        os.environ["KERAS_BACKEND"] = "torch"
    try:
        import keras
    except ImportError as err:
        print(f"SKIPPED Keras: it is installed but cannot start ({err})")
        return None
    return keras


keras = import_keras() if saved else None
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
    print(network)
    print(f"tinynet -> PyTorch {torch.__version__}: largest difference "
          f"{differences['PyTorch']:.1e}")
else:
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
print(f"folded vs original: largest difference {differences['BN folded']:.1e} "
      f"(float32 resolution near 1 is {np.finfo(np.float32).eps:.1e})")

# %% [markdown]
# ## All the comparisons in one picture
#
# **What to look at.** Each bar is the largest difference between the original tinynet
# predictions and one other route to them, on a log scale; the dashed line is float32's
# resolution (differences below it are rounding). A bar at the bottom marked "0" is an exact
# match.

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
    ax.annotate("0" if value == 0 else f"{value:.1e}", (i, max(value, floor)),
                ha="center", va="bottom")
ax.axhline(np.finfo(np.float32).eps, color="black", ls="--", lw=1, label="float32 resolution")
ax.set_yscale("log")
ax.set_ylim(floor / 2, 1e-3)
ax.set_ylabel("largest |difference| of predicted probability")
ax.set_title(f"The same network by {len(differences)} routes ({len(x_test)} test samples)")
ax.legend()
save_figure(fig, args.out, "11_agreement")

# %% [markdown]
# ## What this run measured

# %%
skipped = [name for name, present in [("Keras", "Keras 3" in differences),
                                      ("PyTorch", "PyTorch" in differences)] if not present]
print("\nSummary")
for name, value in differences.items():
    verdict = "exactly equal" if value == 0 else (
        "equal to float32 rounding" if value < 1e-5 else "DIFFERENT")
    print(f"- {name}: largest difference {value:.1e} ({verdict})")
if skipped:
    print(f"- Skipped (not installed here): {', '.join(skipped)}. Install them and run again "
          f"to see the same predictions there.")
print(f"- Folding both BN layers removes {len(model.layers) - len(folded.layers)} layers and "
      f"{model.count_params() - folded.count_params()} parameters (the moving statistics and "
      f"gamma/beta are absorbed into the kernels and biases).")

KEYS = {"tinynet, reloaded": "reload", "Keras 3": "keras", "PyTorch": "torch",
        "BN folded": "folded"}
result = " ".join(f"{KEYS[name]}={value:.3g}" for name, value in differences.items())
print(f"RESULT {result} skipped={','.join(skipped) or 'none'} "
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
