"""In-place operations and version counters, as PyTorch: allowed under no_grad, refused on a leaf that
requires grad while recording, recorded on other tensors; a backward through a value that changed in place
after it was saved is an error naming the op, never a wrong gradient."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.errors import ArgumentTypeError, BackwardError, DTypeError, ShapeError

INPLACE = [
    ("add_", lambda t, o: t.add_(o)),
    ("sub_", lambda t, o: t.sub_(o)),
    ("mul_", lambda t, o: t.mul_(o)),
    ("div_", lambda t, o: t.div_(o)),
    ("iadd", lambda t, o: t.__iadd__(o)),
    ("isub", lambda t, o: t.__isub__(o)),
    ("imul", lambda t, o: t.__imul__(o)),
    ("itruediv", lambda t, o: t.__itruediv__(o)),
    ("pow_", lambda t, o: t.pow_(2)),
    ("clamp_", lambda t, o: t.clamp_(-0.5, 0.5)),
    ("clip_", lambda t, o: t.clip_(min=0.0)),
    ("zero_", lambda t, o: t.zero_()),
    ("fill_", lambda t, o: t.fill_(3.0)),
    ("copy_", lambda t, o: t.copy_(o)),
    ("masked_fill_", lambda t, o: t.masked_fill_(o > 1.0, -1.0)),
    ("add_alpha", lambda t, o: t.add_(o, alpha=-0.5)),
]


@pytest.mark.parametrize("name,op", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_ops_change_the_tensor_itself_like_torch(name, op):
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    o = np.random.default_rng(1).uniform(0.5, 2.0, (3, 4)).astype(np.float32)
    x, t = cr.tensor(a), torch.tensor(a)
    memory = x.numpy()
    out = op(x, cr.tensor(o))
    op(t, torch.tensor(o))
    assert out is x and x.numpy() is memory  # the same tensor, the same memory
    np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-6, atol=1e-7)
    assert x._version == 1


def test_random_fills_are_in_place_and_seeded():
    x = cr.zeros(1000)
    cr.manual_seed(3)
    x.uniform_(-2, 2)
    assert x.numpy().min() >= -2 and x.numpy().max() < 2 and x._version == 1
    y = cr.zeros(1000)
    cr.manual_seed(3)
    y.uniform_(-2, 2)
    np.testing.assert_array_equal(x.numpy(), y.numpy())
    x.normal_(1.0, 0.5)
    assert abs(x.numpy().mean() - 1.0) < 0.1 and abs(x.numpy().std() - 0.5) < 0.1


def test_manual_sgd_under_no_grad_updates_the_parameters():
    """The tutorial's loop: `param -= lr * param.grad` under no_grad changes each parameter and keeps it a leaf
    (this silently did nothing before)."""
    model = cr.nn.Linear(3, 1)
    x = cr.randn(16, 3)
    y = x @ cr.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    losses = []
    for _ in range(20):
        loss = ((model(x) - y) ** 2).mean()
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with cr.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert losses[-1] < 0.2 * losses[0]
    assert all(p.is_leaf and p.requires_grad for p in model.parameters())


def test_a_rebinding_update_keeps_the_leaf():
    a = cr.randn(3, requires_grad=True)
    (a * a).sum().backward()
    before = a.numpy().copy()
    grad = a.grad.numpy().copy()
    with cr.no_grad():
        a -= 0.5 * a.grad
    assert a.requires_grad and a.is_leaf
    np.testing.assert_allclose(a.numpy(), before - 0.5 * grad)


def test_data_is_a_detached_tensor_sharing_memory():
    p = cr.nn.Parameter(cr.ones(2, 2))
    d = p.data
    assert isinstance(d, cr.Tensor) and not d.requires_grad and d.numpy() is p.numpy()
    p.grad = cr.full((2, 2), 2.0)
    p.data -= 0.25 * p.grad  # outside no_grad: .data is not recorded
    p.data.add_(-0.25 * p.grad)
    np.testing.assert_array_equal(p.numpy(), np.zeros((2, 2)))
    assert p.requires_grad and p.is_leaf and p._version == 0  # .data has a version counter of its own
    p.data = cr.full((3,), 5.0)  # rebinding .data, as PyTorch allows
    assert p.shape == (3,) and p.requires_grad


def test_a_leaf_that_requires_grad_refuses_in_place_ops_while_recording():
    w = cr.ones(3, requires_grad=True)
    for op in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.__iadd__(1)):
        with pytest.raises(BackwardError, match="leaf tensor that requires grad is used in an in-place operation"):
            op()
    tw = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        tw.add_(1)


def test_in_place_on_a_non_leaf_is_recorded_like_torch():
    a = np.random.default_rng(2).standard_normal(4).astype(np.float64)
    b = np.random.default_rng(3).standard_normal(4).astype(np.float64)

    def run(lib, x, w):
        y = x * 2
        y += w
        y.mul_(w)  # needs y as it was for w's gradient
        y[1] = 0.0
        y.masked_fill_(y > 10, 10.0)
        return (y * y).sum()

    x, w = cr.tensor(a, dtype=cr.double, requires_grad=True), cr.tensor(b, dtype=cr.double, requires_grad=True)
    tx, tw = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    run(cr, x, w).backward()
    run(torch, tx, tw).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


def test_backward_through_a_saved_value_changed_in_place_is_an_error_naming_the_op():
    x = cr.randn(3, requires_grad=True)
    y = x.exp()  # exp saves its output
    y.add_(1)
    assert y._version == 1
    with pytest.raises(BackwardError, match=r"exp: one of the values it saved .* modified by an in-place operation"):
        y.sum().backward()
    tx = torch.randn(3, requires_grad=True)
    ty = tx.exp()
    ty.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ty.sum().backward()


def test_an_input_changed_under_no_grad_after_it_was_saved_is_caught():
    x = cr.randn(3, requires_grad=True)
    w = cr.randn(3)  # needs no gradient, but mul saved it for x's
    y = (x * w).sum()
    with cr.no_grad():
        w.mul_(2)
    with pytest.raises(BackwardError, match=r"mul: .*modified by an in-place operation"):
        y.backward()


def test_a_change_through_a_view_is_caught():
    x = cr.randn(2, 3, requires_grad=True)
    w = cr.randn(2, 3)
    y = (x * w).sum()
    with cr.no_grad():
        w.reshape(6)[0] = 5.0  # writes w's memory through a view
    with pytest.raises(BackwardError, match="mul"):
        y.backward()


def test_a_change_nothing_saved_is_fine():
    x = cr.randn(3, requires_grad=True)
    y = x + 1  # add saves nothing
    with cr.no_grad():
        x.mul_(1.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3))


def test_in_place_errors_are_clear():
    x = cr.zeros(3)
    with pytest.raises(ShapeError, match=r"add_: the result has shape \(2, 3\).*\(3,\)"):
        x.add_(cr.zeros(2, 3))
    i = cr.tensor([1, 2])
    with pytest.raises(DTypeError, match="add_: the result has dtype float32.*int64"):
        i.add_(cr.tensor([0.5, 0.5]))
    e = cr.zeros(3).expand(2, 3)
    with pytest.raises(ArgumentTypeError, match="cannot be written in place"):
        e.add_(1)


def test_recorded_in_place_on_a_view_is_refused_rather_than_wrong():
    x = cr.randn(2, 3, requires_grad=True) * 1
    v = x[0]
    with pytest.raises(BackwardError, match="shares its memory with a view"):
        v.mul_(cr.ones(3, requires_grad=True))


def test_grad_assignment_is_checked_at_once():
    p = cr.zeros(2, 3, requires_grad=True)
    with pytest.raises(ArgumentTypeError, match=r"grad: assigned grad must be a Tensor of shape \(2, 3\) or None, got"):
        p.grad = 0
    with pytest.raises(ShapeError, match=r"assigned grad has shape \(3,\), but the tensor has shape \(2, 3\)"):
        p.grad = cr.zeros(3)
    with pytest.raises(DTypeError, match="float64"):
        p.grad = cr.zeros(2, 3, dtype=cr.double)
    p.grad = cr.ones(2, 3)
    (p * 2).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), np.full((2, 3), 3.0))  # accumulated into the assigned grad
    p.grad = None
    assert p.grad is None


def test_setitem_on_a_leaf_under_no_grad_and_version():
    w = cr.zeros(3, requires_grad=True)
    with cr.no_grad():
        w[1] = 2.0
    assert w._version == 1 and w.numpy()[1] == 2.0
    with pytest.raises(BackwardError, match="setitem: a leaf tensor"):
        w[0] = 1.0
