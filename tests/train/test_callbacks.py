"""Callbacks: EarlyStopping, ModelCheckpoint, LRSchedulerCallback, CSVLogger, TerminateOnNaN, ProgressBar."""

import csv
import io
import math
import sys

import numpy as np
import pytest
from train_helpers import Recorder, ScriptedLogs, mlp, split_blobs

from chainrule import nn, optim
from chainrule.errors import ArgumentError, TrainingError
from chainrule.train import (
    CSVLogger,
    EarlyStopping,
    LRSchedulerCallback,
    ModelCheckpoint,
    NoImprovementStopping,
    ProgressBar,
    TerminateOnNaN,
    Trainer,
    load_checkpoint,
)


def make(callbacks=(), lr=0.1, scheduler=None, model=None, metrics=("accuracy",)):
    model = model or mlp()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    if callable(scheduler):
        scheduler = scheduler(opt)
    return Trainer(model, nn.CrossEntropyLoss(), opt, metrics=metrics, callbacks=callbacks, scheduler=scheduler)


def same_weights(a, b):
    return all(np.array_equal(a[k], b[k]) for k in a)


# ---- EarlyStopping ----------------------------------------------------------------------------


def test_early_stopping_stops_after_patience():
    train, val = split_blobs()
    script = ScriptedLogs("val_loss", [1.0, 0.5, 0.6, 0.7, 0.55, 0.9, 1.0, 1.0])
    t = make([script, EarlyStopping(patience=3)])
    h = t.fit(train, val=val, epochs=8, verbose=0)
    assert h.epoch == [0, 1, 2, 3, 4]  # best at epoch 1, then 3 epochs without improvement
    assert "EarlyStopping" in h.stop_reason and "epoch 5" in h.stop_reason
    assert len(h.history["val_loss"]) == 5


def test_early_stopping_min_delta_and_max_mode():
    train, val = split_blobs()
    t = make([ScriptedLogs("val_accuracy", [0.5, 0.6, 0.605, 0.61, 0.9]), EarlyStopping("val_accuracy", patience=2,
                                                                                          min_delta=0.05)])
    h = t.fit(train, val=val, epochs=5, verbose=0)
    assert h.epoch == [0, 1, 2, 3]  # +0.005 and +0.01 are below min_delta: no improvement; max mode by name


@pytest.mark.parametrize("how", ["stopped", "last_epoch", "nan"])
def test_restore_best_weights_however_training_ends(how):
    train, val = split_blobs()
    scripted = [3.0, 1.0, 2.0, 2.5, 2.6, 2.7]
    script = ScriptedLogs("val_loss", scripted)
    es = EarlyStopping(patience=2 if how == "stopped" else 100, restore_best_weights=True)
    callbacks = [script, es]
    if how == "nan":
        class NanAtEpoch3(TerminateOnNaN):
            def on_batch_end(self, batch, logs=None):
                if self.trainer.epoch == 3:
                    logs["loss"] = math.nan
                super().on_batch_end(batch, logs)
        callbacks.append(NanAtEpoch3())
    t = make(callbacks)
    h = t.fit(train, val=val, epochs=6, verbose=0)
    assert len(h.epoch) == {"stopped": 4, "last_epoch": 6, "nan": 4}[how]
    assert es.best_epoch == 1
    assert same_weights(t.model.state_dict(), script.weights[1])
    assert not same_weights(script.weights[-1], script.weights[1])


def test_early_stopping_needs_its_metric():
    train, _ = split_blobs()
    with pytest.raises(TrainingError, match="val_loss.*pass val="):
        make([EarlyStopping()]).fit(train, epochs=2, verbose=0)


# ---- ModelCheckpoint ---------------------------------------------------------------------------


# ---- NoImprovementStopping (scikit-learn's rule) ----------------------------------------------------------


