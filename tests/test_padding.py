"""pad (constant, reflect, replicate, circular), the 1-D, 2-D and 3-D padding layers and Conv2d's padding_mode:
forward against an index-based reference written from the definitions (and PyTorch when installed),
float64 first- and second-order gradient checks over hypothesis-drawn shapes and pads, dtypes, and the
error messages."""
import re

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigan as mg
import minigan.functional as F
import minigan.nn as nn
from gradcheck import check_double_grad, check_grad

MODES = ["constant", "reflect", "replicate", "circular"]


def source_index(j, n, l, r, mode):
    """The input index that output index j of a dim of size n padded by (l, r) reads (None: the fill).

    reflect and replicate pad the whole input and then crop, so j sits at j - l relative to the input;
    circular crops first and wraps the n' = n + min(l, 0) + min(r, 0) elements that are left."""
    if mode == "circular":
        left = n + min(l, 0) + min(r, 0)
        return max(-l, 0) + (j - max(l, 0)) % left
    i = j - l
    if mode == "reflect":
        return -i if i < 0 else 2 * (n - 1) - i if i >= n else i
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    return i if 0 <= i < n else None


def naive_pad(x, pad, mode, value):
    k = len(pad) // 2
    lead = x.ndim - k
    widths = [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    out_shape = x.shape[:lead] + tuple(n + l + r for n, (l, r) in zip(x.shape[lead:], widths))
    y = np.empty(out_shape)
    for index in np.ndindex(*out_shape):
        src = [source_index(j, n, l, r, mode) for j, n, (l, r) in zip(index[lead:], x.shape[lead:], widths)]
        y[index] = value if None in src else x[index[:lead] + tuple(src)]
    return y


def amounts(draw, n, mode):
    """(l, r) for a dim of size n that ``mode`` accepts, negative amounts (crops) included; reflect and
    replicate keep at least one element, as PyTorch needs for them."""
    if mode == "constant":  # the crops may take the whole dim, no more
        l = draw(st.integers(-n, 3))
        return l, draw(st.integers(-(n - max(-l, 0)), 3))
    if mode == "replicate":
        l = draw(st.integers(-n, 3))
        return l, draw(st.integers(1 - n - l, 3))
    if mode == "reflect":  # each amount below n; a crop may reach into the other side's reflection
        l = draw(st.integers(max(-n, 2 - 2 * n), n - 1))
        return l, draw(st.integers(1 - n - l, n - 1))
    l = draw(st.integers(-n, n))  # circular: each positive amount at most what the crops leave
    return (l, draw(st.integers(l - n, n))) if l >= 0 else (l, draw(st.integers(-(n + l), n + l)))


@st.composite
def pad_case(draw, tiny=False):
    """(shape, pad, mode, value, seed). Non-constant modes pad 1..3 trailing dims of an input with one or
    two dims more; constant any number of trailing dims. ``tiny`` keeps the numerical gradient checks
    (two forward passes per input element) to a few dozen elements."""
    mode = draw(st.sampled_from(MODES))
    top = 3 if tiny else 4
    if mode == "constant":
        ndim = draw(st.integers(1, 3 if tiny else 4))
        k = draw(st.integers(1, ndim))
    else:
        k = draw(st.integers(1, 2 if tiny else 3))
        ndim = k + draw(st.integers(1, 1 if tiny and k == 2 else 2))
    shape = tuple(draw(st.integers(1, 2)) for _ in range(ndim - k)) + tuple(draw(st.integers(1, top))
                                                                          for _ in range(k))
    pad = ()
    for n in reversed(shape[ndim - k:]):  # pad lists the last dim first
        pad += amounts(draw, n, mode)
    value = draw(st.sampled_from([0.0, 1.5, -2])) if mode == "constant" else 0.0
    return shape, pad, mode, value, draw(st.integers(0, 2 ** 16))


@given(case=pad_case())
def test_pad_matches_definition(device, case):
    shape, pad, mode, value, seed = case
    x = np.random.default_rng(seed).standard_normal(shape)
    y = F.pad(mg.tensor(x, device=device), pad, mode, value)
    expected = naive_pad(x, pad, mode, value)
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y.numpy(), expected)


