"""Data sets and loader: IDX files (plain and gzipped, good and broken), image folders, toy sets,
the embedded MNIST subset, downloads (offline and checksum paths, with local files only), shuffling."""
import gzip
import hashlib
import os
import pathlib
import urllib.error

import numpy as np
import pytest

from minigan import data
from minigan.data import download as download_module


def _mnist_like(rng, n=7, h=4, w=3):
    return rng.integers(0, 256, size=(n, h, w), dtype=np.uint8), rng.integers(0, 10, size=n, dtype=np.uint8)


def _write_pair(folder, images, labels, gz_images=False, gz_labels=False, split="train"):
    image_stem, label_stem = data.idx.IDX_FILES[split]
    data.write_idx(os.path.join(folder, image_stem + (".gz" if gz_images else "")), images)
    data.write_idx(os.path.join(folder, label_stem + (".gz" if gz_labels else "")), labels)


# -- IDX ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("gz_images,gz_labels", [(False, False), (True, True), (True, False)])
def test_idx_round_trip(tmp_path, rng, gz_images, gz_labels):
    images, labels = _mnist_like(rng)
    _write_pair(tmp_path, images, labels, gz_images, gz_labels)
    got_images, got_labels = data.read_idx_dataset(str(tmp_path))
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert got_images.dtype == np.uint8


def test_idx_header_is_the_mnist_one(tmp_path, rng):
    images, _ = _mnist_like(rng, n=5, h=28, w=28)
    path = str(tmp_path / "x")
    data.write_idx(path, images)
    raw = pathlib.Path(path).read_bytes()
    assert raw[:4] == bytes([0, 0, 8, 3])  # magic 2051
    assert int.from_bytes(raw[4:8], "big") == 5 and int.from_bytes(raw[8:12], "big") == 28
    assert len(raw) == 16 + 5 * 28 * 28


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32, np.float64, np.int8])
def test_idx_other_element_types(tmp_path, rng, dtype):
    array = (rng.standard_normal((3, 2, 5)) * 100).astype(dtype)
    path = str(tmp_path / "a.gz")
    data.write_idx(path, array)
    got = data.read_idx(path)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, array)


def _corrupt(path, transform):
    p = pathlib.Path(path)
    p.write_bytes(transform(p.read_bytes()))


@pytest.mark.parametrize("transform,message", [
    (lambda b: b[:-10], "truncated"),
    (lambda b: b + b"\x00\x01", "unexpected bytes"),
    (lambda b: b"\x01" + b[1:], "bad magic number"),
    (lambda b: b[:2] + b"\x42" + b[3:], "unknown element type"),
    (lambda b: b[:3] + b"\x01" + b[4:], r"gives 1 dimension\(s\), not the 3"),  # a labels file's magic
    (lambda b: b[:2], "too short"),
    (lambda b: b[:9], "truncated header"),
])
def test_idx_damaged_files_name_file_and_problem(tmp_path, rng, transform, message):
    images, labels = _mnist_like(rng)
    _write_pair(tmp_path, images, labels)
    path = str(tmp_path / "train-images-idx3-ubyte")
    _corrupt(path, transform)
    with pytest.raises(ValueError, match=message) as info:
        data.read_idx_dataset(str(tmp_path))
    assert path in str(info.value)


