"""Every case of ``op_cases.py`` against torch, in float32: forward values, output shape and dtype, and the
gradient of every input for a random upstream gradient (so that every output element matters).

Values are compared within C * eps of the magnitude of what each element sums (``tests/tolerance.py``, by
the case's rule), so the table passes on any BLAS kernel, thread count and CPU."""

import warnings
import zlib

import numpy as np
import op_cases as C  # tests/ops is on sys.path: pytest puts a test file's folder there
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr

T = C.T  # tests/tolerance.py, imported by op_cases

NP_DTYPE = {torch.float32: np.float32, torch.float64: np.float64, torch.int64: np.int64, torch.bool: np.bool_}


def _as_list(out):
    return list(out) if isinstance(out, tuple | list) else [out]


def _upstream(case, outs):
    rng = np.random.default_rng(zlib.crc32(b"upstream:" + case.name.encode()))
    return [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]


@pytest.mark.parametrize("case", C.CASES, ids=lambda c: c.name)
def test_parity_with_torch(case):
    arrays = C.sample(case, np.float32)
    xs = [cr.tensor(a, requires_grad=case.differentiable) for a in arrays]
    ts = [torch.tensor(a, requires_grad=case.differentiable) for a in arrays]
    for x in xs:
        assert x.dtype == cr.float32

    outs = _as_list(case.fn(*xs))
    touts = _as_list(case.torch_fn(*ts))
    assert len(outs) == len(touts), f"{len(outs)} outputs, torch gives {len(touts)}"
    grads = _upstream(case, outs) if case.differentiable else None
    out_mags, grad_mags = case.magnitude(case.torch_fn, arrays, grads)
    for k, (o, t) in enumerate(zip(outs, touts)):
        assert isinstance(o, cr.Tensor)
        assert o.shape == tuple(t.shape), f"output {k}: shape {o.shape}, torch {tuple(t.shape)}"
        assert o.dtype == NP_DTYPE[t.dtype], f"output {k}: dtype {o.dtype}, torch {t.dtype}"
        T.assert_close(o.numpy(), t.detach().numpy(), out_mags[k], err_msg=f"forward, output {k}")
    if not case.differentiable:
        return

    for o, g in zip(outs, grads):
        assert o.requires_grad
        o.backward(g, retain_graph=True)
    torch.autograd.backward(touts, [torch.from_numpy(g) for g in grads])

    for i, (x, t) in enumerate(zip(xs, ts)):
        assert t.grad is not None, f"the reference gives input {i} no gradient: fix the case"
        assert x.grad is not None, f"input {i} received no gradient"
        assert isinstance(x.grad, cr.Tensor)
        assert x.grad.shape == x.shape, f"input {i}: gradient shape {x.grad.shape}, input {x.shape}"
        assert x.grad.dtype == cr.float32, f"input {i}: gradient dtype {x.grad.dtype}"
        T.assert_close(x.grad.numpy(), t.grad.numpy(), grad_mags[i], err_msg=f"gradient of input {i}")


# ---- large logits: no overflow warnings, no nan ------------------------------------------------------

LOGITS = [
    [-1000.0, 0.0, 1000.0, 3.0],
    [1000.0, 1000.0, -1000.0, 999.0],
    [-1000.0, -1000.0, -1000.0, -1000.0],
]

STABLE = [
    ("sigmoid", cr.sigmoid, torch.sigmoid, T.elementwise),
    ("softmax_last", lambda x: cr.softmax(x, axis=-1), lambda x: torch.softmax(x, -1),
     T.from_terms(T.softmax_terms, axis=-1)),
    ("softmax_first", lambda x: x.softmax(axis=0), lambda x: torch.softmax(x, 0),
     T.from_terms(T.softmax_terms, axis=0)),
    ("log_softmax_last", lambda x: cr.log_softmax(x), lambda x: torch.log_softmax(x, -1),
     T.from_terms(T.log_softmax_terms, axis=-1)),
    ("log_softmax_first", lambda x: x.log_softmax(0), lambda x: torch.log_softmax(x, 0),
     T.from_terms(T.log_softmax_terms, axis=0)),
    ("logsumexp_last", lambda x: cr.logsumexp(x, axis=-1), lambda x: torch.logsumexp(x, -1),
     T.from_terms(T.logsumexp_terms, axis=-1)),
    ("logsumexp_first_keep", lambda x: x.logsumexp(axis=0, keepdims=True),
     lambda x: torch.logsumexp(x, 0, keepdim=True), T.from_terms(T.logsumexp_terms, axis=0, keepdims=True)),
    ("logsumexp_all", cr.logsumexp, lambda x: torch.logsumexp(x, (0, 1)), T.from_terms(T.logsumexp_terms)),
    ("softplus", cr.softplus, TF.softplus, T.elementwise),
    ("softplus_beta", lambda x: cr.softplus(x, beta=0.5, threshold=50.0),
     lambda x: TF.softplus(x, beta=0.5, threshold=50.0), T.elementwise),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, fn, torch_fn, rule", STABLE, ids=[s[0] for s in STABLE])
def test_large_logits_are_stable(name, fn, torch_fn, rule, dtype):
    logits = np.array(LOGITS, dtype=dtype)
    x = cr.tensor(logits, dtype=dtype, requires_grad=True)
    t = torch.tensor(logits, requires_grad=True)
    # Every NumPy floating-point error and every warning is an error here, except underflow: e^-2000
    # rounding to 0 is the right answer, and NumPy itself ignores underflow by default.
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        out = fn(x)
        g = np.random.default_rng(3).standard_normal(out.shape).astype(dtype)
        out.backward(g)
    tout = torch_fn(t)
    tout.backward(torch.from_numpy(g))

    assert not np.isnan(out.numpy()).any()
    assert np.isfinite(x.grad.numpy()).all()
    assert x.grad.dtype == dtype
    # results of size ~1000 are only known to ~1000 eps in absolute terms: the rule's magnitudes say so
    (mag,), (grad_mag,) = rule(torch_fn, [logits], [g])
    T.assert_close(out.numpy(), tout, mag, "forward")
    T.assert_close(x.grad.numpy(), t.grad, grad_mag, "gradient")
