"""scaled_dot_product_attention and nn.MultiheadAttention: values against NumPy written from the definition
(every run) and against PyTorch where it is installed (values and gradients, float64 and float32), over
hypothesis-drawn shapes whose leading axes broadcast, bool / float / causal masks, scales and grouped-query
heads; fully-masked rows (zeros in SDPA, NaN in MultiheadAttention's returned weights, as PyTorch 2.13 on
CPU); dropout from minigan's seeded generator; float64 first- and second-order gradient checks; float32
kept; MultiheadAttention's parameters, initialisation, repr and state-dict keys, a PyTorch state dict
loaded and giving PyTorch's outputs; the error messages."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad

seeds = st.integers(0, 2 ** 16)


# -- definition ---------------------------------------------------------------------------------------------

def np_sdpa(q, k, v, mask=None, causal=False, scale=None):
    """softmax(q k^T * scale + mask) v, rows with every score -inf giving zeros (PyTorch's CPU op)."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = (q @ np.swapaxes(k, -1, -2)) * q.dtype.type(scale)
    if causal:
        mask = np.tril(np.ones(s.shape[-2:], dtype=bool))
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    dead = np.all(s == -np.inf, axis=-1, keepdims=True)
    s = np.where(dead, 0, s)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    a = np.where(dead, 0, e / e.sum(axis=-1, keepdims=True))
    return a @ v


@st.composite
def attention_case(draw, max_side=4):
    """(q, k, v, mask or None, causal, scale) in float64, leading axes that broadcast, any mask kind."""
    rng = np.random.default_rng(draw(seeds))
    lead = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
    lq, lk, lv = ([n if draw(st.booleans()) else 1 for n in lead] for _ in range(3))
    lq, lk, lv = (lead_[draw(st.integers(0, len(lead_))):] for lead_ in (lq, lk, lv))
    L, S, E, Ev = (draw(st.integers(1, max_side)) for _ in range(4))
    q, k, v = (rng.standard_normal(tuple(s)) for s in (lq + [L, E], lk + [S, E], lv + [S, Ev]))
    kind = draw(st.sampled_from(["none", "bool", "float", "causal"]))
    mask_shape = tuple(draw(st.sampled_from([[L, S], [1, S], [L, 1]])))
    mask = None
    if kind == "bool":
        mask = rng.random(mask_shape) > 0.3
    elif kind == "float":
        mask = rng.standard_normal(mask_shape)
    scale = draw(st.sampled_from([None, 0.5, 2.0]))
    return q, k, v, mask, kind == "causal", scale


def call(q, k, v, mask, causal, scale, device, dtype=np.float64):
    t = [mg.tensor(a.astype(dtype), device=device) for a in (q, k, v)]
    m = None if mask is None else mg.tensor(mask if mask.dtype == bool else mask.astype(dtype), device=device)
    return F.scaled_dot_product_attention(*t, attn_mask=m, is_causal=causal, scale=scale)


# -- scaled_dot_product_attention: values ----------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(case=attention_case())
def test_sdpa_matches_definition(device, case):
    q, k, v, mask, causal, scale = case
    want = np_sdpa(q, k, v, mask, causal, scale)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        y = call(q, k, v, mask, causal, scale, device, dtype)
        assert y.dtype == dtype and y.shape == want.shape
        np.testing.assert_allclose(y.numpy(), want, rtol=tol, atol=tol)


def test_fully_masked_rows_are_zero_with_zero_gradient(device):
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 2))
    allowed = np.ones((3, 5), dtype=bool)
    allowed[1] = False
    additive = np.where(allowed, 0.0, -np.inf)
    for mask in (allowed, additive):
        qt = mg.tensor(q, device=device, requires_grad=True)
        y = F.scaled_dot_product_attention(qt, mg.tensor(k, device=device), mg.tensor(v, device=device),
                                           attn_mask=mg.tensor(mask, device=device))
        assert np.all(y.numpy()[:, 1] == 0) and np.all(np.isfinite(y.numpy()))
        (g,) = mg.grad(y.sum(), [qt])
        assert np.all(g.numpy()[:, 1] == 0) and np.all(np.isfinite(g.numpy()))


def test_no_keys_gives_zeros(device):
    y = F.scaled_dot_product_attention(mg.zeros((2, 3, 4), device=device), mg.zeros((2, 0, 4), device=device),
                                       mg.zeros((2, 0, 5), device=device))
    assert y.shape == (2, 3, 5) and y.dtype == np.float32 and not y.numpy().any()


