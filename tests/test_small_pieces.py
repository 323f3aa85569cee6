"""rms_norm / RMSNorm, bilinear / Bilinear, lp_pool1d/2d/3d / LPPool1d/2d/3d, pdist, ParameterList and
ParameterDict: values against NumPy written from the definitions (every run) and against PyTorch where it
is installed (values and gradients, float64 and float32); PyTorch's conventions where a formula has no
gradient (LP pooling's zero windows, pdist's zero distances and inf-norm ties); float64 first- and
second-order gradient checks over hypothesis-drawn shapes and arguments; float32 kept; the layers' and
containers' reprs and state-dict keys; the containers' list and dict behaviour; the error messages."""
import math
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad
from pool_reference import output_size
from torch_compare import assert_reprs_and_state_dicts_match

seeds = st.integers(0, 2 ** 16)
dtypes = st.sampled_from([np.float64, np.float32])


def arrays(shapes, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def tolerance(dtype):
    return {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}


def compare_with_torch(torch, ours_fn, torch_fn, inputs, device, grad=True):
    """Values of ours_fn and torch_fn on ``inputs`` (NumPy arrays, all of one dtype), then the gradients of
    every input for the same output gradient: equal within the dtype's tolerance, NaN where PyTorch has NaN,
    and ours of the inputs' dtype."""
    dtype = inputs[0].dtype
    tol = tolerance(dtype)
    ts = [torch.tensor(a, requires_grad=grad) for a in inputs]
    ms = [mg.tensor(a, device=device, requires_grad=grad) for a in inputs]
    yt, y = torch_fn(*ts), ours_fn(*ms)
    assert y.dtype == dtype and y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), equal_nan=True, **tol)
    if not grad:
        return
    gy = np.random.default_rng(9).standard_normal(y.shape).astype(dtype)
    gts = torch.autograd.grad(yt, ts, torch.tensor(gy), allow_unused=True)
    gs = mg.grad(y, ms, mg.tensor(gy, device=device), allow_unused=True)
    for i, (g, gt) in enumerate(zip(gs, gts)):
        expected = np.zeros(inputs[i].shape, dtype) if gt is None else gt.numpy()
        got = np.zeros_like(expected) if g is None else g.numpy()
        assert g is None or g.dtype == dtype
        scale = 1 + np.abs(expected[np.isfinite(expected)]).max(initial=0)
        np.testing.assert_allclose(got, expected, rtol=tol["rtol"], atol=tol["atol"] * scale, equal_nan=True,
                                   err_msg=f"gradient of input {i}")


# -- definitions --------------------------------------------------------------------------------------------

def np_rms_norm(x, k, weight, eps):
    if eps is None:
        eps = np.finfo(x.dtype).eps
    y = x / np.sqrt((x * x).mean(axis=tuple(range(x.ndim - k, x.ndim)), keepdims=True) + eps)
    return y if weight is None else y * weight


def np_bilinear(x1, x2, w, b):
    y = np.einsum("...i,oij,...j->...o", x1, w, x2)
    return y if b is None else y + b


def np_lp_pool(x, p, kernel, stride, ceil_mode):
    """x (N, C, *spatial) by loops: for each window, the part of it inside x, w, and
    (K / |w| * sum w^p)^(1/p), K the kernel's size; max |w| for p = inf, min |w| for p = -inf."""
    stride = kernel if stride is None else stride
    spatial = x.shape[2:]
    out = tuple(output_size(n, k, s, 0, 1, ceil_mode) for n, k, s in zip(spatial, kernel, stride))
    y = np.empty(x.shape[:2] + out, dtype=x.dtype)
    for o in np.ndindex(*out):
        box = tuple(slice(i * s, min(i * s + k, n)) for i, k, s, n in zip(o, kernel, stride, spatial))
        w = x[(Ellipsis,) + box].reshape(x.shape[:2] + (-1,))
        if p == math.inf:
            y[(Ellipsis,) + o] = np.abs(w).max(axis=-1)
        elif p == -math.inf:
            y[(Ellipsis,) + o] = np.abs(w).min(axis=-1)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                y[(Ellipsis,) + o] = (math.prod(kernel) / w.shape[-1] * (w ** p).sum(axis=-1)) ** (1 / p)
    return y


def np_norm(v, p):
    if p == 0:
        return np.count_nonzero(v)
    if p == math.inf:
        return np.abs(v).max(initial=0)
    return (np.abs(v) ** p).sum() ** (1 / p)


def np_pdist(x, p):
    n = x.shape[0]
    return np.array([np_norm(x[i] - x[j], p) for i in range(n) for j in range(i + 1, n)], dtype=x.dtype)


