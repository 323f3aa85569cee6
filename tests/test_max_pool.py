"""max_pool2d and nn.MaxPool2d: values and indices against a loop written from the definition over
hypothesis-drawn shapes, kernels, strides, paddings, dilations and ceil_mode (and against PyTorch when it
is installed: values, indices and input gradients, float64 and float32), ties and NaN resolved as
PyTorch resolves them, float64 first- and second-order gradient checks, dtypes, unbatched input, the
error messages and the layer's repr."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad
from pool_reference import distinct, has_empty_window, inputs, naive_max_pool
from torch_compare import assert_input_grad_matches_torch, assert_repr_matches_torch

seeds = st.integers(0, 2 ** 16)


@st.composite
def pool_case(draw, tiny=False):
    """(shape, kernel, stride or None, padding, dilation, ceil_mode, seed), with an output of at least
    one element. Two thirds of the strides are the kernel's (None or given), whose windows are disjoint
    (the scatter assigns), unless dilated."""
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.one_of(st.none(), st.just(k), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    pad = draw(st.one_of(st.just((0, 0)), st.tuples(st.integers(0, k[0] // 2), st.integers(0, k[1] // 2))))
    most = 2 if tiny else 3
    dil = draw(st.one_of(st.just((1, 1)), st.tuples(st.integers(1, most), st.integers(1, most))))
    ceil_mode = draw(st.booleans())
    extra = 2 if tiny else 4
    hw = tuple(draw(st.integers(max(1, dil[a] * (k[a] - 1) + 1 - 2 * pad[a]),
                                max(1, dil[a] * (k[a] - 1) + 1 - 2 * pad[a]) + extra)) for a in (0, 1))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2 if tiny else 3))) + hw
    return shape, k, stride, pad, dil, ceil_mode, draw(seeds)


# -- forward and indices ------------------------------------------------------------------------------

@given(case=pool_case(), ties=st.booleans())
def test_max_pool2d_matches_loops(device, case, ties):
    shape, k, stride, pad, dil, ceil_mode, seed = case
    x = inputs(shape, seed, ties)
    y, idx = F.max_pool2d(mg.tensor(x, device=device), k, stride, pad, dil, ceil_mode, return_indices=True)
    expected, expected_idx = naive_max_pool(x, k, k if stride is None else stride, pad, dil, ceil_mode)
    assert y.shape == expected.shape and idx.shape == expected.shape
    assert idx.dtype == np.int64 and idx.device == y.device and not idx.requires_grad
    np.testing.assert_array_equal(y.numpy(), expected)
    np.testing.assert_array_equal(idx.numpy(), expected_idx)
    # without indices, the same values
    np.testing.assert_array_equal(F.max_pool2d(mg.tensor(x, device=device), k, stride, pad, dil, ceil_mode).numpy(),
                                  expected)


def test_ties_go_to_the_first_maximum_in_window_order(device):
    # Constant input: every window's maximum is its first element inside x; the gradient goes there only.
    x = mg.full((1, 1, 4, 5), 3.0, device=device, requires_grad=True)
    y, idx = F.max_pool2d(x, 2, stride=1, return_indices=True)
    np.testing.assert_array_equal(idx.numpy()[0, 0], np.arange(4 * 5).reshape(4, 5)[:3, :4])
    (gx,) = mg.grad(y.sum(), [x])
    expected = np.zeros((4, 5), dtype=np.float32)
    expected[:3, :4] = 1
    np.testing.assert_array_equal(gx.numpy()[0, 0], expected)
    # with padding, the padded -inf never wins, even over -inf; the first real element is reported
    z = mg.full((1, 1, 3, 3), -np.inf, device=device)
    _, idx = F.max_pool2d(z, 3, stride=1, padding=1, return_indices=True)
    np.testing.assert_array_equal(idx.numpy()[0, 0], [[0, 0, 1], [0, 0, 1], [3, 3, 4]])
    # a tie between two later elements of a window: the first of them in row-major order
    t = mg.tensor(np.array([[[[0.0, 5.0], [5.0, 1.0]]]]), device=device)
    _, idx = F.max_pool2d(t, 2, return_indices=True)
    assert idx.numpy().item() == 1


def test_nan_propagates_and_reports_the_last_nan(device):
    x = np.array([[[[1.0, np.nan, np.nan, 2.0], [0.0, 7.0, np.nan, 9.0]]]])
    y, idx = F.max_pool2d(mg.tensor(x, device=device), (1, 4), return_indices=True)
    expected, expected_idx = naive_max_pool(x, (1, 4), (1, 4), (0, 0), (1, 1), False)
    assert np.isnan(y.numpy()).all()
    np.testing.assert_array_equal(idx.numpy(), expected_idx)
    np.testing.assert_array_equal(idx.numpy().ravel(), [2, 6])


def test_windows_wholly_in_the_padding(device):
    # H = 1, kernel 2 dilated by 2 with padding 1: the one window covers rows -1 and 1, both padding.
    x = mg.tensor(np.arange(1.0, 4.0).reshape(1, 1, 1, 3), device=device, requires_grad=True)
    y, idx = F.max_pool2d(x, (2, 1), padding=(1, 0), dilation=(2, 1), return_indices=True)
    np.testing.assert_array_equal(y.numpy(), np.full((1, 1, 1, 3), -np.inf))
    np.testing.assert_array_equal(idx.numpy(), [[[[3, 4, 5]]]])  # PyTorch's (past the plane's end)
    (gx,) = mg.grad(y, [x], mg.ones((1, 1, 1, 3), dtype=np.float64, device=device), create_graph=True)
    np.testing.assert_array_equal(gx.numpy(), np.zeros((1, 1, 1, 3)))  # nothing flows through a constant


@pytest.mark.parametrize("shape, kwargs", [
    ((1, 1, 3, 1), {"kernel_size": (3, 1), "stride": 1, "padding": (1, 0)}),  # offset 0 sees a contiguous slice
    ((1, 1, 4, 1), {"kernel_size": (2, 1), "stride": 1}),  # the same, unpadded: a view of x itself
    ((2, 3, 4, 1), {"kernel_size": (2, 1), "stride": 1}),
    ((2, 3, 4, 5), {"kernel_size": 1}),
])
def test_input_is_left_unchanged(device, rng, shape, kwargs):
    data = rng.standard_normal(shape)
    x = mg.tensor(data.copy(), device=device, requires_grad=True)
    y = F.max_pool2d(x, **kwargs)
    mg.grad(y.sum(), [x])
    np.testing.assert_array_equal(x.numpy(), data)
    s = kwargs.get("stride", kwargs["kernel_size"])
    k, s, p = [(v, v) if isinstance(v, int) else v for v in (kwargs["kernel_size"], s, kwargs.get("padding", 0))]
    np.testing.assert_array_equal(y.numpy(), naive_max_pool(data, k, s, p, (1, 1), False)[0])


def test_non_contiguous_input(device, rng):
    # Convolutions hand on NCHW views of channels-last memory: pooling reads any layout.
    nhwc = rng.standard_normal((2, 6, 7, 3))
    x = F.transpose(mg.tensor(nhwc, device=device), (0, 3, 1, 2))
    y, idx = F.max_pool2d(x, 3, 2, 1, return_indices=True)
    expected, expected_idx = naive_max_pool(nhwc.transpose(0, 3, 1, 2), (3, 3), (2, 2), (1, 1), (1, 1), False)
    np.testing.assert_array_equal(y.numpy(), expected)
    np.testing.assert_array_equal(idx.numpy(), expected_idx)


# -- gradients ------------------------------------------------------------------------------------------

def route(x, idx, gy):
    """The gradient by its definition: each gy added at its window's maximum (numpy, loops)."""
    n, c, h, w = x.shape
    gx = np.zeros((n, c, h * w))
    for b in range(n):
        for ch in range(c):
            for i, g in zip(idx[b, ch].ravel(), gy[b, ch].ravel()):
                if i < h * w:
                    gx[b, ch, i] += g
    return gx.reshape(x.shape)


