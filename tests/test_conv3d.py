"""conv3d, conv_transpose3d, Conv3d and ConvTranspose3d: forward against direct loops written from the
definitions and against PyTorch (values, first- and second-order gradients, float64 and float32) over
hypothesis-drawn geometries, float64 numerical gradient checks of both orders, the adjoint identity,
batch chunks, layouts, layers loading a torch state_dict (every padding mode), reprs, init, unbatched
inputs, float32 kept, and the error messages."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from conv_cases import case_arrays
from gradcheck import check_double_grad, check_grad
from torch_compare import (
    assert_input_grad_matches_torch, assert_matches_torch_to_second_order, assert_reprs_and_state_dicts_match,
)

# PyTorch's note that "same" with an even kernel pads a copy of the input; a note, not a failure.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

ALL = slice(None)


def naive_conv3d(x, w, stride, padding, dilation):
    """y[n, o, i] = sum_{c, u} w[o, c, u] x[n, c, i s + u d - p], i and u running over voxels and kernel
    offsets (one group, no bias); ``padding`` is one (before, after) pair per axis."""
    n, c = x.shape[:2]
    o, _ = w.shape[:2]
    size, kernel = x.shape[2:], w.shape[2:]
    out = [(m + a + b - d * (k - 1) - 1) // s + 1
           for m, (a, b), k, s, d in zip(size, padding, kernel, stride, dilation)]
    y = np.zeros((n, o, *out))
    for i in itertools.product(*map(range, out)):
        for u in itertools.product(*map(range, kernel)):
            j = tuple(ii * s + uu * d - a for ii, uu, s, d, (a, _) in zip(i, u, stride, dilation, padding))
            if all(0 <= jj < m for jj, m in zip(j, size)):
                y[(ALL, ALL) + i] += x[(ALL, ALL) + j] @ w[(ALL, ALL) + u].T
    return y


def naive_conv_transpose3d(x, w, stride, padding, output_padding, dilation):
    """Scatter: each input voxel x[n, c, j] adds x[n, c, j] w[c, :, u] at output voxel j s + u d - p
    (one group, no bias)."""
    n, c = x.shape[:2]
    _, o = w.shape[:2]
    size, kernel = x.shape[2:], w.shape[2:]
    out = [(m - 1) * s - 2 * p + d * (k - 1) + e + 1
           for m, k, s, p, e, d in zip(size, kernel, stride, padding, output_padding, dilation)]
    y = np.zeros((n, o, *out))
    for j in itertools.product(*map(range, size)):
        for u in itertools.product(*map(range, kernel)):
            i = tuple(jj * s + uu * d - p for jj, uu, s, d, p in zip(j, u, stride, dilation, padding))
            if all(0 <= ii < m for ii, m in zip(i, out)):
                y[(ALL, ALL) + i] += x[(ALL, ALL) + j] @ w[(ALL, ALL) + u]
    return y


def _axis_options(transposed, kind, max_size, max_out, max_kernel):
    """Every (kernel, stride, padding, dilation, output_padding, input size) of one axis with an input of at
    most ``max_size`` and an output of 1 to ``max_out`` elements. ``kind`` is the padding: "int", or
    conv3d's "valid" (no padding) or "same" (stride 1, the output the input's size)."""
    options = []
    for k, s, p, d, size in itertools.product(range(1, max_kernel + 1), (1, 2, 3), (0, 1, 2), (1, 2),
                                              range(1, max_size + 1)):
        if transposed:
            for e in range(max(s, d)):
                if 1 <= (size - 1) * s - 2 * p + d * (k - 1) + e + 1 <= max_out:
                    options.append((k, s, p, d, e, size))
        elif kind == "same":
            if s == 1 and p == 0 and size <= max_out:
                options.append((k, s, p, d, None, size))
        elif kind == "int" or p == 0:
            if 1 <= (size + 2 * p - d * (k - 1) - 1) // s + 1 <= max_out:
                options.append((k, s, p, d, None, size))
    return options


# The tiny cases are for the numerical gradient checks, which cost two passes per element.
OPTIONS = {(transposed, kind, tiny): _axis_options(transposed, kind, *((3, 3, 2) if tiny else (4, 4, 3)))
           for transposed, kind, tiny in itertools.product((False, True), ("int", "valid", "same"), (False, True))}


@st.composite
def conv3d_case(draw, transposed=False, tiny=False):
    """Shapes and geometry of a conv3d (or conv_transpose3d) whose output has at least one voxel. One axis
    option for all three axes lets the geometry be passed as plain ints."""
    kind = "int" if transposed else draw(st.sampled_from(["int", "valid", "same"]))
    options = OPTIONS[transposed, kind, tiny]
    if draw(st.booleans()):
        axes = [draw(st.sampled_from(options))] * 3
        form = draw(st.sampled_from(["int", "tuple", "list"]))
    else:
        axes = [draw(st.sampled_from(options)) for _ in range(3)]
        form = draw(st.sampled_from(["tuple", "list"]))
    k, s, p, d, e, size = zip(*axes)
    if tiny:  # at most two channels in and out
        n, (c, o, g) = 1, draw(st.sampled_from([(1, 1, 1), (2, 1, 1), (1, 2, 1), (1, 1, 2)]))
    else:
        n, c, o, g = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    w_shape = (c * g, o) + k if transposed else (o * g, c) + k
    return dict(shapes=((n, c * g) + size, w_shape), bias=draw(st.booleans()), stride=s, dilation=d,
                padding=p if kind == "int" else kind, output_padding=e if transposed else None, groups=g, form=form,
                channels_last=draw(st.booleans()), unbatched=n == 1 and draw(st.booleans()),
                seed=draw(st.integers(0, 2 ** 16)))


def _as(form, triple):
    """A triple as the caller may pass it: an int (all three equal), a tuple or a list."""
    return {"int": triple[0], "tuple": tuple(triple), "list": list(triple)}[form]


def _kwargs(case):
    """The keyword arguments of the case's call (shared with torch's)."""
    form = case["form"]
    kwargs = dict(stride=_as(form, case["stride"]), dilation=_as(form, case["dilation"]), groups=case["groups"])
    p = case["padding"]
    kwargs["padding"] = p if isinstance(p, str) else _as(form, p)
    if case["output_padding"] is not None:
        kwargs["output_padding"] = _as(form, case["output_padding"])
    return kwargs


def channels_last_3d(x):
    """x (N, C, D, H, W) through a 1x1x1 identity convolution: the same values, differentiable, laid out
    as a convolution hands its output on ((N, D, H, W, C) in memory)."""
    c = x.shape[1]
    y = F.conv3d(x, mg.tensor(np.eye(c, dtype=x.dtype).reshape(c, c, 1, 1, 1), device=x.device))
    assert y.data.transpose(0, 2, 3, 4, 1).flags.c_contiguous
    return y


def _op(case):
    """The minigan call for ``case``, as a function of (x, w[, b]); an unbatched case passes x's one sample
    as (C, D, H, W) and puts the batch axis back on the output."""
    kwargs = _kwargs(case)
    fn = F.conv3d if case["output_padding"] is None else F.conv_transpose3d
    lay_out = channels_last_3d if case["channels_last"] else (lambda x: x)

    def call(x, w, b=None):
        x = lay_out(x)
        if not case["unbatched"]:
            return fn(x, w, b, **kwargs)
        y = fn(F.reshape(x, tuple(x.shape[1:])), w, b, **kwargs)
        assert y.ndim == 4
        return F.reshape(y, (1,) + tuple(y.shape))
    return call


def _reference(case, x, w, b=None):
    """The loops above, group by group; "same" as d (k - 1) zeros per axis, half before and the odd one after."""
    s, p, d, e, g = case["stride"], case["padding"], case["dilation"], case["output_padding"], case["groups"]
    if p == "same":
        pads = [(t // 2, t - t // 2) for t in (dd * (k - 1) for dd, k in zip(d, w.shape[2:]))]
    else:
        pads = [(q, q) for q in ((0, 0, 0) if p == "valid" else p)]
    xs, ws = np.split(x, g, axis=1), np.split(w, g, axis=0)
    if e is None:
        y = np.concatenate([naive_conv3d(xk, wk, s, pads, d) for xk, wk in zip(xs, ws)], axis=1)
    else:
        y = np.concatenate([naive_conv_transpose3d(xk, wk, s, p, e, d) for xk, wk in zip(xs, ws)], axis=1)
    return y if b is None else y + b.reshape(1, -1, 1, 1, 1)


OPS = pytest.mark.parametrize("transposed", [False, True], ids=["conv3d", "conv_transpose3d"])


# -- values and gradients ---------------------------------------------------------------------------

@OPS
@settings(max_examples=20)
@given(data=st.data())
def test_forward_matches_loops(device, transposed, data):
    case = data.draw(conv3d_case(transposed))
    arrays = case_arrays(case)
    y = _op(case)(*[mg.tensor(a, device=device) for a in arrays])
    expected = _reference(case, *arrays)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


@OPS
@settings(max_examples=25)
@given(data=st.data())
def test_matches_torch_to_second_order(device, transposed, data):
    """Values, gradients and gradients of gradients (d/d inputs of <grads, v>) equal torch's, in float64."""
    torch = pytest.importorskip("torch")
    case = data.draw(conv3d_case(transposed))
    torch_op = torch.nn.functional.conv3d if case["output_padding"] is None else torch.nn.functional.conv_transpose3d
    assert_matches_torch_to_second_order(torch, _op(case), lambda *t: torch_op(*t, **_kwargs(case)), case_arrays(case),
                                         device, case["seed"] + 2, rtol=1e-10, atol=1e-12)


