"""Readable reference kernels. Every other implementation must match these on the same inputs.

They are written against ``xp`` (NumPy or CuPy, from the arrays), so they also serve as the GPU
fallback. Layout conventions shared by all implementations:

- im2col: x (N, C, H, W) -> col (N, Ho, Wo, kh, kw, C), C-contiguous: one row of C kh kw values per
  output pixel, the channels innermost. Each row is the patch under that pixel, so one GEMM,
  col (N Ho Wo, kh kw C) @ W^T, serves the whole batch; with the channels innermost, a patch row is
  made of kh runs of kw C contiguous values of the image seen channels-last, so it is cut by long
  copies (the (C, kh, kw, N, Ho, Wo) layout of Caffe gathers single values with the stride instead).
- col2im: the adjoint, col (N, Ho, Wo, kh, kw, C) -> x (N, C, H, W), summing overlapping patches.
- Arrays in may have any strides; an (N, C, H, W) array out may be laid out channels-last (a view
  of (N, H, W, C) memory, as convolutions hand their outputs on), and the CPU kernels keep the
  layout of what they are given. Tests compare values, whatever the layout.
"""
from minigan.backend import get_array_module
from minigan.kernels import register


def conv_output_size(size, k, s, p, d):
    """Output length of a convolution: floor((size + 2p - d (k - 1) - 1) / s) + 1."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


@register("leaky_relu", "reference", devices=("cpu", "cuda"))
def leaky_relu(x, slope):
    """y = x if x > 0 else slope * x."""
    xp = get_array_module(x)
    return xp.where(x > 0, x, x * x.dtype.type(slope))


@register("leaky_relu_grad", "reference", devices=("cpu", "cuda"))
def leaky_relu_grad(x, gy, slope):
    """gx = gy if x > 0 else slope * gy."""
    xp = get_array_module(x)
    return xp.where(x > 0, gy, gy * gy.dtype.type(slope))


@register("im2col", "reference", devices=("cpu", "cuda"))
def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw):
    """Patches of x (N, C, H, W) as col (N, Ho, Wo, kh, kw, C).

    col[n, oy, ox, i, j, c] = xpad[n, c, oy*sh + i*dh, ox*sw + j*dw]. One copy makes x channels-last
    and zero-padded; the patches are a strided view of it, and one copy makes them contiguous.
    """
    xp = get_array_module(x)
    n, c, h, w = x.shape
    ho, wo = conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)
    padded = xp.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
    padded[:, ph:ph + h, pw:pw + w, :] = x.transpose(0, 2, 3, 1)
    s_n, s_h, s_w, s_c = padded.strides
    patches = xp.lib.stride_tricks.as_strided(
        padded, shape=(n, ho, wo, kh, kw, c), strides=(s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c))
    return xp.ascontiguousarray(patches)


@register("col2im", "reference", devices=("cpu", "cuda"))
def col2im(col, h, w, sh, sw, ph, pw, dh, dw):
    """The adjoint of im2col: add each patch of col (N, Ho, Wo, kh, kw, C) back into x (N, C, h, w).

    One strided add per kernel offset (kh * kw of them), each covering the whole batch, into a
    channels-last padded image; the result is a (non-contiguous) NCHW view of its inside.
    """
    xp = get_array_module(col)
    n, ho, wo, kh, kw, c = col.shape
    # Rows/columns past the last patch (when (hp - d(k-1) - 1) % s != 0) get no contribution.
    x = xp.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=col.dtype)
    for i in range(kh):
        for j in range(kw):
            y0, x0 = i * dh, j * dw
            x[:, y0:y0 + sh * (ho - 1) + 1:sh, x0:x0 + sw * (wo - 1) + 1:sw, :] += col[:, :, :, i, j, :]
    return x[:, ph:ph + h, pw:pw + w, :].transpose(0, 3, 1, 2)


@register("batch_transpose", "reference", devices=("cpu", "cuda"))
def batch_transpose(x):
    """out[b, j, i] = x[b, i, j]: x (B, R, S) -> a C-contiguous (B, S, R).

    Convolution lays an NCHW activation (N, C, H W) out channels-last (N, H W, C) with it, when it
    is not laid out so already.
    """
    xp = get_array_module(x)
    return xp.ascontiguousarray(x.transpose(0, 2, 1))


@register("adam_update", "reference", devices=("cpu", "cuda"))
def adam_update(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step, max_v=None):
    """One Adam step in place, as torch.optim.Adam (Kingma & Ba 2015, Algorithm 1; L2 weight decay).

    g <- g + wd p;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    AMSGrad (Reddi et al. 2018) passes ``max_v``: max_v <- max(max_v, v) in place, and max_v takes v's
    place in the denominator. Only this reference takes it; the fused kernels have no such operand.
    """
    xp = get_array_module(param)
    if weight_decay:
        grad = grad + param * param.dtype.type(weight_decay)
    m *= param.dtype.type(beta1)
    m += grad * param.dtype.type(1 - beta1)
    v *= param.dtype.type(beta2)
    v += grad * grad * param.dtype.type(1 - beta2)
    if max_v is not None:
        xp.maximum(max_v, v, out=max_v)
        v = max_v
    bias1, bias2 = 1 - beta1 ** step, 1 - beta2 ** step
    denom = xp.sqrt(v) * param.dtype.type(1 / bias2 ** 0.5)
    denom += param.dtype.type(eps)
    param -= m / denom * param.dtype.type(lr / bias1)


# -- standardisation (the core of layer, group and instance norm) ---------------------------------
# Contract shared by every implementation: x (R, M), C-contiguous, one row per set of statistics (the
# op lays the normalised axes of its input out as rows, a view wherever each row's values lie together
# in memory); invstd (R,); every returned array has x's dtype; nothing is modified in place.


@register("standardise_forward", "reference", devices=("cpu", "cuda"))
def standardise_forward(x, eps):
    """Each row of x (R, M) to zero mean and unit variance.

    mean_r = (1/M) sum_j x[r, j]; var_r = (1/M) sum_j (x[r, j] - mean_r)^2 (biased, in two passes as
    batch norm's); invstd_r = 1 / sqrt(var_r + eps); xhat[r, j] = (x[r, j] - mean_r) invstd_r.
    Returns (xhat (R, M), invstd (R,)).
    """
    xp = get_array_module(x)
    centred = x - x.mean(axis=1, keepdims=True)
    invstd = 1 / xp.sqrt((centred * centred).mean(axis=1) + x.dtype.type(eps))
    centred *= invstd[:, None]
    return centred, invstd


@register("standardise_backward", "reference", devices=("cpu", "cuda"))
def standardise_backward(gy, xhat, invstd):
    """The input gradient of ``standardise_forward``, from its outputs: row by row,

        gx = invstd (gy - mean(gy) - xhat mean(gy xhat)),

    the mean's and the variance's dependence on x giving the last two terms. gy, xhat (R, M);
    invstd (R,). Returns gx (R, M).
    """
    mean_gy = gy.mean(axis=1, keepdims=True)
    mean_gy_xhat = (gy * xhat).mean(axis=1, keepdims=True)
    return (gy - mean_gy - xhat * mean_gy_xhat) * invstd[:, None]


# -- batch normalisation ----------------------------------------------------------------------------
# Contract shared by every implementation (reference, Numba, CUDA): x is (N, C, L), C-contiguous (the
# op reshapes (N, C), (N, C, H, W), ... to it); statistics are per channel, over the N * L values of
# that channel; every returned array has x's dtype; nothing is modified in place.


@register("batch_norm_forward", "reference", devices=("cpu", "cuda"))
def batch_norm_forward(x, gamma, beta, eps):
    """Training-mode batch norm (Ioffe & Szegedy 2015, Algorithm 1) with batch statistics.

    x (N, C, L); gamma, beta (C,); eps a Python float. Returns (y, mean, invstd):
    mean[c] = (1/M) sum_{n,l} x[n,c,l] with M = N * L; var[c] = (1/M) sum (x - mean)^2 (biased);
    invstd[c] = 1 / sqrt(var[c] + eps); y = (x - mean) * invstd * gamma + beta, y of shape (N, C, L),
    mean and invstd of shape (C,). The variance is computed in two passes (mean first, then the
    squared deviations), which loses far less precision in float32 than E[x^2] - E[x]^2.
    """
    xp = get_array_module(x)
    mean = x.mean(axis=(0, 2))
    centered = x - mean[:, None]
    var = (centered * centered).mean(axis=(0, 2))
    invstd = 1 / xp.sqrt(var + x.dtype.type(eps))
    scale = invstd * gamma
    y = centered * scale[:, None] + beta[:, None]
    return y, mean, invstd


@register("batch_norm_backward", "reference", devices=("cpu", "cuda"))
def batch_norm_backward(gy, x, mean, invstd, gamma):
    """Gradients of training-mode batch norm, the closed form of Ioffe & Szegedy (2015), section 3.

    gy, x (N, C, L); mean, invstd, gamma (C,) as returned by / given to ``batch_norm_forward``.
    With xhat = (x - mean) * invstd and M = N * L, per channel:
    gbeta = sum_{n,l} gy;  ggamma = sum_{n,l} gy * xhat;
    gx = gamma * invstd / M * (M * gy - gbeta - xhat * ggamma).
    (The mean and variance depend on x; the last two terms are their contributions.) Returns
    (gx (N, C, L), ggamma (C,), gbeta (C,)).
    """
    m = x.shape[0] * x.shape[2]
    xhat = (x - mean[:, None]) * invstd[:, None]
    gbeta = gy.sum(axis=(0, 2))
    ggamma = (gy * xhat).sum(axis=(0, 2))
    gx = (gy - (gbeta[:, None] + xhat * ggamma[:, None]) * x.dtype.type(1 / m)) * (gamma * invstd)[:, None]
    return gx, ggamma, gbeta
