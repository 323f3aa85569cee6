"""Activations, with PyTorch's names, arguments and semantics: leaky_relu (a registry kernel), relu,
prelu, elu, selu, celu, gelu (its exact form through ``special.erfc``), silu, mish, hardtanh, sigmoid,
logsigmoid, tanh, tanhshrink, softsign, softplus, glu, softmax, softmin, log_softmax. (relu6, the
hard sigmoid and swish, the shrinks, threshold and rrelu are in ``piecewise.py``.)

Each op either composes differentiable ops or is one small Function whose backward is itself written
with differentiable ops, so gradients of gradients work (gradient penalties differentiate through D
twice). Forwards run through ``xp`` (NumPy or CuPy) in the input's dtype: Python scalar arguments are
cast to it, so float32 stays float32.
"""
import math

from minigan import backend, kernels
from minigan.function import Function
from minigan.functional.arguments import is_number
from minigan.functional.arithmetic import _masked, clip, exp, floating, where
from minigan.functional.reduction import logsumexp
from minigan.functional.shape import checked_axis, getitem, reshape
from minigan.functional.special import erfc
from minigan.tensor import Tensor


def number(op, name, value):
    """``value`` (a Python or NumPy number, not a bool) as a float, or a TypeError naming the op and the
    argument, rather than float()'s message, which names neither."""
    if not is_number(value):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    return float(value)


class LeakyReLU(Function):
    """y = x if x > 0 else a x.  Gradient: gx = gy if x > 0 else a gy (``LeakyReLUGrad``)."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return kernels.get("leaky_relu", backend.get_array_module(x))(x, self.slope)

    def backward(self, gy):
        return LeakyReLUGrad(self.inputs[0].data, self.slope).apply(gy)


class LeakyReLUGrad(Function):
    """gx = gy * (1 if x > 0 else a), a fused kernel that is linear in gy.

    Its own gradient is the same map applied to ggx (the dependence on x is piecewise constant), so
    double backward works without unfusing. It keeps the raw input array, which the forward node
    holds anyway, to know the sign pattern.
    """

    def __init__(self, x, slope):
        self.x, self.slope = x, slope

    def forward(self, gy):
        return kernels.get("leaky_relu_grad", backend.get_array_module(gy))(self.x, gy, self.slope)

    def backward(self, ggx):
        return LeakyReLUGrad(self.x, self.slope).apply(ggx)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU(float(negative_slope)).apply(x)


def relu(x):
    return LeakyReLU(0.0).apply(x)


class Sigmoid(Function):
    def forward(self, x):
        xp = backend.get_array_module(x)
        half = x.dtype.type(0.5)
        return xp.tanh(x * half) * half + half  # 1 / (1 + e^-x) without overflow for large |x|

    def backward(self, gy):
        y = self.output  # sigma' = sigma (1 - sigma): the output is all the gradient needs
        return gy * y * (1 - y)


class Tanh(Function):
    def forward(self, x):
        return backend.get_array_module(x).tanh(x)

    def backward(self, gy):
        y = self.output  # tanh' = 1 - tanh^2: reuse the output
        return gy * (1 - y * y)


class Softplus(Function):
    """y = log(1 + e^(b x)) / b, and y = x where b x > threshold, as ``torch.nn.functional.softplus``
    (there the two differ by less than e^-threshold / b). The soft part is computed as
    (max(bx, 0) + log1p(e^-|bx|)) / b so that it never overflows. y' = sigmoid(b x), 1 on the linear part.
    """

    def __init__(self, beta, threshold):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = backend.get_array_module(x)
        beta = x.dtype.type(self.beta)
        bx = x if self.beta == 1 else x * beta  # b = 1, the default: skip a multiply and a divide by 1
        y = xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))
        if self.beta != 1:
            y = y / beta
        # Kept for backward (a bool per element): there the slope is exactly 1, as in PyTorch.
        self.linear = bx > x.dtype.type(self.threshold)
        return xp.where(self.linear, x, y)

    def backward(self, gy):
        x = self.inputs[0]
        slope = sigmoid(x if self.beta == 1 else x * self.beta)
        return gy * where(self.linear, 1.0, slope)


def sigmoid(x):
    return Sigmoid().apply(floating(x))


def tanh(x):
    return Tanh().apply(floating(x))


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, linear (y = x) where beta x > threshold; ``torch.nn.functional.softplus``."""
    return Softplus(float(beta), float(threshold)).apply(floating(x))


def log_softmax(x, dim):
    """log softmax over axis ``dim``, as ``torch.nn.functional.log_softmax``: x_i - logsumexp(x) (the
    stable form: no exp() of a large x, no log of an underflowed probability)."""
    x = floating(x)
    return x - logsumexp(x, dim, keepdims=True)


