"""Model files (cr.save / cr.load) and state files (cr.save_state / cr.load_state).

Round trips for every registered layer that has an entry in the table below, nested containers,
interoperability with safetensors and torch, refusal of malformed and malicious files (always a one-line
ModelFileError, never another exception, never a large allocation), atomic writes, and no pickle anywhere.
"""

import json
import os
import pickle
import re
import struct
import tracemalloc
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import chainrule as cr
from chainrule import nn
from chainrule.errors import ChainruleError, ModelFileError

files_module = cr.io.files
SRC = Path(cr.__file__).parent

# ---- the table: constructor arguments and inputs per registered name ----------------------------------------
#
# name -> list of (args, kwargs, inputs); inputs is a list of ("f" | "p" | "b" | "i", shape[, high]) for float,
# probability, binary and integer inputs, or None for modules without forward (ModuleList, ModuleDict).
# Every registered name needs an entry (a layer added without one fails test_every_registered_name_has_an_entry).

_F = [("f", (4, 5))]
TABLE = {
    "linear": [((3, 4), {}, [("f", (2, 3))]), ((3, 4), {"bias": False}, [("f", (2, 5, 3))])],
    "identity": [((), {}, _F)],
    "flatten": [((), {}, [("f", (2, 3, 4))]), ((0, 1), {}, [("f", (2, 3, 4))])],
    "dropout": [((0.3,), {}, _F), ((), {"p": 0.5, "seed": 3}, _F)],
    "step": [((), {}, _F)],
    "sigmoid": [((), {}, _F)],
    "tanh": [((), {}, _F)],
    "relu": [((), {}, _F)],
    "leaky_relu": [((0.2,), {}, _F)],
    "gelu": [((), {}, _F), ((), {"approximate": "tanh"}, _F)],
    "softplus": [((), {"beta": 2.0, "threshold": 5.0}, _F)],
    "softmax": [((), {"dim": 0}, _F)],
    "log_softmax": [((), {"dim": 1}, _F)],
    "elu": [((), {"alpha": 0.5}, _F)],
    "silu": [((), {}, _F)],
    "sequential": [("mlp", {}, [("f", (2, 3))])],
    "module_list": [("list", {}, None)],
    "module_dict": [("dict", {}, None)],
    # layers that other parts of chainrule add (arguments as torch.nn); skipped while not registered
    "conv1d": [((2, 3, 3), {}, [("f", (2, 2, 8))])],
    "conv2d": [((2, 3, 3), {"padding": 1}, [("f", (2, 2, 5, 5))]), ((2, 4, 2), {"stride": 2}, [("f", (1, 2, 6, 6))])],
    "max_pool2d": [((2,), {}, [("f", (1, 2, 4, 4))])],
    "avg_pool2d": [((2,), {}, [("f", (1, 2, 4, 4))])],
    "max_pool1d": [((2,), {}, [("f", (1, 2, 6))])],
    "avg_pool1d": [((2,), {}, [("f", (1, 2, 6))])],
    "batch_norm1d": [((3,), {}, [("f", (4, 3))])],
    "batch_norm2d": [((2,), {}, [("f", (2, 2, 3, 3))])],
    "batchnorm1d": [((3,), {}, [("f", (4, 3))])],
    "batchnorm2d": [((2,), {}, [("f", (2, 2, 3, 3))])],
    "layer_norm": [((4,), {}, [("f", (2, 4))])],
    "layernorm": [((4,), {}, [("f", (2, 4))])],
    "embedding": [((10, 3), {}, [("i", (2, 5), 10)])],
    "adaptive_avg_pool2d": [(((1, 1),), {}, [("f", (2, 3, 5, 5))]), ((2,), {}, [("f", (1, 2, 4, 4))])],
    "mse": [((), {}, [("f", (3, 4)), ("f", (3, 4))]), ((), {"reduction": "sum"}, [("f", (3, 4)), ("f", (3, 4))])],
    "l1": [((), {}, [("f", (3, 4)), ("f", (3, 4))])],
    "huber": [((), {"delta": 0.5}, [("f", (3, 4)), ("f", (3, 4))])],
    "nll": [((), {}, [("f", (4, 5)), ("i", (4,), 5)])],
    "bce": [((), {}, [("p", (4, 3)), ("b", (4, 3))])],
    "mse_loss": [((), {}, [("f", (3, 4)), ("f", (3, 4))])],
    "l1_loss": [((), {}, [("f", (3, 4)), ("f", (3, 4))])],
    "cross_entropy": [((), {}, [("f", (4, 5)), ("i", (4,), 5)]),
                      ((), {"label_smoothing": 0.1}, [("f", (4, 5)), ("i", (4,), 5)])],
    "cross_entropy_loss": [((), {}, [("f", (4, 5)), ("i", (4,), 5)])],
    "nll_loss": [((), {}, [("f", (4, 5)), ("i", (4,), 5)])],
    "bce_loss": [((), {}, [("p", (4, 3)), ("b", (4, 3))])],
    "bce_with_logits": [((), {}, [("f", (4, 3)), ("b", (4, 3))])],
    "bce_with_logits_loss": [((), {}, [("f", (4, 3)), ("b", (4, 3))])],
    "adaptive_avg_pool1d": [((3,), {}, [("f", (2, 2, 7))])],
    "conv_transpose2d": [((2, 3, 3), {"stride": 2, "output_padding": 1}, [("f", (1, 2, 4, 4))])],
    "cosine_similarity": [((), {"dim": 1}, [("f", (3, 4)), ("f", (3, 4))])],
    "dropout2d": [((0.3,), {}, [("f", (2, 3, 4, 4))])],
    "group_norm": [((2, 4), {}, [("f", (2, 4, 3, 3))])],
    "hardtanh": [((-0.5, 0.5), {}, _F)],
    "kl_div": [((), {"reduction": "batchmean"}, [("f", (3, 4)), ("p", (3, 4))])],
    "mish": [((), {}, _F)],
    "prelu": [((3,), {}, [("f", (2, 3, 4))])],
    "relu6": [((), {}, _F)],
    "smooth_l1": [((), {"beta": 0.5}, [("f", (3, 4)), ("f", (3, 4))])],
    "upsample": [((), {"scale_factor": 2, "mode": "bilinear"}, [("f", (1, 2, 3, 3))])],
    "upsampling_bilinear2d": [((), {"size": (4, 5)}, [("f", (1, 2, 3, 3))])],
    "upsampling_nearest2d": [((), {"scale_factor": 2}, [("f", (1, 2, 3, 3))])],
    "rnn": [((3, 4), {"num_layers": 2, "bidirectional": True}, [("f", (5, 2, 3))])],
    "lstm": [((3, 4), {"batch_first": True}, [("f", (2, 5, 3))])],
    "gru": [((3, 4), {"num_layers": 2}, [("f", (5, 2, 3))])],
    "rnn_cell": [((3, 4), {"nonlinearity": "relu"}, [("f", (2, 3))])],
    "lstm_cell": [((3, 4), {}, [("f", (2, 3))])],
    "gru_cell": [((3, 4), {}, [("f", (2, 3))])],
    "multihead_attention": [((8, 2), {}, [("f", (5, 2, 8)), ("f", (5, 2, 8)), ("f", (5, 2, 8))])],
    "transformer_encoder_layer": [((8, 2), {"dim_feedforward": 16, "batch_first": True}, [("f", (2, 5, 8))])],
    "transformer_encoder": [("encoder", {}, [("f", (5, 2, 8))])],
}

