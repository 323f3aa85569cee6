"""Sliding blocks: unfold (im2col) and fold (col2im), as ``torch.nn.functional.unfold`` and ``fold``.

For each spatial axis with kernel size k, dilation d, padding p and stride s, an input of length n has

    B = floor((n + 2p - d (k - 1) - 1) / s) + 1

blocks along it (the output length of a convolution with the same geometry), and L = Bh Bw blocks in all,
numbered row-major. Block l = bh Bw + bw with offset (i, j) reads the padded input at
(bh sh + i dh - ph, bw sw + j dw - pw); zeros outside the input.

    unfold  x (N, C, H, W)  -> (N, C kh kw, L),  out[n, (c kh + i) kw + j, l] = xpad[n, c, bh sh + i dh, bw sw + j dw]
    fold    y (N, C kh kw, L) -> (N, C, H, W),   the adjoint: each y[n, (c kh + i) kw + j, l] is added to the
                                                 pixel unfold read it from (overlapping blocks sum;
                                                 values falling in the padding are dropped)

so <unfold(x), y> = <x, fold(y)> for every x and y, and H, W are fold's ``output_size``. Unbatched
inputs, (C, H, W) for unfold and (C kh kw, L) for fold, give unbatched outputs.

Both are the convolution's primitives in another layout. The ``im2col`` kernel cuts
col (N, Bh, Bw, kh, kw, C), one patch row per block with the channels innermost (see conv.py), and
PyTorch's order (N, C, kh, kw, Bh, Bw) is that array with its axes permuted: unfold is im2col and one
transposing copy. fold is the reverse permutation (a strided view, which the ``col2im`` kernels
accept, copying where they need it) and col2im. Whichever implementation the kernel registry picks for
the device (Numba on CPU, CUDA C on GPU, the reference otherwise) serves both.

Gradients: both maps are linear and each is the other's adjoint, so the backward of one is the other
(``Unfold.backward = Fold``, ``Fold.backward = Unfold``) and gradients of every order follow. Neither
saves anything for backward: the geometry and the input's spatial size are all the adjoint needs.
"""
from minigan import backend, kernels
from minigan.function import Function
from minigan.functional.conv import int_pair
from minigan.functional.shape import as_tensor, batched_input, reshape
from minigan.kernels.reference import conv_output_size


class Unfold(Function):
    """x (N, C, H, W) -> (N, C kh kw, Bh Bw). ``geometry`` is (kh, kw, sh, sw, ph, pw, dh, dw)."""

    def __init__(self, geometry):
        self.geometry = geometry

    def forward(self, x):
        xp = backend.get_array_module(x)
        kh, kw = self.geometry[:2]
        n, c, h, w = x.shape
        self.spatial = (h, w)  # fold's output_size in backward
        col = kernels.get("im2col", xp)(x, *self.geometry)  # (N, Bh, Bw, kh, kw, C)
        bh, bw = col.shape[1:3]
        # PyTorch's row index is (c kh + i) kw + j and its column bh Bw + bw: axes (N, C, kh, kw, Bh, Bw).
        # The reshape of the permuted view is the one copy that lays it out so.
        return col.transpose(0, 5, 3, 4, 1, 2).reshape(n, c * kh * kw, bh * bw)

    def backward(self, gy):
        return Fold(self.geometry, self.spatial).apply(gy)


class Fold(Function):
    """y (N, C kh kw, Bh Bw) -> (N, C, H, W), (H, W) = ``spatial``; the adjoint of Unfold."""

    def __init__(self, geometry, spatial):
        self.geometry, self.spatial = geometry, tuple(spatial)

    def forward(self, y):
        xp = backend.get_array_module(y)
        kh, kw, sh, sw, ph, pw, dh, dw = self.geometry
        h, w = self.spatial
        bh, bw = conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)
        n = y.shape[0]
        c = y.shape[1] // (kh * kw)
        # Unfold's permutation undone: (N, C, kh, kw, Bh, Bw) seen as col (N, Bh, Bw, kh, kw, C), a view.
        col = y.reshape(n, c, kh, kw, bh, bw).transpose(0, 4, 5, 2, 3, 1)
        return kernels.get("col2im", xp)(col, h, w, sh, sw, ph, pw, dh, dw)

    def backward(self, gx):
        return Unfold(self.geometry).apply(gx)


def _geometry(op, kernel_size, dilation, padding, stride, shapes):
    """(kh, kw, sh, sw, ph, pw, dh, dw), validated as PyTorch does (kernel, stride, dilation >= 1,
    padding >= 0): the argument order of the im2col kernel after x."""
    kernel = int_pair(kernel_size, op, "kernel_size", 1, shapes)
    d = int_pair(dilation, op, "dilation", 1, shapes)
    p = int_pair(padding, op, "padding", 0, shapes)
    s = int_pair(stride, op, "stride", 1, shapes)
    return kernel + s + p + d


