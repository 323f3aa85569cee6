"""``embedding_bag``: sums, means or maxima of bags of embedding rows, as ``torch.nn.functional.embedding_bag``,
without materialising the (bags, entries, dim) lookups that ``embedding`` followed by a reduction would keep
per entry, yet built from differentiable ops (gather, where, multiply, sum/max), so its gradients of every
order come from theirs.

How: the bags become a (B, K) table of entry positions, K the longest bag; a slot past its bag's end, or whose
entry is ``padding_idx``, is marked invalid. The table gathers (B, K, D) rows; invalid slots are zeroed (sum,
mean) or repeat a valid entry of their bag (max, which a repeat leaves unchanged), then one reduction over K.
"""
import numpy as np

from minigan import backend
from minigan.function import Function
from minigan.functional.arguments import is_int, is_number
from minigan.functional.arithmetic import where
from minigan.functional.reduction import max as reduce_max, sum as reduce_sum
from minigan.functional.shape import as_tensor, getitem, reshape
from minigan.tensor import Tensor

MODES = ("sum", "mean", "max")


class ScaleRows(Function):
    """Identity forward; the backward multiplies row r of the gradient by scale[r]: PyTorch's
    ``scale_grad_by_freq`` (scale = 1 / the number of times row r is looked up). Only the constant scale is
    kept. The backward is a product with a constant, so it is differentiable to any order."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, w):
        return w

    def backward(self, gy):
        return gy * self.scale


def _int_array(op, name, value, xp, device):
    data = value.data if isinstance(value, Tensor) else value
    if not (isinstance(data, np.ndarray) or backend.is_cupy_array(data)):
        raise TypeError(f"{op}: {name} must be a Tensor or array of integers, got {type(value).__name__}")
    if data.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must hold integers (int64 or int32), got dtype {data.dtype} "
                        f"(shape {tuple(data.shape)})")
    if backend.device_of(data) != device:
        raise ValueError(f"{op}: {name} of shape {tuple(data.shape)} is on {backend.device_of(data)} but weight is "
                         f"on {device}; move them to one device")
    return xp.asarray(data).astype(np.int64)


def _check_args(op, weight, mode, max_norm, norm_type, sparse, scale_grad_by_freq, per_sample_weights, padding_idx):
    if mode not in MODES:
        raise ValueError(f"{op}: mode has to be one of 'sum', 'mean' or 'max', got {mode!r}")
    if sparse:
        raise ValueError(f"{op}: sparse=True is not supported (minigan has no sparse gradients); use sparse=False")
    if max_norm is not None and not (is_number(max_norm) and max_norm > 0):
        raise ValueError(f"{op}: max_norm must be a positive number or None, got {max_norm!r}")
    if not (is_number(norm_type) and norm_type > 0):
        raise ValueError(f"{op}: norm_type must be a positive number, got {norm_type!r}")
    if scale_grad_by_freq and mode == "max":
        raise ValueError(f"{op}: scale_grad_by_freq=True is not supported with mode='max' (as in PyTorch)")
    if per_sample_weights is not None and mode != "sum":
        raise ValueError(f"{op}: per_sample_weights is only supported for mode='sum', got mode={mode!r}")
    n = weight.shape[0]
    if padding_idx is not None:
        if not is_int(padding_idx) or not -n <= padding_idx < n:
            raise ValueError(f"{op}: padding_idx must lie in [-{n}, {n}) for weight of shape {tuple(weight.shape)}, "
                             f"got {padding_idx!r}")
        padding_idx %= n
    return padding_idx


def _bags(op, idx, offsets, include_last_offset, xp, device):
    """(flat entries, bag starts, bag ends) from 2-D input (fixed-length bags) or 1-D input with offsets."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: if input is 2-D (bags of equal length, shape {tuple(idx.shape)}), offsets has "
                             "to be None")
        bags, length = idx.shape
        starts = xp.arange(bags, dtype=np.int64) * length
        return idx.reshape(-1), starts, starts + length
    if idx.ndim != 1:
        raise ValueError(f"{op}: input must be 1-D (with offsets) or 2-D (bags of equal length), got shape "
                         f"{tuple(idx.shape)}")
    if offsets is None:
        raise ValueError(f"{op}: 1-D input (shape {tuple(idx.shape)}) needs offsets, a 1-D tensor of bag starts; "
                         "got None")
    offsets = _int_array(op, "offsets", offsets, xp, device)
    if offsets.ndim != 1:
        raise ValueError(f"{op}: offsets has to be a 1-D tensor, got shape {tuple(offsets.shape)}")
    count = idx.shape[0]
    if offsets.shape[0]:
        if int(offsets[0]) != 0:
            raise ValueError(f"{op}: offsets[0] has to be 0 (the first bag starts at position 0), got "
                             f"{int(offsets[0])}")
        if bool((offsets[1:] < offsets[:-1]).any()) or int(offsets[-1]) > count:
            raise ValueError(f"{op}: offsets must be non-decreasing and at most the input's length {count}, got "
                             f"{offsets.tolist()}")
    if include_last_offset:
        if offsets.shape[0] == 0:
            raise ValueError(f"{op}: include_last_offset=True needs at least one offset (the end of the last bag)")
        return idx, offsets[:-1], offsets[1:]
    return idx, offsets, xp.concatenate([offsets[1:], xp.asarray([count], dtype=np.int64)])


