"""Every Numba CUDA kernel against its reference, run by Numba's CUDA simulator on NumPy arrays.

Collected only with NUMBA_ENABLE_CUDASIM=1 (see conftest.py here and tests/test_cudasim.py). The
simulator runs each CUDA thread as a Python thread, so the inputs are kept small (kernel_cases.SIMULATOR).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kernel_cases

pytest.importorskip("numba.cuda", reason="numba-cuda is not installed: pip install 'minigan[test,gpu-check]'")

from numba import config  # noqa: E402

from minigan import kernels  # noqa: E402
from minigan.kernels import numba_cuda  # noqa: E402

SIMULATED = ("im2col", "col2im", "leaky_relu", "leaky_relu_grad")


def test_running_in_the_simulator():
    assert config.ENABLE_CUDASIM, "these tests are meant for NUMBA_ENABLE_CUDASIM=1"


def test_every_numba_cuda_primitive_is_tested_here():
    registered = {p for p, device, name in kernels.implementations(device="cuda") if name == "numba_cuda"}
    assert registered == set(SIMULATED)


@pytest.mark.parametrize("primitive", SIMULATED)
@settings(max_examples=12)
@given(data=st.data())
def test_matches_reference(primitive, data):
    args = data.draw(kernel_cases.case(primitive, kernel_cases.SIMULATOR))
    kernel_cases.assert_matches_reference(primitive, getattr(numba_cuda, primitive), args)


@pytest.mark.parametrize("primitive", ["leaky_relu", "leaky_relu_grad"])
def test_grid_stride_loop_covers_more_elements_than_threads(primitive, monkeypatch):
    # One block of THREADS threads for 2.5 blocks' worth of elements: each thread must loop.
    monkeypatch.setattr(numba_cuda, "MAX_BLOCKS", 1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(numba_cuda.THREADS * 5 // 2).astype(np.float32)
    args = (x, 0.1) if primitive == "leaky_relu" else (x, rng.standard_normal(x.shape).astype(np.float32), 0.1)
    kernel_cases.assert_matches_reference(primitive, getattr(numba_cuda, primitive), args)


def test_other_dtypes_go_to_the_reference():
    x = np.array([-2.0, 0.0, 3.0], dtype=np.float16)
    y = numba_cuda.leaky_relu(x, 0.5)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y, np.array([-1.0, 0.0, 3.0], dtype=np.float16))
