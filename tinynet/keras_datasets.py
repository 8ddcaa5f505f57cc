"""Keras's IMDB, Reuters and Boston housing data sets, from the files Keras itself reads;
and keras.datasets.mnist / fashion_mnist, which read Keras's cached copies too.

    import tinynet as keras
    (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=10000)
    word_index = keras.datasets.imdb.get_word_index()
    (x_train, y_train), (x_test, y_test) = keras.datasets.reuters.load_data(num_words=10000)
    (x_train, y_train), (x_test, y_test) = keras.datasets.boston_housing.load_data()
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()

The arguments, the shuffling (NumPy's RandomState with the same seed and the same calls), the
filtering and the types of the results are those of Keras 3.15 (keras/src/datasets/imdb.py,
reuters.py, boston_housing.py), rewritten here: the same files give the same arrays, element
for element (tests/test_keras_datasets.py replays Keras's own answers).

Where the files are looked for, in this order (the first one whose hash is Keras's wins):
  1. Keras's cache: $KERAS_HOME/datasets, else ~/.keras/datasets. A student who ran the
     Keras version of the code once already has them there, and works offline.
  2. tinynet's data folder for the set: $TINYNET_DATA/imdb (or /reuters, /boston_housing),
     else ~/.cache/tinynet/imdb (...), as for MNIST (tinynet.mnist.default_data_dir).
`path=` is Keras's: the file's name in those folders ('imdb.npz' by default). tinynet also
takes a path with a folder in it ('data/imdb.npz'); then that file alone is used.

A missing file (or one whose hash is not Keras's) is downloaded from Keras's own address,
https://storage.googleapis.com/tensorflow/tf-keras-datasets/<file>, into tinynet's folder
(or to the path given), kept only if its hash is the one Keras checks, and written
atomically. Keras checks the .npz files by SHA-256 and the word indexes by MD5 (its
file_utils.resolve_hasher: a 64-digit hash is SHA-256, any other MD5); so does tinynet.
Offline, a DownloadError says which file to put where.

Pickles: the IMDB and Reuters .npz files hold their reviews and newswires as NumPy object
arrays (one Python list of word indexes per text), which NumPy can only store as a pickle,
so they are read with np.load(allow_pickle=True). A pickle can run code, so tinynet does that
only for the bytes whose SHA-256 it has just compared with the published one (the same bytes
in memory that are then read: the file cannot change in between). Keras 3.15 reads them with
a restricted unpickler instead. Boston housing holds plain float arrays: no pickle.

MNIST and Fashion-MNIST (mnist_load_data, fashion_mnist_load_data; see their docstrings) take
Keras's cached files first: $KERAS_HOME/datasets/mnist.npz (SHA-256 checked, plain arrays, read
with allow_pickle=False) and the four gzipped IDX files of $KERAS_HOME/datasets/fashion-mnist
(size and SHA-256 checked). Without them they fall back to tinynet's own IDX files and their
download (tinynet/mnist.py), as before.
"""

import hashlib
import io
import json
import os
import sys
from pathlib import Path

import numpy as np

from tinynet import mnist as idx_sets
from tinynet.files import write_atomically
from tinynet.mnist import TIMEOUT, DownloadError, _ProgressBar, default_data_dir
from tinynet.validation import check_float, check_int

