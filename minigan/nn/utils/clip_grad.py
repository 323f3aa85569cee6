"""Gradient clipping, as ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``: between
``backward`` and the optimiser's ``step``, rescale or clamp the parameters' gradients so that one bad
batch cannot throw the weights far.

Both work in place on the gradient arrays, in their dtype and on their device, outside the graph (as
PyTorch's run under no_grad); a parameter without a gradient is skipped. ``foreach`` is accepted so that
PyTorch calls carry over: minigan has one implementation.
"""
import math

import numpy as np

from minigan import backend
from minigan.functional.arguments import is_number
from minigan.tensor import Tensor


def _grads(parameters):
    """The ``.grad`` tensors of one tensor or of an iterable of them (a generator is read once), skipping
    the parameters that have none."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _check_bound(value, op, name):
    if not is_number(value) or not value >= 0:
        raise ValueError(f"{op}: {name} must be a number >= 0, got {value!r}")
    return float(value)


def _norm(a, p):
    """The p-norm of all entries of array ``a`` as one vector, a 0-d array of its dtype:
    (sum_i |a_i|^p)^(1/p), or max_i |a_i| for p = inf (0 for an empty array)."""
    xp = backend.get_array_module(a)
    if a.size == 0:
        return xp.zeros((), a.dtype)
    if p == math.inf:
        return xp.abs(a).max()
    if p == 2:
        return xp.sqrt(xp.vdot(a, a))  # vdot reads a as one vector: no |a|^2 temporary
    p = a.dtype.type(p)
    return (xp.abs(a) ** p).sum() ** (1 / p)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients of ``parameters`` in place so that their total norm is at most ``max_norm``;
    returns the total norm before clipping as a 0-d tensor, as ``torch.nn.utils.clip_grad_norm_``.

    The total is the p-norm (``norm_type`` p > 0, or inf) of every gradient entry as one vector, computed
    as the p-norm of the gradients' own norms. Each gradient is multiplied by

        c = min(1, max_norm / (total + 1e-6))

    (the 1e-6 keeps c finite for zero gradients; under max_norm, c = 1 leaves them as they are). A NaN or
    infinite total is an error with ``error_if_nonfinite``; otherwise the gradients are scaled by c all
    the same (to 0 or NaN), as in PyTorch. ``parameters`` is one tensor or an iterable of them; with no
    gradient at all the total is 0 (float32).
    """
    op = "clip_grad_norm_"
    max_norm = _check_bound(max_norm, op, "max_norm")
    p = float(norm_type)  # PyTorch's conversion: "inf" is accepted too
    if not p > 0:
        raise ValueError(f"{op}: norm_type must be a number > 0 or inf, got {norm_type!r}")
    grads = _grads(parameters)
    if not grads:
        return Tensor._wrap(np.zeros((), backend.DEFAULT_DTYPE))
    device, xp = grads[0].device, grads[0]._xp
    total = _norm(xp.stack([backend.to_device(_norm(g.data, p), device) for g in grads]), p)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"{op}: the total {p}-norm of the gradients of {len(grads)} parameters is "
                           f"{float(total)}, which cannot be clipped; look for the NaN or Inf in the loss, or "
                           f"pass error_if_nonfinite=False to scale by it anyway")
    dtype = total.dtype.type
    factor = xp.minimum(dtype(max_norm) / (total + dtype(1e-6)), dtype(1))
    for g in grads:
        g.data *= backend.to_device(factor, g.device).astype(g.dtype)
        # A graph that holds this gradient (built with create_graph=True) must not use it changed.
        g._bump_version()
    return Tensor._wrap(xp.asarray(total))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry of ``parameters`` to [-clip_value, clip_value] in place, as
    ``torch.nn.utils.clip_grad_value_``. ``parameters`` is one tensor or an iterable of them."""
    clip_value = _check_bound(clip_value, "clip_grad_value_", "clip_value")
    for g in _grads(parameters):
        bound = g.dtype.type(clip_value)
        g._xp.clip(g.data, -bound, bound, out=g.data)
        g._bump_version()
