"""Make tests/data/keras_issue12_reference.npz: Keras 3's numbers for losses, metrics,
regularizers, activations, optimizers and to_categorical, on fixed inputs.

Everything is float32, as Keras computes it. Gradients come from torch's autograd through
Keras's own functions (the torch backend), so they are what Keras trains with.

    loss_<case>_value            the reduced loss, with sample weights
    loss_<case>_per_sample       keras.losses.<function>(y_true, y_pred), one value per sample
    loss_<case>_grad             d(reduced loss) / d y_pred
    metric_<case>                result() after three update_state calls (with sample weights)
    reg_<case>_value / _grad     a regularizer's penalty on W and its gradient
    act_<name>_value / _grad     an activation on a grid of x, and d(sum(y * R)) / dx
    opt_<case>                   a weight after 5 steps of an optimizer on fixed gradients
    to_categorical_*             keras.utils.to_categorical on fixed labels

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_issue12_reference.py
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_issue12_reference.npz")
RNG = np.random.default_rng(12)
N, K = 12, 4


def float32(a):
    return np.asarray(a, dtype=np.float32)


def inputs():
    """Fixed targets and predictions, with a few probabilities at exactly 0 and 1."""
    labels = RNG.integers(0, K, size=N)
    one_hot = np.eye(K, dtype=np.float32)[labels]
    z = float32(RNG.normal(0.0, 2.0, size=(N, K)))
    p_soft = float32(keras.ops.softmax(z).numpy())
    y_bin = float32(RNG.integers(0, 2, size=(N, 3)))
    z_bin = float32(RNG.normal(0.0, 2.0, size=(N, 3)))
    p_bin = float32(1 / (1 + np.exp(-z_bin)))
    p_bin[0, 0], p_bin[1, 1] = 0.0, 1.0  # clipped: no gradient there
    y_reg = float32(RNG.normal(size=(N, 3)))
    p_reg = float32(y_reg + RNG.normal(0.0, 1.5, size=(N, 3)))
    weights = float32(RNG.uniform(0.0, 2.0, size=N))
    return {"labels": labels, "one_hot": one_hot, "z": z, "p_soft": p_soft, "y_bin": y_bin,
            "z_bin": z_bin, "p_bin": p_bin, "y_reg": y_reg, "p_reg": p_reg,
            "sample_weight": weights}


LOSS_CASES = {
    # case: (loss object, function name, y key, prediction key)
    "bce": (lambda: keras.losses.BinaryCrossentropy(), "binary_crossentropy", "y_bin",
            "p_bin"),
    "bce_logits": (lambda: keras.losses.BinaryCrossentropy(from_logits=True),
                   "binary_crossentropy", "y_bin", "z_bin"),
    "cce": (lambda: keras.losses.CategoricalCrossentropy(), "categorical_crossentropy",
            "one_hot", "p_soft"),
    "cce_logits": (lambda: keras.losses.CategoricalCrossentropy(from_logits=True),
                   "categorical_crossentropy", "one_hot", "z"),
    "scce": (lambda: keras.losses.SparseCategoricalCrossentropy(),
             "sparse_categorical_crossentropy", "labels", "p_soft"),
    "scce_logits": (lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    "sparse_categorical_crossentropy", "labels", "z"),
    "mse": (lambda: keras.losses.MeanSquaredError(), "mean_squared_error", "y_reg", "p_reg"),
    "mae": (lambda: keras.losses.MeanAbsoluteError(), "mean_absolute_error", "y_reg",
            "p_reg"),
    "huber": (lambda: keras.losses.Huber(), "huber", "y_reg", "p_reg"),
    "huber_delta": (lambda: keras.losses.Huber(delta=0.5), None, "y_reg", "p_reg"),
    "bce_smoothing": (lambda: keras.losses.BinaryCrossentropy(label_smoothing=0.2), None,
                      "y_bin", "p_bin"),
    "cce_logits_smoothing": (lambda: keras.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=0.1), None, "one_hot", "z"),
}


def loss_cases(data):
    out = {}
    for case, (make, function, y_key, p_key) in LOSS_CASES.items():
        y_pred = torch.tensor(data[p_key], requires_grad=True)
        value = make()(data[y_key], y_pred, sample_weight=data["sample_weight"])
        value.backward()
        out[f"loss_{case}_value"] = float32(value.detach().numpy())
        out[f"loss_{case}_grad"] = float32(y_pred.grad.numpy())
        if function is not None:
            fn = getattr(keras.losses, function)
            kwargs = {"from_logits": True} if case.endswith("logits") else {}
            out[f"loss_{case}_per_sample"] = float32(
                keras.ops.convert_to_numpy(fn(data[y_key], data[p_key], **kwargs)))
    return out


def metric_cases(data):
    """Each metric fed in three batches (sizes 5, 4, 3) with sample weights."""
    cases = {
        "binary_accuracy": (keras.metrics.BinaryAccuracy(), "y_bin", "p_bin"),
        "binary_accuracy_0.7": (keras.metrics.BinaryAccuracy(threshold=0.7), "y_bin",
                                "p_bin"),
        "categorical_accuracy": (keras.metrics.CategoricalAccuracy(), "one_hot", "p_soft"),
        "sparse_categorical_accuracy": (keras.metrics.SparseCategoricalAccuracy(), "labels",
                                        "p_soft"),
        "precision": (keras.metrics.Precision(), "y_bin", "p_bin"),
        "recall": (keras.metrics.Recall(), "y_bin", "p_bin"),
        "precision_0.3": (keras.metrics.Precision(thresholds=0.3), "y_bin", "p_bin"),
        "auc": (keras.metrics.AUC(), "y_bin", "p_bin"),
        "auc_logits": (keras.metrics.AUC(from_logits=True), "y_bin", "z_bin"),
        "auc_minoring": (keras.metrics.AUC(summation_method="minoring",
                                           num_thresholds=50), "y_bin", "p_bin"),
        "mae": (keras.metrics.MeanAbsoluteError(), "y_reg", "p_reg"),
        "mse": (keras.metrics.MeanSquaredError(), "y_reg", "p_reg"),
    }
    out = {}
    for case, (metric, y_key, p_key) in cases.items():
        for weighted in (False, True):
            metric.reset_state()
            for start, stop in ((0, 5), (5, 9), (9, N)):
                sw = data["sample_weight"][start:stop] if weighted else None
                metric.update_state(data[y_key][start:stop], data[p_key][start:stop],
                                    sample_weight=sw)
            suffix = "_weighted" if weighted else ""
            out[f"metric_{case}{suffix}"] = float32(keras.ops.convert_to_numpy(metric.result()))
    # one AUC on many samples, with ties at exact thresholds and values outside [0, 1]
    auc = keras.metrics.AUC()
    y_many = RNG.integers(0, 2, size=500)
    p_many = float32(np.clip(RNG.normal(0.3 + 0.3 * y_many, 0.3), -0.2, 1.2))
    p_many[:20] = np.arange(20) / 199
    auc.update_state(y_many, p_many)
    out.update(auc_many_y=y_many, auc_many_p=p_many,
               metric_auc_many=float32(keras.ops.convert_to_numpy(auc.result())))
    return out


def regularizer_cases():
    w = float32(RNG.normal(size=(5, 3)))
    w[0, 0] = 0.0  # |w| has no slope at 0: torch's sign(0) = 0
    cases = {"l1": keras.regularizers.L1(), "l2": keras.regularizers.L2(),
             "l1_l2": keras.regularizers.L1L2(l1=0.02, l2=0.03),
             "l2_0.1": keras.regularizers.L2(0.1)}
    out = {"reg_w": w}
    for case, reg in cases.items():
        weight = torch.tensor(w, requires_grad=True)
        value = reg(weight)
        value.backward()
        out[f"reg_{case}_value"] = float32(value.detach().numpy())
        out[f"reg_{case}_grad"] = float32(weight.grad.numpy())
    return out


ACTIVATIONS = ["elu", "selu", "leaky_relu", "gelu", "softplus", "swish", "silu",
               "hard_sigmoid", "relu", "sigmoid", "tanh"]


def activation_cases():
    x = float32(np.concatenate([np.linspace(-6, 6, 49), RNG.normal(0, 2, 31)]))
    x = x[np.abs(x) > 1e-3]          # keep off the kinks at 0 (relu, elu, leaky_relu)
    x = x[np.abs(np.abs(x) - 3) > 1e-3]  # and off hard_sigmoid's kinks at +-3
    r = float32(RNG.normal(size=x.shape))
    out = {"act_x": x, "act_r": r}
    for name in ACTIVATIONS:
        xt = torch.tensor(x, requires_grad=True)
        y = keras.activations.get(name)(xt)
        (y * torch.tensor(r)).sum().backward()
        out[f"act_{name}_value"] = float32(y.detach().numpy())
        out[f"act_{name}_grad"] = float32(xt.grad.numpy())
    return out


def optimizer_cases():
    """A (3, 2) weight and a bias (2,), 5 steps on fixed gradients (the same for every
    optimizer), so each update rule is pinned down; weight decay touches both."""
    w0 = float32(RNG.normal(size=(3, 2)))
    b0 = float32(RNG.normal(size=(2,)))
    grads = [(float32(RNG.normal(size=(3, 2))), float32(RNG.normal(size=(2,))))
             for _ in range(5)]
    cases = {
        "rmsprop": lambda: keras.optimizers.RMSprop(),
        "rmsprop_momentum": lambda: keras.optimizers.RMSprop(0.01, momentum=0.9),
        "rmsprop_centered": lambda: keras.optimizers.RMSprop(0.01, centered=True),
        "adagrad": lambda: keras.optimizers.Adagrad(),
        "adagrad_0.1": lambda: keras.optimizers.Adagrad(0.1, initial_accumulator_value=0.5),
        "adamw": lambda: keras.optimizers.AdamW(),
        "adamw_0.1": lambda: keras.optimizers.AdamW(learning_rate=0.01, weight_decay=0.1),
        "adam": lambda: keras.optimizers.Adam(),
        "sgd_momentum": lambda: keras.optimizers.SGD(0.1, momentum=0.9),
    }
    out = {"opt_w0": w0, "opt_b0": b0}
    for i, (gw, gb) in enumerate(grads):
        out[f"opt_grad_w_{i}"], out[f"opt_grad_b_{i}"] = gw, gb
    for case, make in cases.items():
        optimizer = make()
        w, b = keras.Variable(w0), keras.Variable(b0)
        for gw, gb in grads:
            optimizer.apply_gradients([(keras.ops.convert_to_tensor(gw), w),
                                       (keras.ops.convert_to_tensor(gb), b)])
        out[f"opt_{case}_w"] = float32(keras.ops.convert_to_numpy(w))
        out[f"opt_{case}_b"] = float32(keras.ops.convert_to_numpy(b))
    return out


def to_categorical_cases():
    labels = np.array([0, 2, 1, 3, 3])
    return {"to_categorical_labels": labels,
            "to_categorical_auto": keras.utils.to_categorical(labels),
            "to_categorical_5": keras.utils.to_categorical(labels, num_classes=5),
            "to_categorical_column": keras.utils.to_categorical(labels.reshape(-1, 1))}


def main():
    keras.utils.set_random_seed(0)
    data = inputs()
    arrays = {f"input_{key}": value for key, value in data.items()}
    for part in (loss_cases(data), metric_cases(data), regularizer_cases(),
                 activation_cases(), optimizer_cases(), to_categorical_cases()):
        arrays.update(part)
    arrays["keras_version"] = np.array(keras.__version__)
    arrays["torch_version"] = np.array(torch.__version__)
    tmp = OUT + ".tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, OUT)
    print(f"Keras {keras.__version__} ({keras.backend.backend()}) -> {os.path.normpath(OUT)} "
          f"({len(arrays)} arrays, {os.path.getsize(OUT) / 1024:.0f} KB)")


if __name__ == "__main__":
    sys.exit(main())
