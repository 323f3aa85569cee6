"""interpolate (every mode, antialias, 3-D to 5-D input), adaptive_avg_pool1d/2d/3d and their layers:
forward against loops written from the definitions and against PyTorch when installed, float64 first-
and second-order gradient checks over hypothesis-drawn shapes, sizes and factors, dtypes, and the error
messages."""
import math
import re

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigan as mg
import minigan.functional as F
from gradcheck import check_double_grad, check_grad

seeds = st.integers(0, 2 ** 16)
CUBIC_A = -0.75
AA_CUBIC_A = -0.5  # PyTorch's (and Pillow's) with antialias


# -- references, one output sample at a time ----------------------------------------------------

def scale_of(n, m, factor, align_corners):
    """The input step per output step (Python floats: float64)."""
    if align_corners:
        return (n - 1) / (m - 1) if m > 1 else 0.0
    return 1 / factor if factor is not None else n / m


def source_position(i, n, m, factor, align_corners, clamp):
    """Where output sample i of m sits among n input samples."""
    scale = scale_of(n, m, factor, align_corners)
    if align_corners:
        return i * scale
    pos = scale * (i + 0.5) - 0.5
    return max(pos, 0.0) if clamp else pos


def keys_cubic(d, a):
    """Keys' cubic convolution kernel at distance d >= 0."""
    if d <= 1:
        return ((a + 2) * d - (a + 3)) * d * d + 1
    return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a if d < 2 else 0.0


def antialias_row(mode, i, n, m, factor, align_corners):
    """Output i's weights with antialias, as Pillow's resampler defines them: the filter (a triangle, or
    Keys' cubic with a = -1/2) stretched by the scale s when it is above 1, centred at s (i + 1/2) where
    input j is centred at j + 1/2, over the inputs within its support, normalised to sum 1. PyTorch
    leaves an axis whose size is unchanged alone."""
    if m == n:
        return {i: 1.0}
    s = scale_of(n, m, factor, align_corners)
    stretch, half = max(s, 1.0), (2 if mode == "bicubic" else 1)
    center = s * (i + 0.5)
    lo, hi = max(int(center - half * stretch + 0.5), 0), min(int(center + half * stretch + 0.5), n)
    row = {}
    for j in range(lo, hi):
        d = abs(j + 0.5 - center) / stretch
        row[j] = keys_cubic(d, AA_CUBIC_A) if mode == "bicubic" else max(1 - d, 0.0)
    total = sum(row.values())
    return {j: w / total for j, w in row.items()}


def axis_weights(mode, n, m, factor, align_corners, two_d, antialias=False):
    """{input index: weight} for each output sample of one axis, from the definitions."""
    rows = []
    for i in range(m):
        if antialias:
            rows.append(antialias_row(mode, i, n, m, factor, align_corners))
        elif mode in ("nearest", "nearest-exact"):
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
        elif mode in ("linear", "bilinear", "trilinear"):
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
                j = min(max(left + k, 0), n - 1)
                row[j] = row.get(j, 0.0) + keys_cubic(abs(t - k), CUBIC_A)
            rows.append(row)
    return rows


def naive_interpolate(x, sizes, factors, mode, align_corners, antialias=False):
    """Resize x's trailing axes one at a time, each output sample a weighted sum of input samples."""
    two_d = len(sizes) == 2
    for k, (m, f) in enumerate(zip(sizes, factors)):
        axis = x.ndim - len(sizes) + k
        n = x.shape[axis]
        xs = np.moveaxis(x, axis, -1)
        out = np.zeros(xs.shape[:-1] + (m,))
        for i, row in enumerate(axis_weights(mode, n, m, f, align_corners, two_d, antialias)):
            for j, w in row.items():
                out[..., i] += w * xs[..., j]
        x = np.moveaxis(out, -1, axis)
    return x


MODES = ["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"]
RANKS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}  # the others take 1 to 3 spatial axes


