"""Losses, with PyTorch's names, arguments and semantics: binary cross-entropy on probabilities and on
logits, cross-entropy and negative log-likelihood over classes, mean squared and mean absolute error,
smooth L1 and Huber; the Kullback-Leibler divergence; Poisson and Gaussian negative log-likelihoods; the
margin losses (margin ranking, hinge embedding, soft margin, multi-label soft margin, cosine embedding,
triplet margin, multi-class and multi-label margin).

Each is a composition of differentiable ops (binary_cross_entropy is one small Function whose backward
is), so gradient penalties can differentiate through them. Targets and weights are constants: no
gradient reaches them (PyTorch differentiates some targets too). Every input gets its gradient, those of
the losses that take several as well: margin_ranking_loss's two, cosine_embedding_loss's two,
triplet_margin_loss's three, and gaussian_nll_loss's input and var. PyTorch's deprecated size_average
and reduce are not arguments of the functions here (the layers in ``minigan.nn`` take them).
"""
import math
import warnings

import numpy as np

from minigan import backend
from minigan.function import Function
from minigan.functional.activation import log_softmax, softplus
from minigan.functional.arguments import is_number
from minigan.functional.arithmetic import abs, astype, clip, exp, log, maximum, operands, sqrt, where
from minigan.functional.distance import ClampMinStraightThrough, pairwise_distance
from minigan.functional.reduction import logsumexp
from minigan.functional.shape import as_tensor, getitem, reshape, transpose
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


def _class_weight(weight, x, op, classes=None):
    """``weight`` (C,) as a constant array of the input's dtype on its device, or None; C is ``classes``,
    by default the length of x's axis 1."""
    if weight is None:
        return None
    w = _array(weight, x.device)
    classes = x.shape[1] if classes is None else classes
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


# -- shared checks of the losses below -----------------------------------------------------------------