def softmax(x, dim):
    """softmax over axis ``dim``, as ``torch.nn.functional.softmax``: exp(x_i) / sum_j exp(x_j),
    computed as exp(log_softmax(x)) so that it never overflows."""
    return exp(log_softmax(x, dim))


def softmin(x, dim):
    """softmin over axis ``dim``, as ``torch.nn.functional.softmin``: softmax(-x), exp(-x_i) / sum_j exp(-x_j)."""
    return softmax(-floating(x), checked_axis("softmin", dim, x.ndim))


def logsigmoid(x):
    """log sigmoid(x) = -softplus(-x), as ``torch.nn.functional.logsigmoid``, to float rounding for every x:
    softplus's form, max(-x, 0) + log1p(e^-|x|), never overflows, and its linear shortcut is turned off
    (threshold=inf; past the default 20 it would drop the log1p(e^-|x|) term, which float64 still holds
    for x < -20). The gradient, sigmoid(-x), comes from softplus's backward."""
    return -softplus(-floating(x), threshold=math.inf)


def tanhshrink(x):
    """x - tanh(x), as ``torch.nn.functional.tanhshrink``."""
    x = floating(x)
    return x - tanh(x)


def softsign(x):
    """x / (1 + |x|), as ``torch.nn.functional.softsign``. The slope at 0 is 1 (|x|'s gradient there is 0)."""
    x = floating(x)
    return x / (abs(x) + 1)


