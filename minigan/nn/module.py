"""Module and Parameter: the building blocks of networks, with PyTorch's behaviour and names.

A Module registers what is assigned to it: a ``Parameter`` goes to ``_parameters`` (trained), a Module
to ``_modules`` (a child), and tensors declared with ``register_buffer`` to ``_buffers`` (state that is
saved but not trained, such as batch-norm running statistics). ``state_dict`` names them by their
attribute path, exactly as PyTorch does ("0.weight", "main.3.running_var"), so a PyTorch state dict
converted to NumPy arrays loads as it is.

``register_forward_pre_hook`` runs a function before every ``forward``, as in PyTorch; spectral
normalisation (``minigan.nn.utils.spectral_norm``) recomputes its weight that way.

A tensor given a parametrization (``minigan.nn.utils.parametrize``) lives in the child
``parametrizations``, as in PyTorch: ``module.weight`` is computed by ``module.parametrizations.weight``
on every read, and ``module.weight = X`` goes to its ``right_inverse``. Attribute access resolves that
name the way it resolves parameters, so the module keeps its class.
"""
import itertools
from collections import namedtuple

import numpy as np

from minigan import backend
from minigan.factories import zeros
from minigan.tensor import Tensor, tensor, zero_grads


class Parameter(Tensor):
    """A Tensor that a Module trains: it requires grad and is listed by ``Module.parameters()``.

    ``data`` may be a Tensor or an array (kept as it is: its dtype and device, memory shared, as
    ``torch.nn.Parameter`` does) or a Python value (made float32). Layers create float32 parameters.
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            data = data.data
        elif not (isinstance(data, np.ndarray) or backend.is_cupy_array(data)):
            data = tensor(data).data
        if data.dtype.kind != "f":
            raise TypeError(f"Parameter: data must be floating point, got dtype {data.dtype}")
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def new_parameter(shape, device=None, dtype=None):
    """A zero-filled Parameter of ``shape`` for a layer to initialise (float32 unless told)."""
    return Parameter(zeros(shape, dtype=dtype, device=device or "cpu"))


LoadResult = namedtuple("LoadResult", ["missing_keys", "unexpected_keys"])


class RemovableHandle:
    """What ``register_forward_pre_hook`` returns: ``handle.remove()`` unregisters the hook (a second
    call does nothing), as PyTorch's handle."""

    _ids = itertools.count()  # one counter for all modules, so an id never comes back after a removal

    def __init__(self, hooks):
        self.hooks, self.id = hooks, next(RemovableHandle._ids)

    def remove(self):
        self.hooks.pop(self.id, None)


def _to_array(value):
    """A state-dict value (NumPy array, minigan Tensor, number) as an array."""
    return value.data if isinstance(value, Tensor) else np.asarray(value)


