"""Property tests (hypothesis): broadcasting binary ops and repeated-index gathers against PyTorch.

For random broadcast-compatible shapes, the gradient of every input of every binary op has that
input's shape and equals PyTorch's; gathering with repeated integer indices accumulates the
gradient (as ``np.add.at`` and PyTorch do).
"""


import numpy as np
import pytest
import tolerance as T
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import chainrule as cr

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


def _values(rng, shape, kind, dtype):
    """Random inputs; ``pos`` keeps them in [0.5, 2], ``nonzero`` away from zero, ``ties`` on a small grid."""
    if kind == "pos":
        v = rng.uniform(0.5, 2.0, size=shape)
    elif kind == "nonzero":
        v = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    elif kind == "ties":
        v = rng.integers(-2, 3, size=shape).astype(np.float64)
    else:
        v = rng.normal(size=shape)
    return np.asarray(v, dtype=dtype)


# name: (chainrule op, torch op, kind of the first input, kind of the second input)
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, "any", "any"),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, "any", "any"),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, "any", "any"),
    "div": (lambda a, b: a / b, lambda a, b: a / b, "any", "nonzero"),
    "pow": (lambda a, b: a**b, lambda a, b: a**b, "pos", "any"),
    "maximum": (cr.maximum, torch.maximum, "any", "any"),
    "minimum": (cr.minimum, torch.minimum, "any", "any"),
    "maximum-ties": (cr.maximum, torch.maximum, "ties", "ties"),
    "minimum-ties": (cr.minimum, torch.minimum, "ties", "ties"),
}

shape_pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=1, max_side=4)
shape_triples = mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, min_side=1, max_side=4)
seeds = st.integers(0, 2**32 - 1)
dtypes = st.sampled_from([np.float32, np.float64])
which = st.sampled_from(["both", "first", "second"])


def _check_grads(cr_inputs, torch_inputs, magnitudes):
    """Each gradient within C * eps of its magnitude (``tests/tolerance.py``): a broadcast input's gradient sums
    the output's elements that it reached."""
    for i, (c, t, m) in enumerate(zip(cr_inputs, torch_inputs, magnitudes)):
        if not t.requires_grad:
            assert c.grad is None
            continue
        assert c.grad is not None
        assert c.grad.shape == c.shape, (c.grad.shape, c.shape)
        assert c.grad.dtype == c.dtype
        T.assert_close(c.grad.numpy(), t.grad, m, f"gradient of input {i}")


@pytest.mark.parametrize("name", list(BINARY))
@SETTINGS
@given(shapes=shape_pairs, seed=seeds, dtype=dtypes, needs=which)
def test_binary_op_gradients_match_torch(name, shapes, seed, dtype, needs):
    cr_op, torch_op, kind_a, kind_b = BINARY[name]
    (sa, sb), out_shape = shapes
    rng = np.random.default_rng(seed)
    a = _values(rng, sa, kind_a, dtype)
    b = _values(rng, sb, kind_b, dtype)
    w = rng.normal(size=out_shape).astype(dtype)
    ga, gb = needs in ("both", "first"), needs in ("both", "second")

    ca = cr.tensor(a, dtype=dtype, requires_grad=ga)
    cb = cr.tensor(b, dtype=dtype, requires_grad=gb)
    out = cr_op(ca, cb)
    assert out.shape == tuple(out_shape)
    assert out.dtype == dtype

    ta = torch.tensor(a, requires_grad=ga)
    tb = torch.tensor(b, requires_grad=gb)
    tout = torch_op(ta, tb)
    (mag,), grad_mags = T.elementwise(torch_op, [a, b], [w])
    T.assert_close(out.numpy(), tout, mag, "forward")

    out.backward(gradient=w)
    tout.backward(torch.from_numpy(w))
    _check_grads([ca, cb], [ta, tb], grad_mags)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
@SETTINGS
@given(shapes=shape_pairs, seed=seeds)
def test_binary_op_with_numpy_constant(name, shapes, seed):
    """A NumPy array operand is a constant: only the tensor gets a gradient, in its own shape."""
    cr_op, torch_op, kind_a, kind_b = BINARY[name]
    (sa, sb), out_shape = shapes
    rng = np.random.default_rng(seed)
    a = _values(rng, sa, kind_a, np.float64)
    b = _values(rng, sb, kind_b, np.float64)
    w = rng.normal(size=out_shape)
    ca = cr.tensor(a, dtype=cr.float64, requires_grad=True)
    cr_op(ca, b).backward(gradient=w)
    ta = torch.tensor(a, requires_grad=True)
    torch_op(ta, torch.from_numpy(b)).backward(torch.from_numpy(w))
    assert ca.grad.shape == ca.shape
    _, (grad_mag, _) = T.elementwise(torch_op, [a, b], [w])
    T.assert_close(ca.grad.numpy(), ta.grad, grad_mag, "gradient")


