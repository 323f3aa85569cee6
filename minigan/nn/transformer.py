"""Transformer layers (Vaswani et al., "Attention is all you need", 2017, section 3.1), as PyTorch 2.13's
``torch.nn.TransformerEncoderLayer``, ``TransformerDecoderLayer``, ``TransformerEncoder``,
``TransformerDecoder`` and ``Transformer``: same arguments, submodule and parameter names, state-dict keys
and reprs, so a PyTorch state dict loads and gives the same outputs in eval mode.

Each layer is a composition of minigan's differentiable modules (MultiheadAttention, Linear, LayerNorm,
Dropout, F.relu / F.gelu), so its gradients of any order come from theirs.

PyTorch has a "fast path" for inference (fused kernels, and in TransformerEncoder nested tensors for
key-padding masks); minigan always takes the regular path. The values agree except in one place: with
nested tensors (TransformerEncoder, ``enable_nested_tensor=True``, ``batch_first=True``, eval mode, no
autograd, a ``src_key_padding_mask``) PyTorch returns zeros at the padded positions, where the regular path
(PyTorch's too, e.g. with gradients on) and minigan return the layer's values there. The non-padded
positions agree either way.
"""
import copy

import numpy as np

from minigan.functional.activation import gelu, relu
from minigan.nn import init
from minigan.nn.attention import MultiheadAttention
from minigan.nn.container import ModuleList
from minigan.nn.dropout import Dropout
from minigan.nn.linear import Linear
from minigan.nn.module import Module
from minigan.nn.normalization import LayerNorm
from minigan.tensor import Tensor, tensor

_ACTIVATIONS = {"relu": relu, "gelu": gelu}


def _activation(op, activation):
    """The feed-forward non-linearity: "relu" / "gelu" name F.relu / F.gelu (exact gelu), as PyTorch;
    any other callable (a function or a Module, which then becomes the child ``activation``) is used as is."""
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"{op}: activation must be 'relu', 'gelu' or a callable, got {activation!r}")
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"{op}: activation must be 'relu', 'gelu' or a callable, got {type(activation).__name__}")
    return activation


def _check_sizes(op, d_model, nhead, dim_feedforward):
    for name, value in (("d_model", d_model), ("nhead", nhead), ("dim_feedforward", dim_feedforward)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
    if d_model % nhead:
        raise ValueError(f"{op}: d_model must be divisible by nhead, got d_model={d_model} and nhead={nhead}")


def _check_input(op, name, x, d_model):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        raise ValueError(f"{op}: {name} must be (L, N, {d_model}), (N, L, {d_model}) with batch_first, or "
                         f"unbatched (L, {d_model}) (d_model={d_model} features), got shape {tuple(x.shape)}")


class TransformerEncoderLayer(Module):
    """Self-attention then a position-wise feed-forward network, each in a residual branch with layer norm:

        norm_first=False (post-norm, the paper's):  x = norm1(x + SA(x));        x = norm2(x + FF(x))
        norm_first=True  (pre-norm):                x = x + SA(norm1(x));        x = x + FF(norm2(x))

    with SA(x) = dropout1(self_attn(x, x, x)) and FF(x) = dropout2(linear2(dropout(act(linear1(x))))).

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``: src (L, N, d_model), or
    (N, L, d_model) with ``batch_first``, or unbatched (L, d_model); the masks as MultiheadAttention's
    ``attn_mask`` (L, L) or (N * nhead, L, L) and ``key_padding_mask`` (N, L) or (L,), bool (True = not
    attended) or float (added). Returns src's shape. ``is_causal`` is only a hint that ``src_mask`` is the
    causal mask, as in PyTorch: ``src_mask`` must then be given (else a ValueError) and is what is applied.
    A query whose keys are all masked gets a zero attention output, as PyTorch's. Dropout acts in
    training mode only.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        op = type(self).__name__
        _check_sizes(op, d_model, nhead, dim_feedforward)
        act = _activation(op, activation)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            device=device, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, device=device, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, device=device, dtype=dtype)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.d_model, self.batch_first = int(d_model), bool(batch_first)
        self.activation = act  # last, so that a Module activation is the last child, as in PyTorch's repr

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        _check_input(type(self).__name__, "src", src, self.d_model)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerDecoderLayer(Module):
    """Self-attention over the target, attention from the target to the encoder's output ``memory``, then a
    position-wise feed-forward network, each in a residual branch with layer norm:

        norm_first=False:  x = norm1(x + SA(x));  x = norm2(x + MHA(x, m));  x = norm3(x + FF(x))
        norm_first=True:   x = x + SA(norm1(x));  x = x + MHA(norm2(x), m);  x = x + FF(norm3(x))

    with SA(x) = dropout1(self_attn(x, x, x)), MHA(x, m) = dropout2(multihead_attn(x, m, m)) and
    FF(x) = dropout3(linear2(dropout(act(linear1(x))))).

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``: tgt (T, N, d_model) and
    memory (S, N, d_model) (batch first with ``batch_first``; or unbatched (T, d_model), (S, d_model));
    tgt_mask (T, T) or (N * nhead, T, T), memory_mask (T, S) or (N * nhead, T, S), key padding masks (N, T)
    and (N, S), each bool (True = not attended) or float (added). Returns tgt's shape. The ``*_is_causal``
    flags are hints as in TransformerEncoderLayer: the matching mask must be given and is what is applied.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        op = type(self).__name__
        _check_sizes(op, d_model, nhead, dim_feedforward)
        act = _activation(op, activation)
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                                 **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.d_model, self.batch_first = int(d_model), bool(batch_first)
        self.activation = act  # last, as in TransformerEncoderLayer

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        op = type(self).__name__
        _check_input(op, "tgt", tgt, self.d_model)
        _check_input(op, "memory", memory, self.d_model)
        if tgt.ndim != memory.ndim:
            raise ValueError(f"{op}: tgt and memory must both be batched (3-D) or both unbatched (2-D), got "
                             f"shapes {tuple(tgt.shape)} and {tuple(memory.shape)}")
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._ff_block(x))


