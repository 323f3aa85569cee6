"""The activations PyTorch users expect (elu, selu, gelu, silu, mish, hardtanh, prelu, softplus's beta and
threshold) and the erf behind the exact GELU: forward against references from the definitions (math.erf,
NumPy) over hypothesis-drawn shapes and magnitudes; against torch when it is installed (values, first and
second derivatives, float64 and float32); float64 first- and second-order gradient checks; float32 kept
through double backward; argument errors; the layers' reprs and state dicts against torch.nn."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg
import minigan.functional as F
from minigan import nn
from minigan.functional import special as S
from gradcheck import check_double_grad, check_grad

small_shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3)
seeds = st.integers(0, 2 ** 16)
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
erf_ref, erfc_ref = np.vectorize(math.erf, otypes=[float]), np.vectorize(math.erfc, otypes=[float])


def magnitudes(rng, shape, low=-10.0, high=2.5):
    """Random signs and magnitudes spread over 10^low .. 10^high, with some exact zeros."""
    x = rng.choice([-1.0, 1.0], shape) * 10.0 ** rng.uniform(low, high, shape)
    return np.where(rng.random(shape) < 0.1, 0.0, x)


def away_from_kinks(rng, shape, low=0.2, high=4.0):
    """|x| in [low, high], random signs: finite differences never straddle x = 0."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def _prelu_ref(x, w):
    w = w.reshape([1] * x.ndim if w.size == 1 else [-1] + [1] * (x.ndim - 2))
    return np.where(x > 0, x, w * x)


def _softplus_ref(x, beta, threshold):
    with np.errstate(over="ignore"):
        return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


# name: (ours, reference from the definition, torch's, gradient-check sampler)
OPS = {
    "elu": (F.elu, lambda x: np.where(x > 0, x, np.expm1(x)), "elu", away_from_kinks),
    "elu_alpha": (lambda t: F.elu(t, alpha=0.3), lambda x: np.where(x > 0, x, 0.3 * np.expm1(x)),
                  lambda t, TF: TF.elu(t, alpha=0.3), away_from_kinks),
    "selu": (F.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), "selu", away_from_kinks),
    "gelu": (F.gelu, lambda x: 0.5 * x * erfc_ref(-x / math.sqrt(2)), "gelu", away_from_kinks),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
                  lambda t, TF: TF.gelu(t, approximate="tanh"), away_from_kinks),
    "silu": (F.silu, lambda x: x * np.exp(-np.logaddexp(0, -x)), "silu", away_from_kinks),
    "mish": (F.mish, lambda x: x * np.tanh(np.logaddexp(0, x)), "mish", away_from_kinks),
    "hardtanh": (lambda t: F.hardtanh(t, -0.5, 1.5), lambda x: np.clip(x, -0.5, 1.5),
                 lambda t, TF: TF.hardtanh(t, -0.5, 1.5),
                 # kinks at -0.5 and 1.5: values near -1, 0, 1 and 2 only
                 lambda r, s: r.choice([-1.0, 0.0, 1.0, 2.0], s) + r.uniform(-0.4, 0.4, s)),
    "softplus": (F.softplus, lambda x: _softplus_ref(x, 1.0, 20.0), "softplus", away_from_kinks),
    "softplus_beta": (lambda t: F.softplus(t, beta=2.0, threshold=3.0), lambda x: _softplus_ref(x, 2.0, 3.0),
                      lambda t, TF: TF.softplus(t, beta=2.0, threshold=3.0),
                      # the threshold (2x = 3) is a jump: keep finite differences off it
                      lambda r, s: np.where(np.abs(away_from_kinks(r, s) - 1.5) < 0.1, 2.5, away_from_kinks(r, s))),
}


def _torch_fn(name):
    spec = OPS[name][2]
    return (lambda t, TF: getattr(TF, spec)(t)) if isinstance(spec, str) else spec


# -- erf ------------------------------------------------------------------------------------------------

def _erf_points():
    rng = np.random.default_rng(0)
    tiny = np.geomspace(5e-324, 1e-3, 400)
    wide = np.geomspace(1e-3, 1e300, 2000)
    edges = [0.46875, 4.0, 26.5, 27.0, 27.3]
    edges = edges + [np.nextafter(e, 0) for e in edges] + [np.nextafter(e, 100) for e in edges]
    x = np.concatenate([rng.uniform(-7, 7, 4000), tiny, wide, edges, [0.0]])
    return np.concatenate([x, -x])


