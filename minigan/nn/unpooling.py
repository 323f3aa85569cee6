"""Unpooling layers: MaxUnpool1d/2d/3d, as ``torch.nn``'s, over ``F.max_unpool1d/2d/3d``.

They have no parameters. Like PyTorch's, each keeps kernel_size, stride (defaulting to kernel_size) and
padding as tuples of its number of spatial axes, which its ``repr`` shows. The arguments are checked when
the layer is built, so a bad layer fails there, with the layer and argument named; the functional op
checks the input, the indices and ``output_size``.
"""
from minigan.functional.pooling import int_tuple
from minigan.functional.unpooling import max_unpool1d, max_unpool2d, max_unpool3d
from minigan.nn.module import Module


class _MaxUnpool(Module):
    """The shared implementation; subclasses give ``dims``, the number of spatial axes, and ``unpool``, the
    functional op."""

    dims, unpool = None, None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = int_tuple(kernel_size, self.dims, name, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else int_tuple(stride, self.dims, name, "stride", 1)
        self.padding = int_tuple(padding, self.dims, name, "padding", 0)

    def forward(self, x, indices, output_size=None):
        return self.unpool(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    """The partial inverse of MaxPool1d: ``layer(x, indices, output_size=None)`` puts each x[..., i] at
    position indices[..., i] of a zero line, (N, C, L) -> (N, C, Lo) or unbatched (C, L) -> (C, Lo),
    Lo = (L - 1) stride + kernel_size - 2 padding unless ``output_size`` says otherwise; as
    ``torch.nn.MaxUnpool1d``, computed by ``F.max_unpool1d`` (which says what each argument means)."""

    dims, unpool = 1, staticmethod(max_unpool1d)


class MaxUnpool2d(_MaxUnpool):
    """The partial inverse of MaxPool2d: ``layer(x, indices, output_size=None)`` puts each x[n, c, r, q] at
    flat position indices[n, c, r, q] of a zero (Ho, Wo) plane, (N, C, H, W) -> (N, C, Ho, Wo) or unbatched;
    as ``torch.nn.MaxUnpool2d``, computed by ``F.max_unpool2d`` (which says what each argument means). Pass
    the pooled input's size as ``output_size`` where the pooling dropped rows or columns."""

    dims, unpool = 2, staticmethod(max_unpool2d)


class MaxUnpool3d(_MaxUnpool):
    """The partial inverse of MaxPool3d: ``layer(x, indices, output_size=None)`` puts each element at its
    flat position in a zero (Do, Ho, Wo) volume, (N, C, D, H, W) -> (N, C, Do, Ho, Wo) or unbatched; as
    ``torch.nn.MaxUnpool3d``, computed by ``F.max_unpool3d`` (which says what each argument means)."""

    dims, unpool = 3, staticmethod(max_unpool3d)