@OPS
@settings(max_examples=10)
@given(data=st.data())
def test_matches_torch_in_float32(device, transposed, data):
    """float32 in, float32 out, values and input gradients within float32 rounding of torch's."""
    torch = pytest.importorskip("torch")
    case = data.draw(conv3d_case(transposed))
    arrays = [a.astype(np.float32) for a in case_arrays(case)]
    ours = [mg.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = _op(case)(*ours)
    torch_op = torch.nn.functional.conv3d if case["output_padding"] is None else torch.nn.functional.conv_transpose3d
    yt = torch_op(*theirs, **_kwargs(case))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert_input_grad_matches_torch(torch, ours[0], theirs[0], y, yt, np.float32, device, case["seed"],
                                    rtol=1e-5, atol=1e-5)


@OPS
@settings(max_examples=15)
@given(data=st.data())
def test_first_order_gradients(device, transposed, data):
    case = data.draw(conv3d_case(transposed, tiny=True))
    check_grad(_op(case), case_arrays(case), device)


@OPS
@settings(max_examples=10)
@given(data=st.data())
def test_second_order_gradients(device, transposed, data):
    """Differentiating the gradient runs each backward Function's own backward."""
    case = data.draw(conv3d_case(transposed, tiny=True))
    check_double_grad(_op(case), case_arrays(case), device)


@settings(max_examples=10)
@given(data=st.data())
def test_transposed_is_the_adjoint(device, data):
    """<conv3d(x, W), y> = <x, conv_transpose3d(y, W)> with the output_padding that gives x's size back."""
    case = data.draw(conv3d_case(False))
    if isinstance(case["padding"], str):
        return
    x, w = case_arrays(dict(case, bias=False))
    kwargs = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"], groups=case["groups"])
    y = F.conv3d(mg.tensor(x, device=device), mg.tensor(w, device=device), **kwargs)
    extra = tuple((m + 2 * p - d * (k - 1) - 1) % s for m, p, d, k, s in
                  zip(x.shape[2:], case["padding"], case["dilation"], w.shape[2:], case["stride"]))
    v = np.random.default_rng(case["seed"]).standard_normal(y.shape)
    back = F.conv_transpose3d(mg.tensor(v, device=device), mg.tensor(w, device=device), output_padding=extra, **kwargs)
    assert back.shape == x.shape
    np.testing.assert_allclose((y.numpy() * v).sum(), (x * back.numpy()).sum(), rtol=1e-10, atol=1e-10)


def test_same_padding_puts_the_odd_zero_after(device):
    """padding="same" with an even kernel: d (k - 1) = 1 zero per axis, none before the input and the odd one
    after it, as in PyTorch, so a kernel that picks its last tap gives x[i + 1], and zero past the end."""
    x = np.arange(1.0, 28.0).reshape(1, 1, 3, 3, 3)
    w = np.zeros((1, 1, 2, 2, 2))
    w[0, 0, 1, 1, 1] = 1.0  # y[i] = x[i + 1], zero past the end
    y = F.conv3d(mg.tensor(x, device=device), mg.tensor(w, device=device), padding="same").numpy()
    expected = np.zeros_like(x)
    expected[:, :, :2, :2, :2] = x[:, :, 1:, 1:, 1:]
    np.testing.assert_array_equal(y, expected)


@OPS
def test_float32_in_float32_out_and_grads(device, transposed, rng):
    """Python-int geometry and a float32 bias never promote: outputs, gradients and second gradients stay float32."""
    x = mg.tensor(rng.standard_normal((2, 4, 3, 4, 5)).astype(np.float32), device=device, requires_grad=True)
    b = mg.tensor(np.zeros(6, dtype=np.float32), device=device, requires_grad=True)
    if transposed:
        w = mg.tensor(rng.standard_normal((4, 3, 3, 3, 3)).astype(np.float32), device=device, requires_grad=True)
        y = F.conv_transpose3d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)
        assert y.shape == (2, 6, 6, 8, 10)
    else:
        w = mg.tensor(rng.standard_normal((6, 2, 3, 3, 3)).astype(np.float32), device=device, requires_grad=True)
        y = F.conv3d(x, w, b, stride=(1, 2, 2), padding=1, groups=2)
        assert y.shape == (2, 6, 3, 2, 3)
    assert y.dtype == np.float32
    gx, gw, gb = mg.grad((y * y).sum(), [x, w, b], create_graph=True)
    assert gx.dtype == gw.dtype == gb.dtype == np.float32
    ggx, ggw = mg.grad((gw * gw).sum() + (gx * gx).sum(), [x, w])
    assert ggx.dtype == ggw.dtype == np.float32 and ggx.shape == x.shape and ggw.shape == w.shape


