"""unfold and fold (im2col and col2im in PyTorch's layout) and nn.Unfold, nn.Fold: values against loops written
from the definitions (every run, through every registered im2col/col2im kernel) and against PyTorch where it is
installed (values and gradients, float64 and float32), over hypothesis-drawn shapes, kernels, dilations,
paddings and strides; the adjoint identity <unfold(x), y> = <x, fold(y)>; float64 first- and second-order
gradient checks; unbatched, empty-batch and channels-last inputs; float32 kept; the layers and their reprs;
the error messages, for calls PyTorch refuses too."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import kernels, nn
from gradcheck import check_double_grad, check_grad
from layouts import channels_last
from torch_compare import assert_input_grad_matches_torch, assert_repr_matches_torch

seeds = st.integers(0, 2 ** 16)


# -- definitions ------------------------------------------------------------------------------------------

def blocks(size, k, d, p, s):
    """Sliding blocks along one axis, as PyTorch's docs define L's factors."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def taps(c, spatial, kernel, dilation, padding, stride):
    """Every (row, column, (c, y, z)): entry [row, column] of the columns, row (c kh + i) kw + j and column
    by Bw + bx, and the pixel x[c, y, z] = x[c, by sh + i dh - ph, bx sw + j dw - pw] it holds, for the
    pixels inside the (H, W) = ``spatial`` image."""
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = spatial, kernel, dilation, padding, stride
    bh, bw = blocks(h, kh, dh, ph, sh), blocks(w, kw, dw, pw, sw)
    for ci in range(c):
        for i in range(kh):
            for j in range(kw):
                for by in range(bh):
                    for bx in range(bw):
                        y, z = by * sh + i * dh - ph, bx * sw + j * dw - pw
                        if 0 <= y < h and 0 <= z < w:
                            yield (ci * kh + i) * kw + j, by * bw + bx, (ci, y, z)


def naive_unfold(x, kernel, dilation, padding, stride):
    """out[n, (c kh + i) kw + j, by Bw + bx] = x[n, c, by sh + i dh - ph, bx sw + j dw - pw], 0 outside x."""
    n, c, h, w = x.shape
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel, dilation, padding, stride
    out = np.zeros((n, c * kh * kw, blocks(h, kh, dh, ph, sh) * blocks(w, kw, dw, pw, sw)), dtype=x.dtype)
    for row, column, pixel in taps(c, (h, w), kernel, dilation, padding, stride):
        out[:, row, column] = x[(slice(None),) + pixel]
    return out


def naive_fold(cols, output_size, kernel, dilation, padding, stride):
    """The adjoint of naive_unfold: every entry added to the pixel unfold copies it from (if inside)."""
    n, ckk, _ = cols.shape
    c = ckk // (kernel[0] * kernel[1])
    out = np.zeros((n, c) + tuple(output_size), dtype=cols.dtype)
    for row, column, pixel in taps(c, output_size, kernel, dilation, padding, stride):
        out[(slice(None),) + pixel] += cols[:, row, column]
    return out


# -- cases --------------------------------------------------------------------------------------------------

@st.composite
def fold_case(draw, tiny=False):
    """(N, C, (H, W), kernel, dilation, padding, stride, seed) with at least one block along each axis;
    padding may exceed half the kernel (blocks then lie partly, or wholly, in the padding)."""
    kernel = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    dilation = draw(st.one_of(st.just((1, 1)), st.tuples(st.integers(1, 2), st.integers(1, 2))))
    padding = draw(st.one_of(st.just((0, 0)), st.tuples(st.integers(0, 2), st.integers(0, 2))))
    stride = draw(st.one_of(st.just((1, 1)), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    spatial = []
    for k, d, p in zip(kernel, dilation, padding):
        least = max(1, d * (k - 1) + 1 - 2 * p)
        spatial.append(draw(st.integers(least, least + (1 if tiny else 4))))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2 if tiny else 3))
    return n, c, tuple(spatial), kernel, dilation, padding, stride, draw(seeds)


def given_args(case, ints):
    """The case's (kernel_size, dilation, padding, stride) as passed: ints where both axes agree and ``ints``."""
    def given_(v):
        return v[0] if ints and v[0] == v[1] else v
    return tuple(given_(v) for v in case[3:7])


def cols_shape(case):
    n, c, (h, w), kernel, dilation, padding, stride, _ = case
    length = blocks(h, kernel[0], dilation[0], padding[0], stride[0]) * blocks(w, kernel[1], dilation[1], padding[1],
                                                                                stride[1])
    return n, c * kernel[0] * kernel[1], length


