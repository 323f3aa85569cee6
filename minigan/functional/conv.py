"""Convolution: conv2d and conv_transpose2d with PyTorch's layouts and semantics, by im2col + one GEMM.

Shapes (NCHW), for each spatial axis with stride s, padding p, dilation d, kernel size k:

    conv2d            x (N, C, H, W), W (O, C, kh, kw), b (O,) -> y (N, O, Ho, Wo),
                      Ho = floor((H + 2p - d (k - 1) - 1) / s) + 1
    conv_transpose2d  x (N, C, H, W), W (C, O, kh, kw), b (O,) -> y (N, O, Hout, Wout),
                      Hout = (H - 1) s - 2p + d (k - 1) + output_padding + 1

conv2d is one matrix product: the patches of x, col (N Ho Wo, kh kw C), one row per output pixel,
which the ``im2col`` kernel cuts out, times the weight seen as (kh kw C, O). The batch lives in the
GEMM's rows, so one BLAS call serves the whole batch (Chellapilla et al. 2006, "High performance
convolutional neural networks for document processing"). The channels are innermost in a patch row,
as in channels-last engines: the kernel then copies runs of kw C values instead of gathering single
ones. The weight's own reordering to (O, kh, kw, C) is a copy of the (small) weight per call.

Layouts. The product (N Ho Wo, O) is the output channels-last, and conv2d returns it as it is: an
(N, O, Ho, Wo) view of (N, Ho, Wo, O) memory, as PyTorch's ``channels_last`` memory format (NumPy
and CuPy arrays carry any strides). The next convolution's im2col reads that layout in memory order,
and the GEMMs of the backward take it as rows with no copy; col2im hands conv_transpose2d's output
back channels-last too, elementwise kernels and batch norm keep the layout, and what needs NCHW order
(a flatten before a Linear layer) copies. Only an NCHW-contiguous input (data, a reshaped Linear
output) is transposed, by the ``batch_transpose`` kernel (``_pixel_rows``).

The transposed convolution is the adjoint of conv2d, <conv2d(x, W), y> = <x, conv_transpose2d(y, W)>,
so its forward is the same computation as conv2d's input gradient: col = x W (one GEMM, x seen as
(N H W, C)), then the ``col2im`` kernel adds every patch back into the image. No zeros are inserted
between pixels.

Gradients, each built from these same differentiable ops so that double backward works:

    conv2d:              gx = conv_transpose2d(gy, W)   gW = grad_weight(x, gy)   gb = sum gy
    conv_transpose2d:    gx = conv2d(gy, W)             gW = grad_weight(gy, x)   gb = sum gy
    grad_weight(x, gy):  d/dx = conv_transpose2d(gy, ggW),   d/dgy = conv2d(x, ggW)

where grad_weight(x, gy) = gy (O, N Ho Wo) @ im2col(x) (N Ho Wo, kh kw C) is ``Conv2dGradWeight``.

Memory versus speed: the backward recomputes im2col(x) for the weight gradient instead of keeping the
forward's col. A col holds (kh kw / (sh sw)) times the input's elements (4x for DCGAN's 4x4 stride-2
layers, 9x for a 3x3 stride-1 layer), and a GAN step keeps whole forward graphs alive until backward
(the discriminator on real and on fake data at once), so keeping the cols would multiply the
activation memory by that factor. Recomputing costs one strided copy, small beside the GEMMs.

The weight gradient and the transposed convolution run over the batch in chunks when their col
would exceed ``CHUNK_BYTES``: a whole col (25 MB for W2's largest layer) is then never allocated, and
the transient peak of a backward pass is the activations plus one chunk (``_batch_chunks``).
"""
from minigan import backend, kernels
from minigan.function import Function
from minigan.functional import reduction
from minigan.functional.arguments import is_int
from minigan.functional.shape import GetItemGrad, as_tensor, concat, getitem, reshape, unbatched
from minigan.kernels.reference import conv_output_size


def _add_bias(y, bias):
    """y (N, O, H, W) += bias (O,), in place: y is a fresh array the op owns."""
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    return y