@given(case=pad_case())
def test_pad_matches_torch(device, case):
    torch = pytest.importorskip("torch")
    shape, pad, mode, value, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    ours, theirs = mg.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = F.pad(ours, pad, mode, value)
    yt = torch.nn.functional.pad(theirs, pad, mode, value if mode == "constant" else None)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    gy = rng.standard_normal(y.shape)
    (gx,) = mg.grad(y, [ours], mg.tensor(gy, device=device))
    (expected,) = torch.autograd.grad(yt, [theirs], torch.tensor(gy))
    np.testing.assert_allclose(gx.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


@given(case=pad_case(tiny=True))
def test_pad_gradients(device, case):
    shape, pad, mode, value, seed = case
    x = np.random.default_rng(seed).standard_normal(shape)
    fn = lambda t: F.pad(t, pad, mode, value)  # noqa: E731
    check_grad(fn, [x], device)
    check_double_grad(fn, [x], device)


@pytest.mark.parametrize("mode", MODES)
def test_pad_keeps_float32(device, rng, mode):
    x = mg.tensor(rng.standard_normal((2, 3, 4, 5)).astype(np.float32), device=device, requires_grad=True)
    y = F.pad(x, (1, 2, 3, -1), mode, 2.5 if mode == "constant" else 0.0)
    (gx,) = mg.grad((y * y).sum(), [x], create_graph=True)
    (ggx,) = mg.grad(gx.sum(), [x])
    assert y.dtype == gx.dtype == ggx.dtype == np.float32


def test_pad_of_nothing_is_the_input_and_a_value_fills(rng):
    x = mg.tensor(rng.standard_normal((1, 2, 3)))
    assert F.pad(x, (0, 0, 0, 0), "reflect") is x
    np.testing.assert_array_equal(F.pad(x, (1, 0), value=7).numpy()[..., 0], 7)
    np.testing.assert_array_equal(F.pad(x, (-1, -1, 0, 0)).numpy(), x.numpy()[..., 1:2])


@pytest.mark.parametrize("shape, args, error, message", [
    ((2, 3), ((1, 1, 1),), ValueError,
     r"pad: pad must have an even length, .* got \(1, 1, 1\) of length 3 \(input shape \(2, 3\)\)"),
    ((2, 3), ((1, 1, 1, 1, 1, 1),), ValueError,
     r"pad: pad \(1, 1, 1, 1, 1, 1\) of length 6 pads 3 dims, but the input of shape \(2, 3\) has 2"),
    ((2, 3), ((1.5, 1),), TypeError, r"pad: pad must be a tuple of ints, got \(1.5, 1\) \(input shape \(2, 3\)\)"),
    ((2, 3), (2,), TypeError, r"pad: pad must be a tuple of ints, got 2"),
    ((2, 3), ((1, 1), "mirror"), ValueError,
     r"pad: mode must be one of 'constant', 'reflect', 'replicate', 'circular', got 'mirror' \(input shape \(2, 3\)\)"),
    ((2, 3), ((1, 1), "constant", "1"), TypeError, r"pad: value must be a number, got '1'"),
    ((2, 3), ((1, 1), "reflect", 1.0), ValueError,
     r"pad: mode 'reflect' fills from the input and takes no value, got value=1.0 \(input shape \(2, 3\)\)"),
    ((1, 1, 4), ((4, 0), "reflect"), ValueError,
     r"pad: reflect padding \(4, 0\) of dim 2 \(size 4; input shape \(1, 1, 4\)\) must be less than the dim's size"),
    ((1, 1, 4), ((0, 5), "circular"), ValueError,
     r"pad: circular padding \(0, 5\) of dim 2 \(size 4; input shape \(1, 1, 4\)\) may wrap around at most once: "
     r"each amount must be at most the dim's size"),
    ((1, 1, 4), ((-2, 3), "circular"), ValueError,
     r"pad: circular padding \(-2, 3\) of dim 2 .* at most the 2 elements left after cropping"),
    ((1, 1, 0), ((1, 0), "replicate"), ValueError,
     r"pad: replicate padding \(1, 0\) of dim 2 \(size 0; input shape \(1, 1, 0\)\) has no element to copy from"),
    ((1, 4), ((-3, -2),), ValueError, r"pad: padding \(-3, -2\) of dim 1 \(size 4; input shape \(1, 4\)\) crops more"),
    ((1, 4), ((2, -5),), ValueError, r"pad: padding \(2, -5\) of dim 1 .* crops more than the dim holds"),
    ((1, 4), ((-3, -2), "replicate"), ValueError,
     r"pad: padding \(-3, -2\) of dim 1 \(size 4; input shape \(1, 4\)\) would leave -1 elements"),
    ((4,), ((1, 1), "reflect"), ValueError,
     r"pad: mode 'reflect' pads the last 1, 2 or 3 dims .* pad of length 2 needs a 2-D or 3-D input, got shape \(4,\)"),
    ((1, 1, 2, 3), ((1, 1), "replicate"), ValueError, r"pad: mode 'replicate' .* needs a 2-D or 3-D input, got shape"),
    ((1, 1, 1, 1, 1, 1, 2), ((1,) * 8, "circular"), ValueError, r"pad: mode 'circular' .* pad of length 8 needs"),
])
def test_pad_errors(shape, args, error, message):
    with pytest.raises(error, match=message):
        F.pad(mg.zeros(*shape), *args)


# -- layers ---------------------------------------------------------------------------------------

LAYERS = [  # (name, arguments, the mode of F.pad it uses)
    ("ZeroPad2d", (2,), "constant"), ("ZeroPad2d", ((1, 0, -1, 2),), "constant"),
    ("ConstantPad2d", (1, 3.5), "constant"), ("ConstantPad2d", ([2, 0, 1, 3], -1), "constant"),
    ("ReflectionPad2d", (2,), "reflect"), ("ReflectionPad2d", ((1, 3, 0, 2),), "reflect"),
    ("ReplicationPad2d", (1,), "replicate"), ("ReplicationPad2d", ((3, 0, 2, -1),), "replicate"),
    ("CircularPad2d", (2,), "circular"), ("CircularPad2d", ((0, 4, 1, 2),), "circular"),
    ("ZeroPad1d", (2,), "constant"), ("ZeroPad1d", ((1, -2),), "constant"),
    ("ConstantPad1d", (1, 3.5), "constant"), ("ConstantPad1d", ([-1, 3], -1), "constant"),
    ("ReflectionPad1d", (3,), "reflect"), ("ReflectionPad1d", ((3, -2),), "reflect"),
    ("ReplicationPad1d", (1,), "replicate"), ("ReplicationPad1d", ((-1, 4),), "replicate"),
    ("CircularPad1d", (2,), "circular"), ("CircularPad1d", ((-1, 3),), "circular"),
    ("ZeroPad3d", (1,), "constant"), ("ZeroPad3d", ((1, 0, -1, 2, 0, 1),), "constant"),
    ("ConstantPad3d", (1, 3.5), "constant"), ("ConstantPad3d", ([2, 0, 1, -1, -2, 2], -1), "constant"),
    ("ReflectionPad3d", (2,), "reflect"), ("ReflectionPad3d", ((1, 3, 0, 2, 2, -1),), "reflect"),
    ("ReplicationPad3d", (1,), "replicate"), ("ReplicationPad3d", ((3, 0, 2, -1, 0, 1),), "replicate"),
    ("CircularPad3d", (2,), "circular"), ("CircularPad3d", ((0, 4, 1, 2, -1, 3),), "circular"),
]
MODE_OF = {name: mode for name, _, mode in LAYERS}


def layer_dims(name):
    return int(name[-2])  # "...Pad1d" pads 1 dim, "...Pad2d" 2, "...Pad3d" 3


@pytest.mark.parametrize("name, args, mode", LAYERS)
def test_padding_layers_are_pad(device, rng, name, args, mode):
    layer, dims = getattr(nn, name)(*args), layer_dims(name)
    padding = (args[0],) * 2 * dims if isinstance(args[0], int) else tuple(args[0])
    assert layer.padding == padding and layer.state_dict() == {} and not list(layer.parameters())
    batched = (2, 3, 4, 5, 6)[:dims + 2]
    for shape in (batched, batched[1:]):  # batched and unbatched
        x = mg.tensor(rng.standard_normal(shape).astype(np.float32), device=device, requires_grad=True)
        y = layer(x)
        value = args[1] if name.startswith("ConstantPad") else 0.0
        np.testing.assert_array_equal(y.numpy(), F.pad(x, padding, mode, value).numpy())
        (gx,) = mg.grad((y * y).sum(), [x])
        assert y.dtype == gx.dtype == np.float32


@pytest.mark.parametrize("name, args, mode", LAYERS)
def test_padding_layers_match_torch(rng, name, args, mode):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    if name.startswith("ZeroPad"):  # as in PyTorch, a ZeroPad is a ConstantPad
        assert isinstance(ours, getattr(nn, name.replace("Zero", "Constant")))
    batched = (2, 3, 4, 5, 6)[:layer_dims(name) + 2]
    for shape in (batched, batched[1:]):
        x = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_array_equal(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())


@st.composite
def pad_layer_case(draw, dims):
    """(layer name, constructor arguments, input shape, seed): a ``dims``-D layer with amounts its mode
    accepts for the drawn sizes, crops included ((left, right) in 1-D, (left, right, top, bottom, front,
    back) in 3-D), on a batched (N, C, *) or unbatched (C, *) input; 3-D sides kept small."""
    name = draw(st.sampled_from([f"{kind}Pad{dims}d" for kind in ("Zero", "Constant", "Reflection",
                                                                  "Replication", "Circular")]))
    spatial = tuple(draw(st.integers(1, 5 if dims == 1 else 3)) for _ in range(dims))
    shape = tuple(draw(st.lists(st.integers(1, 3 if dims == 1 else 2), min_size=1, max_size=2))) + spatial
    padding = ()
    for n in reversed(spatial):  # padding lists the last dim first
        padding += amounts(draw, n, MODE_OF[name])
    if draw(st.booleans()):
        padding = list(padding)  # PyTorch takes any sequence and keeps a tuple
    args = (padding, draw(st.sampled_from([0.0, 1.5, -2]))) if name.startswith("Constant") else (padding,)
    return name, args, shape, draw(st.integers(0, 2 ** 16))


def check_layer_against_torch(device, case):
    torch = pytest.importorskip("torch")
    name, args, shape, seed = case
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    xm, xt = mg.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = ours(xm), theirs(xt)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    gy = rng.standard_normal(y.shape)
    (gx,) = mg.grad(y, [xm], mg.tensor(gy, device=device))
    (expected,) = torch.autograd.grad(yt, [xt], torch.tensor(gy))
    np.testing.assert_allclose(gx.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


@given(case=pad_layer_case(1))
def test_1d_padding_layers_match_torch(device, case):
    check_layer_against_torch(device, case)


@given(case=pad_layer_case(3))
def test_3d_padding_layers_match_torch(device, case):
    check_layer_against_torch(device, case)


@pytest.mark.parametrize("name, args, mode", [case for case in LAYERS if layer_dims(case[0]) in (1, 3)])
def test_1d_and_3d_padding_layers_gradients(device, rng, name, args, mode):
    layer = getattr(nn, name)(*args)
    x = rng.standard_normal((2, 4) if layer_dims(name) == 1 else (1, 4, 3, 4))  # unbatched (C, L), (C, D, H, W)
    check_grad(layer, [x], device)
    check_double_grad(layer, [x], device)


SIDES = {1: r"2-tuple of ints \(left, right\)", 2: r"4-tuple of ints \(left, right, top, bottom\)",
         3: r"6-tuple of ints \(left, right, top, bottom, front, back\)"}


@pytest.mark.parametrize("name, padding", [(name, padding) for name in ("ReflectionPad2d", "ConstantPad2d")
                                           for padding in (1.5, (1, 2), (1, 2, 3, True), "1")]
                         + [(name, padding) for name in ("ReflectionPad1d", "ZeroPad1d", "ConstantPad1d")
                            for padding in (1.5, (1, 2, 3, 4), (1, True), [2.0, 1], "1")]
                         + [(name, padding) for name in ("ReplicationPad3d", "CircularPad3d", "ZeroPad3d",
                                                         "ConstantPad3d")
                            for padding in (1.5, (1, 2, 3, 4), (1, 2, 3, 4, 5, 6, 7), (1, 2, 3, 4, 5.0, 6), None)])
def test_padding_layers_refuse_bad_padding(name, padding):
    args = (padding, 0.0) if name.startswith("Constant") else (padding,)
    with pytest.raises(TypeError, match=rf"{name}: padding must be an int or a {SIDES[layer_dims(name)]}, got "
                                        + re.escape(repr(padding))):
        getattr(nn, name)(*args)


def test_padding_layers_refuse_bad_input():
    for layer, shape in [(nn.ReflectionPad1d(1), (1, 2, 3, 4)), (nn.ReplicationPad1d(1), (4,)),
                         (nn.CircularPad1d(1), (4,)), (nn.ReflectionPad2d(1), (3, 4)),
                         (nn.CircularPad2d(1), (1, 1, 2, 3, 4)), (nn.ReflectionPad3d(1), (3, 4, 5)),
                         (nn.ReplicationPad3d(1), (1, 1, 1, 3, 4, 5)), (nn.CircularPad3d(1), (4, 5))]:
        name = type(layer).__name__
        dims = {"1d": "L", "2d": "H, W", "3d": "D, H, W"}[name[-2:]]
        with pytest.raises(ValueError, match=rf"{name}: expected input \(N, C, {dims}\) or \(C, {dims}\), got shape "
                                             + re.escape(str(shape))):
            layer(mg.zeros(*shape))
    with pytest.raises(ValueError, match=r"pad: reflect padding \(4, 4\) of dim 1 \(size 4; input shape \(1, 4\)\) "
                                         r"must be less than the dim's size"):
        nn.ReflectionPad1d(4)(mg.zeros(1, 4))
    with pytest.raises(ValueError, match=r"pad: circular padding \(-2, 3\) of dim 2 \(size 4; input shape "
                                         r"\(2, 1, 4\)\) may wrap around at most once"):
        nn.CircularPad1d((-2, 3))(mg.zeros(2, 1, 4))
    # constant pads the last dim of any input, as in PyTorch
    assert nn.ConstantPad1d(1, 2.0)(mg.zeros(4)).shape == (6,)
    assert nn.ZeroPad1d((1, -2))(mg.zeros(1, 2, 3, 4)).shape == (1, 2, 3, 3)
    assert nn.ConstantPad3d(1, 2.0)(mg.zeros(4, 4, 4)).shape == (6, 6, 6)
    assert nn.ZeroPad3d((1, 0, 0, 0, 0, -1))(mg.zeros(1, 2, 3, 4, 5, 6)).shape == (1, 2, 3, 3, 5, 7)
    with pytest.raises(ValueError, match=r"pad: reflect padding \(3, 3\) of dim 1 \(size 3; input shape "
                                         r"\(2, 3, 4, 5\)\) must be less than the dim's size"):
        nn.ReflectionPad3d(3)(mg.zeros(2, 3, 4, 5))


@pytest.mark.parametrize("name", [f"{kind}Pad3d" for kind in ("Zero", "Constant", "Reflection", "Replication",
                                                               "Circular")])
def test_3d_padding_layers_keep_float32_to_second_order(device, rng, name):
    padding = (1, 0, 2, 1, 1, 0)
    layer = nn.ConstantPad3d(padding, 2.5) if name == "ConstantPad3d" else getattr(nn, name)(padding)
    x = mg.tensor(rng.standard_normal((2, 3, 3, 4)).astype(np.float32), device=device, requires_grad=True)
    y = layer(x)
    (gx,) = mg.grad((y * y).sum(), [x], create_graph=True)
    (ggx,) = mg.grad(gx.sum(), [x])
    assert y.shape == (2, 4, 6, 5) and y.dtype == gx.dtype == ggx.dtype == np.float32


# -- Conv2d's padding_mode ------------------------------------------------------------------------

CONVS = [  # keyword arguments of Conv2d(3, 4, ...), and an input shape
    (dict(kernel_size=3, padding=1), (2, 3, 5, 6)),
    (dict(kernel_size=(3, 2), padding=(2, 1), stride=2, bias=False), (2, 3, 6, 5)),
    (dict(kernel_size=(4, 3), padding="same", dilation=(1, 2)), (1, 3, 5, 6)),  # the odd zero after
    (dict(kernel_size=3, padding="valid"), (2, 3, 4, 4)),
    (dict(kernel_size=3, padding=1), (3, 5, 5)),  # unbatched
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on its own zero-padded copy
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("kwargs, shape", CONVS)
def test_conv2d_padding_mode_matches_torch(device, rng, mode, kwargs, shape):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Conv2d(3, 4, padding_mode=mode, dtype=torch.float64, **kwargs)
    ours = nn.Conv2d(3, 4, padding_mode=mode, dtype=np.float64, **kwargs).to(device)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal(shape)
    xm, xt = mg.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = ours(xm), theirs(xt)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    params, ref_params = list(ours.parameters()), list(theirs.parameters())
    grads = mg.grad(y, [xm] + params, mg.tensor(gy, device=device))
    expected = torch.autograd.grad(yt, [xt] + ref_params, torch.tensor(gy))
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_mode_second_order(device, rng, mode):
    # what Conv2d(1, 2, 2, padding=1, padding_mode=mode, bias=False) computes
    fn = lambda x, w: F.conv2d(F.pad(x, (1, 1, 1, 1), mode), w)  # noqa: E731
    check_double_grad(fn, [rng.standard_normal((1, 1, 3, 2)), rng.standard_normal((2, 1, 2, 2))], device)


def test_conv2d_padding_mode_keeps_float32(device, rng):
    conv = nn.Conv2d(3, 4, 3, padding="same", padding_mode="reflect").to(device)
    x = mg.tensor(rng.standard_normal((2, 3, 5, 5)).astype(np.float32), device=device, requires_grad=True)
    y = conv(x)
    (gx,) = mg.grad(y.sum(), [x])
    assert y.shape == (2, 4, 5, 5) and y.dtype == gx.dtype == np.float32


def test_padding_mode_errors():
    with pytest.raises(ValueError, match=r"Conv2d: padding_mode must be one of 'zeros', 'reflect', 'replicate', "
                                         r"'circular', got 'mirror'"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    for mode in ("reflect", "replicate", "circular"):
        with pytest.raises(ValueError, match=rf"ConvTranspose2d: only padding_mode='zeros' is supported "
                                             rf"\(as in PyTorch\), got '{mode}'"):
            nn.ConvTranspose2d(3, 4, 3, padding_mode=mode)
    with pytest.raises(ValueError, match=r"pad: reflect padding \(3, 3\) of dim 2 \(size 3"):
        nn.Conv2d(1, 1, 7, padding=3, padding_mode="reflect")(mg.zeros(1, 1, 3, 3))
