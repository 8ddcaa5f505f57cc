"""Make tests/data/keras_datasets_reference.json: what Keras 3's imdb, reuters and
boston_housing load_data (and get_word_index, get_label_names) return for small synthetic
files of the real files' layout, under many argument combinations.

The real files cannot be downloaded where the fixtures are made (no internet), so this
script writes look-alikes, seeded: imdb.npz (x_train, y_train, x_test, y_test: object arrays
of Python lists of int word ranks, int64 labels 0/1), imdb_equal.npz (the same, every review
of one length: Keras then returns 2-D object arrays), reuters.npz (x, y: lists, int64 topics
0..45), boston_housing.npz (x float64 (n, 13), y float64 (n,)), and the two word-index JSON
files. They go into a temporary KERAS_HOME/datasets (Keras reads KERAS_HOME at import, so
it is set first), and Keras's own get_file reads them there: its hash check stays on, with
the hash of each synthetic file (SHA-256 for .npz, MD5 for .json, as Keras checks the real
ones) in place of the published one.

    keras_version, numpy_version
    inputs: {file name: {array name: {"dtype": str, "values": nested lists}}} (object
            arrays: lists of lists), and {json file name: {word: rank}}
    cases: [{"data_set", "path", "kwargs", "result": {"x_train"|...: {"shape", "dtype",
            "values", "types"}} or "error": {"type", "message"}}]
    word_index: {data set: dict}, label_names: list
    signatures: {"imdb.load_data": str(inspect.signature(...)), ...}

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_datasets_reference.py [out]
"""

import hashlib
import inspect
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("keras_datasets_reference.json")

IMDB_CASES = [
    {}, {"num_words": 20}, {"num_words": 20, "skip_top": 5}, {"maxlen": 10},
    {"maxlen": 10, "num_words": 15, "oov_char": None}, {"start_char": None},
    {"start_char": None, "index_from": 0}, {"seed": 7, "index_from": 5, "oov_char": 9},
    {"skip_top": 2, "start_char": 1, "oov_char": 2}, {"maxlen": 2}, {"maxlen": 0},
    {"num_words": 0}, {"seed": 0, "num_words": 1000},
]
IMDB_EQUAL_CASES = [{}, {"num_words": 4}, {"oov_char": None, "num_words": 6}]
REUTERS_CASES = [
    {}, {"test_split": 0.5, "num_words": 25}, {"maxlen": 12, "skip_top": 3}, {"test_split": 0},
    {"test_split": 1}, {"test_split": 0, "maxlen": 15}, {"test_split": 1, "maxlen": 15},
    {"start_char": None, "oov_char": None, "num_words": 30}, {"seed": 0}, {"test_split": 0.3},
    {"start_char": None, "index_from": 0},
]
BOSTON_CASES = [{}, {"test_split": 0.1}, {"test_split": 0}, {"seed": 1, "test_split": 0.33},
                {"test_split": 1}]


def sequences(rng, n, lengths, top):
    """n lists of Python ints (word ranks 1..top, small ranks more often), lengths in
    `lengths` (low, high) inclusive."""
    out = []
    for _ in range(n):
        length = int(rng.integers(lengths[0], lengths[1] + 1))
        ranks = np.minimum(rng.zipf(1.3, size=length), top)
        out.append([int(r) for r in ranks])
    return out


def object_array(lists):
    """A 1-D object array of lists, even when the lists have one length (as the real files)."""
    array = np.empty(len(lists), dtype=object)
    for i, item in enumerate(lists):
        array[i] = item
    return array


def make_inputs(seed=2024):
    """The synthetic files' arrays: {file name: {array name: array}} and the word indexes."""
    rng = np.random.default_rng(seed)
    equal = [[int(w) for w in rng.integers(1, 9, size=5)] for _ in range(10)]
    files = {
        "imdb.npz": {"x_train": sequences(rng, 40, (1, 25), 60),
                     "y_train": rng.integers(0, 2, 40),
                     "x_test": sequences(rng, 30, (1, 25), 60),
                     "y_test": rng.integers(0, 2, 30)},
        "imdb_equal.npz": {"x_train": equal[:6], "y_train": rng.integers(0, 2, 6),
                           "x_test": equal[6:], "y_test": rng.integers(0, 2, 4)},
        "reuters.npz": {"x": sequences(rng, 57, (1, 30), 80), "y": rng.integers(0, 46, 57)},
        "boston_housing.npz": {"x": np.round(rng.normal(10, 5, (37, 13)), 4),
                               "y": np.round(rng.uniform(5, 50, 37), 1)},
    }
    words = ["the", "and", "a", "of", "to", "is", "br", "in", "it", "i", "this", "film"]
    indexes = {"imdb_word_index.json": {w: i + 1 for i, w in enumerate(words)},
               "reuters_word_index.json": {w: i + 1 for i, w in enumerate(reversed(words))}}
    return files, indexes