# -- rms_norm -----------------------------------------------------------------------------------------------

@st.composite
def rms_case(draw):
    """(input shape, k trailing axes normalised, with a weight, eps)."""
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    trailing = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    return lead + trailing, len(trailing), draw(st.booleans()), draw(st.sampled_from([None, 1e-5, 0.5]))


@settings(max_examples=20)
@given(case=rms_case(), seed=seeds, dtype=dtypes)
def test_rms_norm_matches_numpy(device, case, seed, dtype):
    shape, k, affine, eps = case
    x, w = arrays([shape, shape[len(shape) - k:]], seed, dtype)
    weight = mg.tensor(w, device=device) if affine else None
    normalized = shape[len(shape) - k:] if k > 1 or seed % 2 else shape[-1]  # an int too
    y = F.rms_norm(mg.tensor(x, device=device), normalized, weight, eps)
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_allclose(y.numpy(), np_rms_norm(x, k, w if affine else None, eps), **tolerance(dtype))


def test_rms_norm_default_eps_is_the_dtypes_machine_epsilon(device):
    # Tiny inputs, where eps dominates the mean square: float32's eps for float32, float64's for float64.
    for dtype in (np.float32, np.float64):
        x = np.full((1, 4), 1e-9, dtype)
        y = F.rms_norm(mg.tensor(x, device=device), (4,)).numpy()
        np.testing.assert_allclose(y, x / np.sqrt(x * x + np.finfo(dtype).eps), rtol=1e-6)


@settings(max_examples=15)
@given(case=rms_case(), seed=seeds, dtype=dtypes)
def test_rms_norm_matches_torch(device, case, seed, dtype):
    torch = pytest.importorskip("torch")
    shape, k, affine, eps = case
    x, w = arrays([shape, shape[len(shape) - k:]], seed, dtype)
    normalized = shape[len(shape) - k:]
    if affine:
        compare_with_torch(torch, lambda a, b: F.rms_norm(a, normalized, b, eps),
                           lambda a, b: torch.nn.functional.rms_norm(a, normalized, b, eps), [x, w], device)
    else:
        compare_with_torch(torch, lambda a: F.rms_norm(a, normalized, None, eps),
                           lambda a: torch.nn.functional.rms_norm(a, normalized, None, eps), [x], device)


@settings(max_examples=15)
@given(case=rms_case(), seed=seeds)
def test_rms_norm_gradients(device, case, seed):
    shape, k, affine, eps = case
    x, w = arrays([shape, shape[len(shape) - k:]], seed)
    normalized = shape[len(shape) - k:]
    if affine:
        fn, inputs = (lambda a, b: F.rms_norm(a, normalized, b, eps)), [x, w]
    else:
        fn, inputs = (lambda a: F.rms_norm(a, normalized, None, eps)), [x]
    check_grad(fn, inputs, device)
    check_double_grad(fn, inputs, device)


# -- bilinear -----------------------------------------------------------------------------------------------

@st.composite
def bilinear_case(draw):
    """(leading axes, in1, in2, out, with a bias)."""
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    return lead, draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.booleans())


def bilinear_inputs(case, seed, dtype=np.float64):
    lead, in1, in2, out, bias = case
    shapes = [lead + (in1,), lead + (in2,), (out, in1, in2)] + ([(out,)] if bias else [])
    return arrays(shapes, seed, dtype)


@settings(max_examples=20)
@given(case=bilinear_case(), seed=seeds, dtype=dtypes)
def test_bilinear_matches_numpy(device, case, seed, dtype):
    inputs = bilinear_inputs(case, seed, dtype)
    y = F.bilinear(*[mg.tensor(a, device=device) for a in inputs])
    expected = np_bilinear(*inputs, *([None] if len(inputs) == 3 else []))
    assert y.dtype == dtype and y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, **tolerance(dtype))


@settings(max_examples=15)
@given(case=bilinear_case(), seed=seeds, dtype=dtypes)
def test_bilinear_matches_torch(device, case, seed, dtype):
    torch = pytest.importorskip("torch")
    compare_with_torch(torch, F.bilinear, torch.nn.functional.bilinear, bilinear_inputs(case, seed, dtype), device)


@settings(max_examples=15)
@given(case=bilinear_case().filter(lambda c: 0 not in c[0]), seed=seeds)
def test_bilinear_gradients(device, case, seed):
    inputs = bilinear_inputs(case, seed)
    check_grad(F.bilinear, inputs, device)
    check_double_grad(F.bilinear, inputs, device)


# -- lp_pool ------------------------------------------------------------------------------------------------

LP_POOLS = {1: F.lp_pool1d, 2: F.lp_pool2d, 3: F.lp_pool3d}
P_POOL = [1, 2, 3, 1.5, 0.5, -1.0, math.inf, -math.inf]


