"""dropout1d/2d/3d, alpha_dropout, feature_alpha_dropout, channel_shuffle, gumbel_softmax and their layers.

The masks and the noise are random, so their values are tested structurally and statistically: whole
channels zeroed and the survivors scaled exactly; the share dropped within a few standard deviations of p;
alpha dropout's mean and variance kept over a large draw; the Gumbel-max trick's categorical frequencies.
Gradients are checked with the mask fixed (the same seed before every call), in float64 to first and
second order over hypothesis-drawn shapes and p. PyTorch (where installed) is compared only where the
result is deterministic: eval mode, p = 0 and p = 1, alpha dropout's two output levels for a constant input
(which pin its constants a and b), channel_shuffle, and gumbel_softmax for a given Gumbel noise. Then
dtypes, the accepted ranks with PyTorch's warnings, the layers' reprs and state dicts, and the errors.
"""
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from minigan.functional.sampling import _gumbel_softmax
from gradcheck import check_double_grad, check_grad

seeds = st.integers(0, 2 ** 16)

# SELU's constants as Klambauer et al. 2017 give them, and alpha dropout's from them (section "New dropout
# technique"): a dropped unit goes to alpha' = -lambda alpha, then y = a x + b.
LAMBDA, ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
SATURATION = -LAMBDA * ALPHA


def alpha_affine(p):
    """(a, b) of alpha dropout with drop probability p."""
    a = ((1 - p) * (1 + p * SATURATION ** 2)) ** -0.5
    return a, -a * p * SATURATION


# name -> (op, ranks it takes, the channel axis for each rank)
CHANNEL_OPS = {
    "dropout1d": (F.dropout1d, {2: 0, 3: 1}),
    "dropout2d": (F.dropout2d, {4: 1}),
    "dropout3d": (F.dropout3d, {4: 0, 5: 1}),
}
ALL_OPS = {"dropout1d": F.dropout1d, "dropout2d": F.dropout2d, "dropout3d": F.dropout3d,
           "alpha_dropout": F.alpha_dropout, "feature_alpha_dropout": F.feature_alpha_dropout}
LAYERS = {"dropout1d": nn.Dropout1d, "dropout2d": nn.Dropout2d, "dropout3d": nn.Dropout3d,
          "alpha_dropout": nn.AlphaDropout, "feature_alpha_dropout": nn.FeatureAlphaDropout}
# a shape of each rank with about 2000 channels, for the statistics
BIG = {2: (2000, 3), 3: (40, 50, 3), 4: (40, 50, 2, 2), 5: (20, 100, 2, 1, 2)}


def channel_values(y, axis):
    """y with the axes after ``axis`` flattened: one row per channel."""
    return y.reshape(y.shape[:axis + 1] + (-1,))


# -- channel-wise dropout: structure and statistics -----------------------------------------------------------

@pytest.mark.parametrize("name, ndim", [(n, r) for n, (_, ranks) in CHANNEL_OPS.items() for r in ranks])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_channel_dropout_zeroes_whole_channels(device, name, ndim, p):
    op, ranks = CHANNEL_OPS[name]
    x = np.random.default_rng(0).uniform(1, 2, BIG[ndim]).astype(np.float32)  # no zeros of its own
    y = op(mg.tensor(x, device=device), p).numpy()
    assert y.dtype == np.float32 and y.shape == x.shape
    rows, scaled = channel_values(y, ranks[ndim]), channel_values(x * np.float32(1 / (1 - p)), ranks[ndim])
    dropped = (rows == 0).all(axis=-1)
    # each channel is dropped whole, or kept whole and scaled exactly as x * float32(1 / (1 - p))
    np.testing.assert_array_equal(rows[~dropped], scaled[~dropped])
    assert ((rows == 0) == dropped[..., None]).all()
    assert abs(dropped.mean() - p) < 5 * np.sqrt(p * (1 - p) / dropped.size)  # 5 sd of a binomial


@pytest.mark.parametrize("name", ["dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout",
                                  "alpha_dropout"])
