"""Elementwise, shape, reduction, linear, activation and loss ops: forward against NumPy, float64
first- and second-order gradient checks over hypothesis-drawn shapes, on every device."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg
import minigan.functional as F
from gradcheck import check_double_grad, check_grad

small_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
seeds = st.integers(0, 2 ** 16)


def away_from_kinks(rng, shape, low=0.2, high=2.0):
    """Values with |x| in [low, high] and random signs: finite differences never straddle a kink."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def broadcastable(draw_shape):
    """A shape and a second shape that broadcasts against it (axes dropped or set to 1)."""
    @st.composite
    def pair(draw):
        shape = draw(draw_shape)
        other = [1 if draw(st.booleans()) else n for n in shape]
        drop = draw(st.integers(0, len(other) - 1))
        return shape, tuple(other[drop:])
    return pair()


BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "maximum": (F.maximum, np.maximum),
    "pow": (lambda a, b: F.abs(a) ** b, lambda a, b: np.abs(a) ** b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(shapes=broadcastable(small_shapes), seed=seeds)
def test_binary_ops_broadcast_and_gradients(device, name, shapes, seed):
    fn, ref = BINARY[name]
    rng = np.random.default_rng(seed)
    a, b = away_from_kinks(rng, shapes[0]), away_from_kinks(rng, shapes[1])
    if name == "maximum":
        b = b + 0.05  # no ties between a and b
    out = fn(mg.tensor(a, device=device), mg.tensor(b, device=device))
    np.testing.assert_allclose(out.numpy(), ref(a, b), rtol=1e-12)
    check_grad(fn, [a, b], device)
    check_double_grad(fn, [a, b], device)


UNARY = {
    "neg": (lambda x: -x, np.negative, away_from_kinks),
    "exp": (F.exp, np.exp, away_from_kinks),
    "log": (F.log, np.log, lambda r, s: r.uniform(0.3, 3.0, s)),
    "sqrt": (F.sqrt, np.sqrt, lambda r, s: r.uniform(0.3, 3.0, s)),
    "abs": (F.abs, np.abs, away_from_kinks),
    "pow3": (lambda x: x ** 3, lambda x: x ** 3, away_from_kinks),
    "pow_half": (lambda x: x ** 0.5, np.sqrt, lambda r, s: r.uniform(0.3, 3.0, s)),
    "rpow": (lambda x: 2.0 ** x, lambda x: 2.0 ** x, away_from_kinks),
    "clip": (lambda x: F.clip(x, -1.0, 1.0), lambda x: np.clip(x, -1.0, 1.0),
             lambda r, s: r.choice([-1.5, -0.5, 0.5, 1.5], s) + r.uniform(-0.3, 0.3, s)),
    "relu": (F.relu, lambda x: np.maximum(x, 0), away_from_kinks),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), away_from_kinks),
    "sigmoid": (F.sigmoid, lambda x: 1 / (1 + np.exp(-x)), away_from_kinks),
    "tanh": (F.tanh, np.tanh, away_from_kinks),
    "softplus": (F.softplus, lambda x: np.log1p(np.exp(x)), away_from_kinks),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=small_shapes, seed=seeds)
def test_unary_ops_and_gradients(device, name, shape, seed):
    fn, ref, sample = UNARY[name]
    x = sample(np.random.default_rng(seed), shape)
    np.testing.assert_allclose(fn(mg.tensor(x, device=device)).numpy(), ref(x), rtol=1e-10, atol=1e-12)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


def _axes(draw, ndim):
    choice = draw(st.sampled_from(["none", "one", "many"]))
    if choice == "none":
        return None
    if choice == "one":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)))


@st.composite
def reduction_case(draw):
    shape = draw(small_shapes)
    return shape, _axes(draw, len(shape)), draw(st.booleans())


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@given(case=reduction_case(), seed=seeds)
def test_reductions(device, name, case, seed):
    shape, axis, keepdims = case
    rng = np.random.default_rng(seed)
    x = rng.permutation(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape) * 0.1  # distinct: no ties
    fn = lambda t: getattr(t, name)(axis=axis, keepdims=keepdims)  # noqa: E731
    ref = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(fn(mg.tensor(x, device=device)).numpy(), ref, rtol=1e-12)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("name", ["var", "std"])