@st.composite
def lp_case(draw, max_side=5):
    """(input shape (N, C, *spatial) or unbatched (C, *spatial), kernel, stride or None, ceil_mode, dims)."""
    dims = draw(st.integers(1, 3))
    side = max_side if dims < 3 else 4
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    spatial = tuple(draw(st.integers(k, side)) for k in kernel)
    stride = draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 3)] * dims)))
    lead = draw(st.sampled_from([(1, 2), (2, 1), (2,)]))  # (N, C), or C alone
    return lead + spatial, kernel, stride, draw(st.booleans()), dims


def lp_input(shape, seed, dtype=np.float64, positive=True):
    """Normals, or (positive) values in [0.5, 2.5) with no two equal in magnitude: every p has a finite root
    and a derivative there, inf-norm windows included."""
    if not positive:
        return arrays([shape], seed, dtype)[0]
    size = math.prod(shape)
    steps = np.random.default_rng(seed).permutation(size).reshape(shape)
    return (0.5 + 2.0 * steps / max(size, 1)).astype(dtype)


@pytest.mark.parametrize("p", P_POOL)
@settings(max_examples=8)
@given(case=lp_case(), seed=seeds, dtype=dtypes)
def test_lp_pool_matches_numpy(device, p, case, seed, dtype):
    shape, kernel, stride, ceil_mode, dims = case
    x = lp_input(shape, seed, dtype)
    y = LP_POOLS[dims](mg.tensor(x, device=device), p, kernel, stride, ceil_mode)
    batched = len(shape) == dims + 2
    expected = np_lp_pool(x if batched else x[None], p, kernel, stride, ceil_mode)
    expected = expected if batched else expected[0]
    assert y.dtype == dtype and y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, **tolerance(dtype))


def test_lp_pool_partial_windows_and_signs(device):
    # ceil_mode's last window of [5] alone: (2 / 1 * 5^2)^(1/2), PyTorch's K times the mean, not the 2-norm 5.
    x = mg.tensor(np.arange(1.0, 6.0).reshape(1, 1, 5), device=device)
    np.testing.assert_allclose(F.lp_pool1d(x, 2, 2, ceil_mode=True).numpy().ravel(),
                               [math.sqrt(5), 5.0, math.sqrt(50)])
    # p = 1 sums with signs; an odd p's negative sum has no real cube root (NaN); p = inf takes |x|.
    x = mg.tensor(np.array([[[-3.0, 1.0, 2.0, -4.0]]]), device=device)
    np.testing.assert_allclose(F.lp_pool1d(x, 1, 2).numpy().ravel(), [-2.0, -2.0])
    with np.errstate(invalid="ignore"):
        assert np.isnan(F.lp_pool1d(x, 3, 2).numpy()).all()
    np.testing.assert_array_equal(F.lp_pool1d(x, math.inf, 2).numpy().ravel(), [3.0, 4.0])
    np.testing.assert_array_equal(F.lp_pool1d(x, -math.inf, 2).numpy().ravel(), [1.0, 2.0])


@pytest.mark.parametrize("p", [1, 2, 3, 1.5, -1.0, math.inf, -math.inf])
@settings(max_examples=6)
@given(case=lp_case(), seed=seeds, dtype=dtypes, zeros=st.booleans())
def test_lp_pool_matches_torch(device, p, case, seed, dtype, zeros):
    torch = pytest.importorskip("torch")
    shape, kernel, stride, ceil_mode, dims = case
    x = lp_input(shape, seed, dtype)
    if zeros and p > 0:
        # A window of zeros (the first): PyTorch's gradient there is zero, not NaN.
        x[(Ellipsis,) + tuple(slice(0, k) for k in kernel)] = 0
    torch_pool = getattr(torch.nn.functional, f"lp_pool{dims}d")
    # PyTorch's lp_pool1d multiplies by kernel_size as given, so it takes ints only.
    as_given = (lambda v: v if v is None else v[0]) if dims == 1 else (lambda v: v)
    compare_with_torch(torch, lambda t: LP_POOLS[dims](t, p, kernel, stride, ceil_mode),
                       lambda t: torch_pool(t, p, as_given(kernel), as_given(stride), ceil_mode), [x], device)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_lp_pool_signed_inputs_match_torch(device, p):
    # Negative sums (NaN for p = 3, negative for p = 1) and windows that sum to zero, as PyTorch has them.
    torch = pytest.importorskip("torch")
    x = arrays([(2, 3, 6, 5)], 4)[0]
    x[0, 0, :2, :2] = [[1.0, -1.0], [2.0, -2.0]]  # x^1 and x^3 sum to 0
    with np.errstate(invalid="ignore"):
        compare_with_torch(torch, lambda t: F.lp_pool2d(t, p, 2, 1, True),
                           lambda t: torch.nn.functional.lp_pool2d(t, p, 2, 1, True), [x], device)