def _assert_close_to_rounding(ours, ref, rtol, tiny):
    """|ours - ref| within rtol of ref, or within ``tiny`` where ref is below the normal range."""
    err = np.abs(ours - ref)
    bad = ~(err <= rtol * np.abs(ref) + tiny)
    assert not bad.any(), f"worst at x={ref[bad][:5]}: ours {ours[bad][:5]}"


def test_erf_and_erfc_match_math_to_float64_rounding(device):
    x = _erf_points()
    ours_erf = S.erf(mg.tensor(x, device=device)).numpy()
    ours_erfc = S.erfc(mg.tensor(x, device=device)).numpy()
    # Cody's approximations are good to ~1e-18; what is left is float64 rounding (eps = 2.2e-16).
    _assert_close_to_rounding(ours_erf, erf_ref(x), 2e-15, 1e-320)
    _assert_close_to_rounding(ours_erfc, erfc_ref(x), 2e-15, 1e-305)  # erfc's subnormal tail: absolute
    assert ours_erf.dtype == ours_erfc.dtype == np.float64
    assert np.copysign(1, ours_erf[x == 0]).tolist() == np.copysign(1, x[x == 0]).tolist()  # erf(-0) = -0


def test_erf_special_values(device):
    x = mg.tensor(np.array([np.inf, -np.inf, np.nan, 1e308, -1e308]), device=device)
    np.testing.assert_array_equal(S.erf(x).numpy(), [1, -1, np.nan, 1, -1])
    np.testing.assert_array_equal(S.erfc(x).numpy(), [0, 2, np.nan, 0, 2])


@given(x=hnp.arrays(np.float64, st.integers(1, 50), elements=st.floats(allow_nan=False, allow_infinity=False)))
def test_erf_over_the_whole_float64_range(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warnings from the unused branches
        _assert_close_to_rounding(S.erf_array(x), erf_ref(x), 2e-15, 1e-320)
        _assert_close_to_rounding(S.erfc_array(x), erfc_ref(x), 2e-15, 1e-305)


def test_erf_in_float32_is_float32_and_within_a_few_roundings(device):
    x = _erf_points()
    x = x[np.abs(x) < 3e38].astype(np.float32)
    for op, ref in ((S.erf, erf_ref), (S.erfc, erfc_ref)):
        y = op(mg.tensor(x, device=device)).numpy()
        assert y.dtype == np.float32
        # float32 eps is 1.2e-7; a rational function, two exps and their product cost a few of those
        _assert_close_to_rounding(y.astype(np.float64), ref(x.astype(np.float64)), 1.5e-6, 2e-38)


@given(seed=seeds)
@settings(max_examples=10)
def test_erf_gradients(device, seed):
    x = np.random.default_rng(seed).uniform(-3, 3, (2, 3))
    for op in (S.erf, S.erfc):
        check_grad(op, [x], device)
        check_double_grad(op, [x], device)


# -- forward against the definitions -------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPS))
@given(shape=small_shapes, seed=seeds)
def test_forward_matches_definition(device, name, shape, seed):
    ours, ref = OPS[name][:2]
    x = magnitudes(np.random.default_rng(seed), shape)
    expected = ref(x)
    y = ours(mg.tensor(x, device=device))
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-300)
    # float32 within float32 rounding of the float64 truth (absolute for cancellations near 0:
    # gelu's tanh form computes 1 + tanh(...) for negative x, as PyTorch does)
    y32 = ours(mg.tensor(x.astype(np.float32), device=device))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32.numpy(), ref(x.astype(np.float32).astype(np.float64)), rtol=2e-6,
                               atol=1e-6 * np.maximum(np.abs(x), 1).max())


@given(shape=small_shapes, seed=seeds, scalar=st.booleans())
def test_prelu_forward_matches_definition(device, shape, seed, scalar):
    rng = np.random.default_rng(seed)
    x = magnitudes(rng, shape)
    channels = shape[1] if len(shape) >= 2 else 1
    w = rng.standard_normal(1 if scalar else channels)
    y = F.prelu(mg.tensor(x, device=device), mg.tensor(w, device=device))
    np.testing.assert_allclose(y.numpy(), _prelu_ref(x, w), rtol=1e-15, atol=1e-300)


