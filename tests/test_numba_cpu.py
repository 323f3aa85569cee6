"""The Numba CPU kernels (kernels/numba_cpu.py) against the NumPy references, on the same inputs.

Hypothesis draws the inputs (float32 and float64, contiguous and strided; tests/kernel_cases.py), and
``assert_matches_reference`` compares every output, dtype and shape. Fixed cases add the geometries
the DCGAN workloads run (4x4 kernels, stride 2, padding 1; stride 1, no padding) at sizes hypothesis
does not reach, and the layouts each wrapper converts or hands back to the reference. Skipped where
Numba is not installed. The first run compiles each kernel once per dtype (cached afterwards). Every
test runs the serial kernels (``numba_cpu``) and, where one exists, the parallel variant
(``numba_cpu_parallel``), which must also agree with the serial kernel bit for bit.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

pytest.importorskip("numba")

from minigan import kernels  # noqa: E402
from minigan.kernels import numba_cpu, reference  # noqa: E402

from kernel_cases import PRIMITIVES, Limits, assert_matches_reference, case  # noqa: E402
from layouts import is_channels_last  # noqa: E402

CPU = Limits(batch=4, channels=5, spatial=12, elements=6000)
PARALLEL = ("im2col", "col2im", "leaky_relu", "leaky_relu_grad", "batch_norm_forward", "batch_norm_backward",
            "standardise_forward", "standardise_backward")
# (primitive, the kernel's name in numba_cpu): every serial kernel and every parallel variant
KERNELS = [(p, p) for p in PRIMITIVES] + [(p, p + "_parallel") for p in PARALLEL]
IDS = [name for _, name in KERNELS]


def test_every_primitive_has_a_numba_kernel_in_the_registry():
    names = {(p, n) for p, _, n in kernels.implementations(device="cpu")}
    for primitive in PRIMITIVES:
        assert (primitive, "numba_cpu") in names, primitive
        assert kernels.get(primitive, np, "numba_cpu") is getattr(numba_cpu, primitive)
    for primitive in PARALLEL:
        assert kernels.get(primitive, np, "numba_cpu_parallel") is getattr(numba_cpu, primitive + "_parallel")


@pytest.mark.parametrize("primitive, kernel", KERNELS, ids=IDS)
@settings(max_examples=30)
@given(data=st.data())
def test_matches_reference(primitive, kernel, data):
    args = data.draw(case(primitive, CPU))
    assert_matches_reference(primitive, getattr(numba_cpu, kernel), args)


@pytest.mark.parametrize("primitive", PARALLEL)
def test_parallel_kernels_equal_the_serial_ones_bit_for_bit(primitive):
    """Each output element is computed by the same operations in the same order in both."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((5, 6, 9, 11)).astype(np.float32)
    gamma, beta = rng.uniform(0.5, 1.5, 6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    _, mean, invstd = reference.batch_norm_forward(x.reshape(5, 6, -1), gamma, beta, 1e-5)
    rows = x.reshape(30, -1)
    xhat, row_invstd = reference.standardise_forward(rows, 1e-5)
    args = {"im2col": (x, 4, 3, 2, 1, 1, 2, 1, 2), "col2im": (reference.im2col(x, 4, 3, 2, 1, 1, 2, 1, 2), 9, 11, 2, 1, 1, 2, 1, 2),
            "leaky_relu": (x, 0.2), "leaky_relu_grad": (x, x[::-1].copy(), 0.2),
            "batch_norm_forward": (x.reshape(5, 6, -1), gamma, beta, 1e-5),
            "batch_norm_backward": (x[::-1].reshape(5, 6, -1), x.reshape(5, 6, -1), mean, invstd, gamma),
            "standardise_forward": (rows, 1e-5), "standardise_backward": (rows[::-1].copy(), xhat, row_invstd)}[primitive]
    serial, parallel = getattr(numba_cpu, primitive)(*args), getattr(numba_cpu, primitive + "_parallel")(*args)
    for s, p in zip(*(out if isinstance(out, tuple) else (out,) for out in (serial, parallel))):
        np.testing.assert_array_equal(s, p)


# (N, C, H, W, kernel, stride, padding): W2's and W3's convolutions, scaled down.
DCGAN_GEOMETRIES = [(3, 4, 14, 14, 4, 2, 1), (2, 3, 7, 9, 4, 2, 1), (3, 5, 4, 4, 4, 1, 0), (2, 2, 1, 1, 4, 1, 3)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, c, h, w, k, s, p", DCGAN_GEOMETRIES)
def test_im2col_and_col2im_on_dcgan_geometries(n, c, h, w, k, s, p, dtype):
    rng = np.random.default_rng(n * 100 + h)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    ho, wo = reference.conv_output_size(h, k, s, p, 1), reference.conv_output_size(w, k, s, p, 1)
    col = rng.standard_normal((n, ho, wo, k, k, c)).astype(dtype)
    for im2col, col2im in ((numba_cpu.im2col, numba_cpu.col2im), (numba_cpu.im2col_parallel, numba_cpu.col2im_parallel)):
        assert_matches_reference("im2col", im2col, (x, k, k, s, s, p, p, 1, 1))
        assert_matches_reference("col2im", col2im, (col, h, w, s, s, p, p, 1, 1))
        # col2im sums the patches in the reference's order, so it rounds identically
        np.testing.assert_array_equal(col2im(col, h, w, s, s, p, p, 1, 1), reference.col2im(col, h, w, s, s, p, p, 1, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(16, 40, 1), (4, 3, 50), (2, 1, 7), (1, 6, 2)])
def test_batch_norm_on_batch_norm_1d_and_2d_layouts(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    gamma, beta = rng.uniform(0.5, 1.5, shape[1]).astype(dtype), rng.standard_normal(shape[1]).astype(dtype)
    _, mean, invstd = reference.batch_norm_forward(x, gamma, beta, 1e-5)
    gy = rng.standard_normal(shape).astype(dtype)
    for suffix in ("", "_parallel"):
        assert_matches_reference("batch_norm_forward", getattr(numba_cpu, "batch_norm_forward" + suffix),
                                 (x, gamma, beta, 1e-5))
        assert_matches_reference("batch_norm_backward", getattr(numba_cpu, "batch_norm_backward" + suffix),
                                 (gy, x, mean, invstd, gamma))


@pytest.mark.parametrize("suffix", ["", "_parallel"])
def test_channels_last_stays_channels_last(suffix):
    """col2im hands its image back channels-last, as the next convolution reads it, and the
    elementwise kernels keep the layout they are given instead of copying it back to NCHW."""
    rng = np.random.default_rng(5)
    col = rng.standard_normal((2, 4, 4, 3, 3, 5)).astype(np.float32)
    x = getattr(numba_cpu, "col2im" + suffix)(col, 8, 8, 2, 2, 1, 1, 1, 1)
    np.testing.assert_allclose(x, reference.col2im(col, 8, 8, 2, 2, 1, 1, 1, 1), rtol=1e-6, atol=1e-7)
    assert x.shape == (2, 5, 8, 8) and is_channels_last(x)
    y = getattr(numba_cpu, "leaky_relu" + suffix)(x, 0.2)
    gx = getattr(numba_cpu, "leaky_relu_grad" + suffix)(x, y, 0.2)
    assert is_channels_last(y) and is_channels_last(gx)
    np.testing.assert_array_equal(gx, reference.leaky_relu_grad(x, y, 0.2))
    gy = np.ascontiguousarray(y)  # another layout than x's: read in x's order all the same
    np.testing.assert_array_equal(getattr(numba_cpu, "leaky_relu_grad" + suffix)(x, gy, 0.2),
                                  reference.leaky_relu_grad(x, gy, 0.2))


def test_batch_norm_accepts_a_non_contiguous_input():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 10)).astype(np.float32)[:, :, ::2]
    gamma, beta = np.ones(3, np.float32), np.zeros(3, np.float32)
    assert_matches_reference("batch_norm_forward", numba_cpu.batch_norm_forward, (x, gamma, beta, 1e-5))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_update_is_the_reference_bit_for_bit(dtype):
    """The fused loop performs the reference's operations in the same order and dtype."""
    rng = np.random.default_rng(7)
    p, g, m = (rng.standard_normal(1000).astype(dtype) for _ in range(3))
    v = rng.uniform(0, 1, 1000).astype(dtype)
    ours, theirs = [a.copy() for a in (p, g, m, v)], [a.copy() for a in (p, g, m, v)]
    for step in (1, 2, 3):
        numba_cpu.adam_update(*ours, 2e-4, 0.5, 0.999, 1e-8, 0.01, step)
        reference.adam_update(*theirs, 2e-4, 0.5, 0.999, 1e-8, 0.01, step)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours[1], g)  # the gradient is read, never written


