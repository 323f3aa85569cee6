"""Reading the IDX files that MNIST and Fashion-MNIST are distributed in, gzipped or not.

The IDX format (described on http://yann.lecun.com/exdb/mnist/): two zero bytes, one byte naming the
element type, one byte giving the number of dimensions, then each dimension as a big-endian uint32,
then the elements in row-major order, big-endian. MNIST's image files have the magic number 0x00000803
(unsigned bytes, 3 dimensions: count, rows, columns) and its label files 0x00000801 (unsigned bytes,
1 dimension). Every check below names the file and what is wrong with it, because a wrong or half
downloaded file is the usual way this goes wrong.
"""
import gzip
import math
import os
import zlib

import numpy as np

# Element type byte -> big-endian NumPy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"

# The file names of the standard distributions (Fashion-MNIST reuses MNIST's names).
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _read_bytes(path):
    """The file's bytes, decompressed when it is gzipped (recognised by its magic, not its name)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"IDX file {path}: the gzip stream is damaged or truncated ({exc}); "
                         "delete the file and download it again") from None


def read_idx(path, ndim=None):
    """Read one IDX file (plain or gzipped) into a NumPy array of its native element type.

    Raises ValueError naming the file when the header is malformed, the element type unknown, the
    number of dimensions not ``ndim`` (when given), or the data shorter or longer than the header
    promises.
    """
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"IDX file {path}: only {len(data)} bytes, too short for the 4-byte magic number")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(f"IDX file {path}: bad magic number 0x{data[:4].hex()} "
                         "(an IDX file starts with two zero bytes); is this really an IDX file?")
    type_code, found_ndim = data[2], data[3]
    if ndim is not None and found_ndim != ndim:
        raise ValueError(f"IDX file {path}: magic number 0x{data[:4].hex()} gives {found_ndim} dimension(s), not "
                         f"the {ndim} dimension(s) this file should have (magic 0x0000080{ndim}); is it the other "
                         "file of the pair, renamed?")
    ndim = found_ndim
    if type_code not in IDX_DTYPES:
        raise ValueError(f"IDX file {path}: unknown element type 0x{type_code:02x} in magic number "
                         f"0x{data[:4].hex()}; known: " + ", ".join(f"0x{c:02x}" for c in IDX_DTYPES))
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"IDX file {path}: truncated header ({len(data)} bytes, {ndim} dimensions need "
                         f"{header})")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a damaged header cannot overflow it
    found = len(data) - header
    if found < expected:
        raise ValueError(f"IDX file {path}: truncated: shape {shape} needs {expected} bytes of data, "
                         f"found {found}; delete the file and download it again")
    if found > expected:
        raise ValueError(f"IDX file {path}: {found - expected} unexpected bytes after the data of "
                         f"shape {shape}; the file is damaged")
    array = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return array.reshape(shape).astype(dtype.newbyteorder("="))


def find_idx_file(folder, stem):
    """The path of ``stem`` or ``stem.gz`` in ``folder``; FileNotFoundError naming both when absent."""
    for name in (stem, stem + ".gz"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"no {stem} or {stem}.gz in {folder}")


def read_idx_dataset(folder, split="train"):
    """Images and labels of MNIST or Fashion-MNIST from a folder of IDX files.

    ``folder`` holds ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (``t10k-...`` for
    ``split="test"``), each gzipped (``.gz``) or not. Returns uint8 images (N, H, W) and uint8 labels
    (N,), after checking their types, dimensions and that the counts agree.
    """
    if split not in IDX_FILES:
        raise ValueError(f"read_idx_dataset: split must be one of {sorted(IDX_FILES)}, got {split!r}")
    image_stem, label_stem = IDX_FILES[split]
    image_path = find_idx_file(folder, image_stem)
    label_path = find_idx_file(folder, label_stem)
    images = read_idx(image_path, ndim=3)
    labels = read_idx(label_path, ndim=1)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"IDX file {image_path}: expected unsigned bytes of 3 dimensions (magic 0x00000803), "
                         f"found {images.dtype} of shape {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(f"IDX file {label_path}: expected unsigned bytes of 1 dimension (magic 0x00000801), "
                         f"found {labels.dtype} of shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"IDX files disagree: {image_path} holds {len(images)} images but {label_path} "
                         f"holds {len(labels)} labels")
    if len(images) == 0:
        raise ValueError(f"IDX file {image_path}: holds no images")
    return images, labels


def write_idx(path, array):
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in ``.gz``); the inverse of read_idx."""
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"write_idx: IDX cannot hold dtype {array.dtype}; use one of "
                         + ", ".join(str(d.newbyteorder('=')) for d in IDX_DTYPES.values()))
    payload = (bytes([0, 0, codes[native], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
               + array.astype(IDX_DTYPES[codes[native]]).tobytes())
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)
