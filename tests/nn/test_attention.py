"""scaled_dot_product_attention, MultiheadAttention, TransformerEncoderLayer and TransformerEncoder against PyTorch
(float32; tolerances from the first-order magnitude model of tests/nn/test_rnn.py), through chainrule's gradient
checker in float64, and their masks, errors, configs and files."""

import copy
import json

import numpy as np
import pytest
import tolerance as T
import torch
import torch.nn.functional as TF
from test_rnn import (
    add,
    const,
    gelu,
    grad_magnitudes,
    gradcheck_module,
    layer_norm,
    leaf,
    linear,
    matmul,
    move,
    positive_map,
    relu,
    softmax,
)

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck
from chainrule.errors import ArgumentError, DTypeError, ShapeError


def _rng(seed):
    return np.random.default_rng(seed)


def _normal(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _torch_copy(model, tmodel):
    tmodel.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    return tmodel


def _additive(mask, masked_when):
    """A bool mask as 0 / -inf (``masked_when`` True: True is masked; False: True is kept), a float one as it is."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != bool:
        return mask.astype(np.float64)
    return np.where(mask == masked_when, -np.inf, 0.0)


# ---- scaled_dot_product_attention ------------------------------------------------------------------------------------


def _sdpa_mag(q, k, v, mask=None, scale=None):
    """The magnitude model of softmax(q k^T scale + mask) v, ``mask`` additive (or None)."""
    factor = 1 / np.sqrt(q.x0.shape[-1]) if scale is None else scale
    scores = positive_map(lambda a: a * factor, matmul(q, move(lambda a: a.transpose(-1, -2), k)))
    if mask is not None:
        scores = add(scores, const(np.broadcast_to(mask, scores.x0.shape)))
    return matmul(softmax(scores), v)


def _check_sdpa(q, k, v, torch_kwargs, mask=None, **kwargs):
    """chainrule's and torch's sdpa on (q, k, v): output and the three gradients, within the model's bounds."""
    xs = [cr.tensor(a, requires_grad=True) for a in (q, k, v)]
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*xs, **kwargs)
    tout = TF.scaled_dot_product_attention(*ts, **torch_kwargs)
    leaves = [leaf(a) for a in (q, k, v)]
    mo = _sdpa_mag(*leaves, mask=mask, scale=kwargs.get("scale"))
    T.assert_close(out.numpy(), tout, mo.m.numpy(), "output")
    g = _normal(_rng(11), *out.shape)
    grads = cr.autograd.grad(out, xs, g)
    tgrads = torch.autograd.grad(tout, ts, torch.tensor(g))
    for name, a, b, mg in zip("qkv", grads, tgrads, grad_magnitudes([mo], leaves, [g])):
        T.assert_close(a.numpy(), b, mg, f"gradient of {name}")
    return out


SDPA_SHAPES = {"4-D": ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 6)), "3-D": ((2, 4, 3), (2, 4, 3), (2, 4, 2)),
               "unbatched": ((3, 4), (5, 4), (5, 3))}


@pytest.mark.parametrize("shapes", sorted(SDPA_SHAPES))
@pytest.mark.parametrize("masking", ["none", "bool", "float", "causal", "scale"])
def test_sdpa_parity_with_torch(shapes, masking):
    qs, ks, vs = SDPA_SHAPES[shapes]
    rng = _rng(12)
    q, k, v = _normal(rng, *qs), _normal(rng, *ks), _normal(rng, *vs)
    length, source = qs[-2], ks[-2]
    kwargs, mask = {}, None
    if masking == "bool":
        keep = rng.random((length, source)) > 0.4
        keep[:, 0] = True
        kwargs["attn_mask"], mask = keep, _additive(keep, masked_when=False)
    elif masking == "float":
        fm = _normal(rng, length, source)
        fm[0, 1] = -np.inf
        kwargs["attn_mask"], mask = fm, fm.astype(np.float64)
    elif masking == "causal":
        kwargs["is_causal"] = True
        mask = _additive(np.tril(np.ones((length, source), bool)), masked_when=False)
    elif masking == "scale":
        kwargs["scale"] = 0.3
    tkw = {k_: (torch.tensor(v_) if isinstance(v_, np.ndarray) else v_) for k_, v_ in kwargs.items()}
    _check_sdpa(q, k, v, tkw, mask=mask, **kwargs)


def test_sdpa_fully_masked_rows_give_zero_as_torch():
    rng = _rng(13)
    q, k, v = _normal(rng, 2, 3, 4), _normal(rng, 2, 5, 4), _normal(rng, 2, 5, 4)
    keep = rng.random((2, 3, 5)) > 0.3
    keep[0, 1] = False  # nothing to attend to
    out = _check_sdpa(q, k, v, {"attn_mask": torch.tensor(keep)}, mask=_additive(keep, False), attn_mask=keep)
    np.testing.assert_array_equal(out.numpy()[0, 1], 0)