def _sklearn_rule(values, tol, n_iter_no_change, maximize):
    """MLPClassifier._update_no_improvement_count and its stopping test, transcribed:
    (epochs run, whether it stopped, best value, best epoch)."""
    best, best_epoch, count = (-math.inf if maximize else math.inf), -1, 0
    for epoch, v in enumerate(values):
        stalled = v < best + tol if maximize else v > best - tol
        count = count + 1 if stalled else 0
        if (v > best) if maximize else (v < best):
            best, best_epoch = v, epoch
        if count > n_iter_no_change:
            return epoch + 1, True, best, best_epoch
    return len(values), False, best, best_epoch


@pytest.mark.parametrize("seed", range(12))
def test_no_improvement_stopping_is_the_sklearn_rule(seed):
    rng = np.random.default_rng(seed)
    maximize = bool(seed % 2)
    # values on a grid of the tolerance: exact ties and improvements of exactly tol, both ways
    values = [float(v) for v in rng.integers(0, 6, 14) * 0.25]
    tol, patience = [0.0, 0.25, 0.5][seed % 3], int(rng.integers(1, 4))
    key = "val_accuracy" if maximize else "loss"
    stopper = NoImprovementStopping(key, tol=tol, n_iter_no_change=patience, restore_best_weights=True)
    assert stopper.mode == ("max" if maximize else "min")  # 'auto' by the name, as EarlyStopping
    script = ScriptedLogs(key, values)
    train, val = split_blobs(n=60, n_train=40)
    t = make([script, stopper])
    h = t.fit(train, val=val, epochs=len(values), verbose=0)
    n_epochs, stopped, best, best_epoch = _sklearn_rule(values, tol, patience, maximize)
    assert len(h.epoch) == n_epochs
    assert (stopper.best, stopper.best_epoch) == (best, best_epoch)
    assert (stopper.stopped_epoch >= 0) == (h.stop_reason is not None) == stopped
    if stopped:
        assert stopper.stopped_epoch == n_epochs - 1
        assert h.stop_reason.startswith(f"NoImprovementStopping: {key} did not improve by at least tol={tol:g} "
                                        f"for {patience + 1} consecutive epochs")
    assert same_weights(t.model.state_dict(), script.weights[best_epoch])  # restore_best_weights


def test_no_improvement_stopping_against_scikit_learn_itself():
    """The same decisions as MLPClassifier's own private method, where this scikit-learn has it."""
    mlp_mod = pytest.importorskip("sklearn.neural_network")
    est = mlp_mod.MLPClassifier(tol=0.25, n_iter_no_change=2)
    update = getattr(est, "_update_no_improvement_count", None)
    if update is None:
        pytest.skip("this scikit-learn has no _update_no_improvement_count")
    values = [3.0, 2.75, 2.5, 2.5, 2.25, 2.25, 2.5, 2.0, 2.0, 2.0, 2.0, 1.0]
    est.loss_curve_, est.best_loss_, est._no_improvement_count = [], np.inf, 0
    sk_epochs = len(values)
    for epoch, v in enumerate(values):
        est.loss_curve_.append(v)
        try:
            update(False, None, None, None)
        except TypeError:
            update(False, None, None)  # older signature
        if est._no_improvement_count > est.n_iter_no_change:
            sk_epochs = epoch + 1
            break
    stopper = NoImprovementStopping("loss", tol=0.25, n_iter_no_change=2)
    h = make([ScriptedLogs("loss", values), stopper]).fit(split_blobs()[0], epochs=len(values), verbose=0)
    assert len(h.epoch) == sk_epochs < len(values) and stopper.best == est.best_loss_


def test_no_improvement_stopping_keeps_the_best_weights_and_resumes(tmp_path):
    train, val = split_blobs()
    script = ScriptedLogs("val_accuracy", [0.5, 0.7, 0.6, 0.65, 0.7, 0.69, 0.7])
    stopper = NoImprovementStopping("val_accuracy", tol=0.01, n_iter_no_change=2, restore_best_weights=True)
    t = make([script, stopper])
    h = t.fit(train, val=val, epochs=7, verbose=0)
    assert h.epoch == [0, 1, 2, 3, 4] and stopper.best_epoch == 1 and stopper.stopped_epoch == 4
    assert same_weights(t.model.state_dict(), script.weights[1])
    state = stopper.state_dict()
    other = NoImprovementStopping("val_accuracy", tol=0.01, n_iter_no_change=2)
    other.load_state_dict(state)
    assert (other.no_improvement_count, other.best, other.best_epoch) == (3, 0.7, 1)


