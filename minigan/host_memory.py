"""How the process's C allocator treats the large arrays a training step frees: keep them for reuse.

A GAN step allocates and frees the same large temporaries every iteration: a convolution's patch
matrix (25 MB for W2's second layer at batch 128), activations, gradients. glibc's malloc serves
a block above its mmap threshold with fresh pages from the kernel and unmaps it when freed, and it
returns the top of its heap to the kernel whenever more than its trim threshold lies free there. Both
thresholds adapt to the sizes it sees (up to 32 MB and 64 MB), but a step's memory rises and falls
by more than that, so each iteration the kernel hands the same pages back again, zeroed, one page
fault at a time. Measured on the default run (a 2-core Intel Xeon, ``resource.getrusage`` around 20
iterations): 5,000 to 20,000 minor page faults and 10 to 40 ms of system time per ~190 ms iteration,
and about 20 faults and no system time with the thresholds raised, at the same peak RSS.

``keep_freed_memory()`` raises them (``mallopt``, glibc's documented knob; the environment variables
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` do the same from outside). Freed blocks
then stay in the process for the next array of their size, as PyTorch's CUDA caching allocator keeps
device memory. The ``minigan`` command and the benchmarks call it; ``import minigan`` does not,
since a library should not change how its host process allocates. Elsewhere (macOS, Windows, musl)
it does nothing. No number changes: only where the bytes come from.
"""
import ctypes
import ctypes.util
import platform

# mallopt's parameter numbers, from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# Blocks up to this size come from the heap and are reused; larger ones (W3's biggest cols are smaller)
# are still mapped and unmapped on their own.
MMAP_THRESHOLD = 256 << 20
# Free memory at the top of the heap is returned to the kernel only beyond this.
TRIM_THRESHOLD = 1 << 30


def keep_freed_memory():
    """Make glibc's malloc keep freed blocks (up to ``MMAP_THRESHOLD`` bytes each) for reuse rather than
    return them to the kernel. True if it did; False where the C library is not glibc."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success and 0 when glibc refuses a value
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
