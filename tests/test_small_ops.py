"""pixel_unshuffle (and nn.PixelUnshuffle) and one_hot: values against loops written from the definitions
(every run) and against PyTorch where it is installed, over hypothesis-drawn shapes (leading axes, none and
empty ones included), factors and class counts; pixel_unshuffle's gradients (float64, first and second
order; against PyTorch's) and its being pixel_shuffle's inverse; float32 kept; one_hot's int64 result and
its link to embedding; the layer and its repr; the error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad

seeds = st.integers(0, 2 ** 16)


# -- pixel_unshuffle ----------------------------------------------------------------------------------------

def naive_pixel_unshuffle(x, r):
    """y[..., c r^2 + i r + j, h, w] = x[..., c, h r + i, w r + j], by loops over c, i, j."""
    *lead, c, hr, wr = x.shape
    y = np.empty(tuple(lead) + (c * r * r, hr // r, wr // r), dtype=x.dtype)
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                y[..., ch * r * r + i * r + j, :, :] = x[..., ch, i::r, j::r]
    return y


@st.composite
def unshuffle_case(draw, empty=True):
    r = draw(st.integers(1, 3))
    lead = tuple(draw(st.lists(st.integers(0 if empty else 1, 2), max_size=2)))
    c = draw(st.integers(1, 3))
    h, w = draw(st.integers(0 if empty else 1, 3)), draw(st.integers(0 if empty else 1, 3))
    return lead + (c, h * r, w * r), r, draw(seeds)


@settings(max_examples=30)
@given(case=unshuffle_case())
def test_pixel_unshuffle_matches_loops(device, case):
    shape, r, seed = case
    x = np.random.default_rng(seed).standard_normal(shape)
    y = F.pixel_unshuffle(mg.tensor(x, device=device), r)
    expected = naive_pixel_unshuffle(x, r)
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y.numpy(), expected)
    # the inverse of pixel_shuffle, both ways round
    np.testing.assert_array_equal(F.pixel_shuffle(y, r).numpy(), x)
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(y, r), r).numpy(), y.numpy())


@settings(max_examples=25)
@given(case=unshuffle_case(empty=False), dtype=st.sampled_from([np.float64, np.float32]))
def test_pixel_unshuffle_matches_torch(device, case, dtype):
    # Non-empty inputs only: PyTorch returns an empty input unchanged, shape included (see the next test).
    torch = pytest.importorskip("torch")
    shape, r, seed = case
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.pixel_unshuffle(xt, r)
    ours = mg.tensor(x, device=device, requires_grad=True)
    y = F.pixel_unshuffle(ours, r)
    assert y.dtype == dtype and y.shape == tuple(yt.shape)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    gy = np.random.default_rng(seed + 1).standard_normal(y.shape).astype(dtype)
    (gxt,) = torch.autograd.grad(yt, [xt], torch.tensor(gy))
    (gx,) = mg.grad(y, [ours], mg.tensor(gy, device=device))
    assert gx.dtype == dtype
    np.testing.assert_array_equal(gx.numpy(), gxt.numpy())


def test_pixel_unshuffle_empty_input(device):
    # Empty inputs get the shape the definition gives, (*, C r^2, H / r, W / r), as pixel_shuffle's do in
    # PyTorch too; PyTorch's pixel_unshuffle alone returns them as they are (a clone of the input).
    for shape, expected in [((0, 2, 4, 6), (0, 8, 2, 3)), ((1, 2, 0, 6), (1, 8, 0, 3)), ((2, 0, 4, 4), (2, 0, 2, 2))]:
        y = F.pixel_unshuffle(mg.zeros(shape, device=device), 2)
        assert y.shape == expected
        assert F.pixel_shuffle(y, 2).shape == shape


@settings(max_examples=5)
@given(case=unshuffle_case(empty=False))
def test_pixel_unshuffle_gradients(device, case):
    shape, r, seed = case
    x = np.random.default_rng(seed).standard_normal(shape)
    check_grad(lambda t: F.pixel_unshuffle(t, r), [x], device)
    check_double_grad(lambda t: F.pixel_unshuffle(t, r), [x], device)


def test_pixel_unshuffle_by_hand_and_dtypes(device):
    # A 4x6 plane of 0..23 into 4 channels of 2x3: channel i r + j holds the pixels at (2h + i, 2w + j).
    x = mg.tensor(np.arange(24).reshape(1, 4, 6), device=device)
    y = F.pixel_unshuffle(x, 2)
    assert y.dtype == np.int64 and y.shape == (4, 2, 3)
    np.testing.assert_array_equal(y.numpy()[0], [[0, 2, 4], [12, 14, 16]])
    np.testing.assert_array_equal(y.numpy()[1], [[1, 3, 5], [13, 15, 17]])
    np.testing.assert_array_equal(y.numpy()[2], [[6, 8, 10], [18, 20, 22]])
    x = mg.tensor(np.ones((2, 3, 4, 4), dtype=np.float32), device=device, requires_grad=True)
    y = F.pixel_unshuffle(x, 2)
    (gx,) = mg.grad((y * y).sum(), [x], create_graph=True)
    (ggx,) = mg.grad((gx * gx).sum(), [x])
    assert y.dtype == gx.dtype == ggx.dtype == np.float32


def test_pixel_unshuffle_layer(device):
    layer = nn.PixelUnshuffle(3)
    assert list(layer.parameters()) == [] and layer.state_dict() == {}
    assert repr(layer) == "PixelUnshuffle(downscale_factor=3)"
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 2, 6, 9)), device=device)
    np.testing.assert_array_equal(layer(x).numpy(), F.pixel_unshuffle(x, 3).numpy())
    np.testing.assert_array_equal(nn.PixelShuffle(3)(layer(x)).numpy(), x.numpy())
    with pytest.raises(ValueError, match=r"PixelUnshuffle: downscale_factor must be a positive int, got 0"):
        nn.PixelUnshuffle(0)
    torch = pytest.importorskip("torch")
    assert repr(nn.Sequential(nn.PixelUnshuffle(2))) == repr(torch.nn.Sequential(torch.nn.PixelUnshuffle(2)))


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.pixel_unshuffle(mg.ones((4, 6)), 2), ValueError,
     r"pixel_unshuffle: input of shape \(4, 6\) must have at least 3 dimensions \(\*, C, H, W\)"),
    (lambda: F.pixel_unshuffle(mg.ones((1, 2, 5, 6)), 2), ValueError,
     r"pixel_unshuffle: input of shape \(1, 2, 5, 6\) must be \(\*, C, H \* 2, W \* 2\) for downscale_factor 2: its "
     r"height 5 is not divisible by 2"),
    (lambda: F.pixel_unshuffle(mg.ones((2, 4, 5)), 2), ValueError, r"its width 5 is not divisible by 2"),
    (lambda: F.pixel_unshuffle(mg.ones((1, 2, 4, 6)), 0), ValueError,
     r"pixel_unshuffle: downscale_factor must be at least 1, got 0"),
    (lambda: F.pixel_unshuffle(mg.ones((1, 2, 4, 6)), 2.0), TypeError,
     r"pixel_unshuffle: downscale_factor must be an int, got 2.0"),
    (lambda: F.pixel_unshuffle(mg.ones((1, 2, 4, 6)), True), TypeError,
     r"pixel_unshuffle: downscale_factor must be an int, got True"),
    (lambda: F.pixel_unshuffle(mg.ones((1, 2, 4, 6)), (2, 2)), TypeError,
     r"pixel_unshuffle: downscale_factor must be an int, got \(2, 2\)"),
])
def test_pixel_unshuffle_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- one_hot ------------------------------------------------------------------------------------------------

def naive_one_hot(idx, k):
    y = np.zeros(idx.shape + (k,), dtype=np.int64)
    for pos in np.ndindex(*idx.shape):
        y[pos + (idx[pos],)] = 1
    return y


@st.composite
def one_hot_case(draw):
    shape = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
    k = draw(st.integers(1, 5))
    idx = np.random.default_rng(draw(seeds)).integers(0, k, shape)
    infer = draw(st.booleans()) and idx.size > 0
    return idx, -1 if infer else k + draw(st.integers(0, 2))


@settings(max_examples=30)
@given(case=one_hot_case())
def test_one_hot_matches_loops(device, case):
    idx, num_classes = case
    y = F.one_hot(mg.tensor(idx, device=device), num_classes)
    k = int(idx.max()) + 1 if num_classes == -1 else num_classes
    assert y.dtype == np.int64 and y.shape == idx.shape + (k,) and not y.requires_grad and y.device == y.device
    np.testing.assert_array_equal(y.numpy(), naive_one_hot(idx, k))


@settings(max_examples=30)
@given(case=one_hot_case())
def test_one_hot_matches_torch(device, case):
    torch = pytest.importorskip("torch")
    idx, num_classes = case
    expected = torch.nn.functional.one_hot(torch.tensor(idx), num_classes)
    y = F.one_hot(mg.tensor(idx, device=device), num_classes)
    assert y.dtype == np.int64 and str(expected.dtype) == "torch.int64"
    np.testing.assert_array_equal(y.numpy(), expected.numpy())


def test_one_hot_is_embeddings_matrix(device):
    # embedding(i, W) = one_hot(i, n) @ W: the lookup is a product with the one-hot matrix.
    rng = np.random.default_rng(0)
    idx = mg.tensor(rng.integers(0, 6, (4, 3)), device=device)
    weight = mg.tensor(rng.standard_normal((6, 5)), device=device)
    product = F.matmul(F.astype(F.one_hot(idx, 6), np.float64), weight)
    np.testing.assert_array_equal(product.numpy(), F.embedding(idx, weight).numpy())


def test_one_hot_arguments(device):
    assert F.one_hot(mg.tensor(np.int64(2), device=device)).numpy().tolist() == [0, 0, 1]  # 0-d: one row
    assert F.one_hot(mg.tensor(np.int64(2), device=device), 4).numpy().tolist() == [0, 0, 1, 0]
    assert F.one_hot(mg.tensor(np.zeros((2, 0), dtype=np.int64), device=device), 3).shape == (2, 0, 3)
    for dtype in (np.int32, np.uint8, np.int16):  # any integer dtype (PyTorch takes int64 only)
        y = F.one_hot(mg.tensor(np.array([3, 0, 1], dtype=dtype), device=device))
        np.testing.assert_array_equal(y.numpy(), np.eye(4, dtype=np.int64)[[3, 0, 1]])
        assert y.dtype == np.int64
    np.testing.assert_array_equal(F.one_hot(np.array([1, 0]), 2).numpy(), [[0, 1], [1, 0]])  # an array is fine


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.one_hot(mg.tensor([0, -2, 1])), IndexError,
     r"one_hot: class values must be non-negative, got -2 \(tensor of shape \(3,\)\)"),
    (lambda: F.one_hot(mg.tensor([0, 2, 1]), 2), IndexError,
     r"one_hot: class values must be smaller than num_classes 2, got 2 \(tensor of shape \(3,\)\)"),
    (lambda: F.one_hot(mg.tensor([[0, 2, 1]]), 0), IndexError,
     r"one_hot: class values must be smaller than num_classes 0, got 2 \(tensor of shape \(1, 3\)\)"),
    (lambda: F.one_hot(mg.tensor(np.zeros((0,), dtype=np.int64))), ValueError,
     r"one_hot: cannot infer the number of classes from an empty tensor \(shape \(0,\)\); pass a positive "
     r"num_classes"),
    (lambda: F.one_hot(mg.tensor(np.zeros((2, 0), dtype=np.int64)), 0), ValueError,
     r"one_hot: cannot infer the number of classes from an empty tensor \(shape \(2, 0\)\)"),
    (lambda: F.one_hot(mg.tensor([0, 2, 1]), -2), ValueError,
     r"one_hot: num_classes must be -1 \(one more than the largest class\) or a count, got -2"),
    (lambda: F.one_hot(mg.tensor([0.0, 2.0])), TypeError,
     r"one_hot: class indices must be integers \(int64\), got dtype float32 \(shape \(2,\)\)"),
    (lambda: F.one_hot(mg.tensor([True, False])), TypeError, r"one_hot: class indices must be integers"),
    (lambda: F.one_hot(mg.tensor([0, 1]), 2.0), TypeError, r"one_hot: num_classes must be an int, got 2.0"),
    (lambda: F.one_hot(mg.tensor([0, 1]), True), TypeError, r"one_hot: num_classes must be an int, got True"),
    (lambda: F.one_hot([0, 1]), TypeError, r"one_hot: tensor must be a Tensor of class indices, got list"),
])
def test_one_hot_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
