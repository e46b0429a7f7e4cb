"""One registry of names -> classes, for model files and the command line.

Every module, loss, optimiser and scheduler registers under a short snake_case name
("linear", "relu", "cross_entropy", "adam"). A model file names only registered
classes, so loading one can only build those classes: it never runs user code.
"""

from .errors import UnknownNameError

_REGISTRY = {}  # kind -> {name: class}


def register(name, kind="module"):
    """Class decorator: register ``cls`` under ``name`` for ``kind`` ("module", "optimizer", "scheduler")."""

    def deco(cls):
        table = _REGISTRY.setdefault(kind, {})
        if name in table and table[name] is not cls:
            raise ValueError(f"{kind} name {name!r} is already registered to {table[name].__qualname__}")
        table[name] = cls
        cls.registered_name = name
        return cls

    return deco


def get(name, kind="module"):
    """The class registered under ``name``; an unknown name raises an error listing the valid ones."""
    table = _REGISTRY.get(kind, {})
    if name not in table:
        valid = ", ".join(sorted(table)) or "(none)"
        raise UnknownNameError(f"unknown {kind} {name!r}; valid names: {valid}")
    return table[name]


def names(kind="module"):
    """Sorted registered names of ``kind``."""
    return sorted(_REGISTRY.get(kind, {}))


def name_of(obj, kind="module"):
    """The registered name of ``obj``'s class, or None if its class is not registered."""
    cls = obj if isinstance(obj, type) else type(obj)
    name = cls.__dict__.get("registered_name")
    return name if name is not None and _REGISTRY.get(kind, {}).get(name) is cls else None