def test_output_is_laid_out_channels_last(device, rng):
    """Both ops hand their output on as an (N, O, D, H, W) view of (N, D, H, W, O) memory, and the next
    conv3d gives the same values on it as on a C-contiguous copy."""
    x = mg.tensor(rng.standard_normal((2, 3, 4, 5, 3)), device=device)
    w = mg.tensor(rng.standard_normal((4, 3, 2, 2, 2)), device=device)
    for y in (F.conv3d(x, w, padding=1), F.conv_transpose3d(x, mg.tensor(rng.standard_normal((3, 4, 2, 2, 2)),
                                                                         device=device))):
        assert y.data.transpose(0, 2, 3, 4, 1).flags.c_contiguous and not y.data.flags.c_contiguous
        w2 = mg.tensor(rng.standard_normal((2, 4, 3, 1, 2)), device=device)
        copy = mg.tensor(np.ascontiguousarray(y.numpy()), device=device)
        np.testing.assert_allclose(F.conv3d(y, w2, padding=(1, 0, 1)).numpy(),
                                   F.conv3d(copy, w2, padding=(1, 0, 1)).numpy(), rtol=1e-12, atol=1e-12)


@OPS
def test_batch_chunks_give_the_same_result(device, transposed, monkeypatch, rng):
    """Every col is made a chunk of the batch at a time when a whole one would exceed CHUNK_BYTES (one
    image per chunk here): the same output and gradients, the weight gradient summed over the chunks."""
    from minigan.functional import conv
    w_shape = (3, 2, 3, 3, 3) if transposed else (2, 3, 3, 3, 3)
    arrays = [rng.standard_normal((4, 3, 3, 4, 3)), rng.standard_normal(w_shape), rng.standard_normal(2)]
    op = F.conv_transpose3d if transposed else F.conv3d

    def run():
        x, w, b = (mg.tensor(a, device=device, requires_grad=True) for a in arrays)
        y = op(x, w, b, stride=2, padding=1)
        gy = np.random.default_rng(1).standard_normal(y.shape)
        return [y.numpy()] + [g.numpy() for g in mg.grad(y, [x, w, b], mg.tensor(gy, device=device))]

    whole = run()
    monkeypatch.setattr(conv, "CHUNK_BYTES", 1)
    for got, want in zip(run(), whole):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@OPS
