"""Convolution layers: Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d and ConvTranspose3d, with
PyTorch's arguments, layouts and init.

Weights: Conv2d (out_channels, in_channels / groups, kh, kw); ConvTranspose2d (in_channels,
out_channels / groups, kh, kw); the 1-D layers the same with one kernel axis, (out_channels,
in_channels / groups, k) and (in_channels, out_channels / groups, k), the 3-D ones the same with three,
(kD, kH, kW). All are initialised as PyTorch
does, ``kaiming_uniform_(a=sqrt(5))`` and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with PyTorch's
fan_in = weight.shape[1] * (the product of the kernel sizes). Grouped convolutions are the functional
ops' ``groups``: one convolution per group on slices of the channels and weights. A ``padding_mode``
other than "zeros" pads with ``F.pad`` in that mode and then convolves without padding, as PyTorch
does; the transposed layers take "zeros" only, as in PyTorch. The 1-D, 2-D and 3-D layers are one
class, ``_Conv``, with ``dims`` spatial axes; their forward calls F.conv1d (itself conv2d on a plane of
height one), F.conv2d or F.conv3d (and the transposed ones).

Unfold and Fold, which PyTorch files among its convolution layers too, hold no parameters: they are
``F.unfold`` (im2col) and ``F.fold`` (col2im) with their arguments fixed.
"""
import math

from minigan.functional.conv import (
    check_padding_string, conv2d, conv_transpose2d, int_pair, positive_int, same_padding,
)
from minigan.functional.conv1d import conv1d, conv_transpose1d
from minigan.functional.conv3d import conv3d, conv_transpose3d
from minigan.functional.fold import fold, unfold
from minigan.functional.padding import pad
from minigan.functional.pooling import int_tuple
from minigan.nn import init
from minigan.nn.module import Module, new_parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}  # the input's spatial axes, by their number, for error messages


