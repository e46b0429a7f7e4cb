"""Typed errors: their hierarchy, and the message each one gives."""

import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import BackwardError, ChainruleError, DTypeError, GradientError, ShapeError

# ---- the hierarchy ------------------------------------------------------------------------------------


def test_errors_reachable_from_package():
    assert cr.errors.ShapeError is ShapeError
    assert cr.errors.DTypeError is DTypeError
    assert cr.errors.BackwardError is BackwardError
    assert cr.errors.GradientError is GradientError
    assert cr.errors.ChainruleError is ChainruleError


def test_errors_reachable_after_plain_import():
    code = "import chainrule as cr; print(cr.errors.ShapeError.__name__, issubclass(cr.errors.ShapeError, ValueError))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ShapeError", "True"]


@pytest.mark.parametrize(
    "cls, builtin",
    [
        (ShapeError, ValueError),
        (DTypeError, TypeError),
        (BackwardError, RuntimeError),
        (GradientError, RuntimeError),
    ],
)
def test_hierarchy(cls, builtin):
    assert issubclass(cls, ChainruleError)
    assert issubclass(cls, builtin)
    assert issubclass(ChainruleError, Exception)
    err = cls("boom")
    assert isinstance(err, ChainruleError) and isinstance(err, builtin) and str(err) == "boom"


def test_errors_are_distinct():
    classes = [ShapeError, DTypeError, BackwardError, GradientError]
    for a in classes:
        for b in classes:
            if a is not b:
                assert not issubclass(a, b)


# ---- ShapeError -------------------------------------------------------------------------------------


def test_matmul_message_exact():
    a, b = cr.zeros(32, 784), cr.zeros(100, 10)
    expected = "matmul: cannot multiply (32, 784) by (100, 10): inner dimensions 784 and 100 differ"
    with pytest.raises(ShapeError) as info:
        a @ b
    assert str(info.value) == expected
    with pytest.raises(ShapeError) as info:
        cr.matmul(a, b)
    assert str(info.value) == expected
    with pytest.raises(ShapeError) as info:
        a.matmul(b)
    assert str(info.value) == expected


def test_matmul_message_with_grad_and_numpy_operands():
    a = cr.zeros(32, 784, requires_grad=True)
    with pytest.raises(ShapeError) as info:
        a @ np.zeros((100, 10), dtype=np.float32)
    assert str(info.value) == "matmul: cannot multiply (32, 784) by (100, 10): inner dimensions 784 and 100 differ"


def test_matmul_other_mismatches():
    with pytest.raises(ShapeError, match=r"matmul: cannot multiply \(3,\) by \(4,\): inner dimensions 3 and 4"):
        cr.zeros(3) @ cr.zeros(4)
    with pytest.raises(ShapeError, match=r"matmul: .*batch dimensions of \(2, 3, 4\) and \(5, 4, 2\)"):
        cr.zeros(2, 3, 4) @ cr.zeros(5, 4, 2)
    with pytest.raises(ShapeError, match=r"matmul: .*at least one dimension"):
        cr.tensor(1.0) @ cr.zeros(3)


@pytest.mark.parametrize(
    "name, fn",
    [
        ("add", lambda a, b: a + b),
        ("sub", lambda a, b: a - b),
        ("mul", lambda a, b: a * b),
        ("div", lambda a, b: a / b),
        ("pow", lambda a, b: a**b),
        ("maximum", cr.maximum),
        ("minimum", cr.minimum),
    ],
)
def test_broadcast_failure_names_op_and_shapes(name, fn):
    a, b = cr.zeros(2, 3, requires_grad=True), cr.ones(4, 5)
    with pytest.raises(ShapeError) as info:
        fn(a, b)
    msg = str(info.value)
    assert msg.startswith(f"{name}:")
    assert "(2, 3)" in msg and "(4, 5)" in msg
    assert "broadcast" in msg
    assert msg.index("(2, 3)") < msg.index("(4, 5)")


