"""Numba CPU kernels: one pass over the data where the NumPy references make several.

The references in ``reference.py`` are compositions of NumPy calls, and each call is a full pass over
memory with a temporary array (``xp.where(x > 0, x, x * a)`` reads x three times and allocates three
arrays). These kernels compute the same values in one loop (two for the reductions), so they are
bound by reading their inputs once. Signatures, shapes and dtypes are exactly those of the
references; every kernel here is tested against its reference (tests/test_numba_cpu.py and the
registry-wide tests/test_kernels.py).

All are compiled with ``cache=True`` (the machine code is kept in ``__pycache__``, so only the first
run on a machine pays the compile time) and without fastmath, so rounding follows IEEE like NumPy.
Each kernel comes serial (``numba_cpu``) and, where the work splits into independent pieces,
parallel (``numba_cpu_parallel``, ``prange`` over those pieces, with Numba's thread count: the
benchmark sets it to BLAS's). Both share one loop body per piece, and every output element is
computed by the same operations in the same order in both, so they agree bit for bit. Between the
GEMMs, which BLAS runs on every core, a serial kernel leaves all but one core idle. Priorities follow
measurements on W2/W3 shapes (benchmarks/README.md, and ``_PARALLEL_PRIORITY``). Numba is optional:
without it this module fails to import, and the registry keeps the references.
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
_PJIT = dict(_JIT, parallel=True)

# The parallel kernels rank below the serial ones (10): measured at 2 threads on this 2-core machine
# while another process kept one core busy, they ran slower (a parallel region waits for its slowest
# thread, and a thread that finds no free core stalls the region; OpenBLAS's workers also spin for a
# while after every GEMM). ``MINIGAN_KERNELS=im2col=numba_cpu_parallel,...`` or ``kernels.prefer``
# selects them; benchmarks/README.md has the figures.
_PARALLEL_PRIORITY = 5


# -- layouts -----------------------------------------------------------------------------------------
# Convolutions hand back NCHW arrays laid out channels-last (N, H, W, C in memory), which is what the
# next convolution reads; elementwise kernels keep whatever dense layout they are given instead of
# copying it back to NCHW.


def _memory(x):
    """x's elements in memory order as a 1-D view, when x is dense (a C-contiguous array with its axes
    permuted, such as a channels-last NCHW view); None otherwise."""
    order = sorted(range(x.ndim), key=lambda a: -x.strides[a])
    dense = x.transpose(order)
    return dense.reshape(-1) if dense.flags.c_contiguous else None


def _dense(x):
    """x itself when its memory is dense, else a C-contiguous copy."""
    return x if _memory(x) is not None else np.ascontiguousarray(x)


def _laid_out_as(a, x):
    """a (x's shape) with x's memory order, so that the two flat views match element for element."""
    if _memory(a) is not None and [s // a.itemsize for s in a.strides] == [s // x.itemsize for s in x.strides]:
        return a
    out = np.empty_like(x, dtype=a.dtype)  # order "K": x's layout
    out[...] = a
    return out


# -- leaky_relu --------------------------------------------------------------------------------------


@numba.njit(**_JIT)
def _leaky_relu_loop(x, slope, y):
    for k in range(x.size):
        v = x[k]
        y[k] = v if v > 0 else v * slope


@numba.njit(**_PJIT)
def _leaky_relu_parallel_loop(x, slope, y):
    for k in numba.prange(x.size):
        v = x[k]
        y[k] = v if v > 0 else v * slope


def _leaky_relu(loop, x, slope):
    x = _dense(x)
    y = np.empty_like(x)
    loop(_memory(x), x.dtype.type(slope), _memory(y))
    return y


@register("leaky_relu", "numba_cpu", devices=("cpu",), priority=10)
def leaky_relu(x, slope):
    """y = x if x > 0 else slope * x, in one pass (the reference makes three)."""
    return _leaky_relu(_leaky_relu_loop, x, slope)


@register("leaky_relu", "numba_cpu_parallel", devices=("cpu",), priority=_PARALLEL_PRIORITY)
def leaky_relu_parallel(x, slope):
    """``leaky_relu`` with the elements split among Numba's threads."""
    return _leaky_relu(_leaky_relu_parallel_loop, x, slope)


@numba.njit(**_JIT)
def _leaky_relu_grad_loop(x, gy, slope, gx):
    for k in range(x.size):
        g = gy[k]
        gx[k] = g if x[k] > 0 else g * slope


@numba.njit(**_PJIT)
def _leaky_relu_grad_parallel_loop(x, gy, slope, gx):
    for k in numba.prange(x.size):
        g = gy[k]
        gx[k] = g if x[k] > 0 else g * slope


def _leaky_relu_grad(loop, x, gy, slope):
    x = _dense(x)
    gy = _laid_out_as(gy, x)
    gx = np.empty_like(gy)
    loop(_memory(x), _memory(gy), gy.dtype.type(slope), _memory(gx))
    return gx


@register("leaky_relu_grad", "numba_cpu", devices=("cpu",), priority=10)
def leaky_relu_grad(x, gy, slope):
    """gx = gy if x > 0 else slope * gy, in one pass."""
    return _leaky_relu_grad(_leaky_relu_grad_loop, x, gy, slope)


@register("leaky_relu_grad", "numba_cpu_parallel", devices=("cpu",), priority=_PARALLEL_PRIORITY)
def leaky_relu_grad_parallel(x, gy, slope):
    """``leaky_relu_grad`` with the elements split among Numba's threads."""
    return _leaky_relu_grad(_leaky_relu_grad_parallel_loop, x, gy, slope)


# -- im2col / col2im ---------------------------------------------------------------------------------


# Both kernels work one image at a time through a small channels-last scratch image (Hp Wp C values,
# 64 KB for W2's largest layer, so it stays in cache): x[b] goes into it (im2col) or comes out of it
# (col2im) in one transposing pass, and every patch row is then a run of kw C contiguous values of it
# (C values when the dilation spreads the kernel columns). The loops index flat views with offsets
# they compute themselves, cast to unsigned: Numba tests every signed index for a negative value
# (Python's wrap-around), per axis and per element, which kept these loops from vectorising.


@numba.njit(**_JIT)
def _im2col_image(src, strides, dst, pad, b, c, h, w, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw):
    """col[b] (Ho, Wo, kh, kw, C) from x[b], through ``pad``: zeros with x[b] channels-last inside.

    ``src`` is x's memory and ``strides`` its (N, C, H, W) strides in elements: x may be NCHW or a
    channels-last view (what conv2d and col2im return), and the copy into ``pad`` reads it in its
    memory order either way.
    """
    wp = w + 2 * pw
    s_n, s_c, s_h, s_w = strides
    if s_w == c and (s_c == 1 or c == 1):  # channels-last: each image row is one run of w C values
        for y in range(h):
            row, start = b * s_n + y * s_h, ((y + ph) * wp + pw) * c
            for k in range(w * c):
                pad[np.uint64(start + k)] = src[np.uint64(row + k)]
    else:
        for ci in range(c):
            for y in range(h):
                row = b * s_n + ci * s_c + y * s_h
                for x in range(w):
                    pad[np.uint64(((y + ph) * wp + x + pw) * c + ci)] = src[np.uint64(row + x * s_w)]
    run = kw * c if dw == 1 else c  # with dilation 1, the kw taps of a kernel row are adjacent pixels
    q = b * ho * wo * kh * kw * c
    for oy in range(ho):
        for ox in range(wo):
            for i in range(kh):
                for j in range(0, kw, run // c):
                    start = ((oy * sh + i * dh) * wp + ox * sw + j * dw) * c
                    for k in range(run):
                        dst[np.uint64(q + k)] = pad[np.uint64(start + k)]
                    q += run


@numba.njit(**_JIT)
def _im2col_loop(src, shape, strides, col, sh, sw, ph, pw, dh, dw):
    n, c, h, w = shape
    ho, wo, kh, kw = col.shape[1:5]
    pad = np.zeros((h + 2 * ph) * (w + 2 * pw) * c, dtype=src.dtype)  # its border stays zero
    dst = col.reshape(-1)
    for b in range(n):
        _im2col_image(src, strides, dst, pad, b, c, h, w, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw)


@numba.njit(**_PJIT)
def _im2col_parallel_loop(src, shape, strides, col, sh, sw, ph, pw, dh, dw):
    n, c, h, w = shape
    ho, wo, kh, kw = col.shape[1:5]
    dst = col.reshape(-1)
    for b in numba.prange(n):
        pad = np.zeros((h + 2 * ph) * (w + 2 * pw) * c, dtype=src.dtype)  # one per image: threads share nothing
        _im2col_image(src, strides, dst, pad, b, c, h, w, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw)


def _im2col(loop, x, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    ho, wo = conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)
    col = np.empty((n, ho, wo, kh, kw, c), dtype=x.dtype)
    src = _memory(x)
    if src is None:
        x = np.ascontiguousarray(x)
        src = x.reshape(-1)
    strides = tuple(s // x.itemsize for s in x.strides)
    loop(src, x.shape, strides, col, sh, sw, ph, pw, dh, dw)
    return col


@register("im2col", "numba_cpu", devices=("cpu",), priority=10)
def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw):
    """Patches of x (N, C, H, W) as col (N, Ho, Wo, kh, kw, C), one image at a time (no padded copy of x)."""
    return _im2col(_im2col_loop, x, kh, kw, sh, sw, ph, pw, dh, dw)


@register("im2col", "numba_cpu_parallel", devices=("cpu",), priority=_PARALLEL_PRIORITY)
def im2col_parallel(x, kh, kw, sh, sw, ph, pw, dh, dw):
    """``im2col`` with the images split among Numba's threads."""
    return _im2col(_im2col_parallel_loop, x, kh, kw, sh, sw, ph, pw, dh, dw)


@numba.njit(**_JIT)
def _col2im_image(src, dst, pad, b, c, h, w, ho, wo, kh, kw, hp, wp, sh, sw, ph, pw, dh, dw):
    """x[b], the sum of the patches in col[b], added up channels-last in ``pad`` (hp wp C values) and
    copied out of it into x's channels-last memory, one image row (w C values) at a time.

    Taps are added in the reference's order (i, then j), so the sums round the same.
    """
    zero = pad.dtype.type(0)
    for k in range(hp * wp * c):
        pad[k] = zero
    for i in range(kh):
        for j in range(kw):
            for oy in range(ho):
                q = (((b * ho + oy) * wo * kh + i) * kw + j) * c  # col[b, oy, 0, i, j, 0]
                t = ((oy * sh + i * dh) * wp + j * dw) * c  # its pixel in pad
                for ox in range(wo):
                    for k in range(c):
                        pad[np.uint64(t + k)] += src[np.uint64(q + k)]
                    q += kh * kw * c
                    t += sw * c
    for y in range(h):
        row, start = (b * h + y) * w * c, ((y + ph) * wp + pw) * c
        for k in range(w * c):
            dst[np.uint64(row + k)] = pad[np.uint64(start + k)]


@numba.njit(**_JIT)
def _col2im_loop(col, x, sh, sw, ph, pw, dh, dw):
    n, h, w, c = x.shape
    ho, wo, kh, kw = col.shape[1:5]
    hp, wp = h + 2 * ph, w + 2 * pw
    pad = np.empty(hp * wp * c, dtype=x.dtype)
    src, dst = col.reshape(-1), x.reshape(-1)
    for b in range(n):
        _col2im_image(src, dst, pad, b, c, h, w, ho, wo, kh, kw, hp, wp, sh, sw, ph, pw, dh, dw)


@numba.njit(**_PJIT)
def _col2im_parallel_loop(col, x, sh, sw, ph, pw, dh, dw):
    n, h, w, c = x.shape
    ho, wo, kh, kw = col.shape[1:5]
    hp, wp = h + 2 * ph, w + 2 * pw
    src, dst = col.reshape(-1), x.reshape(-1)
    for b in numba.prange(n):
        pad = np.empty(hp * wp * c, dtype=x.dtype)
        _col2im_image(src, dst, pad, b, c, h, w, ho, wo, kh, kw, hp, wp, sh, sw, ph, pw, dh, dw)


def _col2im(loop, col, h, w, sh, sw, ph, pw, dh, dw):
    n, ho, wo, kh, kw, c = col.shape
    if (ho - 1) * sh + (kh - 1) * dh + 1 > h + 2 * ph or (wo - 1) * sw + (kw - 1) * dw + 1 > w + 2 * pw:
        # the loops write without bounds checks, so a col that reaches past the padded image must stop here
        raise ValueError(f"col2im: col of shape {col.shape} reaches past an image of {h}x{w} padded by ({ph}, {pw})")
    x = np.empty((n, h, w, c), dtype=col.dtype)
    loop(np.ascontiguousarray(col), x, sh, sw, ph, pw, dh, dw)
    return x.transpose(0, 3, 1, 2)  # NCHW, laid out channels-last as the next convolution reads it


@register("col2im", "numba_cpu", devices=("cpu",), priority=10)
def col2im(col, h, w, sh, sw, ph, pw, dh, dw):
    """The adjoint of im2col, x (N, C, h, w) laid out channels-last, one image at a time."""
    return _col2im(_col2im_loop, col, h, w, sh, sw, ph, pw, dh, dw)


@register("col2im", "numba_cpu_parallel", devices=("cpu",), priority=_PARALLEL_PRIORITY)
def col2im_parallel(col, h, w, sh, sw, ph, pw, dh, dw):
    """``col2im`` with the images split among Numba's threads."""
    return _col2im(_col2im_parallel_loop, col, h, w, sh, sw, ph, pw, dh, dw)


# -- batch_transpose -----------------------------------------------------------------------------------


@numba.njit(**_JIT)
def _batch_transpose_loop(x, out):
    # One side of a transpose is always read or written with a stride: x with S, or out with R. Writing
    # out contiguously (reading x with the stride S) was as fast or faster on W2's and W3's layouts
    # except where S is much longer than R: on (128, 64, 1024), the channels-last copy of W3's first
    # activations, it took 28 ms against 10 for reading x contiguously (NumPy's copy: 33 ms).
    nb, r, s = x.shape
    for b in range(nb):
        if s >= 4 * r:  # read x contiguously, write out with the stride R
            for i in range(r):
                for j in range(s):
                    out[b, j, i] = x[b, i, j]
        else:  # write out contiguously, read x with the stride S
            for j in range(s):
                for i in range(r):
                    out[b, j, i] = x[b, i, j]


@register("batch_transpose", "numba_cpu", devices=("cpu",), priority=10)
def batch_transpose(x):
    """out[b, j, i] = x[b, i, j], x (B, R, S) -> (B, S, R), in one pass."""
    out = np.empty((x.shape[0], x.shape[2], x.shape[1]), dtype=x.dtype)
    _batch_transpose_loop(x, out)
    return out


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


# The passes below take a range [q0, q1) of features: the serial kernels run each over all of them,
# the parallel ones split the features into blocks, one block per task, so no two threads ever add
# into the same sum and each sum is taken in the serial order.


@numba.njit(**_JIT)
def _sum_rows(xs, q0, q1, sums):
    for b in range(xs.shape[0]):
        for q in range(q0, q1):
            sums[q] += xs[b, q]


@numba.njit(**_JIT)
def _sum_squared_deviations(xs, mu_f, q0, q1, sums):
    for b in range(xs.shape[0]):
        for q in range(q0, q1):
            d = xs[b, q] - mu_f[q]
            sums[q] += d * d


@numba.njit(**_JIT)
def _normalise(xs, m_f, scale_f, shift_f, q0, q1, ys):
    # y = (x - mean) * (invstd gamma) + beta in x's dtype, the reference's operations and rounding.
    for b in range(xs.shape[0]):
        for q in range(q0, q1):
            ys[b, q] = (xs[b, q] - m_f[q]) * scale_f[q] + shift_f[q]


@numba.njit(**_JIT)
def _sum_gradients(gys, xs, mu_f, q0, q1, sum_gy, sum_gy_centred):
    for b in range(xs.shape[0]):
        for q in range(q0, q1):
            g = np.float64(gys[b, q])
            sum_gy[q] += g
            sum_gy_centred[q] += g * (xs[b, q] - mu_f[q])


@numba.njit(**_JIT)
def _input_gradient(gys, xs, mu_f, inv_f, mean_gy_f, mean_gg_f, scale_f, q0, q1, gxs):
    # gx = gamma invstd (gy - (gbeta + xhat ggamma) / M), the reference's closed form
    for b in range(xs.shape[0]):
        for q in range(q0, q1):
            xhat = (xs[b, q] - mu_f[q]) * inv_f[q]
            gxs[b, q] = (gys[b, q] - (mean_gy_f[q] + xhat * mean_gg_f[q])) * scale_f[q]


@numba.njit(**_JIT)
def _feature_blocks(f):
    """How many blocks of features the parallel passes split f features into (>= 256 features each)."""
    return max(1, min(64, f // 256))


@numba.njit(**_JIT)
def _batch_norm_forward_loop(x, gamma, beta, eps, y, mean, invstd):
    n, c, l = x.shape
    f, count = c * l, n * l
    xs, ys = x.reshape(n, f), y.reshape(n, f)
    sums = np.zeros(f)
    _sum_rows(xs, 0, f, sums)
    mu = _per_channel_sum(sums, c, l) / count
    mu_f = _per_feature(mu, l)
    sums[:] = 0.0
    _sum_squared_deviations(xs, mu_f, 0, f, sums)
    inv = 1.0 / np.sqrt(_per_channel_sum(sums, c, l) / count + eps)
    mean[:] = mu
    invstd[:] = inv
    _normalise(xs, _per_feature(mean, l), _per_feature(invstd * gamma, l), _per_feature(beta, l), 0, f, ys)


@numba.njit(**_PJIT)
def _batch_norm_forward_parallel_loop(x, gamma, beta, eps, y, mean, invstd):
    n, c, l = x.shape
    f, count = c * l, n * l
    xs, ys = x.reshape(n, f), y.reshape(n, f)
    blocks = _feature_blocks(f)
    sums = np.zeros(f)
    for k in numba.prange(blocks):
        _sum_rows(xs, k * f // blocks, (k + 1) * f // blocks, sums)
    mu = _per_channel_sum(sums, c, l) / count
    mu_f = _per_feature(mu, l)
    sums[:] = 0.0
    for k in numba.prange(blocks):
        _sum_squared_deviations(xs, mu_f, k * f // blocks, (k + 1) * f // blocks, sums)
    inv = 1.0 / np.sqrt(_per_channel_sum(sums, c, l) / count + eps)
    mean[:] = mu
    invstd[:] = inv
    m_f, scale_f, shift_f = _per_feature(mean, l), _per_feature(invstd * gamma, l), _per_feature(beta, l)
    for k in numba.prange(blocks):
        _normalise(xs, m_f, scale_f, shift_f, k * f // blocks, (k + 1) * f // blocks, ys)


def _batch_norm_forward(loop, x, gamma, beta, eps):
    x = np.ascontiguousarray(x)
    c = x.shape[1]
    y = np.empty_like(x)
    mean, invstd = np.empty(c, dtype=x.dtype), np.empty(c, dtype=x.dtype)
    loop(x, gamma.astype(x.dtype, copy=False), beta.astype(x.dtype, copy=False), float(eps), y, mean, invstd)
    return y, mean, invstd


@register("batch_norm_forward", "numba_cpu", devices=("cpu",), priority=10)
def batch_norm_forward(x, gamma, beta, eps):
    """Training-mode batch norm of x (N, C, L): (y, mean, invstd), as ``reference.batch_norm_forward``."""
    return _batch_norm_forward(_batch_norm_forward_loop, x, gamma, beta, eps)


@register("batch_norm_forward", "numba_cpu_parallel", devices=("cpu",), priority=_PARALLEL_PRIORITY)
def batch_norm_forward_parallel(x, gamma, beta, eps):
    """``batch_norm_forward`` with the features split among Numba's threads."""
    return _batch_norm_forward(_batch_norm_forward_parallel_loop, x, gamma, beta, eps)


@numba.njit(**_JIT)
def _batch_norm_backward_loop(gy, x, mean, invstd, gamma, gx, ggamma, gbeta):
    n, c, l = x.shape
    f, count = c * l, n * l
    gys, xs, gxs = gy.reshape(n, f), x.reshape(n, f), gx.reshape(n, f)
    mu_f = _per_feature(mean.astype(np.float64), l)
    sum_gy, sum_gy_centred = np.zeros(f), np.zeros(f)
    _sum_gradients(gys, xs, mu_f, 0, f, sum_gy, sum_gy_centred)
    inv = invstd.astype(np.float64)
    gb = _per_channel_sum(sum_gy, c, l)
    gg = _per_channel_sum(sum_gy_centred, c, l) * inv  # sum gy xhat, xhat = (x - mean) invstd
    gbeta[:] = gb
    ggamma[:] = gg
    _input_gradient(gys, xs, mu_f, _per_feature(inv, l), _per_feature(gb / count, l), _per_feature(gg / count, l),
                    _per_feature(gamma * inv, l), 0, f, gxs)


@numba.njit(**_PJIT)
def _batch_norm_backward_parallel_loop(gy, x, mean, invstd, gamma, gx, ggamma, gbeta):
    n, c, l = x.shape
    f, count = c * l, n * l
    gys, xs, gxs = gy.reshape(n, f), x.reshape(n, f), gx.reshape(n, f)
    blocks = _feature_blocks(f)
    mu_f = _per_feature(mean.astype(np.float64), l)
    sum_gy, sum_gy_centred = np.zeros(f), np.zeros(f)
    for k in numba.prange(blocks):
        _sum_gradients(gys, xs, mu_f, k * f // blocks, (k + 1) * f // blocks, sum_gy, sum_gy_centred)
    inv = invstd.astype(np.float64)
    gb = _per_channel_sum(sum_gy, c, l)
    gg = _per_channel_sum(sum_gy_centred, c, l) * inv
    gbeta[:] = gb
    ggamma[:] = gg
    inv_f, scale_f = _per_feature(inv, l), _per_feature(gamma * inv, l)
    mean_gy_f, mean_gg_f = _per_feature(gb / count, l), _per_feature(gg / count, l)
    for k in numba.prange(blocks):
        _input_gradient(gys, xs, mu_f, inv_f, mean_gy_f, mean_gg_f, scale_f, k * f // blocks, (k + 1) * f // blocks,
                        gxs)


def _batch_norm_backward(loop, gy, x, mean, invstd, gamma):
    gy, x = np.ascontiguousarray(gy), np.ascontiguousarray(x)
    c = x.shape[1]
    gx = np.empty_like(x)
    ggamma, gbeta = np.empty(c, dtype=x.dtype), np.empty(c, dtype=x.dtype)
    dt = x.dtype
    loop(gy.astype(dt, copy=False), x, mean.astype(dt, copy=False), invstd.astype(dt, copy=False),
         gamma.astype(dt, copy=False), gx, ggamma, gbeta)
    return gx, ggamma, gbeta


@register("batch_norm_backward", "numba_cpu", devices=("cpu",), priority=10)
def batch_norm_backward(gy, x, mean, invstd, gamma):
    """Gradients (gx, ggamma, gbeta) of training-mode batch norm, as ``reference.batch_norm_backward``."""
    return _batch_norm_backward(_batch_norm_backward_loop, gy, x, mean, invstd, gamma)


@register("batch_norm_backward", "numba_cpu_parallel", devices=("cpu",), priority=_PARALLEL_PRIORITY)
def batch_norm_backward_parallel(gy, x, mean, invstd, gamma):
    """``batch_norm_backward`` with the features split among Numba's threads."""
    return _batch_norm_backward(_batch_norm_backward_parallel_loop, gy, x, mean, invstd, gamma)


# -- standardisation -------------------------------------------------------------------------------
# One row at a time: two sums over the row (its mean, then its squared deviations, as the reference),
# then one pass that writes it; a row of W2's layer norm (6,272 values) stays in L1/L2 cache for the
# second and third. A sum has a dependence from one element to the next, and LLVM vectorises it only
# when it may reassociate the additions, so the summing helpers alone are compiled with fastmath's
# "reassoc" flag (no other fastmath flag, and nothing else reassociates). They sum in float64, where
# the order of the additions moves a float32 mean by far less than its last bit; the reference's
# pairwise order is no more exact. Measured on (128, 6272) float32 rows: 0.84 ms with the sums kept in
# order, 0.29 ms reassociated, 0.86 ms for the reference.

_SUM_JIT = dict(_JIT, fastmath={"reassoc"})


@numba.njit(**_SUM_JIT)
def _sum(v):
    total = 0.0
    for j in range(v.size):
        total += v[j]
    return total


@numba.njit(**_SUM_JIT)
def _sum_squared_deviations_from(v, mu):
    total = 0.0
    for j in range(v.size):
        d = v[j] - mu
        total += d * d
    return total


@numba.njit(**_SUM_JIT)
def _sum_and_dot(g, xhat):
    """(sum g, sum g xhat) in one pass."""
    total, dot = 0.0, 0.0
    for j in range(g.size):
        v = np.float64(g[j])
        total += v
        dot += v * xhat[j]
    return total, dot


@numba.njit(**_JIT)
def _standardise_row(x, eps, xhat, invstd, r):
    m = x.shape[1]
    mu = _sum(x[r]) / m
    inv = 1.0 / np.sqrt(_sum_squared_deviations_from(x[r], mu) / m + eps)
    invstd[r] = inv
    row, out = x[r], xhat[r]
    for j in range(m):
        out[j] = (row[j] - mu) * inv


@numba.njit(**_JIT)
def _standardise_loop(x, eps, xhat, invstd):
    for r in range(x.shape[0]):
        _standardise_row(x, eps, xhat, invstd, r)


@numba.njit(**_PJIT)
def _standardise_parallel_loop(x, eps, xhat, invstd):
    for r in numba.prange(x.shape[0]):
        _standardise_row(x, eps, xhat, invstd, r)


def _standardise_forward(loop, x, eps):
    x = np.ascontiguousarray(x)
    xhat, invstd = np.empty_like(x), np.empty(x.shape[0], dtype=x.dtype)
    loop(x, float(eps), xhat, invstd)
    return xhat, invstd


@register("standardise_forward", "numba_cpu", devices=("cpu",), priority=10)
def standardise_forward(x, eps):
    """Each row of x (R, M) standardised: (xhat, invstd), as ``reference.standardise_forward``."""
    return _standardise_forward(_standardise_loop, x, eps)


@register("standardise_forward", "numba_cpu_parallel", devices=("cpu",), priority=_PARALLEL_PRIORITY)
def standardise_forward_parallel(x, eps):
    """``standardise_forward`` with the rows split among Numba's threads."""
    return _standardise_forward(_standardise_parallel_loop, x, eps)


@numba.njit(**_JIT)
def _standardise_grad_row(gy, xhat, invstd, gx, r):
    m = gy.shape[1]
    total, dot = _sum_and_dot(gy[r], xhat[r])
    mean_gy, mean_gy_xhat, inv = total / m, dot / m, np.float64(invstd[r])
    g, xh, out = gy[r], xhat[r], gx[r]
    for j in range(m):
        out[j] = (g[j] - mean_gy - xh[j] * mean_gy_xhat) * inv


@numba.njit(**_JIT)
def _standardise_grad_loop(gy, xhat, invstd, gx):
    for r in range(gy.shape[0]):
        _standardise_grad_row(gy, xhat, invstd, gx, r)


@numba.njit(**_PJIT)
def _standardise_grad_parallel_loop(gy, xhat, invstd, gx):
    for r in numba.prange(gy.shape[0]):
        _standardise_grad_row(gy, xhat, invstd, gx, r)


def _standardise_backward(loop, gy, xhat, invstd):
    dt = xhat.dtype
    gy, xhat = np.ascontiguousarray(gy, dtype=dt), np.ascontiguousarray(xhat)
    gx = np.empty_like(xhat)
    loop(gy, xhat, invstd.astype(dt, copy=False), gx)
    return gx


@register("standardise_backward", "numba_cpu", devices=("cpu",), priority=10)
def standardise_backward(gy, xhat, invstd):
    """The input gradient of ``standardise_forward``, as ``reference.standardise_backward``."""
    return _standardise_backward(_standardise_grad_loop, gy, xhat, invstd)


@register("standardise_backward", "numba_cpu_parallel", devices=("cpu",), priority=_PARALLEL_PRIORITY)
def standardise_backward_parallel(gy, xhat, invstd):
    """``standardise_backward`` with the rows split among Numba's threads."""
    return _standardise_backward(_standardise_grad_parallel_loop, gy, xhat, invstd)


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
