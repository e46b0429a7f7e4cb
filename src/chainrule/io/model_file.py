"""Model files (``cr.save`` / ``cr.load``) and state files (``cr.save_state`` / ``cr.load_state``).

Every file written is a safetensors file, whatever its suffix (a PyTorch script's "model.pt"
too), written atomically; nothing is ever pickled or unpickled.

* A model file (``cr.save(module, path)``): the weights are its tensors (PyTorch's state-dict
  names) and its metadata holds the architecture as JSON: for each module its registered class
  name, its constructor arguments (``get_config()``) and, for containers, its children. Loading
  builds only registered classes from plain data, so it runs no user code.
* A state file (``cr.save(model.state_dict(), path)``, ``cr.save_state``): a plain safetensors
  file of a flat name -> tensor dict, readable by the ``safetensors`` library and by PyTorch's
  ``safetensors.torch.load_file``.
* An object file (``cr.save({"model": ..., "optimizer": opt.state_dict(), "epoch": 3}, path)``):
  nested dicts, lists and tuples of tensors, numbers and strings; the tensors are its tensors
  (named by their path, "model.fc1.weight") and the structure is JSON in its metadata.
"""

import json
import math
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from .. import registry
from ..backend import parameter_budget
from ..errors import ArgumentError, ArgumentTypeError, ChainruleError, ModelFileError
from ..nn import Module, init
from ..tensor import Tensor
from .files import read_safetensors, write_safetensors

FORMAT = "chainrule.model"
FORMAT_VERSION = "1"
OBJECT_FORMAT = "chainrule.object"
_KEYS = "chainrule.keys"  # a state file's names in their original order (safetensors sorts them)
_TAGS = ("__tensor__", "__tuple__", "__items__", "__float__")


def _spec(module):
    name = registry.name_of(module)
    if name is None:
        raise ChainruleError(
            f"cannot save a {type(module).__name__} in a model file: its class is not registered. Register it "
            f"with @chainrule.registry.register('name') (its constructor arguments must be stored under the same "
            f"names), or save its weights only with cr.save_state(model.state_dict(), path)"
        )
    spec = {"class": name, "config": module.get_config(), "training": bool(module.training)}
    if module._container:
        spec["children"] = {k: _spec(c) for k, c in module._modules.items() if c is not None}
    return spec


_MAX_DEPTH = 100  # modules nested deeper than this: not a real model (and deep enough to exhaust Python's stack)


def _short(value, limit=80):
    """``repr(value)`` cut to ``limit`` characters: what a file holds, quoted in a one-line message."""
    return _line(repr(value), limit)


