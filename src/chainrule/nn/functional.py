"""``chainrule.nn.functional`` is ``chainrule.functional`` (as ``torch.nn.functional``)."""

from ..functional import *  # noqa: F403
