"""Normalisation layers, with PyTorch's arguments, parameter names, state-dict keys and reprs.

Batch norm: BatchNorm1d (N, C) or (N, C, L), BatchNorm2d (N, C, H, W) and BatchNorm3d (N, C, D, H, W).
Parameters weight (ones) and bias (zeros; ``bias=False`` drops it, as in PyTorch 2.13); buffers
running_mean (zeros), running_var (ones) and num_batches_tracked (an int64 scalar), all named as in PyTorch.
``momentum=None`` uses a cumulative average (1 / num_batches_tracked), as PyTorch does.

Per-sample norms, whose statistics come from each sample alone (what a critic under a per-sample
gradient penalty, WGAN-GP or R1, needs): LayerNorm, RMSNorm, GroupNorm, InstanceNorm1d, InstanceNorm2d and
InstanceNorm3d.
Instance norm can also keep running statistics (``track_running_stats=True``, the same buffers as
batch norm's) and normalise by them in eval mode, as PyTorch's does. They live here, beside batch
norm, because each is a few lines around its function in ``minigan.functional.normalization``; the
file stays short.

LocalResponseNorm (across channels, no parameters or statistics) is ``F.local_response_norm`` as a layer.

SyncBatchNorm is left out on purpose: it shares batch statistics across the processes of a distributed
job, and minigan runs in one process, where it would be BatchNorm under another name.
"""
import warnings

import numpy as np

from minigan.factories import ones, zeros
from minigan.functional.normalization import (
    as_normalized_shape, batch_norm, group_norm, instance_norm, layer_norm, local_response_norm, lrn_size, rms_eps,
    rms_norm,
)
from minigan.functional.shape import unbatched
from minigan.nn import init
from minigan.nn.module import Module, new_parameter


