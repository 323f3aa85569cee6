"""``get_dataset``: one entry point from a name or a folder to float32 arrays in data space.

Data space is what the generator produces and the discriminator reads: images (N, C, H, W) scaled from
[0, 255] to [-1, 1] (the range of a tanh output layer), and 2-D points (N, 2) as they are.
"""
import os
from typing import NamedTuple, Optional

import numpy as np

from minigan.data.download import default_cache_dir, download_idx_dataset
from minigan.data.embedded import load_mnist_embedded
from minigan.data.idx import IDX_FILES, read_idx_dataset
from minigan.data.image_folder import read_image_folder
from minigan.data.toy import TOY_SETS

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot"]
_ALIASES = {"mnist": "mnist", "fashion-mnist": "fashion-mnist", "fashion_mnist": "fashion-mnist",
            "fashionmnist": "fashion-mnist", "ring8": "ring8", "grid25": "grid25"}
# Where torchvision keeps the raw files under its root, so a folder it filled can be reused as is.
_TORCHVISION_DIRS = {"mnist": os.path.join("MNIST", "raw"), "fashion-mnist": os.path.join("FashionMNIST", "raw")}


class Dataset(NamedTuple):
    """What ``get_dataset`` returns; unpacks as ``data, labels, meta = get_dataset(...)``.

    ``data``: float32 (N, C, H, W) in [-1, 1] or (N, 2) points. ``labels``: int64 (N,) or None.
    ``meta``: dict with ``name``, ``kind`` ("images" or "points"), ``shape`` (of one sample),
    ``num_classes`` (None when unlabelled), ``classes`` (names), ``source`` (a line for logs) and,
    for the 2-D sets, ``modes`` (float32 (K, 2)) and ``std``.
    """
    data: np.ndarray
    labels: Optional[np.ndarray]
    meta: dict


def recorded_location(name_or_path):
    """``name_or_path`` as a run records it: a data set's name as given, a folder as an absolute path,
    so that the run can be resumed, sampled and scored from any working directory."""
    path = str(name_or_path)
    if path.lower() in _ALIASES or not os.path.isdir(path):
        return name_or_path
    return os.path.abspath(path)