REQUIRED = ["sequential", "module_list", "module_dict", "linear", "flatten", "dropout", "identity", "step",
            "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "softplus", "softmax", "log_softmax", "elu", "silu"]


def _build(name, args, kwargs):
    if args == "mlp":
        return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    if args == "list":
        return nn.ModuleList([nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4, bias=False)])
    if args == "dict":
        return nn.ModuleDict({"enc": nn.Linear(3, 2), "act": nn.GELU(), "dec": nn.Linear(2, 3)})
    if args == "encoder":
        return nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16), 2, norm=nn.LayerNorm(8))
    return cr.registry.get(name)(*args, **kwargs)


def _inputs(spec, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for kind, shape, *rest in spec:
        if kind == "f":
            a = rng.standard_normal(shape).astype(np.float32)
        elif kind == "p":
            a = rng.uniform(0.05, 0.95, shape).astype(np.float32)
        elif kind == "b":
            a = (rng.random(shape) < 0.5).astype(np.float32)
        else:
            a = rng.integers(0, rest[0], shape).astype(np.int64)
        out.append(cr.tensor(a))
    return out


def _cases():
    params = []
    for name in cr.registry.names():
        for i in range(len(TABLE.get(name, ()))):
            params.append(pytest.param(name, i, id=f"{name}-{i}"))
    return params


def _leaves(out):
    return [t for o in out for t in _leaves(o)] if isinstance(out, tuple | list) else [] if out is None else [out]


def _assert_same_model(a, b):
    assert type(a) is type(b)
    assert repr(a) == repr(b)
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype, k
        np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)
    assert [m.training for m in a.modules()] == [m.training for m in b.modules()]
    assert [type(m) for m in a.modules()] == [type(m) for m in b.modules()]


# ---- round trips ------------------------------------------------------------------------------------------


def test_every_registered_name_has_an_entry():
    missing = [name for name in cr.registry.names() if name not in TABLE]
    assert not missing, f"registered layers with no round-trip case in TABLE: {missing}"


