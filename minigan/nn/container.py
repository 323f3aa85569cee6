"""Containers: Sequential (modules applied one after another), ModuleList (modules held in a list, called
by the caller's own forward), ModuleDict (modules held by name) and Identity (the empty layer), with
PyTorch's names, keys and reprs.

Sequential and ModuleList name their modules "0", "1", ... (Sequential may also take names from an
ordered dict), so their state-dict keys are PyTorch's: "0.weight", "main.3.running_var"; a ModuleDict's
keys are its names: "heads.real.weight".
"""
from collections.abc import Iterable, Mapping

from minigan.nn.module import Module


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


class Identity(Module):
    """y = x, the input itself. Arguments are accepted and ignored, as ``torch.nn.Identity`` does, so it
    can stand in for any layer (``seq[i] = nn.Identity()``) without changing the call that built it."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x