def test_broadcast_failure_with_numpy_operand_either_side():
    with pytest.raises(ShapeError, match=r"add: cannot broadcast shapes \(2, 3\) and \(4, 5\)"):
        cr.zeros(2, 3) + np.zeros((4, 5))
    with pytest.raises(ShapeError, match=r"add: cannot broadcast shapes \(4, 5\) and \(2, 3\)"):
        np.zeros((4, 5)) + cr.zeros(2, 3)


def test_where_broadcast_failure():
    with pytest.raises(ShapeError) as info:
        cr.where(cr.zeros(2, 3) > 0, cr.zeros(2, 3), cr.zeros(4, 5))
    msg = str(info.value)
    assert msg.startswith("where:") and "(2, 3)" in msg and "(4, 5)" in msg


def test_broadcast_to_failure():
    with pytest.raises(ShapeError, match=r"broadcast_to: cannot broadcast shape \(2, 3\) to \(4, 5\)"):
        cr.zeros(2, 3).broadcast_to((4, 5))
    with pytest.raises(ShapeError, match=r"expand: .*\(2, 3\)"):
        cr.zeros(2, 3).expand(3)


def test_reshape_error():
    expected = "reshape: cannot reshape a tensor of shape (2, 3) into (4, 2)"
    with pytest.raises(ShapeError) as info:
        cr.zeros(2, 3).reshape(4, 2)
    assert str(info.value) == expected
    with pytest.raises(ShapeError) as info:
        cr.reshape(cr.zeros(2, 3), (4, 2))
    assert str(info.value) == expected
    with pytest.raises(ShapeError, match=r"reshape: .*\(2, 3\)"):
        cr.zeros(2, 3).reshape(-1, -1)


def test_concatenate_errors():
    with pytest.raises(ShapeError) as info:
        cr.concatenate([cr.zeros(2, 3), cr.zeros(2, 4)])
    msg = str(info.value)
    assert msg.startswith("concatenate:") and "(2, 3)" in msg and "(2, 4)" in msg and "axis 0" in msg
    # cat is the same function
    with pytest.raises(ShapeError, match="concatenate"):
        cr.cat([cr.zeros(2, 3), cr.zeros(3)])
    with pytest.raises(ShapeError, match="concatenate: needs at least one tensor"):
        cr.concatenate([])
    with pytest.raises(ShapeError, match="concatenate: zero-dimensional"):
        cr.concatenate([cr.tensor(1.0), cr.tensor(2.0)])


def test_concatenate_axis_out_of_range_says_so():
    with pytest.raises(ShapeError) as info:
        cr.concatenate([cr.zeros(2, 3), cr.zeros(2, 3)], axis=5)
    msg = str(info.value)
    assert msg.startswith("concatenate:")
    assert "out of range" in msg and "5" in msg


def test_stack_errors():
    with pytest.raises(ShapeError) as info:
        cr.stack([cr.zeros(2, 3), cr.zeros(2, 4)])
    msg = str(info.value)
    assert msg.startswith("stack:") and "(2, 3)" in msg and "(2, 4)" in msg
    with pytest.raises(ShapeError, match="stack: needs at least one tensor"):
        cr.stack([])


def test_stack_axis_out_of_range_names_stack():
    with pytest.raises(ShapeError) as info:
        cr.stack([cr.zeros(2), cr.zeros(2)], axis=5)
    msg = str(info.value)
    assert "stack" in msg and "5" in msg and "out of range" in msg


def test_split_errors():
    with pytest.raises(ShapeError, match=r"split: sizes \[2, 2\] do not add up to 5"):
        cr.split(cr.zeros(5), [2, 2])
    with pytest.raises(ShapeError, match="split: chunk size must be positive, got 0"):
        cr.split(cr.zeros(5), 0)
    with pytest.raises(ShapeError, match="split: axis 3 is out of range"):
        cr.split(cr.zeros(5), 2, axis=3)
    with pytest.raises(ShapeError, match="split"):
        cr.zeros(5).split([1, 1])


