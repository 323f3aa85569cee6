"""minigan.nn: modules, parameters, state dicts, modes, initialisation, and PyTorch compatibility
(keys, shapes, reprs and outputs compared with torch.nn when it is installed)."""
import math

import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan import nn, optim
from gradcheck import check_grad
from torch_compare import assert_reprs_and_state_dicts_match


def dcgan28(m, nz=16, ngf=8):
    """The W2 workload's generator and discriminator (small widths) in module library ``m``."""
    g = m.Sequential(
        m.Linear(nz, ngf * 2 * 7 * 7), m.BatchNorm1d(ngf * 2 * 7 * 7), m.ReLU(True), m.Unflatten(1, (ngf * 2, 7, 7)),
        m.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1), m.BatchNorm2d(ngf), m.ReLU(True),
        m.ConvTranspose2d(ngf, 1, 4, 2, 1), m.Tanh())
    d = m.Sequential(
        m.Conv2d(1, ngf, 4, 2, 1), m.LeakyReLU(0.2, inplace=True), m.Conv2d(ngf, ngf * 2, 4, 2, 1, bias=False),
        m.BatchNorm2d(ngf * 2), m.LeakyReLU(0.2, inplace=True), m.Flatten(), m.Dropout(0.0),
        m.Linear(ngf * 2 * 7 * 7, 1))
    return m.Sequential(g, d)


def every_layer(m):
    """One of each layer, with non-default arguments where they change names, shapes or reprs."""
    return [
        m.Linear(5, 3), m.Linear(5, 3, bias=False),
        m.Conv2d(4, 6, 3), m.Conv2d(4, 6, (3, 2), stride=2, padding=(1, 0), dilation=2, groups=2, bias=False),
        m.Conv2d(4, 6, 2, padding="same", dilation=(1, 2)), m.Conv2d(4, 6, 3, padding="valid"),
        m.ConvTranspose2d(4, 6, 4, 2, 1), m.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1, groups=2, bias=False),
        m.BatchNorm1d(7), m.BatchNorm2d(7, eps=1e-3, momentum=None), m.BatchNorm2d(7, affine=False),
        m.BatchNorm1d(7, track_running_stats=False), m.BatchNorm2d(7, bias=False),
        m.LeakyReLU(), m.LeakyReLU(0.2, True), m.ReLU(), m.ReLU(inplace=True), m.Tanh(), m.Sigmoid(),
        m.Flatten(), m.Flatten(0, 2), m.Unflatten(1, (2, 3)), m.Embedding(10, 4), m.Embedding(10, 4, padding_idx=0),
        m.Dropout(), m.Dropout(0.25),
        m.AvgPool2d(2), m.AvgPool2d((3, 2), stride=(1, 2), padding=(1, 0)), m.Upsample(scale_factor=2),
        m.Upsample(scale_factor=(2, 3)), m.Upsample(size=(5, 7), mode="bilinear", align_corners=True),
        m.Upsample(size=9, mode="bicubic"), m.UpsamplingNearest2d(scale_factor=2), m.UpsamplingBilinear2d(size=6),
        m.AdaptiveAvgPool2d((5, None)), m.AdaptiveAvgPool2d(3), m.PixelShuffle(3), m.Identity(),
        m.ModuleList([m.Linear(2, 3), m.ReLU(), m.ReLU(), m.Linear(3, 1, bias=False)]), m.ModuleList(),
    ]


# -- state dicts --------------------------------------------------------------------------------------

def test_state_dict_keys_shapes_and_dtypes_follow_pytorch_naming():
    bn = nn.BatchNorm2d(3)
    state = bn.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert state["num_batches_tracked"].dtype == np.int64 and state["num_batches_tracked"].shape == ()
    assert list(nn.BatchNorm1d(3, affine=False).state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.BatchNorm1d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]
    assert nn.Conv2d(2, 5, 3).state_dict()["weight"].shape == (5, 2, 3, 3)
    assert nn.ConvTranspose2d(2, 5, 3).state_dict()["weight"].shape == (2, 5, 3, 3)
    assert list(nn.Linear(2, 3, bias=False).state_dict()) == ["weight"]
    model = dcgan28(nn)
    keys = list(model.state_dict())
    assert keys[:7] == ["0.0.weight", "0.0.bias", "0.1.weight", "0.1.bias", "0.1.running_mean", "0.1.running_var",
                        "0.1.num_batches_tracked"]
    assert "1.2.weight" in keys and "1.2.bias" not in keys and keys[-1] == "1.7.bias"
    for key, value in model.state_dict().items():
        assert isinstance(value, np.ndarray)
        assert value.dtype == (np.int64 if key.endswith("num_batches_tracked") else np.float32), key


