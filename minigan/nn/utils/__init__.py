"""Utilities for modules, as ``torch.nn.utils``: ``spectral_norm`` and ``remove_spectral_norm``."""
from minigan.nn.utils.spectral import remove_spectral_norm, spectral_norm

__all__ = ["spectral_norm", "remove_spectral_norm"]
