"""layer_norm, group_norm, instance_norm and their layers: forward against NumPy references written from
the definitions, gradients (first and second order, weight and bias included), per-sample independence,
dtypes, errors, and PyTorch (values, gradients, a gradient penalty, reprs, state dicts) when installed;
then instance norm's running statistics (the update, use_input_stats=False, InstanceNorm1d and
InstanceNorm2d with track_running_stats=True in training and eval) the same ways."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import kernels, nn
from gradcheck import check_double_grad, check_grad, check_third_order
from layouts import channels_last, is_channels_last
from torch_compare import assert_penalty_gradients_match, assert_reprs_and_state_dicts_match, float64_twins


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


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("name", [n for _, _, n in kernels.implementations("standardise_forward", "cpu")])
def test_group_norm_reads_every_layout_with_every_kernel(rng, name, groups):
    """The layouts a network hands the norm: a convolution's channels-last output (with one group, each
    sample's values lie together and are read in place) and a strided view. Values and gradients are
    those of the contiguous input, with each implementation of the standardise kernels pinned, and a
    channels-last input comes out channels-last."""
    x = rng.standard_normal((3, 4, 5, 5)) * 3 + 2
    gy = rng.standard_normal(x.shape)
    want = reference_group_norm(x, groups, None, None, 1e-5)
    wide = np.zeros(x.shape[:3] + (10,))
    wide[..., ::2] = x
    kernels.prefer("standardise_forward", name)
    kernels.prefer("standardise_backward", name)
    try:
        grads = {}
        for layout in ("contiguous", "channels-last", "strided"):
            leaf = mg.tensor(wide if layout == "strided" else x, requires_grad=True)
            if layout == "contiguous":
                x_in = leaf
            elif layout == "channels-last":
                x_in = channels_last(leaf)
            else:
                x_in = leaf[..., ::2]
            y = F.group_norm(x_in, groups, eps=1e-5)
            np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-12, err_msg=layout)
            if layout == "channels-last" and groups == 1:
                assert is_channels_last(y.data)
            (y * mg.tensor(gy)).sum().backward()
            grads[layout] = leaf.grad.numpy()[..., ::2] if layout == "strided" else leaf.grad.numpy()
    finally:
        kernels.prefer("standardise_forward", None)
        kernels.prefer("standardise_backward", None)
    for layout in ("channels-last", "strided"):
        np.testing.assert_allclose(grads[layout], grads["contiguous"], rtol=1e-10, atol=1e-12, err_msg=layout)


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


@pytest.mark.parametrize("op", ["layer", "group"])
def test_third_order(rng, op):
    """Under create_graph a penalty's second derivative through the norm is differentiable again: the
    tensor path of StandardiseGrad.backward, which the second-order checks do not reach."""
    if op == "layer":
        fn, x = (lambda x, w: F.tanh(F.layer_norm(x, (2, 3), w))), rng.standard_normal((3, 2, 3))
        w = rng.standard_normal((2, 3))
    else:
        fn, x = (lambda x, w: F.tanh(F.group_norm(x, 2, w))), rng.standard_normal((2, 4, 3))
        w = rng.standard_normal(4)
    check_third_order(fn, x, w)


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
                                         r"element per channel when use_input_stats=True, got shape \(2, 6\)"):
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
            m.InstanceNorm2d(3, affine=True, bias=False), m.InstanceNorm2d(3, track_running_stats=True),
            m.InstanceNorm2d(4, affine=True, momentum=None, track_running_stats=True),
            m.InstanceNorm1d(5), m.InstanceNorm1d(5, eps=1e-3, affine=True, bias=False, track_running_stats=True),
            m.Sequential(m.Conv2d(3, 4, 3), m.GroupNorm(2, 4), m.Flatten(), m.LayerNorm(16))]


def test_reprs_and_state_dicts_match_torch():
    # bias= in GroupNorm's and InstanceNorm's signatures and reprs is PyTorch 2.13's
    torch = pytest.importorskip("torch", minversion="2.13")
    assert_reprs_and_state_dicts_match(every_new_layer(nn), every_new_layer(torch.nn))


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
    ours, theirs = float64_twins(torch, critic, rng)
    x = rng.standard_normal((3, 2, 4, 4))
    assert_penalty_gradients_match(torch, ours, theirs, x, input_tol={"rtol": 1e-8, "atol": 1e-10},
                                   param_tol={"rtol": 1e-7, "atol": 1e-9})


# -- instance norm's running statistics -------------------------------------------------------------

def reference_running_update(x, mean, var, momentum):
    """PyTorch's update as it documents it: batch norm over the (1, N C, *) view updates one running
    value per (sample, channel) row, the variance unbiased, and the N rows of each channel are averaged."""
    rows = x.reshape(x.shape[0] * x.shape[1], -1)
    new_mean = (1 - momentum) * np.repeat(mean[None], x.shape[0], 0).reshape(-1) + momentum * rows.mean(axis=1)
    new_var = (1 - momentum) * np.repeat(var[None], x.shape[0], 0).reshape(-1) + momentum * rows.var(axis=1, ddof=1)
    return new_mean.reshape(x.shape[:2]).mean(axis=0), new_var.reshape(x.shape[:2]).mean(axis=0)


def reference_running_norm(x, mean, var, weight, bias, eps):
    """Every sample by the running statistics: the same affine map of each channel for all of them."""
    per_channel = (x.shape[1],) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(per_channel)) / np.sqrt(var.reshape(per_channel) + eps)
    if weight is not None:
        y = y * weight.reshape(per_channel)
    if bias is not None:
        y = y + bias.reshape(per_channel)
    return y


def _running_arrays(rng, c):
    return rng.standard_normal(c), rng.uniform(0.5, 2.0, c)


momenta = st.sampled_from([0.0, 0.1, 0.5, 1.0])


@given(n=st.integers(1, 3), c=st.integers(1, 4), spatial=st.lists(st.integers(2, 4), min_size=1, max_size=2),
       affine=affines, momentum=momenta, seed=st.integers(0, 2 ** 16))
def test_instance_norm_running_statistics_match_reference(device, n, c, spatial, affine, momentum, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c) + tuple(spatial)) * 3 + 2
    w, b = _affine_arrays(rng, (c,), affine)
    mean, var = _running_arrays(rng, c)
    rm, rv = _t(mean, device), _t(var, device)
    xt, wt, bt = _t(x, device), _t(w, device), _t(b, device)
    # use_input_stats=True: the output is the per-sample one, and the running statistics move
    y = F.instance_norm(xt, running_mean=rm, running_var=rv, weight=wt, bias=bt, momentum=momentum, eps=1e-3)
    np.testing.assert_allclose(y.numpy(), reference_group_norm(x, c, w, b, 1e-3), rtol=1e-10, atol=1e-12)
    new_mean, new_var = reference_running_update(x, mean, var, momentum)
    np.testing.assert_allclose(rm.numpy(), new_mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rv.numpy(), new_var, rtol=1e-12, atol=1e-12)
    # use_input_stats=False: the running statistics normalise, and stay as they are
    kept = rm.numpy().copy(), rv.numpy().copy()
    y = F.instance_norm(xt, running_mean=rm, running_var=rv, weight=wt, bias=bt, use_input_stats=False,
                        momentum=momentum, eps=1e-3)
    np.testing.assert_allclose(y.numpy(), reference_running_norm(x, kept[0], kept[1], w, b, 1e-3),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(rm.numpy(), kept[0])
    np.testing.assert_array_equal(rv.numpy(), kept[1])


def test_running_statistics_alone_take_any_n_c_input(device, rng):
    # one position per channel, or none at all past C: nothing to refuse when the statistics are given
    mean, var = _running_arrays(rng, 3)
    for shape in ((4, 3), (4, 3, 1), (2, 3, 1, 1)):
        x = rng.standard_normal(shape)
        y = F.instance_norm(_t(x, device), running_mean=_t(mean, device), running_var=_t(var, device),
                            use_input_stats=False)
        np.testing.assert_allclose(y.numpy(), reference_running_norm(x, mean, var, None, None, 1e-5), rtol=1e-12)


def test_running_statistics_are_buffers_outside_the_graph(device, rng):
    rm, rv = _t(np.zeros(3), device), _t(np.ones(3), device)
    x = _t(rng.standard_normal((2, 3, 4)), device, requires_grad=True)
    before = [rm.data, rv.data]
    y = F.instance_norm(x, running_mean=rm, running_var=rv)
    assert rm.data is before[0] and rv.data is before[1]  # updated in place
    assert not rm.requires_grad and rm.creator is None and not rv.requires_grad and rv.creator is None
    g, = mg.grad((y * y).sum(), [x])  # the update adds nothing to the graph
    expected, = mg.grad((F.instance_norm(x) * F.instance_norm(x)).sum(), [x])
    np.testing.assert_allclose(g.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


def torch_instance_cases():
    """(input shape, use_input_stats, momentum) for the functional against PyTorch's."""
    return [((2, 3, 5), True, 0.1), ((2, 3, 4, 5), True, 1.0), ((1, 2, 3, 2, 2), True, 0.3), ((3, 2, 4), True, 0.0),
            ((2, 3, 5), False, 0.1), ((2, 3, 4, 5), False, 0.5), ((4, 3), False, 0.1)]


