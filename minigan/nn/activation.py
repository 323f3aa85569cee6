"""Activation layers: ReLU, LeakyReLU, Tanh, Sigmoid (no parameters).

``inplace`` is accepted so that PyTorch code (``nn.ReLU(True)`` in DCGAN) carries over unchanged; the
result is the same, but minigan always computes it out of place (its ops never overwrite an input
the graph may still need).
"""
from minigan.functional import activation as F
from minigan.nn.module import Module


class ReLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, bool(inplace)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)