def test_sdpa_mask_of_its_own_batch_shape_broadcasts():
    rng = _rng(14)
    q, k, v = _normal(rng, 2, 2, 3, 4), _normal(rng, 2, 2, 5, 4), _normal(rng, 2, 2, 5, 4)
    fm = _normal(rng, 2, 1, 3, 5)
    _check_sdpa(q, k, v, {"attn_mask": torch.tensor(fm)}, mask=fm.astype(np.float64), attn_mask=cr.tensor(fm))


def test_sdpa_grouped_query_attention_as_torch():
    rng = _rng(15)
    q, k, v = _normal(rng, 1, 4, 3, 2), _normal(rng, 1, 2, 5, 2), _normal(rng, 1, 2, 5, 3)
    out = F.scaled_dot_product_attention(cr.tensor(q), cr.tensor(k), cr.tensor(v), enable_gqa=True)
    tout = TF.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v), enable_gqa=True)
    # query heads 0, 1 share key head 0 and 2, 3 key head 1, as torch's repeat_interleave
    kr, vr = np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1)
    T.assert_close(out.numpy(), tout, _sdpa_mag(leaf(q), leaf(kr), leaf(vr)).m.numpy(), "output")


def test_sdpa_dropout_drops_weights_and_scales_the_rest():
    """With value = identity the output is the attention weights themselves: after dropout each is 0 or
    w / (1 - p), about a fraction p of them 0; p = 1 drops them all (as torch)."""
    rng = _rng(16)
    q, k = cr.tensor(_normal(rng, 50, 4, 3)), cr.tensor(_normal(rng, 50, 6, 3))
    eye = cr.tensor(np.broadcast_to(np.eye(6, dtype=np.float32), (50, 6, 6)).copy())
    plain = F.scaled_dot_product_attention(q, k, eye).numpy()
    cr.manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.25).numpy()
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], plain[kept] / 0.75, rtol=1e-6)
    n = kept.size
    assert abs((~kept).mean() - 0.25) < 5 * np.sqrt(0.25 * 0.75 / n)  # five standard errors
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, eye, dropout_p=1.0).numpy(), 0)


def test_sdpa_errors():
    q, k, v = cr.zeros(2, 3, 4), cr.zeros(2, 5, 4), cr.zeros(2, 5, 4)
    with pytest.raises(ArgumentError, match="not both"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 5), bool), is_causal=True)
    with pytest.raises(DTypeError, match="bool or floating"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 5), np.int64))
    with pytest.raises(ShapeError, match="last dimension"):
        F.scaled_dot_product_attention(q, cr.zeros(2, 5, 3), v)
    with pytest.raises(ShapeError, match="sequence length"):
        F.scaled_dot_product_attention(q, k, cr.zeros(2, 4, 4))
    with pytest.raises(ArgumentError, match="dropout_p"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=2.0)


def test_gradcheck_sdpa_float64():
    rng = _rng(17)
    q, k, v = (cr.tensor(rng.standard_normal(s), dtype=cr.float64, requires_grad=True)
               for s in [(2, 3, 2), (2, 4, 2), (2, 4, 3)])
    keep = rng.random((3, 4)) > 0.3
    keep[:, 0] = True
    fm = cr.tensor(rng.standard_normal((3, 4)), dtype=cr.float64)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=keep), (q, k, v))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=fm, scale=0.7), (q, k, v))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))


# ---- MultiheadAttention ----------------------------------------------------------------------------------------------


def _sub(p, prefix):
    return {k[len(prefix):]: v for k, v in p.items() if k.startswith(prefix)}


def _mha_mag(mha, p, q, k, v, mask, average=True):
    """The magnitude model of multi-head attention on time-major batched Mags, ``mask`` the merged additive mask
    (N * num_heads, L or 1, S) as numpy (None for none). Returns (output, weights)."""
    e, heads = mha.embed_dim, mha.num_heads
    hd = e // heads
    length, batch = q.x0.shape[:2]
    b = p.get("in_proj_bias")

    def part(t, i):
        return None if t is None else move(lambda a: a[i * e:(i + 1) * e], t)

    if mha._qkv_same_embed_dim:
        ws = [part(p["in_proj_weight"], i) for i in range(3)]
    else:
        ws = [p["q_proj_weight"], p["k_proj_weight"], p["v_proj_weight"]]
    q, k, v = (linear(x, w, part(b, i)) for i, (x, w) in enumerate(zip((q, k, v), ws)))
    if "bias_k" in p:
        k = move(lambda a, bk: torch.cat([a, bk.expand(1, batch, e)]), k, p["bias_k"])
        v = move(lambda a, bv: torch.cat([a, bv.expand(1, batch, e)]), v, p["bias_v"])

    def split(t):
        return move(lambda a: a.reshape(a.shape[0], batch * heads, hd).transpose(0, 1), t)

    q, k, v = split(q), split(k), split(v)
    if mha.add_zero_attn:
        zeros = const(np.zeros((batch * heads, 1, hd)))
        k, v = (move(lambda a, z: torch.cat([a, z], 1), t, zeros) for t in (k, v))
    scores = matmul(positive_map(lambda a: a / np.sqrt(hd), q), move(lambda a: a.transpose(1, 2), k))
    if mask is not None:
        scores = add(scores, const(np.broadcast_to(mask, scores.x0.shape)))
    weights = softmax(scores)
    out = move(lambda a: a.transpose(0, 1).reshape(length, batch, e), matmul(weights, v))
    out = linear(out, p["out_proj.weight"], p.get("out_proj.bias"))
    weights = move(lambda a: a.reshape(batch, heads, length, -1), weights)
    if average:
        weights = positive_map(lambda a: a.mean(1), weights)
    return out, weights


