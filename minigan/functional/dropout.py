"""PyTorch's dropout family:

* ``dropout`` zeros single elements (Srivastava et al., "Dropout: a simple way to prevent neural
  networks from overfitting", 2014) and scales the rest by 1 / (1 - p), so the expectation is unchanged
  and evaluation is the identity.
* ``dropout1d``, ``dropout2d``, ``dropout3d`` zero whole channels (Tompson et al., "Efficient object
  localization using convolutional networks", 2015): neighbouring pixels of a feature map are so
  correlated that dropping single ones barely regularises, so each (sample, channel) map is kept or
  dropped as a whole, and the kept ones are scaled by 1 / (1 - p).
* ``alpha_dropout`` and ``feature_alpha_dropout`` (Klambauer et al., "Self-normalizing neural networks",
  2017) keep SELU's zero mean and unit variance: a dropped unit is set to SELU's negative saturation
  alpha' = -scale * alpha instead of 0, and then everything goes through the affine map a x + b that
  brings mean 0 and variance 1 back.

Every op takes PyTorch's ``(input, p=0.5, training, inplace=False)``. ``inplace`` is accepted so that
PyTorch code carries over, but the result is always computed out of place (minigan's ops never overwrite
an input the graph may still need). In eval mode (``training=False``), for p = 0 and for an empty input
each op returns its input; p = 1 drops everything and gives zeros (there is nothing left to rescale), as
in PyTorch. The masks come from ``minigan.random.generator(x.device)``, drawn as float32 uniforms compared
with p, as ``dropout`` draws its own, so ``mg.manual_seed`` repeats them; a channel-wise mask has one
entry per (sample, channel) and broadcasts over the rest.
"""
import warnings

import numpy as np

from minigan import random
from minigan.backend import get_array_module
from minigan.function import Function
from minigan.functional.activation import SELU_ALPHA, SELU_SCALE
from minigan.functional.arguments import is_number
from minigan.functional.shape import as_tensor

# SELU's negative saturation value, lim x -> -inf of selu(x): where alpha dropout puts a dropped unit.
SELU_SATURATION = -SELU_SCALE * SELU_ALPHA


def check_p(op, p):
    """``p`` as a float in [0, 1], or a ValueError naming ``op`` (a bool or a string is not a probability)."""
    if not is_number(p) or not 0 <= p <= 1:
        raise ValueError(f"{op}: p must be a number in [0, 1], got {p!r}")
    return float(p)


def _floating(op, x):
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype} (shape {tuple(x.shape)})")
    return x


class Dropout(Function):
    """y = x * mask * scale for a fixed keep-mask (bool, drawn once per call, broadcasting against x).

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


class AlphaDropout(Function):
    """y = a x + b where the mask keeps x, and y = a alpha' + b where it drops it (alpha' is SELU's
    saturation value; a, b from ``alpha_dropout``). The mask is bool and broadcasts against x.

    Affine in x with slope a on the kept elements and 0 on the dropped ones, so the gradient is the
    mask-and-scale map ``Dropout(mask, a)`` applied to gy: only the mask and a are kept for it.
    """

    def __init__(self, mask, scale, shift, dropped):
        self.mask, self.scale, self.shift, self.dropped = mask, scale, shift, dropped

    def forward(self, x):
        xp, t = get_array_module(x), x.dtype.type
        y = x * t(self.scale)
        y += t(self.shift)
        return xp.where(self.mask, y, t(self.dropped))

    def backward(self, gy):
        return Dropout(self.mask, self.scale).apply(gy)


def _drop(x, p, training, channel_axis=None, alpha=False):
    """The dropout family's one body: ``x`` (checked floating) with elements dropped with probability p,
    one draw per element (``channel_axis`` None) or one per slice x[..., c] along ``channel_axis``
    and the axes before it; zeroed and the rest scaled by 1 / (1 - p), or, with ``alpha``, alpha
    dropout's affine map."""
    if not training or p == 0 or x.data.size == 0:
        return x
    shape = x.shape if channel_axis is None else x.shape[:channel_axis + 1] + (1,) * (x.ndim - channel_axis - 1)
    keep = random.generator(x.device).random(shape, dtype=np.float32) >= p
    if p == 1:  # all dropped: zeros, as in PyTorch (both scales below would divide by zero)
        return Dropout(keep, 0.0).apply(x)
    if not alpha:
        return Dropout(keep, 1.0 / (1.0 - p)).apply(x)
    # Klambauer et al. 2017, section "New dropout technique": with q = 1 - p kept, x of mean 0 and
    # variance 1 goes to mean q * 0 + p alpha' and variance q + p alpha'^2 - (p alpha')^2 = q (1 + p alpha'^2)
    # (the dropped share has no variance of its own); a = (q (1 + p alpha'^2))^(-1/2) restores variance 1
    # and b = -a p alpha' mean 0.
    scale = ((1.0 - p) * (1.0 + p * SELU_SATURATION ** 2)) ** -0.5
    shift = -scale * p * SELU_SATURATION
    return AlphaDropout(keep, scale, shift, scale * SELU_SATURATION + shift).apply(x)


