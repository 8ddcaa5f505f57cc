"""keras.datasets.mnist and fashion_mnist read Keras's cached files first: the arrays Keras
3.15 returns for the same files, where the files are looked for (path, Keras's cache,
tinynet's folders), the hash checks, the download of a named .npz, clear errors.

The real files cannot be downloaded here, so the tests use small synthetic files of the same
layout (mnist.npz; fashion-mnist/*-ubyte.gz), written by tests/data/
make_keras_mnist_cache_reference.py's write_files; tests/data/keras_mnist_cache_reference.json
holds what Keras 3.15.1 returned for them (its hash check on, given the synthetic files'
hashes). Here tinynet's hash tables are patched the same way. Everything happens in a
temporary HOME and TINYNET_DATA; downloads come from a local HTTP server on 127.0.0.1.
"""

import gzip
import hashlib
import inspect
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from helpers import KERAS_VENV_PYTHON, closed_url, load_script, raises, serve_locally

import tinynet as keras
import tinynet.keras_datasets as kd
import tinynet.mnist as idx_sets
from tinynet.datasets import DownloadError, fashion_mnist, mnist

DATA = Path(__file__).parent / "data"
REFERENCE_PATH = DATA / "keras_mnist_cache_reference.json"
REFERENCE = json.loads(REFERENCE_PATH.read_text())
REAL_MNIST_HASH = kd.KERAS_IMAGE_HASHES["mnist.npz"]  # before any test patches it
REAL_FASHION_FILES = dict(idx_sets.FASHION_MNIST_FILES)
NAMES = ("x_train", "y_train", "x_test", "y_test")


SCRIPT = load_script(DATA / "make_keras_mnist_cache_reference.py", "make_kmc")


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """A private HOME and TINYNET_DATA, no KERAS_HOME, every download address a dead local
    port, and the hash tables copied (tests patch them; undone after each test)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("TINYNET_DATA", str(tmp_path / "tinynet_data"))
    monkeypatch.setattr(kd, "ORIGIN", closed_url())
    monkeypatch.setattr(kd, "KERAS_IMAGE_HASHES", dict(kd.KERAS_IMAGE_HASHES))
    monkeypatch.setattr(idx_sets, "FASHION_MNIST_FILES", dict(idx_sets.FASHION_MNIST_FILES))
    monkeypatch.setattr(idx_sets, "MIRRORS", (closed_url(),))
    monkeypatch.setattr(idx_sets, "FASHION_MIRRORS", (closed_url(),))
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("no_proxy", "*")


def keras_cache():
    return Path.home() / ".keras" / "datasets"


def synthetic_files(folder, trusted=True):
    """Write the fixture's synthetic files into `folder` (a Keras cache layout); with
    trusted=True make them the published files (patch the hashes tinynet checks)."""
    written = SCRIPT.write_files(folder, REFERENCE["inputs"])
    if trusted:
        trust(written)
    return written


def trust(written):
    kd.KERAS_IMAGE_HASHES["mnist.npz"] = hashlib.sha256(written["mnist.npz"]).hexdigest()
    for name in REAL_FASHION_FILES:
        idx_sets.FASHION_MNIST_FILES[name] = (len(written[name]),
                                              hashlib.sha256(written[name]).hexdigest())


def expected(key):
    """Keras's answer in the fixture as arrays of the recorded dtype and shape."""
    result = REFERENCE["results"][key]
    return tuple(np.array(result[name]["values"], dtype=result[name]["dtype"])
                 .reshape(result[name]["shape"]) for name in NAMES)


def assert_keras_s(result, key):
    """Shapes, dtypes and values exactly as Keras returned them. (Keras's Fashion-MNIST
    arrays are read-only views of the file's bytes; tinynet's are writable copies.)"""
    (x_train, y_train), (x_test, y_test) = result
    for name, array, want in zip(NAMES, (x_train, y_train, x_test, y_test), expected(key),
                                 strict=True):
        assert array.dtype == want.dtype and array.shape == want.shape, name
        assert np.array_equal(array, want), name