def _line(text, limit=200):
    """``text`` on one line of at most ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _build(spec, where="model", depth=0):
    if depth > _MAX_DEPTH:
        raise ModelFileError(f"corrupted architecture at {where[:100]}...: modules nested more than {_MAX_DEPTH} deep")
    if not isinstance(spec, dict) or not isinstance(spec.get("class"), str):
        raise ModelFileError(f"corrupted architecture at {where}: expected an object with a 'class' name")
    name = spec["class"]
    try:
        cls = registry.get(name)
    except ChainruleError:
        raise ModelFileError(f"unknown layer {_short(name)} in the architecture at {where}; valid names: "
                             f"{', '.join(registry.names())}") from None
    config = spec.get("config", {})
    if not isinstance(config, dict):
        raise ModelFileError(f"corrupted architecture at {where}: 'config' is not an object")
    try:
        with init.skipped():  # the file's weights replace the initial ones: do not draw them
            module = cls.from_config(config)
    except MemoryError:
        raise ModelFileError(f"{name} at {where} asks for more memory than the file's weights justify: "
                             f"{_short(config, 200)}") from None
    except Exception as e:  # noqa: BLE001 - a constructor given what a file says may fail in any way: say how
        what = str(e) if isinstance(e, ChainruleError) else f"{type(e).__name__}: {e}"
        raise ModelFileError(f"cannot rebuild {name} at {where} from {_short(config, 200)}: {_line(what)}") from None
    training = bool(spec.get("training", False))
    if module._container:  # its children come from the file, each with its own flag
        module.__dict__["training"] = training
    else:  # the sub-modules its constructor made (an attention block's dropouts) follow it
        module.train(training)
    children = spec.get("children", {})
    if not isinstance(children, dict):
        raise ModelFileError(f"corrupted architecture at {where}: 'children' is not an object")
    if children and not module._container:
        raise ModelFileError(f"corrupted architecture at {where}: a {name} holds no children")
    for k, child in children.items():
        if not k or "." in k or (hasattr(module, k) and k not in module._modules):
            raise ModelFileError(f"corrupted architecture at {where}: {_short(k)} cannot name a child module "
                                 "(empty, dotted, or an attribute of the container)")
        module.add_module(k, _build(child, f"{where}.{_line(k, 40)}", depth + 1))
    return module


def save(obj, path, metadata=None):
    """Save ``obj`` to ``path`` as one safetensors file (atomically), whatever the suffix, as ``torch.save``.

    * a Module: its architecture and weights (a model file; ``cr.load`` rebuilds the model);
      ``metadata``: extra JSON-able information, returned by ``chainrule.io.read_model_file``;
    * a flat dict of name -> Tensor or array (a state dict): a plain safetensors file, as
      ``cr.save_state`` (``metadata``: a dict of strings), so ``model.load_state_dict(cr.load(path))``
      works and PyTorch reads it with ``safetensors.torch.load_file``;
    * any other nesting of dicts, lists and tuples holding Tensors, arrays, numbers, strings and
      None (an optimiser's ``state_dict()``, ``{"model": ..., "optimizer": ..., "epoch": 3}``):
      tensors stored by their path, the structure as JSON; ``cr.load`` returns it rebuilt.
    """
    if isinstance(obj, Module):
        _save_model(obj, path, metadata)
    elif isinstance(obj, Mapping) and all(isinstance(k, str) for k in obj) and \
            all(isinstance(v, Tensor | np.ndarray) for v in obj.values()):
        save_state(obj, path, metadata)
    elif isinstance(obj, Mapping | list | tuple | Tensor | np.ndarray):
        arrays = {}
        tree = _encode(obj, arrays, "", 0)
        meta = {"format": OBJECT_FORMAT, "format_version": FORMAT_VERSION, "object": json.dumps(tree)}
        if metadata is not None:
            meta["user_metadata"] = json.dumps(metadata)
        write_safetensors(path, arrays, metadata=meta)
    else:
        raise ArgumentTypeError(
            f"cr.save: cannot save a {type(obj).__name__}: chainrule saves a Module, a state dict, or dicts, lists "
            "and tuples of Tensors, arrays, numbers and strings (save an optimiser's state_dict(), not the "
            "optimiser), and never pickles"
        )


def _save_model(model, path, metadata):
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": json.dumps(_spec(model)),
    }
    if metadata is not None:
        meta["user_metadata"] = json.dumps(metadata)
    write_safetensors(path, model.state_dict(), metadata=meta)


def read_model_file(path):
    """Rebuild the model saved in ``path``; returns (model, user metadata or None)."""
    arrays, meta = read_safetensors(path)
    if meta.get("format") != FORMAT:
        raise ModelFileError(
            f"{path}: a safetensors file without a chainrule architecture (a state dict? cr.load returns it as "
            "a dict of Tensors, cr.load_state as one of arrays)"
        )
    return _model_from(arrays, meta, path)


def _model_from(arrays, meta, path):
    try:
        spec = json.loads(meta["architecture"])
    except (KeyError, ValueError, RecursionError):  # (ValueError: also a number of more than 4300 digits)
        raise ModelFileError(f"{path}: corrupted: the architecture is not valid JSON") from None
    try:
        user = json.loads(meta["user_metadata"]) if "user_metadata" in meta else None
    except (ValueError, RecursionError):
        raise ModelFileError(f"{path}: corrupted: the user metadata is not valid JSON") from None
    # the layers' parameters are made to receive the file's weights: an architecture that asks for much more
    # memory than those (a few bytes that say Linear(10**5, 10**5)) is refused before it is allocated
    # (float16 weights fill float32 parameters twice their size; the rest: small layers' buffers)
    budget = 4 * sum(a.nbytes for a in arrays.values()) + 2**20
    try:
        with parameter_budget(budget):
            model = _build(spec)
    except ModelFileError as e:
        raise ModelFileError(f"{path}: {e}") from None
    try:
        model.load_state_dict(arrays)
    except ChainruleError as e:
        raise ModelFileError(f"{path}: the weights do not fit the architecture: {e}"[:500]) from None
    return model, user


def load(path, map_location=None, *, weights_only=None, mmap=None):
    """Load what ``cr.save`` wrote, or any safetensors file, as ``torch.load``; nothing is ever unpickled.

    A model file gives the model (no user code is needed, or ever run); a plain safetensors file
    (a state dict, also one written by PyTorch's ``safetensors.torch.save_file``) gives an ordered
    dict of name -> Tensor, so ``model.load_state_dict(cr.load(path))`` works; an object file gives
    its dicts, lists and tuples back with Tensors inside. A PyTorch pickle (``torch.save``'s zip or
    legacy file) is refused with a ``ModelFileError`` saying how to convert it to safetensors.
    ``map_location``, ``weights_only`` and ``mmap`` are accepted for PyTorch scripts: the tensors
    are read into host memory (move them with ``.to(device)``), and only weights are ever read.
    """
    arrays, meta = read_safetensors(path)
    kind = meta.get("format")
    if kind == FORMAT:
        return _model_from(arrays, meta, path)[0]
    if kind == "chainrule.checkpoint":
        raise ModelFileError(f"{path}: a training checkpoint: resume from it with Trainer.fit(..., resume=True) "
                             "or chainrule.train.load_checkpoint")
    if kind == OBJECT_FORMAT:
        try:
            tree = json.loads(meta["object"])
            return _decode(tree, arrays)
        except (KeyError, TypeError, ValueError, RecursionError):  # (ValueError: also bad JSON)
            raise ModelFileError(f"{path}: corrupted: its object structure is not one that cr.save writes") from None
    return OrderedDict((k, Tensor._wrap(a)) for k, a in _in_order(arrays, meta).items())


def save_state(state_dict, path, metadata=None):
    """Save a state dict (name -> array or Tensor) as a plain safetensors file (any suffix; atomically)."""
    arrays = {}
    for k, v in state_dict.items():
        a = np.asarray(v._data if isinstance(v, Tensor) else v)
        if a.dtype.kind not in "biuf":
            raise ArgumentError(f"save_state: {k!r} holds an array of dtype {a.dtype}; a state file holds numbers")
        arrays[str(k)] = a
    meta = {"format": "pt"}
    if metadata:
        meta.update({str(k): str(v) for k, v in metadata.items()})
    meta[_KEYS] = json.dumps(list(arrays))
    write_safetensors(path, arrays, metadata=meta)


def load_state(path):
    """Load a state dict (an ordered dict of name -> NumPy array) from a safetensors file."""
    arrays, meta = read_safetensors(path)
    return _in_order(arrays, meta)


def _in_order(arrays, meta):
    """``arrays`` in the order their state dict had when chainrule wrote them (the file's order otherwise)."""
    try:
        keys = json.loads(meta[_KEYS])
    except (KeyError, ValueError, RecursionError):
        return arrays
    if not isinstance(keys, list) or len(keys) != len(arrays) or set(map(str, keys)) != set(arrays):
        return arrays
    return OrderedDict((k, arrays[k]) for k in keys)


# ---- object files: nested plain data and tensors <-> JSON + named arrays ------------------------------------


def _encode(obj, arrays, key, depth):
    """``obj`` as JSON data; each Tensor or array goes to ``arrays`` under its path (``key``)."""
    if depth > _MAX_DEPTH:
        raise ArgumentError(f"cr.save: the object is nested more than {_MAX_DEPTH} deep (at {key[:100]}...)")
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, Tensor | np.ndarray):
        a = np.asarray(obj._data if isinstance(obj, Tensor) else obj)
        if a.dtype.kind not in "biuf":
            raise ArgumentError(f"cr.save: {key or 'the object'} is an array of dtype {a.dtype}; files hold numbers")
        name = key or "tensor"
        while name in arrays:  # two paths that print alike ("a.b" and a -> b): keep both
            name += "'"
        arrays[name] = a
        return {"__tensor__": name}
    if isinstance(obj, np.generic):
        return _encode(obj.item(), arrays, key, depth)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}

    def child(k):
        return f"{key}.{k}" if key else str(k)

    if isinstance(obj, Mapping):
        if all(isinstance(k, str) and k not in _TAGS for k in obj):
            return {k: _encode(v, arrays, child(k), depth + 1) for k, v in obj.items()}
        return {"__items__": [[_encode(k, arrays, child(f"k{i}"), depth + 1), _encode(v, arrays, child(k), depth + 1)]
                              for i, (k, v) in enumerate(obj.items())]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays, child(i), depth + 1) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, arrays, child(i), depth + 1) for i, v in enumerate(obj)]
    raise ArgumentTypeError(f"cr.save: {key or 'the object'} is a {type(obj).__name__}; files hold Tensors, arrays, "
                            "numbers, strings, None and dicts, lists and tuples of them (nothing is pickled)")


def _decode(obj, arrays):
    """The structure ``_encode`` wrote, with Tensors; a TypeError or ValueError for anything else."""
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 1:
        ((tag, value),) = obj.items()
        if tag == "__tensor__":
            if not isinstance(value, str) or value not in arrays:
                raise ValueError("a tensor it refers to is missing")
            return Tensor._wrap(arrays[value])
        if tag == "__tuple__":
            if not isinstance(value, list):
                raise TypeError(type(value).__name__)
            return tuple(_decode(v, arrays) for v in value)
        if tag == "__items__":
            if not isinstance(value, list) or not all(isinstance(p, list) and len(p) == 2 for p in value):
                raise ValueError("not a list of pairs")
            return {_hashable(_decode(k, arrays)): _decode(v, arrays) for k, v in value}
        if tag == "__float__":
            if value not in ("nan", "inf", "-inf"):  # the only ones ever written
                raise ValueError(value)
            return float(value)
    return {k: _decode(v, arrays) for k, v in obj.items()}


def _hashable(key):
    if isinstance(key, list | tuple):
        return tuple(_hashable(k) for k in key)
    if isinstance(key, dict | Tensor):
        raise TypeError("a key cannot be a dict or a tensor")
    return key
