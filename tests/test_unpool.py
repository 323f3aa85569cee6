"""max_unpool1d/2d/3d and nn.MaxUnpool1d/2d/3d: values against a loop written from the definition (every
run) and against PyTorch where it is installed (values, input gradients, float64 and float32), over
hypothesis-drawn shapes, kernels, strides, paddings and ceil_mode, the indices coming from a max pooling or
drawn at random (duplicates included: the last writer wins, as PyTorch's CPU kernel on one thread); the
gradient's treatment of duplicates; float64 first- and second-order gradient checks; unbatched and
empty-batch inputs; float32 kept; the output-size rule; the layers and their reprs; the error messages."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad

DIMS = [1, 2, 3]
UNPOOL = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}
POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
LAYER = {1: nn.MaxUnpool1d, 2: nn.MaxUnpool2d, 3: nn.MaxUnpool3d}
seeds = st.integers(0, 2 ** 16)


@pytest.fixture(scope="module")
def torch1():
    """PyTorch on one thread: its CPU unpooling is then deterministic with duplicate indices (last wins)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


# -- definitions ------------------------------------------------------------------------------------------

def naive_unpool(x, idx, out):
    """y (N, C, *out): each x[n, c, i] written to flat position idx[n, c, i] of its plane, in row-major order,
    so a later duplicate overwrites an earlier one."""
    y = np.zeros(x.shape[:2] + tuple(out), dtype=x.dtype)
    for n, c in np.ndindex(*x.shape[:2]):
        plane = y[n, c].reshape(-1)
        for i, v in zip(idx[n, c].reshape(-1), x[n, c].reshape(-1)):
            plane[i] = v
    return y


def naive_unpool_grad(idx, gy):
    """The derivative of ``naive_unpool`` applied to gy: element i receives gy at its position if it is the
    last element of its plane written there, else 0."""
    gx = np.zeros(idx.shape, dtype=gy.dtype)
    for n, c in np.ndindex(*idx.shape[:2]):
        flat = idx[n, c].reshape(-1)
        last = {int(t): i for i, t in enumerate(flat)}
        g = gx[n, c].reshape(-1)
        for t, i in last.items():
            g[i] = gy[n, c].reshape(-1)[t]
    return gx


def has_duplicates(idx):
    planes = idx.reshape(idx.shape[0] * idx.shape[1], -1)
    return any(len(np.unique(p)) < len(p) for p in planes)


def default_size(spatial, kernel, stride, padding):
    return tuple((n - 1) * s + k - 2 * p for n, k, s, p in zip(spatial, kernel, stride, padding))


# -- cases --------------------------------------------------------------------------------------------------