def to_json_inputs(files, indexes):
    out = {}
    for name, arrays in files.items():
        out[name] = {}
        for key, value in arrays.items():
            if isinstance(value, list):
                out[name][key] = {"dtype": "object", "values": value}
            else:
                out[name][key] = {"dtype": str(value.dtype), "values": value.tolist()}
    out.update(indexes)
    return out


def write_files(folder, json_inputs):
    """Write the synthetic files described by `json_inputs` into `folder`; return {file
    name: bytes}. The tests call the same layout (tests/test_keras_datasets.py)."""
    written = {}
    for name, spec in json_inputs.items():
        path = Path(folder) / name
        if name.endswith(".json"):
            path.write_text(json.dumps(spec))
        else:
            arrays = {key: object_array(item["values"]) if item["dtype"] == "object"
                      else np.array(item["values"], dtype=item["dtype"])
                      for key, item in spec.items()}
            with open(path, "wb") as file:
                np.savez(file, **arrays)
        written[name] = path.read_bytes()
    return written


def describe(array):
    """An array as JSON: shape, dtype, values, and the Python types found one and two
    levels down (lists of ints, ints)."""
    values = array.tolist()
    types = sorted({type(v).__name__ for v in array.ravel()}) if array.dtype == object else []
    inner = sorted({type(w).__name__ for v in array.ravel() if isinstance(v, list) for w in v})
    return {"shape": list(array.shape), "dtype": str(array.dtype), "values": values,
            "types": types, "inner_types": inner}


def run_case(function, path, kwargs):
    try:
        (x_train, y_train), (x_test, y_test) = function(path=path, **kwargs)
    except Exception as err:  # noqa: BLE001 - the error is the answer recorded
        return {"error": {"type": type(err).__name__, "message": str(err)}}
    return {"result": {"x_train": describe(x_train), "y_train": describe(y_train),
                       "x_test": describe(x_test), "y_test": describe(y_test)}}


def patch_hashes(modules, written):
    """Let Keras's get_file check each synthetic file against its own hash (the kind Keras
    uses for the real file: SHA-256 for .npz, MD5 for .json)."""
    for module in modules:
        real = module.get_file

        def get_file(*args, _real=real, **kwargs):
            fname = kwargs.get("fname", args[0] if args else None)
            kind = hashlib.sha256 if str(fname).endswith(".npz") else hashlib.md5
            kwargs["file_hash"] = kind(written[str(fname)]).hexdigest()
            return _real(*args, **kwargs)

        module.get_file = get_file


def main(out=OUT):
    files, indexes = make_inputs()
    json_inputs = to_json_inputs(files, indexes)
    home = tempfile.mkdtemp(prefix="keras_home_")
    os.makedirs(os.path.join(home, "datasets"))
    written = write_files(os.path.join(home, "datasets"), json_inputs)
    os.environ["KERAS_HOME"] = home
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    from keras.src.datasets import boston_housing, imdb, reuters

    patch_hashes([imdb, reuters, boston_housing], written)
    cases = []
    for data_set, function, path, kwargs_list in [
            ("imdb", imdb.load_data, "imdb.npz", IMDB_CASES),
            ("imdb", imdb.load_data, "imdb_equal.npz", IMDB_EQUAL_CASES),
            ("reuters", reuters.load_data, "reuters.npz", REUTERS_CASES),
            ("boston_housing", boston_housing.load_data, "boston_housing.npz", BOSTON_CASES)]:
        for kwargs in kwargs_list:
            cases.append({"data_set": data_set, "path": path, "kwargs": kwargs,
                          **run_case(function, path, kwargs)})
    reference = {
        "keras_version": keras.__version__, "numpy_version": np.__version__,
        "inputs": json_inputs, "cases": cases,
        "word_index": {"imdb": imdb.get_word_index(), "reuters": reuters.get_word_index()},
        "label_names": list(reuters.get_label_names()),
        "signatures": {f"{module.__name__.rsplit('.', 1)[-1]}.{name}":
                       str(inspect.signature(getattr(module, name)))
                       for module, names in [(imdb, ["load_data", "get_word_index"]),
                                             (reuters, ["load_data", "get_word_index",
                                                        "get_label_names"]),
                                             (boston_housing, ["load_data"])]
                       for name in names},
    }
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this tinynet
    from tinynet.files import write_atomically

    text = json.dumps(reference, indent=None, separators=(",", ":")) + "\n"
    write_atomically(out, text, "make_keras_datasets_reference")
    print(f"wrote {out}: {len(cases)} cases")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else OUT)
