"""BatchNorm3d, InstanceNorm3d, F.local_response_norm and LocalResponseNorm.

Local response norm against a loop written from PyTorch's definition (every run) and against PyTorch
itself where it is installed (values, first and second gradients, float64 and float32, over
hypothesis-drawn shapes, window sizes and constants); the 3-D layers against the 2-D ones on the same
values folded (every run) and against PyTorch (outputs, input and parameter gradients and every buffer,
step by step through training and eval, momentum None included, unbatched instance norm included;
gradient penalties; PyTorch state dicts loaded); float64 first- and second-order gradient checks;
float32 kept; reprs and state-dict keys; error messages."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from gradcheck import check_double_grad, check_grad
from torch_compare import assert_penalty_gradients_match, assert_reprs_and_state_dicts_match, float64_twins

seeds = st.integers(0, 2 ** 16)


def _t(a, device, requires_grad=False):
    return None if a is None else mg.tensor(a, device=device, requires_grad=requires_grad)


def _torch():
    return pytest.importorskip("torch")


# -- local response norm: the definition --------------------------------------------------------------

def reference_lrn(x, size, alpha, beta, k):
    """PyTorch's documented formula, channel by channel: the squares of channels c - size // 2 through
    c + (size - 1) // 2 that exist, summed, divided by size (always), then b = a / (k + alpha * mean)^beta."""
    c = x.shape[1]
    y = np.empty_like(x)
    for ch in range(c):
        lo, hi = max(0, ch - size // 2), min(c - 1, ch + (size - 1) // 2)
        window = (x[:, lo:hi + 1] ** 2).sum(axis=1) / size
        y[:, ch] = x[:, ch] / (k + alpha * window) ** beta
    return y


# (N, C, *spatial) with 1 to 3 spatial axes: 3-D to 5-D inputs (PyTorch's two code paths: 3-D and more)
lrn_shapes = st.tuples(st.integers(1, 3), st.integers(1, 6),
                       st.lists(st.integers(1, 3), min_size=1, max_size=3)).map(lambda t: (t[0], t[1]) + tuple(t[2]))
lrn_constants = st.tuples(st.sampled_from([1e-4, 0.5, 2.0]), st.sampled_from([0.75, 0.5, 1.0, 2.0]),
                          st.sampled_from([1.0, 2.0, 0.5]))


@settings(max_examples=40)
@given(shape=lrn_shapes, size=st.integers(1, 8), constants=lrn_constants, seed=seeds)
def test_lrn_matches_definition(device, shape, size, constants, seed):
    alpha, beta, k = constants
    x = np.random.default_rng(seed).standard_normal(shape) * 2
    y = F.local_response_norm(_t(x, device), size, alpha, beta, k)
    assert y.shape == shape and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), reference_lrn(x, size, alpha, beta, k), rtol=1e-12, atol=1e-14)


def test_lrn_window_is_placed_as_pytorch_pads_it(device):
    """One-hot channels show the window: with size 4 channel c sees c-2..c+1 (the pad is 2 before, 1
    after), with size 3 c-1..c+1; with alpha = 1, k = 0, beta = 1 the output is x / (mean of squares)."""
    c = 6
    for size, seen in ((4, (-2, -1, 0, 1)), (3, (-1, 0, 1)), (1, (0,))):
        for hot in range(c):
            x = np.full((1, c, 1), 1e-3)
            x[0, hot] = 1.0
            y = F.local_response_norm(_t(x, device), size, alpha=1.0, beta=1.0, k=0.0).numpy()[0, :, 0]
            for ch in range(c):
                sees_hot = (hot - ch) in seen
                count_small = sum(0 <= ch + o < c for o in seen) - sees_hot
                want = x[0, ch, 0] / ((sees_hot + count_small * 1e-6) / size)
                np.testing.assert_allclose(y[ch], want, rtol=1e-12, err_msg=f"size {size}, hot {hot}, channel {ch}")


