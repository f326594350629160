"""Datasets: the embedded sample, IDX files, downloads (from a local server) and Fashion-MNIST.

No test here reaches the internet: the download tests serve small IDX files they write
themselves from a local HTTP server, and point ``data.SOURCES`` and the cache folder at them.
"""

import functools
import gzip
import hashlib
import http.server
import socket
import threading
from pathlib import Path

import numpy as np
import pooch
import pytest

from companion import data, init, train
from companion.forward import predict
from companion.metrics import accuracy

# --- the embedded sample -------------------------------------------------------------------


def test_embedded_sample_splits(digits):
    sizes = {"train": 4000, "val": 500, "test": 500}
    for part, n in sizes.items():
        X, y = getattr(digits, f"X_{part}"), getattr(digits, f"y_{part}")
        assert X.shape == (n, 784) and X.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.int64
        assert X.min() >= 0 and X.max() <= 1 and X.max() > 0.99
        np.testing.assert_array_equal(np.bincount(y, minlength=10), np.full(10, n // 10))
    assert digits.name == "mnist-5k"
    assert digits.class_names == [str(d) for d in range(10)]


def test_embedded_splits_are_a_partition_of_the_sample(digits):
    with np.load(data.EMBEDDED) as f:
        raw_X, raw_y = f["X"], f["y"]
    assert raw_X.shape == (5000, 784) and raw_X.dtype == np.uint8
    original = {x.tobytes(): int(label) for x, label in zip(raw_X, raw_y)}
    assert len(original) == 5000  # no duplicate images, so rows identify samples
    seen = []
    for part in ("train", "val", "test"):
        X, y = getattr(digits, f"X_{part}"), getattr(digits, f"y_{part}")
        pixels = np.round(X * 255).astype(np.uint8)
        np.testing.assert_allclose(pixels / np.float32(255), X, rtol=1e-6)
        keys = [x.tobytes() for x in pixels]
        assert [original[k] for k in keys] == y.tolist()  # each image keeps its label
        seen += keys
    assert sorted(seen) == sorted(original)  # every sample exactly once: no overlap


def test_embedded_split_depends_on_the_seed_only(digits):
    again = data.load()  # the defaults: the embedded sample, seed 0
    other = data.load("mnist-5k", seed=1)
    for field in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(again, field), getattr(digits, field))
    assert not np.array_equal(other.y_train, digits.y_train)
    assert not np.array_equal(np.sort(other.X_test, axis=None), np.sort(digits.X_test, axis=None))


def test_split_indices_is_stratified_and_complete():
    y = np.repeat(np.arange(4), [10, 20, 30, 40])
    parts = data.split_indices(y, [0.5, 0.3], np.random.default_rng(0))
    assert len(parts) == 3
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(100))
    for part, fraction in zip(parts, [0.5, 0.3, 0.2]):
        np.testing.assert_array_equal(np.bincount(y[part]), fraction * np.array([10, 20, 30, 40]))


# --- IDX files -----------------------------------------------------------------------------


def idx_bytes(array, magic_type=0x08):
    """An IDX file: zero, zero, type byte, number of dimensions, sizes (big-endian), data."""
    header = bytes([0, 0, magic_type, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write(path, payload):
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
    return path


@pytest.mark.parametrize("name", ["images.idx", "images.idx.gz"])
def test_read_idx_reads_images_and_labels(tmp_path, name):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    out = data.read_idx(write(tmp_path / name, idx_bytes(images)))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, images)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    np.testing.assert_array_equal(data.read_idx(write(tmp_path / "l.gz", idx_bytes(labels))),
                                  labels)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_rejects_a_truncated_file(tmp_path, suffix):
    payload = idx_bytes(np.ones((4, 5, 5), dtype=np.uint8))
    path = write(tmp_path / f"cut{suffix}", payload[:-7])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        data.read_idx(path)
    with pytest.raises(ValueError, match="header is truncated"):
        data.read_idx(write(tmp_path / f"head{suffix}", payload[:9]))


def test_read_idx_rejects_a_cut_gzip_stream(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.ones((4, 5, 5))))[:-10])
    with pytest.raises(ValueError, match="not a readable IDX file"):
        data.read_idx(path)


@pytest.mark.parametrize("header", [b"\x00\x00\x0d\x03", b"\x01\x00\x08\x03", b"\x00\x00\x08\x07",
                                    b"\x1f\x8b", b""])
