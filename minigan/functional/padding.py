"""Padding: ``pad`` as ``torch.nn.functional.pad``, with modes constant, reflect, replicate, circular.

``pad`` lists (before, after) amounts from the last dim backwards: (left, right) for the last dim,
then (top, bottom) for the one before, and so on. Along one dim of size n padded by (l, r), output
index j (0 <= j < n + l + r) reads, with i = j - l its position relative to the input,

    constant   x[i] if 0 <= i < n, else value
    reflect    x[|i|] for i < 0, x[2 (n - 1) - i] for i >= n   (mirrored about the edge, which is
               not repeated: l, r < n)
    replicate  x[clip(i, 0, n - 1)]
    circular   x[i mod n]   (l, r <= n: wraps around at most once)

A negative amount crops. PyTorch's order is kept where it matters: reflect and replicate read their
borders from the whole input and then crop; circular crops first and wraps what is left around (so
its positive amounts may be at most the size left after the crop). For constant the order makes no
difference.

Every such map is linear in x (constant's fill aside), and separable: one map per dim. Its adjoint,
``PadGrad``, takes the centre of the gradient and folds each border back onto the input positions it
was read from:

    constant   nothing to fold (the fill depends on no input)
    reflect    the border flipped and added onto input indices 1..l and n-1-r..n-2
    replicate  the border summed onto index 0 and n - 1
    circular   the border added onto the opposite end (left onto n-l..n-1, right onto 0..r-1)

and the adjoint of a crop is the zero padding that puts the cropped positions back. PadGrad's own
adjoint is the pad again, so gradients of gradients work to any order.
"""
from minigan import backend
from minigan.function import Function
from minigan.functional.arguments import is_int, is_number
from minigan.functional.shape import as_tensor

MODES = ("constant", "reflect", "replicate", "circular")
_XP_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}  # NumPy and CuPy call them so


def _window(shape, margins):
    """The slices that drop ``margins`` ((before, after) per dim) from an array of ``shape``."""
    return tuple(slice(a, n - b) for n, (a, b) in zip(shape, margins))


def _along(axis, index):
    return (slice(None),) * axis + (index,)


def _split(widths):
    """(grow, crop): the positive and the negative parts of ``widths``, each as non-negative amounts."""
    return (tuple((max(l, 0), max(r, 0)) for l, r in widths),
            tuple((max(-l, 0), max(-r, 0)) for l, r in widths))


def _crops_first(mode):
    # circular wraps the cropped input around; reflect and replicate read the whole input's border
    return mode in ("constant", "circular")


def _pad_array(x, widths, mode, value):
    xp = backend.get_array_module(x)
    grow, crop = _split(widths)

    def grown(a):
        if not any(l or r for l, r in grow):
            return a
        if mode == "constant":
            return xp.pad(a, grow, mode="constant", constant_values=value)
        return xp.pad(a, grow, mode=_XP_MODES[mode])

    if _crops_first(mode):
        return grown(x[_window(x.shape, crop)])
    y = grown(x)
    return y[_window(y.shape, crop)]


def _fold(g, grow, mode):
    """The adjoint of padding by ``grow`` (non-negative amounts): g's centre plus its folded borders."""
    xp = backend.get_array_module(g)
    if mode == "constant":
        return g[_window(g.shape, grow)]
    for axis, (l, r) in enumerate(grow):
        if not (l or r):
            continue
        n = g.shape[axis] - l - r
        centre = g[_along(axis, slice(l, l + n))].copy()  # a copy: the borders are added into it
        before, after = g[_along(axis, slice(0, l))], g[_along(axis, slice(l + n, l + n + r))]
        if mode == "reflect":
            centre[_along(axis, slice(1, l + 1))] += xp.flip(before, axis=axis)
            centre[_along(axis, slice(n - 1 - r, n - 1))] += xp.flip(after, axis=axis)
        elif mode == "replicate":
            centre[_along(axis, slice(0, 1))] += before.sum(axis=axis, keepdims=True)
            centre[_along(axis, slice(n - 1, n))] += after.sum(axis=axis, keepdims=True)
        else:  # circular
            centre[_along(axis, slice(n - l, n))] += before
            centre[_along(axis, slice(0, r))] += after
        g = centre
    return g


def _embed(g, crop, shape):
    """The adjoint of cropping ``crop`` off an array of ``shape``: g put back among zeros."""
    if not any(a or b for a, b in crop):
        return g
    out = backend.get_array_module(g).zeros(shape, dtype=g.dtype)
    out[_window(shape, crop)] = g
    return out


def _pad_adjoint(gy, widths, mode, in_shape):
    grow, crop = _split(widths)
    if _crops_first(mode):
        return _embed(_fold(gy, grow, mode), crop, in_shape)
    padded = tuple(n + a + b for n, (a, b) in zip(in_shape, grow))
    return _fold(_embed(gy, crop, padded), grow, mode)


