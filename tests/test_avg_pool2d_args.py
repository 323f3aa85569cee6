"""avg_pool2d and nn.AvgPool2d with PyTorch's whole argument set (ceil_mode, count_include_pad,
divisor_override): values against a loop written from PyTorch's kernel (every run) and against PyTorch
itself where it is installed (values and input gradients, float64 and float32, batched and unbatched),
over hypothesis-drawn shapes, kernels, strides and paddings, sizes that only ceil_mode makes poolable
included; float64 first- and second-order gradient checks; which path computes what; the layer and its
repr; the errors. Then the rule on empty axes, shared by max_pool1d/2d/3d and avg_pool1d/2d/3d and
checked against PyTorch: only the batch axis may be empty."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad
from pool_reference import divisors, full_stride, naive_avg_pool
from torch_compare import assert_input_grad_matches_torch, assert_repr_matches_torch

seeds = st.integers(0, 2 ** 16)


@st.composite
def cases(draw, tiny=False):
    """(shape, kernel, stride or None, padding, ceil_mode, count_include_pad, divisor_override, seed), with
    an output of at least one element: in ceil_mode an axis may be shorter than the padded kernel by up to
    stride - 1, which only ceil_mode accepts (its one window overhangs the padding)."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.one_of(st.none(), st.just(kernel), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = draw(st.one_of(st.just((0, 0)), st.tuples(*[st.integers(0, k // 2) for k in kernel])))
    ceil_mode = draw(st.booleans())
    spatial = []
    for k, s, p in zip(kernel, kernel if stride is None else stride, padding):
        least = max(1, k - 2 * p - (s - 1 if ceil_mode else 0))
        spatial.append(draw(st.integers(least, least + (2 if tiny else 5))))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2 if tiny else 3))) + tuple(spatial)
    return (shape, kernel, stride, padding, ceil_mode, draw(st.booleans()), draw(divisors), draw(seeds))


# -- values -------------------------------------------------------------------------------------------------

@given(case=cases())
def test_matches_loops(device, case):
    shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor, seed = case
    x = np.random.default_rng(seed).standard_normal(shape)
    y = F.avg_pool2d(mg.tensor(x, device=device), kernel, stride, padding, ceil_mode, count_include_pad, divisor)
    expected = naive_avg_pool(x, kernel, full_stride(kernel, stride), padding, ceil_mode, count_include_pad,
                              divisor)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_divisors_by_hand(device):
    # 4 x 4 of ones, k = 3, s = 2, p = 1, ceil_mode: row (and column) windows [-1, 2), [1, 4), [3, 6) clipped
    # by the padding to [3, 5), holding 2, 3 and 1 input rows and 3, 3 and 2 padded ones.
    x = mg.ones((1, 1, 4, 4), dtype=np.float64, device=device)
    inside, padded = np.array([2, 3, 1]), np.array([3, 3, 2])
    y = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True)
    np.testing.assert_allclose(y.numpy()[0, 0], np.outer(inside, inside) / np.outer(padded, padded))
    y = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(y.numpy()[0, 0], np.ones((3, 3)))
    y = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, divisor_override=-2)
    np.testing.assert_allclose(y.numpy()[0, 0], np.outer(inside, inside) / -2)
    # 2 x 2 with a 3 x 3 kernel: too small in floor mode; ceil_mode takes one window overhanging the input.
    x = mg.tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), device=device)
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 2, ceil_mode=True).numpy(), [[[[10 / 4]]]])
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 2, ceil_mode=True, divisor_override=5).numpy(), [[[[2.0]]]])


def test_paths(device, rng):
    # Where every window divides by kh kw the old path (reshape and mean, or a convolution) computes the
    # result, bit for bit what the defaults give; other divisors go through WindowSum.
    x = mg.tensor(rng.standard_normal((2, 3, 7, 9)), device=device)
    default = F.avg_pool2d(x, 3, 2, 1).numpy()
    np.testing.assert_array_equal(F.avg_pool2d(x, 3, 2, 1, ceil_mode=True).numpy(), default)  # no extra window
    np.testing.assert_array_equal(F.avg_pool2d(x, 2, count_include_pad=False).numpy(), F.avg_pool2d(x, 2).numpy())
    np.testing.assert_array_equal(F.avg_pool2d(x, (3, 2), 1, count_include_pad=False).numpy(),
                                  F.avg_pool2d(x, (3, 2), 1).numpy())
    # The same mean through the other path: an override of kh kw equals the default up to rounding.
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 2, 1, divisor_override=9).numpy(), default, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(F.avg_pool2d(x, 2, divisor_override=4).numpy(), F.avg_pool2d(x, 2).numpy(),
                               rtol=1e-13, atol=1e-15)


