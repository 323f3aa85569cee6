"""Max unpooling: max_unpool1d/2d/3d, the partial inverse of max_pool1d/2d/3d, with PyTorch's semantics, its
output-size rule and its checks.

Given a pooling's maxima x (N, C, *in) and the flat positions ``indices`` (same shape; int64 as
``max_pool*d(..., return_indices=True)`` reports them, though any integer dtype is accepted where PyTorch
insists on int64), unpooling puts each maximum back where it came from and zero everywhere else:

    y[n, c].flat[indices[n, c, i]] = x[n, c, i],    y (N, C, *out) zero elsewhere,

flat positions being row-major in each (n, c) plane (volume, line) of the output, as PyTorch numbers them.

Duplicate indices (two elements of one plane sent to the same place; overlapping pooling windows that
share a maximum produce them) are resolved deterministically: the element that comes last in the plane's
row-major order wins, on every device. That is what PyTorch's CPU kernel does on one thread; with several
threads (or on CUDA) PyTorch's result is not deterministic, which its documentation says. The gradient is
the exact derivative of that forward: each output position's gradient goes to the element written there,
and an element overwritten by a later duplicate gets zero. (PyTorch's backward instead gathers at every index,
handing the same gradient to each duplicate, which is not the derivative of its own forward: composed with
the pooling that made the indices, it counts a shared maximum's gradient once per window.) Without
duplicates the two agree exactly.

The op is linear in x: ``MaxUnpool`` scatters, its backward ``MaxUnpoolGather`` gathers at the same
positions, and each is the other's adjoint and backward, so gradients of every order work.
"""
import math

import numpy as np

from minigan import backend
from minigan.function import Function
from minigan.functional.arguments import is_int
from minigan.functional.pooling import _batched_input, int_tuple
from minigan.functional.shape import as_tensor, reshape
from minigan.tensor import Tensor


class _Placement:
    """Where each input element goes: the flat position ``dst`` in the (N C P) output of the element at
    flat position ``src`` of the (N C L) input, for the elements that are written (all of them, unless
    some are overwritten by a later duplicate; then ``src`` lists the survivors, else it is None).

    ``in_shape`` (N, C, *in) and ``out_shape`` (N, C, *out) are the shapes of x and y.
    """

    def __init__(self, indices, in_shape, out_shape):
        xp = backend.get_array_module(indices)
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        planes = math.prod(in_shape[:2])
        plane_size = math.prod(out_shape[2:])
        # Each element's flat position in the whole output: its plane's start plus its index in the plane.
        starts = xp.arange(planes, dtype=np.int64).reshape(in_shape[:2] + (1,) * (len(in_shape) - 2)) * plane_size
        targets = (indices.astype(np.int64, copy=False) + starts).reshape(-1)
        self.src, self.dst = None, targets
        if targets.size > 1 and _has_duplicates(xp, targets, planes * plane_size):
            # A stable sort keeps equal targets in input order, so the last of each run is the element
            # written last: the one that stays.
            order = xp.argsort(targets, kind="stable")
            ordered = targets[order]
            last = xp.ones(ordered.shape, dtype=bool)
            last[:-1] = ordered[1:] != ordered[:-1]
            self.src, self.dst = order[last], ordered[last]

    def scatter(self, x):
        xp = backend.get_array_module(x)
        y = xp.zeros(math.prod(self.out_shape), dtype=x.dtype)
        values = x.reshape(-1)
        y[self.dst] = values if self.src is None else values[self.src]  # no repeated dst: plain assignment
        return y.reshape(self.out_shape)

    def gather(self, y):
        values = y.reshape(-1)[self.dst]
        if self.src is None:
            return values.reshape(self.in_shape)
        xp = backend.get_array_module(y)
        x = xp.zeros(math.prod(self.in_shape), dtype=y.dtype)
        x[self.src] = values  # an overwritten element's gradient is zero: it does not reach the output
        return x.reshape(self.in_shape)


