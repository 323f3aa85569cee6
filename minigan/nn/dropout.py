"""Dropout: zero each element with probability p in training mode, scaling the rest by 1 / (1 - p)."""
from minigan.functional.sampling import dropout
from minigan.nn.module import Module


class Dropout(Module):
    """Identity in eval mode. ``inplace`` is accepted for PyTorch compatibility (computed out of place)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p, self.inplace = p, bool(inplace)

    def forward(self, x):
        return dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
