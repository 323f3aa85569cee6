"""conv2d and conv_transpose2d: forward against direct loops written from the definitions, float64
first- and second-order gradient checks over hypothesis-drawn geometries, the adjoint identity that
ties the two together, PyTorch (when installed), dtypes, and the error messages."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import kernels
from conv_cases import case_arrays
from gradcheck import check_double_grad, check_grad
from layouts import channels_last, is_channels_last


def naive_conv2d(x, w, b, stride, padding, dilation):
    """y[n, o, oy, ox] = b[o] + sum_{c, i, j} w[o, c, i, j] x[n, c, oy s + i d - p, ox s + j d - p]."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho, wo = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, o, ho, wo))
    for oy in range(ho):
        for ox in range(wo):
            for i in range(kh):
                for j in range(kw):
                    iy, ix = oy * sh + i * dh - ph, ox * sw + j * dw - pw
                    if 0 <= iy < h and 0 <= ix < wd:
                        y[:, :, oy, ox] += x[:, :, iy, ix] @ w[:, :, i, j].T
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def naive_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation):
    """Scatter: each input pixel x[n, c, iy, ix] adds x * w[c, :, i, j] at (iy s + i d - p, ix s + j d - p)."""
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    n, c, h, wd = x.shape
    _, o, kh, kw = w.shape
    hout = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wout = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    y = np.zeros((n, o, hout, wout))
    for iy in range(h):
        for ix in range(wd):
            for i in range(kh):
                for j in range(kw):
                    oy, ox = iy * sh + i * dh - ph, ix * sw + j * dw - pw
                    if 0 <= oy < hout and 0 <= ox < wout:
                        y[:, :, oy, ox] += x[:, :, iy, ix] @ w[:, :, i, j]
    return y if b is None else y + b.reshape(1, -1, 1, 1)


