"""kl_div, poisson_nll_loss, gaussian_nll_loss and the margin losses (margin_ranking, hinge_embedding,
soft_margin, multilabel_soft_margin, cosine_embedding, triplet_margin, multi_margin, multilabel_margin) and
their layers. Values against NumPy references written from the definitions (every device) over
hypothesis-drawn shapes and options, every reduction; float64 first- and second-order gradient checks
(inputs kept off the hinges' kinks); against PyTorch where installed (values in float64 and float32, input
gradients, second derivatives); the gradients at the kinks, as PyTorch defines them; kl_div's 0 log 0 and
batchmean, soft_margin_loss's stability, Stirling's term, gaussian_nll_loss's var shapes and its
straight-through clamp; float32 kept; the layers' reprs, state dicts and legacy flags; the errors."""
import math
import warnings
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad

# kl_div's reduction="mean" warns, in minigan as in PyTorch; one test below checks that it does.
pytestmark = [pytest.mark.filterwarnings("ignore:kl_div. reduction='mean'"),
              pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")]

seeds = st.integers(0, 2 ** 16)
REDUCTIONS = ["mean", "sum", "none"]


def _reduced(loss, reduction, batch=None):
    if reduction == "batchmean":
        return loss.sum() / batch
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


# -- references: the definitions, on NumPy arrays ------------------------------------------------------------

def kl_ref(x, t, log_target):
    if log_target:
        return np.exp(t) * (t - x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t == 0, 0.0, t * np.log(t)) - t * x  # 0 log 0 = 0


def poisson_ref(x, t, log_input, full, eps):
    loss = np.exp(x) - t * x if log_input else x - t * np.log(x + eps)
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = loss + np.where(t > 1, t * np.log(t) - t + 0.5 * np.log(2 * np.pi * t), 0.0)
    return loss


def gaussian_ref(x, t, var, full, eps):
    var = np.maximum(var, eps)
    return 0.5 * (np.log(var) + (x - t) ** 2 / var) + (0.5 * np.log(2 * np.pi) if full else 0.0)


def ranking_ref(x1, x2, y, margin):
    return np.maximum(0.0, margin - y * (x1 - x2))


def hinge_embedding_ref(x, y, margin):
    return np.where(y == 1, x, 0.0) + np.where(y == -1, np.maximum(0.0, margin - x), 0.0)


def soft_margin_ref(x, y):
    return np.logaddexp(0.0, -y * x)


def multilabel_soft_ref(x, t, w):
    log_sig, log_one_minus = -np.logaddexp(0.0, -x), -np.logaddexp(0.0, x)
    return -(w * (t * log_sig + (1 - t) * log_one_minus)).mean(axis=-1)


def cosine_ref(x1, x2, y, margin):
    x1, x2 = np.broadcast_arrays(x1, x2)
    cos = (x1 * x2).sum(-1) / np.sqrt(((x1 ** 2).sum(-1) + 1e-12) * ((x2 ** 2).sum(-1) + 1e-12))
    return np.where(y == 1, 1 - cos, np.where(y == -1, np.maximum(0.0, cos - margin), 0.0))


def p_distance(u, v, p, eps):
    return (np.abs(u - v + eps) ** p).sum(-1) ** (1 / p)


def triplet_ref(a, pos, neg, margin, p, eps, swap):
    d_neg = p_distance(a, neg, p, eps)
    if swap:
        d_neg = np.minimum(d_neg, p_distance(pos, neg, p, eps))
    return np.maximum(0.0, margin + p_distance(a, pos, p, eps) - d_neg)


def multi_margin_ref(x, y, p, margin, w):
    """One sample at a time: sum over the other classes of w[y] max(0, margin - x[y] + x[i])^p, over C."""
    rows, ys = x.reshape(-1, x.shape[-1]), np.reshape(y, -1)
    out = []
    for row, c in zip(rows, ys):
        terms = [w[c] * max(0.0, margin - row[c] + row[i]) ** p for i in range(len(row)) if i != c]
        out.append(sum(terms) / len(row))
    return np.array(out).reshape(() if x.ndim == 1 else (x.shape[0],))


def multilabel_margin_ref(x, y):
    """One sample at a time: its classes are the entries before the first -1."""
    rows, targets = x.reshape(-1, x.shape[-1]), y.reshape(-1, x.shape[-1])
    out = []
    for row, target in zip(rows, targets):
        listed = []
        for c in target:
            if c == -1:
                break
            listed.append(c)
        others = [i for i in range(len(row)) if i not in listed]
        out.append(sum(max(0.0, 1 - (row[j] - row[i])) for j in listed for i in others) / len(row))
    return np.array(out).reshape(() if x.ndim == 1 else (x.shape[0],))


# -- cases: drawn inputs, and the loss in minigan, NumPy and PyTorch --------------------------------------------

# inputs: the differentiable float64 arrays; ours(*tensors) and theirs(torch, *tensors) the loss (constants
# caught in them); ref(*arrays) its NumPy value; kinks(*arrays) the arguments of its hinges (gradient checks
# keep them off 0), or None.
Case = namedtuple("Case", "inputs ours ref theirs kinks")


def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], shape)


def _tt(torch, a, like):
    """A constant NumPy array as a torch tensor of the dtype of the torch tensor ``like``."""
    return torch.tensor(np.asarray(a), dtype=like.dtype)


def case_kl_div(draw, rng):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    reduction = draw(st.sampled_from(REDUCTIONS + ["batchmean"]))
    log_target = draw(st.booleans())
    x = rng.standard_normal(shape)
    t = rng.standard_normal(shape) if log_target else np.where(rng.random(shape) < 0.3, 0.0, rng.random(shape))
    batch = shape[0] if shape else 1
    return Case([x], lambda x_: F.kl_div(x_, t, reduction, log_target),
                lambda x_: _reduced(kl_ref(x_, t, log_target), reduction, batch),
                lambda torch, x_: torch.nn.functional.kl_div(x_, _tt(torch, t, x_), reduction=reduction,
                                                             log_target=log_target), None)


