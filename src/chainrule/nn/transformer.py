"""Attention blocks, as ``torch.nn``: MultiheadAttention, TransformerEncoderLayer, TransformerEncoder.

Parameter names, shapes, state-dict keys, defaults and initialisation are PyTorch's (``in_proj_weight``,
``out_proj.weight``, ``self_attn.*``, ``linear1``, ``norm1`` ...), so weights move both ways. Each is a
composite of ``chainrule.functional`` (``multi_head_attention_forward``, ``linear``, ``layer_norm``).
"""

import copy
import numbers

import numpy as np

from .. import functional as F
from .. import registry
from ..autograd.function import is_grad_enabled
from ..backend import array_module
from ..errors import ArgumentError, ArgumentTypeError
from ..functional.attention import _canonical_mask
from ..registry import register
from ..tensor import Tensor
from . import init
from .activation import GELU, ReLU
from .containers import ModuleList
from .linear import Dropout, Linear
from .module import Module
from .normalization import LayerNorm
from .parameter import Parameter

__all__ = ["MultiheadAttention", "TransformerEncoder", "TransformerEncoderLayer"]


def _positive(value, name, layer):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ArgumentError(f"{layer}: {name} must be a positive int, got {value!r}")
    return int(value)


def _probability(value, name, layer):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ArgumentError(f"{layer}: {name} must be a probability between 0 and 1, got {value!r}")
    return value


@register("multihead_attention")
class MultiheadAttention(Module):
    """Multi-head attention, as ``torch.nn.MultiheadAttention``: ``num_heads`` heads of
    embed_dim / num_heads features each, attending from the query to the key and value.

    Parameters: ``in_proj_weight`` (3 * embed_dim, embed_dim), the query, key and value projections packed
    in that order (xavier_uniform), or, when ``kdim`` or ``vdim`` differ from embed_dim, separate
    ``q_proj_weight`` (embed_dim, embed_dim), ``k_proj_weight`` (embed_dim, kdim) and ``v_proj_weight``
    (embed_dim, vdim); ``in_proj_bias`` (3 * embed_dim, zeros); ``out_proj`` a Linear(embed_dim, embed_dim)
    with a zero bias; with ``add_bias_kv``, ``bias_k`` and ``bias_v`` (1, 1, embed_dim, xavier_normal)
    appended to the key and value sequences. ``add_zero_attn`` appends a zero key and value. ``dropout``
    drops attention weights while training. Inputs are (L, N, E) (``batch_first``: (N, L, E)) or
    unbatched (L, E).
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False):
        super().__init__()
        name = "MultiheadAttention"
        self.embed_dim = _positive(embed_dim, "embed_dim", name)
        self.num_heads = _positive(num_heads, "num_heads", name)
        if self.embed_dim % self.num_heads:
            raise ArgumentError(f"{name}: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.kdim = self.embed_dim if kdim is None else _positive(kdim, "kdim", name)
        self.vdim = self.embed_dim if vdim is None else _positive(vdim, "vdim", name)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout = _probability(dropout, "dropout", name)
        self.batch_first = bool(batch_first)
        self.head_dim = self.embed_dim // self.num_heads
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter.empty((3 * e, e), matmul_weight=True)
            for k in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(k, None)
        else:
            self.q_proj_weight = Parameter.empty((e, e), matmul_weight=True)
            self.k_proj_weight = Parameter.empty((e, self.kdim), matmul_weight=True)
            self.v_proj_weight = Parameter.empty((e, self.vdim), matmul_weight=True)
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias", Parameter.empty(3 * e) if bias else None)
        self.out_proj = Linear(e, e, bias=bool(bias))
        if add_bias_kv:
            self.bias_k = Parameter.empty((1, 1, e))
            self.bias_v = Parameter.empty((1, 1, e))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = bool(add_zero_attn)
        self._reset_parameters()

    def _reset_parameters(self, generator=None):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight, generator=generator)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w, generator=generator)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k, generator=generator)
            init.xavier_normal_(self.bias_v, generator=generator)

    def get_config(self):
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads, "dropout": self.dropout,
                "bias": self.in_proj_bias is not None, "add_bias_kv": self.bias_k is not None,
                "add_zero_attn": self.add_zero_attn, "kdim": self.kdim, "vdim": self.vdim,
                "batch_first": self.batch_first}

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """Attend from ``query`` to ``key`` and ``value``; returns (attn_output, attn_weights), the weights
        averaged over the heads (N, L, S) unless ``average_attn_weights=False`` (N, num_heads, L, S), or None
        with ``need_weights=False``. A bool ``key_padding_mask`` (N, S) or ``attn_mask`` ((L, S) or
        (N * num_heads, L, S)) is True where a query may not attend; float masks are added to the scores.
        ``is_causal=True`` is a hint that ``attn_mask`` is the causal mask (which must be given)."""
        batched = np.ndim(query._data if isinstance(query, Tensor) else query) == 3
        if self.batch_first and batched:  # to (L, N, E), keeping which inputs are one tensor
            if key is value:
                if query is key:
                    query = key = value = F.swapaxes(query, 0, 1)
                else:
                    query, key = F.swapaxes(query, 0, 1), F.swapaxes(key, 0, 1)
                    value = key
            else:
                query, key, value = (F.swapaxes(x, 0, 1) for x in (query, key, value))
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            out = F.swapaxes(out, 0, 1)
        return out, weights


_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation_name(fn):
    """'relu' or 'gelu' for PyTorch's two fused activations (as functions or modules), else None."""
    if fn is F.relu or isinstance(fn, ReLU):
        return "relu"
    if fn is F.gelu or (isinstance(fn, GELU) and fn.approximate == "none"):
        return "gelu"
    return None


