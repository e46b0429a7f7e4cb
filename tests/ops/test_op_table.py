"""Every primitive is in the op table (DESIGN convention 11): each ``Primitive`` subclass that a module of
``chainrule.ops`` defines runs in at least one case of ``op_cases.py`` (checked against PyTorch in float32 by
test_parity.py) and in at least one case that test_gradcheck.py checks by finite differences in float64.

Which primitives a case uses is seen, not declared: every op's ``forward`` is wrapped to record its class
while the cases run. Private bases (``_Binary``, ``_Extreme``) are not ops of their own.
"""

import importlib
import pkgutil

import numpy as np
import op_cases as C  # tests/ops is on sys.path: pytest puts a test file's folder there
import pytest

import chainrule as cr
import chainrule.ops
from chainrule.autograd.function import Primitive


def primitives():
    """Every public Primitive subclass defined in a module of chainrule.ops."""
    found = set()
    for info in pkgutil.iter_modules(chainrule.ops.__path__):
        module = importlib.import_module(f"chainrule.ops.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Primitive)
                and value.__module__ == module.__name__
                and not value.__name__.startswith("_")
            ):
                found.add(value)
    return found


@pytest.fixture
def recorder(monkeypatch):
    """Wrap every primitive's forward to record the class of each op that runs."""
    used = set()
    for cls in primitives():
        forward = cls.forward

        def recording(self, *args, _forward=forward, **kwargs):
            used.add(type(self))
            return _forward(self, *args, **kwargs)

        monkeypatch.setattr(cls, "forward", recording)
    return used


def _run(case, dtype):
    xs = [cr.tensor(a, dtype=dtype, requires_grad=case.differentiable) for a in C.sample(case, dtype)]
    case.fn(*xs)


def _missing(found):
    return sorted(f"{cls.__module__.rsplit('.', 1)[1]}.{cls.__name__}" for cls in primitives() - found)


def test_every_primitive_has_a_parity_case(recorder):
    for case in C.CASES:
        _run(case, np.float32)
    missing = _missing(recorder)
    assert not missing, f"primitives without a case in tests/ops/op_cases.py: {missing}"


# primitives that a float64 finite-difference check cannot see, each with its reason
NO_GRADCHECK = {
    "elementwise.Cast": "a cast of float64 to float64 does not run, one to float32 loses the precision finite "
    "differences need; its gradient (the identity, cast back) is checked against torch (astype_float64, double)",
}


def test_every_primitive_has_a_gradcheck_case(recorder):
    for case in C.CASES:
        if case.differentiable and case.gradcheck:
            _run(case, np.float64)
    missing = sorted(set(_missing(recorder)) - set(NO_GRADCHECK))
    assert not missing, f"primitives whose every case in tests/ops/op_cases.py skips the gradcheck: {missing}"
    assert set(NO_GRADCHECK) <= set(_missing(set())), "NO_GRADCHECK names a primitive that does not exist"


def test_the_recorder_sees_what_a_case_runs(recorder):
    """The check is able to fail: a case runs only the ops it calls."""
    _run(C.CASE_BY_NAME["exp"], np.float32)
    assert {cls.__name__ for cls in recorder} == {"Exp"}
    assert len(primitives()) > 40