def case_poisson_nll_loss(draw, rng):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    reduction, log_input, full = draw(st.sampled_from(REDUCTIONS)), draw(st.booleans()), draw(st.booleans())
    eps = draw(st.sampled_from([1e-8, 0.1]))
    x = rng.standard_normal(shape) if log_input else rng.uniform(0.1, 3.0, shape)
    t = rng.integers(0, 6, shape).astype(float) + np.where(rng.random(shape) < 0.3, 0.5, 0.0)
    return Case([x], lambda x_: F.poisson_nll_loss(x_, t, log_input, full, eps, reduction),
                lambda x_: _reduced(poisson_ref(x_, t, log_input, full, eps), reduction),
                lambda torch, x_: torch.nn.functional.poisson_nll_loss(x_, _tt(torch, t, x_), log_input, full,
                                                                       eps=eps, reduction=reduction), None)


def case_gaussian_nll_loss(draw, rng):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    reduction, full = draw(st.sampled_from(REDUCTIONS)), draw(st.booleans())
    eps = draw(st.sampled_from([1e-6, 0.05]))
    form = draw(st.sampled_from(["same", "no last axis", "one axis 1", "number"]))
    x, t = rng.standard_normal(shape), rng.standard_normal(shape)
    if draw(st.booleans()):  # a target that broadcasts: one axis of size 1
        t = t[tuple(slice(0, 1) if i == 0 else slice(None) for i in range(len(shape)))]
    if form == "number":
        var = float(rng.uniform(0.2, 2.0))
        return Case([x], lambda x_: F.gaussian_nll_loss(x_, t, var, full, eps, reduction),
                    lambda x_: _reduced(gaussian_ref(x_, t, var, full, eps), reduction),
                    lambda torch, x_: torch.nn.functional.gaussian_nll_loss(x_, _tt(torch, t, x_), var, full, eps,
                                                                            reduction), None)
    vshape = {"same": shape, "no last axis": shape[:-1],
              "one axis 1": tuple(1 if i == len(shape) - 1 else n for i, n in enumerate(shape))}[form]
    var = rng.uniform(0.2, 2.0, vshape)

    def ref(x_, v):
        return _reduced(gaussian_ref(x_, t, v[..., None] if form == "no last axis" else v, full, eps), reduction)

    return Case([x, var], lambda x_, v: F.gaussian_nll_loss(x_, t, v, full, eps, reduction), ref,
                lambda torch, x_, v: torch.nn.functional.gaussian_nll_loss(x_, _tt(torch, t, x_), v, full, eps,
                                                                           reduction), None)


def case_margin_ranking_loss(draw, rng):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    shape2 = tuple(1 if draw(st.booleans()) else n for n in shape)  # same number of axes, broadcasting
    reduction, margin = draw(st.sampled_from(REDUCTIONS)), draw(st.sampled_from([0.0, 0.5, -0.3]))
    x1, x2, y = rng.standard_normal(shape), rng.standard_normal(shape2), _signs(rng, shape)
    return Case([x1, x2], lambda a, b: F.margin_ranking_loss(a, b, y, margin, reduction),
                lambda a, b: _reduced(ranking_ref(a, b, y, margin), reduction),
                lambda torch, a, b: torch.nn.functional.margin_ranking_loss(a, b, _tt(torch, y, a), margin,
                                                                            reduction=reduction),
                lambda a, b: margin - y * (a - b))


def case_hinge_embedding_loss(draw, rng):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    reduction, margin = draw(st.sampled_from(REDUCTIONS)), draw(st.sampled_from([1.0, 0.5, 2.0]))
    x, y = np.abs(rng.standard_normal(shape)) * 2, _signs(rng, shape)
    return Case([x], lambda x_: F.hinge_embedding_loss(x_, y, margin, reduction),
                lambda x_: _reduced(hinge_embedding_ref(x_, y, margin), reduction),
                lambda torch, x_: torch.nn.functional.hinge_embedding_loss(x_, _tt(torch, y, x_), margin,
                                                                           reduction=reduction),
                lambda x_: margin - x_)


def case_soft_margin_loss(draw, rng):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    reduction = draw(st.sampled_from(REDUCTIONS))
    x, y = rng.standard_normal(shape) * 4, _signs(rng, shape)
    return Case([x], lambda x_: F.soft_margin_loss(x_, y, reduction),
                lambda x_: _reduced(soft_margin_ref(x_, y), reduction),
                lambda torch, x_: torch.nn.functional.soft_margin_loss(x_, _tt(torch, y, x_), reduction=reduction),
                None)


def case_multilabel_soft_margin_loss(draw, rng):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    reduction = draw(st.sampled_from(REDUCTIONS))
    x = rng.standard_normal(shape) * 4
    t = rng.integers(0, 2, shape).astype(float) if draw(st.booleans()) else rng.random(shape)
    weight = draw(st.sampled_from([None, "class", "element"]))
    w = None if weight is None else rng.uniform(0.2, 2.0, shape[-1:] if weight == "class" else shape)
    return Case([x], lambda x_: F.multilabel_soft_margin_loss(x_, t, w, reduction),
                lambda x_: _reduced(multilabel_soft_ref(x_, t, 1.0 if w is None else w), reduction),
                lambda torch, x_: torch.nn.functional.multilabel_soft_margin_loss(
                    x_, _tt(torch, t, x_), None if w is None else _tt(torch, w, x_), reduction=reduction), None)


def case_cosine_embedding_loss(draw, rng):
    batched = draw(st.booleans())
    n, d = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shape = (n, d) if batched else (d,)
    shape2 = (1, d) if batched and draw(st.booleans()) else shape
    reduction, margin = draw(st.sampled_from(REDUCTIONS)), draw(st.sampled_from([0.0, 0.3, -0.2]))
    x1, x2, y = rng.standard_normal(shape), rng.standard_normal(shape2), _signs(rng, shape[:-1])

    def kinks(a, b):
        return np.where(y == -1, cosine_ref(a, b, -np.ones_like(y), -np.inf) - margin, 1.0)

    return Case([x1, x2], lambda a, b: F.cosine_embedding_loss(a, b, y, margin, reduction),
                lambda a, b: _reduced(cosine_ref(a, b, y, margin), reduction),
                lambda torch, a, b: torch.nn.functional.cosine_embedding_loss(a, b, _tt(torch, y, a), margin,
                                                                              reduction=reduction), kinks)


