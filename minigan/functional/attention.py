"""Scaled dot-product attention (Vaswani et al., "Attention is all you need", 2017, eq. 1), as
``torch.nn.functional.scaled_dot_product_attention``, the op behind SAGAN-style self-attention blocks and
transformers:

    A = softmax(Q K^T * scale + M),   y = dropout(A) V,    softmax over the key axis,

Q (..., L, E), K (..., S, E), V (..., S, Ev) -> y (..., L, Ev), the leading axes broadcasting as in
``matmul``. It is a composition of minigan's differentiable ops (matmul, where, softmax, dropout), so its
gradients, of every order, come from theirs.

Rows of A whose keys are all masked out (every score -inf) are zero, with zero gradient, as PyTorch 2.13's
CPU op gives (its "safe softmax"): the plain softmax formula would give 0/0 = NaN there.
"""
import math

import numpy as np

from minigan import backend
from minigan.functional.activation import softmax
from minigan.functional.arguments import is_number
from minigan.functional.arithmetic import astype, where
from minigan.functional.dropout import check_p, dropout
from minigan.functional.linear import matmul
from minigan.functional.shape import broadcast_to, reshape, transpose
from minigan.tensor import Tensor


def swap_last(t):
    """t with its last two axes swapped: K (..., S, E) -> K^T (..., E, S)."""
    axes = list(range(t.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(t, axes)


def attend(query, key, value, bias=None, allowed=None, dropout_p=0.0, scale=1.0, safe=True):
    """(y, A) for A = softmax(Q K^T * scale + bias), masked to -inf where ``allowed`` is False, then
    dropout with probability ``dropout_p``; y = A V. ``bias`` is an additive float tensor and ``allowed``
    a bool array, both broadcasting against the scores (..., L, S); either may be None.

    ``safe``: rows of all -inf scores give zero weights (PyTorch's SDPA); otherwise they give NaN, as
    PyTorch's MultiheadAttention does when it returns its weights. Shapes are the caller's to check.
    """
    scores = matmul(query, swap_last(key)) * scale
    if bias is not None:
        scores = scores + bias
    if allowed is not None:
        scores = where(allowed, scores, -math.inf)
    if scores.shape[-1] == 0:  # no keys: every output row is an empty sum, zero
        weights = scores
    elif safe:
        xp = backend.get_array_module(scores.data)
        dead = xp.all(scores.data == -xp.inf, axis=-1, keepdims=True)
        if bool(dead.any()):
            # Zero scores in place of the dead rows keep softmax free of -inf - (-inf); the second where
            # then gives those rows zero weights and sends them no gradient.
            weights = where(dead, 0.0, softmax(where(dead, 0.0, scores), -1))
        else:
            weights = softmax(scores, -1)
    else:
        with np.errstate(invalid="ignore"):  # -inf - (-inf) = NaN is the answer asked for
            weights = softmax(scores, -1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, value), weights


def _repeat_heads(op, name, t, heads):
    """t (..., H, S, E) with each head repeated heads / H times in a row (``repeat_interleave`` on axis -3),
    for grouped-query attention."""
    h = t.shape[-3]
    if h == 0 or heads % h:
        raise ValueError(f"{op}: with enable_gqa the number of heads of {name} (axis -3, shape {tuple(t.shape)}) "
                         f"must divide the query's {heads}")
    lead, rest = t.shape[:-3], t.shape[-2:]
    expanded = broadcast_to(reshape(t, lead + (h, 1) + rest), lead + (h, heads // h) + rest)
    return reshape(expanded, lead + (heads,) + rest)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """Attention of ``query`` (..., L, E) over ``key`` (..., S, E) and ``value`` (..., S, Ev) -> (..., L, Ev), as
    ``torch.nn.functional.scaled_dot_product_attention`` (the formula is in the module docstring).

    * The leading axes of query, key and value broadcast (e.g. (N, H, L, E) with (N, 1, S, E)); query, key
      and value share one floating dtype and have at least 2 axes.
    * ``attn_mask`` broadcasts against the scores (..., L, S): a bool mask says which keys each query may
      attend to (True = takes part), a float one is added to the scores (-inf excludes a key). A float mask
      has the query's dtype or float32 (cast to the query's dtype; it is differentiable).
    * ``is_causal``: query i attends to keys j <= i, the lower triangle of an (L, S) mask aligned at the top
      left, as PyTorch's; giving it together with ``attn_mask`` is a ValueError, as in PyTorch.
    * ``scale``: the factor on Q K^T, 1 / sqrt(E) by default.
    * ``dropout_p``: dropout on the attention weights, always applied when p > 0 (as in PyTorch, pass 0.0
      outside training); the mask is drawn from minigan's seeded generator, so ``mg.manual_seed`` repeats
      it (it cannot repeat PyTorch's draws).
    * ``enable_gqa``: grouped-query attention; query (..., Hq, L, E) and key / value (..., H, S, *) with
      H dividing Hq: each key and value head serves Hq / H query heads in a row (PyTorch's
      ``repeat_interleave`` on axis -3).

    A query row whose keys are all masked out gets zero weights and a zero output, with zero gradient, as
    PyTorch 2.13 gives on CPU; with no keys at all (S = 0) the output is zero too.
    """
    op = "scaled_dot_product_attention"
    names = ("query", "key", "value")
    tensors = (query, key, value)
    for name, t in zip(names, tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ValueError(f"{op}: {name} must have at least 2 axes (..., length, features), got shape "
                             f"{tuple(t.shape)}")
    shapes = ", ".join(f"{n} {tuple(t.shape)}" for n, t in zip(names, tensors))
    if query.dtype.kind != "f" or key.dtype != query.dtype or value.dtype != query.dtype:
        raise TypeError(f"{op}: query, key and value must share one floating dtype, got "
                        f"{query.dtype}, {key.dtype} and {value.dtype}")
    if key.shape[-1] != query.shape[-1]:
        raise ValueError(f"{op}: query and key must have the same number of features (last axis), got {shapes}")
    if value.shape[-2] != key.shape[-2]:
        raise ValueError(f"{op}: key and value must have the same length S (axis -2), got {shapes}")
    if query.shape[-1] == 0:
        raise ValueError(f"{op}: the feature axis must not be empty (the default scale is 1/sqrt(E)), got {shapes}")
    dropout_p = check_p(op, dropout_p)
    if scale is not None and not is_number(scale):
        raise TypeError(f"{op}: scale must be a number or None, got {scale!r}")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    if enable_gqa:
        if min(t.ndim for t in tensors) < 3:
            raise ValueError(f"{op}: enable_gqa needs a head axis (-3) in query, key and value, got {shapes}")
        key = _repeat_heads(op, "key", key, query.shape[-3])
        value = _repeat_heads(op, "value", value, query.shape[-3])
    try:
        lead = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ValueError(f"{op}: the leading axes of query, key and value do not broadcast, got {shapes}") from None
    scores_shape = tuple(lead) + (query.shape[-2], key.shape[-2])
    xp = backend.get_array_module(query.data)
    bias = allowed = None
    if attn_mask is not None:
        if is_causal:
            raise ValueError(f"{op}: give attn_mask or is_causal=True, not both (as in PyTorch)")
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"{op}: attn_mask must be a Tensor (bool or float) or None, got {type(attn_mask).__name__}")
        if attn_mask.dtype == bool:
            allowed = attn_mask.data
        elif attn_mask.dtype in (query.dtype, np.float32):
            bias = astype(attn_mask, query.dtype)
        else:
            raise TypeError(f"{op}: attn_mask must be bool, or float of the query's dtype {query.dtype}, got "
                            f"dtype {attn_mask.dtype}")
        try:
            fits = np.broadcast_shapes(attn_mask.shape, scores_shape) == scores_shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"{op}: attn_mask of shape {tuple(attn_mask.shape)} does not broadcast to the "
                             f"scores' shape {scores_shape} (..., L, S), for {shapes}")
    elif is_causal:
        allowed = xp.tril(xp.ones(scores_shape[-2:], dtype=bool))
    return attend(query, key, value, bias, allowed, dropout_p, scale)[0]