@register("transformer_encoder_layer")
class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and layer normalisation, as
    ``torch.nn.TransformerEncoderLayer``.

    ``x = norm1(x + dropout1(self_attn(x)))``, ``x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))``;
    with ``norm_first=True`` each block normalises its input instead: ``x = x + block(norm(x))``. ``activation``
    is 'relu', 'gelu' (exact) or a callable. Sub-modules and state-dict keys are PyTorch's: ``self_attn``
    (a MultiheadAttention), ``linear1`` (d_model -> dim_feedforward), ``linear2``, ``norm1``, ``norm2`` and
    the Dropout modules ``dropout``, ``dropout1``, ``dropout2``.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True):
        super().__init__()
        name = "TransformerEncoderLayer"
        _positive(dim_feedforward, "dim_feedforward", name)
        _probability(dropout, "dropout", name)
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ArgumentError(f"{name}: activation must be 'relu', 'gelu' or a callable, got {activation!r}")
            activation = _ACTIVATIONS[activation]
        elif not callable(activation):
            raise ArgumentTypeError(f"{name}: activation must be 'relu', 'gelu' or a callable, got "
                                    f"{type(activation).__name__}")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bool(bias))
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bool(bias))
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bool(bias))
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bool(bias))
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        kind = _activation_name(activation)
        self.activation_relu_or_gelu = {"relu": 1, "gelu": 2}.get(kind, 0)
        self.activation = activation

    def get_config(self):
        kind = _activation_name(self.activation)
        if kind is None:
            raise NotImplementedError(
                "TransformerEncoderLayer.get_config: a custom activation cannot be described as data; use "
                "activation='relu' or 'gelu' to save the layer in a model file, or save its weights with "
                "cr.save_state(model.state_dict(), path)"
            )
        return {"d_model": self.self_attn.embed_dim, "nhead": self.self_attn.num_heads,
                "dim_feedforward": self.linear1.out_features, "dropout": self.dropout.p, "activation": kind,
                "layer_norm_eps": self.norm1.eps, "batch_first": self.self_attn.batch_first,
                "norm_first": self.norm_first, "bias": self.linear1.bias is not None}

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """``src`` (S, N, d_model) (``batch_first``: (N, S, d_model)) or unbatched (S, d_model); ``src_mask``
        (S, S) or (N * nhead, S, S) and ``src_key_padding_mask`` (N, S) as MultiheadAttention's masks (bool: True
        where attention is not allowed); ``is_causal`` a hint that ``src_mask`` is the causal mask."""
        x = src if isinstance(src, Tensor) else Tensor(src)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


def _spec(module, what):
    """A sub-module given to a constructor, as data: its registered name and its config."""
    name = registry.name_of(module)
    if name is None or module._container:
        raise NotImplementedError(
            f"TransformerEncoder.get_config: the {what} ({type(module).__name__}) must be a registered module that "
            "is not a container to be described as data"
        )
    return {"class": name, "config": module.get_config()}


def _from_spec(spec, what):
    if not (isinstance(spec, dict) and isinstance(spec.get("class"), str) and isinstance(spec.get("config"), dict)):
        raise ArgumentError(
            f"TransformerEncoder.from_config: {what} must be {{'class': registered name, 'config': {{...}}}}, got "
            f"{spec!r}"
        )
    return registry.get(spec["class"]).from_config(spec["config"])


def _nested_layer(layer):
    """Whether PyTorch's TransformerEncoder would use nested tensors with copies of ``layer``."""
    if not isinstance(layer, TransformerEncoderLayer):
        return False
    attn = layer.self_attn
    return (not layer.norm_first and attn.batch_first and attn._qkv_same_embed_dim and attn.in_proj_bias is not None
            and layer.activation_relu_or_gelu != 0 and layer.norm1.eps == layer.norm2.eps and attn.num_heads % 2 == 0)


