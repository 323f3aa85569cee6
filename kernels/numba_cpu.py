"""Numba CPU kernels: one pass over the data where the NumPy references make several.

The references in ``reference.py`` are compositions of NumPy calls, and each call is a full pass over
memory with a temporary array (``xp.where(x > 0, x, x * a)`` reads x three times and allocates three
arrays). These kernels compute the same values in one loop (two for the reductions), so they are
bound by reading their inputs once. Signatures, layouts and dtypes are exactly those of the
references; every kernel here is tested against its reference (tests/test_numba_cpu.py and the
registry-wide tests/test_kernels.py).

All are compiled with ``cache=True`` (the machine code is kept in ``__pycache__``, so only the first
run on a machine pays the compile time) and without fastmath, so rounding follows IEEE like NumPy.
They are serial: NumPy's OpenBLAS owns the cores during the GEMMs, and parallel variants measured
slower on a loaded 2-core machine (benchmarks/README.md). Each is registered above the reference
because it measured faster on the W2/W3 shapes there. Numba is optional: without it this module fails
to import, and the registry keeps the references.
"""
import numba
import numpy as np

from minigan.kernels import register
from minigan.kernels import reference
from minigan.kernels.reference import conv_output_size

# error_model="numpy": a division by zero gives inf/nan as in NumPy instead of raising, which also
# removes the per-element zero test that otherwise keeps LLVM from vectorising any loop that divides
# (measured: the Adam loop ran 8x faster with it).
_JIT = dict(cache=True, fastmath=False, nogil=True, error_model="numpy")


# -- leaky_relu --------------------------------------------------------------------------------------


@numba.njit(**_JIT)
def _leaky_relu_loop(x, slope, y):
    for k in range(x.size):
        v = x[k]
        y[k] = v if v > 0 else v * slope


@register("leaky_relu", "numba_cpu", devices=("cpu",), priority=10)
def leaky_relu(x, slope):
    """y = x if x > 0 else slope * x, in one pass (the reference makes three)."""
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    _leaky_relu_loop(x.reshape(-1), x.dtype.type(slope), y.reshape(-1))
    return y


@numba.njit(**_JIT)
def _leaky_relu_grad_loop(x, gy, slope, gx):
    for k in range(x.size):
        g = gy[k]
        gx[k] = g if x[k] > 0 else g * slope


@register("leaky_relu_grad", "numba_cpu", devices=("cpu",), priority=10)
def leaky_relu_grad(x, gy, slope):
    """gx = gy if x > 0 else slope * gy, in one pass."""
    x, gy = np.ascontiguousarray(x), np.ascontiguousarray(gy)
    gx = np.empty_like(gy)
    _leaky_relu_grad_loop(x.reshape(-1), gy.reshape(-1), gy.dtype.type(slope), gx.reshape(-1))
    return gx


# -- im2col / col2im ---------------------------------------------------------------------------------


