"""Builders: whole networks from a few arguments, as plain ``Sequential`` models.

``mlp`` is the one way chainrule builds a multi-layer perceptron (the estimators of
``chainrule.sklearn`` and the command line use it)::

    from chainrule import nn

    model = nn.mlp(20, [64, 32], 3, activation="gelu", dropout=0.1)
    # Sequential(Linear(20, 64), GELU(), Dropout(0.1), Linear(64, 32), GELU(), Dropout(0.1), Linear(32, 3))

The result is an ordinary ``nn.Sequential`` of ``Linear``, activation and ``Dropout`` layers, so its
state-dict keys are those of the same ``torch.nn.Sequential`` (``0.weight``, ``0.bias``, ``3.weight``,
...), and it saves and loads like any other model.

Activations are named as registered in ``chainrule.registry`` under the kind ``"activation"``: the
modules of ``chainrule.nn.activation`` that build without arguments ("relu", "tanh", "sigmoid",
"gelu", ...) and "identity". A module of your own becomes one with
``@register("name", kind="activation")`` (and ``@register("name")`` so that model files can name it).
"""

import numbers

from ..errors import ArgumentError, UnknownNameError
from ..registry import get as _registry_get
from ..registry import names as _registry_names
from ..registry import register
from . import activation as _activation
from .containers import Sequential
from .linear import Dropout, Identity, Linear
from .module import Module

__all__ = ["mlp"]

for _name in _activation.__all__:
    _cls = getattr(_activation, _name)
    register(_cls.registered_name, kind="activation")(_cls)
register(Identity.registered_name, kind="activation")(Identity)
del _name, _cls


def _is_int(value, low):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


def hidden_widths(value, what="hidden_features"):
    """The hidden layers' widths as a tuple of ints, from an int or a sequence of ints >= 1 (``64``, ``(64, 32)``);
    anything else is an ArgumentError naming ``what``."""
    widths = (value,) if isinstance(value, numbers.Integral) else value
    try:
        widths = tuple(widths)
    except TypeError:
        widths = None
    if widths is None or not all(_is_int(w, 1) for w in widths):
        raise ArgumentError(
            f"{what} must be an integer >= 1 or a sequence of them (the hidden layers' widths), got {value!r}"
        )
    return tuple(int(w) for w in widths)


def _activation_class(activation):
    """The Module class for ``activation``: a name registered as an activation ("relu", "tanh", ...), or a
    Module subclass that builds without arguments (``nn.GELU``).

    Anything else raises: an unknown name, or a registered module that is not an activation ("linear",
    "mse", "sequential"), is an ``UnknownNameError`` listing the valid names; another type an
    ``ArgumentError``.
    """
    if isinstance(activation, str):
        try:
            return _registry_get(activation, kind="activation")
        except UnknownNameError:
            valid = ", ".join(_registry_names("activation"))
            known = activation in _registry_names("module")
            what = (f"{activation!r} is not an activation (it is another kind of registered module)" if known
                    else f"activation {activation!r} is not known")
            raise UnknownNameError(f"{what}; valid names: {valid}") from None
    if isinstance(activation, type) and issubclass(activation, Module):
        return activation
    raise ArgumentError(
        f"activation must be an activation's name (such as 'relu') or a Module class (such as nn.ReLU), "
        f"got {activation!r}"
    )


def mlp(in_features, hidden_features, out_features, activation="relu", dropout=0.0, bias=True, *,
        generator=None, dropout_seed=None):
    """A multi-layer perceptron as an ``nn.Sequential``: for each hidden width ``Linear -> activation
    [-> Dropout]``, then a last ``Linear`` to ``out_features`` (no activation on the outputs: they are
    logits or values, for ``CrossEntropyLoss``, ``BCEWithLogitsLoss`` or ``MSELoss``).

    in_features, out_features : int >= 1
        Widths of the inputs and of the outputs.
    hidden_features : int or sequence of int >= 1
        The hidden layers' widths, first to last (``64`` is one hidden layer; ``()`` gives a single
        ``Linear``, a linear model).
    activation : str or Module class, default "relu"
        The hidden activation, a new module after every hidden ``Linear``: a name registered as an
        activation ("relu", "tanh", "sigmoid", "gelu", "leaky_relu", "elu", "silu", "softplus",
        "identity", ...; see ``chainrule.registry.names("activation")``) or a Module class built
        without arguments.
    dropout : float in [0, 1), default 0.0
        Dropout probability after each hidden activation (only while training); 0 adds no Dropout.
    bias : bool, default True
        Whether the ``Linear`` layers have biases.
    generator : numpy.random.Generator, optional
        Draws the initial weights (what ``nn.init`` takes as ``generator``), with PyTorch's ``nn.Linear``
        initialisation, layer by layer; by default they come from chainrule's default generator
        (``cr.manual_seed``).
    dropout_seed : int, optional
        The i-th Dropout layer (from 0) draws its masks from its own generator seeded ``dropout_seed + i``;
        by default from chainrule's default generator.
    """
    if not _is_int(in_features, 1):
        raise ArgumentError(f"mlp: in_features must be an integer >= 1, got {in_features!r}")
    if not _is_int(out_features, 1):
        raise ArgumentError(f"mlp: out_features must be an integer >= 1, got {out_features!r}")
    widths = hidden_widths(hidden_features, "mlp: hidden_features")
    if not (isinstance(dropout, numbers.Real) and not isinstance(dropout, bool) and 0.0 <= dropout < 1.0):
        raise ArgumentError(f"mlp: dropout must be a probability in [0, 1), got {dropout!r}")
    if not isinstance(bias, bool):
        raise ArgumentError(f"mlp: bias must be True or False, got {bias!r}")
    if dropout_seed is not None and not _is_int(dropout_seed, 0):
        raise ArgumentError(f"mlp: dropout_seed must be None or an integer >= 0, got {dropout_seed!r}")
    act = _activation_class(activation)
    try:
        act()
    except TypeError:
        raise ArgumentError(f"mlp: the activation {act.__name__} cannot be built without arguments") from None

    def linear(n_in, n_out):
        layer = Linear(n_in, n_out, bias=bias)
        if generator is not None:
            layer.reset_parameters(generator=generator)
        return layer

    layers = []
    sizes = (int(in_features), *(int(w) for w in widths))
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [linear(a, b), act()]
        if dropout > 0:
            layers.append(Dropout(float(dropout), seed=None if dropout_seed is None else int(dropout_seed) + i))
    layers.append(linear(sizes[-1], int(out_features)))
    return Sequential(*layers)