@given(case=reduction_case(), correction=st.sampled_from([0, 1]), seed=seeds)
def test_variance_and_standard_deviation(device, name, case, correction, seed):
    shape, axis, keepdims = case
    axes = range(len(shape)) if axis is None else [axis] if isinstance(axis, int) else axis
    assume(np.prod([shape[a] for a in axes]) > 1)  # one value: no spread, and std's slope is infinite there
    x = np.random.default_rng(seed).standard_normal(shape)
    fn = lambda t: getattr(t, name)(axis=axis, keepdims=keepdims, correction=correction)  # noqa: E731
    ref = getattr(np, name)(x, axis=axis, keepdims=keepdims, ddof=correction)
    np.testing.assert_allclose(fn(mg.tensor(x, device=device)).numpy(), ref, rtol=1e-10)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


def test_max_ties_share_gradient(device):
    x = mg.tensor(np.array([[1.0, 3.0, 3.0]]), device=device, requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.5, 0.5]])


@st.composite
def shape_case(draw):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=3))
    perm = tuple(draw(st.permutations(range(len(shape)))))
    return shape, perm


@given(case=shape_case(), seed=seeds)
def test_reshape_transpose_flatten_broadcast(device, case, seed):
    shape, perm = case
    x = np.random.default_rng(seed).standard_normal(shape)
    checks = [
        (lambda t: F.reshape(t, (-1,) + shape[:1]), lambda a: a.reshape((-1,) + shape[:1])),
        (lambda t: F.transpose(t, perm), lambda a: a.transpose(perm)),
        (lambda t: t.flatten(1), lambda a: a.reshape(shape[0], -1)),
        (lambda t: F.broadcast_to(t, (2,) + shape), lambda a: np.broadcast_to(a, (2,) + shape)),
        (lambda t: F.sum_to(t, (1,) + shape[1:]), lambda a: a.sum(0, keepdims=True)),
        (lambda t: t.T * 1.0, lambda a: a.T),
    ]
    for fn, ref in checks:
        np.testing.assert_allclose(fn(mg.tensor(x, device=device)).numpy(), ref(x))
        check_grad(fn, [x], device)
        check_double_grad(fn, [x], device)


INDEXES = [
    (slice(1, None), slice(None, None, 2)),
    (0,),
    (Ellipsis, -1),
    (np.array([0, 2, 0]),),  # repeated rows: gradients add up
    (slice(None), np.array([1, 1])),
]


@pytest.mark.parametrize("index", INDEXES, ids=str)
def test_getitem(device, index, rng):
    x = rng.standard_normal((3, 4))
    fn = lambda t: t[index]  # noqa: E731
    np.testing.assert_allclose(fn(mg.tensor(x, device=device)).numpy(), x[index])
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


def test_boolean_mask_index(device, rng):
    x = rng.standard_normal((3, 4))
    mask = x > 0
    fn = lambda t: t[mg.tensor(mask, device=device)] * 2.0  # noqa: E731
    np.testing.assert_allclose(fn(mg.tensor(x, device=device)).numpy(), x[mask] * 2)
    check_grad(fn, [x], device)


@given(n=st.integers(1, 3), axis=st.integers(-2, 1), seed=seeds)
def test_concat_and_stack(device, n, axis, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((2, 3)) for _ in range(n)]
    cat = lambda *ts: F.concat(ts, axis=axis)  # noqa: E731
    stk = lambda *ts: F.stack(ts, axis=axis)  # noqa: E731
    np.testing.assert_allclose(cat(*[mg.tensor(a, device=device) for a in arrays]).numpy(),
                               np.concatenate(arrays, axis=axis))
    np.testing.assert_allclose(stk(*[mg.tensor(a, device=device) for a in arrays]).numpy(),
                               np.stack(arrays, axis=axis))
    for fn in (cat, stk):
        check_grad(fn, arrays, device)
        check_double_grad(fn, arrays, device)