def _channels_last(w):
    """A 4-D weight (A, B, kh, kw) as the matrix (A, kh kw B) whose rows match col's (kh, kw, C) order."""
    a, b, kh, kw = w.shape
    return w.transpose(0, 2, 3, 1).reshape(a, kh * kw * b)


def _adjoint_output_padding(in_hw, out_hw, kernel_hw, conv):
    """The output_padding with which conv_transpose2d maps conv2d's output size back to ``in_hw``.

    conv2d drops the last (H + 2p - d (k - 1) - 1) mod s input rows when the stride does not divide
    evenly; output_padding gives them back (as rows that receive no contribution).
    """
    sh, sw, ph, pw, dh, dw = conv
    return tuple(size - ((out - 1) * s - 2 * p + d * (k - 1) + 1)
                 for size, out, k, s, p, d in zip(in_hw, out_hw, kernel_hw, (sh, sw), (ph, pw), (dh, dw)))


# The largest col the weight gradient and the transposed convolution allocate at once. Measured on
# W2 (batch 128): 8 MB chunks cut the peak RSS by ~20 MB against whole cols, 4 MB by 3.5 MB more;
# interleaved in one process, 4 MB and 8 MB took 264 and 261 ms per W2 iteration (medians of 20) and
# 3.41 and 3.61 s per W3 iteration: the GEMMs keep several hundred rows, enough for BLAS.
CHUNK_BYTES = 4 << 20


