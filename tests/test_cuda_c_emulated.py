"""The CUDA C kernels and their cuda_c wrappers against the reference, run on the CPU.

Each kernels/cuda/*.cu source is compiled by g++ with tests/cuda_emulator.h (one OS thread per CUDA
thread, barriers for __syncthreads) and swapped in for the compiled GPU kernels, so the real wrappers
(argument types, launch shapes, fallbacks) and the real kernel code run end to end on NumPy arrays.
What this cannot show is GPU-only behaviour (memory coalescing, warp timing); test_gpu_kernels.py
runs the same checks on a GPU where there is one.
"""
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kernel_cases

pytest.importorskip("cupy", reason="CuPy is not installed (cuda_c loads it): pip install 'minigan[test,gpu-check]'")
if shutil.which("g++") is None:
    pytest.skip("g++ is not installed; the CUDA C emulator needs it", allow_module_level=True)

from cuda_emulator import EmulatedKernel, compile_source  # noqa: E402

from minigan import kernels  # noqa: E402
from minigan.kernels import cuda_c  # noqa: E402


@pytest.fixture(scope="module")
def emulated(tmp_path_factory):
    """cuda_c with its kernels replaced by CPU-emulated builds of the same sources."""
    build = tmp_path_factory.mktemp("cuda_emulator")
    with ThreadPoolExecutor() as pool:
        libraries = dict(zip(cuda_c.KERNELS, pool.map(
            lambda source: compile_source(cuda_c.SOURCE_DIR / source, cuda_c.name_expressions(source), build),
            cuda_c.KERNELS)))
    launched = {}

    def kernel(name, dtype):
        expression = f"{name}<{cuda_c.C_TYPES[dtype]}>"
        if expression not in launched:
            launched[expression] = EmulatedKernel(libraries[cuda_c._SOURCE_OF[name]], expression)
        return launched[expression]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cuda_c, "_kernel", kernel)
        yield launched


def test_every_registered_cuda_c_primitive_is_covered():
    registered = {p for p, device, name in kernels.implementations(device="cuda") if name == "cuda_c"}
    assert registered == set(kernel_cases.PRIMITIVES)


@pytest.mark.parametrize("primitive", kernel_cases.PRIMITIVES)
@settings(max_examples=15)
@given(data=st.data())
def test_matches_reference(emulated, primitive, data):
    args = data.draw(kernel_cases.case(primitive, kernel_cases.EMULATOR))
    kernel_cases.assert_matches_reference(primitive, getattr(cuda_c, primitive), args)
    assert any(e.startswith(primitive + "<") and k.launches for e, k in emulated.items()), \
        f"{primitive}: the CUDA C kernel never ran (did the wrapper fall back to the reference?)"


@pytest.mark.parametrize("primitive", ["leaky_relu", "leaky_relu_grad", "adam_update"])
def test_grid_stride_loop_covers_more_elements_than_threads(emulated, primitive, monkeypatch):
    monkeypatch.setattr(cuda_c, "MAX_BLOCKS", 1)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(cuda_c.THREADS * 5 // 2).astype(np.float32)
    other = rng.standard_normal(x.shape).astype(np.float32)
    args = {"leaky_relu": (x, 0.1), "leaky_relu_grad": (x, other, 0.1),
            "adam_update": (x, other, other * 0.5, np.abs(other), 1e-3, 0.9, 0.999, 1e-8, 0.0, 3)}[primitive]
    kernel_cases.assert_matches_reference(primitive, getattr(cuda_c, primitive), args)


def test_batch_norm_variance_keeps_float32_precision_far_from_zero(emulated):
    # Values near 1000 with unit spread: E[x^2] - E[x]^2 would cancel ~6 digits away in float32.
    rng = np.random.default_rng(4)
    x64 = rng.standard_normal((8, 2, 60)) + 1000.0
    x = x64.astype(np.float32)
    gamma, beta = np.ones(2, np.float32), np.zeros(2, np.float32)
    y, _, invstd = cuda_c.batch_norm_forward(x, gamma, beta, 1e-5)
    exact_y, _, exact_invstd = kernels.reference.batch_norm_forward(
        x.astype(np.float64), gamma.astype(np.float64), beta.astype(np.float64), 1e-5)
    np.testing.assert_allclose(invstd, exact_invstd, rtol=1e-4)
    np.testing.assert_allclose(y, exact_y, atol=1e-3)


def test_batch_norm_of_one_dimensional_features(emulated):
    # BatchNorm1d on (N, C) arrives as (N, C, 1): each channel's values are C apart in memory.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 37, 1)).astype(np.float32)
    gamma, beta = rng.uniform(0.5, 1.5, 37).astype(np.float32), rng.standard_normal(37).astype(np.float32)
    kernel_cases.assert_matches_reference("batch_norm_forward", cuda_c.batch_norm_forward, (x, gamma, beta, 1e-5))


def test_other_dtypes_and_shapes_go_to_the_reference(emulated):
    before = {e: k.launches for e, k in emulated.items()}
    x16 = np.array([-2.0, 0.0, 3.0], dtype=np.float16)
    np.testing.assert_array_equal(cuda_c.leaky_relu(x16, 0.5), np.array([-1.0, 0.0, 3.0], np.float16))
    x = np.array([-1.0, 2.0], np.float32)
    mixed = cuda_c.leaky_relu_grad(x, np.ones(2, np.float64), 0.5)
    np.testing.assert_array_equal(mixed, [0.5, 1.0])
    # A non-contiguous parameter cannot be updated in place through a raw pointer.
    param = np.ones((4, 4), np.float32).T[:, :2]
    cuda_c.adam_update(param, np.ones_like(param), np.zeros_like(param), np.zeros_like(param),
                       0.1, 0.9, 0.999, 1e-8, 0.0, 1)
    np.testing.assert_allclose(param, 0.9, rtol=1e-6)
    assert {e: k.launches for e, k in emulated.items()} == before


def test_the_emulator_rejects_arguments_of_the_wrong_c_type(emulated):
    # The checks that guard the wrappers: a Python int is not an int32, float64 data is not float*.
    kernel = cuda_c._kernel("leaky_relu", np.dtype(np.float32))
    x = np.zeros(4, np.float32)
    with pytest.raises(TypeError, match="uint64"):
        kernel((1,), (32,), (x, x.copy(), np.float32(0.1), 4))
    with pytest.raises(TypeError, match="float32 array"):
        kernel((1,), (32,), (x.astype(np.float64), x.copy(), np.float32(0.1), np.uint64(4)))