def test_masks_repeat_from_the_seed(device, name):
    x = mg.ones((20, 30, 4) if name in ("dropout1d", "alpha_dropout") else (20, 30, 2, 2), device=device)
    op = ALL_OPS[name]
    mg.manual_seed(3)
    a = op(x, 0.5, True).numpy()
    b = op(x, 0.5, True).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(op(x, 0.5, True).numpy(), a)
    assert not np.array_equal(a, b)  # the stream moves on between calls


# -- alpha dropout -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("feature", [False, True])
@pytest.mark.parametrize("p", [0.05, 0.2, 0.5])
def test_alpha_dropout_keeps_mean_and_variance(device, feature, p):
    # SELU's fixed point: inputs of mean 0 and variance 1 come out so (Klambauer et al. 2017)
    x = np.random.default_rng(1).standard_normal((1000, 200, 2)).astype(np.float32)
    op = F.feature_alpha_dropout if feature else F.alpha_dropout
    y = op(mg.tensor(x, device=device), p, True).numpy().astype(np.float64)
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.02
    a, b = alpha_affine(p)
    dropped = np.isclose(y, a * SATURATION + b, rtol=0, atol=1e-6)
    # the kept ones are exactly the affine map of x, in float32
    kept = y[~dropped].astype(np.float32)
    np.testing.assert_array_equal(kept, x[~dropped] * np.float32(a) + np.float32(b))
    if feature:  # a channel is dropped whole
        rows = dropped.reshape(-1, 2)
        assert (rows[:, 0] == rows[:, 1]).all()
    n = dropped.size // (2 if feature else 1)
    assert abs(dropped.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("feature", [False, True])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_alpha_dropout_constants_match_torch(device, feature, p):
    """For a constant input c, the output takes two values, a c + b (kept) and a alpha' + b (dropped):
    the same two as PyTorch's pin down a and b, whatever the masks."""
    torch = pytest.importorskip("torch")
    for c in (0.0, 1.0, -2.5):
        x = np.full((4000, 2), c, np.float32)
        ours = F.feature_alpha_dropout if feature else F.alpha_dropout
        theirs = torch.nn.functional.feature_alpha_dropout if feature else torch.nn.functional.alpha_dropout
        mine = np.unique(ours(mg.tensor(x, device=device), p, True).numpy())
        ref = np.unique(theirs(torch.tensor(x), p, True).numpy())
        assert mine.shape == ref.shape == (2,)
        np.testing.assert_allclose(mine, ref, rtol=1e-6, atol=1e-6)  # PyTorch rounds a alpha' + b otherwise


# -- gradients, with the mask fixed --------------------------------------------------------------------------

@st.composite
def dropout_case(draw):
    name = draw(st.sampled_from(sorted(ALL_OPS)))
    ranks = {"dropout1d": [2, 3], "dropout2d": [4], "dropout3d": [4, 5], "alpha_dropout": [0, 1, 2, 3],
             "feature_alpha_dropout": [2, 3, 4]}[name]
    ndim = draw(st.sampled_from(ranks))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    if ndim >= 4:  # keep the numerical gradient checks small
        shape = shape[:2] + tuple(min(n, 2) for n in shape[2:])
    return name, shape


@settings(max_examples=20, deadline=None)
@given(case=dropout_case(), p=st.sampled_from([0.2, 0.5, 1.0]), seed=seeds)
def test_dropout_family_gradients(device, case, p, seed):
    name, shape = case

    def fn(x):
        mg.manual_seed(seed)  # the same mask on every call the numerical check makes
        return ALL_OPS[name](x, p, True)

    x = np.random.default_rng(seed).standard_normal(shape)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("name", sorted(ALL_OPS))
def test_gradient_is_the_forward_mask_times_the_scale(device, name):
    p = 0.4
    shape = (30, 20, 2, 2) if name in ("dropout2d", "dropout3d") else (30, 20, 3)
    rng = np.random.default_rng(2)
    x = mg.tensor(rng.uniform(1, 2, shape), device=device, requires_grad=True)
    y = ALL_OPS[name](x, p, True)
    gy = rng.standard_normal(shape)
    (gx,) = mg.grad(y, [x], mg.tensor(gy, device=device))
    slope = alpha_affine(p)[0] if "alpha" in name else 1 / (1 - p)
    kept = ~np.isclose(y.numpy(), alpha_affine(p)[0] * SATURATION + alpha_affine(p)[1]) if "alpha" in name \
        else y.numpy() != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(gx.numpy(), gy * kept * slope, rtol=1e-12)


# -- identity, zeros: against PyTorch ------------------------------------------------------------------------

def shape_for(name):
    return {"dropout1d": (3, 4, 5), "dropout2d": (2, 3, 4, 5), "dropout3d": (2, 3, 2, 3, 2)}.get(name, (3, 4, 5))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ALL_OPS))
