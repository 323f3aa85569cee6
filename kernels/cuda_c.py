"""CUDA C kernels (the sources in ``kernels/cuda/*.cu``), compiled at first use with ``cupy.RawModule``.

Each source holds C++ templates over the element type; NVRTC instantiates them for ``float`` and
``double`` through name expressions (``"im2col<float>"``), so one source serves both dtypes. A module
is compiled once per GPU the first time one of its kernels runs there, and CuPy caches the binary on
disk between processes.

The wrappers below have the signatures of ``reference.py`` and return what it returns. They hand
anything the kernels are not written for (other dtypes, mixed dtypes, broadcast shapes, arrays too
big for int indexing) to the reference, so they are safe to register as the default on "cuda".
Kernel arguments are passed as NumPy scalars of the exact C type (``np.int32`` for ``int``,
``np.uint64`` for ``size_t``, the array's dtype for ``T``): CuPy would send a Python int as a 64-bit
value, which a kernel declared with ``int`` would misread.
"""
import functools
import pathlib

import cupy
import numpy as np

from minigan.backend import get_array_module
from minigan.kernels import reference, register

SOURCE_DIR = pathlib.Path(__file__).parent / "cuda"

# Source file -> the kernel templates it defines; each is instantiated for every type in C_TYPES.
KERNELS = {
    "im2col.cu": ("im2col", "col2im"),
    "leaky_relu.cu": ("leaky_relu", "leaky_relu_grad"),
    "normalization.cu": ("batch_norm_forward", "batch_norm_backward", "standardise_forward", "standardise_backward"),
    "adam.cu": ("adam_update",),
    "batch_transpose.cu": ("batch_transpose",),
}
C_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}

# Above the reference (0) and the Numba CUDA kernels, so ops use these by default on a GPU.
PRIORITY = 20

THREADS = 256  # per block for the elementwise and im2col kernels
MAX_BLOCKS = 65536  # grid cap for the grid-stride elementwise kernels (enough to fill any GPU)
INT32_LIMIT = 2 ** 31  # im2col/col2im/batch-norm index with int


def name_expressions(source):
    """The template instantiations NVRTC is asked to compile for ``source``, as in ``get_function``."""
    return [f"{kernel}<{c_type}>" for kernel in KERNELS[source] for c_type in C_TYPES.values()]


_SOURCE_OF = {kernel: source for source, kernels in KERNELS.items() for kernel in kernels}


@functools.lru_cache(maxsize=None)
def _module(source, device_id):
    code = (SOURCE_DIR / source).read_text()
    return cupy.RawModule(code=code, name_expressions=name_expressions(source))


@functools.lru_cache(maxsize=None)
def _function(name, dtype, device_id):
    return _module(_SOURCE_OF[name], device_id).get_function(f"{name}<{C_TYPES[dtype]}>")


def _kernel(name, dtype):
    """The compiled kernel ``name`` for ``dtype`` on the current GPU (compiled on first use)."""
    return _function(name, dtype, cupy.cuda.Device().id)


def _native(*arrays):
    """True when the kernels can take these arrays: one float32 or float64 dtype throughout."""
    dtype = arrays[0].dtype
    return dtype in C_TYPES and all(a.dtype == dtype for a in arrays)


