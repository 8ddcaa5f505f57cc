"""Make tests/data/keras_mnist_cache_reference.json: what Keras 3's mnist.load_data and
fashion_mnist.load_data return for small synthetic files laid out as Keras caches the real
ones.

The real files cannot be downloaded where the fixtures are made (no internet), so this
script writes look-alikes, seeded, into a temporary KERAS_HOME (set before Keras is
imported, as Keras reads it at import):
    datasets/mnist.npz            x_train uint8 (9, 28, 28), y_train uint8 (9,),
                                  x_test uint8 (4, 28, 28), y_test uint8 (4,) (np.savez)
    datasets/mnist_copy.npz       the same bytes, for load_data(path='mnist_copy.npz')
    datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
                                  gzipped IDX files: 7 training and 3 test images
Keras's own get_file reads them there, its hash check on: the SHA-256 of each synthetic
file replaces the published one (Keras 3.15.1 checks mnist.npz by SHA-256 and the
Fashion-MNIST files not at all; the patch gives it a hash for those too, which changes
nothing for the files written here).

    keras_version, numpy_version
    inputs: {"mnist.npz": {array name: {"dtype", "shape", "values"}},
             "fashion-mnist": {file name: {"dtype", "shape", "values"}}} (uncompressed IDX
             content as arrays)
    results: {"mnist" | "mnist_copy" | "fashion_mnist": {"x_train"|...: {"shape", "dtype",
             "values", "writeable"}}}
    errors: {"mnist path with a folder": {"type", "message"}}
    signatures: {"mnist.load_data": str(inspect.signature(...)), "fashion_mnist.load_data"}

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_mnist_cache_reference.py [out]
"""

import gzip
import hashlib
import inspect
import json
import os
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("keras_mnist_cache_reference.json")
FASHION_FILES = {"train-images-idx3-ubyte.gz": ("x_train", 7),
                 "train-labels-idx1-ubyte.gz": ("y_train", 7),
                 "t10k-images-idx3-ubyte.gz": ("x_test", 3),
                 "t10k-labels-idx1-ubyte.gz": ("y_test", 3)}


def make_inputs(seed=2025):
    """The synthetic arrays, as JSON: mnist.npz's four arrays and Fashion-MNIST's four
    files' arrays (uint8 images (n, 28, 28), uint8 labels 0..9 (n,))."""
    rng = np.random.default_rng(seed)

    def arrays(n_train, n_test):
        return {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
                "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                "y_test": rng.integers(0, 10, n_test, dtype=np.uint8)}

    def as_json(array):
        return {"dtype": str(array.dtype), "shape": list(array.shape),
                "values": array.ravel().tolist()}

    digits, clothes = arrays(9, 4), arrays(7, 3)
    return {"mnist.npz": {name: as_json(value) for name, value in digits.items()},
            "fashion-mnist": {file: as_json(clothes[name])
                              for file, (name, _) in FASHION_FILES.items()}}


def from_json(spec):
    return np.array(spec["values"], dtype=spec["dtype"]).reshape(spec["shape"])


def idx_bytes(array):
    """An IDX file (magic 0x0803 / 0x0801, big-endian sizes, the bytes), gzipped with mtime 0
    (the same bytes on every run)."""
    header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I",
                                                                 *array.shape)
    return gzip.compress(header + array.tobytes(), mtime=0)


def write_files(datasets, inputs):
    """Write the synthetic files into `datasets` (a Keras cache folder, or tinynet's); return
    {file name: bytes} ('mnist.npz', and each Fashion-MNIST name, written into the
    'fashion-mnist' subfolder). tests/test_keras_mnist_cache.py calls this too."""
    datasets = Path(datasets)
    (datasets / "fashion-mnist").mkdir(parents=True, exist_ok=True)
    with open(datasets / "mnist.npz", "wb") as file:
        np.savez(file, **{name: from_json(spec) for name, spec in inputs["mnist.npz"].items()})
    written = {"mnist.npz": (datasets / "mnist.npz").read_bytes()}
    for name, spec in inputs["fashion-mnist"].items():
        written[name] = idx_bytes(from_json(spec))
        (datasets / "fashion-mnist" / name).write_bytes(written[name])
    return written


def describe(array):
    return {"shape": list(array.shape), "dtype": str(array.dtype),
            "values": array.ravel().tolist(), "writeable": bool(array.flags.writeable)}


def describe_all(result):
    (x_train, y_train), (x_test, y_test) = result
    return {"x_train": describe(x_train), "y_train": describe(y_train),
            "x_test": describe(x_test), "y_test": describe(y_test)}


def patch_hashes(modules, written):
    """Let Keras's get_file check each synthetic file against its own SHA-256."""
    for module in modules:
        real = module.get_file

        def get_file(*args, _real=real, **kwargs):
            fname = str(kwargs.get("fname", args[0] if args else None))
            key = "mnist.npz" if fname.endswith(".npz") else fname
            kwargs["file_hash"] = hashlib.sha256(written[key]).hexdigest()
            return _real(*args, **kwargs)

        module.get_file = get_file


def main(out=OUT):
    inputs = make_inputs()
    home = tempfile.mkdtemp(prefix="keras_home_")
    written = write_files(os.path.join(home, "datasets"), inputs)
    Path(home, "datasets", "mnist_copy.npz").write_bytes(written["mnist.npz"])
    os.environ["KERAS_HOME"] = home
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    from keras.src.datasets import fashion_mnist, mnist

    patch_hashes([mnist, fashion_mnist], written)
    results = {"mnist": describe_all(mnist.load_data()),
               "mnist_copy": describe_all(mnist.load_data(path="mnist_copy.npz")),
               "fashion_mnist": describe_all(fashion_mnist.load_data())}
    errors = {}
    try:
        mnist.load_data(path=os.path.join(home, "datasets", "mnist.npz"))
    except ValueError as err:
        errors["mnist path with a folder"] = {"type": type(err).__name__,
                                              "message": str(err).replace(home, "<KERAS_HOME>")}
    reference = {
        "keras_version": keras.__version__, "numpy_version": np.__version__,
        "inputs": inputs, "results": results, "errors": errors,
        "signatures": {"mnist.load_data": str(inspect.signature(mnist.load_data)),
                       "fashion_mnist.load_data":
                           str(inspect.signature(fashion_mnist.load_data))},
    }
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this tinynet
    from tinynet.files import write_atomically

    text = json.dumps(reference, indent=None, separators=(",", ":")) + "\n"
    write_atomically(out, text, "make_keras_mnist_cache_reference")
    print(f"wrote {out}: Keras {keras.__version__}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else OUT)