@st.composite
def pool_case(draw, dims, small=False):
    """(shape, kernel, stride or None, padding, ceil_mode, seed): a max pooling PyTorch accepts, whose indices
    unpooling with output_size = the pooled input's spatial size puts back."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 3)] * dims)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    extra = 1 if small or dims == 3 else 4
    spatial = tuple(draw(st.integers(max(1, k - 2 * p), max(1, k - 2 * p) + extra)) for k, p in zip(kernel, padding))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial
    return shape, kernel, stride, padding, draw(st.booleans()), draw(seeds)


@st.composite
def random_case(draw, dims, small=False):
    """(x shape, kernel, stride, padding, output spatial size, indices): indices drawn at random in each
    output plane, often repeating."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    top = 2 if small or dims == 3 else 4
    spatial = tuple(draw(st.integers(1, top)) for _ in range(dims))
    out = default_size(spatial, kernel, stride, padding)
    if min(out) < 1:
        spatial = tuple(n + 1 for n in spatial)
        out = default_size(spatial, kernel, stride, padding)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + spatial
    rng = np.random.default_rng(draw(seeds))
    span = max(1, math.prod(out) // draw(st.sampled_from([1, 3])))  # a third of the plane: many repeats
    return shape, kernel, stride, padding, out, rng.integers(0, span, shape)


# -- values and gradients, from the definitions ------------------------------------------------------------

@pytest.mark.parametrize("dims", DIMS)
@settings(max_examples=12)
@given(data=st.data(), ints=st.booleans())
def test_random_indices_match_loops(device, dims, data, ints):
    shape, kernel, stride, padding, out, idx = data.draw(random_case(dims))
    rng = np.random.default_rng(idx.size)
    x, gy = rng.standard_normal(shape), rng.standard_normal(shape[:2] + out)
    given = lambda v: v[0] if ints and len(set(v)) == 1 else v  # noqa: E731  (an int where the axes agree)
    xt = mg.tensor(x, device=device, requires_grad=True)
    y = UNPOOL[dims](xt, mg.tensor(idx, device=device), given(kernel), given(stride), given(padding))
    assert y.shape == shape[:2] + out and y.dtype == np.float64
    np.testing.assert_array_equal(y.numpy(), naive_unpool(x, idx, out))
    (gx,) = mg.grad(y, [xt], mg.tensor(gy, device=device))
    np.testing.assert_array_equal(gx.numpy(), naive_unpool_grad(idx, gy))


def test_duplicates_by_hand(device):
    # Positions 5, 5, 0, 5 of a 4x4 plane: 4 (the last of the three at 5) and 3 stay; the gradient reaches
    # only the elements that were written last, each from its own position.
    x = mg.tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), device=device, requires_grad=True)
    idx = mg.tensor(np.array([[[[5, 5], [0, 5]]]]), device=device)
    y = F.max_unpool2d(x, idx, 2)
    expected = np.zeros((4, 4))
    expected.flat[5], expected.flat[0] = 4.0, 3.0
    np.testing.assert_array_equal(y.numpy()[0, 0], expected)
    weights = np.arange(16.0).reshape(1, 1, 4, 4)
    (gx,) = mg.grad((y * mg.tensor(weights, device=device)).sum(), [x])
    np.testing.assert_array_equal(gx.numpy(), [[[[0.0, 0.0], [0.0, 5.0]]]])


def test_overlapping_pool_then_unpool_gradient(device):
    # Overlapping windows share maxima, so their indices repeat; the composition keeps each maximum once,
    # and its gradient (checked numerically) counts each once.
    rng = np.random.default_rng(1)
    x = rng.permutation(49).reshape(1, 1, 7, 7) * 0.1

    def round_trip(t):
        y, idx = F.max_pool2d(t, 3, stride=1, return_indices=True)
        assert has_duplicates(idx.numpy())
        return F.max_unpool2d(y, idx, 3, stride=1)

    check_grad(round_trip, [x], device)
    check_double_grad(round_trip, [x], device)


def test_shared_maximum_counts_once(device):
    # Windows [0, 3) and [1, 4) share the maximum 5 at position 1, so its index appears twice. unpool(pool(x))
    # is x at 1 and 3 and zero elsewhere, whose derivative is 1 there: what we give. (PyTorch gives 2 at
    # position 1, handing the gradient of the output there to both duplicates.)
    x = mg.tensor(np.array([[[0.0, 5.0, 0.0, 1.0, 0.0]]]), device=device, requires_grad=True)
    y, idx = F.max_pool1d(x, 3, stride=1, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), [[[1, 1, 3]]])
    u = F.max_unpool1d(y, idx, 3, stride=1)
    np.testing.assert_array_equal(u.numpy(), x.numpy())
    (gx,) = mg.grad(u.sum(), [x])
    np.testing.assert_array_equal(gx.numpy(), [[[0.0, 1.0, 0.0, 1.0, 0.0]]])


@pytest.mark.parametrize("dims", DIMS)
@settings(max_examples=10)
@given(data=st.data())
def test_pool_then_unpool_matches_loops(device, dims, data):
    shape, kernel, stride, padding, ceil_mode, seed = data.draw(pool_case(dims))
    x = np.random.default_rng(seed).standard_normal(shape)
    y, idx = POOL[dims](mg.tensor(x, device=device), kernel, stride, padding, ceil_mode=ceil_mode,
                        return_indices=True)
    u = UNPOOL[dims](y, idx, kernel, stride, padding, output_size=shape[2:])
    assert u.shape == shape
    np.testing.assert_array_equal(u.numpy(), naive_unpool(y.numpy(), idx.numpy(), shape[2:]))
    kept = u.numpy() != 0  # each maximum is back where it was, and only maxima are there
    np.testing.assert_array_equal(u.numpy()[kept], x[kept])