def test_an_empty_batch_goes_through_forward_and_backward(device, transposed):
    x = mg.zeros(0, 2, 3, 4, 5, device=device, requires_grad=True)
    if transposed:
        w = mg.ones(2, 3, 2, 2, 2, device=device, requires_grad=True)
        y = F.conv_transpose3d(x, w, stride=2)
        assert y.shape == (0, 3, 6, 8, 10)
    else:
        w = mg.ones(3, 2, 2, 2, 2, device=device, requires_grad=True)
        y = F.conv3d(x, w)
        assert y.shape == (0, 3, 2, 3, 4)
    y.sum().backward()
    assert x.grad.shape == x.shape and w.grad.shape == w.shape and not np.any(w.grad.numpy())


def test_arguments_come_in_pytorchs_order(rng):
    """conv3d(input, weight, bias, stride, padding, dilation, groups) and conv_transpose3d(input, weight,
    bias, stride, padding, output_padding, groups, dilation), as in torch.nn.functional."""
    x = mg.tensor(rng.standard_normal((1, 4, 9, 9, 9)))
    assert F.conv3d(x, mg.tensor(rng.standard_normal((6, 2, 3, 3, 3))), None, 2, 1, 3, 2).shape == (1, 6, 3, 3, 3)
    assert F.conv_transpose3d(x, mg.tensor(rng.standard_normal((4, 3, 3, 3, 3))), None, 2, 1, 2, 2,
                              3).shape == (1, 6, 23, 23, 23)
    assert F.conv3d(input=x, weight=mg.tensor(rng.standard_normal((2, 4, 1, 1, 1)))).shape == (1, 2, 9, 9, 9)


