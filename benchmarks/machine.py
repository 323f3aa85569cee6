"""What the benchmarks ran on: CPU, cores, versions, and the BLAS behind NumPy (and its threads).

NumPy does not expose its BLAS thread count, and threadpoolctl is not a dependency, so this module
talks to OpenBLAS directly: it finds the OpenBLAS library NumPy loaded (in /proc/self/maps) and calls
its exported ``*_get_num_threads`` / ``*_set_num_threads`` through ctypes. On a NumPy built against
another BLAS (MKL, Accelerate) the thread count is reported as unknown and left alone.
"""
import ctypes
import os
import platform
import re
import sys

import numpy as np


def _openblas():
    """(ctypes library, symbol prefix, symbol suffix) of NumPy's OpenBLAS, or None."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({p for p in re.findall(r"(/\S+\.so[\w.]*)", f.read()) if "openblas" in p.lower()})
    except OSError:
        return None
    for path in paths:
        lib = ctypes.CDLL(path)
        # NumPy's wheels ship scipy-openblas with prefixed, 64-bit-integer symbols
        # (scipy_openblas_get_num_threads64_); a system OpenBLAS has the plain names.
        for prefix, suffix in (("scipy_openblas_", "64_"), ("openblas_", "")):
            if hasattr(lib, f"{prefix}get_num_threads{suffix}"):
                return lib, prefix, suffix
    return None


_OPENBLAS = None if sys.platform != "linux" else _openblas()


def _openblas_function(name):
    """OpenBLAS's function ``name`` (e.g. "get_num_threads") under this build's symbol names, or None."""
    if _OPENBLAS is None:
        return None
    lib, prefix, suffix = _OPENBLAS
    return getattr(lib, f"{prefix}{name}{suffix}", None)


def blas_threads():
    """The number of threads NumPy's BLAS uses, or None when it cannot be asked."""
    getter = _openblas_function("get_num_threads")
    return None if getter is None else int(getter())


def set_blas_threads(n):
    """Make NumPy's OpenBLAS use ``n`` threads; returns False where that cannot be done."""
    setter = _openblas_function("set_num_threads")
    if setter is None:
        return False
    setter(ctypes.c_int(int(n)))
    return blas_threads() == int(n)


def blas_name():
    """The BLAS NumPy was built against, as ``numpy.show_config`` reports it."""
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        detail = blas.get("openblas configuration", "")
        return f"{blas.get('name', '?')} {blas.get('version', '')} {detail}".strip()
    except Exception:  # older NumPy without mode="dicts"
        return "unknown"


def blas_core():
    """The kernel set OpenBLAS picked for this CPU (e.g. Haswell, SkylakeX, Zen)."""
    fn = _openblas_function("get_corename")
    if fn is None:
        return None
    fn.restype = ctypes.c_char_p
    return fn().decode()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags():
    """The SIMD extensions that matter for GEMM speed."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return sorted(f for f in flags if f in ("avx", "avx2", "fma", "avx512f", "avx512_bf16"))
    except OSError:
        pass
    return []


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def info(torch=None, device="cpu"):
    """A JSON-able description of the machine and software, ``torch`` the module when it is used;
    with ``device="cuda"`` also the GPU and the CUDA versions."""
    import minigan
    from minigan import backend, kernels

    try:
        import numba
        numba_version = numba.__version__
    except ImportError:
        numba_version = None
    result = {
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores": os.cpu_count(),
        "load_average_1_5_15": load_average(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "blas": blas_name(),
        "blas_core": blas_core(),
        "blas_threads": blas_threads(),
        "numba": numba_version,
        "minigan": minigan.__version__,
        "kernel_load_errors": kernels.load_errors(),
        # settings that change how the thread pools behave (OpenBLAS's spin time after a GEMM, Numba's
        # threading layer, OpenMP's waiting): a run is comparable only with one made under the same
        "environment": {k: v for k, v in sorted(os.environ.items())
                        if k.startswith(("OPENBLAS_", "OMP_", "GOMP_", "NUMBA_", "MKL_", "MINIGAN_KERNELS"))},
        "torch": None,
        "torch_threads": None,
    }
    if torch is not None:
        result["torch"] = torch.__version__
        result["torch_threads"] = torch.get_num_threads()
    result["device"] = device
    if device == "cuda":
        cupy = backend.array_module_for("cuda")
        result["gpus"] = backend.cuda_device_names()
        result["cupy"] = cupy.__version__
        result["cuda_runtime"] = cupy.cuda.runtime.runtimeGetVersion()
        result["cuda_driver"] = cupy.cuda.runtime.driverGetVersion()
        result["torch_cuda"] = getattr(getattr(torch, "version", None), "cuda", None)
    return result
