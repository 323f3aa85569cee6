"""Adaptive max pooling: ``adaptive_max_pool1d``, ``adaptive_max_pool2d`` and ``adaptive_max_pool3d``, with
PyTorch's semantics.

Along an axis of input size L pooled to O outputs, output i is the maximum over the window
[floor(i L / O), ceil((i + 1) L / O)): the windows tile the axis, overlapping by one element where L / O
is not whole, and repeating elements when O > L. Over several axes a window is the product of one window
per axis, and its elements are taken in row-major order ("window order").

How it is computed, without a loop over output cells: each axis gets an (O, K) table of the input
positions its windows cover, K the longest window, a shorter window padded by repeating its last
position (the maximum is unchanged by a repeat). The tables combine into one (P, K) table of flat
positions in an input plane (P outputs, K = K1 K2 ... elements a window), built once per pair of sizes.
One gather ``take(x, table)`` lays every window out as a row, and ``argmax`` along the rows finds the
maxima for the whole batch at once. A row visits its window's positions in window order, repeats included:
each axis's positions never decrease along its table's row, so the row's flat positions never decrease
either. The first maximum (and the last NaN) in a padded row is therefore the one PyTorch's loop finds
in window order: an element that comes earlier (later) in the window sits earlier (later) in the row.

The gradient sends each output's gradient to its window's maximum (``_ScatterToMaxima``, adding where
windows share a maximum), and that scatter's own gradient gathers at the same positions
(``_GatherAtMaxima``): the two are each other's adjoint, so gradients of every order work.
"""
import functools
import math

import numpy as np

from minigan import backend
from minigan.function import Function
from minigan.functional.interpolation import adaptive_output_size
from minigan.functional.shape import SPATIAL_AXES, as_tensor, batched_input, reshape
from minigan.tensor import Tensor


def window_table(size, out):
    """(out, K) host array: the input positions of the windows of one axis of ``size`` pooled to ``out``;
    window i covers floor(i size / out) .. ceil((i + 1) size / out) - 1, a short window padded with its
    last position. K is the longest window's length."""
    i = np.arange(out)
    start, stop = i * size // out, -(-(i + 1) * size // out)
    width = int((stop - start).max())
    return np.minimum(start[:, None] + np.arange(width), stop[:, None] - 1)


@functools.lru_cache(maxsize=128)
def plane_table(spatial, sizes):
    """(P, K) int64 host array (read-only): for each of the P = prod(sizes) outputs of an input plane of
    shape ``spatial``, the flat positions (row-major in the plane) of its window's K elements, in window
    order, padded as ``window_table`` pads. Also whether the windows are disjoint (every axis splits
    evenly), so that no two outputs can share a maximum."""
    dims = len(spatial)
    strides = [math.prod(spatial[a + 1:]) for a in range(dims)]
    flat = np.zeros((1,) * (2 * dims), dtype=np.int64)
    for a, (n, m) in enumerate(zip(spatial, sizes)):
        t = window_table(n, m)
        shape = [1] * (2 * dims)
        shape[a], shape[dims + a] = t.shape  # the output index on axis a, the window offset on axis dims + a
        flat = flat + (t * strides[a]).reshape(shape)
    table = np.ascontiguousarray(flat.reshape(math.prod(sizes), -1))
    table.flags.writeable = False
    return table, all(n % m == 0 for n, m in zip(spatial, sizes))


