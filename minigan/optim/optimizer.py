"""The optimiser base class: parameter groups, per-parameter state and plain-data state dicts.

``param_groups`` is a list of dicts, each with its own "params" and hyper-parameters, so a GAN can give
G and D different learning rates in one optimiser or use two. Updates work on the raw arrays in place:
they build no graph, and every scalar is cast to the parameter's dtype first, so float32 parameters
stay float32 with Python float hyper-parameters.

State dicts (``state_dict()`` / ``load_state_dict()``) are plain data, storable in an ``.npz`` read with
``allow_pickle=False`` plus JSON::

    {"state": {index: {name: numpy array or Python number}},   # index: the parameter's position
     "param_groups": [{"lr": ..., ..., "params": [index, ...]}]}  # JSON-able

Indices count the parameters of all groups in order, as in PyTorch; ``load_state_dict`` also accepts
them as strings (what JSON makes of integer keys) and tuples stored as lists.
"""
import numpy as np

from minigan import backend
from minigan.tensor import Tensor, zero_grads


class Optimizer:
    """Base class: parameter groups, per-parameter state, zero_grad, state_dict / load_state_dict.

    Subclasses define ``_update(param, grad, state, group)``, called by ``step`` for every parameter
    that has a gradient; ``grad`` and the arrays in ``state`` live on the parameter's device.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}  # Parameter -> {name: array or number}
        self.param_groups = []
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for group in params if isinstance(params[0], dict) else [{"params": params}]:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a dict with "params" and any hyper-parameters (the others come from the defaults)."""
        name = type(self).__name__
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameters must be Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: cannot optimise a non-leaf tensor of shape {tuple(p.shape)}")
            if p.dtype.kind != "f":
                raise TypeError(f"{name}: parameters must be floating point, got dtype {p.dtype}")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in group["params"]):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group):
        name = type(self).__name__
        for key in ("lr", "eps", "weight_decay", "momentum", "alpha"):
            if key in group and not group[key] >= 0:
                raise ValueError(f"{name}: {key} must be >= 0, got {group[key]}")

    def zero_grad(self, set_to_none=True):
        """Drop every parameter's gradient (``grad = None``), or with ``set_to_none=False`` fill it with
        zeros, as PyTorch's ``Optimizer.zero_grad``."""
        for group in self.param_groups:
            zero_grads(group["params"], set_to_none)

    def step(self):
        """Update every parameter that has a gradient, in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data
                if grad.shape != p.shape:
                    raise ValueError(f"{type(self).__name__}: gradient of shape {tuple(grad.shape)} for a "
                                     f"parameter of shape {tuple(p.shape)}")
                self._update(p.data, grad, self.state.setdefault(p, {}), group)
                p._bump_version()

    def _update(self, param, grad, state, group):
        raise NotImplementedError

    # -- state dicts -------------------------------------------------------------------------------
    def _indexed_params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self):
        """The optimiser state as plain data (see the module docstring); arrays are CPU copies."""
        index = {id(p): i for i, p in enumerate(self._indexed_params())}
        state = {}
        for p, entries in self.state.items():
            state[index[id(p)]] = {k: np.array(backend.to_device(v, "cpu"), copy=True) if _is_array(v) else v
                                   for k, v in entries.items()}
        groups = []
        for group in self.param_groups:
            saved = {k: (list(v) if isinstance(v, tuple) else v) for k, v in group.items() if k != "params"}
            saved["params"] = [index[id(p)] for p in group["params"]]
            groups.append(saved)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state saved by ``state_dict`` (of an optimiser over parameters
        of the same shapes, in the same order). Arrays go to each parameter's device and dtype."""
        name = type(self).__name__
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state has {len(groups)} parameter groups, the "
                             f"optimiser {len(self.param_groups)}")
        for i, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: group {i} has {len(saved['params'])} parameters in "
                                 f"the state but {len(group['params'])} in the optimiser")
        params = self._indexed_params()
        state = {}
        for key, entries in state_dict["state"].items():
            i = int(key)
            if not 0 <= i < len(params):
                raise ValueError(f"{name}.load_state_dict: state for parameter {i}, but there are {len(params)}")
            p = params[i]
            restored = {}
            for k, v in entries.items():
                # Arrays of the parameter's shape are moment estimates; 0-d ones are numbers (step),
                # unless the parameter itself is 0-d and they are floating point.
                if _is_array(v) and (v.ndim > 0 or (p.ndim == 0 and v.dtype.kind == "f")):
                    if tuple(v.shape) != tuple(p.shape):
                        raise ValueError(f"{name}.load_state_dict: state {k!r} of parameter {i} has shape "
                                         f"{tuple(v.shape)}, the parameter {tuple(p.shape)}")
                    with backend.device_context(p.device):
                        restored[k] = backend.to_device(v, p.device).astype(p.dtype, copy=True)
                else:
                    restored[k] = v.item() if _is_array(v) else v
            state[p] = restored
        for saved, group in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = tuple(v) if isinstance(group.get(k), tuple) else v
        self.state = state


def _is_array(value):
    return isinstance(value, (np.ndarray, np.generic)) or backend.is_cupy_array(value)
