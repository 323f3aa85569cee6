"""Run the CUDA C kernels of kernels/cuda on the CPU, so their logic is tested without a GPU.

``compile_source`` builds one ``.cu`` file with g++ against ``cuda_emulator.h`` (every CUDA thread an
OS thread, ``__syncthreads`` a barrier) into a shared library; ``EmulatedKernel`` is called exactly as
CuPy's ``RawKernel`` is (``kernel(grid, block, args)``) and checks each argument against the
kernel's C signature first: a Python int where the kernel takes ``int``, a float64 array where it
takes ``float*``, or a non-contiguous array all raise instead of running on garbage. Tests swap it in
for ``cuda_c._kernel``, so the real wrappers and the real kernel sources run end to end.
"""
import ctypes
import pathlib
import subprocess

import numpy as np

HEADER = pathlib.Path(__file__).with_name("cuda_emulator.h")

# Signature code -> (NumPy type the argument must have, ctypes type that holds it).
_SCALARS = {"i": (np.int32, ctypes.c_int), "m": (np.uint64, ctypes.c_size_t),
            "f": (np.float32, ctypes.c_float), "d": (np.float64, ctypes.c_double)}
_POINTERS = {"F": np.dtype(np.float32), "D": np.dtype(np.float64)}
MAX_THREADS_PER_BLOCK = 1024  # CUDA's limit


def compile_source(source, name_expressions, build_dir):
    """Compile ``source`` (a .cu path) with the instantiations ``name_expressions``; a ctypes library."""
    source, build_dir = pathlib.Path(source), pathlib.Path(build_dir)
    cpp = build_dir / f"{source.stem}_emulated.cpp"
    library = build_dir / f"{source.stem}_emulated.so"
    table = ", ".join(f"EMULATE({e})" for e in name_expressions)
    cpp.write_text(f'#include "{HEADER}"\n#include "{source.resolve()}"\n\n'
                   f"const Launcher launchers[] = {{{table}}};\n"
                   f"const int launcher_count = {len(name_expressions)};\n")
    result = subprocess.run(["g++", "-std=c++17", "-O1", "-shared", "-fPIC", "-pthread", "-o", str(library),
                             str(cpp)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"g++ could not compile {source.name} for the emulator:\n{result.stderr}")
    lib = ctypes.CDLL(str(library))
    lib.emulator_signature.restype = ctypes.c_char_p
    lib.emulator_signature.argtypes = [ctypes.c_char_p]
    lib.emulator_launch.restype = ctypes.c_int
    lib.emulator_launch.argtypes = [ctypes.c_char_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p]
    return lib


class EmulatedKernel:
    """One kernel instantiation (``"im2col<float>"``) of a compiled library, called like a RawKernel."""

    def __init__(self, lib, name):
        signature = lib.emulator_signature(name.encode())
        if signature is None:
            raise KeyError(f"emulator: {name!r} was not compiled")
        self.lib, self.name, self.signature = lib, name, signature.decode()
        self.launches = 0

    def __call__(self, grid, block, args, shared_mem=0):
        if len(grid) != 1 or len(block) != 1:
            raise ValueError(f"{self.name}: the emulator runs one-dimensional launches, got {grid}, {block}")
        if not 0 < block[0] <= MAX_THREADS_PER_BLOCK or grid[0] <= 0:
            raise ValueError(f"{self.name}: launch of grid {grid} and block {block} is not valid CUDA")
        if len(args) != len(self.signature):
            raise TypeError(f"{self.name}: takes {len(self.signature)} arguments, got {len(args)}")
        holders = []  # keep every ctypes value alive until the launch returns
        for position, (code, arg) in enumerate(zip(self.signature, args)):
            if code in _POINTERS:
                if not isinstance(arg, np.ndarray) or arg.dtype != _POINTERS[code] or not arg.flags.c_contiguous:
                    raise TypeError(f"{self.name}: argument {position} must be a C-contiguous "
                                    f"{_POINTERS[code]} array, got {_describe(arg)}")
                holders.append(ctypes.c_void_p(arg.ctypes.data))
            else:
                numpy_type, c_type = _SCALARS[code]
                if type(arg) is not numpy_type:
                    raise TypeError(f"{self.name}: argument {position} must be {numpy_type.__name__}, "
                                    f"got {_describe(arg)}")
                holders.append(c_type(arg))
        params = (ctypes.c_void_p * len(holders))(*(ctypes.addressof(h) for h in holders))
        if self.lib.emulator_launch(self.name.encode(), grid[0], block[0], params) != 0:
            raise RuntimeError(f"emulator: launch of {self.name} failed")
        self.launches += 1


def _describe(arg):
    if isinstance(arg, np.ndarray):
        return f"{arg.dtype} array (contiguous: {arg.flags.c_contiguous})"
    return type(arg).__name__
