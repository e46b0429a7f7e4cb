"""Module's deliberate checks raise ChainruleErrors (that are also the TypeError PyTorch raises)."""

import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import ArgumentTypeError, ChainruleError


def test_assigning_a_non_parameter_to_a_parameter_is_a_typed_error():
    layer = nn.Linear(2, 3)
    with pytest.raises(ArgumentTypeError, match="parameter 'weight' of Linear") as e:
        layer.weight = cr.zeros(3, 2)
    assert isinstance(e.value, ChainruleError) and isinstance(e.value, TypeError)


def test_assigning_a_non_module_to_a_submodule_is_a_typed_error():
    model = nn.Sequential(nn.Linear(2, 3))
    with pytest.raises(ArgumentTypeError, match="sub-module '0'"):
        setattr(model, "0", 5)
    with pytest.raises(ArgumentTypeError, match="add_module: int is not a Module"):
        model.add_module("extra", 5)