class Pad(Function):
    """y = pad(x) with ``widths``, one (before, after) pair per dim of x (all of them, zeros included)."""

    def __init__(self, widths, mode, value):
        self.widths, self.mode, self.value = widths, mode, value

    def forward(self, x):
        self.in_shape = x.shape
        return _pad_array(x, self.widths, self.mode, self.value)

    def backward(self, gy):
        return PadGrad(self.widths, self.mode, self.in_shape).apply(gy)


class PadGrad(Function):
    """gx = P^T gy, the adjoint of Pad's linear part P (see the module doc): linear too, with adjoint P."""

    def __init__(self, widths, mode, in_shape):
        self.widths, self.mode, self.in_shape = widths, mode, in_shape

    def forward(self, gy):
        return _pad_adjoint(gy, self.widths, self.mode, self.in_shape)

    def backward(self, ggx):
        return Pad(self.widths, self.mode, 0).apply(ggx)


def _widths(pad, shape):
    """``pad`` (PyTorch's order: last dim first) as one (before, after) pair per dim, first dim first."""
    if not isinstance(pad, (tuple, list)) or not all(is_int(p) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r} (input shape {shape})")
    if len(pad) % 2:
        raise ValueError(f"pad: pad must have an even length, (before, after) for each padded dim from the "
                         f"last one back, got {tuple(pad)} of length {len(pad)} (input shape {shape})")
    k = len(pad) // 2
    if k > len(shape):
        raise ValueError(f"pad: pad {tuple(pad)} of length {len(pad)} pads {k} dims, but the input of shape "
                         f"{shape} has {len(shape)} (pad may be at most twice as long as the input has dims)")
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in reversed(range(k))]
    return ((0, 0),) * (len(shape) - k) + tuple(pairs)


def _check_sizes(widths, k, mode, shape):
    """Refuse what PyTorch refuses or cannot compute in the last ``k`` dims, naming the dim and its size."""
    for axis in range(len(shape) - k, len(shape)):
        (l, r), n = widths[axis], shape[axis]
        where = f"of dim {axis} (size {n}; input shape {shape})"
        if _crops_first(mode) and n + min(l, 0) + min(r, 0) < 0:
            raise ValueError(f"pad: padding ({l}, {r}) {where} crops more than the dim holds")
        if n + l + r < 0:
            raise ValueError(f"pad: padding ({l}, {r}) {where} would leave {n + l + r} elements")
        if mode in ("reflect", "replicate") and n == 0 and max(l, r) > 0:
            raise ValueError(f"pad: {mode} padding ({l}, {r}) {where} has no element to copy from")
        if mode == "reflect" and 0 < n <= max(l, r):
            raise ValueError(f"pad: reflect padding ({l}, {r}) {where} must be less than the dim's size")
        if mode == "circular":
            left = n + min(l, 0) + min(r, 0)  # what remains after cropping, which the wrap repeats
            if max(l, r) > left:
                kept = f"the {left} elements left after cropping" if left != n else "the dim's size"
                raise ValueError(f"pad: circular padding ({l}, {r}) {where} may wrap around at most once: "
                                 f"each amount must be at most {kept}")


def pad(x, pad, mode="constant", value=0.0):
    """Pad (or, with negative amounts, crop) the last len(pad) / 2 dims of x, as
    ``torch.nn.functional.pad``.

    ``pad`` = (left, right) for the last dim, then (top, bottom) for the one before, and so on, at
    most two per dim of x. Each padded dim of size n becomes n + before + after; the module doc gives
    each mode's definition. As in PyTorch:

    - constant pads any number of trailing dims with ``value`` (a Python number: it takes x's dtype);
    - reflect, replicate and circular pad the last 1, 2 or 3 dims of an input with one or two more
      dims than that (an unbatched (C, *) or batched (N, C, *) input) and take no ``value``;
    - reflect needs each amount below the dim's size, circular at most the dim's size (after any crop).

    The gradient is the exact adjoint (``PadGrad``), itself differentiable.
    """
    x = as_tensor(x)
    shape = tuple(x.shape)
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(map(repr, MODES))}, got {mode!r} (input shape {shape})")
    if not is_number(value):
        raise TypeError(f"pad: value must be a number, got {value!r} (input shape {shape})")
    widths = _widths(pad, shape)
    if mode != "constant":
        if value != 0:
            raise ValueError(f"pad: mode {mode!r} fills from the input and takes no value, got value={value!r} "
                             f"(input shape {shape})")
        k = len(pad) // 2
        if k > 3 or len(shape) not in (k + 1, k + 2):
            raise ValueError(f"pad: mode {mode!r} pads the last 1, 2 or 3 dims of an input with 1 or 2 more dims "
                             f"((C, *) or (N, C, *)): pad of length {len(pad)} needs a {k + 1}-D or {k + 2}-D "
                             f"input, got shape {shape}")
    _check_sizes(widths, len(pad) // 2, mode, shape)
    if not any(l or r for l, r in widths):
        return x
    return Pad(widths, mode, value).apply(x)
