"""Shape ops: reshape, transpose, broadcast, sum_to, indexing, concat, stack, flatten.

These move data without arithmetic; each backward is the inverse movement, written with these same
ops, so it is differentiable again.
"""
from minigan import backend
from minigan.function import Function
from minigan.tensor import Tensor


def as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def checked_axis(op, axis, ndim):
    """``axis`` as an index in 0..ndim-1 (negative ones count from the end), or an IndexError naming
    ``op``: NumPy-style wrapping would quietly pick another axis, as PyTorch never does."""
    if not -ndim <= axis < ndim:
        valid = f"valid axes: {-ndim} to {ndim - 1}" if ndim else "it has no axes"
        raise IndexError(f"{op}: axis {axis} is out of range for a {ndim}-d tensor ({valid})")
    return axis % ndim


def sum_to_array(a, shape):
    """Sum ``a`` down to ``shape`` (the adjoint of broadcasting ``shape`` up to ``a.shape``)."""
    if a.shape == tuple(shape):
        return a
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and a.shape[i + lead] != 1)
    y = a.sum(axis=axes, keepdims=True)
    return y.reshape(shape) if lead else y


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.in_shape)


def reshape(x, shape):
    """View ``x`` with a new shape (one entry may be -1)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return Reshape(shape).apply(x)


# The names of the spatial axes, by how many there are (for error messages).
SPATIAL_AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _layouts(axes, batched_first=False):
    """The two layouts an op takes, e.g. "3-D (C, H, W) or 4-D (N, C, H, W)" for ``axes`` ("C", "H", "W"),
    the unbatched one first unless ``batched_first``."""
    names = ", ".join(axes)
    unbatched, batched = f"{len(axes)}-D ({names})", f"{len(axes) + 1}-D (N, {names})"
    return f"{batched} or {unbatched}" if batched_first else f"{unbatched} or {batched}"


def checked_input(op, x, axes, batched_first=False, empty="batch"):
    """Whether the input ``x`` of ``op`` is batched, after PyTorch's checks, each error naming ``op`` and
    x's shape: x is unbatched, with the axes ``axes`` (e.g. ("C", "H", "W")), or batched, (N, *axes)
    (``batched_first``: the message lists that layout first); floating point; and empty only where
    ``empty`` allows: "batch", along a batched input's batch axis alone; "leading", along the leading axis
    whatever the rank; None, anywhere (no check)."""
    shape = tuple(x.shape)
    if x.ndim not in (len(axes), len(axes) + 1):
        raise ValueError(f"{op}: input must be {_layouts(axes, batched_first)}, got shape {shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype} (shape {shape})")
    batched = x.ndim == len(axes) + 1
    if empty == "batch" and 0 in shape[int(batched):]:
        axis = shape.index(0, int(batched))
        rule = "only the batch axis may be empty" if batched else "an unbatched input may not be empty"
        raise ValueError(f"{op}: input of shape {shape} is empty along axis {axis}; {rule}")
    if empty == "leading" and 0 in shape[1:]:
        raise ValueError(f"{op}: input of shape {shape} is empty along axis {shape.index(0, 1)}; only the leading "
                         f"(batch) axis may be empty")
    return batched


def batched_input(op, x, axes, batched_first=False, empty="batch"):
    """(x as a batch (N, *axes), whether it came so), x checked by ``checked_input``: an unbatched input
    becomes a batch of one, which the caller takes off the output again."""
    batched = checked_input(op, x, axes, batched_first, empty)
    return (x if batched else reshape(x, (1,) + tuple(x.shape))), batched


def unbatched(op, x, batched, spatial=("H", "W")):
    """``batched`` applied to an unbatched (C, *spatial) input as a batch of one, the batch axis then
    taken off again: PyTorch's ops take (N, C, *spatial) and (C, *spatial) alike. Any other shape is
    an error naming ``op``; callers call this only for an input that is not batched."""
    if x.ndim != len(spatial) + 1:
        raise ValueError(f"{op}: input must be {_layouts(('C',) + tuple(spatial))}, got shape {tuple(x.shape)}")
    y = batched(reshape(x, (1,) + tuple(x.shape)))
    return reshape(y, tuple(y.shape[1:]))


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim..end_dim`` into one, as ``torch.flatten``."""
    nd = x.ndim
    if nd == 0:  # as in PyTorch, a 0-d tensor flattens to one element
        return reshape(x, (1,))
    start, end = checked_axis("flatten", start_dim, nd), checked_axis("flatten", end_dim, nd)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for a tensor of shape {tuple(x.shape)}")
    shape = x.shape[:start] + (-1,) + x.shape[end + 1:]
    return reshape(x, shape)