class _Conv(Module):
    """What the convolution layers share: argument handling, parameters, init, repr and the forward
    pass. ``dims`` is the number of spatial axes: the sizes are ``dims``-tuples (ints or ``dims``-tuples
    as given); ``op`` is the functional convolution of that many axes."""

    transposed = False
    dims = 2
    op = None

    def forward(self, x):
        self._check_channels(x)
        if self.transposed:
            return self.op(x, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.groups,
                           self.dilation)
        if self.padding_mode == "zeros":
            return self.op(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        # Another fill for the border: pad first, then convolve with no padding of the op's own.
        x = pad(x, self._pad_amounts(), self.padding_mode)
        return self.op(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, output_padding, device, dtype):
        super().__init__()
        layer = type(self).__name__
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{layer}: padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, "
                             f"got {padding_mode!r}")
        if self.transposed and padding_mode != "zeros":
            raise ValueError(f"{layer}: only padding_mode='zeros' is supported (as in PyTorch), got {padding_mode!r}")
        groups = positive_int(groups, layer, "groups")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{layer}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                             f"both be divisible by groups ({groups})")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        dims = self.dims
        self.kernel_size = int_tuple(kernel_size, dims, layer, "kernel_size", 1)
        self.stride = int_tuple(stride, dims, layer, "stride", 1)
        if isinstance(padding, str) and not self.transposed:
            check_padding_string(padding, stride, layer, dims)  # kept as the string, as PyTorch keeps it
            self.padding = padding
        else:
            self.padding = int_tuple(padding, dims, layer, "padding", 0)
        self.dilation = int_tuple(dilation, dims, layer, "dilation", 1)
        self.output_padding = int_tuple(output_padding, dims, layer, "output_padding", 0)
        self.padding_mode = padding_mode
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = new_parameter(shape, device, dtype)
        self.register_parameter("bias", new_parameter((self.out_channels,), device, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = init.calculate_fan_in_and_fan_out(self.weight)[0]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _check_channels(self, x):
        c, axes = self.in_channels, _SPATIAL[self.dims]
        if x.ndim not in (self.dims + 1, self.dims + 2) or x.shape[-self.dims - 1] != c:
            raise ValueError(f"{type(self).__name__}: expected input (N, {c}, {axes}) or unbatched ({c}, {axes}), "
                             f"got shape {tuple(x.shape)}")

    def _pad_amounts(self):
        """``self.padding`` as F.pad's amounts, the last axis first ((left, right, top, bottom) in 2-D,
        (left, right) in 1-D, then (front, back) in 3-D); "same" split as the functional convolutions
        split it."""
        if self.padding == "valid":
            pairs = ((0, 0),) * self.dims
        elif self.padding == "same":
            pairs = same_padding(self.kernel_size, self.dilation)
        else:
            pairs = tuple((p, p) for p in self.padding)
        return sum(reversed(pairs), ())

    def extra_repr(self):
        ones, zeros = (1,) * self.dims, (0,) * self.dims
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != zeros:
            text += f", padding={self.padding}"
        if self.dilation != ones:
            text += f", dilation={self.dilation}"
        if self.output_padding != zeros:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"  # unquoted, as PyTorch prints it
        return text


class Conv2d(_Conv):
    """2-D convolution (cross-correlation), NCHW, as ``torch.nn.Conv2d``; ``padding`` may be "valid" or
    "same" (stride 1), and an unbatched (C, H, W) input gives an unbatched output. ``padding_mode`` is
    "zeros", "reflect", "replicate" or "circular": what fills the ``padding`` border (see ``F.pad``)."""

    op = staticmethod(conv2d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, device, dtype)


class ConvTranspose2d(_Conv):
    """Transposed 2-D convolution, as ``torch.nn.ConvTranspose2d`` (the DCGAN generator's upsampler); an
    unbatched (C, H, W) input gives an unbatched output."""

    transposed = True
    op = staticmethod(conv_transpose2d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device, dtype)


class Conv1d(_Conv):
    """1-D convolution (cross-correlation), (N, C, L) -> (N, O, Lo), as ``torch.nn.Conv1d``: weight
    (out_channels, in_channels / groups, k), bias (out_channels,), Lo = floor((L + 2p - d (k - 1) - 1) / s) + 1.
    ``padding`` may be "valid" or "same" (stride 1), and an unbatched (C, L) input gives an unbatched
    output. ``padding_mode`` is "zeros", "reflect", "replicate" or "circular": what fills the
    ``padding`` border (see ``F.pad``)."""

    dims = 1
    op = staticmethod(conv1d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, device, dtype)


class ConvTranspose1d(_Conv):
    """Transposed 1-D convolution, (N, C, L) -> (N, O, Lout), as ``torch.nn.ConvTranspose1d``: weight
    (in_channels, out_channels / groups, k), bias (out_channels,),
    Lout = (L - 1) s - 2p + d (k - 1) + output_padding + 1; an unbatched (C, L) input gives an
    unbatched output."""

    transposed = True
    dims = 1
    op = staticmethod(conv_transpose1d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device, dtype)


class Conv3d(_Conv):
    """3-D convolution (cross-correlation), (N, C, D, H, W) -> (N, O, Do, Ho, Wo), as ``torch.nn.Conv3d``:
    weight (out_channels, in_channels / groups, kD, kH, kW), bias (out_channels,). ``padding`` may be
    "valid" or "same" (stride 1), and an unbatched (C, D, H, W) input gives an unbatched output.
    ``padding_mode`` is "zeros", "reflect", "replicate" or "circular": what fills the ``padding``
    border (see ``F.pad``)."""

    dims = 3
    op = staticmethod(conv3d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, device, dtype)


class ConvTranspose3d(_Conv):
    """Transposed 3-D convolution, (N, C, D, H, W) -> (N, O, Dout, Hout, Wout), as
    ``torch.nn.ConvTranspose3d``: weight (in_channels, out_channels / groups, kD, kH, kW), bias
    (out_channels,), Dout = (D - 1) s - 2p + d (k - 1) + output_padding + 1 (likewise Hout, Wout); an
    unbatched (C, D, H, W) input gives an unbatched output."""

    transposed = True
    dims = 3
    op = staticmethod(conv_transpose3d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device, dtype)


def _check_block_args(layer, kernel_size, dilation, padding, stride):
    """Refuse bad sizes when the layer is built (PyTorch waits for the first forward), in F.unfold's terms."""
    int_pair(kernel_size, layer, "kernel_size", 1)
    int_pair(dilation, layer, "dilation", 1)
    int_pair(padding, layer, "padding", 0)
    int_pair(stride, layer, "stride", 1)


class Unfold(Module):
    """The sliding blocks of the input as columns, as ``torch.nn.Unfold``: (N, C, H, W) -> (N, C kh kw, L), or
    unbatched (C, H, W) -> (C kh kw, L), computed by ``F.unfold`` (which gives the element order and L).
    The arguments are kept as given (an int stays an int), as PyTorch keeps them, so ``repr`` is PyTorch's."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        _check_block_args(type(self).__name__, kernel_size, dilation, padding, stride)
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, x):
        return unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """Sliding blocks summed back into an image of ``output_size``, as ``torch.nn.Fold``: (N, C kh kw, L) ->
    (N, C, H, W), or unbatched (C kh kw, L) -> (C, H, W), computed by ``F.fold`` (Unfold's adjoint). The
    arguments are kept as given, as PyTorch keeps them, so ``repr`` is PyTorch's."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        layer = type(self).__name__
        int_pair(output_size, layer, "output_size", 1)
        _check_block_args(layer, kernel_size, dilation, padding, stride)
        self.output_size = output_size
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, x):
        return fold(x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