class _RunningStats(Module):
    """What batch and instance norm share (PyTorch's ``_NormBase``): the buffers running_mean (zeros),
    running_var (ones) and num_batches_tracked (an int64 scalar), all None without tracking, and the repr."""

    def _running_stat_buffers(self, device, dtype):
        if self.track_running_stats:
            c, device = self.num_features, device or "cpu"
            self.register_buffer("running_mean", zeros(c, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(c, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", zeros((), dtype=np.int64, device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.data[...] = 0

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm(_RunningStats):
    """The shared implementation; subclasses say which input ranks they accept."""

    ranks = ()
    _layouts = {2: "(N, C)", 3: "(N, C, L)", 4: "(N, C, H, W)", 5: "(N, C, D, H, W)"}  # by rank, for errors

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        c = self.num_features
        self.register_parameter("weight", new_parameter((c,), device, dtype) if affine else None)
        self.register_parameter("bias", new_parameter((c,), device, dtype) if affine and bias else None)
        self._running_stat_buffers(device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, x):
        if x.ndim not in self.ranks:
            shapes = " or ".join(self._layouts[r] for r in self.ranks)
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


class BatchNorm1d(BatchNorm):
    """Batch norm over (N, C) or (N, C, L): statistics per channel C."""

    ranks = (2, 3)


class BatchNorm2d(BatchNorm):
    """Batch norm over (N, C, H, W): statistics per channel C, over N, H and W."""

    ranks = (4,)


class BatchNorm3d(BatchNorm):
    """Batch norm over (N, C, D, H, W): statistics per channel C, over N, D, H and W (volumes, or video
    as (N, C, T, H, W)). As BatchNorm2d otherwise: the same parameters, buffers, momentum (None for a
    cumulative average) and state-dict keys."""

    ranks = (5,)


class _PerSampleNorm(Module):
    """What the per-sample norms share: optional weight (ones) and bias (zeros) of one shape."""

    def _affine_parameters(self, shape, affine, bias, device, dtype):
        self.register_parameter("weight", new_parameter(shape, device, dtype) if affine else None)
        self.register_parameter("bias", new_parameter(shape, device, dtype) if affine and bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


class LayerNorm(_PerSampleNorm):
    """Layer norm over the trailing dimensions ``normalized_shape`` of input (*, *normalized_shape).

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, statistics (biased variance) per leading index
    over the normalized_shape dimensions; weight and bias have shape normalized_shape (elementwise;
    ``elementwise_affine=False`` drops both, ``bias=False`` the bias). See ``F.layer_norm``.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = as_normalized_shape("LayerNorm", normalized_shape)
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        self._affine_parameters(self.normalized_shape, self.elementwise_affine, bias, device, dtype)

    def forward(self, x):
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """RMS norm (Zhang & Sennrich 2019) over the trailing dimensions ``normalized_shape`` of input
    (*, *normalized_shape), as ``torch.nn.RMSNorm``.

    y = x / sqrt(E[x^2] + eps) * weight, the mean per leading index over the normalized_shape dimensions;
    weight has shape normalized_shape, initialised to ones (``elementwise_affine=False`` drops it); there
    is no bias. eps None means the machine epsilon of the computation type, as in PyTorch (see
    ``F.rms_norm``), and is kept as None, so the repr is PyTorch's.
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = as_normalized_shape("RMSNorm", normalized_shape)
        if eps is not None:
            rms_eps("RMSNorm", eps, np.float32)  # refused here rather than at the first call
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        weight = new_parameter(self.normalized_shape, device, dtype) if self.elementwise_affine else None
        self.register_parameter("weight", weight)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x):
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(_PerSampleNorm):
    """Group norm over input (N, C, *), C = num_channels split into num_groups groups.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight[c] + bias[c], statistics (biased variance) per sample
    and group over the group's C / num_groups channels and all positions; weight and bias are (C,)
    (``affine=False`` drops both, ``bias=False`` the bias). See ``F.group_norm``.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        if self.num_groups <= 0 or self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels={self.num_channels} is not divisible by "
                             f"num_groups={self.num_groups}")
        self.eps, self.affine = eps, bool(affine)
        self._affine_parameters((self.num_channels,), self.affine, bias, device, dtype)

    def forward(self, x):
        # Checked here even without affine parameters, which would otherwise be the only check of C.
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected input (N, {self.num_channels}, *) for num_channels="
                             f"{self.num_channels}, got shape {tuple(x.shape)}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_PerSampleNorm, _RunningStats):
    """The shared implementation; subclasses name their spatial dims, (N, C, *spatial) being the input.

    PyTorch's InstanceNorm, which this follows, is not BatchNorm's twin in two respects:
    ``momentum=None`` is momentum 0 (the running statistics keep their initial values; there is no
    cumulative average), and num_batches_tracked is never counted (it is there for the state dict).
    """

    spatial = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self._running_stat_buffers(device, dtype)  # before the parameters: reset_parameters resets them too
        self._affine_parameters((self.num_features,), self.affine, bias, device, dtype)

    def reset_parameters(self):
        self.reset_running_stats()
        super().reset_parameters()

    def forward(self, x):
        name, rank, dims = type(self).__name__, len(self.spatial) + 2, ", ".join(self.spatial)
        if x.ndim not in (rank - 1, rank):
            raise ValueError(f"{name}: expected input (N, C, {dims}) or (C, {dims}), got shape {tuple(x.shape)}")
        channels = x.shape[x.ndim - rank + 1]
        if channels != self.num_features:
            message = (f"{name}: input of shape {tuple(x.shape)} has {channels} channels but "
                       f"num_features={self.num_features}")
            if self.affine:
                raise ValueError(message)
            warnings.warn(message + " (unused without affine parameters)", stacklevel=2)
        if x.ndim == rank - 1:
            return unbatched(name, x, self._batched, self.spatial)
        return self._batched(x)

    def _batched(self, x):
        # Each sample's own statistics in training mode, and also in eval mode when no running ones are kept.
        return instance_norm(x, running_mean=self.running_mean, running_var=self.running_var, weight=self.weight,
                             bias=self.bias, use_input_stats=self.training or not self.track_running_stats,
                             momentum=0.0 if self.momentum is None else self.momentum, eps=self.eps)


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over input (N, C, L) or unbatched (C, L), C = num_features.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight[c] + bias[c], statistics (biased variance) per sample
    and channel over L; weight and bias are (C,) when ``affine=True`` (the default is False, as in
    PyTorch). With ``track_running_stats=True`` training mode also updates running_mean and
    running_var with ``momentum`` (see ``F.instance_norm``), and eval mode normalises by them; without
    it, eval mode is training mode. As in PyTorch, a channel count other than num_features is an error
    with affine parameters and a warning without.
    """

    spatial = ("L",)


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over input (N, C, H, W) or unbatched (C, H, W), C = num_features: as
    InstanceNorm1d, the statistics per sample and channel over H and W."""

    spatial = ("H", "W")


class InstanceNorm3d(_InstanceNorm):
    """Instance norm over input (N, C, D, H, W) or unbatched (C, D, H, W), C = num_features: as
    InstanceNorm1d, the statistics per sample and channel over D, H and W."""

    spatial = ("D", "H", "W")


class LocalResponseNorm(Module):
    """Local response normalisation across channels, over input (N, C, *) with at least one axis after C:

        y[n, c] = x[n, c] / (k + alpha / size * S[n, c]) ** beta,
        S[n, c] = sum of x[n, j]^2 over j = c - size // 2, ..., c + (size - 1) // 2

    channels outside the input reading as zero. No parameters or buffers; see ``F.local_response_norm``.
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        lrn_size("LocalResponseNorm", size)  # refused here, not at the first call
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
