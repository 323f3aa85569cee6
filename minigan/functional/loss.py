"""Losses: binary cross-entropy with logits, mean squared error, mean absolute error.

Each is a composition of differentiable ops, so gradient penalties can differentiate through them.
"""
from minigan.functional.activation import softplus
from minigan.functional.arithmetic import abs, operands
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


def mse_loss(x, target, reduction="mean"):
    """mean((x - t)^2)."""
    target = _target(x, target, "mse_loss")
    diff = x - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(x, target, reduction="mean"):
    """mean(|x - t|)."""
    target = _target(x, target, "l1_loss")
    return _reduce(abs(x - target), reduction, "l1_loss")
