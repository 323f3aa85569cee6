"""nn.RNNCell, LSTMCell, GRUCell, RNN, LSTM, GRU and minigan.functional.recurrent: values against NumPy written
from PyTorch's documented equations (every run) and against PyTorch where it is installed (outputs, final
states, input, initial-state and parameter gradients, float64 and float32) over hypothesis-drawn sizes,
num_layers, bidirectional, batch_first, unbatched input, bias, LSTM projections and given or absent initial
states; dropout between layers; float64 first- and second-order gradient checks; float32 kept; the
initialisation; reprs and state-dict keys; the error messages."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigan as mg
import minigan.functional as F
from minigan import nn
from minigan.functional.recurrent import gru_cell, lstm_cell, recurrent, rnn_relu_cell, rnn_tanh_cell, split
from gradcheck import check_double_grad, check_grad
from torch_compare import assert_reprs_and_state_dicts_match

seeds = st.integers(0, 2 ** 16)
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def tolerance(dtype):
    return {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-11}


# -- definitions (PyTorch's documented equations) ----------------------------------------------------------

def np_sigmoid(v):
    return 1 / (1 + np.exp(-v))


def np_step(mode, x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    gi = x @ w_ih.T + (0 if b_ih is None else b_ih)
    gh = h @ w_hh.T + (0 if b_hh is None else b_hh)
    if mode == "RNN_TANH":
        return np.tanh(gi + gh), None
    if mode == "RNN_RELU":
        return np.maximum(gi + gh, 0), None
    if mode == "LSTM":
        i, f, g, o = np.split(gi + gh, 4, axis=-1)
        c = np_sigmoid(f) * c + np_sigmoid(i) * np.tanh(g)
        h = np_sigmoid(o) * np.tanh(c)
        return (h if w_hr is None else h @ w_hr.T), c
    (ir, iz, inn), (hr, hz, hn) = np.split(gi, 3, axis=-1), np.split(gh, 3, axis=-1)
    r, z = np_sigmoid(ir + hr), np_sigmoid(iz + hz)
    n = np.tanh(inn + r * hn)
    return (1 - z) * n + z * h, None


def np_recurrent(mode, x, h0, c0, weights, num_layers, directions):
    """x (L, N, H_in); h0, c0 (D*layers, N, *); weights per layer and direction -> output, h_n, c_n."""
    hn, cn = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            h, c = h0[k], None if c0 is None else c0[k]
            out = [None] * len(x)
            for t in (reversed(range(len(x))) if d else range(len(x))):
                h, c = np_step(mode, x[t], h, c, *weights[k])
                out[t] = h
            outs.append(np.stack(out))
            hn.append(h)
            cn.append(c)
        x = np.concatenate(outs, axis=-1)
    return x, np.stack(hn), (None if c0 is None else np.stack(cn))


# -- cases --------------------------------------------------------------------------------------------------

def random_weights(rng, mode, input_size, hidden, num_layers, directions, bias, proj=0):
    out = proj or hidden
    rows = GATES[mode] * hidden
    weights = []
    for layer in range(num_layers):
        in_size = input_size if layer == 0 else directions * out
        for _ in range(directions):
            weights.append((rng.standard_normal((rows, in_size)) * 0.6, rng.standard_normal((rows, out)) * 0.6,
                            rng.standard_normal(rows) * 0.3 if bias else None,
                            rng.standard_normal(rows) * 0.3 if bias else None,
                            rng.standard_normal((proj, hidden)) * 0.6 if proj else None))
    return weights


@pytest.mark.parametrize("mode", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
@settings(max_examples=6)
@given(L=st.integers(1, 4), N=st.integers(1, 3), input_size=st.integers(1, 3), hidden=st.integers(2, 4),
       num_layers=st.integers(1, 2), bidirectional=st.booleans(), bias=st.booleans(), proj=st.booleans(),
       seed=seeds)
def test_recurrent_matches_numpy(device, mode, L, N, input_size, hidden, num_layers, bidirectional, bias, proj,
                                 seed):
    rng = np.random.default_rng(seed)
    proj = 1 if proj and mode == "LSTM" else 0
    directions = 2 if bidirectional else 1
    weights = random_weights(rng, mode, input_size, hidden, num_layers, directions, bias, proj)
    x = rng.standard_normal((L, N, input_size))
    h0 = rng.standard_normal((directions * num_layers, N, proj or hidden))
    c0 = rng.standard_normal((directions * num_layers, N, hidden)) if mode == "LSTM" else None
    expected = np_recurrent(mode, x, h0, c0, weights, num_layers, directions)

    def t(a):
        return None if a is None else mg.tensor(a, device=device)
    states = (t(h0),) if c0 is None else (t(h0), t(c0))
    out, finals = recurrent(mode, t(x), states, [tuple(t(w) for w in ws) for ws in weights], num_layers,
                            bidirectional)
    np.testing.assert_allclose(out.numpy(), expected[0], rtol=1e-10, atol=1e-12)
    for got, want in zip(finals, expected[1:]):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell,mode", [(rnn_tanh_cell, "RNN_TANH"), (rnn_relu_cell, "RNN_RELU"),
                                       (lstm_cell, "LSTM"), (gru_cell, "GRU")])
@pytest.mark.parametrize("batched", [True, False])
def test_functional_cells_match_numpy(device, cell, mode, batched):
    rng = np.random.default_rng(3)
    (w_ih, w_hh, b_ih, b_hh, _), = random_weights(rng, mode, 3, 4, 1, 1, True)
    shape = (2,) if batched else ()
    x, h, c = rng.standard_normal(shape + (3,)), rng.standard_normal(shape + (4,)), rng.standard_normal(shape + (4,))
    h1, c1 = np_step(mode, x, h, c, w_ih, w_hh, b_ih, b_hh)
    args = [mg.tensor(a, device=device) for a in (x, w_ih, w_hh, b_ih, b_hh)]
    hx = (mg.tensor(h, device=device), mg.tensor(c, device=device)) if mode == "LSTM" else mg.tensor(h, device=device)
    got = cell(args[0], hx, *args[1:])
    if mode == "LSTM":
        np.testing.assert_allclose(got[1].numpy(), c1, rtol=1e-10, atol=1e-12)
        got = got[0]
    np.testing.assert_allclose(got.numpy(), h1, rtol=1e-10, atol=1e-12)
    # no state: zeros
    zero = np_step(mode, x, 0 * h, 0 * c, w_ih, w_hh, b_ih, b_hh)[0]
    got = cell(args[0], None, *args[1:])
    np.testing.assert_allclose((got[0] if mode == "LSTM" else got).numpy(), zero, rtol=1e-10, atol=1e-12)


# -- against PyTorch ------------------------------------------------------------------------------------------

LAYERS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("LSTM", {"proj_size": 1}), ("GRU", {})]


def twins(torch, name, kwargs, dtype, seed):
    """(ours, theirs): the same layer in ``dtype``, PyTorch's parameters loaded into ours."""
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, name)(**kwargs).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = getattr(nn, name)(**kwargs, dtype=dtype)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.filterwarnings("ignore:LSTM with projections")  # PyTorch's note that oneDNN lacks them
@pytest.mark.parametrize("name,extra", LAYERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=8)
@given(L=st.integers(1, 4), N=st.integers(1, 3), input_size=st.integers(1, 4), hidden=st.integers(2, 4),
       num_layers=st.integers(1, 2), bidirectional=st.booleans(), batch_first=st.booleans(), bias=st.booleans(),
       layout=st.sampled_from(["batched", "unbatched"]), give_state=st.booleans(), seed=seeds)
