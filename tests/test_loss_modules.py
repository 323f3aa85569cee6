"""The losses PyTorch users expect and their layers: binary_cross_entropy (weight, logs clamped at -100),
binary_cross_entropy_with_logits (weight, pos_weight), nll_loss (weight, ignore_index, K-dim),
smooth_l1_loss (beta), huber_loss (delta), and BCELoss ... HuberLoss. Values against NumPy references
written from the definitions over hypothesis-drawn shapes and options (every reduction), float64 first-
and second-order gradient checks, float32 kept; against torch when it is installed (values, first and
second derivatives, the ends of binary_cross_entropy, reprs, state dicts, the legacy size_average and
reduce); and clear errors for bad shapes and arguments."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad

small_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
seeds = st.integers(0, 2 ** 16)
reductions = st.sampled_from(["mean", "sum", "none"])


def _reduced(loss, reduction):
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


# -- references: the definitions, on NumPy arrays ------------------------------------------------------

def bce_ref(x, t, weight=None):
    with np.errstate(divide="ignore"):
        loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))
    return loss if weight is None else loss * weight


def bce_logits_ref(x, t, weight=None, pos_weight=None):
    """-w [p t log sigma(x) + (1 - t) log(1 - sigma(x))], with log sigma(x) = -logaddexp(0, -x)."""
    p = 1 if pos_weight is None else pos_weight
    loss = p * t * np.logaddexp(0, -x) + (1 - t) * np.logaddexp(0, x)
    return loss if weight is None else loss * weight


def smooth_l1_ref(d, beta):
    return np.abs(d) if beta == 0 else np.where(np.abs(d) < beta, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)


def huber_ref(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


# -- elementwise losses: binary cross-entropy (both kinds), smooth L1, Huber, MSE, L1 --------------------

def _broadcast_shape(draw, shape):
    """A shape that broadcasts to ``shape``: a trailing part of it with some axes set to 1."""
    other = [1 if draw(st.booleans()) else n for n in shape]
    return tuple(other[draw(st.integers(0, len(other))):])


@st.composite
def elementwise_case(draw, name):
    """The input shape and the loss's keyword arguments as shapes and numbers: ``weight`` and
    ``pos_weight`` are shapes here (the input's, or one that broadcasts), filled by ``_arrays``."""
    shape = draw(small_shapes)
    kwargs = {"reduction": draw(reductions)}
    if name in ("bce", "bce_logits") and draw(st.booleans()):
        kwargs["weight"] = _broadcast_shape(draw, shape)
    if name == "bce_logits" and draw(st.booleans()):
        kwargs["pos_weight"] = _broadcast_shape(draw, shape)
    if name == "smooth_l1":
        kwargs["beta"] = draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]))
    if name == "huber":
        kwargs["delta"] = draw(st.sampled_from([0.5, 1.0, 2.0]))
    return shape, kwargs


def _cut(kwargs):
    return kwargs.get("beta", kwargs.get("delta", 0.0))


def _arrays(name, shape, kwargs, seed):
    """Input, target and filled keyword arguments; inputs keep finite differences off every kink (the
    quadratic-linear joins at |x - t| = beta or delta, and 0 for L1)."""
    rng = np.random.default_rng(seed)
    kwargs = {k: rng.uniform(0.2, 2.0, v) if k in ("weight", "pos_weight") else v for k, v in kwargs.items()}
    if name == "bce":
        return rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape), kwargs
    if name == "bce_logits":
        return rng.standard_normal(shape) * 4, rng.uniform(0, 1, shape), kwargs
    t = rng.standard_normal(shape)
    cut = _cut(kwargs) or 1.0
    d = cut * rng.choice([-1.0, 1.0], shape) * np.where(rng.random(shape) < 0.5, rng.uniform(0.2, 0.8, shape),
                                                          rng.uniform(1.2, 3.0, shape))
    return t + d, t, kwargs


