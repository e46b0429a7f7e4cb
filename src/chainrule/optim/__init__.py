"""Optimisers and learning-rate schedulers (names, arguments and defaults as ``torch.optim``).

Every optimiser derives from ``Optimizer``, which owns parameter groups, state, the loop
and state dicts; each subclass writes one parameter's update, in place.
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
