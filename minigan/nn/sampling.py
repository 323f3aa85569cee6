"""Resampling layers: AvgPool1d/2d/3d, MaxPool1d/2d/3d, LPPool1d/2d/3d, Upsample (and its two fixed-mode forms),
AdaptiveAvgPool1d/2d/3d, AdaptiveMaxPool1d/2d/3d, PixelShuffle, PixelUnshuffle, ChannelShuffle, as ``torch.nn``'s, over
minigan's functional ops (MaxUnpool1d/2d/3d are in ``unpooling.py``).

They have no parameters. Each takes PyTorch's arguments with PyTorch's defaults and keeps them as given
(so ``repr`` is PyTorch's). The arguments are checked when the layer is built, so a bad layer fails there,
with the layer and argument named, rather than at its first call; the functional op checks them again,
against the input.
"""
from minigan.functional.adaptive_pooling import adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d
from minigan.functional.conv import positive_int
from minigan.functional.interpolation import (
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_output_size, check_interpolate_args,
    interpolate,
)
from minigan.functional.pooling import (
    avg_pool1d, avg_pool2d, avg_pool3d, check_divisor_override, int_tuple, lp_norm_type, lp_pool1d, lp_pool2d,
    lp_pool3d, max_pool1d, max_pool2d, max_pool3d,
)
from minigan.functional.sampling import channel_shuffle, pixel_shuffle, pixel_unshuffle
from minigan.nn.module import Module


def _check_window_args(layer, dims, kernel_size, stride, padding, dilation=1):
    """A pooling layer's window arguments checked when it is built, so that a bad layer fails there
    rather than at its first call (the functional op checks them again, against the input)."""
    kernel = int_tuple(kernel_size, dims, layer, "kernel_size", 1)
    int_tuple(stride, dims, layer, "stride", 1)
    pads = int_tuple(padding, dims, layer, "padding", 0)
    int_tuple(dilation, dims, layer, "dilation", 1)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(f"{layer}: padding {padding!r} must be at most half the kernel size {kernel_size!r}")


class AvgPool1d(Module):
    """Mean over windows of k elements along the last axis: (N, C, L) -> (N, C, Lo), or unbatched
    (C, L) -> (C, Lo); as ``torch.nn.AvgPool1d``, computed by ``F.avg_pool1d`` (which says what each
    argument means, ceil_mode and count_include_pad included).

    Like PyTorch's layer, this one keeps kernel_size, stride (defaulting to kernel_size) and padding as
    1-tuples, as its ``repr`` shows.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        stride = kernel_size if stride is None else stride
        _check_window_args("AvgPool1d", 1, kernel_size, stride, padding)
        single = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,)  # noqa: E731  (PyTorch's _single)
        self.kernel_size, self.stride, self.padding = single(kernel_size), single(stride), single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x):
        return avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPool(Module):
    """The shared implementation of AvgPool2d/3d; subclasses give ``dims``, the number of axes pooled, and
    ``pool``, the functional op. The arguments are checked when the layer is built and kept as given (an
    int stays an int), as PyTorch keeps them, so ``repr`` is PyTorch's (which shows kernel_size, stride
    and padding only)."""

    dims, pool = None, None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        stride = kernel_size if stride is None else stride
        _check_window_args(type(self).__name__, self.dims, kernel_size, stride, padding)
        check_divisor_override(type(self).__name__, divisor_override)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x):
        return self.pool(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                         self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPool):
    """Mean over kh x kw windows: (N, C, H, W) -> (N, C, Ho, Wo), Ho = floor((H + 2 ph - kh) / sh) + 1
    (likewise Wo, rounded up instead in ceil_mode), or unbatched (C, H, W) -> (C, Ho, Wo); as
    ``torch.nn.AvgPool2d``, computed by ``F.avg_pool2d`` (which says what each argument means: ceil_mode,
    count_include_pad and divisor_override all work).

    ``stride`` defaults to the kernel size; ``padding`` (zeros) may be at most half the kernel.
    """

    dims, pool = 2, staticmethod(avg_pool2d)


class AvgPool3d(_AvgPool):
    """Mean over kd x kh x kw windows: (N, C, D, H, W) -> (N, C, Do, Ho, Wo), or unbatched
    (C, D, H, W) -> (C, Do, Ho, Wo); as ``torch.nn.AvgPool3d``, computed by ``F.avg_pool3d`` (which says
    what each argument means: ceil_mode, count_include_pad and divisor_override all work)."""

    dims, pool = 3, staticmethod(avg_pool3d)


class _MaxPool(Module):
    """The shared implementation of MaxPool1d/2d/3d; subclasses give ``dims``, the number of axes pooled,
    and ``pool``, the functional op. The arguments are checked when the layer is built and kept as given
    (an int stays an int), as PyTorch keeps them, so ``repr`` is PyTorch's."""

    dims, pool = None, None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        stride = kernel_size if stride is None else stride
        _check_window_args(type(self).__name__, self.dims, kernel_size, stride, padding, dilation)
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return self.pool(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                         self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPool):
    """Maximum over windows of k elements, d apart: (N, C, L) -> (N, C, Lo), or unbatched (C, L) ->
    (C, Lo); as ``torch.nn.MaxPool1d``, computed by ``F.max_pool1d`` (which says what each argument
    means). With ``return_indices`` the layer returns (y, indices), each maximum's position in L."""

    dims, pool = 1, staticmethod(max_pool1d)