@pytest.mark.parametrize("shape, use_input_stats, momentum", torch_instance_cases())
def test_instance_norm_running_statistics_match_torch(device, rng, shape, use_input_stats, momentum):
    """float32, the way a network runs: values, gradients, and the statistics after each of three calls."""
    torch = pytest.importorskip("torch")
    c = shape[1]
    mean, var = (a.astype(np.float32) for a in _running_arrays(rng, c))
    w, b = (rng.standard_normal(c).astype(np.float32) for _ in range(2))
    rm, rv, rm_t, rv_t = _t(mean, device), _t(var, device), torch.tensor(mean), torch.tensor(var)
    for _ in range(3):
        x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        gy = rng.standard_normal(shape).astype(np.float32)
        xs = [_t(a, device, requires_grad=True) for a in (x, w, b)]
        ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = F.instance_norm(xs[0], running_mean=rm, running_var=rv, weight=xs[1], bias=xs[2],
                            use_input_stats=use_input_stats, momentum=momentum, eps=1e-3)
        yt = torch.nn.functional.instance_norm(ts[0], rm_t, rv_t, ts[1], ts[2], use_input_stats, momentum, 1e-3)
        assert y.dtype == rm.dtype == rv.dtype == np.float32
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(rm.numpy(), rm_t.numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(rv.numpy(), rv_t.numpy(), rtol=1e-6, atol=1e-6)
        grads = mg.grad(y, xs, _t(gy, device))
        expected = torch.autograd.grad(yt, ts, torch.tensor(gy))
        for name, g, e in zip(("input", "weight", "bias"), grads, expected):
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-4, atol=1e-4, err_msg=name)