def test_no_improvement_stopping_counts_nan_as_no_improvement_and_checks_its_arguments():
    stopper = NoImprovementStopping("loss", tol=0.0, n_iter_no_change=1)
    make([ScriptedLogs("loss", [1.0, math.nan, math.nan, 0.5]), stopper]).fit(split_blobs()[0], epochs=4, verbose=0)
    assert stopper.stopped_epoch == 2 and stopper.best == 1.0
    for kwargs, message in [({"n_iter_no_change": 0}, "n_iter_no_change must be an integer >= 1"),
                            ({"n_iter_no_change": True}, "n_iter_no_change"),
                            ({"tol": -1}, "tol must be a finite number >= 0"), ({"tol": math.inf}, "tol"),
                            ({"mode": "up"}, "mode must be 'auto', 'min' or 'max'")]:
        with pytest.raises(ArgumentError, match=message):
            NoImprovementStopping(**kwargs)
    with pytest.raises(TrainingError, match="'val_loss' is not in the epoch logs"):
        make([NoImprovementStopping("val_loss")]).fit(split_blobs()[0], epochs=1, verbose=0)


def test_model_checkpoint_every_epoch_with_a_path_template(tmp_path):
    train, val = split_blobs()
    rec = ScriptedLogs("unused", [0] * 3)
    t = make([rec, ModelCheckpoint(tmp_path / "ep{epoch:02d}.safetensors")])
    t.fit(train, val=val, epochs=3, verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ep01.safetensors", "ep02.safetensors",
                                                           "ep03.safetensors"]
    fresh = make(model=mlp(seed=9))
    assert load_checkpoint(tmp_path / "ep02.safetensors", fresh) == 2
    assert same_weights(fresh.model.state_dict(), rec.weights[1])


def test_model_checkpoint_save_best_only(tmp_path):
    train, val = split_blobs()
    script = ScriptedLogs("val_loss", [2.0, 1.0, 1.5, 0.5, 0.7])
    mc = ModelCheckpoint(tmp_path / "best-{epoch}.safetensors", save_best_only=True)
    t = make([script, mc])
    t.fit(train, val=val, epochs=5, verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best-1.safetensors", "best-2.safetensors",
                                                           "best-4.safetensors"]
    assert mc.best == 0.5 and mc.last_saved.name == "best-4.safetensors"


# ---- LRSchedulerCallback -------------------------------------------------------------------------


def test_trainer_scheduler_steps_per_epoch():
    train, _ = split_blobs()
    t = make(scheduler=lambda opt: optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5))
    h = t.fit(train, epochs=5, verbose=0)
    assert h.history["lr"] == [0.1, 0.1, 0.05, 0.05, 0.025]
    assert t.optimizer.param_groups[0]["lr"] == 0.025  # stepped after the last epoch too


def test_reduce_lr_on_plateau_gets_the_monitored_metric():
    train, val = split_blobs()
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    script = ScriptedLogs("val_loss", [1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    t = Trainer(model, nn.CrossEntropyLoss(), opt, callbacks=[script, LRSchedulerCallback(plateau)])
    h = t.fit(train, val=val, epochs=6, verbose=0)
    assert h.history["lr"] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025]


def test_one_cycle_steps_per_batch():
    train, _ = split_blobs()  # 180 samples, batch 30: 6 batches per epoch
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    cycle = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=12)
    cb = LRSchedulerCallback(cycle)
    assert cb.interval == "batch"
    Trainer(model, nn.CrossEntropyLoss(), opt, callbacks=[cb]).fit(train, epochs=2, batch_size=30, verbose=0)
    assert cycle.last_epoch == 12


