"""Files a run writes: checkpoints, image grids, animations, loss logs (and, from minigan.plots, charts).

Checkpoints are one ``.npz`` file read with ``allow_pickle=False``, so loading one never runs code from
it. Nested state (``{"G": G.state_dict(), "optD": optD.state_dict(), ...}``) is flattened by
``pack_state``: every array is stored under a key naming its path (``G/main.0.weight``,
``optD/state/3/exp_avg``), and everything else (numbers, strings, lists such as an optimiser's
``param_groups``) goes into one JSON document stored beside the arrays, together with the caller's
metadata (configuration, iteration, RNG state). Every file here is written to a temporary file in the
destination folder and renamed into place (``os.replace`` is atomic on POSIX and Windows), so a crash
mid-write leaves the previous file intact and never a half-written one.
"""
import contextlib
import csv
import json
import os
import tempfile
import zipfile

import numpy as np

from minigan import backend
from minigan.plots import draw_losses, draw_points, load_font, pillow
from minigan.tensor import Tensor

CHECKPOINT_FORMAT = "minigan-checkpoint"
CHECKPOINT_VERSION = 1
_META_KEY = "__meta__"
# Markers in the JSON tree; ordinary dict keys of this shape are refused so they cannot be confused.
_ARRAY, _SCALAR, _TUPLE, _PAIRS = "__array__", "__scalar__", "__tuple__", "__pairs__"


