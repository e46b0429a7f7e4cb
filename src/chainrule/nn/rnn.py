"""Recurrent layers, as ``torch.nn``: RNN, LSTM, GRU and their one-step cells RNNCell, LSTMCell, GRUCell.

Parameter names, shapes, gate orders, defaults and initialisation are PyTorch's, so state dicts move
both ways. Each is a composite: the input projection of a whole sequence is one product, then each
time step adds the hidden projection and applies the gates, all with chainrule's primitives.
"""

import math
import numbers
import warnings

from .. import functional as F
from ..backend import array_module
from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from ..registry import register
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


# ---- one time step: ``gi`` is the input's projection W_ih x + b_ih, ``state`` the tuple (h,) or (h, c) --------------


def _tanh_step(gi, state, w_hh, b_hh, w_hr=None):
    return (F.tanh(gi + F.linear(state[0], w_hh, b_hh)),)


def _relu_step(gi, state, w_hh, b_hh, w_hr=None):
    return (F.relu(gi + F.linear(state[0], w_hh, b_hh)),)


def _lstm_step(gi, state, w_hh, b_hh, w_hr=None):
    """Gates i, f, g, o (PyTorch's order): c' = f c + i g, h' = o tanh(c'), projected by W_hr if given."""
    h, c = state
    i, f, g, o = F.split(gi + F.linear(h, w_hh, b_hh), c.shape[-1], axis=-1)
    c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
    h = F.sigmoid(o) * F.tanh(c)
    return (h if w_hr is None else F.linear(h, w_hr), c)


def _gru_step(gi, state, w_hh, b_hh, w_hr=None):
    """Gates r, z, n (PyTorch's order): n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h."""
    (h,) = state
    size = h.shape[-1]
    i_r, i_z, i_n = F.split(gi, size, axis=-1)
    h_r, h_z, h_n = F.split(F.linear(h, w_hh, b_hh), size, axis=-1)
    r = F.sigmoid(i_r + h_r)
    z = F.sigmoid(i_z + h_z)
    n = F.tanh(i_n + r * h_n)
    return ((1 - z) * n + z * h,)


_STEPS = {"RNN_TANH": _tanh_step, "RNN_RELU": _relu_step, "LSTM": _lstm_step, "GRU": _gru_step}


