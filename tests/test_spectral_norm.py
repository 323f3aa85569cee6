"""Spectral normalisation (nn.utils.spectral_norm) and the forward pre-hooks it runs on: sigma against
numpy's SVD, one training step against torch.nn.utils.spectral_norm (outputs, u, v, gradients, a
gradient penalty's gradient), float64 gradient checks of first and second order, dtypes, devices,
state dicts, deep copies, removal, and the error messages."""
import copy

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from minigan.nn.init import dcgan_init
from minigan.nn.utils import remove_spectral_norm, spectral_norm
from gradcheck import check_double_grad, check_grad

# (make a layer from a module library, input shape, weight axis that spectral norm treats as rows)
LAYERS = {
    "linear": (lambda m, **kw: m.Linear(6, 4, **kw), (3, 6), 0),
    "conv": (lambda m, **kw: m.Conv2d(3, 4, 3, padding=1, **kw), (2, 3, 5, 5), 0),
    "conv_transpose": (lambda m, **kw: m.ConvTranspose2d(3, 4, 3, stride=2, **kw), (2, 3, 3, 3), 1),
}


def as_matrix(weight, dim):
    return np.moveaxis(weight, dim, 0).reshape(weight.shape[dim], -1)


def sigma_of(layer):
    """The sigma the layer's last call divided by: weight_orig / weight, read off one entry."""
    orig, weight = layer.weight_orig.numpy(), layer.weight.numpy()
    i = np.unravel_index(np.argmax(np.abs(orig)), orig.shape)
    return orig[i] / weight[i]


class Holder(nn.Module):
    """A module whose forward returns its (normalised) weight, for weights of any shape."""

    def __init__(self, array):
        super().__init__()
        self.weight = nn.Parameter(array)

    def forward(self):
        return self.weight


# -- forward pre-hooks ---------------------------------------------------------------------------------

class Echo(nn.Module):
    def forward(self, *args, **kwargs):
        return args, kwargs


def test_forward_pre_hooks_see_and_replace_the_arguments_until_removed():
    echo = Echo()
    seen = []
    first = echo.register_forward_pre_hook(lambda module, args: seen.append((module, args)))
    assert echo(1, 2, k=3) == ((1, 2), {"k": 3}) and seen == [(echo, (1, 2))]  # None changes nothing
    double = echo.register_forward_pre_hook(lambda module, args: (args[0] * 2,))
    assert echo(3, k=4) == ((6,), {"k": 4})  # keyword arguments pass through untouched
    plus_one = echo.register_forward_pre_hook(lambda module, args: args[0] + 1)  # one value, wrapped
    assert echo(3) == ((7,), {})  # in registration order: 3 * 2, then + 1
    double.remove()
    double.remove()  # a second removal does nothing, as in PyTorch
    assert echo(3) == ((4,), {})
    first.remove(), plus_one.remove()
    assert echo(3) == ((3,), {}) and len(seen) == 4 and not echo._forward_pre_hooks


def test_a_hook_may_remove_itself_and_hooked_modules_copy_and_print_as_before():
    layer = nn.Linear(2, 3)
    calls = []

    def once(module, args):
        calls.append(args)
        handle.remove()

    handle = layer.register_forward_pre_hook(once)
    x = mg.ones(1, 2)
    layer(x), layer(x)
    assert len(calls) == 1
    layer.register_forward_pre_hook(lambda module, args: args[0] * 0)
    twin = copy.deepcopy(layer)
    np.testing.assert_array_equal(twin(x).numpy(), layer.bias.numpy()[None])  # the copy has the hook
    assert repr(layer) == repr(nn.Linear(2, 3)) and list(layer.state_dict()) == ["weight", "bias"]


