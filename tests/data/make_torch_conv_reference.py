"""Make tests/data/torch_conv_reference.npz: PyTorch autograd on the convolutional layers.

tinynet writes the backward of Conv2D, the pooling layers, Flatten, Reshape,
GroupNormalization and of BatchNormalization / LayerNormalization on images by hand; here
torch derives them by autograd, in float64, and tests/test_conv.py and tests/test_groupnorm.py
replay the answers (torch is not installed where the tests run). Keras's layouts are channels
last, torch's channels first, so every image is permuted on the way in and out, and a Keras
kernel (kh, kw, C_in, C_out) is a torch weight (C_out, C_in, kh, kw).

Keras's padding='same' (TensorFlow's rule) can be uneven, with the odd pixel at the bottom and
right; torch's own padding cannot, so the script pads explicitly (zeros for convolution and
average pooling, -inf for max pooling), computing the amounts from the rule itself:

    H_out = ceil(H / s),  total = max((H_out - 1) * s + k - H, 0),  top = total // 2

An average over a padded window counts only the real pixels (Keras's TensorFlow and JAX
backends): the sum over the window is divided by the number of real pixels in it.

For every case `NAME` (see CASES) the file holds NAME_x, NAME_grad_output, the layer's weights
(NAME_kernel, NAME_bias, NAME_gamma, NAME_beta, NAME_moving_mean, NAME_moving_variance as the
layer has them), torch's output NAME_y and the gradients of sum(y * grad_output): NAME_dx,
NAME_dkernel, NAME_dbias, NAME_dgamma, NAME_dbeta. `cases` is a JSON list of
{"name", "layer", "config"}: the tinynet layer and its constructor arguments.

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_torch_conv_reference.py
"""

import json
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_conv_reference.npz")
EPSILON = 1e-3     # Keras's default for every normalization layer (torch's is 1e-5)
MOMENTUM = 0.99    # Keras's BN momentum; torch's momentum=0.01 means the same update

# (name, tinynet layer, constructor arguments, input shape (N, H, W, C))
CASES = [
    ("conv_valid", "Conv2D", {"filters": 4, "kernel_size": [3, 2]}, (2, 7, 6, 3)),
    ("conv_same_stride2", "Conv2D", {"filters": 3, "kernel_size": 3, "strides": 2,
                                     "padding": "same"}, (2, 8, 7, 2)),
    ("conv_same_even_kernel", "Conv2D", {"filters": 2, "kernel_size": 2, "padding": "same"},
     (2, 5, 6, 2)),
    ("conv_strides_2_1", "Conv2D", {"filters": 5, "kernel_size": 3, "strides": [2, 1]},
     (3, 7, 7, 3)),
    ("conv_lenet_first", "Conv2D", {"filters": 6, "kernel_size": 5}, (2, 12, 12, 1)),
    ("conv_no_bias", "Conv2D", {"filters": 3, "kernel_size": 3, "use_bias": False},
     (2, 5, 5, 2)),
    ("max_valid", "MaxPooling2D", {"pool_size": 2}, (2, 7, 6, 3)),
    ("max_same_overlap", "MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"},
     (2, 7, 6, 3)),
    ("max_stride1", "MaxPooling2D", {"pool_size": [2, 3], "strides": 1}, (2, 5, 6, 2)),
    ("avg_valid", "AveragePooling2D", {"pool_size": 2, "strides": 2}, (2, 8, 8, 3)),
    ("avg_same_overlap", "AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"},
     (2, 7, 6, 3)),
    ("avg_same_stride1", "AveragePooling2D", {"pool_size": [2, 3], "strides": 1,
                                              "padding": "same"}, (2, 5, 6, 2)),
    ("global_avg", "GlobalAveragePooling2D", {}, (3, 5, 4, 6)),
    ("flatten", "Flatten", {}, (2, 3, 4, 5)),
    ("group_norm_3", "GroupNormalization", {"groups": 3}, (2, 5, 4, 6)),
    ("group_norm_1", "GroupNormalization", {"groups": 1}, (3, 4, 4, 4)),
    ("instance_norm", "GroupNormalization", {"groups": -1}, (2, 5, 4, 6)),
    ("group_norm_dense", "GroupNormalization", {"groups": 2}, (5, 8)),
    ("batch_norm_images", "BatchNormalization", {}, (4, 5, 3, 6)),
    ("layer_norm_images", "LayerNormalization", {}, (2, 5, 4, 6)),
    ("reshape", "Reshape", {"target_shape": [-1, 4]}, (2, 3, 4, 2)),
]