def _is_causal_mask(mask, size):
    """True where ``mask`` is the (size, size) float mask with -inf above the diagonal and 0 elsewhere."""
    if mask is None or mask.shape != (size, size):
        return False
    a = mask._data
    xp = array_module(a)
    upper = xp.triu(xp.ones((size, size), dtype=bool), 1)
    return bool(xp.all(xp.where(upper, a == -np.inf, a == 0)))


@register("transformer_encoder")
class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied in turn, then ``norm`` if given, as
    ``torch.nn.TransformerEncoder``. The layers are deep copies (so they start with equal weights, as in
    PyTorch), in ``layers`` (a ModuleList): state-dict keys ``layers.0.self_attn.in_proj_weight`` ....

    ``get_config`` describes the layer and the norm as {"class": registered name, "config": ...}, and
    ``from_config`` rebuilds them from that, so the encoder can be saved in a model file.

    PyTorch runs an inference fast path on nested tensors when ``enable_nested_tensor`` and the layer allow it
    (see ``_nested_fast_path``), whose output is 0 at padded positions (before ``norm``); chainrule gives the
    same there, and computes every position otherwise, as PyTorch does.
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise ArgumentTypeError(
                f"TransformerEncoder: encoder_layer must be a Module (a TransformerEncoderLayer), got "
                f"{type(encoder_layer).__name__}"
            )
        if norm is not None and not isinstance(norm, Module):
            raise ArgumentTypeError(f"TransformerEncoder: norm must be a Module or None, got {type(norm).__name__}")
        self.num_layers = _positive(num_layers, "num_layers", "TransformerEncoder")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(self.num_layers)])
        self.norm = norm
        self.enable_nested_tensor = bool(enable_nested_tensor)
        self.use_nested_tensor = self.enable_nested_tensor and _nested_layer(encoder_layer)
        self.mask_check = bool(mask_check)

    def get_config(self):
        return {"encoder_layer": _spec(self.layers[0], "encoder layer"), "num_layers": self.num_layers,
                "norm": None if self.norm is None else _spec(self.norm, "norm"),
                "enable_nested_tensor": self.enable_nested_tensor, "mask_check": self.mask_check}

    def extra_repr(self):
        # the layer and the norm are shown as children below: name them only
        norm = None if self.norm is None else type(self.norm).__name__
        return (f"encoder_layer={type(self.layers[0]).__name__}, num_layers={self.num_layers}, norm={norm}, "
                f"enable_nested_tensor={self.enable_nested_tensor}, mask_check={self.mask_check}")

    @classmethod
    def from_config(cls, config):
        """Rebuild from ``get_config()``'s output, building the layer and the norm from their descriptions."""
        config = dict(config)
        config["encoder_layer"] = _from_spec(config.get("encoder_layer"), "encoder_layer")
        if config.get("norm") is not None:
            config["norm"] = _from_spec(config["norm"], "norm")
        return cls(**config)

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """Run ``src`` through the layers (arguments as TransformerEncoderLayer's; ``mask`` is their
        ``src_mask``). ``is_causal=None`` detects whether ``mask`` is the causal mask, as PyTorch."""
        x = src if isinstance(src, Tensor) else Tensor(src)
        dtype = x._data.dtype
        mask = _canonical_mask(mask, "mask", dtype, "TransformerEncoder")
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask", dtype,
                                               "TransformerEncoder")
        if is_causal is None:
            first = self.layers[0]
            attn = getattr(first, "self_attn", None)
            seq_axis = 1 if x.ndim == 3 and attn is not None and attn.batch_first else 0
            is_causal = _is_causal_mask(mask, x.shape[seq_axis])
        valid = self._nested_fast_path(x, mask, src_key_padding_mask)
        for layer in self.layers:
            x = layer(x, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask)
        if valid is not None:
            x = F.where(valid[..., None], x, 0.0)
        return x if self.norm is None else self.norm(x)

    def _nested_fast_path(self, x, mask, key_padding_mask):
        """Where PyTorch would run its nested-tensor path (inference, no gradient wanted, a padding mask with
        each sequence's tokens first, no ``mask``, a layer it can fuse), the (N, S) bool array of the positions
        it keeps (those whose padding mask is 0), whose output alone it computes: the others come back as 0.
        Otherwise None."""
        first = self.layers[0]
        if (not self.use_nested_tensor or first.training or x.ndim != 3 or key_padding_mask is None
                or mask is not None):
            return None
        xp = array_module(key_padding_mask._data)
        valid = key_padding_mask._data == 0
        if self.mask_check:
            lengths = valid.sum(axis=1, keepdims=True)
            if not bool(xp.all(valid == (xp.arange(valid.shape[1]) < lengths))):
                return None
        if is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in first.parameters())):
            return None
        return valid