def glu(x, dim=-1):
    """Gated linear unit (Dauphin et al., "Language modeling with gated convolutional networks", 2017), as
    ``torch.nn.functional.glu``: split ``x`` in halves a, b along axis ``dim`` (of even size n) and return
    a * sigmoid(b), of x's shape with n/2 on that axis. A composition of getitem, sigmoid and mul."""
    x = floating(x)
    if x.ndim == 0:
        raise ValueError("glu: input must have an axis to halve, got a 0-d tensor")
    axis = checked_axis("glu", dim, x.ndim)
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"glu: axis {dim} must have an even size to be halved, got size {n} "
                         f"(input shape {tuple(x.shape)})")
    before = (slice(None),) * axis
    return getitem(x, before + (slice(0, n // 2),)) * sigmoid(getitem(x, before + (slice(n // 2, n),)))


# -- ELU and SELU ----------------------------------------------------------------------------------

# SELU's constants (Klambauer et al., "Self-normalizing neural networks", 2017), to PyTorch's digits.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class ELU(Function):
    """y = s x for x > 0, and s a (e^(c x) - 1) otherwise (ELU: s = c = 1; SELU: a and s its fixed
    constants, c = 1; CELU: s = 1, c = 1 / a).

    e^(c x) - 1 is computed with expm1, which keeps its precision for small |x| where the subtraction
    would cancel. Gradient: gx = gy s (1 if x > 0 else a c e^(c x)); at x = 0 it is s a c, the left side,
    as PyTorch's.
    """

    def __init__(self, alpha, scale=1.0, input_scale=1.0):
        self.alpha, self.scale, self.input_scale = alpha, scale, input_scale

    def forward(self, x):
        xp = backend.get_array_module(x)
        t = x.dtype.type
        # min(x, 0): e^x of the positive side (which where() discards) would overflow and warn.
        inner = xp.minimum(x, 0)
        if self.input_scale != 1:  # ELU and SELU skip a multiply by 1
            inner = inner * t(self.input_scale)
        negative = xp.expm1(inner) * t(self.alpha * self.scale)
        positive = x if self.scale == 1 else x * t(self.scale)
        return xp.where(x > 0, positive, negative)

    def backward(self, gy):
        x = self.inputs[0]
        # The slope from the input, not as y + a from the output: that subtraction would cancel for very
        # negative x. clip keeps e^x from overflowing on the positive side; clip, exp, mul and where are
        # differentiable, so this gradient can be differentiated again.
        inner = clip(x, None, 0.0)
        if self.input_scale != 1:
            inner = inner * self.input_scale
        slope = where(x.data > 0, self.scale, exp(inner) * (self.alpha * self.scale * self.input_scale))
        return gy * slope


def elu(x, alpha=1.0):
    """x for x > 0, alpha (e^x - 1) otherwise (Clevert et al., 2015); ``torch.nn.functional.elu``."""
    return ELU(float(alpha)).apply(floating(x))


def selu(x):
    """scale * elu(x, alpha) with SELU's fixed alpha ~ 1.6733 and scale ~ 1.0507; ``torch.nn.functional.selu``."""
    return ELU(SELU_ALPHA, SELU_SCALE).apply(floating(x))


def celu(x, alpha=1.0):
    """CELU (Barron, "Continuously differentiable exponential linear units", 2017): x for x > 0,
    alpha (e^(x / alpha) - 1) otherwise; ``torch.nn.functional.celu``. Its slope is 1 on both sides of 0
    for every alpha. As PyTorch, x / alpha is computed as x * (1 / alpha), and alpha must not be 0."""
    alpha = number("celu", "alpha", alpha)
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return ELU(alpha, 1.0, 1.0 / alpha).apply(floating(x))


# -- GELU, SiLU, Mish: x times a smooth gate ---------------------------------------------------------

_SQRT_HALF = math.sqrt(0.5)
_SQRT_TWO_OVER_PI = math.sqrt(2 / math.pi)


def gelu(x, approximate="none"):
    """GELU (Hendrycks and Gimpel, 2016): y = x Phi(x), Phi the standard normal CDF, as
    ``torch.nn.functional.gelu``.

    approximate="none": Phi(x) = erfc(-x / sqrt(2)) / 2. It equals PyTorch's (1 + erf(x / sqrt(2))) / 2
    but keeps its precision for very negative x, where 1 + erf cancels.
    approximate="tanh": Phi(x) ~ (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2, in PyTorch's form.
    Both are compositions of differentiable ops, so second derivatives work.
    """
    if approximate == "none":
        x = floating(x)
        return x * (erfc(x * -_SQRT_HALF) * 0.5)
    if approximate == "tanh":
        x = floating(x)
        inner = (x + x ** 3 * 0.044715) * _SQRT_TWO_OVER_PI
        return x * 0.5 * (tanh(inner) + 1)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


class SiLU(Function):
    """y = x sigmoid(x) (SiLU, or swish). One node rather than x * sigmoid(x): the sigmoid here is
    e^min(x,0) / (1 + e^-|x|), which keeps its relative precision for very negative x (the tanh form of
    ``Sigmoid`` rounds 1 + tanh(x/2) to 0 there), and only x is kept for backward.
    Gradient: gx = gy s (1 + x (1 - s)), s = sigmoid(x), written with ops (differentiable again)."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        e = xp.exp(-xp.abs(x))  # e^-|x| <= 1: never overflows
        return x * (xp.where(x >= 0, x.dtype.type(1), e) / (1 + e))

    def backward(self, gy):
        x = self.inputs[0]
        s = sigmoid(x)
        return gy * (s * (x * (1 - s) + 1))


def silu(x):
    """SiLU, also called swish: y = x sigmoid(x); ``torch.nn.functional.silu``."""
    return SiLU().apply(floating(x))


def mish(x):
    """Mish (Misra, 2019): y = x tanh(softplus(x)); ``torch.nn.functional.mish``."""
    x = floating(x)
    return x * tanh(softplus(x))


# -- Hardtanh and PReLU: piecewise linear -------------------------------------------------------------

class Hardtanh(Function):
    """y = min(max(x, lo), hi). gx = gy strictly inside (lo, hi) and 0 elsewhere, at the bounds too, as
    PyTorch's hardtanh (unlike clip, whose gradient passes at the bounds). The backward is a constant
    mask times gy, linear in gy, so its own gradient is the same mask."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        t = x.dtype.type
        return backend.get_array_module(x).clip(x, t(self.lo), t(self.hi))

    def backward(self, gy):
        x = self.inputs[0].data
        t = x.dtype.type
        return _masked(gy, (x > t(self.lo)) & (x < t(self.hi)))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    """x clipped to [min_val, max_val]; ``torch.nn.functional.hardtanh`` (its gradient is 0 at the bounds)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not be greater than max_val ({max_val})")
    return Hardtanh(float(min_val), float(max_val)).apply(floating(x))


def prelu(x, weight):
    """PReLU (He et al., 2015): y = x if x > 0 else w x, with one learned slope per channel (axis 1) or
    one for all, as ``torch.nn.functional.prelu``. ``weight`` has shape (1,) or (C,) (or is 0-d); an
    input with fewer than two axes has one channel.

    A composition of reshape, mul and where, all differentiable (so second derivatives, in x and in
    the weight, work); at x = 0 the gradient takes the w side, as PyTorch's.
    """
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu: weight must be a Tensor of shape (1,) or (C,), got {type(weight).__name__}")
    x = floating(x)
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.ndim > 1 or weight.numel() not in (1, channels):
        raise ValueError(f"prelu: weight of shape {tuple(weight.shape)} must have shape (1,) or ({channels},): "
                         f"one slope, or one per channel (axis 1) of the input of shape {tuple(x.shape)}")
    shape = [1] * x.ndim
    if weight.numel() != 1:
        shape[1] = channels  # (1, C, 1, ...): broadcast over the batch and the spatial axes
    return where(x.data > 0, x, x * reshape(weight, shape))
