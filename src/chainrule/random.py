"""chainrule's random generators: one library-wide default, seeded by ``cr.manual_seed``.

Every function that draws random numbers takes ``seed=`` (an int or a Generator) or
``generator=`` and otherwise draws from the default generator.
"""

import numpy as np

_default_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed chainrule's default random generator (used when no ``seed``/``generator`` is given)."""
    global _default_rng
    _default_rng = np.random.default_rng(seed)
    return _default_rng


def default_generator():
    """The library-wide default ``numpy.random.Generator``."""
    return _default_rng


def set_default_generator(generator):
    """Replace the default generator (checkpoints restore it to resume a run exactly)."""
    global _default_rng
    _default_rng = generator


class Generator:
    """PyTorch's ``torch.Generator``: a source of random numbers of its own, to pass as ``generator=``
    (``cr.Generator().manual_seed(42)``). It holds a ``numpy.random.Generator``; either kind is accepted."""

    def __init__(self, device="cpu"):
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))

    def manual_seed(self, seed):
        """Reseed; returns the generator, as PyTorch's does."""
        self._seed = int(seed)
        self.numpy = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Reseed from fresh entropy; returns the new seed."""
        self.__init__()
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state of the underlying bit generator (a plain dict)."""
        return self.numpy.bit_generator.state

    def set_state(self, state):
        self.numpy.bit_generator.state = state
        return self


def rng(seed=None, generator=None):
    """The generator to draw from: ``generator``, else a new one from ``seed``, else the default.

    ``seed`` may itself be a ``numpy.random.Generator``.
    """
    if generator is not None:
        return generator.numpy if isinstance(generator, Generator) else generator
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, Generator):
        return seed.numpy
    if seed is not None:
        return np.random.default_rng(seed)
    return _default_rng
