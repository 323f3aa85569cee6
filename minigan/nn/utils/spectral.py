"""Spectral normalisation of a layer's weight (Miyato et al., 2018, "Spectral Normalization for
Generative Adversarial Networks"), with the semantics of PyTorch's ``torch.nn.utils.spectral_norm``.

A layer is L-Lipschitz when L bounds the largest singular value sigma(W) of its weight; dividing W by
sigma(W) makes it (about) 1-Lipschitz, which keeps a discriminator's gradients tame (SNGAN, SAGAN,
BigGAN). sigma(W) is estimated by power iteration, one step per training call, on vectors u and v
kept between calls: W changes little per optimiser step, so one step keeps the estimate close.

The weight is seen as an (h, w) matrix W with axis ``dim`` first and the other axes flattened in
order: h = shape[dim], w = size / h. ``dim`` is 0 (Linear (out, in) -> h = out; Conv2d (out, in, kh,
kw) -> h = out) except for the transposed convolutions, whose output channels are axis 1 of (in, out, kh, kw).
"""
import numbers

from minigan import backend
from minigan.function import no_grad
from minigan.factories import randn
from minigan.nn.conv import _Conv
from minigan.nn.module import Parameter
from minigan.tensor import Tensor


def default_dim(module):
    """The weight axis holding the output channels: 1 for the transposed convolutions (in, out, k...), 0
    for every other layer, as PyTorch chooses."""
    return 1 if isinstance(module, _Conv) and module.transposed else 0


def normalize(x, eps):
    """x / max(||x||, eps), on raw arrays; the eps guard keeps a zero vector at zero, as F.normalize."""
    xp = backend.get_array_module(x)
    return x / xp.maximum(xp.linalg.norm(x), x.dtype.type(eps))


def as_matrix(array, dim):
    """A weight array as the (h, w) matrix: axis ``dim`` first, the rest flattened in order."""
    xp = backend.get_array_module(array)
    return xp.moveaxis(array, dim, 0).reshape(array.shape[dim], -1)


def power_iterate(matrix, x, n_steps, eps):
    """``n_steps`` (>= 1) steps of y = normalize(A x), x = normalize(A^T y) on raw arrays (outside the
    graph); returns (y, x). With A = W (h, w) and x = v (w,) they tend to the top singular vectors
    (u, v); with A = W^T and x = u they tend to (v, u)."""
    for _ in range(n_steps):
        y = normalize(matrix @ x, eps)
        x = normalize(matrix.T @ y, eps)
    return y, x


