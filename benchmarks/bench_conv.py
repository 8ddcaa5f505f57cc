"""How long a LeNet-BN training step takes in tinynet, against a NumPy floor and PyTorch eager.

    python benchmarks/bench_conv.py            # the full run (about a minute)
    python benchmarks/bench_conv.py --quick    # a smoke run (about 15 s, most of it PyTorch
                                               # starting in its worker process)

The network is d2l's LeNet with batch normalization, on 28x28x1 images, batch 64, Adam,
sparse categorical cross-entropy from logits (+ accuracy), float32:

    Conv2D(6, 5) - BN - sigmoid - AveragePooling2D(2) - Conv2D(16, 5) - BN - sigmoid -
    AveragePooling2D(2) - Flatten - Dense(120) - BN - sigmoid - Dense(84) - BN - sigmoid -
    Dense(10)

Three implementations train it from the same weights:

    tinynet   Sequential.fit over many batches (ms/step = time / steps)
    floor     the same math written by hand for this one network in bare NumPy (below):
              im2col convolutions, average pooling by strided views (the windows tile),
              BN on the (N*H*W, C) view of an image batch, no gradient for the input images
    torch     PyTorch eager mode (nn.Sequential, Conv2d / BatchNorm2d / AvgPool2d), with the
              weights copied over. If torch does not import here, the script runs it in
              another Python that has it (--torch-python, default /tmp/kvenv/bin/python) as a
              worker process that trains when told to and reports its own CPU time.

The three alternate in rounds (who goes first rotates), so that other programs on the machine
slow all of them alike, and the medians are reported, as ratios to the floor and to PyTorch.
Before timing, tinynet and the floor train a few steps from the same weights and must report
the same losses, and PyTorch the same first loss: a correctness guard.

Memory per step is the peak of what tracemalloc sees during one train_on_batch (tinynet) or
train_step (floor), everything included: weights, Adam's state, activations kept for
backward, temporaries. (tracemalloc does not see PyTorch's allocator, so PyTorch has none.)

BLAS (and torch) run on one thread by default (--threads); the clock is then the CPU time of
the process, which does not count the moments other programs had the CPU.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds")
    parser.add_argument("--steps", type=int, default=None, help="batches per fit")
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--torch-python", default="/tmp/kvenv/bin/python",
                        help="a Python with torch, used when torch does not import here")
    parser.add_argument("--torch-worker", metavar="NPZ", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    # must happen before NumPy loads its BLAS
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(ARGS.threads)

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from floor import bn_backward, bn_forward, stable_sigmoid  # noqa: E402

BATCH = 64
CLOCK = time.process_time if ARGS is None or ARGS.threads == 1 else time.perf_counter


# -- the network and its data -----------------------------------------------------------------

def tinynet_lenet(seed):
    import tinynet
    from tinynet.layers import (
        Activation,
        AveragePooling2D,
        BatchNormalization,
        Conv2D,
        Dense,
        Flatten,
    )
    from tinynet.losses import SparseCategoricalCrossentropy
    from tinynet.models import Sequential
    from tinynet.optimizers import Adam

    tinynet.set_seed(seed)
    model = Sequential([
        Conv2D(6, 5, input_shape=(28, 28, 1)), BatchNormalization(), Activation("sigmoid"),
        AveragePooling2D(2), Conv2D(16, 5), BatchNormalization(), Activation("sigmoid"),
        AveragePooling2D(2), Flatten(),
        Dense(120), BatchNormalization(), Activation("sigmoid"),
        Dense(84), BatchNormalization(), Activation("sigmoid"), Dense(10),
    ])
    model.compile(optimizer=Adam(), loss=SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def image_data(n):
    """Uniform [0, 1) 28x28x1 'images' labelled by a random linear teacher (int64 0..9): a
    step costs the same whatever the pixels are."""
    rng = np.random.default_rng(2)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    teacher = rng.standard_normal((784, 10)).astype(np.float32)
    return x, np.argmax((x.reshape(n, -1) - 0.5) @ teacher, axis=1).astype(np.int64)


# -- the floor: LeNet-BN by hand ------------------------------------------------------------

def conv_forward(x, kernel, bias):
    """'valid' convolution, stride 1, as im2col + one product. Returns z and cols."""
    kh, kw, c_in, c_out = kernel.shape
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))  # (N, Ho, Wo, C, kh, kw)
    cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, kh * kw * c_in)
    z = cols @ kernel.reshape(-1, c_out) + bias
    return z.reshape(*windows.shape[:3], c_out), cols


def conv_backward(g, cols, kernel, x_shape):
    """dkernel, dbias, and dx (None when x_shape is None: the input images need none)."""
    kh, kw, c_in, c_out = kernel.shape
    g2 = g.reshape(-1, c_out)
    dkernel = (cols.T @ g2).reshape(kernel.shape)
    dbias = g2.sum(axis=0)
    if x_shape is None:
        return None, dkernel, dbias
    n, out_h, out_w, _ = g.shape
    # dcols one kernel offset at a time: (kh*kw, N*Ho*Wo, C_in), each block contiguous
    per_offset = np.matmul(g2, kernel.reshape(kh * kw, c_in, c_out).transpose(0, 2, 1))
    per_offset = per_offset.reshape(kh, kw, n, out_h, out_w, c_in)
    dx = np.zeros(x_shape, dtype=g.dtype)
    for a in range(kh):
        for b in range(kw):
            dx[:, a:a + out_h, b:b + out_w] += per_offset[a, b]
    return dx, dkernel, dbias


def pool_forward(x):
    """2x2 average pooling, stride 2: the four pixels of every window are four strided views."""
    return (x[:, 0::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 0::2] + x[:, 1::2, 1::2]) / 4


def pool_backward(g):
    n, h, w, c = g.shape
    share = np.broadcast_to((g / 4)[:, :, None, :, None, :], (n, h, 2, w, 2, c))
    return share.reshape(n, 2 * h, 2 * w, c)


class FloorLeNet:
    """The weights in Keras's get_weights() order (26 arrays) and Adam's m and v."""

    def __init__(self, weights, momentum=0.99, eps=1e-3):
        self.w = [np.array(w) for w in weights]
        self.momentum, self.eps = momentum, eps
        moving = {4, 5, 10, 11, 16, 17, 22, 23}
        self.trainable = [i for i in range(len(self.w)) if i not in moving]
        self.m = [np.zeros_like(self.w[i]) for i in self.trainable]
        self.v = [np.zeros_like(self.w[i]) for i in self.trainable]
        self.t = 0

    def bn(self, z, first):
        """BN of z (N, ..., C) over all axes but the last, on its (rows, C) view."""
        w = self.w
        flat = z.reshape(-1, z.shape[-1])
        y, x_hat, inv_std = bn_forward(flat, w[first], w[first + 1], w[first + 2],
                                       w[first + 3], self.momentum, self.eps)
        return y.reshape(z.shape), (x_hat, inv_std, w[first])

    def forward(self, x):
        w, caches = self.w, []
        z1, cols1 = conv_forward(x, w[0], w[1])
        u1, bn1 = self.bn(z1, 2)
        a1 = stable_sigmoid(u1)
        p1 = pool_forward(a1)
        z2, cols2 = conv_forward(p1, w[6], w[7])
        u2, bn2 = self.bn(z2, 8)
        a2 = stable_sigmoid(u2)
        f = pool_forward(a2).reshape(len(x), -1)
        u3, bn3 = self.bn(f @ w[12] + w[13], 14)
        a3 = stable_sigmoid(u3)
        u4, bn4 = self.bn(a3 @ w[18] + w[19], 20)
        a4 = stable_sigmoid(u4)
        caches = (cols1, bn1, a1, p1, cols2, bn2, a2, f, bn3, a3, bn4, a4)
        return a4 @ w[24] + w[25], caches

    def backward(self, g, caches):
        """Gradients of the trainable weights, in self.trainable's order."""
        w = self.w
        cols1, bn1, a1, p1, cols2, bn2, a2, f, bn3, a3, bn4, a4 = caches
        grads = [a4.T @ g, g.sum(axis=0)]
        g = (g @ w[24].T) * a4 * (1 - a4)
        g, dgamma, dbeta = bn_backward(g, *bn4)
        grads = [a3.T @ g, g.sum(axis=0), dgamma, dbeta] + grads
        g = (g @ w[18].T) * a3 * (1 - a3)
        g, dgamma, dbeta = bn_backward(g, *bn3)
        grads = [f.T @ g, g.sum(axis=0), dgamma, dbeta] + grads
        g = pool_backward((g @ w[12].T).reshape(len(f), 4, 4, 16)) * a2 * (1 - a2)
        g, dgamma, dbeta = bn_backward(g.reshape(-1, 16), *bn2)
        dp1, dkernel, dbias = conv_backward(g.reshape(len(f), 8, 8, 16), cols2, w[6],
                                            p1.shape)
        grads = [dkernel, dbias, dgamma, dbeta] + grads
        g = pool_backward(dp1) * a1 * (1 - a1)
        g, dgamma, dbeta = bn_backward(g.reshape(-1, 6), *bn1)
        _, dkernel, dbias = conv_backward(g.reshape(len(f), 24, 24, 6), cols1, w[0], None)
        return [dkernel, dbias, dgamma, dbeta] + grads

    def train_step(self, x, y):
        """One step; returns (loss, accuracy) measured before the update."""
        logits, caches = self.forward(x)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(len(y))
        loss = float(-log_p[rows, y].mean())
        accuracy = float(np.mean(logits.argmax(axis=1) == y))
        g = np.exp(log_p)
        g[rows, y] -= 1
        self.adam(self.backward(g / len(y), caches))
        return loss, accuracy

    def adam(self, grads, lr=0.001, beta_1=0.9, beta_2=0.999, eps=1e-7):
        """Keras 3's Adam, as its formulas read."""
        self.t += 1
        alpha = np.float32(lr * np.sqrt(1 - beta_2 ** self.t) / (1 - beta_1 ** self.t))
        c1, c2 = np.float32(1 - beta_1), np.float32(1 - beta_2)
        for i, g, m, v in zip(self.trainable, grads, self.m, self.v, strict=True):
            m += c1 * (g - m)
            v += c2 * (g * g - v)
            self.w[i] -= alpha * m / (np.sqrt(v) + np.float32(eps))

    def fit(self, x, y, rng):
        """One epoch in shuffled batches, as fit(epochs=1) does; returns the mean loss."""
        order = rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), BATCH):
            index = order[start:start + BATCH]
            loss, _ = self.train_step(x[index], y[index])
            total += loss * len(index)
        return total / len(x)


