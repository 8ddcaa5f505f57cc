"""keras.datasets.imdb, reuters and boston_housing: Keras 3.15's answers on the same files,
where the files are looked for, the download and its hash check, clear errors.

The real files cannot be downloaded here, so every test uses small synthetic files of the
real layout (written from tests/data/keras_datasets_reference.json, which also holds what
Keras 3.15 returned for them: tests/data/make_keras_datasets_reference.py), with
tinynet.keras_datasets.KERAS_HASHES patched to their hashes. Files go into a temporary
HOME (~/.keras/datasets) or TINYNET_DATA, downloads come from a local HTTP server on
127.0.0.1: the suite never touches the internet or the real caches.
"""

import builtins
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
from tinynet.datasets import DownloadError, boston_housing, imdb, reuters

DATA = Path(__file__).parent / "data"
REFERENCE_PATH = DATA / "keras_datasets_reference.json"
REFERENCE = json.loads(REFERENCE_PATH.read_text())
LOADERS = {"imdb": imdb.load_data, "reuters": reuters.load_data,
           "boston_housing": boston_housing.load_data}
REAL_ORIGIN, REAL_HASHES = kd.ORIGIN, dict(kd.KERAS_HASHES)  # before any test patches them
PUBLISHED = {"imdb": "imdb.npz", "reuters": "reuters.npz",
             "boston_housing": "boston_housing.npz"}


SCRIPT = load_script(DATA / "make_keras_datasets_reference.py", "make_kds")


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """A private HOME and TINYNET_DATA, no KERAS_HOME, downloads only from a dead local port,
    and the published hashes swapped for the synthetic files' (undone after each test)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("TINYNET_DATA", str(tmp_path / "tinynet_data"))
    monkeypatch.setattr(kd, "ORIGIN", closed_url())
    monkeypatch.setattr(kd, "KERAS_HASHES", dict(kd.KERAS_HASHES))
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("no_proxy", "*")


def synthetic_files(folder):
    """Write the fixture's synthetic files into `folder`; return {file name: bytes}."""
    folder.mkdir(parents=True, exist_ok=True)
    return SCRIPT.write_files(folder, REFERENCE["inputs"])


def trust(name, data, published=None):
    """Make `data` the published file `published` (default `name`): patch its hash, of the
    kind Keras uses for it."""
    published = published or name
    kind = hashlib.sha256 if published.endswith(".npz") else hashlib.md5
    kd.KERAS_HASHES[published] = kind(data).hexdigest()


def keras_cache():
    return Path.home() / ".keras" / "datasets"


# ----------------------------------------------------------------------- Keras's answers


@pytest.mark.parametrize("case", REFERENCE["cases"],
                         ids=[f"{c['path']}-{c['kwargs']}" for c in REFERENCE["cases"]])
def test_each_case_gives_what_keras_3_gave_for_the_same_file(case):
    written = synthetic_files(keras_cache())
    trust(case["path"], written[case["path"]], PUBLISHED[case["data_set"]])
    load = LOADERS[case["data_set"]]
    if "error" in case:  # Keras's message differs; the kind of error is the same
        with pytest.raises(getattr(builtins, case["error"]["type"])):
            load(path=case["path"], **case["kwargs"])
        return
    (x_train, y_train), (x_test, y_test) = load(path=case["path"], **case["kwargs"])
    found = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for name, array in found.items():
        assert SCRIPT.describe(array) == case["result"][name], name


def test_the_fixture_covers_keras_quirks():
    """The cases above include what makes Keras's results surprising, so tinynet is checked
    on them: equal-length reviews give a 2-D object array, an empty label list float64."""
    shapes = [c["result"]["x_train"]["shape"] for c in REFERENCE["cases"] if "result" in c]
    assert [6, 6] in shapes
    dtypes = {c["result"]["y_test"]["dtype"] for c in REFERENCE["cases"] if "result" in c}
    assert "float64" in dtypes and "int64" in dtypes
    assert REFERENCE["keras_version"] == "3.15.1"


def test_word_indexes_and_label_names_are_keras_s():
    written = synthetic_files(keras_cache())
    for data_set, module in [("imdb", imdb), ("reuters", reuters)]:
        trust(f"{data_set}_word_index.json", written[f"{data_set}_word_index.json"])
        assert module.get_word_index() == REFERENCE["word_index"][data_set]
    assert list(reuters.get_label_names()) == REFERENCE["label_names"]
    assert len(reuters.get_label_names()) == 46


