"""nn.ModuleDict, nn.utils.parametrize and nn.utils.parametrizations.spectral_norm: the container's API
and keys, custom and chained parametrizations against torch.nn.utils.parametrize (values, right_inverse,
assignment, gradients, state dicts), spectral norm against torch.nn.utils.parametrizations.spectral_norm
(initialisation, training steps, eval mode, gradients, a gradient penalty, loading torch's state dict),
float64 gradient checks of first and second order, caching, removal, and the error messages."""
import copy

import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
import minigan.nn.utils.parametrize as P
from minigan import nn
from minigan.nn.utils.parametrizations import spectral_norm
from gradcheck import check_double_grad, check_grad

# (make a layer from a module library, input shape, weight axis that spectral norm treats as rows)
LAYERS = {
    "linear": (lambda m, **kw: m.Linear(6, 4, **kw), (3, 6), 0),
    "conv": (lambda m, **kw: m.Conv2d(3, 4, 3, padding=1, **kw), (2, 3, 5, 5), 0),
    "conv_transpose": (lambda m, **kw: m.ConvTranspose2d(3, 4, 3, stride=2, **kw), (2, 3, 3, 3), 1),
}


def triu(x, k=0):
    """x with the entries below the k-th diagonal zeroed (torch's X.triu(k)), differentiable."""
    return x * mg.tensor(np.triu(np.ones(x.shape), k).astype(x.dtype), device=x.device)


class Symmetric(nn.Module):
    """The example of torch.nn.utils.parametrize's documentation: a symmetric matrix from its upper half."""

    def forward(self, x):
        return triu(x) + triu(x, 1).T

    def right_inverse(self, a):
        return triu(a)


class Scale(nn.Module):
    """x * factor, with a buffer so that the parametrization has state-dict keys of its own."""

    def __init__(self, factor, dtype=np.float64):
        super().__init__()
        self.register_buffer("factor", mg.tensor(np.array(factor, dtype=dtype)))

    def forward(self, x):
        return x * self.factor

    def right_inverse(self, x):
        return x / self.factor


class RankOne(nn.Module):
    """A rank-one matrix x y^T from two vectors: its right_inverse returns two tensors."""

    def forward(self, x, y):
        return x.reshape(-1, 1) @ y.reshape(1, -1)

    def right_inverse(self, z):
        u, s, vh = np.linalg.svd(z.numpy(), full_matrices=False)
        root = np.sqrt(s[0])
        return mg.tensor(u[:, 0] * root, device=z.device), mg.tensor(vh[0] * root, device=z.device)


def torch_twins(torch):
    """Symmetric, Scale and RankOne written with torch (RankOne as in torch's documentation)."""
    class TorchSymmetric(torch.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).T

        def right_inverse(self, a):
            return a.triu()

    class TorchScale(torch.nn.Module):
        def __init__(self, factor):
            super().__init__()
            self.register_buffer("factor", torch.tensor(factor, dtype=torch.float64))

        def forward(self, x):
            return x * self.factor

        def right_inverse(self, x):
            return x / self.factor

    class TorchRankOne(torch.nn.Module):
        def forward(self, x, y):
            return x.unsqueeze(-1) @ y.unsqueeze(-2)

        def right_inverse(self, z):
            u, s, vh = torch.linalg.svd(z, full_matrices=False)
            root = s[0].sqrt().unsqueeze(-1)
            return u[..., :, 0] * root, vh[..., 0, :] * root

    return TorchSymmetric, TorchScale, TorchRankOne


def torch_state(module):
    return {key: value.detach().numpy() for key, value in module.state_dict().items()}


def assert_states_equal(ours, theirs, rtol=1e-12, atol=1e-14):
    ours, theirs = ours.state_dict(), torch_state(theirs)
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        np.testing.assert_allclose(ours[key], value, rtol=rtol, atol=atol, err_msg=key)


# -- ModuleDict ----------------------------------------------------------------------------------------

def make_heads(m):
    return m.ModuleDict({"real": m.Linear(3, 1), "class": m.Linear(3, 10, bias=False)})


