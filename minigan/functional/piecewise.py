"""Piecewise activations, with PyTorch's names, arguments and gradients at the kinks: relu6, hardsigmoid,
hardswish, hardshrink, softshrink, threshold, rrelu. (hardtanh, leaky_relu and prelu, the older members of
the family, live in ``activation.py``.)

At a kink the derivative has two one-sided values and PyTorch picks one; each docstring says which, and
these ops pick the same (checked against torch 2.13). Where PyTorch's own comparison lets a NaN through
(x <= t is False for NaN), these use the same comparison, so a NaN input gives a NaN output, as there.

Each backward is a constant array times gy (hardswish's: an op of x times gy), written with
differentiable ops, so second derivatives work. Scalars are cast to the input's dtype: float32 stays
float32; integer inputs become float32.
"""
from minigan import backend, random
from minigan.function import Function
from minigan.functional.activation import Hardtanh, leaky_relu, number
from minigan.functional.arithmetic import _masked, floating, where
from minigan.tensor import Tensor


def relu6(x):
    """min(max(x, 0), 6) (Krizhevsky, "Convolutional deep belief networks on CIFAR-10", 2010; used by
    MobileNet); ``torch.nn.functional.relu6``. It is hardtanh(x, 0, 6), in PyTorch too, so the gradient is
    0 at both kinks, x = 0 and x = 6 (the constant side)."""
    return Hardtanh(0.0, 6.0).apply(floating(x))


class Hardsigmoid(Function):
    """y = min(max(x + 3, 0), 6) / 6, a piecewise-linear sigmoid (Howard et al., "Searching for
    MobileNetV3", 2019). gx = gy / 6 strictly inside (-3, 3) and 0 elsewhere, at x = +-3 too, as PyTorch's.
    The backward is a constant array times gy, so its own gradient is that array times ggx (nothing
    is saved: the input, which the node holds anyway, gives the mask)."""

    def forward(self, x):
        t = x.dtype.type
        return backend.get_array_module(x).clip(x + t(3), t(0), t(6)) / t(6)

    def backward(self, gy):
        x = self.inputs[0].data
        t = x.dtype.type
        return gy * Tensor._wrap(((x > t(-3)) & (x < t(3))) * t(1 / 6))


def hardsigmoid(x):
    """min(max(x + 3, 0), 6) / 6; ``torch.nn.functional.hardsigmoid`` (gradient 0 at x = +-3)."""
    return Hardsigmoid().apply(floating(x))


class Hardswish(Function):
    """y = x min(max(x + 3, 0), 6) / 6, MobileNetV3's h-swish (Howard et al., 2019).

    dy/dx = 0 for x <= -3, x / 3 + 1/2 for -3 < x < 3, and 1 for x >= 3. At the kinks PyTorch takes the
    outer side, 0 at x = -3 (not -1/2) and 1 at x = 3 (not 3/2); so does this. The slope is built with
    where and div, so the second derivative is 1/3 strictly inside (-3, 3) and 0 elsewhere, as PyTorch's.
    """

    def forward(self, x):
        t = x.dtype.type
        return x * backend.get_array_module(x).clip(x + t(3), t(0), t(6)) / t(6)

    def backward(self, gy):
        x = self.inputs[0]
        t = x.dtype.type
        inside = (x.data > t(-3)) & (x.data < t(3))
        return gy * where(inside, x / 3 + 0.5, (x.data >= t(3)).astype(x.dtype))


def hardswish(x):
    """x min(max(x + 3, 0), 6) / 6; ``torch.nn.functional.hardswish`` (gradient 0 at x = -3, 1 at x = 3)."""
    return Hardswish().apply(floating(x))