@st.composite
def conv_case(draw, transposed=False, tiny=False, strings=True):
    """Shapes and geometry of a conv2d (or conv_transpose2d) whose output is at least 1x1.

    ``tiny`` keeps every tensor to a few dozen elements for the numerical gradient checks, which cost
    two forward passes per input element. ``strings`` lets a conv2d's padding be "valid" or "same".
    """
    top = 2 if tiny else 3
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, top)), draw(st.integers(1, top))
    g = draw(st.integers(1, 2))  # groups: c and o are the channels of one group
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    extra = 1 if tiny else 3
    if transposed:
        op = tuple(draw(st.integers(0, max(s[a], d[a]) - 1)) for a in (0, 1))
        # Hout = (H - 1) s - 2p + d (k - 1) + op + 1 >= 1
        low = [max(1, 1 - (-2 * p[a] + d[a] * (k[a] - 1) + op[a]) // s[a]) for a in (0, 1)]
        hw = tuple(draw(st.integers(low[a], low[a] + extra)) for a in (0, 1))
        shapes = ((n, c * g) + hw, (c * g, o) + k)
    else:
        op = None
        # PyTorch's padding strings; "same" only without a stride
        if strings:
            p = draw(st.sampled_from([p, "valid"] + (["same"] if s == (1, 1) else [])))
        pad = (0, 0) if p == "valid" else p
        low = [1, 1] if p == "same" else [max(1, d[a] * (k[a] - 1) + 1 - 2 * pad[a]) for a in (0, 1)]
        hw = tuple(draw(st.integers(low[a], low[a] + extra)) for a in (0, 1))
        shapes = ((n, c * g) + hw, (o * g, c) + k)
    bias = draw(st.booleans())
    # the input as a previous convolution hands it over (channels-last), or C-contiguous
    return dict(shapes=shapes, bias=bias, stride=s, padding=p, dilation=d, output_padding=op, groups=g,
                channels_last=draw(st.booleans()), unbatched=n == 1 and draw(st.booleans()),
                seed=draw(st.integers(0, 2 ** 16)))


def _op(case):
    """The minigan call for ``case``, as a function of (x, w[, b]); an unbatched case passes x's one
    sample as (C, H, W) and puts the batch axis back on the output."""
    s, p, d, op, g = case["stride"], case["padding"], case["dilation"], case["output_padding"], case["groups"]
    lay_out = channels_last if case["channels_last"] else (lambda x: x)
    if op is None:
        def call(x, w, b=None):
            return F.conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    else:
        def call(x, w, b=None):
            return F.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    if not case["unbatched"]:
        return lambda x, w, b=None: call(lay_out(x), w, b)

    def unbatched(x, w, b=None):
        y = call(lay_out(x)[0], w, b)
        assert y.ndim == 3
        return F.reshape(y, (1,) + tuple(y.shape))
    return unbatched


def _explicit_padding(case, x, w):
    """x padded with the zeros a padding string stands for, for the loops: "same" puts d (k - 1) in
    all on each axis, half before and the odd one after (PyTorch's split)."""
    if case["padding"] != "same":
        return x, (0, 0) if case["padding"] == "valid" else case["padding"]
    total = [case["dilation"][a] * (w.shape[2 + a] - 1) for a in (0, 1)]
    widths = [(0, 0), (0, 0)] + [(t // 2, t - t // 2) for t in total]
    return np.pad(x, widths), (0, 0)


def _reference(case, x, w, b=None):
    """The loops above, group by group: channel block k of x meets weight rows k (axis 0 of both
    layouts) and makes output block k."""
    s, p, d, op, g = case["stride"], case["padding"], case["dilation"], case["output_padding"], case["groups"]
    if op is None:
        x, p = _explicit_padding(case, x, w)
    xs, ws = np.split(x, g, axis=1), np.split(w, g, axis=0)
    if op is None:
        y = np.concatenate([naive_conv2d(xk, wk, None, s, p, d) for xk, wk in zip(xs, ws)], axis=1)
    else:
        y = np.concatenate([naive_conv_transpose2d(xk, wk, None, s, p, op, d) for xk, wk in zip(xs, ws)], axis=1)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
@given(data=st.data())
def test_forward_matches_loops(device, transposed, data):
    case = data.draw(conv_case(transposed))
    arrays = case_arrays(case)
    y = _op(case)(*[mg.tensor(a, device=device) for a in arrays])
    expected = _reference(case, *arrays)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
@given(data=st.data())
def test_first_order_gradients(device, transposed, data):
    case = data.draw(conv_case(transposed, tiny=True))
    check_grad(_op(case), case_arrays(case), device)


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
@given(data=st.data())
def test_second_order_gradients(device, transposed, data):
    """Differentiating the gradient exercises ConvTranspose2d, Conv2d and Conv2dGradWeight backward."""
    case = data.draw(conv_case(transposed, tiny=True))
    check_double_grad(_op(case), case_arrays(case), device)


@given(case=conv_case(strings=False))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(device, case):
    """<conv2d(x, W), y> == <x, conv_transpose2d(y, W)> with the output_padding that restores x's size."""
    x, w = case_arrays(case)[:2]
    s, p, d, g = case["stride"], case["padding"], case["dilation"], case["groups"]
    y = F.conv2d(mg.tensor(x, device=device), mg.tensor(w, device=device), stride=s, padding=p, dilation=d,
                 groups=g)
    probe = np.random.default_rng(case["seed"] + 1).standard_normal(y.shape)
    op = [x.shape[2 + a] - ((y.shape[2 + a] - 1) * s[a] - 2 * p[a] + d[a] * (w.shape[2 + a] - 1) + 1) for a in (0, 1)]
    back = F.conv_transpose2d(mg.tensor(probe, device=device), mg.tensor(w, device=device), stride=s, padding=p,
                              output_padding=tuple(op), groups=g, dilation=d)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.vdot(y.numpy(), probe), np.vdot(x, back.numpy()), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
@given(data=st.data())
def test_matches_torch(device, transposed, data):
    torch = pytest.importorskip("torch")
    case = data.draw(conv_case(transposed))
    arrays = case_arrays(case)
    ours = [mg.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    s, p, d, op, g = case["stride"], case["padding"], case["dilation"], case["output_padding"], case["groups"]
    y = _op(case)(*ours)
    if op is None:
        yt = torch.nn.functional.conv2d(*theirs, stride=s, padding=p, dilation=d, groups=g)
    else:
        yt = torch.nn.functional.conv_transpose2d(*theirs, stride=s, padding=p, output_padding=op, groups=g,
                                                  dilation=d)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    gy = np.random.default_rng(case["seed"] + 2).standard_normal(y.shape)
    grads = mg.grad(y, ours, mg.tensor(gy, device=device))
    expected = torch.autograd.grad(yt, theirs, torch.tensor(gy))
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
def test_float32_in_float32_out_and_grads(device, transposed, rng):
    x = mg.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), device=device, requires_grad=True)
    w = mg.tensor(rng.standard_normal((3, 4, 3, 3)).astype(np.float32) * 0.1, device=device, requires_grad=True)
    b = mg.tensor(np.zeros(4, dtype=np.float32), device=device, requires_grad=True)
    if transposed:
        y = F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)
        assert y.shape == (2, 4, 12, 12)
    else:
        w = mg.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), device=device, requires_grad=True)
        y = F.conv2d(x, w, b, stride=2, padding=1)
        assert y.shape == (2, 4, 3, 3)
    assert y.dtype == np.float32
    gx, gw, gb = mg.grad((y * y).sum(), [x, w, b], create_graph=True)
    assert gx.dtype == gw.dtype == gb.dtype == np.float32
    (ggx,) = mg.grad((gw * gw).sum(), [x])
    assert ggx.dtype == np.float32