# -- local response norm against PyTorch ---------------------------------------------------------------

@settings(max_examples=40)
@given(shape=lrn_shapes, size=st.integers(1, 8), constants=lrn_constants, seed=seeds)
def test_lrn_matches_torch_values_and_gradients_of_two_orders(shape, size, constants, seed):
    torch = _torch()
    alpha, beta, k = constants
    rng = np.random.default_rng(seed)
    x, gy, v = rng.standard_normal(shape) * 2, rng.standard_normal(shape), rng.standard_normal(shape)
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = F.local_response_norm(xm, size, alpha, beta, k)
    yt = torch.nn.functional.local_response_norm(xt, size, alpha, beta, k)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    g, = mg.grad(y, [xm], mg.tensor(gy), create_graph=True)
    gt, = torch.autograd.grad(yt, [xt], torch.tensor(gy), create_graph=True)
    np.testing.assert_allclose(g.numpy(), gt.detach().numpy(), rtol=1e-10, atol=1e-12)
    gg, = mg.grad((g * mg.tensor(v)).sum(), [xm])
    ggt, = torch.autograd.grad((gt * torch.tensor(v)).sum(), [xt])
    np.testing.assert_allclose(gg.numpy(), ggt.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("shape, size", [((4, 16, 5, 5), 5), ((2, 3, 7), 2), ((2, 5, 2, 3, 2), 6)])
def test_lrn_matches_torch_in_float32(device, rng, shape, size):
    torch = _torch()
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    gy = rng.standard_normal(shape).astype(np.float32)
    xm, xt = _t(x, device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = F.local_response_norm(xm, size, alpha=0.3, beta=0.75, k=2.0)
    yt = torch.nn.functional.local_response_norm(xt, size, alpha=0.3, beta=0.75, k=2.0)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    g, = mg.grad(y, [xm], _t(gy, device))
    gt, = torch.autograd.grad(yt, [xt], torch.tensor(gy))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=1e-4, atol=1e-5)


# -- local response norm: numerical gradients, float32, empties, layer ------------------------------------

@settings(max_examples=20)
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 4), st.lists(st.integers(1, 2), min_size=1, max_size=2)),
       size=st.integers(1, 5), constants=lrn_constants, seed=seeds)
def test_lrn_gradients(shape, size, constants, seed):
    shape = shape[:2] + tuple(shape[2])
    alpha, beta, k = constants
    x = np.random.default_rng(seed).standard_normal(shape)
    check_grad(lambda x: F.local_response_norm(x, size, alpha, beta, k), [x])


@pytest.mark.parametrize("shape, size", [((2, 3, 2), 2), ((1, 4, 2, 2), 3), ((2, 2, 1, 2, 1), 5)])
def test_lrn_second_order(shape, size):
    x = np.random.default_rng(3).standard_normal(shape)
    check_double_grad(lambda x: F.local_response_norm(x, size, alpha=0.8, beta=0.75, k=1.5), [x])


def test_lrn_second_order_on_device(device, rng):
    layer = nn.LocalResponseNorm(3, alpha=0.5, beta=0.6, k=1.2)
    check_double_grad(lambda x: F.tanh(layer(x)), [rng.standard_normal((2, 4, 3))], device)


def test_lrn_keeps_float32(device, rng):
    """Python and NumPy float64 constants take the input's dtype, through two orders of gradient."""
    x = _t((rng.standard_normal((2, 5, 3, 3)) * 2).astype(np.float32), device, requires_grad=True)
    for alpha, beta, k in ((1e-4, 0.75, 1.0), (np.float64(0.5), np.float64(0.75), np.float64(2.0)), (1, 1, 2)):
        y = F.local_response_norm(x, 3, alpha, beta, k)
        assert y.dtype == np.float32
        g, = mg.grad((y * y).sum(), [x], create_graph=True)
        assert g.dtype == np.float32
        gg, = mg.grad((g * g).sum(), [x])
        assert gg.dtype == np.float32


