"""layer_norm, group_norm, instance_norm and their layers: forward against NumPy references written from
the definitions, gradients (first and second order, weight and bias included), per-sample independence,
dtypes, errors, and PyTorch (values, gradients, a gradient penalty, reprs, state dicts) when installed."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad


# -- references: the definitions, on NumPy arrays, one sample (and group) at a time ------------------

def reference_layer_norm(x, k, weight, bias, eps):
    """Each sample x[i] (the trailing k axes) standardised by its own mean and biased variance."""
    rows = x.reshape((-1,) + x.shape[x.ndim - k:])
    y = np.stack([(r - r.mean()) / np.sqrt(r.var() + eps) for r in rows]).reshape(x.shape)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def reference_group_norm(x, groups, weight, bias, eps):
    """For each sample n and group g: channels g*C/G .. (g+1)*C/G - 1, all positions, standardised."""
    n, c = x.shape[:2]
    size = c // groups
    y = np.empty_like(x)
    for i in range(n):
        for g in range(groups):
            block = x[i, g * size:(g + 1) * size]
            y[i, g * size:(g + 1) * size] = (block - block.mean()) / np.sqrt(block.var() + eps)
    per_channel = (c,) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(per_channel)
    if bias is not None:
        y = y + bias.reshape(per_channel)
    return y


def _t(a, device, requires_grad=False):
    return None if a is None else mg.tensor(a, device=device, requires_grad=requires_grad)


def _affine_arrays(rng, shape, affine):
    w = rng.standard_normal(shape) if affine in ("both", "weight") else None
    b = rng.standard_normal(shape) if affine in ("both", "bias") else None
    return w, b


affines = st.sampled_from(["both", "weight", "bias", "none"])

# (N, C, *spatial) with C a multiple of the group count: (batch, groups, channels per group, spatial)
group_cases = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
                        st.lists(st.integers(1, 3), min_size=0, max_size=2))


def group_shape(case):
    n, groups, per_group, spatial = case
    return (n, groups * per_group) + tuple(spatial), groups


# -- forward against the references ---------------------------------------------------------------

@given(lead=st.lists(st.integers(1, 3), min_size=0, max_size=2),
       normalized=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       affine=affines, as_int=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_layer_norm_matches_reference(device, lead, normalized, affine, as_int, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(lead) + tuple(normalized)) * 3 + 2
    w, b = _affine_arrays(rng, tuple(normalized), affine)
    shape_arg = normalized[0] if as_int and len(normalized) == 1 else list(normalized)
    y = F.layer_norm(_t(x, device), shape_arg, _t(w, device), _t(b, device), eps=1e-3)
    assert y.shape == x.shape and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), reference_layer_norm(x, len(normalized), w, b, 1e-3), rtol=1e-10, atol=1e-12)


@given(case=group_cases, affine=affines, seed=st.integers(0, 2 ** 16))
def test_group_norm_matches_reference(device, case, affine, seed):
    rng = np.random.default_rng(seed)
    shape, groups = group_shape(case)
    x = rng.standard_normal(shape) * 3 + 2
    w, b = _affine_arrays(rng, (shape[1],), affine)
    y = F.group_norm(_t(x, device), groups, _t(w, device), _t(b, device), eps=1e-3)
    assert y.shape == x.shape and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), reference_group_norm(x, groups, w, b, 1e-3), rtol=1e-10, atol=1e-12)


@given(n=st.integers(1, 3), c=st.integers(1, 4), spatial=st.lists(st.integers(2, 4), min_size=1, max_size=2),
       affine=affines, seed=st.integers(0, 2 ** 16))
def test_instance_norm_matches_reference(device, n, c, spatial, affine, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c) + tuple(spatial)) * 3 + 2
    w, b = _affine_arrays(rng, (c,), affine)
    y = F.instance_norm(_t(x, device), weight=_t(w, device), bias=_t(b, device), eps=1e-3)
    # instance norm is group norm with one channel per group
    np.testing.assert_allclose(y.numpy(), reference_group_norm(x, c, w, b, 1e-3), rtol=1e-10, atol=1e-12)


def test_constant_input_gives_zeros_not_nan(device):
    # Variance 0: eps keeps the division finite, and x - mean is exactly 0.
    x = mg.full((2, 4, 3), 7.0, device=device)
    for y in (F.layer_norm(x, (4, 3)), F.group_norm(x, 2), F.instance_norm(x)):
        np.testing.assert_array_equal(y.numpy(), 0)


# -- float32 stays float32 ----------------------------------------------------------------------------

def test_float32_stays_float32_forward_and_backward(device, rng):
    x = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    w, b = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    lw, lb = rng.standard_normal((3, 3)).astype(np.float32), rng.standard_normal((3, 3)).astype(np.float32)
    cases = [
        lambda x, w, b, lw, lb: F.layer_norm(x, (3, 3), lw, lb, eps=1e-5),
        lambda x, w, b, lw, lb: F.group_norm(x, 2, w, b, eps=1e-5),
        lambda x, w, b, lw, lb: F.instance_norm(x, weight=w, bias=b, eps=1e-5),
    ]
    for fn in cases:
        ts = [_t(a, device, requires_grad=True) for a in (x, w, b, lw, lb)]
        y = fn(*ts)
        assert y.dtype == np.float32
        gx, = mg.grad((y * y).sum(), [ts[0]], create_graph=True)
        assert gx.dtype == np.float32
        (gx * gx).sum().backward()
        for t in ts:
            assert t.grad is None or t.grad.dtype == np.float32


# -- gradients: float64, first and second order, weight and bias included ------------------------------

def _layer_norm_case(shape, k, affine, seed):
    rng = np.random.default_rng(seed)
    normalized = shape[len(shape) - k:]
    w, b = _affine_arrays(rng, normalized, affine)
    arrays = [rng.standard_normal(shape)] + [a for a in (w, b) if a is not None]

    def fn(x, *ab):
        weight = ab[0] if w is not None else None
        bias = ab[-1] if b is not None else None
        return F.layer_norm(x, normalized, weight, bias, eps=1e-3)

    return arrays, fn


def _group_norm_case(shape, groups, affine, seed, instance=False):
    rng = np.random.default_rng(seed)
    w, b = _affine_arrays(rng, (shape[1],), affine)
    arrays = [rng.standard_normal(shape)] + [a for a in (w, b) if a is not None]

    def fn(x, *ab):
        weight = ab[0] if w is not None else None
        bias = ab[-1] if b is not None else None
        if instance:
            return F.instance_norm(x, weight=weight, bias=bias, eps=1e-3)
        return F.group_norm(x, groups, weight, bias, eps=1e-3)

    return arrays, fn


# leading and normalised axes of size 1 or 2, then a last axis of 3; k = 1 or 2 trailing axes normalised
small_layer_cases = st.tuples(st.lists(st.integers(1, 2), min_size=1, max_size=3), st.integers(1, 2))
small_group_cases = st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 2),
                              st.lists(st.integers(1, 2), min_size=0, max_size=2))


@given(case=small_layer_cases, affine=affines, seed=st.integers(0, 2 ** 16))
def test_layer_norm_gradients(case, affine, seed):
    shape, k = case
    arrays, fn = _layer_norm_case(tuple(shape) + (3,), k, affine, seed)
    check_grad(fn, arrays)


@given(case=small_group_cases, affine=affines, seed=st.integers(0, 2 ** 16))
def test_group_norm_gradients(case, affine, seed):
    shape, groups = group_shape(case)
    arrays, fn = _group_norm_case(shape + (2,), groups, affine, seed)
    check_grad(fn, arrays)


@pytest.mark.parametrize("op", ["layer", "group", "instance"])
@pytest.mark.parametrize("affine", ["both", "none"])
@pytest.mark.parametrize("then_tanh", [True, False])
def test_second_order(op, affine, then_tanh):
    """Double backward, as a gradient penalty needs: with tanh after (a critic's non-linearity) and
    without (the gradient reaching the norm is then the constant upstream one)."""
    if op == "layer":
        arrays, fn = _layer_norm_case((2, 2, 3), 2, affine, seed=1)
    else:
        arrays, fn = _group_norm_case((2, 4, 3), 2, affine, seed=1, instance=op == "instance")
    check_double_grad((lambda *xs: F.tanh(fn(*xs))) if then_tanh else fn, arrays)


def test_gradients_on_device(device, rng):
    layer = lambda x, w, b: F.tanh(F.layer_norm(x, (2, 3), w, b))
    group = lambda x, w, b: F.tanh(F.group_norm(x, 2, w, b))
    check_double_grad(layer, [rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))],
                      device)
    check_double_grad(group, [rng.standard_normal((2, 4, 2)), rng.standard_normal(4), rng.standard_normal(4)], device)


# -- each sample alone ------------------------------------------------------------------------------

def per_sample_ops():
    return {
        "layer_norm": lambda x: F.layer_norm(x, x.shape[1:]),
        "group_norm": lambda x: F.group_norm(x, 2),
        "instance_norm": lambda x: F.instance_norm(x),
        "GroupNorm(1, 4)": nn.GroupNorm(1, 4),
        "InstanceNorm2d": nn.InstanceNorm2d(4, affine=True),
    }


@pytest.mark.parametrize("name", list(per_sample_ops()))
def test_each_sample_depends_only_on_itself(device, rng, name):
    op = per_sample_ops()[name]
    if isinstance(op, nn.Module):
        op.to(device)
    x = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    changed = x.copy()
    changed[2] = rng.standard_normal(x.shape[1:]) * 10 + 4  # not an affine map of x[2], which the norms undo
    y, y_changed = op(_t(x, device)).numpy(), op(_t(changed, device)).numpy()
    np.testing.assert_allclose(np.delete(y_changed, 2, axis=0), np.delete(y, 2, axis=0), rtol=1e-6, atol=1e-7)
    assert not np.allclose(y_changed[2], y[2])
    # and in the gradient: sample 2's output has a zero Jacobian block for every other sample
    xt = _t(x, device, requires_grad=True)
    gy = _t(rng.standard_normal((1,) + x.shape[1:]).astype(np.float32), device)
    g, = mg.grad((op(xt)[2:3] * gy).sum(), [xt])
    g = g.numpy()
    assert not np.any(np.delete(g, 2, axis=0)) and np.any(g[2])


def test_the_independence_check_catches_batch_norm(rng):
    """The test above would notice mixing: training-mode batch norm fails it."""
    x = rng.standard_normal((5, 4, 3)).astype(np.float32)
    changed = x.copy()
    changed[2] += 1
    y, y_changed = (F.batch_norm(mg.tensor(a), None, None, training=True).numpy() for a in (x, changed))
    assert not np.allclose(y_changed[0], y[0])


# -- errors ---------------------------------------------------------------------------------------

def test_functional_errors_name_the_op_argument_and_shapes():
    x = mg.zeros(2, 6, 4)
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(3,\) does not match the trailing dimensions "
                                         r"of input of shape \(2, 6, 4\) \(expects input of shape \(\*, 3\)\)"):
        F.layer_norm(x, 3)
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(1, 2, 6, 4\) .* shape \(2, 6, 4\)"):
        F.layer_norm(x, (1, 2, 6, 4))
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape must have at least one dimension"):
        F.layer_norm(x, ())
    with pytest.raises(ValueError, match=r"layer_norm: weight of shape \(4,\) does not fit input of shape "
                                         r"\(2, 6, 4\) \(expects \(6, 4\)\)"):
        F.layer_norm(x, (6, 4), mg.ones(4))
    with pytest.raises(ValueError, match=r"layer_norm: bias dtype float64 differs from input dtype float32"):
        F.layer_norm(x, 4, None, mg.zeros(4, dtype=np.float64))
    with pytest.raises(ValueError, match=r"group_norm: the 6 channels of input of shape \(2, 6, 4\) are not "
                                         r"divisible by num_groups=4"):
        F.group_norm(x, 4)
    with pytest.raises(ValueError, match=r"group_norm: input must be \(N, C, \*\), got shape \(6,\)"):
        F.group_norm(mg.zeros(6), 2)
    with pytest.raises(ValueError, match=r"group_norm: weight of shape \(3,\) does not fit input of shape "
                                         r"\(2, 6, 4\) \(expects \(6,\)\)"):
        F.group_norm(x, 3, mg.ones(3))
    with pytest.raises(ValueError, match=r"instance_norm: input must be \(N, C, \*\) with more than 1 spatial "
                                         r"element per channel, got shape \(2, 6\)"):
        F.instance_norm(mg.zeros(2, 6))
    with pytest.raises(ValueError, match=r"instance_norm: .*got shape \(2, 6, 1\)"):
        F.instance_norm(mg.zeros(2, 6, 1))
    with pytest.raises(ValueError, match=r"instance_norm: bias of shape \(4,\) does not fit input of shape "
                                         r"\(2, 6, 4\) \(expects \(6,\)\)"):
        F.instance_norm(x, bias=mg.zeros(4))
    with pytest.raises(TypeError, match=r"group_norm: input must be floating point, got dtype int64"):
        F.group_norm(mg.tensor(np.zeros((2, 2, 2), dtype=np.int64)), 1)
    # PyTorch's positional running_mean, running_var are refused, not taken for weight and bias
    with pytest.raises(TypeError, match="positional"):
        F.instance_norm(x, mg.zeros(6), mg.ones(6))


def test_layer_errors_name_the_layer_argument_and_shapes():
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels=6 is not divisible by num_groups=4"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"GroupNorm: expected input \(N, 6, \*\) for num_channels=6, got shape "
                                         r"\(2, 4, 3\)"):
        nn.GroupNorm(2, 6, affine=False)(mg.zeros(2, 4, 3))
    with pytest.raises(ValueError, match=r"GroupNorm: expected input \(N, 6, \*\) .* got shape \(6,\)"):
        nn.GroupNorm(2, 6)(mg.zeros(6))
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(5,\) .* input of shape \(2, 4\)"):
        nn.LayerNorm(5)(mg.zeros(2, 4))
    with pytest.raises(NotImplementedError, match=r"InstanceNorm2d: track_running_stats=True is not supported"):
        nn.InstanceNorm2d(3, track_running_stats=True)
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected input \(N, C, H, W\) or \(C, H, W\), got shape "
                                         r"\(2, 3\)"):
        nn.InstanceNorm2d(3)(mg.zeros(2, 3))
    with pytest.raises(ValueError, match=r"InstanceNorm2d: input of shape \(2, 4, 3, 3\) has 4 channels but "
                                         r"num_features=3"):
        nn.InstanceNorm2d(3, affine=True)(mg.zeros(2, 4, 3, 3))
    # without affine parameters num_features is unused: a warning, as in PyTorch
    with pytest.warns(UserWarning, match=r"InstanceNorm2d: input of shape \(4, 3, 3\) has 4 channels"):
        nn.InstanceNorm2d(3)(mg.zeros(4, 3, 3))


# -- layers ---------------------------------------------------------------------------------------

def test_layers_initialise_and_run_as_the_functions(device, rng):
    x = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    layers = [(nn.LayerNorm((3, 3), device=device), lambda x, m: F.layer_norm(x, (3, 3), m.weight, m.bias)),
              (nn.GroupNorm(2, 4, device=device), lambda x, m: F.group_norm(x, 2, m.weight, m.bias)),
              (nn.InstanceNorm2d(4, affine=True, device=device),
               lambda x, m: F.instance_norm(x, weight=m.weight, bias=m.bias))]
    for layer, fn in layers:
        assert layer.weight.device == layer.bias.device == device and layer.weight.dtype == np.float32
        np.testing.assert_array_equal(layer.weight.numpy(), 1)
        np.testing.assert_array_equal(layer.bias.numpy(), 0)
        layer.weight.data[...] = 3
        layer.reset_parameters()
        np.testing.assert_array_equal(layer.weight.numpy(), 1)
        xt = _t(x, device)
        np.testing.assert_array_equal(layer(xt).numpy(), fn(xt, layer).numpy())
    ln = nn.LayerNorm(3, dtype=np.float64)
    assert ln.weight.dtype == ln.bias.dtype == np.float64 and ln.normalized_shape == (3,)
    assert nn.LayerNorm(3, elementwise_affine=False).weight is None and nn.LayerNorm(3, bias=False).bias is None
    assert nn.GroupNorm(1, 3, affine=False).weight is None and nn.GroupNorm(1, 3, bias=False).bias is None
    instance = nn.InstanceNorm2d(3)
    assert instance.weight is None and instance.running_mean is None and not list(instance.parameters())
    # unbatched (C, H, W) is a batch of one, as in PyTorch
    np.testing.assert_allclose(instance(mg.tensor(x[0, :3])).numpy(), instance(mg.tensor(x[:1, :3])).numpy()[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        instance.eval()(mg.tensor(x[:, :3]))  # eval mode: the same per-sample statistics, no warning


def every_new_layer(m):
    return [m.LayerNorm(10), m.LayerNorm([3, 4], eps=1e-3, elementwise_affine=False), m.LayerNorm(5, bias=False),
            m.GroupNorm(2, 4), m.GroupNorm(3, 6, eps=1e-3, affine=False), m.GroupNorm(1, 4, bias=False),
            m.InstanceNorm2d(3), m.InstanceNorm2d(3, affine=True, momentum=0.2),
            m.InstanceNorm2d(3, affine=True, bias=False),
            m.Sequential(m.Conv2d(3, 4, 3), m.GroupNorm(2, 4), m.Flatten(), m.LayerNorm(16))]


def test_reprs_and_state_dicts_match_torch():
    # bias= in GroupNorm's and InstanceNorm2d's signatures and reprs is PyTorch 2.13's
    torch = pytest.importorskip("torch", minversion="2.13")
    for ours, theirs in zip(every_new_layer(nn), every_new_layer(torch.nn)):
        assert repr(ours) == repr(theirs)
        mine, ref = ours.state_dict(), theirs.state_dict()
        assert list(mine) == list(ref), repr(ours)
        for key in mine:
            assert mine[key].shape == tuple(ref[key].shape) and mine[key].dtype == ref[key].numpy().dtype, key


def torch_cases(functional):
    """(call, input shape, weight and bias shape), written once for minigan's and PyTorch's functional."""
    return [
        (lambda x, w, b: functional.layer_norm(x, (3, 4), w, b), (2, 5, 3, 4), (3, 4)),
        (lambda x, w, b: functional.layer_norm(x, (4,), w, b), (3, 4), (4,)),
        (lambda x, w, b: functional.group_norm(x, 3, w, b), (2, 6, 3, 2), (6,)),
        (lambda x, w, b: functional.group_norm(x, 1, w, b), (3, 4), (4,)),
        (lambda x, w, b: functional.instance_norm(x, weight=w, bias=b), (2, 3, 4, 5), (3,)),
    ]


def test_matches_torch_values_and_gradients(device, rng):
    torch = pytest.importorskip("torch")
    for (ours, x_shape, p_shape), (theirs, _, _) in zip(torch_cases(F), torch_cases(torch.nn.functional)):
        arrays = [(rng.standard_normal(s) * 2 + 0.5).astype(np.float32) for s in (x_shape, p_shape, p_shape)]
        gy = rng.standard_normal(x_shape).astype(np.float32)
        xs = [_t(a, device, requires_grad=True) for a in arrays]
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
        y, yt = ours(*xs), theirs(*ts)
        (y * _t(gy, device)).sum().backward()
        (yt * torch.tensor(gy)).sum().backward()
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        for name, a, t in zip(("input", "weight", "bias"), xs, ts):
            np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name)


def critic(m):
    return m.Sequential(m.Conv2d(2, 4, 3, padding=1), m.GroupNorm(2, 4), m.LeakyReLU(0.2),
                        m.Conv2d(4, 4, 3, padding=1), m.InstanceNorm2d(4, affine=True), m.LeakyReLU(0.2),
                        m.Flatten(), m.LayerNorm(64), m.Linear(64, 1))


def test_gradient_penalty_through_the_layers_matches_torch(rng):
    """R1 on a critic built with all three layers: the parameters' gradients of the penalty, float64."""
    torch = pytest.importorskip("torch")
    theirs = critic(torch.nn).double()
    with torch.no_grad():  # norm weights and biases away from ones and zeros, so their role is checked
        for p in theirs.parameters():
            p.add_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.3))
    ours = critic(nn).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((3, 2, 4, 4))
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gm, = mg.grad(ours(xm).sum(), [xm], create_graph=True)
    gt, = torch.autograd.grad(theirs(xt).sum(), [xt], create_graph=True)
    np.testing.assert_allclose(gm.numpy(), gt.detach().numpy(), rtol=1e-8, atol=1e-10)
    (gm * gm).sum().backward()
    (gt * gt).sum().backward()
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        # the penalty does not depend on additive terms past the last non-linearity: no gradient in either
        assert (p.grad is None) == (named[name].grad is None), name
        if p.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), named[name].grad.numpy(), rtol=1e-7, atol=1e-9, err_msg=name)