@numba.njit(inline="always")
def _valid_range(size, out, offset, stride):
    """The output positions o in [0, out) whose input index o * stride + offset lies in [0, size)."""
    lo = max(0, (stride - 1 - offset) // stride)  # ceil(-offset / stride); // floors, as in Python
    hi = min(out, (size - 1 - offset) // stride + 1)
    return lo, max(lo, hi)


# Both loops index flat views with offsets they compute themselves, cast to unsigned: Numba tests
# every signed index for a negative value (Python's wrap-around), per axis and per element; indexing
# the 6-D arrays directly that way ran col2im 3x slower here (measured on W2's shapes).


@numba.njit(**_JIT)
def _im2col_loop(x, col, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    ho, wo = col.shape[4], col.shape[5]
    src, dst = x.reshape(-1), col.reshape(-1)
    zero = col.dtype.type(0)
    q = 0  # col is written in memory order; the x[:, ci] planes it reads stay in cache
    for ci in range(c):
        for i in range(kh):
            for j in range(kw):
                lo, hi = _valid_range(w, wo, j * dw - pw, sw)
                for b in range(n):
                    plane = (b * c + ci) * h * w
                    for oy in range(ho):
                        y = oy * sh + i * dh - ph
                        if 0 <= y < h:
                            row = plane + y * w + j * dw - pw  # x index of ox = 0 (maybe in the padding)
                            for ox in range(lo):
                                dst[q + ox] = zero
                            for ox in range(lo, hi):
                                dst[np.uint64(q + ox)] = src[np.uint64(row + ox * sw)]
                            for ox in range(hi, wo):
                                dst[q + ox] = zero
                        else:
                            for ox in range(wo):
                                dst[q + ox] = zero
                        q += wo


@register("im2col", "numba_cpu", devices=("cpu",), priority=10)
def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw):
    """Patches of x (N, C, H, W) as col (C, kh, kw, N, Ho, Wo), written directly (no padded copy)."""
    n, c, h, w = x.shape
    ho, wo = conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)
    col = np.empty((c, kh, kw, n, ho, wo), dtype=x.dtype)
    _im2col_loop(np.ascontiguousarray(x), col, kh, kw, sh, sw, ph, pw, dh, dw)
    return col


@numba.njit(**_JIT)
def _col2im_loop(col, x, sh, sw, ph, pw, dh, dw):
    c, kh, kw, n, ho, wo = col.shape
    h, w = x.shape[2], x.shape[3]
    src, dst = col.reshape(-1), x.reshape(-1)
    zero = x.dtype.type(0)
    # col is read once, in memory order. Channel ci of every image (x[:, ci], N h w values, 100 KB
    # for W2) receives contributions only from col[ci], and stays in cache while its kh * kw patches
    # are added. Offsets are added in the reference's order (i, then j), so the sums round the same.
    q = 0
    for ci in range(c):
        for b in range(n):
            plane = (b * c + ci) * h * w
            for k in range(h * w):
                dst[plane + k] = zero
        for i in range(kh):
            for j in range(kw):
                lo, hi = _valid_range(w, wo, j * dw - pw, sw)
                for b in range(n):
                    plane = (b * c + ci) * h * w
                    for oy in range(ho):
                        y = oy * sh + i * dh - ph
                        if 0 <= y < h:
                            row = plane + y * w + j * dw - pw
                            for ox in range(lo, hi):
                                dst[np.uint64(row + ox * sw)] += src[np.uint64(q + ox)]
                        q += wo


@register("col2im", "numba_cpu", devices=("cpu",), priority=10)
def col2im(col, h, w, sh, sw, ph, pw, dh, dw):
    """The adjoint of im2col, into a C-contiguous x (N, C, h, w); padding rows are never stored."""
    c, kh, kw, n, ho, wo = col.shape
    x = np.empty((n, c, h, w), dtype=col.dtype)
    _col2im_loop(np.ascontiguousarray(col), x, sh, sw, ph, pw, dh, dw)
    return x


# -- batch normalisation -----------------------------------------------------------------------------
# x is (N, C, L), C-contiguous (the contract in reference.py), seen here as (N, F) with F = C L
# features. Each pass runs over the batch with the features innermost, keeping one float64 partial
# sum per feature: that loop has no dependence from one element to the next, so it vectorises
# without reassociating anything (no fastmath), whatever L is (L = 1 for BatchNorm1d); the per-feature
# sums are then added up per channel. Float64 sums lose nothing to the order of summation. Two passes
# give the statistics (the mean, then squared deviations from it, as the reference) and one writes y.


@numba.njit(**_JIT)
def _per_feature(values, l):
    """Each per-channel value repeated l times: (C,) -> (C L,)."""
    out = np.empty(values.size * l, dtype=values.dtype)
    for q in range(out.size):
        out[q] = values[q // l]
    return out


@numba.njit(**_JIT)
def _per_channel_sum(sums, c, l):
    out = np.zeros(c)
    for q in range(sums.size):
        out[q // l] += sums[q]
    return out


@numba.njit(**_JIT)
def _batch_norm_forward_loop(x, gamma, beta, eps, y, mean, invstd):
    n, c, l = x.shape
    f, count = c * l, n * l
    xs, ys = x.reshape(n, f), y.reshape(n, f)
    sums = np.zeros(f)
    for b in range(n):
        for q in range(f):
            sums[q] += xs[b, q]
    mu = _per_channel_sum(sums, c, l) / count
    mu_f = _per_feature(mu, l)
    sums[:] = 0.0
    for b in range(n):
        for q in range(f):
            d = xs[b, q] - mu_f[q]
            sums[q] += d * d
    inv = 1.0 / np.sqrt(_per_channel_sum(sums, c, l) / count + eps)
    mean[:] = mu
    invstd[:] = inv
    # y = (x - mean) * (invstd gamma) + beta in x's dtype, the reference's operations and rounding.
    m_f = _per_feature(mean, l)
    scale_f = _per_feature(invstd * gamma, l)
    shift_f = _per_feature(beta, l)
    for b in range(n):
        for q in range(f):
            ys[b, q] = (xs[b, q] - m_f[q]) * scale_f[q] + shift_f[q]


@register("batch_norm_forward", "numba_cpu", devices=("cpu",), priority=10)
def batch_norm_forward(x, gamma, beta, eps):
    """Training-mode batch norm of x (N, C, L): (y, mean, invstd), as ``reference.batch_norm_forward``."""
    x = np.ascontiguousarray(x)
    c = x.shape[1]
    y = np.empty_like(x)
    mean, invstd = np.empty(c, dtype=x.dtype), np.empty(c, dtype=x.dtype)
    _batch_norm_forward_loop(x, gamma.astype(x.dtype, copy=False), beta.astype(x.dtype, copy=False),
                             float(eps), y, mean, invstd)
    return y, mean, invstd


@numba.njit(**_JIT)
def _batch_norm_backward_loop(gy, x, mean, invstd, gamma, gx, ggamma, gbeta):
    n, c, l = x.shape
    f, count = c * l, n * l
    gys, xs, gxs = gy.reshape(n, f), x.reshape(n, f), gx.reshape(n, f)
    mu_f = _per_feature(mean.astype(np.float64), l)
    sum_gy, sum_gy_centred = np.zeros(f), np.zeros(f)
    for b in range(n):
        for q in range(f):
            g = np.float64(gys[b, q])
            sum_gy[q] += g
            sum_gy_centred[q] += g * (xs[b, q] - mu_f[q])
    inv = invstd.astype(np.float64)
    gb = _per_channel_sum(sum_gy, c, l)
    gg = _per_channel_sum(sum_gy_centred, c, l) * inv  # sum gy xhat, xhat = (x - mean) invstd
    gbeta[:] = gb
    ggamma[:] = gg
    # gx = gamma invstd (gy - (gbeta + xhat ggamma) / M), the reference's closed form
    inv_f = _per_feature(inv, l)
    scale_f = _per_feature(gamma * inv, l)
    mean_gy_f = _per_feature(gb / count, l)
    mean_gg_f = _per_feature(gg / count, l)
    for b in range(n):
        for q in range(f):
            xhat = (xs[b, q] - mu_f[q]) * inv_f[q]
            gxs[b, q] = (gys[b, q] - (mean_gy_f[q] + xhat * mean_gg_f[q])) * scale_f[q]


@register("batch_norm_backward", "numba_cpu", devices=("cpu",), priority=10)
def batch_norm_backward(gy, x, mean, invstd, gamma):
    """Gradients (gx, ggamma, gbeta) of training-mode batch norm, as ``reference.batch_norm_backward``."""
    gy, x = np.ascontiguousarray(gy), np.ascontiguousarray(x)
    c = x.shape[1]
    gx = np.empty_like(x)
    ggamma, gbeta = np.empty(c, dtype=x.dtype), np.empty(c, dtype=x.dtype)
    dt = x.dtype
    _batch_norm_backward_loop(gy.astype(dt, copy=False), x, mean.astype(dt, copy=False),
                              invstd.astype(dt, copy=False), gamma.astype(dt, copy=False), gx, ggamma, gbeta)
    return gx, ggamma, gbeta


# -- Adam --------------------------------------------------------------------------------------------


@numba.njit(**_JIT)
def _adam_loop(param, grad, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2, step_size, inv_sqrt_bias2,
               eps, weight_decay):
    for k in range(param.size):
        g = grad[k]
        if weight_decay != 0:
            g = g + param[k] * weight_decay
        mk = m[k] * beta1 + g * one_minus_beta1
        vk = v[k] * beta2 + g * g * one_minus_beta2
        m[k], v[k] = mk, vk
        param[k] -= mk / (np.sqrt(vk) * inv_sqrt_bias2 + eps) * step_size


@register("adam_update", "numba_cpu", devices=("cpu",), priority=10)
def adam_update(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step):
    """One Adam step in place, fused into one pass (the reference makes about ten).

    The same operations in the same order and dtype as ``reference.adam_update``. The update writes
    through flat views, which exist only for C-contiguous arrays; any other layout goes to the
    reference, which handles every layout.
    """
    if not all(a.flags.c_contiguous for a in (param, grad, m, v)):
        return reference.adam_update(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step)
    t = param.dtype.type
    bias1, bias2 = 1 - beta1 ** step, 1 - beta2 ** step
    _adam_loop(param.reshape(-1), grad.astype(param.dtype, copy=False).reshape(-1), m.reshape(-1), v.reshape(-1),
               t(beta1), t(1 - beta1), t(beta2), t(1 - beta2), t(lr / bias1), t(1 / bias2 ** 0.5), t(eps),
               t(weight_decay))
