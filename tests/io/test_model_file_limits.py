"""What the fuzzer (test_model_file_fuzz.py) found, each pinned by a small test; and a CSV given as a model file.

Every refusal is a one-line ModelFileError (or, for a checkpoint that does not fit the run, TrainingError) and
allocates nothing large.
"""

import json
import struct
import tracemalloc
import types
import warnings

import numpy as np
import pytest
import safetensors.numpy

import chainrule as cr
from chainrule import nn, optim
from chainrule import random as cr_random
from chainrule.errors import ChainruleError, ModelFileError, TrainingError
from chainrule.train.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint


def _refused(path, loader=cr.load, error=ModelFileError):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(error) as e:
            loader(path)
    msg = str(e.value)
    assert msg.strip() and "\n" not in msg and len(msg) < 1000, msg
    return msg


def _model_file(tmp_path, architecture, tensors=None, name="m.crm", **meta):
    metadata = {"format": "chainrule.model", "format_version": "1"}
    metadata["architecture"] = architecture if isinstance(architecture, str) else json.dumps(architecture)
    metadata.update(meta)
    path = tmp_path / name
    path.write_bytes(safetensors.numpy.save(tensors or {}, metadata=metadata))
    return path


# ---- a file that is not a model file at all ---------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    b"age,income,approved\n30,1000,1\n41,2300,0\n",
    b"\xef\xbb\xbfage;income\n30;1000\n",  # a byte-order mark
    b'{"weights": [1, 2, 3]}',
    b"\tid\tname\n1\tx\n",
])
def test_a_csv_or_text_file_is_not_a_chainrule_model_file(text, tmp_path):
    path = tmp_path / "train.csv"
    path.write_bytes(text)
    for loader in (cr.load, cr.load_state, read_checkpoint):
        msg = _refused(path, loader)
        assert "not a chainrule model file" in msg and "text file" in msg, msg
        assert "8-byte little-endian header length followed by '{'" in msg, msg
        assert "claims" not in msg, msg  # not "the header claims 7233187960150123885 bytes"


@pytest.mark.parametrize("data", [bytes(range(1, 40)), b"\x00\x01\x02\x03\x04\x05\x06\x07\x08" + b"\x00" * 30,
                                  b"\xff" * 9 + b"junk"])
