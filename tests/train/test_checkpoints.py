"""Checkpoints: round trip, resuming in-process, atomic writes, no pickle, clear errors."""

import json
import math
import pickle
import struct
from collections import Counter

import numpy as np
import pytest
from train_helpers import ScriptedLogs, mlp, split_blobs

import chainrule as cr
import chainrule.io.files as files
from chainrule import nn, optim
from chainrule.errors import ArgumentError, ModelFileError, TrainingError
from chainrule.random import default_generator
from chainrule.train import CSVLogger, EarlyStopping, Trainer, load_checkpoint, save_checkpoint
from chainrule.train.checkpoint import _decode, _Encoder, checkpoint_epoch


def build(seed=0, scheduler="multistep", dropout_seed=11, callbacks=None):
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.25), nn.Linear(16, 16), nn.ReLU(),
                          nn.Dropout(0.25, seed=dropout_seed), nn.Linear(16, 2))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = {"multistep": lambda: optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.5),
             "plateau": lambda: optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5),
             None: lambda: None}[scheduler]()
    callbacks = [EarlyStopping("loss", patience=100, restore_best_weights=True)] if callbacks is None else callbacks
    cbs = list(callbacks)
    if scheduler == "plateau":
        from chainrule.train import LRSchedulerCallback

        cbs.append(LRSchedulerCallback(sched))
        sched = None
    return Trainer(model, nn.CrossEntropyLoss(), opt, metrics=["accuracy"], callbacks=cbs, scheduler=sched)


def assert_same_state(a, b):
    wa, wb = a.model.state_dict(), b.model.state_dict()
    assert list(wa) == list(wb) and all(np.array_equal(wa[k], wb[k]) for k in wa)
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    for i in sa["state"]:
        for k, v in sa["state"][i].items():
            assert np.array_equal(v, sb["state"][i][k]), (i, k)


def test_round_trip_restores_everything(tmp_path):
    train, val = split_blobs()
    a = build()
    a.fit(train, val=val, epochs=3, verbose=0)
    default_generator().random(5)  # move the generator after the fit: the checkpoint must hold this state
    path = tmp_path / "run.safetensors"
    assert save_checkpoint(path, a, 3) == path
    gen_state = default_generator().bit_generator.state
    layer_state = a.model[5]._generator.bit_generator.state

    b = build(seed=99)  # other initial weights
    cr.manual_seed(12345)
    b.model[5]._generator.random(3)
    assert load_checkpoint(path, b) == 3
    assert_same_state(a, b)
    assert b.scheduler.state_dict() == a.scheduler.state_dict()
    assert isinstance(b.scheduler.milestones, Counter)
    assert b.history.history == a.history.history and b.history.epoch == [0, 1, 2]
    es_a, es_b = a.callbacks[0], b.callbacks[0]
    assert (es_b.best, es_b.best_epoch, es_b.wait) == (es_a.best, es_a.best_epoch, es_a.wait)
    assert all(np.array_equal(es_a.best_weights[k], es_b.best_weights[k]) for k in es_a.best_weights)
    assert default_generator().bit_generator.state == gen_state
    assert b.model[5]._generator.bit_generator.state == layer_state
    assert checkpoint_epoch(path) == 3


@pytest.mark.parametrize("scheduler", ["multistep", "plateau"])
def test_resume_in_process_equals_an_uninterrupted_run(tmp_path, scheduler):
    train, val = split_blobs()
    full = build(scheduler=scheduler)
    full.fit(train, val=val, epochs=5, batch_size=16, checkpoint=tmp_path / "full", verbose=0)

    part = build(scheduler=scheduler)
    part.fit(train, val=val, epochs=2, batch_size=16, checkpoint=tmp_path / "part", verbose=0)
    default_generator().random(100)  # anything happening in between does not matter
    resumed = build(seed=5, scheduler=scheduler)
    h = resumed.fit(train, val=val, epochs=5, batch_size=16, checkpoint=tmp_path / "part", resume=True, verbose=0)
    assert resumed.initial_epoch == 2
    assert h.history == full.history.history
    assert_same_state(full, resumed)

    other = build(seed=5, scheduler=scheduler)  # resume_from= a given file
    other.fit(train, val=val, epochs=5, batch_size=16, resume_from=tmp_path / "part" / "checkpoint.safetensors",
              verbose=0)
    assert_same_state(full, other)


def test_resume_without_a_checkpoint_starts_afresh_and_finished_runs_stay_finished(tmp_path):
    train, val = split_blobs()
    t = build()
    h = t.fit(train, val=val, epochs=2, checkpoint=tmp_path / "c.safetensors", resume=True, verbose=0)
    assert t.initial_epoch == 0 and len(h.epoch) == 2
    assert (tmp_path / "c.safetensors").exists()
    t2 = build()
    h2 = t2.fit(train, val=val, epochs=2, checkpoint=tmp_path / "c.safetensors", resume=True, verbose=0)
    assert t2.initial_epoch == 2 and h2.history == h.history  # nothing left to do
    # a run stopped early stays stopped when resumed
    script = ScriptedLogs("val_loss", [1.0, 2.0, 3.0, 4.0, 5.0])
    t3 = build(callbacks=[script, EarlyStopping(patience=1)])
    t3.fit(train, val=val, epochs=5, checkpoint=tmp_path / "es", verbose=0)
    assert t3.history.epoch == [0, 1]
    t4 = build(callbacks=[ScriptedLogs("val_loss", [1.0] * 5), EarlyStopping(patience=1)])
    h4 = t4.fit(train, val=val, epochs=5, checkpoint=tmp_path / "es", resume=True, verbose=0)
    assert h4.epoch == [0, 1] and "EarlyStopping" in h4.stop_reason


