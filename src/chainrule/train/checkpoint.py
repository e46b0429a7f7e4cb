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
            return self(obj.data, key)
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
    if isinstance(obj, list):
        return [_decode(v, arrays, where) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 1:
        (tag, value), = obj.items()
        if tag == "__tensor__":
            if value not in arrays:
                raise ModelFileError(f"{where}: corrupted: the tensor {value!r} it refers to is missing")
            return arrays[value]
        if tag == "__tuple__":
            return tuple(_decode(v, arrays, where) for v in value)
        if tag == "__items__":
            return {_hashable(_decode(k, arrays, where)): _decode(v, arrays, where) for k, v in value}
        if tag == "__counter__":
            return Counter({_hashable(_decode(k, arrays, where)): _decode(v, arrays, where) for k, v in value})
        if tag == "__float__":
            return float(value)  # only 'nan', 'inf', '-inf' are ever written
        if tag == "__set__":
            return {_hashable(_decode(v, arrays, where)) for v in value}
    return {k: _decode(v, arrays, where) for k, v in obj.items()}


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
    if kind not in _BIT_GENERATORS:
        raise ModelFileError(f"{where}: unknown random bit generator {kind!r}")
    if gen is None or type(gen.bit_generator).__name__ != kind:
        gen = np.random.Generator(getattr(np.random, kind)())
    gen.bit_generator.state = state
    return gen


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
        raise ModelFileError(f"{path}: checkpoint format version {meta.get('format_version')!r} is not supported "
                             f"(this chainrule reads version {FORMAT_VERSION})")
    try:
        raw = json.loads(meta["checkpoint"])
    except (KeyError, json.JSONDecodeError, RecursionError):
        raise ModelFileError(f"{path}: corrupted: the checkpoint metadata is not valid JSON") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("epoch"), int):
        raise ModelFileError(f"{path}: corrupted: the checkpoint metadata has no epoch")
    payload = _decode(raw, arrays, str(path))
    keys = payload.get("model_keys") or [k[6:] for k in arrays if k.startswith("model.")]
    try:
        model_state = {k: arrays[f"model.{k}"] for k in keys}
    except KeyError as e:
        raise ModelFileError(f"{path}: corrupted: model tensor {e.args[0]!r} is missing") from None
    return payload, model_state


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
    except (ChainruleError, KeyError, TypeError) as e:
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
        sched.load_state_dict(saved_sched["state"])
    if payload.get("history") is not None and getattr(trainer, "history", None) is not None:
        trainer.history.load_state_dict(payload["history"])
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
            loaders[k].load_state_dict(state)
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
                cb.load_state_dict(entry["state"])
                break
        else:
            raise TrainingError(
                f"{path}: the checkpoint does not fit this run: it holds the state of a {entry['class']} callback "
                f"that the trainer does not have (its callbacks: {[type(c).__name__ for c in callbacks]})"
            )
