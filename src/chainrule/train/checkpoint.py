"""Training checkpoints: everything a run needs to go on exactly as if it had never stopped, in one file.

A checkpoint is one safetensors file, written atomically (a temporary file, then a rename),
so a run killed while saving leaves the previous checkpoint intact. Its tensors are the
model's state dict (``model.<name>``) and every array of the optimiser, scheduler and
callback states; its metadata holds the rest as JSON: the epoch, the history, the
optimiser's parameter groups and step counts, the scheduler, the callbacks' state (early
stopping's best value and wait), whether training had been stopped, and every random state
that decides what comes next: chainrule's default generator, the generators that layers
own (``Dropout(seed=...)``) and each DataLoader's seed and epoch. Nothing is pickled:
reading a checkpoint builds only numbers, strings, lists, dicts, tuples and arrays.
"""

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np

from .. import random as cr_random
from ..errors import ChainruleError, ModelFileError, TrainingError
from ..io import read_safetensors, write_safetensors

FORMAT = "chainrule.checkpoint"
FORMAT_VERSION = "1"
_TAGS = ("__tensor__", "__tuple__", "__items__", "__counter__", "__float__", "__set__")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


# ---- plain data <-> JSON + arrays ----------------------------------------------------------


class _Encoder:
    """Turns nested state (dicts, lists, tuples, numbers, arrays) into JSON data; arrays go to ``arrays``."""

    def __init__(self, arrays):
        self.arrays = arrays

    def __call__(self, obj, key):
        if obj is None or isinstance(obj, bool | str):
            return obj
        if isinstance(obj, np.ndarray):
            if obj.dtype == object or obj.dtype.kind not in "biuf":
                raise TrainingError(f"cannot save {key} in a checkpoint: arrays of dtype {obj.dtype} are not supported")
            while key in self.arrays:  # two paths that print alike: keep both
                key += "'"
            self.arrays[key] = np.ascontiguousarray(obj)
            return {"__tensor__": key}
        if hasattr(obj, "data") and isinstance(getattr(obj, "data", None), np.ndarray):  # a Tensor
            return self(obj._data, key)
        if isinstance(obj, np.generic):
            return self(obj.item(), key)
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, Counter):
            return {"__counter__": [[self(k, f"{key}.k{i}"), self(v, f"{key}.{i}")]
                                    for i, (k, v) in enumerate(obj.items())]}
        if isinstance(obj, dict):
            if all(isinstance(k, str) and not (k.startswith("__") and k.endswith("__")) for k in obj):
                return {k: self(v, f"{key}.{k}") for k, v in obj.items()}
            items = enumerate(obj.items())
            return {"__items__": [[self(k, f"{key}.k{i}"), self(v, f"{key}.{k}")] for i, (k, v) in items]}
        if isinstance(obj, tuple):
            return {"__tuple__": [self(v, f"{key}.{i}") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self(v, f"{key}.{i}") for i, v in enumerate(obj)]
        if isinstance(obj, set | frozenset):
            return {"__set__": [self(v, f"{key}.{i}") for i, v in enumerate(sorted(obj, key=repr))]}
        raise TrainingError(
            f"cannot save {key} in a checkpoint: a {type(obj).__name__} is not plain data (numbers, strings, lists, "
            "dicts, arrays); a callback's state_dict() must return plain data"
        )


def _decode(obj, arrays, where="checkpoint"):
    """The state ``_Encoder`` wrote, rebuilt; anything else (a corrupted file) raises ModelFileError."""
    try:
        return _decoded(obj, arrays, where)
    except (TypeError, ValueError, RecursionError):  # a tag with the wrong kind of value, nesting too deep
        raise ModelFileError(f"{where}: corrupted: the checkpoint metadata holds state that chainrule never "
                             "writes") from None


def _decoded(obj, arrays, where):
    if isinstance(obj, list):
        return [_decoded(v, arrays, where) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 1:
        (tag, value), = obj.items()
        if tag == "__tensor__":
            if not isinstance(value, str) or value not in arrays:
                raise ModelFileError(f"{where}: corrupted: the tensor {_short(value)} it refers to is missing")
            return arrays[value]
        if tag == "__tuple__":
            return tuple(_decoded(v, arrays, where) for v in _list(value))
        if tag == "__items__":
            return {_hashable(_decoded(k, arrays, where)): _decoded(v, arrays, where) for k, v in _pairs(value)}
        if tag == "__counter__":
            return Counter({_hashable(_decoded(k, arrays, where)): _decoded(v, arrays, where)
                            for k, v in _pairs(value)})
        if tag == "__float__":
            if value not in ("nan", "inf", "-inf"):  # the only ones ever written
                raise ValueError(value)
            return float(value)
        if tag == "__set__":
            return {_hashable(_decoded(v, arrays, where)) for v in _list(value)}
    return {k: _decoded(v, arrays, where) for k, v in obj.items()}


def _list(value):
    if not isinstance(value, list):
        raise TypeError(type(value).__name__)
    return value


def _pairs(value):
    if not all(isinstance(pair, list) and len(pair) == 2 for pair in _list(value)):
        raise ValueError("not a list of pairs")
    return value


def _short(value, limit=80):
    """``repr(value)`` on one line of at most ``limit`` characters (what a file holds, quoted in a message)."""
    return _line(repr(value), limit)


def _line(text, limit=120):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _hashable(key):
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


# ---- random states ---------------------------------------------------------------------------


def _module_generators(model):
    """``"<module name>:<attribute>"`` -> each numpy Generator a layer of ``model`` owns (Dropout(seed=...))."""
    out = {}
    for name, m in model.named_modules():
        for attr, value in vars(m).items():
            if isinstance(value, np.random.Generator):
                out[f"{name}:{attr}"] = value
    return out


def _restore_generator(gen, state, where):
    """Set ``gen`` to ``state`` in place when it has the same bit generator, else return a new Generator."""
    kind = state.get("bit_generator") if isinstance(state, dict) else None
    if not isinstance(kind, str) or kind not in _BIT_GENERATORS:
        raise ModelFileError(f"{where}: unknown random bit generator {_short(kind)}")
    new = gen if gen is not None and type(gen.bit_generator).__name__ == kind else \
        np.random.Generator(getattr(np.random, kind)())
    before = new.bit_generator.state
    try:
        new.bit_generator.state = state
    except (KeyError, TypeError, ValueError, OverflowError):  # what numpy raises for a state it cannot take
        new.bit_generator.state = before
        raise ModelFileError(f"{where}: corrupted: a random state of the {kind} generator is not valid") from None
    return new


def _loaders(trainer):
    return {k: ld for k, ld in (("train", getattr(trainer, "train_loader", None)),
                                ("val", getattr(trainer, "val_loader", None))) if hasattr(ld, "state_dict")}


def _stateful_callbacks(trainer):
    """The user's callbacks (those whose state is part of the run), in order."""
    return list(getattr(trainer, "callbacks", ()))


# ---- save / load -----------------------------------------------------------------------------


def save_checkpoint(path, trainer, epoch):
    """Write everything ``trainer`` needs to resume after ``epoch`` completed epochs to one safetensors file.

    ``epoch`` is the number of epochs done (training resumes at that epoch index). The file is
    written atomically. Returns the path.
    """
    arrays = {}
    enc = _Encoder(arrays)
    model_state = trainer.model.state_dict()
    for k, v in model_state.items():
        arrays[f"model.{k}"] = np.ascontiguousarray(v)
    scheduler = getattr(trainer, "scheduler", None)
    history = getattr(trainer, "history", None)
    payload = {
        "epoch": int(epoch),
        "stop_training": bool(getattr(trainer, "stop_training", False)),
        "model_keys": list(model_state),
        "optimizer": enc(trainer.optimizer.state_dict(), "optimizer"),
        "optimizer_class": type(trainer.optimizer).__name__,
        "scheduler": None if scheduler is None else {
            "class": type(scheduler).__name__, "state": enc(scheduler.state_dict(), "scheduler")},
        "history": None if history is None else enc(history.state_dict(), "history"),
        "callbacks": [
            {"class": type(cb).__name__, "state": enc(cb.state_dict(), f"callbacks.{i}")}
            for i, cb in enumerate(_stateful_callbacks(trainer))
            if hasattr(cb, "state_dict")
        ],
        "rng": {
            "default": enc(cr_random.default_generator().bit_generator.state, "rng.default"),
            "modules": {
                k: enc(g.bit_generator.state, f"rng.{k}") for k, g in _module_generators(trainer.model).items()
            },
            "loaders": {k: enc(ld.state_dict(), f"loader.{k}") for k, ld in _loaders(trainer).items()},
        },
    }
    try:
        text = json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as e:  # the encoder should make this impossible
        raise TrainingError(f"cannot save a checkpoint to {path}: {e}") from None
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "checkpoint": text}
    write_safetensors(path, arrays, metadata=meta)
    return Path(path)


def read_checkpoint(path):
    """Read a checkpoint file: returns (payload with arrays decoded, model state dict). Changes nothing."""
    arrays, meta = read_safetensors(path)
    if meta.get("format") != FORMAT:
        what = "a chainrule model file (use cr.load)" if meta.get("format") == "chainrule.model" else \
            "a safetensors file that is not a chainrule checkpoint"
        raise ModelFileError(f"{path}: not a training checkpoint: it is {what}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: checkpoint format version {_short(meta.get('format_version'))} is not "
                             f"supported (this chainrule reads version {FORMAT_VERSION})")
    try:
        raw = json.loads(meta["checkpoint"])
    except (KeyError, ValueError, RecursionError):  # (ValueError: also a number of more than 4300 digits)
        raise ModelFileError(f"{path}: corrupted: the checkpoint metadata is not valid JSON") from None
    if not isinstance(raw, dict) or type(raw.get("epoch")) is not int or raw["epoch"] < 0:
        raise ModelFileError(f"{path}: corrupted: the checkpoint metadata has no epoch")
    payload = _decode(raw, arrays, str(path))
    _check_payload(payload, path)
    keys = payload.get("model_keys") or [k[6:] for k in arrays if k.startswith("model.")]
    missing = [k for k in keys if f"model.{k}" not in arrays]
    if missing:
        raise ModelFileError(f"{path}: corrupted: model tensor {_short(missing[0])} is missing")
    return payload, {k: arrays[f"model.{k}"] for k in keys}


def _check_payload(payload, path):
    """The checkpoint metadata has the fields ``save_checkpoint`` writes, each of the kind it writes."""

    def need(ok, what):
        if not ok:
            raise ModelFileError(f"{path}: corrupted: in the checkpoint metadata, {what}")

    def optional(value, kind):
        return value is None or isinstance(value, kind)

    get = payload.get
    need(optional(get("model_keys"), list) and all(isinstance(k, str) for k in get("model_keys") or ()),
         "'model_keys' is not a list of names")
    opt = get("optimizer")
    need(isinstance(opt, dict) and isinstance(opt.get("state"), dict) and isinstance(opt.get("param_groups"), list),
         "'optimizer' is not an optimiser's state dict")
    need(optional(get("optimizer_class"), str), "'optimizer_class' is not a name")
    sched = get("scheduler")
    need(sched is None or (isinstance(sched, dict) and isinstance(sched.get("class"), str)
                           and isinstance(sched.get("state"), dict)), "'scheduler' is not a scheduler's state")
    need(optional(get("history"), dict), "'history' is not a History's state")
    callbacks = get("callbacks", [])
    need(isinstance(callbacks, list) and all(isinstance(c, dict) and isinstance(c.get("class"), str)
                                             for c in callbacks), "'callbacks' is not a list of callbacks' states")
    rng = get("rng", {})
    need(isinstance(rng, dict) and optional(rng.get("default"), dict), "'rng' is not a set of random states")
    for part in ("modules", "loaders"):
        states = rng.get(part, {})
        need(isinstance(states, dict) and all(isinstance(v, dict) for v in states.values()),
             f"rng.{part} is not a map of random states")
    need(all(isinstance(k, str) and ":" in k for k in rng.get("modules", {})), "rng.modules has a malformed name")


def checkpoint_epoch(path):
    """The number of completed epochs recorded in the checkpoint at ``path``."""
    return read_checkpoint(path)[0]["epoch"]


def load_checkpoint(path, trainer):
    """Restore ``trainer`` (model, optimiser, scheduler, history, callbacks, random states) from ``path``.

    Returns the number of completed epochs saved there: the epoch index training resumes at.
    A checkpoint that does not fit the trainer (other layers, optimiser or scheduler) raises
    TrainingError naming what differs.
    """
    payload, model_state = read_checkpoint(path)
    apply_checkpoint(payload, model_state, trainer, path)
    return payload["epoch"]


def apply_checkpoint(payload, model_state, trainer, path="checkpoint"):
    """Load a checkpoint already read by ``read_checkpoint`` into ``trainer``."""

    def unfit(what, e):
        return TrainingError(f"{path}: the checkpoint does not fit this run: {what}: {e}")

    try:
        trainer.model.load_state_dict(model_state)
    except ChainruleError as e:
        raise unfit("the model", e) from None
    saved_opt = payload.get("optimizer_class")
    if saved_opt is not None and saved_opt != type(trainer.optimizer).__name__:
        raise TrainingError(
            f"{path}: the checkpoint does not fit this run: it has optimiser {saved_opt}, "
            f"the trainer {type(trainer.optimizer).__name__}"
        )
    try:
        trainer.optimizer.load_state_dict(payload["optimizer"])
    except (ChainruleError, KeyError, TypeError, ValueError) as e:
        raise unfit(f"the optimiser ({type(trainer.optimizer).__name__})", e) from None
    saved_sched, sched = payload.get("scheduler"), getattr(trainer, "scheduler", None)
    if (saved_sched is None) != (sched is None) or (
        sched is not None and saved_sched["class"] != type(sched).__name__
    ):
        have = "none" if sched is None else type(sched).__name__
        want = "none" if saved_sched is None else saved_sched["class"]
        raise TrainingError(
            f"{path}: the checkpoint does not fit this run: it has scheduler {want}, the trainer {have}"
        )
    if sched is not None:
        _restore(sched, saved_sched["state"], f"the scheduler ({type(sched).__name__})", path)
    if payload.get("history") is not None and getattr(trainer, "history", None) is not None:
        _restore(trainer.history, payload["history"], "the history", path)
    _apply_callbacks(payload.get("callbacks", []), trainer, path)
    rng = payload.get("rng", {})
    if "default" in rng:
        cr_random.set_default_generator(_restore_generator(cr_random.default_generator(), rng["default"], path))
    own = _module_generators(trainer.model)
    saved = rng.get("modules", {})
    if set(own) != set(saved):
        raise TrainingError(
            f"{path}: the checkpoint does not fit this run: layers with their own random generator differ "
            f"(checkpoint: {sorted(saved)}, model: {sorted(own)})"
        )
    for k, state in saved.items():
        module_name, attr = k.rsplit(":", 1)
        module = trainer.model if not module_name else dict(trainer.model.named_modules())[module_name]
        new = _restore_generator(own[k], state, path)
        if new is not own[k]:
            object.__setattr__(module, attr, new)
    loaders = _loaders(trainer)
    for k, state in rng.get("loaders", {}).items():
        if k in loaders:
            _restore(loaders[k], state, f"the {k} loader", path)
    trainer.stop_training = bool(payload.get("stop_training", False))


def _apply_callbacks(saved, trainer, path):
    callbacks = _stateful_callbacks(trainer)
    used = set()
    for entry in saved:
        if not entry.get("state"):
            continue
        for i, cb in enumerate(callbacks):
            if i not in used and type(cb).__name__ == entry["class"] and hasattr(cb, "load_state_dict"):
                used.add(i)
                _restore(cb, entry["state"], f"the {entry['class']} callback", path)
                break
        else:
            raise TrainingError(
                f"{path}: the checkpoint does not fit this run: it holds the state of a {_short(entry['class'])} "
                f"callback that the trainer does not have (its callbacks: {[type(c).__name__ for c in callbacks]})"
            )


def _restore(obj, state, what, path):
    """``obj.load_state_dict(state)``, where ``state`` comes from a file: a state it cannot take is a ModelFileError."""
    try:
        obj.load_state_dict(state)
    except ChainruleError as e:
        raise TrainingError(f"{path}: the checkpoint does not fit this run: {what}: {e}") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as e:
        raise ModelFileError(f"{path}: corrupted: the state of {what} cannot be restored "
                             f"({type(e).__name__}: {_line(str(e))})") from None