# name: (ours, NumPy reference of the unreduced loss, torch's function name)
ELEMENTWISE = {
    "bce": (F.binary_cross_entropy, bce_ref, "binary_cross_entropy"),
    "bce_logits": (F.binary_cross_entropy_with_logits, bce_logits_ref, "binary_cross_entropy_with_logits"),
    "smooth_l1": (F.smooth_l1_loss, lambda x, t, beta: smooth_l1_ref(x - t, beta), "smooth_l1_loss"),
    "huber": (F.huber_loss, lambda x, t, delta: huber_ref(x - t, delta), "huber_loss"),
    "mse": (F.mse_loss, lambda x, t: (x - t) ** 2, "mse_loss"),
    "l1": (F.l1_loss, lambda x, t: np.abs(x - t), "l1_loss"),
}


def _loss_of(name, t, kwargs, device):
    """The loss as a function of the input alone (target and weights constant)."""
    ours = ELEMENTWISE[name][0]
    t = mg.tensor(t, device=device)
    kwargs = {k: mg.tensor(v, device=device) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return lambda x_: ours(x_, t, **kwargs)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@given(data=st.data(), seed=seeds)
@settings(max_examples=15)
def test_elementwise_losses_values_and_gradients(device, name, data, seed):
    shape, kwargs = data.draw(elementwise_case(name))
    x, t, kwargs = _arrays(name, shape, kwargs, seed)
    ref_kwargs = {k: v for k, v in kwargs.items() if k != "reduction"}
    expected = _reduced(ELEMENTWISE[name][1](x, t, **ref_kwargs), kwargs["reduction"])
    loss = _loss_of(name, t, kwargs, device)
    np.testing.assert_allclose(loss(mg.tensor(x, device=device)).numpy(), expected, rtol=1e-12, atol=1e-15)
    check_grad(loss, [x], device)
    check_double_grad(loss, [x], device)


def _torch_args(torch, kwargs, dtype):
    return {k: torch.tensor(v, dtype=dtype) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@given(data=st.data(), seed=seeds)
@settings(max_examples=15)
def test_elementwise_losses_match_torch(name, data, seed):
    """Values (float64 and float32), first derivatives and second derivatives (d/dx of <grad, v>)."""
    torch = pytest.importorskip("torch")
    shape, kwargs = data.draw(elementwise_case(name))
    x, t, kwargs = _arrays(name, shape, kwargs, seed)
    theirs_fn = getattr(torch.nn.functional, ELEMENTWISE[name][2])
    for dtype, tdtype, rtol in ((np.float64, torch.float64, 1e-12), (np.float32, torch.float32, 2e-6)):
        ours = mg.tensor(x.astype(dtype), requires_grad=True)
        theirs = torch.tensor(x.astype(dtype), requires_grad=True)
        loss = _loss_of(name, t.astype(dtype), kwargs, "cpu")(ours)
        ref = theirs_fn(theirs, torch.tensor(t.astype(dtype)), **_torch_args(torch, kwargs, tdtype))
        assert loss.dtype == dtype
        np.testing.assert_allclose(loss.numpy(), ref.detach().numpy(), rtol=rtol, atol=rtol * 1e-3)
        if dtype == np.float32:
            continue
        rng = np.random.default_rng(seed + 1)
        gy, v = rng.standard_normal(ref.shape), rng.standard_normal(shape)
        (g,) = mg.grad(loss, [ours], mg.tensor(gy), create_graph=True)
        (tg,) = torch.autograd.grad(ref, [theirs], torch.tensor(gy), create_graph=True)
        np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-10, atol=1e-14)
        gv, tgv = (g * mg.tensor(v)).sum(), (tg * torch.tensor(v)).sum()
        # A gradient piecewise constant in x (L1, smooth L1 with beta = 0) is outside both graphs.
        gg = mg.grad(gv, [ours])[0].numpy() if gv.requires_grad else np.zeros(shape)
        tgg = torch.autograd.grad(tgv, [theirs])[0].numpy(force=True) if tgv.requires_grad else np.zeros(shape)
        np.testing.assert_allclose(gg, tgg, rtol=1e-8, atol=1e-12)


def test_binary_cross_entropy_at_zero_and_one_as_torch(device):
    """The logs are clamped at -100, so the loss is at most 100 (times the weight); the gradient is
    PyTorch's w (x - t) / max(x (1 - x), 1e-12): finite at x = 0 and 1, 0 where x = t there, and (as in
    PyTorch) not the true slope 1 / (1 - x) = 1 for x = 1e-30, t = 0, but 1e-30 / 1e-12."""
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-40, 0.5, 1e-30])
    t = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 0.25, 0.0])
    expected_grad = [0.0, 1e12, -1e12, 0.0, -1e12, 1.0, 1e-18]
    for dtype in (np.float64, np.float32):
        xs = mg.tensor(x.astype(dtype), device=device, requires_grad=True)
        loss = F.binary_cross_entropy(xs, mg.tensor(t.astype(dtype), device=device), reduction="none")
        assert loss.dtype == dtype
        np.testing.assert_allclose(loss.numpy(), bce_ref(x.astype(dtype).astype(np.float64), t), rtol=1e-6)
        assert loss.numpy().max() == 100
        loss.sum().backward()
        assert xs.grad.dtype == dtype
        np.testing.assert_allclose(xs.grad.numpy(), expected_grad, rtol=1e-6)