def case_triplet_margin_loss(draw, rng):
    batched = draw(st.booleans())
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 4))) if batched else (draw(st.integers(1, 4)),)
    reduction, swap = draw(st.sampled_from(REDUCTIONS)), draw(st.booleans())
    margin, p, eps = draw(st.sampled_from([1.0, 0.5, 3.0])), draw(st.sampled_from([2.0, 1.0, 3.0])), \
        draw(st.sampled_from([1e-6, 0.0]))
    a, pos, neg = (rng.standard_normal(shape) for _ in range(3))

    def kinks(a_, p_, n_):
        d_neg, d_swap = p_distance(a_, n_, p, eps), p_distance(p_, n_, p, eps)
        terms = [margin + p_distance(a_, p_, p, eps) - (np.minimum(d_neg, d_swap) if swap else d_neg)]
        return np.concatenate([np.ravel(v) for v in terms + ([d_neg - d_swap] if swap else [])])

    return Case([a, pos, neg], lambda *xs: F.triplet_margin_loss(*xs, margin, p, eps, swap, reduction),
                lambda *xs: _reduced(triplet_ref(*xs, margin, p, eps, swap), reduction),
                lambda torch, *xs: torch.nn.functional.triplet_margin_loss(*xs, margin=margin, p=p, eps=eps,
                                                                           swap=swap, reduction=reduction), kinks)


def case_multi_margin_loss(draw, rng):
    batched = draw(st.booleans())
    c = draw(st.integers(1, 4))
    shape = (draw(st.integers(1, 3)), c) if batched else (c,)
    reduction, p, margin = draw(st.sampled_from(REDUCTIONS)), draw(st.sampled_from([1, 2])), \
        draw(st.sampled_from([1.0, 0.5, 2.0]))
    x = rng.standard_normal(shape)
    y = rng.integers(0, c, shape[:1]) if batched else np.int64(rng.integers(0, c))
    w = rng.uniform(0.2, 2.0, c) if draw(st.booleans()) else None

    def kinks(x_):
        rows, ys = x_.reshape(-1, c), np.reshape(y, -1)
        return margin - rows[np.arange(len(ys)), ys][:, None] + rows

    return Case([x], lambda x_: F.multi_margin_loss(x_, y, p, margin, w, reduction),
                lambda x_: _reduced(multi_margin_ref(x_, y, p, margin, np.ones(c) if w is None else w), reduction),
                lambda torch, x_: torch.nn.functional.multi_margin_loss(
                    x_, torch.tensor(y), p, margin, None if w is None else _tt(torch, w, x_), reduction=reduction),
                kinks)


def _label_lists(draw, rng, batch, c):
    """Rows of class lists ended by -1 (a full row needs none), perhaps with a repeated class, then anything."""
    rows = []
    for _ in range(batch):
        k = draw(st.integers(0, c))
        listed = list(rng.permutation(c)[:k])
        if k and draw(st.booleans()):
            listed[-1] = listed[0]  # a class listed twice counts twice
        rows.append(listed + ([-1] + list(rng.integers(-1, c, c - k - 1)) if k < c else []))
    return np.array(rows, dtype=np.int64)


def case_multilabel_margin_loss(draw, rng):
    batched = draw(st.booleans())
    c = draw(st.integers(1, 4))
    batch = draw(st.integers(1, 3)) if batched else 1
    reduction = draw(st.sampled_from(REDUCTIONS))
    x = rng.standard_normal((batch, c) if batched else (c,))
    y = _label_lists(draw, rng, batch, c).reshape(x.shape)

    def kinks(x_):
        rows = x_.reshape(batch, c)
        return 1 - rows[:, :, None] + rows[:, None, :]

    return Case([x], lambda x_: F.multilabel_margin_loss(x_, y, reduction),
                lambda x_: _reduced(multilabel_margin_ref(x_, y), reduction),
                lambda torch, x_: torch.nn.functional.multilabel_margin_loss(x_, torch.tensor(y),
                                                                             reduction=reduction), kinks)


CASES = {name[len("case_"):]: fn for name, fn in list(globals().items()) if name.startswith("case_")}


def draw_case(data, name, seed):
    return CASES[name](data.draw, np.random.default_rng(seed))


# -- values, gradients, float32 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=12, deadline=None)
@given(data=st.data(), seed=seeds)
def test_values_match_the_definitions(device, name, data, seed):
    case = draw_case(data, name, seed)
    y = case.ours(*(mg.tensor(a, device=device) for a in case.inputs))
    expected = case.ref(*case.inputs)
    assert y.dtype == np.float64 and y.shape == np.shape(expected)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=5, deadline=None)
@given(data=st.data(), seed=seeds)
def test_first_and_second_order_gradients(device, name, data, seed):
    case = draw_case(data, name, seed)
    if case.kinks is not None:
        assume(np.all(np.abs(case.kinks(*case.inputs)) > 1e-3))  # finite differences must not straddle a kink
    check_grad(case.ours, case.inputs, device)
    check_double_grad(case.ours, case.inputs, device)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=4, deadline=None)
@given(data=st.data(), seed=seeds)
def test_float32_stays_float32_through_double_backward(device, name, data, seed):
    """float64 targets, weights and labels and Python-float options never promote a float32 input."""
    case = draw_case(data, name, seed)
    xs = [mg.tensor(a.astype(np.float32), device=device, requires_grad=True) for a in case.inputs]
    y = case.ours(*xs)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), case.ref(*(a.astype(np.float32).astype(np.float64) for a in case.inputs)),
                               rtol=1e-5, atol=1e-5)
    gs = mg.grad(y.sum(), xs, create_graph=True)
    assert all(g.dtype == np.float32 for g in gs)
    total = sum((g * g).sum() for g in gs)
    if total.requires_grad:  # a piecewise-linear loss's gradient may be constant in the inputs
        assert all(g is None or g.dtype == np.float32 for g in mg.grad(total, xs, allow_unused=True))


# -- PyTorch, where installed -----------------------------------------------------------------------------------

