"""Resampling and noise: dropout, upsample_nearest2d, pixel_shuffle, pixel_unshuffle (PyTorch semantics;
``interpolation.py`` resizes by any size or factor in every interpolation mode, ``pooling.py`` pools).

Only dropout is a Function of its own; the others are built from shape ops, so their gradients (and
gradients of gradients) come from those ops' backward.
"""
import numpy as np

from minigan import random
from minigan.function import Function
from minigan.functional.arguments import is_int, is_number
from minigan.functional.conv import int_pair
from minigan.functional.shape import as_tensor, broadcast_to, reshape, transpose


def _check_4d(op, x):
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {tuple(x.shape)}")


class Dropout(Function):
    """y = x * mask / (1 - p) for a fixed keep-mask (bool, drawn once per call).

    Linear in x, so the gradient is the same map applied to gy, with the same mask; the mask is
    kept as bools (1 byte an element) rather than as scaled floats.
    """

    def __init__(self, mask, scale):
        self.mask, self.scale = mask, scale

    def forward(self, x):
        y = x * self.mask
        y *= x.dtype.type(self.scale)
        return y

    def backward(self, gy):
        return Dropout(self.mask, self.scale).apply(gy)


def dropout(x, p=0.5, training=True):
    """Inverted dropout (Srivastava et al. 2014): zero each element with probability p, scale the rest
    by 1 / (1 - p), so the expectation is unchanged and evaluation is the identity.

    The mask comes from ``minigan.random.generator(x.device)``, so ``mg.manual_seed`` repeats it.
    """
    if not is_number(p) or not 0 <= p < 1:
        raise ValueError(f"dropout: p must be a number in [0, 1), got {p!r}")
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"dropout: input must be floating point, got dtype {x.dtype} (shape {tuple(x.shape)})")
    if not training or p == 0:
        return x
    keep = random.generator(x.device).random(x.shape, dtype=np.float32) >= p
    return Dropout(keep, 1.0 / (1.0 - float(p))).apply(x)


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
