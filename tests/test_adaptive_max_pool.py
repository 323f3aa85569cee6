"""adaptive_max_pool1d/2d/3d and nn.AdaptiveMaxPool1d/2d/3d: values and indices against loops written from
the definition and against PyTorch (where installed; values, indices and input gradients, float64 and
float32) over hypothesis-drawn shapes and output sizes (smaller, equal, larger, not dividing, None),
ties, NaN and -inf resolved as PyTorch resolves them, float64 first- and second-order gradient checks,
the scatter where windows share a maximum, unbatched and empty-batch input, dtypes, the layers and their
repr, and the error messages."""
import itertools
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad
from pool_reference import distinct
from torch_compare import assert_input_grad_matches_torch

seeds = st.integers(0, 2 ** 16)
OPS = {1: "adaptive_max_pool1d", 2: "adaptive_max_pool2d", 3: "adaptive_max_pool3d"}
LAYERS = {1: "AdaptiveMaxPool1d", 2: "AdaptiveMaxPool2d", 3: "AdaptiveMaxPool3d"}


def pool(dims):
    return getattr(F, OPS[dims])


def windows(size, out):
    """The input positions of each window along one axis, by PyTorch's documented rule."""
    return [range(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def naive(x, sizes):
    """(y, indices) from the definition, for batched x (N, C, *spatial): each window's elements in
    row-major order, the first maximum winning ties and a NaN winning always (the last of several), as
    PyTorch's loop does (a value greater than the maximum so far, or NaN)."""
    n, c, spatial = x.shape[0], x.shape[1], x.shape[2:]
    y = np.empty((n, c) + sizes, dtype=x.dtype)
    idx = np.empty((n, c) + sizes, dtype=np.int64)
    per_axis = [windows(s, o) for s, o in zip(spatial, sizes)]
    for cell in itertools.product(*(range(o) for o in sizes)):
        positions = list(itertools.product(*(per_axis[a][cell[a]] for a in range(len(sizes)))))
        for b in range(n):
            for ch in range(c):
                best, at = -np.inf, None
                for p in positions:
                    v = x[(b, ch) + p]
                    if at is None or v > best or np.isnan(v):
                        best, at = v, p
                y[(b, ch) + cell] = best
                idx[(b, ch) + cell] = np.ravel_multi_index(at, spatial)
    return y, idx


def route(shape, idx, gy):
    """The gradient by its definition: each gy added at its window's maximum (loops)."""
    n, c = shape[:2]
    gx = np.zeros((n, c, int(np.prod(shape[2:]))))
    for b in range(n):
        for ch in range(c):
            for i, g in zip(idx[b, ch].ravel(), gy[b, ch].ravel()):
                gx[b, ch, i] += g
    return gx.reshape(shape)


@st.composite
def pool_case(draw, side=7, tiny=False):
    """(dims, batched input shape, output_size as given, output sizes, seed). Output sizes run from 1 to
    past the input's (O > L repeats elements), often equal to it or not dividing it; 2-D and 3-D ones may
    hold None."""
    dims = draw(st.sampled_from([1, 2, 3]))
    side = min(side, 4) if dims == 3 else side
    spatial = tuple(draw(st.integers(1, side)) for _ in range(dims))
    lead = (draw(st.integers(1, 2)), draw(st.integers(1, 2 if tiny else 3)))
    given_sizes = []
    for n in spatial:
        choices = [st.integers(1, side + 3), st.just(n)]
        if dims > 1:
            choices.append(st.none())
        given_sizes.append(draw(st.one_of(*choices)))
    sizes = tuple(n if v is None else v for n, v in zip(spatial, given_sizes))
    out = given_sizes[0] if dims == 1 and draw(st.booleans()) else tuple(given_sizes)
    return dims, lead + spatial, out, sizes, draw(seeds)


def inputs(shape, seed, kind):
    rng = np.random.default_rng(seed)
    if kind == "normal":
        return rng.standard_normal(shape)
    x = rng.integers(-2, 3, shape).astype(np.float64)  # small integers: windows often tie
    if kind == "special":  # NaN, inf and -inf among the ties
        x[rng.random(shape) < 0.15] = np.nan
        x[rng.random(shape) < 0.1] = -np.inf
        x[rng.random(shape) < 0.05] = np.inf
    return x


# -- values and indices -------------------------------------------------------------------------------

@settings(max_examples=40)
@given(case=pool_case(), kind=st.sampled_from(["normal", "ties", "special"]),
       dtype=st.sampled_from([np.float64, np.float32]), batched=st.booleans())
def test_matches_loops_and_torch(device, case, kind, dtype, batched):
    dims, shape, out, sizes, seed = case
    x = inputs(shape if batched else (1,) + shape[1:], seed, kind).astype(dtype)
    expected, expected_idx = naive(x, sizes)
    data = x if batched else x[0]
    y, idx = pool(dims)(mg.tensor(data, device=device), out, return_indices=True)
    assert y.shape == idx.shape == (expected.shape if batched else expected.shape[1:])
    assert y.dtype == dtype and idx.dtype == np.int64 and not idx.requires_grad and idx.device == y.device
    yn, idxn = (y.numpy(), idx.numpy()) if batched else (y.numpy()[None], idx.numpy()[None])
    np.testing.assert_array_equal(yn, expected)  # NaN where NaN, equal elsewhere
    np.testing.assert_array_equal(idxn, expected_idx)
    np.testing.assert_array_equal(pool(dims)(mg.tensor(data, device=device), out).numpy(), y.numpy())
    torch = pytest.importorskip("torch")
    xt = torch.tensor(data, requires_grad=True)
    yt, it = getattr(torch.nn.functional, OPS[dims])(xt, out, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), it.numpy())
    # the input gradient, where windows share maxima too
    ours = mg.tensor(data, device=device, requires_grad=True)
    y = pool(dims)(ours, out)
    assert_input_grad_matches_torch(torch, ours, xt, y, yt, dtype, device, seed + 1,
                                    rtol=1e-6 if dtype == np.float32 else 1e-12,
                                    atol=1e-6 if dtype == np.float32 else 1e-12)


def test_ties_go_to_the_first_maximum_in_window_order(device):
    # A constant plane: every window reports its first element, row by row.
    x = mg.full((1, 1, 5, 4), 2.0, device=device, requires_grad=True)
    y, idx = F.adaptive_max_pool2d(x, (3, 3), return_indices=True)
    rows, cols = [r[0] for r in windows(5, 3)], [c[0] for c in windows(4, 3)]
    np.testing.assert_array_equal(idx.numpy()[0, 0], np.add.outer(np.array(rows) * 4, cols))
    # two equal maxima in one window: the earlier in row-major order, though the later is in the first column
    t = mg.tensor(np.array([[[[0.0, 5.0], [5.0, 1.0]]]]), device=device)
    assert F.adaptive_max_pool2d(t, 1, return_indices=True)[1].numpy().item() == 1
    # -inf everywhere: the first element of each window
    z = mg.full((1, 1, 5), -np.inf, device=device)
    _, idx = F.adaptive_max_pool1d(z, 3, return_indices=True)
    np.testing.assert_array_equal(idx.numpy().ravel(), [0, 1, 3])
    # 0.0 and -0.0 tie: the value is the first one's, sign included
    s = mg.tensor(np.array([[[-0.0, 0.0, 0.0, -0.0]]]), device=device)
    y, idx = F.adaptive_max_pool1d(s, 2, return_indices=True)
    np.testing.assert_array_equal(np.signbit(y.numpy()).ravel(), [True, False])
    np.testing.assert_array_equal(idx.numpy().ravel(), [0, 2])


def test_nan_propagates_and_reports_the_last_nan(device):
    x = np.array([[[[1.0, 2.0, np.nan], [np.nan, 0.0, 1.0], [3.0, np.nan, 1.0]]]])
    y, idx = F.adaptive_max_pool2d(mg.tensor(x, device=device), 2, return_indices=True)
    assert np.isnan(y.numpy()).all()
    np.testing.assert_array_equal(idx.numpy()[0, 0], [[3, 2], [7, 7]])  # PyTorch's, checked by hand
    np.testing.assert_array_equal(idx.numpy(), naive(x, (2, 2))[1])


def test_non_contiguous_input(device, rng):
    nlc = rng.standard_normal((2, 9, 3))
    x = F.transpose(mg.tensor(nlc, device=device), (0, 2, 1))
    y, idx = F.adaptive_max_pool1d(x, 4, return_indices=True)
    expected, expected_idx = naive(nlc.transpose(0, 2, 1), (4,))
    np.testing.assert_array_equal(y.numpy(), expected)
    np.testing.assert_array_equal(idx.numpy(), expected_idx)


def test_empty_leading_axis(device):
    # As in PyTorch: an empty batch, or an unbatched input with no channels, pools to an empty output.
    y, idx = F.adaptive_max_pool2d(mg.zeros((0, 2, 5, 4), device=device), (2, 3), return_indices=True)
    assert y.shape == idx.shape == (0, 2, 2, 3)
    assert F.adaptive_max_pool1d(mg.zeros((0, 4), device=device), 2).shape == (0, 2)


# -- gradients ------------------------------------------------------------------------------------------

@settings(max_examples=30)
@given(case=pool_case(), ties=st.booleans())
def test_gradient_routes_to_the_maxima(device, case, ties):
    dims, shape, out, sizes, seed = case
    x_np = inputs(shape, seed, "ties" if ties else "normal")
    x = mg.tensor(x_np, device=device, requires_grad=True)
    y, idx = pool(dims)(x, out, return_indices=True)
    gy = np.random.default_rng(seed + 1).standard_normal(y.shape)
    gy_t = mg.tensor(gy, device=device, requires_grad=True)
    (gx,) = mg.grad(y, [x], gy_t, create_graph=True)
    np.testing.assert_allclose(gx.numpy(), route(shape, idx.numpy(), gy), rtol=1e-12, atol=1e-12)
    # the gradient's own gradient gathers at the same positions: <gx, v> is linear in gy with slope v[idx]
    v = np.random.default_rng(seed + 2).standard_normal(shape)
    (ggy,) = mg.grad((gx * mg.tensor(v, device=device)).sum(), [gy_t], create_graph=True)
    n, c = shape[:2]
    gathered = np.take_along_axis(v.reshape(n, c, -1), idx.numpy().reshape(n, c, -1), 2).reshape(y.shape)
    np.testing.assert_array_equal(ggy.numpy(), gathered)
    # and that gather's gradient scatters again (third order)
    w = np.random.default_rng(seed + 3).standard_normal(y.shape)
    v_t = mg.tensor(v, device=device, requires_grad=True)
    (ggy,) = mg.grad((gx * v_t).sum(), [gy_t], create_graph=True)
    (gv,) = mg.grad((ggy * mg.tensor(w, device=device)).sum(), [v_t])
    np.testing.assert_allclose(gv.numpy(), route(shape, idx.numpy(), w), rtol=1e-12, atol=1e-12)


def test_changing_the_indices_leaves_the_gradient_alone(device):
    x = mg.tensor(distinct((1, 2, 7), 2), device=device, requires_grad=True)
    y, idx = F.adaptive_max_pool1d(x, 3, return_indices=True)
    expected = route((1, 2, 7), idx.numpy(), np.ones(y.shape))
    idx.data[...] = 0
    (gx,) = mg.grad(y.sum(), [x])
    np.testing.assert_array_equal(gx.numpy(), expected)


@settings(max_examples=20)
@given(case=pool_case(side=5, tiny=True))
def test_gradients(device, case):
    dims, shape, out, _, seed = case
    fn = lambda t: pool(dims)(t, out)  # noqa: E731
    x = distinct(shape, seed)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("dims, shape, out", [
    (1, (2, 7), 3),  # overlapping windows, unbatched
    (2, (1, 2, 6, 4), (3, 2)),  # disjoint windows: the scatter assigns
    (2, (1, 1, 3, 4), (5, None)),  # more outputs than rows: outputs share maxima
    (3, (1, 1, 3, 4, 3), (2, 3, 1)),
])
def test_gradient_of_a_penalty(device, dims, shape, out):
    # WGAN-GP differentiates a gradient norm through D: d/dx |d<pool(x)^2, 1>/dx|^2 (float64, checked numerically)
    def penalty(t):
        (g,) = mg.grad((pool(dims)(t, out) ** 2).sum(), [t], create_graph=True)
        return (g ** 2).sum()

    x = distinct(shape, 3)
    check_grad(penalty, [x], device)


def test_after_a_convolution(device):
    # A convolution's output is channels-last in memory; pooling it, and the gradients of both, as in a D.
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((1, 2, 4, 5)), rng.standard_normal((2, 2, 2, 2))
    fn = lambda t, k: F.adaptive_max_pool2d(F.conv2d(t, k, padding=1), (2, 3))  # noqa: E731
    check_grad(fn, [x, w], device)
    check_double_grad(fn, [x, w], device)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_keeps_float32(device, rng, dims):
    shape = (2, 3) + (7, 6, 5)[:dims]
    x = mg.tensor(rng.standard_normal(shape).astype(np.float32), device=device, requires_grad=True)
    y, idx = pool(dims)(x, 3, return_indices=True)
    (gx,) = mg.grad((y * y).sum(), [x], create_graph=True)
    (ggx,) = mg.grad((gx * gx).sum(), [x])
    assert y.dtype == gx.dtype == ggx.dtype == np.float32 and idx.dtype == np.int64
    assert y.device == idx.device == x.device


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_unbatched_input(device, rng, dims):
    data = rng.standard_normal((3,) + (7, 5, 4)[:dims])
    out = (4, None, 3)[:dims] if dims > 1 else 4
    x = mg.tensor(data, device=device, requires_grad=True)
    y, idx = pool(dims)(x, out, return_indices=True)
    yb, idxb = pool(dims)(mg.tensor(data[None], device=device), out, return_indices=True)
    assert y.shape == yb.shape[1:] and idx.shape == idxb.shape[1:]
    np.testing.assert_array_equal(y.numpy(), yb.numpy()[0])
    np.testing.assert_array_equal(idx.numpy(), idxb.numpy()[0])
    (gx,) = mg.grad(y.sum(), [x])
    assert gx.shape == data.shape


# -- the layers -----------------------------------------------------------------------------------------

LAYER_CASES = [  # (layer, output_size, return_indices, input shape)
    ("AdaptiveMaxPool1d", 3, False, (2, 3, 7)), ("AdaptiveMaxPool1d", (4,), True, (3, 6)),
    ("AdaptiveMaxPool1d", [9], False, (2, 1, 5)),
    ("AdaptiveMaxPool2d", (2, None), True, (2, 3, 7, 6)), ("AdaptiveMaxPool2d", 4, False, (3, 7, 6)),
    ("AdaptiveMaxPool3d", 2, True, (2, 3, 5, 4, 6)), ("AdaptiveMaxPool3d", (3, None, 2), False, (2, 5, 4, 7)),
    ("AdaptiveMaxPool3d", [None, 1, None], True, (1, 2, 3, 4, 5)),
]


@pytest.mark.parametrize("name, out, indices, shape", LAYER_CASES)
def test_layers_are_the_functional_op(device, rng, name, out, indices, shape):
    layer = getattr(nn, name)(out, return_indices=indices)
    assert layer.output_size == out and layer.return_indices == indices
    assert layer.state_dict() == {} and not list(layer.parameters())
    x = mg.tensor(rng.standard_normal(shape), device=device, requires_grad=True)
    result = layer(x)
    expected = getattr(F, "adaptive_max_pool" + name[-2:])(x, out, return_indices=True)
    if indices:
        np.testing.assert_array_equal(result[0].numpy(), expected[0].numpy())
        np.testing.assert_array_equal(result[1].numpy(), expected[1].numpy())
    else:
        np.testing.assert_array_equal(result.numpy(), expected[0].numpy())


@pytest.mark.parametrize("name, out, indices, shape", LAYER_CASES)
def test_layers_match_torch(rng, name, out, indices, shape):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(out, indices), getattr(torch.nn, name)(out, indices)
    assert repr(ours) == repr(theirs)
    assert repr(nn.Sequential(ours)) == repr(torch.nn.Sequential(theirs))
    x = rng.standard_normal(shape)
    a, b = ours(mg.tensor(x)), theirs(torch.tensor(x))
    for u, v in (zip(a, b) if indices else [(a, b)]):
        np.testing.assert_array_equal(u.numpy(), v.numpy())


def test_layer_repr():
    assert repr(nn.AdaptiveMaxPool2d((2, None), return_indices=True)) == "AdaptiveMaxPool2d(output_size=(2, None))"
    assert repr(nn.AdaptiveMaxPool1d(3)) == "AdaptiveMaxPool1d(output_size=3)"


def test_layer_gradients(device):
    layer = nn.AdaptiveMaxPool3d((2, None, 3))
    x = distinct((1, 3, 2, 4), 1)  # unbatched
    check_grad(layer, [x], device)
    check_double_grad(layer, [x], device)


# -- errors ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dims, shape, out, message", [
    (1, (4,), 2, r"adaptive_max_pool1d: input must be 3-D \(N, C, L\) or 2-D \(C, L\), got shape \(4,\)"),
    (1, (1, 2, 3, 4), 2,
     r"adaptive_max_pool1d: input must be 3-D \(N, C, L\) or 2-D \(C, L\), got shape \(1, 2, 3, 4\)"),
    (2, (2, 3), 2, r"adaptive_max_pool2d: input must be 4-D \(N, C, H, W\) or 3-D \(C, H, W\), got shape \(2, 3\)"),
    (3, (1, 1, 1, 2, 3, 4), 2,
     r"adaptive_max_pool3d: input must be 5-D \(N, C, D, H, W\) or 4-D \(C, D, H, W\), got shape \(1, 1, 1, 2, 3, 4\)"),
    (1, (1, 2, 4), 0, r"adaptive_max_pool1d: output_size must be a positive int or a 1-tuple of one, got 0 "
                      r"\(input of shape \(1, 2, 4\)\)"),
    (1, (1, 2, 4), None, r"adaptive_max_pool1d: output_size must be a positive int or a 1-tuple of one, got None"),
    (1, (1, 2, 4), (None,), r"adaptive_max_pool1d: output_size .* got \(None,\)"),
    (1, (1, 2, 4), (2, 2), r"adaptive_max_pool1d: output_size .* got \(2, 2\) \(input of shape \(1, 2, 4\)\)"),
    (2, (1, 2, 4, 4), (2, 2, 2), r"adaptive_max_pool2d: output_size must be a positive int or a pair of them "
                                 r"\(None keeps an axis\), got \(2, 2, 2\) \(input of shape \(1, 2, 4, 4\)\)"),
    (2, (1, 2, 4, 4), (2, -1), r"adaptive_max_pool2d: output_size .* got \(2, -1\)"),
    (2, (1, 2, 4, 4), 1.5, r"adaptive_max_pool2d: output_size .* got 1.5"),
    (3, (1, 2, 4, 4, 4), (2, 2), r"adaptive_max_pool3d: output_size must be a positive int or a triple of them "
                                 r"\(None keeps an axis\), got \(2, 2\) \(input of shape \(1, 2, 4, 4, 4\)\)"),
    (3, (1, 2, 4, 4, 4), (2, 0, None), r"adaptive_max_pool3d: output_size .* got \(2, 0, None\)"),
    (1, (1, 0, 4), 2, r"adaptive_max_pool1d: input of shape \(1, 0, 4\) is empty along axis 1; only the leading "
                      r"\(batch\) axis may be empty"),
    (2, (1, 2, 0, 4), 2, r"adaptive_max_pool2d: input of shape \(1, 2, 0, 4\) is empty along axis 2"),
    (3, (2, 3, 1, 0), 2, r"adaptive_max_pool3d: input of shape \(2, 3, 1, 0\) is empty along axis 3"),
])
def test_bad_arguments(dims, shape, out, message):
    with pytest.raises(ValueError, match=message):
        pool(dims)(mg.zeros(shape), out)