def _merged_mask(mha, batch, length, source, attn_mask=None, key_padding_mask=None):
    """PyTorch's merged additive mask (N * num_heads, L or 1, S) in numpy, or None."""
    heads = mha.num_heads
    extra = int("bias_k" in dict(mha.named_parameters())) + int(mha.add_zero_attn)
    am = _additive(attn_mask, masked_when=True)
    kpm = _additive(key_padding_mask, masked_when=True)
    if am is not None:
        am = am[None] if am.ndim == 2 else am
        am = np.concatenate([am, np.zeros(am.shape[:-1] + (extra,))], -1)
    if kpm is not None:
        kpm = np.concatenate([kpm, np.zeros((batch, extra))], -1)
        kpm = np.repeat(kpm, heads, axis=0)[:, None, :]
    if am is None:
        return kpm
    return am if kpm is None else am + kpm


def _time_major(a, mha, batched):
    if not batched:
        return a[:, None]
    return a.transpose(1, 0, 2) if mha.batch_first else a


def _check_mha(mha, tmha, q, k, v, kind="self", need_weights=True, average=True, is_causal=False, **masks):
    """MultiheadAttention against torch: ``kind`` "self" (one tensor q = k = v), "kv" (key is value) or "cross"
    (three tensors); outputs, attention weights and every gradient."""
    arrays = {"self": [q], "kv": [q, k], "cross": [q, k, v]}[kind]
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]

    def qkv(seq):
        if kind == "self":
            return (seq[0],) * 3
        return (seq[0], seq[1], seq[1]) if kind == "kv" else tuple(seq)

    cmask = {n: (cr.tensor(m) if m.dtype != bool else m) for n, m in masks.items()}
    tmask = {n: torch.tensor(m) for n, m in masks.items()}
    out, w = mha(*qkv(xs), need_weights=need_weights, average_attn_weights=average, is_causal=is_causal, **cmask)
    tout, tw = tmha(*qkv(ts), need_weights=need_weights, average_attn_weights=average, is_causal=is_causal,
                    **tmask)
    batched = q.ndim == 3
    leaves = [leaf(_time_major(a, mha, batched)) for a in arrays]
    p = {n: leaf(t.numpy()) for n, t in mha.named_parameters()}
    mq, mk, mv = qkv(leaves)
    length, batch = mq.x0.shape[:2]
    kpm = masks.get("key_padding_mask")
    kpm = kpm if kpm is None or batched else kpm[None]
    mask = _merged_mask(mha, batch, length, mk.x0.shape[0], masks.get("attn_mask"), kpm)
    if is_causal and kpm is None and not need_weights:
        # PyTorch then drops attn_mask for scaled_dot_product_attention's own causal mask, which also hides the
        # keys that add_bias_kv and add_zero_attn append after the sequence
        source = mask.shape[-1]
        mask = _additive(np.tril(np.ones((length, source), bool)), masked_when=False)
    mo, mw = _mha_mag(mha, p, mq, mk, mv, mask, average)

    def back(a):  # a time-major batched magnitude in the module's layout
        if not batched:
            return a[:, 0]
        return a.transpose(1, 0, 2) if mha.batch_first else a

    T.assert_close(out.numpy(), tout, back(mo.m.numpy()), "output")
    outs, touts, mags = [out], [tout], [mo]
    if need_weights:
        T.assert_close(w.numpy(), tw, mw.m.numpy() if batched else mw.m.numpy()[0], "attention weights")
        outs, touts, mags = [out, w], [tout, tw], [mo, mw]
    else:
        assert w is None and tw is None
    rng = _rng(21)
    gs = [_normal(rng, *o.shape) for o in outs]
    names = [n for n, _ in mha.named_parameters()]
    grads = cr.autograd.grad(outs, xs + [t for _, t in mha.named_parameters()], gs)
    tp = dict(tmha.named_parameters())
    tgrads = torch.autograd.grad(touts, ts + [tp[n] for n in names], [torch.tensor(g) for g in gs])
    ups = [_time_major(gs[0], mha, batched)] + ([gs[1] if batched else gs[1][None]] if need_weights else [])
    gmags = grad_magnitudes(mags, leaves + [p[n] for n in names], ups)
    for i, (a, b, mg) in enumerate(zip(grads, tgrads, gmags)):
        what = f"input {i}" if i < len(xs) else names[i - len(xs)]
        T.assert_close(a.numpy(), b, back(mg) if i < len(xs) else mg, f"gradient of {what}")


MHA_CONFIGS = {
    "default": {},
    "batch_first": {"batch_first": True},
    "no_bias": {"bias": False},
    "kdim_vdim": {"kdim": 3, "vdim": 5},
    "bias_kv_zero_attn": {"add_bias_kv": True, "add_zero_attn": True},
}


