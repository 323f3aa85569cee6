"""Batch normalisation (Ioffe & Szegedy 2015), with PyTorch's semantics.

``batch_norm`` normalises each channel of x (N, C, *) to zero mean and unit variance, then scales by
``weight`` (gamma) and shifts by ``bias`` (beta). Two modes:

- training (or no running statistics): the batch's own mean and biased variance. This is one fused
  Function over the registry primitives ``batch_norm_forward`` / ``batch_norm_backward``; the running
  statistics, when given, are updated in place as ``new = (1 - m) old + m batch`` with the unbiased
  batch variance, as ``torch.nn.functional.batch_norm`` does.
- eval: the running statistics are constants, so the op is the affine map
  y = x * (gamma / sqrt(var + eps)) + (beta - mean * gamma / sqrt(var + eps)), written with ordinary
  differentiable ops; double backward works through it.

Double backward works in both modes. In training mode the first gradient is a fused kernel; its own
derivative (``BatchNormGrad.backward``) rebuilds that gradient from differentiable ops, with the batch
statistics recomputed from x, and differentiates the rebuilt graph. This is what a gradient penalty
(WGAN-GP, R1) through a critic with batch norm needs; only the penalty's backward pays for it.

Per-sample normalisation: ``layer_norm`` (Ba et al. 2016), ``rms_norm`` (Zhang & Sennrich 2019: layer
norm's rescaling without its re-centring), ``group_norm`` (Wu & He 2018) and ``instance_norm``
(Ulyanov et al. 2016) take their statistics from each sample alone, so a critic built
with them judges every sample on its own, as the per-sample gradient penalties of WGAN-GP and R1 assume
(Gulrajani et al. 2017, section 4, recommend layer norm there). Layer, group and instance norm share
one Function, ``Standardise`` (each row of values to zero mean and unit variance, over the registry
primitives ``standardise_forward`` / ``standardise_backward``), whose gradient is a Function with its
own closed-form derivative, so gradients of every order work; the affine weight and bias after it, and
``rms_norm`` whole, are ordinary differentiable ops. ``instance_norm``
can also keep running statistics, as PyTorch's does, and normalise by them instead
(``use_input_stats=False``, an eval-mode InstanceNorm with ``track_running_stats=True``); that is
batch norm's eval-mode affine map.

All of them take any number of spatial axes after (N, C): the 3-D layers (BatchNorm3d, InstanceNorm3d,
over (N, C, D, H, W)) call the same functions as the 1-D and 2-D ones.

Local response normalisation (``local_response_norm``, Krizhevsky et al. 2012, AlexNet) keeps no
statistics: each element is divided by a power of the mean square of its neighbours across channels.
It is PyTorch's recipe in minigan's ops (a zero pad and an average pooling over the channel axis, then
elementwise ops), so its gradients of every order come from theirs.
"""
import math
import numbers
import operator

import numpy as np

from minigan import backend, kernels
from minigan.function import Function, enable_grad, grad, is_grad_enabled
from minigan.functional.arguments import is_int, is_number
from minigan.functional.arithmetic import sqrt
from minigan.functional.padding import pad
from minigan.functional.pooling import avg_pool3d
from minigan.functional.reduction import mean
from minigan.functional.shape import reshape, transpose
from minigan.tensor import Tensor


class BatchNorm(Function):
    """Training-mode batch norm on x viewed as (N, C, L); inputs (x, [gamma], [beta]).

    Saves ``mean`` and ``invstd`` (C values each) because the backward formula needs them and they
    cost a pass over x to recompute; x itself is held by the graph as an input anyway.
    """

    def __init__(self, eps, has_weight, has_bias):
        self.eps, self.has_weight, self.has_bias = eps, has_weight, has_bias

    def forward(self, x, *affine):
        xp = backend.get_array_module(x)
        x = xp.ascontiguousarray(x)  # the kernel contract: C-contiguous (N, C, L)
        c = x.shape[1]
        gamma = affine[0] if self.has_weight else xp.ones(c, dtype=x.dtype)
        beta = affine[-1] if self.has_bias else xp.zeros(c, dtype=x.dtype)
        y, self.mean, self.invstd = kernels.get("batch_norm_forward", xp)(x, gamma, beta, self.eps)
        return y

    def backward(self, gy):
        x = self.inputs[0]
        gamma = self.inputs[1] if self.has_weight else None
        gx, ggamma, gbeta = BatchNormGrad(self.mean, self.invstd, self.eps).apply(
            *((gy, x) if gamma is None else (gy, x, gamma)))
        grads = [gx if self.needs_input_grad[0] else None]
        if self.has_weight:
            grads.append(ggamma if self.needs_input_grad[1] else None)
        if self.has_bias:
            grads.append(gbeta if self.needs_input_grad[-1] else None)
        return tuple(grads)


