"""embedding_bag and nn.EmbeddingBag: values against NumPy written from the definition (every run) and against
PyTorch where it is installed (values and gradients w.r.t. weight and per_sample_weights, float64 and float32),
over hypothesis-drawn bags (2-D input, or 1-D input with offsets, empty bags included), modes sum/mean/max,
padding_idx and per_sample_weights; float64 first- and second-order gradient checks; scale_grad_by_freq and
max_norm; float32 kept; the layer's repr and state dict; the error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad


# -- definition ---------------------------------------------------------------------------------------------

def np_bags(idx, offsets, include_last_offset):
    """The list of bags (arrays of indices) that the input describes."""
    if idx.ndim == 2:
        return list(idx)
    ends = list(offsets[1:]) + ([] if include_last_offset else [len(idx)])
    starts = offsets[:-1] if include_last_offset else offsets
    return [idx[s:e] for s, e in zip(starts, ends)]


def np_embedding_bag(idx, w, offsets=None, mode="mean", psw=None, include_last_offset=False, padding_idx=None):
    weights = None if psw is None else np_bags(psw, offsets, include_last_offset)
    out = np.zeros((len(np_bags(idx, offsets, include_last_offset)), w.shape[1]), dtype=w.dtype)
    for b, bag in enumerate(np_bags(idx, offsets, include_last_offset)):
        keep = np.ones(len(bag), bool) if padding_idx is None else bag != padding_idx % len(w)
        rows = w[bag[keep]]
        if weights is not None:
            rows = rows * weights[b][keep][:, None]
        if len(rows) == 0:
            continue
        out[b] = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0)}[mode]
    return out


# -- cases --------------------------------------------------------------------------------------------------

@st.composite
def cases(draw, modes=("sum", "mean", "max"), last_offset_at_end=True):
    """(idx, offsets, kwargs, num_embeddings, dim)."""
    n = draw(st.integers(1, 6))
    dim = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(modes))
    if draw(st.booleans()):
        bags, length = draw(st.integers(1, 3)), draw(st.integers(1, 4))
        idx = np.array(draw(st.lists(st.integers(0, n - 1), min_size=bags * length, max_size=bags * length)),
                       dtype=np.int64).reshape(bags, length)
        offsets, last = None, False
    else:
        lengths = draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
        idx = np.array(draw(st.lists(st.integers(0, n - 1), min_size=sum(lengths), max_size=sum(lengths))),
                       dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        last = draw(st.booleans()) if last_offset_at_end else False
        if not last:
            offsets = offsets[:-1]
    kwargs = dict(mode=mode, include_last_offset=last)
    if draw(st.booleans()):
        kwargs["padding_idx"] = draw(st.integers(-n, n - 1))
    return idx, offsets, kwargs, n, dim


def ints(a, device):
    return None if a is None else mg.tensor(a, device=device)


# -- values -------------------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(case=cases(), seed=st.integers(0, 2 ** 16), dtype=st.sampled_from([np.float32, np.float64]),
       weighted=st.booleans())
def test_matches_definition(device, case, seed, dtype, weighted):
    idx, offsets, kwargs, n, dim = case
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n, dim)).astype(dtype)
    psw = rng.standard_normal(idx.shape).astype(dtype) if weighted and kwargs["mode"] == "sum" else None
    y = F.embedding_bag(ints(idx, device), mg.tensor(w, device=device), ints(offsets, device),
                        per_sample_weights=None if psw is None else mg.tensor(psw, device=device), **kwargs)
    assert y.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.numpy(), np_embedding_bag(idx, w, offsets, psw=psw, **kwargs), rtol=tol, atol=tol)


@settings(max_examples=25, deadline=None)
@given(case=cases(), seed=st.integers(0, 2 ** 16), dtype=st.sampled_from([np.float32, np.float64]),
       weighted=st.booleans())
def test_matches_torch_values_and_gradients(device, case, seed, dtype, weighted):
    torch = pytest.importorskip("torch")
    idx, offsets, kwargs, n, dim = case
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n, dim)).astype(dtype)
    psw = rng.standard_normal(idx.shape).astype(dtype) if weighted and kwargs["mode"] == "sum" else None
    wm = mg.tensor(w, device=device, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    ours, theirs = [wm], [wt]
    pm = pt = None
    if psw is not None:
        pm, pt = mg.tensor(psw, device=device, requires_grad=True), torch.tensor(psw, requires_grad=True)
        ours.append(pm)
        theirs.append(pt)
    y = F.embedding_bag(ints(idx, device), wm, ints(offsets, device), per_sample_weights=pm, **kwargs)
    yt = torch.nn.functional.embedding_bag(torch.tensor(idx), wt, None if offsets is None else torch.tensor(offsets),
                                           per_sample_weights=pt, **kwargs)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    gy = rng.standard_normal(y.shape).astype(dtype)
    grads = mg.grad(y, ours, mg.tensor(gy, device=device))
    expected = torch.autograd.grad(yt, theirs, torch.tensor(gy), allow_unused=True)
    for g, e, a in zip(grads, expected, ours):
        assert g.dtype == dtype
        np.testing.assert_allclose(g.numpy(), np.zeros(a.shape) if e is None else e.numpy(), **tol)


@settings(max_examples=12, deadline=None)
@given(case=cases(), seed=st.integers(0, 2 ** 16))
def test_gradients_first_and_second_order(device, case, seed):
    idx, offsets, kwargs, n, dim = case
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n, dim))
    if kwargs["mode"] == "sum":
        psw = rng.standard_normal(idx.shape)

        def fn(weight, p):
            return F.embedding_bag(ints(idx, device), weight, ints(offsets, device), per_sample_weights=p, **kwargs)
        arrays = [w, psw]
    else:
        def fn(weight):
            return F.embedding_bag(ints(idx, device), weight, ints(offsets, device), **kwargs)
        arrays = [w]
    check_grad(fn, arrays, device, seed=seed)
    check_double_grad(fn, arrays, device, seed=seed)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_empty_and_all_padding_bags_give_zeros(device, mode):
    w = mg.tensor(np.arange(12.0).reshape(4, 3) + 1, device=device, requires_grad=True)
    idx = mg.tensor(np.array([2, 2, 1, 3]), device=device)
    y = F.embedding_bag(idx, w, mg.tensor(np.array([0, 0, 2, 2]), device=device), mode=mode, padding_idx=2)
    assert y.numpy()[:2].tolist() == [[0, 0, 0], [0, 0, 0]]
    expected = {"sum": [14, 16, 18], "mean": [7, 8, 9], "max": [10, 11, 12]}[mode]
    np.testing.assert_allclose(y.numpy()[3], expected)
    y.sum().backward()
    assert not w.grad.numpy()[2].any() and not w.grad.numpy()[0].any()
    empty = F.embedding_bag(mg.tensor(np.zeros(0, np.int64), device=device), w,
                            mg.tensor(np.array([0, 0]), device=device), mode=mode)
    assert empty.shape == (2, 3) and not empty.numpy().any()


def test_include_last_offset_ends_the_last_bag(device):
    """The documented meaning (PyTorch 2.13's CPU kernel runs the last bag to the input's end instead):
    entries past the last offset belong to no bag."""
    w = mg.tensor(np.eye(4), device=device)
    y = F.embedding_bag(mg.tensor(np.array([0, 1, 2, 3]), device=device), w,
                        mg.tensor(np.array([0, 1, 3]), device=device), mode="sum", include_last_offset=True)
    np.testing.assert_array_equal(y.numpy(), [[1, 0, 0, 0], [0, 1, 1, 0]])


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_scale_grad_by_freq(device, mode):
    """Each row's gradient divided by how often the input looks it up, against the unscaled gradient; and
    against PyTorch where every index appears equally often (its CPU kernel divides by the wrong count
    otherwise)."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((5, 2))
    idx, offsets = np.array([1, 1, 3, 0, 3, 1, 4]), np.array([0, 3, 3])
    gy = rng.standard_normal((3, 2))

    def grad(scale, weights, i, off):
        wm = mg.tensor(weights, device=device, requires_grad=True)
        y = F.embedding_bag(ints(i, device), wm, ints(off, device), mode=mode, scale_grad_by_freq=scale)
        return y, mg.grad(y, [wm], mg.tensor(gy[:len(off)], device=device))[0].numpy()

    counts = np.bincount(idx, minlength=5)
    np.testing.assert_allclose(grad(True, w, idx, offsets)[1],
                               grad(False, w, idx, offsets)[1] / np.maximum(counts, 1)[:, None])
    # The scaled backward gy -> D A^T gy is linear, and its derivative is its adjoint A D: so the gradient of
    # <g, v> for the loss sum(y^2) is D A^T 2 A D v, D the row scales, against A^T 2 A u unscaled. (PyTorch's
    # embedding_bag has no second derivative; its embedding's drops the scaling from the adjoint, A v.)
    v = rng.standard_normal(w.shape)
    scale = 1 / np.maximum(counts, 1)[:, None]

    def second(flag, vv):
        wm = mg.tensor(w, device=device, requires_grad=True)
        y = F.embedding_bag(ints(idx, device), wm, ints(offsets, device), mode=mode, scale_grad_by_freq=flag)
        g, = mg.grad((y * y).sum(), [wm], create_graph=True)
        return mg.grad((g * mg.tensor(vv, device=device)).sum(), [wm])[0].numpy()
    np.testing.assert_allclose(second(True, v), scale * second(False, scale * v), rtol=1e-12, atol=1e-12)
    torch = pytest.importorskip("torch")
    idx2, off2 = np.array([2, 4, 4, 0, 2, 0]), np.array([0, 2, 5])
    wt = torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.embedding_bag(torch.tensor(idx2), wt, torch.tensor(off2), mode=mode,
                                           scale_grad_by_freq=True)
    y, g = grad(True, w, idx2, off2)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(g, torch.autograd.grad(yt, [wt], torch.tensor(gy), retain_graph=True)[0].numpy(),
                               rtol=1e-12)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5])
