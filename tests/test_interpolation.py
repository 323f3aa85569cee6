"""interpolate (every mode) and adaptive_avg_pool2d: forward against loops written from the definitions
and against PyTorch when installed, float64 first- and second-order gradient checks over
hypothesis-drawn shapes, sizes and factors, dtypes, and the error messages."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigan as mg
import minigan.functional as F
from gradcheck import check_double_grad, check_grad

seeds = st.integers(0, 2 ** 16)
CUBIC_A = -0.75


# -- references, one output sample at a time ----------------------------------------------------

def source_position(i, n, m, factor, align_corners, clamp):
    """Where output sample i of m sits among n input samples (Python floats: float64)."""
    if align_corners:
        return i * (n - 1) / (m - 1) if m > 1 else 0.0
    scale = 1 / factor if factor is not None else n / m
    pos = scale * (i + 0.5) - 0.5
    return max(pos, 0.0) if clamp else pos


def axis_weights(mode, n, m, factor, align_corners, two_d):
    """{input index: weight} for each output sample of one axis, from the definitions."""
    rows = []
    for i in range(m):
        if mode in ("nearest", "nearest-exact"):
            # 2-D "nearest" maps m = n and m = 2n exactly; otherwise the position is rounded to float32
            # before the floor (ATen's rules).
            s = 1 / factor if factor is not None else n / m
            if mode == "nearest" and two_d and m in (n, 2 * n):
                j = i * n // m
            else:
                j = min(math.floor(np.float32((i + 0.5 if mode == "nearest-exact" else i) * s)), n - 1)
            rows.append({j: 1.0})
        elif mode == "area":
            start, stop = math.floor(i * n / m), math.ceil((i + 1) * n / m)
            rows.append({j: 1 / (stop - start) for j in range(start, stop)})
        elif mode in ("linear", "bilinear"):
            if m == n:
                rows.append({i: 1.0})
                continue
            pos = source_position(i, n, m, factor, align_corners, clamp=True)
            left = min(math.floor(pos), n - 1)
            t = pos - left
            right = min(left + 1, n - 1)
            row = {left: 1 - t}
            row[right] = row.get(right, 0.0) + t
            rows.append(row)
        else:  # bicubic: Keys' cubic convolution with a = -0.75, taps clamped to the edge
            pos = source_position(i, n, m, factor, align_corners, clamp=False)
            left = min(math.floor(pos), n - 1)
            t = pos - left
            row = {}
            for k in range(-1, 3):
                d = abs(t - k)
                a = CUBIC_A
                w = ((a + 2) * d - (a + 3)) * d * d + 1 if d <= 1 else ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
                j = min(max(left + k, 0), n - 1)
                row[j] = row.get(j, 0.0) + w
            rows.append(row)
    return rows


def naive_interpolate(x, sizes, factors, mode, align_corners):
    """Resize x's trailing axes one at a time, each output sample a weighted sum of input samples."""
    two_d = len(sizes) == 2
    for k, (m, f) in enumerate(zip(sizes, factors)):
        axis = x.ndim - len(sizes) + k
        n = x.shape[axis]
        xs = np.moveaxis(x, axis, -1)
        out = np.zeros(xs.shape[:-1] + (m,))
        for i, row in enumerate(axis_weights(mode, n, m, f, align_corners, two_d)):
            for j, w in row.items():
                out[..., i] += w * xs[..., j]
        x = np.moveaxis(out, -1, axis)
    return x


@st.composite
def resize_case(draw):
    """(shape, kwargs of interpolate, output sizes, factors ATen uses, mode, align_corners)."""
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "area"]))
    d = {"linear": 1, "bilinear": 2, "bicubic": 2}.get(mode) or draw(st.integers(1, 2))
    spatial = tuple(draw(st.integers(1, 7)) for _ in range(d))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial
    kwargs = {"mode": mode}
    if mode in ("linear", "bilinear", "bicubic"):
        kwargs["align_corners"] = draw(st.sampled_from([None, False, True]))
    if draw(st.booleans()):
        sizes = tuple(draw(st.integers(1, 11)) for _ in range(d))
        kwargs["size"] = sizes if d > 1 or draw(st.booleans()) else sizes[0]
        factors = (None,) * d
    else:
        factors = tuple(draw(st.sampled_from([0.5, 0.75, 1.0, 1.3, 1.5, 2.0, 2.5, 3.0])) for _ in range(d))
        sizes = tuple(math.floor(n * f) for n, f in zip(spatial, factors))
        if min(sizes) < 1:
            factors = tuple(max(f, 1.0) for f in factors)
            sizes = tuple(math.floor(n * f) for n, f in zip(spatial, factors))
        kwargs["scale_factor"] = factors
        if draw(st.booleans()):
            kwargs["recompute_scale_factor"] = True
        if kwargs.get("recompute_scale_factor") or mode == "area":
            factors = (None,) * d
    return shape, kwargs, sizes, factors, mode, bool(kwargs.get("align_corners"))


