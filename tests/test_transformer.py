"""nn.TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder and Transformer:
an encoder layer against NumPy written from the definition (every run); PyTorch state dicts loaded and giving
PyTorch's outputs and input gradients in eval mode (float64 and float32, batched / batch_first / unbatched,
bool and float masks, norm_first both ways, relu / gelu / a callable); PyTorch's nested-tensor fast path
(zeros at padded positions) against minigan's regular path; float64 first- and second-order gradient checks;
float32 kept; reprs and state-dict keys; deep-copied layers; dropout from the seeded generator; errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad
from torch_compare import float64_twins

# PyTorch's own notices (its nested-tensor prototype, mixed bool / float masks) are not what is tested here.
pytestmark = [pytest.mark.filterwarnings("ignore:Support for mismatched"),
              pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")]

NAMES = ["TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder",
         "Transformer"]


# -- definition ---------------------------------------------------------------------------------------------

def np_layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def np_self_attention(x, sd, prefix, heads, mask):
    """Multi-head self-attention of x (N, L, E) from the definition, ``mask`` (L, L) additive or None."""
    n, length, e = x.shape
    d = e // heads
    w, b = sd[prefix + "in_proj_weight"], sd[prefix + "in_proj_bias"]
    q, k, v = (x @ w[i * e:(i + 1) * e].T + b[i * e:(i + 1) * e] for i in range(3))
    split = [t.reshape(n, length, heads, d).transpose(0, 2, 1, 3) for t in (q, k, v)]
    s = split[0] @ split[1].transpose(0, 1, 3, 2) / math.sqrt(d)
    if mask is not None:
        s = s + mask
    a = np.exp(s - s.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    o = (a @ split[2]).transpose(0, 2, 1, 3).reshape(n, length, e)
    return o @ sd[prefix + "out_proj.weight"].T + sd[prefix + "out_proj.bias"]


def np_encoder_layer(x, sd, heads, norm_first, mask=None):
    """TransformerEncoderLayer in eval mode with relu, x (N, L, E) (batch first)."""
    def ff(h):
        return np.maximum(h @ sd["linear1.weight"].T + sd["linear1.bias"], 0) @ sd["linear2.weight"].T + \
            sd["linear2.bias"]

    def norm(i, h):
        return np_layer_norm(h, sd[f"norm{i}.weight"], sd[f"norm{i}.bias"])
    if norm_first:
        x = x + np_self_attention(norm(1, x), sd, "self_attn.", heads, mask)
        return x + ff(norm(2, x))
    x = norm(1, x + np_self_attention(x, sd, "self_attn.", heads, mask))
    return norm(2, x + ff(x))


def perturb(module, rng, scale=0.3):
    """Move every parameter off its initial value (norm weights off ones, biases off zeros)."""
    for p in module.parameters():
        p.data[...] += rng.standard_normal(p.shape).astype(p.dtype) * scale
    return module


@given(seed=st.integers(0, 2 ** 16), n=st.integers(1, 2), length=st.integers(1, 4), heads=st.sampled_from([1, 2]),
       norm_first=st.booleans(), masked=st.booleans())
@settings(max_examples=15, deadline=None)
def test_encoder_layer_matches_definition(device, seed, n, length, heads, norm_first, masked):
    rng = np.random.default_rng(seed)
    m = perturb(nn.TransformerEncoderLayer(4, heads, 6, batch_first=True, norm_first=norm_first, dtype=np.float64),
                rng).eval()
    sd = m.state_dict()
    m.to(device)
    x = rng.standard_normal((n, length, 4))
    mask = rng.standard_normal((length, length)) if masked else None
    y = m(mg.tensor(x, device=device), src_mask=None if mask is None else mg.tensor(mask, device=device))
    np.testing.assert_allclose(y.numpy(), np_encoder_layer(x, sd, heads, norm_first, mask), rtol=1e-10, atol=1e-10)


# -- PyTorch twins ------------------------------------------------------------------------------------------

def twins(torch, build, rng):
    """build(nn) and build(torch.nn) in float64 with the same (perturbed) parameters, in eval mode."""
    ours, theirs = float64_twins(torch, build, rng)
    return ours.eval(), theirs.eval()


def layout(batched, batch_first, length, n=2, e=4):
    if not batched:
        return (length, e)
    return (n, length, e) if batch_first else (length, n, e)


def mask_sets(rng, heads, lq, lk, batched, n=2):
    """(attn_mask, key_padding_mask) pairs: none, bool, float, 3-D per-head, causal; the first key is never
    masked, so that no row is fully masked."""
    kpm = rng.random((n, lk) if batched else (lk,)) > 0.6
    kpm[..., 0] = False
    am = rng.random((lq, lk)) > 0.7
    am[:, 0] = False
    causal = ~np.tril(np.ones((lq, lk), dtype=bool)) if lq == lk else None
    return [(None, None), (am, None), (None, kpm), (rng.standard_normal((lq, lk)), np.where(kpm, -np.inf, 0.0)),
            (rng.standard_normal((n * heads if batched else heads, lq, lk)), kpm), (causal, kpm)]


def as_mg(a, dtype, device):
    return None if a is None else mg.tensor(a if a.dtype == bool else a.astype(dtype), device=device)


def as_torch(torch, a, dtype):
    return None if a is None else torch.tensor(a if a.dtype == bool else a.astype(dtype))


def compare(torch, ours, theirs, arrays, call, call_t, device, rng):
    """Values and input gradients of ``call(ours, inputs, dtype)`` and ``call_t(theirs, inputs, dtype)`` in
    float64 and float32."""
    for dtype, tol in ((np.float64, 1e-9), (np.float32, 2e-4)):
        ours.to(device=device, dtype=dtype)
        theirs.to(dtype=torch.float64 if dtype == np.float64 else torch.float32)
        xm = [mg.tensor(a.astype(dtype), device=device, requires_grad=True) for a in arrays]
        xt = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        y, yt = call(ours, xm, dtype), call_t(theirs, xt, dtype)
        assert y.dtype == dtype and y.shape == tuple(yt.shape)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
        gy = rng.standard_normal(y.shape).astype(dtype)
        grads = mg.grad(y, xm, mg.tensor(gy, device=device))
        grads_t = torch.autograd.grad(yt, xt, torch.tensor(gy))
        for g, gt in zip(grads, grads_t):
            assert g.dtype == dtype
            np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=10 * tol, atol=10 * tol)


ENCODER_CONFIGS = [dict(norm_first=False), dict(norm_first=True, activation="gelu"),
                   dict(batch_first=True, activation="gelu"), dict(batch_first=True, norm_first=True, bias=False),
                   dict(layer_norm_eps=1e-3, activation=F.gelu)]


@pytest.mark.parametrize("kwargs", ENCODER_CONFIGS)
def test_encoder_layer_and_stack_give_torch_outputs(device, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    heads, length = 2, 3
    act = kwargs.get("activation")
    for stacked in (False, True):
        def build(lib):
            kw = dict(kwargs, activation=torch.nn.functional.gelu) if act is F.gelu and lib is torch.nn else kwargs
            layer = lib.TransformerEncoderLayer(4, heads, 5, **kw)
            if not stacked:
                return layer
            return lib.TransformerEncoder(layer, 2, norm=lib.LayerNorm(4), enable_nested_tensor=False)
        ours, theirs = twins(torch, build, rng)
        for batched in (True, False):
            x = rng.standard_normal(layout(batched, kwargs.get("batch_first", False), length))
            for am, kpm in mask_sets(rng, heads, length, length, batched):
                names = ("mask", "src_key_padding_mask") if stacked else ("src_mask", "src_key_padding_mask")
                hint = {"is_causal": True} if am is not None and am.dtype == bool and am.ndim == 2 and \
                    np.array_equal(am, ~np.tril(np.ones_like(am))) else {}

                def call(m, xs, dtype):
                    return m(xs[0], **{names[0]: as_mg(am, dtype, device), names[1]: as_mg(kpm, dtype, device)},
                             **hint)

                def call_t(m, xs, dtype):
                    return m(xs[0], **{names[0]: as_torch(torch, am, dtype), names[1]: as_torch(torch, kpm, dtype)},
                             **hint)
                compare(torch, ours, theirs, [x], call, call_t, device, rng)


DECODER_CONFIGS = [dict(), dict(norm_first=True, activation="gelu"), dict(batch_first=True, bias=False),
                   dict(batch_first=True, norm_first=True)]


@pytest.mark.parametrize("kwargs", DECODER_CONFIGS)
def test_decoder_layer_and_stack_give_torch_outputs(device, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    heads, lt, ls = 2, 3, 4
    for stacked in (False, True):
        def build(lib):
            layer = lib.TransformerDecoderLayer(4, heads, 5, **kwargs)
            return lib.TransformerDecoder(layer, 2, norm=lib.LayerNorm(4)) if stacked else layer
        ours, theirs = twins(torch, build, rng)
        bf = kwargs.get("batch_first", False)
        for batched in (True, False):
            tgt, mem = rng.standard_normal(layout(batched, bf, lt)), rng.standard_normal(layout(batched, bf, ls))
            for (tm, tk), (mm, mk) in zip(mask_sets(rng, heads, lt, lt, batched), mask_sets(rng, heads, lt, ls, batched)):
                def masks(conv, dtype):
                    return dict(tgt_mask=conv(tm, dtype), tgt_key_padding_mask=conv(tk, dtype),
                                memory_mask=conv(mm, dtype), memory_key_padding_mask=conv(mk, dtype))

                def call(m, xs, dtype):
                    return m(*xs, **masks(lambda a, d: as_mg(a, d, device), dtype))

                def call_t(m, xs, dtype):
                    return m(*xs, **masks(lambda a, d: as_torch(torch, a, d), dtype))
                compare(torch, ours, theirs, [tgt, mem], call, call_t, device, rng)


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_gives_torch_outputs(device, batch_first):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)

    def build(lib):
        return lib.Transformer(4, 2, 2, 1, 6, batch_first=batch_first, activation="gelu", norm_first=batch_first)
    ours, theirs = twins(torch, build, rng)
    for batched in (True, False):
        src, tgt = rng.standard_normal(layout(batched, batch_first, 4)), rng.standard_normal(layout(batched, batch_first, 3))
        causal = rng.standard_normal((3, 3)) + nn.Transformer.generate_square_subsequent_mask(3, dtype=np.float64).numpy()
        kpm = np.array([[False, False, True, False], [False, True, False, True]])
        kpm = kpm if batched else kpm[0]

        def call(m, xs, dtype):
            return m(*xs, tgt_mask=as_mg(causal, dtype, device), src_key_padding_mask=as_mg(kpm, dtype, device),
                     memory_key_padding_mask=as_mg(kpm, dtype, device))

        def call_t(m, xs, dtype):
            return m(*xs, tgt_mask=as_torch(torch, causal, dtype), src_key_padding_mask=as_torch(torch, kpm, dtype),
                     memory_key_padding_mask=as_torch(torch, kpm, dtype))
        compare(torch, ours, theirs, [src, tgt], call, call_t, device, rng)


def test_torch_nested_tensor_fast_path_differs_only_at_padded_positions(device):
    """PyTorch's encoder, in eval mode without autograd and with nested tensors, returns zeros at the padded
    positions; minigan (always the regular path) returns the layer's values there, as PyTorch's regular path
    does. The positions that are not padded agree."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)

    def build(lib):
        return lib.TransformerEncoder(lib.TransformerEncoderLayer(4, 2, 6, batch_first=True), 2)
    ours, theirs = twins(torch, build, rng)
    ours.to(device)
    x = rng.standard_normal((2, 3, 4))
    kpm = np.array([[False, False, True], [False, False, False]])
    y = ours(mg.tensor(x, device=device), src_key_padding_mask=mg.tensor(kpm, device=device)).numpy()
    with torch.no_grad():
        fast = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm)).numpy()
    regular = theirs(torch.tensor(x, requires_grad=True), src_key_padding_mask=torch.tensor(kpm)).detach().numpy()
    assert not fast[kpm].any() and regular[kpm].all()
    np.testing.assert_allclose(y, regular, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(y[~kpm], fast[~kpm], rtol=1e-6, atol=1e-6)


# -- structure ----------------------------------------------------------------------------------------------

def test_reprs_and_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")
    builds = [
        lambda lib: lib.TransformerEncoderLayer(4, 2, 8),
        lambda lib: lib.TransformerEncoderLayer(6, 3, 5, dropout=0.2, activation="gelu", layer_norm_eps=1e-3,
                                                batch_first=True, norm_first=True, bias=False),
        lambda lib: lib.TransformerEncoderLayer(4, 2, 8, activation=lib.GELU()),
        lambda lib: lib.TransformerDecoderLayer(4, 1, 3, dropout=0.0, bias=False),
        lambda lib: lib.TransformerEncoder(lib.TransformerEncoderLayer(4, 2, 8), 3, norm=lib.LayerNorm(4),
                                           enable_nested_tensor=False),
        lambda lib: lib.TransformerDecoder(lib.TransformerDecoderLayer(4, 2, 8), 2),
        lambda lib: lib.Transformer(4, 2, 1, 2, 8),
        lambda lib: lib.Transformer(d_model=6, nhead=3, num_encoder_layers=0, num_decoder_layers=1, bias=False),
    ]
    for build in builds:
        ours, theirs = build(nn), build(torch.nn)
        assert repr(ours) == repr(theirs)
        mine, ref = ours.state_dict(), theirs.state_dict()
        assert list(mine) == list(ref)
        for key in mine:
            assert mine[key].shape == tuple(ref[key].shape) and mine[key].dtype == np.float32, key
    assert all(name in nn.__all__ and getattr(nn, name) for name in NAMES)


def test_layers_are_independent_deep_copies_and_transformer_init():
    layer = nn.TransformerEncoderLayer(4, 2, 8)
    enc = nn.TransformerEncoder(layer, 2)
    w0, w1 = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert w0 is not w1 and w0 is not layer.linear1.weight
    np.testing.assert_array_equal(w0.numpy(), layer.linear1.weight.numpy())
    w0.data[...] += 1
    assert not np.array_equal(w0.numpy(), w1.numpy())
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 8, dtype=np.float64), 3)
    assert len(dec.layers) == 3 and dec.norm is None and dec.layers[2].norm3.weight.dtype == np.float64
    t = nn.Transformer(64, 4, 1, 1, 32)
    w = t.encoder.layers[0].linear1.weight.numpy()  # Xavier-uniform over (32, 64), not Linear's own init
    bound = math.sqrt(6 / (32 + 64))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 1 / math.sqrt(64)
    b = t.encoder.layers[0].linear1.bias.numpy()  # 1-axis parameters keep their own init
    assert np.all(t.decoder.norm.weight.numpy() == 1) and np.abs(b).max() <= 1 / math.sqrt(64) and b.any()


