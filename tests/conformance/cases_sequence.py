"""Conformance entries of the sequence modules: the recurrent layers and cells, multi-head attention and the
transformer encoder.

RNN, LSTM, GRU, the cells and MultiheadAttention return tuples (or take several inputs), which the suite's
forward checks do not handle: they have no input maker here (config, state dict, file, repr and seeded
construction are checked), and tests/nn/test_rnn.py and tests/nn/test_attention.py check their forward, their
rebuilt and reloaded forwards and their PyTorch parity. The encoder and its layer return one tensor and run
the suite's forward checks; their PyTorch parity, whose tolerance comes from the magnitude model in those
files, is checked there too, so no torch class is given. Dropout is 0 so that forwards in training mode are
deterministic.
"""

import numpy as np
from test_conformance import _x

from chainrule import nn
from chainrule.nn import init


def _encoder_parts():
    """A layer and a norm with fixed weights from their own generator (chainrule's default one is left alone)."""
    with init.skipped():
        layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0)
        norm = nn.LayerNorm(4)
    rng = np.random.default_rng(0)
    for m in (layer, norm):
        m.load_state_dict({k: rng.uniform(-0.5, 0.5, v.shape) for k, v in m.state_dict().items()})
    return layer, norm


_LAYER, _NORM = _encoder_parts()

TABLE = {
    "rnn": ({"input_size": 3, "hidden_size": 4, "num_layers": 2, "nonlinearity": "relu", "bidirectional": True},
            None, None),
    "lstm": ({"input_size": 3, "hidden_size": 4, "proj_size": 2, "batch_first": True}, None, None),
    "gru": ({"input_size": 3, "hidden_size": 4, "num_layers": 2, "bias": False}, None, None),
    "rnn_cell": ({"input_size": 3, "hidden_size": 4, "nonlinearity": "relu"}, None, None),
    "lstm_cell": ({"input_size": 3, "hidden_size": 4}, None, None),
    "gru_cell": ({"input_size": 3, "hidden_size": 4, "bias": False}, None, None),
    "multihead_attention": ({"embed_dim": 4, "num_heads": 2, "kdim": 3, "vdim": 5, "add_bias_kv": True}, None,
                            None),
    "transformer_encoder_layer": ({"d_model": 4, "nhead": 2, "dim_feedforward": 8, "dropout": 0.0,
                                   "norm_first": True, "activation": "gelu"}, _x(3, 2, 4), None),
    "transformer_encoder": ({"encoder_layer": _LAYER, "num_layers": 2, "norm": _NORM}, _x(3, 2, 4), None),
}
RULES = {}
