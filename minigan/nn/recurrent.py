"""Recurrent layers as ``torch.nn``'s: the cells RNNCell, LSTMCell, GRUCell (one time step) and the sequence
layers RNN, LSTM, GRU (stacked, optionally bidirectional), with PyTorch's gate order and equations
(``minigan.functional.recurrent`` gives them), parameter names and shapes, initialisation
U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) for every parameter, input and state layouts and reprs, so a
PyTorch state dict loads as it is.

PackedSequence (variable-length batches) is not supported: every sequence of a batch has the same length.
"""
import math
import warnings

from minigan.functional.arguments import is_int, is_number
from minigan.functional.recurrent import GATES, check_cell, gru_cell, lstm_cell, recurrent, rnn_relu_cell, rnn_tanh_cell
from minigan.functional.shape import as_tensor, reshape, transpose
from minigan.nn import init
from minigan.nn.module import Module, new_parameter

_NONLINEARITIES = ("tanh", "relu")


def _positive(layer, name, value):
    if not is_int(value) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _reset_uniform(module):
    """Every parameter U(-1/sqrt(H), 1/sqrt(H)), H = hidden_size, as PyTorch's recurrent layers."""
    bound = 1 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


class _CellBase(Module):
    """What the cells share: weight_ih (G*H, H_in), weight_hh (G*H, H), bias_ih and bias_hh (G*H,), with
    G the number of gates (1, 4 or 3)."""

    gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        layer = type(self).__name__
        self.input_size = _positive(layer, "input_size", input_size)
        self.hidden_size = _positive(layer, "hidden_size", hidden_size)
        self.bias = bool(bias)
        rows = self.gates * self.hidden_size
        self.weight_ih = new_parameter((rows, self.input_size), device, dtype)
        self.weight_hh = new_parameter((rows, self.hidden_size), device, dtype)
        self.register_parameter("bias_ih", new_parameter((rows,), device, dtype) if bias else None)
        self.register_parameter("bias_hh", new_parameter((rows,), device, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_uniform(self)

    def _check(self, input, states):
        input = as_tensor(input)
        if input.dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: input must be floating point, got dtype {input.dtype}")
        check_cell(type(self).__name__, input, states, self.weight_ih, self.weight_hh, self.gates, self.hidden_size)
        return input

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu (``nonlinearity``).

    forward(input, hx=None): input (N, H_in) or unbatched (H_in,); hx (N, H) or (H,), zeros when None ->
    h' (N, H) or (H,).
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        input = self._check(input, [("hx", hx)])
        cell = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        return cell(input, hx, *self._weights())

    def extra_repr(self):
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity}"


class LSTMCell(_CellBase):
    """One LSTM step (gates i, f, g, o; ``minigan.functional.recurrent.lstm_step`` gives the equations).

    forward(input, hx=None): input (N, H_in) or unbatched (H_in,); hx a pair (h, c), each (N, H) or (H,),
    zeros when None -> (h', c').
    """

    gates = 4

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx must be a pair (h, c) or None, got {type(hx).__name__}")
        input = self._check(input, [("h", None), ("c", None)] if hx is None else [("h", hx[0]), ("c", hx[1])])
        return lstm_cell(input, hx, *self._weights())


class GRUCell(_CellBase):
    """One GRU step (gates r, z, n, PyTorch's variant; ``minigan.functional.recurrent.gru_step`` gives the
    equations).

    forward(input, hx=None): input (N, H_in) or unbatched (H_in,); hx (N, H) or (H,), zeros when None ->
    h' (N, H) or (H,).
    """

    gates = 3

    def forward(self, input, hx=None):
        input = self._check(input, [("hx", hx)])
        return gru_cell(input, hx, *self._weights())


class _RNNBase(Module):
    """What RNN, LSTM and GRU share. Parameters, per layer k and direction (suffix "_reverse" for the
    backward one), in PyTorch's order: weight_ih_l{k} (G*H, H_in for k = 0, else D*H_out),
    weight_hh_l{k} (G*H, H_out), bias_ih_l{k} and bias_hh_l{k} (G*H,) if bias, weight_hr_l{k}
    (proj_size, H) for an LSTM with proj_size > 0; H_out = proj_size or H, D = 2 if bidirectional.

    forward(input, hx=None): input (L, N, H_in), (N, L, H_in) if batch_first, or unbatched (L, H_in);
    initial state(s) (D*num_layers, N, H_out), or (D*num_layers, H_out) for unbatched input, zeros when
    None. Output (L, N, D*H_out) (batch first if batch_first; (L, D*H_out) unbatched) and the final
    state(s) shaped as the initial ones (never batch first). PackedSequence input is not supported.
    """

    mode = None

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        layer = type(self).__name__
        self.input_size = _positive(layer, "input_size", input_size)
        self.hidden_size = _positive(layer, "hidden_size", hidden_size)
        self.num_layers = _positive(layer, "num_layers", num_layers)
        if not is_number(dropout) or not 0 <= dropout <= 1:
            raise ValueError(f"{layer}: dropout must be a number in [0, 1], got {dropout!r}")
        if not is_int(proj_size) or proj_size < 0:
            raise ValueError(f"{layer}: proj_size must be a non-negative integer, got {proj_size!r}")
        if proj_size >= self.hidden_size:
            raise ValueError(f"{layer}: proj_size ({proj_size}) must be smaller than hidden_size "
                             f"({self.hidden_size})")
        if dropout > 0 and self.num_layers == 1:
            # as PyTorch: dropout acts only between layers, so it does nothing here
            warnings.warn(f"{layer}: dropout={dropout} has no effect with num_layers=1 (dropout is applied "
                          f"after every layer but the last)")
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        self.dropout, self.proj_size = float(dropout), int(proj_size)
        rows, out_size = GATES[self.mode] * self.hidden_size, self.proj_size or self.hidden_size
        directions = 2 if self.bidirectional else 1
        self._flat_weights_names = []
        for k in range(self.num_layers):
            in_size = self.input_size if k == 0 else directions * out_size
            for suffix in ("", "_reverse")[:directions]:
                shapes = {"weight_ih": (rows, in_size), "weight_hh": (rows, out_size)}
                if self.bias:
                    shapes.update(bias_ih=(rows,), bias_hh=(rows,))
                if self.proj_size:
                    shapes["weight_hr"] = (self.proj_size, self.hidden_size)
                for name, shape in shapes.items():
                    setattr(self, f"{name}_l{k}{suffix}", new_parameter(shape, device, dtype))
                    self._flat_weights_names.append(f"{name}_l{k}{suffix}")
        self.reset_parameters()

    def reset_parameters(self):
        _reset_uniform(self)

    @property
    def all_weights(self):
        """The parameters, one list per layer and direction, as PyTorch's ``all_weights``."""
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def _weights(self):
        """One (w_ih, w_hh, b_ih, b_hh, w_hr) per layer and direction, missing ones None."""
        return [tuple(getattr(self, f"{name}_l{k}{suffix}", None)
                      for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))
                for k in range(self.num_layers) for suffix in ("", "_reverse")[:2 if self.bidirectional else 1]]

    def _state_names(self):
        return ("hx",)

    def _state_sizes(self):
        return (self.proj_size or self.hidden_size,)

    def forward(self, input, hx=None):
        layer = type(self).__name__
        x = as_tensor(input)
        layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
        if x.ndim not in (2, 3):
            raise ValueError(f"{layer}: input must be 3-D {layout} or 2-D unbatched (L, H_in), "
                             f"got shape {tuple(x.shape)}")
        if x.dtype.kind != "f":
            raise TypeError(f"{layer}: input must be floating point, got dtype {x.dtype}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{layer}: input has {x.shape[-1]} features (shape {tuple(x.shape)}), "
                             f"expected input_size={self.input_size}")
        if x.dtype != self.weight_ih_l0.dtype:
            raise TypeError(f"{layer}: input dtype {x.dtype} differs from the weights' dtype "
                            f"{self.weight_ih_l0.dtype}")
        batched = x.ndim == 3
        if not batched:
            x = reshape(x, (x.shape[0], 1, x.shape[1]))
        elif self.batch_first:
            x = transpose(x, (1, 0, 2))
        if x.shape[0] == 0:
            raise ValueError(f"{layer}: the sequence length must be positive, got input of shape {tuple(input.shape)}")
        states = self._initial_states(layer, hx, x, batched)
        mode = self.mode if self.mode != "RNN" else "RNN_" + self.nonlinearity.upper()
        out, finals = recurrent(mode, x, states, self._weights(), self.num_layers, self.bidirectional,
                                self.dropout, self.training)
        if not batched:
            out = reshape(out, (out.shape[0], out.shape[2]))
            finals = tuple(reshape(f, (f.shape[0], f.shape[2])) for f in finals)
        elif self.batch_first:
            out = transpose(out, (1, 0, 2))
        return out, (finals if self.mode == "LSTM" else finals[0])

    def _initial_states(self, layer, hx, x, batched):
        """The initial states as (D*num_layers, N, size) tensors: the given ones, checked, or zeros."""
        from minigan.factories import zeros
        names, sizes = self._state_names(), self._state_sizes()
        count = self.num_layers * (2 if self.bidirectional else 1)
        if hx is None:
            return tuple(zeros((count, x.shape[1], s), dtype=x.dtype, device=x.device) for s in sizes)
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{layer}: hx must be a pair (h_0, c_0) or None, got {type(hx).__name__}")
        else:
            hx = (hx,)
        states = []
        for name, size, s in zip(names, sizes, hx):
            s = as_tensor(s)
            expected = (count, x.shape[1], size) if batched else (count, size)
            if tuple(s.shape) != expected:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise ValueError(f"{layer}: {name} must have shape {expected} for {kind} input of shape "
                                 f"{tuple(x.shape) if batched else (x.shape[0], x.shape[2])}, got {tuple(s.shape)}")
            if s.dtype != x.dtype:
                raise TypeError(f"{layer}: {name} dtype {s.dtype} differs from the input dtype {x.dtype}")
            states.append(s if batched else reshape(s, (count, 1, size)))
        return tuple(states)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(_RNNBase):
    """Elman RNN, h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu (``nonlinearity``);
    layouts and arguments as ``_RNNBase`` says (no proj_size: PyTorch's RNN has none). As in PyTorch, the
    repr does not show the nonlinearity."""

    mode = "RNN"

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)


class LSTM(_RNNBase):
    """LSTM (gates i, f, g, o, as PyTorch), optionally with a projection of size ``proj_size`` of each
    hidden state (Sak et al. 2014, "LSTM-based deep RNN architectures ... with projection layers"):
    h_t = (o_t * tanh(c_t)) W_hr^T. hx is a pair (h_0, c_0) or None; h_0 has proj_size features (when
    > 0) and c_0 hidden_size; the result is (output, (h_n, c_n)). Other layouts as ``_RNNBase`` says."""

    mode = "LSTM"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)

    def _state_names(self):
        return ("h_0", "c_0")

    def _state_sizes(self):
        return (self.proj_size or self.hidden_size, self.hidden_size)


class GRU(_RNNBase):
    """GRU (gates r, z, n, PyTorch's variant with the reset gate on h W_hn^T + b_hn); layouts and
    arguments as ``_RNNBase`` says (no proj_size: PyTorch's GRU has none)."""

    mode = "GRU"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)