# -- sigma ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(LAYERS))
def test_sigma_converges_to_the_largest_singular_value(kind, device):
    mg.manual_seed(0)
    make, shape, dim = LAYERS[kind]
    layer = spectral_norm(make(nn, device=device), n_power_iterations=200)
    layer(mg.randn(*shape, device=device))
    top = np.linalg.svd(as_matrix(layer.weight_orig.numpy().astype(np.float64), dim), compute_uv=False)[0]
    np.testing.assert_allclose(sigma_of(layer), top, rtol=1e-4)
    normalised = np.linalg.svd(as_matrix(layer.weight.numpy().astype(np.float64), dim), compute_uv=False)[0]
    np.testing.assert_allclose(normalised, 1.0, rtol=1e-4)
    h = layer.weight_orig.shape[dim]
    assert layer.weight_u.shape == (h,) and layer.weight_v.shape == (layer.weight_orig.numpy().size // h,)


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_at_the_top_singular_vectors_sigma_is_exact_and_power_iteration_stays_there(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(len(shape) * 10 + dim)
    weight = rng.standard_normal(shape) + 0.1
    module = spectral_norm(Holder(weight.copy()), dim=dim)
    left, singular, right = np.linalg.svd(as_matrix(weight, dim % len(shape)))
    module.weight_u.data[...], module.weight_v.data[...] = left[:, 0], right[0]
    module.eval()
    np.testing.assert_allclose(module().numpy(), weight / singular[0], rtol=1e-10)
    module.train()
    module()
    # a singular pair is a fixed point of v = normalize(W^T u), u = normalize(W v)
    np.testing.assert_allclose(module.weight_u.numpy(), left[:, 0], atol=1e-10)
    np.testing.assert_allclose(module.weight_v.numpy(), right[0], atol=1e-10)


def test_eval_mode_and_zero_iterations_run_no_power_iteration(device):
    mg.manual_seed(1)
    layer = spectral_norm(nn.Linear(6, 4, dtype=np.float64, device=device))
    u, v = layer.weight_u.numpy().copy(), layer.weight_v.numpy().copy()
    x = mg.randn(3, 6, dtype=np.float64, device=device)
    layer.eval()
    y = layer(x)
    np.testing.assert_array_equal(layer.weight_u.numpy(), u)
    np.testing.assert_array_equal(layer.weight_v.numpy(), v)
    w = layer.weight_orig.numpy()
    expected = x.numpy() @ (w / (u @ w @ v)).T + layer.bias.numpy()
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)
    frozen = spectral_norm(nn.Linear(6, 4, device=device), n_power_iterations=0)
    u = frozen.weight_u.numpy().copy()
    frozen(mg.randn(3, 6, device=device))
    np.testing.assert_array_equal(frozen.weight_u.numpy(), u)
    layer.train()
    layer(x)
    assert not np.allclose(layer.weight_u.numpy(), u)


# -- against PyTorch -----------------------------------------------------------------------------------

def torch_twin(torch, kind, ours, n_power_iterations):
    """torch's spectral-normed twin of ``ours``: same weights, same u and v."""
    theirs = LAYERS[kind][0](torch.nn).double()
    theirs = torch.nn.utils.spectral_norm(theirs, n_power_iterations=n_power_iterations)
    with torch.no_grad():
        for key in ("weight_orig", "weight_u", "weight_v", "bias"):
            getattr(theirs, key).copy_(torch.tensor(getattr(ours, key).numpy()))
    return theirs


@pytest.mark.parametrize("kind", list(LAYERS))
def test_one_training_step_matches_torch(kind, device, rng):
    torch = pytest.importorskip("torch")
    make, shape, _ = LAYERS[kind]
    ours = spectral_norm(make(nn, dtype=np.float64, device=device), n_power_iterations=2)
    theirs = torch_twin(torch, kind, ours, 2)
    x_np = rng.standard_normal(shape)
    x, xt = mg.tensor(x_np, device=device, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, yt = ours(x), theirs(xt)
    gy = rng.standard_normal(y.shape)
    (y * mg.tensor(gy, device=device)).sum().backward()
    (yt * torch.tensor(gy)).sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    for key in ("weight_u", "weight_v"):
        np.testing.assert_allclose(getattr(ours, key).numpy(), getattr(theirs, key).numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=key)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for key in ("weight_orig", "bias"):
        np.testing.assert_allclose(getattr(ours, key).grad.numpy(), getattr(theirs, key).grad.numpy(),
                                   rtol=1e-10, atol=1e-12, err_msg=key)

    ours.eval(), theirs.eval()
    y, yt = ours(x), theirs(xt)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.weight_u.numpy(), theirs.weight_u.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_a_gradient_penalty_through_spectral_norm_matches_torch(kind, device, rng):
    # WGAN-GP and R1 differentiate D's input gradient with respect to D's weights: a second
    # derivative through sigma.
    torch = pytest.importorskip("torch")
    make, shape, _ = LAYERS[kind]
    ours = spectral_norm(make(nn, dtype=np.float64, device=device))
    theirs = torch_twin(torch, kind, ours, 1)
    x_np = rng.standard_normal(shape)
    x, xt = mg.tensor(x_np, device=device, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    (gx,) = mg.grad(F.tanh(ours(x)).sum(), [x], create_graph=True)
    (gxt,) = torch.autograd.grad(torch.tanh(theirs(xt)).sum(), [xt], create_graph=True)
    (gx * gx).sum().backward()
    (gxt * gxt).sum().backward()
    np.testing.assert_allclose(ours.weight_orig.grad.numpy(), theirs.weight_orig.grad.numpy(), rtol=1e-9,
                               atol=1e-12)


@pytest.mark.parametrize("make", [lambda m: m.Linear(3, 4), lambda m: m.Conv2d(2, 3, 3, bias=False),
                                  lambda m: m.ConvTranspose2d(2, 3, 4, 2, 1)])
def test_state_dict_keys_are_torchs_before_and_after_removal(make):
    torch = pytest.importorskip("torch")
    ours, theirs = spectral_norm(make(nn)), torch.nn.utils.spectral_norm(make(torch.nn))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == tuple(value.shape), key
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)
    remove_spectral_norm(ours), torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


# -- gradients -----------------------------------------------------------------------------------------

def test_first_and_second_order_gradients_in_float64(device, rng):
    mg.manual_seed(2)
    conv = spectral_norm(nn.Conv2d(2, 3, 3, dtype=np.float64, device=device)).eval()
    linear = spectral_norm(nn.Linear(3, 2, dtype=np.float64, device=device)).eval()
    convt = spectral_norm(nn.ConvTranspose2d(2, 2, 2, stride=2, dtype=np.float64, device=device)).eval()

    def through_d(x):
        return linear(F.tanh(conv(x)).mean(axis=(2, 3)))

    x = [rng.standard_normal((2, 2, 4, 4))]
    check_grad(through_d, x, device)
    check_double_grad(through_d, x, device)
    check_double_grad(lambda x: F.tanh(convt(x)), [rng.standard_normal((1, 2, 2, 2))], device)

    def with_weight(x, w):
        # the stored u and v with a weight under test in place of weight_orig
        conv._parameters["weight_orig"] = w
        return F.tanh(conv(x))

    w = conv.weight_orig.numpy().copy()
    check_grad(with_weight, [x[0][:1], w], device)
    check_double_grad(with_weight, [x[0][:1], w], device)


def test_float32_stays_float32(device):
    layer = spectral_norm(nn.Conv2d(2, 3, 3, device=device))
    y = layer(mg.randn(2, 2, 5, 5, device=device))
    (gx,) = mg.grad(y.sum(), [layer.weight_orig], create_graph=True)
    for t in (y, layer.weight, layer.weight_u, layer.weight_v, gx):
        assert t.dtype == np.float32 and t.device == mg.tensor(0.0, device=device).device


# -- modules, state and copies -------------------------------------------------------------------------

def test_state_dict_round_trip_gives_the_same_function(device, rng):
    mg.manual_seed(3)
    a = spectral_norm(nn.Linear(5, 4, device=device))
    x = mg.tensor(rng.standard_normal((3, 5)).astype(np.float32), device=device)
    for _ in range(3):
        a(x)
    b = spectral_norm(nn.Linear(5, 4, device=device))
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    a.train(), b.train()
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    np.testing.assert_array_equal(a.weight_u.numpy(), b.weight_u.numpy())


def test_a_discriminator_trains_moves_copies_and_casts(device, rng):
    mg.manual_seed(4)
    d = nn.Sequential(spectral_norm(nn.Conv2d(1, 4, 4, 2, 1)), nn.LeakyReLU(0.2),
                      nn.Flatten(), spectral_norm(nn.Linear(4 * 4 * 4, 1))).to(device)
    assert d[0].weight_u.device == d[0].weight_orig.device
    opt = mg.optim.Adam(d.parameters(), lr=1e-2)
    assert {id(p) for p in d.parameters()} == {id(d[0].weight_orig), id(d[0].bias), id(d[3].weight_orig),
                                               id(d[3].bias)}
    x = mg.tensor(rng.standard_normal((2, 1, 8, 8)).astype(np.float32), device=device)
    # called twice before one backward, as a D step on real and fake data: the second call's power
    # iteration must not disturb the first call's graph
    loss = d(x).mean() - d(x * 0.5).mean()
    loss.backward()
    opt.step()
    twin = copy.deepcopy(d)
    d.eval(), twin.eval()
    np.testing.assert_array_equal(twin(x).numpy(), d(x).numpy())
    twin.train()
    twin(x)
    assert not np.array_equal(twin[0].weight_u.numpy(), d[0].weight_u.numpy())  # its own buffers
    assert d.double()(x.to(dtype=np.float64)).dtype == np.float64
    assert d[3].weight_u.dtype == np.float64


def test_initialising_after_spectral_norm_reaches_the_trained_weight():
    # as in PyTorch, until the first call layer.weight shares memory with weight_orig
    mg.manual_seed(5)
    layer = spectral_norm(nn.Conv2d(8, 16, 4))
    layer.apply(dcgan_init)
    assert abs(layer.weight_orig.numpy().std() - 0.02) < 0.002


def test_remove_spectral_norm_keeps_the_normalised_weight(device):
    mg.manual_seed(6)
    layer = spectral_norm(nn.ConvTranspose2d(2, 3, 3, device=device))
    x = mg.randn(1, 2, 4, 4, device=device)
    layer(x)
    layer.eval()
    expected = layer(x).numpy()
    weight = layer.weight.numpy()
    assert remove_spectral_norm(layer) is layer
    assert isinstance(layer.weight, nn.Parameter) and not layer._forward_pre_hooks
    np.testing.assert_array_equal(layer.weight.numpy(), weight)
    assert list(layer.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-6, atol=1e-7)
    spectral_norm(layer, dim=0)  # and it can be applied again
    assert layer.weight_u.shape == (2,)


# -- errors --------------------------------------------------------------------------------------------

def test_errors_name_the_function_the_argument_and_the_shapes():
    with pytest.raises(ValueError, match=r"spectral_norm: Linear has no parameter name='wieght' "
                                         r"\(its parameters: 'weight' \(3, 2\), 'bias' \(3,\)\)"):
        spectral_norm(nn.Linear(2, 3), name="wieght")
    with pytest.raises(ValueError, match="spectral_norm: Linear has no parameter name='bias'"):
        spectral_norm(nn.Linear(2, 3, bias=False), name="bias")
    layer = spectral_norm(nn.Linear(2, 3))
    with pytest.raises(RuntimeError, match=r"spectral_norm: parameter 'weight' of Linear is already spectrally "
                                           r"normalised \(weight_orig of shape \(3, 2\)\)"):
        spectral_norm(layer)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match=f"spectral_norm: n_power_iterations must be an integer >= 0, got {bad}"):
            spectral_norm(nn.Linear(2, 3), n_power_iterations=bad)
    with pytest.raises(ValueError, match=r"spectral_norm: dim=2 is out of range for parameter 'weight' of "
                                         r"shape \(3, 2\)"):
        spectral_norm(nn.Linear(2, 3), dim=2)
    with pytest.raises(ValueError, match="remove_spectral_norm: parameter name='weight' of Conv2d has no "
                                         "spectral norm to remove"):
        remove_spectral_norm(nn.Conv2d(1, 1, 1))
    remove_spectral_norm(layer)
    with pytest.raises(ValueError, match="remove_spectral_norm: parameter name='weight' of Linear"):
        remove_spectral_norm(layer)


def test_exported_as_in_pytorch():
    assert nn.utils.spectral_norm is spectral_norm and nn.utils.remove_spectral_norm is remove_spectral_norm
    assert "utils" in nn.__all__


@pytest.mark.parametrize("make, rows", [(lambda: nn.Conv1d(3, 4, 3), 4), (lambda: nn.ConvTranspose1d(3, 4, 3), 4),
                                        (lambda: nn.Conv3d(3, 4, 2), 4), (lambda: nn.ConvTranspose3d(3, 4, 2), 4),
                                        (lambda: nn.ConvTranspose2d(3, 4, 2), 4), (lambda: nn.Linear(3, 4), 4)])
def test_the_output_channels_are_the_rows_for_every_convolution(make, rows):
    """dim defaults to 1 for every transposed convolution (weight (in, out, k...)), as in PyTorch, in both forms."""
    from minigan.nn.utils.parametrizations import spectral_norm as parametrized
    assert spectral_norm(make()).weight_u.shape == (rows,)
    assert parametrized(make()).parametrizations.weight[0]._u.shape == (rows,)
