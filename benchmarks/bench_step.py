"""How long one training step takes in tinynet, against the hand-written NumPy floor.

    python benchmarks/bench_step.py            # the full run (about a minute)
    python benchmarks/bench_step.py --quick    # a smoke run (a few seconds)

Two networks, each trained with `fit` on an array of many batches (ms/step = time / steps):

    article   20 -> Dense 64 -> BN -> ReLU -> Dense 32 -> BN -> ReLU -> Dense 1 sigmoid,
              batch 32, Adam, binary cross-entropy + accuracy, float32
    mnist     784 -> 3 x [Dense 100 (no bias), BN, sigmoid] -> Dense 10 softmax,
              batch 60, Adam, sparse categorical cross-entropy + accuracy, float32
              (the paper's MLP; synthetic 784-pixel inputs: the cost does not depend on them)

Each is timed for tinynet, for the floor (benchmarks/floor.py: the same math as a bare NumPy
loop) and for PyTorch eager mode when torch imports. The implementations alternate in rounds,
so that noise from other programs on the machine falls on all of them alike, and the medians
are reported. Before timing, the floor and tinynet train a few steps from the same weights
and must report the same losses (and PyTorch the same first loss): a correctness guard.

BLAS runs on one thread by default (--threads), the same for NumPy and PyTorch: the matrices
are small, and the machine may be shared.
"""

import argparse
import os
import platform
import statistics
import sys
import time


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds per case")
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if present")
    parser.add_argument("--alone", choices=["article", "mnist"], default=None,
                        help="time only tinynet's fit of this network, 200 steps, nothing "
                             "else in the process (as a student's script runs it)")
    parser.add_argument("--wall-clock", action="store_true",
                        help="time with the wall clock even on one thread")
    return parser.parse_args()


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    # must happen before NumPy loads its BLAS
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from floor import FloorMLP, bn_backward, bn_forward  # noqa: E402

import tinynet  # noqa: E402
from tinynet.datasets import make_classification  # noqa: E402
from tinynet.layers import Activation, BatchNormalization, Dense  # noqa: E402
from tinynet.models import Sequential  # noqa: E402
from tinynet.optimizers import Adam  # noqa: E402

TARGETS = {"article": 0.85, "mnist": 0.95}
TRAIN_ON_BATCH_TARGET = 1.0

# With one thread, the CPU time of this process is the time a step costs, and unlike the wall
# clock it does not count the moments other programs had the CPU. With more threads, CPU time
# would add the threads up, so the wall clock is used.
CLOCK = time.perf_counter
if ARGS is None or (ARGS.threads == 1 and not ARGS.wall_clock):
    CLOCK = time.process_time


# -- the two networks, and data for them ---------------------------------------------------

