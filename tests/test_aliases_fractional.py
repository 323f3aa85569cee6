"""PyTorch's functional aliases (upsample, upsample_nearest, upsample_bilinear, the *_with_indices max pools)
against the ops they stand for and against PyTorch: values, indices, gradients, warnings, float32 kept, float64
first- and second-order gradient checks; and fractional_max_pool2d and nn.FractionalMaxPool2d against a NumPy
reference written from Graham's definition and against PyTorch with the same _random_samples."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad

seeds = st.integers(0, 2 ** 16)


def _torch_call(torch, name, x, **kwargs):
    xt = torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xt, getattr(torch.nn.functional, name)(xt, **kwargs)


# -- upsample aliases -----------------------------------------------------------------------------------------

UPSAMPLE_CASES = [
    ("upsample", (1, 2, 3, 4), dict(scale_factor=2)),
    ("upsample", (1, 2, 5), dict(size=8, mode="linear")),
    ("upsample", (2, 1, 3, 4), dict(size=(5, 7), mode="bilinear", align_corners=True)),
    ("upsample", (1, 1, 2, 3, 3), dict(scale_factor=1.5, mode="trilinear")),
    ("upsample", (1, 2, 4, 4), dict(size=(6, 3), mode="bicubic", align_corners=False)),
    ("upsample_nearest", (1, 2, 3, 4), dict(size=(5, 6))),
    ("upsample_nearest", (2, 1, 5), dict(scale_factor=3)),
    ("upsample_nearest", (1, 1, 2, 3, 2), dict(scale_factor=2)),
    ("upsample_bilinear", (1, 2, 3, 4), dict(size=(6, 9))),
    ("upsample_bilinear", (2, 1, 4, 3), dict(scale_factor=2)),
    ("upsample_bilinear", (1, 1, 5, 6), dict(size=3)),
]
TARGET = {"upsample": {}, "upsample_nearest": dict(mode="nearest"),
          "upsample_bilinear": dict(mode="bilinear", align_corners=True)}


@pytest.mark.parametrize("name, shape, kwargs", UPSAMPLE_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_upsample_aliases_match_torch_and_interpolate(device, name, shape, kwargs, dtype):
    x = np.random.default_rng(len(shape)).standard_normal(shape).astype(dtype)
    xm = mg.tensor(x, device=device, requires_grad=True)
    with pytest.warns(UserWarning, match=rf"^`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate`"):
        y = getattr(F, name)(xm, **kwargs)
    assert y.dtype == dtype
    reference = F.interpolate(mg.tensor(x, device=device), **{**kwargs, **TARGET[name]})
    np.testing.assert_array_equal(y.numpy(), reference.numpy())
    torch = pytest.importorskip("torch")
    xt, yt = _torch_call(torch, name, x, **kwargs)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    gx, = mg.grad(y, [xm], mg.tensor(gy, device=device))
    assert gx.dtype == dtype
    np.testing.assert_allclose(gx.numpy(), torch.autograd.grad(yt, [xt], torch.tensor(gy))[0].numpy(), **tol)


def test_upsample_positional_arguments_follow_torch(device):
    x = mg.tensor(np.arange(6.0).reshape(1, 1, 2, 3), device=device)
    with pytest.warns(UserWarning):
        y = F.upsample(x, None, 2, "bilinear", True)
    np.testing.assert_array_equal(y.numpy(), F.interpolate(x, scale_factor=2, mode="bilinear",
                                                           align_corners=True).numpy())
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="interpolate"):
        F.upsample_bilinear(mg.tensor(np.ones((1, 1, 4)), device=device), 3)


@settings(max_examples=10, deadline=None)
@given(name=st.sampled_from(["upsample", "upsample_nearest", "upsample_bilinear"]),
       h=st.integers(1, 3), w=st.integers(1, 3), scale=st.sampled_from([1, 2, 1.5]), seed=seeds)
def test_upsample_gradients(device, name, h, w, scale, seed):
    x = np.random.default_rng(seed).standard_normal((1, 2, h, w))
    kwargs = dict(scale_factor=scale) if name != "upsample" else dict(scale_factor=scale, mode="bicubic")

    def fn(t):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getattr(F, name)(t, **kwargs) ** 2
    check_grad(fn, [x], device, seed=seed)
    check_double_grad(fn, [x], device, seed=seed)


# -- *_with_indices --------------------------------------------------------------------------------------------

POOL_CASES = [
    ("max_pool1d_with_indices", "max_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool1d_with_indices", "max_pool1d", (3, 8), dict(kernel_size=2, dilation=2, ceil_mode=True)),
    ("max_pool2d_with_indices", "max_pool2d", (1, 2, 6, 7), dict(kernel_size=(2, 3), stride=(2, 1), padding=1)),
    ("max_pool2d_with_indices", "max_pool2d", (2, 5, 5), dict(kernel_size=2, ceil_mode=True, return_indices=False)),
    ("max_pool3d_with_indices", "max_pool3d", (1, 1, 4, 5, 6), dict(kernel_size=2, stride=(1, 2, 2))),
    ("adaptive_max_pool1d_with_indices", "adaptive_max_pool1d", (2, 3, 7), dict(output_size=3)),
    ("adaptive_max_pool2d_with_indices", "adaptive_max_pool2d", (1, 2, 5, 7), dict(output_size=(3, None))),
    ("adaptive_max_pool2d_with_indices", "adaptive_max_pool2d", (2, 4, 4), dict(output_size=3,
                                                                                return_indices=False)),
    ("adaptive_max_pool3d_with_indices", "adaptive_max_pool3d", (1, 2, 3, 4, 5), dict(output_size=(2, 3, 2))),
]


@pytest.mark.parametrize("name, base, shape, kwargs", POOL_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_with_indices_match_base_op_and_torch(device, name, base, shape, kwargs, dtype):
    x = np.random.default_rng(len(shape)).standard_normal(shape).astype(dtype)
    xm = mg.tensor(x, device=device, requires_grad=True)
    y, indices = getattr(F, name)(xm, **kwargs)
    base_kwargs = {k: v for k, v in kwargs.items() if k != "return_indices"}
    y_base, i_base = getattr(F, base)(mg.tensor(x, device=device), **base_kwargs, return_indices=True)
    assert y.dtype == dtype and indices.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), y_base.numpy())
    np.testing.assert_array_equal(indices.numpy(), i_base.numpy())
    torch = pytest.importorskip("torch")
    xt, (yt, it) = _torch_call(torch, name, x, **kwargs)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(indices.numpy(), it.numpy())
    gy = np.random.default_rng(2).standard_normal(y.shape).astype(dtype)
    gx, = mg.grad(y, [xm], mg.tensor(gy, device=device))
    assert gx.dtype == dtype
    np.testing.assert_allclose(gx.numpy(), torch.autograd.grad(yt, [xt], torch.tensor(gy))[0].numpy(), rtol=1e-6)


@settings(max_examples=10, deadline=None)
@given(case=st.sampled_from(POOL_CASES), seed=seeds)
def test_with_indices_gradients(device, case, seed):
    name, _, shape, kwargs = case
    x = np.random.default_rng(seed).standard_normal(shape)

    def fn(t):
        return getattr(F, name)(t, **kwargs)[0] ** 2
    check_grad(fn, [x], device, seed=seed)
    check_double_grad(fn, [x], device, seed=seed)


def test_with_indices_errors_name_the_op(device):
    x = mg.tensor(np.ones((1, 2, 3)), device=device)
    with pytest.raises(ValueError, match="^max_pool2d: "):
        F.max_pool2d_with_indices(x, 0)
    with pytest.raises(ValueError, match="^adaptive_max_pool3d: "):
        F.adaptive_max_pool3d_with_indices(x, 2)


# -- fractional_max_pool2d ---------------------------------------------------------------------------------

def np_starts(u, n, k, o, dtype):
    """Graham's pseudo-random window starts, from the definition (in the input's dtype, as PyTorch)."""
    if o == 1:
        return [n - k]
    alpha = dtype(n - k) / dtype(o - 1)
    u = dtype(u)
    return [int((dtype(i) + u) * alpha) - int(u * alpha) for i in range(o - 1)] + [n - k]


def np_fractional(x, kernel, size, samples):
    n, c, h, w = x.shape
    (kh, kw), (oh, ow) = kernel, size
    y = np.zeros((n, c, oh, ow), x.dtype)
    index = np.zeros((n, c, oh, ow), np.int64)
    for b in range(n):
        for ch in range(c):
            rows = np_starts(samples[b, ch, 1], h, kh, oh, x.dtype.type)
            cols = np_starts(samples[b, ch, 0], w, kw, ow, x.dtype.type)
            for i, r in enumerate(rows):
                for j, q in enumerate(cols):
                    window = x[b, ch, r:r + kh, q:q + kw]
                    at = np.unravel_index(np.argmax(window), window.shape)
                    y[b, ch, i, j] = window[at]
                    index[b, ch, i, j] = (r + at[0]) * w + q + at[1]
    return y, index


@st.composite
def fractional_cases(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    oh, ow = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = oh + kh - 1 + draw(st.integers(0, 5)), ow + kw - 1 + draw(st.integers(0, 5))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = (kh, kw) if kh != kw or draw(st.booleans()) else kh
    size = (oh, ow) if oh != ow or draw(st.booleans()) else oh
    return (n, c, h, w), kernel, size, (oh, ow), draw(st.booleans())


@settings(max_examples=25, deadline=None)
@given(case=fractional_cases(), seed=seeds, dtype=st.sampled_from([np.float32, np.float64]))
def test_fractional_matches_definition_and_torch(device, case, seed, dtype):
    shape, kernel, size, sizes, batched = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    samples = rng.random((shape[0], shape[1], 2)).astype(dtype)
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    y_np, i_np = np_fractional(x, (kh, kw), sizes, samples)
    if not batched:
        x, samples, y_np, i_np = x[0], samples[:1], y_np[0], i_np[0]
    xm = mg.tensor(x, device=device, requires_grad=True)
    y, index = F.fractional_max_pool2d(xm, kernel, size, return_indices=True,
                                       _random_samples=mg.tensor(samples, device=device))
    assert y.dtype == dtype and index.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), y_np)
    np.testing.assert_array_equal(index.numpy(), i_np)
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    yt, it = torch.nn.functional.fractional_max_pool2d(xt, kernel, size, return_indices=True,
                                                       _random_samples=torch.tensor(samples))
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(index.numpy(), it.numpy())
    gy = rng.standard_normal(y.shape).astype(dtype)
    gx, = mg.grad(y, [xm], mg.tensor(gy, device=device))
    assert gx.dtype == dtype
    np.testing.assert_allclose(gx.numpy(), torch.autograd.grad(yt, [xt], torch.tensor(gy))[0].numpy(), rtol=1e-6)


@settings(max_examples=12, deadline=None)
@given(case=fractional_cases(), seed=seeds)
def test_fractional_gradients(device, case, seed):
    shape, kernel, size, _, _ = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    samples = mg.tensor(rng.random((shape[0], shape[1], 2)), device=device)

    def fn(t):
        return F.fractional_max_pool2d(t, kernel, size, _random_samples=samples) ** 2
    check_grad(fn, [x], device, seed=seed)
    check_double_grad(fn, [x], device, seed=seed)


@pytest.mark.parametrize("ratio", [0.5, (0.7, 0.4)])
def test_fractional_output_ratio_and_nan_match_torch(device, ratio):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 9, 10))
    x[0, 1, 2:4, 3] = np.nan
    samples = rng.random((2, 3, 2))
    y, index = F.fractional_max_pool2d(mg.tensor(x, device=device), (2, 3), output_ratio=ratio, return_indices=True,
                                       _random_samples=mg.tensor(samples, device=device))
    yt, it = torch.nn.functional.fractional_max_pool2d(
        torch.tensor(x), (2, 3), output_ratio=ratio if isinstance(ratio, tuple) else (ratio, ratio),
        return_indices=True, _random_samples=torch.tensor(samples))
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    np.testing.assert_array_equal(index.numpy(), it.numpy())
    assert np.isnan(y.numpy()).any()


def test_fractional_draws_from_minigan_generator(device):
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 4, 11, 11)).astype(np.float32), device=device)
    mg.manual_seed(7)
    a, ia = F.fractional_max_pool2d(x, 2, output_ratio=0.6, return_indices=True)
    b, ib = F.fractional_max_pool2d(x, 2, output_ratio=0.6, return_indices=True)
    mg.manual_seed(7)
    c, ic = F.fractional_max_pool2d(x, 2, output_ratio=0.6, return_indices=True)
    assert a.dtype == np.float32 and a.shape == (2, 4, 6, 6)
    np.testing.assert_array_equal(ia.numpy(), ic.numpy())
    assert not np.array_equal(ia.numpy(), ib.numpy())
    # every output is the input at its index
    flat = x.numpy().reshape(2, 4, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, ia.numpy().reshape(2, 4, -1), 2).reshape(a.shape),
                                  a.numpy())


def test_fractional_layer_matches_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 8, 7)).astype(np.float32)
    samples = rng.random((2, 3, 2)).astype(np.float32)
    ours = nn.FractionalMaxPool2d((3, 2), output_size=(4, 5), return_indices=True, _random_samples=samples)
    theirs = torch.nn.FractionalMaxPool2d((3, 2), output_size=(4, 5), return_indices=True,
                                          _random_samples=torch.tensor(samples))
    assert repr(ours) == repr(theirs) == "FractionalMaxPool2d()"
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["_random_samples"]
    y, index = ours.to(device)(mg.tensor(x, device=device))
    yt, it = theirs(torch.tensor(x))
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    np.testing.assert_array_equal(index.numpy(), it.numpy())
    plain = nn.FractionalMaxPool2d(2, output_ratio=0.5)
    assert repr(plain) == repr(torch.nn.FractionalMaxPool2d(2, output_ratio=0.5)) and not plain.state_dict()
    assert plain(mg.tensor(x, device=device)).shape == (2, 3, 4, 3)


def test_fractional_errors(device):
    x = mg.tensor(np.ones((1, 2, 5, 5)), device=device)
    op = "^fractional_max_pool2d: "
    with pytest.raises(ValueError, match=op + "requires either an output_size or an output_ratio"):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(ValueError, match=op + r"kernel_size \(2, 2\) and output_size \(5, 4\) need input height at "
                                          r"least 6 .*shape \(1, 2, 5, 5\)"):
        F.fractional_max_pool2d(x, 2, (5, 4))
    with pytest.raises(ValueError, match=op + r"output_ratio must be a number or a pair of numbers in \(0, 1\), "
                                          r"got 1.5"):
        F.fractional_max_pool2d(x, 2, output_ratio=1.5)
    with pytest.raises(ValueError, match=op + r"_random_samples must have shape \(1, 2, 2\) .*got \(1, 3, 2\)"):
        F.fractional_max_pool2d(x, 2, 3, _random_samples=mg.tensor(np.zeros((1, 3, 2)), device=device))
    with pytest.raises(TypeError, match=op + r"_random_samples must have the input's dtype float64, got float32"):
        F.fractional_max_pool2d(x, 2, 3, _random_samples=mg.tensor(np.zeros((1, 2, 2), np.float32), device=device))
    with pytest.raises(ValueError, match=op + r"_random_samples must lie in \[0, 1\)"):
        F.fractional_max_pool2d(x, 2, 3, _random_samples=mg.tensor(np.ones((1, 2, 2)), device=device))
    with pytest.raises(ValueError, match=op + "kernel_size must be at least 1, got 0"):
        F.fractional_max_pool2d(x, 0, 3)
    with pytest.raises(ValueError, match=op + "input must be"):
        F.fractional_max_pool2d(mg.tensor(np.ones((5, 5)), device=device), 2, 3)
    with pytest.raises(TypeError, match=op + "input must be floating point"):
        F.fractional_max_pool2d(mg.tensor(np.ones((1, 5, 5), np.int64), device=device), 2, 3)
    with pytest.raises(ValueError, match=r"^FractionalMaxPool2d: requires either an output_size or an output_ratio"):
        nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match=r"^FractionalMaxPool2d: output_ratio must be between 0 and 1 \(got 1.5\)"):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)