def _size(value, name, layer, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{layer}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ArgumentError(f"{layer}: {name} must be at least {minimum}, got {value}")
    return int(value)


def _flag(value, name, layer):
    if not isinstance(value, bool):
        raise ArgumentTypeError(f"{layer}: {name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def _shape(x):
    return tuple(x.shape) if isinstance(x, Tensor) else tuple(getattr(x, "shape", ()))


class RNNBase(Module):
    """What RNN, LSTM and GRU share: ``num_layers`` stacked layers, each one or two directions.

    The parameters of layer k are ``weight_ih_l{k}`` (gates * hidden_size, input size of the layer),
    ``weight_hh_l{k}`` (gates * hidden_size, hidden_size), ``bias_ih_l{k}`` and ``bias_hh_l{k}``
    (gates * hidden_size), with the suffix ``_reverse`` for the backward direction; all are initialised
    uniform in +-1/sqrt(hidden_size), as PyTorch. Layer k > 0 reads the previous layer's output
    (num_directions * hidden_size features), after dropout with probability ``dropout`` while training.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0):
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ArgumentError(f"{name}: unknown mode {mode!r}; valid modes: {', '.join(_GATES)}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ArgumentError(f"{name}: dropout must be a probability between 0 and 1, got {dropout!r}")
        self.mode = mode
        self.input_size = _size(input_size, "input_size", name)
        self.hidden_size = _size(hidden_size, "hidden_size", name)
        self.num_layers = _size(num_layers, "num_layers", name)
        self.bias = _flag(bias, "bias", name)
        self.batch_first = _flag(batch_first, "batch_first", name)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = _size(proj_size, "proj_size", name, minimum=0)
        if self.proj_size >= self.hidden_size:
            raise ArgumentError(f"{name}: proj_size ({proj_size}) must be smaller than hidden_size ({hidden_size})")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout acts between recurrent layers, so dropout={dropout} does nothing with "
                "num_layers=1", UserWarning, stacklevel=3)
        gates = _GATES[mode] * self.hidden_size
        out = self.proj_size or self.hidden_size
        directions = 2 if self.bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else out * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gates, width)), ("weight_hh", (gates, out))]
                if self.bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if self.proj_size:
                    shapes += [("weight_hr", (self.proj_size, self.hidden_size))]
                names = []
                for stem, shape in shapes:
                    # every weight is applied as x @ W.T: stored as nn.Linear's (see backend.parameter_array)
                    setattr(self, stem + suffix, Parameter.empty(shape, matmul_weight=len(shape) == 2))
                    names.append(stem + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        """Every parameter uniform in +-1/sqrt(hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator=generator)

    def flatten_parameters(self):
        """Nothing to do: PyTorch packs the weights for cuDNN here; chainrule's are used as they are."""

    @property
    def all_weights(self):
        """The parameters per layer and direction: [[weight_ih, weight_hh, (bias_ih, bias_hh, weight_hr)], ...]."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def _layer_weights(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        get = self._parameters.get
        return (get("weight_ih" + suffix), get("weight_hh" + suffix), get("bias_ih" + suffix),
                get("bias_hh" + suffix), get("weight_hr" + suffix))

    # ---- forward --------------------------------------------------------------------------------------------

    def _initial_state(self, hx, batched, batch, dtype, xp):
        """The initial state of each layer and direction: a list of tuples (h,) or (h, c), each (N, size)."""
        name = type(self).__name__
        count = self.num_layers * (2 if self.bidirectional else 1)
        sizes = [("h_0", self.proj_size or self.hidden_size)]
        if self.mode == "LSTM":
            sizes.append(("c_0", self.hidden_size))
            if hx is not None and not (isinstance(hx, tuple | list) and len(hx) == 2):
                raise ArgumentTypeError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
        elif hx is not None:
            hx = (hx,)
        if hx is None:
            return [tuple(Tensor._wrap(xp.zeros((batch, size), dtype=dtype)) for _, size in sizes)] * count
        states = []
        for (what, size), h in zip(sizes, hx):
            h = _t(h)
            if h.ndim != (3 if batched else 2):
                raise ShapeError(
                    f"{name}: for {'batched 3-D' if batched else 'unbatched 2-D'} input, {what} must be "
                    f"{3 if batched else 2}-D, got shape {h.shape}"
                )
            expected = (count, batch, size) if batched else (count, size)
            if h.shape != expected:
                raise ShapeError(f"{name}: expected {what} of shape {expected}, got shape {h.shape}")
            states.append(h if batched else F.unsqueeze(h, 1))
        return [tuple(s[k] for s in states) for k in range(count)]

    def forward(self, input, hx=None):
        """Run the layers over a sequence: ``input`` (L, N, input_size), or (N, L, input_size) with
        ``batch_first``, or unbatched (L, input_size); ``hx`` the initial state (num_layers * num_directions,
        N, hidden size), a pair (h_0, c_0) for LSTM, zeros if None. Returns (output, h_n), or
        (output, (h_n, c_n)) for LSTM: output (L, N, num_directions * hidden size) holds the last layer's
        state at every step (both directions concatenated), h_n each layer's and direction's final state."""
        name = type(self).__name__
        x = _t(input)
        if x.ndim not in (2, 3):
            raise ShapeError(f"{name}: expected 2-D (unbatched) or 3-D (batched) input, got input of shape {x.shape}")
        if x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{name}: expected input of {self.input_size} features (the last axis, input_size), got input of "
                f"shape {x.shape}"
            )
        batched = x.ndim == 3
        if not batched:
            x = F.unsqueeze(x, 1)
        elif self.batch_first:
            x = F.swapaxes(x, 0, 1)
        length, batch = x.shape[0], x.shape[1]
        if length == 0:
            raise ShapeError(f"{name}: the input sequence is empty (input of shape {_shape(input)})")
        states = self._initial_state(hx, batched, batch, x._data.dtype, array_module(x._data))
        step = _STEPS[self.mode]
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(layer, direction)
                gi = F.linear(x, w_ih, b_ih)  # the input's share of every step's gates, in one product
                state = states[layer * directions + direction]
                seq = [None] * length
                for t in range(length - 1, -1, -1) if direction else range(length):
                    state = step(gi[t], state, w_hh, b_hh, w_hr)
                    seq[t] = state[0]
                outputs.append(F.stack(seq, axis=0))
                finals.append(state)
            x = outputs[0] if directions == 1 else F.concatenate(outputs, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        hidden = tuple(F.stack([s[k] for s in finals], axis=0) for k in range(len(finals[0])))
        if not batched:
            x = F.squeeze(x, 1)
            hidden = tuple(F.squeeze(h, 1) for h in hidden)
        elif self.batch_first:
            x = F.swapaxes(x, 0, 1)
        return x, (hidden if self.mode == "LSTM" else hidden[0])


@register("rnn")
class RNN(RNNBase):
    """An Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (``nonlinearity='relu'``: relu).

    Arguments, parameters and forward as ``torch.nn.RNN``; see ``RNNBase``.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False):
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNN: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional)
        self.nonlinearity = nonlinearity