@pytest.mark.parametrize("sizes", [[2, -1, 4], [6, -1]])
def test_split_rejects_negative_sizes(sizes):
    # the sizes add up to the axis length, but a chunk cannot have a negative size
    with pytest.raises(ShapeError, match="split"):
        cr.split(cr.zeros(5), sizes)


def test_transpose_errors():
    for axes in [(0, 1, 2), (1,)]:
        with pytest.raises(ShapeError) as info:
            cr.zeros(2, 3).transpose(*axes)
        msg = str(info.value)
        assert msg.startswith("transpose:") and str(tuple(axes)) in msg and "(2, 3)" in msg
    with pytest.raises(ShapeError, match=r"transpose: .*\(2, 3\)"):
        cr.zeros(2, 3).transpose(0, 5)
    with pytest.raises(ShapeError, match="transpose"):
        cr.zeros(2, 3).permute(2, 0)
    with pytest.raises(ShapeError, match="swapaxes: axis 4 is out of range"):
        cr.zeros(2, 3).swapaxes(0, 4)


def test_axis_errors_name_the_op():
    cases = [
        ("sum", lambda: cr.zeros(2, 3).sum(axis=2)),
        ("mean", lambda: cr.zeros(2, 3).mean(axis=-3)),
        ("max", lambda: cr.zeros(2, 3).max(axis=2)),
        ("softmax", lambda: cr.zeros(2, 3).softmax(axis=3)),
        ("squeeze", lambda: cr.zeros(2, 3).squeeze(5)),
        ("unsqueeze", lambda: cr.zeros(2, 3).unsqueeze(5)),
        ("flatten", lambda: cr.zeros(2, 3).flatten(1, 0)),
    ]
    for name, fn in cases:
        with pytest.raises(ShapeError) as info:
            fn()
        assert str(info.value).startswith(f"{name}:"), str(info.value)
    with pytest.raises(ShapeError, match=r"sum: repeated axis"):
        cr.zeros(2, 3).sum(axis=(0, 0))
    with pytest.raises(ShapeError, match=r"max: cannot reduce over an empty axis .*\(2, 0\)"):
        cr.zeros(2, 0).max(axis=1)


def test_other_shape_errors():
    with pytest.raises(ShapeError, match=r"item: .*\(2,\)"):
        cr.zeros(2).item()
    with pytest.raises(ShapeError, match="tensor: data is not a regular"):
        cr.tensor([[1, 2], [3]])
    with pytest.raises(ShapeError, match="negative"):
        cr.zeros(-1)
    with pytest.raises(ShapeError, match="integers"):
        cr.zeros("a")
    with pytest.raises(ShapeError, match="pad"):
        cr.zeros(2, 3).pad(-1)
    with pytest.raises(ShapeError, match=r"ambiguous"):
        bool(cr.zeros(2))


def test_index_out_of_range():
    with pytest.raises(IndexError) as info:
        cr.zeros(2, 3)[5]
    assert "(2, 3)" in str(info.value)


# ---- DTypeError ------------------------------------------------------------------------------------


def test_requires_grad_dtype_error_names_dtype():
    with pytest.raises(DTypeError) as info:
        cr.tensor([1, 2], requires_grad=True)
    msg = str(info.value)
    assert "int64" in msg and "requires_grad" in msg and "floating-point" in msg
    with pytest.raises(DTypeError, match="bool"):
        cr.tensor([True]).requires_grad_()


@pytest.mark.parametrize(
    "fn",
    [
        lambda: cr.zeros(2, dtype=np.complex64),
        lambda: cr.tensor([1.0], dtype="complex64"),
        lambda: cr.tensor([1.0]).astype("complex64"),
        lambda: cr.ones(2, dtype=np.complex128),
    ],
)
def test_unsupported_dtype_is_named(fn):
    with pytest.raises(DTypeError) as info:
        fn()
    assert "complex" in str(info.value)