def arrays(case, dtype=np.float64):
    """(x, cols): an image and a columns array for the case, random normals."""
    n, c, spatial = case[:3]
    rng = np.random.default_rng(case[-1])
    return rng.standard_normal((n, c) + spatial).astype(dtype), rng.standard_normal(cols_shape(case)).astype(dtype)


# -- values, from the definitions --------------------------------------------------------------------------

@given(case=fold_case(), ints=st.booleans())
def test_unfold_and_fold_match_loops(device, case, ints):
    x, cols = arrays(case)
    spatial, geometry = case[2], case[3:7]
    k, d, p, s = given_args(case, ints)
    y = F.unfold(mg.tensor(x, device=device), k, d, p, s)
    np.testing.assert_array_equal(y.numpy(), naive_unfold(x, *geometry))  # a copy: exact
    out = F.fold(mg.tensor(cols, device=device), spatial[0] if ints and spatial[0] == spatial[1] else spatial,
                 k, d, p, s)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.numpy(), naive_fold(cols, spatial, *geometry), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs", [
    {"kernel_size": 3},
    {"kernel_size": (2, 3), "dilation": (2, 1), "padding": (1, 3), "stride": (2, 1)},
    {"kernel_size": 2, "padding": 2, "stride": 3},  # blocks wholly in the padding
])
def test_every_registered_kernel(device, rng, kwargs):
    # unfold and fold run on whichever im2col/col2im the registry picks: each must give the loops' values.
    x = rng.standard_normal((2, 3, 7, 6))
    geometry = [kwargs.get(name, default) for name, default in
                (("kernel_size", 1), ("dilation", 1), ("padding", 0), ("stride", 1))]
    geometry = [g if isinstance(g, tuple) else (g, g) for g in geometry]
    expected = naive_unfold(x, *geometry)
    cols = rng.standard_normal(expected.shape)
    names = {name for _, _, name in kernels.implementations("im2col", device)}
    names &= {name for _, _, name in kernels.implementations("col2im", device)}
    assert "reference" in names
    try:
        for name in sorted(names):
            kernels.prefer("im2col", name)
            kernels.prefer("col2im", name)
            np.testing.assert_array_equal(F.unfold(mg.tensor(x, device=device), **kwargs).numpy(), expected,
                                          err_msg=name)
            np.testing.assert_allclose(F.fold(mg.tensor(cols, device=device), (7, 6), **kwargs).numpy(),
                                       naive_fold(cols, (7, 6), *geometry), rtol=1e-12, atol=1e-12, err_msg=name)
    finally:
        kernels.prefer("im2col", None)
        kernels.prefer("col2im", None)


def test_by_hand(device):
    # A 3x3 image, 2x2 blocks, stride 1: four blocks, rows in (c, i, j) order, columns in block order.
    x = mg.tensor(np.arange(9.0).reshape(1, 1, 3, 3), device=device)
    np.testing.assert_array_equal(F.unfold(x, 2).numpy()[0], [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]])
    # fold(unfold(ones)) counts the blocks covering each pixel (PyTorch's documented divisor).
    counts = F.fold(F.unfold(mg.ones((1, 1, 3, 3), device=device), 2), 3, 2)
    np.testing.assert_array_equal(counts.numpy()[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    # Non-overlapping blocks tiling the image: fold inverts unfold exactly.
    z = mg.tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 6)), device=device)
    np.testing.assert_array_equal(F.fold(F.unfold(z, 2, stride=2), (4, 6), 2, stride=2).numpy(), z.numpy())


@settings(max_examples=15)
@given(case=fold_case())
def test_adjoint_identity(device, case):
    # <unfold(x), y> = <x, fold(y)>: fold is unfold's adjoint, which is what makes each the other's gradient.
    x, cols = arrays(case)
    spatial, geometry = case[2], dict(zip(("kernel_size", "dilation", "padding", "stride"), case[3:7]))
    left = float((F.unfold(mg.tensor(x, device=device), **geometry).numpy() * cols).sum())
    right = float((x * F.fold(mg.tensor(cols, device=device), spatial, **geometry).numpy()).sum())
    assert abs(left - right) <= 1e-10 * max(1.0, abs(left))