def test_state_dict_is_a_copy(device):
    layer = nn.Linear(3, 2).to(device)
    state = layer.state_dict()
    state["weight"][...] = 7
    assert not np.any(layer.weight.numpy() == 7)


def test_load_state_dict_round_trip_gives_the_same_function(device, rng):
    mg.manual_seed(1)
    a = dcgan28(nn).to(device)
    a.train()
    a(mg.randn(4, 16, device=device))  # move the running statistics away from their initial values
    mg.manual_seed(2)
    b = dcgan28(nn).to(device)
    assert not np.allclose(a.state_dict()["0.0.weight"], b.state_dict()["0.0.weight"])
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va, vb)
    a.eval(), b.eval()
    z = mg.tensor(rng.standard_normal((3, 16)).astype(np.float32), device=device)
    np.testing.assert_array_equal(a(z).numpy(), b(z).numpy())


def test_load_state_dict_keeps_dtype_device_and_identity(device):
    layer = nn.Linear(3, 2).to(device)
    weight = layer.weight
    layer.load_state_dict({"weight": np.ones((2, 3)), "bias": mg.zeros(2, dtype=np.float64)})
    assert layer.weight is weight and weight.dtype == np.float32
    assert weight.device == mg.tensor([0.0], device=device).device
    np.testing.assert_array_equal(layer.weight.numpy(), np.ones((2, 3), np.float32))


def test_load_state_dict_errors_name_keys_and_shapes():
    layer = nn.BatchNorm1d(3)
    good = layer.state_dict()
    with pytest.raises(ValueError, match=r"running_var: shape \(4,\) in the state dict, \(3,\) in the model"):
        layer.load_state_dict({**good, "running_var": np.ones(4, np.float32)})
    with pytest.raises(ValueError, match="missing keys: bias"):
        layer.load_state_dict({k: v for k, v in good.items() if k != "bias"})
    with pytest.raises(ValueError, match="unexpected keys: extra"):
        layer.load_state_dict({**good, "extra": np.zeros(1)})
    # Nothing is copied when anything is wrong.
    with pytest.raises(ValueError):
        layer.load_state_dict({**good, "weight": np.full(3, 5, np.float32), "extra": np.zeros(1)})
    np.testing.assert_array_equal(layer.weight.numpy(), good["weight"])
    result = layer.load_state_dict({"weight": np.full(3, 2, np.float32), "extra": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["bias", "running_mean", "running_var"]  # num_batches_tracked may be absent
    assert result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(layer.weight.numpy(), np.full(3, 2, np.float32))
    layer.num_batches_tracked.data[...] = 7
    layer.load_state_dict({k: v for k, v in good.items() if k != "num_batches_tracked"})  # strict, as PyTorch
    assert layer.num_batches_tracked.item() == 7


# -- modes, parameters, devices ---------------------------------------------------------------------

def test_train_eval_switch_every_submodule_and_change_behaviour(rng):
    model = dcgan28(nn)
    assert all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    bn = nn.BatchNorm1d(2)
    x = mg.tensor(rng.standard_normal((6, 2)).astype(np.float32) * 3 + 5)
    y_train = bn(x).numpy()
    np.testing.assert_allclose(y_train.mean(0), 0, atol=1e-5)  # batch statistics
    assert int(bn.num_batches_tracked.item()) == 1
    bn.eval()
    y_eval = bn(x).numpy()
    want = (x.numpy() - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + 1e-5)
    np.testing.assert_allclose(y_eval, want, rtol=1e-5, atol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 1
    drop = nn.Dropout(0.5)
    ones = mg.ones(200)
    assert np.any(drop(ones).numpy() == 0)
    np.testing.assert_array_equal(drop.eval()(ones).numpy(), ones.numpy())


def test_cumulative_momentum_and_untracked_statistics(rng):
    bn = nn.BatchNorm1d(2, momentum=None)
    xs = [rng.standard_normal((5, 2)).astype(np.float32) for _ in range(3)]
    for x in xs:
        bn(mg.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean(0) for x in xs], axis=0), rtol=1e-5, atol=1e-6)
    free = nn.BatchNorm1d(2, track_running_stats=False).eval()
    y = free(mg.tensor(xs[0])).numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)  # batch statistics even in eval mode