@pytest.mark.parametrize("p, training", [(0.5, False), (0.0, True), (1.0, True)])
def test_deterministic_cases_match_torch(device, dtype, name, p, training):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal(shape_for(name)).astype(dtype)
    xm = mg.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y = ALL_OPS[name](xm, p, training)
    yt = getattr(torch.nn.functional, name)(xt, p, training)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    if p < 1:
        assert y is xm  # eval mode and p = 0 give the input itself
    gy = np.random.default_rng(5).standard_normal(x.shape).astype(dtype)
    (gx,) = mg.grad(y, [xm], mg.tensor(gy, device=device))
    (gxt,) = torch.autograd.grad(yt, [xt], torch.tensor(gy))
    assert gx.dtype == dtype
    np.testing.assert_array_equal(gx.numpy(), gxt.numpy())


@pytest.mark.parametrize("name", sorted(ALL_OPS))
def test_dtypes_kept_and_empty_input(device, name):
    for dtype in (np.float32, np.float64):
        x = mg.tensor(np.ones(shape_for(name), dtype), device=device)
        assert ALL_OPS[name](x, 0.3, True).dtype == dtype
        empty = mg.tensor(np.ones((0,) + shape_for(name)[1:], dtype), device=device)
        assert ALL_OPS[name](empty, 0.3, True) is empty


def test_signatures_match_torch():
    """PyTorch's argument names, order and defaults: alpha_dropout and feature_alpha_dropout default to
    training=False, the others to True; gumbel_softmax keeps PyTorch's unused eps before dim."""
    torch = pytest.importorskip("torch")
    import inspect

    for name in sorted(ALL_OPS) + ["gumbel_softmax", "channel_shuffle"]:
        ours = inspect.signature(getattr(F, name)).parameters
        if name == "channel_shuffle":  # PyTorch's is a builtin without a signature; its documented one
            assert list(ours) == ["input", "groups"]
            continue
        theirs = inspect.signature(getattr(torch.nn.functional, name)).parameters
        assert [(k, v.default) for k, v in ours.items()] == [(k, v.default) for k, v in theirs.items()], name
    x = mg.ones((3, 4))
    assert F.alpha_dropout(x) is x and F.feature_alpha_dropout(x) is x


# -- the ranks each takes, and PyTorch's warnings -----------------------------------------------------------

def drops_along(y, axis):
    """Whether every kept or dropped decision in y (from an all-ones input) is constant past ``axis``."""
    rows = channel_values(y, axis)
    return bool(((rows == 0) == (rows == 0)[..., :1]).all())


def test_dropout2d_reads_3d_input_as_n_c_l_with_a_warning(device):
    x = mg.ones((200, 3, 4), device=device)
    with pytest.warns(UserWarning, match=r"dropout2d: a 3-D input \(shape \(200, 3, 4\)\) is read as \(N, C, L\)"):
        y = F.dropout2d(x, 0.5).numpy()
    assert drops_along(y, 1) and not drops_along(y, 0)
    with pytest.warns(UserWarning, match="read as"):
        F.dropout2d(x, 0.5, training=False)  # PyTorch warns in eval mode too
    with pytest.warns(UserWarning, match="read as"):
        nn.Dropout2d()(x)