def instance_layer(m, dims, momentum, affine):
    return getattr(m, f"InstanceNorm{dims}d")(3, eps=1e-3, momentum=momentum, affine=affine, track_running_stats=True)


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("momentum", [0.3, None])
@pytest.mark.parametrize("affine", [True, False])
def test_tracking_layers_match_torch_in_training_then_eval(device, rng, dims, momentum, affine):
    """Several training steps (one unbatched), then eval, then training again: the outputs, the input's
    gradient and the whole state dict after every step. PyTorch's momentum=None keeps the running
    statistics where they start (it means momentum 0 for instance norm), and nothing counts batches."""
    torch = pytest.importorskip("torch")
    theirs = instance_layer(torch.nn, dims, momentum, affine)
    ours = instance_layer(nn, dims, momentum, affine).to(device)
    if affine:
        with torch.no_grad():
            theirs.weight.add_(torch.tensor(rng.standard_normal(3).astype(np.float32)))
            theirs.bias.add_(torch.tensor(rng.standard_normal(3).astype(np.float32)))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    batched = (2, 3) + (5, 4)[:dims]
    for mode, shape in [("train", batched), ("train", batched[1:]), ("train", batched), ("eval", batched),
                        ("eval", batched[1:]), ("train", batched)]:
        getattr(ours, mode)(), getattr(theirs, mode)()
        x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        xm, xt = _t(x, device, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = ours(xm), theirs(xt)
        assert y.dtype == np.float32 and y.shape == shape
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5, err_msg=mode)
        gy = rng.standard_normal(shape).astype(np.float32)
        g, = mg.grad(y, [xm], _t(gy, device))
        e, = torch.autograd.grad(yt, [xt], torch.tensor(gy))
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-4, atol=1e-4, err_msg=mode)
        mine, ref = ours.state_dict(), theirs.state_dict()
        assert list(mine) == list(ref)
        for key in mine:
            assert mine[key].dtype == ref[key].numpy().dtype, key
            np.testing.assert_allclose(mine[key], ref[key].numpy(), rtol=1e-6, atol=1e-6, err_msg=f"{mode} {key}")


