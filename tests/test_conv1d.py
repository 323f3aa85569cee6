"""conv1d, conv_transpose1d, Conv1d and ConvTranspose1d: forward against direct loops and against PyTorch
(values, first- and second-order gradients) over hypothesis-drawn geometries, float64 numerical
gradient checks of both orders, the identity with conv2d on a plane of height one, layers loading a
torch state_dict (every padding mode), reprs, init, unbatched inputs, float32, and error messages that
speak of the 1-D op only."""
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from conv_cases import case_arrays
from gradcheck import check_double_grad, check_grad
from torch_compare import assert_matches_torch_to_second_order

# PyTorch's note that "same" with an even kernel pads a copy of the input; a note, not a failure.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def naive_conv1d(x, w, stride, padding, dilation):
    """y[n, o, i] = sum_{c, u} w[o, c, u] x[n, c, i s + u d - p] (one group, no bias)."""
    n, c, length = x.shape
    o, _, k = w.shape
    out = (length + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    y = np.zeros((n, o, out))
    for i in range(out):
        for u in range(k):
            j = i * stride + u * dilation - padding
            if 0 <= j < length:
                y[:, :, i] += x[:, :, j] @ w[:, :, u].T
    return y


def naive_conv_transpose1d(x, w, stride, padding, output_padding, dilation):
    """Scatter: x[n, c, j] adds x * w[c, :, u] at position j s + u d - p (one group, no bias)."""
    n, c, length = x.shape
    _, o, k = w.shape
    out = (length - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    y = np.zeros((n, o, out))
    for j in range(length):
        for u in range(k):
            i = j * stride + u * dilation - padding
            if 0 <= i < out:
                y[:, :, i] += x[:, :, j] @ w[:, :, u]
    return y


def _as(form, value):
    """An int argument as the caller may pass it: an int, a 1-tuple or a 1-list (PyTorch takes all three)."""
    return {"int": value, "tuple": (value,), "list": [value]}[form]


@st.composite
def conv1d_case(draw, transposed=False, tiny=False):
    """Shapes and geometry of a conv1d (or conv_transpose1d) whose output has at least one element.

    ``tiny`` keeps every tensor to a few dozen elements for the numerical gradient checks, which cost
    two forward passes per input element. A conv1d's padding may be "valid" or (stride 1) "same".
    """
    top = 2 if tiny else 3
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, top)), draw(st.integers(1, top))
    g = draw(st.integers(1, 2 if tiny else 3))  # groups: c and o are the channels of one group
    k = draw(st.integers(1, 3 if tiny else 5))
    s, d, p = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(0, 2))
    extra = 2 if tiny else 5
    if transposed:
        op = draw(st.integers(0, max(s, d) - 1))
        # Lout = (L - 1) s - 2p + d (k - 1) + op + 1 >= 1
        low = max(1, 1 - (-2 * p + d * (k - 1) + op) // s)
        shapes = ((n, c * g, draw(st.integers(low, low + extra))), (c * g, o, k))
    else:
        op = None
        p = draw(st.sampled_from([p, "valid"] + (["same"] if s == 1 else [])))
        pad = 0 if p == "valid" else p
        low = 1 if p == "same" else max(1, d * (k - 1) + 1 - 2 * pad)
        shapes = ((n, c * g, draw(st.integers(low, low + extra))), (o * g, c, k))
    form = draw(st.sampled_from(["int", "tuple", "list"]))
    return dict(shapes=shapes, bias=draw(st.booleans()), stride=s, padding=p, dilation=d, output_padding=op,
                groups=g, form=form, channels_last=draw(st.booleans()), unbatched=n == 1 and draw(st.booleans()),
                seed=draw(st.integers(0, 2 ** 16)))


def _kwargs(case):
    """The keyword arguments of the case's call, ints in the case's form (shared with torch's call)."""
    form = case["form"]
    kwargs = dict(stride=_as(form, case["stride"]), dilation=_as(form, case["dilation"]), groups=case["groups"])
    p = case["padding"]
    kwargs["padding"] = p if isinstance(p, str) else _as(form, p)
    if case["output_padding"] is not None:
        kwargs["output_padding"] = _as(form, case["output_padding"])
    return kwargs


def channels_last_1d(x):
    """x (N, C, L) through a width-1 identity convolution: the same values, differentiable, laid out as
    a convolution hands its output on ((N, L, C) in memory)."""
    c = x.shape[1]
    y = F.conv1d(x, mg.tensor(np.eye(c, dtype=x.dtype).reshape(c, c, 1), device=x.device))
    assert y.data.transpose(0, 2, 1).flags.c_contiguous
    return y


def _op(case):
    """The minigan call for ``case``, as a function of (x, w[, b]); an unbatched case passes x's one
    sample as (C, L) and puts the batch axis back on the output."""
    kwargs = _kwargs(case)
    fn = F.conv1d if case["output_padding"] is None else F.conv_transpose1d
    lay_out = channels_last_1d if case["channels_last"] else (lambda x: x)

    def call(x, w, b=None):
        x = lay_out(x)
        if not case["unbatched"]:
            return fn(x, w, b, **kwargs)
        y = fn(F.reshape(x, tuple(x.shape[1:])), w, b, **kwargs)
        assert y.ndim == 2
        return F.reshape(y, (1,) + tuple(y.shape))
    return call


def _reference(case, x, w, b=None):
    """The loops above, group by group; "same" as explicit zeros, half before and the odd one after."""
    s, p, d, op, g = case["stride"], case["padding"], case["dilation"], case["output_padding"], case["groups"]
    if p == "same":
        total = d * (w.shape[2] - 1)
        x, p = np.pad(x, [(0, 0), (0, 0), (total // 2, total - total // 2)]), 0
    elif p == "valid":
        p = 0
    xs, ws = np.split(x, g, axis=1), np.split(w, g, axis=0)
    if op is None:
        y = np.concatenate([naive_conv1d(xk, wk, s, p, d) for xk, wk in zip(xs, ws)], axis=1)
    else:
        y = np.concatenate([naive_conv_transpose1d(xk, wk, s, p, op, d) for xk, wk in zip(xs, ws)], axis=1)
    return y if b is None else y + b.reshape(1, -1, 1)


OPS = pytest.mark.parametrize("transposed", [False, True], ids=["conv1d", "conv_transpose1d"])


# -- values and gradients ---------------------------------------------------------------------------

@OPS
@given(data=st.data())
def test_forward_matches_loops(device, transposed, data):
    case = data.draw(conv1d_case(transposed))
    arrays = case_arrays(case)
    y = _op(case)(*[mg.tensor(a, device=device) for a in arrays])
    expected = _reference(case, *arrays)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


@OPS
@settings(max_examples=40)
@given(data=st.data())
def test_matches_torch_to_second_order(device, transposed, data):
    """Values, gradients and gradients of gradients (d/d inputs of <grads, v>) equal torch's, in float64."""
    torch = pytest.importorskip("torch")
    case = data.draw(conv1d_case(transposed))
    torch_op = torch.nn.functional.conv1d if case["output_padding"] is None else torch.nn.functional.conv_transpose1d
    assert_matches_torch_to_second_order(torch, _op(case), lambda *t: torch_op(*t, **_kwargs(case)), case_arrays(case),
                                         device, case["seed"] + 2, rtol=1e-10, atol=1e-12)


@OPS
@settings(max_examples=20)
@given(data=st.data())
def test_first_order_gradients(device, transposed, data):
    case = data.draw(conv1d_case(transposed, tiny=True))
    check_grad(_op(case), case_arrays(case), device)


@OPS
@settings(max_examples=12)
@given(data=st.data())
def test_second_order_gradients(device, transposed, data):
    """Differentiating the gradient runs the 2-D ops' backward of backward through the reshapes."""
    case = data.draw(conv1d_case(transposed, tiny=True))
    check_double_grad(_op(case), case_arrays(case), device)


@OPS
@settings(max_examples=15)
@given(data=st.data())
def test_is_the_2d_op_on_a_plane_of_height_one(device, transposed, data):
    """Bit for bit conv2d / conv_transpose2d on (N, C, 1, L), gradients included: the 1-D ops are the
    2-D ones, not a second implementation."""
    case = data.draw(conv1d_case(transposed))
    case["unbatched"] = case["channels_last"] = False
    arrays = case_arrays(case)
    s, p, d, g, op = case["stride"], case["padding"], case["dilation"], case["groups"], case["output_padding"]
    ours = [mg.tensor(a, device=device, requires_grad=True) for a in arrays]
    planes = [mg.tensor(a[:, :, None] if a.ndim == 3 else a, device=device, requires_grad=True) for a in arrays]
    y = _op(case)(*ours)
    if op is None:
        y2 = F.conv2d(*planes, stride=(1, s), padding=p if isinstance(p, str) else (0, p), dilation=(1, d), groups=g)
    else:
        y2 = F.conv_transpose2d(*planes, stride=(1, s), padding=(0, p), output_padding=(0, op), groups=g,
                                dilation=(1, d))
    np.testing.assert_array_equal(y.numpy(), y2.numpy()[:, :, 0])
    gy = np.random.default_rng(case["seed"]).standard_normal(y.shape)
    for a, b in zip(mg.grad(y, ours, mg.tensor(gy, device=device)),
                    mg.grad(y2, planes, mg.tensor(gy[:, :, None], device=device))):
        np.testing.assert_array_equal(a.numpy(), b.numpy().reshape(a.shape))


def test_same_padding_puts_the_odd_zero_after(device):
    """padding="same" with an even dilated kernel: d (k - 1) = 3 zeros, 1 before and 2 after, as PyTorch."""
    x = mg.tensor(np.arange(1.0, 6.0).reshape(1, 1, 5), device=device)
    w = mg.tensor(np.array([0.0, 0.0, 0.0, 1.0]).reshape(1, 1, 4), device=device)  # picks x[i + 3 - 1]
    np.testing.assert_array_equal(F.conv1d(x, w, padding="same").numpy(), [[[3, 4, 5, 0, 0]]])


@OPS
def test_float32_in_float32_out_and_grads(device, transposed, rng):
    x = mg.tensor(rng.standard_normal((2, 4, 9)).astype(np.float32), device=device, requires_grad=True)
    w = mg.tensor(rng.standard_normal((4, 3, 3)).astype(np.float32), device=device, requires_grad=True)
    b = mg.tensor(np.zeros(6, dtype=np.float32), device=device, requires_grad=True)
    if transposed:
        y = F.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)
        assert y.shape == (2, 6, 18)
    else:
        w = mg.tensor(rng.standard_normal((6, 2, 3)).astype(np.float32), device=device, requires_grad=True)
        y = F.conv1d(x, w, b, stride=2, padding=1, groups=2)
        assert y.shape == (2, 6, 5)
    assert y.dtype == np.float32
    gx, gw, gb = mg.grad((y * y).sum(), [x, w, b], create_graph=True)
    assert gx.dtype == gw.dtype == gb.dtype == np.float32
    (ggx,) = mg.grad((gw * gw).sum(), [x])
    assert ggx.dtype == np.float32 and ggx.shape == x.shape


def test_output_is_laid_out_channels_last_with_no_copy(device, rng):
    """The 2-D op's channels-last output reaches the caller as an (N, O, L) view of (N, L, O) memory,
    and the next conv1d takes it as it is (channels_last_1d asserts the layout)."""
    x = mg.tensor(rng.standard_normal((2, 3, 8)).astype(np.float32), device=device)
    y = channels_last_1d(x)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    w = mg.tensor(rng.standard_normal((5, 3, 3)).astype(np.float32), device=device)
    np.testing.assert_allclose(F.conv1d(y, w).numpy(), F.conv1d(x, w).numpy(), rtol=1e-6, atol=1e-6)


@OPS
def test_an_empty_batch_goes_through_forward_and_backward(device, transposed):
    x = mg.zeros(0, 2, 5, device=device, requires_grad=True)
    if transposed:
        y = F.conv_transpose1d(x, mg.ones(2, 3, 3, device=device, requires_grad=True), stride=2)
        assert y.shape == (0, 3, 11)
    else:
        y = F.conv1d(x, mg.ones(3, 2, 3, device=device, requires_grad=True))
        assert y.shape == (0, 3, 3)
    y.sum().backward()
    assert x.grad.shape == x.shape


def test_arguments_come_in_pytorchs_order(rng):
    """conv1d(input, weight, bias, stride, padding, dilation, groups) and conv_transpose1d(input, weight,
    bias, stride, padding, output_padding, groups, dilation), as in torch.nn.functional."""
    x = mg.tensor(rng.standard_normal((1, 4, 9)))
    assert F.conv1d(x, mg.tensor(rng.standard_normal((6, 2, 3))), None, 2, 1, 3, 2).shape == (1, 6, 3)
    assert F.conv_transpose1d(x, mg.tensor(rng.standard_normal((4, 3, 3))), None, 2, 1, 2, 2, 3).shape == (1, 6, 23)


# -- layers -----------------------------------------------------------------------------------------

LAYERS = [  # (layer name, positional and keyword arguments, input shape)
    ("Conv1d", (3, 4, 3), dict(), (2, 3, 9)),
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=2, dilation=2, groups=2, bias=False), (2, 4, 11)),
    ("Conv1d", (3, 4, 4), dict(padding="same", dilation=(3,)), (2, 3, 10)),  # the odd zero after
    ("Conv1d", (3, 4, (2,)), dict(padding="valid", stride=(2,)), (2, 3, 7)),
    ("Conv1d", (3, 6, 3), dict(padding=1, groups=3), (3, 8)),  # unbatched
    ("ConvTranspose1d", (3, 4, 4, 2, 1), dict(), (2, 3, 7)),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=3, padding=1, output_padding=2, groups=2, dilation=2, bias=False),
     (2, 4, 5)),
    ("ConvTranspose1d", (3, 2, 5), dict(padding=(2,), output_padding=1, dilation=2), (3, 6)),  # unbatched
]
MODES = ["zeros", "reflect", "replicate", "circular"]


