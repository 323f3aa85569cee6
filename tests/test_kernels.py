"""Every registered kernel against a naive loop or formula written here, on the same inputs.

Implementations are enumerated from the registry (``kernels.implementations``), so a kernel registered
later (Numba, CUDA) is tested by these same checks without touching this file. CUDA ones run where a
GPU is present; the Numba simulator has its own run.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan
from minigan import backend, kernels
from minigan.kernels.reference import conv_output_size


def _implementations(primitive):
    """pytest params (device, name) for every implementation of ``primitive`` that loads here."""
    devices = ["cpu"] + (["cuda:0"] if minigan.cuda.is_available() else [])
    return [pytest.param(device, name, id=f"{device}-{name}")
            for device in devices for _, _, name in kernels.implementations(primitive, device.split(":")[0])]


def _kernel(primitive, device, name):
    return kernels.get(primitive, backend.array_module_for(device), name=name)


def _on(device, *arrays):
    moved = tuple(backend.to_device(a, device) for a in arrays)
    return moved if len(moved) > 1 else moved[0]


def _host(array):
    return backend.to_device(array, "cpu")


@st.composite
def conv_geometry(draw):
    """(n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw) with an output of at least 1x1."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw, dh, dw = (draw(st.integers(1, 3)) for _ in range(4))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    low_h, low_w = max(1, dh * (kh - 1) + 1 - 2 * ph), max(1, dw * (kw - 1) + 1 - 2 * pw)
    h, w = draw(st.integers(low_h, low_h + 5)), draw(st.integers(low_w, low_w + 5))
    return draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w, kh, kw, sh, sw, ph, pw, dh, dw