class Shrink(Function):
    """hardshrink (``soft`` False): y = x outside [-l, l], 0 on it; softshrink: y = x - clip(x, -l, l),
    that is x - l above l, x + l below -l, 0 between (Donoho and Johnstone's soft thresholding).

    gx = gy outside the closed interval and 0 on it, at x = +-l too: PyTorch's choice (softshrink's
    one-sided slopes there are 0 and 1; hardshrink jumps). Linear in gy, so its own gradient is the same
    mask (recomputed from the input the node holds anyway)."""

    def __init__(self, lambd, soft):
        self.lambd, self.soft = lambd, soft

    def _outside(self, x):
        # not (-l <= x <= l), PyTorch's test: a NaN is "outside", so it passes through as NaN
        t = x.dtype.type
        return ~((x >= t(-self.lambd)) & (x <= t(self.lambd)))

    def forward(self, x):
        xp, t = backend.get_array_module(x), x.dtype.type
        if self.soft:
            return x - xp.clip(x, t(-self.lambd), t(self.lambd))
        return xp.where(self._outside(x), x, t(0))

    def backward(self, gy):
        return _masked(gy, self._outside(self.inputs[0].data))


def hardshrink(x, lambd=0.5):
    """x where |x| > lambd, else 0; ``torch.nn.functional.hardshrink`` (gradient 0 at x = +-lambd). A
    negative lambd leaves every x as it is, as in PyTorch."""
    return Shrink(number("hardshrink", "lambd", lambd), soft=False).apply(floating(x))


def softshrink(x, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between; ``torch.nn.functional.softshrink``
    (gradient 0 at x = +-lambd). lambd must be >= 0."""
    lambd = number("softshrink", "lambd", lambd)
    if not lambd >= 0:
        raise ValueError(f"softshrink: lambd must be non-negative, got {lambd}")
    return Shrink(lambd, soft=True).apply(floating(x))


class Threshold(Function):
    """y = value where x <= threshold, else x. gx = 0 where x <= threshold (at x = threshold too, as
    PyTorch's), else gy: a constant mask times gy, so its own gradient is the same mask."""

    def __init__(self, threshold, value):
        self.threshold, self.value = threshold, value

    def forward(self, x):
        t = x.dtype.type
        return backend.get_array_module(x).where(x <= t(self.threshold), t(self.value), x)

    def backward(self, gy):
        x = self.inputs[0].data
        return _masked(gy, ~(x <= x.dtype.type(self.threshold)))


def threshold(x, threshold, value):
    """x where x > threshold, else value; ``torch.nn.functional.threshold`` (gradient 0 at the threshold)."""
    return Threshold(number("threshold", "threshold", threshold),
                     number("threshold", "value", value)).apply(floating(x))


class RReLU(Function):
    """y = s x for a fixed array of slopes s, drawn once per call (1 where x > 0). Linear in x, so the
    gradient is the same map applied to gy. The slopes are kept for backward: they are random, so they
    cannot be recomputed from the input."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return x * self.slope

    def backward(self, gy):
        return RReLU(self.slope).apply(gy)


def rrelu(x, lower=1 / 8, upper=1 / 3, training=False):
    """Randomized leaky ReLU (Xu et al., "Empirical evaluation of rectified activations in convolutional
    network", 2015), as ``torch.nn.functional.rrelu``: y = x for x > 0, a x otherwise.

    In training, a is drawn uniformly from [lower, upper) for each element, from
    ``minigan.random.generator(x.device)`` (so ``mg.manual_seed`` repeats it), in the input's dtype; at
    x = 0 the gradient is that element's a, as PyTorch's. In evaluation a is the fixed (lower + upper) / 2:
    ``leaky_relu``, whose gradient at 0 is also a.
    """
    lower, upper = number("rrelu", "lower", lower), number("rrelu", "upper", upper)
    if lower > upper:
        raise ValueError(f"rrelu: lower ({lower}) must not be greater than upper ({upper})")
    x = floating(x)
    if not training:
        return leaky_relu(x, (lower + upper) / 2)
    t = x.dtype.type
    drawn = random.generator(x.device).random(x.shape, dtype=x.dtype)
    drawn *= t(upper - lower)
    drawn += t(lower)
    return RReLU(backend.get_array_module(drawn).where(x.data > 0, t(1), drawn)).apply(x)
