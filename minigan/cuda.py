"""``minigan.cuda.is_available()``, as ``torch.cuda.is_available()``: True only on a real GPU."""
from minigan.backend import cuda_is_available as is_available, cuda_unavailable_reason as unavailable_reason

__all__ = ["is_available", "unavailable_reason"]
