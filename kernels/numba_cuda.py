"""Numba CUDA kernels: im2col, col2im and LeakyReLU written in Python, beside their CUDA C twins.

Read each with its counterpart in ``cuda/im2col.cu`` and ``cuda/leaky_relu.cu``: the thread-to-element
mapping and the names are the same, but Numba indexes the multi-dimensional arrays directly (it knows
their shapes and strides), where CUDA C computes flat offsets by hand; Numba compiles one version per
dtype on first call, where the CUDA C templates are instantiated for float and double up front.

On a GPU the wrappers take CuPy arrays, viewed as Numba device arrays through
``__cuda_array_interface__``, and launch on CuPy's current stream, so the kernels stay in order with
the CuPy work around them. With ``NUMBA_ENABLE_CUDASIM=1`` Numba runs the same kernels in its simulator on
NumPy arrays, which is how they are tested on machines without a GPU (tests/cudasim).
"""
import warnings

from numba import cuda

from minigan.backend import get_array_module
from minigan.kernels import reference, register

THREADS = 256  # per block
PRIORITY = 10  # below the CUDA C kernels (20), above the reference (0)


def _check_numba_compiles():
    """Launch a one-line kernel, so that a Numba which imports but cannot compile fails the import.

    Numba compiles on first launch, so without this check such a Numba would register kernels that
    all fail when first called. Seen on an H100 machine: numba-cuda 0.30.4 under NumPy 2.5 fails in its
    typing registry on the removed ``np.row_stack``. As an import error, the registry keeps the CUDA C
    kernels and ``minigan info`` prints the reason. Without a GPU nothing is launched: CI imports
    this module on machines without one, to build the kernels' PTX.
    """
    if not cuda.is_available():
        return

    @cuda.jit
    def fill(out):
        out[0] = 1

    try:
        out = cuda.device_array(1, dtype="float32")
        with warnings.catch_warnings():  # Numba warns of a one-block grid's low occupancy: meant here
            warnings.simplefilter("ignore")
            fill[1, 1](out)
        cuda.synchronize()
    except Exception as exc:
        raise ImportError(f"Numba CUDA cannot compile a kernel here ({type(exc).__name__}: {exc}); "
                          "the CUDA C kernels are used instead") from exc


_check_numba_compiles()


@cuda.jit
def im2col_kernel(x, col, sh, sw, ph, pw, dh, dw):
    """col[ni, oy, ox, i, j, ci] = xpad[ni, ci, oy*sh + i*dh, ox*sw + j*dw]; one thread per col element."""
    ho, wo, kh, kw, c = col.shape[1:]
    h, w = x.shape[2], x.shape[3]
    index = cuda.grid(1)
    if index >= col.size:
        return
    ci = index % c
    rest = index // c
    j = rest % kw
    rest //= kw
    i = rest % kh
    rest //= kh
    ox = rest % wo
    rest //= wo
    oy = rest % ho
    ni = rest // ho
    iy = oy * sh + i * dh - ph
    ix = ox * sw + j * dw - pw
    if 0 <= iy < h and 0 <= ix < w:
        col[ni, oy, ox, i, j, ci] = x[ni, ci, iy, ix]
    else:
        col[ni, oy, ox, i, j, ci] = 0