# -- PyTorch eager ---------------------------------------------------------------------------

class TorchLeNet:
    """The same network and weights in PyTorch eager mode, trained like fit."""

    def __init__(self, weights, threads):
        import torch
        from torch import nn

        torch.set_num_threads(threads)
        self.torch = torch
        bn = {"eps": 1e-3, "momentum": 0.01}  # Keras's momentum 0.99 in torch's convention
        self.net = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.BatchNorm2d(6, **bn), nn.Sigmoid(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16, **bn), nn.Sigmoid(), nn.AvgPool2d(2),
            nn.Flatten(), nn.Linear(256, 120), nn.BatchNorm1d(120, **bn), nn.Sigmoid(),
            nn.Linear(120, 84), nn.BatchNorm1d(84, **bn), nn.Sigmoid(), nn.Linear(84, 10))
        self.load(weights)
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=1e-3, eps=1e-7)
        self.generator = torch.Generator().manual_seed(3)

    def load(self, weights):
        """Keras layouts -> torch's: a conv kernel (kh, kw, in, out) is (out, in, kh, kw); the
        first Dense's rows follow tinynet's (h, w, c) flattening, torch's columns (c, h, w)."""
        w = [self.torch.from_numpy(np.ascontiguousarray(a)) for a in weights]
        dense1 = weights[12].reshape(4, 4, 16, 120).transpose(3, 2, 0, 1).reshape(120, 256)
        with self.torch.no_grad():
            for module, start in zip([self.net[0], self.net[4]], (0, 6), strict=True):
                module.weight.copy_(w[start].permute(3, 2, 0, 1))
                module.bias.copy_(w[start + 1])
            self.net[9].weight.copy_(self.torch.from_numpy(dense1.copy()))
            self.net[12].weight.copy_(w[18].T)
            self.net[15].weight.copy_(w[24].T)
            for index, start in ((9, 13), (12, 19), (15, 25)):
                self.net[index].bias.copy_(w[start])
            for index, start in ((1, 2), (5, 8), (10, 14), (13, 20)):
                bn = self.net[index]
                for tensor, value in zip((bn.weight, bn.bias, bn.running_mean,
                                          bn.running_var), w[start:start + 4], strict=True):
                    tensor.copy_(value)

    def train_step(self, x, y):
        self.optimizer.zero_grad(set_to_none=True)
        logits = self.net(x)
        loss = self.loss_fn(logits, y)
        loss.backward()
        self.optimizer.step()
        accuracy = (logits.argmax(dim=1) == y).float().mean()
        return loss.item(), accuracy.item()

    def tensors(self, x, y):
        """Channels-last NumPy images -> torch's (N, C, H, W)."""
        return (self.torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))),
                self.torch.from_numpy(y))

    def fit(self, x, y):
        order = self.torch.randperm(len(x), generator=self.generator)
        total = 0.0
        for start in range(0, len(x), BATCH):
            index = order[start:start + BATCH]
            loss, _ = self.train_step(x[index], y[index])
            total += loss * len(index)
        return total / len(x)