@pytest.mark.parametrize("p", [1, 2, 3, 1.5, -1.0, math.inf, -math.inf])
@settings(max_examples=8)
@given(case=lp_case(max_side=4), seed=seeds)
def test_lp_pool_gradients(device, p, case, seed):
    shape, kernel, stride, ceil_mode, dims = case
    x = lp_input(shape, seed)
    fn = lambda t: LP_POOLS[dims](t, p, kernel, stride, ceil_mode)  # noqa: E731
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


# -- pdist --------------------------------------------------------------------------------------------------

P_PDIST = [2.0, 1.0, 3.0, 0.5, 1.5, 0.0, math.inf]


@pytest.mark.parametrize("p", P_PDIST)
@settings(max_examples=8)
@given(n=st.integers(0, 5), m=st.integers(0, 4), seed=seeds, dtype=dtypes)
def test_pdist_matches_numpy(device, p, n, m, seed, dtype):
    (x,) = arrays([(n, m)], seed, dtype)
    if n > 2:
        x[2] = x[0]  # a pair at distance 0
    y = F.pdist(mg.tensor(x, device=device), p)
    assert y.dtype == dtype and y.shape == (n * (n - 1) // 2,)
    np.testing.assert_allclose(y.numpy(), np_pdist(x, p), **tolerance(dtype))


@pytest.mark.parametrize("p", P_PDIST)
@settings(max_examples=6)
@given(n=st.integers(1, 5), m=st.integers(1, 4), seed=seeds, dtype=dtypes)
def test_pdist_matches_torch(device, p, n, m, seed, dtype):
    torch = pytest.importorskip("torch")
    (x,) = arrays([(n, m)], seed, dtype)
    compare_with_torch(torch, lambda t: F.pdist(t, p), lambda t: torch.nn.functional.pdist(t, p), [x], device,
                       grad=p != 0)


def test_pdist_zero_distances_and_ties_match_torch(device):
    # Equal rows (distance 0), equal elements (p < 1) and inf-norm ties, where PyTorch's gradients are
    # conventions: zero at distance 0 (and at an equal element for p < 1), and the whole gradient to every
    # tied element of the inf-norm.
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 2.0, 0.0], [1.0, 2.0, 0.0], [3.0, 2.0, 2.0], [0.0, 4.0, -1.0]])
    for p in [2.0, 1.0, 3.0, 0.5, 1.5, math.inf]:
        compare_with_torch(torch, lambda t: F.pdist(t, p), lambda t: torch.nn.functional.pdist(t, p), [x], device)


def test_pdist_inf_gives_every_tie_the_whole_gradient(device):
    x = mg.tensor(np.array([[0.0, 0.0, 1.0], [2.0, -2.0, 1.0]]), device=device, requires_grad=True)
    (g,) = mg.grad(F.pdist(x, math.inf).sum(), [x])
    np.testing.assert_array_equal(g.numpy(), [[-1.0, 1.0, 0.0], [1.0, -1.0, 0.0]])


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, 1.5, math.inf])
@settings(max_examples=8)
@given(n=st.integers(2, 4), m=st.integers(1, 3), seed=seeds)
def test_pdist_gradients(device, p, n, m, seed):
    (x,) = arrays([(n, m)], seed)
    fn = lambda t: F.pdist(t, p)  # noqa: E731
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


def test_pdist_gradient_penalty(device):
    # Differentiating a gradient's norm (what WGAN-GP does) through pdist, which PyTorch cannot.
    (x,) = arrays([(3, 2)], 5)

    def penalty(t):
        (g,) = mg.grad(F.pdist(t).sum(), [t], create_graph=True)
        return (g ** 2).sum()

    check_grad(penalty, [x], device)


