"""batch_norm: forward against the NumPy formula, gradients (first and second order in both modes),
running statistics, errors, the registry kernels, and PyTorch when it is installed."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import kernels
from gradcheck import check_double_grad, check_grad, check_third_order
from layouts import channels_last, is_channels_last


def reference_batch_norm(x, mean, var, weight, bias, eps):
    """The textbook formula on NumPy arrays, per channel (axis 1)."""
    bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + eps)
    if weight is not None:
        y = y * weight.reshape(bshape)
    if bias is not None:
        y = y + bias.reshape(bshape)
    return y


def batch_axes(x):
    return (0,) + tuple(range(2, x.ndim))


shapes = st.integers(2, 4).flatmap(lambda nd: st.tuples(
    st.integers(2, 3), st.integers(1, 3), *[st.integers(1, 3) for _ in range(nd - 2)]))


def _tensor(a, device, requires_grad=False):
    return None if a is None else mg.tensor(a, device=device, requires_grad=requires_grad)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_forward_matches_formula(device, rng, shape, affine, dtype):
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    w = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    b = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    y = F.batch_norm(_tensor(x, device), None, None, _tensor(w, device), _tensor(b, device), training=True, eps=1e-3)
    assert y.dtype == dtype and y.shape == shape
    axes = batch_axes(x)
    want = reference_batch_norm(x, x.mean(axes), x.var(axes), w, b, 1e-3)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.numpy(), want, rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_eval_forward_uses_running_stats(device, rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    mean = rng.standard_normal(3).astype(np.float32)
    var = rng.uniform(0.5, 2, 3).astype(np.float32)
    w, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    rm, rv = mg.tensor(mean, device=device), mg.tensor(var, device=device)
    y = F.batch_norm(mg.tensor(x, device=device), rm, rv, mg.tensor(w, device=device), mg.tensor(b, device=device))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), reference_batch_norm(x, mean, var, w, b, 1e-5), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(rm.numpy(), mean)  # eval mode leaves the running stats alone
    np.testing.assert_array_equal(rv.numpy(), var)


def test_eval_without_running_stats_uses_batch_stats(device, rng):
    x = rng.standard_normal((5, 2, 3))
    y = F.batch_norm(mg.tensor(x, device=device), None, None, training=False)
    np.testing.assert_allclose(y.numpy(), reference_batch_norm(x, x.mean((0, 2)), x.var((0, 2)), None, None, 1e-5),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 2, 2)])
def test_running_stats_follow_momentum_over_steps(device, rng, shape):
    momentum = 0.3
    rm = mg.zeros(3, device=device)
    rv = mg.ones(3, device=device)
    want_mean, want_var = np.zeros(3), np.ones(3)
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        F.batch_norm(mg.tensor(x, device=device), rm, rv, training=True, momentum=momentum)
        axes = batch_axes(x)
        x64 = x.astype(np.float64)
        want_mean = (1 - momentum) * want_mean + momentum * x64.mean(axes)
        want_var = (1 - momentum) * want_var + momentum * x64.var(axes, ddof=1)
        assert rm.dtype == np.float32 and rv.dtype == np.float32
        np.testing.assert_allclose(rm.numpy(), want_mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rv.numpy(), want_var, rtol=1e-5, atol=1e-6)


affines = st.sampled_from(["both", "weight", "bias", "none"])


def training_case(shape, affine, seed):
    """Float64 arrays (x, and the weight and/or bias that ``affine`` names) and batch_norm over them."""
    rng = np.random.default_rng(seed)
    c = shape[1]
    arrays = [rng.standard_normal(shape)]
    if affine in ("both", "weight"):
        arrays.append(rng.standard_normal(c))
    if affine in ("both", "bias"):
        arrays.append(rng.standard_normal(c))

    def fn(x, *ab):
        w = ab[0] if affine in ("both", "weight") else None
        b = ab[-1] if affine in ("both", "bias") else None
        return F.batch_norm(x, None, None, w, b, training=True, eps=1e-3)

    return arrays, fn


@given(shape=shapes, affine=affines, seed=st.integers(0, 2 ** 16))
def test_training_gradients(shape, affine, seed):
    arrays, fn = training_case(shape, affine, seed)
    check_grad(fn, arrays, "cpu")


def test_training_gradients_with_running_stats(device, rng):
    rm, rv = mg.zeros(3, dtype=np.float64, device=device), mg.ones(3, dtype=np.float64, device=device)
    check_grad(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True),
               [rng.standard_normal((3, 3, 2, 2)), rng.standard_normal(3), rng.standard_normal(3)], device)


@given(shape=shapes, affine=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_eval_gradients_first_and_second_order(shape, affine, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    rm = mg.tensor(rng.standard_normal(c))
    rv = mg.tensor(rng.uniform(0.5, 2, c))
    arrays = [rng.standard_normal(shape)] + ([rng.standard_normal(c), rng.standard_normal(c)] if affine else [])

    def fn(x, *wb):
        y = F.batch_norm(x, rm, rv, *wb, training=False)
        return y * y  # a non-linearity after, so the second derivative has something to check

    check_grad(fn, arrays, "cpu")
    check_double_grad(fn, arrays, "cpu")


def test_eval_double_backward_on_device(device, rng):
    rm = mg.tensor(rng.standard_normal(2), device=device)
    rv = mg.tensor(rng.uniform(0.5, 2, 2), device=device)
    check_double_grad(lambda x, w, b: F.tanh(F.batch_norm(x, rm, rv, w, b)),
                      [rng.standard_normal((3, 2, 2)), rng.standard_normal(2), rng.standard_normal(2)], device)


@given(shape=shapes, affine=affines, seed=st.integers(0, 2 ** 16))
def test_training_second_order(shape, affine, seed):
    arrays, fn = training_case(shape, affine, seed)
    # tanh after: a penalty on the input gradient of a critic with batch norm, as in WGAN-GP; and without
    # it, where the gradient reaching batch norm is the constant upstream one
    check_double_grad(lambda *xs: F.tanh(fn(*xs)), arrays, "cpu")
    check_double_grad(fn, arrays, "cpu")


def test_channels_last_input_gives_the_same_result_and_layout(device, rng):
    """A convolution's output (laid out channels-last) is normalised as its pixel rows (N H W, C): the
    same values and running statistics as from a C-contiguous input, handed on channels-last."""
    x = (rng.standard_normal((4, 3, 5, 6)) * 3 + 1).astype(np.float32)
    w, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    outs, stats = [], []
    for lay_out in (lambda t: t, channels_last):
        rm, rv = mg.zeros(3, device=device), mg.ones(3, device=device)
        outs.append(F.batch_norm(lay_out(_tensor(x, device)), rm, rv, _tensor(w, device), _tensor(b, device),
                                 training=True))
        stats.append((rm.numpy(), rv.numpy()))
    assert is_channels_last(outs[1].data) and not outs[1].data.flags.c_contiguous
    np.testing.assert_allclose(outs[1].numpy(), outs[0].numpy(), rtol=1e-5, atol=1e-5)
    for a, e in zip(stats[1], stats[0]):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


channels_last_shapes = st.tuples(st.integers(1, 3), st.integers(2, 3), st.integers(1, 3), st.integers(2, 3))


@given(shape=channels_last_shapes, affine=affines, seed=st.integers(0, 2 ** 16))
def test_channels_last_first_and_second_order(shape, affine, seed):
    arrays, fn = training_case(shape, affine, seed)
    check_grad(lambda x, *ab: fn(channels_last(x), *ab), arrays, "cpu")
    check_double_grad(lambda x, *ab: F.tanh(fn(channels_last(x), *ab)), arrays, "cpu")


def test_training_double_backward_on_device(device, rng):
    rm, rv = mg.zeros(2, dtype=np.float64, device=device), mg.ones(2, dtype=np.float64, device=device)
    check_double_grad(lambda x, w, b: F.tanh(F.batch_norm(x, rm, rv, w, b, training=True)),
                      [rng.standard_normal((3, 2, 2)), rng.standard_normal(2), rng.standard_normal(2)], device)


def test_training_third_order(rng):
    """With create_graph the second derivative is itself differentiable: d/dw of (d/dx)^2 stays exact."""
    check_third_order(lambda x, w: F.tanh(F.batch_norm(x, None, None, w, None, training=True)),
                      rng.standard_normal((4, 2, 3)), rng.standard_normal(2))


def test_gradient_penalty_through_training_batch_norm_matches_torch(rng):
    """R1 on a critic with batch norm: the parameters' gradients of the penalty, against PyTorch."""
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((5, 3, 4)), rng.standard_normal(3), rng.standard_normal(3)
    xs = [mg.tensor(a, requires_grad=True) for a in (x, w, b)]
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    gx, = mg.grad(F.tanh(F.batch_norm(xs[0], None, None, xs[1], xs[2], training=True)).sum(), [xs[0]],
                  create_graph=True)
    (gx * gx).sum().backward()
    tgx, = torch.autograd.grad(torch.tanh(torch.nn.functional.batch_norm(ts[0], None, None, ts[1], ts[2],
                                                                         training=True)).sum(),
                               [ts[0]], create_graph=True)
    (tgx * tgx).sum().backward()
    for a, t in zip(xs, ts):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_first_order_backward_builds_no_graph(rng):
    x = mg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    F.batch_norm(x, None, None, training=True).sum().backward()
    assert x.grad.creator is None and not x.grad.requires_grad


