"""``Module``: the block a network is built from, with registration by assignment (as PyTorch).

Assigning a ``Parameter`` or a ``Module`` to an attribute files it in ``_parameters`` or
``_modules``; ``register_buffer`` files state that is saved but not learned (running
statistics). ``named_modules`` is the one tree walk; parameters, buffers, state dicts,
``train``/``eval`` and ``zero_grad`` are all built on it.
"""

import inspect
from collections import OrderedDict, namedtuple

import numpy as np

from .. import device as _device
from ..errors import ArgumentTypeError, ChainruleError, DTypeError, StateDictError
from ..tensor import Tensor, _is_dtype_name, _to_array, as_dtype
from .parameter import Parameter

_CORE = {"_parameters", "_buffers", "_non_persistent", "_modules", "training"}
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _jsonable(value):
    """A constructor argument as plain JSON data (tuples become lists, NumPy scalars Python numbers)."""
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Tensor):
        return value._data.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


class Module:
    """Base class of every layer, activation, loss and network.

    Subclasses call ``super().__init__()`` first, assign Parameters and sub-modules as
    attributes, and write ``forward``. Calling the module runs ``forward``.
    """

    _container = False  # True for Sequential & co.: their children are not built from get_config()

    def __init__(self):
        d = self.__dict__
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent"] = set()
        d["_modules"] = {}
        d["training"] = True

    # ---- registration by assignment ------------------------------------------------------
    #
    # Parameters, buffers and sub-modules live in their tables (``_parameters``, ``_buffers``,
    # ``_modules``: order, state dicts, the tree walk) and are mirrored as plain instance attributes,
    # so that ``self.weight`` in a forward is an ordinary lookup, not a miss followed by __getattr__
    # (which costs 0.6 us a time). Names of the class's own attributes (methods, properties) and the
    # core names are not mirrored, so those keep meaning what the class says, as in PyTorch.

    def _mirror(self, name, value):
        if name not in _CORE and not hasattr(type(self), name):
            self.__dict__[name] = value

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter | Module):
            if params is None:
                kind = "parameter" if isinstance(value, Parameter) else "sub-module"
                raise ChainruleError(
                    f"cannot assign {kind} {name!r} before Module.__init__() ran: call super().__init__() "
                    f"first in {type(self).__name__}.__init__"
                )
            table = params if isinstance(value, Parameter) else d["_modules"]
            if name not in table:  # a replacement keeps its place, as in PyTorch
                self._forget(name)
            table[name] = value
            self._mirror(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise ArgumentTypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} of {type(self).__name__} "
                    "(use nn.Parameter(...) or None)"
                )
            params[name] = None
            self._mirror(name, None)
        elif params is not None and name in d["_buffers"]:
            d["_buffers"][name] = value = value if value is None or isinstance(value, Tensor) else Tensor(value)
            self._mirror(name, value)
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise ArgumentTypeError(
                    f"cannot assign {type(value).__name__} as sub-module {name!r} (use a Module or None)"
                )
            d["_modules"][name] = None
            self._mirror(name, None)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):  # called only when ordinary lookup fails
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            t = d.get(table)
            if t is not None and name in t:
                return t[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        if not self._forget(name):
            object.__delattr__(self, name)

    def _forget(self, name):
        d = self.__dict__
        found = False
        for table in ("_parameters", "_buffers", "_modules"):
            if name in d.get(table, ()):
                del d[table][name]
                found = True
        d.get("_non_persistent", set()).discard(name)
        if name in d and name not in _CORE:  # a plain attribute of the same name gives way
            del d[name]
        return found

    def register_parameter(self, name, param):
        """Add a parameter (or None, for an optional one such as a missing bias)."""
        if param is None:
            self._forget(name)
            self._parameters[name] = None
            self._mirror(name, None)
        else:
            setattr(self, name, param if isinstance(param, Parameter) else Parameter(param))

    def register_buffer(self, name, tensor, persistent=True):
        """Add state that is not learned (running statistics); saved in the state dict if persistent."""
        self._forget(name)
        self._buffers[name] = tensor = tensor if tensor is None or isinstance(tensor, Tensor) else Tensor(tensor)
        self._mirror(name, tensor)
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise ArgumentTypeError(f"add_module: {type(module).__name__} is not a Module")
        if name not in self._modules:
            self._forget(name)
        self._modules[name] = module
        self._mirror(name, module)

    # ---- running ---------------------------------------------------------------------------

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- the tree walk ---------------------------------------------------------------------

    def named_modules(self, prefix=""):
        """(dotted name, module) for this module and every descendant, each once, parents first."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            children = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for k, c in self._modules.items():
            if c is not None:
                yield k, c

    def children(self):
        for _, c in self.named_children():
            yield c

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) for every parameter, each once, in registration order."""
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for k, p in m._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mname}.{k}" if mname else k), p

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for k, b in m._buffers.items():
                if b is not None:
                    yield (f"{mname}.{k}" if mname else k), b

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes and gradients ---------------------------------------------------------------

    def train(self, mode=True):
        """Set training mode (dropout active, batch norm uses batch statistics) on the whole tree."""
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
        return self

    def eval(self):
        """Set evaluation mode (dropout off, batch norm uses running statistics)."""
        return self.train(False)

    # ---- dtype ------------------------------------------------------------------------------------

    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """``to(dtype)``, ``to(device)`` or ``to(device, dtype)``, as ``torch.nn.Module.to``: the floating-point
        parameters and buffers of the whole tree are cast to ``dtype`` in place, keeping each array's memory
        order (integer buffers are kept), and moved to ``device``. Returns self."""
        for a in args:
            if isinstance(a, str | _device.device) and not _is_dtype_name(a):
                device = a
            elif isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            else:
                dtype = a
        tensors = [t for t in (*self.parameters(), *self.buffers()) if t is not None]
        if device is not None:
            for t in tensors:  # in place: optimisers holding these parameters keep seeing them
                moved = _device.move(t, device)
                if moved is not t:
                    t._data = moved._data
                    if t.grad is not None:
                        t.grad._data = _device.move(t.grad, device)._data
        if dtype is None:
            return self
        d = as_dtype(dtype)
        if d.kind != "f":
            raise DTypeError(f"{type(self).__name__}.to: parameters must stay floating point, got {d}")
        for t in tensors:
            if t._data.dtype.kind == "f" and t._data.dtype != d:
                t._data = t._data.astype(d)
                if t.grad is not None:
                    t.grad._data = t.grad._data.astype(d)
        return self

    def double(self):
        """``to(float64)``."""
        return self.to(np.float64)

    def float(self):
        """``to(float32)``."""
        return self.to(np.float32)

    def half(self):
        """``to(float16)``."""
        return self.to(np.float16)

    def cpu(self):
        """``to("cpu")``."""
        return self.to(device="cpu")

    def cuda(self, device=None):
        """``to("cuda")``: on the GPU through CuPy; an error naming what is missing when there is none."""
        return self.to(device="cuda" if device is None else device)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad._data[...] = 0

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module (children first) and on this module; returns self."""
        for c in self.children():
            c.apply(fn)
        fn(self)
        return self

    # ---- state ---------------------------------------------------------------------------------

    def _state_tensors(self):
        """Dotted name -> Tensor for every parameter and persistent buffer (PyTorch's key names).

        A module used in two places appears under both names, as in PyTorch's state dicts.
        """
        out = OrderedDict()
        stack = [("", self)]
        while stack:
            mname, m = stack.pop()
            children = [(f"{mname}.{k}" if mname else k, c) for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(children))
            for k, p in m._parameters.items():
                if p is not None:
                    out[f"{mname}.{k}" if mname else k] = p
            for k, b in m._buffers.items():
                if b is not None and k not in m._non_persistent:
                    out[f"{mname}.{k}" if mname else k] = b
        return out

    def state_dict(self):
        """A flat ordered dict of dotted names to NumPy arrays (copies): parameters and persistent buffers."""
        return OrderedDict((k, np.array(t._data, copy=True)) for k, t in self._state_tensors().items())

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` (arrays or Tensors) into this module's parameters and buffers.

        Every missing, unexpected and mis-shaped key is reported together in one error
        (missing and unexpected keys only when ``strict``). Returns (missing_keys, unexpected_keys).
        """
        own = self._state_tensors()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        arrays = {}
        mismatched = []
        for k, t in own.items():
            if k in state_dict:
                v = state_dict[k]
                a = v._data if isinstance(v, Tensor) else _to_array(v, dtype=t._data.dtype)
                if a.shape != t._data.shape:
                    mismatched.append(f"{k}: expected shape {t._data.shape}, got {a.shape}")
                arrays[k] = a
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if mismatched:
            problems.append("shape mismatches: " + "; ".join(mismatched))
        if problems:
            raise StateDictError(f"load_state_dict for {type(self).__name__}: " + " | ".join(problems))
        for k, a in arrays.items():
            own[k]._data[...] = a  # in place: optimisers holding these parameters keep seeing them
        return IncompatibleKeys(missing, unexpected)

    # ---- description -------------------------------------------------------------------------

    def get_config(self):
        """The constructor arguments that rebuild this module (``type(m).from_config(m.get_config())``).

        By default each argument of ``__init__`` is read back from the attribute of the same
        name; an argument naming an optional parameter (``bias``) reports whether it exists.
        """
        if self._container:  # a container's children travel beside its config, not in it
            return {}
        config = {}
        params = list(inspect.signature(type(self).__init__).parameters.values())[1:]
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if p.name in self._parameters:
                value = self._parameters[p.name] is not None
            elif p.name in self._buffers:
                value = self._buffers[p.name]
            elif p.name in self.__dict__ or hasattr(type(self), p.name):
                value = getattr(self, p.name)
            elif p.default is not p.empty:
                value = p.default
            else:
                raise NotImplementedError(
                    f"{type(self).__name__}.get_config: argument {p.name!r} is not stored on the module; "
                    "store it under that name or override get_config()"
                )
            config[p.name] = _jsonable(value)
        return config

    @classmethod
    def from_config(cls, config):
        """Build a module from ``get_config()``'s output."""
        return cls(**config)

    def extra_repr(self):
        """The text inside the parentheses of this module's repr (its configuration)."""
        if self._container:
            return ""
        try:
            return ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            return ""

    def __repr__(self):
        lines = []
        for k, c in self._modules.items():
            body = repr(c).replace("\n", "\n  ")
            lines.append(f"  ({k}): {body}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}({extra}" if extra else f"{type(self).__name__}("
        return head + "\n" + "\n".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))