def _has_duplicates(xp, targets, size):
    """Whether two entries of ``targets`` (int64, each in [0, size)) are equal: every entry writes its own
    position into a scratch array at its target and reads it back; a shared target reads some other
    entry's position, whichever write the array library kept. O(len(targets)), no sort."""
    stamp = xp.arange(targets.size, dtype=np.int32 if targets.size < 2 ** 31 else np.int64)
    owner = xp.empty(size, dtype=stamp.dtype)  # only the written entries are read
    owner[targets] = stamp
    return bool((owner[targets] != stamp).any())


class MaxUnpool(Function):
    """y = x scattered to its positions in a zero output (see the module docstring). Linear in x: the
    backward is ``MaxUnpoolGather`` at the same positions (its adjoint). Nothing but the positions is
    saved."""

    def __init__(self, placement):
        self.placement = placement

    def forward(self, x):
        return self.placement.scatter(x)

    def backward(self, gy):
        return MaxUnpoolGather(self.placement).apply(gy)


class MaxUnpoolGather(Function):
    """x = y read at each input element's position (zero for an element a later duplicate overwrote): the
    adjoint of ``MaxUnpool``, which is therefore its backward."""

    def __init__(self, placement):
        self.placement = placement

    def forward(self, y):
        return self.placement.gather(y)

    def backward(self, gx):
        return MaxUnpool(self.placement).apply(gx)


def unpool_output_size(op, shape, kernel, stride, padding, output_size):
    """PyTorch's output size: by default (n - 1) s + k - 2p on each spatial axis (the size a pooling with
    these arguments maps back to n, ignoring the rows floor mode dropped); ``output_size`` (the spatial
    sizes, or those with N and C in front, which are ignored, as PyTorch ignores them) picks another,
    strictly within one stride of the default on each axis, so the pooling of that size has n windows
    too. Sizes must not be negative."""
    dims = len(kernel)
    spatial = shape[-dims:]
    default = tuple((n - 1) * s + k - 2 * p for n, k, s, p in zip(spatial, kernel, stride, padding))
    if output_size is None:
        out = default
    else:
        if not isinstance(output_size, (tuple, list)) or not all(is_int(v) for v in output_size):
            raise TypeError(f"{op}: output_size must be a sequence of {dims} or {dims + 2} ints, got "
                            f"{output_size!r}")
        out = tuple(int(v) for v in output_size)
        if len(out) == dims + 2:
            out = out[2:]
        if len(out) != dims:
            raise ValueError(f"{op}: output_size should be a sequence containing {dims} or {dims + 2} elements, "
                             f"but it has a length of {len(output_size)} ({output_size!r})")
        for d, (o, size, s) in enumerate(zip(out, default, stride)):
            if not size - s < o < size + s:
                raise ValueError(f"{op}: invalid output_size {tuple(output_size)} for input of shape {shape}: "
                                 f"dim {d} must be between {size - s} and {size + s} (exclusive), the default "
                                 f"being {size} for kernel_size {kernel}, stride {stride}, padding {padding}")
    if min(out) < 0:
        raise ValueError(f"{op}: output size {out} for input of shape {shape} with kernel_size {kernel}, stride "
                         f"{stride}, padding {padding} has a negative dimension")
    return out


def _indices_array(op, indices, x):
    """The raw int64 array of ``indices`` (a Tensor or an array of any integer dtype), on x's device and of
    x's shape, or an error naming the op and the shapes."""
    idx = indices.data if isinstance(indices, Tensor) else indices
    if not (isinstance(idx, np.ndarray) or backend.is_cupy_array(idx)):
        raise TypeError(f"{op}: indices must be a Tensor of integers, got {type(indices).__name__}")
    if backend.device_of(idx) != x.device:
        raise ValueError(f"{op}: indices of shape {tuple(idx.shape)} are on {backend.device_of(idx)} but the "
                         f"input of shape {tuple(x.shape)} is on {x.device}; move them to one device")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must hold integers (int64, as max_pool's return_indices gives), got "
                        f"dtype {idx.dtype} (shape {tuple(idx.shape)})")
    if tuple(idx.shape) != tuple(x.shape):
        raise ValueError(f"{op}: indices of shape {tuple(idx.shape)} must have the input's shape "
                         f"{tuple(x.shape)}")
    return idx