def test_binary_cross_entropy_at_zero_and_one_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-40, 0.5, 1e-30, 1 - 1e-7])
    t = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 0.25, 0.0, 0.5])
    w = np.linspace(0.5, 2.0, len(x))
    for dtype, tdtype in ((np.float64, torch.float64), (np.float32, torch.float32)):
        ours, theirs = mg.tensor(x.astype(dtype), requires_grad=True), torch.tensor(x.astype(dtype), requires_grad=True)
        loss = F.binary_cross_entropy(ours, t.astype(dtype), w.astype(dtype), reduction="none")
        ref = torch.nn.functional.binary_cross_entropy(theirs, torch.tensor(t, dtype=tdtype),
                                                       torch.tensor(w, dtype=tdtype), reduction="none")
        np.testing.assert_allclose(loss.numpy(), ref.detach().numpy(), rtol=1e-6)
        loss.sum().backward(), ref.sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)


def test_bce_with_logits_weights_are_stable_for_huge_logits(device):
    x = mg.tensor(np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]] * 2, dtype=np.float32), device=device, requires_grad=True)
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0], dtype=np.float32)
    pos_weight, weight = np.float32([3.0]), np.float32([[1.0], [2.0]])
    loss = F.binary_cross_entropy_with_logits(x, np.broadcast_to(t, (2, 5)), weight, "none", pos_weight)
    assert loss.dtype == np.float32
    row = np.array([0.0, 150.0, 3 * np.log(2), 50.0, 0.0])
    np.testing.assert_allclose(loss.numpy(), [row, 2 * row], rtol=1e-6)
    loss.sum().backward()
    row = np.array([0.0, -3.0, -1.5, 1.0, 0.0])
    np.testing.assert_allclose(x.grad.numpy(), [row, 2 * row], atol=1e-6)


