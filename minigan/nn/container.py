"""Sequential: modules applied one after another, named "0", "1", ... (or by an ordered dict)."""
from minigan.nn.module import Module


class Sequential(Module):
    """``Sequential(m0, m1, ...)`` or ``Sequential({"name": module, ...})``; indexable like a list.

    ``seq[i]`` is a module (negative indices count from the end); ``seq[a:b]`` a Sequential of those
    modules under their original names, as in PyTorch. ``seq[i] = module`` replaces the module under
    its name (swapping a layer in a built model); ``del seq[i]`` removes it and names the rest 0, 1, ...
    again (given names too), as PyTorch does.
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
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))
        return self._modules[self._name(index)]

    def __setitem__(self, index, module):
        self.add_module(self._name(index), module)

    def __delitem__(self, index):
        del self._modules[self._name(index)]
        modules = list(self._modules.values())
        self._modules.clear()
        self._modules.update((str(i), m) for i, m in enumerate(modules))

    def _name(self, index):
        names = list(self._modules)
        try:
            return names[index]
        except IndexError:
            raise IndexError(f"Sequential: index {index} is out of range for {len(names)} modules") from None
        except TypeError:
            raise TypeError(f"Sequential: index must be an int or a slice, got {index!r}") from None

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x