def _layer_pair(torch, name, args, kwargs, mode, device):
    theirs = getattr(torch.nn, name)(*args, padding_mode=mode, dtype=torch.float64, **kwargs)
    ours = getattr(nn, name)(*args, padding_mode=mode, dtype=np.float64, **kwargs).to(device)
    return ours, theirs


@pytest.mark.parametrize("name, args, kwargs, shape, mode", [
    layer + (mode,) for layer in LAYERS for mode in MODES if layer[0] == "Conv1d" or mode == "zeros"
])  # the transposed layers take padding_mode="zeros" only, as PyTorch's (see the errors below)
def test_layer_loads_a_torch_state_dict_and_matches(device, rng, name, args, kwargs, shape, mode):
    torch = pytest.importorskip("torch")
    ours, theirs = _layer_pair(torch, name, args, kwargs, mode, device)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (key, mine), (_, ref) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert tuple(mine.shape) == tuple(ref.shape), key
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal(shape)
    xm, xt = mg.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = ours(xm), theirs(xt)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    grads = mg.grad(y, [xm] + list(ours.parameters()), mg.tensor(gy, device=device))
    expected = torch.autograd.grad(yt, [xt] + list(theirs.parameters()), torch.tensor(gy))
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10, atol=1e-12)


def test_a_stack_of_1d_layers_matches_torch(rng):
    """Conv1d -> ConvTranspose1d -> Conv1d(reflect) in float32, fed each other's channels-last outputs."""
    torch = pytest.importorskip("torch")

    def build(m):
        return m.Sequential(m.Conv1d(2, 8, 4, 2, 1), m.LeakyReLU(0.2), m.ConvTranspose1d(8, 4, 4, 2, 1), m.Tanh(),
                            m.Conv1d(4, 3, 3, padding="same", padding_mode="reflect"))
    ours, theirs = build(nn), build(torch.nn)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((4, 2, 16)).astype(np.float32)
    y = ours(mg.tensor(x))
    assert y.dtype == np.float32 and y.shape == (4, 3, 16)
    np.testing.assert_allclose(y.numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_mode_second_order(device, rng, mode):
    layer = nn.Conv1d(1, 2, 2, padding=1, padding_mode=mode, bias=False, dtype=np.float64)
    fn = lambda x, w: F.conv1d(F.pad(x, layer._pad_amounts(), mode), w)  # noqa: E731  what the layer computes
    check_double_grad(fn, [rng.standard_normal((1, 1, 4)), rng.standard_normal((2, 1, 2))], device)


@pytest.mark.parametrize("name", ["Conv1d", "ConvTranspose1d"])
def test_layers_keep_float32_and_take_unbatched_inputs(device, rng, name):
    layer = getattr(nn, name)(3, 4, 3, padding=1).to(device)
    assert layer.weight.dtype == layer.bias.dtype == np.float32
    x = mg.tensor(rng.standard_normal((3, 7)).astype(np.float32), device=device, requires_grad=True)
    y = layer(x)
    (gx,) = mg.grad(y.sum(), [x])
    assert y.shape == (4, 7) and y.dtype == gx.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), layer(x.reshape(1, 3, 7)).numpy()[0], rtol=1e-6)