def test_losses_keep_float32_through_double_backward(device):
    """float32 inputs with float64 targets and weights and Python float options: float32 everywhere."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0.1, 0.9, (2, 3))
    w64, t64 = rng.uniform(0.5, 1.5, 3), rng.uniform(0, 1, (2, 3))
    calls = [
        lambda x: F.binary_cross_entropy(x, t64, w64),
        lambda x: F.binary_cross_entropy(x, 1.0, reduction="sum"),
        lambda x: F.binary_cross_entropy_with_logits(x, t64, w64, pos_weight=w64),
        lambda x: F.binary_cross_entropy_with_logits(x, 0.9, pos_weight=np.float64(2.0)),
        lambda x: F.nll_loss(x, np.array([0, 2]), w64, ignore_index=2),
        lambda x: F.smooth_l1_loss(x, t64, beta=0.25),
        lambda x: F.smooth_l1_loss(x, t64, beta=0),
        lambda x: F.huber_loss(x, t64, delta=np.float64(0.3)),
    ]
    for call in calls:
        x = mg.tensor(p.astype(np.float32), device=device, requires_grad=True)
        loss = call(x)
        assert loss.dtype == np.float32
        (g,) = mg.grad(loss, [x], create_graph=True)
        assert g.dtype == np.float32
        gg = (g * g).sum()
        if gg.requires_grad:  # the gradient of nll_loss does not depend on x
            assert mg.grad(gg, [x])[0].dtype == np.float32


# -- nll_loss ---------------------------------------------------------------------------------------------

@st.composite
def nll_case(draw):
    """Log-probability shape (C,), (N, C) or (N, C, d1[, d2]); class-index targets, some perhaps ignored;
    PyTorch's keyword arguments."""
    c = draw(st.integers(1, 4))
    rank = draw(st.integers(1, 4))
    spatial = tuple(draw(st.integers(1, 3)) for _ in range(rank - 2))
    shape = (c,) if rank == 1 else (draw(st.integers(1, 3)), c) + spatial
    tshape = () if rank == 1 else (shape[0],) + shape[2:]
    target = draw(hnp.arrays(np.int64, tshape, elements=st.integers(0, c - 1)))
    kwargs = {"reduction": draw(reductions)}
    if draw(st.booleans()):
        kwargs["weight"] = draw(hnp.arrays(np.float64, (c,), elements=st.floats(0.1, 2.0)))
    if draw(st.booleans()):
        kwargs["ignore_index"] = draw(st.sampled_from([-100, 0, 1]))
        target = np.where(draw(hnp.arrays(np.bool_, tshape)), kwargs["ignore_index"], target)
    return shape, target, kwargs


def nll_ref(x, target, weight=None, ignore_index=-100, reduction="mean"):
    """One position at a time: -w[t] x[t], 0 where t is ignore_index; "mean" divides by the counted weight."""
    one = x.ndim == 1
    x = x[None] if one else x
    rows = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    w = np.ones(x.shape[1]) if weight is None else weight
    losses, total = [], 0.0
    for row, t in zip(rows, target.reshape(-1)):
        counted = t != ignore_index
        losses.append(-w[t] * row[t] if counted else 0.0)
        total += w[t] if counted else 0.0
    losses = np.array(losses)
    if reduction == "mean":
        return losses.sum() / total if total else np.nan
    return losses.sum() if reduction == "sum" else losses.reshape(() if one else (x.shape[0],) + x.shape[2:])


@given(case=nll_case(), seed=seeds)
def test_nll_loss_values_and_gradients(device, case, seed):
    shape, target, kwargs = case
    x = np.random.default_rng(seed).standard_normal(shape) * 3
    loss = lambda x_: F.nll_loss(x_, target, **kwargs)  # noqa: E731
    expected = nll_ref(x, target, **kwargs)
    np.testing.assert_allclose(loss(mg.tensor(x, device=device)).numpy(), expected, rtol=1e-12, atol=1e-15)
    if np.all(np.isfinite(expected)):
        check_grad(loss, [x], device)
        check_double_grad(loss, [x], device)


@given(case=nll_case(), seed=seeds)
def test_nll_loss_of_log_softmax_is_cross_entropy(device, case, seed):
    shape, target, kwargs = case
    x = mg.tensor(np.random.default_rng(seed).standard_normal(shape) * 3, device=device)
    axis = 0 if len(shape) == 1 else 1
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(x, axis), target, **kwargs).numpy(),
                               F.cross_entropy(x, target, **kwargs).numpy(), rtol=1e-12, atol=1e-15)


