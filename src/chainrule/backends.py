"""``cr.backends``: the answers PyTorch scripts ask of ``torch.backends`` (Apple's MPS is not a chainrule device)."""

from types import SimpleNamespace

mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
cudnn = SimpleNamespace(deterministic=False, benchmark=False, enabled=False)

__all__ = ["cudnn", "mps"]