def _renorm_(weight, idx, max_norm, norm_type):
    """PyTorch's ``embedding_renorm_``: rows of weight looked up by idx whose norm exceeds max_norm are
    rescaled in place, outside autograd, to norm max_norm (up to PyTorch's 1e-7 in the divisor)."""
    xp = backend.get_array_module(weight.data)
    rows = xp.unique(idx)
    values = weight.data[rows]
    norms = (xp.abs(values) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(weight.dtype)
    weight.data[rows] = values * scale[:, None]


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Reduce bags of rows of ``weight`` (num_embeddings, D), as ``torch.nn.functional.embedding_bag``.

    ``input`` is either 2-D (B, N): B bags of N indices each (``offsets`` must be None); or 1-D (L,) with
    ``offsets`` (B,): bag b holds input[offsets[b]:offsets[b + 1]], the last running to the end of the input;
    with ``include_last_offset`` offsets has B + 1 entries and the last is the end of the last bag (entries past
    it belong to no bag, as documented; PyTorch 2.13's CPU kernel runs the last bag to the input's end instead).
    offsets[0] must be 0 and offsets non-decreasing. The result is (B, D), in
    weight's dtype:

    - ``mode="sum"``: y[b] = sum over the bag of w_l weight[input_l], w_l = ``per_sample_weights`` (same shape
      as input, weight's dtype; sum mode only) or 1;
    - ``mode="mean"``: that sum (w = 1) divided by the bag's size;
    - ``mode="max"``: the elementwise maximum over the bag's rows; the gradient goes to the maximum (ties share
      it, so a row repeated in a bag gets it once in all).

    Entries equal to ``padding_idx`` (negative counts from the end) are left out, of the mean's count too; a
    bag with nothing left (or empty) gives zeros. ``max_norm`` rescales, in place and outside autograd, each
    looked-up row whose ``norm_type``-norm exceeds it to that norm, as PyTorch. ``scale_grad_by_freq`` divides
    the gradient of each row by how often the whole input looks it up (not with mode max; PyTorch 2.13's CPU
    kernel divides some rows by another row's count). Gradients flow to weight
    and per_sample_weights. ``sparse=True`` is not supported (ValueError): minigan has no sparse gradients.
    """
    op = "embedding_bag"
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got shape {tuple(weight.shape)}")
    if weight.dtype.kind != "f":
        raise TypeError(f"{op}: weight must be floating point, got dtype {weight.dtype}")
    padding_idx = _check_args(op, weight, mode, max_norm, norm_type, sparse, scale_grad_by_freq, per_sample_weights,
                              padding_idx)
    xp = backend.get_array_module(weight.data)
    device = weight.device
    idx = _int_array(op, "input", input, xp, device)
    in_shape = tuple(idx.shape)
    entries, starts, ends = _bags(op, idx, offsets, include_last_offset, xp, device)
    n = weight.shape[0]
    if entries.size and (int(entries.min()) < 0 or int(entries.max()) >= n):
        raise IndexError(f"{op}: indices must lie in [0, {n}) for weight of shape {tuple(weight.shape)}; got values "
                         f"in [{int(entries.min())}, {int(entries.max())}]")
    if per_sample_weights is not None:
        per_sample_weights = as_tensor(per_sample_weights)
        if tuple(per_sample_weights.shape) != in_shape:
            raise ValueError(f"{op}: per_sample_weights must have the input's shape {in_shape}, got "
                             f"{tuple(per_sample_weights.shape)}")
        if per_sample_weights.dtype != weight.dtype:
            raise TypeError(f"{op}: per_sample_weights must have weight's dtype {weight.dtype}, got "
                            f"{per_sample_weights.dtype}")
        per_sample_weights = reshape(per_sample_weights, (-1,))
    if max_norm is not None and entries.size:
        _renorm_(weight, entries, max_norm, norm_type)
    if scale_grad_by_freq and entries.size:
        counts = xp.bincount(entries, minlength=n)
        weight = ScaleRows((1.0 / xp.maximum(counts, 1)).astype(weight.dtype)[:, None]).apply(weight)

    bags = starts.shape[0]
    lengths = ends - starts
    width = max(int(lengths.max()) if bags else 0, 1)  # one slot at least, so that max has an axis to reduce
    slot = xp.arange(width, dtype=np.int64)
    in_bag = slot[None, :] < lengths[:, None]
    # Slots past a bag's end point at entry 0 (or nothing, for empty input): their values are never used.
    position = xp.where(in_bag, starts[:, None] + slot[None, :], 0)
    if entries.size:
        looked_up = entries[position]
    else:
        looked_up = xp.zeros(position.shape, dtype=np.int64)
    valid = in_bag if padding_idx is None else in_bag & (looked_up != padding_idx)
    nonempty = valid.any(axis=1)

    if mode == "max":
        # An invalid slot repeats its bag's first valid entry, which leaves the maximum as it is.
        first = looked_up[xp.arange(bags), valid.argmax(axis=1)]
        rows = getitem(weight, xp.where(valid, looked_up, first[:, None]))
        out = reduce_max(rows, axis=1)
        return where(nonempty[:, None], out, 0.0)

    rows = getitem(weight, looked_up)
    if per_sample_weights is not None and entries.size:
        rows = rows * reshape(getitem(per_sample_weights, position), (bags, width, 1))
    out = reduce_sum(where(valid[:, :, None], rows, 0.0), axis=1)
    if mode == "mean":
        out = out * (1.0 / xp.maximum(valid.sum(axis=1), 1)).astype(weight.dtype)[:, None]
    return out
