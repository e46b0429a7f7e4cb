"""Attention, as ``torch.nn.functional``: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``.

Both are composites of matmul, softmax, the shape ops and dropout: autograd differentiates them
through their parts. Masks follow PyTorch: for ``scaled_dot_product_attention`` a bool mask is True
where a query may attend (keep), for ``multi_head_attention_forward`` (and ``nn.MultiheadAttention``)
a bool ``attn_mask`` or ``key_padding_mask`` is True where it may not; a float mask is added to the
attention scores either way.
"""

import math

import numpy as np

from ..backend import array_module
from ..errors import ArgumentError, DTypeError, ShapeError
from ..tensor import Tensor
from . import core as C
from .layers import dropout, linear

__all__ = ["multi_head_attention_forward", "scaled_dot_product_attention"]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _mask_parts(mask, name, op, dtype):
    """``mask`` as ("bool", array) or ("float", Tensor of ``dtype``); any other dtype is refused."""
    arr = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if arr.dtype.kind == "b":
        return "bool", arr
    if arr.dtype.kind != "f":
        raise DTypeError(f"{op}: {name} must be a bool or floating-point mask, got dtype {arr.dtype}")
    if not isinstance(mask, Tensor):
        return "float", Tensor._wrap(arr.astype(dtype, copy=False))
    if mask.dtype != dtype:
        raise DTypeError(
            f"{op}: a float {name} must have the dtype of the query, {dtype}, got {mask.dtype}; cast it with "
            f".astype({dtype})"
        )
    return "float", mask


def _canonical_mask(mask, name, dtype, op, true_means="masked"):
    """``mask`` as an additive float Tensor of ``dtype`` (None stays None), as PyTorch's ``_canonical_mask``:
    a bool mask becomes -inf where it is True (``true_means="masked"``) or where it is False ("keep")."""
    if mask is None:
        return None
    kind, value = _mask_parts(mask, name, op, dtype)
    if kind == "float":
        return value
    keep = ~value if true_means == "masked" else value
    return Tensor._wrap(array_module(keep).where(keep, dtype.type(0), dtype.type(-np.inf)))


def _safe_softmax(scores):
    """Softmax over the last axis, giving 0 (not NaN) in rows whose scores are all -inf, as PyTorch's
    scaled_dot_product_attention does; the gradient through such a row is 0."""
    dead = (scores._data == -np.inf).all(axis=-1, keepdims=True)
    if not dead.any():
        return C.softmax(scores, axis=-1)
    p = C.softmax(C.where(dead, 0.0, scores), axis=-1)  # finite scores in dead rows: no NaN in the backward
    return C.where(dead, 0.0, p)


