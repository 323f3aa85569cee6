"""Containers: Sequential (modules applied one after another), ModuleList (modules held in a list, called
by the caller's own forward), ModuleDict (modules held by name), ParameterList and ParameterDict (the same
for parameters) and Identity (the empty layer), with PyTorch's names, keys and reprs.

Sequential, ModuleList and ParameterList name their entries "0", "1", ... (Sequential may also take names
from an ordered dict), so their state-dict keys are PyTorch's: "0.weight", "main.3.running_var",
"scales.2"; a ModuleDict's and a ParameterDict's keys are their names: "heads.real.weight", "codes.red".
"""
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from minigan.nn.module import Module, Parameter
from minigan.tensor import Tensor


class _Indexed(Module):
    """What Sequential and ModuleList share: ``len``, iteration, and ``c[i]`` by position (negative
    indices count from the end) for replacing and deleting as well as reading."""

    def _name(self, index):
        names = list(self._modules)
        try:
            return names[index]
        except IndexError:
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for {len(names)} modules") from None
        except TypeError:
            raise TypeError(f"{type(self).__name__}: index must be an int or a slice, got {index!r}") from None

    def _renumber(self, modules):
        self._modules.clear()
        self._modules.update((str(i), m) for i, m in enumerate(modules))

    def __setitem__(self, index, module):
        # add_module keeps the name's place in the order (see Module._forget).
        self.add_module(self._name(index), module)

    def __delitem__(self, index):
        names = list(self._modules)[index] if isinstance(index, slice) else [self._name(index)]
        for name in names:
            del self._modules[name]
        self._renumber(list(self._modules.values()))  # what is left is named 0, 1, ... again, as PyTorch

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


class Sequential(_Indexed):
    """``Sequential(m0, m1, ...)`` or ``Sequential({"name": module, ...})``; indexable like a list.

    ``seq[i]`` is a module (negative indices count from the end); ``seq[a:b]`` a Sequential of those
    modules under their original names, as in PyTorch. ``seq[i] = module`` replaces the module under
    its name, in its place (swapping a layer in a built model); ``del seq[i]`` removes it and names the
    rest 0, 1, ... again (given names too), as PyTorch does.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(dict(list(self._modules.items())[index]))
        return self._modules[self._name(index)]

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_Indexed):
    """Modules held in a list and registered as children "0", "1", ..., so that ``parameters()``,
    ``state_dict()``, ``to()`` and ``train()`` see them; as ``torch.nn.ModuleList``.

    ``ml[i]``, ``ml[i] = module``, ``del ml[i]`` (the rest renumbered), ``len``, iteration, ``append``,
    ``extend``, ``insert`` and ``+=``; ``ml[a:b]`` is a new ModuleList of those modules numbered from
    0, as in PyTorch. It has no forward: the owning module decides how its modules are called.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[self._name(index)]

    def extend(self, modules):
        try:
            modules = list(modules)
        except TypeError:
            raise TypeError(f"ModuleList.extend: expected an iterable of modules, got {type(modules).__name__}") \
                from None
        for module in modules:
            self.append(module)
        return self

    def __iadd__(self, modules):
        return self.extend(modules)

    def insert(self, index, module):
        """Put ``module`` before position ``index`` (list.insert's rule) and renumber."""
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.insert: module must be a Module, got {type(module).__name__}")
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def forward(self, *args, **kwargs):
        # PyTorch raises NotImplementedError here too; say what to do instead.
        raise NotImplementedError("ModuleList has no forward(): it only holds modules; iterate over it (or index "
                                  "it) in your own module's forward and call them")

    def __repr__(self):
        # As PyTorch: a run of neighbours with the same repr is printed once, "(0-2): 3 x ReLU()".
        entries = [(name, repr(module)) for name, module in self.named_children()]
        lines, i = [], 0
        while i < len(entries):
            j = i
            while j + 1 < len(entries) and entries[j + 1][1] == entries[i][1]:
                j += 1
            label = entries[i][0] if i == j else f"{entries[i][0]}-{entries[j][0]}"
            text = entries[i][1] if i == j else f"{j - i + 1} x {entries[i][1]}"
            lines.append(f"({label}): " + text.replace("\n", "\n  "))
            i = j + 1
        return f"{type(self).__name__}(" + ("\n  " + "\n  ".join(lines) + "\n" if lines else "") + ")"