def test_errors_name_the_op_and_shapes(rng):
    x = mg.tensor(rng.standard_normal((4, 3, 2)).astype(np.float32))
    with pytest.raises(ValueError, match=r"batch_norm: running_mean of shape \(2,\).*\(4, 3, 2\)"):
        F.batch_norm(x, mg.zeros(2), mg.ones(2), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: weight of shape \(4,\).*\(4, 3, 2\)"):
        F.batch_norm(x, None, None, mg.ones(4), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: bias dtype float64"):
        F.batch_norm(x, None, None, None, mg.zeros(3, dtype=np.float64), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel.*\(1, 3\)"):
        F.batch_norm(mg.ones(1, 3), mg.zeros(3), mg.ones(3), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: input must be \(N, C, \*\), got shape \(3,\)"):
        F.batch_norm(mg.ones(3), None, None)
    with pytest.raises(ValueError, match="both be given"):
        F.batch_norm(x, mg.zeros(3), None)
    with pytest.raises(TypeError, match="running_var must be a Tensor"):
        F.batch_norm(x, mg.zeros(3), np.ones(3, dtype=np.float32))
    # one value per channel is fine in eval mode, as in PyTorch
    assert F.batch_norm(mg.ones(1, 3), mg.zeros(3), mg.ones(3)).shape == (1, 3)


@pytest.mark.parametrize("name", [n for p, d, n in kernels.implementations("batch_norm_forward", "cpu")])
def test_registered_kernels_match_the_formula(rng, name):
    x = rng.standard_normal((3, 4, 5)).astype(np.float32) * 2 + 1
    gamma, beta = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    y, mean, invstd = kernels.get("batch_norm_forward", np, name=name)(x, gamma, beta, 1e-5)
    x64 = x.astype(np.float64)
    assert y.dtype == mean.dtype == invstd.dtype == np.float32
    np.testing.assert_allclose(mean, x64.mean((0, 2)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(invstd, 1 / np.sqrt(x64.var((0, 2)) + 1e-5), rtol=1e-5)
    np.testing.assert_allclose(y, reference_batch_norm(x64, x64.mean((0, 2)), x64.var((0, 2)), gamma, beta, 1e-5),
                               rtol=1e-4, atol=1e-5)
    gy = rng.standard_normal(x.shape).astype(np.float32)
    backward = kernels.get("batch_norm_backward", np, name=name)
    gx, ggamma, gbeta = backward(gy, x, mean, invstd, gamma)
    # The adjoint identity: <gx, dx> equals the directional derivative of <gy, y> along dx.
    dx = rng.standard_normal(x.shape)

    def loss(x_):
        return (gy * reference_batch_norm(x_, x_.mean((0, 2)), x_.var((0, 2)), gamma, beta, 1e-5)).sum()

    numeric = (loss(x64 + 1e-6 * dx) - loss(x64 - 1e-6 * dx)) / 2e-6
    np.testing.assert_allclose((gx * dx).sum(), numeric, rtol=1e-3)
    xhat = (x64 - x64.mean((0, 2))[:, None]) / np.sqrt(x64.var((0, 2))[:, None] + 1e-5)
    np.testing.assert_allclose(ggamma, (gy * xhat).sum((0, 2)), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gbeta, gy.sum((0, 2)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_matches_torch(device, rng, shape):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape).astype(np.float32) * 2 + 0.5
    w, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    gy = rng.standard_normal(shape).astype(np.float32)
    rm, rv = mg.zeros(3, device=device), mg.ones(3, device=device)
    trm, trv = torch.zeros(3), torch.ones(3)
    for training in (True, True, False):
        xs = [mg.tensor(a, device=device, requires_grad=True) for a in (x, w, b)]
        ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = F.batch_norm(xs[0], rm, rv, xs[1], xs[2], training=training, momentum=0.2)
        yt = torch.nn.functional.batch_norm(ts[0], trm, trv, ts[1], ts[2], training=training, momentum=0.2)
        (y * mg.tensor(gy, device=device)).sum().backward()
        (yt * torch.tensor(gy)).sum().backward()
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-5, atol=1e-6)
        for a, t in zip(xs, ts):
            np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)