# -- float32 ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda a, b: F.rms_norm(a, (4,), b[0]),
    lambda a, b: F.rms_norm(a, (3, 4), None, 1e-6),
    lambda a, b: F.bilinear(a, b, a[0:2, :, None] * b[0:2, None, :]),
    lambda a, b: F.lp_pool1d(a[None] * b[None], 2, 2),
    lambda a, b: F.lp_pool2d((a * a + 1.0)[None] * (b * b + 1.0)[None], 1.5, 2, 1, True),
    lambda a, b: F.lp_pool1d(a[None] * b[None], math.inf, 3, 1),
    lambda a, b: F.pdist(a * b, 2.0),
    lambda a, b: F.pdist(a * b, 3.0),
    lambda a, b: F.pdist(a * b, math.inf),
])
def test_float32_is_kept(device, fn):
    a, b = arrays([(3, 4), (3, 4)], 7, np.float32)
    x = mg.tensor(a, device=device, requires_grad=True)
    w = mg.tensor(b, device=device, requires_grad=True)
    y = fn(x, w)
    gx, gw = mg.grad((y * y).sum(), [x, w], create_graph=True, allow_unused=True)
    gw = gw if gw is not None else gx
    ggx, ggw = mg.grad((gx * gx).sum() + (gw * gw).sum(), [x, w], allow_unused=True)
    assert y.dtype == gx.dtype == gw.dtype == ggx.dtype == np.float32
    assert ggw is None or ggw.dtype == np.float32


# -- layers -------------------------------------------------------------------------------------------------

def layers(m):
    """The same layers from minigan.nn or torch.nn."""
    return [m.RMSNorm(4), m.RMSNorm([2, 3], eps=1e-5, elementwise_affine=False), m.RMSNorm((5,), 0.1),
            m.Bilinear(2, 3, 4), m.Bilinear(3, 1, 2, bias=False),
            m.LPPool1d(2, 3), m.LPPool1d(1.5, 2, stride=1, ceil_mode=True), m.LPPool2d(2, (2, 3), stride=(1, 2)),
            m.LPPool2d(float("inf"), 2), m.LPPool3d(3, 2, 1, True)]


def test_layers_match_torch_reprs_and_state_dicts():
    torch = pytest.importorskip("torch")
    assert_reprs_and_state_dicts_match(layers(nn), layers(torch.nn))
    assert repr(nn.Sequential(*layers(nn))) == repr(torch.nn.Sequential(*layers(torch.nn)))


def test_layers_compute_their_functions(device):
    x1, x2, v = arrays([(2, 3, 4), (2, 3, 3), (2, 3, 6, 5)], 11)
    x1, x2, v = (mg.tensor(a, device=device) for a in (x1, x2, v))
    rms = nn.RMSNorm(4).to(device).double()
    np.testing.assert_array_equal(rms.weight.numpy(), np.ones(4))
    np.testing.assert_array_equal(rms(x1).numpy(), F.rms_norm(x1, (4,)).numpy())
    bil = nn.Bilinear(4, 3, 5).to(device).double()
    np.testing.assert_array_equal(bil(x1, x2).numpy(), F.bilinear(x1, x2, bil.weight, bil.bias).numpy())
    pool = nn.LPPool2d(2, 2, 1, True)
    np.testing.assert_array_equal(pool(v).numpy(), F.lp_pool2d(v, 2.0, 2, 1, True).numpy())
    assert list(pool.parameters()) == [] and pool.state_dict() == {}


def test_bilinear_initialisation():
    mg.manual_seed(0)
    layer = nn.Bilinear(4, 2, 50)
    bound = 1 / math.sqrt(4)  # 1 / sqrt(in1_features), weight and bias alike, as PyTorch
    for p in (layer.weight, layer.bias):
        values = p.numpy()
        assert p.dtype == np.float32 and np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    assert nn.Bilinear(3, 2, 1, dtype=np.float64).weight.dtype == np.float64


def test_layers_with_torch_weights_match_torch(device):
    torch = pytest.importorskip("torch")
    x1, x2 = arrays([(3, 4), (3, 2)], 12)
    for ours, theirs, inputs in [(nn.Bilinear(4, 2, 3), torch.nn.Bilinear(4, 2, 3), (x1, x2)),
                                 (nn.RMSNorm(4, eps=1e-3), torch.nn.RMSNorm(4, eps=1e-3), (x1,))]:
        theirs = theirs.double()
        with torch.no_grad():
            for p in theirs.parameters():
                p.add_(0.3)
        ours.double().load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
        ours.to(device)
        y = ours(*[mg.tensor(a, device=device) for a in inputs])
        np.testing.assert_allclose(y.numpy(), theirs(*[torch.tensor(a) for a in inputs]).detach().numpy(),
                                   rtol=1e-12)


# -- ParameterList and ParameterDict ------------------------------------------------------------------------

def holder(m, t):
    """A module holding a ParameterList and a ParameterDict, as a model would: from minigan (m = nn, t = mg)
    or PyTorch (m = torch.nn, t = torch)."""

    class Holder(m.Module):
        def __init__(self):
            super().__init__()
            self.scale = m.Parameter(t.ones(2))
            self.pl = m.ParameterList([t.zeros(3), m.Parameter(t.ones(2, 2))])
            self.pd = m.ParameterDict(OrderedDict([("b", t.zeros(1)), ("a", t.ones(4))]))

        def forward(self, x):
            return sum((p.sum() for p in self.pl), x * self.pd["a"].sum())

    return Holder()