class BatchNormGrad(Function):
    """(gy, x, [gamma]) -> (gx, ggamma, gbeta): the fused backward kernel as a node of the graph.

    With x (N, C, L), M = N L values per channel, xhat = (x - mean) invstd and sums over N and L:

        gbeta = sum gy,   ggamma = sum gy xhat,   gx = gamma invstd (gy - gbeta / M - xhat ggamma / M)

    x and gamma are inputs (not constants) because the gradient depends on them: differentiating it
    again (``backward``) must reach them. ``mean`` and ``invstd`` are the forward's, for the kernel.
    """

    def __init__(self, mean, invstd, eps):
        self.mean, self.invstd, self.eps = mean, invstd, eps

    def forward(self, gy, x, gamma=None):
        xp = backend.get_array_module(x)
        gy, x = xp.ascontiguousarray(gy), xp.ascontiguousarray(x)
        if gamma is None:
            gamma = xp.ones(x.shape[1], dtype=x.dtype)
        return kernels.get("batch_norm_backward", xp)(gy, x, self.mean, self.invstd, gamma)

    def backward(self, g_gx, g_ggamma, g_gbeta):
        """The vector-Jacobian product of the formula above, by differentiating it rebuilt from ops.

        The second-order terms come from the batch statistics' own dependence on x; writing them out
        by hand is long and easy to get wrong, and this runs only inside a gradient penalty's backward.
        With ``create_graph`` the result stays differentiable (third order); otherwise the formula is
        rebuilt on detached copies, so the caller's graph is not extended.
        """
        create_graph = is_grad_enabled()
        with enable_grad():
            if create_graph:
                inputs = list(self.inputs)
            else:
                inputs = [t.detach().requires_grad_(need) for t, need in zip(self.inputs, self.needs_input_grad)]
            outputs = _batch_norm_grad_formula(*inputs, eps=self.eps)
            # gbeta = sum gy depends on gy alone: when gy is a constant (a penalty on D's input gradient
            # with a fixed upstream), it is not part of the graph, and nothing flows back through it.
            pairs = [(y, g) for y, g in zip(outputs, (g_gx, g_ggamma, g_gbeta)) if y.requires_grad]
            wanted = [t for t, need in zip(inputs, self.needs_input_grad) if need]
            grads = iter(grad([y for y, _ in pairs], wanted, [g for _, g in pairs], create_graph=create_graph,
                              allow_unused=True))
        return tuple(next(grads) if need else None for need in self.needs_input_grad)


def _batch_norm_grad_formula(gy, x, gamma=None, eps=1e-5):
    """``BatchNormGrad``'s (gx, ggamma, gbeta) from differentiable ops, statistics recomputed from x."""
    m = x.shape[0] * x.shape[2]
    centred = x - x.mean(axis=(0, 2), keepdims=True)
    invstd = 1 / sqrt((centred * centred).mean(axis=(0, 2), keepdims=True) + eps)
    xhat = centred * invstd
    gbeta = gy.sum(axis=(0, 2))
    ggamma = (gy * xhat).sum(axis=(0, 2))
    scale = invstd if gamma is None else invstd * reshape(gamma, (1, -1, 1))
    gx = scale * (gy - reshape(gbeta, (1, -1, 1)) / m - xhat * reshape(ggamma, (1, -1, 1)) / m)
    return gx, ggamma, gbeta