@st.composite
def resize_case(draw, antialias=False, rank=None):
    """(shape, kwargs of interpolate, output sizes, factors ATen uses, mode, align_corners): any mode and
    rank; or with ``antialias`` bilinear and bicubic antialiased, on larger inputs shrunk by up to 5; or
    every mode that takes ``rank`` spatial axes."""
    modes = ["bilinear", "bicubic"] if antialias else [m for m in MODES if rank in (None, RANKS.get(m, rank))]
    mode = draw(st.sampled_from(modes))
    d = RANKS.get(mode) or rank or draw(st.integers(1, 3))
    # 5-D kept small: the gradient checks take a finite difference per input and output element.
    side, most = (3, 5) if d == 3 else (10, 10) if antialias else (7, 11)
    spatial = tuple(draw(st.integers(1, side)) for _ in range(d))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial
    kwargs = {"mode": mode, "antialias": True} if antialias else {"mode": mode}
    if mode in RANKS:
        kwargs["align_corners"] = draw(st.sampled_from([None, False, True]))
    if draw(st.booleans()):
        sizes = tuple(draw(st.integers(1, most)) for _ in range(d))
        kwargs["size"] = sizes if d > 1 or draw(st.booleans()) else sizes[0]
        factors = (None,) * d
    else:
        factors = tuple(draw(st.sampled_from([0.2, 0.3, 0.5, 0.75, 1.0, 1.3, 1.5, 2.0, 2.5, 3.0])) for _ in range(d))
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


CASES = pytest.mark.parametrize("cases", [resize_case(), resize_case(antialias=True), resize_case(rank=3)],
                                ids=["any", "antialias", "5-D"])


def torch_antialias_gets_rows_wrong(shape, kwargs, sizes):
    """Whether torch 2.13's CPU forward of this antialiased resize is wrong: with an output one column
    wide and the height changed, it gives every output row the weights of row 0 (its backward uses each
    row's own, as here; ``test_antialias_one_column_wide``)."""
    return kwargs.get("antialias") and sizes[-1] == 1 and sizes[-2] != shape[-2]


# -- interpolate ----------------------------------------------------------------------------------

@CASES
@given(data=st.data(), seed=seeds)
def test_interpolate_matches_loops(device, cases, data, seed):
    shape, kwargs, sizes, factors, mode, align_corners = data.draw(cases)
    x = np.random.default_rng(seed).standard_normal(shape)
    y = F.interpolate(mg.tensor(x, device=device), **kwargs).numpy()
    np.testing.assert_allclose(y, naive_interpolate(x, sizes, factors, mode, align_corners, kwargs.get("antialias")),
                               rtol=1e-12, atol=1e-12)


