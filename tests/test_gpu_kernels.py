"""Every kernel registered on "cuda" against its reference, on a real GPU (skipped without one).

The same cases as the simulator and emulator tests (kernel_cases), at larger sizes, on CuPy arrays:
this is where the CUDA C and Numba CUDA kernels meet real hardware, with its memory model and its
compilers (NVRTC through CuPy, NVVM through Numba).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kernel_cases
import minigan
from minigan import kernels

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not minigan.cuda.is_available(),
                                 reason="no CUDA GPU here (CuPy, a driver and a device are all needed)")]


def _cuda_implementations():
    if not minigan.cuda.is_available():
        return []
    return [(p, name) for p, _, name in kernels.implementations(device="cuda") if name != "reference"]


def _loaded_or_skip(name):
    if name not in {n for _, n in _cuda_implementations()}:
        pytest.skip(f"{name} did not load: {kernels.load_errors().get(name)}")


def test_cuda_c_and_numba_cuda_loaded():
    # Numba CUDA may be unusable in an environment (kernels.numba_cuda launches a probe kernel and
    # says "cannot compile"); any other reason for either module not to load is a bug here.
    loaded = {name for _, name in _cuda_implementations()}
    errors = kernels.load_errors()
    assert "cuda_c" in loaded, f"load errors: {errors}"
    assert "numba_cuda" in loaded or "cannot compile a kernel here" in errors.get("numba_cuda", ""), errors


@pytest.mark.parametrize("primitive, name", _cuda_implementations())
@settings(max_examples=20)
@given(data=st.data())
def test_matches_reference(primitive, name, data):
    import cupy
    args = kernel_cases.to_module(data.draw(kernel_cases.case(primitive, kernel_cases.GPU)), cupy)
    kernel_cases.assert_matches_reference(primitive, kernels.get(primitive, cupy, name=name), args)


@pytest.mark.parametrize("name", ["cuda_c", "numba_cuda"])
def test_im2col_col2im_at_dcgan_sizes(name):
    # The second discriminator convolution of DCGAN-64: (128, 64, 32, 32), 4x4 kernel, stride 2, pad 1.
    _loaded_or_skip(name)
    import cupy
    x = cupy.random.default_rng(0).standard_normal((128, 64, 32, 32), dtype=cupy.float32)
    params = (4, 4, 2, 2, 1, 1, 1, 1)
    col = kernels.get("im2col", cupy, name=name)(x, *params)
    cupy.testing.assert_array_equal(col, kernels.reference.im2col(x, *params))
    back = kernels.get("col2im", cupy, name=name)(col, 32, 32, 2, 2, 1, 1, 1, 1)
    cupy.testing.assert_allclose(back, kernels.reference.col2im(col, 32, 32, 2, 2, 1, 1, 1, 1), rtol=1e-5, atol=1e-5)


def test_batch_norm_at_dcgan_sizes():
    import cupy
    from minigan.kernels import cuda_c
    rng = cupy.random.default_rng(1)
    x = rng.standard_normal((128, 256, 64), dtype=cupy.float32) * 3 + 2
    gamma, beta = cupy.ones(256, cupy.float32), cupy.zeros(256, cupy.float32)
    kernel_cases.assert_matches_reference("batch_norm_forward", cuda_c.batch_norm_forward, (x, gamma, beta, 1e-5))
    _, mean, invstd = cuda_c.batch_norm_forward(x, gamma, beta, 1e-5)
    gy = rng.standard_normal(x.shape, dtype=cupy.float32)
    kernel_cases.assert_matches_reference("batch_norm_backward", cuda_c.batch_norm_backward,
                                          (gy, x, mean, invstd, gamma))


def test_standardise_at_w2_sizes():
    # The default run's layer norm in D: 128 rows of (128, 7, 7) values.
    import cupy
    from minigan.kernels import cuda_c
    rng = cupy.random.default_rng(2)
    x = rng.standard_normal((128, 6272), dtype=cupy.float32) * 3 + 2
    kernel_cases.assert_matches_reference("standardise_forward", cuda_c.standardise_forward, (x, 1e-5))
    xhat, invstd = cuda_c.standardise_forward(x, 1e-5)
    gy = rng.standard_normal(x.shape, dtype=cupy.float32)
    kernel_cases.assert_matches_reference("standardise_backward", cuda_c.standardise_backward, (gy, xhat, invstd))


@pytest.mark.parametrize("name", ["cuda_c", "numba_cuda"])
def test_kernels_run_on_cupys_current_stream(name):
    # On a non-blocking CuPy stream, a kernel launched anywhere else could run before its input exists.
    _loaded_or_skip(name)
    import cupy
    stream = cupy.cuda.Stream(non_blocking=True)
    with stream:
        x = cupy.arange(-500_000, 500_000, dtype=cupy.float32)
        y = kernels.get("leaky_relu", cupy, name=name)(x, 0.5)
    stream.synchronize()
    expected = np.arange(-500_000, 500_000, dtype=np.float32)
    np.testing.assert_array_equal(y.get(), np.where(expected > 0, expected, expected * np.float32(0.5)))
