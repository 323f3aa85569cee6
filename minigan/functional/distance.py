"""Norms, distances and similarities along an axis: normalize, cosine_similarity, pairwise_distance, and the
distances between all pairs of rows, pdist, with PyTorch's formulas, defaults and broadcasting.

All three rest on one p-norm along axes, ``vector_norm`` (the math of ``torch.linalg.vector_norm``):

    ||v||_p = (sum_i |v_i|^p)^(1/p),  ||v||_inf = max_i |v_i|,  ||v||_-inf = min_i |v_i|,
    ||v||_0 = the number of non-zero v_i,

built from minigan's differentiable ops, with PyTorch's gradient where the formula has none: zero for a
vector of zeros (and, for p < 1, for each zero element), rather than the NaN that 0/0 would give. Ties of
the inf-norms share the gradient equally, as PyTorch's do. Every gradient is differentiable again.

Python numbers (p, eps) never promote: float32 inputs give float32 results.
"""
import math

import numpy as np

from minigan import backend
from minigan.function import Function
from minigan.functional import reduction
from minigan.functional.arguments import is_int, is_number
from minigan.functional.arithmetic import abs, clip, floating, pow, sqrt, sub, where
from minigan.functional.shape import as_tensor, broadcast_to, checked_axis, getitem, reshape
from minigan.tensor import Tensor


def _safe(values, fn, fill):
    """fn(values) where values != 0, else ``fill``, with a gradient that is zero (not NaN) at the zeros: fn
    sees 1 there instead of 0 (so its derivative stays finite) and ``where`` sends the zeros no gradient.
    NaN counts as non-zero, so it propagates."""
    nonzero = values.data != 0
    return where(nonzero, fn(where(nonzero, values, 1.0)), fill)


def vector_norm(x, p=2.0, axis=None, keepdims=False, op="vector_norm"):
    """The p-norm of x along ``axis`` (an int, a tuple of ints, or None for all axes), as
    ``torch.linalg.vector_norm(x, p, axis, keepdims)``: see the module docstring for the formula, its
    special values of p (0, 1, 2, inf, -inf; any other number, negative ones included, works too) and its
    gradient. A 0-d x is a vector of one element (axis 0 or -1, as in PyTorch). p < 0 and the inf-norms
    have no value on an empty axis, which is an error naming ``op``.
    """
    if not is_number(p):
        raise TypeError(f"{op}: p must be a number, got {p!r}")
    p = float(p)
    if x.ndim == 0:
        for a in (() if axis is None else (axis,) if is_int(axis) else tuple(axis)):
            checked_axis(op, a, 1)
        return vector_norm(reshape(x, (1,)), p, 0, False, op)
    axes = tuple(range(x.ndim)) if axis is None else tuple(
        checked_axis(op, a, x.ndim) for a in ((axis,) if is_int(axis) else axis))
    if (p < 0 or math.isinf(p)) and 0 in [x.shape[a] for a in axes]:
        raise ValueError(f"{op}: the {p:g}-norm of an empty axis is undefined (no identity for it), input of "
                         f"shape {tuple(x.shape)} along axis {axis}")
    if p == 2:
        return _safe(reduction.sum(x * x, axes, keepdims), sqrt, 0.0)
    if p == 0:
        # A count: a constant, whose gradient is zero (PyTorch's is too), so it is outside the graph.
        count = (x.data != 0).sum(axis=axes, keepdims=keepdims)
        return Tensor._wrap(backend.get_array_module(x.data).asarray(count, dtype=x.dtype))
    a = abs(x)  # the gradient of |x| at 0 is 0 (sign(0)), as PyTorch's sgn
    if p == math.inf:
        return reduction.max(a, axes, keepdims)
    if p == -math.inf:
        return reduction.min(a, axes, keepdims)
    if p == 1:
        return reduction.sum(a, axes, keepdims)
    # |x|^p is 0 at x = 0 for p > 0 (inf for p < 0, making the norm 0), with zero gradient there even for
    # p < 1, where p |x|^(p-1) is infinite; then the 1/p-th power of the sum, also zero-safe.
    powers = _safe(a, lambda t: pow(t, p), 0.0 if p > 0 else math.inf)
    return _safe(reduction.sum(powers, axes, keepdims), lambda t: pow(t, 1.0 / p), 0.0)


