"""FractionalMaxPool2d: max pooling by pseudo-random overlapping windows (Graham 2014), as PyTorch's."""
from minigan.functional.arguments import is_number
from minigan.functional.fractional_pooling import fractional_max_pool2d
from minigan.nn.module import Module
from minigan.tensor import Tensor, tensor


class FractionalMaxPool2d(Module):
    """``fractional_max_pool2d`` as a layer, as ``torch.nn.FractionalMaxPool2d``: (N, C, H, W) -> (N, C, oh, ow)
    or (C, H, W) -> (C, oh, ow), by ``kernel_size`` windows, to ``output_size`` or ``output_ratio`` (one is
    needed). ``_random_samples`` (N, C, 2), if given, fixes the windows; else each call draws new ones from
    minigan's seeded generator; given, it is a buffer (in the state dict as ``_random_samples``, as PyTorch's).
    No parameters; prints as ``FractionalMaxPool2d()``, as PyTorch's."""

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None):
        super().__init__()
        if output_size is None and output_ratio is None:
            raise ValueError("FractionalMaxPool2d: requires either an output_size or an output_ratio")
        if output_size is None:
            ratios = (output_ratio, output_ratio) if is_number(output_ratio) else tuple(output_ratio)
            if not all(is_number(r) and 0 < r < 1 for r in ratios):
                raise ValueError(f"FractionalMaxPool2d: output_ratio must be between 0 and 1 (got {output_ratio!r})")
        self.kernel_size, self.output_size, self.output_ratio = kernel_size, output_size, output_ratio
        self.return_indices = return_indices
        if _random_samples is not None and not isinstance(_random_samples, Tensor):
            _random_samples = tensor(_random_samples)
        self.register_buffer("_random_samples", _random_samples)

    def forward(self, input):
        return fractional_max_pool2d(input, self.kernel_size, self.output_size, self.output_ratio,
                                     self.return_indices, _random_samples=self._random_samples)