def test_layers_match_torch(device, name, extra, dtype, L, N, input_size, hidden, num_layers, bidirectional,
                            batch_first, bias, layout, give_state, seed):
    torch = pytest.importorskip("torch")
    kwargs = dict(input_size=input_size, hidden_size=hidden, num_layers=num_layers, bias=bias,
                  batch_first=batch_first, bidirectional=bidirectional, **extra)
    ours, theirs = twins(torch, name, kwargs, dtype, seed)
    ours.to(device)
    rng = np.random.default_rng(seed)
    batched = layout == "batched"
    x = rng.standard_normal(((N, L) if batch_first else (L, N)) + (input_size,) if batched else (L, input_size))
    x = x.astype(dtype)
    count, out_size = num_layers * (2 if bidirectional else 1), extra.get("proj_size") or hidden
    lead = (count, N) if batched else (count,)
    states = [rng.standard_normal(lead + (out_size,)).astype(dtype)]
    if name == "LSTM":
        states.append(rng.standard_normal(lead + (hidden,)).astype(dtype))
    xm = mg.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    sm = [mg.tensor(s, device=device, requires_grad=True) for s in states]
    st_ = [torch.tensor(s, requires_grad=True) for s in states]
    if give_state:
        y, final = ours(xm, tuple(sm) if name == "LSTM" else sm[0])
        yt, final_t = theirs(xt, tuple(st_) if name == "LSTM" else st_[0])
    else:
        y, final = ours(xm)
        yt, final_t = theirs(xt)
    finals = final if name == "LSTM" else (final,)
    finals_t = final_t if name == "LSTM" else (final_t,)
    tol = tolerance(dtype)
    assert y.dtype == dtype and y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    for f, ft in zip(finals, finals_t):
        assert f.dtype == dtype and f.shape == tuple(ft.shape)
        np.testing.assert_allclose(f.numpy(), ft.detach().numpy(), **tol)

    # gradients of a loss that uses the output and every final state
    gys = [rng.standard_normal(t.shape).astype(dtype) for t in (yt,) + tuple(finals_t)]
    loss = sum(((t * mg.tensor(g, device=device)).sum() for t, g in zip((y,) + tuple(finals), gys)))
    loss_t = sum((t * torch.tensor(g)).sum() for t, g in zip((yt,) + tuple(finals_t), gys))
    params = [p for _, p in ours.named_parameters()]
    inputs = [xm] + (sm if give_state else [])
    inputs_t = [xt] + (st_ if give_state else [])
    grads = mg.grad(loss, inputs + params)
    grads_t = torch.autograd.grad(loss_t, inputs_t + [p for _, p in theirs.named_parameters()])
    names = ["input"] + [f"state {i}" for i in range(len(inputs) - 1)] + [n for n, _ in ours.named_parameters()]
    for n, g, gt in zip(names, grads, grads_t):
        assert g.dtype == dtype, n
        np.testing.assert_allclose(g.numpy(), gt.numpy(), err_msg=n, **tol)