class ClampMinStraightThrough(Function):
    """y = max(x, low), with the gradient of the identity, dy/dx = 1 even where x < low.

    This is how PyTorch's cosine_similarity clamps the norms: in place, with autograd off, so its gradient
    goes through the norm as if it had not been clamped. Linear in its gradient (the backward returns gy
    as it is), so it is differentiable to every order. NaN stays NaN, as clamp_min keeps it."""

    def __init__(self, low):
        self.low = low

    def forward(self, x):
        return backend.get_array_module(x).maximum(x, x.dtype.type(self.low))

    def backward(self, gy):
        return gy


def _float_input(op, x):
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype} (shape {tuple(x.shape)})")
    return x


def _check_eps(op, eps):
    if not is_number(eps):
        raise TypeError(f"{op}: eps must be a number, got {eps!r}")


def _operands(op, x1, x2):
    """(x1, x2) as tensors on one device, and the broadcast shape, or an error naming ``op`` and both shapes.
    An integer (or bool) operand takes the other's float dtype, as PyTorch's type promotion gives."""
    x1, x2 = as_tensor(x1), as_tensor(x2)
    if x1.device != x2.device:
        raise ValueError(f"{op}: x1 of shape {tuple(x1.shape)} is on {x1.device} but x2 of shape "
                         f"{tuple(x2.shape)} is on {x2.device}; move them to one device")
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"{op}: x1 of shape {tuple(x1.shape)} and x2 of shape {tuple(x2.shape)} do not "
                         "broadcast to one shape") from None
    if x1.dtype.kind != "f" and x2.dtype.kind == "f":
        x1 = Tensor._wrap(x1.data.astype(x2.dtype))
    elif x2.dtype.kind != "f" and x1.dtype.kind == "f":
        x2 = Tensor._wrap(x2.data.astype(x1.dtype))
    return x1, x2, shape