def test_table_covers_the_required_names():
    names = set(cr.registry.names())
    for name in REQUIRED:
        assert name in names, f"{name!r} is not registered"
        assert name in TABLE


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name, index", _cases())
def test_round_trip_every_registered_layer(name, index, mode, tmp_path):
    args, kwargs, spec = TABLE[name][index]
    cr.manual_seed(0)
    model = _build(name, args, kwargs)
    for p in model.parameters():  # not the initial values: every number must come from the file
        p.numpy()[...] = np.random.default_rng(1).standard_normal(p.shape)
    model.train(mode == "train")
    path = tmp_path / f"{name}.crm"
    cr.save(model, path)
    loaded = cr.load(path)
    _assert_same_model(model, loaded)
    assert loaded.training == (mode == "train")
    assert cr.registry.name_of(loaded) == name
    if spec is not None:
        model.eval()
        loaded.eval()
        xs = _inputs(spec)
        out, out2 = model(*xs), loaded(*xs)
        for a, b in zip(*(_leaves(o) for o in (out, out2)), strict=True):  # (RNNs and attention give tuples)
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    cr.save(loaded, tmp_path / "again.crm")  # and the loaded model saves again, to the same architecture
    _assert_same_model(model, cr.load(tmp_path / "again.crm"))


def test_seeded_dropout_masks_survive_the_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5, seed=42))
    cr.save(model, tmp_path / "m.crm")
    loaded = cr.load(tmp_path / "m.crm")
    assert loaded.training and loaded[1].seed == 42
    x = cr.tensor(np.ones((4, 3), dtype=np.float32))
    np.testing.assert_array_equal(model(x).numpy(), loaded(x).numpy())


def _nested():
    return nn.Sequential(
        OrderedDict(
            encoder=nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Sequential(nn.Linear(5, 5), nn.SiLU())),
            drop=nn.Dropout(0.1),
            head=nn.Sequential(OrderedDict(fc=nn.Linear(5, 2, bias=False), out=nn.LogSoftmax(dim=-1))),
        )
    )


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_round_trip_nested_sequential(mode, tmp_path):
    model = _nested().train(mode == "train")
    path = tmp_path / "nested.crm"
    cr.save(model, path)
    loaded = cr.load(str(path))  # a str path works as well as a Path
    _assert_same_model(model, loaded)
    assert list(loaded.state_dict()) == ["encoder.0.weight", "encoder.0.bias", "encoder.2.0.weight",
                                         "encoder.2.0.bias", "head.fc.weight"]
    assert loaded.head.fc.bias is None
    x = cr.tensor(np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32))
    np.testing.assert_array_equal(model.eval()(x).numpy(), loaded.eval()(x).numpy())


def test_round_trip_nested_lists_and_dicts(tmp_path):
    model = nn.ModuleDict(
        {
            "blocks": nn.ModuleList([nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 3), nn.ReLU()), nn.ModuleList()]),
            "table": nn.ModuleDict({"z": nn.Linear(3, 1), "a": nn.ModuleList([nn.ELU(0.3)])}),
            "act": nn.Softplus(beta=3.0),
        }
    )
    cr.save(model, tmp_path / "m.crm")
    loaded = cr.load(tmp_path / "m.crm")
    _assert_same_model(model, loaded)
    assert list(loaded["table"]) == ["z", "a"]


def test_user_metadata_round_trip(tmp_path):
    model = nn.Linear(2, 2)
    cr.save(model, tmp_path / "m.crm", metadata={"epoch": 3, "note": "hello"})
    loaded, meta = cr.io.read_model_file(tmp_path / "m.crm")
    assert meta == {"epoch": 3, "note": "hello"}
    _assert_same_model(model, loaded)
    assert cr.io.read_model_file(_save(tmp_path, nn.ReLU()))[1] is None


def _save(tmp_path, model, name="x.crm"):
    path = tmp_path / name
    cr.save(model, path)
    return path


def test_model_file_is_plain_safetensors(tmp_path):
    # the weights are ordinary safetensors tensors under torch's names, readable by torch
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    path = _save(tmp_path, model)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    tmodel.load_state_dict(safetensors.torch.load_file(path))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(model(cr.tensor(x)).numpy(), tmodel(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    with safetensors.safe_open(path, "np") as f:
        meta = f.metadata()
    arch = json.loads(meta["architecture"])
    assert arch["class"] == "sequential"
    assert [c["class"] for c in arch["children"].values()] == ["linear", "relu", "linear"]


# ---- what cannot be saved in a model file --------------------------------------------------------------------


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x)


@pytest.mark.parametrize("make", [Custom, lambda: nn.Sequential(nn.Linear(2, 2), Custom())], ids=["root", "nested"])
def test_saving_unregistered_module_is_a_clear_error(make, tmp_path):
    path = tmp_path / "custom.crm"
    with pytest.raises(ChainruleError) as e:
        cr.save(make(), path)
    msg = str(e.value)
    assert "Custom" in msg
    assert "cr.save_state" in msg
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_saving_unregistered_module_over_a_file_keeps_it(tmp_path):
    path = _save(tmp_path, nn.Linear(2, 2), "m.crm")
    before = path.read_bytes()
    with pytest.raises(ChainruleError):
        cr.save(Custom(), path)
    assert path.read_bytes() == before


@pytest.fixture
def registered_custom():
    name = "test_model_files_scaled"

    @cr.registry.register(name)
    class Scaled(nn.Module):
        def __init__(self, features, scale=2.0):
            super().__init__()
            self.features = features
            self.scale = scale
            self.fc = nn.Linear(features, features)

        def forward(self, x):
            return self.fc(x) * self.scale

    yield Scaled
    del cr.registry._REGISTRY["module"][name]


def test_registered_custom_module_round_trip(registered_custom, tmp_path):
    model = nn.Sequential(registered_custom(3, scale=0.5), nn.ReLU())
    loaded = cr.load(_save(tmp_path, model))
    _assert_same_model(model, loaded)
    assert loaded[0].scale == 0.5


# ---- state files ----------------------------------------------------------------------------------------------


def _mlp():
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def _torch_mlp():
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))