@pytest.mark.parametrize("name,extra", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
                                        ("GRUCell", {})])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=6)
@given(N=st.integers(1, 3), input_size=st.integers(1, 4), hidden=st.integers(1, 4), bias=st.booleans(),
       batched=st.booleans(), give_state=st.booleans(), seed=seeds)
def test_cells_match_torch(device, name, extra, dtype, N, input_size, hidden, bias, batched, give_state, seed):
    torch = pytest.importorskip("torch")
    ours, theirs = twins(torch, name, dict(input_size=input_size, hidden_size=hidden, bias=bias, **extra), dtype,
                         seed)
    ours.to(device)
    rng = np.random.default_rng(seed)
    lead = (N,) if batched else ()
    x = rng.standard_normal(lead + (input_size,)).astype(dtype)
    states = [rng.standard_normal(lead + (hidden,)).astype(dtype) for _ in range(2 if name == "LSTMCell" else 1)]
    xm, xt = mg.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    sm = [mg.tensor(s, device=device, requires_grad=True) for s in states]
    st_ = [torch.tensor(s, requires_grad=True) for s in states]
    if not give_state:
        outs, outs_t = ours(xm), theirs(xt)
    elif name == "LSTMCell":
        outs, outs_t = ours(xm, tuple(sm)), theirs(xt, tuple(st_))
    else:
        outs, outs_t = ours(xm, sm[0]), theirs(xt, st_[0])
    outs = outs if isinstance(outs, tuple) else (outs,)
    outs_t = outs_t if isinstance(outs_t, tuple) else (outs_t,)
    tol = tolerance(dtype)
    gys = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in outs_t]
    for o, ot in zip(outs, outs_t):
        assert o.dtype == dtype
        np.testing.assert_allclose(o.numpy(), ot.detach().numpy(), **tol)
    loss = sum((o * mg.tensor(g, device=device)).sum() for o, g in zip(outs, gys))
    loss_t = sum((o * torch.tensor(g)).sum() for o, g in zip(outs_t, gys))
    inputs = [xm] + (sm if give_state else []) + list(ours.parameters())
    inputs_t = [xt] + (st_ if give_state else []) + list(theirs.parameters())
    for g, gt in zip(mg.grad(loss, inputs), torch.autograd.grad(loss_t, inputs_t)):
        assert g.dtype == dtype
        np.testing.assert_allclose(g.numpy(), gt.numpy(), **tol)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers(device, name):
    """p = 1 drops layer 0's output entirely (PyTorch does too, so the two still agree); 0 < p < 1 is drawn
    from minigan's seeded generator: reproducible, on in training mode only, and not after the last layer."""
    torch = pytest.importorskip("torch")
    kwargs = dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    ours, theirs = twins(torch, name, dict(kwargs, dropout=1.0), np.float64, 0)
    ours.to(device)
    x = np.random.default_rng(1).standard_normal((5, 2, 3))
    y, _ = ours(mg.tensor(x, device=device))
    yt, _ = theirs(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-11)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(mg.tensor(x, device=device))[0].numpy(),
                               theirs(torch.tensor(x))[0].detach().numpy(), rtol=1e-9, atol=1e-11)

    ours.dropout = 0.5
    ours.train()
    runs = []
    for _ in range(2):
        mg.manual_seed(7)
        runs.append(ours(mg.tensor(x, device=device))[0].numpy())
    np.testing.assert_array_equal(runs[0], runs[1])
    ours.eval()
    assert not np.allclose(runs[0], ours(mg.tensor(x, device=device))[0].numpy())
    # with one layer there is nothing between layers: training mode changes nothing
    with pytest.warns(UserWarning, match="dropout"):
        single = getattr(nn, name)(3, 4, dropout=0.5).double().to(device)
    xm = mg.tensor(x, device=device)
    np.testing.assert_array_equal(single(xm)[0].numpy(), single.eval()(xm)[0].numpy())