class Module:
    """Base class of every layer and model. Subclasses call ``super().__init__()`` and define ``forward``."""

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_pre_hooks", {})
        object.__setattr__(self, "training", True)

    # -- registration -----------------------------------------------------------------------------
    def _stores(self, name):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before {type(self).__name__}.__init__() called "
                                 "Module.__init__()")
        return self._parameters, self._buffers, self._modules

    def _forget(self, name, keep=None):
        """Remove ``name`` from every store but ``keep``, the one it is about to be written to: a name
        reassigned in its own store keeps its place, so ``seq[0] = m`` stays first and a replaced
        weight keeps its state-dict position, as in PyTorch."""
        for store in (self._parameters, self._buffers, self._modules):
            if store is not keep:
                store.pop(name, None)
        self.__dict__.pop(name, None)

    def _parametrization(self, name):
        """``self.parametrizations[name]`` if ``name`` is a parametrized tensor, else None."""
        modules = self.__dict__.get("_modules")
        holder = modules.get("parametrizations") if modules else None
        return holder._modules.get(name) if holder is not None else None

    def __setattr__(self, name, value):
        parametrization = self._parametrization(name)
        if parametrization is not None:
            if not isinstance(value, Tensor) or isinstance(value, Parameter):
                # a Parameter would be copied, not kept, which is not what assigning one means elsewhere
                raise TypeError(f"cannot assign a {type(value).__name__} to {name!r} of {type(self).__name__}: it "
                                "has a parametrization; assign a Tensor (set through right_inverse) or call "
                                "nn.utils.parametrize.remove_parametrizations first")
            parametrization.right_inverse(value)
        elif isinstance(value, Parameter):
            self._stores(name)
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._stores(name)
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        else:
            params, buffers, modules = self.__dict__.get("_parameters"), self.__dict__.get("_buffers"), \
                self.__dict__.get("_modules")
            if params is not None and name in params:
                if value is not None:
                    raise TypeError(f"cannot assign a {type(value).__name__} to parameter {name!r} of "
                                    f"{type(self).__name__} (a Parameter or None is expected)")
                params[name] = None
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign a {type(value).__name__} to child module {name!r} of "
                                    f"{type(self).__name__} (a Module or None is expected)")
                modules[name] = None
            elif buffers is not None and name in buffers:
                if value is not None and not isinstance(value, Tensor):
                    raise TypeError(f"cannot assign a {type(value).__name__} to buffer {name!r} of "
                                    f"{type(self).__name__} (a Tensor or None is expected)")
                buffers[name] = value
            else:
                object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when ordinary lookup fails: parameters, buffers and children live in the dicts, and
        # a parametrized tensor is computed from its original on each read.
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        parametrization = self._parametrization(name)
        if parametrization is not None:
            return parametrization()
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if any(name in self.__dict__.get(key, ()) for key in ("_parameters", "_buffers", "_modules")):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}")
        self._stores(name)
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name, value):
        """Register a tensor that is saved in the state dict and moved by ``to`` but not trained."""
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(value).__name__}")
        self._stores(name)
        self._forget(name, keep=self._buffers)
        self._buffers[name] = value

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got {type(module).__name__}")
        self._stores(name)
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    # -- traversal ---------------------------------------------------------------------------------
    def named_children(self):
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo=None, prefix=""):
        """This module and every descendant, each once, in definition order (pre-order)."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def _named_members(self, store, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True):
        """(name, Parameter) pairs; a parameter shared by two layers is listed once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True):
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def apply(self, fn):
        """Call ``fn`` on every child (recursively), then on this module; returns self.

        ``model.apply(mg.nn.init.dcgan_init)`` initialises a DCGAN as the paper prescribes.
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- state -------------------------------------------------------------------------------------
    def _state_tensors(self, prefix=""):
        """Every parameter and buffer by state-dict key, in PyTorch's order: a module's own
        parameters, then its buffers, then each child's, depth first."""
        for name, param in self._parameters.items():
            if param is not None:
                yield prefix + name, param
        for name, buf in self._buffers.items():
            if buf is not None:
                yield prefix + name, buf
        for name, child in self.named_children():
            yield from child._state_tensors(f"{prefix}{name}.")

    def state_dict(self):
        """Parameters and buffers as NumPy arrays (copied to the CPU), keyed as PyTorch keys them."""
        return {key: np.array(backend.to_device(t.data, "cpu"), copy=True) for key, t in self._state_tensors()}

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays (or Tensors) from ``state_dict`` into the parameters and buffers, in place.

        Each keeps its dtype and device. Every problem is reported at once, and nothing is copied if
        there is one: a shape mismatch always fails; a missing or unexpected key fails when
        ``strict``. Returns ``LoadResult(missing_keys, unexpected_keys)``. A batch norm's
        ``num_batches_tracked`` may be absent (older PyTorch state dicts lack it); it then keeps its
        value, as PyTorch does.
        """
        own = dict(self._state_tensors())
        missing = [key for key in own if key not in state_dict and key.rsplit(".", 1)[-1] != "num_batches_tracked"]
        unexpected = [key for key in state_dict if key not in own]
        problems = []
        for key, target in own.items():
            if key in state_dict:
                shape = tuple(_to_array(state_dict[key]).shape)
                if shape != tuple(target.shape):
                    problems.append(f"{key}: shape {shape} in the state dict, {tuple(target.shape)} in the model")
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if problems:
            raise ValueError(f"load_state_dict: cannot load into {type(self).__name__}: " + "; ".join(problems))
        for key, target in own.items():
            if key in state_dict:
                target.data[...] = backend.to_device(_to_array(state_dict[key]), target.device)
                target._bump_version()
        return LoadResult(missing, unexpected)

    # -- modes, devices, gradients -------------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (batch statistics in batch norm, dropout on) for this module and its children."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: batch norm uses its running statistics, dropout is off."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient tracking of every parameter (freeze D while G trains, for example)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Drop every parameter's gradient (``grad = None``), or with ``set_to_none=False`` fill it with
        zeros, as PyTorch's ``Module.zero_grad``."""
        zero_grads(self.parameters(), set_to_none)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=0):
        return self.to(f"cuda:{device}" if isinstance(device, int) else device)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def to(self, device=None, dtype=None):
        """Move parameters and buffers (and gradients) to ``device`` and/or cast floating ones to
        ``dtype``, in place; the Parameter objects stay the same. ``to(np.float64)`` casts."""
        if device is not None and not isinstance(device, str):
            device, dtype = None, device
        device = None if device is None else backend.parse_device(device)
        dtype = None if dtype is None else np.dtype(dtype)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"to: dtype must be floating point, got {dtype}")

        def convert(array):
            if dtype is not None and array.dtype.kind == "f":
                array = array.astype(dtype, copy=False)
            if device is not None:
                with backend.device_context(device):
                    array = backend.to_device(array, device)
            return array

        seen = set()
        for _, t in self._state_tensors():
            if id(t) in seen:
                continue
            seen.add(id(t))
            t.data = convert(t.data)
            t._bump_version()
            if t.grad is not None:
                t.grad = Tensor._wrap(convert(t.grad.data))
        return self

    # -- calling and printing ----------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, args)`` before every ``forward``, in registration order; a hook that
        returns something other than None replaces the positional arguments (a tuple as it is, any
        other value as a 1-tuple), as in PyTorch. Keyword arguments are passed through untouched.
        Returns a handle whose ``remove()`` unregisters the hook."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks:
            # A snapshot of the hooks, so that a hook may remove itself (or another) while they run.
            for hook in tuple(self._forward_pre_hooks.values()):
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        return self.forward(*args, **kwargs)

    def extra_repr(self):
        """The layer's settings inside the parentheses of its repr (subclasses override)."""
        return ""

    def __repr__(self):
        lines = self.extra_repr().split("\n") if self.extra_repr() else []
        children = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.named_children()]
        name = type(self).__name__
        if len(lines) == 1 and not children:
            return f"{name}({lines[0]})"
        body = lines + children
        return f"{name}(" + ("\n  " + "\n  ".join(body) + "\n" if body else "") + ")"
