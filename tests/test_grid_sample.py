"""affine_grid and grid_sample: values against a NumPy reference written from the definitions (every run) and
against PyTorch where it is installed (values, input and grid gradients, float64 and float32, and the gradient
of an input-gradient penalty), over hypothesis-drawn shapes (images and volumes), modes, padding modes,
align_corners and grids reaching well outside [-1, 1]; identity maps; float64 first- and second-order gradient
checks (input, grid and theta); nearest's zero grid gradient; non-finite grids; empty shapes; float32 kept;
the error messages."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from gradcheck import check_double_grad, check_grad

MODES = ["bilinear", "nearest", "bicubic"]
PADDINGS = ["zeros", "border", "reflection"]
seeds = st.integers(0, 2 ** 16)


# -- definitions ---------------------------------------------------------------------------------------------

def np_unnormalize(g, n, align_corners):
    return (g + 1) / 2 * (n - 1) if align_corners else ((g + 1) * n - 1) / 2


def np_pad(u, n, padding, align_corners):
    """u moved into the image by ``padding``: border clips; reflection folds u back at the borders (corner
    centres with align_corners, outer edges without) until it lands inside, then clips."""
    if padding == "zeros":
        return u
    if padding == "reflection":
        low, high = (0.0, n - 1.0) if align_corners else (-0.5, n - 0.5)
        if low == high:
            return 0.0
        while not low <= u <= high:
            u = 2 * low - u if u < low else 2 * high - u
    return min(max(u, 0.0), n - 1.0)


def np_cubic(s, a=-0.75):
    s = abs(s)
    if s <= 1:
        return (a + 2) * s ** 3 - (a + 3) * s ** 2 + 1
    return a * s ** 3 - 5 * a * s ** 2 + 8 * a * s - 4 * a if s < 2 else 0.0


def np_taps(g, n, mode, padding, align_corners):
    """[(pixel, weight)] along one axis for normalised coordinate g."""
    u = np_unnormalize(g, n, align_corners)
    if mode == "bicubic":
        i = math.floor(u)
        return [(int(np_pad(float(j), n, padding, align_corners)), np_cubic(u - j)) for j in range(i - 1, i + 3)]
    u = np_pad(u, n, padding, align_corners)
    if mode == "nearest":
        return [(round(u), 1.0)]  # Python's round: half to even, as PyTorch's nearbyint
    i = math.floor(u)
    return [(i, 1 - (u - i)), (i + 1, u - i)]


def np_grid_sample(x, grid, mode="bilinear", padding="zeros", align_corners=False):
    """The definition, point by point: each output point sums weight * pixel over the product of the axes'
    taps, a pixel outside the image reading 0."""
    n, c, sizes = x.shape[0], x.shape[1], x.shape[2:]
    d = len(sizes)
    y = np.zeros((n, c) + grid.shape[1:-1])
    for k in range(n):
        for point in np.ndindex(*grid.shape[1:-1]):
            g = grid[(k,) + point]
            per_axis = [np_taps(float(g[d - 1 - a]), sizes[a], mode, padding, align_corners) for a in range(d)]
            for taps in itertools.product(*per_axis):
                pixel = tuple(i for i, _ in taps)
                if all(0 <= i < s for i, s in zip(pixel, sizes)):
                    y[(k, slice(None)) + point] += math.prod(w for _, w in taps) * x[(k, slice(None)) + pixel]
    return y


def np_affine_grid(theta, size, align_corners):
    """grid[k, ..., :] = theta[k] @ (x, y[, z], 1) at each output pixel's normalised centre."""
    spatial = size[2:]
    d = len(spatial)

    def line(n):
        if n == 1:
            return np.zeros(1)
        centres = (2 * np.arange(n) + 1) / n - 1  # pixel centres, edges at -1 and 1
        return np.linspace(-1, 1, n) if align_corners else centres

    grid = np.zeros((size[0],) + tuple(spatial) + (d,))
    for index in np.ndindex(*spatial):
        point = [line(spatial[a])[index[a]] for a in reversed(range(d))] + [1.0]
        grid[(slice(None),) + index] = theta @ np.array(point)
    return grid


# -- cases ---------------------------------------------------------------------------------------------------

