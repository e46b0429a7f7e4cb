"""Model files (``cr.save`` / ``cr.load``) and state files (``cr.save_state`` / ``cr.load_state``).

A model file is a safetensors file: the weights are its tensors (PyTorch's state-dict
names) and its metadata holds the architecture as JSON: for each module its registered
class name, its constructor arguments (``get_config()``) and, for containers, its
children. Loading builds only registered classes from plain data, so it runs no user
code. A state file is a plain safetensors file of a state dict, readable by the
``safetensors`` library and by PyTorch's loader.
"""

import json

import numpy as np

from .. import registry
from ..backend import parameter_budget
from ..errors import ChainruleError, ModelFileError
from ..nn import init
from .files import read_safetensors, write_safetensors

FORMAT = "chainrule.model"
FORMAT_VERSION = "1"


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
    module.__dict__["training"] = bool(spec.get("training", False))
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


def save(model, path, metadata=None):
    """Save ``model`` (architecture and weights) to one file; ``metadata``: extra JSON-able information."""
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
            f"{path}: a safetensors file without a chainrule architecture (a state file? use cr.load_state)"
        )
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


def load(path):
    """Load a model saved with ``cr.save``; no user code is needed (or ever run)."""
    return read_model_file(path)[0]


def save_state(state_dict, path, metadata=None):
    """Save a state dict (name -> array or Tensor) as a plain safetensors file."""
    arrays = {k: np.asarray(v._data if hasattr(v, "_data") and not isinstance(v, np.ndarray) else v)
              for k, v in state_dict.items()}
    meta = {"format": "pt"}
    if metadata:
        meta.update({str(k): str(v) for k, v in metadata.items()})
    write_safetensors(path, arrays, metadata=meta)


def load_state(path):
    """Load a state dict (an ordered dict of name -> NumPy array) from a safetensors file."""
    return read_safetensors(path)[0]