def normalize(x, p=2.0, dim=1, eps=1e-12):
    """Each vector along ``dim`` divided by its p-norm, the norm clamped below at eps, as
    ``torch.nn.functional.normalize``:

        y = x / max(||x||_p, eps)    (norm over dim, an int or a tuple of ints; any p, see ``vector_norm``).

    Same shape as x. The clamp's gradient is zero below eps (an ordinary clamp, as PyTorch's here), so a
    zero vector's gradient is x's direct 1 / eps alone. Differentiable to every order.
    """
    op = "normalize"
    x = _float_input(op, x)
    _check_eps(op, eps)
    norm = vector_norm(x, p, dim, True, op)
    return x / clip(norm, min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """The cosine of the angle between x1 and x2 along ``dim``, as ``torch.nn.functional.cosine_similarity``
    (PyTorch 2's formula):

        y = sum_dim (x1 / max(||x1||, eps)) * (x2 / max(||x2||, eps)),   ||.|| the 2-norm along dim,

    each vector normalised first, so |y| <= 1 and no product of two large norms can overflow. x1 and x2
    broadcast to one shape, in which ``dim`` counts; y has that shape without ``dim``. As in PyTorch the
    clamp of each norm is invisible to autograd (see ``ClampMinStraightThrough``): below eps the gradient
    still goes through the norm. An integer operand takes the other's float dtype; two integer ones are
    refused. Differentiable to every order.
    """
    op = "cosine_similarity"
    if not is_int(dim):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    _check_eps(op, eps)
    x1, x2, shape = _operands(op, x1, x2)
    if x1.dtype.kind != "f":
        raise TypeError(f"{op}: x1 and x2 must be floating point (one of them at least), got dtypes "
                        f"{x1.dtype} and {x2.dtype}")
    x1, x2 = broadcast_to(x1, shape), broadcast_to(x2, shape)
    n1 = ClampMinStraightThrough(eps).apply(vector_norm(x1, 2, dim, True, op))
    n2 = ClampMinStraightThrough(eps).apply(vector_norm(x2, 2, dim, True, op))
    products = (x1 / n1) * (x2 / n2)
    return products if products.ndim == 0 else reduction.sum(products, dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm distance between x1 and x2 along the last axis, as
    ``torch.nn.functional.pairwise_distance``:

        y = ||x1 - x2 + eps||_p    over the last axis of the broadcast shape (eps added, not a clamp).

    x1 and x2 broadcast, e.g. (N, D) and (N, D) or (D,) -> (N,); (D,) and (D,) -> a 0-d distance; with
    ``keepdim`` the last axis stays, of length 1. Any p (see ``vector_norm``). Integer operands give float32,
    as in PyTorch. Differentiable to every order.
    """
    op = "pairwise_distance"
    _check_eps(op, eps)
    x1, x2, _ = _operands(op, x1, x2)
    difference = floating(sub(x1, x2)) + eps
    return vector_norm(difference, p, -1, bool(keepdim), op)


class MaxToEveryTie(Function):
    """y = the maximum of a (P, M) along its last axis, with the gradient PyTorch's pdist gives its
    inf-norm: all of gy to every element equal to the maximum (``reduction.max`` shares it among ties).
    Saves the (P, M) mask of the maxima, all its backward needs; the backward is linear in gy, so it is
    differentiable again. Rows of no elements have maximum 0 (the inf-norm of nothing, as in PyTorch)."""

    def forward(self, a):
        xp = backend.get_array_module(a)
        if a.shape[-1] == 0:
            self.hit = xp.zeros(a.shape, dtype=bool)
            return xp.zeros(a.shape[:-1], dtype=a.dtype)
        y = a.max(axis=-1)
        self.hit = a == y[..., None]
        return y

    def backward(self, gy):
        return where(self.hit, broadcast_to(reshape(gy, gy.shape + (1,)), self.hit.shape), 0.0)


def pdist(input, p=2.0):
    """The p-norm distance between every pair of rows of input (N, M), as ``torch.nn.functional.pdist``:

        y = (||x_0 - x_1||_p, ||x_0 - x_2||_p, ..., ||x_0 - x_{N-1}||_p, ||x_1 - x_2||_p, ..., ||x_{N-2} - x_{N-1}||_p)

    the N (N - 1) / 2 pairs i < j in row-major order (the upper triangle of the distance matrix, row by
    row), so y has shape (N (N - 1) / 2,); N < 2 gives an empty y. p >= 0: 0 (the count of differing
    elements), 1, 2, inf, or any other value (see ``vector_norm``).

    Gradients as PyTorch's: zero for a pair at distance zero (and, p < 1, for each equal element), and,
    for p = inf, the whole gradient to every element where |x_i - x_j| reaches the maximum. Unlike
    PyTorch's, which has no second derivative, it is differentiable again (the differences and their norm
    are ordinary ops). The differences are formed in full, (N (N - 1) / 2, M) values.
    """
    op = "pdist"
    x = _float_input(op, input)
    if x.ndim != 2:
        raise ValueError(f"{op}: input must be 2-D (N, M), one row per point, got shape {tuple(x.shape)}")
    if not is_number(p):
        raise TypeError(f"{op}: p must be a number, got {p!r}")
    if not p >= 0:
        raise ValueError(f"{op}: p must be non-negative, got {p!r} (input of shape {tuple(x.shape)})")
    xp = backend.get_array_module(x.data)
    first, second = (xp.asarray(i) for i in np.triu_indices(x.shape[0], 1))
    differences = getitem(x, first) - getitem(x, second)
    if p == math.inf:
        return MaxToEveryTie().apply(abs(differences))
    return vector_norm(differences, p, 1, False, op)
