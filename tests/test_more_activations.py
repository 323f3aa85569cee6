"""relu6, hardsigmoid, hardswish, hardshrink, softshrink, tanhshrink, softsign, logsigmoid, celu, threshold,
rrelu, glu, softmin and their layers (with Softmax2d): forward against NumPy written from the definitions over
hypothesis-drawn shapes, magnitudes and arguments, the kinks included; the gradients PyTorch picks at the
kinks (spelled out, and against torch where installed); against torch: values, first derivatives (float32 and
float64) and second derivatives (float64); float64 first- and second-order gradient checks; float32 kept;
logsigmoid exact for large |x|; rrelu's seeded slopes in training mode; argument errors; the layers' reprs,
state dicts and outputs against torch.nn."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad

small_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
seeds = st.integers(0, 2 ** 16)
lambds = st.floats(0.0, 2.0)


def _sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))


def _hardsigmoid(x):
    # relu6(x + 3) / 6, PyTorch's definition; x / 6 + 1/2 would round near x = -3, where it cancels
    return np.minimum(np.maximum(x + 3, 0), 6) / 6


@st.composite
def rrelu_bounds(draw):
    a, b = draw(st.floats(0.0, 1.0)), draw(st.floats(0.0, 1.0))
    return {"lower": min(a, b), "upper": max(a, b)}


# name: (hypothesis strategy for the keyword arguments, ours(t, **kw), reference(x, **kw) from the definition,
#        torch's(t, TF, **kw), kinks(**kw): where the function or its first or second derivative jumps)
OPS = {
    "relu6": (st.just({}), lambda t: F.relu6(t), lambda x: np.minimum(np.maximum(x, 0), 6),
              lambda t, TF: TF.relu6(t), lambda: [0.0, 6.0]),
    "hardsigmoid": (st.just({}), lambda t: F.hardsigmoid(t), _hardsigmoid,
                    lambda t, TF: TF.hardsigmoid(t), lambda: [-3.0, 3.0]),
    "hardswish": (st.just({}), lambda t: F.hardswish(t), lambda x: x * _hardsigmoid(x),
                  lambda t, TF: TF.hardswish(t), lambda: [-3.0, 3.0]),
    "hardshrink": (st.fixed_dictionaries({"lambd": st.one_of(lambds, st.floats(-1.0, 0.0))}),
                   lambda t, lambd: F.hardshrink(t, lambd),
                   lambda x, lambd: np.where(np.abs(x) > lambd, x, 0.0),
                   lambda t, TF, lambd: TF.hardshrink(t, lambd), lambda lambd: [-lambd, lambd]),
    "softshrink": (st.fixed_dictionaries({"lambd": lambds}), lambda t, lambd: F.softshrink(t, lambd),
                   lambda x, lambd: np.sign(x) * np.maximum(np.abs(x) - lambd, 0),
                   lambda t, TF, lambd: TF.softshrink(t, lambd), lambda lambd: [-lambd, lambd]),
    "tanhshrink": (st.just({}), lambda t: F.tanhshrink(t), lambda x: x - np.tanh(x),
                   lambda t, TF: TF.tanhshrink(t), lambda: []),
    "softsign": (st.just({}), lambda t: F.softsign(t), lambda x: x / (1 + np.abs(x)),
                 lambda t, TF: TF.softsign(t), lambda: [0.0]),
    "logsigmoid": (st.just({}), lambda t: F.logsigmoid(t), lambda x: -np.logaddexp(0, -x),
                   lambda t, TF: TF.logsigmoid(t), lambda: []),
    "celu": (st.fixed_dictionaries({"alpha": st.floats(0.2, 3.0)}), lambda t, alpha: F.celu(t, alpha),
             lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha)),
             lambda t, TF, alpha: TF.celu(t, alpha), lambda alpha: [0.0]),
    "threshold": (st.fixed_dictionaries({"threshold": st.floats(-2.0, 2.0), "value": st.floats(-3.0, 3.0)}),
                  lambda t, threshold, value: F.threshold(t, threshold, value),
                  lambda x, threshold, value: np.where(x > threshold, x, value),
                  lambda t, TF, threshold, value: TF.threshold(t, threshold, value),
                  lambda threshold, value: [threshold]),
    "rrelu_eval": (rrelu_bounds(), lambda t, lower, upper: F.rrelu(t, lower, upper),
                   lambda x, lower, upper: np.where(x > 0, x, x * (lower + upper) / 2),
                   lambda t, TF, lower, upper: TF.rrelu(t, lower, upper), lambda lower, upper: [0.0]),
}
# Fixed arguments for the comparisons with torch, the kinks away from 0 where there are any.
TORCH_ARGS = {"hardshrink": {"lambd": 0.7}, "softshrink": {"lambd": 1.3}, "celu": {"alpha": 1.7},
              "threshold": {"threshold": 0.4, "value": -2.5}, "rrelu_eval": {"lower": 0.1, "upper": 0.3}}


def magnitudes(rng, shape, low=-10.0, high=2.5):
    """Random signs and magnitudes spread over 10^low .. 10^high, with some exact zeros."""
    x = rng.choice([-1.0, 1.0], shape) * 10.0 ** rng.uniform(low, high, shape)
    return np.where(rng.random(shape) < 0.1, 0.0, x)


def with_kinks(rng, x, kinks, dtype=np.float64):
    """``x`` with about a third of its elements moved onto a kink or one float step either side of it."""
    points = [np.nextafter(dtype(k), dtype(side)) for k in kinks for side in (-np.inf, np.inf)] + \
        [dtype(k) for k in kinks]
    if not points:
        return x
    return np.where(rng.random(x.shape) < 0.35, rng.choice(np.array(points, dtype=dtype), x.shape), x)


def away_from(x, kinks, margin=0.02):
    """``x`` with every element within ``margin`` of a kink pushed ``margin`` beyond it (finite differences
    then never straddle a kink). Kinks closer than 2 margins are one for this purpose."""
    for k in kinks:
        near = np.abs(x - k) < margin
        x = np.where(near, k + np.where(x >= k, margin, -margin), x)
    return x


# -- forward against the definitions ----------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPS))
@settings(max_examples=15, deadline=None)
@given(shape=small_shapes, seed=seeds, data=st.data())
def test_forward_matches_definition(device, name, shape, seed, data):
    args, ours, ref, _, kinks = OPS[name]
    kw = data.draw(args)
    rng = np.random.default_rng(seed)
    x = with_kinks(rng, magnitudes(rng, shape), kinks(**kw))
    y = ours(mg.tensor(x, device=device), **kw)
    assert y.dtype == np.float64 and y.shape == x.shape
    np.testing.assert_allclose(y.numpy(), ref(x, **kw), rtol=1e-12, atol=1e-300)
    # float32: Python-float arguments are cast to float32, as in PyTorch, so the reference takes them rounded
    kw32 = {k: float(np.float32(v)) for k, v in kw.items()}
    x32 = with_kinks(rng, x.astype(np.float32), kinks(**kw32), np.float32)
    y32 = ours(mg.tensor(x32, device=device), **kw)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32.numpy(), ref(x32.astype(np.float64), **kw32), rtol=2e-6,
                               atol=1e-6 * np.maximum(np.abs(x32), 1).max())


@settings(max_examples=20, deadline=None)
@given(shape=small_shapes, seed=seeds, data=st.data())
def test_glu_matches_definition(device, shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    shape = list(shape)
    shape[dim] *= 2
    x = magnitudes(np.random.default_rng(seed), shape, -3, 1.5)
    a, b = np.split(x, 2, axis=dim)
    for dtype, eps in ((np.float64, 2.2e-16), (np.float32, 1.2e-7)):
        y = F.glu(mg.tensor(x.astype(dtype), device=device), dim)
        assert y.dtype == dtype and y.shape == a.shape
        # minigan's sigmoid, 1/2 + tanh(b/2)/2, is accurate to rounding of 1, not relatively, for very
        # negative b: the error is a few eps times |a|
        np.testing.assert_allclose(y.numpy(), a * _sigmoid(b), rtol=8 * eps, atol=4 * eps * np.abs(a).max())
    if dim == -1:
        np.testing.assert_array_equal(F.glu(mg.tensor(x, device=device)).numpy(),
                                      F.glu(mg.tensor(x, device=device), -1).numpy())


@settings(max_examples=20, deadline=None)
@given(shape=small_shapes, seed=seeds, data=st.data())
def test_softmin_and_softmax2d_match_definition(device, shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = magnitudes(np.random.default_rng(seed), shape, -3, 2.5)  # up to +-300: e^-x would overflow
    nx = -x
    expected = np.exp(nx - np.max(nx, axis=dim, keepdims=True))
    expected /= expected.sum(axis=dim, keepdims=True)
    y = F.softmin(mg.tensor(x, device=device), dim)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-300)
    assert F.softmin(mg.tensor(x.astype(np.float32), device=device), dim).dtype == np.float32
    if len(shape) == 3:
        image = x.reshape((1,) + shape) if data.draw(st.booleans()) else x
        z = nn.Softmax2d()(mg.tensor(image, device=device))
        np.testing.assert_array_equal(z.numpy(), F.softmax(mg.tensor(image, device=device), -3).numpy())


def test_nans_pass_through_as_in_pytorch(device):
    # Each op compares as PyTorch does (threshold: x <= t; hardshrink: -l <= x <= l), so a NaN stays NaN
    x = mg.tensor(np.array([np.nan, 1.0, -1.0]), device=device)
    ops = [F.relu6, F.hardsigmoid, F.hardswish, F.hardshrink, F.softshrink, F.tanhshrink, F.softsign, F.logsigmoid,
           F.celu, F.rrelu, lambda t: F.threshold(t, 0.5, 2.0), lambda t: F.rrelu(t, training=True)]
    for op in ops:
        y = op(x).numpy()
        assert np.isnan(y[0]) and np.all(np.isfinite(y[1:]))


# -- gradients --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPS))
@settings(max_examples=10, deadline=None)
@given(shape=small_shapes, seed=seeds, data=st.data())
def test_gradients_first_and_second_order(device, name, shape, seed, data):
    args, ours, _, _, kinks = OPS[name]
    kw = data.draw(args)
    x = away_from(np.random.default_rng(seed).uniform(-8, 8, shape), kinks(**kw))
    check_grad(lambda t: ours(t, **kw), [x], device)
    check_double_grad(lambda t: ours(t, **kw), [x], device)


@settings(max_examples=15, deadline=None)
@given(shape=small_shapes, seed=seeds, data=st.data())
def test_glu_and_softmin_gradients(device, shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(seed).uniform(-3, 3, shape)
    check_grad(lambda t: F.softmin(t, dim), [x], device)
    check_double_grad(lambda t: F.softmin(t, dim), [x], device)
    doubled = np.concatenate([x, -x[::-1]], axis=dim)
    check_grad(lambda t: F.glu(t, dim), [doubled], device)
    check_double_grad(lambda t: F.glu(t, dim), [doubled], device)


def _slopes(y, x, create_graph=False):
    (g,) = mg.grad(y.sum(), [x], create_graph=create_graph)
    return g


def test_gradients_at_the_kinks_follow_pytorch(device):
    """The one-sided derivative each op takes at its kinks, as torch 2.13 does: 0 at relu6's 0 and 6 (it is
    hardtanh), at hardsigmoid's +-3, at +-lambd for both shrinks, at the threshold; hardswish's outer sides,
    0 at -3 and 1 at 3; celu 1 at 0 (both sides agree); softsign 1 at 0; rrelu's slope at 0."""
    def slopes_at(op, points):
        x = mg.tensor(np.array(points), device=device, requires_grad=True)
        return _slopes(op(x), x).numpy()

    np.testing.assert_array_equal(slopes_at(F.relu6, [0.0, 6.0, 3.0, -1.0, 7.0]), [0, 0, 1, 0, 0])
    np.testing.assert_array_equal(slopes_at(F.hardsigmoid, [-3.0, 3.0, 0.0, -4.0, 4.0]), [0, 0, 1 / 6, 0, 0])
    np.testing.assert_array_equal(slopes_at(F.hardswish, [-3.0, 3.0, 0.0, -4.0, 4.0, 1.5]), [0, 1, 0.5, 0, 1, 1])
    np.testing.assert_array_equal(slopes_at(lambda t: F.hardshrink(t, 0.5), [-0.5, 0.5, 0.0, -1.0, 1.0]),
                                  [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(slopes_at(lambda t: F.softshrink(t, 0.5), [-0.5, 0.5, 0.0, -1.0, 1.0]),
                                  [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(slopes_at(lambda t: F.softshrink(t, 0.0), [0.0, -1.0, 1.0]), [0, 1, 1])
    np.testing.assert_array_equal(slopes_at(lambda t: F.threshold(t, 0.5, 2.0), [0.5, 0.0, 1.0]), [0, 0, 1])
    np.testing.assert_allclose(slopes_at(lambda t: F.celu(t, 2.0), [0.0, 1.0, -1.0]), [1, 1, math.exp(-0.5)])
    np.testing.assert_array_equal(slopes_at(F.softsign, [0.0]), [1.0])
    np.testing.assert_allclose(slopes_at(lambda t: F.rrelu(t, 0.1, 0.3), [0.0, 1.0, -1.0]), [0.2, 1, 0.2])
    # hardswish's second derivative: 1/3 strictly inside (-3, 3), 0 at and beyond the kinks
    x = mg.tensor(np.array([-3.0, 3.0, 0.0, -4.0, 4.0]), device=device, requires_grad=True)
    (gg,) = mg.grad(_slopes(F.hardswish(x), x, create_graph=True).sum(), [x])
    np.testing.assert_allclose(gg.numpy(), [0, 0, 1 / 3, 0, 0])


def test_float32_is_kept_through_double_backward(device):
    """Python-float arguments never promote: y, its gradient and a penalty's second derivative stay float32;
    integer inputs become float32."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.uniform(-5, 5, (2, 3, 4)).astype(np.float32), device=device, requires_grad=True)
    cases = {name: (lambda t, op=spec[1], kw=TORCH_ARGS.get(name, {}): op(t, **kw)) for name, spec in OPS.items()}
    cases.update(glu=lambda t: F.glu(t, 2), softmin=lambda t: F.softmin(t, 2), softmax2d=nn.Softmax2d(),
                 rrelu_train=lambda t: F.rrelu(t, training=True))
    for name, op in cases.items():
        y = op(x)
        g = _slopes(y, x, create_graph=True)
        (gg,) = mg.grad((g * g * x).sum(), [x])  # times x: a piecewise-constant g alone would not depend on x
        assert (y.dtype, g.dtype, gg.dtype) == (np.float32,) * 3, name
        assert np.all(np.isfinite(gg.numpy())), name
        assert op(mg.tensor(np.array([[[1, -2], [3, 4]]]), device=device)).dtype == np.float32, name


def test_logsigmoid_is_exact_and_never_overflows(device):
    """log sigmoid(x) = min(x, 0) - log1p(e^-|x|) to rounding for every x: no overflow or invalid-value
    warning for |x| up to float64's limit, and the log1p term kept below -20, where softplus's default
    threshold would drop it (-25 - 1.4e-11, not -25)."""
    x = np.array([-1e308, -1e4, -800.0, -50.0, -25.0, -20.5, -1.0, 0.0, 1e-10, 1.0, 25.0, 50.0, 800.0, 1e4, 1e308])
    expected = np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = mg.tensor(x, device=device, requires_grad=True)
        y = F.logsigmoid(t)
        g = _slopes(y, t)
        y32 = F.logsigmoid(mg.tensor(np.clip(x, -1e38, 1e38).astype(np.float32), device=device))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-15, atol=0)
    assert y.numpy()[4] == -25.000000000013888
    np.testing.assert_allclose(g.numpy(), _sigmoid(-x), rtol=1e-12, atol=1e-16)  # sigmoid(-x), from softplus
    assert y32.dtype == np.float32 and np.all(np.isfinite(y32.numpy()))
    np.testing.assert_allclose(y32.numpy(), np.minimum(np.clip(x, -1e38, 1e38), 0)
                               - np.log1p(np.exp(-np.abs(np.clip(x, -1e38, 1e38)))), rtol=1e-6)


# -- rrelu in training mode -------------------------------------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(shape=small_shapes, seed=seeds, bounds=rrelu_bounds())
def test_rrelu_training_draws_seeded_slopes(device, shape, seed, bounds):
    lower, upper = bounds["lower"], bounds["upper"]
    x = magnitudes(np.random.default_rng(seed), shape)
    t = mg.tensor(x, device=device, requires_grad=True)
    mg.manual_seed(seed)
    y = F.rrelu(t, lower, upper, training=True)
    g = _slopes(y, t).numpy()
    mg.manual_seed(seed)
    np.testing.assert_array_equal(F.rrelu(t, lower, upper, training=True).numpy(), y.numpy())  # the seed repeats
    positive = x > 0
    np.testing.assert_array_equal(y.numpy()[positive], x[positive])
    np.testing.assert_array_equal(g[positive], 1.0)
    slope = g[~positive]  # the slope each element drew, used in forward and backward alike
    assert np.all((slope >= lower) & (slope <= upper))
    np.testing.assert_array_equal(y.numpy()[~positive], x[~positive] * slope)


def test_rrelu_training_statistics_and_dtypes(device):
    mg.manual_seed(0)
    x = mg.tensor(-np.ones(20000, np.float32), device=device, requires_grad=True)
    y = F.rrelu(x, 0.1, 0.5, training=True)
    slopes = -y.numpy()
    assert y.dtype == np.float32 and slopes.min() >= 0.1 and slopes.max() <= 0.5
    assert abs(slopes.mean() - 0.3) < 0.005 and abs(slopes.std() - 0.4 / math.sqrt(12)) < 0.005  # uniform
    assert len(np.unique(slopes)) > 19000  # one draw an element
    assert not np.array_equal(F.rrelu(x, 0.1, 0.5, training=True).numpy(), y.numpy())  # a new draw each call
    np.testing.assert_array_equal(F.rrelu(x, 0.25, 0.25, training=True).numpy(), 0.25 * x.numpy())
    g = _slopes(y, x, create_graph=True)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g.numpy(), slopes)


@settings(max_examples=10, deadline=None)
@given(shape=small_shapes, seed=seeds, bounds=rrelu_bounds())
def test_rrelu_training_gradients(device, shape, seed, bounds):
    x = away_from(np.random.default_rng(seed).uniform(-3, 3, shape), [0.0])

    def fn(t):
        mg.manual_seed(seed)  # the same slopes at every evaluation of the finite differences
        return F.rrelu(t, bounds["lower"], bounds["upper"], training=True)

    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


def test_rrelu_layer_draws_in_training_and_is_fixed_in_eval(device):
    layer = nn.RReLU(0.1, 0.3).to(device)
    x = mg.tensor(-np.ones((4, 50)), device=device)
    assert layer.training
    drawn = -layer(x).numpy()
    assert drawn.std() > 0.01 and drawn.min() >= 0.1 and drawn.max() <= 0.3
    layer.eval()
    np.testing.assert_allclose(layer(x).numpy(), -0.2)


# -- against torch ----------------------------------------------------------------------------------------

def _torch_points(kinks):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(120) * 4, magnitudes(rng, 120, -12, 3), [0.0, 20.5, -25.0, 1e4, -1e4],
                        kinks, [np.nextafter(k, s) for k in kinks for s in (-np.inf, np.inf)]])
    return x[: len(x) // 8 * 8].reshape(2, 2, -1)  # an even last axis, for glu


TORCH_CASES = dict({name: (lambda t, op=spec[1], kw=TORCH_ARGS.get(name, {}): op(t, **kw),
                           lambda t, TF, op=spec[3], kw=TORCH_ARGS.get(name, {}): op(t, TF, **kw),
                           spec[4](**TORCH_ARGS.get(name, {}))) for name, spec in OPS.items()},
                   glu0=(lambda t: F.glu(t, 0), lambda t, TF: TF.glu(t, 0), []),
                   glu=(F.glu, lambda t, TF: TF.glu(t), []),
                   softmin=(lambda t: F.softmin(t, 1), lambda t, TF: TF.softmin(t, 1), []))
# Where torch 2.13 rounds a float64 derivative through float32, ours is the exact one: hardsigmoid's slope
# is float32(1/6) there (5e-9 off), celu's negative side is e^(x c) with c = float32(1 / alpha) (off by
# |x| / alpha * 6e-8, relatively). Compare those to that precision.
GRAD_RTOL64 = {"hardsigmoid": 1e-7, "celu": 1e-5}


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_values_and_derivatives_match_torch(device, name):
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    ours, theirs, kinks = TORCH_CASES[name]
    x = _torch_points(kinks)
    for dtype, rtol, atol in ((np.float64, 1e-12, 1e-13), (np.float32, 1e-5, 1e-5)):
        if name.startswith("glu"):  # minigan's sigmoid: accurate to rounding of 1 (see test_glu_matches_definition)
            atol *= np.abs(x).max()
        t = mg.tensor(x.astype(dtype), device=device, requires_grad=True)
        ref = torch.tensor(x.astype(dtype), requires_grad=True)
        y, yt = ours(t), theirs(ref, TF)
        assert y.dtype == dtype and y.shape == tuple(yt.shape)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"{name} {dtype}")
        gy = np.random.default_rng(2).standard_normal(y.shape)
        (g,) = mg.grad(y, [t], mg.tensor(gy.astype(dtype), device=device), create_graph=True)
        (gt,) = torch.autograd.grad(yt, [ref], torch.tensor(gy.astype(dtype)), create_graph=True)
        assert g.dtype == dtype
        grad_rtol = GRAD_RTOL64.get(name, rtol) if dtype == np.float64 else rtol
        np.testing.assert_allclose(g.numpy(), gt.detach().numpy(), rtol=grad_rtol, atol=atol,
                                   err_msg=f"{name} grad {dtype}")  # at the kinks too
        if dtype == np.float64 and name != "hardsigmoid":  # torch has no hardsigmoid double backward
            # d/dx sum(g^2 x): times x, since a piecewise-constant g alone would not depend on x
            (gg,) = mg.grad((g * g * t).sum(), [t])
            (ggt,) = torch.autograd.grad((gt * gt * ref).sum(), [ref])
            # At a kink of the first derivative torch's double backward may take the other side than its
            # backward (elu's: the right side at 0): compare off the kinks
            off = ~np.isin(x, kinks)
            np.testing.assert_allclose(gg.numpy()[off], ggt.numpy()[off], rtol=GRAD_RTOL64.get(name, 1e-10),
                                       atol=1e-10, err_msg=f"{name} 2nd")


# -- errors -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: F.softshrink(mg.zeros(2), -1.0), ValueError, r"softshrink: lambd must be non-negative, got -1.0"),
    (lambda: F.hardshrink(mg.zeros(2), "0.5"), TypeError, r"hardshrink: lambd must be a number, got '0.5'"),
    (lambda: F.threshold(mg.zeros(2), None, 1.0), TypeError, r"threshold: threshold must be a number, got None"),
    (lambda: F.threshold(mg.zeros(2), 0.5, [1.0]), TypeError, r"threshold: value must be a number, got \[1.0\]"),
    (lambda: F.celu(mg.zeros(2), 0.0), ValueError, r"celu: alpha must not be 0"),
    (lambda: F.celu(mg.zeros(2), True), TypeError, r"celu: alpha must be a number, got True"),
    (lambda: F.rrelu(mg.zeros(2), 0.5, 0.1), ValueError,
     r"rrelu: lower \(0.5\) must not be greater than upper \(0.1\)"),
    (lambda: F.rrelu(mg.zeros(2), 0.5, 0.1, training=True), ValueError, r"rrelu: lower \(0.5\)"),
    (lambda: F.rrelu(mg.zeros(2), "a"), TypeError, r"rrelu: lower must be a number, got 'a'"),
    (lambda: F.glu(mg.zeros(2, 3)), ValueError,
     r"glu: axis -1 must have an even size to be halved, got size 3 \(input shape \(2, 3\)\)"),
    (lambda: F.glu(mg.zeros(3, 4), 0), ValueError, r"glu: axis 0 must have an even size to be halved, got size 3"),
    (lambda: F.glu(mg.tensor(np.float32(1.0))), ValueError, r"glu: input must have an axis to halve, got a 0-d tensor"),
    (lambda: F.glu(mg.zeros(2, 4), 2), IndexError, r"glu: axis 2 is out of range for a 2-d tensor"),
    (lambda: F.softmin(mg.zeros(2, 4), 2), IndexError, r"softmin: axis 2 is out of range for a 2-d tensor"),
    (lambda: nn.Softmax2d()(mg.zeros(2, 3)), ValueError,
     r"Softmax2d: expected input to be 3D or 4D, got 2D instead \(shape \(2, 3\)\)"),
    (lambda: nn.Softmax2d()(mg.zeros(1, 2, 3, 4, 5)), ValueError, r"Softmax2d: expected input to be 3D or 4D, got 5D"),
    (lambda: nn.Softshrink(-0.5), ValueError, r"Softshrink: lambd must be non-negative, got -0.5"),
    (lambda: nn.Hardshrink("x"), TypeError, r"Hardshrink: lambd must be a number, got 'x'"),
    (lambda: nn.CELU(0), ValueError, r"CELU: alpha must not be 0"),
    (lambda: nn.RReLU(0.5, 0.1), ValueError, r"RReLU: lower \(0.5\) must not be greater than upper \(0.1\)"),
    (lambda: nn.Threshold(0.1, None), TypeError, r"Threshold: value must be a number, got None"),
    (lambda: nn.GLU()(mg.zeros(3)), ValueError, r"glu: axis -1 must have an even size"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- layers -------------------------------------------------------------------------------------------------

def every_layer(m):
    return [
        m.ReLU6(), m.ReLU6(True), m.Hardsigmoid(), m.Hardsigmoid(True), m.Hardswish(), m.Hardswish(inplace=True),
        m.Hardshrink(), m.Hardshrink(0.3), m.Hardshrink(1), m.Softshrink(), m.Softshrink(lambd=1.5), m.Softshrink(2),
        m.Tanhshrink(), m.Softsign(), m.LogSigmoid(), m.CELU(), m.CELU(2.0, True), m.CELU(alpha=0.5),
        m.Threshold(0.1, 20), m.Threshold(1, 2, True), m.Threshold(threshold=-0.5, value=0.25),
        m.GLU(), m.GLU(1), m.GLU(dim=-3), m.Softmin(1), m.Softmin(dim=-1), m.Softmax2d(),
        m.RReLU(), m.RReLU(0.1, 0.3, True), m.RReLU(lower=0.2, upper=0.2),
    ]


def test_layer_reprs_and_state_dicts_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(every_layer(nn), every_layer(torch.nn)):
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict()) == [], repr(ours)
    model = nn.Sequential(nn.Linear(4, 6), nn.Hardswish(), nn.Linear(6, 4), nn.GLU(), nn.RReLU(), nn.Softmin(1))
    ref = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Hardswish(), torch.nn.Linear(6, 4), torch.nn.GLU(),
                              torch.nn.RReLU(), torch.nn.Softmin(1))
    assert repr(model) == repr(ref)
    assert repr(nn.Softmin()) == repr(torch.nn.Softmin()) == "Softmin(dim=None)"
    assert list(model.state_dict()) == list(ref.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_layers_match_torch_outputs(device):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 4, 6, 4)).astype(np.float32) * 4
    for ours, theirs in zip(every_layer(nn), every_layer(torch.nn)):
        ours.eval(), theirs.eval()  # RReLU: the fixed slope
        y = ours.to(device)(mg.tensor(x, device=device))
        yt = theirs(torch.tensor(x))
        assert y.dtype == np.float32, repr(ours)
        np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-5, atol=1e-6, err_msg=repr(ours))


def test_layer_attributes_follow_pytorch(device):
    relu6 = nn.ReLU6(inplace=True)
    assert isinstance(relu6, nn.Hardtanh) and (relu6.min_val, relu6.max_val, relu6.inplace) == (0.0, 6.0, True)
    for layer in (nn.Hardsigmoid(True), nn.Hardswish(True), nn.CELU(inplace=True), nn.Threshold(0, 0, True),
                  nn.RReLU(inplace=True)):
        assert layer.inplace is True  # accepted and recorded; the result is computed out of place
    x = mg.tensor(np.array([-4.0, -1.0, 0.0, 2.0, 7.0]), device=device)
    before = x.numpy().copy()
    np.testing.assert_array_equal(nn.ReLU6(True)(x).numpy(), [0, 0, 0, 2, 6])
    np.testing.assert_array_equal(nn.Threshold(0.5, -1.0, True)(x).numpy(), [-1, -1, -1, 2, 7])
    np.testing.assert_array_equal(x.numpy(), before)  # the input is untouched


def test_softmin_without_dim_warns_and_picks_pytorchs_axis():
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    for xs, axis in ((x.reshape(24), 0), (x.reshape(6, 4), 1), (x, 0), (x.reshape(1, 2, 3, 4), 1)):
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmin has been deprecated"):
            y = nn.Softmin()(mg.tensor(xs))
        np.testing.assert_array_equal(y.numpy(), F.softmin(mg.tensor(xs), axis).numpy())


def test_names_are_exported():
    for name in ("ReLU6", "Hardsigmoid", "Hardswish", "Hardshrink", "Softshrink", "Tanhshrink", "Softsign",
                 "LogSigmoid", "CELU", "Threshold", "GLU", "Softmin", "Softmax2d", "RReLU"):
        assert name in nn.__all__ and issubclass(getattr(nn, name), nn.Module), name
    for name in ("relu6", "hardsigmoid", "hardswish", "hardshrink", "softshrink", "tanhshrink", "softsign",
                 "logsigmoid", "celu", "threshold", "glu", "softmin", "rrelu"):
        assert callable(getattr(F, name)), name