def test_parameter_shapes_and_state_dict_keys():
    assert nn.Conv1d(4, 6, 3, groups=2).weight.shape == (6, 2, 3)
    assert nn.ConvTranspose1d(4, 6, 3, groups=2).weight.shape == (4, 3, 3)
    assert list(nn.Conv1d(4, 6, 3).state_dict()) == ["weight", "bias"]
    assert list(nn.ConvTranspose1d(4, 6, 3, bias=False).state_dict()) == ["weight"]
    assert nn.Conv1d(4, 6, 3).bias.shape == nn.ConvTranspose1d(4, 6, 3).bias.shape == (6,)


def test_reprs():
    assert repr(nn.Conv1d(4, 6, 3)) == "Conv1d(4, 6, kernel_size=(3,), stride=(1,))"
    assert repr(nn.Conv1d(4, 6, 3, padding="same", dilation=2, groups=2, bias=False, padding_mode="circular")) == (
        "Conv1d(4, 6, kernel_size=(3,), stride=(1,), padding=same, dilation=(2,), groups=2, bias=False, "
        "padding_mode=circular)")
    assert repr(nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, dilation=2)) == (
        "ConvTranspose1d(4, 6, kernel_size=(3,), stride=(2,), padding=(1,), dilation=(2,), output_padding=(1,))")