@given(case=pool_case(), ties=st.booleans())
def test_gradient_routes_to_the_maxima(device, case, ties):
    shape, k, stride, pad, dil, ceil_mode, seed = case
    assume(not has_empty_window(shape[2:], k, k if stride is None else stride, pad, dil, ceil_mode))
    x_np = inputs(shape, seed, ties)
    x = mg.tensor(x_np, device=device, requires_grad=True)
    y, idx = F.max_pool2d(x, k, stride, pad, dil, ceil_mode, return_indices=True)
    gy = np.random.default_rng(seed + 1).standard_normal(y.shape)
    (gx,) = mg.grad(y, [x], mg.tensor(gy, device=device), create_graph=True)
    np.testing.assert_allclose(gx.numpy(), route(x_np, idx.numpy(), gy), rtol=1e-12, atol=1e-12)
    # the gradient's own gradient gathers at the same positions: <gx, v> is linear in gy with slope v[idx]
    v = np.random.default_rng(seed + 2).standard_normal(shape)
    gy_t = mg.tensor(gy, device=device, requires_grad=True)
    (gx2,) = mg.grad(y, [x], gy_t, create_graph=True)
    (ggy,) = mg.grad((gx2 * mg.tensor(v, device=device)).sum(), [gy_t])
    gathered = np.take_along_axis(v.reshape(shape[0], shape[1], -1), idx.numpy().reshape(shape[0], shape[1], -1), 2)
    np.testing.assert_allclose(ggy.numpy(), gathered.reshape(y.shape), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}])
