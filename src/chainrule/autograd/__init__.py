"""Reverse-mode automatic differentiation: ``Primitive``, the engine, grad mode, anomaly mode and gradcheck."""

from .anomaly import detect_anomaly, is_anomaly_enabled
from .engine import grad
from .function import Primitive, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck

__all__ = [
    "Primitive",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]