# ---- CSVLogger -------------------------------------------------------------------------------------


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    train, val = split_blobs()
    path = tmp_path / "logs" / "train.csv"
    t = make([CSVLogger(path)])
    h = t.fit(train, val=val, epochs=3, verbose=0)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert [float(r[1]) for r in rows[1:]] == h.history["loss"]
    t.fit(train, val=val, epochs=1, verbose=0)  # a new fit starts a new file
    assert len(list(csv.reader(path.open()))) == 2
    make([CSVLogger(path, append=True)]).fit(train, val=val, epochs=2, verbose=0)
    assert len(list(csv.reader(path.open()))) == 4


# ---- TerminateOnNaN ---------------------------------------------------------------------------------


def test_terminate_on_nan_names_epoch_and_batch():
    (X, y), _ = split_blobs()
    X = X.copy()
    X[70] = np.nan  # shuffle off, batch 32: sample 70 is in the third batch of every epoch
    events = []
    t = make([TerminateOnNaN(), Recorder("r", events)])
    h = t.fit((X, y), epochs=3, batch_size=32, shuffle=False, verbose=0)
    assert h.stop_reason.startswith("TerminateOnNaN")
    assert "epoch 1/3, batch 3/6" in h.stop_reason
    assert [e[2] for e in events if e[1] == "batch_end"] == [0, 1, 2]  # stopped right after the bad batch
    assert h.epoch == [0] and math.isnan(h.history["loss"][0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan_message_is_printed(capsys):
    (X, y), _ = split_blobs()
    X = X.copy()
    X[:] = np.inf
    make([TerminateOnNaN()]).fit((X, y), epochs=2, batch_size=60, verbose=2)
    out = capsys.readouterr().out
    assert "TerminateOnNaN" in out and "epoch 1/2, batch 1/3" in out


# ---- ProgressBar ------------------------------------------------------------------------------------


def test_progress_bar_prints_one_plain_line_per_epoch_when_not_a_terminal(capsys):
    train, val = split_blobs()
    make().fit(train, val=val, epochs=3, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines, 1):
        assert line.startswith(f"Epoch {i}/3 - 6 batches - ")
        for part in ("samples/s", "loss: ", "accuracy: ", "val_loss: ", "val_accuracy: ", "lr: 0.1"):
            assert part in line


def test_progress_bar_without_tqdm(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm fails
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    train, _ = split_blobs()
    tty = io.StringIO()
    tty.isatty = lambda: True
    make([ProgressBar(file=tty)]).fit(train, epochs=2, verbose=1)
    assert len(tty.getvalue().splitlines()) == 2 and capsys.readouterr().out == ""


def test_progress_bar_uses_tqdm_on_a_terminal():
    pytest.importorskip("tqdm")
    train, _ = split_blobs()
    tty = io.StringIO()
    tty.isatty = lambda: True
    make([ProgressBar(file=tty)]).fit(train, epochs=2, verbose=1)
    text = tty.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text and "samples/s" in text and "\r" in text


def test_verbose_levels(capsys):
    train, _ = split_blobs()
    make().fit(train, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    make().fit(train, epochs=2, verbose=2)
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_hooks_set_on_an_instance_or_a_subclass_are_called_in_order():
    # CallbackList finds each hook's implementers once; hooks assigned to an instance count too
    from chainrule.train import Callback

    events = []

    class Epochs(Callback):
        def on_epoch_end(self, epoch, logs=None):
            events.append(("epochs", epoch))

    plain = Callback()
    plain.on_batch_end = lambda batch, logs=None: events.append(("plain", batch))
    train, _ = split_blobs()
    make([Epochs(), plain]).fit(train, epochs=2, batch_size=len(train[0]) // 2, verbose=0)
    assert events == [("plain", 0), ("plain", 1), ("epochs", 0), ("plain", 0), ("plain", 1), ("epochs", 1)]
