"""avg_pool1d/3d, max_pool1d/3d and nn.AvgPool1d/3d, nn.MaxPool1d/3d: values and indices against loops
written from PyTorch's definitions (every run) and against PyTorch itself where it is installed (values,
indices, input gradients; float64 and float32), over hypothesis-drawn shapes, kernels, strides, paddings,
dilations, ceil_mode, count_include_pad and divisor_override; ties, NaN and windows lying in the padding
as PyTorch resolves them; float64 first- and second-order gradient checks; unbatched and empty-batch
inputs; float32 kept; the layers and their reprs; the error messages."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad
from pool_reference import distinct, divisors, has_empty_window, inputs, naive_avg_pool, naive_max_pool, ravel
from torch_compare import assert_input_grad_matches_torch, assert_repr_matches_torch

seeds = st.integers(0, 2 ** 16)
DIMS = [1, 3]
MAX_POOL = {1: F.max_pool1d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 3: F.avg_pool3d}


# -- cases --------------------------------------------------------------------------------------------------

def _per_axis(dims, values):
    return st.tuples(*[values] * dims)


@st.composite
def pool_case(draw, dims, avg=False, tiny=False):
    """(shape, kernel, stride or None, padding, dilation, ceil_mode, seed) with an output of at least one
    element; ``avg``: no dilation, and (3-D) no axis shorter than the kernel, as PyTorch's avg_pool3d
    requires. Arguments are passed as ints where all axes agree half of the time."""
    most = 2 if tiny or dims == 3 else 3
    kernel = draw(_per_axis(dims, st.integers(1, 3)))
    stride = draw(st.one_of(st.none(), st.just(kernel), _per_axis(dims, st.integers(1, 3))))
    padding = draw(st.one_of(st.just((0,) * dims), st.tuples(*[st.integers(0, k // 2) for k in kernel])))
    dilation = (1,) * dims if avg else draw(st.one_of(st.just((1,) * dims), _per_axis(dims, st.integers(1, most))))
    ceil_mode = draw(st.booleans())
    extra = 1 if tiny else (2 if dims == 3 else 5)
    spatial = []
    for k, p, d in zip(kernel, padding, dilation):
        least = k if avg and dims == 3 else max(1, d * (k - 1) + 1 - 2 * p)
        spatial.append(draw(st.integers(least, least + extra)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + tuple(spatial)
    return shape, kernel, stride, padding, dilation, ceil_mode, draw(seeds)


def args(case, ints):
    """The case's (kernel, stride, padding, dilation) as given to the op: an int where all axes agree and
    ``ints``, else the tuples."""
    def given(v):
        return v[0] if ints and v is not None and len(set(v)) == 1 else v
    _, kernel, stride, padding, dilation, _, _ = case
    return given(kernel), given(stride), given(padding), given(dilation)


def full_stride(case):
    return case[1] if case[2] is None else case[2]


# -- values and indices, from the definitions -------------------------------------------------------------

@pytest.mark.parametrize("dims", DIMS)
@given(data=st.data(), ties=st.booleans(), ints=st.booleans())
def test_max_pool_matches_loops(device, dims, data, ties, ints):
    case = data.draw(pool_case(dims))
    shape, kernel, stride, padding, dilation, ceil_mode, seed = case
    x = inputs(shape, seed, ties)
    k, s, p, d = args(case, ints)
    y, idx = MAX_POOL[dims](mg.tensor(x, device=device), k, s, p, d, ceil_mode, return_indices=True)
    expected, expected_idx = naive_max_pool(x, kernel, full_stride(case), padding, dilation, ceil_mode)
    assert y.shape == expected.shape and idx.shape == expected.shape
    assert idx.dtype == np.int64 and idx.device == y.device and not idx.requires_grad
    np.testing.assert_array_equal(y.numpy(), expected)
    np.testing.assert_array_equal(idx.numpy(), expected_idx)
    np.testing.assert_array_equal(MAX_POOL[dims](mg.tensor(x, device=device), k, s, p, d, ceil_mode).numpy(),
                                  expected)


@pytest.mark.parametrize("dims", DIMS)
@given(data=st.data(), count_include_pad=st.booleans(), divisor=divisors, ints=st.booleans())
def test_avg_pool_matches_loops(device, dims, data, count_include_pad, divisor, ints):
    case = data.draw(pool_case(dims, avg=True))
    shape, kernel, stride, padding, _, ceil_mode, seed = case
    x = np.random.default_rng(seed).standard_normal(shape)
    k, s, p, _ = args(case, ints)
    extra = {"divisor_override": divisor} if dims == 3 else {}
    y = AVG_POOL[dims](mg.tensor(x, device=device), k, s, p, ceil_mode, count_include_pad, **extra)
    expected = naive_avg_pool(x, kernel, full_stride(case), padding, ceil_mode, count_include_pad,
                              divisor if dims == 3 else None)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_kernel_of_more_than_256_elements(device, rng):
    # Offsets past 255 no longer fit the byte MaxPool saves per output: it saves int32 then.
    x = rng.integers(-3, 4, (1, 2, 8, 8, 7)).astype(np.float64)
    y, idx = F.max_pool3d(mg.tensor(x, device=device), (7, 7, 6), stride=1, padding=(1, 0, 3), return_indices=True)
    expected, expected_idx = naive_max_pool(x, (7, 7, 6), (1, 1, 1), (1, 0, 3), (1, 1, 1), False)
    np.testing.assert_array_equal(y.numpy(), expected)
    np.testing.assert_array_equal(idx.numpy(), expected_idx)


def test_avg_pool_divisors_by_hand(device):
    # L = 4, k = 3, s = 2, p = 1, ceil_mode: windows [-1, 2), [1, 4), [3, 6) clipped to [3, 5) by the padding.
    x = mg.tensor(np.array([[[1.0, 2.0, 3.0, 4.0]]]), device=device)
    np.testing.assert_allclose(F.avg_pool1d(x, 3, 2, 1, ceil_mode=True).numpy(), [[[3 / 3, 9 / 3, 4 / 2]]])
    np.testing.assert_allclose(F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False).numpy(),
                               [[[3 / 2, 9 / 3, 4 / 1]]])
    cube = mg.ones((1, 1, 2, 2, 2), device=device)
    np.testing.assert_allclose(F.avg_pool3d(cube, 2, padding=1).numpy(), np.full((1, 1, 2, 2, 2), 1 / 8))
    np.testing.assert_allclose(F.avg_pool3d(cube, 2, padding=1, count_include_pad=False).numpy(), 1)
    np.testing.assert_allclose(F.avg_pool3d(cube, 2, divisor_override=-2).numpy(), [[[[[-4.0]]]]])


@pytest.mark.parametrize("dims", DIMS)
def test_ties_and_empty_windows(device, dims):
    # Constant input: every window's maximum is its first element; the gradient goes there only.
    shape = (1, 1) + (4,) * dims
    x = mg.full(shape, 3.0, device=device, requires_grad=True, dtype=np.float64)
    y, idx = MAX_POOL[dims](x, 2, stride=1, return_indices=True)
    grid = np.arange(4 ** dims).reshape((4,) * dims)[(slice(0, 3),) * dims]
    np.testing.assert_array_equal(idx.numpy()[0, 0], grid)
    (gx,) = mg.grad(y.sum(), [x])
    expected = np.zeros((4,) * dims)
    expected[(slice(0, 3),) * dims] = 1
    np.testing.assert_array_equal(gx.numpy()[0, 0], expected)
    # A window wholly in the padding (dilation 3 steps from -1 over a length-2 axis to 2): -inf,
    # PyTorch's index past the edge, and no gradient through it.
    shape, out = (1, 1) + (2,) * dims, (1, 1) + (1,) * dims
    x = mg.tensor(np.full(shape, 5.0), device=device, requires_grad=True)
    y, idx = MAX_POOL[dims](x, 2, padding=1, dilation=3, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), np.full(out, -np.inf))
    np.testing.assert_array_equal(idx.numpy(), np.full(out, ravel((2,) * dims, (2,) * dims)))
    (gx,) = mg.grad(y, [x], mg.ones(out, dtype=np.float64, device=device), create_graph=True)
    np.testing.assert_array_equal(gx.numpy(), np.zeros(shape))


def test_max_pool1d_is_max_pool2d_of_a_row(device, rng):
    # The design claim: one spatial axis is a plane of height one, indices included.
    x = rng.integers(-2, 3, (2, 3, 11)).astype(np.float64)
    for k, s, p, d, ceil_mode in [(3, 3, 0, 1, False), (3, 2, 1, 2, True), (4, 1, 2, 3, False)]:
        y, idx = F.max_pool1d(mg.tensor(x, device=device), k, s, p, d, ceil_mode, return_indices=True)
        y2, idx2 = F.max_pool2d(mg.tensor(x[:, :, None], device=device), (1, k), (1, s), (0, p), (1, d), ceil_mode,
                                return_indices=True)
        np.testing.assert_array_equal(y.numpy(), y2.numpy()[:, :, 0])
        np.testing.assert_array_equal(idx.numpy(), idx2.numpy()[:, :, 0])


def test_non_contiguous_input(device, rng):
    # Channels-last memory seen as (N, C, D, H, W): pooling reads any layout.
    ndhwc = rng.standard_normal((2, 4, 5, 6, 3))
    x = F.transpose(mg.tensor(ndhwc, device=device), (0, 4, 1, 2, 3))
    y, idx = F.max_pool3d(x, 3, 2, 1, return_indices=True)
    expected, expected_idx = naive_max_pool(ndhwc.transpose(0, 4, 1, 2, 3), (3,) * 3, (2,) * 3, (1,) * 3, (1,) * 3,
                                            False)
    np.testing.assert_array_equal(y.numpy(), expected)
    np.testing.assert_array_equal(idx.numpy(), expected_idx)
    expected = naive_avg_pool(ndhwc.transpose(0, 4, 1, 2, 3), (2,) * 3, (1,) * 3, (1,) * 3, False, True)
    np.testing.assert_allclose(F.avg_pool3d(x, 2, 1, 1).numpy(), expected, rtol=1e-12, atol=1e-12)


# -- gradients --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dims", DIMS)
@settings(max_examples=10)
@given(data=st.data())
def test_max_pool_gradients(device, dims, data):
    case = data.draw(pool_case(dims, tiny=True))
    shape, kernel, stride, padding, dilation, ceil_mode, seed = case
    assume(not has_empty_window(shape[2:], kernel, full_stride(case), padding, dilation, ceil_mode))
    fn = lambda t: MAX_POOL[dims](t, kernel, stride, padding, dilation, ceil_mode)  # noqa: E731
    x = distinct(shape, seed)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("dims", DIMS)
@settings(max_examples=10)
@given(data=st.data(), count_include_pad=st.booleans(), divisor=divisors)
def test_avg_pool_gradients(device, dims, data, count_include_pad, divisor):
    shape, kernel, stride, padding, _, ceil_mode, seed = data.draw(pool_case(dims, avg=True, tiny=True))
    extra = {"divisor_override": divisor} if dims == 3 else {}
    fn = lambda t: AVG_POOL[dims](t, kernel, stride, padding, ceil_mode, count_include_pad, **extra)  # noqa: E731
    x = np.random.default_rng(seed).standard_normal(shape)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("pool, kwargs", [
    (F.max_pool3d, {"kernel_size": 2}),  # disjoint windows tiling x: the scatter assigns
    (F.max_pool3d, {"kernel_size": 3, "stride": 1, "padding": 1}),  # overlapping windows: strided adds
    (F.max_pool1d, {"kernel_size": 3, "stride": 2, "dilation": 2, "ceil_mode": True}),
    (F.avg_pool3d, {"kernel_size": 2}),  # tiling: the reshape path
    (F.avg_pool3d, {"kernel_size": (2, 3, 2), "stride": 1, "padding": 1, "count_include_pad": False}),
    (F.avg_pool1d, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
])
def test_gradient_penalty_through_pooling(device, pool, kwargs):
    # WGAN-GP differentiates a gradient norm through D: d/dx |d<pool(x)^2, 1>/dx|^2 (float64, numerically).
    def penalty(t):
        (g,) = mg.grad((pool(t, **kwargs) ** 2).sum(), [t], create_graph=True)
        return (g ** 2).sum()

    shape = (1, 2, 7) if pool in (F.max_pool1d, F.avg_pool1d) else (1, 2, 3, 4, 3)
    x = distinct(shape, 3)
    check_grad(lambda t: pool(t, **kwargs), [x], device)
    check_grad(penalty, [x], device)


@pytest.mark.parametrize("pool, kwargs", [
    (F.max_pool1d, {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True}),
    (F.max_pool3d, {"kernel_size": 2, "padding": 1}),
    (F.avg_pool1d, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    (F.avg_pool3d, {"kernel_size": 3, "stride": 2, "padding": 1, "divisor_override": 5}),
    (F.avg_pool3d, {"kernel_size": 2}),
])
def test_float32_is_kept(device, rng, pool, kwargs):
    shape = (2, 3, 9) if pool in (F.max_pool1d, F.avg_pool1d) else (2, 3, 5, 6, 4)
    x = mg.tensor(rng.standard_normal(shape).astype(np.float32), device=device, requires_grad=True)
    out = pool(x, **kwargs, **({"return_indices": True} if pool in (F.max_pool1d, F.max_pool3d) else {}))
    y = out[0] if isinstance(out, tuple) else out
    if isinstance(out, tuple):
        assert out[1].dtype == np.int64
    (gx,) = mg.grad((y * y).sum(), [x], create_graph=True)
    (ggx,) = mg.grad((gx * gx).sum(), [x])
    assert y.dtype == gx.dtype == ggx.dtype == np.float32


# -- unbatched and empty-batch input ------------------------------------------------------------------------

@pytest.mark.parametrize("dims", DIMS)
def test_unbatched_input(device, rng, dims):
    shape = (2,) + ((9,) if dims == 1 else (4, 5, 3))
    data = rng.standard_normal(shape)
    batch = mg.tensor(data[None], device=device)
    for kwargs in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}):
        x = mg.tensor(data, device=device, requires_grad=True)
        y, idx = MAX_POOL[dims](x, return_indices=True, **kwargs)
        yb, idxb = MAX_POOL[dims](batch, return_indices=True, **kwargs)
        assert y.shape == yb.shape[1:] and idx.shape == idxb.shape[1:]
        np.testing.assert_array_equal(y.numpy(), yb.numpy()[0])
        np.testing.assert_array_equal(idx.numpy(), idxb.numpy()[0])
        np.testing.assert_array_equal(MAX_POOL[dims](x, **kwargs).numpy(), y.numpy())
        a = AVG_POOL[dims](x, count_include_pad=False, **kwargs)
        np.testing.assert_array_equal(a.numpy(), AVG_POOL[dims](batch, count_include_pad=False, **kwargs).numpy()[0])
        (gx,) = mg.grad(y.sum() + a.sum(), [x])
        assert gx.shape == shape
    check_grad(lambda t: MAX_POOL[dims](t, 3, 2, 1), [distinct(shape, 0)], device)
    check_grad(lambda t: AVG_POOL[dims](t, 3, 2, 1, True), [distinct(shape, 1)], device)


@pytest.mark.parametrize("dims", DIMS)
def test_empty_batch(device, dims):
    # As PyTorch: the batch axis (alone) may be empty.
    x = mg.zeros((0, 2) + (5,) * dims, device=device)
    y, idx = MAX_POOL[dims](x, 2, return_indices=True)
    assert y.shape == idx.shape == (0, 2) + (2,) * dims
    assert AVG_POOL[dims](x, 2, padding=1).shape == (0, 2) + (3,) * dims


# -- PyTorch, where installed ------------------------------------------------------------------------------

@pytest.mark.parametrize("dims", DIMS)
@given(data=st.data(), ties=st.booleans(), dtype=st.sampled_from([np.float64, np.float32]))
def test_max_pool_matches_torch(device, dims, data, ties, dtype):
    torch = pytest.importorskip("torch")
    case = data.draw(pool_case(dims))
    shape, kernel, stride, padding, dilation, ceil_mode, seed = case
    torch_pool = getattr(torch.nn.functional, f"max_pool{dims}d")
    x = inputs(shape, seed, ties).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt, it = torch_pool(xt, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
    ours = mg.tensor(x, device=device, requires_grad=True)
    y, idx = MAX_POOL[dims](ours, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), it.numpy())
    if has_empty_window(shape[2:], kernel, full_stride(case), padding, dilation, ceil_mode):
        return  # PyTorch's indices point past the input there; its gradient is not meaningful
    # sums of the same terms, perhaps added in another order
    assert_input_grad_matches_torch(torch, ours, xt, y, yt, dtype, device, seed + 1,
                                    rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-6)


@pytest.mark.parametrize("dims", DIMS)
@given(data=st.data(), count_include_pad=st.booleans(), divisor=divisors,
       dtype=st.sampled_from([np.float64, np.float32]))
def test_avg_pool_matches_torch(device, dims, data, count_include_pad, divisor, dtype):
    torch = pytest.importorskip("torch")
    shape, kernel, stride, padding, _, ceil_mode, seed = data.draw(pool_case(dims, avg=True))
    extra = {"divisor_override": divisor} if dims == 3 else {}
    torch_pool = getattr(torch.nn.functional, f"avg_pool{dims}d")
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch_pool(xt, kernel, stride, padding, ceil_mode, count_include_pad, **extra)
    ours = mg.tensor(x, device=device, requires_grad=True)
    y = AVG_POOL[dims](ours, kernel, stride, padding, ceil_mode, count_include_pad, **extra)
    assert y.dtype == dtype and y.shape == tuple(yt.shape)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    assert_input_grad_matches_torch(torch, ours, xt, y, yt, dtype, device, seed + 1, **tol)


def test_special_values_match_torch(device):
    torch = pytest.importorskip("torch")
    row = [1.0, np.nan, np.nan, 2.0, 3.0, -np.inf, -np.inf, 9.0, np.inf, 0.0, -0.0, 0.0]
    x1 = np.array([[row, [-np.inf] * 12]])
    x3 = np.array(row * 4 + [-np.inf] * 12).reshape(1, 1, 3, 4, 5)
    cases = [(x1, 1, {"kernel_size": 4, "stride": 1}), (x1, 1, {"kernel_size": 2, "padding": 1}),
             (x1, 1, {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True}),
             (x3, 3, {"kernel_size": 2, "padding": 1}), (x3, 3, {"kernel_size": (2, 3, 2), "stride": 1}),
             (x3, 3, {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": (1, 2, 2), "ceil_mode": True})]
    for x, dims, kwargs in cases:
        y, idx = MAX_POOL[dims](mg.tensor(x, device=device), return_indices=True, **kwargs)
        yt, it = getattr(torch.nn.functional, f"max_pool{dims}d")(torch.tensor(x), return_indices=True, **kwargs)
        np.testing.assert_array_equal(y.numpy(), yt.numpy())
        np.testing.assert_array_equal(idx.numpy(), it.numpy())
        kwargs = {key: v for key, v in kwargs.items() if key != "dilation"}
        with np.errstate(invalid="ignore"):  # inf + -inf in a window: NaN is the answer, as PyTorch's
            a = AVG_POOL[dims](mg.tensor(x, device=device), **kwargs)
        at = getattr(torch.nn.functional, f"avg_pool{dims}d")(torch.tensor(x), **kwargs)
        np.testing.assert_array_equal(a.numpy(), at.numpy())  # NaN and inf where PyTorch has them


# -- errors -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: F.max_pool1d(mg.ones((5,)), 2), ValueError,
     r"max_pool1d: input must be 2-D \(C, L\) or 3-D \(N, C, L\), got shape \(5,\)"),
    (lambda: F.avg_pool1d(mg.ones((1, 1, 2, 5)), 2), ValueError,
     r"avg_pool1d: input must be 2-D \(C, L\) or 3-D \(N, C, L\), got shape \(1, 1, 2, 5\)"),
    (lambda: F.max_pool3d(mg.ones((2, 5, 5)), 2), ValueError,
     r"max_pool3d: input must be 4-D \(C, D, H, W\) or 5-D \(N, C, D, H, W\), got shape \(2, 5, 5\)"),
    (lambda: F.avg_pool3d(mg.ones((1, 1, 1, 2, 2, 2)), 2), ValueError,
     r"avg_pool3d: input must be 4-D \(C, D, H, W\) or 5-D \(N, C, D, H, W\), got shape \(1, 1, 1, 2, 2, 2\)"),
    (lambda: F.max_pool1d(mg.ones((1, 2, 5)), 6), ValueError,
     r"max_pool1d: output size would be 0 for input of shape \(1, 2, 5\) with kernel_size \(6,\), stride \(6,\), "
     r"padding \(0,\), dilation \(1,\): the input is smaller than the \(dilated\) kernel"),
    (lambda: F.max_pool3d(mg.ones((1, 1, 4, 4, 4)), 3, dilation=(1, 1, 2)), ValueError,
     r"max_pool3d: output size would be 1x1x0 for input of shape \(1, 1, 4, 4, 4\)"),
    (lambda: F.avg_pool1d(mg.ones((2, 3)), 6, padding=1), ValueError,
     r"avg_pool1d: output size would be 0 for input of shape \(2, 3\) with kernel_size \(6,\), stride \(6,\), "
     r"padding \(1,\): the input is smaller than the kernel"),
    (lambda: F.avg_pool3d(mg.ones((1, 1, 2, 3, 3)), 3, padding=1), ValueError,
     r"avg_pool3d: input of shape \(1, 1, 2, 3, 3\) is smaller than the kernel \(3, 3, 3\) \(without the padding "
     r"\(1, 1, 1\), which PyTorch's avg_pool3d does not count here\)"),
    (lambda: F.max_pool1d(mg.ones((1, 2, 5)), 3, padding=2), ValueError,
     r"max_pool1d: padding \(2,\) must be at most half the kernel size \(3,\) for input of shape \(1, 2, 5\)"),
    (lambda: F.avg_pool3d(mg.ones((1, 1, 5, 5, 5)), (2, 4, 2), padding=(1, 3, 0)), ValueError,
     r"avg_pool3d: padding \(1, 3, 0\) must be at most half the kernel size \(2, 4, 2\)"),
    (lambda: F.max_pool3d(mg.ones((1, 1, 5, 5, 5)), 0), ValueError,
     r"max_pool3d: kernel_size must be at least 1, got 0"),
    (lambda: F.avg_pool1d(mg.ones((1, 1, 5)), 2, stride=0), ValueError, r"avg_pool1d: stride must be at least 1"),
    (lambda: F.avg_pool3d(mg.ones((1, 1, 5, 5, 5)), 2, padding=(0, -1, 0)), ValueError,
     r"avg_pool3d: padding must be at least 0, got \(0, -1, 0\)"),
    (lambda: F.max_pool1d(mg.ones((1, 1, 5)), 2, dilation=0), ValueError, r"max_pool1d: dilation must be at least 1"),
    (lambda: F.avg_pool1d(mg.ones((1, 1, 5)), (2, 2)), TypeError,
     r"avg_pool1d: kernel_size must be an int or a 1-tuple of ints, got \(2, 2\)"),
    (lambda: F.max_pool3d(mg.ones((1, 1, 5, 5, 5)), (2, 2)), TypeError,
     r"max_pool3d: kernel_size must be an int or a triple of ints, got \(2, 2\) for input of shape"),
    (lambda: F.max_pool3d(mg.ones((1, 1, 5, 5, 5)), 2.0), TypeError, r"max_pool3d: kernel_size must be an int"),
    (lambda: F.max_pool1d(mg.tensor(np.ones((1, 2, 5), dtype=np.int64)), 2), TypeError,
     r"max_pool1d: input must be floating point, got dtype int64 \(shape \(1, 2, 5\)\)"),
    (lambda: F.avg_pool3d(mg.zeros((2, 0, 3, 3, 3)), 1), ValueError,
     r"avg_pool3d: input of shape \(2, 0, 3, 3, 3\) is empty along axis 1; only the batch axis may be empty"),
    (lambda: F.max_pool1d(mg.zeros((0, 5)), 1), ValueError,
     r"max_pool1d: input of shape \(0, 5\) is empty along axis 0; an unbatched input may not be empty"),
    (lambda: F.avg_pool3d(mg.ones((1, 1, 2, 2, 2)), 2, divisor_override=0), ValueError,
     r"avg_pool3d: divisor_override must be None or a non-zero int, got 0"),
    (lambda: F.avg_pool3d(mg.ones((1, 1, 2, 2, 2)), 2, divisor_override=2.5), ValueError,
     r"avg_pool3d: divisor_override must be None or a non-zero int, got 2.5"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("layer, kwargs, error, message", [
    (nn.AvgPool1d, {"kernel_size": 3, "padding": 2}, ValueError,
     r"AvgPool1d: padding 2 must be at most half the kernel size 3"),
    (nn.AvgPool3d, {"kernel_size": (2, 2)}, TypeError, r"AvgPool3d: kernel_size must be an int or a triple of ints"),
    (nn.AvgPool3d, {"kernel_size": 2, "divisor_override": 0}, ValueError,
     r"AvgPool3d: divisor_override must be None or a non-zero int, got 0"),
    (nn.MaxPool1d, {"kernel_size": 0}, ValueError, r"MaxPool1d: kernel_size must be at least 1"),
    (nn.MaxPool3d, {"kernel_size": 2, "stride": (1, 0, 1)}, ValueError, r"MaxPool3d: stride must be at least 1"),
    (nn.MaxPool3d, {"kernel_size": 2, "dilation": 1.5}, TypeError, r"MaxPool3d: dilation must be an int or a triple"),
])
def test_layer_bad_arguments(layer, kwargs, error, message):
    with pytest.raises(error, match=message):
        layer(**kwargs)


# -- the layers ---------------------------------------------------------------------------------------------

LAYERS = [
    (nn.MaxPool1d, {"kernel_size": 2}),
    (nn.MaxPool1d, {"kernel_size": (3,), "stride": 2, "padding": 1, "dilation": 2, "return_indices": True,
                    "ceil_mode": True}),
    (nn.MaxPool3d, {"kernel_size": 2}),
    (nn.MaxPool3d, {"kernel_size": (2, 3, 2), "stride": 1, "padding": (1, 1, 0), "dilation": (1, 2, 1),
                    "return_indices": True, "ceil_mode": True}),
    (nn.AvgPool1d, {"kernel_size": 2}),
    (nn.AvgPool1d, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    (nn.AvgPool3d, {"kernel_size": 2}),
    (nn.AvgPool3d, {"kernel_size": (2, 3, 2), "stride": (1, 2, 1), "padding": 1, "ceil_mode": True,
                    "count_include_pad": False, "divisor_override": 3}),
]


@pytest.mark.parametrize("layer, kwargs", LAYERS)
def test_layers(device, rng, layer, kwargs):
    module = layer(**kwargs)
    assert list(module.parameters()) == [] and module.state_dict() == {}
    dims = 1 if layer in (nn.MaxPool1d, nn.AvgPool1d) else 3
    x = mg.tensor(rng.standard_normal((2, 3) + ((9,) if dims == 1 else (4, 6, 5))), device=device)
    out = module(x)
    if layer in (nn.MaxPool1d, nn.MaxPool3d):
        expected = MAX_POOL[dims](x, **kwargs)
    else:
        expected = AVG_POOL[dims](x, **kwargs)
    for got, want in zip(out if isinstance(out, tuple) else [out], expected if isinstance(out, tuple) else [expected]):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    single = module(mg.tensor(x.numpy()[1], device=device))  # unbatched
    first = single[0] if isinstance(single, tuple) else single
    np.testing.assert_array_equal(first.numpy(), (out[0] if isinstance(out, tuple) else out).numpy()[1])


def test_layer_reprs():
    assert repr(nn.MaxPool1d(2)) == "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.MaxPool3d((2, 1, 2), padding=(1, 0, 1))) == \
        "MaxPool3d(kernel_size=(2, 1, 2), stride=(2, 1, 2), padding=(1, 0, 1), dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool1d(2)) == "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"
    assert repr(nn.AvgPool3d(2, 1, 1, divisor_override=2)) == "AvgPool3d(kernel_size=2, stride=1, padding=1)"
    assert nn.AvgPool1d([3], None, [1]).stride == (3,) and nn.AvgPool3d((2, 3, 2)).stride == (2, 3, 2)
    layer = nn.AvgPool3d(2, ceil_mode=True, count_include_pad=False, divisor_override=4)
    assert (layer.ceil_mode, layer.count_include_pad, layer.divisor_override) == (True, False, 4)


@pytest.mark.parametrize("layer, kwargs", LAYERS)
def test_layer_reprs_match_torch(layer, kwargs):
    assert_repr_matches_torch(pytest.importorskip("torch"), layer, kwargs)