# -- layers -----------------------------------------------------------------------------------------

LAYERS = [  # (layer name, positional and keyword arguments, input shape)
    ("Conv3d", (3, 4, 3), dict(), (2, 3, 5, 4, 5)),
    ("Conv3d", (4, 6, (3, 2, 3)), dict(stride=(2, 1, 2), padding=(2, 1, 0), dilation=(1, 2, 1), groups=2,
                                       bias=False), (2, 4, 5, 6, 4)),
    ("Conv3d", (3, 4, 2), dict(padding="same", dilation=(1, 2, 3)), (2, 3, 4, 5, 6)),  # the odd zeros after
    ("Conv3d", (3, 4, (2, 1, 3)), dict(padding="valid", stride=2), (1, 3, 5, 4, 6)),
    ("Conv3d", (3, 6, 3), dict(padding=1, groups=3), (3, 4, 3, 5)),  # unbatched
    ("ConvTranspose3d", (3, 4, 4, 2, 1), dict(), (2, 3, 3, 2, 3)),
    ("ConvTranspose3d", (4, 6, 3), dict(stride=(3, 2, 1), padding=1, output_padding=(2, 1, 1), groups=2,
                                        dilation=2, bias=False), (2, 4, 3, 2, 3)),
    ("ConvTranspose3d", (3, 2, (3, 2, 2)), dict(padding=(2, 0, 1), output_padding=1, dilation=2), (3, 4, 2, 3)),
]
MODES = ["zeros", "reflect", "replicate", "circular"]


@pytest.mark.parametrize("name, args, kwargs, shape, mode", [
    layer + (mode,) for layer in LAYERS for mode in MODES if layer[0] == "Conv3d" or mode == "zeros"
])  # the transposed layer takes padding_mode="zeros" only, as PyTorch's (see the errors below)
def test_layer_loads_a_torch_state_dict_and_matches(device, rng, name, args, kwargs, shape, mode):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, name)(*args, padding_mode=mode, dtype=torch.float64, **kwargs)
    ours = getattr(nn, name)(*args, padding_mode=mode, dtype=np.float64, **kwargs).to(device)
    assert_reprs_and_state_dicts_match([ours], [theirs])
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


def test_a_stack_of_3d_layers_matches_torch(rng):
    """Conv3d -> ConvTranspose3d -> Conv3d(reflect, "same") in float32, fed each other's channels-last outputs."""
    torch = pytest.importorskip("torch")

    def build(m):
        return m.Sequential(m.Conv3d(2, 8, 4, 2, 1), m.LeakyReLU(0.2), m.ConvTranspose3d(8, 4, 4, 2, 1), m.Tanh(),
                            m.Conv3d(4, 3, 3, padding="same", padding_mode="reflect"))
    ours, theirs = build(nn), build(torch.nn)
    assert_reprs_and_state_dicts_match([ours], [theirs])
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((2, 2, 6, 8, 4)).astype(np.float32)
    y = ours(mg.tensor(x))
    assert y.dtype == np.float32 and y.shape == (2, 3, 6, 8, 4)
    np.testing.assert_allclose(y.numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_mode_second_order(device, rng, mode):
    layer = nn.Conv3d(1, 1, 2, padding=1, padding_mode=mode, bias=False, dtype=np.float64)
    fn = lambda x, w: F.conv3d(F.pad(x, layer._pad_amounts(), mode), w)  # noqa: E731  what the layer computes
    check_double_grad(fn, [rng.standard_normal((1, 1, 2, 2, 2)), rng.standard_normal((1, 1, 2, 1, 2))], device)


@pytest.mark.parametrize("name", ["Conv3d", "ConvTranspose3d"])
def test_layers_keep_float32_and_take_unbatched_inputs(device, rng, name):
    layer = getattr(nn, name)(3, 4, 3, padding=1).to(device)
    assert layer.weight.dtype == layer.bias.dtype == np.float32
    x = mg.tensor(rng.standard_normal((3, 4, 5, 3)).astype(np.float32), device=device, requires_grad=True)
    y = layer(x)
    (gx,) = mg.grad(y.sum(), [x])
    assert y.shape == (4, 4, 5, 3) and y.dtype == gx.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), layer(x.reshape(1, 3, 4, 5, 3)).numpy()[0], rtol=1e-6)


