"""Fuzzing the readers of model, state and checkpoint files: any bytes end in a result or a ChainruleError.

Never another exception (not even a warning), never a hang, never an allocation larger than the
file justifies. Two parts, about 60 s together:

* a seeded mutation fuzzer (``fuzz``): valid files (models of every kind of layer, state files,
  checkpoints) are truncated, have bytes flipped, their header length or JSON header edited (dtypes,
  shapes, offsets, metadata), their architecture or checkpoint JSON mutated (other and unknown
  layer names, wrong, huge or nested values, deep nesting, odd child names), spliced, or replaced
  by random bytes. ``test_mutated_files_end_in_a_result_or_a_chainrule_error`` runs it for
  ``FUZZ_SECONDS`` (environment ``CHAINRULE_FUZZ_SECONDS``);
* hypothesis tests of headers and architectures built from arbitrary JSON.

A longer run: ``python tests/io/test_model_file_fuzz.py 600`` (seconds; prints what it tried and any crash).
"""

import base64
import json
import os
import signal
import struct
import sys
import tempfile
import time
import traceback
import tracemalloc
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import nn, optim
from chainrule import random as cr_random
from chainrule.errors import ChainruleError
from chainrule.train.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint

FUZZ_SECONDS = float(os.environ.get("CHAINRULE_FUZZ_SECONDS", "45"))
SEED = 20240610
HANG_SECONDS = 10  # one input that takes longer than this is a hang
# what reading a file of n bytes may allocate at its peak: a few copies of it, plus a fixed allowance (Python's
# objects, the parameter arena's 1 MiB chunks); a header that claims more than the file holds must not count
ALLOWED_PEAK = (24, 4 * 2**20)


# ---- the valid files the mutations start from ---------------------------------------------------------------


def _models():
    cr.manual_seed(0)
    return {
        "mlp": nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)),
        "nested": nn.Sequential(
            nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Tanh()),
            nn.Dropout(0.2, seed=3),
            nn.ModuleDict({"a": nn.Linear(6, 3, bias=False), "b": nn.LayerNorm(3)}),
        ),
        "conv": nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(8, 2), nn.LogSoftmax(dim=1)),
        "embedding": nn.Sequential(nn.Embedding(10, 3), nn.Flatten(), nn.GELU(), nn.Linear(6, 2)),
        "acts": nn.ModuleList([nn.LeakyReLU(0.2), nn.ELU(0.5), nn.SiLU(), nn.Softplus(beta=2.0), nn.Sigmoid(),
                               nn.Softmax(dim=0), nn.Identity()]),
        "loss": nn.CrossEntropyLoss(weight=cr.tensor([1.0, 2.0, 0.5]), label_smoothing=0.1),
    }


def _trainer(model):
    opt = optim.Adam(model.parameters(), lr=0.01)
    return types.SimpleNamespace(model=model, optimizer=opt, scheduler=None, history=None, callbacks=[],
                                 stop_training=False)


