"""Typed exceptions. Every error chainrule raises on purpose is a ``ChainruleError``.

Each also derives from the built-in exception a user would naturally catch
(``ValueError`` for bad shapes, ``TypeError`` for bad dtypes, ``RuntimeError``
for misuse of the autograd engine, as PyTorch does).
"""


class ChainruleError(Exception):
    """Base class of every error raised by chainrule."""


class ShapeError(ChainruleError, ValueError):
    """Shapes do not fit: the message names the op and both shapes."""


class ArgumentError(ChainruleError, ValueError):
    """An argument has a value that the op or function does not accept."""


class OutOfRangeError(ChainruleError, IndexError):
    """An index (a class label, an embedding row) lies outside the valid range; the message gives both."""


class ArgumentTypeError(ChainruleError, TypeError):
    """An argument has a type that the function or module does not accept; the message names both."""


class DTypeError(ChainruleError, TypeError):
    """A dtype is not allowed here: the message names the op and the dtypes."""


class BackwardError(ChainruleError, RuntimeError):
    """The autograd engine was asked for something it cannot do (freed graph, no grad_fn, ...)."""


class AnomalyError(ChainruleError, RuntimeError):
    """Anomaly mode (``autograd.detect_anomaly``) saw an op produce NaN or Inf: names the op, its input
    shapes and the line of user code that made it."""


class GradientError(ChainruleError, RuntimeError):
    """``gradcheck`` found an analytical gradient that disagrees with finite differences."""


class StateDictError(ChainruleError, KeyError):
    """A state dict does not fit the model: lists every missing, unexpected and mis-shaped key."""

    def __str__(self):  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


class UnknownNameError(ChainruleError, KeyError):
    """A name (of a layer, loss, optimiser, ...) that the registry does not know; lists the valid ones."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class ModelFileError(ChainruleError, ValueError):
    """A model, state or checkpoint file cannot be read: truncated, corrupted, foreign or unsafe."""


class DataError(ChainruleError, ValueError):
    """Input data cannot be used: a missing file or column, a bad value. The message names where."""


class TrainingError(ChainruleError, RuntimeError):
    """Training cannot go on (a nan loss, a checkpoint that does not fit the run)."""


class DeviceError(ChainruleError, RuntimeError):
    """A device was asked for that chainrule cannot use here (no CuPy, no GPU); the message says what is missing."""
