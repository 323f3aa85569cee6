"""The autograd contract: graph order, accumulation, grad modes, mg.grad, dtypes and error messages."""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F


def test_tensor_used_twice_gets_both_contributions(device):
    a = mg.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    b = a + a
    c = b * b + b  # dc/da = (2b + 1) * 2
    c.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), (2 * 2 * np.array([1, 2, 3]) + 1) * 2)


def test_diamond_graph_visits_each_node_once(device):
    x = mg.tensor([0.5], device=device, requires_grad=True)
    y = F.exp(x)
    z = y * y + F.tanh(y)  # y is used by two branches of different depth
    z.backward(mg.ones(1, device=device))
    e = np.exp(0.5)
    np.testing.assert_allclose(x.grad.numpy(), [(2 * e + (1 - np.tanh(e) ** 2)) * e], rtol=1e-6)


def test_gradients_accumulate_over_two_backward_calls(device):
    w = mg.tensor([2.0], device=device, requires_grad=True)
    (w * 3.0).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0 + 4.0])
    w.zero_grad()
    assert w.grad is None


def test_no_grad_records_nothing(device):
    w = mg.tensor([1.0], device=device, requires_grad=True)
    with mg.no_grad():
        y = w * 2.0
    assert y.creator is None and not y.requires_grad
    assert mg.is_grad_enabled()

    @mg.no_grad()
    def infer(t):
        return t * 2.0

    @mg.no_grad  # bare, as PyTorch allows
    def infer_bare(t):
        return t * 2.0

    @mg.enable_grad
    def record(t):
        return t * 2.0

    assert infer(w).creator is None and infer_bare(w).creator is None
    with mg.no_grad():
        assert record(w).creator is not None


def test_a_computed_tensor_cannot_leave_the_graph_by_flag(device):
    y = mg.tensor([1.0], device=device, requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match=r"only a leaf's flag can change.*\.detach\(\)"):
        y.requires_grad_(False)


def test_detach_cuts_the_graph_and_shares_memory(device):
    w = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = w * 3.0
    d = y.detach()
    assert d.creator is None and not d.requires_grad
    (d * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 6.0])  # no gradient through d
    d.data[0] = 7.0
    assert y.numpy()[0] == 7.0


def test_retain_grad_keeps_an_intermediate_gradient(device):
    x = mg.tensor([1.0, -2.0], device=device, requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    other = x * 3.0
    (h * h + other).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [4.0, -8.0])
    assert other.grad is None  # not retained: only leaves keep .grad by default


def test_each_leaf_gets_a_writable_grad_of_its_own_dtype(device):
    """As in PyTorch: a float64 term does not turn a float32 leaf's gradient float64, and every .grad is
    an array of its own that may be scaled in place (Add hands one array to both inputs, a broadcast
    gives a read-only view, and backward(g) on a leaf is given the caller's g)."""
    x = mg.tensor(np.array([1.0, 2.0], np.float32), device=device, requires_grad=True)
    (x + mg.tensor(np.ones(2), device=device)).sum().backward()
    assert x.grad.dtype == np.float32
    a, b = (mg.tensor(np.array([1.0, 2.0], np.float32), device=device, requires_grad=True) for _ in "ab")
    (a + b).sum().backward()
    a.grad.data *= 0.5
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.5])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    g = mg.tensor(np.ones(2, np.float32), device=device)
    x.grad = None
    x.backward(g)
    x.grad.data *= 3.0
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0])


def test_backward_frees_the_graph_unless_asked_to_retain_it(device):
    """As in PyTorch: a second backward through a freed graph is an error (not a second helping of
    gradient), retain_graph=True keeps it, and the freed graph's arrays go while the loss is still held."""
    import gc
    import weakref
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    h = x * x
    alive = weakref.ref(h.data)
    y = (h * 3.0).sum()
    del h
    y.backward()
    gc.collect()
    assert alive() is None  # y is held, but the graph behind it has let go of h
    with pytest.raises(RuntimeError, match="freed by an earlier backward.*retain_graph=True"):
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])  # the failed call added nothing
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0 + 4.0, 12.0 + 8.0])
    w = (x * x).sum()
    mg.grad(w, x, retain_graph=True)
    (gx,) = mg.grad(w, x)
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="freed"):
        mg.grad(w, x)


