"""Resizing: ``interpolate`` (PyTorch's modes nearest, nearest-exact, linear, bilinear, bicubic, trilinear
and area, and antialias for bilinear and bicubic), ``adaptive_avg_pool1d``, ``adaptive_avg_pool2d`` and
``adaptive_avg_pool3d``; PyTorch's deprecated aliases ``upsample``, ``upsample_nearest`` and ``upsample_bilinear``.

Every mode is linear in the input and separable. Resizing one axis from n samples to m is y = A x along
that axis, for an (m, n) matrix A whose row i holds the weights that output sample i gives the input
samples: a single 1 (nearest), two weights (linear), four (cubic), 1/len over a window (area), or a
filter stretched over the output's footprint (antialias). So a resize is one matmul per resized axis
with a constant matrix, and its gradients of every order are matmul's own (A^T g). The matrices are
dense, O(m n) work per row where a gather needs O(m taps); at the sizes minigan trains on (28 to 128
pixels a side) the BLAS call is still far quicker than a gather whose backward must scatter-add
(``benchmarks/README.md``, "interpolate"). One consequence: a non-finite input value spreads along its
whole row and column (0 x inf is NaN), where a gather keeps it local; finite inputs are unaffected.

Source positions follow ATen's (``aten/src/ATen/native/UpSample.h``) to the rounding, so results match
PyTorch's: the scale is 1 / scale_factor when a factor is given (and not recomputed), else in / out;
without align_corners output sample i sits at scale (i + 1/2) - 1/2 in the input (clamped at 0 except
for cubic), with it at i (n - 1) / (m - 1). The weights are computed in the input's dtype, as ATen does
for float32 and float64. Antialiased weights follow ATen's ``_compute_indices_min_size_weights_aa``
(``aten/src/ATen/native/cpu/UpSampleKernel.cpp``; see ``_antialias_taps``).

The gradient here is always the adjoint of the forward. PyTorch 2.13's CPU kernels are not always
consistent so: its nearest backward maps m = n and m = 2n exactly in every rank (its 1-D and 3-D
forward does not), its bicubic backward copies when no size changes whatever the factor (its forward
applies the factor), and its antialiased backward resizes an axis whose size is unchanged by a factor
other than 1 (its forward leaves it alone). Its antialiased forward is also wrong for an output one
column wide whose height changes: every row gets row 0's weights (its backward gets them right).
"""
import functools
import math
import warnings

import numpy as np

from minigan import backend
from minigan.functional.arguments import is_int, is_number
from minigan.functional.linear import matmul
from minigan.functional.sampling import upsample_nearest2d
from minigan.functional.shape import as_tensor, checked_input, reshape
from minigan.tensor import Tensor

# The number of spatial axes each mode resizes (None: one to three, from the input's rank).
MODES = {"nearest": None, "nearest-exact": None, "area": None, "linear": 1, "bilinear": 2, "bicubic": 2,
         "trilinear": 3}
INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")
ANTIALIASED = ("bilinear", "bicubic")
LAYOUTS = {1: "3-D (N, C, L)", 2: "4-D (N, C, H, W)", 3: "5-D (N, C, D, H, W)"}  # by number of spatial axes
CUBIC_A = -0.75  # the cubic convolution's free parameter, as ATen and OpenCV set it (Keys 1981 uses -0.5)
AA_CUBIC_A = -0.5  # ATen's with antialias, Keys' own value (as Pillow, whose resampler ATen's aa one follows)


# -- one axis: the (m, n) weight matrix ---------------------------------------------------------

def _scale(n, m, factor, dtype):
    """ATen's compute_scales_value: 1 / factor when the factor is used, else n / m, in ``dtype``."""
    return dtype(1.0 / factor) if factor is not None else dtype(n) / dtype(m)


