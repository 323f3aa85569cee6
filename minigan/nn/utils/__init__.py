"""Utilities for modules, as ``torch.nn.utils``: ``spectral_norm`` and ``remove_spectral_norm``;
``clip_grad_norm_`` and ``clip_grad_value_``; the submodules ``parametrize`` (register_parametrization and
friends) and ``parametrizations`` (the parametrization form of spectral_norm)."""
from minigan.nn.utils import parametrizations, parametrize
from minigan.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from minigan.nn.utils.spectral import remove_spectral_norm, spectral_norm

__all__ = ["spectral_norm", "remove_spectral_norm", "clip_grad_norm_", "clip_grad_value_", "parametrize",
           "parametrizations"]