# PyTorch has no second derivative for these two (its backward kernels have none); ours are compositions, so
# they do: 0 for the piecewise-linear ones, and multi_margin_loss's p = 2 square's own.
NO_TORCH_DOUBLE_BACKWARD = {"multi_margin_loss", "multilabel_margin_loss"}


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=8, deadline=None)
@given(data=st.data(), seed=seeds)
def test_values_and_gradients_match_torch(name, data, seed):
    torch = pytest.importorskip("torch")
    case = draw_case(data, name, seed)
    rng = np.random.default_rng(seed + 1)
    # float64: a length-1 cosine is +-1 up to its 1e-12, where the gradient is a small difference of
    # large terms and the two libraries' orders of operations differ in the last bits
    for dtype, tol in ((np.float64, {"rtol": 1e-9, "atol": 1e-10}), (np.float32, {"rtol": 2e-5, "atol": 2e-6})):
        arrays = [a.astype(dtype) for a in case.inputs]
        ours = [mg.tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        y, yt = case.ours(*ours), case.theirs(torch, *theirs)
        assert y.dtype == dtype and y.shape == tuple(yt.shape)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
        gy = rng.standard_normal(y.shape).astype(dtype)
        gs = mg.grad(y, ours, mg.tensor(gy), create_graph=True)
        gts = torch.autograd.grad(yt, theirs, torch.tensor(gy), create_graph=dtype == np.float64)
        for g, gt in zip(gs, gts):
            assert g.dtype == dtype
            np.testing.assert_allclose(g.numpy(), gt.detach().numpy(), **tol)
        if dtype == np.float32 or name in NO_TORCH_DOUBLE_BACKWARD:
            continue
        if case.kinks is not None and not np.all(np.abs(case.kinks(*arrays)) > 1e-9):
            continue  # on a kink both sides are right; the first derivatives above already agree there
        vs = [rng.standard_normal(a.shape) for a in arrays]
        gv = sum((g * mg.tensor(v)).sum() for g, v in zip(gs, vs))
        tgv = sum((g * torch.tensor(v)).sum() for g, v in zip(gts, vs))
        ggs = mg.grad(gv, ours, allow_unused=True) if gv.requires_grad else [None] * len(ours)
        tggs = torch.autograd.grad(tgv, theirs, allow_unused=True) if tgv.requires_grad else [None] * len(ours)
        for gg, tgg, a in zip(ggs, tggs, arrays):
            np.testing.assert_allclose(np.zeros_like(a) if gg is None else gg.numpy(),
                                       np.zeros_like(a) if tgg is None else tgg.numpy(force=True), rtol=1e-8, atol=1e-10)


# -- the kinks: the gradient PyTorch defines there --------------------------------------------------------------

# (name, the loss of the arrays, the arrays, the expected gradients of the summed loss, torch's loss)
KINKS = [
    # clamp_min(margin - y (x1 - x2), 0) at 0: the gradient of the sloped side (clamp_min passes it at the bound)
    ("margin_ranking", lambda a, b: F.margin_ranking_loss(a, b, np.array([1.0, -1.0]), 0.5, "sum"),
     [[1.0, 1.5], [0.5, 2.0]], [[-1.0, 1.0], [1.0, -1.0]],
     lambda T, a, b: T.nn.functional.margin_ranking_loss(a, b, T.tensor([1.0, -1.0], dtype=a.dtype), 0.5,
                                                         reduction="sum")),
    ("hinge_embedding", lambda x: F.hinge_embedding_loss(x, np.array([-1.0, -1.0]), 1.0, "sum"),
     [[1.0, 0.5]], [[-1.0, -1.0]],
     lambda T, x: T.nn.functional.hinge_embedding_loss(x, T.tensor([-1.0, -1.0], dtype=x.dtype), 1.0,
                                                        reduction="sum")),
    ("cosine_embedding", lambda a, b: F.cosine_embedding_loss(a, b, np.array([-1.0]), 0.0, "sum"),
     [[[1.0, 0.0]], [[0.0, 1.0]]], [[[0.0, 1.0]], [[1.0, 0.0]]],
     lambda T, a, b: T.nn.functional.cosine_embedding_loss(a, b, T.tensor([-1.0], dtype=a.dtype), 0.0,
                                                           reduction="sum")),
    ("triplet", lambda a, p, n: F.triplet_margin_loss(a, p, n, 1.0, eps=0.0, reduction="sum"),
     [[[0.0, 0.0]], [[1.0, 0.0]], [[2.0, 0.0]]], [[[0.0, 0.0]], [[1.0, 0.0]], [[-1.0, 0.0]]],
     lambda T, a, p, n: T.nn.functional.triplet_margin_loss(a, p, n, 1.0, eps=0.0, reduction="sum")),
    # swap: d(a, n) = d(p, n) = 1, a tie of the minimum: half the gradient to each distance
    ("triplet swap tie", lambda a, p, n: F.triplet_margin_loss(a, p, n, 1.0, eps=0.0, swap=True, reduction="sum"),
     [[[0.0, 0.0]], [[2.0, 0.0]], [[1.0, 0.0]]], [[[-0.5, 0.0]], [[0.5, 0.0]], [[0.0, 0.0]]],
     lambda T, a, p, n: T.nn.functional.triplet_margin_loss(a, p, n, 1.0, eps=0.0, swap=True, reduction="sum")),
    # PyTorch's kernels count only margin terms > 0: at 0 the gradient is 0
    ("multi_margin", lambda x: F.multi_margin_loss(x, np.array([0]), reduction="sum"),
     [[[1.0, 0.0, 0.5]]], [[[-1 / 3, 0.0, 1 / 3]]],
     lambda T, x: T.nn.functional.multi_margin_loss(x, T.tensor([0]), reduction="sum")),
    ("multilabel_margin", lambda x: F.multilabel_margin_loss(x, np.array([[0, -1, 1]]), reduction="sum"),
     [[[1.0, 0.0, 0.5]]], [[[-1 / 3, 0.0, 1 / 3]]],
     lambda T, x: T.nn.functional.multilabel_margin_loss(x, T.tensor([[0, -1, 1]]), reduction="sum")),
]


@pytest.mark.parametrize("name, loss, arrays, expected, _", KINKS, ids=[k[0] for k in KINKS])
def test_gradients_at_the_kinks(device, name, loss, arrays, expected, _):
    xs = [mg.tensor(np.array(a), device=device, requires_grad=True) for a in arrays]
    gs = mg.grad(loss(*xs), xs)
    for g, e in zip(gs, expected):
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, loss, arrays, expected, theirs", KINKS, ids=[k[0] for k in KINKS])
def test_gradients_at_the_kinks_match_torch(name, loss, arrays, expected, theirs):
    torch = pytest.importorskip("torch")
    xs = [mg.tensor(np.array(a), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    y, yt = loss(*xs), theirs(torch, *ts)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-15)
    for g, gt in zip(mg.grad(y, xs), torch.autograd.grad(yt, ts)):
        np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=1e-12, atol=1e-12)


# -- the particulars of each loss ---------------------------------------------------------------------------------

def test_kl_div_zero_target_adds_zero_with_a_finite_gradient(device):
    """0 log 0 = 0, as PyTorch's xlogy: no NaN in the loss, no NaN in the gradient (which is -t = 0)."""
    x = mg.tensor(np.array([[-1.0, -2.0, -0.5]]), device=device, requires_grad=True)
    t = np.array([[0.0, 0.5, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from log(0) either
        loss = F.kl_div(x, t, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [[0.0, 0.5 * (np.log(0.5) + 2.0), 0.5 * (np.log(0.5) + 0.5)]])
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), -t)


def test_kl_div_batchmean_is_the_kl_divergence_averaged_over_the_batch(device):
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(5), 3), rng.dirichlet(np.ones(5), 3)
    kl = (p * np.log(p / q)).sum(axis=1).mean()
    for log_target, t in ((False, p), (True, np.log(p))):
        got = F.kl_div(mg.tensor(np.log(q), device=device), t, "batchmean", log_target).numpy()
        np.testing.assert_allclose(got, kl, rtol=1e-12)
    # a 0-d input has no batch axis: batchmean is the sum, as in PyTorch
    np.testing.assert_allclose(F.kl_div(mg.tensor(np.float64(-1.0), device=device), 0.5, "batchmean").numpy(),
                               0.5 * (np.log(0.5) + 1.0))


def test_kl_div_mean_warns_as_torch_does(device):
    x = mg.tensor(np.zeros((2, 3)), device=device)
    with pytest.warns(UserWarning, match=r"kl_div: reduction='mean' divides .*reduction='batchmean'"):
        F.kl_div(x, np.full((2, 3), 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for reduction in ("batchmean", "sum", "none"):
            F.kl_div(x, np.full((2, 3), 0.5), reduction)


def test_soft_margin_loss_is_stable_for_huge_margins(device):
    """PyTorch's log1p(exp(-y x)) overflows to inf (and a NaN gradient) here; softplus does not."""
    for dtype in (np.float64, np.float32):
        x = mg.tensor(np.array([-800.0, 800.0, 800.0], dtype=dtype), device=device, requires_grad=True)
        loss = F.soft_margin_loss(x, np.array([1.0, -1.0, 1.0]), "none")
        assert loss.dtype == dtype
        np.testing.assert_allclose(loss.numpy(), [800.0, 800.0, 0.0])
        loss.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [-1.0, 1.0, 0.0])


def test_poisson_stirling_term_approximates_log_factorial_above_one(device):
    t = np.array([0.0, 1.0, 2.0, 5.0, 20.0])
    x = mg.tensor(np.zeros(5), device=device)
    extra = F.poisson_nll_loss(x, t, full=True, reduction="none").numpy() - F.poisson_nll_loss(
        x, t, reduction="none").numpy()
    log_factorial = np.array([math.lgamma(v + 1) for v in t])
    assert extra[0] == extra[1] == 0  # t <= 1: log(t!) = 0, no term
    # Stirling's series: log(t!) - (t log t - t + log(2 pi t) / 2) lies between 0 and 1 / (12 t)
    assert np.all((log_factorial[2:] - extra[2:] > 0) & (log_factorial[2:] - extra[2:] < 1 / (12 * t[2:])))


def test_gaussian_nll_var_clamp_is_straight_through(device):
    """var below eps is clamped in the value, but its gradient is that of the clamped value, as PyTorch's
    no_grad clamp gives: d/dv (log v + d^2 / v) / 2 at v = eps, not 0."""
    x = mg.tensor(np.array([1.0, 2.0]), device=device, requires_grad=True)
    var = mg.tensor(np.array([1e-3, 0.5]), device=device, requires_grad=True)
    loss = F.gaussian_nll_loss(x, np.zeros(2), var, eps=1e-2, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.5 * (np.log(1e-2) + 100.0), 0.5 * (np.log(0.5) + 8.0)])
    gx, gv = mg.grad(loss.sum(), [x, var])
    np.testing.assert_allclose(gx.numpy(), [100.0, 4.0])
    np.testing.assert_allclose(gv.numpy(), [0.5 * (100.0 - 1e4), 0.5 * (2.0 - 16.0)])


@pytest.mark.parametrize("input_shape, var_shape, loss_shape", [
    ((2, 3), (2, 3), (2, 3)), ((2, 3), (2,), (2, 3)), ((2, 3), (2, 1), (2, 3)), ((2, 3), (1, 3), (2, 3)),
    ((4, 3, 2), (4, 1, 2), (4, 3, 2)), ((3,), (), (3,)), ((3,), (1,), (3,)), ((2, 1), (2, 1), (2, 1)),
])
def test_gaussian_nll_var_shapes_as_torch(device, input_shape, var_shape, loss_shape):
    rng = np.random.default_rng(0)
    x, t, var = rng.standard_normal(input_shape), rng.standard_normal(input_shape), rng.uniform(0.5, 2, var_shape)
    loss = F.gaussian_nll_loss(mg.tensor(x, device=device), t, mg.tensor(var, device=device), reduction="none")
    assert loss.shape == loss_shape
    v = var[..., None] if var_shape == input_shape[:-1] else var
    np.testing.assert_allclose(loss.numpy(), gaussian_ref(x, t, v, False, 1e-6), rtol=1e-12)


def test_hinge_and_cosine_embedding_with_other_labels_as_torch(device):
    """hinge_embedding_loss adds both terms for a label other than 1 and -1; cosine_embedding_loss gives 0."""
    x = mg.tensor(np.array([0.2, 3.0, 0.4]), device=device)
    np.testing.assert_allclose(F.hinge_embedding_loss(x, np.array([0.0, 2.0, 1.0]), reduction="none").numpy(),
                               [0.8 + 0.2, 0.0 + 3.0, 0.4])
    a = mg.tensor(np.array([[1.0, 2.0], [3.0, 1.0]]), device=device)
    np.testing.assert_array_equal(F.cosine_embedding_loss(a, a, np.array([0.0, 2.0]), reduction="none").numpy(), 0)


def test_cosine_embedding_of_a_zero_vector_is_finite(device):
    a = mg.tensor(np.zeros((1, 3)), device=device, requires_grad=True)
    b = mg.tensor(np.array([[1.0, 2.0, 3.0]]), device=device, requires_grad=True)
    loss = F.cosine_embedding_loss(a, b, np.array([1.0]))
    assert loss.numpy() == 1.0  # cos = 0 / sqrt(1e-12 (14 + 1e-12)) = 0
    for g in mg.grad(loss, [a, b]):
        assert np.all(np.isfinite(g.numpy()))


def test_margin_losses_over_classes_take_one_sample_and_a_scalar(device):
    x = mg.tensor(np.array([0.3, -0.2, 0.9]), device=device)
    expected = ((1 - 0.3 - 0.2) + (1 - 0.3 + 0.9)) / 3
    for target in (np.int64(0), np.array([0])):
        y = F.multi_margin_loss(x, target, reduction="none")
        assert y.shape == () and np.isclose(y.numpy(), expected)
    assert F.multilabel_margin_loss(x, np.array([0, -1, 1]), "none").shape == ()
    # a 0-d input is one class, as PyTorch takes it: nothing to rank against
    one = mg.tensor(np.float64(0.5), device=device)
    assert F.multi_margin_loss(one, np.int64(0)).numpy() == 0 == F.multilabel_margin_loss(one, np.int64(0)).numpy()


def test_multilabel_margin_reads_each_list_to_its_first_minus_one(device):
    x = np.array([[0.1, 0.2, 0.4, 0.8], [0.5, -0.5, 0.0, 1.0]])
    y = np.array([[3, 0, -1, 1], [2, 2, -1, -1]])  # row 1: classes 3 and 0; row 2: class 2, listed twice
    loss = F.multilabel_margin_loss(mg.tensor(x, device=device), y, "none").numpy()
    first = sum(max(0, 1 - (x[0, j] - x[0, i])) for j in (3, 0) for i in (1, 2)) / 4
    second = 2 * sum(max(0, 1 - (x[1, 2] - x[1, i])) for i in (0, 1, 3)) / 4
    np.testing.assert_allclose(loss, [first, second], rtol=1e-12)


# -- errors -------------------------------------------------------------------------------------------------------

Z = mg.zeros


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.kl_div(Z(2, 3), np.ones((3, 2))), ValueError,
     r"kl_div: input of shape \(2, 3\) and target of shape \(3, 2\) must have the same shape"),
    (lambda: F.kl_div(Z(2), np.ones(2), reduction="avg"), ValueError,
     r"kl_div: reduction must be one of \('mean', 'sum', 'none', 'batchmean'\), got 'avg'"),
    (lambda: F.poisson_nll_loss(Z(2), np.ones(2), eps=None), TypeError, r"poisson_nll_loss: eps must be a number"),
    (lambda: F.poisson_nll_loss(Z(2), np.ones(2), reduction="batchmean"), ValueError,
     r"poisson_nll_loss: reduction must be one of \('mean', 'sum', 'none'\), got 'batchmean'"),
    (lambda: F.gaussian_nll_loss(Z(2, 3), np.ones((2, 3)), mg.ones(3)), ValueError,
     r"gaussian_nll_loss: var of shape \(3,\) does not fit input of shape \(2, 3\): it must have the input's shape, "
     r"that shape with one axis of size 1, or that shape without its last axis"),
    (lambda: F.gaussian_nll_loss(Z(2, 3), np.ones((2, 3)), mg.ones(2, 3) * -1), ValueError,
     r"gaussian_nll_loss: var must be non-negative, found -1.0 in var of shape \(2, 3\)"),
    (lambda: F.gaussian_nll_loss(Z(2, 3), np.ones((2, 3)), -0.5), ValueError,
     r"gaussian_nll_loss: var must be non-negative, got -0.5"),
    (lambda: F.gaussian_nll_loss(Z(2, 3), np.ones((4, 3)), 1.0), ValueError,
     r"gaussian_nll_loss: input of shape \(2, 3\), target of shape \(4, 3\) do not broadcast to one shape"),
    (lambda: F.gaussian_nll_loss(Z(2), np.ones(2), 1.0, reduction="x"), ValueError,
     r"gaussian_nll_loss: reduction must be one of"),
    (lambda: F.margin_ranking_loss(Z(2, 3), Z(3), np.ones((2, 3))), ValueError,
     r"margin_ranking_loss: input1, input2 and target must have the same number of axes, got input1 of shape "
     r"\(2, 3\), input2 of shape \(3,\), target of shape \(2, 3\)"),
    (lambda: F.margin_ranking_loss(Z(2), Z(3), np.ones(2)), ValueError,
     r"margin_ranking_loss: input1 of shape \(2,\), input2 of shape \(3,\) do not broadcast to one shape"),
    (lambda: F.margin_ranking_loss(Z(2), Z(2), np.ones(2), margin="1"), TypeError,
     r"margin_ranking_loss: margin must be a number, got '1'"),
    (lambda: F.margin_ranking_loss(mg.tensor([1, 2]), Z(2), np.ones(2)), TypeError,
     r"margin_ranking_loss: input1 must be floating point, got dtype int64 \(shape \(2,\)\)"),
    (lambda: F.hinge_embedding_loss(Z(2), np.ones(3)), ValueError,
     r"hinge_embedding_loss: input of shape \(2,\) and target of shape \(3,\) must have the same shape"),
    (lambda: F.soft_margin_loss(Z(2), np.ones(2), reduction="mean "), ValueError,
     r"soft_margin_loss: reduction must be one of"),
    (lambda: F.multilabel_soft_margin_loss(mg.tensor(0.0), 1.0), ValueError,
     r"multilabel_soft_margin_loss: input must have a class axis last, \(C,\) or \(N, C\), got a scalar"),
    (lambda: F.multilabel_soft_margin_loss(Z(2, 3), np.ones((2, 3)), weight=np.ones(2)), ValueError,
     r"multilabel_soft_margin_loss: weight must be numbers in a shape that broadcasts to the input's shape \(2, 3\); "
     r"got dtype float64, shape \(2,\)"),
    (lambda: F.cosine_embedding_loss(Z(2, 3), Z(2, 3), np.ones((2, 1))), ValueError,
     r"cosine_embedding_loss: target must be 0-d \(for inputs \(D,\)\) or 1-D \(N,\) \(for inputs \(N, D\)\), got "
     r"shape \(2, 1\)"),
    (lambda: F.cosine_embedding_loss(Z(3), Z(3), np.ones(1)), ValueError,
     r"cosine_embedding_loss: a target of shape \(1,\) needs 2-D inputs, got input1 of shape \(3,\), input2 of shape "
     r"\(3,\)"),
    (lambda: F.cosine_embedding_loss(Z(2, 3), Z(2, 4), np.ones(2)), ValueError,
     r"cosine_embedding_loss: input1 of shape \(2, 3\), input2 of shape \(2, 4\) do not broadcast to one shape"),
    (lambda: F.cosine_embedding_loss(Z(2, 3), Z(2, 3), np.ones(3)), ValueError,
     r"cosine_embedding_loss: target of shape \(3,\), the pairs of shape \(2,\) do not broadcast to one shape"),
    (lambda: F.triplet_margin_loss(Z(2, 3), Z(3), Z(2, 3)), ValueError,
     r"triplet_margin_loss: anchor, positive and negative must have the same number of axes, got anchor of shape "
     r"\(2, 3\), positive of shape \(3,\), negative of shape \(2, 3\)"),
    (lambda: F.triplet_margin_loss(Z(2, 3), Z(2, 3), Z(2, 3), margin=0), ValueError,
     r"triplet_margin_loss: margin must be greater than 0, got 0"),
    (lambda: F.triplet_margin_loss(Z(2, 3), Z(2, 3), Z(2, 3), p="2"), TypeError,
     r"triplet_margin_loss: p must be a number, got '2'"),
    (lambda: F.triplet_margin_loss(Z(2, 3), Z(4, 3), Z(2, 3)), ValueError,
     r"triplet_margin_loss: anchor of shape \(2, 3\), positive of shape \(4, 3\), negative of shape \(2, 3\) do not "
     r"broadcast to one shape"),
    (lambda: F.multi_margin_loss(Z(2, 3), np.array([0, 1]), p=3), ValueError,
     r"multi_margin_loss: p must be 1 or 2, got 3"),
    (lambda: F.multi_margin_loss(Z(2, 3), np.array([0, 1]), p=True), ValueError,
     r"multi_margin_loss: p must be 1 or 2, got True"),
    (lambda: F.multi_margin_loss(Z(2, 3, 4), np.array([0, 1])), ValueError,
     r"multi_margin_loss: input must be class scores \(C,\) or \(N, C\) with C > 0, got shape \(2, 3, 4\)"),
    (lambda: F.multi_margin_loss(Z(2, 0), np.array([0, 1])), ValueError,
     r"multi_margin_loss: input must be class scores .* got shape \(2, 0\)"),
    (lambda: F.multi_margin_loss(Z(2, 3), np.array([0.0, 1.0])), TypeError,
     r"multi_margin_loss: target must hold integer class indices, got dtype float64 \(shape \(2,\)\)"),
    (lambda: F.multi_margin_loss(Z(2, 3), np.array([0, 1, 1])), ValueError,
     r"multi_margin_loss: target of shape \(3,\) does not fit input of shape \(2, 3\) \(expects \(2,\), one class per "
     r"sample\)"),
    (lambda: F.multi_margin_loss(Z(3), np.array([0, 1])), ValueError,
     r"multi_margin_loss: target of shape \(2,\) does not fit input of shape \(3,\) \(expects \(\) or \(1,\)"),
    (lambda: F.multi_margin_loss(Z(2, 3), np.array([0, 3])), ValueError,
     r"multi_margin_loss: target holds class 3, outside \[0, 3\) for input of shape \(2, 3\)"),
    (lambda: F.multi_margin_loss(Z(2, 3), np.array([-1, 0])), ValueError,
     r"multi_margin_loss: target holds class -1, outside \[0, 3\)"),
    (lambda: F.multi_margin_loss(Z(2, 3), np.array([0, 1]), weight=np.ones((1, 3))), ValueError,
     r"multi_margin_loss: weight must be a 1-D array of 3 numbers, one per class of input of shape \(2, 3\); got "
     r"dtype float64, shape \(1, 3\)"),
    (lambda: F.multilabel_margin_loss(Z(2, 3), np.array([[0, 1], [0, 1]])), ValueError,
     r"multilabel_margin_loss: target of shape \(2, 2\) must have the input's shape \(2, 3\)"),
    (lambda: F.multilabel_margin_loss(Z(2, 3), np.array([[0, 3, -1], [0, 1, -1]])), ValueError,
     r"multilabel_margin_loss: target holds 3, outside \[-1, 3\) \(class indices, each list ended by -1\), for input "
     r"of shape \(2, 3\)"),
    (lambda: F.multilabel_margin_loss(Z(2, 3), np.array([[0, -1, -2], [0, 1, -1]])), ValueError,
     r"multilabel_margin_loss: target holds -2, outside \[-1, 3\)"),
    (lambda: F.multilabel_margin_loss(Z(2, 3), np.zeros((2, 3))), TypeError,
     r"multilabel_margin_loss: target must hold integer class indices, got dtype float64"),
    (lambda: nn.KLDivLoss(reduction="avg"), ValueError,
     r"KLDivLoss: reduction must be one of \('mean', 'sum', 'none', 'batchmean'\), got 'avg'"),
    (lambda: nn.SoftMarginLoss(reduction="batchmean"), ValueError, r"SoftMarginLoss: reduction must be one of"),
    (lambda: nn.TripletMarginLoss(margin=-1.0), ValueError,
     r"TripletMarginLoss: margin must be a number greater than 0, got -1.0"),
    (lambda: nn.MultiMarginLoss(p=3), ValueError, r"MultiMarginLoss: p must be 1 or 2, got 3"),
    (lambda: nn.MultiMarginLoss(weight=mg.ones(1, 3)), ValueError,
     r"MultiMarginLoss: weight must be None or 1-D \(one weight per class\), got shape \(1, 3\)"),
    (lambda: nn.GaussianNLLLoss(True), TypeError, r"positional argument"),  # keyword-only, as in PyTorch
])
def test_bad_arguments_name_the_op_and_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- the layers ------------------------------------------------------------------------------------------------------