class Transpose(Function):
    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        if self.axes is None:
            return transpose(gy)
        inverse = tuple(sorted(range(len(self.axes)), key=lambda i: self.axes[i]))
        return transpose(gy, inverse)


def transpose(x, axes=None):
    """Permute axes as ``numpy.transpose`` (None reverses them)."""
    if axes is not None:
        axes = tuple(checked_axis("transpose", a, x.ndim) for a in axes)
        if len(axes) != x.ndim or sorted(axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of a {x.ndim}-d tensor's axes")
    return Transpose(axes).apply(x)


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return backend.get_array_module(x).broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.in_shape)


def broadcast_to(x, shape):
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return BroadcastTo(shape).apply(x)


class SumTo(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return sum_to_array(x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.in_shape)


def sum_to(x, shape):
    """Sum ``x`` down to ``shape``: the gradient of broadcasting."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo(shape).apply(x)


def _raw_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (slice, int)) for p in parts)


class GetItem(Function):
    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.in_shape = x.shape
        return x[self.index]

    def backward(self, gy):
        return GetItemGrad(self.index, self.in_shape).apply(gy)


class GetItemGrad(Function):
    """Scatter-add ``gy`` into zeros of the indexed tensor's shape (repeated indices add up)."""

    def __init__(self, index, in_shape):
        self.index, self.in_shape = index, in_shape

    def forward(self, gy):
        xp = backend.get_array_module(gy)
        gx = xp.zeros(self.in_shape, dtype=gy.dtype)
        if _is_basic(self.index):
            gx[self.index] = gy  # basic indexing never repeats an element, so plain assignment adds
        else:
            xp.add.at(gx, self.index, gy)
        return gx

    def backward(self, ggx):
        return getitem(ggx, self.index)


def getitem(x, index):
    """``x[index]`` with NumPy indexing rules (slices, integers, integer and boolean arrays)."""
    index = _raw_index(index)
    try:
        return GetItem(index).apply(x)
    except IndexError as exc:
        raise IndexError(f"getitem: {exc} (tensor shape {tuple(x.shape)})") from None


class Concat(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return backend.get_array_module(*xs).concatenate(xs, axis=self.axis)

    def backward(self, gy):
        grads, start = [], 0
        for n in self.sizes:
            index = (slice(None),) * self.axis + (slice(start, start + n),)
            grads.append(getitem(gy, index))
            start += n
        return tuple(grads)


def concat(tensors, axis=1):
    """Join tensors along ``axis`` (default 1, the channel axis, as GAN code mostly needs)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concat: needs at least one tensor")
    nd = tensors[0].ndim
    if nd == 0:
        raise ValueError("concat: 0-d tensors have no axis to join along; use stack")
    axis = checked_axis("concat", axis, nd)
    for t in tensors:
        if t.ndim != nd or t.shape[:axis] + t.shape[axis + 1:] != tensors[0].shape[:axis] + tensors[0].shape[axis + 1:]:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"concat: shapes {shapes} differ outside axis {axis}")
    return Concat(axis).apply(*tensors)


def stack(tensors, axis=0):
    """Stack same-shaped tensors along a new ``axis``."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    axis = checked_axis("stack", axis, tensors[0].ndim + 1)
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    expanded = [reshape(t, t.shape[:axis] + (1,) + t.shape[axis:]) for t in tensors]
    return concat(expanded, axis=axis)