# -- gradients ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dims", DIMS)
@settings(max_examples=6)
@given(data=st.data())
def test_gradients(device, dims, data):
    shape, kernel, stride, padding, out, idx = data.draw(random_case(dims, small=True))
    x = np.random.default_rng(idx.size).standard_normal(shape)
    indices = mg.tensor(idx, device=device)
    fn = lambda t: UNPOOL[dims](t, indices, kernel, stride, padding)  # noqa: E731
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("dims", DIMS)
def test_gradient_penalty_through_unpooling(device, dims):
    # WGAN-GP style: d/dx |d<unpool(x)^2, w>/dx|^2, numerically, with indices that repeat.
    shape = (1, 2) + (3,) * dims
    out = (4,) * dims
    rng = np.random.default_rng(dims)
    idx = mg.tensor(rng.integers(0, 4 ** dims // 2, shape), device=device)
    w = mg.tensor(rng.standard_normal((1, 2) + out), device=device)

    def penalty(t):
        (g,) = mg.grad((UNPOOL[dims](t, idx, 2, 1, 0, out) ** 2 * w).sum(), [t], create_graph=True)
        return (g ** 2).sum()

    check_grad(penalty, [rng.standard_normal(shape)], device)


@pytest.mark.parametrize("dims", DIMS)
def test_float32_is_kept(device, dims):
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 3) + (4,) * dims).astype(np.float32), device=device, requires_grad=True)
    y, idx = POOL[dims](x, 2, return_indices=True)
    u = UNPOOL[dims](y, idx, 2)
    (gx,) = mg.grad((u * u).sum(), [x], create_graph=True)
    (ggx,) = mg.grad((gx * gx).sum(), [x])
    assert u.dtype == gx.dtype == ggx.dtype == np.float32
    np.testing.assert_array_equal(u.numpy()[u.numpy() != 0], x.numpy()[u.numpy() != 0])


# -- unbatched, empty batch, output_size, index dtypes ------------------------------------------------------

@pytest.mark.parametrize("dims", DIMS)
def test_unbatched_input(device, dims):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3,) + (5,) * dims)
    y, idx = POOL[dims](mg.tensor(x, device=device), 2, return_indices=True)
    assert y.ndim == dims + 1
    u = UNPOOL[dims](y, idx, 2, output_size=(5,) * dims)
    batched = UNPOOL[dims](F.reshape(y, (1,) + y.shape), F.reshape(idx, (1,) + idx.shape), 2,
                           output_size=(5,) * dims)
    assert u.shape == (3,) + (5,) * dims
    np.testing.assert_array_equal(u.numpy(), batched.numpy()[0])
    check_grad(lambda t: UNPOOL[dims](t, idx, 2, output_size=(5,) * dims), [y.numpy()], device)


@pytest.mark.parametrize("dims", DIMS)
def test_empty_batch(device, dims):
    x = mg.zeros((0, 2) + (3,) * dims, device=device)
    idx = mg.tensor(np.zeros((0, 2) + (3,) * dims, dtype=np.int64), device=device)
    assert UNPOOL[dims](x, idx, 2).shape == (0, 2) + (6,) * dims


def test_output_size_rule(device):
    x = mg.ones((1, 1, 3, 4), device=device)
    idx = mg.tensor(np.zeros((1, 1, 3, 4), dtype=np.int64), device=device)
    # default: (n - 1) s + k - 2p
    assert F.max_unpool2d(x, idx, 2).shape == (1, 1, 6, 8)
    assert F.max_unpool2d(x, idx, 3, stride=2, padding=1).shape == (1, 1, 5, 7)
    assert F.max_unpool2d(x, idx, (3, 2), stride=(1, 2), padding=(1, 0)).shape == (1, 1, 3, 8)
    # output_size strictly within one stride of it, the leading N and C ignored (as PyTorch ignores them)
    assert F.max_unpool2d(x, idx, 2, output_size=(7, 9)).shape == (1, 1, 7, 9)
    assert F.max_unpool2d(x, idx, 2, output_size=[5, 7]).shape == (1, 1, 5, 7)
    assert F.max_unpool2d(x, idx, 2, output_size=(8, 8, 7, 9)).shape == (1, 1, 7, 9)
    assert F.max_unpool1d(x[0], idx[0], 2, output_size=(9,)).shape == (1, 3, 9)