def test_lrn_empty_input_is_returned_as_it_is(device):
    for shape in ((0, 3, 4), (2, 0, 4), (2, 3, 0, 5)):
        x = mg.zeros(*shape, device=device)
        assert F.local_response_norm(x, 2) is x


def test_lrn_layer(device, rng):
    layer = nn.LocalResponseNorm(4, alpha=0.2, beta=0.5, k=3.0)
    assert not list(layer.parameters()) and layer.state_dict() == {}
    assert (layer.size, layer.alpha, layer.beta, layer.k) == (4, 0.2, 0.5, 3.0)
    x = _t(rng.standard_normal((2, 6, 3, 3)).astype(np.float32), device)
    np.testing.assert_array_equal(layer(x).numpy(), F.local_response_norm(x, 4, 0.2, 0.5, 3.0).numpy())
    assert nn.LocalResponseNorm(np.int64(2)).size == 2


# -- the 3-D layers against the 2-D ones (the same statistics, the values folded) ------------------------

@pytest.mark.parametrize("momentum", [0.3, None])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_3d_is_batch_norm_2d_folded(device, rng, momentum, affine):
    """Statistics per channel over N, D, H, W: BatchNorm2d over (N, C, D, H W) computes the same, and
    keeps the same running statistics and count (momentum None: a cumulative average)."""
    b3 = nn.BatchNorm3d(3, momentum=momentum, affine=affine, device=device)
    b2 = nn.BatchNorm2d(3, momentum=momentum, affine=affine, device=device)
    if affine:
        w, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
        b3.weight.data[...] = b2.weight.data[...] = b3.weight._xp.asarray(w)
        b3.bias.data[...] = b2.bias.data[...] = b3.bias._xp.asarray(b)
    for mode in ("train", "train", "train", "eval"):
        getattr(b3, mode)(), getattr(b2, mode)()
        x = (rng.standard_normal((2, 3, 2, 3, 4)) * 2 + 1).astype(np.float32)
        y3, y2 = b3(_t(x, device)), b2(_t(x.reshape(2, 3, 2, 12), device))
        assert y3.dtype == np.float32 and y3.shape == x.shape
        np.testing.assert_allclose(y3.numpy(), y2.numpy().reshape(x.shape), rtol=1e-6, atol=1e-6)
        for key, value in b3.state_dict().items():
            np.testing.assert_allclose(value, b2.state_dict()[key], rtol=1e-6, atol=1e-6, err_msg=f"{mode} {key}")
    assert int(b3.num_batches_tracked.item()) == 3


def test_instance_norm_3d_is_instance_norm_2d_folded(device, rng):
    i3 = nn.InstanceNorm3d(3, affine=True, momentum=0.4, track_running_stats=True, device=device)
    i2 = nn.InstanceNorm2d(3, affine=True, momentum=0.4, track_running_stats=True, device=device)
    for mode, shape in (("train", (2, 3, 2, 3, 4)), ("train", (3, 2, 3, 4)), ("eval", (2, 3, 2, 3, 4))):
        getattr(i3, mode)(), getattr(i2, mode)()
        x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        y3, y2 = i3(_t(x, device)), i2(_t(x.reshape(shape[:-2] + (12,)), device))
        assert y3.dtype == np.float32 and y3.shape == shape
        np.testing.assert_allclose(y3.numpy(), y2.numpy().reshape(shape), rtol=1e-6, atol=1e-6)
        for key, value in i3.state_dict().items():
            np.testing.assert_allclose(value, i2.state_dict()[key], rtol=1e-6, atol=1e-6, err_msg=f"{mode} {key}")