def test_csv_logger_on_resume_appends_without_duplicates(tmp_path):
    train, val = split_blobs()
    log = tmp_path / "log.csv"
    build(callbacks=[CSVLogger(log)]).fit(train, val=val, epochs=2, checkpoint=tmp_path / "c", verbose=0)
    with log.open("a") as f:  # a row written by a run killed before its checkpoint
        f.write("2,9,9,9,9,9\n")
    build(callbacks=[CSVLogger(log)]).fit(train, val=val, epochs=4, checkpoint=tmp_path / "c", resume=True,
                                          verbose=0)
    rows = log.read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["epoch", "0", "1", "2", "3"] and "9,9,9" not in log.read_text()


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    train, _ = split_blobs()
    t = build()
    t.fit(train, epochs=1, verbose=0)
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, t, 1)
    before = path.read_bytes()
    t.fit(train, epochs=1, verbose=0)

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, t, 2)
    assert path.read_bytes() == before  # the old checkpoint is intact
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.safetensors"]  # and no temporary file is left
    assert checkpoint_epoch(path) == 1


def test_checkpoint_is_plain_safetensors_never_pickle(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    train, _ = split_blobs()
    t = build()
    t.fit(train, epochs=1, verbose=0)
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, t, 1)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__")
    assert meta["format"] == "chainrule.checkpoint"
    payload = json.loads(meta["checkpoint"])  # plain JSON
    assert payload["epoch"] == 1 and "default" in payload["rng"]
    assert {k for k in header if k.startswith("model.")} == {f"model.{k}" for k in t.model.state_dict()}
    assert any(k.startswith("optimizer.") for k in header)  # Adam's moments are tensors
    arrays = safetensors_numpy.load_file(path)  # any safetensors reader can open it
    assert np.array_equal(arrays["model.0.weight"], t.model.state_dict()["0.weight"])

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used")

    with pytest.MonkeyPatch.context() as mp:  # saving and loading never touch pickle
        for name in ("load", "loads", "dump", "dumps", "Unpickler", "Pickler"):
            mp.setattr(pickle, name, refuse)
        save_checkpoint(path, t, 1)
        assert load_checkpoint(path, build(seed=3)) == 1

    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(ModelFileError, match="pickle"):
        load_checkpoint(evil, t)
    model_file = tmp_path / "model.crm"
    cr.save(t.model, model_file)
    with pytest.raises(ModelFileError, match="not a training checkpoint"):
        load_checkpoint(model_file, t)


def test_a_checkpoint_that_does_not_fit_the_run_is_refused(tmp_path):
    train, _ = split_blobs()
    t = build()
    t.fit(train, epochs=1, verbose=0)
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, t, 1)
    other_model = mlp(out=3)
    wrong = Trainer(other_model, nn.CrossEntropyLoss(), optim.Adam(other_model.parameters()))
    with pytest.raises(TrainingError, match="does not fit this run: the model"):
        load_checkpoint(path, wrong)
    no_sched = build(scheduler=None)
    with pytest.raises(TrainingError, match="scheduler MultiStepLR"):
        load_checkpoint(path, no_sched)
    other_seedless = build(dropout_seed=None)
    with pytest.raises(TrainingError, match="own random generator"):
        load_checkpoint(path, other_seedless)
    with pytest.raises(ModelFileError, match="no such file"):
        t.fit(train, epochs=2, resume_from=tmp_path / "missing.safetensors", verbose=0)


def test_encoding_of_special_values_round_trips():
    arrays = {}
    state = {
        "inf": math.inf, "nan": math.nan, "tuple": (1, (2.5, "x")), "counter": Counter({3: 2, 7: 1}),
        "int_keys": {0: np.arange(3, dtype=np.float32), 1: {"step": np.int64(4)}}, "none": None,
        "__tricky__": [True, False], "array": np.eye(2),
    }
    data = _Encoder(arrays)(state, "s")
    text = json.dumps(data, allow_nan=False)
    back = _decode(json.loads(text), arrays)
    assert back["inf"] == math.inf and math.isnan(back["nan"])
    assert back["tuple"] == (1, (2.5, "x")) and back["counter"] == Counter({3: 2, 7: 1})
    assert isinstance(back["counter"], Counter)
    assert np.array_equal(back["int_keys"][0], np.arange(3)) and back["int_keys"][1] == {"step": 4}
    assert back["__tricky__"] == [True, False] and back["none"] is None and np.array_equal(back["array"], np.eye(2))
    with pytest.raises(TrainingError, match="not plain data"):
        _Encoder({})({"f": lambda: 0}, "s")


def test_fit_checkpoint_argument_errors(tmp_path):
    train, _ = split_blobs()
    with pytest.raises(ArgumentError, match="needs checkpoint"):
        build().fit(train, epochs=1, resume=True, verbose=0)
