"""Inputs for every kernel primitive, and the check that an implementation matches its reference.

Shared by the tests of the CUDA kernels wherever they can run: Numba CUDA under the simulator
(tests/cudasim), CUDA C under the CPU emulator (test_cuda_c_emulated.py) and both on a real GPU
(test_gpu_kernels.py). ``case(primitive, limits)`` is a hypothesis strategy for the arguments of a
primitive, as NumPy arrays and Python scalars; ``limits`` bounds the sizes, since the simulator runs a
Python thread per CUDA thread. ``assert_matches_reference`` runs an implementation and the reference on
copies of the same arguments and compares every output (for in-place primitives, every updated array).
"""
from collections import namedtuple

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from minigan import backend
from minigan.kernels import reference

Limits = namedtuple("Limits", "batch channels spatial elements")
SIMULATOR = Limits(batch=2, channels=2, spatial=5, elements=300)
EMULATOR = Limits(batch=3, channels=3, spatial=7, elements=2000)
GPU = Limits(batch=8, channels=16, spatial=20, elements=200_000)

# Arrays each in-place primitive updates (the leading arguments); the others return their outputs.
IN_PLACE = {"adam_update": 4}

# Elementwise kernels match the reference to rounding; the reductions sum in another order (and batch
# norm computes its variance with Welford's method, not two passes), so they get more room in float32.
_EXACTISH = {np.dtype(np.float32): dict(rtol=1e-6, atol=1e-7), np.dtype(np.float64): dict(rtol=1e-13, atol=1e-14)}
_REDUCTION = {np.dtype(np.float32): dict(rtol=1e-4, atol=1e-4), np.dtype(np.float64): dict(rtol=1e-10, atol=1e-11)}
TOLERANCE = {"im2col": _EXACTISH, "col2im": _EXACTISH, "batch_transpose": _EXACTISH,
             "leaky_relu": _EXACTISH, "leaky_relu_grad": _EXACTISH,
             "batch_norm_forward": _REDUCTION, "batch_norm_backward": _REDUCTION,
             "standardise_forward": _REDUCTION, "standardise_backward": _REDUCTION,
             "adam_update": {np.dtype(np.float32): dict(rtol=1e-5, atol=1e-6),
                             np.dtype(np.float64): dict(rtol=1e-12, atol=1e-13)}}

DTYPES = st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])


def _rng(draw):
    return np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))


def _maybe_strided(draw, rng, shape, dtype):
    """A random array of ``shape``: C-contiguous, a strided view (every other column), laid out
    channels-last (axis 1 last in memory, as convolutions return their NCHW outputs), or with its axes
    in another random order in memory."""
    layout = draw(st.sampled_from(["contiguous", "strided", "channels-last", "permuted"]))
    if layout == "strided":
        return rng.standard_normal((*shape[:-1], 2 * shape[-1])).astype(dtype)[..., ::2]
    order = list(range(len(shape)))  # memory order of the axes, outermost first
    if layout == "channels-last" and len(shape) >= 3:
        order = order[:1] + order[2:] + order[1:2]
    elif layout == "permuted":
        order = draw(st.permutations(order))
    dense = rng.standard_normal([shape[a] for a in order]).astype(dtype)
    return dense.transpose(np.argsort(order))


@st.composite
def _geometry(draw, limits):
    """Image shape and convolution parameters (kh, kw, sh, sw, ph, pw, dh, dw) with an output >= 1x1."""
    n, c = draw(st.integers(1, limits.batch)), draw(st.integers(1, limits.channels))
    h, w = draw(st.integers(1, limits.spatial)), draw(st.integers(1, limits.spatial))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw, dh, dw = (draw(st.integers(1, 2)) for _ in range(4))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    ho = reference.conv_output_size(h, kh, sh, ph, dh)
    wo = reference.conv_output_size(w, kw, sw, pw, dw)
    assume(ho >= 1 and wo >= 1 and c * kh * kw * n * ho * wo <= 4 * limits.elements)
    return (n, c, h, w), (kh, kw, sh, sw, ph, pw, dh, dw), (ho, wo)


@st.composite
def _im2col(draw, limits):
    (n, c, h, w), params, _ = draw(_geometry(limits))
    return (_maybe_strided(draw, _rng(draw), (n, c, h, w), draw(DTYPES)), *params)


@st.composite
def _col2im(draw, limits):
    (n, c, h, w), (kh, kw, sh, sw, ph, pw, dh, dw), (ho, wo) = draw(_geometry(limits))
    col = _rng(draw).standard_normal((n, ho, wo, kh, kw, c)).astype(draw(DTYPES))
    return col, h, w, sh, sw, ph, pw, dh, dw


@st.composite
def _batch_transpose(draw, limits):
    """x (B, R, S), maybe strided."""
    rng, dtype = _rng(draw), draw(DTYPES)
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=3, max_size=3).filter(
        lambda s: int(np.prod(s)) <= limits.elements)))
    return (_maybe_strided(draw, rng, shape, dtype),)


def _elementwise_shape(draw, limits):
    return tuple(draw(st.lists(st.integers(1, 12), min_size=1, max_size=3).filter(
        lambda s: int(np.prod(s)) <= limits.elements)))


@st.composite
def _leaky_relu(draw, limits):
    x = _maybe_strided(draw, _rng(draw), _elementwise_shape(draw, limits), draw(DTYPES))
    return x, draw(st.sampled_from([0.0, 0.01, 0.2, 1.5]))


