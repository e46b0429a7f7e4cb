"""Trainer: fit / evaluate / predict on tiny problems, History contents, callback order, modes, determinism."""

import numpy as np
import pytest
from train_helpers import Recorder, blobs, mlp, split_blobs

import chainrule as cr
import chainrule.metrics as M
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.errors import ArgumentError, UnknownNameError
from chainrule.train import Callback, History, Trainer


def make(model=None, lr=0.1, metrics=("accuracy",), loss=None, **kw):
    model = model or mlp()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return Trainer(model, loss or nn.CrossEntropyLoss(), opt, metrics=metrics, **kw)


def test_fit_learns_and_history_has_one_value_per_epoch():
    train, val = split_blobs()
    t = make()
    h = t.fit(train, val=val, epochs=6, batch_size=16, verbose=0)
    assert isinstance(h, History) and h is t.history
    assert list(h.history) == ["loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert all(len(v) == 6 for v in h.history.values()) and h.epoch == list(range(6))
    assert h.history["loss"][-1] < h.history["loss"][0] / 3
    assert h.history["val_accuracy"][-1] > 0.95
    assert h.history["lr"] == [0.1] * 6
    assert h.stop_reason is None
    res = t.evaluate(val)
    assert set(res) == {"loss", "accuracy"}
    assert res["loss"] == pytest.approx(h.history["val_loss"][-1], rel=1e-6)
    pred = t.predict(val[0]).argmax(axis=1)
    assert res["accuracy"] == M.accuracy(val[1], pred)


def test_evaluate_is_the_full_batch_loss_and_sklearn_metrics():
    skm = pytest.importorskip("sklearn.metrics")
    train, val = split_blobs(classes=3, n=300)
    t = make(model=mlp(out=3), metrics=["accuracy", "f1", "precision", "recall", "roc_auc", "log_loss"])
    t.fit(train, epochs=3, verbose=0)
    res = t.evaluate(val, batch_size=7)
    logits = t.predict(val[0])
    with cr.no_grad():
        full = nn.CrossEntropyLoss()(cr.tensor(logits), cr.tensor(val[1])).item()
    assert res["loss"] == pytest.approx(full, rel=1e-5)
    pred = logits.argmax(axis=1)
    proba = t.predict_proba(val[0]).astype(np.float64)
    assert res["accuracy"] == pytest.approx(skm.accuracy_score(val[1], pred))
    assert res["f1"] == pytest.approx(skm.f1_score(val[1], pred, average="macro"))
    assert res["precision"] == pytest.approx(skm.precision_score(val[1], pred, average="macro", zero_division=0))
    assert res["recall"] == pytest.approx(skm.recall_score(val[1], pred, average="macro"))
    assert res["roc_auc"] == pytest.approx(skm.roc_auc_score(val[1], proba, multi_class="ovr"), abs=1e-6)
    assert res["log_loss"] == pytest.approx(full, rel=1e-4)


def test_predict_and_predict_proba():
    train, val = split_blobs(classes=3, n=300)
    t = make(model=mlp(out=3))
    t.fit(train, epochs=1, verbose=0)
    out = t.predict(val[0], batch_size=8)
    assert isinstance(out, np.ndarray) and out.shape == (len(val[0]), 3)
    p = t.predict_proba(val[0])
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    e = np.exp(out - out.max(axis=1, keepdims=True))
    np.testing.assert_allclose(p, e / e.sum(axis=1, keepdims=True), rtol=1e-5)
    # batched prediction equals one big batch; Tensors, Datasets and DataLoaders work as inputs
    np.testing.assert_allclose(t.predict(cr.tensor(val[0]), batch_size=1000), out, rtol=1e-6)
    np.testing.assert_allclose(t.predict(TensorDataset(val[0])), out, rtol=1e-6)
    np.testing.assert_allclose(t.predict(DataLoader(TensorDataset(*val), batch_size=5)), out, rtol=1e-6)


def test_binary_with_one_logit_column_and_bce():
    (X, y), (Xv, yv) = split_blobs()
    t = make(model=mlp(out=1), loss=nn.BCEWithLogitsLoss(), metrics=["accuracy", "roc_auc"])
    assert t.task == "classification"
    h = t.fit((X, y), val=(Xv, yv), epochs=5, verbose=0)  # (n,) integer targets against (n, 1) logits
    assert h.history["val_accuracy"][-1] > 0.9
    p = t.predict_proba(Xv)
    assert p.shape == (len(Xv), 1)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-t.predict(Xv).astype(np.float64))), rtol=1e-5)
    assert h.history["val_accuracy"][-1] == M.accuracy(yv, (p[:, 0] > 0.5).astype(int))