class ModuleDict(Module):
    """Modules held by name in insertion order and registered as children under those names, as
    ``torch.nn.ModuleDict``: ``md["real"]`` (and ``md.real``), ``md[key] = module`` (in place when the
    key exists), ``del md[key]``, ``len``, ``in``, iteration over the keys, ``keys``, ``items``,
    ``values``, ``update``, ``pop`` and ``clear``.

    ``ModuleDict(modules)`` and ``update(modules)`` take a mapping (its order kept) or an iterable of
    (key, module) pairs. Keys are strings without dots, since they become state-dict key parts. It has
    no forward: the owning module picks the modules to call.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict: no module under key {key!r} (keys: {list(self._modules)})") from None

    def __setitem__(self, key, module):
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: key must be a non-empty string without '.', got {key!r}")
        self.add_module(key, module)

    def __delitem__(self, key):
        self.pop(key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def pop(self, key):
        module = self[key]  # a missing key raises the KeyError that lists the keys
        del self._modules[key]
        return module

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        """Add or replace modules from a mapping or an iterable of (key, module) pairs, in their order."""
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = modules.items()
        elif isinstance(modules, Iterable):
            pairs = [tuple(pair) if isinstance(pair, Iterable) else pair for pair in modules]
            for i, pair in enumerate(pairs):
                if not isinstance(pair, tuple) or len(pair) != 2:
                    raise ValueError(f"ModuleDict.update: element #{i} must be a (key, module) pair, got {pair!r}")
        else:
            raise TypeError(f"ModuleDict.update: expected a mapping or an iterable of (key, module) pairs, got "
                            f"{type(modules).__name__}")
        for key, module in pairs:
            self[key] = module


def _as_parameter(value):
    """A Tensor that is not a Parameter made one, sharing its memory, as PyTorch's parameter containers do;
    anything else (a Parameter, a Module, any other object) as it is."""
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) else value


def _entry_repr(key, value):
    """One line of a parameter container's repr, as PyTorch's: "(key): Parameter containing: [float32 of
    size 3x4]" (the device added when not the CPU), or the type of any other object."""
    if isinstance(value, Tensor):
        where = "" if value.device == "cpu" else f" ({value.device})"
        size = "x".join(str(n) for n in value.shape)
        return f"  ({key}): Parameter containing: [{value.dtype} of size {size}{where}]"
    return f"  ({key}): Object of type: {type(value).__name__}"


