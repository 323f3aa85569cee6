"""Choosing a device: "cpu", "cuda", "cuda:N"; the errors without CuPy, a driver or a GPU; and, on a real
GPU, tensors, factories, autograd across devices, an optimiser and the kernel registry on CuPy arrays."""
import subprocess
import sys
import types

import numpy as np
import pytest

import minigan as mg
from minigan import backend, kernels
import minigan.functional as F

from kernel_cases import PRIMITIVES

needs_gpu = pytest.mark.skipif("not __import__('minigan').cuda.is_available()",
                               reason="no CUDA GPU here (CuPy, a driver and a device are all needed)")
needs_no_gpu = pytest.mark.skipif("__import__('minigan').cuda.is_available()",
                                  reason="a GPU is here: the no-GPU error paths cannot show")


def _fake_cupy(device_count):
    """Just enough of CuPy for device selection: a runtime that reports ``device_count`` GPUs, or
    raises like CuPy without a driver when ``device_count`` is an exception."""
    def get_device_count():
        if isinstance(device_count, Exception):
            raise device_count
        return device_count
    return types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=types.SimpleNamespace(
        getDeviceCount=get_device_count)), ndarray=type("ndarray", (), {}))


@pytest.fixture
def cupy_as(monkeypatch):
    """Make backend see a fake CuPy (or none, with ``cupy_as(None)``) for one test."""
    def install(fake):
        monkeypatch.setattr(backend, "_cupy", fake)
        monkeypatch.setattr(backend, "_cupy_error", None if fake is not None else ImportError("No module named 'cupy'"))
    return install


def test_is_available_agrees_with_the_reason():
    assert mg.cuda.is_available() == (mg.cuda.unavailable_reason() is None)


@pytest.mark.parametrize("device", [None, "cpu"])
def test_cpu_names(device):
    assert backend.parse_device(device) == "cpu"
    assert mg.zeros(2, device=device).device == "cpu"


@pytest.mark.parametrize("device", ["cuda:x", "cuda:-1", "gpu", "tpu:0", "CUDA"])
def test_unknown_device_names_are_rejected(device):
    with pytest.raises(ValueError, match="device"):
        backend.parse_device(device)


def test_without_cupy_the_error_says_what_to_install(cupy_as):
    cupy_as(None)
    assert not mg.cuda.is_available()
    with pytest.raises(RuntimeError) as error:
        mg.zeros(3, device="cuda")
    message = str(error.value)
    assert "'cuda'" in message and "CuPy could not be imported" in message
    assert "pip install 'minigan[gpu]'" in message and "cupy-cuda13x" in message