def _build_mha(config, embed_dim=4, heads=2, seed=0):
    cr.manual_seed(seed)
    kwargs = MHA_CONFIGS[config]
    mha = nn.MultiheadAttention(embed_dim, heads, **kwargs)
    return mha, _torch_copy(mha, torch.nn.MultiheadAttention(embed_dim, heads, **kwargs))


def _mha_inputs(mha, rng, length=3, source=4, batch=2, batched=True):
    def shape(n, e):
        if not batched:
            return (n, e)
        return (batch, n, e) if mha.batch_first else (n, batch, e)

    return (_normal(rng, *shape(length, mha.embed_dim)), _normal(rng, *shape(source, mha.kdim)),
            _normal(rng, *shape(source, mha.vdim)))


@pytest.mark.parametrize("config", sorted(MHA_CONFIGS))
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_parity_with_torch(config, need_weights):
    mha, tmha = _build_mha(config)
    rng = _rng(22)
    q, k, v = _mha_inputs(mha, rng)
    if mha._qkv_same_embed_dim:
        _check_mha(mha, tmha, q, q, q, "self", need_weights)
        _check_mha(mha, tmha, q, k, k, "kv", need_weights)
    _check_mha(mha, tmha, q, k, v, "cross", need_weights)


def test_mha_per_head_weights_and_unbatched_input():
    mha, tmha = _build_mha("default")
    rng = _rng(23)
    q, k, v = _mha_inputs(mha, rng)
    _check_mha(mha, tmha, q, k, v, "cross", average=False)
    q1, k1, v1 = _mha_inputs(mha, rng, batched=False)
    _check_mha(mha, tmha, q1, k1, v1, "cross")
    _check_mha(mha, tmha, q1, q1, q1, "self", need_weights=False,
               key_padding_mask=np.array([False, False, True]))


MASKS = ["bool_attn", "float_attn_3d", "bool_padding", "float_padding", "both", "causal"]


def _masks(which, mha, rng, length=3, source=4, batch=2):
    if which == "bool_attn":
        m = rng.random((length, source)) > 0.6
        m[:, 0] = False
        return {"attn_mask": m}
    if which == "float_attn_3d":
        m = _normal(rng, batch * mha.num_heads, length, source)
        m[0, 0, 1] = -np.inf
        return {"attn_mask": m}
    padding = np.zeros((batch, source), bool)
    padding[0, -1] = padding[1, -2:] = True
    if which == "bool_padding":
        return {"key_padding_mask": padding}
    if which == "float_padding":
        return {"key_padding_mask": np.where(padding, -np.inf, _normal(rng, batch, source)).astype(np.float32)}
    if which == "both":
        return {"key_padding_mask": padding, "attn_mask": np.triu(np.ones((length, source), bool), 2)}
    return {"attn_mask": np.triu(np.ones((length, source), bool), 1), "is_causal": True}


@pytest.mark.parametrize("which", MASKS)
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("config", ["default", "batch_first", "bias_kv_zero_attn"])
def test_mha_masks_as_torch(which, need_weights, config):
    mha, tmha = _build_mha(config)
    rng = _rng(24)
    q, k, v = _mha_inputs(mha, rng, length=3, source=4)
    masks = _masks(which, mha, rng)
    causal = masks.pop("is_causal", False)
    if causal:  # the hint needs a square causal mask: self-attention
        q = _mha_inputs(mha, rng, length=4)[1]
        masks["attn_mask"] = np.triu(np.ones((4, 4), bool), 1)
        _check_mha(mha, tmha, q, q, q, "self", need_weights, is_causal=True, **masks)
        return
    _check_mha(mha, tmha, q, k, v, "cross", need_weights, **masks)


def test_mha_fully_masked_query_gives_nan_with_weights_and_zero_without_as_torch():
    mha, tmha = _build_mha("default")
    rng = _rng(25)
    q, k, v = _mha_inputs(mha, rng)
    padding = np.zeros((2, 4), bool)
    padding[0] = True
    with np.errstate(invalid="ignore"):  # softmax of a row of -inf: NaN, as torch
        ours = mha(cr.tensor(q), cr.tensor(k), cr.tensor(v), key_padding_mask=padding)[0].numpy()
    theirs = tmha(torch.tensor(q), torch.tensor(k), torch.tensor(v), key_padding_mask=torch.tensor(padding))[0]
    assert np.isnan(ours[:, 0]).all() and torch.isnan(theirs[:, 0]).all()
    _check_mha(mha, tmha, q, k, v, "cross", need_weights=False, key_padding_mask=padding)