def test_unbatched_and_empty_batch(device, rng):
    data = rng.standard_normal((3, 6, 5))
    kwargs = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}
    x = mg.tensor(data, device=device, requires_grad=True)
    y = F.avg_pool2d(x, **kwargs)
    np.testing.assert_array_equal(y.numpy(), F.avg_pool2d(mg.tensor(data[None], device=device), **kwargs).numpy()[0])
    (gx,) = mg.grad(y.sum(), [x])
    assert y.shape == (3, 4, 3) and gx.shape == (3, 6, 5)
    check_grad(lambda t: F.avg_pool2d(t, 2, 1, 1, True, False, None), [data[:2, :4, :3]], device)
    # The batch axis alone may be empty, in every path.
    for extra in ({}, {"stride": 1, "padding": 1}, {"ceil_mode": True, "count_include_pad": False, "padding": 1},
                  {"divisor_override": 3}):
        e = mg.zeros((0, 2, 5, 4), device=device, requires_grad=True)
        y = F.avg_pool2d(e, 2, **extra)
        assert y.shape[:2] == (0, 2)
        (ge,) = mg.grad(y.sum(), [e])
        assert ge.shape == (0, 2, 5, 4)


@pytest.mark.parametrize("kwargs", [
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": (3, 2), "stride": 1, "padding": (1, 0), "count_include_pad": False},
    {"kernel_size": 2, "divisor_override": 3},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False,
     "divisor_override": -2},
])
def test_float32_is_kept(device, rng, kwargs):
    x = mg.tensor(rng.standard_normal((2, 3, 6, 7)).astype(np.float32), device=device, requires_grad=True)
    y = F.avg_pool2d(x, **kwargs)
    (gx,) = mg.grad((y * y).sum(), [x], create_graph=True)
    (ggx,) = mg.grad((gx * gx).sum(), [x])
    assert y.dtype == gx.dtype == ggx.dtype == np.float32


# -- gradients -----------------------------------------------------------------------------------------------

@settings(max_examples=10)
@given(case=cases(tiny=True))
def test_gradients(device, case):
    shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor, seed = case
    fn = lambda t: F.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad, divisor)  # noqa: E731
    x = np.random.default_rng(seed).standard_normal(shape)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("kwargs", [
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},  # an overhanging last window
    {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False},  # overlapping windows
    {"kernel_size": (2, 3), "stride": (3, 2), "padding": (1, 0), "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": 2, "divisor_override": -3},  # tiling windows: the reshape path with an override
    {"kernel_size": 2, "stride": 1, "padding": 1, "divisor_override": 7},
])
def test_gradient_checks(device, kwargs):
    x = np.random.default_rng(5).standard_normal((2, 2, 5, 4))
    fn = lambda t: F.avg_pool2d(t, **kwargs)  # noqa: E731
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)

    # WGAN-GP differentiates a gradient norm through D: d/dx |d<pool(x)^2, 1>/dx|^2.
    def penalty(t):
        (g,) = mg.grad((F.avg_pool2d(t, **kwargs) ** 2).sum(), [t], create_graph=True)
        return (g ** 2).sum()

    check_grad(penalty, [x], device)


# -- PyTorch, where installed -----------------------------------------------------------------------------------

@given(case=cases(), dtype=st.sampled_from([np.float64, np.float32]), unbatched=st.booleans())
def test_matches_torch(device, case, dtype, unbatched):
    torch = pytest.importorskip("torch")
    shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor, seed = case
    if unbatched:
        shape = shape[1:]
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.avg_pool2d(xt, kernel, stride, padding, ceil_mode, count_include_pad, divisor)
    ours = mg.tensor(x, device=device, requires_grad=True)
    y = F.avg_pool2d(ours, kernel, stride, padding, ceil_mode, count_include_pad, divisor)
    assert y.dtype == dtype and y.shape == tuple(yt.shape)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    assert_input_grad_matches_torch(torch, ours, xt, y, yt, dtype, device, seed + 1, **tol)