def same_padding(size, window, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def pads_for(config, shape, window_key):
    """torch's F.pad order for the last two axes of (N, C, H, W): (left, right, top, bottom);
    and the window and strides as pairs (the default stride: 1 for Conv2D, the window for
    pooling, as in Keras)."""
    window = config[window_key]
    window = window if isinstance(window, list) else [window, window]
    strides = config.get("strides") or (1 if window_key == "kernel_size" else window)
    strides = strides if isinstance(strides, list) else [strides, strides]
    if config.get("padding", "valid") == "valid":
        return (0, 0, 0, 0), window, strides
    top, bottom = same_padding(shape[1], window[0], strides[0])
    left, right = same_padding(shape[2], window[1], strides[1])
    return (left, right, top, bottom), window, strides


def channels_first(x):
    return x.permute(0, 3, 1, 2)


def channels_last(x):
    return x.permute(0, 2, 3, 1)


def torch_forward(layer, config, x, weights):
    """torch's version of the tinynet layer, on channels-last x with Keras-layout weights."""
    if layer == "Conv2D":
        pads, _, strides = pads_for(config, x.shape, "kernel_size")
        kernel = weights["kernel"].permute(3, 2, 0, 1)
        return channels_last(F.conv2d(F.pad(channels_first(x), pads), kernel,
                                      weights.get("bias"), stride=strides))
    if layer == "MaxPooling2D":
        pads, window, strides = pads_for(config, x.shape, "pool_size")
        padded = F.pad(channels_first(x), pads, value=float("-inf"))
        return channels_last(F.max_pool2d(padded, window, strides))
    if layer == "AveragePooling2D":
        pads, window, strides = pads_for(config, x.shape, "pool_size")
        sums = F.avg_pool2d(F.pad(channels_first(x), pads), window, strides) * np.prod(window)
        ones = F.pad(torch.ones_like(channels_first(x)), pads)
        counts = F.avg_pool2d(ones, window, strides) * np.prod(window)
        return channels_last(sums / counts)
    if layer == "GlobalAveragePooling2D":
        return x.mean(dim=(1, 2))
    if layer == "Flatten":
        return x.reshape(x.shape[0], -1)
    if layer == "Reshape":
        return x.reshape(x.shape[0], *config["target_shape"])
    if layer == "GroupNormalization":
        channels = x.shape[-1]
        groups = channels if config["groups"] == -1 else config["groups"]
        x_cf = channels_first(x) if x.ndim == 4 else x
        y = F.group_norm(x_cf, groups, weights["gamma"], weights["beta"], eps=EPSILON)
        return channels_last(y) if x.ndim == 4 else y
    if layer == "BatchNormalization":
        y = F.batch_norm(channels_first(x), weights["torch_running_mean"],
                         weights["torch_running_var"], weights["gamma"], weights["beta"],
                         training=True, momentum=1 - MOMENTUM, eps=EPSILON)
        return channels_last(y)
    if layer == "LayerNormalization":
        return F.layer_norm(x, (x.shape[-1],), weights["gamma"], weights["beta"], eps=EPSILON)
    raise ValueError(layer)


def make_weights(layer, config, channels, rng):
    """Random weights in Keras's layout, away from their defaults."""
    if layer == "Conv2D":
        k = config["kernel_size"]
        k = k if isinstance(k, list) else [k, k]
        weights = {"kernel": rng.normal(0.0, 0.5, size=(*k, channels, config["filters"]))}
        if config.get("use_bias", True):
            weights["bias"] = rng.normal(0.0, 0.5, size=config["filters"])
        return weights
    if layer in ("GroupNormalization", "BatchNormalization", "LayerNormalization"):
        weights = {"gamma": rng.uniform(0.5, 2.0, size=channels),
                   "beta": rng.normal(0.0, 1.0, size=channels)}
        if layer == "BatchNormalization":
            weights["moving_mean"] = rng.normal(0.0, 1.0, size=channels)
            weights["moving_variance"] = rng.uniform(0.5, 2.0, size=channels)
        return weights
    return {}


def make_case(name, layer, config, shape, rng):
    """Inputs, weights and torch's answers for one case, keyed as in the .npz (no prefix)."""
    case = {"x": rng.normal(1.0, 2.0, size=shape)}   # deliberately not centred or unit-scaled
    case.update(make_weights(layer, config, shape[-1], rng))
    x = torch.tensor(case["x"], requires_grad=True)
    weights = {key: torch.tensor(value, requires_grad=key in ("kernel", "bias", "gamma", "beta"))
               for key, value in case.items() if key != "x"}
    if layer == "BatchNormalization":  # torch updates these in place: give it copies
        weights["torch_running_mean"] = torch.tensor(case["moving_mean"])
        weights["torch_running_var"] = torch.tensor(case["moving_variance"])
    y = torch_forward(layer, config, x, weights)
    case["grad_output"] = rng.normal(0.0, 1.0, size=tuple(y.shape))
    (y * torch.tensor(case["grad_output"])).sum().backward()
    case["y"] = y.detach().numpy()
    case["dx"] = x.grad.numpy()
    for key in ("kernel", "bias", "gamma", "beta"):
        if key in weights:
            case["d" + key] = weights[key].grad.numpy()
    if layer == "BatchNormalization":
        case["torch_running_mean"] = weights["torch_running_mean"].numpy()
        case["torch_running_var"] = weights["torch_running_var"].numpy()
    return case


def main():
    rng = np.random.default_rng(1998)  # LeNet-5's year
    arrays = {"epsilon": np.array(EPSILON), "momentum": np.array(MOMENTUM),
              "torch_version": np.array(torch.__version__)}
    listing = []
    for name, layer, config, shape in CASES:
        for key, value in make_case(name, layer, config, shape, rng).items():
            arrays[f"{name}__{key}"] = value
        listing.append({"name": name, "layer": layer, "config": config})
    arrays["cases"] = np.array(json.dumps(listing))
    np.savez_compressed(OUT, **arrays)
    print(f"torch {torch.__version__}: {len(CASES)} cases -> {os.path.normpath(OUT)} "
          f"({os.path.getsize(OUT) / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