def tinynet_idx_files(folder, inputs_key="fashion-mnist", offset=0):
    """tinynet's own four IDX files in `folder`, from the fixture's Fashion-MNIST arrays
    (pixels shifted by `offset`, so they differ from Keras's copy); returns the arrays."""
    arrays = {name: SCRIPT.from_json(spec) for name, spec in
              REFERENCE["inputs"][inputs_key].items()}
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, array in arrays.items():
        if array.ndim == 3:
            array = (array.astype(np.int64) + offset).astype(np.uint8)
        idx_sets.write_idx(folder / name, array)
        out[name] = array
    return out


# ----------------------------------------------------------------------- Keras's answers


def test_mnist_from_keras_s_cache_is_what_keras_3_15_gave():
    synthetic_files(keras_cache())
    assert_keras_s(mnist.load_data(), "mnist")
    assert_keras_s(keras.datasets.mnist.load_data(path=None), "mnist")


def test_a_file_name_is_a_name_in_keras_s_cache_as_in_keras():
    written = synthetic_files(keras_cache())
    (keras_cache() / "mnist_copy.npz").write_bytes(written["mnist.npz"])
    (keras_cache() / "mnist.npz").unlink()
    assert_keras_s(mnist.load_data(path="mnist_copy.npz"), "mnist_copy")


def test_fashion_mnist_from_keras_s_cache_is_what_keras_3_15_gave():
    synthetic_files(keras_cache())
    assert_keras_s(fashion_mnist.load_data(), "fashion_mnist")


def test_the_fixture_is_keras_3_15_s_and_covers_both_layouts():
    assert REFERENCE["keras_version"] == "3.15.1"
    assert REFERENCE["signatures"] == {"mnist.load_data": "(path='mnist.npz')",
                                       "fashion_mnist.load_data": "()"}
    assert {r["x_train"]["dtype"] for r in REFERENCE["results"].values()} == {"uint8"}
    assert REFERENCE["results"]["fashion_mnist"]["x_train"]["shape"] == [7, 28, 28]
    # Keras refuses a path with a folder in it; tinynet reads that file (as for imdb)
    assert "Paths are no longer accepted" in \
        REFERENCE["errors"]["mnist path with a folder"]["message"]


def test_signatures_are_keras_s():
    assert str(inspect.signature(keras.datasets.mnist.load_data)) == \
        REFERENCE["signatures"]["mnist.load_data"]
    # Keras's takes no argument; tinynet's only adds an optional folder
    assert str(inspect.signature(keras.datasets.fashion_mnist.load_data)) == "(path=None)"
    assert repr(mnist) == "<tinynet.datasets.mnist: load_data>"


# ----------------------------------------------------------------------- where the files are


def test_keras_home_is_honoured_like_keras_does(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "elsewhere"))
    synthetic_files(tmp_path / "elsewhere" / "datasets")
    assert_keras_s(mnist.load_data(), "mnist")
    assert_keras_s(fashion_mnist.load_data(), "fashion_mnist")


def test_keras_s_copy_comes_before_tinynet_s_idx_files(tmp_path):
    synthetic_files(keras_cache())
    tinynet_idx_files(tmp_path / "tinynet_data" / "fashion_mnist", offset=1)
    assert_keras_s(fashion_mnist.load_data(), "fashion_mnist")


def test_a_folder_given_as_path_comes_before_keras_s_cache(tmp_path):
    synthetic_files(keras_cache())
    mine = tinynet_idx_files(tmp_path / "mine", offset=1)
    for load in (mnist.load_data, fashion_mnist.load_data):
        (x_train, y_train), _ = load(path=tmp_path / "mine")
        assert np.array_equal(x_train, mine["train-images-idx3-ubyte.gz"])
        assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8


def test_without_keras_s_copy_tinynet_s_idx_files_are_read_as_before(tmp_path):
    mine = tinynet_idx_files(tmp_path / "tinynet_data" / "mnist")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (7, 28, 28) and x_train.dtype == np.uint8
    assert np.array_equal(y_test, mine["t10k-labels-idx1-ubyte.gz"]) and y_test.dtype == np.uint8


def test_tinynet_s_folder_may_hold_keras_s_mnist_npz(tmp_path):
    synthetic_files(tmp_path / "tinynet_data" / "mnist")
    assert_keras_s(mnist.load_data(), "mnist")