def test_softplus_defaults_are_unchanged_and_linear_past_the_threshold(device):
    """softplus's result for the default beta=1, threshold=20 is bit for bit what it was before those
    arguments existed (max(x, 0) + log1p(e^-|x|)), except that float64 x > 20 now gives x, as PyTorch; in
    float32 the two already agreed there. Its gradient stays sigmoid(x), and is exactly 1 past 20."""
    x64 = np.concatenate([np.linspace(-60, 60, 2001), [20.0, np.nextafter(20, 21), 1e4, -1e4]])
    for x in (x64, x64.astype(np.float32)):
        before = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
        t = mg.tensor(x, device=device, requires_grad=True)
        y = F.softplus(t)
        linear = x > 20
        expected = np.where(linear, x, before)
        if x.dtype == np.float32:
            np.testing.assert_array_equal(expected, before)
        np.testing.assert_array_equal(y.numpy(), expected)
        (g,) = mg.grad(y.sum(), [t])
        np.testing.assert_array_equal(g.numpy()[linear], 1)
        np.testing.assert_array_equal(g.numpy()[~linear], F.sigmoid(mg.tensor(x[~linear], device=device)).numpy())


# -- gradients ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPS))
@given(shape=small_shapes, seed=seeds)
@settings(max_examples=8)
def test_gradients_first_and_second_order(device, name, shape, seed):
    ours, sample = OPS[name][0], OPS[name][3]
    x = sample(np.random.default_rng(seed), shape)
    check_grad(ours, [x], device)
    check_double_grad(ours, [x], device)


@given(shape=small_shapes, seed=seeds, scalar=st.booleans())
@settings(max_examples=10)
def test_prelu_gradients_in_input_and_weight(device, shape, seed, scalar):
    rng = np.random.default_rng(seed)
    x = away_from_kinks(rng, shape)
    w = rng.uniform(-0.5, 1.0, 1 if scalar or len(shape) < 2 else shape[1])
    check_grad(F.prelu, [x, w], device)
    check_double_grad(F.prelu, [x, w], device)


def test_gradients_at_the_kinks_follow_pytorch(device):
    """At x = 0 elu's slope is alpha (the left side) and prelu's is w; hardtanh's is 0 at both bounds
    (clip's would be 1)."""
    x = mg.tensor(np.array([0.0, -1.0, 1.0]), device=device, requires_grad=True)
    w = mg.tensor(np.array([0.25]), device=device, requires_grad=True)
    slope = lambda y: mg.grad(y.sum(), [x])[0].numpy()  # noqa: E731
    np.testing.assert_allclose(slope(F.elu(x, 0.5)), [0.5, 0.5 * math.exp(-1), 1.0])
    np.testing.assert_allclose(slope(F.selu(x))[0], SELU_ALPHA * SELU_SCALE)
    np.testing.assert_array_equal(slope(F.hardtanh(x)), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(slope(F.prelu(x, w)), [0.25, 0.25, 1.0])


def test_float32_is_kept_through_double_backward(device):
    """Python-float arguments never promote, and a gradient penalty's second derivative stays float32."""
    rng = np.random.default_rng(0)
    x = mg.tensor(away_from_kinks(rng, (2, 3, 2)).astype(np.float32), device=device, requires_grad=True)
    w = mg.tensor(np.array([0.1, 0.2, 0.3], np.float32), device=device, requires_grad=True)
    cases = {name: spec[0] for name, spec in OPS.items()}
    cases.update(prelu=lambda t: F.prelu(t, w), erf=S.erf, erfc=S.erfc)
    for name, op in cases.items():
        y = op(x)
        (g,) = mg.grad(y.sum(), [x], create_graph=True)
        (gg,) = mg.grad((g * g * x).sum(), [x])  # times x: hardtanh's g is constant, as a function of x
        assert (y.dtype, g.dtype, gg.dtype) == (np.float32,) * 3, name
        assert np.all(np.isfinite(gg.numpy())), name
    assert F.elu(mg.tensor(np.array([1, -2]), device=device)).dtype == np.float32  # integers become float32


# -- against torch -------------------------------------------------------------------------------------

def _torch_points():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(200) * 3, magnitudes(rng, 200, -12, 3),
                        [0.0, 0.46875 * math.sqrt(2), 4 * math.sqrt(2), 20.0, 20.5, -30.0, 1e4, -1e4]])
    return x[~np.isin(x, [-0.5, 1.5, 1.5 / 2])]  # off hardtanh's bounds and softplus_beta's threshold