def test_channels_last_and_strided_inputs(device, rng):
    # Convolutions hand on channels-last views and gradients may be transposed views: any layout reads the same.
    x = rng.standard_normal((2, 3, 6, 5))
    view = channels_last(mg.tensor(x, device=device))
    np.testing.assert_array_equal(F.unfold(view, 3, 2, 1, 1).numpy(), naive_unfold(x, (3, 3), (2, 2), (1, 1), (1, 1)))
    cols = rng.standard_normal((2, 12, 12))  # (N, L, C kh kw) memory seen as (N, C kh kw, L)
    seen = F.transpose(mg.tensor(cols.transpose(0, 2, 1).copy(), device=device), (0, 2, 1))
    np.testing.assert_allclose(F.fold(seen, (6, 5), 2, padding=1, stride=2).numpy(),
                               naive_fold(cols, (6, 5), (2, 2), (1, 1), (1, 1), (2, 2)), rtol=1e-12, atol=1e-12)


# -- gradients --------------------------------------------------------------------------------------------

@settings(max_examples=6)
@given(case=fold_case(tiny=True))
def test_gradients(device, case):
    x, cols = arrays(case)
    spatial, geometry = case[2], case[3:7]
    unfold = lambda t: F.unfold(t, *geometry)  # noqa: E731
    fold = lambda t: F.fold(t, spatial, *geometry)  # noqa: E731
    check_grad(unfold, [x], device)
    check_grad(fold, [cols], device)
    check_double_grad(unfold, [x], device)
    check_double_grad(fold, [cols], device)
    # Through a non-linearity, the second-order terms depend on the input: Fold's backward (Unfold) and
    # Unfold's backward (Fold) each run inside the other's double backward.
    check_double_grad(lambda t: fold(unfold(t) ** 2), [x], device)
    check_double_grad(lambda t: unfold(fold(t) ** 2), [cols], device)


def test_gradient_penalty(device, rng):
    # WGAN-GP's shape: d/dx |d<fold(unfold(x)^2), w>/dx|^2, numerically in float64.
    x = rng.standard_normal((1, 2, 4, 5))
    w = mg.tensor(rng.standard_normal((1, 2, 4, 5)), device=device)

    def penalty(t):
        y = F.fold(F.unfold(t, (2, 3), 1, 1, (2, 1)) ** 2, (4, 5), (2, 3), 1, 1, (2, 1))
        (g,) = mg.grad((y * w).sum(), [t], create_graph=True)
        return (g ** 2).sum()

    check_grad(penalty, [x], device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(device, rng, dtype):
    x = mg.tensor(rng.standard_normal((2, 3, 5, 6)).astype(dtype), device=device, requires_grad=True)
    y = F.unfold(x, 2, padding=1, stride=2)
    z = F.fold(y * y, (5, 6), 2, padding=1, stride=2)
    (gx,) = mg.grad((z * z).sum(), [x], create_graph=True)
    (ggx,) = mg.grad((gx * gx).sum(), [x])
    assert y.dtype == z.dtype == gx.dtype == ggx.dtype == dtype


# -- unbatched and empty-batch input ------------------------------------------------------------------------

def test_unbatched_input(device, rng):
    data = rng.standard_normal((3, 5, 4))
    x = mg.tensor(data, device=device, requires_grad=True)
    y = F.unfold(x, 2, 1, 1, 2)
    expected = naive_unfold(data[None], (2, 2), (1, 1), (1, 1), (2, 2))[0]
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y.numpy(), expected)
    z = F.fold(y, (5, 4), 2, 1, 1, 2)
    assert z.shape == (3, 5, 4)
    np.testing.assert_allclose(z.numpy(), naive_fold(expected[None], (5, 4), (2, 2), (1, 1), (1, 1), (2, 2))[0])
    (gx,) = mg.grad(z.sum(), [x])
    assert gx.shape == x.shape
    check_grad(lambda t: F.unfold(t, 2, 1, 1, 2), [data], device)
    check_grad(lambda t: F.fold(t, (5, 4), 2, 1, 1, 2), [expected], device)


def test_empty_batch(device):
    # As PyTorch: the batch axis (alone) may be empty, forward and backward.
    x = mg.zeros((0, 2, 5, 5), dtype=np.float64, device=device, requires_grad=True)
    y = F.unfold(x, 2, stride=2)
    assert y.shape == (0, 8, 4)
    z = F.fold(y, 5, 2, stride=2)
    assert z.shape == (0, 2, 5, 5)
    (gx,) = mg.grad(z.sum(), [x])
    assert gx.shape == x.shape


# -- PyTorch, where installed ------------------------------------------------------------------------------