@given(case=nll_case(), seed=seeds)
def test_nll_loss_matches_torch(case, seed):
    torch = pytest.importorskip("torch")
    shape, target, kwargs = case
    x = np.random.default_rng(seed).standard_normal(shape) * 3
    ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss = F.nll_loss(ours, target, **kwargs)
    ref = torch.nn.functional.nll_loss(theirs, torch.tensor(target), **_torch_args(torch, kwargs, torch.float64))
    np.testing.assert_allclose(loss.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-15)
    if np.all(np.isfinite(ref.detach().numpy())):
        gy = np.random.default_rng(seed).standard_normal(ref.shape)
        (g,) = mg.grad(loss, [ours], mg.tensor(gy))
        (tg,) = torch.autograd.grad(ref, [theirs], torch.tensor(gy))
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-12, atol=1e-15)


def test_an_ignored_position_adds_zero_even_where_its_scores_are_minus_infinity(device):
    """A log-probability of 0 (or a masked score) is -inf; at an ignored position it must not turn the
    sum into NaN (0 * inf), in the loss or the gradient, as in PyTorch."""
    x = np.array([[-np.inf, 0.0], [-1.0, -0.5]])
    target = np.array([-100, 1])
    for fn, expected in ((F.nll_loss, [0.0, 0.5]), (F.cross_entropy, [0.0, np.log1p(np.exp(-0.5))])):
        for weight in (None, np.array([1.0, 2.0])):
            xs = mg.tensor(x, device=device, requires_grad=True)
            loss = fn(xs, target, weight=weight, reduction="none")
            np.testing.assert_allclose(loss.numpy(), np.array(expected) * (1 if weight is None else [0, 2]))
            loss.sum().backward()
            assert np.all(np.isfinite(xs.grad.numpy())) and np.all(xs.grad.numpy()[0] == 0)