@st.composite
def cases(draw, max_size=5, max_out=4, max_n=2, max_c=3):
    """(input shape, grid shape, mode, padding, align_corners, reach): an image or a volume; grids drawn
    uniformly in [-reach, reach], so up to several image widths outside."""
    mode = draw(st.sampled_from(MODES))
    d = 2 if mode == "bicubic" else draw(st.sampled_from([2, 3]))
    n, c = draw(st.integers(1, max_n)), draw(st.integers(1, max_c))
    sizes = tuple(draw(st.lists(st.integers(1, max_size), min_size=d, max_size=d)))
    out = tuple(draw(st.lists(st.integers(1, max_out), min_size=d, max_size=d)))
    return ((n, c) + sizes, (n,) + out + (d,), mode, draw(st.sampled_from(PADDINGS)), draw(st.booleans()),
            draw(st.sampled_from([1.0, 1.5, 4.0])))


def data(case, seed, dtype=np.float64):
    x_shape, grid_shape, _, _, _, reach = case
    rng = np.random.default_rng(seed)
    return rng.standard_normal(x_shape).astype(dtype), rng.uniform(-reach, reach, grid_shape).astype(dtype)


def tensors(arrays, device, requires_grad=False):
    return [mg.tensor(a, device=device, requires_grad=requires_grad) for a in arrays]


# -- values, from the definitions ----------------------------------------------------------------------------

@settings(max_examples=25)
@given(case=cases(), seed=seeds)
def test_grid_sample_matches_numpy(device, case, seed):
    x, grid = data(case, seed)
    mode, padding, align_corners = case[2:5]
    y = F.grid_sample(*tensors([x, grid], device), mode, padding, align_corners)
    expected = np_grid_sample(x, grid, mode, padding, align_corners)
    assert y.shape == expected.shape and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=10)
@given(size=st.lists(st.integers(1, 4), min_size=4, max_size=5).map(tuple), align_corners=st.booleans(), seed=seeds)
def test_affine_grid_matches_numpy(device, size, align_corners, seed):
    d = len(size) - 2
    theta = np.random.default_rng(seed).standard_normal((size[0], d, d + 1))
    grid = F.affine_grid(mg.tensor(theta, device=device), size, align_corners)
    assert grid.shape == (size[0],) + size[2:] + (d,)
    np.testing.assert_allclose(grid.numpy(), np_affine_grid(theta, size, align_corners), rtol=1e-12, atol=1e-14)


def test_bilinear_by_hand(device):
    # One 2x2 image, align_corners=True: the centre averages the four pixels, a point a quarter of the way
    # from pixel (0, 0) towards pixel (0, 1) mixes them 3:1, a point on the right edge has half its taps
    # outside, and a point one width to the left of the image reads zeros only.
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    grid = np.array([[[[0.0, 0.0], [-0.5, -1.0], [1.0, 0.0], [-3.0, 0.0]]]])
    y = F.grid_sample(*tensors([x, grid], device), align_corners=True)
    np.testing.assert_allclose(y.numpy(), [[[[2.5, 1.25, 3.0, 0.0]]]], rtol=1e-15)
    border = F.grid_sample(*tensors([x, grid], device), padding_mode="border", align_corners=True)
    np.testing.assert_allclose(border.numpy(), [[[[2.5, 1.25, 3.0, 2.0]]]], rtol=1e-15)


@pytest.mark.parametrize("align_corners", [True, False])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_identity_theta_reproduces_the_input(device, align_corners, mode, padding, dtype):
    rng = np.random.default_rng(5)
    # With align_corners the coordinates of axes of 1, 2 or 2^k + 1 pixels are exact binary fractions, so
    # every pixel is read exactly; other sizes (and align_corners=False) are right to rounding.
    shapes = [(2, 3, 5, 9), (1, 2, 1, 3), (2, 2, 4, 7)]
    shapes += [(1, 2, 3, 2, 5), (1, 2, 3, 6, 4)] if mode != "bicubic" else []  # volumes
    for shape in shapes:
        x = rng.standard_normal(shape).astype(dtype)
        d = len(shape) - 2
        theta = np.broadcast_to(np.eye(d, d + 1), (shape[0], d, d + 1)).astype(dtype)
        grid = F.affine_grid(mg.tensor(theta, device=device), shape, align_corners)
        y = F.grid_sample(mg.tensor(x, device=device), grid, mode, padding, align_corners)
        assert y.dtype == dtype
        exact = mode == "nearest" or (align_corners and all(n in (1, 2, 3, 5, 9) for n in shape[2:]))
        if exact:
            np.testing.assert_array_equal(y.numpy(), x, err_msg=str(shape))
        else:
            np.testing.assert_allclose(y.numpy(), x, rtol=0, atol=5e-6 if dtype == np.float32 else 1e-13)


