"""Activations: leaky_relu (a registry kernel), relu, sigmoid, tanh, softplus, softmax, log_softmax."""
from minigan import backend, kernels
from minigan.function import Function
from minigan.functional.arithmetic import exp, floating
from minigan.functional.reduction import logsumexp


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
    """y = log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) so it never overflows; y' = sigmoid(x)."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * sigmoid(self.inputs[0])


def sigmoid(x):
    return Sigmoid().apply(floating(x))


def tanh(x):
    return Tanh().apply(floating(x))


def softplus(x):
    return Softplus().apply(floating(x))


def log_softmax(x, dim):
    """log softmax over axis ``dim``, as ``torch.nn.functional.log_softmax``: x_i - logsumexp(x) (the
    stable form: no exp() of a large x, no log of an underflowed probability)."""
    x = floating(x)
    return x - logsumexp(x, dim, keepdims=True)


def softmax(x, dim):
    """softmax over axis ``dim``, as ``torch.nn.functional.softmax``: exp(x_i) / sum_j exp(x_j),
    computed as exp(log_softmax(x)) so that it never overflows."""
    return exp(log_softmax(x, dim))
