"""Elementwise arithmetic with NumPy broadcasting: + - * / ** neg exp log sqrt abs where maximum clip.

Binary ops accept Tensors, arrays and Python or NumPy scalars. Scalars are "weak", as in PyTorch:
they take the tensor's dtype, so ``x * 0.5`` stays float32. An integer tensor meeting a float takes
the float's dtype. Each backward sums the gradient back to its input's shape (``sum_to``).
"""
import numpy as np

from minigan import backend
from minigan.function import Function
from minigan.functional.shape import sum_to
from minigan.tensor import Tensor


def _weak(value, like, op):
    """A Python or NumPy scalar (or other array) as a tensor beside ``like``, with PyTorch's dtype rule."""
    xp = like._xp
    if isinstance(value, (bool, int, float, np.generic)) or getattr(value, "ndim", None) == 0:
        # A 0-d CuPy array has a dtype but cannot go through np.asarray (no implicit GPU->host copy).
        value_dtype = value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype
        is_float = isinstance(value, float) or value_dtype.kind == "f"
        if like.dtype.kind == "f":
            dtype = like.dtype
        elif is_float:
            dtype = backend.DEFAULT_DTYPE
        else:
            dtype = like.dtype
        return Tensor._wrap(xp.asarray(value, dtype=dtype))
    if isinstance(value, np.ndarray) or backend.is_cupy_array(value):
        return Tensor._wrap(backend.to_device(value, like.device))
    if isinstance(value, (list, tuple)):
        return _weak(xp.asarray(value, dtype=like.dtype if like.dtype.kind == "f" else None), like, op)
    raise TypeError(f"{op}: cannot combine a tensor of shape {tuple(like.shape)} with {type(value).__name__}")


def operands(a, b, op):
    """Both operands as tensors with one float dtype (a Python or NumPy operand goes to the tensor's
    device; two tensors on different devices are refused by ``Function.apply``, naming the op)."""
    if not isinstance(a, Tensor):
        a = _weak(a, b, op)
    elif not isinstance(b, Tensor):
        b = _weak(b, a, op)
    ka, kb = a.dtype.kind, b.dtype.kind
    if ka == "f" and kb != "f":
        b = Tensor._wrap(b.data.astype(a.dtype))
    elif kb == "f" and ka != "f":
        a = Tensor._wrap(a.data.astype(b.dtype))
    return a, b


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), sum_to(gy, b.shape)


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), sum_to(-gy, b.shape)


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(gy * b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        a, b = self.inputs
        ga = gy / b
        gb = sum_to(-ga * a / b, b.shape) if self.needs_input_grad[1] else None
        return sum_to(ga, a.shape), gb


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Pow(Function):
    """y = x ** c for a constant exponent c; dy/dx = c x^(c-1)."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x ** x.dtype.type(self.c) if x.dtype.kind == "f" else x ** self.c

    def backward(self, gy):
        c = self.c
        if c == 0:
            return gy * 0
        if c == 1:
            return gy
        return gy * (pow(self.inputs[0], c - 1) * c)


class Exp(Function):
    def forward(self, x):
        return backend.get_array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.output  # d exp(x) = exp(x): the output is the gradient's only need


class Log(Function):
    def forward(self, x):
        return backend.get_array_module(x).log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


class Sqrt(Function):
    def forward(self, x):
        return backend.get_array_module(x).sqrt(x)

    def backward(self, gy):
        return gy / (self.output * 2)  # d sqrt(x) = 1 / (2 sqrt(x)): reuse the output


class Abs(Function):
    def forward(self, x):
        return backend.get_array_module(x).abs(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return gy * Tensor._wrap(backend.get_array_module(x).sign(x).astype(gy.dtype))


def _masked(gy, mask):
    """gy where ``mask`` (a constant bool array), else 0; differentiable in gy."""
    return gy * Tensor._wrap(mask.astype(gy.dtype))


class Where(Function):
    """y = a where cond else b, for a constant boolean ``cond``."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        return backend.get_array_module(a, b).where(self.cond, a, b)

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(_masked(gy, self.cond), a.shape), sum_to(_masked(gy, ~self.cond), b.shape)


class Maximum(Function):
    """Elementwise max; at a tie the gradient goes to the first argument."""

    def forward(self, a, b):
        self.first = a >= b
        return backend.get_array_module(a, b).maximum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(_masked(gy, self.first), a.shape), sum_to(_masked(gy, ~self.first), b.shape)


class Clip(Function):
    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        xp = backend.get_array_module(x)
        lo = None if self.low is None else x.dtype.type(self.low)
        hi = None if self.high is None else x.dtype.type(self.high)
        return xp.clip(x, lo, hi)

    def backward(self, gy):
        x = self.inputs[0].data
        inside = True
        if self.low is not None:
            inside = x >= self.low
        if self.high is not None:
            inside = inside & (x <= self.high)
        return _masked(gy, inside)


class AsType(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return astype(gy, self.in_dtype)


class ToDevice(Function):
    def __init__(self, device):
        self.device = device

    def forward(self, x):
        self.in_device = backend.device_of(x)
        return backend.to_device(x, self.device)

    def backward(self, gy):
        return to_device(gy, self.in_device)


def floating(x):
    """``x``, or an integer (or bool) tensor as float32: ops whose results are fractions (/, exp, log,
    sqrt, the sigmoid...) give PyTorch's default float dtype, not NumPy's float64."""
    return x if x.dtype.kind in "fc" else Tensor._wrap(x.data.astype(backend.DEFAULT_DTYPE))


def add(a, b):
    return Add().apply(*operands(a, b, "add"))


def sub(a, b):
    return Sub().apply(*operands(a, b, "sub"))


def mul(a, b):
    return Mul().apply(*operands(a, b, "mul"))


def div(a, b):
    a, b = operands(a, b, "div")
    return Div().apply(floating(a), floating(b))


def neg(x):
    return Neg().apply(x)


def pow(x, c):
    """``x ** c``; a tensor exponent (or a scalar base) goes through exp and log."""
    if isinstance(x, Tensor) and not isinstance(c, Tensor):
        if isinstance(c, (float, np.floating)):  # an integer tensor to a fractional power is a float
            return Pow(float(c)).apply(floating(x))
        return Pow(c).apply(x)
    x, c = operands(x, c, "pow")
    return exp(c * log(x))


def exp(x):
    return Exp().apply(floating(x))


def log(x):
    return Log().apply(floating(x))


def sqrt(x):
    return Sqrt().apply(floating(x))


def abs(x):
    return Abs().apply(x)


def where(cond, a, b):
    """Choose ``a`` where ``cond`` (a bool tensor or array, not differentiated) else ``b``."""
    cond = cond.data if isinstance(cond, Tensor) else cond
    a, b = operands(a, b, "where")
    return Where(cond).apply(a, b)


def maximum(a, b):
    return Maximum().apply(*operands(a, b, "maximum"))


def clip(x, min=None, max=None):
    return Clip(min, max).apply(x)


def astype(x, dtype):
    dtype = np.dtype(dtype)
    return x if x.dtype == dtype else AsType(dtype).apply(x)


def to_device(x, device):
    return x if x.device == device else ToDevice(device).apply(x)