class ParameterList(Module):
    """Parameters held in a list and registered as "0", "1", ..., so that ``parameters()``,
    ``named_parameters()``, ``state_dict()`` and ``to()`` see them; as ``torch.nn.ParameterList``.

    ``ParameterList(values)``, ``pl[i]`` (negative indices count from the end), ``pl[i] = value``,
    ``len``, iteration, ``append``, ``extend`` and ``+=``; ``pl[a:b]`` is a new ParameterList holding the
    same parameters. A Tensor that is not a Parameter becomes one (sharing its memory); other objects are
    held as they are, not registered (a Module is registered as a child), as PyTorch does. Nothing is
    removed from it, as from PyTorch's. It cannot be called: the owning module's forward uses its entries.
    """

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _name(self, index):
        try:
            i = operator.index(index)
        except TypeError:
            raise TypeError(f"ParameterList: index must be an int or a slice, got {index!r}") from None
        if not -len(self) <= i < len(self):
            raise IndexError(f"ParameterList: index {i} is out of range for {len(self)} values")
        return str(i % len(self))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList(self[i] for i in range(*index.indices(len(self))))
        return getattr(self, self._name(index))

    def __setitem__(self, index, value):
        setattr(self, self._name(index), _as_parameter(value))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def append(self, value):
        setattr(self, str(len(self)), _as_parameter(value))
        self._size += 1
        return self

    def extend(self, values):
        # A Tensor is iterable (over its first axis), but is one value, never a list of them.
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError(f"ParameterList.extend: expected an iterable of values, got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values):
        return self.extend(values)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList cannot be called: it only holds parameters; use them (index it or "
                           "iterate over it) in your own module's forward")

    def extra_repr(self):
        return "\n".join(_entry_repr(i, value) for i, value in enumerate(self))


class ParameterDict(Module):
    """Parameters held by name in insertion order and registered under those names, so that
    ``parameters()``, ``named_parameters()``, ``state_dict()`` and ``to()`` see them; as
    ``torch.nn.ParameterDict``.

    ``pd[key]``, ``pd[key] = value`` (in place when the key exists), ``del pd[key]``, ``len``, ``in``,
    iteration over the keys, ``reversed``, ``keys``, ``items``, ``values``, ``get``, ``setdefault``,
    ``pop``, ``popitem`` (the last inserted), ``clear``, ``update``, ``copy`` (a new ParameterDict holding
    the same parameters), ``fromkeys``, and ``|``, ``|=``. A Tensor that is not a Parameter becomes one
    (sharing its memory); other objects are held as they are, not registered (a Module as a child).

    ``ParameterDict(values)`` and ``update(values)`` take a mapping or an iterable of (key, value) pairs.
    As in PyTorch, the order of an OrderedDict, a ParameterDict and pairs is kept, while a plain dict's
    keys are added in sorted order. Keys are strings without dots (they become state-dict key parts)
    that are not already attributes of the ParameterDict ("training", "keys", ...). A missing key is a
    KeyError (PyTorch raises AttributeError). It cannot be called.
    """

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}  # the keys in order: a dict, as values that are not Parameters live elsewhere
        if parameters is not None:
            self.update(parameters)

    def _check_key(self, key):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__} {key!r}")
        if key not in self._keys:
            if not key or "." in key:
                raise KeyError(f"ParameterDict: key must be a non-empty string without '.', got {key!r}")
            if hasattr(self, key):
                raise KeyError(f"ParameterDict: key {key!r} is taken by an attribute of ParameterDict; choose "
                               "another")

    def __getitem__(self, key):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__} {key!r}")
        if key not in self._keys:
            raise KeyError(f"ParameterDict: no value under key {key!r} (keys: {list(self._keys)})")
        return getattr(self, key)

    def __setitem__(self, key, value):
        self._check_key(key)
        setattr(self, key, _as_parameter(value))
        self._keys[key] = None

    def __delitem__(self, key):
        self[key]  # a missing key raises the KeyError that lists the keys
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((key, self[key]) for key in self._keys)

    def values(self):
        return (self[key] for key in self._keys)

    def get(self, key, default=None):
        return self[key] if key in self._keys else default

    def setdefault(self, key, default=None):
        if key not in self._keys:
            self[key] = default
        return self[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        if not self._keys:
            raise KeyError("ParameterDict.popitem: the ParameterDict is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def copy(self):
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with ``keys``, each holding ``default`` (the same object for all)."""
        return ParameterDict((key, default) for key in keys)

    def update(self, parameters):
        """Add or replace values from a mapping or an iterable of (key, value) pairs (see the class's
        docstring for the order)."""
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items(), key=lambda pair: pair[0])
        elif isinstance(parameters, Iterable) and not isinstance(parameters, Tensor):
            pairs = []
            for i, pair in enumerate(parameters):
                pair = tuple(pair) if isinstance(pair, Iterable) and not isinstance(pair, (str, Tensor)) else pair
                if not isinstance(pair, tuple) or len(pair) != 2:
                    raise ValueError(f"ParameterDict.update: element #{i} must be a (key, value) pair, got {pair!r}")
                pairs.append(pair)
        else:
            raise TypeError(f"ParameterDict.update: expected a mapping or an iterable of (key, value) pairs, got "
                            f"{type(parameters).__name__}")
        for key, value in pairs:
            self[key] = value

    def __or__(self, other):
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other):
        # dict | ParameterDict: a dict (other's type), its entries then ours, as in PyTorch.
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other):
        self.update(other)
        return self

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict cannot be called: it only holds parameters; use them (by key) in your "
                           "own module's forward")

    def extra_repr(self):
        return "\n".join(_entry_repr(key, value) for key, value in self.items())


class Identity(Module):
    """y = x, the input itself. Arguments are accepted and ignored, as ``torch.nn.Identity`` does, so it
    can stand in for any layer (``seq[i] = nn.Identity()``) without changing the call that built it."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x
