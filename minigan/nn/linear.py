"""Linear (fully connected) layer: y = x W^T + b, with PyTorch's layout and initialisation."""
import math

from minigan.functional.linear import linear
from minigan.nn import init
from minigan.nn.module import Module, new_parameter


class Linear(Module):
    """weight (out_features, in_features), bias (out_features,).

    Initialised as PyTorch does: weight by ``kaiming_uniform_(a=sqrt(5))``, i.e. U(-1/sqrt(in),
    1/sqrt(in)), and bias U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = new_parameter((self.out_features, self.in_features), device, dtype)
        self.register_parameter("bias", new_parameter((self.out_features,), device, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