def _elementwise_grid(size):
    return (min(-(-size // THREADS), MAX_BLOCKS),), (THREADS,)


def _reduction_threads(m):
    """Threads per channel block: a power of two (the tree reduction needs one), 32 to 512."""
    threads = 32
    while threads < m and threads < 512:
        threads *= 2
    return threads


@register("im2col", "cuda_c", devices=("cuda",), priority=PRIORITY)
def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    ho, wo = reference.conv_output_size(h, kh, sh, ph, dh), reference.conv_output_size(w, kw, sw, pw, dw)
    size = c * kh * kw * n * ho * wo
    if not _native(x) or size >= INT32_LIMIT or x.size >= INT32_LIMIT:
        return reference.im2col(x, kh, kw, sh, sw, ph, pw, dh, dw)
    xp = get_array_module(x)
    x = xp.ascontiguousarray(x)
    col = xp.empty((n, ho, wo, kh, kw, c), dtype=x.dtype)
    if size:
        sizes = (n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo)
        _kernel("im2col", x.dtype)((-(-size // THREADS),), (THREADS,), (x, col, *map(np.int32, sizes)))
    return col


@register("col2im", "cuda_c", devices=("cuda",), priority=PRIORITY)
def col2im(col, h, w, sh, sw, ph, pw, dh, dw):
    n, ho, wo, kh, kw, c = col.shape
    size = n * c * h * w
    if not _native(col) or size >= INT32_LIMIT or col.size >= INT32_LIMIT:
        return reference.col2im(col, h, w, sh, sw, ph, pw, dh, dw)
    xp = get_array_module(col)
    col = xp.ascontiguousarray(col)
    x = xp.empty((n, c, h, w), dtype=col.dtype)
    if size:
        sizes = (n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo)
        _kernel("col2im", col.dtype)((-(-size // THREADS),), (THREADS,), (col, x, *map(np.int32, sizes)))
    return x


@register("leaky_relu", "cuda_c", devices=("cuda",), priority=PRIORITY)
def leaky_relu(x, slope):
    if not _native(x):
        return reference.leaky_relu(x, slope)
    xp = get_array_module(x)
    x = xp.ascontiguousarray(x)
    y = xp.empty_like(x)
    if x.size:
        grid, block = _elementwise_grid(x.size)
        _kernel("leaky_relu", x.dtype)(grid, block, (x, y, x.dtype.type(slope), np.uint64(x.size)))
    return y


@register("leaky_relu_grad", "cuda_c", devices=("cuda",), priority=PRIORITY)
def leaky_relu_grad(x, gy, slope):
    if not _native(x, gy) or x.shape != gy.shape:
        return reference.leaky_relu_grad(x, gy, slope)
    xp = get_array_module(x)
    x, gy = xp.ascontiguousarray(x), xp.ascontiguousarray(gy)
    gx = xp.empty_like(gy)
    if x.size:
        grid, block = _elementwise_grid(x.size)
        _kernel("leaky_relu_grad", x.dtype)(grid, block, (x, gy, gx, x.dtype.type(slope), np.uint64(x.size)))
    return gx


@register("batch_transpose", "cuda_c", devices=("cuda",), priority=PRIORITY)
def batch_transpose(x):
    if not _native(x):
        return reference.batch_transpose(x)
    xp = get_array_module(x)
    nb, r, s = x.shape
    x = xp.ascontiguousarray(x)
    out = xp.empty((nb, s, r), dtype=x.dtype)
    if out.size:
        grid, block = _elementwise_grid(out.size)
        _kernel("batch_transpose", x.dtype)(grid, block, (x, out, np.uint64(r), np.uint64(s), np.uint64(out.size)))
    return out


@register("batch_norm_forward", "cuda_c", devices=("cuda",), priority=PRIORITY)
def batch_norm_forward(x, gamma, beta, eps):
    n, c, l = x.shape
    if not _native(x, gamma, beta) or x.size >= INT32_LIMIT or x.size == 0:
        return reference.batch_norm_forward(x, gamma, beta, eps)
    xp = get_array_module(x)
    x, gamma, beta = (xp.ascontiguousarray(a) for a in (x, gamma, beta))
    y = xp.empty_like(x)
    mean = xp.empty(c, dtype=x.dtype)
    invstd = xp.empty(c, dtype=x.dtype)
    _kernel("batch_norm_forward", x.dtype)(
        (c,), (_reduction_threads(n * l),),
        (x, gamma, beta, y, mean, invstd, np.int32(n), np.int32(c), np.int32(l), x.dtype.type(eps)))
    return y, mean, invstd


@register("batch_norm_backward", "cuda_c", devices=("cuda",), priority=PRIORITY)
def batch_norm_backward(gy, x, mean, invstd, gamma):
    n, c, l = x.shape
    if not _native(gy, x, mean, invstd, gamma) or gy.shape != x.shape or x.size >= INT32_LIMIT or x.size == 0:
        return reference.batch_norm_backward(gy, x, mean, invstd, gamma)
    xp = get_array_module(x)
    gy, x, mean, invstd, gamma = (xp.ascontiguousarray(a) for a in (gy, x, mean, invstd, gamma))
    gx = xp.empty_like(x)
    ggamma = xp.empty(c, dtype=x.dtype)
    gbeta = xp.empty(c, dtype=x.dtype)
    _kernel("batch_norm_backward", x.dtype)(
        (c,), (_reduction_threads(n * l),),
        (gy, x, mean, invstd, gamma, gx, ggamma, gbeta, np.int32(n), np.int32(c), np.int32(l)))
    return gx, ggamma, gbeta


@register("standardise_forward", "cuda_c", devices=("cuda",), priority=PRIORITY)
def standardise_forward(x, eps):
    rows, m = x.shape
    if not _native(x) or x.size >= INT32_LIMIT or x.size == 0:
        return reference.standardise_forward(x, eps)
    xp = get_array_module(x)
    x = xp.ascontiguousarray(x)
    xhat, invstd = xp.empty_like(x), xp.empty(rows, dtype=x.dtype)
    _kernel("standardise_forward", x.dtype)((rows,), (_reduction_threads(m),),
                                             (x, xhat, invstd, np.int32(m), x.dtype.type(eps)))
    return xhat, invstd


@register("standardise_backward", "cuda_c", devices=("cuda",), priority=PRIORITY)
def standardise_backward(gy, xhat, invstd):
    rows, m = xhat.shape
    if not _native(gy, xhat, invstd) or gy.shape != xhat.shape or xhat.size >= INT32_LIMIT or xhat.size == 0:
        return reference.standardise_backward(gy, xhat, invstd)
    xp = get_array_module(xhat)
    gy, xhat, invstd = (xp.ascontiguousarray(a) for a in (gy, xhat, invstd))
    gx = xp.empty_like(xhat)
    _kernel("standardise_backward", xhat.dtype)((rows,), (_reduction_threads(m),), (gy, xhat, invstd, gx, np.int32(m)))
    return gx


@register("adam_update", "cuda_c", devices=("cuda",), priority=PRIORITY)
def adam_update(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step):
    # In place through raw pointers: every array must be contiguous, else the reference updates it.
    arrays = (param, grad, m, v)
    if not _native(*arrays) or any(a.shape != param.shape or not a.flags.c_contiguous for a in arrays):
        return reference.adam_update(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step)
    if param.size:
        t = param.dtype.type
        step_size = lr / (1 - beta1 ** step)
        inv_sqrt_bias2 = 1 / (1 - beta2 ** step) ** 0.5
        grid, block = _elementwise_grid(param.size)
        _kernel("adam_update", param.dtype)(
            grid, block, (param, grad, m, v, t(beta1), t(beta2), t(eps), t(weight_decay), t(step_size),
                          t(inv_sqrt_bias2), np.uint64(param.size)))
