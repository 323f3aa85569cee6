"""dropout, avg_pool2d, upsample_nearest2d, pixel_shuffle: forward against loops written from the
definitions (and PyTorch when installed), float64 first- and second-order gradient checks over
hypothesis-drawn shapes, dropout's statistics and seeding, dtypes, and the error messages."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad

seeds = st.integers(0, 2 ** 16)


# -- dropout ------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(device, p):
    x = mg.ones((400, 500), device=device)
    y = F.dropout(x, p).numpy()
    assert y.dtype == np.float32
    dropped = float((y == 0).mean())
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / y.size)  # 5 standard deviations of a binomial
    np.testing.assert_allclose(y[y != 0], np.float32(1 / (1 - p)), rtol=1e-6)
    assert abs(float(y.mean()) - 1.0) < 5 * np.sqrt(p / (1 - p) / y.size)  # inverted: E[y] = x


def test_dropout_identity_when_off(device, rng):
    x = mg.tensor(rng.standard_normal((3, 4)).astype(np.float32), device=device)
    assert F.dropout(x, 0.5, training=False) is x
    np.testing.assert_array_equal(F.dropout(x, 0.0).numpy(), x.numpy())


def test_dropout_is_repeatable_from_the_seed(device):
    x = mg.ones((50, 40), device=device)
    mg.manual_seed(7)
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout(x, 0.5).numpy()
    mg.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), a)
    assert not np.array_equal(a, b)  # the stream moves on between calls


def test_dropout_gradient_uses_the_forward_mask(device, rng):
    p = 0.4
    x = mg.tensor(rng.uniform(1, 2, (30, 20)), device=device, requires_grad=True)
    y = F.dropout(x, p)
    gy = rng.standard_normal(y.shape)
    (gx,) = mg.grad(y, [x], mg.tensor(gy, device=device))
    kept = y.numpy() != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(gx.numpy(), gy * kept / (1 - p), rtol=1e-12)


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), p=st.sampled_from([0.2, 0.5]),
       seed=seeds)
def test_dropout_gradients(device, shape, p, seed):
    def fn(x):
        mg.manual_seed(seed)  # the same mask on every call the numerical check makes
        return F.dropout(x, p)

    x = np.random.default_rng(seed).standard_normal(shape)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("p", [-0.1, 2, True, "0.5", None])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match=r"dropout: p must be a number in \[0, 1\], got"):
        F.dropout(mg.ones((2, 2)), p)


@pytest.mark.parametrize("p", [1, 1.0])
def test_dropout_of_everything_gives_zeros_and_a_zero_gradient(device, p):
    """p = 1 drops every element, as in PyTorch (nothing is left to rescale)."""
    x = mg.ones((3, 4), device=device, requires_grad=True)
    y = F.dropout(x, p)
    assert y.dtype == np.float32 and not np.any(y.numpy())
    (gx,) = mg.grad(y.sum(), [x])
    assert not np.any(gx.numpy())
    assert not np.any(nn.Dropout(p)(x).numpy())


# -- avg_pool2d ---------------------------------------------------------------------------------

def naive_avg_pool2d(x, kernel, stride, padding):
    """Window means over the zero-padded input, every window dividing by kh kw (count_include_pad)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, h, w = x.shape
    xpad = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    xpad[:, :, ph:ph + h, pw:pw + w] = x
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    y = np.zeros((n, c, ho, wo))
    for oy in range(ho):
        for ox in range(wo):
            y[:, :, oy, ox] = xpad[:, :, oy * sh:oy * sh + kh, ox * sw:ox * sw + kw].sum(axis=(2, 3)) / (kh * kw)
    return y


