"""minigan's random number generators: one seeded NumPy Generator, and one CuPy generator per GPU.

``manual_seed(n)`` reseeds all of them, so a run is repeatable from its seed; checkpoints save and
restore the CPU generator's state (``get_state``/``set_state``) so that resuming continues the same
random stream.
"""
import numpy as np

from minigan import backend

_seed = 0
_cpu = np.random.default_rng(_seed)
_gpu = {}


def manual_seed(seed):
    """Reseed every generator minigan draws from (weights init, noise, dropout, shuffling)."""
    global _seed, _cpu
    _seed = int(seed)
    _cpu = np.random.default_rng(_seed)
    _gpu.clear()


def generator(device="cpu"):
    """The generator for ``device``: a ``numpy.random.Generator``, or CuPy's on a GPU."""
    if device == "cpu":
        return _cpu
    if device not in _gpu:
        cupy = backend.array_module_for(device)
        with backend.device_context(device):
            _gpu[device] = cupy.random.default_rng(_seed + 1 + int(device.split(":")[1]))
    return _gpu[device]


def get_state():
    """The CPU generator's state as a JSON-able dict (checkpoints store it)."""
    return _cpu.bit_generator.state


def set_state(state):
    _cpu.bit_generator.state = state
