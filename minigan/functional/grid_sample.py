"""Spatial transformers (Jaderberg et al., "Spatial Transformer Networks", 2015): ``affine_grid`` makes the
sampling grid of an affine map, ``grid_sample`` reads an image at the grid's points. Both follow
``torch.nn.functional.affine_grid`` and ``grid_sample`` (PyTorch 2.13's documented semantics) for 2-D images
(N, C, H, W) and 3-D volumes (N, C, D, H, W).

Coordinates. A grid point holds normalised coordinates (x, y) or (x, y, z), x along W, y along H and z
along D: -1 is the first pixel and +1 the last. ``align_corners`` says what "pixel" means there. With it,
-1 and +1 are the centres of the corner pixels, so an axis of n pixels maps g to

    u = (g + 1) / 2 (n - 1);

without it (the default) they are the outer edges of the corner pixels, pixel i covering [i - 1/2, i + 1/2]:

    u = ((g + 1) n - 1) / 2.

Padding: what a point outside the image reads. "zeros": 0 for every tap outside. "border": u clipped to
[0, n - 1]. "reflection": u reflected at the borders (at the corner centres, 0 and n - 1, with
align_corners; at the outer edges, -1/2 and n - 1/2, without), as often as needed, then clipped to
[0, n - 1]. As PyTorch does, the clip's derivative is 0 at and beyond the borders, and a non-finite u
becomes 0 under border (NaN) and reflection (NaN and +-inf) padding.

Modes. "bilinear" (trilinear for volumes) weighs the 2^d pixels around u by the products of 1 - t and t,
t = u - floor(u) per axis. "nearest" reads the pixel at round(u), ties to even (PyTorch's nearbyint).
"bicubic" (images only) weighs the 4 x 4 pixels floor(u) - 1 .. floor(u) + 2 by Keys' cubic convolution
kernel with a = -0.75, as PyTorch; there the padding applies to each tap's pixel index, not to u.

Rounding. Where the exact u falls on a pixel (bilinear's kink, where the grid gradient is one-sided) or
half-way between two (nearest's tie), the rounding of u picks the side. u is computed as written above,
as ATen's generic kernels do, and agrees with PyTorch 2.13's CPU kernels on such points except for
float64 images without align_corners, whose vectorised kernel fuses (g + 1) n / 2 - 1/2 into one rounding:
there the grid gradient at a pixel, and nearest's pick at a tie, can differ (bilinear's values agree: the
interpolant is continuous). Reflected coordinates very far outside (past 2^31 pixels, where PyTorch's
count of folds overflows, or past about 2^24 in float32, which no longer resolves a pixel there) need not
agree with PyTorch's.

Implementation. Everything is composed of minigan's differentiable ops: the weights are arithmetic on the
grid, the reads are one gather (whose backward is a scatter-add, ``GatherColumns``) from the input laid out
as C rows of pixels, with a column of zeros appended that every tap outside the image reads (so such a tap
adds nothing, even beside an inf pixel, and needs no mask). So the gradients with respect to the input
and the grid, of every order, come from those ops. Only the floor and the rounding are constants. This
gives more than PyTorch: PyTorch 2.13 differentiates the input gradient again (with respect to input and
grid) but not the grid gradient; here both are differentiable again.
"""
import itertools
import math

import numpy as np

from minigan import backend
from minigan.function import Function
from minigan.functional.arguments import is_int
from minigan.functional.interpolation import CUBIC_A
from minigan.functional.linear import matmul
from minigan.functional.reduction import sum as reduce_sum
from minigan.functional.shape import as_tensor, concat, getitem, reshape, stack, transpose
from minigan.tensor import Tensor

MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")


def _align(op, align_corners):
    """PyTorch's default, None, means False (PyTorch adds a warning that this is the default since 1.3)."""
    if align_corners is not None and not isinstance(align_corners, (bool, np.bool_)):
        raise TypeError(f"{op}: align_corners must be a bool or None, got {align_corners!r}")
    return bool(align_corners)