@given(case=fold_case(), dtype=st.sampled_from([np.float64, np.float32]), ints=st.booleans(),
       unbatched=st.booleans())
def test_matches_torch(device, case, dtype, ints, unbatched):
    torch = pytest.importorskip("torch")
    x, cols = arrays(case, dtype)
    if unbatched:
        x, cols = x[0], cols[0]
    spatial = case[2]
    args = given_args(case, ints)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    for op, data, extra in ((F.unfold, x, ()), (F.fold, cols, (spatial,))):
        theirs = getattr(torch.nn.functional, op.__name__)
        xt = torch.tensor(data, requires_grad=True)
        yt = theirs(xt, *extra, *args)
        ours = mg.tensor(data, device=device, requires_grad=True)
        y = op(ours, *extra, *args)
        assert y.dtype == dtype and y.shape == tuple(yt.shape)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
        assert_input_grad_matches_torch(torch, ours, xt, y, yt, dtype, device, case[-1] + 1, **tol)


# -- the layers ---------------------------------------------------------------------------------------------

LAYERS = [
    (nn.Unfold, {"kernel_size": 2}),
    (nn.Unfold, {"kernel_size": (2, 3), "dilation": (1, 2), "padding": 1, "stride": [2, 1]}),
    (nn.Fold, {"output_size": 6, "kernel_size": 2}),
    (nn.Fold, {"output_size": (6, 7), "kernel_size": (3, 2), "dilation": 2, "padding": (2, 0), "stride": (1, 3)}),
]


def _layer_input(layer, kwargs, rng, device):
    """An image (N, 3, 6, 7) for Unfold; for Fold, columns of 3 channels that fit its output_size."""
    if layer is nn.Unfold:
        return mg.tensor(rng.standard_normal((2, 3, 6, 7)), device=device)
    pair = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v, v)  # noqa: E731
    (h, w), (kh, kw) = pair(kwargs["output_size"]), pair(kwargs["kernel_size"])
    (dh, dw), (ph, pw), (sh, sw) = pair(kwargs.get("dilation", 1)), pair(kwargs.get("padding", 0)), \
        pair(kwargs.get("stride", 1))
    length = blocks(h, kh, dh, ph, sh) * blocks(w, kw, dw, pw, sw)
    return mg.tensor(rng.standard_normal((2, 3 * kh * kw, length)), device=device)


@pytest.mark.parametrize("layer, kwargs", LAYERS)
def test_layers(device, rng, layer, kwargs):
    module = layer(**kwargs)
    assert list(module.parameters()) == [] and module.state_dict() == {}
    x = _layer_input(layer, kwargs, rng, device)
    op = F.unfold if layer is nn.Unfold else F.fold
    out = module(x)
    np.testing.assert_array_equal(out.numpy(), op(x, **kwargs).numpy())
    single = module(mg.tensor(x.numpy()[1], device=device))  # unbatched
    np.testing.assert_array_equal(single.numpy(), out.numpy()[1])


def test_layers_compose(device, rng):
    # nn.Fold(nn.Unfold(x)) with non-overlapping blocks gives x back, as in PyTorch's docs.
    x = mg.tensor(rng.standard_normal((2, 3, 6, 4)), device=device)
    model = nn.Sequential(nn.Unfold(2, stride=2), nn.Fold((6, 4), 2, stride=2))
    np.testing.assert_array_equal(model(x).numpy(), x.numpy())


def test_layer_reprs():
    assert repr(nn.Unfold(2)) == "Unfold(kernel_size=2, dilation=1, padding=0, stride=1)"
    assert repr(nn.Fold((4, 5), (2, 3), padding=(1, 0), stride=[1, 2])) == \
        "Fold(output_size=(4, 5), kernel_size=(2, 3), dilation=1, padding=(1, 0), stride=[1, 2])"
    layer = nn.Fold(4, 2, dilation=2)
    assert (layer.output_size, layer.kernel_size, layer.dilation, layer.padding, layer.stride) == (4, 2, 2, 0, 1)


@pytest.mark.parametrize("layer, kwargs", LAYERS)
def test_layer_reprs_match_torch(layer, kwargs):
    assert_repr_matches_torch(pytest.importorskip("torch"), layer, kwargs)


# -- errors -------------------------------------------------------------------------------------------------

