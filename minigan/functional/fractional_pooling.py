"""Fractional max pooling (Graham, "Fractional Max-Pooling", 2014, arXiv:1412.6071): ``fractional_max_pool2d``,
as ``torch.nn.functional.fractional_max_pool2d``.

Each (n, c) plane is pooled by kh x kw windows whose start rows and columns follow a pseudo-random increasing
sequence, so that the output size may be any fraction of the input's. PyTorch derives the sequences from one
sample u in [0, 1) per plane and axis (``_random_samples`` (N, C, 2): u[..., 0] for the columns, u[..., 1] for
the rows): along an axis of n inputs pooled by k to o outputs, with alpha = (n - k) / (o - 1),

    start[i] = floor((i + u) alpha) - floor(u alpha)   for i < o - 1,    start[o - 1] = n - k,

computed in the input's dtype as PyTorch's kernel does, so that the same samples give the same windows.

The windows are found without autograd; the pooling is then a gather of x at each window's maximum
(``adaptive_pooling._GatherAtMaxima``, whose adjoint scatter is its backward), so gradients of every order
follow.
"""
import numpy as np

from minigan import backend, random
from minigan.functional.adaptive_pooling import _GatherAtMaxima
from minigan.functional.arguments import is_number
from minigan.functional.conv import int_pair
from minigan.functional.shape import SPATIAL_AXES, as_tensor, batched_input, reshape
from minigan.tensor import Tensor


def _starts(xp, u, n, k, o):
    """Window starts (N, C, o) along an axis of n inputs, for samples u (N, C) in the input's dtype."""
    dtype = u.dtype
    starts = xp.empty(u.shape + (o,), dtype=np.int64)
    if o > 1:
        alpha = xp.asarray(n - k, dtype=dtype) / xp.asarray(o - 1, dtype=dtype)
        i = xp.arange(o - 1, dtype=dtype)
        starts[..., :-1] = ((i + u[..., None]) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)[..., None]
    starts[..., -1] = n - k
    return starts


def _output_size(op, shape, kernel, output_size, output_ratio):
    spatial = tuple(int(s) for s in shape[-2:])
    if output_size is not None:
        size = int_pair(output_size, op, "output_size", 1, f"for input of shape {shape}")
    elif output_ratio is not None:
        ratio = (output_ratio, output_ratio) if is_number(output_ratio) else output_ratio
        if not (isinstance(ratio, (tuple, list)) and len(ratio) == 2 and all(is_number(r) and 0 < r < 1
                                                                          for r in ratio)):
            raise ValueError(f"{op}: output_ratio must be a number or a pair of numbers in (0, 1), got "
                             f"{output_ratio!r}")
        size = tuple(int(n * r) for n, r in zip(spatial, ratio))
        if min(size) < 1:
            raise ValueError(f"{op}: output_ratio {output_ratio!r} leaves no output for input of shape {shape}")
    else:
        raise ValueError(f"{op}: requires either an output_size or an output_ratio")
    for axis, n, k, o in zip(("height", "width"), spatial, kernel, size):
        if o + k - 1 > n:
            raise ValueError(f"{op}: kernel_size {kernel} and output_size {size} need input {axis} at least "
                             f"{o + k - 1} (output + kernel - 1), got input of shape {shape}")
    return size


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Fractional max pooling over (N, C, H, W) -> (N, C, oh, ow), or unbatched (C, H, W) -> (C, oh, ow).

    y[n, c, i, j] = max of x[n, c, r, q] over rows[i] <= r < rows[i] + kh and cols[j] <= q < cols[j] + kw, the
    starts drawn as in the module's docstring from ``_random_samples`` (N, C, 2) in [0, 1) (N = 1 for
    unbatched input; the input's dtype), or from ``minigan.random.generator(input.device)`` if None.
    ``kernel_size`` is an int or pair; give ``output_size`` (an int or pair; it wins if both are given) or
    ``output_ratio`` (a number or pair in (0, 1); the output is floor(H r) x floor(W r)). Ties go to the first
    maximum in window order (row by row); NaN propagates (the last NaN is reported), as PyTorch. With
    ``return_indices`` the result is (y, indices), indices the int64 flat position r W + q of each maximum in
    its plane. The gradient goes to each window's maximum (windows that share one add up).
    """
    op = "fractional_max_pool2d"
    x = as_tensor(input)
    shape = tuple(x.shape)
    x, batched = batched_input(op, x, ("C",) + SPATIAL_AXES[2], batched_first=True, empty="leading")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype} (shape {shape})")
    kernel = int_pair(kernel_size, op, "kernel_size", 1, f"for input of shape {shape}")
    oh, ow = _output_size(op, shape, kernel, output_size, output_ratio)
    n, c, h, w = x.shape
    xp = backend.get_array_module(x.data)
    if _random_samples is None:
        samples = random.generator(x.device).random((n, c, 2), dtype=x.dtype)
    else:
        samples = _random_samples.data if isinstance(_random_samples, Tensor) else xp.asarray(_random_samples)
        if tuple(samples.shape) != (n, c, 2):
            raise ValueError(f"{op}: _random_samples must have shape {(n, c, 2)} (batch, channels, 2) for input of "
                             f"shape {shape}, got {tuple(samples.shape)}")
        if samples.dtype != x.dtype:
            raise TypeError(f"{op}: _random_samples must have the input's dtype {x.dtype}, got {samples.dtype}")
        if samples.size and not bool(((samples >= 0) & (samples < 1)).all()):
            raise ValueError(f"{op}: _random_samples must lie in [0, 1)")
        if backend.device_of(samples) != backend.device_of(x.data):
            raise ValueError(f"{op}: _random_samples are on {backend.device_of(samples)} but input is on "
                             f"{x.device}; move them to one device")
    kh, kw = kernel
    rows = _starts(xp, samples[..., 1], h, kh, oh)[..., None] + xp.arange(kh)  # (N, C, oh, kh)
    cols = _starts(xp, samples[..., 0], w, kw, ow)[..., None] + xp.arange(kw)  # (N, C, ow, kw)
    # (N, C, oh, ow, kh, kw) flat positions; each output's window laid out as a row in window order.
    flat = rows[:, :, :, None, :, None] * w + cols[:, :, None, :, None, :]
    flat = flat.reshape(n, c, oh * ow, kh * kw)
    planes = x.data.reshape(n, c, 1, h * w)
    windows = xp.take_along_axis(planes, flat.reshape(n, c, 1, -1), axis=3).reshape(flat.shape)
    arg = windows.argmax(axis=-1)  # the first maximum in window order
    nan = xp.isnan(windows)
    if nan.any():
        # PyTorch's loop takes a value above the maximum so far or NaN: a window's last NaN.
        last = (windows.shape[-1] - 1) - nan[..., ::-1].argmax(axis=-1)
        arg = xp.where(nan.any(axis=-1), last, arg)
    index = xp.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]  # (N, C, P)
    y = _GatherAtMaxima(index, (n, c, oh, ow), False).apply(x)
    if not batched:
        y = reshape(y, tuple(y.shape[1:]))
    if not return_indices:
        return y
    indices = index.reshape(n, c, oh, ow)
    return y, Tensor._wrap(indices if batched else indices[0])