def test_regression_task_inferred_with_column_targets():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5], dtype=np.float32) + 0.1  # shape (n,) against outputs (n, 1)
    cr.manual_seed(0)
    model = nn.Linear(3, 1)
    t = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.05), metrics=["mse", "mae", "r2"])
    assert t.task == "regression"
    h = t.fit((X, y), val=(X, y), epochs=20, verbose=0)
    assert h.history["val_r2"][-1] > 0.99
    assert h.history["val_mse"][-1] == pytest.approx(h.history["val_loss"][-1], rel=1e-4)
    assert t.predict(X).shape == (200, 1)
    with pytest.raises(ArgumentError, match="regression"):
        t.predict_proba(X)


@pytest.mark.parametrize(
    "loss, task",
    [(nn.CrossEntropyLoss(), "classification"), (nn.NLLLoss(), "classification"), (nn.BCELoss(), "classification"),
     (nn.BCEWithLogitsLoss(), "classification"), (nn.MSELoss(), "regression"), (nn.L1Loss(), "regression"),
     (nn.HuberLoss(), "regression")],
)
def test_task_is_inferred_from_the_loss(loss, task):
    model = nn.Linear(2, 2)
    assert Trainer(model, loss, optim.SGD(model.parameters(), lr=0.1)).task == task
    assert Trainer(model, loss, optim.SGD(model.parameters(), lr=0.1), task="regression").task == "regression"


def test_bad_arguments_fail_clearly():
    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(UnknownNameError, match="unknown metric 'acurracy'; valid names: .*accuracy"):
        Trainer(model, nn.MSELoss(), opt, metrics=["acurracy"])
    with pytest.raises(ArgumentError, match="task"):
        Trainer(model, nn.MSELoss(), opt, task="ranking")
    t = Trainer(model, nn.MSELoss(), opt)
    with pytest.raises(ArgumentError, match=r"\(X, y\)"):
        t.fit((np.zeros((4, 2)),), verbose=0)
    with pytest.raises(ArgumentError, match="resume"):
        t.fit((np.zeros((4, 2)), np.zeros((4, 2))), resume=True, verbose=0)


def test_all_data_forms_give_the_same_run():
    (X, y), _ = split_blobs()
    runs = []
    for form in ("arrays", "tensors", "dataset", "loader"):
        t = make(model=mlp(seed=1))
        data = {"arrays": (X, y), "tensors": (cr.tensor(X), cr.tensor(y)), "dataset": TensorDataset(X, y),
                "loader": DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)}[form]
        runs.append(t.fit(data, epochs=2, batch_size=32, seed=0, verbose=0).history["loss"])
    assert all(r == runs[0] for r in runs)


def test_callbacks_are_called_in_order_with_history_first():
    (X, y), val = split_blobs(n=60, n_train=40)
    events = []
    t = make(callbacks=[Recorder("a", events), Recorder("b", events)])
    t.fit((X, y), val=val, epochs=2, batch_size=16, verbose=0)  # 3 batches per epoch
    names = [(e[0], e[1]) + ((e[2],) if len(e) > 2 else ()) for e in events]
    want = [("a", "train_begin"), ("b", "train_begin")]
    for epoch in range(2):
        want += [("a", "epoch_begin", epoch), ("b", "epoch_begin", epoch)]
        for b in range(3):
            want += [("a", "batch_begin", b), ("b", "batch_begin", b), ("a", "batch_end", b), ("b", "batch_end", b)]
        want += [("a", "epoch_end", epoch), ("b", "epoch_end", epoch)]
    want += [("a", "train_end"), ("b", "train_end")]
    assert names == want
    logs = events[-3][3]
    assert set(logs) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert t.history.history["loss"][-1] == logs["loss"]  # History ran first, with the same logs


def test_mode_is_restored_after_fit_evaluate_and_predict():
    train, val = split_blobs()
    model = mlp(dropout=0.5)
    t = make(model=model)
    model.eval()
    t.fit(train, val=val, epochs=1, verbose=0)
    assert not any(m.training for m in model.modules())
    model.train()
    model[2].eval()  # one layer in eval mode on purpose (a frozen part)
    t.fit(train, val=val, epochs=1, verbose=0)
    t.evaluate(val)
    t.predict(val[0])
    assert model.training and model[0].training and not model[2].training


def test_dropout_is_off_in_evaluate_and_predict():
    train, val = split_blobs()
    t = make(model=mlp(dropout=0.5))
    t.fit(train, epochs=1, verbose=0)
    np.testing.assert_array_equal(t.predict(val[0]), t.predict(val[0]))
    assert t.evaluate(val) == t.evaluate(val)


def test_initial_epoch_and_epoch_indices():
    train, _ = split_blobs()
    events = []
    t = make(callbacks=[Recorder("r", events)])
    h = t.fit(train, epochs=4, initial_epoch=2, verbose=0)
    assert h.epoch == [2, 3]
    assert [e[2] for e in events if e[1] == "epoch_begin"] == [2, 3]


