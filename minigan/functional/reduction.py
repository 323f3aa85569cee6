"""Reductions over axes: sum, mean, max, min, var, std, logsumexp (with ``keepdims`` as in NumPy)."""
import numpy as np

from minigan import backend
from minigan.function import Function
from minigan.functional.arithmetic import exp, floating, log, sqrt
from minigan.functional.shape import broadcast_to, checked_axis, reshape
from minigan.tensor import Tensor


def _normalise_axis(op, axis, ndim):
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(checked_axis(op, a, ndim) for a in axes))


def _count(x, axis):
    """How many entries each result of a reduction over ``axis`` (normalised) gathers."""
    return x.data.size if axis is None else int(backend.np.prod([x.shape[a] for a in axis]))


def _kept_shape(shape, axis):
    """The output shape with reduced axes kept as 1, so the gradient can broadcast back."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


class Sum(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.in_shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        return broadcast_to(reshape(gy, _kept_shape(self.in_shape, self.axis)), self.in_shape)


class Max(Function):
    """Max over axes; ties share the gradient equally."""

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        return x.max(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        x = self.inputs[0].data
        kept = _kept_shape(x.shape, self.axis)
        hit = x == self.output.data.reshape(kept)
        share = hit / hit.sum(axis=self.axis, keepdims=True)
        return broadcast_to(reshape(gy, kept), x.shape) * Tensor._wrap(share.astype(gy.dtype))


def sum(x, axis=None, keepdims=False):
    if axis is not None and not isinstance(axis, int) and len(axis) == 0:
        return x
    return Sum(_normalise_axis("sum", axis, x.ndim), keepdims).apply(x)


def mean(x, axis=None, keepdims=False):
    axis = _normalise_axis("mean", axis, x.ndim)
    return sum(x, axis, keepdims) * (1.0 / _count(x, axis))


def max(x, axis=None, keepdims=False):
    return Max(_normalise_axis("max", axis, x.ndim), keepdims).apply(x)


def min(x, axis=None, keepdims=False):
    """The smallest entries, as -max(-x): ties share the gradient as in ``max``."""
    return -max(-x, axis, keepdims)


def var(x, axis=None, keepdims=False, correction=1):
    """sum((x - mean)^2) / (n - correction) over ``axis``: with ``correction=1`` (the default, as in
    ``torch.var``) the unbiased estimate, with 0 the mean squared deviation (batch norm's)."""
    axis = _normalise_axis("var", axis, x.ndim)
    count = _count(x, axis)
    centred = x - mean(x, axis, keepdims=True)
    # n = correction gives a division by zero, hence inf, hence NaN: PyTorch's answer too.
    return sum(centred * centred, axis, keepdims) * (backend.np.float64(1.0) / (count - correction))


def std(x, axis=None, keepdims=False, correction=1):
    """The square root of ``var``."""
    return sqrt(var(x, axis, keepdims, correction))


def logsumexp(x, axis, keepdims=False):
    """log sum_i exp(x_i) over ``axis``, as ``torch.logsumexp``, computed as c + log sum_i exp(x_i - c)
    with c the maximum over the axis, so that exp() never overflows.

    c enters as a constant: the value does not depend on it, so the gradient, softmax(x), is exact
    without differentiating the max. A slice that is all -inf gives -inf (c is taken as 0 there).
    """
    x = floating(x)
    axis = _normalise_axis("logsumexp", axis, x.ndim)
    xp = backend.get_array_module(x.data)
    c = x.data.max(axis=axis, keepdims=True)
    c = Tensor._wrap(xp.where(xp.isfinite(c), c, xp.zeros_like(c)))
    with np.errstate(divide="ignore"):  # log(0) = -inf is the answer for an all -inf slice
        total = log(sum(exp(x - c), axis, keepdims))
    return total + (c if keepdims else reshape(c, total.shape))