def test_gradients_move_non_finite_values_only_to_the_maxima(device, rng, kwargs):
    # The scatter and the gather select bits, not multiply by a mask: inf and NaN in gy reach the
    # maxima only (inf * 0 would put NaN everywhere in the window), and the rest is exactly +0.0.
    x_np = distinct((1, 2, 4, 6), 5)
    x = mg.tensor(x_np, device=device, requires_grad=True)
    y, idx = F.max_pool2d(x, return_indices=True, **kwargs)
    gy = rng.standard_normal(y.shape)
    gy.reshape(-1)[:3] = [np.inf, -np.inf, np.nan]
    gy_t = mg.tensor(gy, device=device, requires_grad=True)
    (gx,) = mg.grad(y, [x], gy_t, create_graph=True)
    expected = route(x_np, idx.numpy(), gy)
    np.testing.assert_allclose(gx.numpy(), expected, rtol=1e-15, atol=0)  # overlaps: sums in another order
    assert not np.signbit(gx.numpy()[expected == 0]).any()
    v = rng.standard_normal(x_np.shape)
    v.reshape(-1)[idx.numpy().reshape(-1)[3]] = np.inf
    (ggy,) = mg.grad(gx, [gy_t], mg.tensor(v, device=device))
    gathered = np.take_along_axis(v.reshape(1, 2, -1), idx.numpy().reshape(1, 2, -1), 2).reshape(y.shape)
    np.testing.assert_array_equal(ggy.numpy(), gathered)


@given(case=pool_case(tiny=True))
def test_max_pool2d_gradients(device, case):
    shape, k, stride, pad, dil, ceil_mode, seed = case
    assume(not has_empty_window(shape[2:], k, k if stride is None else stride, pad, dil, ceil_mode))
    fn = lambda t: F.max_pool2d(t, k, stride, pad, dil, ceil_mode)  # noqa: E731
    x = distinct(shape, seed)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("kwargs", [
    {"kernel_size": 2},  # disjoint windows tiling x: the scatter assigns
    {"kernel_size": 2, "padding": 1, "ceil_mode": True},  # the same, in a padded buffer
    {"kernel_size": 2, "stride": 3},  # disjoint windows: strided assignment
    {"kernel_size": 3, "stride": 1, "padding": 1},  # overlapping windows: strided adds
    {"kernel_size": (2, 3), "stride": (1, 2), "dilation": (2, 1)},
])
def test_gradient_paths_of_a_penalty(device, kwargs):
    # WGAN-GP differentiates a gradient norm through D: d/dx |d<pool(x)^2, 1>/dx|^2 (float64, checked numerically)
    def penalty(t):
        (g,) = mg.grad((F.max_pool2d(t, **kwargs) ** 2).sum(), [t], create_graph=True)
        return (g ** 2).sum()

    x = distinct((2, 2, 5, 6), 3)
    check_grad(lambda t: F.max_pool2d(t, **kwargs), [x], device)
    check_grad(penalty, [x], device)


def test_after_a_convolution(device):
    # A convolution's output is channels-last in memory; pooling it, and the gradients of both, as in a D.
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((2, 2, 2, 2))
    fn = lambda t, k: F.max_pool2d(F.conv2d(t, k, padding=1), 3, 2, 1)  # noqa: E731
    check_grad(fn, [x, w], device)
    check_double_grad(fn, [x, w], device)