def test_adam_update_on_strided_views_updates_them_in_place():
    """Arrays without a flat view go to the reference, which updates them in place all the same."""
    rng = np.random.default_rng(8)
    base = [rng.standard_normal((6, 8)).astype(np.float32) for _ in range(4)]
    base[3] = np.abs(base[3])
    ours = [a.copy() for a in base]
    views = [a[:, ::2] for a in ours]
    expected = [a[:, ::2].copy() for a in base]
    numba_cpu.adam_update(*views, 1e-3, 0.9, 0.999, 1e-8, 0.0, 4)
    reference.adam_update(*expected, 1e-3, 0.9, 0.999, 1e-8, 0.0, 4)
    for view, want in zip(views, expected):
        np.testing.assert_array_equal(view, want)
    np.testing.assert_array_equal(ours[0][:, 1::2], base[0][:, 1::2])  # the rest is untouched


@pytest.mark.parametrize("primitive", ["leaky_relu", "leaky_relu_grad"])
def test_leaky_relu_keeps_nan_and_signed_zero_as_the_reference(primitive):
    x = np.array([np.nan, -0.0, 0.0, -np.inf, np.inf, -1.5, 2.5], dtype=np.float32)
    args = (x, 0.2) if primitive == "leaky_relu" else (x, x[::-1].copy(), 0.2)
    ours, theirs = getattr(numba_cpu, primitive)(*args), getattr(reference, primitive)(*args)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