def test_backward_lets_go_of_each_activation_once_the_layers_above_it_are_done(device):
    """Freeing is per node, as the pass goes: once the nodes that took an activation as input, and the
    node that made it, have run their backward, the activation is gone, before the pass reaches the
    layers below. So a backward does not hold every activation and every gradient at once. With
    retain_graph=True the activation stays. (A node's own outputs stay alive through its own backward,
    which may read them: tanh does.)"""
    import weakref

    from minigan.function import Function

    class Probe(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            Probe.above_alive = watched() is not None
            return gy * 2

    for retain, alive in ((False, False), (True, True)):
        x = mg.tensor([0.1, 0.2], device=device, requires_grad=True)
        h = Probe().apply(x) * 3.0  # h: the Mul's output, the tanh's input
        watched = weakref.ref(h)
        loss = F.tanh(h).sum()
        del h
        loss.backward(retain_graph=retain)
        assert Probe.above_alive is alive
        np.testing.assert_allclose(x.grad.numpy(), 6 * (1 - np.tanh(6 * np.array([0.1, 0.2])) ** 2), rtol=1e-6)


def test_backward_after_an_optimiser_step_changed_a_saved_weight_is_an_error(device):
    """The classic GAN mistake: G's loss is built through D, D's optimiser steps, and then G's loss is
    backpropagated, which would use D's new weights. As PyTorch does, refuse; building the loss again
    after the step is fine."""
    from minigan import nn, optim
    mg.manual_seed(0)
    G, D = nn.Linear(2, 3).to(device), nn.Linear(3, 1).to(device)
    opt_d = optim.SGD(D.parameters(), lr=0.1)
    z = mg.randn(4, 2, device=device)
    g_loss = D(G(z)).mean()
    D(G(z).detach()).mean().backward()
    opt_d.step()
    with pytest.raises(RuntimeError, match=r"input 1 of Linear \(shape \(1, 3\)\) was changed in place"):
        g_loss.backward()
    D(G(z)).mean().backward()
    assert G.weight.grad is not None


def test_grad_outputs_may_be_arrays_and_must_match_their_outputs(device):
    x = mg.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    (g,) = mg.grad(x * 2.0, x, np.ones(3, np.float32))
    np.testing.assert_allclose(g.numpy(), [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match=r"grad: grad_outputs\[0\] of shape \(3, 1\) does not match its output's "
                                         r"shape \(3,\)"):
        mg.grad(x * 2.0, x, mg.ones(3, 1, device=device))
    with pytest.raises(ValueError, match=r"backward: grad of shape \(2,\) does not match"):
        (x * 2.0).backward(mg.ones(2, device=device))


def test_backward_on_non_scalar_needs_a_gradient(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward.*shape \(2,\).*grad="):
        (x * 2.0).backward()


def test_backward_without_grad_raises(device):
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0], device=device).sum().backward()


def test_grad_returns_tuple_and_leaves_dot_grad_alone(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    w = mg.tensor([3.0, 4.0], device=device, requires_grad=True)
    gx, gw = mg.grad((x * w).sum(), [x, w])
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None
    assert gx.creator is None  # create_graph=False builds no graph


def test_grad_of_an_intermediate_tensor(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    h = x * 2.0
    (gh,) = mg.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.numpy(), [4.0, 8.0])


def test_grad_unused_input(device):
    x = mg.tensor([1.0], device=device, requires_grad=True)
    u = mg.tensor([1.0], device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        mg.grad((x * 2.0).sum(), [x, u])
    assert mg.grad((x * 2.0).sum(), [x, u], allow_unused=True)[1] is None


class _RecordingMul(mg.Function):
    """x * w that records, at each backward, which input gradients the engine asked for."""

    asked = []

    def forward(self, x, w):
        return x * w

    def backward(self, gy):
        x, w = self.inputs
        self.asked.append(self.needs_input_grad)
        return gy * w, gy * x


def test_grad_runs_only_what_leads_to_its_inputs(device):
    """As PyTorch's engine does, mg.grad(y, x) asks no node for a gradient that cannot reach x (a
    gradient penalty would otherwise compute every weight's gradient of D and throw it away), and
    does not run the nodes below an intermediate target; backward() later asks for everything."""
    _RecordingMul.asked.clear()
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    w = mg.tensor([3.0, 4.0], device=device, requires_grad=True)
    y = _RecordingMul().apply(x, w).sum()
    (gx,) = mg.grad(y, x, retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    assert _RecordingMul.asked == [(True, False)]
    y.backward()
    assert _RecordingMul.asked[1] == (True, True)  # the pruned mask did not stay on the node
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0])

    _RecordingMul.asked.clear()
    h = _RecordingMul().apply(x, w)
    (gh,) = mg.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.numpy(), [6.0, 16.0])
    assert _RecordingMul.asked == []  # nothing below h ran


def test_grad_through_a_freed_graph_says_so(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    h = x * x
    y = (h * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="freed by an earlier backward"):
        mg.grad(y, x)


def test_double_backward_gradient_penalty_shape(device):
    """The WGAN-GP pattern: penalise ||d D(x) / dx|| and differentiate that with respect to D's weights."""
    rng = np.random.default_rng(0)
    w = mg.tensor(rng.standard_normal((1, 3)), device=device, requires_grad=True)
    x = mg.tensor(rng.standard_normal((4, 3)), device=device, requires_grad=True)
    out = F.tanh(F.linear(x, w))
    (gx,) = mg.grad(out.sum(), x, create_graph=True)
    penalty = ((F.sqrt((gx * gx).sum(axis=1)) - 1.0) ** 2).mean()
    penalty.backward()
    assert w.grad is not None and w.grad.shape == (1, 3)

    def numeric(wv):
        xv = x.numpy()
        t = np.tanh(xv @ wv.T)
        g = (1 - t ** 2) * wv
        return ((np.sqrt((g ** 2).sum(1)) - 1) ** 2).mean()

    eps, wv, num = 1e-6, w.numpy().copy(), np.zeros((1, 3))
    for i in range(3):
        wp, wm = wv.copy(), wv.copy()
        wp[0, i] += eps
        wm[0, i] -= eps
        num[0, i] = (numeric(wp) - numeric(wm)) / (2 * eps)
    np.testing.assert_allclose(w.grad.numpy(), num, rtol=1e-5, atol=1e-8)


# -- dtypes -----------------------------------------------------------------------------------


def test_tensor_dtype_rules():
    assert mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor(1.5).dtype == np.float32
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor(np.zeros(2)).dtype == np.float64  # an array keeps its dtype (gradient checks)
    assert mg.tensor(np.zeros(2), dtype=np.float32).dtype == np.float32
    # NumPy scalars keep theirs too, as in torch.tensor, though np.float64 is a subclass of float
    assert mg.tensor(np.float64(1.5)).dtype == np.float64 and mg.tensor(np.float32(1.5)).dtype == np.float32
    assert mg.zeros(2).dtype == mg.ones(2).dtype == mg.randn(2).dtype == mg.rand(2).dtype == np.float32
    assert mg.full((2,), 3).dtype == np.float32


SCALAR_OPS = [
    lambda x: x * 0.5, lambda x: 0.5 * x, lambda x: x + 1, lambda x: 1.0 - x, lambda x: x / 3.0,
    lambda x: 2.0 / (x + 3.0), lambda x: x ** 2, lambda x: x ** 0.5, lambda x: 2.0 ** x,
    lambda x: x * np.float64(2.0), lambda x: np.float64(2.0) * x, lambda x: x + np.array(1.0),
    lambda x: F.maximum(x, 0.0), lambda x: F.where(x > 0.5, x, 0.0), lambda x: F.clip(x, 0.1, 0.9),
    lambda x: x.mean(), lambda x: x.sum(axis=0) * 2, lambda x: x.max(), lambda x: F.exp(x),
    lambda x: F.log(x + 1), lambda x: F.sqrt(x), lambda x: F.sigmoid(x), lambda x: F.tanh(x),
    lambda x: F.softplus(x), lambda x: F.leaky_relu(x, 0.2), lambda x: F.relu(x), lambda x: F.abs(x),
    lambda x: F.binary_cross_entropy_with_logits(x, 1.0), lambda x: F.binary_cross_entropy_with_logits(x, 0.9),
    lambda x: F.binary_cross_entropy_with_logits(x, mg.tensor(np.ones((2, 3), dtype=np.int64), device=x.device)),
    lambda x: F.mse_loss(x, np.zeros((2, 3))), lambda x: F.l1_loss(x, 0.0),
    lambda x: x @ mg.ones(3, 2, device=x.device),
    lambda x: F.linear(x, mg.ones(4, 3, device=x.device), mg.zeros(4, device=x.device)),
    lambda x: F.concat([x, x], 1), lambda x: F.stack([x, x]), lambda x: x[0], lambda x: x.T,
]


@pytest.mark.parametrize("op", SCALAR_OPS)
def test_float32_in_float32_out_with_scalars(device, op):
    x = mg.tensor(np.random.default_rng(0).random((2, 3), dtype=np.float32), device=device, requires_grad=True)
    y = op(x)
    assert y.dtype == np.float32
    (g,) = mg.grad(y.sum() if y.ndim else y, x)
    assert g.dtype == np.float32


def test_integer_tensor_meets_float_scalar():
    assert (mg.tensor([1, 2]) * 0.5).dtype == np.float32
    assert (mg.tensor([1, 2]) * 2).dtype == np.int64
    assert (mg.tensor([1, 2]) + mg.tensor([0.5, 0.5])).dtype == np.float32


@pytest.mark.parametrize("op", [
    lambda i: i / 2, lambda i: 2 / i, lambda i: i / mg.tensor([3, 4]), lambda i: i ** 0.5, lambda i: F.exp(i),
    lambda i: F.log(i), lambda i: F.sqrt(i), lambda i: F.sigmoid(i), lambda i: F.tanh(i), lambda i: F.softplus(i)])
def test_fractions_of_integer_tensors_are_float32(op):
    """As in PyTorch: an op whose result is a fraction gives the default float dtype, not NumPy's float64."""
    assert op(mg.tensor([1, 2])).dtype == np.float32


def test_comparisons_are_not_differentiable():
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    mask = x > 0
    assert mask.dtype == np.bool_ and mask.creator is None and not mask.requires_grad


# -- errors -----------------------------------------------------------------------------------


def test_an_array_where_a_tensor_belongs_is_named():
    from minigan import nn
    with pytest.raises(TypeError, match="LeakyReLU: input 0 is a ndarray, not a Tensor; wrap it with minigan.tensor"):
        F.leaky_relu(np.ones(3, np.float32), 0.2)
    with pytest.raises(TypeError, match="input 0 is a ndarray, not a Tensor"):
        nn.Linear(3, 4)(np.ones((2, 3), np.float32))


def test_mismatched_shapes_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"Add.*\(2, 3\).*\(4,\)"):
        mg.ones(2, 3) + mg.ones(4)
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(2, 3\)"):
        mg.ones(2, 3) @ mg.ones(2, 3)
    with pytest.raises(ValueError, match=r"linear: input of shape \(5, 3\).*weight of shape \(2, 4\)"):
        F.linear(mg.ones(5, 3), mg.ones(2, 4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: input of shape \(4,\).*\(3,\)"):
        F.binary_cross_entropy_with_logits(mg.ones(4), mg.ones(3))
    with pytest.raises(ValueError, match=r"concat: shapes"):
        F.concat([mg.ones(2, 3), mg.ones(3, 3)], axis=1)
    with pytest.raises(IndexError, match=r"embedding.*\[0, 5\).*\(5, 2\)"):
        F.embedding(mg.tensor([7]), mg.ones(5, 2))


def test_requires_grad_only_for_floats():
    with pytest.raises(RuntimeError, match="floating-point"):
        mg.tensor([1, 2], requires_grad=True)


def test_cuda_request_without_gpu_explains_why():
    if mg.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="cuda.*(CuPy|driver|device)"):
        mg.tensor([1.0], device="cuda")
    with pytest.raises(ValueError, match="unknown device"):
        mg.tensor([1.0], device="tpu")


def test_item_repr_and_to():
    t = mg.tensor([[1.5]], requires_grad=True)
    assert t.item() == 1.5
    assert "requires_grad=True" in repr(t)
    assert t.to("cpu").device == "cpu"
    assert t.to(dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="item"):
        mg.ones(2).item()
