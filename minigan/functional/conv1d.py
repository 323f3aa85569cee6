"""1-D convolution: conv1d and conv_transpose1d as ``torch.nn.functional``'s, computed by conv2d and
conv_transpose2d on a plane of height one.

Shapes, with stride s, padding p, dilation d and kernel length k:

    conv1d            x (N, C, L), W (O, C / groups, k), b (O,) -> y (N, O, Lo),
                      Lo = floor((L + 2p - d (k - 1) - 1) / s) + 1
    conv_transpose1d  x (N, C, L), W (C, O / groups, k), b (O,) -> y (N, O, Lout),
                      Lout = (L - 1) s - 2p + d (k - 1) + output_padding + 1

A 1-D convolution is the 2-D one of an input and a kernel of height one: x (N, C, L) seen as
(N, C, 1, L), W as (O, C / groups, 1, k) (or (C, O / groups, 1, k)), with stride (1, s), padding (0, p),
dilation (1, d) and output_padding (0, output_padding). Along the height there is then a single term,
kernel row 0 on input row 0, so the 2-D result (N, O, 1, Lo) is the 1-D one with a unit axis, exactly.
Each op here is that reshape in, the 2-D op, and a reshape out. The im2col/col2im kernels, the GEMMs,
the batch chunking, the channels-last layout and every gradient (to any order: a reshape's gradient is
the reshape back, itself differentiable) are conv2d's: this module holds no convolution code of its
own. Adding or dropping a unit axis is a view, so one convolution's channels-last output reaches the
next one as channels-last, as between 2-D layers.

What is 1-D here is the checking. The arguments are checked as the 1-D op's (an int or a 1-tuple for
stride, padding, dilation and output_padding, 3-D weights, lengths), so an error names conv1d or
conv_transpose1d and 3-D shapes; the 2-D op then finds nothing left to refuse, and its messages, which
speak of heights, widths and 4-D shapes, never reach the caller.
"""
from minigan.functional.conv import _operands, _shapes, check_padding_string, conv2d, conv_transpose2d
from minigan.functional.pooling import int_tuple
from minigan.functional.shape import as_tensor, reshape, unbatched
from minigan.kernels.reference import conv_output_size


def _single(value, op, name, minimum, shapes=""):
    """``value`` (an int, or a tuple or list of one int) as an int at least ``minimum``, as PyTorch's
    1-D ops take it."""
    return int_tuple(value, 1, op, name, minimum, shapes)[0]


def _plane(t):
    """(A, B, L) as (A, B, 1, L): an input or a weight as the 2-D op's, a view."""
    a, b, length = t.shape
    return reshape(t, (a, b, 1, length))


def _line(y):
    """The 2-D op's (N, O, 1, L) result as (N, O, L), a view."""
    n, o, _, length = y.shape
    return reshape(y, (n, o, length))


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation as ``torch.nn.functional.conv1d`` (zero padding), with its argument order.

    y[n, o, i] = b[o] + sum_{c, u} W[o, c, u] xpad[n, g C/groups + c, i s + u d], g = o // (O / groups)
    being o's group. x (N, C, L), or (C, L) for one unbatched sample, weight (O, C / groups, k), bias (O,)
    -> (N, O, Lo) (or (O, Lo)), Lo = floor((L + 2p - d (k - 1) - 1) / s) + 1. stride, padding and
    dilation are ints or 1-tuples; ``padding`` may also be ``"valid"`` (no padding) or ``"same"``
    (stride 1 only; Lo = L: d (k - 1) zeros in all, half before the input and the odd one, if any,
    after it, as in PyTorch). Computed by conv2d on (N, C, 1, L) (see the module doc).
    """
    op = "conv1d"
    x = as_tensor(x)
    if x.ndim != 3:
        return unbatched(op, x, lambda batch: conv1d(batch, weight, bias, stride, padding, dilation, groups),
                         spatial=("L",))
    x, weight, bias, groups = _operands(op, x, weight, bias, groups, transposed=False, kernel_dims=("k",))
    shapes = _shapes(x, weight)
    s = _single(stride, op, "stride", 1, shapes)
    d = _single(dilation, op, "dilation", 1, shapes)
    if isinstance(padding, str):
        check_padding_string(padding, stride, op, dims=1)  # "valid" or "same", else an error
        p = None if padding == "same" else 0
    else:
        p = _single(padding, op, "padding", 0, shapes)
    pad2d = "same" if p is None else (0, p)  # conv2d splits "same"'s zeros as PyTorch's conv1d does
    length, k = x.shape[2], weight.shape[2]
    if p is not None:  # "same" keeps the length, which _operands has found to be at least 1
        out = conv_output_size(length, k, s, p, d)
        if out < 1:
            raise ValueError(f"{op}: output length would be {out} for input of shape {tuple(x.shape)} and weight "
                             f"of shape {tuple(weight.shape)} with stride {s}, padding {p}, dilation {d}: the "
                             f"padded input (length {length + 2 * p}) is shorter than the kernel (spanning "
                             f"{d * (k - 1) + 1})")
    return _line(conv2d(_plane(x), _plane(weight), bias, (1, s), pad2d, (1, d), groups))


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution as ``torch.nn.functional.conv_transpose1d``, with its argument order.

    The adjoint of conv1d with the same weight: each x[n, c, i] adds x[n, c, i] W[c, o, u] at output
    position i s + u d - p. x (N, C, L), or unbatched (C, L), weight (C, O / groups, k), bias (O,)
    -> (N, O, Lout) (or (O, Lout)), Lout = (L - 1) s - 2p + d (k - 1) + output_padding + 1.
    stride, padding, output_padding and dilation are ints or 1-tuples; output_padding (extra positions
    at the end) must be smaller than the stride or the dilation. Computed by conv_transpose2d on
    (N, C, 1, L) (see the module doc).
    """
    op = "conv_transpose1d"
    x = as_tensor(x)
    if x.ndim != 3:
        return unbatched(op, x, lambda batch: conv_transpose1d(batch, weight, bias, stride, padding, output_padding,
                                                               groups, dilation), spatial=("L",))
    x, weight, bias, groups = _operands(op, x, weight, bias, groups, transposed=True, kernel_dims=("k",))
    shapes = _shapes(x, weight)
    s = _single(stride, op, "stride", 1, shapes)
    p = _single(padding, op, "padding", 0, shapes)
    extra = _single(output_padding, op, "output_padding", 0, shapes)
    d = _single(dilation, op, "dilation", 1, shapes)
    if extra >= max(s, d):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than the stride ({s}) or the dilation "
                         f"({d}) {shapes}")
    length, k = x.shape[2], weight.shape[2]
    out = (length - 1) * s - 2 * p + d * (k - 1) + extra + 1
    if out < 1:
        raise ValueError(f"{op}: output length would be {out} for input of shape {tuple(x.shape)} and weight of "
                         f"shape {tuple(weight.shape)} with stride {s}, padding {p}, output_padding {extra}, "
                         f"dilation {d}: the padding is too large")
    return _line(conv_transpose2d(_plane(x), _plane(weight), bias, (1, s), (0, p), (0, extra), groups, (1, d)))