AXIS_OPS = {
    "sum": lambda x, a: x.sum(axis=a), "mean": lambda x, a: x.mean(axis=a), "max": lambda x, a: x.max(axis=a),
    "concat": lambda x, a: F.concat([x, x], axis=a), "stack": lambda x, a: F.stack([x, x], axis=a),
    "flatten": lambda x, a: x.flatten(a), "transpose": lambda x, a: x.transpose(0, a),
}


@pytest.mark.parametrize("name", sorted(AXIS_OPS))
@given(shape=small_shapes, beyond=st.integers(0, 3), negative=st.booleans())
def test_an_axis_out_of_range_is_an_error_not_another_axis(name, shape, beyond, negative):
    """NumPy-style wrapping (axis % ndim) would quietly use another axis; PyTorch raises, and so must we.
    (stack's output has one more axis, so its bounds are one wider.)"""
    x = mg.zeros(*shape)
    extra = name == "stack"
    axis = -(x.ndim + extra) - 1 - beyond if negative else x.ndim + extra + beyond
    with pytest.raises(IndexError, match=rf"{name}: axis {axis} is out of range for a {x.ndim + extra}-d tensor"):
        AXIS_OPS[name](x, axis)


@st.composite
def matmul_case(draw):
    m, k, n = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(st.sampled_from([(), (2,), (2, 1)]))
    a_shape = draw(st.sampled_from([batch + (m, k), (m, k), (k,)]))
    b_shape = draw(st.sampled_from([(k, n), batch[-1:] + (k, n), (k,)]))
    return a_shape, b_shape