def nearest_index(n, m, factor, exact, two_d=True, dtype=np.float32):
    """Source index of each of m outputs from n inputs: floor(i s) ("nearest", ATen's legacy rule) or
    floor((i + 1/2) s) ("nearest-exact"). s and the product are computed in ``dtype`` (the input's) and
    the product rounded to float32 before the floor, as ATen's CPU kernels do. ATen's 2-D "nearest"
    (``two_d``) maps m = n and m = 2n exactly, whatever the factor; its 1-D and 3-D kernels do not.

    PyTorch's own kernels are not consistent at the edges, so an index here can differ from PyTorch's
    by one there: where (i + 1/2) s falls on a whole number (1-D and 2-D, float32 and float64 round it
    differently), and in 2-D when a factor other than 1 or 2 gives m = n or m = 2n and the output is
    wide (ATen's vectorised kernel, used from about 96 columns, skips the exact maps). In 12,000 random
    resizes against torch 2.13 (sides up to 64, outputs up to 128), 1 in 150 of the 2-D ones (most of
    them float64) and 1 in 6,000 of the 1-D ones differed so, and none of 7,000 3-D ones (sides up to
    11, outputs up to 29); whole factors never do (``tests/test_interpolation.py`` keeps examples).
    """
    i = np.arange(m)
    if two_d and not exact and m in (n, 2 * n):
        return i * n // m
    dtype = np.dtype(dtype).type
    s = _scale(n, m, factor, dtype)
    pos = (i.astype(dtype) + dtype(0.5 if exact else 0.0)) * s
    return np.minimum(np.floor(pos.astype(np.float32)).astype(np.int64), n - 1)


def _source_scale(n, m, factor, align_corners, dtype):
    """ATen's area_pixel_compute_scale: the input step per output step, (n - 1) / (m - 1) with
    align_corners (0 for m = 1), else as ``_scale``."""
    if align_corners:
        return dtype(n - 1) / dtype(m - 1) if m > 1 else dtype(0)
    return _scale(n, m, factor, dtype)


def _cubic(x, a):
    """Keys' cubic convolution kernel at distances x >= 0 (an array), with free parameter a: 1 at 0,
    0 at 1 and from 2 on."""
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0))


def _taps(mode, n, m, factor, align_corners, dtype, two_d):
    """(index, weight) arrays of shape (m, taps): output i = sum_t weight[i, t] x[index[i, t]]."""
    if mode in ("nearest", "nearest-exact"):
        return nearest_index(n, m, factor, mode == "nearest-exact", two_d, dtype)[:, None], np.ones((m, 1), dtype)
    if mode == "area":
        # Adaptive average pooling: output i averages inputs floor(i n / m) .. ceil((i + 1) n / m) - 1.
        i = np.arange(m)
        start, stop = i * n // m, -(-(i + 1) * n // m)
        width = int((stop - start).max())
        index = start[:, None] + np.arange(width)
        inside = index < stop[:, None]
        weight = np.where(inside, (dtype(1) / (stop - start).astype(dtype))[:, None], dtype(0))
        return np.where(inside, index, 0), weight.astype(dtype)
    cubic = mode == "bicubic"
    if not cubic and m == n:  # ATen leaves an unchanged axis alone (linear modes)
        return np.arange(m)[:, None], np.ones((m, 1), dtype)
    s = _source_scale(n, m, factor, align_corners, dtype)
    i = np.arange(m).astype(dtype)
    pos = s * i if align_corners else s * (i + dtype(0.5)) - dtype(0.5)
    if not (align_corners or cubic):
        pos = np.maximum(pos, dtype(0))
    # ATen's guard_index_and_lambda: the left neighbour, and the fraction of the way to the right one.
    left = np.minimum(np.floor(pos).astype(np.int64), n - 1)
    t = np.clip(pos - left.astype(dtype), dtype(0), dtype(1)).astype(dtype)
    if not cubic:
        right = left + (left < n - 1)
        return np.stack([left, right], 1), np.stack([dtype(1) - t, t], 1).astype(dtype)
    # Taps at left - 1 .. left + 2, clamped to the edge (so the edge sample is repeated, as ATen's bounded
    # access does), at distances t + 1, t, 1 - t and 2 - t.
    weight = _cubic(np.stack([t + 1, t, 1 - t, 2 - t], 1), dtype(CUBIC_A)).astype(dtype)
    return np.clip(left[:, None] + np.arange(-1, 3), 0, n - 1), weight


