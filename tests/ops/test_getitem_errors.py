"""An index that does not fit a tensor raises OutOfRangeError from the GetItem primitive: a ChainruleError and an
IndexError (what NumPy and PyTorch raise, so ``except IndexError`` still works), naming the op, the index and the
shape."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ChainruleError, OutOfRangeError
from chainrule.ops.movement import GetItem

CASES = [
    ("int", (3,), 5, ["5", "(3,)", "out of range", "size 3"]),
    ("negative", (3,), -4, ["-4", "(3,)", "out of range"]),
    ("second_axis", (2, 3), (1, 7), ["(1, 7)", "(2, 3)", "axis 1"]),
    ("array", (4,), np.array([0, 9, 1]), ["array of shape (3,)", "(4,)", "index 9"]),
    ("too_many", (3,), (0, 0), ["(0, 0)", "(3,)", "too many indices"]),
    ("mask_length", (3,), np.array([True, False]), ["array of shape (2,), dtype bool", "(3,)"]),
    ("not_an_index", (3,), "a", ["'a'", "(3,)", "not a valid index"]),
]


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("name, shape, index, words", CASES, ids=[c[0] for c in CASES])
def test_out_of_range_index_names_op_index_and_shape(name, shape, index, words, requires_grad):
    x = cr.zeros(shape, requires_grad=requires_grad)
    with pytest.raises(OutOfRangeError) as info:
        x[index]
    assert isinstance(info.value, ChainruleError) and isinstance(info.value, IndexError)
    msg = str(info.value)
    assert msg.startswith("getitem: index "), msg
    for w in words:
        assert w in msg, (w, msg)


def test_the_primitive_itself_raises():
    """The check lives in GetItem's forward, so every path that indexes (methods, functional code) gets it."""
    with pytest.raises(OutOfRangeError, match=r"getitem: index 5 is out of range for a tensor of shape \(3,\)"):
        GetItem.apply(cr.zeros(3), index=5)
    assert cr.zeros(3)[2].shape == ()  # the last index is in range
    assert cr.zeros(3)[-3].shape == ()