def test_tracking_layers_update_only_in_training(device, rng):
    layer = nn.InstanceNorm1d(3, momentum=0.25, track_running_stats=True, device=device)
    assert layer.running_mean.device == layer.running_var.device == device
    assert layer.running_mean.dtype == np.float32 and layer.num_batches_tracked.dtype == np.int64
    np.testing.assert_array_equal(layer.running_mean.numpy(), 0)
    np.testing.assert_array_equal(layer.running_var.numpy(), 1)
    x = rng.standard_normal((4, 3, 6)).astype(np.float32) * 2 + 1
    layer(_t(x, device))
    new_mean, new_var = reference_running_update(x, np.zeros(3), np.ones(3), 0.25)
    np.testing.assert_allclose(layer.running_mean.numpy(), new_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.running_var.numpy(), new_var, rtol=1e-5, atol=1e-6)
    assert layer.running_mean.dtype == layer.running_var.dtype == np.float32
    assert int(layer.num_batches_tracked.numpy()) == 0  # as in PyTorch: instance norm counts nothing
    layer.eval()
    y = layer(_t(x, device))
    np.testing.assert_allclose(y.numpy(), reference_running_norm(x, new_mean, new_var, None, None, 1e-5),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.running_mean.numpy(), new_mean, rtol=1e-5, atol=1e-6)  # eval: unchanged
    layer.reset_parameters()
    np.testing.assert_array_equal(layer.running_mean.numpy(), 0)
    np.testing.assert_array_equal(layer.running_var.numpy(), 1)
    # momentum=None: PyTorch passes momentum 0, so the running statistics keep their initial values
    still = nn.InstanceNorm2d(3, momentum=None, track_running_stats=True).to(device)
    for _ in range(3):
        still(_t(rng.standard_normal((2, 3, 4, 4)).astype(np.float32), device))
    np.testing.assert_array_equal(still.running_mean.numpy(), 0)
    np.testing.assert_array_equal(still.running_var.numpy(), 1)
    # without tracking, eval mode is training mode: each sample's own statistics
    free = nn.InstanceNorm1d(3).to(device).eval()
    np.testing.assert_allclose(free(_t(x, device)).numpy(), reference_group_norm(x, 3, None, None, 1e-5),
                               rtol=1e-5, atol=1e-5)


