"""cr.save / cr.load the PyTorch way: state dicts, optimiser states and nested objects, any suffix, always
safetensors; weights written by PyTorch (safetensors.torch.save_file) load into chainrule models; a real
torch.save file (a zip or a legacy pickle) is refused in one line, saying how to convert it, and never unpickled.
"""

import io
import json
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.torch
import tolerance as T
import torch

import chainrule as cr
from chainrule import nn, optim
from chainrule.errors import ArgumentTypeError, ModelFileError
from chainrule.io import write_safetensors


def _one_line_refusal(path, loader=cr.load):
    with pytest.raises(ModelFileError) as e:
        loader(path)
    msg = str(e.value)
    assert msg.strip() and "\n" not in msg and len(msg) < 1000, msg
    return msg


def _torch_mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))


def _mlp():
    return nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))


def _is_safetensors(path):
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    return data[8:9] == b"{" and json.loads(data[8 : 8 + n])


@pytest.mark.parametrize("name", ["mnist_cnn.pt", "w.pth", "w.safetensors", "weights"])
def test_a_state_dict_saved_under_any_name_is_plain_safetensors(name, tmp_path):
    model = _mlp()
    path = tmp_path / name
    cr.save(model.state_dict(), path)
    assert _is_safetensors(path)
    tmodel = _torch_mlp()
    tmodel.load_state_dict(safetensors.torch.load_file(path))  # strict: PyTorch reads it as it is
    loaded = cr.load(path)
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(model.state_dict())  # the state dict's order
    assert all(isinstance(v, cr.Tensor) for v in loaded.values())
    other = _mlp()
    other.load_state_dict(loaded)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(other.state_dict()[k]), np.asarray(v))


def test_torch_written_safetensors_load_into_a_chainrule_model(tmp_path):
    tmodel = _torch_mlp()
    path = tmp_path / "w.safetensors"
    safetensors.torch.save_file(tmodel.state_dict(), path)
    model = _mlp()
    model.load_state_dict(cr.load(path))
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    expected = tmodel(torch.from_numpy(x)).detach()
    magnitude, _, _ = T.module_magnitudes(T.linear, tmodel, [x], None)
    T.assert_close(model(cr.tensor(x)), expected, magnitude, "forward with PyTorch's weights")


def test_torch_written_cnn_state_with_buffers_loads_exactly(tmp_path):
    torch.manual_seed(1)
    tmodel = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
                                 torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 2))
    tmodel(torch.randn(4, 1, 6, 6))  # training mode: the running statistics move
    path = tmp_path / "cnn.safetensors"
    safetensors.torch.save_file(tmodel.state_dict(), path)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    loaded = cr.load(path)
    assert loaded["1.num_batches_tracked"].numpy().dtype == np.int64
    model.load_state_dict(loaded)
    for k, v in tmodel.state_dict().items():
        np.testing.assert_array_equal(np.asarray(model.state_dict()[k]), v.numpy(), err_msg=k)