def test_unbatched_instance_norm_3d_is_a_batch_of_one(device, rng):
    layer = nn.InstanceNorm3d(2, affine=True, track_running_stats=True, device=device)
    twin = nn.InstanceNorm3d(2, affine=True, track_running_stats=True, device=device)
    x = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
    y = layer(_t(x, device))
    assert y.shape == x.shape and y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), twin(_t(x[None], device)).numpy()[0])
    np.testing.assert_array_equal(layer.running_mean.numpy(), twin.running_mean.numpy())
    np.testing.assert_array_equal(layer.running_var.numpy(), twin.running_var.numpy())
    layer.eval(), twin.eval()
    np.testing.assert_array_equal(layer(_t(x, device)).numpy(), twin(_t(x[None], device)).numpy()[0])


# -- the 3-D layers against PyTorch, step by step ---------------------------------------------------------

def compare_steps(torch, ours, theirs, device, steps, rng, atol=1e-5):
    """For each (mode, input shape): the outputs, the gradients of input and parameters, and the whole
    state dict (keys, dtypes, values) after the step, in float32."""
    for mode, shape in steps:
        getattr(ours, mode)(), getattr(theirs, mode)()
        x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        gy = rng.standard_normal(shape).astype(np.float32)
        xm, xt = _t(x, device, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = ours(xm), theirs(xt)
        assert y.dtype == np.float32 and y.shape == shape
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=atol, err_msg=mode)
        params, tparams = [xm] + list(ours.parameters()), [xt] + list(theirs.parameters())
        grads = mg.grad(y, params, _t(gy, device))
        expected = torch.autograd.grad(yt, tparams, torch.tensor(gy))
        for i, (g, e) in enumerate(zip(grads, expected)):
            assert g.dtype == np.float32
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-4, atol=1e-4, err_msg=f"{mode} gradient {i}")
        mine, ref = ours.state_dict(), theirs.state_dict()
        assert list(mine) == list(ref)
        for key in mine:
            assert mine[key].dtype == ref[key].numpy().dtype, key
            np.testing.assert_allclose(mine[key], ref[key].numpy(), rtol=1e-5, atol=1e-6, err_msg=f"{mode} {key}")


def perturb(torch, layer, rng):
    """Weight and bias away from ones and zeros, so that their roles are checked."""
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(torch.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))


layer_options = st.fixed_dictionaries({"momentum": st.sampled_from([0.1, 0.5, 1.0, None]), "affine": st.booleans(),
                                       "track_running_stats": st.booleans(), "bias": st.booleans()})
volumes = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))


@settings(max_examples=30)
@given(shape=volumes, options=layer_options, seed=seeds)
def test_batch_norm_3d_matches_torch(device, shape, options, seed):
    torch = _torch()
    n, c = shape[:2]
    assume(n * shape[2] * shape[3] * shape[4] > 1)  # training needs more than one value per channel
    rng = np.random.default_rng(seed)
    theirs = torch.nn.BatchNorm3d(c, eps=1e-3, **options)
    perturb(torch, theirs, rng)
    ours = nn.BatchNorm3d(c, eps=1e-3, **options).to(device)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    compare_steps(torch, ours, theirs, device, [("train", shape)] * 2 + [("eval", shape), ("train", shape)], rng)


@settings(max_examples=30)
@given(shape=volumes, options=layer_options, seed=seeds)
def test_instance_norm_3d_matches_torch(device, shape, options, seed):
    """Batched and unbatched steps; momentum None is PyTorch's momentum 0 for instance norm."""
    torch = _torch()
    c, spatial = shape[1], shape[2:]
    assume(spatial[0] * spatial[1] * spatial[2] > 1)  # each sample's own statistics need two positions
    rng = np.random.default_rng(seed)
    theirs = torch.nn.InstanceNorm3d(c, eps=1e-3, **options)
    perturb(torch, theirs, rng)
    ours = nn.InstanceNorm3d(c, eps=1e-3, **options).to(device)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    steps = [("train", shape), ("train", shape[1:]), ("eval", shape), ("eval", shape[1:]), ("train", shape)]
    compare_steps(torch, ours, theirs, device, steps, rng)