@register("lstm")
class LSTM(RNNBase):
    """Long short-term memory, as ``torch.nn.LSTM``: gates i, f, g, o in that order in the weights,
    c_t = f c_(t-1) + i g, h_t = o tanh(c_t). ``proj_size > 0`` projects h_t to proj_size features with
    ``weight_hr_l{k}`` (proj_size, hidden_size). Forward returns (output, (h_n, c_n)); see ``RNNBase``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size)


@register("gru")
class GRU(RNNBase):
    """Gated recurrent unit, as ``torch.nn.GRU``: gates r, z, n in that order in the weights,
    n_t = tanh(W_in x_t + b_in + r_t (W_hn h_(t-1) + b_hn)), h_t = (1 - z_t) n_t + z_t h_(t-1). See ``RNNBase``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)


# ---- cells ----------------------------------------------------------------------------------------------------------


class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` (chunks * hidden_size, input_size), ``weight_hh``
    (chunks * hidden_size, hidden_size), ``bias_ih`` and ``bias_hh`` (chunks * hidden_size), all uniform in
    +-1/sqrt(hidden_size), as PyTorch."""

    _mode = None

    def __init__(self, input_size, hidden_size, bias, num_chunks):
        super().__init__()
        name = type(self).__name__
        self.input_size = _size(input_size, "input_size", name)
        self.hidden_size = _size(hidden_size, "hidden_size", name)
        self.bias = _flag(bias, "bias", name)
        gates = num_chunks * self.hidden_size
        self.weight_ih = Parameter.empty((gates, self.input_size), matmul_weight=True)
        self.weight_hh = Parameter.empty((gates, self.hidden_size), matmul_weight=True)
        self.register_parameter("bias_ih", Parameter.empty(gates) if bias else None)
        self.register_parameter("bias_hh", Parameter.empty(gates) if bias else None)
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator=generator)

    def _run(self, input, hx, count):
        """The step on ``input`` (N, input_size) or (input_size,) from state ``hx`` (``count`` tensors)."""
        name = type(self).__name__
        x = _t(input)
        if x.ndim not in (1, 2):
            raise ShapeError(f"{name}: expected 1-D (unbatched) or 2-D (batched) input, got input of shape {x.shape}")
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: expected input of {self.input_size} features, got input of shape {x.shape}")
        batched = x.ndim == 2
        if not batched:
            x = F.unsqueeze(x, 0)
        if hx is None:
            zeros = Tensor._wrap(array_module(x._data).zeros((x.shape[0], self.hidden_size), dtype=x._data.dtype))
            state = (zeros,) * count
        else:
            state = []
            for k, h in enumerate(hx):
                h = _t(h)
                expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
                if h.shape != expected:
                    what = f"hx[{k}]" if count > 1 else "hx"
                    raise ShapeError(f"{name}: expected {what} of shape {expected}, got shape {h.shape}")
                state.append(h if batched else F.unsqueeze(h, 0))
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        out = _STEPS[self._mode](gi, tuple(state), self.weight_hh, self.bias_hh)
        return out if batched else tuple(F.squeeze(h, 0) for h in out)


@register("rnn_cell")
class RNNCell(RNNCellBase):
    """One step of an Elman RNN, as ``torch.nn.RNNCell``: h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
    (``nonlinearity='relu'``: relu). ``forward(input, hx=None)`` returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, num_chunks=1)
        self.nonlinearity = nonlinearity
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def forward(self, input, hx=None):
        return self._run(input, None if hx is None else (hx,), 1)[0]


@register("lstm_cell")
class LSTMCell(RNNCellBase):
    """One step of an LSTM, as ``torch.nn.LSTMCell``: ``forward(input, hx=None)`` with ``hx`` = (h, c) returns
    (h', c'); gates i, f, g, o in the weights."""

    _mode = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias, num_chunks=4)

    def forward(self, input, hx=None):
        if hx is not None and not (isinstance(hx, tuple | list) and len(hx) == 2):
            raise ArgumentTypeError(f"LSTMCell: hx must be a tuple (h, c), got {type(hx).__name__}")
        return self._run(input, hx, 2)


@register("gru_cell")
class GRUCell(RNNCellBase):
    """One step of a GRU, as ``torch.nn.GRUCell``: ``forward(input, hx=None)`` returns h'; gates r, z, n in the
    weights, n = tanh(W_in x + b_in + r (W_hn h + b_hn))."""

    _mode = "GRU"

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias, num_chunks=3)

    def forward(self, input, hx=None):
        return self._run(input, None if hx is None else (hx,), 1)[0]
