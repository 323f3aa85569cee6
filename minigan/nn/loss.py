"""Loss layers, with PyTorch's names, constructor arguments, reprs and state-dict keys: BCELoss,
BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, KLDivLoss,
PoissonNLLLoss, GaussianNLLLoss, MarginRankingLoss, HingeEmbeddingLoss, SoftMarginLoss,
MultiLabelSoftMarginLoss, CosineEmbeddingLoss, TripletMarginLoss, MultiMarginLoss, MultiLabelMarginLoss.

Each keeps its settings and calls its function in ``minigan.functional.loss``, which holds the maths.
Class and element weights are buffers, as in PyTorch ("weight", and BCEWithLogitsLoss's "pos_weight"):
saved in the state dict when given, moved and cast by ``to``. PyTorch's deprecated ``size_average``
and ``reduce`` are accepted, in their places, so that positional arguments line up; as there, either one
overrides ``reduction`` (with a warning). An unknown ``reduction`` fails when the layer is made, not (as in
PyTorch) at its first call.
"""
import warnings

from minigan.functional import loss as F
from minigan.functional.arguments import is_number
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
    """A loss layer: ``reduction`` (one of ``reductions``: "mean", "sum" or "none") and PyTorch's repr,
    ``Name()``."""

    reductions = F._REDUCTIONS

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        if reduction not in self.reductions:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {self.reductions}, got {reduction!r}")
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


class KLDivLoss(_Loss):
    """``kl_div``: t (log t - x) for log-probabilities x and probabilities t (e^t (t - x) with
    ``log_target``); "batchmean" (the KL divergence averaged over the batch) is a reduction here too."""

    reductions = F._REDUCTIONS + ("batchmean",)

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, self.reduction, self.log_target)


class PoissonNLLLoss(_Loss):
    """``poisson_nll_loss``: e^x - t x for log-rates x (x - t log(x + eps) for rates), with Stirling's
    log(t!) if ``full``."""

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, self.eps, self.reduction)


class GaussianNLLLoss(_Loss):
    """``gaussian_nll_loss``: (log var + (x - t)^2 / var) / 2, var clamped at eps (straight through).
    Keyword arguments only, as in PyTorch; called as ``loss(input, target, var)``."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class MarginRankingLoss(_Loss):
    """``margin_ranking_loss``: max(0, margin - y (x1 - x2)), called as ``loss(input1, input2, target)``."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


class HingeEmbeddingLoss(_Loss):
    """``hinge_embedding_loss``: x where y = 1, max(0, margin - x) where y = -1."""

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, self.margin, self.reduction)


class SoftMarginLoss(_Loss):
    """``soft_margin_loss``: log(1 + e^(-y x)), without overflow."""

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """``multilabel_soft_margin_loss``: the mean over the classes of the weighted binary logistic losses."""

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, self.weight, self.reduction)


class CosineEmbeddingLoss(_Loss):
    """``cosine_embedding_loss``: 1 - cos where y = 1, max(0, cos - margin) where y = -1, called as
    ``loss(input1, input2, target)``."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)


class TripletMarginLoss(_Loss):
    """``triplet_margin_loss``: max(0, margin + d(a, p) - d(a, n)), d the p-norm distance, called as
    ``loss(anchor, positive, negative)``. margin > 0, checked here as PyTorch checks it."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if not is_number(margin) or not margin > 0:
            raise ValueError(f"TripletMarginLoss: margin must be a number greater than 0, got {margin!r}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
                                     self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """``multi_margin_loss``: sum_{i != y} w_y max(0, margin - x_y + x_i)^p / C, p = 1 or 2 (checked here,
    as PyTorch checks it, with the weight's number of axes)."""

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if isinstance(p, bool) or p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p!r}")
        if self.weight is not None and self.weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: weight must be None or 1-D (one weight per class), got shape "
                             f"{tuple(self.weight.shape)}")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight, self.reduction)


class MultiLabelMarginLoss(_Loss):
    """``multilabel_margin_loss``: the hinge between each listed class and each other class, over C."""

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, self.reduction)