# -- affine_grid ---------------------------------------------------------------------------------------

def _base_coordinates(n, align_corners):
    """The normalised coordinates of an axis's n pixel centres: n points from -1 to 1, pulled in to
    (1 - 1/n) of that without align_corners (pixel edges at +-1); one pixel sits at 0 either way."""
    if n == 1:
        return np.zeros(1)
    line = np.linspace(-1.0, 1.0, n)
    return line if align_corners else line * ((n - 1) / n)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps, as ``torch.nn.functional.affine_grid``.

    For ``size`` (N, C, H, W) and theta (N, 2, 3), output point (i, j) of image k is

        grid[k, i, j] = theta[k] @ (x_j, y_i, 1),

    (x_j, y_i) the normalised coordinates of output pixel (i, j) (see the module docstring; x along W);
    the grid has shape (N, H, W, 2), ready for ``grid_sample``. For size (N, C, D, H, W), theta is
    (N, 3, 4), the points (x, y, z, 1) and the grid (N, D, H, W, 3). C is not used. theta = [I | 0] gives
    the identity: ``grid_sample`` then returns its input to the rounding of the coordinates (exactly in
    mode "nearest", and with align_corners on axes of 1, 2 or 2^k + 1 pixels, whose coordinates are
    exact binary fractions).

    The grid is one matmul of the constant pixel coordinates with theta^T, so it is linear in theta and
    its gradients of every order are matmul's. The grid has theta's dtype.
    """
    op = "affine_grid"
    align_corners = _align(op, align_corners)
    theta = as_tensor(theta)
    try:
        size = tuple(size)
    except TypeError:
        raise TypeError(f"{op}: size must be a sequence of ints, (N, C, H, W) or (N, C, D, H, W), "
                        f"got {size!r}") from None
    if not all(is_int(n) for n in size):
        raise TypeError(f"{op}: size must be a sequence of ints, (N, C, H, W) or (N, C, D, H, W), got {size!r}")
    if len(size) not in (4, 5):
        raise ValueError(f"{op}: size must have 4 entries (N, C, H, W) for 2-D affine maps or 5 (N, C, D, H, W) "
                         f"for 3-D ones, got size={size}")
    d = len(size) - 2
    if theta.dtype.kind != "f":
        raise TypeError(f"{op}: theta must be floating point, got dtype {theta.dtype} (shape {tuple(theta.shape)})")
    expected = (size[0], d, d + 1)
    if tuple(theta.shape) != expected:
        raise ValueError(f"{op}: theta must have shape (N, {d}, {d + 1}), a {d}-D affine matrix per batch "
                         f"element, for size={size}: expected {expected}, got {tuple(theta.shape)}")
    if min(size) <= 0:
        raise ValueError(f"{op}: every entry of size must be positive, got size={size}")
    spatial = size[2:]
    mesh = np.meshgrid(*[_base_coordinates(n, align_corners) for n in spatial], indexing="ij")
    # The points' components run x, y[, z]: the spatial axes (D,) H, W in reverse, then the 1 for the shift.
    points = np.stack(list(mesh)[::-1] + [np.ones(spatial)], axis=-1).reshape(-1, d + 1).astype(theta.dtype)
    points = Tensor._wrap(backend.to_device(points, theta.device))
    grid = matmul(points, transpose(theta, (0, 2, 1)))  # (P, d+1) @ (N, d+1, d) -> (N, P, d)
    return reshape(grid, (size[0],) + spatial + (d,))


# -- grid_sample ---------------------------------------------------------------------------------------

def _unnormalize(g, n, align_corners):
    """Pixel coordinates u from normalised ones g (a Tensor), for an axis of n pixels."""
    # In this order of operations, as ATen's generic kernels: on the pixel lattice the rounding then picks
    # the same side of a pixel as PyTorch, so the one-sided grid gradient there agrees too (but for the
    # exception in the module docstring, "Rounding").
    if align_corners:
        return (g + 1) / 2 * (n - 1)
    return ((g + 1) * n - 1) / 2


def _reflect(xp, u, low, high):
    """u reflected into [low, high] as often as it takes (a triangle wave of period 2 (high - low)), and
    its slope, +1 or -1 (0 everywhere when low == high, as PyTorch's for an axis of one pixel)."""
    span = high - low
    if span == 0:
        return xp.zeros_like(u), xp.zeros_like(u)
    d = u - low
    sign = xp.where(d < 0, -1, 1).astype(u.dtype)
    d = xp.abs(d)
    extra = xp.fmod(d, span)
    # Whole spans folded over, from the exact remainder, so its parity agrees with ``extra`` at every u.
    odd = xp.rint((d - extra) / span) % 2 == 1
    return xp.where(odd, high - extra, low + extra), xp.where(odd, -sign, sign)


def padded_coordinates(u, padding_mode, n, align_corners):
    """(u padded into [0, n - 1], its derivative du'/du) for an array u: the clip's derivative is 0 at and
    beyond the borders, and a NaN (or, with reflection, +-inf) u goes to 0 with derivative 0, as in
    PyTorch. "zeros" padding is left to the taps, which read 0 outside; u passes unchanged."""
    xp = backend.get_array_module(u)
    one = u.dtype.type
    if padding_mode == "zeros":
        return u, xp.ones_like(u)
    slope = xp.ones_like(u)
    if padding_mode == "reflection":
        if align_corners:
            u, slope = _reflect(xp, u, one(0), one(n - 1))
        else:
            u, slope = _reflect(xp, u, one(-0.5), one(n - 0.5))
    inside = (u > 0) & (u < n - 1)
    u = xp.clip(u, one(0), one(n - 1))
    return xp.where(xp.isnan(u), one(0), u), xp.where(inside, slope, one(0))


class PadCoordinates(Function):
    """u -> u padded into [0, n - 1] by "border" or "reflection" (see ``padded_coordinates``).

    Piecewise linear with slopes 0 and +-1, so the backward multiplies gy by the constant slopes, the one
    thing saved; being linear in gy, it is differentiable again (the second derivative is 0)."""

    def __init__(self, padding_mode, n, align_corners):
        self.padding_mode, self.n, self.align_corners = padding_mode, n, align_corners

    def forward(self, u):
        u, self.slope = padded_coordinates(u, self.padding_mode, self.n, self.align_corners)
        return u

    def backward(self, gy):
        return gy * Tensor._wrap(self.slope)


class ZeroGridGradient(Function):
    """y = x, with the grid recorded as an input whose gradient is 0. "nearest" reads pixels at rounded
    coordinates, a step function of the grid; PyTorch gives the grid a zero gradient (not none), which
    this keeps, so ``grad(y, grid)`` works in every mode. The gradient passed on to x is tied to the grid
    the same way, so that x's gradient (a gradient penalty, say) also has a zero grid gradient, as in
    PyTorch, rather than none."""

    def forward(self, x, grid):
        return x

    def backward(self, gy):
        grid = self.inputs[1]
        zeros = Tensor._wrap(backend.get_array_module(gy.data).zeros(grid.shape, grid.dtype))
        return ZeroGridGradient().apply(gy, grid), zeros


class GatherColumns(Function):
    """y[c, ...] = x[c, index[...]]: the columns of a (C, M) array that an integer array ``index`` names
    (any shape; y has shape (C,) + index.shape). The backward scatters gy back (``ScatterColumns``); both
    are linear, so each is the other's gradient, to every order. Saves only the index."""

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.width = x.shape[1]
        return backend.get_array_module(x).take(x, self.index, axis=1)

    def backward(self, gy):
        return ScatterColumns(self.index, self.width).apply(gy)


class ScatterColumns(Function):
    """y[c, m] = the sum of gy[c, ...] over the positions where index is m: the adjoint of
    ``GatherColumns``, a (C,) + index.shape array summed into (C, width). One bincount over row-offset
    indices does it, in float64, then rounded to gy's dtype (NumPy's add.at took 9x as long on a
    bilinear sample of (64, 3, 64, 64))."""

    def __init__(self, index, width):
        self.index, self.width = index, width

    def forward(self, gy):
        xp = backend.get_array_module(gy)
        c = gy.shape[0]
        flat = (xp.arange(c).reshape(c, 1) * self.width + self.index.reshape(1, -1)).reshape(-1)
        sums = xp.bincount(flat, weights=gy.reshape(-1), minlength=c * self.width)
        return sums.reshape(c, self.width).astype(gy.dtype)

    def backward(self, ggy):
        return GatherColumns(self.index).apply(ggy)


def _cubic_weights(t):
    """Keys' cubic convolution weights (a = CUBIC_A) of the taps floor(u) - 1 .. floor(u) + 2, at
    distances t + 1, t, 1 - t, 2 - t from u (t = u - floor(u), a Tensor)."""
    a = CUBIC_A

    def near(s):  # |s| <= 1
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s):  # 1 < |s| < 2
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _axis_taps(u, mode, padding_mode, n, align_corners):
    """The taps along one axis: a list of (pixel position, weight), the positions float arrays (n or more,
    or negative, where outside the image; NaN where u is) and the weights Tensors (None for nearest)."""
    xp = backend.get_array_module(u.data)
    if mode == "nearest":
        return [(xp.rint(u.data), None)]
    low = xp.floor(u.data)
    t = u - low
    if mode == "bilinear":
        return [(low, 1 - t), (low + 1, t)]
    # bicubic: each tap's pixel, not u, is padded (its derivative does not matter: the position is a constant)
    positions = [padded_coordinates(low + k, padding_mode, n, align_corners)[0] for k in (-1, 0, 1, 2)]
    return list(zip(positions, _cubic_weights(t)))


