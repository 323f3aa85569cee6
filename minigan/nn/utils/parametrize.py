"""Parametrizations: a parameter or buffer of a module seen through functions, as
``torch.nn.utils.parametrize``.

``register_parametrization(module, "weight", P)`` moves the tensor to
``module.parametrizations.weight.original`` (the same Parameter object, so an optimiser built before
still trains it) and from then on ``module.weight`` is ``P(original)``, recomputed with minigan's
differentiable ops on every read, so gradients of any order reach ``original``. Registering more
parametrizations on the same name chains them: ``P1(P0(original))``. State-dict keys are PyTorch's:
``parametrizations.weight.original``, ``parametrizations.weight.0._u``.

If P has a ``right_inverse(X)``, it gives the ``original`` that P maps to X: it is applied to the
tensor at registration, and ``module.weight = X`` sets ``original`` through it (through every
parametrization's, last first). A ``right_inverse`` may return a sequence of tensors, which become
``original0``, ``original1``, ... and the arguments of P.

How ``module.weight`` is reached: PyTorch swaps the module's class for a generated subclass that has a
``weight`` property. minigan's Module already resolves its parameters, buffers and children by name in
its own ``__getattr__`` and ``__setattr__``, so a parametrized tensor is one more name resolved there
(``Module._parametrization``): a read calls ``module.parametrizations.weight``, an assignment calls its
``right_inverse``. The module keeps its class, so there is no class made per instance, ``type(m)``,
``isinstance`` and pickling are unchanged and deep copies need nothing special; the one visible
difference is the repr, ``Linear(...)`` where PyTorch prints ``ParametrizedLinear(...)``.
"""
from contextlib import contextmanager

from minigan import backend
from minigan.function import no_grad
from minigan.nn.container import ModuleDict, ModuleList
from minigan.nn.module import Parameter
from minigan.tensor import Tensor

__all__ = ["cached", "ParametrizationList", "register_parametrization", "is_parametrized",
           "remove_parametrizations"]

_cache_depth = 0  # how many cached() blocks are open
_cache = {}  # ParametrizationList -> its value, while a cached() block is open


@contextmanager
def cached():
    """Within this block each parametrized tensor is computed once, on its first read, and that Tensor
    (with its graph) is returned by every later read; the values are dropped when the outermost block
    ends. Useful when a forward reads a parametrized weight several times (an RNN cell in a loop,
    weights shared between layers). Blocks may nest."""
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


def _register(module, name, tensor):
    """Register ``tensor`` as a parameter of ``module`` if it is a Parameter, else as a buffer."""
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _assign(tensor, value):
    """Give ``tensor`` the values and shape of ``value`` in place, as torch's ``set_`` does, but with a
    copy on ``tensor``'s device: the Parameter object an optimiser holds stays the one trained, and it
    never aliases the caller's array."""
    if value is not tensor:
        tensor.data = backend.to_device(value.data, tensor.device).copy()
        tensor._bump_version()


def describe_tensors(module):
    """What an error about a missing tensor name lists: the module's own tensors and their shapes."""
    names = [f"{name!r} {tuple(t.shape)}" for store in (module._parameters, module._buffers)
             for name, t in store.items() if t is not None]
    if is_parametrized(module):
        names += [f"{name!r} (parametrized)" for name in module.parametrizations]
    return "its tensors: " + (", ".join(names) or "none")


def _shape_and_dtype(tensor):
    return f"shape {tuple(tensor.shape)} and dtype {tensor.dtype}"