def test_max_norm_renormalises_looked_up_rows_like_torch(device, norm_type):
    torch = pytest.importorskip("torch")
    w = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32) * 2
    idx, offsets = np.array([0, 2, 2, 4]), np.array([0, 1])
    wm = mg.tensor(w, device=device, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    y = F.embedding_bag(ints(idx, device), wm, ints(offsets, device), max_norm=1.5, norm_type=norm_type)
    yt = torch.nn.functional.embedding_bag(torch.tensor(idx), wt, torch.tensor(offsets), max_norm=1.5,
                                           norm_type=norm_type)
    assert y.dtype == wm.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(wm.numpy(), wt.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(wm.numpy()[[1, 3]], w[[1, 3]])


def test_float32_kept(device):
    w = mg.tensor(np.ones((4, 2), np.float32), device=device, requires_grad=True)
    psw = mg.tensor(np.full(3, 0.5, np.float32), device=device, requires_grad=True)
    for kwargs in [dict(mode="mean", scale_grad_by_freq=True), dict(mode="max", padding_idx=1),
                   dict(mode="sum", per_sample_weights=psw, max_norm=0.5)]:
        y = F.embedding_bag(ints(np.array([0, 1, 1]), device), w, ints(np.array([0, 1]), device), **kwargs)
        assert y.dtype == np.float32
        gw, = mg.grad(y.sum(), [w])
        assert gw.dtype == np.float32


# -- the layer ----------------------------------------------------------------------------------------------

LAYER_ARGS = [dict(), dict(mode="sum"), dict(mode="max", padding_idx=-2), dict(max_norm=2.0, norm_type=3.0),
              dict(scale_grad_by_freq=True, include_last_offset=True), dict(norm_type=2)]


@pytest.mark.parametrize("kwargs", LAYER_ARGS)
def test_layer_matches_torch(device, kwargs):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.EmbeddingBag(6, 3, **kwargs).double()
    ours = nn.EmbeddingBag(6, 3, **kwargs, device=device, dtype=np.float64)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert ours.weight.shape == (6, 3)
    if ours.padding_idx is not None:
        assert not ours.weight.numpy()[ours.padding_idx].any()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    idx, offsets = np.array([0, 2, 5, 3, 3]), np.array([0, 2, 5])
    y = ours(ints(idx, device), ints(offsets, device))
    yt = theirs(torch.tensor(idx), torch.tensor(offsets))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_layer_weight_and_per_sample_weights(device):
    w = np.arange(8.0).reshape(4, 2)
    layer = nn.EmbeddingBag(4, 2, mode="sum", _weight=mg.tensor(w, device=device))
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.dtype == np.float64
    y = layer(ints(np.array([[0, 3], [1, 1]]), device),
              per_sample_weights=mg.tensor(np.array([[1.0, 2.0], [0.5, 0.5]]), device=device))
    np.testing.assert_allclose(y.numpy(), [[12, 15], [2, 3]])
    default = nn.EmbeddingBag(4, 2, device=device)
    assert default.weight.dtype == np.float32 and default.mode == "mean"


# -- errors -------------------------------------------------------------------------------------------------

def test_errors(device):
    w = mg.tensor(np.ones((4, 2)), device=device)
    i1, i2 = ints(np.array([0, 1, 2]), device), ints(np.array([[0, 1], [2, 3]]), device)
    off = ints(np.array([0, 1]), device)
    cases = [
        (ValueError, r"mode has to be one of 'sum', 'mean' or 'max', got 'min'", (i1, w, off), dict(mode="min")),
        (ValueError, r"sparse=True is not supported", (i1, w, off), dict(sparse=True)),
        (ValueError, r"if input is 2-D .*shape \(2, 2\).*offsets has to be None", (i2, w, off), {}),
        (ValueError, r"1-D input \(shape \(3,\)\) needs offsets", (i1, w), {}),
        (ValueError, r"offsets has to be a 1-D tensor, got shape \(1, 2\)",
         (i1, w, ints(np.array([[0, 1]]), device)), {}),
        (ValueError, r"offsets\[0\] has to be 0 .*got 1", (i1, w, ints(np.array([1, 2]), device)), {}),
        (ValueError, r"offsets must be non-decreasing and at most the input's length 3, got \[0, 2, 1\]",
         (i1, w, ints(np.array([0, 2, 1]), device)), {}),
        (ValueError, r"offsets must .*at most the input's length 3, got \[0, 5\]",
         (i1, w, ints(np.array([0, 5]), device)), {}),
        (ValueError, r"per_sample_weights is only supported for mode='sum', got mode='mean'", (i1, w, off),
         dict(per_sample_weights=mg.tensor(np.ones(3), device=device))),
        (ValueError, r"per_sample_weights must have the input's shape \(3,\), got \(2,\)", (i1, w, off),
         dict(mode="sum", per_sample_weights=mg.tensor(np.ones(2), device=device))),
        (TypeError, r"per_sample_weights must have weight's dtype float64, got float32", (i1, w, off),
         dict(mode="sum", per_sample_weights=mg.tensor(np.ones(3, np.float32), device=device))),
        (ValueError, r"padding_idx must lie in \[-4, 4\) .*got 4", (i1, w, off), dict(padding_idx=4)),
        (IndexError, r"indices must lie in \[0, 4\) .*got values in \[0, 7\]",
         (ints(np.array([0, 7]), device), w, off), {}),
        (TypeError, r"input must hold integers .*float64", (mg.tensor(np.ones(3), device=device), w, off), {}),
        (ValueError, r"scale_grad_by_freq=True is not supported with mode='max'", (i1, w, off),
         dict(mode="max", scale_grad_by_freq=True)),
        (ValueError, r"weight must be 2-D .*got shape \(4,\)", (i1, mg.tensor(np.ones(4), device=device), off), {}),
        (ValueError, r"include_last_offset=True needs at least one offset",
         (ints(np.zeros(0, np.int64), device), w, ints(np.zeros(0, np.int64), device)),
         dict(include_last_offset=True)),
        (ValueError, r"max_norm must be a positive number or None, got -1", (i1, w, off), dict(max_norm=-1)),
        (ValueError, r"input must be 1-D .* or 2-D .*got shape \(1, 1, 3\)",
         (ints(np.zeros((1, 1, 3), np.int64), device), w), {}),
    ]
    for error, message, args, kwargs in cases:
        with pytest.raises(error, match=r"^embedding_bag: " + message):
            F.embedding_bag(*args, **kwargs)
    with pytest.raises(ValueError, match=r"EmbeddingBag: sparse=True is not supported"):
        nn.EmbeddingBag(3, 2, sparse=True)
    with pytest.raises(ValueError, match=r"EmbeddingBag: mode has to be one of .*got 'min'"):
        nn.EmbeddingBag(3, 2, mode="min")
    with pytest.raises(ValueError, match=r"EmbeddingBag: padding_idx 3 is out of range for 3 embeddings"):
        nn.EmbeddingBag(3, 2, padding_idx=3)
    with pytest.raises(ValueError, match=r"EmbeddingBag: _weight must have shape \(3, 2\) .*got \(2, 2\)"):
        nn.EmbeddingBag(3, 2, _weight=np.ones((2, 2)))