def images_to_data_space(images):
    """uint8 images (N, H, W) or (N, H, W, C) -> float32 (N, C, H, W) in [-1, 1]."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]
    else:
        images = images.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(images, dtype=np.float32) / np.float32(127.5) - np.float32(1.0)


def _idx_folder(name, data_dir, split):
    """The first folder among data_dir, data_dir/<name>, data_dir/<torchvision layout> with the files."""
    candidates = [data_dir, os.path.join(data_dir, name), os.path.join(data_dir, _TORCHVISION_DIRS[name])]
    for folder in candidates:
        if all(os.path.isfile(os.path.join(folder, stem)) or os.path.isfile(os.path.join(folder, stem + ".gz"))
               for stem in IDX_FILES[split]):
            return folder
    stems = " and ".join(f"{s}[.gz]" for s in IDX_FILES[split])
    raise FileNotFoundError(f"{name}: no {stems} in {data_dir} (also looked in {candidates[1]} and "
                            f"{candidates[2]}); put the files there, or pass download=True (--download) "
                            "to fetch them")


def _load_idx(name, data_dir, download, split, cache_dir):
    # Files already there (in data_dir, or fetched into the cache by an earlier download) are used as
    # they are; download=True fetches only what is missing, into data_dir/<name> or the cache.
    cache = os.path.join(cache_dir or default_cache_dir(), name)
    try:
        folder = _idx_folder(name, data_dir if data_dir is not None else cache, split)
    except FileNotFoundError:
        if download:
            folder = download_idx_dataset(name, split=split, cache_dir=cache_dir or data_dir)
        elif data_dir is not None:
            raise
        else:
            raise FileNotFoundError(
                f"{name} is not shipped with minigan (only a 5,000-digit MNIST subset is): pass data_dir "
                f"(--data-dir) for a folder holding its IDX files, or download=True (--download) to fetch "
                f"them into {cache}") from None
    images, labels = read_idx_dataset(folder, split=split)
    _check_idx_contents(name, images, labels, folder)
    return images, labels, f"{name} ({split}, {len(images)} images) from {folder}"


def _check_idx_contents(name, images, labels, folder):
    """Well-formed IDX files can still hold another data set: MNIST and Fashion-MNIST are 28x28 images
    of 10 classes, which the models and the MNIST metrics rely on."""
    if images.shape[1:] != (28, 28):  # read_idx_dataset has checked (N, H, W) uint8 and (N,) uint8
        raise ValueError(f"{name}: the IDX images in {folder} have shape {tuple(images.shape[1:])}, not the "
                         f"28x28 of {name}; for other images pass their folder as the data set instead")
    if labels.max() > 9:
        raise ValueError(f"{name}: the IDX labels in {folder} go up to {labels.max()}, beyond "
                         f"the classes 0..9 of {name}; check that the labels file belongs to these images")


def get_dataset(name_or_path, data_dir=None, download=False, split="train", n_points=100_000, seed=0,
                image_mode=None, cache_dir=None):
    """Load a data set by name or path into data space.

    ``name_or_path``: "mnist" (the embedded 5,000-digit subset, unless ``data_dir`` or ``download``
    asks for the full set), "fashion-mnist" (from ``data_dir``, the cache, or downloaded when
    ``download=True``), "ring8" and "grid25" (``n_points`` points drawn with ``seed``), or a folder of
    images (``image_mode`` "L", "RGB" or None for automatic). ``split`` picks "train" or "test" IDX files.
    """
    key = _ALIASES.get(str(name_or_path).lower())
    if key in TOY_SETS:
        toy = TOY_SETS[key]
        points, labels = toy.sample(int(n_points), np.random.default_rng(seed))
        meta = {"name": key, "kind": "points", "shape": (2,), "num_classes": len(toy.modes),
                "classes": [f"mode {i}" for i in range(len(toy.modes))], "modes": toy.modes, "std": toy.std,
                "source": f"{key}: {n_points} points from {len(toy.modes)} Gaussians (std {toy.std})"}
        return Dataset(points, labels.astype(np.int64), meta)
    if key in ("mnist", "fashion-mnist"):
        if key == "mnist" and data_dir is None and not download:
            images, labels = load_mnist_embedded()
            source = "embedded MNIST subset (5,000 digits, 500 per class; MNIST by LeCun, Cortes, Burges)"
        else:
            images, labels, source = _load_idx(key, data_dir, download, split, cache_dir)
        classes = MNIST_CLASSES if key == "mnist" else FASHION_MNIST_CLASSES
        data = images_to_data_space(images)
        meta = {"name": key, "kind": "images", "shape": data.shape[1:], "num_classes": len(classes),
                "classes": list(classes), "source": source}
        return Dataset(data, labels.astype(np.int64), meta)
    path = str(name_or_path)
    if os.path.isdir(path):
        images, labels, classes = read_image_folder(path, mode=image_mode)
        data = images_to_data_space(images)
        meta = {"name": os.path.basename(os.path.normpath(path)), "kind": "images", "shape": data.shape[1:],
                "num_classes": None if classes is None else len(classes), "classes": classes,
                "source": f"{len(data)} images of {data.shape[3]}x{data.shape[2]} from {path}"}
        return Dataset(data, labels, meta)
    names = "mnist, fashion-mnist, ring8, grid25"
    if os.path.exists(path):
        raise ValueError(f"data set {path} is a file; give the folder that holds the images (or one of {names})")
    if any(sep and sep in path for sep in (os.sep, os.altsep)) or path.startswith((".", "~")):
        raise ValueError(f"data set {path}: no such folder; check the path (or use one of {names})")
    raise ValueError(f"unknown data set {name_or_path!r}: use {names} or the path of a folder of images")