def test_generate_square_subsequent_mask(device):
    torch = pytest.importorskip("torch")
    m = nn.Transformer.generate_square_subsequent_mask(4, device=device)
    assert m.dtype == np.float32 and m.device == mg.tensor(0.0, device=device).device
    np.testing.assert_array_equal(m.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    assert nn.Transformer.generate_square_subsequent_mask(2, dtype=np.float64).dtype == np.float64
    assert nn.Transformer.generate_square_subsequent_mask(0).shape == (0, 0)


# -- gradients, dtypes, modes -------------------------------------------------------------------------------

@given(seed=st.integers(0, 2 ** 16), length=st.integers(1, 3), norm_first=st.booleans(),
       activation=st.sampled_from(["relu", "gelu"]), masked=st.booleans())
@settings(max_examples=10, deadline=None)
def test_encoder_layer_first_order_gradients(device, seed, length, norm_first, activation, masked):
    rng = np.random.default_rng(seed)
    m = perturb(nn.TransformerEncoderLayer(2, 2, 3, norm_first=norm_first, activation=activation,
                                           dtype=np.float64), rng).eval().to(device)
    mask = mg.tensor(rng.standard_normal((length, length)), device=device) if masked else None
    # relu's kink: a pre-activation within the difference step (1e-6) of 0 has probability ~1e-6
    check_grad(lambda x: m(x, src_mask=mask), [rng.standard_normal((length, 2, 2))], device)


@given(seed=st.integers(0, 2 ** 16), norm_first=st.booleans(), tgt_len=st.integers(1, 2))
@settings(max_examples=3, deadline=None)
def test_decoder_layer_first_and_second_order_gradients(device, seed, norm_first, tgt_len):
    rng = np.random.default_rng(seed)
    m = perturb(nn.TransformerDecoderLayer(2, 1, 3, activation="gelu", batch_first=True, norm_first=norm_first,
                                           dtype=np.float64), rng).eval().to(device)
    kpm = mg.tensor(np.array([[False, True, False], [False, False, False]]), device=device)

    def fn(tgt, memory):
        return m(tgt, memory, memory_key_padding_mask=kpm)
    arrays = [rng.standard_normal((2, tgt_len, 2)), rng.standard_normal((2, 3, 2))]
    check_grad(fn, arrays, device)
    check_double_grad(fn, arrays, device)


def test_float32_kept(device):
    rng = np.random.default_rng(6)
    t = nn.Transformer(4, 2, 1, 1, 6, batch_first=True).to(device).eval()
    src = mg.tensor(rng.standard_normal((2, 3, 4)).astype(np.float32), device=device, requires_grad=True)
    tgt = mg.tensor(rng.standard_normal((2, 2, 4)).astype(np.float32), device=device, requires_grad=True)
    mask = mg.tensor(np.triu(np.full((2, 2), -np.inf), 1), device=device)  # a float64 mask
    y = t(src, tgt, tgt_mask=mask, tgt_is_causal=True)
    assert y.dtype == np.float32
    g_src, g_tgt = mg.grad(y.sum(), [src, tgt])
    assert g_src.dtype == np.float32 and g_tgt.dtype == np.float32


def test_dropout_trains_only_and_follows_the_seed(device):
    rng = np.random.default_rng(7)
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.5).to(device)
    x = mg.tensor(rng.standard_normal((3, 2, 4)).astype(np.float32), device=device)
    mg.manual_seed(1)
    a = layer(x).numpy()
    mg.manual_seed(1)
    np.testing.assert_array_equal(a, layer(x).numpy())
    assert not np.allclose(a, layer(x).numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


def test_module_activation_is_called(device):
    layer = nn.TransformerEncoderLayer(2, 1, 3, activation=nn.Tanh(), dtype=np.float64).eval().to(device)
    x = mg.tensor(np.random.default_rng(8).standard_normal((2, 1, 2)), device=device)
    ref = nn.TransformerEncoderLayer(2, 1, 3, activation=F.tanh, dtype=np.float64).eval()
    ref.load_state_dict(layer.state_dict())
    np.testing.assert_allclose(layer(x).numpy(), ref.to(device)(x).numpy(), rtol=1e-12)
    assert list(layer.state_dict()) == list(ref.state_dict())


# -- errors -------------------------------------------------------------------------------------------------

def test_errors(device):
    with pytest.raises(ValueError, match="TransformerEncoderLayer: d_model must be divisible by nhead, got d_model=6"):
        nn.TransformerEncoderLayer(6, 4)
    with pytest.raises(ValueError, match="TransformerDecoderLayer: nhead must be a positive int"):
        nn.TransformerDecoderLayer(4, 0)
    with pytest.raises(ValueError, match="dim_feedforward must be a positive int"):
        nn.TransformerEncoderLayer(4, 2, dim_feedforward=0)
    with pytest.raises(ValueError, match="activation must be 'relu', 'gelu' or a callable, got 'tanh'"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    with pytest.raises(TypeError, match="activation must be"):
        nn.TransformerDecoderLayer(4, 2, activation=3)
    with pytest.raises(ValueError, match="p must be a number in"):
        nn.TransformerEncoderLayer(4, 2, dropout=1.5)
    with pytest.raises(TypeError, match="TransformerEncoder: the layer must be a TransformerEncoderLayer"):
        nn.TransformerEncoder(nn.TransformerDecoderLayer(4, 2), 2)
    with pytest.raises(ValueError, match="TransformerDecoder: num_layers must be a non-negative int, got -1"):
        nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2), -1)
    with pytest.raises(TypeError, match="norm must be a Module or None"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2), 1, norm=3)
    with pytest.raises(ValueError, match="sz must be a non-negative int"):
        nn.Transformer.generate_square_subsequent_mask(-1)
    layer = nn.TransformerEncoderLayer(4, 2, 8).to(device)
    x = mg.tensor(np.zeros((3, 2, 4), np.float32), device=device)
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer: src must be .* got shape \(3, 2, 5\)"):
        layer(mg.tensor(np.zeros((3, 2, 5), np.float32), device=device))
    with pytest.raises(TypeError, match="src must be a Tensor"):
        layer(np.zeros((3, 2, 4)))
    with pytest.raises(ValueError, match="attn_mask must be given with it"):
        layer(x, is_causal=True)
    with pytest.raises(ValueError, match="key_padding_mask must have shape"):
        layer(x, src_key_padding_mask=mg.tensor(np.zeros((3, 2), bool), device=device))
    dec = nn.TransformerDecoderLayer(4, 2, 8).to(device)
    with pytest.raises(ValueError, match="tgt and memory must both be batched"):
        dec(x, mg.tensor(np.zeros((3, 4), np.float32), device=device))
    t = nn.Transformer(4, 2, 1, 1, 8).to(device)
    with pytest.raises(ValueError, match=r"Transformer: src and tgt must .* same batch size \(axis 1\)"):
        t(x, mg.tensor(np.zeros((3, 1, 4), np.float32), device=device))
    with pytest.raises(ValueError, match="Transformer: tgt must be"):
        t(x, mg.tensor(np.zeros((3, 2, 3), np.float32), device=device))
