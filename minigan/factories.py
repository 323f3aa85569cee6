"""Tensor factories: zeros, ones, full, randn, rand (float32 unless told otherwise)."""
import numpy as np

from minigan import backend, random
from minigan.tensor import Tensor


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


def _make(fill, shape, dtype, device, requires_grad):
    device = backend.parse_device(device)
    dtype = np.dtype(dtype or backend.DEFAULT_DTYPE)
    with backend.device_context(device):
        data = fill(backend.array_module_for(device), _shape(shape), dtype, device)
    return Tensor(data, requires_grad=requires_grad)


def zeros(*shape, dtype=None, device="cpu", requires_grad=False):
    return _make(lambda xp, s, dt, dev: xp.zeros(s, dtype=dt), shape, dtype, device, requires_grad)


def ones(*shape, dtype=None, device="cpu", requires_grad=False):
    return _make(lambda xp, s, dt, dev: xp.ones(s, dtype=dt), shape, dtype, device, requires_grad)


def full(shape, fill_value, dtype=None, device="cpu", requires_grad=False):
    return _make(lambda xp, s, dt, dev: xp.full(s, fill_value, dtype=dt), (shape,), dtype, device, requires_grad)


def randn(*shape, dtype=None, device="cpu", requires_grad=False):
    """Standard normal samples from minigan's seeded generator (``manual_seed``)."""
    return _make(lambda xp, s, dt, dev: random.generator(dev).standard_normal(s, dtype=dt),
                 shape, dtype, device, requires_grad)


def rand(*shape, dtype=None, device="cpu", requires_grad=False):
    """Uniform samples in [0, 1) from minigan's seeded generator."""
    return _make(lambda xp, s, dt, dev: random.generator(dev).random(s, dtype=dt), shape, dtype, device, requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)