# Keras 3.15 downloads every one of these files from this folder. Sources: the Keras 3.15.1
# source (keras/src/datasets/imdb.py, reuters.py, boston_housing.py, `origin_folder`), and
# keras-team/tf-keras, tf_keras/datasets/{imdb,reuters,boston_housing}.py, and
# tensorflow/tensorflow, tensorflow/python/keras/datasets/{imdb,reuters,boston_housing}.py.
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# {published file name: the hash Keras 3.15 checks}. 64 hex digits: SHA-256; 32: MD5.
# A wrong entry here makes every real download fail, so each was found in at least two
# independent public sources (besides the Keras 3.15.1 source in a venv, named first):
KERAS_HASHES = {
    # SHA-256. keras/src/datasets/imdb.py (Keras 3.15.1); keras-team/tf-keras,
    # tf_keras/datasets/imdb.py; tensorflow/tensorflow, tensorflow/python/keras/datasets/
    # imdb.py; ankane/tensorflow-ruby, lib/tensorflow/keras/datasets/imdb.rb.
    "imdb.npz": "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
    # MD5. The same four files, get_word_index.
    "imdb_word_index.json": "bfafd718b763782e994055a2d397834f",
    # SHA-256. keras/src/datasets/reuters.py (Keras 3.15.1); keras-team/tf-keras,
    # tf_keras/datasets/reuters.py; ankane/tensorflow-ruby,
    # lib/tensorflow/keras/datasets/reuters.rb. (Old TensorFlow copies pinned an MD5,
    # 87aedbeb0cb229e378797a632c1997b6, instead.)
    "reuters.npz": "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
    # MD5. The same files, get_word_index; also tensorflow/tensorflow,
    # tensorflow/python/keras/datasets/reuters.py.
    "reuters_word_index.json": "4d44cc38712099c9e383dc6e5f11a921",
    # SHA-256. keras/src/datasets/boston_housing.py (Keras 3.15.1); keras-team/tf-keras,
    # tf_keras/datasets/boston_housing.py; tensorflow/tensorflow,
    # tensorflow/python/keras/datasets/boston_housing.py.
    "boston_housing.npz": "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
}

# The same for the image data sets, kept apart from KERAS_HASHES (the text data sets' table).
KERAS_IMAGE_HASHES = {
    # SHA-256 of https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz (the
    # address is ORIGIN + this name). Sources: keras/src/datasets/mnist.py (Keras 3.15.1,
    # `file_hash` and `origin_folder`); keras-team/tf-keras, tf_keras/datasets/mnist.py;
    # tensorflow/tensorflow, tensorflow/python/keras/datasets/mnist.py.
    "mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
}

# Keras keeps Fashion-MNIST's four gzipped IDX files (the names of
# tinynet.mnist.FASHION_MNIST_FILES, e.g. train-images-idx3-ubyte.gz) in this subfolder of its
# cache and downloads each from ORIGIN + its name. Sources: keras/src/datasets/fashion_mnist.py
# (Keras 3.15.1: `dirname = os.path.join("datasets", "fashion-mnist")`, `base`, `files`) and
# keras-team/tf-keras, tf_keras/datasets/fashion_mnist.py (the same three lines). Keras
# 3.15.1 checks no hash for these files (get_file without file_hash: any file of that name is
# read); another keras-team/keras revision (commit 75565fb, keras/src/datasets/
# fashion_mnist.py, FILE_HASHES) checks SHA-256 values equal to those of
# tinynet.mnist.FASHION_MNIST_FILES. tinynet checks those (and the sizes): a genuine file
# passes either way, anything else is passed over.
FASHION_SUBFOLDER = "fashion-mnist"

# The arrays of Keras's mnist.npz, read as keras/src/datasets/mnist.py reads them.
MNIST_ARRAYS = ("x_train", "y_train", "x_test", "y_test")

# The 46 Reuters topics, label i = REUTERS_LABEL_NAMES[i], as Keras 3.15's
# reuters.get_label_names() returns them. Sources: keras/src/datasets/reuters.py (Keras
# 3.15.1) and keras-team/tf-keras, tf_keras/datasets/reuters.py (both cite
# https://martin-thoma.com/nlp-reuters/).
REUTERS_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


# --------------------------------------------------------------------------- finding files


def keras_cache_dir():
    """The folder Keras 3 keeps downloaded data sets in: $KERAS_HOME/datasets when the
    variable is set, else ~/.keras/datasets (keras/src/backend/config.py, keras_home(), and
    utils/file_utils.py, get_file's cache_subdir)."""
    home = os.environ.get("KERAS_HOME")
    return Path(home).expanduser() / "datasets" if home else Path.home() / ".keras" / "datasets"


def file_digest(data, expected):
    """The hash of `data` (bytes) of the kind `expected` is, as Keras chooses it: SHA-256 for
    a 64-digit hash, else MD5. Returns lowercase hex."""
    kind = hashlib.sha256 if len(expected) == 64 else hashlib.md5
    return kind(data).hexdigest()


def candidates(where, data_set, path, published):
    """The files `path` may name, in the order they are tried (see the module docstring).
    None means the published name, as in Keras (get_file takes the URL's file name)."""
    if path is None:
        path = published
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"{where}(path=...) must be a file name such as '{data_set}.npz' (a "
                        f"str or pathlib.Path), got {type(path).__name__}") from None
    if isinstance(path, bytes):
        path = path.decode()
    if not path or path.endswith(("/", os.sep)):
        raise ValueError(f"{where}(path=...) must name a file, got {path!r}")
    if os.path.dirname(path):
        return [Path(path).expanduser()]
    return [keras_cache_dir() / path, default_data_dir(data_set) / path]


