"""Class-index targets at the loss boundary: integers only, as in PyTorch; a value that is not a whole number is
named (it would otherwise be truncated to a class), and ``Trainer`` converts only whole floats."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import DTypeError
from chainrule.functional.loss import _class_indices


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss, nn.CrossEntropyLoss(), nn.NLLLoss()])
def test_a_fractional_target_is_named(loss):
    x = cr.zeros(4, 3)
    name = "cross_entropy" if "ross" in getattr(loss, "__name__", type(loss).__name__) else "nll_loss"
    with pytest.raises(DTypeError, match=rf"{name}: class-index targets must be integers; the target at index 2 is "
                                         r"0.7, which is not a class index \(truncating it would make it class 0\)"):
        loss(x, np.array([0.0, 1.0, 0.7, 2.0]))


def test_whole_floats_are_still_a_dtype_error_as_in_pytorch():
    with pytest.raises(DTypeError, match=r"must be integers, got dtype float32; convert them with target.long\(\)"):
        F.cross_entropy(cr.zeros(4, 3), np.array([0.0, 1.0, 2.0, 0.0], np.float32))


def test_positions_in_spatial_targets_and_non_finite_values():
    x = cr.zeros(2, 3, 2)  # (N, C, d1): targets (N, d1)
    with pytest.raises(DTypeError, match=r"at index \(1, 0\) is -0.5, .*would make it class 0"):
        F.cross_entropy(x, np.array([[0.0, 1.0], [-0.5, 2.0]]))
    with pytest.raises(DTypeError, match=r"at index 1 is nan, which is not a class index; pass"):
        F.nll_loss(cr.zeros(3, 3), np.array([0.0, np.nan, 1.0]))
    with pytest.raises(DTypeError, match="at index 0 is inf"):
        F.nll_loss(cr.zeros(3, 3), np.array([np.inf, 0.0, 1.0]))


def test_class_indices_converts_only_whole_floats():
    ints = np.array([2, 0], np.int32)
    assert _class_indices("t", ints) is ints  # integers pass through untouched
    out = _class_indices("t", cr.tensor([1.0, 2.0]))
    assert out.dtype == np.int64 and out.tolist() == [1, 2]
    with pytest.raises(DTypeError, match="t: class-index targets must be integers; the target at index 1 is 1e"):
        _class_indices("t", np.array([0.0, 1e19]))  # whole, but no int64 holds it
    with pytest.raises(DTypeError, match="got dtype bool"):
        _class_indices("t", np.array([True, False]))


def test_probability_targets_are_untouched():
    x = cr.zeros(2, 3)
    q = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]], np.float32)
    assert np.isfinite(F.cross_entropy(x, q).item())
