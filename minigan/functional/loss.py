"""Losses, with PyTorch's names, arguments and semantics: binary cross-entropy on probabilities and on
logits, cross-entropy and negative log-likelihood over classes, mean squared and mean absolute error,
smooth L1 and Huber.

Each is a composition of differentiable ops (binary_cross_entropy is one small Function whose backward
is), so gradient penalties can differentiate through them. Targets and weights are constants: no
gradient reaches them.
"""
import math

import numpy as np

from minigan import backend
from minigan.function import Function
from minigan.functional.activation import log_softmax, softplus
from minigan.functional.arguments import is_number
from minigan.functional.arithmetic import abs, maximum, operands, where
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


def _target(x, target, op):
    """The target as a constant tensor of the input's dtype (integer and bool targets allowed)."""
    if not isinstance(target, Tensor) or target.dtype != x.dtype:
        target = operands(x, target if not isinstance(target, Tensor) else target.detach(), op)[1]
        if target.dtype != x.dtype:
            target = Tensor._wrap(target.data.astype(x.dtype))
    if target.ndim == 0:
        target = Tensor._wrap(x._xp.broadcast_to(target.data, x.shape))
    _check_shapes(x, target, op)
    return target


def _array(value, device):
    """A tensor's, array's or Python value's data as an array on ``device``."""
    a = value.data if isinstance(value, Tensor) else value
    return backend.to_device(a if backend.is_cupy_array(a) else np.asarray(a), device)


def _broadcasts_to(shape, target_shape):
    return len(shape) <= len(target_shape) and all(
        n in (1, m) for n, m in zip(reversed(shape), reversed(target_shape)))


def _weight(weight, x, op, name="weight"):
    """An elementwise ``weight`` (any shape that broadcasts to the input's) as a constant array of the
    input's dtype on its device, or None."""
    if weight is None:
        return None
    w = _array(weight, x.device)
    if w.dtype.kind not in "fiu" or not _broadcasts_to(tuple(w.shape), tuple(x.shape)):
        raise ValueError(f"{op}: {name} must be numbers in a shape that broadcasts to the input's shape "
                         f"{tuple(x.shape)}; got dtype {w.dtype}, shape {tuple(w.shape)}")
    return w.astype(x.dtype, copy=False)


def _check_probabilities(a, op, name):
    xp = backend.get_array_module(a)
    if a.size and not bool(xp.all((a >= 0) & (a <= 1))):  # NaN fails too, as in PyTorch
        raise ValueError(f"{op}: every element of {name} (shape {tuple(a.shape)}) must lie in [0, 1]; found "
                         f"values from {float(a.min())} to {float(a.max())}")