def test_integer_index_dtypes(device):
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.standard_normal((2, 2, 4)), device=device)
    idx = rng.integers(0, 8, (2, 2, 4))
    expected = F.max_unpool1d(x, mg.tensor(idx, device=device), 2).numpy()
    for dtype in (np.int32, np.int16, np.uint8):
        np.testing.assert_array_equal(F.max_unpool1d(x, mg.tensor(idx.astype(dtype), device=device), 2).numpy(),
                                      expected)


# -- PyTorch, where installed ------------------------------------------------------------------------------

@pytest.mark.parametrize("dims", DIMS)
@settings(max_examples=12)
@given(data=st.data(), dtype=st.sampled_from([np.float64, np.float32]), full=st.booleans())
def test_pool_then_unpool_matches_torch(device, dims, data, dtype, full, torch1):
    torch = torch1
    shape, kernel, stride, padding, ceil_mode, seed = data.draw(pool_case(dims))
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    pool_t = getattr(torch.nn.functional, f"max_pool{dims}d")
    yt, it = pool_t(torch.tensor(x), kernel, stride, padding, ceil_mode=ceil_mode, return_indices=True)
    yt.requires_grad_(True)
    out = shape if full else shape[2:]
    ut = getattr(torch.nn.functional, f"max_unpool{dims}d")(yt, it, kernel, stride, padding, output_size=out)
    y = mg.tensor(yt.detach().numpy(), device=device, requires_grad=True)
    u = UNPOOL[dims](y, mg.tensor(it.numpy(), device=device), kernel, stride, padding, output_size=out)
    assert u.dtype == dtype and u.shape == tuple(ut.shape)
    np.testing.assert_array_equal(u.numpy(), ut.detach().numpy())
    gy = np.random.default_rng(seed + 1).standard_normal(u.shape).astype(dtype)
    (gx,) = mg.grad(u, [y], mg.tensor(gy, device=device))
    assert gx.dtype == dtype
    if has_duplicates(it.numpy()):
        # PyTorch gathers at every index, duplicates included; ours is the derivative (see unpooling.py).
        np.testing.assert_array_equal(gx.numpy(), naive_unpool_grad(it.numpy(), gy))
    else:
        (gxt,) = torch.autograd.grad(ut, [yt], torch.tensor(gy))
        np.testing.assert_array_equal(gx.numpy(), gxt.numpy())


@pytest.mark.parametrize("dims", DIMS)
@settings(max_examples=12)
@given(data=st.data())
def test_random_indices_match_torch(device, dims, data, torch1):
    torch = torch1
    shape, kernel, stride, padding, out, idx = data.draw(random_case(dims))
    x = np.random.default_rng(idx.size).standard_normal(shape)
    ut = getattr(torch.nn.functional, f"max_unpool{dims}d")(torch.tensor(x), torch.tensor(idx), kernel, stride,
                                                             padding)
    u = UNPOOL[dims](mg.tensor(x, device=device), mg.tensor(idx, device=device), kernel, stride, padding)
    np.testing.assert_array_equal(u.numpy(), ut.numpy())


def test_unbatched_matches_torch(device, torch1):
    torch = torch1
    rng = np.random.default_rng(4)
    for dims in DIMS:
        x = rng.standard_normal((2,) + (5,) * dims)
        yt, it = getattr(torch.nn.functional, f"max_pool{dims}d")(torch.tensor(x), 3, 2, 1, return_indices=True)
        ut = getattr(torch.nn.functional, f"max_unpool{dims}d")(yt, it, 3, 2, 1, output_size=(5,) * dims)
        u = UNPOOL[dims](mg.tensor(yt.numpy(), device=device), mg.tensor(it.numpy(), device=device), 3, 2, 1,
                         output_size=(5,) * dims)
        np.testing.assert_array_equal(u.numpy(), ut.numpy())


# -- errors -------------------------------------------------------------------------------------------------