def test_state_round_trip(tmp_path):
    model = _mlp()
    sd = model.state_dict()
    path = tmp_path / "w.safetensors"
    cr.save_state(sd, path)
    loaded = cr.load_state(path)
    assert set(loaded) == set(sd)
    for k, v in sd.items():
        assert isinstance(loaded[k], np.ndarray)
        assert loaded[k].dtype == v.dtype
        np.testing.assert_array_equal(loaded[k], v)
    other = _mlp()
    other.load_state_dict(loaded)
    x = cr.tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    np.testing.assert_array_equal(model(x).numpy(), other(x).numpy())


def test_state_round_trip_of_tensors_and_dtypes(tmp_path):
    state = {"a": cr.tensor([1.0, 2.0]), "b": np.arange(6, dtype=np.int64).reshape(2, 3),
             "c": np.array([[0.5]], dtype=np.float64), "d": np.zeros((0, 3), dtype=np.float32)}
    path = tmp_path / "s.safetensors"
    cr.save_state(state, path, metadata={"step": 10})
    loaded = cr.load_state(path)
    np.testing.assert_array_equal(loaded["a"], np.array([1.0, 2.0], dtype=np.float32))
    for k in "bcd":
        assert loaded[k].dtype == state[k].dtype and loaded[k].shape == state[k].shape
        np.testing.assert_array_equal(loaded[k], state[k])
    with safetensors.safe_open(path, "np") as f:
        assert f.metadata()["step"] == "10"