def _antialias_taps(mode, n, m, factor, align_corners, dtype):
    """(index, weight) arrays of shape (m, taps) for ``antialias=True``: ATen's
    ``_compute_indices_min_size_weights_aa``, which follows Pillow's resampler.

    Input sample j covers [j, j + 1) and output i is centred at c = s (i + 1/2), s the scale of
    ``_source_scale``. The filter k, the triangle 1 - |u| (bilinear) or Keys' cubic with a = -1/2
    (bicubic), is stretched by f = max(s, 1), so its support is r = f h (h = 1 or 2, its half-width):
    output i weighs input j by k((j + 1/2 - c) / f) for j from trunc(c - r + 1/2) to
    trunc(c + r + 1/2) - 1, clipped to the input, the weights divided by their sum. Downsampling
    (s > 1) so averages each output's whole footprint instead of sampling it. Upsampling keeps the
    filter's width but still differs from ``antialias=False``: taps past the border are dropped and the
    rest renormalised (not clamped onto the edge sample), bicubic's a is -1/2, and with align_corners
    the centres are s (i + 1/2), not s i (ATen's rule); only bilinear without align_corners comes out
    the same.
    """
    if m == n:  # ATen skips an axis whose size is unchanged, whatever the scale
        return np.arange(m)[:, None], np.ones((m, 1), dtype)
    s = _source_scale(n, m, factor, align_corners, dtype)
    stretch = max(s, dtype(1))
    support = dtype(2 if mode == "bicubic" else 1) * stretch
    width = 2 * math.ceil(support) + 1  # ATen's max_interp_size: the most taps any output can have
    center = s * (np.arange(m).astype(dtype) + dtype(0.5))
    # astype truncates towards zero as C's cast does (clipped at 0, the same as a floor).
    lo = np.maximum((center - support + dtype(0.5)).astype(np.int64), 0)
    count = np.clip(np.minimum((center + support + dtype(0.5)).astype(np.int64), n) - lo, 0, width)
    index = lo[:, None] + np.arange(width)
    u = np.abs(index.astype(dtype) - center[:, None] + dtype(0.5)) * (dtype(1) / stretch)  # ATen's 1/f, rounded
    weight = _cubic(u, dtype(AA_CUBIC_A)) if mode == "bicubic" else np.maximum(dtype(1) - u, dtype(0))
    # Only the first ``count`` taps of a row are used: the rest (some past the input) weigh 0.
    weight = np.where(np.arange(width) < count[:, None], weight, dtype(0))
    total = weight.sum(axis=1, keepdims=True)
    # Each row divided by its sum (a row summing to 0, were there one, left as it is, as ATen does).
    return np.minimum(index, n - 1), weight / np.where(total != 0, total, dtype(1))


def resize_matrix(mode, n, m, factor=None, align_corners=False, dtype=np.float32, two_d=True, antialias=False):
    """The (m, n) matrix that resizes one axis from n samples to m in ``mode`` (see the module's
    docstring); ``factor`` is the scale factor when ATen would use it, else None; ``two_d`` says the
    axis is one of an image's two (see ``nearest_index``); ``antialias`` (bilinear and bicubic) widens
    the filter when downsampling (see ``_antialias_taps``). Read-only: a layer resizes by the same
    matrices on every call, so they are built once (``_cached_matrix``)."""
    return _cached_matrix(mode, n, m, factor, bool(align_corners), np.dtype(dtype).type, two_d, bool(antialias))


@functools.lru_cache(maxsize=256)
def _cached_matrix(mode, n, m, factor, align_corners, dtype, two_d, antialias):
    if antialias:
        index, weight = _antialias_taps(mode, n, m, factor, align_corners, dtype)
    else:
        index, weight = _taps(mode, n, m, factor, align_corners, dtype, two_d)
    a = np.zeros((m, n), dtype)
    rows = np.broadcast_to(np.arange(m)[:, None], index.shape)
    np.add.at(a, (rows, index), weight)  # taps clamped onto the same edge sample add up (or weigh 0)
    a.flags.writeable = False
    return a


def _resize(x, matrices):
    """Resize x's trailing axes, one (m, n) matrix per axis; an identity leaves its axis alone."""
    for k, a in enumerate(matrices):
        if a.shape[0] == a.shape[1] and np.array_equal(a, np.eye(len(a), dtype=a.dtype)):
            continue
        axis = x.ndim - len(matrices) + k
        after = tuple(x.shape[axis + 1:])
        if not after:  # the last axis: y = x A^T
            x = matmul(x, Tensor._wrap(backend.to_device(a.T, x.device)))
            continue
        # y = A x, with the axes after this one flattened into x's columns (matmul broadcasts over the
        # axes before it; the flattening is a no-op for the axis before the last).
        before = tuple(x.shape[:axis])
        columns = reshape(x, before + (x.shape[axis], math.prod(after)))
        x = reshape(matmul(Tensor._wrap(backend.to_device(a, x.device)), columns), before + (len(a),) + after)
    return x