@SETTINGS
@given(shapes=shape_triples, seed=seeds, dtype=dtypes, needs=which)
def test_where_gradients_match_torch(shapes, seed, dtype, needs):
    (sc, sa, sb), out_shape = shapes
    rng = np.random.default_rng(seed)
    cond = rng.random(size=sc) < 0.5
    a = _values(rng, sa, "any", dtype)
    b = _values(rng, sb, "any", dtype)
    w = rng.normal(size=out_shape).astype(dtype)
    ga, gb = needs in ("both", "first"), needs in ("both", "second")

    ca = cr.tensor(a, dtype=dtype, requires_grad=ga)
    cb = cr.tensor(b, dtype=dtype, requires_grad=gb)
    out = cr.where(cr.tensor(cond), ca, cb)
    assert out.shape == tuple(out_shape)

    ta = torch.tensor(a, requires_grad=ga)
    tb = torch.tensor(b, requires_grad=gb)
    tout = torch.where(torch.from_numpy(np.asarray(cond)), ta, tb)
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())  # a selection: exact

    out.backward(gradient=w)
    tout.backward(torch.from_numpy(w))
    _, grad_mags = T.linear(lambda a, b: torch.where(torch.from_numpy(np.asarray(cond)), a, b), [a, b], [w])
    _check_grads([ca, cb], [ta, tb], grad_mags)


# ---- gathers with repeated indices ---------------------------------------------------------------------


@st.composite
def gather_cases(draw):
    """An input shape and an advanced index into it whose integers may repeat (and be negative)."""
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    idx_shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    style = draw(st.sampled_from(["first", "last", "pair"] if ndim >= 2 else ["first"]))
    seed = draw(seeds)
    rng = np.random.default_rng(seed)

    def ints(n):
        return rng.integers(-n, n, size=idx_shape)

    if style == "first":
        index = ints(shape[0])
    elif style == "last":
        index = (slice(None),) * (ndim - 1) + (ints(shape[-1]),)
    else:
        index = (ints(shape[0]), ints(shape[1]))
    return shape, index, seed


def _torch_index(index):
    if isinstance(index, tuple):
        return tuple(torch.from_numpy(i) if isinstance(i, np.ndarray) else i for i in index)
    return torch.from_numpy(index)


@SETTINGS
@given(case=gather_cases())
def test_repeated_indices_accumulate(case):
    shape, index, seed = case
    rng = np.random.default_rng(seed + 1)
    x = rng.normal(size=shape)

    cx = cr.tensor(x, dtype=cr.float64, requires_grad=True)
    out = cx[index]
    expected_out = x[index]
    assert out.shape == expected_out.shape
    np.testing.assert_array_equal(out.numpy(), expected_out)
    w = rng.normal(size=out.shape)
    out.backward(gradient=w)

    ref = np.zeros(shape)
    np.add.at(ref, index, w)
    assert cx.grad.shape == shape
    _, (grad_mag,) = T.linear(lambda t: t[_torch_index(index)], [x], [w])  # the sum of |w| over each repeat
    T.assert_close(cx.grad.numpy(), ref, grad_mag, "gradient against np.add.at")

    tx = torch.tensor(x, requires_grad=True)
    tx[_torch_index(index)].backward(torch.from_numpy(w))
    T.assert_close(cx.grad.numpy(), tx.grad, grad_mag, "gradient against torch")


@SETTINGS
@given(n=st.integers(1, 5), picks=st.lists(st.integers(0, 4), min_size=1, max_size=12))
def test_index_with_list_and_int_tensor_counts_each_pick(n, picks):
    picks = [p % n for p in picks]
    for index in (picks, cr.tensor(picks), np.array(picks)):
        x = cr.ones(n, requires_grad=True)
        x[index].sum().backward()
        counts = np.bincount(picks, minlength=n).astype(np.float32)
        np.testing.assert_array_equal(x.grad.numpy(), counts)


def test_repeated_index_example():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[[0, 0, 2, 0]]
    assert y.tolist() == [1.0, 1.0, 3.0, 1.0]
    y.backward(gradient=[1.0, 10.0, 100.0, 1000.0])
    np.testing.assert_array_equal(x.grad.numpy(), [1011.0, 0.0, 100.0])