def keras_hash(published):
    """The hash Keras checks for the file it publishes as `published` ('imdb.npz',
    'mnist.npz', ...): from KERAS_HASHES or KERAS_IMAGE_HASHES, read at each call."""
    if published in KERAS_HASHES:
        return KERAS_HASHES[published]
    return KERAS_IMAGE_HASHES[published]


def first_verified(places, expected):
    """(bytes, wrong): the content of the first existing file of `places` (Paths) whose hash
    (file_digest) is `expected`, or None; and the files found with another hash. The bytes
    returned are the bytes hashed: a file changed in between cannot slip through."""
    wrong = []
    for place in places:
        if place.is_file():
            data = place.read_bytes()
            if file_digest(data, expected) == expected:
                return data, wrong
            wrong.append(place)
    return None, wrong


def verified_bytes(where, data_set, published, path):
    """The content (bytes) of the file Keras publishes as `published` (e.g. 'imdb.npz'): from
    the first of candidates() whose hash is Keras's, else downloaded into the last candidate.
    Raises DownloadError (saying where to put the file by hand) when the download fails."""
    expected = keras_hash(published)
    places = candidates(where, data_set, path, published)
    data, wrong = first_verified(places, expected)
    if data is not None:
        return data
    try:
        return download(ORIGIN + published, places[-1], expected)
    except DownloadError as err:
        raise DownloadError(f"{where}: {err}\n" + install_help(published, places, wrong)) \
            from None


def install_help(published, places, wrong):
    """How to install `published` by hand: the URL, the folders, files found with the wrong
    hash."""
    folders = "\n".join(f"    {place.parent}" for place in places)
    text = ""
    if wrong:  # first: the student may have put a file there already
        found = ", ".join(str(place) for place in wrong)
        text = (f"Found, but not the file Keras publishes (its hash differs; incomplete, "
                f"damaged or another file?): {found}\n")
    text += (f"To install it by hand, download\n    {ORIGIN}{published}\n(on any machine "
             f"with internet access) and put it in one of these folders:\n{folders}")
    if places[0].name != published:
        text += f"\nnamed {places[0].name}"
    return text


def download(url, target, expected):
    """Download `url` into memory, compare its hash with `expected` (the kind file_digest
    picks), write it to `target` atomically, return its bytes. Progress goes to stderr.
    Raises DownloadError naming the URL when the server cannot be reached, answers with an
    error, sends a cut transfer or a file with another hash; nothing is written then."""
    import http.client  # loaded only when something is downloaded (see tinynet.mnist)
    import urllib.request

    print(f"Downloading data from {url}", file=sys.stderr)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            data = read_with_progress(response, total)
    except (OSError, http.client.HTTPException) as err:
        raise DownloadError(f"could not download {url}: {err}") from None
    if total is not None and len(data) != total:
        raise DownloadError(f"could not download {url}: transfer interrupted, received "
                            f"{len(data):,} of {total:,} bytes")
    found = file_digest(data, expected)
    if found != expected:
        kind = "SHA-256" if len(expected) == 64 else "MD5"
        raise DownloadError(f"could not download {url}: its {kind} is {found}, Keras "
                            f"expects {expected}; the file was not kept")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, data, "download", target.name)
    return data