@pytest.mark.parametrize(
    "fn",
    [
        lambda: cr.zeros(2, dtype="foo"),
        lambda: cr.tensor([1.0]).astype("foo"),
        lambda: cr.tensor([1.0], dtype="foo"),
        lambda: cr.ones(2, dtype="foo"),
        lambda: cr.randn(2, seed=0, dtype="foo"),
    ],
    ids=["zeros", "astype", "tensor", "ones", "randn"],
)
def test_unknown_dtype_is_a_dtype_error(fn):
    with pytest.raises(DTypeError) as info:
        fn()
    assert "'foo'" in str(info.value)


def test_data_of_bad_dtype():
    with pytest.raises(DTypeError, match="<U1"):
        cr.tensor(["a"])
    with pytest.raises(DTypeError, match="float32"):
        cr.tensor(["a"], dtype=cr.float32)
    with pytest.raises(DTypeError, match="object"):
        cr.tensor([object()])


# ---- BackwardError ----------------------------------------------------------------------------------


def test_backward_errors_messages():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(BackwardError, match=r"does not require grad"):
        cr.tensor([1.0]).sum().backward()
    with pytest.raises(BackwardError, match=r"scalar outputs.*\(2,\)"):
        (x * 2).backward()
    y = (x * x).sum()
    y.backward()
    with pytest.raises(BackwardError, match=r"Mul.*second time.*retain_graph=True"):
        y.backward()
    with pytest.raises(BackwardError, match=r"leaf"):
        (x * 2).requires_grad = False
    with pytest.raises(BackwardError, match=r"in-place"):
        x[0] = 3.0


def test_grad_function_errors():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(BackwardError, match="input does not require grad"):
        cr.grad((x * 2).sum(), cr.zeros(2))
    with pytest.raises(BackwardError, match="output does not require grad"):
        cr.grad(cr.zeros(2).sum(), x)
    with pytest.raises(BackwardError, match="allow_unused"):
        cr.grad((x * 2).sum(), [x, cr.zeros(1, requires_grad=True)])


def test_backward_wrong_gradient_shape_message():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ShapeError) as info:
        (x * 2).backward(np.ones(3))
    assert str(info.value) == "backward: gradient has shape (3,) but the tensor has shape (2,)"


# ---- GradientError ---------------------------------------------------------------------------------


class _WrongSquare(cr.autograd.Primitive):
    """x^2 with a deliberately wrong derivative (3x instead of 2x)."""

    def forward(self, x):
        self.saved = (x,)
        return x * x

    def backward(self, g):
        return g * 3 * self.saved[0]


def test_gradcheck_raises_gradient_error():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GradientError) as info:
        cr.autograd.gradcheck(lambda t: _WrongSquare.apply(t), (x,))
    msg = str(info.value)
    assert "gradcheck" in msg and "input 0" in msg and "analytical" in msg and "numerical" in msg
    assert isinstance(info.value, RuntimeError)


def test_gradcheck_passes_for_correct_function():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert cr.autograd.gradcheck(lambda t: (t * t).sum(), (x,)) is True


def test_gradcheck_without_grad_inputs():
    with pytest.raises(GradientError, match="no input requires grad"):
        cr.autograd.gradcheck(lambda t: t * 2, (cr.tensor([1.0]),))


# ---- non-shape ValueErrors are not reported as shape problems -------------------------------------------


def test_bad_option_is_not_reported_as_a_shape_error():
    with pytest.raises(ValueError) as info:
        cr.gelu(cr.zeros(2), approximate="x")
    msg = str(info.value)
    assert "approximate" in msg and "gelu" in msg
    assert not isinstance(info.value, ShapeError), msg
    assert "invalid input shapes" not in msg
