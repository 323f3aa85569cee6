"""Padding layers: ZeroPad2d, ConstantPad2d, ReflectionPad2d, ReplicationPad2d, CircularPad2d, as
``torch.nn``'s, over ``minigan.functional.pad``.

Each pads the last two dims, (N, C, H, W) -> (N, C, H + top + bottom, W + left + right) (reflect,
replicate and circular also take an unbatched (C, H, W); constant any input of at least 2 dims).
``padding`` is an int (the same on all four sides) or a 4-tuple (left, right, top, bottom), kept as a
4-tuple as PyTorch keeps it, so ``repr`` is PyTorch's. No parameters, no state.
"""
from minigan.functional.arguments import is_int
from minigan.functional.padding import pad
from minigan.nn.module import Module


def _quadruple(padding, layer):
    if is_int(padding):
        return (int(padding),) * 4
    if isinstance(padding, (tuple, list)) and len(padding) == 4 and all(is_int(p) for p in padding):
        return tuple(int(p) for p in padding)
    raise TypeError(f"{layer}: padding must be an int or a 4-tuple of ints (left, right, top, bottom), "
                    f"got {padding!r}")


class _Pad2d(Module):
    mode = None

    def __init__(self, padding):
        super().__init__()
        self.padding = _quadruple(padding, type(self).__name__)

    def forward(self, x):
        return pad(x, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class ConstantPad2d(_Pad2d):
    """Pad with ``value``; negative amounts crop."""

    mode = "constant"

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, x):
        return pad(x, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(ConstantPad2d):
    """Pad with zeros: the padding of ``nn.Conv2d(padding=p)``, as a layer of its own."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad2d(_Pad2d):
    """Pad with the mirror image about each edge, the edge itself not repeated (each amount < the size)."""

    mode = "reflect"


class ReplicationPad2d(_Pad2d):
    """Pad by repeating each edge pixel."""

    mode = "replicate"


class CircularPad2d(_Pad2d):
    """Pad by wrapping around (each amount at most the size): the image seen as a torus."""

    mode = "circular"