@given(case=cases())
def test_layer_matches_torch(case):
    torch = pytest.importorskip("torch")
    shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor, seed = case
    kwargs = {"kernel_size": kernel, "stride": stride, "padding": padding, "ceil_mode": ceil_mode,
              "count_include_pad": count_include_pad, "divisor_override": divisor}
    x = np.random.default_rng(seed).standard_normal(shape)
    ours, theirs = nn.AvgPool2d(**kwargs), torch.nn.AvgPool2d(**kwargs)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-12)


def test_special_values_match_torch(device):
    torch = pytest.importorskip("torch")
    row = [1.0, np.nan, 2.0, 3.0, -np.inf, 9.0, np.inf, 0.0, -0.0]
    x = np.array(row * 4 + [-np.inf] * 9).reshape(1, 1, 5, 9)
    for kwargs in ({"kernel_size": 2, "ceil_mode": True}, {"kernel_size": 3, "stride": 2, "padding": 1,
                                                           "count_include_pad": False, "ceil_mode": True},
                   {"kernel_size": (2, 3), "divisor_override": -1}):
        with np.errstate(invalid="ignore"):  # inf + -inf in a window: NaN is the answer, as PyTorch's
            y = F.avg_pool2d(mg.tensor(x, device=device), **kwargs)
        np.testing.assert_array_equal(y.numpy(), torch.nn.functional.avg_pool2d(torch.tensor(x), **kwargs).numpy())


# -- the layer -------------------------------------------------------------------------------------------------

def test_layer(device, rng):
    layer = nn.AvgPool2d((3, 2), stride=(2, 1), padding=1, ceil_mode=True, count_include_pad=False,
                         divisor_override=5)
    assert list(layer.parameters()) == [] and layer.state_dict() == {}
    assert (layer.kernel_size, layer.stride, layer.padding) == ((3, 2), (2, 1), 1)
    assert (layer.ceil_mode, layer.count_include_pad, layer.divisor_override) == (True, False, 5)
    x = mg.tensor(rng.standard_normal((2, 3, 6, 5)), device=device)
    expected = F.avg_pool2d(x, (3, 2), (2, 1), 1, True, False, 5)
    np.testing.assert_array_equal(layer(x).numpy(), expected.numpy())
    np.testing.assert_array_equal(layer(mg.tensor(x.numpy()[1], device=device)).numpy(), expected.numpy()[1])


def test_layer_repr():
    # PyTorch's AvgPool2d shows kernel_size, stride and padding only, as given.
    assert repr(nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False, divisor_override=4)) == \
        "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    assert repr(nn.AvgPool2d((3, 2), ceil_mode=True)) == "AvgPool2d(kernel_size=(3, 2), stride=(3, 2), padding=0)"


@pytest.mark.parametrize("kwargs", [
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False,
     "divisor_override": 4},
    {"kernel_size": (3, 2), "ceil_mode": True},
    {"kernel_size": 2, "stride": (1, 2), "padding": (1, 0), "count_include_pad": False},
    {"kernel_size": 2, "divisor_override": -3},
])
def test_layer_repr_matches_torch(kwargs):
    assert_repr_matches_torch(pytest.importorskip("torch"), nn.AvgPool2d, kwargs)