def _check_reduction(reduction, op, allowed=_REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def _check_number(op, name, value):
    if not is_number(value):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")


def _shapes(named):
    return ", ".join(f"{name} of shape {tuple(shape)}" for name, shape in named.items())


def _broadcast(op, named):
    """The shape that the arrays' shapes (``named``: name -> shape) broadcast to, or an error naming them."""
    try:
        return np.broadcast_shapes(*(tuple(s) for s in named.values()))
    except ValueError:
        raise ValueError(f"{op}: {_shapes(named)} do not broadcast to one shape") from None


def _float_inputs(op, named):
    """The differentiable inputs (``named``: name -> tensor or array) as tensors of one float dtype (the
    widest of theirs, as PyTorch promotes; the cast is differentiable) on one device."""
    tensors = {name: as_tensor(value) for name, value in named.items()}
    for name, t in tensors.items():
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating point, got dtype {t.dtype} (shape {tuple(t.shape)})")
    if len({t.device for t in tensors.values()}) > 1:
        places = ", ".join(f"{name} of shape {tuple(t.shape)} on {t.device}" for name, t in tensors.items())
        raise ValueError(f"{op}: the inputs must be on one device, got {places}")
    _broadcast(op, {name: t.shape for name, t in tensors.items()})
    dtype = np.result_type(*(t.dtype for t in tensors.values()))
    return [astype(t, dtype) for t in tensors.values()]


def _constant(value, x, op, name):
    """``value`` (a label or a target: a tensor, array or Python number) as a constant array of x's dtype
    on x's device: no gradient reaches it."""
    a = _array(value, x.device)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{op}: {name} must hold numbers, got dtype {a.dtype} (shape {tuple(a.shape)})")
    return a.astype(x.dtype, copy=False)


# -- the Kullback-Leibler divergence and two negative log-likelihoods -------------------------------------

def kl_div(input, target, reduction="mean", log_target=False):
    """The pointwise Kullback-Leibler divergence of ``target`` from the distribution whose log-probabilities
    are ``input``, as ``torch.nn.functional.kl_div``: with x = input and t = target,

        l = t (log t - x)          (log_target False: t holds probabilities; 0 log 0 = 0, so t = 0 adds 0)
        l = e^t (t - x)            (log_target True: t holds log-probabilities)

    KL(P || Q) = sum_i p_i log(p_i / q_i) is the sum of l over the support, for x = log q and t = p.
    ``target`` has the input's shape (or is a scalar). ``reduction``: "batchmean" divides the sum by the
    batch size, input.shape[0] (the KL divergence averaged over the batch: the mathematically meaningful
    choice), "mean" by the number of elements (PyTorch's default; it warns, as PyTorch does), "sum",
    "none". The input's gradient is -t (-e^t with log_target): 0, not NaN, where t = 0. The target is a
    constant here (PyTorch differentiates it too, with a NaN gradient at t = 0).
    """
    op = "kl_div"
    _check_reduction(reduction, op, _REDUCTIONS + ("batchmean",))
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the summed divergence by the number of elements (batch "
                      "size times support size); reduction='batchmean' divides by the batch size alone, which is "
                      "the KL divergence's definition averaged over the batch", UserWarning, stacklevel=2)
    target = _target(input, target, op)
    t = target.data
    xp = backend.get_array_module(t)
    if log_target:
        loss = Tensor._wrap(xp.exp(t)) * (target - input)
    else:
        # xlogy(t, t): 0 where t = 0 (the limit of t log t), t log t elsewhere (NaN for t < 0 or NaN, as
        # PyTorch's). A constant, so no log(0) enters the graph.
        with np.errstate(divide="ignore", invalid="ignore"):
            t_log_t = xp.where(t == 0, t.dtype.type(0), t * xp.log(t))
        loss = Tensor._wrap(t_log_t) - target * input
    if reduction == "batchmean":
        with np.errstate(invalid="ignore", divide="ignore"):  # an empty batch: 0 / 0 = NaN, as in PyTorch
            return loss.sum() if input.ndim == 0 else loss.sum() / input.shape[0]
    return _reduce(loss, reduction, op)


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
    """Negative log-likelihood of counts ``target`` under a Poisson distribution of rate lambda, as
    ``torch.nn.functional.poisson_nll_loss`` (up to the constant log(t!), unless ``full``):

        l = e^x - t x              (log_input True: the input x is log lambda)
        l = x - t log(x + eps)     (log_input False: x is lambda itself; eps keeps log(0) away)

    ``full`` adds Stirling's approximation of log(t!), t log t - t + log(2 pi t) / 2, where t > 1 (0 for
    t <= 1, where log(t!) is 0 at t = 0 and 1). ``target`` has the input's shape (or is a scalar).
    """
    op = "poisson_nll_loss"
    _check_reduction(reduction, op)
    _check_number(op, "eps", eps)
    target = _target(input, target, op)
    loss = exp(input) - target * input if log_input else input - target * log(input + eps)
    if full:
        t = target.data
        xp = backend.get_array_module(t)
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0) and log of negatives, masked next
            stirling = t * xp.log(t) - t + t.dtype.type(0.5) * xp.log(t.dtype.type(2 * math.pi) * t)
        # t <= 1 gives 0, NaN keeps NaN (PyTorch masks where t <= 1)
        loss = loss + Tensor._wrap(xp.where(t <= 1, t.dtype.type(0), stirling))
    return _reduce(loss, reduction, op)