def test_affine_grid_moves_the_image(device):
    # theta maps output point p to input point A p + b. Without align_corners a pixel is 2/W wide in
    # normalised units, so b = (2/W, 0) reads each output pixel from its right neighbour.
    x = np.arange(20.0).reshape(1, 1, 4, 5)
    theta = np.array([[[1.0, 0.0, 2 / 5], [0.0, 1.0, 0.0]]])
    y = F.grid_sample(mg.tensor(x, device=device), F.affine_grid(mg.tensor(theta, device=device), x.shape))
    expected = np.concatenate([x[..., 1:], np.zeros((1, 1, 4, 1))], axis=-1)
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-12)
    # A half turn (x, y) -> (-x, -y) flips both axes, exactly in nearest mode.
    flip = np.array([[[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]])
    y = F.grid_sample(mg.tensor(x, device=device), F.affine_grid(mg.tensor(flip, device=device), x.shape),
                      mode="nearest")
    np.testing.assert_array_equal(y.numpy(), x[..., ::-1, ::-1])


# -- gradients -----------------------------------------------------------------------------------------------

@settings(max_examples=12)
@given(case=cases(max_size=3, max_out=2, max_n=1, max_c=2), seed=seeds)
def test_grid_sample_gradients(device, case, seed):
    x, grid = data(case, seed)
    mode, padding, align_corners = case[2:5]
    fn = lambda a, g: F.grid_sample(a, g, mode, padding, align_corners)  # noqa: E731
    check_grad(fn, [x, grid], device)
    check_double_grad(fn, [x, grid], device)


@pytest.mark.parametrize("size", [(2, 3, 3, 4), (1, 2, 2, 3, 2)])
def test_affine_grid_gradients(device, size):
    d = len(size) - 2
    rng = np.random.default_rng(3)
    theta = np.eye(d, d + 1) + 0.3 * rng.standard_normal((size[0], d, d + 1))
    x = rng.standard_normal(size)
    check_grad(lambda t: F.affine_grid(t, size), [theta], device)
    check_double_grad(lambda t: F.affine_grid(t, size, align_corners=True), [theta], device)
    # The spatial transformer: the image and the map both learnt.
    transform = lambda a, t: F.grid_sample(a, F.affine_grid(t, size), padding_mode="border")  # noqa: E731
    check_grad(transform, [x, theta], device)
    check_double_grad(transform, [x, theta], device)


@pytest.mark.parametrize("d", [2, 3])
def test_nearest_gives_the_grid_a_zero_gradient(device, d):
    rng = np.random.default_rng(4)
    x, grid = rng.standard_normal((2, 3) + (4,) * d), rng.uniform(-1.2, 1.2, (2,) + (3,) * d + (d,))
    xm, gm = tensors([x, grid], device, requires_grad=True)
    y = F.grid_sample(xm, gm, mode="nearest")
    gx, gg = mg.grad((y * y).sum(), [xm, gm], create_graph=True)
    assert gg.shape == grid.shape and gg.dtype == np.float64
    np.testing.assert_array_equal(gg.numpy(), 0.0)
    # The input gradient's own grid gradient (a penalty on it) is zero too, not missing, as in PyTorch.
    (ggg,) = mg.grad((gx * gx).sum(), [gm])
    np.testing.assert_array_equal(ggg.numpy(), 0.0)


def test_gradient_penalty_through_grid_sample(device):
    # As R1 differentiates |d D / dx|^2 with respect to the critic's parameters: here the grid is the
    # parameter and D(x) = sum(w * grid_sample(x, grid)).
    rng = np.random.default_rng(6)
    x, grid, w = rng.standard_normal((1, 2, 3, 4)), rng.uniform(-1.3, 1.3, (1, 2, 3, 2)), rng.standard_normal((1, 2, 2, 3))
    wm = mg.tensor(w, device=device)

    def penalty(image, g):
        (gx,) = mg.grad((F.grid_sample(image, g, "bicubic", "reflection") * wm).sum(), [image], create_graph=True)
        return (gx * gx).sum()

    check_grad(penalty, [x, grid], device)


# -- float32, special values, empty shapes --------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_float32_stays_float32(device, mode):
    rng = np.random.default_rng(7)
    x, grid = rng.standard_normal((2, 3, 4, 5)).astype(np.float32), rng.uniform(-2, 2, (2, 3, 3, 2)).astype(np.float32)
    theta = rng.standard_normal((2, 2, 3)).astype(np.float32)
    xm, gm, tm = tensors([x, grid, theta], device, requires_grad=True)
    for g in (gm, F.affine_grid(tm, (2, 3, 4, 5))):
        assert g.dtype == np.float32
        y = F.grid_sample(xm, g, mode, "reflection")
        assert y.dtype == np.float32
        grads = mg.grad(y.sum(), [xm, g], create_graph=True)
        assert all(a.dtype == np.float32 for a in grads)
        assert mg.grad((grads[0] ** 2).sum(), [xm, g], allow_unused=True)[1].dtype == np.float32
    np.testing.assert_allclose(F.grid_sample(xm, gm, mode).numpy(),
                               np_grid_sample(x.astype(np.float64), grid.astype(np.float64), mode), rtol=1e-5, atol=1e-5)


def test_empty_shapes(device):
    # PyTorch allows an empty batch, no channels and an empty grid; the input's spatial axes must not be empty.
    for x_shape, g_shape in [((0, 2, 4, 4), (0, 3, 3, 2)), ((1, 0, 4, 4), (1, 3, 3, 2)), ((1, 2, 4, 4), (1, 0, 3, 2)),
                             ((0, 2, 3, 4, 4), (0, 1, 3, 3, 3))]:
        for mode in ("bilinear", "nearest"):
            xm, gm = tensors([np.ones(x_shape), np.zeros(g_shape)], device, requires_grad=True)
            y = F.grid_sample(xm, gm, mode)
            assert y.shape == x_shape[:2] + g_shape[1:-1]
            gx, gg = mg.grad(y, [xm, gm], mg.tensor(np.ones(y.shape), device=device))
            assert gx.shape == x_shape and gg.shape == g_shape


def test_taps_outside_read_zeros_even_beside_inf(device):
    # Zeros padding reads nothing from outside: points past the inf edge pixel, whose taps are all outside,
    # give 0 (not inf * 0 = NaN, as taps clipped onto the edge would).
    x = np.array([[[[1.0, 2.0, np.inf]]]])
    grid = np.array([[[[-0.1, 0.0], [2.0, 0.0], [2.5, 0.0]]]])  # between pixels 0 and 1; one and 1.5 pixels out
    y = F.grid_sample(mg.tensor(x, device=device), mg.tensor(grid, device=device), align_corners=True)
    np.testing.assert_allclose(y.numpy(), [[[[1.9, 0.0, 0.0]]]], rtol=1e-12)


# -- PyTorch, where installed --------------------------------------------------------------------------------

def tolerance(dtype):
    return {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=25)
@given(case=cases(), seed=seeds)
def test_grid_sample_matches_torch(device, dtype, case, seed):
    torch = pytest.importorskip("torch")
    x, grid = data(case, seed, dtype)
    mode, padding, align_corners = case[2:5]
    xm, gm = tensors([x, grid], device, requires_grad=True)
    xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(grid, requires_grad=True)
    y = F.grid_sample(xm, gm, mode, padding, align_corners)
    yt = torch.nn.functional.grid_sample(xt, gt, mode, padding, align_corners)
    assert y.dtype == dtype and y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tolerance(dtype))
    gy = np.random.default_rng(seed + 1).standard_normal(y.shape).astype(dtype)
    grads = mg.grad(y, [xm, gm], mg.tensor(gy, device=device))
    expected = torch.autograd.grad(yt, [xt, gt], torch.tensor(gy))
    for ours, theirs in zip(grads, expected):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), **tolerance(dtype))