@pytest.mark.parametrize("shape", [(300, 4), (30, 4, 2, 1, 2)])
def test_dropout2d_other_ranks_are_deprecated_but_drop_along_axis_1(device, shape):
    x = mg.ones(shape, device=device)
    with pytest.warns(UserWarning, match=rf"dropout2d: a {len(shape)}-D input .* is deprecated"):
        y = F.dropout2d(x, 0.5).numpy()
    assert drops_along(y, 1) and (y == 0).any() and (y != 0).any()


@pytest.mark.parametrize("shape", [(300, 4, 2), (300,), (30, 2, 2, 2, 1, 2)])
def test_dropout3d_other_ranks_are_deprecated_and_read_as_unbatched(device, shape):
    x = mg.ones(shape, device=device)
    with pytest.warns(UserWarning, match=rf"dropout3d: a {len(shape)}-D input .* read as unbatched"):
        y = F.dropout3d(x, 0.5).numpy()
    assert drops_along(y, 0) and (y == 0).any() and (y != 0).any()


def test_documented_ranks_do_not_warn(device):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout1d(mg.ones((2, 3), device=device))
        F.dropout1d(mg.ones((2, 3, 4), device=device))
        F.dropout2d(mg.ones((2, 3, 4, 5), device=device))
        F.dropout3d(mg.ones((2, 3, 4, 5), device=device))
        F.dropout3d(mg.ones((2, 3, 4, 5, 1), device=device))
        F.feature_alpha_dropout(mg.ones((2, 3, 4, 5, 1, 1), device=device), 0.5, True)


def test_unbatched_inputs_drop_along_axis_0(device):
    y = F.dropout1d(mg.ones((400, 3), device=device), 0.5).numpy()
    assert drops_along(y, 0) and (y == 0).any() and (y != 0).any()
    y = F.dropout3d(mg.ones((400, 2, 1, 2), device=device), 0.5).numpy()
    assert drops_along(y, 0) and (y == 0).any() and (y != 0).any()
    # feature_alpha_dropout, as PyTorch's, takes axis 1 as the channel axis whatever the rank
    y = F.feature_alpha_dropout(mg.ones((40, 30, 2, 2), device=device), 0.5, True).numpy()
    levels = y == y.max()
    assert drops_along(levels.astype(np.float32), 1) and not drops_along(levels.astype(np.float32), 0)


# -- channel_shuffle -------------------------------------------------------------------------------------------

def np_channel_shuffle(x, g):
    """y[:, j g + i] = x[:, i k + j], for C = g k, written as the definition."""
    c = x.shape[1]
    k = c // g
    y = np.empty_like(x)
    for i in range(g):
        for j in range(k):
            y[:, j * g + i] = x[:, i * k + j]
    return y


@st.composite
def shuffle_case(draw):
    g, k = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    rest = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    return (draw(st.integers(1, 2)), g * k) + rest, g


@settings(max_examples=20, deadline=None)
@given(case=shuffle_case(), seed=seeds)
def test_channel_shuffle_values(device, case, seed):
    shape, g = case
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    y = F.channel_shuffle(mg.tensor(x, device=device), g)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), np_channel_shuffle(x, g))
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(y.numpy(), torch.nn.functional.channel_shuffle(torch.tensor(x), g).numpy())