@given(case=matmul_case(), seed=seeds)
def test_matmul(device, case, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(case[0]), rng.standard_normal(case[1])
    fn = lambda x, y: x @ y  # noqa: E731
    np.testing.assert_allclose(fn(mg.tensor(a, device=device), mg.tensor(b, device=device)).numpy(), a @ b,
                               rtol=1e-10, atol=1e-12)
    check_grad(fn, [a, b], device)
    check_double_grad(fn, [a, b], device)


@given(n=st.integers(1, 4), fin=st.integers(1, 5), fout=st.integers(1, 4), bias=st.booleans(),
       lead=st.sampled_from([(), (2,)]), seed=seeds)
def test_linear(device, n, fin, fout, bias, lead, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal(lead + (n, fin)), rng.standard_normal((fout, fin)), rng.standard_normal(fout)
    fn = (lambda x_, w_, b_: F.linear(x_, w_, b_)) if bias else (lambda x_, w_: F.linear(x_, w_))
    arrays = [x, w, b] if bias else [x, w]
    expected = x @ w.T + (b if bias else 0)
    np.testing.assert_allclose(fn(*[mg.tensor(a, device=device) for a in arrays]).numpy(), expected, rtol=1e-10)
    check_grad(fn, arrays, device)
    check_double_grad(fn, arrays, device)


def test_embedding(device, rng):
    w = rng.standard_normal((5, 3))
    idx = np.array([[0, 4], [4, 2]])
    fn = lambda w_: F.embedding(mg.tensor(idx, device=device), w_)  # noqa: E731
    np.testing.assert_allclose(fn(mg.tensor(w, device=device)).numpy(), w[idx])
    check_grad(fn, [w], device)
    check_double_grad(fn, [w], device)


@given(cond_seed=seeds, shapes=broadcastable(small_shapes))
def test_where(device, cond_seed, shapes):
    rng = np.random.default_rng(cond_seed)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    cond = rng.random(shapes[0]) > 0.5
    fn = lambda x, y: F.where(mg.tensor(cond, device=device), x, y)  # noqa: E731
    np.testing.assert_allclose(fn(mg.tensor(a, device=device), mg.tensor(b, device=device)).numpy(),
                               np.where(cond, a, b))
    check_grad(fn, [a, b], device)
    check_double_grad(fn, [a, b], device)


LOSSES = {
    "bce_with_logits": (F.binary_cross_entropy_with_logits,
                        lambda x, t: np.logaddexp(0, x) - x * t),
    "mse": (F.mse_loss, lambda x, t: (x - t) ** 2),
    "l1": (F.l1_loss, lambda x, t: np.abs(x - t)),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(shape=small_shapes, seed=seeds)
def test_losses(device, name, reduction, shape, seed):
    fn, ref = LOSSES[name]
    rng = np.random.default_rng(seed)
    x = away_from_kinks(rng, shape) * 3
    t = rng.random(shape) if name == "bce_with_logits" else x + away_from_kinks(rng, shape)
    expected = ref(x, t)
    expected = {"mean": expected.mean(), "sum": expected.sum(), "none": expected}[reduction]
    loss = lambda x_: fn(x_, mg.tensor(t, device=device), reduction=reduction)  # noqa: E731
    np.testing.assert_allclose(loss(mg.tensor(x, device=device)).numpy(), expected, rtol=1e-10)
    check_grad(loss, [x], device)
    check_double_grad(loss, [x], device)


@st.composite
def class_case(draw):
    """Logits (N, C) or one sample's (C,), and class targets in [0, C)."""
    c = draw(st.integers(1, 5))
    n = draw(st.one_of(st.none(), st.integers(1, 4)))
    shape = (c,) if n is None else (n, c)
    targets = draw(hnp.arrays(np.int64, shape[:-1], elements=st.integers(0, c - 1)))
    return shape, targets


def _log_softmax_reference(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@given(case=reduction_case(), seed=seeds, scale=st.sampled_from([1.0, 50.0]))
def test_logsumexp(device, case, seed, scale):
    shape, axis, keepdims = case
    x = np.random.default_rng(seed).standard_normal(shape) * scale  # x 50: exp() alone would overflow float32
    fn = lambda t: F.logsumexp(t, axis, keepdims)  # noqa: E731
    m = x.max(axis=axis, keepdims=True)
    ref = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    ref = ref if keepdims else ref.reshape(np.sum(x, axis=axis).shape)
    np.testing.assert_allclose(fn(mg.tensor(x, device=device)).numpy(), ref, rtol=1e-12)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(shape=small_shapes, data=st.data(), seed=seeds)
def test_softmax_and_log_softmax(device, name, shape, data, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(seed).standard_normal(shape) * 3
    fn = lambda t: getattr(F, name)(t, dim)  # noqa: E731
    ref = _log_softmax_reference(x, dim)
    np.testing.assert_allclose(fn(mg.tensor(x, device=device)).numpy(), np.exp(ref) if name == "softmax" else ref,
                               rtol=1e-10, atol=1e-14)
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(case=class_case(), seed=seeds)
def test_cross_entropy(device, reduction, case, seed):
    shape, targets = case
    x = np.random.default_rng(seed).standard_normal(shape) * 3
    loss = lambda x_: F.cross_entropy(x_, targets, reduction=reduction)  # noqa: E731
    picked = np.take_along_axis(_log_softmax_reference(x, -1), targets[..., None], axis=-1)[..., 0]
    expected = {"mean": -picked.mean(), "sum": -picked.sum(), "none": -picked}[reduction]
    np.testing.assert_allclose(loss(mg.tensor(x, device=device)).numpy(), expected, rtol=1e-10)
    check_grad(loss, [x], device)
    check_double_grad(loss, [x], device)


@given(case=class_case(), seed=seeds)
def test_softmax_and_cross_entropy_match_torch(case, seed):
    torch = pytest.importorskip("torch")
    shape, targets = case
    x = np.random.default_rng(seed).standard_normal(shape) * 20
    ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss, ref = F.cross_entropy(ours, targets), torch.nn.functional.cross_entropy(theirs, torch.tensor(targets))
    np.testing.assert_allclose(loss.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-14)
    loss.backward(), ref.backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(F.softmax(mg.tensor(x), -1).numpy(), torch.softmax(torch.tensor(x), -1).numpy(),
                               rtol=1e-10, atol=1e-15)


@st.composite
def full_cross_entropy_case(draw):
    """Logits (C,), (N, C) or (N, C, d1[, d2]); class-index targets (some ignored) or class probabilities;
    PyTorch's keyword arguments."""
    c = draw(st.integers(1, 4))
    rank = draw(st.integers(1, 4))
    shape = (c,) if rank == 1 else (draw(st.integers(1, 3)), c) + tuple(draw(st.integers(1, 3)) for _ in range(rank - 2))
    kwargs = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    if draw(st.booleans()):
        kwargs["weight"] = draw(hnp.arrays(np.float64, (c,), elements=st.floats(0.1, 2.0)))
    if draw(st.booleans()):
        kwargs["label_smoothing"] = draw(st.sampled_from([0.1, 0.5, 1.0]))
    if draw(st.booleans()):  # class probabilities
        target = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1.0)))
    else:
        tshape = () if rank == 1 else (shape[0],) + shape[2:]
        target = draw(hnp.arrays(np.int64, tshape, elements=st.integers(0, c - 1)))
        if draw(st.booleans()):
            kwargs["ignore_index"] = draw(st.sampled_from([-100, 0]))
            ignored = draw(hnp.arrays(np.bool_, tshape))
            target = np.where(ignored, kwargs["ignore_index"], target)
    return shape, target, kwargs


def _cross_entropy_reference(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """PyTorch's definition, one position at a time: the target made a distribution q (one-hot for a class
    index, mixed with uniform by label_smoothing), loss = -sum_c w_c q_c log p_c; "mean" divides by the
    counted targets' weight (class indices) or by their number (probabilities)."""
    one = x.ndim == 1
    x = x[None] if one else x
    c = x.shape[1]
    log_p = np.moveaxis(_log_softmax_reference(x, 1), 1, -1).reshape(-1, c)
    w = np.ones(c) if weight is None else weight
    soft = target.dtype.kind == "f"
    rows = np.moveaxis(target.reshape(x.shape), 1, -1).reshape(-1, c) if soft else target.reshape(-1)
    losses, total = [], 0.0
    for i in range(len(log_p)):
        if soft:
            q, counted = rows[i], 1.0
        else:
            if rows[i] == ignore_index:
                losses.append(0.0)
                continue
            q, counted = np.eye(c)[rows[i]], w[rows[i]]
        q = (1 - label_smoothing) * q + label_smoothing / c
        losses.append(-(w * q * log_p[i]).sum())
        total += counted
    losses = np.array(losses)
    if reduction == "mean":
        return losses.sum() / total if total else np.nan
    if reduction == "sum":
        return losses.sum()
    return losses.reshape(() if one else (x.shape[0],) + x.shape[2:])


@given(case=full_cross_entropy_case(), seed=seeds)
def test_cross_entropy_weights_ignore_index_smoothing_and_probabilities(device, case, seed):
    shape, target, kwargs = case
    x = np.random.default_rng(seed).standard_normal(shape) * 3
    loss = lambda x_: F.cross_entropy(x_, target, **kwargs)  # noqa: E731
    expected = _cross_entropy_reference(x, target, **kwargs)
    np.testing.assert_allclose(loss(mg.tensor(x, device=device)).numpy(), expected, rtol=1e-10, atol=1e-14)
    if np.all(np.isfinite(expected)):
        check_grad(loss, [x], device)
        check_double_grad(loss, [x], device)


@given(case=full_cross_entropy_case(), seed=seeds)
def test_full_cross_entropy_matches_torch(case, seed):
    torch = pytest.importorskip("torch")
    shape, target, kwargs = case
    x = np.random.default_rng(seed).standard_normal(shape) * 3
    theirs_kwargs = {k: torch.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
    ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss = F.cross_entropy(ours, target, **kwargs)
    ref = torch.nn.functional.cross_entropy(theirs, torch.tensor(target), **theirs_kwargs)
    np.testing.assert_allclose(loss.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-14)
    if np.all(np.isfinite(ref.detach().numpy())):
        gy = np.random.default_rng(seed).standard_normal(ref.shape)
        (ours_g,) = mg.grad(loss, [ours], mg.tensor(gy))
        (theirs_g,) = torch.autograd.grad(ref, [theirs], torch.tensor(gy))
        np.testing.assert_allclose(ours_g.numpy(), theirs_g.numpy(), rtol=1e-10, atol=1e-14)


def test_cross_entropy_options_keep_float32(device):
    x = mg.tensor(np.zeros((2, 3, 2), np.float32), device=device)
    assert F.cross_entropy(x, np.array([[0, -100], [2, 1]]), weight=np.ones(3), label_smoothing=0.1).dtype == np.float32
    assert F.cross_entropy(x, np.full((2, 3, 2), 1 / 3)).dtype == np.float32


def test_logsumexp_of_minus_infinity_and_float32(device):
    x = mg.tensor(np.array([[-np.inf, -np.inf], [1e4, 1e4]], dtype=np.float32), device=device)
    np.testing.assert_allclose(F.logsumexp(x, 1).numpy(), [-np.inf, 1e4 + np.log(2)], rtol=1e-6)
    assert F.log_softmax(x[1:], 1).dtype == np.float32
    assert F.cross_entropy(mg.tensor(np.zeros((2, 3), np.float32), device=device), np.array([0, 2])).dtype == np.float32


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.cross_entropy(mg.zeros(2, 3), np.array([0, 3])), IndexError,
     r"cross_entropy: target holds class 3, outside \[0, 3\) for input of shape \(2, 3\)"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), np.array([-1, 0])), IndexError,
     r"cross_entropy: target holds class -1, .*\(ignore_index is -100\)"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), np.array([0.0, 1.0])), ValueError,
     r"cross_entropy: class-probability target of shape \(2,\) must have the input's shape \(2, 3\)"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), np.array([True, False])), TypeError,
     r"cross_entropy: target must hold integer class indices or float class probabilities, got dtype bool"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), np.array([0, 1, 2])), ValueError,
     r"cross_entropy: target of shape \(3,\) does not fit input of shape \(2, 3\) \(expects \(2,\)\)"),
    (lambda: F.cross_entropy(mg.zeros(2, 3, 4), np.zeros((2, 3), int)), ValueError,
     r"cross_entropy: target of shape \(2, 3\) does not fit input of shape \(2, 3, 4\) \(expects \(2, 4\)\)"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), np.array([0, 1]), weight=np.ones(2)), ValueError,
     r"cross_entropy: weight must be a 1-D array of 3 numbers, one per class of input of shape \(2, 3\)"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), np.array([0, 1]), label_smoothing=1.5), ValueError,
     r"cross_entropy: label_smoothing must be a number in \[0, 1\], got 1.5"),
    (lambda: F.cross_entropy(mg.tensor(1.0), np.array(0)), ValueError, r"cross_entropy: input must be \(C,\)"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), np.array([0, 1]), reduction="max"), ValueError,
     r"cross_entropy: reduction must be one of"),
    (lambda: F.softmax(mg.zeros(2, 3), 2), IndexError, r"logsumexp: axis 2 is out of range"),
])
def test_cross_entropy_and_softmax_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_bce_with_logits_is_stable_for_huge_logits(device):
    x = mg.tensor(np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=np.float32), device=device, requires_grad=True)
    t = mg.tensor(np.array([0.0, 1.0, 1.0, 0.0, 1.0], dtype=np.float32), device=device)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.0, 50.0, np.log(2), 50.0, 0.0], rtol=1e-6)
    loss.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_allclose(x.grad.numpy(), [0.0, -1.0, -0.5, 1.0, 0.0], atol=1e-6)


def test_bce_with_logits_accepts_scalar_and_integer_targets(device):
    x = mg.tensor(np.array([0.5, -0.5], dtype=np.float32), device=device)
    by_scalar = F.binary_cross_entropy_with_logits(x, 1.0)
    by_int = F.binary_cross_entropy_with_logits(x, mg.tensor(np.array([1, 1]), device=device))
    assert by_scalar.dtype == by_int.dtype == np.float32
    np.testing.assert_allclose(by_scalar.numpy(), by_int.numpy())