def every_new_loss(nn_, tensor):
    """Each new loss layer, with and without its options, built the same way from ``nn_`` (ours or torch.nn)."""
    return [
        nn_.KLDivLoss(), nn_.KLDivLoss(reduction="batchmean", log_target=True),
        nn_.PoissonNLLLoss(), nn_.PoissonNLLLoss(False, True, eps=1e-4, reduction="sum"),
        nn_.GaussianNLLLoss(), nn_.GaussianNLLLoss(full=True, eps=1e-3, reduction="none"),
        nn_.MarginRankingLoss(), nn_.MarginRankingLoss(0.5, reduction="sum"),
        nn_.HingeEmbeddingLoss(), nn_.HingeEmbeddingLoss(2.0, reduction="none"),
        nn_.SoftMarginLoss(), nn_.SoftMarginLoss(reduction="sum"),
        nn_.MultiLabelSoftMarginLoss(), nn_.MultiLabelSoftMarginLoss(tensor([1.0, 2.0, 0.5]), reduction="none"),
        nn_.CosineEmbeddingLoss(), nn_.CosineEmbeddingLoss(0.25, reduction="sum"),
        nn_.TripletMarginLoss(), nn_.TripletMarginLoss(0.5, 1.0, 1e-3, True, reduction="none"),
        nn_.MultiMarginLoss(), nn_.MultiMarginLoss(2, 0.5, tensor([1.0, 2.0, 0.5]), reduction="sum"),
        nn_.MultiLabelMarginLoss(), nn_.MultiLabelMarginLoss(reduction="none"),
    ]