def test_read_idx_rejects_a_bad_magic_number(tmp_path, header):
    payload = header + idx_bytes(np.ones((2, 2, 2)))[4:]
    path = write(tmp_path / "bad.gz", payload)
    with pytest.raises(ValueError) as err:
        data.read_idx(path)
    assert str(err.value) == (f"{path}: bad IDX magic number {payload[:4].hex()} "
                              "(expected 00000801 for labels or 00000803 for images)")


def test_read_idx_at_the_edges_of_its_header(tmp_path):
    # four bytes: a good magic number, then nothing: the sizes are missing
    with pytest.raises(ValueError, match="IDX header is truncated"):
        data.read_idx(write(tmp_path / "four.idx", b"\x00\x00\x08\x01"))
    # a header and no data: zero labels is a valid file
    empty = data.read_idx(write(tmp_path / "empty.idx", b"\x00\x00\x08\x01" + bytes(4)))
    assert empty.shape == (0,) and empty.dtype == np.uint8
    # each size is four bytes, big-endian (sizes above 2**24 use all four; no data needed
    # when one size is 0)
    sizes = (2**24 + 5, 0, 2**24 + 7)
    header = b"\x00\x00\x08\x03" + b"".join(n.to_bytes(4, "big") for n in sizes)
    assert data.read_idx(write(tmp_path / "big.idx", header)).shape == sizes


# --- downloads, from a local server --------------------------------------------------------

N_TRAIN, N_TEST = 100, 30


