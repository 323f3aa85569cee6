"""3-D convolution: conv3d and conv_transpose3d as ``torch.nn.functional``'s, by vol2col + one GEMM per group.

Shapes (N, C, D, H, W), for each spatial axis with stride s, padding p, dilation d and kernel size k:

    conv3d            x (N, C, D, H, W), W (O, C / G, kD, kH, kW), b (O,) -> y (N, O, Do, Ho, Wo),
                      Do = floor((D + 2p - d (k - 1) - 1) / s) + 1
    conv_transpose3d  x (N, C, D, H, W), W (C, O / G, kD, kH, kW), b (O,) -> y (N, O, Dout, Hout, Wout),
                      Dout = (D - 1) s - 2p + d (k - 1) + output_padding + 1

with G = groups. Both are one linear map seen from its two sides. Along one axis, for an "image" of
size n (the convolution's input, the transposed convolution's output) and m outputs of the convolution,

    conv:        y[i] = sum_u W[u] x[i s + u d - p],     0 <= i < m, x read as 0 outside 0..n-1
    transposed:  x[j] = sum_{i s + u d - p = j} W[u] y[i],     0 <= j < n

and the transposed map is the adjoint of the convolution, <conv(x), y> = <x, transposed(y)>, for any
n and m (Dumoulin and Visin 2016, "A guide to convolution arithmetic for deep learning", section 4).
The Functions here take n and m as given, and p as the zeros *before* the image only: the zeros
after it are whatever the m outputs reach. So one code serves every case PyTorch has: conv3d's m is
the floor above; padding="same" is p = d (k - 1) // 2 before with m = n (the odd zero after comes by
itself); conv_transpose3d's n is Dout, output_padding included, even where it reaches the stride
(allowed below the dilation), and needs no zeros appended to its input.

The work (Chellapilla et al. 2006, "High performance convolutional neural networks for document
processing", in three dimensions): ``_vol2col`` cuts the patches of the image, zero-padded and laid out
channels-last, as col (G, N Do Ho Wo, kD kH kW C/G): per group, one row per output voxel, the
group's channels innermost (a strided view, made contiguous by one copy). Then

    conv3d:               y = col @ W   (G, N Do Ho Wo, O/G), W seen as (G, kD kH kW C/G, O/G)
    conv_transpose3d:     col = x @ W   (G, N D H W, kD kH kW O/G), x as rows (G, N D H W, C/G),
                          then ``_col2vol`` adds every patch into the image (kD kH kW strided adds)
    weight gradient:      gW = gy^T @ col   (G, O/G, kD kH kW C/G), gy as rows (G, N Do Ho Wo, O/G)

each a single batched ``matmul``: one GEMM per group, the whole batch in its rows. Outputs are laid out
channels-last, an (N, O, D, H, W) view of (N, D, H, W, O) memory as conv2d's are, so that the next
convolution reads them in memory order; the weights' reordering is a copy of the small weight.

Gradients, built from these same Functions so that they are differentiable again (double backward):

    conv3d:             gx = transposed(gy, W)      gW = grad_weight(x, gy)    gb = sum gy
    conv_transpose3d:   gx = conv(gy, W)            gW = grad_weight(gy, x)    gb = sum gy
    grad_weight(x, gy): d/dx = transposed(gy, ggW), d/dgy = conv(x, ggW)

The col is never kept for the backward (a col holds kD kH kW / (sD sH sW) times the input's elements:
27x for a 3x3x3 kernel at stride 1); the backward cuts it again. Every col is made a chunk of the batch
at a time, at most conv2d's ``CHUNK_BYTES`` each, so that volumes never allocate a whole one.
"""
import itertools
import math

from minigan import backend
from minigan.function import Function
from minigan.functional import reduction
from minigan.functional.conv import _batch_chunks, _operands, _shapes, check_padding_string, same_padding
from minigan.functional.pooling import int_tuple
from minigan.functional.shape import as_tensor, unbatched
from minigan.kernels.reference import conv_output_size

_SPATIAL = ("D", "H", "W")