def seed_files():
    """name -> (bytes of a valid file, its kind: "model", "state" or "checkpoint")."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f"
        for name, model in _models().items():
            cr.save(model, path, metadata={"name": name, "classes": ["bad", "good"]})
            out[f"model-{name}"] = (path.read_bytes(), "model")
        cr.save_state(_models()["mlp"].state_dict(), path, metadata={"note": "weights"})
        out["state-mlp"] = (path.read_bytes(), "state")
        odd = {"half": np.ones((2, 3), np.float16), "ints": np.arange(4, dtype=np.int64), "flags": np.array([True]),
               "scalar": np.array(2.5, np.float32), "empty": np.zeros((0, 3), np.float32),
               "u8": np.arange(3, dtype=np.uint8)}
        out["state-dtypes"] = (safetensors.numpy.save(odd), "state")
        model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.1, seed=1), nn.Linear(4, 2))
        trainer = _trainer(model)
        nn.MSELoss()(model(cr.tensor(np.ones((2, 3), np.float32))), cr.tensor(np.zeros((2, 2), np.float32))).backward()
        trainer.optimizer.step()
        save_checkpoint(path, trainer, 3)
        out["checkpoint"] = (path.read_bytes(), "checkpoint")
    # the safetensors library writes the metadata in an order that changes from run to run: fix one, so that a
    # seed gives the same inputs in every run
    return {k: (_join(*_split(data)), kind) for k, (data, kind) in out.items()}


# ---- mutations ---------------------------------------------------------------------------------------------------

NAMES = sorted(set(cr.registry.names()) | {"no_such_layer", "builtins.eval", "os.system", "", "Linear", "sequential "})
CONFIG_KEYS = ["in_features", "out_features", "bias", "p", "seed", "num_features", "eps", "momentum", "affine",
               "track_running_stats", "normalized_shape", "elementwise_affine", "num_embeddings", "embedding_dim",
               "padding_idx", "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
               "dim", "negative_slope", "alpha", "beta", "threshold", "approximate", "start_dim", "end_dim",
               "output_size", "weight", "reduction", "label_smoothing", "ignore_index", "pos_weight", "delta",
               "inplace", "ceil_mode", "return_indices", "count_include_pad", "max_norm", "bogus"]
CHILD_NAMES = ["0", "1", "10", "weight", "bias", "training", "_modules", "_parameters", "forward", "__class__",
               "__dict__", "state_dict", "", "a.b", "in_features", "x" * 300]
DTYPES = ["F16", "F32", "F64", "I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64", "BOOL", "BF16", "F8_E4M3",
          "f32", "", "F128", None, 5, ["F32"], {"F32": 1}]
TAGS = ["__tensor__", "__tuple__", "__items__", "__counter__", "__float__", "__set__"]
DTYPE_SIZES = {"F16": 2, "F32": 4, "F64": 8, "I8": 1, "U8": 1, "I16": 2, "U16": 2, "I32": 4, "U32": 4, "I64": 8,
               "U64": 8, "BOOL": 1}


def pick(rng, items):
    """One of ``items`` (any Python objects, kept as they are: no NumPy conversion)."""
    return items[int(rng.integers(0, len(items)))]


def _huge_int(rng):
    return int(pick(rng, [-1, 1])) * 10 ** int(rng.integers(1, 40)) + int(rng.integers(-2, 3))


def _scalar(rng):
    k = int(rng.integers(0, 12))
    return [
        lambda: int(rng.integers(-3, 10)),
        lambda: _huge_int(rng),
        lambda: int(pick(rng, [2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1])),
        lambda: float(pick(rng, [0.5, -0.0, 1e308, -1e308, 1e-320, float("nan"), float("inf"), -float("inf")])),
        lambda: bool(rng.integers(0, 2)),
        lambda: None,
        lambda: str(pick(rng, NAMES)),
        lambda: str(pick(rng, ["", "x", "tanh", "none", "sum", "mean", "same", "valid", "0", "1e400", "\u00e9\x00"])),
        lambda: "a" * int(rng.integers(100, 5000)),
        lambda: int("9" * int(rng.integers(300, 5000))) if rng.random() < 0.2 else 10**18,
        lambda: [int(rng.integers(-2, 6)) for _ in range(int(rng.integers(0, 5)))],
        lambda: str(pick(rng, TAGS)),
    ][k]()


def random_json(rng, depth=3):
    """A random JSON value: scalars of every kind (huge, negative, nan, long strings), lists and objects."""
    r = rng.random()
    if depth <= 0 or r < 0.55:
        return _scalar(rng)
    if r < 0.75:
        return [random_json(rng, depth - 1) for _ in range(int(rng.integers(0, 4)))]
    keys = CONFIG_KEYS + CHILD_NAMES + TAGS + ["class", "config", "children", "training"]
    return {str(pick(rng, keys)): random_json(rng, depth - 1) for _ in range(int(rng.integers(0, 4)))}


def _nodes(tree, path=()):
    """Every (path, value) in a JSON tree, the root first."""
    yield path, tree
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from _nodes(v, (*path, i))


def _replace(tree, path, value):
    if not path:
        return value
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return tree


class Raw(str):
    """JSON text made directly (nested deeper than json.dumps can go)."""


def _deep(rng, kind):
    n = int(pick(rng, [30, 200, 900, 1100, 3000, 50_000]))
    if kind == "architecture":
        container = pick(rng, ["sequential", "module_list", "module_dict"])
        node = f'{{"class": "{container}", "config": {{}}, "children": {{"0": '
        return Raw(node * n + '{"class": "identity", "config": {}}' + "}}" * n)
    if rng.random() < 0.5:
        return Raw("[" * n + "0" + "]" * n)
    tag = pick(rng, TAGS + ["a"])
    return Raw(f'{{"{tag}": ' * n + "[]" + "}" * n)


def _dumps(tree):
    return tree if isinstance(tree, Raw) else json.dumps(tree)


def mutate_tree(rng, tree, kind):
    """Edit a JSON tree (an architecture or a checkpoint's state) in one of a few ways likely to matter."""
    if isinstance(tree, Raw):
        return tree
    return _mutate_tree(rng, tree, kind)


def _mutate_tree(rng, tree, kind):
    tree = json.loads(json.dumps(tree))
    nodes = list(_nodes(tree))
    path, node = nodes[int(rng.integers(0, len(nodes)))]
    r = rng.random()
    if r < 0.04:
        return _deep(rng, kind)
    if isinstance(node, dict) and r < 0.5:
        k = int(rng.integers(0, 8))
        if k == 0 and "class" in node:
            node["class"] = str(pick(rng, NAMES))  # another layer's (or no layer's) name for this config
        elif k == 1 and isinstance(node.get("config"), dict):
            node["config"][str(pick(rng, CONFIG_KEYS))] = _scalar(rng)
        elif k == 2 and isinstance(node.get("children"), dict) and node["children"]:
            kids = node["children"]
            name = list(kids)[int(rng.integers(0, len(kids)))]
            kids[str(pick(rng, CHILD_NAMES))] = kids.pop(name)
        elif k == 3 and node:
            del node[list(node)[int(rng.integers(0, len(node)))]]
        elif k == 4:
            node[str(pick(rng, TAGS))] = random_json(rng, 2)
        elif k == 5 and node:
            key = list(node)[int(rng.integers(0, len(node)))]
            node[key] = random_json(rng)
        elif k == 6:
            node["children"] = random_json(rng) if rng.random() < 0.5 else {
                str(pick(rng, CHILD_NAMES)): {"class": str(pick(rng, NAMES)), "config": random_json(rng, 1)}}
        else:
            node["training"] = random_json(rng, 1)
        return tree
    if isinstance(node, list) and node and r < 0.6:
        i = int(rng.integers(0, len(node)))
        if rng.random() < 0.5:
            node.insert(i, random_json(rng, 2))
        else:
            node.pop(i)
        return tree
    return _replace(tree, path, random_json(rng))


def _split(data):
    """(header dict, body bytes) of a safetensors file, or None."""
    if len(data) < 8:
        return None
    (n,) = struct.unpack("<Q", data[:8])
    try:
        return json.loads(data[8 : 8 + n]), data[8 + n :]
    except (ValueError, RecursionError):
        return None


def _join(header, body, indent=False):
    text = json.dumps(header, indent=1 if indent else None, sort_keys=True).encode()
    return struct.pack("<Q", len(text)) + text + body


def _shape(rng):
    return [
        [], [0], [-1], [1.5], ["3"], [[2]], None, 7, [2**31, 2**31], [2**63], [2**64], [2**32, 2**32],
        [0, 2**62], [1] * 100, [int(rng.integers(0, 6)) for _ in range(int(rng.integers(1, 4)))], [10**30],
    ][int(rng.integers(0, 16))]


def mutate_header(rng, header, body):
    """Edit a parsed safetensors header (and maybe its body); returns (header, body)."""
    tensors = [k for k in header if k != "__metadata__"]
    r = rng.random()
    if tensors and r < 0.45:
        name = str(pick(rng, tensors))
        info = header[name]
        if not isinstance(info, dict):
            header[name] = random_json(rng)
            return header, body
        k = int(rng.integers(0, 9))
        if k == 0:
            info["dtype"] = DTYPES[int(rng.integers(0, len(DTYPES)))]
        elif k == 1:
            info["shape"] = _shape(rng)
        elif k == 2:
            b, e = info.get("data_offsets", [0, 0]) if isinstance(info.get("data_offsets"), list) and len(
                info["data_offsets"]) == 2 else (0, 0)
            info["data_offsets"] = [
                [e, b], [b, e + 1], [b - 1, e], [b, 2**63], [-4, e], [0.0, e], [str(b), str(e)], [b], [b, e, e],
                None, [b + len(body), e + len(body)], [b, b],
            ][int(rng.integers(0, 12))]
        elif k == 3:  # a consistent new shape: the body is grown or cut to match, so the safetensors load passes
            dtype = info.get("dtype") if info.get("dtype") in DTYPE_SIZES else "F32"
            shape = [int(rng.integers(0, 5)) for _ in range(int(rng.integers(0, 4)))]
            size = int(np.prod(shape)) * DTYPE_SIZES[dtype]
            b = len(body)
            info.update(dtype=dtype, shape=shape, data_offsets=[b, b + size])
            body = body + rng.bytes(size)
            header = _drop_unused(header, body)
            return header, header.pop("__body__")
        elif k == 4:
            del header[name]
            header = _drop_unused(header, body)
            return header, header.pop("__body__")
        elif k == 5:
            header[name + str(pick(rng, ["x", ".weight", ""]))] = header.pop(name)
        elif k == 6:
            info[str(pick(rng, ["extra", "dtype", "shape"]))] = random_json(rng, 1)
        elif k == 7 and info:
            del info[str(pick(rng, list(info)))]
        else:
            header[name] = random_json(rng, 2)
        return header, body
    meta = header.get("__metadata__")
    if isinstance(meta, dict) and r < 0.9:
        k = int(rng.integers(0, 6))
        key = str(pick(rng, list(meta))) if meta else "format"
        if k == 0 and key in ("architecture", "checkpoint", "user_metadata"):
            try:
                tree = json.loads(meta[key])
            except (ValueError, RecursionError):
                tree = None
            kind = "architecture" if key == "architecture" else "checkpoint"
            meta[key] = _dumps(mutate_tree(rng, tree, kind))
        elif k == 1:
            for key in ("architecture", "checkpoint"):
                if key in meta:
                    for _ in range(int(rng.integers(1, 4))):
                        meta[key] = _dumps(mutate_tree(rng, json.loads(meta[key]), key))
        elif k == 2:
            meta[key] = str(pick(rng, ["chainrule.model", "chainrule.checkpoint", "pt", "", "1", "2", "{", "[]",
                                        "null", "NaN", '{"class": "linear"}', "[" * 5000]))
        elif k == 3:
            meta[str(pick(rng, ["format", "format_version", "architecture", "checkpoint", "user_metadata", "x"]))] = \
                json.dumps(random_json(rng))
        elif k == 4 and key in meta:
            del meta[key]
        else:
            meta[key] = random_json(rng, 1)  # not a string
        return header, body
    header["__metadata__"] = random_json(rng, 2)
    return header, body


def _drop_unused(header, body):
    """Lay the tensors out afresh, one after the other, so that the header stays consistent with the body."""
    out, new_body, pos = {}, b"", 0
    for k, info in header.items():
        if k == "__metadata__" or not isinstance(info, dict):
            out[k] = info
            continue
        try:
            b, e = info["data_offsets"]
            chunk = body[b:e]
        except (KeyError, TypeError, ValueError):
            out[k] = info
            continue
        out[k] = dict(info, data_offsets=[pos, pos + len(chunk)])
        new_body += chunk
        pos += len(chunk)
    out["__body__"] = new_body
    return out


INTERESTING = b'\x00\xff{}[]",:0123456789-eE.\\ntfu'


def mutate(rng, data, seeds):
    """One mutated input from the bytes ``data`` of a valid file."""
    k = int(rng.integers(0, 12))
    size = len(data)
    n = min(struct.unpack("<Q", data[:8])[0], size - 8)  # (an earlier mutation may have made it lie)
    if k == 0:
        return rng.bytes(int(pick(rng, [0, 1, 7, 8, 9, 16, 64, 300, 5000])))
    if k == 1:
        return data[: int(rng.integers(0, size))]
    if k == 2:  # flip a few bytes, mostly in the header
        out = bytearray(data)
        for _ in range(int(rng.integers(1, 9))):
            i = int(rng.integers(0, min(size, n + 8))) if rng.random() < 0.8 else int(rng.integers(0, size))
            out[i] ^= int(rng.integers(1, 256))
        return bytes(out)
    if k == 3:
        out = bytearray(data)
        for _ in range(int(rng.integers(1, 5))):
            out[int(rng.integers(8, min(size, n + 8)))] = INTERESTING[int(rng.integers(0, len(INTERESTING)))]
        return bytes(out)
    if k == 4:  # the header length lies
        claim = int(pick(rng, [0, 1, 2, n - 1, n + 1, size - 8, size - 7, size, 2**31, 2**63, 2**64 - 1,
                                int(rng.integers(0, 2**62))]))
        return struct.pack("<Q", max(0, claim)) + data[8:]
    if k == 5:  # insert or delete a stretch, fixing the header length when it falls within the header
        i = int(rng.integers(8, size))
        cut = data[:i] + data[i + int(rng.integers(1, 64)) :] if rng.random() < 0.5 else \
            data[:i] + rng.bytes(int(rng.integers(1, 64))) + data[i:]
        if i < n + 8:
            cut = struct.pack("<Q", n + len(cut) - size) + cut[8:]
        return cut
    if k == 6:  # splice: one file's header, another's body
        other = seeds[int(rng.integers(0, len(seeds)))]
        (m,) = struct.unpack("<Q", other[:8])
        return data[: 8 + n] + other[8 + m :]
    parts = _split(data)
    if parts is None:
        return data
    header, body = parts
    for _ in range(int(rng.integers(1, 4))):
        header, body = mutate_header(rng, header, body)
    try:
        out = _join(header, body, indent=rng.random() < 0.1)
    except (ValueError, RecursionError):  # a NaN key or a tree too deep for json.dumps: keep it simple
        return data
    if rng.random() < 0.1:
        out += rng.bytes(int(rng.integers(1, 16)))  # trailing bytes
    return out


# ---- running the readers ------------------------------------------------------------------------------------------


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang(f"no answer after {HANG_SECONDS} s")


def _readers():
    def checkpoint_into_a_trainer(path):
        trainer = _trainer(nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.1, seed=1), nn.Linear(4, 2)))
        return load_checkpoint(path, trainer)

    return {"load": cr.load, "load_state": cr.load_state, "read_model_file": cr.io.read_model_file,
            "read_checkpoint": read_checkpoint, "load_checkpoint": checkpoint_into_a_trainer}


