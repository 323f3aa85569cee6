"""Losses: binary cross-entropy with logits, cross-entropy over classes, mean squared error, mean
absolute error.

Each is a composition of differentiable ops, so gradient penalties can differentiate through them.
"""
import numpy as np

from minigan import backend
from minigan.functional.activation import log_softmax, softplus
from minigan.functional.arguments import is_number
from minigan.functional.arithmetic import abs, operands
from minigan.functional.reduction import logsumexp
from minigan.functional.shape import getitem, reshape, transpose
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


def _class_last(x):
    """(N, C, d1, ..., dk) -> (N d1 ... dk, C): one row of class scores per position."""
    if x.ndim == 2:
        return x
    return reshape(transpose(x, (0,) + tuple(range(2, x.ndim)) + (1,)), (-1, x.shape[1]))


def _class_weight(weight, logits, op):
    """``weight`` (C,) as a constant array of the input's dtype on its device, or None."""
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else weight
    w = backend.to_device(w if backend.is_cupy_array(w) else np.asarray(w), logits.device)
    classes = logits.shape[1]
    if w.dtype.kind not in "fiu" or tuple(w.shape) != (classes,):
        raise ValueError(f"{op}: weight must be a 1-D array of {classes} numbers, one per class of input of shape "
                         f"{tuple(logits.shape)}; got dtype {w.dtype}, shape {tuple(w.shape)}")
    return w.astype(logits.dtype)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between softmax(input) over the class axis and ``target``, as
    ``torch.nn.functional.cross_entropy``. With log p = log_softmax(x) over the C classes:

    - class indices: loss_n = -w[t_n] log p_n[t_n] (a target equal to ``ignore_index`` adds nothing);
    - class probabilities (a float target of the input's shape): loss_n = -sum_c w_c q_nc log p_nc.

    ``input`` is (N, C), (C,) for one sample, or (N, C, d1, ..., dk) with a class score per position;
    class-index targets are then (N,), (), or (N, d1, ..., dk). ``weight`` (C,) rescales each class
    (default 1; a constant: no gradient reaches it). ``label_smoothing`` e mixes the target with the
    uniform distribution: (1 - e) target + e / C. ``reduction`` "none" keeps one loss per sample (and
    position), "sum" adds them, "mean" divides the sum by the total weight of the targets counted
    (their number without ``weight``; class probabilities always divide by the number of samples and
    positions, as PyTorch does). A mean over no counted target is NaN, as in PyTorch.
    """
    op = "cross_entropy"
    if input.ndim == 0:
        raise ValueError(f"{op}: input must be (C,), (N, C) or (N, C, d1, ...) class scores, got a scalar")
    if not is_number(label_smoothing) or not 0 <= label_smoothing <= 1:
        raise ValueError(f"{op}: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    t = target.data if isinstance(target, Tensor) else target
    t = backend.to_device(t if backend.is_cupy_array(t) else np.asarray(t), input.device)
    one = input.ndim == 1
    x = reshape(input, (1,) + input.shape) if one else input
    if t.dtype.kind == "f":
        if tuple(t.shape) != tuple(input.shape):
            raise ValueError(f"{op}: class-probability target of shape {tuple(t.shape)} must have the input's "
                             f"shape {tuple(input.shape)}")
        q = t.reshape(x.shape).astype(x.dtype)
        return _soft_cross_entropy(x, q, _class_weight(weight, x, op), reduction, label_smoothing, one)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices or float class probabilities, got dtype "
                        f"{t.dtype} (shape {tuple(t.shape)})")
    expects = tuple(input.shape[:1] + input.shape[2:]) if not one else ()
    if tuple(t.shape) != expects:
        raise ValueError(f"{op}: target of shape {tuple(t.shape)} does not fit input of shape "
                         f"{tuple(input.shape)} (expects {expects})")
    return _index_cross_entropy(x, t.reshape((x.shape[0],) + x.shape[2:]), _class_weight(weight, x, op),
                                ignore_index, reduction, label_smoothing, one)


def _index_cross_entropy(x, t, w, ignore_index, reduction, smoothing, one):
    op = "cross_entropy"
    xp = backend.get_array_module(t)
    classes, shape = x.shape[1], t.shape
    scores, t = _class_last(x), t.reshape(-1)
    counted = t != ignore_index
    kept = t[counted]
    low, high = (int(kept.min()), int(kept.max())) if kept.size else (0, 0)
    if low < 0 or high >= classes:
        raise IndexError(f"{op}: target holds class {low if low < 0 else high}, outside [0, {classes}) for "
                         f"input of shape {tuple(x.shape[1:] if one else x.shape)} (ignore_index is {ignore_index})")
    safe = xp.where(counted, t, 0)  # an ignored position picks class 0; its weight below is 0
    lse = logsumexp(scores, -1)
    loss = lse - getitem(scores, (xp.arange(len(t)), safe))
    # Without class weights and with nothing ignored, each position counts 1 and "mean" is the plain
    # mean; otherwise each position carries its class's weight (1 without ``weight``), 0 if ignored.
    weighted = w is not None or not bool(counted.all())
    if weighted:
        target_w = (xp.ones(len(t), dtype=x.dtype) if w is None else w[safe]) * counted.astype(x.dtype)
        loss = loss * Tensor._wrap(target_w)
    if smoothing:
        # The uniform part of the smoothed target: -sum_c w_c log p_c over every class, 0 if ignored.
        log_p = scores - reshape(lse, (len(t), 1))
        uniform = -(log_p if w is None else log_p * Tensor._wrap(w)).sum(axis=-1)
        if not counted.all():
            uniform = uniform * Tensor._wrap(counted.astype(x.dtype))
        loss = loss * (1 - smoothing) + uniform * (smoothing / classes)
    if reduction == "mean" and weighted:
        with np.errstate(invalid="ignore", divide="ignore"):  # nothing counted: 0 / 0 = NaN, as PyTorch
            return loss.sum() / Tensor._wrap(xp.asarray(target_w.sum(), dtype=x.dtype))
    return _reduce(reshape(loss, () if one else shape), reduction, op)


def _soft_cross_entropy(x, q, w, reduction, smoothing, one):
    op = "cross_entropy"
    classes = x.shape[1]
    if smoothing:
        q = q * q.dtype.type(1 - smoothing) + q.dtype.type(smoothing / classes)
    if w is not None:
        q = q * w.reshape((1, classes) + (1,) * (x.ndim - 2))
    log_p = log_softmax(x, 1)
    loss = -(log_p * Tensor._wrap(q)).sum(axis=1)
    if one:
        loss = reshape(loss, ())
    return _reduce(loss, reduction, op)


def mse_loss(x, target, reduction="mean"):
    """mean((x - t)^2)."""
    target = _target(x, target, "mse_loss")
    diff = x - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(x, target, reduction="mean"):
    """mean(|x - t|)."""
    target = _target(x, target, "l1_loss")
    return _reduce(abs(x - target), reduction, "l1_loss")