def torch_worker(path, threads):
    """The subprocess side: load weights and data, print the first batch's loss, then train
    one epoch each time a line 'fit' arrives and print its CPU seconds."""
    with np.load(path) as data:
        weights = [data[f"w{i:02d}"] for i in range(26)]
        trainer = TorchLeNet(weights, threads)
        x, y = trainer.tensors(data["x"], data["y"])
        first_x, first_y = trainer.tensors(data["first_x"], data["first_y"])
    with trainer.torch.no_grad():   # the first batch's loss, in training mode
        first_loss = trainer.loss_fn(trainer.net(first_x), first_y).item()
    trainer.load(weights)   # that forward moved the moving statistics: start again
    print(f"ready {first_loss!r} {trainer.torch.__version__}", flush=True)
    for line in sys.stdin:
        if line.strip() != "fit":
            break
        start = time.process_time() if threads == 1 else time.perf_counter()
        trainer.fit(x, y)
        elapsed = (time.process_time() if threads == 1 else time.perf_counter()) - start
        print(repr(elapsed), flush=True)


class TorchInProcess:
    """fit() and first_loss when torch imports here."""

    def __init__(self, weights, x, y, first_x, first_y, threads):
        self.trainer = TorchLeNet(weights, threads)
        self.version = self.trainer.torch.__version__
        fx, fy = self.trainer.tensors(first_x, first_y)
        with self.trainer.torch.no_grad():
            self.first_loss = self.trainer.loss_fn(self.trainer.net(fx), fy).item()
        self.trainer.load(weights)
        self.x, self.y = self.trainer.tensors(x, y)

    def fit(self):
        """CPU (or wall) seconds of one epoch."""
        start = CLOCK()
        self.trainer.fit(self.x, self.y)
        return CLOCK() - start

    def close(self):
        pass


