"""clip_grad_norm_ and clip_grad_value_ (minigan.nn.utils): the total norm and the clipped gradients
against a NumPy reference over hypothesis-drawn parameter sets (norm types 1, 2, 3.5 and inf, float32 and
float64, parameters without gradients), in place and in the gradients' dtype, on every device; against
torch when it is installed; the non-finite cases and error_if_nonfinite; argument errors."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg
from minigan import nn
from minigan.nn.utils import clip_grad_norm_, clip_grad_value_

seeds = st.integers(0, 2 ** 16)
norm_types = st.sampled_from([1.0, 2.0, 3.5, math.inf])
dtypes = st.sampled_from([np.float32, np.float64])


@st.composite
def parameter_case(draw):
    """Shapes of 1 to 4 parameters, which of them have a gradient, and a dtype."""
    shapes = draw(st.lists(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), min_size=1, max_size=4))
    with_grad = draw(st.lists(st.booleans(), min_size=len(shapes), max_size=len(shapes)))
    return shapes, with_grad, draw(dtypes)


def make_parameters(case, seed, device="cpu"):
    """Parameters with gradients of several magnitudes (some without a gradient), and the gradients as
    float64 NumPy arrays (None where absent)."""
    shapes, with_grad, dtype = case
    rng = np.random.default_rng(seed)
    params, grads = [], []
    for shape, has in zip(shapes, with_grad):
        # np.asarray: a 0-d draw is a NumPy scalar, which mg.tensor would take for a Python float
        p = nn.Parameter(mg.tensor(np.asarray(rng.standard_normal(shape), dtype), device=device))
        g = np.asarray(rng.standard_normal(shape) * 10.0 ** rng.uniform(-2, 2), dtype) if has else None
        if has:
            p.grad = mg.tensor(g, device=device)
        params.append(p)
        grads.append(g)
    return params, grads


def norm_ref(grads, p):
    """The p-norm of every gradient entry as one vector, in float64."""
    flat = np.concatenate([g.astype(np.float64).ravel() for g in grads if g is not None] + [np.zeros(0)])
    if flat.size == 0:
        return 0.0
    return np.abs(flat).max() if p == math.inf else (np.abs(flat) ** p).sum() ** (1 / p)


def _rtol(dtype):
    return 2e-5 if dtype == np.float32 else 1e-12


@given(case=parameter_case(), p=norm_types, seed=seeds, ratio=st.sampled_from([0.1, 0.9, 1.5, 10.0]))
def test_clip_grad_norm_scales_in_place_to_max_norm(device, case, p, seed, ratio):
    params, grads = make_parameters(case, seed, device)
    total = norm_ref(grads, p)
    max_norm = ratio * total  # under 1: clipped; over 1: untouched
    arrays = [q.grad.data if q.grad is not None else None for q in params]
    returned = clip_grad_norm_(params, max_norm, norm_type=p)
    assert isinstance(returned, mg.Tensor) and returned.shape == () and not returned.requires_grad
    dtype = case[2] if any(g is not None for g in grads) else np.float32
    assert returned.dtype == dtype and returned.device == (params[0].device if dtype == case[2] else "cpu")
    np.testing.assert_allclose(returned.item(), total, rtol=_rtol(dtype))
    factor = min(1.0, max_norm / (total + 1e-6))
    for q, g, a in zip(params, grads, arrays):
        if g is None:
            assert q.grad is None
            continue
        assert q.grad.data is a and q.grad.dtype == case[2]  # in place, in the gradient's dtype
        np.testing.assert_allclose(q.grad.numpy(), g * factor, rtol=_rtol(case[2]), atol=1e-30)
    if ratio < 1:  # clipped to max_norm, but for the 1e-6 (large beside a tiny norm)
        np.testing.assert_allclose(norm_ref([q.grad.numpy() if q.grad is not None else None for q in params], p),
                                   max_norm * total / (total + 1e-6), rtol=_rtol(dtype) * 10)


@given(case=parameter_case(), p=norm_types, seed=seeds, max_norm=st.sampled_from([0.05, 1.0, 20.0]))
def test_clip_grad_norm_matches_torch(case, p, seed, max_norm):
    torch = pytest.importorskip("torch")
    params, grads = make_parameters(case, seed)
    theirs = []
    for q, g in zip(params, grads):
        t = torch.zeros(q.shape, dtype=getattr(torch, str(q.dtype)), requires_grad=True)
        t.grad = None if g is None else torch.tensor(g)
        theirs.append(t)
    ours_total = clip_grad_norm_(params, max_norm, p)
    theirs_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, p)
    assert str(ours_total.dtype) == str(theirs_total.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours_total.numpy(), theirs_total.numpy(), rtol=_rtol(case[2]))
    for q, t in zip(params, theirs):
        assert (q.grad is None) == (t.grad is None)
        if q.grad is not None:
            np.testing.assert_allclose(q.grad.numpy(), t.grad.numpy(), rtol=_rtol(case[2]), atol=1e-30)


def test_clip_grad_norm_takes_one_tensor_a_generator_or_nothing(device):
    layer = nn.Linear(3, 2).to(device)
    layer(mg.ones(4, 3, device=device)).sum().backward()
    g = [q.grad.numpy().copy() for q in layer.parameters()]  # numpy() of a CPU tensor shares its memory
    total = clip_grad_norm_(layer.parameters(), 0.5)  # a generator, read once
    np.testing.assert_allclose(total.item(), norm_ref(g, 2), rtol=1e-6)
    assert norm_ref([q.grad.numpy() for q in layer.parameters()], 2) == pytest.approx(0.5, rel=1e-5)
    w = layer.weight
    single = clip_grad_norm_(w, 0.1, norm_type="inf")  # "inf" as a string, as PyTorch's float() allows
    assert single.item() == pytest.approx(np.abs(g[0]).max() * 0.5 / norm_ref(g, 2), rel=1e-5)
    assert np.abs(w.grad.numpy()).max() == pytest.approx(0.1, rel=1e-5)
    for nothing in ([], [nn.Parameter(np.zeros(2, np.float32))]):
        total = clip_grad_norm_(nothing, 1.0)
        assert total.item() == 0 and total.dtype == np.float32  # torch.tensor(0.0), as PyTorch


def test_a_non_finite_norm_raises_with_error_if_nonfinite_else_scales_as_torch(device):
    def param():
        p = nn.Parameter(mg.zeros(3, device=device))
        p.grad = mg.tensor([1.0, np.inf, 2.0], device=device)
        return p

    p = param()
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total 2.0-norm of the gradients of 1 "
                                           r"parameters is inf, which cannot be clipped"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(p.grad.numpy(), [1.0, np.inf, 2.0])  # untouched by the refusal
    with np.errstate(invalid="ignore"):  # inf * 0 = NaN, PyTorch's result too
        assert clip_grad_norm_(p, 1.0).item() == np.inf
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, np.nan, 0.0])
    q = param()
    q.grad.data[1] = np.nan
    assert np.isnan(clip_grad_norm_(q, 1.0, norm_type=1).item())
    assert np.all(np.isnan(q.grad.numpy()))


def test_clipping_a_gradient_a_graph_still_holds_is_caught(device):
    """A gradient made with create_graph=True is part of a graph; clipping it in place, as PyTorch's
    mul_ under no_grad, bumps its version, so backpropagating through the old value is refused."""
    x = nn.Parameter(mg.tensor([1.0, 2.0], device=device))
    (x * x * x).sum().backward(create_graph=True)
    penalty = (x.grad * x.grad).sum()
    clip_grad_norm_(x, 1.0)
    with pytest.raises(RuntimeError, match="changed in place"):
        penalty.backward()


@given(case=parameter_case(), seed=seeds, clip=st.sampled_from([0.0, 0.01, 0.5, 100.0]))
def test_clip_grad_value_clamps_in_place(device, case, seed, clip):
    params, grads = make_parameters(case, seed, device)
    arrays = [q.grad.data if q.grad is not None else None for q in params]
    assert clip_grad_value_(params, clip) is None
    for q, g, a in zip(params, grads, arrays):
        if g is not None:
            assert q.grad.data is a and q.grad.dtype == case[2]
            np.testing.assert_array_equal(q.grad.numpy(), np.clip(g, -clip, clip).astype(case[2]))


@given(case=parameter_case(), seed=seeds, clip=st.sampled_from([0.01, 0.5, 100.0]))
def test_clip_grad_value_matches_torch(case, seed, clip):
    torch = pytest.importorskip("torch")
    params, grads = make_parameters(case, seed)
    theirs = [torch.zeros(q.shape, dtype=getattr(torch, str(q.dtype)), requires_grad=True) for q in params]
    for t, g in zip(theirs, grads):
        t.grad = None if g is None else torch.tensor(g)
    clip_grad_value_(iter(params), clip)
    if all(g is None for g in grads):
        return  # torch 2.13 fails there ("Expected !nested_tensorlist[0].empty()"); minigan does nothing
    torch.nn.utils.clip_grad_value_(iter(theirs), clip)
    for q, t in zip(params, theirs):
        if q.grad is not None:
            np.testing.assert_array_equal(q.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("call, message", [
    (lambda p: clip_grad_norm_(p, 1.0, norm_type=0), r"clip_grad_norm_: norm_type must be a number > 0 or inf, got 0"),
    (lambda p: clip_grad_norm_(p, 1.0, norm_type=-math.inf), r"clip_grad_norm_: norm_type must be"),
    (lambda p: clip_grad_norm_(p, -1.0), r"clip_grad_norm_: max_norm must be a number >= 0, got -1.0"),
    (lambda p: clip_grad_norm_(p, math.nan), r"clip_grad_norm_: max_norm must be a number >= 0, got nan"),
    (lambda p: clip_grad_value_(p, -0.5), r"clip_grad_value_: clip_value must be a number >= 0, got -0.5"),
    (lambda p: clip_grad_value_(p, "1"), r"clip_grad_value_: clip_value must be a number >= 0, got '1'"),
])
def test_bad_arguments(call, message):
    p = nn.Parameter(np.ones(2, np.float32))
    p.grad = mg.ones(2)
    with pytest.raises(ValueError, match=message):
        call(p)
    np.testing.assert_array_equal(p.grad.numpy(), [1, 1])