def test_other_binary_files_say_what_a_model_file_starts_with(data, tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    msg = _refused(path)
    assert "not a chainrule model file" in msg and "followed by '{'" in msg and "starts with b'" in msg, msg


def test_a_cut_model_file_is_still_called_truncated(tmp_path):
    path = tmp_path / "m.crm"
    cr.save(nn.Linear(3, 2), path)
    data = path.read_bytes()
    path.write_bytes(data[:40])  # the length and the start of the header survive
    msg = _refused(path)
    assert "truncated" in msg and "claims" in msg, msg


# ---- architectures that ask for too much -----------------------------------------------------------------------

N = 2 * 10**10  # 80 GB of float32: far more than 4 bytes of weights justify
HUGE = {
    "linear": {"in_features": N, "out_features": 1},
    "batch_norm1d": {"num_features": N},
    "batch_norm2d": {"num_features": N},
    "layer_norm": {"normalized_shape": [N]},
    "embedding": {"num_embeddings": N, "embedding_dim": 1},
    "conv2d": {"in_channels": N, "out_channels": 1, "kernel_size": 1},
}
@pytest.mark.parametrize("name", list(HUGE))
def test_huge_layers_allocate_nothing_large(name, tmp_path):
    path = _model_file(tmp_path, {"class": name, "config": HUGE[name]}, {"w": np.zeros(1, np.float32)})
    tracemalloc.start()  # (NumPy counts even an allocation that fails: this sees every attempt)
    try:
        msg = _refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "more memory than the file's weights justify" in msg, msg
    assert peak < 2**24, f"{peak:,} bytes"


def test_the_budget_follows_the_weights_in_the_file(tmp_path):
    cr.manual_seed(0)
    big = nn.Sequential(nn.Linear(300, 200), nn.ReLU(), nn.Linear(200, 300))  # 0.5 MB of weights: loads
    path = tmp_path / "big.crm"
    cr.save(big, path)
    loaded = cr.load(path)
    np.testing.assert_array_equal(loaded[2].weight.numpy(), big[2].weight.numpy())
    # the same architecture with its weights removed asks for more than the file holds
    arch = json.loads(safetensors.safe_open(path, "np").metadata()["architecture"])
    arch["children"]["0"]["config"]["in_features"] = 3 * 10**6
    _refused(_model_file(tmp_path, arch, {"0.bias": np.zeros(200, np.float32)}))


def test_the_budget_ends_with_the_load(tmp_path):
    from chainrule.backend import _budget

    path = _model_file(tmp_path, {"class": "linear", "config": {"in_features": 3, "out_features": 2}},
                       {"weight": np.ones((2, 3), np.float32), "bias": np.ones(2, np.float32)})
    cr.load(path)
    assert _budget.get() is None
    nn.Linear(1000, 1000)  # no budget outside a load


# ---- architectures that are not ones --------------------------------------------------------------------------


def _nested(depth):
    spec = {"class": "identity", "config": {}}
    for _ in range(depth):
        spec = {"class": "sequential", "config": {}, "children": {"0": spec}}
    return spec


def test_deep_nesting_is_refused_before_python_runs_out_of_stack(tmp_path):
    assert isinstance(cr.load(_model_file(tmp_path, _nested(60))), nn.Sequential)
    for depth in (150, 900, 5000):
        node = '{"class": "sequential", "config": {}, "children": {"0": '
        text = node * depth + '{"class": "identity"}' + "}}" * depth
        msg = _refused(_model_file(tmp_path, text, name=f"deep{depth}.crm"))
        assert "nested more than" in msg or "not valid JSON" in msg, msg


@pytest.mark.parametrize("children,why", [
    ({"0": {"class": "relu"}}, "holds no children"),  # a Linear with children
    ({"": {"class": "relu"}}, "cannot name a child"),
    ({"a.b": {"class": "relu"}}, "cannot name a child"),
    ({"forward": {"class": "relu"}}, "cannot name a child"),
    ({"training": {"class": "relu"}}, "cannot name a child"),
])
def test_children_that_cannot_be(children, why, tmp_path):
    cls = "linear" if why == "holds no children" else "sequential"
    config = {"in_features": 1, "out_features": 1} if cls == "linear" else {}
    msg = _refused(_model_file(tmp_path, {"class": cls, "config": config, "children": children}))
    assert why in msg, msg


def test_names_and_values_from_the_file_are_quoted_short(tmp_path):
    msg = _refused(_model_file(tmp_path, {"class": "x" * 5000, "config": {}}))
    assert "unknown layer" in msg and len(msg) < 1000
    msg = _refused(_model_file(tmp_path, {"class": "linear", "config": {"in_features": "y" * 5000}}, name="v.crm"))
    assert "cannot rebuild linear" in msg and len(msg) < 1000


@pytest.fixture
def failing_layer():
    name = "test_model_file_limits_failing"

    @cr.registry.register(name)
    class Failing(nn.Module):
        def __init__(self, how="zero"):
            super().__init__()
            self.how = how
            {"zero": lambda: 1 / 0, "key": lambda: {}["k"], "index": lambda: [][1], "overflow": lambda: 1e308 ** 2,
             "attribute": lambda: None.x, "ok": lambda: None}[how]()

    yield name
    del cr.registry._REGISTRY["module"][name]


@pytest.mark.parametrize("how,kind", [("zero", "ZeroDivisionError"), ("key", "KeyError"), ("index", "IndexError"),
                                      ("overflow", "OverflowError"), ("attribute", "AttributeError")])
def test_a_constructor_failing_in_any_way_is_a_model_file_error(failing_layer, how, kind, tmp_path):
    msg = _refused(_model_file(tmp_path, {"class": failing_layer, "config": {"how": how}}))
    assert f"cannot rebuild {failing_layer}" in msg and kind in msg, msg
    assert isinstance(cr.load(_model_file(tmp_path, {"class": failing_layer, "config": {"how": "ok"}}, name="ok.crm")),
                      nn.Module)


@pytest.mark.parametrize("where", ["architecture", "user_metadata", "header"])
def test_numbers_too_long_for_python_are_refused(where, tmp_path):
    long = "9" * 5000  # int() refuses more than 4300 digits: json raises ValueError, not JSONDecodeError
    path = tmp_path / "long.crm"
    if where == "header":
        header = ('{"w": {"dtype": "F32", "shape": [' + long + '], "data_offsets": [0, 4]}}').encode()
        path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4)
    elif where == "architecture":
        path = _model_file(tmp_path, '{"class": "linear", "config": {"in_features": ' + long + "}}")
    else:
        path = _model_file(tmp_path, {"class": "relu"}, user_metadata='{"n": ' + long + "}")
    assert "JSON" in _refused(path)


def test_zero_sized_layers_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(0, 4), nn.ReLU(), nn.Linear(4, 2))  # as torch.nn.Linear(0, 4)
    assert model[0].weight.shape == (4, 0) and not model[0].bias.numpy().any()
    path = tmp_path / "z.crm"
    cr.save(model, path)
    loaded = cr.load(path)
    assert loaded[0].weight.shape == (4, 0)
    np.testing.assert_array_equal(loaded(cr.tensor(np.zeros((3, 0), np.float32))).numpy(),
                                  model(cr.tensor(np.zeros((3, 0), np.float32))).numpy())


# ---- checkpoints -----------------------------------------------------------------------------------------------


def _trainer():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.1, seed=1), nn.Linear(4, 2))
    return types.SimpleNamespace(model=model, optimizer=optim.Adam(model.parameters(), lr=0.01), scheduler=None,
                                 history=None, callbacks=[], stop_training=False)