def test_running_statistics_keep_float32(device, rng):
    """float32 input, weight and bias stay float32 through both modes and two orders of gradient, even
    with float64 running statistics (cast to the input's dtype, as batch norm's are); the statistics
    keep their own dtype when updated."""
    for stat_dtype in (np.float32, np.float64):
        for use_input_stats in (True, False):
            rm = _t(np.zeros(3, dtype=stat_dtype), device)
            rv = _t(np.full(3, 2.0, dtype=stat_dtype), device)
            ts = [_t(rng.standard_normal(s).astype(np.float32), device, requires_grad=True)
                  for s in ((2, 3, 4), (3,), (3,))]
            y = F.instance_norm(ts[0], running_mean=rm, running_var=rv, weight=ts[1], bias=ts[2],
                                use_input_stats=use_input_stats)
            assert y.dtype == np.float32 and rm.dtype == rv.dtype == stat_dtype
            gx, = mg.grad((F.tanh(y) ** 2).sum(), [ts[0]], create_graph=True)
            assert gx.dtype == np.float32
            (gx * gx).sum().backward()
            assert all(t.grad.dtype == np.float32 for t in ts)


def _running_case(shape, affine, use_input_stats, seed):
    """(arrays, fn) for the gradient checks: fn of x and the drawn weight and bias, running statistics fixed."""
    rng = np.random.default_rng(seed)
    w, b = _affine_arrays(rng, (shape[1],), affine)
    mean, var = _running_arrays(rng, shape[1])
    arrays = [rng.standard_normal(shape)] + [a for a in (w, b) if a is not None]

    def fn(x, *ab):
        # fresh statistics each call: the numerical gradient calls fn many times, each updating them
        rm, rv = mg.tensor(mean.copy()), mg.tensor(var.copy())
        return F.instance_norm(x, running_mean=rm, running_var=rv, weight=ab[0] if w is not None else None,
                               bias=ab[-1] if b is not None else None, use_input_stats=use_input_stats, eps=1e-3)

    return arrays, fn


@given(n=st.integers(1, 2), c=st.integers(1, 2), spatial=st.lists(st.integers(1, 3), min_size=0, max_size=2),
       affine=affines, seed=st.integers(0, 2 ** 16))
def test_running_statistics_gradients(n, c, spatial, affine, seed):
    shape = (n, c) + tuple(spatial)
    arrays, fn = _running_case(shape, affine, False, seed)
    check_grad(fn, arrays)
    if math.prod(spatial) > 1:  # each sample's own statistics need more than one position
        arrays, fn = _running_case(shape, affine, True, seed)
        check_grad(fn, arrays)


@pytest.mark.parametrize("use_input_stats", [False, True])
@pytest.mark.parametrize("affine", ["both", "none"])
@pytest.mark.parametrize("then_tanh", [True, False])
def test_running_statistics_second_order(use_input_stats, affine, then_tanh):
    arrays, fn = _running_case((2, 3, 3), affine, use_input_stats, seed=2)
    check_double_grad((lambda *xs: F.tanh(fn(*xs))) if then_tanh else fn, arrays)


@pytest.mark.parametrize("dims", [1, 2])
def test_tracking_layer_gradients_in_eval_mode_on_device(device, rng, dims):
    """The layer's own path through the running statistics, float64, twice differentiated."""
    layer = getattr(nn, f"InstanceNorm{dims}d")(2, affine=True, track_running_stats=True, dtype=np.float64)
    layer.to(device)
    layer(_t(rng.standard_normal((3, 2) + (4, 3)[:dims]) * 2 + 1, device))  # running statistics away from 0 and 1
    layer.eval()
    check_double_grad(lambda x: F.tanh(layer(x)), [rng.standard_normal((2, 2) + (3, 2)[:dims])], device)


