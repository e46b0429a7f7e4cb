"""Functions on tensors: the module-level forms of the ops, and composites built from them.

Import as ``import chainrule.functional as F``. The parts:

* ``core``: elementwise ops, activations, reductions, shapes, matmul;
* ``layers``: linear, dropout;
* ``conv``: conv2d and pooling;
* ``norm``: batch_norm, layer_norm, embedding;
* ``loss``: the losses.
"""

from .conv import *  # noqa: F403
from .core import *  # noqa: F403
from .layers import *  # noqa: F403
from .loss import *  # noqa: F403
from .norm import *  # noqa: F403
