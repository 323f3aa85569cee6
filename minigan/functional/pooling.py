"""Pooling over 1, 2 or 3 spatial axes: avg_pool1d/2d/3d and max_pool1d/2d/3d, with PyTorch's semantics and
its whole argument set.

The average poolings take ceil_mode, count_include_pad and divisor_override (avg_pool1d has no
divisor_override, as in PyTorch): each window's sum (``WindowSum``, whose adjoint ``WindowSumAdjoint`` is
its backward and the other way round) divided by that window's divisor, a constant; windows that tile the
input exactly are summed by a reshape instead. avg_pool2d keeps a path of its own for the case where every
window divides by kh kw (PyTorch's defaults, and whatever else comes to the same): a reshape and a mean for
windows that tile the input, else a convolution of each channel with a constant 1/(kh kw) kernel, whose
gradients come from those ops' backward.

max_pool1d/2d/3d share three Functions over any number of spatial axes: the pooling, the scatter of its
gradient, and the gather that is the scatter's gradient (each linear map's adjoint is the other, so every
order works). A 1-D pooling is the same code with one spatial axis (what PyTorch computes by pooling a
plane of height one, indices included).

Where the windows lie is one object, ``_Windows``: for each kernel offset, the strided slice of a padded
buffer that the offset sees in every window at once, so no op loops over windows, images or channels.

The power-average poolings lp_pool1d/2d/3d are compositions of these: a power, an average pooling and a
root (max_pool of |x| for p = inf), so their gradients of every order come from those ops.

Every op takes a batched (N, C, *spatial) or an unbatched (C, *spatial) input, and, as PyTorch's do,
refuses one that is empty along any axis but the batch axis (N = 0 gives an empty output).
"""
import math

import numpy as np

from minigan import backend
from minigan.function import Function
from minigan.functional import arithmetic, reduction
from minigan.functional.arguments import is_int, is_number
from minigan.functional.conv import Conv2d, int_pair
from minigan.functional.shape import SPATIAL_AXES, as_tensor, batched_input, getitem, reshape
from minigan.tensor import Tensor

_TUPLES = {1: "a 1-tuple", 2: "a pair", 3: "a triple"}