def test_causal_mask_is_top_left_aligned(device):
    rng = np.random.default_rng(2)
    for L, S in ((5, 3), (3, 5), (4, 4)):
        q, k, v = rng.standard_normal((L, 2)), rng.standard_normal((S, 2)), rng.standard_normal((S, 3))
        y = call(q, k, v, None, True, None, device)
        np.testing.assert_allclose(y.numpy(), np_sdpa(q, k, v, np.tril(np.ones((L, S), bool))), atol=1e-12)
        # query 0 sees key 0 alone
        np.testing.assert_allclose(y.numpy()[0], v[0], atol=1e-12)


def test_grouped_query_attention_repeats_each_head(device):
    rng = np.random.default_rng(3)
    q, k, v = rng.standard_normal((2, 6, 3, 4)), rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((2, 3, 5, 2))
    y = F.scaled_dot_product_attention(*(mg.tensor(a, device=device) for a in (q, k, v)), enable_gqa=True)
    want = np_sdpa(q, np.repeat(k, 3, axis=1), np.repeat(v, 2, axis=1))
    np.testing.assert_allclose(y.numpy(), want, atol=1e-12)


def test_dropout_on_weights_uses_the_seeded_generator(device):
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 2)))
    args = [mg.tensor(a, device=device) for a in (q, k, v)]
    mg.manual_seed(7)
    y = F.scaled_dot_product_attention(*args, dropout_p=0.4)
    mg.manual_seed(7)
    keep = mg.random.generator(device).random((2, 3, 5), dtype=np.float32) >= 0.4
    mg.manual_seed(7)
    again = F.scaled_dot_product_attention(*args, dropout_p=0.4)
    s = q @ np.swapaxes(k, 1, 2) / np.float32(2)
    a = np.exp(s - s.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), (a * keep / np.float32(0.6)) @ v, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(y.numpy(), again.numpy())
    assert not F.scaled_dot_product_attention(*args, dropout_p=1.0).numpy().any()


def test_float32_kept_and_float32_mask_with_float64_query(device):
    rng = np.random.default_rng(5)
    q = rng.standard_normal((3, 4))
    mask = rng.standard_normal((3, 3)).astype(np.float32)
    y = F.scaled_dot_product_attention(*(mg.tensor(q, device=device) for _ in range(3)),
                                       attn_mask=mg.tensor(mask, device=device))
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), np_sdpa(q, q, q, mask.astype(np.float64)), atol=1e-12)
    y32 = F.scaled_dot_product_attention(*(mg.tensor(q.astype(np.float32), device=device) for _ in range(3)),
                                         scale=0.25, is_causal=True)
    assert y32.dtype == np.float32


# -- scaled_dot_product_attention: gradients -------------------------------------------------------------------

@settings(max_examples=12, deadline=None)
@given(case=attention_case(max_side=3))
def test_sdpa_first_and_second_order_gradients(device, case):
    q, k, v, mask, causal, scale = case
    if mask is not None and mask.dtype != bool:  # a float mask is differentiated too
        def fn(q_, k_, v_, m_):
            return F.scaled_dot_product_attention(q_, k_, v_, attn_mask=m_, scale=scale)
        arrays = [q, k, v, mask]
    else:
        m = None if mask is None else mg.tensor(mask, device=device)

        def fn(q_, k_, v_):
            return F.scaled_dot_product_attention(q_, k_, v_, attn_mask=m, is_causal=causal, scale=scale)
        arrays = [q, k, v]
    check_grad(fn, arrays, device)
    check_double_grad(fn, arrays, device)


def test_sdpa_gradients_with_dead_rows_and_gqa(device):
    rng = np.random.default_rng(6)
    allowed = rng.random((3, 4)) > 0.4
    allowed[0] = False
    m = mg.tensor(allowed, device=device)
    arrays = [rng.standard_normal((2, 3, 2)), rng.standard_normal((1, 4, 2)), rng.standard_normal((1, 4, 3))]

    def masked(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)

    def grouped(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    check_grad(masked, arrays, device)
    check_double_grad(masked, arrays, device)
    check_grad(grouped, arrays, device)
    check_double_grad(grouped, arrays, device)


# -- scaled_dot_product_attention: against PyTorch ----------------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(case=attention_case(), seed=seeds)
def test_sdpa_matches_torch(device, case, seed):
    torch = pytest.importorskip("torch")
    q, k, v, mask, causal, scale = case
    for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-4)):
        ours = [mg.tensor(a.astype(dtype), device=device, requires_grad=True) for a in (q, k, v)]
        theirs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in (q, k, v)]
        m = None if mask is None else (mask if mask.dtype == bool else mask.astype(dtype))
        y = F.scaled_dot_product_attention(*ours, attn_mask=None if m is None else mg.tensor(m, device=device),
                                           is_causal=causal, scale=scale)
        yt = torch.nn.functional.scaled_dot_product_attention(
            *theirs, attn_mask=None if m is None else torch.tensor(m), is_causal=causal, scale=scale)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
        gy = np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)
        grads = mg.grad(y, ours, mg.tensor(gy, device=device))
        grads_t = torch.autograd.grad(yt, theirs, torch.tensor(gy))
        for g, gt in zip(grads, grads_t):
            assert g.dtype == dtype
            np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=tol, atol=tol)