def _batch_chunks(n, col_bytes):
    """Slices of the batch (0..n) such that the col of each holds at most ~CHUNK_BYTES."""
    chunks = max(1, min(n, -(-col_bytes // CHUNK_BYTES)))  # an empty batch is one empty chunk
    bounds = [n * k // chunks for k in range(chunks + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


def _pixel_rows(x):
    """x (N, C, H, W) channels-last, as the matrix (N H W, C): one row per pixel (a view when x is
    already laid out channels-last, as convolutions return it)."""
    n, c, h, w = x.shape
    nhwc = backend.nhwc_view(x)
    if nhwc is not None:
        return nhwc.reshape(n * h * w, c)
    transpose = kernels.get("batch_transpose", backend.get_array_module(x))
    return transpose(x.reshape(n, c, h * w)).reshape(n * h * w, c)


def _im2col(x, kernel_hw, conv):
    """The patches of x as col (N, Ho, Wo, kh, kw, C), from the best im2col kernel for x's device."""
    return kernels.get("im2col", backend.get_array_module(x))(x, kernel_hw[0], kernel_hw[1], *conv)


class Conv2d(Function):
    """y = W * x + b: im2col(x) as col (N Ho Wo, kh kw C), then y = col @ W^T (kh kw C, O), to NCHW.

    ``conv`` is (sh, sw, ph, pw, dh, dw), the argument order of the im2col/col2im kernels. Nothing is
    saved: the backward reads x and W from ``self.inputs`` (see the module doc on the col). ``col``
    passes in im2col(x) when the caller has already cut it (see ConvTranspose2d.backward). The
    backward lays gy out channels-last once for both of its gradients, which both multiply it as rows.
    """

    def __init__(self, conv, col=None):
        self.conv, self.col = conv, col

    def forward(self, x, w, b=None):
        o, c, kh, kw = w.shape
        col, self.col = self.col, None  # a given col is used once, not kept by a node left in a graph
        if col is None:
            col = _im2col(x, (kh, kw), self.conv)  # (N, Ho, Wo, kh, kw, C)
        n, ho, wo = col.shape[:3]
        y = col.reshape(n * ho * wo, kh * kw * c) @ _channels_last(w).T  # (N Ho Wo, O)
        return _add_bias(y.reshape(n, ho, wo, o).transpose(0, 3, 1, 2), b)  # NCHW, laid out channels-last

    def backward(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        gx = gw = gb = None
        rows = _pixel_rows(gy.data) if need[0] and need[1] else None
        if need[0]:
            pad = _adjoint_output_padding(x.shape[2:], gy.shape[2:], w.shape[2:], self.conv)
            gx = ConvTranspose2d(self.conv, pad, rows).apply(gy, w)
        if need[1]:
            gw = Conv2dGradWeight(self.conv, w.shape[2:], gy_rows=rows).apply(x, gy)
        if len(need) > 2 and need[2]:
            gb = reduction.sum(gy, axis=(0, 2, 3))
        return gx, gw, gb


class Conv2dGradWeight(Function):
    """gW = d <conv2d(x, W), gy> / dW = gy^T (O, N Ho Wo) @ im2col(x) (N Ho Wo, kh kw C), to (O, C, kh, kw).

    It is bilinear in (x, gy), so its own gradients are convolutions with ggW:
    d/dx = conv_transpose2d(gy, ggW) and d/dgy = conv2d(x, ggW). ``col`` may pass in im2col(x), and
    ``gy_rows`` gy channels-last as (N Ho Wo, O).
    """

    def __init__(self, conv, kernel_hw, col=None, gy_rows=None):
        self.conv, self.kernel_hw, self.col, self.gy_rows = conv, tuple(kernel_hw), col, gy_rows

    def forward(self, x, gy):
        kh, kw = self.kernel_hw
        n, c, o = x.shape[0], x.shape[1], gy.shape[1]
        xp = backend.get_array_module(gy)
        col, self.col = self.col, None  # as in Conv2d.forward
        rows, self.gy_rows = self.gy_rows, None
        parts = [slice(None)] if col is not None else _batch_chunks(n, gy.size // o * c * kh * kw * x.itemsize)
        # gW is a sum over the images: add it up chunk by chunk, each chunk's operands made only when needed
        gw = None
        for part in parts:
            part_col = col if col is not None else _im2col(x[part], self.kernel_hw, self.conv)
            # gy's rows (N Ho Wo, O): a chunk of images is a block of them
            pixels = gy.shape[2] * gy.shape[3]  # named, not -1: an empty batch has no size to infer it from
            part_rows = _pixel_rows(gy[part]) if rows is None else rows.reshape(n, pixels, o)[part].reshape(-1, o)
            term = part_rows.T @ part_col.reshape(-1, kh * kw * c)  # (O, kh kw C)
            del part_col, part_rows  # before the next chunk's
            if gw is None:
                gw = term
            else:
                gw += term
        return xp.ascontiguousarray(gw.reshape(o, kh, kw, c).transpose(0, 3, 1, 2))

    def backward(self, ggw):
        x, gy = self.inputs
        gx = ggy = None
        if self.needs_input_grad[0]:
            pad = _adjoint_output_padding(x.shape[2:], gy.shape[2:], self.kernel_hw, self.conv)
            gx = ConvTranspose2d(self.conv, pad).apply(gy, ggw)
        if self.needs_input_grad[1]:
            ggy = Conv2d(self.conv).apply(x, ggw)
        return gx, ggy


class ConvTranspose2d(Function):
    """y = W^T * x + b, the adjoint of Conv2d: col = x (N H W, C) @ W (C, kh kw O), y = col2im(col).

    ``output_padding`` must be smaller than the stride here, so that conv2d of the output has
    exactly x's size; ``conv_transpose2d`` reduces the other cases PyTorch allows to this one.
    ``x_rows`` may pass in x channels-last as (N H W, C).
    """

    def __init__(self, conv, output_padding, x_rows=None):
        self.conv, self.output_padding, self.x_rows = conv, output_padding, x_rows

    def forward(self, x, w, b=None):
        xp = backend.get_array_module(x)
        c, o, kh, kw = w.shape
        n, _, h, wd = x.shape
        sh, sw, ph, pw, dh, dw = self.conv
        hout = (h - 1) * sh - 2 * ph + dh * (kh - 1) + self.output_padding[0] + 1
        wout = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + self.output_padding[1] + 1
        col2im = kernels.get("col2im", xp)
        w_rows = _channels_last(w)  # (C, kh kw O): W's (in, out, kh, kw) layout, as conv2d's is (out, in, kh, kw)
        rows, self.x_rows = self.x_rows, None  # as Conv2d's col
        parts = _batch_chunks(n, o * kh * kw * n * h * wd * x.itemsize)
        # Each image's output comes from its own rows only, so the batch splits into independent chunks.
        y = None
        for part in parts:
            m = part.stop - part.start
            part_rows = _pixel_rows(x[part]) if rows is None else rows.reshape(n, h * wd, c)[part].reshape(-1, c)
            col = part_rows @ w_rows  # (m H W, kh kw O)
            y_part = col2im(col.reshape(m, h, wd, kh, kw, o), hout, wout, *self.conv)
            del col, part_rows  # before the next chunk's
            if len(parts) == 1:
                y = y_part
            else:
                if y is None:  # laid out as col2im lays out its parts
                    y = xp.empty_like(y_part, shape=(n, o, hout, wout))
                y[part] = y_part
        return _add_bias(y, b)

    def backward(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        gx = gw = gb = None
        # Both gradients convolve over the patches of gy: cut them once and hand them to both.
        col = _im2col(gy.data, w.shape[2:], self.conv) if need[0] and need[1] else None
        if need[0]:
            gx = Conv2d(self.conv, col).apply(gy, w)
        if need[1]:
            gw = Conv2dGradWeight(self.conv, w.shape[2:], col).apply(gy, x)
        if len(need) > 2 and need[2]:
            gb = reduction.sum(gy, axis=(0, 2, 3))
        return gx, gw, gb


def int_pair(value, op, name, minimum, shapes=""):
    """``value`` (an int or a pair of ints) as a pair, each at least ``minimum``; ``shapes`` (e.g. "for
    input of shape (...)") ends the error message."""
    if is_int(value):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}{shapes and ' ' + shapes}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}{shapes and ' ' + shapes}")
    return pair


def positive_int(value, op, name):
    """``value`` as an int >= 1 (a float or a bool is refused, as PyTorch refuses them)."""
    if not is_int(value) or value < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
    return int(value)


def _geometry(op, stride, padding, dilation, shapes):
    """(sh, sw, ph, pw, dh, dw), validated: the argument order of the im2col/col2im kernels."""
    return (int_pair(stride, op, "stride", 1, shapes) + int_pair(padding, op, "padding", 0, shapes)
            + int_pair(dilation, op, "dilation", 1, shapes))


def _shapes(x, weight):
    return f"(input of shape {tuple(x.shape)}, weight of shape {tuple(weight.shape)})"


def _operands(op, x, weight, bias, groups, transposed, kernel_dims=("kh", "kw")):
    """Check x, weight and bias against each other and ``groups``. The weight is (O, C / groups, kh, kw)
    for a convolution and (C, O / groups, kh, kw) for a transposed one; ``kernel_dims`` names its
    kernel axes in messages (conv1d passes ("k",), so that its errors speak of its own 3-D shapes)."""
    x, weight = as_tensor(x), as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    groups = positive_int(groups, op, "groups")
    dims = ", ".join(kernel_dims)
    layout = f"(in_channels, out_channels / groups, {dims})" if transposed else \
        f"(out_channels, in_channels / groups, {dims})"
    if weight.ndim != 2 + len(kernel_dims):
        raise ValueError(f"{op}: weight must be {2 + len(kernel_dims)}-D {layout}, got shape {tuple(weight.shape)}")
    if min(weight.shape) < 1:
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} is empty")
    if min(x.shape[2:]) < 1:
        what = {1: "elements along its length", 2: "pixels", 3: "voxels"}[len(kernel_dims)]
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} has no {what}")
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if x.shape[1] != expected:
        grouped = f" with groups={groups}" if groups != 1 else ""
        raise ValueError(f"{op}: input has {x.shape[1]} channels but weight of shape {tuple(weight.shape)}"
                         f"{grouped} expects {expected}")
    if weight.shape[0] % groups:
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} has {weight.shape[0]} rows, not divisible "
                         f"by groups={groups}")
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(f"{op}: bias of shape {tuple(bias.shape)} does not fit weight of shape "
                         f"{tuple(weight.shape)} (expects ({out_channels},))")
    named = [("input", x), ("weight", weight)] + ([] if bias is None else [("bias", bias)])
    for name, t in named:
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating point, got dtype {t.dtype} (shape {tuple(t.shape)})")
    for name, t in named[1:]:
        if t.dtype != x.dtype:
            raise ValueError(f"{op}: {name} dtype {t.dtype} (shape {tuple(t.shape)}) differs from input "
                             f"dtype {x.dtype} (shape {tuple(x.shape)})")
        if t.device != x.device:
            raise ValueError(f"{op}: {name} is on {t.device} (shape {tuple(t.shape)}) but input is on "
                             f"{x.device} (shape {tuple(x.shape)})")
    return x, weight, bias, groups


def _apply(function, x, weight, bias):
    return function.apply(x, weight) if bias is None else function.apply(x, weight, bias)


def _grouped(single, x, weight, bias, groups):
    """``single(x, weight, bias)`` once per group: channel slice g of x with weight rows g (axis 0 in
    both layouts) and the bias entries of group g's outputs, the outputs joined along the channels."""
    if groups == 1:
        return single(x, weight, bias)
    g_in, g_w = x.shape[1] // groups, weight.shape[0] // groups
    y = concat([single(getitem(x, (slice(None), slice(g * g_in, (g + 1) * g_in))),
                       getitem(weight, slice(g * g_w, (g + 1) * g_w)), None) for g in range(groups)], axis=1)
    return y if bias is None else y + reshape(bias, (1, -1, 1, 1))


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation as ``torch.nn.functional.conv2d`` (zero padding), with its argument order.

    y[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] xpad[n, g C/groups + c, i s + u d, j s + v d],
    g = o // (O / groups) being o's group. x (N, C, H, W), or (C, H, W) for one unbatched sample,
    weight (O, C / groups, kh, kw), bias (O,) -> (N, O, Ho, Wo) (or (O, Ho, Wo)); stride, padding and
    dilation are ints or (h, w) pairs. ``padding`` may also be PyTorch's strings: ``"valid"`` (no
    padding) or ``"same"`` (stride 1 only; Ho, Wo = H, W: d (k - 1) zeros in all, half before and the
    odd one, if any, after). A grouped convolution runs one convolution per group.
    """
    op = "conv2d"
    x = as_tensor(x)
    if x.ndim != 4:
        return unbatched(op, x, lambda batch: conv2d(batch, weight, bias, stride, padding, dilation, groups))
    x, weight, bias, groups = _operands(op, x, weight, bias, groups, transposed=False)
    if isinstance(padding, str):
        x, padding = _string_padding(op, x, weight, padding, stride, dilation)
    conv = _geometry(op, stride, padding, dilation, _shapes(x, weight))
    out = [conv_output_size(x.shape[2 + a], weight.shape[2 + a], conv[a], conv[2 + a], conv[4 + a]) for a in (0, 1)]
    if min(out) < 1:
        raise ValueError(f"{op}: output size would be {out[0]}x{out[1]} for input of shape {tuple(x.shape)} "
                         f"and weight of shape {tuple(weight.shape)} with stride {conv[0:2]}, padding "
                         f"{conv[2:4]}, dilation {conv[4:6]}: the input is smaller than the kernel")
    return _grouped(lambda x_, w, b: _apply(Conv2d(conv), x_, w, b), x, weight, bias, groups)


PADDING_STRINGS = ("valid", "same")


def check_padding_string(padding, stride, op, dims=2):
    """Refuse a padding string other than PyTorch's two, and "same" with a stride (whose output size
    could not be the input's). ``dims`` is the number of spatial axes: with 2 this checks ``stride`` as
    well; with 1 or 3 (conv1d, conv3d and their layers) the caller has checked it already (an int or a
    ``dims``-tuple)."""
    if padding not in PADDING_STRINGS:
        ints = {1: "a 1-tuple of ints", 2: "a pair of ints", 3: "a triple of ints"}[dims]
        raise ValueError(f"{op}: padding must be an int, {ints}, 'valid' or 'same', got {padding!r}")
    if dims == 2:
        strides = int_pair(stride, op, "stride", 1)
    else:
        strides = (int(stride),) if is_int(stride) else tuple(stride)
    if padding == "same" and set(strides) != {1}:
        raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride!r}")


def same_padding(kernel_size, dilation):
    """((top, bottom), (left, right)) for padding="same": d (k - 1) in all along each axis, so that the
    output keeps the input's size; when that is odd the odd one goes after the input, as in PyTorch."""
    totals = (d * (k - 1) for k, d in zip(kernel_size, dilation))
    return tuple((t // 2, t - t // 2) for t in totals)


def _string_padding(op, x, weight, padding, stride, dilation):
    """(x, symmetric padding) for ``padding`` "valid" or "same". The im2col kernels pad both sides
    alike, so "same"'s odd zero, if any, is appended to x as an explicit row or column."""
    check_padding_string(padding, stride, op)
    if padding == "valid":
        return x, 0
    d = int_pair(dilation, op, "dilation", 1, _shapes(x, weight))
    (top, bottom), (left, right) = same_padding(weight.shape[2:], d)
    return _zeros_after(x, bottom - top, right - left), (top, left)


def _zeros_after(x, rows, cols):
    """x (N, C, H, W) with ``rows`` rows of zeros appended below and ``cols`` columns on the right;
    the adjoint of cropping them off, so differentiable to any order."""
    if (rows, cols) == (0, 0):
        return x
    n, c, h, w = x.shape
    return GetItemGrad((slice(None), slice(None), slice(0, h), slice(0, w)), (n, c, h + rows, w + cols)).apply(x)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed convolution as ``torch.nn.functional.conv_transpose2d``, with its argument order.

    The adjoint of conv2d with the same weight: x (N, C, H, W), weight (C, O / groups, kh, kw), bias (O,)
    -> (N, O, Hout, Wout) with Hout = (H - 1) s - 2p + d (kh - 1) + output_padding + 1. output_padding
    (extra rows and columns at the bottom and right) must be smaller than the stride or the dilation.
    An unbatched (C, H, W) input gives an (O, Hout, Wout) output.
    """
    op = "conv_transpose2d"
    x = as_tensor(x)
    if x.ndim != 4:
        return unbatched(op, x, lambda batch: conv_transpose2d(batch, weight, bias, stride, padding, output_padding,
                                                               groups, dilation))
    x, weight, bias, groups = _operands(op, x, weight, bias, groups, transposed=True)
    shapes = _shapes(x, weight)
    conv = _geometry(op, stride, padding, dilation, shapes)
    extra = int_pair(output_padding, op, "output_padding", 0, shapes)
    for a, axis in enumerate(("height", "width")):
        if extra[a] >= max(conv[a], conv[4 + a]):
            raise ValueError(f"{op}: output_padding {extra[a]} along the {axis} must be smaller than the "
                             f"stride ({conv[a]}) or the dilation ({conv[4 + a]}) {shapes}")
    out = [(x.shape[2 + a] - 1) * conv[a] - 2 * conv[2 + a] + conv[4 + a] * (weight.shape[2 + a] - 1) + extra[a] + 1
           for a in (0, 1)]
    if min(out) < 1:
        raise ValueError(f"{op}: output size would be {out[0]}x{out[1]} for input of shape {tuple(x.shape)} "
                         f"and weight of shape {tuple(weight.shape)} with stride {conv[0:2]}, padding "
                         f"{conv[2:4]}, output_padding {extra}, dilation {conv[4:6]}: the padding is too large")
    return _grouped(lambda x_, w, b: _transposed(x_, w, b, conv, extra), x, weight, bias, groups)


def _transposed(x, weight, bias, conv, extra):
    # With a dilation larger than the stride, output_padding may reach the stride. Then the last
    # output rows also come from input rows past the end: append extra // s rows of zeros to x, and
    # what is left of output_padding is below the stride, which ConvTranspose2d needs (see its doc).
    x = _zeros_after(x, extra[0] // conv[0], extra[1] // conv[1])
    extra = (extra[0] % conv[0], extra[1] % conv[1])
    return _apply(ConvTranspose2d(conv, extra), x, weight, bias)
