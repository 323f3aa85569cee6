"""Parametrizations built on ``minigan.nn.utils.parametrize``, as ``torch.nn.utils.parametrizations``:
``spectral_norm``.

Spectral normalisation here is the parametrization form of ``minigan.nn.utils.spectral_norm`` (see
``spectral.py`` for the method and the (h, w) matrix view of a weight): the same power iteration and
sigma, computed whenever ``module.weight`` is read rather than in a forward pre-hook, with PyTorch's
names and state-dict keys (``parametrizations.weight.original``, ``parametrizations.weight.0._u``,
``parametrizations.weight.0._v``).
"""
import numbers

from minigan.factories import randn
from minigan.functional import clip, sqrt
from minigan.nn.module import Module
from minigan.nn.utils.parametrize import describe_tensors, register_parametrization
from minigan.nn.utils.spectral import as_matrix, default_dim, divide_by_sigma, normalize, power_iterate
from minigan.tensor import Tensor

__all__ = ["spectral_norm"]


class _SpectralNorm(Module):
    """The parametrization W -> W / sigma(W), as ``torch.nn.utils.parametrizations._SpectralNorm``.

    For a weight of two or more axes, sigma = u^T W v with W seen as an (h, w) matrix (axis ``dim``
    first, the rest flattened) and buffers ``_u`` (h,), ``_v`` (w,): normalised N(0, 1) draws from
    minigan's seeded generator, then 15 power-iteration steps on ``weight`` to start close to the top
    singular vectors. Each call in training mode first runs ``n_power_iterations`` steps
    u = normalize(W v), v = normalize(W^T u) (in that order, as PyTorch here; the hook-based version
    starts from v), updating the buffers in place; eval mode uses them as they are. sigma is
    differentiable in W only. A 1-D weight is simply divided by its norm: W / max(||W||, eps).
    """

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        shape = tuple(weight.shape)
        if not -len(shape) <= dim < len(shape):
            raise IndexError(f"spectral_norm: dim={dim} is out of range for a weight of shape {shape}")
        if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, numbers.Integral) \
                or n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: n_power_iterations must be a positive integer, got "
                             f"{n_power_iterations!r}")
        self.dim, self.eps, self.n_power_iterations = dim % len(shape), float(eps), int(n_power_iterations)
        if len(shape) > 1:
            h = shape[self.dim]
            u = randn(h, dtype=weight.dtype, device=weight.device)
            v = randn(weight.data.size // h, dtype=weight.dtype, device=weight.device)
            self.register_buffer("_u", Tensor._wrap(normalize(u.data, self.eps)))
            self.register_buffer("_v", Tensor._wrap(normalize(v.data, self.eps)))
            self._power_method(weight.data, 15)

    def _power_method(self, weight, n_steps):
        """``n_steps`` steps on the weight array, written into ``_u`` and ``_v`` in place (they stay the
        tensors that the state dict and ``to`` know)."""
        u, v = power_iterate(as_matrix(weight, self.dim), self._v.data, n_steps, self.eps)
        self._u.data[...], self._v.data[...] = u, v
        self._u._bump_version()
        self._v._bump_version()

    def forward(self, weight):
        if weight.ndim == 1:
            return weight / clip(sqrt((weight * weight).sum()), min=self.eps)
        if self.training:
            self._power_method(weight.data, self.n_power_iterations)
        return divide_by_sigma(weight, self._u.data, self._v.data, self.dim)

    def right_inverse(self, value):
        # Any weight is its own preimage: W / sigma(W) is unchanged by scaling W, so the original keeps
        # the assigned values (PyTorch does the same).
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectrally normalise the parameter (or buffer) ``name`` of ``module`` with a parametrization, in
    place; returns ``module``. As ``torch.nn.utils.parametrizations.spectral_norm``.

    ``module.<name>`` becomes W / sigma(W), recomputed on each read (so gradients flow to
    ``module.parametrizations.<name>.original``, of any order), with one power-iteration step per read
    in training mode (``n_power_iterations``, at least 1) and none in eval mode; see ``_SpectralNorm``.
    ``dim`` defaults to 1 for the transposed convolutions (their output channels), 0 otherwise. Undo it with
    ``parametrize.remove_parametrizations(module, name)``.
    Usage: ``parametrizations.spectral_norm(nn.Conv2d(64, 128, 4, 2, 1))``.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter or buffer name={name!r} "
                         f"({describe_tensors(module)})")
    if dim is None:
        dim = default_dim(module)
    return register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