@pytest.mark.parametrize("make, fan_in", [
    (lambda m: m.Conv1d(16, 32, 5), 16 * 5),
    (lambda m: m.Conv1d(16, 32, 5, groups=4), 4 * 5),
    (lambda m: m.ConvTranspose1d(16, 32, 5), 32 * 5),  # PyTorch's rule: fan_in = weight.shape[1] * k
    (lambda m: m.ConvTranspose1d(16, 32, 5, groups=4), 8 * 5),
])
def test_default_init_is_kaiming_uniform_with_pytorchs_fan_in(make, fan_in):
    """Weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in being PyTorch's for the same layer."""
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        assert torch.nn.init._calculate_fan_in_and_fan_out(make(torch.nn).weight)[0] == fan_in
    mg.manual_seed(0)
    layer = make(nn)
    bound = 1 / math.sqrt(fan_in)
    for tensor in (layer.weight, layer.bias):
        values = tensor.numpy()
        assert values.dtype == np.float32 and np.abs(values).max() <= bound
    w = layer.weight.numpy()
    assert np.abs(w).max() > 0.95 * bound and abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound


def test_dcgan_init_covers_the_1d_layers():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(8, 64, 4), nn.ConvTranspose1d(64, 8, 4))
    model.apply(nn.init.dcgan_init)
    for layer in model:
        assert abs(layer.weight.numpy().std() - 0.02) < 0.003 and not np.any(layer.bias.numpy())