@pytest.mark.parametrize("name", sorted(OPS) + ["prelu"])
def test_values_and_derivatives_match_torch(name):
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    x = _torch_points().reshape(2, 2, -1)
    w = np.array([0.25, -0.1])
    if name == "prelu":
        ours = lambda t, *ws: F.prelu(t, *ws)  # noqa: E731
        theirs = lambda t, *ws: TF.prelu(t, *ws)  # noqa: E731
        inputs = [x, w]
    else:
        ours, theirs, inputs = OPS[name][0], (lambda t, fn=_torch_fn(name): fn(t, TF)), [x]
    gy = np.random.default_rng(2).standard_normal(x.shape)
    for dtype, rtol, atol in ((np.float64, 1e-12, 1e-13), (np.float32, 1e-5, 1e-5)):
        arrays = [a.astype(dtype) for a in inputs]
        ts = [mg.tensor(a, requires_grad=True) for a in arrays]
        refs = [torch.tensor(a, requires_grad=True) for a in arrays]
        y, yt = ours(*ts), theirs(*refs)
        assert y.dtype == dtype
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"{name} {dtype}")
        g = mg.grad(y, ts, mg.tensor(gy.astype(dtype)), create_graph=True)
        gt = torch.autograd.grad(yt, refs, torch.tensor(gy.astype(dtype)), create_graph=True)
        for a, b in zip(g, gt):
            assert a.dtype == dtype
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"{name} grad")
        if dtype == np.float64:  # second order, as a gradient penalty needs: d/dx sum(g^2 x)
            # (times x: hardtanh's g is piecewise constant in x, and with gy constant nothing would depend on x)
            gg = mg.grad(sum((a * a * t).sum() for a, t in zip(g, ts)), ts)
            ggt = torch.autograd.grad(sum((b * b * t).sum() for b, t in zip(gt, refs)), refs)
            # Kinks of the first derivative, x = 0 (elu's, selu's) and softplus's threshold x = 20, where
            # PyTorch's double backward takes the other side than its backward (elu: right, 0, though its
            # slope there is alpha, the left's): compare off them. And PyTorch's mish double backward is
            # NaN at x = 1e4 (an overflowing e^x) where ours is finite.
            off = (x != 0) & (x != 20) & np.isfinite(ggt[0].numpy())
            assert np.all(np.isfinite(gg[0].numpy())), name
            np.testing.assert_allclose(gg[0].numpy()[off], ggt[0].numpy()[off], rtol=1e-10, atol=1e-10,
                                       err_msg=f"{name} 2nd")
            for a, b in zip(gg[1:], ggt[1:]):  # prelu's weight: its second derivative sums over x = 0 too
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-10, err_msg=f"{name} 2nd")