def _idx(shape, value=0, dtype=np.int64):
    return mg.tensor(np.full(shape, value, dtype=dtype))


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.max_unpool2d(mg.ones((1, 1, 2, 2)), _idx((1, 1, 2, 2), 16), 2), IndexError,
     r"max_unpool2d: indices hold 16, outside \[0, 16\) for an output of spatial size 4x4 \(input and indices of "
     r"shape \(1, 1, 2, 2\), kernel_size \(2, 2\), stride \(2, 2\), padding \(0, 0\), output_size None\)"),
    (lambda: F.max_unpool3d(mg.ones((2, 2, 2, 2)), _idx((2, 2, 2, 2), -3), 2), IndexError,
     r"max_unpool3d: indices hold -3, outside \[0, 64\) for an output of spatial size 4x4x4"),
    (lambda: F.max_unpool1d(mg.ones((1, 2, 3)), _idx((1, 2, 3), 6), 2, output_size=[5]), IndexError,
     r"max_unpool1d: indices hold 6, outside \[0, 5\) for an output of spatial size 5 .*output_size \[5\]"),
    (lambda: F.max_unpool2d(mg.ones((1, 1, 2, 2)), _idx((1, 1, 1, 2)), 2), ValueError,
     r"max_unpool2d: indices of shape \(1, 1, 1, 2\) must have the input's shape \(1, 1, 2, 2\)"),
    (lambda: F.max_unpool2d(mg.ones((1, 1, 2, 2)), mg.ones((1, 1, 2, 2)), 2), TypeError,
     r"max_unpool2d: indices must hold integers \(int64, as max_pool's return_indices gives\), got dtype float32"),
    (lambda: F.max_unpool2d(mg.ones((1, 1, 2, 2)), [[0]], 2), TypeError,
     r"max_unpool2d: indices must be a Tensor of integers, got list"),
    (lambda: F.max_unpool2d(mg.ones((2, 2)), _idx((2, 2)), 2), ValueError,
     r"max_unpool2d: input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(2, 2\)"),
    (lambda: F.max_unpool1d(mg.ones((4,)), _idx((4,)), 2), ValueError,
     r"max_unpool1d: input must be 2-D \(C, L\) or 3-D \(N, C, L\), got shape \(4,\)"),
    (lambda: F.max_unpool3d(mg.ones((1, 1, 1, 2, 2, 2)), _idx((1, 1, 1, 2, 2, 2)), 2), ValueError,
     r"max_unpool3d: input must be 4-D \(C, D, H, W\) or 5-D \(N, C, D, H, W\)"),
    (lambda: F.max_unpool2d(mg.zeros((1, 0, 2, 2)), _idx((1, 0, 2, 2)), 2), ValueError,
     r"max_unpool2d: input of shape \(1, 0, 2, 2\) is empty along axis 1; only the batch axis may be empty"),
    (lambda: F.max_unpool2d(mg.tensor(np.ones((1, 1, 2, 2), dtype=np.int64)), _idx((1, 1, 2, 2)), 2), TypeError,
     r"max_unpool2d: input must be floating point, got dtype int64"),
    (lambda: F.max_unpool2d(mg.ones((1, 1, 2, 2)), _idx((1, 1, 2, 2)), 2, output_size=(6, 5)), ValueError,
     r"max_unpool2d: invalid output_size \(6, 5\) for input of shape \(1, 1, 2, 2\): dim 0 must be between 2 and "
     r"6 \(exclusive\), the default being 4"),
    (lambda: F.max_unpool2d(mg.ones((1, 1, 2, 2)), _idx((1, 1, 2, 2)), 2, output_size=(3,)), ValueError,
     r"max_unpool2d: output_size should be a sequence containing 2 or 4 elements, but it has a length of 1"),
    (lambda: F.max_unpool1d(mg.ones((1, 1, 2)), _idx((1, 1, 2)), 2, output_size=4), TypeError,
     r"max_unpool1d: output_size must be a sequence of 1 or 3 ints, got 4"),
    (lambda: F.max_unpool2d(mg.ones((1, 1, 2, 2)), _idx((1, 1, 2, 2)), 2, output_size=(4.0, 4)), TypeError,
     r"max_unpool2d: output_size must be a sequence of 2 or 4 ints"),
    (lambda: F.max_unpool2d(mg.ones((1, 1, 2, 2)), _idx((1, 1, 2, 2)), 2, padding=5), ValueError,
     r"max_unpool2d: output size \(-6, -6\) for input of shape \(1, 1, 2, 2\) with kernel_size \(2, 2\), stride "
     r"\(2, 2\), padding \(5, 5\) has a negative dimension"),
    (lambda: F.max_unpool2d(mg.ones((1, 1, 2, 2)), _idx((1, 1, 2, 2)), 0), ValueError,
     r"max_unpool2d: kernel_size must be at least 1, got 0 for input of shape \(1, 1, 2, 2\)"),
    (lambda: F.max_unpool3d(mg.ones((1, 1, 2, 2, 2)), _idx((1, 1, 2, 2, 2)), 2, stride=(1, 0, 1)), ValueError,
     r"max_unpool3d: stride must be at least 1"),
    (lambda: F.max_unpool1d(mg.ones((1, 1, 2)), _idx((1, 1, 2)), 2, padding=-1), ValueError,
     r"max_unpool1d: padding must be at least 0"),
    (lambda: F.max_unpool3d(mg.ones((1, 1, 2, 2, 2)), _idx((1, 1, 2, 2, 2)), (2, 2)), TypeError,
     r"max_unpool3d: kernel_size must be an int or a triple of ints, got \(2, 2\)"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("layer, kwargs, error, message", [
    (nn.MaxUnpool2d, {"kernel_size": 0}, ValueError, r"MaxUnpool2d: kernel_size must be at least 1, got 0"),
    (nn.MaxUnpool1d, {"kernel_size": (2, 2)}, TypeError, r"MaxUnpool1d: kernel_size must be an int or a 1-tuple"),
    (nn.MaxUnpool3d, {"kernel_size": 2, "stride": 0}, ValueError, r"MaxUnpool3d: stride must be at least 1"),
    (nn.MaxUnpool3d, {"kernel_size": 2, "padding": -1}, ValueError, r"MaxUnpool3d: padding must be at least 0"),
])
def test_layer_bad_arguments(layer, kwargs, error, message):
    with pytest.raises(error, match=message):
        layer(**kwargs)


# -- the layers ---------------------------------------------------------------------------------------------

LAYERS = [(1, {"kernel_size": 2}), (1, {"kernel_size": 3, "stride": 2, "padding": 1}),
          (2, {"kernel_size": 2}), (2, {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0)}),
          (3, {"kernel_size": 2}), (3, {"kernel_size": [3, 2, 3], "stride": 2, "padding": 1})]