def test_an_npz_with_another_hash_is_passed_over_and_never_loaded(tmp_path, monkeypatch):
    synthetic_files(keras_cache(), trusted=False)  # not the published file's hash
    mine = tinynet_idx_files(tmp_path / "tinynet_data" / "mnist")
    calls = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: calls.append(k) or real_load(*a, **k))
    (x_train, _), _ = mnist.load_data()
    assert calls == [] and np.array_equal(x_train, mine["train-images-idx3-ubyte.gz"])


def test_the_npz_is_read_without_pickle(monkeypatch):
    synthetic_files(keras_cache())
    calls = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: calls.append(k) or real_load(*a, **k))
    mnist.load_data()
    assert calls == [{"allow_pickle": False}]


def test_an_npz_of_object_arrays_is_refused_even_with_the_right_hash():
    keras_cache().mkdir(parents=True)
    with open(keras_cache() / "mnist.npz", "wb") as file:
        np.savez(file, x_train=np.array([[1], [2, 3]], dtype=object), y_train=np.zeros(2),
                 x_test=np.zeros(1), y_test=np.zeros(1))
    data = (keras_cache() / "mnist.npz").read_bytes()
    kd.KERAS_IMAGE_HASHES["mnist.npz"] = hashlib.sha256(data).hexdigest()
    raises(ValueError, mnist.load_data, "allow_pickle")


def test_fashion_files_with_another_size_or_hash_are_passed_over(tmp_path):
    written = synthetic_files(keras_cache())
    name = "t10k-labels-idx1-ubyte.gz"
    (keras_cache() / "fashion-mnist" / name).write_bytes(written[name][:-3])  # cut short
    mine = tinynet_idx_files(tmp_path / "tinynet_data" / "fashion_mnist", offset=2)
    (x_train, _), _ = fashion_mnist.load_data()
    assert np.array_equal(x_train, mine["train-images-idx3-ubyte.gz"])


def test_keras_s_fashion_files_are_used_only_all_four_together(tmp_path):
    synthetic_files(keras_cache())
    (keras_cache() / "fashion-mnist" / "train-images-idx3-ubyte.gz").unlink()
    mine = tinynet_idx_files(tmp_path / "tinynet_data" / "fashion_mnist", offset=3)
    (_, y_train), (x_test, _) = fashion_mnist.load_data()
    assert np.array_equal(x_test, mine["t10k-images-idx3-ubyte.gz"])


def test_the_real_fashion_files_pass_the_check_keras_3_15_does_not_make():
    # tinynet checks the published sizes and SHA-256 (the values of keras-team/keras
    # 75565fb's FILE_HASHES); a synthetic file is not the published one and is passed over
    idx_sets.FASHION_MNIST_FILES.update(REAL_FASHION_FILES)
    synthetic_files(keras_cache(), trusted=False)
    raises(DownloadError, fashion_mnist.load_data, "hash differs")


def test_a_fashion_file_of_the_right_size_but_another_sha_256_is_passed_over():
    written = synthetic_files(keras_cache())
    name = "train-labels-idx1-ubyte.gz"
    idx_sets.FASHION_MNIST_FILES[name] = (len(written[name]), "0" * 64)
    message = raises(DownloadError, fashion_mnist.load_data, "hash differs")
    assert str(keras_cache() / "fashion-mnist" / name) in message


# ----------------------------------------------------------------------- offline messages


def test_offline_mnist_names_keras_s_file_and_tinynet_s(tmp_path):
    keras_cache().mkdir(parents=True)
    (keras_cache() / "mnist.npz").write_bytes(b"PK\x03\x04 not the real file")
    message = raises(DownloadError, mnist.load_data, "mnist.load_data", str(keras_cache()),
                     str(keras_cache() / "mnist.npz"), "hash differs",
                     "train-images-idx3-ubyte.gz", str(tmp_path / "tinynet_data" / "mnist"))
    assert f"{kd.ORIGIN}mnist.npz" in message
    message = raises(DownloadError, lambda: mnist.load_data(path="other.npz"), "named other.npz")
    assert "hash differs" not in message


def test_offline_fashion_mnist_names_keras_s_folder_and_tinynet_s(tmp_path):
    message = raises(DownloadError, fashion_mnist.load_data, "fashion_mnist.load_data",
                     str(keras_cache() / "fashion-mnist"),
                     str(tmp_path / "tinynet_data" / "fashion_mnist"))
    for name in REAL_FASHION_FILES:
        assert f"{kd.ORIGIN}{name}" in message