ATTRIBUTES = ("reduction", "log_target", "log_input", "full", "eps", "margin", "p", "swap")


def _layer_arguments(loss, rng):
    """Arguments that fit the layer (batch 4, 3 classes or features), as float32 NumPy arrays and ints."""
    name, x = type(loss).__name__, rng.standard_normal((4, 3)).astype(np.float32)
    signs = rng.choice([-1.0, 1.0], (4, 3)).astype(np.float32)
    return {
        "KLDivLoss": (x, np.log(rng.dirichlet(np.ones(3), 4)).astype(np.float32) if getattr(loss, "log_target", 0)
                      else rng.dirichlet(np.ones(3), 4).astype(np.float32)),
        "PoissonNLLLoss": (np.abs(x) + 0.1, rng.integers(0, 5, (4, 3)).astype(np.float32)),
        "GaussianNLLLoss": (x, x[::-1].copy(), rng.uniform(0.5, 2, (4, 1)).astype(np.float32)),
        "MarginRankingLoss": (x, x[::-1].copy(), signs),
        "HingeEmbeddingLoss": (np.abs(x), signs),
        "SoftMarginLoss": (x, signs),
        "MultiLabelSoftMarginLoss": (x, rng.integers(0, 2, (4, 3)).astype(np.float32)),
        "CosineEmbeddingLoss": (x, x[::-1].copy(), signs[:, 0].copy()),
        "TripletMarginLoss": (x, x[::-1].copy(), rng.standard_normal((4, 3)).astype(np.float32)),
        "MultiMarginLoss": (x, np.array([0, 2, 1, 2])),
        "MultiLabelMarginLoss": (x, np.array([[0, -1, 2], [2, 1, -1], [-1, 0, 0], [0, 1, 2]])),
    }[name]