def check_input(data, path, readers, measure=True):
    """Run every reader on ``data``; returns a list of problems (empty: every reader ended well)."""
    path.write_bytes(data)
    problems = []
    for name, reader in readers.items():
        if measure:
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
        start = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                reader(path)
        except ChainruleError as e:
            msg = str(e)
            if not msg.strip() or "\n" in msg or len(msg) > 1000:
                problems.append(f"{name}: a {type(e).__name__} whose message is not one short line: {msg[:300]!r}")
        except Exception as e:  # noqa: BLE001 - the point: nothing else may come out
            where = traceback.extract_tb(e.__traceback__)[-1]
            problems.append(f"{name}: {type(e).__name__}: {str(e)[:200]} (at {Path(where.filename).name}:"
                            f"{where.lineno} {where.name})")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        took = time.perf_counter() - start
        if took > HANG_SECONDS / 2:
            problems.append(f"{name}: took {took:.1f} s")
        if measure:
            peak = tracemalloc.get_traced_memory()[1] - before
            allowed = ALLOWED_PEAK[0] * len(data) + ALLOWED_PEAK[1]
            if peak > allowed:
                problems.append(f"{name}: allocated {peak:,} bytes at its peak for a file of {len(data):,} bytes")
    return problems


def fuzz(seconds, seed=SEED, max_inputs=None, stop_at_first=True, log=None):
    """Mutate the seed files for ``seconds``; returns (inputs tried, {problem: the first input that shows it})."""
    seeds = seed_files()
    datas = [d for d, _ in seeds.values()]
    rng = np.random.default_rng(seed)
    readers = _readers()
    found = {}
    tried = 0
    old_handler = signal.signal(signal.SIGALRM, _alarm)
    old_generator = cr_random.default_generator()
    tracemalloc.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "fuzzed.crm"
            end = time.perf_counter() + seconds
            while time.perf_counter() < end and (max_inputs is None or tried < max_inputs):
                data = datas[int(rng.integers(0, len(datas)))]
                for _ in range(1 if rng.random() < 0.7 else int(rng.integers(2, 4))):
                    try:
                        data = mutate(rng, data, datas) if len(data) >= 8 else data
                    except Exception:  # noqa: BLE001 - an edit that cannot be made (json, struct): skip it
                        pass
                tried += 1
                for problem in check_input(data, path, readers, measure=tried % 4 == 0):
                    key = problem.split(" (at ")[0][:160]
                    if key not in found:
                        found[key] = data
                        if log:
                            log(f"[{tried}] {problem}")
                if found and stop_at_first:
                    break
    finally:
        tracemalloc.stop()
        signal.signal(signal.SIGALRM, old_handler)
        cr_random.set_default_generator(old_generator)
    return tried, found