@settings(max_examples=12, deadline=None)
@given(case=shuffle_case(), seed=seeds)
def test_channel_shuffle_gradients(device, case, seed):
    shape, g = case
    shape = shape[:3]  # small enough for the numerical check
    x = np.random.default_rng(seed).standard_normal(shape)
    check_grad(lambda t: F.channel_shuffle(t, g), [x], device)
    check_double_grad(lambda t: F.channel_shuffle(t, g), [x], device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channel_shuffle_gradient_matches_torch(device, dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(6).standard_normal((2, 6, 3, 2)).astype(dtype)
    xm, xt = mg.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = F.channel_shuffle(xm, 3), torch.nn.functional.channel_shuffle(xt, 3)
    gy = np.random.default_rng(7).standard_normal(y.shape).astype(dtype)
    (gx,) = mg.grad(y, [xm], mg.tensor(gy, device=device))
    (gxt,) = torch.autograd.grad(yt, [xt], torch.tensor(gy))
    assert gx.dtype == dtype
    np.testing.assert_array_equal(gx.numpy(), gxt.numpy())


def test_channel_shuffle_integers_and_empty(device):
    x = mg.tensor(np.arange(16).reshape(1, 4, 2, 2), device=device)
    y = F.channel_shuffle(x, 2).numpy()
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y[0, :, 0, 0], [0, 8, 4, 12])  # PyTorch's documented example
    assert F.channel_shuffle(mg.zeros((0, 4, 2), device=device), 2).shape == (0, 4, 2)
    layer = nn.ChannelShuffle(2)
    np.testing.assert_array_equal(layer(x).numpy(), y)
    assert layer.state_dict() == {}


# -- gumbel_softmax -------------------------------------------------------------------------------------------

def gumbel_noise(shape, seed, dtype):
    return -np.log(np.random.default_rng(seed).exponential(size=shape)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hard", [False, True])
@settings(max_examples=10, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple), data=st.data(), seed=seeds,
       tau=st.sampled_from([0.3, 1, 2.5]))
def test_gumbel_softmax_matches_torch_for_given_noise(device, dtype, hard, shape, data, seed, tau):
    """PyTorch's formula, for the same Gumbel noise: y_soft = softmax((logits + g) / tau); hard: the one-hot
    of its argmax, as y_hard - y_soft.detach() + y_soft. Values and input gradients."""
    torch = pytest.importorskip("torch")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    logits = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    g = gumbel_noise(shape, seed + 1, dtype)
    xm = mg.tensor(logits, device=device, requires_grad=True)
    y = _gumbel_softmax(xm, mg.tensor(g, device=device).data, float(tau), hard, dim % len(shape))
    xt = torch.tensor(logits, requires_grad=True)
    yt = ((xt + torch.tensor(g)) / tau).softmax(dim)
    if hard:
        index = yt.max(dim, keepdim=True)[1]
        yt = torch.zeros_like(xt).scatter_(dim, index, 1.0) - yt.detach() + yt
    assert y.dtype == dtype
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    gy = np.random.default_rng(seed + 2).standard_normal(shape).astype(dtype)
    (gx,) = mg.grad(y, [xm], mg.tensor(gy, device=device))
    (gxt,) = torch.autograd.grad(yt, [xt], torch.tensor(gy))
    np.testing.assert_allclose(gx.numpy(), gxt.numpy(), **tol)


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), data=st.data(), seed=seeds,
       tau=st.sampled_from([0.5, 1, 2]))
def test_gumbel_softmax_gradients(device, shape, data, seed, tau):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))

    def fn(x):
        mg.manual_seed(seed)  # the same noise on every call
        return F.gumbel_softmax(x, tau, dim=dim)

    x = np.random.default_rng(seed).standard_normal(shape)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gumbel_softmax_hard_is_one_hot_with_the_soft_gradient(device, dtype):
    rng = np.random.default_rng(8)
    x = mg.tensor(rng.standard_normal((50, 7, 3)).astype(dtype), device=device, requires_grad=True)
    gy = mg.tensor(rng.standard_normal((50, 7, 3)).astype(dtype), device=device)
    mg.manual_seed(9)
    soft = F.gumbel_softmax(x, 0.7, dim=1)
    mg.manual_seed(9)
    hard = F.gumbel_softmax(x, 0.7, hard=True, dim=1)
    assert soft.dtype == hard.dtype == dtype
    np.testing.assert_allclose(soft.numpy().sum(axis=1), 1, rtol=1e-6)
    h = hard.numpy()
    assert set(np.unique(h)) == {0, 1} and (h.sum(axis=1) == 1).all()  # exactly one-hot
    np.testing.assert_array_equal(h.argmax(axis=1), soft.numpy().argmax(axis=1))
    (g_soft,) = mg.grad(soft, [x], gy)
    (g_hard,) = mg.grad(hard, [x], gy)
    np.testing.assert_array_equal(g_hard.numpy(), g_soft.numpy())