def article_model(seed):
    tinynet.set_seed(seed)
    model = Sequential([
        Dense(64, input_shape=(20,)), BatchNormalization(), Activation("relu"),
        Dense(32), BatchNormalization(), Activation("relu"),
        Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=Adam(), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def mnist_model(seed):
    tinynet.set_seed(seed)
    layers = []
    for i in range(3):
        shape = {"input_shape": (784,)} if i == 0 else {}
        layers += [Dense(100, use_bias=False, **shape), BatchNormalization(),
                   Activation("sigmoid")]
    model = Sequential([*layers, Dense(10, activation="softmax")])
    model.compile(optimizer=Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def article_data(n):
    x, y = make_classification(n_samples=n, n_features=20, seed=1)
    return x, y.reshape(-1, 1)


def mnist_data(n):
    """Uniform [0, 1) 'pixels' labelled by a random linear teacher (int64 labels 0..9)."""
    rng = np.random.default_rng(2)
    x = rng.random((n, 784), dtype=np.float32)
    teacher = rng.standard_normal((784, 10)).astype(np.float32)
    return x, np.argmax((x - 0.5) @ teacher, axis=1).astype(np.int64)


CASES = {
    "article": {"model": article_model, "data": article_data, "batch": 32, "out": "sigmoid"},
    "mnist": {"model": mnist_model, "data": mnist_data, "batch": 60, "out": "softmax"},
}


# -- correctness guard ------------------------------------------------------------------------

def check_same_math(case, torch_module):
    """tinynet and the floor, from the same weights, must report the same losses for a few
    steps (and PyTorch the same loss on the first batch)."""
    spec = CASES[case]
    batch = spec["batch"]
    x, y = spec["data"](5 * batch)
    model = spec["model"](0)
    floor = FloorMLP.from_model(model)
    if torch_module is not None:
        trainer = torch_module.TorchTrainer(model, spec["out"])
        xt, yt = torch_module.to_tensors(x[:batch], y[:batch], spec["out"] == "sigmoid")
        torch_loss, _ = trainer.train_step(xt, yt)
    for step in range(5):
        xb, yb = x[step * batch:(step + 1) * batch], y[step * batch:(step + 1) * batch]
        tiny_loss, tiny_accuracy = model.train_on_batch(xb, yb)
        floor_loss, floor_accuracy = floor.train_step(xb, yb)
        if not np.isclose(tiny_loss, floor_loss, rtol=1e-4, atol=1e-6):
            raise AssertionError(f"{case}: step {step}: tinynet loss {tiny_loss} != floor "
                                 f"loss {floor_loss}; the floor does not do the same math")
        if abs(tiny_accuracy - floor_accuracy) > 1.5 / batch:
            raise AssertionError(f"{case}: step {step}: accuracy {tiny_accuracy} != "
                                 f"{floor_accuracy}")
        if step == 0 and torch_module is not None and not np.isclose(
                tiny_loss, torch_loss, rtol=1e-4, atol=1e-6):
            raise AssertionError(f"{case}: PyTorch's first loss {torch_loss} != tinynet's "
                                 f"{tiny_loss}")
    for a, b in zip(model.get_weights()[-2:], floor.weights()[-2:], strict=True):
        if not np.allclose(a, b, rtol=1e-3, atol=1e-5):
            raise AssertionError(f"{case}: the output layer's weights differ after 5 steps: "
                                 f"max difference {np.max(np.abs(a - b)):.3g}")


# -- timing ---------------------------------------------------------------------------------

def time_steps(case, steps, rounds, torch_module):
    """Median ms per step of fit over `steps` batches, for each implementation."""
    spec = CASES[case]
    batch = spec["batch"]
    x, y = spec["data"](steps * batch)
    model = spec["model"](0)
    floor = FloorMLP.from_model(model)
    rng = np.random.default_rng(3)
    runs = {
        "floor": lambda: floor.fit(x, y, batch, rng),
        "tinynet": lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0),
    }
    if torch_module is not None:
        trainer = torch_module.TorchTrainer(model, spec["out"])
        xt, yt = torch_module.to_tensors(x, y, spec["out"] == "sigmoid")
        generator = torch_module.torch.Generator().manual_seed(3)
        runs["torch"] = lambda: trainer.fit(xt, yt, batch, generator)
    return interleaved(runs, rounds, steps, label=case)


def page_faults():
    """Minor page faults of this process so far (0 where the resource module is missing).
    Fresh memory from the operating system costs a fault per 4 KB page: when the C library
    hands large freed blocks back, a step that makes large temporaries pays this every time."""
    try:
        import resource
    except ImportError:  # Windows
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


FAULTS = {}  # {(case, name): median page faults per repeat}, filled by interleaved


def interleaved(runs, rounds, repeats, label=None):
    """Run every function once per round, rotating who goes first; one warm-up round.
    Returns {name: median ms per repeat} and {name: the median over rounds of name's time
    divided by the floor's in the same round} (the ratio the targets are stated in). With a
    label, the median page faults per repeat go into FAULTS[(label, name)]."""
    names = list(runs)
    times = {name: [] for name in names}
    faults = {name: [] for name in names}
    for r in range(rounds + 1):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            faults_before, start = page_faults(), CLOCK()
            runs[name]()
            elapsed = CLOCK() - start
            if r > 0:
                times[name].append(1000 * elapsed / repeats)
                faults[name].append((page_faults() - faults_before) / repeats)
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratios = {name: statistics.median(t / f for t, f in zip(values, times["floor"], strict=True))
              for name, values in times.items() if name != "floor"}
    if label is not None:
        FAULTS.update({(label, name): statistics.median(values) for name, values in faults.items()})
    return medians, ratios


def time_batchnorm(n, d, repeats, rounds):
    """BN forward (training) + backward alone: the tinynet layer against the floor's two
    functions, on a batch of n samples and d features. Median microseconds per pass."""
    rng = np.random.default_rng(4)
    z = rng.standard_normal((n, d)).astype(np.float32)
    g = rng.standard_normal((n, d)).astype(np.float32)
    layer = BatchNormalization()
    layer.build((None, d))
    gamma, beta = np.ones(d, np.float32), np.zeros(d, np.float32)
    moving_mean, moving_var = np.zeros(d, np.float32), np.ones(d, np.float32)

    def floor_passes():
        for _ in range(repeats):
            _, x_hat, inv_std = bn_forward(z, gamma, beta, moving_mean, moving_var, 0.99, 1e-3)
            bn_backward(g, x_hat, inv_std, gamma)

    def tinynet_passes():
        for _ in range(repeats):
            layer.forward(z, training=True)
            layer.backward(g)

    medians, _ = interleaved({"floor": floor_passes, "tinynet": tinynet_passes}, rounds,
                             repeats)
    return {name: 1000 * ms for name, ms in medians.items()}  # microseconds


def time_adam(case, repeats, rounds):
    """One Adam update of every weight of the network: tinynet's optimizer against the
    floor's loop. Median microseconds per update."""
    spec = CASES[case]
    x, y = spec["data"](spec["batch"])
    model = spec["model"](0)
    model.train_on_batch(x, y)  # fills the gradients
    floor = FloorMLP.from_model(model)
    floor_grads = [layer.grads[key].copy() for layer, key in model.trainable_keys]
    flat_grads = model.gather_gradients().copy()

    def floor_updates():
        for _ in range(repeats):
            floor.adam(floor_grads)

    def tinynet_updates():
        for _ in range(repeats):
            model.optimizer.apply(model.parameters, flat_grads)

    medians, _ = interleaved({"floor": floor_updates, "tinynet": tinynet_updates}, rounds,
                             repeats)
    return {name: 1000 * ms for name, ms in medians.items()}


def time_train_on_batch(case, steps, rounds):
    """train_on_batch called once per batch (the checks of every call included) against the
    floor's train_step on the same batches. Median ms per call."""
    spec = CASES[case]
    batch = spec["batch"]
    x, y = spec["data"](steps * batch)
    model = spec["model"](0)
    floor = FloorMLP.from_model(model)
    pieces = [(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch])
              for i in range(steps)]

    def floor_calls():
        for xb, yb in pieces:
            floor.train_step(xb, yb)

    def tinynet_calls():
        for xb, yb in pieces:
            model.train_on_batch(xb, yb)

    return interleaved({"floor": floor_calls, "tinynet": tinynet_calls}, rounds, steps)


# -- report ---------------------------------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_name():
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:  # older NumPy has no mode="dicts"
        return "unknown BLAS"


def load_torch(args):
    if args.no_torch:
        return None
    try:
        import torch
        import torch_eager
    except ImportError:
        return None
    torch.set_num_threads(args.threads)
    return torch_eager


def time_alone(case, steps, rounds):
    """tinynet's fit of one network and nothing else in this process: the memory state a
    student's script is in. Whether the large temporaries of a step come back from the C
    library or cost fresh pages from the operating system (see page_faults) depends on what
    the process did before, so the interleaved rounds cannot show it; to compare two versions,
    run this in fresh processes, alternating between them. Prints the median ms per step and
    page faults per step over the rounds."""
    spec = CASES[case]
    x, y = spec["data"](steps * spec["batch"])
    model = spec["model"](0)
    times, faults = [], []
    for _ in range(rounds):
        faults_before, start = page_faults(), CLOCK()
        model.fit(x, y, batch_size=spec["batch"], epochs=1, verbose=0)
        times.append(1000 * (CLOCK() - start) / steps)
        faults.append((page_faults() - faults_before) / steps)
    print(f"{case}, alone: {statistics.median(times):.3f} ms/step, "
          f"{statistics.median(faults):.0f} page faults per step ({rounds} fits of {steps} steps)")


def main(args):
    started = time.perf_counter()
    if args.alone:
        time_alone(args.alone, 50 if args.quick else 200, args.rounds or (2 if args.quick else 5))
        return None
    torch_module = load_torch(args)
    steps = {"article": 50, "mnist": 20} if args.quick else {"article": 200, "mnist": 100}
    rounds = args.rounds or (3 if args.quick else 25)
    torch_version = torch_module.torch.__version__ if torch_module else "not installed (skipped)"
    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical cores)")
    print(f"Python {platform.python_version()}, NumPy {np.__version__} ({blas_name()}), "
          f"PyTorch {torch_version}")
    clock = "process CPU time" if CLOCK is time.process_time else "wall clock"
    print(f"BLAS/torch threads: {args.threads}; clock: {clock}; rounds: {rounds}; steps per "
          f"fit: {steps['article']} (article), {steps['mnist']} (mnist)")

    for case in CASES:
        check_same_math(case, torch_module)
    print("correctness guard: tinynet and the floor report the same losses "
          "(and PyTorch the same first loss)\n")

    print(f"{'model':<10}{'floor':>10}{'tinynet':>10}{'ratio':>8}{'target':>8}"
          f"{'torch':>10}{'torch/floor':>13}   (median ms/step; ratios: median of rounds)")
    results = {}
    for case in CASES:
        medians, ratios = time_steps(case, steps[case], rounds, torch_module)
        results[case] = medians
        ratio = ratios["tinynet"]
        verdict = "ok" if ratio <= TARGETS[case] else "MISSED"
        torch_text = (f"{medians['torch']:>10.3f}{ratios['torch']:>12.2f}x"
                      if "torch" in medians else f"{'-':>10}{'-':>13}")
        print(f"{case:<10}{medians['floor']:>10.3f}{medians['tinynet']:>10.3f}{ratio:>7.2f}x"
              f"{'<=' + format(TARGETS[case], '.2f'):>8}{torch_text}   {verdict}")

    print("page faults per step (fresh memory from the OS; see page_faults): "
          + "; ".join(f"{case} " + ", ".join(f"{name} {FAULTS[(case, name)]:.0f}"
                                           for name in ("floor", "tinynet", "torch")
                                           if (case, name) in FAULTS) for case in CASES))

    print(f"\n{'train_on_batch':<10}{'floor':>10}{'tinynet':>10}{'ratio':>8}{'target':>8}"
          f"   (median ms/call)")
    for case in CASES:
        medians, ratios = time_train_on_batch(case, steps[case], rounds)
        ratio = ratios["tinynet"]
        verdict = "ok" if ratio <= TRAIN_ON_BATCH_TARGET else "MISSED"
        print(f"{case:<10}{medians['floor']:>10.3f}{medians['tinynet']:>10.3f}{ratio:>7.2f}x"
              f"{'<=' + format(TRAIN_ON_BATCH_TARGET, '.2f'):>8}   {verdict}")

    print(f"\n{'BN forward+backward':<24}{'floor us':>10}{'tinynet us':>12}{'ratio':>8}")
    repeats = 200 if args.quick else 1000
    for n, d in ((32, 64), (60, 100)):
        medians = time_batchnorm(n, d, repeats, rounds)
        print(f"{f'batch {n} x {d} features':<24}{medians['floor']:>10.1f}"
              f"{medians['tinynet']:>12.1f}{medians['tinynet'] / medians['floor']:>7.2f}x")
    print(f"\n{'Adam update, all weights':<24}{'floor us':>10}{'tinynet us':>12}{'ratio':>8}")
    for case in CASES:
        medians = time_adam(case, repeats // 10, rounds)
        print(f"{case:<24}{medians['floor']:>10.1f}{medians['tinynet']:>12.1f}"
              f"{medians['tinynet'] / medians['floor']:>7.2f}x")
    print(f"\ntotal time {time.perf_counter() - started:.0f} s")
    return results


if __name__ == "__main__":
    main(ARGS)
