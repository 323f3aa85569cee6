"""normalize, cosine_similarity, pairwise_distance and nn.CosineSimilarity, nn.PairwiseDistance: values against
NumPy written from the definitions (every run) and against PyTorch where it is installed (values and input
gradients, float64 and float32), over hypothesis-drawn shapes that broadcast, axes, norms p (0, 1, 2, inf,
-inf, fractional, negative) and eps; PyTorch's gradients where the formulas have none (zero vectors, zero
elements, cosine_similarity's norms below eps, which PyTorch clamps out of autograd's sight); float64
first- and second-order gradient checks; unbatched and 0-d inputs; float32 kept; integer operands; the
layers and their reprs; the error messages."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from minigan.functional.distance import vector_norm
from gradcheck import check_double_grad, check_grad

P_VALUES = [2.0, 1.0, 3.0, 0.5, 1.5, -1.5, 0.0, math.inf, -math.inf]
seeds = st.integers(0, 2 ** 16)


# -- definitions ------------------------------------------------------------------------------------------

def np_norm(v, p, axis, keepdims=False):
    a = np.abs(v)
    if p == 0:
        return np.count_nonzero(v, axis=axis, keepdims=keepdims).astype(v.dtype)
    if p == math.inf:
        return a.max(axis=axis, keepdims=keepdims)
    if p == -math.inf:
        return a.min(axis=axis, keepdims=keepdims)
    with np.errstate(divide="ignore"):
        return (a ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


def np_normalize(x, p, dim, eps):
    return x / np.maximum(np_norm(x, p, dim, keepdims=True), eps)


def np_cosine(x1, x2, dim, eps):
    """PyTorch 2's formula: each side divided by its clamped 2-norm, then the dot product."""
    x1, x2 = np.broadcast_arrays(x1, x2)
    n1 = np.maximum(np_norm(x1, 2, dim, keepdims=True), eps)
    n2 = np.maximum(np_norm(x2, 2, dim, keepdims=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(axis=dim)


def np_pairwise(x1, x2, p, eps, keepdim):
    return np_norm(x1 - x2 + eps, p, -1, keepdims=keepdim)


# -- cases --------------------------------------------------------------------------------------------------

@st.composite
def broadcast_pair(draw, least=1):
    """Two shapes that broadcast: the second drops some leading axes of the first and has 1 on some others."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=least, max_size=3)))
    drop = draw(st.integers(0, len(shape) - 1))
    other = tuple(1 if draw(st.booleans()) and draw(st.booleans()) else n for n in shape[drop:])
    return (shape, other) if draw(st.booleans()) else (other, shape)


def arrays(shapes, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def tolerance(dtype):
    return {"rtol": 2e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}


# -- values, from the definitions --------------------------------------------------------------------------

@pytest.mark.parametrize("p", P_VALUES)
@settings(max_examples=8)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), data=st.data(), seed=seeds)
def test_normalize_matches_numpy(device, p, shape, data, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    (x,) = arrays([shape], seed)
    x[(0,) * len(shape)] = 0.0  # a zero element: 0 or inf in |x|^p
    y = F.normalize(mg.tensor(x, device=device), p, dim)
    np.testing.assert_allclose(y.numpy(), np_normalize(x, p, dim, 1e-12), rtol=1e-12, atol=1e-12)


@settings(max_examples=25)
@given(shapes=broadcast_pair(), data=st.data(), seed=seeds, eps=st.sampled_from([1e-8, 0.5, 3.0]))
def test_cosine_similarity_matches_numpy(device, shapes, data, seed, eps):
    ndim = max(len(s) for s in shapes)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    x1, x2 = arrays(shapes, seed)
    y = F.cosine_similarity(mg.tensor(x1, device=device), mg.tensor(x2, device=device), dim, eps)
    expected = np_cosine(x1, x2, dim, eps)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert np.all(np.abs(y.numpy()) <= 1 + 1e-12)


@pytest.mark.parametrize("p", P_VALUES)
@settings(max_examples=8)
@given(shapes=broadcast_pair(), seed=seeds, keepdim=st.booleans(), eps=st.sampled_from([1e-6, 0.0, 0.25]))
def test_pairwise_distance_matches_numpy(device, p, shapes, seed, keepdim, eps):
    x1, x2 = arrays(shapes, seed)
    y = F.pairwise_distance(mg.tensor(x1, device=device), mg.tensor(x2, device=device), p, eps, keepdim)
    expected = np_pairwise(x1, x2, p, eps, keepdim)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_vector_norm_special_values(device):
    x = mg.tensor(np.array([[3.0, -4.0, 0.0], [0.0, 0.0, 0.0]]), device=device)
    cases = {2: [5, 0], 1: [7, 0], 0: [2, 0], math.inf: [4, 0], -math.inf: [0, 0], 3: [91 ** (1 / 3), 0],
             -1: [0, 0]}
    for p, expected in cases.items():
        np.testing.assert_allclose(vector_norm(x, p, 1).numpy(), expected, rtol=1e-15, err_msg=f"p={p}")
    np.testing.assert_allclose(vector_norm(x, 2, None).numpy(), 5.0)
    assert vector_norm(x, 2, (0, 1), keepdims=True).shape == (1, 1)
    assert vector_norm(mg.tensor(np.float64(-2.0), device=device), 1, 0).numpy() == 2.0  # 0-d: one element
    with np.errstate(invalid="ignore"):
        assert np.isnan(vector_norm(mg.tensor(np.array([1.0, np.nan]), device=device), 2, 0).numpy())


# -- gradients ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, -1.5, math.inf, 0.0])
def test_normalize_gradients(device, p):
    x = np.random.default_rng(1).standard_normal((3, 4))
    fn = lambda t: F.normalize(t, p, dim=1)  # noqa: E731
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("shapes, dim", [(((3, 4), (3, 4)), 1), (((2, 1, 3), (4, 3)), -1), (((5,), (5,)), 0),
                                         (((2, 3), (1, 3)), 0)])
def test_cosine_similarity_gradients(device, shapes, dim):
    x1, x2 = arrays(shapes, 2)
    fn = lambda a, b: F.cosine_similarity(a, b, dim)  # noqa: E731
    check_grad(fn, [x1, x2], device)
    check_double_grad(fn, [x1, x2], device)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, -1.5, math.inf, -math.inf])
def test_pairwise_distance_gradients(device, p):
    x1, x2 = arrays([(3, 4), (4,)], 3)
    fn = lambda a, b: F.pairwise_distance(a, b, p, keepdim=True)  # noqa: E731
    check_grad(fn, [x1, x2], device)
    check_double_grad(fn, [x1, x2], device)


def test_gradient_penalty_through_cosine_similarity(device):
    # As WGAN-GP differentiates |d D / dx|^2: here D(x) = sum cos(x, w), along axis 1.
    x, w = arrays([(2, 5), (2, 5)], 4)
    wt = mg.tensor(w, device=device)

    def penalty(t):
        (g,) = mg.grad(F.cosine_similarity(t, wt).sum(), [t], create_graph=True)
        return (g ** 2).sum()

    check_grad(penalty, [x], device)


def test_gradients_at_zero_are_finite(device):
    # PyTorch's norms have zero gradient at a zero vector (and, p < 1, at a zero element): no NaN.
    for p in [2.0, 1.0, 3.0, 0.5, -1.5, math.inf]:
        x = mg.tensor(np.array([[0.0, 0.0, 0.0], [1.0, 0.0, -2.0]]), device=device, requires_grad=True)
        (g,) = mg.grad(vector_norm(x, p, 1).sum(), [x], create_graph=True)
        (gg,) = mg.grad((g * g).sum(), [x], allow_unused=True) if g.requires_grad else (None,)
        assert np.all(np.isfinite(g.numpy())), p
        np.testing.assert_array_equal(g.numpy()[0], 0.0)
        assert gg is None or np.all(np.isfinite(gg.numpy()[0])), p


# -- PyTorch, where installed ------------------------------------------------------------------------------

def _compare_with_torch(torch, ours_fn, torch_fn, inputs, dtype, device, grad=True):
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    ms = [mg.tensor(a, device=device, requires_grad=True) for a in inputs]
    yt, y = torch_fn(*ts), ours_fn(*ms)
    assert y.dtype == dtype and y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tolerance(dtype))
    if not grad:
        return
    gy = np.random.default_rng(9).standard_normal(y.shape).astype(dtype)
    gts = torch.autograd.grad(yt, ts, torch.tensor(gy), allow_unused=True)
    gs = mg.grad(y, ms, mg.tensor(gy, device=device), allow_unused=True)
    for g, gt in zip(gs, gts):
        expected = np.zeros_like(inputs[0]) if gt is None else gt.numpy()
        got = np.zeros_like(expected) if g is None else g.numpy()
        assert g is None or g.dtype == dtype
        # float32 gradients sum terms as large as |gy| / norm that may cancel to about 0 (normalize's
        # gradient along x itself): both libraries' rounding is then relative to those terms, not the result.
        scale = 1 + np.abs(expected).max(initial=0)
        tol = tolerance(dtype) if dtype == np.float64 else {"rtol": 1e-3, "atol": 1e-3 * scale}
        np.testing.assert_allclose(got, expected, **tol)


@pytest.mark.parametrize("p", P_VALUES)
@settings(max_examples=6)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), data=st.data(), seed=seeds,
       dtype=st.sampled_from([np.float64, np.float32]), eps=st.sampled_from([1e-12, 0.3]))
def test_normalize_matches_torch(device, p, shape, data, seed, dtype, eps):
    torch = pytest.importorskip("torch")
    dim = data.draw(st.one_of(st.integers(-len(shape), len(shape) - 1),
                              st.just(tuple(range(len(shape))))))  # a tuple of axes too
    (x,) = arrays([shape], seed, dtype)
    _compare_with_torch(torch, lambda t: F.normalize(t, p, dim, eps),
                        lambda t: torch.nn.functional.normalize(t, p, dim, eps), [x], dtype, device)


@settings(max_examples=30)
@given(shapes=broadcast_pair(), data=st.data(), seed=seeds, dtype=st.sampled_from([np.float64, np.float32]),
       eps=st.sampled_from([1e-8, 0.5, 3.0]))
def test_cosine_similarity_matches_torch(device, shapes, data, seed, dtype, eps):
    # eps 0.5 and 3.0 clamp some norms: PyTorch's gradient then still goes through the norm.
    torch = pytest.importorskip("torch")
    ndim = max(len(s) for s in shapes)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    _compare_with_torch(torch, lambda a, b: F.cosine_similarity(a, b, dim, eps),
                        lambda a, b: torch.nn.functional.cosine_similarity(a, b, dim, eps),
                        arrays(shapes, seed, dtype), dtype, device)


@pytest.mark.parametrize("p", P_VALUES)
@settings(max_examples=6)
@given(shapes=broadcast_pair(), seed=seeds, dtype=st.sampled_from([np.float64, np.float32]),
       keepdim=st.booleans(), eps=st.sampled_from([1e-6, 0.0, 0.25]))
def test_pairwise_distance_matches_torch(device, p, shapes, seed, dtype, keepdim, eps):
    torch = pytest.importorskip("torch")
    _compare_with_torch(torch, lambda a, b: F.pairwise_distance(a, b, p, eps, keepdim),
                        lambda a, b: torch.nn.functional.pairwise_distance(a, b, p, eps, keepdim),
                        arrays(shapes, seed, dtype), dtype, device, grad=p != 0)


def test_zero_and_tiny_vectors_match_torch(device):
    # Zero vectors, zero elements and norms below eps, where PyTorch's gradients are conventions.
    torch = pytest.importorskip("torch")
    zero_rows = np.array([[0.0, 0.0, 0.0], [1e-10, -2e-10, 0.0], [1.0, 0.0, -2.0]])
    other = np.array([[1.0, -1.0, 2.0], [0.5, 0.25, -1.0], [0.0, 0.0, 0.0]])
    for p in [2.0, 1.0, 3.0, 0.5, math.inf]:
        _compare_with_torch(torch, lambda t: F.normalize(t, p), lambda t: torch.nn.functional.normalize(t, p),
                            [zero_rows], np.float64, device)
    for eps in [1e-8, 1e-12]:
        _compare_with_torch(torch, lambda a, b: F.cosine_similarity(a, b, 1, eps),
                            lambda a, b: torch.nn.functional.cosine_similarity(a, b, 1, eps),
                            [zero_rows, other], np.float64, device)
    for p in [2.0, 1.0, 3.0, math.inf]:
        _compare_with_torch(torch, lambda a, b: F.pairwise_distance(a, b, p, 0.0),
                            lambda a, b: torch.nn.functional.pairwise_distance(a, b, p, 0.0),
                            [zero_rows, zero_rows * 1.0], np.float64, device)


def test_unbatched_and_0d_match_torch(device):
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    a, b = arrays([(5,), (5,)], 6)
    s, t = np.float64(0.7), np.float64(-1.2)
    cases = [
        (lambda x, y: F.cosine_similarity(x, y, 0), lambda x, y: TF.cosine_similarity(x, y, 0), [a, b]),
        (lambda x, y: F.cosine_similarity(x, y, -1), lambda x, y: TF.cosine_similarity(x, y, -1), [a, b]),
        (lambda x, y: F.cosine_similarity(x, y, 0), lambda x, y: TF.cosine_similarity(x, y, 0), [s, t]),
        (lambda x, y: F.pairwise_distance(x, y), lambda x, y: TF.pairwise_distance(x, y), [a, b]),
        (lambda x, y: F.pairwise_distance(x, y, keepdim=True), lambda x, y: TF.pairwise_distance(x, y, keepdim=True),
         [a, b]),
        (lambda x, y: F.pairwise_distance(x, y, 1.0, keepdim=True),
         lambda x, y: TF.pairwise_distance(x, y, 1.0, keepdim=True), [s, t]),
        (lambda x: F.normalize(x, dim=0), lambda x: TF.normalize(x, dim=0), [a]),
        (lambda x: F.normalize(x, 3, dim=-1), lambda x: TF.normalize(x, 3, dim=-1), [s]),
    ]
    for ours, theirs, inputs in cases:
        _compare_with_torch(torch, ours, theirs, [np.asarray(v) for v in inputs], np.float64, device)


def test_integer_operands_match_torch(device):
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    i1, i2 = np.array([[1, 2, 3], [4, 5, -6]]), np.array([[1, 0, 3], [2, 2, 2]])
    f2 = i2.astype(np.float32)
    for ours, theirs, a, b in [(F.pairwise_distance, TF.pairwise_distance, i1, i2),
                               (F.pairwise_distance, TF.pairwise_distance, i1, f2),
                               (F.cosine_similarity, TF.cosine_similarity, i1, f2)]:
        y, yt = ours(mg.tensor(a, device=device), mg.tensor(b, device=device)), theirs(torch.tensor(a), torch.tensor(b))
        assert y.dtype == np.float32 and str(yt.dtype) == "torch.float32"
        np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-6)


# -- dtypes -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda a, b: F.normalize(a, 2.0, 1, 1e-12) * b,
    lambda a, b: F.normalize(a, 0.5, -1, 0.1) * b,
    lambda a, b: F.cosine_similarity(a, b, 1, 1e-8),
    lambda a, b: F.cosine_similarity(a, b, 0, 10.0),
    lambda a, b: F.pairwise_distance(a, b, 2.0, 1e-6),
    lambda a, b: F.pairwise_distance(a, b, 3.5, 1e-6, True),
    lambda a, b: F.pairwise_distance(a, b, math.inf),
])
def test_float32_is_kept(device, fn):
    a, b = arrays([(3, 4), (3, 4)], 7, np.float32)
    x = mg.tensor(a, device=device, requires_grad=True)
    w = mg.tensor(b, device=device, requires_grad=True)
    y = fn(x, w)
    gx, gw = mg.grad((y * y).sum(), [x, w], create_graph=True)
    ggx, ggw = mg.grad((gx * gx).sum() + (gw * gw).sum(), [x, w])
    assert y.dtype == gx.dtype == gw.dtype == ggx.dtype == ggw.dtype == np.float32


# -- errors -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: F.cosine_similarity(mg.ones((2, 3)), mg.ones((2, 4))), ValueError,
     r"cosine_similarity: x1 of shape \(2, 3\) and x2 of shape \(2, 4\) do not broadcast to one shape"),
    (lambda: F.pairwise_distance(mg.ones((3,)), mg.ones((2,))), ValueError,
     r"pairwise_distance: x1 of shape \(3,\) and x2 of shape \(2,\) do not broadcast to one shape"),
    (lambda: F.cosine_similarity(mg.ones((4,)), mg.ones((4,))), IndexError,
     r"cosine_similarity: axis 1 is out of range for a 1-d tensor"),
    (lambda: F.normalize(mg.ones((2, 3)), dim=2), IndexError, r"normalize: axis 2 is out of range for a 2-d tensor"),
    (lambda: F.normalize(mg.tensor(np.float32(1.0)), dim=1), IndexError,
     r"normalize: axis 1 is out of range for a 1-d tensor"),
    (lambda: F.cosine_similarity(mg.ones((2, 3)), mg.ones((2, 3)), dim=(0, 1)), TypeError,
     r"cosine_similarity: dim must be an int, got \(0, 1\)"),
    (lambda: F.cosine_similarity(mg.tensor([1, 2]), mg.tensor([1, 3]), dim=0), TypeError,
     r"cosine_similarity: x1 and x2 must be floating point \(one of them at least\), got dtypes int64 and int64"),
    (lambda: F.normalize(mg.tensor([1, 2]), dim=0), TypeError,
     r"normalize: input must be floating point, got dtype int64 \(shape \(2,\)\)"),
    (lambda: F.normalize(mg.ones((2, 3)), p="fro"), TypeError, r"normalize: p must be a number, got 'fro'"),
    (lambda: F.pairwise_distance(mg.ones((2, 3)), mg.ones((2, 3)), eps=None), TypeError,
     r"pairwise_distance: eps must be a number, got None"),
    (lambda: F.pairwise_distance(mg.zeros((2, 0)), mg.zeros((2, 0)), p=-1), ValueError,
     r"pairwise_distance: the -1-norm of an empty axis is undefined \(no identity for it\), input of shape \(2, 0\)"),
    (lambda: F.normalize(mg.zeros((2, 0)), p=math.inf), ValueError,
     r"normalize: the inf-norm of an empty axis is undefined"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_empty_axis_with_a_positive_p(device):
    # As PyTorch: the 2-, 1- and 0-norms of nothing are 0.
    assert np.array_equal(F.pairwise_distance(mg.zeros((2, 0), device=device), mg.zeros((2, 0), device=device)).numpy(),
                          [0.0, 0.0])
    assert F.normalize(mg.zeros((2, 0), device=device)).shape == (2, 0)
    assert np.array_equal(F.cosine_similarity(mg.zeros((2, 0), device=device), mg.zeros((2, 0), device=device)).numpy(),
                          [0.0, 0.0])


# -- the layers ---------------------------------------------------------------------------------------------

def test_layers(device):
    a, b = arrays([(3, 4, 5), (4, 5)], 8)
    x1, x2 = mg.tensor(a, device=device), mg.tensor(b, device=device)
    for layer, expected in [(nn.CosineSimilarity(), F.cosine_similarity(x1, x2)),
                            (nn.CosineSimilarity(dim=-1, eps=0.5), F.cosine_similarity(x1, x2, -1, 0.5)),
                            (nn.PairwiseDistance(), F.pairwise_distance(x1, x2)),
                            (nn.PairwiseDistance(p=1, eps=0, keepdim=True), F.pairwise_distance(x1, x2, 1, 0, True))]:
        assert list(layer.parameters()) == [] and layer.state_dict() == {}
        np.testing.assert_array_equal(layer(x1, x2).numpy(), expected.numpy())
    layer = nn.PairwiseDistance(p=3.0, eps=0.1, keepdim=True)
    assert (layer.norm, layer.eps, layer.keepdim) == (3.0, 0.1, True)
    layer = nn.CosineSimilarity(dim=0, eps=1e-6)
    assert (layer.dim, layer.eps) == (0, 1e-6)


def test_layer_reprs_match_torch():
    assert repr(nn.CosineSimilarity(dim=0)) == "CosineSimilarity()"
    assert repr(nn.PairwiseDistance(p=1)) == "PairwiseDistance()"
    torch = pytest.importorskip("torch")
    for ours, theirs in [(nn.CosineSimilarity(0, 1e-3), torch.nn.CosineSimilarity(0, 1e-3)),
                         (nn.PairwiseDistance(1.5, 0.0, True), torch.nn.PairwiseDistance(1.5, 0.0, True))]:
        assert repr(ours) == repr(theirs)
        assert repr(nn.Sequential(ours)) == repr(torch.nn.Sequential(theirs))
    theirs = torch.nn.PairwiseDistance(1.5, 0.0, True)
    assert (theirs.norm, theirs.eps, theirs.keepdim) == (1.5, 0.0, True)


@pytest.mark.parametrize("layer, kwargs, error, message", [
    (nn.CosineSimilarity, {"dim": 1.0}, TypeError, r"CosineSimilarity: dim must be an int, got 1.0"),
    (nn.CosineSimilarity, {"eps": "small"}, TypeError, r"CosineSimilarity: eps must be a number, got 'small'"),
    (nn.PairwiseDistance, {"p": None}, TypeError, r"PairwiseDistance: p must be a number, got None"),
])
def test_layer_bad_arguments(layer, kwargs, error, message):
    with pytest.raises(error, match=message):
        layer(**kwargs)