def naive_im2col(x, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    ho, wo = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    col = np.zeros((n, ho, wo, kh, kw, c), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            for oy in range(ho):
                for ox in range(wo):
                    y, z = oy * sh + i * dh - ph, ox * sw + j * dw - pw
                    if 0 <= y < h and 0 <= z < w:
                        col[:, oy, ox, i, j, :] = x[:, :, y, z]
    return col


def naive_col2im(col, h, w, sh, sw, ph, pw, dh, dw):
    n, ho, wo, kh, kw, c = col.shape
    x = np.zeros((n, c, h, w), dtype=col.dtype)
    for i in range(kh):
        for j in range(kw):
            for oy in range(ho):
                for ox in range(wo):
                    y, z = oy * sh + i * dh - ph, ox * sw + j * dw - pw
                    if 0 <= y < h and 0 <= z < w:
                        x[:, :, y, z] += col[:, oy, ox, i, j, :]
    return x


@pytest.mark.parametrize("device, name", _implementations("im2col"))
@given(geo=conv_geometry(), dtype=st.sampled_from([np.float32, np.float64]),
       layout=st.sampled_from(["contiguous", "transposed", "broadcast"]), seed=st.integers(0, 2 ** 16))
def test_im2col_matches_naive_loop(device, name, geo, dtype, layout, seed):
    n, c, h, w, kh, kw, *conv = geo
    x = np.random.default_rng(seed).standard_normal((n, c, h, w)).astype(dtype)
    # Ops pass views too (crops, transposes, gradients of broadcasts): any strides must work.
    if layout == "transposed":
        x = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    elif layout == "broadcast":
        x = np.broadcast_to(x[:1, :, :1], x.shape)
    col = _kernel("im2col", device, name)(_on(device, x), kh, kw, *conv)
    expected = naive_im2col(x, kh, kw, *conv)
    assert col.shape == expected.shape and col.dtype == x.dtype
    assert col.flags.c_contiguous
    np.testing.assert_array_equal(_host(col), expected)


@pytest.mark.parametrize("device, name", _implementations("col2im"))
@given(geo=conv_geometry(), dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2 ** 16))
def test_col2im_matches_naive_loop(device, name, geo, dtype, seed):
    n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw = geo
    ho, wo = conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)
    col = np.random.default_rng(seed).standard_normal((n, ho, wo, kh, kw, c)).astype(dtype)
    x = _kernel("col2im", device, name)(_on(device, col), h, w, sh, sw, ph, pw, dh, dw)
    expected = naive_col2im(col, h, w, sh, sw, ph, pw, dh, dw)
    assert x.shape == expected.shape and x.dtype == col.dtype
    np.testing.assert_allclose(_host(x), expected, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


@pytest.mark.parametrize("device, name", _implementations("col2im"))
@given(geo=conv_geometry(), seed=st.integers(0, 2 ** 16))
def test_col2im_is_the_adjoint_of_im2col(device, name, geo, seed):
    """<im2col(x), c> == <x, col2im(c)> for every implementation pair, in float64."""
    n, c, h, w, kh, kw, *conv = geo
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    im2col = _kernel("im2col", device, None)
    cols = _host(im2col(_on(device, x), kh, kw, *conv))
    probe = rng.standard_normal(cols.shape)
    back = _host(_kernel("col2im", device, name)(_on(device, probe), h, w, *conv))
    np.testing.assert_allclose(np.vdot(cols, probe), np.vdot(x, back), rtol=1e-10, atol=1e-10)


slopes = st.one_of(st.just(0.0), st.floats(1e-3, 1.0))


@st.composite
def elementwise_case(draw):
    """A small shape, a dtype, a slope in [0, 1] and a seed; the data include exact zeros."""
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    return shape, draw(st.sampled_from([np.float32, np.float64])), draw(slopes), draw(st.integers(0, 2 ** 16))


def _with_zeros(rng, shape, dtype):
    x = rng.standard_normal(shape)
    x[rng.random(shape) < 0.2] = 0.0
    return x.astype(dtype)


@pytest.mark.parametrize("device, name", _implementations("leaky_relu"))
@given(case=elementwise_case())
def test_leaky_relu_matches_formula(device, name, case):
    shape, dtype, slope, seed = case
    x = _with_zeros(np.random.default_rng(seed), shape, dtype)
    y = _kernel("leaky_relu", device, name)(_on(device, x), slope)
    expected = np.where(x > 0, x, x.astype(np.float64) * slope)
    assert y.shape == x.shape and y.dtype == x.dtype
    np.testing.assert_allclose(_host(y), expected, rtol=1e-6 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("device, name", _implementations("leaky_relu_grad"))
@given(case=elementwise_case())
def test_leaky_relu_grad_matches_formula(device, name, case):
    """gx = gy where x > 0, slope * gy elsewhere (x == 0 included, as PyTorch)."""
    shape, dtype, slope, seed = case
    rng = np.random.default_rng(seed)
    x, gy = _with_zeros(rng, shape, dtype), rng.standard_normal(shape).astype(dtype)
    gx = _kernel("leaky_relu_grad", device, name)(*_on(device, x, gy), slope)
    expected = np.where(x > 0, gy, gy.astype(np.float64) * slope)
    assert gx.shape == x.shape and gx.dtype == gy.dtype
    np.testing.assert_allclose(_host(gx), expected, rtol=1e-6 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("device, name", _implementations("adam_update"))
@settings(max_examples=15)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple),
       dtype=st.sampled_from([np.float32, np.float64]),
       lr=st.floats(1e-4, 1e-1), beta1=st.floats(0.0, 0.99), beta2=st.floats(0.9, 0.9999),
       eps=st.sampled_from([1e-8, 1e-6]), weight_decay=st.sampled_from([0.0, 0.01]),
       step=st.integers(1, 50), seed=st.integers(0, 2 ** 16))
def test_adam_update_matches_formula(device, name, shape, dtype, lr, beta1, beta2, eps, weight_decay, step, seed):
    """One in-place step against Kingma & Ba's Algorithm 1 (with L2 decay as torch.optim.Adam), in float64."""
    rng = np.random.default_rng(seed)
    p0, g = rng.standard_normal(shape), rng.standard_normal(shape)
    m0, v0 = rng.standard_normal(shape) * 0.1, rng.random(shape) * 0.1
    param, grad, m, v = (_on(device, a.astype(dtype)) for a in (p0, g, m0, v0))
    grad_before = _host(grad).copy()
    _kernel("adam_update", device, name)(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step)

    p0, g, m0, v0 = (a.astype(dtype).astype(np.float64) for a in (p0, g, m0, v0))
    g = g + weight_decay * p0
    m1 = beta1 * m0 + (1 - beta1) * g
    v1 = beta2 * v0 + (1 - beta2) * g * g
    p1 = p0 - lr / (1 - beta1 ** step) * m1 / (np.sqrt(v1 / (1 - beta2 ** step)) + eps)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    for got, want in ((param, p1), (m, m1), (v, v1)):
        assert got.dtype == dtype
        np.testing.assert_allclose(_host(got), want, **tol)
    np.testing.assert_array_equal(_host(grad), grad_before)