def test_parameter_shapes_and_state_dict_keys():
    assert nn.Conv3d(4, 6, 3, groups=2).weight.shape == (6, 2, 3, 3, 3)
    assert nn.ConvTranspose3d(4, 6, (1, 2, 3), groups=2).weight.shape == (4, 3, 1, 2, 3)
    assert list(nn.Conv3d(4, 6, 3).state_dict()) == ["weight", "bias"]
    assert list(nn.ConvTranspose3d(4, 6, 3, bias=False).state_dict()) == ["weight"]
    assert nn.Conv3d(4, 6, 3).bias.shape == nn.ConvTranspose3d(4, 6, 3).bias.shape == (6,)


def test_reprs():
    assert repr(nn.Conv3d(4, 6, 3)) == "Conv3d(4, 6, kernel_size=(3, 3, 3), stride=(1, 1, 1))"
    assert repr(nn.Conv3d(4, 6, (1, 2, 3), padding="same", dilation=2, groups=2, bias=False,
                          padding_mode="circular")) == (
        "Conv3d(4, 6, kernel_size=(1, 2, 3), stride=(1, 1, 1), padding=same, dilation=(2, 2, 2), groups=2, "
        "bias=False, padding_mode=circular)")
    assert repr(nn.ConvTranspose3d(4, 6, 3, stride=2, padding=1, output_padding=1, dilation=2)) == (
        "ConvTranspose3d(4, 6, kernel_size=(3, 3, 3), stride=(2, 2, 2), padding=(1, 1, 1), dilation=(2, 2, 2), "
        "output_padding=(1, 1, 1))")


@pytest.mark.parametrize("kwargs", [
    dict(padding=0), dict(padding="valid"), dict(padding=(1, 0, 2), stride=(1, 2, 1)), dict(padding=1, groups=2),
])
@pytest.mark.parametrize("name", ["Conv3d", "ConvTranspose3d"])
def test_reprs_and_state_dicts_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    if name == "ConvTranspose3d" and kwargs["padding"] == "valid":
        return
    assert_reprs_and_state_dicts_match([getattr(nn, name)(4, 6, (2, 3, 1), **kwargs)],
                                       [getattr(torch.nn, name)(4, 6, (2, 3, 1), **kwargs)])