def test_a_module_saved_under_a_torch_name_is_a_model_file(tmp_path):
    model = _mlp()
    path = tmp_path / "model.pt"
    cr.save(model, path)
    assert json.loads(_is_safetensors(path)["__metadata__"]["architecture"])["class"] == "sequential"
    loaded = cr.load(path)
    assert isinstance(loaded, nn.Sequential)
    x = cr.tensor(np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


def test_dtypes_survive_a_flat_dict(tmp_path):
    state = {"f64": np.linspace(0, 1, 3), "i64": np.arange(4), "b": np.array([True, False]),
             "f16": np.ones(2, np.float16), "t": cr.tensor([1.5, 2.5]), "scalar": np.array(3.0, np.float32)}
    path = tmp_path / "mixed.pt"
    cr.save(state, path)
    loaded = cr.load(path)
    assert list(loaded) == list(state)
    for k, v in state.items():
        got, want = loaded[k].numpy(), np.asarray(v)
        assert got.dtype == want.dtype and got.shape == want.shape, k
        np.testing.assert_array_equal(got, want)
    with safetensors.safe_open(path, "np") as f:
        assert f.metadata()["format"] == "pt"


def test_a_training_checkpoint_dict_round_trips_and_the_optimizer_resumes(tmp_path):
    cr.manual_seed(0)
    model = _mlp()
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    x, y = cr.randn(8, 3), cr.randn(8, 2)

    def step(m, o):
        o.zero_grad()
        loss = ((m(x) - y) ** 2).mean()
        loss.backward()
        o.step()

    for _ in range(3):
        step(model, opt)
    path = tmp_path / "checkpoint.pt"
    cr.save({"epoch": 3, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
             "loss": float("nan"), "note": "adam", "sizes": (3, 5, 2), "none": None}, path)
    ckpt = cr.load(path)
    assert ckpt["epoch"] == 3 and np.isnan(ckpt["loss"]) and ckpt["note"] == "adam"
    assert ckpt["sizes"] == (3, 5, 2) and ckpt["none"] is None
    assert ckpt["optimizer_state_dict"]["param_groups"][0]["betas"] == (0.8, 0.9)
    assert set(ckpt["optimizer_state_dict"]["state"]) == {0, 1, 2, 3}  # integer keys come back as integers
    names = set(safetensors.torch.load_file(path))  # the tensors are named by their path
    assert "model_state_dict.0.weight" in names and "optimizer_state_dict.state.0.exp_avg" in names

    resumed = _mlp()
    resumed.load_state_dict(ckpt["model_state_dict"])
    resumed_opt = optim.Adam(resumed.parameters(), lr=0.5)
    resumed_opt.load_state_dict(ckpt["optimizer_state_dict"])
    step(model, opt)
    step(resumed, resumed_opt)
    for k, v in model.state_dict().items():  # the same arithmetic on the same state: the same result
        np.testing.assert_array_equal(np.asarray(resumed.state_dict()[k]), np.asarray(v), err_msg=k)


def test_a_bare_tensor_and_a_list_round_trip(tmp_path):
    cr.save(cr.tensor([[1, 2], [3, 4]]), tmp_path / "t.pt")
    t = cr.load(tmp_path / "t.pt")
    assert isinstance(t, cr.Tensor) and t.numpy().tolist() == [[1, 2], [3, 4]]
    cr.save([cr.tensor([1.0]), {"a": np.zeros(2)}], tmp_path / "l.pt")
    a, b = cr.load(tmp_path / "l.pt")
    assert a.numpy().tolist() == [1.0] and b["a"].numpy().tolist() == [0.0, 0.0]


def test_unsaveable_objects_are_refused_and_leave_the_old_file(tmp_path):
    path = tmp_path / "w.pt"
    cr.save({"w": np.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(ArgumentTypeError, match="save an optimiser's state_dict"):
        cr.save(optim.SGD(_mlp().parameters(), lr=0.1), path)
    with pytest.raises(ArgumentTypeError, match="extra.fn is a builtin_function_or_method"):
        cr.save({"w": np.ones(2), "extra": {"fn": len}}, path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["w.pt"]


def test_a_real_torch_save_file_is_refused_and_never_unpickled(tmp_path):
    path = tmp_path / "mnist_cnn.pt"
    torch.save(_torch_mlp().state_dict(), path)  # a zip archive holding a pickle
    assert path.read_bytes()[:4] == b"PK\x03\x04"
    for loader in (cr.load, cr.load_state):
        msg = _one_line_refusal(path, loader)
        assert "zip" in msg and "pickle" in msg and "safetensors.torch.save_file(model.state_dict()" in msg
    legacy = tmp_path / "legacy.pt"
    torch.save(_torch_mlp().state_dict(), legacy, _use_new_zipfile_serialization=False)
    assert legacy.read_bytes()[:1] == b"\x80"
    msg = _one_line_refusal(legacy)
    assert "pickle" in msg and "safetensors.torch.save_file" in msg


class _Trap:
    """Unpickling this creates a file: the proof that nothing was unpickled is that the file is not there."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_a_pickle_is_not_run(protocol, tmp_path):
    marker = tmp_path / "unpickled"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(_Trap(marker), protocol=protocol))
    pickle.loads(path.read_bytes()).close()  # the trap works ...
    marker.unlink()
    assert "pickle" in _one_line_refusal(path)
    assert not marker.exists()  # ... and chainrule never sprang it


def test_corrupted_object_structure_and_a_checkpoint_are_refused(tmp_path):
    cases = {
        "missing_tensor": {"__tensor__": "nowhere"},
        "bad_tuple": {"__tuple__": 3},
        "bad_items": {"__items__": [[1]]},
        "unhashable_key": {"__items__": [[{"a": 1}, 2]]},
        "bad_float": {"__float__": "1e999"},
    }
    for name, tree in cases.items():
        path = tmp_path / f"{name}.pt"
        write_safetensors(path, {"w": np.zeros(1, np.float32)},
                          metadata={"format": "chainrule.object", "format_version": "1", "object": json.dumps(tree)})
        assert "corrupted" in _one_line_refusal(path), name
    path = tmp_path / "not_json.pt"
    write_safetensors(path, {}, metadata={"format": "chainrule.object", "object": "{oops"})
    assert "corrupted" in _one_line_refusal(path)
    path = tmp_path / "ckpt.crc"
    write_safetensors(path, {}, metadata={"format": "chainrule.checkpoint", "format_version": "1"})
    assert "load_checkpoint" in _one_line_refusal(path)


def test_a_key_order_that_does_not_fit_the_file_is_ignored(tmp_path):
    path = tmp_path / "w.safetensors"
    write_safetensors(path, {"b": np.zeros(1), "a": np.ones(1)}, metadata={"chainrule.keys": '["a", "zzz"]'})
    assert sorted(cr.load(path)) == ["a", "b"]
    write_safetensors(path, {"b": np.zeros(1), "a": np.ones(1)}, metadata={"chainrule.keys": '["a", "b"]'})
    assert list(cr.load(path)) == ["a", "b"] and list(cr.load_state(path)) == ["a", "b"]


def test_save_and_load_through_open_binary_files(tmp_path):
    # word_language_model.py's `with open('model.pt', 'wb') as f: torch.save(model.state_dict(), f)`
    model = cr.nn.Linear(3, 2)
    with open(tmp_path / "model.pt", "wb") as f:
        cr.save(model.state_dict(), f)
    with open(tmp_path / "model.pt", "rb") as f:
        state = cr.load(f)
    np.testing.assert_array_equal(state["weight"].numpy(), model.weight.numpy())
    from safetensors.numpy import load_file

    assert set(load_file(str(tmp_path / "model.pt"))) == {"weight", "bias"}  # a plain safetensors file
    buffer = io.BytesIO()
    cr.save({"epoch": 3, "model": model.state_dict()}, buffer)
    buffer.seek(0)
    assert cr.load(buffer)["epoch"] == 3


def test_text_mode_and_closed_files_are_refused_in_one_line(tmp_path):
    with open(tmp_path / "w.pt", "w") as f, pytest.raises(ModelFileError, match="binary mode"):
        cr.save({"w": cr.ones(2)}, f)
    cr.save({"w": cr.ones(2)}, tmp_path / "w.pt")
    with open(tmp_path / "w.pt") as f, pytest.raises(ModelFileError, match="text mode"):
        cr.load(f)
    f = open(tmp_path / "w.pt", "rb")  # noqa: SIM115 - closed on purpose before the load
    f.close()
    with pytest.raises(ModelFileError, match="cannot read"):
        cr.load(f)
