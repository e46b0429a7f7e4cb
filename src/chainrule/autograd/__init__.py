"""Reverse-mode automatic differentiation: ``Function``, the engine, grad mode and gradcheck."""

from .engine import grad
from .function import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck

__all__ = ["Function", "enable_grad", "grad", "gradcheck", "is_grad_enabled", "no_grad", "set_grad_enabled"]