@pytest.mark.parametrize("kind", ["batch", "instance"])
@pytest.mark.parametrize("momentum", [0.2, None])
def test_torch_state_dict_loads_with_the_same_outputs(device, rng, kind, momentum):
    """A PyTorch layer trained a few steps (running statistics and count away from their start, weight and
    bias perturbed): its state dict loaded here gives the same eval outputs, and the two stay together
    through further training (momentum None: the cumulative average continues from the loaded count)."""
    torch = _torch()
    make = (lambda m: m.BatchNorm3d(3, momentum=momentum)) if kind == "batch" else \
        (lambda m: m.InstanceNorm3d(3, momentum=momentum, affine=True, track_running_stats=True))
    theirs = make(torch.nn)
    perturb(torch, theirs, rng)
    for _ in range(3):
        theirs(torch.tensor((rng.standard_normal((2, 3, 2, 3, 3)) * 3 + 2).astype(np.float32)))
    ours = make(nn).to(device)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    if kind == "batch":
        assert int(ours.num_batches_tracked.item()) == 3
    shape = (2, 3, 3, 2, 3)
    compare_steps(torch, ours, theirs, device, [("eval", shape), ("train", shape), ("train", shape), ("eval", shape)],
                  rng)


@pytest.mark.parametrize("kind", ["batch", "instance", "lrn"])
def test_gradient_penalty_matches_torch(rng, kind):
    """R1 through a small critic with the layer (float64): the input gradient, then the penalty's
    gradients for every parameter, which need each op's second derivative (batch norm's in training)."""
    torch = _torch()

    def critic(m):
        norm = {"batch": lambda: m.BatchNorm3d(2), "instance": lambda: m.InstanceNorm3d(2, affine=True),
                "lrn": lambda: m.LocalResponseNorm(2, alpha=0.5, k=1.5)}[kind]()
        return m.Sequential(norm, m.Tanh(), m.Flatten(), m.Linear(2 * 2 * 3 * 2, 1))

    ours, theirs = float64_twins(torch, critic, rng)
    x = rng.standard_normal((3, 2, 2, 3, 2)) * 2
    assert_penalty_gradients_match(torch, ours, theirs, x, input_tol={"rtol": 1e-9, "atol": 1e-11},
                                   param_tol={"rtol": 1e-8, "atol": 1e-10})


# -- the 3-D layers: numerical gradients, float64, both orders ---------------------------------------------

def _wb(ab, has_weight, has_bias):
    return (ab[0] if has_weight else None), (ab[-1] if has_bias else None)


@settings(max_examples=15)
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 2), st.integers(1, 2), st.integers(2, 2)),
       has_weight=st.booleans(), has_bias=st.booleans(), seed=seeds)
def test_3d_gradients(shape, has_weight, has_bias, seed):
    """batch_norm (training and eval) and instance_norm on (N, C, D, H, W), weight and bias included."""
    rng = np.random.default_rng(seed)
    c = shape[1]
    arrays = [rng.standard_normal(shape)] + [rng.standard_normal(c) for _ in range(has_weight + has_bias)]
    rm, rv = mg.tensor(rng.standard_normal(c)), mg.tensor(rng.uniform(0.5, 2, c))
    check_grad(lambda x, *ab: F.batch_norm(x, None, None, *_wb(ab, has_weight, has_bias), training=True, eps=1e-3),
               arrays)
    check_grad(lambda x, *ab: F.batch_norm(x, rm, rv, *_wb(ab, has_weight, has_bias), training=False), arrays)
    check_grad(lambda x, *ab: F.instance_norm(x, weight=_wb(ab, has_weight, has_bias)[0],
                                              bias=_wb(ab, has_weight, has_bias)[1], eps=1e-3), arrays)


