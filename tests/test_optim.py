"""minigan.optim: SGD, Adam (AMSGrad, L2 or decoupled weight decay), AdamW and RMSprop against hand-written
float64 updates (and torch.optim when it is installed), parameter groups, state-dict round trips (through
.npz + JSON), and dtype preservation."""
import functools
import io
import json

import numpy as np
import pytest

import minigan as mg
from minigan import kernels, nn, optim


def sgd_reference(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    buf = None
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def adam_reference(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                   decoupled_weight_decay=False):
    """Kingma & Ba (2015), Algorithm 1, with the bias-corrected moments written out; AMSGrad (Reddi et al.
    2018) normalises by the largest v so far; decoupled decay (Loshchilov & Hutter 2019) shrinks p first."""
    m, v, v_max = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        v_max = np.maximum(v_max, v)
        m_hat, v_hat = m / (1 - betas[0] ** t), (v_max if amsgrad else v) / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


adamw_reference = functools.partial(adam_reference, weight_decay=0.01, decoupled_weight_decay=True)


def rmsprop_reference(p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    sq, avg, buf = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        g = g + weight_decay * p
        sq = alpha * sq + (1 - alpha) * g * g
        if centered:
            avg = alpha * avg + (1 - alpha) * g
            denom = np.sqrt(sq - avg * avg) + eps
        else:
            denom = np.sqrt(sq) + eps
        if momentum:
            buf = momentum * buf + g / denom
            p = p - lr * buf
        else:
            p = p - lr * g / denom
    return p


CASES = [
    ("SGD", sgd_reference, dict(lr=0.1)),
    ("SGD", sgd_reference, dict(lr=0.05, momentum=0.9)),
    ("SGD", sgd_reference, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", sgd_reference, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("Adam", adam_reference, dict(lr=0.01)),
    ("Adam", adam_reference, dict(lr=2e-4, betas=(0.5, 0.999))),
    ("Adam", adam_reference, dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", adam_reference, dict(lr=0.01, betas=(0.8, 0.9), amsgrad=True)),
    ("Adam", adam_reference, dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    ("Adam", adam_reference, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", adamw_reference, dict(lr=0.01)),
    ("AdamW", adamw_reference, dict(lr=0.05, betas=(0.5, 0.999), weight_decay=0.1)),
    ("AdamW", adamw_reference, dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    ("RMSprop", rmsprop_reference, dict(lr=0.01)),
    ("RMSprop", rmsprop_reference, dict(lr=0.01, alpha=0.9, momentum=0.9, weight_decay=0.05)),
    ("RMSprop", rmsprop_reference, dict(lr=0.01, centered=True)),
    ("RMSprop", rmsprop_reference, dict(lr=0.005, centered=True, momentum=0.5, eps=1e-4)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, _, kw in CASES]


def _trajectory_inputs(rng, steps=5):
    p0 = rng.standard_normal((3, 4)).astype(np.float32)
    grads = [rng.standard_normal((3, 4)).astype(np.float32) for _ in range(steps)]
    return p0, grads


def _run(name, kw, p0, grads, device="cpu"):
    p = nn.Parameter(mg.tensor(p0, device=device))
    opt = getattr(optim, name)([p], **kw)
    for g in grads:
        p.grad = mg.tensor(g, device=device)
        opt.step()
    return p


@pytest.mark.parametrize("name, reference, kw", CASES, ids=IDS)
def test_matches_hand_computed_updates(device, rng, name, reference, kw):
    p0, grads = _trajectory_inputs(rng)
    p = _run(name, kw, p0, grads, device)
    assert p.dtype == np.float32 and p.creator is None
    want = reference(p0.astype(np.float64), [g.astype(np.float64) for g in grads], **kw)
    np.testing.assert_allclose(p.numpy(), want, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name, reference, kw", CASES, ids=IDS)
def test_float64_parameters_match_to_high_precision(rng, name, reference, kw):
    p0, grads = _trajectory_inputs(rng)
    p0, grads = p0.astype(np.float64), [g.astype(np.float64) for g in grads]
    p = _run(name, kw, p0, grads)
    assert p.dtype == np.float64
    np.testing.assert_allclose(p.numpy(), reference(p0, grads, **kw), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("dtype, tol", [(np.float32, dict(rtol=1e-5, atol=1e-6)),
                                        (np.float64, dict(rtol=1e-12, atol=1e-14))], ids=["float32", "float64"])
@pytest.mark.parametrize("name, reference, kw", CASES, ids=IDS)
def test_matches_torch(rng, name, reference, kw, dtype, tol):
    torch = pytest.importorskip("torch")
    p0, grads = _trajectory_inputs(rng)
    p0, grads = p0.astype(dtype), [g.astype(dtype) for g in grads]
    p = _run(name, kw, p0, grads)
    tp = torch.nn.Parameter(torch.tensor(p0))
    topt = getattr(torch.optim, name)([tp], **kw)
    for g in grads:
        tp.grad = torch.tensor(g)
        topt.step()
    assert p.dtype == dtype
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), **tol)


def test_param_groups_have_their_own_hyper_parameters(rng):
    p0, grads = _trajectory_inputs(rng, 3)
    a, b = nn.Parameter(mg.tensor(p0)), nn.Parameter(mg.tensor(p0))
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.1, "betas": (0.5, 0.9)}], lr=0.01)
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["betas"] == (0.9, 0.999)
    for g in grads:
        a.grad, b.grad = mg.tensor(g), mg.tensor(g)
        opt.step()
    g64 = [g.astype(np.float64) for g in grads]
    np.testing.assert_allclose(a.numpy(), adam_reference(p0.astype(np.float64), g64, lr=0.01), rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(b.numpy(), adam_reference(p0.astype(np.float64), g64, lr=0.1, betas=(0.5, 0.9)),
                               rtol=2e-5, atol=2e-6)


def test_amsgrad_normalises_by_the_largest_second_moment(device, rng):
    p0 = rng.standard_normal((3, 4)).astype(np.float32)
    # Shrinking gradients make v fall, so the running maximum differs from v.
    grads = [(rng.standard_normal((3, 4)) * scale).astype(np.float32) for scale in (4, 2, 0.5, 0.1)]
    kw = dict(lr=0.01, betas=(0.8, 0.9))
    p = nn.Parameter(mg.tensor(p0, device=device))
    opt = optim.AdamW([p], amsgrad=True, **kw)
    for g in grads:
        p.grad = mg.tensor(g, device=device)
        opt.step()
    state = opt.state_dict()["state"][0]
    assert set(state) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}  # torch's names
    assert all(state[k].dtype == np.float32 for k in state if k != "step")
    assert np.all(state["max_exp_avg_sq"] >= state["exp_avg_sq"])
    assert np.any(state["max_exp_avg_sq"] > state["exp_avg_sq"])
    g64 = [g.astype(np.float64) for g in grads]
    np.testing.assert_allclose(p.numpy(), adamw_reference(p0.astype(np.float64), g64, amsgrad=True, **kw),
                               rtol=2e-5, atol=2e-6)
    assert not np.allclose(p.numpy(), adamw_reference(p0.astype(np.float64), g64, **kw), rtol=1e-4, atol=0)


def test_adamw_decay_is_decoupled_from_the_moments(device):
    """With a zero gradient the moments stay zero, so AdamW only shrinks p by (1 - lr wd) each step, in
    float32; Adam's L2 decay goes through the moments and moves p by about lr instead."""
    p = nn.Parameter(mg.full((4,), 2.0, device=device))
    l2 = nn.Parameter(mg.full((4,), 2.0, device=device))
    adamw, adam = optim.AdamW([p], lr=0.1, weight_decay=0.5), optim.Adam([l2], lr=0.1, weight_decay=0.5)
    for _ in range(3):
        p.grad, l2.grad = mg.zeros(4, device=device), mg.zeros(4, device=device)
        adamw.step()
        adam.step()
    expected = np.float32(2.0)
    for _ in range(3):
        expected *= np.float32(1 - 0.1 * 0.5)
    np.testing.assert_array_equal(p.numpy(), np.full(4, expected, np.float32))
    l2_expected = adam_reference(np.full(4, 2.0), [np.zeros(4)] * 3, lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(l2.numpy(), l2_expected, rtol=2e-5)
    np.testing.assert_allclose(l2_expected, 2.0 - 3 * 0.1, rtol=1e-3)
    assert p.dtype == l2.dtype == np.float32


@pytest.mark.parametrize("kw, implementation", [(dict(), None), (dict(amsgrad=True), "reference")],
                         ids=["fused", "amsgrad"])
def test_adamw_uses_the_fused_kernels_and_amsgrad_the_reference(monkeypatch, kw, implementation):
    asked = []
    get = kernels.get
    monkeypatch.setattr(kernels, "get", lambda primitive, xp=np, name=None: asked.append((primitive, name))
                        or get(primitive, xp, name))
    p = nn.Parameter(mg.zeros(3))
    p.grad = mg.ones(3)
    optim.AdamW([p], **kw).step()
    assert asked == [("adam_update", implementation)]


def test_zero_grad_and_parameters_without_grad(rng):
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = model.state_dict()
    model(mg.tensor(rng.standard_normal((4, 3)).astype(np.float32))).sum().backward()
    model[1].bias.grad = None  # a parameter without a gradient is left alone
    opt.step()
    after = model.state_dict()
    np.testing.assert_array_equal(after["1.bias"], before["1.bias"])
    assert not np.array_equal(after["0.weight"], before["0.weight"])
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("name, reference, kw", [c for c in CASES if c[2].get("momentum") or c[0] != "SGD"],
                         ids=[i for i, c in zip(IDS, CASES) if c[2].get("momentum") or c[0] != "SGD"])
def test_state_dict_round_trip_through_npz_and_json_continues_identically(rng, name, reference, kw):
    p0, grads = _trajectory_inputs(rng, 6)
    params = [nn.Parameter(mg.tensor(p0)), nn.Parameter(mg.tensor(p0[0]))]
    opt = getattr(optim, name)([{"params": [params[0]]}, {"params": [params[1]], "lr": kw["lr"] / 2}], **kw)

    def step(ps, o, g):
        ps[0].grad, ps[1].grad = mg.tensor(g), mg.tensor(g[0])
        o.step()

    for g in grads[:3]:
        step(params, opt, g)
    saved = opt.state_dict()
    # Store it as a checkpoint would: arrays in an .npz (no pickle), the rest as JSON.
    entries = saved["state"].items()
    arrays = {f"{i}/{k}": v for i, entry in entries for k, v in entry.items() if isinstance(v, np.ndarray)}
    numbers = {str(i): {k: v for k, v in entry.items() if not isinstance(v, np.ndarray)} for i, entry in entries}
    meta = json.dumps({"param_groups": saved["param_groups"], "numbers": numbers})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as npz:
        loaded_arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(meta)
    state = {i: dict(n) for i, n in meta["numbers"].items()}
    for key, value in loaded_arrays.items():
        i, k = key.split("/")
        state[i][k] = value

    clones = [nn.Parameter(mg.tensor(p.numpy())) for p in params]
    other = getattr(optim, name)([{"params": [clones[0]]}, {"params": [clones[1]]}], lr=123.0)
    other.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    assert other.param_groups[1]["lr"] == kw["lr"] / 2
    assert all(type(v) is type(opt.param_groups[0][k]) for k, v in other.param_groups[0].items() if k != "params")
    for g in grads[3:]:
        step(params, opt, g)
        step(clones, other, g)
    for p, c in zip(params, clones):
        np.testing.assert_array_equal(p.numpy(), c.numpy())
        assert c.dtype == np.float32


def test_state_dict_is_plain_data(rng):
    p = nn.Parameter(mg.tensor(rng.standard_normal(3).astype(np.float32)))
    opt = optim.Adam([p], lr=0.1)
    p.grad = mg.ones(3)
    opt.step()
    saved = opt.state_dict()
    assert set(saved["state"][0]) == {"step", "exp_avg", "exp_avg_sq"} and saved["state"][0]["step"] == 1
    assert all(isinstance(v, np.ndarray) for k, v in saved["state"][0].items() if k != "step")
    json.dumps(saved["param_groups"])
    saved["state"][0]["exp_avg"][...] = 99  # a copy, not the live state
    assert not np.any(opt.state[p]["exp_avg"] == 99)


def test_load_state_dict_errors(rng):
    a, b = nn.Parameter(mg.zeros(3)), nn.Parameter(mg.zeros(2))
    opt = optim.Adam([a, b])
    a.grad, b.grad = mg.ones(3), mg.ones(2)
    opt.step()
    saved = opt.state_dict()
    with pytest.raises(ValueError, match="the state has 1 parameter groups, the optimiser 2"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="group 0 has 2 parameters in the state but 1"):
        optim.Adam([a]).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 0 has shape \(3,\), the parameter \(2,\)"):
        optim.Adam([b, a]).load_state_dict(saved)


def test_hyper_parameter_and_argument_errors():
    p = nn.Parameter(mg.zeros(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="non-leaf"):
        optim.Adam([p * 2])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.RMSprop([{"params": [p]}, {"params": [p]}])
    with pytest.raises(ValueError, match=r"AdamW: betas must be two numbers in \[0, 1\), got \(0.9,\)"):
        optim.AdamW([p], betas=(0.9,))
    with pytest.raises(ValueError, match="AdamW: weight_decay must be >= 0, got -0.01"):
        optim.AdamW([p], weight_decay=-0.01)


def test_updates_build_no_graph_and_keep_dtype(rng):
    model = nn.Linear(3, 2)
    opt = optim.RMSprop(model.parameters(), lr=np.float64(0.01), centered=True, momentum=0.5)
    model(mg.tensor(rng.standard_normal((4, 3)).astype(np.float32))).sum().backward()
    opt.step()
    for p in model.parameters():
        assert p.dtype == np.float32 and p.creator is None and p.is_leaf
        assert all(v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray))
