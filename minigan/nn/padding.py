"""Padding layers, as ``torch.nn``'s, over ``minigan.functional.pad``: ZeroPad, ConstantPad,
ReflectionPad, ReplicationPad and CircularPad, each in 1-D, 2-D and 3-D.

The 1-D layers pad the last dim, (N, C, L) -> (N, C, L + left + right); the 2-D ones the last two,
(N, C, H, W) -> (N, C, H + top + bottom, W + left + right); the 3-D ones the last three,
(N, C, D, H, W) -> (N, C, D + front + back, H + top + bottom, W + left + right). Reflect, replicate and
circular also take an unbatched (C, L), (C, H, W) or (C, D, H, W); constant any input with at least as
many dims as it pads. ``padding`` is an int (the same on every side) or a tuple (left, right) in 1-D,
(left, right, top, bottom) in 2-D, (left, right, top, bottom, front, back) in 3-D, kept as that tuple
as PyTorch keeps it, so ``repr`` is PyTorch's. Negative amounts crop, where ``F.pad`` allows them. No
parameters, no state.
"""
from minigan.functional.arguments import is_int
from minigan.functional.padding import pad
from minigan.nn.module import Module

_SIDES = ("left", "right", "top", "bottom", "front", "back")
_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


class _Pad(Module):
    """The shared implementation; subclasses give ``mode`` and ``dims``, the number of dims padded."""

    mode, dims = None, None

    def __init__(self, padding):
        super().__init__()
        n = 2 * self.dims
        if is_int(padding):
            padding = (padding,) * n
        elif not (isinstance(padding, (tuple, list)) and len(padding) == n and all(is_int(p) for p in padding)):
            raise TypeError(f"{type(self).__name__}: padding must be an int or a {n}-tuple of ints "
                            f"({', '.join(_SIDES[:n])}), got {padding!r}")
        self.padding = tuple(int(p) for p in padding)

    def forward(self, x):
        # Checked here too, so that the error names the layer; F.pad would refuse the same shapes.
        if x.ndim not in (self.dims + 1, self.dims + 2):
            dims = _SPATIAL[self.dims]
            raise ValueError(f"{type(self).__name__}: expected input (N, C, {dims}) or (C, {dims}), "
                             f"got shape {tuple(x.shape)}")
        return pad(x, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPad(_Pad):
    """Pad with ``value``; negative amounts crop."""

    mode = "constant"

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, x):
        return pad(x, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _Zero:
    """Pad with zeros: a ConstantPad whose value is fixed (as in PyTorch, ZeroPadNd is a ConstantPadNd)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ConstantPad1d(_ConstantPad):
    """Constant padding (``value``) of the last dim; padding (left, right)."""

    dims = 1


class ConstantPad2d(_ConstantPad):
    """Constant padding (``value``) of the last two dims; padding (left, right, top, bottom)."""

    dims = 2


class ConstantPad3d(_ConstantPad):
    """Constant padding (``value``) of the last three dims; padding (left, right, top, bottom, front, back)."""

    dims = 3


class ZeroPad1d(_Zero, ConstantPad1d):
    """Zero padding of the last dim, (N, C, L) or (C, L); padding (left, right)."""


class ZeroPad2d(_Zero, ConstantPad2d):
    """Pad with zeros: the padding of ``nn.Conv2d(padding=p)``, as a layer of its own."""


class ZeroPad3d(_Zero, ConstantPad3d):
    """Zero padding of the last three dims, (N, C, D, H, W) or (C, D, H, W); padding (left, right, top,
    bottom, front, back)."""


class _ReflectionPad(_Pad):
    """Pad with the mirror image about each edge, the edge itself not repeated (each amount < the size)."""

    mode = "reflect"


class _ReplicationPad(_Pad):
    """Pad by repeating each edge element."""

    mode = "replicate"


class _CircularPad(_Pad):
    """Pad by wrapping around (each amount at most the size): in 2-D, the image seen as a torus."""

    mode = "circular"


class ReflectionPad1d(_ReflectionPad):
    """Reflection padding of the last dim, (N, C, L) or (C, L); padding (left, right)."""

    dims = 1


class ReflectionPad2d(_ReflectionPad):
    """Reflection padding of the last two dims, (N, C, H, W) or (C, H, W); padding (left, right, top, bottom)."""

    dims = 2


class ReflectionPad3d(_ReflectionPad):
    """Reflection padding of the last three dims, (N, C, D, H, W) or (C, D, H, W); padding (left, right, top,
    bottom, front, back)."""

    dims = 3


class ReplicationPad1d(_ReplicationPad):
    """Replication padding of the last dim, (N, C, L) or (C, L); padding (left, right)."""

    dims = 1


class ReplicationPad2d(_ReplicationPad):
    """Replication padding of the last two dims, (N, C, H, W) or (C, H, W); padding (left, right, top, bottom)."""

    dims = 2


class ReplicationPad3d(_ReplicationPad):
    """Replication padding of the last three dims, (N, C, D, H, W) or (C, D, H, W); padding (left, right, top,
    bottom, front, back)."""

    dims = 3


class CircularPad1d(_CircularPad):
    """Circular padding of the last dim, (N, C, L) or (C, L); padding (left, right)."""

    dims = 1


class CircularPad2d(_CircularPad):
    """Circular padding of the last two dims, (N, C, H, W) or (C, H, W); padding (left, right, top, bottom)."""

    dims = 2


class CircularPad3d(_CircularPad):
    """Circular padding of the last three dims, (N, C, D, H, W) or (C, D, H, W); padding (left, right, top,
    bottom, front, back)."""

    dims = 3