def dropout(input, p=0.5, training=True, inplace=False):
    """Element-wise dropout, as ``torch.nn.functional.dropout``: each element is zeroed with probability
    p, the others are scaled by 1 / (1 - p); any shape."""
    op = "dropout"
    return _drop(_floating(op, input), check_p(op, p), training)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout of a 1-D signal, as ``torch.nn.functional.dropout1d``: input (N, C, L) or
    unbatched (C, L); each channel x[n, c, :] (x[c, :]) is zeroed with probability p, the others are
    scaled by 1 / (1 - p). Any other rank is a ValueError, in eval mode too."""
    op = "dropout1d"
    p, x = check_p(op, p), _floating(op, input)
    if x.ndim not in (2, 3):
        raise ValueError(f"{op}: input must be 2-D (C, L) or 3-D (N, C, L), got shape {tuple(x.shape)}; "
                         "dropout1d drops whole channels of a signal with one spatial axis")
    return _drop(x, p, training, channel_axis=x.ndim - 2)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout of images, as ``torch.nn.functional.dropout2d``: input (N, C, H, W); each
    channel x[n, c] is zeroed with probability p, the others are scaled by 1 / (1 - p).

    Other ranks follow PyTorch 2.13, warnings included (also in eval mode), rather than refusing what
    PyTorch accepts: a 3-D input is read as (N, C, L), channel-wise over axis 1 as ``dropout1d`` would
    (NOT as an unbatched (C, H, W), which PyTorch's ``dropout2d`` does not take); 2-D and 5-D or more also
    drop along axis 1, which PyTorch deprecates. Fewer than 2 axes is a ValueError.
    """
    op = "dropout2d"
    p, x = check_p(op, p), _floating(op, input)
    shape = tuple(x.shape)
    if x.ndim < 2:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {shape}, which has no channel axis")
    if x.ndim == 3:
        warnings.warn(f"{op}: a 3-D input (shape {shape}) is read as (N, C, L), as PyTorch reads it, and each "
                      "(sample, channel) is dropped whole; use dropout1d to say so, or for an unbatched image "
                      "(C, H, W) add a batch axis", UserWarning, stacklevel=2)
    elif x.ndim != 4:
        warnings.warn(f"{op}: a {x.ndim}-D input (shape {shape}) is deprecated (PyTorch will refuse it); its "
                      "axis 1 is taken as the channel axis. dropout2d takes (N, C, H, W); use dropout for "
                      "element-wise dropout", UserWarning, stacklevel=2)
    return _drop(x, p, training, channel_axis=1)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout of volumes, as ``torch.nn.functional.dropout3d``: input (N, C, D, H, W) or
    unbatched (C, D, H, W); each channel x[n, c] (x[c]) is zeroed with probability p, the others are
    scaled by 1 / (1 - p).

    Other ranks follow PyTorch 2.13, with its deprecation warning: like a 4-D input, they are read as
    unbatched, so axis 0 is the channel axis. A 0-d input is a ValueError.
    """
    op = "dropout3d"
    p, x = check_p(op, p), _floating(op, input)
    shape = tuple(x.shape)
    if x.ndim == 0:
        raise ValueError(f"{op}: input must be 4-D (C, D, H, W) or 5-D (N, C, D, H, W), got a 0-d tensor")
    if x.ndim not in (4, 5):
        warnings.warn(f"{op}: a {x.ndim}-D input (shape {shape}) is deprecated (PyTorch will refuse it); it "
                      "is read as unbatched, with axis 0 as the channel axis. dropout3d takes (C, D, H, W) or "
                      "(N, C, D, H, W); use dropout for element-wise dropout", UserWarning, stacklevel=2)
    return _drop(x, p, training, channel_axis=1 if x.ndim == 5 else 0)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout (Klambauer et al. 2017), as ``torch.nn.functional.alpha_dropout``, for networks of
    SELUs: each element is dropped with probability p to alpha' = -scale * alpha ~ -1.7581 (SELU's
    saturation value), then y = a x' + b with a = ((1 - p)(1 + p alpha'^2))^(-1/2) and b = -a p alpha',
    so an input of mean 0 and variance 1 keeps them. Any shape.

    ``training`` defaults to False, as in PyTorch's signature (unlike ``dropout``'s): call it with
    ``training=True``, or use ``nn.AlphaDropout``, which passes the module's mode.
    """
    op = "alpha_dropout"
    return _drop(_floating(op, input), check_p(op, p), training, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Channel-wise alpha dropout, as ``torch.nn.functional.feature_alpha_dropout``: input (N, C, *),
    each x[n, c] dropped whole to alpha' with probability p, then ``alpha_dropout``'s y = a x' + b.

    Axis 1 is the channel axis whatever the rank, as in PyTorch (whose ``FeatureAlphaDropout`` page lists
    an unbatched (C, D, H, W), but whose op reads it as (N, C, H, W) all the same). Fewer than 2 axes is
    a ValueError, in eval mode too. ``training`` defaults to False, as in PyTorch's signature.
    """
    op = "feature_alpha_dropout"
    p, x = check_p(op, p), _floating(op, input)
    if x.ndim < 2:
        raise ValueError(f"{op}: input must be (N, C, *) with at least 2 axes, got shape {tuple(x.shape)}")
    return _drop(x, p, training, channel_axis=1, alpha=True)