def test_train_step_override():
    train, val = split_blobs()

    class Clipped(Trainer):
        steps = 0

        def train_step(self, batch):
            x, y = batch
            self.optimizer.zero_grad()
            loss = self.compute_loss(self.model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.optimizer.step()
            Clipped.steps += 1
            return {"loss": loss.item()}  # no outputs: training metrics are skipped

    model = mlp()
    t = Clipped(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), metrics=["accuracy"])
    h = t.fit(train, val=val, epochs=2, batch_size=30, verbose=0)
    assert Clipped.steps == 12
    assert list(h.history) == ["loss", "val_loss", "val_accuracy", "lr"]


def test_custom_metric_function():
    train, val = split_blobs()

    def error_rate(y_true, y_pred):
        return float(np.mean(np.asarray(y_true) != np.asarray(y_pred)))

    t = make(metrics=["accuracy", error_rate])
    h = t.fit(train, val=val, epochs=2, verbose=0)
    assert h.history["val_error_rate"][-1] == pytest.approx(1 - h.history["val_accuracy"][-1])


def test_same_seed_same_weights_and_metrics_bit_for_bit():
    train, val = split_blobs()

    def run(seed):
        cr.manual_seed(7)
        model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
        opt = optim.Adam(model.parameters(), lr=1e-2)
        t = Trainer(model, nn.CrossEntropyLoss(), opt, metrics=["accuracy", "roc_auc"],
                    scheduler=optim.lr_scheduler.StepLR(opt, 1, 0.7))
        h = t.fit(train, val=val, epochs=4, batch_size=16, seed=seed, verbose=0)
        return model.state_dict(), h.history

    w1, h1 = run(0)
    w2, h2 = run(0)
    w3, h3 = run(1)
    assert h1 == h2
    assert all(np.array_equal(w1[k], w2[k]) for k in w1)
    assert h1["loss"] != h3["loss"]  # another seed, another batch order
    assert not all(np.array_equal(w1[k], w3[k]) for k in w1)


def test_fit_twice_starts_a_new_history():
    train, _ = split_blobs()
    t = make()
    h1 = t.fit(train, epochs=2, verbose=0)
    h2 = t.fit(train, epochs=1, verbose=0)
    assert len(h1.epoch) == 2 and len(h2.epoch) == 1 and h1 is not h2