class AdaptiveMaxPool(Function):
    """y = the maximum of each window of x (N, C, *spatial), as PyTorch's kernels compute it: the first
    maximum in window order, or where the window holds NaN its last NaN (PyTorch's loop takes a value
    greater than the maximum so far, or NaN). y is x's element there, bit for bit.

    Saved for backward: ``index``, the flat position of each maximum in its plane (N, C, P), int64; it is
    also what ``return_indices`` hands out. The gradient needs neither x nor y.
    """

    def __init__(self, sizes):
        self.sizes = sizes

    def forward(self, x):
        xp = backend.get_array_module(x)
        n, c, spatial = x.shape[0], x.shape[1], tuple(x.shape[2:])
        table, self.disjoint = plane_table(spatial, self.sizes)
        table = backend.to_device(table, backend.device_of(x))
        planes = x.reshape(n, c, math.prod(spatial))  # a view where x is contiguous (-1 fails for n c = 0)
        windows = xp.take(planes, table, axis=2)  # (N, C, P, K): each output's window as a row
        arg = windows.argmax(axis=-1)  # the first maximum in window order
        if xp.isnan(planes).any():
            # Where a window holds NaN PyTorch reports its last NaN: the first in the reversed row.
            nan = xp.isnan(windows)
            last = (windows.shape[-1] - 1) - nan[..., ::-1].argmax(axis=-1)
            arg = xp.where(nan.any(axis=-1), last, arg)
        y = xp.take_along_axis(windows, arg[..., None], axis=-1)[..., 0]
        rows = xp.arange(table.shape[0])
        self.index = table[rows, arg]  # (N, C, P) flat positions in the plane, int64
        self.in_shape = x.shape
        return y.reshape((n, c) + self.sizes)

    def backward(self, gy):
        return _ScatterToMaxima(self.index, self.in_shape, self.disjoint).apply(gy)


class _ScatterToMaxima(Function):
    """gx = gy (N, C, *out) sent to each window's maximum in zeros of x's shape, gradients of outputs that
    share a maximum adding up: the adjoint of gathering at ``index``, and linear in gy, so its backward
    is that gather. Disjoint windows (every axis divides evenly) share no maximum, so one indexed
    assignment does; otherwise ``add.at`` on one flat index (NumPy's fast path), one call for the whole
    batch either way."""

    def __init__(self, index, in_shape, disjoint):
        self.index, self.in_shape, self.disjoint = index, in_shape, disjoint

    def forward(self, gy):
        xp = backend.get_array_module(gy)
        self.out_shape = gy.shape
        n, c = self.in_shape[:2]
        plane = math.prod(self.in_shape[2:])
        # Each (n, c) plane's positions moved to its place in the flattened gx.
        flat = (self.index + (xp.arange(n * c, dtype=np.int64) * plane).reshape(n, c, 1)).reshape(-1)
        gx = xp.zeros(n * c * plane, dtype=gy.dtype)
        if self.disjoint:
            gx[flat] = gy.reshape(-1)
        else:
            xp.add.at(gx, flat, gy.reshape(-1))
        return gx.reshape(self.in_shape)

    def backward(self, ggx):
        return _GatherAtMaxima(self.index, self.out_shape, self.disjoint).apply(ggx)


class _GatherAtMaxima(Function):
    """y = x (N, C, *spatial) at each window's saved maximum ``index``: what adaptive max pooling computes
    with the positions fixed, linear in x, the adjoint of ``_ScatterToMaxima`` (its backward)."""

    def __init__(self, index, out_shape, disjoint):
        self.index, self.out_shape, self.disjoint = index, out_shape, disjoint

    def forward(self, x):
        xp = backend.get_array_module(x)
        n, c = x.shape[:2]
        self.in_shape = x.shape
        planes = x.reshape(n, c, math.prod(x.shape[2:]))
        return xp.take_along_axis(planes, self.index, axis=2).reshape(self.out_shape)

    def backward(self, gy):
        return _ScatterToMaxima(self.index, self.in_shape, self.disjoint).apply(gy)


def _adaptive_max_pool(op, x, output_size, return_indices, dims):
    x = as_tensor(x)
    shape = tuple(x.shape)
    # As in PyTorch, only the leading axis (the batch, or an unbatched input's channels) may be empty.
    x, batched = batched_input(op, x, ("C",) + SPATIAL_AXES[dims], batched_first=True, empty="leading")
    try:
        requested = adaptive_output_size(op, output_size, dims)
    except ValueError as exc:
        raise ValueError(f"{exc} (input of shape {shape})") from None
    spatial = tuple(int(s) for s in shape[-dims:])
    sizes = tuple(n if v is None else int(v) for n, v in zip(spatial, requested))
    fn = AdaptiveMaxPool(sizes)
    y = fn.apply(x)
    if not batched:
        y = reshape(y, tuple(y.shape[1:]))
    if not return_indices:
        return y
    # A copy: the backward keeps fn.index, which changing the indices handed out must not change.
    return y, Tensor._wrap(fn.index.reshape(y.shape).copy())