@CASES
@given(data=st.data(), seed=seeds)
def test_interpolate_gradients(device, cases, data, seed):
    shape, kwargs = data.draw(cases)[:2]
    x = np.random.default_rng(seed).standard_normal(shape)
    fn = lambda t: F.interpolate(t, **kwargs)  # noqa: E731
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@CASES
@given(data=st.data(), seed=seeds, dtype=st.sampled_from([np.float32, np.float64]))
def test_interpolate_matches_torch(device, cases, data, seed, dtype):
    """The output against PyTorch's. Not the gradient: PyTorch's backward is not always the adjoint of
    its forward (see the module's docstring); the gradient checks hold ours to our forward."""
    torch = pytest.importorskip("torch")
    shape, kwargs, sizes, _, mode, _ = data.draw(cases)
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    ours = F.interpolate(mg.tensor(x, device=device), **kwargs).numpy()
    theirs = torch.nn.functional.interpolate(torch.tensor(x), **kwargs).numpy()
    assert ours.dtype == dtype
    if mode.startswith("nearest"):
        np.testing.assert_array_equal(ours, theirs)  # the same source pixel, copied
    elif not torch_antialias_gets_rows_wrong(shape, kwargs, sizes):
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
    ((1, 1, 3, 2, 2), {"scale_factor": 1.32}),  # 3-D nearest has neither shortcut (ATen's generic kernel)
    ((1, 1, 2, 3, 3), {"scale_factor": 2.001}),
])
def test_nearest_rounds_as_torch(shape, kwargs, dtype):
    torch = pytest.importorskip("torch")
    x = np.arange(math.prod(shape), dtype=dtype).reshape(shape)
    np.testing.assert_array_equal(F.interpolate(mg.tensor(x), **kwargs).numpy(),
                                  torch.nn.functional.interpolate(torch.tensor(x), **kwargs).numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("shape, kwargs", [
    ((2, 3, 32, 40), {"size": (7, 9)}),  # shrunk 4.6 and 4.4 times
    ((2, 3, 32, 40), {"scale_factor": 0.3}),
    ((1, 2, 28, 28), {"scale_factor": (0.5, 1 / 3)}),
    ((1, 2, 28, 28), {"scale_factor": 0.3, "recompute_scale_factor": True}),
    ((1, 2, 30, 6), {"size": (1, 4)}),  # to one row
    ((1, 2, 1, 8), {"size": (5, 3)}),  # from one row
    ((1, 2, 9, 7), {"size": (20, 15)}),  # upsampled
    ((1, 2, 9, 7), {"scale_factor": (2.5, 1.3)}),
    ((1, 2, 9, 7), {"scale_factor": (0.45, 2.2)}),  # one axis each way
])
def test_antialias_matches_torch_on_larger_images(shape, kwargs, mode, align_corners, dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    kwargs = dict(kwargs, mode=mode, align_corners=align_corners, antialias=True)
    ours = F.interpolate(mg.tensor(x), **kwargs).numpy()
    assert ours.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours, torch.nn.functional.interpolate(torch.tensor(x), **kwargs).numpy(), rtol=tol,
                               atol=tol)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_one_column_wide(mode):
    """torch 2.13's CPU forward gives every row of a one-column-wide output the weights of row 0 when the
    height changes (``torch_antialias_gets_rows_wrong``); its backward does not. The output here is the
    one its backward is the adjoint of: row k of the map is the gradient of output k."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((1, 1, 9, 4))
    kwargs = {"size": (4, 1), "mode": mode, "antialias": True}
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.interpolate(xt, **kwargs).ravel()
    rows = np.stack([torch.autograd.grad(yt[k], xt, retain_graph=True)[0].numpy().ravel() for k in range(4)])
    np.testing.assert_allclose(F.interpolate(mg.tensor(x), **kwargs).numpy().ravel(), rows @ x.ravel(),
                               rtol=1e-12, atol=1e-12)


@given(shape=st.tuples(st.integers(1, 8), st.integers(1, 8)), out=st.tuples(st.integers(1, 20), st.integers(1, 20)),
       seed=seeds)
def test_antialias_bilinear_upsampling_is_plain_bilinear(shape, out, seed):
    """Upsampling keeps the filter's width, so antialias changes nothing for bilinear without
    align_corners (bicubic's a and renormalised borders, and align_corners' centres, differ)."""
    out = tuple(max(n, m) for n, m in zip(shape, out))
    x = mg.tensor(np.random.default_rng(seed).standard_normal((1, 2) + shape))
    plain, smooth = (F.interpolate(x, size=out, mode="bilinear", antialias=aa).numpy() for aa in (False, True))
    np.testing.assert_allclose(smooth, plain, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode, shape, kwargs", [
    ("nearest", (2, 3, 5, 4), {}), ("bilinear", (2, 3, 5, 4), {}), ("bicubic", (2, 3, 5, 4), {}),
    ("area", (2, 3, 5, 4), {}), ("bilinear", (2, 3, 5, 4), {"antialias": True}),
    ("bicubic", (2, 3, 5, 4), {"antialias": True}), ("nearest", (2, 3, 2, 5, 4), {}),
    ("trilinear", (2, 3, 2, 5, 4), {}), ("area", (2, 3, 2, 5, 4), {}),
])
@pytest.mark.parametrize("factor", [1.5, 0.5])
def test_interpolate_keeps_float32(device, rng, mode, shape, kwargs, factor):
    x = mg.tensor(rng.standard_normal(shape).astype(np.float32), device=device, requires_grad=True)
    y = F.interpolate(x, scale_factor=factor, mode=mode, **kwargs)  # a Python float factor must not promote
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
    ({"size": (4, 4)}, (1, 1, 2, 2, 2),
     r"interpolate: size=\(4, 4\) gives 2 values for input of shape \(1, 1, 2, 2, 2\), which has 3 spatial"),
    ({"scale_factor": 0.25}, (1, 1, 2, 2), r"interpolate: scale_factor=0.25 shrinks input of shape \(1, 1, 2, 2\) "
                                           r"to spatial size \(0, 0\)"),
    ({"scale_factor": 2, "mode": "cubic"}, (1, 1, 2, 2), r"interpolate: mode must be one of .*got mode='cubic'"),
    ({"scale_factor": 2, "mode": "bilinear"}, (1, 1, 2), r"interpolate: mode='bilinear' needs 4-D \(N, C, H, W\) "
                                                         r"input, got shape \(1, 1, 2\)"),
    ({"scale_factor": 2, "mode": "linear"}, (1, 1, 2, 2), r"interpolate: mode='linear' needs 3-D"),
    ({"scale_factor": 2, "mode": "trilinear"}, (1, 1, 2, 2),
     r"interpolate: mode='trilinear' needs 5-D \(N, C, D, H, W\) input, got shape \(1, 1, 2, 2\)"),
    ({"scale_factor": 2, "mode": "trilinear"}, (1, 1, 2), r"interpolate: mode='trilinear' needs 5-D"),
    ({"scale_factor": 2, "mode": "linear"}, (1, 1, 2, 2, 2), r"interpolate: mode='linear' needs 3-D"),
    ({"scale_factor": 2, "mode": "bilinear"}, (1, 1, 2, 2, 2),
     r"interpolate: mode='bilinear' needs 4-D .*\(1, 1, 2, 2, 2\)"),
    ({"scale_factor": 2, "mode": "bicubic"}, (1, 1, 2, 2, 2), r"interpolate: mode='bicubic' needs 4-D"),
    ({"scale_factor": 2}, (1, 1, 2, 2, 2, 2),
     r"interpolate: input must be 3-D \(N, C, L\), 4-D \(N, C, H, W\) or 5-D \(N, C, D, H, W\), got shape "
     r"\(1, 1, 2, 2, 2, 2\)"),
    ({"scale_factor": 2}, (2, 2), r"interpolate: input must be 3-D .*got shape \(2, 2\)"),
    ({"scale_factor": 2, "align_corners": False}, (1, 1, 2, 2),
     r"interpolate: align_corners=False can only be set with the interpolating modes"),
    ({"scale_factor": 2, "align_corners": True}, (1, 1, 2, 2, 2),
     r"interpolate: align_corners=True can only be set with the interpolating modes linear, bilinear, bicubic, "
     r"trilinear, not mode='nearest'"),
    ({"size": 4, "recompute_scale_factor": True}, (1, 1, 2, 2), r"interpolate: recompute_scale_factor has no meaning"),
    ({"scale_factor": 2, "antialias": True}, (1, 1, 2, 2),
     r"interpolate: antialias=True needs mode 'bilinear' or 'bicubic' \(4-D input\), got mode='nearest'"),
    ({"scale_factor": 0.5, "mode": "area", "antialias": True}, (1, 1, 2, 2), r"antialias=True needs .*got mode='area'"),
    ({"scale_factor": 2, "mode": "linear", "antialias": True}, (1, 1, 2), r"antialias=True needs .*got mode='linear'"),
    ({"scale_factor": 2, "mode": "trilinear", "antialias": True}, (1, 1, 2, 2, 2),
     r"antialias=True needs .*got mode='trilinear'"),
    ({"scale_factor": 2, "mode": "bilinear", "antialias": True}, (1, 1, 2, 2, 2), r"mode='bilinear' needs 4-D"),
])
def test_interpolate_bad_arguments(kwargs, shape, message):
    with pytest.raises(ValueError, match=message):
        F.interpolate(mg.zeros(*shape), **kwargs)


def test_interpolate_refuses_integer_input():
    with pytest.raises(TypeError, match=r"interpolate: input must be floating point, got dtype int64"):
        F.interpolate(mg.tensor(np.ones((1, 1, 2, 2), dtype=np.int64)), scale_factor=2)


# -- adaptive_avg_pool1d, adaptive_avg_pool2d and adaptive_avg_pool3d, and their layers -----------------

POOLS = pytest.mark.parametrize("pool, dims", [("adaptive_avg_pool1d", 1), ("adaptive_avg_pool2d", 2),
                                               ("adaptive_avg_pool3d", 3)])


@POOLS
@given(data=st.data(), seed=seeds)
def test_adaptive_avg_pool(device, pool, dims, data, seed):
    side = 7 if dims < 3 else 4  # 3-D kept small for the gradient checks
    shape = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))) + tuple(
        data.draw(st.integers(1, side)) for _ in range(dims))
    size = st.integers(1, side) if dims == 1 else st.one_of(st.none(), st.integers(1, side))  # 1-D: no None
    out = tuple(data.draw(size) for _ in range(dims))
    x = np.random.default_rng(seed).standard_normal(shape)
    sizes = tuple(n if v is None else v for n, v in zip(shape[2:], out))
    fn = lambda t: getattr(F, pool)(t, out)  # noqa: E731
    y = fn(mg.tensor(x, device=device))
    np.testing.assert_allclose(y.numpy(), naive_interpolate(x, sizes, (None,) * dims, "area", False), rtol=1e-12,
                               atol=1e-12)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(y.numpy(), getattr(torch.nn.functional, pool)(torch.tensor(x), out).numpy(),
                               rtol=1e-12, atol=1e-12)


@POOLS
def test_adaptive_avg_pool_unbatched_and_float32(rng, pool, dims):
    x = rng.standard_normal((3,) + (6, 5, 4)[:dims]).astype(np.float32)
    y = getattr(F, pool)(mg.tensor(x), 2)
    assert y.shape == (3,) + (2,) * dims and y.dtype == np.float32
    corner = (slice(None), slice(0, 3), slice(0, 3), slice(0, 2))[:dims + 1]
    first = y.numpy()[(slice(None),) + (0,) * dims]
    np.testing.assert_allclose(first, x[corner].mean(axis=tuple(range(1, dims + 1))), rtol=1e-6)


@pytest.mark.parametrize("pool, dims, out",
                         [("adaptive_avg_pool1d", 1, out) for out in [0, (2, 2), (), None, (None,), 1.5, "2", True]]
                         + [("adaptive_avg_pool2d", 2, out) for out in [0, (2, 0), (2, 2, 2), 1.5, "2"]]
                         + [("adaptive_avg_pool3d", 3, out) for out in [0, (2, 2, 0), (2, 2), (2, 2, 2, 2), 1.5]])
def test_adaptive_avg_pool_bad_output_size(pool, dims, out):
    several = {1: "a 1-tuple of one", 2: "a pair", 3: "a triple"}[dims]
    with pytest.raises(ValueError, match=rf"{pool}: output_size must be a positive int or {several}.*, got "
                                         + re.escape(repr(out))):
        getattr(F, pool)(mg.zeros(*(1, 1) + (4,) * dims), out)
    bad = (4,) if dims == 1 else (4, 4)
    with pytest.raises(ValueError, match=rf"{pool}: input must be {dims + 2}-D .*got shape "
                                         + re.escape(str(bad))):
        getattr(F, pool)(mg.zeros(*bad), 2)


def test_adaptive_avg_pool_refuses_integer_input():
    with pytest.raises(TypeError, match=r"adaptive_avg_pool1d: input must be floating point, got dtype int64 "
                                        r"\(shape \(1, 2, 3\)\)"):
        F.adaptive_avg_pool1d(mg.tensor(np.ones((1, 2, 3), dtype=np.int64)), 2)


LAYER_POOLS = [  # (layer, output_size, input shape)
    ("AdaptiveAvgPool1d", 3, (2, 3, 7)), ("AdaptiveAvgPool1d", (4,), (3, 6)), ("AdaptiveAvgPool1d", [5], (2, 1, 5)),
    ("AdaptiveAvgPool2d", (2, None), (2, 3, 7, 6)), ("AdaptiveAvgPool2d", 4, (3, 7, 6)),
    ("AdaptiveAvgPool3d", 2, (2, 3, 5, 4, 6)), ("AdaptiveAvgPool3d", (3, None, 2), (2, 5, 4, 7)),
    ("AdaptiveAvgPool3d", [None, 1, None], (1, 2, 3, 4, 5)), ("AdaptiveAvgPool3d", (1, 1, 1), (2, 3, 3, 2)),
]


@pytest.mark.parametrize("name, out, shape", LAYER_POOLS)
def test_adaptive_avg_pool_layers_are_the_functional_op(device, rng, name, out, shape):
    layer = getattr(mg.nn, name)(out)
    assert layer.output_size == out and layer.state_dict() == {} and not list(layer.parameters())
    x = mg.tensor(rng.standard_normal(shape).astype(np.float32), device=device, requires_grad=True)
    y = layer(x)
    np.testing.assert_array_equal(y.numpy(), getattr(F, "adaptive_avg_pool" + name[-2:])(x, out).numpy())
    (gx,) = mg.grad((y * y).sum(), [x], create_graph=True)
    (ggx,) = mg.grad(gx.sum(), [x])
    assert y.dtype == gx.dtype == ggx.dtype == np.float32


@pytest.mark.parametrize("name, out, shape", LAYER_POOLS)
def test_adaptive_avg_pool_layers_match_torch(rng, name, out, shape):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(mg.nn, name)(out), getattr(torch.nn, name)(out)
    assert repr(ours) == repr(theirs)
    x = rng.standard_normal(shape)
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = ours(xm), theirs(xt)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    (gx,) = mg.grad(y, [xm], mg.tensor(gy))
    (expected,) = torch.autograd.grad(yt, [xt], torch.tensor(gy))
    np.testing.assert_allclose(gx.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, out, shape", [case for case in LAYER_POOLS if case[0] != "AdaptiveAvgPool2d"])
def test_adaptive_avg_pool_layers_gradients(device, rng, name, out, shape):
    layer = getattr(mg.nn, name)(out)
    x = rng.standard_normal((1,) + shape[-3:] if name.endswith("3d") else shape)  # 3-D: one channel, unbatched
    check_grad(layer, [x], device)
    check_double_grad(layer, [x], device)


@pytest.mark.parametrize("name, out, message", [
    ("AdaptiveAvgPool1d", None, r"a 1-tuple of one, got None"), ("AdaptiveAvgPool1d", (2, 3), r"a 1-tuple of one"),
    ("AdaptiveAvgPool1d", 0, r"a 1-tuple of one, got 0"), ("AdaptiveAvgPool3d", (2, 2), r"a triple of them"),
    ("AdaptiveAvgPool3d", (2, 0, None), r"a triple of them \(None keeps an axis\), got \(2, 0, None\)"),
    ("AdaptiveAvgPool3d", 2.5, r"a triple of them \(None keeps an axis\), got 2.5"),
])
def test_adaptive_avg_pool_layers_refuse_bad_output_size(name, out, message):
    with pytest.raises(ValueError, match=rf"{name}: output_size must be a positive int or " + message):
        getattr(mg.nn, name)(out)


def test_adaptive_avg_pool_layers_refuse_bad_input():
    with pytest.raises(ValueError, match=r"adaptive_avg_pool1d: input must be 3-D \(N, C, L\) or 2-D \(C, L\), "
                                         r"got shape \(1, 2, 3, 4\)"):
        mg.nn.AdaptiveAvgPool1d(2)(mg.zeros(1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"adaptive_avg_pool3d: input must be 5-D \(N, C, D, H, W\) or 4-D "
                                         r"\(C, D, H, W\), got shape \(2, 3, 4\)"):
        mg.nn.AdaptiveAvgPool3d(2)(mg.zeros(2, 3, 4))


# -- nn.Upsample with 5-D input ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{"scale_factor": (2, 1.5, 0.5), "mode": "trilinear", "align_corners": True},
                                    {"size": (3, 4, 5), "mode": "trilinear"}, {"scale_factor": 2},
                                    {"size": 3, "mode": "nearest-exact"}, {"size": (2, 3, 1), "mode": "area"}])
def test_upsample_5d_as_torch(kwargs):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5, 6)).astype(np.float32)
    ours, theirs = mg.nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-6, atol=1e-6)


def test_upsample_trilinear_needs_5d():
    with pytest.raises(ValueError, match=r"interpolate: mode='trilinear' needs 5-D \(N, C, D, H, W\) input"):
        mg.nn.Upsample(scale_factor=2, mode="trilinear")(mg.zeros(1, 1, 2, 2))
