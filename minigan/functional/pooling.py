"""Pooling: avg_pool2d and max_pool2d, with PyTorch's semantics.

avg_pool2d is built from shape ops and conv2d, so its gradients (and gradients of gradients) come from
those ops' backward. max_pool2d is three Functions: the pooling, the scatter of its gradient, and the
gather that is the scatter's gradient (each linear map's adjoint is the other, so every order works).
"""
import numpy as np

from minigan import backend
from minigan.function import Function
from minigan.functional import reduction
from minigan.functional.conv import Conv2d, int_pair
from minigan.functional.shape import as_tensor, getitem, reshape, unbatched
from minigan.tensor import Tensor


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over kh x kw windows, as ``torch.nn.functional.avg_pool2d`` with ceil_mode=False and
    count_include_pad=True (padded zeros count in the mean, so every window divides by kh kw).

    x (N, C, H, W) -> (N, C, Ho, Wo), Ho = floor((H + 2p - kh) / s) + 1, or unbatched (C, H, W) ->
    (C, Ho, Wo); stride defaults to the kernel size; padding may be at most half the kernel, as in
    PyTorch.
    """
    op = "avg_pool2d"
    x = as_tensor(x)
    if x.ndim != 4:
        return unbatched(op, x, lambda batch: avg_pool2d(batch, kernel_size, stride, padding))
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype} (shape {tuple(x.shape)})")
    kh, kw = int_pair(kernel_size, op, "kernel_size", 1)
    sh, sw = (kh, kw) if stride is None else int_pair(stride, op, "stride", 1)
    ph, pw = int_pair(padding, op, "padding", 0)
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"{op}: padding {(ph, pw)} must be at most half the kernel size {(kh, kw)}")
    n, c, h, w = x.shape
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} is smaller than the kernel {(kh, kw)} "
                         f"(padding {(ph, pw)})")
    if (sh, sw) == (kh, kw) and (ph, pw) == (0, 0):
        # Non-overlapping windows: split each axis into (blocks, k) and average the k axes. Rows and
        # columns past the last whole window are dropped first, as floor mode does.
        if (h, w) != (ho * kh, wo * kw):
            x = getitem(x, (slice(None), slice(None), slice(0, ho * kh), slice(0, wo * kw)))
        return reduction.mean(reshape(x, (n, c, ho, kh, wo, kw)), axis=(3, 5))
    # General windows: a convolution of every channel on its own with a constant kernel of 1/(kh kw);
    # zero padding is exactly count_include_pad=True.
    xp = backend.get_array_module(x.data)
    box = Tensor._wrap(xp.full((1, 1, kh, kw), 1.0 / (kh * kw), dtype=x.dtype))
    y = Conv2d((sh, sw, ph, pw, 1, 1)).apply(reshape(x, (n * c, 1, h, w)), box)
    return reshape(y, (n, c, ho, wo))


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
    """Where the windows of a max pooling lie, in a buffer that holds x with its padding.

    The buffer has ``ph`` rows above x (``pw`` columns left of it) and below (right of) it whatever the
    windows reach: the padding in floor mode, possibly one window's overhang in ceil mode. Window
    (oy, ox) holds buffer[oy sh + i dh, ox sw + j dw] for i < kh, j < kw, and its kernel offsets
    k = i kw + j are numbered in PyTorch's window order (row by row), so "the first maximum" is the
    one of smallest k. For each offset k, ``window_slice(k)`` cuts out of the buffer the (ho, wo) grid
    of the elements that offset sees: a strided view, one per offset, none per window or image.
    """

    def __init__(self, hw, kernel, stride, padding, dilation, out):
        (self.h, self.w), (self.kh, self.kw), (self.sh, self.sw) = hw, kernel, stride
        (self.ph, self.pw), (self.dh, self.dw), (self.ho, self.wo) = padding, dilation, out
        self.hp = max(self.ph + self.h, (self.ho - 1) * self.sh + self.dh * (self.kh - 1) + 1)
        self.wp = max(self.pw + self.w, (self.wo - 1) * self.sw + self.dw * (self.kw - 1) + 1)
        self.padded = (self.hp, self.wp) != (self.h, self.w)  # else the buffer is x itself
        # A window's offsets start at least one extent apart on both axes: no element is in two windows.
        self.disjoint = (self.sh >= self.dh * (self.kh - 1) + 1) and (self.sw >= self.dw * (self.kw - 1) + 1)
        size = self.kh * self.kw
        self.arg_dtype = np.dtype(np.uint8 if size <= 256 else np.int32)  # an offset per output element

    def window_slice(self, k):
        i, j = divmod(k, self.kw)
        rows = slice(i * self.dh, i * self.dh + (self.ho - 1) * self.sh + 1, self.sh)
        cols = slice(j * self.dw, j * self.dw + (self.wo - 1) * self.sw + 1, self.sw)
        return (Ellipsis, rows, cols)

    def buffer(self, x, fill):
        """x (N, C, H, W) inside a buffer of ``fill`` (x itself when nothing lies outside it)."""
        if not self.padded:
            return x
        xp = backend.get_array_module(x)
        buf = xp.full(x.shape[:2] + (self.hp, self.wp), fill, dtype=x.dtype)
        buf[..., self.ph:self.ph + self.h, self.pw:self.pw + self.w] = x
        return buf

    def crop(self, buf):
        """The inverse of ``buffer``: x's part of a buffer, as an array of its own."""
        if not self.padded:
            return buf
        xp = backend.get_array_module(buf)
        return xp.ascontiguousarray(buf[..., self.ph:self.ph + self.h, self.pw:self.pw + self.w])

    def first_offsets(self):
        """(ho, wo) host array: each window's first offset that is not in the top or left padding.

        PyTorch's kernel starts each window's search there, with the maximum so far -inf, so a window of
        -inf (or one lying wholly in the padding, which dilation allows) reports that element.
        """
        def first(out, s, p, d):  # the smallest i with o s + i d >= p, for each window o
            start = np.arange(out) * s
            return np.maximum(0, -(-(p - start) // d))

        rows = first(self.ho, self.sh, self.ph, self.dh)
        cols = first(self.wo, self.sw, self.pw, self.dw)
        return (rows[:, None] * self.kw + cols[None, :]).astype(self.arg_dtype)

    def flat_indices(self, arg):
        """PyTorch's ``return_indices``: for each window, row * W + column of its maximum in x's plane
        (int64), from the offsets ``arg``."""
        xp = backend.get_array_module(arg)
        i, j = xp.divmod(arg.astype(np.int64), self.kw)
        rows = xp.arange(self.ho, dtype=np.int64)[:, None] * self.sh - self.ph + i * self.dh
        cols = xp.arange(self.wo, dtype=np.int64) * self.sw - self.pw + j * self.dw
        return rows * self.w + cols


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


class MaxPool2d(Function):
    """y = the maximum of each window of x, as PyTorch computes it: NaN propagates, and the position
    reported (``arg``, the window's offset k) is the first maximum in window order, or, where the window
    holds NaN, its last NaN (PyTorch's kernels take a value that is greater than the maximum so far, or
    NaN). One pass per kernel offset over the whole batch, each on a contiguous copy of what that offset
    sees (NumPy's ufuncs run several times faster on contiguous operands than on strided ones).

    Saved for backward: ``arg`` only, one small integer per output element (a byte for kernels up to
    16 x 16). The gradient routes gy to those positions and needs neither x nor y.
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
        for k in range(1, win.kh * win.kw):
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
        return MaxPool2dGrad(self.windows, self.arg).apply(gy)


class MaxPool2dGrad(Function):
    """gx = gy scattered to each window's maximum (windows that share a maximum add up): the adjoint of
    gathering x at ``arg``, and linear in gy, so its own backward is that gather (``MaxPool2dGather``).

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
        buf = xp.zeros(gy.shape[:2] + (win.hp, win.wp), dtype=gy.dtype)
        for k in range(win.kh * win.kw):
            part = _where_or_zero(arg == k, gy)
            if win.disjoint:
                buf[win.window_slice(k)] = part
            else:
                buf[win.window_slice(k)] += part
        return win.crop(buf)

    def backward(self, ggx):
        return MaxPool2dGather(self.windows, self.arg).apply(ggx)


class MaxPool2dGather(Function):
    """y = x at each window's saved maximum ``arg`` (what max pooling computes, with the positions
    fixed): linear in x, the adjoint of ``MaxPool2dGrad``, which is therefore its backward. Positions in
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
        for k in range(win.kh * win.kw):
            xp.copyto(v, buf[win.window_slice(k)])
            y |= _where_or_zero(arg == k, v).view(bits)
        return y.view(x.dtype)

    def backward(self, gy):
        return MaxPool2dGrad(self.windows, self.arg).apply(gy)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over kh x kw windows, as ``torch.nn.functional.max_pool2d``.

    x (N, C, H, W) -> (N, C, Ho, Wo), or unbatched (C, H, W) -> (C, Ho, Wo), with
    Ho = floor((H + 2 ph - dh (kh - 1) - 1) / sh) + 1 (likewise Wo), rounded up instead in ceil_mode,
    where a last window must start inside the input or its left padding (PyTorch's rule). stride
    defaults to kernel_size; the padding is implicit -inf, at most half the kernel. Ties go to the first
    maximum in window order (row by row); NaN propagates. With ``return_indices`` the result is
    (y, indices): each maximum's flat index row * W + column in its (H, W) plane, int64, as PyTorch's.

    The gradient goes to each window's maximum (overlapping windows add up), exactly; it is
    differentiable again (MaxPool2dGrad, MaxPool2dGather), so gradient penalties can go through it.
    """
    op = "max_pool2d"
    x = as_tensor(x)
    if x.ndim == 3:
        out = max_pool2d(reshape(x, (1,) + tuple(x.shape)), kernel_size, stride, padding, dilation, ceil_mode,
                         return_indices)
        if return_indices:
            y, indices = out
            return reshape(y, tuple(y.shape[1:])), Tensor._wrap(indices.data[0])
        return reshape(out, tuple(out.shape[1:]))
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype} (shape {tuple(x.shape)})")
    shapes = f"for input of shape {tuple(x.shape)}"
    kernel = int_pair(kernel_size, op, "kernel_size", 1, shapes)
    stride = kernel if stride is None else int_pair(stride, op, "stride", 1, shapes)
    padding = int_pair(padding, op, "padding", 0, shapes)
    dilation = int_pair(dilation, op, "dilation", 1, shapes)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel} {shapes}")
    hw = tuple(x.shape[2:])
    if min(hw) < 1:
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} has no pixels")
    out = tuple(pool_output_size(hw[a], kernel[a], stride[a], padding[a], dilation[a], ceil_mode) for a in (0, 1))
    if min(out) < 1:
        raise ValueError(f"{op}: output size would be {out[0]}x{out[1]} {shapes} with kernel_size {kernel}, "
                         f"stride {stride}, padding {padding}, dilation {dilation}: the input is smaller than "
                         "the (dilated) kernel")
    fn = MaxPool2d(_Windows(hw, kernel, stride, padding, dilation, out))
    y = fn.apply(x)
    if not return_indices:
        return y
    return y, Tensor._wrap(fn.windows.flat_indices(fn.arg))
