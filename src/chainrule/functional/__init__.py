"""Functions on tensors: the module-level forms of the ops, and composites built from them.

Import as ``import chainrule.functional as F``. The parts:

* ``core``: elementwise ops, activations, reductions, shapes, matmul;
* ``layers``: linear, dropout;
* ``conv``: conv2d and pooling;
* ``norm``: batch_norm, layer_norm, embedding;
* ``loss``: the losses.
"""

from .attention import *  # noqa: F403
from .conv import *  # noqa: F403
from .core import *  # noqa: F403
from .layers import *  # noqa: F403
from .loss import *  # noqa: F403
from .math import *  # noqa: F403
from .math import norm as _vector_norm
from .misc import *  # noqa: F403
from .more import *  # noqa: F403
from .norm import *  # noqa: F403
from .vision import *  # noqa: F403

# importing the submodule functional.norm (above) bound the name norm to that module: the function wins
norm = _vector_norm
del _vector_norm