@cuda.jit
def col2im_kernel(col, x, sh, sw, ph, pw, dh, dw):
    """The adjoint of im2col, gathered: one thread per pixel of x sums the col entries copied from it.

    Pixel (iy, ix) is tap (i, j) of output (oy, ox) when iy + ph = oy*sh + i*dh and
    ix + pw = ox*sw + j*dw; no two threads write one address, so no atomics are needed.
    """
    c, h, w = x.shape[1:]
    ho, wo, kh, kw = col.shape[1:5]
    index = cuda.grid(1)
    if index >= x.size:
        return
    ix = index % w
    rest = index // w
    iy = rest % h
    rest //= h
    ci = rest % c
    ni = rest // c
    total = col.dtype.type(0)  # accumulate in the arrays' dtype, as the reference does
    for i in range(kh):
        ty = iy + ph - i * dh  # = oy * sh if this row is tap i of output row oy
        if ty < 0:
            break  # ty only decreases with i
        if ty % sh != 0 or ty // sh >= ho:
            continue
        oy = ty // sh
        for j in range(kw):
            tx = ix + pw - j * dw
            if tx < 0:
                break
            if tx % sw != 0 or tx // sw >= wo:
                continue
            total += col[ni, oy, tx // sw, i, j, ci]
    x[ni, ci, iy, ix] = total


@cuda.jit
def leaky_relu_kernel(x, y, slope):
    """y = x if x > 0 else slope * x, on flat arrays; a grid-stride loop covers any size."""
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for index in range(start, x.size, stride):
        value = x[index]
        y[index] = value if value > 0 else slope * value


@cuda.jit
def leaky_relu_grad_kernel(x, gy, gx, slope):
    """gx = gy if x > 0 else slope * gy, on flat arrays."""
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for index in range(start, x.size, stride):
        g = gy[index]
        gx[index] = g if x[index] > 0 else slope * g


MAX_BLOCKS = 65536  # grid cap for the grid-stride elementwise kernels


def _device(array):
    """A CuPy array as a Numba device array, without the host synchronisation Numba would do by
    default (the launch goes on CuPy's stream, which orders the work). NumPy arrays, which only the
    simulator receives, go through as they are."""
    if hasattr(array, "__cuda_array_interface__"):
        return cuda.as_cuda_array(array, sync=False)
    return array


def _stream(array):
    """CuPy's current stream as a Numba stream for launches on ``array`` (0 in the simulator)."""
    if hasattr(array, "__cuda_array_interface__"):
        return cuda.external_stream(get_array_module(array).cuda.get_current_stream().ptr)
    return 0


def _blocks(size):
    return -(-size // THREADS)


def _native(*arrays):
    """True for one float32 or float64 dtype throughout; the reference takes anything else."""
    dtype = arrays[0].dtype
    return dtype.char in "fd" and all(a.dtype == dtype for a in arrays)


@register("im2col", "numba_cuda", devices=("cuda",), priority=PRIORITY)
def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw):
    if not _native(x):
        return reference.im2col(x, kh, kw, sh, sw, ph, pw, dh, dw)
    xp = get_array_module(x)
    n, c, h, w = x.shape
    ho, wo = reference.conv_output_size(h, kh, sh, ph, dh), reference.conv_output_size(w, kw, sw, pw, dw)
    col = xp.empty((n, ho, wo, kh, kw, c), dtype=x.dtype)
    if col.size:
        im2col_kernel[_blocks(col.size), THREADS, _stream(x)](_device(x), _device(col), sh, sw, ph, pw, dh, dw)
    return col


@register("col2im", "numba_cuda", devices=("cuda",), priority=PRIORITY)
def col2im(col, h, w, sh, sw, ph, pw, dh, dw):
    if not _native(col):
        return reference.col2im(col, h, w, sh, sw, ph, pw, dh, dw)
    xp = get_array_module(col)
    n, c = col.shape[0], col.shape[5]
    x = xp.empty((n, c, h, w), dtype=col.dtype)
    if x.size:
        col2im_kernel[_blocks(x.size), THREADS, _stream(col)](_device(col), _device(x), sh, sw, ph, pw, dh, dw)
    return x


@register("leaky_relu", "numba_cuda", devices=("cuda",), priority=PRIORITY)
def leaky_relu(x, slope):
    if not _native(x):
        return reference.leaky_relu(x, slope)
    xp = get_array_module(x)
    x = xp.ascontiguousarray(x)
    y = xp.empty_like(x)
    if x.size:
        leaky_relu_kernel[min(_blocks(x.size), MAX_BLOCKS), THREADS, _stream(x)](
            _device(x.reshape(-1)), _device(y.reshape(-1)), x.dtype.type(slope))
    return y


@register("leaky_relu_grad", "numba_cuda", devices=("cuda",), priority=PRIORITY)
def leaky_relu_grad(x, gy, slope):
    if not _native(x, gy) or x.shape != gy.shape:
        return reference.leaky_relu_grad(x, gy, slope)
    xp = get_array_module(x)
    x, gy = xp.ascontiguousarray(x), xp.ascontiguousarray(gy)
    gx = xp.empty_like(gy)
    if x.size:
        leaky_relu_grad_kernel[min(_blocks(x.size), MAX_BLOCKS), THREADS, _stream(x)](
            _device(x.reshape(-1)), _device(gy.reshape(-1)), _device(gx.reshape(-1)), x.dtype.type(slope))
    return gx
