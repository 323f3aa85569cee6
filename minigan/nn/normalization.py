"""Batch normalisation layers: BatchNorm1d (N, C) or (N, C, L) and BatchNorm2d (N, C, H, W).

Parameters weight (ones) and bias (zeros; ``bias=False`` drops it, as in PyTorch 2.13); buffers
running_mean (zeros), running_var (ones) and num_batches_tracked (an int64 scalar), all named as in
PyTorch. ``momentum=None`` uses a cumulative average (1 / num_batches_tracked), as PyTorch does.
"""
import numpy as np

from minigan.factories import ones, zeros
from minigan.functional.normalization import batch_norm
from minigan.nn import init
from minigan.nn.module import Module, new_parameter


class BatchNorm(Module):
    """The shared implementation; subclasses say which input ranks they accept."""

    ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        c = self.num_features
        self.register_parameter("weight", new_parameter((c,), device, dtype) if affine else None)
        self.register_parameter("bias", new_parameter((c,), device, dtype) if affine and bias else None)
        if track_running_stats:
            device = device or "cpu"
            self.register_buffer("running_mean", zeros(c, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(c, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", zeros((), dtype=np.int64, device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, x):
        if x.ndim not in self.ranks:
            shapes = " or ".join("(N, C)" if r == 2 else "(N, C, L)" if r == 3 else "(N, C, H, W)" for r in self.ranks)
            raise ValueError(f"{type(self).__name__}: expected input {shapes}, got shape {tuple(x.shape)}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:
                momentum = 1.0 / int(self.num_batches_tracked.data)
        # Batch statistics in training mode, and also in eval mode when no running ones are kept.
        use_batch_stats = self.training or not self.track_running_stats
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          use_batch_stats, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(BatchNorm):
    """Batch norm over (N, C) or (N, C, L): statistics per channel C."""

    ranks = (2, 3)


class BatchNorm2d(BatchNorm):
    """Batch norm over (N, C, H, W): statistics per channel C, over N, H and W."""

    ranks = (4,)
