"""Matrix products: matmul, linear (x W^T + b, PyTorch's layout), bilinear (x1^T A x2 + b), embedding lookup,
and one_hot (the matrix an embedding lookup multiplies by: embedding(i, W) = one_hot(i, n) @ W)."""
import math

import numpy as np

from minigan import backend
from minigan.function import Function
from minigan.functional.arguments import is_int
from minigan.functional.reduction import sum
from minigan.functional.shape import getitem, reshape, sum_to, transpose
from minigan.tensor import Tensor


def _swap_last(t):
    axes = list(range(t.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(t, axes)


class MatMul(Function):
    """y = a @ b for a, b with ndim >= 2 (leading axes broadcast as in NumPy)."""

    def forward(self, a, b):
        if a.shape[-1] == 1:
            # An outer product (the input gradient of a layer with one output, as D's last): a broadcast
            # multiply computes the same single products; OpenBLAS took 15x longer for K = 1 (measured
            # on (128, 1) @ (1, 6272): 1.5 ms against 0.1 ms).
            return a * b
        return backend.get_array_module(a, b).matmul(a, b)

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(matmul(gy, _swap_last(b)), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(matmul(_swap_last(a), gy), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def matmul(a, b):
    """``a @ b`` with NumPy's rules, 1-d operands included."""
    from minigan.functional.arithmetic import operands
    a, b = operands(a, b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one axis, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} do not align "
                         f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
    squeeze_a, squeeze_b = a.ndim == 1, b.ndim == 1
    if squeeze_a:
        a = reshape(a, (1,) + a.shape)
    if squeeze_b:
        b = reshape(b, b.shape + (1,))
    y = MatMul().apply(a, b)
    if squeeze_a or squeeze_b:
        shape = y.shape[:-2] + (() if squeeze_a else y.shape[-2:-1]) + (() if squeeze_b else y.shape[-1:])
        y = reshape(y, shape)
    return y


class Linear(Function):
    """y = x W^T + b.  x: (N, in), W: (out, in), b: (out,) -> y: (N, out).

    Gradients: gx = gy W, gW = gy^T x, gb = sum_n gy.
    """

    def forward(self, x, w, b=None):
        y = x.dot(w.T)
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        gx = matmul(gy, w) if need[0] else None
        gw = matmul(transpose(gy), x) if need[1] else None
        gb = sum(gy, axis=0) if len(need) > 2 and need[2] else None
        return gx, gw, gb


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` with weight (out_features, in_features), as ``torch.nn.functional.linear``.

    x may have any number of leading axes: (*, in) -> (*, out).
    """
    if x.ndim < 1 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {tuple(x.shape)} does not fit weight of shape "
                         f"{tuple(weight.shape)} (expects (*, {weight.shape[1] if weight.ndim == 2 else '?'}))")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {tuple(bias.shape)} does not fit weight of shape {tuple(weight.shape)}")
    if x.dtype != weight.dtype:
        raise ValueError(f"linear: input dtype {x.dtype} differs from weight dtype {weight.dtype}")
    lead = x.shape[:-1]
    if x.ndim != 2:
        x = reshape(x, (-1, x.shape[-1]))
    args = (x, weight) if bias is None else (x, weight, bias)
    y = Linear().apply(*args)
    return y if len(lead) == 1 else reshape(y, lead + (weight.shape[0],))


def bilinear(input1, input2, weight, bias=None):
    """A bilinear form per output feature, as ``torch.nn.functional.bilinear``:

        y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]   (y = x1^T A_o x2 + b)

    input1 (*, in1) and input2 (*, in2) with the same leading axes (any number, none included; they do
    not broadcast, as in PyTorch), weight (out, in1, in2), bias (out,) or None -> y (*, out). All of one
    floating dtype.

    Computed as one matrix product and a contraction, x1 (N, in1) @ A (in1, out in2) -> (N, out, in2),
    then multiplied by x2 and summed over in2: ordinary differentiable ops, so every gradient (of the
    inputs, the weight and the bias, to any order) comes from theirs.
    """
    op = "bilinear"
    for name, t in (("input1", input1), ("input2", input2)):
        if t.ndim < 1:
            raise ValueError(f"{op}: {name} must have at least one axis (*, features), got shape {tuple(t.shape)}")
    if weight.ndim != 3:
        raise ValueError(f"{op}: weight must have 3 axes (out_features, in1_features, in2_features), got shape "
                         f"{tuple(weight.shape)}")
    out, in1, in2 = weight.shape
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise ValueError(f"{op}: input1 of shape {tuple(input1.shape)} and input2 of shape {tuple(input2.shape)} "
                         "must have the same leading axes (all but the last)")
    if (input1.shape[-1], input2.shape[-1]) != (in1, in2):
        raise ValueError(f"{op}: inputs of shapes {tuple(input1.shape)} and {tuple(input2.shape)} do not fit weight "
                         f"of shape {tuple(weight.shape)} (expects (*, {in1}) and (*, {in2}))")
    if bias is not None and tuple(bias.shape) != (out,):
        raise ValueError(f"{op}: bias of shape {tuple(bias.shape)} does not fit weight of shape "
                         f"{tuple(weight.shape)} (expects ({out},))")
    dtypes = [t.dtype for t in (input1, input2, weight, bias) if t is not None]
    if weight.dtype.kind != "f" or any(d != weight.dtype for d in dtypes):
        raise TypeError(f"{op}: input1, input2, weight and bias must have one floating dtype, got "
                        f"{', '.join(str(d) for d in dtypes)}")
    lead = tuple(input1.shape[:-1])
    n = math.prod(lead)
    # Weight as (in1, out in2): row i holds A_o[i, :] for every o, so one matmul gives x1^T A_o for all o.
    a = reshape(transpose(weight, (1, 0, 2)), (in1, out * in2))
    left = reshape(matmul(reshape(input1, (n, in1)), a), (n, out, in2))
    y = sum(left * reshape(input2, (n, 1, in2)), axis=2)
    if bias is not None:
        y = y + bias
    return reshape(y, lead + (out,))


def embedding(indices, weight):
    """Rows of ``weight`` (num_embeddings, dim) picked by integer ``indices`` of any shape."""
    idx = indices.data if isinstance(indices, Tensor) else indices
    if backend.device_of(idx) != weight.device and (isinstance(indices, Tensor) or backend.is_cupy_array(idx)):
        raise ValueError(f"embedding: indices of shape {tuple(idx.shape)} are on {backend.device_of(idx)} but "
                         f"weight of shape {tuple(weight.shape)} is on {weight.device}; move them to one device")
    xp = backend.get_array_module(weight.data)
    idx = xp.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= weight.shape[0]):
        raise IndexError(f"embedding: indices must lie in [0, {weight.shape[0]}) for weight of shape "
                         f"{tuple(weight.shape)}; got values in [{int(idx.min())}, {int(idx.max())}]")
    return getitem(weight, idx)


def one_hot(tensor, num_classes=-1):
    """Class indices of any shape (*) as one-hot rows (*, num_classes), int64, as
    ``torch.nn.functional.one_hot``: y[..., k] = 1 where tensor[...] == k, else 0.

    ``num_classes`` -1 (the default) means max(tensor) + 1; an empty tensor needs it given (positive).
    Classes must lie in [0, num_classes). Not differentiable (integers in, integers out). The indices may
    be of any integer dtype (PyTorch insists on int64), a Tensor or an array; the result is on their device.
    """
    op = "one_hot"
    idx = tensor.data if isinstance(tensor, Tensor) else tensor
    if not (isinstance(idx, np.ndarray) or backend.is_cupy_array(idx)):
        raise TypeError(f"{op}: tensor must be a Tensor of class indices, got {type(tensor).__name__}")
    shape = tuple(idx.shape)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: class indices must be integers (int64), got dtype {idx.dtype} (shape {shape})")
    if not is_int(num_classes):
        raise TypeError(f"{op}: num_classes must be an int, got {num_classes!r}")
    if num_classes < -1:
        raise ValueError(f"{op}: num_classes must be -1 (one more than the largest class) or a count, "
                         f"got {num_classes}")
    xp = backend.get_array_module(idx)
    if idx.size == 0:
        if num_classes <= 0:  # PyTorch's rule: nothing to infer the count from, and no 0-class rows
            raise ValueError(f"{op}: cannot infer the number of classes from an empty tensor (shape {shape}); "
                             "pass a positive num_classes")
        return Tensor._wrap(xp.zeros(shape + (num_classes,), dtype=np.int64))
    low, high = int(idx.min()), int(idx.max())
    if low < 0:
        raise IndexError(f"{op}: class values must be non-negative, got {low} (tensor of shape {shape})")
    if num_classes == -1:
        num_classes = high + 1
    elif high >= num_classes:
        raise IndexError(f"{op}: class values must be smaller than num_classes {num_classes}, got {high} "
                         f"(tensor of shape {shape})")
    classes = xp.arange(num_classes, dtype=np.int64)
    return Tensor._wrap((idx[..., None] == classes).astype(np.int64))