def _check_stat(op, name, stat, x, channels):
    if stat is None:
        return
    if not isinstance(stat, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor (it is updated in place), got {type(stat).__name__}")
    if tuple(stat.shape) != (channels,):
        raise ValueError(f"{op}: {name} of shape {tuple(stat.shape)} does not fit input of shape "
                         f"{tuple(x.shape)} (expects ({channels},), one value per channel)")
    if stat.device != x.device:
        raise ValueError(f"{op}: {name} is on {stat.device} but the input of shape {tuple(x.shape)} "
                         f"is on {x.device}")


def _check_running_stats(op, running_mean, running_var, x, channels):
    """Both None, or both (C,) tensors on x's device (their dtype may differ: each op casts)."""
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        _check_stat(op, name, stat, x, channels)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: running_mean and running_var must both be given or both be None")


def _update_running(stat, batch_value, momentum):
    """stat <- (1 - momentum) stat + momentum batch_value, in place in the stat's dtype."""
    data = stat.data
    data *= data.dtype.type(1 - momentum)
    data += batch_value.astype(data.dtype, copy=False) * data.dtype.type(momentum)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over x of shape (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W) (any
    (N, C, *)), per channel.

    running_mean, running_var: (C,) tensors or None. In training mode (or when they are None) the
    batch statistics normalise x, and the running statistics (if given) are updated in place with
    ``momentum``, the variance unbiased (times M / (M - 1), M = N * prod(*) values per channel). In eval mode
    the running statistics normalise x. weight, bias: optional (C,) tensors (gamma, beta). Returns a
    tensor of x's shape and dtype. As ``torch.nn.functional.batch_norm``.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, *), got shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"batch_norm: input must be floating point, got dtype {x.dtype}")
    channels = x.shape[1]
    _check_running_stats("batch_norm", running_mean, running_var, x, channels)
    for name, param in (("weight", weight), ("bias", bias)):
        if param is None:
            continue
        if tuple(param.shape) != (channels,):
            raise ValueError(f"batch_norm: {name} of shape {tuple(param.shape)} does not fit input of shape "
                             f"{tuple(x.shape)} (expects ({channels},))")
        if param.dtype != x.dtype:
            raise ValueError(f"batch_norm: {name} dtype {param.dtype} differs from input dtype {x.dtype}")

    if training or running_mean is None:
        return _batch_stats(x, running_mean, running_var, weight, bias, momentum, eps)
    return _running_stats(x, running_mean, running_var, weight, bias, eps)


def _batch_stats(x, running_mean, running_var, weight, bias, momentum, eps):
    n, c = x.shape[:2]
    per_channel = x.data.size // c if c else 0
    if per_channel <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input "
                         f"of shape {tuple(x.shape)}")
    affine = [t for t in (weight, bias) if t is not None]
    nhwc = x.ndim == 4 and not x.data.flags.c_contiguous and backend.nhwc_view(x.data) is not None
    if nhwc:
        # A convolution's output, laid out channels-last: its pixels are the rows of (N H W, C, 1), the
        # same statistics over the same values, and a view where (N, C, H W) would be a copy.
        x3 = reshape(transpose(x, (0, 2, 3, 1)), (-1, c, 1))
    else:
        x3 = reshape(x, (n, c, per_channel // n))
    fn = BatchNorm(float(eps), weight is not None, bias is not None)
    y = fn.apply(x3, *affine)
    if running_mean is not None:
        # The kernel returns invstd = 1 / sqrt(var + eps); recover the biased variance from it (C
        # values, in float64 so the subtraction loses nothing more) rather than make another pass.
        invstd = fn.invstd.astype(np.float64)
        var = backend.get_array_module(invstd).maximum(1 / (invstd * invstd) - eps, 0)
        _update_running(running_mean, fn.mean, momentum)
        _update_running(running_var, var * (per_channel / (per_channel - 1)), momentum)
    if nhwc:
        return transpose(reshape(y, (n,) + x.shape[2:] + (c,)), (0, 3, 1, 2))
    return reshape(y, x.shape)


def _running_stats(x, running_mean, running_var, weight, bias, eps):
    xp = x._xp
    bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    # The running statistics are buffers, not parameters: constants of the graph.
    invstd = (1 / xp.sqrt(running_var.data + running_var.dtype.type(eps))).astype(x.dtype, copy=False)
    mean = running_mean.data.astype(x.dtype, copy=False)
    scale = Tensor._wrap(invstd) if weight is None else weight * Tensor._wrap(invstd)
    shift = scale * Tensor._wrap(-mean)
    if bias is not None:
        shift = shift + bias
    return x * reshape(scale, bshape) + reshape(shift, bshape)


def as_normalized_shape(op, normalized_shape):
    """``normalized_shape`` (an int or a sequence of ints, as PyTorch takes it) as a non-empty tuple."""
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    shape = tuple(operator.index(n) for n in normalized_shape)
    if not shape:
        raise ValueError(f"{op}: normalized_shape must have at least one dimension, got ()")
    return shape


def _check_floating(op, x):
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")


def _check_affine(op, name, param, shape, x):
    """``param`` (weight or bias) must have ``shape`` and the input's dtype and device: a float64 weight
    would silently make a float32 network's output float64, and another device fails inside an op that
    does not name this one."""
    if param is None:
        return
    if tuple(param.shape) != shape:
        raise ValueError(f"{op}: {name} of shape {tuple(param.shape)} does not fit input of shape "
                         f"{tuple(x.shape)} (expects {shape})")
    if param.dtype != x.dtype:
        raise ValueError(f"{op}: {name} dtype {param.dtype} differs from input dtype {x.dtype}")
    if param.device != x.device:
        raise ValueError(f"{op}: {name} is on {param.device} but the input of shape {tuple(x.shape)} is on {x.device}")


class Standardise(Function):
    """xhat = (x - E[x]) / sqrt(Var[x] + eps), with the mean and biased variance over ``axes`` of x (one
    set of statistics per index of the other axes): the core of layer, group and instance norm.

    One Function rather than a chain of ops: the chain made about ten full passes over x per direction,
    each a node of the graph, and in a gradient penalty's double backward (R1 through a layer-normed
    critic) those passes were a sixth of a step. The work is the ``standardise_forward`` and
    ``standardise_backward`` kernels' (one row per set of statistics: ``_as_rows``). Saves ``invstd``
    (one value per row, shaped to broadcast against x); the backward reads xhat back from the output,
    as tanh's does.
    """

    def __init__(self, axes, eps):
        self.axes, self.eps = axes, eps

    def forward(self, x):
        order = _row_order(x, self.axes)
        standardise_rows = kernels.get("standardise_forward", backend.get_array_module(x))
        xhat, invstd = standardise_rows(_as_rows(x, order, self.axes), self.eps)
        self.invstd = invstd.reshape([1 if a in self.axes else n for a, n in enumerate(x.shape)])
        return _from_rows(xhat, order, x.shape)

    def backward(self, gy):
        return StandardiseGrad(self.output.data, self.invstd, self.axes, self.eps).apply(gy, self.inputs[0])


class StandardiseGrad(Function):
    """(gy, x) -> gx, Standardise's gradient as a node of the graph, so that it can be differentiated again.

    With M values per row, xhat the forward's output and r = 1 / sqrt(Var[x] + eps), row by row:

        gx = r (gy - E[gy] - xhat E[gy xhat])

    Its own vector-Jacobian product, for an upstream v (the derivation: xhat_j and r depend on x_i through
    d xhat_j / d x_i = r (delta_ij - 1/M - xhat_i xhat_j / M) and d r / d x_i = -r^2 xhat_i / M), with
    a = E[gy], b = E[gy xhat], c = E[v], d = E[v xhat], e = E[v gy]:

        d <v, gx> / d gy = r (v - c - xhat d)          (the same map as gx: it is self-adjoint)
        d <v, gx> / d x  = -r^2 (xhat (e - a c - 3 b d) + d (gy - a) + b (v - c))

    That is what a gradient penalty's backward evaluates, on raw arrays. Under ``create_graph`` (third
    order) the same formulas run on tensors, xhat and r rebuilt from x with differentiable ops.
    """

    def __init__(self, xhat, invstd, axes, eps):
        self.xhat, self.invstd, self.axes, self.eps = xhat, invstd, axes, eps

    def forward(self, gy, x):
        order = _row_order(self.xhat, self.axes)  # the forward's: xhat came out in x's layout
        gx = kernels.get("standardise_backward", backend.get_array_module(gy))(
            _as_rows(gy, order, self.axes), _as_rows(self.xhat, order, self.axes), self.invstd.reshape(-1))
        return _from_rows(gx, order, gy.shape)

    def backward(self, v):
        gy, x = self.inputs
        if is_grad_enabled():  # third order: the formulas on tensors, xhat and r rebuilt from x
            xhat, invstd = _standardise_ops(x, self.axes, self.eps)
            return _standardise_second_vjp(v, gy, xhat, invstd, self.axes, self.needs_input_grad)
        grads = _standardise_second_vjp(v.data, gy.data, self.xhat, self.invstd, self.axes, self.needs_input_grad)
        return tuple(None if g is None else Tensor._wrap(g) for g in grads)


def _row_order(x, axes):
    """x's axes reordered for ``_as_rows``: the others first, in order, then ``axes`` in memory order
    (largest stride first), so that rows whose values lie together in memory (W2's layer norm over a
    channels-last (C, H, W)) are read where they lie."""
    return [a for a in range(x.ndim) if a not in axes] + sorted(axes, key=lambda a: -x.strides[a])


def _as_rows(x, order, axes):
    """x transposed to ``order`` (``_row_order``'s) as a C-contiguous (R, M) matrix, one row of the M
    values of ``axes`` per index of the other axes: a view where the memory allows, else a copy."""
    rows, m = math.prod(x.shape[a] for a in order if a not in axes), math.prod(x.shape[a] for a in axes)
    return backend.get_array_module(x).ascontiguousarray(x.transpose(order)).reshape(rows, m)


def _from_rows(rows, order, shape):
    """The inverse of ``_as_rows``: (R, M) rows back to ``shape``, as a view laid out in ``order``."""
    return rows.reshape([shape[a] for a in order]).transpose(tuple(int(a) for a in np.argsort(order)))


def _row_mean(a, axes):
    return a.mean(axis=axes, keepdims=True)


def _standardise_vjp(g, xhat, invstd, axes):
    """r (g - E[g] - xhat E[g xhat]): on arrays or on tensors alike."""
    return (g - _row_mean(g, axes) - xhat * _row_mean(g * xhat, axes)) * invstd


def _standardise_second_vjp(v, gy, xhat, invstd, axes, needs):
    """StandardiseGrad's (d/dgy, d/dx) of <v, gx> (see its docstring), each only if ``needs`` says so."""
    ggy = _standardise_vjp(v, xhat, invstd, axes) if needs[0] else None
    gx = None
    if needs[1]:
        a, b = _row_mean(gy, axes), _row_mean(gy * xhat, axes)
        c, d, e = _row_mean(v, axes), _row_mean(v * xhat, axes), _row_mean(v * gy, axes)
        gx = (xhat * (e - a * c - 3 * b * d) + d * (gy - a) + b * (v - c)) * -(invstd * invstd)
    return ggy, gx


def _standardise_ops(x, axes, eps):
    """(xhat, invstd) of a tensor x from differentiable ops, for the third-order path of StandardiseGrad."""
    centred = x - mean(x, axes, keepdims=True)
    invstd = 1 / sqrt(mean(centred * centred, axes, keepdims=True) + eps)
    return centred * invstd, invstd


def standardise(x, axes, eps):
    """(x - mean) / sqrt(var + eps) over ``axes``, with the biased variance (mean squared deviation)."""
    return Standardise(tuple(axes), float(eps)).apply(x)


def _trailing_axes(op, input, shape):
    """The axes of a floating-point ``input`` that ``shape`` (a normalized_shape tuple) names: its trailing
    ones, which must have that shape."""
    _check_floating(op, input)
    k = len(shape)
    if input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise ValueError(f"{op}: normalized_shape {shape} does not match the trailing dimensions of input "
                         f"of shape {tuple(input.shape)} (expects input of shape (*, {', '.join(map(str, shape))}))")
    return tuple(range(input.ndim - k, input.ndim))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing dimensions ``normalized_shape``, as
    ``torch.nn.functional.layer_norm``.

    input: (*, S_1, ..., S_k) with (S_1, ..., S_k) = normalized_shape (an int means (int,)). For each
    index of the leading dimensions, with mean and biased variance over the k trailing ones:

        y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias

    weight, bias: optional tensors of shape normalized_shape (elementwise, not per channel). Returns a
    tensor of the input's shape and dtype.
    """
    shape = as_normalized_shape("layer_norm", normalized_shape)
    axes = _trailing_axes("layer_norm", input, shape)
    _check_affine("layer_norm", "weight", weight, shape, input)
    _check_affine("layer_norm", "bias", bias, shape, input)
    y = standardise(input, axes, eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def rms_eps(op, eps, dtype):
    """RMS norm's ``eps``: a number, or None for the machine epsilon of the type PyTorch computes in (its
    "opmath" type: float32 for float16 and float32 inputs, float64 for float64 ones)."""
    if eps is None:
        return float(np.finfo(np.promote_types(dtype, np.float32)).eps)
    if not is_number(eps):
        raise TypeError(f"{op}: eps must be a number or None, got {eps!r}")
    return float(eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root mean square layer normalisation (Zhang & Sennrich 2019, "Root Mean Square Layer
    Normalization"), as ``torch.nn.functional.rms_norm``.

    input: (*, S_1, ..., S_k) with (S_1, ..., S_k) = normalized_shape (an int means (int,)). For each
    index of the leading dimensions, with the mean over the k trailing ones:

        y = x / sqrt(E[x^2] + eps) * weight

    Unlike layer norm nothing is subtracted: the values are rescaled, not re-centred. weight: an optional
    tensor of shape normalized_shape (elementwise); there is no bias. eps None (the default) is the
    machine epsilon of the computation type, ``np.finfo(float32).eps`` for float32 (and float16) input
    and ``np.finfo(float64).eps`` for float64, as in PyTorch. Returns a tensor of the input's shape and
    dtype. A composition of differentiable ops: gradients of every order come from theirs.
    """
    op = "rms_norm"
    shape = as_normalized_shape(op, normalized_shape)
    axes = _trailing_axes(op, input, shape)
    _check_affine(op, "weight", weight, shape, input)
    eps = rms_eps(op, eps, input.dtype)
    y = input * (1 / sqrt(mean(input * input, axes, keepdims=True) + eps))
    return y if weight is None else y * weight


def _group_norm(op, x, num_groups, weight, bias, eps):
    """``group_norm``, with errors naming ``op`` (instance_norm is group norm with one group per channel)."""
    _check_floating(op, x)
    if x.ndim < 2:
        raise ValueError(f"{op}: input must be (N, C, *), got shape {tuple(x.shape)}")
    n, c = x.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"{op}: the {c} channels of input of shape {tuple(x.shape)} are not divisible by "
                         f"num_groups={num_groups}")
    _check_affine(op, "weight", weight, (c,), x)
    _check_affine(op, "bias", bias, (c,), x)
    # The channel axis split into (group, channel within it): a view in both of a convolution's layouts
    # (NCHW and channels-last), where flattening each group to one row would copy the channels-last one.
    grouped = reshape(x, (n, num_groups, c // num_groups) + x.shape[2:])
    y = reshape(standardise(grouped, range(2, grouped.ndim), eps), x.shape)
    per_channel = (c,) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * reshape(weight, per_channel)
    if bias is not None:
        y = y + reshape(bias, per_channel)
    return y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation, as ``torch.nn.functional.group_norm``.

    input: (N, C, *), C divisible by num_groups = G. The channels are split into G consecutive groups
    of C / G; for each sample n and group g the mean and biased variance are taken over the group's
    channels and all positions (C / G * prod(*) values), and

        y = (x - E[x]) / sqrt(Var[x] + eps) * weight[c] + bias[c]

    weight, bias: optional (C,) tensors, per channel. Returns a tensor of the input's shape and dtype.
    G = 1 normalises each sample over everything (layer norm without its elementwise affine); G = C
    is instance norm.
    """
    return _group_norm("group_norm", input, num_groups, weight, bias, eps)


def _update_instance_stats(x, running_mean, running_var, momentum):
    """The running statistics' update from each (sample, channel)'s own mean and unbiased variance,
    averaged over the samples; on the raw arrays, as buffers are not part of the graph."""
    n, c = x.shape[:2]
    rows = x.data.reshape(n, c, math.prod(x.shape[2:]))  # sizes spelled out, as -1 is ambiguous for N = 0
    _update_running(running_mean, rows.mean(axis=2).mean(axis=0), momentum)
    _update_running(running_var, rows.var(axis=2, ddof=1).mean(axis=0), momentum)


def instance_norm(input, *, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Instance normalisation, as ``torch.nn.functional.instance_norm``.

    input: (N, C, *); weight, bias: optional (C,) tensors; running_mean, running_var: (C,) tensors
    (buffers, updated in place without autograd), or both None. Returns a tensor of input's shape and
    dtype.

    use_input_stats=True (the default): every sample by its own statistics. For each sample n and
    channel c, with mean and biased variance over the positions (*), of which there must be more
    than one,

        y = (x - E[x]) / sqrt(Var[x] + eps) * weight[c] + bias[c]

    (``group_norm`` with C groups). The running statistics, when given, move towards the mean over
    the N samples of those statistics, the variance unbiased (times L / (L - 1), L = prod(*)):

        running_mean <- (1 - momentum) running_mean + momentum mean_n E[x_nc]
        running_var  <- (1 - momentum) running_var  + momentum mean_n Var_unbiased[x_nc]

    PyTorch does this by running batch norm on the (1, N C, *) view, each of the N C rows updating
    its own copy of its channel's running value, and then averaging the N copies of each channel: the
    same thing.

    use_input_stats=False: the running statistics, which must be given, normalise every sample,

        y = (x - running_mean[c]) / sqrt(running_var[c] + eps) * weight[c] + bias[c]

    and are left as they are; any (N, C, *) input works, one position per channel included.

    The arguments after input are keyword-only: ``torch.nn.functional.instance_norm`` has running_mean
    and running_var in the second and third places, and weight and bias after them, so a positional
    call written for one would mean something else in the other; by keyword both mean the same.
    """
    op = "instance_norm"
    _check_floating(op, input)
    if input.ndim < 2:
        raise ValueError(f"{op}: input must be (N, C, *), got shape {tuple(input.shape)}")
    channels = input.shape[1]
    _check_running_stats(op, running_mean, running_var, input, channels)
    if not use_input_stats:
        if running_mean is None:
            raise ValueError(f"{op}: use_input_stats=False normalises by running_mean and running_var, which "
                             f"must then be given, got None (input of shape {tuple(input.shape)})")
        _check_affine(op, "weight", weight, (channels,), input)
        _check_affine(op, "bias", bias, (channels,), input)
        return _running_stats(input, running_mean, running_var, weight, bias, eps)
    if input.ndim < 3 or math.prod(input.shape[2:]) <= 1:
        # With one position per channel every output is the bias alone (x - mean is 0): a shape
        # mistake, which PyTorch refuses too.
        raise ValueError(f"{op}: input must be (N, C, *) with more than 1 spatial element per channel "
                         f"when use_input_stats=True, got shape {tuple(input.shape)}")
    y = _group_norm(op, input, channels, weight, bias, eps)
    if running_mean is not None:
        _update_instance_stats(input, running_mean, running_var, momentum)
    return y


def lrn_size(op, size):
    """The window ``size`` of local response normalisation: a positive int (Python or NumPy, not a bool)."""
    if not is_int(size):
        raise TypeError(f"{op}: size must be a positive int (channels per window), got {size!r}")
    if size < 1:
        raise ValueError(f"{op}: size must be a positive int (channels per window), got {size!r}")
    return int(size)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation across channels, as ``torch.nn.functional.local_response_norm``.

    input: (N, C, *) with at least one axis after C (3-D or more; axis 1 is always the channel axis).
    For every sample n, channel c and position p,

        y[n, c, p] = x[n, c, p] / (k + alpha / size * S[n, c, p]) ** beta,
        S[n, c, p] = sum of x[n, j, p]^2 over j = c - size // 2, ..., c + (size - 1) // 2

    where channels outside 0..C-1 read as zero and the sum is always divided by ``size``, at the edges
    too. That is PyTorch's definition: it zero-pads the channel axis of x^2 by size // 2 before and
    (size - 1) // 2 after, then averages windows of ``size`` channels with stride 1 (so an even size
    reaches one channel further back than forward). Returns a tensor of input's shape and dtype; alpha,
    beta and k are Python numbers and do not promote float32. An empty input is returned as it is, as
    PyTorch does. Differentiable to every order: pad, avg_pool3d and elementwise ops.
    """
    op = "local_response_norm"
    _check_floating(op, input)
    if input.ndim < 3:
        raise ValueError(f"{op}: input must be (N, C, *) with 3 or more dimensions, got shape {tuple(input.shape)}")
    size = lrn_size(op, size)
    for name, value in (("alpha", alpha), ("beta", beta), ("k", k)):
        if not is_number(value):
            raise TypeError(f"{op}: {name} must be a number, got {value!r} (input of shape {tuple(input.shape)})")
    if input.data.size == 0:
        return input
    n, c = input.shape[:2]
    # x^2 as (N, 1, C, 1, L), L the positions flattened: the channels become the first pooling axis, so
    # one avg_pool3d with a (size, 1, 1) window averages across channels at every position at once.
    # The pad is asymmetric for an even size, which a pooling's own (symmetric) padding cannot express.
    squares = reshape(input * input, (n, 1, c, 1, input.data.size // (n * c)))
    padded = pad(squares, (0, 0, 0, 0, size // 2, (size - 1) // 2))
    window_mean = reshape(avg_pool3d(padded, (size, 1, 1), stride=1), input.shape)
    return input / (window_mean * float(alpha) + float(k)) ** float(beta)