def _checkpoint_with(tmp_path, edit):
    """A checkpoint whose JSON payload ``edit(payload)`` changed."""
    path = tmp_path / "c.ckpt"
    trainer = _trainer()
    trainer.model(cr.tensor(np.ones((2, 3), np.float32))).sum().backward()
    trainer.optimizer.step()
    save_checkpoint(path, trainer, 2)
    with safetensors.safe_open(path, "np") as f:
        meta = f.metadata()
        arrays = {k: f.get_tensor(k) for k in f.keys()}
    payload = json.loads(meta["checkpoint"])
    edit(payload)
    meta["checkpoint"] = json.dumps(payload)
    path.write_bytes(safetensors.numpy.save(arrays, metadata=meta))
    return path


def _set(path, value):
    def edit(payload):
        node = payload
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


STATE0 = ["optimizer", "state", "__items__", 0, 1]  # the first parameter's optimiser state
CORRUPT = {
    "tuple_of_a_bool": _set(["optimizer", "param_groups", 0, "betas"], {"__tuple__": True}),
    "items_not_pairs": _set(["history"], {"__items__": [[1, 2, 3]]}),
    "items_unhashable_key": _set(["history"], {"__items__": [[{"a": 1}, 2]]}),
    "tensor_name_a_list": _set(STATE0 + ["exp_avg"], {"__tensor__": ["x"]}),
    "tensor_missing": _set(STATE0 + ["exp_avg"], {"__tensor__": "nothing" * 100}),
    "float_not_special": _set(["optimizer", "param_groups", 0, "lr"], {"__float__": "1.5"}),
    "deep": lambda p: p.__setitem__("history", json.loads("[" * 900 + "]" * 900)),
    "epoch_negative": _set(["epoch"], -1),
    "epoch_a_bool": _set(["epoch"], True),
    "model_keys_not_names": _set(["model_keys"], [["0.weight"]]),
    "model_key_missing": _set(["model_keys"], ["0.weight", "nothing"]),
    "optimizer_not_a_dict": _set(["optimizer"], 3),
    "groups_not_a_list": _set(["optimizer", "param_groups"], {"a": 1}),
    "scheduler_without_class": _set(["scheduler"], {"state": {}}),
    "callbacks_not_a_list": _set(["callbacks"], 5),
    "rng_modules_not_states": _set(["rng", "modules"], {"1:_generator": 3}),
    "rng_module_name_malformed": _set(["rng", "modules"], {"no colon": {}}),
}
APPLY = {  # readable, but what they hold cannot be restored into a trainer
    "step_not_a_number": (_set(STATE0 + ["step"], "x"), TrainingError),
    "step_an_array": (_set(STATE0 + ["step"], [1, 2]), TrainingError),
    "state_entry_a_list": (_set(STATE0 + ["exp_avg"], [1.0, 2.0]), TrainingError),
    "params_unhashable": (_set(["optimizer", "param_groups", 0, "params"], [[0], [1]]), TrainingError),
    "lr_a_string": (_set(["optimizer", "param_groups", 0, "lr"], "a" * 500), TrainingError),
    "betas_a_number": (_set(["optimizer", "param_groups", 0, "betas"], 0.9), TrainingError),
    "bit_generator_unknown": (_set(["rng", "default", "bit_generator"], "x" * 500), ModelFileError),
    "bit_generator_state_junk": (_set(["rng", "default", "state"], {"state": "nan", "inc": []}), ModelFileError),
    "module_generator_state_junk": (_set(["rng", "modules", "1:_generator", "state"], 5), ModelFileError),
}


@pytest.mark.parametrize("name", list(CORRUPT))
def test_corrupted_checkpoint_metadata_is_refused(name, tmp_path):
    path = _checkpoint_with(tmp_path, CORRUPT[name])
    _refused(path, read_checkpoint)
    _refused(path, lambda p: load_checkpoint(p, _trainer()))


@pytest.mark.parametrize("name", list(APPLY))
def test_checkpoint_state_that_cannot_be_restored_is_refused(name, tmp_path):
    edit, error = APPLY[name]
    path = _checkpoint_with(tmp_path, edit)
    read_checkpoint(path)
    before = cr_random.default_generator().bit_generator.state
    _refused(path, lambda p: load_checkpoint(p, _trainer()), error)
    if error is ModelFileError and name.startswith("bit_generator"):
        assert cr_random.default_generator().bit_generator.state == before  # not left half set


def test_an_untouched_checkpoint_loads(tmp_path):
    path = _checkpoint_with(tmp_path, lambda p: None)
    assert load_checkpoint(path, _trainer()) == 2


def test_scheduler_state_holds_only_its_own_attributes():
    opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    state = sched.state_dict()
    with pytest.raises(ChainruleError, match="not attributes"):
        sched.load_state_dict({**state, "optimizer": 5})
    assert sched.optimizer is opt
    with pytest.raises(ChainruleError, match="expected a dict"):
        sched.load_state_dict([1, 2])
    sched.load_state_dict(state)