def test_parameters_counts_names_and_sharing():
    model = dcgan28(nn, nz=16, ngf=8)
    counts = {name: p.numel() for name, p in model.named_parameters()}
    assert counts["0.0.weight"] == 16 * 784 and counts["0.4.weight"] == 16 * 8 * 16
    assert counts["1.2.weight"] == 8 * 16 * 16
    assert sum(counts.values()) == sum(p.numel() for p in model.parameters())
    assert len(list(model.buffers())) == 9 and len(list(model.children())) == 2
    shared = nn.Linear(3, 3)
    twice = nn.Sequential(shared, nn.Tanh(), shared)
    assert len(list(twice.parameters())) == 2  # a shared layer's parameters are listed once
    assert list(twice.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as PyTorch


def test_every_parameter_and_output_is_float32_with_float32_grads(device):
    mg.manual_seed(0)
    model = dcgan28(nn).to(device)
    for layer in every_layer(nn):
        for p in layer.parameters():
            assert isinstance(p, nn.Parameter) and p.dtype == np.float32 and p.requires_grad
    z = mg.randn(4, 16, device=device)
    out = model(z)
    assert out.dtype == np.float32 and out.shape == (4, 1)
    F.binary_cross_entropy_with_logits(out, 1.0).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.dtype == np.float32 and p.grad.shape == p.shape, name
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_to_dtype_and_requires_grad():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    model.to(np.float64)
    assert all(t.dtype == np.float64 for t in model.parameters())
    assert model[1].running_var.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.int64
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    with pytest.raises(TypeError, match="floating point"):
        model.to(dtype=np.int32)


def test_module_registration_rules():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        layer.weight = mg.ones(2, 2)
    layer.weight = nn.Parameter(np.ones((2, 2), np.float32))
    np.testing.assert_array_equal(layer.state_dict()["weight"], np.ones((2, 2)))
    del layer.bias
    assert "bias" not in layer.state_dict()
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        layer.nothing
    with pytest.raises(TypeError, match="floating point"):
        nn.Parameter(np.arange(3))
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    assert nn.Parameter(np.zeros(2)).dtype == np.float64  # an array keeps its dtype, as torch.nn.Parameter


def test_sequential_indexing_and_apply():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[0], nn.Linear) and seq[-1] is seq[2] and len(seq) == 3
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    named = nn.Sequential({"fc": nn.Linear(2, 2), "act": nn.Tanh()})
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    seen = []
    seq.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Sequential"]  # children first, as PyTorch
    assert seq.append(nn.Sigmoid())[3].__class__ is nn.Sigmoid


def test_sequential_replace_and_delete_as_pytorch():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    seq[-1] = nn.Linear(3, 4)
    assert seq(mg.zeros(5, 2)).shape == (5, 4) and seq.state_dict()["2.weight"].shape == (4, 3)
    del seq[1]
    assert list(seq._modules) == ["0", "1"] and list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    named = nn.Sequential({"fc": nn.Linear(2, 2), "act": nn.Tanh()})
    del named[0]
    assert list(named._modules) == ["0"]  # PyTorch renumbers given names too
    with pytest.raises(IndexError, match=r"Sequential: index 5 is out of range for 2 modules"):
        seq[5] = nn.Tanh()
    with pytest.raises(TypeError, match=r"add_module: '0' must be a Module or None, got ndarray"):
        seq[0] = np.zeros(2)
    with pytest.raises(TypeError, match=r"Sequential: index must be an int or a slice, got 'a'"):
        seq["a"]


def test_sequential_replacement_keeps_its_place():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    seq[0] = nn.Linear(2, 3, bias=False)
    assert list(seq._modules) == ["0", "1", "2"] and seq(mg.zeros(4, 2)).shape == (4, 1)
    layer = nn.Linear(2, 2)
    layer.weight = nn.Parameter(np.ones((2, 2), np.float32))  # a replaced parameter keeps its key order
    assert list(layer.state_dict()) == ["weight", "bias"]


