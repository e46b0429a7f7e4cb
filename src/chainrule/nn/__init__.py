"""Neural-network blocks: Module, Parameter, containers, layers, activations, losses, initialisers, and
``mlp`` (a multi-layer perceptron as a ``Sequential``).

Names, arguments, defaults, parameter names and shapes follow ``torch.nn``.
"""

from . import functional, init, utils
from .activation import *  # noqa: F403
from .builders import mlp
from .containers import ModuleDict, ModuleList, Sequential
from .conv import *  # noqa: F403
from .distance import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .module import Module
from .normalization import *  # noqa: F403
from .parameter import Parameter
from .pooling import *  # noqa: F403
from .rnn import *  # noqa: F403
from .sparse import *  # noqa: F403
from .summary import summary
from .transformer import *  # noqa: F403
from .upsampling import *  # noqa: F403