# -- errors -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: F.binary_cross_entropy(mg.tensor([0.5, 1.5]), mg.tensor([0.0, 1.0])), ValueError,
     r"binary_cross_entropy: every element of input \(shape \(2,\)\) must lie in \[0, 1\]; found values from 0.5 "
     r"to 1.5"),
    (lambda: F.binary_cross_entropy(mg.tensor([0.5, np.nan]), 1.0), ValueError,
     r"binary_cross_entropy: every element of input"),
    (lambda: F.binary_cross_entropy(mg.tensor([0.5, 0.5]), mg.tensor([-1.0, 1.0])), ValueError,
     r"binary_cross_entropy: every element of target \(shape \(2,\)\) must lie in \[0, 1\]"),
    (lambda: F.binary_cross_entropy(mg.tensor([0.5, 0.5]), mg.tensor([1.0, 1.0, 1.0])), ValueError,
     r"binary_cross_entropy: input of shape \(2,\) and target of shape \(3,\) must have the same shape"),
    (lambda: F.binary_cross_entropy(mg.full((2, 3), 0.5), 1.0, weight=np.ones(2)), ValueError,
     r"binary_cross_entropy: weight must be numbers in a shape that broadcasts to the input's shape \(2, 3\); "
     r"got dtype float64, shape \(2,\)"),
    (lambda: F.binary_cross_entropy(mg.full((2,), 0.5), 1.0, reduction="avg"), ValueError,
     r"binary_cross_entropy: reduction must be one of"),
    (lambda: F.binary_cross_entropy_with_logits(mg.zeros(2, 3), 1.0, pos_weight=np.ones((4, 2, 3))), ValueError,
     r"binary_cross_entropy_with_logits: pos_weight must be numbers in a shape that broadcasts to the input's "
     r"shape \(2, 3\); got dtype float64, shape \(4, 2, 3\)"),
    (lambda: F.binary_cross_entropy_with_logits(mg.zeros(2, 3), 1.0, weight=np.array(["a", "b", "c"])), ValueError,
     r"binary_cross_entropy_with_logits: weight must be numbers .* got dtype <U1, shape \(3,\)"),
    (lambda: F.binary_cross_entropy_with_logits(mg.zeros(2), mg.zeros(3)), ValueError,
     r"binary_cross_entropy_with_logits: input of shape \(2,\) and target of shape \(3,\)"),
    (lambda: F.nll_loss(mg.zeros(2, 3), np.array([0.0, 1.0])), TypeError,
     r"nll_loss: target must hold integer class indices, got dtype float64 \(shape \(2,\)\)"),
    (lambda: F.nll_loss(mg.zeros(2, 3), np.array([0, 3])), IndexError,
     r"nll_loss: target holds class 3, outside \[0, 3\) for input of shape \(2, 3\) \(ignore_index is -100\)"),
    (lambda: F.nll_loss(mg.zeros(2, 3, 4), np.zeros((2, 3), int)), ValueError,
     r"nll_loss: target of shape \(2, 3\) does not fit input of shape \(2, 3, 4\) \(expects \(2, 4\)\)"),
    (lambda: F.nll_loss(mg.zeros(2, 3), np.array([0, 1]), weight=np.ones(4)), ValueError,
     r"nll_loss: weight must be a 1-D array of 3 numbers, one per class of input of shape \(2, 3\)"),
    (lambda: F.nll_loss(mg.tensor(1.0), np.array(0)), ValueError, r"nll_loss: input must be \(C,\)"),
    (lambda: F.nll_loss(mg.zeros(2, 3), np.array([0, 1]), reduction="max"), ValueError,
     r"nll_loss: reduction must be one of"),
    (lambda: F.smooth_l1_loss(mg.zeros(2), mg.zeros(2), beta=-1.0), ValueError,
     r"smooth_l1_loss: beta must be a number >= 0, got -1.0"),
    (lambda: F.smooth_l1_loss(mg.zeros(2), mg.zeros(3)), ValueError,
     r"smooth_l1_loss: input of shape \(2,\) and target of shape \(3,\)"),
    (lambda: F.huber_loss(mg.zeros(2), mg.zeros(2), delta=0), ValueError,
     r"huber_loss: delta must be a number > 0, got 0"),
    (lambda: F.huber_loss(mg.zeros(2), mg.zeros(2), delta=True), ValueError, r"huber_loss: delta must be a number"),
    (lambda: F.huber_loss(mg.zeros(2), mg.zeros(2), reduction="all"), ValueError, r"huber_loss: reduction must be"),
    (lambda: nn.MSELoss(reduction="avg"), ValueError, r"MSELoss: reduction must be one of"),
    (lambda: nn.CrossEntropyLoss(reduction=None), ValueError, r"CrossEntropyLoss: reduction must be one of"),
])
def test_bad_arguments_name_the_op_and_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- the layers ---------------------------------------------------------------------------------------------

def every_loss(nn_, tensor):
    """Each loss layer, with and without its weights, built the same way from ``nn_`` (ours or torch.nn)."""
    return [
        nn_.BCELoss(), nn_.BCELoss(weight=tensor([1.0, 2.0, 3.0]), reduction="sum"),
        nn_.BCEWithLogitsLoss(), nn_.BCEWithLogitsLoss(pos_weight=tensor([2.0, 1.0, 0.5])),
        nn_.BCEWithLogitsLoss(tensor([1.0, 2.0, 3.0]), reduction="none", pos_weight=tensor([2.0, 1.0, 0.5])),
        nn_.CrossEntropyLoss(), nn_.CrossEntropyLoss(tensor([1.0, 2.0, 3.0]), ignore_index=1, label_smoothing=0.2),
        nn_.NLLLoss(), nn_.NLLLoss(weight=tensor([1.0, 2.0, 3.0]), ignore_index=0, reduction="sum"),
        nn_.MSELoss(), nn_.MSELoss(reduction="sum"), nn_.L1Loss(reduction="none"),
        nn_.SmoothL1Loss(), nn_.SmoothL1Loss(beta=0.5, reduction="sum"), nn_.HuberLoss(), nn_.HuberLoss("none", 2.0),
    ]