def test_idx_truncated_gzip(tmp_path, rng):
    images, labels = _mnist_like(rng, n=50, h=28, w=28)
    _write_pair(tmp_path, images, labels, gz_images=True)
    path = str(tmp_path / "train-images-idx3-ubyte.gz")
    _corrupt(path, lambda b: b[: len(b) // 2])
    with pytest.raises(ValueError, match="gzip") as info:
        data.read_idx_dataset(str(tmp_path))
    assert path in str(info.value)


def test_idx_count_mismatch_and_wrong_kind(tmp_path, rng):
    images, labels = _mnist_like(rng)
    _write_pair(tmp_path, images, labels[:-1])
    with pytest.raises(ValueError, match="7 images but .* 6 labels"):
        data.read_idx_dataset(str(tmp_path))
    _write_pair(tmp_path, images, images)  # images where labels should be
    with pytest.raises(ValueError, match="1 dimension"):
        data.read_idx_dataset(str(tmp_path))


def test_idx_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        data.read_idx_dataset(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        data.get_dataset("mnist", data_dir=str(tmp_path))


def test_get_dataset_full_mnist_from_folder(tmp_path, rng):
    images, labels = _mnist_like(rng, n=9, h=28, w=28)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    sub = tmp_path / "MNIST" / "raw"  # the torchvision layout is found too
    sub.mkdir(parents=True)
    _write_pair(str(sub), images, labels, gz_images=True, gz_labels=True, split="test")
    x, y, meta = data.get_dataset("mnist", data_dir=str(tmp_path), split="test")
    assert x.shape == (9, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert x[0, 0, 0, 0] == -1.0 and x[0, 0, 0, 1] == 1.0
    np.testing.assert_allclose(x[:, 0], images / 127.5 - 1, atol=1e-6)
    np.testing.assert_array_equal(y, labels)
    assert meta["num_classes"] == 10 and meta["kind"] == "images" and tuple(meta["shape"]) == (1, 28, 28)


def test_idx_files_of_another_data_set_are_refused(tmp_path, rng):
    images, labels = _mnist_like(rng, n=5, h=32, w=32)
    _write_pair(str(tmp_path), images, labels)
    with pytest.raises(ValueError, match=r"shape \(32, 32\), not the 28x28 of mnist"):
        data.get_dataset("mnist", data_dir=str(tmp_path))
    images, _ = _mnist_like(rng, n=5, h=28, w=28)
    _write_pair(str(tmp_path), images, np.array([0, 3, 99, 9, 1], dtype=np.uint8))
    with pytest.raises(ValueError, match="labels in .* go up to 99, beyond the classes 0..9 of fashion-mnist"):
        data.get_dataset("fashion-mnist", data_dir=str(tmp_path))


def test_fashion_mnist_not_embedded(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="download=True"):
        data.get_dataset("fashion-mnist")


# -- downloads (never the network) -----------------------------------------------------------------
def test_fetch_checks_sha256_and_keeps_nothing_bad(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"minigan" * 1000)
    good = hashlib.sha256(source.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    destination = str(cache / "file.gz")
    with pytest.raises(ValueError, match="SHA-256"):
        data.fetch_file([source.as_uri()], destination, "0" * 64)
    assert not os.path.exists(destination) and os.listdir(cache) == []
    assert data.fetch_file([source.as_uri()], destination, good) == destination
    assert pathlib.Path(destination).read_bytes() == source.read_bytes()
    source.unlink()  # a file already in the cache with the right sum is reused without fetching
    assert data.fetch_file([source.as_uri()], destination, good) == destination


def test_download_offline_gives_a_clear_message(tmp_path, monkeypatch):
    def offline(url, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(download_module.urllib.request, "urlopen", offline)
    with pytest.raises(ConnectionError, match="offline") as info:
        data.get_dataset("fashion-mnist", download=True, cache_dir=str(tmp_path))
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "by hand" in message and "name resolution" in message
    assert os.listdir(tmp_path / "fashion-mnist") == []


def test_download_from_a_local_mirror(tmp_path, rng, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    images, labels = _mnist_like(rng, n=6, h=28, w=28)
    _write_pair(str(mirror), images, labels, gz_images=True, gz_labels=True)
    sums = {name: hashlib.sha256((mirror / name).read_bytes()).hexdigest() for name in os.listdir(mirror)}
    spec = {"mirrors": (mirror.as_uri() + "/",), "sha256": sums}
    monkeypatch.setitem(download_module.DATASETS, "mnist", spec)
    x, y, _ = data.get_dataset("mnist", download=True, cache_dir=str(tmp_path / "cache"))
    assert x.shape == (6, 1, 28, 28)
    np.testing.assert_array_equal(y, labels)
    assert sorted(os.listdir(tmp_path / "cache" / "mnist")) == sorted(sums)


def test_download_uses_the_files_already_in_data_dir(tmp_path, rng, monkeypatch):
    def offline(url, timeout=None):
        raise urllib.error.URLError("no network in this test")
    monkeypatch.setattr(download_module.urllib.request, "urlopen", offline)
    images, labels = _mnist_like(rng, n=6, h=28, w=28)
    _write_pair(str(tmp_path), images, labels, gz_images=True)
    x, y, _ = data.get_dataset("mnist", data_dir=str(tmp_path), download=True)
    assert x.shape == (6, 1, 28, 28)
    np.testing.assert_array_equal(y, labels)


# -- embedded MNIST ---------------------------------------------------------------------------------
def test_embedded_mnist():
    images, labels = data.load_mnist_embedded()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(labels), np.full(10, 500))
    x, y, meta = data.get_dataset("mnist")
    assert x.shape == (5000, 1, 28, 28) and x.dtype == np.float32
    assert x.min() == -1.0 and x.max() == 1.0
    assert -0.9 < x.mean() < -0.6  # mostly background
    assert "embedded" in meta["source"]


# -- image folders -----------------------------------------------------------------------------------
def _save(path, array):
    from PIL import Image
    Image.fromarray(array).save(path)


def test_image_folder_gray_and_rgb(tmp_path, rng):
    pytest.importorskip("PIL")
    gray = rng.integers(0, 256, size=(3, 6, 5), dtype=np.uint8)
    for i, g in enumerate(gray):
        _save(tmp_path / f"{i}.png", g)
    x, y, meta = data.get_dataset(str(tmp_path))
    assert x.shape == (3, 1, 6, 5) and y is None and meta["num_classes"] is None
    np.testing.assert_allclose(x[:, 0], gray / 127.5 - 1, atol=1e-6)
    color = rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
    _save(tmp_path / "3.png", color)  # one colour image makes the whole set RGB
    x, _, _ = data.get_dataset(str(tmp_path))
    assert x.shape == (4, 3, 6, 5)
    np.testing.assert_allclose(x[3], color.transpose(2, 0, 1) / 127.5 - 1, atol=1e-6)
    x, _, _ = data.get_dataset(str(tmp_path), image_mode="L")
    assert x.shape == (4, 1, 6, 5)


def test_image_folder_classes_from_subfolders(tmp_path, rng):
    pytest.importorskip("PIL")
    for name, count in (("dog", 2), ("cat", 3)):
        (tmp_path / name).mkdir()
        for i in range(count):
            _save(tmp_path / name / f"{i}.png", rng.integers(0, 256, size=(4, 4), dtype=np.uint8))
    x, y, meta = data.get_dataset(str(tmp_path))
    assert meta["classes"] == ["cat", "dog"] and meta["num_classes"] == 2
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1])


def test_image_folder_errors(tmp_path, rng):
    pytest.importorskip("PIL")
    with pytest.raises(ValueError, match="no images"):
        data.get_dataset(str(tmp_path))
    _save(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    _save(tmp_path / "b.png", np.zeros((8, 9), np.uint8))
    with pytest.raises(ValueError, match="differ in size") as info:
        data.get_dataset(str(tmp_path))
    assert "a.png is 8x8" in str(info.value) and "b.png is 9x8" in str(info.value)


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown data set 'cifar99'"):
        data.get_dataset("cifar99")


# -- toy sets ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,count", [("ring8", 8), ("grid25", 25)])
def test_toy_set_statistics(name, count):
    x, y, meta = data.get_dataset(name, n_points=50_000, seed=3)
    modes = meta["modes"]
    assert x.shape == (50_000, 2) and x.dtype == np.float32 and modes.shape == (count, 2)
    offsets = x - modes[y]
    assert abs(offsets.std() - 0.02) < 0.001 and np.abs(offsets.mean(axis=0)).max() < 0.001
    shares = np.bincount(y, minlength=count) / len(y)
    assert np.abs(shares - 1 / count).max() < 0.01
    # every point is much nearer its own mode than any other
    d = np.linalg.norm(x[:, None, :] - modes[None], axis=2)
    np.testing.assert_array_equal(d.argmin(axis=1), y)


def test_toy_mode_layout():
    ring = data.TOY_SETS["ring8"].modes
    np.testing.assert_allclose(np.linalg.norm(ring, axis=1), 2.0, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(ring - np.roll(ring, 1, axis=0), axis=1), 4 * np.sin(np.pi / 8),
                               rtol=1e-5)
    grid = data.TOY_SETS["grid25"].modes
    assert sorted(set(grid[:, 0].tolist())) == [-4, -2, 0, 2, 4] == sorted(set(grid[:, 1].tolist()))
    assert len({tuple(p) for p in grid.tolist()}) == 25


def test_toy_seed_repeatable():
    a = data.get_dataset("ring8", n_points=100, seed=5).data
    np.testing.assert_array_equal(a, data.get_dataset("ring8", n_points=100, seed=5).data)
    assert not np.array_equal(a, data.get_dataset("ring8", n_points=100, seed=6).data)


# -- loader ------------------------------------------------------------------------------------------
def _epoch(loader):
    return np.concatenate([y for _, y in loader])


def test_loader_shuffles_repeatably_and_differently_per_epoch():
    x = np.arange(20, dtype=np.float32)[:, None]
    y = np.arange(20)
    a, b = data.DataLoader(x, y, batch_size=6, seed=7), data.DataLoader(x, y, batch_size=6, seed=7)
    assert len(a) == 3
    first, second = _epoch(a), _epoch(a)
    assert len(first) == 18 and len(set(first.tolist())) == 18  # drop_last, no repeats
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, _epoch(b))
    np.testing.assert_array_equal(second, _epoch(b))
    assert not np.array_equal(first, _epoch(data.DataLoader(x, y, batch_size=6, seed=8)))
    for xb, yb in data.DataLoader(x, y, batch_size=6, seed=1):
        np.testing.assert_array_equal(xb[:, 0], yb)  # data and labels stay paired


def test_loader_without_shuffle_and_drop_last():
    x = np.arange(10)
    batches = [xb for xb, yb in data.DataLoader(x, batch_size=4, shuffle=False, drop_last=False)]
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert all(yb is None for _, yb in data.DataLoader(x, batch_size=4))


def test_loader_state_resumes_exactly():
    x = np.arange(23)
    straight = data.DataLoader(x, batch_size=5, seed=2)
    expected = [straight.next_batch()[0] for _ in range(13)]
    first = data.DataLoader(x, batch_size=5, seed=2)
    got = [first.next_batch()[0] for _ in range(6)]
    state = first.state_dict()
    resumed = data.DataLoader(x, batch_size=5, seed=99)
    resumed.load_state_dict(state)
    got += [resumed.next_batch()[0] for _ in range(7)]
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)
    fresh = data.DataLoader(x, batch_size=5, seed=2)
    restored = data.DataLoader(x, batch_size=5, seed=0)
    restored.load_state_dict(fresh.state_dict())
    np.testing.assert_array_equal(restored.next_batch()[0], fresh.next_batch()[0])


def test_loader_errors():
    with pytest.raises(ValueError, match="batch size 11 is larger than the data set \\(10 samples\\)"):
        data.DataLoader(np.zeros(10), batch_size=11)
    with pytest.raises(ValueError, match="labels"):
        data.DataLoader(np.zeros(10), np.zeros(9), batch_size=2)
    with pytest.raises(ValueError, match="at least 1"):
        data.DataLoader(np.zeros(10), batch_size=0)


def test_gzip_written_file_is_really_gzip(tmp_path, rng):
    images, _ = _mnist_like(rng)
    path = str(tmp_path / "a.gz")
    data.write_idx(path, images)
    with gzip.open(path, "rb") as f:
        assert f.read(4) == bytes([0, 0, 8, 3])