# -- interpolate ----------------------------------------------------------------------------------

@given(case=resize_case(), seed=seeds)
def test_interpolate_matches_loops(device, case, seed):
    shape, kwargs, sizes, factors, mode, align_corners = case
    x = np.random.default_rng(seed).standard_normal(shape)
    y = F.interpolate(mg.tensor(x, device=device), **kwargs).numpy()
    np.testing.assert_allclose(y, naive_interpolate(x, sizes, factors, mode, align_corners), rtol=1e-12, atol=1e-12)


@given(case=resize_case(), seed=seeds)
def test_interpolate_gradients(device, case, seed):
    shape, kwargs = case[:2]
    x = np.random.default_rng(seed).standard_normal(shape)
    fn = lambda t: F.interpolate(t, **kwargs)  # noqa: E731
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@given(case=resize_case(), seed=seeds, dtype=st.sampled_from([np.float32, np.float64]))
def test_interpolate_matches_torch(device, case, seed, dtype):
    torch = pytest.importorskip("torch")
    shape, kwargs, _, _, mode, _ = case
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    ours = F.interpolate(mg.tensor(x, device=device), **kwargs).numpy()
    theirs = torch.nn.functional.interpolate(torch.tensor(x), **kwargs).numpy()
    assert ours.dtype == dtype
    if mode.startswith("nearest"):
        np.testing.assert_array_equal(ours, theirs)  # the same source pixel, copied
    else:
        tol = 3e-5 if dtype == np.float32 else 1e-12  # bicubic's weights reach 1.3 in sum of magnitudes
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kwargs", [  # sizes where a position computed in the other precision differs
    ((1, 1, 24), {"size": 74}), ((1, 1, 30), {"size": 43, "mode": "nearest-exact"}),
    ((1, 1, 16), {"size": 41, "mode": "nearest-exact"}), ((1, 1, 20, 11), {"scale_factor": (2.001, 0.5)}),
    ((1, 1, 19, 36), {"scale_factor": (2.75, 3.095), "recompute_scale_factor": True}),
    ((1, 1, 3), {"scale_factor": 1.32}),  # 1-D nearest has no m = n shortcut
    ((1, 1, 3, 2), {"scale_factor": 1.32}),  # 2-D nearest has, and maps m = 2n exactly (the line above)
    ((1, 1, 3, 2), {"scale_factor": 1.32, "mode": "nearest-exact"}),  # nearest-exact has not
])
def test_nearest_rounds_as_torch(shape, kwargs, dtype):
    torch = pytest.importorskip("torch")
    x = np.arange(math.prod(shape), dtype=dtype).reshape(shape)
    np.testing.assert_array_equal(F.interpolate(mg.tensor(x), **kwargs).numpy(),
                                  torch.nn.functional.interpolate(torch.tensor(x), **kwargs).numpy())


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "area"])
def test_interpolate_keeps_float32(device, rng, mode):
    x = mg.tensor(rng.standard_normal((2, 3, 5, 4)).astype(np.float32), device=device, requires_grad=True)
    y = F.interpolate(x, scale_factor=1.5, mode=mode)  # a Python float factor must not promote
    (gx,) = mg.grad((y * y).sum(), [x])
    assert y.dtype == gx.dtype == np.float32


@pytest.mark.parametrize("kwargs", [{"scale_factor": 2}, {"size": (8, 12)}, {"scale_factor": (3, 2.0)},
                                    {"scale_factor": 2, "mode": "nearest-exact"}])
def test_whole_factor_nearest_copies_blocks(kwargs, rng):
    x = mg.tensor(rng.standard_normal((2, 3, 4, 6)).astype(np.float32), requires_grad=True)
    y = F.interpolate(x, **kwargs)
    fh, fw = y.shape[2] // 4, y.shape[3] // 6
    np.testing.assert_array_equal(y.numpy(), F.upsample_nearest2d(x, (fh, fw)).numpy())
    assert type(y.creator).__name__ == "Reshape"  # the broadcast into blocks, not a matmul