class ParametrizationList(ModuleList):
    """``module.parametrizations[name]``: the parametrizations of one tensor as children "0", "1", ...
    and the unconstrained tensor they start from, ``original`` (or ``original0``, ``original1``, ...
    when the first ``right_inverse`` returns a sequence), a parameter if the tensor was one, else a
    buffer. Made by ``register_parametrization``.

    Calling it gives the parametrized tensor P_k(...P_1(P_0(original))), or within ``cached()`` the one
    computed first; ``right_inverse(X)`` sets the originals to what the parametrizations map to X.
    ``new`` is ``original`` after the right_inverse of ``modules`` (a Tensor, written into ``original``,
    or a sequence of Tensors); ``unsafe`` records that the parametrizations may change shape or dtype.
    """

    def __init__(self, modules, original, new, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            _assign(original, new)
            _register(self, "original", original)
        else:
            for i, tensor in enumerate(new):
                if isinstance(original, Parameter):
                    tensor = Parameter(tensor, requires_grad=original.requires_grad)
                _register(self, f"original{i}", tensor)

    def originals(self):
        """The tensors the first parametrization takes, in order."""
        if self.is_tensor:
            return (self.original,)
        return tuple(getattr(self, f"original{i}") for i in range(self.ntensors))

    def forward(self):
        if _cache_depth:
            if self not in _cache:
                _cache[self] = self._compute()
            return _cache[self]
        return self._compute()

    def _compute(self):
        first, *rest = self
        x = first(*self.originals())
        for parametrization in rest:
            x = parametrization(x)
        return x

    def right_inverse(self, value):
        """Set the originals so that the parametrizations give ``value`` (``module.weight = value``),
        through every parametrization's ``right_inverse``, last registered first, without a graph."""
        with no_grad():
            for parametrization in reversed(list(self)):
                inverse = getattr(parametrization, "right_inverse", None)
                if inverse is None:
                    raise RuntimeError(f"ParametrizationList.right_inverse: the parametrization "
                                       f"{type(parametrization).__name__} has no right_inverse, so the tensor "
                                       "cannot be assigned")
                value = inverse(value)
        values = (value,) if self.is_tensor else value
        if isinstance(values, Tensor) or len(values) != self.ntensors:
            raise ValueError(f"ParametrizationList.right_inverse: right_inverse gave {type(value).__name__}, not "
                             f"the {self.ntensors} tensor(s) it gave at registration")
        for original, new in zip(self.originals(), values):
            if not isinstance(new, Tensor) or new.dtype != original.dtype:
                raise ValueError(f"ParametrizationList.right_inverse: right_inverse gave "
                                 f"{_shape_and_dtype(new) if isinstance(new, Tensor) else type(new).__name__}, but "
                                 f"the original has dtype {original.dtype}")
            _assign(original, new)


def _lenient_right_inverse(parametrization, value):
    """``parametrization.right_inverse(value)``; ``value`` itself if it has none or it raises
    NotImplementedError (the identity is then assumed, as PyTorch does at registration)."""
    inverse = getattr(parametrization, "right_inverse", None)
    if inverse is None:
        return value
    try:
        return inverse(value)
    except NotImplementedError:
        return value


def _check_like(where, what, value, like):
    """A parametrization must keep the tensor's shape and dtype unless ``unsafe=True``."""
    if not isinstance(value, Tensor):
        raise ValueError(f"{where}: {what} must return a Tensor, got {type(value).__name__}")
    if value.shape != like.shape or value.dtype != like.dtype:
        raise ValueError(f"{where}: {what} gives {_shape_and_dtype(value)} for a tensor of {_shape_and_dtype(like)}; "
                         "a parametrization may change neither unless unsafe=True")


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Parametrize the parameter or buffer ``tensor_name`` of ``module`` by the Module
    ``parametrization``, in place; returns ``module``.

    The first registration on a name moves the tensor to ``module.parametrizations[tensor_name]
    .original`` after applying ``parametrization.right_inverse`` (if it has one) to it; later ones chain
    after the earlier parametrizations. Reading ``module.<tensor_name>`` then computes the
    parametrized tensor, differentiably (``cached()`` computes it once per block). The
    parametrization takes the module's training mode. Unless ``unsafe``, the parametrization is run
    once here to check that it keeps the tensor's shape and dtype (and so is its right_inverse when
    chained); a right_inverse that returns one tensor must keep its dtype and device in any case.
    """
    where = f"register_parametrization: {type(module).__name__}.{tensor_name}"
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            with no_grad():
                current = getattr(module, tensor_name)
                value = parametrization(current)
                _check_like(where, type(parametrization).__name__, value, current)
                _check_like(where, f"{type(parametrization).__name__}.right_inverse",
                            _lenient_right_inverse(parametrization, value), current)
        module.parametrizations[tensor_name].append(parametrization)
        module.parametrizations[tensor_name].unsafe |= unsafe
        return module

    original = module._parameters.get(tensor_name, module._buffers.get(tensor_name))
    if original is None:
        raise ValueError(f"{where}: {type(module).__name__} has no parameter, buffer or parametrized tensor "
                         f"tensor_name={tensor_name!r} ({describe_tensors(module)})")
    with no_grad():
        new = _lenient_right_inverse(parametrization, original)
        if isinstance(new, Tensor):
            if new.dtype != original.dtype or new.device != original.device:
                raise ValueError(f"{where}: {type(parametrization).__name__}.right_inverse gives dtype {new.dtype} "
                                 f"on {new.device} for a tensor of dtype {original.dtype} on {original.device}; "
                                 "one tensor from right_inverse must keep both")
        elif not isinstance(new, (list, tuple)) or not all(isinstance(t, Tensor) for t in new):
            raise ValueError(f"{where}: {type(parametrization).__name__}.right_inverse must return a Tensor or a "
                             f"sequence of Tensors, got {type(new).__name__}")
        if not unsafe:
            _check_like(where, type(parametrization).__name__,
                        parametrization(*((new,) if isinstance(new, Tensor) else new)), original)
    parametrizations = ParametrizationList([parametrization], original, new, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = parametrizations
    return module


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has a parametrized tensor named ``tensor_name`` (any, when None)."""
    parametrizations = module._modules.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo ``register_parametrization`` for ``tensor_name``: it becomes a plain parameter (or buffer)
    again, holding the parametrized value (``leave_parametrized=True``, computed once more, without a
    graph) or the unparametrized ``original`` (False, possible only with a single original). With one
    original, that same Parameter object is kept, so an optimiser still trains it. Returns ``module``.
    """
    if not is_parametrized(module, tensor_name):
        present = list(module.parametrizations) if is_parametrized(module) else []
        raise ValueError(f"remove_parametrizations: {type(module).__name__} has no parametrization on "
                         f"tensor_name={tensor_name!r} (parametrized: {present or 'none'})")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                _assign(original, getattr(module, tensor_name))
    else:
        if not leave_parametrized:
            raise ValueError(f"remove_parametrizations: {type(module).__name__}.{tensor_name} is parametrized by "
                             f"{parametrizations.ntensors} tensors, so it cannot be left unparametrized "
                             "(leave_parametrized=False)")
        with no_grad():
            value = getattr(module, tensor_name)
        first = parametrizations.original0
        original = Parameter(value, requires_grad=first.requires_grad) if isinstance(first, Parameter) else value
    del module.parametrizations[tensor_name]
    if not is_parametrized(module):
        del module.parametrizations
    _register(module, tensor_name, original)
    return module