def _gaussian_var(var, x, op):
    """``var`` as a tensor that broadcasts to the input's shape by PyTorch's rules: the input's shape
    (a variance per element), that shape with one axis of size 1, or without its last axis (one variance
    shared along it: then var gets a last axis of 1). A number is one variance for every element."""
    if is_number(var):
        if not var >= 0:
            raise ValueError(f"{op}: var must be non-negative, got {var!r}")
        return Tensor._wrap(x._xp.full(x.shape, var, dtype=x.dtype))
    var = as_tensor(var)
    if var.dtype.kind not in "fiu":
        raise TypeError(f"{op}: var must hold numbers, got dtype {var.dtype} (shape {tuple(var.shape)})")
    var = astype(var, x.dtype)
    if var.data.size and bool((var.data < 0).any()):  # NaN passes, as in PyTorch
        raise ValueError(f"{op}: var must be non-negative, found {float(var.data.min())} in var of shape "
                         f"{tuple(var.shape)}")
    shape, vshape = tuple(x.shape), tuple(var.shape)
    if vshape == shape:
        return var
    if vshape == shape[:-1]:
        return reshape(var, vshape + (1,))
    if len(vshape) == len(shape) and [v for n, v in zip(shape, vshape) if n != v] == [1]:
        return var
    raise ValueError(f"{op}: var of shape {vshape} does not fit input of shape {shape}: it must have the input's "
                     f"shape, that shape with one axis of size 1, or that shape without its last axis")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of ``target`` under Gaussians of mean ``input`` and variance ``var``, as
    ``torch.nn.functional.gaussian_nll_loss``:

        l = (log max(var, eps) + (x - t)^2 / max(var, eps)) / 2    (+ log(2 pi) / 2 if ``full``)

    ``var`` (non-negative) has the input's shape, or that shape with one axis of size 1, or without its
    last axis, or is a number; ``target`` broadcasts with the input. As in PyTorch the clamp at eps is
    invisible to autograd: var's gradient is that of l at the clamped value, even where var < eps (a
    straight-through clamp, ``ClampMinStraightThrough``), so a tiny variance still learns. The input and
    var get gradients; the target is a constant.
    """
    op = "gaussian_nll_loss"
    _check_reduction(reduction, op)
    _check_number(op, "eps", eps)
    t = _constant(target, input, op, "target")
    _broadcast(op, {"input": input.shape, "target": t.shape})
    var = ClampMinStraightThrough(eps).apply(_gaussian_var(var, input, op))
    loss = 0.5 * (log(var) + (input - Tensor._wrap(t)) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, op)


# -- margin losses on pairs and triplets --------------------------------------------------------------------

def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """The ranking hinge, as ``torch.nn.functional.margin_ranking_loss``: with labels y = +1 (input1
    should rank higher) or -1 (input2 should),

        l = max(0, margin - y (x1 - x2)).

    input1, input2 and target have the same number of axes and broadcast (PyTorch's rule). At the kink,
    margin - y (x1 - x2) = 0, the gradient is that of the sloped side, as PyTorch's clamp_min gives.
    """
    op = "margin_ranking_loss"
    _check_number(op, "margin", margin)
    x1, x2 = _float_inputs(op, {"input1": input1, "input2": input2})
    y = _constant(target, x1, op, "target")
    if not x1.ndim == x2.ndim == y.ndim:
        raise ValueError(f"{op}: input1, input2 and target must have the same number of axes, got "
                         f"{_shapes({'input1': x1.shape, 'input2': x2.shape, 'target': y.shape})}")
    _broadcast(op, {"input1": x1.shape, "input2": x2.shape, "target": y.shape})
    return _reduce(clip((x1 - x2) * Tensor._wrap(-y) + margin, min=0), reduction, op)


def hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    """The hinge embedding loss, as ``torch.nn.functional.hinge_embedding_loss``: for distances x and
    labels y = 1 (similar) or -1 (dissimilar),

        l = x                    where y = 1
        l = max(0, margin - x)   where y = -1

    (any other label adds both terms, as in PyTorch). At the kink x = margin of a y = -1 the gradient is
    -1, the sloped side's, as PyTorch's clamp_min gives. ``target`` has the input's shape (or is a scalar).
    """
    op = "hinge_embedding_loss"
    _check_number(op, "margin", margin)
    y = _target(input, target, op).data
    loss = where(y != 1, clip(margin - input, min=0), 0.0) + where(y != -1, input, 0.0)
    return _reduce(loss, reduction, op)


def soft_margin_loss(input, target, reduction="mean"):
    """The two-class logistic loss, as ``torch.nn.functional.soft_margin_loss``: for labels y = +1 or -1,

        l = log(1 + e^(-y x)) = softplus(-y x),

    computed without overflow for any y x (PyTorch's log1p(exp(-y x)) is inf, with a NaN gradient, once
    e^(-y x) overflows; elsewhere the two agree to rounding). ``target`` has the input's shape (or is a
    scalar).
    """
    op = "soft_margin_loss"
    target = _target(input, target, op)
    return _reduce(softplus(-(input * target), threshold=math.inf), reduction, op)


def multilabel_soft_margin_loss(input, target, weight=None, reduction="mean"):
    """Multi-label one-versus-all logistic loss, as ``torch.nn.functional.multilabel_soft_margin_loss``:
    for scores x (..., C) and labels t in [0, 1] of the same shape,

        l = sum_c w_c [t_c softplus(-x_c) + (1 - t_c) softplus(x_c)] / C
          = -sum_c w_c [t_c log sigmoid(x_c) + (1 - t_c) log sigmoid(-x_c)] / C,

    one loss per sample: the last axis is the class axis, so (N, C) gives (N,) and (C,) a scalar.
    ``weight`` broadcasts to the input's shape (usually (C,), one weight per class). Stable for any x.
    """
    op = "multilabel_soft_margin_loss"
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class axis last, (C,) or (N, C), got a scalar")
    target = _target(input, target, op)
    w = _weight(weight, input, op)
    loss = (target * softplus(-input, threshold=math.inf)
            + Tensor._wrap(1 - target.data) * softplus(input, threshold=math.inf))
    if w is not None:
        loss = loss * Tensor._wrap(w)
    return _reduce(loss.sum(axis=-1) / input.shape[-1], reduction, op)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """The cosine embedding loss, as ``torch.nn.functional.cosine_embedding_loss``: with the cosine
    similarity of each pair along the last axis, computed as PyTorch does,

        cos = <x1, x2> / sqrt((||x1||^2 + 1e-12) (||x2||^2 + 1e-12)),

    l = 1 - cos where y = 1, max(0, cos - margin) where y = -1, and 0 for any other label. Inputs (N, D)
    take a target (N,); inputs (D,) a 0-d target; they broadcast. The 1e-12 (PyTorch's) makes a zero vector's
    cosine 0 with a finite gradient. At the kink cos = margin of a y = -1 the gradient is the sloped
    side's, as PyTorch's clamp_min gives.
    """
    op = "cosine_embedding_loss"
    _check_number(op, "margin", margin)
    x1, x2 = _float_inputs(op, {"input1": input1, "input2": input2})
    y = _constant(target, x1, op, "target")
    if y.ndim > 1:
        raise ValueError(f"{op}: target must be 0-d (for inputs (D,)) or 1-D (N,) (for inputs (N, D)), got "
                         f"shape {tuple(y.shape)}")
    if not x1.ndim == x2.ndim == y.ndim + 1:
        raise ValueError(f"{op}: a target of shape {tuple(y.shape)} needs {y.ndim + 1}-D inputs, got "
                         f"{_shapes({'input1': x1.shape, 'input2': x2.shape})}")
    pairs = _broadcast(op, {"input1": x1.shape, "input2": x2.shape})[:-1]
    y = backend.get_array_module(y).broadcast_to(y, _broadcast(op, {"target": y.shape, "the pairs": pairs}))
    dot = (x1 * x2).sum(axis=-1)
    cos = dot / sqrt(((x1 * x1).sum(axis=-1) + 1e-12) * ((x2 * x2).sum(axis=-1) + 1e-12))
    loss = where(y == 1, 1 - cos, 0.0) + where(y == -1, clip(cos - margin, min=0), 0.0)
    return _reduce(loss, reduction, op)


def _minimum_sharing_ties(a, b):
    """min(a, b) elementwise with the gradient of PyTorch's torch.minimum: all of it to the smaller, half
    to each at a tie. A composition of ``where`` (constant masks from the data), so differentiable again;
    NaN in either gives NaN (both comparisons are False, and the tie branch is (a + b) / 2)."""
    return where(a.data < b.data, a, where(a.data > b.data, b, (a + b) * 0.5))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    """The triplet loss of Schroff et al. (FaceNet, 2015), as ``torch.nn.functional.triplet_margin_loss``:
    with d(a, b) = ``pairwise_distance(a, b, p, eps)`` = ||a - b + eps||_p along the last axis,

        l = max(0, margin + d(anchor, positive) - d(anchor, negative)).

    ``swap`` (Balntas et al., 2016) uses min(d(anchor, negative), d(positive, negative)) as the negative
    distance; at a tie the gradient is shared half and half, as PyTorch's minimum shares it. At the kink
    (l's argument 0) the gradient is the sloped side's, as PyTorch's clamp_min gives. The three inputs
    have the same number of axes ((N, D), or (D,) for one triplet) and broadcast. margin > 0.
    """
    op = "triplet_margin_loss"
    _check_number(op, "margin", margin)
    if not margin > 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin!r}")
    _check_number(op, "p", p)
    _check_number(op, "eps", eps)
    a, pos, neg = _float_inputs(op, {"anchor": anchor, "positive": positive, "negative": negative})
    if not a.ndim == pos.ndim == neg.ndim:
        raise ValueError(f"{op}: anchor, positive and negative must have the same number of axes, got "
                         f"{_shapes({'anchor': a.shape, 'positive': pos.shape, 'negative': neg.shape})}")
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = _minimum_sharing_ties(d_neg, pairwise_distance(pos, neg, p, eps))
    return _reduce(clip((d_pos + margin) - d_neg, min=0), reduction, op)


# -- margin losses over classes -------------------------------------------------------------------------------

def _class_scores(input, target, op):
    """Check class scores (C,) or (N, C) (a scalar is one class, as PyTorch takes it) and integer targets.
    Returns the scores as (N, C), the target as an integer array on their device (its shape is the
    caller's to check), and the shape of a "none" result: () for one sample, else (N,)."""
    if input.ndim > 2 or (input.ndim and input.shape[-1] == 0):
        raise ValueError(f"{op}: input must be class scores (C,) or (N, C) with C > 0, got shape "
                         f"{tuple(input.shape)}")
    t = _array(target, input.device)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {t.dtype} "
                        f"(shape {tuple(t.shape)})")
    classes = input.shape[-1] if input.ndim else 1
    batch = input.shape[0] if input.ndim == 2 else 1
    return reshape(input, (batch, classes)), t, () if input.ndim < 2 else (batch,)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """The multi-class hinge loss (Weston and Watkins' form, as ``torch.nn.functional.multi_margin_loss``):
    for scores x (C,) of one sample and its class y,

        l = sum_{i != y} w_y max(0, margin - x_y + x_i)^p / C,    p = 1 or 2,

    ``weight`` w (C,) a weight per class (default 1). Input (N, C) with target (N,), or (C,) with a
    0-d (or one-element) target. "mean" averages over the N samples (not weighted by w). The gradient
    at a kink, margin - x_y + x_i = 0, is 0 as PyTorch's kernel gives (it counts only terms > 0); for
    p = 2 that is the derivative. The second derivative is this composition's own: 0 for p = 1, the
    true one (2 w_y / C on the active terms) for p = 2.
    """
    op = "multi_margin_loss"
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"{op}: p must be 1 or 2, got {p!r}")
    _check_number(op, "margin", margin)
    _check_reduction(reduction, op)
    x, t, shape = _class_scores(input, target, op)
    batch, classes = x.shape
    if (tuple(t.shape) != (batch,)) if input.ndim == 2 else (t.ndim > 1 or t.size != 1):
        expects = f"({batch},)" if input.ndim == 2 else "() or (1,)"
        raise ValueError(f"{op}: target of shape {tuple(t.shape)} does not fit input of shape {tuple(input.shape)} "
                         f"(expects {expects}, one class per sample)")
    t = t.reshape(batch)
    if t.size and (int(t.min()) < 0 or int(t.max()) >= classes):
        raise ValueError(f"{op}: target holds class {int(t.min()) if int(t.min()) < 0 else int(t.max())}, outside "
                         f"[0, {classes}) for input of shape {tuple(input.shape)}")
    w = _class_weight(weight, input, op, classes)
    xp = backend.get_array_module(t)
    picked = getitem(x, (xp.arange(batch), t))
    z = (margin - reshape(picked, (batch, 1))) + x  # PyTorch's order: margin - x_y, then + x_i
    counted = (z.data > 0) & (xp.arange(classes) != t[:, None])
    hinge = where(counted, z, 0.0)
    if p == 2:
        hinge = hinge * hinge
    if w is not None:
        hinge = hinge * Tensor._wrap(w[t][:, None])
    return _reduce(reshape(hinge.sum(axis=1) / classes, shape), reduction, op)


def multilabel_margin_loss(input, target, reduction="mean"):
    """The multi-label hinge loss, as ``torch.nn.functional.multilabel_margin_loss``: for scores x (C,)
    of one sample whose target lists its classes, ended by the first -1 (e.g. [3, 0, -1, 1] means
    classes 3 and 0; what follows the -1 is ignored),

        l = sum_{j listed} sum_{i not listed} max(0, 1 - (x_{y_j} - x_i)) / C.

    A class listed twice counts twice, as in PyTorch. Input (N, C) with target (N, C), or (C,) with (C,);
    every target entry lies in [-1, C). "mean" averages over the N samples. At a kink the gradient is 0,
    as PyTorch's kernel gives (it counts only terms > 0). Forms the (N, C, C) array of all pairs (j, i).
    """
    op = "multilabel_margin_loss"
    _check_reduction(reduction, op)
    x, t, shape = _class_scores(input, target, op)
    if tuple(t.shape) != tuple(input.shape):
        raise ValueError(f"{op}: target of shape {tuple(t.shape)} must have the input's shape {tuple(input.shape)} "
                         f"(class indices, each list ended by -1)")
    batch, classes = x.shape
    t = t.reshape(batch, classes)
    if t.size and (int(t.min()) < -1 or int(t.max()) >= classes):
        raise ValueError(f"{op}: target holds {int(t.min()) if int(t.min()) < -1 else int(t.max())}, outside "
                         f"[-1, {classes}) (class indices, each list ended by -1), for input of shape "
                         f"{tuple(input.shape)}")
    xp = backend.get_array_module(t)
    listed = xp.cumprod(t != -1, axis=1).astype(bool)  # the entries before each row's first -1
    safe = xp.where(listed, t, 0)
    is_target = xp.zeros((batch, classes), dtype=bool)
    rows = xp.broadcast_to(xp.arange(batch)[:, None], (batch, classes))
    is_target[rows[listed], t[listed]] = True
    picked = getitem(x, (rows, safe))  # (N, C): x[n, y_nj]
    # z[n, j, i] = 1 - x[n, y_nj] + x[n, i], in PyTorch's order of operations
    z = reshape(1 - picked, (batch, classes, 1)) + reshape(x, (batch, 1, classes))
    counted = listed[:, :, None] & ~is_target[:, None, :] & (z.data > 0)
    return _reduce(reshape(where(counted, z, 0.0).sum(axis=(1, 2)) / classes, shape), reduction, op)
