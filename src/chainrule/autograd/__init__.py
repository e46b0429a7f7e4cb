"""Reverse-mode automatic differentiation: ``Function`` (a block with its own derivative, PyTorch's API),
``Primitive`` (an op on arrays, how chainrule's own ops are written), the engine, grad mode, anomaly mode and
gradcheck."""

from .anomaly import detect_anomaly, is_anomaly_enabled
from .custom import Function, FunctionCtx, once_differentiable
from .engine import grad
from .function import Primitive, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck

__all__ = [
    "Function",
    "FunctionCtx",
    "Primitive",
    "once_differentiable",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]
