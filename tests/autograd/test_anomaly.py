"""Anomaly mode: the first op whose forward or backward makes a NaN or an Inf is named, with its line."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import Primitive, detect_anomaly, is_anomaly_enabled
from chainrule.errors import AnomalyError, ChainruleError

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the NaNs and Infs are made on purpose


def test_forward_nan_names_the_op_its_shapes_and_the_user_line():
    x = cr.tensor([[1.0, -1.0, 2.0]], requires_grad=True)
    with detect_anomaly():
        y = x * 2.0
        with pytest.raises(AnomalyError) as e:
            y.sqrt()  # the line the error must point to
    msg = str(e.value)
    assert msg.startswith("sqrt: the forward produced NaN")
    assert "(1, 3)" in msg
    assert "test_anomaly.py" in msg and "y.sqrt()  # the line the error must point to" in msg
    assert isinstance(e.value, ChainruleError) and isinstance(e.value, RuntimeError)


def test_forward_inf_is_an_anomaly_too():
    with detect_anomaly(), pytest.raises(AnomalyError, match="log: the forward produced Inf"):
        cr.tensor([0.0, 1.0]).log()


def test_inputs_that_already_hold_nan_are_said_to():
    with detect_anomaly(), pytest.raises(AnomalyError, match="its inputs already held NaN"):
        cr.tensor([np.nan, 1.0]) + 1.0


class _BadBackward(Primitive):
    """The identity whose backward divides by zero: a bug that anomaly mode must find."""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g / 0.0


def _made_here(x):
    return _BadBackward.apply(x)  # made at this line


def test_backward_nan_or_inf_names_the_op_and_where_it_was_made():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        loss = (_made_here(x) * 3.0).sum()
        with pytest.raises(AnomalyError) as e:
            loss.backward()
    msg = str(e.value)
    assert msg.startswith("_badbackward: the backward produced Inf in the gradient of input 0")
    assert "(2,)" in msg and "return _BadBackward.apply(x)  # made at this line" in msg
    assert x.grad is None  # nothing was delivered


def test_without_anomaly_mode_nothing_is_checked_or_recorded():
    assert not is_anomaly_enabled()
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = _made_here(x)
    assert "anomaly_stack" not in vars(y.grad_fn)
    y.sum().backward()  # the Inf goes through, as without anomaly mode in PyTorch
    assert np.isinf(x.grad.numpy()).all()
    assert np.isnan(cr.tensor([-1.0]).sqrt().numpy()).all()


def test_the_mode_is_restored_after_an_error_and_works_as_a_decorator():
    @detect_anomaly()
    def f():
        assert is_anomaly_enabled()
        return cr.tensor([-1.0]).sqrt()

    with pytest.raises(AnomalyError):
        f()
    assert not is_anomaly_enabled()
    with detect_anomaly(check_nan=False):
        assert not is_anomaly_enabled()


def test_a_clean_training_step_passes_under_anomaly_mode():
    model = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Tanh(), cr.nn.Linear(4, 2))
    x, y = cr.randn(5, 3, seed=0), cr.randint(0, 2, size=5, seed=1)
    with detect_anomaly():
        loss = cr.nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
    assert all(p.grad is not None for p in model.parameters())