def _inputs(loss, rng):
    """An input and a target that fit the loss layer (batch 4, 3 classes or features)."""
    name = type(loss).__name__
    if name in ("CrossEntropyLoss", "NLLLoss"):
        x = rng.standard_normal((4, 3))
        return (np.log(np.exp(x) / np.exp(x).sum(1, keepdims=True)) if name == "NLLLoss" else x), np.array([0, 1, 2, 1])
    x, t = rng.standard_normal((4, 3)), rng.uniform(0, 1, (4, 3))
    return (1 / (1 + np.exp(-x)) if name == "BCELoss" else x), t


def test_loss_layers_match_torch_reprs_state_dicts_and_values():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for ours, theirs in zip(every_loss(nn, mg.tensor), every_loss(torch.nn, torch.tensor)):
        assert repr(ours) == repr(theirs)
        mine, ref = ours.state_dict(), theirs.state_dict()
        assert list(mine) == list(ref)
        for key in ref:
            np.testing.assert_array_equal(mine[key], ref[key].numpy())
            assert mine[key].dtype == np.float32
        x, t = _inputs(ours, rng)
        for attr in ("reduction", "ignore_index", "label_smoothing", "beta", "delta"):
            assert getattr(ours, attr, None) == getattr(theirs, attr, None), attr
        x = x.astype(np.float32)  # the weights are float32, and torch wants the input's dtype to match
        t = t.astype(np.float32) if t.dtype.kind == "f" else t
        y = ours(mg.tensor(x), t)
        np.testing.assert_allclose(y.numpy(), theirs(torch.tensor(x), torch.tensor(t)).numpy(), rtol=1e-6,
                                   err_msg=repr(theirs))


def test_loss_layers_call_their_functions_and_keep_float32(device):
    rng = np.random.default_rng(1)
    for loss in every_loss(nn, mg.tensor):
        loss.to(device)
        x, t = _inputs(loss, rng)
        x = mg.tensor(x.astype(np.float32), device=device, requires_grad=True)
        y = loss(x, mg.tensor(t, device=device) if t.dtype.kind == "f" else t)
        assert y.dtype == np.float32 and y.device == x.device
        (g,) = mg.grad(y.sum(), [x])
        assert g.dtype == np.float32


def test_loss_weights_are_buffers_that_load_move_and_cast():
    loss = nn.CrossEntropyLoss(weight=[1.0, 2.0, 3.0])  # a list becomes a float32 tensor
    assert list(loss.state_dict()) == ["weight"] and loss.weight.dtype == np.float32
    assert not loss.weight.requires_grad and list(loss.parameters()) == []
    loss.load_state_dict({"weight": np.array([3.0, 2.0, 1.0])})
    np.testing.assert_array_equal(loss.weight.numpy(), [3, 2, 1])
    assert loss.double().weight.dtype == np.float64
    with pytest.raises(ValueError, match=r"load_state_dict: .*missing keys: pos_weight"):
        nn.BCEWithLogitsLoss(weight=mg.ones(3), pos_weight=mg.ones(3)).load_state_dict({"weight": np.ones(3)})
    w = mg.ones(3)
    assert nn.NLLLoss(w).weight is w  # a tensor is registered as it is, as torch registers it


@pytest.mark.parametrize("size_average, reduce", [(None, False), (False, None), (True, True), (False, True),
                                                  (True, False)])
def test_legacy_size_average_and_reduce_as_torch(size_average, reduce):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = nn.MSELoss(size_average, reduce, "sum")
        weighted = nn.CrossEntropyLoss(None, size_average, -100, reduce)
        theirs = torch.nn.MSELoss(size_average, reduce, "sum")
    assert ours.reduction == weighted.reduction == theirs.reduction
    ours_messages = [str(w.message) for w in caught if "size_average" in str(w.message)]
    assert len(ours_messages) == 3  # both of ours, and torch's
    assert ours_messages[0] == ours_messages[1] and f"reduction={theirs.reduction!r}" in ours_messages[0]