@pytest.mark.parametrize("kind", ["batch", "instance"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_3d_layers_second_order(device, rng, kind, mode):
    """The layers themselves in float64 (running statistics moved off their start before eval), with
    tanh after, as inside a critic; and the weight and bias through the function on a 5-D input."""
    layer = (nn.BatchNorm3d(2, dtype=np.float64) if kind == "batch" else
             nn.InstanceNorm3d(2, affine=True, track_running_stats=True, dtype=np.float64)).to(device)
    layer(_t(rng.standard_normal((3, 2, 2, 2, 3)) * 2 + 1, device))
    getattr(layer, mode)()
    check_double_grad(lambda x: F.tanh(layer(x)), [rng.standard_normal((2, 2, 1, 2, 2))], device)
    if mode == "train":
        fn = ((lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)) if kind == "batch" else
              (lambda x, w, b: F.instance_norm(x, weight=w, bias=b)))
        check_double_grad(lambda *xs: F.tanh(fn(*xs)),
                          [rng.standard_normal((2, 2, 1, 2, 2)), rng.standard_normal(2), rng.standard_normal(2)],
                          device)


def test_3d_layers_keep_float32(device, rng):
    for layer in (nn.BatchNorm3d(3), nn.BatchNorm3d(3, momentum=None), nn.InstanceNorm3d(3, affine=True),
                  nn.InstanceNorm3d(3, track_running_stats=True)):
        layer.to(device)
        for mode in ("train", "eval"):
            getattr(layer, mode)()
            x = _t(rng.standard_normal((2, 3, 2, 2, 2)).astype(np.float32), device, requires_grad=True)
            y = layer(x)
            assert y.dtype == np.float32, repr(layer)
            g, = mg.grad((F.tanh(y) ** 2).sum(), [x], create_graph=True)
            assert g.dtype == np.float32
            (g * g).sum().backward()
            assert x.grad.dtype == np.float32
            assert all(p.grad is None or p.grad.dtype == np.float32 for p in layer.parameters())
            if layer.track_running_stats:
                assert layer.running_mean.dtype == layer.running_var.dtype == np.float32


# -- reprs, state-dict keys, errors ---------------------------------------------------------------------------

def every_new_layer(m):
    return [m.BatchNorm3d(7), m.BatchNorm3d(7, eps=1e-3, momentum=None), m.BatchNorm3d(7, affine=False),
            m.BatchNorm3d(7, track_running_stats=False), m.BatchNorm3d(7, bias=False),
            m.InstanceNorm3d(3), m.InstanceNorm3d(3, affine=True, momentum=0.2),
            m.InstanceNorm3d(3, affine=True, bias=False, track_running_stats=True),
            m.InstanceNorm3d(4, eps=1e-3, momentum=None, track_running_stats=True),
            m.LocalResponseNorm(2), m.LocalResponseNorm(5, alpha=1e-3, beta=0.5, k=2.0),
            m.LocalResponseNorm(3, 1, 1, 1),
            m.Sequential(m.BatchNorm3d(2), m.InstanceNorm3d(2, affine=True), m.LocalResponseNorm(2))]


def test_reprs_and_state_dicts_match_torch():
    torch = pytest.importorskip("torch", minversion="2.13")
    assert_reprs_and_state_dicts_match(every_new_layer(nn), every_new_layer(torch.nn), values=True)


def test_reprs_and_state_dict_keys():
    """The same without PyTorch, written out."""
    assert repr(nn.BatchNorm3d(4)) == ("BatchNorm3d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                                       "track_running_stats=True)")
    assert repr(nn.InstanceNorm3d(4)) == ("InstanceNorm3d(4, eps=1e-05, momentum=0.1, affine=False, bias=False, "
                                          "track_running_stats=False)")
    assert repr(nn.LocalResponseNorm(2)) == "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)"
    assert list(nn.BatchNorm3d(4).state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                                    "num_batches_tracked"]
    assert list(nn.BatchNorm3d(4, bias=False, track_running_stats=False).state_dict()) == ["weight"]
    assert list(nn.InstanceNorm3d(4).state_dict()) == []
    assert list(nn.InstanceNorm3d(4, affine=True, track_running_stats=True).state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert "SyncBatchNorm" not in dir(nn)


def test_errors_name_the_layer_or_op_the_argument_and_the_shape():
    with pytest.raises(ValueError, match=r"BatchNorm3d: expected input \(N, C, D, H, W\), got shape \(2, 3, 4, 4\)"):
        nn.BatchNorm3d(3)(mg.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm3d: expected input .* got shape \(1, 2, 3, 1, 1, 1\)"):
        nn.BatchNorm3d(3)(mg.zeros(1, 2, 3, 1, 1, 1))
    # the 1-D and 2-D layers' messages are as they were
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected input \(N, C\) or \(N, C, L\), got shape \(3,\)"):
        nn.BatchNorm1d(3)(mg.zeros(3))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input \(N, C, H, W\), got shape \(2, 3, 1, 1, 1\)"):
        nn.BatchNorm2d(3)(mg.zeros(2, 3, 1, 1, 1))
    with pytest.raises(ValueError, match=r"batch_norm: running_mean of shape \(3,\) does not fit input of shape "
                                         r"\(2, 4, 2, 2, 2\)"):
        nn.BatchNorm3d(3)(mg.zeros(2, 4, 2, 2, 2))
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel when training, got "
                                         r"input of shape \(1, 3, 1, 1, 1\)"):
        nn.BatchNorm3d(3)(mg.zeros(1, 3, 1, 1, 1))
    with pytest.raises(ValueError, match=r"InstanceNorm3d: expected input \(N, C, D, H, W\) or \(C, D, H, W\), got "
                                         r"shape \(2, 3, 4\)"):
        nn.InstanceNorm3d(3)(mg.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"InstanceNorm3d: input of shape \(2, 4, 2, 2, 2\) has 4 channels but "
                                         r"num_features=3"):
        nn.InstanceNorm3d(3, affine=True)(mg.zeros(2, 4, 2, 2, 2))
    with pytest.warns(UserWarning, match=r"InstanceNorm3d: input of shape \(4, 2, 2, 2\) has 4 channels"):
        nn.InstanceNorm3d(3)(mg.zeros(4, 2, 2, 2))
    with pytest.raises(ValueError, match=r"instance_norm: input must be \(N, C, \*\) with more than 1 spatial "
                                         r"element per channel when use_input_stats=True, got shape \(2, 3, 1, 1, 1\)"):
        nn.InstanceNorm3d(3)(mg.zeros(2, 3, 1, 1, 1))
    x = mg.zeros(2, 3, 4)
    with pytest.raises(ValueError, match=r"local_response_norm: input must be \(N, C, \*\) with 3 or more "
                                         r"dimensions, got shape \(2, 3\)"):
        F.local_response_norm(mg.zeros(2, 3), 2)
    for size, error in ((0, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError), (None, TypeError)):
        with pytest.raises(error, match=rf"local_response_norm: size must be a positive int \(channels per "
                                             rf"window\), got {size!r}"):
            F.local_response_norm(x, size)
    with pytest.raises(TypeError, match=r"local_response_norm: beta must be a number, got 'a' \(input of shape "
                                        r"\(2, 3, 4\)\)"):
        F.local_response_norm(x, 2, beta="a")
    with pytest.raises(TypeError, match=r"local_response_norm: input must be floating point, got dtype int64"):
        F.local_response_norm(mg.tensor(np.zeros((2, 3, 4), dtype=np.int64)), 2)
    with pytest.raises(ValueError, match=r"LocalResponseNorm: size must be a positive int \(channels per window\), "
                                         r"got 0"):
        nn.LocalResponseNorm(0)
    with pytest.raises(ValueError, match=r"local_response_norm: input must be .* got shape \(5,\)"):
        nn.LocalResponseNorm(2)(mg.zeros(5))