# -- gradient checks (float64) --------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
@settings(max_examples=2)
@given(L=st.integers(1, 2), bidirectional=st.booleans(), seed=seeds)
def test_layer_gradients(device, mode, L, bidirectional, seed):
    """Input, initial states and the recurrent weight W_hh, to first and second order, through the output
    and the final state."""
    rng = np.random.default_rng(seed)
    directions = 2 if bidirectional else 1
    weights = random_weights(rng, mode, 2, 2, 1, directions, True)
    x = rng.standard_normal((L, 1, 2))
    states = [rng.standard_normal((directions, 1, 2)) for _ in range(2 if mode == "LSTM" else 1)]
    fixed = [tuple(None if w is None else mg.tensor(w, device=device) for w in ws) for ws in weights]

    def fn(x, w_hh, *states):
        ws = [fixed[0][:1] + (w_hh,) + fixed[0][2:]] + fixed[1:]
        out, finals = recurrent(mode, x, states, ws, 1, bidirectional)
        return F.concat([F.reshape(out, (-1,)), F.reshape(finals[-1], (-1,))], axis=0)

    arrays = [x, weights[0][1]] + states
    check_grad(fn, arrays, device, seed=seed)
    check_double_grad(fn, arrays, device, seed=seed)


@pytest.mark.parametrize("squeeze", [False, True])
@settings(max_examples=6)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple), data=st.data(), seed=seeds)
def test_split(device, squeeze, shape, data, seed):
    """Values as NumPy's split, and gradients to second order with one piece left unused (its gradient is
    zeros that the autograd engine fills in)."""
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    count = data.draw(st.sampled_from([1, 2, 3]))
    size = count if squeeze else shape[axis] * count  # squeeze: pieces of size 1
    shape = shape[:axis % len(shape)] + (size,) + shape[axis % len(shape) + 1:]
    x = np.random.default_rng(seed).standard_normal(shape)
    pieces = split(mg.tensor(x, device=device), count, axis, squeeze)
    for got, want in zip(pieces, np.split(x, count, axis)):
        np.testing.assert_array_equal(got.numpy(), np.squeeze(want, axis) if squeeze else want)

    def fn(x):
        ps = split(x, count, axis, squeeze)
        return ps[0] * ps[-1] if count > 2 else ps[0] * ps[0]

    check_grad(fn, [x], device, seed=seed)
    check_double_grad(fn, [x], device, seed=seed)
    with pytest.raises(ValueError, match=r"split: axis 0 of shape \(5, 2\) does not divide into 2 pieces"):
        split(mg.zeros(5, 2, device=device), 2, 0)
    with pytest.raises(ValueError, match=r"split: squeeze needs pieces of size 1, but axis 1 of shape \(5, 4\) makes "
                                         r"2 pieces of 2"):
        split(mg.zeros(5, 4, device=device), 2, 1, squeeze=True)


