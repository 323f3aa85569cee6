"""Layers that only reshape: Flatten and Unflatten (PyTorch's defaults and names)."""
from minigan.functional.shape import checked_axis, flatten, reshape
from minigan.nn.module import Module


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` (default: all but the batch axis)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size``, e.g. (N, 6272) -> (N, 128, 7, 7)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        dim = checked_axis("Unflatten", self.dim, x.ndim)
        try:
            return reshape(x, x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])
        except ValueError:
            raise ValueError(f"Unflatten: cannot split axis {self.dim} of shape {tuple(x.shape)} into "
                             f"{self.unflattened_size}") from None

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