def test_signatures_are_keras_3_15_s():
    for qualified, signature in REFERENCE["signatures"].items():
        module, name = qualified.split(".")
        assert str(inspect.signature(getattr(getattr(keras.datasets, module), name))) == \
            signature, qualified


def test_the_same_seed_gives_the_same_order_and_another_seed_another():
    written = synthetic_files(keras_cache())
    trust("reuters.npz", written["reuters.npz"])
    first = reuters.load_data()[0][1]
    assert np.array_equal(first, reuters.load_data()[0][1])
    assert not np.array_equal(first, reuters.load_data(seed=1)[0][1])


# ----------------------------------------------------------------------- where the files are


def test_keras_home_is_honoured_like_keras_does(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "elsewhere"))
    written = synthetic_files(tmp_path / "elsewhere" / "datasets")
    trust("boston_housing.npz", written["boston_housing.npz"])
    assert boston_housing.load_data()[0][0].shape == (29, 13)


def test_tinynet_s_folder_is_used_when_keras_has_no_copy(tmp_path):
    written = synthetic_files(tmp_path / "tinynet_data" / "boston_housing")
    trust("boston_housing.npz", written["boston_housing.npz"])
    assert boston_housing.load_data()[1][0].shape == (8, 13)


def test_a_copy_with_the_wrong_hash_is_passed_over_for_the_next(tmp_path):
    written = synthetic_files(tmp_path / "tinynet_data" / "reuters")
    trust("reuters.npz", written["reuters.npz"])
    keras_cache().mkdir(parents=True)
    (keras_cache() / "reuters.npz").write_bytes(written["reuters.npz"][:-10])  # cut short
    assert len(reuters.load_data()[0][0]) == 45


def test_a_path_with_a_folder_names_the_file_itself(tmp_path):
    written = synthetic_files(tmp_path / "mine")
    trust("imdb.npz", written["imdb.npz"])
    (x_train, _), _ = imdb.load_data(path=tmp_path / "mine" / "imdb.npz")
    assert len(x_train) == 40


def test_path_none_is_the_published_name_as_in_keras():
    written = synthetic_files(keras_cache())
    trust("boston_housing.npz", written["boston_housing.npz"])
    assert boston_housing.load_data(path=None)[0][0].shape == (29, 13)


def test_a_file_whose_hash_does_not_match_is_never_unpickled(monkeypatch):
    written = synthetic_files(keras_cache())
    kd.KERAS_HASHES["imdb.npz"] = "0" * 64  # the synthetic file is not the published one
    calls = []
    monkeypatch.setattr(np, "load", lambda *args, **kwargs: calls.append(kwargs))
    with pytest.raises(DownloadError, match="hash differs"):
        imdb.load_data()
    assert calls == [] and "imdb.npz" in written


# ----------------------------------------------------------------------- downloading


@pytest.fixture
def server(monkeypatch):
    for httpd in serve_locally():  # tests/helpers.py: 127.0.0.1, never the internet
        monkeypatch.setattr(kd, "ORIGIN", f"http://127.0.0.1:{httpd.server_address[1]}/ds/")
        yield httpd


def test_a_missing_file_is_downloaded_checked_and_kept_in_tinynet_s_folder(tmp_path, server,
                                                                          capsys):
    written = synthetic_files(tmp_path / "served")
    for name in ("imdb.npz", "imdb_word_index.json"):
        server.routes[f"/ds/{name}"] = written[name]
        trust(name, written[name])
    (x_train, _), _ = imdb.load_data()
    assert imdb.get_word_index() == REFERENCE["word_index"]["imdb"]  # checked by MD5
    folder = tmp_path / "tinynet_data" / "imdb"
    assert sorted(p.name for p in folder.iterdir()) == ["imdb.npz", "imdb_word_index.json"]
    assert (folder / "imdb.npz").read_bytes() == written["imdb.npz"]
    imdb.load_data()
    assert server.requests == ["/ds/imdb.npz", "/ds/imdb_word_index.json"]  # once each
    assert "Downloading data from http://127.0.0.1" in capsys.readouterr().err
    assert len(x_train) == 40


def test_a_download_with_another_hash_is_not_kept(tmp_path, server):
    written = synthetic_files(tmp_path / "served")
    server.routes["/ds/boston_housing.npz"] = written["boston_housing.npz"]
    kd.KERAS_HASHES["boston_housing.npz"] = "f" * 64
    raises(DownloadError, boston_housing.load_data, "SHA-256", "not kept", "f" * 64)
    assert not (tmp_path / "tinynet_data" / "boston_housing").exists() or \
        list((tmp_path / "tinynet_data" / "boston_housing").iterdir()) == []