# -- atomic writes ----------------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file beside ``path``; on success it replaces ``path``, on error it vanishes."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    # mkstemp makes the file private (0600); give it the permissions open() would have.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_json(path, obj):
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_write(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write("\n")


# -- packing nested state ---------------------------------------------------------------------------
def _to_numpy(array):
    return backend.to_device(array, "cpu")


def pack_state(state):
    """Split nested state into ``(arrays, tree)``: a flat dict of NumPy arrays and a JSON-able tree.

    ``state`` is built of dicts (any str or int keys), lists, tuples, NumPy or CuPy arrays, NumPy
    scalars, and JSON values (numbers, strings, booleans, None). Each array is stored in ``arrays``
    under its path joined by "/" and replaced in the tree by ``{"__array__": key}``; NumPy scalars
    keep their dtype the same way. Dicts with non-string keys (an optimiser's per-parameter state)
    and tuples are tagged so that ``unpack_state`` rebuilds exactly what was packed.
    """
    arrays = {}

    def store(path, array):
        key = "/".join(path)
        if key in arrays or key == _META_KEY or not key:
            raise ValueError(f"pack_state: cannot store an array under the key {key!r} (empty, reserved, "
                             "or two paths such as 1 and '1' that read the same)")
        arrays[key] = array
        return key

    def walk(node, path):
        where = "/".join(path) or "<root>"
        if isinstance(node, np.ndarray) or backend.is_cupy_array(node):
            return {_ARRAY: store(path, _to_numpy(node))}
        if isinstance(node, np.generic):
            return {_SCALAR: store(path, np.asarray(node))}
        if isinstance(node, dict):
            for k in node:
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise TypeError(f"pack_state: at {where}: keys must be str or int, got {k!r}")
                if isinstance(k, str) and (k.startswith("__") and k.endswith("__") or "/" in k):
                    raise ValueError(f"pack_state: at {where}: the key {k!r} is reserved "
                                     "(no '/' and no __dunder__ keys)")
            children = {k: walk(v, path + [str(k)]) for k, v in node.items()}
            if all(isinstance(k, str) for k in node):
                return children
            return {_PAIRS: [[k, v] for k, v in children.items()]}
        if isinstance(node, (list, tuple)):
            items = [walk(v, path + [str(i)]) for i, v in enumerate(node)]
            return {_TUPLE: items} if isinstance(node, tuple) else items
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        raise TypeError(f"pack_state: at {where}: cannot store a {type(node).__name__} in a checkpoint "
                        "(arrays, numbers, strings, lists, tuples and dicts only)")

    tree = walk(state, [])
    return arrays, tree


def unpack_state(arrays, tree):
    """The inverse of ``pack_state``: rebuild the nested state from ``arrays`` and ``tree``."""
    def walk(node):
        if isinstance(node, dict):
            if _ARRAY in node:
                return arrays[node[_ARRAY]]
            if _SCALAR in node:
                return arrays[node[_SCALAR]][()]
            if _TUPLE in node:
                return tuple(walk(v) for v in node[_TUPLE])
            if _PAIRS in node:
                return {k: walk(v) for k, v in node[_PAIRS]}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(tree)


# -- checkpoints ------------------------------------------------------------------------------------
def save_checkpoint(path, state, metadata=None):
    """Write ``state`` (nested dicts of arrays and values) and ``metadata`` (JSON-able) to ``path``.

    The file is an uncompressed ``.npz``: one ``.npy`` member per array plus the member ``__meta__``
    holding the JSON document (format, version, metadata, state tree) as UTF-8 bytes. Written
    atomically: a failure at any point leaves an existing file at ``path`` untouched.
    """
    arrays, tree = pack_state(state)
    document = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
                "metadata": metadata if metadata is not None else {}, "state": tree}
    try:
        text = json.dumps(document)
    except TypeError as exc:
        raise TypeError(f"save_checkpoint: metadata must be JSON-able ({exc})") from None
    members = dict(arrays)
    members[_META_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    with atomic_write(path) as f:
        np.savez(f, **members)
    return path


def load_checkpoint(path):
    """Read a checkpoint written by ``save_checkpoint``; returns ``(state, metadata)``.

    Raises FileNotFoundError when there is no such file and ValueError naming the file when it is
    truncated, corrupted or not a minigan checkpoint.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _META_KEY not in archive.files:
                raise ValueError("it holds no minigan metadata")
            # Reading every member checks every member's CRC, so damage anywhere is found here.
            members = {name: archive[name] for name in archive.files}
        document = json.loads(members.pop(_META_KEY).tobytes().decode("utf-8"))
        if not isinstance(document, dict) or document.get("format") != CHECKPOINT_FORMAT:
            raise ValueError("its metadata is not that of a minigan checkpoint")
        if document.get("version") != CHECKPOINT_VERSION:
            raise ValueError(f"it has format version {document.get('version')}, this minigan reads "
                             f"version {CHECKPOINT_VERSION}")
        state = unpack_state(members, document["state"])
    except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        if "allow_pickle" in str(exc):  # NumPy's advice to load it unsafely is not advice to pass on
            detail = "it holds pickled objects, which a minigan checkpoint never does"
        elif isinstance(exc, KeyError):
            detail = f"the array {exc} is missing"
        else:
            detail = str(exc) or type(exc).__name__
        raise ValueError(f"cannot read checkpoint {path}: {detail} (the file is truncated, corrupted or not a "
                         "minigan checkpoint; restore it from a copy, or start a new run)") from None
    return state, document["metadata"]


# -- image grids and animations ---------------------------------------------------------------------
def to_uint8_images(images):
    """(N, C, H, W) floats in [-1, 1] (array or Tensor, any device) -> uint8 (N, H, W, C)."""
    images = images.numpy() if isinstance(images, Tensor) else _to_numpy(images)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"image grid: expected images (N, C, H, W) with C = 1 or 3, got shape {images.shape}")
    scaled = np.rint((np.clip(images.astype(np.float32), -1.0, 1.0) + 1.0) * 127.5)
    return scaled.astype(np.uint8).transpose(0, 2, 3, 1)


def make_grid(images, nrow=8, padding=2, pad_value=-1.0):
    """Tile images (N, C, H, W) in [-1, 1] into one uint8 picture (H', W') or (H', W', 3).

    ``nrow`` images per row as in torchvision; ``padding`` pixels around every tile, filled with
    ``pad_value`` (in data space: -1 black, 1 white).
    """
    tiles = to_uint8_images(images)
    n, h, w, c = tiles.shape
    if n == 0:
        raise ValueError("image grid: no images to tile")
    if nrow < 1 or padding < 0:
        raise ValueError(f"image grid: nrow must be at least 1 and padding at least 0, got {nrow}, {padding}")
    cols = min(nrow, n)
    rows = -(-n // cols)
    fill = np.uint8(np.rint((np.clip(pad_value, -1.0, 1.0) + 1.0) * 127.5))
    grid = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, c), fill, dtype=np.uint8)
    for i in range(n):
        top = padding + (i // cols) * (h + padding)
        left = padding + (i % cols) * (w + padding)
        grid[top:top + h, left:left + w] = tiles[i]
    return grid[..., 0] if c == 1 else grid


def _save_picture(path, picture, **params):
    """Save a PIL image atomically, in the format its file extension names."""
    fmt = {".png": "PNG", ".gif": "GIF", ".jpg": "JPEG", ".jpeg": "JPEG"}.get(os.path.splitext(path)[1].lower())
    if fmt is None:
        raise ValueError(f"cannot tell the picture format of {path}: use .png, .gif or .jpg")
    with atomic_write(path) as f:
        picture.save(f, format=fmt, **params)
    return path


def save_image_grid(path, images, nrow=8, padding=2, pad_value=-1.0, scale=1):
    """Save images (N, C, H, W) in [-1, 1] as one grid picture; ``scale`` enlarges it (nearest pixel)."""
    Image, _, _ = pillow()
    picture = Image.fromarray(make_grid(images, nrow=nrow, padding=padding, pad_value=pad_value))
    if scale != 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    return _save_picture(path, picture)


def save_gif(path, frames, duration_ms=200, last_frame_ms=2000, captions=None, scale=1):
    """Save an animated GIF of ``frames`` (uint8 pictures such as ``make_grid`` returns), looping.

    ``captions`` (one string per frame, e.g. the iteration) are written in a strip above each frame;
    the last frame is held for ``last_frame_ms`` so the final result can be seen.
    """
    Image, ImageDraw, _ = pillow()
    frames = list(frames)
    if not frames:
        raise ValueError("save_gif: no frames")
    if captions is not None and len(captions) != len(frames):
        raise ValueError(f"save_gif: {len(frames)} frames but {len(captions)} captions")
    pictures = []
    for i, frame in enumerate(frames):
        picture = Image.fromarray(np.asarray(frame, dtype=np.uint8)).convert("RGB")
        if scale != 1:
            picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
        if captions is not None:
            font = load_font(14)
            strip = 22
            framed = Image.new("RGB", (picture.width, picture.height + strip), (255, 255, 255))
            framed.paste(picture, (0, strip))
            ImageDraw.Draw(framed).text((6, 3), str(captions[i]), fill=(30, 30, 30), font=font)
            picture = framed
        pictures.append(picture)
    durations = [duration_ms] * (len(pictures) - 1) + [last_frame_ms]
    return _save_picture(path, pictures[0], save_all=True, append_images=pictures[1:], duration=durations,
                         loop=0, optimize=False)


def plot_losses(path, log, series=None, step_key="iteration", **options):
    """Save a loss chart from a loss log (``{column: values}``, as ``read_csv_log`` returns).

    ``series`` maps the columns to draw to their legend labels (default: D and G losses). Drawn by
    ``minigan.plots.draw_losses``: raw and smoothed lines, axes, ticks, legend.
    """
    series = series or {"d_loss": "D loss", "g_loss": "G loss"}
    missing = [k for k in [step_key, *series] if k not in log]
    if missing:
        raise ValueError(f"plot_losses: the log has no column {missing[0]!r} (it has {sorted(log)})")
    return _save_picture(path, draw_losses(log[step_key], {label: log[k] for k, label in series.items()},
                                           **options))


def plot_points(path, points, modes=None, std=None, **options):
    """Save a scatter plot of 2-D points with the real modes ringed (``minigan.plots.draw_points``)."""
    return _save_picture(path, draw_points(points, modes=modes, std=std, **options))


# -- loss logs --------------------------------------------------------------------------------------
class CsvLog:
    """Append rows of numbers to a CSV file, one per logged iteration, flushed as they come.

    With ``keep_until=k`` an existing file is kept (a resumed run) minus the rows whose first column
    (the iteration) is above ``k``: those were logged after the checkpoint the run resumes from and
    will be logged again; a row torn by a crash (too few fields) is dropped too. Without it, an
    existing file is replaced.
    """

    def __init__(self, path, fieldnames, keep_until=None):
        self.path = path
        self.fieldnames = list(fieldnames)
        kept = []
        if keep_until is not None and os.path.isfile(path):
            with open(path, newline="", encoding="utf-8") as f:
                reader = csv.reader(f)
                header = next(reader, None)
                if header is not None and header != self.fieldnames:
                    raise ValueError(f"{path} has columns {header}, expected {self.fieldnames}")
                kept = [row for row in reader if len(row) == len(self.fieldnames) and float(row[0]) <= keep_until]
        with atomic_write(path, "w") as f:
            writer = csv.writer(f)
            writer.writerow(self.fieldnames)
            writer.writerows(kept)
        self._file = open(path, "a", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._file, fieldnames=self.fieldnames)

    def write(self, row):
        """Append one row (a dict keyed by the field names) and flush it to disk."""
        self._writer.writerow({k: _csv_value(v) for k, v in row.items()})
        self._file.flush()

    def close(self):
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _csv_value(value):
    if isinstance(value, (float, np.floating)):
        return repr(float(value))  # shortest round-tripping text
    return value


def read_csv_log(path):
    """A CSV log as ``{column: float64 array}``, skipping a last row torn by a crash."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path} is empty: no header row")
        rows = [row for row in reader if len(row) == len(header)]
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(header))
    return {name: values[:, i] for i, name in enumerate(header)}


__all__ = ["atomic_write", "save_json", "pack_state", "unpack_state", "save_checkpoint", "load_checkpoint",
           "to_uint8_images", "make_grid", "save_image_grid", "save_gif", "plot_losses", "plot_points",
           "CsvLog", "read_csv_log"]