@st.composite
def pool_case(draw, tiny=False):
    """(shape, kernel, stride or None, padding, seed); about a third take the stride == kernel path."""
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    pad = draw(st.one_of(st.just((0, 0)), st.tuples(st.integers(0, k[0] // 2), st.integers(0, k[1] // 2))))
    extra = 2 if tiny else 4
    hw = tuple(draw(st.integers(max(1, k[a] - 2 * pad[a]), max(1, k[a] - 2 * pad[a]) + extra)) for a in (0, 1))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2 if tiny else 3))) + hw
    return shape, k, stride, pad, draw(seeds)


@given(case=pool_case())
def test_avg_pool2d_matches_loops(device, case):
    shape, k, stride, pad, seed = case
    x = np.random.default_rng(seed).standard_normal(shape)
    y = F.avg_pool2d(mg.tensor(x, device=device), k, stride, pad)
    expected = naive_avg_pool2d(x, k, k if stride is None else stride, pad)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-14)


@given(case=pool_case(tiny=True))
def test_avg_pool2d_gradients(device, case):
    shape, k, stride, pad, seed = case
    x = np.random.default_rng(seed).standard_normal(shape)
    fn = lambda t: F.avg_pool2d(t, k, stride, pad)  # noqa: E731
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("stride, padding", [(None, 0), (1, 1), (2, 1)])
def test_avg_pool2d_keeps_float32(device, rng, stride, padding):
    x = mg.tensor(rng.standard_normal((2, 3, 6, 7)).astype(np.float32), device=device, requires_grad=True)
    y = F.avg_pool2d(x, 3, stride, padding)
    (gx,) = mg.grad(y.sum(), [x])
    assert y.dtype == gx.dtype == np.float32


@pytest.mark.parametrize("call, error, message", [
    (lambda x: F.avg_pool2d(x, 3, padding=2), ValueError,
     r"avg_pool2d: padding \(2, 2\) must be at most half the kernel size \(3, 3\)"),
    (lambda x: F.avg_pool2d(x, 9), ValueError, r"avg_pool2d: input of shape \(1, 2, 5, 5\) is smaller than the kernel"),
    (lambda x: F.avg_pool2d(x, 0), ValueError, r"avg_pool2d: kernel_size must be at least 1"),
    (lambda x: F.avg_pool2d(x, 2, stride=0), ValueError, r"avg_pool2d: stride must be at least 1"),
    (lambda x: F.avg_pool2d(x, 2.0), TypeError, r"avg_pool2d: kernel_size must be an int or a pair of ints"),
    (lambda x: F.avg_pool2d(x.reshape(10, 5), 2), ValueError,
     r"avg_pool2d: input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(10, 5\)"),
])
def test_avg_pool2d_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call(mg.ones((1, 2, 5, 5)))


def test_avg_pool2d_takes_an_unbatched_input(rng):
    x = mg.tensor(rng.standard_normal((2, 5, 6)))
    for kwargs in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}):
        y = F.avg_pool2d(x, **kwargs)
        np.testing.assert_array_equal(y.numpy(), F.avg_pool2d(x.reshape(1, 2, 5, 6), **kwargs).numpy()[0])


# -- upsample_nearest2d ---------------------------------------------------------------------------

def naive_upsample(x, fh, fw):
    n, c, h, w = x.shape
    y = np.zeros((n, c, h * fh, w * fw))
    for i in range(h * fh):
        for j in range(w * fw):
            y[:, :, i, j] = x[:, :, i // fh, j // fw]
    return y


@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 3), st.integers(1, 3)),
       factor=st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))), seed=seeds)