class BinaryCrossEntropy(Function):
    """l = -[t max(log x, -100) + (1 - t) max(log(1 - x), -100)] for probabilities x and targets t in
    [0, 1] (the target a constant), as PyTorch computes it: the clamp keeps l finite (100 at most) at
    x = 0 and x = 1.

    Gradient, PyTorch's: gx = gy (x - t) / max(x (1 - x), 1e-12). That is the derivative wherever
    x (1 - x) > 1e-12, and stays finite at the ends, where the clamped logs' slopes are infinite (or
    0 * inf). It is written with differentiable ops, so its own derivative (double backward) is that of
    this formula; PyTorch's double backward uses a slightly different epsilon placement, which differs
    only where x (1 - x) is below about 1e-12.
    """

    def forward(self, x, t):
        xp = backend.get_array_module(x)
        floor = x.dtype.type(-100)
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 just below
            return (t - 1) * xp.maximum(xp.log1p(-x), floor) - t * xp.maximum(xp.log(x), floor)

    def backward(self, gy):
        x, t = self.inputs
        return gy * (x - t) / maximum(x * (1 - x), 1e-12), None


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """Binary cross-entropy between probabilities x in [0, 1] and targets t in [0, 1], as
    ``torch.nn.functional.binary_cross_entropy``:

        l = -w [t max(log x, -100) + (1 - t) max(log(1 - x), -100)]

    ``target`` has the input's shape (or is a scalar, broadcast). ``weight`` w (default 1) is any shape
    that broadcasts to the input's. "mean" divides by the number of elements. Values outside [0, 1]
    (or NaN) in input or target are an error, as in PyTorch. Prefer ``binary_cross_entropy_with_logits``
    on the logits: sigmoid then log loses everything once the sigmoid saturates.
    """
    op = "binary_cross_entropy"
    target = _target(input, target, op)
    _check_probabilities(input.data, op, "input")
    _check_probabilities(target.data, op, "target")
    w = _weight(weight, input, op)
    loss = BinaryCrossEntropy().apply(input, target)
    return _reduce(loss if w is None else loss * Tensor._wrap(w), reduction, op)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy on logits x: -w [p t log sigma(x) + (1 - t) log(1 - sigma(x))], as
    ``torch.nn.functional.binary_cross_entropy_with_logits``. With log sigma(x) = -softplus(-x) and
    log(1 - sigma(x)) = -softplus(x),

        l = w [softplus(x) - t x + (p - 1) t softplus(-x)]

    stable for any logit x: no exp() overflows, no log of an underflowed probability. (PyTorch writes
    the same loss as (1 - t) x + (1 + (p - 1) t) softplus(-x); the form here is the one every GAN loss
    in minigan was measured with, so the README's training figures stay reproducible bit for bit.)

    ``target`` may be a tensor of the input's shape, an array, or a scalar (broadcast, for labels such as
    1.0 or 0.9 with one-sided smoothing). ``weight`` w rescales each element and ``pos_weight`` p the
    positive term (for a multi-label input (N, C), a (C,) p weighs each class's positives); both
    broadcast to the input's shape and default to 1. "mean" divides by the number of elements.
    """
    op = "binary_cross_entropy_with_logits"
    target = _target(input, target, op)
    loss = softplus(input) - input * target
    if pos_weight is not None:
        extra = (_weight(pos_weight, input, op, "pos_weight") - 1) * target.data
        loss = loss + softplus(-input, threshold=math.inf) * Tensor._wrap(extra)
    w = _weight(weight, input, op)
    return _reduce(loss if w is None else loss * Tensor._wrap(w), reduction, op)


# -- class losses: cross_entropy and nll_loss ---------------------------------------------------------

def _class_last(x):
    """(N, C, d1, ..., dk) -> (N d1 ... dk, C): one row of class scores per position."""
    if x.ndim == 2:
        return x
    return reshape(transpose(x, (0,) + tuple(range(2, x.ndim)) + (1,)), (-1, x.shape[1]))


def _class_weight(weight, x, op):
    """``weight`` (C,) as a constant array of the input's dtype on its device, or None."""
    if weight is None:
        return None
    w = _array(weight, x.device)
    classes = x.shape[1]
    if w.dtype.kind not in "fiu" or tuple(w.shape) != (classes,):
        raise ValueError(f"{op}: weight must be a 1-D array of {classes} numbers, one per class of input of shape "
                         f"{tuple(x.shape)}; got dtype {w.dtype}, shape {tuple(w.shape)}")
    return w.astype(x.dtype, copy=False)


def _class_input(input, target, reduction, op):
    """Check the arguments cross_entropy and nll_loss share; the target as an array on the input's device."""
    if input.ndim == 0:
        raise ValueError(f"{op}: input must be (C,), (N, C) or (N, C, d1, ...) class scores, got a scalar")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return _array(target, input.device)


def _class_indices(input, t, weight, ignore_index, op, accepted):
    """Check class-index targets ``t`` against ``input`` and gather what cross_entropy and nll_loss share.

    Returns (rows, picked, w, counted, target_w, shape): ``rows`` the input as (M, C), one row of class
    scores per position (M = N d1 ... dk, or 1 for a (C,) input); ``picked`` (M,) rows[m, t_m] (an
    ignored position picks class 0); ``w`` the class weights (C,) or None; ``counted`` (M,) False where
    the target is ``ignore_index``; ``target_w`` (M,) each position's weight, w[t_m] (1 without ``w``)
    and 0 where ignored, or None when every position counts 1; ``shape`` that of a "none" result.
    """
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold {accepted}, got dtype {t.dtype} (shape {tuple(t.shape)})")
    one = input.ndim == 1
    shape = () if one else tuple(input.shape[:1] + input.shape[2:])
    if tuple(t.shape) != shape:
        raise ValueError(f"{op}: target of shape {tuple(t.shape)} does not fit input of shape "
                         f"{tuple(input.shape)} (expects {shape})")
    x = reshape(input, (1,) + input.shape) if one else input
    w = _class_weight(weight, x, op)
    xp = backend.get_array_module(t)
    classes = x.shape[1]
    rows, t = _class_last(x), t.reshape(-1)
    counted = t != ignore_index
    kept = t[counted]
    low, high = (int(kept.min()), int(kept.max())) if kept.size else (0, 0)
    if low < 0 or high >= classes:
        raise IndexError(f"{op}: target holds class {low if low < 0 else high}, outside [0, {classes}) for "
                         f"input of shape {tuple(input.shape)} (ignore_index is {ignore_index})")
    safe = xp.where(counted, t, 0)  # an ignored position picks class 0; its weight below is 0
    picked = getitem(rows, (xp.arange(len(t)), safe))
    # Without class weights and with nothing ignored, each position counts 1 and "mean" is the plain
    # mean; otherwise each position carries its class's weight (1 without ``weight``), 0 if ignored.
    target_w = None
    if w is not None or not bool(counted.all()):
        target_w = (xp.ones(len(t), dtype=x.dtype) if w is None else w[safe]) * counted.astype(x.dtype)
    return rows, picked, w, counted, target_w, shape


def _weighted(loss, counted, target_w):
    """Per-position losses (M,) times their ``target_w``; an ignored position gives exactly 0, even where
    its row holds -inf (a log-probability of 0, or a masked score) that a product with 0 would make NaN."""
    if target_w is None:
        return loss
    if not counted.all():
        loss = where(counted, loss, 0.0)
    return loss * Tensor._wrap(target_w)


def _weighted_reduce(loss, target_w, reduction, shape, op):
    """Reduce per-position losses (M,) that already carry ``target_w``: "mean" then divides their sum by
    the counted targets' total weight (a mean over no counted target is NaN, as in PyTorch)."""
    if reduction == "mean" and target_w is not None:
        xp = backend.get_array_module(target_w)
        with np.errstate(invalid="ignore", divide="ignore"):  # nothing counted: 0 / 0 = NaN
            return loss.sum() / Tensor._wrap(xp.asarray(target_w.sum(), dtype=target_w.dtype))
    return _reduce(reshape(loss, shape), reduction, op)


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
    if not is_number(label_smoothing) or not 0 <= label_smoothing <= 1:
        raise ValueError(f"{op}: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    t = _class_input(input, target, reduction, op)
    if t.dtype.kind == "f":
        if tuple(t.shape) != tuple(input.shape):
            raise ValueError(f"{op}: class-probability target of shape {tuple(t.shape)} must have the input's "
                             f"shape {tuple(input.shape)}")
        one = input.ndim == 1
        x = reshape(input, (1,) + input.shape) if one else input
        q = t.reshape(x.shape).astype(x.dtype)
        return _soft_cross_entropy(x, q, _class_weight(weight, x, op), reduction, label_smoothing, one)
    rows, picked, w, counted, target_w, shape = _class_indices(
        input, t, weight, ignore_index, op, "integer class indices or float class probabilities")
    lse = logsumexp(rows, -1)
    loss = _weighted(lse - picked, counted, target_w)  # -log p[t] = logsumexp(x) - x[t]
    if label_smoothing:
        # The uniform part of the smoothed target: -sum_c w_c log p_c over every class, 0 if ignored.
        log_p = rows - reshape(lse, (len(counted), 1))
        uniform = -(log_p if w is None else log_p * Tensor._wrap(w)).sum(axis=-1)
        if not counted.all():
            uniform = where(counted, uniform, 0.0)
        loss = loss * (1 - label_smoothing) + uniform * (label_smoothing / rows.shape[1])
    return _weighted_reduce(loss, target_w, reduction, shape, op)


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


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class-index targets given log-probabilities, as
    ``torch.nn.functional.nll_loss``: loss_n = -w[t_n] x_n[t_n] (``cross_entropy`` is nll_loss of
    log_softmax(x)).

    ``input`` (N, C), (C,) or (N, C, d1, ..., dk) holds log-probabilities (from ``log_softmax``, say;
    not checked); ``target`` integer classes of shape (N,), () or (N, d1, ..., dk). ``weight``,
    ``ignore_index`` and ``reduction`` work as in ``cross_entropy`` ("mean" divides by the counted
    targets' total weight; NaN when none counts).
    """
    op = "nll_loss"
    t = _class_input(input, target, reduction, op)
    _, picked, _, counted, target_w, shape = _class_indices(input, t, weight, ignore_index, op,
                                                            "integer class indices")
    return _weighted_reduce(_weighted(-picked, counted, target_w), target_w, reduction, shape, op)


# -- regression losses -------------------------------------------------------------------------------

def mse_loss(input, target, reduction="mean"):
    """mean((x - t)^2)."""
    target = _target(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """mean(|x - t|)."""
    target = _target(input, target, "l1_loss")
    return _reduce(abs(input - target), reduction, "l1_loss")


def _quadratic_then_linear(x, target, cut, slope, reduction, op):
    """With d = x - t: (slope / cut) d^2 / 2 where |d| < cut, slope (|d| - cut / 2) elsewhere: a parabola
    joined at |d| = cut to two lines of slope +-slope, with equal values and slopes there."""
    d = x - _target(x, target, op)
    loss = abs(d)
    if cut:  # else (smooth L1 with beta = 0) the L1 loss |d|
        linear = loss - 0.5 * cut
        small = backend.get_array_module(d.data).abs(d.data) < cut
        loss = where(small, d * d * (0.5 * slope / cut), linear if slope == 1 else linear * slope)
    return _reduce(loss, reduction, op)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """Smooth L1, as ``torch.nn.functional.smooth_l1_loss``: with d = x - t,

        l = d^2 / (2 beta) where |d| < beta, |d| - beta / 2 elsewhere

    (quadratic near 0, slope +-1 beyond beta; beta = 0 gives the L1 loss). ``beta`` >= 0.
    """
    if not is_number(beta) or not beta >= 0:
        raise ValueError(f"smooth_l1_loss: beta must be a number >= 0, got {beta!r}")
    return _quadratic_then_linear(input, target, beta, 1, reduction, "smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber loss, as ``torch.nn.functional.huber_loss``: with d = x - t,

        l = d^2 / 2 where |d| < delta, delta (|d| - delta / 2) elsewhere

    (quadratic near 0, slope +-delta beyond; delta times ``smooth_l1_loss`` with beta = delta). ``delta`` > 0.
    """
    if not is_number(delta) or not delta > 0:
        raise ValueError(f"huber_loss: delta must be a number > 0, got {delta!r}")
    return _quadratic_then_linear(input, target, delta, delta, reduction, "huber_loss")