def test_conv2d_returns_its_output_channels_last(device, rng):
    """conv2d's GEMM yields one row of channels per pixel: the NCHW output is a view of it, with no
    transposing copy, and the next convolution reads it as it is (the cases above feed such inputs)."""
    x = mg.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), device=device)
    w = mg.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), device=device)
    y = F.conv2d(x, w, mg.zeros(4, device=device), padding=1)
    assert is_channels_last(y.data) and not y.data.flags.c_contiguous


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
@pytest.mark.parametrize("layout", ["nchw", "channels-last"])
def test_batch_chunks_give_the_same_result(device, transposed, layout, monkeypatch, rng):
    """The weight gradient and the transposed convolution run over the batch in chunks when their col
    would exceed CHUNK_BYTES (one image per chunk here): the same output and gradients as in one piece."""
    from minigan.functional import conv
    w_shape = (3, 4, 4, 4) if transposed else (4, 3, 4, 4)
    arrays = [rng.standard_normal((5, 3, 6, 6)), rng.standard_normal(w_shape), rng.standard_normal(4)]
    gy = rng.standard_normal((5, 4, 12, 12) if transposed else (5, 4, 3, 3))
    op = F.conv_transpose2d if transposed else F.conv2d
    lay_out = channels_last if layout == "channels-last" else (lambda t: t)

    def run():
        x, w, b = (mg.tensor(a, device=device, requires_grad=True) for a in arrays)
        y = op(lay_out(x), w, b, stride=2, padding=1)
        return [y.numpy()] + [g.numpy() for g in mg.grad(y, [x, w, b], mg.tensor(gy, device=device))]

    whole = run()
    monkeypatch.setattr(conv, "CHUNK_BYTES", 1)
    for got, want in zip(run(), whole):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_data_input_gets_no_col2im(monkeypatch, rng):
    """A data tensor that needs no gradient costs no input-gradient pass (col2im) in backward."""
    used = []
    original = kernels.get

    def recording_get(primitive, *args, **kwargs):
        used.append(primitive)
        return original(primitive, *args, **kwargs)

    monkeypatch.setattr(kernels, "get", recording_get)
    x = mg.tensor(rng.standard_normal((2, 1, 8, 8)).astype(np.float32))
    w = mg.tensor(rng.standard_normal((4, 1, 4, 4)).astype(np.float32), requires_grad=True)
    F.conv2d(x, w, stride=2, padding=1).sum().backward()
    assert w.grad is not None and "col2im" not in used
    x.requires_grad = True
    F.conv2d(x, w, stride=2, padding=1).sum().backward()
    assert "col2im" in used and x.grad.shape == x.shape