# ----------------------------------------------------------------------- a path with a folder


@pytest.fixture
def server(monkeypatch):
    for httpd in serve_locally():  # tests/helpers.py: 127.0.0.1, never the internet
        monkeypatch.setattr(kd, "ORIGIN", f"http://127.0.0.1:{httpd.server_address[1]}/ds/")
        yield httpd


def test_a_path_with_a_folder_names_that_file_and_is_downloaded_once(tmp_path, server):
    written = synthetic_files(tmp_path / "served")
    server.routes["/ds/mnist.npz"] = written["mnist.npz"]
    target = tmp_path / "mine" / "digits.npz"
    assert_keras_s(mnist.load_data(path=target), "mnist")
    assert target.read_bytes() == written["mnist.npz"]
    assert_keras_s(mnist.load_data(path=str(target)), "mnist")
    assert server.requests == ["/ds/mnist.npz"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["digits.npz"]  # no temp file


def test_a_download_with_another_hash_is_not_kept(tmp_path, server):
    written = synthetic_files(tmp_path / "served", trusted=False)
    server.routes["/ds/mnist.npz"] = written["mnist.npz"]
    target = tmp_path / "mine" / "mnist.npz"
    raises(DownloadError, lambda: mnist.load_data(path=target), "SHA-256", "not kept")
    assert not target.exists()


def test_the_default_never_downloads_keras_s_npz_but_tinynet_s_idx_files(tmp_path, server):
    # order: Keras's cache, then tinynet's places and its own download (the IDX mirrors)
    written = synthetic_files(tmp_path / "served")
    server.routes["/ds/mnist.npz"] = written["mnist.npz"]
    with pytest.raises(DownloadError):
        mnist.load_data()
    assert server.requests == []


# ----------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("call, error, words", [
    (lambda: mnist.load_data(path=3), TypeError, "path"),
    (lambda: mnist.load_data(path=""), ValueError, "path"),
    (lambda: mnist.load_data("mnist.npz", 1), TypeError, "argument"),
    (lambda: fashion_mnist.load_data(path=2.5), TypeError, "path"),
    (lambda: fashion_mnist.load_data(path="fashion.npz"), ValueError, "takes no path"),
    (lambda: mnist.load_data(path=b"mnist.npz", extra=1), TypeError, "extra"),
])
def test_bad_arguments_raise_clear_errors(call, error, words):
    raises(error, call, words)


def test_a_file_given_to_fashion_mnist_is_refused(tmp_path):
    (tmp_path / "f.gz").write_bytes(gzip.compress(b""))
    raises(ValueError, lambda: fashion_mnist.load_data(path=tmp_path / "f.gz"), "folder")


# ----------------------------------------------------------------------- Keras's own source


KERAS_SOURCE = KERAS_VENV_PYTHON.parent.parent / "lib/python3.11/site-packages/keras/src/datasets"


@pytest.mark.skipif(not KERAS_SOURCE.exists(), reason="no Keras 3 source at /tmp/kvenv")
def test_the_hash_names_and_places_are_in_keras_s_own_source():
    source = (KERAS_SOURCE / "mnist.py").read_text()
    assert REAL_MNIST_HASH in source and '"mnist.npz"' in source
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/" in source
    source = (KERAS_SOURCE / "fashion_mnist.py").read_text()
    assert 'os.path.join("datasets", "fashion-mnist")' in source
    assert kd.FASHION_SUBFOLDER == "fashion-mnist"
    assert all(f'"{name}"' in source for name in REAL_FASHION_FILES)
    assert '"https://storage.googleapis.com/tensorflow/tf-keras-datasets/"' in source


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_the_fixture_is_what_keras_gives_now(tmp_path):
    out = tmp_path / "again.json"
    subprocess.run([str(KERAS_VENV_PYTHON), str(DATA / "make_keras_mnist_cache_reference.py"),
                    str(out)], check=True, capture_output=True, timeout=300,
                   env={"KERAS_BACKEND": "torch", "PATH": "/usr/bin:/bin",
                        "HOME": str(tmp_path)})
    again = json.loads(out.read_text())
    for key in ("inputs", "results", "errors", "signatures"):
        assert again[key] == REFERENCE[key], key