def test_layers_match_torch_reprs_state_dicts_attributes_and_values():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for ours, theirs in zip(every_new_loss(nn, mg.tensor), every_new_loss(torch.nn, torch.tensor)):
        assert repr(ours) == repr(theirs)
        assert repr(nn.Sequential(ours)) == repr(torch.nn.Sequential(theirs))
        mine, ref = ours.state_dict(), theirs.state_dict()
        assert list(mine) == list(ref), repr(theirs)
        for key in ref:
            np.testing.assert_array_equal(mine[key], ref[key].numpy())
            assert mine[key].dtype == np.float32
        for attr in ATTRIBUTES:
            assert getattr(ours, attr, None) == getattr(theirs, attr, None), (repr(theirs), attr)
        args = _layer_arguments(ours, rng)
        y = ours(mg.tensor(args[0]), *args[1:])
        yt = theirs(*(torch.tensor(a) for a in args))
        np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=2e-6, atol=1e-6, err_msg=repr(theirs))


def test_layers_call_their_functions_move_and_keep_float32(device):
    rng = np.random.default_rng(1)
    for loss in every_new_loss(nn, mg.tensor):
        loss.to(device)
        args = _layer_arguments(loss, rng)
        x = mg.tensor(args[0], device=device, requires_grad=True)
        rest = [mg.tensor(a, device=device) if a.dtype.kind == "f" else a for a in args[1:]]
        y = loss(x, *rest)
        assert y.dtype == np.float32 and y.device == x.device, repr(loss)
        (g,) = mg.grad(y.sum(), [x])
        assert g.dtype == np.float32