@pytest.mark.parametrize("cell,mode", [(rnn_tanh_cell, "RNN_TANH"), (rnn_relu_cell, "RNN_RELU"),
                                       (lstm_cell, "LSTM"), (gru_cell, "GRU")])
def test_cell_gradients(device, cell, mode):
    rng = np.random.default_rng(5)
    (w_ih, w_hh, b_ih, b_hh, _), = random_weights(rng, mode, 2, 2, 1, 1, True)
    x, h, c = rng.standard_normal((2, 2)), rng.standard_normal((2, 2)), rng.standard_normal((2, 2))

    def fn(x, h, w_ih, w_hh, b_ih, b_hh, *c):
        out = cell(x, (h, c[0]) if c else h, w_ih, w_hh, b_ih, b_hh)
        return out[0] * out[1] if isinstance(out, tuple) else out

    arrays = [x, h, w_ih, w_hh, b_ih, b_hh] + ([c] if mode == "LSTM" else [])
    check_grad(fn, arrays, device)
    check_double_grad(fn, arrays, device)


def test_lstm_projection_gradients(device):
    rng = np.random.default_rng(2)
    (w_ih, w_hh, b_ih, b_hh, w_hr), = random_weights(rng, "LSTM", 2, 3, 1, 1, False, proj=1)
    x = rng.standard_normal((2, 1, 2))

    def fn(x, w_hr):
        out, (h, c) = recurrent("LSTM", x, (mg.zeros(1, 1, 1, dtype=np.float64, device=device),
                                           mg.zeros(1, 1, 3, dtype=np.float64, device=device)),
                                [(mg.tensor(w_ih, device=device), mg.tensor(w_hh, device=device), None, None, w_hr)],
                                1, False)
        return out.sum(axis=0) + c.sum(axis=0)

    check_grad(fn, [x, w_hr], device)
    check_double_grad(fn, [x, w_hr], device)


# -- dtypes, initialisation, reprs ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_float32_kept(device, name):
    layer = getattr(nn, name)(3, 4, num_layers=2, bidirectional=True).to(device)
    x = mg.tensor(np.ones((2, 5, 3), dtype=np.float32), device=device, requires_grad=True)
    y, final = layer(x)
    finals = final if name == "LSTM" else (final,)
    assert y.dtype == np.float32 and all(f.dtype == np.float32 for f in finals)
    (gx,) = mg.grad(y.sum(), [x])
    assert gx.dtype == np.float32
    cell = getattr(nn, name + "Cell")(3, 4).to(device)
    out = cell(mg.tensor(np.ones((2, 3), dtype=np.float32), device=device))
    assert all(o.dtype == np.float32 for o in (out if isinstance(out, tuple) else (out,)))