@st.composite
def _leaky_relu_grad(draw, limits):
    rng, dtype = _rng(draw), draw(DTYPES)
    shape = _elementwise_shape(draw, limits)
    return (_maybe_strided(draw, rng, shape, dtype), _maybe_strided(draw, rng, shape, dtype),
            draw(st.sampled_from([0.0, 0.01, 0.2])))


def _batch_norm_input(draw, limits):
    """x (N, C, L) with a per-channel offset and scale, so the statistics are not all ~(0, 1)."""
    rng, dtype = _rng(draw), draw(DTYPES)
    n, c = draw(st.integers(1, limits.batch)), draw(st.integers(1, limits.channels))
    l = draw(st.integers(1, max(1, limits.elements // (n * c * 4))))
    assume(n * l >= 2)  # one value per channel has zero variance: invstd = 1/sqrt(eps), fine but dull
    offset = rng.uniform(-5, 5, size=(1, c, 1))
    scale = rng.uniform(0.5, 3, size=(1, c, 1))
    x = (rng.standard_normal((n, c, l)) * scale + offset).astype(dtype)
    gamma = rng.uniform(0.5, 1.5, size=c).astype(dtype)
    beta = rng.standard_normal(c).astype(dtype)
    return rng, x, gamma, beta


@st.composite
def _batch_norm_forward(draw, limits):
    _, x, gamma, beta = _batch_norm_input(draw, limits)
    return x, gamma, beta, draw(st.sampled_from([1e-5, 1e-3]))


@st.composite
def _batch_norm_backward(draw, limits):
    rng, x, gamma, beta = _batch_norm_input(draw, limits)
    _, mean, invstd = reference.batch_norm_forward(x, gamma, beta, 1e-5)
    gy = rng.standard_normal(x.shape).astype(x.dtype)
    return gy, x, mean, invstd, gamma


def _standardise_input(draw, limits):
    """x (R, M) with a per-row offset and scale, so the statistics are not all ~(0, 1)."""
    rng, dtype = _rng(draw), draw(DTYPES)
    rows = draw(st.integers(1, limits.batch * limits.channels))
    m = draw(st.integers(2, max(2, limits.elements // (rows * 4))))
    x = rng.standard_normal((rows, m)) * rng.uniform(0.5, 3, size=(rows, 1)) + rng.uniform(-5, 5, size=(rows, 1))
    return rng, x.astype(dtype)


@st.composite
def _standardise_forward(draw, limits):
    _, x = _standardise_input(draw, limits)
    return x, draw(st.sampled_from([1e-5, 1e-3]))


@st.composite
def _standardise_backward(draw, limits):
    rng, x = _standardise_input(draw, limits)
    xhat, invstd = reference.standardise_forward(x, 1e-5)
    return rng.standard_normal(x.shape).astype(x.dtype), xhat, invstd


@st.composite
def _adam_update(draw, limits):
    rng, dtype = _rng(draw), draw(DTYPES)
    shape = _elementwise_shape(draw, limits)
    param, grad, m = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    v = rng.uniform(0, 2, size=shape).astype(dtype)  # a second moment is never negative
    lr = draw(st.sampled_from([1e-3, 2e-4]))
    beta1, beta2 = draw(st.sampled_from([(0.9, 0.999), (0.5, 0.999), (0.0, 0.9)]))
    weight_decay = draw(st.sampled_from([0.0, 0.01]))
    step = draw(st.integers(1, 1000))
    return param, grad, m, v, lr, beta1, beta2, 1e-8, weight_decay, step


_CASES = {"im2col": _im2col, "col2im": _col2im, "leaky_relu": _leaky_relu, "leaky_relu_grad": _leaky_relu_grad,
          "batch_norm_forward": _batch_norm_forward, "batch_norm_backward": _batch_norm_backward,
          "standardise_forward": _standardise_forward, "standardise_backward": _standardise_backward,
          "adam_update": _adam_update, "batch_transpose": _batch_transpose}
PRIMITIVES = tuple(_CASES)


def case(primitive, limits):
    """A strategy for the arguments of ``primitive`` (NumPy arrays and scalars) within ``limits``."""
    return _CASES[primitive](limits)


def to_module(args, xp):
    """The same arguments with every array moved to array module ``xp`` (NumPy or CuPy)."""
    return tuple(xp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)


def _copy(args):
    return tuple(a.copy() if hasattr(a, "copy") else a for a in args)


def assert_matches_reference(primitive, implementation, args):
    """``implementation`` and ``reference.<primitive>`` agree on ``args``, outputs and dtypes alike."""
    mine, theirs = _copy(args), _copy(args)
    outputs = implementation(*mine)
    expected = getattr(reference, primitive)(*theirs)
    if primitive in IN_PLACE:
        outputs, expected = mine[:IN_PLACE[primitive]], theirs[:IN_PLACE[primitive]]
    elif not isinstance(expected, tuple):
        outputs, expected = (outputs,), (expected,)
    assert len(outputs) == len(expected), f"{primitive}: {len(outputs)} outputs, the reference gives {len(expected)}"
    for k, (out, exp) in enumerate(zip(outputs, expected)):
        assert type(out) is type(exp), f"{primitive} output {k}: {type(out).__name__}, expected {type(exp).__name__}"
        assert out.dtype == exp.dtype, f"{primitive} output {k}: dtype {out.dtype}, expected {exp.dtype}"
        assert out.shape == exp.shape, f"{primitive} output {k}: shape {out.shape}, expected {exp.shape}"
        np.testing.assert_allclose(backend.to_device(out, "cpu"), backend.to_device(exp, "cpu"),
                                   err_msg=f"{primitive} output {k}", **TOLERANCE[primitive][exp.dtype])