def int_tuple(value, dims, op, name, minimum, shapes=""):
    """``value`` (an int, or a tuple or list of ``dims`` ints) as a ``dims``-tuple, each at least
    ``minimum``; ``shapes`` (e.g. "for input of shape (...)") ends the error message. For two axes this is
    ``int_pair``, word for word."""
    if dims == 2:
        return int_pair(value, op, name, minimum, shapes)
    if is_int(value):
        values = (int(value),) * dims
    elif isinstance(value, (tuple, list)) and len(value) == dims and all(is_int(v) for v in value):
        values = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{op}: {name} must be an int or {_TUPLES[dims]} of ints, got {value!r}"
                        f"{shapes and ' ' + shapes}")
    if min(values) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}{shapes and ' ' + shapes}")
    return values


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over kh x kw windows, as ``torch.nn.functional.avg_pool2d``, with its whole argument set.

    x (N, C, H, W) -> (N, C, Ho, Wo), or unbatched (C, H, W) -> (C, Ho, Wo), with
    Ho = floor((H + 2 ph - kh) / sh) + 1 (likewise Wo), rounded up instead in ceil_mode, where a last window
    must start inside the input or its top (left) padding. y[..., r, q] = the sum of
    x[..., r sh - ph + i, q sw - pw + j] over i < kh, j < kw (padding reads 0) / divisor: ``divisor_override``
    (a non-zero int) if given, else the window's rows times its columns, each clipped to the padded input
    (count_include_pad, the default: kh kw but for a ceil_mode window overhanging the bottom or right padding)
    or to the input alone. stride defaults to kernel_size; padding may be at most half the kernel, as in
    PyTorch. Only the batch axis may be empty. Differentiable to every order.
    """
    op = "avg_pool2d"
    check_divisor_override(op, divisor_override)
    x = as_tensor(x)
    shape = tuple(x.shape)
    x, batched = _batched_input(op, x, 2)
    kh, kw = int_pair(kernel_size, op, "kernel_size", 1)
    sh, sw = (kh, kw) if stride is None else int_pair(stride, op, "stride", 1)
    ph, pw = int_pair(padding, op, "padding", 0)
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"{op}: padding {(ph, pw)} must be at most half the kernel size {(kh, kw)} "
                         f"for input of shape {shape}")
    n, c, h, w = x.shape
    ho = pool_output_size(h, kh, sh, ph, 1, bool(ceil_mode))
    wo = pool_output_size(w, kw, sw, pw, 1, bool(ceil_mode))
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: input of shape {shape} is smaller than the kernel {(kh, kw)} "
                         f"(padding {(ph, pw)}, stride {(sh, sw)}): the output size would be {ho}x{wo}")
    # Every window divides by kh kw when none overhangs the padded input (the floor-mode sizes; ceil_mode
    # may add no window) and the padding either counts or is absent: what the paths below compute.
    floor = ((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    uniform = divisor_override is None and (ho, wo) == floor and (count_include_pad or (ph, pw) == (0, 0))
    if not uniform:
        # Divisors that vary from window to window, or an override: each window's sum over the shared
        # machinery of avg_pool1d/3d, divided by its own divisor.
        win = _Windows((h, w), (kh, kw), (sh, sw), (ph, pw), (1, 1), (ho, wo))
        y = _window_mean(x, win, bool(count_include_pad), divisor_override)
    elif (sh, sw) == (kh, kw) and (ph, pw) == (0, 0):
        # Non-overlapping windows: split each axis into (blocks, k) and average the k axes. Rows and
        # columns past the last whole window are dropped first, as floor mode does.
        if (h, w) != (ho * kh, wo * kw):
            x = getitem(x, (slice(None), slice(None), slice(0, ho * kh), slice(0, wo * kw)))
        y = reduction.mean(reshape(x, (n, c, ho, kh, wo, kw)), axis=(3, 5))
    else:
        # General windows: a convolution of every channel on its own with a constant kernel of 1/(kh kw);
        # zero padding is exactly count_include_pad=True.
        xp = backend.get_array_module(x.data)
        box = Tensor._wrap(xp.full((1, 1, kh, kw), 1.0 / (kh * kw), dtype=x.dtype))
        y = Conv2d((sh, sw, ph, pw, 1, 1)).apply(reshape(x, (n * c, 1, h, w)), box)
        y = reshape(y, (n, c, ho, wo))
    return y if batched else reshape(y, tuple(y.shape[1:]))


def pool_output_size(size, k, s, p, d, ceil_mode):
    """PyTorch's output size of a pooling along one axis: floor((size + 2p - d (k - 1) - 1) / s) + 1, or
    with ceil in ceil_mode, where a last window that would start past the input and its left padding
    (that is, inside the right padding alone) is dropped."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1  # // rounds towards -inf, as PyTorch's div_rtn
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