def test_state_file_loads_with_safetensors_torch(tmp_path):
    model = _mlp()
    path = tmp_path / "w.safetensors"
    cr.save_state(model.state_dict(), path)
    tstate = safetensors.torch.load_file(path)
    tmodel = _torch_mlp()
    tmodel.load_state_dict(tstate)  # strict
    x = np.random.default_rng(1).standard_normal((7, 3)).astype(np.float32)
    np.testing.assert_allclose(model(cr.tensor(x)).numpy(), tmodel(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_torch_state_file_loads_into_chainrule(tmp_path):
    torch.manual_seed(0)
    tmodel = _torch_mlp()
    path = tmp_path / "t.safetensors"
    safetensors.torch.save_file(tmodel.state_dict(), path)
    model = _mlp()
    model.load_state_dict(cr.load_state(path))
    x = np.random.default_rng(2).standard_normal((7, 3)).astype(np.float32)
    np.testing.assert_allclose(model(cr.tensor(x)).numpy(), tmodel(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_torch_state_file(dtype, tmp_path):
    # a very common real-world file: safetensors weights saved in half precision
    path = tmp_path / "half.safetensors"
    safetensors.torch.save_file({"w": torch.ones(2, 3, dtype=dtype)}, path)
    try:
        state = cr.load_state(path)
    except ModelFileError as e:  # refusing is acceptable, as long as it is a clear ModelFileError
        assert "\n" not in str(e)
        return
    np.testing.assert_array_equal(np.asarray(state["w"], dtype=np.float32), np.ones((2, 3), dtype=np.float32))


# The first 8 bytes of a safetensors file are the header length. Whatever that length is, a sound file must
# load: some lengths make those bytes look like the magic numbers of other formats (0x80 = pickle protocol 2+,
# "cc"/"c_" = old pickles, "PK" = zip), and such a file is still a safetensors file.
UNLUCKY = {"pickle_0x80": (0x80, 256), "cc": (0x6363, 65536), "c_": (0x5F63, 65536), "PK": (0x4B50, 65536)}


@pytest.mark.parametrize("residue, modulus", UNLUCKY.values(), ids=list(UNLUCKY))
def test_safetensors_file_with_any_header_length_loads(residue, modulus, tmp_path):
    w = np.arange(6, dtype=np.float32).reshape(2, 3)

    def header(pad):
        return json.dumps({"__metadata__": {"pad": "x" * pad}, "w": _f32((2, 3))}).encode()

    h = header((residue - len(header(0))) % modulus)
    assert len(h) % modulus == residue
    data = struct.pack("<Q", len(h)) + h + w.tobytes()
    np.testing.assert_array_equal(safetensors.numpy.load(data)["w"], w)  # sound for the reference library
    path = tmp_path / "w.safetensors"
    path.write_bytes(data)
    np.testing.assert_array_equal(cr.load_state(path)["w"], w)


def _pad_to(save, path, residue, modulus):
    """Save with user metadata padded until the header length is ``residue`` modulo ``modulus``."""
    pad = 0
    for _ in range(10):
        save(path, "x" * pad)
        (n,) = struct.unpack("<Q", path.read_bytes()[:8])
        if n % modulus == residue:
            return
        pad += (residue - n) % modulus
    pytest.fail("could not reach the header length")


ALIGNED = {k: v for k, v in UNLUCKY.items() if v[0] % 8 == 0}  # the safetensors library pads headers to 8 bytes


@pytest.mark.parametrize("residue, modulus", ALIGNED.values(), ids=list(ALIGNED))
def test_saved_state_file_with_unlucky_header_length_loads(residue, modulus, tmp_path):
    sd = _mlp().state_dict()
    path = tmp_path / "w.safetensors"
    _pad_to(lambda p, pad: cr.save_state(sd, p, metadata={"pad": pad}), path, residue, modulus)
    loaded = cr.load_state(path)
    for k in sd:
        np.testing.assert_array_equal(loaded[k], sd[k])


@pytest.mark.parametrize("residue, modulus", ALIGNED.values(), ids=list(ALIGNED))
def test_saved_model_file_with_unlucky_header_length_loads(residue, modulus, tmp_path):
    model = _mlp()
    path = tmp_path / "m.crm"
    _pad_to(lambda p, pad: cr.save(model, p, metadata=pad), path, residue, modulus)
    _assert_same_model(model, cr.load(path))


# ---- malformed and malicious files -------------------------------------------------------------------------


def _refused(path, loader):
    """``loader(path)`` raises a ModelFileError with a one-line message, and nothing else (not even a warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModelFileError) as e:
            loader(path)
    msg = str(e.value)
    assert msg.strip(), "empty message"
    assert "\n" not in msg, msg
    assert len(msg) < 1000
    assert isinstance(e.value, ValueError) and isinstance(e.value, ChainruleError)
    return msg


LOADERS = [cr.load, cr.load_state]
LOADER_IDS = ["load", "load_state"]


def _safetensors_bytes(header, body=b""):
    h = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return struct.pack("<Q", len(h)) + h + body


def _f32(shape, begin=0, end=None):
    n = int(np.prod(shape)) * 4
    return {"dtype": "F32", "shape": list(shape), "data_offsets": [begin, begin + n if end is None else end]}


def _model_bytes(architecture, tensors=None, **meta):
    metadata = {"format": "chainrule.model", "format_version": "1"}
    metadata["architecture"] = architecture if isinstance(architecture, str) else json.dumps(architecture)
    metadata.update(meta)
    return safetensors.numpy.save(tensors or {}, metadata=metadata)


def _zip_bytes():
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"weight": [1.0, 2.0]}))
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


def _deep(n):
    return "[" * n + "]" * n


_LIN = {"class": "linear", "config": {"in_features": 3, "out_features": 4, "bias": True}}
_LIN_W = {"weight": np.zeros((4, 3), np.float32), "bias": np.zeros(4, np.float32)}

BAD_FILES = {
    # foreign formats
    "pickle_protocol_default": pickle.dumps({"weight": [1.0, 2.0, 3.0]}),
    **{f"pickle_protocol_{p}": pickle.dumps({"a": 1, "b": [2.0]}, protocol=p) for p in range(0, 6)},
    "zip": _zip_bytes(),
    "npy": b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }" + b" " * 50 + b"\n",
    "json_only": b'{"weight": [1, 2, 3]}',
    "text": b"hello, this is not a model\n",
    # too short
    "empty": b"",
    "one_byte": b"\x00",
    "seven_bytes": b"\x01\x00\x00\x00\x00\x00\x00",
    "length_only": struct.pack("<Q", 0),
    # the header length lies
    "claims_2**40": struct.pack("<Q", 2**40) + b"{}",
    "claims_2**64-1": struct.pack("<Q", 2**64 - 1) + b"{}",
    "claims_one_more": struct.pack("<Q", 3) + b"{}",
    "claims_100MB": struct.pack("<Q", 100 * 2**20) + b"{}",
    # the header is not a JSON object
    "header_not_json": _safetensors_bytes(b"not json!!"),
    "header_not_utf8": _safetensors_bytes(b"\xff\xfe\xfd\xfc"),
    "header_list": _safetensors_bytes([1, 2]),
    "header_null": _safetensors_bytes(None),
    "header_number": _safetensors_bytes(42),
    "header_deeply_nested": _safetensors_bytes(_deep(100_000).encode()),
    "metadata_not_strings": _safetensors_bytes({"__metadata__": {"format": 1}}),
    # tensor entries that do not hold
    "offsets_beyond_body": _safetensors_bytes({"w": _f32((2, 2), 0, 16)}, b"\0" * 8),
    "offsets_start_beyond_body": _safetensors_bytes({"w": _f32((1,), 100, 104)}, b"\0" * 8),
    "offsets_not_dtype_times_shape": _safetensors_bytes({"w": _f32((2, 2), 0, 12)}, b"\0" * 16),
    "offsets_reversed": _safetensors_bytes({"w": _f32((1,), 8, 4)}, b"\0" * 8),
    "offsets_negative": _safetensors_bytes({"w": _f32((1,), -4, 0)}, b"\0" * 8),
    "offsets_strings": _safetensors_bytes({"w": {"dtype": "F32", "shape": [1], "data_offsets": ["0", "4"]}}, b"\0" * 4),
    "offsets_three": _safetensors_bytes({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}, b"\0" * 4),
    "offsets_missing": _safetensors_bytes({"w": {"dtype": "F32", "shape": [1]}}, b"\0" * 4),
    "offsets_overlap": _safetensors_bytes({"a": _f32((2,)), "b": _f32((2,))}, b"\0" * 8),
    "offsets_gap": _safetensors_bytes({"a": _f32((1,), 4)}, b"\0" * 8),
    "trailing_bytes": _safetensors_bytes({"a": _f32((1,))}, b"\0" * 8),
    "dtype_unknown": _safetensors_bytes({"w": {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]}}, b"\0" * 16),
    "dtype_not_string": _safetensors_bytes({"w": {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),
    "shape_negative": _safetensors_bytes({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}),
    "shape_float": _safetensors_bytes({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}, b"\0" * 4),
    "shape_huge_float": _safetensors_bytes({"w": {"dtype": "F32", "shape": [1e308], "data_offsets": [0, 4]}},
                                           b"\0" * 4),
    "shape_not_list": _safetensors_bytes({"w": {"dtype": "F32", "shape": 5, "data_offsets": [0, 20]}}, b"\0" * 20),
    "shape_beyond_int64": _safetensors_bytes({"w": {"dtype": "F32", "shape": [2**70], "data_offsets": [0, 4]}},
                                             b"\0" * 4),
    "shape_product_wraps": _safetensors_bytes({"w": {"dtype": "F32", "shape": [2**32, 2**32], "data_offsets": [0, 0]}}),
    "shape_zero_times_huge": _safetensors_bytes({"w": {"dtype": "F32", "shape": [0, 2**62], "data_offsets": [0, 0]}}),
    "shape_100_dims": _safetensors_bytes({"w": {"dtype": "F32", "shape": [1] * 100, "data_offsets": [0, 4]}},
                                         b"\0" * 4),
    "entry_not_object": _safetensors_bytes({"w": "tensor"}),
    "entry_null": _safetensors_bytes({"w": None}),
}

BAD_MODEL_FILES = {
    # sound safetensors files whose architecture is not
    "no_architecture": safetensors.numpy.save({}, metadata={"format": "chainrule.model"}),
    "architecture_not_json": _model_bytes("{not json"),
    "architecture_deeply_nested": _model_bytes(_deep(100_000)),
    "architecture_list": _model_bytes([]),
    "architecture_no_class": _model_bytes({"config": {}}),
    "architecture_class_not_string": _model_bytes({"class": 5}),
    "unknown_class": _model_bytes({"class": "os_system", "config": {"command": "echo hi"}}),
    "unknown_class_nested": _model_bytes({"class": "sequential", "config": {},
                                          "children": {"0": {"class": "no_such_layer"}}}),
    "python_path_as_class": _model_bytes({"class": "builtins.eval", "config": {}}),
    "config_not_object": _model_bytes({"class": "linear", "config": [3, 4]}),
    "config_bad_argument": _model_bytes({"class": "linear", "config": {"in_features": 3, "bogus": 1}}),
    "config_bad_value": _model_bytes({"class": "linear", "config": {"in_features": "three", "out_features": 4}}),
    "config_negative_size": _model_bytes({"class": "linear", "config": {"in_features": -3, "out_features": 4}}),
    "config_impossible_size": _model_bytes({"class": "linear",
                                            "config": {"in_features": 10**10, "out_features": 10**10}}),
    "children_not_object": _model_bytes({"class": "sequential", "config": {}, "children": [1]}),
    "child_not_object": _model_bytes({"class": "sequential", "config": {}, "children": {"0": 5}}),
    "weights_missing": _model_bytes(_LIN),
    "weights_misshaped": _model_bytes(_LIN, {"weight": np.zeros((2, 2), np.float32), "bias": np.zeros(4, np.float32)}),
    "weights_unexpected": _model_bytes(_LIN, {**_LIN_W, "extra": np.zeros(1, np.float32)}),
    "user_metadata_not_json": _model_bytes(_LIN, _LIN_W, user_metadata="{oops"),
}


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_file_refused(name, loader, tmp_path):
    path = tmp_path / f"{name}.bin"
    path.write_bytes(BAD_FILES[name])
    _refused(path, loader)


@pytest.mark.parametrize("name", list(BAD_MODEL_FILES))
def test_bad_model_file_refused(name, tmp_path):
    path = tmp_path / f"{name}.crm"
    path.write_bytes(BAD_MODEL_FILES[name])
    _refused(path, cr.load)


def test_refusal_messages_say_why(tmp_path):
    def msg(name, data, loader=cr.load):
        path = tmp_path / name
        path.write_bytes(data)
        return _refused(path, loader).lower()

    assert "pickle" in msg("p.pt", pickle.dumps({"a": 1}))
    assert "zip" in msg("z.pt", _zip_bytes())
    m = msg("big.crm", struct.pack("<Q", 2**40) + b"{}")
    assert str(2**40) in m and ("truncated" in m or "corrupted" in m)
    assert "json" in msg("nj.crm", _safetensors_bytes(b"not json!!"))
    assert "unknown" in msg("u.crm", BAD_MODEL_FILES["unknown_class"]) and "os_system" in msg(
        "u2.crm", BAD_MODEL_FILES["unknown_class"])
    path = tmp_path / "state.safetensors"
    cr.save_state(_mlp().state_dict(), path)
    assert "architecture" in _refused(path, cr.io.read_model_file)


def test_real_torch_checkpoint_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(_torch_mlp().state_dict(), path)  # a zip holding a pickle: never loaded by chainrule
    for loader in LOADERS:
        assert "zip" in _refused(path, loader).lower()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("size", [1, 8, 9, 64, 5000])
def test_random_bytes_refused(seed, size, tmp_path):
    path = tmp_path / "random.bin"
    path.write_bytes(np.random.default_rng(seed).bytes(size))
    for loader in LOADERS:
        _refused(path, loader)


def test_random_bytes_after_a_plausible_length_refused(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "random.bin"
    for _ in range(20):
        n = int(rng.integers(2, 200))
        path.write_bytes(struct.pack("<Q", n) + rng.bytes(n + int(rng.integers(0, 50))))
        for loader in LOADERS:
            _refused(path, loader)


def test_truncated_model_file_refused_at_every_cut(tmp_path):
    model = _nested()
    good = _save(tmp_path, model, "good.crm").read_bytes()
    (n,) = struct.unpack("<Q", good[:8])
    cuts = sorted({0, 1, 4, 7, 8, 9, 20, n // 2, n + 7, n + 8, n + 9, (n + 8 + len(good)) // 2, len(good) - 4,
                   len(good) - 1})
    path = tmp_path / "cut.crm"
    for cut in cuts:
        assert cut < len(good)
        path.write_bytes(good[:cut])
        for loader in LOADERS:
            _refused(path, loader)


def test_corrupted_bytes_in_model_file(tmp_path):
    # flipping a byte of the header either leaves a sound file or is refused with a ModelFileError
    good = _save(tmp_path, _mlp(), "good.crm").read_bytes()
    (n,) = struct.unpack("<Q", good[:8])
    path = tmp_path / "flip.crm"
    for i in list(range(0, 8)) + list(range(8, 8 + n, max(1, n // 60))):
        data = bytearray(good)
        data[i] ^= 0xFF
        path.write_bytes(bytes(data))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                cr.load(path)
        except ModelFileError as e:
            assert "\n" not in str(e)


def test_state_file_given_to_load(tmp_path):
    """cr.load of a plain state file gives the dict (as torch.load); reading it as a model says why not."""
    path = tmp_path / "w.safetensors"
    model = _mlp()
    cr.save_state(model.state_dict(), path)
    state = cr.load(path)
    assert list(state) == list(model.state_dict()) and all(isinstance(v, cr.Tensor) for v in state.values())
    assert "architecture" in _refused(path, cr.io.read_model_file)


def test_model_file_given_to_load_state_gives_the_weights(tmp_path):
    model = _mlp()
    state = cr.load_state(_save(tmp_path, model))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(state[k], v)


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_missing_file_and_folder(loader, tmp_path):
    assert "no such file" in _refused(tmp_path / "nothing.crm", loader).lower()
    _refused(tmp_path / "no" / "such" / "folder.crm", loader)
    assert "folder" in _refused(tmp_path, loader).lower()


def test_huge_claim_allocates_nothing_large(tmp_path):
    path = tmp_path / "claim.crm"
    path.write_bytes(struct.pack("<Q", 2**40) + b'{"w": {"dtype": "F32", "shape": [1099511627776], "data_offsets"')
    path2 = tmp_path / "claim2.crm"
    path2.write_bytes(_safetensors_bytes({"w": _f32((2**20, 2**20))}, b"\0" * 64))
    tracemalloc.start()
    try:
        for p in (path, path2):
            for loader in LOADERS:
                with pytest.raises(ModelFileError):
                    loader(p)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20, f"peak allocation {peak} bytes"


def _overcommit_refuses_huge():
    try:
        return Path("/proc/sys/vm/overcommit_memory").read_text().strip() in ("0", "2")
    except OSError:
        return False


@pytest.mark.skipif(not _overcommit_refuses_huge(), reason="needs a kernel that refuses a 4 TiB allocation")
def test_architecture_claiming_a_huge_layer_refused(tmp_path):
    # a few hundred bytes that ask for a Linear(2**20, 2**20): 4 TiB of weights the file does not hold
    path = tmp_path / "huge.crm"
    path.write_bytes(_model_bytes({"class": "linear", "config": {"in_features": 2**20, "out_features": 2**20}},
                                  {"weight": np.zeros((1, 1), np.float32)}))
    _refused(path, cr.load)


# ---- atomic writes ------------------------------------------------------------------------------------------


def _existing(tmp_path):
    old = _mlp()
    path = _save(tmp_path, old, "model.crm")
    return old, path, path.read_bytes()


def _check_intact(tmp_path, old, path, before):
    assert path.read_bytes() == before
    _assert_same_model(old, cr.load(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.crm"], "a temporary file was left behind"


def test_failing_rename_keeps_previous_file(tmp_path, monkeypatch):
    old, path, before = _existing(tmp_path)

    def boom(*args, **kwargs):
        raise OSError("rename failed")

    monkeypatch.setattr(files_module.os, "replace", boom)
    with pytest.raises((OSError, ChainruleError)):
        cr.save(nn.Sequential(nn.Linear(3, 8), nn.Linear(8, 1)), path)
    monkeypatch.undo()
    _check_intact(tmp_path, old, path, before)


class _HalfWriter:
    """A file object that writes half of what it is given, then fails (a full disk)."""

    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()
        return False

    def write(self, data):
        self.f.write(bytes(data)[: len(data) // 2])
        raise OSError(28, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.f, name)


def test_failing_write_midway_keeps_previous_file(tmp_path, monkeypatch):
    old, path, before = _existing(tmp_path)
    real_fdopen = os.fdopen
    monkeypatch.setattr(files_module.os, "fdopen", lambda fd, *a, **k: _HalfWriter(real_fdopen(fd, *a, **k)))
    with pytest.raises((OSError, ChainruleError)):
        cr.save(nn.Sequential(nn.Linear(3, 8), nn.Linear(8, 1)), path)
    monkeypatch.undo()
    _check_intact(tmp_path, old, path, before)


def test_interrupt_during_write_keeps_previous_file(tmp_path, monkeypatch):
    old, path, before = _existing(tmp_path)

    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(files_module.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        cr.save_state(nn.Linear(3, 8).state_dict(), path)
    monkeypatch.undo()
    _check_intact(tmp_path, old, path, before)


def test_successful_save_leaves_only_the_file(tmp_path):
    _save(tmp_path, _mlp(), "model.crm")
    cr.save(_nested(), tmp_path / "model.crm")  # over the old one
    cr.save_state(_mlp().state_dict(), tmp_path / "w.safetensors")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.crm", "w.safetensors"]
    assert isinstance(cr.load(tmp_path / "model.crm")[0], nn.Sequential)


def test_saving_into_a_missing_folder(tmp_path):
    with pytest.raises(ModelFileError):
        cr.save(_mlp(), tmp_path / "missing" / "model.crm")
    with pytest.raises(ModelFileError):
        cr.save_state(_mlp().state_dict(), tmp_path / "missing" / "w.safetensors")


# ---- no pickle anywhere -------------------------------------------------------------------------------------

FORBIDDEN = [
    r"^\s*import\s+(c?pickle|dill|joblib|cloudpickle|marshal|shelve)\b",
    r"^\s*from\s+(c?pickle|dill|joblib|cloudpickle|marshal|shelve)\b",
    r"\bpickle\.loads?\(",
    r"allow_pickle\s*=\s*True",
    r"\btorch\.load\(",
    r"\bnp\.load\(",
    r"\bnumpy\.load\(",
]


def test_no_pickle_in_the_source_tree():
    sources = sorted(SRC.rglob("*.py"))
    assert len(sources) > 10
    offences = []
    for path in sources:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for pattern in FORBIDDEN:
                if re.search(pattern, line):
                    offences.append(f"{path.relative_to(SRC)}:{i}: {line.strip()}")
    assert offences == []


def test_loading_never_imports_pickle(tmp_path):
    import subprocess
    import sys

    path = _save(tmp_path, _nested())
    code = (
        "import sys, chainrule as cr\n"
        "sys.modules.pop('pickle', None)\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in ('pickle', '_pickle'):\n"
        "            raise ImportError('pickle is blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        f"m = cr.load({str(path)!r})\n"
        f"cr.load_state({str(path)!r})\n"
        "print(type(m).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Sequential"