@pytest.mark.parametrize("kwargs, shape, message", [
    ({}, (1, 1, 2, 2), r"interpolate: give exactly one of size and scale_factor, got size=None and scale_factor=None"),
    ({"size": 4, "scale_factor": 2}, (1, 1, 2, 2), r"interpolate: give exactly one of size and scale_factor"),
    ({"size": (4, 0)}, (1, 1, 2, 2), r"interpolate: size must be a positive int .*got size=\(4, 0\)"),
    ({"size": 2.5}, (1, 1, 2, 2), r"interpolate: size must be a positive int .*got size=2.5"),
    ({"scale_factor": -1}, (1, 1, 2, 2), r"interpolate: scale_factor must be a positive number .*got scale_factor=-1"),
    ({"scale_factor": (2, 2, 2)}, (1, 1, 2, 2),
     r"interpolate: scale_factor=\(2, 2, 2\) gives 3 values for input of shape \(1, 1, 2, 2\), which has 2 spatial"),
    ({"scale_factor": 0.25}, (1, 1, 2, 2), r"interpolate: scale_factor=0.25 shrinks input of shape \(1, 1, 2, 2\) "
                                           r"to spatial size \(0, 0\)"),
    ({"scale_factor": 2, "mode": "trilinear"}, (1, 1, 2, 2), r"interpolate: mode must be one of .*got mode='trilinear'"),
    ({"scale_factor": 2, "mode": "bilinear"}, (1, 1, 2), r"interpolate: mode='bilinear' needs 4-D \(N, C, H, W\) "
                                                         r"input, got shape \(1, 1, 2\)"),
    ({"scale_factor": 2, "mode": "linear"}, (1, 1, 2, 2), r"interpolate: mode='linear' needs 3-D"),
    ({"scale_factor": 2}, (1, 1, 2, 2, 2), r"interpolate: input must be 3-D \(N, C, L\) or 4-D .*\(1, 1, 2, 2, 2\)"),
    ({"scale_factor": 2, "align_corners": False}, (1, 1, 2, 2),
     r"interpolate: align_corners=False can only be set with the interpolating modes"),
    ({"size": 4, "recompute_scale_factor": True}, (1, 1, 2, 2), r"interpolate: recompute_scale_factor has no meaning"),
    ({"scale_factor": 2, "mode": "bilinear", "antialias": True}, (1, 1, 2, 2),
     r"interpolate: antialias=True is not supported"),
])
def test_interpolate_bad_arguments(kwargs, shape, message):
    with pytest.raises(ValueError, match=message):
        F.interpolate(mg.zeros(*shape), **kwargs)


def test_interpolate_refuses_integer_input():
    with pytest.raises(TypeError, match=r"interpolate: input must be floating point, got dtype int64"):
        F.interpolate(mg.tensor(np.ones((1, 1, 2, 2), dtype=np.int64)), scale_factor=2)


# -- adaptive_avg_pool2d ------------------------------------------------------------------------------

@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 7), st.integers(1, 7)),
       out=st.tuples(st.one_of(st.none(), st.integers(1, 7)), st.integers(1, 7)), seed=seeds)
def test_adaptive_avg_pool2d(device, shape, out, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    sizes = (shape[2] if out[0] is None else out[0], out[1])
    y = F.adaptive_avg_pool2d(mg.tensor(x, device=device), out)
    np.testing.assert_allclose(y.numpy(), naive_interpolate(x, sizes, (None, None), "area", False), rtol=1e-12,
                               atol=1e-12)
    fn = lambda t: F.adaptive_avg_pool2d(t, out)  # noqa: E731
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(y.numpy(), torch.nn.functional.adaptive_avg_pool2d(torch.tensor(x), out).numpy(),
                               rtol=1e-12, atol=1e-12)


def test_adaptive_avg_pool2d_unbatched_and_float32(rng):
    x = rng.standard_normal((3, 6, 5)).astype(np.float32)
    y = F.adaptive_avg_pool2d(mg.tensor(x), 2)
    assert y.shape == (3, 2, 2) and y.dtype == np.float32
    np.testing.assert_allclose(y.numpy()[:, 0, 0], x[:, :3, :3].mean(axis=(1, 2)), rtol=1e-6)


@pytest.mark.parametrize("out", [0, (2, 0), (2, 2, 2), 1.5, "2"])
def test_adaptive_avg_pool2d_bad_output_size(out):
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be a positive int or a pair"):
        F.adaptive_avg_pool2d(mg.zeros(1, 1, 4, 4), out)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: input must be 4-D .*got shape \(4, 4\)"):
        F.adaptive_avg_pool2d(mg.zeros(4, 4), 2)
