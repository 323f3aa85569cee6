"""Weight initialisation, in place, as ``torch.nn.init`` (same names, same distributions).

Random numbers come from ``minigan.random.generator(device)``, so ``mg.manual_seed`` makes every
initialisation repeatable; they are drawn directly in the tensor's dtype (float32 stays float32).
"""
import math

from minigan import random


def _check_float(tensor, op):
    if tensor.dtype.kind != "f":
        raise TypeError(f"{op}: tensor must be floating point, got dtype {tensor.dtype}")


def calculate_gain(nonlinearity, param=None):
    """The gain that keeps activations' variance stable through ``nonlinearity`` (PyTorch's table).

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 + slope^2)) with
    slope ``param`` (default 0.01); selu: 3/4.
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def calculate_fan_in_and_fan_out(tensor):
    """fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (PyTorch's rule;
    for a ConvTranspose2d weight (in, out, kh, kw) this makes fan_in = out * kh * kw)."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, "
                         f"got shape {tuple(tensor.shape)}")
    receptive = 1
    for n in tensor.shape[2:]:
        receptive *= n
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with U(a, b)."""
    _check_float(tensor, "uniform_")
    dtype = tensor.dtype
    u = random.generator(tensor.device).random(tensor.shape, dtype=dtype)
    tensor.data[...] = u * dtype.type(b - a) + dtype.type(a)
    tensor._bump_version()
    return tensor


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with N(mean, std^2)."""
    _check_float(tensor, "normal_")
    dtype = tensor.dtype
    z = random.generator(tensor.device).standard_normal(tensor.shape, dtype=dtype)
    tensor.data[...] = z * dtype.type(std) + dtype.type(mean)
    tensor._bump_version()
    return tensor


def constant_(tensor, val):
    tensor.data[...] = val
    tensor._bump_version()
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0)


def ones_(tensor):
    return constant_(tensor, 1)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al. 2015).

    Layers call it with a = sqrt(5), as PyTorch does: gain = sqrt(1/3), so bound = 1 / sqrt(fan_in).
    """
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming_uniform_: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        return tensor  # an empty weight has nothing to fill, as in PyTorch
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound)


def xavier_uniform_(tensor, gain=1.0):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def dcgan_init(module):
    """The DCGAN initialisation (Radford et al. 2016): conv and transposed-conv weights N(0, 0.02),
    batch-norm weights N(1, 0.02), their biases 0. Other layers (Linear included) keep their default
    initialisation, as in pytorch/examples' dcgan. Use as ``model.apply(dcgan_init)``."""
    from minigan.nn.conv import _Conv
    from minigan.nn.normalization import BatchNorm
    # every convolution, 1-D and 3-D too, as pytorch/examples' weights_init matches 'Conv' in the class name
    if isinstance(module, _Conv):
        normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            zeros_(module.bias)
    elif isinstance(module, BatchNorm) and module.affine:
        normal_(module.weight, 1.0, 0.02)
        if module.bias is not None:
            zeros_(module.bias)