def _blocks(geometry, spatial):
    """(Bh, Bw): the number of blocks along each axis of a ``spatial`` (H, W) image."""
    kh, kw, sh, sw, ph, pw, dh, dw = geometry
    return conv_output_size(spatial[0], kh, sh, ph, dh), conv_output_size(spatial[1], kw, sw, pw, dw)


def _describe(geometry):
    kh, kw, sh, sw, ph, pw, dh, dw = geometry
    return f"kernel_size {(kh, kw)}, dilation {(dh, dw)}, padding {(ph, pw)}, stride {(sh, sw)}"


def _batched_input(op, x, axes):
    """(x as a batch (N, *axes), whether it came so), checked as PyTorch checks it: unbatched (*axes) or
    batched, floating point, empty along no axis but the batch axis (the message says so in its own words,
    which the tests pin)."""
    shape = tuple(x.shape)
    x, batched = batched_input(op, x, axes, empty=None)
    if 0 in shape[int(batched):]:
        raise ValueError(f"{op}: input of shape {shape} is empty along a non-batch axis; only the batch "
                         f"axis of a {len(axes) + 1}-D input may be empty")
    return x, batched


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding blocks of x as columns (im2col), as ``torch.nn.functional.unfold``.

    x (N, C, H, W) -> (N, C kh kw, L), or unbatched (C, H, W) -> (C kh kw, L), with
    out[n, (c kh + i) kw + j, bh Bw + bw] = xpad[n, c, bh sh + i dh, bw sw + j dw] (xpad: x with ph rows and
    pw columns of zeros on each side), L = Bh Bw, Bh = floor((H + 2 ph - dh (kh - 1) - 1) / sh) + 1 (likewise
    Bw). kernel_size, dilation, padding and stride are ints or (h, w) pairs. Only the batch axis may be
    empty, and each axis must have at least one block. Differentiable to every order (the gradient is fold).
    """
    op = "unfold"
    x = as_tensor(x)
    shape = tuple(x.shape)
    x, batched = _batched_input(op, x, ("C", "H", "W"))
    geometry = _geometry(op, kernel_size, dilation, padding, stride, f"for input of shape {shape}")
    blocks = _blocks(geometry, shape[-2:])
    if min(blocks) < 1:
        raise ValueError(f"{op}: input of shape {shape} with {_describe(geometry)} has {blocks[0]}x{blocks[1]} "
                         "sliding blocks, but each axis needs at least one: the padded input is smaller than "
                         "the dilated kernel")
    y = Unfold(geometry).apply(x)
    return y if batched else reshape(y, tuple(y.shape[1:]))


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an image (col2im), as ``torch.nn.functional.fold``: unfold's adjoint.

    x (N, C kh kw, L) -> (N, C, H, W), or unbatched (C kh kw, L) -> (C, H, W), (H, W) = output_size (an
    int or a pair). Entry x[n, (c kh + i) kw + j, bh Bw + bw] is added to out[n, c, bh sh + i dh - ph,
    bw sw + j dw - pw] when that lies inside the output (overlapping blocks sum; the padding is cropped).
    L must be Bh Bw, the number of blocks unfold would cut from an output_size image with the same
    arguments, and x's channel axis a multiple of kh kw. Differentiable to every order (the gradient is
    unfold).
    """
    op = "fold"
    x = as_tensor(x)
    shape = tuple(x.shape)
    x, batched = _batched_input(op, x, ("C*kh*kw", "L"))
    shapes = f"for input of shape {shape}"
    spatial = int_pair(output_size, op, "output_size", 1, shapes)
    geometry = _geometry(op, kernel_size, dilation, padding, stride, shapes)
    kh, kw = geometry[:2]
    channels, length = shape[-2:]
    if channels % (kh * kw):
        raise ValueError(f"{op}: input of shape {shape} has {channels} channels (dimension {len(shape) - 2}), "
                         f"not divisible by the product of kernel_size {(kh, kw)}, {kh * kw}")
    blocks = _blocks(geometry, spatial)
    if min(blocks) < 1:
        raise ValueError(f"{op}: output_size {spatial} with {_describe(geometry)} has {blocks[0]}x{blocks[1]} "
                         "sliding blocks, but each axis needs at least one: the padded output is smaller than "
                         f"the dilated kernel (input of shape {shape})")
    if length != blocks[0] * blocks[1]:
        raise ValueError(f"{op}: input of shape {shape} has L = {length} blocks (its last dimension), but "
                         f"output_size {spatial} with {_describe(geometry)} has {blocks[0]} * {blocks[1]} = "
                         f"{blocks[0] * blocks[1]} sliding blocks")
    y = Fold(geometry, spatial).apply(x)
    return y if batched else reshape(y, tuple(y.shape[1:]))