def adaptive_max_pool1d(x, output_size, return_indices=False):
    """Maximum over windows that tile the last axis: (N, C, L) -> (N, C, ol), or unbatched (C, L) ->
    (C, ol), as ``torch.nn.functional.adaptive_max_pool1d``.

    y[..., i] = max of x[..., j] for floor(i L / ol) <= j < ceil((i + 1) L / ol); ``output_size`` is an
    int or a 1-tuple (not None, as in PyTorch). Ties go to the first maximum; NaN propagates (the last
    NaN of a window is reported). With ``return_indices`` the result is (y, indices), indices the int64
    position j of each maximum, as PyTorch's. The gradient goes to each window's maximum (windows that
    share one add up), and is differentiable again.
    """
    return _adaptive_max_pool("adaptive_max_pool1d", x, output_size, return_indices, 1)


def adaptive_max_pool2d(x, output_size, return_indices=False):
    """Maximum over windows that tile the input: (N, C, H, W) -> (N, C, oh, ow), or unbatched
    (C, H, W) -> (C, oh, ow), as ``torch.nn.functional.adaptive_max_pool2d``.

    y[..., i, j] = max of x[..., r, q] for floor(i H / oh) <= r < ceil((i + 1) H / oh) and
    floor(j W / ow) <= q < ceil((j + 1) W / ow); ``output_size`` is an int or a pair, None in it keeping
    that axis's size. Ties go to the first maximum in window order (row by row); NaN propagates. With
    ``return_indices`` the result is (y, indices), indices the int64 flat position r W + q of each maximum
    in its (H, W) plane, as PyTorch's. The gradient goes to each window's maximum (windows that share
    one add up), and is differentiable again.
    """
    return _adaptive_max_pool("adaptive_max_pool2d", x, output_size, return_indices, 2)


def adaptive_max_pool3d(x, output_size, return_indices=False):
    """``adaptive_max_pool2d`` over three axes: (N, C, D, H, W) -> (N, C, od, oh, ow), or unbatched
    (C, D, H, W) -> (C, od, oh, ow), as ``torch.nn.functional.adaptive_max_pool3d``; ``output_size`` is an
    int or a triple, None in it keeping that axis's size; indices are flat positions (d H + r) W + q in
    each (D, H, W) volume."""
    return _adaptive_max_pool("adaptive_max_pool3d", x, output_size, return_indices, 3)


# PyTorch's ``*_with_indices`` names: the same pools, always returning (y, indices); like PyTorch's they take
# (and ignore) a trailing return_indices.

def adaptive_max_pool1d_with_indices(x, output_size, return_indices=False):
    """``adaptive_max_pool1d(x, output_size, return_indices=True)``: (y, indices), as
    ``torch.nn.functional.adaptive_max_pool1d_with_indices`` (``return_indices`` is ignored, as there)."""
    return _adaptive_max_pool("adaptive_max_pool1d", x, output_size, True, 1)


def adaptive_max_pool2d_with_indices(x, output_size, return_indices=False):
    """``adaptive_max_pool2d(x, output_size, return_indices=True)``: (y, indices), as
    ``torch.nn.functional.adaptive_max_pool2d_with_indices`` (``return_indices`` is ignored, as there)."""
    return _adaptive_max_pool("adaptive_max_pool2d", x, output_size, True, 2)


def adaptive_max_pool3d_with_indices(x, output_size, return_indices=False):
    """``adaptive_max_pool3d(x, output_size, return_indices=True)``: (y, indices), as
    ``torch.nn.functional.adaptive_max_pool3d_with_indices`` (``return_indices`` is ignored, as there)."""
    return _adaptive_max_pool("adaptive_max_pool3d", x, output_size, True, 3)