# -- errors ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: F.prelu(mg.zeros(2, 4, 5), mg.zeros(3)), ValueError,
     r"prelu: weight of shape \(3,\) must have shape \(1,\) or \(4,\).*input of shape \(2, 4, 5\)"),
    (lambda: F.prelu(mg.zeros(5), mg.zeros(5)), ValueError,
     r"prelu: weight of shape \(5,\) must have shape \(1,\) or \(1,\).*input of shape \(5,\)"),
    (lambda: F.prelu(mg.zeros(2, 3), mg.zeros(1, 3)), ValueError,
     r"prelu: weight of shape \(1, 3\) must have shape \(1,\) or \(3,\)"),
    (lambda: F.prelu(mg.zeros(2, 3), 0.25), TypeError, r"prelu: weight must be a Tensor .* got float"),
    (lambda: F.hardtanh(mg.zeros(2), 2.0, 1.0), ValueError,
     r"hardtanh: min_val \(2.0\) must not be greater than max_val \(1.0\)"),
    (lambda: F.gelu(mg.zeros(2), approximate="erf"), ValueError,
     r"gelu: approximate must be 'none' or 'tanh', got 'erf'"),
    (lambda: nn.GELU("Tanh"), ValueError, r"GELU: approximate must be 'none' or 'tanh', got 'Tanh'"),
    (lambda: nn.Hardtanh(1.0, 1.0), ValueError, r"Hardtanh: max_val \(1.0\) must be greater than min_val \(1.0\)"),
    (lambda: nn.PReLU(3)(mg.zeros(2, 4)), ValueError,
     r"prelu: weight of shape \(3,\) must have shape \(1,\) or \(4,\)"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_hardtanh_with_equal_bounds_is_a_constant():
    x = mg.tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    y = F.hardtanh(x, 0.5, 0.5)
    np.testing.assert_array_equal(y.numpy(), [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(mg.grad(y.sum(), [x])[0].numpy(), [0.0, 0.0, 0.0])


# -- layers ---------------------------------------------------------------------------------------------

def every_activation(m):
    return [
        m.ELU(), m.ELU(0.5, True), m.SELU(), m.SELU(inplace=True), m.GELU(), m.GELU(approximate="tanh"),
        m.SiLU(), m.SiLU(True), m.Mish(), m.Mish(inplace=True), m.Hardtanh(), m.Hardtanh(-2, 3, True),
        m.Hardtanh(-0.5, 2.5), m.PReLU(), m.PReLU(3, 0.1), m.Softplus(), m.Softplus(2, 10), m.Softplus(beta=0.5),
        m.Softmax(1), m.Softmax(dim=-1), m.Softmax(), m.LogSoftmax(1), m.LogSoftmax(),
    ]  # ReLU, LeakyReLU, Tanh and Sigmoid: in test_nn.py's every_layer


def test_layer_reprs_and_state_dicts_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(every_activation(nn), every_activation(torch.nn)):
        assert repr(ours) == repr(theirs)
        mine, ref = ours.state_dict(), theirs.state_dict()
        assert list(mine) == list(ref), repr(ours)
        for key in ref:
            assert mine[key].dtype == np.float32
            np.testing.assert_array_equal(mine[key], ref[key].numpy(), err_msg=repr(ours))
    model = nn.Sequential(nn.Linear(4, 3), nn.PReLU(3), nn.Linear(3, 2), nn.GELU(), nn.LogSoftmax(1))
    ref = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.PReLU(3), torch.nn.Linear(3, 2), torch.nn.GELU(),
                              torch.nn.LogSoftmax(1))
    assert repr(model) == repr(ref)
    assert list(model.state_dict()) == list(ref.state_dict()) == ["0.weight", "0.bias", "1.weight", "2.weight",
                                                                   "2.bias"]


def test_layers_match_torch_outputs_and_load_its_weights(device):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5)).astype(np.float32) * 3
    for ours, theirs in zip(every_activation(nn), every_activation(torch.nn)):
        theirs.load_state_dict({k: v.uniform_(-1, 1) for k, v in theirs.state_dict().items()})
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
        ours.to(device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Softmax() without dim warns, in both
            y, yt = ours(mg.tensor(x, device=device)), theirs(torch.tensor(x))
        assert y.dtype == np.float32, repr(ours)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=repr(ours))


def test_prelu_layer_trains_its_weight(device):
    layer = nn.PReLU(2).to(device)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(layer.weight.numpy(), [0.25, 0.25])
    x = mg.tensor(np.array([[-1.0, -2.0], [3.0, -4.0]], np.float32), device=device)
    layer(x).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy(), [-1.0, -6.0])  # sum of the negative inputs
    assert layer.weight.grad.dtype == np.float32


def test_softmax_without_dim_warns_and_picks_pytorchs_axis():
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    for ndim, axis in ((1, 0), (2, 1), (3, 0), (4, 1)):
        xs = x.reshape((24,) if ndim == 1 else (6, 4) if ndim == 2 else (2, 3, 4) if ndim == 3 else (1, 2, 3, 4))
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
            y = nn.Softmax()(mg.tensor(xs))
        np.testing.assert_allclose(y.numpy(), F.softmax(mg.tensor(xs), axis).numpy())
        with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
            nn.LogSoftmax()(mg.tensor(xs))