def test_module_list_holds_modules_as_pytorch():
    ml = nn.ModuleList([nn.Linear(2, 3), nn.ReLU()])
    assert len(ml) == 2 and isinstance(ml[0], nn.Linear) and ml[-1] is ml[1]
    assert [type(m).__name__ for m in ml] == ["Linear", "ReLU"]
    assert ml.append(nn.Linear(3, 1)) is ml and ml.extend([nn.Tanh(), nn.Sigmoid()]) is ml and len(ml) == 5
    assert list(ml.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    ml[1] = nn.LeakyReLU(0.2)
    assert list(ml._modules) == ["0", "1", "2", "3", "4"] and isinstance(ml[1], nn.LeakyReLU)
    tail = ml[2:]
    assert isinstance(tail, nn.ModuleList) and list(tail.state_dict()) == ["0.weight", "0.bias"] and tail[0] is ml[2]
    del ml[1]
    assert list(ml.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    ml.insert(0, nn.Identity())
    ml += [nn.ReLU()]
    assert [type(m).__name__ for m in ml] == ["Identity", "Linear", "Linear", "Tanh", "Sigmoid", "ReLU"]

    class Net(nn.Module):  # how a ModuleList is used: the owner's forward calls its modules
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(nn.Linear(2, 2) for _ in range(3))

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    net = Net()
    assert list(net.state_dict())[-1] == "blocks.2.bias" and len(list(net.parameters())) == 6
    assert net(mg.zeros(5, 2)).shape == (5, 2)
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        ml(mg.zeros(1, 2))
    with pytest.raises(IndexError, match=r"ModuleList: index 6 is out of range for 6 modules"):
        ml[6] = nn.ReLU()
    with pytest.raises(TypeError, match=r"ModuleList: index must be an int or a slice, got 'a'"):
        ml["a"]
    with pytest.raises(TypeError, match=r"ModuleList.extend: expected an iterable of modules, got int"):
        ml.extend(3)
    with pytest.raises(TypeError, match=r"add_module: '6' must be a Module or None, got ndarray"):
        ml.append(np.zeros(2))
    with pytest.raises(TypeError, match=r"ModuleList.insert: module must be a Module, got int"):
        ml.insert(0, 3)


def test_identity_returns_its_input():
    x = mg.ones(2, 3)
    assert nn.Identity()(x) is x and nn.Identity(54, unused_argument=0.1)(x) is x  # arguments ignored, as PyTorch
    assert nn.Identity().state_dict() == {}


def test_sampling_layers_shapes():
    x = mg.zeros(2, 4, 5, 6)
    assert nn.AvgPool2d(2)(x).shape == (2, 4, 2, 3) and nn.AvgPool2d(3, 1, 1)(x).shape == (2, 4, 5, 6)
    assert nn.AvgPool2d(2)(mg.zeros(4, 5, 6)).shape == (4, 2, 3)  # unbatched (C, H, W), as PyTorch
    assert nn.Upsample(scale_factor=2)(x).shape == (2, 4, 10, 12)
    assert nn.Upsample(scale_factor=(1, 3.0))(x).shape == (2, 4, 5, 18)
    assert nn.Upsample(size=(3, 8), mode="bilinear")(x).shape == (2, 4, 3, 8)
    assert nn.Upsample(scale_factor=1.5, mode="linear")(mg.zeros(2, 4, 6)).shape == (2, 4, 9)
    assert nn.AdaptiveAvgPool2d((2, None))(x).shape == (2, 4, 2, 6) and nn.AdaptiveAvgPool2d(1)(x).shape == (2, 4, 1, 1)
    assert nn.PixelShuffle(2)(x).shape == (2, 1, 10, 12)
    assert nn.AvgPool2d(2).stride == 2 and nn.Upsample(scale_factor=2).scale_factor == 2.0


def test_shape_layers_and_embedding(rng):
    x = mg.tensor(rng.standard_normal((2, 6, 4)).astype(np.float32))
    assert nn.Flatten()(x).shape == (2, 24) and nn.Flatten(0, 1)(x).shape == (12, 4)
    assert nn.Unflatten(1, (2, 3))(x).shape == (2, 2, 3, 4) and nn.Unflatten(-1, (2, -1))(x).shape == (2, 6, 2, 2)
    with pytest.raises(ValueError, match=r"Unflatten: cannot split axis 1 of shape \(2, 6, 4\)"):
        nn.Unflatten(1, (4, 4))(x)
    emb = nn.Embedding(5, 3, padding_idx=0)
    np.testing.assert_array_equal(emb.weight.numpy()[0], 0)
    out = emb(np.array([[0, 1], [2, 0]]))
    assert out.shape == (2, 2, 3)
    (out * mg.tensor(rng.standard_normal(out.shape).astype(np.float32))).sum().backward()
    grad = emb.weight.grad.numpy()
    assert np.all(grad[0] == 0) and np.any(grad[1] != 0) and np.all(grad[3:] == 0)


def test_layers_are_differentiable_in_float64(rng):
    conv = nn.Conv2d(4, 2, 3, padding=1, groups=2, dtype=np.float64)
    convt = nn.ConvTranspose2d(2, 4, 2, stride=2, groups=2, dtype=np.float64)

    check_grad(lambda x: convt(conv(x)), [rng.standard_normal((2, 4, 3, 3))])
    grouped_x = mg.tensor(rng.standard_normal((2, 4, 3, 3)))
    full = F.conv2d(grouped_x, mg.tensor(np.concatenate(
        [np.concatenate([conv.weight.numpy()[:1], np.zeros((1, 2, 3, 3))], 1),
         np.concatenate([np.zeros((1, 2, 3, 3)), conv.weight.numpy()[1:]], 1)])), conv.bias, padding=1)
    np.testing.assert_allclose(conv(grouped_x).numpy(), full.numpy(), rtol=1e-12, atol=1e-12)


def test_new_layers_are_differentiable_in_float64(rng):
    x = [rng.standard_normal((2, 3, 5, 4))]
    check_grad(nn.AvgPool2d(2), x)  # non-overlapping windows (reshape and mean)
    check_grad(nn.AvgPool2d((3, 2), stride=(1, 2), padding=(1, 0)), x)  # general windows (a convolution)
    check_grad(nn.AvgPool2d(3, stride=2, padding=1), [rng.standard_normal((3, 5, 4))])  # unbatched
    check_grad(nn.Upsample(scale_factor=(2, 3)), x)
    check_grad(nn.UpsamplingBilinear2d(scale_factor=1.5), x)
    check_grad(nn.AdaptiveAvgPool2d((2, 3)), x)
    check_grad(nn.PixelShuffle(2), [rng.standard_normal((2, 8, 2, 3))])
    check_grad(nn.Identity(), x)
    blocks = nn.ModuleList([nn.Linear(4, 3, dtype=np.float64), nn.Tanh(), nn.Linear(3, 2, dtype=np.float64)])

    def through_list(x):
        for block in blocks:
            x = block(x)
        return x

    check_grad(through_list, x)


def test_new_layers_match_torch_outputs(rng):
    torch = pytest.importorskip("torch")
    cases = [
        (lambda m: m.AvgPool2d(2), (2, 3, 7, 6)),
        (lambda m: m.AvgPool2d((3, 2), stride=(1, 2), padding=(1, 0)), (2, 3, 7, 6)),
        (lambda m: m.AvgPool2d(3, stride=2, padding=1), (3, 7, 6)),  # unbatched
        (lambda m: m.Upsample(scale_factor=2), (2, 3, 4, 5)),
        (lambda m: m.Upsample(scale_factor=(2, 3.0)), (2, 3, 4, 5)),
        (lambda m: m.Upsample(scale_factor=3, mode="nearest-exact"), (1, 2, 3, 4)),
        (lambda m: m.Upsample(size=(7, 3), mode="bicubic", align_corners=False), (1, 2, 3, 4)),
        (lambda m: m.Upsample(scale_factor=0.6, mode="area"), (1, 2, 5, 9)),
        (lambda m: m.UpsamplingNearest2d(size=(5, 6)), (1, 2, 3, 4)),
        (lambda m: m.UpsamplingBilinear2d(scale_factor=2), (1, 2, 3, 4)),
        (lambda m: m.AdaptiveAvgPool2d((2, None)), (2, 3, 7, 6)),
        (lambda m: m.AdaptiveAvgPool2d(4), (3, 7, 6)),  # unbatched
        (lambda m: m.PixelShuffle(3), (2, 18, 4, 5)),
        (lambda m: m.PixelShuffle(2), (2, 3, 8, 4, 5)),  # extra leading axes
        (lambda m: m.Identity(), (2, 3)),
    ]
    for make, shape in cases:
        x = rng.standard_normal(shape).astype(np.float32)
        ours, theirs = make(nn), make(torch.nn)
        y = ours(mg.tensor(x))
        assert y.dtype == np.float32, repr(ours)
        np.testing.assert_allclose(y.numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-6, atol=1e-6,
                                   err_msg=repr(ours))


def test_sampling_layer_argument_errors():
    nn.AvgPool2d(3, padding=1, ceil_mode=True, count_include_pad=False, divisor_override=3)  # all of PyTorch's
    with pytest.raises(ValueError, match=r"AvgPool2d: divisor_override must be None or a non-zero int, got 0"):
        nn.AvgPool2d(2, divisor_override=0)
    with pytest.raises(ValueError, match=r"AvgPool2d: padding 2 must be at most half the kernel size 3"):
        nn.AvgPool2d(3, padding=2)
    with pytest.raises(ValueError, match=r"AvgPool2d: stride must be at least 1, got 0"):
        nn.AvgPool2d(2, stride=0)
    with pytest.raises(TypeError, match=r"AvgPool2d: kernel_size must be an int or a pair of ints, got 2.5"):
        nn.AvgPool2d(2.5)
    with pytest.raises(ValueError, match=r"avg_pool2d: input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), "
                                         r"got shape \(4, 4\)"):
        nn.AvgPool2d(2)(mg.zeros(4, 4))
    with pytest.raises(ValueError, match=r"Upsample: give exactly one of size and scale_factor"):
        nn.Upsample()
    with pytest.raises(ValueError, match=r"Upsample: mode must be one of .*got mode='cubic'"):
        nn.Upsample(scale_factor=2, mode="cubic")
    with pytest.raises(ValueError, match=r"Upsample: scale_factor must be a positive number .*got scale_factor=\(2, 0\)"):
        nn.Upsample(scale_factor=(2, 0))
    with pytest.raises(ValueError, match=r"Upsample: scale_factor must be a positive number .*got scale_factor='2'"):
        nn.Upsample(scale_factor="2")
    with pytest.raises(ValueError, match=r"Upsample: align_corners=True can only be set with the interpolating"):
        nn.Upsample(scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match=r"interpolate: mode='bilinear' needs 4-D \(N, C, H, W\) input, got shape \(3, 4, 4\)"):
        nn.Upsample(scale_factor=2, mode="bilinear")(mg.zeros(3, 4, 4))
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d: output_size must be a positive int or a pair"):
        nn.AdaptiveAvgPool2d((2, 0))
    with pytest.raises(ValueError, match=r"PixelShuffle: upscale_factor must be a positive int, got 0"):
        nn.PixelShuffle(0)
    with pytest.raises(ValueError, match=r"PixelShuffle: upscale_factor must be a positive int, got 1.5"):
        nn.PixelShuffle(1.5)
    with pytest.raises(ValueError, match=r"pixel_shuffle: .*channels must be divisible by 4"):
        nn.PixelShuffle(2)(mg.zeros(1, 6, 2, 2))


def test_conv_layers_take_unbatched_inputs_and_same_padding(rng):
    x = mg.tensor(rng.standard_normal((3, 5, 6)).astype(np.float32))
    same = nn.Conv2d(3, 4, 2, padding="same")
    assert same(x).shape == (4, 5, 6)
    np.testing.assert_allclose(same(x).numpy(), same(x.reshape(1, 3, 5, 6)).numpy()[0], rtol=1e-6)
    assert nn.ConvTranspose2d(3, 2, 4, 2, 1)(x).shape == (2, 10, 12)


def test_layer_input_errors(rng):
    with pytest.raises(ValueError, match=r"Conv2d: expected input \(N, 3, H, W\) or unbatched \(3, H, W\), got "
                                         r"shape \(2, 4, 5, 5\)"):
        nn.Conv2d(3, 2, 3)(mg.zeros(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"Conv2d: padding='same' needs stride 1, got stride 2"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input \(N, C, H, W\), got shape \(4, 3\)"):
        nn.BatchNorm2d(3)(mg.zeros(4, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode='zeros'"):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="Dropout: p must be"):
        nn.Dropout(1.5)


# -- initialisation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Linear(200, 300), 200),
    (lambda: nn.Conv2d(16, 32, 5), 16 * 25),
    (lambda: nn.ConvTranspose2d(16, 32, 5), 32 * 25),  # PyTorch's rule: fan_in = weight.shape[1] * k * k
])
def test_default_init_is_kaiming_uniform_with_pytorch_bounds(make, fan_in):
    mg.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    for tensor in (layer.weight, layer.bias):
        values = tensor.numpy()
        assert values.dtype == np.float32 and np.abs(values).max() <= bound
    w = layer.weight.numpy()
    assert np.abs(w).max() > 0.95 * bound and abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_manual_seed_makes_init_repeatable():
    mg.manual_seed(5)
    a = dcgan28(nn).state_dict()
    mg.manual_seed(5)
    b = dcgan28(nn).state_dict()
    mg.manual_seed(6)
    c = dcgan28(nn).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["0.0.weight"], c["0.0.weight"])


def test_dcgan_init_statistics():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(32, 64, 4), nn.BatchNorm2d(4096), nn.ConvTranspose2d(64, 32, 4), nn.Linear(8, 8))
    linear_before = model[3].weight.numpy().copy()
    model.apply(nn.init.dcgan_init)
    for w in (model[0].weight.numpy(), model[2].weight.numpy()):
        assert abs(w.mean()) < 1e-3 and abs(w.std() - 0.02) < 1e-3
    g = model[1].weight.numpy()
    assert abs(g.mean() - 1) < 2e-3 and abs(g.std() - 0.02) < 2e-3
    for b in (model[0].bias, model[1].bias, model[2].bias):
        np.testing.assert_array_equal(b.numpy(), 0)
    np.testing.assert_array_equal(model[3].weight.numpy(), linear_before)  # Linear keeps its default init


def test_init_functions():
    mg.manual_seed(0)
    t = nn.Parameter(mg.zeros(400, 300))
    nn.init.uniform_(t, -2, 3)
    assert t.dtype == np.float32 and t.numpy().min() >= -2 and t.numpy().max() < 3
    assert abs(t.numpy().mean() - 0.5) < 0.02
    nn.init.normal_(t, 1.5, 0.5)
    assert abs(t.numpy().mean() - 1.5) < 0.01 and abs(t.numpy().std() - 0.5) < 0.01
    nn.init.xavier_uniform_(t, gain=2.0)
    bound = 2.0 * math.sqrt(6 / 700)
    assert t.numpy().max() <= bound and t.numpy().max() > 0.95 * bound
    nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 400)
    assert t.numpy().max() <= bound and t.numpy().max() > 0.95 * bound
    nn.init.constant_(t, 0.25)
    assert np.all(t.numpy() == 0.25)
    nn.init.zeros_(t), nn.init.ones_(t)
    assert np.all(t.numpy() == 1) and t.dtype == np.float32
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(mg.zeros(3))


# -- PyTorch compatibility (optional) -----------------------------------------------------------------

def test_every_layer_matches_torch_keys_shapes_and_repr():
    # The reference is the pinned torch==2.13.0: BatchNorm's bias=False is newer than torch 2.11.
    torch = pytest.importorskip("torch", minversion="2.13")
    assert_reprs_and_state_dicts_match(every_layer(nn), every_layer(torch.nn))
    model, ref = dcgan28(nn), dcgan28(torch.nn)
    assert repr(model) == repr(ref)
    ours = [(k, v.shape) for k, v in model.state_dict().items()]
    assert ours == [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]


def test_torch_state_dict_loads_and_gives_torch_outputs(device, rng):
    torch = pytest.importorskip("torch")
    theirs = dcgan28(torch.nn)
    ours = dcgan28(nn).to(device)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    z = rng.standard_normal((6, 16)).astype(np.float32)
    for mode in ("train", "train", "eval"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        y, yt = ours(mg.tensor(z, device=device)), theirs(torch.tensor(z))
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-5, atol=1e-6, err_msg=key)


def test_zero_grad_can_fill_with_zeros_and_modules_cast_and_move_as_in_pytorch(device):
    layer = nn.Linear(2, 3).to(device)
    layer(mg.ones(1, 2, device=device)).sum().backward()
    grad = layer.weight.grad
    optim.SGD(layer.parameters(), lr=0.1).zero_grad(set_to_none=False)
    assert layer.weight.grad is grad and not grad.numpy().any()
    layer.zero_grad()
    assert layer.weight.grad is None
    assert layer.double().weight.dtype == np.float64 and layer.float().weight.dtype == np.float32
    assert layer.cpu().weight.device == "cpu"
