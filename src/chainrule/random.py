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


def rng(seed=None, generator=None):
    """The generator to draw from: ``generator``, else a new one from ``seed``, else the default.

    ``seed`` may itself be a ``numpy.random.Generator``.
    """
    if generator is not None:
        return generator
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None:
        return np.random.default_rng(seed)
    return _default_rng