# -- arguments, as torch.nn.functional.interpolate takes them -------------------------------------

def _positive_int(v):
    return is_int(v) and v > 0


def _positive_number(v):
    return is_number(v) and 0 < v < math.inf


def _check_values(op, name, value, good):
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not values or not all(good(v) for v in values):
        kind = "a positive int" if good is _positive_int else "a positive number"
        raise ValueError(f"{op}: {name} must be {kind} or a sequence of them (one per spatial axis), "
                         f"got {name}={value!r}")


def check_interpolate_args(op, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias=False):
    """Check ``interpolate``'s arguments that do not depend on the input, naming ``op``; return
    align_corners resolved (False for the interpolating modes when not given)."""
    if mode not in MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(map(repr, MODES))}, got mode={mode!r}")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor, got size={size!r} and "
                         f"scale_factor={scale_factor!r}")
    if size is not None:
        _check_values(op, "size", size, _positive_int)
    else:
        _check_values(op, "scale_factor", scale_factor, _positive_number)
    if recompute_scale_factor and size is not None:
        raise ValueError(f"{op}: recompute_scale_factor has no meaning with an explicit size={size!r}")
    if antialias and mode not in ANTIALIASED:
        raise ValueError(f"{op}: antialias=True needs mode {' or '.join(map(repr, ANTIALIASED))} (4-D input), "
                         f"got mode={mode!r} (as in PyTorch)")
    if mode in INTERPOLATING:
        return bool(align_corners)
    if align_corners is not None:
        raise ValueError(f"{op}: align_corners={align_corners!r} can only be set with the interpolating modes "
                         f"{', '.join(INTERPOLATING)}, not mode={mode!r} (as in PyTorch)")
    return None


