"""Every CUDA kernel compiled to PTX, without a GPU: a syntax or type error fails here, not on a GPU.

- CUDA C (kernels/cuda/*.cu): NVRTC through cuda-bindings, asked for the same template instantiations
  ``cuda_c`` asks CuPy's RawModule for (template code is only type-checked when instantiated), for
  the oldest architecture CUDA 12 and 13 still support and for Hopper.
- Numba CUDA (kernels/numba_cuda.py): ``numba.cuda.compile_ptx`` for float32 and float64 signatures,
  in this process, which must not be running the simulator (the simulator compiles nothing).
"""
import os
import pathlib
import re

import numpy as np
import pytest

import minigan
from minigan import kernels

ARCHITECTURES = ("compute_75", "compute_90")
NUMBA_KERNELS = ("im2col_kernel", "col2im_kernel", "leaky_relu_kernel", "leaky_relu_grad_kernel")


def _nvrtc_compile(source_text, filename, name_expressions, arch):
    """PTX and lowered names for ``name_expressions``, or an AssertionError carrying NVRTC's log."""
    nvrtc = pytest.importorskip("cuda.bindings.nvrtc",
                                reason="cuda-bindings is not installed: pip install 'minigan[test,gpu-check]'")

    def check(result):
        err, *values = result
        assert err == nvrtc.nvrtcResult.NVRTC_SUCCESS, f"{filename}: NVRTC said {err}"
        return values[0] if len(values) == 1 else values

    program = check(nvrtc.nvrtcCreateProgram(source_text.encode(), filename.encode(), 0, [], []))
    try:
        for expression in name_expressions:
            check(nvrtc.nvrtcAddNameExpression(program, expression.encode()))
        options = [f"--gpu-architecture={arch}".encode(), b"--std=c++17"]  # CuPy 14 compiles as C++17
        (compiled,) = nvrtc.nvrtcCompileProgram(program, len(options), options)
        log_size = check(nvrtc.nvrtcGetProgramLogSize(program))
        # NVRTC writes into the buffer it is given, so each must be a fresh object: ``b" " * 1`` is
        # CPython's shared one-byte b" ", and an empty log (size 1, its NUL) turned every b" " in the
        # process into b"\x00" (np.load and torch's import then failed in later tests; seen with CUDA 13).
        log = bytes(log_size)
        check(nvrtc.nvrtcGetProgramLog(program, log))
        log = log.decode(errors="replace").strip("\x00 \n")
        assert compiled == nvrtc.nvrtcResult.NVRTC_SUCCESS, f"{filename} ({arch}) does not compile:\n{log}"
        assert "warning" not in log, f"{filename} ({arch}) compiles with warnings:\n{log}"
        lowered = {e: check(nvrtc.nvrtcGetLoweredName(program, e.encode())).decode() for e in name_expressions}
        ptx_size = check(nvrtc.nvrtcGetPTXSize(program))
        ptx = bytes(ptx_size)
        check(nvrtc.nvrtcGetPTX(program, ptx))
        return ptx.decode().rstrip("\x00"), lowered
    finally:
        nvrtc.nvrtcDestroyProgram(program)


def _cuda_c():
    pytest.importorskip("cupy", reason="CuPy is not installed: pip install 'minigan[test,gpu-check]'")
    from minigan.kernels import cuda_c
    return cuda_c


def test_every_cuda_source_is_loaded_by_cuda_c():
    cuda_c = _cuda_c()
    on_disk = {p.name for p in cuda_c.SOURCE_DIR.glob("*.cu")}
    assert on_disk == set(cuda_c.KERNELS)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("source", sorted(p.name for p in (pathlib.Path(kernels.__file__).parent / "cuda").glob("*.cu")))
def test_cuda_c_compiles_to_ptx(source, arch):
    cuda_c = _cuda_c()
    expressions = cuda_c.name_expressions(source)
    ptx, lowered = _nvrtc_compile((cuda_c.SOURCE_DIR / source).read_text(), source, expressions, arch)
    entries = set(re.findall(r"\.entry\s+(\w+)", ptx))
    for expression, name in lowered.items():
        assert name in entries, f"{source}: {expression} ({name}) is not a kernel entry of the PTX"


def test_a_broken_source_fails_to_compile():
    # The check above must be able to fail: a type error in a template shows when it is instantiated.
    source = "template <typename T> __global__ void f(T* x) { x[0] = undeclared_name; }"
    with pytest.raises(AssertionError, match="does not compile"):
        _nvrtc_compile(source, "broken.cu", ["f<float>"], ARCHITECTURES[0])


def _numba_signatures():
    """Argument types each Numba CUDA kernel is launched with, per element type."""
    from numba import types
    int64 = types.int64

    def array(t, ndim, layout="A"):
        return types.Array(t, ndim, layout)

    return {
        "im2col_kernel": lambda t: (array(t, 4), array(t, 6, "C")) + (int64,) * 6,
        "col2im_kernel": lambda t: (array(t, 6), array(t, 4, "C")) + (int64,) * 6,
        "leaky_relu_kernel": lambda t: (array(t, 1, "C"), array(t, 1, "C"), t),
        "leaky_relu_grad_kernel": lambda t: (array(t, 1, "C"), array(t, 1, "C"), array(t, 1, "C"), t),
    }


def _numba_cuda():
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        pytest.skip("the Numba CUDA simulator is on in this process, and it compiles nothing")
    pytest.importorskip("numba_cuda", reason="numba-cuda is not installed: pip install 'minigan[test,gpu-check]'")
    if minigan.cuda.is_available():
        # On a GPU the module launches a probe kernel when the registry imports it; where Numba cannot
        # compile (numba-cuda 0.30.4 under NumPy 2.5) the registry keeps the reason, and there is no PTX
        # to check either.
        kernels.implementations(device="cuda")
        error = kernels.load_errors().get("numba_cuda")
        if error:
            pytest.skip(error)
    from minigan.kernels import numba_cuda
    return numba_cuda


def test_every_numba_cuda_kernel_has_a_signature_here():
    numba_cuda = _numba_cuda()
    from numba.cuda.dispatcher import CUDADispatcher
    dispatchers = {name for name, obj in vars(numba_cuda).items() if isinstance(obj, CUDADispatcher)}
    assert dispatchers == set(NUMBA_KERNELS) == set(_numba_signatures())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", NUMBA_KERNELS)
def test_numba_cuda_kernel_compiles_to_ptx(kernel, dtype):
    numba_cuda = _numba_cuda()
    from numba import cuda
    from numba.np.numpy_support import from_dtype
    element = from_dtype(np.dtype(dtype))
    ptx, return_type = cuda.compile_ptx(getattr(numba_cuda, kernel).py_func, _numba_signatures()[kernel](element),
                                        cc=(7, 5))
    assert ".entry" in ptx
    assert str(return_type) == "none"
    # The arithmetic stays in the element type: no float64 instructions in a float32 kernel.
    if dtype == np.float32:
        assert ".f64" not in ptx, f"{kernel}: float64 arithmetic in the float32 kernel"
