"""Multi-head attention (Vaswani et al., "Attention is all you need", 2017, section 3.2.2), as
``torch.nn.MultiheadAttention``: same arguments, parameter names, shapes, initialisation and state-dict keys,
so a PyTorch state dict loads and gives the same outputs."""
import math

import numpy as np

from minigan import backend
from minigan.functional.arithmetic import astype
from minigan.functional.attention import attend
from minigan.functional.dropout import check_p
from minigan.functional.linear import linear
from minigan.functional.reduction import mean
from minigan.functional.shape import broadcast_to, concat, getitem, reshape, transpose
from minigan.nn import init
from minigan.nn.linear import Linear
from minigan.nn.module import Module, new_parameter
from minigan.tensor import Tensor


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under PyTorch's name for MultiheadAttention's output projection (the name only marks it for
    PyTorch's quantisation tools; kept so that the reprs match)."""


class MultiheadAttention(Module):
    """Attention of ``num_heads`` heads, each over its own learned projections of query, key and value:

        head_h = softmax(Q W_q^h (K W_k^h)^T / sqrt(d) + M) V W_v^h,   d = embed_dim / num_heads,
        y = concat(head_1, ..., head_H) W_o^T + b_o,

    (biases of the in-projections left out of the formula). Parameters, as PyTorch's:

    * ``in_proj_weight`` (3 E, E), rows [W_q; W_k; W_v], when kdim = vdim = embed_dim; otherwise
      ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim). Xavier-uniform.
    * ``in_proj_bias`` (3 E,) zeros, and ``out_proj`` (a Linear E -> E, its bias zeroed), when ``bias``.
    * ``bias_k``, ``bias_v`` (1, 1, E), Xavier-normal, with ``add_bias_kv``: one more key and value,
      appended after the projections. ``add_zero_attn`` appends a key and value of zeros after the heads
      are split.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)``: query (L, N, E), key (S, N, kdim), value (S, N, vdim),
    or (N, L, E) ... with ``batch_first``, or unbatched (L, E), (S, kdim), (S, vdim). Masks as PyTorch's:
    ``key_padding_mask`` (N, S) or (S,), ``attn_mask`` (L, S) or (N * num_heads, L, S), either bool
    (True = NOT allowed to attend, the opposite of ``scaled_dot_product_attention``'s convention) or
    float (added to the scores). Returns (output of the query's layout, weights or None): the weights
    are (N, L, S) averaged over the heads, or (N, num_heads, L, S) with ``average_attn_weights=False``,
    taken after dropout, as PyTorch returns them.

    Semantics kept from PyTorch 2.13: a query whose keys are all masked gets NaN when ``need_weights``
    (the plain softmax, PyTorch's path then) and a zero attention output when not (PyTorch's SDPA path).
    ``is_causal`` is only a hint in PyTorch: ``attn_mask`` must be given with it (else a ValueError) and
    is what is applied. Dropout on the weights acts in training mode only, drawn from minigan's generator.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        op = "MultiheadAttention"
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"{op}: embed_dim and num_heads must be positive, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"{op}: embed_dim must be divisible by num_heads, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.kdim = self.embed_dim if kdim is None else int(kdim)
        self.vdim = self.embed_dim if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout = check_p(op, dropout)
        self.batch_first = bool(batch_first)
        self.head_dim = self.embed_dim // self.num_heads
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = new_parameter((3 * e, e), device, dtype)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = new_parameter((e, e), device, dtype)
            self.k_proj_weight = new_parameter((e, self.kdim), device, dtype)
            self.v_proj_weight = new_parameter((e, self.vdim), device, dtype)
        self.register_parameter("in_proj_bias", new_parameter((3 * e,), device, dtype) if bias else None)
        self.out_proj = NonDynamicallyQuantizableLinear(e, e, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = new_parameter((1, 1, e), device, dtype)
            self.bias_v = new_parameter((1, 1, e), device, dtype)
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = bool(add_zero_attn)
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for b in (self.bias_k, self.bias_v):
            if b is not None:  # Xavier-normal: std = sqrt(2 / (fan_in + fan_out)) (Glorot & Bengio 2010)
                fan_in, fan_out = init.calculate_fan_in_and_fan_out(b)
                init.normal_(b, 0.0, math.sqrt(2.0 / (fan_in + fan_out)))

    def _projections(self):
        """(W_q, W_k, W_v) and (b_q, b_k, b_v) (Nones without bias)."""
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            weights = tuple(getitem(self.in_proj_weight, slice(i * e, (i + 1) * e)) for i in range(3))
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        if self.in_proj_bias is None:
            return weights, (None,) * 3
        return weights, tuple(getitem(self.in_proj_bias, slice(i * e, (i + 1) * e)) for i in range(3))

    def _check(self, query, key, value, key_padding_mask, attn_mask):
        """Whether the call is batched, after PyTorch's shape rules, or a ValueError naming the shapes."""
        op = "MultiheadAttention"
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        shapes = f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"{op}: query, key and value must all be 3-D (batched) or all 2-D (unbatched), "
                             f"got {shapes}")
        batched = query.ndim == 3
        for name, t, size in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if t.shape[-1] != size:
                raise ValueError(f"{op}: {name} must have {size} features (last axis), got {shapes}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"{op}: key and value must have the same length and batch, got {shapes}")
        seq = 1 if batched and self.batch_first else 0
        if batched and query.shape[1 - seq] != key.shape[1 - seq]:
            raise ValueError(f"{op}: query and key must have the same batch size, got {shapes}")
        n = query.shape[1 - seq] if batched else 1
        length, source = query.shape[seq], key.shape[seq]
        for name, m in (("key_padding_mask", key_padding_mask), ("attn_mask", attn_mask)):
            if m is not None and not isinstance(m, Tensor):
                raise TypeError(f"{op}: {name} must be a Tensor (bool or float) or None, got {type(m).__name__}")
            if m is not None and m.dtype != bool and m.dtype.kind != "f":
                raise TypeError(f"{op}: {name} must be bool or floating point, got dtype {m.dtype}")
        if key_padding_mask is not None:
            want = (n, source) if batched else (source,)
            if tuple(key_padding_mask.shape) != want:
                raise ValueError(f"{op}: key_padding_mask must have shape {want} (batch, source length), got "
                                 f"{tuple(key_padding_mask.shape)} for {shapes}")
        if attn_mask is not None:
            wants = ((length, source), (n * self.num_heads, length, source))
            if tuple(attn_mask.shape) not in wants:
                raise ValueError(f"{op}: attn_mask must have shape {wants[0]} or {wants[1]} (batch * num_heads, "
                                 f"L, S), got {tuple(attn_mask.shape)} for {shapes}")
        return batched

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal is a hint that attn_mask is the causal mask, so "
                             "attn_mask must be given with it (as in PyTorch)")
        batched = self._check(query, key, value, key_padding_mask, attn_mask)
        # Work in (N, length, features), heads later (N, H, length, d).
        if not batched:
            query, key, value = (reshape(t, (1,) + t.shape) for t in (query, key, value))
        elif not self.batch_first:
            query, key, value = (transpose(t, (1, 0, 2)) for t in (query, key, value))
        n, length, e, h, d = query.shape[0], query.shape[1], self.embed_dim, self.num_heads, self.head_dim
        (wq, wk, wv), (bq, bk, bv) = self._projections()
        q, k, v = linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)
        dtype, xp = q.dtype, backend.get_array_module(q.data)
        masks = []  # additive (..., L or 1, S) masks, each later padded with a zero column per appended key
        if attn_mask is not None:
            masks.append(attn_mask if attn_mask.ndim == 2 else
                         reshape(attn_mask, (n, h) + tuple(attn_mask.shape[1:])))
        if key_padding_mask is not None:
            masks.append(reshape(key_padding_mask, (n, 1, 1, key_padding_mask.shape[-1])))
        # A bool mask (True = excluded) becomes -inf / 0; a float one is added as it is, in q's dtype.
        masks = [Tensor._wrap(xp.where(m.data, dtype.type(-np.inf), dtype.type(0))) if m.dtype == bool
                 else astype(m, dtype) for m in masks]

        def pad(ts, axis):  # one zero slice appended to each of ts along ``axis`` (>= 0, or -1 for the last)
            return [concat([t, Tensor._wrap(xp.zeros(t.shape[:a] + (1,) + t.shape[a + 1:], dtype))], a)
                    for t in ts for a in [axis % t.ndim]]

        if self.bias_k is not None:
            k = concat([k, broadcast_to(self.bias_k, (n, 1, e))], 1)
            v = concat([v, broadcast_to(self.bias_v, (n, 1, e))], 1)
            masks = pad(masks, -1)
        q, k, v = (transpose(reshape(t, (n, t.shape[1], h, d)), (0, 2, 1, 3)) for t in (q, k, v))
        if self.add_zero_attn:
            k, v = pad([k, v], 2)
            masks = pad(masks, -1)
        bias = None
        for m in masks:
            bias = m if bias is None else bias + m
        p = self.dropout if self.training else 0.0
        # PyTorch returns the weights from a plain softmax (NaN for an all-masked row) and, without them,
        # runs SDPA (zeros there): the same split here.
        out, weights = attend(q, k, v, bias, None, p, 1.0 / math.sqrt(d), safe=not need_weights)
        out = linear(reshape(transpose(out, (0, 2, 1, 3)), (n, length, e)), self.out_proj.weight, self.out_proj.bias)
        if not batched:
            out = reshape(out, out.shape[1:])
        elif not self.batch_first:
            out = transpose(out, (1, 0, 2))
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = mean(weights, axis=1)
        return out, weights if batched else reshape(weights, weights.shape[1:])