# ---- the tests ------------------------------------------------------------------------------------------------


def test_seed_files_are_read_as_they_were_written(tmp_path):
    readers = _readers()
    for name, (data, kind) in seed_files().items():
        path = tmp_path / name
        path.write_bytes(data)
        assert check_input(data, path, readers, measure=False) == [], name
        if kind == "model":
            cr.load(path)
        elif kind == "checkpoint":
            assert read_checkpoint(path)[0]["epoch"] == 3
        cr.load_state(path)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM to catch hangs")
def test_mutated_files_end_in_a_result_or_a_chainrule_error():
    tried, found = fuzz(FUZZ_SECONDS)
    print(f"model-file fuzzing: {tried} inputs in {FUZZ_SECONDS:.0f} s, {len(found)} problems")
    assert tried > 50, "the fuzzer ran too slowly to mean anything"
    assert not found, "\n".join(f"{p}\n  input (base64): {base64.b64encode(d).decode()[:2000]}"
                                 for p, d in found.items())


def _hypothesis_check(tmp_path, data):
    old_handler = signal.signal(signal.SIGALRM, _alarm)
    old_generator = cr_random.default_generator()
    try:
        problems = check_input(data, tmp_path / "h.crm", _readers(), measure=False)
    finally:
        signal.signal(signal.SIGALRM, old_handler)
        cr_random.set_default_generator(old_generator)
    assert not problems, problems


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=20)
    | st.sampled_from(NAMES + TAGS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(CONFIG_KEYS + CHILD_NAMES + TAGS + ["class", "config", "children", "dtype", "shape",
                                                            "data_offsets"]), inner, max_size=4),
    max_leaves=20,
)
_HYPOTHESIS = settings(max_examples=500, deadline=None, derandomize=True, database=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM to catch hangs")
@_HYPOTHESIS
@given(header=st.dictionaries(st.text(max_size=8), _JSON, max_size=4), body=st.binary(max_size=64))
def test_any_json_header(tmp_path, header, body):
    _hypothesis_check(tmp_path, _join(header, body))


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM to catch hangs")
@_HYPOTHESIS
@given(architecture=_JSON, user=_JSON)
def test_any_architecture(tmp_path, architecture, user):
    meta = {"format": "chainrule.model", "format_version": "1", "architecture": json.dumps(architecture),
            "user_metadata": json.dumps(user)}
    _hypothesis_check(tmp_path, safetensors.numpy.save({"weight": np.zeros((4, 3), np.float32)}, metadata=meta))


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM to catch hangs")
@_HYPOTHESIS
@given(data=st.binary(max_size=200))
def test_any_bytes(tmp_path, data):
    _hypothesis_check(tmp_path, data)


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else SEED
    tried, found = fuzz(seconds, seed, stop_at_first=False, log=lambda m: print(m, flush=True))
    print(f"{tried} inputs in {seconds:.0f} s (seed {seed}), {len(found)} distinct problems")
    out = Path(tempfile.gettempdir()) / "chainrule-fuzz"
    out.mkdir(exist_ok=True)
    for i, (problem, data) in enumerate(found.items()):
        (out / f"{i}.bin").write_bytes(data)
        print(f"{out / f'{i}.bin'}: {problem}")
