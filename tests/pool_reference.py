"""Pooling written from PyTorch's definitions, for the tests of max_pool1d/2d/3d and avg_pool1d/2d/3d:
the output size along one axis, the coordinates a window covers, and loops that pool any number of
spatial axes (values and indices); with the inputs those tests draw."""
import itertools
import math

import numpy as np
from hypothesis import strategies as st

# divisor_override values worth drawing: none, one, and others that do not divide evenly (negative too).
divisors = st.one_of(st.none(), st.sampled_from([1, 3, -2, 7]))


def output_size(size, k, s, p, d, ceil_mode):
    """The output length along one axis: PyTorch's documented formula and its ceil_mode rule (the last
    window must start inside the input or its left padding). An average pooling has d = 1."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else math.floor(span / s)) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def window_positions(o, k, s, p, d):
    """The input coordinates window ``o`` covers along one axis (some may lie in the padding)."""
    return [o * s - p + i * d for i in range(k)]


def full_stride(kernel, stride):
    """The stride a pooling uses: the kernel's where none is given."""
    return kernel if stride is None else stride


def ravel(position, spatial):
    """Row-major flat position (works past the edge too, as PyTorch's indices arithmetic does)."""
    flat = 0
    for q, n in zip(position, spatial):
        flat = flat * n + q
    return flat


def naive_max_pool(x, kernel, stride, padding, dilation, ceil_mode):
    """(y, indices) of x (N, C, *spatial) by loops: each window's maximum in window order (row-major); ties
    to the first; a NaN wins, and of several the last (PyTorch keeps a value greater than the maximum so
    far, or NaN); a window with nothing above -inf reports where the search starts: each axis's first
    coordinate at or past x's leading edge."""
    spatial = x.shape[2:]
    geometry = list(zip(spatial, kernel, stride, padding, dilation))
    out = tuple(output_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in geometry)
    y = np.empty(x.shape[:2] + out, dtype=x.dtype)
    idx = np.empty(x.shape[:2] + out, dtype=np.int64)
    for o in np.ndindex(*out):
        axes = [window_positions(o[a], k, s, p, d) for a, (n, k, s, p, d) in enumerate(geometry)]
        start = ravel([min(q for q in axis if q >= 0) for axis in axes], spatial)
        inside = [pos for pos in itertools.product(*axes) if all(0 <= q < n for q, n in zip(pos, spatial))]
        for lead in np.ndindex(*x.shape[:2]):
            best, at = -np.inf, start
            for pos in inside:
                v = x[lead + pos]
                if v > best or np.isnan(v):
                    best, at = v, ravel(pos, spatial)
            y[lead + o], idx[lead + o] = best, at
    return y, idx


def naive_avg_pool(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override=None):
    """The average pooling of x (N, C, *spatial) by loops, as PyTorch's kernels define it: window
    [o s - p, min(o s - p + k, n + p)) on each axis; its sum over the part inside x divided by
    divisor_override, or the box's size (count_include_pad), or the number of its elements inside x; a
    window with none writes 0."""
    spatial = x.shape[2:]
    geometry = list(zip(spatial, kernel, stride, padding))
    out = tuple(output_size(n, k, s, p, 1, ceil_mode) for n, k, s, p in geometry)
    y = np.zeros(x.shape[:2] + out, dtype=x.dtype)
    for o in np.ndindex(*out):
        start = [o[a] * s - p for a, (n, k, s, p) in enumerate(geometry)]
        stop = [min(b + k, n + p) for b, (n, k, s, p) in zip(start, geometry)]
        lo = [max(b, 0) for b in start]
        hi = [min(e, n) for e, n in zip(stop, spatial)]
        if any(a >= b for a, b in zip(lo, hi)):
            continue
        total = x[(Ellipsis,) + tuple(slice(a, b) for a, b in zip(lo, hi))].sum(axis=tuple(range(2, x.ndim)))
        if divisor_override is not None:
            divisor = divisor_override
        elif count_include_pad:
            divisor = math.prod(e - b for b, e in zip(start, stop))
        else:
            divisor = math.prod(b - a for a, b in zip(lo, hi))
        y[(Ellipsis,) + o] = total / divisor
    return y


def has_empty_window(spatial, kernel, stride, padding, dilation, ceil_mode):
    """Whether some window covers only padding (dilation can step over a small input)."""
    for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation):
        for o in range(output_size(n, k, s, p, d, ceil_mode)):
            if not any(0 <= q < n for q in window_positions(o, k, s, p, d)):
                return True
    return False


def inputs(shape, seed, ties):
    """Random normals, or (ties) small integers, so that windows often hold equal maxima."""
    rng = np.random.default_rng(seed)
    return rng.integers(-2, 3, shape).astype(np.float64) if ties else rng.standard_normal(shape)


def distinct(shape, seed):
    """Distinct values 0.1 apart in random order: no ties, so the numerical derivative is defined."""
    size = math.prod(shape)
    return (np.random.default_rng(seed).permutation(size).reshape(shape) - size / 2) * 0.1
