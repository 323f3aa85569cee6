"""Losses: binary cross-entropy with logits, cross-entropy over classes, mean squared error, mean
absolute error.

Each is a composition of differentiable ops, so gradient penalties can differentiate through them.
"""
import numpy as np

from minigan import backend
from minigan.functional.activation import softplus
from minigan.functional.arithmetic import abs, operands
from minigan.functional.reduction import logsumexp
from minigan.functional.shape import getitem
from minigan.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_shapes(x, target, op):
    if tuple(x.shape) != tuple(target.shape):
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} and target of shape "
                         f"{tuple(target.shape)} must have the same shape")


def _target(logits, target, op):
    """The target as a constant tensor of the input's dtype (integer and bool targets allowed)."""
    if not isinstance(target, Tensor) or target.dtype != logits.dtype:
        target = operands(logits, target if not isinstance(target, Tensor) else target.detach(), op)[1]
        if target.dtype != logits.dtype:
            target = Tensor._wrap(target.data.astype(logits.dtype))
    if target.ndim == 0:
        target = Tensor._wrap(logits._xp.broadcast_to(target.data, logits.shape))
    _check_shapes(logits, target, op)
    return target


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """-[t log sigma(x) + (1 - t) log(1 - sigma(x))] = softplus(x) - t x, stable for any logit x.

    ``target`` may be a tensor of the input's shape, an array, or a scalar (broadcast, for labels
    such as 1.0 or 0.9 with one-sided smoothing).
    """
    target = _target(logits, target, "binary_cross_entropy_with_logits")
    return _reduce(softplus(logits) - logits * target, reduction, "binary_cross_entropy_with_logits")


def cross_entropy(logits, target, reduction="mean"):
    """-log softmax(x_n)[t_n] = logsumexp(x_n) - x_n[t_n], as ``torch.nn.functional.cross_entropy``
    with class-index targets.

    logits (N, C) (or (C,) for one sample), target integer class indices (N,) (or a scalar) in
    [0, C), a tensor or an array; ``reduction`` "mean" (over N), "sum" or "none" ((N,)).
    """
    op = "cross_entropy"
    if logits.ndim not in (1, 2):
        raise ValueError(f"{op}: input must be (N, C) logits or (C,) for one sample, got shape {tuple(logits.shape)}")
    t = target.data if isinstance(target, Tensor) else target
    t = backend.to_device(t if backend.is_cupy_array(t) else np.asarray(t), logits.device)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {t.dtype} (shape {tuple(t.shape)})")
    if tuple(t.shape) != tuple(logits.shape[:-1]):
        raise ValueError(f"{op}: target of shape {tuple(t.shape)} does not fit input of shape "
                         f"{tuple(logits.shape)} (expects {tuple(logits.shape[:-1])})")
    classes = logits.shape[-1]
    low, high = (int(t.min()), int(t.max())) if t.size else (0, 0)
    if low < 0 or high >= classes:
        raise IndexError(f"{op}: target holds class {low if low < 0 else high}, outside [0, {classes}) for "
                         f"input of shape {tuple(logits.shape)}")
    picked = getitem(logits, t) if logits.ndim == 1 else \
        getitem(logits, (backend.get_array_module(t).arange(len(t)), t))
    return _reduce(logsumexp(logits, -1) - picked, reduction, op)


def mse_loss(x, target, reduction="mean"):
    """mean((x - t)^2)."""
    target = _target(x, target, "mse_loss")
    diff = x - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(x, target, reduction="mean"):
    """mean(|x - t|)."""
    target = _target(x, target, "l1_loss")
    return _reduce(abs(x - target), reduction, "l1_loss")