def test_sdpa_special_cases_match_torch(device):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(8)
    q, k, v = rng.standard_normal((2, 6, 3, 4)), rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((2, 2, 5, 3))
    allowed = rng.random((3, 5)) > 0.5
    allowed[2] = False
    additive = np.where(allowed, rng.standard_normal((3, 5)), -np.inf)
    for kwargs in ({"enable_gqa": True}, {"enable_gqa": True, "attn_mask": allowed},
                   {"enable_gqa": True, "attn_mask": additive}, {"enable_gqa": True, "scale": 0.0}):
        ours = F.scaled_dot_product_attention(
            *(mg.tensor(a, device=device) for a in (q, k, v)),
            **{n: mg.tensor(a, device=device) if n == "attn_mask" else a for n, a in kwargs.items()})
        theirs = tf.scaled_dot_product_attention(
            *(torch.tensor(a) for a in (q, k, v)),
            **{n: torch.tensor(a) if n == "attn_mask" else a for n, a in kwargs.items()})
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)


# -- scaled_dot_product_attention: errors ------------------------------------------------------------------

def test_sdpa_errors(device):
    def t(*shape, dtype=np.float32):
        return mg.tensor(np.ones(shape, dtype=dtype), device=device)
    sdpa = F.scaled_dot_product_attention
    q, k, v = t(2, 3, 4), t(2, 5, 4), t(2, 5, 2)
    with pytest.raises(ValueError, match="attn_mask or is_causal"):
        sdpa(q, k, v, attn_mask=t(3, 5), is_causal=True)
    with pytest.raises(ValueError, match=r"at least 2 axes.*\(4,\)"):
        sdpa(t(4), t(4), t(4))
    with pytest.raises(ValueError, match="same number of features"):
        sdpa(q, t(2, 5, 3), v)
    with pytest.raises(ValueError, match="same length S"):
        sdpa(q, k, t(2, 4, 2))
    with pytest.raises(ValueError, match="do not broadcast"):
        sdpa(q, t(3, 5, 4), v)
    with pytest.raises(TypeError, match="one floating dtype"):
        sdpa(t(2, 3, 4, dtype=np.float64), k, v)
    with pytest.raises(TypeError, match="attn_mask must be bool"):
        sdpa(q, k, v, attn_mask=t(3, 5, dtype=np.int64))
    with pytest.raises(TypeError, match="attn_mask must be bool"):
        sdpa(q, k, v, attn_mask=t(3, 5, dtype=np.float64))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(4, 5\) does not broadcast"):
        sdpa(q, k, v, attn_mask=t(4, 5))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 3, 5\) does not broadcast"):
        sdpa(q, k, v, attn_mask=t(3, 3, 5))
    with pytest.raises(ValueError, match="p must be a number in"):
        sdpa(q, k, v, dropout_p=1.5)
    with pytest.raises(TypeError, match="scale must be a number"):
        sdpa(q, k, v, scale="0.5")
    with pytest.raises(ValueError, match="feature axis must not be empty"):
        sdpa(t(2, 3, 0), t(2, 5, 0), v)
    with pytest.raises(ValueError, match="must divide the query's 6"):
        sdpa(t(6, 3, 4), t(4, 5, 4), t(4, 5, 2), enable_gqa=True)
    with pytest.raises(ValueError, match="enable_gqa needs a head axis"):
        sdpa(t(3, 4), t(5, 4), t(5, 2), enable_gqa=True)
    with pytest.raises(TypeError, match="query must be a Tensor"):
        sdpa(np.ones((3, 4)), k, v)


# -- MultiheadAttention ---------------------------------------------------------------------------------------

CONFIGS = [
    dict(embed_dim=4, num_heads=2),
    dict(embed_dim=4, num_heads=1, batch_first=True),
    dict(embed_dim=6, num_heads=3, bias=False),
    dict(embed_dim=4, num_heads=2, kdim=3, vdim=5),
    dict(embed_dim=6, num_heads=2, add_bias_kv=True, add_zero_attn=True),
    dict(embed_dim=4, num_heads=2, kdim=3, vdim=3, add_bias_kv=True, bias=False, batch_first=True),
]


