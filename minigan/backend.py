"""Device handling: which array module (NumPy or CuPy) holds a tensor's data.

This is the only module outside ``minigan.kernels`` that may import CuPy, and it does so lazily and
guarded, so ``import minigan`` needs NumPy alone. Devices are named as in PyTorch: ``"cpu"``,
``"cuda"`` and ``"cuda:N"``; a tensor reports its device as ``"cpu"`` or ``"cuda:N"``.
"""
import numpy as np

DEFAULT_DTYPE = np.dtype(np.float32)

_cupy = None
_cupy_error = None


def _import_cupy():
    """Import CuPy once; remember why it failed so the error can say so."""
    global _cupy, _cupy_error
    if _cupy is None and _cupy_error is None:
        try:
            import cupy
            _cupy = cupy
        except Exception as exc:  # ImportError, or a broken CUDA install raising at import
            _cupy_error = exc
    return _cupy


def cuda_unavailable_reason():
    """Why "cuda" cannot be used here, or None when a real GPU is ready."""
    cupy = _import_cupy()
    if cupy is None:
        return (f"CuPy could not be imported ({type(_cupy_error).__name__}: {_cupy_error}); install the GPU "
                "extra: pip install 'minigan[gpu]' (CUDA 12), or 'cupy-cuda13x[ctk]' and 'numba-cuda[cu13]' for CUDA 13")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return (f"CuPy is installed but the CUDA driver could not be used ({exc}); "
                "install an NVIDIA driver that matches your CuPy wheel")
    if count == 0:
        return "CuPy and the CUDA driver are installed but no CUDA device was found"
    return None


def cuda_is_available():
    """True only on a real GPU (the Numba CUDA simulator does not count)."""
    return cuda_unavailable_reason() is None


def parse_device(device):
    """Normalise ``"cpu"``, ``"cuda"``, ``"cuda:N"`` (or None for cpu) to ``"cpu"`` or ``"cuda:N"``."""
    if device is None:
        return "cpu"
    device = str(device)
    if device == "cpu":
        return "cpu"
    if device == "cuda" or device.startswith("cuda:"):
        index = 0 if device == "cuda" else device[5:]
        if not str(index).isdigit():
            raise ValueError(f"device: cannot parse {device!r}; use 'cpu', 'cuda' or 'cuda:N'")
        reason = cuda_unavailable_reason()
        if reason is not None:
            raise RuntimeError(f"device {device!r} was asked for, but {reason}")
        count = _cupy.cuda.runtime.getDeviceCount()
        if int(index) >= count:
            raise RuntimeError(f"device {device!r} was asked for, but there are {count} CUDA device(s): "
                               f"use cuda:0 to cuda:{count - 1}")
        return f"cuda:{int(index)}"
    raise ValueError(f"device: unknown device {device!r}; use 'cpu', 'cuda' or 'cuda:N'")


def is_cupy_array(array):
    if _cupy is None:
        # An array a user made with CuPy before minigan needed it: import CuPy now to recognise it.
        if not type(array).__module__.startswith("cupy") or _import_cupy() is None:
            return False
    return isinstance(array, _cupy.ndarray)


def get_array_module(*arrays):
    """NumPy, or CuPy when any argument is a CuPy array (the `xp` of every op)."""
    for a in arrays:
        if is_cupy_array(a):
            return _cupy
    return np


def nhwc_view(array):
    """An (N, C, H, W) array as the C-contiguous (N, H, W, C) array it is a view of, or None when it is
    laid out otherwise. Convolutions hand their outputs on laid out so (channels-last)."""
    nhwc = array.transpose(0, 2, 3, 1)
    return nhwc if nhwc.flags.c_contiguous else None


def device_of(array):
    if is_cupy_array(array):
        return f"cuda:{array.device.id}"
    return "cpu"


def array_module_for(device):
    return np if device == "cpu" else _import_cupy()


def to_device(array, device):
    """Move an array to ``device`` (already parsed); a no-op when it is there."""
    if device == "cpu":
        return _cupy.asnumpy(array) if is_cupy_array(array) else array
    cupy = _import_cupy()
    index = int(device.split(":")[1])
    if is_cupy_array(array) and array.device.id == index:
        return array
    with cupy.cuda.Device(index):
        return cupy.asarray(array)


def cuda_device_names():
    """"cuda:N: NAME (compute capability X.Y, M GiB)" for each GPU; an empty list without one."""
    if not cuda_is_available():
        return []
    names = []
    for index in range(_cupy.cuda.runtime.getDeviceCount()):
        props = _cupy.cuda.runtime.getDeviceProperties(index)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        names.append(f"cuda:{index}: {name} (compute capability {props['major']}.{props['minor']}, "
                     f"{props['totalGlobalMem'] / 2**30:.1f} GiB)")
    return names


def cuda_synchronize():
    """Wait until the GPU has finished all work queued on CuPy's current stream (as
    ``torch.cuda.synchronize``). Kernels launch asynchronously, so a timer needs this before it reads
    the clock. A no-op when minigan has not used CuPy: then nothing can be queued."""
    if _cupy is not None and cuda_is_available():
        _cupy.cuda.get_current_stream().synchronize()


def device_context(device):
    """A context manager that makes ``device`` current for allocations (a no-op on CPU)."""
    if device == "cpu":
        import contextlib
        return contextlib.nullcontext()
    return _import_cupy().cuda.Device(int(device.split(":")[1]))