def _span(m, k, s, d):
    """How many input positions (padding included) m outputs of a kernel of size k read along an axis."""
    return (m - 1) * s + (k - 1) * d + 1


def _buffer_size(size, out, kernel, geometry):
    """The spatial size of the padded image buffer: the image of ``size`` after its leading zeros, and
    room for every position that ``out`` outputs read (trailing zeros, as many as those need)."""
    stride, pad, dilation = geometry
    return tuple(max(p + n, _span(m, k, s, d)) for n, m, k, s, p, d in zip(size, out, kernel, stride, pad, dilation))


def _inside(pad, size):
    """The index of the image inside its padded channels-last buffer (N, F1, F2, F3, ...)."""
    return (slice(None),) + tuple(slice(p, p + n) for p, n in zip(pad, size))


def _padded_channels_last(x, pad, buffer):
    """x (N, C, D, H, W) as a channels-last (N, F1, F2, F3, C) array of spatial size ``buffer``, x at
    offset ``pad`` and zeros around it: x's own memory when it is laid out so and needs no zeros."""
    channels_last = x.transpose(0, 2, 3, 4, 1)
    if buffer == x.shape[2:] and channels_last.flags.c_contiguous:  # buffer == size means no padding
        return channels_last
    xp = backend.get_array_module(x)
    padded = xp.zeros((x.shape[0],) + buffer + (x.shape[1],), dtype=x.dtype)
    padded[_inside(pad, x.shape[2:])] = channels_last
    return padded


def _vol2col(x, kernel, out, geometry, groups):
    """The patches of x (N, C, D, H, W) under ``out`` output voxels, as col (G, N Do Ho Wo, kD kH kW C/G):

        col[g, (n, i, j, l), (a, b, c, ch)] = xpad[n, g C/G + ch, i sD + a dD, j sH + b dH, l sW + c dW]

    where xpad has ``geometry``'s leading zeros. A strided view of the padded channels-last image, and
    one copy; each patch row is kD kH runs of kW C/G values (contiguous ones at dilation 1, G = 1)."""
    xp = backend.get_array_module(x)
    stride, pad, dilation = geometry
    n, c = x.shape[:2]
    cg = c // groups
    src = _padded_channels_last(x, pad, _buffer_size(x.shape[2:], out, kernel, geometry))
    s_n, s_d, s_h, s_w, s_c = src.strides
    patches = xp.lib.stride_tricks.as_strided(
        src, shape=(groups, n) + tuple(out) + tuple(kernel) + (cg,),
        strides=(cg * s_c, s_n, s_d * stride[0], s_h * stride[1], s_w * stride[2],
                 s_d * dilation[0], s_h * dilation[1], s_w * dilation[2], s_c))
    return xp.ascontiguousarray(patches).reshape(groups, n * math.prod(out), math.prod(kernel) * cg)


def _col2vol(col, image, kernel, out, geometry):
    """The adjoint of _vol2col: add each patch of col (G, N Do Ho Wo, kD kH kW C/G) into ``image``, a
    padded channels-last buffer (N, F1, F2, F3, G, C/G), in place. One strided add per kernel offset,
    each covering the batch and every output voxel at once."""
    stride, _, dilation = geometry
    n, groups, cg = image.shape[0], image.shape[-2], image.shape[-1]
    patches = col.reshape((groups, n) + tuple(out) + tuple(kernel) + (cg,))
    for offset in itertools.product(*(range(k) for k in kernel)):
        window = tuple(slice(u * d, u * d + (m - 1) * s + 1, s) for u, m, s, d in zip(offset, out, stride, dilation))
        image[(slice(None),) + window] += patches[(slice(None),) * 5 + offset].transpose(1, 2, 3, 4, 0, 5)