@pytest.mark.parametrize("make, fan_in", [
    (lambda m: m.Conv3d(8, 16, 3), 8 * 27),
    (lambda m: m.Conv3d(8, 16, (1, 2, 3), groups=4), 2 * 6),
    (lambda m: m.ConvTranspose3d(8, 16, 3), 16 * 27),  # PyTorch's rule: fan_in = weight.shape[1] * kD kH kW
    (lambda m: m.ConvTranspose3d(8, 16, 3, groups=4), 4 * 27),
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


# -- errors ---------------------------------------------------------------------------------------

def _t(*shape, dtype=np.float32):
    return mg.tensor(np.zeros(shape, dtype=dtype))


X, W, WT = (1, 3, 4, 4, 4), (8, 3, 3, 3, 3), (3, 8, 3, 3, 3)

ERRORS = [
    (lambda: F.conv3d(_t(2, 3, 4, 4, 4), _t(8, 4, 3, 3, 3)), ValueError,
     r"conv3d: input has 3 channels but weight of shape \(8, 4, 3, 3, 3\) expects 4"),
    (lambda: F.conv_transpose3d(_t(2, 3, 4, 4, 4), _t(4, 8, 3, 3, 3)), ValueError,
     r"conv_transpose3d: input has 3 channels but weight of shape \(4, 8, 3, 3, 3\) expects 4"),
    (lambda: F.conv3d(_t(3, 8, 8), _t(*W)), ValueError,
     r"conv3d: input must be 4-D \(C, D, H, W\) or 5-D \(N, C, D, H, W\), got shape \(3, 8, 8\)"),
    (lambda: F.conv_transpose3d(_t(1, 1, 3, 8, 8, 8), _t(*WT)), ValueError,
     r"conv_transpose3d: input must be 4-D \(C, D, H, W\) or 5-D \(N, C, D, H, W\), got shape \(1, 1, 3, 8, 8, 8\)"),
    (lambda: F.conv3d(_t(*X), _t(3, 4)), ValueError,
     r"conv3d: weight must be 5-D \(out_channels, in_channels / groups, kD, kH, kW\), got shape \(3, 4\)"),
    (lambda: F.conv_transpose3d(_t(*X), _t(3, 8, 3, 3)), ValueError,
     r"conv_transpose3d: weight must be 5-D \(in_channels, out_channels / groups, kD, kH, kW\), got shape "
     r"\(3, 8, 3, 3\)"),
    (lambda: F.conv3d(_t(*X), _t(8, 3, 0, 3, 3)), ValueError, r"conv3d: weight of shape \(8, 3, 0, 3, 3\) is empty"),
    (lambda: F.conv3d(_t(1, 3, 4, 0, 4), _t(*W)), ValueError,
     r"conv3d: input of shape \(1, 3, 4, 0, 4\) has no voxels"),
    (lambda: F.conv3d(_t(*X), _t(*W), padding="full"), ValueError,
     r"conv3d: padding must be an int, a triple of ints, 'valid' or 'same', got 'full'"),
    (lambda: F.conv3d(_t(*X), _t(*W), stride=(1, 2, 1), padding="same"), ValueError,
     r"conv3d: padding='same' needs stride 1, got stride \(1, 2, 1\)"),
    (lambda: F.conv_transpose3d(_t(*X), _t(*WT), padding="same"), TypeError,
     r"conv_transpose3d: padding must be an int or a triple of ints, got 'same'"),
    (lambda: F.conv3d(_t(*X), _t(*W), stride=(1, 1)), TypeError,
     r"conv3d: stride must be an int or a triple of ints, got \(1, 1\) \(input of shape \(1, 3, 4, 4, 4\), "
     r"weight of shape \(8, 3, 3, 3, 3\)\)"),
    (lambda: F.conv3d(_t(*X), _t(*W), stride=0), ValueError, r"conv3d: stride must be at least 1, got 0"),
    (lambda: F.conv3d(_t(*X), _t(*W), padding=(0, -1, 0)), ValueError, r"conv3d: padding must be at least 0"),
    (lambda: F.conv3d(_t(*X), _t(*W), dilation=[1, 0, 1]), ValueError, r"conv3d: dilation must be at least 1"),
    (lambda: F.conv3d(_t(*X), _t(*W), stride=1.5), TypeError,
     r"conv3d: stride must be an int or a triple of ints, got 1.5"),
    (lambda: F.conv3d(_t(*X), _t(*W), dilation=True), TypeError,
     r"conv3d: dilation must be an int or a triple of ints, got True"),
    (lambda: F.conv3d(_t(1, 4, 4, 4, 4), _t(8, 2, 3, 3, 3), groups=0), ValueError,
     r"conv3d: groups must be a positive int"),
    (lambda: F.conv3d(_t(1, 4, 4, 4, 4), _t(8, 2, 3, 3, 3), groups=4), ValueError,
     r"conv3d: input has 4 channels but weight of shape \(8, 2, 3, 3, 3\) with groups=4 expects 8"),
    (lambda: F.conv3d(_t(1, 6, 4, 4, 4), _t(8, 2, 3, 3, 3), groups=3), ValueError,
     r"conv3d: weight of shape \(8, 2, 3, 3, 3\) has 8 rows, not divisible by groups=3"),
    (lambda: F.conv_transpose3d(_t(1, 6, 4, 4, 4), _t(6, 2, 3, 3, 3), groups=4), ValueError,
     r"conv_transpose3d: weight of shape \(6, 2, 3, 3, 3\) has 6 rows, not divisible by groups=4"),
    (lambda: F.conv3d(_t(1, 3, 4, 2, 4), _t(*W)), ValueError,
     r"conv3d: output size would be 2x0x2 for input of shape \(1, 3, 4, 2, 4\) and weight of shape "
     r"\(8, 3, 3, 3, 3\) with stride \(1, 1, 1\), padding \(0, 0, 0\), dilation \(1, 1, 1\): the padded input "
     r"\(4x2x4\) is smaller than the kernel \(spanning 3x3x3\)"),
    (lambda: F.conv3d(_t(*X), _t(*W), padding="valid", dilation=(1, 1, 2)), ValueError,
     r"conv3d: output size would be 2x2x0 .* the padded input \(4x4x4\) is smaller than the kernel "
     r"\(spanning 3x3x5\)"),
    (lambda: F.conv3d(_t(*X), _t(*W), _t(4)), ValueError,
     r"conv3d: bias of shape \(4,\) does not fit weight of shape \(8, 3, 3, 3, 3\) \(expects \(8,\)\)"),
    (lambda: F.conv3d(_t(*X), _t(*W, dtype=np.float64)), ValueError,
     r"conv3d: weight dtype float64 \(shape \(8, 3, 3, 3, 3\)\) differs from input dtype float32"),
    (lambda: F.conv3d(_t(*X, dtype=np.int64), _t(*W, dtype=np.int64)), TypeError,
     r"conv3d: input must be floating point"),
    (lambda: F.conv_transpose3d(_t(*X), _t(*WT), stride=2, output_padding=(0, 2, 0)), ValueError,
     r"conv_transpose3d: output_padding 2 along the height must be smaller than the stride \(2\) or the "
     r"dilation \(1\) \(input of shape \(1, 3, 4, 4, 4\), weight of shape \(3, 8, 3, 3, 3\)\)"),
    (lambda: F.conv_transpose3d(_t(1, 3, 1, 1, 1), _t(*WT), padding=(0, 2, 0)), ValueError,
     r"conv_transpose3d: output size would be 3x-1x3 for input of shape \(1, 3, 1, 1, 1\) and weight of shape "
     r"\(3, 8, 3, 3, 3\) with stride \(1, 1, 1\), padding \(0, 2, 0\), output_padding \(0, 0, 0\), dilation "
     r"\(1, 1, 1\): the padding is too large"),
    (lambda: F.conv_transpose3d(_t(*X), _t(*WT), _t(3)), ValueError,
     r"conv_transpose3d: bias of shape \(3,\) does not fit weight of shape \(3, 8, 3, 3, 3\) \(expects \(8,\)\)"),
    (lambda: nn.Conv3d(3, 4, (3, 3)), TypeError,
     r"Conv3d: kernel_size must be an int or a triple of ints, got \(3, 3\)"),
    (lambda: nn.ConvTranspose3d(3, 4, 3, output_padding=(1, 1)), TypeError,
     r"ConvTranspose3d: output_padding must be an int or a triple of ints"),
    (lambda: nn.Conv3d(3, 4, 3, groups=2), ValueError,
     r"Conv3d: in_channels \(3\) and out_channels \(4\) must both be divisible by groups \(2\)"),
    (lambda: nn.Conv3d(3, 4, 3, stride=2, padding="same"), ValueError,
     r"Conv3d: padding='same' needs stride 1, got stride 2"),
    (lambda: nn.Conv3d(3, 4, 3, padding="full"), ValueError,
     r"Conv3d: padding must be an int, a triple of ints, 'valid' or 'same', got 'full'"),
    (lambda: nn.Conv3d(3, 4, 3, padding_mode="mirror"), ValueError,
     r"Conv3d: padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', got 'mirror'"),
    (lambda: nn.ConvTranspose3d(3, 4, 3, padding_mode="circular"), ValueError,
     r"ConvTranspose3d: only padding_mode='zeros' is supported \(as in PyTorch\), got 'circular'"),
    (lambda: nn.Conv3d(3, 4, 3)(_t(2, 4, 8, 8, 8)), ValueError,
     r"Conv3d: expected input \(N, 3, D, H, W\) or unbatched \(3, D, H, W\), got shape \(2, 4, 8, 8, 8\)"),
    (lambda: nn.ConvTranspose3d(3, 4, 3)(_t(3, 8, 8)), ValueError,
     r"ConvTranspose3d: expected input \(N, 3, D, H, W\) or unbatched \(3, D, H, W\), got shape \(3, 8, 8\)"),
    (lambda: nn.Conv3d(1, 1, 7, padding=3, padding_mode="reflect")(_t(1, 1, 4, 3, 4)), ValueError,
     r"pad: reflect padding \(3, 3\) of dim 3 \(size 3"),
]


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_mismatched_devices_raise(device):
    if device == "cpu":
        pytest.skip("needs a GPU to put the two operands on different devices")
    x = mg.tensor(np.zeros(X, dtype=np.float32), device=device)
    w = mg.tensor(np.zeros(W, dtype=np.float32))
    with pytest.raises(ValueError, match=r"conv3d: weight is on cpu \(shape \(8, 3, 3, 3, 3\)\) but input is on cuda"):
        F.conv3d(x, w)


def test_dcgan_init_covers_the_3d_layers():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv3d(8, 32, 4), nn.ConvTranspose3d(32, 8, 4))
    model.apply(nn.init.dcgan_init)
    for layer in model:
        assert abs(layer.weight.numpy().std() - 0.02) < 0.003 and not np.any(layer.bias.numpy())