def test_callback_sees_the_trainer():
    seen = []

    class Peek(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((self.trainer.epoch, self.trainer.params["epochs"], self.trainer.params["steps"]))

    X, y = blobs(n=50)
    make(callbacks=[Peek()]).fit((X, y), epochs=2, batch_size=25, verbose=0)
    assert seen == [(0, 2, 2), (1, 2, 2)]


def test_an_exception_still_ends_training_cleanly():
    from train_helpers import ScriptedLogs

    from chainrule.train import EarlyStopping

    train, val = split_blobs()

    class Interrupt(Callback):
        def on_batch_end(self, batch, logs=None):
            if self.trainer.epoch == 3 and batch == 1:
                raise KeyboardInterrupt

    script = ScriptedLogs("val_loss", [3.0, 1.0, 2.0, 2.0])
    model = mlp(dropout=0.2)
    model.eval()
    t = make(model=model, callbacks=[script, EarlyStopping(patience=10, restore_best_weights=True), Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        t.fit(train, val=val, epochs=5, verbose=0)
    assert "KeyboardInterrupt" in t.history.stop_reason and t.history.epoch == [0, 1, 2]
    assert not model.training  # the mode from before fit
    best = script.weights[1]
    assert all(np.array_equal(v, best[k]) for k, v in model.state_dict().items())  # best weights restored


def test_input_conveniences():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 4)).astype(np.float32)
    y = rng.integers(0, 3, (40, 1))  # class indices as a column
    t = make(model=mlp(out=3))
    t.fit((X, y), epochs=1, verbose=0)
    assert t.predict([[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]]).shape == (2, 3)  # a list is rows, not (X, y)
    model = mlp(out=1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    h = Trainer(model, nn.MSELoss(), opt, scheduler=plateau).fit((X, y[:, 0] * 1.0), epochs=2, verbose=0)
    assert len(h.history["lr"]) == 2  # without val data the plateau watches the training loss


def test_arrays_are_read_not_copied_or_changed():
    from chainrule.errors import ShapeError

    (X, y), _ = split_blobs()
    before = X.copy()
    t = make()
    t.fit((X, y), epochs=1, verbose=0)
    assert t.train_loader.dataset.tensors[0] is X and np.array_equal(X, before)
    h64 = make().fit((X.astype(np.float64), y), epochs=1, verbose=0)  # float64 is converted (a copy)
    assert h64.history["loss"] == make().fit((X, y), epochs=1, verbose=0).history["loss"]
    with pytest.raises(ShapeError, match="same number of rows"):
        make().fit((X, y[:-1]), epochs=1, verbose=0)


# ---- what the loss declares: target_kind and input_kind ----------------------------------------------------


def test_every_loss_declares_its_target_and_input_kind():
    import chainrule.functional as F
    from chainrule.functional.loss import INPUT_KINDS, TARGET_KINDS

    for name in nn.loss.__all__:
        cls = getattr(nn, name)
        assert cls.target_kind in TARGET_KINDS and cls.input_kind in INPUT_KINDS, name
    for name in F.loss.__all__:
        fn = getattr(F, name)
        assert fn.target_kind in TARGET_KINDS and fn.input_kind in INPUT_KINDS, name
    assert (F.cross_entropy.target_kind, F.nll_loss.input_kind) == (nn.CrossEntropyLoss.target_kind, "log_probability")


def test_the_trainer_reads_the_declared_kinds_not_the_class_name():
    import chainrule.functional as F

    class Smoothed(nn.Module):  # a class-index loss whose name says nothing
        target_kind, input_kind = "class_index", "logits"

        def forward(self, input, target):
            return F.cross_entropy(input, target, label_smoothing=0.1)

    train, val = split_blobs(classes=3, n=300)
    t = make(model=mlp(out=3), loss=Smoothed(), metrics=["accuracy", "log_loss"])
    assert t.task == "classification"
    h = t.fit((train[0], train[1][:, None]), val=val, epochs=3, verbose=0)  # a column of class indices
    assert h.history["val_accuracy"][-1] > 0.9
    np.testing.assert_allclose(t.predict_proba(val[0]).sum(axis=1), 1.0, rtol=1e-6)
    # the functional losses declare their kinds too
    assert make(loss=F.cross_entropy).task == "classification"
    assert make(loss=F.binary_cross_entropy_with_logits)._multi_column_softmax() is False
    assert make(loss=F.mse_loss).task == "regression"


def test_a_loss_that_declares_nothing_is_a_regression_loss_on_values():
    def cross_entropy_like(output, target):  # a name that once meant classification: names no longer count
        return ((output - target) ** 2).mean()

    model = nn.Linear(2, 1)
    t = Trainer(model, cross_entropy_like, optim.SGD(model.parameters(), lr=0.1))
    assert t.task == "regression"
    X = np.random.default_rng(0).standard_normal((16, 2)).astype(np.float32)
    t.fit((X, X[:, 0] * 2), epochs=1, verbose=0)  # (n,) float targets take the outputs' (n, 1) shape
    assert Trainer(model, cross_entropy_like, t.optimizer, task="classification").task == "classification"
    cross_entropy_like.target_kind = "class_indices"  # a typo is refused, listing the valid kinds
    with pytest.raises(ArgumentError, match="target_kind='class_indices'; valid kinds: class_index, probability"):
        Trainer(model, cross_entropy_like, t.optimizer)


def test_fractional_class_targets_are_refused_whole_floats_still_work():
    from chainrule.errors import DTypeError

    (X, y), (Xv, yv) = split_blobs()
    as_float = make().fit((X, y.astype(np.float64)), val=(Xv, yv.astype(np.float32)), epochs=2, verbose=0)
    assert as_float.history == make().fit((X, y), val=(Xv, yv), epochs=2, verbose=0).history  # 1.0 is class 1
    bad = y.astype(np.float64)
    bad[5] = 0.7  # was truncated to class 0 without a word
    with pytest.raises(DTypeError, match=r"CrossEntropyLoss: class-index targets must be integers; the target at "
                                         r"index 5 is 0.7, which is not a class index \(truncating it would make it "
                                         r"class 0\)"):
        make().fit((X, bad), epochs=1, batch_size=len(X), shuffle=False, verbose=0)
    t = make()
    with pytest.raises(DTypeError, match="index 3 is nan"):
        t.evaluate((Xv[:4], np.array([0.0, 1.0, 1.0, np.nan])))
    with pytest.raises(DTypeError, match=r"Trainer \(CrossEntropyLoss\): .* index 1 is 1.5"):
        t.compute_metrics(np.array([0.0, 1.5]), np.zeros((2, 2), np.float32))


def test_predict_proba_is_the_library_softmax():
    train, val = split_blobs(classes=3, n=300)
    t = make(model=mlp(out=3))
    t.fit(train, epochs=1, verbose=0)
    logits = t.predict(val[0])
    np.testing.assert_array_equal(t.predict_proba(val[0]), M.softmax(logits.astype(np.float64), axis=1)
                                  .astype(np.float32))
