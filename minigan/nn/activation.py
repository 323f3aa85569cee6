"""Activation layers, with PyTorch's names, arguments, reprs and state-dict keys: ReLU, ReLU6, LeakyReLU,
RReLU, PReLU (the only one with a parameter), ELU, SELU, CELU, GELU, SiLU, Mish, Hardtanh, Hardsigmoid,
Hardswish, Hardshrink, Softshrink, Tanhshrink, Softsign, Threshold, Softplus, Tanh, Sigmoid, LogSigmoid, GLU,
Softmax, Softmin, Softmax2d, LogSoftmax.

``inplace`` is accepted so that PyTorch code (``nn.ReLU(True)`` in DCGAN) carries over unchanged; the
result is the same, but minigan always computes it out of place (its ops never overwrite an input
the graph may still need).
"""
import warnings

from minigan.functional import activation as F
from minigan.functional import piecewise as P
from minigan.nn import init
from minigan.nn.module import Module, new_parameter


def _inplace(inplace, first=True):
    """The ", inplace=True" part of a repr, as PyTorch writes it (nothing when False)."""
    return ("inplace=True" if first else ", inplace=True") if inplace else ""


class _ArgumentFree(Module):
    """An activation with no argument but PyTorch's ``inplace``: y = fn(x)."""

    fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x):
        return self.fn(x)

    def extra_repr(self):
        return _inplace(self.inplace)


class ReLU(_ArgumentFree):
    fn = staticmethod(F.relu)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, bool(inplace)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + _inplace(self.inplace, first=False)


class PReLU(Module):
    """y = x if x > 0 else w x with a learned ``weight`` w of shape (num_parameters,), all ``init``
    (0.25) at first: one slope for every channel, or one per channel (num_parameters = C, axis 1)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = int(num_parameters), init
        if self.num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be at least 1, got {num_parameters}")
        self.weight = new_parameter((self.num_parameters,), device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, bool(inplace)

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + _inplace(self.inplace, first=False)


class SELU(_ArgumentFree):
    fn = staticmethod(F.selu)


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):  # PyTorch only says so at the first forward; say it here
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(_ArgumentFree):
    fn = staticmethod(F.silu)


class Mish(_ArgumentFree):
    fn = staticmethod(F.mish)


class Hardtanh(Module):
    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if not max_val > min_val:  # as torch.nn.Hardtanh, which (unlike the function) refuses equal bounds
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, bool(inplace)

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace(self.inplace, first=False)


class ReLU6(Hardtanh):
    """hardtanh with bounds 0 and 6, as in PyTorch (where ReLU6 is a Hardtanh, with its min_val and max_val)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class Hardsigmoid(_ArgumentFree):
    fn = staticmethod(P.hardsigmoid)

    def extra_repr(self):
        return ""  # PyTorch's repr leaves inplace out, even when it is True


class Hardswish(_ArgumentFree):
    fn = staticmethod(P.hardswish)

    def extra_repr(self):
        return ""  # as Hardsigmoid's


class Hardshrink(Module):
    def __init__(self, lambd=0.5):
        super().__init__()
        F.number("Hardshrink", "lambd", lambd)
        self.lambd = lambd  # as given, for the repr (PyTorch prints Hardshrink(1), not Hardshrink(1.0))

    def forward(self, x):
        return P.hardshrink(x, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Module):
    def __init__(self, lambd=0.5):
        super().__init__()
        # PyTorch refuses a negative lambd only at the first call; say it here
        if not F.number("Softshrink", "lambd", lambd) >= 0:
            raise ValueError(f"Softshrink: lambd must be non-negative, got {lambd}")
        self.lambd = lambd

    def forward(self, x):
        return P.softshrink(x, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Threshold(Module):
    """y = x where x > threshold, else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        for name, number in (("threshold", threshold), ("value", value)):  # say so here, not at the first call
            F.number("Threshold", name, number)
        self.threshold, self.value, self.inplace = threshold, value, bool(inplace)

    def forward(self, x):
        return P.threshold(x, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + _inplace(self.inplace, first=False)


class RReLU(Module):
    """Randomized leaky ReLU: a slope drawn from [lower, upper) per element in training mode, the fixed
    (lower + upper) / 2 in eval mode."""

    def __init__(self, lower=1 / 8, upper=1 / 3, inplace=False):
        super().__init__()
        # PyTorch refuses lower > upper only at the first call; say it here
        if F.number("RReLU", "lower", lower) > F.number("RReLU", "upper", upper):
            raise ValueError(f"RReLU: lower ({lower}) must not be greater than upper ({upper})")
        self.lower, self.upper, self.inplace = lower, upper, bool(inplace)

    def forward(self, x):
        return P.rrelu(x, self.lower, self.upper, self.training)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + _inplace(self.inplace, first=False)


class CELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        if F.number("CELU", "alpha", alpha) == 0:  # PyTorch says so only at the first call; say it here
            raise ValueError("CELU: alpha must not be 0 (it divides x)")
        self.alpha, self.inplace = alpha, bool(inplace)

    def forward(self, x):
        return F.celu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + _inplace(self.inplace, first=False)


class Tanhshrink(Module):
    def forward(self, x):
        return F.tanhshrink(x)


class Softsign(Module):
    def forward(self, x):
        return F.softsign(x)


class LogSigmoid(Module):
    def forward(self, x):
        return F.logsigmoid(x)


class GLU(Module):
    """Gated linear unit: halves a, b of the input along ``dim``, a * sigmoid(b)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.glu(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


def _softmax_dim(name, dim, ndim):
    """``dim``, or for dim=None PyTorch's legacy choice (axis 0 for 0-, 1- and 3-d inputs, else axis 1),
    with PyTorch's deprecation warning."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", UserWarning, stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, _softmax_dim("softmax", self.dim, x.ndim))

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmin(x, _softmax_dim("softmin", self.dim, x.ndim))

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax2d(Module):
    """softmax over the channels at each location: axis -3 of a (C, H, W) or (N, C, H, W) input."""

    def forward(self, x):
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {x.ndim}D instead "
                             f"(shape {tuple(x.shape)})")
        return F.softmax(x, -3)


class LogSoftmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, _softmax_dim("log_softmax", self.dim, x.ndim))

    def extra_repr(self):
        return f"dim={self.dim}"