@pytest.mark.parametrize("name,gates", [("RNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_initialisation(device, name, gates):
    mg.manual_seed(0)
    layer = getattr(nn, name)(3, 16, num_layers=2, bidirectional=True, device=device)
    bound = 1 / np.sqrt(16)
    for key, p in layer.state_dict().items():
        assert p.dtype == np.float32
        assert np.all(np.abs(p) <= bound) and np.abs(p).max() > 0.8 * bound, key
    assert layer.weight_ih_l1_reverse.shape == (gates * 16, 32)
    cell = getattr(nn, name + "Cell")(3, 16, device=device)
    assert all(np.all(np.abs(p) <= bound) for p in cell.state_dict().values())
    assert len(layer.all_weights) == 4 and len(layer.all_weights[0]) == 4


def test_reprs_and_state_dicts_match_torch():
    torch = pytest.importorskip("torch")
    cases = [("LSTM", (3, 4), dict(num_layers=2, bidirectional=True)),
             ("LSTM", (3, 4), dict(proj_size=2, batch_first=True)),
             ("RNN", (3, 4), dict(nonlinearity="relu", bias=False, dropout=0.5, num_layers=2)),
             ("GRU", (5, 2), dict(num_layers=3, dropout=0.25, bidirectional=True, batch_first=True)),
             ("GRU", (1, 1), {}),
             ("RNNCell", (3, 4), dict(nonlinearity="relu", bias=False)), ("RNNCell", (3, 4), {}),
             ("LSTMCell", (3, 4), {}), ("GRUCell", (2, 5), dict(bias=False))]
    ours = [getattr(nn, n)(*a, **k) for n, a, k in cases]
    theirs = [getattr(torch.nn, n)(*a, **k) for n, a, k in cases]
    assert_reprs_and_state_dicts_match(ours, theirs)
    assert repr(nn.LSTM(3, 4, num_layers=2, bidirectional=True)) == "LSTM(3, 4, num_layers=2, bidirectional=True)"


# -- errors ---------------------------------------------------------------------------------------------------

def test_errors(device):
    lstm = nn.LSTM(3, 4, num_layers=2).to(device)
    with pytest.raises(ValueError, match=r"LSTM: input has 5 features \(shape \(2, 1, 5\)\), expected input_size=3"):
        lstm(mg.zeros(2, 1, 5, device=device))
    with pytest.raises(ValueError, match=r"LSTM: input must be 3-D \(L, N, H_in\) .* got shape \(3,\)"):
        lstm(mg.zeros(3, device=device))
    h, c = mg.zeros(2, 1, 4, device=device), mg.zeros(2, 1, 4, device=device)
    with pytest.raises(ValueError, match=r"LSTM: h_0 must have shape \(2, 2, 4\) .* input of shape \(5, 2, 3\), "
                                         r"got \(2, 1, 4\)"):
        lstm(mg.zeros(5, 2, 3, device=device), (h, c))
    with pytest.raises(ValueError, match=r"LSTM: c_0 must have shape \(2, 4\) for unbatched 2-D input"):
        lstm(mg.zeros(5, 3, device=device), (mg.zeros(2, 4, device=device), c))
    with pytest.raises(TypeError, match="LSTM: hx must be a pair"):
        lstm(mg.zeros(5, 1, 3, device=device), h)
    gru = nn.GRU(3, 4, batch_first=True).to(device)
    with pytest.raises(ValueError, match=r"GRU: hx must have shape \(1, 2, 4\) .* got \(1, 5, 4\)"):
        gru(mg.zeros(2, 5, 3, device=device), mg.zeros(1, 5, 4, device=device))
    with pytest.raises(TypeError, match="GRU: input dtype float64 differs from the weights' dtype float32"):
        gru(mg.zeros(2, 5, 3, dtype=np.float64, device=device))
    with pytest.raises(ValueError, match="RNN: the sequence length must be positive"):
        nn.RNN(3, 4).to(device)(mg.zeros(0, 2, 3, device=device))
    cell = nn.GRUCell(3, 4).to(device)
    with pytest.raises(ValueError, match=r"GRUCell: input has 2 features \(shape \(5, 2\)\), expected input_size=3"):
        cell(mg.zeros(5, 2, device=device))
    with pytest.raises(ValueError, match=r"GRUCell: input must be 1-D \(H_in,\) or 2-D \(N, H_in\), got shape"):
        cell(mg.zeros(1, 5, 3, device=device))
    with pytest.raises(ValueError, match=r"GRUCell: hx must have shape \(5, 4\) for input of shape \(5, 3\), "
                                         r"got \(4,\)"):
        cell(mg.zeros(5, 3, device=device), mg.zeros(4, device=device))
    with pytest.raises(ValueError, match=r"LSTMCell: c must have shape \(4,\)"):
        nn.LSTMCell(3, 4).to(device)(mg.zeros(3, device=device),
                                     (mg.zeros(4, device=device), mg.zeros(1, 4, device=device)))
    with pytest.raises(ValueError, match=r"rnn_tanh_cell: input has 2 features"):
        rnn_tanh_cell(mg.zeros(5, 2, device=device), None, mg.zeros(4, 3, device=device), mg.zeros(4, 4, device=device))


def test_constructor_errors():
    with pytest.raises(ValueError, match="LSTM: proj_size \\(4\\) must be smaller than hidden_size \\(4\\)"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="LSTM: proj_size must be a non-negative integer, got -1"):
        nn.LSTM(3, 4, proj_size=-1)
    with pytest.raises(ValueError, match=r"GRU: dropout must be a number in \[0, 1\], got 1.5"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="RNN: hidden_size must be a positive integer, got 0"):
        nn.RNN(3, 0)
    with pytest.raises(ValueError, match="RNN: num_layers must be a positive integer, got 0"):
        nn.RNN(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="RNN: nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="RNNCell: nonlinearity must be 'tanh' or 'relu'"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
    with pytest.raises(TypeError):
        nn.GRU(3, 4, proj_size=2)  # as PyTorch's GRU and RNN, which have no projection
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(3, 4, num_layers=2, dropout=0.5)