def _check_grid_sample(op, input, grid, mode, padding_mode):
    if mode not in MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(map(repr, MODES))}, got mode={mode!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{op}: padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, "
                         f"got padding_mode={padding_mode!r}")
    shapes = f"input of shape {tuple(input.shape)}, grid of shape {tuple(grid.shape)}"
    if input.ndim not in (4, 5):
        raise ValueError(f"{op}: input must be 4-D (N, C, H_in, W_in) or 5-D (N, C, D_in, H_in, W_in), got {shapes}")
    d = input.ndim - 2
    if grid.ndim != input.ndim:
        layout = "(N, H_out, W_out, 2)" if d == 2 else "(N, D_out, H_out, W_out, 3)"
        raise ValueError(f"{op}: grid must have as many axes as input, {input.ndim}: {layout}, got {shapes}")
    if grid.shape[-1] != d:
        raise ValueError(f"{op}: grid's last axis must have size {d} (the coordinates "
                         f"{'(x, y)' if d == 2 else '(x, y, z)'} of each point), got {shapes}")
    if grid.shape[0] != input.shape[0]:
        raise ValueError(f"{op}: input and grid must have the same batch size N, got {shapes}")
    if mode == "bicubic" and d != 2:
        raise ValueError(f"{op}: mode 'bicubic' takes only 4-D input (N, C, H, W), as in PyTorch, got {shapes}")
    if input.dtype.kind != "f" or grid.dtype != input.dtype:
        raise TypeError(f"{op}: input and grid must be floating point of one dtype, got {input.dtype} and "
                        f"{grid.dtype} ({shapes})")
    if input.device != grid.device:
        raise ValueError(f"{op}: input is on {input.device} but grid is on {grid.device} ({shapes}); "
                         "move them to one device")
    if 0 in input.shape[2:]:
        raise ValueError(f"{op}: input's spatial axes must not be empty, got {shapes}")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Read ``input`` at the points of ``grid``, as ``torch.nn.functional.grid_sample``:

        output[k, c, i, j] = sum over taps p of w_p * input[k, c, p],

    the taps p and their weights w_p those of ``mode`` ("bilinear", "nearest" or "bicubic") around the
    point grid[k, i, j] = (x, y), in normalised coordinates (-1 to 1 across the image, x along W; see the
    module docstring for ``align_corners`` and ``padding_mode`` "zeros", "border" or "reflection").

    Shapes: input (N, C, H_in, W_in) and grid (N, H_out, W_out, 2) give (N, C, H_out, W_out); input
    (N, C, D_in, H_in, W_in) and grid (N, D_out, H_out, W_out, 3), points (x, y, z), give
    (N, C, D_out, H_out, W_out), where "bilinear" is trilinear. input and grid share one float dtype,
    which the output keeps. ``align_corners=None`` (PyTorch's default) is False.

    Gradients: with respect to input, the taps' weights scattered back; with respect to the grid, the
    weights' derivatives times the pixels read, scaled by du/dg (and by the padding's slope, 0 or +-1).
    "nearest" gives the grid a zero gradient, as PyTorch. Every gradient is differentiable again, to any
    order, with respect to both input and grid (PyTorch 2.13 cannot differentiate its grid gradient).
    """
    op = "grid_sample"
    input, grid = as_tensor(input), as_tensor(grid)
    _check_grid_sample(op, input, grid, mode, padding_mode)
    align_corners = _align(op, align_corners)
    d = input.ndim - 2
    n, c, sizes = input.shape[0], input.shape[1], tuple(input.shape[2:])
    out = tuple(grid.shape[1:-1])
    xp = backend.get_array_module(input.data)

    taps_per_axis = []
    for axis, size in enumerate(sizes):  # (D,) H, W; the grid lists their coordinates in reverse, x first
        u = _unnormalize(getitem(grid, (Ellipsis, d - 1 - axis)), size, align_corners)
        if padding_mode != "zeros" and mode != "bicubic":
            u = PadCoordinates(padding_mode, size, align_corners).apply(u)
        taps_per_axis.append(_axis_taps(u, mode, padding_mode, size, align_corners))

    # The input as C rows of N * S pixels, pixel p (the flat spatial index) of image k in column k * S + p,
    # then one column of zeros, at N * S, for every tap outside the image.
    pixels = math.prod(sizes)
    columns = reshape(transpose(input, (1, 0) + tuple(range(2, d + 2))), (c, n * pixels))
    columns = concat([columns, Tensor._wrap(xp.zeros((c, 1), input.dtype))], axis=1)
    strides = [math.prod(sizes[axis + 1:]) for axis in range(d)]
    batch_start = (xp.arange(n) * pixels).reshape((n,) + (1,) * len(out))

    indices, weights = [], []
    for combination in itertools.product(*taps_per_axis):  # every tap of the 2^d, 1 or 4^2 around the point
        inside, flat, weight = True, batch_start, None
        for (position, w), size, stride in zip(combination, sizes, strides):
            within = (position >= 0) & (position <= size - 1)  # False for NaN
            inside = inside & within
            flat = flat + xp.where(within, position, 0).astype(np.int64) * stride
            if w is not None:
                weight = w if weight is None else weight * w
        indices.append(xp.where(inside, flat, n * pixels))
        weights.append(weight)

    if mode == "nearest":
        sampled = GatherColumns(indices[0]).apply(columns)  # (C, N, *out)
    else:
        values = GatherColumns(xp.stack(indices)).apply(columns)  # (C, taps, N, *out)
        sampled = reduce_sum(values * stack(weights), axis=1)
    output = transpose(sampled, (1, 0) + tuple(range(2, d + 2)))
    if mode == "nearest" and grid.requires_grad:
        output = ZeroGridGradient().apply(output, grid)
    return output