def test_without_a_driver_the_error_says_so(cupy_as):
    cupy_as(_fake_cupy(RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient")))
    assert not mg.cuda.is_available()
    with pytest.raises(RuntimeError, match="driver could not be used.*cudaErrorInsufficientDriver"):
        mg.tensor([1.0]).to("cuda")


def test_without_a_device_the_error_says_so(cupy_as):
    cupy_as(_fake_cupy(0))
    assert not mg.cuda.is_available()
    with pytest.raises(RuntimeError, match="no CUDA device was found"):
        mg.randn(2, device="cuda:0")


def test_device_index_must_exist(cupy_as):
    cupy_as(_fake_cupy(2))
    assert mg.cuda.is_available()
    assert backend.parse_device("cuda") == "cuda:0"
    assert backend.parse_device("cuda:1") == "cuda:1"
    with pytest.raises(RuntimeError, match="there are 2 CUDA device"):
        backend.parse_device("cuda:2")


@needs_no_gpu
def test_with_cupy_installed_and_no_gpu_every_way_to_ask_for_cuda_fails_clearly():
    pytest.importorskip("cupy", reason="CuPy is not installed: pip install 'minigan[test,gpu-check]'")
    reason = mg.cuda.unavailable_reason()
    assert "CuPy could not be imported" not in reason  # CuPy itself imports on a machine without a GPU
    t = mg.tensor([1.0, 2.0])
    attempts = [lambda: mg.zeros(2, device="cuda"), lambda: mg.ones(2, device="cuda:0"),
                lambda: mg.full((2,), 1.0, device="cuda"), lambda: mg.randn(2, device="cuda"),
                lambda: mg.rand(2, device="cuda"), lambda: mg.tensor([1.0], device="cuda"),
                lambda: t.to("cuda"), lambda: t.cuda()]
    for attempt in attempts:
        with pytest.raises(RuntimeError) as error:
            attempt()
        assert reason in str(error.value)


def test_registry_keeps_cuda_implementations_off_numpy_arrays():
    # NumPy arrays always get a CPU implementation, whatever loaded for "cuda".
    cpu = {name for _, _, name in kernels.implementations("im2col", "cpu")}
    assert kernels.get("im2col", np) in [kernels.get("im2col", np, name=n) for n in cpu]
    for primitive in PRIMITIVES:
        assert ("reference" in {name for _, _, name in kernels.implementations(primitive, "cuda")})


def test_the_cpu_install_needs_neither_cupy_nor_numba():
    # A fresh interpreter in which importing CuPy or Numba fails: minigan still imports and trains.
    script = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("cupy", "cupy_backends", "numba", "numba_cuda", "llvmlite"):
            raise ImportError(f"{name} is blocked for this test")

sys.meta_path.insert(0, Block())
import minigan as mg
from minigan import kernels
import minigan.functional as F
x = mg.randn(8, 4)
w = mg.randn(4, 3, requires_grad=True)
loss = F.leaky_relu(x @ w, 0.2).sum()
loss.backward()
assert w.grad.shape == (4, 3) and w.grad.dtype == mg.float32
assert not mg.cuda.is_available()
assert "CuPy could not be imported" in mg.cuda.unavailable_reason()
assert kernels.get("im2col", __import__("numpy")) is not None
assert not [m for m in sys.modules if m.split(".")[0] in ("cupy", "numba")]
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stdout + result.stderr


# -- on a real GPU ------------------------------------------------------------------------------------

@needs_gpu
def test_tensors_and_factories_on_the_gpu():
    import cupy
    for t in (mg.tensor([1.0, 2.0], device="cuda"), mg.zeros(2, 3, device="cuda"), mg.ones(2, device="cuda:0"),
              mg.full((2,), 3.0, device="cuda"), mg.randn(4, device="cuda"), mg.rand(4, device="cuda")):
        assert isinstance(t.data, cupy.ndarray) and t.device == "cuda:0" and t.dtype == np.float32
    assert mg.zeros(2, dtype=np.float64, device="cuda").dtype == np.float64
    np.testing.assert_array_equal(mg.tensor([1.0, 2.0], device="cuda").numpy(), [1.0, 2.0])
    mg.manual_seed(7)
    a = mg.randn(5, device="cuda").numpy()
    mg.manual_seed(7)
    np.testing.assert_array_equal(a, mg.randn(5, device="cuda").numpy())


@needs_gpu
def test_a_cupy_array_made_before_minigan_needed_cupy_is_recognised(monkeypatch):
    import cupy
    array = cupy.arange(3, dtype=cupy.float32)
    monkeypatch.setattr(backend, "_cupy", None)
    assert backend.is_cupy_array(array)
    assert mg.Tensor(array).device == "cuda:0"


@needs_gpu
def test_gradients_flow_back_across_devices():
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = (x.to("cuda") * 2.0).sum()
    y.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="different devices"):
        mg.tensor([1.0]) + mg.tensor([1.0], device="cuda")


@needs_gpu
def test_an_op_given_tensors_on_two_devices_names_itself_and_them():
    x = mg.randn(2, 3, device="cuda")
    with pytest.raises(ValueError, match=r"Linear: inputs are on different devices \(input 0 \(2, 3\) on cuda:0, "
                                         r"input 1 \(4, 3\) on cpu"):
        F.linear(x, mg.ones(4, 3))
    # conv2d checks its operands itself, before any Function runs
    with pytest.raises(ValueError, match=r"conv2d: weight is on cpu \(shape \(2, 1, 3, 3\)\) but input is on cuda:0"):
        F.conv2d(mg.randn(1, 1, 4, 4, device="cuda"), mg.ones(2, 1, 3, 3))
    with pytest.raises(ValueError, match=r"embedding: indices of shape \(2,\) are on cuda:0 but weight of shape "
                                         r"\(3, 2\) is on cpu"):
        F.embedding(mg.tensor([0, 1], device="cuda"), mg.ones(3, 2))
    # the arithmetic operators and concat rely on the same check in Function.apply
    with pytest.raises(ValueError, match=r"Mul: inputs are on different devices \(input 0 \(2, 3\) on cuda:0, "
                                         r"input 1 \(2, 3\) on cpu"):
        x * mg.ones(2, 3)
    with pytest.raises(ValueError, match=r"Concat: inputs are on different devices"):
        F.concat([x, mg.ones(2, 3)], axis=0)


@needs_gpu
def test_adam_on_the_gpu_matches_the_cpu():
    from minigan.nn import Parameter
    rng = np.random.default_rng(0)
    start, grads = rng.standard_normal((3, 5)).astype(np.float32), rng.standard_normal((4, 3, 5)).astype(np.float32)
    results = {}
    for device in ("cpu", "cuda"):
        p = Parameter(mg.tensor(start, device=device))
        optimiser = mg.optim.Adam([p], lr=1e-2, betas=(0.5, 0.999), weight_decay=0.01)
        for g in grads:
            p.grad = mg.tensor(g, device=device)
            optimiser.step()
        results[device] = p.numpy()
    np.testing.assert_allclose(results["cuda"], results["cpu"], rtol=1e-5, atol=1e-6)


@needs_gpu
def test_registry_chooses_cuda_c_on_cupy_arrays_and_prefer_overrides_it():
    import cupy
    from minigan.kernels import cuda_c
    for primitive in PRIMITIVES:
        assert kernels.get(primitive, cupy) is getattr(cuda_c, primitive)
    try:
        kernels.prefer("leaky_relu", "reference")  # always registered (numba_cuda may not load)
        assert kernels.get("leaky_relu", cupy) is kernels.reference.leaky_relu
    finally:
        kernels.prefer("leaky_relu", None)
    assert kernels.get("leaky_relu", cupy) is cuda_c.leaky_relu
