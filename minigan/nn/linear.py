"""Linear (fully connected) layer, y = x W^T + b, and Bilinear, y = x1^T A x2 + b, with PyTorch's layouts and
initialisation."""
import math

from minigan.functional.linear import bilinear, linear
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


class Bilinear(Module):
    """y[..., o] = x1^T A_o x2 + b[o] for inputs (*, in1_features) and (*, in2_features) with the same leading
    axes, as ``torch.nn.Bilinear`` (``F.bilinear`` gives the formula).

    weight (out_features, in1_features, in2_features), bias (out_features,), both initialised as PyTorch
    does: U(-1/sqrt(in1_features), 1/sqrt(in1_features)).
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        self.weight = new_parameter((self.out_features, self.in1_features, self.in2_features), device, dtype)
        self.register_parameter("bias", new_parameter((self.out_features,), device, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features > 0 else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x1, x2):
        return bilinear(x1, x2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