def divide_by_sigma(weight, u, v, dim):
    """W / sigma with sigma = u^T W v, W the Tensor ``weight`` seen as ``as_matrix(weight, dim)`` (h, w),
    u (h,) and v (w,) arrays held constant: differentiable in W only, as in the paper and in PyTorch.

    sigma = u^T W v = <W, u v^T>: with the outer product laid out as the weight, sigma is one product
    and a sum, linear in W, so its first and second derivatives are exact and cheap. The outer product
    is a fresh array, so the graph never sees u and v, which the next training call overwrites (a D
    called on real and fake data before one backward).
    """
    xp = backend.get_array_module(u)
    shape = weight.shape
    moved = (shape[dim],) + shape[:dim] + shape[dim + 1:]  # as_matrix's layout before the flattening
    outer = Tensor._wrap(xp.moveaxis(xp.outer(u, v).reshape(moved), 0, dim))
    return weight / (weight * outer).sum()


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name>`` to ``<name>_orig / sigma`` before each call.

    It holds only its settings, never the module (which it receives as an argument), so a deep copy
    of the module copies a hook that serves the copy.
    """

    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def compute_weight(self, module, power_iteration):
        """W_orig / sigma with sigma = u^T W v (see ``divide_by_sigma``).

        With ``power_iteration``, first ``n_power_iterations`` steps of v = normalize(W^T u),
        u = normalize(W v), written into the buffers.
        """
        weight = getattr(module, self.name + "_orig")
        u_buffer, v_buffer = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        u, v = u_buffer.data, v_buffer.data
        if power_iteration and self.n_power_iterations > 0:
            v, u = power_iterate(as_matrix(weight.data, self.dim).T, u, self.n_power_iterations, self.eps)
            u_buffer.data[...], v_buffer.data[...] = u, v
            u_buffer._bump_version()
            v_buffer._bump_version()
        return divide_by_sigma(weight, u, v, self.dim)

    def __call__(self, module, args):
        setattr(module, self.name, self.compute_weight(module, power_iteration=module.training))


def _hook_of(module, name):
    """(key, hook) of the spectral norm of parameter ``name`` of ``module``, or (None, None)."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            return key, hook
    return None, None


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectrally normalise the parameter ``name`` of ``module``, in place; returns ``module``.

    The parameter (shape S) is replaced by a parameter ``<name>_orig`` (the same object, so an
    optimiser built before still trains it) and buffers ``<name>_u`` (h,) and ``<name>_v`` (w,),
    normalised N(0, 1) draws from minigan's seeded generator on the parameter's device and dtype,
    where (h, w) is the shape of the weight seen as a matrix with axis ``dim`` first (``dim`` defaults
    to 1 for the transposed convolutions, 0 otherwise). Before every call a forward pre-hook sets
    ``module.<name>`` to W_orig / sigma, sigma = u^T W v; in training mode it first runs
    ``n_power_iterations`` power-iteration steps, which update u and v; in eval mode u and v stay as
    they are (``n_power_iterations=0`` behaves so in training mode too). ``eps`` guards the
    normalisation of u and v against a zero norm.

    State-dict keys are PyTorch's (``weight_orig``, ``weight_u``, ``weight_v``). Until the first
    call ``module.<name>`` is the unnormalised weight, sharing memory with ``<name>_orig`` as in
    PyTorch, so an initialisation applied after this (``model.apply(dcgan_init)``) reaches the
    trained parameter. Usage: ``nn.utils.spectral_norm(nn.Conv2d(64, 128, 4, 2, 1))``.
    """
    param = module._parameters.get(name)
    if param is None:
        if _hook_of(module, name)[1] is not None:
            raise RuntimeError(f"spectral_norm: parameter {name!r} of {type(module).__name__} is already "
                               f"spectrally normalised ({name}_orig of shape "
                               f"{tuple(getattr(module, name + '_orig').shape)}); apply it once")
        present = ", ".join(f"{k!r} {tuple(p.shape)}" for k, p in module._parameters.items() if p is not None)
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter name={name!r} "
                         f"(its parameters: {present or 'none'})")
    if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, numbers.Integral) \
            or n_power_iterations < 0:
        raise ValueError(f"spectral_norm: n_power_iterations must be an integer >= 0, got {n_power_iterations!r}")
    shape = tuple(param.shape)
    if dim is None:
        dim = default_dim(module)
    if not -len(shape) <= dim < len(shape):
        raise ValueError(f"spectral_norm: dim={dim} is out of range for parameter {name!r} of shape {shape}")
    hook = SpectralNorm(name, int(n_power_iterations), dim % len(shape), float(eps))
    h = shape[hook.dim]
    w = param.data.size // h
    u = randn(h, dtype=param.dtype, device=param.device)
    v = randn(w, dtype=param.dtype, device=param.device)
    u.data, v.data = normalize(u.data, hook.eps), normalize(v.data, hook.eps)

    delattr(module, name)
    module.register_parameter(name + "_orig", param)
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    setattr(module, name, Tensor._wrap(param.data))
    module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``<name>`` becomes a plain Parameter again, holding the current
    normalised weight W_orig / (u^T W v) with the stored u and v (no power iteration), as in PyTorch;
    ``<name>_orig``, ``<name>_u`` and ``<name>_v`` are gone. Returns ``module``."""
    key, hook = _hook_of(module, name)
    if hook is None:
        raise ValueError(f"remove_spectral_norm: parameter name={name!r} of {type(module).__name__} has no "
                         f"spectral norm to remove")
    with no_grad():
        weight = hook.compute_weight(module, power_iteration=False)
    del module._forward_pre_hooks[key]
    for suffix in ("_orig", "_u", "_v"):
        delattr(module, name + suffix)
    # register_parameter also drops the attribute the hook last set.
    module.register_parameter(name, Parameter(weight.data))
    return module