@pytest.mark.parametrize("kwargs", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
                                    {"kernel_size": 3, "stride": 1, "dilation": 2, "ceil_mode": True}])
def test_max_pool2d_keeps_float32(device, rng, kwargs):
    x = mg.tensor(rng.standard_normal((2, 3, 7, 8)).astype(np.float32), device=device, requires_grad=True)
    y, idx = F.max_pool2d(x, return_indices=True, **kwargs)
    (gx,) = mg.grad((y * y).sum(), [x], create_graph=True)
    (ggx,) = mg.grad((gx * gx).sum(), [x])
    assert y.dtype == gx.dtype == ggx.dtype == np.float32 and idx.dtype == np.int64


def test_max_pool2d_takes_an_unbatched_input(device, rng):
    data = rng.standard_normal((2, 5, 6))
    for kwargs in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}):
        x = mg.tensor(data, device=device, requires_grad=True)
        y, idx = F.max_pool2d(x, return_indices=True, **kwargs)
        yb, idxb = F.max_pool2d(mg.tensor(data[None], device=device), return_indices=True, **kwargs)
        assert y.shape == yb.shape[1:] and idx.shape == idxb.shape[1:]
        np.testing.assert_array_equal(y.numpy(), yb.numpy()[0])
        np.testing.assert_array_equal(idx.numpy(), idxb.numpy()[0])
        np.testing.assert_array_equal(F.max_pool2d(x, **kwargs).numpy(), y.numpy())
        (gx,) = mg.grad(y.sum(), [x])
        assert gx.shape == (2, 5, 6)
    check_grad(lambda t: F.max_pool2d(t, 3, 2, 1), [distinct((2, 5, 6), 0)], device)


# -- errors -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda x: F.max_pool2d(x, 3, padding=2), ValueError,
     r"max_pool2d: padding \(2, 2\) must be at most half the kernel size \(3, 3\) for input of shape \(1, 2, 5, 5\)"),
    (lambda x: F.max_pool2d(x, (2, 4), padding=(1, 3)), ValueError,
     r"max_pool2d: padding \(1, 3\) must be at most half the kernel size \(2, 4\)"),
    (lambda x: F.max_pool2d(x, 6), ValueError,
     r"max_pool2d: output size would be 0x0 for input of shape \(1, 2, 5, 5\) with kernel_size \(6, 6\), stride "
     r"\(6, 6\), padding \(0, 0\), dilation \(1, 1\): the input is smaller than the \(dilated\) kernel"),
    (lambda x: F.max_pool2d(x, 3, dilation=(1, 3)), ValueError, r"max_pool2d: output size would be 1x0 for input"),
    (lambda x: F.max_pool2d(x, 0), ValueError, r"max_pool2d: kernel_size must be at least 1, got 0"),
    (lambda x: F.max_pool2d(x, 2, stride=0), ValueError, r"max_pool2d: stride must be at least 1"),
    (lambda x: F.max_pool2d(x, 2, padding=-1), ValueError, r"max_pool2d: padding must be at least 0"),
    (lambda x: F.max_pool2d(x, 2, dilation=0), ValueError, r"max_pool2d: dilation must be at least 1"),
    (lambda x: F.max_pool2d(x, 2.0), TypeError, r"max_pool2d: kernel_size must be an int or a pair of ints, got 2.0"),
    (lambda x: F.max_pool2d(x, (2, 2, 2)), TypeError, r"max_pool2d: kernel_size must be an int or a pair of ints"),
    (lambda x: F.max_pool2d(x.reshape(10, 5), 2), ValueError,
     r"max_pool2d: input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(10, 5\)"),
    (lambda x: F.max_pool2d(x.reshape(1, 1, 2, 5, 5), 2), ValueError,
     r"max_pool2d: input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(1, 1, 2, 5, 5\)"),
    (lambda x: F.max_pool2d(mg.tensor(np.ones((1, 2, 5, 5), dtype=np.int64)), 2), TypeError,
     r"max_pool2d: input must be floating point, got dtype int64 \(shape \(1, 2, 5, 5\)\)"),
    (lambda x: F.max_pool2d(mg.zeros((1, 2, 0, 5)), 1), ValueError,
     r"max_pool2d: input of shape \(1, 2, 0, 5\) is empty along axis 2; only the batch axis may be empty"),
])
def test_max_pool2d_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call(mg.ones((1, 2, 5, 5)))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"kernel_size": 3, "padding": 2}, ValueError, r"MaxPool2d: padding 2 must be at most half the kernel size 3"),
    ({"kernel_size": 0}, ValueError, r"MaxPool2d: kernel_size must be at least 1"),
    ({"kernel_size": 2, "stride": (1, 0)}, ValueError, r"MaxPool2d: stride must be at least 1"),
    ({"kernel_size": 2, "dilation": 1.5}, TypeError, r"MaxPool2d: dilation must be an int or a pair of ints"),
])
def test_max_pool_layer_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        nn.MaxPool2d(**kwargs)


