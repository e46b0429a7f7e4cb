"""cr.trace: a forward recorded as a Graph, with a symbolic batch."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.graph import BATCH, TraceError, trace


def _summary(g):
    return [(n.op, n.inputs, n.output, repr(n.attrs), n.shape, n.path) for n in g.nodes], g.inputs, g.outputs


def test_the_graph_of_a_cnn():
    from chainrule.cli.commands import build_cnn

    cr.manual_seed(0)
    model = build_cnn(10)
    g = cr.trace(model, np.zeros((2, 1, 28, 28), np.float32))
    assert [n.op for n in g.nodes] == ["conv2d", "relu", "max_pool2d", "conv2d", "relu", "max_pool2d", "reshape",
                                       "linear", "relu", "linear"]  # dropout is gone in eval mode
    assert g.nodes[0].inputs == ["input", "0.weight", "0.bias"] and g.nodes[0].path == "0"
    assert g.shapes["input"] == (None, 1, 28, 28) and g.shapes[g.outputs[0]] == (None, 10)
    assert g.nodes[6].attrs["shape"] == (BATCH, 3136)
    assert set(g.constants) == {k for k, _ in model.named_parameters()}
    assert np.shares_memory(g.constants["0.weight"], model[0].weight.numpy())
    assert model.training  # its mode is given back


@pytest.mark.parametrize("other", [7, 16, 64])
def test_the_batch_size_does_not_change_the_graph(other):
    from chainrule.cli.commands import build_cnn

    model = build_cnn(10)
    a = trace(model, np.zeros((1, 1, 28, 28), np.float32))
    b = trace(model, np.ones((other, 1, 28, 28), np.float32))
    assert _summary(a) == _summary(b)


def test_a_custom_module_and_several_inputs():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x, y):
            return self.lin(x) * y.sigmoid(), x.sum(1)

    g = trace(Two(), (np.ones((4, 3), np.float32), np.ones((4, 2), np.float32)))
    assert g.inputs == ["input_0", "input_1"] and len(g.outputs) == 2
    assert [n.op for n in g.nodes] == ["linear", "sigmoid", "mul", "sum"]
    assert g.nodes[0].path == "lin" and g.nodes[1].path == ""


def test_python_numbers_become_constants():
    g = trace(lambda x: x * 3 + 1, np.ones((2, 2), np.float32))
    consts = [g.constants[n.inputs[1]] for n in g.nodes]
    assert [float(c) for c in consts] == [3.0, 1.0] and all(c.dtype == np.float32 for c in consts)


def test_control_flow_that_follows_the_batch_is_an_error():
    def f(x):
        return x.relu() if x.shape[0] % 2 else x.tanh()

    with pytest.raises(TraceError, match="different calls for a batch of 3 and of 4"):
        trace(f, np.ones((3, 2), np.float32))


def test_a_constant_that_follows_the_batch_is_an_error():
    with pytest.raises(TraceError, match="constant input of the call of add"):
        trace(lambda x: x + np.arange(x.shape[0], dtype=np.float32)[:, None], np.ones((3, 2), np.float32))


def test_the_matrix_trace_is_still_torch_trace():
    assert float(cr.trace(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))) == 5.0
    with pytest.raises(cr.errors.ArgumentError, match="give example inputs"):
        cr.trace(nn.Linear(2, 2))


def test_an_input_without_a_batch_axis_is_an_error():
    with pytest.raises(TraceError, match="batch axis"):
        trace(lambda x: x * 2, np.float32(1))


def test_each_module_gets_its_own_mode_back():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), nn.BatchNorm1d(2))
    model[2].eval()
    g = trace(model, np.ones((4, 2), np.float32))
    assert [n.op for n in g.nodes] == ["linear", "batch_norm"]
    assert model.training and model[1].training and not model[2].training


def test_trace_is_not_reentrant_and_stays_usable():
    def inner(x):
        return trace(lambda y: y * 2, x)

    with pytest.raises(TraceError, match="already tracing"):
        trace(inner, np.ones((2, 2), np.float32))
    assert len(trace(lambda y: y * 2, np.ones((2, 2), np.float32)).nodes) == 1