def test_module_dict_is_a_dict_of_registered_modules():
    real, fake, act = nn.Linear(3, 1), nn.Linear(3, 1), nn.ReLU()
    md = nn.ModuleDict({"real": real, "act": act})
    assert len(md) == 2 and list(md) == ["real", "act"] and "real" in md and "fake" not in md
    assert md["real"] is real and md.real is real
    assert list(md.keys()) == ["real", "act"] and list(md.values()) == [real, act]
    assert list(md.items()) == [("real", real), ("act", act)]
    md["fake"] = fake
    md["real"] = nn.Linear(3, 1)  # replaced in its place
    assert list(md) == ["real", "act", "fake"] and md.real is not real
    assert list(md.state_dict()) == ["real.weight", "real.bias", "fake.weight", "fake.bias"]
    del md["act"]
    assert list(md) == ["real", "fake"] and len(list(md.parameters())) == 4
    md.update([("act", act), ["tail", nn.Tanh()]])  # pairs, in their order
    md.update(nn.ModuleDict({"real": real}))
    assert list(md) == ["real", "fake", "act", "tail"] and md["real"] is real
    assert md.pop("tail").__class__ is nn.Tanh and "tail" not in md
    md.clear()
    assert len(md) == 0 and md.state_dict() == {} and list(nn.ModuleDict()) == []
    assert list(nn.ModuleDict([("b", act), ("a", real)])) == ["b", "a"]
    with pytest.raises(NotImplementedError, match="ModuleDict does not define forward"):
        md()


def test_module_dict_keys_reprs_and_loaded_weights_are_torchs(rng):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Sequential(make_heads(nn), nn.ReLU()), torch.nn.Sequential(make_heads(torch.nn), torch.nn.ReLU())
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0.real.weight", "0.real.bias", "0.class.weight"]
    assert repr(ours) == repr(theirs)
    ours.load_state_dict(torch_state(theirs))
    x = rng.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(ours[0]["class"](mg.tensor(x)).numpy(),
                               theirs[0]["class"](torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_module_dict_errors_name_the_key():
    md = make_heads(nn)
    with pytest.raises(KeyError, match=r"ModuleDict: no module under key 'fake' \(keys: \['real', 'class'\]\)"):
        md["fake"]
    with pytest.raises(KeyError, match="ModuleDict: no module under key 'fake'"):
        del md["fake"]
    for bad in (1, "", "a.b"):
        with pytest.raises(KeyError, match=f"ModuleDict: key must be a non-empty string without '.', got {bad!r}"):
            md[bad] = nn.ReLU()
    with pytest.raises(TypeError, match="add_module: 'x' must be a Module or None, got int"):
        md["x"] = 3
    with pytest.raises(TypeError, match="ModuleDict.update: expected a mapping or an iterable of \\(key, module\\) "
                                        "pairs, got int"):
        nn.ModuleDict(3)
    with pytest.raises(ValueError, match=r"ModuleDict.update: element #1 must be a \(key, module\) pair, got "
                                         r"\('a', 'b', 'c'\)"):
        md.update([("x", nn.ReLU()), ("a", "b", "c")])
    with pytest.raises(ValueError, match="ModuleDict.update: element #0 must be a \\(key, module\\) pair, got 5"):
        md.update([5])


# -- custom parametrizations -------------------------------------------------------------------------

def test_a_symmetric_parametrization_matches_torch(rng):
    torch = pytest.importorskip("torch")
    TorchSymmetric, _, _ = torch_twins(torch)
    w = rng.standard_normal((5, 5))
    ours, theirs = nn.Linear(5, 5, dtype=np.float64), torch.nn.Linear(5, 5).double()
    ours.load_state_dict(torch_state(theirs))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
    ours.weight.data[...] = w
    weight = ours.weight
    assert P.register_parametrization(ours, "weight", Symmetric()) is ours
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", TorchSymmetric())
    # the original is the same Parameter, now holding right_inverse(W) = triu(W)
    assert ours.parametrizations.weight.original is weight
    np.testing.assert_array_equal(weight.numpy(), np.triu(w))
    np.testing.assert_array_equal(ours.weight.numpy(), ours.weight.numpy().T)
    assert isinstance(ours.weight, mg.Tensor) and not isinstance(ours.weight, nn.Parameter)
    assert_states_equal(ours, theirs)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()] \
        == ["bias", "parametrizations.weight.original"]
    assert repr(ours) == repr(theirs).replace("ParametrizedLinear", "Linear").replace("Torch", "")

    x_np = rng.standard_normal((3, 5))
    x, xt = mg.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    (ours(x) ** 3).sum().backward()
    (theirs(xt) ** 3).sum().backward()
    np.testing.assert_allclose(weight.grad.numpy(), theirs.parametrizations.weight.original.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)

    a = rng.standard_normal((5, 5))
    a = a + a.T
    ours.weight = mg.tensor(a)  # set through right_inverse, in place
    theirs.weight = torch.tensor(a)
    assert ours.parametrizations.weight.original is weight
    np.testing.assert_allclose(ours.weight.numpy(), a, rtol=1e-15)
    assert_states_equal(ours, theirs)


def test_chained_parametrizations_match_torch(rng):
    # Symmetric, then Scale (state of its own), then spectral norm: keys .0, .1, .2; assignment goes
    # through every right_inverse, last first
    torch = pytest.importorskip("torch")
    TorchSymmetric, TorchScale, _ = torch_twins(torch)
    ours, theirs = nn.Linear(4, 4, dtype=np.float64), torch.nn.Linear(4, 4).double()
    for module, symmetric, scale in ((ours, Symmetric(), Scale(3.0)), (theirs, TorchSymmetric(), TorchScale(3.0))):
        parametrize = P if module is ours else torch.nn.utils.parametrize
        parametrize.register_parametrization(module, "weight", symmetric)
        parametrize.register_parametrization(module, "weight", scale)
    spectral_norm(ours), torch.nn.utils.parametrizations.spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "bias", "parametrizations.weight.original", "parametrizations.weight.1.factor",
        "parametrizations.weight.2._u", "parametrizations.weight.2._v"]
    ours.load_state_dict(torch_state(theirs))
    x = rng.standard_normal((2, 4))
    for _ in range(2):  # training mode: the spectral norm's power iteration runs on every read
        np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    assert_states_equal(ours, theirs)
    ours.eval(), theirs.eval()
    a = rng.standard_normal((4, 4))
    ours.weight, theirs.weight = mg.tensor(a + a.T), torch.tensor(a + a.T)
    assert_states_equal(ours, theirs)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12)


