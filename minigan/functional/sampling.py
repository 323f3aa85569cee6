"""Resampling and noise: gumbel_softmax, upsample_nearest2d, pixel_shuffle, pixel_unshuffle,
channel_shuffle (PyTorch semantics; ``interpolation.py`` resizes by any size or factor in every
interpolation mode, ``pooling.py`` pools, ``dropout.py`` has the dropout family).

Each is built from shape ops (and gumbel_softmax from softmax), so their gradients (and gradients of
gradients) come from those ops' backward.
"""
import warnings

import numpy as np

from minigan import random
from minigan.backend import get_array_module
from minigan.functional.activation import softmax
from minigan.functional.arguments import is_int, is_number
from minigan.functional.conv import int_pair
from minigan.functional.shape import as_tensor, broadcast_to, checked_axis, reshape, transpose


def _check_4d(op, x):
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {tuple(x.shape)}")


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A sample of the Gumbel-softmax (concrete) distribution (Jang et al. 2017; Maddison et al. 2017),
    as ``torch.nn.functional.gumbel_softmax``: y = softmax((logits + g) / tau) along ``dim``, where
    g = -log(E), E ~ Exp(1) element-wise, is standard Gumbel noise. As tau -> 0, y tends to the one-hot
    of argmax(logits + g), a draw from the categorical distribution softmax(logits) (the Gumbel-max
    trick); a larger tau gives a smoother sample. y has the shape of ``logits`` and sums to 1 along dim.

    ``hard=True`` returns that one-hot exactly, with the soft sample's gradient (straight-through:
    y = y_soft + (y_hard - y_soft), the bracket a constant). ``eps`` is in PyTorch's argument list but
    unused there (deprecated): passing another value warns, as PyTorch does. The noise comes from
    ``minigan.random.generator(logits.device)`` in the logits' dtype, so ``mg.manual_seed`` repeats it.
    Unlike PyTorch, tau must be positive (tau = 0 would give NaNs, a negative one the opposite
    preference), and logits need an axis to sample along, not empty.
    """
    op = "gumbel_softmax"
    logits = as_tensor(logits)
    if logits.dtype.kind != "f":
        raise TypeError(f"{op}: logits must be floating point, got dtype {logits.dtype} "
                        f"(shape {tuple(logits.shape)})")
    if not is_number(tau) or not tau > 0:
        raise ValueError(f"{op}: tau must be a positive number, got {tau!r}")
    if eps != 1e-10:
        warnings.warn(f"{op}: eps is deprecated in PyTorch and has no effect", UserWarning, stacklevel=2)
    if not is_int(dim):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    axis = checked_axis(op, dim, logits.ndim)
    if logits.shape[axis] == 0:
        raise ValueError(f"{op}: logits of shape {tuple(logits.shape)} have no categories along dim {dim}")
    xp = get_array_module(logits.data)
    exponentials = random.generator(logits.device).standard_exponential(logits.shape, dtype=logits.dtype)
    # Float32 draws are exactly 0 about once in 2^23 (then -log gives inf, and softmax NaNs): clamp them
    # to the smallest normal number, which lies far below what the exponential reaches otherwise.
    gumbels = -xp.log(xp.maximum(exponentials, np.finfo(logits.dtype).tiny))
    return _gumbel_softmax(logits, gumbels, float(tau), hard, axis)


def _gumbel_softmax(logits, gumbels, tau, hard, axis):
    """``gumbel_softmax`` for the given Gumbel noise (an array of the logits' shape): tests give their
    own noise, to compare with the same formula in PyTorch."""
    y_soft = softmax((logits + gumbels) / tau, axis)
    if not hard:
        return y_soft
    xp, soft = y_soft._xp, y_soft.data
    index = xp.argmax(soft, axis=axis, keepdims=True)
    categories = xp.arange(soft.shape[axis]).reshape((-1,) + (1,) * (soft.ndim - axis - 1))
    y_hard = (categories == index).astype(soft.dtype)
    # PyTorch's (y_hard - y_soft) + y_soft, summed in either order: exactly 0 off the argmax, and exactly 1
    # at it (1 - s is off by at most half an ulp below 1, which adding s back rounds away).
    return y_soft + (y_hard - soft)


def upsample_nearest2d(x, scale_factor):
    """Nearest-neighbour upsampling by an integer factor (or (fh, fw)): each pixel becomes an fh x fw
    block, as ``torch.nn.functional.interpolate(x, scale_factor=f, mode="nearest")``.

    A broadcast of x (N, C, H, 1, W, 1) to (N, C, H, fh, W, fw); the gradient sums each block.
    """
    op = "upsample_nearest2d"
    x = as_tensor(x)
    _check_4d(op, x)
    fh, fw = int_pair(scale_factor, op, "scale_factor", 1)
    n, c, h, w = x.shape
    blocks = broadcast_to(reshape(x, (n, c, h, 1, w, 1)), (n, c, h, fh, w, fw))
    return reshape(blocks, (n, c, h * fh, w * fw))


def pixel_shuffle(x, upscale_factor):
    """Rearrange (*, C r^2, H, W) into (*, C, H r, W r), as ``torch.nn.functional.pixel_shuffle``
    (Shi et al. 2016): y[..., c, h r + i, w r + j] = x[..., c r^2 + i r + j, h, w].
    """
    op = "pixel_shuffle"
    x = as_tensor(x)
    if isinstance(upscale_factor, (tuple, list)):
        raise TypeError(f"{op}: upscale_factor must be an int, got {upscale_factor!r}")
    r = int_pair(upscale_factor, op, "upscale_factor", 1)[0]
    if x.ndim < 3:
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} must have at least 3 dimensions (*, C, H, W)")
    if x.shape[-3] % (r * r):
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} must be (*, C * {r * r}, H, W) for "
                         f"upscale_factor {r}: its channels must be divisible by {r * r}")
    lead, (cr, h, w) = x.shape[:-3], x.shape[-3:]
    c, k = cr // (r * r), len(x.shape) - 3
    y = reshape(x, lead + (c, r, r, h, w))
    y = transpose(y, tuple(range(k)) + tuple(k + a for a in (0, 3, 1, 4, 2)))
    return reshape(y, lead + (c, h * r, w * r))


def pixel_unshuffle(x, downscale_factor):
    """Rearrange (*, C, H r, W r) into (*, C r^2, H, W), the inverse of ``pixel_shuffle``, as
    ``torch.nn.functional.pixel_unshuffle``: y[..., c r^2 + i r + j, h, w] = x[..., c, h r + i, w r + j]
    (each r x r block becomes r^2 channels, row by row). Any number of leading axes, none included;
    the height and width must be multiples of r. An empty input gets that shape too, as pixel_shuffle's
    does (PyTorch's pixel_unshuffle returns an empty input as it is).
    """
    op = "pixel_unshuffle"
    x = as_tensor(x)
    if not is_int(downscale_factor):
        raise TypeError(f"{op}: downscale_factor must be an int, got {downscale_factor!r}")
    if downscale_factor < 1:
        raise ValueError(f"{op}: downscale_factor must be at least 1, got {downscale_factor!r}")
    r = int(downscale_factor)
    if x.ndim < 3:
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} must have at least 3 dimensions (*, C, H, W)")
    lead, (c, hr, wr) = x.shape[:-3], x.shape[-3:]
    for name, size in (("height", hr), ("width", wr)):
        if size % r:
            raise ValueError(f"{op}: input of shape {tuple(x.shape)} must be (*, C, H * {r}, W * {r}) for "
                             f"downscale_factor {r}: its {name} {size} is not divisible by {r}")
    h, w, k = hr // r, wr // r, len(lead)
    y = reshape(x, lead + (c, h, r, w, r))
    y = transpose(y, tuple(range(k)) + tuple(k + a for a in (0, 2, 4, 1, 3)))
    return reshape(y, lead + (c * r * r, h, w))


def channel_shuffle(input, groups):
    """Interleave the channels of ``groups`` groups, as ``torch.nn.functional.channel_shuffle`` (ShuffleNet,
    Zhang et al. 2018, so that the next grouped convolution sees channels from every group): input
    (N, C, *) with C = g k, at least 3 axes, any dtype; the j-th channel of group i moves to j g + i,
    y[:, j g + i] = x[:, i k + j]. A reshape to (N, g, k, *), a swap of g and k, and a reshape back.
    """
    op = "channel_shuffle"
    x = as_tensor(input)
    if not is_int(groups):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"{op}: groups must be positive, got {groups!r}")
    if x.ndim < 3:
        raise ValueError(f"{op}: input must have at least 3 axes (N, C, *), got shape {tuple(x.shape)}")
    n, c, rest = x.shape[0], x.shape[1], x.shape[2:]
    if c % groups:
        raise ValueError(f"{op}: the {c} channels of input of shape {tuple(x.shape)} cannot be split into "
                         f"{groups} groups")
    g = int(groups)
    y = reshape(x, (n, g, c // g) + rest)
    y = transpose(y, (0, 2, 1) + tuple(range(3, y.ndim)))
    return reshape(y, x.shape)
