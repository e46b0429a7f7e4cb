"""Every differentiable case of ``op_cases.py`` through chainrule's own finite-difference checker, in
float64; and the checker itself catches a wrong backward, naming the input, the element and both values."""

import re

import numpy as np
import op_cases as C  # tests/ops is on sys.path: pytest puts a test file's folder there
import pytest

import chainrule as cr
from chainrule.autograd import Primitive

GRADCHECK_CASES = [c for c in C.CASES if c.differentiable and c.gradcheck]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=lambda c: c.name)
def test_gradcheck(case):
    xs = [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in C.sample(case, np.float64)]
    assert cr.autograd.gradcheck(case.fn, xs)


def test_every_case_without_gradcheck_says_why():
    # only cases with an input exactly on a kink, or on a tie of three or more, are left out: there a
    # central difference sees the average of the one-sided slopes, not the rule torch uses
    skipped = {c.name for c in C.CASES if c.differentiable and not c.gradcheck}
    kinks = {"relu_at_zero", "clip_at_bounds", "step_at_zero", "max_ties_all_equal"}
    kinks |= {"core_max_dim_ties"}  # max(dim) at a tie: the whole gradient goes to the first index
    ties = {f"{op}_ties_{ax}_{k}" for op in ("max", "min") for ax in (2, (1, 2)) for k in ("keep", "drop")}
    assert skipped == kinks | ties


# ---- gradcheck catches a wrong backward --------------------------------------------------------------


class Square(Primitive):
    """x * x with the right derivative."""

    def forward(self, a):
        self.saved = (a,)
        return a * a

    def backward(self, g):
        (a,) = self.saved
        return 2 * a * g


class SquareWrongEverywhere(Square):
    """Forgets the factor 2."""

    def backward(self, g):
        (a,) = self.saved
        return a * g


class SquareWrongAtOneElement(Square):
    """Right except at element (1, 2), where it is off by 0.5."""

    def backward(self, g):
        out = super().backward(g).copy()
        out[1, 2] += 0.5 * g[1, 2]
        return out


class ScaledProduct(Primitive):
    """3 * a * b, whose gradient for b is wrong (a instead of 3 * a)."""

    def forward(self, a, b):
        self.saved = (a, b)
        return 3 * a * b

    def backward(self, g):
        a, b = self.saved
        n = self.needs_input_grad
        return (3 * b * g if n[0] else None), (a * g if n[1] else None)


def _numbers(message):
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", message)]


def _has_value(message, value, tol=1e-4):
    return any(abs(v - value) <= tol * max(1.0, abs(value)) for v in _numbers(message))


def test_gradcheck_passes_a_correct_function():
    x = cr.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(Square.apply, x)
    assert cr.autograd.gradcheck(lambda t: Square.apply(t).sum(), (x,))


def test_gradcheck_names_input_element_and_values():
    x = cr.tensor([0.5, 3.0, -1.0], dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.errors.GradientError) as info:
        cr.autograd.gradcheck(SquareWrongEverywhere.apply, (x,))
    msg = str(info.value)
    # the worst element is x[1] = 3: analytical 3 against numerical 6
    assert re.search(r"input\D*0\b", msg), msg
    assert "(1,)" in msg, msg
    assert _has_value(msg, 3.0) and _has_value(msg, 6.0), msg


def test_gradcheck_finds_the_one_wrong_element():
    data = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]])
    x = cr.tensor(data, dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.errors.GradientError) as info:
        cr.autograd.gradcheck(SquareWrongAtOneElement.apply, x)
    msg = str(info.value)
    assert "(1, 2)" in msg, msg
    # analytical 2 * (-3) + 0.5 = -5.5, numerical -6
    assert _has_value(msg, -5.5) and _has_value(msg, -6.0), msg


def test_gradcheck_names_the_wrong_input():
    a = cr.tensor([[1.0, 2.0], [0.5, -1.0]], dtype=cr.float64, requires_grad=True)
    b = cr.tensor([[0.5, -4.0], [1.0, 2.5]], dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.errors.GradientError) as info:
        cr.autograd.gradcheck(ScaledProduct.apply, (a, b))
    msg = str(info.value)
    # input 0 is right; input 1's gradient is a instead of 3a, worst where a = 2: 2 against 6
    assert re.search(r"input\D*1\b", msg), msg
    assert "(0, 1)" in msg, msg
    assert _has_value(msg, 2.0) and _has_value(msg, 6.0), msg
    # with only input 0 checked, the (right) gradient passes
    b.requires_grad = False
    assert cr.autograd.gradcheck(ScaledProduct.apply, (a, b))


def test_gradcheck_error_is_a_runtime_error():
    x = cr.tensor([2.0], dtype=cr.float64, requires_grad=True)
    with pytest.raises(RuntimeError):
        cr.autograd.gradcheck(SquareWrongEverywhere.apply, x)