def test_upsample_nearest2d(device, shape, factor, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    fh, fw = (factor, factor) if isinstance(factor, int) else factor
    y = F.upsample_nearest2d(mg.tensor(x, device=device), factor)
    np.testing.assert_array_equal(y.numpy(), naive_upsample(x, fh, fw))
    fn = lambda t: F.upsample_nearest2d(t, factor)  # noqa: E731
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


def test_upsample_nearest2d_keeps_float32(device, rng):
    x = mg.tensor(rng.standard_normal((1, 2, 3, 3)).astype(np.float32), device=device, requires_grad=True)
    y = F.upsample_nearest2d(x, 2)
    (gx,) = mg.grad(y.sum(), [x])
    assert y.dtype == gx.dtype == np.float32
    np.testing.assert_array_equal(gx.numpy(), np.full((1, 2, 3, 3), 4, dtype=np.float32))


@pytest.mark.parametrize("factor, error, message", [
    (0, ValueError, r"upsample_nearest2d: scale_factor must be at least 1"),
    (1.5, TypeError, r"upsample_nearest2d: scale_factor must be an int or a pair of ints, got 1.5"),
    ((2, 2, 2), TypeError, r"upsample_nearest2d: scale_factor must be an int or a pair of ints"),
])
def test_upsample_nearest2d_bad_arguments(factor, error, message):
    with pytest.raises(error, match=message):
        F.upsample_nearest2d(mg.ones((1, 1, 2, 2)), factor)
    with pytest.raises(ValueError, match=r"upsample_nearest2d: input must be 4-D .* \(2, 2\)"):
        F.upsample_nearest2d(mg.ones((2, 2)), 2)


# -- pixel_shuffle ----------------------------------------------------------------------------------

def naive_pixel_shuffle(x, r):
    """y[..., c, h r + i, w r + j] = x[..., c r^2 + i r + j, h, w]."""
    *lead, cr, h, w = x.shape
    c = cr // (r * r)
    y = np.zeros(tuple(lead) + (c, h * r, w * r))
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                y[..., ch, i::r, j::r] = x[..., ch * r * r + i * r + j, :, :]
    return y


@given(lead=st.lists(st.integers(1, 2), min_size=0, max_size=2).map(tuple), c=st.integers(1, 2),
       r=st.integers(1, 3), hw=st.tuples(st.integers(1, 3), st.integers(1, 3)), seed=seeds)
def test_pixel_shuffle(device, lead, c, r, hw, seed):
    x = np.random.default_rng(seed).standard_normal(lead + (c * r * r,) + hw)
    y = F.pixel_shuffle(mg.tensor(x, device=device), r)
    np.testing.assert_array_equal(y.numpy(), naive_pixel_shuffle(x, r))
    fn = lambda t: F.pixel_shuffle(t, r)  # noqa: E731
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("shape, factor, error, message", [
    ((1, 6, 2, 2), 2, ValueError, r"pixel_shuffle: input of shape \(1, 6, 2, 2\) must be \(\*, C \* 4, H, W\)"),
    ((4, 2), 2, ValueError, r"pixel_shuffle: input of shape \(4, 2\)"),
    ((1, 4, 2, 2), (2, 2), TypeError, r"pixel_shuffle: upscale_factor must be an int"),
    ((1, 4, 2, 2), 0, ValueError, r"pixel_shuffle: upscale_factor must be at least 1"),
])
def test_pixel_shuffle_bad_arguments(shape, factor, error, message):
    with pytest.raises(error, match=message):
        F.pixel_shuffle(mg.ones(shape), factor)


# -- PyTorch, where installed -----------------------------------------------------------------------

@given(case=pool_case(), factor=st.integers(1, 3))
def test_sampling_ops_match_torch(device, case, factor):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    shape, k, stride, pad, seed = case
    x = np.random.default_rng(seed).standard_normal(shape)
    xt = torch.tensor(x)
    ours = mg.tensor(x, device=device)
    np.testing.assert_allclose(F.avg_pool2d(ours, k, stride, pad).numpy(),
                               tf.avg_pool2d(xt, k, stride, pad).numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(F.upsample_nearest2d(ours, factor).numpy(),
                                  tf.interpolate(xt, scale_factor=factor, mode="nearest").numpy())
    wide = np.random.default_rng(seed).standard_normal((shape[0], shape[1] * factor * factor) + shape[2:])
    np.testing.assert_array_equal(F.pixel_shuffle(mg.tensor(wide, device=device), factor).numpy(),
                                  tf.pixel_shuffle(torch.tensor(wide), factor).numpy())