@settings(max_examples=15)
@given(case=cases(max_size=4, max_out=3), seed=seeds)
def test_input_gradient_penalty_matches_torch(device, case, seed):
    # PyTorch differentiates grid_sample's input gradient again (not its grid gradient): compare there.
    torch = pytest.importorskip("torch")
    x, grid = data(case, seed)
    mode, padding, align_corners = case[2:5]
    gy = np.random.default_rng(seed + 2).standard_normal(x.shape[:2] + grid.shape[1:-1])
    xm, gm = tensors([x, grid], device, requires_grad=True)
    (gx,) = mg.grad(F.grid_sample(xm, gm, mode, padding, align_corners), [xm], mg.tensor(gy, device=device),
                    create_graph=True)
    (ours,) = mg.grad((gx * gx).sum(), [gm])
    xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(grid, requires_grad=True)
    yt = torch.nn.functional.grid_sample(xt, gt, mode, padding, align_corners)
    (gxt,) = torch.autograd.grad(yt, [xt], torch.tensor(gy), create_graph=True)
    (theirs,) = torch.autograd.grad((gxt * gxt).sum(), [gt])
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.filterwarnings("ignore:Since version 1.3.0, affine_grid")  # PyTorch's, on unit sizes with align_corners
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("align_corners", [True, False])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (3, 1, 1, 6), (2, 1, 3, 4, 5), (1, 2, 1, 1, 2)])
def test_affine_grid_matches_torch(device, dtype, align_corners, size):
    torch = pytest.importorskip("torch")
    d = len(size) - 2
    theta = np.random.default_rng(8).standard_normal((size[0], d, d + 1)).astype(dtype)
    tm, tt = mg.tensor(theta, device=device, requires_grad=True), torch.tensor(theta, requires_grad=True)
    grid, expected = F.affine_grid(tm, size, align_corners), torch.nn.functional.affine_grid(tt, size, align_corners)
    assert grid.dtype == dtype
    np.testing.assert_allclose(grid.numpy(), expected.detach().numpy(), rtol=1e-6, atol=1e-6)
    # Through a grid_sample, the gradient with respect to theta.
    x = np.random.default_rng(9).standard_normal(size).astype(dtype)
    y = F.grid_sample(mg.tensor(x, device=device), grid, align_corners=align_corners)
    yt = torch.nn.functional.grid_sample(torch.tensor(x), expected, align_corners=align_corners)
    (g,) = mg.grad((y * y).sum(), [tm])
    (gt,) = torch.autograd.grad((yt * yt).sum(), [tt])
    assert g.dtype == dtype
    np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=1e-4, atol=1e-4 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_non_finite_grids_match_torch(device, dtype):
    torch = pytest.importorskip("torch")
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3).astype(dtype)
    points = [np.nan, np.inf, -np.inf, 1e30, -1e30, 1e3, -77.7, 0.3]
    grid = np.array([[[[p, 0.25] for p in points]]], dtype)
    for mode, padding in itertools.product(MODES, PADDINGS):
        # Reflecting +-1e30 is left out: see grid_sample's module docstring on coordinates that far out.
        grid_here = grid[:, :, [0, 1, 2, 5, 6, 7]] if padding == "reflection" else grid
        with np.errstate(invalid="ignore"):
            y = F.grid_sample(mg.tensor(x, device=device), mg.tensor(grid_here, device=device), mode, padding)
        expected = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(grid_here), mode, padding, False)
        np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-5, equal_nan=True, err_msg=f"{mode} {padding}")