def test_running_statistics_errors_name_the_op_argument_and_shapes():
    x = mg.zeros(2, 6, 4)
    with pytest.raises(ValueError, match=r"instance_norm: use_input_stats=False normalises by running_mean and "
                                         r"running_var, which must then be given, got None \(input of shape "
                                         r"\(2, 6, 4\)\)"):
        F.instance_norm(x, use_input_stats=False)
    with pytest.raises(ValueError, match=r"instance_norm: running_mean and running_var must both be given or both "
                                         r"be None"):
        F.instance_norm(x, running_mean=mg.zeros(6))
    with pytest.raises(ValueError, match=r"instance_norm: running_mean and running_var must both be given"):
        F.instance_norm(x, running_var=mg.ones(6), use_input_stats=False)
    with pytest.raises(ValueError, match=r"instance_norm: running_mean of shape \(4,\) does not fit input of shape "
                                         r"\(2, 6, 4\) \(expects \(6,\), one value per channel\)"):
        F.instance_norm(x, running_mean=mg.zeros(4), running_var=mg.ones(6))
    with pytest.raises(TypeError, match=r"instance_norm: running_var must be a Tensor \(it is updated in place\), "
                                        r"got ndarray"):
        F.instance_norm(x, running_mean=mg.zeros(6), running_var=np.ones(6))
    with pytest.raises(ValueError, match=r"instance_norm: input must be \(N, C, \*\), got shape \(6,\)"):
        F.instance_norm(mg.zeros(6), running_mean=mg.zeros(6), running_var=mg.ones(6), use_input_stats=False)
    with pytest.raises(ValueError, match=r"instance_norm: weight of shape \(4,\) does not fit input of shape "
                                         r"\(2, 6\) \(expects \(6,\)\)"):
        F.instance_norm(mg.zeros(2, 6), running_mean=mg.zeros(6), running_var=mg.ones(6), weight=mg.ones(4),
                        use_input_stats=False)
    with pytest.raises(TypeError, match=r"instance_norm: input must be floating point, got dtype int64"):
        F.instance_norm(mg.tensor(np.zeros((2, 2, 2), dtype=np.int64)), running_mean=mg.zeros(2),
                        running_var=mg.ones(2), use_input_stats=False)
    # the statistics are left as they were when the call is refused
    rm, rv = mg.zeros(6), mg.ones(6)
    with pytest.raises(ValueError, match=r"instance_norm: bias of shape \(2,\) does not fit"):
        F.instance_norm(x + 1, running_mean=rm, running_var=rv, bias=mg.zeros(2))
    assert not rm.numpy().any() and (rv.numpy() == 1).all()


def test_instance_norm_layer_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"InstanceNorm1d: expected input \(N, C, L\) or \(C, L\), got shape "
                                         r"\(2, 3, 4, 5\)"):
        nn.InstanceNorm1d(3)(mg.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"InstanceNorm1d: expected input .* got shape \(3,\)"):
        nn.InstanceNorm1d(3, track_running_stats=True)(mg.zeros(3))
    with pytest.raises(ValueError, match=r"InstanceNorm1d: input of shape \(2, 4, 5\) has 4 channels but "
                                         r"num_features=3"):
        nn.InstanceNorm1d(3, affine=True, track_running_stats=True)(mg.zeros(2, 4, 5))
    with pytest.warns(UserWarning, match=r"InstanceNorm1d: input of shape \(4, 5\) has 4 channels but num_features=3"):
        nn.InstanceNorm1d(3)(mg.zeros(4, 5))
    # a channel count the buffers do not fit is refused by the function, naming the buffer
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=r"instance_norm: running_mean of shape \(3,\) "
                                                                     r"does not fit input of shape \(2, 4, 5\)"):
        nn.InstanceNorm1d(3, track_running_stats=True)(mg.zeros(2, 4, 5))
    # one position per channel: refused in training (no statistics), fine in eval with running ones
    layer = nn.InstanceNorm1d(3, track_running_stats=True)
    with pytest.raises(ValueError, match=r"instance_norm: input must be \(N, C, \*\) with more than 1 spatial element "
                                         r"per channel when use_input_stats=True, got shape \(2, 3, 1\)"):
        layer(mg.zeros(2, 3, 1))
    assert layer.eval()(mg.ones(2, 3, 1)).shape == (2, 3, 1)