@pytest.mark.parametrize("dims, kwargs", LAYERS)
def test_layers(device, dims, kwargs):
    module = LAYER[dims](**kwargs)
    assert list(module.parameters()) == [] and module.state_dict() == {}
    rng = np.random.default_rng(5)
    x = mg.tensor(rng.standard_normal((2, 3) + (6,) * dims), device=device)
    y, idx = POOL[dims](x, return_indices=True, **kwargs)
    np.testing.assert_array_equal(module(y, idx, output_size=x.shape).numpy(),
                                  UNPOOL[dims](y, idx, output_size=x.shape, **kwargs).numpy())
    np.testing.assert_array_equal(module(y, idx, (6,) * dims).numpy(), module(y, idx, x.shape).numpy())
    single = module(F.getitem(y, 1), F.getitem(idx, 1), output_size=(6,) * dims)  # unbatched
    np.testing.assert_array_equal(single.numpy(), module(y, idx, x.shape).numpy()[1])


def test_layer_reprs():
    assert repr(nn.MaxUnpool1d(2)) == "MaxUnpool1d(kernel_size=(2,), stride=(2,), padding=(0,))"
    assert repr(nn.MaxUnpool2d(2, stride=1, padding=(1, 0))) == \
        "MaxUnpool2d(kernel_size=(2, 2), stride=(1, 1), padding=(1, 0))"
    assert repr(nn.MaxUnpool3d((2, 1, 2))) == \
        "MaxUnpool3d(kernel_size=(2, 1, 2), stride=(2, 1, 2), padding=(0, 0, 0))"


@pytest.mark.parametrize("dims, kwargs", LAYERS)
def test_layer_reprs_match_torch(dims, kwargs):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, f"MaxUnpool{dims}d")(**kwargs)
    ours = LAYER[dims](**kwargs)
    assert repr(ours) == repr(theirs)
    assert (ours.kernel_size, ours.stride, ours.padding) == (theirs.kernel_size, theirs.stride, theirs.padding)
