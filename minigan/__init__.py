"""minigan: a GAN engine written from scratch on NumPy (CPU) and CuPy (GPU).

``import minigan as mg`` gives tensors and autograd; ``minigan.functional`` the ops; ``minigan.nn``
layers; ``minigan.optim`` optimisers; ``minigan.gan`` the GAN library.
"""
from minigan import backend
from minigan.backend import DEFAULT_DTYPE
from minigan.tensor import Tensor, tensor
from minigan.function import Function, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from minigan.factories import full, ones, ones_like, rand, randn, zeros, zeros_like
from minigan.random import manual_seed
from minigan import cuda, functional
from minigan import nn, optim

float32 = DEFAULT_DTYPE
float64 = backend.np.dtype("float64")

__version__ = "0.1.0"