# -- errors -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: F.avg_pool2d(mg.ones((1, 2, 5, 5)), 2, divisor_override=0), ValueError,
     r"avg_pool2d: divisor_override must be None or a non-zero int, got 0"),
    (lambda: F.avg_pool2d(mg.ones((1, 2, 5, 5)), 2, divisor_override=2.5), ValueError,
     r"avg_pool2d: divisor_override must be None or a non-zero int, got 2.5"),
    (lambda: F.avg_pool2d(mg.ones((1, 2, 5, 5)), 2, divisor_override=True), ValueError,
     r"avg_pool2d: divisor_override must be None or a non-zero int, got True"),
    (lambda: F.avg_pool2d(mg.ones((1, 2, 5, 5)), (3, 2), padding=(2, 1), ceil_mode=True), ValueError,
     r"avg_pool2d: padding \(2, 1\) must be at most half the kernel size \(3, 2\) for input of shape \(1, 2, 5, 5\)"),
    (lambda: F.avg_pool2d(mg.ones((2, 5, 5)), 3, padding=2, count_include_pad=False), ValueError,
     r"avg_pool2d: padding \(2, 2\) must be at most half the kernel size \(3, 3\) for input of shape \(2, 5, 5\)"),
    # ceil_mode rounds up, but 2 rows with stride 1 cannot hold a 4-row window (PyTorch's size -1 too).
    (lambda: F.avg_pool2d(mg.ones((1, 1, 2, 6)), 4, 1, ceil_mode=True), ValueError,
     r"avg_pool2d: input of shape \(1, 1, 2, 6\) is smaller than the kernel \(4, 4\) \(padding \(0, 0\), "
     r"stride \(1, 1\)\): the output size would be -1x3"),
    (lambda: F.avg_pool2d(mg.ones((5, 5)), 2, divisor_override=2), ValueError,
     r"avg_pool2d: input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(5, 5\)"),
    (lambda: F.avg_pool2d(mg.tensor(np.ones((1, 2, 5, 5), dtype=np.int64)), 2, ceil_mode=True), TypeError,
     r"avg_pool2d: input must be floating point, got dtype int64 \(shape \(1, 2, 5, 5\)\)"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("kwargs, error, message", [
    ({"kernel_size": 2, "divisor_override": 0}, ValueError,
     r"AvgPool2d: divisor_override must be None or a non-zero int, got 0"),
    ({"kernel_size": 2, "divisor_override": 1.5}, ValueError,
     r"AvgPool2d: divisor_override must be None or a non-zero int, got 1.5"),
    ({"kernel_size": 3, "padding": 2, "ceil_mode": True}, ValueError,
     r"AvgPool2d: padding 2 must be at most half the kernel size 3"),
    ({"kernel_size": (2, 2, 2), "count_include_pad": False}, TypeError,
     r"AvgPool2d: kernel_size must be an int or a pair of ints"),
])
def test_layer_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        nn.AvgPool2d(**kwargs)


# -- empty axes, every pooling ------------------------------------------------------------------------------------

POOLS = [(F.max_pool1d, 1), (F.max_pool2d, 2), (F.max_pool3d, 3), (F.avg_pool1d, 1), (F.avg_pool2d, 2),
         (F.avg_pool3d, 3)]


def empty_shapes(dims):
    """(shape, the axis named in the error or None where PyTorch accepts the input)."""
    spatial = (4,) * dims
    return [((0, 2) + spatial, None),  # an empty batch: the one empty axis PyTorch takes
            ((2, 0) + spatial, 1), ((0, 0) + spatial, 1),  # no channels, with or without a batch
            ((0,) + spatial, 0),  # an unbatched input without channels
            ((2, 2, 0) + spatial[1:], 2), ((0, 2) + spatial[:-1] + (0,), 1 + dims),  # a spatial axis of 0
            ((2, 0) + spatial[1:], 1)]  # unbatched, a spatial axis of 0


@pytest.mark.parametrize("pool, dims", POOLS)
def test_only_the_batch_axis_may_be_empty(device, pool, dims):
    name = pool.__name__
    for shape, axis in empty_shapes(dims):
        x = mg.zeros(shape, device=device, requires_grad=True)
        if axis is None:
            y = pool(x, 2)
            assert y.shape == (0, 2) + (2,) * dims
            (gx,) = mg.grad(y.sum(), [x])
            assert gx.shape == shape
            continue
        rule = "only the batch axis may be empty" if len(shape) == dims + 2 else "an unbatched input may not be empty"
        message = rf"{name}: input of shape {re_shape(shape)} is empty along axis {axis}; {rule}"
        with pytest.raises(ValueError, match=message):
            pool(x, 2)


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


@pytest.mark.parametrize("pool, dims", POOLS)
def test_empty_axes_as_torch(pool, dims):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn.functional, pool.__name__)
    for shape, _ in empty_shapes(dims):
        try:
            expected = tuple(theirs(torch.zeros(shape), 2).shape)
        except RuntimeError:
            expected = None
        try:
            got = pool(mg.zeros(shape), 2).shape
        except ValueError:
            got = None
        assert got == expected, f"{pool.__name__} on shape {shape}: ours {got}, PyTorch's {expected}"