def test_offline_the_error_says_which_file_to_put_where(tmp_path):
    message = raises(DownloadError, reuters.load_data, "reuters.load_data",
                     "reuters.npz", str(keras_cache()), str(tmp_path / "tinynet_data" /
                                                          "reuters"))
    assert "To install it by hand" in message
    raises(DownloadError, imdb.get_word_index, "imdb_word_index.json")


def test_the_published_addresses_and_hash_kinds_are_keras_s():
    assert REAL_ORIGIN == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    lengths = {name: len(value) for name, value in REAL_HASHES.items()}
    # Keras: 64 hex digits are checked as SHA-256, 32 as MD5
    assert lengths == {"imdb.npz": 64, "imdb_word_index.json": 32, "reuters.npz": 64,
                       "reuters_word_index.json": 32, "boston_housing.npz": 64}
    assert all(int(value, 16) >= 0 for value in REAL_HASHES.values())


# ----------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("call, error, words", [
    (lambda: imdb.load_data(num_words="10000"), TypeError, "num_words"),
    (lambda: imdb.load_data(skip_top=-1), ValueError, "skip_top"),
    (lambda: imdb.load_data(maxlen=2.5), TypeError, "maxlen"),
    (lambda: imdb.load_data(seed=-1), ValueError, "seed"),
    (lambda: imdb.load_data(seed=2 ** 32), ValueError, "seed"),
    (lambda: imdb.load_data(index_from=None), TypeError, "index_from"),
    (lambda: imdb.load_data(nb_words=100), TypeError, "num_words"),
    (lambda: imdb.load_data(num_word=100), TypeError, "num_word"),
    (lambda: imdb.load_data(path=3), TypeError, "path"),
    (lambda: reuters.load_data(test_split=1.5), ValueError, "test_split"),
    (lambda: reuters.load_data(test_split="0.2"), TypeError, "test_split"),
    (lambda: reuters.load_data(oov_char="?"), TypeError, "oov_char"),
    (lambda: boston_housing.load_data(test_split=1), ValueError, "test_split"),
    (lambda: boston_housing.load_data(seed=1.5), TypeError, "seed"),
])
def test_bad_arguments_raise_errors_naming_the_argument(call, error, words):
    raises(error, call, words)


def test_maxlen_that_keeps_nothing_says_so():
    written = synthetic_files(keras_cache())
    trust("reuters.npz", written["reuters.npz"])
    raises(ValueError, lambda: reuters.load_data(maxlen=1), "maxlen=1", "increase maxlen")
    trust("imdb.npz", written["imdb.npz"])
    raises(ValueError, lambda: imdb.load_data(maxlen=2), "maxlen=2", "increase maxlen")


def test_keras_code_finds_the_data_sets_where_keras_has_them():
    # from keras.datasets import imdb, and keras.datasets.imdb.load_data()
    assert keras.datasets.imdb is imdb and keras.datasets.reuters is reuters
    assert keras.datasets.boston_housing is boston_housing
    assert repr(imdb) == "<tinynet.datasets.imdb: load_data, get_word_index>"
    raises(AttributeError, lambda: keras.datasets.cifar10, "imdb, reuters and boston_housing")


# ----------------------------------------------------------------------- live


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_the_fixture_is_what_keras_gives_now(tmp_path):
    out = tmp_path / "again.json"
    subprocess.run([str(KERAS_VENV_PYTHON), str(DATA / "make_keras_datasets_reference.py"),
                    str(out)], check=True, capture_output=True, timeout=300,
                   env={"KERAS_BACKEND": "torch", "PATH": "/usr/bin:/bin",
                        "HOME": str(tmp_path)})
    again = json.loads(out.read_text())
    for key in ("inputs", "cases", "word_index", "label_names", "signatures"):
        assert again[key] == REFERENCE[key], key


KERAS_SOURCE = KERAS_VENV_PYTHON.parent.parent / "lib/python3.11/site-packages/keras/src/datasets"


@pytest.mark.skipif(not KERAS_SOURCE.exists(), reason="no Keras 3 source at /tmp/kvenv")
def test_the_addresses_and_hashes_are_in_keras_s_own_source():
    for published, value in REAL_HASHES.items():
        source = (KERAS_SOURCE / (published.split("_word")[0].split(".")[0] + ".py")).read_text()
        assert value in source and published in source, published
        assert REAL_ORIGIN in source.replace('"\n        "', "").replace("(\n        ", "")