class _Windows:
    """Where the windows of a pooling lie, in a buffer that holds x with its padding, over any number of
    spatial axes (1, 2 or 3 here).

    Along spatial axis a (input size n, kernel k, stride s, padding p, dilation d, output size o) the
    buffer has p elements before x and after it whatever the windows reach: the padding in floor mode,
    possibly one window's overhang in ceil mode. Window (o_1, ..., o_m) holds
    buffer[o_1 s_1 + i_1 d_1, ..., o_m s_m + i_m d_m] for i_a < k_a, and its kernel offsets
    k = ((i_1 k_2 + i_2) k_3 + i_3) ... are numbered in PyTorch's window order (row-major), so "the first
    maximum" is the one of smallest k. For each offset k, ``window_slice(k)`` cuts out of the buffer the
    (o_1, ..., o_m) grid of the elements that offset sees: a strided view, one per offset, none per window
    or image.
    """

    def __init__(self, spatial, kernel, stride, padding, dilation, out):
        self.spatial, self.kernel, self.stride = tuple(spatial), tuple(kernel), tuple(stride)
        self.padding, self.dilation, self.out = tuple(padding), tuple(dilation), tuple(out)
        self.buffer_shape = tuple(max(p + n, (o - 1) * s + d * (k - 1) + 1) for n, k, s, p, d, o in self.axes())
        self.padded = self.buffer_shape != self.spatial  # else the buffer is x itself
        # A window's offsets start at least one extent apart on every axis: no element is in two windows.
        self.disjoint = all(s >= d * (k - 1) + 1 for _, k, s, _, d, _ in self.axes())
        self.size = math.prod(self.kernel)  # offsets per window
        self.offsets = list(np.ndindex(*self.kernel))  # row-major: offset k is self.offsets[k]
        self.arg_dtype = np.dtype(np.uint8 if self.size <= 256 else np.int32)  # an offset per output element
        self.inside = (Ellipsis,) + tuple(slice(p, p + n) for n, p in zip(self.spatial, self.padding))

    def axes(self):
        """(n, k, s, p, d, o) for each spatial axis."""
        return zip(self.spatial, self.kernel, self.stride, self.padding, self.dilation, self.out)

    def window_slice(self, k):
        return (Ellipsis,) + tuple(slice(i * d, i * d + (o - 1) * s + 1, s)
                                   for i, s, d, o in zip(self.offsets[k], self.stride, self.dilation, self.out))

    def buffer(self, x, fill):
        """x (N, C, *spatial) inside a buffer of ``fill`` (x itself when nothing lies outside it)."""
        if not self.padded:
            return x
        xp = backend.get_array_module(x)
        buf = xp.full(x.shape[:2] + self.buffer_shape, fill, dtype=x.dtype)
        buf[self.inside] = x
        return buf

    def crop(self, buf):
        """The inverse of ``buffer``: x's part of a buffer, as an array of its own."""
        if not self.padded:
            return buf
        xp = backend.get_array_module(buf)
        return xp.ascontiguousarray(buf[self.inside])

    def first_offsets(self):
        """(o_1, ..., o_m) host array: each window's first offset that is not in the leading padding of any
        axis.

        PyTorch's kernels start each window's search there, with the maximum so far -inf, so a window of
        -inf (or one lying wholly in the padding, which dilation allows) reports that element.
        """
        def first(out, s, p, d):  # the smallest i with o s + i d >= p, for each window o
            start = np.arange(out) * s
            return np.maximum(0, -(-(p - start) // d))

        dims = len(self.spatial)
        flat = np.zeros((1,) * dims, dtype=np.int64)
        for a, (_, k, s, p, d, o) in enumerate(self.axes()):
            shape = [1] * dims
            shape[a] = o
            flat = flat * k + first(o, s, p, d).reshape(shape)  # row-major numbering, axis by axis
        return flat.astype(self.arg_dtype)

    def flat_indices(self, arg):
        """PyTorch's ``return_indices``: for each window, the row-major flat position of its maximum in x's
        plane (volume, line), e.g. r W + q in 2-D and (z H + r) W + q in 3-D, int64, from the offsets
        ``arg``. A window wholly in the padding reports the position its search starts from, past x's
        edge, as PyTorch's does."""
        xp = backend.get_array_module(arg)
        dims = len(self.spatial)
        rest, offset = arg.astype(np.int64), [None] * dims
        for a in reversed(range(dims)):  # unravel k, last axis first
            rest, offset[a] = xp.divmod(rest, self.kernel[a])
        flat = 0
        for a, (n, _, s, p, d, o) in enumerate(self.axes()):
            shape = [1] * dims
            shape[a] = o
            position = xp.arange(o, dtype=np.int64).reshape(shape) * s - p + offset[a] * d
            flat = flat * n + position
        return flat


def _where_or_zero(mask, values):
    """``values`` where ``mask``, +0.0 elsewhere, bit for bit (inf and NaN included, none spread to other
    elements as ``values * mask`` would spread them): the bits of each value ANDed with a word of all
    ones or all zeros. NumPy's ``where`` branches on each element and runs several times slower on the
    random masks pooling makes; this is three branch-free passes (on CuPy as fast as ``where``)."""
    xp = backend.get_array_module(values)
    bits = np.dtype(f"u{values.dtype.itemsize}")
    words = xp.multiply(mask, bits.type(np.iinfo(bits).max), dtype=bits)  # 0 or all ones
    words &= values.view(bits)
    return words.view(values.dtype)


class MaxPool(Function):
    """y = the maximum of each window of x (N, C, *spatial), as PyTorch computes it: NaN propagates, and
    the position reported (``arg``, the window's offset k) is the first maximum in window order, or, where
    the window holds NaN, its last NaN (PyTorch's kernels take a value that is greater than the maximum so
    far, or NaN). One pass per kernel offset over the whole batch, each on a contiguous copy of what that
    offset sees (NumPy's ufuncs run several times faster on contiguous operands than on strided ones).

    Saved for backward: ``arg`` only, one small integer per output element (a byte for kernels of up to
    256 elements). The gradient routes gy to those positions and needs neither x nor y.
    """

    def __init__(self, windows):
        self.windows = windows

    def forward(self, x):
        win = self.windows
        xp = backend.get_array_module(x)
        buf = win.buffer(x, -np.inf)  # padding never wins: nothing is greater than -inf
        y = buf[win.window_slice(0)].copy()  # a copy even where the slice is contiguous: y is written to
        if win.padded:
            arg = xp.empty(y.shape, dtype=win.arg_dtype)
            arg[...] = xp.asarray(win.first_offsets())
        else:
            arg = xp.zeros(y.shape, dtype=win.arg_dtype)  # offset 0 is in every window, and first
        # Start from offset 0. Where it is a real element, PyTorch's first step keeps it (it beats the
        # initial -inf or is NaN, or it is -inf and the first real element anyway); where it is padding,
        # y is -inf and arg the first real offset: PyTorch's starting point.
        v, better, nan = xp.empty_like(y), xp.empty(y.shape, dtype=bool), xp.empty(y.shape, dtype=bool)
        step = xp.empty_like(arg)
        for k in range(1, win.size):
            xp.copyto(v, buf[win.window_slice(k)])
            xp.greater(v, y, out=better)
            xp.isnan(v, out=nan)
            better |= nan
            # y keeps the larger value, NaN propagating; on equal values it keeps y (of 0.0 and -0.0 in
            # a tie, which one is the array library's choice: the only case where y may differ in bits
            # from x at arg).
            xp.maximum(v, y, out=y)
            # arg = k where better, without a masked copy (slow in NumPy): arg += better * (k - arg),
            # exact in unsigned arithmetic, which wraps around and back.
            xp.subtract(win.arg_dtype.type(k), arg, out=step)
            step *= better
            arg += step
        self.arg = arg
        return y

    def backward(self, gy):
        return MaxPoolGrad(self.windows, self.arg).apply(gy)


class MaxPoolGrad(Function):
    """gx = gy scattered to each window's maximum (windows that share a maximum add up): the adjoint of
    gathering x at ``arg``, and linear in gy, so its own backward is that gather (``MaxPoolGather``).

    One strided write per kernel offset, covering the whole batch: gy where the offset won, zero
    elsewhere. Without overlap (the stride at least the dilated kernel, as when stride == kernel) no
    element is in two windows and the write is plain assignment; overlapping windows add, as col2im
    does. No np.add.at, no loop over the batch or the channels.
    """

    def __init__(self, windows, arg):
        self.windows, self.arg = windows, arg

    def forward(self, gy):
        win, arg = self.windows, self.arg
        xp = backend.get_array_module(gy)
        buf = xp.zeros(gy.shape[:2] + win.buffer_shape, dtype=gy.dtype)
        for k in range(win.size):
            part = _where_or_zero(arg == k, gy)
            if win.disjoint:
                buf[win.window_slice(k)] = part
            else:
                buf[win.window_slice(k)] += part
        return win.crop(buf)

    def backward(self, ggx):
        return MaxPoolGather(self.windows, self.arg).apply(ggx)


class MaxPoolGather(Function):
    """y = x at each window's saved maximum ``arg`` (what max pooling computes, with the positions
    fixed): linear in x, the adjoint of ``MaxPoolGrad``, which is therefore its backward. Positions in
    the padding (windows wholly in it) read zero: nothing flows through a constant -inf.

    Exactly one offset matches each window, so OR-ing the bits of every offset's masked values leaves
    that offset's value, bit for bit.
    """

    def __init__(self, windows, arg):
        self.windows, self.arg = windows, arg

    def forward(self, x):
        win, arg = self.windows, self.arg
        xp = backend.get_array_module(x)
        buf = win.buffer(x, 0)
        bits = np.dtype(f"u{x.dtype.itemsize}")
        y = xp.zeros(arg.shape, dtype=bits)
        v = xp.empty(arg.shape, dtype=x.dtype)
        for k in range(win.size):
            xp.copyto(v, buf[win.window_slice(k)])
            y |= _where_or_zero(arg == k, v).view(bits)
        return y.view(x.dtype)

    def backward(self, gy):
        return MaxPoolGrad(self.windows, self.arg).apply(gy)


class WindowSum(Function):
    """y[n, c, o] = the sum of window o of x (N, C, *spatial) zero-padded: one strided add per kernel
    offset over the whole batch. Linear in x; its adjoint ``WindowSumAdjoint`` is its backward. Nothing
    is saved: the gradient depends on the windows alone."""

    def __init__(self, windows):
        self.windows = windows

    def forward(self, x):
        win = self.windows
        buf = win.buffer(x, 0)  # zero padding adds nothing to a sum
        y = buf[win.window_slice(0)].copy()  # contiguous, and ours to add to
        for k in range(1, win.size):
            y += buf[win.window_slice(k)]
        return y

    def backward(self, gy):
        return WindowSumAdjoint(self.windows).apply(gy)


class WindowSumAdjoint(Function):
    """gx = every gy[n, c, o] added to each element of window o (parts in the padding dropped): the
    adjoint of ``WindowSum``, which is therefore its backward. Disjoint windows are written, overlapping
    ones added, one strided write per kernel offset."""

    def __init__(self, windows):
        self.windows = windows

    def forward(self, gy):
        win = self.windows
        xp = backend.get_array_module(gy)
        buf = xp.zeros(gy.shape[:2] + win.buffer_shape, dtype=gy.dtype)
        for k in range(win.size):
            if win.disjoint:
                buf[win.window_slice(k)] = gy
            else:
                buf[win.window_slice(k)] += gy
        return win.crop(buf)

    def backward(self, ggx):
        return WindowSum(self.windows).apply(ggx)


def _batched_input(op, x, dims):
    """(x as (N, C, *spatial), whether it came so): x may be batched (N, C, *spatial) or unbatched
    (C, *spatial), floating point, and empty along no axis but the batch axis, as PyTorch requires."""
    return batched_input(op, x, ("C",) + SPATIAL_AXES[dims])


def _pool_windows(op, shape, dims, kernel_size, stride, padding, dilation, ceil_mode):
    """The ``_Windows`` of a pooling over the last ``dims`` axes of an input of ``shape``, its arguments
    checked as PyTorch checks them (sizes positive, padding at most half the kernel on each axis, an
    output at least 1 long on each axis). ``dilation`` None: an average pooling, which has none."""
    shapes = f"for input of shape {shape}"
    kernel = int_tuple(kernel_size, dims, op, "kernel_size", 1, shapes)
    stride = kernel if stride is None else int_tuple(stride, dims, op, "stride", 1, shapes)
    padding = int_tuple(padding, dims, op, "padding", 0, shapes)
    dilated = dilation is not None
    dilation = int_tuple(dilation, dims, op, "dilation", 1, shapes) if dilated else (1,) * dims
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel} {shapes}")
    spatial = shape[-dims:]
    out = tuple(pool_output_size(*args, bool(ceil_mode)) for args in zip(spatial, kernel, stride, padding, dilation))
    if min(out) < 1:
        given = f"kernel_size {kernel}, stride {stride}, padding {padding}"
        given += f", dilation {dilation}" if dilated else ""
        raise ValueError(f"{op}: output size would be {'x'.join(map(str, out))} {shapes} with {given}: the input "
                         f"is smaller than the {'(dilated) ' if dilated else ''}kernel")
    return _Windows(spatial, kernel, stride, padding, dilation, out)


def _max_pool(op, dims, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    """max_pool1d/2d/3d (see max_pool2d)."""
    x = as_tensor(x)
    shape = tuple(x.shape)
    x, batched = _batched_input(op, x, dims)
    fn = MaxPool(_pool_windows(op, shape, dims, kernel_size, stride, padding, dilation, ceil_mode))
    y = fn.apply(x)
    if not batched:
        y = reshape(y, tuple(y.shape[1:]))
    if not return_indices:
        return y
    indices = fn.windows.flat_indices(fn.arg)
    return y, Tensor._wrap(indices if batched else indices[0])


def _avg_divisor(win, count_include_pad, divisor_override):
    """What each window's sum is divided by, as PyTorch's kernels divide: ``divisor_override`` if given;
    else the window's length clipped to the input and its padding (count_include_pad; less than the kernel
    only where a ceil_mode window overhangs the padding), or to the input alone. A box's count is the
    product of its axes' counts. A Python number where every window has the same divisor, else an
    (o_1, ..., o_m) host array (float64). A window that holds no input element sums to 0 and is divided by
    1 (PyTorch writes 0 there; the checks on the arguments leave no such window)."""
    if divisor_override is not None:
        return divisor_override
    divisor = np.ones((1,) * len(win.spatial))
    for a, (n, k, s, p, _, o) in enumerate(win.axes()):
        start = np.arange(o) * s - p
        stop = np.minimum(start + k, n + p)
        count = stop - start if count_include_pad else np.minimum(stop, n) - np.maximum(start, 0)
        shape = [1] * len(win.spatial)
        shape[a] = o
        divisor = divisor * np.maximum(count, 1).reshape(shape)
    return float(divisor.flat[0]) if (divisor == divisor.flat[0]).all() else divisor


def check_divisor_override(op, divisor_override):
    """PyTorch's rule: None, or an int other than 0 (a negative one too)."""
    if divisor_override is not None and (not is_int(divisor_override) or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be None or a non-zero int, got {divisor_override!r}")


def _window_mean(x, win, count_include_pad, divisor_override):
    """y (N, C, *out) = each window of x (N, C, *spatial) summed, then divided by its divisor
    (``_avg_divisor``): the average pooling of avg_pool1d/2d/3d once the arguments are checked.

    Windows that tile x (stride == kernel, no padding, no ceil_mode overhang) are summed by a crop of what
    lies past the last window, a reshape splitting each axis into (windows, kernel) and a sum over the kernel
    axes; any others by ``WindowSum``. Either way the gradient is exact and differentiable again."""
    n, c = x.shape[:2]
    dims = len(win.spatial)
    if all(s == k and p == 0 and o * k <= size for size, k, s, p, _, o in win.axes()):
        covered = tuple(o * k for o, k in zip(win.out, win.kernel))
        if covered != win.spatial:
            x = getitem(x, (slice(None), slice(None)) + tuple(slice(0, m) for m in covered))
        split = sum(((o, k) for o, k in zip(win.out, win.kernel)), ())
        sums = reduction.sum(reshape(x, (n, c) + split), axis=tuple(3 + 2 * a for a in range(dims)))
    else:
        sums = WindowSum(win).apply(x)
    divisor = _avg_divisor(win, count_include_pad, divisor_override)
    if not isinstance(divisor, np.ndarray):
        return sums / float(divisor)  # a Python number: float32 stays float32
    divisor = backend.to_device(divisor.astype(x.dtype), backend.device_of(x.data))  # on x's device
    return sums / Tensor._wrap(divisor)  # a constant: no gradient of its own


def _avg_pool(op, dims, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """avg_pool1d and avg_pool3d (see avg_pool3d; avg_pool2d checks its arguments itself, to keep its own
    path for uniform divisors)."""
    check_divisor_override(op, divisor_override)
    x = as_tensor(x)
    shape = tuple(x.shape)
    x, batched = _batched_input(op, x, dims)
    win = _pool_windows(op, shape, dims, kernel_size, stride, padding, None, ceil_mode)
    if dims == 3 and any(size < k for size, k in zip(win.spatial, win.kernel)):
        # PyTorch's avg_pool3d (alone of the pools) checks the input without its padding against the kernel.
        raise ValueError(f"{op}: input of shape {shape} is smaller than the kernel {win.kernel} (without the "
                         f"padding {win.padding}, which PyTorch's avg_pool3d does not count here)")
    y = _window_mean(x, win, bool(count_include_pad), divisor_override)
    return y if batched else reshape(y, tuple(y.shape[1:]))


def avg_pool1d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of k elements along the last axis, as ``torch.nn.functional.avg_pool1d``.

    x (N, C, L) -> (N, C, Lo), or unbatched (C, L) -> (C, Lo), with Lo = floor((L + 2p - k) / s) + 1
    (rounded up instead in ceil_mode, where a last window must start inside the input or its left
    padding). y[..., o] = sum of x[..., o s - p + i] over 0 <= i < k (padding reads 0) / divisor, the
    divisor being the window's length clipped to the padded input (count_include_pad, the default: k, but
    for a ceil_mode window overhanging the right padding) or to the input alone. kernel_size, stride
    (defaulting to kernel_size) and padding (at most k / 2) are ints or 1-tuples. Differentiable to
    every order.
    """
    return _avg_pool("avg_pool1d", 1, x, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool3d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over kd x kh x kw windows, as ``torch.nn.functional.avg_pool3d``.

    x (N, C, D, H, W) -> (N, C, Do, Ho, Wo), or unbatched (C, D, H, W) -> (C, Do, Ho, Wo), each output
    size as avg_pool1d's along its axis. y[..., z, r, q] = the sum of the window's elements (padding
    reads 0) / divisor: ``divisor_override`` (a non-zero int) if given, else the product over the three
    axes of the window's length clipped to the padded input (count_include_pad) or to the input alone.
    kernel_size, stride (defaulting to kernel_size) and padding (at most half the kernel) are ints or
    triples. Differentiable to every order.
    """
    return _avg_pool("avg_pool3d", 3, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over windows of k elements, d apart, along the last axis, as
    ``torch.nn.functional.max_pool1d``.

    x (N, C, L) -> (N, C, Lo), or unbatched (C, L) -> (C, Lo), with
    Lo = floor((L + 2p - d (k - 1) - 1) / s) + 1, rounded up instead in ceil_mode (a last window must
    start inside the input or its left padding). y[..., o] = max of x[..., o s - p + i d], 0 <= i < k, the
    padding being -inf (at most k / 2). Ties go to the first maximum; NaN propagates (the last NaN is
    reported). With ``return_indices`` the result is (y, indices), each maximum's position in L, int64.
    The gradient goes to each window's maximum (overlapping windows add up), and is differentiable
    again.
    """
    return _max_pool("max_pool1d", 1, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over kd x kh x kw windows, as ``torch.nn.functional.max_pool3d``.

    x (N, C, D, H, W) -> (N, C, Do, Ho, Wo), or unbatched (C, D, H, W) -> (C, Do, Ho, Wo), each output
    size as max_pool1d's along its axis; kernel_size, stride (defaulting to kernel_size), padding (-inf,
    at most half the kernel) and dilation are ints or triples. Ties go to the first maximum in window
    order (depth, then row, then column); NaN propagates. With ``return_indices`` the result is
    (y, indices): each maximum's flat position (z H + r) W + q in its (D, H, W) volume, int64, as
    PyTorch's. The gradient goes to each window's maximum, and is differentiable again.
    """
    return _max_pool("max_pool3d", 3, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over kh x kw windows, as ``torch.nn.functional.max_pool2d``.

    x (N, C, H, W) -> (N, C, Ho, Wo), or unbatched (C, H, W) -> (C, Ho, Wo), with
    Ho = floor((H + 2 ph - dh (kh - 1) - 1) / sh) + 1 (likewise Wo), rounded up instead in ceil_mode,
    where a last window must start inside the input or its left padding (PyTorch's rule). stride
    defaults to kernel_size; the padding is implicit -inf, at most half the kernel. Ties go to the first
    maximum in window order (row by row); NaN propagates. With ``return_indices`` the result is
    (y, indices): each maximum's flat index row * W + column in its (H, W) plane, int64, as PyTorch's.
    Only the batch axis may be empty, as in PyTorch.

    The gradient goes to each window's maximum (overlapping windows add up), exactly; it is
    differentiable again (MaxPoolGrad, MaxPoolGather), so gradient penalties can go through it.
    """
    return _max_pool("max_pool2d", 2, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def lp_norm_type(op, norm_type):
    """The power p of an LP pooling as a float: a number other than 0 (whose root 1/p does not exist) and NaN."""
    if not is_number(norm_type):
        raise TypeError(f"{op}: norm_type must be a number, got {norm_type!r}")
    p = float(norm_type)
    if p == 0 or math.isnan(p):
        raise ValueError(f"{op}: norm_type must be a non-zero number (the root taken is its inverse), got "
                         f"{norm_type!r}")
    return p


def _lp_pool(op, dims, x, norm_type, kernel_size, stride, ceil_mode):
    """lp_pool1d/2d/3d (see lp_pool2d)."""
    p = lp_norm_type(op, norm_type)
    x = as_tensor(x)
    shape = tuple(x.shape)
    x, batched = _batched_input(op, x, dims)
    win = _pool_windows(op, shape, dims, kernel_size, stride, 0, None, ceil_mode)  # the errors name op
    max_pool, avg_pool = {1: (max_pool1d, avg_pool1d), 2: (max_pool2d, avg_pool2d), 3: (max_pool3d, avg_pool3d)}[dims]
    if p == math.inf:
        y = max_pool(arithmetic.abs(x), win.kernel, win.stride, 0, 1, ceil_mode)
    elif p == -math.inf:
        y = -max_pool(-arithmetic.abs(x), win.kernel, win.stride, 0, 1, ceil_mode)
    else:
        # PyTorch's recipe: the window's mean of x^p times the kernel's size, which is the sum of x^p but for
        # a ceil_mode window that overhangs the input, whose sum is scaled up by kernel size / elements.
        means = avg_pool(arithmetic.pow(x, p), win.kernel, win.stride, 0, bool(ceil_mode))
        sums = means * float(math.prod(win.kernel))
        # Then the 1/p-th root, with PyTorch's gradient where a sum is 0: zero (its sign(s) * relu(|s|) has
        # zero gradient there), not 0 * inf; the value there is 0^(1/p), 0 or (p < 0) inf.
        nonzero = sums.data != 0
        root = arithmetic.pow(arithmetic.where(nonzero, sums, 1.0), 1.0 / p)
        y = arithmetic.where(nonzero, root, 0.0 if p > 0 else math.inf)
    return y if batched else reshape(y, tuple(y.shape[1:]))


def lp_pool1d(x, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over windows of k elements along the last axis, as
    ``torch.nn.functional.lp_pool1d``: x (N, C, L) -> (N, C, Lo), or unbatched (C, L) -> (C, Lo), the
    windows those of ``avg_pool1d`` without padding. See lp_pool2d for the formula."""
    return _lp_pool("lp_pool1d", 1, x, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(x, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over kh x kw windows, as ``torch.nn.functional.lp_pool2d``.

    x (N, C, H, W) -> (N, C, Ho, Wo), or unbatched (C, H, W) -> (C, Ho, Wo), the windows those of
    ``avg_pool2d`` without padding (stride defaulting to kernel_size; ceil_mode lets a last window overhang
    the input). With p = norm_type and K = kh kw, for a window w holding |w| input elements,

        y = (K / |w| * sum_{x in w} x^p)^(1/p)

    which is the p-norm of the window, (sum x^p)^(1/p), except that a ceil_mode window overhanging the
    input has its sum scaled by K / |w| (PyTorch computes K times the window's average). The sum is taken
    as it comes, signs included, so where it is negative (odd p, or p = 1, with negative inputs) a
    fractional root gives NaN, as in PyTorch. p = inf is the maximum of |x| over each window, p = -inf the
    minimum; p = 0 is refused. Where a sum is zero the gradient is zero, as PyTorch's. Differentiable to
    every order.
    """
    return _lp_pool("lp_pool2d", 2, x, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(x, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over kd x kh x kw windows, as ``torch.nn.functional.lp_pool3d``: x (N, C, D, H, W)
    -> (N, C, Do, Ho, Wo), or unbatched (C, D, H, W) -> (C, Do, Ho, Wo), the windows those of ``avg_pool3d``
    without padding, K = kd kh kw. See lp_pool2d for the formula."""
    return _lp_pool("lp_pool3d", 3, x, norm_type, kernel_size, stride, ceil_mode)


# PyTorch's ``*_with_indices`` names: the same pools, always returning (y, indices). PyTorch's versions take
# (and ignore) a trailing return_indices too, so these accept it for the same call forms.

def max_pool1d_with_indices(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """``max_pool1d(..., return_indices=True)``: (y, indices), as ``torch.nn.functional.max_pool1d_with_indices``
    (``return_indices`` is accepted and ignored, as there)."""
    return _max_pool("max_pool1d", 1, x, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """``max_pool2d(..., return_indices=True)``: (y, indices), as ``torch.nn.functional.max_pool2d_with_indices``
    (``return_indices`` is accepted and ignored, as there)."""
    return _max_pool("max_pool2d", 2, x, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """``max_pool3d(..., return_indices=True)``: (y, indices), as ``torch.nn.functional.max_pool3d_with_indices``
    (``return_indices`` is accepted and ignored, as there)."""
    return _max_pool("max_pool3d", 3, x, kernel_size, stride, padding, dilation, ceil_mode, True)