def test_mha_parameters_and_initialisation_as_torch():
    for config in MHA_CONFIGS:
        mha, tmha = _build_mha(config, embed_dim=8, heads=4)
        assert [(k, v.shape) for k, v in mha.state_dict().items()] == [
            (k, tuple(v.shape)) for k, v in tmha.state_dict().items()]
    cr.manual_seed(0)
    e = 64
    mha = nn.MultiheadAttention(e, 4, add_bias_kv=True)
    w = mha.in_proj_weight.numpy()
    bound = np.sqrt(6 / (e + 3 * e))  # xavier_uniform on (3E, E)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 5 * bound / np.sqrt(w.size)
    np.testing.assert_array_equal(mha.in_proj_bias.numpy(), 0)
    np.testing.assert_array_equal(mha.out_proj.bias.numpy(), 0)
    out_bound = 1 / np.sqrt(e)  # out_proj keeps Linear's kaiming_uniform(a=sqrt(5))
    assert np.abs(mha.out_proj.weight.numpy()).max() <= out_bound
    bk = np.concatenate([mha.bias_k.numpy().ravel(), mha.bias_v.numpy().ravel()])
    std = np.sqrt(2 / (e + e))  # xavier_normal on (1, 1, E)
    assert abs(bk.std() - std) < 5 * std / np.sqrt(bk.size)
    separate = nn.MultiheadAttention(e, 4, kdim=16, vdim=32, bias=False)
    assert separate.in_proj_weight is None and separate.in_proj_bias is None
    assert separate.k_proj_weight.shape == (e, 16) and separate.v_proj_weight.shape == (e, 32)
    assert separate.out_proj.bias is None


def test_mha_dropout_drops_attention_weights_while_training():
    mha = nn.MultiheadAttention(4, 2, dropout=0.5)
    rng = _rng(26)
    x = cr.tensor(_normal(rng, 6, 50, 4))
    mha.eval()
    _, plain = mha(x, x, x, average_attn_weights=False)
    mha.train()
    cr.manual_seed(1)
    _, dropped = mha(x, x, x, average_attn_weights=False)
    d, p = dropped.numpy(), plain.numpy()
    kept = d != 0
    np.testing.assert_allclose(d[kept], 2 * p[kept], rtol=1e-6)
    assert abs((~kept).mean() - 0.5) < 5 * np.sqrt(0.25 / kept.size)
    mha.dropout = 1.0  # everything dropped: the output is out_proj's bias, as torch
    out, _ = mha(x, x, x)
    np.testing.assert_array_equal(out.numpy(), np.broadcast_to(mha.out_proj.bias.numpy(), out.shape))