def test_mha_repr_state_dict_and_init_match_torch():
    torch = pytest.importorskip("torch")
    for kwargs in CONFIGS:
        ours, theirs = nn.MultiheadAttention(**kwargs), torch.nn.MultiheadAttention(**kwargs)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
        for key, value in ours.state_dict().items():
            assert value.shape == tuple(theirs.state_dict()[key].shape) and value.dtype == np.float32, key
    assert "MultiheadAttention" in nn.__all__


def test_mha_initialisation():
    e = 64
    m = nn.MultiheadAttention(e, 4, add_bias_kv=True)
    bound = math.sqrt(6 / (3 * e + e))  # Xavier-uniform over the whole (3E, E) matrix, as PyTorch
    w = m.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not m.in_proj_bias.numpy().any() and not m.out_proj.bias.numpy().any()
    assert np.abs(m.out_proj.weight.numpy()).max() <= 1 / math.sqrt(e)  # Linear's own init, not reset
    assert 0.5 / math.sqrt(e) < m.bias_k.numpy().std() < 1.6 / math.sqrt(e)  # Xavier-normal, std sqrt(1/E)
    m2 = nn.MultiheadAttention(4, 2, kdim=3, vdim=5, dtype=np.float64)
    assert m2.in_proj_weight is None and m2.k_proj_weight.shape == (4, 3) and m2.v_proj_weight.dtype == np.float64


def _twins(torch, kwargs, rng):
    theirs = torch.nn.MultiheadAttention(**kwargs).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.3))
    ours = nn.MultiheadAttention(**kwargs).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _inputs(kwargs, rng, L=3, S=4, N=2, batched=True):
    e = kwargs["embed_dim"]
    kd, vd = kwargs.get("kdim") or e, kwargs.get("vdim") or e

    def shape(length, features):
        if not batched:
            return (length, features)
        return (N, length, features) if kwargs.get("batch_first") else (length, N, features)
    return [rng.standard_normal(shape(n, f)) for n, f in ((L, e), (S, kd), (S, vd))]


def _masks(rng, heads, L=3, S=4, N=2, batched=True):
    """Every pairing of key_padding_mask and attn_mask PyTorch takes, in both bool and float."""
    kpm = rng.random((N, S) if batched else (S,)) > 0.6
    kpm[..., 0] = False
    am = rng.random((L, S)) > 0.7
    am[:, 1] = False
    am3 = rng.standard_normal((N * heads if batched else heads, L, S))
    return [{}, {"key_padding_mask": kpm}, {"attn_mask": am}, {"attn_mask": am3},
            {"key_padding_mask": np.where(kpm, -np.inf, 0.0), "attn_mask": am3},
            {"key_padding_mask": kpm, "attn_mask": am}]


@pytest.mark.parametrize("kwargs", CONFIGS)
def test_mha_loaded_from_torch_gives_torch_outputs_and_gradients(device, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    for batched in (True, False):
        ours, theirs = _twins(torch, kwargs, rng)
        ours.to(device)
        ours.eval(), theirs.eval()
        xs = _inputs(kwargs, rng, batched=batched)
        for masks in _masks(rng, kwargs["num_heads"], batched=batched):
            for forward in ({}, {"need_weights": False}, {"average_attn_weights": False}):
                for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-4)):
                    ours.to(dtype=dtype)
                    theirs.to(dtype=torch.float64 if dtype == np.float64 else torch.float32)
                    xm = [mg.tensor(x.astype(dtype), device=device, requires_grad=True) for x in xs]
                    xt = [torch.tensor(x.astype(dtype), requires_grad=True) for x in xs]
                    mm = {n: mg.tensor(m if m.dtype == bool else m.astype(dtype), device=device)
                          for n, m in masks.items()}
                    mt = {n: torch.tensor(m if m.dtype == bool else m.astype(dtype)) for n, m in masks.items()}
                    y, w = ours(*xm, **mm, **forward)
                    yt, wt = theirs(*xt, **mt, **forward)
                    assert y.dtype == dtype
                    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
                    if wt is None:
                        assert w is None
                    else:
                        np.testing.assert_allclose(w.numpy(), wt.detach().numpy(), rtol=tol, atol=tol)
                    gy = rng.standard_normal(y.shape).astype(dtype)
                    params = list(ours.parameters())
                    grads = mg.grad(y, xm + params, mg.tensor(gy, device=device))
                    grads_t = torch.autograd.grad(yt, xt + list(theirs.parameters()), torch.tensor(gy))
                    for g, gt in zip(grads, grads_t):
                        np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=tol * 10, atol=tol * 10)