def test_int_and_pair_arguments_agree(rng):
    x = mg.tensor(rng.standard_normal((1, 2, 7, 7)))
    w = mg.tensor(rng.standard_normal((3, 2, 3, 3)))
    a = F.conv2d(x, w, stride=2, padding=1, dilation=2)
    b = F.conv2d(x, w, stride=(2, 2), padding=[1, 1], dilation=(2, 2))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def _t(*shape, dtype=np.float32):
    return mg.tensor(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.conv2d(_t(1, 3, 8, 8), _t(8, 4, 3, 3)), ValueError,
     r"conv2d: input has 3 channels but weight of shape \(8, 4, 3, 3\) expects 4"),
    (lambda: F.conv_transpose2d(_t(1, 3, 8, 8), _t(4, 8, 3, 3)), ValueError,
     r"conv_transpose2d: input has 3 channels but weight of shape \(4, 8, 3, 3\) expects 4"),
    (lambda: F.conv2d(_t(8, 8), _t(8, 3, 3, 3)), ValueError,
     r"conv2d: input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(8, 8\)"),
    (lambda: F.conv_transpose2d(_t(1, 1, 3, 8, 8), _t(3, 8, 3, 3)), ValueError,
     r"conv_transpose2d: input must be 3-D \(C, H, W\) or 4-D"),
    (lambda: F.conv2d(_t(1, 3, 8, 8), _t(8, 3, 3, 3), padding="full"), ValueError,
     r"conv2d: padding must be an int, a pair of ints, 'valid' or 'same', got 'full'"),
    (lambda: F.conv2d(_t(1, 3, 8, 8), _t(8, 3, 3, 3), stride=2, padding="same"), ValueError,
     r"conv2d: padding='same' needs stride 1, got stride 2"),
    (lambda: F.conv_transpose2d(_t(1, 3, 8, 8), _t(3, 8, 3, 3), padding="same"), TypeError,
     r"conv_transpose2d: padding must be an int or a pair of ints, got 'same'"),
    (lambda: F.conv2d(_t(1, 3, 8, 8), _t(8, 3, 3)), ValueError, r"conv2d: weight must be 4-D .* \(8, 3, 3\)"),
    (lambda: F.conv2d(_t(1, 3, 8, 8), _t(8, 3, 3, 3), stride=0), ValueError,
     r"conv2d: stride must be at least 1, got 0 \(input of shape \(1, 3, 8, 8\), weight of shape \(8, 3, 3, 3\)\)"),
    (lambda: F.conv2d(_t(1, 4, 8, 8), _t(8, 2, 3, 3), groups=0), ValueError, r"conv2d: groups must be a positive int"),
    (lambda: F.conv2d(_t(1, 4, 8, 8), _t(8, 2, 3, 3), groups=2.0), ValueError, r"conv2d: groups must be a positive int"),
    (lambda: F.conv2d(_t(1, 4, 8, 8), _t(8, 2, 3, 3), groups=4), ValueError,
     r"conv2d: input has 4 channels but weight of shape \(8, 2, 3, 3\) with groups=4 expects 8"),
    (lambda: F.conv2d(_t(1, 6, 8, 8), _t(8, 2, 3, 3), groups=3), ValueError,
     r"conv2d: weight of shape \(8, 2, 3, 3\) has 8 rows, not divisible by groups=3"),
    (lambda: F.conv2d(_t(1, 3, 0, 8), _t(8, 3, 3, 3), padding=2), ValueError,
     r"conv2d: input of shape \(1, 3, 0, 8\) has no pixels"),
    (lambda: F.conv2d(_t(1, 3, 8, 8), _t(8, 3, 3, 3), padding=-1), ValueError, r"conv2d: padding must be at least 0"),
    (lambda: F.conv2d(_t(1, 3, 8, 8), _t(8, 3, 3, 3), dilation=(1, 0)), ValueError,
     r"conv2d: dilation must be at least 1"),
    (lambda: F.conv2d(_t(1, 3, 8, 8), _t(8, 3, 3, 3), stride=1.5), TypeError,
     r"conv2d: stride must be an int or a pair of ints"),
    (lambda: F.conv2d(_t(1, 3, 2, 8), _t(8, 3, 3, 3)), ValueError,
     r"conv2d: output size would be 0x6 for input of shape \(1, 3, 2, 8\) and weight of shape \(8, 3, 3, 3\)"),
    (lambda: F.conv2d(_t(1, 3, 8, 8), _t(8, 3, 3, 3), _t(4)), ValueError,
     r"conv2d: bias of shape \(4,\) does not fit weight of shape \(8, 3, 3, 3\)"),
    (lambda: F.conv2d(_t(1, 3, 8, 8), _t(8, 3, 3, 3, dtype=np.float64)), ValueError,
     r"conv2d: weight dtype float64 \(shape \(8, 3, 3, 3\)\) differs from input dtype float32"),
    (lambda: F.conv2d(_t(1, 3, 8, 8), _t(8, 3, 3, 3), _t(8, dtype=np.float64)), ValueError,
     r"conv2d: bias dtype float64"),
    (lambda: F.conv2d(_t(1, 3, 8, 8, dtype=np.int64), _t(8, 3, 3, 3, dtype=np.int64)), TypeError,
     r"conv2d: input must be floating point"),
    (lambda: F.conv_transpose2d(_t(1, 3, 4, 4), _t(3, 8, 3, 3), stride=2, output_padding=2), ValueError,
     r"conv_transpose2d: output_padding 2 along the height must be smaller than the stride \(2\) or the "
     r"dilation \(1\)"),
    (lambda: F.conv_transpose2d(_t(1, 3, 1, 1), _t(3, 8, 3, 3), padding=2), ValueError,
     r"conv_transpose2d: output size would be -1x-1 for input of shape \(1, 3, 1, 1\)"),
    (lambda: F.conv_transpose2d(_t(1, 3, 4, 4), _t(3, 8, 3, 3), _t(3)), ValueError,
     r"conv_transpose2d: bias of shape \(3,\) does not fit weight of shape \(3, 8, 3, 3\) \(expects \(8,\)\)"),
])
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_arguments_come_in_pytorchs_order_and_groups_are_pytorchs(rng):
    """conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation) and
    conv2d(input, weight, bias, stride, padding, dilation, groups), as in torch.nn.functional."""
    x = mg.tensor(rng.standard_normal((1, 4, 5, 5)))
    assert F.conv_transpose2d(x, mg.tensor(rng.standard_normal((4, 2, 3, 3))), None, 1, 0, 0, 2).shape == (1, 4, 7, 7)
    assert F.conv2d(x, mg.tensor(rng.standard_normal((6, 2, 3, 3))), None, 1, 0, 1, 2).shape == (1, 6, 3, 3)


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
def test_an_empty_batch_goes_through_forward_and_backward(device, transposed):
    x = mg.zeros(0, 2, 5, 5, device=device, requires_grad=True)
    w = mg.ones(2, 3, 3, 3, device=device, requires_grad=True)
    y = F.conv_transpose2d(x, w) if transposed else F.conv2d(x, mg.ones(3, 2, 3, 3, device=device, requires_grad=True))
    assert y.shape == ((0, 3, 7, 7) if transposed else (0, 3, 3, 3))
    y.sum().backward()
    assert x.grad.shape == x.shape


def test_mismatched_devices_raise(device):
    if device == "cpu":
        pytest.skip("needs a GPU to put the two operands on different devices")
    x = mg.tensor(np.zeros((1, 3, 8, 8), dtype=np.float32), device=device)
    w = mg.tensor(np.zeros((8, 3, 3, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"conv2d: weight is on cpu \(shape \(8, 3, 3, 3\)\) but input is on cuda"):
        F.conv2d(x, w)