class TorchSubprocess:
    """The same interface, with torch running in another Python (see torch_worker)."""

    def __init__(self, python, weights, x, y, first_x, first_y, threads):
        handle, self.path = tempfile.mkstemp(suffix=".npz")
        os.close(handle)
        arrays = {f"w{i:02d}": w for i, w in enumerate(weights)}
        np.savez(self.path, x=x, y=y, first_x=first_x, first_y=first_y, **arrays)
        # this file imports floor.py, which imports tinynet: the worker finds it in the repo
        repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, OMP_NUM_THREADS=str(threads),
                   PYTHONPATH=os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")]))
        self.process = subprocess.Popen(
            [python, os.path.abspath(__file__), "--torch-worker", self.path,
             "--threads", str(threads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, env=env)
        reply = self.process.stdout.readline().split()
        if not reply or reply[0] != "ready":
            self.close()
            raise RuntimeError(f"the torch worker ({python}) did not start")
        self.first_loss, self.version = float(reply[1]), reply[2] + " (in " + python + ")"

    def fit(self):
        self.process.stdin.write("fit\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=60)
        os.remove(self.path)


def start_torch(args, weights, x, y):
    """A torch runner, in this process if torch imports, else in --torch-python; or None."""
    if args.no_torch:
        return None
    first = (x[:BATCH], y[:BATCH])
    try:
        import torch  # noqa: F401
    except ImportError:
        if not os.path.exists(args.torch_python):
            return None
        return TorchSubprocess(args.torch_python, weights, x, y, *first, args.threads)
    return TorchInProcess(weights, x, y, *first, args.threads)


# -- measuring --------------------------------------------------------------------------------

def check_same_math(steps=3):
    """tinynet and the floor, from the same weights, report the same losses."""
    x, y = image_data(steps * BATCH)
    model = tinynet_lenet(0)
    floor = FloorLeNet(model.get_weights())
    for step in range(steps):
        xb, yb = x[step * BATCH:(step + 1) * BATCH], y[step * BATCH:(step + 1) * BATCH]
        tiny_loss, _ = model.train_on_batch(xb, yb)
        floor_loss, _ = floor.train_step(xb, yb)
        if not np.isclose(tiny_loss, floor_loss, rtol=1e-4, atol=1e-6):
            raise AssertionError(f"step {step}: tinynet loss {tiny_loss} != floor loss "
                                 f"{floor_loss}; the floor does not do the same math")
    # every weight but the biases right before BN (their gradient is round-off, which Adam
    # turns into steps of any sign) and the moving means that follow those biases
    noisy = {1, 4, 7, 10, 13, 16, 19, 22}
    for i, (mine, floors) in enumerate(zip(model.get_weights(), floor.w, strict=True)):
        if i not in noisy and not np.allclose(mine, floors, rtol=1e-3, atol=1e-5):
            raise AssertionError(f"tinynet's and the floor's weight {i} differ after {steps} "
                                 f"steps: max difference {np.max(np.abs(mine - floors)):.3g}")


def time_steps(steps, rounds, torch_runner, model, floor, x, y):
    """ms per step of each implementation's fit, one value per round: {name: [ms, ...]}."""
    rng = np.random.default_rng(3)

    def clocked(function):
        start = CLOCK()
        function()
        return CLOCK() - start

    runs = {
        "floor": lambda: clocked(lambda: floor.fit(x, y, rng)),
        "tinynet": lambda: clocked(lambda: model.fit(x, y, batch_size=BATCH, epochs=1,
                                                     verbose=0)),
    }
    if torch_runner is not None:
        runs["torch"] = torch_runner.fit
    names = list(runs)
    times = {name: [] for name in names}
    for r in range(rounds + 1):  # round 0 warms up
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed = runs[name]()
            if r > 0:
                times[name].append(1000 * elapsed / steps)
    return times


def peak_memory(make, step, xb, yb):
    """Peak bytes tracemalloc sees during the third step of a fresh implementation (the first
    two create Adam's state and the caches), counting everything it holds."""
    tracemalloc.start()
    try:
        runner = make()
        step(runner, xb, yb)
        step(runner, xb, yb)
        tracemalloc.reset_peak()
        step(runner, xb, yb)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def memory_per_step():
    x, y = image_data(BATCH)
    weights = tinynet_lenet(0).get_weights()
    return {
        "floor": peak_memory(lambda: FloorLeNet(weights), FloorLeNet.train_step, x, y),
        "tinynet": peak_memory(lambda: tinynet_lenet(0),
                               lambda model, xb, yb: model.train_on_batch(xb, yb), x, y),
    }


# -- report -----------------------------------------------------------------------------------

def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as file:
            cpu = next(line.split(":", 1)[1].strip() for line in file
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu} ({os.cpu_count()} logical cores)"


def median_ratio(times, name, reference):
    """The median over rounds of name's time / reference's time in the same round."""
    return statistics.median(a / b for a, b in zip(times[name], times[reference], strict=True))


def report(times, memory, torch_version):
    """Median ms per step, and the median per-round ratios to the floor and to PyTorch."""
    references = ["floor"] + (["torch"] if "torch" in times else [])
    print(f"\n{'implementation':<16}{'ms/step':>10}" + "".join(f"{'/ ' + r:>10}"
                                                         for r in references))
    for name, values in times.items():
        ratios = "".join(f"{median_ratio(times, name, r):>9.2f}x" for r in references)
        print(f"{name:<16}{statistics.median(values):>10.3f}{ratios}")
    if "torch" in times:
        ratio = median_ratio(times, "tinynet", "torch")
        print(f"\ntinynet / PyTorch eager: {ratio:.2f}x (target <= 2x: "
              f"{'ok' if ratio <= 2 else 'MISSED'}); PyTorch {torch_version}")
    else:
        print("\nPyTorch: not available (skipped)")
    ratio = memory["tinynet"] / memory["floor"]
    print(f"peak memory during a step: tinynet {memory['tinynet'] / 2**20:.1f} MiB, floor "
          f"{memory['floor'] / 2**20:.1f} MiB, {ratio:.2f}x (target <= 2x: "
          f"{'ok' if ratio <= 2 else 'MISSED'})")


def main(args):
    started = time.perf_counter()
    steps = args.steps or (5 if args.quick else 20)
    rounds = args.rounds or (2 if args.quick else 15)
    print(f"CPU: {machine()}; Python {platform.python_version()}, NumPy {np.__version__}")
    clock = "process CPU time" if CLOCK is time.process_time else "wall clock"
    print(f"threads: {args.threads}; clock: {clock}; rounds: {rounds}; {steps} steps of "
          f"batch {BATCH} per fit")
    check_same_math()
    x, y = image_data(steps * BATCH)
    model = tinynet_lenet(0)
    floor = FloorLeNet(model.get_weights())
    torch_runner = start_torch(args, model.get_weights(), x, y)
    try:
        tiny_first = first_loss(x, y)
        if torch_runner is not None and not np.isclose(torch_runner.first_loss, tiny_first,
                                                       rtol=1e-4, atol=1e-6):
            raise AssertionError(f"PyTorch's first loss {torch_runner.first_loss} differs "
                                 f"from tinynet's {tiny_first}")
        print("correctness guard: tinynet and the floor report the same losses"
              + (" (and PyTorch the same first loss)" if torch_runner else ""))
        times = time_steps(steps, rounds, torch_runner, model, floor, x, y)
    finally:
        if torch_runner is not None:
            torch_runner.close()
    report(times, memory_per_step(), torch_runner.version if torch_runner else None)
    print(f"\ntotal time {time.perf_counter() - started:.0f} s")
    return times


def first_loss(x, y):
    """tinynet's loss on the first batch, in training mode, before any update."""
    model = tinynet_lenet(0)
    return model.loss.loss(y[:BATCH], model.forward(x[:BATCH], training=True))


if __name__ == "__main__":
    if ARGS.torch_worker:
        torch_worker(ARGS.torch_worker, ARGS.threads)
    else:
        main(ARGS)