def small_mnist():
    """Four IDX payloads in ``data.FILES`` order. Image i has pixel 0 = i and label i % 10."""
    rng = np.random.default_rng(0)
    arrays = []
    for n in (N_TRAIN, N_TEST):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        images[:, 0, 0] = np.arange(n)
        arrays += [images, (np.arange(n) % 10).astype(np.uint8)]
    return dict(zip(data.FILES, arrays))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """Serve the folder ``tmp_path / "www"`` on 127.0.0.1; yields ``(folder, base_url)``."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(QuietHandler, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("COMPANION_DATA_DIR", str(folder))
    monkeypatch.setenv("no_proxy", "127.0.0.1")  # the local server, even behind a proxy
    return folder


def publish(www, payloads, monkeypatch, url="http://example.invalid/"):
    """Write the gzipped files into ``www`` and register their SHA-256 in ``data.SOURCES``."""
    hashes = []
    for fname, payload in payloads.items():
        blob = gzip.compress(payload if isinstance(payload, bytes) else idx_bytes(payload))
        (www / fname).write_bytes(blob)
        hashes.append(hashlib.sha256(blob).hexdigest())
    monkeypatch.setitem(data.SOURCES, "mnist", (url, tuple(hashes)))
    return hashes


def test_cache_dir_follows_the_environment(cache, monkeypatch):
    assert data.cache_dir() == cache
    default = Path(pooch.os_cache("companion"))  # the user's cache folder, named after us
    assert default.name == "companion"
    monkeypatch.setenv("COMPANION_DATA_DIR", "")
    assert data.cache_dir() == default
    monkeypatch.delenv("COMPANION_DATA_DIR")
    assert data.cache_dir() == default


def test_load_downloads_checks_and_splits(server, cache, monkeypatch, capsys):
    www, url = server
    arrays = small_mnist()
    publish(www, arrays, monkeypatch, url=url)
    d = data.load("mnist", seed=0, val_fraction=0.1)  # the URL from data.SOURCES
    assert capsys.readouterr().err.count("100%") == 4  # a progress bar for each download
    assert d.name == "mnist" and len(d.class_names) == 10
    assert d.X_train.shape == (90, 784) and d.X_val.shape == (10, 784)
    assert d.X_test.shape == (N_TEST, 784)
    for X, y in ((d.X_train, d.y_train), (d.X_val, d.y_val), (d.X_test, d.y_test)):
        assert X.dtype == np.float32 and y.dtype == np.int64
    # stratified: 9 of each class in training, 1 in validation
    np.testing.assert_array_equal(np.bincount(d.y_train), np.full(10, 9))
    np.testing.assert_array_equal(np.bincount(d.y_val), np.ones(10))
    # pixel 0 names the original image: values, labels and the partition are right
    images = arrays["train-images-idx3-ubyte.gz"].reshape(N_TRAIN, 784)
    ids = [np.round(X[:, 0] * 255).astype(int) for X in (d.X_train, d.X_val)]
    np.testing.assert_array_equal(np.sort(np.concatenate(ids)), np.arange(N_TRAIN))
    for X, y, i in zip((d.X_train, d.X_val), (d.y_train, d.y_val), ids):
        np.testing.assert_array_equal(y, i % 10)
        np.testing.assert_allclose(X, images[i] / np.float32(255), rtol=1e-6)
    test_images = arrays["t10k-images-idx3-ubyte.gz"].reshape(N_TEST, 784)
    np.testing.assert_allclose(d.X_test, test_images / np.float32(255), rtol=1e-6)
    np.testing.assert_array_equal(d.y_test, np.arange(N_TEST) % 10)
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(data.FILES)


def test_fetch_downloads_once_then_works_offline(server, cache, monkeypatch):
    www, url = server
    publish(www, small_mnist(), monkeypatch)
    paths = data.fetch("mnist", base_url=url)
    assert [p.name for p in paths] == list(data.FILES)
    assert all(p.parent == cache / "mnist" for p in paths)
    for f in www.iterdir():
        f.unlink()  # the server no longer has the files: the cache must serve them
    assert data.fetch("mnist", base_url=url) == paths
    assert data.load("mnist", base_url=url).X_test.shape == (N_TEST, 784)


def test_fetch_rejects_a_file_whose_hash_does_not_match(server, cache, monkeypatch):
    www, url = server
    payloads = small_mnist()
    publish(www, payloads, monkeypatch)
    bad = "t10k-images-idx3-ubyte.gz"
    (www / bad).write_bytes(gzip.compress(idx_bytes(payloads[bad][::-1])))  # same size
    with pytest.raises(ValueError, match=rf"hash.*\({bad}\)|{bad}.*hash"):
        data.load("mnist", base_url=url)
    left = [p.name for p in (cache / "mnist").iterdir()]
    assert bad not in left
    assert set(left) <= set(data.FILES)  # no temporary file left behind either


def test_load_rejects_a_published_file_with_a_bad_magic_number(server, cache, monkeypatch):
    www, url = server
    payloads = small_mnist()
    payloads["train-labels-idx1-ubyte.gz"] = b"\x00\x00\x0b\x01" + idx_bytes(
        payloads["train-labels-idx1-ubyte.gz"])[4:]  # int8 labels instead of uint8
    publish(www, payloads, monkeypatch)
    with pytest.raises(ValueError, match="bad IDX magic number"):
        data.load("mnist", base_url=url)


def test_load_rejects_images_and_labels_of_different_lengths(server, cache, monkeypatch):
    www, url = server
    payloads = small_mnist()
    payloads["train-labels-idx1-ubyte.gz"] = payloads["train-labels-idx1-ubyte.gz"][:-1]
    publish(www, payloads, monkeypatch)
    with pytest.raises(ValueError, match="differ in length"):
        data.load("mnist", base_url=url)


def unused_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fetch_with_the_server_down_says_what_is_missing_and_where(cache, tmp_path, monkeypatch):
    www = tmp_path / "www"
    www.mkdir()
    publish(www, small_mnist(), monkeypatch)
    url = f"http://127.0.0.1:{unused_port()}/"
    first = data.FILES[0]
    with pytest.raises(OSError) as err:
        data.fetch("mnist", base_url=url)
    message = str(err.value)
    assert f"mnist file {first}" in message and url in message
    assert str(cache / "mnist" / first) in message
    # the offline alternative
    assert message.endswith("or use load('mnist-5k'), which ships with the package.")


# --- full scale: Debian's Fashion-MNIST files ----------------------------------------------

HAS_FASHION = all((data.FASHION_MNIST_SYSTEM_DIR / f).is_file() for f in data.FILES)


@pytest.mark.skipif(not HAS_FASHION, reason="needs Debian's dataset-fashion-mnist package")
def test_fashion_mnist_at_full_scale():
    d = data.load("fashion-mnist")
    assert (len(d.X_train), len(d.X_val), len(d.X_test)) == (54000, 6000, 10000)
    assert d.X_train.shape[1] == 784 and d.X_train.dtype == np.float32
    assert d.class_names[0] == "T-shirt/top" and len(d.class_names) == 10
    for y in (d.y_train, d.y_val, d.y_test):
        assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    np.testing.assert_array_equal(np.bincount(d.y_val), np.full(10, 600))
    params, _ = train.train(init.init_params(np.random.default_rng(0)), d.X_train, d.y_train,
                            batch_size=128, epochs=1, progress=False)
    assert accuracy(d.y_test, predict(params, d.X_test)) > 0.80
