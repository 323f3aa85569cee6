"""Loss layers, with PyTorch's names, constructor arguments, reprs and state-dict keys: BCELoss,
BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss.

Each keeps its settings and calls its function in ``minigan.functional.loss``, which holds the maths.
Class and element weights are buffers, as in PyTorch ("weight", and BCEWithLogitsLoss's "pos_weight"):
saved in the state dict when given, moved and cast by ``to``. PyTorch's deprecated ``size_average``
and ``reduce`` are accepted, in their places, so that positional arguments line up; as there, either one
overrides ``reduction`` (with a warning). An unknown ``reduction`` fails when the layer is made, not (as in
PyTorch) at its first call.
"""
import warnings

from minigan.functional import loss as F
from minigan.nn.module import Module
from minigan.tensor import Tensor, tensor


def _legacy_reduction(size_average, reduce):
    """PyTorch's mapping of the old flags (None meaning True) to a reduction, and its warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"size_average and reduce are PyTorch's old flags; they mean reduction={reduction!r} here, "
                  f"which is the argument to pass", DeprecationWarning, stacklevel=3)
    return reduction


def _buffer(value):
    """A weight given as a Tensor stays that Tensor (as PyTorch registers it); an array or a list becomes
    one (with ``minigan.tensor``'s dtype rules)."""
    return value if value is None or isinstance(value, Tensor) else tensor(value)


class _Loss(Module):
    """A loss layer: ``reduction`` ("mean", "sum" or "none") and PyTorch's repr, ``Name()``."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        if reduction not in F._REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {F._REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss layer with a ``weight`` buffer (None: no state-dict entry, as in PyTorch)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer(weight))


class BCELoss(_WeightedLoss):
    """``binary_cross_entropy`` of probabilities: -w [t log x + (1 - t) log(1 - x)], logs clamped at -100."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """``binary_cross_entropy_with_logits``: sigmoid and binary cross-entropy in one stable step, with
    element weights ``weight`` and positive-class weights ``pos_weight`` (both buffers)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer(weight))
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class CrossEntropyLoss(_WeightedLoss):
    """``cross_entropy`` over the class axis: class indices (with ``ignore_index``) or probabilities,
    class weights, label smoothing."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """``nll_loss``: -w[t] x[t] for log-probabilities x (LogSoftmax then NLLLoss is CrossEntropyLoss)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(_Loss):
    """``mse_loss``: (x - t)^2."""

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """``l1_loss``: |x - t|."""

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """``smooth_l1_loss``: quadratic for |x - t| < beta, linear (slope 1) beyond."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    """``huber_loss``: quadratic for |x - t| < delta, linear (slope delta) beyond."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)