def _output_size(op, x, size, scale_factor, mode, recompute):
    """(sizes, factors): the output's spatial sizes, and the scale factors ATen would use (None each
    where it uses in / out instead: an explicit size, a recomputed factor, or mode area)."""
    spatial = x.shape[2:]
    name, value = ("size", size) if size is not None else ("scale_factor", scale_factor)
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * len(spatial)
    if len(values) != len(spatial):
        raise ValueError(f"{op}: {name}={value!r} gives {len(values)} values for input of shape {tuple(x.shape)}, "
                         f"which has {len(spatial)} spatial axes")
    if size is not None:
        return tuple(int(v) for v in values), (None,) * len(spatial)
    sizes = tuple(math.floor(n * float(f)) for n, f in zip(spatial, values))
    if min(sizes) < 1:
        raise ValueError(f"{op}: scale_factor={scale_factor!r} shrinks input of shape {tuple(x.shape)} to "
                         f"spatial size {sizes}; every output size must be at least 1")
    if recompute or mode == "area":
        return sizes, (None,) * len(spatial)
    return sizes, tuple(float(f) for f in values)


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resize the spatial axes of x, as ``torch.nn.functional.interpolate``.

    x is (N, C, L), (N, C, H, W) or (N, C, D, H, W) for modes nearest, nearest-exact and area; (N, C, L)
    for linear, (N, C, H, W) for bilinear and bicubic, (N, C, D, H, W) for trilinear. Give either
    ``size`` (an int, or one per spatial axis) or ``scale_factor`` (a number, or one per axis; the output
    is floor(n f) samples). ``align_corners`` (linear, bilinear, bicubic and trilinear only; default
    False) maps the corner samples of input and output onto each other instead of their outer edges.
    ``recompute_scale_factor=True`` places the samples by in / out instead of 1 / scale_factor.
    ``antialias=True`` (bilinear and bicubic only) widens the filter by the scale when downsampling, so
    each output averages its whole footprint instead of sampling it (as Pillow; see ``_antialias_taps``).

    Whole-number nearest upscaling of 4-D input copies each pixel into a block (``upsample_nearest2d``);
    every other case is a matmul per axis (see the module's docstring).
    """
    op = "interpolate"
    align_corners = check_interpolate_args(op, size, scale_factor, mode, align_corners, recompute_scale_factor,
                                           antialias)
    x = as_tensor(x)
    if x.ndim - 2 not in LAYOUTS:
        *first, last = LAYOUTS.values()
        raise ValueError(f"{op}: input must be {', '.join(first)} or {last}, got shape {tuple(x.shape)}")
    if MODES[mode] not in (None, x.ndim - 2):
        raise ValueError(f"{op}: mode={mode!r} needs {LAYOUTS[MODES[mode]]} input, got shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype} (shape {tuple(x.shape)})")
    sizes, factors = _output_size(op, x, size, scale_factor, mode, recompute_scale_factor)
    spatial = x.shape[2:]

    if mode in ("nearest", "nearest-exact") and x.ndim == 4:
        blocks = [m // n if m % n == 0 else 0 for n, m in zip(spatial, sizes)]
        if all(f and np.array_equal(nearest_index(n, m, g, mode == "nearest-exact", dtype=x.dtype), np.arange(m) // f)
               for n, m, f, g in zip(spatial, sizes, blocks, factors)):
            return upsample_nearest2d(x, tuple(blocks))

    return _resize(x, [resize_matrix(mode, n, m, f, align_corners, x.dtype, two_d=x.ndim == 4, antialias=antialias)
                       for n, m, f in zip(spatial, sizes, factors)])


def adaptive_output_size(op, output_size, dims):
    """``output_size`` (an int, or one per spatial axis with None keeping that axis) as a checked tuple of
    ``dims`` entries, naming ``op``. As in PyTorch, the 1-D pool takes no None: its one axis is the
    output's whole size."""
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * dims
    if dims == 1:
        if len(sizes) != 1 or not _positive_int(sizes[0]):
            raise ValueError(f"{op}: output_size must be a positive int or a 1-tuple of one, got {output_size!r}")
    elif len(sizes) != dims or not all(v is None or _positive_int(v) for v in sizes):
        several = {2: "a pair", 3: "a triple"}[dims]
        raise ValueError(f"{op}: output_size must be a positive int or {several} of them (None keeps an axis), "
                         f"got {output_size!r}")
    return sizes


def _adaptive_avg_pool(op, x, output_size, axes):
    """Area resizing of x's trailing spatial ``axes`` (their names) to ``output_size``, batched or not."""
    x = as_tensor(x)
    checked_input(op, x, ("C",) + axes, batched_first=True, empty=None)
    spatial = x.shape[-len(axes):]
    sizes = tuple(int(n if v is None else v) for n, v in zip(spatial, adaptive_output_size(op, output_size, len(axes))))
    return _resize(x, [resize_matrix("area", n, m, dtype=x.dtype) for n, m in zip(spatial, sizes)])


def adaptive_avg_pool1d(x, output_size):
    """Average over windows that tile the last axis: (N, C, L) -> (N, C, ol), or unbatched (C, L) -> (C, ol),
    as ``torch.nn.functional.adaptive_avg_pool1d``. Output i averages inputs floor(i L / ol) ..
    ceil((i + 1) L / ol) - 1; ``output_size`` is an int or a 1-tuple (not None, as in PyTorch)."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", x, output_size, ("L",))


def adaptive_avg_pool2d(x, output_size):
    """Average over windows that tile the input: (N, C, H, W) -> (N, C, oh, ow), or unbatched
    (C, H, W) -> (C, oh, ow), as ``torch.nn.functional.adaptive_avg_pool2d``. Output row i averages
    input rows floor(i H / oh) .. ceil((i + 1) H / oh) - 1 (likewise columns); ``output_size`` is an int
    or a pair, None in it keeping that axis's size."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", x, output_size, ("H", "W"))


def adaptive_avg_pool3d(x, output_size):
    """``adaptive_avg_pool2d`` over three axes: (N, C, D, H, W) -> (N, C, od, oh, ow), or unbatched
    (C, D, H, W) -> (C, od, oh, ow), as ``torch.nn.functional.adaptive_avg_pool3d``; ``output_size`` is an
    int or a triple, None in it keeping that axis's size."""
    return _adaptive_avg_pool("adaptive_avg_pool3d", x, output_size, ("D", "H", "W"))


def _deprecated(name):
    # PyTorch warns on every call of these aliases (a UserWarning naming the alias); so do we.
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate(input, size, scale_factor, mode, align_corners)``, as
    ``torch.nn.functional.upsample`` (which warns, as this does)."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated alias of ``interpolate(input, size, scale_factor, mode="nearest")``, as
    ``torch.nn.functional.upsample_nearest`` (which warns, as this does)."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated alias of ``interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)``
    for (N, C, H, W) input, as ``torch.nn.functional.upsample_bilinear`` (which warns, as this does):
    note the corners are aligned, unlike interpolate's default."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