# (op, input shape, arguments, error, message); PyTorch refuses each of these calls too.
BAD_CALLS = [
    ("unfold", (5, 5), {"kernel_size": 2}, ValueError,
     r"unfold: input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(5, 5\)"),
    ("unfold", (1, 1, 1, 4, 4), {"kernel_size": 2}, ValueError,
     r"unfold: input must be 3-D .* got shape \(1, 1, 1, 4, 4\)"),
    ("unfold", (1, 0, 4, 4), {"kernel_size": 2}, ValueError,
     r"unfold: input of shape \(1, 0, 4, 4\) is empty along a non-batch axis; only the batch axis"),
    ("unfold", (0, 4, 4), {"kernel_size": 2}, ValueError, r"unfold: input of shape \(0, 4, 4\) is empty"),
    ("unfold", (1, 1, 4, 0), {"kernel_size": 1, "padding": 1}, ValueError,
     r"unfold: input of shape \(1, 1, 4, 0\) is empty"),
    ("unfold", (1, 1, 4, 4), {"kernel_size": 5}, ValueError,
     r"unfold: input of shape \(1, 1, 4, 4\) with kernel_size \(5, 5\), dilation \(1, 1\), padding \(0, 0\), "
     r"stride \(1, 1\) has 0x0 sliding blocks, but each axis needs at least one"),
    ("unfold", (1, 1, 4, 4), {"kernel_size": 5, "stride": 2}, ValueError, r"unfold: .* has 0x0 sliding blocks"),
    ("unfold", (2, 4, 4), {"kernel_size": (2, 3), "dilation": (1, 2)}, ValueError,
     r"unfold: input of shape \(2, 4, 4\) with kernel_size \(2, 3\), dilation \(1, 2\), .* has 3x0 sliding blocks"),
    ("unfold", (1, 1, 4, 4), {"kernel_size": 0}, ValueError,
     r"unfold: kernel_size must be at least 1, got 0 for input of shape \(1, 1, 4, 4\)"),
    ("unfold", (1, 1, 4, 4), {"kernel_size": 2, "dilation": 0}, ValueError, r"unfold: dilation must be at least 1"),
    ("unfold", (1, 1, 4, 4), {"kernel_size": 2, "padding": (0, -1)}, ValueError,
     r"unfold: padding must be at least 0, got \(0, -1\)"),
    ("unfold", (1, 1, 4, 4), {"kernel_size": 2, "stride": 0}, ValueError, r"unfold: stride must be at least 1, got 0"),
    ("unfold", (1, 1, 4, 4), {"kernel_size": (2, 2, 2)}, TypeError,
     r"unfold: kernel_size must be an int or a pair of ints, got \(2, 2, 2\)"),
    ("unfold", (1, 1, 4, 4), {"kernel_size": 2.0}, TypeError, r"unfold: kernel_size must be an int or a pair of ints"),
    ("fold", (9,), {"output_size": 4, "kernel_size": 2}, ValueError,
     r"fold: input must be 2-D \(C\*kh\*kw, L\) or 3-D \(N, C\*kh\*kw, L\), got shape \(9,\)"),
    ("fold", (1, 1, 8, 9), {"output_size": 4, "kernel_size": 2}, ValueError,
     r"fold: input must be 2-D .*\(1, 1, 8, 9\)"),
    ("fold", (1, 0, 9), {"output_size": 4, "kernel_size": 2}, ValueError,
     r"fold: input of shape \(1, 0, 9\) is empty along a non-batch axis"),
    ("fold", (1, 4, 0), {"output_size": 1, "kernel_size": 2}, ValueError, r"fold: input of shape \(1, 4, 0\) is empty"),
    ("fold", (1, 7, 9), {"output_size": 4, "kernel_size": 2}, ValueError,
     r"fold: input of shape \(1, 7, 9\) has 7 channels \(dimension 1\), not divisible by the product of "
     r"kernel_size \(2, 2\), 4"),
    ("fold", (7, 9), {"output_size": 4, "kernel_size": 2}, ValueError, r"fold: .* has 7 channels \(dimension 0\)"),
    ("fold", (1, 8, 8), {"output_size": (4, 4), "kernel_size": 2}, ValueError,
     r"fold: input of shape \(1, 8, 8\) has L = 8 blocks \(its last dimension\), but output_size \(4, 4\) with "
     r"kernel_size \(2, 2\), dilation \(1, 1\), padding \(0, 0\), stride \(1, 1\) has 3 \* 3 = 9 sliding blocks"),
    ("fold", (1, 4, 9), {"output_size": 1, "kernel_size": 2}, ValueError,
     r"fold: output_size \(1, 1\) with kernel_size \(2, 2\), .* has 0x0 sliding blocks, but each axis needs at "
     r"least one"),
    ("fold", (1, 8, 9), {"output_size": (0, 4), "kernel_size": 2}, ValueError,
     r"fold: output_size must be at least 1, got \(0, 4\)"),
    ("fold", (1, 8, 9), {"output_size": (4, 4, 4), "kernel_size": 2}, TypeError,
     r"fold: output_size must be an int or a pair of ints, got \(4, 4, 4\)"),
    ("fold", (1, 8, 9), {"output_size": (4.0, 4), "kernel_size": 2}, TypeError, r"fold: output_size must be an int"),
    ("fold", (1, 8, 9), {"output_size": 4, "kernel_size": 0}, ValueError, r"fold: kernel_size must be at least 1"),
    ("fold", (1, 8, 9), {"output_size": 4, "kernel_size": 2, "stride": 0}, ValueError,
     r"fold: stride must be at least 1"),
    ("fold", (1, 8, 9), {"output_size": 4, "kernel_size": 2, "padding": -1}, ValueError,
     r"fold: padding must be at least 0"),
    ("fold", (1, 8, 9), {"output_size": 4, "kernel_size": 2, "dilation": 0}, ValueError,
     r"fold: dilation must be at least 1"),
]