# -- errors ---------------------------------------------------------------------------------------

def _t(*shape, dtype=np.float32):
    return mg.tensor(np.zeros(shape, dtype=dtype))


ERRORS = [
    (lambda: F.conv1d(_t(2, 3, 8), _t(8, 4, 3)), ValueError,
     r"conv1d: input has 3 channels but weight of shape \(8, 4, 3\) expects 4"),
    (lambda: F.conv_transpose1d(_t(2, 3, 8), _t(4, 8, 3)), ValueError,
     r"conv_transpose1d: input has 3 channels but weight of shape \(4, 8, 3\) expects 4"),
    (lambda: F.conv1d(_t(8), _t(8, 3, 3)), ValueError,
     r"conv1d: input must be 2-D \(C, L\) or 3-D \(N, C, L\), got shape \(8,\)"),
    (lambda: F.conv1d(_t(1, 3, 8, 8), _t(8, 3, 3)), ValueError,
     r"conv1d: input must be 2-D \(C, L\) or 3-D \(N, C, L\), got shape \(1, 3, 8, 8\)"),
    (lambda: F.conv_transpose1d(_t(1, 3, 8, 8), _t(3, 8, 3)), ValueError,
     r"conv_transpose1d: input must be 2-D \(C, L\) or 3-D \(N, C, L\), got shape \(1, 3, 8, 8\)"),
    (lambda: F.conv1d(_t(1, 3, 8), _t(8, 3, 3, 3)), ValueError,
     r"conv1d: weight must be 3-D \(out_channels, in_channels / groups, k\), got shape \(8, 3, 3, 3\)"),
    (lambda: F.conv_transpose1d(_t(1, 3, 8), _t(3, 8)), ValueError,
     r"conv_transpose1d: weight must be 3-D \(in_channels, out_channels / groups, k\), got shape \(3, 8\)"),
    (lambda: F.conv1d(_t(1, 3, 8), _t(8, 3, 3), padding="full"), ValueError,
     r"conv1d: padding must be an int, a 1-tuple of ints, 'valid' or 'same', got 'full'"),
    (lambda: F.conv1d(_t(1, 3, 8), _t(8, 3, 3), stride=2, padding="same"), ValueError,
     r"conv1d: padding='same' needs stride 1, got stride 2"),
    (lambda: F.conv1d(_t(1, 3, 8), _t(8, 3, 3), stride=(2,), padding="same"), ValueError,
     r"conv1d: padding='same' needs stride 1, got stride \(2,\)"),
    (lambda: F.conv_transpose1d(_t(1, 3, 8), _t(3, 8, 3), padding="same"), TypeError,
     r"conv_transpose1d: padding must be an int or a 1-tuple of ints, got 'same'"),
    (lambda: F.conv1d(_t(1, 3, 8), _t(8, 3, 3), stride=(1, 1)), TypeError,
     r"conv1d: stride must be an int or a 1-tuple of ints, got \(1, 1\) \(input of shape \(1, 3, 8\), "
     r"weight of shape \(8, 3, 3\)\)"),
    (lambda: F.conv1d(_t(1, 3, 8), _t(8, 3, 3), stride=0), ValueError, r"conv1d: stride must be at least 1, got 0"),
    (lambda: F.conv1d(_t(1, 3, 8), _t(8, 3, 3), padding=-1), ValueError, r"conv1d: padding must be at least 0"),
    (lambda: F.conv1d(_t(1, 3, 8), _t(8, 3, 3), dilation=[0]), ValueError, r"conv1d: dilation must be at least 1"),
    (lambda: F.conv1d(_t(1, 3, 8), _t(8, 3, 3), stride=1.5), TypeError,
     r"conv1d: stride must be an int or a 1-tuple of ints, got 1.5"),
    (lambda: F.conv1d(_t(1, 4, 8), _t(8, 2, 3), groups=0), ValueError, r"conv1d: groups must be a positive int"),
    (lambda: F.conv1d(_t(1, 4, 8), _t(8, 2, 3), groups=4), ValueError,
     r"conv1d: input has 4 channels but weight of shape \(8, 2, 3\) with groups=4 expects 8"),
    (lambda: F.conv1d(_t(1, 6, 8), _t(8, 2, 3), groups=3), ValueError,
     r"conv1d: weight of shape \(8, 2, 3\) has 8 rows, not divisible by groups=3"),
    (lambda: F.conv_transpose1d(_t(1, 6, 8), _t(6, 2, 3), groups=4), ValueError,
     r"conv_transpose1d: weight of shape \(6, 2, 3\) has 6 rows, not divisible by groups=4"),
    (lambda: F.conv1d(_t(1, 3, 0), _t(8, 3, 3), padding=2), ValueError,
     r"conv1d: input of shape \(1, 3, 0\) has no elements along its length"),
    (lambda: F.conv1d(_t(1, 3, 2), _t(8, 3, 3)), ValueError,
     r"conv1d: output length would be 0 for input of shape \(1, 3, 2\) and weight of shape \(8, 3, 3\) with "
     r"stride 1, padding 0, dilation 1: the padded input \(length 2\) is shorter than the kernel \(spanning 3\)"),
    (lambda: F.conv1d(_t(1, 3, 4), _t(8, 3, 3), padding=1, dilation=3), ValueError,
     r"conv1d: output length would be 0 .* the padded input \(length 6\) is shorter than the kernel \(spanning 7\)"),
    (lambda: F.conv1d(_t(1, 3, 4), _t(8, 3, 3), padding="valid", dilation=2), ValueError,
     r"conv1d: output length would be 0"),
    (lambda: F.conv1d(_t(1, 3, 8), _t(8, 3, 3), _t(4)), ValueError,
     r"conv1d: bias of shape \(4,\) does not fit weight of shape \(8, 3, 3\) \(expects \(8,\)\)"),
    (lambda: F.conv1d(_t(1, 3, 8), _t(8, 3, 3, dtype=np.float64)), ValueError,
     r"conv1d: weight dtype float64 \(shape \(8, 3, 3\)\) differs from input dtype float32"),
    (lambda: F.conv1d(_t(1, 3, 8, dtype=np.int64), _t(8, 3, 3, dtype=np.int64)), TypeError,
     r"conv1d: input must be floating point"),
    (lambda: F.conv_transpose1d(_t(1, 3, 4), _t(3, 8, 3), stride=2, output_padding=2), ValueError,
     r"conv_transpose1d: output_padding 2 must be smaller than the stride \(2\) or the dilation \(1\) "
     r"\(input of shape \(1, 3, 4\), weight of shape \(3, 8, 3\)\)"),
    (lambda: F.conv_transpose1d(_t(1, 3, 1), _t(3, 8, 3), padding=2), ValueError,
     r"conv_transpose1d: output length would be -1 for input of shape \(1, 3, 1\) and weight of shape \(3, 8, 3\) "
     r"with stride 1, padding 2, output_padding 0, dilation 1: the padding is too large"),
    (lambda: F.conv_transpose1d(_t(1, 3, 4), _t(3, 8, 3), _t(3)), ValueError,
     r"conv_transpose1d: bias of shape \(3,\) does not fit weight of shape \(3, 8, 3\) \(expects \(8,\)\)"),
    (lambda: nn.Conv1d(3, 4, (3, 3)), TypeError,
     r"Conv1d: kernel_size must be an int or a 1-tuple of ints, got \(3, 3\)"),
    (lambda: nn.ConvTranspose1d(3, 4, 3, output_padding=(1, 1)), TypeError,
     r"ConvTranspose1d: output_padding must be an int or a 1-tuple of ints"),
    (lambda: nn.Conv1d(3, 4, 3, groups=2), ValueError,
     r"Conv1d: in_channels \(3\) and out_channels \(4\) must both be divisible by groups \(2\)"),
    (lambda: nn.Conv1d(3, 4, 3, stride=2, padding="same"), ValueError,
     r"Conv1d: padding='same' needs stride 1, got stride 2"),
    (lambda: nn.Conv1d(3, 4, 3, padding="full"), ValueError,
     r"Conv1d: padding must be an int, a 1-tuple of ints, 'valid' or 'same', got 'full'"),
    (lambda: nn.Conv1d(3, 4, 3, padding_mode="mirror"), ValueError,
     r"Conv1d: padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', got 'mirror'"),
    (lambda: nn.ConvTranspose1d(3, 4, 3, padding_mode="reflect"), ValueError,
     r"ConvTranspose1d: only padding_mode='zeros' is supported \(as in PyTorch\), got 'reflect'"),
    (lambda: nn.Conv1d(3, 4, 3)(_t(2, 4, 8)), ValueError,
     r"Conv1d: expected input \(N, 3, L\) or unbatched \(3, L\), got shape \(2, 4, 8\)"),
    (lambda: nn.ConvTranspose1d(3, 4, 3)(_t(1, 3, 8, 8)), ValueError,
     r"ConvTranspose1d: expected input \(N, 3, L\) or unbatched \(3, L\), got shape \(1, 3, 8, 8\)"),
    (lambda: nn.Conv1d(1, 1, 7, padding=3, padding_mode="reflect")(_t(1, 1, 3)), ValueError,
     r"pad: reflect padding \(3, 3\) of dim 2 \(size 3"),
]


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_bad_arguments_raise_clear_errors_in_1d_terms(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    text = str(info.value)
    # nothing of the 2-D op the 1-D one runs on shows through
    for word in ("2d", "2D", "kh", "kw", "height", "width", "4-D", "pair"):
        assert word not in text, text
    assert not re.search(r"\d+x\d+", text), text  # a 2-D output size, as conv2d writes it


def test_mismatched_devices_raise(device):
    if device == "cpu":
        pytest.skip("needs a GPU to put the two operands on different devices")
    x = mg.tensor(np.zeros((1, 3, 8), dtype=np.float32), device=device)
    w = mg.tensor(np.zeros((8, 3, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"conv1d: weight is on cpu \(shape \(8, 3, 3\)\) but input is on cuda"):
        F.conv1d(x, w)