# -- the layer ------------------------------------------------------------------------------------------

LAYERS = [
    {"kernel_size": 2},
    {"kernel_size": (2, 3), "stride": 1, "padding": 1, "dilation": 2, "return_indices": True, "ceil_mode": True},
    {"kernel_size": 3, "stride": (2, 1), "padding": (1, 0), "dilation": (1, 2)},
]


@pytest.mark.parametrize("kwargs", LAYERS)
def test_max_pool_layer(device, rng, kwargs):
    layer = nn.MaxPool2d(**kwargs)
    assert list(layer.parameters()) == [] and layer.state_dict() == {}
    x = mg.tensor(rng.standard_normal((2, 3, 7, 8)), device=device)
    out = layer(x)
    args = {key: value for key, value in kwargs.items() if key != "return_indices"}
    expected = F.max_pool2d(x, return_indices=True, **args)
    if kwargs.get("return_indices"):
        np.testing.assert_array_equal(out[0].numpy(), expected[0].numpy())
        np.testing.assert_array_equal(out[1].numpy(), expected[1].numpy())
    else:
        np.testing.assert_array_equal(out.numpy(), expected[0].numpy())
    single = layer(mg.tensor(x.numpy()[1], device=device))  # unbatched (C, H, W)
    np.testing.assert_array_equal((single[0] if kwargs.get("return_indices") else single).numpy(),
                                  expected[0].numpy()[1])


def test_max_pool_layer_repr():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert nn.MaxPool2d((2, 3)).stride == (2, 3)


@pytest.mark.parametrize("kwargs", LAYERS)
def test_max_pool_layer_repr_matches_torch(kwargs):
    assert_repr_matches_torch(pytest.importorskip("torch"), nn.MaxPool2d, kwargs)


# -- PyTorch, where installed ------------------------------------------------------------------------------

@given(case=pool_case(), ties=st.booleans(), dtype=st.sampled_from([np.float64, np.float32]))
def test_max_pool2d_matches_torch(device, case, ties, dtype):
    torch = pytest.importorskip("torch")
    shape, k, stride, pad, dil, ceil_mode, seed = case
    x = inputs(shape, seed, ties).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt, it = torch.nn.functional.max_pool2d(xt, k, stride, pad, dil, ceil_mode, return_indices=True)
    ours = mg.tensor(x, device=device, requires_grad=True)
    y, idx = F.max_pool2d(ours, k, stride, pad, dil, ceil_mode, return_indices=True)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), it.numpy())
    if has_empty_window(shape[2:], k, k if stride is None else stride, pad, dil, ceil_mode):
        return  # PyTorch's indices point past the plane there; its gradient is not meaningful
    # sums of the same terms, perhaps added in another order
    assert_input_grad_matches_torch(torch, ours, xt, y, yt, dtype, device, seed + 1,
                                    rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_special_values_match_torch(device):
    torch = pytest.importorskip("torch")
    x = np.array([[[[1.0, np.nan, np.nan, 2.0, 3.0], [-np.inf, -np.inf, np.nan, 9.0, np.inf]],
                   [[-np.inf] * 5, [0.0, -0.0, 0.0, -0.0, 0.0]]]])
    for kwargs in ({"kernel_size": (1, 4), "stride": 1}, {"kernel_size": 2, "padding": 1},
                   {"kernel_size": (2, 3), "stride": 1, "padding": (1, 1), "dilation": (1, 2), "ceil_mode": True},
                   {"kernel_size": (2, 1), "padding": (1, 0), "dilation": (2, 1)}):
        y, idx = F.max_pool2d(mg.tensor(x, device=device), return_indices=True, **kwargs)
        yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kwargs)
        np.testing.assert_array_equal(y.numpy(), yt.numpy())
        np.testing.assert_array_equal(idx.numpy(), it.numpy())