def test_mha_errors():
    with pytest.raises(ArgumentError, match="divisible"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ArgumentError, match="embed_dim"):
        nn.MultiheadAttention(0, 1)
    mha = nn.MultiheadAttention(4, 2)
    x = cr.zeros(3, 2, 4)
    with pytest.raises(ArgumentError, match="is_causal"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(DTypeError, match="bool or floating"):
        mha(x, x, x, key_padding_mask=np.zeros((2, 3), np.int64))
    with pytest.raises(ShapeError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=np.zeros((2, 4), bool))
    with pytest.raises(ShapeError, match="attn_mask"):
        mha(x, x, x, attn_mask=np.zeros((3, 4), bool))
    with pytest.raises(ShapeError, match="2-D"):
        mha(x, x, x, key_padding_mask=np.zeros(3, bool))
    with pytest.raises(ShapeError, match="dimensions"):
        mha(x, cr.zeros(3, 4), cr.zeros(3, 4))
    with pytest.raises(ShapeError, match="kdim"):
        mha(x, cr.zeros(3, 2, 5), cr.zeros(3, 2, 5))


def test_gradcheck_mha_float64():
    cr.manual_seed(0)
    rng = _rng(27)
    padding = np.array([[False, False, True], [False, False, False]])
    for kwargs in ({}, {"kdim": 3, "vdim": 2, "add_bias_kv": True, "add_zero_attn": True}):
        mha = nn.MultiheadAttention(4, 2, **kwargs)
        q = cr.tensor(rng.standard_normal((2, 2, 4)), dtype=cr.float64, requires_grad=True)
        k = cr.tensor(rng.standard_normal((3, 2, mha.kdim)), dtype=cr.float64, requires_grad=True)
        v = cr.tensor(rng.standard_normal((3, 2, mha.vdim)), dtype=cr.float64, requires_grad=True)

        def call(m, a, b, c):
            return m(a, b, c, key_padding_mask=padding)

        assert gradcheck_module(mha, (q, k, v), call)


# ---- TransformerEncoderLayer and TransformerEncoder ------------------------------------------------------------------


LAYER_CONFIGS = {
    "post_norm_relu": {},
    "pre_norm_gelu_batch_first": {"norm_first": True, "activation": "gelu", "batch_first": True},
    "no_bias": {"bias": False, "layer_norm_eps": 1e-3},
}


D = 8  # d_model of the parity tests: rows of 8 features have a variance that layer normalisation handles well


def _build_layer(config, seed=0, d_model=D, nhead=2, ff=8):
    cr.manual_seed(seed)
    kwargs = dict(dim_feedforward=ff, dropout=0.0, **LAYER_CONFIGS[config])
    layer = nn.TransformerEncoderLayer(d_model, nhead, **kwargs)
    return layer, _torch_copy(layer, torch.nn.TransformerEncoderLayer(d_model, nhead, **kwargs))


def _layer_mag(layer, p, x, mask):
    """The magnitude model of TransformerEncoderLayer.forward on a time-major batched Mag ``x``."""
    attn = _sub(p, "self_attn.")
    act = relu if layer.activation_relu_or_gelu == 1 else gelu

    def sa(y):
        return _mha_mag(layer.self_attn, attn, y, y, y, mask)[0]

    def ff(y):
        return linear(act(linear(y, p["linear1.weight"], p.get("linear1.bias"))), p["linear2.weight"],
                      p.get("linear2.bias"))

    def norm(k, y):
        return layer_norm(y, p.get(f"norm{k}.weight"), p.get(f"norm{k}.bias"), getattr(layer, f"norm{k}").eps)

    if layer.norm_first:
        x = add(x, sa(norm(1, x)))
        return add(x, ff(norm(2, x)))
    x = norm(1, add(x, sa(x)))
    return norm(2, add(x, ff(x)))


def _check_encoder(model, tmodel, layers, x, final_norm=None, call=None, gradients=True, **masks):
    """A layer or an encoder (``layers``: its layers and their parameter prefixes) against torch: output and
    (with ``gradients``) every gradient. ``call(module, x, masks)`` runs it (masks under the module's names)."""
    attn0 = layers[0][0].self_attn
    batched = x.ndim == 3
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    cmask = {n: (cr.tensor(m) if m.dtype != bool else m) for n, m in masks.items()}
    tmask = {n: torch.tensor(m) for n, m in masks.items()}
    out, tout = call(model, xc, cmask), call(tmodel, xt, tmask)
    xm = leaf(_time_major(x, attn0, batched))
    p = {n: leaf(t.numpy()) for n, t in model.named_parameters()}
    length, batch = xm.x0.shape[:2]
    am = next((m for n, m in masks.items() if "padding" not in n), None)
    kpm = next((m for n, m in masks.items() if "padding" in n), None)
    if kpm is not None and not batched:
        kpm = kpm[None]
    mask = _merged_mask(attn0, batch, length, length, am, kpm)
    y = xm
    for layer, pre in layers:
        y = _layer_mag(layer, _sub(p, pre), y, mask)
    if final_norm is not None:
        y = layer_norm(y, p.get("norm.weight"), p.get("norm.bias"), final_norm.eps)

    def back(a):
        if not batched:
            return a[:, 0]
        return a.transpose(1, 0, 2) if attn0.batch_first else a

    T.assert_close(out.numpy(), tout, back(y.m.numpy()), "output")
    if not gradients:
        return
    g = _normal(_rng(31), *out.shape)
    names = [n for n, _ in model.named_parameters()]
    grads = cr.autograd.grad(out, [xc] + [t for _, t in model.named_parameters()], g)
    tp = dict(tmodel.named_parameters())
    tgrads = torch.autograd.grad(tout, [xt] + [tp[n] for n in names], torch.tensor(g))
    gmags = grad_magnitudes([y], [xm] + [p[n] for n in names], [_time_major(g, attn0, batched)])
    for i, (a, b, mg) in enumerate(zip(grads, tgrads, gmags)):
        T.assert_close(a.numpy(), b, back(mg) if i == 0 else mg, f"gradient of {'src' if i == 0 else names[i - 1]}")


def _run_layer(m, x, masks):
    return m(x, **masks)


@pytest.mark.filterwarnings("ignore:Support for mismatched")  # torch, for a float mask with a bool padding mask
@pytest.mark.parametrize("config", sorted(LAYER_CONFIGS))
@pytest.mark.parametrize("masking", ["none", "bool_mask", "float_mask_and_padding", "causal"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_encoder_layer_parity_with_torch(config, masking, mode):
    layer, tlayer = _build_layer(config)
    getattr(layer, mode)()
    getattr(tlayer, mode)()
    rng = _rng(32)
    length, batch = 3, 2
    x = _normal(rng, *((batch, length, D) if layer.self_attn.batch_first else (length, batch, D)))
    masks = {}
    if masking == "bool_mask":
        masks["src_mask"] = rng.random((length, length)) > 0.7
        np.fill_diagonal(masks["src_mask"], False)
    elif masking == "float_mask_and_padding":
        masks["src_mask"] = _normal(rng, length, length)
        masks["src_key_padding_mask"] = np.array([[False, False, True], [False, False, False]])
    elif masking == "causal":
        masks["src_mask"] = np.triu(np.ones((length, length), bool), 1)

    def call(m, x, ms):
        return m(x, is_causal=masking == "causal", **ms)

    _check_encoder(layer, tlayer, [(layer, "")], x, call=call, **masks)


def test_encoder_layer_unbatched_input_as_torch():
    layer, tlayer = _build_layer("post_norm_relu")
    x = _normal(_rng(33), 3, D)
    _check_encoder(layer, tlayer, [(layer, "")], x, call=_run_layer,
                   src_key_padding_mask=np.array([False, True, False]))


def test_encoder_layer_structure_as_torch():
    layer, tlayer = _build_layer("post_norm_relu")
    assert [(k, v.shape) for k, v in layer.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in tlayer.state_dict().items()]
    assert [n for n, _ in layer.named_modules()] == [n for n, _ in tlayer.named_modules()]
    default = nn.TransformerEncoderLayer(8, 2)
    assert default.linear1.out_features == 2048 and default.dropout.p == 0.1 and default.norm1.eps == 1e-5
    assert default.activation is F.relu and not default.norm_first and not default.self_attn.batch_first
    custom = nn.TransformerEncoderLayer(8, 2, activation=nn.GELU())
    assert custom.activation_relu_or_gelu == 2 and "activation" in dict(custom.named_children())
    with pytest.raises(ArgumentError, match="activation"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_encoder_layer_with_a_custom_activation_runs_but_has_no_config():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, activation=F.silu)
    assert layer(cr.zeros(3, 2, 4)).shape == (3, 2, 4)
    with pytest.raises(NotImplementedError, match="custom activation"):
        layer.get_config()


def _build_encoder(config, num_layers=2, with_norm=True):
    layer, tlayer = _build_layer(config)
    norm = nn.LayerNorm(D) if with_norm else None
    if norm is not None:
        norm.load_state_dict({"weight": np.linspace(0.5, 1.5, D), "bias": np.linspace(-0.2, 0.2, D)})
    enc = nn.TransformerEncoder(layer, num_layers, norm=norm)
    tenc = torch.nn.TransformerEncoder(tlayer, num_layers, norm=None if norm is None else torch.nn.LayerNorm(D),
                                       enable_nested_tensor=False)
    return enc, _torch_copy(enc, tenc)


def _encoder_case(enc, masking, rng):
    batch_first = enc.layers[0].self_attn.batch_first
    x = _normal(rng, *((2, 3, D) if batch_first else (3, 2, D)))
    masks = {}
    if masking == "causal_detected":
        masks["mask"] = np.triu(np.full((3, 3), -np.inf, np.float32), 1)
    elif masking == "padding":
        masks["src_key_padding_mask"] = np.array([[False, True, False], [False, False, False]])
    return x, masks


@pytest.mark.parametrize("config", sorted(LAYER_CONFIGS))
@pytest.mark.parametrize("masking", ["none", "causal_detected", "padding"])
def test_encoder_parity_with_torch(config, masking):
    """One layer and the final norm: output and every gradient (deeper stacks: the next test)."""
    enc, tenc = _build_encoder(config, num_layers=1)
    x, masks = _encoder_case(enc, masking, _rng(34))
    _check_encoder(enc, tenc, [(enc.layers[0], "layers.0.")], x, final_norm=enc.norm, call=_run_layer, **masks)


@pytest.mark.parametrize("masking", ["none", "causal_detected", "padding"])
def test_deeper_encoder_is_its_layers_in_turn(masking):
    """Two layers are the first layer's output through the second, then the norm, exactly; and match torch's
    forward. Their gradients are the layers' (checked above): a worst-case bound through two attention blocks
    and five normalisations grows too wide to say more than gradcheck does below."""
    enc, tenc = _build_encoder("post_norm_relu", num_layers=2)
    x, masks = _encoder_case(enc, masking, _rng(39))
    layers = [(layer, f"layers.{i}.") for i, layer in enumerate(enc.layers)]
    _check_encoder(enc, tenc, layers, x, final_norm=enc.norm, call=_run_layer, gradients=False, **masks)
    xc = cr.tensor(x)
    by_hand = xc
    src_mask = masks.get("mask")
    causal = src_mask is not None
    for layer in enc.layers:
        by_hand = layer(by_hand, src_mask=src_mask, is_causal=causal,
                        src_key_padding_mask=masks.get("src_key_padding_mask"))
    np.testing.assert_array_equal(enc(xc, **masks).numpy(), enc.norm(by_hand).numpy())


def test_encoder_copies_the_layer_as_torch():
    enc, tenc = _build_encoder("post_norm_relu", num_layers=3)
    assert [(k, v.shape) for k, v in enc.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in tenc.state_dict().items()]
    first, second = enc.layers[0], enc.layers[1]
    assert first is not second and first.self_attn.in_proj_weight is not second.self_attn.in_proj_weight
    np.testing.assert_array_equal(first.linear1.weight.numpy(), second.linear1.weight.numpy())  # equal at start
    with cr.no_grad():
        first.linear1.weight[...] = 0
    assert np.abs(second.linear1.weight.numpy()).max() > 0  # but independent
    assert [id(p) for p in enc.parameters()] == list(dict.fromkeys(id(p) for p in enc.parameters()))


def test_encoder_detects_a_causal_mask_as_torch():
    enc, _ = _build_encoder("post_norm_relu")
    x = cr.tensor(_normal(_rng(35), 3, 2, D))
    causal = np.triu(np.full((3, 3), -np.inf, np.float32), 1)
    seen = []
    for layer in enc.layers:
        forward = layer.forward
        layer.forward = (lambda f: lambda *a, **k: (seen.append(k["is_causal"]), f(*a, **k))[1])(forward)
    enc(x, mask=causal)
    enc(x, mask=np.zeros((3, 3), np.float32))
    enc(x, mask=np.triu(np.ones((3, 3), bool), 1))  # a bool causal mask is one too, once made additive
    assert seen == [True, True, False, False, True, True]


def test_encoder_config_carries_the_layer_and_the_norm(tmp_path):
    enc, _ = _build_encoder("pre_norm_gelu_batch_first")
    config = enc.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config["encoder_layer"] == {"class": "transformer_encoder_layer",
                                       "config": enc.layers[0].get_config()}
    assert config["norm"]["class"] == "layer_norm" and config["num_layers"] == 2
    rebuilt = nn.TransformerEncoder.from_config(config)
    assert rebuilt.get_config() == config and isinstance(rebuilt.norm, nn.LayerNorm)
    rebuilt.load_state_dict(enc.state_dict())
    x = cr.tensor(_normal(_rng(36), 2, 3, D))
    with cr.no_grad():
        np.testing.assert_array_equal(rebuilt.eval()(x).numpy(), enc.eval()(x).numpy())
    cr.save(enc, tmp_path / "enc.crm")
    loaded = cr.load(tmp_path / "enc.crm")
    with cr.no_grad():
        np.testing.assert_array_equal(loaded(x).numpy(), enc(x).numpy())
    with pytest.raises(ArgumentError, match="encoder_layer"):
        nn.TransformerEncoder.from_config({**config, "encoder_layer": "transformer_encoder_layer"})


def test_loaded_encoder_layer_is_in_eval_mode_throughout(tmp_path):
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.5).eval()
    cr.save(layer, tmp_path / "layer.crm")
    loaded = cr.load(tmp_path / "layer.crm")
    assert not any(m.training for m in loaded.modules())


def test_mha_model_file_round_trip(tmp_path):
    cr.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, kdim=3, vdim=5, add_bias_kv=True, batch_first=True).eval()
    config = mha.get_config()
    assert json.loads(json.dumps(config)) == config
    rebuilt = nn.MultiheadAttention.from_config(config)
    assert rebuilt.get_config() == config
    cr.save(mha, tmp_path / "mha.crm")
    loaded = cr.load(tmp_path / "mha.crm")
    assert repr(loaded) == repr(mha)
    rng = _rng(37)
    q, k, v = (cr.tensor(a) for a in _mha_inputs(mha, rng))
    with cr.no_grad():
        for a, b in zip(loaded(q, k, v), mha(q, k, v)):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_gradcheck_encoder_float64():
    cr.manual_seed(0)
    rng = _rng(38)
    for kwargs in ({}, {"norm_first": True, "activation": "gelu", "batch_first": True}):
        layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=3, dropout=0.0, **kwargs)
        enc = nn.TransformerEncoder(copy.deepcopy(layer), 2, norm=nn.LayerNorm(4))
        x = cr.tensor(rng.standard_normal((2, 3, 4)), dtype=cr.float64, requires_grad=True)
        padding = np.zeros((2, 3) if layer.self_attn.batch_first else (3, 2), bool)  # (N, S)
        padding[0, -1] = True
        def call(m, a, padding=padding):
            return m(a, src_key_padding_mask=padding)

        assert gradcheck_module(layer, (x,), call)
        assert gradcheck_module(enc, (x,), call)


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
@pytest.mark.parametrize("with_norm", [False, True])
def test_encoder_inference_zeroes_padded_positions_as_torch_s_nested_path(with_norm):
    """PyTorch's inference path (eval, no gradient, batch_first, padding at the end of each sequence) returns 0
    at padded positions, before the final norm; elsewhere, or with gradients, every position is computed."""
    cr.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D, 2, dim_feedforward=8, batch_first=True)
    norm = nn.LayerNorm(D) if with_norm else None
    enc = nn.TransformerEncoder(layer, 2, norm=norm).eval()
    tenc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(D, 2, dim_feedforward=8, batch_first=True),
                                       2, norm=torch.nn.LayerNorm(D) if with_norm else None).eval()
    _torch_copy(enc, tenc)
    x = _normal(_rng(40), 2, 5, D)
    padding = np.zeros((2, 5), bool)
    padding[0, 3:] = True
    with cr.no_grad(), torch.no_grad():
        fast = enc(cr.tensor(x), src_key_padding_mask=padding).numpy()
        tfast = tenc(torch.tensor(x), src_key_padding_mask=torch.tensor(padding)).numpy()
        shuffled = padding[:, ::-1].copy()  # padding first: no nested path in either library
        slow_shuffled = enc(cr.tensor(x), src_key_padding_mask=shuffled).numpy()
        tslow_shuffled = tenc(torch.tensor(x), src_key_padding_mask=torch.tensor(shuffled)).numpy()
    full = enc(cr.tensor(x), src_key_padding_mask=padding).numpy()  # gradients wanted: every position
    np.testing.assert_array_equal(fast[padding], tfast[padding])  # 0, or the norm's bias (the norm of 0)
    np.testing.assert_array_equal(fast[~padding], full[~padding])
    assert np.abs(full[padding] - fast[padding]).min() > 0
    assert np.abs(slow_shuffled[shuffled]).min() > 0 and np.abs(tslow_shuffled[shuffled]).min() > 0