def _check_ndim(x, name, op, least):
    if x.ndim < least:
        raise ShapeError(f"{op}: {name} needs at least {least} dimensions, got shape {x.shape}")


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False
):
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two axes, as
    ``torch.nn.functional.scaled_dot_product_attention``.

    ``query`` (..., L, E), ``key`` (..., S, E), ``value`` (..., S, Ev) give (..., L, Ev); the leading axes
    broadcast. ``scale`` defaults to 1 / sqrt(E). ``attn_mask`` broadcasts to (..., L, S): a bool mask keeps
    the scores where it is True, a float mask is added to them. ``is_causal=True`` lets query i attend to
    keys 0..i only (the lower triangle, from the top left; give no ``attn_mask`` with it). Rows in which
    every score is masked give 0, as PyTorch. ``dropout_p`` drops attention weights (always: this function
    has no training flag; pass 0.0 in evaluation, as PyTorch). ``enable_gqa=True`` lets ``key`` and ``value``
    have fewer heads (axis -3) than ``query``, each shared by a group of query heads.
    """
    op = "scaled_dot_product_attention"
    q, k, v = _t(query), _t(key), _t(value)
    for name, x in (("query", q), ("key", k), ("value", v)):
        _check_ndim(x, name, op, 3 if enable_gqa else 2)
    if q.shape[-1] != k.shape[-1]:
        raise ShapeError(f"{op}: query of shape {q.shape} and key of shape {k.shape} need the same last dimension")
    if k.shape[-2] != v.shape[-2]:
        raise ShapeError(
            f"{op}: key of shape {k.shape} and value of shape {v.shape} need the same sequence length (axis -2)"
        )
    if not 0.0 <= dropout_p <= 1.0:
        raise ArgumentError(f"{op}: dropout_p must be between 0 and 1, got {dropout_p}")
    if enable_gqa and q.shape[-3] != k.shape[-3]:
        hq, hk = q.shape[-3], k.shape[-3]
        if hk == 0 or hq % hk or v.shape[-3] != hk:
            raise ShapeError(
                f"{op}: with enable_gqa the query's heads ({hq}, axis -3) must be a multiple of the key's and "
                f"value's ({hk} and {v.shape[-3]}), got query {q.shape}, key {k.shape}, value {v.shape}"
            )
        groups = np.repeat(np.arange(hk), hq // hk)  # each key head serves hq / hk query heads in turn
        k, v = k[..., groups, :, :], v[..., groups, :, :]
    length, source = q.shape[-2], k.shape[-2]
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = C.matmul(q, C.swapaxes(k, -2, -1)) * factor
    if is_causal:
        if attn_mask is not None:
            raise ArgumentError(f"{op}: give either attn_mask or is_causal=True, not both")
        xp = array_module(q._data)
        attn_mask = xp.tril(xp.ones((length, source), dtype=bool))  # query i sees keys 0..i
    mask = _canonical_mask(attn_mask, "attn_mask", q._data.dtype, op, true_means="keep")
    if mask is not None:
        scores = scores + mask
    weights = _safe_softmax(scores)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return C.matmul(weights, v)


def _pad_last(mask):
    """A zero column appended to the last axis of an additive mask (a key that every query may see)."""
    return C.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, 1)])


def _projections(query, key, value, w, b, separate):
    """The query, key and value projections: with the packed (3E, E) ``w`` (``separate`` None), one product
    where the inputs are one tensor (self-attention) and two where key is value, as PyTorch; else with the
    given weights. ``b`` is the packed (3E,) bias or None."""
    e = query.shape[-1]

    def part(t, i, n=1):
        return None if t is None else t[i * e : (i + n) * e]

    if separate is not None:
        return tuple(linear(x, wx, part(b, i)) for i, (x, wx) in enumerate(zip((query, key, value), separate)))
    if key is value:
        if query is key:
            return tuple(C.split(linear(query, w, b), e, axis=-1))
        return (linear(query, part(w, 0), part(b, 0)), *C.split(linear(key, part(w, 1, 2), part(b, 1, 2)), e, axis=-1))
    return tuple(linear(x, part(w, i), part(b, i)) for i, x in enumerate((query, key, value)))


def _check_mha_shapes(q, k, v, key_padding_mask, attn_mask, num_heads, op):
    """PyTorch's shape rules for multi-head attention's inputs; returns whether they are batched."""

    def ndim(m):
        return None if m is None else np.ndim(m._data if isinstance(m, Tensor) else m)

    if q.ndim not in (2, 3):
        raise ShapeError(f"{op}: query must be 2-D (L, E) unbatched or 3-D batched, got shape {q.shape}")
    batched = q.ndim == 3
    if k.ndim != q.ndim or v.ndim != q.ndim:
        raise ShapeError(
            f"{op}: key and value must have the {q.ndim} dimensions of the query {q.shape}, got key {k.shape} "
            f"and value {v.shape}"
        )
    kpm = ndim(key_padding_mask)
    if kpm is not None and kpm != (2 if batched else 1):
        raise ShapeError(
            f"{op}: key_padding_mask must be {'2-D (N, S)' if batched else '1-D (S)'} for a "
            f"{q.ndim}-D query, got a {kpm}-D mask"
        )
    am = ndim(attn_mask)
    if am is not None and am not in (2, 3):
        raise ShapeError(f"{op}: attn_mask must be 2-D (L, S) or 3-D (N * num_heads, L, S), got a {am}-D mask")
    if not batched and am == 3:
        expected = (num_heads, q.shape[0], k.shape[0])
        got = tuple(np.shape(attn_mask._data if isinstance(attn_mask, Tensor) else attn_mask))
        if got != expected:
            raise ShapeError(f"{op}: a 3-D attn_mask for an unbatched query must have shape {expected}, got {got}")
    return batched


def multi_head_attention_forward(
    query,
    key,
    value,
    embed_dim_to_check,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    bias_k,
    bias_v,
    add_zero_attn,
    dropout_p,
    out_proj_weight,
    out_proj_bias,
    training=True,
    key_padding_mask=None,
    need_weights=True,
    attn_mask=None,
    use_separate_proj_weight=False,
    q_proj_weight=None,
    k_proj_weight=None,
    v_proj_weight=None,
    static_k=None,
    static_v=None,
    average_attn_weights=True,
    is_causal=False,
):
    """Multi-head attention on sequence-first inputs, as ``torch.nn.functional.multi_head_attention_forward``.

    ``query`` (L, N, E), ``key`` (S, N, kdim), ``value`` (S, N, vdim), or unbatched (L, E), (S, kdim),
    (S, vdim). Returns (output (L, N, E), attention weights (N, L, S), per head (N, num_heads, L, S) with
    ``average_attn_weights=False``, or None with ``need_weights=False``). A bool ``attn_mask`` (L, S) or
    (N * num_heads, L, S) and a bool ``key_padding_mask`` (N, S) are True where a query may not attend;
    float ones are added to the scores. ``is_causal`` is a hint that ``attn_mask`` is the causal mask and
    needs it. With ``need_weights=True`` a fully masked row gives NaN (PyTorch's softmax), with
    ``need_weights=False`` it gives 0 (PyTorch's scaled_dot_product_attention).
    """
    op = "multi_head_attention_forward"
    q_in, k_in, v_in = (x if isinstance(x, Tensor) else Tensor(x) for x in (query, key, value))
    if query is key:  # keep the identities that pick the packed projections
        k_in = q_in
    if key is value:
        v_in = k_in
    batched = _check_mha_shapes(q_in, k_in, v_in, key_padding_mask, attn_mask, num_heads, op)
    dtype = q_in._data.dtype
    kpm = _canonical_mask(key_padding_mask, "key_padding_mask", dtype, op)
    if not batched:
        q_u = C.unsqueeze(q_in, 1)
        k_u = q_u if k_in is q_in else C.unsqueeze(k_in, 1)
        v_u = k_u if v_in is k_in else C.unsqueeze(v_in, 1)
        q_in, k_in, v_in = q_u, k_u, v_u
        kpm = None if kpm is None else C.unsqueeze(kpm, 0)
    length, batch, embed_dim = q_in.shape
    if is_causal and attn_mask is None:
        raise ArgumentError(
            f"{op}: is_causal=True is a hint that attn_mask is the causal mask and needs that mask; give attn_mask "
            "(a float mask with -inf above the diagonal, or a bool mask True above it)"
        )
    if is_causal and kpm is None and not need_weights:
        mask = None  # scaled_dot_product_attention applies the causal mask itself
    else:
        mask = _canonical_mask(attn_mask, "attn_mask", dtype, op)
        if kpm is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise ShapeError(f"{op}: expected query embedding dimension {embed_dim_to_check}, got query of shape "
                         f"{q_in.shape}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ArgumentError(f"{op}: embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if k_in.shape[:2] != v_in.shape[:2]:
            raise ShapeError(f"{op}: key {k_in.shape} and value {v_in.shape} need the same sequence and batch sizes")
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ArgumentError(f"{op}: use_separate_proj_weight=True needs q_proj_weight, k_proj_weight and "
                                "v_proj_weight")
        q, k, v = _projections(q_in, k_in, v_in, None, in_proj_bias, (q_proj_weight, k_proj_weight, v_proj_weight))
    else:
        if k_in.shape != v_in.shape:
            raise ShapeError(f"{op}: key of shape {k_in.shape} does not match value of shape {v_in.shape}")
        if in_proj_weight is None:
            raise ArgumentError(f"{op}: in_proj_weight is needed unless use_separate_proj_weight=True")
        if k_in.shape[-1] != embed_dim:
            raise ShapeError(f"{op}: with a packed in_proj_weight, key and value need embedding dimension "
                             f"{embed_dim}, got key of shape {k_in.shape}; set kdim and vdim")
        q, k, v = _projections(q_in, k_in, v_in, in_proj_weight, in_proj_bias, None)
    source = k.shape[0]
    if mask is not None:
        if mask.ndim == 2:
            if mask.shape != (length, source):
                raise ShapeError(f"{op}: a 2-D attn_mask must have shape {(length, source)}, got {mask.shape}")
            mask = C.unsqueeze(mask, 0)
        elif mask.shape != (batch * num_heads, length, source):
            raise ShapeError(
                f"{op}: a 3-D attn_mask must have shape {(batch * num_heads, length, source)}, got {mask.shape}"
            )
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise ArgumentError(f"{op}: bias_k and bias_v cannot be added to static_k and static_v")
        k = C.concatenate([k, C.broadcast_to(bias_k, (1, batch, embed_dim))], axis=0)
        v = C.concatenate([v, C.broadcast_to(bias_v, (1, batch, embed_dim))], axis=0)
        mask = None if mask is None else _pad_last(mask)
        kpm = None if kpm is None else _pad_last(kpm)
    elif (bias_k is None) != (bias_v is None):
        raise ArgumentError(f"{op}: give both bias_k and bias_v, or neither")
    heads = batch * num_heads
    q = C.swapaxes(C.reshape(q, (length, heads, head_dim)), 0, 1)
    if static_k is None:
        k = C.swapaxes(C.reshape(k, (k.shape[0], heads, head_dim)), 0, 1)
    else:
        k = _t(static_k)
        if k.ndim != 3 or k.shape[0] != heads or k.shape[2] != head_dim:
            raise ShapeError(f"{op}: static_k must have shape ({heads}, S, {head_dim}), got {k.shape}")
    if static_v is None:
        v = C.swapaxes(C.reshape(v, (v.shape[0], heads, head_dim)), 0, 1)
    else:
        v = _t(static_v)
        if v.ndim != 3 or v.shape[0] != heads or v.shape[2] != head_dim:
            raise ShapeError(f"{op}: static_v must have shape ({heads}, S, {head_dim}), got {v.shape}")
    if add_zero_attn:
        xp = array_module(k._data)
        k = C.concatenate([k, Tensor._wrap(xp.zeros((heads, 1, head_dim), dtype=k.dtype))], axis=1)
        v = C.concatenate([v, Tensor._wrap(xp.zeros((heads, 1, head_dim), dtype=v.dtype))], axis=1)
        mask = None if mask is None else _pad_last(mask)
        kpm = None if kpm is None else _pad_last(kpm)
    source = k.shape[1]
    if kpm is not None:
        if kpm.shape != (batch, source):
            raise ShapeError(f"{op}: key_padding_mask must have shape {(batch, source)}, got {kpm.shape}")
        kpm = C.reshape(C.broadcast_to(C.reshape(kpm, (batch, 1, 1, source)), (batch, num_heads, 1, source)),
                        (heads, 1, source))
        mask = kpm if mask is None else mask + kpm
    p = dropout_p if training else 0.0
    if need_weights:
        scores = C.matmul(q * math.sqrt(1.0 / head_dim), C.swapaxes(k, -2, -1))
        if mask is not None:
            scores = scores + mask
        weights = C.softmax(scores, axis=-1)
        if p > 0.0:
            weights = dropout(weights, p, training=True)
        out = C.reshape(C.swapaxes(C.matmul(weights, v), 0, 1), (length * batch, embed_dim))
        out = C.reshape(linear(out, out_proj_weight, out_proj_bias), (length, batch, -1))
        weights = C.reshape(weights, (batch, num_heads, length, source))
        if average_attn_weights:
            weights = C.mean(weights, axis=1)
        if not batched:
            out, weights = C.squeeze(out, 1), C.squeeze(weights, 0)
        return out, weights
    if mask is not None:
        mask = C.unsqueeze(mask, 0) if mask.shape[0] == 1 else C.reshape(mask, (batch, num_heads, -1, source))
    q = C.reshape(q, (batch, num_heads, length, head_dim))
    k = C.reshape(k, (batch, num_heads, source, head_dim))
    v = C.reshape(v, (batch, num_heads, source, head_dim))
    out = scaled_dot_product_attention(q, k, v, mask, p, is_causal)
    out = C.reshape(C.permute(out, (2, 0, 1, 3)), (length * batch, embed_dim))
    out = C.reshape(linear(out, out_proj_weight, out_proj_bias), (length, batch, -1))
    if not batched:
        out = C.squeeze(out, 1)
    return out, None