def _max_unpool(op, dims, x, indices, kernel_size, stride, padding, output_size):
    """max_unpool1d/2d/3d (see max_unpool2d)."""
    x = as_tensor(x)
    shape = tuple(x.shape)
    idx = _indices_array(op, indices, x)
    x, batched = _batched_input(op, x, dims)  # PyTorch's checks: rank, and only the batch axis may be empty
    shapes = f"for input of shape {shape}"
    kernel = int_tuple(kernel_size, dims, op, "kernel_size", 1, shapes)
    stride = kernel if stride is None else int_tuple(stride, dims, op, "stride", 1, shapes)
    padding = int_tuple(padding, dims, op, "padding", 0, shapes)
    out = unpool_output_size(op, shape, kernel, stride, padding, output_size)
    plane = math.prod(out)
    if idx.size:
        low, high = int(idx.min()), int(idx.max())
        if low < 0 or high >= plane:
            raise IndexError(f"{op}: indices hold {low if low < 0 else high}, outside [0, {plane}) for an output "
                             f"of spatial size {'x'.join(map(str, out))} (input and indices of shape {shape}, "
                             f"kernel_size {kernel}, stride {stride}, padding {padding}, output_size "
                             f"{output_size!r}); indices are flat positions in each output plane")
    if not batched:
        idx = idx.reshape((1,) + shape)
    placement = _Placement(idx, x.shape, x.shape[:2] + out)
    y = MaxUnpool(placement).apply(x)
    return y if batched else reshape(y, tuple(y.shape[1:]))


def max_unpool1d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool1d``, as ``torch.nn.functional.max_unpool1d``: each x[..., i] is put
    at position indices[..., i] of a zero line, y[..., indices[..., i]] = x[..., i].

    x and indices (N, C, L) -> (N, C, Lo), or unbatched (C, L) -> (C, Lo), with by default
    Lo = (L - 1) s + k - 2p (stride s defaults to kernel_size k); ``output_size`` (an int sequence of 1, or
    3 with N and C, which are ignored) may pick another Lo strictly within s of it, such as the length of
    the input that was pooled. indices must lie in [0, Lo); of duplicates the last wins (see the module
    docstring). Differentiable in x to every order.
    """
    return _max_unpool("max_unpool1d", 1, x, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``, as ``torch.nn.functional.max_unpool2d``: each x[n, c, r, q] is
    put at flat position indices[n, c, r, q] = row * Wo + column of a zero (Ho, Wo) plane.

    x and indices (N, C, H, W) -> (N, C, Ho, Wo), or unbatched (C, H, W) -> (C, Ho, Wo), with by default
    Ho = (H - 1) sh + kh - 2 ph (likewise Wo; stride defaults to kernel_size); ``output_size`` ((Ho, Wo),
    or (N, C, Ho, Wo) with N and C ignored) may pick other sizes strictly within one stride of those, such
    as the size of the input that was pooled. indices must lie in [0, Ho Wo); of duplicates the last in
    row-major order wins (see the module docstring). Differentiable in x to every order.
    """
    return _max_unpool("max_unpool2d", 2, x, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool3d``, as ``torch.nn.functional.max_unpool3d``: each x[n, c, z, r, q]
    is put at flat position indices[n, c, z, r, q] = (depth Ho + row) Wo + column of a zero (Do, Ho, Wo)
    volume.

    x and indices (N, C, D, H, W) -> (N, C, Do, Ho, Wo), or unbatched (C, D, H, W) -> (C, Do, Ho, Wo), each
    size by default (n - 1) s + k - 2p along its axis; ``output_size`` (3 sizes, or 5 with N and C, which
    are ignored) may pick others strictly within one stride of those. indices must lie in [0, Do Ho Wo);
    of duplicates the last wins (see the module docstring). Differentiable in x to every order.
    """
    return _max_unpool("max_unpool3d", 3, x, indices, kernel_size, stride, padding, output_size)