# -- errors --------------------------------------------------------------------------------------------------

def _grid_sample(x_shape, g_shape, x_dtype=np.float64, g_dtype=np.float64, **kwargs):
    return lambda: F.grid_sample(mg.tensor(np.zeros(x_shape, x_dtype)), mg.tensor(np.zeros(g_shape, g_dtype)), **kwargs)


def _affine_grid(theta_shape, size, dtype=np.float64, **kwargs):
    return lambda: F.affine_grid(mg.tensor(np.zeros(theta_shape, dtype)), size, **kwargs)


@pytest.mark.parametrize("call, error, message", [
    (_grid_sample((1, 2, 3), (1, 3, 1)), ValueError,
     r"grid_sample: input must be 4-D \(N, C, H_in, W_in\) or 5-D .*got input of shape \(1, 2, 3\)"),
    (_grid_sample((1, 2, 3, 3), (1, 3, 3, 2, 2)), ValueError,
     r"grid_sample: grid must have as many axes as input, 4: \(N, H_out, W_out, 2\), got .*grid of shape \(1, 3, 3, 2, 2\)"),
    (_grid_sample((1, 2, 3, 3), (1, 3, 3, 3)), ValueError,
     r"grid_sample: grid's last axis must have size 2 \(the coordinates \(x, y\) of each point\)"),
    (_grid_sample((1, 2, 3, 3, 3), (1, 3, 3, 3, 2)), ValueError,
     r"grid_sample: grid's last axis must have size 3 \(the coordinates \(x, y, z\)"),
    (_grid_sample((1, 2, 3, 3), (2, 3, 3, 2)), ValueError,
     r"grid_sample: input and grid must have the same batch size N, got input of shape \(1, 2, 3, 3\), grid of shape \(2, 3, 3, 2\)"),
    (_grid_sample((1, 2, 3, 3), (1, 3, 3, 2), mode="area"), ValueError,
     r"grid_sample: mode must be one of 'bilinear', 'nearest', 'bicubic', got mode='area'"),
    (_grid_sample((1, 2, 3, 3), (1, 3, 3, 2), padding_mode="circular"), ValueError,
     r"grid_sample: padding_mode must be one of 'zeros', 'border', 'reflection', got padding_mode='circular'"),
    (_grid_sample((1, 2, 3, 3, 3), (1, 3, 3, 3, 3), mode="bicubic"), ValueError,
     r"grid_sample: mode 'bicubic' takes only 4-D input \(N, C, H, W\), as in PyTorch, got input of shape \(1, 2, 3, 3, 3\)"),
    (_grid_sample((1, 2, 3, 3), (1, 3, 3, 2), g_dtype=np.float32), TypeError,
     r"grid_sample: input and grid must be floating point of one dtype, got float64 and float32"),
    (_grid_sample((1, 2, 3, 3), (1, 3, 3, 2), np.int64, np.int64), TypeError, r"grid_sample: input and grid must be floating"),
    (_grid_sample((1, 2, 0, 3), (1, 3, 3, 2)), ValueError,
     r"grid_sample: input's spatial axes must not be empty, got input of shape \(1, 2, 0, 3\)"),
    (_grid_sample((1, 2, 3, 3), (1, 3, 3, 2), align_corners="yes"), TypeError,
     r"grid_sample: align_corners must be a bool or None, got 'yes'"),
    (_affine_grid((1, 2, 3), (1, 1, 4)), ValueError,
     r"affine_grid: size must have 4 entries \(N, C, H, W\) for 2-D affine maps or 5 \(N, C, D, H, W\) for 3-D ones, got size=\(1, 1, 4\)"),
    (_affine_grid((1, 2, 3), (1, 1, 4, 4, 4)), ValueError,
     r"affine_grid: theta must have shape \(N, 3, 4\), .*expected \(1, 3, 4\), got \(1, 2, 3\)"),
    (_affine_grid((1, 3, 3), (1, 1, 4, 4)), ValueError, r"affine_grid: theta must have shape \(N, 2, 3\)"),
    (_affine_grid((2, 2, 3), (1, 1, 4, 4)), ValueError, r"for size=\(1, 1, 4, 4\): expected \(1, 2, 3\), got \(2, 2, 3\)"),
    (_affine_grid((2, 3), (1, 1, 4, 4)), ValueError, r"affine_grid: theta must have shape \(N, 2, 3\).*got \(2, 3\)"),
    (_affine_grid((1, 2, 3), (1, 1, 0, 4)), ValueError, r"affine_grid: every entry of size must be positive, got size=\(1, 1, 0, 4\)"),
    (_affine_grid((1, 2, 3), (1, 1, 4, 4), np.int64), TypeError, r"affine_grid: theta must be floating point, got dtype int64"),
    (_affine_grid((1, 2, 3), (1, 1, 4.0, 4)), TypeError, r"affine_grid: size must be a sequence of ints"),
    (_affine_grid((1, 2, 3), 4), TypeError, r"affine_grid: size must be a sequence of ints"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_exports():
    assert F.grid_sample.__module__ == F.affine_grid.__module__ == "minigan.functional.grid_sample"