def test_mha_fully_masked_rows_as_torch(device):
    m = nn.MultiheadAttention(4, 2).double().to(device).eval()
    x = mg.tensor(np.random.default_rng(10).standard_normal((3, 2, 4)), device=device)
    kpm = np.zeros((2, 3), dtype=bool)
    kpm[1] = True
    y, w = m(x, x, x, key_padding_mask=mg.tensor(kpm, device=device))
    assert np.all(np.isnan(y.numpy()[:, 1])) and np.all(np.isnan(w.numpy()[1]))
    assert np.all(np.isfinite(y.numpy()[:, 0]))
    y, w = m(x, x, x, key_padding_mask=mg.tensor(kpm, device=device), need_weights=False)
    assert w is None
    np.testing.assert_allclose(y.numpy()[:, 1], np.broadcast_to(m.out_proj.bias.numpy(), (3, 4)))


def test_mha_is_causal_is_a_hint_and_dropout_trains_only(device):
    rng = np.random.default_rng(11)
    m = nn.MultiheadAttention(4, 2, dropout=0.5).to(device)
    x = mg.tensor(rng.standard_normal((3, 2, 4)).astype(np.float32), device=device)
    causal = mg.tensor(~np.tril(np.ones((3, 3), dtype=bool)), device=device)
    m.eval()
    y1, _ = m(x, x, x, attn_mask=causal)
    y2, _ = m(x, x, x, attn_mask=causal, is_causal=True, need_weights=False)
    np.testing.assert_allclose(y1.numpy(), y2.numpy(), rtol=1e-5, atol=1e-6)
    assert y1.dtype == np.float32
    m.train()
    mg.manual_seed(3)
    ya, wa = m(x, x, x)
    mg.manual_seed(3)
    yb, wb = m(x, x, x)
    np.testing.assert_array_equal(ya.numpy(), yb.numpy())
    assert (wa.numpy() == 0).any()  # the returned weights are taken after dropout, as PyTorch's


def test_mha_first_and_second_order_gradients(device):
    rng = np.random.default_rng(12)
    for kwargs, masks in ((dict(embed_dim=4, num_heads=2), {}),
                          (dict(embed_dim=4, num_heads=2, kdim=3, vdim=2, add_bias_kv=True, add_zero_attn=True),
                           {"key_padding_mask": np.array([[False, True, False], [False, False, True]])}),
                          (dict(embed_dim=2, num_heads=1, batch_first=True),
                           {"attn_mask": rng.standard_normal((2, 3))})):
        m = nn.MultiheadAttention(**kwargs).double()
        for p in m.parameters():
            p.data[...] += rng.standard_normal(p.shape) * 0.3
        m.to(device)
        mm = {n: mg.tensor(a, device=device) for n, a in masks.items()}

        def fn(q, k, v):
            y, w = m(q, k, v, **mm)
            return y + w.sum()
        xs = _inputs(kwargs, rng, L=2, S=3)
        check_grad(fn, xs, device)
        check_double_grad(fn, xs, device)


def test_mha_errors(device):
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match="must be positive"):
        nn.MultiheadAttention(0, 1)
    with pytest.raises(ValueError, match="p must be a number in"):
        nn.MultiheadAttention(4, 2, dropout=2.0)
    m = nn.MultiheadAttention(4, 2).to(device)

    def t(*shape, dtype=np.float32):
        return mg.tensor(np.zeros(shape, dtype=dtype), device=device)
    x = t(3, 2, 4)
    with pytest.raises(ValueError, match="attn_mask must be given"):
        m(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="all be 3-D"):
        m(x, t(3, 4), t(3, 4))
    with pytest.raises(ValueError, match="query must have 4 features"):
        m(t(3, 2, 5), x, x)
    with pytest.raises(ValueError, match="key and value must have the same length"):
        m(x, x, t(4, 2, 4))
    with pytest.raises(ValueError, match="same batch size"):
        m(t(3, 1, 4), x, x)
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(2, 3\)"):
        m(x, x, x, key_padding_mask=t(3, 2, dtype=bool))
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(3, 3\) or \(4, 3, 3\)"):
        m(x, x, x, attn_mask=t(2, 3, 3, dtype=bool))
    with pytest.raises(TypeError, match="attn_mask must be bool or floating point"):
        m(x, x, x, attn_mask=t(3, 3, dtype=np.int64))
    with pytest.raises(TypeError, match="key_padding_mask must be a Tensor"):
        m(x, x, x, key_padding_mask=np.zeros((2, 3), dtype=bool))