def _rows(t, groups):
    """t (N, C, D, H, W) as (G, N D H W, C/G): per group, one row per voxel, the group's channels in it;
    a view when t is laid out channels-last (as these convolutions return their outputs)."""
    n, c = t.shape[:2]
    voxels = n * math.prod(t.shape[2:])
    return t.transpose(0, 2, 3, 4, 1).reshape(voxels, groups, c // groups).transpose(1, 0, 2)


def _weight_rows(w, groups, transposed):
    """The weight as the GEMM's right operand: a convolution's (O, C/G, k...) as (G, kD kH kW C/G, O/G),
    rows in col's (kD, kH, kW, C/G) order; a transposed one's (C, O/G, k...) as (G, C/G, kD kH kW O/G),
    columns in the (kD, kH, kW, O/G) order that _col2vol reads. A copy of the (small) weight."""
    a, b = w.shape[:2]
    k = math.prod(w.shape[2:])
    grouped = w.reshape(groups, a // groups, b, k)
    if transposed:
        return grouped.transpose(0, 1, 3, 2).reshape(groups, a // groups, k * b)
    return grouped.transpose(0, 3, 2, 1).reshape(groups, k * b, a // groups)


def _col_chunks(x, out, kernel, channels):
    """The batch's chunks for cols of ``out`` voxels by ``kernel`` by ``channels`` values per image."""
    return _batch_chunks(x.shape[0], x.shape[0] * math.prod(out) * math.prod(kernel) * channels * x.itemsize)


class Conv3d(Function):
    """y = W * x + b with ``out`` output voxels: per chunk of the batch, col (G, N Do Ho Wo, kD kH kW C/G)
    @ W (G, kD kH kW C/G, O/G) into a channels-last y.

    ``geometry`` is (stride, leading padding, dilation), each a triple. Nothing is saved: the backward
    reads x and W from ``self.inputs`` and cuts the col again (see the module doc).
    """

    def __init__(self, geometry, groups, out):
        self.geometry, self.groups, self.out = geometry, groups, tuple(out)

    def forward(self, x, w, b=None):
        xp = backend.get_array_module(x)
        n, groups, kernel = x.shape[0], self.groups, w.shape[2:]
        w_rows = _weight_rows(w, groups, transposed=False)
        og = w.shape[0] // groups
        y = xp.empty((n,) + self.out + (groups, og), dtype=x.dtype)
        for part in _col_chunks(x, self.out, kernel, x.shape[1]):
            product = xp.matmul(_vol2col(x[part], kernel, self.out, self.geometry, groups), w_rows)
            y[part] = product.reshape((groups, part.stop - part.start) + self.out + (og,)).transpose(1, 2, 3, 4, 0, 5)
        y = y.reshape((n,) + self.out + (w.shape[0],)).transpose(0, 4, 1, 2, 3)  # NCDHW, laid out channels-last
        if b is not None:
            y += b.reshape(1, -1, 1, 1, 1)
        return y

    def backward(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gx = ConvTranspose3d(self.geometry, self.groups, x.shape[2:]).apply(gy, w)
        if need[1]:
            gw = Conv3dGradWeight(self.geometry, self.groups, w.shape[2:]).apply(x, gy)
        if len(need) > 2 and need[2]:
            gb = reduction.sum(gy, axis=(0, 2, 3, 4))
        return gx, gw, gb


class ConvTranspose3d(Function):
    """y = W^T * x + b, the adjoint of Conv3d, with an image of ``out`` voxels: per chunk of the batch,
    col = x (G, N D H W, C/G) @ W (G, C/G, kD kH kW O/G), whose patches _col2vol adds into the padded
    image; y is its inside, channels-last."""

    def __init__(self, geometry, groups, out):
        self.geometry, self.groups, self.out = geometry, groups, tuple(out)

    def forward(self, x, w, b=None):
        xp = backend.get_array_module(x)
        n, groups, kernel, size = x.shape[0], self.groups, w.shape[2:], x.shape[2:]
        w_rows = _weight_rows(w, groups, transposed=True)
        buffer = _buffer_size(self.out, size, kernel, self.geometry)
        image = xp.zeros((n,) + buffer + (groups, w.shape[1]), dtype=x.dtype)
        # each image's voxels come from its own rows only: the batch splits into independent chunks
        for part in _col_chunks(x, size, kernel, w.shape[1] * groups):
            _col2vol(xp.matmul(_rows(x[part], groups), w_rows), image[part], kernel, size, self.geometry)
        y = image[_inside(self.geometry[1], self.out)].reshape((n,) + self.out + (groups * w.shape[1],))
        y = y.transpose(0, 4, 1, 2, 3)
        if b is not None:
            y += b.reshape(1, -1, 1, 1, 1)
        return y

    def backward(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gx = Conv3d(self.geometry, self.groups, x.shape[2:]).apply(gy, w)
        if need[1]:
            gw = Conv3dGradWeight(self.geometry, self.groups, w.shape[2:]).apply(gy, x)
        if len(need) > 2 and need[2]:
            gb = reduction.sum(gy, axis=(0, 2, 3, 4))
        return gx, gw, gb


class Conv3dGradWeight(Function):
    """gW = d <Conv3d(x, W), gy> / dW: per group, gy^T (O/G, N Do Ho Wo) @ col(x) (N Do Ho Wo, kD kH kW C/G),
    summed over the batch's chunks, to (O, C/G, kD, kH, kW) (gy's voxels being the convolution's outputs).

    Bilinear in (x, gy), so its own gradients are convolutions with ggW:
    d/dx = ConvTranspose3d(gy, ggW) and d/dgy = Conv3d(x, ggW).
    """

    def __init__(self, geometry, groups, kernel):
        self.geometry, self.groups, self.kernel = geometry, groups, tuple(kernel)

    def forward(self, x, gy):
        xp = backend.get_array_module(x)
        groups, out = self.groups, gy.shape[2:]
        gw = None
        for part in _col_chunks(x, out, self.kernel, x.shape[1]):
            col = _vol2col(x[part], self.kernel, out, self.geometry, groups)
            term = xp.matmul(_rows(gy[part], groups).transpose(0, 2, 1), col)  # (G, O/G, kD kH kW C/G)
            del col  # before the next chunk's
            if gw is None:
                gw = term
            else:
                gw += term
        cg = x.shape[1] // groups
        gw = gw.reshape(gw.shape[:2] + self.kernel + (cg,)).transpose(0, 1, 5, 2, 3, 4)
        return xp.ascontiguousarray(gw.reshape((gy.shape[1], cg) + self.kernel))

    def backward(self, ggw):
        x, gy = self.inputs
        gx = ggy = None
        if self.needs_input_grad[0]:
            gx = ConvTranspose3d(self.geometry, self.groups, x.shape[2:]).apply(gy, ggw)
        if self.needs_input_grad[1]:
            ggy = Conv3d(self.geometry, self.groups, gy.shape[2:]).apply(x, ggw)
        return gx, ggy


def _size_text(sizes):
    return "x".join(map(str, sizes))


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation as ``torch.nn.functional.conv3d`` (zero padding), with its argument order.

    y[n, o, i, j, l] = b[o] + sum_{c, a, b, e} W[o, c, a, b, e]
                               xpad[n, g C/G + c, i sD + a dD, j sH + b dH, l sW + e dW],
    g = o // (O / G) being o's group. input (N, C, D, H, W), or (C, D, H, W) for one unbatched sample,
    weight (O, C / groups, kD, kH, kW), bias (O,) -> (N, O, Do, Ho, Wo) (or (O, Do, Ho, Wo)),
    Do = floor((D + 2 pD - dD (kD - 1) - 1) / sD) + 1 (Ho, Wo likewise). stride, padding and dilation are
    ints or (D, H, W) triples; ``padding`` may also be ``"valid"`` (no padding) or ``"same"`` (stride 1
    only; the output keeps the input's size: d (k - 1) zeros along each axis, half before the input and
    the odd one, if any, after it, as in PyTorch).
    """
    op = "conv3d"
    x = as_tensor(input)
    if x.ndim != 5:
        return unbatched(op, x, lambda batch: conv3d(batch, weight, bias, stride, padding, dilation, groups),
                         spatial=_SPATIAL)
    x, weight, bias, groups = _operands(op, x, weight, bias, groups, transposed=False, kernel_dims=("kD", "kH", "kW"))
    shapes = _shapes(x, weight)
    s = int_tuple(stride, 3, op, "stride", 1, shapes)
    d = int_tuple(dilation, 3, op, "dilation", 1, shapes)
    size, kernel = x.shape[2:], weight.shape[2:]
    if isinstance(padding, str):
        check_padding_string(padding, stride, op, dims=3)  # stride is valid: s was made of it
        if padding == "same":  # the leading zeros; the trailing ones are what the outputs reach (module doc)
            lead = tuple(before for before, _ in same_padding(kernel, d))
            return _conv(x, weight, bias, (s, lead, d), groups, size)
        padding = 0
    p = int_tuple(padding, 3, op, "padding", 0, shapes)
    out = tuple(conv_output_size(*args) for args in zip(size, kernel, s, p, d))
    if min(out) < 1:
        raise ValueError(f"{op}: output size would be {_size_text(out)} for input of shape {tuple(x.shape)} and "
                         f"weight of shape {tuple(weight.shape)} with stride {s}, padding {p}, dilation {d}: the "
                         f"padded input ({_size_text(n + 2 * q for n, q in zip(size, p))}) is smaller than the "
                         f"kernel (spanning {_size_text(e * (k - 1) + 1 for k, e in zip(kernel, d))})")
    return _conv(x, weight, bias, (s, p, d), groups, out)


def _conv(x, weight, bias, geometry, groups, out):
    function = Conv3d(geometry, groups, out)
    return function.apply(x, weight) if bias is None else function.apply(x, weight, bias)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-D convolution as ``torch.nn.functional.conv_transpose3d``, with its argument order.

    The adjoint of conv3d with the same weight: each x[n, c, i, j, l] adds x[n, c, i, j, l] W[c, o, a, b, e]
    at output voxel (i sD + a dD - pD, j sH + b dH - pH, l sW + e dW - pW). input (N, C, D, H, W), or
    unbatched (C, D, H, W), weight (C, O / groups, kD, kH, kW), bias (O,) -> (N, O, Dout, Hout, Wout) (or
    unbatched), Dout = (D - 1) sD - 2 pD + dD (kD - 1) + output_padding + 1 (Hout, Wout likewise).
    stride, padding, output_padding and dilation are ints or triples; output_padding (extra voxels at the
    end of each axis) must be smaller than the stride or the dilation, as in PyTorch.
    """
    op = "conv_transpose3d"
    x = as_tensor(input)
    if x.ndim != 5:
        return unbatched(op, x, lambda batch: conv_transpose3d(batch, weight, bias, stride, padding, output_padding,
                                                               groups, dilation), spatial=_SPATIAL)
    x, weight, bias, groups = _operands(op, x, weight, bias, groups, transposed=True, kernel_dims=("kD", "kH", "kW"))
    shapes = _shapes(x, weight)
    s = int_tuple(stride, 3, op, "stride", 1, shapes)
    p = int_tuple(padding, 3, op, "padding", 0, shapes)
    extra = int_tuple(output_padding, 3, op, "output_padding", 0, shapes)
    d = int_tuple(dilation, 3, op, "dilation", 1, shapes)
    for axis, e, st, di in zip(("depth", "height", "width"), extra, s, d):
        if e >= max(st, di):
            raise ValueError(f"{op}: output_padding {e} along the {axis} must be smaller than the stride ({st}) or "
                             f"the dilation ({di}) {shapes}")
    out = tuple((n - 1) * st - 2 * q + di * (k - 1) + e + 1
                for n, k, st, q, di, e in zip(x.shape[2:], weight.shape[2:], s, p, d, extra))
    if min(out) < 1:
        raise ValueError(f"{op}: output size would be {_size_text(out)} for input of shape {tuple(x.shape)} and "
                         f"weight of shape {tuple(weight.shape)} with stride {s}, padding {p}, output_padding "
                         f"{extra}, dilation {d}: the padding is too large")
    function = ConvTranspose3d((s, p, d), groups, out)
    return function.apply(x, weight) if bias is None else function.apply(x, weight, bias)