def test_refuses_integer_input():
    with pytest.raises(TypeError, match=r"adaptive_max_pool2d: input must be floating point, got dtype int64 "
                                        r"\(shape \(1, 2, 3, 3\)\)"):
        F.adaptive_max_pool2d(mg.tensor(np.ones((1, 2, 3, 3), dtype=np.int64)), 2)


@pytest.mark.parametrize("name, out, message", [
    ("AdaptiveMaxPool1d", None, r"a 1-tuple of one, got None"), ("AdaptiveMaxPool1d", (2, 3), r"a 1-tuple of one"),
    ("AdaptiveMaxPool2d", 0, r"a pair of them \(None keeps an axis\), got 0"),
    ("AdaptiveMaxPool3d", (2, 2), r"a triple of them"),
    ("AdaptiveMaxPool3d", (2, 0, None), r"a triple of them \(None keeps an axis\), got \(2, 0, None\)"),
])
def test_layers_refuse_bad_output_size(name, out, message):
    with pytest.raises(ValueError, match=rf"{name}: output_size must be a positive int or " + message):
        getattr(nn, name)(out)


def test_layers_refuse_bad_input():
    with pytest.raises(ValueError, match=re.escape("adaptive_max_pool1d: input must be 3-D (N, C, L) or 2-D (C, L), "
                                                   "got shape (1, 2, 3, 4)")):
        nn.AdaptiveMaxPool1d(2)(mg.zeros((1, 2, 3, 4)))
