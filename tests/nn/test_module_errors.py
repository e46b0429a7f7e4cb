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


def test_to_double_and_float_cast_parameters_and_float_buffers_in_place():
    import numpy as np

    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    w = model[0].weight
    assert model.double() is model
    assert model[0].weight is w and w.dtype == np.float64  # the same Parameter, now float64
    state = model.state_dict()
    assert state["1.running_mean"].dtype == np.float64 and state["1.num_batches_tracked"].dtype == np.int64
    assert model(cr.randn(5, 3, dtype=cr.float64)).dtype == np.float64
    assert model.float()[0].weight.dtype == np.float32
    with pytest.raises(ChainruleError, match="floating point"):
        model.to(np.int32)