def test_gumbel_max_trick_samples_the_categorical(device):
    """The hard samples are draws of the categorical distribution softmax(logits), whatever tau."""
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    n = 40000
    logits = mg.tensor(np.tile(np.log(probs), (n, 1)).astype(np.float32), device=device)
    mg.manual_seed(10)
    counts = F.gumbel_softmax(logits, tau=3.0, hard=True).numpy().sum(axis=0)
    assert counts.sum() == n
    assert (np.abs(counts / n - probs) < 5 * np.sqrt(probs * (1 - probs) / n)).all()
    mg.manual_seed(10)
    again = F.gumbel_softmax(logits, tau=3.0, hard=True).numpy().sum(axis=0)
    np.testing.assert_array_equal(again, counts)  # repeatable from the seed


def test_gumbel_noise_stays_finite_when_an_exponential_draw_is_0(device, monkeypatch):
    # float32 exponential draws are exactly 0 about once in 2^23, which -log would make infinite
    class Zeros:
        def standard_exponential(self, shape, dtype):
            return mg.zeros(shape, dtype=dtype, device=device).data

    monkeypatch.setattr(mg.random, "generator", lambda device: Zeros())
    for dtype in (np.float32, np.float64):
        y = F.gumbel_softmax(mg.tensor(np.array([[0.0, 1.0, 2.0]], dtype), device=device)).numpy()
        # the same noise for each logit cancels out (to float32's rounding of logits + 87.3)
        np.testing.assert_allclose(y[0], np.exp([0, 1, 2]) / np.exp([0, 1, 2]).sum(), rtol=1e-5)


# -- layers ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", [nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                                   nn.FeatureAlphaDropout])
@pytest.mark.parametrize("kwargs", [{}, {"p": 0.2}, {"p": 0.3, "inplace": True}, {"p": 1}, {"p": 0}])
def test_layer_reprs_and_state_dicts_match_torch(layer, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = layer(**kwargs), getattr(torch.nn, layer.__name__)(**kwargs)
    assert repr(ours) == repr(theirs)
    assert repr(nn.Sequential(ours)) == repr(torch.nn.Sequential(theirs))
    assert ours.state_dict() == {} and list(theirs.state_dict()) == []


def test_channel_shuffle_repr_matches_torch():
    torch = pytest.importorskip("torch")
    assert repr(nn.ChannelShuffle(3)) == repr(torch.nn.ChannelShuffle(3)) == "ChannelShuffle(groups=3)"
    assert repr(nn.Sequential(nn.ChannelShuffle(2))) == repr(torch.nn.Sequential(torch.nn.ChannelShuffle(2)))


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_drop_in_training_and_are_the_identity_in_eval(device, name):
    x = mg.tensor(np.random.default_rng(12).uniform(1, 2, shape_for(name)).astype(np.float32), device=device)
    layer = LAYERS[name](0.5)
    mg.manual_seed(13)
    y = layer(x).numpy()
    mg.manual_seed(13)
    np.testing.assert_array_equal(y, ALL_OPS[name](x, 0.5, True).numpy())
    assert not np.array_equal(y, x.numpy())
    assert layer.eval()(x) is x


# -- errors ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ALL_OPS))
@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), True, "0.5", None])
def test_bad_p(name, p):
    with pytest.raises(ValueError, match=rf"{name}: p must be a number in \[0, 1\], got"):
        ALL_OPS[name](mg.ones(shape_for(name)), p, True)
    with pytest.raises(ValueError, match=rf"{LAYERS[name].__name__}: p must be a number in \[0, 1\], got"):
        LAYERS[name](p)