class MaxPool2d(_MaxPool):
    """Maximum over kh x kw windows: (N, C, H, W) -> (N, C, Ho, Wo), or unbatched (C, H, W) -> (C, Ho, Wo);
    as ``torch.nn.MaxPool2d``, computed by ``F.max_pool2d`` (which says what each argument means).

    ``stride`` defaults to the kernel size; ``padding`` (implicit -inf) may be at most half the kernel.
    With ``return_indices`` the layer returns (y, indices), the flat index of each maximum in its
    (H, W) plane, as PyTorch's.
    """

    dims, pool = 2, staticmethod(max_pool2d)


class MaxPool3d(_MaxPool):
    """Maximum over kd x kh x kw windows: (N, C, D, H, W) -> (N, C, Do, Ho, Wo), or unbatched
    (C, D, H, W) -> (C, Do, Ho, Wo); as ``torch.nn.MaxPool3d``, computed by ``F.max_pool3d`` (which says
    what each argument means). With ``return_indices`` the layer returns (y, indices), the flat position
    of each maximum in its (D, H, W) volume."""

    dims, pool = 3, staticmethod(max_pool3d)


class _LPPool(Module):
    """The shared implementation of LPPool1d/2d/3d; subclasses give ``dims``, the number of axes pooled, and
    ``pool``, the functional op. The arguments are checked when the layer is built and kept as given (stride
    None stays None), as PyTorch keeps them, so ``repr`` is PyTorch's."""

    dims, pool = None, None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        name = type(self).__name__
        lp_norm_type(name, norm_type)
        int_tuple(kernel_size, self.dims, name, "kernel_size", 1)
        if stride is not None:
            int_tuple(stride, self.dims, name, "stride", 1)
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, x):
        return self.pool(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    """Power-average pooling over windows of k elements: (N, C, L) -> (N, C, Lo), or unbatched (C, L) ->
    (C, Lo); y = (sum of x^p over the window)^(1/p), as ``torch.nn.LPPool1d``, computed by ``F.lp_pool1d``
    (``F.lp_pool2d`` gives the formula, ceil_mode's overhanging windows and p = inf included)."""

    dims, pool = 1, staticmethod(lp_pool1d)


class LPPool2d(_LPPool):
    """Power-average pooling over kh x kw windows: (N, C, H, W) -> (N, C, Ho, Wo), or unbatched
    (C, H, W) -> (C, Ho, Wo); y = (sum of x^p over the window)^(1/p), as ``torch.nn.LPPool2d``, computed by
    ``F.lp_pool2d`` (which gives the formula). p = 1 is sum pooling; p = inf max pooling of |x|."""

    dims, pool = 2, staticmethod(lp_pool2d)


class LPPool3d(_LPPool):
    """Power-average pooling over kd x kh x kw windows: (N, C, D, H, W) -> (N, C, Do, Ho, Wo), or unbatched
    (C, D, H, W) -> (C, Do, Ho, Wo), as ``torch.nn.LPPool3d``, computed by ``F.lp_pool3d`` (``F.lp_pool2d``
    gives the formula)."""

    dims, pool = 3, staticmethod(lp_pool3d)


class Upsample(Module):
    """Resize the spatial axes: (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size``, or by
    ``scale_factor``, in ``mode`` (trilinear for 5-D input); as ``torch.nn.Upsample``, computed by
    ``F.interpolate`` (which says what each argument means; like PyTorch's layer, this one takes no
    ``antialias``). The arguments are checked when the layer is built; ``scale_factor`` is kept as
    float(s) and the rest as given, as PyTorch keeps them, so ``repr`` is PyTorch's."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        check_interpolate_args(type(self).__name__, size, scale_factor, mode, align_corners, recompute_scale_factor)
        self.size = tuple(size) if isinstance(size, list) else size
        if scale_factor is not None:
            pair = isinstance(scale_factor, (tuple, list))
            scale_factor = tuple(float(f) for f in scale_factor) if pair else float(scale_factor)
        self.scale_factor, self.mode, self.align_corners = scale_factor, mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self):
        given = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{given}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode="nearest")``, as ``torch.nn.UpsamplingNearest2d``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode="bilinear", align_corners=True)``, as
    ``torch.nn.UpsamplingBilinear2d``: the corner pixels of input and output coincide."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class _AdaptivePool(Module):
    """What the adaptive poolings share; subclasses give ``dims``, the number of axes pooled, and ``pool``,
    the functional op. ``output_size`` is checked when the layer is built and kept as given (as PyTorch
    keeps it, so ``repr`` is PyTorch's)."""

    dims, pool = None, None

    def __init__(self, output_size):
        super().__init__()
        adaptive_output_size(type(self).__name__, output_size, self.dims)
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size!r}"


class _AdaptiveAvgPool(_AdaptivePool):
    def forward(self, x):
        return self.pool(x, self.output_size)


class AdaptiveAvgPool1d(_AdaptiveAvgPool):
    """Average over windows that tile the last axis, to a fixed output size: (N, C, L) -> (N, C, ol), or
    unbatched (C, L) -> (C, ol); as ``torch.nn.AdaptiveAvgPool1d`` (``F.adaptive_avg_pool1d`` gives the
    windows). ``output_size`` is an int or a 1-tuple."""

    dims, pool = 1, staticmethod(adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPool):
    """Average over windows that tile the input, to a fixed output size: (N, C, H, W) -> (N, C, oh, ow),
    or unbatched; as ``torch.nn.AdaptiveAvgPool2d`` (``F.adaptive_avg_pool2d`` gives the windows)."""

    dims, pool = 2, staticmethod(adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPool):
    """Average over windows that tile the last three axes, to a fixed output size:
    (N, C, D, H, W) -> (N, C, od, oh, ow), or unbatched (C, D, H, W) -> (C, od, oh, ow); as
    ``torch.nn.AdaptiveAvgPool3d`` (``F.adaptive_avg_pool3d`` gives the windows). ``output_size`` is an
    int or a triple, None in it keeping that axis's size."""

    dims, pool = 3, staticmethod(adaptive_avg_pool3d)


class _AdaptiveMaxPool(_AdaptivePool):
    """``return_indices`` too, which PyTorch's ``repr`` does not show."""

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, x):
        return self.pool(x, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Maximum over windows that tile the last axis, to a fixed output size: (N, C, L) -> (N, C, ol), or
    unbatched (C, L) -> (C, ol); y[..., i] = max of x[..., j] for floor(i L / ol) <= j < ceil((i + 1) L / ol).
    As ``torch.nn.AdaptiveMaxPool1d`` (``F.adaptive_max_pool1d``); ``output_size`` is an int or a 1-tuple.
    With ``return_indices`` the layer returns (y, indices), the int64 position of each maximum."""

    dims, pool = 1, staticmethod(adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Maximum over windows that tile the input, to a fixed output size: (N, C, H, W) -> (N, C, oh, ow), or
    unbatched (C, H, W) -> (C, oh, ow); output (i, j) is the maximum over rows floor(i H / oh) ..
    ceil((i + 1) H / oh) - 1 and likewise columns. As ``torch.nn.AdaptiveMaxPool2d``
    (``F.adaptive_max_pool2d``); ``output_size`` is an int or a pair, None in it keeping that axis's size.
    With ``return_indices`` the layer returns (y, indices), each maximum's flat position r W + q in its
    plane."""

    dims, pool = 2, staticmethod(adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Maximum over windows that tile the last three axes, to a fixed output size:
    (N, C, D, H, W) -> (N, C, od, oh, ow), or unbatched (C, D, H, W) -> (C, od, oh, ow), the windows along
    each axis as in ``AdaptiveMaxPool2d``. As ``torch.nn.AdaptiveMaxPool3d`` (``F.adaptive_max_pool3d``);
    ``output_size`` is an int or a triple, None in it keeping that axis's size. With ``return_indices`` the
    layer returns (y, indices), each maximum's flat position (d H + r) W + q in its volume."""

    dims, pool = 3, staticmethod(adaptive_max_pool3d)


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r): y[..., c, h r + i, w r + j] = x[..., c r^2 + i r + j, h, w],
    as ``torch.nn.PixelShuffle`` (sub-pixel convolution, Shi et al. 2016: a convolution to C r^2
    channels followed by this is a learned upsampler without transposed convolution's checkerboard)."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = positive_int(upscale_factor, "PixelShuffle", "upscale_factor")

    def forward(self, x):
        return pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W): y[..., c r^2 + i r + j, h, w] = x[..., c, h r + i, w r + j], the
    inverse of ``PixelShuffle``, as ``torch.nn.PixelUnshuffle`` (a lossless downsampler: each r x r block
    becomes r^2 channels)."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = positive_int(downscale_factor, "PixelUnshuffle", "downscale_factor")

    def forward(self, x):
        return pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """(N, C, *) -> (N, C, *) with the channels of ``groups`` groups interleaved: y[:, j g + i] = x[:, i k + j]
    for C = g k, as ``torch.nn.ChannelShuffle`` (``F.channel_shuffle``; ShuffleNet's shuffle between grouped
    convolutions). ``groups`` is checked when the layer is built (PyTorch checks it at the first call)."""

    def __init__(self, groups):
        super().__init__()
        self.groups = positive_int(groups, "ChannelShuffle", "groups")

    def forward(self, x):
        return channel_shuffle(x, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