def test_a_parametrization_of_two_tensors_matches_torch(rng):
    torch = pytest.importorskip("torch")
    _, _, TorchRankOne = torch_twins(torch)
    w = rng.standard_normal((4, 3))
    ours, theirs = nn.Linear(3, 4, dtype=np.float64), torch.nn.Linear(3, 4).double()
    ours.load_state_dict(torch_state(theirs))
    ours.weight.data[...] = w
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
    P.register_parametrization(ours, "weight", RankOne())
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", TorchRankOne())
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    assert all(isinstance(p, nn.Parameter) for p in ours.parameters()) and len(list(ours.parameters())) == 3
    # the singular vectors' signs are LAPACK's choice; their product is not
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-10)
    assert np.linalg.matrix_rank(ours.weight.numpy()) == 1

    ours.load_state_dict(torch_state(theirs))
    x_np = rng.standard_normal((2, 3))
    ours(mg.tensor(x_np)).sum().backward()
    theirs(torch.tensor(x_np)).sum().backward()
    for i in range(2):
        np.testing.assert_allclose(getattr(ours.parametrizations.weight, f"original{i}").grad.numpy(),
                                   getattr(theirs.parametrizations.weight, f"original{i}").grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"remove_parametrizations: Linear.weight is parametrized by 2 tensors, so "
                                         r"it cannot be left unparametrized \(leave_parametrized=False\)"):
        P.remove_parametrizations(ours, "weight", leave_parametrized=False)
    expected = ours.weight.numpy()
    P.remove_parametrizations(ours, "weight")
    assert isinstance(ours.weight, nn.Parameter) and not P.is_parametrized(ours)
    np.testing.assert_array_equal(ours.weight.numpy(), expected)
    assert list(ours.state_dict()) == ["bias", "weight"]


def test_buffers_can_be_parametrized_and_stay_buffers():
    bn = nn.BatchNorm1d(3)
    P.register_parametrization(bn, "running_var", Scale(2.0, dtype=np.float32))
    assert "parametrizations.running_var.original" in dict(bn.named_buffers())
    assert len(list(bn.parameters())) == 2
    # registering keeps the value: the original becomes right_inverse(1) = 0.5
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(3, np.float32))
    np.testing.assert_array_equal(bn.parametrizations.running_var.original.numpy(), np.full(3, 0.5, np.float32))
    P.remove_parametrizations(bn, "running_var", leave_parametrized=False)
    assert "running_var" in dict(bn.named_buffers()) and bn.running_var.numpy().tolist() == [0.5, 0.5, 0.5]