@pytest.mark.parametrize("name", sorted(ALL_OPS))
def test_integer_input_refused(name):
    shape = shape_for(name)
    with pytest.raises(TypeError, match=rf"{name}: input must be floating point, got dtype int64 "
                                        + re.escape(f"(shape {shape})")):
        ALL_OPS[name](mg.tensor(np.zeros(shape, np.int64)), 0.5, True)


def test_bad_ranks():
    for shape in [(4,), (2, 3, 4, 5)]:
        for training in (True, False):  # as in PyTorch, eval mode is no excuse
            with pytest.raises(ValueError, match=rf"dropout1d: input must be 2-D \(C, L\) or 3-D \(N, C, L\), "
                                                 rf"got shape \({shape[0]},"):
                F.dropout1d(mg.ones(shape), 0.5, training)
    with pytest.raises(ValueError, match=r"dropout2d: input must be 4-D \(N, C, H, W\), got shape \(5,\)"):
        F.dropout2d(mg.ones(5))
    with pytest.raises(ValueError, match=r"dropout3d: input must be 4-D \(C, D, H, W\) or 5-D .* got a 0-d tensor"):
        F.dropout3d(mg.tensor(np.float32(1)))
    with pytest.raises(ValueError, match=r"feature_alpha_dropout: input must be \(N, C, \*\) with at least 2 axes, "
                                         r"got shape \(6,\)"):
        F.feature_alpha_dropout(mg.ones(6), 0.5, False)


def test_channel_shuffle_errors():
    x = mg.ones((2, 4, 3))
    with pytest.raises(TypeError, match=r"channel_shuffle: groups must be an int, got 2.0"):
        F.channel_shuffle(x, 2.0)
    with pytest.raises(TypeError, match=r"channel_shuffle: groups must be an int, got True"):
        F.channel_shuffle(x, True)
    with pytest.raises(ValueError, match=r"channel_shuffle: groups must be positive, got 0"):
        F.channel_shuffle(x, 0)
    with pytest.raises(ValueError, match=r"channel_shuffle: the 4 channels of input of shape \(2, 4, 3\) cannot "
                                         r"be split into 3 groups"):
        F.channel_shuffle(x, 3)
    with pytest.raises(ValueError, match=r"channel_shuffle: input must have at least 3 axes \(N, C, \*\), "
                                         r"got shape \(2, 4\)"):
        F.channel_shuffle(mg.ones((2, 4)), 2)
    for groups in (0, -1, 1.5):
        with pytest.raises(ValueError, match=rf"ChannelShuffle: groups must be a positive int, got {groups}"):
            nn.ChannelShuffle(groups)


def test_gumbel_softmax_errors():
    x = mg.ones((2, 3))
    for tau in (0, -1.0, "1", None):
        with pytest.raises(ValueError, match=rf"gumbel_softmax: tau must be a positive number, got {tau!r}"):
            F.gumbel_softmax(x, tau)
    with pytest.raises(TypeError, match=r"gumbel_softmax: logits must be floating point, got dtype int64"):
        F.gumbel_softmax(mg.tensor(np.zeros((2, 3), np.int64)))
    with pytest.raises(IndexError, match=r"gumbel_softmax: axis 2 is out of range for a 2-d tensor"):
        F.gumbel_softmax(x, dim=2)
    with pytest.raises(TypeError, match=r"gumbel_softmax: dim must be an int, got 1.0"):
        F.gumbel_softmax(x, dim=1.0)
    with pytest.raises(IndexError, match=r"gumbel_softmax: axis -1 is out of range for a 0-d tensor"):
        F.gumbel_softmax(mg.tensor(np.float32(1)))
    with pytest.raises(ValueError, match=r"gumbel_softmax: logits of shape \(3, 0\) have no categories along dim -1"):
        F.gumbel_softmax(mg.ones((3, 0)))
    with pytest.warns(UserWarning, match="gumbel_softmax: eps is deprecated"):
        F.gumbel_softmax(x, eps=1e-3)