def _clones(op, layer, num_layers, kind):
    if not isinstance(layer, kind):
        raise TypeError(f"{op}: the layer must be a {kind.__name__}, got {type(layer).__name__}")
    if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)) or num_layers < 0:
        raise ValueError(f"{op}: num_layers must be a non-negative int, got {num_layers!r}")
    # Independent deep copies, as PyTorch: the layers share no parameters with each other or with ``layer``.
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


def _check_norm(op, norm):
    if norm is not None and not isinstance(norm, Module):
        raise TypeError(f"{op}: norm must be a Module or None, got {type(norm).__name__}")
    return norm


class TransformerEncoder(Module):
    """``num_layers`` independent deep copies of ``encoder_layer`` (a TransformerEncoderLayer) applied in turn,
    then ``norm`` if given; children ``layers`` (a ModuleList) and ``norm``, as PyTorch's.

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``: every layer gets the same
    masks (shapes as TransformerEncoderLayer's). ``is_causal`` is a hint (None: PyTorch would detect it
    from ``mask``); the mask is what is applied either way, so the result does not depend on it, but
    ``is_causal=True`` needs a mask. ``enable_nested_tensor`` and ``mask_check`` are accepted and kept for
    PyTorch compatibility; they choose PyTorch's nested-tensor fast path, which minigan does not have (see
    the module's docstring for the one place where PyTorch's fast path returns other values: zeros at
    padded positions).
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        op = type(self).__name__
        self.layers = _clones(op, encoder_layer, num_layers, TransformerEncoderLayer)
        self.num_layers = int(num_layers)
        self.norm = _check_norm(op, norm)
        self.enable_nested_tensor, self.mask_check = bool(enable_nested_tensor), bool(mask_check)

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(Module):
    """``num_layers`` independent deep copies of ``decoder_layer`` (a TransformerDecoderLayer) applied in turn,
    each attending to the same ``memory``, then ``norm`` if given; children ``layers`` and ``norm``.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``: as TransformerDecoderLayer's,
    every layer getting the same masks; ``tgt_is_causal=None`` reads as no hint.
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        op = type(self).__name__
        self.layers = _clones(op, decoder_layer, num_layers, TransformerDecoderLayer)
        self.num_layers = int(num_layers)
        self.norm = _check_norm(op, norm)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=bool(tgt_is_causal), memory_is_causal=bool(memory_is_causal))
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """The encoder-decoder Transformer: ``encoder`` (a TransformerEncoder of ``num_encoder_layers`` layers and a
    final LayerNorm) and ``decoder`` (a TransformerDecoder of ``num_decoder_layers`` layers and a final
    LayerNorm), or ``custom_encoder`` / ``custom_decoder`` in their place. Every parameter with two or more
    axes is re-initialised Xavier-uniform, as PyTorch does (the norms and biases keep their own init).

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
    memory_is_causal=False)``: src (S, N, d_model), tgt (T, N, d_model) (batch first with ``batch_first``;
    or unbatched (S, d_model), (T, d_model)); memory = encoder(src, ...), then returns
    decoder(tgt, memory, ...) of tgt's shape. ``generate_square_subsequent_mask(sz)`` gives the causal
    float mask for ``tgt_mask``.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        layer_kw = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                        layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first, bias=bias,
                        device=device, dtype=dtype)
        norm_kw = dict(eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(TransformerEncoderLayer(d_model, nhead, **layer_kw), num_encoder_layers,
                                              LayerNorm(d_model, **norm_kw))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(TransformerDecoderLayer(d_model, nhead, **layer_kw), num_decoder_layers,
                                              LayerNorm(d_model, **norm_kw))
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = int(d_model), int(nhead), bool(batch_first)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        op = type(self).__name__
        _check_input(op, "src", src, self.d_model)
        _check_input(op, "tgt", tgt, self.d_model)
        batch = 0 if self.batch_first else 1
        if src.ndim != tgt.ndim or (src.ndim == 3 and src.shape[batch] != tgt.shape[batch]):
            raise ValueError(f"{op}: src and tgt must both be unbatched or both batched with the same batch size "
                             f"(axis {batch}), got shapes {tuple(src.shape)} and {tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The (sz, sz) causal mask: 0 on and below the diagonal, -inf above (position i attends to j <= i).
        float32 by default, as PyTorch's default dtype."""
        if isinstance(sz, bool) or not isinstance(sz, (int, np.integer)) or sz < 0:
            raise ValueError(f"generate_square_subsequent_mask: sz must be a non-negative int, got {sz!r}")
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        if dtype.kind != "f":
            raise TypeError(f"generate_square_subsequent_mask: dtype must be floating point, got {dtype}")
        mask = np.triu(np.full((sz, sz), -np.inf, dtype=dtype), k=1)
        return tensor(mask, device="cpu" if device is None else device)