# -- gradients -----------------------------------------------------------------------------------------

def test_first_and_second_order_gradients_in_float64(device, rng):
    mg.manual_seed(0)
    conv = spectral_norm(nn.Conv2d(2, 3, 3, dtype=np.float64, device=device)).eval()
    linear = P.register_parametrization(nn.Linear(3, 3, dtype=np.float64), "weight", Symmetric())
    P.register_parametrization(linear, "weight", Scale(0.5))
    linear.to(device)

    def through_d(x):
        return linear(F.tanh(conv(x)).mean(axis=(2, 3)))

    x = [rng.standard_normal((2, 2, 4, 4))]
    check_grad(through_d, x, device)
    check_double_grad(through_d, x, device)

    def with_originals(x, w_conv, w_linear):
        # the stored u and v, with originals under test in place of the modules' own
        conv.parametrizations.weight._parameters["original"] = w_conv
        linear.parametrizations.weight._parameters["original"] = w_linear
        return F.tanh(through_d(x))

    arrays = [x[0][:1], conv.parametrizations.weight.original.numpy().copy(),
              linear.parametrizations.weight.original.numpy().copy()]
    check_grad(with_originals, arrays, device)
    check_double_grad(with_originals, arrays, device)


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_a_gradient_penalty_through_a_parametrized_layer_matches_torch(kind, device, rng):
    # WGAN-GP and R1 differentiate D's input gradient with respect to D's weights: a second
    # derivative through the parametrization, here spectral norm in training mode
    torch = pytest.importorskip("torch")
    make, shape, _ = LAYERS[kind]
    theirs = torch.nn.utils.parametrizations.spectral_norm(make(torch.nn).double())
    ours = spectral_norm(make(nn, dtype=np.float64))
    ours.load_state_dict(torch_state(theirs))
    ours.to(device)
    x_np = rng.standard_normal(shape)
    x, xt = mg.tensor(x_np, device=device, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    (gx,) = mg.grad(F.tanh(ours(x)).sum(), [x], create_graph=True)
    (gxt,) = torch.autograd.grad(torch.tanh(theirs(xt)).sum(), [xt], create_graph=True)
    (gx * gx).sum().backward()
    (gxt * gxt).sum().backward()
    np.testing.assert_allclose(ours.parametrizations.weight.original.grad.numpy(),
                               theirs.parametrizations.weight.original.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-9, atol=1e-12)


# -- spectral norm against torch -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(LAYERS))
def test_spectral_norm_training_steps_and_eval_match_torch(kind, device, rng):
    # loading torch's state dict (u and v included) reproduces its outputs, buffers and gradients
    torch = pytest.importorskip("torch")
    make, shape, dim = LAYERS[kind]
    theirs = torch.nn.utils.parametrizations.spectral_norm(make(torch.nn).double(), n_power_iterations=2)
    ours = spectral_norm(make(nn, dtype=np.float64, device=device), n_power_iterations=2)
    ours.load_state_dict(torch_state(theirs))
    assert ours.parametrizations.weight[0]._u.shape == (ours.parametrizations.weight.original.shape[dim],)
    for _ in range(3):
        x_np = rng.standard_normal(shape)
        x, xt = mg.tensor(x_np, device=device, requires_grad=True), torch.tensor(x_np, requires_grad=True)
        y, yt = ours(x), theirs(xt)
        gy = rng.standard_normal(y.shape)
        (y * mg.tensor(gy, device=device)).sum().backward()
        (yt * torch.tensor(gy)).sum().backward()
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        assert_states_equal(ours, theirs, rtol=1e-10, atol=1e-12)
    for (key, param), (_, param_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        # gradients accumulated over the three steps
        np.testing.assert_allclose(param.grad.numpy(), param_t.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=key)

    ours.eval(), theirs.eval()
    before = ours.state_dict()
    x_np = rng.standard_normal(shape)
    y, yt = ours(mg.tensor(x_np, device=device)), theirs(torch.tensor(x_np))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    for key, value in ours.state_dict().items():  # no power iteration in eval mode
        np.testing.assert_array_equal(value, before[key], err_msg=key)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_spectral_norm_starts_from_15_power_iterations_and_is_checked_once(kind):
    # torch draws u, v ~ N(0, 1), normalises them, runs 15 steps, and registering runs the
    # parametrization once more to check its shape: 16 steps in all. The draws come from minigan's
    # generator here; the steps are torch's.
    torch = pytest.importorskip("torch")
    make, _, dim = LAYERS[kind]
    layer = make(nn, dtype=np.float64)
    w = layer.weight.numpy().copy()
    mg.manual_seed(7)
    matrix = np.moveaxis(w, dim, 0).reshape(w.shape[dim], -1)
    u0, v0 = mg.randn(matrix.shape[0], dtype=np.float64).numpy(), mg.randn(matrix.shape[1], dtype=np.float64).numpy()
    mg.manual_seed(7)
    spectral_norm(layer)
    normalize = torch.nn.functional.normalize
    wt, u, v = torch.tensor(matrix), normalize(torch.tensor(u0), dim=0), normalize(torch.tensor(v0), dim=0)
    for _ in range(16):
        u = normalize(torch.mv(wt, v), dim=0)
        v = normalize(torch.mv(wt.T, u), dim=0)
    norm = layer.parametrizations.weight[0]
    np.testing.assert_allclose(norm._u.numpy(), u.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(norm._v.numpy(), v.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(layer.parametrizations.weight.original.numpy(), w)
    layer.eval()
    np.testing.assert_allclose(layer.weight.numpy(), w / (u.numpy() @ matrix @ v.numpy()), rtol=1e-12)


def test_spectral_norm_of_a_vector_divides_by_its_norm(rng):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm1d(5, dtype=np.float64), torch.nn.BatchNorm1d(5).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.standard_normal(5)))
    ours.load_state_dict(torch_state(theirs))
    spectral_norm(ours, n_power_iterations=3), torch.nn.utils.parametrizations.spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # no u and v
    assert "parametrizations.weight.original" in ours.state_dict()
    w = ours.parametrizations.weight.original.numpy()
    np.testing.assert_allclose(ours.weight.numpy(), w / np.linalg.norm(w), rtol=1e-15)
    (ours.weight ** 3).sum().backward()
    (theirs.weight ** 3).sum().backward()
    np.testing.assert_allclose(ours.parametrizations.weight.original.grad.numpy(),
                               theirs.parametrizations.weight.original.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("make", [lambda m: m.Linear(3, 4), lambda m: m.Conv2d(2, 3, 3, bias=False),
                                  lambda m: m.ConvTranspose2d(2, 3, 4, 2, 1)])
def test_spectral_norm_keys_reprs_and_removal_are_torchs(make):
    torch = pytest.importorskip("torch")
    ours = spectral_norm(make(nn).double())
    theirs = torch.nn.utils.parametrizations.spectral_norm(make(torch.nn).double())
    ours.load_state_dict(torch_state(theirs))
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert [k for k, _ in ours.named_buffers()] == [k for k, _ in theirs.named_buffers()]
    assert repr(ours) == repr(theirs).replace("Parametrized", "")
    # removal reads the weight once more, which in training mode runs one more step
    P.remove_parametrizations(ours, "weight"), torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert_states_equal(ours, theirs, rtol=1e-12, atol=1e-15)
    assert not hasattr(ours, "parametrizations") and type(ours) is type(make(nn))


# -- spectral norm in minigan --------------------------------------------------------------------------

def test_float32_stays_float32(device):
    layer = spectral_norm(nn.Conv2d(2, 3, 3, device=device))
    y = layer(mg.randn(2, 2, 5, 5, device=device))
    original = layer.parametrizations.weight.original
    (gw,) = mg.grad(y.sum(), [original], create_graph=True)
    norm = layer.parametrizations.weight[0]
    for t in (y, layer.weight, norm._u, norm._v, gw):
        assert t.dtype == np.float32 and t.device == original.device


def test_an_optimiser_trains_the_original_and_copies_and_casts_work(device, rng):
    mg.manual_seed(1)
    d = nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(4 * 4 * 4, 1)).to(device)
    opt = mg.optim.SGD(d.parameters(), lr=0.1)  # built before: the originals are the same Parameters
    ids = {id(p) for p in d.parameters()}
    spectral_norm(d[0]), spectral_norm(d[3])
    assert {id(p) for p in d.parameters()} == ids
    x = mg.tensor(rng.standard_normal((2, 1, 8, 8)).astype(np.float32), device=device)
    before = d[0].parametrizations.weight.original.numpy().copy()
    # called twice before one backward, as a D step on real and fake data: the second read's power
    # iteration must not disturb the first graph
    (d(x).mean() - d(x * 0.5).mean()).backward()
    opt.step()
    assert not np.array_equal(d[0].parametrizations.weight.original.numpy(), before)
    twin = copy.deepcopy(d)
    d.eval(), twin.eval()
    np.testing.assert_array_equal(twin(x).numpy(), d(x).numpy())
    twin.train()
    twin(x)
    assert not np.array_equal(twin[0].parametrizations.weight[0]._u.numpy(), d[0].parametrizations.weight[0]._u.numpy())
    assert d.double()(x.to(dtype=np.float64)).dtype == np.float64 and d[3].weight.dtype == np.float64


def restart_power_iteration(layer, rng):
    """Give a Linear's spectral norm a random v, and return the u that one step from it will give."""
    norm = layer.parametrizations.weight[0]
    v = rng.standard_normal(norm._v.shape).astype(np.float32)
    norm._v.data[...] = v / np.linalg.norm(v)
    u = layer.parametrizations.weight.original.numpy() @ norm._v.numpy()
    return u / np.linalg.norm(u)


def test_the_parametrization_follows_the_modules_training_mode(rng):
    layer = nn.Linear(16, 12).eval()
    spectral_norm(layer)
    norm = layer.parametrizations.weight[0]
    assert not norm.training
    expected = restart_power_iteration(layer, rng)
    u = norm._u.numpy().copy()
    layer.weight
    np.testing.assert_array_equal(norm._u.numpy(), u)  # no step in eval mode
    layer.train()
    assert norm.training
    layer.weight
    np.testing.assert_allclose(norm._u.numpy(), expected, rtol=1e-5, atol=1e-6)


# -- caching and removal -------------------------------------------------------------------------------

def test_cached_computes_each_tensor_once_per_block(rng):
    layer = spectral_norm(nn.Linear(16, 12))
    norm = layer.parametrizations.weight[0]
    assert layer.weight is not layer.weight
    expected = restart_power_iteration(layer, rng)
    with P.cached():
        first = layer.weight
        with P.cached():
            assert layer.weight is first
        assert layer.weight is first  # the outer block still caches
    np.testing.assert_allclose(norm._u.numpy(), expected, rtol=1e-5, atol=1e-6)  # one step, not three
    expected = restart_power_iteration(layer, rng)
    assert layer.weight is not first  # the values were dropped with the block
    np.testing.assert_allclose(norm._u.numpy(), expected, rtol=1e-5, atol=1e-6)

    # a weight read twice within a block is one graph node: both uses reach the original
    layer.eval()
    x = mg.randn(4, 16)
    layer(x).sum().backward()
    once = layer.parametrizations.weight.original.grad.numpy().copy()
    layer.zero_grad()
    with P.cached():
        (layer(x).sum() + layer(x).sum()).backward()
    np.testing.assert_allclose(layer.parametrizations.weight.original.grad.numpy(), 2 * once, rtol=1e-6)


@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_remove_parametrizations_keeps_the_parameter_object(leave_parametrized, rng):
    torch = pytest.importorskip("torch")
    TorchSymmetric, _, _ = torch_twins(torch)
    ours, theirs = nn.Linear(4, 4, dtype=np.float64), torch.nn.Linear(4, 4).double()
    ours.load_state_dict(torch_state(theirs))
    P.register_parametrization(ours, "weight", Symmetric())
    P.register_parametrization(ours, "bias", Scale(2.0))
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", TorchSymmetric())
    original = ours.parametrizations.weight.original
    expected = (ours.weight if leave_parametrized else original).numpy().copy()
    assert P.remove_parametrizations(ours, "weight", leave_parametrized) is ours
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight", leave_parametrized)
    assert ours.weight is original and isinstance(ours.weight, nn.Parameter)
    np.testing.assert_array_equal(ours.weight.numpy(), expected)
    np.testing.assert_array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())
    assert P.is_parametrized(ours) and P.is_parametrized(ours, "bias") and not P.is_parametrized(ours, "weight")
    assert list(ours.state_dict()) == ["weight", "parametrizations.bias.original", "parametrizations.bias.0.factor"]
    P.remove_parametrizations(ours, "bias")
    assert not P.is_parametrized(ours) and "parametrizations" not in ours._modules
    assert list(ours.state_dict()) == ["weight", "bias"]


# -- errors --------------------------------------------------------------------------------------------

class Transpose(nn.Module):
    def forward(self, x):
        return x.T


class Half(nn.Module):
    def forward(self, x):
        return x.astype(np.float16)


class NoInverse(nn.Module):
    def forward(self, x):
        return x * 2


def test_errors_name_the_function_the_tensor_and_the_shapes():
    with pytest.raises(ValueError, match=r"register_parametrization: Linear.wieght: Linear has no parameter, buffer "
                                         r"or parametrized tensor tensor_name='wieght' \(its tensors: 'weight' "
                                         r"\(3, 2\), 'bias' \(3,\)\)"):
        P.register_parametrization(nn.Linear(2, 3), "wieght", Symmetric())
    with pytest.raises(ValueError, match=r"tensor_name='bias' \(its tensors: 'weight' \(3, 2\)\)"):
        P.register_parametrization(nn.Linear(2, 3, bias=False), "bias", Symmetric())
    layer = nn.Linear(2, 3)
    with pytest.raises(ValueError, match=r"register_parametrization: Linear.weight: Transpose gives shape \(2, 3\) "
                                         r"and dtype float32 for a tensor of shape \(3, 2\) and dtype float32; a "
                                         r"parametrization may change neither unless unsafe=True"):
        P.register_parametrization(layer, "weight", Transpose())
    with pytest.raises(ValueError, match=r"Half gives shape \(3, 2\) and dtype float16 for a tensor of shape "
                                         r"\(3, 2\) and dtype float32"):
        P.register_parametrization(layer, "weight", Half())
    assert not P.is_parametrized(layer) and isinstance(layer.weight, nn.Parameter)  # nothing changed
    P.register_parametrization(layer, "weight", NoInverse())
    with pytest.raises(ValueError, match=r"register_parametrization: Linear.weight: Transpose gives shape \(2, 3\)"):
        P.register_parametrization(layer, "weight", Transpose())
    P.register_parametrization(layer, "weight", Transpose(), unsafe=True)
    assert layer.weight.shape == (2, 3) and layer.parametrizations.weight.unsafe
    with pytest.raises(RuntimeError, match="ParametrizationList.right_inverse: the parametrization Transpose has no "
                                           "right_inverse, so the tensor cannot be assigned"):
        layer.weight = mg.zeros(3, 2)
    with pytest.raises(TypeError, match="cannot assign a Parameter to 'weight' of Linear: it has a parametrization; "
                                        "assign a Tensor"):
        layer.weight = nn.Parameter(mg.zeros(3, 2))
    with pytest.raises(ValueError, match=r"remove_parametrizations: Linear has no parametrization on "
                                         r"tensor_name='bias' \(parametrized: \['weight'\]\)"):
        P.remove_parametrizations(layer, "bias")
    scaled = P.register_parametrization(nn.Linear(2, 3), "weight", Scale(2.0, dtype=np.float32))
    with pytest.raises(ValueError, match="ParametrizationList.right_inverse: right_inverse gave shape \\(3, 2\\) and "
                                         "dtype float64, but the original has dtype float32"):
        scaled.weight = mg.zeros(3, 2, dtype=np.float64)


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match=r"spectral_norm: Linear has no parameter or buffer name='wieght' \(its "
                                         r"tensors: 'weight' \(3, 2\), 'bias' \(3,\)\)"):
        spectral_norm(nn.Linear(2, 3), name="wieght")
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=f"spectral_norm: n_power_iterations must be a positive integer, "
                                             f"got {bad}"):
            spectral_norm(nn.Linear(2, 3), n_power_iterations=bad)
    with pytest.raises(IndexError, match=r"spectral_norm: dim=2 is out of range for a weight of shape \(3, 2\)"):
        spectral_norm(nn.Linear(2, 3), dim=2)


def test_exported_as_in_pytorch():
    import minigan.nn.utils.parametrizations as parametrizations
    import minigan.nn.utils.parametrize as parametrize
    assert nn.utils.parametrize is parametrize and nn.utils.parametrizations is parametrizations
    assert parametrizations.spectral_norm is spectral_norm and parametrize.cached is P.cached
    assert "ModuleDict" in nn.__all__ and nn.ModuleDict.__module__ == "minigan.nn.container"
