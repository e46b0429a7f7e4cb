"""``chainrule.autograd.Function``: a block with its own derivative, written as PyTorch documents it."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd import Function, gradcheck
from chainrule.errors import ArgumentTypeError, BackwardError, GradientError, ShapeError


class LegendrePolynomial3(Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


class TorchLegendre(torch.autograd.Function):
    forward = staticmethod(LegendrePolynomial3.forward)
    backward = staticmethod(LegendrePolynomial3.backward)


class ScaledMul(Function):
    """Two tensor inputs, a constant, needs_input_grad, and two outputs (the second not differentiable)."""

    @staticmethod
    def forward(ctx, a, b, k):
        ctx.save_for_backward(a, b)
        ctx.k = k
        idx = (a * b).argmax()
        ctx.mark_non_differentiable(idx)
        return a * b * k, idx

    @staticmethod
    def backward(ctx, g, g_idx):
        a, b = ctx.saved_tensors
        ga = g * b * ctx.k if ctx.needs_input_grad[0] else None
        gb = g * a * ctx.k if ctx.needs_input_grad[1] else None
        return ga, gb, None


class Split(Function):
    """Two differentiable outputs: the gradients of both reach the input."""

    @staticmethod
    def forward(x):  # the PyTorch 2 form: no ctx here, setup_context below
        return x * 2, x.exp()

    @staticmethod
    def backward(ctx, g1, g2):
        return g1 * 2 + g2 * ctx.ex

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.ex = output[1]


def test_the_tutorials_function_matches_torch():
    a = np.linspace(-1, 1, 7)
    x, tx = cr.tensor(a, dtype=cr.double, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = LegendrePolynomial3.apply(x), TorchLegendre.apply(tx)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    assert y.grad_fn is not None and "LegendrePolynomial3" in repr(y.grad_fn)


def test_gradcheck_works_on_custom_functions():
    x = cr.tensor(np.linspace(-0.9, 0.9, 5), dtype=cr.double, requires_grad=True)
    assert gradcheck(LegendrePolynomial3.apply, (x,))
    a = cr.randn(3, dtype=cr.double, requires_grad=True)
    b = cr.randn(3, dtype=cr.double, requires_grad=True)
    assert gradcheck(lambda a, b: ScaledMul.apply(a, b, 3.0)[0], (a, b))
    assert gradcheck(lambda x: Split.apply(x)[0] + Split.apply(x)[1], (a,))


def test_needs_input_grad_non_tensor_inputs_and_non_differentiable_outputs():
    a = cr.randn(3, requires_grad=True)
    b = cr.randn(3)
    out, idx = ScaledMul.apply(a, b, 2.0)
    assert out.requires_grad and not idx.requires_grad and idx.dtype == cr.int64
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * b.numpy(), rtol=1e-6)
    assert b.grad is None


def test_the_function_is_a_block_in_a_larger_graph():
    x = cr.randn(4, requires_grad=True)
    y = (LegendrePolynomial3.apply(x.tanh()) * 3).sum()
    y.backward()
    t = torch.tensor(x.numpy(), requires_grad=True)
    (TorchLegendre.apply(t.tanh()) * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_under_no_grad_nothing_is_recorded():
    x = cr.randn(3, requires_grad=True)
    with cr.no_grad():
        y = LegendrePolynomial3.apply(x)
    assert not y.requires_grad and y.grad_fn is None


def test_a_saved_tensor_changed_in_place_is_an_error():
    x = cr.randn(3, requires_grad=True)
    h = x * 1
    y = LegendrePolynomial3.apply(h)
    with cr.no_grad():
        h.add_(1)
    with pytest.raises(BackwardError, match="saved tensor 0 has been modified by an in-place operation"):
        y.sum().backward()


def test_mistakes_are_clear_errors():
    class WrongCount(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, a):
            return a.sum()

        @staticmethod
        def backward(ctx, g):
            return g.reshape(1)

    class NotStatic(Function):
        def forward(self, ctx, a):
            return a

    a, b = cr.randn(3, requires_grad=True), cr.randn(3, requires_grad=True)
    with pytest.raises(BackwardError, match="returned 1 gradient.*forward took 2"):
        WrongCount.apply(a, b).sum().backward()
    with pytest.raises(ShapeError, match=r"gradient of shape \(1,\) for input 0 of shape \(3,\)"):
        WrongShape.apply(a).backward()
    with pytest.raises(ArgumentTypeError, match="must be a @staticmethod"):
        NotStatic.apply(a)
    with pytest.raises(ArgumentTypeError, match="call LegendrePolynomial3.apply"):
        LegendrePolynomial3()
    with pytest.raises(ArgumentTypeError, match="save_for_backward: expects Tensors"):

        class SavesNumber(Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(3)
                return a

        SavesNumber.apply(a)


def test_the_array_level_primitive_keeps_its_own_name():
    assert cr.autograd.Primitive is not cr.autograd.Function
    from chainrule.ops.elementwise import Exp

    assert issubclass(Exp, cr.autograd.Primitive)


def test_gradcheck_takes_torch_keywords_and_can_return_false():
    class WrongGrad(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = cr.tensor([0.5, -1.0], dtype=cr.float64, requires_grad=True)
    assert gradcheck(lambda t: t * 2, (x,), eps=1e-6, atol=1e-4, raise_exception=False, fast_mode=True) is True
    assert gradcheck(WrongGrad.apply, (x,), raise_exception=False) is False
    with pytest.raises(GradientError, match="finite differences"):
        gradcheck(WrongGrad.apply, (x,))
