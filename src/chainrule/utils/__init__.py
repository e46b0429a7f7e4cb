"""PyTorch's ``torch.utils`` names: ``chainrule.utils.data`` is ``torch.utils.data``."""

from . import data

__all__ = ["data"]