def test_weighted_layers_keep_weight_as_a_buffer():
    loss = nn.MultiMarginLoss(weight=[1.0, 2.0, 3.0])  # a list becomes a float32 tensor
    assert list(loss.state_dict()) == ["weight"] and loss.weight.dtype == np.float32
    assert list(loss.parameters()) == [] and list(nn.MultiLabelSoftMarginLoss().state_dict()) == []
    loss.load_state_dict({"weight": np.array([3.0, 2.0, 1.0])})
    np.testing.assert_array_equal(loss.weight.numpy(), [3, 2, 1])
    assert loss.double().weight.dtype == np.float64


@pytest.mark.parametrize("size_average, reduce", [(None, False), (False, None), (True, True), (False, True)])
def test_legacy_size_average_and_reduce_as_torch(size_average, reduce):
    torch = pytest.importorskip("torch")
    pairs = [
        (lambda m: m.KLDivLoss(size_average, reduce, "batchmean")),
        (lambda m: m.PoissonNLLLoss(True, False, size_average, 1e-8, reduce)),
        (lambda m: m.MarginRankingLoss(0.0, size_average, reduce)),
        (lambda m: m.TripletMarginLoss(1.0, 2.0, 1e-6, False, size_average, reduce)),
        (lambda m: m.MultiMarginLoss(1, 1.0, None, size_average, reduce)),
        (lambda m: m.MultiLabelMarginLoss(size_average, reduce)),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for build in pairs:
            assert build(nn).reduction == build(torch.nn).reduction
    assert sum("size_average and reduce are PyTorch's old flags" in str(w.message) for w in caught) == len(pairs)
