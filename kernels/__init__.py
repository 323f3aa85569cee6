"""The kernel registry: every implementation of each primitive, by name and device.

A primitive (``im2col``, ``col2im``, ``batch_transpose``, ``leaky_relu``, ``leaky_relu_grad``,
``batch_norm_forward``, ``batch_norm_backward``, ``standardise_forward``, ``standardise_backward``,
``adam_update``) has a readable reference in
``reference.py`` that works on NumPy and CuPy arrays alike, and may have faster ones (Numba on CPU;
CUDA C and Numba CUDA on GPU).
Ops call ``get(primitive, xp)`` and receive the highest-priority implementation that loaded on that
device; benchmarks call ``implementations()`` and ``get(primitive, xp, name=...)`` to time each one on
the same input. ``prefer(primitive, name)`` pins a choice (also through the environment variable
``MINIGAN_KERNELS="im2col=reference,leaky_relu=numba_cpu"``).

Code says ``from minigan import kernels``: this folder ships inside the wheel as ``minigan.kernels``.
"""
import importlib
import os

import numpy as np

_registry = {}  # (primitive, device) -> {name: (priority, fn)}
_best = {}  # (primitive, device) -> fn, cleared whenever the registry changes
_preferred = dict(item.split("=", 1) for item in os.environ.get("MINIGAN_KERNELS", "").split(",") if "=" in item)
_loaded = set()
_load_errors = {}

# Modules that register kernels, per device, tried on first use of that device. Each may fail to
# import (no numba, no cupy); the reference always loads.
_MODULES = {
    "cpu": ("reference", "numba_cpu"),
    "cuda": ("reference", "cuda_c", "numba_cuda"),
}


def register(primitive, name, devices=("cpu",), priority=0):
    """Decorator: register ``fn`` as implementation ``name`` of ``primitive`` on ``devices``."""
    def decorate(fn):
        for device in devices:
            _registry.setdefault((primitive, device), {})[name] = (priority, fn)
        _best.clear()
        return fn
    return decorate


def _device_key(xp):
    return "cpu" if xp is np else "cuda"


def _load(device):
    for module in _MODULES[device]:
        if module in _loaded:
            continue
        _loaded.add(module)
        try:
            importlib.import_module(f"{__name__}.{module}")
        except Exception as exc:  # an optional backend that is not installed, or no GPU
            _load_errors[module] = exc


def get(primitive, xp=np, name=None):
    """The implementation of ``primitive`` for arrays of module ``xp`` (``name`` picks one)."""
    device = _device_key(xp)
    if name is None:
        fn = _best.get((primitive, device))
        if fn is not None:
            return fn
    _load(device)
    impls = _registry.get((primitive, device))
    if not impls:
        raise KeyError(f"kernels: no implementation of {primitive!r} on {device}")
    if name is None:
        name = _preferred.get(primitive)
        if name is None or name not in impls:
            name = max(impls, key=lambda n: impls[n][0])
        fn = impls[name][1]
        _best[(primitive, device)] = fn
        return fn
    if name not in impls:
        raise KeyError(f"kernels: {primitive!r} on {device} has no implementation {name!r}; "
                       f"available: {sorted(impls)}")
    return impls[name][1]


def prefer(primitive, name):
    """Make ``name`` the implementation ops use for ``primitive`` (None restores the default)."""
    if name is None:
        _preferred.pop(primitive, None)
    else:
        _preferred[primitive] = name
    _best.clear()


def implementations(primitive=None, device=None):
    """Sorted (primitive, device, name) triples of every implementation that loaded."""
    for dev in ("cpu", "cuda") if device is None else (device,):
        if dev == "cpu" or _cuda_possible():
            _load(dev)
    return sorted((p, d, n) for (p, d), impls in _registry.items() for n in impls
                  if (primitive is None or p == primitive) and (device is None or d == device))


def load_errors():
    """Why optional kernel modules did not load, by module name (for ``minigan info``)."""
    return {k: f"{type(v).__name__}: {v}" for k, v in _load_errors.items()}


def _cuda_possible():
    from minigan import backend
    return backend.cuda_is_available()


from minigan.kernels import reference  # noqa: E402,F401  (always available)

_loaded.add("reference")