def test_containers_register_their_parameters(device):
    model = holder(nn, mg)
    assert [name for name, _ in model.named_parameters()] == ["scale", "pl.0", "pl.1", "pd.b", "pd.a"]
    assert list(model.state_dict()) == ["scale", "pl.0", "pl.1", "pd.b", "pd.a"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    model.to(device).double()
    assert all(p.device == mg.tensor(0.0, device=device).device and p.dtype == np.float64
               for p in model.parameters())
    # Gradients reach them, and an optimiser steps them.
    x = mg.tensor(np.float64(2.0), device=device)
    model(x).backward()
    np.testing.assert_array_equal(model.pl[0].grad.numpy(), np.ones(3))
    np.testing.assert_array_equal(model.pd["a"].grad.numpy(), np.full(4, 2.0))
    mg.optim.SGD(model.parameters(), lr=0.5).step()
    np.testing.assert_array_equal(model.pl[1].numpy(), np.full((2, 2), 0.5))
    # A state dict round trip.
    state = {k: v + 1 for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    np.testing.assert_array_equal(model.pd["b"].numpy(), [1.0])


def test_containers_match_torch_keys_and_reprs():
    torch = pytest.importorskip("torch")
    ours, theirs = holder(nn, mg), holder(torch.nn, torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    # PyTorch spells dtypes "torch.float32" (ParameterList) and "torch.FloatTensor" (ParameterDict);
    # minigan's are NumPy's names. All else is the same.
    text = repr(theirs)
    for theirs_name, ours_name in [("torch.float32", "float32"), ("torch.FloatTensor", "float32"),
                                   ("torch.float64", "float64"), ("torch.DoubleTensor", "float64")]:
        text = text.replace(theirs_name, ours_name)
    assert repr(ours) == text
    for values in ([], [torch.zeros(3), 5, None]):
        expected = repr(torch.nn.ParameterList(values)).replace("torch.float32", "float32")
        assert repr(nn.ParameterList([mg.zeros(3) if isinstance(v, torch.Tensor) else v for v in values])) == expected
    mixed = {"w": torch.zeros(2, 3, dtype=torch.float64), "n": 3}
    expected = repr(torch.nn.ParameterDict(mixed)).replace("torch.DoubleTensor", "float64")
    assert repr(nn.ParameterDict({"w": mg.tensor(np.zeros((2, 3))), "n": 3})) == expected


def test_parameter_list_behaves_like_a_list(device):
    t = mg.zeros(3, device=device)
    pl = nn.ParameterList([t])
    assert isinstance(pl[0], nn.Parameter) and pl[0].data is t.data  # converted, memory shared
    p = nn.Parameter(mg.ones(2, device=device))
    assert pl.append(p) is pl and pl[1] is p and pl[-1] is p
    pl.extend([mg.ones(1, device=device)])
    pl += (mg.ones(4, device=device),)
    assert len(pl) == 4 and [tuple(q.shape) for q in pl] == [(3,), (2,), (1,), (4,)]
    pl[-1] = mg.full((5,), 2.0, device=device)
    assert isinstance(pl[3], nn.Parameter) and pl[3].shape == (5,)
    assert list(pl.state_dict()) == ["0", "1", "2", "3"]
    part = pl[1:3]
    assert isinstance(part, nn.ParameterList) and part[0] is p and list(part.state_dict()) == ["0", "1"]
    assert len(pl[::-1]) == 4 and pl[::-1][0] is pl[3]
    pl.append("not a tensor")  # held, not registered, as in PyTorch
    assert pl[4] == "not a tensor" and len(list(pl.parameters())) == 4


def test_parameter_dict_behaves_like_a_dict(device):
    a, b = nn.Parameter(mg.ones(2, device=device)), mg.zeros(3, device=device)
    pd = nn.ParameterDict({"z": a, "b": b})  # a plain dict: keys sorted, as PyTorch does
    assert list(pd) == ["b", "z"] and list(pd.keys()) == ["b", "z"] and list(reversed(pd)) == ["z", "b"]
    assert pd["z"] is a and isinstance(pd["b"], nn.Parameter) and pd["b"].data is b.data
    assert "z" in pd and "q" not in pd and len(pd) == 2
    assert list(nn.ParameterDict(OrderedDict([("z", a), ("b", b)]))) == ["z", "b"]  # ordered: kept
    assert list(nn.ParameterDict([("z", a), ("b", b)])) == ["z", "b"]  # pairs: kept
    pd["c"] = mg.ones(1, device=device)
    pd["z"] = mg.ones(5, device=device)  # replaced in place
    assert list(pd) == ["b", "z", "c"] and list(pd.state_dict()) == ["b", "z", "c"] and pd["z"].shape == (5,)
    assert [k for k, _ in pd.items()] == ["b", "z", "c"] and len(list(pd.values())) == 3
    assert pd.get("q") is None and pd.get("q", 1) == 1 and pd.get("c") is pd["c"]
    assert pd.setdefault("c") is pd["c"] and pd.setdefault("d", mg.ones(2, device=device)) is pd["d"]
    assert pd.pop("d").shape == (2,) and "d" not in pd and "d" not in pd.state_dict()
    key, value = pd.popitem()
    assert key == "c" and value.shape == (1,) and list(pd) == ["b", "z"]
    del pd["b"]
    assert list(pd) == ["z"] and list(pd.state_dict()) == ["z"]
    copy = pd.copy()
    assert copy is not pd and copy["z"] is pd["z"]
    merged = pd | {"y": mg.ones(1, device=device)}
    assert isinstance(merged, nn.ParameterDict) and list(merged) == ["z", "y"] and list(pd) == ["z"]
    plain = {"y": 1} | pd
    assert type(plain) is dict and list(plain) == ["y", "z"]
    pd |= [("x", mg.ones(1, device=device))]
    assert list(pd) == ["z", "x"]
    assert list(pd.fromkeys(["k", "l"], None)) == ["k", "l"]
    pd.update({"w": "an object"})
    assert pd["w"] == "an object" and "w" not in pd.state_dict()
    pd.clear()
    assert len(pd) == 0 and pd.state_dict() == {} and list(pd.parameters()) == []


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.ParameterList([mg.zeros(1)])[1], IndexError, r"ParameterList: index 1 is out of range for 1 values"),
    (lambda: nn.ParameterList()["a"], TypeError, r"ParameterList: index must be an int or a slice, got 'a'"),
    (lambda: nn.ParameterList().extend(mg.zeros(3)), TypeError,
     r"ParameterList.extend: expected an iterable of values, got Tensor"),
    (lambda: nn.ParameterList([mg.tensor([1, 2])]), TypeError,
     r"Parameter: data must be floating point, got dtype int64"),
    (lambda: nn.ParameterList([mg.zeros(1)]).__setitem__(0, 3), TypeError,
     r"cannot assign a int to parameter '0' of ParameterList"),
    (lambda: nn.ParameterList()(mg.zeros(1)), RuntimeError, r"ParameterList cannot be called"),
    (lambda: nn.ParameterDict()["a"], KeyError, r"ParameterDict: no value under key 'a' \(keys: \[\]\)"),
    (lambda: nn.ParameterDict()[1], TypeError, r"ParameterDict: keys must be strings, got int 1"),
    (lambda: nn.ParameterDict({"a.b": mg.zeros(1)}), KeyError, r"key must be a non-empty string without '\.'"),
    (lambda: nn.ParameterDict({"": mg.zeros(1)}), KeyError, r"key must be a non-empty string without '\.', got ''"),
    (lambda: nn.ParameterDict({"training": mg.zeros(1)}), KeyError,
     r"ParameterDict: key 'training' is taken by an attribute of ParameterDict"),
    (lambda: nn.ParameterDict({"keys": mg.zeros(1)}), KeyError, r"key 'keys' is taken by an attribute"),
    (lambda: nn.ParameterDict([("a", mg.zeros(1), 3)]), ValueError,
     r"ParameterDict.update: element #0 must be a \(key, value\) pair"),
    (lambda: nn.ParameterDict(3), TypeError, r"ParameterDict.update: expected a mapping or an iterable"),
    (lambda: nn.ParameterDict().popitem(), KeyError, r"ParameterDict.popitem: the ParameterDict is empty"),
    (lambda: nn.ParameterDict()(mg.zeros(1)), RuntimeError, r"ParameterDict cannot be called"),
])
def test_container_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- errors -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: F.rms_norm(mg.ones((3, 4)), (5,)), ValueError,
     r"rms_norm: normalized_shape \(5,\) does not match the trailing dimensions of input of shape \(3, 4\) "
     r"\(expects input of shape \(\*, 5\)\)"),
    (lambda: F.rms_norm(mg.ones((3, 4)), ()), ValueError, r"rms_norm: normalized_shape must have at least one"),
    (lambda: F.rms_norm(mg.ones((3, 4)), (4,), mg.ones(3)), ValueError,
     r"rms_norm: weight of shape \(3,\) does not fit input of shape \(3, 4\) \(expects \(4,\)\)"),
    (lambda: F.rms_norm(mg.ones((3, 4)), (4,), mg.tensor(np.ones(4))), ValueError,
     r"rms_norm: weight dtype float64 differs from input dtype float32"),
    (lambda: F.rms_norm(mg.tensor([[1, 2]]), (2,)), TypeError,
     r"rms_norm: input must be floating point, got dtype int64"),
    (lambda: F.rms_norm(mg.ones((3, 4)), (4,), eps="tiny"), TypeError,
     r"rms_norm: eps must be a number or None, got 'tiny'"),
    (lambda: nn.RMSNorm(4, eps="tiny"), TypeError, r"RMSNorm: eps must be a number or None, got 'tiny'"),
    (lambda: F.bilinear(mg.ones((1, 2)), mg.ones((5, 3)), mg.ones((4, 2, 3))), ValueError,
     r"bilinear: input1 of shape \(1, 2\) and input2 of shape \(5, 3\) must have the same leading axes"),
    (lambda: F.bilinear(mg.ones((5, 2)), mg.ones((5, 3)), mg.ones((4, 3, 3))), ValueError,
     r"bilinear: inputs of shapes \(5, 2\) and \(5, 3\) do not fit weight of shape \(4, 3, 3\) "
     r"\(expects \(\*, 3\) and \(\*, 3\)\)"),
    (lambda: F.bilinear(mg.ones((5, 2)), mg.ones((5, 3)), mg.ones((2, 3))), ValueError,
     r"bilinear: weight must have 3 axes \(out_features, in1_features, in2_features\), got shape \(2, 3\)"),
    (lambda: F.bilinear(mg.ones((5, 2)), mg.ones((5, 3)), mg.ones((4, 2, 3)), mg.ones(3)), ValueError,
     r"bilinear: bias of shape \(3,\) does not fit weight of shape \(4, 2, 3\) \(expects \(4,\)\)"),
    (lambda: F.bilinear(mg.ones(()), mg.ones((3,)), mg.ones((4, 1, 3))), ValueError,
     r"bilinear: input1 must have at least one axis \(\*, features\), got shape \(\)"),
    (lambda: F.bilinear(mg.ones((5, 2)), mg.tensor(np.ones((5, 3))), mg.ones((4, 2, 3))), TypeError,
     r"bilinear: input1, input2, weight and bias must have one floating dtype, got float32, float64, float32"),
    (lambda: F.lp_pool2d(mg.ones((1, 1, 4, 4)), 0, 2), ValueError,
     r"lp_pool2d: norm_type must be a non-zero number \(the root taken is its inverse\), got 0"),
    (lambda: F.lp_pool1d(mg.ones((1, 1, 4)), "2", 2), TypeError, r"lp_pool1d: norm_type must be a number, got '2'"),
    (lambda: F.lp_pool2d(mg.ones((1, 1, 2, 4)), 2, 3), ValueError,
     r"lp_pool2d: output size would be 0x1 for input of shape \(1, 1, 2, 4\) with kernel_size \(3, 3\)"),
    (lambda: F.lp_pool3d(mg.ones((1, 4, 4)), 2, 2), ValueError,
     r"lp_pool3d: input must be 4-D \(C, D, H, W\) or 5-D \(N, C, D, H, W\), got shape \(1, 4, 4\)"),
    (lambda: F.lp_pool1d(mg.ones((1, 1, 4)), 2, 0), ValueError, r"lp_pool1d: kernel_size must be at least 1"),
    (lambda: F.lp_pool2d(mg.ones((1, 1, 4, 4)), 2, 2, stride=(1, 2, 3)), TypeError,
     r"lp_pool2d: stride must be an int or a pair of ints"),
    (lambda: nn.LPPool2d(0, 2), ValueError, r"LPPool2d: norm_type must be a non-zero number"),
    (lambda: nn.LPPool3d(2, (2, 2)), TypeError, r"LPPool3d: kernel_size must be an int or a triple of ints"),
    (lambda: nn.LPPool1d(2, 2, stride=0), ValueError, r"LPPool1d: stride must be at least 1"),
    (lambda: F.pdist(mg.ones((2, 3, 4))), ValueError,
     r"pdist: input must be 2-D \(N, M\), one row per point, got shape \(2, 3, 4\)"),
    (lambda: F.pdist(mg.ones((3, 2)), -1), ValueError,
     r"pdist: p must be non-negative, got -1 \(input of shape \(3, 2\)\)"),
    (lambda: F.pdist(mg.ones((3, 2)), "fro"), TypeError, r"pdist: p must be a number, got 'fro'"),
    (lambda: F.pdist(mg.tensor([[1, 2], [3, 4]])), TypeError, r"pdist: input must be floating point, got dtype int64"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