def read_with_progress(response, total):
    """The whole body of `response` (bytes), with tinynet's progress bar on stderr."""
    bar = _ProgressBar(total)
    chunks, received = [], 0
    while True:
        chunk = response.read(1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
        bar.update(received)
    bar.finish(received)
    return b"".join(chunks)


def read_npz(where, data, names, pickled):
    """{name: array} for `names` in the .npz file `data` (bytes whose hash was checked).
    pickled: allow object arrays (IMDB, Reuters), see the module docstring. A ValueError
    names the arrays a file lacks."""
    if not data.startswith(b"PK\x03\x04"):  # an .npz file is a zip archive
        raise ValueError(f"{where}: the file is not an .npz archive (a zip of .npy files)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=pickled) as arrays:
            missing = [name for name in names if name not in arrays.files]
            if missing:
                raise ValueError(f"{where}: the file holds the arrays {arrays.files}, not "
                                 f"{missing}; is it the right data set?")
            return {name: arrays[name] for name in names}
    except OSError as err:  # not a zip of .npy files at all
        raise ValueError(f"{where}: the file is not an .npz archive ({err})") from None


def read_word_index(where, data_set, published, path):
    """The dict {word: rank} of the JSON file `published` (see get_word_index)."""
    data = verified_bytes(where, data_set, published, path)
    return json.loads(data.decode("utf-8"))


# --------------------------------------------------------------------------- checking arguments


def check_options(where, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from):
    """Check the arguments imdb.load_data and reuters.load_data share; TypeError/ValueError
    naming the argument. Keras reads a falsy num_words or maxlen (0) as None; so does tinynet."""
    for name, value in [("num_words", num_words), ("maxlen", maxlen),
                        ("start_char", start_char), ("oov_char", oov_char)]:
        if value is not None:
            check_int(value, f"{where}({name}=...)", minimum=0)
    check_int(skip_top, f"{where}(skip_top=...)", minimum=0)
    check_int(index_from, f"{where}(index_from=...)", minimum=0)
    check_seed(where, seed)


def check_seed(where, seed):
    """seed: None (a different order each call, as np.random.RandomState(None) gives) or an
    integer in [0, 2**32 - 1], the range RandomState takes."""
    if seed is not None:
        seed = check_int(seed, f"{where}(seed=...)", minimum=0)
        if seed >= 2 ** 32:
            raise ValueError(f"{where}(seed=...) must be below 2**32, got {seed}")


def check_test_split(where, test_split, allow_one):
    """test_split: a number in [0, 1) (Boston housing, as Keras checks it) or [0, 1] (Reuters,
    where Keras checks nothing: 1 puts every newswire in the test set). The value itself is
    returned, unconverted, so the split is computed with the very number Keras would use."""
    check_float(test_split, f"{where}(test_split=...)", low=0.0, high=1.0,
                high_open=not allow_one)
    return test_split


def refuse_extra_arguments(where, extra):
    """Keras 3.15's imdb.load_data takes **kwargs and ignores them without a word, so a typo
    (num_word=) or an old Keras 2 name (nb_words=) silently keeps every word. tinynet says so."""
    if extra:
        names = ", ".join(sorted(extra))
        hint = " (Keras 2's nb_words is num_words)" if "nb_words" in extra else ""
        raise TypeError(f"{where} got unexpected keyword argument(s) {names}{hint}; Keras 3 "
                        "ignores them without a word. It takes path, num_words, skip_top, "
                        "maxlen, seed, start_char, oov_char, index_from")


# --------------------------------------------------------------------------- Keras's processing


def shuffled(rng, x, y):
    """x and y in one random order: np.arange, rng.shuffle, index, as Keras does (the same
    calls on the same RandomState give the same order)."""
    indices = np.arange(len(x))
    rng.shuffle(indices)
    return x[indices], y[indices]


def shift(sequences, start_char, index_from):
    """Each sequence as a new list: `start_char` first (unless None), then every word index
    plus `index_from`."""
    head = [] if start_char is None else [start_char]
    return [head + [w + index_from for w in sequence] for sequence in sequences]


def drop_long(maxlen, sequences, labels):
    """The sequences shorter than `maxlen` (strictly: Keras keeps len < maxlen) and their
    labels, as two lists (Keras's python_utils.remove_long_seq)."""
    kept = [(x, y) for x, y in zip(sequences, labels, strict=True) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limit_vocabulary(sequences, num_words, skip_top, oov_char):
    """Keep the word indexes w with skip_top <= w < num_words; others become oov_char, or
    are dropped when oov_char is None. A falsy num_words becomes the largest index present,
    which Keras then leaves out too (w < num_words): Keras's behaviour, kept."""
    if not num_words:
        num_words = max((max(x) for x in sequences if len(x)), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in sequences]
    return [[w for w in x if skip_top <= w < num_words] for x in sequences]


def as_object_array(sequences):
    """np.array(sequences, dtype=object), exactly as Keras builds x: shape (n,) of lists,
    but (n, length) of ints when every sequence has the same length."""
    return np.array(sequences, dtype="object")


# --------------------------------------------------------------------------- the data sets


def imdb_load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
                   start_char=1, oov_char=2, index_from=3, **kwargs):
    """keras.datasets.imdb.load_data: 50,000 film reviews from IMDB, labelled by sentiment.

    Returns ((x_train, y_train), (x_test, y_test)), 25,000 reviews each in Keras's file:
      x_*: object arrays of shape (n,), each element a Python list of int word indexes (one
           review): start_char, then for each word its frequency rank + index_from
           (imdb.get_word_index() gives the ranks). 0 is left for padding. As in Keras, when
           every review has the same length the array is 2-D, (n, length), of ints.
      y_*: the file's integer labels, shape (n,): 0 = negative, 1 = positive.
    num_words: keep the indexes w < num_words (the most frequent words); the others become
        oov_char, or are dropped when oov_char is None. None (or 0) uses the largest index
        present as num_words, which therefore becomes oov_char too: Keras's behaviour, kept.
    skip_top: indexes below skip_top become oov_char too (start_char included, as in Keras).
    maxlen: keep only the reviews shorter than maxlen (counting start_char); None keeps all.
    seed: the np.random.RandomState seed of the shuffles (training set, then test set).
    start_char, oov_char: ints, or None for no start mark / to drop out-of-vocabulary words.
    index_from: added to every word's rank.
    path: the file (see the module docstring), checked by SHA-256 and then read with
        np.load(allow_pickle=True), which object arrays need.
    Raises TypeError/ValueError naming a bad argument (also any argument Keras does not
    have, which Keras 3 ignores silently), ValueError when maxlen keeps no review,
    DownloadError when the file is missing and cannot be downloaded.
    """
    where = "imdb.load_data"
    refuse_extra_arguments(where, kwargs)
    check_options(where, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from)
    data = verified_bytes(where, "imdb", "imdb.npz", path)
    arrays = read_npz(where, data, ["x_train", "y_train", "x_test", "y_test"], pickled=True)
    rng = np.random.RandomState(seed)
    x_train, y_train = shuffled(rng, arrays["x_train"], arrays["y_train"])
    x_test, y_test = shuffled(rng, arrays["x_test"], arrays["y_test"])
    x_train = shift(x_train, start_char, index_from)
    x_test = shift(x_test, start_char, index_from)
    if maxlen:
        x_train, y_train = drop_long(maxlen, x_train, y_train)
        x_test, y_test = drop_long(maxlen, x_test, y_test)
        if not x_train or not x_test:
            raise ValueError(f"{where}(maxlen={maxlen}) keeps no review of the "
                             f"{'training' if not x_train else 'test'} set (only reviews "
                             "shorter than maxlen are kept); increase maxlen")
    n_train = len(x_train)
    xs = limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([y_train, y_test])
    return ((as_object_array(xs[:n_train]), labels[:n_train]),
            (as_object_array(xs[n_train:]), labels[n_train:]))


def imdb_get_word_index(path="imdb_word_index.json"):
    """keras.datasets.imdb.get_word_index: {word (str): rank (int, 1 = most frequent)}.

    In load_data's x, word w appears as w's rank + index_from (3 by default):
        index_to_word = {rank + 3: word for word, rank in word_index.items()}
    The file imdb_word_index.json is found or downloaded like imdb.npz and checked by MD5,
    as Keras checks it. Raises DownloadError offline, TypeError/ValueError for a bad path.
    """
    return read_word_index("imdb.get_word_index", "imdb", "imdb_word_index.json", path)


def reuters_load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None,
                      test_split=0.2, seed=113, start_char=1, oov_char=2, index_from=3):
    """keras.datasets.reuters.load_data: 11,228 Reuters newswires labelled with 46 topics.

    Returns ((x_train, y_train), (x_test, y_test)):
      x_*: object arrays (n,) of lists of int word indexes, as imdb.load_data gives them.
      y_*: the file's integer labels (n,), topics 0..45 (names: reuters.get_label_names());
           an empty one is float64, as Keras makes it when maxlen is given.
    The newswires are shuffled with RandomState(seed), filtered (maxlen, num_words,
    skip_top, start_char, oov_char, index_from: as for imdb.load_data), then the first
    int(n * (1 - test_split)) go to the training set. test_split: a number in [0, 1].
    The file is checked by SHA-256 and read with allow_pickle=True. Raises TypeError/
    ValueError naming a bad argument, ValueError when maxlen keeps nothing, DownloadError.
    """
    where = "reuters.load_data"
    check_options(where, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from)
    test_split = check_test_split(where, test_split, allow_one=True)
    data = verified_bytes(where, "reuters", "reuters.npz", path)
    arrays = read_npz(where, data, ["x", "y"], pickled=True)
    xs, labels = shuffled(np.random.RandomState(seed), arrays["x"], arrays["y"])
    xs = shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = drop_long(maxlen, xs, labels)
        if not xs:
            raise ValueError(f"{where}(maxlen={maxlen}) keeps no newswire (only those "
                             "shorter than maxlen are kept); increase maxlen")
    xs = limit_vocabulary(xs, num_words, skip_top, oov_char)
    split = int(len(xs) * (1 - test_split))
    # np.array of a list (after maxlen) or of an array slice, as Keras: an empty list gives
    # float64, an empty slice keeps the file's dtype
    return ((as_object_array(xs[:split]), np.array(labels[:split])),
            (as_object_array(xs[split:]), np.array(labels[split:])))


def reuters_get_word_index(path="reuters_word_index.json"):
    """keras.datasets.reuters.get_word_index: {word (str): rank (int, 1 = most frequent)}.

    In load_data's x, a word appears as its rank + index_from (3 by default). The file
    reuters_word_index.json is checked by MD5, as Keras checks it. Raises DownloadError
    offline.
    """
    return read_word_index("reuters.get_word_index", "reuters", "reuters_word_index.json",
                           path)


def reuters_get_label_names():
    """keras.datasets.reuters.get_label_names: the 46 topic names (a tuple of str), label i
    being the i-th (0 = 'cocoa', 3 = 'earn', 45 = 'lead')."""
    return REUTERS_LABEL_NAMES


def boston_housing_load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """keras.datasets.boston_housing.load_data: 506 districts of Boston in the 1970s (StatLib).

    Returns ((x_train, y_train), (x_test, y_test)):
      x_*: float64 arrays (n, 13), 13 attributes per district (crime rate, rooms, ...);
      y_*: float64 arrays (n,), the median value of the homes, in thousands of dollars.
    The rows are shuffled with RandomState(seed); the first int(506 * (1 - test_split)) (404
    with the default 0.2) form the training set. test_split: a number in [0, 1), as Keras
    requires. Keras's warning holds: the attribute "B" encodes a racist assumption; use the
    set to discuss that, or prefer another regression data set.
    The file is checked by SHA-256 and holds plain arrays (read without pickle). Raises
    TypeError/ValueError naming a bad argument, DownloadError offline.
    """
    where = "boston_housing.load_data"
    test_split = check_test_split(where, test_split, allow_one=False)
    check_seed(where, seed)
    data = verified_bytes(where, "boston_housing", "boston_housing.npz", path)
    arrays = read_npz(where, data, ["x", "y"], pickled=False)
    x, y = shuffled(np.random.RandomState(seed), arrays["x"], arrays["y"])
    split = int(len(x) * (1 - test_split))
    return (np.array(x[:split]), np.array(y[:split])), (np.array(x[split:]), np.array(y[split:]))


# --------------------------------------------------------------------------- MNIST, Fashion-MNIST


def idx_folder(where, path):
    """tinynet's own meaning of mnist/fashion_mnist.load_data(path=...): a folder holding the
    four IDX files (as load_mnist takes it). Returns that folder (a Path), or None when `path`
    is None or Keras's kind of path: a name ending in '.npz', or an existing file.
    Raises TypeError for a path that is not a str, bytes or os.PathLike, ValueError for ''."""
    if path is None:
        return None
    try:
        text = os.fspath(path)
    except TypeError:
        raise TypeError(f"{where}(path=...) must be a file name such as 'mnist.npz' or a "
                        f"folder (a str or pathlib.Path), got {type(path).__name__}") from None
    text = text.decode() if isinstance(text, bytes) else text
    if not text:
        raise ValueError(f"{where}(path=...) must name a file or a folder, got ''")
    folder = Path(text).expanduser()
    if text.lower().endswith(".npz") or folder.is_file():
        return None
    return folder


def keras_format(loaded):
    """tinynet's load_mnist(normalize=False, flatten=False) result as Keras returns it:
    uint8 images (n, 28, 28) and uint8 labels (n,)."""
    (x_train, y_train), (x_test, y_test) = loaded
    return ((x_train[..., 0], y_train.astype(np.uint8)),
            (x_test[..., 0], y_test.astype(np.uint8)))


def idx_fallback(where, loader, keras_help):
    """Keras's copy was not found: tinynet's own IDX files (load_mnist or load_fashion_mnist
    with no path: $TINYNET_DATA/..., else ~/.cache/tinynet/..., downloaded if missing), in
    Keras's format. A failed download raises DownloadError naming both ways to install the
    data by hand: tinynet's four IDX files, and Keras's own file(s) (`keras_help`)."""
    try:
        loaded = loader(None, normalize=False, flatten=False)
    except DownloadError as err:
        raise DownloadError(f"{where}: no copy of Keras's file with Keras's hash was found, "
                            f"and tinynet's download of its own files failed too.\n{err}\n"
                            f"{keras_help}") from None
    return keras_format(loaded)


def keras_files_help(what, urls, folder, wrong):
    """How to install Keras's own copy by hand: the URLs, Keras's cache folder, and the files
    found there with another size or hash."""
    text = ""
    if wrong:  # first: the student may have put a file there already
        text = ("Found in Keras's cache, but not the file Keras publishes (its size or hash "
                "differs; incomplete, damaged or another file?): "
                + ", ".join(str(place) for place in wrong) + "\n")
    return (text + f"Or put Keras's own copy, what keras.datasets.{what}() downloads:\n"
            + "\n".join(f"    {url}" for url in urls)
            + f"\nin Keras's cache folder\n    {folder}")


def mnist_load_data(path="mnist.npz"):
    """keras.datasets.mnist.load_data: 70,000 handwritten digits, from Keras's own file first.

    Returns ((x_train, y_train), (x_test, y_test)): x_* uint8 (n, 28, 28), pixels 0..255;
    y_* uint8 (n,), digits 0..9; n = 60,000 and 10,000 for the real data. From Keras's
    mnist.npz they are its arrays exactly as keras/src/datasets/mnist.py (Keras 3.15.1)
    returns them; from tinynet's IDX files, the same images converted to that format.
    path, as in Keras 3.15: the file's name in Keras's cache, 'mnist.npz' by default (None is
    the same). Where the data are taken from, the first that works:
      1. a path with a folder in it ('data/mnist.npz'): that file alone, downloaded from
         Keras's address into it if missing, as imdb.load_data does (Keras refuses such paths);
      2. Keras's cache: $KERAS_HOME/datasets/<path>, else ~/.keras/datasets/<path>;
      3. tinynet's folder for MNIST, default_data_dir('mnist') / <path>;
      4. tinynet's four IDX files there, downloaded if missing (load_mnist, as before).
    Each .npz is used only when its SHA-256 is Keras's (KERAS_IMAGE_HASHES) and is then read
    without pickle (allow_pickle=False). A path naming a folder (not ending in '.npz' and not
    a file) is tinynet's extension: the folder of the four IDX files, as load_mnist takes it.
    Raises TypeError/ValueError for a bad path, ValueError for a file that is not an .npz
    of these arrays, DownloadError (naming Keras's file, its URL and tinynet's files) when
    nothing is found and nothing can be downloaded.
    """
    where = "mnist.load_data"
    folder = idx_folder(where, path)
    if folder is not None:
        return keras_format(idx_sets.load_mnist(folder, normalize=False, flatten=False))
    places = candidates(where, "mnist", path, "mnist.npz")
    if len(places) == 1:
        data = verified_bytes(where, "mnist", "mnist.npz", path)
    else:
        data, wrong = first_verified(places, keras_hash("mnist.npz"))
        if data is None:
            help_text = keras_files_help("mnist.load_data", [ORIGIN + "mnist.npz"],
                                         places[0].parent, wrong)
            if places[0].name != "mnist.npz":
                help_text += f"\nnamed {places[0].name}"
            return idx_fallback(where, idx_sets.load_mnist, help_text)
    arrays = read_npz(where, data, MNIST_ARRAYS, pickled=False)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def keras_fashion_files():
    """({file name: bytes} of the four gzipped IDX files in Keras's cache folder
    <cache>/fashion-mnist when all four are there with the size and SHA-256 of
    tinynet.mnist.FASHION_MNIST_FILES, else None; the files found with another size or hash)."""
    folder = keras_cache_dir() / FASHION_SUBFOLDER
    found, wrong = {}, []
    for name, (size, sha256) in idx_sets.FASHION_MNIST_FILES.items():
        place = folder / name
        if not place.is_file():
            continue
        data = place.read_bytes()
        if (size is None or len(data) == size) and \
                (sha256 is None or hashlib.sha256(data).hexdigest() == sha256.lower()):
            found[name] = data
        else:
            wrong.append(place)
    return (found if len(found) == len(idx_sets.FASHION_MNIST_FILES) else None), wrong


def fashion_mnist_load_data(path=None):
    """keras.datasets.fashion_mnist.load_data: 70,000 pictures of clothes in 10 classes
    (tinynet.mnist.FASHION_MNIST_CLASSES), from Keras's own files first.

    Returns ((x_train, y_train), (x_test, y_test)): x_* uint8 (n, 28, 28), pixels 0..255;
    y_* uint8 (n,), classes 0..9; n = 60,000 and 10,000 for the real data, the values
    keras/src/datasets/fashion_mnist.py (Keras 3.15.1) returns for the same files.
    Where the data are taken from, the first that works:
      1. path (tinynet's extension; Keras's load_data takes no argument): a folder holding
         the four IDX files, read (and filled by download) as load_fashion_mnist(path) does;
      2. Keras's cache: the four files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
         t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz in $KERAS_HOME/datasets/
         fashion-mnist, else ~/.keras/datasets/fashion-mnist, when all four have their
         published size and SHA-256 (FASHION_MNIST_FILES; see FASHION_SUBFOLDER);
      3. tinynet's IDX files, default_data_dir('fashion_mnist'), downloaded if missing.
    Raises TypeError/ValueError for a bad path (a file or an '.npz' name: Keras has no
    path here), ValueError for a damaged IDX file, DownloadError (naming Keras's folder and
    tinynet's) when nothing is found and nothing can be downloaded.
    """
    where = "fashion_mnist.load_data"
    if path is not None:
        folder = idx_folder(where, path)
        if folder is None:
            raise ValueError(f"{where}(path=...) must be a folder holding the four IDX files "
                             f"(tinynet's extension: Keras's fashion_mnist.load_data() takes "
                             f"no path), got the file name {os.fspath(path)!r}")
        return keras_format(idx_sets.load_fashion_mnist(folder, normalize=False,
                                                        flatten=False))
    found, wrong = keras_fashion_files()
    if found is None:
        urls = [ORIGIN + name for name in idx_sets.FASHION_MNIST_FILES]
        help_text = keras_files_help("fashion_mnist.load_data", urls,
                                     keras_cache_dir() / FASHION_SUBFOLDER, wrong)
        return idx_fallback(where, idx_sets.load_fashion_mnist, help_text)
    x_train, y_train, x_test, y_test = (
        idx_sets.read_idx(found[name + ".gz"])
        for name in (idx_sets.TRAIN_IMAGES, idx_sets.TRAIN_LABELS, idx_sets.TEST_IMAGES,
                     idx_sets.TEST_LABELS))
    return (x_train, y_train), (x_test, y_test)


class KerasDataSetModule:
    """What `keras.datasets.imdb` (reuters, boston_housing) is: a name holding the data
    set's functions, so `from tinynet.datasets import imdb; imdb.load_data()` reads like
    Keras."""

    def __init__(self, name, **functions):
        self.__name__ = f"tinynet.datasets.{name}"
        self._functions = functions
        for function_name, function in functions.items():
            setattr(self, function_name, function)

    def __repr__(self):
        return f"<tinynet.datasets.{self.__name__.rsplit('.', 1)[-1]}: " \
               f"{', '.join(self._functions)}>"

    def __dir__(self):
        return list(self._functions)


imdb = KerasDataSetModule("imdb", load_data=imdb_load_data, get_word_index=imdb_get_word_index)
reuters = KerasDataSetModule("reuters", load_data=reuters_load_data,
                             get_word_index=reuters_get_word_index,
                             get_label_names=reuters_get_label_names)
boston_housing = KerasDataSetModule("boston_housing", load_data=boston_housing_load_data)
mnist = KerasDataSetModule("mnist", load_data=mnist_load_data)
fashion_mnist = KerasDataSetModule("fashion_mnist", load_data=fashion_mnist_load_data)
