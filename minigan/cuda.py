"""``minigan.cuda``, as ``torch.cuda``: ``is_available()`` (True only on a real GPU), the reason when it is
not, and ``synchronize()`` (wait for the GPU's queued work, e.g. before reading a timer)."""
from minigan.backend import cuda_is_available as is_available
from minigan.backend import cuda_synchronize as synchronize
from minigan.backend import cuda_unavailable_reason as unavailable_reason

__all__ = ["is_available", "synchronize", "unavailable_reason"]
