"""Recurrent cells and the multi-layer recurrent sweep behind ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``, with
PyTorch's gate order and equations (see the ``torch.nn.RNN``/``LSTM``/``GRU`` documentation).

Every cell is a composition of existing differentiable ops (linear, sigmoid, tanh, relu, getitem, stack,
concat, element-wise arithmetic) and ``split`` (whose backward is a stack or a concat), so gradients of
any order come from theirs.

Weights follow PyTorch's layout: w_ih (G*H, H_in), w_hh (G*H, H_out), b_ih and b_hh (G*H,), with G = 1
(RNN), 4 (LSTM: gates i, f, g, o in that order) or 3 (GRU: r, z, n); H_out is H, or proj_size for an LSTM
with a projection w_hr (proj_size, H).
"""
from minigan import backend
from minigan.function import Function
from minigan.functional.activation import relu, sigmoid, tanh
from minigan.functional.dropout import dropout
from minigan.functional.linear import linear
from minigan.functional.shape import checked_axis, concat, getitem, stack

GATES = {"RNN": 1, "RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}  # gates per mode (PyTorch's mode names)


class Split(Function):
    """x cut into ``count`` equal pieces along ``axis``, which each piece keeps or (``squeeze``) drops:
    ``split(x, 4, -1)`` gives an LSTM's four gates, ``split(x, L, 0, squeeze=True)`` a sequence's L
    steps. One node for all the pieces: taking them with L getitems would give L gradients each of x's
    full size (mostly zeros) to add up, O(L^2) work in backward instead of one O(L) stack here."""

    def __init__(self, count, axis, squeeze):
        self.count, self.axis, self.squeeze = count, axis, squeeze

    def forward(self, x):
        xp = backend.get_array_module(x)
        pieces = xp.split(x, self.count, axis=self.axis)
        return tuple(xp.squeeze(p, axis=self.axis) if self.squeeze else p for p in pieces)

    def backward(self, *gys):
        # pieces nobody used arrive as zeros of their shape (the autograd engine fills them in)
        return stack(gys, axis=self.axis) if self.squeeze else concat(gys, axis=self.axis)


def split(x, count, axis, squeeze=False):
    """``count`` equal pieces of x along ``axis`` (a tuple of tensors; ``Split`` says more); ``squeeze``
    (pieces of size 1 only, count = x.shape[axis]) drops the axis from each, as ``torch.unbind``."""
    axis = checked_axis("split", axis, x.ndim)
    if x.shape[axis] % count:
        raise ValueError(f"split: axis {axis} of shape {tuple(x.shape)} does not divide into {count} pieces")
    if squeeze and count != x.shape[axis]:
        raise ValueError(f"split: squeeze needs pieces of size 1, but axis {axis} of shape {tuple(x.shape)} makes "
                         f"{count} pieces of {x.shape[axis] // count}")
    return Split(count, axis, squeeze).apply(x)


def rnn_step(gi, h, w_hh, b_hh, nonlinearity="tanh"):
    """h' = act(gi + h W_hh^T + b_hh), gi = x W_ih^T + b_ih already computed; act is tanh or relu."""
    pre = gi + linear(h, w_hh, b_hh)
    return tanh(pre) if nonlinearity == "tanh" else relu(pre)


def lstm_step(gi, h, c, w_hh, b_hh, w_hr=None):
    """One LSTM step from the input projection gi = x W_ih^T + b_ih:

        i, f, g, o = split(gi + h W_hh^T + b_hh)   (in that order, as PyTorch)
        c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h' = sigmoid(o) * tanh(c')                  (then h' W_hr^T when there is a projection)
    """
    i, f, g, o = split(gi + linear(h, w_hh, b_hh), 4, -1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h = sigmoid(o) * tanh(c)
    return (h if w_hr is None else linear(h, w_hr)), c


def gru_step(gi, h, w_hh, b_hh):
    """One GRU step from the input projection gi = x W_ih^T + b_ih, as PyTorch (whose reset gate multiplies
    the hidden part of the candidate including its bias, unlike Cho et al. 2014's r * h inside):

        r = sigmoid(gi_r + gh_r),  z = sigmoid(gi_z + gh_z),  gh = h W_hh^T + b_hh
        n = tanh(gi_n + r * gh_n)
        h' = (1 - z) * n + z * h
    """
    gi_r, gi_z, gi_n = split(gi, 3, -1)
    gh_r, gh_z, gh_n = split(linear(h, w_hh, b_hh), 3, -1)
    r, z = sigmoid(gi_r + gh_r), sigmoid(gi_z + gh_z)
    n = tanh(gi_n + r * gh_n)
    return n + z * (h - n)  # = (1 - z) * n + z * h, one multiply fewer


def check_cell(op, input, hx, w_ih, w_hh, gates, hidden_size):
    """input (N, H_in) or (H_in,) of the weights' dtype, and each (name, state) of ``hx`` None or (N, H) or
    (H,) as input is batched or not, against the weights; errors name ``op``."""
    if input.ndim not in (1, 2):
        raise ValueError(f"{op}: input must be 1-D (H_in,) or 2-D (N, H_in), got shape {tuple(input.shape)}")
    if input.dtype != w_ih.dtype:
        raise TypeError(f"{op}: input dtype {input.dtype} differs from the weights' dtype {w_ih.dtype}")
    if input.shape[-1] != w_ih.shape[1]:
        raise ValueError(f"{op}: input has {input.shape[-1]} features (shape {tuple(input.shape)}), "
                         f"expected input_size={w_ih.shape[1]}")
    expected = tuple(input.shape[:-1]) + (hidden_size,)
    for name, t in hx:
        if t is not None and tuple(t.shape) != expected:
            raise ValueError(f"{op}: {name} must have shape {expected} for input of shape {tuple(input.shape)}, "
                             f"got {tuple(t.shape)}")
    if w_ih.shape[0] != gates * hidden_size or tuple(w_hh.shape) != (gates * hidden_size, hidden_size):
        raise ValueError(f"{op}: weights of shapes {tuple(w_ih.shape)} and {tuple(w_hh.shape)} do not fit "
                         f"{gates} gate(s) of hidden size {hidden_size}")


def _zeros_state(input, hidden_size):
    from minigan.factories import zeros
    return zeros(tuple(input.shape[:-1]) + (hidden_size,), dtype=input.dtype, device=input.device)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), as ``torch.rnn_tanh_cell``: input (N, H_in) or (H_in,),
    hx (N, H) or (H,) or None (zeros), w_ih (H, H_in), w_hh (H, H), biases (H,) or None -> h' like hx."""
    return _rnn_cell("rnn_tanh_cell", input, hx, w_ih, w_hh, b_ih, b_hh, "tanh")


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """``rnn_tanh_cell`` with relu in place of tanh, as ``torch.rnn_relu_cell``."""
    return _rnn_cell("rnn_relu_cell", input, hx, w_ih, w_hh, b_ih, b_hh, "relu")


def _rnn_cell(op, input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity):
    hidden = w_hh.shape[-1]
    check_cell(op, input, [("hx", hx)], w_ih, w_hh, 1, hidden)
    hx = _zeros_state(input, hidden) if hx is None else hx
    return rnn_step(linear(input, w_ih, b_ih), hx, w_hh, b_hh, nonlinearity)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (``lstm_step`` gives the equations), as ``torch.lstm_cell``: input (N, H_in) or (H_in,),
    hx a pair (h, c) each (N, H) or (H,), or None (zeros); w_ih (4H, H_in), w_hh (4H, H), biases (4H,)
    or None -> (h', c')."""
    hidden = w_hh.shape[-1]
    h, c = (None, None) if hx is None else hx
    check_cell("lstm_cell", input, [("h", h), ("c", c)], w_ih, w_hh, 4, hidden)
    h = _zeros_state(input, hidden) if h is None else h
    c = _zeros_state(input, hidden) if c is None else c
    return lstm_step(linear(input, w_ih, b_ih), h, c, w_hh, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (``gru_step`` gives the equations), as ``torch.gru_cell``: input (N, H_in) or (H_in,),
    hx (N, H) or (H,) or None (zeros), w_ih (3H, H_in), w_hh (3H, H), biases (3H,) or None -> h'."""
    hidden = w_hh.shape[-1]
    check_cell("gru_cell", input, [("hx", hx)], w_ih, w_hh, 3, hidden)
    hx = _zeros_state(input, hidden) if hx is None else hx
    return gru_step(linear(input, w_ih, b_ih), hx, w_hh, b_hh)


def _sweep(mode, x, state, weights, reverse):
    """One layer in one direction over x (L, N, H_in) from ``state`` (h, or (h, c) for LSTM):
    (outputs (L, N, H_out), final state)."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    # The input projections of all L steps do not depend on the recurrence, so they are one (L*N, H_in)
    # matrix product here instead of L small ones inside the loop: the loop is left with only the
    # h W_hh^T products that truly are sequential.
    steps = split(linear(x, w_ih, b_ih), x.shape[0], 0, squeeze=True)
    outputs = [None] * x.shape[0]
    for t in (reversed(range(x.shape[0])) if reverse else range(x.shape[0])):
        gi = steps[t]
        if mode == "LSTM":
            state = lstm_step(gi, state[0], state[1], w_hh, b_hh, w_hr)
            outputs[t] = state[0]
        else:
            state = (gru_step(gi, state, w_hh, b_hh) if mode == "GRU"
                     else rnn_step(gi, state, w_hh, b_hh, "tanh" if mode == "RNN_TANH" else "relu"))
            outputs[t] = state
    return stack(outputs, axis=0), state


def recurrent(mode, x, hx, weights, num_layers, bidirectional, dropout_p=0.0, training=False):
    """A stack of ``num_layers`` recurrent layers over a sequence, as ``torch.nn.RNN``/``LSTM``/``GRU``.

    mode: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU". x: (L, N, H_in), time first. hx: (h0,), or (h0, c0)
    for LSTM, each (D*num_layers, N, H_out) with D = 2 if bidirectional else 1, in the order layer 0
    forward, layer 0 backward, layer 1 forward, ... weights: one tuple (w_ih, w_hh, b_ih, b_hh, w_hr) per
    layer and direction in that order (biases and w_hr may be None). Layer k > 0 reads layer k-1's
    output, the D directions' outputs joined along the feature axis, with dropout of ``dropout_p`` applied
    in training mode (not after the last layer).

    Returns (output (L, N, D*H_out), final states shaped as hx): h_n, or (h_n, c_n) for LSTM.
    """
    directions = 2 if bidirectional else 1
    finals = [[] for _ in hx]
    for layer in range(num_layers):
        if layer > 0 and dropout_p > 0 and training:
            x = dropout(x, dropout_p, training=True)
        outs = []
        for d in range(directions):
            k = layer * directions + d
            start = tuple(getitem(s, k) for s in hx)
            out, final = _sweep(mode, x, start if mode == "LSTM" else start[0], weights[k], reverse=d == 1)
            outs.append(out)
            for f, s in zip(finals, final if mode == "LSTM" else (final,)):
                f.append(s)
        x = outs[0] if directions == 1 else concat(outs, axis=2)
    return x, tuple(stack(f, axis=0) for f in finals)

