"""Comparisons with PyTorch that several test files make: input gradients for the same output gradient,
layers' reprs and state dicts, and a gradient penalty (R1) through a small critic. Each takes the
``torch`` module that the test imported (the tests skip themselves where PyTorch is not installed)."""
import numpy as np

import minigan as mg
from minigan import nn


def assert_input_grad_matches_torch(torch, ours, xt, y, yt, dtype, device, seed, **tol):
    """The gradients of minigan's ``y`` with respect to its input ``ours`` and of PyTorch's ``yt`` with
    respect to ``xt``, for the same output gradient (normals seeded ``seed``, as ``dtype``): the input's
    dtype, and equal within ``tol`` (``np.testing.assert_allclose``'s rtol and atol)."""
    gy = np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)
    (gxt,) = torch.autograd.grad(yt, [xt], torch.tensor(gy))
    (gx,) = mg.grad(y, [ours], mg.tensor(gy, device=device))
    assert gx.dtype == dtype
    np.testing.assert_allclose(gx.numpy(), gxt.numpy(), **tol)


def assert_repr_matches_torch(torch, layer, kwargs):
    """``layer(**kwargs)`` and PyTorch's layer of the same name and arguments print the same, alone and
    inside a Sequential."""
    theirs = getattr(torch.nn, layer.__name__)(**kwargs)
    assert repr(layer(**kwargs)) == repr(theirs)
    assert repr(nn.Sequential(layer(**kwargs))) == repr(torch.nn.Sequential(theirs))


def assert_reprs_and_state_dicts_match(layers, torch_layers, values=False):
    """Each of ``layers`` and its PyTorch counterpart: the same repr and state-dict keys in the same order,
    each entry of the same shape and dtype (``values``: and the same values)."""
    for ours, theirs in zip(layers, torch_layers):
        assert repr(ours) == repr(theirs)
        mine, ref = ours.state_dict(), theirs.state_dict()
        assert list(mine) == list(ref), repr(ours)
        for key in mine:
            assert mine[key].shape == tuple(ref[key].shape) and mine[key].dtype == ref[key].numpy().dtype, key
            if values:
                np.testing.assert_array_equal(mine[key], ref[key].numpy(), err_msg=key)


def float64_twins(torch, build, rng):
    """(ours, theirs): ``build(nn)`` and ``build(torch.nn)`` in float64 with the same parameters, PyTorch's
    moved from where they start by normals * 0.3 drawn from ``rng`` (norm weights and biases away from
    ones and zeros, so that their role is checked), then loaded into ours."""
    theirs = build(torch.nn).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.3))
    ours = build(nn).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def assert_penalty_gradients_match(torch, ours, theirs, x, input_tol, param_tol):
    """R1 at ``x`` through the twin critics ``ours`` and ``theirs``: the input gradient of the critic's
    sum within ``input_tol``, then the gradient of its squared norm for every parameter within
    ``param_tol`` (which needs each op's second derivative), or no gradient in either."""
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gm, = mg.grad(ours(xm).sum(), [xm], create_graph=True)
    gt, = torch.autograd.grad(theirs(xt).sum(), [xt], create_graph=True)
    np.testing.assert_allclose(gm.numpy(), gt.detach().numpy(), **input_tol)
    (gm * gm).sum().backward()
    (gt * gt).sum().backward()
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        # the penalty does not depend on additive terms past the last non-linearity: no gradient in either
        assert (p.grad is None) == (named[name].grad is None), name
        if p.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), named[name].grad.numpy(), err_msg=name, **param_tol)


def assert_matches_torch_to_second_order(torch, op, torch_op, arrays, device, seed, **tol):
    """``op`` on minigan tensors of ``arrays`` and ``torch_op`` on torch tensors of them: equal values,
    gradients for the same output gradient, and gradients of <gradients, v> for random v (normals seeded
    ``seed``), within ``tol``. An input whose second-order gradient torch finds unused (a bias, on which
    no gradient depends) must get none or zeros."""
    ours = [mg.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = op(*ours), torch_op(*theirs)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    rng = np.random.default_rng(seed)
    gy = rng.standard_normal(y.shape)
    grads = mg.grad(y, ours, mg.tensor(gy, device=device), create_graph=True)
    expected = torch.autograd.grad(yt, theirs, torch.tensor(gy), create_graph=True)
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g.numpy(), e.detach().numpy(), **tol)
    vs = [rng.standard_normal(a.shape) for a in arrays]
    # <grads, v> is linear in each input when the gradients are bilinear, so its gradient is not trivially 0
    inner = sum((g * mg.tensor(v, device=device)).sum() for g, v in zip(grads, vs))
    inner_t = sum((e * torch.tensor(v)).sum() for e, v in zip(expected, vs))
    second = mg.grad(inner, ours, allow_unused=True)
    second_t = torch.autograd.grad(inner_t, theirs, allow_unused=True)
    for g, e in zip(second, second_t):
        if e is None:
            assert g is None or not np.any(g.numpy())
        else:
            np.testing.assert_allclose(g.numpy(), e.numpy(), **tol)
