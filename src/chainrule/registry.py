"""One registry of names -> classes (and functions), for model files and the command line.

Every module, loss, optimiser and scheduler registers under a short snake_case name
("linear", "relu", "cross_entropy", "adam"). A model file names only registered
classes, so loading one can only build those classes: it never runs user code.

The kinds in use: ``"module"`` (layers, activations, containers and losses: what a model file
may name), ``"optimizer"``, ``"scheduler"``, ``"activation"`` (the modules that ``nn.mlp`` and the
estimators accept as a hidden activation; each is also a ``"module"``) and ``"metric"`` (the
functions of ``chainrule.metrics``, under their short and their scikit-learn names).
"""

import inspect

from .errors import UnknownNameError

_REGISTRY = {}  # kind -> {name: class or function}


def register(name, kind="module"):
    """Decorator: register a class (or, for ``kind="metric"``, a function) under ``name`` for ``kind``.

    The first name an object is registered under is its ``registered_name``; further names
    (aliases such as ``"acc"`` for ``accuracy``, or the same name under another kind) keep it.
    """

    def deco(cls):
        table = _REGISTRY.setdefault(kind, {})
        if name in table and table[name] is not cls:
            raise ValueError(f"{kind} name {name!r} is already registered to {table[name].__qualname__}")
        table[name] = cls
        if "registered_name" not in vars(cls):  # vars: a subclass of a registered class gets its own name
            cls.registered_name = name
        return cls

    return deco


def get(name, kind="module"):
    """The class registered under ``name``; an unknown name raises UnknownNameError listing the valid ones."""
    table = _REGISTRY.get(kind, {})
    if not isinstance(name, str) or name not in table:
        valid = ", ".join(sorted(table)) or "(none)"
        raise UnknownNameError(f"unknown {kind} {name!r}; valid names: {valid}")
    return table[name]


def names(kind="module"):
    """Sorted registered names of ``kind``."""
    return sorted(_REGISTRY.get(kind, {}))


def name_of(obj, kind="module"):
    """The name ``obj`` is registered under for ``kind``: ``obj``'s class's, or ``obj``'s own if it is a class
    or a function (a metric); None if it is not registered."""
    cls = obj if isinstance(obj, type) or inspect.isfunction(obj) else type(obj)
    name = vars(cls).get("registered_name")
    return name if name is not None and _REGISTRY.get(kind, {}).get(name) is cls else None
