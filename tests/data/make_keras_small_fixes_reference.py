"""Make tests/data/keras_small_fixes_reference.npz: Keras 3's numbers for the losses tinynet
added (msle, mape, log_cosh, poisson, kl_divergence, hinge, squared_hinge), Adam and AdamW
with amsgrad=True, optimizers' get_config, and Constant initializers holding arrays.

Everything is float32, as Keras computes it. Gradients come from torch's autograd through
Keras's own losses (the torch backend), so they are what Keras trains with.

    input_<key>                  the fixed targets and predictions
    loss_<case>_value            the reduced loss, with sample weights
    loss_<case>_grad             d(reduced loss) / d y_pred
    loss_<case>_per_sample       keras.losses.<function>(y_true, y_pred), one value per sample
    opt_w0, opt_b0, opt_grad_*   a (3, 2) kernel, a (2,) bias and 6 steps of gradients that
                                 shrink (so AMSGrad's max of v differs from v)
    opt_<case>_w, opt_<case>_b   the weights after the 6 steps
    opt_amsgrad_variable_paths   Keras's optimizer variables, in the order a file stores them
    optimizer_configs            JSON: get_config() of each optimizer, made first in the
                                 process (so Keras names it without a _1 suffix)
    constant_configs             JSON: Constant(value).get_config() for numbers and arrays
    constant_<case>              Constant(value)(shape)

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_small_fixes_reference.py
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "keras_small_fixes_reference.npz")
N, K = 10, 3


def float32(a):
    return np.asarray(a, dtype=np.float32)


def optimizer_configs():
    """get_config() of each optimizer Keras and tinynet share, with defaults, with settings,
    and with a schedule. Made before any other optimizer, so the names have no suffix."""
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=100,
                                                           decay_rate=0.5)
    optimizers = {
        "Adam": keras.optimizers.Adam(),
        "SGD": keras.optimizers.SGD(),
        "RMSprop": keras.optimizers.RMSprop(),
        "AdamW": keras.optimizers.AdamW(),
        "Adagrad": keras.optimizers.Adagrad(),
        "Adam_settings": keras.optimizers.Adam(learning_rate=0.01, beta_1=0.8, amsgrad=True,
                                               name="my_adam"),
        "SGD_schedule": keras.optimizers.SGD(learning_rate=schedule, momentum=0.9,
                                             nesterov=True, name="sgd_schedule"),
        "SGD_zero": keras.optimizers.SGD(learning_rate=0.0, name="frozen"),
    }
    return {"optimizer_configs": np.array(json.dumps(
        {case: optimizer.get_config() for case, optimizer in optimizers.items()}))}


def inputs():
    """Targets and predictions for each loss, with the edge cases Keras clips or clamps."""
    rng = np.random.default_rng(2024)
    y_pos = float32(rng.uniform(0.0, 3.0, size=(N, K)))          # msle: y >= 0
    p_pos = float32(y_pos + rng.normal(0.0, 0.7, size=(N, K)))
    p_pos[0, 0], p_pos[1, 1] = -0.5, 0.0                          # clamped to eps: no gradient
    y_reg = float32(rng.normal(0.0, 2.0, size=(N, K)))            # mape, log_cosh
    p_reg = float32(y_reg + rng.normal(0.0, 1.0, size=(N, K)))
    y_reg[2, 0] = 0.0                                             # mape divides by eps
    p_reg[3, 1] = y_reg[3, 1] + 40.0                              # log_cosh: a huge error
    counts = float32(rng.poisson(2.0, size=(N, K)))              # poisson
    rates = float32(rng.uniform(0.2, 4.0, size=(N, K)))
    y_dist = float32(rng.dirichlet(np.ones(K), size=N))           # kl_divergence
    p_dist = float32(rng.dirichlet(np.ones(K), size=N))
    y_dist[0] = [0.0, 0.25, 0.75]                                 # y = 0: clipped to eps
    p_dist[1] = [0.0, 0.5, 0.5]                                   # p = 0: no gradient
    y_01 = float32(rng.integers(0, 2, size=(N, K)))               # hinge: 0/1 -> -1/+1
    y_pm = 2 * y_01 - 1                                           # hinge: -1/+1 as they are
    y_soft = float32(rng.uniform(-1.0, 1.0, size=(N, K)))         # hinge: other targets
    z = float32(rng.normal(0.0, 1.5, size=(N, K)))
    weights = float32(rng.uniform(0.0, 2.0, size=N))
    return {"y_pos": y_pos, "p_pos": p_pos, "y_reg": y_reg, "p_reg": p_reg,
            "counts": counts, "rates": rates, "y_dist": y_dist, "p_dist": p_dist,
            "y_01": y_01, "y_pm": y_pm, "y_soft": y_soft, "z": z, "sample_weight": weights}


LOSS_CASES = {
    # case: (Keras loss class, function name, y key, prediction key)
    "msle": ("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", "y_pos",
             "p_pos"),
    "mape": ("MeanAbsolutePercentageError", "mean_absolute_percentage_error", "y_reg",
             "p_reg"),
    "log_cosh": ("LogCosh", "log_cosh", "y_reg", "p_reg"),
    "poisson": ("Poisson", "poisson", "counts", "rates"),
    "kl_divergence": ("KLDivergence", "kl_divergence", "y_dist", "p_dist"),
    "hinge_01": ("Hinge", "hinge", "y_01", "z"),
    "hinge_pm": ("Hinge", "hinge", "y_pm", "z"),
    "hinge_soft": ("Hinge", "hinge", "y_soft", "z"),
    "squared_hinge_01": ("SquaredHinge", "squared_hinge", "y_01", "z"),
    "squared_hinge_soft": ("SquaredHinge", "squared_hinge", "y_soft", "z"),
}


def loss_cases(data):
    out = {}
    for case, (class_name, function, y_key, p_key) in LOSS_CASES.items():
        y_pred = torch.tensor(data[p_key], requires_grad=True)
        loss = getattr(keras.losses, class_name)()
        value = loss(data[y_key], y_pred, sample_weight=data["sample_weight"])
        value.backward()
        out[f"loss_{case}_value"] = float32(value.detach().numpy())
        out[f"loss_{case}_grad"] = float32(y_pred.grad.numpy())
        out[f"loss_{case}_per_sample"] = float32(keras.ops.convert_to_numpy(
            getattr(keras.losses, function)(data[y_key], data[p_key])))
        out[f"loss_{case}_name"] = np.array(loss.name)
    return out


def amsgrad_cases():
    """6 steps of gradients that shrink, so v falls below its earlier maximum and AMSGrad's
    steps differ from Adam's."""
    rng = np.random.default_rng(7)
    w0, b0 = float32(rng.normal(size=(3, 2))), float32(rng.normal(size=(2,)))
    scales = [3.0, 2.0, 1.0, 0.5, 0.2, 0.1]
    grads = [(float32(s * rng.normal(size=(3, 2))), float32(s * rng.normal(size=(2,))))
             for s in scales]
    cases = {
        "adam_amsgrad": lambda: keras.optimizers.Adam(amsgrad=True),
        "adam_amsgrad_0.01": lambda: keras.optimizers.Adam(0.01, beta_2=0.9, amsgrad=True),
        "adam_0.01": lambda: keras.optimizers.Adam(0.01, beta_2=0.9),
        "adamw_amsgrad": lambda: keras.optimizers.AdamW(0.01, weight_decay=0.1, beta_2=0.9,
                                                         amsgrad=True),
    }
    out = {"opt_w0": w0, "opt_b0": b0}
    for i, (gw, gb) in enumerate(grads):
        out[f"opt_grad_w_{i}"], out[f"opt_grad_b_{i}"] = gw, gb
    for case, make in cases.items():
        optimizer = make()
        w, b = keras.Variable(w0, name="kernel"), keras.Variable(b0, name="bias")
        for gw, gb in grads:
            optimizer.apply_gradients([(keras.ops.convert_to_tensor(gw), w),
                                       (keras.ops.convert_to_tensor(gb), b)])
        out[f"opt_{case}_w"] = float32(keras.ops.convert_to_numpy(w))
        out[f"opt_{case}_b"] = float32(keras.ops.convert_to_numpy(b))
        if case == "adam_amsgrad":
            prefix = optimizer.name + "/"
            out["opt_amsgrad_variable_paths"] = np.array(
                [v.path.removeprefix(prefix) for v in optimizer.variables])
    return out


CONSTANT_CASES = {
    # case: (value, shape)
    "number": (0.5, (2, 3)),
    "tutorial_bias": (np.log([0.11]), (1,)),
    "row": (np.array([1.0, 2.0]), (3, 2)),
    "float32_row": (np.array([1.0, 2.0, 3.0], dtype=np.float32), (2, 3)),
    "column": (np.array([[1.0], [2.0]]), (2, 4)),
}


def constant_cases():
    configs, out = {}, {}
    for case, (value, shape) in CONSTANT_CASES.items():
        initializer = keras.initializers.Constant(value)
        configs[case] = initializer.get_config()
        out[f"constant_{case}"] = keras.ops.convert_to_numpy(initializer(shape=shape))
    out["constant_configs"] = np.array(json.dumps(configs))
    return out


def main():
    arrays = optimizer_configs()  # first: Keras names the first optimizer of a class plainly
    data = inputs()
    arrays.update({f"input_{key}": value for key, value in data.items()})
    for part in (loss_cases(data), amsgrad_cases(), constant_cases()):
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
