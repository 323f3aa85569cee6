"""Optimisers: SGD, Adam and RMSprop, with PyTorch's update rules, names and parameter groups.

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

from minigan import backend, kernels
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


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov and L2 weight decay.

    As torch.optim.SGD: g <- g + wd p; with momentum mu, b <- g on the first step and
    b <- mu b + (1 - dampening) g after; g <- g + mu b (Nesterov) or g <- b; then p <- p - lr g.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    def _update(self, param, grad, state, group):
        t = param.dtype.type
        if group["weight_decay"]:
            grad = grad + param * t(group["weight_decay"])
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.astype(param.dtype, copy=True)
            else:
                buf *= t(momentum)
                buf += grad * t(1 - group["dampening"])
            grad = grad + buf * t(momentum) if group["nesterov"] else buf
        param -= grad * t(group["lr"])


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with L2 weight decay, as torch.optim.Adam (amsgrad off).

    The update itself is the registry primitive ``adam_update`` (reference in kernels/reference.py;
    faster ones where available). State: step (int), exp_avg, exp_avg_sq.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        betas = tuple(betas)
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"Adam: betas must be two numbers in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _update(self, param, grad, state, group):
        xp = backend.get_array_module(param)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(param)
            state["exp_avg_sq"] = xp.zeros_like(param)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        kernels.get("adam_update", xp)(param, grad, state["exp_avg"], state["exp_avg_sq"], group["lr"],
                                       beta1, beta2, group["eps"], group["weight_decay"], state["step"])


class RMSprop(Optimizer):
    """RMSprop (Hinton, Coursera lecture 6e), as torch.optim.RMSprop.

    g <- g + wd p; v <- alpha v + (1 - alpha) g^2; centred: a <- alpha a + (1 - alpha) g and the
    denominator is sqrt(v - a^2) + eps, else sqrt(v) + eps; with momentum mu,
    b <- mu b + g / denominator and p <- p - lr b, else p <- p - lr g / denominator.
    State: step, square_avg, and momentum_buffer / grad_avg when used.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered))

    def _update(self, param, grad, state, group):
        xp = backend.get_array_module(param)
        t = param.dtype.type
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(param)
        state["step"] += 1
        alpha = group["alpha"]
        if group["weight_decay"]:
            grad = grad + param * t(group["weight_decay"])
        square_avg = state["square_avg"]
        square_avg *= t(alpha)
        square_avg += grad * grad * t(1 - alpha)
        if group["centered"]:
            grad_avg = state.setdefault("grad_avg", xp.zeros_like(param))
            grad_avg *= t(alpha)
            grad_avg += grad * t(1 - alpha)
            denom = xp.sqrt(square_avg - grad_avg * grad_avg)
        else:
            denom = xp.sqrt(square_avg)
        denom += t(group["eps"])
        if group["momentum"] > 0:
            buf = state.setdefault("momentum_buffer", xp.zeros_like(param))
            buf *= t(group["momentum"])
            buf += grad / denom
            param -= buf * t(group["lr"])
        else:
            param -= grad / denom * t(group["lr"])