@pytest.mark.parametrize("op, shape, kwargs, error, message", BAD_CALLS)
def test_bad_arguments(op, shape, kwargs, error, message):
    with pytest.raises(error, match=message):
        getattr(F, op)(mg.ones(shape), **kwargs)


@pytest.mark.parametrize("op, shape, kwargs, error, message", BAD_CALLS)
def test_torch_refuses_the_same_calls(op, shape, kwargs, error, message):
    torch = pytest.importorskip("torch")
    with pytest.raises((RuntimeError, TypeError, IndexError, ValueError)):
        getattr(torch.nn.functional, op)(torch.ones(shape), **kwargs)


def test_accepted_edge_cases(device):
    # A last column that no block reaches (width 5, 2-wide blocks at stride 2) gets nothing, as in PyTorch.
    out = F.fold(mg.ones((8, 4), device=device), (4, 5), 2, stride=2)
    assert out.shape == (2, 4, 5)
    np.testing.assert_array_equal(out.numpy()[:, :, 4], 0)
    # Blocks that lie wholly in the padding (padding larger than the kernel) read zeros.
    y = F.unfold(mg.ones((1, 1, 1, 1), device=device), 1, padding=2)
    np.testing.assert_array_equal(y.numpy().reshape(5, 5), np.pad([[1.0]], 2))


def test_bad_dtype_and_devices():
    with pytest.raises(TypeError, match=r"unfold: input must be floating point, got dtype int64 "
                                        r"\(shape \(1, 1, 4, 4\)\)"):
        F.unfold(mg.tensor(np.ones((1, 1, 4, 4), dtype=np.int64)), 2)
    with pytest.raises(TypeError, match=r"fold: input must be floating point, got dtype int32"):
        F.fold(mg.tensor(np.ones((1, 4, 9), dtype=np.int32)), 4, 2)


@pytest.mark.parametrize("layer, kwargs, error, message", [
    (nn.Unfold, {"kernel_size": 0}, ValueError, r"Unfold: kernel_size must be at least 1, got 0"),
    (nn.Unfold, {"kernel_size": 2, "stride": (1, 0)}, ValueError, r"Unfold: stride must be at least 1"),
    (nn.Unfold, {"kernel_size": 2, "padding": 1.5}, TypeError, r"Unfold: padding must be an int or a pair"),
    (nn.Fold, {"output_size": 0, "kernel_size": 2}, ValueError, r"Fold: output_size must be at least 1, got 0"),
    (nn.Fold, {"output_size": (4,), "kernel_size": 2}, TypeError, r"Fold: output_size must be an int or a pair"),
    (nn.Fold, {"output_size": 4, "kernel_size": 2, "dilation": 0}, ValueError, r"Fold: dilation must be at least 1"),
])
def test_layer_bad_arguments(layer, kwargs, error, message):
    with pytest.raises(error, match=message):
        layer(**kwargs)


def test_layer_refuses_bad_input():
    with pytest.raises(ValueError, match=r"fold: input of shape \(1, 8, 8\) has L = 8 blocks"):
        nn.Fold(4, 2)(mg.ones((1, 8, 8)))
    with pytest.raises(ValueError, match=r"unfold: input must be 3-D"):
        nn.Unfold(2)(mg.ones((4, 4)))
